/*
 * test_compiler_idindex.c: the sorted id index (compiler/idindex.c) that the pipeline looks
 * migrations up by: every id found at its position, the earliest of equal ids, absent ids and
 * an empty list not found.
 * Layer: tests.
 */
#include "unit.h"

#include "idindex.h"

#include <stdint.h>

static const char *
id_of(const void *list, size_t i)
{
    return ((const char *const *)list)[i];
}

static void
test_id_index_finds_each_at_its_position(void **state)
{
    /* Out of order, of different lengths, with a prefix of another ("10" and "1"). */
    static const char *const ids[] = {"20260101", "10", "3", "1", "0002", "99999999999"};
    struct id_index ix;

    (void)state;
    id_index_build(&ix, ids, sizeof(ids) / sizeof(ids[0]), id_of);
    for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
        assert_int_equal(id_index_find(&ix, ids[i]), i);
    assert_int_equal(id_index_find(&ix, "2"), SIZE_MAX);
    assert_int_equal(id_index_find(&ix, "100"), SIZE_MAX);
    assert_int_equal(id_index_find(&ix, ""), SIZE_MAX);
    assert_int_equal(id_index_find(&ix, "999999999999"), SIZE_MAX);
    id_index_release(&ix);
}

static void
test_id_index_equal_ids_give_the_earliest(void **state)
{
    static const char *const ids[] = {"5", "7", "5", "7", "7", "1"};
    struct id_index ix;

    (void)state;
    id_index_build(&ix, ids, sizeof(ids) / sizeof(ids[0]), id_of);
    assert_int_equal(id_index_find(&ix, "5"), 0);
    assert_int_equal(id_index_find(&ix, "7"), 1);
    assert_int_equal(id_index_find(&ix, "1"), 5);
    /* Sorted by id, equal ids together in list order. */
    assert_string_equal(ix.v[0].id, "1");
    assert_int_equal(ix.v[3].at, 1);
    assert_int_equal(ix.v[4].at, 3);
    assert_int_equal(ix.v[5].at, 4);
    id_index_release(&ix);
}

static void
test_id_index_empty(void **state)
{
    struct id_index ix;

    (void)state;
    id_index_build(&ix, NULL, 0, id_of);
    assert_int_equal(id_index_find(&ix, "1"), SIZE_MAX);
    id_index_release(&ix);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_id_index_finds_each_at_its_position),
        cmocka_unit_test(test_id_index_equal_ids_give_the_earliest),
        cmocka_unit_test(test_id_index_empty),
    };

    return cmocka_run_group_tests_name("compiler_idindex", tests, NULL, NULL);
}
