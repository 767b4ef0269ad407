/*
 * numarg.c: range-checked numeric and duration option values (see numarg.h).
 * Layer: lib. Pure: no printing, no exit.
 */
#include "sealift/numarg.h"

#include <limits.h>
#include <string.h>

/* Quote at most this much of a bad value in a message. */
#define NUMARG_QUOTE_MAX 40

/* Decimal digits at text into *out; returns the digits read, or -1 on overflow. */
static int
read_digits(const char *text, unsigned long long *out)
{
    unsigned long long v = 0;
    int n = 0;

    for (; text[n] >= '0' && text[n] <= '9'; n++) {
        unsigned d = (unsigned)(text[n] - '0');

        if (v > (ULLONG_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    *out = v;
    return n;
}

int
numarg_integer(const char *opt, const char *text, unsigned long long min, unsigned long long max,
               unsigned long long *out, struct diag_err *err)
{
    unsigned long long v;
    int n = read_digits(text, &v);

    if (n <= 0 || text[n] != '\0' || v < min || v > max) {
        const char *cut = strlen(text) > NUMARG_QUOTE_MAX ? " (cut)" : "";

        if (min == 0)
            return err_set(err, "%s must be a non-negative integer (0 to %llu), not \"%.*s\"%s",
                           opt, max, NUMARG_QUOTE_MAX, text, cut);
        return err_set(err, "%s must be a number from %llu to %llu, not \"%.*s\"%s", opt, min, max,
                       NUMARG_QUOTE_MAX, text, cut);
    }
    *out = v;
    return 0;
}

int
numarg_uint(const char *opt, const char *text, unsigned min, unsigned max, unsigned *out,
            struct diag_err *err)
{
    unsigned long long v;

    if (numarg_integer(opt, text, min, max, &v, err) != 0)
        return -1;
    *out = (unsigned)v;
    return 0;
}

/* PostgreSQL's time units that make sense for an option, in milliseconds. */
static const struct {
    const char *name;
    long ms;
} units[] = {{"", 1000}, {"s", 1000}, {"ms", 1}, {"min", 60000}, {"h", 3600000}};

int
numarg_duration_ms(const char *opt, const char *text, long max_ms, long *out_ms,
                   struct diag_err *err)
{
    unsigned long long whole, frac = 0, scale = 1;
    const char *p = text;
    int n = read_digits(p, &whole), nf = 0;
    long unit = -1;

    if (n > 0) {
        p += n;
        if (*p == '.') {
            p++;
            /* Nine places are finer than a millisecond of any unit; more are ignored. */
            for (; *p >= '0' && *p <= '9'; p++, nf++)
                if (nf < 9) {
                    frac = frac * 10 + (unsigned long long)(*p - '0');
                    scale *= 10;
                }
            if (nf == 0)
                n = 0; /* "5." */
        }
        for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
            if (strcmp(p, units[i].name) == 0)
                unit = units[i].ms;
    }
    /* whole * unit must not overflow before it is compared with the range. */
    if (n > 0 && unit > 0 && whole <= (unsigned long long)max_ms / (unsigned long long)unit) {
        unsigned long long ms =
            whole * (unsigned long long)unit + frac * (unsigned long long)unit / scale;

        if (ms <= (unsigned long long)max_ms) {
            *out_ms = (long)ms;
            return 0;
        }
    }
    return err_set(err,
                   "%s must be a number of seconds from 0 to %ld (or a number with a unit: ms, "
                   "s, min, h), not \"%.*s\"%s",
                   opt, max_ms / 1000, NUMARG_QUOTE_MAX, text,
                   strlen(text) > NUMARG_QUOTE_MAX ? " (cut)" : "");
}
