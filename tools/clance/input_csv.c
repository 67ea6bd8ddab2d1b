/* CSV input (RFC 4180): quoted fields with "" escapes and embedded commas or
 * newlines, a header naming every column exactly once in any order, empty
 * unquoted field = null, CRLF or LF line endings. List, vector and struct
 * cells hold JSON text. */
#include <stdlib.h>
#include <string.h>

#include "textio_internal.h"

typedef struct cl_csv_cell {
  size_t off, len; /* in r->cells */
  uint64_t line;   /* physical line where the field starts */
  int quoted;
} cl_csv_cell;

void cl_csv_free(cl_text_reader *r) {
  free(r->csv_map);
  r->csv_map = NULL;
  cl_buf_free(&r->cells);
  cl_buf_free(&r->cellmeta);
}

static cl_csv_cell *cell_at(cl_text_reader *r, size_t k) {
  return (cl_csv_cell *)(void *)r->cellmeta.data + k;
}

static size_t n_cells(const cl_text_reader *r) { return r->cellmeta.len / sizeof(cl_csv_cell); }

/* Read the next record into r->cells / r->cellmeta; *got = 0 at the end.
 * Records that are one empty line are skipped when skip_blank is set. */
static clance_status read_record(cl_text_reader *r, int skip_blank, int *got, clance_error *err) {
  cl_buf *rec = &r->rec;
  CL_TRY(cl_buf_reserve(&r->cells, 1, err)); /* never NULL, even for empty cells */
  for (;;) {
    cl_text_loc loc = {r->source, r->line + 1, NULL, 0};
    int have;
    rec->len = 0;
    r->cells.len = 0;
    r->cellmeta.len = 0;
    CL_TRY(cl_line_read(&r->lr, rec, CL_TEXT_MAX_RECORD, &have, &loc, err));
    if (!have) {
      *got = 0;
      return CLANCE_OK;
    }
    uint64_t cur = ++r->line, first = cur;
    size_t i = 0;
    if (first == 1 && rec->len >= 3 && !memcmp(rec->data, "\xEF\xBB\xBF", 3))
      i = 3; /* byte order mark */
    for (;;) { /* one field per iteration */
      cl_csv_cell c = {r->cells.len, 0, cur, 0};
      if (i < rec->len && rec->data[i] == '"') {
        c.quoted = 1;
        i++;
        for (;;) {
          if (i >= rec->len) { /* the quoted field goes on past this line */
            loc.line = cur + 1;
            CL_TRY(cl_line_read(&r->lr, rec, CL_TEXT_MAX_RECORD, &have, &loc, err));
            if (!have) {
              loc.line = c.line;
              return cl_text_err(&loc, err, CLANCE_ECORRUPT,
                                 "unterminated quoted field (no closing '\"' before the end of "
                                 "the input)");
            }
            cur = ++r->line;
            continue;
          }
          const uint8_t *p = rec->data + i;
          const uint8_t *q = memchr(p, '"', rec->len - i);
          if (!q) {
            CL_TRY(cl_buf_append(&r->cells, p, rec->len - i, err));
            i = rec->len;
            continue;
          }
          CL_TRY(cl_buf_append(&r->cells, p, (size_t)(q - p), err));
          i += (size_t)(q - p) + 1;
          if (i < rec->len && rec->data[i] == '"') { /* "" -> " */
            CL_TRY(cl_buf_append(&r->cells, "\"", 1, err));
            i++;
            continue;
          }
          break; /* closing quote */
        }
        int at_end = i >= rec->len || rec->data[i] == '\n' ||
                     (rec->data[i] == '\r' && (i + 1 >= rec->len || rec->data[i + 1] == '\n'));
        if (!at_end && rec->data[i] != ',') {
          loc.line = cur;
          return cl_text_err(&loc, err, CLANCE_ECORRUPT,
                             "field %zu: unexpected character after a closing quote (a quote "
                             "inside a quoted field is written \"\")",
                             n_cells(r) + 1);
        }
      } else {
        size_t s = i;
        while (i < rec->len && rec->data[i] != ',' && rec->data[i] != '\n') {
          if (rec->data[i] == '"') {
            loc.line = cur;
            return cl_text_err(&loc, err, CLANCE_ECORRUPT,
                               "field %zu: quote inside an unquoted field (quote the whole "
                               "field and write the quote as \"\")",
                               n_cells(r) + 1);
          }
          i++;
        }
        size_t e = i;
        if (e > s && rec->data[e - 1] == '\r' && (e >= rec->len || rec->data[e] == '\n'))
          e--; /* CRLF */
        CL_TRY(cl_buf_append(&r->cells, rec->data + s, e - s, err));
      }
      c.len = r->cells.len - c.off;
      CL_TRY(cl_buf_append(&r->cellmeta, &c, sizeof c, err));
      if (i < rec->len && rec->data[i] == ',') {
        i++;
        continue;
      }
      break; /* end of record: '\n', "\r\n" or end of input */
    }
    r->bytes += rec->len;
    if (skip_blank && n_cells(r) == 1 && !cell_at(r, 0)->quoted && cell_at(r, 0)->len == 0)
      continue;
    *got = 1;
    return CLANCE_OK;
  }
}

clance_status cl_csv_read_header(cl_text_reader *r, clance_error *err) {
  int got;
  size_t nf = r->schema.n_fields;
  CL_TRY(read_record(r, 1, &got, err));
  cl_text_loc loc = {r->source, r->line ? r->line : 1, NULL, 0};
  if (!got)
    return cl_text_err(&loc, err, CLANCE_ECORRUPT,
                       "empty input: expected a CSV header line naming the columns");
  size_t nh = n_cells(r);
  if (!(r->csv_map = cl_calloc(nh, sizeof *r->csv_map, err)))
    return err->code;
  uint8_t *seen = cl_calloc(nf ? nf : 1, 1, err);
  if (!seen)
    return err->code;
  clance_status st = CLANCE_OK;
  for (size_t k = 0; k < nh && !st; k++) {
    const cl_csv_cell *c = cell_at(r, k);
    const char *name = (const char *)r->cells.data + c->off;
    size_t idx = nf;
    for (size_t f = 0; f < nf; f++) {
      const char *fname = r->schema.fields[f].name ? r->schema.fields[f].name : "";
      if (strlen(fname) == c->len && !memcmp(fname, name, c->len)) {
        idx = f;
        break;
      }
    }
    int m = c->len > 200 ? 200 : (int)c->len;
    loc.line = c->line;
    if (idx == nf)
      st = cl_text_err(&loc, err, CLANCE_ESCHEMA,
                       "header: unknown column \"%.*s\" (field %zu; the schema has no such column)",
                       m, name, k + 1);
    else if (seen[idx])
      st = cl_text_err(&loc, err, CLANCE_ESCHEMA, "header: column \"%.*s\" appears twice", m, name);
    else {
      seen[idx] = 1;
      r->csv_map[k] = (int)idx;
    }
  }
  for (size_t f = 0; f < nf && !st; f++)
    if (!seen[f])
      st = cl_text_err(&loc, err, CLANCE_ESCHEMA, "header: missing column \"%s\"",
                       r->schema.fields[f].name);
  free(seen);
  r->n_csv_cols = nh;
  return st;
}

static int is_nested(cl_type_id t) {
  return t == CL_TYPE_FIXED_SIZE_LIST || t == CL_TYPE_LIST || t == CL_TYPE_LARGE_LIST ||
         t == CL_TYPE_STRUCT;
}

clance_status cl_csv_read_row(cl_text_reader *r, int *got, clance_error *err) {
  CL_TRY(read_record(r, r->schema.n_fields != 1, got, err));
  if (!*got)
    return CLANCE_OK;
  size_t nc = n_cells(r);
  if (nc != r->n_csv_cols) {
    cl_text_loc loc = {r->source, cell_at(r, 0)->line, NULL, 0};
    return cl_text_err(&loc, err, CLANCE_ECORRUPT, "expected %zu fields, got %zu", r->n_csv_cols,
                       nc);
  }
  for (size_t k = 0; k < nc; k++) {
    const cl_csv_cell *c = cell_at(r, k);
    cl_arr *a = &r->cols[r->csv_map[k]];
    const char *s = (const char *)r->cells.data + c->off;
    cl_text_loc loc = {r->source, c->line, a->field->name, 0};
    if (!c->quoted && c->len == 0) {
      if (!a->field->nullable)
        return cl_text_err(&loc, err, CLANCE_ESCHEMA,
                           "empty field (null) in a NOT NULL column%s",
                           cl_type_is_binary_like(a->field->type)
                               ? "; write \"\" for an empty value"
                               : "");
      CL_TRY(cl_arr_append_nulls(a, 1, err));
    } else if (is_nested(a->field->type)) {
      cl_tj *j = &r->tj;
      j->t = s;
      j->len = c->len;
      j->pos = 0;
      j->loc = loc;
      j->line_chars = 0;
      j->chr_base = 0;
      j->err = err;
      CL_TRY(cl_tj_value(j, a));
      cl_tj_skip_ws(j);
      if (j->pos != j->len)
        return cl_tj_syntax(j, j->pos, "unexpected text after the value");
    } else {
      CL_TRY(cl_text_append_scalar(a, s, c->len, CL_TK_RAW, &loc, err));
    }
  }
  return CLANCE_OK;
}
