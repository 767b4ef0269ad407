/*
 * codec.h: the compression layer under the bundle's tar stream (zstd, gzip or none).
 *
 * Written by hand over libzstd and zlib (rather than libarchive's filters) because a verifier
 * needs what libarchive's filters do not give: a hard cap on decompressed bytes (bombs), a
 * bounded zstd window (memory), exactly one compressed frame or gzip member, and a refusal of
 * any byte after it. The writer fixes every parameter so that output is reproducible.
 */
#ifndef SEALIFT_CODEC_H
#define SEALIFT_CODEC_H

#include "sealift/buf.h"
#include "sealift/diag.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum codec_kind { CODEC_ZSTD = 0, CODEC_GZIP = 1, CODEC_NONE = 2 };

/* Largest zstd window a reader accepts: 2^23 bytes (8 MiB). Writers use 2^21. */
#define CODEC_ZSTD_WINDOW_LOG_MAX 23

/* "zstd", "gzip" or "none" into *out; returns -1 for anything else. */
int codec_parse_name(const char *name, enum codec_kind *out);
const char *codec_name(enum codec_kind kind);

struct codec_reader;

/*
 * Read from fd (not closed by the reader). The compression is detected from the magic bytes:
 * zstd frame, gzip member, or else uncompressed.
 */
struct codec_reader *codec_reader_open(int fd, struct diag_err *err);
enum codec_kind codec_reader_kind(const struct codec_reader *r);
/* Refuse to produce more than max decompressed bytes in total (0 = no limit). */
void codec_reader_set_limit(struct codec_reader *r, uint64_t max);
/*
 * Read up to len decompressed bytes. Returns the count, 0 at the end of the stream, or -1 with
 * err set (corrupt data, data after the compressed stream, limit exceeded, read error).
 */
ssize_t codec_reader_read(struct codec_reader *r, void *buf, size_t len, struct diag_err *err);
uint64_t codec_reader_total_out(const struct codec_reader *r);
uint64_t codec_reader_total_in(const struct codec_reader *r);
void codec_reader_free(struct codec_reader *r);

struct codec_writer;

/* Compress into fd (not closed by the writer). */
struct codec_writer *codec_writer_open(int fd, enum codec_kind kind, struct diag_err *err);
int codec_writer_write(struct codec_writer *w, const void *data, size_t len, struct diag_err *err);
/* End the stream and flush it to fd. The writer is freed in every case. */
int codec_writer_finish(struct codec_writer *w, struct diag_err *err);
void codec_writer_free(struct codec_writer *w);

/*
 * One zstd frame in memory (level 3, content size in the header): for small texts kept in a
 * database, not for bundles. Appends to out. Returns 0, or -1 with err set.
 */
int codec_zstd_compress(const void *data, size_t len, struct buf *out, struct diag_err *err);
/*
 * The same kind of frame built piece by piece, for a text made as it is compressed (never held
 * whole, its size not known before its end): open onto out, add the text's bytes in order,
 * finish; each call appends the compressed bytes ready so far to out, and finish writes the
 * text's size into the frame's header. -1 with err set on failure (the stream must then only
 * be freed).
 */
struct codec_zstd_stream;
struct codec_zstd_stream *codec_zstd_stream_open(struct buf *out, struct diag_err *err);
int codec_zstd_stream_add(struct codec_zstd_stream *z, const void *data, size_t len,
                          struct diag_err *err);
int codec_zstd_stream_finish(struct codec_zstd_stream *z, struct diag_err *err);
void codec_zstd_stream_free(struct codec_zstd_stream *z);
/*
 * Decompress exactly one zstd frame of data into out (appended), refusing a frame that does not
 * record its content size, one over max bytes, and any byte after it. Returns 0, or -1.
 */
int codec_zstd_decompress(const void *data, size_t len, size_t max, struct buf *out,
                          struct diag_err *err);

#endif
