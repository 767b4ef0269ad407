/*
 * test_applier_progress.c: unit tests for applier/progress.c's pure part: a progress view's
 * row in words (phase, then the amounts that say something), driven by a table of rows as the
 * server sends them (text, NULL for SQL NULL).
 * Layer: tests.
 */
#include "unit.h"

#include "progress.h"

static void
test_applier_progress_describes_view_rows(void **state)
{
    static const struct {
        const char *phase, *bd, *bt, *td, *tt, *byd, *byt;
        const char *want;
    } cases[] = {
        /* pg_stat_progress_create_index while the table is scanned */
        {"building index: scanning table", "1901", "5000", "0", "0", NULL, NULL,
         "building index: scanning table, blocks 1,901 of 5,000 (38%)"},
        /* then loading the sorted tuples: blocks are 0 of 0 */
        {"building index: loading tuples in tree", "0", "0", "574562", "600000", NULL, NULL,
         "building index: loading tuples in tree, tuples 574,562 of 600,000 (96%)"},
        /* waiting phases count nothing */
        {"waiting for writers before build", "0", "0", "0", "0", NULL, NULL,
         "waiting for writers before build"},
        /* pg_stat_progress_cluster: tuples written, no total, beside blocks */
        {"seq scanning heap", "10", "20", "1234", NULL, NULL, NULL,
         "seq scanning heap, blocks 10 of 20 (50%)"},
        {"writing new heap", "0", "0", "1234", NULL, NULL, NULL, "writing new heap, tuples 1,234"},
        /* pg_stat_progress_copy: no phase; bytes, with or without a total */
        {NULL, NULL, NULL, "100", NULL, "2048", "4096", "tuples 100, bytes 2,048 of 4,096 (50%)"},
        {NULL, NULL, NULL, "0", NULL, "0", NULL, "bytes 0"},
        /* nothing known */
        {NULL, NULL, NULL, NULL, NULL, NULL, NULL, ""},
        {"", "0", "0", NULL, NULL, NULL, NULL, ""},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct buf out = BUF_INIT;

        progress_describe(cases[i].phase, cases[i].bd, cases[i].bt, cases[i].td, cases[i].tt,
                          cases[i].byd, cases[i].byt, &out);
        if (strcmp(out.data, cases[i].want) != 0)
            fail_msg("case %zu: got \"%s\", want \"%s\"", i, out.data, cases[i].want);
        buf_release(&out);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_applier_progress_describes_view_rows),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
