/*
 * walk.h: the one definition of what apply, rollback and stamp do, in which order and in
 * which transactions. The runner executes the steps against the database; plan prints them as
 * a psql script. Because both walk the same steps, a plan run by psql leaves the database
 * exactly as apply would.
 */
#ifndef SEALIFT_APPLIER_WALK_H
#define SEALIFT_APPLIER_WALK_H

#include "sealift/manifest.h"

#include <stddef.h>

/* WALK_UNSTAMP: a stamp backwards records a migration as not applied, running nothing. */
enum walk_record { WALK_APPLY, WALK_ROLLBACK, WALK_STAMP, WALK_UNSTAMP };

/*
 * The steps a walk names by idx: the chain's migrations are 0 .. nmigrations - 1, and the
 * repeatables follow them, repeatable j being idx nmigrations + j. The ops resolve an idx
 * with walk_migration(); a repeatable has an up script only, and recording one leaves the
 * database's place in the chain where it is.
 */
const struct manifest_migration *walk_migration(const struct manifest *m, size_t idx);
/* Is step idx a repeatable? */
int walk_is_repeatable(const struct manifest *m, size_t idx);

/* The repeatables an apply or a stamp runs (records) after the chain: indexes into
 * manifest.repeatables, in the order they run (by name). */
struct walk_reps {
    const size_t *v;
    size_t n;
};

/*
 * Each step returns 0 to go on or -1 to stop the walk (the step reports why). Transaction
 * boundaries are decided here and only here: the ops follow begin and commit, and record is
 * told whether the walk commits right after it.
 */
struct walk_ops {
    int (*begin)(void *ctx);
    int (*commit)(void *ctx);
    /* A migration is about to run (or be recorded): idx, and the script kind that runs. */
    int (*start)(void *ctx, size_t idx, int kind);
    /* Run a transactional script as one unit. */
    int (*script)(void *ctx, size_t idx, int kind);
    /* Run a no-transaction script statement by statement, recording progress. */
    int (*notx)(void *ctx, size_t idx, int kind);
    /* Write the history for one migration. commit_next: commit is the walk's next step. */
    int (*record)(void *ctx, size_t idx, enum walk_record what, int commit_next);
};

/*
 * Apply migrations [from, to), then the repeatables reps lists (NULL: none). Transactional
 * ones share one transaction (or one each with per_migration); a no-transaction one ends the
 * open transaction, runs on its own, and is recorded in a transaction of its own together
 * with its verify script.
 */
int walk_apply(const struct manifest *m, size_t from, size_t to, const struct walk_reps *reps,
               int per_migration, const struct walk_ops *ops, void *ctx);
/* Roll back from napplied down to to (their down scripts, newest first). */
int walk_rollback(const struct manifest *m, size_t napplied, size_t to, int per_migration,
                  const struct walk_ops *ops, void *ctx);
/* Record [from, to) as applied without running anything, then the repeatables reps lists
 * (NULL: none), in one transaction (in either mode: nothing runs, so there is nothing to
 * commit migration by migration). With to below from, record [to, from) as not applied
 * instead, newest first (WALK_UNSTAMP; repeatables are never unrecorded). */
int walk_stamp(const struct manifest *m, size_t from, size_t to, const struct walk_reps *reps,
               const struct walk_ops *ops, void *ctx);

#endif
