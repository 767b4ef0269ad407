/*
 * version.c: decimal, Flyway and "same version" orders of migration versions (see version.h).
 * Layer: lib.
 */
#include "sealift/version.h"
#include "sealift/xalloc.h"

#include <string.h>

static int
is_digit(char c)
{
    return c >= '0' && c <= '9';
}

int
version_is_decimal(const char *s, size_t n)
{
    if (n == 0)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!is_digit(s[i]))
            return 0;
    return 1;
}

/* Compare the numbers a[0, la) and b[0, lb) (digits; leading zeros allowed): <0, 0, >0. */
static int
number_cmp(const char *a, size_t la, const char *b, size_t lb)
{
    int c;

    while (la > 1 && *a == '0') {
        a++;
        la--;
    }
    while (lb > 1 && *b == '0') {
        b++;
        lb--;
    }
    if (la != lb)
        return la < lb ? -1 : 1;
    c = memcmp(a, b, la);
    return (c > 0) - (c < 0);
}

int
version_decimal_cmp(const char *a, const char *b)
{
    return number_cmp(a, strlen(a), b, strlen(b));
}

char *
version_decimal_canonical(const char *digits, size_t n)
{
    while (n > 1 && *digits == '0') {
        digits++;
        n--;
    }
    return xstrndup(digits, n);
}

static int
flyway_sep(char c)
{
    return c == '.' || c == '_';
}

int
version_flyway_valid(const char *v)
{
    const char *p = v;

    for (;;) {
        size_t n = 0;

        while (is_digit(p[n]))
            n++;
        if (n == 0)
            return 0;
        p += n;
        if (*p == '\0')
            return 1;
        if (!flyway_sep(*p))
            return 0;
        p++;
    }
}

/* Length of the digit part at p (stops at a separator or the end). */
static size_t
part_len(const char *p)
{
    size_t n = 0;

    while (is_digit(p[n]))
        n++;
    return n;
}

int
version_flyway_cmp(const char *a, const char *b)
{
    int va = version_flyway_valid(a), vb = version_flyway_valid(b);

    if (!va || !vb) {
        int c = strcmp(a, b);

        if (va != vb)
            return va ? -1 : 1;
        return (c > 0) - (c < 0);
    }
    /* Both valid: every step consumes a part (or runs off the end) of each, so this ends. */
    while (*a || *b) {
        size_t la = part_len(a), lb = part_len(b);
        int c = number_cmp(la ? a : "0", la ? la : 1, lb ? b : "0", lb ? lb : 1);

        if (c != 0)
            return c;
        a += la;
        b += lb;
        if (flyway_sep(*a))
            a++;
        if (flyway_sep(*b))
            b++;
    }
    return 0;
}

int
version_same(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);

    if (version_is_decimal(a, la) && version_is_decimal(b, lb))
        return number_cmp(a, la, b, lb) == 0;
    return strcmp(a, b) == 0;
}
