/*
 * test_numarg.c: unit tests for lib/numarg.c (range-checked numeric and duration options).
 * Layer: tests. Bad values come from a table: each must be refused with a message that names
 * the option and its range.
 */
#include "unit.h"

#include "sealift/numarg.h"

static void
test_numarg_integer_accepts_the_range(void **state)
{
    struct diag_err err = DIAG_ERR_INIT;
    unsigned long long v = 0;
    unsigned u = 0;

    (void)state;
    assert_int_equal(numarg_integer("--serial", "0", 0, 9223372036854775807ULL, &v, &err), 0);
    assert_true(v == 0);
    assert_int_equal(
        numarg_integer("--serial", "9223372036854775807", 0, 9223372036854775807ULL, &v, &err), 0);
    assert_true(v == 9223372036854775807ULL);
    assert_int_equal(numarg_uint("--threshold", "64", 1, 64, &u, &err), 0);
    assert_int_equal(u, 64);
    assert_int_equal(numarg_uint("--threshold", "007", 1, 64, &u, &err), 0);
    assert_int_equal(u, 7);
}

static void
test_numarg_integer_rejects_bad_values(void **state)
{
    static const struct {
        const char *text;
        const char *msg;
    } bad[] = {
        /* strtoul took this for 1 once cast to unsigned */
        {"4294967297", "--threshold must be a number from 1 to 64, not \"4294967297\""},
        {"18446744073709551617", "not \"18446744073709551617\""}, /* beyond 64 bits */
        {"0", "--threshold must be a number from 1 to 64, not \"0\""},
        {"65", "from 1 to 64"},
        {"-1", "not \"-1\""},
        {"+3", "not \"+3\""},
        {" 3", "not \" 3\""},
        {"3 ", "not \"3 \""},
        {"0x10", "not \"0x10\""},
        {"1e1", "not \"1e1\""},
        {"", "not \"\""},
        {"12345678901234567890123456789012345678901234567890", "(cut)"},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct diag_err err = DIAG_ERR_INIT;
        unsigned u = 99;

        assert_int_equal(numarg_uint("--threshold", bad[i].text, 1, 64, &u, &err), -1);
        assert_int_equal(u, 99);
        assert_contains(err.msg, bad[i].msg);
    }
}

static void
test_numarg_integer_names_a_non_negative_range(void **state)
{
    struct diag_err err = DIAG_ERR_INIT;
    unsigned long long v;

    (void)state;
    assert_int_equal(
        numarg_integer("--serial", "9223372036854775808", 0, 9223372036854775807ULL, &v, &err), -1);
    assert_contains(err.msg, "--serial must be a non-negative integer (0 to 9223372036854775807)");
}

static void
test_numarg_duration_accepts_seconds_and_units(void **state)
{
    static const struct {
        const char *text;
        long ms;
    } good[] = {
        {"0", 0},         {"60", 60000},   {"0.3", 300},        {"2.5s", 2500}, {"500ms", 500},
        {"2min", 120000}, {"1h", 3600000}, {"86400", 86400000}, {"0.0001", 0},  {"1.25", 1250},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        struct diag_err err = DIAG_ERR_INIT;
        long ms = -1;

        assert_int_equal(numarg_duration_ms("--lock-timeout", good[i].text, 86400000, &ms, &err),
                         0);
        assert_int_equal(ms, good[i].ms);
    }
}

static void
test_numarg_duration_rejects_bad_values(void **state)
{
    static const char *const bad[] = {
        "soon", "-1", "86401", "25h", "1e3",  "inf", "nan",
        "0x10", "5.", ".5",    "5 s", "5sec", "",    "99999999999999999999"};

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct diag_err err = DIAG_ERR_INIT;
        long ms = -1;

        assert_int_equal(numarg_duration_ms("--lock-timeout", bad[i], 86400000, &ms, &err), -1);
        assert_int_equal(ms, -1);
        assert_contains(err.msg, "--lock-timeout must be a number of seconds from 0 to 86400");
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_numarg_integer_accepts_the_range),
        cmocka_unit_test(test_numarg_integer_rejects_bad_values),
        cmocka_unit_test(test_numarg_integer_names_a_non_negative_range),
        cmocka_unit_test(test_numarg_duration_accepts_seconds_and_units),
        cmocka_unit_test(test_numarg_duration_rejects_bad_values),
    };

    return cmocka_run_group_tests_name("numarg", tests, NULL, NULL);
}
