/* Compaction (Lance's compact_files): small neighbouring fragments are merged
 * and fragments with many deleted rows are rewritten without them, in one
 * Rewrite transaction.
 *
 * Planning follows Lance's plan_compaction: in fragment order, a fragment is
 * a candidate when its share of deleted rows exceeds the threshold (it is
 * rewritten even alone) or when it has fewer physical rows than the target
 * (it is rewritten only together with neighbouring candidates). Runs of
 * consecutive candidates form bins; a bin of one fragment of the second kind
 * is left alone; bins are split so that each part holds at least the target
 * number of live rows (the remainder joins the last part). Each part is one
 * RewriteGroup: its live rows, read in order, become new fragments of at most
 * target rows. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dataset/dataset.h"
#include "dataset/match.h"
#include "io/fs.h"

#define DEFAULT_TARGET_ROWS (1024u * 1024u)
#define DEFAULT_MAX_RETRIES 20

void clance_compact_options_init(clance_compact_options *o) {
  memset(o, 0, sizeof *o);
  o->target_rows_per_fragment = DEFAULT_TARGET_ROWS;
  o->materialize_deletions = 1;
  o->materialize_deletions_threshold = 0.1;
}

typedef struct frag_plan {
  uint64_t id;
  uint64_t live;    /* rows left after deletions */
  int alone;        /* rewritten even without neighbours (too many deletions) */
} frag_plan;

typedef struct group_plan {
  uint64_t *ids;
  size_t n;
} group_plan;

typedef struct compact_plan {
  group_plan *groups;
  size_t n, cap;
} compact_plan;

static void plan_free(compact_plan *p) {
  for (size_t i = 0; i < p->n; i++)
    free(p->groups[i].ids);
  free(p->groups);
  memset(p, 0, sizeof *p);
}

static clance_status push_group(compact_plan *p, const frag_plan *f, size_t n, clance_error *err) {
  if (p->n == p->cap) {
    size_t cap = p->cap ? p->cap * 2 : 8;
    group_plan *g = realloc(p->groups, cap * sizeof *g);
    if (!g)
      return cl_err_nomem(err, "compaction plan");
    p->groups = g;
    p->cap = cap;
  }
  group_plan *g = &p->groups[p->n];
  if (!(g->ids = cl_malloc(n * sizeof *g->ids, err)))
    return err->code;
  for (size_t i = 0; i < n; i++)
    g->ids[i] = f[i].id;
  g->n = n;
  p->n++;
  return CLANCE_OK;
}

/* One bin of consecutive candidates: drop it when rewriting it changes
 * nothing, else split it by size (Lance's CandidateBin::split_for_size). */
static clance_status finish_bin(compact_plan *p, const frag_plan *f, size_t n, uint64_t target,
                                clance_error *err) {
  if (n == 0 || (n == 1 && !f[0].alone))
    return CLANCE_OK;
  size_t start = 0;
  for (;;) {
    size_t len = 0;
    uint64_t rows = 0;
    while (rows < target && start + len < n)
      rows += f[start + len++].live;
    uint64_t rest = 0;
    for (size_t i = start + len; i < n; i++)
      rest += f[i].live;
    if (start + len < n && rest >= target) {
      CL_TRY(push_group(p, f + start, len, err));
      start += len;
    } else {
      return push_group(p, f + start, n - start, err);
    }
  }
}

static clance_status make_plan(const cl_dataset *ds, const clance_compact_options *o,
                               compact_plan *p, clance_error *err) {
  const pb_manifest *m = ds->manifest.pb;
  frag_plan *bin = cl_calloc(m->n_fragments ? m->n_fragments : 1, sizeof *bin, err);
  if (!bin)
    return err->code;
  int materialize = o->materialize_deletions && o->materialize_deletions_threshold < 1.0;
  size_t n = 0;
  clance_status st = CLANCE_OK;
  for (size_t i = 0; !st && i < m->n_fragments; i++) {
    const pb_fragment *f = m->fragments[i];
    uint64_t physical;
    if ((st = cl_fragment_rows(ds->root, f, &physical, err)))
      break;
    uint64_t deleted = f->deletion_file ? f->deletion_file->num_deleted_rows : 0;
    if (deleted > physical)
      deleted = physical;
    double share = physical ? (double)deleted / (double)physical : 0.0;
    int alone = materialize && share > o->materialize_deletions_threshold;
    int small = physical < o->target_rows_per_fragment;
    if (!alone && !small) {
      st = finish_bin(p, bin, n, o->target_rows_per_fragment, err);
      n = 0;
      continue;
    }
    bin[n].id = f->id;
    bin[n].live = physical - deleted;
    bin[n].alone = alone;
    n++;
  }
  if (!st)
    st = finish_bin(p, bin, n, o->target_rows_per_fragment, err);
  free(bin);
  return st;
}

/* Remove the data files of fragments that were written but not committed. */
static void remove_fragment_files(const char *root, const clance_fragments *f) {
  clance_error e;
  for (size_t i = 0; f && i < f->n; i++)
    for (size_t d = 0; d < f->v[i]->n_files; d++) {
      char *p = cl_dataset_data_path(root, f->v[i]->files[d], &e);
      if (p)
        remove(p);
      free(p);
    }
}

/* One attempt: plan against the latest version, write, commit. */
static clance_status compact_once(const char *uri, const clance_compact_options *o,
                                  uint64_t *out_version, clance_compact_stats *stats,
                                  clance_error *err) {
  cl_dataset *ds = NULL;
  compact_plan plan = {0};
  clance_fragments *written = NULL;
  clance_rewrite_group *groups = NULL;
  clance_operation *op = NULL;
  clance_status st;
  memset(stats, 0, sizeof *stats);
  CL_CHECK(st, clance_dataset_open(uri, 0, &ds, err));
  const pb_manifest *m = ds->manifest.pb;
  *out_version = m->version;
  if ((m->reader_feature_flags | m->writer_feature_flags) & CL_FLAG_STABLE_ROW_IDS) {
    st = cl_err(err, CLANCE_EUNSUPPORTED, "cannot compact %s: it uses stable row ids, whose "
                "row-id sequences clance cannot carry over to rewritten fragments yet", ds->root);
    goto fail;
  }
  if (ds->manifest.index_block) {
    st = cl_err(err, CLANCE_EUNSUPPORTED, "cannot compact %s: it has indices, which clance cannot "
                "remap to rewritten fragments yet", ds->root);
    goto fail;
  }
  if (m->writer_feature_flags & ~(uint64_t)CL_WRITER_FLAGS_SUPPORTED) {
    st = cl_err(err, CLANCE_EUNSUPPORTED, "cannot compact %s: it uses writer features 0x%llx that "
                "clance cannot maintain", ds->root,
                (unsigned long long)(m->writer_feature_flags & ~(uint64_t)CL_WRITER_FLAGS_SUPPORTED));
    goto fail;
  }
  CL_CHECK(st, make_plan(ds, o, &plan, err));
  if (plan.n == 0)
    goto fail; /* nothing to do: st is OK, nothing is committed */
  if (!(groups = cl_calloc(plan.n, sizeof *groups, err)) ||
      !(written = cl_calloc(plan.n, sizeof *written, err))) {
    st = err->code;
    goto fail;
  }
  clance_write_options wo;
  clance_write_options_init(&wo);
  wo.max_rows_per_file = o->target_rows_per_fragment;
  wo.max_rows_per_group = o->max_rows_per_group;
  wo.max_bytes_per_file = o->max_bytes_per_file;
  for (size_t g = 0; g < plan.n; g++) {
    clance_scan_options so;
    clance_scan_options_init(&so);
    so.fragment_ids = plan.groups[g].ids;
    so.num_fragment_ids = plan.groups[g].n;
    struct ArrowArrayStream s;
    CL_CHECK(st, clance_dataset_scan(ds, &so, &s, err));
    st = cl_write_batches(ds->root, &ds->schema, ds->data_version, &wo, &s, &written[g], err);
    s.release(&s);
    if (st) {
      cl_err_ctx(err, "compacting fragments of %s: ", ds->root);
      goto fail;
    }
    groups[g].old_fragment_ids = plan.groups[g].ids;
    groups[g].num_old = plan.groups[g].n;
    groups[g].new_fragments = &written[g];
    for (size_t k = 0; k < plan.groups[g].n; k++) {
      size_t index;
      if (!cl_manifest_fragment_index(ds, plan.groups[g].ids[k], &index))
        continue;
      const pb_fragment *f = m->fragments[index];
      stats->fragments_removed++;
      stats->files_removed += f->n_files + (f->deletion_file ? 1 : 0);
      stats->deleted_rows_removed += f->deletion_file ? f->deletion_file->num_deleted_rows : 0;
    }
    stats->fragments_added += written[g].n;
    for (size_t k = 0; k < written[g].n; k++) {
      stats->files_added += written[g].v[k]->n_files;
      stats->rows_rewritten += written[g].v[k]->physical_rows;
    }
  }
  clance_commit_options co;
  clance_commit_options_init(&co);
  co.max_retries = o->max_retries;
  CL_CHECK(st, clance_operation_rewrite(groups, plan.n, &op, err));
  st = clance_commit(uri, op, m->version, &co, out_version, err);
fail:
  if (st) {
    for (size_t g = 0; written && g < plan.n; g++)
      remove_fragment_files(ds->root, &written[g]);
    memset(stats, 0, sizeof *stats);
  }
  for (size_t g = 0; written && g < plan.n; g++)
    cl_fragments_clear(&written[g]);
  free(written);
  free(groups);
  clance_operation_free(op);
  plan_free(&plan);
  cl_dataset_unref(ds);
  return st;
}

clance_status clance_dataset_compact(const char *uri, const clance_compact_options *options,
                                     uint64_t *out_version, clance_compact_stats *stats,
                                     clance_error *err) {
  CL_PUBLIC_ERR(err, local);
  if (!uri || !out_version)
    return cl_err(err, CLANCE_EINVAL, "clance_dataset_compact: NULL argument");
  clance_compact_options o;
  clance_compact_options_init(&o);
  if (options)
    o = *options;
  if (!o.target_rows_per_fragment)
    o.target_rows_per_fragment = DEFAULT_TARGET_ROWS;
  if (o.materialize_deletions_threshold != o.materialize_deletions_threshold)
    return cl_err(err, CLANCE_EINVAL, "the deletion threshold is not a number");
  clance_compact_stats local_stats;
  if (!stats)
    stats = &local_stats;
  uint32_t tries = o.max_retries ? o.max_retries : DEFAULT_MAX_RETRIES;
  clance_status st = CLANCE_OK;
  for (uint32_t attempt = 0; attempt < tries; attempt++) {
    /* A concurrent Delete, Update or Rewrite of the same fragments: plan again. */
    st = compact_once(uri, &o, out_version, stats, err);
    if (st != CLANCE_ECONFLICT_RETRYABLE)
      break;
  }
  return st;
}
