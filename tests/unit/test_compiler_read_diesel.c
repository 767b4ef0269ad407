/*
 * test_compiler_read_diesel.c: the diesel reader (compiler/read_diesel.c): directories,
 * versions, metadata.toml, refusals.
 */
#include "reader_test.h"
#include "readers.h"

static void
test_read_diesel_directories_and_metadata(void **state)
{
    struct rt *t = *state;
    const struct src_migration *m;

    rt_write(t, "2024-01-02-000000_idx/up.sql", "CREATE INDEX CONCURRENTLY i ON t (a);\n");
    rt_write(t, "2024-01-02-000000_idx/down.sql", "DROP INDEX CONCURRENTLY i;\n");
    rt_write(
        t, "2024-01-02-000000_idx/metadata.toml",
        "# diesel\nrun_in_transaction = false # comment\n[extra]\nrun_in_transaction = true\n");
    rt_write(t, "2024-01-01-000000_t/up.sql", "CREATE TABLE t (a int);\n");
    rt_write(t, "2024-01-01-000000_t/down.sql", "DROP TABLE t;\n");
    rt_write(t, "2024-01-01-000000_t/notes.txt", "x\n");
    rt_write(t, ".keep", "");
    rt_write(t, ".hidden/up.sql", "SELECT 1;\n");
    rt_ok(t, read_diesel, NULL);
    assert_int_equal(t->chain.n, 2);
    m = &t->chain.v[0];
    assert_string_equal(m->id, "20240101000000");
    assert_string_equal(m->name, "t");
    assert_string_equal(m->origin_id, "20240101000000");
    assert_true(m->script[MANIFEST_UP].transactional);
    m = &t->chain.v[1];
    assert_false(m->script[MANIFEST_UP].transactional);
    assert_false(m->script[MANIFEST_DOWN].transactional);
    assert_int_equal(t->chain.nignored, 3);
}

static void
test_read_diesel_metadata_without_the_key_means_false(void **state)
{
    struct rt *t = *state;

    /* diesel's TomlMetadata: a file that does not set it means false (serde's bool default). */
    rt_write(t, "1_a/up.sql", "SELECT 1;\n");
    rt_write(t, "1_a/down.sql", "SELECT 1;\n");
    rt_write(t, "1_a/metadata.toml", "other = 1\n");
    rt_ok(t, read_diesel, NULL);
    assert_false(t->chain.v[0].script[MANIFEST_UP].transactional);
}

static void
test_read_diesel_refusals(void **state)
{
    static const struct {
        const char *file, *content, *expect;
    } cases[] = {
        {"1_a/up.sql", "", "empty file (diesel refuses"},
        {"1_a/metadata.toml", "run_in_transaction = maybe\n", "must be true or false"},
        {"1_a/down.sql.missing", "", "no down.sql beside it"},
        {"2_b/down.sql", "SELECT 1;\n", "a directory without up.sql"},
        {"1_a/up.sql", "CREATE TABLE a (b int);\nVACUUM;\n", ""},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct rt *t;

        rt_setup((void **)&t);
        rt_write(t, "1_a/up.sql", "SELECT 1;\n");
        if (strstr(cases[i].file, ".missing") == NULL)
            rt_write(t, "1_a/down.sql", "SELECT 1;\n");
        rt_write(t, cases[i].file, cases[i].content);
        if (cases[i].expect[0] == '\0') {
            /* In diesel's transaction, VACUUM fails: sqlcheck refuses it with diesel's fix. */
            rt_ok(t, read_diesel, NULL);
            assert_string_equal(t->chain.v[0].script[MANIFEST_UP].no_tx_hint,
                                "put \"run_in_transaction = false\" in the migration's "
                                "metadata.toml");
        } else {
            rt_refused(t, read_diesel, NULL, cases[i].expect);
        }
        rt_teardown((void **)&t);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_read_diesel_directories_and_metadata, rt_setup,
                                        rt_teardown),
        cmocka_unit_test_setup_teardown(test_read_diesel_metadata_without_the_key_means_false,
                                        rt_setup, rt_teardown),
        cmocka_unit_test(test_read_diesel_refusals),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
