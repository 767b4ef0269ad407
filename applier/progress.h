/*
 * progress.h: what a long migration statement is doing, seen from the lock watcher's second
 * connection (lockwatch.h: at most two connections a run). Once a statement has run longer
 * than --progress-after, each look reads its backend's row of pg_stat_activity and, when the
 * server reports one, its row of pg_stat_progress_create_index, _cluster, _copy, _analyze or
 * _vacuum, and shows it:
 *
 *   - on a terminal, one line redrawn in place (out_live), erased when anything else prints:
 *       CREATE INDEX CONCURRENTLY on public.big: building index: scanning table, blocks 812 of
 *       4425 (18%), 3.1 s
 *   - elsewhere (a log, a pipe), a plain line at --progress-after and then every 10 s, as
 *     pg_basebackup --progress writes newlines instead of carriage returns when stderr is not
 *     a terminal, but at a log's pace rather than a screen's;
 *   - with --json, a "statement_progress" event each look; with --quiet, nothing.
 *
 * A statement still running after --warn-after gets one warning (stderr, or a
 * "statement_warning" event), kept for the journal: the runner writes the kept warnings as
 * "slow_statement" journal rows once it is outside a transaction (progress_take_warning).
 * Looks come about once a second, so a statement is caught up to a second past the limit; a
 * no-transaction statement that ends before a look is checked by its measured duration
 * (progress_statement_done).
 */
#ifndef SEALIFT_APPLIER_PROGRESS_H
#define SEALIFT_APPLIER_PROGRESS_H

#include "db.h"
#include "out.h"

#include <stddef.h>

/* Defaults: progress after 2 s; no warning unless --warn-after is given. */
#define PROGRESS_DEFAULT_AFTER_MS 2000L
/* Plain (not terminal) lines come at most this often. */
#define PROGRESS_PLAIN_EVERY_MS 10000L

struct progress;

/* after_ms, warn_ms: 0 (or less) turns progress, or warnings, off. out is borrowed. */
struct progress *progress_new(struct out *out, long after_ms, long warn_ms);
void progress_free(struct progress *p);

/* When the first look is due (ms after a statement was sent), or -1 when nothing is on. */
long progress_first_look_ms(const struct progress *p);

/* The migration whose statements run now: its index in the chain and id (borrowed). */
void progress_migration(struct progress *p, size_t idx, const char *id);

/*
 * One look (a lockwatch_look_cb; data is the struct progress), from twin (the second
 * connection) at the backend pid that runs the statements. lock_wait: the lock watcher saw a
 * wait (then no progress line: the wait's line says more; the warning still comes).
 */
void progress_look_cb(void *data, struct db *twin, int pid, int lock_wait);

/* A no-transaction statement ended after ms: warn if it ran over --warn-after unseen. */
void progress_statement_done(struct progress *p, const char *stmt, double ms);

/*
 * The oldest warning not yet journaled: fills *idx (the migration) and detail (appended) and
 * returns 1, or returns 0 when none is left.
 */
int progress_take_warning(struct progress *p, size_t *idx, struct buf *detail);

/*
 * A progress view's row as words for the terminal line: "building index: scanning table,
 * blocks 812 of 4425 (18%)". Fields may be NULL. Pure (for the unit tests).
 */
void progress_describe(const char *phase, const char *blocks_done, const char *blocks_total,
                       const char *tuples_done, const char *tuples_total, const char *bytes_done,
                       const char *bytes_total, struct buf *out);

#endif
