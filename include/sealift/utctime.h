/*
 * utctime.h: UTC timestamps in the one text form bundles use ("2026-12-02T17:45:20Z"), and the
 * expiry an operator asks for (a duration after the build, or a date).
 *
 * Nothing here reads the clock: callers pass "now" in, so that a command reads the time once,
 * at its start, and uses that one value for every check.
 */
#ifndef SEALIFT_UTCTIME_H
#define SEALIFT_UTCTIME_H

#include "sealift/diag.h"

/* "YYYY-MM-DDTHH:MM:SSZ" and its NUL. */
#define UTC_TEXT_SIZE 21
/* The latest time the text form can hold: 9999-12-31T23:59:59Z. */
#define UTC_MAX_EPOCH 253402300799LL

/* Format t (seconds since 1970, 0..UTC_MAX_EPOCH) into out. Returns out. */
char *utc_format(long long t, char out[UTC_TEXT_SIZE]);

/*
 * Parse exactly "YYYY-MM-DDTHH:MM:SSZ" (a real calendar time) into *t. Returns 0, or -1 if
 * text is anything else.
 */
int utc_parse(const char *text, long long *t);

/*
 * The expiry --expires asks for, as seconds since 1970 in *t: a duration after now ("90d",
 * "12h", "2w", "30min", "3600s": a positive whole number and one unit), a date ("2027-06-30",
 * meaning its first second, UTC) or a full timestamp ("2027-06-30T12:00:00Z"). The result must
 * be later than now. Returns 0, or -1 with err set (message names --expires).
 */
int utc_expiry_arg(const char *text, long long now, long long *t, struct diag_err *err);

/*
 * 1 if a bundle with this expiry (manifest "expires", NULL: none) is expired at now: now is at
 * or after it. The one definition both binaries use.
 */
int utc_expired(const char *expires, long long now);

#endif
