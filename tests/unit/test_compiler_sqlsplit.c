/*
 * test_compiler_sqlsplit.c: inline COPY data (compiler/sqlsplit.c); statement ends are
 * lib/sqllex.c's, tested in test_sqllex.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "sqlsplit.h"
#include "sealift/sqllex.h"

static size_t
end_of(const char *sql)
{
    return sqllex_statement_end(sql, strlen(sql), 0);
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
    /* Block comments nest, as in PostgreSQL: the first "*\/" does not end this one. */
    assert_true(sqlsplit_starts_with_copy("/* a /* b */ c */ COPY t", 24));
    assert_false(sqlsplit_starts_with_copy("/* a /* b */ COPY */ SELECT 1", 29));
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
        cmocka_unit_test(test_sqlsplit_starts_with_copy),
        cmocka_unit_test(test_sqlsplit_copy_data),
        cmocka_unit_test(test_sqlsplit_copy_data_refusals),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
