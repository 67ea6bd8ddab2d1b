/* Replays fuzz inputs without libFuzzer: every argument is a file or a
 * directory of files, each passed to LLVMFuzzerTestOneInput, followed by
 * `-m N` deterministic mutations of it (byte flips, truncations, splices).
 * With no files it runs random inputs, so ctest exercises every harness. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int mutations = 0;
static uint64_t rng = 0x9E3779B97F4A7C15ull;

static uint64_t next_rand(void) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return rng;
}

/* Mutate a copy of a valid input: the interesting failures live near it. */
static void run_mutations(const uint8_t *orig, size_t n) {
  uint8_t *buf = malloc(n + 64);
  if (!buf)
    return;
  for (int m = 0; m < mutations; m++) {
    memcpy(buf, orig, n);
    size_t len = n;
    int edits = 1 + (int)(next_rand() % 4);
    for (int e = 0; e < edits && len > 0; e++) {
      size_t at = (size_t)(next_rand() % len);
      switch (next_rand() % 5) {
      case 0: buf[at] ^= (uint8_t)(1u << (next_rand() % 8)); break;
      case 1: buf[at] = (uint8_t)next_rand(); break;
      case 2: len = at; break; /* truncate */
      case 3: buf[at] = (uint8_t)(next_rand() % 2 ? 0xff : 0x00); break;
      default: {                /* overwrite 8 bytes with a "large" value */
        for (size_t k = 0; k < 8 && at + k < len; k++)
          buf[at + k] = k == 7 ? 0x7f : 0xff;
      }
      }
    }
    LLVMFuzzerTestOneInput(buf, len);
  }
  free(buf);
}

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
  run_mutations(buf, (size_t)n);
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
  int rc = 0, files = 0;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "-m") && i + 1 < argc) {
      mutations = atoi(argv[++i]);
      continue;
    }
    rc |= run_path(argv[i]);
    files++;
  }
  if (files == 0) {
    /* Random inputs: cheap smoke coverage of the error paths. */
    /* 20,000 inputs or 15 seconds, whichever comes first: some harnesses
     * (FSST table building) are slow under the sanitizers. */
    uint8_t buf[4096];
    time_t stop = time(NULL) + 15;
    for (int it = 0; it < 20000 && (it % 64 || time(NULL) < stop); it++) {
      /* Mostly short inputs, where parsers spend their first checks. */
      size_t n = (size_t)(next_rand() % (it % 4 ? 256 : sizeof buf));
      for (size_t k = 0; k < n; k++)
        buf[k] = (uint8_t)next_rand();
      LLVMFuzzerTestOneInput(buf, n);
    }
  }
  return rc;
}
