/*
 * test_applier_failure.c: unit tests for applier/failure.c: where a failure is placed in the
 * bundle (file, line, column; a row of COPY data) and the JSON, report and journal texts the
 * runner and test both use.
 * Layer: tests.
 */
#include "unit.h"

#include "failure.h"
#include "sealift/json.h"

/*
 * One migration whose up script is SCRIPT: statement 0 "CREATE TABLE t (id int);" on line 1,
 * statement 1 "\n-- a comment\n  SELECT x FROM y;" (lines 2-3), statement 2 a COPY on line 4
 * with two inline data lines after it, and statement 3 a COPY from the data member "t.csv".
 */
static const char script[] = "CREATE TABLE t (id int);\n"
                             "-- a comment\n"
                             "  SELECT x FROM y;\n"
                             "COPY t FROM STDIN;\n"
                             "1\n"
                             "x\n"
                             "\\.\n"
                             "COPY t FROM STDIN;\n";

struct fixture {
    struct manifest m;
    struct manifest_migration mig;
    struct manifest_member members[2];
    struct manifest_stmt stmts[4];
    struct manifest_copy copies[2];
    struct buf data[2];
    struct failure f;
};

static void
fixture_init(struct fixture *x)
{
    const char *s1 = strstr(script, "\n-- a");
    const char *s2 = strstr(script, "COPY");
    const char *s3 = strstr(s2 + 1, "COPY");
    struct manifest_script *up;

    memset(x, 0, sizeof(*x));
    x->members[0].path = "migrations/000001_001_t/up.sql";
    x->members[1].path = "migrations/000001_001_t/t.csv";
    x->members[0].size = sizeof(script) - 1;
    x->stmts[0] = (struct manifest_stmt){0, (uint64_t)(s1 - script)};
    x->stmts[1] = (struct manifest_stmt){(uint64_t)(s1 - script), (uint64_t)(s2 - s1)};
    x->stmts[2] = (struct manifest_stmt){(uint64_t)(s2 - script), 18};
    x->stmts[3] = (struct manifest_stmt){(uint64_t)(s3 - script), 18};
    x->copies[0].stmt = 2;
    x->copies[0].inline_data = 1;
    x->copies[0].offset = (uint64_t)(s2 - script) + 19;
    x->copies[0].length = 4;
    x->copies[1].stmt = 3;
    x->copies[1].member = 1;
    up = &x->mig.script[MANIFEST_UP];
    up->present = 1;
    up->transactional = 1;
    up->member = 0;
    up->stmts = x->stmts;
    up->nstmts = 4;
    up->copies = x->copies;
    up->ncopies = 2;
    x->mig.id = "001";
    x->mig.name = "t";
    x->m.migrations = &x->mig;
    x->m.nmigrations = 1;
    x->m.members = x->members;
    x->m.nmembers = 2;
    buf_init(&x->data[0]);
    buf_init(&x->data[1]);
    buf_addstr(&x->data[0], script);
    x->f.m = &x->m;
    /* The script is kept (as verification keeps a small one): nothing is read from a file. */
    x->f.scripts = script_src_new("unused.sealift", &x->m, x->data);
    x->f.kind = MANIFEST_UP;
    x->f.stmt = -1;
}

static void
fixture_release(struct fixture *x)
{
    script_src_free(x->f.scripts);
    buf_release(&x->data[0]);
    buf_release(&x->data[1]);
}

static void
test_applier_failure_locate(void **state)
{
    static const struct {
        long stmt;
        int position; /* the server's, 1-based in the statement */
        const char *context;
        int binary;
        unsigned long line, column;
        int copy_row;
        const char *file;
    } cases[] = {
        /* the server's position inside the failing statement */
        {0, 14, "", 0, 1, 14, FAILURE_NOT_COPY, "up.sql"},
        {1, 24, "", 0, 3, 10, FAILURE_NOT_COPY, "up.sql"},
        /* no position: where the statement starts, after blanks and comments' lines */
        {1, 0, "", 0, 3, 3, FAILURE_NOT_COPY, "up.sql"},
        /* a row of COPY data: inline (the script's line), from a member, binary */
        {2, 0, "COPY t, line 2, column id: \"x\"", 0, 6, 0, FAILURE_COPY_INLINE, "up.sql"},
        {3, 0, "COPY t, line 7", 0, 7, 0, FAILURE_COPY_FILE, "t.csv"},
        {3, 0, "COPY t, line 3", 1, 3, 0, FAILURE_COPY_BINARY, "t.csv"},
        /* a COPY that failed without naming a line: the statement */
        {2, 0, "", 0, 4, 1, FAILURE_NOT_COPY, "up.sql"},
        /* no statement and no position (a COMMIT): the file only */
        {-1, 0, "", 0, 0, 0, FAILURE_NOT_COPY, "up.sql"},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct fixture x;
        struct failure_place p;

        fixture_init(&x);
        x.f.stmt = cases[i].stmt;
        x.f.err.position = cases[i].position;
        x.f.binary = cases[i].binary;
        snprintf(x.f.err.context, sizeof(x.f.err.context), "%s", cases[i].context);
        failure_locate(&x.f, &p);
        if (p.file == NULL || strstr(p.file, cases[i].file) == NULL || p.line != cases[i].line ||
            p.column != cases[i].column || p.copy_row != cases[i].copy_row)
            fail_msg("case %zu: got %s:%lu:%lu (copy %d), want %s:%lu:%lu (copy %d)", i,
                     p.file ? p.file : "(none)", p.line, p.column, p.copy_row, cases[i].file,
                     cases[i].line, cases[i].column, cases[i].copy_row);
        fixture_release(&x);
    }
}

static void
test_applier_failure_outside_a_migration(void **state)
{
    struct fixture x;
    struct failure_place p;
    struct buf j = BUF_INIT;

    (void)state;
    fixture_init(&x);
    x.f.idx = 1; /* the history itself, not a migration */
    failure_locate(&x.f, &p);
    assert_null(p.file);
    failure_json(&x.f, &j);
    assert_contains(j.data, "\"migration\":null");
    assert_contains(j.data, "\"file\":null,\"line\":null,\"column\":null");
    buf_release(&j);
    fixture_release(&x);
}

static void
test_applier_failure_texts(void **state)
{
    struct fixture x;
    struct buf j = BUF_INIT, t = BUF_INIT, d = BUF_INIT;

    (void)state;
    fixture_init(&x);
    x.f.stmt = 1;
    x.f.err.position = 24; /* the x of "SELECT x" */
    snprintf(x.f.err.sqlstate, sizeof(x.f.err.sqlstate), "42P01");
    snprintf(x.f.err.message, sizeof(x.f.err.message), "relation \"y\" does not exist");
    snprintf(x.f.err.hint, sizeof(x.f.err.hint), "create it");
    buf_addch(&j, '{');
    failure_json(&x.f, &j);
    buf_addch(&j, '}');
    assert_string_equal(j.data,
                        "{\"migration\":\"001\",\"script\":\"up\",\"file\":"
                        "\"migrations/000001_001_t/up.sql\",\"line\":3,\"column\":10,"
                        "\"statement\":2,\"sqlstate\":\"42P01\",\"message\":\"relation \\\"y\\\" "
                        "does not exist\",\"detail\":null,\"hint\":\"create it\"}");
    failure_text(&x.f, &t);
    assert_string_equal(t.data, "relation \"y\" does not exist (SQLSTATE 42P01)");
    failure_journal_detail(&x.f, &d);
    assert_string_equal(d.data, "up: 42P01: relation \"y\" does not exist");
    buf_release(&j);
    buf_release(&t);
    buf_release(&d);
    fixture_release(&x);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_applier_failure_locate),
        cmocka_unit_test(test_applier_failure_outside_a_migration),
        cmocka_unit_test(test_applier_failure_texts),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
