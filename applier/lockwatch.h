/*
 * lockwatch.h: while a migration statement waits for a lock, say who blocks it, once a
 * second: a line such as
 *   waiting 3.0 s for ACCESS EXCLUSIVE on shop.orders: held by pid 7178 (user alice,
 *   application "dba_console", 10.0.0.5, idle in transaction for 4 min: "LOCK TABLE ...")
 * or with --json a "lock_wait" event with a "blockers" array. The watcher looks from a second
 * connection (pg_locks, pg_blocking_pids, pg_stat_activity), opened at the first look and kept
 * to the end: with the runner's, at most two connections. A role that may not see other
 * roles' sessions (pg_read_all_stats) gets what it can see and, once, a line saying why the
 * rest is hidden.
 */
#ifndef SEALIFT_APPLIER_LOCKWATCH_H
#define SEALIFT_APPLIER_LOCKWATCH_H

#include "db.h"
#include "out.h"

#include <stddef.h>

struct lockwatch;

/*
 * Watch db's waits (installs db's wait callback); out receives the lines. lock_timeout_ms > 0
 * makes the first look come at half of it (at most 1 s), so that a wait the timeout ends is
 * still seen and its relation known. Both pointers are borrowed.
 */
struct lockwatch *lockwatch_new(struct db *db, struct out *out, long lock_timeout_ms);
/* Stop watching (removes the callback) and close the second connection. NULL is fine. */
void lockwatch_free(struct lockwatch *w);

/*
 * Another watcher of the same statements (progress.h), on the same second connection: on each
 * look, after the lock check, cb(data, twin, pid, lock_wait) with the runner's backend pid and
 * whether a lock wait was seen. first_ms: a first look that early (if sooner than the lock
 * watcher's own). The twin is opened at the first look, as for lock waits.
 */
typedef void (*lockwatch_look_cb)(void *data, struct db *twin, int pid, int lock_wait);
void lockwatch_also(struct lockwatch *w, lockwatch_look_cb cb, void *data, long first_ms);

/* The migration whose statements run now (its id, for JSON; borrowed). */
void lockwatch_migration(struct lockwatch *w, const char *id);
/* The relation of the last lock wait seen since lockwatch_forget ("" if none). */
const char *lockwatch_relation(const struct lockwatch *w);
void lockwatch_forget(struct lockwatch *w);

/* pg_locks' mode as LOCK TABLE spells it: "AccessExclusiveLock" -> "ACCESS EXCLUSIVE". */
void lockwatch_mode_name(const char *mode, char *out, size_t cap);
/* A duration for people: "12 s", "4 min", "2.5 h". */
void lockwatch_age(double secs, char *out, size_t cap);

#endif
