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

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sqltext_normalize_accepts),
        cmocka_unit_test(test_sqltext_normalize_refuses_with_position),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
