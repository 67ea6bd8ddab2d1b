#include "io/fs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#define STAGE_FLUSH (1u << 20)
/* A durable file starts its writeback every this many bytes. */
#define WRITEBACK_STEP (8u << 20)

clance_status cl_uri_to_path(const char *uri, char **out, clance_error *err) {
  *out = NULL;
  if (!uri || !*uri)
    return cl_err(err, CLANCE_EINVAL, "dataset URI is empty");
  const char *p = uri;
  if (strncmp(uri, "file://", 7) == 0) {
    p = uri + 7;
  } else {
    const char *colon = strstr(uri, "://");
    if (colon)
      return cl_err(err, CLANCE_EUNSUPPORTED,
                    "URI %s: only local paths and file:// URIs are supported", uri);
  }
  size_t n = strlen(p);
  while (n > 1 && p[n - 1] == '/')
    n--; /* "x.lance/" and "x.lance" name the same dataset */
  if (!(*out = cl_strndup(p, n, err)))
    return err->code;
  return CLANCE_OK;
}

char *cl_path_join(const char *a, const char *b, clance_error *err) {
  size_t la = strlen(a), lb = strlen(b);
  char *p = cl_malloc(la + lb + 2, err);
  if (!p)
    return NULL;
  memcpy(p, a, la);
  size_t k = la;
  if (la && a[la - 1] != '/')
    p[k++] = '/';
  memcpy(p + k, b, lb + 1);
  return p;
}

clance_status cl_file_read_all(const char *path, size_t max_size, cl_buf *out, clance_error *err) {
  cl_rfile f;
  CL_TRY(cl_rfile_open(path, &f, err));
  if (f.size > max_size) {
    cl_rfile_close(&f);
    return cl_err(err, CLANCE_ECORRUPT, "%s: file of %llu bytes is larger than the %zu allowed",
                  path, (unsigned long long)f.size, max_size);
  }
  clance_status st = cl_buf_reserve(out, (size_t)f.size, err);
  if (!st)
    st = cl_rfile_read(&f, 0, f.size, out->data + out->len, err);
  if (!st)
    out->len += (size_t)f.size;
  cl_rfile_close(&f);
  return st;
}

clance_status cl_rfile_open(const char *path, cl_rfile *f, clance_error *err) {
  memset(f, 0, sizeof *f);
  f->fd = -1;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return cl_err_errno(err, errno, "open", path);
  struct stat st;
  if (fstat(fd, &st) != 0) {
    int e = errno;
    close(fd);
    return cl_err_errno(err, e, "stat", path);
  }
  if (!S_ISREG(st.st_mode)) {
    close(fd);
    return cl_err(err, CLANCE_EIO, "%s is not a regular file", path);
  }
  if (!(f->path = cl_strdup(path, err))) {
    close(fd);
    return err->code;
  }
  f->fd = fd;
  f->size = (uint64_t)st.st_size;
  return CLANCE_OK;
}

clance_status cl_rfile_read(const cl_rfile *f, uint64_t off, uint64_t len, void *dst,
                            clance_error *err) {
  uint64_t end;
  if (cl_add_overflows(off, len, &end) || end > f->size)
    return cl_err(err, CLANCE_ECORRUPT,
                  "%s: read of %llu bytes at offset %llu is past the end of the file (%llu bytes)",
                  f->path, (unsigned long long)len, (unsigned long long)off,
                  (unsigned long long)f->size);
  uint8_t *d = dst;
  while (len > 0) {
    ssize_t r = pread(f->fd, d, len > (1u << 30) ? (1u << 30) : (size_t)len, (off_t)off);
    if (r < 0) {
      if (errno == EINTR)
        continue;
      return cl_err_errno(err, errno, "read", f->path);
    }
    if (r == 0)
      return cl_err(err, CLANCE_ECORRUPT, "%s: unexpected end of file at offset %llu", f->path,
                    (unsigned long long)off);
    d += r;
    off += (uint64_t)r;
    len -= (uint64_t)r;
  }
  return CLANCE_OK;
}

void cl_rfile_close(cl_rfile *f) {
  if (f->fd >= 0)
    close(f->fd);
  free(f->path);
  f->fd = -1;
  f->path = NULL;
}

static clance_status write_all(int fd, const void *data, size_t n, const char *path,
                               clance_error *err) {
  const uint8_t *p = data;
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR)
        continue;
      return cl_err_errno(err, errno, "write", path);
    }
    p += w;
    n -= (size_t)w;
  }
  return CLANCE_OK;
}

clance_status cl_wfile_create(const char *path, int durable, cl_wfile *f, clance_error *err) {
  memset(f, 0, sizeof *f);
  f->fd = -1;
  f->durable = durable;
  int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0)
    return cl_err_errno(err, errno, "create", path);
  if (!(f->path = cl_strdup(path, err))) {
    close(fd);
    unlink(path);
    return err->code;
  }
  f->fd = fd;
  return CLANCE_OK;
}

/* Hand bytes to the kernel; for a durable file, start the writeback of what
 * accumulated since the last start (asynchronous: the fsync at close waits).
 * Failures of the hint are ignored: the fsync reports real errors. */
static clance_status wfile_out(cl_wfile *f, const void *data, size_t n, clance_error *err) {
  CL_TRY(write_all(f->fd, data, n, f->path, err));
  f->on_disk += n;
#if defined(__linux__) && defined(SYNC_FILE_RANGE_WRITE)
  if (f->durable && f->on_disk - f->writeback >= WRITEBACK_STEP) {
    (void)sync_file_range(f->fd, (off_t)f->writeback, (off_t)(f->on_disk - f->writeback),
                          SYNC_FILE_RANGE_WRITE);
    f->writeback = f->on_disk;
  }
#endif
  return CLANCE_OK;
}

static clance_status wfile_flush(cl_wfile *f, clance_error *err) {
  if (f->stage.len == 0)
    return CLANCE_OK;
  CL_TRY(wfile_out(f, f->stage.data, f->stage.len, err));
  f->stage.len = 0;
  return CLANCE_OK;
}

clance_status cl_wfile_write(cl_wfile *f, const void *data, size_t n, clance_error *err) {
  if (n >= STAGE_FLUSH) {
    /* Large buffers bypass the staging copy. */
    CL_TRY(wfile_flush(f, err));
    CL_TRY(wfile_out(f, data, n, err));
  } else {
    CL_TRY(cl_buf_append(&f->stage, data, n, err));
    if (f->stage.len >= STAGE_FLUSH)
      CL_TRY(wfile_flush(f, err));
  }
  f->pos += n;
  return CLANCE_OK;
}

clance_status cl_wfile_pad(cl_wfile *f, size_t align, uint8_t byte, clance_error *err) {
  size_t rem = (size_t)(f->pos % align);
  if (!rem)
    return CLANCE_OK;
  uint8_t pad[64];
  size_t n = align - rem;
  memset(pad, byte, sizeof pad);
  while (n) {
    size_t k = n < sizeof pad ? n : sizeof pad;
    CL_TRY(cl_wfile_write(f, pad, k, err));
    n -= k;
  }
  return CLANCE_OK;
}

clance_status cl_wfile_close(cl_wfile *f, int sync, clance_error *err) {
  clance_status st = wfile_flush(f, err);
  if (!st && sync && fsync(f->fd) != 0)
    st = cl_err_errno(err, errno, "fsync", f->path);
  if (close(f->fd) != 0 && !st)
    st = cl_err_errno(err, errno, "close", f->path);
  f->fd = -1;
  cl_buf_free(&f->stage);
  free(f->path);
  f->path = NULL;
  return st;
}

void cl_wfile_abort(cl_wfile *f) {
  if (f->fd >= 0) {
    close(f->fd);
    if (f->path)
      unlink(f->path);
  }
  f->fd = -1;
  cl_buf_free(&f->stage);
  free(f->path);
  f->path = NULL;
}

clance_status cl_mkdirs(const char *dir, clance_error *err) {
  if (cl_is_dir(dir))
    return CLANCE_OK; /* the usual case: one stat instead of a mkdir per level */
  char *p = cl_strdup(dir, err);
  if (!p)
    return err->code;
  size_t n = strlen(p);
  for (size_t i = 1; i <= n; i++) {
    if (p[i] == '/' || p[i] == '\0') {
      char c = p[i];
      p[i] = '\0';
      if (mkdir(p, 0755) != 0 && errno != EEXIST) {
        int e = errno;
        clance_status st = cl_err_errno(err, e, "mkdir", p);
        free(p);
        return st;
      }
      p[i] = c;
    }
  }
  free(p);
  if (!cl_is_dir(dir))
    return cl_err(err, CLANCE_EIO, "%s exists and is not a directory", dir);
  return CLANCE_OK;
}

clance_status cl_fsync_dir(const char *dir, clance_error *err) {
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return cl_err_errno(err, errno, "open directory", dir);
  int rc = fsync(fd);
  int e = errno;
  close(fd);
  if (rc != 0 && e != EINVAL) /* some file systems cannot sync directories */
    return cl_err_errno(err, e, "fsync directory", dir);
  return CLANCE_OK;
}

static char *dir_of(const char *path, clance_error *err) {
  const char *slash = strrchr(path, '/');
  if (!slash)
    return cl_strdup(".", err);
  if (slash == path)
    return cl_strdup("/", err);
  return cl_strndup(path, (size_t)(slash - path), err);
}

static clance_status write_tmp(const char *tmp, const void *data, size_t n, int sync,
                               clance_error *err) {
  int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0)
    return cl_err_errno(err, errno, "create", tmp);
  clance_status st = write_all(fd, data, n, tmp, err);
  if (!st && sync && fsync(fd) != 0)
    st = cl_err_errno(err, errno, "fsync", tmp);
  if (close(fd) != 0 && !st)
    st = cl_err_errno(err, errno, "close", tmp);
  if (st)
    unlink(tmp);
  return st;
}

static clance_status tmp_name(const char *final_path, char *out, size_t n, clance_error *err) {
  uint64_t r;
  CL_TRY(cl_random_bytes(&r, sizeof r, err));
  /* The name must not end in "manifest": Lance would take it for a V1
   * manifest while it exists. */
  if ((size_t)snprintf(out, n, "%s#%016llx", final_path, (unsigned long long)r) >= n)
    return cl_err(err, CLANCE_EINVAL, "path too long: %s", final_path);
  return CLANCE_OK;
}

clance_status cl_stage_write(const char *final_path, const void *data, size_t n, char *tmp,
                             clance_error *err) {
  CL_TRY(tmp_name(final_path, tmp, CL_STAGE_NAME_MAX, err));
  return write_tmp(tmp, data, n, 0, err);
}

clance_status cl_stage_publish(const char *tmp, const char *final_path, int sync,
                               clance_error *err) {
  clance_status st = CLANCE_OK;
  int done = 0;
#if defined(__linux__) && defined(RENAME_NOREPLACE)
  /* One atomic step instead of link + unlink, where the file system has it. */
  if (renameat2(AT_FDCWD, tmp, AT_FDCWD, final_path, RENAME_NOREPLACE) == 0) {
    done = 1;
  } else if (errno == EEXIST) {
    unlink(tmp);
    return cl_err(err, CLANCE_EEXISTS, "%s already exists", final_path);
  }
#endif
  if (!done) {
    if (link(tmp, final_path) != 0) {
      int e = errno;
      st = e == EEXIST ? cl_err(err, CLANCE_EEXISTS, "%s already exists", final_path)
                       : cl_err_errno(err, e, "link", final_path);
    }
    unlink(tmp);
  }
  if (st == CLANCE_OK && sync) {
    char *dir = dir_of(final_path, err);
    if (!dir)
      return err->code;
    st = cl_fsync_dir(dir, err);
    free(dir);
  }
  return st;
}

clance_status cl_put_if_absent(const char *final_path, const void *data, size_t n, int sync,
                               clance_error *err) {
  char tmp[CL_STAGE_NAME_MAX];
  CL_TRY(tmp_name(final_path, tmp, sizeof tmp, err));
  CL_TRY(write_tmp(tmp, data, n, sync, err));
  return cl_stage_publish(tmp, final_path, sync, err);
}

typedef struct fsync_job {
  const char *path;
  int err_no;           /* 0 = synced */
  const char *what;     /* the call that failed */
} fsync_job;

static void *fsync_one(void *arg) {
  fsync_job *j = arg;
  int fd = open(j->path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    j->err_no = errno, j->what = "open";
    return NULL;
  }
  /* Some file systems cannot sync directories (EINVAL): nothing to wait for. */
  if (fsync(fd) != 0 && errno != EINVAL)
    j->err_no = errno, j->what = "fsync";
  close(fd);
  return NULL;
}

#define FSYNC_MAX_PARALLEL 8

clance_status cl_fsync_paths(const char *const *paths, size_t n, clance_error *err) {
  for (size_t at = 0; at < n; at += FSYNC_MAX_PARALLEL) {
    size_t k = n - at < FSYNC_MAX_PARALLEL ? n - at : FSYNC_MAX_PARALLEL;
    fsync_job jobs[FSYNC_MAX_PARALLEL];
    pthread_t th[FSYNC_MAX_PARALLEL];
    int started[FSYNC_MAX_PARALLEL] = {0};
    for (size_t i = 0; i < k; i++)
      jobs[i] = (fsync_job){paths[at + i], 0, NULL};
    /* The first on this thread, the others on their own (run inline when a
     * thread cannot be started). */
    for (size_t i = 1; i < k; i++)
      started[i] = pthread_create(&th[i], NULL, fsync_one, &jobs[i]) == 0;
    fsync_one(&jobs[0]);
    for (size_t i = 1; i < k; i++) {
      if (started[i])
        pthread_join(th[i], NULL);
      else
        fsync_one(&jobs[i]);
    }
    for (size_t i = 0; i < k; i++)
      if (jobs[i].err_no)
        return cl_err_errno(err, jobs[i].err_no, jobs[i].what, jobs[i].path);
  }
  return CLANCE_OK;
}

clance_status cl_put_in_place(const char *path, const void *data, size_t n, clance_error *err) {
  int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0)
    return cl_err_errno(err, errno, "open", path);
  clance_status st = CLANCE_OK;
  ssize_t w = pwrite(fd, data, n, 0);
  if (w < 0 || (size_t)w != n)
    st = cl_err_errno(err, w < 0 ? errno : EIO, "write", path);
  else if (ftruncate(fd, (off_t)n) != 0)
    st = cl_err_errno(err, errno, "truncate", path);
  close(fd);
  return st;
}

clance_status cl_put_replace(const char *path, const void *data, size_t n, int sync,
                             clance_error *err) {
  char tmp[4200];
  CL_TRY(tmp_name(path, tmp, sizeof tmp, err));
  CL_TRY(write_tmp(tmp, data, n, sync, err));
  if (rename(tmp, path) != 0) {
    int e = errno;
    unlink(tmp);
    return cl_err_errno(err, e, "rename", path);
  }
  return CLANCE_OK;
}

clance_status cl_put_new(const char *path, const void *data, size_t n, int sync,
                         clance_error *err) {
  return write_tmp(path, data, n, sync, err);
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

clance_status cl_list_dir(const char *dir, cl_dirlist *out, clance_error *err) {
  out->n = 0;
  out->names = NULL;
  DIR *d = opendir(dir);
  if (!d)
    return cl_err_errno(err, errno, "list", dir);
  size_t cap = 0;
  struct dirent *e;
  clance_status st = CLANCE_OK;
  errno = 0;
  while ((e = readdir(d))) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
      continue;
    if (out->n == cap) {
      cap = cap ? cap * 2 : 16;
      char **nn = realloc(out->names, cap * sizeof *nn);
      if (!nn) {
        st = cl_err_nomem(err, "directory listing");
        break;
      }
      out->names = nn;
    }
    if (!(out->names[out->n] = cl_strdup(e->d_name, err))) {
      st = err->code;
      break;
    }
    out->n++;
  }
  closedir(d);
  if (st) {
    cl_dirlist_free(out);
    return st;
  }
  if (out->n)
    qsort(out->names, out->n, sizeof *out->names, cmp_str);
  return CLANCE_OK;
}

void cl_dirlist_free(cl_dirlist *l) {
  for (size_t i = 0; i < l->n; i++)
    free(l->names[i]);
  free(l->names);
  l->names = NULL;
  l->n = 0;
}

int cl_path_exists(const char *path) {
  struct stat st;
  return stat(path, &st) == 0;
}

int cl_is_dir(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

clance_status cl_random_bytes(void *dst, size_t n, clance_error *err) {
  uint8_t *p = dst;
  while (n) {
    ssize_t r = getrandom(p, n, 0);
    if (r < 0) {
      if (errno == EINTR)
        continue;
      return cl_err_errno(err, errno, "getrandom", "");
    }
    p += r;
    n -= (size_t)r;
  }
  return CLANCE_OK;
}
