/* page_dump: the 2.1/2.2 page layouts and encodings of Lance data files, to
 * compare what clance and the real Lance write for the same data.
 *
 *   page_dump [-v|-x] PATH...  PATH = a .lance data file or a dataset directory
 *                               (every .lance file in its data directory)
 *
 * For each column it prints the number of pages, every distinct layout +
 * encoding tree with its page count, and the bytes of its page buffers (with
 * the dictionary buffers of mini-block pages and the column metadata apart).
 * -v prints every page, -x also its encoding (a serialized Any) and the first
 * 64 bytes of each of its buffers. Internal API; a diagnostic, not part of the library. */
#include <dirent.h>
#include <stdarg.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "file/container.h"
#include "proto/pb.h"

typedef struct variant {
  char *desc;
  uint64_t pages, bytes;
} variant;

typedef struct col_sum {
  uint64_t pages, rows, bytes, dict_bytes, meta_bytes;
  variant *v;
  size_t nv;
} col_sum;

static col_sum *cols;
static size_t n_cols;
static int verbose, hexdump;

static void enc_str(const pb21_enc *e, cl_buf *o, clance_error *err);

static void put(cl_buf *o, clance_error *err, const char *fmt, ...) {
  char tmp[256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(tmp, sizeof tmp, fmt, ap);
  va_end(ap);
  cl_buf_append(o, tmp, strlen(tmp), err);
}

static void enc_str(const pb21_enc *e, cl_buf *o, clance_error *err) {
  if (!e) {
    put(o, err, "-");
    return;
  }
  switch (e->compression_case) {
  case LANCE__ENCODINGS21__COMPRESSIVE_ENCODING__COMPRESSION_FLAT:
    put(o, err, "Flat%" PRIu64, e->flat->bits_per_value);
    break;
  case LANCE__ENCODINGS21__COMPRESSIVE_ENCODING__COMPRESSION_VARIABLE:
    put(o, err, "Var(");
    enc_str(e->variable->offsets, o, err);
    put(o, err, ")");
    break;
  case LANCE__ENCODINGS21__COMPRESSIVE_ENCODING__COMPRESSION_CONSTANT: put(o, err, "Const"); break;
  case LANCE__ENCODINGS21__COMPRESSIVE_ENCODING__COMPRESSION_OUT_OF_LINE_BITPACKING:
    put(o, err, "OOLBP%" PRIu64 "(", e->out_of_line_bitpacking->uncompressed_bits_per_value);
    enc_str(e->out_of_line_bitpacking->values, o, err);
    put(o, err, ")");
    break;
  case LANCE__ENCODINGS21__COMPRESSIVE_ENCODING__COMPRESSION_INLINE_BITPACKING:
    put(o, err, "IBP%" PRIu64, e->inline_bitpacking->uncompressed_bits_per_value);
    break;
  case LANCE__ENCODINGS21__COMPRESSIVE_ENCODING__COMPRESSION_FSST:
    put(o, err, "Fsst(");
    enc_str(e->fsst->values, o, err);
    put(o, err, ")");
    break;
  case LANCE__ENCODINGS21__COMPRESSIVE_ENCODING__COMPRESSION_DICTIONARY:
    put(o, err, "Dict(");
    enc_str(e->dictionary->indices, o, err);
    put(o, err, ",");
    enc_str(e->dictionary->items, o, err);
    put(o, err, ")");
    break;
  case LANCE__ENCODINGS21__COMPRESSIVE_ENCODING__COMPRESSION_RLE:
    put(o, err, "Rle(");
    enc_str(e->rle->values, o, err);
    put(o, err, ",");
    enc_str(e->rle->run_lengths, o, err);
    put(o, err, ")");
    break;
  case LANCE__ENCODINGS21__COMPRESSIVE_ENCODING__COMPRESSION_BYTE_STREAM_SPLIT:
    put(o, err, "Bss(");
    enc_str(e->byte_stream_split->values, o, err);
    put(o, err, ")");
    break;
  case LANCE__ENCODINGS21__COMPRESSIVE_ENCODING__COMPRESSION_GENERAL: {
    const Lance__Encodings21__BufferCompression *c = e->general->compression;
    int s = c ? (int)c->scheme : 0;
    put(o, err, "General[%s%s", s == 1 ? "lz4" : s == 2 ? "zstd" : "?",
        c && c->has_level ? "" : "");
    if (c && c->has_level)
      put(o, err, ":%d", (int)c->level);
    put(o, err, "](");
    enc_str(e->general->values, o, err);
    put(o, err, ")");
    break;
  }
  case LANCE__ENCODINGS21__COMPRESSIVE_ENCODING__COMPRESSION_FIXED_SIZE_LIST:
    put(o, err, "Fsl%" PRIu64 "%s(", e->fixed_size_list->items_per_value,
        e->fixed_size_list->has_validity ? "v" : "");
    enc_str(e->fixed_size_list->values, o, err);
    put(o, err, ")");
    break;
  case LANCE__ENCODINGS21__COMPRESSIVE_ENCODING__COMPRESSION_PACKED_STRUCT: put(o, err, "Packed"); break;
  case LANCE__ENCODINGS21__COMPRESSIVE_ENCODING__COMPRESSION_VARIABLE_PACKED_STRUCT:
    put(o, err, "VarPacked");
    break;
  default: put(o, err, "?%d", (int)e->compression_case);
  }
}

static void layers_str(size_t n, const Lance__Encodings21__RepDefLayer *l, cl_buf *o,
                       clance_error *err) {
  put(o, err, " layers[");
  for (size_t i = 0; i < n; i++)
    put(o, err, "%s%d", i ? "," : "", (int)l[i]);
  put(o, err, "]");
}

/* Describe one page; *dict is the size of its dictionary buffer. */
static void page_str(const cl_page_info *p, cl_buf *o, uint64_t *dict, clance_error *err) {
  *dict = 0;
  pb_any *any = NULL;
  if (cl_pb_unpack_any(p->encoding, p->encoding_len, "lance.encodings21.PageLayout", "page", &any, err)) {
    put(o, err, "(not a 2.1 PageLayout)");
    return;
  }
  pb21_layout *l = NULL;
  if (cl_pb_unpack(&lance__encodings21__page_layout__descriptor, any->value.data, any->value.len,
                   "layout", (ProtobufCMessage **)&l, err)) {
    put(o, err, "(bad layout)");
    protobuf_c_message_free_unpacked(&any->base, NULL);
    return;
  }
  switch (l->layout_case) {
  case LANCE__ENCODINGS21__PAGE_LAYOUT__LAYOUT_MINI_BLOCK_LAYOUT: {
    const Lance__Encodings21__MiniBlockLayout *m = l->mini_block_layout;
    put(o, err, "MiniBlock%s values=", m->has_large_chunk ? "(u32)" : "");
    enc_str(m->value_compression, o, err);
    if (m->dictionary) {
      put(o, err, " dict=");
      enc_str(m->dictionary, o, err);
      if (p->n_bufs > 2)
        *dict = p->buf_sizes[2];
    }
    if (m->rep_compression) {
      put(o, err, " rep=");
      enc_str(m->rep_compression, o, err);
    }
    if (m->def_compression) {
      put(o, err, " def=");
      enc_str(m->def_compression, o, err);
    }
    layers_str(m->n_layers, m->layers, o, err);
    break;
  }
  case LANCE__ENCODINGS21__PAGE_LAYOUT__LAYOUT_FULL_ZIP_LAYOUT: {
    const Lance__Encodings21__FullZipLayout *f = l->full_zip_layout;
    put(o, err, "FullZip rep%u def%u %s%u values=", f->bits_rep, f->bits_def,
        f->details_case == LANCE__ENCODINGS21__FULL_ZIP_LAYOUT__DETAILS_BITS_PER_VALUE ? "bpv" : "bpo",
        f->details_case == LANCE__ENCODINGS21__FULL_ZIP_LAYOUT__DETAILS_BITS_PER_VALUE
            ? f->bits_per_value
            : f->bits_per_offset);
    enc_str(f->value_compression, o, err);
    layers_str(f->n_layers, f->layers, o, err);
    break;
  }
  case LANCE__ENCODINGS21__PAGE_LAYOUT__LAYOUT_CONSTANT_LAYOUT: {
    const Lance__Encodings21__ConstantLayout *c = l->constant_layout;
    put(o, err, "Constant%s", c->has_inline_value ? "(inline)" : "");
    layers_str(c->n_layers, c->layers, o, err);
    break;
  }
  case LANCE__ENCODINGS21__PAGE_LAYOUT__LAYOUT_BLOB_LAYOUT: put(o, err, "Blob"); break;
  default: put(o, err, "layout?%d", (int)l->layout_case);
  }
  protobuf_c_message_free_unpacked(&l->base, NULL);
  protobuf_c_message_free_unpacked(&any->base, NULL);
}

static int dump_file(const char *path) {
  clance_error err;
  cl_container_reader r;
  if (cl_container_open(&r, path, 0, &err)) {
    fprintf(stderr, "%s: %s\n", path, err.message);
    return 1;
  }
  if (verbose)
    printf("%s: version %d, %" PRIu64 " columns\n", path, (int)r.version, r.num_columns);
  if (r.num_columns > n_cols) {
    cols = realloc(cols, r.num_columns * sizeof *cols);
    memset(cols + n_cols, 0, (r.num_columns - n_cols) * sizeof *cols);
    n_cols = r.num_columns;
  }
  /* column metadata sizes from the offset table */
  for (uint64_t c = 0; c < r.num_columns; c++) {
    uint8_t ent[16];
    if (!cl_container_read(&r, r.cmo_start + 16 * c, 16, ent, &err))
      cols[c].meta_bytes += cl_le64(ent + 8);
    cl_column_info ci;
    if (cl_container_column(&r, c, &ci, &err)) {
      fprintf(stderr, "%s: column %" PRIu64 ": %s\n", path, c, err.message);
      continue;
    }
    for (size_t pi = 0; pi < ci.n_pages; pi++) {
      const cl_page_info *p = &ci.pages[pi];
      cl_buf d = CL_BUF_INIT;
      uint64_t dict, bytes = 0;
      page_str(p, &d, &dict, &err);
      cl_buf_cstr(&d, &err);
      for (size_t b = 0; b < p->n_bufs; b++)
        bytes += p->buf_sizes[b];
      col_sum *s = &cols[c];
      s->pages++;
      s->rows += p->length;
      s->bytes += bytes;
      s->dict_bytes += dict;
      size_t k;
      for (k = 0; k < s->nv && strcmp(s->v[k].desc, (char *)d.data); k++)
        ;
      if (k == s->nv) {
        s->v = realloc(s->v, (s->nv + 1) * sizeof *s->v);
        s->v[k].desc = strdup((char *)d.data);
        s->v[k].pages = s->v[k].bytes = 0;
        s->nv++;
      }
      s->v[k].pages++;
      s->v[k].bytes += bytes;
      if (verbose) {
        printf("  col %" PRIu64 " page %zu: rows %" PRIu64 " bufs", c, pi, p->length);
        for (size_t b = 0; b < p->n_bufs; b++)
          printf(" %" PRIu64, p->buf_sizes[b]);
        printf(" | %s\n", (char *)d.data);
        if (hexdump) {
          printf("    encoding:");
          for (size_t j = 0; j < p->encoding_len; j++)
            printf(" %02x", p->encoding[j]);
          printf("\n");
        }
        for (size_t b = 0; hexdump && b < p->n_bufs; b++) {
          uint8_t h[64];
          uint64_t hk = p->buf_sizes[b] < sizeof h ? p->buf_sizes[b] : sizeof h;
          if (cl_container_read(&r, p->buf_offsets[b], hk, h, &err))
            continue;
          printf("    buf %zu:", b);
          for (uint64_t j = 0; j < hk; j++)
            printf(" %02x", h[j]);
          printf("%s\n", hk < p->buf_sizes[b] ? " ..." : "");
        }
      }
      cl_buf_free(&d);
    }
    cl_column_info_free(&ci);
  }
  cl_container_close(&r);
  return 0;
}

static int dump_path(const char *path) {
  size_t n = strlen(path);
  if (n > 6 && !strcmp(path + n - 6, ".lance") && !cl_is_dir(path))
    return dump_file(path);
  char dir[4096];
  snprintf(dir, sizeof dir, "%s/data", path);
  struct dirent **list;
  int k = scandir(dir, &list, NULL, alphasort), rc = 0;
  if (k < 0) {
    perror(dir);
    return 1;
  }
  for (int i = 0; i < k; i++) {
    size_t m = strlen(list[i]->d_name);
    if (m > 6 && !strcmp(list[i]->d_name + m - 6, ".lance")) {
      char f[8192];
      snprintf(f, sizeof f, "%s/%s", dir, list[i]->d_name);
      rc |= dump_file(f);
    }
    free(list[i]);
  }
  free(list);
  return rc;
}

int main(int argc, char **argv) {
  int rc = 0, i = 1;
  for (; i < argc && argv[i][0] == '-'; i++) {
    if (!strcmp(argv[i], "-v"))
      verbose = 1;
    else if (!strcmp(argv[i], "-x"))
      verbose = hexdump = 1;
  }
  if (i >= argc) {
    fprintf(stderr, "usage: page_dump [-v|-x] FILE.lance|DATASET_DIR...\n");
    return 2;
  }
  for (; i < argc; i++)
    rc |= dump_path(argv[i]);
  uint64_t total = 0;
  for (size_t c = 0; c < n_cols; c++) {
    col_sum *s = &cols[c];
    printf("column %zu: %" PRIu64 " pages, %" PRIu64 " rows, %" PRIu64 " page bytes (dictionaries %" PRIu64
           "), %" PRIu64 " metadata bytes\n",
           c, s->pages, s->rows, s->bytes, s->dict_bytes, s->meta_bytes);
    for (size_t k = 0; k < s->nv; k++) {
      printf("  %5" PRIu64 " x %12" PRIu64 " B  %s\n", s->v[k].pages, s->v[k].bytes, s->v[k].desc);
      free(s->v[k].desc);
    }
    total += s->bytes + s->meta_bytes;
    free(s->v);
  }
  printf("total: %" PRIu64 " bytes of pages and column metadata\n", total);
  free(cols);
  return rc;
}
