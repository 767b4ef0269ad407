/*
 * buf.c: growable byte buffer (see buf.h for the invariants).
 * Layer: lib.
 */
#include "sealift/buf.h"
#include "sealift/xalloc.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char buf_empty[1];

void
buf_init(struct buf *b)
{
    b->data = buf_empty;
    b->len = 0;
    b->cap = 0;
}

void
buf_grow(struct buf *b, size_t extra)
{
    size_t want;
    size_t cap;

    if (extra > SIZE_MAX - b->len - 1)
        want = SIZE_MAX; /* xrealloc reports out of memory */
    else
        want = b->len + extra + 1;
    if (want <= b->cap)
        return;
    cap = b->cap ? b->cap : 64;
    while (cap < want)
        cap = cap > SIZE_MAX / 2 ? want : cap * 2;
    if (b->cap == 0) {
        b->data = xmalloc(cap);
        b->data[0] = '\0';
    } else {
        b->data = xrealloc(b->data, cap);
    }
    b->cap = cap;
}

void
buf_reserve(struct buf *b, size_t extra)
{
    size_t want = extra > SIZE_MAX - b->len - 1 ? SIZE_MAX : b->len + extra + 1;

    if (want <= b->cap)
        return;
    if (b->cap == 0) {
        b->data = xmalloc(want);
        b->data[0] = '\0';
    } else {
        b->data = xrealloc(b->data, want);
    }
    b->cap = want;
}

void
buf_add(struct buf *b, const void *data, size_t len)
{
    if (len == 0)
        return;
    buf_grow(b, len);
    memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
}

void
buf_addstr(struct buf *b, const char *s)
{
    buf_add(b, s, strlen(s));
}

void
buf_addch(struct buf *b, char c)
{
    buf_add(b, &c, 1);
}

void
buf_vaddf(struct buf *b, const char *fmt, va_list ap)
{
    va_list cp;
    int n;

    va_copy(cp, ap);
    n = vsnprintf(b->data + b->len, b->cap ? b->cap - b->len : 0, fmt, cp);
    va_end(cp);
    if (n < 0)
        return;
    if (b->cap == 0 || (size_t)n >= b->cap - b->len) {
        buf_grow(b, (size_t)n);
        n = vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
        if (n < 0)
            return;
    }
    b->len += (size_t)n;
}

void
buf_addf(struct buf *b, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    buf_vaddf(b, fmt, ap);
    va_end(ap);
}

void
buf_truncate(struct buf *b, size_t n)
{
    if (n > b->len)
        return;
    b->len = n;
    if (b->cap)
        b->data[n] = '\0';
}

void
buf_reset(struct buf *b)
{
    buf_truncate(b, 0);
}

void
buf_release(struct buf *b)
{
    if (b->cap)
        free(b->data);
    buf_init(b);
}

char *
buf_detach(struct buf *b, size_t *len)
{
    char *p;

    if (len)
        *len = b->len;
    if (b->cap == 0)
        p = xstrdup("");
    else
        p = b->data;
    buf_init(b);
    return p;
}
