/*
 * test_applier_jsonread.c: unit tests for applier/jsonread.c (the JSON reader of the Ansible
 * module: arguments files and --json events).
 * Layer: tests.
 */
#include "unit.h"

#include "jsonread.h"

/* Round trip: parse, emit compactly, compare. */
static void
test_jsonread_round_trips(void **state)
{
    static const struct {
        const char *in;
        const char *out;
    } cases[] = {
        {"{}", "{}"},
        {" [ ] ", "[]"},
        {"null", "null"},
        {"true", "true"},
        {"-0.5e+3", "-0.5e+3"},
        {"{\"a\": 1, \"b\": [true, false, null, \"x\"]}",
         "{\"a\":1,\"b\":[true,false,null,\"x\"]}"},
        {"\"\\u00e9\\u20ac\\ud83d\\ude00\"", "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\""},
        {"\"tab\\tquote\\\"slash\\/\"", "\"tab\\tquote\\\"slash/\""},
        {"{\"event\":\"failed\",\"migration\":\"002\",\"sqlstate\":\"42P01\",\"line\":12}",
         "{\"event\":\"failed\",\"migration\":\"002\",\"sqlstate\":\"42P01\",\"line\":12}"},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct diag_err err = DIAG_ERR_INIT;
        struct buf out = BUF_INIT;
        struct jv *v = jv_parse(cases[i].in, strlen(cases[i].in), &err);

        if (v == NULL)
            fail_msg("case %zu: %s", i, err.msg);
        jv_emit(&out, v);
        if (strcmp(out.data, cases[i].out) != 0)
            fail_msg("case %zu: got %s, want %s", i, out.data, cases[i].out);
        buf_release(&out);
        jv_free(v);
    }
}

/* Bad input: refused, and the message says why and where. */
static void
test_jsonread_rejects_bad_input(void **state)
{
    static const struct {
        const char *in;
        const char *msg;
    } cases[] = {
        {"", "byte 0: unexpected end"},
        {"{", "expected a member name"},
        {"{\"a\" 1}", "byte 5: expected ':'"},
        {"{\"a\":1,}", "expected a member name"},
        {"[1 2]", "expected ',' or ']'"},
        {"{\"a\":1,\"a\":2}", "duplicate member name"},
        {"\"abc", "unterminated string"},
        {"\"a\nb\"", "control character in a string"},
        {"\"\\x\"", "bad escape"},
        {"\"\\u12\"", "short \\u escape"},
        {"\"\\u12zz\"", "bad \\u escape"},
        {"\"\\ud800\"", "lone high surrogate"},
        {"\"\\udc00\"", "lone low surrogate"},
        {"\"\\u0000\"", "\\u0000 in a string"},
        {"01", "trailing characters"},
        {"1.", "bad number"},
        {"-", "bad number"},
        {"tru", "unexpected character"},
        {"{} {}", "trailing characters"},
        {"nul", "unexpected character"},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct diag_err err = DIAG_ERR_INIT;
        struct jv *v = jv_parse(cases[i].in, strlen(cases[i].in), &err);

        if (v != NULL)
            fail_msg("case %zu (%s): accepted", i, cases[i].in);
        if (strstr(err.msg, cases[i].msg) == NULL)
            fail_msg("case %zu (%s): \"%s\" lacks \"%s\"", i, cases[i].in, err.msg, cases[i].msg);
    }
}

/* Nesting is bounded: a hostile file cannot exhaust the stack. */
static void
test_jsonread_bounds_depth(void **state)
{
    struct diag_err err = DIAG_ERR_INIT;
    struct buf deep = BUF_INIT;
    struct jv *v;

    (void)state;
    for (int i = 0; i < JSONREAD_MAX_DEPTH; i++)
        buf_addch(&deep, '[');
    for (int i = 0; i < JSONREAD_MAX_DEPTH; i++)
        buf_addch(&deep, ']');
    v = jv_parse(deep.data, deep.len, &err);
    assert_non_null(v);
    jv_free(v);
    buf_reset(&deep);
    for (int i = 0; i < 100000; i++)
        buf_addch(&deep, '[');
    v = jv_parse(deep.data, deep.len, &err);
    assert_null(v);
    assert_contains(err.msg, "nested too deeply");
    buf_release(&deep);
}

static void
test_jsonread_get(void **state)
{
    static const char text[] = "{\"s\":\"x\",\"n\":7,\"o\":{\"k\":\"v\"}}";
    struct diag_err err = DIAG_ERR_INIT;
    struct jv *v = jv_parse(text, strlen(text), &err);

    (void)state;
    assert_non_null(v);
    assert_string_equal(jv_get_str(v, "s"), "x");
    assert_null(jv_get_str(v, "n"));
    assert_int_equal((int)jv_get(v, "n")->num, 7);
    assert_string_equal(jv_get_str(jv_get(v, "o"), "k"), "v");
    assert_null(jv_get(v, "missing"));
    assert_null(jv_get(jv_get(v, "s"), "k"));
    assert_null(jv_get(NULL, "k"));
    jv_free(v);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_jsonread_round_trips),
        cmocka_unit_test(test_jsonread_rejects_bad_input),
        cmocka_unit_test(test_jsonread_bounds_depth),
        cmocka_unit_test(test_jsonread_get),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
