#include "dataset/filter.h"

#include "arrow/dict.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { N_AND, N_OR, N_NOT, N_CMP, N_ISNULL, N_CONST };
enum { OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE };
enum { L_INT, L_FLOAT, L_STRING, L_BOOL, L_NULL };
enum { T_FALSE = 0, T_TRUE = 1, T_UNKNOWN = 2 };

typedef struct literal {
  int kind;
  __int128 i;
  double d;
  char *s;
  size_t slen;
  int b;
} literal;

typedef struct node {
  int kind;
  struct node *a, *b; /* AND/OR/NOT operands */
  int col;            /* index into the filter's column list */
  int op;
  int negate;         /* IS NOT NULL */
  literal lit;
  int tri;            /* N_CONST */
} node;

struct cl_filter {
  node *root;
  char **cols;
  const cl_field **fields;
  size_t n_cols;
};

typedef struct parser {
  const char *s;
  size_t pos;
  const cl_schema *schema;
  cl_filter *f;
  int depth;
} parser;

static void node_free(node *n) {
  if (!n)
    return;
  node_free(n->a);
  node_free(n->b);
  free(n->lit.s);
  free(n);
}

void cl_filter_free(cl_filter *f) {
  if (!f)
    return;
  node_free(f->root);
  for (size_t i = 0; i < f->n_cols; i++)
    free(f->cols[i]);
  free(f->cols);
  free(f->fields);
  free(f);
}

size_t cl_filter_num_columns(const cl_filter *f) { return f->n_cols; }
const char *cl_filter_column(const cl_filter *f, size_t i) { return f->cols[i]; }

static void ws(parser *p) {
  while (isspace((unsigned char)p->s[p->pos]))
    p->pos++;
}

static clance_status bad(parser *p, clance_error *err, const char *what) {
  return cl_err(err, CLANCE_EINVAL, "filter \"%s\": %s at offset %zu", p->s, what, p->pos);
}

/* Case-insensitive keyword followed by a non-identifier character. */
static int keyword(parser *p, const char *kw) {
  ws(p);
  size_t n = strlen(kw);
  if (strncasecmp(p->s + p->pos, kw, n) != 0)
    return 0;
  char c = p->s[p->pos + n];
  if (isalnum((unsigned char)c) || c == '_')
    return 0;
  p->pos += n;
  return 1;
}

static node *new_node(int kind, clance_error *err) {
  node *n = cl_calloc(1, sizeof *n, err);
  if (n)
    n->kind = kind;
  return n;
}

static int is_ident_start(char c) { return isalpha((unsigned char)c) || c == '_'; }

/* A column name (bare or "double quoted"); binds it to the schema. */
static clance_status column(parser *p, int *out, clance_error *err) {
  ws(p);
  char name[256];
  size_t k = 0;
  if (p->s[p->pos] == '"') {
    p->pos++;
    while (p->s[p->pos] && p->s[p->pos] != '"') {
      if (k + 1 >= sizeof name)
        return bad(p, err, "column name too long");
      name[k++] = p->s[p->pos++];
    }
    if (p->s[p->pos] != '"')
      return bad(p, err, "unterminated quoted column name");
    p->pos++;
  } else {
    if (!is_ident_start(p->s[p->pos]))
      return bad(p, err, "expected a column name");
    while (isalnum((unsigned char)p->s[p->pos]) || p->s[p->pos] == '_') {
      if (k + 1 >= sizeof name)
        return bad(p, err, "column name too long");
      name[k++] = p->s[p->pos++];
    }
  }
  name[k] = '\0';
  int idx = cl_schema_index(p->schema, name);
  if (idx < 0)
    return cl_err(err, CLANCE_ENOTFOUND, "filter \"%s\": column \"%s\" is not in the schema", p->s, name);
  cl_filter *f = p->f;
  for (size_t i = 0; i < f->n_cols; i++)
    if (!strcmp(f->cols[i], name)) {
      *out = (int)i;
      return CLANCE_OK;
    }
  char **c = realloc(f->cols, (f->n_cols + 1) * sizeof *c);
  if (!c)
    return cl_err_nomem(err, "filter");
  f->cols = c;
  const cl_field **fl = realloc(f->fields, (f->n_cols + 1) * sizeof *fl);
  if (!fl)
    return cl_err_nomem(err, "filter");
  f->fields = fl;
  if (!(f->cols[f->n_cols] = cl_strdup(name, err)))
    return err->code;
  f->fields[f->n_cols] = &p->schema->fields[idx];
  *out = (int)f->n_cols++;
  return CLANCE_OK;
}

static clance_status literal_of(parser *p, literal *l, clance_error *err) {
  ws(p);
  const char *c = p->s + p->pos;
  if (*c == '\'') {
    cl_buf b = CL_BUF_INIT;
    p->pos++;
    for (;;) {
      char ch = p->s[p->pos];
      if (!ch) {
        cl_buf_free(&b);
        return bad(p, err, "unterminated string literal");
      }
      p->pos++;
      if (ch == '\'') {
        if (p->s[p->pos] != '\'')
          break;
        p->pos++; /* '' is a quote */
      }
      if (cl_buf_append(&b, &ch, 1, err)) {
        cl_buf_free(&b);
        return err->code;
      }
    }
    l->kind = L_STRING;
    l->slen = b.len;
    if (cl_buf_cstr(&b, err)) {
      cl_buf_free(&b);
      return err->code;
    }
    l->s = (char *)cl_buf_take(&b);
    return CLANCE_OK;
  }
  if (keyword(p, "true") || keyword(p, "false")) {
    l->kind = L_BOOL;
    l->b = tolower((unsigned char)c[0]) == 't';
    return CLANCE_OK;
  }
  if (keyword(p, "null")) {
    l->kind = L_NULL;
    return CLANCE_OK;
  }
  char *end;
  errno = 0;
  int is_float = 0;
  size_t i = *c == '-' || *c == '+' ? 1 : 0;
  if (!isdigit((unsigned char)c[i]) && c[i] != '.')
    return bad(p, err, "expected a literal (number, 'string', true, false or NULL)");
  for (; isalnum((unsigned char)c[i]) || c[i] == '.' || ((c[i] == '-' || c[i] == '+') && (c[i - 1] == 'e' || c[i - 1] == 'E')); i++)
    if (c[i] == '.' || c[i] == 'e' || c[i] == 'E')
      is_float = 1;
  if (!is_float) {
    if (*c == '-') {
      long long v = strtoll(c, &end, 10);
      if (errno || end != c + i)
        return bad(p, err, "bad integer literal");
      l->i = v;
    } else {
      unsigned long long v = strtoull(c, &end, 10);
      if (errno || end != c + i)
        return bad(p, err, "bad integer literal");
      l->i = (__int128)v;
    }
    l->kind = L_INT;
    l->d = (double)l->i;
  } else {
    l->d = strtod(c, &end);
    if (end != c + i || errno == ERANGE)
      return bad(p, err, "bad number literal");
    l->kind = L_FLOAT;
  }
  p->pos += i;
  return CLANCE_OK;
}

static int parse_op(parser *p) {
  ws(p);
  static const struct {
    const char *s;
    int op;
  } ops[] = {{"<=", OP_LE}, {">=", OP_GE}, {"<>", OP_NE}, {"!=", OP_NE}, {"==", OP_EQ},
             {"=", OP_EQ},  {"<", OP_LT},  {">", OP_GT}};
  for (size_t i = 0; i < sizeof ops / sizeof *ops; i++) {
    size_t n = strlen(ops[i].s);
    if (!strncmp(p->s + p->pos, ops[i].s, n)) {
      p->pos += n;
      return ops[i].op;
    }
  }
  return -1;
}

static int flip(int op) {
  switch (op) {
  case OP_LT: return OP_GT;
  case OP_LE: return OP_GE;
  case OP_GT: return OP_LT;
  case OP_GE: return OP_LE;
  default: return op;
  }
}

static int is_int_like(cl_type_id t) {
  return cl_type_is_integer(t) || t == CL_TYPE_DATE32 || t == CL_TYPE_DATE64 ||
         t == CL_TYPE_TIME32 || t == CL_TYPE_TIME64 || t == CL_TYPE_TIMESTAMP ||
         t == CL_TYPE_DURATION;
}

static int is_float_type(cl_type_id t) {
  return t == CL_TYPE_FLOAT16 || t == CL_TYPE_FLOAT32 || t == CL_TYPE_FLOAT64;
}

/* Can this column be compared with this literal? */
static clance_status check_types(parser *p, const cl_field *f, const literal *l, clance_error *err) {
  /* Dictionary columns compare by their values. */
  cl_type_id t = f->type == CL_TYPE_DICTIONARY && f->n_children == 1 ? f->children[0].type : f->type;
  int ok = l->kind == L_NULL ||
           ((l->kind == L_INT || l->kind == L_FLOAT) && (is_int_like(t) || is_float_type(t))) ||
           (l->kind == L_STRING && cl_type_is_binary_like(t)) || (l->kind == L_BOOL && t == CL_TYPE_BOOL);
  if (!ok)
    return cl_err(err, CLANCE_EINVAL, "filter \"%s\": column \"%s\" of type %s cannot be compared "
                  "with that literal", p->s, f->name, cl_type_name(t));
  return CLANCE_OK;
}

static clance_status parse_or(parser *p, node **out, clance_error *err);

static clance_status parse_primary(parser *p, node **out, clance_error *err) {
  ws(p);
  if (++p->depth > 200)
    return bad(p, err, "expression nests too deeply");
  clance_status st;
  if (p->s[p->pos] == '(') {
    p->pos++;
    CL_TRY(parse_or(p, out, err));
    ws(p);
    if (p->s[p->pos] != ')')
      return bad(p, err, "expected ')'");
    p->pos++;
    p->depth--;
    return CLANCE_OK;
  }
  node *n = new_node(N_CMP, err);
  if (!n)
    return err->code;
  *out = n;
  /* literal op column, or column op literal / IS [NOT] NULL */
  char c = p->s[p->pos];
  int lit_first = c == '\'' || isdigit((unsigned char)c) || c == '-' || c == '+' || c == '.';
  if (lit_first) {
    CL_TRY(literal_of(p, &n->lit, err));
    if ((n->op = parse_op(p)) < 0)
      return bad(p, err, "expected a comparison operator");
    n->op = flip(n->op);
    CL_TRY(column(p, &n->col, err));
  } else {
    int t = keyword(p, "true");
    if (t || keyword(p, "false")) {
      n->kind = N_CONST;
      n->tri = t ? T_TRUE : T_FALSE;
      p->depth--;
      return CLANCE_OK;
    }
    CL_TRY(column(p, &n->col, err));
    if (keyword(p, "is")) {
      n->kind = N_ISNULL;
      n->negate = keyword(p, "not");
      if (!keyword(p, "null"))
        return bad(p, err, "expected NULL after IS");
      p->depth--;
      return CLANCE_OK;
    }
    if ((n->op = parse_op(p)) < 0)
      return bad(p, err, "expected a comparison operator or IS");
    CL_TRY(literal_of(p, &n->lit, err));
  }
  st = check_types(p, p->f->fields[n->col], &n->lit, err);
  p->depth--;
  return st;
}

static clance_status parse_not(parser *p, node **out, clance_error *err) {
  if (keyword(p, "not")) {
    node *n = new_node(N_NOT, err);
    if (!n)
      return err->code;
    *out = n;
    if (++p->depth > 200)
      return bad(p, err, "expression nests too deeply");
    CL_TRY(parse_not(p, &n->a, err));
    p->depth--;
    return CLANCE_OK;
  }
  return parse_primary(p, out, err);
}

static clance_status parse_and(parser *p, node **out, clance_error *err) {
  CL_TRY(parse_not(p, out, err));
  while (keyword(p, "and")) {
    node *n = new_node(N_AND, err);
    if (!n)
      return err->code;
    n->a = *out;
    *out = n;
    CL_TRY(parse_not(p, &n->b, err));
  }
  return CLANCE_OK;
}

static clance_status parse_or(parser *p, node **out, clance_error *err) {
  CL_TRY(parse_and(p, out, err));
  while (keyword(p, "or")) {
    node *n = new_node(N_OR, err);
    if (!n)
      return err->code;
    n->a = *out;
    *out = n;
    CL_TRY(parse_and(p, &n->b, err));
  }
  return CLANCE_OK;
}

clance_status cl_filter_parse(const char *text, const cl_schema *schema, cl_filter **out,
                              clance_error *err) {
  *out = NULL;
  cl_filter *f = cl_calloc(1, sizeof *f, err);
  if (!f)
    return err->code;
  parser p = {text, 0, schema, f, 0};
  clance_status st = parse_or(&p, &f->root, err);
  ws(&p);
  if (!st && text[p.pos])
    st = bad(&p, err, "unexpected text");
  if (st) {
    cl_filter_free(f);
    return st;
  }
  *out = f;
  return CLANCE_OK;
}

/* ---- evaluation ---- */

static int cmp_result(int c, int op) {
  switch (op) {
  case OP_EQ: return c == 0;
  case OP_NE: return c != 0;
  case OP_LT: return c < 0;
  case OP_LE: return c <= 0;
  case OP_GT: return c > 0;
  default: return c >= 0;
  }
}

/* Total order on doubles as DataFusion has it: NaN equals NaN and is larger
 * than every number. */
static int cmp_double(double a, double b) {
  if (isnan(a) || isnan(b))
    return isnan(a) - isnan(b);
  return a < b ? -1 : a > b;
}

static double half_to_double(uint16_t h) {
  int e = (h >> 10) & 0x1f, m = h & 0x3ff;
  double v = e == 0 ? ldexp(m, -24) : e == 31 ? (m ? NAN : INFINITY) : ldexp(m + 1024, e - 25);
  return (h & 0x8000) ? -v : v;
}

/* Compare every element with the literal: one tight loop per (type, op). */
#define CMP_LOOP(T, CT, LIT)                                                  \
  do {                                                                        \
    const T *v_ = (const T *)a->buffers[1] + a->offset;                       \
    CT l_ = (CT)(LIT);                                                        \
    switch (n->op) {                                                          \
    case OP_EQ: for (int64_t i = 0; i < len; i++) t[i] = (CT)v_[i] == l_; break; \
    case OP_NE: for (int64_t i = 0; i < len; i++) t[i] = (CT)v_[i] != l_; break; \
    case OP_LT: for (int64_t i = 0; i < len; i++) t[i] = (CT)v_[i] < l_; break;  \
    case OP_LE: for (int64_t i = 0; i < len; i++) t[i] = (CT)v_[i] <= l_; break; \
    case OP_GT: for (int64_t i = 0; i < len; i++) t[i] = (CT)v_[i] > l_; break;  \
    default: for (int64_t i = 0; i < len; i++) t[i] = (CT)v_[i] >= l_; break;    \
    }                                                                         \
  } while (0)

/* The whole column compares the same way (the literal is out of its range). */
static void cmp_const(const node *n, int c, int64_t len, uint8_t *t) {
  memset(t, cmp_result(c, n->op), (size_t)len);
}

static void cmp_integers(const node *n, const cl_field *f, const struct ArrowArray *a, uint8_t *t) {
  int64_t len = a->length;
  const literal *l = &n->lit;
  if (l->kind == L_FLOAT) {
    switch (f->type) {
    case CL_TYPE_INT8: CMP_LOOP(int8_t, double, l->d); return;
    case CL_TYPE_UINT8: CMP_LOOP(uint8_t, double, l->d); return;
    case CL_TYPE_INT16: CMP_LOOP(int16_t, double, l->d); return;
    case CL_TYPE_UINT16: CMP_LOOP(uint16_t, double, l->d); return;
    case CL_TYPE_UINT32: CMP_LOOP(uint32_t, double, l->d); return;
    case CL_TYPE_UINT64: CMP_LOOP(uint64_t, double, l->d); return;
    case CL_TYPE_INT32:
    case CL_TYPE_DATE32:
    case CL_TYPE_TIME32: CMP_LOOP(int32_t, double, l->d); return;
    default: CMP_LOOP(int64_t, double, l->d); return;
    }
  }
  int is_unsigned = f->type == CL_TYPE_UINT8 || f->type == CL_TYPE_UINT16 ||
                    f->type == CL_TYPE_UINT32 || f->type == CL_TYPE_UINT64;
  if (is_unsigned ? l->i < 0 : l->i < INT64_MIN)
    return cmp_const(n, 1, len, t); /* every value is greater */
  if (is_unsigned ? l->i > (__int128)UINT64_MAX : l->i > INT64_MAX)
    return cmp_const(n, -1, len, t); /* every value is smaller */
  switch (f->type) {
  case CL_TYPE_INT8: CMP_LOOP(int8_t, int64_t, l->i); return;
  case CL_TYPE_UINT8: CMP_LOOP(uint8_t, uint64_t, l->i); return;
  case CL_TYPE_INT16: CMP_LOOP(int16_t, int64_t, l->i); return;
  case CL_TYPE_UINT16: CMP_LOOP(uint16_t, uint64_t, l->i); return;
  case CL_TYPE_UINT32: CMP_LOOP(uint32_t, uint64_t, l->i); return;
  case CL_TYPE_UINT64: CMP_LOOP(uint64_t, uint64_t, l->i); return;
  case CL_TYPE_INT32:
  case CL_TYPE_DATE32:
  case CL_TYPE_TIME32: CMP_LOOP(int32_t, int64_t, l->i); return;
  default: CMP_LOOP(int64_t, int64_t, l->i); return;
  }
}

static void cmp_floats(const node *n, const cl_field *f, const struct ArrowArray *a, uint8_t *t) {
  int64_t len = a->length;
  double lit = n->lit.d;
  if (isnan(lit) || f->type == CL_TYPE_FLOAT16) {
    /* Rare: NaN literals and half floats take the general path. */
    for (int64_t i = 0; i < len; i++) {
      int64_t j = i + a->offset;
      double v = f->type == CL_TYPE_FLOAT64   ? ((const double *)a->buffers[1])[j]
                 : f->type == CL_TYPE_FLOAT32 ? ((const float *)a->buffers[1])[j]
                                              : half_to_double(((const uint16_t *)a->buffers[1])[j]);
      t[i] = (uint8_t)cmp_result(cmp_double(v, lit), n->op);
    }
    return;
  }
  /* NaN sorts above every number: for a number literal, NaN behaves like
   * +infinity, which plain comparisons of NaN get wrong; fix those after. */
  if (f->type == CL_TYPE_FLOAT64)
    CMP_LOOP(double, double, lit);
  else
    CMP_LOOP(float, double, lit);
  int nan_result = cmp_result(1, n->op);
  for (int64_t i = 0; i < len; i++) {
    double v = f->type == CL_TYPE_FLOAT64 ? ((const double *)a->buffers[1])[i + a->offset]
                                          : ((const float *)a->buffers[1])[i + a->offset];
    if (v != v)
      t[i] = (uint8_t)nan_result;
  }
}

static void eval_cmp(const node *n, const cl_field *f, const struct ArrowArray *a, uint8_t *t) {
  int64_t len = a->length;
  const literal *l = &n->lit;
  if (l->kind == L_NULL) {
    memset(t, T_UNKNOWN, (size_t)len);
    return;
  }
  if (is_float_type(f->type)) {
    cmp_floats(n, f, a, t);
  } else if (is_int_like(f->type)) {
    cmp_integers(n, f, a, t);
  } else {
    for (int64_t i = 0; i < len; i++) {
      int64_t j = i + a->offset;
      int c;
      if (f->type == CL_TYPE_BOOL) {
        c = cl_bit_get(a->buffers[1], j) - l->b;
      } else {
        int64_t s0, e0;
        if (cl_type_is_large(f->type)) {
          s0 = ((const int64_t *)a->buffers[1])[j];
          e0 = ((const int64_t *)a->buffers[1])[j + 1];
        } else {
          s0 = ((const int32_t *)a->buffers[1])[j];
          e0 = ((const int32_t *)a->buffers[1])[j + 1];
        }
        size_t vl = (size_t)(e0 - s0), m = vl < l->slen ? vl : l->slen;
        c = memcmp((const char *)a->buffers[2] + s0, l->s, m);
        c = c ? (c < 0 ? -1 : 1) : (vl < l->slen ? -1 : vl > l->slen);
      }
      t[i] = (uint8_t)cmp_result(c, n->op);
    }
  }
  /* A null operand makes the comparison unknown. */
  const uint8_t *valid = a->n_buffers > 0 && a->null_count != 0 ? a->buffers[0] : NULL;
  if (valid)
    for (int64_t i = 0; i < len; i++)
      if (!cl_bit_get(valid, i + a->offset))
        t[i] = T_UNKNOWN;
}

static clance_status eval(const cl_filter *f, const node *n, const struct ArrowArray *const *cols,
                          int64_t len, uint8_t *t, clance_error *err) {
  switch (n->kind) {
  case N_CONST:
    memset(t, n->tri, (size_t)len);
    return CLANCE_OK;
  case N_CMP: {
    const cl_field *fld = f->fields[n->col];
    const struct ArrowArray *a = cols[n->col];
    if (fld->type != CL_TYPE_DICTIONARY) {
      eval_cmp(n, fld, a, t);
      return CLANCE_OK;
    }
    /* Compare each dictionary value once, then look rows up by key. */
    const struct ArrowArray *d = a->dictionary;
    uint8_t *dt = cl_malloc((size_t)(d->length ? d->length : 1), err);
    if (!dt)
      return err->code;
    eval_cmp(n, &fld->children[0], d, dt);
    for (int64_t i = 0; i < len; i++) {
      int64_t k = cl_array_valid(a, i) ? cl_dict_key(a, fld->index_type, i) : -1;
      t[i] = k >= 0 && k < d->length ? dt[k] : T_UNKNOWN;
    }
    free(dt);
    return CLANCE_OK;
  }
  case N_ISNULL:
    for (int64_t i = 0; i < len; i++)
      t[i] = (uint8_t)(cl_array_valid(cols[n->col], i) == n->negate);
    return CLANCE_OK;
  case N_NOT:
    CL_TRY(eval(f, n->a, cols, len, t, err));
    for (int64_t i = 0; i < len; i++)
      t[i] = t[i] == T_UNKNOWN ? T_UNKNOWN : (uint8_t)!t[i];
    return CLANCE_OK;
  default: {
    uint8_t *u = cl_malloc((size_t)(len ? len : 1), err);
    if (!u)
      return err->code;
    clance_status st = eval(f, n->a, cols, len, t, err);
    if (!st)
      st = eval(f, n->b, cols, len, u, err);
    for (int64_t i = 0; !st && i < len; i++) {
      if (n->kind == N_AND)
        t[i] = (t[i] == T_FALSE || u[i] == T_FALSE) ? T_FALSE
               : (t[i] == T_UNKNOWN || u[i] == T_UNKNOWN) ? T_UNKNOWN : T_TRUE;
      else
        t[i] = (t[i] == T_TRUE || u[i] == T_TRUE) ? T_TRUE
               : (t[i] == T_UNKNOWN || u[i] == T_UNKNOWN) ? T_UNKNOWN : T_FALSE;
    }
    free(u);
    return st;
  }
  }
}

clance_status cl_filter_eval(const cl_filter *f, const struct ArrowArray *batch,
                             const char *const *names, size_t n, uint8_t *keep,
                             clance_error *err) {
  const struct ArrowArray **cols = cl_calloc(f->n_cols ? f->n_cols : 1, sizeof *cols, err);
  if (!cols)
    return err->code;
  clance_status st = CLANCE_OK;
  for (size_t c = 0; c < f->n_cols && !st; c++) {
    for (size_t k = 0; k < n; k++)
      if (!strcmp(names[k], f->cols[c]))
        cols[c] = batch->children[k];
    if (!cols[c])
      st = cl_err(err, CLANCE_EINTERNAL, "filter column \"%s\" missing from the batch", f->cols[c]);
  }
  if (!st)
    st = eval(f, f->root, cols, batch->length, keep, err);
  for (int64_t i = 0; !st && i < batch->length; i++)
    keep[i] = keep[i] == T_TRUE;
  free(cols);
  return st;
}
