/*
 * runner.h: carry out a walk (apply, rollback, stamp: walk.c decides the steps and where
 * transactions end) against the database, with progress, per-statement resume of
 * no-transaction migrations, cancellation on SIGINT/SIGTERM, the server's times in the
 * history, and failures that name the migration, file, line, column and SQLSTATE
 * (failure.h).
 *
 * Life: runner_new, one walk (runner_apply, runner_rollback or runner_stamp), then
 * runner_position and runner_failure as needed, then runner_free.
 */
#ifndef SEALIFT_APPLIER_RUNNER_H
#define SEALIFT_APPLIER_RUNNER_H

#include "db.h"
#include "engine.h"
#include "failure.h"
#include "history.h"
#include "out.h"
#include "sealift/verify.h"
#include "walk.h"

#include <stddef.h>

struct runner;

/* What the caller chooses besides the database and the bundle (or-ed together). */
enum {
    RUNNER_PER_MIGRATION = 1, /* one transaction per migration (walk.c) */
    RUNNER_ALEMBIC = 2,       /* keep alembic_version at the head after every commit */
    /*
     * Run inside the caller's open transaction: savepoints instead of BEGIN and COMMIT, and a
     * failure rolls back to the savepoint and is not journaled (test uses this to try a down
     * and an up again, then throw both away). Transactional scripts only.
     */
    RUNNER_NESTED = 4,
};

/*
 * A runner on db, writing history h for the bundle src describes; bundle is the verified
 * bundle (its scripts' bytes), cursor re-reads its data members (NULL if it has none), view
 * says where unfinished no-transaction migrations resume (NULL: nowhere). out receives the
 * progress. Nothing is sent yet. Every pointer is borrowed and must outlive the runner.
 */
struct runner *runner_new(struct db *db, const struct history_ctx *h,
                          const struct history_source *src, const struct verify_result *bundle,
                          struct bundle_cursor *cursor, const struct engine_view *view,
                          struct out *out, unsigned flags);
void runner_free(struct runner *r);

/*
 * Limits of the migrations' own statements (not of sealift's history writes): lock_timeout_ms
 * and statement_timeout_ms are set with SET LOCAL around each script inside its transaction
 * (for a statement run outside any transaction, on the session around it); 0 and -1 leave the
 * setting alone. A transaction that fails with lock_not_available (55P03) or
 * deadlock_detected (40P01) is rolled back and walked again, after a backoff, up to retries
 * times (a no-transaction statement: that statement again). Without this call: no limits, no
 * retries.
 */
void runner_set_limits(struct runner *r, long lock_timeout_ms, long statement_timeout_ms,
                       unsigned retries);
/*
 * Show a statement's progress once it has run progress_after_ms, and warn (and journal a
 * "slow_statement" event) when one runs longer than warn_after_ms; 0 turns either off
 * (progress.h). Defaults: progress after 2 s, no warning. Needs runner_set_limits (the
 * progress is read from the lock watcher's connection).
 */
void runner_set_progress(struct runner *r, long progress_after_ms, long warn_after_ms);

/* With RUNNER_ALEMBIC: the table Alembic keeps its version in (NULL: alembic_version). */
void runner_set_alembic_table(struct runner *r, const char *table);

/*
 * Something that watches each migration statement as it runs (test's lock trace): start
 * before the first statement of an up or down script (the statements before it have reached
 * the server), statement after each one that succeeded, with its duration in milliseconds and
 * whether it ran inside a transaction. Both may query db between statements. With a tracer, a
 * transactional script's statements go to the server one at a time instead of pipelined.
 */
struct runner_tracer {
    void (*start)(void *ctx, struct db *db, size_t idx, int kind);
    /* Statement k, whose first line is line, ran for ms. */
    void (*statement)(void *ctx, struct db *db, size_t idx, int kind, size_t k, unsigned line,
                      double ms, int in_tx);
};
/* Watch the walk's statements with t (borrowed; NULL: none). */
void runner_set_tracer(struct runner *r, const struct runner_tracer *t, void *ctx);

/*
 * fn(ctx, db) runs inside the walk's last transaction, after its history rows and before its
 * COMMIT (not in a nested runner): the move's fingerprint of the schema (drift.h) describes
 * what that transaction commits. fn must leave the transaction as it found it, even when it
 * fails; it does not fail the walk.
 */
typedef void (*runner_final_cb)(void *ctx, struct db *db);
void runner_set_final_cb(struct runner *r, runner_final_cb fn, void *ctx);

/*
 * One walk from position from (migrations of the chain applied) to position to. Returns 0, or
 * after a failure (rolled back, journaled, reported on stderr and as a "failed" event) 4, or 1
 * when the bundle failed a check while in use.
 */
int runner_apply(struct runner *r, size_t from, size_t to);
int runner_rollback(struct runner *r, size_t from, size_t to);
int runner_stamp(struct runner *r, size_t from, size_t to);

/*
 * The repeatables runner_apply runs, and runner_stamp records, after the chain (reps->v
 * borrowed; NULL: none). A rollback never runs them.
 */
void runner_set_repeatables(struct runner *r, const struct walk_reps *reps);
/* How many of them the walk committed. */
size_t runner_repeatables_done(const struct runner *r);

/* Where the database is after the walk (its last commit), in migrations applied. */
size_t runner_position(const struct runner *r);
/* The walk's failure, or NULL when it succeeded. Valid until runner_free. */
const struct failure *runner_failure(const struct runner *r);

/* The signal (SIGINT, SIGTERM) that interrupted a walk, or 0: a caller's cue to stop too. */
int runner_interrupted(void);

#endif
