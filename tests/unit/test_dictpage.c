/* 2.1/2.2 page encodings chosen like Lance 12: dictionary pages (Lance's
 * thresholds at their boundaries), run-length encoded values, 2.2 constant
 * pages and zstd per value in full-zip pages; every page read back through
 * the public API (scan and take); and the reading of the dictionary blocks
 * Lance writes. */
#include "arrow/array.h"
#include "clance/clance.h"
#include "encoding/compress.h"
#include "encoding/decode.h"
#include "encoding/encode.h"
#include "encoding/fastlanes.h"
#include "test.h"
#include "testdata.h"

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint64_t rnd(void) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return rng_state;
}

/* Lance 12 (2.2) writes dictionaries of more than 1024 64-bit values as
 * OutOfLineBitpacking{64, Flat{b}} blocks. */
static void test_ool_dictionary_block(void) {
  clance_error err = {0};
  cl_schema s;
  REQUIRE(cl_schema_parse_spec("c:int64", &s, &err) == CLANCE_OK);
  const cl_field *f = &s.fields[0];
  static uint64_t vals[3000];
  for (size_t i = 0; i < 3000; i++)
    vals[i] = rnd() & 0x7FFFFFFF;
  vals[7] = 0x7FFFFFFF;
  for (unsigned n = 1000; n <= 3000; n += 1000) { /* tails raw and packed */
    cl_buf buf = CL_BUF_INIT;
    CHECK_OK(cl_outofline_bitpack_encode(64, 31, vals, n, &buf, &err), &err);
    Lance__Encodings21__Flat fl = LANCE__ENCODINGS21__FLAT__INIT;
    fl.has_bits_per_value = 1;
    fl.bits_per_value = 31;
    pb21_enc inner = LANCE__ENCODINGS21__COMPRESSIVE_ENCODING__INIT;
    inner.compression_case = LANCE__ENCODINGS21__COMPRESSIVE_ENCODING__COMPRESSION_FLAT;
    inner.flat = &fl;
    Lance__Encodings21__OutOfLineBitpacking o = LANCE__ENCODINGS21__OUT_OF_LINE_BITPACKING__INIT;
    o.has_uncompressed_bits_per_value = 1;
    o.uncompressed_bits_per_value = 64;
    o.values = &inner;
    pb21_enc e = LANCE__ENCODINGS21__COMPRESSIVE_ENCODING__INIT;
    e.compression_case = LANCE__ENCODINGS21__COMPRESSIVE_ENCODING__COMPRESSION_OUT_OF_LINE_BITPACKING;
    e.out_of_line_bitpacking = &o;
    cl_arr a;
    REQUIRE(cl_arr_init(&a, f, &err) == CLANCE_OK);
    cl_sink sk = {&a, f};
    cl_dec_state ds = {0};
    CHECK_OK(cl_decode_block_values(&e, buf.data, buf.len, n, &sk, &ds, "dict", &err), &err);
    CHECK_EQ_U64(a.length, n);
    CHECK(a.values.len == n * 8 && memcmp(a.values.data, vals, n * 8) == 0);
    /* More entries than the buffer can hold, and a width of 0 claiming
     * thousands of (equal) entries: corrupt, before any allocation. */
    cl_arr_reset(&a);
    CHECK(cl_decode_block_values(&e, buf.data, buf.len, (uint64_t)1 << 40, &sk, &ds, "dict", &err) ==
          CLANCE_ECORRUPT);
    fl.bits_per_value = 0;
    CHECK(cl_decode_block_values(&e, NULL, 0, 5000, &sk, &ds, "dict", &err) == CLANCE_ECORRUPT);
    fl.bits_per_value = 65;
    CHECK(cl_decode_block_values(&e, buf.data, buf.len, n, &sk, &ds, "dict", &err) == CLANCE_ECORRUPT);
    cl_dec_state_free(&ds);
    cl_arr_free(&a);
    cl_buf_free(&buf);
  }
  cl_schema_free(&s);
}

/* ---- building pages ---- */

typedef struct col {
  cl_schema s;
  cl_arr a;
} col;

static int col_init(col *c, const char *spec) {
  clance_error err = {0};
  if (cl_schema_parse_spec(spec, &c->s, &err) || cl_arr_init(&c->a, &c->s.fields[0], &err)) {
    fprintf(stderr, "%s: %s\n", spec, err.message);
    return -1;
  }
  return 0;
}

static void col_free(col *c) {
  cl_arr_free(&c->a);
  cl_schema_free(&c->s);
}

/* Append a string (NULL: a null). */
static void add_str(col *c, const char *v, size_t len) {
  clance_error err = {0};
  if (!v) {
    CHECK_OK(cl_arr_append_nulls(&c->a, 1, &err), &err);
    return;
  }
  CHECK_OK(cl_buf_append(&c->a.values, v, len, &err), &err);
  CHECK_OK(cl_arr_push_offset(&c->a, c->a.values.len, &err), &err);
  CHECK_OK(cl_arr_append_valid(&c->a, 1, &err), &err);
}

static void add_cstr(col *c, const char *v) { add_str(c, v, v ? strlen(v) : 0); }

/* Append a fixed-width value of the column's width (NULL: a null). */
static void add_fixed(col *c, const void *v) {
  clance_error err = {0};
  if (!v) {
    CHECK_OK(cl_arr_append_nulls(&c->a, 1, &err), &err);
    return;
  }
  if (c->s.fields[0].type == CL_TYPE_BOOL) {
    size_t need = (size_t)((c->a.length + 8) >> 3);
    if (need > c->a.values.len)
      CHECK_OK(cl_buf_fill(&c->a.values, 0, need - c->a.values.len, &err), &err);
    if (*(const uint8_t *)v)
      cl_bit_set(c->a.values.data, c->a.length);
  } else {
    CHECK_OK(cl_buf_append(&c->a.values, v, cl_type_bits(&c->s.fields[0]) / 8, &err), &err);
  }
  CHECK_OK(cl_arr_append_valid(&c->a, 1, &err), &err);
}

static void add_i64(col *c, int64_t v) { add_fixed(c, &v); }

/* What the page encoder made of the whole column as one page. */
typedef struct pinfo {
  int layout;             /* 'm' mini-block, 'z' full-zip, 'c' constant, '?' */
  int dict;               /* dictionary encoding case (0: none) */
  uint64_t dict_items;
  int values;             /* value encoding case */
  int inner;              /* full-zip: the case inside General */
  int inline_value;       /* constant: inline value */
  size_t bytes;           /* page buffers */
} pinfo;

static pinfo page_info(col *c, cl_file_version ver) {
  pinfo pi;
  memset(&pi, 0, sizeof pi);
  pi.layout = '?';
  clance_error err = {0};
  cl_page_enc pe;
  memset(&pe, 0, sizeof pe);
  if (cl_encode21_page(&c->s.fields[0], &c->a, 0, ver, &pe, &err)) {
    fprintf(stderr, "encode: %s\n", err.message);
    cl_test_failures++;
    cl_page_enc_free(&pe);
    return pi;
  }
  for (size_t b = 0; b < pe.n_bufs; b++)
    pi.bytes += pe.bufs[b].len;
  pb_any *any = NULL;
  pb21_layout *l = NULL;
  if (!cl_pb_unpack_any(pe.encoding.data, pe.encoding.len, "lance.encodings21.PageLayout", "page",
                        &any, &err) &&
      !cl_pb_unpack(&lance__encodings21__page_layout__descriptor, any->value.data, any->value.len,
                    "layout", (ProtobufCMessage **)&l, &err)) {
    if (l->layout_case == LANCE__ENCODINGS21__PAGE_LAYOUT__LAYOUT_MINI_BLOCK_LAYOUT) {
      const Lance__Encodings21__MiniBlockLayout *m = l->mini_block_layout;
      pi.layout = 'm';
      pi.values = m->value_compression ? (int)m->value_compression->compression_case : 0;
      pi.dict = m->dictionary ? (int)m->dictionary->compression_case : 0;
      pi.dict_items = m->num_dictionary_items;
    } else if (l->layout_case == LANCE__ENCODINGS21__PAGE_LAYOUT__LAYOUT_FULL_ZIP_LAYOUT) {
      const pb21_enc *e = l->full_zip_layout->value_compression;
      pi.layout = 'z';
      pi.values = e ? (int)e->compression_case : 0;
      if (e && e->compression_case == LANCE__ENCODINGS21__COMPRESSIVE_ENCODING__COMPRESSION_GENERAL)
        pi.inner = (int)e->general->values->compression_case;
    } else if (l->layout_case == LANCE__ENCODINGS21__PAGE_LAYOUT__LAYOUT_CONSTANT_LAYOUT) {
      pi.layout = 'c';
      pi.inline_value = l->constant_layout->has_inline_value;
    }
  }
  if (l)
    protobuf_c_message_free_unpacked(&l->base, NULL);
  if (any)
    protobuf_c_message_free_unpacked(&any->base, NULL);
  cl_page_enc_free(&pe);
  return pi;
}

#define E_FLAT LANCE__ENCODINGS21__COMPRESSIVE_ENCODING__COMPRESSION_FLAT
#define E_VAR LANCE__ENCODINGS21__COMPRESSIVE_ENCODING__COMPRESSION_VARIABLE
#define E_IBP LANCE__ENCODINGS21__COMPRESSIVE_ENCODING__COMPRESSION_INLINE_BITPACKING
#define E_OOL LANCE__ENCODINGS21__COMPRESSIVE_ENCODING__COMPRESSION_OUT_OF_LINE_BITPACKING
#define E_FSST LANCE__ENCODINGS21__COMPRESSIVE_ENCODING__COMPRESSION_FSST
#define E_RLE LANCE__ENCODINGS21__COMPRESSIVE_ENCODING__COMPRESSION_RLE
#define E_GENERAL LANCE__ENCODINGS21__COMPRESSIVE_ENCODING__COMPRESSION_GENERAL

/* ---- writing and reading back through the public API ---- */

static int same_value(const cl_field *f, const struct ArrowArray *got, int64_t i, const cl_arr *want,
                      int64_t j) {
  int gv = cl_array_valid(got, i);
  int wv = !want->null_count || cl_bit_get(want->validity.data, j);
  if (gv != wv)
    return 0;
  if (!gv)
    return 1;
  int64_t gi = i + got->offset;
  if (cl_type_is_binary_like(f->type)) {
    int large = cl_type_is_large(f->type);
    uint64_t gs = large ? (uint64_t)((const int64_t *)got->buffers[1])[gi]
                        : (uint64_t)((const int32_t *)got->buffers[1])[gi];
    uint64_t ge = large ? (uint64_t)((const int64_t *)got->buffers[1])[gi + 1]
                        : (uint64_t)((const int32_t *)got->buffers[1])[gi + 1];
    uint64_t ws = large ? cl_le64(want->offsets.data + 8 * j) : cl_le32(want->offsets.data + 4 * j);
    uint64_t we = large ? cl_le64(want->offsets.data + 8 * (j + 1))
                        : cl_le32(want->offsets.data + 4 * (j + 1));
    return ge - gs == we - ws &&
           (ge == gs || memcmp((const uint8_t *)got->buffers[2] + gs, want->values.data + ws, ge - gs) == 0);
  }
  if (f->type == CL_TYPE_BOOL)
    return cl_bit_get(got->buffers[1], gi) == cl_bit_get(want->values.data, j);
  size_t w = cl_type_bits(f) / 8;
  return memcmp((const uint8_t *)got->buffers[1] + (size_t)gi * w, want->values.data + (size_t)j * w,
                w) == 0;
}

/* Write the column (moved out of c) with clance_write_fragments in the given
 * version and rows per page, scan and take it back, compare every value. */
static void roundtrip(const char *what, col *c, const char *version, uint64_t rows_per_page) {
  clance_error err = {0};
  const cl_field *f = &c->s.fields[0];
  int64_t n = c->a.length;
  char *dir = cl_test_tmpdir("dictpage");
  char uri[4200];
  snprintf(uri, sizeof uri, "%s/t.lance", dir);
  struct ArrowArray kid, batch;
  REQUIRE_OK(cl_arr_export(&c->a, &kid, &err), &err);
  cl_arr want;
  REQUIRE_OK(cl_arr_init(&want, f, &err), &err);
  REQUIRE_OK(cl_arr_append_from(&want, &kid, 0, n, &err), &err);
  REQUIRE_OK(cl_struct_array_export(n, &kid, 1, &batch, &err), &err);
  struct ArrowArrayStream stream;
  REQUIRE_OK(cl_stream_from_batches(&c->s, &batch, 1, &stream, &err), &err);
  clance_write_options o;
  clance_write_options_init(&o);
  o.data_storage_version = version;
  o.max_rows_per_group = rows_per_page;
  o.no_fsync = 1;
  clance_fragments *frags;
  REQUIRE_OK(clance_write_fragments(uri, NULL, &stream, &o, &frags, &err), &err);
  clance_dataset *ds;
  REQUIRE_OK(td_overwrite_scan(uri, &c->s, frags, &ds, &stream, &err), &err);
  int64_t row = 0, bad = 0;
  struct ArrowArray out;
  while (stream.get_next(&stream, &out) == 0 && out.release) {
    for (int64_t i = 0; i < out.length; i++, row++)
      if (row >= n || !same_value(f, out.children[0], i, &want, row))
        if (bad++ < 3)
          fprintf(stderr, "%s: scanned row %lld differs\n", what, (long long)row);
    out.release(&out);
  }
  stream.release(&stream);
  CHECK_EQ_U64(row, n);
  CHECK_EQ_U64(bad, 0);
  /* Take every 7th row and the last, in reverse order. */
  size_t nt = 0;
  uint64_t *rows = malloc(((size_t)n / 7 + 2) * sizeof *rows);
  for (int64_t i = n - 1; i >= 0; i -= 7)
    rows[nt++] = (uint64_t)i;
  rows[nt++] = 0;
  struct ArrowSchema ts;
  REQUIRE_OK(clance_dataset_take(ds, rows, nt, NULL, &out, &ts, &err), &err);
  CHECK_EQ_U64(out.length, nt);
  bad = 0;
  for (size_t i = 0; i < nt && (int64_t)i < out.length; i++)
    if (!same_value(f, out.children[0], (int64_t)i, &want, (int64_t)rows[i]))
      if (bad++ < 3)
        fprintf(stderr, "%s: taken row %llu differs\n", what, (unsigned long long)rows[i]);
  CHECK_EQ_U64(bad, 0);
  out.release(&out);
  ts.release(&ts);
  free(rows);
  clance_dataset_close(ds);
  cl_arr_free(&want);
  cl_test_rmtree(dir);
}

/* ---- dictionary decision ---- */

/* n strings "v<digits>" of length len, value i % card. */
static void cyclic_strings(col *c, int64_t n, int64_t card, int len) {
  char buf[64];
  for (int64_t i = 0; i < n; i++) {
    snprintf(buf, sizeof buf, "v%0*lld", len - 1, (long long)(i % card));
    add_cstr(c, buf);
  }
}

/* Each boundary below was checked against the page Lance 12 writes for the
 * same values (tests/interop cases dict_*: Lance's own choice). */
static void test_dict_boundaries(void) {
  static const struct {
    int64_t n, card;
    int len, dict;
  } cases[] = {
      {1000, 500, 20, 1}, /* at most n/2 entries */
      {1000, 501, 20, 0},
      {200, 100, 20, 1},
      {200, 101, 20, 0},
      {99, 3, 20, 0},     /* fewer than 100 values */
      {100, 3, 20, 1},
      {1000, 500, 10, 1}, /* 500*10 + 4*1000 + 4*501 <= 0.8 * (1000*10 + 4*1001) */
      {1000, 500, 9, 0},  /* ... and 500*9 + 6004 > 0.8 * (9000 + 4004) */
  };
  for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
    for (int ver = CL_FILE_V2_1; ver <= CL_FILE_V2_2; ver++) {
      col c;
      REQUIRE(col_init(&c, "s:string") == 0);
      cyclic_strings(&c, cases[k].n, cases[k].card, cases[k].len);
      pinfo pi = page_info(&c, (cl_file_version)ver);
      if ((pi.dict != 0) != cases[k].dict)
        fprintf(stderr, "n %lld card %lld len %d v%d: dictionary %d, expected %d\n",
                (long long)cases[k].n, (long long)cases[k].card, cases[k].len, ver, pi.dict != 0,
                cases[k].dict);
      CHECK((pi.dict != 0) == cases[k].dict);
      if (cases[k].dict)
        CHECK_EQ_U64(pi.dict_items, cases[k].card);
      col_free(&c);
    }
  }
}

/* Lance samples 32 blocks of 128 values (n >= 4096): a page whose sampled
 * values are 98 % distinct gets no dictionary even with few distinct values
 * elsewhere. Where Lance also refuses the projection of the sample (here
 * 2049 of 4096 sampled values distinct: 65568 > n/2 = 65536 projected
 * entries), clance counts exactly (2050 entries) and takes the dictionary;
 * over n/2 counted entries it does not. */
static void test_dict_sample(void) {
  char buf[64];
  for (int variant = 0; variant < 4; variant++) {
    col c;
    REQUIRE(col_init(&c, "s:string") == 0);
    int64_t n = 131072; /* blocks of 4096, the first 128 of each sampled */
    for (int64_t i = 0; i < n; i++) {
      int64_t u = variant == 0 ? 4096 : variant == 1 ? 4013 : 2049;
      if (variant == 3)
        snprintf(buf, sizeof buf, "%s%lld", i % 4096 < 128 ? "s" : "u", (long long)(i % 4096 < 128 ? i % 10 : i));
      else if (i % 4096 < 128)
        snprintf(buf, sizeof buf, "sample_value_%lld", (long long)(((i >> 12) * 128 + i % 4096) % u));
      else
        snprintf(buf, sizeof buf, "filler_value_xxxxxxxxx");
      add_cstr(&c, buf);
    }
    /* 0: 4096 of 4096 sampled distinct; 1: 4013 (97.97 %), taken; 2:
     * projected over n/2, counted under; 3: a sample of 10 distinct values,
     * but 126986 distinct in the page, over n/2. */
    pinfo pi = page_info(&c, CL_FILE_V2_1);
    CHECK((pi.dict != 0) == (variant == 1 || variant == 2));
    col_free(&c);
  }
}

/* Nulls (index of the empty entry), empty strings, a single distinct value,
 * several pages, large offsets and binary; written and read back. */
static void test_dict_strings_roundtrip(void) {
  static const char *const words[] = {"INFO", "WARN", "ERROR", "", "DEBUG", "a somewhat longer value"};
  static const char *const specs[] = {"s:string", "s:large_string", "s:binary", "s:large_binary"};
  for (size_t sp = 0; sp < 4; sp++)
    for (int ver = CL_FILE_V2_1; ver <= CL_FILE_V2_2; ver++) {
      col c;
      REQUIRE(col_init(&c, specs[sp]) == 0);
      for (int64_t i = 0; i < 20000; i++)
        add_cstr(&c, i % 11 == 3 || i < 5 ? NULL : words[(i * 7919) % 6]);
      pinfo pi = page_info(&c, (cl_file_version)ver);
      CHECK(pi.layout == 'm' && pi.dict != 0);
      CHECK(pi.dict_items == 6); /* the five words and "" (also the nulls' value) */
      if (ver == CL_FILE_V2_1)
        CHECK(pi.dict == E_VAR); /* Lance 2.1 stores dictionaries plain */
      char what[64];
      snprintf(what, sizeof what, "%s v%d", specs[sp], ver);
      roundtrip(what, &c, ver == CL_FILE_V2_1 ? "2.1" : "2.2", 3000);
      col_free(&c);
    }

  /* One distinct value: a dictionary of one entry in 2.1; in 2.2 a constant
   * page without nulls, a dictionary with them. */
  for (int nulls = 0; nulls < 2; nulls++)
    for (int ver = CL_FILE_V2_1; ver <= CL_FILE_V2_2; ver++) {
      col c;
      REQUIRE(col_init(&c, "s:string") == 0);
      for (int64_t i = 0; i < 5000; i++)
        add_cstr(&c, nulls && i % 3 == 0 ? NULL : "same");
      pinfo pi = page_info(&c, (cl_file_version)ver);
      if (ver == CL_FILE_V2_2 && !nulls) {
        CHECK(pi.layout == 'c' && !pi.inline_value);
      } else {
        CHECK(pi.layout == 'm' && pi.dict != 0);
        CHECK_EQ_U64(pi.dict_items, nulls ? 2 : 1);
      }
      roundtrip("one value", &c, ver == CL_FILE_V2_1 ? "2.1" : "2.2", 0);
      col_free(&c);
    }

  /* Only empty strings and nulls: 4-byte indices cost as much as the
   * offsets they replace, so no dictionary (Lance's 80 % rule). */
  col c;
  REQUIRE(col_init(&c, "s:string") == 0);
  for (int64_t i = 0; i < 3000; i++)
    add_cstr(&c, i % 2 ? "" : NULL);
  pinfo pi = page_info(&c, CL_FILE_V2_2);
  CHECK(pi.layout == 'm' && pi.dict == 0);
  roundtrip("empty and null", &c, "2.2", 0);
  col_free(&c);
}

/* High cardinality: no dictionary (FSST or plain, as before). */
static void test_dict_high_cardinality(void) {
  char buf[64];
  col c;
  REQUIRE(col_init(&c, "s:string") == 0);
  for (int64_t i = 0; i < 60000; i++) {
    snprintf(buf, sizeof buf, "key-%lld-%lld", (long long)(i % 50000), (long long)(i * 31 % 977));
    add_cstr(&c, buf);
  }
  pinfo pi = page_info(&c, CL_FILE_V2_2);
  CHECK(pi.layout == 'm' && pi.dict == 0);
  CHECK(pi.values == E_FSST);
  col_free(&c);
  /* ... and 100001 distinct values of 300000 stay under n/2 but over the
   * 100000 cap. */
  REQUIRE(col_init(&c, "s:string") == 0);
  for (int64_t i = 0; i < 300000; i++) {
    snprintf(buf, sizeof buf, "%06lld", (long long)((i * 7) % 100001));
    add_cstr(&c, buf);
  }
  pi = page_info(&c, CL_FILE_V2_1);
  CHECK(pi.dict == 0);
  col_free(&c);
}

/* Fixed width: 64-bit values get dictionaries in 2.2 only, 128-bit ones in
 * both, narrower ones never (bit-packing covers them). */
static void test_dict_fixed(void) {
  for (int ver = CL_FILE_V2_1; ver <= CL_FILE_V2_2; ver++) {
    const char *vs = ver == CL_FILE_V2_1 ? "2.1" : "2.2";
    col c;
    REQUIRE(col_init(&c, "x:int64") == 0);
    for (int64_t i = 0; i < 30000; i++) {
      if (i % 13 == 1)
        add_fixed(&c, NULL);
      else
        add_i64(&c, (int64_t)((i * 37) % 100) * 1000003 - 5000000000ll);
    }
    pinfo pi = page_info(&c, (cl_file_version)ver);
    CHECK((pi.dict != 0) == (ver == CL_FILE_V2_2));
    roundtrip("int64", &c, vs, 0);
    col_free(&c);

    /* More than 1024 entries: bit-packed out of line in 2.2 (as Lance). */
    REQUIRE(col_init(&c, "x:int64") == 0);
    for (int64_t i = 0; i < 60000; i++)
      add_i64(&c, (int64_t)((i * 7919) % 2000) * 1000003 + 7);
    pi = page_info(&c, (cl_file_version)ver);
    CHECK((pi.dict != 0) == (ver == CL_FILE_V2_2));
    if (ver == CL_FILE_V2_2) {
      CHECK(pi.dict == E_OOL);
      CHECK_EQ_U64(pi.dict_items, 2000);
    }
    roundtrip("int64 2000", &c, vs, 0);
    col_free(&c);

    REQUIRE(col_init(&c, "d:decimal(30,4)") == 0);
    for (int64_t i = 0; i < 5000; i++) {
      uint8_t v[16] = {0};
      v[0] = (uint8_t)(i % 40);
      v[9] = 0x42;
      add_fixed(&c, i % 17 == 0 ? NULL : v);
    }
    pi = page_info(&c, (cl_file_version)ver);
    CHECK(pi.dict != 0);
    roundtrip("decimal128", &c, vs, 0);
    col_free(&c);

    REQUIRE(col_init(&c, "f:float64") == 0);
    for (int64_t i = 0; i < 5000; i++) {
      double d = (double)(i % 30) * 0.37 - 5.5;
      add_fixed(&c, &d);
    }
    pi = page_info(&c, (cl_file_version)ver);
    CHECK((pi.dict != 0) == (ver == CL_FILE_V2_2));
    roundtrip("float64", &c, vs, 0);
    col_free(&c);

    REQUIRE(col_init(&c, "i:int32") == 0);
    for (int64_t i = 0; i < 5000; i++) {
      int32_t x = (int32_t)(i % 30) * 1000003;
      add_fixed(&c, &x);
    }
    pi = page_info(&c, (cl_file_version)ver);
    CHECK(pi.dict == 0 && pi.values == E_IBP);
    col_free(&c);
  }
}

/* ---- run-length encoding ---- */

static void test_rle(void) {
  for (int ver = CL_FILE_V2_1; ver <= CL_FILE_V2_2; ver++) {
    const char *vs = ver == CL_FILE_V2_1 ? "2.1" : "2.2";
    /* Sorted int32 with long runs (some over 255 and over 4096): RLE. */
    col c;
    REQUIRE(col_init(&c, "i:int32") == 0);
    for (int64_t i = 0; i < 100000; i++) {
      int32_t x = (int32_t)(i / 5000) * 1000 + (i > 90000 ? (int32_t)(i % 3) : 0);
      add_fixed(&c, i % 1000 == 7 ? NULL : &x);
    }
    pinfo pi = page_info(&c, (cl_file_version)ver);
    CHECK(pi.layout == 'm' && pi.values == E_RLE);
    roundtrip("sorted int32", &c, vs, 30000);
    col_free(&c);

    /* Short runs of small values: bit-packing is smaller. */
    REQUIRE(col_init(&c, "i:int16") == 0);
    for (int64_t i = 0; i < 10000; i++) {
      int16_t x = (int16_t)((i / 2) % 7);
      add_fixed(&c, &x);
    }
    pi = page_info(&c, (cl_file_version)ver);
    CHECK(pi.values == E_IBP);
    col_free(&c);

    /* Runs of 8-bit and 64-bit values and floats. */
    static const char *const specs[] = {"u:uint8", "t:timestamp(us)", "f:float32"};
    for (size_t sp = 0; sp < 3; sp++) {
      REQUIRE(col_init(&c, specs[sp]) == 0);
      for (int64_t i = 0; i < 20000; i++) {
        uint64_t x = (uint64_t)(i / 300) * 0x0101010101010101ull + 0x4000000000000000ull;
        uint8_t b[8];
        for (int k = 0; k < 8; k++)
          b[k] = (uint8_t)(x >> (8 * k));
        add_fixed(&c, b);
      }
      pi = page_info(&c, (cl_file_version)ver);
      CHECK(pi.values == E_RLE);
      roundtrip(specs[sp], &c, vs, 0);
      col_free(&c);
    }

    /* Strings sorted by value: a dictionary with run-length encoded
     * indices. */
    REQUIRE(col_init(&c, "s:string") == 0);
    char buf[32];
    for (int64_t i = 0; i < 50000; i++) {
      snprintf(buf, sizeof buf, "category-%03lld", (long long)(i / 1000));
      add_cstr(&c, buf);
    }
    pi = page_info(&c, (cl_file_version)ver);
    CHECK(pi.dict != 0 && pi.values == E_RLE);
    roundtrip("sorted strings", &c, vs, 0);
    col_free(&c);
  }
}

/* ---- 2.2 constant pages ---- */

static void test_constant(void) {
  static const char *const specs[] = {"i:int32", "b:bool", "d:decimal(20,2)", "f:fixed_size_binary(3)",
                                      "s:string", "l:large_binary"};
  for (size_t sp = 0; sp < 6; sp++)
    for (int ver = CL_FILE_V2_1; ver <= CL_FILE_V2_2; ver++) {
      col c;
      REQUIRE(col_init(&c, specs[sp]) == 0);
      uint8_t v[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
      for (int64_t i = 0; i < 3000; i++) {
        if (cl_type_is_binary_like(c.s.fields[0].type))
          add_str(&c, "constant value", 14);
        else
          add_fixed(&c, v);
      }
      pinfo pi = page_info(&c, (cl_file_version)ver);
      CHECK((pi.layout == 'c') == (ver == CL_FILE_V2_2));
      if (ver == CL_FILE_V2_2)
        CHECK(pi.inline_value == !cl_type_is_binary_like(c.s.fields[0].type));
      roundtrip(specs[sp], &c, ver == CL_FILE_V2_1 ? "2.1" : "2.2", 1000);
      col_free(&c);
    }
}

/* ---- full-zip: zstd per value over 32 KiB ---- */

static void test_fullzip_zstd(void) {
  for (int big = 0; big < 2; big++)
    for (int ver = CL_FILE_V2_1; ver <= CL_FILE_V2_2; ver++) {
      col c;
      REQUIRE(col_init(&c, big ? "s:large_string" : "s:string") == 0);
      size_t len = big ? 40000 : 30000;
      char *v = malloc(len + 32);
      for (int64_t i = 0; i < 40; i++) {
        if (i % 9 == 4) {
          add_cstr(&c, NULL);
          continue;
        }
        for (size_t k = 0; k < len; k++)
          v[k] = (char)('a' + (k * 7 + (size_t)i) % 26 - (k % 100 == 0));
        add_str(&c, v, i == 7 ? 0 : len - (size_t)i);
      }
      free(v);
      pinfo pi = page_info(&c, (cl_file_version)ver);
      CHECK(pi.layout == 'z');
      if (big)
        CHECK(pi.values == E_GENERAL && pi.inner == E_VAR);
      else
        CHECK(pi.values == E_FSST);
      CHECK(pi.bytes < 40 * len / 4);
      roundtrip(big ? "zstd" : "fsst", &c, ver == CL_FILE_V2_1 ? "2.1" : "2.2", 16);
      col_free(&c);
    }
}

/* Dictionary buffers in 2.2 are LZ4-compressed when that is smaller; the
 * high-compression encoder reads back with the plain decoder. */
static void test_lz4hc(void) {
  clance_error err = {0};
  char text[5000];
  for (size_t i = 0; i < sizeof text; i++)
    text[i] = "lorem ipsum dolor sit amet "[i % 27];
  cl_buf c = CL_BUF_INIT, d = CL_BUF_INIT;
  REQUIRE_OK(cl_lz4hc_compress((const uint8_t *)text, sizeof text, &c, &err), &err);
  CHECK(c.len < 200);
  REQUIRE_OK(cl_lz4_decompress(c.data, c.len, sizeof text, &d, &err), &err);
  CHECK(d.len == sizeof text && memcmp(d.data, text, sizeof text) == 0);
  cl_buf_free(&c);
  cl_buf_free(&d);
}

int main(void) {
  RUN(test_ool_dictionary_block);
  RUN(test_dict_boundaries);
  RUN(test_dict_sample);
  RUN(test_dict_strings_roundtrip);
  RUN(test_dict_high_cardinality);
  RUN(test_dict_fixed);
  RUN(test_rle);
  RUN(test_constant);
  RUN(test_fullzip_zstd);
  RUN(test_lz4hc);
  TEST_MAIN_END();
}
