/* LD_PRELOAD interposer for tests/cli/fsync_test.sh: logs every fsync,
 * fdatasync and sync_file_range (with the path of the file or directory) to
 * the file named by $CLANCE_SYNC_LOG, then calls the real function, so a
 * test can assert which files a command makes durable. */
#include <dlfcn.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The project builds with -fvisibility=hidden; these must be seen. */
#define EXPORT __attribute__((visibility("default")))

static void log_call(const char *what, int fd) {
  const char *log = getenv("CLANCE_SYNC_LOG");
  if (!log)
    return;
  char link[64], path[4096];
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  ssize_t n = readlink(link, path, sizeof path - 1);
  path[n > 0 ? n : 0] = '\0';
  char line[4200];
  int len = snprintf(line, sizeof line, "%s %s\n", what, path);
  int out = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (out >= 0) {
    /* O_APPEND: whole lines, also from several threads. */
    ssize_t w = write(out, line, (size_t)len < sizeof line ? (size_t)len : sizeof line - 1);
    (void)w;
    close(out);
  }
}

EXPORT int fsync(int fd) {
  int (*real)(int) = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
  log_call("fsync", fd);
  return real(fd);
}

EXPORT int fdatasync(int fd) {
  int (*real)(int) = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
  log_call("fdatasync", fd);
  return real(fd);
}

EXPORT int sync_file_range(int fd, off_t off, off_t n, unsigned int flags) {
  int (*real)(int, off_t, off_t, unsigned int) =
      (int (*)(int, off_t, off_t, unsigned int))dlsym(RTLD_NEXT, "sync_file_range");
  log_call("sync_file_range", fd);
  return real(fd, off, n, flags);
}
