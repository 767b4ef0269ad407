/*
 * test_version.c: unit tests for lib/version.c: the decimal order (native, golang-migrate,
 * goose), Flyway's dotted order and the "same version" rule of adoption, driven by tables.
 * Layer: tests.
 */
#include "unit.h"

#include "sealift/version.h"

struct cmp_case {
    const char *a;
    const char *b;
    int sign; /* of cmp(a, b) */
};

static int
sign(int c)
{
    return (c > 0) - (c < 0);
}

/* Each case, and its mirror: cmp(b, a) must have the opposite sign. */
static void
check_cmp_table(const char *what, int (*cmp)(const char *, const char *),
                const struct cmp_case *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int c = sign(cmp(cases[i].a, cases[i].b)), r = sign(cmp(cases[i].b, cases[i].a));

        if (c != cases[i].sign || r != -cases[i].sign)
            fail_msg("%s: \"%s\" vs \"%s\": %d (reversed %d), expected %d", what, cases[i].a,
                     cases[i].b, c, r, cases[i].sign);
    }
}

#define HUGE_A "123456789012345678901234567890" /* beyond 64 bits */
#define HUGE_B "123456789012345678901234567891"

static void
test_version_decimal_order(void **state)
{
    static const struct cmp_case cases[] = {
        {"1", "2", -1},
        {"2", "10", -1},
        {"9", "10", -1},
        {"0042", "42", 0},
        {"007", "7", 0},
        {"000", "0", 0},
        {"0", "1", -1},
        {"0010", "9", 1},
        {"20240101000000", "20231231235959", 1},
        {"18446744073709551615", "18446744073709551616", -1}, /* 2^64 - 1 and 2^64 */
        {HUGE_A, HUGE_B, -1},
        {"000" HUGE_A, HUGE_A, 0},
        {HUGE_A, "99999999999999999999", 1},
    };

    (void)state;
    check_cmp_table("decimal", version_decimal_cmp, cases, sizeof(cases) / sizeof(cases[0]));
}

static void
test_version_decimal_is_and_canonical(void **state)
{
    static const struct {
        const char *in;
        int decimal;
        const char *canonical; /* when decimal */
    } cases[] = {
        {"0042", 1, "42"}, {"0", 1, "0"},   {"000", 1, "0"},  {"10", 1, "10"},  {HUGE_A, 1, HUGE_A},
        {"", 0, NULL},     {"1a", 0, NULL}, {"a1", 0, NULL},  {" 1", 0, NULL},  {"1 ", 0, NULL},
        {"-1", 0, NULL},   {"+1", 0, NULL}, {"1.0", 0, NULL}, {"1_0", 0, NULL},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t n = strlen(cases[i].in);

        if (version_is_decimal(cases[i].in, n) != cases[i].decimal)
            fail_msg("\"%s\": decimal %d, expected %d", cases[i].in,
                     version_is_decimal(cases[i].in, n), cases[i].decimal);
        if (cases[i].decimal) {
            char *c = version_decimal_canonical(cases[i].in, n);

            assert_string_equal(c, cases[i].canonical);
            free(c);
        }
    }
}

/*
 * Flyway (flyway-core MigrationVersion): parts compared as numbers of any size, trailing zero
 * parts do not count, "_" reads as ".". Text that is not a version sorts after every version.
 */
static void
test_version_flyway_order(void **state)
{
    static const struct cmp_case cases[] = {
        {"1.9", "1.10", -1},
        {"1", "1.0", 0},
        {"1.0.0", "1", 0},
        {"2", "10", -1},
        {"005", "5", 0},
        {"1.2.3", "1.2", 1},
        {"1.01", "1.1", 0},
        {"1_1", "1.1", 0},
        {"1.0.1", "1", 1},
        {"0", "0.0.0", 0},
        {"1.2", "1.10", -1},
        {"00001.00002", "1.2", 0},
        {"1." HUGE_A, "1." HUGE_B, -1},
        {HUGE_B ".0", HUGE_B, 0},
        {"2024.01.01.0001", "2024.1.1.2", -1},
        /* Not Flyway versions: ordered after the versions, as text among themselves. */
        {"1a", "1", 1},
        {"1a", "1a", 0},
        {"1a", "1b", -1},
        {"", "1", 1},
        {"1..2", "1.2", 1},
        {"1.", "1", 1},
        {".1", "1", 1},
        {"1.2a", "99", 1},
    };

    (void)state;
    check_cmp_table("flyway", version_flyway_cmp, cases, sizeof(cases) / sizeof(cases[0]));
}

static void
test_version_flyway_valid(void **state)
{
    static const struct {
        const char *v;
        int valid;
    } cases[] = {
        {"1", 1},    {"1.2", 1},  {"1_2", 1}, {"1.2_3", 1}, {"007", 1},  {HUGE_A, 1},
        {"", 0},     {"1a", 0},   {"a", 0},   {"1.", 0},    {".1", 0},   {"1..2", 0},
        {"1._2", 0}, {"1__2", 0}, {"-1", 0},  {"1 ", 0},    {"1.2.", 0}, {"_", 0},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        if (version_flyway_valid(cases[i].v) != cases[i].valid)
            fail_msg("\"%s\": valid %d, expected %d", cases[i].v, version_flyway_valid(cases[i].v),
                     cases[i].valid);
}

/* Sorting with the order must terminate and be consistent, whatever the input. */
static int
flyway_qsort_cb(const void *a, const void *b)
{
    return version_flyway_cmp(*(const char *const *)a, *(const char *const *)b);
}

static void
test_version_flyway_sorts_mixed_input(void **state)
{
    const char *v[] = {"1a", "10", "1.10", "", "1.9", "1", "x", "1.0", "2"};
    static const char *const want[] = {"1", "1.0", "1.9", "1.10", "2", "10", "", "1a", "x"};

    (void)state;
    qsort(v, sizeof(v) / sizeof(v[0]), sizeof(v[0]), flyway_qsort_cb);
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        /* "1" and "1.0" are one version: either order is a correct sort. */
        if (i < 2)
            assert_int_equal(version_flyway_cmp(v[i], "1"), 0);
        else
            assert_string_equal(v[i], want[i]);
    }
}

static void
test_version_same_rule(void **state)
{
    static const struct {
        const char *a;
        const char *b;
        int same;
    } cases[] = {
        {"1", "0001", 1},
        {"0001", "1", 1},
        {"20240101000000", "20240101000000", 1},
        {"0", "000", 1},
        {HUGE_A, "0" HUGE_A, 1},
        {HUGE_A, HUGE_B, 0},
        {"1", "2", 0},
        /* Not both decimal: the same text only. */
        {"1.0", "1", 0},
        {"1.1", "1.1", 1},
        {"ae1027a6acf", "ae1027a6acf", 1},
        {"ae1027a6acf", "AE1027A6ACF", 0},
        {"1a", "01a", 0},
        {"", "", 1},
        {"", "0", 0},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        if (version_same(cases[i].a, cases[i].b) != cases[i].same ||
            version_same(cases[i].b, cases[i].a) != cases[i].same)
            fail_msg("\"%s\" and \"%s\": same %d, expected %d", cases[i].a, cases[i].b,
                     version_same(cases[i].a, cases[i].b), cases[i].same);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_version_decimal_order),
        cmocka_unit_test(test_version_decimal_is_and_canonical),
        cmocka_unit_test(test_version_flyway_order),
        cmocka_unit_test(test_version_flyway_valid),
        cmocka_unit_test(test_version_flyway_sorts_mixed_input),
        cmocka_unit_test(test_version_same_rule),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
