/*
 * utctime.c: UTC timestamp text and --expires values (see utctime.h).
 * Layer: lib. Pure: no clock, no printing.
 */
#include "sealift/utctime.h"

#include <stdio.h>
#include <string.h>

/* Days from 1970-01-01 to year-mon-day (proleptic Gregorian; H. Hinnant's algorithm). */
static long long
days_from_civil(long long y, int m, int d)
{
    long long era, yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

char *
utc_format(long long t, char out[UTC_TEXT_SIZE])
{
    long long days = t / 86400, secs = t % 86400;
    long long z = days + 719468, era = z / 146097, doe = z - era * 146097;
    long long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    long long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    long long mp = (5 * doy + 2) / 153;
    int d = (int)(doy - (153 * mp + 2) / 5 + 1);
    int m = (int)(mp < 10 ? mp + 3 : mp - 9);
    long long y = yoe + era * 400 + (m <= 2);
    char text[64];

    if (t < 0 || t > UTC_MAX_EPOCH) {
        memcpy(out, "0000-00-00T00:00:00Z", UTC_TEXT_SIZE);
        return out;
    }
    /* y <= 9999 and the rest two digits each: exactly UTC_TEXT_SIZE - 1 characters. */
    snprintf(text, sizeof(text), "%04d-%02d-%02dT%02d:%02d:%02dZ", (int)y, m, d, (int)(secs / 3600),
             (int)(secs / 60 % 60), (int)(secs % 60));
    memcpy(out, text, UTC_TEXT_SIZE - 1);
    out[UTC_TEXT_SIZE - 1] = '\0';
    return out;
}

static int
digits(const char *s, int n, int *v)
{
    *v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        *v = *v * 10 + (s[i] - '0');
    }
    return 0;
}

/* "YYYY-MM-DD" at s (10 bytes) into days since 1970; -1 if not a real date. */
static int
parse_date(const char *s, long long *days)
{
    static const int mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int y, m, d;

    if (digits(s, 4, &y) || s[4] != '-' || digits(s + 5, 2, &m) || s[7] != '-' ||
        digits(s + 8, 2, &d))
        return -1;
    if (y < 1970 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
        return -1;
    if (m == 2 && d == 29 && !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)))
        return -1;
    *days = days_from_civil(y, m, d);
    return 0;
}

int
utc_parse(const char *text, long long *t)
{
    long long days;
    int h, mi, s;

    if (strlen(text) != UTC_TEXT_SIZE - 1 || parse_date(text, &days) != 0 || text[10] != 'T' ||
        digits(text + 11, 2, &h) || text[13] != ':' || digits(text + 14, 2, &mi) ||
        text[16] != ':' || digits(text + 17, 2, &s) || text[19] != 'Z' || h > 23 || mi > 59 ||
        s > 59)
        return -1;
    *t = days * 86400 + h * 3600 + mi * 60 + s;
    return 0;
}

int
utc_expiry_arg(const char *text, long long now, long long *t, struct diag_err *err)
{
    static const struct {
        const char *unit;
        long long secs;
    } units[] = {{"s", 1}, {"min", 60}, {"h", 3600}, {"d", 86400}, {"w", 7 * 86400}};
    char when[UTC_TEXT_SIZE];
    long long n = 0, days;
    size_t i = 0;

    if (strlen(text) == 10 && parse_date(text, &days) == 0) {
        *t = days * 86400;
    } else if (utc_parse(text, t) == 0) {
        /* a full timestamp */
    } else {
        for (; text[i] >= '0' && text[i] <= '9' && i < 9; i++)
            n = n * 10 + (text[i] - '0');
        *t = -1;
        for (size_t u = 0; i > 0 && n > 0 && u < sizeof(units) / sizeof(units[0]); u++)
            if (strcmp(text + i, units[u].unit) == 0)
                *t = now + n * units[u].secs;
        if (*t < 0)
            return err_set(err,
                           "--expires must be a duration (a whole number and s, min, h, d or w, "
                           "e.g. 90d), a date (2027-06-30) or a UTC time (2027-06-30T12:00:00Z), "
                           "not \"%.40s\"",
                           text);
    }
    if (*t > UTC_MAX_EPOCH)
        return err_set(err, "--expires \"%.40s\" is after 9999-12-31", text);
    if (*t <= now)
        return err_set(err, "--expires \"%.40s\" is not after the build time %s", text,
                       utc_format(now, when));
    return 0;
}

int
utc_expired(const char *expires, long long now)
{
    long long t;

    return expires != NULL && (utc_parse(expires, &t) != 0 || now >= t);
}
