/*
 * test_compiler_read_golang_migrate.c: the golang-migrate reader
 * (compiler/read_golang_migrate.c): names, numeric order, the outer BEGIN/COMMIT, a lone
 * statement that needs no transaction, detection against native, refusals.
 */
#include "reader_test.h"
#include "readers.h"

static void
test_read_golang_migrate_names_and_order(void **state)
{
    struct rt *t = *state;
    const struct src_migration *m;

    rt_write(t, "10_b.up.sql", "SELECT 10;\n");
    rt_write(t, "10_b.down.sql", "SELECT -10;\n");
    rt_write(t, "9_a.b.up.sql", "SELECT 9;\n");
    rt_write(t, "9_a.b.down.sql", "SELECT -9;\n");
    rt_write(t, ".gitkeep", "");
    rt_ok(t, read_golang_migrate, NULL);
    assert_int_equal(t->chain.n, 2);
    m = &t->chain.v[0];
    assert_string_equal(m->id, "9");
    assert_string_equal(m->name, "a.b");
    assert_string_equal(m->origin_id, "9");
    assert_string_equal(t->chain.v[1].id, "10");
    assert_int_equal(t->chain.nignored, 1);
}

static void
test_read_golang_migrate_transactions(void **state)
{
    struct rt *t = *state;
    const struct src_migration *m;

    rt_write(t, "000001_a.up.sql",
             "BEGIN;\nCREATE TABLE a (b int);\nINSERT INTO a VALUES (1);\nCOMMIT;\n");
    rt_write(t, "000001_a.down.sql", "DROP TABLE a;\n");
    rt_write(t, "000002_i.up.sql", "CREATE INDEX CONCURRENTLY i ON a (b);\n");
    rt_write(t, "000002_i.down.sql", "DROP INDEX CONCURRENTLY i;\n");
    rt_ok(t, read_golang_migrate, NULL);
    m = &t->chain.v[0];
    assert_script(m, MANIFEST_UP,
                  "      \nCREATE TABLE a (b int);\nINSERT INTO a VALUES (1);\n       \n");
    assert_true(m->script[MANIFEST_UP].transactional);
    assert_false(t->chain.v[1].script[MANIFEST_UP].transactional);
    assert_false(t->chain.v[1].script[MANIFEST_DOWN].transactional);
    /* Its own BEGIN; ... COMMIT; ran it in a transaction: it stays one (sqlcheck then refuses). */
    rt_write(t, "000003_w.up.sql", "BEGIN;\nCREATE INDEX CONCURRENTLY j ON a (b);\nCOMMIT;\n");
    rt_write(t, "000003_w.down.sql", "SELECT 1;\n");
    rt_ok(t, read_golang_migrate, NULL);
    assert_true(t->chain.v[2].script[MANIFEST_UP].transactional);
    /* Zero-padded sequence numbers, no sealift directive: golang-migrate, not native. */
    assert_int_equal(detect_golang_migrate(t->dir), 3);
}

static void
test_read_golang_migrate_detect_leaves_native_alone(void **state)
{
    struct rt *t = *state;

    rt_write(t, "20240101000000_a.up.sql", "CREATE INDEX CONCURRENTLY i ON a (b);\n");
    assert_int_equal(detect_golang_migrate(t->dir), 1);
    rt_write(t, "000001_a.up.sql", "-- sealift:no-transaction\nSELECT 1;\n");
    assert_int_equal(detect_golang_migrate(t->dir), 1);
}

static void
test_read_golang_migrate_refusals(void **state)
{
    static const struct {
        const char *file, *content, *expect;
    } cases[] = {
        {"1_a.up.sql", "SELECT 1;\nVACUUM;\n", "VACUUM must be the only statement of its file"},
        {"1_a.up.sql", "SELECT 1;\n", "no .down.sql file"},
        {"1_a.up.txt", "SELECT 1;\n", "golang-migrate would run this file, but it is not a .sql"},
        {"1_a.down.sql", "SELECT 1;\n", "a down file without an up file"},
        {"99999999999999999999_a.up.sql", "SELECT 1;\n", "does not fit in 64 bits"},
        {"1_a.up.sql", "BEGIN ISOLATION LEVEL SERIALIZABLE;\nSELECT 1;\nCOMMIT;\n", ""},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct rt *t;

        rt_setup((void **)&t);
        rt_write(t, cases[i].file, cases[i].content);
        if (cases[i].expect[0] == '\0') {
            /* BEGIN with options is not stripped: sqlcheck refuses it later, saying why. */
            t->opt.allow_irreversible = 1;
            rt_ok(t, read_golang_migrate, NULL);
            assert_contains(t->chain.v[0].script[MANIFEST_UP].text.data, "BEGIN ISOLATION");
        } else {
            rt_refused(t, read_golang_migrate, NULL, cases[i].expect);
        }
        rt_teardown((void **)&t);
    }
}

static void
test_read_golang_migrate_duplicates(void **state)
{
    struct rt *t = *state;

    t->opt.allow_irreversible = 1;
    rt_write(t, "1_a.up.sql", "SELECT 1;\n");
    rt_write(t, "01_b.up.sql", "SELECT 1;\n");
    rt_refused(t, read_golang_migrate, NULL, "duplicate migration version 1");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_read_golang_migrate_names_and_order, rt_setup,
                                        rt_teardown),
        cmocka_unit_test_setup_teardown(test_read_golang_migrate_transactions, rt_setup,
                                        rt_teardown),
        cmocka_unit_test_setup_teardown(test_read_golang_migrate_detect_leaves_native_alone,
                                        rt_setup, rt_teardown),
        cmocka_unit_test(test_read_golang_migrate_refusals),
        cmocka_unit_test_setup_teardown(test_read_golang_migrate_duplicates, rt_setup, rt_teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
