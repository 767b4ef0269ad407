/*
 * reader_test.h: what the unit tests of the source-format readers share
 * (tests/unit/test_compiler_read_<format>.c): a temporary project directory per test, files
 * written into it, and a reader run whose problem reports (printed on stderr, as check prints
 * them) are captured for assertions. Header-only, like unit.h.
 * Layer: tests.
 */
#ifndef SEALIFT_TESTS_READER_TEST_H
#define SEALIFT_TESTS_READER_TEST_H

#include "unit.h"

#include "chain.h"
#include "formats.h"

typedef int (*rt_read_fn)(const char *dir, const struct read_options *opt, struct src_chain *c,
                          struct report *rep, struct diag_err *err);

struct rt {
    char dir[UNIT_PATH_MAX];
    struct src_chain chain;
    struct buf errors; /* everything the reader printed on stderr */
    struct report rep;
    struct read_options opt;
};

static inline int
rt_setup(void **state)
{
    struct rt *t = calloc(1, sizeof(*t));

    assert_non_null(t);
    assert_int_equal(unit_mkdtemp(t->dir), 0);
    chain_init(&t->chain);
    buf_init(&t->errors);
    *state = t;
    return 0;
}

static inline int
rt_teardown(void **state)
{
    struct rt *t = *state;

    unit_rmtree(t->dir);
    chain_release(&t->chain);
    buf_release(&t->errors);
    free(t);
    return 0;
}

/* Write rel (subdirectories made as needed) under the test's directory. */
static inline void
rt_write(struct rt *t, const char *rel, const char *content)
{
    char path[UNIT_PATH_MAX];

    unit_path(path, t->dir, rel);
    for (char *p = path + strlen(t->dir) + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            mkdir(path, 0755);
            *p = '/';
        }
    unit_write_file(path, content, strlen(content), 0644);
}

/*
 * Run read on the test's directory (or its subdirectory sub, when not NULL), capturing what it
 * reports. Returns the reader's return value; t->rep counts the problems.
 */
static inline int
rt_run(struct rt *t, rt_read_fn read, const char *sub)
{
    char dir[UNIT_PATH_MAX];
    struct diag_err err = DIAG_ERR_INIT;
    FILE *cap = tmpfile();
    int saved, ret;
    char chunk[4096];
    size_t n;

    assert_non_null(cap);
    if (sub)
        unit_path(dir, t->dir, sub);
    else
        snprintf(dir, sizeof(dir), "%s", t->dir);
    chain_release(&t->chain);
    buf_reset(&t->errors);
    memset(&t->rep, 0, sizeof(t->rep));
    fflush(stderr);
    saved = dup(2);
    dup2(fileno(cap), 2);
    ret = read(dir, &t->opt, &t->chain, &t->rep, &err);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    rewind(cap);
    while ((n = fread(chunk, 1, sizeof(chunk), cap)) > 0)
        buf_add(&t->errors, chunk, n);
    fclose(cap);
    if (ret != 0)
        buf_addstr(&t->errors, err.msg);
    return ret;
}

/* The migration with this id, or NULL. */
static inline const struct src_migration *
rt_find(const struct rt *t, const char *id)
{
    for (size_t i = 0; i < t->chain.n; i++)
        if (strcmp(t->chain.v[i].id, id) == 0)
            return &t->chain.v[i];
    return NULL;
}

/* Run, and expect no problem at all. */
#define rt_ok(t, read, sub)                                                                        \
    do {                                                                                           \
        assert_int_equal(rt_run((t), (read), (sub)), 0);                                           \
        if ((t)->rep.errors)                                                                       \
            fail_msg("unexpected problems: %s", (t)->errors.data);                                 \
    } while (0)

/* Run, and expect a problem whose report contains text. */
#define rt_refused(t, read, sub, text)                                                             \
    do {                                                                                           \
        rt_run((t), (read), (sub));                                                                \
        assert_true((t)->rep.errors > 0);                                                          \
        assert_contains((t)->errors.data, (text));                                                 \
    } while (0)

/* Is the script text (normalised, after the reader's changes) exactly want? */
#define assert_script(m, kind, want)                                                               \
    do {                                                                                           \
        const struct src_script *s_ = &(m)->script[(kind)];                                        \
        assert_true(s_->present);                                                                  \
        assert_text_equal(s_->text.data, s_->text.len, (want), strlen(want));                      \
    } while (0)

#endif
