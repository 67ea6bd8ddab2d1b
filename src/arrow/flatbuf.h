/* Just enough FlatBuffers for Arrow IPC metadata (Schema.fbs, Message.fbs,
 * File.fbs): a reader that bounds-checks every access, because IPC input is
 * untrusted, and a builder that lays buffers out back to front as the
 * FlatBuffers format requires (every offset points forward). */
#ifndef CL_ARROW_FLATBUF_H
#define CL_ARROW_FLATBUF_H

#include <stddef.h>
#include <stdint.h>

/* ------------------------------------------------------------------------ */
/* Reader. Functions return 1 = present, 0 = absent (defaults apply),        */
/* -1 = malformed; plain getters return 0 on success and -1 when malformed.  */
/* ------------------------------------------------------------------------ */

/* A table inside a flatbuffer. vt_len == 0 means "no fields" (an absent
 * table read with defaults). */
typedef struct fb_table {
  const uint8_t *buf;
  size_t len;
  size_t pos;      /* start of the table (its soffset to the vtable) */
  size_t vt;       /* start of the vtable */
  uint16_t vt_len; /* bytes of vtable */
  uint16_t tbl_len;
} fb_table;

/* A vector: n elements of elem_size bytes starting at buf + pos. */
typedef struct fb_vec {
  const uint8_t *buf;
  size_t len;
  size_t pos;
  uint32_t n;
  size_t elem_size;
} fb_vec;

/* The root table of a flatbuffer of len bytes. */
int fb_root(const uint8_t *buf, size_t len, fb_table *out);
/* A table with every field absent. */
void fb_empty(fb_table *out);

int fb_get_u8(const fb_table *t, int slot, uint8_t def, uint8_t *out);
int fb_get_i16(const fb_table *t, int slot, int16_t def, int16_t *out);
int fb_get_i32(const fb_table *t, int slot, int32_t def, int32_t *out);
int fb_get_i64(const fb_table *t, int slot, int64_t def, int64_t *out);
int fb_get_bool(const fb_table *t, int slot, int def, int *out);

/* Sub-table at `slot`; when absent *out is an empty table. */
int fb_get_table(const fb_table *t, int slot, fb_table *out);
/* Vector at `slot` with elements of elem_size bytes (4 for tables and
 * strings); when absent *out is an empty vector. */
int fb_get_vec(const fb_table *t, int slot, size_t elem_size, fb_vec *out);
/* String at `slot` (not NUL-terminated in general). */
int fb_get_str(const fb_table *t, int slot, const char **s, size_t *n);
/* Element i of a vector of tables / strings. */
int fb_vec_table(const fb_vec *v, uint32_t i, fb_table *out);
int fb_vec_str(const fb_vec *v, uint32_t i, const char **s, size_t *n);
/* Raw bytes of element i (already bounds-checked by fb_get_vec). */
static inline const uint8_t *fb_vec_at(const fb_vec *v, uint32_t i) {
  return v->buf + v->pos + (size_t)i * v->elem_size;
}

/* ------------------------------------------------------------------------ */
/* Builder                                                                    */
/* ------------------------------------------------------------------------ */

#define FB_MAX_SLOTS 16

/* Reference to a finished object: its distance from the end of the buffer. */
typedef uint32_t fb_ref;

typedef struct fb_builder {
  uint8_t *buf;
  size_t cap;
  size_t used; /* live bytes are buf[cap - used, cap) */
  size_t minalign;
  int in_table;
  size_t table_start;
  uint32_t slots[FB_MAX_SLOTS]; /* field position (as `used`), 0 = absent */
  int n_slots;
  int failed; /* out of memory, too big, or misuse; sticky */
} fb_builder;

void fb_init(fb_builder *b);
void fb_free(fb_builder *b);
/* Forget the contents but keep the allocation. */
void fb_reset(fb_builder *b);

fb_ref fb_string(fb_builder *b, const char *s, size_t n);
/* Vector of references to tables or strings. */
fb_ref fb_vec_refs(fb_builder *b, const fb_ref *refs, size_t n);
/* Vector of n structs/scalars of elem_size bytes, already laid out
 * little-endian in `data`, aligned to `align`. */
fb_ref fb_vec_raw(fb_builder *b, const void *data, size_t elem_size, size_t n, size_t align);

/* Tables: create all sub-objects first, then start, add fields, end. */
void fb_start(fb_builder *b);
void fb_add_u8(fb_builder *b, int slot, uint8_t v);
void fb_add_i16(fb_builder *b, int slot, int16_t v);
void fb_add_i32(fb_builder *b, int slot, int32_t v);
void fb_add_i64(fb_builder *b, int slot, int64_t v);
void fb_add_ref(fb_builder *b, int slot, fb_ref ref);
fb_ref fb_end(fb_builder *b);

/* Finish with `root` as the root table. On success (0) *out / *len describe
 * the flatbuffer, valid until the builder is next modified or freed. */
int fb_finish(fb_builder *b, fb_ref root, const uint8_t **out, size_t *len);

#endif
