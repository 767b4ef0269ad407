/*
 * test_compiler_spill.c: the spill of checked scripts (compiler/spill.c) and the chain's use of
 * it (chain_spill_migration, chain_script_text): bytes come back as they went, through the
 * reader's window or around it, and a TMPDIR that cannot hold the file is an error.
 * Layer: tests.
 */
#include "unit.h"

#include "chain.h"
#include "spill.h"
#include "sealift/xalloc.h"

#include <stdlib.h>

/* n bytes of a pattern that differs with seed, so that a read at the wrong place shows. */
static char *
pattern(size_t n, unsigned seed)
{
    char *p = xmalloc(n + 1);

    for (size_t i = 0; i < n; i++)
        p[i] = (char)('A' + (i * 7 + seed) % 53);
    p[n] = '\0';
    return p;
}

static struct spill *
open_spill(void)
{
    struct diag_err err = DIAG_ERR_INIT;
    struct spill *s = spill_open(&err);

    if (s == NULL)
        fail_msg("spill_open: %s", err.msg);
    return s;
}

/* Scripts of every size, read back out of order: before, inside and past the window. */
static void
test_spill_reads_back_what_was_put(void **state)
{
    static const size_t sizes[] = {0, 1, 100, 4096, 40000, 200000, 300000, 5, 700000, 17};
    enum { N = sizeof(sizes) / sizeof(sizes[0]) };
    static const int order[] = {9, 0, 5, 1, 8, 2, 7, 3, 6, 4, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0};
    struct spill *s = open_spill();
    struct spill_reader r;
    struct diag_err err = DIAG_ERR_INIT;
    char *data[N];
    uint64_t off[N];

    (void)state;
    for (size_t i = 0; i < N; i++) {
        struct iovec iov = {NULL, sizes[i]};

        data[i] = pattern(sizes[i], (unsigned)i);
        iov.iov_base = data[i];
        assert_int_equal(spill_put(s, &iov, 1, &off[i], &err), 0);
        if (i > 0)
            assert_true(off[i] == off[i - 1] + sizes[i - 1]);
    }
    spill_reader_init(&r, s);
    for (size_t j = 0; j < sizeof(order) / sizeof(order[0]); j++) {
        size_t i = (size_t)order[j];
        char *got = xmalloc(sizes[i] + 1);

        assert_int_equal(spill_read(&r, off[i], got, sizes[i], &err), 0);
        assert_memory_equal(got, data[i], sizes[i]);
        free(got);
    }
    /* Past the end: an error, not bytes from nowhere. */
    {
        char c;

        assert_int_equal(spill_read(&r, off[N - 1] + sizes[N - 1], &c, 1, &err), -1);
        assert_non_null(strstr(err.msg, "temporary file"));
    }
    spill_reader_release(&r);
    for (size_t i = 0; i < N; i++)
        free(data[i]);
    spill_close(s);
}

/* The cursor hands a stretch out in pieces of the size asked for, then 0. */
static void
test_spill_cursor_reads_a_stretch_in_pieces(void **state)
{
    struct spill *s = open_spill();
    struct spill_reader r;
    struct diag_err err = DIAG_ERR_INIT;
    char *a = pattern(1000, 1), *b = pattern(3000, 2), got[3000];
    struct iovec iov[2] = {{a, 1000}, {b, 3000}};
    uint64_t off;
    struct spill_cursor c;
    size_t have = 0;
    ssize_t n;

    (void)state;
    assert_int_equal(spill_put(s, iov, 2, &off, &err), 0);
    spill_reader_init(&r, s);
    c.r = &r;
    c.off = off + 1000;
    c.left = 3000;
    while ((n = spill_cursor_read(&c, got + have, 700, &err)) > 0) {
        assert_true(n <= 700);
        have += (size_t)n;
    }
    assert_int_equal(n, 0);
    assert_int_equal(have, 3000);
    assert_memory_equal(got, b, 3000);
    spill_reader_release(&r);
    spill_close(s);
    free(a);
    free(b);
}

/* A migration's scripts leave memory in one write and come back NUL-terminated, sizes kept. */
static void
test_chain_spill_migration_and_script_text(void **state)
{
    struct src_chain c;
    struct src_migration *m;
    struct spill_reader r;
    struct buf scratch = BUF_INIT;
    struct diag_err err = DIAG_ERR_INIT;
    const char *up = "CREATE TABLE t (id int);\n", *down = "DROP TABLE t;\n";

    (void)state;
    chain_init(&c);
    m = chain_add(&c, "1", "t");
    m->script[MANIFEST_UP].present = 1;
    buf_addstr(&m->script[MANIFEST_UP].rendered, up);
    m->script[MANIFEST_DOWN].present = 1;
    buf_addstr(&m->script[MANIFEST_DOWN].rendered, down);

    /* Without a spill, nothing moves. */
    assert_int_equal(chain_spill_migration(&c, m, &err), 0);
    assert_false(m->script[MANIFEST_UP].spilled);
    assert_string_equal(chain_script_text(&m->script[MANIFEST_UP], NULL, &scratch), up);

    c.spill = open_spill();
    assert_int_equal(chain_spill_migration(&c, m, &err), 0);
    for (int k = 0; k < 2; k++) {
        const struct src_script *s = &m->script[k];
        const char *want = k == MANIFEST_UP ? up : down;

        assert_true(s->spilled);
        assert_int_equal(s->rendered.len, 0);
        assert_int_equal(chain_script_size(s), strlen(want));
    }
    assert_false(m->script[MANIFEST_VERIFY].spilled);
    spill_reader_init(&r, c.spill);
    assert_string_equal(chain_script_text(&m->script[MANIFEST_DOWN], &r, &scratch), down);
    assert_string_equal(chain_script_text(&m->script[MANIFEST_UP], &r, &scratch), up);
    assert_int_equal(scratch.len, strlen(up));
    spill_reader_release(&r);
    buf_release(&scratch);
    chain_release(&c);
}

/* A TMPDIR that does not exist: no spill, and a message that names it. */
static void
test_spill_open_names_an_unusable_tmpdir(void **state)
{
    struct diag_err err = DIAG_ERR_INIT;
    char *saved = getenv("TMPDIR") ? xstrdup(getenv("TMPDIR")) : NULL;

    (void)state;
    setenv("TMPDIR", "/nonexistent-sealift-dir", 1);
    assert_null(spill_open(&err));
    assert_string_equal(err.msg, "could not create a temporary file in "
                                 "\"/nonexistent-sealift-dir\": No such file or directory");
    if (saved)
        setenv("TMPDIR", saved, 1);
    else
        unsetenv("TMPDIR");
    free(saved);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spill_reads_back_what_was_put),
        cmocka_unit_test(test_spill_cursor_reads_a_stretch_in_pieces),
        cmocka_unit_test(test_chain_spill_migration_and_script_text),
        cmocka_unit_test(test_spill_open_names_an_unusable_tmpdir),
    };

    return cmocka_run_group_tests_name("compiler_spill", tests, NULL, NULL);
}
