/*
 * workers.h: run independent jobs on the machine's cores. Layer: compiler. The only file that
 * speaks pthreads.
 */
#ifndef SEALIFT_COMPILER_WORKERS_H
#define SEALIFT_COMPILER_WORKERS_H

#include <stddef.h>

/*
 * Run job(i, ctx) once for every i in [0, n), on up to threads threads (the caller's among
 * them), and return when all have run. Jobs are taken in index order but may finish in any:
 * a job writes only what belongs to its index. If a thread cannot be started, the others (at
 * least the caller) do its share.
 */
void workers_run(size_t n, unsigned threads, void (*job)(size_t i, void *ctx), void *ctx);

/* How many threads to use: the online CPUs, at most 8. */
unsigned workers_default(void);

#endif
