/*
 * file.h: opening input files safely: a path that names a FIFO, a device or a directory is
 * refused at once instead of blocking or reading something that is not a file.
 */
#ifndef SEALIFT_FILE_H
#define SEALIFT_FILE_H

#include "sealift/buf.h"
#include "sealift/diag.h"

#include <stdint.h>

/*
 * Open path read-only (close-on-exec) if it is a regular file. Returns the descriptor, or -1
 * with err set (err->io) naming what, the path and why.
 */
int file_open_regular(const char *path, const char *what, struct diag_err *err);

/*
 * The size limit for a whole text file read into memory (a migration script, a plan, a config
 * file): 256 MiB, far beyond any real one, and it keeps memory bounded.
 */
#define FILE_READ_MAX (256u * 1024 * 1024)

/*
 * Append the whole regular file path to out, refusing a file larger than max bytes (what
 * FILE_READ_MAX is for, or a format's own smaller limit). Returns 0, or -1 with err set (err->io
 * for an unreadable file); out may then hold part of the file (the caller releases it).
 */
int file_read_all(const char *path, size_t max, struct buf *out, struct diag_err *err);

/*
 * Write all len bytes of data to fd, going on after short writes and EINTR. Returns 0, or -1
 * with errno set by the failing write().
 */
int file_write_all(int fd, const void *data, size_t len);

/*
 * A private temporary file: created in TMPDIR (default /tmp) as sealift-PREFIX-XXXXXX and
 * unlinked at once, so no other process can open it by name and it is gone when the descriptor
 * is closed. Returns the read-write descriptor, or -1 with err set naming the directory (errno
 * still holds the cause).
 */
int file_private_temp(const char *prefix, struct diag_err *err);

/* SHA-256 and size of a regular file's bytes, read as a stream. */
int file_sha256(const char *path, unsigned char out[32], uint64_t *size, struct diag_err *err);

#endif
