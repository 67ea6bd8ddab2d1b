/* FSST encoder microbenchmark and output fingerprint.
 *
 *   fsst_bench [--rows N] [--repeat R]   encode MB/s on bench/gen_ipc.js-like strings
 *                                        (12..20 random [a-z0-9] bytes) and English text
 *   fsst_bench --fingerprint             one line per corpus: hash of the built table and
 *                                        of the compressed bytes and offsets (compare two
 *                                        builds to show that the output did not change)
 *
 * Pages are encoded like the 2.1 writer does: one table per 1M-string page
 * (cl_fsst_table_build32 + cl_fsst_encode_offsets32). */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "encoding/fsst.h"
#include "util/buf.h"

static uint64_t rng_state;
static uint64_t rnd(void) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return rng_state;
}

typedef struct col {
  uint8_t *data;
  uint32_t *offs;
  size_t count, len, cap;
} col;

static void col_add(col *c, const uint8_t *s, size_t n) {
  if (c->len + n > c->cap) {
    c->cap = (c->len + n) * 2 + 64;
    c->data = realloc(c->data, c->cap);
  }
  if (n)
    memcpy(c->data + c->len, s, n);
  c->len += n;
  c->offs = realloc(c->offs, (c->count + 2) * sizeof *c->offs);
  if (c->count == 0)
    c->offs[0] = 0;
  c->offs[++c->count] = (uint32_t)c->len;
}

static void col_free(col *c) {
  free(c->data);
  free(c->offs);
  memset(c, 0, sizeof *c);
}

/* Fills a column of `rows` strings of the given kind. */
static void gen(col *c, int kind, size_t rows) {
  static const char *words[] = {"the",     "of",       "and",      "people",    "time",
                                "world",   "between",  "through",  "government", "company",
                                "question", "morning", "carriage", "November",  "different"};
  static const char alpha[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  uint8_t s[1024];
  memset(c, 0, sizeof *c);
  for (size_t r = 0; r < rows; r++) {
    size_t n = 0;
    switch (kind) {
    case 0: /* the write benchmark's strings */
      n = 12 + rnd() % 9;
      for (size_t k = 0; k < n; k++)
        s[k] = (uint8_t)alpha[rnd() % 36];
      break;
    case 1: /* English-ish text */
      for (size_t k = 0, w = 3 + rnd() % 8; k < w; k++) {
        const char *x = words[rnd() % 15];
        size_t l = strlen(x);
        if (k)
          s[n++] = ' ';
        memcpy(s + n, x, l);
        n += l;
      }
      break;
    case 2: /* random bytes, short: escapes and 0xFF */
      n = rnd() % 12;
      for (size_t k = 0; k < n; k++)
        s[k] = (uint8_t)rnd();
      break;
    case 3: /* few byte values including 0 and 255, lengths 0..40 */
      n = rnd() % 41;
      for (size_t k = 0; k < n; k++) {
        static const uint8_t v[] = {0, 255, 'a', 'b', 0, 1, 254, 255};
        s[k] = v[rnd() % 8];
      }
      break;
    case 4: /* long repetitive strings */
      n = 200 + rnd() % 800;
      for (size_t k = 0; k < n; k++)
        s[k] = (uint8_t)("abcabcabdxyzxyzq"[(k + rnd() % 3) % 16]);
      break;
    default: /* empty and 1-byte strings */
      n = rnd() % 2;
      s[0] = (uint8_t)rnd();
      break;
    }
    col_add(c, s, n);
  }
}

static uint64_t fnv(uint64_t h, const void *p, size_t n) {
  const uint8_t *b = p;
  for (size_t i = 0; i < n; i++)
    h = (h ^ b[i]) * 0x100000001B3ull;
  return h;
}

/* CPU time: the machine may be shared. */
static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int die(const clance_error *err) {
  fprintf(stderr, "fsst_bench: %s\n", err->message);
  return 1;
}

static int fingerprint(void) {
  clance_error err = {0};
  for (int kind = 0; kind <= 5; kind++) {
    for (size_t rows = 1; rows <= 100000; rows *= 7) {
      rng_state = 0x9E3779B97F4A7C15ull + (uint64_t)kind * 1000003u + rows;
      col c;
      gen(&c, kind, rows);
      cl_fsst_table *t = NULL;
      if (cl_fsst_table_build32(c.data, c.offs, c.count, &t, &err))
        return die(&err);
      uint8_t tab[CL_FSST_TABLE_SIZE];
      cl_fsst_table_serialize(t, tab);
      cl_buf out = CL_BUF_INIT, one = CL_BUF_INIT;
      uint32_t *oo = malloc((c.count + 1) * sizeof *oo);
      if (cl_fsst_encode_offsets32(t, c.data, c.offs, c.count, &out, oo, &err))
        return die(&err);
      for (size_t i = 0; i < c.count; i++)
        if (cl_fsst_encode(t, c.data + c.offs[i], c.offs[i + 1] - c.offs[i], &one, &err))
          return die(&err);
      int same = one.len == out.len && (out.len == 0 || memcmp(one.data, out.data, out.len) == 0);
      printf("kind %d rows %6zu bytes %8zu table %016llx codes %8zu %016llx offs %016llx%s\n",
             kind, rows, c.len, (unsigned long long)fnv(0xCBF29CE484222325ull, tab, sizeof tab),
             out.len, (unsigned long long)fnv(0xCBF29CE484222325ull, out.data, out.len),
             (unsigned long long)fnv(0xCBF29CE484222325ull, oo, (c.count + 1) * sizeof *oo),
             same ? "" : " SINGLE-STRING MISMATCH");
      free(oo);
      cl_buf_free(&out);
      cl_buf_free(&one);
      cl_fsst_table_free(t);
      col_free(&c);
    }
  }
  return 0;
}

int main(int argc, char **argv) {
  size_t rows = 1000000;
  int repeat = 5;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--fingerprint"))
      return fingerprint();
    if (!strcmp(argv[i], "--rows") && i + 1 < argc)
      rows = (size_t)strtoull(argv[++i], NULL, 10);
    else if (!strcmp(argv[i], "--repeat") && i + 1 < argc)
      repeat = atoi(argv[++i]);
    else {
      fprintf(stderr, "usage: fsst_bench [--rows N] [--repeat R] | --fingerprint\n");
      return 2;
    }
  }
  clance_error err = {0};
  for (int kind = 0; kind <= 1; kind++) {
    rng_state = 0x1234567ull + (uint64_t)kind;
    col c;
    gen(&c, kind, rows);
    uint32_t *oo = malloc((c.count + 1) * sizeof *oo);
    cl_buf out = CL_BUF_INIT;
    double best_build = 1e9, best_enc = 1e9;
    for (int r = 0; r < repeat; r++) {
      cl_fsst_table *t = NULL;
      double t0 = now();
      if (cl_fsst_table_build32(c.data, c.offs, c.count, &t, &err))
        return die(&err);
      double t1 = now();
      cl_buf_reset(&out);
      if (cl_fsst_encode_offsets32(t, c.data, c.offs, c.count, &out, oo, &err))
        return die(&err);
      double t2 = now();
      cl_fsst_table_free(t);
      if (t1 - t0 < best_build)
        best_build = t1 - t0;
      if (t2 - t1 < best_enc)
        best_enc = t2 - t1;
    }
    printf("%-8s %zu strings, %.1f MB -> %.1f MB: build %.2f ms, encode %.1f ms = %.0f MB/s\n",
           kind ? "english" : "bench", c.count, (double)c.len / 1e6, (double)out.len / 1e6,
           best_build * 1e3, best_enc * 1e3, (double)c.len / best_enc / 1e6);
    free(oo);
    cl_buf_free(&out);
    col_free(&c);
  }
  return 0;
}
