/* clance fsck: check every version and tag; list orphaned files. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "util/json.h"

static const cli_option opts[] = {
    {"--json", NULL, "print the result as one JSON object"}, {NULL, NULL, NULL}};

static clance_status put_str(cl_buf *b, const char *s, clance_error *err) {
  return cl_json_write_string(b, s, strlen(s), err);
}

static clance_status to_json(const clance_fsck_result *r, cl_buf *b, clance_error *err) {
  CL_TRY(cl_buf_printf(b, err, "{\"versions\": %zu, \"oldest_version\": %llu, \"latest_version\": "
                       "%llu, \"data_files\": %zu, \"deletion_files\": %zu, \"transaction_files\": "
                       "%zu, \"tags\": %zu, \"problems\": [",
                       r->num_versions, (unsigned long long)r->oldest_version,
                       (unsigned long long)r->latest_version, r->data_files, r->deletion_files,
                       r->transaction_files, r->tags));
  for (size_t i = 0; i < r->num_problems; i++) {
    CL_TRY(cl_buf_printf(b, err, "%s{\"version\": %llu, \"path\": ", i ? ", " : "",
                         (unsigned long long)r->problems[i].version));
    CL_TRY(put_str(b, r->problems[i].path, err));
    CL_TRY(cl_buf_printf(b, err, ", \"message\": "));
    CL_TRY(put_str(b, r->problems[i].message, err));
    CL_TRY(cl_buf_printf(b, err, "}"));
  }
  CL_TRY(cl_buf_printf(b, err, "], \"orphans\": ["));
  for (size_t i = 0; i < r->num_orphans; i++) {
    CL_TRY(cl_buf_printf(b, err, "%s{\"path\": ", i ? ", " : ""));
    CL_TRY(put_str(b, r->orphans[i].path, err));
    CL_TRY(cl_buf_printf(b, err, ", \"kind\": \"%s\", \"bytes\": %llu, \"mtime_ns\": %lld}",
                         r->orphans[i].kind, (unsigned long long)r->orphans[i].bytes,
                         (long long)r->orphans[i].mtime_ns));
  }
  CL_TRY(cl_buf_printf(b, err, "], \"orphan_bytes\": %llu}\n", (unsigned long long)r->orphan_bytes));
  return cl_buf_cstr(b, err);
}

static void print_text(const clance_fsck_result *r) {
  for (size_t i = 0; i < r->num_problems; i++) {
    const clance_fsck_problem *p = &r->problems[i];
    if (p->version)
      printf("problem: version %llu: %s: %s\n", (unsigned long long)p->version, p->path, p->message);
    else
      printf("problem: %s: %s\n", p->path, p->message);
  }
  for (size_t i = 0; i < r->num_orphans; i++)
    printf("orphan: %s %s (%llu bytes)\n", r->orphans[i].kind, r->orphans[i].path,
           (unsigned long long)r->orphans[i].bytes);
  printf("checked %zu versions (%llu..%llu), %zu data files, %zu deletion files, %zu transaction "
         "files, %zu tags: %zu problems, %zu orphans (%llu bytes)\n",
         r->num_versions, (unsigned long long)r->oldest_version,
         (unsigned long long)r->latest_version, r->data_files, r->deletion_files,
         r->transaction_files, r->tags, r->num_problems, r->num_orphans,
         (unsigned long long)r->orphan_bytes);
}

static int run(const cli_command *cmd, const cli_args *a) {
  clance_error err;
  clance_fsck_result *r;
  if (clance_fsck(a->pos[0], &r, &err))
    return cli_fail(cmd->name, &err);
  int rc = r->num_problems ? EXIT_ERROR : EXIT_OK;
  if (cli_get(cmd, a, "--json")) {
    cl_buf b = CL_BUF_INIT;
    if (to_json(r, &b, &err))
      rc = cli_fail(cmd->name, &err);
    else
      fputs((const char *)b.data, stdout);
    cl_buf_free(&b);
  } else {
    print_text(r);
  }
  if (r->num_problems)
    fprintf(stderr, "clance fsck: %s has %zu problem(s)\n", a->pos[0], r->num_problems);
  clance_fsck_result_free(r);
  return rc;
}

const cli_command cli_cmd_fsck = {
    "fsck", "URI [--json]",
    "Check every version and tag of a dataset; list orphaned files.",
    "Every manifest must parse; every data file it references must exist with the recorded\n"
    "size, a readable footer and the fragment's row count; every deletion file must be valid\n"
    "and every transaction file present; every tag must name an existing version with its\n"
    "manifest size. Each problem is printed with the oldest version that shows it, and the\n"
    "exit status is 1 when there is any. Orphans (files no version references, which\n"
    "`clance gc` removes) are listed but are not problems.",
    opts, 1, 1, run};
