/* Data file writer. The file's columns are planned from the schema (one
 * per leaf, found through its structs; in 2.0 also a header column per
 * struct; a list column is one column). Rows are gathered per column into
 * pages, cut at page_bytes even inside a large batch. By default a page is
 * a list of slices of the input batches, used in place (the writer keeps a
 * reference to each batch): 2.0 pages and 2.1+ full-zip vector pages write
 * those bytes straight from the input, other 2.1+ pages copy them once,
 * into the array the encoder reads. A column whose slices hold too many
 * batches (or too many slices), every list column, and every column written
 * from borrowed batches, copies its rows into an accumulator instead;
 * either way the page is cut at the same row, so the bytes written are the
 * same. Single-threaded, the page is encoded and
 * written on the spot. With a pool, the full page is swapped for an empty
 * one and handed to a worker as a job; jobs are queued in the order they
 * were cut, and whichever worker finds the oldest jobs encoded writes them,
 * so pages reach the file in exactly the single-threaded order (the files
 * are byte for byte the same) while the caller keeps appending and I/O
 * overlaps encoding. The bytes held by queued jobs are bounded: the caller
 * waits when they exceed half the buffer budget; the input batches held by
 * open pages are bounded by the other half. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "encoding/encode.h"
#include "file/file.h"
#include "proto/fields.h"
#include "util/pool.h"

#define DEFAULT_BUFFER_BYTES (256ull << 20)
#define MIN_PAGE_BYTES (64u << 10)
/* A page of more slices than this is copied instead (tiny batches). */
#define MAX_PAGE_SLICES 1024

/* The rows of a page kept in place: slices of input batches, each holding a
 * reference to its batch, and their totals. */
typedef struct seg_list {
  cl_seg *segs;
  cl_shared **owners;
  size_t n, cap;
  int64_t length;
  cl_rows_stats totals;
} seg_list;

/* An input batch the writer holds while slices of it are in pages. */
typedef struct held_batch {
  cl_shared *s;
  uint64_t bytes;
} held_batch;

/* A data file of the writer: being written (cur), or finished or being
 * finished by its footer job and not yet collected. */
struct cl_written_file {
  struct cl_written_file *next;
  cl_container_writer c;
  char *path;
  uint64_t rows;
  uint64_t pos;  /* bytes written (under mu with a pool) */
  int done;      /* the footer is written (size) or the file removed (st, err) */
  uint64_t size;
  clance_status st;
  clance_error err;
};
typedef struct cl_written_file file_slot;

/* What a 2.1+ page of a column is encoded in: an array its rows kept in
 * place are copied into for the encoder, and the encoder's working buffers.
 * Idle ones are kept per column for the next page (at most as many as that
 * column's pages being encoded at once, usually one), so that pages are not
 * encoded in fresh memory. */
typedef struct enc_scratch {
  struct enc_scratch *next;
  cl_arr acc;
  cl_enc21_scratch e;
} enc_scratch;

typedef struct page_job {
  struct page_job *next;
  struct cl_file_writer *w;
  file_slot *file; /* where the page goes */
  int footer;      /* instead: finish `file` with descriptor fd */
  cl_buf fd;
  size_t col;
  cl_arr acc;        /* the page's rows when copied; else scratch for 2.1+ */
  seg_list rows;     /* the page's rows in place (in_place) */
  int in_place;
  uint64_t first_row;
  cl_page_enc page;
  cl_buf sdef;       /* the page's null structs (2.1+), when sdef_any */
  int sdef_any;
  uint64_t cost; /* bytes counted against the budget while queued */
  int done;
  clance_status st;
  clance_error err;
} page_job;

/* One column of the file: a leaf field, whose rows are found through the
 * struct children on `path` (depth structs, then the leaf), or, in 2.0, a
 * struct's header column (one SimpleStruct page per file, added with the
 * footer). */
typedef struct col_plan {
  const cl_field *f;
  int header;
  int list; /* a list column (2.1+, top level): its rows always copied */
  uint32_t depth;
  uint32_t path[CL_MAX_STRUCT_DEPTH + 1];
} col_plan;

struct cl_file_writer {
  col_plan *cols;       /* the file's columns, in order (pre-order of the fields) */
  size_t n_cols;
  file_slot *cur;       /* the file being written, NULL when idle */
  file_slot *finishing; /* finished files not yet collected (under mu) */
  cl_file_writer_opts opts;
  cl_schema schema;
  cl_arr *acc;          /* per column: the open page's rows when copied */
  seg_list *pages;      /* per column: the open page's rows in place */
  unsigned char *copied; /* per column: the open page is in acc */
  uint64_t *page_start; /* first row of the page being accumulated */
  cl_buf *sdef;         /* per column under structs (2.1+): for each open-page row, the
                         * layer of its outermost null struct (1 = innermost), or 0 */
  unsigned char *sdef_any; /* per column: some open-page row has a null struct */
  enc_scratch **scratch; /* per column: idle scratch (under mu with a pool) */
  held_batch *held;     /* batches slices point into (caller's thread only) */
  size_t n_held, cap_held;
  uint64_t retained;    /* their bytes */
  uint64_t rows;
  cl_page_enc page;
  /* pipelined mode (opts.pool != NULL); all below under mu */
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int sync_init;
  page_job *head, *tail; /* queued, in page order */
  page_job **spare;      /* per column: finished jobs to reuse */
  int writing;           /* a worker is writing jobs at the head */
  uint64_t inflight, inflight_limit;
  uint64_t n_queued;     /* jobs in the queue */
  clance_status failed;
  clance_error ferr;
};

void cl_file_layout_free(cl_file_layout *l) {
  free(l->field_ids);
  free(l->column_indices);
  l->field_ids = l->column_indices = NULL;
  l->n = 0;
}

/* Plain structs (not packed, with children) are written as their leaves,
 * at most CL_MAX_STRUCT_DEPTH deep. */
static int is_plain_struct(const cl_field *f) {
  return f->type == CL_TYPE_STRUCT && f->n_children > 0 && !cl_field_is_packed(f);
}

static clance_status check_writable(const cl_field *f, cl_file_version v, uint32_t depth,
                                    clance_error *err) {
  if (is_plain_struct(f) && depth < CL_MAX_STRUCT_DEPTH) {
    for (size_t k = 0; k < f->n_children; k++)
      CL_TRY(check_writable(&f->children[k], v, depth + 1, err));
    return CLANCE_OK;
  }
  if (cl_encode_supported_leaf(f))
    return CLANCE_OK;
  if (depth == 0 && cl_encode21_list_supported(f)) {
    if (v == CL_FILE_V2_0)
      return cl_err(err, CLANCE_EUNSUPPORTED, "column \"%s\": clance writes list columns in file "
                    "format 2.1 or later only (not 2.0) so far", f->name);
    return CLANCE_OK;
  }
  cl_buf t = CL_BUF_INIT;
  const char *ts = "?";
  if (!cl_field_type_spec(f, &t, err) && !cl_buf_cstr(&t, err))
    ts = (const char *)t.data;
  clance_status st = cl_err(err, CLANCE_EUNSUPPORTED, "column \"%s\": writing type %s is not supported yet",
                            f->name, ts);
  cl_buf_free(&t);
  return st;
}

clance_status cl_file_check_writable(const cl_schema *schema, cl_file_version v, clance_error *err) {
  for (size_t i = 0; i < schema->n_fields; i++)
    CL_TRY(check_writable(&schema->fields[i], v, 0, err));
  return CLANCE_OK;
}

/* The file's columns in pre-order: every leaf; in 2.0 also a header
 * column before the children of each struct. */
static clance_status plan_add(cl_file_writer *w, const cl_field *f, uint32_t *path, uint32_t depth,
                              size_t *cap, clance_error *err) {
  int st_node = is_plain_struct(f);
  if (!st_node || w->opts.version == CL_FILE_V2_0) {
    if (w->n_cols == *cap) {
      size_t nc = *cap ? 2 * *cap : 8;
      col_plan *c = realloc(w->cols, nc * sizeof *c);
      if (!c)
        return cl_err_nomem(err, "file columns");
      w->cols = c;
      *cap = nc;
    }
    col_plan *c = &w->cols[w->n_cols++];
    memset(c, 0, sizeof *c);
    c->f = f;
    c->header = st_node;
    c->list = f->type == CL_TYPE_LIST || f->type == CL_TYPE_LARGE_LIST; /* (2.1+: checked) */
    c->depth = depth;
    memcpy(c->path, path, (depth + 1) * sizeof *path);
  }
  if (st_node)
    for (size_t k = 0; k < f->n_children; k++) {
      path[depth + 1] = (uint32_t)k;
      CL_TRY(plan_add(w, &f->children[k], path, depth + 1, cap, err));
    }
  return CLANCE_OK;
}

static clance_status plan_columns(cl_file_writer *w, clance_error *err) {
  uint32_t path[CL_MAX_STRUCT_DEPTH + 1];
  size_t cap = 0;
  for (size_t i = 0; i < w->schema.n_fields; i++) {
    path[0] = (uint32_t)i;
    CL_TRY(plan_add(w, &w->schema.fields[i], path, 0, &cap, err));
  }
  return CLANCE_OK;
}

/* Column i's leaf array in batch b, and the row of it that batch row 0 is
 * (the offsets of the batch and of the structs above it; the leaf's own
 * offset is added by whoever reads it). With `sv`, also each struct above
 * the leaf, outermost first: its validity (NULL: all valid) and the bit of
 * batch row 0 in it. */
typedef struct struct_validity {
  const uint8_t *bits;
  int64_t at;
} struct_validity;

static const struct ArrowArray *col_array(const cl_file_writer *w, size_t i, const struct ArrowArray *b,
                                          int64_t *base, struct_validity *sv) {
  const col_plan *c = &w->cols[i];
  const struct ArrowArray *a = b;
  int64_t off = b->offset;
  for (uint32_t k = 0; k <= c->depth; k++) {
    a = a->children[c->path[k]];
    if (k < c->depth) {
      if (sv) {
        sv[k].bits = cl_array_validity(a);
        sv[k].at = a->offset + off;
      }
      off += a->offset;
    }
  }
  *base = off;
  return a;
}

/* 2.0: the header page of every struct column of file `fs`. */
static clance_status add_struct_headers(cl_file_writer *w, file_slot *fs, clance_error *err) {
  clance_status st = CLANCE_OK;
  cl_page_enc p;
  memset(&p, 0, sizeof p);
  for (size_t i = 0; i < w->n_cols && !st; i++)
    if (w->cols[i].header) {
      st = cl_encode20_struct_header(fs->rows, &p, err);
      if (!st)
        st = cl_container_add_page(&fs->c, i, &p, err);
    }
  cl_page_enc_free(&p);
  return st;
}

/* ---- pages kept in place ---- */

static void seg_release(seg_list *l) {
  for (size_t k = 0; k < l->n; k++)
    cl_shared_unref(l->owners[k]);
  l->n = 0;
  l->length = 0;
  memset(&l->totals, 0, sizeof l->totals);
}

static void seg_free(seg_list *l) {
  seg_release(l);
  free(l->segs);
  free(l->owners);
  memset(l, 0, sizeof *l);
}

static clance_status seg_push(seg_list *l, const cl_field *f, cl_shared *owner,
                              const struct ArrowArray *a, int64_t start, int64_t n,
                              clance_error *err) {
  if (l->n == l->cap) {
    size_t cap = l->cap ? 2 * l->cap : 16;
    cl_seg *ns = realloc(l->segs, cap * sizeof *ns);
    if (!ns)
      return cl_err_nomem(err, "page slices");
    l->segs = ns;
    cl_shared **no = realloc(l->owners, cap * sizeof *no);
    if (!no)
      return cl_err_nomem(err, "page slices");
    l->owners = no;
    l->cap = cap;
  }
  cl_rows_stats st;
  cl_array_rows_stats(f, a, start, n, &st);
  l->segs[l->n].a = a;
  l->segs[l->n].start = start;
  l->segs[l->n].n = n;
  l->owners[l->n] = owner;
  cl_shared_ref(owner);
  l->n++;
  l->length += n;
  l->totals.nulls += st.nulls;
  l->totals.item_nulls += st.item_nulls;
  l->totals.var_bytes += st.var_bytes;
  return CLANCE_OK;
}

/* Copy the slices' rows into `acc` (empty) and let go of the slices. The
 * accumulator must come out exactly as large as the slices were counted:
 * page cuts depend on it. */
static clance_status seg_copy(seg_list *l, const cl_field *f, cl_arr *acc, clance_error *err) {
  uint64_t want = cl_arr_nbytes_of(f, l->length, &l->totals);
  for (size_t k = 0; k < l->n; k++)
    CL_TRY(cl_arr_append_from(acc, l->segs[k].a, l->segs[k].start, l->segs[k].n, err));
  if (cl_arr_nbytes(acc) != want || acc->length != l->length)
    return cl_err(err, CLANCE_EINTERNAL, "column \"%s\": copied page holds %zu bytes, counted %llu",
                  f->name, cl_arr_nbytes(acc), (unsigned long long)want);
  seg_release(l);
  return CLANCE_OK;
}

static void scratch_free(enc_scratch *sc) {
  cl_arr_free(&sc->acc);
  cl_enc21_scratch_free(&sc->e);
  free(sc);
}

static void job_free(page_job *j) {
  cl_arr_free(&j->acc);
  cl_buf_free(&j->sdef);
  seg_free(&j->rows);
  cl_page_enc_free(&j->page);
  free(j);
}

/* Wait until every queued job is written or dropped (pipelined mode). */
static void drain(cl_file_writer *w) {
  if (!w->opts.pool || !w->sync_init)
    return;
  pthread_mutex_lock(&w->mu);
  while (w->head || w->writing) /* the last page leaves the queue before it is written */
    pthread_cond_wait(&w->cv, &w->mu);
  pthread_mutex_unlock(&w->mu);
}

static void writer_free(cl_file_writer *w) {
  drain(w);
  for (size_t i = 0; w->spare && i < w->n_cols; i++)
    for (page_job *j = w->spare[i], *nx; j; j = nx) {
      nx = j->next;
      job_free(j);
    }
  free(w->spare);
  if (w->sync_init) {
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
  }
  for (size_t i = 0; w->acc && i < w->n_cols; i++)
    cl_arr_free(&w->acc[i]);
  for (size_t i = 0; w->pages && i < w->n_cols; i++)
    seg_free(&w->pages[i]);
  for (size_t k = 0; k < w->n_held; k++)
    cl_shared_unref(w->held[k].s);
  free(w->held);
  for (size_t i = 0; w->scratch && i < w->n_cols; i++)
    while (w->scratch[i]) {
      enc_scratch *sc = w->scratch[i];
      w->scratch[i] = sc->next;
      scratch_free(sc);
    }
  free(w->scratch);
  for (size_t i = 0; w->sdef && i < w->n_cols; i++)
    cl_buf_free(&w->sdef[i]);
  free(w->sdef);
  free(w->sdef_any);
  free(w->acc);
  free(w->pages);
  free(w->copied);
  free(w->page_start);
  cl_schema_free(&w->schema);
  free(w->cols);
  cl_page_enc_free(&w->page);
  if (w->cur) {
    cl_container_abort(&w->cur->c);
    free(w->cur->path);
    free(w->cur);
  }
  while (w->finishing) { /* (done: drained above) */
    file_slot *f = w->finishing;
    w->finishing = f->next;
    free(f->path);
    free(f);
  }
  free(w);
}

clance_status cl_file_writer_open(const char *path, const cl_schema *schema,
                                  const cl_file_writer_opts *opts, cl_file_writer **out,
                                  clance_error *err) {
  *out = NULL;
  CL_TRY(cl_file_check_writable(schema, opts->version, err));
  cl_file_writer *w = cl_calloc(1, sizeof *w, err);
  if (!w)
    return err->code;
  w->opts = *opts;
  if (!w->opts.page_bytes)
    w->opts.page_bytes = 8u << 20;
  clance_status st;
  CL_CHECK(st, cl_schema_copy(schema, &w->schema, err));
  CL_CHECK(st, plan_columns(w, err));
  size_t n = w->n_cols;
  /* Memory: the accumulators get half the budget, queued pages the other
   * half. Pages shrink (not below 64 KiB) when there are many columns; this
   * depends on the schema and budget only, never on the thread count. */
  uint64_t budget = w->opts.max_buffer_bytes ? w->opts.max_buffer_bytes : DEFAULT_BUFFER_BYTES;
  if (n && w->opts.page_bytes > budget / 2 / n) {
    uint64_t fit = budget / 2 / n > MIN_PAGE_BYTES ? budget / 2 / n : MIN_PAGE_BYTES;
    if (fit < w->opts.page_bytes) /* (never above what the caller asked for) */
      w->opts.page_bytes = fit;
  }
  w->inflight_limit = budget / 2;
  if (w->opts.pool) {
    if (!(w->spare = cl_calloc(n ? n : 1, sizeof *w->spare, err))) {
      st = err->code;
      goto fail;
    }
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    w->sync_init = 1;
  }
  w->acc = cl_calloc(n ? n : 1, sizeof *w->acc, err);
  w->pages = cl_calloc(n ? n : 1, sizeof *w->pages, err);
  w->copied = cl_calloc(n ? n : 1, 1, err);
  w->scratch = cl_calloc(n ? n : 1, sizeof *w->scratch, err);
  w->page_start = cl_calloc(n ? n : 1, sizeof *w->page_start, err);
  w->sdef = cl_calloc(n ? n : 1, sizeof *w->sdef, err);
  w->sdef_any = cl_calloc(n ? n : 1, 1, err);
  if (!w->acc || !w->pages || !w->copied || !w->scratch || !w->page_start || !w->sdef ||
      !w->sdef_any) {
    st = err->code;
    goto fail;
  }
  for (size_t i = 0; i < n; i++)
    if (!w->cols[i].header)
      CL_CHECK(st, cl_arr_init(&w->acc[i], w->cols[i].f, err));
  CL_CHECK(st, cl_file_writer_reopen(w, path, err));
  *out = w;
  return CLANCE_OK;
fail:
  writer_free(w);
  return st;
}

/* Rows and bytes of column i's open page. */
static int64_t open_rows(const cl_file_writer *w, size_t i) {
  return w->acc[i].length + w->pages[i].length;
}

static uint64_t open_bytes(const cl_file_writer *w, size_t i) {
  if (w->cols[i].header)
    return 0;
  if (w->copied[i])
    return cl_arr_nbytes(&w->acc[i]);
  return cl_arr_nbytes_of(w->cols[i].f, w->pages[i].length, &w->pages[i].totals);
}

static enc_scratch *scratch_get(cl_file_writer *w, size_t i, clance_error *err) {
  if (w->opts.pool)
    pthread_mutex_lock(&w->mu);
  enc_scratch *sc = w->scratch[i];
  if (sc)
    w->scratch[i] = sc->next;
  if (w->opts.pool)
    pthread_mutex_unlock(&w->mu);
  if (sc)
    return sc;
  if (!(sc = cl_calloc(1, sizeof *sc, err)))
    return NULL;
  if (cl_arr_init(&sc->acc, w->cols[i].f, err)) {
    scratch_free(sc);
    return NULL;
  }
  return sc;
}

static void scratch_put(cl_file_writer *w, size_t i, enc_scratch *sc) {
  cl_arr_reset(&sc->acc);
  if (w->opts.pool)
    pthread_mutex_lock(&w->mu);
  sc->next = w->scratch[i];
  w->scratch[i] = sc;
  if (w->opts.pool)
    pthread_mutex_unlock(&w->mu);
}

/* Encode a page: its rows are `acc` (copied) or `rows` (in place). 2.0
 * pages point into them; 2.1+ encoders read one array: rows in place are
 * first copied into a scratch array and let go of. */
static clance_status encode_page(cl_file_writer *w, size_t i, cl_arr *acc, seg_list *rows,
                                 int in_place, const uint8_t *sdef, uint64_t first_row,
                                 cl_page_enc *page, clance_error *err) {
  const cl_field *f = w->cols[i].f;
  if (w->opts.version == CL_FILE_V2_0) {
    cl_page_src src;
    memset(&src, 0, sizeof src);
    if (in_place) {
      src.segs = rows->segs;
      src.n_segs = rows->n;
      src.length = rows->length;
      src.totals = rows->totals;
    } else {
      src.arr = acc;
    }
    return cl_encode20_page(f, &src, page, err);
  }
  if (in_place && !sdef) {
    cl_page_src src;
    memset(&src, 0, sizeof src);
    src.segs = rows->segs;
    src.n_segs = rows->n;
    src.length = rows->length;
    src.totals = rows->totals;
    int done;
    CL_TRY(cl_encode21_fullzip_in_place(f, w->cols[i].depth, &src, first_row, page, &done, err));
    if (done)
      return CLANCE_OK;
  }
  if (w->cols[i].list) /* (rows always copied) */
    return cl_encode21_list_page(f, acc, first_row, page, err);
  enc_scratch *sc = scratch_get(w, i, err);
  if (!sc)
    return err->code;
  clance_status st = CLANCE_OK;
  if (in_place) {
    acc = &sc->acc;
    st = seg_copy(rows, f, acc, err);
  }
  if (!st)
    st = cl_encode21_page_scratch(f, w->cols[i].depth, sdef, acc, first_row, w->opts.version, page,
                                  &sc->e, err);
  scratch_put(w, i, sc);
  return st;
}

/* Worker: encode one job, then write every encoded job at the head of the
 * queue unless another worker is already doing so. */
static void run_job(void *arg) {
  page_job *j = arg;
  cl_file_writer *w = j->w;
  cl_err_clear(&j->err);
  j->st = CLANCE_OK;
  if (!j->footer)
    j->st = encode_page(w, j->col, &j->acc, &j->rows, j->in_place, j->sdef_any ? j->sdef.data : NULL,
                        j->first_row, &j->page, &j->err);
  pthread_mutex_lock(&w->mu);
  j->done = 1;
  if (w->writing) {
    pthread_mutex_unlock(&w->mu);
    return;
  }
  w->writing = 1;
  while (w->head && w->head->done) {
    page_job *h = w->head;
    w->head = h->next;
    if (!w->head)
      w->tail = NULL;
    clance_status st = w->failed ? w->failed : h->st;
    if (st && !w->failed) {
      w->failed = st;
      w->ferr = h->err;
    }
    pthread_mutex_unlock(&w->mu);
    clance_error e;
    file_slot *fs = h->file;
    if (h->footer) {
      uint64_t size = 0;
      if (!st)
        st = add_struct_headers(w, fs, &e);
      if (!st)
        st = cl_container_finish(&fs->c, &h->fd, &size, &e);
      else
        cl_container_abort(&fs->c); /* a page of it (or of an earlier file) failed */
      pthread_mutex_lock(&w->mu);
      if (st && !w->failed) {
        w->failed = st;
        w->ferr = e;
      }
      fs->st = st;
      if (st)
        fs->err = w->ferr; /* this file's error or the earlier one that stopped it */
      fs->size = size;
      fs->done = 1;
      w->n_queued--;
      cl_buf_free(&h->fd);
      free(h);
      pthread_cond_broadcast(&w->cv);
      continue;
    }
    if (!st)
      st = cl_container_add_page(&fs->c, h->col, &h->page, &e);
    cl_arr_reset(&h->acc);
    h->sdef.len = 0;
    seg_release(&h->rows); /* (the batches go when the caller sees them unused) */
    pthread_mutex_lock(&w->mu);
    if (st && !w->failed) {
      w->failed = st;
      w->ferr = e;
    }
    fs->pos = cl_container_pos(&fs->c);
    w->inflight -= h->cost;
    w->n_queued--;
    h->next = w->spare[h->col];
    w->spare[h->col] = h;
    pthread_cond_broadcast(&w->cv);
  }
  w->writing = 0;
  pthread_cond_broadcast(&w->cv);
  pthread_mutex_unlock(&w->mu);
}

static clance_status submit_page(cl_file_writer *w, size_t i, clance_error *err) {
  uint64_t cost = 2 * open_bytes(w, i); /* values + their encoding */
  pthread_mutex_lock(&w->mu);
  while (w->head && w->inflight + cost > w->inflight_limit && !w->failed)
    pthread_cond_wait(&w->cv, &w->mu);
  if (w->failed) {
    clance_status st = w->failed;
    *err = w->ferr;
    pthread_mutex_unlock(&w->mu);
    return st;
  }
  page_job *j = w->spare[i];
  if (j)
    w->spare[i] = j->next;
  pthread_mutex_unlock(&w->mu);
  if (!j) {
    if (!(j = cl_calloc(1, sizeof *j, err)))
      return err->code;
    clance_status st = cl_arr_init(&j->acc, w->cols[i].f, err);
    if (st) {
      free(j);
      return st;
    }
    j->w = w;
    j->col = i;
  }
  /* swap: the job takes the full page, the column an empty one */
  j->in_place = !w->copied[i];
  if (j->in_place) {
    seg_list t = j->rows;
    j->rows = w->pages[i];
    w->pages[i] = t;
  } else {
    cl_arr t = j->acc;
    j->acc = w->acc[i];
    w->acc[i] = t;
  }
  w->copied[i] = 0;
  cl_buf tb = j->sdef; /* the null structs go with the page */
  j->sdef = w->sdef[i];
  w->sdef[i] = tb;
  w->sdef[i].len = 0;
  j->sdef_any = w->sdef_any[i];
  w->sdef_any[i] = 0;
  j->next = NULL;
  j->file = w->cur;
  j->done = 0;
  j->first_row = w->page_start[i];
  j->cost = cost;
  w->page_start[i] += (uint64_t)(j->in_place ? j->rows.length : j->acc.length);
  pthread_mutex_lock(&w->mu);
  if (w->tail)
    w->tail->next = j;
  else
    w->head = j;
  w->tail = j;
  w->inflight += cost;
  w->n_queued++;
  pthread_mutex_unlock(&w->mu);
  clance_status st = cl_pool_submit(w->opts.pool, run_job, j, err);
  if (st) { /* not queued to a thread: run it here */
    run_job(j);
    cl_err_clear(err);
  }
  return CLANCE_OK;
}

static clance_status flush_column(cl_file_writer *w, size_t i, clance_error *err) {
  int64_t rows = open_rows(w, i);
  if (rows == 0)
    return CLANCE_OK;
  if (w->opts.pool)
    return submit_page(w, i, err);
  int in_place = !w->copied[i];
  clance_status st = encode_page(w, i, &w->acc[i], &w->pages[i], in_place,
                                 w->sdef_any[i] ? w->sdef[i].data : NULL, w->page_start[i],
                                 &w->page, err);
  w->sdef[i].len = 0;
  w->sdef_any[i] = 0;
  if (!st)
    st = cl_container_add_page(&w->cur->c, i, &w->page, err);
  w->page_start[i] += (uint64_t)rows;
  cl_arr_reset(&w->acc[i]);
  seg_release(&w->pages[i]);
  w->copied[i] = 0;
  return st;
}

/* Let go of held batches no page points into any more. */
static void drop_unused(cl_file_writer *w) {
  size_t k = 0;
  for (size_t i = 0; i < w->n_held; i++) {
    held_batch *h = &w->held[i];
    if (cl_shared_refs(h->s) == 1) { /* only ours */
      w->retained -= h->bytes;
      cl_shared_unref(h->s);
    } else {
      w->held[k++] = *h;
    }
  }
  w->n_held = k;
}

/* Column i's open page stops pointing into input batches: its rows are
 * copied, and so are the rest of the page's. */
static clance_status copy_open_page(cl_file_writer *w, size_t i, clance_error *err) {
  if (w->copied[i])
    return CLANCE_OK;
  w->copied[i] = 1;
  if (!w->pages[i].n) /* nothing in place yet (always so for lists) */
    return CLANCE_OK;
  return seg_copy(&w->pages[i], w->cols[i].f, &w->acc[i], err);
}

/* Keep the batches held by open pages within half the budget: the pages
 * pointing into the oldest ones are copied (the batches that only queued
 * pages hold are bounded by the queue's own limit). */
static clance_status trim_held(cl_file_writer *w, clance_error *err) {
  drop_unused(w);
  uint64_t budget = w->opts.max_buffer_bytes ? w->opts.max_buffer_bytes : DEFAULT_BUFFER_BYTES;
  for (size_t k = 0; k < w->n_held && w->retained > budget / 2; k++) {
    cl_shared *s = w->held[k].s;
    for (size_t i = 0; i < w->n_cols; i++) {
      const seg_list *l = &w->pages[i];
      for (size_t j = 0; !w->copied[i] && j < l->n; j++)
        if (l->owners[j] == s) {
          CL_TRY(copy_open_page(w, i, err));
          break;
        }
    }
    if (cl_shared_refs(s) == 1) {
      drop_unused(w);
      k = (size_t)-1; /* start over: entries moved */
    }
  }
  return CLANCE_OK;
}

/* Bytes of a batch's rows as columns would count them, roughly (validity
 * counted whenever a bitmap is present). */
static uint64_t batch_bytes(const cl_file_writer *w, const struct ArrowArray *b) {
  uint64_t sum = 0;
  for (size_t i = 0; i < w->n_cols; i++) {
    const cl_field *f = w->cols[i].f;
    int64_t base;
    const struct ArrowArray *c = col_array(w, i, b, &base, NULL);
    cl_rows_stats t;
    memset(&t, 0, sizeof t);
    int64_t len = b->length;
    if (len <= 0 || w->cols[i].header)
      continue;
    t.nulls = cl_array_validity(c) != NULL;
    if (f->type == CL_TYPE_FIXED_SIZE_LIST)
      t.item_nulls = cl_array_validity(c->children[0]) != NULL;
    else if (cl_type_is_binary_like(f->type))
      cl_array_rows_stats(f, c, base, len, &t);
    sum += cl_arr_nbytes_of(f, len, &t);
  }
  return sum;
}

/* Column i under structs, file format 2.1+: for batch rows [r0, r0 + n),
 * just added to its open page, record the layer of each row's outermost
 * null struct (1 = the innermost struct), or 0; sv as col_array gives it.
 * The page's sdef is only built from its first null struct on: until then
 * its rows are all 0. */
static clance_status add_struct_nulls(cl_file_writer *w, size_t i, const struct_validity *sv,
                                      int64_t r0, int64_t n, clance_error *err) {
  uint32_t depth = w->cols[i].depth;
  cl_buf *d = &w->sdef[i];
  if (!w->sdef_any[i]) {
    uint32_t k = 0;
    while (k < depth && !(sv[k].bits && cl_bits_count_zero(sv[k].bits, sv[k].at + r0, n) > 0))
      k++;
    if (k == depth)
      return CLANCE_OK; /* no null struct on the page yet */
    d->len = 0; /* the page's earlier rows: none */
    CL_TRY(cl_buf_fill(d, 0, (size_t)(open_rows(w, i) - n), err));
    w->sdef_any[i] = 1;
  }
  CL_TRY(cl_buf_fill(d, 0, (size_t)n, err));
  uint8_t *out = d->data + d->len - (size_t)n;
  for (uint32_t k = 0; k < depth; k++) /* outermost first: the first null found stays */
    if (sv[k].bits)
      for (int64_t r = 0; r < n; r++)
        if (!out[r] && !cl_bit_get(sv[k].bits, sv[k].at + r0 + r))
          out[r] = (uint8_t)(depth - k);
  return CLANCE_OK;
}

static clance_status append_rows(cl_file_writer *w, const struct ArrowArray *batch, cl_shared *owner,
                                 int64_t start, int64_t n, clance_error *err) {
  uint64_t cap = w->opts.max_rows_per_page;
  for (size_t i = 0; i < w->n_cols; i++) {
    const cl_field *f = w->cols[i].f;
    if (w->cols[i].header)
      continue;
    /* A struct's offset applies to its children too. */
    int64_t base;
    struct_validity sv[CL_MAX_STRUCT_DEPTH];
    int struct_nulls = w->cols[i].depth && w->opts.version != CL_FILE_V2_0;
    const struct ArrowArray *col = col_array(w, i, batch, &base, struct_nulls ? sv : NULL);
    int64_t s = start + base, left = n;
    while (left > 0) {
      int64_t take = left, have = open_rows(w, i);
      if (cap && (uint64_t)have + (uint64_t)take > cap)
        take = (int64_t)(cap - (uint64_t)have);
      /* A page ends near page_bytes even inside a large batch: without
       * this, a 64 MiB batch made one 64 MiB page (and held as much). */
      uint64_t open = open_bytes(w, i);
      take = cl_array_rows_fitting(f, col, s, take,
                                   w->opts.page_bytes > open ? w->opts.page_bytes - open : 0);
      if (!owner || w->pages[i].n >= MAX_PAGE_SLICES || w->cols[i].list)
        CL_TRY(copy_open_page(w, i, err));
      if (w->copied[i])
        CL_TRY(cl_arr_append_from(&w->acc[i], col, s, take, err));
      else
        CL_TRY(seg_push(&w->pages[i], f, owner, col, s, take, err));
      if (struct_nulls)
        CL_TRY(add_struct_nulls(w, i, sv, s - base, take, err));
      s += take;
      left -= take;
      if ((cap && (uint64_t)open_rows(w, i) >= cap) || open_bytes(w, i) >= w->opts.page_bytes)
        CL_TRY(flush_column(w, i, err));
    }
  }
  w->rows += (uint64_t)n;
  return CLANCE_OK;
}

clance_status cl_file_writer_write(cl_file_writer *w, const struct ArrowArray *batch, int64_t start,
                                   int64_t n, clance_error *err) {
  return append_rows(w, batch, NULL, start, n, err);
}

clance_status cl_file_writer_write_shared(cl_file_writer *w, cl_shared *batch, int64_t start,
                                          int64_t n, clance_error *err) {
  const struct ArrowArray *b = cl_shared_array(batch);
  drop_unused(w);
  if (!w->n_held || w->held[w->n_held - 1].s != batch) {
    if (w->n_held == w->cap_held) {
      size_t cap = w->cap_held ? 2 * w->cap_held : 16;
      held_batch *nh = realloc(w->held, cap * sizeof *nh);
      if (!nh)
        return cl_err_nomem(err, "input batches");
      w->held = nh;
      w->cap_held = cap;
    }
    cl_shared_ref(batch);
    w->held[w->n_held].s = batch;
    w->held[w->n_held].bytes = batch_bytes(w, b);
    w->retained += w->held[w->n_held].bytes;
    w->n_held++;
  }
  return append_rows(w, b, batch, start, n, err);
}

clance_status cl_file_writer_release_unused(cl_file_writer *w, clance_error *err) {
  return trim_held(w, err);
}

uint64_t cl_file_writer_rows(const cl_file_writer *w) { return w->rows; }

int cl_file_writer_reached(cl_file_writer *w, uint64_t limit) {
  uint64_t acc = 0;
  for (size_t i = 0; i < w->n_cols; i++)
    acc += open_bytes(w, i);
  if (!w->opts.pool)
    return cl_container_pos(&w->cur->c) + acc >= limit;
  /* Queued pages encode to at most about their cost (twice their values)
   * plus padding; only when that bound reaches the limit do we wait for
   * the exact size, so the decision never depends on timing. */
  pthread_mutex_lock(&w->mu);
  uint64_t bound = w->cur->pos + w->inflight + w->n_queued * 1024 + (1u << 20) + acc;
  pthread_mutex_unlock(&w->mu);
  if (bound < limit) /* a page being written counts in inflight until it is */
    return 0;
  drain(w);
  return w->cur->pos + acc >= limit;
}

uint64_t cl_file_writer_bytes(const cl_file_writer *w) {
  uint64_t b;
  if (w->opts.pool) {
    pthread_mutex_t *mu = (pthread_mutex_t *)&w->mu;
    pthread_mutex_lock(mu);
    b = w->cur ? w->cur->pos + w->inflight / 2 : 0;
    pthread_mutex_unlock(mu);
  } else {
    b = w->cur ? cl_container_pos(&w->cur->c) : 0;
  }
  for (size_t i = 0; i < w->n_cols; i++)
    b += open_bytes(w, i);
  return b;
}

static clance_status descriptor(const cl_file_writer *w, cl_buf *out, clance_error *err) {
  pb_field **fields;
  size_t nf;
  CL_TRY(cl_fields_to_pb(&w->schema, &fields, &nf, err));
  Lance__File__Schema sch = LANCE__FILE__SCHEMA__INIT;
  sch.n_fields = nf;
  sch.fields = fields;
  clance_status st = cl_meta_to_pb(&w->schema.metadata, &sch.metadata, &sch.n_metadata, err);
  if (!st) {
    Lance__File__FileDescriptor fd = LANCE__FILE__FILE_DESCRIPTOR__INIT;
    fd.schema = &sch;
    fd.has_length = w->rows != 0;
    fd.length = w->rows;
    st = cl_pb_pack(&fd.base, out, err);
  }
  cl_meta_pb_free(sch.metadata, sch.n_metadata);
  cl_fields_pb_free(fields, nf);
  return st;
}

clance_status cl_file_writer_finish_async(cl_file_writer *w, cl_written_file **out,
                                          clance_error *err) {
  *out = NULL;
  size_t n = w->n_cols;
  for (size_t i = 0; i < n; i++)
    CL_TRY(flush_column(w, i, err));
  cl_buf fd = CL_BUF_INIT;
  CL_TRY(descriptor(w, &fd, err));
  file_slot *fs = w->cur;
  fs->rows = w->rows;
  if (!w->opts.pool) {
    uint64_t size = 0;
    fs->st = add_struct_headers(w, fs, &fs->err);
    if (!fs->st)
      fs->st = cl_container_finish(&fs->c, &fd, &size, &fs->err);
    else
      cl_container_abort(&fs->c);
    fs->size = size;
    fs->done = 1;
    cl_buf_free(&fd);
  } else {
    /* The footer is written after the file's last page, by the worker that
     * writes the pages, while the caller goes on with the next file. */
    page_job *j = cl_calloc(1, sizeof *j, err);
    if (!j) {
      cl_buf_free(&fd);
      return err->code;
    }
    j->w = w;
    j->footer = 1;
    j->file = fs;
    j->fd = fd;
    pthread_mutex_lock(&w->mu);
    if (w->tail)
      w->tail->next = j;
    else
      w->head = j;
    w->tail = j;
    w->n_queued++;
    pthread_mutex_unlock(&w->mu);
    if (cl_pool_submit(w->opts.pool, run_job, j, err)) {
      run_job(j); /* not queued to a thread: run it here */
      cl_err_clear(err);
    }
  }
  /* Idle: the column buffers and their capacity stay for the next file. */
  if (w->opts.pool)
    pthread_mutex_lock(&w->mu);
  fs->next = w->finishing;
  w->finishing = fs;
  if (w->opts.pool)
    pthread_mutex_unlock(&w->mu);
  w->cur = NULL;
  drop_unused(w);
  w->rows = 0;
  memset(w->page_start, 0, (n ? n : 1) * sizeof *w->page_start);
  *out = fs;
  return CLANCE_OK;
}

int cl_file_writer_file_done(cl_file_writer *w, const cl_written_file *f) {
  if (!w->opts.pool)
    return 1;
  pthread_mutex_lock(&w->mu);
  int done = f->done;
  pthread_mutex_unlock(&w->mu);
  return done;
}

clance_status cl_file_writer_collect(cl_file_writer *w, cl_written_file *f, uint64_t *out_rows,
                                     uint64_t *out_size, cl_file_layout *out_layout,
                                     clance_error *err) {
  memset(out_layout, 0, sizeof *out_layout);
  if (w->opts.pool)
    pthread_mutex_lock(&w->mu);
  while (!f->done)
    pthread_cond_wait(&w->cv, &w->mu);
  for (file_slot **p = &w->finishing; *p; p = &(*p)->next)
    if (*p == f) {
      *p = f->next;
      break;
    }
  if (w->opts.pool)
    pthread_mutex_unlock(&w->mu);
  clance_status st = f->st;
  if (st)
    *err = f->err;
  *out_rows = f->rows;
  *out_size = f->size;
  free(f->path);
  free(f);
  if (st)
    return st;
  size_t n = w->n_cols;
  out_layout->field_ids = cl_calloc(n ? n : 1, sizeof(int32_t), err);
  out_layout->column_indices = cl_calloc(n ? n : 1, sizeof(int32_t), err);
  if (!out_layout->field_ids || !out_layout->column_indices) {
    cl_file_layout_free(out_layout);
    return err->code;
  }
  /* One id per column: 2.0 lists every field (struct headers included),
   * 2.1+ the leaves only, as the columns were planned. */
  for (size_t i = 0; i < n; i++) {
    /* (2.1+ lists the leaf of a list column: its item) */
    out_layout->field_ids[i] = w->cols[i].list ? w->cols[i].f->children[0].id : w->cols[i].f->id;
    out_layout->column_indices[i] = (int32_t)i;
  }
  out_layout->n = n;
  return CLANCE_OK;
}

static clance_status finish(cl_file_writer *w, int keep, uint64_t *out_rows, uint64_t *out_size,
                            cl_file_layout *out_layout, clance_error *err) {
  memset(out_layout, 0, sizeof *out_layout);
  cl_written_file *f;
  clance_status st = cl_file_writer_finish_async(w, &f, err);
  if (st) {
    cl_file_writer_abort(w);
    return st;
  }
  st = cl_file_writer_collect(w, f, out_rows, out_size, out_layout, err);
  if (st || !keep)
    writer_free(w);
  return st;
}

clance_status cl_file_writer_finish(cl_file_writer *w, uint64_t *out_rows, uint64_t *out_size,
                                    cl_file_layout *out_layout, clance_error *err) {
  return finish(w, 0, out_rows, out_size, out_layout, err);
}

clance_status cl_file_writer_finish_keep(cl_file_writer *w, uint64_t *out_rows, uint64_t *out_size,
                                         cl_file_layout *out_layout, clance_error *err) {
  return finish(w, 1, out_rows, out_size, out_layout, err);
}

clance_status cl_file_writer_reopen(cl_file_writer *w, const char *path, clance_error *err) {
  file_slot *fs = cl_calloc(1, sizeof *fs, err);
  if (!fs)
    return err->code;
  fs->c.file.fd = -1;
  if (!(fs->path = cl_strdup(path, err))) {
    free(fs);
    return err->code;
  }
  clance_status st = cl_container_create(&fs->c, path, w->opts.version, w->n_cols,
                                         !w->opts.no_fsync, err);
  if (st) {
    free(fs->path);
    free(fs);
    return st;
  }
  w->cur = fs;
  return CLANCE_OK;
}

void cl_file_writer_free(cl_file_writer *w) {
  if (w)
    writer_free(w);
}

void cl_file_writer_abort(cl_file_writer *w) {
  if (!w)
    return;
  writer_free(w); /* (drains, then removes the file being written) */
}
