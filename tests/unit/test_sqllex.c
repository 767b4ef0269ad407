/*
 * test_sqllex.c: unit tests for lib/sqllex.c, the project's one SQL lexer (psql's rules):
 * what a comment, string, quoted identifier or dollar-quoted body spans, statement ends, and
 * "--" comments as directive parsing sees them. Driven by tables.
 * Layer: tests.
 */
#include "unit.h"

#include "sealift/sqllex.h"

/* sqllex_skip at offset 0 of text: where what opens there ends ("|" marks it in the table). */
static void
test_sqllex_skip_table(void **state)
{
    static const struct {
        const char *text;
        size_t end; /* 0: nothing opens at offset 0 */
    } cases[] = {
        {"-- c\nSELECT", 4},
        {"-- c", 4},
        {"/* c */ x", 7},
        {"/* a /* b */ c */ x", 17}, /* block comments nest */
        {"/* a /* b */ x", 14},      /* unterminated: to the end */
        {"/* * / */x", 9},
        {"'a;b' x", 5},
        {"'it''s' x", 7}, /* a doubled quote is one */
        {"'a\\' x", 4},   /* standard string: a backslash is itself */
        {"'a\\\\' x", 5},
        {"'open", 5},
        {"\"a\"\"b\" x", 6}, /* quoted identifier */
        {"\"a\\\" x", 4},
        {"$$a;b$$ x", 7},
        {"$t$ $$ $t$ x", 10},  /* another tag inside is text */
        {"$t$ $T$ $t$ x", 11}, /* tags are case-sensitive */
        {"$_x1$ a $_x1$", 13},
        {"$$ open", 7},
        {"$1 x", 0}, /* a parameter */
        {"$ x", 0},
        {"$a x", 0},
        {"SELECT", 0},
        {"- x", 0},
        {"/ x", 0},
        {"", 0},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t got = sqllex_skip(cases[i].text, strlen(cases[i].text), 0);

        if (got != cases[i].end)
            fail_msg("case %zu \"%s\": end %zu, want %zu", i, cases[i].text, got, cases[i].end);
    }
}

/* E'' strings take backslash escapes; the E must be a word of its own. */
static void
test_sqllex_skip_escape_strings(void **state)
{
    static const struct {
        const char *text;
        size_t at;
        size_t end;
    } cases[] = {
        {"E'a\\'b' x", 1, 7}, {"e'a\\'b' x", 1, 7}, {" E'\\\\' x", 2, 6}, {"(E'\\'')", 2, 6},
        {"E'a''b' x", 1, 7},  {"xE'a\\' x", 2, 6}, /* "xE" is an identifier: a standard string
                                                      follows */
        {"_E'a\\' x", 2, 6},  {"a$b$ c$b$", 1, 1}, /* "a$b$" is an identifier, not a dollar quote */
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t got = sqllex_skip(cases[i].text, strlen(cases[i].text), cases[i].at);

        if (got != cases[i].end)
            fail_msg("case %zu \"%s\" at %zu: end %zu, want %zu", i, cases[i].text, cases[i].at,
                     got, cases[i].end);
    }
}

static void
test_sqllex_skip_never_reads_past_len(void **state)
{
    /* The bytes after len would close each of these; len must win. */
    static const char *const texts[] = {"'ab'", "\"ab\"", "$$a$$", "/*a*/", "-- a\n"};

    (void)state;
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
        assert_int_equal(sqllex_skip(texts[i], 3, 0), 3);
    assert_int_equal(sqllex_skip("abc", 3, 3), 3);
}

static void
test_sqllex_statement_end_table(void **state)
{
    static const struct {
        const char *sql;
        size_t end;
    } cases[] = {
        {"SELECT 1; SELECT 2;", 8},
        {"SELECT ';'; x", 10},
        {"SELECT 'it''s;'; x", 15},
        {"SELECT E'\\';'; x", 13},
        {"SELECT 'a\\'; x", 11},
        {"SELECT \"a;b\"; x", 12},
        {"SELECT $$;$$; x", 12},
        {"SELECT $tag$ $$; $tag$; x", 22},
        {"SELECT $1; x", 9},
        {"SELECT a$b; x", 10},
        {"SELECT 1 -- ;\n; x", 14},
        {"SELECT /* ; /* ; */ ; */ 1; x", 26},
        {"CREATE RULE r AS ON INSERT TO t DO INSTEAD (SELECT 1; SELECT 2); x", 63},
        {"SELECT (1)); x", 11},
        {"SELECT 1", 8},
        {"", 0},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t got = sqllex_statement_end(cases[i].sql, strlen(cases[i].sql), 0);

        if (got != cases[i].end)
            fail_msg("case %zu \"%s\": end %zu, want %zu", i, cases[i].sql, got, cases[i].end);
    }
}

static void
test_sqllex_skip_blank_table(void **state)
{
    static const struct {
        const char *text;
        size_t first;
    } cases[] = {
        {"SELECT", 0},
        {"  \t\n\r\f\vSELECT", 7},
        {"-- a\n-- b\nSELECT", 10},
        {"/* a */ SELECT", 8},
        {"/* a /* b */ c */ SELECT", 18},
        {"-- only a comment", 17},
        {"/* unterminated", 15},
        {"'x' SELECT", 0},
        {"", 0},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t got = sqllex_skip_blank(cases[i].text, strlen(cases[i].text), 0);

        if (got != cases[i].first)
            fail_msg("case %zu \"%s\": first %zu, want %zu", i, cases[i].text, got, cases[i].first);
    }
}

struct comments {
    struct buf seen; /* each comment, then "|" */
    int stop_after;  /* stop when this many were seen (0: never) */
    int n;
};

static int
collect_cb(const char *text, size_t start, size_t end, void *arg)
{
    struct comments *c = arg;

    buf_add(&c->seen, text + start, end - start);
    buf_addch(&c->seen, '|');
    return ++c->n == c->stop_after ? 7 : 0;
}

static void
test_sqllex_line_comments(void **state)
{
    static const struct {
        const char *text;
        const char *comments;
    } cases[] = {
        {"-- a\nSELECT 1; -- b\n-- c", "-- a|-- b|-- c|"},
        {"SELECT '-- not'; SELECT $$\n-- not\n$$;", ""},
        {"/*\n-- not\n*/ SELECT \"--not\";", ""},
        {"SELECT E'\\'-- not'; --yes", "--yes|"},
        {"SELECT 1-1; SELECT 1 --x", "--x|"},
        {"", ""},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct comments c = {BUF_INIT, 0, 0};

        assert_int_equal(sqllex_line_comments(cases[i].text, strlen(cases[i].text), collect_cb, &c),
                         0);
        if (strcmp(c.seen.data, cases[i].comments) != 0)
            fail_msg("case %zu: comments \"%s\", want \"%s\"", i, c.seen.data, cases[i].comments);
        buf_release(&c.seen);
    }
    {
        struct comments c = {BUF_INIT, 1, 0};
        const char *t = "-- a\n-- b\n";

        assert_int_equal(sqllex_line_comments(t, strlen(t), collect_cb, &c), 7);
        assert_string_equal(c.seen.data, "-- a|");
        buf_release(&c.seen);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sqllex_skip_table),
        cmocka_unit_test(test_sqllex_skip_escape_strings),
        cmocka_unit_test(test_sqllex_skip_never_reads_past_len),
        cmocka_unit_test(test_sqllex_statement_end_table),
        cmocka_unit_test(test_sqllex_skip_blank_table),
        cmocka_unit_test(test_sqllex_line_comments),
    };

    return cmocka_run_group_tests_name("sqllex", tests, NULL, NULL);
}
