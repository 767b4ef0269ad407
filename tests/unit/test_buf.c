/*
 * test_buf.c: unit tests for lib/buf.c (growable byte buffer and its invariants).
 * Layer: tests.
 */
#include "unit.h"

#include "sealift/buf.h"

/* The invariants of buf.h, checked after every operation. */
static void
assert_buf_invariants(const struct buf *b)
{
    assert_non_null(b->data);
    assert_int_equal(b->data[b->len], '\0');
    if (b->cap == 0) {
        assert_ptr_equal(b->data, buf_empty);
        assert_int_equal(b->len, 0);
    } else {
        assert_true(b->len < b->cap);
    }
}

static void
test_buf_init_invariants(void **state)
{
    struct buf a = BUF_INIT;
    struct buf b;

    (void)state;
    memset(&b, 0xa5, sizeof(b));
    buf_init(&b);
    assert_buf_invariants(&a);
    assert_buf_invariants(&b);
    assert_string_equal(a.data, "");
    assert_int_equal(b.len, 0);
    assert_int_equal(b.cap, 0);
    /* Releasing a never-grown buffer is a no-op that keeps the invariants. */
    buf_release(&a);
    assert_buf_invariants(&a);
}

static void
test_buf_add_grows_and_terminates(void **state)
{
    struct buf b = BUF_INIT;
    char expect[10000];

    (void)state;
    for (size_t i = 0; i < sizeof(expect); i++) {
        char c = (char)('a' + i % 26);

        buf_addch(&b, c);
        expect[i] = c;
        assert_buf_invariants(&b);
    }
    assert_int_equal(b.len, sizeof(expect));
    assert_memory_equal(b.data, expect, sizeof(expect));
    buf_addstr(&b, "tail");
    assert_int_equal(b.len, sizeof(expect) + 4);
    assert_string_equal(b.data + sizeof(expect), "tail");
    buf_add(&b, "ignored", 0);
    assert_int_equal(b.len, sizeof(expect) + 4);
    assert_buf_invariants(&b);
    buf_release(&b);
    assert_buf_invariants(&b);
}

static void
test_buf_grow_reserves_room(void **state)
{
    struct buf b = BUF_INIT;
    char *before;

    (void)state;
    buf_grow(&b, 1000);
    assert_true(b.cap >= 1001);
    assert_int_equal(b.len, 0);
    assert_buf_invariants(&b);
    before = b.data;
    /* Room that was reserved is used without moving the data. */
    for (int i = 0; i < 1000; i++)
        buf_addch(&b, 'x');
    assert_ptr_equal(b.data, before);
    assert_int_equal(b.len, 1000);
    assert_buf_invariants(&b);
    buf_release(&b);
}

/* buf_reserve grows to exactly the room asked for, never less, and keeps the contents. */
static void
test_buf_reserve_exact_room(void **state)
{
    struct buf b = BUF_INIT;
    (void)state;

    buf_reserve(&b, 1000);
    assert_int_equal(b.cap, 1001);
    assert_int_equal(b.len, 0);
    assert_string_equal(b.data, "");
    buf_addstr(&b, "abc");
    buf_reserve(&b, 10); /* room enough already: unchanged */
    assert_int_equal(b.cap, 1001);
    buf_reserve(&b, 5000);
    assert_int_equal(b.cap, 5004);
    assert_string_equal(b.data, "abc");
    buf_release(&b);
}

static void
test_buf_addf_formats_and_grows(void **state)
{
    struct buf b = BUF_INIT;
    char big[5000];

    (void)state;
    /* The first addf goes through the cap == 0 path. */
    buf_addf(&b, "%d-%s-%c", 42, "x", 'y');
    assert_string_equal(b.data, "42-x-y");
    assert_int_equal(b.len, 6);
    assert_buf_invariants(&b);
    /* An empty result appends nothing. */
    buf_addf(&b, "%s", "");
    assert_int_equal(b.len, 6);
    /* Output longer than the remaining capacity forces a second vsnprintf pass. */
    memset(big, 'z', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    buf_addf(&b, "[%s]", big);
    assert_int_equal(b.len, 6 + 2 + sizeof(big) - 1);
    assert_memory_equal(b.data, "42-x-y[zzz", 10);
    assert_int_equal(b.data[b.len - 1], ']');
    assert_buf_invariants(&b);
    /* Output that exactly fills the remaining room (len + n + 1 == cap). */
    {
        size_t room = b.cap - b.len - 1;
        char *fill = malloc(room + 1);
        size_t before = b.len;

        assert_non_null(fill);
        memset(fill, 'q', room);
        fill[room] = '\0';
        buf_addf(&b, "%s", fill);
        assert_int_equal(b.len, before + room);
        assert_int_equal(b.data[b.len - 1], 'q');
        assert_buf_invariants(&b);
        free(fill);
    }
    buf_release(&b);
}

static void
test_buf_embedded_nuls(void **state)
{
    static const char bin[] = {'a', '\0', 'b', '\0', '\0', 'c'};
    struct buf b = BUF_INIT;

    (void)state;
    buf_add(&b, bin, sizeof(bin));
    buf_addch(&b, '\0');
    assert_int_equal(b.len, sizeof(bin) + 1);
    assert_memory_equal(b.data, bin, sizeof(bin));
    assert_int_equal(b.data[sizeof(bin)], '\0');
    assert_buf_invariants(&b);
    /* String functions stop at the first NUL; the length does not. */
    assert_int_equal(strlen(b.data), 1);
    buf_addstr(&b, "z");
    assert_int_equal(b.len, sizeof(bin) + 2);
    assert_int_equal(b.data[sizeof(bin) + 1], 'z');
    buf_release(&b);
}

static void
test_buf_detach_hands_over_memory(void **state)
{
    struct buf b = BUF_INIT;
    size_t len = 99;
    char *p;

    (void)state;
    buf_addstr(&b, "hello");
    p = buf_detach(&b, &len);
    assert_string_equal(p, "hello");
    assert_int_equal(len, 5);
    assert_buf_invariants(&b);
    assert_int_equal(b.cap, 0);
    /* The buffer is reusable and no longer shares memory with p. */
    buf_addstr(&b, "other");
    assert_string_equal(p, "hello");
    free(p);
    buf_release(&b);

    /* Detaching a never-grown buffer still gives free()-able memory. */
    len = 99;
    p = buf_detach(&b, &len);
    assert_non_null(p);
    assert_ptr_not_equal(p, buf_empty);
    assert_string_equal(p, "");
    assert_int_equal(len, 0);
    free(p);
    p = buf_detach(&b, NULL);
    assert_string_equal(p, "");
    free(p);
}

static void
test_buf_truncate_reset_release(void **state)
{
    struct buf b = BUF_INIT;
    size_t cap;

    (void)state;
    buf_addstr(&b, "abcdef");
    cap = b.cap;
    buf_truncate(&b, 3);
    assert_string_equal(b.data, "abc");
    assert_int_equal(b.len, 3);
    assert_buf_invariants(&b);
    /* Truncating past the end changes nothing. */
    buf_truncate(&b, 10);
    assert_string_equal(b.data, "abc");
    assert_int_equal(b.len, 3);
    buf_reset(&b);
    assert_string_equal(b.data, "");
    assert_int_equal(b.len, 0);
    assert_int_equal(b.cap, cap); /* the allocation is kept */
    assert_buf_invariants(&b);
    buf_addstr(&b, "xy");
    assert_string_equal(b.data, "xy");
    buf_release(&b);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.cap, 0);
    assert_buf_invariants(&b);
    /* Reset and truncate on a never-grown buffer must not write into buf_empty. */
    buf_reset(&b);
    buf_truncate(&b, 0);
    assert_buf_invariants(&b);
    assert_int_equal(buf_empty[0], '\0');
}

static void vaddf_helper(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
vaddf_helper(struct buf *b, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    buf_vaddf(b, fmt, ap);
    va_end(ap);
}

static void
test_buf_vaddf_appends(void **state)
{
    struct buf b = BUF_INIT;

    (void)state;
    buf_addstr(&b, "n=");
    vaddf_helper(&b, "%zu/%s", (size_t)7, "seven");
    assert_string_equal(b.data, "n=7/seven");
    assert_int_equal(b.len, 9);
    buf_release(&b);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buf_init_invariants),
        cmocka_unit_test(test_buf_add_grows_and_terminates),
        cmocka_unit_test(test_buf_grow_reserves_room),
        cmocka_unit_test(test_buf_reserve_exact_room),
        cmocka_unit_test(test_buf_addf_formats_and_grows),
        cmocka_unit_test(test_buf_embedded_nuls),
        cmocka_unit_test(test_buf_detach_hands_over_memory),
        cmocka_unit_test(test_buf_truncate_reset_release),
        cmocka_unit_test(test_buf_vaddf_appends),
    };

    return cmocka_run_group_tests_name("buf", tests, NULL, NULL);
}
