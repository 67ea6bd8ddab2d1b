/**
 * @file clance.h
 * @brief clance — a native C library for Lance datasets.
 *
 * One public header. Conventions:
 *   - every function that can fail returns a clance_status (CLANCE_OK == 0);
 *   - the last argument is an optional caller-owned clance_error that receives a
 *     message naming the file, column or argument at fault (pass NULL to ignore);
 *   - handles are opaque; objects returned through an `out` pointer belong to the
 *     caller and are freed with the matching clance_*_free / clance_*_close;
 *   - strings returned through `char **out` are freed with clance_free();
 *   - data crosses the API as Arrow C Data / C Stream Interface structures.
 *
 * Thread safety: no global state. Distinct handles may be used from distinct
 * threads freely. A clance_dataset is immutable once opened and may be shared by
 * threads (each scan gets its own stream); a stream itself is single-threaded.
 * Two processes (or threads) may write fragments into one dataset at once; commits
 * to one dataset from several processes are serialised by the commit protocol
 * (see clance_commit()).
 *
 * Errors: when a function fails, `err` (if not NULL) holds the status and a
 * message; the caller frees only what a successful call returned. Functions
 * returning void or a plain value cannot fail.
 */
#ifndef CLANCE_CLANCE_H
#define CLANCE_CLANCE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------- */
/* Arrow C Data Interface and C Stream Interface (ABI from the Arrow spec).  */
/* The guards are the canonical ones, so copies in other projects coexist.   */
/* ------------------------------------------------------------------------- */
/** @cond ARROW_ABI (documented by the Arrow project: the C Data Interface) */
#ifndef ARROW_C_DATA_INTERFACE
#define ARROW_C_DATA_INTERFACE

#define ARROW_FLAG_DICTIONARY_ORDERED 1
#define ARROW_FLAG_NULLABLE 2
#define ARROW_FLAG_MAP_KEYS_SORTED 4

struct ArrowSchema {
  const char *format;
  const char *name;
  const char *metadata;
  int64_t flags;
  int64_t n_children;
  struct ArrowSchema **children;
  struct ArrowSchema *dictionary;
  void (*release)(struct ArrowSchema *);
  void *private_data;
};

struct ArrowArray {
  int64_t length;
  int64_t null_count;
  int64_t offset;
  int64_t n_buffers;
  int64_t n_children;
  const void **buffers;
  struct ArrowArray **children;
  struct ArrowArray *dictionary;
  void (*release)(struct ArrowArray *);
  void *private_data;
};

#endif /* ARROW_C_DATA_INTERFACE */

#ifndef ARROW_C_STREAM_INTERFACE
#define ARROW_C_STREAM_INTERFACE

struct ArrowArrayStream {
  int (*get_schema)(struct ArrowArrayStream *, struct ArrowSchema *out);
  int (*get_next)(struct ArrowArrayStream *, struct ArrowArray *out);
  const char *(*get_last_error)(struct ArrowArrayStream *);
  void (*release)(struct ArrowArrayStream *);
  void *private_data;
};

#endif /* ARROW_C_STREAM_INTERFACE */
/** @endcond */

/* ------------------------------------------------------------------------- */
/* Export macro and version                                                   */
/* ------------------------------------------------------------------------- */
/** Marks the exported functions (the shared library exports nothing else). */
#if defined(_WIN32)
#define CLANCE_API
#elif defined(__GNUC__)
#define CLANCE_API __attribute__((visibility("default")))
#else
#define CLANCE_API
#endif

#define CLANCE_VERSION_MAJOR 0 /**< major version of this header (the SONAME's number) */
#define CLANCE_VERSION_MINOR 1 /**< minor version of this header */
#define CLANCE_VERSION_PATCH 0 /**< patch version of this header */
#define CLANCE_VERSION_STRING "0.1.0" /**< version of this header; compare clance_version() */

/** Version of the library actually loaded, "major.minor.patch" (a static
 *  string: do not free). Thread-safe. */
CLANCE_API const char *clance_version(void);

/* ------------------------------------------------------------------------- */
/* Errors                                                                     */
/* ------------------------------------------------------------------------- */
/** Result of every clance function that can fail; CLANCE_OK is 0. */
typedef enum clance_status {
  CLANCE_OK = 0, /**< success */
  /** A caller argument is invalid (bad option, unknown type name, ...). */
  CLANCE_EINVAL = 1,
  CLANCE_ENOMEM = 2, /**< out of memory */
  /** An operating-system I/O call failed. */
  CLANCE_EIO = 3,
  /** A dataset, version, file or column does not exist. */
  CLANCE_ENOTFOUND = 4,
  /** Something that must be new already exists. */
  CLANCE_EEXISTS = 5,
  /** A file on disk (manifest, data file, JSON) is malformed or truncated. */
  CLANCE_ECORRUPT = 6,
  /** Valid Lance data that this version of clance cannot handle. */
  CLANCE_EUNSUPPORTED = 7,
  /** Data or fragments do not match the schema they are used with. */
  CLANCE_ESCHEMA = 8,
  /** A concurrent commit makes this one impossible as it stands; redo the
   *  work against the new latest version and commit again. */
  CLANCE_ECONFLICT_RETRYABLE = 9,
  /** A concurrent commit makes this one impossible; retrying cannot help. */
  CLANCE_ECONFLICT_INCOMPATIBLE = 10,
  /** The commit lost the race for a version number more times than allowed. */
  CLANCE_ECONTENTION = 11,
  /** A bug in clance. */
  CLANCE_EINTERNAL = 12
} clance_status;

/** Size of clance_error.message, the terminating NUL included. */
#define CLANCE_ERROR_MESSAGE_SIZE 1024

/** Caller-owned error detail. Zero-initialise it or let the library fill it. */
typedef struct clance_error {
  clance_status code;                      /**< the status the call returned */
  char message[CLANCE_ERROR_MESSAGE_SIZE]; /**< what failed and where, NUL-terminated */
} clance_error;

/** Short stable name of a status code, e.g. "ECORRUPT" (a static string: do
 *  not free; "EUNKNOWN" for values outside the enum). Thread-safe. */
CLANCE_API const char *clance_status_name(clance_status status);

/** Free a string or array returned by clance (JSON text, version and tag
 *  lists). NULL is ignored. Thread-safe. */
CLANCE_API void clance_free(void *ptr);

/* ------------------------------------------------------------------------- */
/* Schemas                                                                    */
/* ------------------------------------------------------------------------- */

/**
 * Parse a compact schema spec such as "a:int32,b:string,v:vector(float32,128)"
 * into an Arrow schema (a struct "+s" with one child per column, all nullable;
 * append "!" to a type for NOT NULL: "id:int64!").
 * Type names: bool, int8..int64, uint8..uint64, float16 (halffloat), float32 (float),
 * float64 (double), string (utf8), large_string (large_utf8), binary,
 * large_binary, date32, timestamp(us) / timestamp(us,UTC) (also s/ms/ns),
 * fixed_size_list(float32,N) or vector(float32,N).
 * The caller releases `out` with out->release(out).
 */
CLANCE_API clance_status clance_schema_parse(const char *spec, struct ArrowSchema *out,
                                             clance_error *err);

/* ------------------------------------------------------------------------- */
/* Fragment metadata (the hand-off between workers and the coordinator)      */
/* ------------------------------------------------------------------------- */

/** An ordered list of Lance FragmentMetadata. */
typedef struct clance_fragments clance_fragments;

/** A new empty list in *out; free it with clance_fragments_free().
 *  Fails only with CLANCE_ENOMEM. */
CLANCE_API clance_status clance_fragments_new(clance_fragments **out, clance_error *err);
/** Free a list and everything in it; NULL is ignored. */
CLANCE_API void clance_fragments_free(clance_fragments *fragments);
/** Number of fragments in the list. */
CLANCE_API size_t clance_fragments_count(const clance_fragments *fragments);
/** Copy the fragment ids of the list, in order, into ids[0 .. count-1]. */
CLANCE_API void clance_fragments_ids(const clance_fragments *fragments, uint64_t *ids);
/** Sum of physical_rows over the list. */
CLANCE_API uint64_t clance_fragments_num_rows(const clance_fragments *fragments);
/** Copy the live rows of each fragment (physical rows minus deleted rows), in
 *  list order, into rows[0 .. count-1]: the rows a scan reads from it. */
CLANCE_API void clance_fragments_live_rows(const clance_fragments *fragments, uint64_t *rows);
/** Append copies of every fragment of `src` to `dst`. */
CLANCE_API clance_status clance_fragments_extend(clance_fragments *dst,
                                                 const clance_fragments *src,
                                                 clance_error *err);
/**
 * Serialise as a JSON array of objects with exactly the keys of pylance's
 * FragmentMetadata.to_json(). *out is NUL-terminated; free it with clance_free().
 */
CLANCE_API clance_status clance_fragments_to_json(const clance_fragments *fragments,
                                                  char **out, clance_error *err);
/**
 * Parse JSON written by clance_fragments_to_json() or pylance (json.dumps of
 * to_json()): a single object or an array of objects. `source` names the input
 * in error messages (a file name, or NULL).
 */
CLANCE_API clance_status clance_fragments_from_json(const char *json, size_t len,
                                                    const char *source,
                                                    clance_fragments **out,
                                                    clance_error *err);

/* ------------------------------------------------------------------------- */
/* Writing fragments (phase 1 of a distributed write; never commits)         */
/* ------------------------------------------------------------------------- */

/** How clance_write_fragments() treats an existing dataset. */
typedef enum clance_write_mode {
  /** Use the existing dataset's schema, field ids and storage version when the
   *  dataset exists (append); otherwise behave like CREATE. */
  CLANCE_WRITE_AUTO = 0,
  /** Fresh field ids from 0: fragments meant for an Overwrite. */
  CLANCE_WRITE_CREATE = 1,
  /** The dataset must exist: fragments meant for an Append. */
  CLANCE_WRITE_APPEND = 2
} clance_write_mode;

/** Options of clance_write_fragments() and clance_fragment_add_columns();
 *  initialise with clance_write_options_init(). */
typedef struct clance_write_options {
  /** "2.0", "2.1" or "2.2"; NULL means the dataset's version, else "2.1". */
  const char *data_storage_version;
  /** Create, append or decide from the dataset (default CLANCE_WRITE_AUTO). */
  clance_write_mode mode;
  /** Start a new file (and fragment) after this many rows; 0 = 1048576. */
  uint64_t max_rows_per_file;
  /** At most this many rows per page; 0 = no row cap (pages are cut by size). */
  uint64_t max_rows_per_group;
  /** Start a new file once this many bytes are written; 0 = 90 GiB. */
  uint64_t max_bytes_per_file;
  /** Target in-memory bytes per page and column; 0 = 8 MiB (lowered when
   *  the columns' buffers would not fit in max_buffer_bytes). */
  uint64_t page_bytes;
  /** Threads that encode pages while the caller's thread reads the input;
   *  1 = everything on the calling thread (MPI ranks sharing a node);
   *  0 = one per online core. The files are byte for byte the same for any
   *  value. */
  uint32_t num_threads;
  /** Bound on the data the writer holds at once: the pages being filled
   *  (including the input batches their rows are read from in place: when
   *  those pass half the bound, the pages are copied and the batches let
   *  go of), and the pages being encoded or written; 0 = 256 MiB. The
   *  batch the input stream is producing comes on top. Writing 1M vectors
   *  of float32[128] from 64 MiB batches peaks at about 220 MiB in all. */
  uint64_t max_buffer_bytes;
  /** Resumable, idempotent workers: the id of this worker task (e.g. the slurm
   *  array index), letters, digits, '.', '_' and '-', at most 128 characters,
   *  not starting with '.'; NULL = none. A task's run records its data files
   *  in `<uri>/_clance_tasks/<task_id>.json` (replaced atomically once every
   *  file is written) with an attempt number one above the previous record's,
   *  then removes the files the previous attempt recorded (unless the latest
   *  version of the dataset references them). Re-running a task therefore
   *  replaces its earlier output instead of adding to it. The fragments carry
   *  the task id and attempt (clance_fragments_task(); in JSON as the key
   *  "clance_task"), and clance_task_check() refuses the output of a
   *  superseded attempt. */
  const char *task_id;
  /** Called after every input batch (may be NULL) with the rows written so
   *  far and the bytes of data files written so far (encoded size). */
  void (*on_progress)(void *ctx, uint64_t rows, uint64_t bytes);
  void *progress_ctx; /**< passed to on_progress */
  /** 0 (the default): every data file (and task record) is on disk, fsynced
   *  with its directory, before the call returns, so a coordinator may commit
   *  it at once. 1: leave flushing to the OS, as Lance does; the files are
   *  complete for every process as soon as the call returns (a killed process
   *  loses nothing), but an OS crash or power loss before the OS writes them
   *  can leave a committed version pointing at missing or short files. */
  int no_fsync;
} clance_write_options;

/** Fill `options` with the defaults. */
CLANCE_API void clance_write_options_init(clance_write_options *options);

/**
 * Write every batch of `stream` as data files under `uri`/data/ and return the
 * fragments that describe them, with id 0 (ids are assigned at commit).
 * Nothing is committed and no existing file is touched, so any number of
 * processes may call this on the same `uri` at once.
 *
 * `schema` (may be NULL) is the schema the data must have; the stream's own
 * schema must match it column for column. The stream is consumed: clance calls
 * its release callback before returning, on success and on error.
 */
CLANCE_API clance_status clance_write_fragments(const char *uri,
                                                const struct ArrowSchema *schema,
                                                struct ArrowArrayStream *stream,
                                                const clance_write_options *options,
                                                clance_fragments **out,
                                                clance_error *err);

/* ------------------------------------------------------------------------- */
/* Arrow IPC                                                                 */
/* ------------------------------------------------------------------------- */

/** Flags of the Arrow IPC calls. */
enum {
  /** Reading: turn dictionary-encoded columns into plain columns of their
   *  value type (what clance_write_fragments needs). */
  CLANCE_IPC_DECODE_DICTIONARIES = 1,
  /** Writing: the IPC file format ("ARROW1", footer) instead of a stream. */
  CLANCE_IPC_FILE_FORMAT = 2,
  /** Writing: ZSTD or LZ4_FRAME body compression. */
  CLANCE_IPC_ZSTD = 4,
  CLANCE_IPC_LZ4 = 8
};

/**
 * Open an Arrow IPC stream or file (detected by its "ARROW1" magic) at
 * `path`, or standard input for "-", as an ArrowArrayStream: all types
 * clance knows, nulls, dictionaries (deltas included), LZ4_FRAME/ZSTD body
 * compression. Regular files are mapped and their aligned buffers used in
 * place (the file must not change while batches are alive); pipes are read
 * whole first. Malformed input gives CLANCE_ECORRUPT naming the input.
 */
CLANCE_API clance_status clance_ipc_stream_open(const char *path, int flags,
                                                struct ArrowArrayStream *out,
                                                clance_error *err);
/** The same from an open descriptor (left open). */
CLANCE_API clance_status clance_ipc_stream_open_fd(int fd, int flags,
                                                   struct ArrowArrayStream *out,
                                                   clance_error *err);
/**
 * Write every batch of `stream` to `fd` as an Arrow IPC stream (schema,
 * dictionary batches for dictionary-typed columns, record batches, EOS) or,
 * with CLANCE_IPC_FILE_FORMAT, an IPC file. The stream is consumed.
 */
CLANCE_API clance_status clance_ipc_write_stream(struct ArrowArrayStream *stream, int fd,
                                                 int flags, clance_error *err);

/**
 * The worker task that wrote `fragments` (clance_write_options.task_id), as
 * written by clance_write_fragments() or read back from its JSON: *task_id
 * (NULL when none, or when the list mixes tasks; owned by the list),
 * *attempt (1 for a task's first run) and *attempt_uuid (owned by the list).
 * Any out pointer may be NULL.
 */
CLANCE_API void clance_fragments_task(const clance_fragments *fragments, const char **task_id,
                                      uint64_t *attempt, const char **attempt_uuid);

/**
 * Check that `fragments` (tagged with a task id) are the latest attempt of
 * their task that `<uri>/_clance_tasks/` records: the output of an attempt
 * that a later run of the task replaced (whose data files may be gone) is
 * refused with CLANCE_EINVAL naming `source` (may be NULL),
 * the task and both attempts. Untagged fragments and tasks without a record
 * pass.
 */
CLANCE_API clance_status clance_task_check(const char *uri, const clance_fragments *fragments,
                                           const char *source, clance_error *err);

/* ------------------------------------------------------------------------- */
/* Commit (phase 2: one coordinator commits one transaction)                 */
/* ------------------------------------------------------------------------- */

/** A transaction to commit (opaque): made by a clance_operation_*()
 *  constructor, committed with clance_commit(), freed with
 *  clance_operation_free(). */
typedef struct clance_operation clance_operation;

/** Overwrite: the dataset becomes `schema` + `fragments` (creates it if absent). */
CLANCE_API clance_status clance_operation_overwrite(const struct ArrowSchema *schema,
                                                    const clance_fragments *fragments,
                                                    clance_operation **out,
                                                    clance_error *err);
/** Append `fragments` to the dataset. */
CLANCE_API clance_status clance_operation_append(const clance_fragments *fragments,
                                                 clance_operation **out,
                                                 clance_error *err);
/**
 * Delete: `updated` are complete FragmentMetadata of the read version whose
 * deletion vectors grew (as clance_fragment_delete_rows() returns them),
 * `deleted_ids` the fragments whose every row is deleted. `predicate` (may be
 * NULL) is recorded in the transaction for information.
 */
CLANCE_API clance_status clance_operation_delete(const clance_fragments *updated,
                                                 const uint64_t *deleted_ids, size_t num_deleted,
                                                 const char *predicate, clance_operation **out,
                                                 clance_error *err);
/**
 * Merge (add columns): `new_columns` are the columns added after the read
 * version's columns, `updated` the fragments that received data files for them
 * (from clance_fragment_add_columns(); fragments not listed keep no data for
 * the new columns, which read as nulls there).
 */
CLANCE_API clance_status clance_operation_merge(const struct ArrowSchema *new_columns,
                                                const clance_fragments *updated,
                                                clance_operation **out, clance_error *err);
/**
 * Update: fragments `removed_ids` go, `updated` replace fragments of the same
 * id (new deletion vectors, or new data files for rewritten columns), and
 * `new_fragments` are added. `fields_modified` lists the field ids whose
 * values changed; `rewrite_columns` selects Lance's REWRITE_COLUMNS mode.
 */
CLANCE_API clance_status clance_operation_update(const clance_fragments *updated,
                                                 const uint64_t *removed_ids, size_t num_removed,
                                                 const clance_fragments *new_fragments,
                                                 const uint32_t *fields_modified,
                                                 size_t num_fields, int rewrite_columns,
                                                 clance_operation **out, clance_error *err);

/** One change of clance_operation_alter_columns(). */
typedef struct clance_column_alteration {
  /** The column (top-level name). */
  const char *column;
  /** New name, or NULL to keep it. */
  const char *rename;
  /** 1 = make nullable, 0 = NOT NULL (every value must be present), -1 = keep. */
  int nullable;
  /** Nonzero: drop the column (rename/nullable are then ignored). */
  int drop;
} clance_column_alteration;

/** Project: drop, rename or change the nullability of columns (no data is rewritten). */
CLANCE_API clance_status clance_operation_alter_columns(const clance_column_alteration *changes,
                                                        size_t num_changes,
                                                        clance_operation **out,
                                                        clance_error *err);
/** Restore: version `version` becomes the content of the next version. */
CLANCE_API clance_status clance_operation_restore(uint64_t version, clance_operation **out,
                                                  clance_error *err);

/** One group of a Rewrite: these fragments are replaced by those. */
typedef struct clance_rewrite_group {
  const uint64_t *old_fragment_ids;       /**< ids of the fragments replaced */
  size_t num_old;                         /**< number of old_fragment_ids */
  const clance_fragments *new_fragments;  /**< the fragments replacing them */
} clance_rewrite_group;

/** Rewrite (compaction): each group's old fragments are replaced by its new
 *  ones, which must hold the same live rows. */
CLANCE_API clance_status clance_operation_rewrite(const clance_rewrite_group *groups,
                                                  size_t num_groups, clance_operation **out,
                                                  clance_error *err);
/**
 * DataReplacement: for every fragment of `replacements` (its id names the
 * target fragment, its first data file is the new file), the target's data
 * file with the same field ids is replaced by the new one.
 */
CLANCE_API clance_status clance_operation_data_replacement(const clance_fragments *replacements,
                                                           clance_operation **out,
                                                           clance_error *err);

/** Which key-value map clance_operation_update_config() changes. */
typedef enum clance_config_target {
  CLANCE_CONFIG_TABLE = 0,     /**< the table config (Lance's `config`) */
  CLANCE_CONFIG_METADATA = 1,  /**< table metadata */
  CLANCE_CONFIG_SCHEMA = 2     /**< schema metadata */
} clance_config_target;

/** UpdateConfig: set keys[i] to values[i], or remove it when values[i] is NULL. */
CLANCE_API clance_status clance_operation_update_config(clance_config_target target,
                                                        const char *const *keys,
                                                        const char *const *values, size_t num,
                                                        clance_operation **out,
                                                        clance_error *err);
/** Free an operation (committed or not); NULL is ignored. */
CLANCE_API void clance_operation_free(clance_operation *op);

/** Options of clance_commit(); initialise with clance_commit_options_init(). */
typedef struct clance_commit_options {
  /** Attempts when the version number was taken by a concurrent commit
   *  (compatible commits are rebased and retried); 0 = 20. */
  uint32_t max_retries;
  /** Check that every data file exists, has the recorded size and the
   *  schema's column types (reads each file's footer); default 1. */
  int verify_files;
  /** Manifest naming scheme for a new dataset: 1 = V2 names (default), 0 = V1. */
  int v2_manifest_paths;
  /** Lance's rule for an Overwrite prepared against an older version: it
   *  replaces whatever was committed since. Default 0: such an Overwrite is
   *  refused with CLANCE_ECONFLICT_RETRYABLE, so no commit is lost unseen. */
  int overwrite_wins;
  /** 0 (the default): the transaction file, the new manifest and the
   *  directories holding the version's new files are fsynced, so a version,
   *  once returned, survives an OS crash or power loss. 1: leave flushing to
   *  the OS, as Lance does. The commit is still atomic and put-if-absent for
   *  every process; only an OS crash can lose it (or, with no_fsync writes,
   *  keep a manifest whose data files did not reach the disk). */
  int no_fsync;
} clance_commit_options;

/** Fill `options` with the defaults. */
CLANCE_API void clance_commit_options_init(clance_commit_options *options);

/**
 * Commit `op` as the next version of the dataset at `uri`. `read_version` is the
 * version the operation was prepared against (0 for a dataset that does not
 * exist yet). Versions committed after `read_version` are checked: a compatible
 * concurrent commit is rebased over (Append after Append), anything else fails
 * with CLANCE_ECONFLICT_RETRYABLE or CLANCE_ECONFLICT_INCOMPATIBLE and writes
 * nothing visible. On success *out_version holds the new version.
 */
CLANCE_API clance_status clance_commit(const char *uri, const clance_operation *op,
                                       uint64_t read_version,
                                       const clance_commit_options *options,
                                       uint64_t *out_version, clance_error *err);

/* ------------------------------------------------------------------------- */
/* Reading                                                                    */
/* ------------------------------------------------------------------------- */

/** One version of a dataset, opened (opaque, immutable, shareable between
 *  threads); close with clance_dataset_close(). */
typedef struct clance_dataset clance_dataset;

/** Open the dataset at `uri` at `version` (0 = latest). */
CLANCE_API clance_status clance_dataset_open(const char *uri, uint64_t version,
                                             clance_dataset **out, clance_error *err);
/** Close a dataset; streams made from it stay valid. NULL is ignored. */
CLANCE_API void clance_dataset_close(clance_dataset *ds);

/** The version this handle reads. */
CLANCE_API uint64_t clance_dataset_version(const clance_dataset *ds);
/** Rows visible at this version (deleted rows excluded). */
CLANCE_API uint64_t clance_dataset_count_rows(const clance_dataset *ds);
/** Fragments of this version. */
CLANCE_API size_t clance_dataset_num_fragments(const clance_dataset *ds);
/** "2.0", "2.1", "2.2" (or "0.1" for legacy datasets). */
CLANCE_API const char *clance_dataset_data_storage_version(const clance_dataset *ds);
/** The dataset schema; release `out` with out->release(out). */
CLANCE_API clance_status clance_dataset_schema(const clance_dataset *ds, struct ArrowSchema *out,
                                               clance_error *err);
/** A copy of the fragments of this version (with their ids). */
CLANCE_API clance_status clance_dataset_fragments(const clance_dataset *ds,
                                                  clance_fragments **out, clance_error *err);
/** JSON description: {"version", "num_rows", "data_storage_version", "schema", "fragments"}. */
CLANCE_API clance_status clance_dataset_info_json(const clance_dataset *ds, char **out,
                                                  clance_error *err);

/** Options of scans, takes and counts; initialise with
 *  clance_scan_options_init(). */
typedef struct clance_scan_options {
  /** Columns to read, in output order; NULL/0 = all columns. */
  const char *const *columns;
  size_t num_columns; /**< entries in columns */
  /** Rows per batch; 0 = 65536. */
  uint64_t batch_size;
  /** Keep only rows where this predicate is true, e.g. "id > 10 AND s = 'x'":
   *  comparisons (= != <> < <= > >=) of a column with a literal (number,
   *  'string', true/false), IS [NOT] NULL, AND, OR, NOT and parentheses, with
   *  SQL's NULL semantics. NULL = no filter. */
  const char *filter;
  /** Scan only these fragments (ids), in this order; NULL/0 = every fragment
   *  in manifest order. A worker of a distributed job reads its share so. */
  const uint64_t *fragment_ids;
  size_t num_fragment_ids; /**< entries in fragment_ids */
} clance_scan_options;

/** Fill `options` with the defaults (all columns, no filter). */
CLANCE_API void clance_scan_options_init(clance_scan_options *options);

/**
 * Scan the dataset into an Arrow stream of struct batches, fragment by fragment
 * in fragment-id order. The stream holds a reference to what it needs; `ds` may
 * be closed before the stream is released.
 */
CLANCE_API clance_status clance_dataset_scan(const clance_dataset *ds,
                                             const clance_scan_options *options,
                                             struct ArrowArrayStream *out, clance_error *err);

/**
 * Rows at the given positions (0-based among the rows of this version, deleted
 * rows not counted), in the order given (repeats allowed), as one struct array
 * of the projected columns (`options` may be NULL; its batch_size and filter
 * are ignored). Only the pages holding requested rows are decoded.
 * `out_schema` (may be NULL) receives the array's schema.
 */
CLANCE_API clance_status clance_dataset_take(const clance_dataset *ds, const uint64_t *rows,
                                             size_t num_rows, const clance_scan_options *options,
                                             struct ArrowArray *out, struct ArrowSchema *out_schema,
                                             clance_error *err);

/** Rows matching `filter` (same language as clance_scan_options.filter; NULL
 *  counts every row). */
CLANCE_API clance_status clance_dataset_count_rows_where(const clance_dataset *ds,
                                                         const char *filter, uint64_t *out,
                                                         clance_error *err);

/* ------------------------------------------------------------------------- */
/* Changing rows (workers of a distributed Delete or Update, or one process)  */
/* ------------------------------------------------------------------------- */

/**
 * Worker side of a distributed Delete. The live rows of fragment
 * `fragment_id` of `ds`'s version that satisfy `filter`, or (filter NULL) the
 * physical row offsets `rows`, are added to the fragment's deletion vector,
 * written as a new file under `_deletions/` (nothing is committed). When any
 * row was deleted, the fragment's new metadata is appended to `updated`; when
 * every row is deleted, its deletion_file counts all physical rows and names no
 * file: clance_operation_delete() turns such entries into removed fragments.
 * *num_deleted (may be NULL) receives the number of rows newly deleted.
 */
CLANCE_API clance_status clance_fragment_delete_rows(const clance_dataset *ds,
                                                     uint64_t fragment_id, const char *filter,
                                                     const uint64_t *rows, size_t num_rows,
                                                     clance_fragments *updated,
                                                     uint64_t *num_deleted, clance_error *err);

/**
 * Worker side of a distributed add-columns (Lance's merge_columns): `values`
 * holds the new columns (its schema names them; they must not exist yet) with
 * one row per live row of fragment `fragment_id` of `ds`'s version, in scan
 * order. They are written as a new data file of the fragment (deleted rows get
 * nulls) and the fragment's new metadata is appended to `updated`; nothing is
 * committed. The new columns get the field ids a Merge on `ds`'s version gives
 * them, so every worker given the same columns produces files the coordinator
 * can commit with clance_operation_merge(). `values` is consumed.
 */
CLANCE_API clance_status clance_fragment_add_columns(const clance_dataset *ds,
                                                     uint64_t fragment_id,
                                                     struct ArrowArrayStream *values,
                                                     const clance_write_options *options,
                                                     clance_fragments *updated,
                                                     clance_error *err);

/**
 * Delete every row matching `filter` from the latest version and commit, in
 * one process (read version = the latest; a concurrent compatible commit is
 * rebased over, a conflicting one is retried up to options->max_retries
 * times from the start). *out_version is the new version, or the current one
 * with *num_deleted 0 when nothing matched (nothing is committed then).
 */
CLANCE_API clance_status clance_dataset_delete(const char *uri, const char *filter,
                                               const clance_commit_options *options,
                                               uint64_t *out_version, uint64_t *num_deleted,
                                               clance_error *err);

/**
 * Update rows in one process (Lance's Update, REWRITE_ROWS): every row of the
 * latest version matching `where` (NULL = every row) gets the values of `set`,
 * "col = literal[, col = literal...]" (numbers, 'strings', true/false, NULL).
 * The old rows are deleted through deletion vectors and the new ones written
 * as new fragments; one Update transaction commits both, redone on conflicts
 * up to options->max_retries times. *num_updated (may be NULL) = rows changed.
 */
CLANCE_API clance_status clance_dataset_update(const char *uri, const char *set,
                                               const char *where,
                                               const clance_commit_options *options,
                                               uint64_t *out_version, uint64_t *num_updated,
                                               clance_error *err);

/** One version, as clance_list_versions() lists it. */
typedef struct clance_version_info {
  uint64_t version; /**< the version number */
  /** Commit time, nanoseconds since the Unix epoch (0 if unknown). */
  int64_t timestamp_ns;
  uint64_t num_rows;     /**< rows visible at this version */
  size_t num_fragments;  /**< fragments of this version */
  /** Operation that produced the version ("Overwrite", "Append", ...). */
  char operation[32];
} clance_version_info;

/** All versions of the dataset, oldest first; free *out with clance_free(). */
CLANCE_API clance_status clance_list_versions(const char *uri, clance_version_info **out,
                                              size_t *count, clance_error *err);

/* ------------------------------------------------------------------------- */
/* Maintenance: compaction, tags, cleanup of old versions, checks             */
/* ------------------------------------------------------------------------- */

/** Options of clance_dataset_compact() (Lance's CompactionOptions). */
typedef struct clance_compact_options {
  /** Fragments with fewer physical rows than this are merged with neighbouring
   *  candidates, and new fragments get at most this many rows; 0 = 1048576. */
  uint64_t target_rows_per_fragment;
  /** At most this many rows per page of the new files; 0 = no row cap (pages
   *  are cut by size, as for every clance write). */
  uint64_t max_rows_per_group;
  /** Start a new file once this many bytes are written; 0 = 90 GiB. */
  uint64_t max_bytes_per_file;
  /** Rewrite fragments whose share of deleted rows exceeds the threshold, even
   *  alone (default 1). */
  int materialize_deletions;
  /** The share of deleted rows (0..1) above which a fragment is rewritten;
   *  default 0.1. <= 0: any deletion; >= 1: never. */
  double materialize_deletions_threshold;
  /** Attempts when a concurrent commit changed the same fragments (the plan is
   *  redone on the new version), also passed to the commit; 0 = 20. */
  uint32_t max_retries;
} clance_compact_options;

/** Fill `options` with the defaults. */
CLANCE_API void clance_compact_options_init(clance_compact_options *options);

/** What a compaction did (Lance's CompactionMetrics plus row counts). */
typedef struct clance_compact_stats {
  uint64_t fragments_removed; /**< fragments replaced */
  uint64_t fragments_added;   /**< fragments written */
  /** Data and deletion files of the replaced fragments. */
  uint64_t files_removed;
  uint64_t files_added; /**< data files written */
  /** Rows written to the new fragments. */
  uint64_t rows_rewritten;
  /** Deleted rows that no fragment carries any more. */
  uint64_t deleted_rows_removed;
} clance_compact_stats;

/**
 * Compact the latest version (Lance's compact_files): merge small neighbouring
 * fragments into fragments of up to target_rows_per_fragment rows and rewrite
 * fragments with many deleted rows without them, keeping the row order within
 * each rewritten run. All groups are committed as one Rewrite transaction.
 * When there is nothing to do, nothing is committed and *out_version is the
 * current version (stats all 0). Datasets with indices or stable row ids give
 * CLANCE_EUNSUPPORTED before anything is written. `options` and `stats` may
 * be NULL.
 */
CLANCE_API clance_status clance_dataset_compact(const char *uri,
                                                const clance_compact_options *options,
                                                uint64_t *out_version,
                                                clance_compact_stats *stats, clance_error *err);

/** Longest tag name (Lance's rules: ASCII letters and digits, '.', '-', '_';
 *  no leading or trailing '.', no "..", not ending in ".lock"). Lance also
 *  accepts non-ASCII alphanumerics: clance reads, opens and deletes such
 *  tags but creates only ASCII names. */
#define CLANCE_TAG_NAME_MAX 200

/** A tag, as clance_tag_list() lists it. */
typedef struct clance_tag {
  char name[CLANCE_TAG_NAME_MAX + 1]; /**< the tag's name, NUL-terminated */
  uint64_t version;                   /**< the version it names */
  /** Size in bytes of the version's manifest file, as the tag records it. */
  uint64_t manifest_size;
  /** Nonzero when the tag names a version of a branch (not of main). */
  int on_branch;
} clance_tag;

/**
 * Tag `version` (0 = the latest) of the dataset as `name`: writes
 * `_refs/tags/<name>.json` as Lance does, atomically, failing with
 * CLANCE_EEXISTS when the tag exists and CLANCE_ENOTFOUND when the version
 * does not. A bad name is CLANCE_EINVAL.
 */
CLANCE_API clance_status clance_tag_create(const char *uri, const char *name, uint64_t version,
                                           clance_error *err);
/** Remove a tag (CLANCE_ENOTFOUND when there is none of that name). */
CLANCE_API clance_status clance_tag_delete(const char *uri, const char *name, clance_error *err);
/** The tags of the dataset, sorted by name; free *out with clance_free().
 *  A tag file that cannot be parsed is CLANCE_ECORRUPT (clance_fsck() reports
 *  it instead). */
CLANCE_API clance_status clance_tag_list(const char *uri, clance_tag **out, size_t *count,
                                         clance_error *err);
/** The version a tag names (CLANCE_ENOTFOUND when there is no such tag). */
CLANCE_API clance_status clance_tag_version(const char *uri, const char *name, uint64_t *version,
                                            clance_error *err);
/** Open the version a tag names (Lance's checkout by tag; a tag of a branch
 *  version is CLANCE_EUNSUPPORTED). */
CLANCE_API clance_status clance_dataset_open_tag(const char *uri, const char *name,
                                                 clance_dataset **out, clance_error *err);

/**
 * Parse a duration such as "14d", "3h", "90s", "0s", "1h30m" or "2weeks"
 * (units: s/sec/second, m/min/minute, h/hr/hour, d/day, w/week, with optional
 * plural s) into seconds. Anything else is CLANCE_EINVAL.
 */
CLANCE_API clance_status clance_parse_duration(const char *text, int64_t *seconds,
                                               clance_error *err);

/** Called for every file a cleanup or gc removes (or, in a dry run, would
 *  remove): `path` relative to the dataset root, `kind` one of "manifest",
 *  "data", "deletion", "transaction", "temporary". */
typedef void (*clance_file_callback)(void *ctx, const char *path, const char *kind,
                                     uint64_t bytes);

/** Options of clance_cleanup() (Lance's cleanup_old_versions). */
typedef struct clance_cleanup_options {
  /** Versions committed more than this many seconds ago may go (the latest
   *  version and tagged versions never do); default 14 days. */
  int64_t older_than_seconds;
  /** Nonzero: also only versions below this one may go. */
  uint64_t before_version;
  /** Also remove unreferenced files younger than 7 days that no removed
   *  version referenced (only safe when no write is in progress); default 0. */
  int delete_unverified;
  /** Fail (CLANCE_EINVAL, naming the tags) when a tagged version would
   *  otherwise go; 0 keeps tagged versions and cleans around them. Default 1. */
  int error_if_tagged_old_versions;
  /** Report what would go without removing anything. */
  int dry_run;
  clance_file_callback on_file; /**< called for every file removed (may be NULL) */
  void *ctx;                    /**< passed to on_file */
} clance_cleanup_options;

/** What clance_cleanup() removed (or, in a dry run, would remove). */
typedef struct clance_cleanup_stats {
  /** Manifests removed. */
  uint64_t old_versions;
  uint64_t data_files;        /**< data files removed */
  uint64_t deletion_files;    /**< deletion files removed */
  uint64_t transaction_files; /**< transaction files removed */
  /** Staging files left in _versions/ by interrupted commits. */
  uint64_t temporary_files;
  /** Bytes of every file removed, manifests included. */
  uint64_t bytes_removed;
} clance_cleanup_stats;

/** Fill `options` with the defaults. */
CLANCE_API void clance_cleanup_options_init(clance_cleanup_options *options);

/**
 * Remove old versions and the files only they referenced, by Lance's rules:
 * a manifest goes when its commit time is older than the cutoff, unless it is
 * the latest or tagged (detached versions are always kept); then, among
 * data/ *.lance, _deletions/ *.arrow|*.bin, _transactions/ *.txn and
 * _versions/ staging files (".tmp*" or "<name>#<random>"; nothing else is
 * ever touched, _indices/ included) last modified before the oldest kept
 * version, a file no kept version references goes when a removed version
 * referenced it, when it is older than 7 days, or with delete_unverified
 * (staging files: when older than 7 days or with delete_unverified). So a
 * tagged old version also protects every file written after it. Manifests
 * are removed first, so that an interruption leaves only unreferenced files
 * behind (clance_gc() removes them later). A manifest that cannot be read
 * stops the cleanup before anything is removed. Datasets with branches or
 * base paths are refused (CLANCE_EUNSUPPORTED).
 */
CLANCE_API clance_status clance_cleanup(const char *uri, const clance_cleanup_options *options,
                                        clance_cleanup_stats *stats, clance_error *err);

/** One finding of clance_fsck(). */
typedef struct clance_fsck_problem {
  /** A version that shows the problem (the oldest one), 0 for a tag. */
  uint64_t version;
  /** The file at fault, relative to the dataset root. */
  char *path;
  char *message; /**< what is wrong */
} clance_fsck_problem;

/** A file that no version references. */
typedef struct clance_fsck_orphan {
  char *path;      /**< relative to the dataset root */
  char kind[16];   /**< "data", "deletion", "transaction", "temporary" */
  uint64_t bytes;   /**< file size */
  int64_t mtime_ns; /**< last modification, ns since the Unix epoch */
} clance_fsck_orphan;

/** Result of clance_fsck(); free with clance_fsck_result_free(). */
typedef struct clance_fsck_result {
  size_t num_versions;                     /**< versions checked */
  uint64_t oldest_version;                 /**< the oldest version present */
  uint64_t latest_version;                 /**< the latest version */
  /** Distinct files checked. */
  size_t data_files;
  size_t deletion_files;     /**< distinct deletion files checked */
  size_t transaction_files;  /**< distinct transaction files checked */
  size_t tags;               /**< tags checked */
  clance_fsck_problem *problems; /**< the problems found */
  size_t num_problems;           /**< entries in problems */
  clance_fsck_orphan *orphans;   /**< files no version references */
  size_t num_orphans;            /**< entries in orphans */
  uint64_t orphan_bytes;         /**< total size of the orphans */
} clance_fsck_result;

/**
 * Check every version of the dataset: the manifest parses, every data file it
 * references exists with the recorded size and a readable footer (and the
 * fragment's row count), every deletion file exists and is valid, the
 * transaction record is there; every tag names an existing version with the
 * right manifest size. Also lists the orphans: files under data/,
 * _deletions/, _transactions/ and staging files in _versions/ that no version
 * references (the files of a version whose manifest cannot be read show up
 * as orphans). Problems are reported in *out (not as an error status); an
 * error status means the check itself could not run (no dataset, or
 * branches or base paths: CLANCE_EUNSUPPORTED). Free with
 * clance_fsck_result_free().
 */
CLANCE_API clance_status clance_fsck(const char *uri, clance_fsck_result **out,
                                     clance_error *err);
/** Free a result of clance_fsck(); NULL is ignored. */
CLANCE_API void clance_fsck_result_free(clance_fsck_result *result);

/** Options of clance_gc(); initialise with clance_gc_options_init(). */
typedef struct clance_gc_options {
  /** Only orphans last modified more than this many seconds ago go
   *  (younger ones may belong to writes in progress); default 7 days. */
  int64_t older_than_seconds;
  int dry_run;                  /**< report only, remove nothing */
  clance_file_callback on_file; /**< called for every file removed (may be NULL) */
  void *ctx;                    /**< passed to on_file */
} clance_gc_options;

/** What clance_gc() removed (or, in a dry run, would remove). */
typedef struct clance_gc_stats {
  uint64_t files_removed; /**< orphans removed */
  uint64_t bytes_removed; /**< their total size */
  /** Orphans kept because they are younger than the threshold. */
  uint64_t files_kept;
} clance_gc_stats;

/** Fill `options` with the defaults. */
CLANCE_API void clance_gc_options_init(clance_gc_options *options);

/**
 * Remove orphans (as clance_fsck() lists them) older than the threshold. A
 * file any version references (detached ones included) is never removed; the
 * versions are listed again just before removing, so that a commit landing
 * meanwhile is taken into account. A manifest that cannot be read stops the
 * gc before anything is removed (its files would look orphaned). Records of
 * resumable tasks (`_clance_tasks/`, see clance_write_options.task_id) older
 * than the threshold go too once every file they name is committed or gone
 * (reported with kind "task_record"). Datasets with branches or base paths
 * are refused (CLANCE_EUNSUPPORTED).
 */
CLANCE_API clance_status clance_gc(const char *uri, const clance_gc_options *options,
                                   clance_gc_stats *stats, clance_error *err);

#ifdef __cplusplus
}
#endif

#endif /* CLANCE_CLANCE_H */
