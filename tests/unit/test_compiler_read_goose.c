/*
 * test_compiler_read_goose.c: the goose reader (compiler/read_goose.c): annotations, sections
 * with the file's line numbers, NO TRANSACTION, where goose would cut a statement, refusals.
 */
#include "reader_test.h"
#include "readers.h"

static void
test_read_goose_sections_keep_file_lines(void **state)
{
    struct rt *t = *state;
    const struct src_migration *m;

    rt_write(
        t, "00002_f.sql",
        "-- a comment\n-- +goose Up\n-- +goose StatementBegin\n"
        "CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $$\nBEGIN\n  RETURN 1;\nEND;\n$$;\n"
        "-- +goose StatementEnd\n\n-- +goose DOWN\nDROP FUNCTION f();\n");
    rt_write(t, "00010_t.sql",
             "-- +goose Up\nCREATE TABLE t (a int); -- trailing\n-- +goose Down\n");
    rt_write(t, "README.md", "x\n");
    rt_ok(t, read_goose, NULL);
    assert_int_equal(t->chain.n, 2);
    assert_string_equal(t->chain.v[0].id, "2");
    assert_string_equal(t->chain.v[1].id, "10");
    m = rt_find(t, "2");
    assert_string_equal(m->name, "f");
    assert_string_equal(m->origin_id, "2");
    assert_script(
        m, MANIFEST_UP,
        "\n\n\nCREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $$\nBEGIN\n  RETURN 1;\n"
        "END;\n$$;\n\n\n\n\n");
    assert_script(m, MANIFEST_DOWN, "\n\n\n\n\n\n\n\n\n\n\nDROP FUNCTION f();\n");
    /* An empty Down section is a valid no-op. */
    assert_script(rt_find(t, "10"), MANIFEST_DOWN, "\n\n\n");
}

/* No Down section: a no-op down, as goose treats it (the pipeline warns, naming why). */
static void
test_read_goose_missing_down_is_noop(void **state)
{
    struct rt *t = *state;
    const struct src_migration *m;

    rt_write(t, "1_a.sql", "-- +goose Up\nSELECT 1;\n");
    rt_ok(t, read_goose, NULL);
    m = rt_find(t, "1");
    assert_true(m->script[MANIFEST_DOWN].present);
    assert_int_equal(m->script[MANIFEST_DOWN].text.len, 0);
    assert_string_equal(m->script[MANIFEST_DOWN].noop_why, "no \"-- +goose Down\" section");
}

static void
test_read_goose_no_transaction(void **state)
{
    struct rt *t = *state;

    rt_write(t, "1_i.sql",
             "-- +goose NO TRANSACTION\n-- +goose Up\nCREATE INDEX CONCURRENTLY i ON t (a);\n"
             "-- +goose Down\nDROP INDEX CONCURRENTLY i;\n");
    rt_ok(t, read_goose, NULL);
    assert_false(t->chain.v[0].script[MANIFEST_UP].transactional);
    assert_false(t->chain.v[0].script[MANIFEST_DOWN].transactional);
}

static void
test_read_goose_refusals(void **state)
{
    static const struct {
        const char *file, *content, *expect;
    } cases[] = {
        {"1_a.sql", "SELECT 1;\n", "SQL before \"-- +goose Up\""},
        {"1_a.sql", "-- nothing\n", "no \"-- +goose Up\" annotation"},
        {"1_a.sql", "-- +goose Up\nSELECT 1\n", "the last statement has no ending semicolon"},
        {"1_a.sql", "-- +goose Up\n-- +goose StatementBegin\nSELECT 1;\n",
         "StatementBegin without StatementEnd"},
        {"1_a.sql", "-- +goose Up\n-- +goose Up\n", "a second \"-- +goose Up\""},
        {"1_a.sql", "-- +goose Down\n-- +goose Up\n", "\"-- +goose Down\" before"},
        {"1_a.sql", "-- +goose Up\n-- +goose Sideways\n", "unknown or malformed goose annotation"},
        {"1_a.sql", "-- +goose Up\n -- +goose Down\n", "unknown or malformed goose annotation"},
        {"1_a.sql", "-- +goose ENVSUB ON\n-- +goose Up\nSELECT '${X}';\n", "ENVSUB ON"},
        {"1_a.sql", "-- +goose Up\nINSERT INTO t VALUES ('a;\nb');\n",
         "1_a.sql:2: goose ends a statement at this line's"},
        {"1_a.go", "package m\n", "a goose Go migration"},
        {"0_a.sql", "-- +goose Up\nSELECT 1;\n", "the version must be a number from 1"},
        {"x_a.sql", "-- +goose Up\nSELECT 1;\n", "not a goose migration name"},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct rt *t;

        rt_setup((void **)&t);
        rt_write(t, cases[i].file, cases[i].content);
        rt_refused(t, read_goose, NULL, cases[i].expect);
        rt_teardown((void **)&t);
    }
}

static void
test_read_goose_duplicate_versions(void **state)
{
    struct rt *t = *state;

    rt_write(t, "1_a.sql", "-- +goose Up\nSELECT 1;\n-- +goose Down\n");
    rt_write(t, "001_b.sql", "-- +goose Up\nSELECT 1;\n-- +goose Down\n");
    rt_refused(t, read_goose, NULL, "duplicate goose version 1");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_read_goose_sections_keep_file_lines, rt_setup,
                                        rt_teardown),
        cmocka_unit_test_setup_teardown(test_read_goose_missing_down_is_noop, rt_setup,
                                        rt_teardown),
        cmocka_unit_test_setup_teardown(test_read_goose_no_transaction, rt_setup, rt_teardown),
        cmocka_unit_test(test_read_goose_refusals),
        cmocka_unit_test_setup_teardown(test_read_goose_duplicate_versions, rt_setup, rt_teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
