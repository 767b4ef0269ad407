/*
 * readahead.c: a byte stream produced a few fixed buffers ahead, on a thread (readahead.h).
 * Layer: lib. A ring of slots: the thread fills the slot at tail, the reader drains the slot
 * at head; a slot that ends the stream (its end or an error) stays at head for good.
 */
#include "sealift/readahead.h"
#include "sealift/xalloc.h"

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

/* Four slots of 256 KiB: two zstd blocks each, and 1 MiB in all, whatever the stream's size. */
#define RA_SLOTS 4
#define RA_SLOT  (256u * 1024u)

enum slot_state { SLOT_DATA, SLOT_END, SLOT_ERROR };

struct ra_slot {
    unsigned char *data;
    size_t len, pos;
    enum slot_state state; /* after its bytes: more follow, the end, or err */
    struct diag_err err;
};

struct readahead {
    readahead_fill_fn fill;
    void *arg;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv; /* a slot was filled, or drained, or stop was set */
    struct ra_slot slot[RA_SLOTS];
    unsigned long head, tail; /* slots drained, slots filled */
    int stop;
};

static void *
produce(void *p)
{
    struct readahead *ra = p;

    for (;;) {
        struct ra_slot *s;

        pthread_mutex_lock(&ra->mu);
        while (ra->tail - ra->head == RA_SLOTS && !ra->stop)
            pthread_cond_wait(&ra->cv, &ra->mu);
        if (ra->stop) {
            pthread_mutex_unlock(&ra->mu);
            return NULL;
        }
        s = &ra->slot[ra->tail % RA_SLOTS];
        pthread_mutex_unlock(&ra->mu);

        /* The slot is the thread's alone until tail moves past it. */
        s->len = s->pos = 0;
        s->state = SLOT_DATA;
        while (s->len < RA_SLOT) {
            ssize_t n = ra->fill(ra->arg, s->data + s->len, RA_SLOT - s->len, &s->err);

            if (n <= 0) {
                s->state = n < 0 ? SLOT_ERROR : SLOT_END;
                break;
            }
            s->len += (size_t)n;
        }

        pthread_mutex_lock(&ra->mu);
        ra->tail++;
        pthread_cond_broadcast(&ra->cv);
        pthread_mutex_unlock(&ra->mu);
        if (s->state != SLOT_DATA)
            return NULL;
    }
}

struct readahead *
readahead_start(readahead_fill_fn fill, void *arg)
{
    struct readahead *ra = xcalloc(1, sizeof(*ra));
    sigset_t all, old;
    int rc;

    ra->fill = fill;
    ra->arg = arg;
    for (size_t i = 0; i < RA_SLOTS; i++)
        ra->slot[i].data = xmalloc(RA_SLOT);
    pthread_mutex_init(&ra->mu, NULL);
    pthread_cond_init(&ra->cv, NULL);
    /* Signals stay with the caller's thread (apply's interrupt handling is there). */
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    rc = pthread_create(&ra->thread, NULL, produce, ra);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        pthread_cond_destroy(&ra->cv);
        pthread_mutex_destroy(&ra->mu);
        for (size_t i = 0; i < RA_SLOTS; i++)
            free(ra->slot[i].data);
        free(ra);
        return NULL;
    }
    return ra;
}

ssize_t
readahead_read(struct readahead *ra, void *buf, size_t len, struct diag_err *err)
{
    struct ra_slot *s;
    size_t n;

    if (len == 0)
        return 0;
    pthread_mutex_lock(&ra->mu);
    while (ra->tail == ra->head)
        pthread_cond_wait(&ra->cv, &ra->mu);
    s = &ra->slot[ra->head % RA_SLOTS];
    pthread_mutex_unlock(&ra->mu);

    if (s->pos == s->len) {
        /* Only a slot that ends the stream is left at head once drained. */
        if (s->state == SLOT_END)
            return 0;
        *err = s->err;
        return -1;
    }
    n = s->len - s->pos < len ? s->len - s->pos : len;
    memcpy(buf, s->data + s->pos, n);
    s->pos += n;
    if (s->pos == s->len && s->state == SLOT_DATA) {
        pthread_mutex_lock(&ra->mu);
        ra->head++;
        pthread_cond_broadcast(&ra->cv);
        pthread_mutex_unlock(&ra->mu);
    }
    return (ssize_t)n;
}

void
readahead_stop(struct readahead *ra)
{
    if (ra == NULL)
        return;
    pthread_mutex_lock(&ra->mu);
    ra->stop = 1;
    pthread_cond_broadcast(&ra->cv);
    pthread_mutex_unlock(&ra->mu);
    pthread_join(ra->thread, NULL);
    pthread_cond_destroy(&ra->cv);
    pthread_mutex_destroy(&ra->mu);
    for (size_t i = 0; i < RA_SLOTS; i++)
        free(ra->slot[i].data);
    free(ra);
}
