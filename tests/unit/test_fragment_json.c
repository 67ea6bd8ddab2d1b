/* FragmentMetadata JSON: byte-identical with what pylance's to_json() +
 * json.dumps produce, accepted from pylance and from Lance's Rust serde form,
 * and every malformation refused with the source named. */
#include "clance/clance.h"
#include "test.h"

/* As pylance prints it (keys in dataclass order, path last, Python separators). */
static const char *const PYLANCE =
    "[{\"id\": 0, \"files\": [{\"fields\": [0, 1, 2, 3], \"column_indices\": [0, 1, 2, 3], "
    "\"file_major_version\": 2, \"file_minor_version\": 1, \"file_size_bytes\": 1946, "
    "\"base_id\": null, \"path\": \"100110001000111000110101faa9b1410da1c28ec4c38d98c8.lance\"}], "
    "\"physical_rows\": 20, \"deletion_file\": {\"read_version\": 2, \"id\": 17715990369170465840, "
    "\"file_type\": \"array\", \"num_deleted_rows\": 2, \"base_id\": null}, \"row_id_meta\": null, "
    "\"created_at_version_meta\": null, \"last_updated_at_version_meta\": null}]";

static void test_pylance_roundtrip(void) {
  clance_error err;
  clance_fragments *f;
  REQUIRE_OK(clance_fragments_from_json(PYLANCE, strlen(PYLANCE), "pylance", &f, &err), &err);
  CHECK_EQ_U64(clance_fragments_count(f), 1);
  CHECK_EQ_U64(clance_fragments_num_rows(f), 20);
  char *out;
  REQUIRE_OK(clance_fragments_to_json(f, &out, &err), &err);
  CHECK_STR(out, PYLANCE); /* including the u64 id above 2^63 */
  clance_free(out);
  clance_fragments_free(f);
}

static void test_rust_serde_form(void) {
  /* Lance's Rust Fragment::to_json leaves absent parts out and may use null rows. */
  const char *rust = "{\"id\":3,\"files\":[{\"path\":\"x.lance\",\"fields\":[0],\"column_indices\":[0],"
                     "\"file_major_version\":2,\"file_minor_version\":2,\"file_size_bytes\":null,"
                     "\"base_id\":null}],\"physical_rows\":null}";
  clance_error err;
  clance_fragments *f;
  REQUIRE_OK(clance_fragments_from_json(rust, strlen(rust), "rust", &f, &err), &err);
  char *out;
  REQUIRE_OK(clance_fragments_to_json(f, &out, &err), &err);
  CHECK_STR(out, "[{\"id\": 3, \"files\": [{\"fields\": [0], \"column_indices\": [0], "
                 "\"file_major_version\": 2, \"file_minor_version\": 2, \"file_size_bytes\": null, "
                 "\"base_id\": null, \"path\": \"x.lance\"}], \"physical_rows\": 0, "
                 "\"deletion_file\": null, \"row_id_meta\": null, \"created_at_version_meta\": null, "
                 "\"last_updated_at_version_meta\": null}]");
  clance_free(out);
  clance_fragments_free(f);
}

static void expect_bad(const char *json, clance_status code, const char *needle) {
  clance_error err;
  clance_fragments *f = NULL;
  clance_status st = clance_fragments_from_json(json, strlen(json), "in.json", &f, &err);
  if (st != code || !strstr(err.message, needle) || !strstr(err.message, "in.json")) {
    fprintf(stderr, "  input %s: got %s \"%s\", expected %s containing \"%s\"\n", json,
            clance_status_name(st), err.message, clance_status_name(code), needle);
    CHECK(0);
  }
  clance_fragments_free(f);
}

static void test_malformed(void) {
  const char *file = "{\"path\": \"a.lance\", \"fields\": [0]}";
  char buf[512];
  expect_bad("", CLANCE_ECORRUPT, "line 1");
  expect_bad("[1, 2]", CLANCE_ECORRUPT, "must be a JSON object");
  expect_bad("{\"files\": [], \"physical_rows\": 1}", CLANCE_ECORRUPT, "missing key \"id\"");
  expect_bad("{\"id\": 0, \"files\": [], \"physical_rows\": 1}", CLANCE_ECORRUPT, "non-empty");
  snprintf(buf, sizeof buf, "{\"id\": -1, \"files\": [%s], \"physical_rows\": 1}", file);
  expect_bad(buf, CLANCE_ECORRUPT, "\"id\"");
  snprintf(buf, sizeof buf, "{\"id\": 0, \"files\": [%s], \"physical_rows\": 1.5}", file);
  expect_bad(buf, CLANCE_ECORRUPT, "physical_rows");
  expect_bad("{\"id\": 0, \"files\": [{\"path\": \"a/b.lance\", \"fields\": [0]}], \"physical_rows\": 1}",
             CLANCE_ECORRUPT, "bare file name");
  expect_bad("{\"id\": 0, \"files\": [{\"path\": \"a.lance\", \"fields\": [99999999999]}], \"physical_rows\": 1}",
             CLANCE_ECORRUPT, "32-bit");
  expect_bad("{\"id\": 0, \"files\": [{\"path\": \"a.lance\", \"fields\": [0], \"colour\": 1}], \"physical_rows\": 1}",
             CLANCE_ECORRUPT, "unexpected key \"colour\"");
  snprintf(buf, sizeof buf, "{\"id\": 0, \"files\": [%s], \"physical_rows\": 1, \"deletion_file\": "
           "{\"read_version\": 1, \"id\": 2, \"file_type\": \"zip\", \"num_deleted_rows\": 1}}", file);
  expect_bad(buf, CLANCE_ECORRUPT, "file_type");
  snprintf(buf, sizeof buf, "{\"id\": 0, \"files\": [%s], \"physical_rows\": 1, \"row_id_meta\": {}}", file);
  expect_bad(buf, CLANCE_EUNSUPPORTED, "stable row ids");
  snprintf(buf, sizeof buf, "[{\"id\": 0, \"files\": [%s], \"physical_rows\": 1}, {\"id\": 0}]", file);
  expect_bad(buf, CLANCE_ECORRUPT, "fragment [1]");
}

int main(void) {
  RUN(test_pylance_roundtrip);
  RUN(test_rust_serde_form);
  RUN(test_malformed);
  TEST_MAIN_END();
}
