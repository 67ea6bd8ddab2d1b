/* FSST (Fast Static Symbol Table) string compression in Lance's format.
 *
 * Lance stores one symbol table per page (pb21 Fsst.symbol_table) as a fixed
 * 2312-byte blob (file-format-2.1.md §9.7):
 *
 *   u64 LE header: bits 32..63 = 0x46535354 ("FSST"), bit 24 = compression on,
 *                  bits 16..23 = suffix_lim, bits 8..15 = terminator,
 *                  bits 0..7 = n_symbols (0..255)
 *   n_symbols slots of 8 bytes (symbol bytes in order, zero padded)
 *   n_symbols length bytes (1..8)
 *   zeros up to 2312 bytes
 *
 * A compressed string is a sequence of codes: c != 255 stands for symbol c,
 * 255 is an escape whose next byte is a literal. With bit 24 clear the strings
 * are stored as they are (lance does that for pages under 32 KiB of strings).
 *
 * Lance's decoder reads only the magic, bit 24, n_symbols, the slots and the
 * lengths; suffix_lim and terminator are encoder bookkeeping that it ignores.
 * So do we: they are parsed and written back, never used for decoding.
 *
 * Decoding matches lance code for code, including its treatment of codes at or
 * above n_symbols (they decode to nothing). It is bounded: no read outside the
 * given input, an escape without its literal is CLANCE_ECORRUPT, and the
 * output writes whole 8-byte words into slack that cl_buf reserves.
 */
#ifndef CL_ENCODING_FSST_H
#define CL_ENCODING_FSST_H

#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"
#include "util/error.h"

#define CL_FSST_TABLE_SIZE 2312u       /* 8 + 256 * 8 + 256 */
#define CL_FSST_MAGIC 0x46535354u      /* "FSST", header bits 32..63 */
#define CL_FSST_ESC 255u               /* escape code */
#define CL_FSST_MAX_SYMBOLS 255u
#define CL_FSST_MAX_SYMBOL_LEN 8u
/* Lance's writer emits a pass-through table (bit 24 = 0) when a page holds
 * fewer string bytes than this; it chooses FSST at all only when the longest
 * string has at least CL_FSST_LANCE_MIN_MAX_LEN bytes. Policy for callers. */
#define CL_FSST_LANCE_MIN_INPUT (32u * 1024u)
#define CL_FSST_LANCE_MIN_MAX_LEN 5u

typedef struct cl_fsst_table cl_fsst_table;

/* ---- tables ------------------------------------------------------------- */

/* Parse a serialized table. `len` must be exactly CL_FSST_TABLE_SIZE (lance
 * rejects any other size too). CLANCE_ECORRUPT for a wrong size, a wrong magic
 * or a symbol length outside 1..8; CLANCE_EUNSUPPORTED for unknown flag bits
 * (25..31). The result decodes only; see cl_fsst_table_prepare_encoder. */
clance_status cl_fsst_table_parse(const uint8_t *buf, size_t len, cl_fsst_table **out,
                                  clance_error *err);

/* A pass-through table (compression off, 0 symbols): what lance writes for
 * small pages. Encoding and decoding copy the bytes. */
clance_status cl_fsst_table_new_passthrough(cl_fsst_table **out, clance_error *err);

void cl_fsst_table_free(cl_fsst_table *t);

/* Write the 2312-byte Lance form (a parsed table round-trips exactly, except
 * that bytes lance ignores -- slot padding, the unused tail -- come out zero). */
void cl_fsst_table_serialize(const cl_fsst_table *t, uint8_t out[CL_FSST_TABLE_SIZE]);

/* Header bit 24: nonzero when strings are compressed. */
int cl_fsst_table_compressed(const cl_fsst_table *t);
unsigned cl_fsst_table_num_symbols(const cl_fsst_table *t);
/* Copy symbol `code` into sym (zero padded) and return its length; 0 when
 * code >= num_symbols. */
size_t cl_fsst_table_symbol(const cl_fsst_table *t, unsigned code, uint8_t sym[8]);
/* Header bookkeeping fields (informational only). */
unsigned cl_fsst_table_terminator(const cl_fsst_table *t);
unsigned cl_fsst_table_suffix_lim(const cl_fsst_table *t);

/* ---- decoding ----------------------------------------------------------- */

/* Decoding writes whole 8-byte words: bytes of `out` past its final len (up
 * to its capacity) may be overwritten. */

/* Decode one compressed string in[0..n), appending to out. For many strings
 * prefer the column functions below: they cost 1.5-2x less per string. */
clance_status cl_fsst_decode(const cl_fsst_table *t, const uint8_t *in, size_t n, cl_buf *out,
                             clance_error *err);

/* Decode a column of `count` strings: string i is in[offsets[i] .. offsets[i+1])
 * (offsets has count+1 entries, non-decreasing, at most in_len; offsets[0]
 * need not be 0). The strings are appended back to back to `out`, and
 * out_offsets (count+1 entries) receives their positions in out->data, so
 * out_offsets[0] is out->len on entry (0 for an empty buffer). Corrupt offsets,
 * an escape cut off by the end of its string, or a result that does not fit
 * the offset width are CLANCE_ECORRUPT (lance rejects the same). out_offsets
 * must not overlap offsets. */
clance_status cl_fsst_decode_offsets32(const cl_fsst_table *t, const uint8_t *in, size_t in_len,
                                       const uint32_t *offsets, size_t count, cl_buf *out,
                                       uint32_t *out_offsets, clance_error *err);
clance_status cl_fsst_decode_offsets64(const cl_fsst_table *t, const uint8_t *in, size_t in_len,
                                       const uint64_t *offsets, size_t count, cl_buf *out,
                                       uint64_t *out_offsets, clance_error *err);

/* ---- encoding ----------------------------------------------------------- */

/* Build a symbol table from a sample of the strings data[offsets[i] ..
 * offsets[i+1]), i < count, with the FSST paper's five-generation algorithm
 * (sample of ~16 KiB chosen deterministically, so equal input gives an equal
 * table). The table has compression on and up to 255 symbols, laid out like
 * lance's (2-byte codes first, then 3..8, then 1-byte), and can encode at
 * once. With no string bytes at all the result is a pass-through table
 * (offsets may be NULL when count is 0). CLANCE_EINVAL for decreasing
 * offsets. */
clance_status cl_fsst_table_build32(const uint8_t *data, const uint32_t *offsets, size_t count,
                                    cl_fsst_table **out, clance_error *err);
clance_status cl_fsst_table_build64(const uint8_t *data, const uint64_t *offsets, size_t count,
                                    cl_fsst_table **out, clance_error *err);

/* Give a parsed table the lookup structures encoding needs (~150 KiB). Built
 * tables have them already; calling it again is a no-op. */
clance_status cl_fsst_table_prepare_encoder(cl_fsst_table *t, clance_error *err);

/* Compress one string, appending at most 2*n bytes to out. CLANCE_EINVAL if
 * the table has no encoder (a parsed table not prepared). */
clance_status cl_fsst_encode(const cl_fsst_table *t, const uint8_t *in, size_t n, cl_buf *out,
                             clance_error *err);

/* Compress a column (offsets as for decoding; CLANCE_EINVAL when they are
 * decreasing or the output does not fit 32-bit offsets). out_offsets (count+1
 * entries) receives positions in out->data, starting at out->len on entry.
 * The bytes are exactly those of cl_fsst_encode on each string in turn; short
 * strings are encoded several at a time (interleaved), 2-3x faster.
 * Room for the worst case (2 bytes per input byte, plus a few) is reserved
 * in out once. */
clance_status cl_fsst_encode_offsets32(const cl_fsst_table *t, const uint8_t *data,
                                       const uint32_t *offsets, size_t count, cl_buf *out,
                                       uint32_t *out_offsets, clance_error *err);
clance_status cl_fsst_encode_offsets64(const cl_fsst_table *t, const uint8_t *data,
                                       const uint64_t *offsets, size_t count, cl_buf *out,
                                       uint64_t *out_offsets, clance_error *err);

#endif
