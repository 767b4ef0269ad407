/*
 * test_table.c: unit tests for lib/table.c (text tables whose columns fit their longest cell).
 * Layer: tests.
 */
#include "unit.h"

#include "sealift/table.h"

/* Format t into a fresh buf, compare with want, release both. */
static void
check_table(struct table *t, const char *want)
{
    struct buf out = BUF_INIT;

    table_format(t, &out);
    assert_string_equal(out.data, want);
    buf_release(&out);
    table_release(t);
}

static void
test_table_columns_fit_longest_cell(void **state)
{
    struct table t;

    (void)state;
    table_init(&t, 3, "  ");
    table_cell(&t, "name");
    table_cell(&t, "mode");
    table_cell(&t, "sum");
    table_cell(&t, "a");
    table_cell(&t, "tx");
    table_cell(&t, "%d", 1);
    table_cell(&t, "a_much_longer_name");
    table_cell(&t, "no-tx");
    table_cell(&t, "%s", "22");
    check_table(&t, "  name                mode   sum\n"
                    "  a                   tx     1\n"
                    "  a_much_longer_name  no-tx  22\n");
}

static void
test_table_right_alignment_and_minimum(void **state)
{
    struct table t;

    (void)state;
    table_init(&t, 2, "");
    table_column(&t, 0, TABLE_RIGHT, 4);
    table_cell(&t, "#");
    table_cell(&t, "id");
    table_cell(&t, "%d", 7);
    table_cell(&t, "x");
    table_cell(&t, "%d", 123456);
    table_cell(&t, "y");
    check_table(&t, "     #  id\n"
                    "     7  x\n"
                    "123456  y\n");
}

/* A left-aligned last column is not padded, and an empty last cell leaves no blanks. */
static void
test_table_no_trailing_blanks(void **state)
{
    struct table t;

    (void)state;
    table_init(&t, 3, "  ");
    table_cell(&t, "a");
    table_cell(&t, "bbbb");
    table_cell(&t, "c");
    table_cell(&t, "aaaa");
    table_cell(&t, "%s", "");
    table_cell(&t, "%s", "");
    check_table(&t, "  a     bbbb  c\n"
                    "  aaaa\n");
}

/* A note is a line of its own: it widens no column, however long. */
static void
test_table_note(void **state)
{
    struct table t;

    (void)state;
    table_init(&t, 2, "  ");
    table_cell(&t, "a");
    table_cell(&t, "b");
    table_note(&t, "    allowed: %s", "a reason longer than any cell");
    table_cell(&t, "ccc");
    table_cell(&t, "d");
    check_table(&t, "  a    b\n"
                    "      allowed: a reason longer than any cell\n"
                    "  ccc  d\n");
}

/* Widths count UTF-8 characters, not bytes, so that a name in another script lines up too. */
static void
test_table_utf8_width(void **state)
{
    struct table t;

    (void)state;
    table_init(&t, 2, "");
    table_cell(&t, "caf\xc3\xa9");
    table_cell(&t, "x");
    table_cell(&t, "tea");
    table_cell(&t, "y");
    check_table(&t, "caf\xc3\xa9  x\n"
                    "tea   y\n");
}

static void
test_table_empty(void **state)
{
    struct table t;

    (void)state;
    table_init(&t, 4, "  ");
    check_table(&t, "");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table_columns_fit_longest_cell),
        cmocka_unit_test(test_table_right_alignment_and_minimum),
        cmocka_unit_test(test_table_no_trailing_blanks),
        cmocka_unit_test(test_table_note),
        cmocka_unit_test(test_table_utf8_width),
        cmocka_unit_test(test_table_empty),
    };

    return cmocka_run_group_tests_name("table", tests, NULL, NULL);
}
