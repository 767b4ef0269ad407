/*
 * spill.h: an unlinked temporary file that holds the rendered scripts of a chain once they are
 * checked, so that the compiler's memory grows with the script being parsed, not with the
 * chain. Scripts are appended from the check's worker threads and read back one at a time by
 * the lint and by the archive writer.
 */
#ifndef SEALIFT_COMPILER_SPILL_H
#define SEALIFT_COMPILER_SPILL_H

#include "sealift/buf.h"
#include "sealift/diag.h"

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct spill {
    int fd;
    _Atomic uint64_t end; /* bytes reserved so far: each put takes its own range */
};

/*
 * A new spill in $TMPDIR (default /tmp), private to this process (no name on disk). Returns
 * NULL with err set when the file cannot be made.
 */
struct spill *spill_open(struct diag_err *err);
void spill_close(struct spill *s);

/*
 * Append len bytes of data, safe to call from several threads at once; *off is where they
 * went. Returns 0, or -1 with err set (the spill then holds nothing useful at *off).
 */
int spill_put(struct spill *s, const void *data, size_t len, uint64_t *off, struct diag_err *err);

/* Replace the contents of into with the len bytes at off. Returns 0, or -1 with err set. */
int spill_get(const struct spill *s, uint64_t off, size_t len, struct buf *into,
              struct diag_err *err);

/* A stretch of the spill read in order, as bundle_writer_add_stream's source. */
struct spill_cursor {
    const struct spill *s;
    uint64_t off;
    uint64_t left;
};

/* bundle_source_cb over a struct spill_cursor: up to cap bytes, 0 at the stretch's end. */
ssize_t spill_cursor_read(void *cursor, void *buf, size_t cap, struct diag_err *err);

#endif
