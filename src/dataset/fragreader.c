/* The fragment reader behind scans and takes.
 *
 * File format 2.1+ stores only leaves: a nested column is read as one cursor
 * per leaf, each producing the column pruned to that leaf's branch; the
 * branches are merged when a batch is exported. File format 2.0 stores one
 * column per field node: list offsets and items, struct headers and
 * children, read by walking the field tree. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dataset/fragreader.h"

#include "arrow/dict.h"
#include "encoding/decode.h"
#include "encoding/repdef.h"
#include "io/fs.h"

#define MAX_DEPTH 64

/* ---- column cursors: pages of one file column ---- */

typedef struct col_cursor {
  const cl_field *field;   /* the type pages are decoded as */
  cl_file_reader *file;
  size_t col;
  const cl_column_info *ci;
  size_t page;             /* next page to load */
  cl_shared *cur;          /* the decoded page being consumed */
  int64_t cur_len;
  int64_t pos;
  int missing;             /* no data in this fragment: nulls */
  int list_lengths;        /* 2.0 list offsets column: pages decode to item counts */
  /* Rows taken but not yet copied: while a batch's rows come from one page
   * they are exported as a zero-copy slice of it. */
  int slices;              /* this cursor feeds a whole output column */
  cl_shared *pend;
  int64_t pend_start, pend_len;
  /* Row access to one page (takes, filtered scans), kept across calls. */
  struct cl_page_rows *pr;
  size_t pr_page;
  int pr_open;             /* pr_page was looked at: pr, or NULL = needs a decode */
} col_cursor;

static void cursor_release_rows(col_cursor *c) {
  cl_page_rows_free(c->pr);
  c->pr = NULL;
  c->pr_open = 0;
}

static void cursor_release_page(col_cursor *c) {
  cl_shared_unref(c->cur);
  c->cur = NULL;
  c->cur_len = 0;
  c->pos = 0;
}

/* Copy the pending rows into the builder. */
static clance_status cursor_flush(col_cursor *c, cl_arr *dst, clance_error *err) {
  if (!c->pend)
    return CLANCE_OK;
  clance_status st = cl_arr_append_from(dst, cl_shared_array(c->pend), c->pend_start, c->pend_len, err);
  cl_shared_unref(c->pend);
  c->pend = NULL;
  return st;
}

/* Export what the cursor gathered for a batch: the pending slice when the
 * builder holds nothing else, else the builder. */
static clance_status cursor_export(col_cursor *c, cl_arr *dst, struct ArrowArray *out,
                                   clance_error *err) {
  if (c->pend && dst->length == 0) {
    clance_status st = cl_shared_slice(c->pend, c->pend_start, c->pend_len, out, err);
    cl_shared_unref(c->pend);
    c->pend = NULL;
    return st;
  }
  CL_TRY(cursor_flush(c, dst, err));
  return cl_arr_export(dst, out, err);
}

static clance_status cursor_load(col_cursor *c, clance_error *err) {
  cursor_release_page(c);
  if (c->page >= c->ci->n_pages)
    return cl_err(err, CLANCE_ECORRUPT, "data file %s column %zu ends before the fragment's rows",
                  c->file->c.file.path, c->col);
  struct ArrowArray a;
  if (c->list_lengths)
    CL_TRY(cl_file_reader_decode_list_lengths(c->file, c->col, c->page, &a, err));
  else
    CL_TRY(cl_file_reader_decode_page(c->file, c->col, c->page, c->field, &a, err));
  c->cur_len = a.length;
  if (!(c->cur = cl_shared_new(&a, err)))
    return err->code;
  c->page++;
  return CLANCE_OK;
}

static clance_status cursor_take(col_cursor *c, uint64_t n, cl_arr *dst, clance_error *err) {
  if (c->missing) {
    CL_TRY(cursor_flush(c, dst, err));
    return cl_arr_append_nulls(dst, (int64_t)n, err);
  }
  while (n > 0) {
    if (!c->cur || c->pos == c->cur_len)
      CL_TRY(cursor_load(c, err));
    uint64_t k = (uint64_t)(c->cur_len - c->pos);
    if (k > n)
      k = n;
    if (c->slices && dst->length == 0 && !c->pend) {
      cl_shared_ref(c->cur);
      c->pend = c->cur;
      c->pend_start = c->pos;
      c->pend_len = (int64_t)k;
    } else if (c->slices && dst->length == 0 && c->pend == c->cur &&
               c->pend_start + c->pend_len == c->pos) {
      c->pend_len += (int64_t)k;
    } else {
      CL_TRY(cursor_flush(c, dst, err));
      CL_TRY(cl_arr_append_from(dst, cl_shared_array(c->cur), c->pos, (int64_t)k, err));
    }
    c->pos += (int64_t)k;
    n -= k;
  }
  return CLANCE_OK;
}

static clance_status cursor_skip(col_cursor *c, uint64_t n, clance_error *err) {
  if (c->missing)
    return CLANCE_OK;
  while (n > 0) {
    if (c->cur && c->pos < c->cur_len) {
      uint64_t k = (uint64_t)(c->cur_len - c->pos);
      if (k > n)
        k = n;
      c->pos += (int64_t)k;
      n -= k;
      continue;
    }
    /* Whole pages that are skipped are never read or decoded. */
    cursor_release_page(c);
    if (c->page < c->ci->n_pages && c->ci->pages[c->page].length <= n) {
      n -= c->ci->pages[c->page].length;
      c->page++;
      continue;
    }
    CL_TRY(cursor_load(c, err));
  }
  return CLANCE_OK;
}

/* ---- output columns ---- */

/* 2.1+: one leaf of a top-level field. */
typedef struct leaf_col {
  cl_field pruned; /* the top-level field cut down to this leaf's branch */
  int path[MAX_DEPTH];
  int depth;       /* struct/list levels above the leaf */
  const cl_field *leaf;
  col_cursor cur;
  cl_arr bld;
} leaf_col;

/* 2.0: a field node and its column. */
typedef struct node20 {
  const cl_field *f;
  col_cursor cur; /* leaves and list offsets; unused for structs */
  cl_field lengths_field;
  struct node20 *kids;
  size_t n_kids;
} node20;

typedef struct out_col {
  const cl_field *field;      /* what the files hold */
  const cl_field *dict_field; /* the dictionary type to rebuild on export, or NULL */
  cl_field value_field;       /* a dictionary column's values, under its name and id */
  leaf_col *leaves;
  size_t n_leaves;
  node20 root;
  cl_arr bld; /* 2.0: the whole field */
  /* Rows of the open fragment: `row` is the next one the output gets,
   * `walked` where the cursors stand (behind `row` after row access; they
   * catch up, skipping, when they are used next). */
  uint64_t row, walked;
} out_col;

struct cl_frag_reader {
  cl_dataset *ds;
  int v20; /* the dataset's files are format 2.0 */
  cl_schema out_schema;
  size_t n_cols;
  out_col *cols;
  int in_frag;
  cl_file_reader **readers;
  size_t n_readers;
  uint64_t frag_rows;
  cl_deletions *deleted;
};

/* A struct whose children are separate columns (2.1+ leaves, 2.0 nodes);
 * a packed struct is one column, read like a leaf. */
static int split_struct(const cl_field *f) {
  return f->type == CL_TYPE_STRUCT && !cl_field_is_packed(f);
}

static size_t count_leaves(const cl_field *f) {
  int is_struct = split_struct(f) && f->n_children > 0;
  int is_list = f->type == CL_TYPE_LIST || f->type == CL_TYPE_LARGE_LIST;
  if (!is_struct && !is_list)
    return 1;
  size_t n = 0;
  for (size_t i = 0; i < f->n_children; i++)
    n += count_leaves(&f->children[i]);
  return n;
}

/* Collect the leaves of f (depth-first) with their child paths. The array
 * is allocated up front: builders and cursors point into its elements. */
static clance_status add_leaves(out_col *oc, const cl_field *f, int *path, int depth,
                                clance_error *err) {
  if (depth >= MAX_DEPTH)
    return cl_err(err, CLANCE_EUNSUPPORTED, "column \"%s\" nests deeper than %d levels",
                  oc->field->name, MAX_DEPTH);
  int is_struct = split_struct(f) && f->n_children > 0;
  int is_list = f->type == CL_TYPE_LIST || f->type == CL_TYPE_LARGE_LIST;
  if (is_struct || is_list) {
    for (size_t i = 0; i < f->n_children; i++) {
      path[depth] = (int)i;
      CL_TRY(add_leaves(oc, &f->children[i], path, depth + 1, err));
    }
    return CLANCE_OK;
  }
  leaf_col *l = &oc->leaves[oc->n_leaves];
  memset(l, 0, sizeof *l);
  l->depth = depth;
  memcpy(l->path, path, (size_t)depth * sizeof *path);
  l->leaf = f;
  CL_TRY(cl_field_prune(oc->field, path, depth, &l->pruned, err));
  oc->n_leaves++;
  CL_TRY(cl_arr_init(&l->bld, &l->pruned, err));
  l->cur.field = &l->pruned;
  return CLANCE_OK;
}

static clance_status build_node20(node20 *n, const cl_field *f, int depth, clance_error *err) {
  memset(n, 0, sizeof *n);
  n->f = f;
  n->cur.field = f;
  if (depth >= MAX_DEPTH)
    return cl_err(err, CLANCE_EUNSUPPORTED, "field \"%s\" nests too deeply", f->name);
  int nested = split_struct(f) || f->type == CL_TYPE_LIST || f->type == CL_TYPE_LARGE_LIST;
  if (!nested)
    return CLANCE_OK;
  if (f->type != CL_TYPE_STRUCT) {
    n->lengths_field.type = CL_TYPE_UINT64;
    n->lengths_field.nullable = 1;
    n->lengths_field.name = (char *)"lengths";
    n->cur.field = &n->lengths_field;
    n->cur.list_lengths = 1;
  }
  if (f->n_children) {
    n->kids = cl_calloc(f->n_children, sizeof *n->kids, err);
    if (!n->kids)
      return err->code;
    n->n_kids = f->n_children;
    for (size_t i = 0; i < f->n_children; i++)
      CL_TRY(build_node20(&n->kids[i], &f->children[i], depth + 1, err));
  }
  return CLANCE_OK;
}

static void node20_release_pages(node20 *n) {
  cursor_release_page(&n->cur);
  cursor_release_rows(&n->cur);
  for (size_t i = 0; i < n->n_kids; i++)
    node20_release_pages(&n->kids[i]);
}

static void node20_free(node20 *n) {
  node20_release_pages(n);
  cl_shared_unref(n->cur.pend); /* rows gathered but never exported */
  n->cur.pend = NULL;
  for (size_t i = 0; i < n->n_kids; i++)
    node20_free(&n->kids[i]);
  free(n->kids);
  n->kids = NULL;
  n->n_kids = 0;
}

static void out_col_free(out_col *oc) {
  for (size_t i = 0; i < oc->n_leaves; i++) {
    cursor_release_page(&oc->leaves[i].cur);
    cursor_release_rows(&oc->leaves[i].cur);
    cl_shared_unref(oc->leaves[i].cur.pend);
    cl_arr_free(&oc->leaves[i].bld);
    cl_field_free(&oc->leaves[i].pruned);
  }
  free(oc->leaves);
  node20_free(&oc->root);
  cl_arr_free(&oc->bld);
  cl_field_free(&oc->value_field);
}

/* ---- 2.0 reads: walk the field tree ---- */

static clance_status take20(node20 *n, uint64_t rows, cl_arr *dst, clance_error *err);

/* Item counts of the next `rows` lists (and their validity) into `lens`. */
static clance_status list_lengths(node20 *n, uint64_t rows, cl_arr *lens, clance_error *err) {
  cl_arr_reset(lens);
  return cursor_take(&n->cur, rows, lens, err);
}

/* Does the fragment hold any data for this node? */
static int node20_present(const node20 *n) {
  if (!split_struct(n->f))
    return !n->cur.missing;
  for (size_t i = 0; i < n->n_kids; i++)
    if (node20_present(&n->kids[i]))
      return 1;
  return 0;
}

static clance_status take20(node20 *n, uint64_t rows, cl_arr *dst, clance_error *err) {
  const cl_field *f = n->f;
  if (split_struct(f)) {
    /* 2.0 struct headers hold no data: structs are never null in 2.0, except
     * when a fragment predates the column altogether. */
    for (size_t i = 0; i < n->n_kids; i++)
      CL_TRY(take20(&n->kids[i], rows, &dst->children[i], err));
    return node20_present(n) ? cl_arr_append_valid(dst, (int64_t)rows, err)
                             : cl_arr_append_null(dst, (int64_t)rows, err);
  }
  if (f->type != CL_TYPE_LIST && f->type != CL_TYPE_LARGE_LIST)
    return cursor_take(&n->cur, rows, dst, err);
  if (n->cur.missing) {
    CL_TRY(cl_arr_append_nulls(dst, (int64_t)rows, err));
    return CLANCE_OK;
  }
  cl_arr lens;
  CL_TRY(cl_arr_init(&lens, &n->lengths_field, err));
  clance_status st = list_lengths(n, rows, &lens, err);
  uint64_t total = 0, end = cl_arr_last_offset(dst);
  for (uint64_t i = 0; !st && i < rows; i++) {
    uint64_t len = cl_le64(lens.values.data + 8 * i);
    total += len;
    st = cl_arr_push_offset(dst, end + total, err);
  }
  if (!st)
    st = cl_arr_append_validity(dst, lens.null_count ? lens.validity.data : NULL, 0, (int64_t)rows, err);
  if (!st)
    st = take20(&n->kids[0], total, &dst->children[0], err);
  cl_arr_free(&lens);
  return st;
}

static clance_status skip20(node20 *n, uint64_t rows, clance_error *err) {
  const cl_field *f = n->f;
  if (split_struct(f)) {
    for (size_t i = 0; i < n->n_kids; i++)
      CL_TRY(skip20(&n->kids[i], rows, err));
    return CLANCE_OK;
  }
  if (f->type != CL_TYPE_LIST && f->type != CL_TYPE_LARGE_LIST)
    return cursor_skip(&n->cur, rows, err);
  if (n->cur.missing)
    return CLANCE_OK;
  cl_arr lens;
  CL_TRY(cl_arr_init(&lens, &n->lengths_field, err));
  clance_status st = list_lengths(n, rows, &lens, err);
  uint64_t total = 0;
  for (uint64_t i = 0; !st && i < rows; i++)
    total += cl_le64(lens.values.data + 8 * i);
  if (!st)
    st = skip20(&n->kids[0], total, err);
  cl_arr_free(&lens);
  return st;
}

/* ---- fragments ---- */

void cl_frag_reader_close(cl_frag_reader *s) {
  for (size_t c = 0; s->cols && c < s->n_cols; c++) {
    for (size_t i = 0; i < s->cols[c].n_leaves; i++) {
      cursor_release_page(&s->cols[c].leaves[i].cur);
      cursor_release_rows(&s->cols[c].leaves[i].cur); /* before the files close */
    }
    node20_release_pages(&s->cols[c].root);
    s->cols[c].row = s->cols[c].walked = 0;
  }
  for (size_t i = 0; i < s->n_readers; i++)
    cl_file_reader_close(s->readers[i]);
  free(s->readers);
  s->readers = NULL;
  s->n_readers = 0;
  cl_deletions_free(s->deleted);
  s->deleted = NULL;
  s->in_frag = 0;
}

/* Point cursor c at the column storing field `want` in fragment f. */
static clance_status locate(cl_frag_reader *s, const pb_fragment *f, const cl_field *want,
                            col_cursor *c, clance_error *err) {
  const char *root = s->ds->root;
  cursor_release_page(c);
  c->page = 0;
  c->missing = 1;
  for (size_t d = 0; d < f->n_files; d++) {
    const pb_data_file *df = f->files[d];
    for (size_t k = 0; k < df->n_fields; k++) {
      if (df->fields[k] != want->id)
        continue;
      if (k >= df->n_column_indices || df->column_indices[k] < 0)
        return cl_err(err, CLANCE_ECORRUPT, "fragment %llu: data file %s has no column index for "
                      "field %d", (unsigned long long)f->id, cl_pb_str(df->path), (int)df->fields[k]);
      if (!s->readers[d]) {
        char *p = cl_dataset_data_path(root, df, err);
        if (!p)
          return err->code;
        clance_status st = cl_file_reader_open(p, df->file_size_bytes, &s->readers[d], err);
        free(p);
        CL_TRY(st);
        if (s->frag_rows && s->readers[d]->num_rows != s->frag_rows)
          return cl_err(err, CLANCE_ECORRUPT, "data file %s holds %llu rows but fragment %llu "
                        "records %llu", s->readers[d]->c.file.path,
                        (unsigned long long)s->readers[d]->num_rows, (unsigned long long)f->id,
                        (unsigned long long)s->frag_rows);
        if ((s->readers[d]->c.version == CL_FILE_V2_0) != s->v20)
          return cl_err(err, CLANCE_EUNSUPPORTED, "data file %s is format %s in a dataset of format "
                        "%s", s->readers[d]->c.file.path, cl_file_version_name(s->readers[d]->c.version),
                        s->ds->data_format);
      }
      c->file = s->readers[d];
      c->col = (size_t)df->column_indices[k];
      c->missing = 0;
      /* The file's own schema must agree with the dataset on this field. */
      const cl_field *ff = cl_schema_find_id(&c->file->schema, want->id);
      char why[256];
      /* A dictionary column is read as its values (`want`, see setup_col). */
      const cl_field *ft = ff && ff->type == CL_TYPE_DICTIONARY && want->type != CL_TYPE_DICTIONARY &&
                                   ff->n_children == 1 ? &ff->children[0] : ff;
      /* Fields are matched by id: a renamed column keeps its old name in files. */
      if (!ff || !cl_field_same_type(ft, want, why, sizeof why))
        return cl_err(err, CLANCE_ECORRUPT, "data file %s: field %d (\"%s\") does not match the "
                      "dataset schema (%s)", c->file->c.file.path, (int)want->id, want->name,
                      ff ? why : "missing from the file");
      return cl_file_reader_column(c->file, c->col, &c->ci, err);
    }
  }
  return CLANCE_OK;
}

static clance_status locate20(cl_frag_reader *s, const pb_fragment *f, node20 *n, clance_error *err) {
  if (!split_struct(n->f))
    CL_TRY(locate(s, f, n->f, &n->cur, err));
  else
    n->cur.missing = 1; /* header columns carry nothing we need */
  for (size_t i = 0; i < n->n_kids; i++)
    CL_TRY(locate20(s, f, &n->kids[i], err));
  return CLANCE_OK;
}

static clance_status open_fragment(cl_frag_reader *s, const pb_fragment *f, clance_error *err) {
  cl_frag_reader_close(s);
  s->readers = cl_calloc(f->n_files ? f->n_files : 1, sizeof *s->readers, err);
  if (!s->readers)
    return err->code;
  s->n_readers = f->n_files;
  s->in_frag = 1;
  CL_TRY(cl_fragment_rows(s->ds->root, f, &s->frag_rows, err));
  for (size_t c = 0; c < s->n_cols; c++) {
    out_col *oc = &s->cols[c];
    if (s->v20) {
      CL_TRY(locate20(s, f, &oc->root, err));
      continue;
    }
    for (size_t i = 0; i < oc->n_leaves; i++)
      CL_TRY(locate(s, f, oc->leaves[i].leaf, &oc->leaves[i].cur, err));
  }
  if (f->deletion_file)
    CL_TRY(cl_deletions_load(s->ds->root, f, &s->deleted, err));
  return CLANCE_OK;
}

/* ---- batches ---- */

static clance_status walk_col(cl_frag_reader *s, out_col *oc, uint64_t n, int skip,
                              clance_error *err) {
  if (s->v20)
    return skip ? skip20(&oc->root, n, err) : take20(&oc->root, n, &oc->bld, err);
  for (size_t i = 0; i < oc->n_leaves; i++) {
    leaf_col *l = &oc->leaves[i];
    CL_TRY(skip ? cursor_skip(&l->cur, n, err) : cursor_take(&l->cur, n, &l->bld, err));
  }
  return CLANCE_OK;
}

/* Take or skip the next n rows of a column with its cursors. */
static clance_status take_col(cl_frag_reader *s, out_col *oc, uint64_t n, int skip,
                              clance_error *err) {
  if (oc->walked < oc->row) { /* rows were read by row access since */
    CL_TRY(walk_col(s, oc, oc->row - oc->walked, 1, err));
    oc->walked = oc->row;
  }
  CL_TRY(walk_col(s, oc, n, skip, err));
  oc->row += n;
  oc->walked = oc->row;
  return CLANCE_OK;
}

/* Merge the branch builders of one field level into one exported array.
 * parts[i] are the builders of the leaves below this node (at this level);
 * the first one that holds data provides the node's validity/offsets. */
static clance_status merge(const cl_field *f, leaf_col **leaves, cl_arr **parts, size_t k, int level,
                           struct ArrowArray *out, clance_error *err) {
  int is_struct = split_struct(f) && f->n_children > 0;
  int is_list = f->type == CL_TYPE_LIST || f->type == CL_TYPE_LARGE_LIST;
  if (!is_struct && !is_list)
    return cl_arr_export(parts[0], out, err);
  size_t src = 0;
  for (size_t i = 0; i < k; i++)
    if (!leaves[i]->cur.missing) {
      src = i;
      break;
    }
  size_t nk = f->n_children;
  struct ArrowArray *kids = cl_calloc(nk, sizeof *kids, err);
  leaf_col **sub_leaves = cl_calloc(k, sizeof *sub_leaves, err);
  cl_arr **sub = cl_calloc(k, sizeof *sub, err);
  clance_status st = kids && sub_leaves && sub ? CLANCE_OK : err->code;
  for (size_t c = 0; !st && c < nk; c++) {
    size_t m = 0;
    for (size_t i = 0; i < k; i++)
      if (leaves[i]->path[level] == (int)c) {
        sub_leaves[m] = leaves[i];
        sub[m++] = &parts[i]->children[0];
      }
    if (m == 0) {
      st = cl_err(err, CLANCE_EINTERNAL, "no leaf under child %zu of \"%s\"", c, f->name);
      break;
    }
    st = merge(&f->children[c], sub_leaves, sub, m, level + 1, &kids[c], err);
  }
  if (!st)
    st = cl_arr_export_node(parts[src], kids, nk, out, err);
  else
    for (size_t c = 0; kids && c < nk; c++)
      if (kids[c].release)
        kids[c].release(&kids[c]);
  free(kids);
  free(sub_leaves);
  free(sub);
  return st;
}

static clance_status export_values(cl_frag_reader *s, out_col *oc, struct ArrowArray *out,
                                   clance_error *err);

static clance_status export_col(cl_frag_reader *s, out_col *oc, struct ArrowArray *out,
                                clance_error *err) {
  CL_TRY(export_values(s, oc, out, err));
  /* A damaged file can decode nulls into a NOT NULL column: refuse them
   * rather than hand out an array that breaks the schema. */
  if (!oc->field->nullable && out->length > 0 && out->null_count != 0 &&
      cl_array_null_count(out) > 0) {
    const col_cursor *cc = s->v20 ? &oc->root.cur : oc->n_leaves ? &oc->leaves[0].cur : NULL;
    const char *path = cc && cc->file ? cc->file->c.file.path : NULL;
    out->release(out);
    return cl_err(err, CLANCE_ECORRUPT, "%s%s%scolumn \"%s\" is NOT NULL but its data holds nulls",
                  path ? "data file " : "", path ? path : "", path ? ": " : "", oc->field->name);
  }
  if (!oc->dict_field)
    return CLANCE_OK;
  clance_status st = cl_array_dict_encode(oc->dict_field, out, err);
  if (st)
    out->release(out);
  return st;
}

static clance_status export_values(cl_frag_reader *s, out_col *oc, struct ArrowArray *out,
                                   clance_error *err) {
  if (s->v20)
    return cursor_export(&oc->root.cur, &oc->bld, out, err);
  if (oc->n_leaves == 1)
    return cursor_export(&oc->leaves[0].cur, &oc->leaves[0].bld, out, err);
  leaf_col **ls = cl_calloc(oc->n_leaves, sizeof *ls, err);
  cl_arr **parts = cl_calloc(oc->n_leaves, sizeof *parts, err);
  clance_status st = ls && parts ? CLANCE_OK : err->code;
  for (size_t i = 0; !st && i < oc->n_leaves; i++) {
    ls[i] = &oc->leaves[i];
    parts[i] = &oc->leaves[i].bld;
  }
  if (!st)
    st = merge(oc->field, ls, parts, oc->n_leaves, 0, out, err);
  /* Branches not exported above still hold this batch's structure. */
  for (size_t i = 0; i < oc->n_leaves; i++)
    cl_arr_reset(&oc->leaves[i].bld);
  free(ls);
  free(parts);
  return st;
}

/* ---- row access for takes and filtered scans ---- */

/* A page is read by row access when fewer than one row in DENSE_RATIO of it
 * is wanted, or when its row access is as cheap as decoding it (full-zip);
 * denser pages are decoded whole (once, by the cursor) and the rows copied
 * out of them, or handed out as zero-copy slices. */
#define DENSE_RATIO 8

/* Row access to page p of cursor c (cached while the rows stay on it):
 * *pr NULL when the page needs a whole-page decode. */
static clance_status page_rows(col_cursor *c, size_t p, struct cl_page_rows **pr, clance_error *err) {
  if (!c->pr_open || c->pr_page != p) {
    cursor_release_rows(c);
    int supported;
    CL_TRY(cl_file_reader_page_rows(c->file, c->col, p, c->field, &c->pr, &supported, err));
    c->pr_page = p;
    c->pr_open = 1;
  }
  *pr = c->pr;
  return CLANCE_OK;
}

/* The given rows (ascending, not before oc->row) of a column read through
 * one cursor into builder bld: sparse rows of a page by row access, dense
 * ones (and pages without row access) through the cursor. */
static clance_status leaf_take_rows(cl_frag_reader *s, out_col *oc, col_cursor *c, cl_arr *bld,
                                    const uint64_t *rows, size_t n, clance_error *err) {
  if (c->missing) {
    CL_TRY(cursor_flush(c, bld, err));
    CL_TRY(cl_arr_append_nulls(bld, (int64_t)n, err));
    oc->row = oc->walked = n ? rows[n - 1] + 1 : oc->row;
    return CLANCE_OK;
  }
  uint64_t *local = NULL;
  clance_status st = CLANCE_OK;
  size_t p = 0;
  for (size_t i = 0; !st && i < n;) {
    while (p < c->ci->n_pages && rows[i] >= c->ci->pages[p].first_row + c->ci->pages[p].length)
      p++;
    if (p == c->ci->n_pages) {
      st = cl_err(err, CLANCE_ECORRUPT, "data file %s column %zu has fewer rows than its fragment",
                  c->file->c.file.path, c->col);
      break;
    }
    uint64_t first = c->ci->pages[p].first_row, len = c->ci->pages[p].length, end = first + len;
    size_t k = 0;
    while (i + k < n && rows[i + k] < end)
      k++;
    struct cl_page_rows *pr = NULL;
    int loaded = c->cur && c->page == p + 1; /* the cursor holds this page decoded */
    if (!loaded)
      st = page_rows(c, p, &pr, err);
    if (pr && !pr->dense && (uint64_t)k * DENSE_RATIO >= len)
      pr = NULL;
    if (!st && pr) {
      if (!local && !(local = cl_malloc((n ? n : 1) * sizeof *local, err))) {
        st = err->code;
        break;
      }
      for (size_t j = 0; j < k; j++)
        local[j] = rows[i + j] - first;
      st = cursor_flush(c, bld, err);
      if (!st)
        st = cl_page_rows_take(pr, local, k, bld, err);
      if (!st)
        oc->row = rows[i + k - 1] + 1;
    } else {
      /* Runs of consecutive rows through the cursor. */
      for (size_t j = i; !st && j < i + k;) {
        size_t e = j + 1;
        while (e < i + k && rows[e] == rows[e - 1] + 1)
          e++;
        if (rows[j] > oc->row)
          st = take_col(s, oc, rows[j] - oc->row, 1, err);
        if (!st)
          st = take_col(s, oc, (uint64_t)(e - j), 0, err);
        j = e;
      }
    }
    i += k;
  }
  free(local);
  return st;
}

clance_status cl_frag_reader_take_rows(cl_frag_reader *r, const uint64_t *rows, size_t n,
                                       clance_error *err) {
  for (size_t ci = 0; ci < r->n_cols; ci++) {
    out_col *oc = &r->cols[ci];
    if (n && rows[0] < oc->row)
      return cl_err(err, CLANCE_EINTERNAL, "row %llu requested after row %llu",
                    (unsigned long long)rows[0], (unsigned long long)oc->row);
    /* Flat columns: one cursor, row access where it pays. */
    if (!r->v20 && oc->n_leaves == 1 && oc->leaves[0].depth == 0) {
      CL_TRY(leaf_take_rows(r, oc, &oc->leaves[0].cur, &oc->leaves[0].bld, rows, n, err));
      continue;
    }
    if (r->v20 && !oc->root.n_kids && !oc->root.cur.list_lengths && !split_struct(oc->root.f)) {
      CL_TRY(leaf_take_rows(r, oc, &oc->root.cur, &oc->bld, rows, n, err));
      continue;
    }
    /* Nested columns: walk there with the cursors, a run at a time. */
    for (size_t i = 0; i < n;) {
      size_t e = i + 1;
      while (e < n && rows[e] == rows[e - 1] + 1)
        e++;
      if (rows[i] > oc->row)
        CL_TRY(take_col(r, oc, rows[i] - oc->row, 1, err));
      CL_TRY(take_col(r, oc, (uint64_t)(e - i), 0, err));
      i = e;
    }
  }
  return CLANCE_OK;
}

/* ---- public interface ---- */

clance_status cl_frag_reader_open(cl_frag_reader *r, size_t index, clance_error *err) {
  const pb_manifest *m = r->ds->manifest.pb;
  if (index >= m->n_fragments)
    return cl_err(err, CLANCE_EINTERNAL, "fragment index %zu out of range", index);
  clance_status st = open_fragment(r, m->fragments[index], err);
  if (st)
    cl_frag_reader_close(r);
  return st;
}

uint64_t cl_frag_reader_rows(const cl_frag_reader *r) { return r->frag_rows; }

const cl_deletions *cl_frag_reader_deletions(const cl_frag_reader *r) { return r->deleted; }

const cl_schema *cl_frag_reader_schema(const cl_frag_reader *r) { return &r->out_schema; }

clance_status cl_frag_reader_take(cl_frag_reader *r, uint64_t n, clance_error *err) {
  for (size_t c = 0; c < r->n_cols; c++)
    CL_TRY(take_col(r, &r->cols[c], n, 0, err));
  return CLANCE_OK;
}

clance_status cl_frag_reader_skip(cl_frag_reader *r, uint64_t n, clance_error *err) {
  for (size_t c = 0; c < r->n_cols; c++)
    CL_TRY(take_col(r, &r->cols[c], n, 1, err));
  return CLANCE_OK;
}

clance_status cl_frag_reader_export(cl_frag_reader *r, int64_t rows, struct ArrowArray *out,
                                    clance_error *err) {
  struct ArrowArray *kids = cl_calloc(r->n_cols ? r->n_cols : 1, sizeof *kids, err);
  if (!kids)
    return err->code;
  clance_status st = CLANCE_OK;
  for (size_t c = 0; !st && c < r->n_cols; c++)
    st = export_col(r, &r->cols[c], &kids[c], err);
  if (!st)
    st = cl_struct_array_export(rows, kids, r->n_cols, out, err);
  else
    for (size_t c = 0; c < r->n_cols; c++)
      if (kids[c].release)
        kids[c].release(&kids[c]);
  free(kids);
  return st;
}

void cl_frag_reader_free(cl_frag_reader *r) {
  if (!r)
    return;
  cl_frag_reader_close(r);
  for (size_t c = 0; r->cols && c < r->n_cols; c++)
    out_col_free(&r->cols[c]);
  free(r->cols);
  cl_schema_free(&r->out_schema);
  cl_dataset_unref(r->ds);
  free(r);
}

static clance_status setup_col(cl_frag_reader *s, out_col *oc, const cl_field *f, clance_error *err) {
  oc->field = f;
  if (f->type == CL_TYPE_DICTIONARY) {
    /* Lance stores the values; the dictionary is rebuilt per batch. */
    CL_TRY(cl_field_copy(&f->children[0], &oc->value_field, err));
    free(oc->value_field.name);
    if (!(oc->value_field.name = cl_strdup(f->name, err)))
      return err->code;
    oc->value_field.id = f->id;
    oc->value_field.nullable = f->nullable;
    oc->dict_field = f;
    oc->field = f = &oc->value_field;
  }
  if (s->v20) {
    CL_TRY(build_node20(&oc->root, f, 0, err));
    /* A flat column's batches can be slices of its pages. */
    oc->root.cur.slices = !oc->root.n_kids && !oc->root.cur.list_lengths;
    return cl_arr_init(&oc->bld, f, err);
  }
  int path[MAX_DEPTH];
  oc->leaves = cl_calloc(count_leaves(f), sizeof *oc->leaves, err);
  if (!oc->leaves)
    return err->code;
  CL_TRY(add_leaves(oc, f, path, 0, err));
  oc->leaves[0].cur.slices = oc->n_leaves == 1; /* else branches are merged */
  return CLANCE_OK;
}

clance_status cl_frag_reader_new(cl_dataset *ds, const char *const *columns, size_t n_columns,
                                 cl_frag_reader **out, clance_error *err) {
  *out = NULL;
  cl_frag_reader *r = cl_calloc(1, sizeof *r, err);
  if (!r)
    return err->code;
  cl_dataset_ref(ds);
  r->ds = ds;
  r->v20 = ds->data_version == CL_FILE_V2_0;
  clance_status st = CLANCE_OK;
  int projected = columns && n_columns;
  size_t n = projected ? n_columns : ds->schema.n_fields;
  r->cols = cl_calloc(n ? n : 1, sizeof *r->cols, err);
  r->out_schema.fields = cl_calloc(n ? n : 1, sizeof *r->out_schema.fields, err);
  if (!r->cols || !r->out_schema.fields) {
    st = err->code;
    goto fail;
  }
  for (size_t i = 0; i < n; i++) {
    const cl_field *f;
    if (projected) {
      int idx = columns[i] ? cl_schema_index(&ds->schema, columns[i]) : -1;
      if (idx < 0) {
        st = cl_err(err, CLANCE_ENOTFOUND, "column \"%s\" is not in the dataset schema",
                    columns[i] ? columns[i] : "(null)");
        goto fail;
      }
      f = &ds->schema.fields[idx];
    } else {
      f = &ds->schema.fields[i];
    }
    r->n_cols = i + 1;
    r->out_schema.n_fields = i + 1;
    CL_CHECK(st, cl_field_copy(f, &r->out_schema.fields[i], err));
    CL_CHECK(st, setup_col(r, &r->cols[i], f, err));
  }
  *out = r;
  return CLANCE_OK;
fail:
  cl_frag_reader_free(r);
  return st;
}
