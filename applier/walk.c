/*
 * walk.c: order of operations and transaction boundaries for apply, rollback and stamp.
 * Layer: applier. Pure: every effect goes through the walk_ops of the caller.
 */
#include "walk.h"

/* Does the migration after i in this direction run in a transaction? */
static int
next_transactional(const struct manifest *m, size_t i, int kind)
{
    size_t next = kind == MANIFEST_UP ? i + 1 : i - 1;

    return m->migrations[next].script[kind].transactional;
}

/* One direction's walk: kind is MANIFEST_UP or MANIFEST_DOWN. */
static int
walk(const struct manifest *m, size_t first, size_t n, int kind, enum walk_record what,
     int per_migration, const struct walk_ops *ops, void *ctx)
{
    int in_tx = 0;

    for (size_t j = 0; j < n; j++) {
        /* Up walks forward from first; down walks backward from first. */
        size_t i = kind == MANIFEST_UP ? first + j : first - j;
        const struct manifest_script *s = &m->migrations[i].script[kind];
        int has_verify = kind == MANIFEST_UP && m->migrations[i].script[MANIFEST_VERIFY].present;
        /* A transaction ends after this one: per migration, or before a no-transaction one. */
        int last = per_migration || j + 1 == n || !next_transactional(m, i, kind);

        if (!s->transactional) {
            /* The open transaction, if any, was committed after the previous migration. */
            if (ops->start(ctx, i, kind) != 0 || ops->notx(ctx, i, kind) != 0)
                return -1;
            /* Its verify script and its history commit together, after the statements. */
            if (ops->begin(ctx) != 0 || (has_verify && ops->script(ctx, i, MANIFEST_VERIFY) != 0) ||
                ops->record(ctx, i, what, 1) != 0 || ops->commit(ctx) != 0)
                return -1;
            continue;
        }
        if (!in_tx) {
            if (ops->begin(ctx) != 0)
                return -1;
            in_tx = 1;
        }
        if (ops->start(ctx, i, kind) != 0 || ops->script(ctx, i, kind) != 0 ||
            (has_verify && ops->script(ctx, i, MANIFEST_VERIFY) != 0) ||
            ops->record(ctx, i, what, last) != 0)
            return -1;
        if (last) {
            if (ops->commit(ctx) != 0)
                return -1;
            in_tx = 0;
        }
    }
    return 0;
}

int
walk_apply(const struct manifest *m, size_t from, size_t to, int per_migration,
           const struct walk_ops *ops, void *ctx)
{
    size_t n = to > from ? to - from : 0;

    return walk(m, from, n, MANIFEST_UP, WALK_APPLY, per_migration, ops, ctx);
}

int
walk_rollback(const struct manifest *m, size_t napplied, size_t to, int per_migration,
              const struct walk_ops *ops, void *ctx)
{
    size_t n = napplied > to ? napplied - to : 0;

    if (n == 0)
        return 0;
    return walk(m, napplied - 1, n, MANIFEST_DOWN, WALK_ROLLBACK, per_migration, ops, ctx);
}

int
walk_stamp(size_t from, size_t to, const struct walk_ops *ops, void *ctx)
{
    if (to == from)
        return 0;
    if (ops->begin(ctx) != 0)
        return -1;
    for (size_t i = from; i < to; i++)
        if (ops->start(ctx, i, MANIFEST_UP) != 0 ||
            ops->record(ctx, i, WALK_STAMP, i + 1 == to) != 0)
            return -1;
    /* Backwards: newest first, as a rollback would go. */
    for (size_t i = from; i > to; i--)
        if (ops->start(ctx, i - 1, MANIFEST_DOWN) != 0 ||
            ops->record(ctx, i - 1, WALK_UNSTAMP, i - 1 == to) != 0)
            return -1;
    return ops->commit(ctx);
}
