/*
 * formats.c: the table of source-format readers and --from auto's detection.
 * Layer: compiler.
 */
#include "formats.h"
#include "readers.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

static const struct format_reader readers[] = {
    {"native", detect_native, read_native},
    {"alembic", detect_alembic, read_alembic},
    {"flyway", detect_flyway, read_flyway},
    {"golang-migrate", detect_golang_migrate, read_golang_migrate},
    {"dbmate", detect_dbmate, read_dbmate},
    {"goose", detect_goose, read_goose},
    {"sqitch", detect_sqitch, read_sqitch},
    {"diesel", detect_diesel, read_diesel},
    {"liquibase", detect_liquibase, read_liquibase},
};

#define NREADERS (sizeof(readers) / sizeof(readers[0]))

const struct format_reader *
formats_find(const char *name)
{
    for (size_t i = 0; i < NREADERS; i++)
        if (strcmp(readers[i].name, name) == 0)
            return &readers[i];
    return NULL;
}

const struct format_reader *
formats_detect(const char *dir, struct diag_err *err)
{
    const struct format_reader *best = NULL, *tie = NULL;
    int best_score = 0;
    DIR *d = opendir(dir);

    if (d == NULL) {
        err_set_io(err, "could not open migrations directory \"%s\": %s", dir, strerror(errno));
        return NULL;
    }
    closedir(d);

    for (size_t i = 0; i < NREADERS; i++) {
        int score = readers[i].detect(dir);

        if (score > best_score) {
            best = &readers[i];
            best_score = score;
            tie = NULL;
        } else if (score > 0 && score == best_score) {
            tie = &readers[i];
        }
    }
    if (best == NULL) {
        err_set(err, "no known migration format found in \"%s\" (give --from FORMAT)", dir);
        return NULL;
    }
    if (tie) {
        err_set(err, "\"%s\" looks like both %s and %s migrations; give --from FORMAT", dir,
                best->name, tie->name);
        return NULL;
    }
    return best;
}

void
formats_names(char *out, size_t cap)
{
    size_t used = 0;

    out[0] = '\0';
    for (size_t i = 0; i < NREADERS; i++) {
        int n = snprintf(out + used, cap - used, "%s%s", i ? ", " : "", readers[i].name);

        /* A cut list would hide formats: end it with "..." so that it says so. */
        if (n < 0 || (size_t)n >= cap - used) {
            if (cap >= 4)
                memcpy(out + cap - 4, "...", 4);
            return;
        }
        used += (size_t)n;
    }
}
