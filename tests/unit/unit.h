/*
 * unit.h: small helpers shared by the cmocka unit tests (temporary directories, whole-file
 * reads and writes, substring assertions). Header-only, because the Makefile builds each
 * tests/unit/test_<module>.c into its own binary from that one file.
 * Layer: tests.
 */
#ifndef SEALIFT_TESTS_UNIT_H
#define SEALIFT_TESTS_UNIT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "sealift/buf.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define UNIT_PATH_MAX 4096

/* Fail the test unless needle occurs in hay, showing both. */
#define assert_contains(hay, needle)                                                               \
    do {                                                                                           \
        const char *hay_ = (hay);                                                                  \
        const char *needle_ = (needle);                                                            \
        if (strstr(hay_, needle_) == NULL)                                                         \
            fail_msg("\"%s\" does not contain \"%s\"", hay_, needle_);                             \
    } while (0)

/* Fail the test if needle occurs in hay. */
#define assert_not_contains(hay, needle)                                                           \
    do {                                                                                           \
        const char *hay_ = (hay);                                                                  \
        const char *needle_ = (needle);                                                            \
        if (strstr(hay_, needle_) != NULL)                                                         \
            fail_msg("\"%s\" contains \"%s\"", hay_, needle_);                                     \
    } while (0)

/*
 * Fail the test unless the two texts are byte-identical, showing where they first differ.
 * (cmocka truncates a failure message at 1024 bytes, so long texts are never printed whole.)
 */
#define assert_text_equal(a, alen, b, blen)                                                        \
    do {                                                                                           \
        const char *a_ = (a), *b_ = (b);                                                           \
        size_t alen_ = (alen), blen_ = (blen), at_ = 0;                                            \
        while (at_ < alen_ && at_ < blen_ && a_[at_] == b_[at_])                                   \
            at_++;                                                                                 \
        if (at_ != alen_ || at_ != blen_)                                                          \
            fail_msg("texts differ at byte %zu (lengths %zu and %zu): \"%.60s\" vs \"%.60s\"",     \
                     at_, alen_, blen_, a_ + at_, b_ + at_);                                       \
    } while (0)

/* Join dir and name into out (UNIT_PATH_MAX bytes); fails the test if it does not fit. */
static inline void
unit_path(char *out, const char *dir, const char *name)
{
    int n = snprintf(out, UNIT_PATH_MAX, "%s/%s", dir, name);

    assert_true(n > 0 && n < UNIT_PATH_MAX);
}

/* Create a fresh private directory under $TMPDIR (or /tmp) into out (UNIT_PATH_MAX bytes). */
static inline int
unit_mkdtemp(char *out)
{
    const char *base = getenv("TMPDIR");
    int n;

    if (base == NULL || base[0] == '\0')
        base = "/tmp";
    n = snprintf(out, UNIT_PATH_MAX, "%s/sealift-unit-XXXXXX", base);
    if (n < 0 || n >= UNIT_PATH_MAX)
        return -1;
    return mkdtemp(out) ? 0 : -1;
}

/* Remove path and, if it is a directory, everything below it. Returns 0 or -1. */
static inline int
unit_rmtree(const char *path)
{
    struct stat st;
    DIR *d;
    struct dirent *de;
    int ret = 0;

    if (lstat(path, &st) != 0)
        return errno == ENOENT ? 0 : -1;
    if (!S_ISDIR(st.st_mode))
        return unlink(path);
    d = opendir(path);
    if (d == NULL)
        return -1;
    while ((de = readdir(d)) != NULL) {
        char sub[UNIT_PATH_MAX];
        int n;

        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        n = snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name);
        if (n < 0 || n >= (int)sizeof(sub) || unit_rmtree(sub) != 0)
            ret = -1;
    }
    closedir(d);
    if (rmdir(path) != 0)
        ret = -1;
    return ret;
}

/* Number of entries in directory dir, "." and ".." excluded; -1 if it cannot be read. */
static inline int
unit_count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    int n = 0;

    if (d == NULL)
        return -1;
    while ((de = readdir(d)) != NULL)
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
            n++;
    closedir(d);
    return n;
}

/* Create or truncate path with exactly these bytes and this mode; fails the test on error. */
static inline void
unit_write_file(const char *path, const void *data, size_t len, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    const char *p = data;

    if (fd < 0)
        fail_msg("could not create \"%s\": %s", path, strerror(errno));
    assert_int_equal(fchmod(fd, mode), 0);
    while (len > 0) {
        ssize_t w = write(fd, p, len);

        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            fail_msg("could not write \"%s\": %s", path, strerror(errno));
        p += w;
        len -= (size_t)w;
    }
    assert_int_equal(close(fd), 0);
}

/* Append the whole content of path to out; fails the test on error. */
static inline void
unit_read_file(const char *path, struct buf *out)
{
    char chunk[65536];
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0)
        fail_msg("could not open \"%s\": %s", path, strerror(errno));
    for (;;) {
        ssize_t r = read(fd, chunk, sizeof(chunk));

        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            fail_msg("could not read \"%s\": %s", path, strerror(errno));
        if (r == 0)
            break;
        buf_add(out, chunk, (size_t)r);
    }
    close(fd);
}

#endif
