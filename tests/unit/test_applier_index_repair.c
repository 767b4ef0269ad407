/*
 * test_applier_index_repair.c: unit tests for applier/index_repair.c's reading of statements:
 * which index a statement builds concurrently, with the names as the server folds them, driven
 * by a table of statements as migrations write them (comments, quoting, schemas, odd case).
 * Layer: tests. Pure: no database.
 */
#include "unit.h"

#include "index_repair.h"

static void
test_applier_index_repair_reads_statements(void **state)
{
    static const struct {
        const char *stmt;
        enum index_build_kind kind;
        const char *schema, *name, *table;
    } cases[] = {
        {"CREATE INDEX CONCURRENTLY big_v_idx ON big (v)", INDEX_BUILD_CREATE, "", "big_v_idx",
         "big"},
        {"create unique index concurrently if not exists Big_V ON ONLY Shop.Orders (id)",
         INDEX_BUILD_CREATE, "shop", "big_v", "orders"},
        {"-- sealift:no-transaction\n/* a /* nested */ comment */\nCREATE  INDEX\n"
         "CONCURRENTLY \"Odd \"\"Name\"\"\" ON \"My Schema\" . \"T\" USING btree (a)",
         INDEX_BUILD_CREATE, "My Schema", "Odd \"Name\"", "T"},
        {"CREATE INDEX CONCURRENTLY \"on\" ON t (a)", INDEX_BUILD_CREATE, "", "on", "t"},
        {"CREATE INDEX CONCURRENTLY idx$1 ON t(a)", INDEX_BUILD_CREATE, "", "idx$1", "t"},
        /* a name longer than 63 bytes is cut as the server cuts it */
        {"CREATE INDEX CONCURRENTLY "
         "a123456789b123456789c123456789d123456789e123456789f123456789g123456789 ON t (a)",
         INDEX_BUILD_CREATE, "", "a123456789b123456789c123456789d123456789e123456789f123456789g12",
         "t"},
        /* no name: the server picks one, and a rerun picks another */
        {"CREATE INDEX CONCURRENTLY ON t (a)", INDEX_BUILD_NONE, "", "", ""},
        {"CREATE INDEX CONCURRENTLY IF NOT EXISTS ON t (a)", INDEX_BUILD_NONE, "", "", ""},
        /* not concurrent, or not an index */
        {"CREATE INDEX i ON t (a)", INDEX_BUILD_NONE, "", "", ""},
        {"CREATE TABLE concurrently (a int)", INDEX_BUILD_NONE, "", "", ""},
        {"SELECT 'CREATE INDEX CONCURRENTLY i ON t (a)'", INDEX_BUILD_NONE, "", "", ""},
        {"-- CREATE INDEX CONCURRENTLY i ON t (a)\nVACUUM t", INDEX_BUILD_NONE, "", "", ""},
        {"", INDEX_BUILD_NONE, "", "", ""},
        {"CREATE INDEX CONCURRENTLY i ON", INDEX_BUILD_NONE, "", "", ""},
        {"CREATE INDEX CONCURRENTLY i ON s.", INDEX_BUILD_NONE, "", "", ""},
        /* REINDEX: INDEX or TABLE, CONCURRENTLY as a word or an option */
        {"REINDEX INDEX CONCURRENTLY public.big_v_idx", INDEX_BUILD_REINDEX_INDEX, "public",
         "big_v_idx", ""},
        {"reindex table concurrently Orders", INDEX_BUILD_REINDEX_TABLE, "", "orders", ""},
        {"REINDEX (VERBOSE) INDEX CONCURRENTLY i", INDEX_BUILD_REINDEX_INDEX, "", "i", ""},
        {"REINDEX (CONCURRENTLY, VERBOSE) INDEX i", INDEX_BUILD_REINDEX_INDEX, "", "i", ""},
        {"REINDEX (CONCURRENTLY true) TABLE \"T\"", INDEX_BUILD_REINDEX_TABLE, "", "T", ""},
        {"REINDEX (CONCURRENTLY false) INDEX i", INDEX_BUILD_NONE, "", "", ""},
        {"REINDEX (CONCURRENTLY off, VERBOSE) INDEX i", INDEX_BUILD_NONE, "", "", ""},
        {"REINDEX INDEX i", INDEX_BUILD_NONE, "", "", ""},
        {"REINDEX SCHEMA CONCURRENTLY public", INDEX_BUILD_NONE, "", "", ""},
        {"REINDEX DATABASE CONCURRENTLY d", INDEX_BUILD_NONE, "", "", ""},
        {"REINDEX (VERBOSE INDEX i", INDEX_BUILD_NONE, "", "", ""},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct index_build b;
        int got = index_build_parse(cases[i].stmt, strlen(cases[i].stmt), &b);

        if (got != (cases[i].kind != INDEX_BUILD_NONE) || b.kind != cases[i].kind ||
            strcmp(b.schema, cases[i].schema) != 0 || strcmp(b.name, cases[i].name) != 0 ||
            strcmp(b.table, cases[i].table) != 0)
            fail_msg("case %zu (%s): got %d kind %d schema \"%s\" name \"%s\" table \"%s\"", i,
                     cases[i].stmt, got, (int)b.kind, b.schema, b.name, b.table);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_applier_index_repair_reads_statements),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
