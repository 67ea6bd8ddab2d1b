/* LD_PRELOAD shim for the crash and conflict tests (built for tests only; the
 * library has no hooks). It wraps the libc calls through which a process
 * changes files and, driven by environment variables:
 *
 *   FAULT_KILL_AT=N     raise SIGKILL just before the N-th changing call
 *                       (calls 1..N-1 have completed, call N has not);
 *   FAULT_COUNT_OUT=F   at a normal exit, write the number of changing calls to F;
 *   FAULT_LOG=F         append "n call path" for every changing call to F;
 *   FAULT_LOG_READS=1   also log opens for reading (as "- open-r path", not counted);
 *   FAULT_PAUSE_MATCH=S and FAULT_PAUSE_DIR=D
 *                       when a file whose path contains S is about to be
 *                       created (or linked or renamed to) while D/arm exists:
 *                       remove D/arm, write "pid path" to D/paused, wait until
 *                       D/go exists (FAULT_PAUSE_TIMEOUT seconds at most,
 *                       default 120), remove D/go and go on. Such files made
 *                       while D/arm does not exist are listed in D/more.
 *
 * Changing calls: open/openat/creat/fopen for writing, write/pwrite to files
 * (not to descriptors 0-2), fsync/fdatasync, ftruncate, link/linkat,
 * unlink/unlinkat/remove, rename/renameat/renameat2, mkdir/mkdirat, and close
 * of a descriptor opened for writing. Reads are not counted: killing a process
 * before a read leaves the files as killing it after the previous change.
 *
 * The pause is how the tests make the real Lance (node, npm @lancedb/lancedb)
 * commit against a stale version deterministically: Lance writes its
 * transaction file after reading the latest version and before publishing the
 * manifest, so pausing on "_transactions/" lets another committer go first. */
#undef _FORTIFY_SOURCE /* the wrappers below must be plain functions */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#define EXPORT __attribute__((visibility("default")))

static unsigned long kill_at; /* 0 = never */
static unsigned long counted; /* changing calls so far */
static const char *count_out, *log_path, *pause_match, *pause_dir;
static double pause_timeout = 120;
static int log_reads;
static unsigned char wfd[65536]; /* descriptors opened for writing */

/* Raw system calls for the shim's own files, so that they are never counted
 * and never recurse into the wrappers. */
static int raw_open(const char *p, int flags, mode_t mode) {
  return (int)syscall(SYS_openat, AT_FDCWD, p, flags, mode);
}
static void raw_write_all(int fd, const char *s, size_t n) {
  while (n) {
    long w = syscall(SYS_write, fd, s, n);
    if (w <= 0)
      return;
    s += w;
    n -= (size_t)w;
  }
}
static void raw_close(int fd) { syscall(SYS_close, fd); }

static void append_line(const char *file, const char *line) {
  int fd = raw_open(file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0)
    return;
  raw_write_all(fd, line, strlen(line));
  raw_close(fd);
}

__attribute__((constructor)) static void init(void) {
  const char *k = getenv("FAULT_KILL_AT");
  kill_at = k && *k ? strtoul(k, NULL, 10) : 0;
  count_out = getenv("FAULT_COUNT_OUT");
  log_path = getenv("FAULT_LOG");
  pause_match = getenv("FAULT_PAUSE_MATCH");
  pause_dir = getenv("FAULT_PAUSE_DIR");
  const char *t = getenv("FAULT_PAUSE_TIMEOUT");
  if (t && *t)
    pause_timeout = strtod(t, NULL);
  const char *lr = getenv("FAULT_LOG_READS");
  log_reads = lr && *lr == '1';
  if (pause_match && !*pause_match)
    pause_match = NULL;
}

__attribute__((destructor)) static void fini(void) {
  if (!count_out || !*count_out)
    return;
  char b[32];
  int n = snprintf(b, sizeof b, "%lu\n", counted);
  int fd = raw_open(count_out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd >= 0) {
    raw_write_all(fd, b, (size_t)n);
    raw_close(fd);
  }
}

/* One changing call: count it, log it, and die if it is the chosen one. */
static void step(const char *call, const char *path) {
  counted++;
  if (log_path && *log_path) {
    char line[4200];
    snprintf(line, sizeof line, "%lu %s %s\n", counted, call, path ? path : "-");
    append_line(log_path, line);
  }
  if (kill_at && counted == kill_at) {
    kill(getpid(), SIGKILL);
    _exit(137); /* not reached */
  }
}

static const char *fd_path(int fd, char *buf, size_t n) {
  char link[64];
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  ssize_t r = readlink(link, buf, n - 1);
  if (r < 0)
    return "?";
  buf[r] = '\0';
  return buf;
}

static void pause_if_matching(const char *path) {
  if (!pause_match || !pause_dir || !path || !strstr(path, pause_match))
    return;
  char arm[4200], f[4200], line[4200];
  snprintf(arm, sizeof arm, "%s/arm", pause_dir);
  if (syscall(SYS_unlinkat, AT_FDCWD, arm, 0) != 0) {
    snprintf(f, sizeof f, "%s/more", pause_dir);
    snprintf(line, sizeof line, "%s\n", path);
    append_line(f, line);
    return;
  }
  snprintf(f, sizeof f, "%s/paused", pause_dir);
  snprintf(line, sizeof line, "%d %s\n", (int)getpid(), path);
  append_line(f, line);
  snprintf(f, sizeof f, "%s/go", pause_dir);
  struct timespec ts = {0, 2 * 1000 * 1000};
  for (double waited = 0; waited < pause_timeout; waited += 0.002) {
    if (syscall(SYS_unlinkat, AT_FDCWD, f, 0) == 0)
      return;
    nanosleep(&ts, NULL);
  }
}

#define REAL(type, name) ((type)dlsym(RTLD_NEXT, name))

static int writing(int flags) {
  return (flags & O_ACCMODE) != O_RDONLY || (flags & (O_CREAT | O_TRUNC));
}

static void opened(int fd, int flags) {
  if (fd >= 0 && (size_t)fd < sizeof wfd)
    wfd[fd] = (unsigned char)writing(flags);
}

static int do_open(const char *name, int dirfd, const char *path, int flags, mode_t mode) {
  if (writing(flags)) {
    if (flags & O_CREAT)
      pause_if_matching(path);
    step(name, path);
  } else if (log_reads && log_path && *log_path) {
    char line[4200];
    snprintf(line, sizeof line, "- open-r %s\n", path);
    append_line(log_path, line);
  }
  int fd;
  if (dirfd == -1000) {
    int (*f)(const char *, int, ...) = REAL(int (*)(const char *, int, ...), name);
    fd = f(path, flags, mode);
  } else {
    int (*f)(int, const char *, int, ...) = REAL(int (*)(int, const char *, int, ...), name);
    fd = f(dirfd, path, flags, mode);
  }
  opened(fd, flags);
  return fd;
}

static mode_t get_mode(int flags, va_list ap) {
  if ((flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE)
    return (mode_t)va_arg(ap, int);
  return 0;
}

EXPORT int open(const char *path, int flags, ...) {
  va_list ap;
  va_start(ap, flags);
  mode_t m = get_mode(flags, ap);
  va_end(ap);
  return do_open("open", -1000, path, flags, m);
}

EXPORT int open64(const char *path, int flags, ...) {
  va_list ap;
  va_start(ap, flags);
  mode_t m = get_mode(flags, ap);
  va_end(ap);
  return do_open("open64", -1000, path, flags, m);
}

EXPORT int openat(int dirfd, const char *path, int flags, ...) {
  va_list ap;
  va_start(ap, flags);
  mode_t m = get_mode(flags, ap);
  va_end(ap);
  return do_open("openat", dirfd, path, flags, m);
}

EXPORT int openat64(int dirfd, const char *path, int flags, ...) {
  va_list ap;
  va_start(ap, flags);
  mode_t m = get_mode(flags, ap);
  va_end(ap);
  return do_open("openat64", dirfd, path, flags, m);
}

EXPORT int creat(const char *path, mode_t mode) {
  return open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
}

EXPORT int creat64(const char *path, mode_t mode) {
  return open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
}

EXPORT FILE *fopen(const char *path, const char *mode) {
  if (strpbrk(mode, "wa+")) {
    if (strpbrk(mode, "wa"))
      pause_if_matching(path);
    step("fopen", path);
  }
  return REAL(FILE * (*)(const char *, const char *), "fopen")(path, mode);
}

EXPORT FILE *fopen64(const char *path, const char *mode) {
  if (strpbrk(mode, "wa+")) {
    if (strpbrk(mode, "wa"))
      pause_if_matching(path);
    step("fopen64", path);
  }
  return REAL(FILE * (*)(const char *, const char *), "fopen64")(path, mode);
}

static int counted_fd(int fd) { return fd > 2; }

EXPORT ssize_t write(int fd, const void *buf, size_t n) {
  if (counted_fd(fd)) {
    char p[4096];
    step("write", log_path ? fd_path(fd, p, sizeof p) : NULL);
  }
  return REAL(ssize_t(*)(int, const void *, size_t), "write")(fd, buf, n);
}

EXPORT ssize_t pwrite(int fd, const void *buf, size_t n, off_t off) {
  if (counted_fd(fd)) {
    char p[4096];
    step("pwrite", log_path ? fd_path(fd, p, sizeof p) : NULL);
  }
  return REAL(ssize_t(*)(int, const void *, size_t, off_t), "pwrite")(fd, buf, n, off);
}

EXPORT ssize_t pwrite64(int fd, const void *buf, size_t n, off_t off) {
  if (counted_fd(fd)) {
    char p[4096];
    step("pwrite64", log_path ? fd_path(fd, p, sizeof p) : NULL);
  }
  return REAL(ssize_t(*)(int, const void *, size_t, off_t), "pwrite64")(fd, buf, n, off);
}

EXPORT int fsync(int fd) {
  char p[4096];
  step("fsync", log_path ? fd_path(fd, p, sizeof p) : NULL);
  return REAL(int (*)(int), "fsync")(fd);
}

EXPORT int fdatasync(int fd) {
  char p[4096];
  step("fdatasync", log_path ? fd_path(fd, p, sizeof p) : NULL);
  return REAL(int (*)(int), "fdatasync")(fd);
}

EXPORT int ftruncate(int fd, off_t len) {
  char p[4096];
  step("ftruncate", log_path ? fd_path(fd, p, sizeof p) : NULL);
  return REAL(int (*)(int, off_t), "ftruncate")(fd, len);
}

EXPORT int close(int fd) {
  if (fd >= 0 && (size_t)fd < sizeof wfd && wfd[fd]) {
    char p[4096];
    step("close", log_path ? fd_path(fd, p, sizeof p) : NULL);
    wfd[fd] = 0;
  }
  return REAL(int (*)(int), "close")(fd);
}

EXPORT int link(const char *a, const char *b) {
  pause_if_matching(b);
  step("link", b);
  return REAL(int (*)(const char *, const char *), "link")(a, b);
}

EXPORT int linkat(int da, const char *a, int db, const char *b, int flags) {
  pause_if_matching(b);
  step("linkat", b);
  return REAL(int (*)(int, const char *, int, const char *, int), "linkat")(da, a, db, b, flags);
}

EXPORT int unlink(const char *p) {
  step("unlink", p);
  return REAL(int (*)(const char *), "unlink")(p);
}

EXPORT int unlinkat(int d, const char *p, int flags) {
  step("unlinkat", p);
  return REAL(int (*)(int, const char *, int), "unlinkat")(d, p, flags);
}

EXPORT int remove(const char *p) {
  step("remove", p);
  return REAL(int (*)(const char *), "remove")(p);
}

EXPORT int rename(const char *a, const char *b) {
  pause_if_matching(b);
  step("rename", b);
  return REAL(int (*)(const char *, const char *), "rename")(a, b);
}

EXPORT int renameat(int da, const char *a, int db, const char *b) {
  pause_if_matching(b);
  step("renameat", b);
  return REAL(int (*)(int, const char *, int, const char *), "renameat")(da, a, db, b);
}

EXPORT int renameat2(int da, const char *a, int db, const char *b, unsigned flags) {
  pause_if_matching(b);
  step("renameat2", b);
  return REAL(int (*)(int, const char *, int, const char *, unsigned), "renameat2")(da, a, db, b,
                                                                                    flags);
}

EXPORT int mkdir(const char *p, mode_t m) {
  step("mkdir", p);
  return REAL(int (*)(const char *, mode_t), "mkdir")(p, m);
}

EXPORT int mkdirat(int d, const char *p, mode_t m) {
  step("mkdirat", p);
  return REAL(int (*)(int, const char *, mode_t), "mkdirat")(d, p, m);
}
