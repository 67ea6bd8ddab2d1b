#include "table/deletion.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arrow/array.h"
#include "arrow/ipc.h"
#include <roaring/roaring.h>
#include "io/fs.h"

char *cl_deletion_path(const char *root, const pb_fragment *f, clance_error *err) {
  const Lance__Table__DeletionFile *d = f->deletion_file;
  int bitmap = d->file_type == LANCE__TABLE__DELETION_FILE__DELETION_FILE_TYPE__BITMAP;
  char rel[128];
  snprintf(rel, sizeof rel, "_deletions/%llu-%llu-%llu.%s", (unsigned long long)f->id,
           (unsigned long long)d->read_version, (unsigned long long)d->id, bitmap ? "bin" : "arrow");
  return cl_path_join(root, rel, err);
}

void cl_deletions_free(cl_deletions *d) {
  if (d) {
    free(d->rows);
    free(d);
  }
}

static int cmp_u32(const void *a, const void *b) {
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return x < y ? -1 : x > y;
}

/* Portable Roaring bitmaps are parsed here rather than by CRoaring: the
 * Debian 12 CRoaring (0.2.66) prints to stderr on malformed input and trusts
 * header cardinalities when extracting values, and this input is untrusted.
 * The format: a cookie (12346: u32 container count follows; 12347 in the low
 * 16 bits: count-1 in the high 16 bits, then a run-container bitmap), then
 * per container (u16 key, u16 cardinality-1), then (for 12346, or 12347 with
 * at least 4 containers) u32 offsets, then the containers: run (u16 count,
 * count x (u16 start, u16 length-1)), array (cardinality x u16, at most 4096)
 * or bitset (8192 bytes). */
#define ROARING_COOKIE_NO_RUNS 12346u
#define ROARING_COOKIE_RUNS 12347u

typedef struct rd {
  const uint8_t *p;
  size_t len, pos;
} rd;

static int rd_u16(rd *r, uint16_t *v) {
  if (r->len - r->pos < 2)
    return -1;
  *v = cl_le16(r->p + r->pos);
  r->pos += 2;
  return 0;
}

static clance_status push_row(cl_deletions *d, size_t *cap, uint32_t v, clance_error *err) {
  if (d->n && v <= d->rows[d->n - 1])
    return cl_err(err, CLANCE_ECORRUPT, "values out of order");
  if (d->n == *cap) {
    *cap = *cap ? *cap * 2 : 256;
    uint32_t *p = realloc(d->rows, *cap * sizeof *p);
    if (!p)
      return cl_err_nomem(err, "deletion vector");
    d->rows = p;
  }
  d->rows[d->n++] = v;
  return CLANCE_OK;
}

static clance_status parse_bitmap(const uint8_t *data, size_t len, const char *what,
                                  cl_deletions *d, clance_error *err) {
  rd r = {data, len, 0};
  size_t cap = 0;
  if (len < 4)
    return cl_err(err, CLANCE_ECORRUPT, "%s: too short for a Roaring bitmap", what);
  uint32_t cookie = cl_le32(data), n;
  int runs = (cookie & 0xffff) == ROARING_COOKIE_RUNS;
  r.pos = 4;
  const uint8_t *run_bits = NULL;
  if (runs) {
    n = (cookie >> 16) + 1;
    size_t rb = (n + 7) / 8;
    if (len - r.pos < rb)
      goto trunc;
    run_bits = data + r.pos;
    r.pos += rb;
  } else if (cookie == ROARING_COOKIE_NO_RUNS) {
    if (len - r.pos < 4)
      goto trunc;
    n = cl_le32(data + r.pos);
    r.pos += 4;
    if (n > 65536)
      return cl_err(err, CLANCE_ECORRUPT, "%s: %u Roaring containers (at most 65536)", what, n);
  } else {
    return cl_err(err, CLANCE_ECORRUPT, "%s: not a portable Roaring bitmap (cookie %u)", what, cookie);
  }
  size_t hdr = r.pos;
  if ((len - hdr) / 4 < n)
    goto trunc;
  r.pos += 4 * (size_t)n;
  if (!runs || n >= 4) {
    if ((len - r.pos) / 4 < n)
      goto trunc;
    r.pos += 4 * (size_t)n; /* offsets: redundant with sequential reading */
  }
  int prev_key = -1;
  for (uint32_t i = 0; i < n; i++) {
    uint16_t key = cl_le16(data + hdr + 4 * i), card1 = cl_le16(data + hdr + 4 * i + 2);
    uint32_t card = (uint32_t)card1 + 1, base = (uint32_t)key << 16;
    if ((int)key <= prev_key)
      return cl_err(err, CLANCE_ECORRUPT, "%s: Roaring container keys out of order", what);
    prev_key = key;
    uint32_t got = 0;
    if (run_bits && (run_bits[i / 8] >> (i % 8)) & 1) {
      uint16_t nr;
      if (rd_u16(&r, &nr))
        goto trunc;
      for (uint32_t k = 0; k < nr; k++) {
        uint16_t start, len1;
        if (rd_u16(&r, &start) || rd_u16(&r, &len1))
          goto trunc;
        if ((uint32_t)start + len1 > 0xffff)
          return cl_err(err, CLANCE_ECORRUPT, "%s: Roaring run past its container", what);
        for (uint32_t v = start; v <= (uint32_t)start + len1; v++, got++)
          if (push_row(d, &cap, base | v, err))
            return cl_err_ctx(err, "%s: Roaring run ", what);
      }
    } else if (card <= 4096) {
      for (uint32_t k = 0; k < card; k++, got++) {
        uint16_t v;
        if (rd_u16(&r, &v))
          goto trunc;
        if (push_row(d, &cap, base | v, err))
          return cl_err_ctx(err, "%s: Roaring array ", what);
      }
    } else {
      if (len - r.pos < 8192)
        goto trunc;
      for (uint32_t v = 0; v < 65536; v++)
        if ((data[r.pos + v / 8] >> (v % 8)) & 1) {
          CL_TRY(push_row(d, &cap, base | v, err));
          got++;
        }
      r.pos += 8192;
    }
    if (got != card)
      return cl_err(err, CLANCE_ECORRUPT, "%s: Roaring container %u holds %u values, its header says %u",
                    what, i, got, card);
  }
  return CLANCE_OK;
trunc:
  return cl_err(err, CLANCE_ECORRUPT, "%s: truncated Roaring bitmap (%zu bytes)", what, len);
}

/* The .arrow form: an Arrow IPC file whose schema is exactly one non-nullable
 * uint32 column "row_id" (Lance rejects anything else, and so do we). */
static clance_status parse_arrow(const uint8_t *data, size_t len, const char *what,
                                 cl_deletions *d, clance_error *err) {
  cl_ipc_reader *r;
  CL_TRY(cl_ipc_reader_open(data, len, what, &r, err));
  const cl_schema *s = cl_ipc_reader_schema(r);
  clance_status st = CLANCE_OK;
  size_t cap = 0;
  if (s->n_fields != 1 || strcmp(s->fields[0].name, "row_id") != 0 ||
      s->fields[0].type != CL_TYPE_UINT32 || s->fields[0].nullable) {
    st = cl_err(err, CLANCE_ECORRUPT, "%s: a deletion file must hold one non-nullable uint32 "
                "column \"row_id\"", what);
    goto done;
  }
  for (;;) {
    struct ArrowArray b;
    int end = 0;
    if ((st = cl_ipc_reader_next(r, &b, &end, err)) || end)
      break;
    const struct ArrowArray *c = b.children[0];
    if (cl_array_null_count(c) > 0) {
      st = cl_err(err, CLANCE_ECORRUPT, "%s: null row ids", what);
    } else {
      const uint32_t *v = (const uint32_t *)c->buffers[1] + c->offset;
      if (d->n + (size_t)c->length > cap) {
        cap = (d->n + (size_t)c->length) * 2;
        uint32_t *p = realloc(d->rows, cap * sizeof *p);
        if (!p)
          st = cl_err_nomem(err, "deletion vector");
        else
          d->rows = p;
      }
      if (!st) {
        memcpy(d->rows + d->n, v, (size_t)c->length * sizeof *v);
        d->n += (size_t)c->length;
      }
    }
    b.release(&b);
    if (st)
      break;
  }
done:
  cl_ipc_reader_free(r);
  return st;
}

clance_status cl_deletions_parse(const uint8_t *data, size_t len, int bitmap, const char *what,
                                 cl_deletions **out, clance_error *err) {
  *out = NULL;
  cl_deletions *d = cl_calloc(1, sizeof *d, err);
  if (!d)
    return err->code;
  clance_status st;
  if (bitmap)
    st = parse_bitmap(data, len, what, d, err);
  else
    st = parse_arrow(data, len, what, d, err);
  if (st) {
    cl_deletions_free(d);
    return st;
  }
  /* Lance does not promise an order for .arrow files; sort and reject duplicates. */
  if (d->n > 1)
    qsort(d->rows, d->n, sizeof *d->rows, cmp_u32);
  for (size_t i = 1; i < d->n; i++)
    if (d->rows[i] == d->rows[i - 1]) {
      uint32_t row = d->rows[i];
      cl_deletions_free(d);
      return cl_err(err, CLANCE_ECORRUPT, "%s: row %u is deleted twice", what, row);
    }
  *out = d;
  return CLANCE_OK;
}

clance_status cl_deletions_load(const char *root, const pb_fragment *f, cl_deletions **out,
                                clance_error *err) {
  *out = NULL;
  const Lance__Table__DeletionFile *df = f->deletion_file;
  if (df->has_base_id)
    return cl_err(err, CLANCE_EUNSUPPORTED, "deletion file of fragment %llu lives in a base path",
                  (unsigned long long)f->id);
  char *p = cl_deletion_path(root, f, err);
  if (!p)
    return err->code;
  cl_buf b = CL_BUF_INIT;
  clance_status st = cl_file_read_all(p, (size_t)1 << 32, &b, err);
  if (!st)
    st = cl_deletions_parse(b.data ? b.data : (const uint8_t *)"", b.len,
                            df->file_type == LANCE__TABLE__DELETION_FILE__DELETION_FILE_TYPE__BITMAP,
                            p, out, err);
  cl_buf_free(&b);
  if (!st && df->num_deleted_rows && (*out)->n != df->num_deleted_rows)
    st = cl_err(err, CLANCE_ECORRUPT, "%s: holds %zu rows but the manifest says %llu are deleted", p,
                (*out)->n, (unsigned long long)df->num_deleted_rows);
  if (!st && f->physical_rows && (*out)->n && (*out)->rows[(*out)->n - 1] >= f->physical_rows)
    st = cl_err(err, CLANCE_ECORRUPT, "%s: deletes row %u of a fragment with %llu rows", p,
                (*out)->rows[(*out)->n - 1], (unsigned long long)f->physical_rows);
  if (st) {
    cl_deletions_free(*out);
    *out = NULL;
  }
  free(p);
  return st;
}

/* Index of the first deleted row >= row. */
static size_t lower_bound(const cl_deletions *d, uint64_t row) {
  size_t lo = 0, hi = d->n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (d->rows[mid] < row)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

int cl_deletions_contains(const cl_deletions *d, uint64_t row) {
  size_t i = lower_bound(d, row);
  return i < d->n && d->rows[i] == row;
}

uint64_t cl_deletions_run_end(const cl_deletions *d, uint64_t row, uint64_t limit) {
  size_t i = lower_bound(d, row);
  uint64_t end;
  if (i < d->n && d->rows[i] == row) {
    end = row;
    while (i < d->n && d->rows[i] == end && end < limit) {
      end++;
      i++;
    }
  } else {
    end = i < d->n ? d->rows[i] : limit;
  }
  return end < limit ? end : limit;
}

/* ---- writing ---- */

/* Lance keeps a deletion vector as a set up to this many rows (written as
 * .arrow), as a Roaring bitmap beyond (written as .bin). */
#define ARROW_DELETION_MAX 5000

clance_status cl_rows_union(const uint32_t *a, size_t na, const uint32_t *b, size_t nb,
                            uint32_t **out, size_t *n, clance_error *err) {
  *out = cl_malloc((na + nb ? na + nb : 1) * sizeof **out, err);
  *n = 0;
  if (!*out)
    return err->code;
  size_t i = 0, j = 0;
  while (i < na || j < nb) {
    uint32_t v = j >= nb || (i < na && a[i] <= b[j]) ? a[i] : b[j];
    if (i < na && a[i] == v)
      i++;
    if (j < nb && b[j] == v)
      j++;
    (*out)[(*n)++] = v;
  }
  return CLANCE_OK;
}

static clance_status arrow_bytes(const uint32_t *rows, size_t n, cl_buf *out, clance_error *err) {
  cl_schema s;
  CL_TRY(cl_schema_parse_spec("row_id:uint32!", &s, err));
  cl_arr a;
  clance_status st = cl_arr_init(&a, &s.fields[0], err);
  struct ArrowArray col, batch;
  memset(&batch, 0, sizeof batch);
  if (!st)
    st = cl_buf_append(&a.values, rows, n * sizeof *rows, err);
  if (!st)
    st = cl_arr_append_valid(&a, (int64_t)n, err);
  if (!st)
    st = cl_arr_export(&a, &col, err);
  if (!st)
    st = cl_struct_array_export((int64_t)n, &col, 1, &batch, err);
  /* Lance compresses the body with zstd; readers take either. */
  if (!st)
    st = cl_ipc_write(&s, &batch, 1, 1, CL_IPC_COMPRESSION_ZSTD, out, err);
  if (batch.release)
    batch.release(&batch);
  cl_arr_free(&a);
  cl_schema_free(&s);
  return st;
}

static clance_status bitmap_bytes(const uint32_t *rows, size_t n, cl_buf *out, clance_error *err) {
  roaring_bitmap_t *bm = roaring_bitmap_of_ptr(n, rows);
  if (!bm)
    return cl_err_nomem(err, "deletion bitmap");
  /* No run containers: every reader of portable bitmaps takes array and
   * bitset containers (cookie 12346). */
  size_t len = roaring_bitmap_portable_size_in_bytes(bm);
  clance_status st = cl_buf_reserve(out, len, err);
  if (!st) {
    roaring_bitmap_portable_serialize(bm, (char *)out->data + out->len);
    out->len += len;
  }
  roaring_bitmap_free(bm);
  return st;
}

clance_status cl_deletions_write(const char *root, uint64_t frag_id, uint64_t read_version,
                                 const uint32_t *rows, size_t n,
                                 Lance__Table__DeletionFile **out, clance_error *err) {
  return cl_deletions_write_as(root, frag_id, read_version, rows, n, n > ARROW_DELETION_MAX, out,
                               err);
}

clance_status cl_deletions_write_as(const char *root, uint64_t frag_id, uint64_t read_version,
                                    const uint32_t *rows, size_t n, int bitmap,
                                    Lance__Table__DeletionFile **out, clance_error *err) {
  *out = NULL;
  if (n == 0)
    return cl_err(err, CLANCE_EINTERNAL, "an empty deletion vector is never written");
  cl_buf b = CL_BUF_INIT;
  Lance__Table__DeletionFile *d = NULL;
  char *dir = NULL, *path = NULL;
  clance_status st = bitmap ? bitmap_bytes(rows, n, &b, err) : arrow_bytes(rows, n, &b, err);
  if (st)
    goto fail;
  if (!(d = cl_calloc(1, sizeof *d, err))) {
    st = err->code;
    goto fail;
  }
  lance__table__deletion_file__init(d);
  d->has_file_type = 1;
  d->file_type = bitmap ? LANCE__TABLE__DELETION_FILE__DELETION_FILE_TYPE__BITMAP
                        : LANCE__TABLE__DELETION_FILE__DELETION_FILE_TYPE__ARROW_ARRAY;
  d->has_read_version = 1;
  d->read_version = read_version;
  d->has_num_deleted_rows = 1;
  d->num_deleted_rows = n;
  d->has_id = 1;
  CL_CHECK(st, cl_random_bytes(&d->id, sizeof d->id, err));
  if (!(dir = cl_path_join(root, "_deletions", err))) {
    st = err->code;
    goto fail;
  }
  CL_CHECK(st, cl_mkdirs(dir, err));
  pb_fragment probe = LANCE__TABLE__DATA_FRAGMENT__INIT;
  probe.id = frag_id;
  probe.deletion_file = d;
  if (!(path = cl_deletion_path(root, &probe, err))) {
    st = err->code;
    goto fail;
  }
  CL_CHECK(st, cl_put_new(path, b.data, b.len, 1, err));
  *out = d;
  d = NULL;
fail:
  if (d)
    protobuf_c_message_free_unpacked(&d->base, NULL);
  free(path);
  free(dir);
  cl_buf_free(&b);
  return st;
}
