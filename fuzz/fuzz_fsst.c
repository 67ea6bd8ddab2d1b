/* Fuzz FSST: the first 2312 bytes are a Lance symbol table, the rest a code
 * stream. The table is tried as given (exercising validation) and repaired
 * (valid magic, flags and lengths) so that random inputs reach the decoder.
 * Checks: no crash or sanitizer report; decoding succeeds or fails with
 * CLANCE_ECORRUPT; column and single-string decoding agree; a table
 * round-trips through serialize/parse; encoding with any table round-trips. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "encoding/fsst.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_ASSERT(c)                                                \
  do {                                                                \
    if (!(c)) {                                                       \
      fprintf(stderr, "fuzz_fsst: %s:%d: %s\n", __FILE__, __LINE__, #c); \
      abort();                                                        \
    }                                                                 \
  } while (0)

static int bytes_equal(const cl_buf *a, const cl_buf *b) {
  return a->len == b->len && (a->len == 0 || memcmp(a->data, b->data, a->len) == 0);
}

static void exercise(cl_fsst_table *t, const uint8_t *in, size_t n) {
  clance_error err = {0};

  /* serialize -> parse -> serialize is stable */
  uint8_t ser[CL_FSST_TABLE_SIZE], ser2[CL_FSST_TABLE_SIZE];
  cl_fsst_table_serialize(t, ser);
  cl_fsst_table *t2 = NULL;
  FUZZ_ASSERT(cl_fsst_table_parse(ser, sizeof ser, &t2, &err) == CLANCE_OK);
  cl_fsst_table_serialize(t2, ser2);
  FUZZ_ASSERT(memcmp(ser, ser2, sizeof ser) == 0);
  cl_fsst_table_free(t2);

  /* the whole stream as one string */
  cl_buf whole = CL_BUF_INIT;
  clance_status st = cl_fsst_decode(t, in, n, &whole, &err);
  FUZZ_ASSERT(st == CLANCE_OK || st == CLANCE_ECORRUPT);
  if (st == CLANCE_OK)
    FUZZ_ASSERT(whole.len <= 8 * n);

  /* as a column of up to 5 strings, with both offset widths */
  size_t count = 1 + (n ? in[0] % 5 : 0);
  uint64_t offs64[6], oo64[6];
  uint32_t offs32[6], oo32[6];
  for (size_t i = 0; i <= count; i++) {
    offs64[i] = (uint64_t)(n * i / count);
    offs32[i] = (uint32_t)offs64[i];
  }
  cl_buf pieces = CL_BUF_INIT;
  int pieces_ok = 1;
  for (size_t i = 0; i < count && pieces_ok; i++)
    pieces_ok = cl_fsst_decode(t, in + offs64[i], (size_t)(offs64[i + 1] - offs64[i]), &pieces,
                               &err) == CLANCE_OK;
  cl_buf col = CL_BUF_INIT;
  st = cl_fsst_decode_offsets64(t, in, n, offs64, count, &col, oo64, &err);
  FUZZ_ASSERT(st == (pieces_ok ? CLANCE_OK : CLANCE_ECORRUPT));
  if (st == CLANCE_OK) {
    FUZZ_ASSERT(bytes_equal(&col, &pieces));
    FUZZ_ASSERT(oo64[0] == 0 && oo64[count] == col.len);
    for (size_t i = 0; i < count; i++)
      FUZZ_ASSERT(oo64[i] <= oo64[i + 1]);
  }
  cl_buf col32 = CL_BUF_INIT;
  st = cl_fsst_decode_offsets32(t, in, n, offs32, count, &col32, oo32, &err);
  FUZZ_ASSERT(st == (pieces_ok ? CLANCE_OK : CLANCE_ECORRUPT));
  if (st == CLANCE_OK) {
    FUZZ_ASSERT(bytes_equal(&col32, &pieces));
    for (size_t i = 0; i <= count; i++)
      FUZZ_ASSERT(oo32[i] == oo64[i]);
  }
  /* offsets out of order are refused */
  if (count >= 2 && offs64[1] > 0) {
    uint64_t bad[6];
    memcpy(bad, offs64, sizeof bad);
    bad[2] = bad[1] - 1;
    cl_buf junk = CL_BUF_INIT;
    FUZZ_ASSERT(cl_fsst_decode_offsets64(t, in, n, bad, count, &junk, oo64, &err) ==
                CLANCE_ECORRUPT);
    cl_buf_free(&junk);
  }

  /* encoding the stream bytes as data with this table round-trips */
  if (cl_fsst_table_prepare_encoder(t, &err) == CLANCE_OK) {
    cl_buf enc = CL_BUF_INIT, dec = CL_BUF_INIT;
    FUZZ_ASSERT(cl_fsst_encode(t, in, n, &enc, &err) == CLANCE_OK);
    FUZZ_ASSERT(enc.len <= 2 * n);
    FUZZ_ASSERT(cl_fsst_decode(t, enc.data, enc.len, &dec, &err) == CLANCE_OK);
    FUZZ_ASSERT(dec.len == n && (n == 0 || memcmp(dec.data, in, n) == 0));
    /* as a column of strings (the column encoder): the same bytes as
     * encoding the strings one at a time */
    cl_buf one = CL_BUF_INIT, colenc = CL_BUF_INIT;
    uint64_t eo[6];
    for (size_t i = 0; i < count; i++)
      FUZZ_ASSERT(cl_fsst_encode(t, in + offs64[i], (size_t)(offs64[i + 1] - offs64[i]), &one,
                                 &err) == CLANCE_OK);
    FUZZ_ASSERT(cl_fsst_encode_offsets64(t, in, offs64, count, &colenc, eo, &err) == CLANCE_OK);
    FUZZ_ASSERT(bytes_equal(&one, &colenc) && eo[0] == 0 && eo[count] == colenc.len);
    cl_buf_free(&one);
    cl_buf_free(&colenc);
    cl_buf_free(&enc);
    cl_buf_free(&dec);
  }

  cl_buf_free(&whole);
  cl_buf_free(&pieces);
  cl_buf_free(&col);
  cl_buf_free(&col32);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  clance_error err = {0};
  size_t tl = size < CL_FSST_TABLE_SIZE ? size : CL_FSST_TABLE_SIZE;
  /* Short inputs also serve as the code stream. */
  const uint8_t *in = size > CL_FSST_TABLE_SIZE ? data + CL_FSST_TABLE_SIZE : data;
  size_t n = size > CL_FSST_TABLE_SIZE ? size - CL_FSST_TABLE_SIZE : size;

  /* As given. */
  cl_fsst_table *t = NULL;
  clance_status st = cl_fsst_table_parse(data, tl, &t, &err);
  FUZZ_ASSERT(st == CLANCE_OK || st == CLANCE_ECORRUPT || st == CLANCE_EUNSUPPORTED);
  FUZZ_ASSERT((st == CLANCE_OK) == (t != NULL));
  if (t) {
    exercise(t, in, n);
    cl_fsst_table_free(t);
  }

  /* Repaired: magic, no unknown flags, lengths 1..8. */
  uint8_t tab[CL_FSST_TABLE_SIZE] = {0};
  memcpy(tab, data, tl);
  memcpy(tab + 4, "TSSF", 4);
  tab[3] &= 1;
  unsigned ns = tab[0];
  for (unsigned i = 0; i < ns; i++) {
    uint8_t *l = &tab[8 + 8 * ns + i];
    *l = (uint8_t)(1 + (*l & 7));
  }
  t = NULL;
  FUZZ_ASSERT(cl_fsst_table_parse(tab, sizeof tab, &t, &err) == CLANCE_OK);
  exercise(t, in, n);
  cl_fsst_table_free(t);

  /* Building a table from the stream bytes (as strings) and round-tripping. */
  if (n && size % 3 == 0) {
    size_t count = 1 + in[0] % 7;
    uint64_t offs[8], eo[8], doffs[8];
    for (size_t i = 0; i <= count; i++)
      offs[i] = (uint64_t)(n * i / count);
    FUZZ_ASSERT(cl_fsst_table_build64(in, offs, count, &t, &err) == CLANCE_OK);
    cl_buf enc = CL_BUF_INIT, dec = CL_BUF_INIT;
    FUZZ_ASSERT(cl_fsst_encode_offsets64(t, in, offs, count, &enc, eo, &err) == CLANCE_OK);
    FUZZ_ASSERT(cl_fsst_decode_offsets64(t, enc.data, enc.len, eo, count, &dec, doffs, &err) ==
                CLANCE_OK);
    FUZZ_ASSERT(dec.len == n && memcmp(dec.data, in, n) == 0);
    FUZZ_ASSERT(memcmp(doffs, offs, (count + 1) * sizeof *offs) == 0);
    cl_buf_free(&enc);
    cl_buf_free(&dec);
    cl_fsst_table_free(t);
  }
  return 0;
}
