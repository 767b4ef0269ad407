/*
 * test_compiler_read_sqitch.c: the Sqitch reader (compiler/read_sqitch.c): the plan grammar,
 * dependencies, reworked changes, the change ids and script hashes Sqitch's registry holds,
 * BEGIN/COMMIT and verify's BEGIN/ROLLBACK, and refusals.
 */
#include "reader_test.h"
#include "readers.h"

#define PLAN_HEAD "%syntax-version=1.0.0\n%project=shop\n%uri=https://example.com/shop/\n\n"
#define WHO       " Ada Lovelace <ada@example.com>"

static void
write_project(struct rt *t)
{
    rt_write(t, "sqitch.plan",
             PLAN_HEAD "create_order_status 2024-01-01T00:01:00Z" WHO
                       " # Create order status enum.\n"
                       "create_customers 2024-01-01T00:02:00Z" WHO " # Create customers.\n");
    rt_write(t, "sqitch.conf", "[core]\n\tengine = pg\n");
    rt_write(t, "deploy/create_order_status.sql",
             "-- Deploy\n\nBEGIN;\n\nCREATE TYPE s AS ENUM ('a');\n\nCOMMIT;\n");
    rt_write(t, "revert/create_order_status.sql", "BEGIN;\nDROP TYPE s;\nCOMMIT;\n");
    rt_write(t, "deploy/create_customers.sql", "BEGIN;\nCREATE TABLE c (a int);\nCOMMIT;\n");
    rt_write(t, "revert/create_customers.sql", "DROP TABLE c;\n");
    rt_write(t, "verify/create_customers.sql", "BEGIN;\nSELECT a FROM c WHERE FALSE;\nROLLBACK;\n");
}

static void
test_read_sqitch_change_ids_are_sqitchs(void **state)
{
    struct rt *t = *state;
    const struct src_migration *m;

    write_project(t);
    rt_ok(t, read_sqitch, NULL);
    assert_int_equal(t->chain.n, 2);
    /* The ids "sqitch plan --format '%H'" prints for this plan (sqitch 1.3.1). */
    assert_string_equal(t->chain.v[0].origin_id, "32068c462c7aa4e5eb9c4287f17c359660866e80");
    assert_string_equal(t->chain.v[1].origin_id, "73a7683149e8abf362b259e45f384f786e64cf15");
    m = rt_find(t, "create_customers");
    /* The note is not part of the name (issue 17): the change's name is the id. */
    assert_string_equal(m->name, "");
    assert_string_equal(m->origin_name, "create_customers");
    /* script_hash: sha1sum of deploy/create_customers.sql as written above. */
    assert_string_equal(m->origin_checksum, "62fdcdab49478ba1ff8cb3447c957b2bf6e349dc");
}

static void
test_read_sqitch_transactions(void **state)
{
    struct rt *t = *state;
    const struct src_migration *m;

    write_project(t);
    rt_write(t, "sqitch.plan",
             PLAN_HEAD "create_customers 2024-01-01T00:02:00Z" WHO " # c\n"
                       "idx [create_customers] 2024-01-01T00:03:00Z" WHO " # i\n");
    rt_write(t, "deploy/idx.sql", "CREATE INDEX CONCURRENTLY i ON c (a);\n");
    rt_write(t, "revert/idx.sql", "DROP INDEX i;\n");
    rt_ok(t, read_sqitch, NULL);
    m = rt_find(t, "create_customers");
    /* The outer pair is blanked, keeping lines and columns; the script stays transactional. */
    assert_script(m, MANIFEST_UP, "      \nCREATE TABLE c (a int);\n       \n");
    assert_true(m->script[MANIFEST_UP].transactional);
    /* verify's BEGIN ... ROLLBACK still undoes what it did: a savepoint. */
    assert_script(m, MANIFEST_VERIFY,
                  "SAVEPOINT sealift_verify;\nSELECT a FROM c WHERE FALSE;\n"
                  "ROLLBACK TO SAVEPOINT sealift_verify;\n");
    /* No BEGIN of its own: psql ran it statement by statement. */
    assert_false(rt_find(t, "idx")->script[MANIFEST_UP].transactional);
}

static void
test_read_sqitch_rework_and_tags(void **state)
{
    struct rt *t = *state;

    write_project(t);
    rt_write(t, "sqitch.plan",
             PLAN_HEAD "create_customers 2024-01-01T00:02:00Z" WHO " # c\n"
                       "@v1.0 2024-01-01T00:03:00Z" WHO " # tag\n"
                       "create_customers [create_customers@v1.0] 2024-01-01T00:04:00Z" WHO
                       " # reworked\n");
    rt_write(t, "deploy/create_customers@v1.0.sql", "CREATE TABLE c (a int);\n");
    rt_write(t, "revert/create_customers@v1.0.sql", "DROP TABLE c;\n");
    rt_ok(t, read_sqitch, NULL);
    assert_int_equal(t->chain.n, 2);
    assert_string_equal(t->chain.v[0].id, "create_customers@v1.0");
    assert_string_equal(t->chain.v[1].id, "create_customers");
    assert_contains(t->chain.v[0].script[MANIFEST_UP].file, "deploy/create_customers@v1.0.sql");
    assert_contains(t->chain.v[1].script[MANIFEST_UP].file, "deploy/create_customers.sql");
    /* The tag names the position after the first change, for --to @v1.0. */
    assert_string_equal(t->chain.v[0].origin_tags, "@v1.0");
    assert_null(t->chain.v[1].origin_tags);
}

static void
test_read_sqitch_refusals(void **state)
{
    static const struct {
        const char *plan, *expect;
    } cases[] = {
        {PLAN_HEAD "a [b] 2024-01-01T00:01:00Z" WHO "\nb 2024-01-01T00:02:00Z" WHO "\n",
         "requires \"b\", which is planned after it"},
        {PLAN_HEAD "a [nope] 2024-01-01T00:01:00Z" WHO "\n", "requires unknown change \"nope\""},
        {PLAN_HEAD "a 2024-01-01T00:01:00Z" WHO "\nb [!a] 2024-01-01T00:02:00Z" WHO "\n",
         "conflicts with \"a\", which is deployed before it"},
        {PLAN_HEAD "a" WHO "\n", "missing timestamp"},
        {PLAN_HEAD "a 2024-01-01T00:01:00Z\n", "missing planner name and email"},
        {PLAN_HEAD "-a 2024-01-01T00:01:00Z" WHO "\n", "a change to revert"},
        {PLAN_HEAD "a 2024-01-01T00:01:00Z" WHO "\na 2024-01-01T00:02:00Z" WHO "\n",
         "duplicates the one on line 5"},
        {"%project=x\na 2024-01-01T00:01:00Z" WHO "\n", "a blank line must come between"},
        {PLAN_HEAD "@t 2024-01-01T00:01:00Z" WHO "\n", "declared without a preceding change"},
        {PLAN_HEAD "a 2024-01-01T00:01:00Z" WHO "\nmissing 2024-01-01T00:02:00Z" WHO "\n",
         "deploy script of change \"missing\" missing"},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct rt *t;

        rt_setup((void **)&t);
        t->opt.allow_irreversible = 1;
        rt_write(t, "deploy/a.sql", "SELECT 1;\n");
        rt_write(t, "deploy/b.sql", "SELECT 1;\n");
        rt_write(t, "sqitch.plan", cases[i].plan);
        rt_refused(t, read_sqitch, NULL, cases[i].expect);
        rt_teardown((void **)&t);
    }
}

static void
test_read_sqitch_psql_and_revert(void **state)
{
    struct rt *t = *state;

    write_project(t);
    rt_write(t, "deploy/create_customers.sql",
             "BEGIN;\nCREATE TABLE c (a int);\nSELECT :'registry';\nCOMMIT;\n");
    {
        char p[UNIT_PATH_MAX];

        unit_path(p, t->dir, "revert/create_customers.sql");
        unlink(p);
    }
    rt_refused(t, read_sqitch, NULL, "deploy/create_customers.sql:3:8: psql variable");
    assert_contains(t->errors.data, "revert/create_customers.sql: no revert script");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_read_sqitch_change_ids_are_sqitchs, rt_setup,
                                        rt_teardown),
        cmocka_unit_test_setup_teardown(test_read_sqitch_transactions, rt_setup, rt_teardown),
        cmocka_unit_test_setup_teardown(test_read_sqitch_rework_and_tags, rt_setup, rt_teardown),
        cmocka_unit_test(test_read_sqitch_refusals),
        cmocka_unit_test_setup_teardown(test_read_sqitch_psql_and_revert, rt_setup, rt_teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
