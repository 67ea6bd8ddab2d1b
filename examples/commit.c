/* Coordinator of a distributed write: gather the workers' FragmentMetadata
 * JSON files and commit them as one transaction.
 *
 *   commit DATASET overwrite|append READ_VERSION FRAGS.json...
 *
 * Prints the new version. A conflict with a commit made since READ_VERSION
 * is reported with the exit status of the clance tool: 3 = retryable (redo
 * the work against the latest version), 4 = can never succeed. */
#include <clance/clance.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SCHEMA "id:int64,x:float64,name:string"

static char *read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return NULL;
  size_t cap = 1 << 16, n = 0, r;
  char *buf = malloc(cap);
  while (buf && (r = fread(buf + n, 1, cap - n, f)) > 0) {
    n += r;
    if (n == cap) {
      char *nb = realloc(buf, cap *= 2);
      if (!nb)
        free(buf);
      buf = nb;
    }
  }
  fclose(f);
  *len = n;
  return buf;
}

static int fail(const char *what, const clance_error *err) {
  fprintf(stderr, "commit: %s: %s: %s\n", what, clance_status_name(err->code), err->message);
  switch (err->code) {
  case CLANCE_ECONFLICT_RETRYABLE:
  case CLANCE_ECONTENTION: return 3;
  case CLANCE_ECONFLICT_INCOMPATIBLE: return 4;
  default: return 1;
  }
}

int main(int argc, char **argv) {
  if (argc < 5 || (strcmp(argv[2], "overwrite") && strcmp(argv[2], "append"))) {
    fprintf(stderr, "usage: commit DATASET overwrite|append READ_VERSION FRAGS.json...\n");
    return 2;
  }
  const char *uri = argv[1];
  uint64_t read_version = strtoull(argv[3], NULL, 10);
  clance_error err;
  clance_fragments *all;
  if (clance_fragments_new(&all, &err) != CLANCE_OK)
    return fail("fragments", &err);
  for (int i = 4; i < argc; i++) {
    size_t len;
    char *json = read_file(argv[i], &len);
    if (!json) {
      perror(argv[i]);
      return 1;
    }
    clance_fragments *f;
    /* The file name is quoted in error messages about its content. */
    clance_status st = clance_fragments_from_json(json, len, argv[i], &f, &err);
    free(json);
    if (st != CLANCE_OK || clance_fragments_extend(all, f, &err) != CLANCE_OK)
      return fail(argv[i], &err);
    clance_fragments_free(f);
  }

  clance_operation *op;
  clance_status st;
  if (!strcmp(argv[2], "overwrite")) {
    struct ArrowSchema schema;
    if (clance_schema_parse(SCHEMA, &schema, &err) != CLANCE_OK)
      return fail("schema", &err);
    st = clance_operation_overwrite(&schema, all, &op, &err);
    schema.release(&schema);
  } else {
    st = clance_operation_append(all, &op, &err);
  }
  if (st != CLANCE_OK)
    return fail("operation", &err);

  clance_commit_options co;
  clance_commit_options_init(&co);
  co.max_retries = 5; /* races for the version number; conflicts are not retried */
  uint64_t version;
  st = clance_commit(uri, op, read_version, &co, &version, &err);
  clance_operation_free(op);
  size_t n = clance_fragments_count(all);
  clance_fragments_free(all);
  if (st != CLANCE_OK)
    return fail("commit", &err);
  printf("committed %s of %zu fragments: version %llu\n", argv[2], n,
         (unsigned long long)version);
  return 0;
}
