/*
 * test_compiler_read_flyway.c: the Flyway reader (compiler/read_flyway.c): names, undo
 * pairing, the checksum Flyway stores, transaction modes, and refusals (its version order is
 * lib/version.c's, tested in test_version.c).
 */
#include "reader_test.h"
#include "readers.h"

static void
test_read_flyway_checksum_is_flyways(void **state)
{
    (void)state;
    /* java.util.zip.CRC32 (and zlib's crc32) of "SELECT 1;" is 78787420. */
    assert_int_equal(flyway_checksum("SELECT 1;", 9), 78787420);
    /* Line terminators never count: LF, CRLF, CR and none give the same sum; a BOM is dropped. */
    assert_int_equal(flyway_checksum("a\nb\n", 4), flyway_checksum("ab", 2));
    assert_int_equal(flyway_checksum("a\r\nb", 4), flyway_checksum("ab", 2));
    assert_int_equal(flyway_checksum("a\rb", 3), flyway_checksum("ab", 2));
    assert_int_equal(flyway_checksum("\xef\xbb\xbf"
                                     "ab",
                                     5),
                     flyway_checksum("ab", 2));
    /*
     * CRC-32's published check value (the CRC catalogue's CRC-32/ISO-HDLC): "123456789" sums to
     * 0xCBF43926, stored by Flyway as the int -873187034; over lines, the breaks do not count.
     */
    assert_int_equal(flyway_checksum("1234\r\n56789\n", 12), -873187034);
    /* Above 2^31 the int Flyway stores is negative: 4040868785 is -254098511. */
    assert_int_equal(flyway_checksum("CREATE TABLE t (a int);\n", 24), -254098511);
}

static void
test_read_flyway_reads_versions_undo_and_origin(void **state)
{
    struct rt *t = *state;
    const struct src_migration *m;

    rt_write(t, "V1_9__nine.sql", "CREATE TABLE nine (a int);\n");
    rt_write(t, "V1.10__ten.sql", "CREATE TABLE ten (a int);\n");
    rt_write(t, "sub/V2__two.sql", "CREATE TABLE two (a int);\n");
    rt_write(t, "U1.9__nine.sql", "DROP TABLE nine;\n");
    rt_write(t, "U1.10__ten.sql", "DROP TABLE ten;\n");
    rt_write(t, "U2__two.sql", "DROP TABLE two;\n");
    rt_write(t, "README.md", "notes\n");
    rt_ok(t, read_flyway, NULL);
    assert_int_equal(t->chain.n, 3);
    assert_string_equal(t->chain.v[0].id, "1.9");
    assert_string_equal(t->chain.v[1].id, "1.10");
    assert_string_equal(t->chain.v[2].id, "2");
    m = rt_find(t, "1.9");
    assert_string_equal(m->name, "nine");
    assert_string_equal(m->origin_id, "1.9");
    assert_string_equal(m->origin_name, "V1_9__nine.sql");
    assert_non_null(m->origin_checksum);
    assert_true(m->script[MANIFEST_DOWN].present);
    assert_string_equal(rt_find(t, "2")->origin_name, "sub/V2__two.sql");
    assert_int_equal(t->chain.nignored, 1);
    assert_string_equal(t->chain.ignored[0], "README.md");
}

static void
test_read_flyway_transaction_modes(void **state)
{
    struct rt *t = *state;

    t->opt.allow_irreversible = 1;
    rt_write(t, "V1__idx.sql", "-- only CIC\nCREATE INDEX CONCURRENTLY i ON t (a);\n");
    rt_write(t, "V2__conf.sql", "CREATE TABLE x (a int);\n");
    rt_write(t, "V2__conf.sql.conf", "# per script\nexecuteInTransaction=false\n");
    rt_write(t, "V3__plain.sql", "CREATE TABLE y (a int);\n");
    rt_ok(t, read_flyway, NULL);
    assert_false(rt_find(t, "1")->script[MANIFEST_UP].transactional);
    assert_false(rt_find(t, "2")->script[MANIFEST_UP].transactional);
    assert_true(rt_find(t, "3")->script[MANIFEST_UP].transactional);
    assert_false(rt_find(t, "3")->script[MANIFEST_DOWN].present);
}

static void
test_read_flyway_refusals(void **state)
{
    static const struct {
        const char *file, *content, *expect;
    } cases[] = {
        {"R__view.sql", "SELECT '${flyway:user}';\n", "built-in placeholder"},
        {"V1__mixed.sql", "CREATE TABLE a (b int);\nCREATE INDEX CONCURRENTLY i ON a (b);\n",
         "Flyway refuses such a mix"},
        {"V1__ph.sql", "SELECT '${flyway:user}';\n", "built-in placeholder"},
        {"V1__ph.sql", "-- c\nSELECT '-- ${flyway:user}';\n", "V1__ph.sql:2:12: Flyway's built-in"},
        {"V1__ph.sql", "/* c */ SELECT $f$ ${flyway:table} $f$;\n", "built-in placeholder"},
        {"V1__ph.sql", "SELECT '${my-name}';\n", "sealift placeholder names are"},
        {"V1.x__bad.sql", "SELECT 1;\n", "invalid Flyway version"},
        {"beforeMigrate.sql", "SELECT 1;\n", "Flyway runs this beforeMigrate callback"},
        {"V1__meta.sql", "\\i other.sql\n", "psql meta-command \"\\i\""},
        {"V9__base.sql.conf", "shouldExecute=false\n", "unsupported script setting"},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct rt *t;

        rt_setup((void **)&t);
        t->opt.allow_irreversible = 1;
        rt_write(t, "V9__base.sql", "SELECT 1;\n");
        rt_write(t, cases[i].file, cases[i].content);
        rt_refused(t, read_flyway, NULL, cases[i].expect);
        rt_teardown((void **)&t);
    }
    (void)state;
}

/* In a comment a placeholder is left alone: sealift does not render it and it never runs. */
static void
test_read_flyway_placeholders_in_comments(void **state)
{
    struct rt *t = *state;

    t->opt.allow_irreversible = 1;
    rt_write(
        t, "V1__c.sql",
        "-- by ${flyway:user} at ${flyway:timestamp}\n/* ${my-name} */\nSELECT 1; -- ${x-y}\n");
    rt_write(t, "R__v.sql", "SELECT 2; /* ${flyway:database} */\n");
    rt_ok(t, read_flyway, NULL);
    assert_int_equal(t->chain.n, 1);
    assert_int_equal(t->chain.nrep, 1);
}

static void
test_read_flyway_duplicates_and_missing_undo(void **state)
{
    struct rt *t = *state;

    rt_write(t, "V1__a.sql", "SELECT 1;\n");
    rt_write(t, "V1.0__b.sql", "SELECT 2;\n");
    rt_refused(t, read_flyway, NULL, "found more than one migration with version");
    unit_rmtree(t->dir);
    mkdir(t->dir, 0700);
    rt_write(t, "V1__a.sql", "SELECT 1;\n");
    rt_refused(t, read_flyway, NULL, "no undo script (U<version>__...sql)");
    assert_contains(t->errors.data, "--allow-irreversible");
    rt_write(t, "U7__orphan.sql", "SELECT 1;\n");
    t->opt.allow_irreversible = 1;
    rt_refused(t, read_flyway, NULL, "an undo script without versioned migration 7");
}

/* R__ files: repeatables named by Flyway's description, with Flyway's checksum as origin. */
static void
test_read_flyway_repeatables(void **state)
{
    static const char view[] = "CREATE OR REPLACE VIEW v AS SELECT 1;\r\n";
    struct rt *t = *state;
    char want[32];

    t->opt.allow_irreversible = 1;
    rt_write(t, "V1__base.sql", "CREATE TABLE t (a int);\n");
    rt_write(t, "R__refresh_views.sql", view);
    rt_write(t, "sub/R__Index_things.sql", "CREATE INDEX CONCURRENTLY i ON t (a);\n");
    rt_write(t, "sub/R__grants.sql", "GRANT SELECT ON t TO PUBLIC;\n");
    rt_write(t, "sub/R__grants.sql.conf", "executeInTransaction=false\n");
    rt_ok(t, read_flyway, NULL);
    assert_int_equal(t->chain.n, 1);
    assert_int_equal(t->chain.nrep, 3);
    /* Sorted by the pipeline; the reader keeps the order it found them in. */
    chain_sort_repeatables(&t->chain, &t->rep);
    assert_string_equal(t->chain.rep[0].id, "Index things");
    assert_string_equal(t->chain.rep[1].id, "grants");
    assert_string_equal(t->chain.rep[2].id, "refresh views");
    assert_false(t->chain.rep[0].script[MANIFEST_UP].transactional);
    assert_false(t->chain.rep[1].script[MANIFEST_UP].transactional);
    assert_true(t->chain.rep[2].script[MANIFEST_UP].transactional);
    assert_false(t->chain.rep[2].script[MANIFEST_DOWN].present);
    assert_string_equal(t->chain.rep[1].origin_name, "sub/R__grants.sql");
    snprintf(want, sizeof(want), "%d", (int)flyway_checksum(view, strlen(view)));
    assert_string_equal(t->chain.rep[2].origin_checksum, want);
    assert_script(&t->chain.rep[2], MANIFEST_UP, "CREATE OR REPLACE VIEW v AS SELECT 1;\n");
}

/* Two R__ files with one description (in two folders) are one name twice. */
static void
test_read_flyway_repeatable_names_unique(void **state)
{
    struct rt *t = *state;

    t->opt.allow_irreversible = 1;
    rt_write(t, "V1__base.sql", "SELECT 1;\n");
    rt_write(t, "a/R__views.sql", "SELECT 2;\n");
    rt_write(t, "b/R__views.sql", "SELECT 3;\n");
    rt_ok(t, read_flyway, NULL);
    chain_sort_repeatables(&t->chain, &t->rep);
    assert_int_equal(t->rep.errors, 1);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_read_flyway_checksum_is_flyways),
        cmocka_unit_test_setup_teardown(test_read_flyway_reads_versions_undo_and_origin, rt_setup,
                                        rt_teardown),
        cmocka_unit_test_setup_teardown(test_read_flyway_transaction_modes, rt_setup, rt_teardown),
        cmocka_unit_test(test_read_flyway_refusals),
        cmocka_unit_test_setup_teardown(test_read_flyway_placeholders_in_comments, rt_setup,
                                        rt_teardown),
        cmocka_unit_test_setup_teardown(test_read_flyway_duplicates_and_missing_undo, rt_setup,
                                        rt_teardown),
        cmocka_unit_test_setup_teardown(test_read_flyway_repeatables, rt_setup, rt_teardown),
        cmocka_unit_test_setup_teardown(test_read_flyway_repeatable_names_unique, rt_setup,
                                        rt_teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
