/*
 * test_seckey.c: unit tests for lib/seckey.c (minisign secret key files: decrypt, write, load,
 * file-mode and KDF-limit checks), pinned to the vectors of research/signing.md section 2.
 * Layer: tests. Encryption uses SECKEY_KDF_INTERACTIVE only, to keep the suite fast.
 */
#include "unit.h"

#include "sealift/hash.h"
#include "sealift/seckey.h"
#include "sealift/sig.h"

#include <sodium.h>

/* Encrypted with INTERACTIVE limits, password "pw123" (research/signing.md section 2). */
#define ENC_KEY_FILE                                                                               \
    "untrusted comment: test secret key\n"                                                         \
    "RWRTY0IyEWFXBxV0Ianv01YmyZ2mo/c6VMX6gXCplsl+J/bZMsIAAAgAAAAAAAAAAAEAAAAAgrCZM+yOX8vr8PcL7EY7" \
    "r3tqk16OEXE+nJq4cNhH0fXn1ZQtTIXmtcuS/ngntK2I11t8I+lJbIyVlB6c+MzeE3Nba1mRlqlWXamb8z2RMWW8SVqa" \
    "Huwo9+PDnFbHgWHaO5eSXD6l/DA=\n"
#define ENC_PUBKEY "RWT8lVe5pAvT3S1IbR0iR0syspmybVfgKxyaBgihm2OrdkuWCy+PkWox"
#define ENC_KEYID  "DDD30BA4B95795FC"

/* minisign -G -W: unencrypted, salt, limits and checksum all zero (section 2, "-W"). */
#define RAW_KEY_FILE                                                                               \
    "untrusted comment: minisign encrypted secret key\n"                                           \
    "RWQAAEIyAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"                     \
    "3d7Ocv19X1tkN7Vg9V+mBpyUUcCW2U5NLsIc5Tq9iT/"                                                  \
    "CDrDzYkpKvU8IAbgdkFFdICw+VvC98O+ENj2WhrhEN2F2wYfHCvZV"                                        \
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"
#define RAW_PUBKEY "RWTd3s5y/X1fW08IAbgdkFFdICw+VvC98O+ENj2WhrhEN2F2wYfHCvZV"
#define RAW_KEYID  "5B5F7DFD72CEDEDD"

/* Offsets in the 158-byte secret key blob (seckey.h). */
#define BLOB_LEN     158
#define OFF_KDF      2
#define OFF_CHK      4
#define OFF_OPS      38
#define OFF_MEM      46
#define OFF_KEYID    54
#define OFF_SK       62
#define OFF_CHECKSUM 126

struct fixture {
    char dir[UNIT_PATH_MAX];
};

/* Password source for the callback: what to answer, and how often it was asked. */
struct password {
    const char *password;
    int calls;
};

static int
password_cb(char *out, size_t cap, void *data, struct diag_err *err)
{
    struct password *pw = data;
    int n;

    pw->calls++;
    if (pw->password == NULL)
        return err_set(err, "no terminal to ask for the password");
    n = snprintf(out, cap, "%s", pw->password);
    if (n < 0 || (size_t)n >= cap)
        return err_set(err, "password too long");
    return 0;
}

static int
setup_group(void **state)
{
    (void)state;
    umask(022);
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

/* Decode line 2 of a key file into blob; fails the test if it is not a 158-byte key. */
static void
decode_key(const char *text, unsigned char blob[BLOB_LEN])
{
    const char *line = strchr(text, '\n') + 1;
    const char *end = strchr(line, '\n');
    size_t got = 0;

    assert_int_equal(sodium_base642bin(blob, BLOB_LEN, line, (size_t)(end - line), NULL, &got, NULL,
                                       sodium_base64_VARIANT_ORIGINAL),
                     0);
    assert_int_equal(got, BLOB_LEN);
}

/* A key file with this blob on line 2. */
static void
encode_key(const unsigned char blob[BLOB_LEN], struct buf *out)
{
    char b64[sodium_base64_ENCODED_LEN(BLOB_LEN, sodium_base64_VARIANT_ORIGINAL)];

    buf_addstr(out, "untrusted comment: edited key\n");
    buf_addstr(out,
               sodium_bin2base64(b64, sizeof(b64), blob, BLOB_LEN, sodium_base64_VARIANT_ORIGINAL));
    buf_addch(out, '\n');
}

static void
put_u64le(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t
get_u64le(const unsigned char *p)
{
    uint64_t v = 0;

    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static void
assert_pubkey_is(const struct seckey *key, const char *b64, const char *keyid)
{
    struct sig_pubkey want, got;
    struct diag_err err = DIAG_ERR_INIT;
    char id[SIG_KEYID_HEX];

    assert_int_equal(sig_pubkey_parse(&want, b64, strlen(b64), &err), 0);
    seckey_pubkey(key, &got);
    assert_memory_equal(got.keyid, want.keyid, SIG_KEYID_BYTES);
    assert_memory_equal(got.pk, want.pk, SIG_PUBLICKEY_BYTES);
    assert_string_equal(sig_keyid_hex(id, key->keyid), keyid);
}

/* The key signs, and its public half verifies what it signed. */
static void
assert_key_signs(const struct seckey *key)
{
    struct sig_pubkey pub;
    struct sig_signature sig;
    struct buf out = BUF_INIT;
    struct diag_err err = DIAG_ERR_INIT;

    seckey_pubkey(key, &pub);
    assert_int_equal(sig_sign(key, "msg", 3, "tc", "uc", &out, &err), 0);
    assert_int_equal(sig_parse(&sig, out.data, out.len, &err), 0);
    assert_int_equal(sig_verify(&sig, &pub, "msg", 3, &err), 0);
    buf_release(&out);
}

static void
test_seckey_decrypts_research_vector(void **state)
{
    struct password pw = {"pw123", 0};
    struct diag_err err = DIAG_ERR_INIT;
    struct seckey *key;
    unsigned char blob[BLOB_LEN];

    (void)state;
    decode_key(ENC_KEY_FILE, blob);
    assert_memory_equal(blob, "EdScB2", 6);
    assert_int_equal(get_u64le(blob + OFF_OPS), SECKEY_KDF_INTERACTIVE.opslimit);
    assert_int_equal(get_u64le(blob + OFF_MEM), SECKEY_KDF_INTERACTIVE.memlimit);
    key = seckey_parse(ENC_KEY_FILE, strlen(ENC_KEY_FILE), password_cb, &pw, &err);
    if (key == NULL)
        fail_msg("research key refused: %s", err.msg);
    assert_int_equal(pw.calls, 1);
    assert_pubkey_is(key, ENC_PUBKEY, ENC_KEYID);
    assert_key_signs(key);
    seckey_free(key);
}

static void
test_seckey_wrong_password(void **state)
{
    static const char *const wrong[] = {"pw124", "", "PW123", "pw123 "};

    (void)state;
    for (size_t i = 0; i < sizeof(wrong) / sizeof(wrong[0]); i++) {
        struct password pw = {wrong[i], 0};
        struct diag_err err = DIAG_ERR_INIT;

        assert_null(seckey_parse(ENC_KEY_FILE, strlen(ENC_KEY_FILE), password_cb, &pw, &err));
        assert_string_equal(err.msg, "wrong password for this secret key");
        assert_int_equal(pw.calls, 1);
    }
}

static void
test_seckey_password_callback_failures(void **state)
{
    struct password pw = {NULL, 0};
    struct diag_err err = DIAG_ERR_INIT;

    (void)state;
    assert_null(seckey_parse(ENC_KEY_FILE, strlen(ENC_KEY_FILE), NULL, NULL, &err));
    assert_string_equal(err.msg, "secret key is encrypted and no password was given");
    /* The callback's own error is what the caller sees. */
    assert_null(seckey_parse(ENC_KEY_FILE, strlen(ENC_KEY_FILE), password_cb, &pw, &err));
    assert_string_equal(err.msg, "no terminal to ask for the password");
    assert_int_equal(pw.calls, 1);
}

static void
test_seckey_loads_unencrypted_zero_checksum(void **state)
{
    struct password pw = {"unused", 0};
    struct diag_err err = DIAG_ERR_INIT;
    unsigned char blob[BLOB_LEN];
    unsigned char zero[32] = {0};
    struct seckey *key;

    (void)state;
    decode_key(RAW_KEY_FILE, blob);
    assert_memory_equal(blob, "Ed\0\0B2", 6);
    assert_memory_equal(blob + OFF_CHECKSUM, zero, sizeof(zero));
    key = seckey_parse(RAW_KEY_FILE, strlen(RAW_KEY_FILE), password_cb, &pw, &err);
    if (key == NULL)
        fail_msg("minisign -G -W key refused: %s", err.msg);
    assert_int_equal(pw.calls, 0); /* an unencrypted key never asks */
    assert_pubkey_is(key, RAW_PUBKEY, RAW_KEYID);
    assert_key_signs(key);
    seckey_free(key);
}

static void
test_seckey_parse_rejects(void **state)
{
    static const struct {
        const char *name;
        size_t offset; /* byte of the -G -W blob to change */
        unsigned char value;
        const char *expect;
    } bad[] = {
        {"signature algorithm", 1, 'D', "unsupported secret key algorithm (expected \"Ed\")"},
        {"kdf algorithm", OFF_KDF, 'X', "unsupported secret key encryption"},
        {"kdf half set", OFF_KDF + 1, 'c', "unsupported secret key encryption"},
        {"checksum algorithm", OFF_CHK, 'b', "unsupported secret key checksum algorithm"},
        /* A non-zero checksum is checked even on an unencrypted key. */
        {"checksum corrupt", OFF_CHECKSUM + 31, 1, "secret key checksum does not match"},
        /* With a zero checksum, a damaged seed is caught by the public-half check. */
        {"seed corrupt", OFF_SK, 0x5a, "its public half does not match its seed"},
        {"public half corrupt", OFF_SK + 63, 0x5a, "its public half does not match its seed"},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        unsigned char blob[BLOB_LEN];
        struct buf text = BUF_INIT;
        struct diag_err err = DIAG_ERR_INIT;

        decode_key(RAW_KEY_FILE, blob);
        blob[bad[i].offset] ^= bad[i].value;
        encode_key(blob, &text);
        if (seckey_parse(text.data, text.len, NULL, NULL, &err) != NULL)
            fail_msg("case \"%s\" accepted", bad[i].name);
        if (strstr(err.msg, bad[i].expect) == NULL)
            fail_msg("case \"%s\": \"%s\" does not contain \"%s\"", bad[i].name, err.msg,
                     bad[i].expect);
        buf_release(&text);
    }
}

static void
test_seckey_parse_rejects_bad_text(void **state)
{
    static const struct {
        const char *name;
        const char *text;
        const char *expect;
    } bad[] = {
        {"empty", "", "expected a comment line and a key line"},
        {"one line", "untrusted comment: x", "expected a comment line and a key line"},
        {"bare base64 without comment", "RWQAAEIy", "expected a comment line and a key line"},
        {"empty key line", "untrusted comment: x\n\n", "not base64 of 158 bytes"},
        {"public key instead", "untrusted comment: x\n" RAW_PUBKEY "\n", "not base64 of 158 bytes"},
        {"bad character", "untrusted comment: x\nRWQAAEIy*AAA\n", "not base64 of 158 bytes"},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct diag_err err = DIAG_ERR_INIT;

        if (seckey_parse(bad[i].text, strlen(bad[i].text), NULL, NULL, &err) != NULL)
            fail_msg("case \"%s\" accepted", bad[i].name);
        if (strstr(err.msg, bad[i].expect) == NULL)
            fail_msg("case \"%s\": \"%s\" does not contain \"%s\"", bad[i].name, err.msg,
                     bad[i].expect);
    }
}

static void
test_seckey_kdf_limits_capped_before_kdf(void **state)
{
    const struct {
        uint64_t ops;
        uint64_t mem;
    } limits[] = {
        {SECKEY_KDF_INTERACTIVE.opslimit, SECKEY_KDF_CAP.memlimit + 1},
        {SECKEY_KDF_CAP.opslimit + 1, SECKEY_KDF_INTERACTIVE.memlimit},
        {UINT64_MAX, UINT64_MAX},
        {SECKEY_KDF_INTERACTIVE.opslimit, (uint64_t)1 << 40},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(limits) / sizeof(limits[0]); i++) {
        struct password pw = {"pw123", 0};
        unsigned char blob[BLOB_LEN];
        struct buf text = BUF_INIT;
        struct diag_err err = DIAG_ERR_INIT;

        decode_key(ENC_KEY_FILE, blob);
        put_u64le(blob + OFF_OPS, limits[i].ops);
        put_u64le(blob + OFF_MEM, limits[i].mem);
        encode_key(blob, &text);
        assert_null(seckey_parse(text.data, text.len, password_cb, &pw, &err));
        assert_contains(err.msg, "secret key asks for scrypt limits above what sealift allows");
        /* Refused before the password is asked for, so before any KDF work. */
        assert_int_equal(pw.calls, 0);
        buf_release(&text);
    }
}

static void
test_seckey_write_load_round_trip_encrypted(void **state)
{
    struct fixture *f = *state;
    struct seckey *key = seckey_generate();
    struct seckey *back;
    struct password pw = {"correct horse", 0};
    struct diag_err err = DIAG_ERR_INIT;
    struct buf text = BUF_INIT;
    unsigned char blob[BLOB_LEN];
    char path[UNIT_PATH_MAX];
    struct stat st;

    unit_path(path, f->dir, "enc.key");
    if (seckey_write_file(key, path, "correct horse", &SECKEY_KDF_INTERACTIVE, &err) != 0)
        fail_msg("write: %s", err.msg);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);
    unit_read_file(path, &text);
    assert_memory_equal(text.data, "untrusted comment: ", 19);
    decode_key(text.data, blob);
    assert_memory_equal(blob, "EdScB2", 6);
    assert_int_equal(get_u64le(blob + OFF_OPS), SECKEY_KDF_INTERACTIVE.opslimit);
    assert_int_equal(get_u64le(blob + OFF_MEM), SECKEY_KDF_INTERACTIVE.memlimit);
    /* The key id inside the file is encrypted too. */
    assert_memory_not_equal(blob + OFF_KEYID, key->keyid, SIG_KEYID_BYTES);

    back = seckey_load(path, password_cb, &pw, &err);
    if (back == NULL)
        fail_msg("load: %s", err.msg);
    assert_int_equal(pw.calls, 1);
    assert_memory_equal(back->keyid, key->keyid, SIG_KEYID_BYTES);
    assert_memory_equal(back->sk, key->sk, sizeof(key->sk));
    seckey_free(back);

    /* A wrong password through seckey_load names the file. */
    pw.password = "wrong horse";
    assert_null(seckey_load(path, password_cb, &pw, &err));
    assert_contains(err.msg, path);
    assert_contains(err.msg, "wrong password for this secret key");
    buf_release(&text);
    seckey_free(key);
}

static void
test_seckey_write_load_round_trip_unencrypted(void **state)
{
    struct fixture *f = *state;
    struct seckey *key = seckey_generate();
    struct seckey *back;
    struct diag_err err = DIAG_ERR_INIT;
    struct buf text = BUF_INIT;
    unsigned char blob[BLOB_LEN];
    unsigned char zero[32] = {0};
    char path[UNIT_PATH_MAX];
    struct stat st;

    unit_path(path, f->dir, "raw.key");
    assert_int_equal(seckey_write_file(key, path, NULL, NULL, &err), 0);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);
    unit_read_file(path, &text);
    decode_key(text.data, blob);
    assert_memory_equal(blob, "Ed\0\0B2", 6);
    assert_memory_equal(blob + OFF_KEYID, key->keyid, SIG_KEYID_BYTES);
    /* sealift writes the real checksum, unlike minisign -G -W. */
    assert_memory_not_equal(blob + OFF_CHECKSUM, zero, sizeof(zero));
    back = seckey_load(path, NULL, NULL, &err);
    if (back == NULL)
        fail_msg("load: %s", err.msg);
    assert_memory_equal(back->keyid, key->keyid, SIG_KEYID_BYTES);
    assert_memory_equal(back->sk, key->sk, sizeof(key->sk));
    seckey_free(back);
    buf_release(&text);
    seckey_free(key);
}

static void
test_seckey_write_refuses_overwrite(void **state)
{
    struct fixture *f = *state;
    struct seckey *key = seckey_generate();
    struct diag_err err = DIAG_ERR_INIT;
    struct buf text = BUF_INIT;
    char path[UNIT_PATH_MAX];

    unit_path(path, f->dir, "existing.key");
    unit_write_file(path, "precious\n", 9, 0600);
    assert_int_equal(seckey_write_file(key, path, NULL, NULL, &err), -1);
    assert_contains(err.msg, "could not create secret key file");
    assert_contains(err.msg, "File exists");
    unit_read_file(path, &text);
    assert_string_equal(text.data, "precious\n");

    /* Nor does it follow a symbolic link to create a file elsewhere. */
    {
        char link[UNIT_PATH_MAX], target[UNIT_PATH_MAX];

        unit_path(link, f->dir, "link.key");
        unit_path(target, f->dir, "target.key");
        assert_int_equal(symlink(target, link), 0);
        assert_int_equal(seckey_write_file(key, link, NULL, NULL, &err), -1);
        assert_contains(err.msg, "File exists");
        assert_int_equal(access(target, F_OK), -1);
    }
    buf_release(&text);
    seckey_free(key);
}

static void
test_seckey_load_refuses_readable_by_others(void **state)
{
    static const struct {
        mode_t mode;
        int ok;
    } modes[] = {
        {0600, 1}, {0400, 1}, {0700, 1}, {0644, 0}, {0640, 0},
        {0604, 0}, {0660, 0}, {0610, 0}, {0601, 0}, {0602, 0},
    };
    struct fixture *f = *state;
    char path[UNIT_PATH_MAX];

    unit_path(path, f->dir, "mode.key");
    for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
        struct diag_err err = DIAG_ERR_INIT;
        struct seckey *key;
        char want[64];

        unit_write_file(path, RAW_KEY_FILE, strlen(RAW_KEY_FILE), modes[i].mode);
        key = seckey_load(path, NULL, NULL, &err);
        if (modes[i].ok) {
            if (key == NULL)
                fail_msg("mode %04o refused: %s", (unsigned)modes[i].mode, err.msg);
            seckey_free(key);
        } else {
            if (key != NULL)
                fail_msg("mode %04o accepted", (unsigned)modes[i].mode);
            snprintf(want, sizeof(want), "is accessible by group or others (mode %04o)",
                     (unsigned)modes[i].mode);
            assert_contains(err.msg, want);
            assert_contains(err.msg, path);
        }
        assert_int_equal(unlink(path), 0);
    }
}

static void
test_seckey_load_file_errors(void **state)
{
    struct fixture *f = *state;
    struct diag_err err = DIAG_ERR_INIT;
    char path[UNIT_PATH_MAX];
    struct buf big = BUF_INIT;
    struct seckey *key;

    unit_path(path, f->dir, "missing.key");
    assert_null(seckey_load(path, NULL, NULL, &err));
    assert_int_equal(err.io, 1);
    assert_contains(err.msg, "could not open secret key file");
    assert_contains(err.msg, "No such file or directory");

    unit_path(path, f->dir, "sub");
    assert_int_equal(mkdir(path, 0700), 0);
    assert_null(seckey_load(path, NULL, NULL, &err));
    assert_contains(err.msg, "is not a regular file");

    /* A file of exactly 4096 bytes is within the limit (lines after the key are ignored)... */
    unit_path(path, f->dir, "big.key");
    buf_addstr(&big, RAW_KEY_FILE);
    while (big.len < 4096)
        buf_addch(&big, '#');
    unit_write_file(path, big.data, big.len, 0600);
    key = seckey_load(path, NULL, NULL, &err);
    if (key == NULL)
        fail_msg("a 4096-byte key file was refused: %s", err.msg);
    seckey_free(key);
    /* ...and one byte more is not. */
    buf_addch(&big, '#');
    unit_write_file(path, big.data, big.len, 0600);
    assert_null(seckey_load(path, NULL, NULL, &err));
    assert_contains(err.msg, "is larger than 4096 bytes");

    /* Parse errors name the file. */
    unit_path(path, f->dir, "garbage.key");
    unit_write_file(path, "untrusted comment: x\nnot a key\n", 31, 0600);
    assert_null(seckey_load(path, NULL, NULL, &err));
    assert_int_equal(err.io, 0);
    assert_contains(err.msg, path);
    assert_contains(err.msg, "not base64 of 158 bytes");
    buf_release(&big);
}

static void
test_seckey_generate_distinct_keys(void **state)
{
    struct seckey *a = seckey_generate();
    struct seckey *b = seckey_generate();
    unsigned char *secret = seckey_secure_alloc(64);
    unsigned char zero[64] = {0};

    (void)state;
    assert_memory_not_equal(a->keyid, b->keyid, SIG_KEYID_BYTES);
    assert_memory_not_equal(a->sk, b->sk, sizeof(a->sk));
    assert_key_signs(a);
    /* Secure allocations start zeroed. */
    assert_memory_equal(secret, zero, sizeof(zero));
    seckey_secure_free(secret);
    seckey_secure_free(NULL);
    seckey_free(NULL);
    seckey_free(a);
    seckey_free(b);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_seckey_decrypts_research_vector),
        cmocka_unit_test(test_seckey_wrong_password),
        cmocka_unit_test(test_seckey_password_callback_failures),
        cmocka_unit_test(test_seckey_loads_unencrypted_zero_checksum),
        cmocka_unit_test(test_seckey_parse_rejects),
        cmocka_unit_test(test_seckey_parse_rejects_bad_text),
        cmocka_unit_test(test_seckey_kdf_limits_capped_before_kdf),
        cmocka_unit_test_setup_teardown(test_seckey_write_load_round_trip_encrypted, setup_tmpdir,
                                        teardown_tmpdir),
        cmocka_unit_test_setup_teardown(test_seckey_write_load_round_trip_unencrypted, setup_tmpdir,
                                        teardown_tmpdir),
        cmocka_unit_test_setup_teardown(test_seckey_write_refuses_overwrite, setup_tmpdir,
                                        teardown_tmpdir),
        cmocka_unit_test_setup_teardown(test_seckey_load_refuses_readable_by_others, setup_tmpdir,
                                        teardown_tmpdir),
        cmocka_unit_test_setup_teardown(test_seckey_load_file_errors, setup_tmpdir,
                                        teardown_tmpdir),
        cmocka_unit_test(test_seckey_generate_distinct_keys),
    };

    return cmocka_run_group_tests_name("seckey", tests, setup_group, NULL);
}
