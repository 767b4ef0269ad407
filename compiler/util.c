/*
 * util.c: small helpers shared by the compiler's commands.
 * Layer: compiler.
 */
#include "cmds.h"
#include "sealift/diag.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int
exit_code_for(const struct diag_err *err)
{
    return err->io ? EXIT_USAGE : EXIT_REJECTED;
}

int
build_time(long long *out)
{
    const char *sde = getenv("SOURCE_DATE_EPOCH");
    char *end;

    if (sde == NULL || *sde == '\0') {
        *out = (long long)time(NULL);
        return 0;
    }
    errno = 0;
    *out = strtoll(sde, &end, 10);
    if (errno || *end || *out < 0 || *out > 253402300799LL)
        return -1;
    return 0;
}

void
format_utc(long long t, char out[32])
{
    time_t tt = (time_t)t;
    struct tm tm;

    gmtime_r(&tt, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}
