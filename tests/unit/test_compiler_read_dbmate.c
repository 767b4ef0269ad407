/*
 * test_compiler_read_dbmate.c: the dbmate reader (compiler/read_dbmate.c): sections, options,
 * file order, refusals.
 */
#include "reader_test.h"
#include "readers.h"

static void
test_read_dbmate_sections_and_options(void **state)
{
    struct rt *t = *state;
    const struct src_migration *m;

    rt_write(t, "20240102_b.sql",
             "-- leading comment\n-- migrate:up transaction:false\n"
             "CREATE INDEX CONCURRENTLY i ON t (a);\n\n-- migrate:down\n");
    rt_write(t, "20240101_a.sql",
             "--migrate:up\nCREATE TABLE t (a int);\n--  migrate:down\nDROP TABLE t;\n");
    rt_write(t, "schema.sql", "-- dbmate dump\n");
    rt_ok(t, read_dbmate, NULL);
    assert_int_equal(t->chain.n, 2);
    m = &t->chain.v[0];
    assert_string_equal(m->id, "20240101");
    assert_string_equal(m->name, "a");
    assert_string_equal(m->origin_id, "20240101");
    assert_script(m, MANIFEST_UP, "\nCREATE TABLE t (a int);\n");
    assert_script(m, MANIFEST_DOWN, "\n\n\nDROP TABLE t;\n");
    m = &t->chain.v[1];
    assert_false(m->script[MANIFEST_UP].transactional);
    /* An empty down section: present, a no-op; transactional (no option on its line). */
    assert_script(m, MANIFEST_DOWN, "\n\n\n\n\n");
    assert_true(m->script[MANIFEST_DOWN].transactional);
    assert_int_equal(t->chain.nignored, 1);
    assert_string_equal(t->chain.ignored[0], "schema.sql");
}

static void
test_read_dbmate_refusals(void **state)
{
    static const struct {
        const char *content, *expect;
    } cases[] = {
        {"SELECT 1;\n", "no \"-- migrate:up\" line"},
        {"SELECT 1;\n-- migrate:up\nSELECT 1;\n-- migrate:down\n", "SQL before \"-- migrate:up\""},
        {"-- migrate:down\nSELECT 1;\n-- migrate:up\nSELECT 1;\n", "comes before"},
        {"-- migrate:up\nSELECT 1;\n-- migrate:down\n-- migrate:up\nSELECT 2;\n-- migrate:down\n",
         "more than one \"-- migrate:up\" section"},
        {"-- migrate:up\nSELECT 1;\n", "no \"-- migrate:down\" section (dbmate itself requires"},
        {"-- migrate:up transaction:false\nCREATE TABLE a (b int);\nCREATE INDEX CONCURRENTLY i ON "
         "a (b);\n"
         "-- migrate:down\n",
         "must be the only statement of its file: dbmate sends"},
        {"-- migrate:up\n\\connect other\n-- migrate:down\n", "psql meta-command"},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct rt *t;

        rt_setup((void **)&t);
        rt_write(t, "1_x.sql", cases[i].content);
        rt_refused(t, read_dbmate, NULL, cases[i].expect);
        rt_teardown((void **)&t);
    }
}

static void
test_read_dbmate_unknown_option_warns(void **state)
{
    struct rt *t = *state;

    rt_write(t, "1_x.sql", "-- migrate:up foo:bar\nSELECT 1;\n-- migrate:down\n");
    rt_ok(t, read_dbmate, NULL);
    assert_int_equal(t->rep.warnings, 1);
    assert_contains(t->errors.data, "dbmate ignores the option \"foo:bar\"");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_read_dbmate_sections_and_options, rt_setup,
                                        rt_teardown),
        cmocka_unit_test(test_read_dbmate_refusals),
        cmocka_unit_test_setup_teardown(test_read_dbmate_unknown_option_warns, rt_setup,
                                        rt_teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
