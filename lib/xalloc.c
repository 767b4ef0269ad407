/*
 * xalloc.c: allocation wrappers that abort on out-of-memory.
 * Layer: lib. The one place in lib/ allowed to print and stop the process (STYLE 8.2).
 */
#include "sealift/xalloc.h"
#include "sealift/diag.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static _Noreturn void
oom(void)
{
    fflush(stdout);
    fprintf(stderr, "%s: error: out of memory\n", diag_progname());
    abort();
}

void *
xmalloc(size_t size)
{
    void *p = malloc(size ? size : 1);

    if (p == NULL)
        oom();
    return p;
}

void *
xcalloc(size_t nmemb, size_t size)
{
    void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);

    if (p == NULL)
        oom();
    return p;
}

void *
xrealloc(void *ptr, size_t size)
{
    void *p = realloc(ptr, size ? size : 1);

    if (p == NULL)
        oom();
    return p;
}

void *
xgrow(void *ptr, size_t *cap, size_t want, size_t size)
{
    /*
     * From one element, not eight: a compiler holds a few small arrays for every one of
     * 100,000 migrations (statements, lint operations), mostly of one element, and eight
     * slots each were a fifth of its peak memory. Doubling keeps the cost of growth linear.
     */
    size_t n = *cap ? *cap : 1;

    if (want <= *cap)
        return ptr;
    while (n < want) {
        if (n > SIZE_MAX / 2)
            oom();
        n *= 2;
    }
    if (n > SIZE_MAX / size)
        oom();
    ptr = xrealloc(ptr, n * size);
    *cap = n;
    return ptr;
}

char *
xstrdup(const char *s)
{
    return xstrndup(s, strlen(s));
}

char *
xstrndup(const char *s, size_t n)
{
    char *p = xmalloc(n + 1);

    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *
xasprintf(const char *fmt, ...)
{
    va_list ap;
    int n;
    char *p;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        oom();
    p = xmalloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return p;
}
