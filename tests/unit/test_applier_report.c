/*
 * test_applier_report.c: unit tests for the pure parts of the auditor's report
 * (applier/report_collect.c): splitting a journal row's signers text into the key ids that
 * verified and those that did not.
 * Layer: tests.
 */
#include "unit.h"

#include "report.h"

static void
collect_cb(void *data, const char *keyid, size_t len, int verified)
{
    buf_addf(data, "%s%.*s;", verified ? "+" : "-", (int)len, keyid);
}

static void
test_report_each_signer_table(void **state)
{
    static const struct {
        const char *text;
        const char *want; /* "+ID;" verified, "-ID;" not verified */
    } cases[] = {
        {"", ""},
        {"AAAA", "+AAAA;"},
        {"AAAA,BBBB", "+AAAA;+BBBB;"},
        {"AAAA (not verified here: CCCC)", "+AAAA;-CCCC;"},
        {"AAAA,BBBB (not verified here: CCCC,DDDD)", "+AAAA;+BBBB;-CCCC;-DDDD;"},
        /* Only unverified signatures (an adoption, or a row written before keys were given). */
        {" (not verified here: CCCC)", "-CCCC;"},
        /* Odd shapes a hand-edited row may have: nothing is read past the text. */
        {"AAAA,,BBBB", "+AAAA;+BBBB;"},
        {"AAAA (not verified here: CCCC", "+AAAA;-CCCC;"},
        {"AAAA (not verified here: )", "+AAAA;"},
        {"<b>x</b>", "+<b>x</b>;"},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct buf got = BUF_INIT;

        report_each_signer(cases[i].text, collect_cb, &got);
        assert_string_equal(got.data, cases[i].want);
        buf_release(&got);
    }
    {
        struct buf got = BUF_INIT;

        report_each_signer(NULL, collect_cb, &got);
        assert_string_equal(got.data, "");
        buf_release(&got);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_report_each_signer_table),
    };

    return cmocka_run_group_tests_name("applier_report", tests, NULL, NULL);
}
