/*
 * numarg.h: numeric and duration option values, parsed with range checks, for both binaries.
 *
 * A value is accepted only when all of it is a number inside the option's range: no sign, no
 * leading blanks, no hex or exponent, no wrap-around (strtoul would take "4294967297" for 1
 * once cast to unsigned, and "-1" for its largest value). The error message names the option
 * and the range, so that a command can pass it straight to die_usage():
 *
 *     --threshold must be a number from 1 to 64, not "4294967297"
 *
 * Nothing here prints or exits.
 */
#ifndef SEALIFT_NUMARG_H
#define SEALIFT_NUMARG_H

#include "sealift/diag.h"

/*
 * Parse text (the value of option opt, e.g. "--threshold") as a decimal integer in [min, max]
 * into *out. Returns 0, or -1 with err set (and *out untouched).
 */
int numarg_integer(const char *opt, const char *text, unsigned long long min,
                   unsigned long long max, unsigned long long *out, struct diag_err *err);

/* The same for an unsigned int option. */
int numarg_uint(const char *opt, const char *text, unsigned min, unsigned max, unsigned *out,
                struct diag_err *err);

/*
 * Parse text as a duration: a decimal number of seconds ("60", "2.5"), or a number with one of
 * PostgreSQL's units "ms", "s", "min", "h" ("500ms", "2min"). It must lie in [0, max_ms]
 * milliseconds; *out_ms gets it rounded down to a whole millisecond. Returns 0, or -1 with err
 * set (naming the range in seconds).
 */
int numarg_duration_ms(const char *opt, const char *text, long max_ms, long *out_ms,
                       struct diag_err *err);

#endif
