/*
 * test_file.c: unit tests for lib/file.c: regular files only, the whole-file reader and its
 * size limit, the whole-buffer writer, private temporary files.
 * Layer: tests.
 */
#include "unit.h"

#include "sealift/file.h"

#include <dirent.h>

static int
setup_tmpdir(void **state)
{
    char *dir = calloc(1, UNIT_PATH_MAX);

    if (dir == NULL || unit_mkdtemp(dir) != 0) {
        free(dir);
        return -1;
    }
    *state = dir;
    return 0;
}

static int
teardown_tmpdir(void **state)
{
    char *dir = *state;
    int ret = unit_rmtree(dir);

    free(dir);
    return ret;
}

static void
test_file_read_all_limit(void **state)
{
    const char *dir = *state;
    char path[UNIT_PATH_MAX];
    struct buf out = BUF_INIT;
    struct diag_err err = DIAG_ERR_INIT;

    unit_path(path, dir, "ten");
    unit_write_file(path, "0123456789", 10, 0644);
    assert_int_equal(file_read_all(path, 10, &out, &err), 0);
    assert_string_equal(out.data, "0123456789");
    buf_reset(&out);
    assert_int_equal(file_read_all(path, 9, &out, &err), -1);
    assert_contains(err.msg, "is larger than 9 bytes");
    assert_int_equal(err.io, 0);
    /* The limit counts what out held already. */
    buf_reset(&out);
    buf_addstr(&out, ">");
    assert_int_equal(file_read_all(path, 10, &out, &err), -1);
    assert_contains(err.msg, "is larger than 10 bytes");
    buf_release(&out);
}

/* A file larger than one read: every byte, in order, appended to what out held. */
static void
test_file_read_all_appends_large_file(void **state)
{
    const char *dir = *state;
    char path[UNIT_PATH_MAX];
    struct buf out = BUF_INIT;
    struct diag_err err = DIAG_ERR_INIT;
    size_t n = 100000;
    char *data = malloc(n);

    assert_non_null(data);
    for (size_t i = 0; i < n; i++)
        data[i] = (char)('a' + i % 26);
    unit_path(path, dir, "big");
    unit_write_file(path, data, n, 0644);
    buf_addstr(&out, ">");
    assert_int_equal(file_read_all(path, FILE_READ_MAX, &out, &err), 0);
    assert_int_equal(out.len, n + 1);
    assert_memory_equal(out.data + 1, data, n);
    buf_release(&out);
    free(data);
}

static void
test_file_read_all_refuses_missing_and_directory(void **state)
{
    const char *dir = *state;
    char path[UNIT_PATH_MAX];
    struct buf out = BUF_INIT;
    struct diag_err err = DIAG_ERR_INIT;

    unit_path(path, dir, "missing");
    assert_int_equal(file_read_all(path, FILE_READ_MAX, &out, &err), -1);
    assert_int_equal(err.io, 1);
    assert_contains(err.msg, "could not open file");
    assert_contains(err.msg, "No such file or directory");
    assert_int_equal(file_read_all(dir, FILE_READ_MAX, &out, &err), -1);
    assert_contains(err.msg, "is not a regular file");
    buf_release(&out);
}

/* Every byte reaches the file, and a bad descriptor says why (errno). */
static void
test_file_write_all(void **state)
{
    const char *dir = *state;
    char path[UNIT_PATH_MAX];
    struct buf back = BUF_INIT;
    struct diag_err err = DIAG_ERR_INIT;
    size_t n = 300000;
    char *data = malloc(n);
    int fd;

    assert_non_null(data);
    for (size_t i = 0; i < n; i++)
        data[i] = (char)(i * 7 + 3);
    unit_path(path, dir, "out");
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(file_write_all(fd, data, n), 0);
    assert_int_equal(close(fd), 0);
    assert_int_equal(file_read_all(path, FILE_READ_MAX, &back, &err), 0);
    assert_int_equal(back.len, n);
    assert_memory_equal(back.data, data, n);
    errno = 0;
    assert_int_equal(file_write_all(-1, data, 1), -1);
    assert_int_equal(errno, EBADF);
    buf_release(&back);
    free(data);
}

/* How many entries dir holds besides "." and "..". */
static int
entries(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;

    assert_non_null(d);
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            n++;
    closedir(d);
    return n;
}

/* In TMPDIR, with no name left behind, read-write; a missing TMPDIR is named in the error. */
static void
test_file_private_temp(void **state)
{
    const char *dir = *state;
    const char *old = getenv("TMPDIR");
    char *saved = old ? strdup(old) : NULL;
    char missing[UNIT_PATH_MAX], back[6] = {0};
    struct diag_err err = DIAG_ERR_INIT;
    int fd;

    assert_int_equal(setenv("TMPDIR", dir, 1), 0);
    fd = file_private_temp("test", &err);
    assert_true(fd >= 0);
    assert_int_equal(entries(dir), 0);
    assert_int_equal(file_write_all(fd, "hello", 5), 0);
    assert_int_equal(pread(fd, back, 5, 0), 5);
    assert_string_equal(back, "hello");
    assert_int_equal(close(fd), 0);

    unit_path(missing, dir, "no-such-dir");
    assert_int_equal(setenv("TMPDIR", missing, 1), 0);
    errno = 0;
    assert_int_equal(file_private_temp("test", &err), -1);
    assert_int_equal(errno, ENOENT);
    assert_contains(err.msg, "could not create a temporary file in \"");
    assert_contains(err.msg, "no-such-dir\": No such file or directory");

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
        cmocka_unit_test_setup_teardown(test_file_read_all_limit, setup_tmpdir, teardown_tmpdir),
        cmocka_unit_test_setup_teardown(test_file_read_all_appends_large_file, setup_tmpdir,
                                        teardown_tmpdir),
        cmocka_unit_test_setup_teardown(test_file_read_all_refuses_missing_and_directory,
                                        setup_tmpdir, teardown_tmpdir),
        cmocka_unit_test_setup_teardown(test_file_write_all, setup_tmpdir, teardown_tmpdir),
        cmocka_unit_test_setup_teardown(test_file_private_temp, setup_tmpdir, teardown_tmpdir),
    };

    return cmocka_run_group_tests_name("file", tests, NULL, NULL);
}
