/*
 * runner.h: carry out a walk (apply, rollback, stamp) against the database, with progress,
 * per-statement resume of no-transaction migrations, cancellation on SIGINT/SIGTERM, and
 * error reports that name the migration, file, line, column and SQLSTATE.
 */
#ifndef SEALIFT_APPLIER_RUNNER_H
#define SEALIFT_APPLIER_RUNNER_H

#include "db.h"
#include "engine.h"
#include "history.h"
#include "out.h"
#include "sealift/verify.h"
#include "walk.h"

#include <stddef.h>

struct queued;
struct recorded;

struct runner {
    struct db *db;
    const struct history_ctx *h;
    const struct history_source *src;
    const struct manifest *m;
    const struct buf *data;       /* verified member bytes (scripts; data members are streamed) */
    struct bundle_cursor *cursor; /* re-reads data members from the bundle when loaded */
    const struct engine_view *view;
    struct out *out;
    int per_migration;
    int compat_alembic; /* keep alembic_version at the head after every commit */
    /*
     * Run inside the caller's open transaction: savepoints instead of BEGIN and COMMIT, and a
     * failure rolls back to the savepoint and is not journaled (test uses this to try a down
     * and an up again, then throw both away). Transactional scripts only.
     */
    int nested;
    /* Where the database stands, in migrations of the chain applied. */
    size_t committed;
    /* Filled by the steps. */
    int in_tx;
    size_t tx_head;
    size_t tx_last; /* the migration last recorded in the open transaction: a COMMIT's culprit */
    int tx_last_kind;
    long long started_ns;
    /* The first failure, if any. */
    int failed;
    size_t fail_idx;
    int fail_kind;
    long fail_stmt; /* index of the failing statement in its script, or -1 */
    struct db_error fail_err;
    int fail_rejected; /* the bundle failed a check while in use (exit 1, not 4) */
    /* Statements waiting to go out in one pipeline (see runner.c queue_*). */
    struct queued *queue;
    size_t nqueue;
    size_t queue_cap;
    /* Migrations recorded in the open transaction, reported once its COMMIT is answered. */
    struct recorded *unreported;
    size_t nunreported;
    size_t unreported_cap;
    /* The journal: last committed row, and the last row of the open transaction. */
    struct journal_pos journal;
    struct journal_pos tx_journal;
    char actor[128];
    int project_written; /* the project row (environment, serial) is written once a run */
    int fail_binary;     /* the failing COPY's data is binary: the server counts rows, not lines */
    struct buf loads;    /* what this migration's COPY statements loaded, for the journal */
    /* History rows of the open transaction not sent yet: "(...), (...)" (see runner.c). */
    struct buf pending_applied;
    struct buf pending_journal;
    size_t npending;
    /* One migration's record, held for the prepared statement (see runner.c op_record). */
    int record_prepared; /* the statement is prepared on this connection */
    int record_held;
    struct history_row held_applied; /* its fields point into held_at, _dur and _detail */
    struct history_row held_journal;
    char held_at[40];
    char held_dur[32];
    struct buf held_detail;
};

/* Carry out the walk. Returns 0, or 4 after a failure (rolled back and reported). */
int runner_apply(struct runner *r, size_t from, size_t to);
int runner_rollback(struct runner *r, size_t to);
int runner_stamp(struct runner *r, size_t to);
/* The signal (SIGINT, SIGTERM) that interrupted a walk, or 0: a caller's cue to stop too. */
int runner_interrupted(void);

#endif
