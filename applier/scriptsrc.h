/*
 * scriptsrc.h: the bytes of a verified bundle's scripts, when they run. Small scripts are kept
 * from verification in a cache of bounded size; every other script is read again from the
 * bundle, in bounded chunks, each byte hashed again as it goes (bundle_cursor): a member whose
 * bytes differ from what verification saw makes a read fail, at the latest the read of its
 * last bytes, so a caller that reads to the end (script_finish) before its transaction commits
 * never commits bytes that were not proven. A script opened "proven first" (no-transaction
 * scripts, whose statements cannot be undone) is read whole and checked before any byte is
 * returned: into memory when small, else into a private, already unlinked temporary file.
 *
 * Memory: one chunk per reader, plus what the caller takes (one statement at a time).
 */
#ifndef SEALIFT_APPLIER_SCRIPTSRC_H
#define SEALIFT_APPLIER_SCRIPTSRC_H

#include "sealift/buf.h"
#include "sealift/diag.h"
#include "sealift/manifest.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * What verification keeps (verify_options.keep, with a struct script_keep as its argument):
 * down scripts of at most SCRIPT_KEEP_MEMBER_MAX bytes, SCRIPT_KEEP_TOTAL_MAX in all, and every
 * key statement (the trust check reads them whole). A
 * rollback runs them newest first, which a forward-only re-reading of a compressed bundle
 * could only do by starting again from the beginning for each; up and verify scripts run in
 * bundle order and stream.
 */
#define SCRIPT_KEEP_MEMBER_MAX (64u * 1024u)
#define SCRIPT_KEEP_TOTAL_MAX  (8u * 1024u * 1024u)

struct script_keep {
    unsigned char *down; /* per member: 1 a down script, 2 a key statement (first call) */
};

int script_keep(const struct manifest *m, size_t member, uint64_t kept, void *arg);
void script_keep_release(struct script_keep *k);

struct script_src;
struct script_reader;

/*
 * The scripts of the bundle at path, verified with manifest m; kept[i] holds member i's bytes
 * when verification kept them (kept[i].len equals its size), else they are read again. Both
 * are borrowed. SEALIFT_STREAM_CHUNK (undocumented, for the tests) sets the chunk size and
 * turns the cache off, so that every script streams.
 */
struct script_src *script_src_new(const char *path, const struct manifest *m,
                                  const struct buf *kept);
void script_src_free(struct script_src *s);

/*
 * Open member for reading from its start. proven_first: read and check it whole before
 * returning any byte. One reader that streams from the bundle at a time per source; close it
 * (script_finish or script_close) before opening the next.
 */
struct script_reader *script_open(struct script_src *s, size_t member, int proven_first,
                                  struct diag_err *err);
/*
 * Move to offset off of the member, reading what lies between. Backwards only for a reader
 * that does not stream from the bundle (kept or proven first).
 */
int script_seek(struct script_reader *rd, uint64_t off, struct diag_err *err);
/* Bytes [off, off + len) as a NUL-terminated malloc'd string (script_seek to off first). */
char *script_take(struct script_reader *rd, uint64_t off, uint64_t len, struct diag_err *err);
/*
 * Statement k of sc as script_take takes it, but at most cap bytes of it (the next seek skips
 * the rest), and in *line the 1-based line its first non-blank character is on (as the
 * compiler's findings and the failure messages count lines).
 */
char *script_take_stmt(struct script_reader *rd, const struct manifest_script *sc, size_t k,
                       size_t cap, unsigned *line, struct diag_err *err);
/* Read at most cap bytes, not past offset end: the count, 0 there, -1 with err set. */
ssize_t script_read(struct script_reader *rd, void *buf, size_t cap, uint64_t end,
                    struct diag_err *err);
/* The 1-based line the reader is at. */
unsigned long script_line(const struct script_reader *rd);
/* Read the rest of the member, which proves it, and close. 0, or -1 with err set. */
int script_finish(struct script_reader *rd, struct diag_err *err);
/* Close without reading the rest (after a failure). NULL is fine. */
void script_close(struct script_reader *rd);

/*
 * The hex SHA-256 of each of statements [0, n) of script sc into sha[k] (HASH_SHA256_HEX
 * bytes each); the reader is left after statement n - 1.
 */
int script_stmt_shas(struct script_reader *rd, const struct manifest_script *sc, size_t n,
                     char **sha, struct diag_err *err);

/* Line and column (1-based, columns in characters) of offset off of member. */
int script_line_col(struct script_src *s, size_t member, uint64_t off, unsigned *line,
                    unsigned *col, struct diag_err *err);

#endif
