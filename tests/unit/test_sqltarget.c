/*
 * test_sqltarget.c: unit tests for lib/sqltarget.c: the relations a statement's first words
 * name, for the risk lines of bundles without lint findings. Driven by a table.
 * Layer: tests.
 */
#include "unit.h"

#include "sealift/sqltarget.h"

#include <stdio.h>
#include <string.h>

/* Each statement and its targets as "verb name|verb name" ("" for none). */
static void
test_sqltarget_find_table(void **state)
{
    static const struct {
        const char *sql, *want;
    } cases[] = {
        {"ALTER TABLE orders ADD COLUMN x int", "alters orders"},
        {"alter table if exists only Shop.Orders add x int", "alters shop.orders"},
        {"-- c\n/* d */ ALTER TABLE \"Odd\"\"Name\".\"T;x\" ADD x int", "alters Odd\"Name.T;x"},
        {"ALTER TABLE db.s.t ADD x int", "alters s.t"},
        {"ALTER TABLE ALL IN TABLESPACE a SET TABLESPACE b", ""},
        {"ALTER INDEX i RENAME TO j", "alters i"},
        {"ALTER MATERIALIZED VIEW mv RENAME TO mv2", "alters mv"},
        {"ALTER TYPE mood ADD VALUE 'x'", ""},
        {"CREATE INDEX ON orders (note)", "indexes orders"},
        {"CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS i ON ONLY s.orders USING btree (a)",
         "indexes s.orders"},
        {"CREATE INDEX \"on\" ON t (a)", "indexes t"},
        {"CREATE TABLE t (a int)", "creates t"},
        {"CREATE UNLOGGED TABLE IF NOT EXISTS s.t (a int)", "creates s.t"},
        {"CREATE OR REPLACE VIEW v AS SELECT 1", "creates v"},
        {"CREATE MATERIALIZED VIEW mv AS SELECT 1", "creates mv"},
        {"CREATE FUNCTION f() RETURNS int AS $$ ALTER TABLE t ADD x int $$ LANGUAGE sql", ""},
        {"DROP TABLE IF EXISTS a, s.b CASCADE", "drops a|drops s.b"},
        {"DROP INDEX CONCURRENTLY IF EXISTS i", "drops i"},
        {"DROP FUNCTION f()", ""},
        {"TRUNCATE a, ONLY b", "truncates a|truncates b"},
        {"TRUNCATE TABLE t RESTART IDENTITY", "truncates t"},
        {"LOCK TABLE t IN ACCESS EXCLUSIVE MODE", "locks t"},
        {"LOCK t, u", "locks t|locks u"},
        {"UPDATE t SET a = 1", "writes t"},
        {"DELETE FROM ONLY t", "writes t"},
        {"VACUUM FULL t", "rebuilds t"},
        {"VACUUM (FULL, VERBOSE) t", "rebuilds t"},
        {"VACUUM t", ""},
        {"VACUUM ANALYZE t", ""},
        {"CLUSTER t USING i", "rebuilds t"},
        {"REINDEX TABLE CONCURRENTLY t", "rebuilds t"},
        {"REINDEX (VERBOSE) INDEX i", "rebuilds i"},
        {"REINDEX DATABASE d", ""},
        {"REFRESH MATERIALIZED VIEW CONCURRENTLY mv", "rebuilds mv"},
        {"DO $$ BEGIN EXECUTE 'ALTER TABLE t ADD x int'; END $$", ""},
        {"SELECT 1", ""},
        {"", ""},
        {"ALTER TABLE", ""},
        {"ALTER TABLE \"unterminated", "alters unterminated"},
        {"ALTER TABLE t.", ""},
        {"DROP TABLE a,b,c,d,e,f,g,h,i,j", "drops a|drops b|drops c|drops d|drops e|drops f|drops "
                                           "g|drops h"},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct sqltarget t[SQLTARGET_MAX];
        size_t n = sqltarget_find(cases[i].sql, strlen(cases[i].sql), t, SQLTARGET_MAX);
        char got[1024] = "";

        for (size_t k = 0; k < n; k++) {
            size_t used = strlen(got);

            snprintf(got + used, sizeof(got) - used, "%s%s %s", k ? "|" : "",
                     sqltarget_verb_text(t[k].verb), t[k].name);
        }
        if (strcmp(got, cases[i].want) != 0)
            fail_msg("%s: got \"%s\", want \"%s\"", cases[i].sql, got, cases[i].want);
    }
}

/* A name longer than the buffer is left out, not cut. */
static void
test_sqltarget_rejects_overlong_name(void **state)
{
    char sql[600] = "ALTER TABLE ";
    struct sqltarget t[SQLTARGET_MAX];

    (void)state;
    memset(sql + strlen(sql), 'a', 400);
    assert_int_equal(sqltarget_find(sql, strlen(sql), t, SQLTARGET_MAX), 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sqltarget_find_table),
        cmocka_unit_test(test_sqltarget_rejects_overlong_name),
    };

    return cmocka_run_group_tests_name("sqltarget", tests, NULL, NULL);
}
