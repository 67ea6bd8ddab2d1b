/* libclance_mpi: clance_mpi_write(), a distributed write in one collective call.
 *
 * Layering: this file uses only the public API (clance.h) and MPI, so that
 * libclance itself never depends on MPI.
 *
 * Protocol (root = rank 0):
 *   A. every rank packs {status, message, op, read_version, uri, storage
 *      version, schema text}; gathered to the root (lengths, then Gatherv);
 *      the root checks them and resolves the read version; outcome broadcast.
 *   B. every rank writes its fragments; {status, message, fragments JSON}
 *      gathered to the root, which commits one operation; outcome broadcast.
 *   C. on failure every rank removes the data files it wrote; barrier.
 * Records are netstrings ("<len>:<bytes>,"), so nothing depends on the ranks
 * sharing a struct layout. */
#include "clance/clance_mpi.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ROOT 0
#define MAX_JSON_DEPTH 64

/* ---- errors ---- */

static clance_status set_err(clance_error *err, clance_status code, const char *fmt, ...) {
  err->code = code;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err->message, sizeof err->message, fmt, ap);
  va_end(ap);
  return code;
}

/* Status <-> errno as libclance maps them across Arrow stream boundaries
 * (docs/architecture.md, "Errors"). */
static int status_to_errno(clance_status s) {
  switch (s) {
  case CLANCE_OK: return 0;
  case CLANCE_ENOMEM: return ENOMEM;
  case CLANCE_EINVAL: return EINVAL;
  case CLANCE_ENOTFOUND: return ENOENT;
  case CLANCE_EEXISTS: return EEXIST;
  case CLANCE_ECORRUPT: return EBADMSG;
  case CLANCE_EUNSUPPORTED: return EOPNOTSUPP;
  case CLANCE_ESCHEMA: return EDOM;
  default: return EIO;
  }
}

static clance_status errno_to_status(int e) {
  switch (e) {
  case 0: return CLANCE_OK;
  case ENOMEM: return CLANCE_ENOMEM;
  case EINVAL: return CLANCE_EINVAL;
  case ENOENT: return CLANCE_ENOTFOUND;
  case EEXIST: return CLANCE_EEXISTS;
  case EBADMSG: return CLANCE_ECORRUPT;
  case EOPNOTSUPP: return CLANCE_EUNSUPPORTED;
  case EDOM: return CLANCE_ESCHEMA;
  default: return CLANCE_EIO;
  }
}

static clance_status mpi_err(clance_error *err, int rc, const char *call) {
  char text[MPI_MAX_ERROR_STRING];
  int len = 0;
  if (MPI_Error_string(rc, text, &len) != MPI_SUCCESS)
    snprintf(text, sizeof text, "MPI error %d", rc);
  return set_err(err, CLANCE_EIO, "%s failed: %s", call, text);
}

/* ---- growable byte buffer and netstrings ---- */

typedef struct buf {
  char *data;
  size_t len, cap;
  int failed; /* an allocation failed: the content is incomplete */
} buf;

static void buf_put(buf *b, const void *p, size_t n) {
  if (b->failed)
    return;
  if (b->cap - b->len < n + 1) {
    size_t cap = b->cap ? b->cap : 256;
    while (cap - b->len < n + 1) {
      if (cap > SIZE_MAX / 2) {
        b->failed = 1;
        return;
      }
      cap *= 2;
    }
    char *d = realloc(b->data, cap);
    if (!d) {
      b->failed = 1;
      return;
    }
    b->data = d;
    b->cap = cap;
  }
  if (n)
    memcpy(b->data + b->len, p, n);
  b->len += n;
  b->data[b->len] = '\0';
}

static void buf_str(buf *b, const char *s) { buf_put(b, s, strlen(s)); }

static void buf_fmt(buf *b, const char *fmt, ...) {
  char tmp[64];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(tmp, sizeof tmp, fmt, ap);
  va_end(ap);
  buf_str(b, tmp);
}

static void ns_put(buf *b, const void *p, size_t n) {
  buf_fmt(b, "%zu:", n);
  buf_put(b, p, n);
  buf_put(b, ",", 1);
}

static void ns_str(buf *b, const char *s) { ns_put(b, s ? s : "", s ? strlen(s) : 0); }

static void ns_u64(buf *b, uint64_t v) {
  char tmp[24];
  snprintf(tmp, sizeof tmp, "%llu", (unsigned long long)v);
  ns_str(b, tmp);
}

/* Next netstring of [*p, end): its bytes in (*s, *n). 0 on success. */
static int ns_get(const char **p, const char *end, const char **s, size_t *n) {
  size_t len = 0;
  const char *q = *p;
  if (q >= end || *q < '0' || *q > '9')
    return -1;
  while (q < end && *q >= '0' && *q <= '9') {
    if (len > (SIZE_MAX - 9) / 10)
      return -1;
    len = len * 10 + (size_t)(*q++ - '0');
  }
  if (q >= end || *q++ != ':' || (size_t)(end - q) < len + 1 || q[len] != ',')
    return -1;
  *s = q;
  *n = len;
  *p = q + len + 1;
  return 0;
}

static int ns_get_u64(const char **p, const char *end, uint64_t *v) {
  const char *s;
  size_t n;
  if (ns_get(p, end, &s, &n) || n == 0 || n > 20)
    return -1;
  uint64_t x = 0;
  for (size_t i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9' || x > (UINT64_MAX - (uint64_t)(s[i] - '0')) / 10)
      return -1;
    x = x * 10 + (uint64_t)(s[i] - '0');
  }
  *v = x;
  return 0;
}

/* ---- canonical schema text (equal text <=> equal schema) ---- */

static void put_escaped(buf *b, const char *s) {
  for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
    if (*p < 0x20 || *p >= 0x7f || strchr(",:()[]{}%!", *p))
      buf_fmt(b, "%%%02X", *p);
    else
      buf_put(b, p, 1);
  }
}

/* Byte length of Arrow metadata (int32 count, then length-prefixed keys and
 * values, native endianness), or 0 for none. */
static size_t metadata_len(const char *md) {
  if (!md)
    return 0;
  int32_t n, k;
  size_t off = sizeof n;
  memcpy(&n, md, sizeof n);
  for (int32_t i = 0; i < 2 * (n < 0 ? 0 : n); i++) {
    memcpy(&k, md + off, sizeof k);
    off += sizeof k + (size_t)(k < 0 ? 0 : k);
  }
  return off;
}

static void schema_text(buf *b, const struct ArrowSchema *s, int depth) {
  if (depth > MAX_JSON_DEPTH) {
    b->failed = 1;
    return;
  }
  put_escaped(b, s->format);
  if (!(s->flags & ARROW_FLAG_NULLABLE))
    buf_put(b, "!", 1);
  if (s->flags & ~(int64_t)ARROW_FLAG_NULLABLE)
    buf_fmt(b, "[flags %lld]", (long long)(s->flags & ~(int64_t)ARROW_FLAG_NULLABLE));
  size_t mdl = metadata_len(s->metadata);
  if (mdl) {
    buf_put(b, "{", 1);
    for (size_t i = 0; i < mdl; i++)
      buf_fmt(b, "%02x", (unsigned char)s->metadata[i]);
    buf_put(b, "}", 1);
  }
  if (s->dictionary) {
    buf_str(b, "[dictionary ");
    schema_text(b, s->dictionary, depth + 1);
    buf_put(b, "]", 1);
  }
  if (s->n_children > 0) {
    buf_put(b, "(", 1);
    for (int64_t i = 0; i < s->n_children; i++) {
      if (i)
        buf_put(b, ",", 1);
      put_escaped(b, s->children[i]->name);
      buf_put(b, ":", 1);
      schema_text(b, s->children[i], depth + 1);
    }
    buf_put(b, ")", 1);
  }
}

/* ---- the data files named by fragments JSON ---- */

/* A minimal strict JSON walk that collects the "path" strings of the objects
 * in the "files" arrays of the fragment objects (one object or an array of
 * them, as clance_fragments_to_json() writes). */
enum { J_TOP, J_FRAGMENT, J_FILES, J_FILE, J_ANY };

typedef struct jwalk {
  const char *p, *end;
  char **paths;
  size_t n, cap;
} jwalk;

static void jws(jwalk *j) {
  while (j->p < j->end && *j->p && strchr(" \t\r\n", *j->p))
    j->p++;
}

/* Parse a string at j->p; the decoded bytes go to `out` when non-NULL. */
static int jstring(jwalk *j, buf *out) {
  if (j->p >= j->end || *j->p != '"')
    return -1;
  j->p++;
  while (j->p < j->end && *j->p != '"') {
    char c = *j->p++;
    if ((unsigned char)c < 0x20)
      return -1;
    if (c == '\\') {
      if (j->p >= j->end)
        return -1;
      c = *j->p++;
      switch (c) {
      case '"': case '\\': case '/': break;
      case 'b': c = '\b'; break;
      case 'f': c = '\f'; break;
      case 'n': c = '\n'; break;
      case 'r': c = '\r'; break;
      case 't': c = '\t'; break;
      case 'u':
        /* Data file names are ASCII; an escaped character makes the name
         * one we will not touch (it is reported as unparsable). */
        return -1;
      default: return -1;
      }
    }
    if (out)
      buf_put(out, &c, 1);
  }
  if (j->p >= j->end)
    return -1;
  j->p++;
  return 0;
}

static int jvalue(jwalk *j, int ctx, int depth);

static int jcontainer(jwalk *j, int ctx, int depth) {
  char open = *j->p++, close = open == '{' ? '}' : ']';
  jws(j);
  if (j->p < j->end && *j->p == close) {
    j->p++;
    return 0;
  }
  for (;;) {
    int child = J_ANY;
    if (open == '{') {
      buf key = {0};
      if (jstring(j, &key) || key.failed) {
        free(key.data);
        return -1;
      }
      const char *k = key.data ? key.data : "";
      if (ctx == J_FRAGMENT && !strcmp(k, "files"))
        child = J_FILES;
      else if (ctx == J_FILE && !strcmp(k, "path"))
        child = -1; /* collect */
      free(key.data);
      jws(j);
      if (j->p >= j->end || *j->p++ != ':')
        return -1;
      jws(j);
    } else {
      child = ctx == J_TOP ? J_FRAGMENT : ctx == J_FILES ? J_FILE : J_ANY;
    }
    if (child == -1) {
      buf path = {0};
      if (jstring(j, &path) || path.failed) {
        free(path.data);
        return -1;
      }
      if (j->n == j->cap) {
        size_t cap = j->cap ? 2 * j->cap : 8;
        char **np = realloc(j->paths, cap * sizeof *np);
        if (!np) {
          free(path.data);
          return -1;
        }
        j->paths = np;
        j->cap = cap;
      }
      j->paths[j->n++] = path.data ? path.data : strdup("");
    } else if (jvalue(j, child, depth + 1)) {
      return -1;
    }
    jws(j);
    if (j->p >= j->end)
      return -1;
    char c = *j->p++;
    if (c == close)
      return 0;
    if (c != ',')
      return -1;
    jws(j);
  }
}

static int jvalue(jwalk *j, int ctx, int depth) {
  if (depth > MAX_JSON_DEPTH || j->p >= j->end)
    return -1;
  char c = *j->p;
  if (c == '[' && (ctx == J_TOP || ctx == J_FILES || ctx == J_ANY))
    return jcontainer(j, ctx, depth);
  if (c == '{' && ctx != J_FILES)
    return jcontainer(j, ctx == J_TOP ? J_FRAGMENT : ctx, depth);
  if (ctx != J_ANY)
    return -1;
  if (c == '"')
    return jstring(j, NULL);
  /* number, true, false, null */
  const char *start = j->p;
  while (j->p < j->end && *j->p && strchr("0123456789+-.eEtrufalsn", *j->p))
    j->p++;
  return j->p > start ? 0 : -1;
}

static void free_paths(char **paths, size_t n) {
  for (size_t i = 0; i < n; i++)
    free(paths[i]);
  free(paths);
}

/* Remove the data files of `json` under uri/data/, except those that `keep`
 * (fragments JSON too, or NULL) names. Returns how many could not be removed
 * (or parsed). Only plain file names are ever touched. */
static int remove_data_files(const char *uri, const char *json, const char *keep) {
  if (!json)
    return 0;
  jwalk j = {json, json + strlen(json), NULL, 0, 0};
  jwalk k = {keep, keep ? keep + strlen(keep) : NULL, NULL, 0, 0};
  jws(&j);
  int bad = jvalue(&j, J_TOP, 0) ? 1 : 0;
  if (keep) {
    jws(&k);
    if (jvalue(&k, J_TOP, 0)) { /* cannot tell which files to keep: touch none */
      free_paths(j.paths, j.n);
      free_paths(k.paths, k.n);
      return bad + 1;
    }
  }
  const char *root = strncmp(uri, "file://", 7) == 0 ? uri + 7 : uri;
  for (size_t i = 0; i < j.n; i++) {
    const char *name = j.paths[i];
    int kept = 0;
    for (size_t x = 0; x < k.n && !kept; x++)
      kept = !strcmp(name, k.paths[x]);
    if (kept)
      continue;
    if (!*name || strchr(name, '/') || !strcmp(name, ".") || !strcmp(name, "..")) {
      bad++;
      continue;
    }
    buf path = {0};
    buf_str(&path, root);
    buf_str(&path, "/data/");
    buf_str(&path, name);
    if (path.failed || (unlink(path.data) != 0 && errno != ENOENT))
      bad++;
    free(path.data);
  }
  free_paths(j.paths, j.n);
  free_paths(k.paths, k.n);
  return bad;
}

/* ---- collective steps ---- */

/* Step C of a round whose commit failed: remove the data files this rank
 * wrote (those of `json` not named by `keep`; nothing when json is NULL), then
 * wait for every rank, so that no rank returns while others still clean up. */
static clance_status discard_and_wait(MPI_Comm comm, const char *uri, const char *json,
                                      const char *keep, clance_error *err) {
  remove_data_files(uri, json, keep);
  int rc = MPI_Barrier(comm);
  return rc == MPI_SUCCESS ? CLANCE_OK : mpi_err(err, rc, "MPI_Barrier");
}

/* Gather every rank's record to the root: lengths first, then, when the root
 * could allocate the whole, MPI_Gatherv. On the root, all, lens and displs
 * receive the records. Every rank returns the same status. */
static clance_status gather(MPI_Comm comm, int rank, int size, const buf *mine, char **all,
                            int **lens, int **displs, clance_error *err) {
  static const char oom_record[] = "1:2,13:out of memory,";
  const char *send = mine->failed ? oom_record : mine->data;
  size_t send_len = mine->failed ? sizeof oom_record - 1 : mine->len;
  int len = send_len > INT_MAX ? INT_MAX : (int)send_len;
  int rc, ok = 1;
  *all = NULL;
  *lens = *displs = NULL;
  if (rank == ROOT) {
    *lens = calloc((size_t)size, sizeof **lens);
    *displs = calloc((size_t)size, sizeof **displs);
  }
  if (send_len > INT_MAX)
    len = -1; /* too long for MPI_Gatherv's int counts */
  if ((rc = MPI_Gather(&len, 1, MPI_INT, rank == ROOT ? *lens : NULL, 1, MPI_INT, ROOT, comm)) !=
      MPI_SUCCESS)
    return mpi_err(err, rc, "MPI_Gather");
  clance_status st = CLANCE_OK;
  if (rank == ROOT) {
    if (!*lens || !*displs) {
      ok = 0;
      st = set_err(err, CLANCE_ENOMEM, "rank 0: out of memory gathering %d records", size);
    } else {
      long long total = 0;
      for (int r = 0; r < size && ok; r++) {
        if ((*lens)[r] < 0 || total + (*lens)[r] > INT_MAX) {
          ok = 0;
          st = set_err(err, CLANCE_EUNSUPPORTED,
                       "rank %d: more than %d bytes of fragment metadata to gather", r, INT_MAX);
        }
        (*displs)[r] = (int)total;
        total += (*lens)[r];
      }
      if (ok && !(*all = malloc((size_t)total + 1))) {
        ok = 0;
        st = set_err(err, CLANCE_ENOMEM, "rank 0: out of memory for %lld bytes of records",
                     total);
      }
    }
  }
  if ((rc = MPI_Bcast(&ok, 1, MPI_INT, ROOT, comm)) != MPI_SUCCESS)
    return mpi_err(err, rc, "MPI_Bcast");
  if (!ok) {
    /* The root's reason is broadcast by the caller's outcome step. */
    if (rank != ROOT)
      st = set_err(err, CLANCE_EIO, "rank 0 could not gather the records");
    return st;
  }
  if ((rc = MPI_Gatherv(send, len, MPI_CHAR, *all, *lens, *displs, MPI_CHAR, ROOT, comm)) !=
      MPI_SUCCESS)
    return mpi_err(err, rc, "MPI_Gatherv");
  return CLANCE_OK;
}

static void free_gathered(char *all, int *lens, int *displs) {
  free(all);
  free(lens);
  free(displs);
}

/* Broadcast the root's outcome (status, a number, message) to every rank. */
static clance_status bcast_outcome(MPI_Comm comm, clance_error *outcome, uint64_t *value,
                                   clance_error *err) {
  uint64_t head[2] = {(uint64_t)outcome->code, *value};
  int rc;
  if ((rc = MPI_Bcast(head, 2, MPI_UINT64_T, ROOT, comm)) != MPI_SUCCESS ||
      (rc = MPI_Bcast(outcome->message, (int)sizeof outcome->message, MPI_CHAR, ROOT, comm)) !=
          MPI_SUCCESS)
    return mpi_err(err, rc, "MPI_Bcast");
  outcome->code = (clance_status)head[0];
  outcome->message[sizeof outcome->message - 1] = '\0';
  *value = head[1];
  return CLANCE_OK;
}

/* A local error as the first two fields of a record. */
static void put_status(buf *b, const clance_error *e) {
  ns_u64(b, (uint64_t)e->code);
  ns_str(b, e->code ? e->message : "");
}

/* Read the status fields of record `r`; on error fill `outcome` (if it holds
 * no error yet) with "rank r: message". 0 = the rank is fine. */
static int get_status(const char **p, const char *end, int r, clance_error *outcome) {
  uint64_t code;
  const char *msg;
  size_t n;
  if (ns_get_u64(p, end, &code) || ns_get(p, end, &msg, &n)) {
    if (!outcome->code)
      set_err(outcome, CLANCE_EINTERNAL, "rank %d: malformed record", r);
    return -1;
  }
  if (code == 0)
    return 0;
  if (!outcome->code) {
    clance_status st = code <= CLANCE_EINTERNAL ? (clance_status)code : CLANCE_EINTERNAL;
    set_err(outcome, st, "rank %d: %.*s", r, (int)(n > 1000 ? 1000 : n), msg);
  }
  return -1;
}

/* ---- the stream that only fails ---- */

typedef struct err_stream {
  clance_error e;
} err_stream;

static int es_get_schema(struct ArrowArrayStream *s, struct ArrowSchema *out) {
  (void)out;
  err_stream *p = s->private_data;
  return status_to_errno(p->e.code);
}

static int es_get_next(struct ArrowArrayStream *s, struct ArrowArray *out) {
  (void)out;
  err_stream *p = s->private_data;
  return status_to_errno(p->e.code);
}

static const char *es_last_error(struct ArrowArrayStream *s) {
  err_stream *p = s->private_data;
  return p->e.message;
}

static void es_release(struct ArrowArrayStream *s) {
  free(s->private_data);
  s->private_data = NULL;
  s->release = NULL;
}

clance_status clance_mpi_error_stream(const clance_error *error, struct ArrowArrayStream *out,
                                      clance_error *err) {
  clance_error scratch;
  if (!err)
    err = &scratch;
  err->code = CLANCE_OK;
  err->message[0] = '\0';
  if (!out)
    return set_err(err, CLANCE_EINVAL, "clance_mpi_error_stream: out is NULL");
  memset(out, 0, sizeof *out);
  if (!error || error->code == CLANCE_OK)
    return set_err(err, CLANCE_EINVAL, "clance_mpi_error_stream: no error given");
  err_stream *p = malloc(sizeof *p);
  if (!p)
    return set_err(err, CLANCE_ENOMEM, "out of memory");
  p->e.code = error->code;
  snprintf(p->e.message, sizeof p->e.message, "%s", error->message);
  out->get_schema = es_get_schema;
  out->get_next = es_get_next;
  out->get_last_error = es_last_error;
  out->release = es_release;
  out->private_data = p;
  return CLANCE_OK;
}

const char *clance_mpi_operation_name(clance_mpi_operation op) {
  switch (op) {
  case CLANCE_MPI_OVERWRITE: return "overwrite";
  case CLANCE_MPI_APPEND: return "append";
  }
  return NULL;
}

/* ---- clance_mpi_write ---- */

typedef struct mpi_write {
  MPI_Comm comm;
  int rank, size;
  const char *uri;
  clance_mpi_operation op;
  uint64_t read_version;
  clance_write_options wopts;
  const struct ArrowSchema *schema; /* the caller's, or &own */
  struct ArrowSchema own;           /* the stream's schema when the caller gave none */
  buf schema_text;
} mpi_write;

/* Phase A, local part: the record this rank sends. */
static void describe(mpi_write *w, const struct ArrowSchema *schema,
                     struct ArrowArrayStream *stream, buf *rec) {
  clance_error e = {CLANCE_OK, ""};
  if (!w->uri || !*w->uri)
    set_err(&e, CLANCE_EINVAL, "clance_mpi_write: the dataset URI is empty");
  else if (!stream || !stream->release)
    set_err(&e, CLANCE_EINVAL, "clance_mpi_write: no input stream");
  else if (!clance_mpi_operation_name(w->op))
    set_err(&e, CLANCE_EINVAL, "clance_mpi_write: unknown operation %d", (int)w->op);
  if (!e.code) {
    clance_write_mode want = w->op == CLANCE_MPI_OVERWRITE ? CLANCE_WRITE_CREATE
                                                           : CLANCE_WRITE_APPEND;
    if (w->wopts.mode == CLANCE_WRITE_AUTO)
      w->wopts.mode = want;
    else if (w->wopts.mode != want)
      set_err(&e, CLANCE_EINVAL,
              "clance_mpi_write: write mode %s does not fit an %s (use AUTO)",
              w->wopts.mode == CLANCE_WRITE_CREATE ? "CREATE" : "APPEND",
              w->op == CLANCE_MPI_OVERWRITE ? "Overwrite" : "Append");
  }
  if (!e.code) {
    if (schema) {
      w->schema = schema;
    } else {
      int rc = stream->get_schema(stream, &w->own);
      if (rc != 0) {
        const char *msg = stream->get_last_error ? stream->get_last_error(stream) : NULL;
        set_err(&e, errno_to_status(rc), "reading the input stream's schema: %s",
                msg ? msg : strerror(rc));
        w->own.release = NULL;
      } else {
        w->schema = &w->own;
      }
    }
  }
  if (!e.code && (!w->schema->format || !w->schema->release))
    set_err(&e, CLANCE_EINVAL, "clance_mpi_write: the schema is released or has no format");
  if (!e.code) {
    schema_text(&w->schema_text, w->schema, 0);
    if (w->schema_text.failed)
      set_err(&e, CLANCE_ENOMEM, "out of memory describing the schema");
  }
  put_status(rec, &e);
  ns_u64(rec, (uint64_t)(unsigned)w->op);
  ns_u64(rec, w->read_version);
  ns_str(rec, w->uri);
  ns_str(rec, w->wopts.data_storage_version);
  ns_put(rec, w->schema_text.data ? w->schema_text.data : "", w->schema_text.len);
}

/* Phase A, root part, shared by the collectives: every rank's record holds
 * its status, then n fields that must equal rank 0's (what[k] names field
 * k; field schema_field, if any, mismatches as ESCHEMA, the others as
 * EINVAL). The first problem found goes to *outcome. */
static void compare_records(const char *all, const int *lens, const int *displs, int size,
                            const char *const *what, int n_fields, int schema_field,
                            const char *collective, clance_error *outcome) {
  const char *f0[8] = {0};
  size_t n0[8] = {0};
  if (n_fields > 8)
    n_fields = 8;
  for (int r = 0; r < size; r++) {
    const char *p = all + displs[r], *end = p + lens[r];
    if (get_status(&p, end, r, outcome))
      continue;
    for (int k = 0; k < n_fields; k++) {
      const char *s;
      size_t n;
      if (ns_get(&p, end, &s, &n)) {
        if (!outcome->code)
          set_err(outcome, CLANCE_EINTERNAL, "rank %d: malformed record", r);
        break;
      }
      if (r == 0) {
        f0[k] = s;
        n0[k] = n;
      } else if (!outcome->code && (n != n0[k] || memcmp(s, f0[k], n) != 0)) {
        int limit = k == schema_field ? 400 : 300;
        set_err(outcome, k == schema_field ? CLANCE_ESCHEMA : CLANCE_EINVAL,
                "rank %d: its %s \"%.*s\" differs from rank 0's \"%.*s\" "
                "(%s is collective: every rank passes the same)",
                r, what[k], (int)(n > (size_t)limit ? (size_t)limit : n), s,
                (int)(n0[k] > (size_t)limit ? (size_t)limit : n0[k]), f0[k], collective);
      }
    }
  }
}

/* Phase A, root part: check the records; the read version to use in *rv. */
static void check_records(mpi_write *w, const char *all, const int *lens, const int *displs,
                          clance_error *outcome, uint64_t *rv) {
  static const char *const what[5] = {"operation", "read version", "dataset URI",
                                      "data storage version", "schema"};
  compare_records(all, lens, displs, w->size, what, 5, 4, "clance_mpi_write", outcome);
  if (outcome->code)
    return;
  *rv = w->read_version;
  if (*rv == CLANCE_MPI_LATEST_VERSION) {
    clance_dataset *ds = NULL;
    clance_error e;
    clance_status st = clance_dataset_open(w->uri, 0, &ds, &e);
    if (st == CLANCE_OK) {
      *rv = clance_dataset_version(ds);
      clance_dataset_close(ds);
    } else if (st == CLANCE_ENOTFOUND && w->op == CLANCE_MPI_OVERWRITE) {
      *rv = 0;
    } else {
      set_err(outcome, st, "rank 0: opening the dataset: %s", e.message);
    }
  } else if (*rv == 0 && w->op == CLANCE_MPI_APPEND) {
    set_err(outcome, CLANCE_EINVAL,
            "an Append cannot be prepared against version 0 (no dataset yet): give the "
            "version it was prepared against, or the latest");
  }
}

/* Phase B, root part: build and commit the operation over every rank's
 * fragments, in rank order. */
static void commit_all(mpi_write *w, const char *all, const int *lens, const int *displs,
                       uint64_t rv, const clance_commit_options *copts, clance_error *outcome,
                       uint64_t *version) {
  clance_fragments *frags = NULL;
  clance_error e;
  for (int r = 0; r < w->size; r++) {
    const char *p = all + displs[r], *end = p + lens[r];
    get_status(&p, end, r, outcome);
  }
  if (outcome->code)
    return;
  if (clance_fragments_new(&frags, &e)) {
    set_err(outcome, e.code, "rank 0: %s", e.message);
    return;
  }
  for (int r = 0; r < w->size && !outcome->code; r++) {
    const char *p = all + displs[r], *end = p + lens[r], *json;
    size_t n;
    char source[32];
    get_status(&p, end, r, outcome);
    if (ns_get(&p, end, &json, &n)) {
      set_err(outcome, CLANCE_EINTERNAL, "rank %d: malformed record", r);
      break;
    }
    snprintf(source, sizeof source, "rank %d", r);
    clance_fragments *f = NULL;
    if (clance_fragments_from_json(json, n, source, &f, &e) ||
        clance_fragments_extend(frags, f, &e))
      set_err(outcome, e.code, "rank 0: fragments of rank %d: %s", r, e.message);
    clance_fragments_free(f);
  }
  clance_operation *op = NULL;
  if (!outcome->code) {
    clance_status st = w->op == CLANCE_MPI_OVERWRITE
                           ? clance_operation_overwrite(w->schema, frags, &op, &e)
                           : clance_operation_append(frags, &op, &e);
    if (st)
      set_err(outcome, st, "commit by rank 0: %s", e.message);
  }
  if (!outcome->code && clance_commit(w->uri, op, rv, copts, version, &e))
    set_err(outcome, e.code, "commit by rank 0: %s", e.message);
  clance_operation_free(op);
  clance_fragments_free(frags);
}

clance_status clance_mpi_write(MPI_Comm comm, const char *uri, const struct ArrowSchema *schema,
                               struct ArrowArrayStream *stream, clance_mpi_operation op,
                               const clance_write_options *options, uint64_t read_version,
                               const clance_commit_options *commit_options,
                               uint64_t *out_version, clance_error *err) {
  clance_error scratch;
  if (!err)
    err = &scratch;
  err->code = CLANCE_OK;
  err->message[0] = '\0';
  if (out_version)
    *out_version = 0;

  /* Checks every rank makes alike, before any collective call. */
  int flag = 0;
  clance_status st = CLANCE_OK;
  if (MPI_Initialized(&flag) != MPI_SUCCESS || !flag)
    st = set_err(err, CLANCE_EINVAL, "clance_mpi_write: MPI is not initialised");
  else if (MPI_Finalized(&flag) != MPI_SUCCESS || flag)
    st = set_err(err, CLANCE_EINVAL, "clance_mpi_write: MPI is finalised");
  else if (comm == MPI_COMM_NULL)
    st = set_err(err, CLANCE_EINVAL, "clance_mpi_write: comm is MPI_COMM_NULL");
  else if (MPI_Comm_test_inter(comm, &flag) != MPI_SUCCESS || flag)
    st = set_err(err, CLANCE_EINVAL, "clance_mpi_write: comm must be an intra-communicator");
  if (st) {
    if (stream && stream->release)
      stream->release(stream);
    return st;
  }

  mpi_write w;
  memset(&w, 0, sizeof w);
  w.comm = comm;
  w.uri = uri;
  w.op = op;
  w.read_version = read_version;
  clance_write_options_init(&w.wopts);
  MPI_Comm_rank(comm, &w.rank);
  MPI_Comm_size(comm, &w.size);

  clance_error outcome = {CLANCE_OK, ""};
  char *all = NULL, *json = NULL;
  int *lens = NULL, *displs = NULL;
  uint64_t rv = 0, version = 0;
  buf rec = {0};
  int wrote = 0;

  if (options)
    w.wopts = *options;
  /* Encoding threads: num_threads 0 would give every rank one per core; by
   * default the node's cores are shared among the ranks on it. (Collective:
   * every rank splits, whatever its options.) */
  MPI_Comm node;
  int local = 1;
  if (MPI_Comm_split_type(comm, MPI_COMM_TYPE_SHARED, w.rank, MPI_INFO_NULL, &node) ==
      MPI_SUCCESS) {
    MPI_Comm_size(node, &local);
    MPI_Comm_free(&node);
  }
  if (w.wopts.num_threads == 0) {
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    long per_rank = cores > 0 && local > 0 ? cores / local : 1;
    w.wopts.num_threads = per_rank < 1 ? 1 : (uint32_t)per_rank;
  }

  /* A. Same arguments and schema everywhere? */
  describe(&w, schema, stream, &rec);
  st = gather(comm, w.rank, w.size, &rec, &all, &lens, &displs, &outcome);
  if (w.rank == ROOT && !st)
    check_records(&w, all, lens, displs, &outcome, &rv);
  free_gathered(all, lens, displs);
  free(rec.data);
  memset(&rec, 0, sizeof rec);
  if ((st = bcast_outcome(comm, &outcome, &rv, err)))
    goto done;

  /* B. Write, gather the fragments, commit. */
  if (!outcome.code) {
    clance_fragments *frags = NULL;
    clance_error e = {CLANCE_OK, ""};
    /* With the caller's schema, the stream is checked against it; without,
     * the stream's own schema (which rank 0 compared) is used. */
    if (!clance_write_fragments(uri, schema, stream, &w.wopts, &frags, &e)) {
      wrote = 1;
      if (clance_fragments_to_json(frags, &json, &e))
        json = NULL;
    }
    stream = NULL; /* consumed */
    put_status(&rec, &e);
    ns_str(&rec, json);
    clance_fragments_free(frags);
    st = gather(comm, w.rank, w.size, &rec, &all, &lens, &displs, &outcome);
    if (w.rank == ROOT && !st)
      commit_all(&w, all, lens, displs, rv, commit_options, &outcome, &version);
    free_gathered(all, lens, displs);
    if ((st = bcast_outcome(comm, &outcome, &version, err)))
      goto done;
    /* C. Nothing committed: remove what this rank wrote, then wait for all. */
    if (outcome.code && (st = discard_and_wait(comm, uri, wrote ? json : NULL, NULL, err)))
      goto done;
  }
  *err = outcome;
  st = outcome.code;
  if (!st && out_version)
    *out_version = version;

done:
  if (stream && stream->release)
    stream->release(stream);
  if (w.own.release)
    w.own.release(&w.own);
  free(w.schema_text.data);
  free(rec.data);
  clance_free(json);
  return st;
}

/* ---- clance_mpi_add_columns ---- */

/* Checks every rank makes alike, before any collective call. */
static clance_status check_comm(MPI_Comm comm, const char *fn, clance_error *err) {
  int flag = 0;
  if (MPI_Initialized(&flag) != MPI_SUCCESS || !flag)
    return set_err(err, CLANCE_EINVAL, "%s: MPI is not initialised", fn);
  if (MPI_Finalized(&flag) != MPI_SUCCESS || flag)
    return set_err(err, CLANCE_EINVAL, "%s: MPI is finalised", fn);
  if (comm == MPI_COMM_NULL)
    return set_err(err, CLANCE_EINVAL, "%s: comm is MPI_COMM_NULL", fn);
  if (MPI_Comm_test_inter(comm, &flag) != MPI_SUCCESS || flag)
    return set_err(err, CLANCE_EINVAL, "%s: comm must be an intra-communicator", fn);
  return CLANCE_OK;
}

/* Phase A of an add-columns, root part: same read version, uri and new
 * columns everywhere? The read version to use in *rv. */
static void check_add_records(const char *uri, uint64_t read_version, int size, const char *all,
                              const int *lens, const int *displs, clance_error *outcome,
                              uint64_t *rv) {
  static const char *const what[3] = {"read version", "dataset URI", "new columns"};
  compare_records(all, lens, displs, size, what, 3, 2, "clance_mpi_add_columns", outcome);
  if (outcome->code)
    return;
  *rv = read_version;
  if (*rv == CLANCE_MPI_LATEST_VERSION) {
    clance_dataset *ds = NULL;
    clance_error e;
    clance_status st = clance_dataset_open(uri, 0, &ds, &e);
    if (st == CLANCE_OK) {
      *rv = clance_dataset_version(ds);
      clance_dataset_close(ds);
    } else {
      set_err(outcome, st, "rank 0: opening the dataset: %s", e.message);
    }
  } else if (*rv == 0) {
    set_err(outcome, CLANCE_EINVAL,
            "add-columns needs an existing version to add to (read version 0 has no rows): "
            "give its version, or the latest");
  }
}

/* Contiguous ranges: rank r has positions floor(r*F/N) .. floor((r+1)*F/N)-1
 * (in 64 bits; F and N are far below 2^32); *first = its first row. */
static void share_of(size_t nf, const uint64_t *live, int rank, int size, size_t *lo, size_t *hi,
                     uint64_t *first) {
  *lo = (size_t)((uint64_t)rank * nf / (uint64_t)size);
  *hi = (size_t)((uint64_t)(rank + 1) * nf / (uint64_t)size);
  *first = 0;
  for (size_t i = 0; i < *lo; i++)
    *first += live[i];
}

clance_status clance_mpi_add_columns_share(const clance_dataset *ds, int rank, int size,
                                           size_t *first_fragment, size_t *num_fragments,
                                           uint64_t *first_row, uint64_t *num_rows,
                                           clance_error *err) {
  clance_error scratch;
  if (!err)
    err = &scratch;
  err->code = CLANCE_OK;
  err->message[0] = '\0';
  if (!ds || size < 1 || rank < 0 || rank >= size)
    return set_err(err, CLANCE_EINVAL, "clance_mpi_add_columns_share: no dataset, or rank %d "
                   "not in 0 .. %d", rank, size - 1);
  clance_fragments *f = NULL;
  clance_status st = clance_dataset_fragments(ds, &f, err);
  if (st)
    return st;
  size_t nf = clance_fragments_count(f), lo, hi;
  uint64_t *live = malloc((nf ? nf : 1) * sizeof *live), first, rows = 0;
  if (!live) {
    clance_fragments_free(f);
    return set_err(err, CLANCE_ENOMEM, "out of memory listing %zu fragments", nf);
  }
  clance_fragments_live_rows(f, live);
  share_of(nf, live, rank, size, &lo, &hi, &first);
  for (size_t i = lo; i < hi; i++)
    rows += live[i];
  if (first_fragment)
    *first_fragment = lo;
  if (num_fragments)
    *num_fragments = hi - lo;
  if (first_row)
    *first_row = first;
  if (num_rows)
    *num_rows = rows;
  free(live);
  clance_fragments_free(f);
  return CLANCE_OK;
}

/* Phase B, local part: add the new columns to this rank's fragments of `ds`;
 * the updated fragments go to `upd` (also those done before an error, whose
 * new files the caller removes). */
static void add_local(const clance_dataset *ds, int rank, int size, const buf *text,
                      clance_mpi_values_fn values, void *user,
                      const clance_write_options *options, const clance_fragments *orig,
                      clance_fragments *upd, clance_error *e) {
  size_t nf = clance_fragments_count(orig);
  uint64_t *ids = malloc((nf ? nf : 1) * sizeof *ids);
  uint64_t *live = malloc((nf ? nf : 1) * sizeof *live);
  if (!ids || !live) {
    set_err(e, CLANCE_ENOMEM, "out of memory listing %zu fragments", nf);
    goto out;
  }
  clance_fragments_ids(orig, ids);
  clance_fragments_live_rows(orig, live);
  size_t lo, hi;
  uint64_t first;
  share_of(nf, live, rank, size, &lo, &hi, &first);
  for (size_t i = lo; i < hi && !e->code; i++) {
    struct ArrowArrayStream s;
    struct ArrowSchema ss;
    memset(&s, 0, sizeof s);
    memset(&ss, 0, sizeof ss);
    unsigned long long id = (unsigned long long)ids[i];
    clance_error ce = {CLANCE_OK, ""};
    clance_status st = values(user, ds, ids[i], first, live[i], &s, &ce);
    if (st) {
      set_err(e, st, "fragment %llu: %s", id, ce.code ? ce.message : "the values callback failed");
      if (s.release)
        s.release(&s);
      break;
    }
    if (!s.release) {
      set_err(e, CLANCE_EINVAL, "fragment %llu: the values callback gave no stream", id);
      break;
    }
    int rc = s.get_schema(&s, &ss);
    if (rc) {
      const char *msg = s.get_last_error ? s.get_last_error(&s) : NULL;
      set_err(e, errno_to_status(rc), "fragment %llu: reading the values' schema: %s", id,
              msg ? msg : strerror(rc));
      s.release(&s);
      break;
    }
    buf got = {0};
    schema_text(&got, &ss, 0);
    ss.release(&ss);
    if (got.failed)
      set_err(e, CLANCE_ENOMEM, "out of memory describing a schema");
    else if (got.len != text->len || memcmp(got.data, text->data, got.len) != 0)
      set_err(e, CLANCE_ESCHEMA, "fragment %llu: the values' schema %.300s differs from the "
              "new columns %.300s", id, got.data, text->data);
    free(got.data);
    if (e->code) {
      s.release(&s);
      break;
    }
    if (clance_fragment_add_columns(ds, ids[i], &s, options, upd, &ce)) /* consumes s */
      set_err(e, ce.code, "fragment %llu: %s", id, ce.message);
    first += live[i];
  }
out:
  free(ids);
  free(live);
}

/* Phase B, root part: commit one Merge over every rank's updated fragments. */
static void commit_merge(const char *uri, const struct ArrowSchema *new_columns, int size,
                         const char *all, const int *lens, const int *displs, uint64_t rv,
                         const clance_commit_options *copts, clance_error *outcome,
                         uint64_t *version) {
  clance_fragments *frags = NULL;
  clance_operation *op = NULL;
  clance_error e;
  for (int r = 0; r < size; r++) {
    const char *p = all + displs[r], *end = p + lens[r];
    get_status(&p, end, r, outcome);
  }
  if (outcome->code)
    return;
  if (clance_fragments_new(&frags, &e)) {
    set_err(outcome, e.code, "rank 0: %s", e.message);
    return;
  }
  for (int r = 0; r < size && !outcome->code; r++) {
    const char *p = all + displs[r], *end = p + lens[r], *json;
    size_t n;
    char source[32];
    get_status(&p, end, r, outcome);
    if (ns_get(&p, end, &json, &n)) {
      set_err(outcome, CLANCE_EINTERNAL, "rank %d: malformed record", r);
      break;
    }
    if (n == 0) /* a rank without fragments */
      continue;
    snprintf(source, sizeof source, "rank %d", r);
    clance_fragments *f = NULL;
    if (clance_fragments_from_json(json, n, source, &f, &e) ||
        clance_fragments_extend(frags, f, &e))
      set_err(outcome, e.code, "rank 0: fragments of rank %d: %s", r, e.message);
    clance_fragments_free(f);
  }
  if (!outcome->code && clance_operation_merge(new_columns, frags, &op, &e))
    set_err(outcome, e.code, "commit by rank 0: %s", e.message);
  if (!outcome->code && clance_commit(uri, op, rv, copts, version, &e))
    set_err(outcome, e.code, "commit by rank 0: %s", e.message);
  clance_operation_free(op);
  clance_fragments_free(frags);
}

clance_status clance_mpi_add_columns(MPI_Comm comm, const char *uri, uint64_t read_version,
                                     const struct ArrowSchema *new_columns,
                                     clance_mpi_values_fn values, void *user,
                                     const clance_write_options *options,
                                     const clance_commit_options *commit_options,
                                     uint64_t *out_version, clance_error *err) {
  clance_error scratch;
  if (!err)
    err = &scratch;
  err->code = CLANCE_OK;
  err->message[0] = '\0';
  if (out_version)
    *out_version = 0;
  clance_status st = check_comm(comm, "clance_mpi_add_columns", err);
  if (st)
    return st;

  int rank = 0, size = 1;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  clance_error outcome = {CLANCE_OK, ""}, e = {CLANCE_OK, ""};
  buf text = {0}, rec = {0};
  char *all = NULL, *json = NULL, *orig_json = NULL;
  int *lens = NULL, *displs = NULL;
  uint64_t rv = 0, version = 0;
  clance_dataset *ds = NULL;
  clance_fragments *orig = NULL, *upd = NULL;

  /* A. Same arguments everywhere? */
  if (!uri || !*uri)
    set_err(&e, CLANCE_EINVAL, "clance_mpi_add_columns: the dataset URI is empty");
  else if (!values)
    set_err(&e, CLANCE_EINVAL, "clance_mpi_add_columns: no values callback");
  else if (!new_columns || !new_columns->format || !new_columns->release)
    set_err(&e, CLANCE_EINVAL, "clance_mpi_add_columns: the new columns' schema is NULL or "
            "released");
  else if (strcmp(new_columns->format, "+s") != 0 || new_columns->n_children < 1)
    set_err(&e, CLANCE_EINVAL, "clance_mpi_add_columns: the new columns must be a struct "
            "schema of at least one column");
  if (!e.code) {
    schema_text(&text, new_columns, 0);
    if (text.failed)
      set_err(&e, CLANCE_ENOMEM, "out of memory describing the schema");
  }
  put_status(&rec, &e);
  ns_u64(&rec, read_version);
  ns_str(&rec, uri);
  ns_put(&rec, text.data ? text.data : "", text.len);
  st = gather(comm, rank, size, &rec, &all, &lens, &displs, &outcome);
  if (rank == ROOT && !st)
    check_add_records(uri, read_version, size, all, lens, displs, &outcome, &rv);
  free_gathered(all, lens, displs);
  free(rec.data);
  memset(&rec, 0, sizeof rec);
  if ((st = bcast_outcome(comm, &outcome, &rv, err)))
    goto done;

  /* B. Add the columns to this rank's fragments, gather them, commit. */
  if (!outcome.code) {
    e.code = CLANCE_OK;
    e.message[0] = '\0';
    clance_error je;
    if (!clance_dataset_open(uri, rv, &ds, &e) && !clance_dataset_fragments(ds, &orig, &e) &&
        !clance_fragments_new(&upd, &e))
      add_local(ds, rank, size, &text, values, user, options, orig, upd, &e);
    if (upd && clance_fragments_count(upd) && clance_fragments_to_json(upd, &json, &je)) {
      json = NULL;
      if (!e.code)
        set_err(&e, je.code, "%s", je.message);
    }
    put_status(&rec, &e);
    ns_str(&rec, e.code ? NULL : json);
    st = gather(comm, rank, size, &rec, &all, &lens, &displs, &outcome);
    if (rank == ROOT && !st)
      commit_merge(uri, new_columns, size, all, lens, displs, rv, commit_options, &outcome,
                   &version);
    free_gathered(all, lens, displs);
    if ((st = bcast_outcome(comm, &outcome, &version, err)))
      goto done;
    /* C. Nothing committed: remove the new files this rank wrote (never the
     * fragments' existing ones), then wait for all. */
    if (outcome.code) {
      /* Without the list of existing files nothing can be told apart: keep all. */
      int known = json && !clance_fragments_to_json(orig, &orig_json, &je);
      if ((st = discard_and_wait(comm, uri, known ? json : NULL, orig_json, err)))
        goto done;
    }
  }
  *err = outcome;
  st = outcome.code;
  if (!st && out_version)
    *out_version = version;

done:
  clance_fragments_free(upd);
  clance_fragments_free(orig);
  clance_dataset_close(ds);
  free(text.data);
  free(rec.data);
  clance_free(json);
  clance_free(orig_json);
  return st;
}
