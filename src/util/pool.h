/* A small fixed pool of worker threads running jobs in FIFO order. */
#ifndef CL_UTIL_POOL_H
#define CL_UTIL_POOL_H

#include "util/error.h"

typedef struct cl_pool cl_pool;
typedef void (*cl_pool_fn)(void *arg);

/* Start n >= 1 threads. */
clance_status cl_pool_new(unsigned n, cl_pool **out, clance_error *err);
/* Queue fn(arg); jobs start in submission order. */
clance_status cl_pool_submit(cl_pool *p, cl_pool_fn fn, void *arg, clance_error *err);
/* Run the queued jobs to the end, stop the threads and free the pool. */
void cl_pool_free(cl_pool *p);
/* Online cores (at least 1). */
unsigned cl_cpu_count(void);

#endif
