/*
 * failure.h: a failed step of a walk, and every way it is told: the lines on stderr (what,
 * where as file:line:column, the server's words, where the database is), the fields of a JSON
 * event, the short text of a report, and the journal's detail. The runner fills one; test
 * renders the runner's failures, and its own, with the same functions.
 */
#ifndef SEALIFT_APPLIER_FAILURE_H
#define SEALIFT_APPLIER_FAILURE_H

#include "db.h"
#include "sealift/buf.h"
#include "sealift/manifest.h"
#include "scriptsrc.h"

#include <stddef.h>

struct failure {
    const struct manifest *m;
    struct script_src *scripts; /* the scripts' bytes, for line and column (may be NULL) */
    size_t idx;                 /* the migration; m->nmigrations or more: the history itself */
    int kind;                   /* the script (enum manifest_script_kind) */
    long stmt;                  /* statement of that script (0-based), or -1 */
    struct db_error err;
    int rejected; /* the bundle failed a check while in use (exit 1, not 4) */
    int binary;   /* the failing COPY's data is binary: the server counts rows, not lines */
    int signal;   /* the signal (SIGINT, SIGTERM) that interrupted the walk, or 0 */
    size_t at;    /* where the database is after it, in migrations of the chain applied */
    int per_migration;
    int nested; /* the walk ran inside the caller's transaction */
};

/* Where a failure is in the bundle. */
struct failure_place {
    const char *file; /* member path, or NULL */
    unsigned long line;
    unsigned long column;    /* 0: unknown (a row of COPY data, or a whole script) */
    int copy_row;            /* FAILURE_COPY_*: the place is a row of COPY data */
    unsigned long data_line; /* the line (or binary row) of the data the server named */
};

enum { FAILURE_NOT_COPY, FAILURE_COPY_INLINE, FAILURE_COPY_FILE, FAILURE_COPY_BINARY };

/* Locate f: fills p (file NULL when no script is known). */
void failure_locate(const struct failure *f, struct failure_place *p);

/* Print f on stderr: "error: migration X (up) failed: ...", then detail and hint lines. */
void failure_report(const struct failure *f);

/*
 * Append f's JSON fields ("migration":...,"script":...,"file":...,"line":...,"column":...,
 * "statement":...,"sqlstate":...,"message":...,"detail":...,"hint":...), the first without a
 * leading comma.
 */
void failure_json(const struct failure *f, struct buf *out);

/* Append "MESSAGE (SQLSTATE XXXXX)". */
void failure_text(const struct failure *f, struct buf *out);

/* Append the journal's detail of f: "up: 42P01: MESSAGE". */
void failure_journal_detail(const struct failure *f, struct buf *out);

#endif
