/*
 * spill.c: the rendered scripts of a chain, on disk between their check and the archive.
 * Layer: compiler.
 */
#include "spill.h"
#include "sealift/file.h"
#include "sealift/xalloc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct spill *
spill_open(struct diag_err *err)
{
    int fd = file_private_temp("spill", err);
    struct spill *s;

    if (fd < 0)
        return NULL;
    s = xmalloc(sizeof(*s));
    s->fd = fd;
    atomic_init(&s->end, 0);
    return s;
}

void
spill_close(struct spill *s)
{
    if (s == NULL)
        return;
    close(s->fd);
    free(s);
}

/* The window of a reader; a read of more than half of it goes to the file directly. */
#define SPILL_WINDOW (256 * 1024)
/* Room left before the offset asked for: the other threads' scripts spilled just before it. */
#define SPILL_BACK (32 * 1024)

int
spill_put(struct spill *s, const struct iovec *iov, int n, uint64_t *off, struct diag_err *err)
{
    uint64_t len = 0, at;
    ssize_t w;

    for (int i = 0; i < n; i++)
        len += iov[i].iov_len;
    at = atomic_fetch_add(&s->end, len);
    *off = at;
    do
        w = pwritev(s->fd, iov, n, (off_t)at);
    while (w < 0 && errno == EINTR);
    if (w < 0)
        return err_set(err, "could not write the temporary file of rendered scripts: %s",
                       strerror(errno));
    /* A short write (a full disk): the rest one buffer at a time, to its own place. */
    for (int i = 0; i < n && (uint64_t)w < len; i++) {
        const char *p = iov[i].iov_base;
        size_t left = iov[i].iov_len;

        if ((size_t)w >= left) {
            w -= (ssize_t)left;
            at += left;
            len -= left;
            continue;
        }
        p += w;
        at += (uint64_t)w;
        left -= (size_t)w;
        len -= (uint64_t)w;
        w = 0;
        while (left > 0) {
            ssize_t k = pwrite(s->fd, p, left, (off_t)at);

            if (k < 0 && errno == EINTR)
                continue;
            if (k <= 0)
                return err_set(err, "could not write the temporary file of rendered scripts: %s",
                               k < 0 ? strerror(errno) : "no space written");
            p += k;
            at += (uint64_t)k;
            left -= (size_t)k;
            len -= (uint64_t)k;
        }
    }
    return 0;
}

/* Read up to len bytes at off into p, at least need of them. Returns how many, or -1. */
static ssize_t
read_at(const struct spill *s, uint64_t off, char *p, size_t len, size_t need, struct diag_err *err)
{
    size_t got = 0;

    while (got < need) {
        ssize_t r = pread(s->fd, p + got, len - got, (off_t)(off + got));

        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return err_set(err, "could not read the temporary file of rendered scripts: %s",
                           r < 0 ? strerror(errno) : "it ended early");
        got += (size_t)r;
    }
    return (ssize_t)got;
}

void
spill_reader_init(struct spill_reader *r, const struct spill *s)
{
    memset(r, 0, sizeof(*r));
    r->s = s;
}

void
spill_reader_release(struct spill_reader *r)
{
    free(r->win);
    spill_reader_init(r, NULL);
}

int
spill_read(struct spill_reader *r, uint64_t off, void *dst, size_t n, struct diag_err *err)
{
    ssize_t got;

    if (off >= r->start && off - r->start <= r->len && n <= r->len - (off - r->start)) {
        memcpy(dst, r->win + (off - r->start), n);
        return 0;
    }
    if (n > SPILL_WINDOW / 2)
        return read_at(r->s, off, dst, n, n, err) < 0 ? -1 : 0;
    if (r->win == NULL)
        r->win = xmalloc(SPILL_WINDOW);
    r->start = off > SPILL_BACK ? off - SPILL_BACK : 0;
    r->len = 0;
    /* What the window holds past off + n is a bonus: the file may end sooner. */
    got = read_at(r->s, r->start, r->win, SPILL_WINDOW, (size_t)(off - r->start) + n, err);
    if (got < 0)
        return -1;
    r->len = (size_t)got;
    memcpy(dst, r->win + (off - r->start), n);
    return 0;
}

ssize_t
spill_cursor_read(void *cursor, void *buf, size_t cap, struct diag_err *err)
{
    struct spill_cursor *c = cursor;
    size_t n = c->left < cap ? (size_t)c->left : cap;

    if (spill_read(c->r, c->off, buf, n, err) != 0)
        return -1;
    c->off += n;
    c->left -= n;
    return (ssize_t)n;
}
