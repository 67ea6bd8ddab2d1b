/* Arrow IPC: the file format ("ARROW1" magic, footer) and the stream format
 * (a sequence of encapsulated messages), read and written without any Arrow
 * or FlatBuffers library.
 *
 * Types, both ways: null, bool, int8..64, uint8..64, float16/32/64,
 * decimal128/256, date32/64, time32/64, timestamp (with time zone), duration,
 * fixed_size_binary, utf8, large_utf8, binary, large_binary, fixed_size_list,
 * list, large_list, struct, and dictionary-encoded fields at any level except
 * inside a dictionary's own value type. Little-endian only. Body compression
 * LZ4_FRAME and ZSTD both ways. Unions, maps, run-end encoded, views,
 * intervals, big-endian data and metadata versions before V4 are refused with
 * CLANCE_EUNSUPPORTED; malformed input gives CLANCE_ECORRUPT with a message
 * "<what>: <problem>".
 *
 * Dictionaries on read: by default a dictionary-encoded field stays a
 * CL_TYPE_DICTIONARY field and its arrays carry the dictionary (batches share
 * the dictionary buffers through reference counts; delta dictionaries are
 * concatenated). With cl_ipc_read_options.decode_dictionaries the reader
 * replaces such fields by their value type and decodes the indices, which is
 * what code that cannot handle dictionary arrays wants.
 *
 * Safety: every flatbuffer access, buffer range, node length and null count
 * is checked; offsets of variable-width and list arrays are checked to be
 * monotonic and within their data; dictionary indices are checked against the
 * dictionary; decompressed sizes must match exactly. Schemas may nest at most
 * CL_IPC_MAX_DEPTH levels. Null counts are recomputed from the bitmaps; the
 * nullability of fields is metadata and is not enforced on read.
 *
 * Output: V5 metadata, 8-byte aligned buffers, an EOS marker at the end of
 * streams and before the footer of files; compressed buffers that would not
 * shrink are stored with length -1 (as arrow-rs and Lance do). */
#ifndef CL_ARROW_IPC_H
#define CL_ARROW_IPC_H

#include <stddef.h>
#include <stdint.h>

#include "arrow/type.h"
#include "util/buf.h"

#define CL_IPC_MAX_DEPTH 64

enum {
  CL_IPC_COMPRESSION_NONE = 0,
  CL_IPC_COMPRESSION_ZSTD = 1,
  CL_IPC_COMPRESSION_LZ4 = 2
};

/* ------------------------------------------------------------------------ */
/* Reading                                                                    */
/* ------------------------------------------------------------------------ */

typedef struct cl_ipc_read_options {
  /* Decode dictionary-encoded fields into plain arrays of their value type. */
  int decode_dictionaries;
  /* When decoding: refuse (CLANCE_EUNSUPPORTED) to produce more than this
   * many bytes for one column of one batch, since a few index bytes can
   * stand for large values; 0 = 1 GiB. */
  uint64_t max_decoded_bytes;
  /* Zero-copy: when owner_release is set, the caller hands the reader the
   * ownership of `data` (also on failure of open): uncompressed buffers that
   * are 8-byte aligned are then referenced in place rather than copied, and
   * owner_release(owner) runs once the reader and every batch that points
   * into `data` are gone. */
  void (*owner_release)(void *owner);
  void *owner;
} cl_ipc_read_options;

typedef struct cl_ipc_reader cl_ipc_reader;

/* Parse an IPC file (starts with "ARROW1") or stream held in memory. `what`
 * names the source in error messages. The reader borrows `data`: it must stay
 * valid and unchanged until cl_ipc_reader_free(). Batches returned by
 * cl_ipc_reader_next() own copies of their data and outlive both. For files,
 * the footer, schema and all dictionaries are read here. */
clance_status cl_ipc_reader_open(const uint8_t *data, size_t len, const char *what,
                                 cl_ipc_reader **out, clance_error *err);
/* Same with options (NULL = defaults). */
clance_status cl_ipc_reader_open_ex(const uint8_t *data, size_t len, const char *what,
                                    const cl_ipc_read_options *options, cl_ipc_reader **out,
                                    clance_error *err);
/* Schema of the batches (owned by the reader). */
const cl_schema *cl_ipc_reader_schema(const cl_ipc_reader *r);
/* 1 for the file format, 0 for a stream. */
int cl_ipc_reader_is_file(const cl_ipc_reader *r);
/* Number of record batches of a file (from its footer); -1 for streams. */
int64_t cl_ipc_reader_num_batches(const cl_ipc_reader *r);
/* Next record batch as an owned struct ArrowArray with one child per schema
 * field; at the end *done = 1 and `out` is zeroed (released). */
clance_status cl_ipc_reader_next(cl_ipc_reader *r, struct ArrowArray *out, int *done,
                                 clance_error *err);
void cl_ipc_reader_free(cl_ipc_reader *r);
/* Input bytes before this offset are no longer read (apart from buffers
 * batches already reference): the start of the next message. */
size_t cl_ipc_reader_position(const cl_ipc_reader *r);

/* Read every batch into a stream (owned batches; `data` may be freed as soon
 * as this returns). */
clance_status cl_ipc_read_stream(const uint8_t *data, size_t len, const char *what,
                                 struct ArrowArrayStream *out, clance_error *err);
clance_status cl_ipc_read_stream_ex(const uint8_t *data, size_t len, const char *what,
                                    const cl_ipc_read_options *options,
                                    struct ArrowArrayStream *out, clance_error *err);

/* A lazy stream over an IPC file or stream in a file (`path`, or "-" for
 * standard input): regular files are mapped and read in place (zero-copy
 * batches; pages behind the reader are dropped from memory as it moves on),
 * anything else is read into memory first. The format is detected by the
 * "ARROW1" magic. Batches are validated against the IPC schema as they are
 * produced. `options` as for cl_ipc_reader_open_ex (owner fields ignored). */
clance_status cl_ipc_stream_open_path(const char *path, const cl_ipc_read_options *options,
                                      struct ArrowArrayStream *out, clance_error *err);
/* Same from an open file descriptor (not closed); `what` names it. */
clance_status cl_ipc_stream_open_fd(int fd, const char *what, const cl_ipc_read_options *options,
                                    struct ArrowArrayStream *out, clance_error *err);
/* Same over bytes in memory, which are borrowed until the stream is
 * released (fuzzing, tests); `share` = reference them in place. */
clance_status cl_ipc_stream_open_mem(const uint8_t *data, size_t len, const char *what, int share,
                                     const cl_ipc_read_options *options,
                                     struct ArrowArrayStream *out, clance_error *err);

/* ------------------------------------------------------------------------ */
/* Writing                                                                    */
/* ------------------------------------------------------------------------ */

typedef struct cl_ipc_write_options {
  int file_format; /* 1 = IPC file ("ARROW1" + footer), 0 = stream */
  int compression; /* CL_IPC_COMPRESSION_* */
  int zstd_level;  /* 0 = the zstd default */
} cl_ipc_write_options;

/* Where the bytes go: called with consecutive chunks; returns a status. */
typedef clance_status (*cl_ipc_sink_fn)(void *ctx, const uint8_t *data, size_t len,
                                        clance_error *err);
/* Ready-made sinks: ctx is a cl_buf * (appends) or an int * file descriptor
 * (write(2) until done, retrying on EINTR). */
clance_status cl_ipc_sink_buf(void *ctx, const uint8_t *data, size_t len, clance_error *err);
clance_status cl_ipc_sink_fd(void *ctx, const uint8_t *data, size_t len, clance_error *err);

typedef struct cl_ipc_writer cl_ipc_writer;

/* Begin: copies the schema and writes the magic (file) and schema message.
 * The schema's field names need not be unique. */
clance_status cl_ipc_writer_open(const cl_schema *schema, const cl_ipc_write_options *options,
                                 cl_ipc_sink_fn sink, void *sink_ctx, cl_ipc_writer **out,
                                 clance_error *err);
/* Write one batch: a struct array with one child per schema field (borrowed,
 * not released; offsets and slices are honoured). Dictionaries are written
 * when first seen, as deltas when they extend the previous one, and as
 * replacements otherwise (streams only: the file format cannot replace). */
clance_status cl_ipc_writer_write(cl_ipc_writer *w, const struct ArrowArray *batch,
                                  clance_error *err);
/* End: EOS marker, plus footer and trailing magic for files. */
clance_status cl_ipc_writer_finish(cl_ipc_writer *w, clance_error *err);
/* Bytes handed to the sink so far. */
uint64_t cl_ipc_writer_bytes(const cl_ipc_writer *w);
void cl_ipc_writer_free(cl_ipc_writer *w);

/* Write every batch of `stream` (consumed: released before returning) as an
 * IPC stream or file to `sink`. */
clance_status cl_ipc_write_arrow_stream(struct ArrowArrayStream *stream,
                                        const cl_ipc_write_options *options, cl_ipc_sink_fn sink,
                                        void *sink_ctx, clance_error *err);

/* One call: write `n_batches` batches (borrowed) into `out` (appended). */
clance_status cl_ipc_write(const cl_schema *schema, const struct ArrowArray *batches,
                           size_t n_batches, int file_format, int compression, cl_buf *out,
                           clance_error *err);

#endif
