/*
 * seckey.c: minisign-compatible secret key files (generate, encrypt with scrypt, load).
 * Layer: lib. Speaks libsodium; kept apart from sig.c so that only the compiler links scrypt.
 */
#include "sealift/seckey.h"
#include "sealift/file.h"
#include "sealift/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SECKEY_BLOB       158
#define SECKEY_SALT_OFF   6
#define SECKEY_OPS_OFF    38
#define SECKEY_MEM_OFF    46
#define SECKEY_SECRET_OFF 54
#define SECKEY_SECRET_LEN 104 /* key id (8) || secret key (64) || checksum (32) */
#define SECKEY_CHECK_LEN  32
#define SECKEY_FILE_MAX   4096

const struct seckey_kdf_limits SECKEY_KDF_SENSITIVE = {33554432ULL, 1073741824ULL};
const struct seckey_kdf_limits SECKEY_KDF_INTERACTIVE = {524288ULL, 16777216ULL};
/* The fuzz targets build with a smaller cap: a fuzzer must not spend 1 GiB per input. */
#ifndef SECKEY_CAP_MEMLIMIT
#define SECKEY_CAP_MEMLIMIT 1073741824ULL
#define SECKEY_CAP_OPSLIMIT (2ULL * 33554432ULL)
#endif
const struct seckey_kdf_limits SECKEY_KDF_CAP = {SECKEY_CAP_OPSLIMIT, SECKEY_CAP_MEMLIMIT};

/* Secret-bearing scratch space, all in one sodium_malloc'd block. */
struct seckey_scratch {
    unsigned char blob[SECKEY_BLOB];
    unsigned char stream[SECKEY_SECRET_LEN];
    char b64[512];
    char password[SECKEY_PASSWORD_MAX];
};

static struct seckey_scratch *
scratch_new(void)
{
    struct seckey_scratch *s = sodium_malloc(sizeof(*s));

    if (s == NULL) {
        fprintf(stderr, "%s: error: out of memory (locked memory for key material)\n",
                diag_progname());
        abort();
    }
    sodium_memzero(s, sizeof(*s));
    return s;
}

static void
scratch_free(struct seckey_scratch *s)
{
    if (s)
        sodium_free(s); /* sodium_free wipes before freeing */
}

static struct seckey *
key_new(void)
{
    struct seckey *k = sodium_malloc(sizeof(*k));

    if (k == NULL) {
        fprintf(stderr, "%s: error: out of memory (locked memory for key material)\n",
                diag_progname());
        abort();
    }
    sodium_memzero(k, sizeof(*k));
    return k;
}

void *
seckey_secure_alloc(size_t size)
{
    void *p = sodium_malloc(size);

    if (p == NULL) {
        fprintf(stderr, "%s: error: out of memory (locked memory for secrets)\n", diag_progname());
        abort();
    }
    sodium_memzero(p, size);
    return p;
}

void
seckey_secure_free(void *p)
{
    if (p)
        sodium_free(p);
}

void
seckey_free(struct seckey *key)
{
    if (key)
        sodium_free(key);
}

struct seckey *
seckey_generate(void)
{
    struct seckey *k = key_new();
    unsigned char pk[crypto_sign_PUBLICKEYBYTES];

    randombytes_buf(k->keyid, sizeof(k->keyid));
    crypto_sign_keypair(pk, k->sk);
    return k;
}

void
seckey_pubkey(const struct seckey *key, struct sig_pubkey *pub)
{
    memcpy(pub->keyid, key->keyid, SIG_KEYID_BYTES);
    crypto_sign_ed25519_sk_to_pk(pub->pk, key->sk);
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

/* BLAKE2b-256 over sig_alg || key id || secret key, as minisign computes it. */
static void
key_checksum(const unsigned char *blob, unsigned char out[SECKEY_CHECK_LEN])
{
    crypto_generichash_state st;

    crypto_generichash_init(&st, NULL, 0, SECKEY_CHECK_LEN);
    crypto_generichash_update(&st, blob, 2);
    crypto_generichash_update(&st, blob + SECKEY_SECRET_OFF, 8 + 64);
    crypto_generichash_final(&st, out, SECKEY_CHECK_LEN);
    sodium_memzero(&st, sizeof(st));
}

static int
derive_stream(struct seckey_scratch *s, const char *password, uint64_t ops, uint64_t mem,
              struct diag_err *err)
{
    if (crypto_pwhash_scryptsalsa208sha256(s->stream, sizeof(s->stream), password, strlen(password),
                                           s->blob + SECKEY_SALT_OFF, (unsigned long long)ops,
                                           (size_t)mem) != 0)
        return err_set(err, "could not derive the key encryption key (out of memory?)");
    return 0;
}

static void
xor_secret(struct seckey_scratch *s)
{
    for (size_t i = 0; i < SECKEY_SECRET_LEN; i++)
        s->blob[SECKEY_SECRET_OFF + i] ^= s->stream[i];
}

int
seckey_write_file(const struct seckey *key, const char *path, const char *password,
                  const struct seckey_kdf_limits *limits, struct diag_err *err)
{
    static const char comment_enc[] = "untrusted comment: minisign encrypted secret key\n";
    static const char comment_raw[] = "untrusted comment: minisign secret key (unencrypted)\n";
    struct seckey_scratch *s = scratch_new();
    const char *comment = password ? comment_enc : comment_raw;
    int fd = -1;
    int ret = -1;

    s->blob[0] = 'E';
    s->blob[1] = 'd';
    s->blob[4] = 'B';
    s->blob[5] = '2';
    memcpy(s->blob + SECKEY_SECRET_OFF, key->keyid, 8);
    memcpy(s->blob + SECKEY_SECRET_OFF + 8, key->sk, 64);
    key_checksum(s->blob, s->blob + SECKEY_SECRET_OFF + 8 + 64);
    if (password) {
        s->blob[2] = 'S';
        s->blob[3] = 'c';
        randombytes_buf(s->blob + SECKEY_SALT_OFF, 32);
        put_u64le(s->blob + SECKEY_OPS_OFF, limits->opslimit);
        put_u64le(s->blob + SECKEY_MEM_OFF, limits->memlimit);
        if (derive_stream(s, password, limits->opslimit, limits->memlimit, err) != 0)
            goto cleanup;
        xor_secret(s);
    }
    sodium_bin2base64(s->b64, sizeof(s->b64), s->blob, SECKEY_BLOB, sodium_base64_VARIANT_ORIGINAL);
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        err_set(err, "could not create secret key file \"%s\": %s", path, strerror(errno));
        goto cleanup;
    }
    if (file_write_all(fd, comment, strlen(comment)) != 0 ||
        file_write_all(fd, s->b64, strlen(s->b64)) != 0 || file_write_all(fd, "\n", 1) != 0 ||
        fsync(fd) != 0) {
        err_set(err, "could not write secret key file \"%s\": %s", path, strerror(errno));
        unlink(path);
        goto cleanup;
    }
    ret = 0;
cleanup:
    if (fd >= 0)
        close(fd);
    scratch_free(s);
    return ret;
}

struct seckey *
seckey_parse(const char *text, size_t len, seckey_password_cb password_cb, void *cb_data,
             struct diag_err *err)
{
    struct seckey_scratch *s = scratch_new();
    struct seckey *key = NULL;
    unsigned char check[SECKEY_CHECK_LEN];
    unsigned char pk[crypto_sign_PUBLICKEYBYTES];
    unsigned char seed_sk[crypto_sign_SECRETKEYBYTES];
    const char *nl;
    const char *line;
    size_t line_len;
    size_t got = 0;
    const char *end = NULL;
    int encrypted;

    /* Line 1 is an untrusted comment whose text means nothing; the key is on line 2. */
    nl = memchr(text, '\n', len);
    if (nl == NULL) {
        err_set(err, "not a minisign secret key: expected a comment line and a key line");
        goto fail;
    }
    line = nl + 1;
    nl = memchr(line, '\n', len - (size_t)(line - text));
    line_len = nl ? (size_t)(nl - line) : len - (size_t)(line - text);
    if (line_len > 0 && line[line_len - 1] == '\r')
        line_len--;
    if (sodium_base642bin(s->blob, SECKEY_BLOB, line, line_len, NULL, &got, &end,
                          sodium_base64_VARIANT_ORIGINAL) != 0 ||
        got != SECKEY_BLOB || end != line + line_len) {
        err_set(err, "not a minisign secret key: the key line is not base64 of %d bytes",
                SECKEY_BLOB);
        goto fail;
    }
    if (s->blob[0] != 'E' || s->blob[1] != 'd') {
        err_set(err, "unsupported secret key algorithm (expected \"Ed\")");
        goto fail;
    }
    if (s->blob[4] != 'B' || s->blob[5] != '2') {
        err_set(err, "unsupported secret key checksum algorithm (expected \"B2\")");
        goto fail;
    }
    if (s->blob[2] == 'S' && s->blob[3] == 'c')
        encrypted = 1;
    else if (s->blob[2] == 0 && s->blob[3] == 0)
        encrypted = 0;
    else {
        err_set(err, "unsupported secret key encryption (expected scrypt or none)");
        goto fail;
    }
    if (encrypted) {
        uint64_t ops = get_u64le(s->blob + SECKEY_OPS_OFF);
        uint64_t mem = get_u64le(s->blob + SECKEY_MEM_OFF);

        /* A hostile key file must not make us allocate gigabytes or spin for minutes. */
        if (mem > SECKEY_KDF_CAP.memlimit || ops > SECKEY_KDF_CAP.opslimit) {
            err_set(err,
                    "secret key asks for scrypt limits above what sealift allows "
                    "(opslimit %llu, memlimit %llu; at most %llu and %llu)",
                    (unsigned long long)ops, (unsigned long long)mem,
                    (unsigned long long)SECKEY_KDF_CAP.opslimit,
                    (unsigned long long)SECKEY_KDF_CAP.memlimit);
            goto fail;
        }
        if (password_cb == NULL) {
            err_set(err, "secret key is encrypted and no password was given");
            goto fail;
        }
        if (password_cb(s->password, sizeof(s->password), cb_data, err) != 0)
            goto fail;
        if (derive_stream(s, s->password, ops, mem, err) != 0)
            goto fail;
        xor_secret(s);
    }
    key_checksum(s->blob, check);
    if (encrypted || !sodium_is_zero(s->blob + SECKEY_SECRET_OFF + 72, SECKEY_CHECK_LEN)) {
        /* minisign -G -W leaves the checksum of unencrypted keys all zero; accept that. */
        if (sodium_memcmp(check, s->blob + SECKEY_SECRET_OFF + 72, SECKEY_CHECK_LEN) != 0) {
            if (encrypted)
                err_set(err, "wrong password for this secret key");
            else
                err_set(err, "secret key checksum does not match (corrupt key file)");
            goto fail;
        }
    }
    key = key_new();
    memcpy(key->keyid, s->blob + SECKEY_SECRET_OFF, 8);
    memcpy(key->sk, s->blob + SECKEY_SECRET_OFF + 8, 64);
    /* The public half is stored beside the seed; a mismatch means a corrupt file. */
    crypto_sign_seed_keypair(pk, seed_sk, key->sk);
    if (sodium_memcmp(seed_sk, key->sk, sizeof(seed_sk)) != 0) {
        err_set(err, "secret key is inconsistent (its public half does not match its seed)");
        sodium_memzero(seed_sk, sizeof(seed_sk));
        seckey_free(key);
        key = NULL;
        goto fail;
    }
    sodium_memzero(seed_sk, sizeof(seed_sk));
    scratch_free(s);
    return key;
fail:
    sodium_memzero(check, sizeof(check));
    scratch_free(s);
    return NULL;
}

struct seckey *
seckey_load(const char *path, seckey_password_cb password_cb, void *cb_data, struct diag_err *err)
{
    struct seckey *key = NULL;
    struct stat st;
    char *text = NULL;
    ssize_t got = 0;
    int fd;

    fd = file_open_regular(path, "secret key file", err);
    if (fd < 0)
        return NULL;
    if (fstat(fd, &st) != 0) {
        err_set(err, "could not stat secret key file \"%s\": %s", path, strerror(errno));
        goto cleanup;
    }
    if (st.st_mode & (S_IRWXG | S_IRWXO)) {
        err_set(err, "secret key file \"%s\" is accessible by group or others (mode %04o)", path,
                (unsigned)(st.st_mode & 07777));
        goto cleanup;
    }
    if (st.st_size > SECKEY_FILE_MAX) {
        err_set(err, "secret key file \"%s\" is larger than %d bytes", path, SECKEY_FILE_MAX);
        goto cleanup;
    }
    text = sodium_malloc(SECKEY_FILE_MAX + 1);
    if (text == NULL) {
        err_set(err, "could not allocate locked memory for key material");
        goto cleanup;
    }
    /* Read up to one byte past the limit, so that a file of exactly the limit is accepted. */
    for (;;) {
        ssize_t r = read(fd, text + got, (size_t)(SECKEY_FILE_MAX + 1 - got));

        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            err_set(err, "could not read secret key file \"%s\": %s", path, strerror(errno));
            goto cleanup;
        }
        if (r == 0)
            break;
        got += r;
        if (got > SECKEY_FILE_MAX) {
            err_set(err, "secret key file \"%s\" is larger than %d bytes", path, SECKEY_FILE_MAX);
            goto cleanup;
        }
    }
    key = seckey_parse(text, (size_t)got, password_cb, cb_data, err);
    if (key == NULL)
        err_prefix(err, "%s", path);
cleanup:
    if (text)
        sodium_free(text);
    close(fd);
    return key;
}
