/*
 * test_compiler_read_native.c: unit tests for compiler/read_native.c's repeatable migrations
 * (R__NAME.sql): which names are repeatables, their directives, and what is refused.
 * Layer: tests.
 */
#include "reader_test.h"
#include "readers.h"

/* R__NAME.sql beside versioned files: a repeatable with an up script only and its directives. */
static void
test_read_native_repeatables(void **state)
{
    struct rt *t = *state;

    rt_write(t, "1_init.up.sql", "CREATE TABLE t (a int);\n");
    rt_write(t, "1_init.down.sql", "DROP TABLE t;\n");
    rt_write(t, "R__views.sql", "CREATE OR REPLACE VIEW v AS SELECT a FROM t;\n");
    rt_write(t, "R__index-things.sql",
             "-- sealift:no-transaction\nCREATE INDEX CONCURRENTLY IF NOT EXISTS i ON t (a);\n");
    rt_ok(t, read_native, NULL);
    assert_int_equal(t->chain.n, 1);
    assert_int_equal(t->chain.nrep, 2);
    chain_sort_repeatables(&t->chain, &t->rep);
    assert_string_equal(t->chain.rep[0].id, "index-things");
    assert_string_equal(t->chain.rep[0].name, "");
    assert_false(t->chain.rep[0].script[MANIFEST_UP].transactional);
    assert_string_equal(t->chain.rep[1].id, "views");
    assert_true(t->chain.rep[1].script[MANIFEST_UP].transactional);
    assert_false(t->chain.rep[1].script[MANIFEST_DOWN].present);
    assert_script(&t->chain.rep[1], MANIFEST_UP, "CREATE OR REPLACE VIEW v AS SELECT a FROM t;\n");
    assert_int_equal(t->chain.nignored, 0);
}

/* Names that are not R__SLUG.sql, and directives a repeatable cannot have. */
static void
test_read_native_repeatable_refusals(void **state)
{
    static const struct {
        const char *file, *content, *expect;
    } cases[] = {
        {"R__.sql", "SELECT 1;\n", "R__.sql: not a migration file name"},
        {"R__a b.sql", "SELECT 1;\n", "R__a b.sql: not a migration file name"},
        {"R__x.up.sql", "SELECT 1;\n", "R__x.up.sql: not a migration file name"},
        {"R__marked.sql", "-- sealift:irreversible\nSELECT 1;\n", "R__marked.sql"},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct rt *t;

        rt_setup((void **)&t);
        rt_write(t, "1_init.up.sql", "SELECT 1;\n");
        rt_write(t, "1_init.down.sql", "SELECT 1;\n");
        rt_write(t, cases[i].file, cases[i].content);
        rt_refused(t, read_native, NULL, cases[i].expect);
        assert_int_equal(t->chain.nrep, i < 3 ? 0 : 1);
        rt_teardown((void **)&t);
    }
    (void)state;
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_read_native_repeatables, rt_setup, rt_teardown),
        cmocka_unit_test(test_read_native_repeatable_refusals),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
