/*
 * xalloc.h: allocation that cannot fail. On out-of-memory these print
 * "PROG: error: out of memory" and abort(), as git, minisign and pg_malloc do.
 */
#ifndef SEALIFT_XALLOC_H
#define SEALIFT_XALLOC_H

#include <stddef.h>

void *xmalloc(size_t size);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *ptr, size_t size);
/* Grow an array of nmemb elements of size bytes to at least want elements (doubling). */
void *xgrow(void *ptr, size_t *cap, size_t want, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* malloc'd printf; dies on out-of-memory. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
