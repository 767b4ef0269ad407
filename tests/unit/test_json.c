/*
 * test_json.c: unit tests for lib/json.c (JSON string escaping for --json output).
 * Layer: tests.
 */
#include "unit.h"

#include "sealift/json.h"

static void
test_json_str_escapes(void **state)
{
    static const struct {
        const char *in;
        const char *out;
    } cases[] = {
        {"", "\"\""},
        {"plain text", "\"plain text\""},
        {"say \"hi\"", "\"say \\\"hi\\\"\""},
        {"C:\\dir\\", "\"C:\\\\dir\\\\\""},
        {"a\nb", "\"a\\nb\""},
        {"a\tb", "\"a\\tb\""},
        {"a\rb", "\"a\\rb\""},
        {"\x01\x1f", "\"\\u0001\\u001f\""},
        {"\b\f", "\"\\u0008\\u000c\""},
        {"esc\x1b[0m", "\"esc\\u001b[0m\""},
        {"del\x7f", "\"del\\u007f\""},
        {"/slash", "\"/slash\""},
        /* UTF-8 passes through unchanged. */
        {"caf\xc3\xa9 \xe2\x82\xac", "\"caf\xc3\xa9 \xe2\x82\xac\""},
        {"\"\\\n", "\"\\\"\\\\\\n\""},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct buf out = BUF_INIT;

        json_str(&out, cases[i].in);
        if (strcmp(out.data, cases[i].out) != 0)
            fail_msg("case %zu: got %s, want %s", i, out.data, cases[i].out);
        buf_release(&out);
    }
}

static void
test_json_str_null(void **state)
{
    struct buf out = BUF_INIT;

    (void)state;
    json_str(&out, NULL);
    assert_string_equal(out.data, "null");
    buf_addch(&out, ',');
    json_str(&out, "");
    assert_string_equal(out.data, "null,\"\"");
    buf_release(&out);
}

static void
test_json_strn_embedded_nul(void **state)
{
    struct buf out = BUF_INIT;

    (void)state;
    json_strn(&out, "a\0b", 3);
    assert_string_equal(out.data, "\"a\\u0000b\"");
    buf_reset(&out);
    /* Only len bytes are read. */
    json_strn(&out, "abcdef", 2);
    assert_string_equal(out.data, "\"ab\"");
    buf_reset(&out);
    json_strn(&out, "", 0);
    assert_string_equal(out.data, "\"\"");
    buf_release(&out);
}

static void
test_json_key_commas(void **state)
{
    struct buf out = BUF_INIT;

    (void)state;
    buf_addch(&out, '{');
    json_key(&out, "a", 1);
    buf_addstr(&out, "1");
    json_key(&out, "b\"c", 0);
    json_str(&out, NULL);
    buf_addch(&out, '}');
    assert_string_equal(out.data, "{\"a\":1,\"b\\\"c\":null}");
    buf_release(&out);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_str_escapes),
        cmocka_unit_test(test_json_str_null),
        cmocka_unit_test(test_json_strn_embedded_nul),
        cmocka_unit_test(test_json_key_commas),
    };

    return cmocka_run_group_tests_name("json", tests, NULL, NULL);
}
