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

/*
 * Detection with its reason, by format name. A format without one here (a reader added
 * later) is asked its plain detect. Liquibase is recognised here even before a reader is
 * registered for it, so that its directory is never read as another format's.
 */
typedef int (*detect_why_fn)(const char *dir, char *why, size_t cap);

static const struct {
    const char *name;
    detect_why_fn fn;
} whys[] = {
    {"native", detect_native_why},       {"alembic", detect_alembic_why},
    {"flyway", detect_flyway_why},       {"golang-migrate", detect_golang_migrate_why},
    {"dbmate", detect_dbmate_why},       {"goose", detect_goose_why},
    {"sqitch", detect_sqitch_why},       {"diesel", detect_diesel_why},
    {"liquibase", detect_liquibase_why},
};

#define NWHYS (sizeof(whys) / sizeof(whys[0]))

static detect_why_fn
why_of(const char *name)
{
    for (size_t i = 0; i < NWHYS; i++)
        if (strcmp(whys[i].name, name) == 0)
            return whys[i].fn;
    return NULL;
}

const struct format_reader *
formats_detect(const char *dir, struct diag_err *err)
{
    char why[256];

    return formats_detect_why(dir, NULL, why, sizeof(why), err);
}

const struct format_reader *
formats_detect_why(const char *dir, const char *recorded, char *why, size_t cap,
                   struct diag_err *err)
{
    const char *best = NULL, *tie = NULL;
    const struct format_reader *r;
    int best_score = 0;
    char one[256], names[256];
    DIR *d = opendir(dir);

    if (d == NULL) {
        err_set_io(err, "could not open migrations directory \"%s\": %s", dir, strerror(errno));
        return NULL;
    }
    closedir(d);
    snprintf(why, cap, "%s", "");
    if (recorded) {
        r = formats_find(recorded);
        if (r == NULL) {
            formats_names(names, sizeof(names));
            err_set(err,
                    "\"%s/sealift.sum\" records the chain as %s, which this sealift cannot "
                    "read (known: %s)",
                    dir, recorded, names);
            return NULL;
        }
        snprintf(why, cap, "recorded in sealift.sum");
        return r;
    }
    /* Every known format, the registered readers and those only recognised. */
    for (size_t i = 0; i < NREADERS + NWHYS; i++) {
        const char *name = i < NREADERS ? readers[i].name : whys[i - NREADERS].name;
        detect_why_fn fn = why_of(name);
        int score;

        if (i >= NREADERS && formats_find(name) != NULL)
            continue; /* a registered reader: asked above */
        one[0] = '\0';
        score = fn ? fn(dir, one, sizeof(one)) : readers[i].detect(dir);
        if (score > best_score) {
            best = name;
            best_score = score;
            tie = NULL;
            snprintf(why, cap, "%s", one[0] ? one : "its files");
        } else if (score > 0 && score == best_score) {
            tie = name;
        }
    }
    if (best == NULL) {
        formats_names(names, sizeof(names));
        err_set(err, "no known migration format found in \"%s\" (give --from FORMAT: %s)", dir,
                names);
        return NULL;
    }
    if (tie) {
        err_set(err, "\"%s\" looks like both %s and %s migrations: give --from %s or --from %s",
                dir, best, tie, best, tie);
        return NULL;
    }
    /* Nothing any format recognised, in a directory that holds files: not a chain. */
    if (strcmp(best, "native") == 0 && best_score == 1 && strcmp(why, "an empty directory") != 0) {
        formats_names(names, sizeof(names));
        err_set(err,
                "no migrations of any known format in \"%s\" (is it the migrations directory? "
                "for another tool's chain give --from FORMAT: %s)",
                dir, names);
        return NULL;
    }
    r = formats_find(best);
    if (r == NULL)
        err_set(err, "\"%s\": detected %s (%s), but this sealift has no reader for it", dir, best,
                why);
    return r;
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
