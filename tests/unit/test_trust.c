/*
 * test_trust.c: unit tests for lib/trust.c (the trusted key set and how key statements move
 * it), lib/keystmt.c (statement text, strict parser) and lib/utctime.c (expiry times).
 * Layer: tests.
 */
#include "unit.h"

#include "sealift/hash.h"
#include "sealift/keystmt.h"
#include "sealift/seckey.h"
#include "sealift/trust.h"
#include "sealift/utctime.h"
#include "sealift/verify.h"

/* A signed statement: body from st, signed by keys[0..n) in the order given. */
static void
make_statement(const struct keystmt *st, struct seckey **keys, size_t n, struct buf *out)
{
    struct buf body = BUF_INIT, tc = BUF_INIT;
    struct diag_err err = DIAG_ERR_INIT;

    keystmt_format_body(st, &body);
    keystmt_trusted_comment(st, &tc);
    buf_add(out, body.data, body.len);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(sig_sign(keys[i], body.data, body.len, tc.data,
                                  BUNDLE_SIG_UNTRUSTED_COMMENT, out, &err),
                         0);
    buf_release(&body);
    buf_release(&tc);
}

/* a and b in the order signatures are sorted: key ids as printed (last byte first). */
static void
sorted_pair(struct seckey *a, struct seckey *b, struct seckey **out)
{
    int order = 0;

    for (int i = SIG_KEYID_BYTES - 1; i >= 0 && order == 0; i--)
        order = (int)a->keyid[i] - (int)b->keyid[i];
    out[0] = order < 0 ? a : b;
    out[1] = order < 0 ? b : a;
}

static void
rotation(struct keystmt *st, const struct seckey *old, const struct seckey *next, uint64_t from)
{
    keystmt_init(st);
    st->kind = KEYSTMT_ROTATION;
    memcpy(st->subject, old->keyid, SIG_KEYID_BYTES);
    seckey_pubkey(next, &st->newkey);
    st->from_serial = from;
    memcpy(st->created, "2026-12-02T10:00:00Z", UTC_TEXT_SIZE);
}

/* Apply text (a statement file) to t; the outcome, or -1 with err set. */
static int
apply_text(struct trust_set *t, const struct buf *text, struct diag_err *err)
{
    struct keystmt st;
    int r;

    keystmt_init(&st);
    assert_int_equal(keystmt_parse(&st, text->data, text->len, err), 0);
    r = trust_apply(t, &st, text->data, err);
    keystmt_release(&st);
    return r;
}

static void
test_keystmt_round_trip_and_strictness(void **state)
{
    struct seckey *a = seckey_generate(), *b = seckey_generate();
    struct keystmt st, got;
    struct buf text = BUF_INIT, bad = BUF_INIT;
    struct diag_err err = DIAG_ERR_INIT;
    static const struct {
        const char *from, *to, *want;
    } edits[] = {
        {"kind rotation", "kind rotatio", "kind must be"},
        {"from-serial 7", "from-serial 07", "from-serial N"},
        {"from-serial 7", "from-serial 8", "trusted comment does not describe it"},
        {"comment why%20not", "comment why not", "comment is not a valid field"},
        {"comment why%20not", "comment why%20no%74", "not in canonical form"},
        {"\nend\n", "\nend\r\n", "carriage return"},
        {"created 2026-12-02T10:00:00Z", "created 2026-02-30T10:00:00Z", "created"},
        {"sealift-key-statement 1", "sealift-key-statement 2", "not a key statement"},
    };

    (void)state;
    rotation(&st, a, b, 7);
    strcpy(st.comment, "why not");
    make_statement(&st, &a, 1, &text);
    keystmt_init(&got);
    assert_int_equal(keystmt_parse(&got, text.data, text.len, &err), 0);
    assert_int_equal(got.kind, KEYSTMT_ROTATION);
    assert_int_equal(got.from_serial, 7);
    assert_string_equal(got.comment, "why not");
    assert_memory_equal(got.newkey.pk, st.newkey.pk, SIG_PUBLICKEY_BYTES);
    assert_int_equal(got.nsigs, 1);
    for (size_t i = 0; i < sizeof(edits) / sizeof(edits[0]); i++) {
        char *at = strstr(text.data, edits[i].from);

        assert_non_null(at);
        buf_reset(&bad);
        buf_add(&bad, text.data, (size_t)(at - text.data));
        buf_addstr(&bad, edits[i].to);
        buf_addstr(&bad, at + strlen(edits[i].from));
        assert_int_equal(keystmt_parse(&got, bad.data, bad.len, &err), -1);
        assert_contains(err.msg, edits[i].want);
    }
    /* The body alone: not signed. */
    buf_reset(&bad);
    buf_add(&bad, text.data, (size_t)(strstr(text.data, "\nend\n") + 5 - text.data));
    assert_int_equal(keystmt_parse(&got, bad.data, bad.len, &err), -1);
    assert_contains(err.msg, "not signed");
    keystmt_release(&got);
    buf_release(&text);
    buf_release(&bad);
    seckey_free(a);
    seckey_free(b);
}

static void
test_trust_rotation_chain_and_retirement(void **state)
{
    struct seckey *a = seckey_generate(), *b = seckey_generate(), *c = seckey_generate();
    struct sig_pubkey pa;
    struct trust_set t;
    struct keystmt st;
    struct buf ab = BUF_INIT, bc = BUF_INIT, forged = BUF_INIT;
    struct diag_err err = DIAG_ERR_INIT;
    const struct trust_key *k;

    (void)state;
    seckey_pubkey(a, &pa);
    trust_set_init(&t, &pa, 1, 1);
    rotation(&st, a, b, 0);
    make_statement(&st, &a, 1, &ab);
    rotation(&st, b, c, 5);
    make_statement(&st, &b, 1, &bc);
    /* b -> c first: b is not current yet, and the statement concerns no current key. */
    assert_int_equal(apply_text(&t, &bc, &err), TRUST_IGNORED);
    assert_int_equal(apply_text(&t, &ab, &err), TRUST_APPLIED);
    assert_int_equal(apply_text(&t, &ab, &err), TRUST_KNOWN);
    assert_int_equal(apply_text(&t, &bc, &err), TRUST_APPLIED);
    k = trust_find(&t, a->keyid);
    assert_int_equal(k->state, TRUST_RETIRED);
    assert_memory_equal(k->successor, b->keyid, SIG_KEYID_BYTES);
    assert_int_equal(trust_find(&t, b->keyid)->state, TRUST_RETIRED);
    k = trust_find(&t, c->keyid);
    assert_int_equal(k->state, TRUST_CURRENT);
    assert_int_equal(k->from_serial, 5);
    /* A rotation of the current key c signed by the retired key a is refused. */
    rotation(&st, c, a, 0);
    make_statement(&st, &a, 1, &forged);
    assert_int_equal(apply_text(&t, &forged, &err), -1);
    assert_contains(err.msg, "cannot return");
    buf_reset(&forged);
    rotation(&st, c, b, 0);
    make_statement(&st, &a, 1, &forged);
    assert_int_equal(apply_text(&t, &forged, &err), -1);
    trust_set_release(&t);
    buf_release(&ab);
    buf_release(&bc);
    buf_release(&forged);
    seckey_free(a);
    seckey_free(b);
    seckey_free(c);
}

static void
test_trust_threshold_counts_each_key_once(void **state)
{
    struct seckey *a = seckey_generate(), *b = seckey_generate(), *n = seckey_generate();
    struct seckey *two[2];
    struct sig_pubkey anchors[2];
    struct trust_set t;
    struct keystmt st;
    struct buf one = BUF_INIT, both = BUF_INIT, rev = BUF_INIT;
    struct diag_err err = DIAG_ERR_INIT;

    (void)state;
    seckey_pubkey(a, &anchors[0]);
    seckey_pubkey(b, &anchors[1]);
    trust_set_init(&t, anchors, 2, 2);
    rotation(&st, a, n, 0);
    make_statement(&st, &a, 1, &one);
    assert_int_equal(apply_text(&t, &one, &err), -1);
    assert_contains(err.msg, "signed by 1 current key, fewer than the threshold of 2");
    sorted_pair(a, b, two);
    make_statement(&st, two, 2, &both);
    assert_int_equal(apply_text(&t, &both, &err), TRUST_APPLIED);
    /* A revocation of b by n and b: two current keys. */
    keystmt_init(&st);
    st.kind = KEYSTMT_REVOCATION;
    memcpy(st.subject, b->keyid, SIG_KEYID_BYTES);
    memcpy(st.created, "2026-12-02T11:00:00Z", UTC_TEXT_SIZE);
    sorted_pair(n, b, two);
    make_statement(&st, two, 2, &rev);
    assert_int_equal(apply_text(&t, &rev, &err), TRUST_APPLIED);
    assert_int_equal(trust_find(&t, b->keyid)->state, TRUST_REVOKED);
    assert_int_equal(apply_text(&t, &rev, &err), TRUST_KNOWN);
    trust_set_release(&t);
    buf_release(&one);
    buf_release(&both);
    buf_release(&rev);
    seckey_free(a);
    seckey_free(b);
    seckey_free(n);
}

static void
test_utctime_expiry_arguments(void **state)
{
    static const struct {
        const char *arg;
        long long want; /* -1: refused */
    } cases[] = {
        {"90d", 1577836800LL + 90 * 86400},
        {"12h", 1577836800LL + 12 * 3600},
        {"2w", 1577836800LL + 14 * 86400},
        {"30min", 1577836800LL + 1800},
        {"3600s", 1577836800LL + 3600},
        {"2020-06-30", 1593475200LL},
        {"2021-02-03T04:05:06Z", 1612325106LL},
        {"0d", -1},
        {"90", -1},
        {"-1d", -1},
        {"1y", -1},
        {"2020-02-30", -1},
        {"2019-12-31", -1},
        {"", -1},
        {"2020-01-01", -1},
        {"9999999999d", -1},
    };
    char text[UTC_TEXT_SIZE];
    long long t;

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct diag_err err = DIAG_ERR_INIT;
        int r = utc_expiry_arg(cases[i].arg, 1577836800LL, &t, &err);

        if (cases[i].want < 0) {
            assert_int_equal(r, -1);
            assert_contains(err.msg, "--expires");
        } else {
            assert_int_equal(r, 0);
            assert_int_equal(t, cases[i].want);
        }
    }
    assert_string_equal(utc_format(1612325106LL, text), "2021-02-03T04:05:06Z");
    assert_int_equal(utc_parse("2021-02-03T04:05:06Z", &t), 0);
    assert_int_equal(t, 1612325106LL);
    assert_string_equal(utc_format(951782400LL, text), "2000-02-29T00:00:00Z");
    assert_int_equal(utc_expired(NULL, 0), 0);
    assert_int_equal(utc_expired("2021-02-03T04:05:06Z", 1612325105LL), 0);
    assert_int_equal(utc_expired("2021-02-03T04:05:06Z", 1612325106LL), 1);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keystmt_round_trip_and_strictness),
        cmocka_unit_test(test_trust_rotation_chain_and_retirement),
        cmocka_unit_test(test_trust_threshold_counts_each_key_once),
        cmocka_unit_test(test_utctime_expiry_arguments),
    };

    if (hash_library_init() != 0)
        return 1;
    return cmocka_run_group_tests_name("trust", tests, NULL, NULL);
}
