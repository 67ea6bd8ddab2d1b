/* JSON Lines input: one JSON object per line, keys are column names in any
 * order, a missing key or null is null, an unknown key is an error. Blank
 * lines are skipped. */
#include <string.h>

#include "textio_internal.h"

clance_status cl_jsonl_read_row(cl_text_reader *r, int *got, clance_error *err) {
  for (;;) {
    cl_text_loc loc = {r->source, r->line + 1, NULL, 0};
    int have;
    r->rec.len = 0;
    CL_TRY(cl_line_read(&r->lr, &r->rec, CL_TEXT_MAX_RECORD, &have, &loc, err));
    if (!have) {
      *got = 0;
      return CLANCE_OK;
    }
    r->line++;
    r->bytes += r->rec.len;
    const char *t = (const char *)r->rec.data;
    size_t n = r->rec.len;
    if (n && t[n - 1] == '\n')
      n--; /* a '\r' before it is JSON whitespace */
    size_t skip = 0;
    if (r->line == 1 && n >= 3 && !memcmp(t, "\xEF\xBB\xBF", 3))
      skip = 3; /* byte order mark */
    cl_tj *j = &r->tj;
    j->t = t + skip;
    j->len = n - skip;
    j->pos = 0;
    j->loc = loc;
    j->line_chars = 1;
    j->chr_base = skip ? 1 : 0;
    j->err = err;
    cl_tj_skip_ws(j);
    if (j->pos == j->len)
      continue; /* blank line */
    if (j->t[j->pos] != '{')
      return cl_tj_syntax(j, j->pos, "expected a JSON object (one row per line)");
    CL_TRY(cl_tj_object(j, r->schema.fields, r->cols, r->schema.n_fields, 1));
    cl_tj_skip_ws(j);
    if (j->pos != j->len)
      return cl_tj_syntax(j, j->pos, "unexpected text after the row's object");
    *got = 1;
    return CLANCE_OK;
  }
}
