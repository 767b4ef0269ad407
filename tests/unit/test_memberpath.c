/*
 * test_memberpath.c: unit tests for lib/memberpath.c, the one safety check of bundle member
 * paths (the manifest's and the bundle reader's) and of data file names, driven by tables.
 * Layer: tests.
 */
#include "unit.h"

#include "sealift/memberpath.h"

static void
test_memberpath_valid_table(void **state)
{
    static const struct {
        const char *path;
        int valid;
    } cases[] = {
        {"migrations/000001_a/up.sql", 1},
        {"data/000001_1_users.csv", 1},
        {"a", 1},
        {"a.b-c_D/9", 1},
        {"..a/b", 1}, /* a name that starts with dots is not ".." */
        {"a/...", 1},
        {"", 0},
        {"/etc/passwd", 0},
        {"a/", 0},
        {"a//b", 0},
        {".", 0},
        {"..", 0},
        {"../a", 0},
        {"a/../b", 0},
        {"a/..", 0},
        {"./a", 0},
        {"a/./b", 0},
        {"a\\b", 0},
        {"a b", 0},
        {"a\nb", 0},
        {"caf\xc3\xa9", 0},
        {"a:b", 0},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        if (memberpath_valid(cases[i].path, 99) != cases[i].valid)
            fail_msg("\"%s\": valid %d, expected %d", cases[i].path,
                     memberpath_valid(cases[i].path, 99), cases[i].valid);
}

static void
test_memberpath_valid_length_limit(void **state)
{
    char p[101];

    (void)state;
    memset(p, 'a', 100);
    p[100] = '\0';
    assert_int_equal(memberpath_valid(p, 100), 1);
    assert_int_equal(memberpath_valid(p, 99), 0);
}

static void
test_memberpath_name_valid_table(void **state)
{
    static const struct {
        const char *name;
        int valid;
    } cases[] = {
        {"users.csv", 1},   {"a-b_c.1", 1}, {"", 0},    {".hidden", 0}, {".", 0},
        {"..", 0},          {"a/b", 0},     {"a b", 0}, {"../x", 0},    {"x/", 0},
        {"caf\xc3\xa9", 0},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        if (memberpath_name_valid(cases[i].name, 60) != cases[i].valid)
            fail_msg("\"%s\": valid %d, expected %d", cases[i].name,
                     memberpath_name_valid(cases[i].name, 60), cases[i].valid);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_memberpath_valid_table),
        cmocka_unit_test(test_memberpath_valid_length_limit),
        cmocka_unit_test(test_memberpath_name_valid_table),
    };

    return cmocka_run_group_tests_name("memberpath", tests, NULL, NULL);
}
