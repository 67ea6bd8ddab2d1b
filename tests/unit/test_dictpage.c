/* 2.1/2.2 page encodings chosen like Lance 12: run-length encoded values,
 * every page read back through the public API (scan and take); and the
 * reading of the dictionary blocks Lance writes. */
#include "arrow/array.h"
#include "clance/clance.h"
#include "encoding/decode.h"
#include "encoding/encode.h"
#include "encoding/fastlanes.h"
#include "test.h"

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
  struct ArrowSchema as;
  REQUIRE_OK(cl_schema_to_arrow(&c->s, &as, &err), &err);
  clance_operation *op;
  uint64_t v;
  REQUIRE_OK(clance_operation_overwrite(&as, frags, &op, &err), &err);
  REQUIRE_OK(clance_commit(uri, op, 0, NULL, &v, &err), &err);
  clance_operation_free(op);
  clance_fragments_free(frags);
  as.release(&as);

  clance_dataset *ds;
  REQUIRE_OK(clance_dataset_open(uri, 0, &ds, &err), &err);
  REQUIRE_OK(clance_dataset_scan(ds, NULL, &stream, &err), &err);
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
  }
}

int main(void) {
  RUN(test_ool_dictionary_block);
  RUN(test_rle);
  TEST_MAIN_END();
}
