/*
 * test_applier_walk.c: unit tests for applier/walk.c: the order of the ops, and where each
 * transaction ends, for apply, rollback and stamp, one transaction or one per migration.
 * Layer: tests.
 */
#include "unit.h"

#include "walk.h"

/*
 * The trace of a walk, one token per op: B begin, C commit, S<i> start, X<i> script (V<i> its
 * verify script), N<i> no-transaction script, R<i> record, "R<i>+" when the walk says a
 * commit follows.
 */
static int
trace_begin(void *ctx)
{
    buf_addstr(ctx, " B");
    return 0;
}

static int
trace_commit(void *ctx)
{
    buf_addstr(ctx, " C");
    return 0;
}

static int
trace_start(void *ctx, size_t idx, int kind)
{
    (void)kind;
    buf_addf(ctx, " S%zu", idx);
    return 0;
}

static int
trace_script(void *ctx, size_t idx, int kind)
{
    buf_addf(ctx, " %c%zu", kind == MANIFEST_VERIFY ? 'V' : 'X', idx);
    return 0;
}

static int
trace_notx(void *ctx, size_t idx, int kind)
{
    (void)kind;
    buf_addf(ctx, " N%zu", idx);
    return 0;
}

static int
trace_record(void *ctx, size_t idx, enum walk_record what, int commit_next)
{
    (void)what;
    buf_addf(ctx, " R%zu%s", idx, commit_next ? "+" : "");
    return 0;
}

static const struct walk_ops trace_ops = {trace_begin,  trace_commit, trace_start,
                                          trace_script, trace_notx,   trace_record};

enum walk_kind { APPLY, ROLLBACK, STAMP };

/*
 * A chain described by a string, one character a migration: 't' transactional both ways,
 * 'n' no-transaction both ways, 'v' transactional with a verify script. After a '|', the
 * repeatables: 't' transactional, 'n' no-transaction (an up script only); they are steps
 * nmigrations + j.
 */
static void
chain(struct manifest *m, struct manifest_migration *migs, const char *shape)
{
    size_t n = strcspn(shape, "|");

    memset(m, 0, sizeof(*m));
    m->migrations = migs;
    m->nmigrations = n;
    m->repeatables = migs + n;
    m->nrepeatables = shape[n] ? strlen(shape + n + 1) : 0;
    for (size_t i = 0; i < n + m->nrepeatables; i++) {
        char c = i < n ? shape[i] : shape[i + 1];

        memset(&migs[i], 0, sizeof(migs[i]));
        for (int k = MANIFEST_UP; k <= MANIFEST_DOWN; k++) {
            migs[i].script[k].present = i < n || k == MANIFEST_UP;
            migs[i].script[k].transactional = c != 'n';
        }
        migs[i].script[MANIFEST_VERIFY].present = c == 'v';
        migs[i].script[MANIFEST_VERIFY].transactional = 1;
    }
}

/* The repeatables a case runs: "02" is repeatables 0 and 2 (into v). */
static struct walk_reps
reps_of(const char *list, size_t *v)
{
    struct walk_reps r = {v, 0};

    for (; list && *list; list++)
        v[r.n++] = (size_t)(*list - '0');
    return r;
}

/* Every record the walk says a commit follows is followed by one, and no other is. */
static void
assert_commit_next_is_true(const char *trace)
{
    for (const char *p = strstr(trace, " R"); p; p = strstr(p + 1, " R")) {
        const char *end = p + 2 + strspn(p + 2, "0123456789");
        int plus = *end == '+';
        int commits = strncmp(end + plus, " C", 2) == 0;

        if (plus != commits)
            fail_msg("in \"%s\": the record at \"%.8s\" says %s, but the walk %s", trace, p + 1,
                     plus ? "a commit follows" : "none does",
                     commits ? "commits next" : "does not");
    }
}

static void
test_applier_walk_ops_and_commit_points(void **state)
{
    static const struct {
        enum walk_kind kind;
        const char *shape;
        size_t from, to;
        int per_migration;
        const char *trace;
        const char *reps; /* the repeatables to run or record (reps_of), NULL: none */
    } cases[] = {
        /* apply: one transaction for the run, or one per migration */
        {APPLY, "ttt", 0, 3, 0, " B S0 X0 R0 S1 X1 R1 S2 X2 R2+ C", NULL},
        {APPLY, "ttt", 0, 3, 1, " B S0 X0 R0+ C B S1 X1 R1+ C B S2 X2 R2+ C", NULL},
        {APPLY, "ttt", 1, 3, 0, " B S1 X1 R1 S2 X2 R2+ C", NULL},
        {APPLY, "ttt", 2, 2, 0, "", NULL},
        /* a no-transaction migration ends the open transaction and records in its own */
        {APPLY, "tnt", 0, 3, 0, " B S0 X0 R0+ C S1 N1 B R1+ C B S2 X2 R2+ C", NULL},
        {APPLY, "tnt", 0, 3, 1, " B S0 X0 R0+ C S1 N1 B R1+ C B S2 X2 R2+ C", NULL},
        {APPLY, "ttnn", 0, 4, 0, " B S0 X0 R0 S1 X1 R1+ C S2 N2 B R2+ C S3 N3 B R3+ C", NULL},
        /* verify scripts run before the record, in the same transaction */
        {APPLY, "vt", 0, 2, 0, " B S0 X0 V0 R0 S1 X1 R1+ C", NULL},
        {APPLY, "tv", 0, 2, 1, " B S0 X0 R0+ C B S1 X1 V1 R1+ C", NULL},
        {APPLY, "n", 0, 1, 0, " S0 N0 B R0+ C", NULL},
        /* rollback: newest first */
        {ROLLBACK, "ttt", 3, 0, 0, " B S2 X2 R2 S1 X1 R1 S0 X0 R0+ C", NULL},
        {ROLLBACK, "ttt", 3, 0, 1, " B S2 X2 R2+ C B S1 X1 R1+ C B S0 X0 R0+ C", NULL},
        {ROLLBACK, "ttt", 3, 1, 0, " B S2 X2 R2 S1 X1 R1+ C", NULL},
        {ROLLBACK, "tnt", 3, 0, 0, " B S2 X2 R2+ C S1 N1 B R1+ C B S0 X0 R0+ C", NULL},
        {ROLLBACK, "ttt", 1, 1, 0, "", NULL},
        /* stamp: one transaction in either mode (runner's per_migration is not the walk's) */
        {STAMP, "ttt", 0, 3, 0, " B S0 R0 S1 R1 S2 R2+ C", NULL},
        {STAMP, "ttt", 0, 3, 1, " B S0 R0 S1 R1 S2 R2+ C", NULL},
        {STAMP, "tnt", 1, 3, 1, " B S1 R1 S2 R2+ C", NULL},
        {STAMP, "ttt", 3, 3, 0, "", NULL},
        /* stamp backwards: newest first, one transaction, nothing runs */
        {STAMP, "ttt", 3, 1, 0, " B S2 R2 S1 R1+ C", NULL},
        {STAMP, "tnt", 3, 0, 1, " B S2 R2 S1 R1 S0 R0+ C", NULL},
        /* repeatables after the chain, in the order given, in the same transaction mode */
        {APPLY, "tt|tt", 0, 2, 0, " B S0 X0 R0 S1 X1 R1 S2 X2 R2 S3 X3 R3+ C", "01"},
        {APPLY, "tt|tt", 0, 2, 1, " B S0 X0 R0+ C B S1 X1 R1+ C B S3 X3 R3+ C", "1"},
        /* only repeatables: the chain is at its head */
        {APPLY, "tt|ttt", 2, 2, 0, " B S2 X2 R2 S4 X4 R4+ C", "02"},
        {APPLY, "t|nt", 0, 1, 0, " B S0 X0 R0+ C S1 N1 B R1+ C B S2 X2 R2+ C", "01"},
        {APPLY, "t|t", 1, 1, 0, "", ""},
        /* a stamp records them in its one transaction; a rollback never runs them */
        {STAMP, "tt|tn", 1, 2, 0, " B S1 R1 S2 R2 S3 R3+ C", "01"},
        {STAMP, "tt|tn", 2, 2, 0, " B S3 R3+ C", "1"},
        {STAMP, "tt|t", 2, 1, 0, " B S1 R1+ C", "0"},
    };
    struct manifest_migration migs[8];
    struct manifest m;

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct buf trace = BUF_INIT;
        size_t v[8];
        struct walk_reps reps = reps_of(cases[i].reps, v);
        int ret;

        chain(&m, migs, cases[i].shape);
        if (cases[i].kind == APPLY)
            ret = walk_apply(&m, cases[i].from, cases[i].to, &reps, cases[i].per_migration,
                             &trace_ops, &trace);
        else if (cases[i].kind == ROLLBACK)
            ret = walk_rollback(&m, cases[i].from, cases[i].to, cases[i].per_migration, &trace_ops,
                                &trace);
        else
            ret = walk_stamp(&m, cases[i].from, cases[i].to, &reps, &trace_ops, &trace);
        assert_int_equal(ret, 0);
        if (strcmp(trace.data, cases[i].trace) != 0)
            fail_msg("case %zu (%s): got \"%s\", want \"%s\"", i, cases[i].shape, trace.data,
                     cases[i].trace);
        assert_commit_next_is_true(trace.data);
        buf_release(&trace);
    }
}

/* A step that fails stops the walk: nothing after it is called. */
static int
fail_on_second_record(void *ctx, size_t idx, enum walk_record what, int commit_next)
{
    trace_record(ctx, idx, what, commit_next);
    return idx == 1 ? -1 : 0;
}

static void
test_applier_walk_stops_at_a_failing_step(void **state)
{
    struct walk_ops ops = trace_ops;
    struct manifest_migration migs[3];
    struct manifest m;
    struct buf trace = BUF_INIT;

    (void)state;
    ops.record = fail_on_second_record;
    chain(&m, migs, "ttt");
    assert_int_equal(walk_apply(&m, 0, 3, NULL, 1, &ops, &trace), -1);
    assert_string_equal(trace.data, " B S0 X0 R0+ C B S1 X1 R1+");
    buf_release(&trace);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_applier_walk_ops_and_commit_points),
        cmocka_unit_test(test_applier_walk_stops_at_a_failing_step),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
