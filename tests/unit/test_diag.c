/*
 * test_diag.c: unit tests for lib/diag.c (error values for lib/, message printing, die()).
 * Layer: tests. Printing and exiting are observed in a forked child through a pipe.
 */
#include "unit.h"

#include "sealift/diag.h"

#include <signal.h>
#include <sys/wait.h>

typedef void (*child_fn)(void);

/* Run fn in a child with stderr on a pipe; collect what it printed and how it ended. */
static void
run_child(child_fn fn, int *status, struct buf *err_text)
{
    int fds[2];
    pid_t pid;
    char chunk[512];
    ssize_t n;

    assert_int_equal(pipe(fds), 0);
    fflush(stdout);
    fflush(stderr);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        dup2(fds[1], STDERR_FILENO);
        close(fds[1]);
        fn();
        fflush(stderr);
        _exit(0);
    }
    close(fds[1]);
    while ((n = read(fds[0], chunk, sizeof(chunk))) > 0)
        buf_add(err_text, chunk, (size_t)n);
    close(fds[0]);
    assert_int_equal(waitpid(pid, status, 0), pid);
}

static void
test_diag_err_set_returns_minus_one(void **state)
{
    struct diag_err err = DIAG_ERR_INIT;

    (void)state;
    assert_int_equal(err_set(&err, "could not open file \"%s\": %s", "x", "gone"), -1);
    assert_string_equal(err.msg, "could not open file \"x\": gone");
    assert_int_equal(err.io, 0);
    assert_int_equal(err_set_io(&err, "read error %d", 5), -1);
    assert_string_equal(err.msg, "read error 5");
    assert_int_equal(err.io, 1);
    /* A plain error after an I/O error clears the flag. */
    assert_int_equal(err_set(&err, "bad"), -1);
    assert_int_equal(err.io, 0);
    /* err may be NULL. */
    assert_int_equal(err_set(NULL, "ignored %d", 1), -1);
    assert_int_equal(err_set_io(NULL, "ignored"), -1);
    assert_int_equal(err_prefix(NULL, "ignored"), -1);
}

static void
test_diag_err_set_truncates_long_messages(void **state)
{
    struct diag_err err = DIAG_ERR_INIT;
    char big[DIAG_MSG_MAX * 2];

    (void)state;
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    err_set(&err, "%s", big);
    assert_int_equal(strlen(err.msg), DIAG_MSG_MAX - 1);
    assert_string_equal(err.msg + DIAG_MSG_MAX - 4, "...");
    /* Exactly DIAG_MSG_MAX - 1 characters fit without the ellipsis. */
    big[DIAG_MSG_MAX - 1] = '\0';
    err_set(&err, "%s", big);
    assert_int_equal(strlen(err.msg), DIAG_MSG_MAX - 1);
    assert_int_equal(err.msg[DIAG_MSG_MAX - 2], 'x');
}

static void
test_diag_err_prefix_keeps_io(void **state)
{
    struct diag_err err = DIAG_ERR_INIT;
    char big[DIAG_MSG_MAX];

    (void)state;
    err_set(&err, "line 3: bad");
    assert_int_equal(err_prefix(&err, "%s", "MANIFEST"), -1);
    assert_string_equal(err.msg, "MANIFEST: line 3: bad");
    assert_int_equal(err.io, 0);
    err_prefix(&err, "bundle \"%s\"", "b.tar");
    assert_string_equal(err.msg, "bundle \"b.tar\": MANIFEST: line 3: bad");

    err_set_io(&err, "No such file or directory");
    err_prefix(&err, "x");
    assert_string_equal(err.msg, "x: No such file or directory");
    assert_int_equal(err.io, 1);

    /* A prefix that overflows the message is truncated, not overrun. */
    memset(big, 'p', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    err_set(&err, "tail");
    err_prefix(&err, "%s", big);
    assert_int_equal(strlen(err.msg), DIAG_MSG_MAX - 1);
    assert_string_equal(err.msg + DIAG_MSG_MAX - 4, "...");
}

static void
test_diag_progname_and_quiet(void **state)
{
    (void)state;
    diag_set_progname("/usr/local/bin/sealift-apply");
    assert_string_equal(diag_progname(), "sealift-apply");
    diag_set_progname("sealift");
    assert_string_equal(diag_progname(), "sealift");
    assert_int_equal(diag_is_quiet(), 0);
    diag_set_quiet(1);
    assert_int_equal(diag_is_quiet(), 1);
    diag_set_quiet(0);
    assert_int_equal(diag_is_quiet(), 0);
}

static void
print_all(void)
{
    diag_set_progname("./bin/sealift");
    diag_error("could not open file \"%s\": %s", "x", "gone");
    diag_warning("w %d", 1);
    diag_detail("d");
    diag_hint("h");
    diag_info("progress %s", "line");
    diag_set_quiet(1);
    diag_info("not shown");
    diag_error("errors are shown when quiet");
}

static void
test_diag_prints_postgres_style_lines(void **state)
{
    struct buf out = BUF_INIT;
    int status;

    (void)state;
    run_child(print_all, &status, &out);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_string_equal(out.data, "sealift: error: could not open file \"x\": gone\n"
                                  "sealift: warning: w 1\n"
                                  "sealift: detail: d\n"
                                  "sealift: hint: h\n"
                                  "sealift: progress line\n"
                                  "sealift: error: errors are shown when quiet\n");
    buf_release(&out);
}

static void
call_die(void)
{
    diag_set_progname("sealift-apply");
    die(4, "migration %s failed", "0002");
}

static void
call_die_usage(void)
{
    die_usage("build", "unknown option \"%s\"", "--frob");
}

static void
call_die_usage_global(void)
{
    die_usage(NULL, "unknown command");
}

static void
test_diag_die_exits_with_code(void **state)
{
    struct buf out = BUF_INIT;
    int status;

    (void)state;
    run_child(call_die, &status, &out);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 4);
    assert_string_equal(out.data, "sealift-apply: error: migration 0002 failed\n");

    buf_reset(&out);
    run_child(call_die_usage, &status, &out);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 2);
    assert_string_equal(out.data, "sealift: error: unknown option \"--frob\"\n"
                                  "sealift: hint: Try \"sealift build --help\" for more "
                                  "information.\n");

    buf_reset(&out);
    run_child(call_die_usage_global, &status, &out);
    assert_int_equal(WEXITSTATUS(status), 2);
    assert_contains(out.data, "sealift: hint: Try \"sealift --help\" for more information.\n");
    buf_release(&out);
}

static void
print_multiline(void)
{
    diag_set_progname("sealift-apply");
    diag_detail("%s", "first line\nsecond line\n");
    diag_hint("one\ntwo");
    diag_error("single");
}

/* A message of several lines keeps them, each after the first under the message text. */
static void
test_diag_indents_further_lines(void **state)
{
    struct buf out = BUF_INIT;
    int status;

    (void)state;
    run_child(print_multiline, &status, &out);
    assert_string_equal(out.data, "sealift-apply: detail: first line\n"
                                  "                       second line\n"
                                  "sealift-apply: hint: one\n"
                                  "                     two\n"
                                  "sealift-apply: error: single\n");
    buf_release(&out);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_diag_err_set_returns_minus_one),
        cmocka_unit_test(test_diag_err_set_truncates_long_messages),
        cmocka_unit_test(test_diag_err_prefix_keeps_io),
        cmocka_unit_test(test_diag_progname_and_quiet),
        cmocka_unit_test(test_diag_prints_postgres_style_lines),
        cmocka_unit_test(test_diag_die_exits_with_code),
        cmocka_unit_test(test_diag_indents_further_lines),
    };

    return cmocka_run_group_tests_name("diag", tests, NULL, NULL);
}
