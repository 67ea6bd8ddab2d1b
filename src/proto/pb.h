/* Glue around protobuf-c: our generated messages, bounded decoding of
 * untrusted bytes, and google.protobuf.Any wrapping. */
#ifndef CL_PROTO_PB_H
#define CL_PROTO_PB_H

#include <protobuf-c/protobuf-c.h>

#include "lance_encodings20.pb-c.h"
#include "lance_encodings21.pb-c.h"
#include "lance_file.pb-c.h"
#include "lance_file2.pb-c.h"
#include "lance_table.pb-c.h"
#include "lance_transaction.pb-c.h"
#include "util/buf.h"

/* Short names for the messages used most. */
typedef Lance__File__Field pb_field;
typedef Lance__File__PbAny pb_any;
typedef Lance__File__V2__ColumnMetadata pb_column_meta;
typedef Lance__File__V2__ColumnMetadata__Page pb_page;
typedef Lance__Encodings__ArrayEncoding pb20_enc;
typedef Lance__Encodings21__PageLayout pb21_layout;
typedef Lance__Encodings21__CompressiveEncoding pb21_enc;
typedef Lance__Table__Manifest pb_manifest;
typedef Lance__Table__DataFragment pb_fragment;
typedef Lance__Table__DataFile pb_data_file;
typedef Lance__Table__Transaction pb_txn;

#define CL_URL_COLUMN_ENCODING "/lance.encodings.ColumnEncoding"
#define CL_URL_ARRAY_ENCODING "/lance.encodings.ArrayEncoding"
#define CL_URL_PAGE_LAYOUT "/lance.encodings21.PageLayout"

/* Append the serialisation of m to out. */
clance_status cl_pb_pack(const ProtobufCMessage *m, cl_buf *out, clance_error *err);

/* Serialise m wrapped in an Any with the given type URL. */
clance_status cl_pb_pack_any(const char *type_url, const ProtobufCMessage *m, cl_buf *out,
                             clance_error *err);

/* Decode untrusted bytes. The wire data is first walked with the descriptor
 * to bound nesting depth (protobuf-c recurses without limit), then unpacked.
 * Failure is CLANCE_ECORRUPT naming `what`. Free with protobuf_c_message_free_unpacked. */
clance_status cl_pb_unpack(const ProtobufCMessageDescriptor *d, const uint8_t *data, size_t len,
                           const char *what, ProtobufCMessage **out, clance_error *err);

/* Decode an Any and check that its type URL names `message` (compared after
 * the last '/'); on success *value points into the unpacked Any. */
clance_status cl_pb_unpack_any(const uint8_t *data, size_t len, const char *message,
                               const char *what, pb_any **out, clance_error *err);

/* protobuf-c strings default to a shared empty string; treat NULL alike. */
static inline const char *cl_pb_str(const char *s) { return s ? s : ""; }

#endif
