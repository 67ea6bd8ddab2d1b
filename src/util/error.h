/* Internal error helpers. Every internal function that can fail takes a
 * non-NULL clance_error * as its last argument and returns a clance_status. */
#ifndef CL_UTIL_ERROR_H
#define CL_UTIL_ERROR_H

#include "clance/clance.h"

#if defined(__GNUC__)
#define CL_PRINTF(a, b) __attribute__((format(printf, a, b)))
#define CL_MUST_CHECK __attribute__((warn_unused_result))
#else
#define CL_PRINTF(a, b)
#define CL_MUST_CHECK
#endif

/* Set code and message; returns code so callers can `return cl_err(...)`. */
clance_status cl_err(clance_error *err, clance_status code, const char *fmt, ...) CL_PRINTF(3, 4);

/* Prepend context ("file x: ") to an error already set; returns err->code. */
clance_status cl_err_ctx(clance_error *err, const char *fmt, ...) CL_PRINTF(2, 3);

/* Out-of-memory shortcut. */
clance_status cl_err_nomem(clance_error *err, const char *what);

/* Errors from errno after a failed system call on `path`. */
clance_status cl_err_errno(clance_error *err, int errnum, const char *op, const char *path);

void cl_err_clear(clance_error *err);

/* Arrow streams report errno values; these keep clance's codes across a
 * stream boundary (ECORRUPT <-> EBADMSG, EUNSUPPORTED <-> EOPNOTSUPP,
 * ESCHEMA <-> EDOM, ENOTFOUND <-> ENOENT, ...). */
int cl_status_to_errno(clance_status s);
clance_status cl_errno_to_status(int e);

#define CL_TRY(expr)                   \
  do {                                 \
    clance_status cl_try_s_ = (expr);  \
    if (cl_try_s_ != CLANCE_OK)        \
      return cl_try_s_;                \
  } while (0)

/* Jump to `fail` with status stored in `st` (used where cleanup is needed). */
#define CL_CHECK(st, expr)      \
  do {                          \
    (st) = (expr);              \
    if ((st) != CLANCE_OK)      \
      goto fail;                \
  } while (0)

/* A public entry point uses this so that internals always get an error object. */
#define CL_PUBLIC_ERR(err, local) clance_error local; if (!(err)) (err) = &local; cl_err_clear(err)

#endif
