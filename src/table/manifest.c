#include "table/manifest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/fs.h"
#include "proto/fields.h"

#define MAX_MANIFEST_SIZE ((size_t)1 << 32)

void cl_manifest_free(cl_manifest *m) {
  if (m->pb)
    protobuf_c_message_free_unpacked(&m->pb->base, NULL);
  free(m->index_block);
  free(m->txn_block);
  free(m->path);
  memset(m, 0, sizeof *m);
}

/* A length-prefixed block starting at `off`, which must end by `limit`. */
static int block_at(const cl_buf *b, uint64_t off, uint64_t limit, const uint8_t **data,
                    size_t *len) {
  if (off > limit || limit - off < 4)
    return -1;
  uint32_t n = cl_le32(b->data + off);
  if (n > limit - off - 4)
    return -1;
  *data = b->data + off + 4;
  *len = n;
  return 0;
}

clance_status cl_manifest_read(const char *path, uint64_t expect_version, cl_manifest *out,
                               clance_error *err) {
  memset(out, 0, sizeof *out);
  cl_buf b = CL_BUF_INIT;
  CL_TRY(cl_file_read_all(path, MAX_MANIFEST_SIZE, &b, err));
  clance_status st = cl_manifest_parse(b.data ? b.data : (const uint8_t *)"", b.len, path,
                                       expect_version, out, err);
  cl_buf_free(&b);
  return st;
}

clance_status cl_manifest_parse(const uint8_t *data, size_t len, const char *path,
                                uint64_t expect_version, cl_manifest *out, clance_error *err) {
  memset(out, 0, sizeof *out);
  cl_buf b = {(uint8_t *)data, len, len}; /* read-only view */
  clance_status st = CLANCE_OK;
  if (!(out->path = cl_strdup(path, err))) {
    st = err->code;
    goto fail;
  }
  if (b.len < 16 + 4 || memcmp(b.data + b.len - 4, "LANC", 4) != 0) {
    st = cl_err(err, CLANCE_ECORRUPT, "manifest %s: missing LANC trailer (truncated or not a manifest)",
                path);
    goto fail;
  }
  uint64_t end = b.len - 16;
  uint64_t pos = cl_le64(b.data + end);
  const uint8_t *mdata;
  size_t mlen;
  if (block_at(&b, pos, end, &mdata, &mlen) || pos + 4 + mlen != end) {
    st = cl_err(err, CLANCE_ECORRUPT, "manifest %s: manifest block at offset %llu does not end at "
                "the trailer (file of %zu bytes)", path, (unsigned long long)pos, b.len);
    goto fail;
  }
  CL_CHECK(st, cl_pb_unpack(&lance__table__manifest__descriptor, mdata, mlen, path,
                            (ProtobufCMessage **)&out->pb, err));
  pb_manifest *m = out->pb;
  if (m->version == 0 || (expect_version && m->version != expect_version)) {
    st = cl_err(err, CLANCE_ECORRUPT, "manifest %s: records version %llu, expected %llu", path,
                (unsigned long long)m->version, (unsigned long long)expect_version);
    goto fail;
  }
  const uint8_t *blk;
  size_t blen;
  if (m->has_index_section) {
    if (block_at(&b, m->index_section, pos, &blk, &blen)) {
      st = cl_err(err, CLANCE_ECORRUPT, "manifest %s: index section out of range", path);
      goto fail;
    }
    out->index_block = cl_malloc(blen ? blen : 1, err);
    if (!out->index_block) {
      st = err->code;
      goto fail;
    }
    memcpy(out->index_block, blk, blen);
    out->index_len = blen;
  }
  if (m->has_transaction_section) {
    if (block_at(&b, m->transaction_section, pos, &blk, &blen)) {
      st = cl_err(err, CLANCE_ECORRUPT, "manifest %s: transaction section out of range", path);
      goto fail;
    }
    out->txn_block = cl_malloc(blen ? blen : 1, err);
    if (!out->txn_block) {
      st = err->code;
      goto fail;
    }
    memcpy(out->txn_block, blk, blen);
    out->txn_len = blen;
  }
  for (size_t i = 0; i < m->n_fragments; i++) {
    if (m->fragments[i]->n_files == 0) {
      st = cl_err(err, CLANCE_ECORRUPT, "manifest %s: fragment %llu has no data files", path,
                  (unsigned long long)m->fragments[i]->id);
      goto fail;
    }
    if (i && m->fragments[i]->id <= m->fragments[i - 1]->id) {
      st = cl_err(err, CLANCE_ECORRUPT, "manifest %s: fragment ids are not strictly increasing "
                  "(%llu after %llu)", path, (unsigned long long)m->fragments[i]->id,
                  (unsigned long long)m->fragments[i - 1]->id);
      goto fail;
    }
  }
  return CLANCE_OK;
fail:
  cl_manifest_free(out);
  return st;
}

clance_status cl_manifest_encode(pb_manifest *m, const uint8_t *index_block, size_t index_len,
                                 const uint8_t *txn, size_t txn_len, cl_buf *out,
                                 clance_error *err) {
  out->len = 0;
  m->has_index_section = 0;
  m->has_transaction_section = 0;
  if (index_block) {
    m->has_index_section = 1;
    m->index_section = out->len;
    CL_TRY(cl_buf_append_u32(out, (uint32_t)index_len, err));
    CL_TRY(cl_buf_append(out, index_block, index_len, err));
  }
  if (txn) {
    m->has_transaction_section = 1;
    m->transaction_section = out->len;
    CL_TRY(cl_buf_append_u32(out, (uint32_t)txn_len, err));
    CL_TRY(cl_buf_append(out, txn, txn_len, err));
  }
  uint64_t pos = out->len;
  size_t n = protobuf_c_message_get_packed_size(&m->base);
  if (n > UINT32_MAX)
    return cl_err(err, CLANCE_EUNSUPPORTED, "manifest of %zu bytes is too large", n);
  CL_TRY(cl_buf_append_u32(out, (uint32_t)n, err));
  CL_TRY(cl_pb_pack(&m->base, out, err));
  CL_TRY(cl_buf_append_u64(out, pos, err));
  CL_TRY(cl_buf_append_u16(out, 0, err));
  CL_TRY(cl_buf_append_u16(out, 2, err));
  return cl_buf_append(out, "LANC", 4, err);
}

clance_status cl_manifest_schema(const cl_manifest *m, cl_schema *out, clance_error *err) {
  char what[600];
  snprintf(what, sizeof what, "manifest %s", m->path ? m->path : "");
  CL_TRY(cl_fields_from_pb(m->pb->fields, m->pb->n_fields, what, out, err));
  cl_meta_free(&out->metadata);
  if (cl_meta_from_pb(m->pb->schema_metadata, m->pb->n_schema_metadata, &out->metadata, err)) {
    cl_schema_free(out);
    return err->code;
  }
  return CLANCE_OK;
}
