#include "encoding/repdef.h"

#include <stdlib.h>
#include <string.h>

static int is_list_layer(cl_layer l) {
  return l == LANCE__ENCODINGS21__REP_DEF_LAYER__REPDEF_ALL_VALID_LIST ||
         l == LANCE__ENCODINGS21__REP_DEF_LAYER__REPDEF_NULLABLE_LIST ||
         l == LANCE__ENCODINGS21__REP_DEF_LAYER__REPDEF_EMPTYABLE_LIST ||
         l == LANCE__ENCODINGS21__REP_DEF_LAYER__REPDEF_NULL_AND_EMPTY_LIST;
}

static int is_item_layer(cl_layer l) {
  return l == LANCE__ENCODINGS21__REP_DEF_LAYER__REPDEF_ALL_VALID_ITEM ||
         l == LANCE__ENCODINGS21__REP_DEF_LAYER__REPDEF_NULLABLE_ITEM;
}

clance_status cl_path_init(cl_path *p, const cl_field *top, const cl_layer *layers, size_t n_layers,
                           const char *what, clance_error *err) {
  memset(p, 0, sizeof *p);
  const cl_field *f = top;
  for (;;) {
    if (p->depth == 64)
      return cl_err(err, CLANCE_EUNSUPPORTED, "%s: field nests deeper than 64 levels", what);
    cl_path_node *n = &p->nodes[p->depth++];
    n->field = f;
    if (f->type == CL_TYPE_STRUCT && f->n_children == 1 && !cl_field_is_packed(f)) {
      n->kind = CL_NODE_STRUCT;
      f = &f->children[0];
    } else if ((f->type == CL_TYPE_LIST || f->type == CL_TYPE_LARGE_LIST) && f->n_children == 1) {
      n->kind = CL_NODE_LIST;
      f = &f->children[0];
    } else {
      n->kind = CL_NODE_LEAF;
      break;
    }
  }
  if ((size_t)p->depth != n_layers)
    return cl_err(err, CLANCE_ECORRUPT, "%s: page has %zu rep/def layers but the column's path has %d",
                  what, n_layers, p->depth);
  /* Definition codes are handed out from the innermost layer outwards. */
  uint16_t base = 0;
  int lists = 0, seen_list = 0;
  for (size_t j = 0; j < n_layers; j++) {
    cl_path_node *n = &p->nodes[p->depth - 1 - (int)j];
    cl_layer l = layers[j];
    if (n->kind == CL_NODE_LIST ? !is_list_layer(l) : !is_item_layer(l))
      return cl_err(err, CLANCE_ECORRUPT, "%s: rep/def layer %zu (kind %d) does not fit field \"%s\"",
                    what, j, (int)l, n->field->name);
    if (is_list_layer(l) && !seen_list) {
      p->max_visible_def = base;
      seen_list = 1;
    }
    switch (l) {
    case LANCE__ENCODINGS21__REP_DEF_LAYER__REPDEF_NULLABLE_ITEM:
    case LANCE__ENCODINGS21__REP_DEF_LAYER__REPDEF_NULLABLE_LIST:
      n->null_code = ++base;
      break;
    case LANCE__ENCODINGS21__REP_DEF_LAYER__REPDEF_EMPTYABLE_LIST:
      n->empty_code = ++base;
      break;
    case LANCE__ENCODINGS21__REP_DEF_LAYER__REPDEF_NULL_AND_EMPTY_LIST:
      n->null_code = ++base;
      n->empty_code = ++base;
      break;
    default: break;
    }
    if (n->kind == CL_NODE_LIST)
      n->list_number = ++lists;
  }
  if (!seen_list)
    p->max_visible_def = base;
  p->max_rep = lists;
  return CLANCE_OK;
}

/* Assembly state: one builder per path node. */
typedef struct asm_state {
  const cl_path *p;
  cl_arr *bld[64];
  unsigned char open[64];   /* a list element is open (more items may follow) */
  cl_buf leaf_valid;        /* validity of the leaf elements, one bit each */
  int64_t leaf_base, leaf_count, leaf_nulls;
} asm_state;

static int64_t child_len(const asm_state *s, int k) {
  return k + 1 == s->p->depth - 1 ? s->leaf_base + s->leaf_count : s->bld[k + 1]->length;
}

static clance_status close_list(asm_state *s, int k, clance_error *err) {
  if (!s->open[k])
    return CLANCE_OK;
  s->open[k] = 0;
  return cl_arr_push_offset(s->bld[k], (uint64_t)child_len(s, k), err);
}

static clance_status leaf_elem(asm_state *s, int valid, clance_error *err) {
  size_t need = (size_t)((s->leaf_count + 8) >> 3);
  if (need > s->leaf_valid.len)
    CL_TRY(cl_buf_fill(&s->leaf_valid, 0, need - s->leaf_valid.len, err));
  if (valid)
    cl_bit_set(s->leaf_valid.data, s->leaf_count);
  else
    s->leaf_nulls++;
  s->leaf_count++;
  return CLANCE_OK;
}

/* Node k is null: it and its descendants down to the first list (or the
 * leaf) get null elements, as Arrow needs children as long as their struct. */
static clance_status null_from(asm_state *s, int k, clance_error *err) {
  for (; k < s->p->depth; k++) {
    const cl_path_node *n = &s->p->nodes[k];
    if (n->kind == CL_NODE_LEAF)
      return leaf_elem(s, 0, err);
    if (n->kind == CL_NODE_LIST) {
      CL_TRY(close_list(s, k, err));
      CL_TRY(cl_arr_push_offset(s->bld[k], (uint64_t)child_len(s, k), err));
      return cl_arr_append_null(s->bld[k], 1, err);
    }
    CL_TRY(cl_arr_append_null(s->bld[k], 1, err));
  }
  return CLANCE_OK;
}

static clance_status build(asm_state *s, int k, uint16_t d, const char *what, clance_error *err) {
  for (; k < s->p->depth; k++) {
    const cl_path_node *n = &s->p->nodes[k];
    int is_null = d && d == n->null_code;
    switch (n->kind) {
    case CL_NODE_LEAF:
      if (d && !is_null)
        return cl_err(err, CLANCE_ECORRUPT, "%s: definition level %u matches no layer", what, d);
      return leaf_elem(s, !is_null, err);
    case CL_NODE_STRUCT:
      if (is_null)
        return null_from(s, k, err);
      CL_TRY(cl_arr_append_valid(s->bld[k], 1, err));
      break;
    case CL_NODE_LIST:
      if (is_null)
        return null_from(s, k, err);
      CL_TRY(close_list(s, k, err));
      CL_TRY(cl_arr_append_valid(s->bld[k], 1, err));
      if (d && d == n->empty_code)
        return cl_arr_push_offset(s->bld[k], (uint64_t)child_len(s, k), err);
      s->open[k] = 1; /* its items follow */
      break;
    }
  }
  return CLANCE_OK;
}

clance_status cl_levels_assemble(const cl_path *p, const uint16_t *rep, const uint16_t *def,
                                 uint64_t n, cl_arr *values, cl_arr *out, uint64_t *rows,
                                 const char *what, clance_error *err) {
  asm_state s;
  memset(&s, 0, sizeof s);
  s.p = p;
  cl_arr *b = out;
  for (int k = 0; k < p->depth; k++) {
    s.bld[k] = b;
    if (k + 1 < p->depth)
      b = &b->children[0];
  }
  s.leaf_base = s.bld[p->depth - 1]->length;
  int list_at[65] = {0}; /* list number -> node index */
  for (int k = 0; k < p->depth; k++)
    if (p->nodes[k].kind == CL_NODE_LIST)
      list_at[p->nodes[k].list_number] = k;
  uint64_t nrows = 0;
  clance_status st = CLANCE_OK;
  for (uint64_t i = 0; i < n && !st; i++) {
    uint16_t r = rep ? rep[i] : (uint16_t)p->max_rep;
    uint16_t d = def ? def[i] : 0;
    if (r > p->max_rep) {
      st = cl_err(err, CLANCE_ECORRUPT, "%s: repetition level %u above the maximum %d", what, r,
                  p->max_rep);
      break;
    }
    if (p->max_rep == 0 || r == p->max_rep) {
      nrows++;
      st = build(&s, 0, d, what, err);
    } else {
      /* One more item of the open list at list layer r + 1. */
      int L = list_at[r + 1];
      if (!s.open[L]) {
        st = cl_err(err, CLANCE_ECORRUPT, "%s: entry %llu continues a list that is not open", what,
                    (unsigned long long)i);
        break;
      }
      st = build(&s, L + 1, d, what, err);
    }
  }
  for (int k = p->depth - 1; k >= 0 && !st; k--)
    if (p->nodes[k].kind == CL_NODE_LIST)
      st = close_list(&s, k, err);
  if (!st && s.leaf_count != values->length)
    st = cl_err(err, CLANCE_ECORRUPT, "%s: levels describe %lld values but the page holds %lld", what,
                (long long)s.leaf_count, (long long)values->length);
  if (!st) {
    /* The leaf gets the page's values with the validity found above. */
    struct ArrowArray v;
    values->length = 0;
    st = cl_arr_append_validity(values, s.leaf_nulls ? s.leaf_valid.data : NULL, 0, s.leaf_count, err);
    if (!st)
      st = cl_arr_export(values, &v, err);
    if (!st) {
      st = cl_arr_append_from(s.bld[p->depth - 1], &v, 0, v.length, err);
      v.release(&v);
    }
  }
  cl_buf_free(&s.leaf_valid);
  if (!st)
    *rows = nrows;
  return st;
}

clance_status cl_field_prune(const cl_field *top, const int *child_path, int depth, cl_field *out,
                             clance_error *err) {
  int nested = top->type == CL_TYPE_STRUCT || top->type == CL_TYPE_LIST || top->type == CL_TYPE_LARGE_LIST;
  if (!nested || depth == 0)
    return cl_field_copy(top, out, err);
  int c = child_path[0];
  if (c < 0 || (size_t)c >= top->n_children)
    return cl_err(err, CLANCE_EINTERNAL, "bad path into field \"%s\"", top->name);
  /* Copy this node without its children, then the one child on the path. */
  cl_field shell = *top;
  shell.children = NULL;
  shell.n_children = 0;
  CL_TRY(cl_field_copy(&shell, out, err));
  out->children = cl_calloc(1, sizeof *out->children, err);
  if (!out->children) {
    cl_field_free(out);
    return err->code;
  }
  out->n_children = 1;
  if (cl_field_prune(&top->children[c], child_path + 1, depth - 1, &out->children[0], err)) {
    cl_field_free(out);
    return err->code;
  }
  return CLANCE_OK;
}
