/* The seed distributed write through the public API of an installed clance:
 * two workers write 3 rows each of {a: int32, b: utf8} as fragments and hand
 * them on as JSON; the coordinator commits one Overwrite at read version 0;
 * the reopened dataset must be version 1 with 2 fragments and the 6 rows in
 * order.   consumer DATASET_DIR      (exit 0 and "consumer: ok" when right) */
#include <clance/clance.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(cond, ...)                                                                       \
  do {                                                                                         \
    if (!(cond)) {                                                                             \
      fprintf(stderr, "consumer: " __VA_ARGS__);                                               \
      fputc('\n', stderr);                                                                     \
      exit(1);                                                                                 \
    }                                                                                          \
  } while (0)
#define OK(call)                                                                               \
  do {                                                                                         \
    clance_status st_ = (call);                                                                \
    CHECK(st_ == CLANCE_OK, "%s: %s: %s", #call, clance_status_name(st_), err.message);        \
  } while (0)

/* One batch of three rows over caller-owned buffers, as an ArrowArrayStream. */
typedef struct part {
  int32_t a[3];
  int32_t off[4];
  const char *chars;
  const void *abuf[2], *bbuf[3], *sbuf[1];
  struct ArrowArray cols[2], *colp[2];
  int done;
} part;

static void release_child(struct ArrowArray *x) { x->release = NULL; }
static void release_batch(struct ArrowArray *x) {
  for (int64_t i = 0; i < x->n_children; i++)
    if (x->children[i]->release)
      x->children[i]->release(x->children[i]);
  x->release = NULL;
}
static int get_schema(struct ArrowArrayStream *s, struct ArrowSchema *out) {
  (void)s;
  return clance_schema_parse("a:int32,b:string", out, NULL) == CLANCE_OK ? 0 : 22;
}
static int get_next(struct ArrowArrayStream *s, struct ArrowArray *out) {
  part *p = s->private_data;
  memset(out, 0, sizeof *out);
  if (p->done)
    return 0; /* out->release == NULL: end of stream */
  p->done = 1;
  p->abuf[0] = NULL, p->abuf[1] = p->a;
  p->bbuf[0] = NULL, p->bbuf[1] = p->off, p->bbuf[2] = p->chars;
  for (int i = 0; i < 2; i++) {
    memset(&p->cols[i], 0, sizeof p->cols[i]);
    p->cols[i].length = 3;
    p->cols[i].n_buffers = i ? 3 : 2;
    p->cols[i].buffers = i ? p->bbuf : p->abuf;
    p->cols[i].release = release_child;
    p->colp[i] = &p->cols[i];
  }
  out->length = 3;
  out->n_buffers = 1;
  out->buffers = p->sbuf;
  out->n_children = 2;
  out->children = p->colp;
  out->release = release_batch;
  return 0;
}
static const char *last_error(struct ArrowArrayStream *s) {
  (void)s;
  return NULL;
}
static void release_stream(struct ArrowArrayStream *s) { s->release = NULL; }

/* Worker: write fragments (no commit), return their JSON (caller clance_free()s). */
static char *worker(const char *uri, part *p) {
  clance_error err;
  struct ArrowArrayStream stream = {get_schema, get_next, last_error, release_stream, p};
  clance_write_options wo;
  clance_write_options_init(&wo);
  wo.mode = CLANCE_WRITE_CREATE;
  clance_fragments *frags;
  OK(clance_write_fragments(uri, NULL, &stream, &wo, &frags, &err));
  char *json;
  OK(clance_fragments_to_json(frags, &json, &err));
  clance_fragments_free(frags);
  return json;
}

int main(int argc, char **argv) {
  CHECK(argc == 2, "usage: consumer DATASET_DIR");
  const char *uri = argv[1];
  clance_error err;
  CHECK(strcmp(clance_version(), CLANCE_VERSION_STRING) == 0, "header %s, library %s",
        CLANCE_VERSION_STRING, clance_version());
  part parts[2] = {{{1, 2, 3}, {0, 1, 2, 3}, "xyz", {0}, {0}, {0}, {{0}}, {0}, 0},
                   {{4, 5, 6}, {0, 1, 2, 3}, "uvw", {0}, {0}, {0}, {{0}}, {0}, 0}};
  char *json[2] = {worker(uri, &parts[0]), worker(uri, &parts[1])};

  /* Coordinator: gather the JSON, commit one Overwrite at read version 0. */
  clance_fragments *all;
  OK(clance_fragments_new(&all, &err));
  for (int w = 0; w < 2; w++) {
    clance_fragments *f;
    OK(clance_fragments_from_json(json[w], strlen(json[w]), "worker", &f, &err));
    OK(clance_fragments_extend(all, f, &err));
    clance_fragments_free(f);
    clance_free(json[w]);
  }
  struct ArrowSchema schema;
  clance_operation *op;
  uint64_t version = 0;
  OK(clance_schema_parse("a:int32,b:string", &schema, &err));
  OK(clance_operation_overwrite(&schema, all, &op, &err));
  OK(clance_commit(uri, op, 0, NULL, &version, &err));
  schema.release(&schema);
  clance_operation_free(op);
  clance_fragments_free(all);
  CHECK(version == 1, "committed version %llu, expected 1", (unsigned long long)version);

  /* Reopen and read back. */
  clance_dataset *ds;
  OK(clance_dataset_open(uri, 0, &ds, &err));
  CHECK(clance_dataset_version(ds) == 1, "version %llu",
        (unsigned long long)clance_dataset_version(ds));
  CHECK(clance_dataset_num_fragments(ds) == 2, "%zu fragments",
        clance_dataset_num_fragments(ds));
  CHECK(clance_dataset_count_rows(ds) == 6, "%llu rows",
        (unsigned long long)clance_dataset_count_rows(ds));
  struct ArrowArrayStream scan;
  OK(clance_dataset_scan(ds, NULL, &scan, &err));
  char got[256] = "";
  struct ArrowArray b;
  while (scan.get_next(&scan, &b) == 0 && b.release) {
    const struct ArrowArray *ca = b.children[0], *cb = b.children[1];
    const int32_t *a = (const int32_t *)ca->buffers[1] + ca->offset;
    const int32_t *off = (const int32_t *)cb->buffers[1] + cb->offset;
    const char *s = cb->buffers[2];
    for (int64_t i = 0; i < b.length; i++) {
      size_t n = strlen(got);
      snprintf(got + n, sizeof got - n, "%d%.*s ", a[i], (int)(off[i + 1] - off[i]), s + off[i]);
    }
    b.release(&b);
  }
  scan.release(&scan);
  clance_dataset_close(ds);
  CHECK(strcmp(got, "1x 2y 3z 4u 5v 6w ") == 0, "rows \"%s\"", got);
  printf("consumer: ok (clance %s: version 1, 2 fragments, 6 rows)\n", clance_version());
  return 0;
}
