/*
 * buf.h: a growable byte buffer (git's strbuf model).
 *
 * Invariants:
 *   - data is never NULL after buf_init() or BUF_INIT (it points at a static "" until the
 *     first growth);
 *   - data[len] == '\0' always, so data can be used as a C string when it holds text;
 *   - embedded NULs are allowed: binary data is fine.
 * Growth goes through xrealloc(), so running out of memory aborts.
 * Secrets never go in a buf: they live in sodium_malloc'd memory (see seckey.h).
 */
#ifndef SEALIFT_BUF_H
#define SEALIFT_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
    char *data;
    size_t len;
    size_t cap;
};

extern char buf_empty[];
#define BUF_INIT                                                                                   \
    {                                                                                              \
        buf_empty, 0, 0                                                                            \
    }

void buf_init(struct buf *b);
/* Make room for at least extra more bytes (plus the terminating NUL). */
void buf_grow(struct buf *b, size_t extra);
/*
 * As buf_grow, but to exactly that room when it grows (no doubling): for a buffer whose final
 * size is known, such as a whole file, so that a large one takes no more address space.
 */
void buf_reserve(struct buf *b, size_t extra);
void buf_add(struct buf *b, const void *data, size_t len);
void buf_addstr(struct buf *b, const char *s);
void buf_addch(struct buf *b, char c);
void buf_addf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_vaddf(struct buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
/* Set len to n (n <= len), keeping the allocation. */
void buf_truncate(struct buf *b, size_t n);
/* Empty the buffer, keeping the allocation. */
void buf_reset(struct buf *b);
/* Free the memory and return to the BUF_INIT state. */
void buf_release(struct buf *b);
/* Hand the malloc'd data to the caller (never NULL; free() it) and reset b to BUF_INIT. */
char *buf_detach(struct buf *b, size_t *len);

#endif
