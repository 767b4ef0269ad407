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
#include <sys/uio.h>

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
 * Append the n buffers of iov one after the other in one write, safe to call from several
 * threads at once; *off is where the first went. Returns 0, or -1 with err set (the spill then
 * holds nothing useful there).
 */
int spill_put(struct spill *s, const struct iovec *iov, int n, uint64_t *off, struct diag_err *err);

/*
 * Reads of a spill through a window of it: scripts are spilled about in the chain's order and
 * read back in that order, so one read of the file serves many scripts (a read per script was
 * a tenth of a build's time at 10,000 migrations).
 */
struct spill_reader {
    const struct spill *s;
    char *win;      /* SPILL_WINDOW bytes, allocated on the first read */
    uint64_t start; /* offset in the spill of win[0] */
    size_t len;     /* bytes of win that hold the spill */
};

void spill_reader_init(struct spill_reader *r, const struct spill *s);
void spill_reader_release(struct spill_reader *r);
/* Copy the n bytes at off into dst. Returns 0, or -1 with err set. */
int spill_read(struct spill_reader *r, uint64_t off, void *dst, size_t n, struct diag_err *err);

/* A stretch of the spill read in order, as bundle_writer_add_stream's source. */
struct spill_cursor {
    struct spill_reader *r;
    uint64_t off;
    uint64_t left;
};

/* bundle_source_cb over a struct spill_cursor: up to cap bytes, 0 at the stretch's end. */
ssize_t spill_cursor_read(void *cursor, void *buf, size_t cap, struct diag_err *err);

#endif
