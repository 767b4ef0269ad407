/*
 * test_xalloc.c: unit tests for lib/xalloc.c (allocation that cannot fail).
 * Layer: tests. The out-of-memory path is observed in a forked child.
 */
#include "unit.h"

#include "sealift/diag.h"
#include "sealift/xalloc.h"

#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>

static void
test_xalloc_basic_allocations(void **state)
{
    char *p;
    unsigned char *z;

    (void)state;
    p = xmalloc(0);
    assert_non_null(p);
    free(p);
    z = xcalloc(100, 3);
    for (size_t i = 0; i < 300; i++)
        assert_int_equal(z[i], 0);
    z = xrealloc(z, 1000);
    assert_int_equal(z[299], 0); /* the old content is kept */
    free(z);
    p = xcalloc(0, 0);
    assert_non_null(p);
    free(p);
}

static void
test_xalloc_string_helpers(void **state)
{
    char *p;

    (void)state;
    p = xstrdup("hello");
    assert_string_equal(p, "hello");
    free(p);
    p = xstrndup("hello world", 5);
    assert_string_equal(p, "hello");
    free(p);
    /* xstrndup copies exactly n bytes, NULs included, and terminates. */
    p = xstrndup("a\0b", 3);
    assert_memory_equal(p, "a\0b\0", 4);
    free(p);
    p = xasprintf("%s-%04d-%c", "id", 7, 'z');
    assert_string_equal(p, "id-0007-z");
    free(p);
    p = xasprintf("%s", "");
    assert_string_equal(p, "");
    free(p);
}

static void
test_xalloc_xgrow_doubles(void **state)
{
    static const struct {
        size_t want;
        size_t cap;
    } steps[] = {{0, 0},  {1, 1},   {2, 2},     {3, 4},     {8, 8},
                 {9, 16}, {16, 16}, {100, 128}, {129, 256}, {3, 256}};
    size_t cap = 0;
    int *v = NULL;

    (void)state;
    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        size_t before = cap;

        v = xgrow(v, &cap, steps[i].want, sizeof(*v));
        assert_int_equal(cap, steps[i].cap);
        /* Elements written so far survive the growth. */
        for (size_t k = 0; k < before && k < cap; k++)
            assert_int_equal(v[k], (int)k);
        for (size_t k = 0; k < cap; k++)
            v[k] = (int)k;
    }
    free(v);
}

static void
grow_too_far(void)
{
    size_t cap = 0;

    diag_set_progname("sealift-test");
    /* Cannot be satisfied: must die, not wrap around. */
    (void)xgrow(NULL, &cap, SIZE_MAX / 2 + 2, 1);
}

static void
multiply_too_far(void)
{
    size_t cap = 0;

    diag_set_progname("sealift-test");
    (void)xgrow(NULL, &cap, SIZE_MAX / 16, 64);
}

static void
test_xalloc_out_of_memory_aborts_with_message(void **state)
{
    static void (*const fns[])(void) = {grow_too_far, multiply_too_far};

    (void)state;
    for (size_t i = 0; i < sizeof(fns) / sizeof(fns[0]); i++) {
        struct buf out = BUF_INIT;
        char chunk[256];
        ssize_t n;
        int fds[2], status;
        pid_t pid;

        assert_int_equal(pipe(fds), 0);
        fflush(stderr);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            struct rlimit no_core = {0, 0};

            setrlimit(RLIMIT_CORE, &no_core); /* abort() should not leave a core file */
            close(fds[0]);
            dup2(fds[1], STDERR_FILENO);
            fns[i]();
            _exit(0);
        }
        close(fds[1]);
        while ((n = read(fds[0], chunk, sizeof(chunk))) > 0)
            buf_add(&out, chunk, (size_t)n);
        close(fds[0]);
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFSIGNALED(status));
        assert_int_equal(WTERMSIG(status), SIGABRT);
        assert_string_equal(out.data, "sealift-test: error: out of memory\n");
        buf_release(&out);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_xalloc_basic_allocations),
        cmocka_unit_test(test_xalloc_string_helpers),
        cmocka_unit_test(test_xalloc_xgrow_doubles),
        cmocka_unit_test(test_xalloc_out_of_memory_aborts_with_message),
    };

    return cmocka_run_group_tests_name("xalloc", tests, NULL, NULL);
}
