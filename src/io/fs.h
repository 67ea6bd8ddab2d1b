/* Local file-system primitives: reads, buffered sequential writes, atomic
 * publication (put-if-absent via link(2)) and directory listing. Everything a
 * future object-store backend would implement lives behind these calls. */
#ifndef CL_IO_FS_H
#define CL_IO_FS_H

#include <stdint.h>
#include <sys/types.h>

#include "util/buf.h"

/* Turn a dataset URI into a local path: plain paths and file:// URIs are
 * accepted; other schemes give CLANCE_EUNSUPPORTED. Caller frees *out. */
clance_status cl_uri_to_path(const char *uri, char **out, clance_error *err);

/* Join path components with '/'. Caller frees. */
char *cl_path_join(const char *a, const char *b, clance_error *err);

/* Read a whole file; refuses files larger than max_size. */
clance_status cl_file_read_all(const char *path, size_t max_size, cl_buf *out, clance_error *err);

/* A file opened for random-access reads. */
typedef struct cl_rfile {
  int fd;
  uint64_t size;
  char *path;
} cl_rfile;

clance_status cl_rfile_open(const char *path, cl_rfile *f, clance_error *err);
/* Read exactly len bytes at off into dst; short files are ECORRUPT. */
clance_status cl_rfile_read(const cl_rfile *f, uint64_t off, uint64_t len, void *dst,
                            clance_error *err);
void cl_rfile_close(cl_rfile *f);

/* Sequential writer with an in-memory staging buffer. */
typedef struct cl_wfile {
  int fd;
  uint64_t pos; /* bytes written so far (including staged) */
  cl_buf stage;
  char *path;
  /* The file will be fsynced at close: start the disk writing it every few
   * MiB while it is still being written (sync_file_range), so that the final
   * fsync waits for the tail only and the disk works while we encode. */
  int durable;
  uint64_t on_disk;     /* bytes handed to write(2) */
  uint64_t writeback;   /* bytes whose writeback was started */
} cl_wfile;

/* Create a new file; fails with EEXISTS if it exists (names are unique).
 * `durable`: the file will be closed with sync = 1 (see cl_wfile.durable). */
clance_status cl_wfile_create(const char *path, int durable, cl_wfile *f, clance_error *err);
clance_status cl_wfile_write(cl_wfile *f, const void *data, size_t n, clance_error *err);
/* Pad with `byte` to a multiple of `align` bytes. */
clance_status cl_wfile_pad(cl_wfile *f, size_t align, uint8_t byte, clance_error *err);
/* Flush, optionally fsync, and close. */
clance_status cl_wfile_close(cl_wfile *f, int sync, clance_error *err);
/* Close and remove a partly written file (best effort). */
void cl_wfile_abort(cl_wfile *f);

/* Create `dir` and its parents as needed. */
clance_status cl_mkdirs(const char *dir, clance_error *err);
/* fsync a directory so that entries created in it are durable. */
clance_status cl_fsync_dir(const char *dir, clance_error *err);

/* Write `data` to `final_path` only if it does not exist yet: stage it in
 * `<final>#<random>` in the same directory, fsync (when `sync`), rename it to
 * the final name without replacing (link + unlink where renameat2 is
 * missing), fsync the directory (when `sync`). A taken name gives
 * CLANCE_EEXISTS and leaves the existing file untouched. Without `sync` the
 * publication is still atomic for every process; only an OS crash or power
 * loss can undo it. */
clance_status cl_put_if_absent(const char *final_path, const void *data, size_t n, int sync,
                               clance_error *err);
/* cl_put_if_absent in two steps, so that the caller can make the staged file
 * durable together with others (cl_fsync_paths) before publishing it:
 * cl_stage_write writes `<final>#<random>` (no fsync) and returns its name in
 * tmp (at least CL_STAGE_NAME_MAX bytes); cl_stage_publish renames it to
 * final_path unless that exists (CLANCE_EEXISTS; the staged file is removed
 * either way) and, when `sync`, fsyncs the directory. */
#define CL_STAGE_NAME_MAX 4200
clance_status cl_stage_write(const char *final_path, const void *data, size_t n, char *tmp,
                             clance_error *err);
clance_status cl_stage_publish(const char *tmp, const char *final_path, int sync,
                               clance_error *err);
/* fsync files and directories (by path) at once, on one thread each: the
 * disk sees the writes together and the caller waits about one fsync. */
clance_status cl_fsync_paths(const char *const *paths, size_t n, clance_error *err);
/* Overwrite a small file in place (created if missing), without fsync. No
 * inode is created or freed; a concurrent reader may see it empty or torn,
 * so only for hints that readers check (latest_version_hint.json). */
clance_status cl_put_in_place(const char *path, const void *data, size_t n, clance_error *err);
/* Replace `path` atomically (temporary file + rename). */
clance_status cl_put_replace(const char *path, const void *data, size_t n, int sync,
                             clance_error *err);
/* Plain write of a new file (error if it exists), fsynced when `sync`. */
clance_status cl_put_new(const char *path, const void *data, size_t n, int sync,
                         clance_error *err);

/* Names in a directory (no "." / ".."); missing directory gives ENOTFOUND. */
typedef struct cl_dirlist {
  size_t n;
  char **names;
} cl_dirlist;
clance_status cl_list_dir(const char *dir, cl_dirlist *out, clance_error *err);
void cl_dirlist_free(cl_dirlist *l);

int cl_path_exists(const char *path);
int cl_is_dir(const char *path);

/* Random bytes from the OS (getrandom); used for UUIDs and file names. */
clance_status cl_random_bytes(void *dst, size_t n, clance_error *err);

#endif
