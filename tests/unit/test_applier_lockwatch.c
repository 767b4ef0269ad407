/*
 * test_applier_lockwatch.c: unit tests for applier/lockwatch.c's pure helpers: lock mode names
 * as LOCK TABLE spells them, and ages for people.
 * Layer: tests.
 */
#include "unit.h"

#include "lockwatch.h"

static void
test_applier_lockwatch_mode_names(void **state)
{
    static const struct {
        const char *mode;
        const char *want;
    } cases[] = {
        {"AccessExclusiveLock", "ACCESS EXCLUSIVE"},
        {"ShareRowExclusiveLock", "SHARE ROW EXCLUSIVE"},
        {"ShareUpdateExclusiveLock", "SHARE UPDATE EXCLUSIVE"},
        {"RowExclusiveLock", "ROW EXCLUSIVE"},
        {"AccessShareLock", "ACCESS SHARE"},
        {"ExclusiveLock", "EXCLUSIVE"},
        {"SIReadLock", "SIREAD"},
        {"Lock", "LOCK"},
        {"", ""},
    };
    char out[64];

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        lockwatch_mode_name(cases[i].mode, out, sizeof(out));
        assert_string_equal(out, cases[i].want);
    }
    /* A short buffer truncates at a whole character, always terminated. */
    lockwatch_mode_name("AccessExclusiveLock", out, 5);
    assert_string_equal(out, "ACC");
}

static void
test_applier_lockwatch_ages(void **state)
{
    static const struct {
        double secs;
        const char *want;
    } cases[] = {
        {0, "0 s"}, {59.4, "59 s"}, {240, "4 min"}, {3599, "60 min"}, {9000, "2.5 h"},
    };
    char out[32];

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        lockwatch_age(cases[i].secs, out, sizeof(out));
        assert_string_equal(out, cases[i].want);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_applier_lockwatch_mode_names),
        cmocka_unit_test(test_applier_lockwatch_ages),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
