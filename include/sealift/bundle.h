/*
 * bundle.h: the bundle archive (ustar inside zstd, gzip or nothing), written with libarchive
 * and read by our own strict ustar reader, without ever touching the file system beyond the
 * bundle file itself.
 *
 * Writing is reproducible: members in the order given, ustar format, mode 0644, uid/gid 0,
 * no user or group names, one fixed mtime, no extended attributes.
 *
 * Reading is strict: only ustar entries (no pax, GNU or sparse headers), only regular files,
 * no links, only canonical relative names; anything after the end of the archive is an entry
 * the caller will refuse, or an error.
 */
#ifndef SEALIFT_BUNDLE_H
#define SEALIFT_BUNDLE_H

#include "sealift/codec.h"
#include "sealift/diag.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Largest member name: the ustar name field (100 bytes) without the prefix field. */
#define BUNDLE_SIG_NAME_MAX 40
#define BUNDLE_MAX_NAME     99

struct bundle_writer;

/*
 * Start writing a bundle to path. The archive is written to a temporary file beside it and
 * renamed over path by bundle_writer_close(), so a failed write never leaves a partial bundle.
 * A path that exists and is not a regular file (a FIFO, a device, a directory) is refused
 * (err->io): the rename would replace it.
 */
struct bundle_writer *bundle_writer_open(const char *path, enum codec_kind compression,
                                         int64_t mtime, struct diag_err *err);
int bundle_writer_add(struct bundle_writer *w, const char *name, const void *data, size_t len,
                      struct diag_err *err);
/* A member's bytes, streamed: fill buf (cap bytes); return the count, 0 at the end, or -1. */
typedef ssize_t (*bundle_source_cb)(void *data, void *buf, size_t cap, struct diag_err *err);

/*
 * Add a member streamed from src, which must produce exactly size bytes with this SHA-256
 * (they were hashed earlier; a source that changed since is an error).
 */
int bundle_writer_add_stream(struct bundle_writer *w, const char *name, uint64_t size,
                             const unsigned char sha256[32], bundle_source_cb src, void *src_data,
                             struct diag_err *err);
/* bundle_writer_add_stream from the file at path. */
int bundle_writer_add_file(struct bundle_writer *w, const char *name, const char *path,
                           uint64_t size, const unsigned char sha256[32], struct diag_err *err);
/* Finish, fsync and rename into place. The writer is freed in every case. */
int bundle_writer_close(struct bundle_writer *w, struct diag_err *err);
/* Discard: remove the temporary file and free the writer. */
void bundle_writer_abort(struct bundle_writer *w);

struct bundle_entry {
    char name[BUNDLE_MAX_NAME + 1];
    uint64_t size;
    int64_t mtime;
};

struct bundle_reader;

/* Open a bundle for reading. A file that cannot be opened sets err->io. */
struct bundle_reader *bundle_reader_open(const char *path, struct diag_err *err);
enum codec_kind bundle_reader_compression(const struct bundle_reader *r);
/* Bound the decompressed bytes that may be read from now on (see codec_reader_set_limit). */
void bundle_reader_set_limit(struct bundle_reader *r, uint64_t max_more);
/*
 * Move to the next entry and check its header. Returns 1 with *e filled, 0 at the end of the
 * archive (after which trailing content has been checked), -1 with err set.
 */
int bundle_reader_next(struct bundle_reader *r, struct bundle_entry *e, struct diag_err *err);
/*
 * Read the current entry's data. Returns bytes read, 0 at the end of the entry, -1 on error.
 * An entry whose data is shorter or longer than its header says is an error.
 */
ssize_t bundle_reader_read(struct bundle_reader *r, void *buf, size_t len, struct diag_err *err);
/* Size of the bundle file in bytes. */
uint64_t bundle_reader_file_size(const struct bundle_reader *r);
void bundle_reader_close(struct bundle_reader *r);

#endif
