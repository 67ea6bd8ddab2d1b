/* Minimal unit-test harness: each test file is one executable registered with
 * ctest. A failed CHECK prints file:line and the expression, marks the test
 * failed, and continues; REQUIRE returns from the current test function. */
#ifndef CL_TEST_H
#define CL_TEST_H

#include <ftw.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cl_test_failures = 0;
static const char *cl_test_current = "";

#define CHECK(cond)                                                                 \
  do {                                                                              \
    if (!(cond)) {                                                                  \
      fprintf(stderr, "%s:%d: [%s] CHECK failed: %s\n", __FILE__, __LINE__,         \
              cl_test_current, #cond);                                              \
      cl_test_failures++;                                                           \
    }                                                                               \
  } while (0)

#define REQUIRE(cond)                                                               \
  do {                                                                              \
    if (!(cond)) {                                                                  \
      fprintf(stderr, "%s:%d: [%s] REQUIRE failed: %s\n", __FILE__, __LINE__,       \
              cl_test_current, #cond);                                              \
      cl_test_failures++;                                                           \
      return;                                                                       \
    }                                                                               \
  } while (0)

#define CHECK_EQ_U64(a, b)                                                          \
  do {                                                                              \
    uint64_t cl_a_ = (uint64_t)(a), cl_b_ = (uint64_t)(b);                          \
    if (cl_a_ != cl_b_) {                                                           \
      fprintf(stderr, "%s:%d: [%s] CHECK_EQ failed: %s == %" PRIu64 ", %s == %" PRIu64 "\n", \
              __FILE__, __LINE__, cl_test_current, #a, cl_a_, #b, cl_b_);           \
      cl_test_failures++;                                                           \
    }                                                                               \
  } while (0)

#define CHECK_STR(a, b)                                                             \
  do {                                                                              \
    const char *cl_a_ = (a), *cl_b_ = (b);                                          \
    if (!cl_a_ || !cl_b_ || strcmp(cl_a_, cl_b_) != 0) {                            \
      fprintf(stderr, "%s:%d: [%s] CHECK_STR failed: %s == \"%s\", expected \"%s\"\n", \
              __FILE__, __LINE__, cl_test_current, #a, cl_a_ ? cl_a_ : "(null)",     \
              cl_b_ ? cl_b_ : "(null)");                                            \
      cl_test_failures++;                                                           \
    }                                                                               \
  } while (0)

/* Expect a clance call to succeed; print its error message otherwise. */
#define CHECK_OK(expr, errp)                                                        \
  do {                                                                              \
    clance_status cl_s_ = (expr);                                                   \
    if (cl_s_ != CLANCE_OK) {                                                       \
      fprintf(stderr, "%s:%d: [%s] %s failed: %s: %s\n", __FILE__, __LINE__,         \
              cl_test_current, #expr, clance_status_name(cl_s_), (errp)->message);  \
      cl_test_failures++;                                                           \
    }                                                                               \
  } while (0)

#define REQUIRE_OK(expr, errp)                                                      \
  do {                                                                              \
    clance_status cl_s_ = (expr);                                                   \
    if (cl_s_ != CLANCE_OK) {                                                       \
      fprintf(stderr, "%s:%d: [%s] %s failed: %s: %s\n", __FILE__, __LINE__,         \
              cl_test_current, #expr, clance_status_name(cl_s_), (errp)->message);  \
      cl_test_failures++;                                                           \
      return;                                                                       \
    }                                                                               \
  } while (0)

#define RUN(fn)                                                                     \
  do {                                                                              \
    cl_test_current = #fn;                                                          \
    int cl_before_ = cl_test_failures;                                              \
    fn();                                                                           \
    fprintf(stderr, "%s %s\n", cl_test_failures == cl_before_ ? "ok  " : "FAIL", #fn); \
  } while (0)

#define TEST_MAIN_END() return cl_test_failures ? 1 : 0

/* A fresh scratch directory under $TMPDIR (or /tmp); caller frees. */
static inline char *cl_test_tmpdir(const char *tag) {
  const char *base = getenv("TMPDIR");
  char tmpl[4096];
  snprintf(tmpl, sizeof tmpl, "%s/clance-%s-XXXXXX", base && *base ? base : "/tmp", tag);
  char *d = mkdtemp(tmpl);
  return d ? strdup(d) : NULL;
}

static inline int cl_test_rm_entry(const char *path, const struct stat *st, int flag,
                                   struct FTW *ftw) {
  (void)st;
  (void)flag;
  (void)ftw;
  return remove(path);
}

/* Remove a scratch directory made by cl_test_tmpdir, and free its name. */
static inline void cl_test_rmtree(char *dir) {
  if (dir)
    nftw(dir, cl_test_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
  free(dir);
}

#endif
