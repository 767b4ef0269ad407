/*
 * test_compiler_chain.c: the chain model's shared checks (compiler/chain.c): unique ids, the
 * pipeline's listing exclusions, and held report messages, which are never cut.
 * Layer: tests.
 */
#include "unit.h"

#include "chain.h"
#include "sealift/xalloc.h"

/* The held messages of rep, one per line, "E:" or "W:" first. */
static void
held_lines(const struct report *rep, struct buf *out)
{
    for (size_t at = 0; at < rep->held->len;) {
        const char *msg = rep->held->data + at + 1;

        buf_addf(out, "%c:%s\n", rep->held->data[at], msg);
        at += 1 + strlen(msg) + 1;
    }
}

static void
test_chain_check_unique_ids_names_the_first(void **state)
{
    static const char *const ids[] = {"3", "1", "2", "1", "3", "1", "4"};
    struct src_chain c;
    struct buf held = BUF_INIT, lines = BUF_INIT;
    struct report rep = {0, 0, &held};

    (void)state;
    chain_init(&c);
    for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
        struct src_migration *m = chain_add(&c, ids[i], "x");
        char file[32];

        snprintf(file, sizeof(file), "m%zu.sql", i);
        m->script[MANIFEST_UP].file = xstrdup(file);
    }
    chain_check_unique_ids(&c, &rep);
    assert_int_equal(rep.errors, 3);
    held_lines(&rep, &lines);
    /* In chain order, each naming the earliest migration with that id. */
    assert_string_equal(lines.data,
                        "E:m3.sql: duplicate migration id \"1\" (also m1.sql); every migration "
                        "needs its own\n"
                        "E:m4.sql: duplicate migration id \"3\" (also m0.sql); every migration "
                        "needs its own\n"
                        "E:m5.sql: duplicate migration id \"1\" (also m1.sql); every migration "
                        "needs its own\n");
    buf_release(&lines);
    buf_release(&held);
    chain_release(&c);
}

static void
test_chain_check_unique_ids_quiet_when_unique(void **state)
{
    struct src_chain c;
    struct buf held = BUF_INIT;
    struct report rep = {0, 0, &held};

    (void)state;
    chain_init(&c);
    chain_check_unique_ids(&c, &rep);
    chain_add(&c, "1", "a");
    chain_add(&c, "10", "b");
    chain_add(&c, "01", "c"); /* ids are text here; the formats decide what is the same */
    chain_check_unique_ids(&c, &rep);
    assert_int_equal(rep.errors, 0);
    assert_int_equal(held.len, 0);
    buf_release(&held);
    chain_release(&c);
}

static void
test_chain_drop_ignored(void **state)
{
    struct src_chain c;

    (void)state;
    chain_init(&c);
    chain_add_ignored(&c, "README.md");
    chain_add_ignored(&c, "sealift.sum");
    chain_add_ignored(&c, "sub/sealift.sum");
    chain_add_ignored(&c, "z/");
    chain_drop_ignored(&c, "sealift.sum");
    assert_int_equal(c.nignored, 3);
    assert_string_equal(c.ignored[0], "README.md");
    assert_string_equal(c.ignored[1], "sub/sealift.sum");
    assert_string_equal(c.ignored[2], "z/");
    chain_release(&c);
}

/* A report message longer than any fixed buffer arrives whole. */
static void
test_chain_report_never_cuts_a_message(void **state)
{
    struct buf held = BUF_INIT, big = BUF_INIT;
    struct report rep = {0, 0, &held};

    (void)state;
    for (int i = 0; i < 5000; i++)
        buf_addch(&big, (char)('a' + i % 26));
    report_error(&rep, "%s:1: %s END", "f.sql", big.data);
    assert_int_equal(held.len, 1 + strlen("f.sql:1: ") + big.len + strlen(" END") + 1);
    assert_string_equal(held.data + held.len - 5, " END");
    buf_release(&big);
    buf_release(&held);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chain_check_unique_ids_names_the_first),
        cmocka_unit_test(test_chain_check_unique_ids_quiet_when_unique),
        cmocka_unit_test(test_chain_drop_ignored),
        cmocka_unit_test(test_chain_report_never_cuts_a_message),
    };

    return cmocka_run_group_tests_name("compiler_chain", tests, NULL, NULL);
}
