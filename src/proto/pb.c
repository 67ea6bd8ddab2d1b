#include "proto/pb.h"

#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 64

clance_status cl_pb_pack(const ProtobufCMessage *m, cl_buf *out, clance_error *err) {
  size_t n = protobuf_c_message_get_packed_size(m);
  if (n == 0)
    return CLANCE_OK; /* an empty message; out->data may still be NULL */
  CL_TRY(cl_buf_reserve(out, n, err));
  size_t w = protobuf_c_message_pack(m, out->data + out->len);
  if (w != n)
    return cl_err(err, CLANCE_EINTERNAL, "protobuf pack size mismatch");
  out->len += n;
  return CLANCE_OK;
}

clance_status cl_pb_pack_any(const char *type_url, const ProtobufCMessage *m, cl_buf *out,
                             clance_error *err) {
  cl_buf inner = CL_BUF_INIT;
  CL_TRY(cl_pb_pack(m, &inner, err));
  pb_any any = LANCE__FILE__PB_ANY__INIT;
  any.type_url = (char *)type_url;
  any.has_value = 1;
  any.value.data = inner.data;
  any.value.len = inner.len;
  clance_status st = cl_pb_pack(&any.base, out, err);
  cl_buf_free(&inner);
  return st;
}

/* Wire-format walk: returns 0 if the bytes are structurally sound and nest
 * no deeper than MAX_DEPTH through message-typed fields. */
static int read_varint(const uint8_t **p, const uint8_t *end, uint64_t *v) {
  uint64_t r = 0;
  for (int shift = 0; shift < 70; shift += 7) {
    if (*p >= end)
      return -1;
    uint8_t b = *(*p)++;
    if (shift == 63 && b > 1)
      return -1;
    r |= (uint64_t)(b & 0x7f) << shift;
    if (!(b & 0x80)) {
      *v = r;
      return 0;
    }
  }
  return -1;
}

static const ProtobufCFieldDescriptor *field_of(const ProtobufCMessageDescriptor *d, uint32_t num) {
  for (unsigned i = 0; i < d->n_fields; i++)
    if (d->fields[i].id == num)
      return &d->fields[i];
  return NULL;
}

static int walk(const ProtobufCMessageDescriptor *d, const uint8_t *p, const uint8_t *end,
                int depth) {
  if (depth > MAX_DEPTH)
    return -1;
  while (p < end) {
    uint64_t key, v;
    if (read_varint(&p, end, &key))
      return -1;
    uint32_t num = (uint32_t)(key >> 3), wt = key & 7;
    if (num == 0 || key >> 32)
      return -1;
    switch (wt) {
    case 0:
      if (read_varint(&p, end, &v))
        return -1;
      break;
    case 1:
      if (end - p < 8)
        return -1;
      p += 8;
      break;
    case 5:
      if (end - p < 4)
        return -1;
      p += 4;
      break;
    case 2: {
      if (read_varint(&p, end, &v) || v > (uint64_t)(end - p))
        return -1;
      const ProtobufCFieldDescriptor *f = d ? field_of(d, num) : NULL;
      if (f && f->type == PROTOBUF_C_TYPE_MESSAGE &&
          walk(f->descriptor, p, p + v, depth + 1) != 0)
        return -1;
      p += v;
      break;
    }
    default:
      return -1; /* groups and reserved wire types never appear in Lance data */
    }
  }
  return 0;
}

clance_status cl_pb_unpack(const ProtobufCMessageDescriptor *d, const uint8_t *data, size_t len,
                           const char *what, ProtobufCMessage **out, clance_error *err) {
  *out = NULL;
  static const uint8_t empty[1];
  if (!data) /* an empty field: NULL + 0 is not valid C */
    data = empty, len = 0;
  if (walk(d, data, data + len, 0) != 0)
    return cl_err(err, CLANCE_ECORRUPT, "%s: malformed protobuf %s (%zu bytes)", what, d->name, len);
  ProtobufCMessage *m = protobuf_c_message_unpack(d, NULL, len, data);
  if (!m)
    return cl_err(err, CLANCE_ECORRUPT, "%s: cannot decode protobuf %s (%zu bytes)", what, d->name,
                  len);
  *out = m;
  return CLANCE_OK;
}

clance_status cl_pb_unpack_any(const uint8_t *data, size_t len, const char *message,
                               const char *what, pb_any **out, clance_error *err) {
  CL_TRY(cl_pb_unpack(&lance__file__pb_any__descriptor, data, len, what,
                      (ProtobufCMessage **)out, err));
  const char *url = cl_pb_str((*out)->type_url);
  const char *slash = strrchr(url, '/');
  const char *name = slash ? slash + 1 : url;
  if (strcmp(name, message) != 0) {
    cl_err(err, CLANCE_ECORRUPT, "%s: expected an encoding of type %s, found \"%s\"", what,
           message, url);
    protobuf_c_message_free_unpacked(&(*out)->base, NULL);
    *out = NULL;
    return CLANCE_ECORRUPT;
  }
  return CLANCE_OK;
}
