/*
 * walk.c: order of operations and transaction boundaries for apply, rollback and stamp.
 * Layer: applier. Pure: every effect goes through the walk_ops of the caller.
 */
#include "walk.h"

const struct manifest_migration *
walk_migration(const struct manifest *m, size_t idx)
{
    return idx < m->nmigrations ? &m->migrations[idx] : &m->repeatables[idx - m->nmigrations];
}

int
walk_is_repeatable(const struct manifest *m, size_t idx)
{
    return idx >= m->nmigrations;
}

/* The steps of one walk: n migrations from first (up: forward, down: backward), then reps. */
struct steps {
    const struct manifest *m;
    size_t first;
    size_t n;
    int kind;
    const struct walk_reps *reps;
};

static size_t
steps_count(const struct steps *s)
{
    return s->n + (s->reps ? s->reps->n : 0);
}

/* The idx of step j. */
static size_t
steps_at(const struct steps *s, size_t j)
{
    if (j >= s->n)
        return s->m->nmigrations + s->reps->v[j - s->n];
    return s->kind == MANIFEST_UP ? s->first + j : s->first - j;
}

/* One direction's walk: kind is MANIFEST_UP or MANIFEST_DOWN. */
static int
walk(const struct steps *st, enum walk_record what, int per_migration, const struct walk_ops *ops,
     void *ctx)
{
    const struct manifest *m = st->m;
    int kind = st->kind, in_tx = 0;
    size_t n = steps_count(st);

    for (size_t j = 0; j < n; j++) {
        size_t i = steps_at(st, j);
        const struct manifest_migration *mig = walk_migration(m, i);
        const struct manifest_script *s = &mig->script[kind];
        int has_verify = kind == MANIFEST_UP && mig->script[MANIFEST_VERIFY].present;
        /* A transaction ends after this one: per migration, or before a no-transaction one. */
        int last = per_migration || j + 1 == n ||
                   !walk_migration(m, steps_at(st, j + 1))->script[kind].transactional;

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
walk_apply(const struct manifest *m, size_t from, size_t to, const struct walk_reps *reps,
           int per_migration, const struct walk_ops *ops, void *ctx)
{
    struct steps st = {m, from, to > from ? to - from : 0, MANIFEST_UP, reps};

    return walk(&st, WALK_APPLY, per_migration, ops, ctx);
}

int
walk_rollback(const struct manifest *m, size_t napplied, size_t to, int per_migration,
              const struct walk_ops *ops, void *ctx)
{
    struct steps st = {m, napplied > 0 ? napplied - 1 : 0, napplied > to ? napplied - to : 0,
                       MANIFEST_DOWN, NULL};

    return walk(&st, WALK_ROLLBACK, per_migration, ops, ctx);
}

int
walk_stamp(const struct manifest *m, size_t from, size_t to, const struct walk_reps *reps,
           const struct walk_ops *ops, void *ctx)
{
    size_t nreps = reps && to >= from ? reps->n : 0;

    if (to == from && nreps == 0)
        return 0;
    if (ops->begin(ctx) != 0)
        return -1;
    for (size_t i = from; i < to; i++)
        if (ops->start(ctx, i, MANIFEST_UP) != 0 ||
            ops->record(ctx, i, WALK_STAMP, i + 1 == to && nreps == 0) != 0)
            return -1;
    for (size_t j = 0; j < nreps; j++) {
        size_t i = m->nmigrations + reps->v[j];

        if (ops->start(ctx, i, MANIFEST_UP) != 0 ||
            ops->record(ctx, i, WALK_STAMP, j + 1 == nreps) != 0)
            return -1;
    }
    /* Backwards: newest first, as a rollback would go. */
    for (size_t i = from; i > to; i--)
        if (ops->start(ctx, i - 1, MANIFEST_DOWN) != 0 ||
            ops->record(ctx, i - 1, WALK_UNSTAMP, i - 1 == to) != 0)
            return -1;
    return ops->commit(ctx);
}
