/* Pieces shared by the Arrow IPC reader and writer: FlatBuffers slot numbers
 * and union tags of Schema.fbs / Message.fbs / File.fbs, schema conversion and
 * body-buffer compression. */
#ifndef CL_ARROW_IPC_INTERNAL_H
#define CL_ARROW_IPC_INTERNAL_H

#include "arrow/flatbuf.h"
#include "arrow/ipc.h"

/* MetadataVersion */
#define IPC_V4 3
#define IPC_V5 4

/* union MessageHeader */
enum { IPC_HDR_SCHEMA = 1, IPC_HDR_DICTIONARY = 2, IPC_HDR_RECORD_BATCH = 3 };

/* union Type */
enum {
  IPC_T_NULL = 1, IPC_T_INT = 2, IPC_T_FLOAT = 3, IPC_T_BINARY = 4, IPC_T_UTF8 = 5,
  IPC_T_BOOL = 6, IPC_T_DECIMAL = 7, IPC_T_DATE = 8, IPC_T_TIME = 9, IPC_T_TIMESTAMP = 10,
  IPC_T_INTERVAL = 11, IPC_T_LIST = 12, IPC_T_STRUCT = 13, IPC_T_UNION = 14,
  IPC_T_FIXED_SIZE_BINARY = 15, IPC_T_FIXED_SIZE_LIST = 16, IPC_T_MAP = 17,
  IPC_T_DURATION = 18, IPC_T_LARGE_BINARY = 19, IPC_T_LARGE_UTF8 = 20, IPC_T_LARGE_LIST = 21,
  IPC_T_RUN_END_ENCODED = 22, IPC_T_BINARY_VIEW = 23, IPC_T_UTF8_VIEW = 24,
  IPC_T_LIST_VIEW = 25, IPC_T_LARGE_LIST_VIEW = 26
};

/* CompressionType */
enum { IPC_CODEC_LZ4_FRAME = 0, IPC_CODEC_ZSTD = 1 };

/* Table slots (field index in declaration order; a union takes two). */
enum { MESSAGE_VERSION = 0, MESSAGE_HEADER_TYPE = 1, MESSAGE_HEADER = 2, MESSAGE_BODY_LENGTH = 3 };
enum { SCHEMA_ENDIANNESS = 0, SCHEMA_FIELDS = 1, SCHEMA_METADATA = 2, SCHEMA_FEATURES = 3 };
enum {
  FIELD_NAME = 0, FIELD_NULLABLE = 1, FIELD_TYPE_TYPE = 2, FIELD_TYPE = 3, FIELD_DICTIONARY = 4,
  FIELD_CHILDREN = 5, FIELD_METADATA = 6
};
enum { KV_KEY = 0, KV_VALUE = 1 };
enum { DICTENC_ID = 0, DICTENC_INDEX_TYPE = 1, DICTENC_ORDERED = 2 };
enum { RB_LENGTH = 0, RB_NODES = 1, RB_BUFFERS = 2, RB_COMPRESSION = 3 };
enum { COMPRESSION_CODEC = 0, COMPRESSION_METHOD = 1 };
enum { DICTBATCH_ID = 0, DICTBATCH_DATA = 1, DICTBATCH_DELTA = 2 };
enum { FOOTER_VERSION = 0, FOOTER_SCHEMA = 1, FOOTER_DICTIONARIES = 2, FOOTER_BATCHES = 3 };

/* struct sizes: FieldNode {long, long}, Buffer {long, long},
 * Block {long offset; int metaDataLength; (pad) long bodyLength} */
#define IPC_NODE_SIZE 16
#define IPC_BUFFER_SIZE 16
#define IPC_BLOCK_SIZE 24

/* A dictionary-encoded field, in the pre-order in which record batches reach
 * them (dictionary value types never hold dictionary-encoded fields). */
typedef struct cl_ipc_dict_field {
  int64_t id;
  const cl_field *field;
} cl_ipc_dict_field;

/* Schema table -> cl_schema. `dicts` (malloc'd, may be NULL when none)
 * points into out's fields. */
clance_status cl_ipc_schema_read(const fb_table *schema, const char *what, size_t input_len,
                                 cl_schema *out, cl_ipc_dict_field **dicts, size_t *n_dicts,
                                 clance_error *err);
/* cl_schema -> Schema table (dictionary ids 0, 1, ... in the same pre-order). */
clance_status cl_ipc_schema_build(fb_builder *b, const cl_schema *s, fb_ref *out,
                                  clance_error *err);
/* Dictionary-encoded fields of a schema in pre-order (ids 0, 1, ...). */
clance_status cl_ipc_schema_dicts(const cl_schema *s, cl_ipc_dict_field **dicts, size_t *n,
                                  clance_error *err);

/* Decompress `n` bytes of one body buffer (after its length prefix) into
 * exactly dst_len bytes. */
clance_status cl_ipc_decompress(int codec, const uint8_t *src, size_t n, uint8_t *dst,
                                size_t dst_len, const char *what, clance_error *err);
/* Append the compressed form of src to out; *written = bytes appended. */
clance_status cl_ipc_compress(int codec, int level, const uint8_t *src, size_t n, cl_buf *out,
                              size_t *written, clance_error *err);

#endif
