/*
 * readahead.h: produce a byte stream on a thread of its own, a few buffers ahead of its reader.
 *
 * Why: a large bundle is decompressed twice by apply (verification, then the load) and each
 * byte is hashed both times. On one thread the two costs add up, and verification runs before
 * the server has anything to do: a 1 GiB data load waited for both. With the decompression on
 * its own thread, the reader hashes while the next bytes are decompressed, and a load's wall
 * time is the larger of the two costs, not their sum.
 *
 * The producer is called on the thread only, the reader's calls on the caller's thread only;
 * after readahead_start the caller must not touch what the producer uses. Memory: slots times
 * slot_size bytes, fixed. Nothing is checked or skipped here: every byte the producer makes is
 * handed out in order, then its end or its error, exactly as the producer reported them.
 */
#ifndef SEALIFT_READAHEAD_H
#define SEALIFT_READAHEAD_H

#include "sealift/diag.h"

#include <stddef.h>
#include <sys/types.h>

/* Fill buf with up to len bytes: the count, 0 at the end, or -1 with err set. */
typedef ssize_t (*readahead_fill_fn)(void *arg, void *buf, size_t len, struct diag_err *err);

struct readahead;

/*
 * Start the thread. NULL when it could not be started (the caller then reads on its own
 * thread: nothing was produced yet).
 */
struct readahead *readahead_start(readahead_fill_fn fill, void *arg);
/* The next bytes, at most len: the count, 0 at the end (again on each call), or -1 with err. */
ssize_t readahead_read(struct readahead *ra, void *buf, size_t len, struct diag_err *err);
/* Stop the thread (it finishes the slot it is filling) and free everything. NULL is fine. */
void readahead_stop(struct readahead *ra);

#endif
