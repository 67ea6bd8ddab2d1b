/* Unit tests for src/util/json.c: the strict parser, accessors, writers. */
#include <float.h>
#include <locale.h>
#include <math.h>

#include "test.h"
#include "util/buf.h"
#include "util/json.h"

/* Every parse goes through an exact-size heap copy, so that under ASan any read
 * past `len` is caught (the parser must not rely on a terminating NUL). */
static clance_status parse_n(const char *s, size_t len, const char *source, cl_json **out,
                             clance_error *err) {
  char *copy = malloc(len ? len : 1);
  if (len)
    memcpy(copy, s, len);
  clance_status st = cl_json_parse(copy, len, source, out, err);
  free(copy);
  return st;
}

static cl_json *parse_ok(const char *s) {
  clance_error err = {0};
  cl_json *j = NULL;
  clance_status st = parse_n(s, strlen(s), NULL, &j, &err);
  if (st != CLANCE_OK)
    fprintf(stderr, "  parse of %s failed: %s\n", s, err.message);
  CHECK(st == CLANCE_OK && j != NULL);
  return j;
}

/* Expect rejection as ECORRUPT with a well-formed message; returns 1 if so. */
static int fails_n(const char *s, size_t len, clance_error *err) {
  cl_json *j = (cl_json *)1;
  clance_status st = parse_n(s, len, NULL, &j, err);
  int ok = st == CLANCE_OK ? 0 : 1;
  if (st == CLANCE_OK) {
    fprintf(stderr, "  unexpectedly parsed: %.*s\n", (int)len, s);
    cl_json_free(j);
  } else {
    CHECK(st == CLANCE_ECORRUPT);
    CHECK(err->code == CLANCE_ECORRUPT);
    CHECK(j == NULL);
    CHECK(strncmp(err->message, "JSON: line ", 11) == 0);
  }
  return ok;
}

static int fails(const char *s) {
  clance_error err = {0};
  return fails_n(s, strlen(s), &err);
}

/* Parse, dump compactly, and return the dump (static buffer). */
static const char *redump(const char *s) {
  static char out[4096];
  clance_error err = {0};
  cl_json *j = parse_ok(s);
  cl_buf b = CL_BUF_INIT;
  out[0] = '\0';
  if (j && cl_json_dump(j, &b, &err) == CLANCE_OK)
    snprintf(out, sizeof out, "%.*s", (int)b.len, (const char *)b.data);
  cl_buf_free(&b);
  cl_json_free(j);
  return out;
}

static const char *fmt_double(double v) {
  static char out[64];
  clance_error err = {0};
  cl_buf b = CL_BUF_INIT;
  out[0] = '\0';
  if (cl_json_write_double(&b, v, &err) == CLANCE_OK)
    snprintf(out, sizeof out, "%.*s", (int)b.len, (const char *)b.data);
  cl_buf_free(&b);
  return out;
}

static const char *fmt_float(float v) {
  static char out[64];
  clance_error err = {0};
  cl_buf b = CL_BUF_INIT;
  out[0] = '\0';
  if (cl_json_write_float(&b, v, &err) == CLANCE_OK)
    snprintf(out, sizeof out, "%.*s", (int)b.len, (const char *)b.data);
  cl_buf_free(&b);
  return out;
}

static uint64_t rng_state = 0x243F6A8885A308D3ull;
static uint64_t rng(void) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return rng_state;
}

/* ------------------------------------------------------------------------- */

static void test_literals(void) {
  cl_json *j = parse_ok(" \t\r\n null \n");
  CHECK(j && cl_json_typeof(j) == CL_JSON_NULL);
  cl_json_free(j);
  int b = -1;
  j = parse_ok("true");
  CHECK(cl_json_typeof(j) == CL_JSON_BOOL && cl_json_bool(j, &b) && b == 1);
  cl_json_free(j);
  j = parse_ok("false");
  CHECK(cl_json_bool(j, &b) && b == 0);
  cl_json_free(j);
  CHECK(fails("nul"));
  CHECK(fails("tru"));
  CHECK(fails("truex"));
  CHECK(fails("True"));
  CHECK(fails("NULL"));
  CHECK(fails("nan"));
  CHECK(fails("NaN"));
  CHECK(fails("Infinity"));
  CHECK(fails("-Infinity"));
}

static void test_integers(void) {
  uint64_t u = 0;
  int64_t i = 0;
  double d = 0;
  cl_json *j = parse_ok("18446744073709551615");
  CHECK(cl_json_typeof(j) == CL_JSON_INT);
  CHECK(cl_json_u64(j, &u) && u == UINT64_MAX);
  CHECK(!cl_json_i64(j, &i));
  CHECK(cl_json_double(j, &d) && d == 18446744073709551615.0);
  cl_json_free(j);

  j = parse_ok("9223372036854775807");
  CHECK(cl_json_i64(j, &i) && i == INT64_MAX);
  CHECK(cl_json_u64(j, &u) && u == (uint64_t)INT64_MAX);
  cl_json_free(j);

  j = parse_ok("9223372036854775808");
  CHECK(!cl_json_i64(j, &i));
  CHECK(cl_json_u64(j, &u) && u == (uint64_t)1 << 63);
  cl_json_free(j);

  j = parse_ok("-9223372036854775808");
  CHECK(cl_json_typeof(j) == CL_JSON_INT);
  CHECK(cl_json_i64(j, &i) && i == INT64_MIN);
  CHECK(!cl_json_u64(j, &u));
  CHECK(cl_json_double(j, &d) && d == -9223372036854775808.0);
  cl_json_free(j);

  j = parse_ok("-42");
  CHECK(cl_json_i64(j, &i) && i == -42);
  CHECK(!cl_json_u64(j, &u));
  cl_json_free(j);

  j = parse_ok("0");
  CHECK(cl_json_u64(j, &u) && u == 0);
  cl_json_free(j);

  /* "-0" is the integer 0: readable as u64 and dumped as "0". */
  j = parse_ok("-0");
  CHECK(cl_json_typeof(j) == CL_JSON_INT);
  CHECK(cl_json_u64(j, &u) && u == 0);
  CHECK(cl_json_i64(j, &i) && i == 0);
  cl_json_free(j);
  CHECK_STR(redump("-0"), "0");

  /* Just outside both ranges: REAL. */
  j = parse_ok("18446744073709551616");
  CHECK(cl_json_typeof(j) == CL_JSON_REAL);
  CHECK(!cl_json_u64(j, &u) && !cl_json_i64(j, &i));
  CHECK(cl_json_double(j, &d) && d == 18446744073709551616.0);
  cl_json_free(j);
  j = parse_ok("-9223372036854775809");
  CHECK(cl_json_typeof(j) == CL_JSON_REAL);
  CHECK(cl_json_double(j, &d) && d == -9223372036854775809.0);
  cl_json_free(j);
  j = parse_ok("123456789012345678901234567890");
  CHECK(cl_json_typeof(j) == CL_JSON_REAL && cl_json_double(j, &d) && d == 1.2345678901234568e29);
  cl_json_free(j);

  CHECK_STR(redump("[18446744073709551615,-9223372036854775808,7]"),
            "[18446744073709551615,-9223372036854775808,7]");
}

static void test_reals(void) {
  struct {
    const char *text;
    double v;
  } cases[] = {
      {"1.5", 1.5},       {"-2.25", -2.25},   {"1e3", 1000.0},     {"1E+2", 100.0},
      {"2.5e-3", 2.5e-3}, {"0.1", 0.1},       {"1e-400", 0.0},     {"0e0", 0.0},
      {"1.0", 1.0},       {"-0.0", -0.0},     {"5e-324", 5e-324},  {"1.7976931348623157e308", DBL_MAX},
      {"0.30000000000000004", 0.30000000000000004},
  };
  for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
    cl_json *j = parse_ok(cases[k].text);
    double d = 7;
    uint64_t u;
    CHECK(cl_json_typeof(j) == CL_JSON_REAL);
    CHECK(cl_json_double(j, &d) && memcmp(&d, &cases[k].v, sizeof d) == 0);
    CHECK(!cl_json_u64(j, &u)); /* 1.0 is a REAL, not an integer */
    cl_json_free(j);
  }
  /* A very long number is fine as long as a double holds it. */
  char big[1200];
  memcpy(big, "0.", 2);
  memset(big + 2, '3', 1000);
  big[1002] = '\0';
  cl_json *j = parse_ok(big);
  double d = 0;
  CHECK(cl_json_double(j, &d) && d == 1.0 / 3);
  cl_json_free(j);
  /* Numbers beyond double range could not be written back: rejected. */
  CHECK(fails("1e400"));
  CHECK(fails("-1e400"));
  CHECK(fails("[1.8e308]"));
  big[0] = '1';
  memset(big + 1, '0', 400);
  big[401] = '\0';
  CHECK(fails(big));
}

static void test_bad_numbers(void) {
  const char *bad[] = {"01",   "-01", "00",  "-",    "-a",  "1.",  ".5",   "+1",  "1e",
                       "1e+",  "1e-", "0x10", "1.e5", "--1", "1.5.", "1e5e", "- 1", "1 2",
                       "0.e1", "1ee2", "٣",   "１"};
  for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
    if (!fails(bad[k]))
      fprintf(stderr, "  should fail: %s\n", bad[k]);
  }
  clance_error err = {0};
  CHECK(fails_n("01", 2, &err));
  CHECK(strstr(err.message, "leading zero") != NULL);
}

static void test_strings(void) {
  size_t len = 0;
  cl_json *j = parse_ok("\"q\\\"b\\\\s\\/n\\nr\\rt\\tb\\bf\\f\"");
  CHECK(cl_json_typeof(j) == CL_JSON_STRING);
  CHECK_STR(cl_json_string(j, &len), "q\"b\\s/n\nr\rt\tb\bf\f");
  CHECK(len == strlen("q\"b\\s/n\nr\rt\tb\bf\f"));
  cl_json_free(j);

  j = parse_ok("\"\\u00e9\\u20AC\\uD83D\\uDE00\\u0041\"");
  CHECK_STR(cl_json_string(j, &len), "\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80" "A");
  CHECK(len == 10);
  cl_json_free(j);

  /* Largest code point, written as a pair and raw. */
  j = parse_ok("[\"\\uDBFF\\uDFFF\", \"\xF4\x8F\xBF\xBF\"]");
  CHECK_STR(cl_json_string(cl_json_at(j, 0), NULL), "\xF4\x8F\xBF\xBF");
  CHECK_STR(cl_json_string(cl_json_at(j, 1), NULL), "\xF4\x8F\xBF\xBF");
  cl_json_free(j);

  /* Raw UTF-8 of every length, DEL passes through. */
  j = parse_ok("\"a\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\x7F\"");
  CHECK_STR(cl_json_string(j, NULL), "a\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\x7F");
  cl_json_free(j);

  /* Embedded NUL keeps the length. */
  j = parse_ok("\"a\\u0000b\"");
  const char *s = cl_json_string(j, &len);
  CHECK(len == 3 && s && memcmp(s, "a\0b", 4) == 0);
  cl_json_free(j);

  j = parse_ok("\"\"");
  CHECK_STR(cl_json_string(j, &len), "");
  CHECK(len == 0);
  cl_json_free(j);

  CHECK_STR(redump("\"\\u00e9\\u0001\\/\\uD83D\\uDE00\\u0000\""),
            "\"\xC3\xA9\\u0001/\xF0\x9F\x98\x80\\u0000\"");
}

static void test_bad_strings(void) {
  const char *bad[] = {
      "\"\\uD800\"",        /* lone high surrogate */
      "\"\\uD800x\"",       /* high surrogate then text */
      "\"\\uD800\\u0041\"", /* high surrogate then non-surrogate */
      "\"\\uD800\\uD800\"", /* two highs */
      "\"\\uDC00\"",        /* lone low surrogate */
      "\"\\uDE00\\uD83D\"", /* pair in the wrong order */
      "\"\\uD83D\\uDE0\"",  /* short low half */
      "\"\\u12\"",          /* short escape */
      "\"\\uZZZZ\"",
      "\"\\u 123\"",
      "\"\\x41\"",          /* not a JSON escape */
      "\"\\'\"",
      "\"\\",
      "\"\\u",
      "\"abc",
      "\"",
      "\"\x01\"",           /* raw control characters */
      "\"\t\"",
      "\"a\nb\"",
      "\"\x1F\"",
      "\"\xC0\x80\"",         /* overlong NUL */
      "\"\xC1\xBF\"",         /* overlong */
      "\"\xE0\x80\xAF\"",     /* overlong '/' */
      "\"\xF0\x80\x80\xAF\"", /* overlong '/' */
      "\"\xED\xA0\x80\"",     /* UTF-8 encoded surrogate */
      "\"\xF4\x90\x80\x80\"", /* above U+10FFFF */
      "\"\xF5\x80\x80\x80\"",
      "\"\xFF\"",
      "\"\xFE\"",
      "\"\x80\"", /* lone continuation */
      "\"\xE2\x82\"",         /* truncated sequence */
      "\"\xC3\"",
      "\"\xE2\x28\xA1\"",     /* bad continuation */
      "'single'",
  };
  for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
    if (!fails(bad[k]))
      fprintf(stderr, "  should fail: case %zu\n", k);
  }
  /* An embedded NUL byte (not the escape) is a control character too. */
  clance_error err = {0};
  CHECK(fails_n("\"a\0b\"", 5, &err));
  CHECK(strstr(err.message, "control character") != NULL);
  CHECK(fails_n("\"\\uD800\"", 8, &err));
  CHECK(strstr(err.message, "surrogate") != NULL);
  CHECK(fails_n("\"\xC0\x80\"", 4, &err));
  CHECK(strstr(err.message, "UTF-8") != NULL);
}

static void test_containers(void) {
  cl_json *j = parse_ok("{\"b\": [1, \"two\", [], {}, null], \"a\": {\"x\": true}, \"\": 3}");
  REQUIRE(j);
  CHECK(cl_json_typeof(j) == CL_JSON_OBJECT);
  CHECK(cl_json_len(j) == 3);
  CHECK_STR(cl_json_key(j, 0), "b");
  CHECK_STR(cl_json_key(j, 1), "a");
  CHECK_STR(cl_json_key(j, 2), "");
  CHECK(cl_json_key(j, 3) == NULL && cl_json_value(j, 3) == NULL);
  const cl_json *arr = cl_json_get(j, "b");
  CHECK(arr == cl_json_value(j, 0));
  CHECK(cl_json_typeof(arr) == CL_JSON_ARRAY && cl_json_len(arr) == 5);
  uint64_t u = 0;
  CHECK(cl_json_u64(cl_json_at(arr, 0), &u) && u == 1);
  CHECK_STR(cl_json_string(cl_json_at(arr, 1), NULL), "two");
  CHECK(cl_json_typeof(cl_json_at(arr, 2)) == CL_JSON_ARRAY && cl_json_len(cl_json_at(arr, 2)) == 0);
  CHECK(cl_json_typeof(cl_json_at(arr, 3)) == CL_JSON_OBJECT && cl_json_len(cl_json_at(arr, 3)) == 0);
  CHECK(cl_json_at(arr, 4) != NULL && cl_json_typeof(cl_json_at(arr, 4)) == CL_JSON_NULL);
  CHECK(cl_json_at(arr, 5) == NULL);
  int b = 0;
  CHECK(cl_json_bool(cl_json_get(cl_json_get(j, "a"), "x"), &b) && b == 1);
  CHECK(cl_json_u64(cl_json_get(j, ""), &u) && u == 3);
  CHECK(cl_json_get(j, "missing") == NULL);
  CHECK(cl_json_get(j, "B") == NULL);
  /* Wrong container kind. */
  CHECK(cl_json_at(j, 0) == NULL);
  CHECK(cl_json_get(arr, "b") == NULL);
  CHECK(cl_json_key(arr, 0) == NULL);
  CHECK(cl_json_len(cl_json_at(arr, 1)) == 0);
  /* Typed reads refuse other types and leave *out alone. */
  double d = 9;
  CHECK(!cl_json_double(cl_json_at(arr, 1), &d) && d == 9);
  CHECK(!cl_json_bool(cl_json_at(arr, 0), &b));
  CHECK(cl_json_string(cl_json_at(arr, 0), NULL) == NULL);
  cl_json_free(j);

  /* Keys with an embedded NUL are distinct from their prefix. */
  j = parse_ok("{\"a\\u0000b\": 1, \"a\": 2, \"a\\u0000\": 3}");
  CHECK(cl_json_len(j) == 3);
  CHECK(cl_json_u64(cl_json_get(j, "a"), &u) && u == 2);
  cl_json_free(j);

  CHECK_STR(redump(" [ 1 , [ [ ] ] , { \"k\" : { } } ] "), "[1,[[]],{\"k\":{}}]");
}

static void test_null_safety(void) {
  uint64_t u = 5;
  int64_t i = 5;
  double d = 5;
  int b = 5;
  size_t len = 5;
  CHECK(cl_json_typeof(NULL) == CL_JSON_NULL);
  CHECK(cl_json_len(NULL) == 0);
  CHECK(cl_json_at(NULL, 0) == NULL);
  CHECK(cl_json_get(NULL, "a") == NULL);
  CHECK(cl_json_key(NULL, 0) == NULL);
  CHECK(cl_json_value(NULL, 0) == NULL);
  CHECK(!cl_json_bool(NULL, &b) && b == 5);
  CHECK(!cl_json_u64(NULL, &u) && u == 5);
  CHECK(!cl_json_i64(NULL, &i) && i == 5);
  CHECK(!cl_json_double(NULL, &d) && d == 5);
  CHECK(cl_json_string(NULL, &len) == NULL && len == 5);
  cl_json_free(NULL);
  CHECK_STR(cl_json_type_name(CL_JSON_INT), "integer");
  CHECK_STR(cl_json_type_name(CL_JSON_OBJECT), "object");

  clance_error err = {0};
  cl_json *j = (cl_json *)1;
  CHECK(cl_json_parse(NULL, 0, NULL, &j, &err) == CLANCE_ECORRUPT && j == NULL);
  CHECK(cl_json_parse(NULL, 3, NULL, &j, &err) == CLANCE_EINVAL);
  CHECK(cl_json_parse("1", 1, NULL, NULL, &err) == CLANCE_EINVAL);
  cl_buf buf = CL_BUF_INIT;
  CHECK(cl_json_dump(NULL, &buf, &err) == CLANCE_EINVAL);
  /* A NULL error pointer is tolerated. */
  CHECK(cl_json_parse("[", 1, NULL, &j, NULL) == CLANCE_ECORRUPT);
}

static void test_syntax_errors(void) {
  const char *bad[] = {"",        "   ",       "[",           "]",         "{",
                       "}",       "[1,]",      "[,1]",        "[1 2]",     "[1,,2]",
                       "{\"a\"}", "{\"a\":}",  "{\"a\" 1}",   "{,}",       "{\"a\":1,}",
                       "{a:1}",   "{1:1}",     "{\"a\":1 \"b\":2}", "[1]x", "1 2",
                       "[1]]",    "{}}",       "\xEF\xBB\xBF\x31", "/*c*/1", "// c\n1",
                       "[1,\n",   "\x00",      "[\"a\":1]",   "{\"a\",1}", "{\"a\":1:2}",
                       "\f1",     "\v1",       "1\f",         "[1\xA0]",   "{\"a\":[}]"};
  for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
    if (!fails(bad[k]))
      fprintf(stderr, "  should fail: case %zu\n", k);
  }
  clance_error err = {0};
  CHECK(fails_n("1\0", 2, &err)); /* a NUL after the value is garbage too */
}

static void test_not_terminated(void) {
  /* Only the first len bytes count, whatever follows them. */
  clance_error err = {0};
  cl_json *j = NULL;
  uint64_t u = 0;
  CHECK_OK(parse_n("123456", 3, NULL, &j, &err), &err);
  CHECK(cl_json_u64(j, &u) && u == 123);
  cl_json_free(j);
  CHECK(fails_n("[1]", 2, &err));
  CHECK(fails_n("\"ab\"", 3, &err));
  CHECK(fails_n("true", 3, &err));
  CHECK(fails_n("\"\\u0041\"", 6, &err));
  CHECK(fails_n("\"\\uD83D\\uDE00\"", 12, &err));
  CHECK(fails_n("-", 1, &err));
  CHECK(fails_n("1.", 2, &err));
  CHECK(fails_n("1e", 2, &err));
}

static const char *rich_doc =
    "{\n"
    "  \"id\": 18446744073709551615,\n"
    "  \"neg\": -9223372036854775808,\n"
    "  \"files\": [{\"path\": \"data/\\u00e9\\uD83D\\uDE00.lance\", \"fields\": [0, 1, -2],\n"
    "             \"size\": 1.25e-3, \"big\": 1E+300, \"ok\": true, \"no\": false}],\n"
    "  \"deletion_file\": null, \"s\": \"tab\\t \\\"q\\\" \\\\ \xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\",\n"
    "  \"empty\": {}, \"e2\": [], \"n\": [[[[0.5]]]]\n"
    "}\n";

static void test_prefixes(void) {
  /* Every prefix of a valid document either parses or fails cleanly (most
   * fail; a few, like "1" of "12", are themselves valid). */
  size_t n = strlen(rich_doc);
  for (size_t len = 0; len <= n; len++) {
    clance_error err = {0};
    cl_json *j = NULL;
    clance_status st = parse_n(rich_doc, len, "doc.json", &j, &err);
    if (st == CLANCE_OK) {
      CHECK(len >= n - 1); /* only the full text (and without its '\n') */
      cl_json_free(j);
    } else {
      CHECK(st == CLANCE_ECORRUPT && j == NULL);
      CHECK(strncmp(err.message, "doc.json: line ", 15) == 0);
    }
  }
  /* And every suffix. */
  for (size_t off = 1; off < n; off++) {
    clance_error err = {0};
    cl_json *j = NULL;
    if (parse_n(rich_doc + off, n - off, NULL, &j, &err) == CLANCE_OK)
      cl_json_free(j);
    else
      CHECK(err.code == CLANCE_ECORRUPT);
  }
}

static void test_mutations(void) {
  /* Random byte edits of a valid document: never a crash, and whatever
   * parses dumps to text that parses to the same dump. */
  size_t n = strlen(rich_doc);
  char buf[1024];
  const char repl[] = "{}[]\",:\\u0123456789-+.eE \ttrue\xC3\xA9\xF0\x80";
  int parsed = 0;
  for (int it = 0; it < 20000; it++) {
    memcpy(buf, rich_doc, n);
    size_t len = n;
    int edits = 1 + (int)(rng() % 4);
    for (int e = 0; e < edits; e++) {
      size_t at = (size_t)(rng() % len);
      uint64_t r = rng();
      if (r % 3 == 0)
        buf[at] = repl[(r >> 8) % (sizeof repl - 1)];
      else if (r % 3 == 1)
        buf[at] = (char)(r >> 16);
      else if (len > 1) /* delete */
        memmove(buf + at, buf + at + 1, --len - at);
    }
    clance_error err = {0};
    cl_json *j = NULL;
    if (parse_n(buf, len, NULL, &j, &err) != CLANCE_OK) {
      CHECK(err.code == CLANCE_ECORRUPT);
      continue;
    }
    parsed++;
    cl_buf a = CL_BUF_INIT, b = CL_BUF_INIT;
    cl_json *k = NULL;
    CHECK_OK(cl_json_dump(j, &a, &err), &err);
    CHECK_OK(parse_n((const char *)a.data, a.len, NULL, &k, &err), &err);
    CHECK_OK(cl_json_dump(k, &b, &err), &err);
    CHECK(a.len == b.len && memcmp(a.data, b.data, a.len) == 0);
    cl_json_free(j);
    cl_json_free(k);
    cl_buf_free(&a);
    cl_buf_free(&b);
  }
  CHECK(parsed > 100); /* the edits do leave plenty of valid documents */
}

static void test_depth(void) {
  enum { N = CL_JSON_MAX_DEPTH + 1 };
  char text[2 * N + 16];
  /* Exactly the limit of nested arrays parses. */
  memset(text, '[', CL_JSON_MAX_DEPTH);
  memset(text + CL_JSON_MAX_DEPTH, ']', CL_JSON_MAX_DEPTH);
  text[2 * CL_JSON_MAX_DEPTH] = '\0';
  cl_json *j = parse_ok(text);
  cl_json_free(j);
  CHECK(strlen(redump(text)) == 2 * CL_JSON_MAX_DEPTH);
  /* One more level is rejected. */
  memset(text, '[', N);
  memset(text + N, ']', N);
  text[2 * N] = '\0';
  clance_error err = {0};
  CHECK(fails_n(text, 2 * N, &err));
  CHECK(strstr(err.message, "nesting") != NULL);
  CHECK(strstr(err.message, "column 257") != NULL);

  /* Same with objects, and with a mix. */
  cl_buf b = CL_BUF_INIT;
  for (int k = 0; k < N; k++)
    CHECK_OK(cl_buf_printf(&b, &err, k % 2 ? "{\"k\":" : "["), &err);
  CHECK_OK(cl_buf_printf(&b, &err, "1"), &err);
  for (int k = N - 1; k >= 0; k--)
    CHECK_OK(cl_buf_printf(&b, &err, k % 2 ? "}" : "]"), &err);
  CHECK(fails_n((const char *)b.data, b.len, &err));
  CHECK(strstr(err.message, "nesting") != NULL);
  /* Without the outermost level it fits. */
  cl_json *k = NULL;
  CHECK_OK(parse_n((const char *)b.data + 1, b.len - 2, NULL, &k, &err), &err);
  cl_json_free(k);
  cl_buf_free(&b);

  /* Huge depth fails fast, without exhausting the stack. */
  size_t huge = 1000000;
  char *deep = malloc(huge);
  memset(deep, '[', huge);
  CHECK(fails_n(deep, huge, &err));
  memset(deep, '{', huge);
  CHECK(fails_n(deep, huge, &err)); /* "{{" fails on the key, not depth */
  free(deep);
}

static void test_duplicates(void) {
  clance_error err = {0};
  CHECK(fails_n("{\"a\":1,\"a\":2}", 13, &err));
  CHECK_STR(err.message, "JSON: line 1, column 8: duplicate key \"a\"");
  CHECK(fails("{\"a\":1,\"b\":{\"a\":1,\"a\":2}}"));
  /* The same key at different levels or in sibling objects is fine. */
  cl_json *j = parse_ok("{\"a\":{\"a\":1},\"b\":[{\"a\":1},{\"a\":2}]}");
  cl_json_free(j);
  /* Escapes are compared decoded. */
  CHECK(fails("{\"\\u0061\":1,\"a\":2}"));
  CHECK(fails("{\"\xC3\xA9\":1,\"\\u00E9\":2}"));
  CHECK(fails("{\"\":1,\"\":2}"));

  /* Many members: the sorted check finds the first repeated key. */
  cl_buf b = CL_BUF_INIT;
  CHECK_OK(cl_buf_printf(&b, &err, "{"), &err);
  for (int k = 0; k < 2000; k++)
    CHECK_OK(cl_buf_printf(&b, &err, "%s\"key%d\":%d", k ? "," : "", (k * 7919) % 2000, k), &err);
  CHECK_OK(cl_buf_printf(&b, &err, "}"), &err);
  cl_json *big = NULL;
  CHECK_OK(parse_n((const char *)b.data, b.len, NULL, &big, &err), &err);
  CHECK(cl_json_len(big) == 2000);
  uint64_t u = 0;
  CHECK(cl_json_u64(cl_json_get(big, "key1999"), &u) && (u * 7919) % 2000 == 1999);
  cl_json_free(big);
  b.len--; /* replace the closing brace */
  CHECK_OK(cl_buf_printf(&b, &err, ",\"key5\":0,\"key3\":0}"), &err);
  CHECK(fails_n((const char *)b.data, b.len, &err));
  CHECK(strstr(err.message, "duplicate key \"key5\"") != NULL);
  cl_buf_free(&b);

  /* Long keys are shortened in the message. */
  char lk[420];
  char key[201];
  memset(key, 'k', 200);
  key[200] = '\0';
  snprintf(lk, sizeof lk, "{\"%s\":1,\"%s\":2}", key, key);
  CHECK(fails_n(lk, strlen(lk), &err));
  CHECK(strstr(err.message, "...\"") != NULL);
}

static void test_error_messages(void) {
  clance_error err = {0};
  cl_json *j = (cl_json *)1;
  const char *t = "{\n  \"a\": [1,\n    2,,\n  ]\n}";
  CHECK(parse_n(t, strlen(t), "dir/x.json", &j, &err) == CLANCE_ECORRUPT);
  CHECK(j == NULL);
  CHECK(err.code == CLANCE_ECORRUPT);
  CHECK_STR(err.message,
            "dir/x.json: line 3, column 7: unexpected character ',' (expected a value)");

  /* Columns count characters, not bytes. */
  t = "[\"\xC3\xA9\" x]";
  CHECK(parse_n(t, strlen(t), NULL, &j, &err) == CLANCE_ECORRUPT);
  CHECK_STR(err.message, "JSON: line 1, column 6: unexpected character 'x' (expected ',' or ']')");

  CHECK(parse_n("", 0, "empty.json", &j, &err) == CLANCE_ECORRUPT);
  CHECK_STR(err.message, "empty.json: line 1, column 1: unexpected end of input (expected a value)");

  CHECK(parse_n("[1] 2", 5, NULL, &j, &err) == CLANCE_ECORRUPT);
  CHECK_STR(err.message,
            "JSON: line 1, column 5: unexpected character '2' (expected end of input after the value)");

  CHECK(parse_n("\n\n  \"abc", 8, NULL, &j, &err) == CLANCE_ECORRUPT);
  CHECK_STR(err.message, "JSON: line 3, column 3: unterminated string");

  CHECK(parse_n("[\x01]", 3, NULL, &j, &err) == CLANCE_ECORRUPT);
  CHECK_STR(err.message, "JSON: line 1, column 2: unexpected byte 0x01 (expected a value)");

  CHECK(parse_n("{\"a\" 1}", 7, NULL, &j, &err) == CLANCE_ECORRUPT);
  CHECK_STR(err.message, "JSON: line 1, column 6: unexpected character '1' (expected ':')");

  CHECK(parse_n("[1e999]", 7, NULL, &j, &err) == CLANCE_ECORRUPT);
  CHECK_STR(err.message, "JSON: line 1, column 2: number out of range");
}

static void test_write_string(void) {
  clance_error err = {0};
  cl_buf b = CL_BUF_INIT;
  const char in[] = "q\"b\\n\nr\rt\tb\bf\f\x01\x1f\x7f/\xC3\xA9\xF0\x9F\x98\x80";
  CHECK_OK(cl_json_write_string(&b, in, sizeof in - 1, &err), &err);
  CHECK_OK(cl_buf_cstr(&b, &err), &err);
  CHECK_STR((const char *)b.data,
            "\"q\\\"b\\\\n\\nr\\rt\\tb\\bf\\f\\u0001\\u001f\x7f/\xC3\xA9\xF0\x9F\x98\x80\"");
  cl_buf_reset(&b);
  CHECK_OK(cl_json_write_string(&b, "a\0b", 3, &err), &err);
  CHECK(b.len == 10 && memcmp(b.data, "\"a\\u0000b\"", 10) == 0);
  cl_buf_reset(&b);
  CHECK_OK(cl_json_write_string(&b, NULL, 0, &err), &err);
  CHECK(b.len == 2 && memcmp(b.data, "\"\"", 2) == 0);

  /* Invalid UTF-8 is refused, leaving the buffer as it was. */
  const char *invalid[] = {"ab\xFF", "\xC0\x80", "\xED\xA0\x80", "x\xE2\x82", "\x80"};
  for (size_t k = 0; k < sizeof invalid / sizeof invalid[0]; k++) {
    size_t before = b.len;
    CHECK(cl_json_write_string(&b, invalid[k], strlen(invalid[k]), &err) == CLANCE_EINVAL);
    CHECK(err.code == CLANCE_EINVAL);
    CHECK(b.len == before);
  }
  cl_buf_free(&b);

  /* Every byte value below 0x80, then random valid UTF-8, round-trips. */
  char all[200];
  size_t n = 0;
  for (int c = 0; c < 0x80; c++)
    all[n++] = (char)c;
  memcpy(all + n, "\xC2\x80\xDF\xBF\xE0\xA0\x80\xEF\xBF\xBF\xF0\x90\x80\x80\xF4\x8F\xBF\xBF", 18);
  n += 18;
  CHECK_OK(cl_json_write_string(&b, all, n, &err), &err);
  cl_json *j = NULL;
  CHECK_OK(parse_n((const char *)b.data, b.len, NULL, &j, &err), &err);
  size_t len = 0;
  const char *s = cl_json_string(j, &len);
  CHECK(s && len == n && memcmp(s, all, n) == 0);
  cl_json_free(j);
  cl_buf_free(&b);

  for (int it = 0; it < 2000; it++) {
    /* Random code points, encoded by hand. */
    char str[64];
    size_t sl = 0;
    for (int c = 0; c < 10; c++) {
      uint32_t cp = (uint32_t)(rng() % 0x110000);
      if (cp >= 0xD800 && cp <= 0xDFFF)
        cp = 0x41;
      if (cp < 0x80) {
        str[sl++] = (char)cp;
      } else if (cp < 0x800) {
        str[sl++] = (char)(0xC0 | cp >> 6);
        str[sl++] = (char)(0x80 | (cp & 0x3F));
      } else if (cp < 0x10000) {
        str[sl++] = (char)(0xE0 | cp >> 12);
        str[sl++] = (char)(0x80 | (cp >> 6 & 0x3F));
        str[sl++] = (char)(0x80 | (cp & 0x3F));
      } else {
        str[sl++] = (char)(0xF0 | cp >> 18);
        str[sl++] = (char)(0x80 | (cp >> 12 & 0x3F));
        str[sl++] = (char)(0x80 | (cp >> 6 & 0x3F));
        str[sl++] = (char)(0x80 | (cp & 0x3F));
      }
    }
    cl_buf_reset(&b);
    CHECK_OK(cl_json_write_string(&b, str, sl, &err), &err);
    CHECK_OK(parse_n((const char *)b.data, b.len, NULL, &j, &err), &err);
    s = cl_json_string(j, &len);
    CHECK(s && len == sl && memcmp(s, str, sl) == 0);
    cl_json_free(j);
  }
  cl_buf_free(&b);
}

static void test_write_integers(void) {
  clance_error err = {0};
  cl_buf b = CL_BUF_INIT;
  CHECK_OK(cl_json_write_u64(&b, UINT64_MAX, &err), &err);
  CHECK_OK(cl_buf_printf(&b, &err, ","), &err);
  CHECK_OK(cl_json_write_i64(&b, INT64_MIN, &err), &err);
  CHECK_OK(cl_buf_printf(&b, &err, ","), &err);
  CHECK_OK(cl_json_write_i64(&b, 0, &err), &err);
  CHECK_OK(cl_buf_cstr(&b, &err), &err);
  CHECK_STR((const char *)b.data, "18446744073709551615,-9223372036854775808,0");
  cl_buf_free(&b);
}

/* Significant digits of a number as written (for the shortness check). */
static int sig_digits(const char *s) {
  int n = 0, started = 0, trailing = 0;
  for (; *s && *s != 'e'; s++) {
    if (*s < '0' || *s > '9')
      continue;
    if (*s != '0')
      started = 1;
    if (!started)
      continue;
    n++;
    trailing = *s == '0' ? trailing + 1 : 0;
  }
  return n - trailing > 0 ? n - trailing : 1;
}

static void test_write_double(void) {
  struct {
    double v;
    const char *want;
  } cases[] = {
      {0.1, "0.1"},
      {0.0, "0.0"},
      {-0.0, "-0.0"},
      {1.0, "1.0"},
      {100.0, "100.0"},
      {-2.5, "-2.5"},
      {1.0 / 3, "0.3333333333333333"},
      {0.1 + 0.2, "0.30000000000000004"},
      {1e300, "1e+300"},
      {5e-324, "5e-324"},
      {DBL_MAX, "1.7976931348623157e+308"},
      {DBL_MIN, "2.2250738585072014e-308"},
      {1e16, "1e+16"},
      {1e15, "1000000000000000.0"},
      {9007199254740993.0, "9007199254740992.0"},
      {123456789012345680.0, "1.2345678901234568e+17"},
      {0.0001, "0.0001"},
      {0.00001, "1e-05"},
      {1.5e-7, "1.5e-07"},
      {12345.678, "12345.678"},
      {18446744073709551615.0, "1.8446744073709552e+19"},
  };
  for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++)
    CHECK_STR(fmt_double(cases[k].v), cases[k].want);

  clance_error err = {0};
  cl_buf b = CL_BUF_INIT;
  CHECK_OK(cl_buf_printf(&b, &err, "x"), &err);
  CHECK(cl_json_write_double(&b, NAN, &err) == CLANCE_EINVAL);
  CHECK(cl_json_write_double(&b, INFINITY, &err) == CLANCE_EINVAL);
  CHECK(cl_json_write_double(&b, -INFINITY, &err) == CLANCE_EINVAL);
  CHECK(cl_json_write_float(&b, NAN, &err) == CLANCE_EINVAL);
  CHECK(cl_json_write_float(&b, -INFINITY, &err) == CLANCE_EINVAL);
  CHECK(b.len == 1);
  cl_buf_free(&b);

  /* Random bit patterns: the output parses back (as a REAL) to the same
   * bits, and has the fewest significant digits that can. */
  for (int it = 0; it < 20000; it++) {
    uint64_t bits = rng();
    double v;
    memcpy(&v, &bits, sizeof v);
    if (!isfinite(v))
      continue;
    const char *s = fmt_double(v);
    cl_json *j = NULL;
    double back = 0;
    CHECK_OK(parse_n(s, strlen(s), NULL, &j, &err), &err);
    CHECK(cl_json_typeof(j) == CL_JSON_REAL);
    CHECK(cl_json_double(j, &back) && memcmp(&back, &v, sizeof v) == 0);
    cl_json_free(j);
    int p = 1;
    char tmp[64];
    for (; p < 17; p++) {
      snprintf(tmp, sizeof tmp, "%.*g", p, v);
      if (strtod(tmp, NULL) == v)
        break;
    }
    if (sig_digits(s) != p) {
      fprintf(stderr, "  %s has %d digits, %d suffice\n", s, sig_digits(s), p);
      CHECK(0);
    }
  }
}

static void test_write_float(void) {
  struct {
    float v;
    const char *want;
  } cases[] = {
      {0.1f, "0.1"},
      {16777217.0f, "16777216.0"},
      {16777216.0f, "16777216.0"},
      {1.0f / 3, "0.33333334"},
      {FLT_MAX, "3.4028235e+38"},
      {FLT_MIN, "1.1754944e-38"},
      {1e-45f, "1e-45"},
      {3.14159f, "3.14159"},
      {1e10f, "10000000000.0"},
      {-0.0f, "-0.0"},
      {0.0f, "0.0"},
      {1.5f, "1.5"},
      {-100.25f, "-100.25"},
      {1e-5f, "1e-05"},
  };
  for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++)
    CHECK_STR(fmt_float(cases[k].v), cases[k].want);
  for (int it = 0; it < 20000; it++) {
    uint32_t bits = (uint32_t)rng();
    float v;
    memcpy(&v, &bits, sizeof v);
    if (!isfinite(v))
      continue;
    const char *s = fmt_float(v);
    float back = strtof(s, NULL);
    CHECK(memcmp(&back, &v, sizeof v) == 0);
    int p = 1;
    char tmp[64];
    for (; p < 9; p++) {
      snprintf(tmp, sizeof tmp, "%.*g", p, (double)v);
      if (strtof(tmp, NULL) == v)
        break;
    }
    if (sig_digits(s) != p) {
      fprintf(stderr, "  %s has %d digits, %d suffice\n", s, sig_digits(s), p);
      CHECK(0);
    }
  }
}

static void test_dump(void) {
  CHECK_STR(redump(" { \"a\" : [1, -2, 3.50, 1E2, true, false, null, \"x\\u00e9\\n\"],\n"
                   "   \"b\": {}, \"c\": [] , \"id\": 18446744073709551615, \"r\": 1e-7 } "),
            "{\"a\":[1,-2,3.5,100.0,true,false,null,\"x\xC3\xA9\\n\"],\"b\":{},\"c\":[],"
            "\"id\":18446744073709551615,\"r\":1e-07}");
  CHECK_STR(redump("\"\""), "\"\"");
  CHECK_STR(redump("-0.0"), "-0.0");
  CHECK_STR(redump("1e2"), "100.0");
  CHECK_STR(redump("123456789012345678901234567890"), "1.2345678901234568e+29");
  CHECK_STR(redump("{\"\\u0000\":\"\\u001F\"}"), "{\"\\u0000\":\"\\u001f\"}");

  /* Dump of a dump is a fixed point, REALs stay REALs. */
  clance_error err = {0};
  cl_json *j = parse_ok(rich_doc), *k = NULL;
  cl_buf a = CL_BUF_INIT, b = CL_BUF_INIT;
  CHECK_OK(cl_json_dump(j, &a, &err), &err);
  CHECK_OK(parse_n((const char *)a.data, a.len, NULL, &k, &err), &err);
  CHECK_OK(cl_json_dump(k, &b, &err), &err);
  CHECK(a.len == b.len && memcmp(a.data, b.data, a.len) == 0);
  CHECK(cl_json_typeof(cl_json_get(cl_json_at(cl_json_get(k, "files"), 0), "size")) == CL_JSON_REAL);
  uint64_t u = 0;
  CHECK(cl_json_u64(cl_json_get(k, "id"), &u) && u == UINT64_MAX);
  cl_json_free(j);
  cl_json_free(k);
  cl_buf_free(&a);
  cl_buf_free(&b);
}

static void test_fragment_metadata(void) {
  /* What pylance's json.dumps(fragment.to_json()) looks like. */
  const char *t =
      "{\"id\": 3, \"files\": [{\"path\": \"4c4a5b9e-1f0e-4a5e-8f0a-3e1b2c3d4e5f.lance\", "
      "\"fields\": [0, 1], \"column_indices\": [0, 1], \"file_major_version\": 2, "
      "\"file_minor_version\": 0, \"file_size_bytes\": 1234, \"base_id\": null}], "
      "\"deletion_file\": null, \"row_id_meta\": null, \"physical_rows\": 100, "
      "\"last_updated_at_version_meta\": null, \"created_at_version_meta\": null, "
      "\"row_id\": 17293822569102704640}";
  cl_json *j = parse_ok(t);
  REQUIRE(j);
  uint64_t u = 0;
  CHECK(cl_json_u64(cl_json_get(j, "id"), &u) && u == 3);
  CHECK(cl_json_u64(cl_json_get(j, "physical_rows"), &u) && u == 100);
  CHECK(cl_json_u64(cl_json_get(j, "row_id"), &u) && u == 17293822569102704640ull);
  const cl_json *f = cl_json_at(cl_json_get(j, "files"), 0);
  CHECK_STR(cl_json_string(cl_json_get(f, "path"), NULL), "4c4a5b9e-1f0e-4a5e-8f0a-3e1b2c3d4e5f.lance");
  CHECK(cl_json_len(cl_json_get(f, "fields")) == 2);
  CHECK(cl_json_typeof(cl_json_get(f, "base_id")) == CL_JSON_NULL);
  CHECK(cl_json_get(f, "base_id") != NULL);
  CHECK(cl_json_typeof(cl_json_get(j, "deletion_file")) == CL_JSON_NULL);
  cl_json_free(j);
}

static void test_locale(void) {
  /* printf/strtod follow LC_NUMERIC; JSON must not. Only testable where a
   * comma-decimal locale is installed. */
  const char *names[] = {"de_DE.UTF-8", "de_DE.utf8", "fr_FR.UTF-8", "fr_FR.utf8", "de_DE"};
  const char *got = NULL;
  for (size_t k = 0; k < sizeof names / sizeof names[0] && !got; k++)
    got = setlocale(LC_NUMERIC, names[k]);
  if (!got) {
    fprintf(stderr, "  (no comma-decimal locale installed; locale test skipped)\n");
    return;
  }
  CHECK_STR(fmt_double(0.1), "0.1");
  CHECK_STR(fmt_double(1.5e-7), "1.5e-07");
  CHECK_STR(fmt_float(0.1f), "0.1");
  cl_json *j = parse_ok("[1.5, 2e-1]");
  double d = 0;
  CHECK(cl_json_double(cl_json_at(j, 0), &d) && d == 1.5);
  CHECK(cl_json_double(cl_json_at(j, 1), &d) && d == 0.2);
  cl_json_free(j);
  setlocale(LC_NUMERIC, "C");
}

int main(void) {
  RUN(test_literals);
  RUN(test_integers);
  RUN(test_reals);
  RUN(test_bad_numbers);
  RUN(test_strings);
  RUN(test_bad_strings);
  RUN(test_containers);
  RUN(test_null_safety);
  RUN(test_syntax_errors);
  RUN(test_not_terminated);
  RUN(test_prefixes);
  RUN(test_mutations);
  RUN(test_depth);
  RUN(test_duplicates);
  RUN(test_error_messages);
  RUN(test_write_string);
  RUN(test_write_integers);
  RUN(test_write_double);
  RUN(test_write_float);
  RUN(test_dump);
  RUN(test_fragment_metadata);
  RUN(test_locale);
  TEST_MAIN_END();
}
