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
    const char *dir = getenv("TMPDIR");
    char *tmpl = xasprintf("%s/sealift-spill-XXXXXX", dir && *dir ? dir : "/tmp");
    int fd = mkstemp(tmpl);
    struct spill *s;

    if (fd < 0) {
        err_set(err, "could not create a temporary file in \"%s\": %s", dir && *dir ? dir : "/tmp",
                strerror(errno));
        free(tmpl);
        return NULL;
    }
    unlink(tmpl); /* private: no name another process could open, and gone when we exit */
    free(tmpl);
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

int
spill_put(struct spill *s, const void *data, size_t len, uint64_t *off, struct diag_err *err)
{
    const char *p = data;
    uint64_t at = atomic_fetch_add(&s->end, (uint64_t)len);

    *off = at;
    while (len > 0) {
        ssize_t w = pwrite(s->fd, p, len, (off_t)at);

        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return err_set(err, "could not write the temporary file of rendered scripts: %s",
                           w < 0 ? strerror(errno) : "no space written");
        p += w;
        at += (uint64_t)w;
        len -= (size_t)w;
    }
    return 0;
}

/* Read exactly len bytes at off into p. */
static int
read_at(const struct spill *s, uint64_t off, char *p, size_t len, struct diag_err *err)
{
    while (len > 0) {
        ssize_t r = pread(s->fd, p, len, (off_t)off);

        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return err_set(err, "could not read the temporary file of rendered scripts: %s",
                           r < 0 ? strerror(errno) : "it ended early");
        p += r;
        off += (uint64_t)r;
        len -= (size_t)r;
    }
    return 0;
}

int
spill_get(const struct spill *s, uint64_t off, size_t len, struct buf *into, struct diag_err *err)
{
    buf_reset(into);
    buf_reserve(into, len);
    if (read_at(s, off, into->data, len, err) != 0)
        return -1;
    into->len = len;
    into->data[len] = '\0';
    return 0;
}

ssize_t
spill_cursor_read(void *cursor, void *buf, size_t cap, struct diag_err *err)
{
    struct spill_cursor *c = cursor;
    size_t n = c->left < cap ? (size_t)c->left : cap;

    if (read_at(c->s, c->off, buf, n, err) != 0)
        return -1;
    c->off += n;
    c->left -= n;
    return (ssize_t)n;
}
