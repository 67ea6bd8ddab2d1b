/* Tags, cleanup of old versions, fsck and gc, through the public API on
 * datasets written here. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "arrow/array.h"
#include "dataset/inventory.h"
#include "dataset/refs.h"
#include "io/fs.h"
#include "table/versions.h"
#include "test.h"

/* Write `n` rows of a:int32 (values from `first`) and commit them as an
 * overwrite or an append; returns the new version (0 on failure). */
static uint64_t commit_rows(const char *uri, int overwrite, int32_t first, int64_t n) {
  clance_error err;
  cl_schema s;
  if (cl_schema_parse_spec("a:int32", &s, &err))
    return 0;
  cl_arr col;
  struct ArrowArray kid, batch;
  struct ArrowArrayStream stream;
  clance_status st = cl_arr_init(&col, &s.fields[0], &err);
  for (int64_t i = 0; !st && i < n; i++) {
    int32_t v = first + (int32_t)i;
    st = cl_buf_append(&col.values, &v, 4, &err);
    if (!st)
      st = cl_arr_append_valid(&col, 1, &err);
  }
  if (!st)
    st = cl_arr_export(&col, &kid, &err);
  if (!st)
    st = cl_struct_array_export(n, &kid, 1, &batch, &err);
  if (!st)
    st = cl_stream_from_batches(&s, &batch, 1, &stream, &err);
  cl_arr_free(&col);
  cl_schema_free(&s);
  clance_fragments *f = NULL;
  clance_operation *op = NULL;
  struct ArrowSchema schema;
  memset(&schema, 0, sizeof schema);
  uint64_t read_version = 0, v = 0;
  clance_dataset *ds;
  if (!st && !overwrite && !clance_dataset_open(uri, 0, &ds, &err)) {
    read_version = clance_dataset_version(ds);
    clance_dataset_close(ds);
  }
  if (!st)
    st = clance_write_fragments(uri, NULL, &stream, NULL, &f, &err);
  if (!st)
    st = overwrite ? clance_schema_parse("a:int32", &schema, &err) : CLANCE_OK;
  if (!st)
    st = overwrite ? clance_operation_overwrite(&schema, f, &op, &err)
                   : clance_operation_append(f, &op, &err);
  if (!st && overwrite && !clance_dataset_open(uri, 0, &ds, &err)) {
    read_version = clance_dataset_version(ds);
    clance_dataset_close(ds);
  }
  if (!st)
    st = clance_commit(uri, op, read_version, NULL, &v, &err);
  if (st)
    fprintf(stderr, "commit_rows: %s\n", err.message);
  if (schema.release)
    schema.release(&schema);
  clance_operation_free(op);
  clance_fragments_free(f);
  return st ? 0 : v;
}

static uint64_t rows_at(const char *uri, uint64_t version) {
  clance_error err;
  clance_dataset *ds;
  if (clance_dataset_open(uri, version, &ds, &err))
    return UINT64_MAX;
  uint64_t n = clance_dataset_count_rows(ds);
  clance_dataset_close(ds);
  return n;
}

static int exists(const char *dir, const char *rel) {
  char p[4400];
  snprintf(p, sizeof p, "%s/%s", dir, rel);
  return access(p, F_OK) == 0;
}

/* Create dir/rel with `bytes` bytes, last modified `age` seconds ago. */
static void make_file(const char *dir, const char *rel, size_t bytes, int64_t age) {
  char p[4400];
  snprintf(p, sizeof p, "%s/%s", dir, rel);
  FILE *f = fopen(p, "wb");
  if (!f)
    return;
  for (size_t i = 0; i < bytes; i++)
    fputc('x', f);
  fclose(f);
  struct timespec t[2];
  clock_gettime(CLOCK_REALTIME, &t[0]);
  t[0].tv_sec -= age;
  t[1] = t[0];
  utimensat(AT_FDCWD, p, t, 0);
}

/* The names in dir/sub. */
static int list_names(const char *dir, const char *sub, cl_dirlist *out) {
  char p[4400];
  snprintf(p, sizeof p, "%s/%s", dir, sub);
  clance_error err;
  return cl_list_dir(p, out, &err) == CLANCE_OK;
}

static void test_duration(void) {
  clance_error err;
  int64_t s;
  static const struct {
    const char *text;
    int64_t seconds;
  } good[] = {{"14d", 1209600}, {"3h", 10800},   {"90s", 90},         {"0s", 0},
              {"1h30m", 5400},  {"2weeks", 1209600}, {"1day", 86400}, {"5min 10sec", 310},
              {"2w1d", 1296000}, {"7days", 604800}};
  for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
    CHECK_OK(clance_parse_duration(good[i].text, &s, &err), &err);
    CHECK_EQ_U64(s, good[i].seconds);
  }
  static const char *const bad[] = {"", "5", "d", "-1d", "5x", "1.5h", "10 d", "1ss", "99999999999999999999s",
                                    "9223372036854775807w"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    CHECK(clance_parse_duration(bad[i], &s, &err) == CLANCE_EINVAL);
    CHECK(strstr(err.message, "duration") != NULL);
  }
}

static void test_tags(void) {
  clance_error err;
  char *dir = cl_test_tmpdir("tags");
  REQUIRE(dir);
  char uri[4200];
  snprintf(uri, sizeof uri, "%s/t.lance", dir);
  REQUIRE(commit_rows(uri, 1, 0, 3) == 1);
  REQUIRE(commit_rows(uri, 0, 3, 2) == 2);

  CHECK_OK(clance_tag_create(uri, "v1", 1, &err), &err);
  CHECK_OK(clance_tag_create(uri, "latest_2-b.c", 0, &err), &err);
  CHECK(clance_tag_create(uri, "v1", 2, &err) == CLANCE_EEXISTS);
  CHECK(strstr(err.message, "v1") != NULL);
  CHECK(clance_tag_create(uri, "v9", 9, &err) == CLANCE_ENOTFOUND);
  CHECK(strstr(err.message, "version 9") != NULL);
  static const char *const bad[] = {"", ".a", "a.", "a..b", "a/b", "../x", "x.lock", "a b",
                                    "\xc3\xa4"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
    CHECK(clance_tag_create(uri, bad[i], 1, &err) == CLANCE_EINVAL);

  clance_tag *tags;
  size_t n;
  REQUIRE_OK(clance_tag_list(uri, &tags, &n, &err), &err);
  REQUIRE(n == 2);
  CHECK_STR(tags[0].name, "latest_2-b.c");
  CHECK_EQ_U64(tags[0].version, 2);
  CHECK_STR(tags[1].name, "v1");
  CHECK_EQ_U64(tags[1].version, 1);
  CHECK(!tags[1].on_branch);
  /* manifest_size is the size of the version's manifest file. */
  cl_dirlist l;
  REQUIRE(list_names(dir, "t.lance/_versions", &l));
  for (size_t i = 0; i < l.n; i++) {
    uint64_t v;
    cl_naming nm;
    char p[4400];
    struct stat sb;
    snprintf(p, sizeof p, "%s/_versions/%s", uri, l.names[i]);
    if (cl_version_parse_name(l.names[i], &v, &nm) && stat(p, &sb) == 0)
      CHECK_EQ_U64(tags[v == 1 ? 1 : 0].manifest_size, sb.st_size);
  }
  cl_dirlist_free(&l);
  clance_free(tags);

  uint64_t v = 0;
  CHECK_OK(clance_tag_version(uri, "v1", &v, &err), &err);
  CHECK_EQ_U64(v, 1);
  clance_dataset *ds;
  REQUIRE_OK(clance_dataset_open_tag(uri, "v1", &ds, &err), &err);
  CHECK_EQ_U64(clance_dataset_version(ds), 1);
  CHECK_EQ_U64(clance_dataset_count_rows(ds), 3);
  clance_dataset_close(ds);
  CHECK(clance_dataset_open_tag(uri, "nope", &ds, &err) == CLANCE_ENOTFOUND);
  CHECK(clance_tag_version(uri, "nope", &v, &err) == CLANCE_ENOTFOUND);
  CHECK(clance_tag_version(uri, "../../x", &v, &err) == CLANCE_EINVAL);

  /* What Lance 12 and Lance 1.0 write is read; a Lance tag with a
   * non-ASCII name is reachable. */
  char p[4400];
  snprintf(p, sizeof p, "%s/_refs/tags/\xc3\xa4.json", uri);
  const char *lance12 = "{\n  \"branch\": null,\n  \"version\": 2,\n  \"createdAt\": "
                        "\"2026-11-26T01:32:56.797120512Z\",\n  \"updatedAt\": "
                        "\"2026-11-26T01:32:56.797120512Z\",\n  \"manifestSize\": 371,\n"
                        "  \"metadata\": {}\n}";
  CHECK_OK(cl_put_new(p, lance12, strlen(lance12), 0, &err), &err);
  snprintf(p, sizeof p, "%s/_refs/tags/old.json", uri);
  const char *lance10 = "{\"branch\": null, \"version\": 1, \"manifestSize\": 812}";
  CHECK_OK(cl_put_new(p, lance10, strlen(lance10), 0, &err), &err);
  CHECK_OK(clance_tag_version(uri, "\xc3\xa4", &v, &err), &err);
  CHECK_EQ_U64(v, 2);
  CHECK_OK(clance_tag_version(uri, "old", &v, &err), &err);
  CHECK_EQ_U64(v, 1);
  REQUIRE_OK(clance_tag_list(uri, &tags, &n, &err), &err);
  CHECK_EQ_U64(n, 4);
  clance_free(tags);
  snprintf(p, sizeof p, "%s/_refs/tags/broken.json", uri);
  CHECK_OK(cl_put_new(p, "{\"version\": 1}", 14, 0, &err), &err);
  CHECK(clance_tag_version(uri, "broken", &v, &err) == CLANCE_ECORRUPT);
  CHECK(strstr(err.message, "manifestSize") != NULL);
  CHECK_OK(clance_tag_delete(uri, "broken", &err), &err);

  /* Byte-exact Lance 12 form. */
  cl_buf b = CL_BUF_INIT;
  CHECK_OK(cl_tag_encode(2, 371, (int64_t)1795656776797120512LL, &b, &err), &err);
  CHECK_OK(cl_buf_cstr(&b, &err), &err);
  CHECK_STR((const char *)b.data, lance12);
  cl_buf_reset(&b);
  CHECK_OK(cl_tag_encode(1, 5, (int64_t)1795656776000000000LL, &b, &err), &err);
  CHECK_OK(cl_buf_cstr(&b, &err), &err);
  CHECK(strstr((const char *)b.data, "\"createdAt\": \"2026-11-26T01:32:56Z\"") != NULL);
  cl_buf_free(&b);

  CHECK_OK(clance_tag_delete(uri, "v1", &err), &err);
  CHECK(clance_tag_delete(uri, "v1", &err) == CLANCE_ENOTFOUND);
  CHECK(clance_tag_version(uri, "v1", &v, &err) == CLANCE_ENOTFOUND);
  cl_test_rmtree(dir);
}

typedef struct seen_files {
  char names[64][256];
  size_t n;
} seen_files;

static void record(void *ctx, const char *path, const char *kind, uint64_t bytes) {
  seen_files *s = ctx;
  (void)bytes;
  if (s->n < 64)
    snprintf(s->names[s->n++], 256, "%s %s", kind, path);
}

static int seen(const seen_files *s, const char *prefix) {
  int n = 0;
  for (size_t i = 0; i < s->n; i++)
    n += !strncmp(s->names[i], prefix, strlen(prefix));
  return n;
}

static void test_cleanup(void) {
  clance_error err;
  char *dir = cl_test_tmpdir("cleanup");
  REQUIRE(dir);
  char uri[4200];
  snprintf(uri, sizeof uri, "%s/t.lance", dir);
  REQUIRE(commit_rows(uri, 1, 0, 3) == 1);   /* file A */
  REQUIRE(commit_rows(uri, 1, 10, 2) == 2);  /* file B replaces A */
  REQUIRE(commit_rows(uri, 1, 20, 4) == 3);  /* file C replaces B */
  uint64_t v, nd;
  REQUIRE_OK(clance_dataset_delete(uri, "a = 20", NULL, &v, &nd, &err), &err); /* deletion X */
  CHECK_EQ_U64(v, 4);
  /* Left by a writer that never committed: one ancient, one recent; and a
   * staging file of an interrupted commit. */
  make_file(uri, "data/ancient.lance", 10, 30 * 86400);
  make_file(uri, "data/recent.lance", 10, 0);
  make_file(uri, "_versions/5.manifest#00ff", 7, 30 * 86400);
  REQUIRE_OK(clance_dataset_delete(uri, "a = 21", NULL, &v, &nd, &err), &err); /* Y replaces X */
  CHECK_EQ_U64(v, 5);
  cl_dirlist before_data, before_del;
  REQUIRE(list_names(dir, "t.lance/data", &before_data));
  REQUIRE(list_names(dir, "t.lance/_deletions", &before_del));
  CHECK_EQ_U64(before_data.n, 5);
  CHECK_EQ_U64(before_del.n, 2);

  /* Dry run with before_version: only version 1 would go, nothing is removed. */
  clance_cleanup_options o;
  clance_cleanup_options_init(&o);
  CHECK(o.older_than_seconds == 14 * 86400 && o.error_if_tagged_old_versions == 1);
  seen_files s;
  memset(&s, 0, sizeof s);
  o.older_than_seconds = 0;
  o.before_version = 2;
  o.dry_run = 1;
  o.on_file = record;
  o.ctx = &s;
  clance_cleanup_stats st;
  REQUIRE_OK(clance_cleanup(uri, &o, &st, &err), &err);
  CHECK_EQ_U64(st.old_versions, 1);
  CHECK_EQ_U64(st.data_files, 2); /* A (only version 1 used it) and the ancient orphan */
  CHECK(seen(&s, "manifest _versions/") == 1);
  CHECK_EQ_U64(rows_at(uri, 1), 3);

  /* The default 14 days keeps every version; only the unreferenced files
   * older than 7 days go. */
  clance_cleanup_options_init(&o);
  REQUIRE_OK(clance_cleanup(uri, &o, &st, &err), &err);
  CHECK_EQ_U64(st.old_versions + st.deletion_files + st.transaction_files, 0);
  CHECK_EQ_U64(st.data_files, 1);
  CHECK_EQ_U64(st.temporary_files, 1);
  CHECK(!exists(uri, "data/ancient.lance") && !exists(uri, "_versions/5.manifest#00ff"));
  CHECK_EQ_U64(rows_at(uri, 1), 3);

  /* Everything but the latest goes, with exactly the files only they used. */
  memset(&s, 0, sizeof s);
  o.older_than_seconds = 0;
  o.on_file = record;
  o.ctx = &s;
  REQUIRE_OK(clance_cleanup(uri, &o, &st, &err), &err);
  CHECK_EQ_U64(st.old_versions, 4);
  CHECK_EQ_U64(st.data_files, 2);        /* A, B */
  CHECK_EQ_U64(st.deletion_files, 1);    /* X */
  CHECK_EQ_U64(st.transaction_files, 4); /* versions 1-4 */
  CHECK_EQ_U64(st.temporary_files, 0);
  CHECK(seen(&s, "manifest ") == 4 && !strncmp(s.names[0], "manifest _versions/", 19));
  CHECK(seen(&s, "data data/") == 2 && seen(&s, "deletion _deletions/") == 1);
  CHECK(st.bytes_removed > 0);
  CHECK(exists(uri, "data/recent.lance")); /* young and never referenced: maybe in flight */
  CHECK(!exists(uri, "data/ancient.lance"));
  for (size_t i = 1; i <= 4; i++)
    CHECK(rows_at(uri, i) == UINT64_MAX);
  CHECK_EQ_U64(rows_at(uri, 5), 2);
  cl_dirlist after;
  REQUIRE(list_names(dir, "t.lance/data", &after));
  CHECK_EQ_U64(after.n, 2); /* C and recent */
  cl_dirlist_free(&after);
  REQUIRE(list_names(dir, "t.lance/_deletions", &after));
  CHECK_EQ_U64(after.n, 1);
  cl_dirlist_free(&after);
  cl_dirlist_free(&before_data);
  cl_dirlist_free(&before_del);

  clance_fsck_result *r;
  REQUIRE_OK(clance_fsck(uri, &r, &err), &err);
  CHECK_EQ_U64(r->num_problems, 0);
  CHECK_EQ_U64(r->num_orphans, 1);
  clance_fsck_result_free(r);

  /* Tagged versions stay; by default a tagged old version is an error. */
  REQUIRE(commit_rows(uri, 0, 30, 1) == 6);
  REQUIRE_OK(clance_tag_create(uri, "keep", 5, &err), &err);
  REQUIRE(commit_rows(uri, 1, 40, 1) == 7);
  o.on_file = NULL;
  CHECK(clance_cleanup(uri, &o, &st, &err) == CLANCE_EINVAL);
  CHECK(strstr(err.message, "\"keep\" (version 5)") != NULL);
  CHECK_EQ_U64(rows_at(uri, 6), 3); /* nothing removed */
  o.error_if_tagged_old_versions = 0;
  REQUIRE_OK(clance_cleanup(uri, &o, &st, &err), &err);
  CHECK_EQ_U64(st.old_versions, 1); /* version 6 */
  CHECK_EQ_U64(rows_at(uri, 6), UINT64_MAX);
  clance_dataset *ds;
  REQUIRE_OK(clance_dataset_open_tag(uri, "keep", &ds, &err), &err);
  CHECK_EQ_U64(clance_dataset_count_rows(ds), 2);
  clance_dataset_close(ds);
  CHECK_EQ_U64(rows_at(uri, 0), 1);
  REQUIRE_OK(clance_fsck(uri, &r, &err), &err);
  CHECK_EQ_U64(r->num_problems, 0);
  clance_fsck_result_free(r);

  CHECK(clance_cleanup(dir, &o, &st, &err) == CLANCE_ENOTFOUND);
  cl_test_rmtree(dir);
}

static const clance_fsck_problem *find_problem(const clance_fsck_result *r, const char *path_part,
                                               const char *msg_part) {
  for (size_t i = 0; i < r->num_problems; i++)
    if (strstr(r->problems[i].path, path_part) && strstr(r->problems[i].message, msg_part))
      return &r->problems[i];
  return NULL;
}

/* The relative path of the data file of the fragment of `version`
 * (the only one, or the last). */
static void data_file_of(const char *uri, uint64_t version, char *out, size_t n) {
  clance_error err;
  clance_dataset *ds;
  clance_fragments *f;
  char *json;
  out[0] = '\0';
  if (clance_dataset_open(uri, version, &ds, &err))
    return;
  if (!clance_dataset_fragments(ds, &f, &err)) {
    if (!clance_fragments_to_json(f, &json, &err)) {
      const char *last = NULL, *p = json;
      while ((p = strstr(p, "\"path\": \"")))
        last = p = p + 9;
      if (last)
        snprintf(out, n, "data/%.*s", (int)(strchr(last, '"') - last), last);
      clance_free(json);
    }
    clance_fragments_free(f);
  }
  clance_dataset_close(ds);
}

static void test_fsck(void) {
  clance_error err;
  char *dir = cl_test_tmpdir("fsck");
  REQUIRE(dir);
  char uri[4200], a[512], b[512], p[4800];
  snprintf(uri, sizeof uri, "%s/t.lance", dir);
  REQUIRE(commit_rows(uri, 1, 0, 3) == 1);
  REQUIRE(commit_rows(uri, 0, 3, 2) == 2);
  uint64_t v, nd;
  REQUIRE_OK(clance_dataset_delete(uri, "a = 0", NULL, &v, &nd, &err), &err);
  REQUIRE(commit_rows(uri, 0, 5, 1) == 4);
  REQUIRE_OK(clance_tag_create(uri, "t2", 2, &err), &err);
  data_file_of(uri, 1, a, sizeof a);
  data_file_of(uri, 2, b, sizeof b);
  REQUIRE(a[0] && b[0] && strcmp(a, b));
  make_file(uri, "data/orphan.lance", 100, 0);
  make_file(uri, "_transactions/9-x.txn", 5, 0);

  clance_fsck_result *r;
  REQUIRE_OK(clance_fsck(uri, &r, &err), &err);
  CHECK_EQ_U64(r->num_problems, 0);
  CHECK_EQ_U64(r->num_versions, 4);
  CHECK_EQ_U64(r->oldest_version, 1);
  CHECK_EQ_U64(r->latest_version, 4);
  CHECK_EQ_U64(r->data_files, 3);
  CHECK_EQ_U64(r->deletion_files, 1);
  CHECK_EQ_U64(r->transaction_files, 4);
  CHECK_EQ_U64(r->tags, 1);
  REQUIRE(r->num_orphans == 2);
  CHECK_STR(r->orphans[0].path, "_transactions/9-x.txn");
  CHECK_STR(r->orphans[0].kind, "transaction");
  CHECK_STR(r->orphans[1].path, "data/orphan.lance");
  CHECK_STR(r->orphans[1].kind, "data");
  CHECK_EQ_U64(r->orphan_bytes, 105);
  CHECK(r->orphans[1].mtime_ns > 0);
  clance_fsck_result_free(r);

  /* Damage: A one byte longer, B gone, a tag to a missing version, a tag
   * with the wrong manifest size, version 3's manifest truncated. */
  snprintf(p, sizeof p, "%s/%s", uri, a);
  FILE *f = fopen(p, "ab");
  REQUIRE(f);
  fputc(0, f);
  fclose(f);
  snprintf(p, sizeof p, "%s/%s", uri, b);
  REQUIRE(unlink(p) == 0);
  snprintf(p, sizeof p, "%s/_refs/tags/gone.json", uri);
  CHECK_OK(cl_put_new(p, "{\"version\": 9, \"manifestSize\": 1}", 33, 0, &err), &err);
  snprintf(p, sizeof p, "%s/_refs/tags/size.json", uri);
  CHECK_OK(cl_put_new(p, "{\"version\": 1, \"manifestSize\": 1}", 33, 0, &err), &err);
  cl_dirlist l;
  REQUIRE(list_names(dir, "t.lance/_versions", &l));
  char m3[64] = "";
  for (size_t i = 0; i < l.n; i++) {
    uint64_t mv;
    cl_naming nm;
    if (cl_version_parse_name(l.names[i], &mv, &nm) && mv == 3)
      snprintf(m3, sizeof m3, "%s", l.names[i]);
  }
  cl_dirlist_free(&l);
  REQUIRE(m3[0]);
  snprintf(p, sizeof p, "%s/_versions/%s", uri, m3);
  REQUIRE(truncate(p, 40) == 0);

  REQUIRE_OK(clance_fsck(uri, &r, &err), &err);
  const clance_fsck_problem *q;
  CHECK((q = find_problem(r, a, "the manifest says")) && q->version == 1);
  CHECK((q = find_problem(r, b, "is missing")) && q->version == 2);
  CHECK((q = find_problem(r, m3, "manifest")) && q->version == 3);
  CHECK((q = find_problem(r, "_refs/tags/gone.json", "version 9")) && q->version == 0);
  CHECK((q = find_problem(r, "_refs/tags/size.json", "bytes")) && q->version == 0);
  CHECK_EQ_U64(r->num_problems, 5);
  /* Version 3's deletion file: only the unreadable manifest referenced it
   * (which is why gc refuses to run on such a dataset). */
  CHECK_EQ_U64(r->num_orphans, 3);
  clance_gc_stats gs;
  CHECK(clance_gc(uri, NULL, &gs, &err) == CLANCE_ECORRUPT);
  clance_fsck_result_free(r);
  cl_test_rmtree(dir);
}

static void age_file(const char *dir, const char *rel, int64_t age) {
  char p[4400];
  snprintf(p, sizeof p, "%s/%s", dir, rel);
  struct timespec t[2];
  clock_gettime(CLOCK_REALTIME, &t[0]);
  t[0].tv_sec -= age;
  t[1] = t[0];
  utimensat(AT_FDCWD, p, t, 0);
}

static void test_gc(void) {
  clance_error err;
  char *dir = cl_test_tmpdir("gc");
  REQUIRE(dir);
  char uri[4200];
  snprintf(uri, sizeof uri, "%s/t.lance", dir);
  REQUIRE(commit_rows(uri, 1, 0, 3) == 1);
  REQUIRE(commit_rows(uri, 1, 10, 2) == 2); /* version 1's file is no longer current */
  uint64_t v, nd;
  REQUIRE_OK(clance_dataset_delete(uri, "a = 10", NULL, &v, &nd, &err), &err);
  /* Every file versions reference is made ancient: age alone never
   * removes a referenced file. */
  cl_managed_files mf;
  REQUIRE_OK(cl_managed_files_list(uri, &mf, &err), &err);
  CHECK_EQ_U64(mf.n, 6); /* 2 data, 1 deletion, 3 transactions */
  for (size_t i = 0; i < mf.n; i++)
    age_file(uri, mf.v[i].rel, 30 * 86400);
  cl_managed_files_free(&mf);
  make_file(uri, "data/old.lance", 10, 10 * 86400);
  make_file(uri, "_deletions/0-1-5.arrow", 3, 10 * 86400);
  make_file(uri, "_versions/.tmp_7.manifest.part", 3, 10 * 86400);
  make_file(uri, "data/new.lance", 10, 60);
  make_file(uri, "data/notes.txt", 10, 10 * 86400); /* not a managed file: never touched */

  clance_gc_options o;
  clance_gc_options_init(&o);
  CHECK(o.older_than_seconds == 7 * 86400);
  seen_files s;
  memset(&s, 0, sizeof s);
  o.dry_run = 1;
  o.on_file = record;
  o.ctx = &s;
  clance_gc_stats st;
  REQUIRE_OK(clance_gc(uri, &o, &st, &err), &err);
  CHECK_EQ_U64(st.files_removed, 3);
  CHECK_EQ_U64(st.bytes_removed, 16);
  CHECK_EQ_U64(st.files_kept, 1);
  CHECK(exists(uri, "data/old.lance"));
  CHECK(seen(&s, "data data/old.lance") == 1 && seen(&s, "deletion _deletions/0-1-5.arrow") == 1 &&
        seen(&s, "temporary _versions/.tmp_7.manifest.part") == 1);

  o.dry_run = 0;
  REQUIRE_OK(clance_gc(uri, &o, &st, &err), &err);
  CHECK_EQ_U64(st.files_removed, 3);
  CHECK(!exists(uri, "data/old.lance") && !exists(uri, "_deletions/0-1-5.arrow") &&
        !exists(uri, "_versions/.tmp_7.manifest.part"));
  CHECK(exists(uri, "data/new.lance") && exists(uri, "data/notes.txt"));
  o.older_than_seconds = 0;
  REQUIRE_OK(clance_gc(uri, &o, &st, &err), &err);
  CHECK_EQ_U64(st.files_removed, 1);
  CHECK_EQ_U64(st.files_kept, 0);
  CHECK(!exists(uri, "data/new.lance") && exists(uri, "data/notes.txt"));
  CHECK_EQ_U64(rows_at(uri, 1), 3);
  CHECK_EQ_U64(rows_at(uri, 2), 2);
  CHECK_EQ_U64(rows_at(uri, 3), 1);
  clance_fsck_result *r;
  REQUIRE_OK(clance_fsck(uri, &r, &err), &err);
  CHECK_EQ_U64(r->num_problems, 0);
  CHECK_EQ_U64(r->num_orphans, 0);
  clance_fsck_result_free(r);

  /* Branches are refused. */
  char p[4400];
  snprintf(p, sizeof p, "%s/_refs/branches", uri);
  REQUIRE_OK(cl_mkdirs(p, &err), &err);
  make_file(uri, "_refs/branches/dev.json", 2, 0);
  CHECK(clance_gc(uri, &o, &st, &err) == CLANCE_EUNSUPPORTED);
  clance_cleanup_stats cs;
  CHECK(clance_cleanup(uri, NULL, &cs, &err) == CLANCE_EUNSUPPORTED);
  cl_test_rmtree(dir);
}

int main(void) {
  RUN(test_duration);
  RUN(test_tags);
  RUN(test_cleanup);
  RUN(test_fsck);
  RUN(test_gc);
  TEST_MAIN_END();
}
