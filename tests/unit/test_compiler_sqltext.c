/*
 * test_compiler_sqltext.c: normalisation of migration text (compiler/sqltext.c): byte order
 * mark, CRLF, UTF-8 validation, and the LINE:COL of what is refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "sqltext.h"

static void
test_sqltext_normalize_accepts(void **state)
{
    static const struct {
        const char *raw;
        size_t len;
        const char *text;
    } cases[] = {
        {"", 0, ""},
        {"SELECT 1;\n", 10, "SELECT 1;\n"},
        {"\xef\xbb\xbfSELECT 1;", 12, "SELECT 1;"},             /* BOM dropped */
        {"a\r\nb\r\n", 6, "a\nb\n"},                            /* CRLF becomes LF */
        {"a\rb\r", 4, "a\rb\r"},                                /* a lone CR stays */
        {"\r\r\n", 3, "\r\n"},                                  /* only the CR before LF goes */
        {"'caf\xc3\xa9' '\xe2\x82\xac' '\xf0\x9f\x98\x80'", 20, /* 2, 3 and 4 bytes */
         "'caf\xc3\xa9' '\xe2\x82\xac' '\xf0\x9f\x98\x80'"},
        {"x\r\n\xc3\xa9\r\n", 7, "x\n\xc3\xa9\n"},
    };
    (void)state;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct buf out = BUF_INIT;
        struct diag_err err = DIAG_ERR_INIT;

        assert_int_equal(sqltext_normalize(cases[i].raw, cases[i].len, &out, &err), 0);
        assert_int_equal(out.len, strlen(cases[i].text));
        assert_memory_equal(out.len ? out.data : "", cases[i].text, out.len);
        buf_release(&out);
    }
}

static void
test_sqltext_normalize_refuses_with_position(void **state)
{
    static const struct {
        const char *raw;
        size_t len;
        const char *msg;
    } cases[] = {
        {"ab\0", 3, "1:3: NUL byte in the file"},
        {"a\r\nb\r\nc\0", 8, "3:2: NUL byte in the file"}, /* CR of CRLF not a column */
        {"\xef\xbb\xbf\xc3\xa9\xc3\xa9\0", 8, "1:3: NUL byte in the file"}, /* characters */
        {"a\rb\0", 4, "1:4: NUL byte in the file"}, /* a lone CR is a character */
        {"x\n'caf\xe9'", 9, "2:5: invalid UTF-8 (byte 0xe9)"},
        {"\xc0\x80", 2, "1:1: invalid UTF-8 (byte 0xc0)"},           /* overlong */
        {"a\xed\xa0\x80", 4, "1:2: invalid UTF-8 (byte 0xed)"},      /* surrogate */
        {"ab\xf4\x90\x80\x80", 6, "1:3: invalid UTF-8 (byte 0xf4)"}, /* past U+10FFFF */
        {"\xe2\x82", 2, "1:1: invalid UTF-8 (byte 0xe2)"},           /* cut short */
    };
    (void)state;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct buf out = BUF_INIT;
        struct diag_err err = DIAG_ERR_INIT;

        assert_int_equal(sqltext_normalize(cases[i].raw, cases[i].len, &out, &err), -1);
        assert_string_equal(err.msg, cases[i].msg);
        buf_release(&out);
    }
}

/* A text without "${" renders as itself (the pipeline then uses it without a copy). */
static void
test_sqltext_has_placeholders(void **state)
{
    static const struct {
        const char *text;
        int yes;
    } cases[] = {
        {"", 0},
        {"SELECT $1, $$body$$, '$', $tag$ { $tag$;", 0},
        {"SELECT 1; $", 0},
        {"SELECT '${schema}';", 1},
        {"-- $${escaped}", 1},
        {"x${", 1},
    };
    struct vars vars;
    (void)state;

    vars_init(&vars);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct buf text = BUF_INIT, out = BUF_INIT, undefined = BUF_INIT;

        assert_int_equal(sqltext_has_placeholders(cases[i].text, strlen(cases[i].text)),
                         cases[i].yes);
        buf_addstr(&text, cases[i].text);
        sqltext_render(&text, &vars, &out, &undefined);
        /* What it promises: without "${", the rendering is the text, byte for byte. */
        if (!cases[i].yes)
            assert_string_equal(out.data, cases[i].text);
        buf_release(&text);
        buf_release(&out);
        buf_release(&undefined);
    }
    vars_release(&vars);
}

/*
 * Directives are "--" comments by psql's rules that start their line, in the blanks and
 * comments before the first SQL. The message (or "") each script gets, and its flags.
 */
static void
test_sqltext_directives_follow_the_lexer(void **state)
{
    static const struct {
        const char *text;
        unsigned flags;
        const char *msg; /* first held message, "" for none */
    } cases[] = {
        {"-- sealift:no-transaction\nSELECT 1;", SQLTEXT_NO_TRANSACTION, ""},
        {"-- a\n  -- sealift:irreversible\nSELECT 1;", SQLTEXT_IRREVERSIBLE, ""},
        /* A leading block comment is part of the leading comment block. */
        {"/* header\n   more */\n-- sealift:no-transaction\nSELECT 1;", SQLTEXT_NO_TRANSACTION, ""},
        {"SELECT 1;\n-- sealift:no-transaction\nSELECT 2;", 0,
         "f.sql:2: directive \"sealift:no-transaction\" must be in the leading comment block"},
        {"-- sealift:no-transactions\nSELECT 1;", 0,
         "f.sql:1: unknown directive \"sealift:no-transactions\""},
        /* Not comments: in a dollar-quoted body, a string, a block comment. */
        {"SELECT $$\n-- sealift:bogus\n$$;", 0, ""},
        {"SELECT '\n-- sealift:bogus\n';", 0, ""},
        {"/*\n-- sealift:bogus\n*/ SELECT 1;", 0, ""},
        /* A comment after SQL on its line is no directive. */
        {"SELECT 1; -- sealift:bogus", 0, ""},
        /* sqlcheck.c's: the data directive goes before its COPY. */
        {"SELECT 1;\n-- sealift:data users.csv\nCOPY t FROM stdin;", 0, ""},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct buf held = BUF_INIT;
        struct report rep = {0, 0, &held};
        unsigned flags = 99;
        size_t problems = sqltext_directives(
            "f.sql", cases[i].text, SQLTEXT_NO_TRANSACTION | SQLTEXT_IRREVERSIBLE, &flags, &rep);
        const char *msg = held.len ? held.data + 1 : "";

        if (flags != cases[i].flags || strncmp(msg, cases[i].msg, strlen(cases[i].msg)) != 0 ||
            (cases[i].msg[0] == '\0') != (problems == 0))
            fail_msg("case %zu: flags %u (want %u), %zu problems, message \"%s\" (want \"%s\")", i,
                     flags, cases[i].flags, problems, msg, cases[i].msg);
        buf_release(&held);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sqltext_normalize_accepts),
        cmocka_unit_test(test_sqltext_normalize_refuses_with_position),
        cmocka_unit_test(test_sqltext_has_placeholders),
        cmocka_unit_test(test_sqltext_directives_follow_the_lexer),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
