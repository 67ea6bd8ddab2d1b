#include "util/error.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

clance_status cl_err(clance_error *err, clance_status code, const char *fmt, ...) {
  if (!err)
    return code;
  err->code = code;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err->message, sizeof err->message, fmt, ap);
  va_end(ap);
  return code;
}

clance_status cl_err_ctx(clance_error *err, const char *fmt, ...) {
  if (!err)
    return CLANCE_EINTERNAL;
  char prefix[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(prefix, sizeof prefix, fmt, ap);
  va_end(ap);
  /* Compose by hand: the message is deliberately truncated when too long. */
  char old[CLANCE_ERROR_MESSAGE_SIZE];
  memcpy(old, err->message, sizeof old);
  old[sizeof old - 1] = '\0';
  size_t np = strlen(prefix), no = strlen(old), cap = sizeof err->message - 1;
  if (np > cap)
    np = cap;
  if (no > cap - np)
    no = cap - np;
  memcpy(err->message, prefix, np);
  memcpy(err->message + np, old, no);
  err->message[np + no] = '\0';
  return err->code;
}

clance_status cl_err_nomem(clance_error *err, const char *what) {
  return cl_err(err, CLANCE_ENOMEM, "out of memory (%s)", what);
}

clance_status cl_err_errno(clance_error *err, int errnum, const char *op, const char *path) {
  clance_status code = (errnum == ENOENT || errnum == ENOTDIR) ? CLANCE_ENOTFOUND
                       : errnum == EEXIST                       ? CLANCE_EEXISTS
                       : errnum == ENOMEM                       ? CLANCE_ENOMEM
                                                                : CLANCE_EIO;
  return cl_err(err, code, "%s %s: %s", op, path, strerror(errnum));
}

int cl_status_to_errno(clance_status s) {
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

clance_status cl_errno_to_status(int e) {
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

void cl_err_clear(clance_error *err) {
  if (err) {
    err->code = CLANCE_OK;
    err->message[0] = '\0';
  }
}

const char *clance_status_name(clance_status status) {
  switch (status) {
  case CLANCE_OK: return "OK";
  case CLANCE_EINVAL: return "EINVAL";
  case CLANCE_ENOMEM: return "ENOMEM";
  case CLANCE_EIO: return "EIO";
  case CLANCE_ENOTFOUND: return "ENOTFOUND";
  case CLANCE_EEXISTS: return "EEXISTS";
  case CLANCE_ECORRUPT: return "ECORRUPT";
  case CLANCE_EUNSUPPORTED: return "EUNSUPPORTED";
  case CLANCE_ESCHEMA: return "ESCHEMA";
  case CLANCE_ECONFLICT_RETRYABLE: return "ECONFLICT_RETRYABLE";
  case CLANCE_ECONFLICT_INCOMPATIBLE: return "ECONFLICT_INCOMPATIBLE";
  case CLANCE_ECONTENTION: return "ECONTENTION";
  case CLANCE_EINTERNAL: return "EINTERNAL";
  }
  return "EUNKNOWN";
}

const char *clance_version(void) { return CLANCE_VERSION_STRING; }
