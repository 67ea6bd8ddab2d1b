#include "util/pool.h"
#include "util/buf.h"

#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

typedef struct pool_job {
  struct pool_job *next;
  cl_pool_fn fn;
  void *arg;
} pool_job;

struct cl_pool {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  pool_job *head, *tail;
  int stop;
  unsigned n;
  pthread_t *threads;
};

static void *worker(void *arg) {
  cl_pool *p = arg;
  pthread_mutex_lock(&p->mu);
  for (;;) {
    while (!p->head && !p->stop)
      pthread_cond_wait(&p->cv, &p->mu);
    pool_job *j = p->head;
    if (!j)
      break; /* stopping and nothing left */
    p->head = j->next;
    if (!p->head)
      p->tail = NULL;
    pthread_mutex_unlock(&p->mu);
    j->fn(j->arg);
    free(j);
    pthread_mutex_lock(&p->mu);
  }
  pthread_mutex_unlock(&p->mu);
  return NULL;
}

unsigned cl_cpu_count(void) {
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? (unsigned)n : 1u;
}

clance_status cl_pool_new(unsigned n, cl_pool **out, clance_error *err) {
  *out = NULL;
  cl_pool *p = cl_calloc(1, sizeof *p, err);
  if (!p)
    return err->code;
  if (n < 1)
    n = 1;
  p->threads = cl_calloc(n, sizeof *p->threads, err);
  if (!p->threads) {
    free(p);
    return err->code;
  }
  pthread_mutex_init(&p->mu, NULL);
  pthread_cond_init(&p->cv, NULL);
  for (unsigned i = 0; i < n; i++) {
    int rc = pthread_create(&p->threads[i], NULL, worker, p);
    if (rc) {
      cl_pool_free(p);
      return cl_err_errno(err, rc, "pthread_create", "writer threads");
    }
    p->n++;
  }
  *out = p;
  return CLANCE_OK;
}

clance_status cl_pool_submit(cl_pool *p, cl_pool_fn fn, void *arg, clance_error *err) {
  pool_job *j = cl_malloc(sizeof *j, err);
  if (!j)
    return err->code;
  j->next = NULL;
  j->fn = fn;
  j->arg = arg;
  pthread_mutex_lock(&p->mu);
  if (p->tail)
    p->tail->next = j;
  else
    p->head = j;
  p->tail = j;
  pthread_cond_signal(&p->cv);
  pthread_mutex_unlock(&p->mu);
  return CLANCE_OK;
}

void cl_pool_free(cl_pool *p) {
  if (!p)
    return;
  pthread_mutex_lock(&p->mu);
  p->stop = 1;
  pthread_cond_broadcast(&p->cv);
  pthread_mutex_unlock(&p->mu);
  for (unsigned i = 0; i < p->n; i++)
    pthread_join(p->threads[i], NULL);
  pthread_mutex_destroy(&p->mu);
  pthread_cond_destroy(&p->cv);
  free(p->threads);
  free(p);
}
