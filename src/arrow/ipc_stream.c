/* Arrow IPC to and from files and pipes: a lazy ArrowArrayStream over an IPC
 * file or stream (mapped and read in place when it is a regular file), and
 * an ArrowArrayStream written out as IPC. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "arrow/array.h"
#include "arrow/ipc.h"

/* ------------------------------------------------------------------------ */
/* Input bytes                                                                */
/* ------------------------------------------------------------------------ */

typedef struct ipc_input {
  uint8_t *base;
  size_t len;
  int mapped;   /* munmap, else free (unless borrowed) */
  int borrowed; /* bytes owned by the caller */
} ipc_input;

static void input_release(void *p) {
  ipc_input *in = p;
  if (!in)
    return;
  if (in->mapped)
    munmap(in->base, in->len);
  else if (!in->borrowed)
    free(in->base);
  free(in);
}

/* Read everything from a pipe or terminal. */
static clance_status read_all(int fd, const char *what, ipc_input *in, clance_error *err) {
  size_t cap = 1u << 20, len = 0;
  uint8_t *b = malloc(cap);
  if (!b)
    return cl_err_nomem(err, what);
  for (;;) {
    if (cap - len < 65536) {
      if (cap > SIZE_MAX / 2) {
        free(b);
        return cl_err_nomem(err, what);
      }
      uint8_t *nb = realloc(b, cap * 2);
      if (!nb) {
        free(b);
        return cl_err_nomem(err, what);
      }
      b = nb;
      cap *= 2;
    }
    ssize_t n = read(fd, b + len, cap - len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      int e = errno;
      free(b);
      return cl_err_errno(err, e, "read", what);
    }
    if (n == 0)
      break;
    len += (size_t)n;
  }
  in->base = b;
  in->len = len;
  return CLANCE_OK;
}

static clance_status input_open(int fd, const char *what, ipc_input **out, clance_error *err) {
  *out = NULL;
  ipc_input *in = cl_calloc(1, sizeof *in, err);
  if (!in)
    return err->code;
  struct stat st;
  if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
    if ((uint64_t)st.st_size > SIZE_MAX) {
      free(in);
      return cl_err(err, CLANCE_EINVAL, "%s: too large to map", what);
    }
    void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (m != MAP_FAILED) {
      madvise(m, (size_t)st.st_size, MADV_SEQUENTIAL);
      in->base = m;
      in->len = (size_t)st.st_size;
      in->mapped = 1;
      *out = in;
      return CLANCE_OK;
    }
  }
  clance_status s = read_all(fd, what, in, err);
  if (s) {
    free(in);
    return s;
  }
  *out = in;
  return CLANCE_OK;
}

/* ------------------------------------------------------------------------ */
/* Reading stream                                                             */
/* ------------------------------------------------------------------------ */

/* Which batches of a mapped input are still alive: pages are dropped only
 * behind the oldest of them. Shared by the stream and every batch it handed
 * out (consumers may keep batches after asking for the next one, or after
 * releasing the stream). */
typedef struct live_set {
  pthread_mutex_t mu;
  long refs;
  size_t *start;            /* message position each live batch was read from */
  unsigned char *released;  /* entries [head, n) in handing-out order */
  size_t head, n, cap;
  uint64_t first_seq;       /* sequence number of entry 0 */
} live_set;

typedef struct live_batch {
  void (*release)(struct ArrowArray *);
  void *private_data;
  live_set *set;
  uint64_t seq;
} live_batch;

static void live_unref(live_set *l) {
  pthread_mutex_lock(&l->mu);
  long left = --l->refs;
  pthread_mutex_unlock(&l->mu);
  if (left)
    return;
  pthread_mutex_destroy(&l->mu);
  free(l->start);
  free(l->released);
  free(l);
}

static void live_batch_release(struct ArrowArray *a) {
  if (!a || !a->release)
    return;
  live_batch *lb = a->private_data;
  a->private_data = lb->private_data;
  a->release = lb->release;
  a->release(a);
  live_set *l = lb->set;
  pthread_mutex_lock(&l->mu);
  l->released[lb->seq - l->first_seq] = 1;
  pthread_mutex_unlock(&l->mu);
  live_unref(l);
  free(lb);
  a->release = NULL;
}

/* Oldest position a live batch may point into (`pos` when none is alive). */
static size_t live_low(live_set *l, size_t pos) {
  pthread_mutex_lock(&l->mu);
  while (l->head < l->n && l->released[l->head])
    l->head++;
  if (l->head == l->n) {
    l->first_seq += l->n;
    l->head = l->n = 0;
  }
  size_t low = l->head < l->n && l->start[l->head] < pos ? l->start[l->head] : pos;
  pthread_mutex_unlock(&l->mu);
  return low;
}

/* Wrap a batch read from position `start` so that its release is seen. */
static int live_track(live_set *l, size_t start, struct ArrowArray *a) {
  live_batch *lb = malloc(sizeof *lb);
  if (!lb)
    return -1;
  pthread_mutex_lock(&l->mu);
  if (l->n == l->cap) {
    if (l->head > 0) { /* slide the live tail down */
      memmove(l->start, l->start + l->head, (l->n - l->head) * sizeof *l->start);
      memmove(l->released, l->released + l->head, l->n - l->head);
      l->first_seq += l->head;
      l->n -= l->head;
      l->head = 0;
    }
    if (l->n == l->cap) {
      size_t cap = l->cap ? 2 * l->cap : 64;
      size_t *ns = realloc(l->start, cap * sizeof *ns);
      unsigned char *nr = ns ? realloc(l->released, cap) : NULL;
      if (ns)
        l->start = ns;
      if (!nr) {
        pthread_mutex_unlock(&l->mu);
        free(lb);
        return -1;
      }
      l->released = nr;
      l->cap = cap;
    }
  }
  lb->seq = l->first_seq + l->n;
  l->start[l->n] = start;
  l->released[l->n] = 0;
  l->n++;
  l->refs++;
  pthread_mutex_unlock(&l->mu);
  lb->release = a->release;
  lb->private_data = a->private_data;
  lb->set = l;
  a->release = live_batch_release;
  a->private_data = lb;
  return 0;
}

typedef struct ipc_stream {
  cl_ipc_reader *r;
  const uint8_t *base; /* mapped input, for dropping pages behind the reader */
  size_t dropped, page;
  live_set *live;      /* with base */
  clance_error err;
} ipc_stream;

static int st_fail(const ipc_stream *s) { return cl_status_to_errno(s->err.code); }

static int st_get_schema(struct ArrowArrayStream *self, struct ArrowSchema *out) {
  ipc_stream *s = self->private_data;
  cl_err_clear(&s->err);
  clance_status st = cl_schema_to_arrow(cl_ipc_reader_schema(s->r), out, &s->err);
  return st ? st_fail(s) : 0;
}

static int st_get_next(struct ArrowArrayStream *self, struct ArrowArray *out) {
  ipc_stream *s = self->private_data;
  cl_err_clear(&s->err);
  size_t start = cl_ipc_reader_position(s->r);
  if (s->base) {
    /* Mapped pages before the oldest batch still alive (or before the next
     * message) are done with; dropping them keeps the resident set small.
     * (A batch's children kept after the batch itself was released fault
     * their pages back in from the file: the mapping is private and
     * read-only, nothing is lost.) */
    size_t pos = live_low(s->live, start) & ~(s->page - 1);
    if (pos > s->dropped) {
      madvise((void *)(s->base + s->dropped), pos - s->dropped, MADV_DONTNEED);
      s->dropped = pos;
    }
  }
  int done = 0;
  clance_status st = cl_ipc_reader_next(s->r, out, &done, &s->err);
  if (st)
    return st_fail(s);
  if (s->base && out->release) {
    if (live_track(s->live, start, out)) {
      out->release(out);
      cl_err_nomem(&s->err, "Arrow IPC batch");
      return st_fail(s);
    }
#ifdef MADV_POPULATE_READ
    /* Map the batch's pages now, in one call, rather than one fault (or,
     * inside a write(2) from them, a failed copy and a retry) at a time.
     * Best effort: older kernels refuse the advice. */
    size_t from = start & ~(s->page - 1), end = cl_ipc_reader_position(s->r);
    if (end > from)
      madvise((void *)(s->base + from), end - from, MADV_POPULATE_READ);
#endif
  }
  return 0;
}

static const char *st_last_error(struct ArrowArrayStream *self) {
  ipc_stream *s = self->private_data;
  return s->err.code ? s->err.message : NULL;
}

static void st_release(struct ArrowArrayStream *self) {
  if (!self || !self->release)
    return;
  ipc_stream *s = self->private_data;
  cl_ipc_reader_free(s->r);
  if (s->live)
    live_unref(s->live);
  free(s);
  self->release = NULL;
}

static clance_status open_input(ipc_input *in, const char *what,
                                const cl_ipc_read_options *options, int share,
                                struct ArrowArrayStream *out, clance_error *err) {
  ipc_stream *s = cl_calloc(1, sizeof *s, err);
  if (!s) {
    input_release(in);
    return err->code;
  }
  cl_ipc_read_options o;
  memset(&o, 0, sizeof o);
  if (options)
    o = *options;
  o.owner_release = NULL;
  o.owner = NULL;
  if (share) {
    o.owner_release = input_release;
    o.owner = in;
  }
  const uint8_t *base = in->base;
  size_t len = in->len;
  int mapped = in->mapped;
  clance_status st = cl_ipc_reader_open_ex(base, len, what, &o, &s->r, err);
  if (!share)
    input_release(in); /* the reader copied nothing it keeps; see below */
  if (st) {
    free(s);
    return st;
  }
  if (mapped && share && (s->live = calloc(1, sizeof *s->live))) {
    pthread_mutex_init(&s->live->mu, NULL);
    s->live->refs = 1;
    long pg = sysconf(_SC_PAGESIZE);
    s->page = pg > 0 ? (size_t)pg : 4096;
    s->base = base;
  }
  out->get_schema = st_get_schema;
  out->get_next = st_get_next;
  out->get_last_error = st_last_error;
  out->release = st_release;
  out->private_data = s;
  return CLANCE_OK;
}

clance_status cl_ipc_stream_open_fd(int fd, const char *what, const cl_ipc_read_options *options,
                                    struct ArrowArrayStream *out, clance_error *err) {
  memset(out, 0, sizeof *out);
  ipc_input *in;
  CL_TRY(input_open(fd, what, &in, err));
  return open_input(in, what, options, 1, out, err);
}

clance_status cl_ipc_stream_open_path(const char *path, const cl_ipc_read_options *options,
                                      struct ArrowArrayStream *out, clance_error *err) {
  memset(out, 0, sizeof *out);
  if (!strcmp(path, "-"))
    return cl_ipc_stream_open_fd(0, "standard input", options, out, err);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return cl_err_errno(err, errno, "open", path);
  clance_status st = cl_ipc_stream_open_fd(fd, path, options, out, err);
  close(fd); /* a mapping outlives its descriptor */
  return st;
}

clance_status cl_ipc_stream_open_mem(const uint8_t *data, size_t len, const char *what, int share,
                                     const cl_ipc_read_options *options,
                                     struct ArrowArrayStream *out, clance_error *err) {
  memset(out, 0, sizeof *out);
  ipc_input *in = cl_calloc(1, sizeof *in, err);
  if (!in)
    return err->code;
  in->base = (uint8_t *)data;
  in->len = len;
  in->borrowed = 1;
  return open_input(in, what, options, share, out, err);
}

/* ------------------------------------------------------------------------ */
/* Writing                                                                    */
/* ------------------------------------------------------------------------ */

clance_status cl_ipc_write_arrow_stream(struct ArrowArrayStream *stream,
                                        const cl_ipc_write_options *options, cl_ipc_sink_fn sink,
                                        void *sink_ctx, clance_error *err) {
  struct ArrowSchema as;
  memset(&as, 0, sizeof as);
  cl_schema schema;
  memset(&schema, 0, sizeof schema);
  cl_ipc_writer *w = NULL;
  clance_status st;
  int rc = stream->get_schema(stream, &as);
  if (rc) {
    st = cl_stream_error(stream, rc, "reading the stream's schema", err);
    goto done;
  }
  st = cl_schema_from_arrow(&as, &schema, err);
  as.release(&as);
  if (st)
    goto done;
  if ((st = cl_ipc_writer_open(&schema, options, sink, sink_ctx, &w, err)))
    goto done;
  for (;;) {
    struct ArrowArray b;
    memset(&b, 0, sizeof b);
    if ((rc = stream->get_next(stream, &b))) {
      st = cl_stream_error(stream, rc, "reading the stream", err);
      goto done;
    }
    if (!b.release)
      break;
    st = cl_ipc_writer_write(w, &b, err);
    b.release(&b);
    if (st)
      goto done;
  }
  st = cl_ipc_writer_finish(w, err);
done:
  cl_ipc_writer_free(w);
  cl_schema_free(&schema);
  if (stream->release)
    stream->release(stream);
  return st;
}

/* ------------------------------------------------------------------------ */
/* Public API                                                                 */
/* ------------------------------------------------------------------------ */

clance_status clance_ipc_stream_open(const char *path, int flags, struct ArrowArrayStream *out,
                                     clance_error *err) {
  CL_PUBLIC_ERR(err, local);
  if (!path || !out)
    return cl_err(err, CLANCE_EINVAL, "clance_ipc_stream_open: NULL argument");
  cl_ipc_read_options o;
  memset(&o, 0, sizeof o);
  o.decode_dictionaries = (flags & CLANCE_IPC_DECODE_DICTIONARIES) != 0;
  return cl_ipc_stream_open_path(path, &o, out, err);
}

clance_status clance_ipc_stream_open_fd(int fd, int flags, struct ArrowArrayStream *out,
                                        clance_error *err) {
  CL_PUBLIC_ERR(err, local);
  if (fd < 0 || !out)
    return cl_err(err, CLANCE_EINVAL, "clance_ipc_stream_open_fd: bad argument");
  cl_ipc_read_options o;
  memset(&o, 0, sizeof o);
  o.decode_dictionaries = (flags & CLANCE_IPC_DECODE_DICTIONARIES) != 0;
  char what[48];
  snprintf(what, sizeof what, "Arrow IPC input (fd %d)", fd);
  return cl_ipc_stream_open_fd(fd, what, &o, out, err);
}

clance_status clance_ipc_write_stream(struct ArrowArrayStream *stream, int fd, int flags,
                                      clance_error *err) {
  CL_PUBLIC_ERR(err, local);
  if (!stream || !stream->release) {
    return cl_err(err, CLANCE_EINVAL, "clance_ipc_write_stream: NULL or released stream");
  }
  cl_ipc_write_options o;
  memset(&o, 0, sizeof o);
  o.file_format = (flags & CLANCE_IPC_FILE_FORMAT) != 0;
  if (flags & CLANCE_IPC_ZSTD)
    o.compression = CL_IPC_COMPRESSION_ZSTD;
  else if (flags & CLANCE_IPC_LZ4)
    o.compression = CL_IPC_COMPRESSION_LZ4;
  return cl_ipc_write_arrow_stream(stream, &o, cl_ipc_sink_fd, &fd, err);
}
