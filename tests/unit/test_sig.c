/*
 * test_sig.c: unit tests for lib/sig.c (minisign public keys, signature files, sign/verify,
 * keyrings), pinned to the test vectors of research/signing.md sections 1-3.
 * Layer: tests.
 */
#include "unit.h"

#include "sealift/hash.h"
#include "sealift/seckey.h"
#include "sealift/sig.h"

#include <sodium.h>

/* research/signing.md section 1: a key made with minisign -G -W. */
#define PUBKEY_B64      "RWTd3s5y/X1fW08IAbgdkFFdICw+VvC98O+ENj2WhrhEN2F2wYfHCvZV"
#define PUBKEY_KEYID    "5B5F7DFD72CEDEDD"
#define PUBKEY_FILE     "untrusted comment: minisign public key " PUBKEY_KEYID "\n" PUBKEY_B64 "\n"
#define PUBKEY_PK_HEX   "4f0801b81d90515d202c3e56f0bdf0ef84363d9686b844376176c187c70af655"
#define PUBKEY_ID_BYTES "\xdd\xde\xce\x72\xfd\x7d\x5f\x5b"

/*
 * Its secret key, as minisign -G -W writes it (salt, limits and checksum all zero). The
 * research file elides the runs of "A"; the bytes are fixed by the layout of section 2.
 */
#define SECKEY_FILE                                                                                \
    "untrusted comment: minisign encrypted secret key\n"                                           \
    "RWQAAEIyAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"                     \
    "3d7Ocv19X1tkN7Vg9V+mBpyUUcCW2U5NLsIc5Tq9iT/"                                                  \
    "CDrDzYkpKvU8IAbgdkFFdICw+VvC98O+ENj2WhrhEN2F2wYfHCvZV"                                        \
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"

/* research/signing.md section 3: minisign -S over the 13-byte message "hello bundle\n". */
#define MSG    "hello bundle\n"
#define SIG_L1 "untrusted comment: signature from minisign secret key\n"
#define SIG_L2B                                                                                    \
    "RUTd3s5y/X1fW4jqotOOuc/+fM5sTLHBe8/"                                                          \
    "Wq0qdWMYVN5tIgedn6Hl2rSjUcpFfSIgKrZWMHT+aZj7TyEnFebkAFAhl53FvfAA="
#define SIG_L2 SIG_L2B "\n"
#define SIG_L3 "trusted comment: bundle=demo version=1\n"
#define SIG_L4B                                                                                    \
    "ErZjd9VRq88aI1kSmmwUgfh/zB5GifCDg9JNcw/GTHvQ5I3XtZAUgbzcjsTRnwzCF6qF2e1KOiv54eiDuHRJAg=="
#define SIG_L4   SIG_L4B "\n"
#define SIG_TEXT SIG_L1 SIG_L2 SIG_L3 SIG_L4

struct fixture {
    char dir[UNIT_PATH_MAX];
};

static int
setup_group(void **state)
{
    (void)state;
    return hash_library_init();
}

static int
setup_tmpdir(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    if (f == NULL || unit_mkdtemp(f->dir) != 0) {
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

static int
teardown_tmpdir(void **state)
{
    struct fixture *f = *state;
    int ret = unit_rmtree(f->dir);

    free(f);
    return ret;
}

static void
parse_research_pubkey(struct sig_pubkey *key)
{
    struct diag_err err = DIAG_ERR_INIT;

    assert_int_equal(sig_pubkey_parse(key, PUBKEY_FILE, strlen(PUBKEY_FILE), &err), 0);
}

static void
parse_research_sig(struct sig_signature *sig, const char *text)
{
    struct diag_err err = DIAG_ERR_INIT;

    if (sig_parse(sig, text, strlen(text), &err) != 0)
        fail_msg("sig_parse: %s", err.msg);
}

static void
test_sig_pubkey_parse_file_and_bare(void **state)
{
    static const char *const inputs[] = {
        PUBKEY_FILE,
        PUBKEY_B64,
        PUBKEY_B64 "\n",
        PUBKEY_B64 "\r\n",
        "untrusted comment: minisign public key " PUBKEY_KEYID "\r\n" PUBKEY_B64 "\r\n",
        "any first line is ignored\n" PUBKEY_B64 "\n",
        "untrusted comment: no final newline\n" PUBKEY_B64,
    };
    unsigned char pk[SIG_PUBLICKEY_BYTES];
    char id[SIG_KEYID_HEX];

    (void)state;
    assert_int_equal(hex_decode(pk, sizeof(pk), PUBKEY_PK_HEX, strlen(PUBKEY_PK_HEX)), 0);
    for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
        struct sig_pubkey key;
        struct diag_err err = DIAG_ERR_INIT;

        memset(&key, 0, sizeof(key));
        if (sig_pubkey_parse(&key, inputs[i], strlen(inputs[i]), &err) != 0)
            fail_msg("input %zu refused: %s", i, err.msg);
        assert_memory_equal(key.keyid, PUBKEY_ID_BYTES, SIG_KEYID_BYTES);
        assert_memory_equal(key.pk, pk, SIG_PUBLICKEY_BYTES);
        assert_string_equal(sig_keyid_hex(id, key.keyid), PUBKEY_KEYID);
    }
}

static void
test_sig_pubkey_format_round_trip(void **state)
{
    struct sig_pubkey key, again;
    struct buf out = BUF_INIT;
    struct diag_err err = DIAG_ERR_INIT;

    (void)state;
    parse_research_pubkey(&key);
    sig_pubkey_format(&key, &out);
    assert_string_equal(out.data, PUBKEY_FILE);
    assert_int_equal(sig_pubkey_parse(&again, out.data, out.len, &err), 0);
    assert_memory_equal(&again, &key, sizeof(key));
    buf_release(&out);
}

static void
test_sig_pubkey_parse_rejects(void **state)
{
    static const struct {
        const char *text;
        const char *expect;
    } bad[] = {
        {"", "expected a comment line and a key line"},
        {"untrusted comment: minisign public key\n", "expected a comment line and a key line"},
        {"untrusted comment: x\n\n", "not base64 of 42 bytes"},
        {"RWTd3s5y/X1fW08IAbgdkFFdICw+VvC98O+ENj2WhrhEN2F2wYfHCvZ", "not base64 of 42 bytes"},
        {"RWTd3s5y/X1fW08IAbgdkFFdICw+VvC98O+ENj2WhrhEN2F2wYfHCvZVAAAA", "not base64 of 42 bytes"},
        {"RWTd3s5y/X1fW08IAbgdkFFdICw+VvC98O+ENj2WhrhEN2F2wYfHCvZ!", "not base64 of 42 bytes"},
        {"RWTd3s5y/X1fW08IAbgdkFFdICw+VvC98O+ENj2WhrhEN2F2wYfHCvZV ", "not base64 of 42 bytes"},
        {" RWTd3s5y/X1fW08IAbgdkFFdICw+VvC98O+ENj2WhrhEN2F2wYfHCvZV", "not base64 of 42 bytes"},
        {"RWTd3s5y-X1fW08IAbgdkFFdICw+VvC98O+ENj2WhrhEN2F2wYfHCvZV", "not base64 of 42 bytes"},
        /* "ED" is a signature algorithm, never a public key's. */
        {"RUTd3s5y/X1fW08IAbgdkFFdICw+VvC98O+ENj2WhrhEN2F2wYfHCvZV",
         "unsupported public key algorithm \"ED\""},
        {"AAAd3s5y/X1fW08IAbgdkFFdICw+VvC98O+ENj2WhrhEN2F2wYfHCvZV",
         "unsupported public key algorithm \"??\""},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct sig_pubkey key;
        struct diag_err err = DIAG_ERR_INIT;

        if (sig_pubkey_parse(&key, bad[i].text, strlen(bad[i].text), &err) != -1)
            fail_msg("case %zu accepted: \"%s\"", i, bad[i].text);
        assert_contains(err.msg, bad[i].expect);
    }
}

/* The second line of tests/cli/fixtures/minisign-encrypted.key (minisign 0.11, scrypt). */
#define SECKEY_ENCRYPTED_B64                                                                       \
    "RWRTY0IyEWFXBxV0Ianv01YmyZ2mo/c6VMX6gXCplsl+J/bZMsIAAAgAAAAAAAAAAAEAAAAA"                     \
    "grCZM+yOX8vr8PcL7EY7r3tqk16OEXE+nJq4cNhH0fXn1ZQtTIXmtcuS/ngntK2I11t8I+lJ"                     \
    "bIyVlB6c+MzeE3Nba1mRlqlWXamb8z2RMWW8SVqaHuwo9+PDnFbHgWHaO5eSXD6l/DA="

/* A secret key given where a public key belongs is named as such, whatever its encryption. */
static void
test_sig_pubkey_parse_names_secret_key(void **state)
{
    static const char *const inputs[] = {
        SECKEY_FILE,
        "untrusted comment: test secret key\n" SECKEY_ENCRYPTED_B64 "\n",
        SECKEY_ENCRYPTED_B64,
        "untrusted comment: minisign secret key (unencrypted)\r\n" SECKEY_ENCRYPTED_B64 "\r\n",
    };

    (void)state;
    for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
        struct sig_pubkey key;
        struct diag_err err = DIAG_ERR_INIT;

        if (sig_pubkey_parse(&key, inputs[i], strlen(inputs[i]), &err) != -1)
            fail_msg("input %zu accepted", i);
        assert_string_equal(err.msg, "a secret key, not a public key: pass the .pub file");
    }
}

static void
test_sig_pubkey_parse_rejects_oversized(void **state)
{
    struct buf text = BUF_INIT;
    struct sig_pubkey key;
    struct diag_err err = DIAG_ERR_INIT;

    (void)state;
    buf_addstr(&text, "untrusted comment: ");
    while (text.len < SIG_PUBKEY_FILE_MAX)
        buf_addch(&text, 'x');
    buf_addstr(&text, "\n" PUBKEY_B64 "\n");
    assert_int_equal(sig_pubkey_parse(&key, text.data, text.len, &err), -1);
    assert_contains(err.msg, "public key is longer than 4096 bytes");
    buf_release(&text);
}

static void
test_sig_keyid_hex_is_little_endian_padded(void **state)
{
    static const unsigned char one[SIG_KEYID_BYTES] = {1, 0, 0, 0, 0, 0, 0, 0};
    static const unsigned char top[SIG_KEYID_BYTES] = {0, 0, 0, 0, 0, 0, 0, 0xab};
    char id[SIG_KEYID_HEX];

    (void)state;
    assert_string_equal(sig_keyid_hex(id, one), "0000000000000001");
    assert_string_equal(sig_keyid_hex(id, top), "AB00000000000000");
    assert_string_equal(sig_keyid_hex(id, (const unsigned char *)PUBKEY_ID_BYTES), PUBKEY_KEYID);
}

static void
test_sig_verify_research_vector(void **state)
{
    struct sig_pubkey key;
    struct sig_signature sig;
    struct diag_err err = DIAG_ERR_INIT;

    (void)state;
    parse_research_pubkey(&key);
    parse_research_sig(&sig, SIG_TEXT);
    assert_int_equal(sig.prehashed, 1);
    assert_memory_equal(sig.keyid, PUBKEY_ID_BYTES, SIG_KEYID_BYTES);
    assert_string_equal(sig.trusted_comment, "bundle=demo version=1");
    if (sig_verify(&sig, &key, MSG, strlen(MSG), &err) != 0)
        fail_msg("research signature refused: %s", err.msg);
    assert_int_equal(strlen(MSG), 13);
}

static void
test_sig_verify_ignores_untrusted_comment(void **state)
{
    struct sig_pubkey key;
    struct sig_signature sig;
    struct diag_err err = DIAG_ERR_INIT;

    (void)state;
    /* minisign does not authenticate line 1 (research/signing.md section 3). */
    parse_research_pubkey(&key);
    parse_research_sig(&sig, "untrusted comment: edited\n" SIG_L2 SIG_L3 SIG_L4);
    assert_int_equal(sig_verify(&sig, &key, MSG, strlen(MSG), &err), 0);
}

static void
test_sig_verify_rejects_flipped_message(void **state)
{
    struct sig_pubkey key;
    struct sig_signature sig;
    struct diag_err err = DIAG_ERR_INIT;
    char msg[] = MSG;

    (void)state;
    parse_research_pubkey(&key);
    parse_research_sig(&sig, SIG_TEXT);
    for (size_t i = 0; i < strlen(MSG); i++) {
        msg[i] ^= 0x01;
        assert_int_equal(sig_verify(&sig, &key, msg, strlen(MSG), &err), -1);
        assert_string_equal(err.msg, "signature by key " PUBKEY_KEYID " does not verify");
        msg[i] ^= 0x01;
    }
    /* A truncated message and an extended one fail the same way. */
    assert_int_equal(sig_verify(&sig, &key, MSG, strlen(MSG) - 1, &err), -1);
    assert_string_equal(err.msg, "signature by key " PUBKEY_KEYID " does not verify");
    assert_int_equal(sig_verify(&sig, &key, MSG "x", strlen(MSG) + 1, &err), -1);
    assert_string_equal(err.msg, "signature by key " PUBKEY_KEYID " does not verify");
}

static void
test_sig_verify_rejects_edited_trusted_comment(void **state)
{
    static const char *const edited[] = {
        SIG_L1 SIG_L2 "trusted comment: bundle=demo version=2\n" SIG_L4,
        SIG_L1 SIG_L2 "trusted comment: bundle=demo version=1 \n" SIG_L4,
        SIG_L1 SIG_L2 "trusted comment: \n" SIG_L4,
        SIG_L1 SIG_L2 "trusted comment:  bundle=demo version=1\n" SIG_L4,
    };
    struct sig_pubkey key;

    (void)state;
    parse_research_pubkey(&key);
    for (size_t i = 0; i < sizeof(edited) / sizeof(edited[0]); i++) {
        struct sig_signature sig;
        struct diag_err err = DIAG_ERR_INIT;

        parse_research_sig(&sig, edited[i]);
        assert_int_equal(sig_verify(&sig, &key, MSG, strlen(MSG), &err), -1);
        assert_string_equal(err.msg,
                            "trusted comment signature by key " PUBKEY_KEYID " does not verify");
    }
}

static void
test_sig_verify_rejects_other_key(void **state)
{
    struct sig_pubkey key;
    struct sig_signature sig;
    struct diag_err err = DIAG_ERR_INIT;

    (void)state;
    parse_research_sig(&sig, SIG_TEXT);

    /* A different key id is refused before any cryptography. */
    parse_research_pubkey(&key);
    key.keyid[0] ^= 0xff;
    assert_int_equal(sig_verify(&sig, &key, MSG, strlen(MSG), &err), -1);
    assert_string_equal(err.msg,
                        "signature is by key " PUBKEY_KEYID ", not by key 5B5F7DFD72CEDE22");

    /* The right key id with the wrong key bytes fails the signature itself. */
    parse_research_pubkey(&key);
    key.pk[5] ^= 0x10;
    assert_int_equal(sig_verify(&sig, &key, MSG, strlen(MSG), &err), -1);
    assert_contains(err.msg, "does not verify");
    assert_not_contains(err.msg, "trusted comment");
}

static void
test_sig_verify_rejects_tampered_signature_bytes(void **state)
{
    struct sig_pubkey key;
    struct sig_signature sig;
    struct diag_err err = DIAG_ERR_INIT;

    (void)state;
    parse_research_pubkey(&key);
    parse_research_sig(&sig, SIG_TEXT);
    sig.sig[10] ^= 0x04;
    assert_int_equal(sig_verify(&sig, &key, MSG, strlen(MSG), &err), -1);
    assert_string_equal(err.msg, "signature by key " PUBKEY_KEYID " does not verify");

    parse_research_sig(&sig, SIG_TEXT);
    sig.global_sig[63] ^= 0x01;
    assert_int_equal(sig_verify(&sig, &key, MSG, strlen(MSG), &err), -1);
    assert_string_equal(err.msg,
                        "trusted comment signature by key " PUBKEY_KEYID " does not verify");

    /* The same bytes read as a legacy (non-prehashed) signature do not verify. */
    parse_research_sig(&sig, SIG_TEXT);
    sig.prehashed = 0;
    assert_int_equal(sig_verify(&sig, &key, MSG, strlen(MSG), &err), -1);
    assert_string_equal(err.msg, "signature by key " PUBKEY_KEYID " does not verify");
}

static struct seckey *
load_research_seckey(void)
{
    struct diag_err err = DIAG_ERR_INIT;
    struct seckey *sk = seckey_parse(SECKEY_FILE, strlen(SECKEY_FILE), NULL, NULL, &err);

    if (sk == NULL)
        fail_msg("research secret key refused: %s", err.msg);
    return sk;
}

static void
test_sig_sign_reproduces_research_signature(void **state)
{
    struct seckey *sk = load_research_seckey();
    struct buf out = BUF_INIT;
    struct diag_err err = DIAG_ERR_INIT;

    (void)state;
    /* Ed25519 is deterministic: the same key, message and comment give minisign's bytes. */
    assert_int_equal(sig_sign(sk, MSG, strlen(MSG), "bundle=demo version=1",
                              "signature from minisign secret key", &out, &err),
                     0);
    assert_string_equal(out.data, SIG_TEXT);
    buf_release(&out);
    seckey_free(sk);
}

static void
test_sig_verify_legacy_signature(void **state)
{
    struct seckey *sk = load_research_seckey();
    unsigned char blob[2 + SIG_KEYID_BYTES + SIG_SIGNATURE_BYTES];
    unsigned char global_msg[SIG_SIGNATURE_BYTES + 4];
    unsigned char global[SIG_SIGNATURE_BYTES];
    char b64[256];
    struct buf text = BUF_INIT;
    struct sig_signature sig;
    struct sig_pubkey key;
    struct diag_err err = DIAG_ERR_INIT;

    (void)state;
    /* A minisign -l signature: "Ed" and pure Ed25519 over the message itself. */
    blob[0] = 'E';
    blob[1] = 'd';
    memcpy(blob + 2, sk->keyid, SIG_KEYID_BYTES);
    crypto_sign_detached(blob + 2 + SIG_KEYID_BYTES, NULL, (const unsigned char *)MSG, strlen(MSG),
                         sk->sk);
    memcpy(global_msg, blob + 2 + SIG_KEYID_BYTES, SIG_SIGNATURE_BYTES);
    memcpy(global_msg + SIG_SIGNATURE_BYTES, "t=ok", 4);
    crypto_sign_detached(global, NULL, global_msg, sizeof(global_msg), sk->sk);
    buf_addstr(&text, "untrusted comment: legacy\n");
    buf_addstr(&text, sodium_bin2base64(b64, sizeof(b64), blob, sizeof(blob),
                                        sodium_base64_VARIANT_ORIGINAL));
    buf_addstr(&text, "\ntrusted comment: t=ok\n");
    buf_addstr(&text, sodium_bin2base64(b64, sizeof(b64), global, sizeof(global),
                                        sodium_base64_VARIANT_ORIGINAL));
    buf_addch(&text, '\n');
    assert_memory_equal(text.data + strlen("untrusted comment: legacy\n"), "RWTd3s5y", 8);

    parse_research_pubkey(&key);
    assert_int_equal(sig_parse(&sig, text.data, text.len, &err), 0);
    assert_int_equal(sig.prehashed, 0);
    assert_int_equal(sig_verify(&sig, &key, MSG, strlen(MSG), &err), 0);
    assert_int_equal(sig_verify(&sig, &key, "hello bundle!", 13, &err), -1);
    assert_string_equal(err.msg, "signature by key " PUBKEY_KEYID " does not verify");
    buf_release(&text);
    seckey_free(sk);
}

static void
test_sig_sign_verify_round_trip(void **state)
{
    struct seckey *sk = seckey_generate();
    struct seckey *other = seckey_generate();
    struct sig_pubkey pub, other_pub;
    struct sig_signature sig;
    struct buf out = BUF_INIT;
    struct diag_err err = DIAG_ERR_INIT;
    unsigned char msg[3000];
    char id[SIG_KEYID_HEX];
    char want_l1[64];

    (void)state;
    for (size_t i = 0; i < sizeof(msg); i++)
        msg[i] = (unsigned char)(i * 31);
    seckey_pubkey(sk, &pub);
    seckey_pubkey(other, &other_pub);
    assert_memory_equal(pub.keyid, sk->keyid, SIG_KEYID_BYTES);
    assert_memory_equal(pub.pk, sk->sk + 32, SIG_PUBLICKEY_BYTES);
    assert_int_equal(sig_sign(sk, msg, sizeof(msg), "a\ttab and UTF-8 \xc3\xa9", "uc", &out, &err),
                     0);
    /* Four lines, each ending in LF, in minisign's layout. */
    assert_memory_equal(out.data, "untrusted comment: uc\nRU", 24);
    assert_contains(out.data, "\ntrusted comment: a\ttab and UTF-8 \xc3\xa9\n");
    assert_int_equal(out.data[out.len - 1], '\n');
    assert_int_equal(sig_parse(&sig, out.data, out.len, &err), 0);
    assert_int_equal(sig.prehashed, 1);
    assert_memory_equal(sig.keyid, sk->keyid, SIG_KEYID_BYTES);
    assert_string_equal(sig.trusted_comment, "a\ttab and UTF-8 \xc3\xa9");
    if (sig_verify(&sig, &pub, msg, sizeof(msg), &err) != 0)
        fail_msg("round trip refused: %s", err.msg);
    msg[2999] ^= 1;
    assert_int_equal(sig_verify(&sig, &pub, msg, sizeof(msg), &err), -1);
    assert_contains(err.msg, "does not verify");
    msg[2999] ^= 1;
    /* The other key is refused by key id, and by signature if it claims the same id. */
    assert_int_equal(sig_verify(&sig, &other_pub, msg, sizeof(msg), &err), -1);
    snprintf(want_l1, sizeof(want_l1), "signature is by key %s", sig_keyid_hex(id, sk->keyid));
    assert_contains(err.msg, want_l1);
    memcpy(other_pub.keyid, pub.keyid, SIG_KEYID_BYTES);
    assert_int_equal(sig_verify(&sig, &other_pub, msg, sizeof(msg), &err), -1);
    assert_contains(err.msg, "does not verify");
    /* An empty message and an empty comment are fine. */
    buf_reset(&out);
    assert_int_equal(sig_sign(sk, "", 0, "", "", &out, &err), 0);
    assert_int_equal(sig_parse(&sig, out.data, out.len, &err), 0);
    assert_int_equal(sig_verify(&sig, &pub, "", 0, &err), 0);
    buf_release(&out);
    seckey_free(sk);
    seckey_free(other);
}

static void
test_sig_sign_rejects_bad_comments(void **state)
{
    static const struct {
        const char *tc;
        const char *uc;
        const char *expect;
    } bad[] = {
        {"two\nlines", "uc", "trusted comment is too long or has control characters"},
        {"cr\r", "uc", "trusted comment is too long or has control characters"},
        {"bell\a", "uc", "trusted comment is too long or has control characters"},
        {"del\x7f", "uc", "trusted comment is too long or has control characters"},
        {"tc", "two\nlines", "untrusted comment is too long or has control characters"},
        {"tc", "esc\x1b[0m", "untrusted comment is too long or has control characters"},
    };
    struct seckey *sk = seckey_generate();
    struct buf out = BUF_INIT;
    char *longtc = malloc(SIG_TRUSTED_COMMENT_MAX + 2);
    char *longuc = malloc(SIG_UNTRUSTED_COMMENT_MAX + 2);
    struct diag_err err = DIAG_ERR_INIT;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (sig_sign(sk, "m", 1, bad[i].tc, bad[i].uc, &out, &err) != -1)
            fail_msg("case %zu accepted", i);
        assert_string_equal(err.msg, bad[i].expect);
        assert_int_equal(out.len, 0); /* nothing half-written */
    }
    assert_non_null(longtc);
    assert_non_null(longuc);
    /* The longest allowed comments are accepted; one byte more is refused. */
    memset(longtc, 'c', SIG_TRUSTED_COMMENT_MAX);
    longtc[SIG_TRUSTED_COMMENT_MAX] = '\0';
    memset(longuc, 'u', SIG_UNTRUSTED_COMMENT_MAX);
    longuc[SIG_UNTRUSTED_COMMENT_MAX] = '\0';
    assert_int_equal(sig_sign(sk, "m", 1, longtc, longuc, &out, &err), 0);
    buf_reset(&out);
    longtc[SIG_TRUSTED_COMMENT_MAX] = 'c';
    longtc[SIG_TRUSTED_COMMENT_MAX + 1] = '\0';
    assert_int_equal(sig_sign(sk, "m", 1, longtc, "uc", &out, &err), -1);
    assert_contains(err.msg, "trusted comment is too long");
    longuc[SIG_UNTRUSTED_COMMENT_MAX] = 'u';
    longuc[SIG_UNTRUSTED_COMMENT_MAX + 1] = '\0';
    assert_int_equal(sig_sign(sk, "m", 1, "tc", longuc, &out, &err), -1);
    assert_contains(err.msg, "untrusted comment is too long");
    free(longtc);
    free(longuc);
    buf_release(&out);
    seckey_free(sk);
}

static void
test_sig_parse_accepts_variants(void **state)
{
    static const char *const good[] = {
        SIG_TEXT,
        /* CRLF line endings (minisign strips a CR before the LF). */
        "untrusted comment: signature from minisign secret key\r\n" SIG_L2B "\r\n"
        "trusted comment: bundle=demo version=1\r\n" SIG_L4B "\r\n",
        /* No newline after the last line. */
        SIG_L1 SIG_L2 SIG_L3 SIG_L4B,
        /* An empty untrusted comment. */
        "untrusted comment: \n" SIG_L2 SIG_L3 SIG_L4,
    };
    struct sig_pubkey key;

    (void)state;
    parse_research_pubkey(&key);
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        struct sig_signature sig;
        struct diag_err err = DIAG_ERR_INIT;

        if (sig_parse(&sig, good[i], strlen(good[i]), &err) != 0)
            fail_msg("variant %zu refused: %s", i, err.msg);
        assert_string_equal(sig.trusted_comment, "bundle=demo version=1");
        assert_int_equal(sig_verify(&sig, &key, MSG, strlen(MSG), &err), 0);
    }
}

static void
test_sig_parse_rejects(void **state)
{
    static const struct {
        const char *name;
        const char *text;
        size_t len; /* 0: strlen(text) */
        const char *expect;
    } bad[] = {
        {"empty", "", 0, "signature is truncated: 0 of 4 lines"},
        {"one line", SIG_L1, 0, "signature is truncated: 1 of 4 lines"},
        {"two lines", SIG_L1 SIG_L2, 0, "signature is truncated: 2 of 4 lines"},
        {"three lines", SIG_L1 SIG_L2 SIG_L3, 0, "signature is truncated: 3 of 4 lines"},
        {"trailing line", SIG_TEXT "extra\n", 0, "unexpected data after the signature's fourth"},
        {"trailing empty line", SIG_TEXT "\n", 0, "unexpected data after the signature's fourth"},
        {"trailing bytes", SIG_TEXT "x", 0, "unexpected data after the signature's fourth line"},
        {"line 1 prefix", "untrusted-comment: x\n" SIG_L2 SIG_L3 SIG_L4, 0,
         "signature line 1 does not start with \"untrusted comment: \""},
        {"line 1 case", "Untrusted comment: x\n" SIG_L2 SIG_L3 SIG_L4, 0,
         "signature line 1 does not start with"},
        {"line 1 no space", "untrusted comment:\n" SIG_L2 SIG_L3 SIG_L4, 0,
         "signature line 1 does not start with"},
        {"line 2 missing", SIG_L1 SIG_L3 SIG_L4 SIG_L4, 0, "signature line 2 is not base64 of 74"},
        {"line 2 bad char", SIG_L1 "!" SIG_L2B "\n" SIG_L3 SIG_L4, 0,
         "signature line 2 is not base64 of 74 bytes"},
        {"line 2 short",
         SIG_L1 "RUTd3s5y/X1fW4jqotOOuc/+fM5sTLHBe8/Wq0qdWMYVN5tIgedn6Hl2rSjUcpFfSIgKrZWMHT+aZj7"
                "TyEnFebkAFAhl53FvfA==\n" SIG_L3 SIG_L4,
         0, "signature line 2 is not base64 of 74 bytes"},
        {"line 2 long", SIG_L1 SIG_L2B "AAAA\n" SIG_L3 SIG_L4, 0,
         "signature line 2 is not base64 of 74 bytes"},
        {"line 2 unpadded",
         SIG_L1 "RUTd3s5y/X1fW4jqotOOuc/+fM5sTLHBe8/Wq0qdWMYVN5tIgedn6Hl2rSjUcpFfSIgKrZWMHT+aZj7"
                "TyEnFebkAFAhl53FvfAA\n" SIG_L3 SIG_L4,
         0, "signature line 2 is not base64 of 74 bytes"},
        {"line 2 trailing space", SIG_L1 SIG_L2B " \n" SIG_L3 SIG_L4, 0,
         "signature line 2 is not base64 of 74 bytes"},
        {"line 2 url-safe alphabet",
         SIG_L1 "RUTd3s5y_X1fW4jqotOOuc_-fM5sTLHBe8_Wq0qdWMYVN5tIgedn6Hl2rSjUcpFfSIgKrZWMHT-aZj7"
                "TyEnFebkAFAhl53FvfAA=\n" SIG_L3 SIG_L4,
         0, "signature line 2 is not base64 of 74 bytes"},
        {"line 2 algorithm",
         SIG_L1 "AATd3s5y/X1fW4jqotOOuc/+fM5sTLHBe8/Wq0qdWMYVN5tIgedn6Hl2rSjUcpFfSIgKrZWMHT+aZj7"
                "TyEnFebkAFAhl53FvfAA=\n" SIG_L3 SIG_L4,
         0, "unsupported signature algorithm"},
        {"line 3 prefix", SIG_L1 SIG_L2 "trusted comment:bundle=demo version=1\n" SIG_L4, 0,
         "signature line 3 does not start with \"trusted comment: \""},
        {"line 3 untrusted", SIG_L1 SIG_L2 SIG_L1 SIG_L4, 0, "signature line 3 does not start"},
        {"trusted comment C0", SIG_L1 SIG_L2 "trusted comment: a\x01z\n" SIG_L4, 0,
         "trusted comment contains control characters"},
        {"trusted comment ESC", SIG_L1 SIG_L2 "trusted comment: \x1b[31mred\n" SIG_L4, 0,
         "trusted comment contains control characters"},
        {"trusted comment DEL", SIG_L1 SIG_L2 "trusted comment: a\x7f\n" SIG_L4, 0,
         "trusted comment contains control characters"},
        {"trusted comment inner CR", SIG_L1 SIG_L2 "trusted comment: a\rb\n" SIG_L4, 0,
         "trusted comment contains control characters"},
        {"NUL byte", SIG_L1 SIG_L2 "trusted comment: a\0b\n" SIG_L4,
         sizeof(SIG_L1 SIG_L2 "trusted comment: a\0b\n" SIG_L4) - 1,
         "signature contains a NUL byte"},
        {"line 4 bad char", SIG_L1 SIG_L2 SIG_L3 "*" SIG_L4B "\n", 0,
         "signature line 4 is not base64 of 64 bytes"},
        {"line 4 empty", SIG_L1 SIG_L2 SIG_L3 "\n", 0,
         "signature line 4 is not base64 of 64 bytes"},
        {"line 4 is a line 2", SIG_L1 SIG_L2 SIG_L3 SIG_L2, 0,
         "signature line 4 is not base64 of 64 bytes"},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct sig_signature sig;
        struct diag_err err = DIAG_ERR_INIT;
        size_t len = bad[i].len ? bad[i].len : strlen(bad[i].text);

        if (sig_parse(&sig, bad[i].text, len, &err) != -1)
            fail_msg("case \"%s\" accepted", bad[i].name);
        if (strstr(err.msg, bad[i].expect) == NULL)
            fail_msg("case \"%s\": \"%s\" does not contain \"%s\"", bad[i].name, err.msg,
                     bad[i].expect);
    }
}

static void
test_sig_parse_rejects_oversized(void **state)
{
    struct buf text = BUF_INIT;
    struct sig_signature sig;
    struct diag_err err = DIAG_ERR_INIT;

    (void)state;
    /* A trusted comment of exactly the maximum parses (it will not verify, but it parses). */
    buf_addstr(&text, SIG_L1 SIG_L2 "trusted comment: ");
    for (int i = 0; i < SIG_TRUSTED_COMMENT_MAX; i++)
        buf_addch(&text, 't');
    buf_addstr(&text, "\n" SIG_L4);
    assert_int_equal(sig_parse(&sig, text.data, text.len, &err), 0);
    assert_int_equal(strlen(sig.trusted_comment), SIG_TRUSTED_COMMENT_MAX);

    /* One byte more is refused. */
    buf_reset(&text);
    buf_addstr(&text, SIG_L1 SIG_L2 "trusted comment: ");
    for (int i = 0; i < SIG_TRUSTED_COMMENT_MAX + 1; i++)
        buf_addch(&text, 't');
    buf_addstr(&text, "\n" SIG_L4);
    assert_int_equal(sig_parse(&sig, text.data, text.len, &err), -1);
    assert_string_equal(err.msg, "trusted comment is longer than 8173 bytes");

    /* A file over SIG_FILE_MAX is refused before it is parsed at all. */
    buf_reset(&text);
    buf_addstr(&text, "untrusted comment: ");
    while (text.len <= SIG_FILE_MAX)
        buf_addch(&text, 'u');
    buf_addstr(&text, "\n" SIG_L2 SIG_L3 SIG_L4);
    assert_int_equal(sig_parse(&sig, text.data, text.len, &err), -1);
    assert_string_equal(err.msg, "signature is longer than 16384 bytes");
    buf_release(&text);
}

static void
write_text(const char *dir, const char *name, const char *text, char *path)
{
    unit_path(path, dir, name);
    unit_write_file(path, text, strlen(text), 0644);
}

static void
test_sig_pubkey_load_names_file(void **state)
{
    struct fixture *f = *state;
    char path[UNIT_PATH_MAX];
    char want[UNIT_PATH_MAX + 64];
    struct sig_pubkey key;
    struct diag_err err = DIAG_ERR_INIT;

    write_text(f->dir, "good.pub", PUBKEY_FILE, path);
    assert_int_equal(sig_pubkey_load(&key, path, &err), 0);
    assert_memory_equal(key.keyid, PUBKEY_ID_BYTES, SIG_KEYID_BYTES);

    write_text(f->dir, "bad.pub", "untrusted comment: x\nnot base64\n", path);
    assert_int_equal(sig_pubkey_load(&key, path, &err), -1);
    assert_int_equal(err.io, 0);
    assert_contains(err.msg, path);
    assert_contains(err.msg, "not base64 of 42 bytes");

    write_text(f->dir, "release.key", SECKEY_FILE, path);
    assert_int_equal(sig_pubkey_load(&key, path, &err), -1);
    assert_int_equal(err.io, 0);
    snprintf(want, sizeof(want), "\"%s\" is a secret key, not a public key: pass the .pub file",
             path);
    assert_string_equal(err.msg, want);

    unit_path(path, f->dir, "missing.pub");
    assert_int_equal(sig_pubkey_load(&key, path, &err), -1);
    assert_int_equal(err.io, 1);
    assert_contains(err.msg, "could not open file");
    assert_contains(err.msg, "No such file or directory");
}

static void
test_sig_keyring_dedupes_and_refuses_keyid_clash(void **state)
{
    struct fixture *f = *state;
    struct sig_keyring ring;
    struct seckey *sk = seckey_generate();
    struct sig_pubkey other, clash;
    struct buf text = BUF_INIT;
    char p1[UNIT_PATH_MAX], p2[UNIT_PATH_MAX], p3[UNIT_PATH_MAX], p4[UNIT_PATH_MAX];
    struct diag_err err = DIAG_ERR_INIT;

    sig_keyring_init(&ring);
    write_text(f->dir, "a.pub", PUBKEY_FILE, p1);
    write_text(f->dir, "a-bare.pub", PUBKEY_B64 "\n", p2);
    seckey_pubkey(sk, &other);
    sig_pubkey_format(&other, &text);
    write_text(f->dir, "b.pub", text.data, p3);
    /* A different key that claims the research key's id. */
    clash = other;
    memcpy(clash.keyid, PUBKEY_ID_BYTES, SIG_KEYID_BYTES);
    buf_reset(&text);
    sig_pubkey_format(&clash, &text);
    write_text(f->dir, "clash.pub", text.data, p4);

    assert_int_equal(sig_keyring_add_file(&ring, p1, &err), 0);
    assert_int_equal(ring.n, 1);
    /* The same key again, in either file form, counts once. */
    assert_int_equal(sig_keyring_add_file(&ring, p1, &err), 0);
    assert_int_equal(sig_keyring_add_file(&ring, p2, &err), 0);
    assert_int_equal(ring.n, 1);
    assert_int_equal(sig_keyring_add_file(&ring, p3, &err), 0);
    assert_int_equal(ring.n, 2);
    assert_memory_equal(&ring.keys[1], &other, sizeof(other));
    assert_int_equal(sig_keyring_add_file(&ring, p4, &err), -1);
    assert_contains(err.msg, "another trusted key has the same key id " PUBKEY_KEYID);
    assert_contains(err.msg, p4);
    assert_int_equal(ring.n, 2);
    sig_keyring_release(&ring);
    assert_int_equal(ring.n, 0);
    assert_null(ring.keys);
    buf_release(&text);
    seckey_free(sk);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sig_pubkey_parse_file_and_bare),
        cmocka_unit_test(test_sig_pubkey_format_round_trip),
        cmocka_unit_test(test_sig_pubkey_parse_rejects),
        cmocka_unit_test(test_sig_pubkey_parse_rejects_oversized),
        cmocka_unit_test(test_sig_pubkey_parse_names_secret_key),
        cmocka_unit_test(test_sig_keyid_hex_is_little_endian_padded),
        cmocka_unit_test(test_sig_verify_research_vector),
        cmocka_unit_test(test_sig_verify_ignores_untrusted_comment),
        cmocka_unit_test(test_sig_verify_rejects_flipped_message),
        cmocka_unit_test(test_sig_verify_rejects_edited_trusted_comment),
        cmocka_unit_test(test_sig_verify_rejects_other_key),
        cmocka_unit_test(test_sig_verify_rejects_tampered_signature_bytes),
        cmocka_unit_test(test_sig_sign_reproduces_research_signature),
        cmocka_unit_test(test_sig_verify_legacy_signature),
        cmocka_unit_test(test_sig_sign_verify_round_trip),
        cmocka_unit_test(test_sig_sign_rejects_bad_comments),
        cmocka_unit_test(test_sig_parse_accepts_variants),
        cmocka_unit_test(test_sig_parse_rejects),
        cmocka_unit_test(test_sig_parse_rejects_oversized),
        cmocka_unit_test_setup_teardown(test_sig_pubkey_load_names_file, setup_tmpdir,
                                        teardown_tmpdir),
        cmocka_unit_test_setup_teardown(test_sig_keyring_dedupes_and_refuses_keyid_clash,
                                        setup_tmpdir, teardown_tmpdir),
    };

    return cmocka_run_group_tests_name("sig", tests, setup_group, NULL);
}
