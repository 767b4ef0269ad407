/*
 * test_describe.c: unit tests for lib/describe.c (text and JSON descriptions of a verified
 * bundle), on the committed golden bundle. The JSON is checked with a small strict validator.
 * Layer: tests.
 */
#include "unit.h"

#include "sealift/describe.h"
#include "sealift/hash.h"
#include "sealift/verify.h"

struct fixture {
    struct verify_result res;
    char bundle[UNIT_PATH_MAX];
};

/* ---- a strict JSON validator (RFC 8259), enough to catch malformed output ---- */

static const char *json_value(const char *p);

static const char *
json_ws(const char *p)
{
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
        p++;
    return p;
}

static const char *
json_string(const char *p)
{
    if (*p++ != '"')
        return NULL;
    while (*p != '"') {
        if ((unsigned char)*p < 0x20)
            return NULL; /* raw control characters are not allowed in strings */
        if (*p == '\\') {
            p++;
            if (*p == 'u') {
                for (int i = 1; i <= 4; i++)
                    if (!strchr("0123456789abcdefABCDEF", p[i]) || p[i] == '\0')
                        return NULL;
                p += 4;
            } else if (!strchr("\"\\/bfnrt", *p) || *p == '\0') {
                return NULL;
            }
        }
        p++;
    }
    return p + 1;
}

static const char *
json_number(const char *p)
{
    const char *start = p;

    if (*p == '-')
        p++;
    if (*p == '0')
        p++;
    else
        while (*p >= '0' && *p <= '9')
            p++;
    return p == start ? NULL : p;
}

static const char *
json_list(const char *p, char close, int object)
{
    p = json_ws(p + 1);
    if (*p == close)
        return p + 1;
    for (;;) {
        if (object) {
            p = json_string(json_ws(p));
            if (p == NULL)
                return NULL;
            p = json_ws(p);
            if (*p++ != ':')
                return NULL;
        }
        p = json_value(p);
        if (p == NULL)
            return NULL;
        p = json_ws(p);
        if (*p == close)
            return p + 1;
        if (*p++ != ',')
            return NULL;
    }
}

static const char *
json_value(const char *p)
{
    p = json_ws(p);
    if (*p == '{')
        return json_list(p, '}', 1);
    if (*p == '[')
        return json_list(p, ']', 0);
    if (*p == '"')
        return json_string(p);
    if (strncmp(p, "true", 4) == 0)
        return p + 4;
    if (strncmp(p, "false", 5) == 0)
        return p + 5;
    if (strncmp(p, "null", 4) == 0)
        return p + 4;
    return json_number(p);
}

static int
json_valid(const char *text)
{
    const char *end = json_value(text);

    return end != NULL && *json_ws(end) == '\0';
}

/* ---- tests ---- */

static int
setup_golden(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    const char *root = getenv("SEALIFT_ROOT");
    char pubfile[UNIT_PATH_MAX];
    struct sig_pubkey pub;
    struct verify_options o;
    struct diag_err err = DIAG_ERR_INIT;

    if (f == NULL || hash_library_init() != 0)
        return -1;
    if (root == NULL || root[0] == '\0')
        root = ".";
    snprintf(f->bundle, sizeof(f->bundle), "%s/bundles/golden/golden-v1.sealift", root);
    snprintf(pubfile, sizeof(pubfile), "%s/bundles/golden/sealift-TEST-ONLY.pub", root);
    memset(&o, 0, sizeof(o));
    verify_result_init(&f->res);
    if (sig_pubkey_load(&pub, pubfile, &err) != 0) {
        fprintf(stderr, "%s (run from the repository root or set SEALIFT_ROOT)\n", err.msg);
        free(f);
        return -1;
    }
    o.keys = &pub;
    o.nkeys = 1;
    o.threshold = 1;
    o.require_trust = 1;
    if (bundle_verify(f->bundle, &o, &f->res, &err) != 0) {
        fprintf(stderr, "%s\n", err.msg);
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

static int
teardown_golden(void **state)
{
    struct fixture *f = *state;

    verify_result_release(&f->res);
    free(f);
    return 0;
}

static void
test_describe_validator_self_check(void **state)
{
    static const char *const good[] = {"{}", "[]", "{\"a\":[1,true,null,\"x\\u0001\"]}", " 0 "};
    static const char *const bad[] = {"{",       "{\"a\":}", "[1,]",  "{\"a\" 1}", "\"\x01\"",
                                      "\"\\x\"", "{} {}",    "[1 2]", ""};

    (void)state;
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        if (!json_valid(good[i]))
            fail_msg("validator refused %s", good[i]);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (json_valid(bad[i]))
            fail_msg("validator accepted %s", bad[i]);
}

static void
test_describe_verified_line(void **state)
{
    struct fixture *f = *state;
    struct buf out = BUF_INIT, want = BUF_INIT;
    const struct manifest *m = &f->res.manifest;

    describe_verified("b.sealift", &f->res, &out);
    buf_addf(&want,
             "b.sealift: verified: project %s, serial %llu, environment golden, %zu migrations, "
             "head %s; signed by 87EAF046784968A8\n",
             m->project, (unsigned long long)m->serial, m->nmigrations,
             m->migrations[m->nmigrations - 1].id);
    assert_string_equal(out.data, want.data);
    buf_release(&out);
    buf_release(&want);
}

static void
test_describe_text_lists_every_migration(void **state)
{
    struct fixture *f = *state;
    struct buf out = BUF_INIT;
    char hex[HASH_SHA256_HEX], line[128];

    describe_text(f->bundle, &f->res, 1, &out);
    assert_contains(out.data, "environment  golden\n");
    assert_contains(out.data, "created      2026-01-01T00:00:00Z\n");
    assert_contains(out.data, "format       sealift bundle v1, zstd, ");
    assert_contains(out.data, hex_encode(hex, f->res.bundle_id, HASH_SHA256_BYTES));
    assert_contains(out.data, "signatures   87EAF046784968A8 verified\n");
    for (size_t i = 0; i < f->res.manifest.nmigrations; i++) {
        snprintf(line, sizeof(line), "\n%6zu  %s  ", i + 1, f->res.manifest.migrations[i].id);
        assert_contains(out.data, line);
    }
    buf_reset(&out);
    describe_text(f->bundle, &f->res, 0, &out);
    assert_contains(out.data, "87EAF046784968A8 not checked");
    buf_release(&out);
}

static void
test_describe_json_is_valid(void **state)
{
    struct fixture *f = *state;
    struct buf out = BUF_INIT, id = BUF_INIT;
    char hex[HASH_SHA256_HEX];

    for (int checked = 0; checked <= 1; checked++) {
        /* A path that needs escaping must still give valid JSON. */
        buf_reset(&out);
        describe_json("dir\\with \"quotes\"\n.sealift", &f->res, checked, &out);
        if (!json_valid(out.data))
            fail_msg("invalid JSON: %.300s", out.data);
        assert_int_equal(out.data[out.len - 1], '\n');
        assert_contains(out.data, "\"bundle\":\"dir\\\\with \\\"quotes\\\"\\n.sealift\"");
        assert_contains(out.data, "\"environment\":\"golden\"");
        assert_contains(out.data, "\"key_id\":\"87EAF046784968A8\"");
        assert_contains(out.data,
                        checked ? "\"signatures_checked\":true" : "\"signatures_checked\":false");
        buf_reset(&id);
        buf_addf(&id, "\"id\":\"%s\"", hex_encode(hex, f->res.bundle_id, HASH_SHA256_BYTES));
        assert_contains(out.data, id.data);
    }
    buf_release(&out);
    buf_release(&id);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_describe_validator_self_check),
        cmocka_unit_test(test_describe_verified_line),
        cmocka_unit_test(test_describe_text_lists_every_migration),
        cmocka_unit_test(test_describe_json_is_valid),
    };

    return cmocka_run_group_tests_name("describe", tests, setup_golden, teardown_golden);
}
