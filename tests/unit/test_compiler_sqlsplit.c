/*
 * test_compiler_sqlsplit.c: statement ends and inline COPY data (compiler/sqlsplit.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "sqlsplit.h"

static size_t
end_of(const char *sql)
{
    return sqlsplit_statement_end(sql, strlen(sql), 0);
}

static void
test_sqlsplit_ends_at_top_level_semicolon(void **state)
{
    static const struct {
        const char *sql;
        size_t end;
    } cases[] = {
        {"SELECT 1; SELECT 2;", 8},
        {"SELECT ';'; x", 10},
        {"SELECT 'it''s;'; x", 15},
        {"SELECT E'\\';'; x", 13},
        {"SELECT \"a;b\"; x", 12},
        {"SELECT $$;$$; x", 12},
        {"SELECT $tag$ $$; $tag$; x", 22},
        {"SELECT $1; x", 9},
        {"SELECT a$b; x", 10},
        {"SELECT 1 -- ;\n; x", 14},
        {"SELECT /* ; /* ; */ ; */ 1; x", 26},
        {"CREATE RULE r AS ON INSERT TO t DO INSTEAD (SELECT 1; SELECT 2); x", 63},
        {"SELECT 1", 8},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t got = end_of(cases[i].sql);

        if (got != cases[i].end)
            fail_msg("case %zu \"%s\": end %zu, want %zu", i, cases[i].sql, got, cases[i].end);
    }
}

static void
test_sqlsplit_starts_with_copy(void **state)
{
    (void)state;
    assert_true(sqlsplit_starts_with_copy("COPY t FROM stdin", 17));
    assert_true(sqlsplit_starts_with_copy("\n-- load\n  copy t", 17));
    assert_true(sqlsplit_starts_with_copy("/* x */ Copy t", 14));
    assert_false(sqlsplit_starts_with_copy("COPYRIGHT", 9));
    assert_false(sqlsplit_starts_with_copy("SELECT 'COPY'", 13));
}

static void
test_sqlsplit_copy_data(void **state)
{
    const char *sql = "COPY t FROM stdin;\n1\tAlice\n2\tO'Neil\n\\.\nSELECT 1;";
    size_t semi = end_of(sql), start = 0, end = 0, after = 0;

    (void)state;
    assert_int_equal(semi, 17);
    assert_int_equal(sqlsplit_copy_data(sql, strlen(sql), semi, &start, &end, &after), 0);
    assert_int_equal(start, 19);
    assert_memory_equal(sql + start, "1\tAlice\n2\tO'Neil\n", end - start);
    assert_string_equal(sql + after, "SELECT 1;");
}

static void
test_sqlsplit_copy_data_refusals(void **state)
{
    const char *no_end = "COPY t FROM stdin;\n1\n2\n";
    const char *junk = "COPY t FROM stdin; SELECT 1;\n1\n\\.\n";
    const char *comment = "COPY t FROM stdin; -- data below\n1\n\\.";
    size_t start, end, after;

    (void)state;
    assert_int_equal(sqlsplit_copy_data(no_end, strlen(no_end), 17, &start, &end, &after), -2);
    assert_int_equal(sqlsplit_copy_data(junk, strlen(junk), 17, &start, &end, &after), -1);
    assert_int_equal(start, 19);
    assert_int_equal(sqlsplit_copy_data(comment, strlen(comment), 17, &start, &end, &after), 0);
    assert_int_equal(end - start, 2);
    assert_int_equal(after, strlen(comment));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sqlsplit_ends_at_top_level_semicolon),
        cmocka_unit_test(test_sqlsplit_starts_with_copy),
        cmocka_unit_test(test_sqlsplit_copy_data),
        cmocka_unit_test(test_sqlsplit_copy_data_refusals),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
