/*
 * snapshot.h: a compact, deterministic description of a database's schema, read from the
 * catalogs with one query of our own (no pg_dump on the host), and the difference of two.
 *
 * Every object is one item: a kind ("table", "column", "index", ...), a name unique within
 * its kind ("public.users.email"), and a definition text that changes when the object does
 * (type, nullability and default of a column; pg_get_indexdef of an index; grants that differ
 * from the owner's defaults; ...). Items come sorted by kind and name, byte order, so two
 * snapshots compare with one merge. System schemas, the sealift history schema and the
 * members of extensions are left out (an extension is one item of its own). What is covered,
 * and what is not, is listed in snapshot.c.
 */
#ifndef SEALIFT_APPLIER_SNAPSHOT_H
#define SEALIFT_APPLIER_SNAPSHOT_H

#include "db.h"

#include <stddef.h>

struct snapshot_item {
    char *kind;
    char *name;
    char *def;
};

struct snapshot {
    struct snapshot_item *items;
    size_t n;
};

void snapshot_init(struct snapshot *s);
void snapshot_release(struct snapshot *s);
/* Move src into dst (dst released first); src is left empty. */
void snapshot_move(struct snapshot *dst, struct snapshot *src);
/* Copy src into dst (dst released first). */
void snapshot_copy(struct snapshot *dst, const struct snapshot *src);

/*
 * Read the schema of the connected database, leaving out history_schema, with fixed output
 * settings (search_path, DateStyle), so that the text does not depend on what a migration set
 * in the session. in_tx: a transaction is open (the snapshot then sees its uncommitted changes
 * and runs in a savepoint); else it runs in a read-only transaction of its own. Returns 0, or
 * -1 with e filled.
 */
int snapshot_take(struct db *db, const char *history_schema, int in_tx, struct snapshot *s,
                  struct db_error *e);

/* Variants of a snapshot (or-ed): */
enum {
    /* A function's definition as pg_get_functiondef prints it, not its MD5: for a report that
     * shows what changed (schema drift), where test only compares. */
    SNAPSHOT_FULL_BODIES = 1,
    /*
     * Fail (SQLSTATE 55P03) instead of queueing behind a lock another session holds:
     * pg_get_indexdef and other catalog functions lock the relation they describe, and a
     * snapshot taken on a live database must not wait for a long transaction (nor, in a
     * move's transaction, hold the move's locks while it waits).
     */
    SNAPSHOT_NO_WAIT = 2,
};
/* How long SNAPSHOT_NO_WAIT waits for a lock, in ms (text, for SQL). */
#define SNAPSHOT_NO_WAIT_MS "20"
/* snapshot_take with flags. */
int snapshot_take_flags(struct db *db, const char *history_schema, int in_tx, unsigned flags,
                        struct snapshot *s, struct db_error *e);
/*
 * snapshot_take_flags without keeping the items: each is handed to item(data, kind, name, def)
 * in order as it arrives (the strings are valid only during the call), so that a caller that
 * only hashes or compresses them holds one at a time. An item() that returns nonzero stops the
 * snapshot (its transaction or savepoint is ended as on a failure) and snapshot_each returns
 * -1 with e as item() left it. Returns 0, or -1 with e filled.
 */
typedef int (*snapshot_item_cb)(void *data, const char *kind, const char *name, const char *def);
int snapshot_each(struct db *db, const char *history_schema, int in_tx, unsigned flags,
                  snapshot_item_cb item, void *data, struct db_error *e);

enum snapshot_change { SNAPSHOT_ADDED, SNAPSHOT_MISSING, SNAPSHOT_CHANGED };

struct snapshot_diff_item {
    enum snapshot_change change;
    const struct snapshot_item *before; /* NULL when added */
    const struct snapshot_item *after;  /* NULL when missing */
};

/* Points into the two snapshots it was made from: release it first. */
struct snapshot_diff {
    struct snapshot_diff_item *items;
    size_t n;
    size_t cap;
};

void snapshot_diff_init(struct snapshot_diff *d);
void snapshot_diff_release(struct snapshot_diff *d);
/*
 * What after has that before has not (added), what before has that after has not (missing),
 * and what both have with different definitions (changed), in kind and name order.
 */
void snapshot_diff(const struct snapshot *before, const struct snapshot *after,
                   struct snapshot_diff *d);

/*
 * Append the diff as a JSON array: [{"change","kind","name","before","after"}, ...], before
 * and after the definitions (null when missing or added). d may be NULL: [].
 */
void snapshot_diff_json(const struct snapshot_diff *d, struct buf *out);

/* "added", "missing", "changed". */
const char *snapshot_change_word(enum snapshot_change c);

#endif
