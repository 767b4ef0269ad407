/*
 * workers.c: a fixed pool of threads for one batch of independent jobs (see workers.h).
 * Layer: compiler. Checking a chain's SQL is one parse per script with nothing shared, so it
 * spreads over the cores; the results stay in index order, so the output does not depend on
 * the number of threads.
 */
#include "workers.h"

#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

#define WORKERS_MAX 8

struct batch {
    size_t n;
    atomic_size_t next;
    void (*job)(size_t i, void *ctx);
    void *ctx;
};

/* Take the next index until none is left. */
static void
drain(struct batch *b)
{
    size_t i;

    while ((i = atomic_fetch_add(&b->next, 1)) < b->n)
        b->job(i, b->ctx);
}

static void *
worker_main(void *arg)
{
    struct batch *b = arg;

    drain(b);
    return NULL;
}

void
workers_run(size_t n, unsigned threads, void (*job)(size_t i, void *ctx), void *ctx)
{
    struct batch b = {n, 0, job, ctx};
    pthread_t tid[WORKERS_MAX];
    unsigned started = 0;

    atomic_init(&b.next, 0);
    if (threads > WORKERS_MAX)
        threads = WORKERS_MAX;
    if (threads > n)
        threads = (unsigned)n;
    /* The caller is one of the threads. */
    for (unsigned t = 1; t < threads; t++)
        if (pthread_create(&tid[started], NULL, worker_main, &b) == 0)
            started++;
    drain(&b);
    for (unsigned t = 0; t < started; t++)
        pthread_join(tid[t], NULL);
}

unsigned
workers_default(void)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);

    if (cpus < 1)
        return 1;
    return cpus > WORKERS_MAX ? WORKERS_MAX : (unsigned)cpus;
}
