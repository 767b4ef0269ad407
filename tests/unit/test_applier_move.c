/*
 * test_applier_move.c: unit tests for applier/move.c's decision (move_decide), driven by a
 * table: a chain, what the database holds, a request -> the verdict, its exit code, where the
 * move goes, and its message. Also engine labels in caller storage.
 * Layer: tests. Pure: no database, no bundle file.
 */
#include "unit.h"

#include "move.h"
#include "sealift/xalloc.h"

/* A migration id "002" with a name "b": label "002_b". */
static const char *const names[] = {"a", "b", "c", "d", "e"};

struct move_case {
    const char *what;
    /* The bundle: one word per migration: "!" no down script, "~" no-transaction. */
    const char *chain;
    const char *bundle_env;
    unsigned bundle_serial;
    /* The database. */
    size_t napplied; /* the chain's first napplied are applied */
    size_t ahead;    /* and this many unknown ones after them ("9xx_zz") */
    int drift;
    const char *partial; /* NULL, "up", "down", or "up-changed" (not resumable) */
    const char *db_env;
    long long max_serial;
    size_t adopt_count;
    const char *adopt_problem;
    /* The request. */
    enum move_kind kind;
    const char *to;
    /* The verdict. */
    enum move_action action;
    int code;
    size_t from, to_idx;
    const char *message; /* substring of the message */
    const char *detail;  /* substring of the detail, or NULL */
};

/* One case a row (or two): what, chain, env, serial; the database; the request; the verdict. */
// clang-format off
static const struct move_case cases[] = {
    {"apply to the head", "001 002 003", NULL, 3, 0, 0, 0, NULL, NULL, 0, 0, NULL, MOVE_APPLY,
     NULL, MOVE_UP, 0, 0, 3, "", NULL},
    {"apply at the head", "001 002 003", NULL, 3, 3, 0, 0, NULL, NULL, 3, 0, NULL, MOVE_APPLY,
     NULL, MOVE_NOTHING, 0, 3, 3, "nothing to apply: the database is at 003_c", NULL},
    {"apply --to a middle revision", "001 002 003", NULL, 3, 0, 0, 0, NULL, NULL, 0, 0, NULL,
     MOVE_APPLY, "002_b", MOVE_UP, 0, 0, 2, "", NULL},
    {"apply --to an unknown revision", "001 002 003", NULL, 3, 0, 0, 0, NULL, NULL, 0, 0, NULL,
     MOVE_APPLY, "nope", MOVE_REFUSE, 2, 0, 0, "--to nope: the bundle has no such migration",
     NULL},
    {"apply on drift", "001 002 003", NULL, 3, 1, 0, 1, NULL, NULL, 0, 0, NULL, MOVE_APPLY, NULL,
     MOVE_REFUSE, 3, 1, 0, "does not match this bundle (drift); nothing was changed",
     "migration 002 was changed"},
    {"apply to another environment", "001 002 003", "prod", 3, 1, 0, 0, NULL, "staging", 0, 0,
     NULL, MOVE_APPLY, NULL, MOVE_REFUSE, 3, 1, 0,
     "this bundle is for environment \"prod\", but the database belongs to \"staging\"",
     "binds the database"},
    {"apply an older bundle", "001 002 003", NULL, 2, 1, 0, 0, NULL, NULL, 5, 0, NULL,
     MOVE_APPLY, NULL, MOVE_REFUSE, 3, 1, 3,
     "bundle serial 2 is older than serial 5, already applied to this database", NULL},
    {"an older bundle with nothing to apply", "001 002 003", NULL, 2, 3, 0, 0, NULL, NULL, 5, 0,
     NULL, MOVE_APPLY, NULL, MOVE_NOTHING, 0, 3, 3, "nothing to apply", NULL},
    {"apply with history ahead names the database's head", "001 002 003", NULL, 3, 3, 1, 0,
     NULL, NULL, 4, 0, NULL, MOVE_APPLY, NULL, MOVE_NOTHING, 0, 3, 3,
     "nothing to apply: the database is at 900_zz, ahead of this bundle (its head is 003_c)",
     NULL},
    {"apply after a rollback stopped", "001 002~ 003", NULL, 3, 2, 0, 0, "down", NULL, 0, 0,
     NULL, MOVE_APPLY, NULL, MOVE_REFUSE, 3, 2, 3,
     "a rollback of 002 stopped after 1 of 2 statements; finish it with \"sealift-apply "
     "rollback\" first",
     NULL},
    {"apply over changed statements", "001 002~ 003", NULL, 3, 1, 0, 0, "up-changed", NULL, 0,
     0, NULL, MOVE_APPLY, NULL, MOVE_REFUSE, 3, 1, 3,
     "this bundle's version of those statements differs from what ran", NULL},
    {"apply resumes an unfinished migration", "001 002~ 003", NULL, 3, 1, 0, 0, "up", NULL, 0, 0,
     NULL, MOVE_APPLY, NULL, MOVE_UP, 0, 1, 3, "", NULL},
    /* The static label printed 001_a twice: "cannot roll back to 001_a: migration 001_a". */
    {"rollback names the irreversible migration", "001 002! 003", NULL, 3, 3, 0, 0, NULL, NULL,
     3, 0, NULL, MOVE_ROLLBACK, "001", MOVE_REFUSE, 3, 3, 1,
     "cannot roll back to 001_a: migration 002_b is irreversible (it has no down script)", NULL},
    {"rollback down to the irreversible one", "001 002! 003", NULL, 3, 3, 0, 0, NULL, NULL, 3,
     0, NULL, MOVE_ROLLBACK, "002_b", MOVE_DOWN, 0, 3, 2, "", NULL},
    {"rollback to a revision ahead of the database", "001 002 003", NULL, 3, 1, 0, 0, NULL,
     NULL, 1, 0, NULL, MOVE_ROLLBACK, "003", MOVE_REFUSE, 3, 1, 3,
     "cannot roll back to 003_c: 003_c is ahead of the database, which is at 001_a", NULL},
    {"rollback to where the database is", "001 002 003", NULL, 3, 1, 0, 0, NULL, NULL, 1, 0,
     NULL, MOVE_ROLLBACK, "001_a", MOVE_NOTHING, 0, 1, 1,
     "nothing to roll back: the database is at 001_a", NULL},
    {"rollback with history ahead", "001 002 003", NULL, 3, 3, 2, 0, NULL, NULL, 4, 0, NULL,
     MOVE_ROLLBACK, "base", MOVE_REFUSE, 3, 3, 0,
     "the database has migrations after this bundle's head; roll back with the bundle",
     "the database is at 901_zz; this bundle's head is 003_c"},
    {"rollback over an unfinished up", "001 002~ 003", NULL, 3, 1, 0, 0, "up", NULL, 0, 0, NULL,
     MOVE_ROLLBACK, "base", MOVE_REFUSE, 3, 1, 0,
     "no-transaction migration 002 stopped after 1 of 2 statements; finish it with "
     "\"sealift-apply apply\" before rolling back",
     NULL},
    {"rollback resumes an unfinished down", "001 002~ 003", NULL, 3, 2, 0, 0, "down", NULL, 0, 0,
     NULL, MOVE_ROLLBACK, "base", MOVE_DOWN, 0, 2, 0, "", NULL},
    {"stamp forward", "001 002 003", NULL, 3, 0, 0, 0, NULL, NULL, 0, 0, NULL, MOVE_STAMP, "002",
     MOVE_RECORD, 0, 0, 2, "", NULL},
    {"stamp backwards", "001 002 003", NULL, 3, 2, 0, 0, NULL, NULL, 0, 0, NULL, MOVE_STAMP,
     "001", MOVE_UNRECORD, 0, 2, 1, "", NULL},
    {"stamp backwards to base", "001 002 003", NULL, 3, 3, 0, 0, NULL, NULL, 3, 0, NULL,
     MOVE_STAMP, "base", MOVE_UNRECORD, 0, 3, 0, "", NULL},
    /* No down script runs: an irreversible migration does not stop a stamp. */
    {"stamp backwards over an irreversible migration", "001 002! 003", NULL, 3, 3, 0, 0, NULL,
     NULL, 3, 0, NULL, MOVE_STAMP, "001", MOVE_UNRECORD, 0, 3, 1, "", NULL},
    {"stamp backwards with history ahead", "001 002 003", NULL, 3, 3, 1, 0, NULL, NULL, 4, 0,
     NULL, MOVE_STAMP, "001", MOVE_REFUSE, 3, 3, 1,
     "the database has migrations after this bundle's head", "the database is at 900_zz"},
    {"stamp backwards on drift", "001 002 003", NULL, 3, 2, 0, 1, NULL, NULL, 0, 0, NULL,
     MOVE_STAMP, "001", MOVE_REFUSE, 3, 2, 0, "does not match this bundle (drift)", NULL},
    {"stamp backwards in another environment", "001 002 003", "prod", 3, 2, 0, 0, NULL,
     "staging", 0, 0, NULL, MOVE_STAMP, "001", MOVE_REFUSE, 3, 2, 0,
     "but the database belongs to \"staging\"", NULL},
    {"stamp backwards over an unfinished migration", "001 002~ 003", NULL, 3, 1, 0, 0, "up",
     NULL, 0, 0, NULL, MOVE_STAMP, "base", MOVE_REFUSE, 3, 1, 0,
     "no-transaction migration 002 is unfinished; finish it before stamping", NULL},
    {"stamp where the database is", "001 002 003", NULL, 3, 2, 0, 0, NULL, NULL, 0, 0, NULL,
     MOVE_STAMP, "002", MOVE_NOTHING, 0, 2, 2, "nothing to stamp: the database is at 002_b",
     NULL},
    {"stamp an unknown revision", "001 002 003", NULL, 3, 0, 0, 0, NULL, NULL, 0, 0, NULL,
     MOVE_STAMP, "nope", MOVE_REFUSE, 2, 0, 0, "nope: the bundle has no such migration", NULL},
    {"stamp over an unfinished migration", "001 002~ 003", NULL, 3, 1, 0, 0, "up", NULL, 0, 0,
     NULL, MOVE_STAMP, "003", MOVE_REFUSE, 3, 1, 3,
     "no-transaction migration 002 is unfinished; finish it before stamping", NULL},
    {"stamp an older bundle", "001 002 003", NULL, 1, 0, 0, 0, NULL, NULL, 2, 0, NULL,
     MOVE_STAMP, "001", MOVE_REFUSE, 3, 0, 1, "bundle serial 1 is older than serial 2", NULL},
    {"plan a rollback across an irreversible migration", "001 002! 003", NULL, 3, 3, 0, 0, NULL,
     NULL, 3, 0, NULL, MOVE_PLAN, "001", MOVE_REFUSE, 3, 3, 1,
     "cannot roll back to 001_a: migration 002_b is irreversible", NULL},
    {"plan a rollback", "001 002 003", NULL, 3, 2, 0, 0, NULL, NULL, 3, 0, NULL, MOVE_PLAN,
     "base", MOVE_DOWN, 0, 2, 0, "", NULL},
    {"plan forward", "001 002 003", NULL, 3, 1, 0, 0, NULL, NULL, 3, 0, NULL, MOVE_PLAN, NULL,
     MOVE_UP, 0, 1, 3, "", NULL},
    {"plan at the head", "001 002 003", NULL, 3, 3, 0, 0, NULL, NULL, 3, 0, NULL, MOVE_PLAN,
     NULL, MOVE_NOTHING, 0, 3, 3, "", NULL},
    {"another tool's history that cannot be adopted", "001 002 003", NULL, 3, 0, 0, 0, NULL,
     NULL, 0, 0, "it records 9, which this bundle does not know", MOVE_APPLY, NULL, MOVE_REFUSE,
     3, 0, 0, "cannot take over from flyway: it records 9, which this bundle does not know",
     NULL},
    {"another tool's history is adopted, then applied on", "001 002 003", NULL, 3, 0, 0, 0,
     NULL, NULL, 0, 2, NULL, MOVE_APPLY, NULL, MOVE_UP, 0, 2, 3, "", NULL},
    {"another tool's history is adopted, then rolled back", "001 002 003", NULL, 3, 0, 0, 0,
     NULL, NULL, 0, 2, NULL, MOVE_ROLLBACK, "001", MOVE_DOWN, 0, 2, 1, "", NULL},
};
// clang-format on

/* Everything a case's state points into. */
struct fixture {
    struct manifest m;
    struct engine_view view;
    struct db_state db;
    struct adopt_result adopt;
    struct applied_row rows[8];
    struct progress_row progress;
    char ids[8][8];
};

static void
fixture_build(struct fixture *f, const struct move_case *c)
{
    char chain[64];
    size_t n = 0;

    memset(f, 0, sizeof(*f));
    manifest_init(&f->m);
    engine_view_init(&f->view);
    db_state_init(&f->db);
    adopt_result_init(&f->adopt);
    f->m.serial = c->bundle_serial;
    f->m.environment = c->bundle_env ? strdup(c->bundle_env) : NULL;
    snprintf(chain, sizeof(chain), "%s", c->chain);
    for (char *w = strtok(chain, " "); w; w = strtok(NULL, " "), n++) {
        struct manifest_migration *mig;
        int notx = strchr(w, '~') != NULL, irreversible = strchr(w, '!') != NULL;

        w[strcspn(w, "!~")] = '\0';
        mig = manifest_add_migration(&f->m, w, names[n]);
        mig->script[MANIFEST_UP].present = 1;
        mig->script[MANIFEST_UP].transactional = !notx;
        mig->script[MANIFEST_DOWN].present = !irreversible;
        mig->script[MANIFEST_DOWN].transactional = !notx;
    }
    /* The history: the chain's first napplied, then the unknown ones. */
    for (size_t i = 0; i < c->napplied + c->ahead; i++) {
        if (i < c->napplied)
            snprintf(f->ids[i], sizeof(f->ids[i]), "%s", f->m.migrations[i].id);
        else
            snprintf(f->ids[i], sizeof(f->ids[i]), "%zu", 900 + i - c->napplied);
        f->rows[i].ordinal = (long)i + 1;
        f->rows[i].id = f->ids[i];
        f->rows[i].name = (char *)(i < c->napplied ? names[i] : "zz");
    }
    f->db.applied = f->rows;
    f->db.napplied = c->napplied + c->ahead;
    f->db.environment = (char *)c->db_env;
    f->db.max_serial = c->max_serial;
    f->view.napplied = c->napplied;
    f->view.ahead = c->ahead;
    f->view.nrecorded = c->napplied;
    if (c->drift) {
        f->view.drift = 1;
        buf_addstr(&f->view.problems, "migration 002 was changed\n");
    }
    if (c->partial) {
        int up = strncmp(c->partial, "up", 2) == 0;

        f->view.partial_index = up ? c->napplied : c->napplied - 1;
        f->progress.id = f->m.migrations[f->view.partial_index].id;
        f->progress.direction = up ? "up" : "down";
        f->progress.done = 1;
        f->progress.total = 2;
        f->view.partial = &f->progress;
        f->view.partial_resumable = strcmp(c->partial, "up-changed") != 0;
    }
    if (c->adopt_count || c->adopt_problem) {
        f->adopt.found = 1;
        f->adopt.tool = "flyway";
        f->adopt.count = c->adopt_count;
        if (c->adopt_problem)
            buf_addstr(&f->adopt.problem, c->adopt_problem);
    }
}

static void
fixture_release(struct fixture *f)
{
    f->db.applied = NULL; /* the rows are the fixture's own */
    f->db.napplied = 0;
    f->db.environment = NULL;
    db_state_release(&f->db);
    engine_view_release(&f->view);
    adopt_result_release(&f->adopt);
    manifest_release(&f->m);
}

static void
test_applier_move_decides_from_the_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct move_case *c = &cases[i];
        struct move_request rq = {c->kind, c->to, c->kind == MOVE_STAMP ? "" : NULL};
        struct fixture f;
        struct move_state st;
        struct move_verdict v;
        int code;

        fixture_build(&f, c);
        st.m = &f.m;
        st.view = &f.view;
        st.db = &f.db;
        st.adopt = c->kind == MOVE_STAMP ? NULL : &f.adopt;
        code = move_decide(&st, &rq, &v);
        if (v.action != c->action || code != c->code || v.code != c->code || v.from != c->from ||
            v.to != c->to_idx || strstr(v.message, c->message) == NULL ||
            (c->detail && strstr(v.detail, c->detail) == NULL))
            fail_msg("case \"%s\": action %d code %d from %zu to %zu\n  message: %s\n  detail: %s",
                     c->what, (int)v.action, v.code, v.from, v.to, v.message, v.detail);
        fixture_release(&f);
    }
}

/*
 * Flyway's repeatables with the adoption: those adopted are no step of the move, those it
 * leaves pending are; a stamp (which adopts nothing) takes the view's.
 */
static void
test_applier_move_adopted_repeatables_do_not_run(void **state)
{
    static const struct move_case base = {
        .what = "adopt", .chain = "001 002 003", .bundle_serial = 3, .adopt_count = 3};
    /* adopted repeatables (of 2, both pending in sealift's view), and the verdict */
    static const struct {
        size_t nadopt;
        size_t count;
        enum move_kind kind;
        enum move_action action;
        size_t nreps, from;
    } rows[] = {
        {1, 3, MOVE_APPLY, MOVE_UP, 1, 3},      /* one changed since Flyway ran it */
        {2, 3, MOVE_APPLY, MOVE_NOTHING, 0, 3}, /* both as Flyway ran them */
        {1, 0, MOVE_APPLY, MOVE_UP, 1, 0},      /* no versioned row, a repeatable one */
        {2, 3, MOVE_PLAN, MOVE_NOTHING, 0, 3},  /* plan decides as apply */
        {1, 3, MOVE_STAMP, MOVE_RECORD, 2, 0},  /* stamp adopts nothing */
    };

    (void)state;
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        struct move_request rq = {rows[i].kind, rows[i].kind == MOVE_STAMP ? "003_c" : NULL,
                                  rows[i].kind == MOVE_STAMP ? "" : NULL};
        struct move_case c = base;
        struct fixture f;
        struct move_state st;
        struct move_verdict v;

        c.adopt_count = rows[i].count;
        fixture_build(&f, &c);
        f.adopt.found = 1;
        manifest_add_repeatable(&f.m, "functions");
        manifest_add_repeatable(&f.m, "views");
        f.view.reps = xcalloc(2, sizeof(*f.view.reps));
        f.view.reps[0] = 0;
        f.view.reps[1] = 1;
        f.view.nreps = 2;
        f.adopt.reps = xcalloc(2, sizeof(*f.adopt.reps));
        f.adopt.pending_reps = xcalloc(2, sizeof(*f.adopt.pending_reps));
        for (size_t j = 0; j < 2; j++)
            if (j < rows[i].nadopt)
                f.adopt.reps[f.adopt.nreps++] = j;
            else
                f.adopt.pending_reps[f.adopt.npending_reps++] = j;
        st.m = &f.m;
        st.view = &f.view;
        st.db = &f.db;
        st.adopt = rows[i].kind == MOVE_STAMP ? NULL : &f.adopt;
        move_decide(&st, &rq, &v);
        if (v.action != rows[i].action || v.nreps != rows[i].nreps || v.from != rows[i].from ||
            move_adopts(&v) != (rows[i].kind != MOVE_STAMP) ||
            v.adopt_reps != (rows[i].kind != MOVE_STAMP ? rows[i].nadopt : 0))
            fail_msg("case %zu: action %d nreps %zu from %zu adopt %zu adopt_reps %zu (%s)", i,
                     (int)v.action, v.nreps, v.from, v.adopt, v.adopt_reps, v.message);
        fixture_release(&f);
    }
}

static void
test_applier_move_status_code_follows_apply(void **state)
{
    struct move_verdict v;

    (void)state;
    memset(&v, 0, sizeof(v));
    v.action = MOVE_NOTHING;
    assert_int_equal(move_status_code(&v), EXIT_OK);
    v.ahead = 1; /* apply has nothing to do, but the history has what this bundle does not know */
    assert_int_equal(move_status_code(&v), EXIT_STATE);
    v.ahead = 0;
    v.action = MOVE_UP;
    assert_int_equal(move_status_code(&v), EXIT_PENDING);
    v.action = MOVE_REFUSE;
    v.code = EXIT_STATE;
    v.state = "drift";
    assert_int_equal(move_status_code(&v), EXIT_STATE);
    v.state = "pending"; /* an unfinished rollback: work pending, not a refused state */
    assert_int_equal(move_status_code(&v), EXIT_PENDING);
}

static void
test_applier_move_long_messages_say_they_were_cut(void **state)
{
    static const struct move_case drift = {
        .what = "drift", .chain = "001 002 003", .bundle_serial = 3, .napplied = 1, .drift = 1};
    struct move_request rq = {MOVE_APPLY, NULL, NULL};
    struct fixture f;
    struct move_state st;
    struct move_verdict v;

    (void)state;
    fixture_build(&f, &drift);
    buf_reset(&f.view.problems);
    for (int i = 0; i < 200; i++)
        buf_addf(&f.view.problems, "migration %03d was applied with another checksum\n", i);
    st.m = &f.m;
    st.view = &f.view;
    st.db = &f.db;
    st.adopt = NULL;
    assert_int_equal(move_decide(&st, &rq, &v), EXIT_STATE);
    assert_true(strlen(v.detail) < sizeof(v.detail));
    assert_contains(v.detail, "migration 000 was applied");
    assert_contains(v.detail, "[...]");
    fixture_release(&f);
}

static void
test_applier_engine_labels_are_the_callers(void **state)
{
    struct fixture f;
    char line[2 * ENGINE_LABEL_MAX + 8];
    struct engine_label kept;

    (void)state;
    fixture_build(&f, &cases[0]);
    /* Two labels in one call are two labels (a static buffer printed the last one twice). */
    snprintf(line, sizeof(line), "%s -> %s", engine_label(&f.m, 1).s, engine_label(&f.m, 3).s);
    assert_string_equal(line, "001_a -> 003_c");
    assert_string_equal(engine_label_into(&f.m, 2, &kept), "002_b");
    assert_string_equal(engine_label(&f.m, 0).s, "base");
    assert_string_equal(kept.s, "002_b");
    fixture_release(&f);
}

/* Sqitch's --to names: a chain as the Sqitch reader writes it (origins with tags). */
static void
test_applier_engine_resolves_sqitch_tags(void **state)
{
    /* id, tags between the change id and the script hash */
    static const char *const chain[][2] = {
        {"users", ""}, {"fn@v1.0", "@v1.0"}, {"orders", ""}, {"users2", "@v1.1 @v1.2"}, {"fn", ""},
    };
    static const struct {
        const char *rev;
        long want;
    } revs[] = {
        {"@v1.0", 2},       {"@v1.1", 4},        {"@v1.2", 4},  {"users@v1.1", 1},
        {"fn@v1.0", 2}, /* the id of the reworked change's first instance */
        {"fn@v1.2", 2}, /* fn as of v1.2 is still its first instance */
        {"orders@v1.2", 3}, {"orders@v1.0", -1}, /* not planned yet at v1.0 */
        {"@HEAD", 5},       {"@ROOT", 1},        {"@nope", -1}, {"fn", 5},
        {"users@", -1},     {"a@b@c", -1},       {"base", 0},   {"head", 5},
    };
    struct manifest m;
    (void)state;

    manifest_init(&m);
    for (size_t i = 0; i < sizeof(chain) / sizeof(chain[0]); i++) {
        struct manifest_migration *mig = manifest_add_migration(&m, chain[i][0], "");

        mig->origin =
            xasprintf("%040zx%s%s %040zx", i + 1, chain[i][1][0] ? " " : "", chain[i][1], i + 100);
    }
    for (size_t i = 0; i < sizeof(revs) / sizeof(revs[0]); i++) {
        long got = engine_resolve_target(&m, revs[i].rev);

        if (got != revs[i].want)
            fail_msg("%s: %ld, want %ld", revs[i].rev, got, revs[i].want);
    }
    /* Not a Sqitch bundle (an origin without a change id): no tags at all. */
    for (size_t i = 0; i < m.nmigrations; i++) {
        free(m.migrations[i].origin);
        m.migrations[i].origin = xstrdup("V1 @v1.0 12345");
    }
    assert_int_equal(engine_resolve_target(&m, "@v1.0"), -1);
    manifest_release(&m);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_applier_move_decides_from_the_table),
        cmocka_unit_test(test_applier_move_adopted_repeatables_do_not_run),
        cmocka_unit_test(test_applier_move_status_code_follows_apply),
        cmocka_unit_test(test_applier_move_long_messages_say_they_were_cut),
        cmocka_unit_test(test_applier_engine_labels_are_the_callers),
        cmocka_unit_test(test_applier_engine_resolves_sqitch_tags),
    };

    return cmocka_run_group_tests_name("applier_move", tests, NULL, NULL);
}
