/* FSST: Lance symbol-table parsing, decoding, building and encoding. */
#include "test.h"
#include "testdata.h"

#include "arrow/array.h"
#include "clance/clance.h"
#include "encoding/encode.h"
#include "encoding/fsst.h"
#include "util/buf.h"

/* ---- helpers ------------------------------------------------------------ */

static uint64_t rng_state = 0x123456789ABCDEFull;
static uint64_t rnd(void) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return rng_state;
}

/* Serialize a table by hand: header fields, symbols as C strings or bytes. */
static void put_header(uint8_t *tab, unsigned n, unsigned term, unsigned suffix, int on) {
  memset(tab, 0, CL_FSST_TABLE_SIZE);
  uint64_t h = ((uint64_t)0x46535354 << 32) | ((uint64_t)(on ? 1 : 0) << 24) |
               ((uint64_t)suffix << 16) | ((uint64_t)term << 8) | n;
  for (int i = 0; i < 8; i++)
    tab[i] = (uint8_t)(h >> (8 * i));
}

static void put_symbol(uint8_t *tab, unsigned n, unsigned i, const void *bytes, unsigned len) {
  memcpy(tab + 8 + 8 * i, bytes, len);
  tab[8 + 8 * n + i] = (uint8_t)len;
}

/* A plain decoder with lance's semantics, for differential checks. Returns 0
 * on a cut-off escape. */
static int ref_decode(const uint8_t syms[256][8], const uint8_t *lens, unsigned n, int on,
                      const uint8_t *in, size_t len, cl_buf *out) {
  clance_error err;
  if (!on)
    return cl_buf_append(out, in, len, &err) == CLANCE_OK;
  for (size_t i = 0; i < len; i++) {
    uint8_t c = in[i];
    if (c == 255) {
      if (i + 1 >= len)
        return 0;
      cl_buf_append(out, &in[++i], 1, &err);
    } else if (c < n) {
      cl_buf_append(out, syms[c], lens[c], &err);
    }
  }
  return 1;
}

/* A string column built up in memory. */
typedef struct column {
  cl_buf data;
  uint64_t *offs;
  size_t count, cap;
} column;

static void col_init(column *c) {
  memset(c, 0, sizeof *c);
  c->cap = 16;
  c->offs = calloc(c->cap, sizeof *c->offs);
}

static void col_add(column *c, const void *s, size_t n) {
  clance_error err;
  cl_buf_append(&c->data, s, n, &err);
  if (c->count + 2 > c->cap) {
    c->cap *= 2;
    c->offs = realloc(c->offs, c->cap * sizeof *c->offs);
  }
  c->offs[++c->count] = c->data.len;
}

static void col_free(column *c) {
  cl_buf_free(&c->data);
  free(c->offs);
}

static const char *WORDS[] = {
    "the",     "of",       "and",     "to",        "in",      "is",       "that",    "for",
    "it",      "as",       "was",     "with",      "be",      "by",       "on",      "not",
    "he",      "this",     "are",     "or",        "his",     "from",     "at",      "which",
    "but",     "have",     "an",      "had",       "they",    "you",      "were",    "their",
    "one",     "all",      "we",      "can",       "her",     "has",      "there",   "been",
    "if",      "more",     "when",    "will",      "would",   "who",      "so",      "no",
    "people",  "time",     "world",   "between",   "through", "government", "company", "system",
    "question", "morning", "carriage", "conversation", "passengers", "November", "expression",
    "particular", "remarkable", "neighbour", "Switzerland", "Petersburg", "different"};

static void gen_english(column *c, size_t rows, size_t min_words, size_t max_words) {
  char s[4096];
  size_t nw = sizeof WORDS / sizeof *WORDS;
  for (size_t r = 0; r < rows; r++) {
    size_t words = min_words + rnd() % (max_words - min_words + 1), n = 0;
    for (size_t k = 0; k < words && n < sizeof s - 32; k++) {
      const char *w = WORDS[rnd() % nw];
      if (k)
        s[n++] = ' ';
      size_t l = strlen(w);
      memcpy(s + n, w, l);
      if (k == 0 && s[n] >= 'a')
        s[n] = (char)(s[n] - 32);
      n += l;
    }
    s[n++] = '.';
    col_add(c, s, n);
  }
}

static void gen_urls(column *c, size_t rows) {
  static const char *hosts[] = {"www.example.com", "api.github.com", "docs.lancedb.com",
                                "en.wikipedia.org", "news.ycombinator.com", "cdn.shop.io"};
  static const char *paths[] = {"users", "repos", "wiki", "item", "products", "search",
                                "images", "v1/datasets", "articles", "static/js"};
  char s[512];
  for (size_t r = 0; r < rows; r++) {
    int n = snprintf(s, sizeof s, "https://%s/%s/%s?id=%llu&lang=%s", hosts[rnd() % 6],
                     paths[rnd() % 10], paths[rnd() % 10],
                     (unsigned long long)(rnd() % 1000000), rnd() % 2 ? "en" : "de");
    col_add(c, s, (size_t)n);
  }
}

static void gen_uuids(column *c, size_t rows) {
  char s[64];
  for (size_t r = 0; r < rows; r++) {
    uint64_t a = rnd(), b = rnd();
    int n = snprintf(s, sizeof s, "%08llx-%04llx-%04llx-%04llx-%012llx",
                     (unsigned long long)(a >> 32), (unsigned long long)((a >> 16) & 0xFFFF),
                     (unsigned long long)(a & 0xFFFF), (unsigned long long)(b >> 48),
                     (unsigned long long)(b & 0xFFFFFFFFFFFFull));
    col_add(c, s, (size_t)n);
  }
}

/* Build a table from `c`, compress the column, pass the table through its
 * 2312-byte form and decode with the parsed copy; every API must agree.
 * Returns the compressed size (or SIZE_MAX on failure). */
static size_t roundtrip(const char *name, column *c, int print) {
  clance_error err = {0};
  cl_fsst_table *t = NULL, *p = NULL;
  size_t result = SIZE_MAX;
  cl_buf enc = CL_BUF_INIT, dec = CL_BUF_INIT, enc2 = CL_BUF_INIT, one = CL_BUF_INIT;
  uint64_t *eoffs = calloc(c->count + 1, sizeof *eoffs);
  uint64_t *doffs = calloc(c->count + 1, sizeof *doffs);
  uint32_t *o32 = calloc(c->count + 1, sizeof *o32);
  uint32_t *e32 = calloc(c->count + 1, sizeof *e32);
  uint32_t *d32 = calloc(c->count + 1, sizeof *d32);
  uint8_t tab[CL_FSST_TABLE_SIZE];

  if (cl_fsst_table_build64(c->data.data, c->offs, c->count, &t, &err) != CLANCE_OK) {
    fprintf(stderr, "%s: build: %s\n", name, err.message);
    cl_test_failures++;
    goto done;
  }
  cl_fsst_table_serialize(t, tab);
  if (cl_fsst_table_parse(tab, sizeof tab, &p, &err) != CLANCE_OK) {
    fprintf(stderr, "%s: parse: %s\n", name, err.message);
    cl_test_failures++;
    goto done;
  }
  CHECK_EQ_U64(cl_fsst_table_num_symbols(p), cl_fsst_table_num_symbols(t));
  CHECK_EQ_U64(cl_fsst_table_compressed(p), cl_fsst_table_compressed(t));
  CHECK(cl_fsst_table_num_symbols(t) <= 255);
  {
    uint8_t tab2[CL_FSST_TABLE_SIZE];
    cl_fsst_table_serialize(p, tab2);
    CHECK(memcmp(tab, tab2, sizeof tab) == 0);
  }

  CHECK_OK(cl_fsst_encode_offsets64(t, c->data.data, c->offs, c->count, &enc, eoffs, &err), &err);
  CHECK_OK(cl_fsst_decode_offsets64(p, enc.data, enc.len, eoffs, c->count, &dec, doffs, &err),
           &err);
  CHECK_EQ_U64(dec.len, c->data.len);
  CHECK(dec.len == c->data.len && (dec.len == 0 || memcmp(dec.data, c->data.data, dec.len) == 0));
  for (size_t i = 0; i <= c->count; i++)
    if (doffs[i] != c->offs[i]) {
      CHECK_EQ_U64(doffs[i], c->offs[i]);
      break;
    }
  /* 32-bit offsets give the same bytes. */
  for (size_t i = 0; i <= c->count; i++)
    o32[i] = (uint32_t)c->offs[i];
  cl_buf_reset(&dec);
  CHECK_OK(cl_fsst_encode_offsets32(t, c->data.data, o32, c->count, &enc2, e32, &err), &err);
  CHECK(enc2.len == enc.len && (enc.len == 0 || memcmp(enc.data, enc2.data, enc.len) == 0));
  CHECK_OK(cl_fsst_decode_offsets32(p, enc2.data, enc2.len, e32, c->count, &dec, d32, &err), &err);
  CHECK(dec.len == c->data.len && (dec.len == 0 || memcmp(dec.data, c->data.data, dec.len) == 0));
  CHECK(memcmp(d32, o32, (c->count + 1) * sizeof *o32) == 0);
  /* The parsed table encodes the same way once prepared. */
  CHECK_OK(cl_fsst_table_prepare_encoder(p, &err), &err);
  cl_buf_reset(&enc2);
  CHECK_OK(cl_fsst_encode_offsets64(p, c->data.data, c->offs, c->count, &enc2, eoffs, &err), &err);
  CHECK(enc2.len == enc.len && (enc.len == 0 || memcmp(enc.data, enc2.data, enc.len) == 0));
  /* Single-string API on a few strings. */
  for (size_t i = 0; i < c->count && i < 50; i++) {
    size_t s = (size_t)c->offs[i], n = (size_t)(c->offs[i + 1] - c->offs[i]);
    cl_buf_reset(&enc2);
    cl_buf_reset(&one);
    CHECK_OK(cl_fsst_encode(t, c->data.data + s, n, &enc2, &err), &err);
    CHECK(enc2.len <= 2 * n);
    CHECK_OK(cl_fsst_decode(p, enc2.data, enc2.len, &one, &err), &err);
    CHECK(one.len == n && (n == 0 || memcmp(one.data, c->data.data + s, n) == 0));
  }
  result = enc.len;
  if (print)
    fprintf(stderr, "     %-28s %8zu strings %9zu -> %9zu bytes  ratio %.2fx  (%u symbols)\n",
            name, c->count, c->data.len, enc.len,
            enc.len ? (double)c->data.len / (double)enc.len : 0.0, cl_fsst_table_num_symbols(t));
done:
  cl_fsst_table_free(t);
  cl_fsst_table_free(p);
  cl_buf_free(&enc);
  cl_buf_free(&enc2);
  cl_buf_free(&dec);
  cl_buf_free(&one);
  free(eoffs);
  free(doffs);
  free(o32);
  free(e32);
  free(d32);
  return result;
}

/* ---- tests -------------------------------------------------------------- */

static void test_parse_hand_built(void) {
  uint8_t tab[CL_FSST_TABLE_SIZE];
  put_header(tab, 4, 0x7F, 1, 1);
  put_symbol(tab, 4, 0, "th", 2);
  put_symbol(tab, 4, 1, "the ", 4);
  put_symbol(tab, 4, 2, "abcdefgh", 8);
  put_symbol(tab, 4, 3, "x", 1);
  clance_error err = {0};
  cl_fsst_table *t = NULL;
  REQUIRE_OK(cl_fsst_table_parse(tab, sizeof tab, &t, &err), &err);
  CHECK_EQ_U64(cl_fsst_table_num_symbols(t), 4);
  CHECK(cl_fsst_table_compressed(t));
  CHECK_EQ_U64(cl_fsst_table_terminator(t), 0x7F);
  CHECK_EQ_U64(cl_fsst_table_suffix_lim(t), 1);
  uint8_t s[8];
  CHECK_EQ_U64(cl_fsst_table_symbol(t, 1, s), 4);
  CHECK(memcmp(s, "the \0\0\0\0", 8) == 0);
  CHECK_EQ_U64(cl_fsst_table_symbol(t, 2, s), 8);
  CHECK(memcmp(s, "abcdefgh", 8) == 0);
  CHECK_EQ_U64(cl_fsst_table_symbol(t, 4, s), 0);
  CHECK_EQ_U64(cl_fsst_table_symbol(t, 255, s), 0);
  /* Re-serializing gives the same bytes. */
  uint8_t back[CL_FSST_TABLE_SIZE];
  cl_fsst_table_serialize(t, back);
  CHECK(memcmp(tab, back, sizeof tab) == 0);
  cl_fsst_table_free(t);

  /* The header lance writes for a 255-symbol table (spec example). */
  put_header(tab, 255, 0, 0x13, 1);
  for (unsigned i = 0; i < 255; i++) {
    uint8_t sym[8] = {(uint8_t)i, 'a', 'b', 'c', 'd', 'e', 'f', 'g'};
    put_symbol(tab, 255, i, sym, 1 + i % 8);
  }
  static const uint8_t hdr[8] = {0xff, 0x00, 0x13, 0x01, 0x54, 0x53, 0x53, 0x46};
  CHECK(memcmp(tab, hdr, 8) == 0);
  REQUIRE_OK(cl_fsst_table_parse(tab, sizeof tab, &t, &err), &err);
  CHECK_EQ_U64(cl_fsst_table_num_symbols(t), 255);
  CHECK_EQ_U64(cl_fsst_table_symbol(t, 254, s), 1 + 254 % 8);
  cl_fsst_table_free(t);
}

static void test_decode_escapes(void) {
  uint8_t tab[CL_FSST_TABLE_SIZE];
  put_header(tab, 4, 0, 0, 1);
  put_symbol(tab, 4, 0, "the", 3);
  put_symbol(tab, 4, 1, " ", 1);
  put_symbol(tab, 4, 2, "abcdefgh", 8);
  put_symbol(tab, 4, 3, "x", 1);
  clance_error err = {0};
  cl_fsst_table *t = NULL;
  REQUIRE_OK(cl_fsst_table_parse(tab, sizeof tab, &t, &err), &err);
  cl_buf out = CL_BUF_INIT;
  static const uint8_t codes[] = {0, 1, 255, 'Z', 2, 255, 255, 3, 255, 0};
  CHECK_OK(cl_fsst_decode(t, codes, sizeof codes, &out, &err), &err);
  static const char want[] = "the Zabcdefgh\xffx";
  CHECK_EQ_U64(out.len, 16);
  CHECK(out.len == 16 && memcmp(out.data, want, 15) == 0 && out.data[15] == 0);
  /* Appends after what is there. */
  CHECK_OK(cl_fsst_decode(t, codes, 2, &out, &err), &err);
  CHECK(out.len == 20 && memcmp(out.data + 16, "the ", 4) == 0);
  /* Empty input is fine. */
  CHECK_OK(cl_fsst_decode(t, codes, 0, &out, &err), &err);
  CHECK_EQ_U64(out.len, 20);
  /* Long run (8-code fast path) with escapes at every window position. */
  for (unsigned pos = 0; pos < 12; pos++) {
    uint8_t in[40];
    size_t n = 0;
    for (unsigned k = 0; k < pos; k++)
      in[n++] = (uint8_t)(k % 4);
    in[n++] = 255;
    in[n++] = (uint8_t)('A' + pos);
    for (unsigned k = 0; k < 10; k++)
      in[n++] = 3;
    cl_buf a = CL_BUF_INIT, b = CL_BUF_INIT;
    CHECK_OK(cl_fsst_decode(t, in, n, &a, &err), &err);
    const uint8_t syms[256][8] = {"the", " ", "abcdefgh", "x"};
    const uint8_t lens[256] = {3, 1, 8, 1};
    CHECK(ref_decode(syms, lens, 4, 1, in, n, &b));
    CHECK(a.len == b.len && memcmp(a.data, b.data, a.len) == 0);
    cl_buf_free(&a);
    cl_buf_free(&b);
  }
  /* Codes at or above n_symbols decode to nothing, as in lance. */
  cl_buf_reset(&out);
  static const uint8_t unused[] = {0, 4, 200, 254, 3};
  CHECK_OK(cl_fsst_decode(t, unused, sizeof unused, &out, &err), &err);
  CHECK(out.len == 4 && memcmp(out.data, "thex", 4) == 0);
  cl_buf_free(&out);
  cl_fsst_table_free(t);
}

static void test_uncompressed_table(void) {
  uint8_t tab[CL_FSST_TABLE_SIZE];
  put_header(tab, 0, 0, 0, 0);
  static const uint8_t hdr[8] = {0, 0, 0, 0, 0x54, 0x53, 0x53, 0x46};
  CHECK(memcmp(tab, hdr, 8) == 0);
  clance_error err = {0};
  cl_fsst_table *t = NULL;
  REQUIRE_OK(cl_fsst_table_parse(tab, sizeof tab, &t, &err), &err);
  CHECK(!cl_fsst_table_compressed(t));
  cl_buf out = CL_BUF_INIT;
  static const uint8_t raw[] = {'h', 'i', 255, 0, 255};
  CHECK_OK(cl_fsst_decode(t, raw, sizeof raw, &out, &err), &err);
  CHECK(out.len == sizeof raw && memcmp(out.data, raw, sizeof raw) == 0);
  /* Column form: offsets rebased to the output. */
  static const uint32_t offs[] = {1, 2, 2, 5};
  uint32_t oo[4];
  cl_buf_reset(&out);
  CHECK_OK(cl_fsst_decode_offsets32(t, raw, sizeof raw, offs, 3, &out, oo, &err), &err);
  CHECK(out.len == 4 && memcmp(out.data, raw + 1, 4) == 0);
  CHECK(oo[0] == 0 && oo[1] == 1 && oo[2] == 1 && oo[3] == 4);
  static const uint32_t bad[] = {0, 3, 2, 5};
  CHECK(cl_fsst_decode_offsets32(t, raw, sizeof raw, bad, 3, &out, oo, &err) == CLANCE_ECORRUPT);
  /* Encoding with it copies. */
  cl_buf enc = CL_BUF_INIT;
  CHECK_OK(cl_fsst_encode(t, raw, sizeof raw, &enc, &err), &err);
  CHECK(enc.len == sizeof raw && memcmp(enc.data, raw, sizeof raw) == 0);
  cl_buf_free(&enc);
  cl_buf_free(&out);
  cl_fsst_table_free(t);

  /* The pass-through table serializes to exactly lance's small-page table. */
  REQUIRE_OK(cl_fsst_table_new_passthrough(&t, &err), &err);
  uint8_t ser[CL_FSST_TABLE_SIZE], zero[CL_FSST_TABLE_SIZE] = {0};
  cl_fsst_table_serialize(t, ser);
  CHECK(memcmp(ser, hdr, 8) == 0 && memcmp(ser + 8, zero, sizeof ser - 8) == 0);
  cl_fsst_table_free(t);
}

static void test_corrupt_tables(void) {
  uint8_t tab[CL_FSST_TABLE_SIZE + 1];
  clance_error err = {0};
  cl_fsst_table *t = (cl_fsst_table *)&err; /* must be reset to NULL */

  put_header(tab, 2, 0, 0, 1);
  put_symbol(tab, 2, 0, "ab", 2);
  put_symbol(tab, 2, 1, "c", 1);
  REQUIRE_OK(cl_fsst_table_parse(tab, CL_FSST_TABLE_SIZE, &t, &err), &err);
  cl_fsst_table_free(t);

  /* Wrong sizes (lance requires exactly 2312 bytes). */
  CHECK(cl_fsst_table_parse(tab, CL_FSST_TABLE_SIZE - 1, &t, &err) == CLANCE_ECORRUPT);
  CHECK(t == NULL);
  CHECK(cl_fsst_table_parse(tab, 8, &t, &err) == CLANCE_ECORRUPT);
  CHECK(cl_fsst_table_parse(tab, 0, &t, &err) == CLANCE_ECORRUPT);
  CHECK(cl_fsst_table_parse(tab, CL_FSST_TABLE_SIZE + 1, &t, &err) == CLANCE_ECORRUPT);
  CHECK(cl_fsst_table_parse(NULL, CL_FSST_TABLE_SIZE, &t, &err) == CLANCE_ECORRUPT);

  /* Bad magic. */
  tab[7] = 'G';
  CHECK(cl_fsst_table_parse(tab, CL_FSST_TABLE_SIZE, &t, &err) == CLANCE_ECORRUPT);
  CHECK(strstr(err.message, "magic") != NULL);
  tab[7] = 0x46;
  tab[4] = 0;
  CHECK(cl_fsst_table_parse(tab, CL_FSST_TABLE_SIZE, &t, &err) == CLANCE_ECORRUPT);
  tab[4] = 0x54;

  /* Zero-length and over-long symbols. */
  tab[8 + 16 + 1] = 0;
  CHECK(cl_fsst_table_parse(tab, CL_FSST_TABLE_SIZE, &t, &err) == CLANCE_ECORRUPT);
  CHECK(strstr(err.message, "length") != NULL);
  tab[8 + 16 + 1] = 9;
  CHECK(cl_fsst_table_parse(tab, CL_FSST_TABLE_SIZE, &t, &err) == CLANCE_ECORRUPT);
  tab[8 + 16 + 1] = 1;
  /* Also checked with compression off (lance validates lengths either way). */
  tab[3] = 0;
  tab[8 + 16] = 0;
  CHECK(cl_fsst_table_parse(tab, CL_FSST_TABLE_SIZE, &t, &err) == CLANCE_ECORRUPT);
  tab[8 + 16] = 2;
  tab[3] = 1;

  /* n_symbols says more symbols than have lengths. */
  tab[0] = 3;
  CHECK(cl_fsst_table_parse(tab, CL_FSST_TABLE_SIZE, &t, &err) == CLANCE_ECORRUPT);
  tab[0] = 2;

  /* Unknown flag bits. */
  tab[3] = 0x03;
  CHECK(cl_fsst_table_parse(tab, CL_FSST_TABLE_SIZE, &t, &err) == CLANCE_EUNSUPPORTED);
  tab[3] = 0x01;
  REQUIRE_OK(cl_fsst_table_parse(tab, CL_FSST_TABLE_SIZE, &t, &err), &err);
  cl_fsst_table_free(t);
}

static void test_truncated_streams(void) {
  uint8_t tab[CL_FSST_TABLE_SIZE];
  put_header(tab, 2, 0, 0, 1);
  put_symbol(tab, 2, 0, "hello", 5);
  put_symbol(tab, 2, 1, "!", 1);
  clance_error err = {0};
  cl_fsst_table *t = NULL;
  REQUIRE_OK(cl_fsst_table_parse(tab, sizeof tab, &t, &err), &err);
  cl_buf out = CL_BUF_INIT;
  static const uint8_t only_esc[] = {255};
  CHECK(cl_fsst_decode(t, only_esc, 1, &out, &err) == CLANCE_ECORRUPT);
  static const uint8_t tail_esc[] = {0, 1, 255, 'a', 0, 255};
  CHECK(cl_fsst_decode(t, tail_esc, sizeof tail_esc, &out, &err) == CLANCE_ECORRUPT);
  /* Escape as the 8th byte of a full 8-byte window with nothing after it. */
  static const uint8_t win_esc[] = {0, 0, 0, 0, 0, 0, 0, 255};
  CHECK(cl_fsst_decode(t, win_esc, sizeof win_esc, &out, &err) == CLANCE_ECORRUPT);
  static const uint8_t win_esc9[] = {0, 0, 0, 0, 0, 0, 0, 255, 'z'};
  cl_buf_reset(&out);
  CHECK_OK(cl_fsst_decode(t, win_esc9, sizeof win_esc9, &out, &err), &err);
  CHECK_EQ_U64(out.len, 36);

  /* In a column an escape may not take its literal from the next string. */
  static const uint8_t col[] = {0, 255, 'x', 1, 255, 'y'};
  static const uint64_t ok_offs[] = {0, 3, 6};
  static const uint64_t cut_offs[] = {0, 2, 6};
  uint64_t oo[3];
  cl_buf_reset(&out);
  CHECK_OK(cl_fsst_decode_offsets64(t, col, sizeof col, ok_offs, 2, &out, oo, &err), &err);
  CHECK(out.len == 8 && oo[0] == 0 && oo[1] == 6 && oo[2] == 8);
  CHECK(memcmp(out.data, "hellox!y", 8) == 0);
  /* Appending: output offsets are positions in the whole buffer. */
  cl_buf_reset(&out);
  CHECK_OK(cl_buf_append(&out, "XY", 2, &err), &err);
  CHECK_OK(cl_fsst_decode_offsets64(t, col, sizeof col, ok_offs, 2, &out, oo, &err), &err);
  CHECK(out.len == 10 && oo[0] == 2 && oo[1] == 8 && oo[2] == 10);
  CHECK(memcmp(out.data, "XYhellox!y", 10) == 0);
  cl_buf_reset(&out);
  CHECK(cl_fsst_decode_offsets64(t, col, sizeof col, cut_offs, 2, &out, oo, &err) ==
        CLANCE_ECORRUPT);
  /* Offsets out of order or past the data. */
  static const uint64_t dec_offs[] = {0, 4, 3};
  static const uint64_t far_offs[] = {0, 3, 7};
  static const uint64_t far0[] = {9, 9, 9};
  CHECK(cl_fsst_decode_offsets64(t, col, sizeof col, dec_offs, 2, &out, oo, &err) ==
        CLANCE_ECORRUPT);
  CHECK(cl_fsst_decode_offsets64(t, col, sizeof col, far_offs, 2, &out, oo, &err) ==
        CLANCE_ECORRUPT);
  CHECK(cl_fsst_decode_offsets64(t, col, sizeof col, far0, 2, &out, oo, &err) ==
        CLANCE_ECORRUPT);
  /* Zero strings: one offset, echoed. */
  cl_buf_reset(&out);
  CHECK_OK(cl_fsst_decode_offsets64(t, col, sizeof col, far_offs, 0, &out, oo, &err), &err);
  CHECK(oo[0] == 0 && out.len == 0);
  cl_buf_free(&out);
  cl_fsst_table_free(t);
}

/* Random tables and code streams against the plain decoder. */
static void test_decode_differential(void) {
  clance_error err = {0};
  uint8_t tab[CL_FSST_TABLE_SIZE];
  for (int iter = 0; iter < 300; iter++) {
    unsigned n = (unsigned)(rnd() % 256);
    int on = iter % 10 != 0;
    static uint8_t syms[256][8];
    static uint8_t lens[256];
    memset(syms, 0, sizeof syms);
    memset(lens, 0, sizeof lens);
    put_header(tab, n, (unsigned)(rnd() % 256), (unsigned)(rnd() % 256), on);
    for (unsigned i = 0; i < n; i++) {
      lens[i] = (uint8_t)(1 + rnd() % 8);
      for (unsigned k = 0; k < lens[i]; k++)
        syms[i][k] = (uint8_t)rnd();
      put_symbol(tab, n, i, syms[i], lens[i]);
    }
    cl_fsst_table *t = NULL;
    REQUIRE_OK(cl_fsst_table_parse(tab, sizeof tab, &t, &err), &err);
    size_t len = (size_t)(rnd() % 300);
    uint8_t *in = malloc(len + 1);
    unsigned esc_rate = (unsigned)(rnd() % 5);
    for (size_t i = 0; i < len; i++)
      in[i] = esc_rate && rnd() % (esc_rate * 4) == 0 ? 255 : (uint8_t)rnd();
    cl_buf a = CL_BUF_INIT, b = CL_BUF_INIT;
    int ok = ref_decode((const uint8_t(*)[8])syms, lens, n, on, in, len, &b);
    clance_status st = cl_fsst_decode(t, in, len, &a, &err);
    CHECK(st == (ok ? CLANCE_OK : CLANCE_ECORRUPT));
    if (ok && st == CLANCE_OK)
      CHECK(a.len == b.len && (a.len == 0 || memcmp(a.data, b.data, a.len) == 0));
    /* Split into strings: the column result must equal per-string decoding. */
    size_t count = 1 + (size_t)(rnd() % 6);
    uint32_t offs[8], oo[8];
    offs[0] = 0;
    for (size_t i = 1; i < count; i++)
      offs[i] = (uint32_t)(rnd() % (len + 1));
    offs[count] = (uint32_t)len;
    for (size_t i = 1; i < count; i++) /* sort */
      for (size_t j = i; j > 0 && offs[j - 1] > offs[j]; j--) {
        uint32_t x = offs[j];
        offs[j] = offs[j - 1];
        offs[j - 1] = x;
      }
    cl_buf c = CL_BUF_INIT, d = CL_BUF_INIT;
    int all_ok = 1;
    for (size_t i = 0; i < count && all_ok; i++)
      all_ok = ref_decode((const uint8_t(*)[8])syms, lens, n, on, in + offs[i],
                          offs[i + 1] - offs[i], &d);
    st = cl_fsst_decode_offsets32(t, in, len, offs, count, &c, oo, &err);
    CHECK(st == (all_ok ? CLANCE_OK : CLANCE_ECORRUPT));
    if (all_ok && st == CLANCE_OK) {
      CHECK(c.len == d.len && (c.len == 0 || memcmp(c.data, d.data, c.len) == 0));
      CHECK_EQ_U64(oo[count], c.len);
    }
    cl_buf_free(&a);
    cl_buf_free(&b);
    cl_buf_free(&c);
    cl_buf_free(&d);
    free(in);
    cl_fsst_table_free(t);
  }
}

static void test_serialize_layout(void) {
  column c;
  col_init(&c);
  gen_english(&c, 2000, 4, 12);
  clance_error err = {0};
  cl_fsst_table *t = NULL;
  REQUIRE_OK(cl_fsst_table_build64(c.data.data, c.offs, c.count, &t, &err), &err);
  uint8_t tab[CL_FSST_TABLE_SIZE];
  cl_fsst_table_serialize(t, tab);
  unsigned n = cl_fsst_table_num_symbols(t);
  CHECK(n > 100 && n <= 255);
  uint64_t h = cl_le64(tab);
  CHECK_EQ_U64(h >> 32, 0x46535354);
  CHECK_EQ_U64((h >> 24) & 0xFF, 1); /* compression on, no other flag */
  CHECK_EQ_U64(h & 0xFF, n);
  CHECK_EQ_U64((h >> 16) & 0xFF, cl_fsst_table_suffix_lim(t));
  CHECK_EQ_U64((h >> 8) & 0xFF, cl_fsst_table_terminator(t));
  /* Slots are zero padded, lengths follow the n slots, the rest is zero; the
   * codes are grouped like lance's: 2-byte (with suffix first), 3..8, then 1. */
  unsigned prev_group = 0, suffix = 0;
  for (unsigned i = 0; i < n; i++) {
    unsigned len = tab[8 + 8 * n + i];
    CHECK(len >= 1 && len <= 8);
    for (unsigned k = len; k < 8; k++)
      CHECK(tab[8 + 8 * i + k] == 0);
    unsigned group = len == 1 ? 9 : len;
    CHECK(group >= prev_group);
    prev_group = group;
    if (len == 2) {
      int has = 0;
      for (unsigned j = 0; j < n; j++)
        has |= tab[8 + 8 * n + j] > 2 && memcmp(tab + 8 + 8 * j, tab + 8 + 8 * i, 2) == 0;
      if (has) {
        CHECK(i == suffix); /* with-suffix codes come first */
        suffix++;
      }
    }
  }
  CHECK_EQ_U64(suffix, cl_fsst_table_suffix_lim(t));
  for (size_t k = 8 + 9 * (size_t)n; k < sizeof tab; k++)
    if (tab[k]) {
      CHECK(tab[k] == 0);
      break;
    }
  /* Deterministic: the same input gives the same table. */
  cl_fsst_table *t2 = NULL;
  REQUIRE_OK(cl_fsst_table_build64(c.data.data, c.offs, c.count, &t2, &err), &err);
  uint8_t tab2[CL_FSST_TABLE_SIZE];
  cl_fsst_table_serialize(t2, tab2);
  CHECK(memcmp(tab, tab2, sizeof tab) == 0);
  /* Unprepared parsed tables refuse to encode. */
  cl_fsst_table *p = NULL;
  REQUIRE_OK(cl_fsst_table_parse(tab, sizeof tab, &p, &err), &err);
  cl_buf out = CL_BUF_INIT;
  CHECK(cl_fsst_encode(p, c.data.data, 10, &out, &err) == CLANCE_EINVAL);
  cl_buf_free(&out);
  cl_fsst_table_free(p);
  cl_fsst_table_free(t);
  cl_fsst_table_free(t2);
  col_free(&c);
}

static void test_roundtrip_corpora(void) {
  column c;
  size_t r;

  col_init(&c);
  gen_english(&c, 20000, 3, 20);
  r = roundtrip("english sentences", &c, 1);
  CHECK(r != SIZE_MAX && r * 2 < c.data.len); /* better than 2x */
  col_free(&c);

  col_init(&c);
  gen_urls(&c, 20000);
  r = roundtrip("urls", &c, 1);
  CHECK(r != SIZE_MAX && r * 2 < c.data.len);
  col_free(&c);

  col_init(&c);
  gen_uuids(&c, 20000);
  r = roundtrip("uuid hex", &c, 1);
  CHECK(r != SIZE_MAX && r < c.data.len);
  col_free(&c);

  /* Mostly empty strings. */
  col_init(&c);
  for (int i = 0; i < 5000; i++) {
    if (i % 7 == 3)
      gen_english(&c, 1, 1, 4);
    else
      col_add(&c, "", 0);
  }
  r = roundtrip("mostly empty", &c, 1);
  CHECK(r != SIZE_MAX);
  col_free(&c);

  /* Only empty strings: a pass-through table. */
  col_init(&c);
  for (int i = 0; i < 100; i++)
    col_add(&c, "", 0);
  r = roundtrip("all empty", &c, 0);
  CHECK(r == 0);
  {
    clance_error err = {0};
    cl_fsst_table *t = NULL;
    CHECK_OK(cl_fsst_table_build64(c.data.data, c.offs, c.count, &t, &err), &err);
    CHECK(t && !cl_fsst_table_compressed(t));
    cl_fsst_table_free(t);
    CHECK_OK(cl_fsst_table_build64(NULL, NULL, 0, &t, &err), &err);
    CHECK(t && !cl_fsst_table_compressed(t));
    cl_fsst_table_free(t);
  }
  col_free(&c);

  /* Binary: every byte value, random bytes, runs of 0xFF. */
  col_init(&c);
  {
    uint8_t all[256];
    for (int i = 0; i < 256; i++)
      all[i] = (uint8_t)i;
    col_add(&c, all, 256);
    for (int i = 0; i < 3000; i++) {
      uint8_t s[64];
      size_t n = (size_t)(rnd() % 64);
      for (size_t k = 0; k < n; k++)
        s[k] = i % 3 == 0 ? 0xFF : (uint8_t)rnd();
      col_add(&c, s, n);
    }
    col_add(&c, all, 256);
  }
  r = roundtrip("binary bytes 0..255", &c, 1);
  CHECK(r != SIZE_MAX && r <= c.data.len * 2);
  col_free(&c);

  /* Long strings: one of ~300 KB text, one of 100 KB random, short ones. */
  col_init(&c);
  {
    column tmp;
    col_init(&tmp);
    gen_english(&tmp, 8000, 3, 10);
    col_add(&c, tmp.data.data, tmp.data.len);
    col_free(&tmp);
    uint8_t *big = malloc(100000);
    for (size_t k = 0; k < 100000; k++)
      big[k] = (uint8_t)rnd();
    col_add(&c, big, 100000);
    free(big);
    gen_urls(&c, 10);
  }
  r = roundtrip("long strings", &c, 1);
  CHECK(r != SIZE_MAX);
  col_free(&c);

  /* Tiny inputs. */
  col_init(&c);
  col_add(&c, "a", 1);
  r = roundtrip("single byte", &c, 0);
  CHECK(r != SIZE_MAX && r <= 2);
  col_free(&c);
  col_init(&c);
  col_add(&c, "hello hello hello hello", 23);
  col_add(&c, "hello world", 11);
  r = roundtrip("two strings", &c, 0);
  CHECK(r != SIZE_MAX && r < 34);
  col_free(&c);

  /* 32-bit build entry point and bad offsets. */
  {
    static const char data[] = "abcabcabcxyz";
    uint32_t offs[] = {0, 6, 12};
    clance_error err = {0};
    cl_fsst_table *t = NULL;
    CHECK_OK(cl_fsst_table_build32((const uint8_t *)data, offs, 2, &t, &err), &err);
    cl_fsst_table_free(t);
    t = NULL;
    uint32_t bad[] = {0, 8, 6};
    CHECK(cl_fsst_table_build32((const uint8_t *)data, bad, 2, &t, &err) == CLANCE_EINVAL);
    CHECK(t == NULL);
  }
}

/* Encoding with an arbitrary (hand-made or random) table still round-trips. */
static void test_encode_with_parsed_tables(void) {
  clance_error err = {0};
  uint8_t tab[CL_FSST_TABLE_SIZE];
  for (int iter = 0; iter < 50; iter++) {
    unsigned n = (unsigned)(rnd() % 256);
    put_header(tab, n, 0, 0, 1);
    for (unsigned i = 0; i < n; i++) {
      uint8_t sym[8];
      unsigned len = (unsigned)(1 + rnd() % 8);
      for (unsigned k = 0; k < len; k++)
        sym[k] = (uint8_t)('a' + rnd() % 4); /* small alphabet: many matches, duplicates */
      put_symbol(tab, n, i, sym, len);
    }
    cl_fsst_table *t = NULL;
    REQUIRE_OK(cl_fsst_table_parse(tab, sizeof tab, &t, &err), &err);
    REQUIRE_OK(cl_fsst_table_prepare_encoder(t, &err), &err);
    uint8_t in[200];
    size_t len = (size_t)(rnd() % sizeof in);
    for (size_t k = 0; k < len; k++)
      in[k] = (uint8_t)(rnd() % 8 ? 'a' + rnd() % 5 : rnd());
    cl_buf e = CL_BUF_INIT, d = CL_BUF_INIT;
    CHECK_OK(cl_fsst_encode(t, in, len, &e, &err), &err);
    CHECK(e.len <= 2 * len);
    CHECK_OK(cl_fsst_decode(t, e.data, e.len, &d, &err), &err);
    CHECK(d.len == len && (len == 0 || memcmp(d.data, in, len) == 0));
    cl_buf_free(&e);
    cl_buf_free(&d);
    cl_fsst_table_free(t);
  }
}

/* ---- the column encoder against the one-string encoder ------------------- */

/* Encode strings first..first+count-1 of c as a column (both offset widths)
 * and one string at a time; the bytes and offsets must agree. The string
 * bytes are copied into an allocation that ends exactly where the last string
 * does, so a read past the input shows up under ASan. */
static void check_column_encoding(const char *what, const cl_fsst_table *t, const column *c,
                                  size_t first, size_t count) {
  clance_error err = {0};
  uint64_t lo = c->offs[first], hi = c->offs[first + count];
  /* Keep a few bytes in front so that offsets[0] != 0 is covered. */
  uint64_t front = lo >= 3 ? 3 : lo;
  size_t n = (size_t)(hi - lo + front);
  uint8_t *data = malloc(n ? n : 1);
  if (n)
    memcpy(data, c->data.data + lo - front, n);
  uint64_t *o64 = malloc((count + 1) * sizeof *o64), *e64 = malloc((count + 1) * sizeof *e64);
  uint32_t *o32 = malloc((count + 1) * sizeof *o32), *e32 = malloc((count + 1) * sizeof *e32);
  for (size_t i = 0; i <= count; i++) {
    o64[i] = c->offs[first + i] - lo + front;
    o32[i] = (uint32_t)o64[i];
  }
  cl_buf ref = CL_BUF_INIT, col = CL_BUF_INIT, col32 = CL_BUF_INIT;
  uint64_t *ref_offs = malloc((count + 1) * sizeof *ref_offs);
  /* Something already in the output: positions start after it. */
  CHECK_OK(cl_buf_append(&ref, "xy", 2, &err), &err);
  CHECK_OK(cl_buf_append(&col, "xy", 2, &err), &err);
  CHECK_OK(cl_buf_append(&col32, "xy", 2, &err), &err);
  ref_offs[0] = ref.len;
  for (size_t i = 0; i < count; i++) {
    size_t len = (size_t)(o64[i + 1] - o64[i]);
    /* its own exact allocation too */
    uint8_t *one = malloc(len ? len : 1);
    if (len)
      memcpy(one, data + o64[i], len);
    CHECK_OK(cl_fsst_encode(t, one, len, &ref, &err), &err);
    free(one);
    ref_offs[i + 1] = ref.len;
  }
  CHECK_OK(cl_fsst_encode_offsets64(t, data, o64, count, &col, e64, &err), &err);
  CHECK_OK(cl_fsst_encode_offsets32(t, data, o32, count, &col32, e32, &err), &err);
  int same = col.len == ref.len && memcmp(col.data, ref.data, ref.len) == 0 &&
             col32.len == ref.len && memcmp(col32.data, ref.data, ref.len) == 0;
  for (size_t i = 0; i <= count && same; i++)
    same = e64[i] == ref_offs[i] && e32[i] == (uint32_t)ref_offs[i];
  if (!same)
    fprintf(stderr, "%s: column encoding (%zu strings, %zu bytes) differs from one at a time\n",
            what, count, n);
  CHECK(same);
  cl_buf_free(&ref);
  cl_buf_free(&col);
  cl_buf_free(&col32);
  free(ref_offs);
  free(data);
  free(o64);
  free(e64);
  free(o32);
  free(e32);
}

/* Strings of `kind`: 0 random bytes with many 0x00 / 0xFF, 1 a small alphabet
 * (long symbol matches), 2 empty and 1-byte strings, 3 a mix of lengths up to
 * a few KiB (longer than the column encoder's chunking), 4 the write
 * benchmark's 12..20 random [a-z0-9]. */
static void gen_tricky(column *c, int kind, size_t rows) {
  static const char alnum[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  uint8_t s[5000];
  for (size_t r = 0; r < rows; r++) {
    size_t n = 0;
    switch (kind) {
    case 0:
      n = (size_t)(rnd() % 40);
      for (size_t k = 0; k < n; k++)
        s[k] = (uint8_t)(rnd() % 3 == 0 ? (rnd() % 2 ? 0xFF : 0x00) : rnd());
      break;
    case 1:
      n = (size_t)(rnd() % 60);
      for (size_t k = 0; k < n; k++)
        s[k] = (uint8_t)(rnd() % 16 ? 'a' + rnd() % 4 : rnd());
      break;
    case 2:
      n = (size_t)(rnd() % 2);
      s[0] = (uint8_t)rnd();
      break;
    case 3:
      n = (size_t)(rnd() % 8 == 0 ? rnd() % sizeof s : rnd() % 30);
      for (size_t k = 0; k < n; k++)
        s[k] = (uint8_t)("abcabdxyz \xff"[(k + rnd() % 2) % 11]);
      break;
    default:
      n = (size_t)(12 + rnd() % 9);
      for (size_t k = 0; k < n; k++)
        s[k] = (uint8_t)alnum[rnd() % 36];
      break;
    }
    col_add(c, s, n);
  }
}

static void test_encode_column_vs_strings(void) {
  clance_error err = {0};
  char what[64];
  /* Tables learnt from each kind, used on every kind. */
  column cols[5];
  cl_fsst_table *built[5];
  for (int k = 0; k < 5; k++) {
    col_init(&cols[k]);
    gen_tricky(&cols[k], k, k == 3 ? 3000 : 20000);
    REQUIRE_OK(cl_fsst_table_build64(cols[k].data.data, cols[k].offs, cols[k].count, &built[k],
                                     &err),
               &err);
  }
  for (int tk = 0; tk < 5; tk++)
    for (int ck = 0; ck < 5; ck++) {
      snprintf(what, sizeof what, "table %d, strings %d", tk, ck);
      check_column_encoding(what, built[tk], &cols[ck], 0, cols[ck].count);
      /* slices: a short one, one string, none, and the last strings */
      check_column_encoding(what, built[tk], &cols[ck], 5, 17);
      check_column_encoding(what, built[tk], &cols[ck], 7, 1);
      check_column_encoding(what, built[tk], &cols[ck], 9, 0);
      check_column_encoding(what, built[tk], &cols[ck], cols[ck].count - 3, 3);
    }

  /* Parsed tables: small alphabets with NUL and 0xFF in symbols, duplicate
   * symbols, hash slot clashes; and tables whose 2-byte symbols use every byte
   * value (no separator byte: the one-string path). */
  uint8_t tab[CL_FSST_TABLE_SIZE];
  for (int iter = 0; iter < 40; iter++) {
    unsigned n = iter < 30 ? (unsigned)(rnd() % 256) : 128 + (unsigned)(rnd() % 128);
    put_header(tab, n, 0, 0, 1);
    for (unsigned i = 0; i < n; i++) {
      uint8_t sym[8];
      unsigned len;
      if (iter >= 30 && i < 128) {
        sym[0] = (uint8_t)(2 * i + (unsigned)iter % 2);
        sym[1] = (uint8_t)(2 * i + 1 - (unsigned)iter % 2);
        len = 2;
      } else {
        static const uint8_t alpha[] = {'a', 'b', 'c', 'd', 0x00, 0xFF};
        len = (unsigned)(1 + rnd() % 8);
        for (unsigned k = 0; k < len; k++)
          sym[k] = alpha[rnd() % (iter % 3 ? 4 : 6)];
      }
      put_symbol(tab, n, i, sym, len);
    }
    cl_fsst_table *t = NULL;
    REQUIRE_OK(cl_fsst_table_parse(tab, sizeof tab, &t, &err), &err);
    REQUIRE_OK(cl_fsst_table_prepare_encoder(t, &err), &err);
    for (int ck = 0; ck < 5; ck++) {
      snprintf(what, sizeof what, "parsed table %d, strings %d", iter, ck);
      check_column_encoding(what, t, &cols[ck], 0, cols[ck].count < 4000 ? cols[ck].count : 4000);
      check_column_encoding(what, t, &cols[ck], cols[ck].count - 2, 2);
    }
    cl_fsst_table_free(t);
  }
  for (int k = 0; k < 5; k++) {
    cl_fsst_table_free(built[k]);
    col_free(&cols[k]);
  }
}

/* ---- the 2.1/2.2 page writer: FSST mini-block pages ---------------------- */

/* Rows of a string page: a column plus a null flag per row. */
typedef struct srows {
  column c;
  uint8_t *null;
  size_t cap;
} srows;

static void rows_init(srows *r) {
  col_init(&r->c);
  r->cap = 0;
  r->null = NULL;
}

static void rows_add(srows *r, const void *s, size_t n, int null) {
  if (r->c.count + 1 > r->cap) {
    r->cap = r->cap ? 2 * r->cap : 1024;
    r->null = realloc(r->null, r->cap);
  }
  r->null[r->c.count] = (uint8_t)null;
  col_add(&r->c, s, null ? 0 : n);
}

static void rows_free(srows *r) {
  col_free(&r->c);
  free(r->null);
}

static void fill_arr(cl_arr *a, const srows *r) {
  clance_error err = {0};
  for (size_t i = 0; i < r->c.count; i++) {
    uint64_t s = r->c.offs[i], e = r->c.offs[i + 1];
    if (r->null[i]) {
      CHECK_OK(cl_arr_append_nulls(a, 1, &err), &err);
      continue;
    }
    CHECK_OK(cl_buf_append(&a->values, r->c.data.data + s, (size_t)(e - s), &err), &err);
    CHECK_OK(cl_arr_push_offset(a, a->values.len, &err), &err);
    CHECK_OK(cl_arr_append_valid(a, 1, &err), &err);
  }
}

/* Whether the page encoder picks FSST for these rows (the serialized table,
 * magic "TSSF" in bytes 4..7, shows up in the page's encoding). */
static int page_uses_fsst(const cl_field *f, const srows *r, cl_file_version ver) {
  clance_error err = {0};
  cl_arr a;
  cl_page_enc pe;
  memset(&pe, 0, sizeof pe);
  if (cl_arr_init(&a, f, &err))
    return -1;
  fill_arr(&a, r);
  int found = -1;
  if (cl_encode21_page(f, &a, 0, ver, &pe, &err) == CLANCE_OK) {
    found = 0;
    for (size_t i = 0; i + 4 <= pe.encoding.len && !found; i++)
      found = memcmp(pe.encoding.data + i, "TSSF", 4) == 0;
  } else {
    fprintf(stderr, "encode: %s\n", err.message);
  }
  cl_page_enc_free(&pe);
  cl_arr_free(&a);
  return found;
}

static int same_row(const struct ArrowArray *c, int64_t i, int large, const srows *r, size_t row) {
  int valid = cl_array_valid(c, i);
  if (valid != !r->null[row])
    return 0;
  if (!valid)
    return 1;
  int64_t j = i + c->offset;
  uint64_t s, e;
  if (large) {
    s = (uint64_t)((const int64_t *)c->buffers[1])[j];
    e = (uint64_t)((const int64_t *)c->buffers[1])[j + 1];
  } else {
    s = (uint64_t)((const int32_t *)c->buffers[1])[j];
    e = (uint64_t)((const int32_t *)c->buffers[1])[j + 1];
  }
  uint64_t ws = r->c.offs[row], we = r->c.offs[row + 1];
  return e - s == we - ws &&
         (e == s || memcmp((const uint8_t *)c->buffers[2] + s, r->c.data.data + ws, e - s) == 0);
}

/* Write the rows as a one-column dataset with the public API, scan and take
 * them back, and check every value. expect_fsst: what the page encoder must
 * choose for the whole column as one page. */
static void page_roundtrip(const char *what, const char *spec, const char *version, const srows *r,
                           int expect_fsst) {
  clance_error err = {0};
  cl_schema s;
  REQUIRE_OK(cl_schema_parse_spec(spec, &s, &err), &err);
  const cl_field *f = &s.fields[0];
  int large = f->type == CL_TYPE_LARGE_UTF8 || f->type == CL_TYPE_LARGE_BINARY;
  cl_file_version ver = version && !strcmp(version, "2.2") ? CL_FILE_V2_2 : CL_FILE_V2_1;
  int got = page_uses_fsst(f, r, ver);
  if (got != expect_fsst)
    fprintf(stderr, "%s: page encoder FSST %d, expected %d\n", what, got, expect_fsst);
  CHECK(got == expect_fsst);

  char *dir = cl_test_tmpdir("fsstpage");
  char uri[4200];
  snprintf(uri, sizeof uri, "%s/t.lance", dir);
  cl_arr a;
  struct ArrowArray kid, batch;
  REQUIRE_OK(cl_arr_init(&a, f, &err), &err);
  fill_arr(&a, r);
  REQUIRE_OK(cl_arr_export(&a, &kid, &err), &err);
  cl_arr_free(&a);
  int64_t n = (int64_t)r->c.count;
  REQUIRE_OK(cl_struct_array_export(n, &kid, 1, &batch, &err), &err);
  struct ArrowArrayStream stream;
  REQUIRE_OK(cl_stream_from_batches(&s, &batch, 1, &stream, &err), &err);
  clance_write_options o;
  clance_write_options_init(&o);
  o.data_storage_version = version;
  clance_fragments *frags;
  REQUIRE_OK(clance_write_fragments(uri, NULL, &stream, &o, &frags, &err), &err);
  clance_dataset *ds;
  REQUIRE_OK(td_overwrite_scan(uri, &s, frags, &ds, &stream, &err), &err);
  int64_t row = 0, bad = 0;
  struct ArrowArray out;
  while (stream.get_next(&stream, &out) == 0 && out.release) {
    for (int64_t i = 0; i < out.length; i++, row++)
      if (row >= n || !same_row(out.children[0], i, large, r, (size_t)row)) {
        if (bad++ < 3)
          fprintf(stderr, "%s: scanned row %lld differs\n", what, (long long)row);
      }
    out.release(&out);
  }
  stream.release(&stream);
  CHECK_EQ_U64(row, n);
  CHECK_EQ_U64(bad, 0);

  /* Take: rows out of single chunks (take21.c decodes one string each). */
  size_t nt = 0;
  uint64_t *want = malloc(((size_t)n / 7 + 2) * sizeof *want);
  for (int64_t i = 0; i < n; i += 7)
    want[nt++] = (uint64_t)i;
  if (n > 0 && want[nt - 1] != (uint64_t)(n - 1))
    want[nt++] = (uint64_t)(n - 1);
  struct ArrowSchema ts;
  REQUIRE_OK(clance_dataset_take(ds, want, nt, NULL, &out, &ts, &err), &err);
  CHECK_EQ_U64(out.length, nt);
  bad = 0;
  for (size_t i = 0; i < nt && (int64_t)i < out.length; i++)
    if (!same_row(out.children[0], (int64_t)i, large, r, (size_t)want[i]))
      if (bad++ < 3)
        fprintf(stderr, "%s: taken row %llu differs\n", what, (unsigned long long)want[i]);
  CHECK_EQ_U64(bad, 0);
  out.release(&out);
  ts.release(&ts);
  free(want);
  clance_dataset_close(ds);
  cl_schema_free(&s);
  cl_test_rmtree(dir);
}

/* Short text with the awkward cases mixed in: nulls, empty and 1-byte
 * strings, escape bytes (0xFF), NUL bytes. */
static void gen_mixed(srows *r, size_t n) {
  column tmp;
  col_init(&tmp);
  gen_english(&tmp, n, 1, 4);
  for (size_t i = 0; i < n; i++) {
    const uint8_t *p = tmp.data.data + tmp.offs[i];
    size_t len = (size_t)(tmp.offs[i + 1] - tmp.offs[i]);
    uint8_t buf[300];
    if (len > 200)
      len = 200;
    memcpy(buf, p, len);
    if (i % 11 == 0)
      rows_add(r, NULL, 0, 1);
    else if (i % 7 == 0)
      rows_add(r, "", 0, 0);
    else if (i % 5 == 0)
      rows_add(r, &buf[0], 1, 0);
    else if (i % 13 == 0) {
      buf[len] = 0xFF;
      buf[len + 1] = 0x00;
      buf[len + 2] = 0xFF;
      rows_add(r, buf, len + 3, 0);
    } else
      rows_add(r, buf, len, 0);
  }
  col_free(&tmp);
}

static void test_page_writer_fsst(void) {
  srows r;

  /* Mixed short strings: FSST, for string and large_string, 2.1 and 2.2. */
  rows_init(&r);
  gen_mixed(&r, 30000);
  page_roundtrip("mixed 2.1", "s:string", NULL, &r, 1);
  page_roundtrip("mixed 2.2", "s:string", "2.2", &r, 1);
  page_roundtrip("mixed large 2.1", "s:large_string", NULL, &r, 1);
  page_roundtrip("mixed large 2.2", "s:large_string", "2.2", &r, 1);
  /* Binary: lance never picks FSST for it. */
  page_roundtrip("mixed binary", "s:binary", NULL, &r, 0);
  rows_free(&r);

  /* Long strings near the mini-block limit (255 bytes; 256 goes full-zip). */
  rows_init(&r);
  {
    column tmp;
    col_init(&tmp);
    gen_english(&tmp, 2000, 30, 60);
    for (size_t i = 0; i < tmp.count; i++) {
      size_t len = (size_t)(tmp.offs[i + 1] - tmp.offs[i]);
      size_t want = 230 + i % 26;
      if (len < want)
        want = len;
      rows_add(&r, tmp.data.data + tmp.offs[i], want, i % 17 == 3);
    }
    col_free(&tmp);
  }
  page_roundtrip("long 2.1", "s:string", NULL, &r, 1);
  page_roundtrip("long 2.2", "s:string", "2.2", &r, 1);
  rows_free(&r);

  /* Values of 256 bytes and more: full-zip pages, FSST per value. */
  rows_init(&r);
  {
    column tmp;
    col_init(&tmp);
    gen_english(&tmp, 300, 40, 150);
    for (size_t i = 0; i < tmp.count; i++) {
      size_t len = (size_t)(tmp.offs[i + 1] - tmp.offs[i]);
      rows_add(&r, tmp.data.data + tmp.offs[i], i % 10 == 0 ? 1 : len, i % 23 == 5);
    }
    col_free(&tmp);
  }
  page_roundtrip("full-zip 2.1", "s:string", NULL, &r, 1);
  page_roundtrip("full-zip 2.2", "s:large_string", "2.2", &r, 1);
  rows_free(&r);

  /* Every byte value, compressible: a common prefix, then byte b repeated.
   * Every string differs (a byte for i / 256 after the prefix), or the
   * page would be a dictionary page, as Lance 12 makes it. */
  rows_init(&r);
  for (size_t i = 0; i < 4000; i++) {
    uint8_t buf[40];
    memcpy(buf, "prefix-", 7);
    buf[7] = (uint8_t)('a' + i / 256);
    memset(buf + 8, (int)(i % 256), 12);
    rows_add(&r, buf, 8 + 12 - i % 5, 0);
  }
  page_roundtrip("all bytes", "s:string", NULL, &r, 1);
  rows_free(&r);

  /* Random bytes do not compress: plain values are kept. */
  rows_init(&r);
  for (size_t i = 0; i < 4000; i++) {
    uint8_t buf[32];
    size_t len = (size_t)(rnd() % 32);
    for (size_t k = 0; k < len; k++)
      buf[k] = (uint8_t)rnd();
    rows_add(&r, buf, len, i % 9 == 0);
  }
  page_roundtrip("random bytes", "s:string", NULL, &r, 0);
  rows_free(&r);

  /* Under 32 KiB of data: plain, as lance. */
  rows_init(&r);
  gen_mixed(&r, 1000);
  page_roundtrip("small page", "s:string", NULL, &r, 0);
  rows_free(&r);

  /* Longest string under 5 bytes: plain, as lance. */
  rows_init(&r);
  for (size_t i = 0; i < 20000; i++)
    rows_add(&r, i % 2 ? "abcd" : "xyz", i % 2 ? 4 : 3, 0);
  page_roundtrip("max length 4", "s:string", NULL, &r, 0);
  rows_free(&r);

  /* Only nulls and empty strings. */
  rows_init(&r);
  for (size_t i = 0; i < 20000; i++)
    rows_add(&r, "", 0, i % 3 == 0);
  page_roundtrip("empty", "s:string", NULL, &r, 0);
  rows_free(&r);
}

int main(void) {
  RUN(test_parse_hand_built);
  RUN(test_decode_escapes);
  RUN(test_uncompressed_table);
  RUN(test_corrupt_tables);
  RUN(test_truncated_streams);
  RUN(test_decode_differential);
  RUN(test_serialize_layout);
  RUN(test_roundtrip_corpora);
  RUN(test_encode_with_parsed_tables);
  RUN(test_encode_column_vs_strings);
  RUN(test_page_writer_fsst);
  TEST_MAIN_END();
}
