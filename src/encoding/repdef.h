/* Repetition and definition levels (file format 2.1+) <-> nested Arrow.
 *
 * A leaf column of a nested field stores, per level entry, a repetition level
 * (which list starts here) and a definition level (which layer is null or
 * empty), plus the leaf values of the visible entries. This module turns a
 * page's levels and values into an Arrow array of the "path field": the
 * top-level field pruned to the branch that leads to this leaf. The branches
 * of one field are merged back by the scan. */
#ifndef CL_ENCODING_REPDEF_H
#define CL_ENCODING_REPDEF_H

#include "arrow/array.h"
#include "proto/pb.h"

typedef Lance__Encodings21__RepDefLayer cl_layer;

/* One node on the path from a top-level field to a leaf, outermost first. */
typedef struct cl_path_node {
  const cl_field *field; /* the node's field (in the pruned path schema) */
  int kind;              /* CL_NODE_STRUCT, CL_NODE_LIST, CL_NODE_LEAF */
  uint16_t null_code;    /* def level meaning "null here" (0 = cannot be null) */
  uint16_t empty_code;   /* lists: def level meaning "empty here" (0 = none) */
  int list_number;       /* lists: 1 = innermost list ... max_rep */
} cl_path_node;

enum { CL_NODE_STRUCT = 1, CL_NODE_LIST = 2, CL_NODE_LEAF = 3 };

/* The path of a leaf through a (pruned) field: each struct/list node has one
 * child on the path. Fixed-size lists and packed structs are leaves. At most
 * 64 nodes. */
typedef struct cl_path {
  cl_path_node nodes[64];
  int depth;
  int max_rep;
  uint16_t max_visible_def;
} cl_path;

/* Fill the path nodes of `top` (a pruned field whose nested nodes have one
 * child each) and match them with the page's layers (innermost first).
 * ECORRUPT when the layers do not fit the field. */
clance_status cl_path_init(cl_path *p, const cl_field *top, const cl_layer *layers, size_t n_layers,
                           const char *what, clance_error *err);

/* Assemble a page: `rep`/`def` hold n entries (either may be NULL = all
 * zero, or all max_rep for rep), `values` holds the visible values (it is
 * moved into the result's leaf). Appends `*rows` top-level rows to `out`
 * (a builder of the path field). */
clance_status cl_levels_assemble(const cl_path *p, const uint16_t *rep, const uint16_t *def,
                                 uint64_t n, cl_arr *values, cl_arr *out, uint64_t *rows,
                                 const char *what, clance_error *err);

/* Build a pruned copy of `top` keeping only the branch given by `child_path`
 * (child indices at each struct/list level). */
clance_status cl_field_prune(const cl_field *top, const int *child_path, int depth, cl_field *out,
                             clance_error *err);

#endif
