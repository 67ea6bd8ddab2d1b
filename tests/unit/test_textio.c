/* Unit tests for the CLI's text input/output (tools/clance/textio*.c,
 * input_*.c, output.c): canonical JSONL, CSV, round trips and errors. */
#include <float.h>
#include <math.h>
#include <unistd.h>

#include "arrow/array.h"
#include "arrow/type.h"
#include "test.h"
#include "textio.h"
#include "util/buf.h"

static char *g_dir;
static int g_file_no;

/* A fresh file holding content[0..len). Caller frees the path. */
static char *put_file(const char *content, size_t len) {
  char *path = malloc(strlen(g_dir) + 32);
  sprintf(path, "%s/in%d.txt", g_dir, g_file_no++);
  FILE *f = fopen(path, "wb");
  if (len)
    fwrite(content, 1, len, f);
  fclose(f);
  return path;
}

static cl_schema spec(const char *s) {
  cl_schema out;
  clance_error err = {0};
  if (cl_schema_parse_spec(s, &out, &err) != CLANCE_OK) {
    fprintf(stderr, "bad spec %s: %s\n", s, err.message);
    abort();
  }
  return out;
}

/* Read `content` as in_fmt and print it as out_fmt (*out is malloc'd, or NULL
 * when opening failed). Returns the first error. */
static size_t g_out_len; /* length of the last convert() output (it may hold NULs) */

static clance_status convert(const char *content, size_t len, int in_fmt, const cl_schema *s,
                             uint64_t batch_rows, int out_fmt, char **out, clance_error *err) {
  char *path = put_file(content, len);
  struct ArrowArrayStream st;
  *out = NULL;
  cl_err_clear(err);
  clance_status rc = cl_text_reader_open(path, in_fmt, s, batch_rows, &st, err);
  if (rc == CLANCE_OK) {
    size_t n = 0;
    FILE *m = open_memstream(out, &n);
    rc = cl_text_write_stream(m, out_fmt, &st, err);
    fclose(m);
    g_out_len = n;
    st.release(&st);
  }
  unlink(path);
  free(path);
  return rc;
}

static clance_status convert_str(const char *content, int in_fmt, const char *schema_spec,
                                 uint64_t batch_rows, int out_fmt, char **out, clance_error *err) {
  cl_schema s = spec(schema_spec);
  clance_status rc = convert(content, strlen(content), in_fmt, &s, batch_rows, out_fmt, out, err);
  cl_schema_free(&s);
  return rc;
}

/* Convert and expect success with exactly `want`. */
static void expect_text(const char *content, int in_fmt, const char *schema_spec, int out_fmt,
                        const char *want) {
  char *got = NULL;
  clance_error err;
  clance_status rc = convert_str(content, in_fmt, schema_spec, 0, out_fmt, &got, &err);
  if (rc != CLANCE_OK)
    fprintf(stderr, "  error: %s: %s\n", clance_status_name(rc), err.message);
  CHECK(rc == CLANCE_OK);
  CHECK_STR(got, want);
  free(got);
}

/* Convert and expect failure `code` with every needle in the message. */
static void expect_error(const char *content, int in_fmt, const char *schema_spec,
                         clance_status code, const char *needle1, const char *needle2) {
  char *got = NULL;
  clance_error err;
  clance_status rc = convert_str(content, in_fmt, schema_spec, 0, CL_TEXT_JSONL, &got, &err);
  free(got);
  if (rc != code || err.code != code ||
      (needle1 && !strstr(err.message, needle1)) || (needle2 && !strstr(err.message, needle2))) {
    fprintf(stderr, "  for input %.60s\n  want %s with [%s] [%s]\n  got  %s: %s\n", content,
            clance_status_name(code), needle1 ? needle1 : "", needle2 ? needle2 : "",
            clance_status_name(rc), err.message);
    cl_test_failures++;
  }
}

/* ------------------------------------------------------------------------ */
/* Every type, canonical JSONL                                                */
/* ------------------------------------------------------------------------ */

#define SPEC_ALL                                                                                 \
  "id:int64!,b:bool,i8:int8,i16:int16,i32:int32,i64:int64,u8:uint8,u16:uint16,u32:uint32,"     \
  "u64:uint64,h:float16,f:float32,d:float64,dec:decimal128(38,3),dec0:decimal128(5,-2),"        \
  "d32:date32,d64:date64,t32:time32(ms),t64:time64(ns),ts:timestamp(us,UTC),tsn:timestamp(ns),"  \
  "dur:duration(s),fsb:fixed_size_binary(3),s:string,ls:large_string,bin:binary,"               \
  "lbin:large_binary,v:vector(float32,3),l:list(int32),ll:large_list(string),"                  \
  "st:struct(a:int32,b:list(string)),ls2:list(struct(x:float64,y:vector(float16,2)))"

/* One canonical row of SPEC_ALL from name/value pairs (NULL-terminated);
 * absent columns are null. Appended with '\n' to `b`. */
static void add_row(cl_buf *b, const cl_schema *s, const char *const *pairs) {
  clance_error err;
  for (size_t i = 0; i < s->n_fields; i++) {
    const char *v = "null";
    for (const char *const *p = pairs; *p; p += 2)
      if (!strcmp(p[0], s->fields[i].name))
        v = p[1];
    cl_buf_printf(b, &err, "%s\"%s\":%s", i ? "," : "{", s->fields[i].name, v);
  }
  cl_buf_append(b, "}\n", 2, &err);
}

static char *all_types_rows(const cl_schema *s, size_t long_len) {
  cl_buf b = CL_BUF_INIT;
  clance_error err;
  const char *r0[] = {
      "id", "0", "b", "true", "i8", "-128", "i16", "-32768", "i32", "-2147483648",
      "i64", "-9223372036854775808", "u8", "255", "u16", "65535", "u32", "4294967295",
      "u64", "18446744073709551615", "h", "65500.0", "f", "3.4028235e+38",
      "d", "1.7976931348623157e+308", "dec", "\"-99999999999999999999999999999999999.999\"",
      "dec0", "\"9999900\"", "d32", "-2147483648", "d64", "-9223372036854775808",
      "t32", "86399999", "t64", "86399999999999", "ts", "9223372036854775807",
      "tsn", "-9223372036854775808", "dur", "-5", "fsb", "\"00ff7f\"", "s", "\"\"",
      "ls", "\"\xc3\xbcn\xc3\xaf" "c\xc3\xb6" "d\xc3\xa9 \xf0\x9f\x8e\x89 \xe2\x98\x83\"",
      "bin", "\"\"", "lbin", "\"00ff\"", "v", "[1.0,-0.0,0.1]", "l", "[]",
      "ll", "[\"a\",null,\"\"]", "st", "{\"a\":1,\"b\":[\"x\"]}",
      "ls2", "[{\"x\":0.5,\"y\":[1.0,null]}]", NULL};
  const char *r1[] = {"id", "1", NULL}; /* everything else null */
  const char *r2[] = {
      "id", "2", "b", "false", "i8", "127", "i16", "32767", "i32", "2147483647",
      "i64", "9223372036854775807", "u8", "0", "u16", "0", "u32", "0", "u64", "0",
      "h", "\"NaN\"", "f", "\"Infinity\"", "d", "\"-Infinity\"", "dec", "\"0.000\"",
      "dec0", "\"0\"", "d32", "19724", "d64", "1704153600000", "t32", "0", "t64", "0",
      "ts", "0", "tsn", "0", "dur", "0", "fsb", "\"000000\"",
      "s", "\"esc \\\" \\\\ \\b \\f \\n \\r \\t \\u0000 \\u001f \x7f \xe2\x80\xa8 / , ;\"",
      "ls", "\"x\"", "bin", "\"00010203fffe\"", "lbin", "\"\"",
      "v", "[\"NaN\",\"Infinity\",\"-Infinity\"]", "l", "[1,null,-3]", "ll", "[]",
      "st", "{\"a\":null,\"b\":null}", "ls2", "[]", NULL};
  const char *r3[] = {
      "id", "3", "i8", "0", "i16", "-1", "i32", "0", "i64", "9007199254740993", "u8", "1",
      "u16", "1", "u32", "1", "u64", "9223372036854775808", "h", "6e-08", "f", "1e-45",
      "d", "5e-324", "dec", "\"0.001\"", "dec0", "\"-100\"", "d32", "-1", "d64", "-1",
      "t32", "1", "t64", "1", "ts", "-1", "tsn", "1", "dur", "9223372036854775807",
      "s", "\"line1\\nline2, with comma and \\\"quotes\\\"\"", "ls", "\" lead and trail \"",
      "ls2", "[null,{\"x\":null,\"y\":null}]", NULL};
  /* A long string, and 0.1 in every float width. */
  cl_buf longv = CL_BUF_INIT;
  cl_buf_append(&longv, "\"", 1, &err);
  for (size_t i = 0; i < long_len; i++)
    cl_buf_append(&longv, i % 1000 == 999 ? "\xc3\xa9" : &"abcdefghij"[i % 10], i % 1000 == 999 ? 2 : 1, &err);
  cl_buf_append(&longv, "\"", 1, &err);
  cl_buf_cstr(&longv, &err);
  const char *r4[] = {"id", "4", "h", "0.1", "f", "0.1", "d", "0.1", "s", (const char *)longv.data,
                      "v", "[0.33333334,16777216.0,-1.5e-07]", "ls2", "[{\"x\":-0.0,\"y\":[0.0999,-2.0]}]",
                      NULL};
  add_row(&b, s, r0);
  add_row(&b, s, r1);
  add_row(&b, s, r2);
  add_row(&b, s, r3);
  add_row(&b, s, r4);
  cl_buf_free(&longv);
  cl_buf_cstr(&b, &err);
  return (char *)cl_buf_take(&b);
}

static void test_jsonl_round_trip_all_types(void) {
  cl_schema s = spec(SPEC_ALL);
  char *rows = all_types_rows(&s, 100000);
  uint64_t sizes[] = {0, 1, 2, 3};
  for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
    char *got = NULL;
    clance_error err;
    clance_status rc = convert(rows, strlen(rows), CL_TEXT_JSONL, &s, sizes[k], CL_TEXT_JSONL, &got,
                               &err);
    if (rc)
      fprintf(stderr, "  %s\n", err.message);
    CHECK(rc == CLANCE_OK);
    CHECK(got && strcmp(got, rows) == 0);
    if (got && strcmp(got, rows) != 0) { /* show the first difference */
      size_t i = 0;
      while (got[i] && got[i] == rows[i])
        i++;
      size_t from = i > 60 ? i - 60 : 0;
      fprintf(stderr, "  differs at %zu:\n  want ...%.120s\n  got  ...%.120s\n", i, rows + from,
              got + from);
    }
    free(got);
  }
  free(rows);
  cl_schema_free(&s);
}

static void test_csv_round_trip_all_types(void) {
  cl_schema s = spec(SPEC_ALL);
  char *rows = all_types_rows(&s, 5000);
  char *csv = NULL, *back = NULL;
  clance_error err;
  CHECK_OK(convert(rows, strlen(rows), CL_TEXT_JSONL, &s, 2, CL_TEXT_CSV, &csv, &err), &err);
  REQUIRE(csv);
  size_t csv_len = g_out_len;
  CHECK(memchr(csv, '\0', csv_len) != NULL); /* the NUL of \u0000 is raw in CSV */
  CHECK(strncmp(csv, "id,b,i8,", 8) == 0);
  CHECK(strstr(csv, "\n1,,,,,,") != NULL); /* the null row */
  CHECK_OK(convert(csv, csv_len, CL_TEXT_CSV, &s, 3, CL_TEXT_JSONL, &back, &err), &err);
  CHECK(back && strcmp(back, rows) == 0);
  if (back && strcmp(back, rows) != 0) {
    size_t i = 0;
    while (back[i] && back[i] == rows[i])
      i++;
    size_t from = i > 60 ? i - 60 : 0;
    fprintf(stderr, "  differs at %zu:\n  want ...%.120s\n  got  ...%.120s\n", i, rows + from,
            back + from);
  }
  /* CSV -> CSV is stable too. */
  char *csv2 = NULL;
  CHECK_OK(convert(csv, csv_len, CL_TEXT_CSV, &s, 0, CL_TEXT_CSV, &csv2, &err), &err);
  CHECK(csv2 && g_out_len == csv_len && memcmp(csv, csv2, csv_len) == 0);
  free(csv2);
  free(csv);
  free(back);
  free(rows);
  cl_schema_free(&s);
}

/* A 17 MiB line (the limit must be at least 16 MiB). */
static void test_long_line(void) {
  cl_schema s = spec("s:string,b:binary");
  size_t n = (size_t)17 << 20;
  char *line = malloc(n + 64);
  strcpy(line, "{\"s\":\"");
  size_t k = strlen(line);
  memset(line + k, 'x', n);
  k += n;
  strcpy(line + k, "\",\"b\":\"00ff\"}\n");
  char *got = NULL;
  clance_error err;
  CHECK_OK(convert(line, strlen(line), CL_TEXT_JSONL, &s, 0, CL_TEXT_JSONL, &got, &err), &err);
  CHECK(got && strcmp(got, line) == 0);
  free(got);
  free(line);
  cl_schema_free(&s);
}

/* ------------------------------------------------------------------------ */
/* Convenience forms and canonical spellings                                  */
/* ------------------------------------------------------------------------ */

static void test_jsonl_conveniences(void) {
  /* Keys in any order, missing keys, blank lines, whitespace, CRLF. */
  expect_text("\n  {\"b\": \"x\" , \"a\" : 1}\r\n\n{}\n{\"b\":null}\n", CL_TEXT_JSONL,
              "a:int32,b:string", CL_TEXT_JSONL,
              "{\"a\":1,\"b\":\"x\"}\n{\"a\":null,\"b\":null}\n{\"a\":null,\"b\":null}\n");
  /* ISO-8601 dates and times, integers for floats, upper-case hex, numbers
   * for decimals, \u escapes with surrogate pairs. */
  expect_text("{\"ts\":\"2024-01-02T03:04:05.123456Z\",\"ts2\":\"2024-01-02T04:04:05.123456+01:00\","
              "\"tn\":\"2024-01-02 03:04:05\",\"tl\":\"1969-12-31T23:59:59.999999Z\","
              "\"d\":\"2024-01-02\",\"d64\":\"2024-01-02\",\"t\":\"01:02:03.5\","
              "\"f\":3,\"g\":-2,\"bin\":\"FFa0\",\"dec\":12.345,\"dec2\":1e2,"
              "\"s\":\"\\u00e9\\ud83c\\udf89\\/\"}\n",
              CL_TEXT_JSONL,
              "ts:timestamp(us,UTC),ts2:timestamp(us),tn:timestamp(s),tl:timestamp(us),d:date32,"
              "d64:date64,t:time32(ms),f:float32,g:float64,bin:binary,dec:decimal128(10,3),"
              "dec2:decimal128(10,3),s:string",
              CL_TEXT_JSONL,
              "{\"ts\":1704164645123456,\"ts2\":1704164645123456,\"tn\":1704164645,\"tl\":-1,"
              "\"d\":19724,\"d64\":1704153600000,\"t\":3723500,\"f\":3.0,\"g\":-2.0,"
              "\"bin\":\"ffa0\",\"dec\":\"12.345\",\"dec2\":\"100.000\","
              "\"s\":\"\xc3\xa9\xf0\x9f\x8e\x89/\"}\n");
  /* Shortest float32 / float16 forms. */
  expect_text("{\"f\":0.100000001490116,\"h\":0.0999755859375}\n"
              "{\"f\":0.333333343267,\"h\":65504}\n"
              "{\"f\":1.4e-45,\"h\":5.960464477539063e-08}\n"
              "{\"f\":16777217,\"h\":-0}\n"
              "{\"f\":340282346638528859811704183484516925440,\"h\":1e-9}\n",
              CL_TEXT_JSONL, "f:float32,h:float16", CL_TEXT_JSONL,
              "{\"f\":0.1,\"h\":0.1}\n{\"f\":0.33333334,\"h\":65500.0}\n"
              "{\"f\":1e-45,\"h\":6e-08}\n{\"f\":16777216.0,\"h\":-0.0}\n"
              "{\"f\":3.4028235e+38,\"h\":0.0}\n");
}

static void test_csv_conveniences(void) {
  /* Header in another order, BOM, CRLF, bools 1/0/TRUE, quoted newlines and
   * commas, "" empty string vs empty null, vectors as JSON text. */
  expect_text("\xEF\xBB\xBF" "s,b,v,a\r\n"
              "\"x, \"\"y\"\"\r\nz\",1,\"[1, 2.5]\",7\r\n"
              "\"\",TRUE,,\r\n"
              ",0,\"[3,4]\",-1\r\n",
              CL_TEXT_CSV, "a:int32,b:bool,s:string,v:vector(float32,2)", CL_TEXT_JSONL,
              "{\"a\":7,\"b\":true,\"s\":\"x, \\\"y\\\"\\r\\nz\",\"v\":[1.0,2.5]}\n"
              "{\"a\":null,\"b\":true,\"s\":\"\",\"v\":null}\n"
              "{\"a\":-1,\"b\":false,\"s\":null,\"v\":[3.0,4.0]}\n");
  /* Blank lines are skipped with several columns... */
  expect_text("a,b\n\n1,2\n\n", CL_TEXT_CSV, "a:int32,b:int32", CL_TEXT_JSONL,
              "{\"a\":1,\"b\":2}\n");
  /* ...but are nulls with one column (so CSV output reads back). */
  expect_text("a\n1\n\n3\n", CL_TEXT_CSV, "a:int32", CL_TEXT_JSONL,
              "{\"a\":1}\n{\"a\":null}\n{\"a\":3}\n");
  expect_text("{\"a\":1}\n{\"a\":null}\n", CL_TEXT_JSONL, "a:int32", CL_TEXT_CSV, "a\n1\n\n");
  /* A last line without a newline; NaN spellings. */
  expect_text("f,g\nnan,-inf\nInfinity,1e300", CL_TEXT_CSV, "f:float32,g:float64", CL_TEXT_JSONL,
              "{\"f\":\"NaN\",\"g\":\"-Infinity\"}\n{\"f\":\"Infinity\",\"g\":1e+300}\n");
  /* An empty input with just a header: no rows, header echoed. */
  expect_text("a,b\n", CL_TEXT_CSV, "a:int32,b:string", CL_TEXT_CSV, "a,b\n");
}

static void test_csv_output_quoting(void) {
  expect_text("{\"a\":1,\"s\":\"x, y\",\"v\":[1.0,2.5],\"b\":\"00\",\"l\":[\"q\\\"\"]}\n"
              "{\"a\":null,\"s\":\"\",\"v\":null,\"b\":\"\",\"l\":[]}\n"
              "{\"a\":3,\"s\":\" lead\",\"v\":[\"NaN\",0.0],\"b\":null,\"l\":null}\n"
              "{\"a\":4,\"s\":\"q\\\"uote\\nnl\",\"v\":[1.0,1.0],\"b\":\"ff\",\"l\":[null]}\n"
              "{\"a\":5,\"s\":\"plain text\",\"v\":[1.0,1.0],\"b\":\"ff\",\"l\":[]}\n",
              CL_TEXT_JSONL, "a:int32,s:string,v:vector(float32,2),b:binary,l:list(string)",
              CL_TEXT_CSV,
              "a,s,v,b,l\n"
              "1,\"x, y\",\"[1.0,2.5]\",00,\"[\"\"q\\\"\"\"\"]\"\n"
              ",\"\",,\"\",[]\n"
              "3,\" lead\",\"[\"\"NaN\"\",0.0]\",,\n"
              "4,\"q\"\"uote\nnl\",\"[1.0,1.0]\",ff,[null]\n"
              "5,plain text,\"[1.0,1.0]\",ff,[]\n");
  /* Header names that need quotes (the spec language cannot name them). */
  cl_schema s = spec("a:int32,c:int32");
  free(s.fields[0].name);
  free(s.fields[1].name);
  s.fields[0].name = strdup("a,b");
  s.fields[1].name = strdup("c\"d");
  const char *in = "{\"a,b\":1,\"c\\\"d\":2}\n";
  char *csv = NULL, *back = NULL;
  clance_error err;
  CHECK_OK(convert(in, strlen(in), CL_TEXT_JSONL, &s, 0, CL_TEXT_CSV, &csv, &err), &err);
  CHECK_STR(csv, "\"a,b\",\"c\"\"d\"\n1,2\n");
  if (csv)
    CHECK_OK(convert(csv, strlen(csv), CL_TEXT_CSV, &s, 0, CL_TEXT_JSONL, &back, &err), &err);
  CHECK_STR(back, in);
  free(csv);
  free(back);
  cl_schema_free(&s);
}

static void test_decimal256(void) {
  cl_schema s = spec("x:decimal128(38,2),y:decimal128(38,0)");
  s.fields[0].type = CL_TYPE_DECIMAL256;
  s.fields[0].size = 76;
  s.fields[0].scale = 10;
  s.fields[1].type = CL_TYPE_DECIMAL256;
  s.fields[1].size = 3;
  s.fields[1].scale = -3;
  const char *in =
      "{\"x\":\"-999999999999999999999999999999999999999999999999999999999999999999.9999999999\","
      "\"y\":\"-999000\"}\n"
      "{\"x\":\"123.0000000001\",\"y\":\"0\"}\n"
      "{\"x\":\"0.0000000000\",\"y\":\"1000\"}\n";
  char *got = NULL;
  clance_error err;
  CHECK_OK(convert(in, strlen(in), CL_TEXT_JSONL, &s, 0, CL_TEXT_JSONL, &got, &err), &err);
  CHECK_STR(got, in);
  free(got);
  const char *bad = "{\"x\":\"1\",\"y\":\"1000000\"}\n";
  CHECK(convert(bad, strlen(bad), CL_TEXT_JSONL, &s, 0, CL_TEXT_JSONL, &got, &err) ==
        CLANCE_ESCHEMA);
  CHECK(strstr(err.message, "column \"y\"") && strstr(err.message, "precision"));
  free(got);
  bad = "{\"x\":\"1\",\"y\":\"1001\"}\n";
  CHECK(convert(bad, strlen(bad), CL_TEXT_JSONL, &s, 0, CL_TEXT_JSONL, &got, &err) ==
        CLANCE_ESCHEMA);
  CHECK(strstr(err.message, "scale") != NULL);
  free(got);
  cl_schema_free(&s);
}

/* ------------------------------------------------------------------------ */
/* Batches, offsets, dictionaries                                             */
/* ------------------------------------------------------------------------ */

static void test_batches(void) {
  cl_schema s = spec("a:int32,l:list(string)");
  const char *in = "{\"a\":1,\"l\":[\"x\"]}\n{\"a\":2,\"l\":[]}\n{\"a\":3,\"l\":null}\n"
                   "{\"a\":4,\"l\":[\"y\",\"z\"]}\n{\"a\":5,\"l\":[\"w\"]}\n";
  char *path = put_file(in, strlen(in));
  struct ArrowArrayStream st;
  clance_error err;
  REQUIRE_OK(cl_text_reader_open(path, CL_TEXT_JSONL, &s, 2, &st, &err), &err);
  int64_t lens[4] = {-1, -1, -1, -1};
  char *out = NULL;
  size_t outn = 0;
  FILE *m = open_memstream(&out, &outn);
  for (int k = 0; k < 4; k++) {
    struct ArrowArray b;
    CHECK(st.get_next(&st, &b) == 0);
    if (!b.release) {
      lens[k] = 0;
      break;
    }
    lens[k] = b.length;
    CHECK_OK(cl_text_write_batch(m, CL_TEXT_JSONL, &s, &b, 0, &err), &err);
    b.release(&b);
  }
  fclose(m);
  CHECK(lens[0] == 2 && lens[1] == 2 && lens[2] == 1 && lens[3] == 0);
  CHECK_STR(out, in);
  struct ArrowSchema as;
  CHECK(st.get_schema(&st, &as) == 0);
  CHECK_STR(as.children[1]->format, "+l");
  as.release(&as);
  CHECK(cl_text_reader_error(&st, &err) == CLANCE_OK);
  st.release(&st);
  free(out);
  unlink(path);
  free(path);
  cl_schema_free(&s);
}

static void noop_release(struct ArrowArray *a) { (void)a; }

/* A shallow view of `src` starting `off` elements later (null_count unknown). */
static struct ArrowArray view(const struct ArrowArray *src, int64_t off) {
  struct ArrowArray v = *src;
  v.offset += off;
  v.length -= off;
  v.null_count = -1;
  v.release = noop_release;
  return v;
}

static void test_offsets(void) {
  cl_schema s = spec("s:string,l:list(int32),st:struct(a:int32,b:string),v:vector(float32,2),"
                     "b:bool,bin:large_binary,n:int16");
  const char *rows[] = {
      "{\"s\":\"r0\",\"l\":[0],\"st\":{\"a\":0,\"b\":\"b0\"},\"v\":[0.0,0.5],\"b\":true,\"bin\":\"00\",\"n\":0}\n",
      "{\"s\":null,\"l\":[1,1],\"st\":{\"a\":null,\"b\":\"b1\"},\"v\":null,\"b\":false,\"bin\":null,\"n\":null}\n",
      "{\"s\":\"r2\",\"l\":null,\"st\":{\"a\":2,\"b\":null},\"v\":[2.0,2.5],\"b\":null,\"bin\":\"0202\",\"n\":2}\n",
      "{\"s\":\"\",\"l\":[],\"st\":{\"a\":3,\"b\":\"b3\"},\"v\":[3.0,null],\"b\":true,\"bin\":\"\",\"n\":-3}\n",
      "{\"s\":\"r4\",\"l\":[4,null,4],\"st\":{\"a\":4,\"b\":\"\"},\"v\":[4.0,4.5],\"b\":false,\"bin\":\"04\",\"n\":4}\n",
      "{\"s\":\"r5\",\"l\":[5],\"st\":{\"a\":null,\"b\":null},\"v\":[5.0,5.5],\"b\":true,\"bin\":\"05\",\"n\":null}\n",
  };
  cl_buf all = CL_BUF_INIT;
  clance_error err;
  for (int i = 0; i < 6; i++)
    cl_buf_append(&all, rows[i], strlen(rows[i]), &err);
  char *path = put_file((const char *)all.data, all.len);
  struct ArrowArrayStream st;
  REQUIRE_OK(cl_text_reader_open(path, CL_TEXT_JSONL, &s, 0, &st, &err), &err);
  struct ArrowArray b;
  REQUIRE(st.get_next(&st, &b) == 0 && b.release && b.length == 6);
  /* Every column starts 2 rows later; the struct's own offset is 1 and its
   * children start 1 more row later. */
  struct ArrowArray cols[7], stkids[2], *colp[7], *stkidp[2];
  for (int c = 0; c < 7; c++) {
    cols[c] = view(b.children[c], 2);
    colp[c] = &cols[c];
  }
  cols[2] = view(b.children[2], 1);
  for (int c = 0; c < 2; c++) {
    stkids[c] = view(b.children[2]->children[c], 1);
    stkidp[c] = &stkids[c];
  }
  cols[2].children = stkidp;
  cols[2].length -= 1;
  struct ArrowArray batch = b;
  batch.children = colp;
  batch.length = 4;
  batch.release = noop_release;
  char *out = NULL;
  size_t outn = 0;
  FILE *m = open_memstream(&out, &outn);
  CHECK_OK(cl_text_write_batch(m, CL_TEXT_JSONL, &s, &batch, 0, &err), &err);
  /* And an offset on the batch itself: rows 3..4. */
  batch.offset = 1;
  batch.length = 2;
  CHECK_OK(cl_text_write_batch(m, CL_TEXT_JSONL, &s, &batch, 0, &err), &err);
  fclose(m);
  cl_buf want = CL_BUF_INIT;
  for (int i = 2; i < 6; i++)
    cl_buf_append(&want, rows[i], strlen(rows[i]), &err);
  for (int i = 3; i < 5; i++)
    cl_buf_append(&want, rows[i], strlen(rows[i]), &err);
  cl_buf_cstr(&want, &err);
  CHECK_STR(out, (const char *)want.data);
  free(out);
  /* A batch with too few rows in a column is refused. */
  batch.offset = 3;
  batch.length = 4;
  m = open_memstream(&out, &outn);
  CHECK(cl_text_write_batch(m, CL_TEXT_JSONL, &s, &batch, 0, &err) == CLANCE_EINVAL);
  fclose(m);
  free(out);
  b.release(&b);
  st.release(&st);
  cl_buf_free(&want);
  cl_buf_free(&all);
  unlink(path);
  free(path);
  cl_schema_free(&s);
}

static void test_dictionary_output(void) {
  cl_schema s = spec("k:int32,c:string");
  /* Turn column c into dictionary<int8, utf8>. */
  cl_field *c = &s.fields[1];
  cl_field value = *c;
  value.name = strdup("value");
  c->type = CL_TYPE_DICTIONARY;
  c->index_type = CL_TYPE_INT8;
  c->children = calloc(1, sizeof *c->children);
  c->children[0] = value;
  c->n_children = 1;
  clance_error err;
  cl_arr k, d;
  REQUIRE_OK(cl_arr_init(&k, &s.fields[0], &err), &err);
  REQUIRE_OK(cl_arr_init(&d, c, &err), &err);
  const char *words[] = {"red", "green, or not"};
  for (int i = 0; i < 2; i++) {
    cl_buf_append(&d.dictionary->values, words[i], strlen(words[i]), &err);
    cl_arr_push_offset(d.dictionary, d.dictionary->values.len, &err);
    cl_arr_append_valid(d.dictionary, 1, &err);
  }
  int8_t idx[] = {1, 0, -1, 1};
  for (int i = 0; i < 4; i++) {
    int32_t kv = i;
    cl_buf_append(&k.values, &kv, 4, &err);
    cl_arr_append_valid(&k, 1, &err);
    if (idx[i] < 0) {
      cl_arr_append_nulls(&d, 1, &err);
    } else {
      cl_buf_append(&d.values, &idx[i], 1, &err);
      cl_arr_append_valid(&d, 1, &err);
    }
  }
  struct ArrowArray kids[2], batch;
  REQUIRE_OK(cl_arr_export(&k, &kids[0], &err), &err);
  REQUIRE_OK(cl_arr_export(&d, &kids[1], &err), &err);
  REQUIRE_OK(cl_struct_array_export(4, kids, 2, &batch, &err), &err);
  char *out = NULL;
  size_t outn = 0;
  FILE *m = open_memstream(&out, &outn);
  CHECK_OK(cl_text_write_batch(m, CL_TEXT_JSONL, &s, &batch, 0, &err), &err);
  CHECK_OK(cl_text_write_batch(m, CL_TEXT_CSV, &s, &batch, 1, &err), &err);
  fclose(m);
  CHECK_STR(out, "{\"k\":0,\"c\":\"green, or not\"}\n{\"k\":1,\"c\":\"red\"}\n"
                 "{\"k\":2,\"c\":null}\n{\"k\":3,\"c\":\"green, or not\"}\n"
                 "k,c\n0,\"green, or not\"\n1,red\n2,\n3,\"green, or not\"\n");
  free(out);
  /* Dictionary columns cannot be read. */
  char *path = put_file("", 0);
  struct ArrowArrayStream st;
  CHECK(cl_text_reader_open(path, CL_TEXT_JSONL, &s, 0, &st, &err) == CLANCE_EUNSUPPORTED);
  CHECK(strstr(err.message, "\"c\"") != NULL);
  unlink(path);
  free(path);
  batch.release(&batch);
  cl_arr_free(&k);
  cl_arr_free(&d);
  cl_schema_free(&s);
}

/* ------------------------------------------------------------------------ */
/* Errors                                                                     */
/* ------------------------------------------------------------------------ */

/* A good line and a blank one: errors are on line 3. */
#define OKL "{\"x\":1}\n\n"
#define OKN "{\"x\":null}\n\n"

static void test_jsonl_errors(void) {
  const char *sx = "x:int32";
  expect_error(OKL "{\"x\":\"abc\"}\n", CL_TEXT_JSONL, sx, CLANCE_ESCHEMA, "line 3, column \"x\"",
               "expected int32, got string \"abc\"");
  expect_error(OKL "{\"x\":3.5}\n", CL_TEXT_JSONL, sx, CLANCE_ESCHEMA, "line 3, column \"x\"",
               "expected int32, got 3.5");
  expect_error(OKL "{\"x\":1e3}\n", CL_TEXT_JSONL, sx, CLANCE_ESCHEMA, "line 3", "1e3");
  expect_error(OKL "{\"x\":2147483648}\n", CL_TEXT_JSONL, sx, CLANCE_ESCHEMA, "line 3, column \"x\"",
               "2147483648 is out of range for int32");
  expect_error(OKL "{\"x\":300}\n", CL_TEXT_JSONL, "x:int8", CLANCE_ESCHEMA, "line 3, column \"x\"",
               "300 is out of range for int8");
  expect_error(OKL "{\"x\":-1}\n", CL_TEXT_JSONL, "x:uint8", CLANCE_ESCHEMA, "line 3, column \"x\"",
               "out of range for uint8");
  expect_error(OKL "{\"x\":18446744073709551616}\n", CL_TEXT_JSONL, "x:uint64", CLANCE_ESCHEMA,
               "line 3", "out of range for uint64");
  expect_error(OKL "{\"x\":-9223372036854775809}\n", CL_TEXT_JSONL, "x:int64", CLANCE_ESCHEMA,
               "line 3", "out of range for int64");
  expect_error(OKL "{\"x\":true}\n", CL_TEXT_JSONL, sx, CLANCE_ESCHEMA, "column \"x\"", "got true");
  expect_error(OKL "{\"x\":1}\n", CL_TEXT_JSONL, "x:bool", CLANCE_ESCHEMA, "line 1", "got 1");
  expect_error(OKL "{\"x\":1e39}\n", CL_TEXT_JSONL, "x:float32", CLANCE_ESCHEMA, "line 3",
               "out of range for float32");
  expect_error("{\"x\":70000}\n", CL_TEXT_JSONL, "x:float16", CLANCE_ESCHEMA, "line 1",
               "out of range for float16");
  expect_error(OKN "{\"x\":\"1.5\"}\n", CL_TEXT_JSONL, "x:float64", CLANCE_ESCHEMA, "line 3",
               "expected float64, got string \"1.5\"");
  /* Vectors and lists. */
  expect_error(OKN "{\"x\":[1,2]}\n", CL_TEXT_JSONL, "x:vector(float32,3)", CLANCE_ESCHEMA,
               "line 3, column \"x\"", "expected 3 items, got 2");
  expect_error(OKN "{\"x\":[1,2,3,4]}\n", CL_TEXT_JSONL, "x:vector(float32,3)", CLANCE_ESCHEMA,
               "line 3, column \"x\"", "expected 3 items, got 4");
  expect_error(OKL "{\"x\":1}\n", CL_TEXT_JSONL, "x:list(int32)", CLANCE_ESCHEMA, "line 1",
               "expected list(int32), got 1");
  expect_error(OKN "{\"x\":[1,\"a\"]}\n", CL_TEXT_JSONL, "x:list(int32)", CLANCE_ESCHEMA,
               "line 3, column \"x\"", "got string \"a\"");
  expect_error(OKN "{\"x\":{\"a\":1,\"q\":2}}\n", CL_TEXT_JSONL, "x:struct(a:int32)", CLANCE_ESCHEMA,
               "line 3, column \"x\"", "unknown struct field \"q\"");
  /* Columns. */
  expect_error(OKL "{\"x\":1,\"zz\":2}\n", CL_TEXT_JSONL, sx, CLANCE_ESCHEMA, "line 3",
               "unknown column \"zz\"");
  expect_error(OKL "{\"x\":1,\"x\":2}\n", CL_TEXT_JSONL, sx, CLANCE_ECORRUPT, "line 3, char 8",
               "duplicate key \"x\"");
  expect_error(OKL "{\"x\":null}\n", CL_TEXT_JSONL, "x:int32!", CLANCE_ESCHEMA,
               "line 3, column \"x\"", "NOT NULL");
  expect_error(OKL "{}\n", CL_TEXT_JSONL, "x:int32!", CLANCE_ESCHEMA, "line 3, column \"x\"",
               "missing value for NOT NULL column");
  expect_error(OKN "{\"x\":[1,null]}\n", CL_TEXT_JSONL, "x:list(int32!)", CLANCE_ESCHEMA,
               "line 3, column \"x\"", "NOT NULL field \"item\"");
  /* Syntax. */
  expect_error(OKN "{\"x\":\"a\xff\"}\n", CL_TEXT_JSONL, "x:string", CLANCE_ECORRUPT,
               "line 3, column \"x\", char 8", "invalid UTF-8");
  expect_error(OKN "{\"x\":\"\xc3\xa9\xc0\xaf\"}\n", CL_TEXT_JSONL, "x:string", CLANCE_ECORRUPT,
               "line 3, column \"x\", char 8", "invalid UTF-8");
  expect_error(OKN "{\"x\":\"\\ud800\"}\n", CL_TEXT_JSONL, "x:string", CLANCE_ECORRUPT, "line 3",
               "surrogate");
  expect_error(OKN "{\"x\":\"a\tb\"}\n", CL_TEXT_JSONL, "x:string", CLANCE_ECORRUPT, "line 3",
               "control character");
  expect_error(OKL "{\"x\":1\n", CL_TEXT_JSONL, sx, CLANCE_ECORRUPT, "line 3, char 7",
               "unexpected end");
  expect_error(OKL "{\"x\":01}\n", CL_TEXT_JSONL, sx, CLANCE_ECORRUPT, "line 3", "leading zeros");
  expect_error(OKL "[1]\n", CL_TEXT_JSONL, sx, CLANCE_ECORRUPT, "line 3, char 1",
               "expected a JSON object");
  expect_error(OKL "{\"x\":1} x\n", CL_TEXT_JSONL, sx, CLANCE_ECORRUPT, "line 3, char 9",
               "after the row");
  expect_error(OKN "{\"x\":NaN}\n", CL_TEXT_JSONL, "x:float64", CLANCE_ECORRUPT,
               "line 3, column \"x\", char 6", "unexpected character 'N'");
  /* Convenience types. */
  expect_error("{\"x\":\"2024-13-01\"}\n", CL_TEXT_JSONL, "x:date32", CLANCE_ESCHEMA,
               "line 1, column \"x\"", "not a valid date");
  expect_error("{\"x\":\"2023-02-29\"}\n", CL_TEXT_JSONL, "x:date32", CLANCE_ESCHEMA, "line 1",
               "not a valid date");
  expect_error("{\"x\":\"2024-01-02T03:04:05.5Z\"}\n", CL_TEXT_JSONL, "x:timestamp(s)",
               CLANCE_ESCHEMA, "line 1", "sub-second");
  expect_error("{\"x\":\"2024-01-02T25:00:00\"}\n", CL_TEXT_JSONL, "x:timestamp(s)", CLANCE_ESCHEMA,
               "line 1", "out of range");
  expect_error("{\"x\":\"3000-01-01\"}\n", CL_TEXT_JSONL, "x:timestamp(ns)", CLANCE_ESCHEMA,
               "line 1", "out of range");
  expect_error("{\"x\":1.5}\n", CL_TEXT_JSONL, "x:timestamp(s)", CLANCE_ESCHEMA, "line 1",
               "expected timestamp(s), got 1.5");
  expect_error("{\"x\":\"1.2345\"}\n", CL_TEXT_JSONL, "x:decimal128(10,3)", CLANCE_ESCHEMA,
               "line 1", "scale");
  expect_error("{\"x\":\"123456789.5\"}\n", CL_TEXT_JSONL, "x:decimal128(10,3)", CLANCE_ESCHEMA,
               "line 1", "precision");
  expect_error("{\"x\":\"1.2.3\"}\n", CL_TEXT_JSONL, "x:decimal128(10,3)", CLANCE_ESCHEMA, "line 1",
               "expected decimal128(10,3)");
  expect_error("{\"x\":\"abc\"}\n", CL_TEXT_JSONL, "x:binary", CLANCE_ESCHEMA, "line 1", "odd");
  expect_error("{\"x\":\"zz\"}\n", CL_TEXT_JSONL, "x:binary", CLANCE_ESCHEMA, "line 1", "not a hex");
  expect_error("{\"x\":\"0011\"}\n", CL_TEXT_JSONL, "x:fixed_size_binary(3)", CLANCE_ESCHEMA,
               "line 1", "fixed_size_binary(3) needs 3");
  expect_error("{\"x\":5}\n", CL_TEXT_JSONL, "x:string", CLANCE_ESCHEMA, "line 1",
               "expected string, got 5");
}

#define HDR "x,v,s\n"

static void test_csv_errors(void) {
  const char *sp = "x:int32,v:vector(float32,2),s:string";
  /* Header. */
  expect_error("x,v,q\n", CL_TEXT_CSV, sp, CLANCE_ESCHEMA, "line 1", "unknown column \"q\"");
  expect_error("x,v\n", CL_TEXT_CSV, sp, CLANCE_ESCHEMA, "line 1", "missing column \"s\"");
  expect_error("x,v,s,x\n", CL_TEXT_CSV, sp, CLANCE_ESCHEMA, "line 1", "\"x\" appears twice");
  expect_error("", CL_TEXT_CSV, sp, CLANCE_ECORRUPT, "line", "header");
  /* Quoting; the multi-line field makes physical and record lines differ. */
  expect_error(HDR "1,\"[1,2]\",ok\n2,\"[1,2]\",\"abc\n", CL_TEXT_CSV, sp, CLANCE_ECORRUPT,
               "line 3", "unterminated quoted field");
  expect_error(HDR "1,\"[1,2]\",\"two\nlines\"\nx3,\"[1,2]\",ok\n", CL_TEXT_CSV, sp, CLANCE_ESCHEMA,
               "line 4, column \"x\"", "expected int32, got \"x3\"");
  expect_error(HDR "1,\"[1,2]\",\"a\"b\n", CL_TEXT_CSV, sp, CLANCE_ECORRUPT, "line 2",
               "after a closing quote");
  expect_error(HDR "1,[1,2],a\"b\n", CL_TEXT_CSV, sp, CLANCE_ECORRUPT, "line 2",
               "quote inside an unquoted field");
  expect_error(HDR "1,\"[1,2]\"\n", CL_TEXT_CSV, sp, CLANCE_ECORRUPT, "line 2",
               "expected 3 fields, got 2");
  /* Values. */
  expect_error(HDR "1,\"[1,2]\",a\n1.5,\"[1,2]\",b\n", CL_TEXT_CSV, sp, CLANCE_ESCHEMA,
               "line 3, column \"x\"", "got \"1.5\"");
  expect_error(HDR " 1,\"[1,2]\",a\n", CL_TEXT_CSV, sp, CLANCE_ESCHEMA, "line 2, column \"x\"",
               "got \" 1\"");
  expect_error(HDR "99999999999,\"[1,2]\",a\n", CL_TEXT_CSV, sp, CLANCE_ESCHEMA,
               "line 2, column \"x\"", "out of range for int32");
  expect_error(HDR "1,\"[1,2,3]\",a\n", CL_TEXT_CSV, sp, CLANCE_ESCHEMA, "line 2, column \"v\"",
               "expected 2 items, got 3");
  expect_error(HDR "1,\"[1,2\",a\n", CL_TEXT_CSV, sp, CLANCE_ECORRUPT, "line 2, column \"v\"",
               "invalid JSON at char 5 of the cell");
  expect_error(HDR "1,\"[1,2] x\",a\n", CL_TEXT_CSV, sp, CLANCE_ECORRUPT, "line 2, column \"v\"",
               "after the value");
  expect_error(HDR "1,\"[1,2]\",a\xff\n", CL_TEXT_CSV, sp, CLANCE_ECORRUPT, "line 2, column \"s\"",
               "invalid UTF-8");
  expect_error("b\nyes\n", CL_TEXT_CSV, "b:bool", CLANCE_ESCHEMA, "line 2, column \"b\"",
               "expected bool");
  expect_error("a,b\n1,\n", CL_TEXT_CSV, "a:int32,b:string!", CLANCE_ESCHEMA,
               "line 2, column \"b\"", "NOT NULL");
  expect_error("a,b\n1,2\n3,0x10\n", CL_TEXT_CSV, "a:int32,b:float64", CLANCE_ESCHEMA,
               "line 3, column \"b\"", "expected float64");
  expect_error("a,b\n1,\"\"\n", CL_TEXT_CSV, "a:int32,b:int64", CLANCE_ESCHEMA, "line 2, column \"b\"",
               "got \"\"");
}

static void test_open_errors(void) {
  cl_schema s = spec("a:int32");
  struct ArrowArrayStream st;
  clance_error err;
  CHECK(cl_text_reader_open("/nonexistent/x.csv", CL_TEXT_CSV, &s, 0, &st, &err) ==
        CLANCE_ENOTFOUND);
  CHECK(strstr(err.message, "/nonexistent/x.csv") != NULL);
  CHECK(cl_text_reader_open("/dev/null", 99, &s, 0, &st, &err) == CLANCE_EINVAL);
  /* A stream keeps failing after an error, with the same code. */
  char *path = put_file("{\"a\":1}\n{\"a\":\"x\"}\n", 18);
  REQUIRE_OK(cl_text_reader_open(path, CL_TEXT_JSONL, &s, 0, &st, &err), &err);
  struct ArrowArray b;
  CHECK(st.get_next(&st, &b) != 0);
  CHECK(st.get_last_error(&st) && strstr(st.get_last_error(&st), "line 2"));
  CHECK(st.get_next(&st, &b) != 0);
  CHECK(cl_text_reader_error(&st, &err) == CLANCE_ESCHEMA);
  st.release(&st);
  unlink(path);
  free(path);
  CHECK(cl_text_format_from_name("jsonl") == CL_TEXT_JSONL);
  CHECK(cl_text_format_from_name("csv") == CL_TEXT_CSV);
  CHECK(cl_text_format_from_name("parquet") == -1);
  cl_schema_free(&s);
}

int main(void) {
  g_dir = cl_test_tmpdir("textio");
  if (!g_dir)
    return 1;
  RUN(test_jsonl_round_trip_all_types);
  RUN(test_csv_round_trip_all_types);
  RUN(test_long_line);
  RUN(test_jsonl_conveniences);
  RUN(test_csv_conveniences);
  RUN(test_csv_output_quoting);
  RUN(test_decimal256);
  RUN(test_batches);
  RUN(test_offsets);
  RUN(test_dictionary_output);
  RUN(test_jsonl_errors);
  RUN(test_csv_errors);
  RUN(test_open_errors);
  rmdir(g_dir);
  free(g_dir);
  TEST_MAIN_END();
}
