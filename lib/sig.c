/*
 * sig.c: minisign-compatible public keys, signature files, signing and verification.
 * Layer: lib. Speaks libsodium (Ed25519, BLAKE2b, base64).
 */
#include "sealift/sig.h"
#include "sealift/file.h"
#include "sealift/hash.h"
#include "sealift/seckey.h"
#include "sealift/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define UNTRUSTED_PREFIX "untrusted comment: "
#define TRUSTED_PREFIX   "trusted comment: "
#define PUBKEY_BLOB      (2 + SIG_KEYID_BYTES + SIG_PUBLICKEY_BYTES)
#define SIG_BLOB         (2 + SIG_KEYID_BYTES + SIG_SIGNATURE_BYTES)
/* A minisign secret key's blob (seckey.h has its layout); only its shape is looked at here. */
#define SECKEY_BLOB_BYTES 158
#define SECKEY_GIVEN_MSG  "a secret key, not a public key: pass the .pub file"

/* One line of a small text file: [start, start + len), without "\n" or a "\r\n" pair. */
struct line {
    const char *start;
    size_t len;
};

/*
 * Split text into at most max lines. Returns the number of lines found; *rest is set to the
 * offset just past the last line returned. A final line without "\n" counts as a line.
 */
static size_t
split_lines(const char *text, size_t len, struct line *lines, size_t max, size_t *rest)
{
    size_t n = 0;
    size_t pos = 0;

    while (n < max && pos < len) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - text) : len;
        size_t l = end - pos;

        if (l > 0 && text[pos + l - 1] == '\r')
            l--;
        lines[n].start = text + pos;
        lines[n].len = l;
        n++;
        pos = nl ? end + 1 : len;
    }
    *rest = pos;
    return n;
}

static int
decode_b64(unsigned char *bin, size_t want, const struct line *l)
{
    size_t got = 0;
    const char *end = NULL;

    if (sodium_base642bin(bin, want, l->start, l->len, NULL, &got, &end,
                          sodium_base64_VARIANT_ORIGINAL) != 0)
        return -1;
    if (got != want || end != l->start + l->len)
        return -1;
    return 0;
}

static void
encode_b64(struct buf *out, const unsigned char *bin, size_t len)
{
    size_t cap = sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL);
    char *tmp = xmalloc(cap);

    sodium_bin2base64(tmp, cap, bin, len, sodium_base64_VARIANT_ORIGINAL);
    buf_addstr(out, tmp);
    free(tmp);
}

static int
has_prefix(const struct line *l, const char *prefix)
{
    size_t n = strlen(prefix);

    return l->len >= n && memcmp(l->start, prefix, n) == 0;
}

/* Printable ASCII or tab, or bytes of a UTF-8 sequence: what minisign will display. */
static int
comment_is_printable(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];

        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return 0;
    }
    return 1;
}

char *
sig_keyid_hex(char *out, const unsigned char keyid[SIG_KEYID_BYTES])
{
    static const char digits[] = "0123456789ABCDEF";

    for (size_t i = 0; i < SIG_KEYID_BYTES; i++) {
        unsigned char b = keyid[SIG_KEYID_BYTES - 1 - i];

        out[2 * i] = digits[b >> 4];
        out[2 * i + 1] = digits[b & 15];
    }
    out[2 * SIG_KEYID_BYTES] = '\0';
    return out;
}

int
sig_keyid_parse(unsigned char keyid[SIG_KEYID_BYTES], const char *hex)
{
    unsigned char be[SIG_KEYID_BYTES];

    if (strlen(hex) != 2 * SIG_KEYID_BYTES)
        return -1;
    for (int i = 0; i < 2 * SIG_KEYID_BYTES; i++)
        if (!((hex[i] >= '0' && hex[i] <= '9') || (hex[i] >= 'A' && hex[i] <= 'F')))
            return -1;
    if (hex_decode(be, SIG_KEYID_BYTES, hex, 2 * SIG_KEYID_BYTES) != 0)
        return -1;
    for (int i = 0; i < SIG_KEYID_BYTES; i++)
        keyid[i] = be[SIG_KEYID_BYTES - 1 - i];
    return 0;
}

/*
 * The key line has the shape of a minisign secret key: base64 of the 158-byte blob, which
 * starts with "Ed" too. The decoded bytes are secret, so they are wiped at once.
 */
static int
is_secret_key_line(const struct line *l)
{
    unsigned char *blob = sodium_malloc(SECKEY_BLOB_BYTES);
    int yes;

    if (blob == NULL)
        return 0; /* only a better message is lost */
    yes = decode_b64(blob, SECKEY_BLOB_BYTES, l) == 0 && blob[0] == 'E' && blob[1] == 'd';
    sodium_free(blob);
    return yes;
}

/* sig_pubkey_parse; *secret is set when the text is a secret key's (the message says so). */
static int
pubkey_parse(struct sig_pubkey *key, const char *text, size_t len, int *secret,
             struct diag_err *err)
{
    struct line lines[2];
    unsigned char blob[PUBKEY_BLOB];
    const struct line *b64;
    size_t rest;
    size_t n;

    *secret = 0;
    if (len > SIG_PUBKEY_FILE_MAX)
        return err_set(err, "public key is longer than %d bytes", SIG_PUBKEY_FILE_MAX);
    n = split_lines(text, len, lines, 2, &rest);
    if (n == 1 && !has_prefix(&lines[0], UNTRUSTED_PREFIX))
        b64 = &lines[0]; /* a bare base64 key, as minisign -P takes it */
    else if (n == 2)
        b64 = &lines[1];
    else
        return err_set(err, "not a minisign public key: expected a comment line and a key line");
    if (decode_b64(blob, sizeof(blob), b64) != 0) {
        if (is_secret_key_line(b64)) {
            *secret = 1;
            return err_set(err, SECKEY_GIVEN_MSG);
        }
        return err_set(err, "not a minisign public key: the key line is not base64 of %d bytes",
                       PUBKEY_BLOB);
    }
    if (blob[0] != 'E' || blob[1] != 'd')
        return err_set(err, "unsupported public key algorithm \"%c%c\" (expected \"Ed\")",
                       blob[0] >= 0x20 && blob[0] < 0x7f ? blob[0] : '?',
                       blob[1] >= 0x20 && blob[1] < 0x7f ? blob[1] : '?');
    memcpy(key->keyid, blob + 2, SIG_KEYID_BYTES);
    memcpy(key->pk, blob + 2 + SIG_KEYID_BYTES, SIG_PUBLICKEY_BYTES);
    return 0;
}

int
sig_pubkey_parse(struct sig_pubkey *key, const char *text, size_t len, struct diag_err *err)
{
    int secret;

    return pubkey_parse(key, text, len, &secret, err);
}

int
sig_pubkey_load(struct sig_pubkey *key, const char *path, struct diag_err *err)
{
    struct buf text = BUF_INIT;
    int secret = 0;
    int ret;

    ret = file_read_all(path, SIG_PUBKEY_FILE_MAX, &text, err);
    if (ret == 0 && pubkey_parse(key, text.data, text.len, &secret, err) != 0) {
        /* Name the file first: "release.key" is a secret key, not a public key: ... */
        if (secret)
            err_set(err, "\"%s\" is " SECKEY_GIVEN_MSG, path);
        else
            err_prefix(err, "%s", path);
        ret = -1;
    }
    if (secret)
        sodium_memzero(text.data, text.len); /* no copy of a secret key is left behind */
    buf_release(&text);
    return ret;
}

void
sig_pubkey_format(const struct sig_pubkey *key, struct buf *out)
{
    unsigned char blob[PUBKEY_BLOB];
    char id[SIG_KEYID_HEX];

    blob[0] = 'E';
    blob[1] = 'd';
    memcpy(blob + 2, key->keyid, SIG_KEYID_BYTES);
    memcpy(blob + 2 + SIG_KEYID_BYTES, key->pk, SIG_PUBLICKEY_BYTES);
    buf_addf(out, "untrusted comment: minisign public key %s\n", sig_keyid_hex(id, key->keyid));
    encode_b64(out, blob, sizeof(blob));
    buf_addch(out, '\n');
}

int
sig_parse(struct sig_signature *sig, const char *text, size_t len, struct diag_err *err)
{
    struct line lines[4];
    unsigned char blob[SIG_BLOB];
    size_t tc_len;
    size_t rest;
    size_t n;

    if (len > SIG_FILE_MAX)
        return err_set(err, "signature is longer than %d bytes", SIG_FILE_MAX);
    if (memchr(text, '\0', len))
        return err_set(err, "signature contains a NUL byte");
    n = split_lines(text, len, lines, 4, &rest);
    if (n < 4)
        return err_set(err, "signature is truncated: %zu of 4 lines", n);
    if (rest != len)
        return err_set(err, "unexpected data after the signature's fourth line");
    if (!has_prefix(&lines[0], UNTRUSTED_PREFIX))
        return err_set(err, "signature line 1 does not start with \"%s\"", UNTRUSTED_PREFIX);
    if (decode_b64(blob, sizeof(blob), &lines[1]) != 0)
        return err_set(err, "signature line 2 is not base64 of %d bytes", SIG_BLOB);
    if (blob[0] == 'E' && blob[1] == 'D')
        sig->prehashed = 1;
    else if (blob[0] == 'E' && blob[1] == 'd')
        sig->prehashed = 0;
    else
        return err_set(err, "unsupported signature algorithm (expected \"ED\" or \"Ed\")");
    memcpy(sig->keyid, blob + 2, SIG_KEYID_BYTES);
    memcpy(sig->sig, blob + 2 + SIG_KEYID_BYTES, SIG_SIGNATURE_BYTES);
    if (!has_prefix(&lines[2], TRUSTED_PREFIX))
        return err_set(err, "signature line 3 does not start with \"%s\"", TRUSTED_PREFIX);
    tc_len = lines[2].len - strlen(TRUSTED_PREFIX);
    if (tc_len > SIG_TRUSTED_COMMENT_MAX)
        return err_set(err, "trusted comment is longer than %d bytes", SIG_TRUSTED_COMMENT_MAX);
    if (!comment_is_printable(lines[2].start + strlen(TRUSTED_PREFIX), tc_len))
        return err_set(err, "trusted comment contains control characters");
    memcpy(sig->trusted_comment, lines[2].start + strlen(TRUSTED_PREFIX), tc_len);
    sig->trusted_comment[tc_len] = '\0';
    if (decode_b64(sig->global_sig, SIG_SIGNATURE_BYTES, &lines[3]) != 0)
        return err_set(err, "signature line 4 is not base64 of %d bytes", SIG_SIGNATURE_BYTES);
    return 0;
}

void
sig_format(const struct sig_signature *sig, const char *untrusted_comment, struct buf *out)
{
    unsigned char blob[SIG_BLOB];

    blob[0] = 'E';
    blob[1] = sig->prehashed ? 'D' : 'd';
    memcpy(blob + 2, sig->keyid, SIG_KEYID_BYTES);
    memcpy(blob + 2 + SIG_KEYID_BYTES, sig->sig, SIG_SIGNATURE_BYTES);
    buf_addf(out, "%s%s\n", UNTRUSTED_PREFIX, untrusted_comment);
    encode_b64(out, blob, sizeof(blob));
    buf_addf(out, "\n%s%s\n", TRUSTED_PREFIX, sig->trusted_comment);
    encode_b64(out, sig->global_sig, SIG_SIGNATURE_BYTES);
    buf_addch(out, '\n');
}

/*
 * The checks of sig_verify, over the message (legacy "Ed") or its BLAKE2b-512 digest ("ED"):
 * key ids, the signature, then the global signature over the trusted comment.
 */
static int
verify_signed(const struct sig_signature *sig, const struct sig_pubkey *key,
              const unsigned char *signed_msg, size_t len, struct diag_err *err)
{
    unsigned char *global_msg;
    size_t tc_len = strlen(sig->trusted_comment);
    char id[SIG_KEYID_HEX];
    char want[SIG_KEYID_HEX];
    int bad;

    if (memcmp(sig->keyid, key->keyid, SIG_KEYID_BYTES) != 0)
        return err_set(err, "signature is by key %s, not by key %s", sig_keyid_hex(id, sig->keyid),
                       sig_keyid_hex(want, key->keyid));
    bad = crypto_sign_verify_detached(sig->sig, signed_msg, len, key->pk);
    if (bad)
        return err_set(err, "signature by key %s does not verify", sig_keyid_hex(id, key->keyid));
    global_msg = xmalloc(SIG_SIGNATURE_BYTES + tc_len);
    memcpy(global_msg, sig->sig, SIG_SIGNATURE_BYTES);
    memcpy(global_msg + SIG_SIGNATURE_BYTES, sig->trusted_comment, tc_len);
    bad = crypto_sign_verify_detached(sig->global_sig, global_msg, SIG_SIGNATURE_BYTES + tc_len,
                                      key->pk);
    free(global_msg);
    if (bad)
        return err_set(err, "trusted comment signature by key %s does not verify",
                       sig_keyid_hex(id, key->keyid));
    return 0;
}

int
sig_verify(const struct sig_signature *sig, const struct sig_pubkey *key, const void *msg,
           size_t len, struct diag_err *err)
{
    unsigned char digest[HASH_BLAKE2B_BYTES];

    if (!sig->prehashed)
        return verify_signed(sig, key, msg, len, err);
    hash_blake2b(msg, len, digest);
    return verify_signed(sig, key, digest, sizeof(digest), err);
}

int
sig_verify_digest(const struct sig_signature *sig, const struct sig_pubkey *key,
                  const unsigned char digest[HASH_BLAKE2B_BYTES], struct diag_err *err)
{
    if (!sig->prehashed)
        return err_set(err, "signature is not prehashed (\"Ed\"): it needs the whole message");
    return verify_signed(sig, key, digest, HASH_BLAKE2B_BYTES, err);
}

int
sig_sign(const struct seckey *key, const void *msg, size_t len, const char *trusted_comment,
         const char *untrusted_comment, struct buf *out, struct diag_err *err)
{
    unsigned char digest[HASH_BLAKE2B_BYTES];
    unsigned char blob[SIG_BLOB];
    unsigned char global[SIG_SIGNATURE_BYTES];
    unsigned char *global_msg;
    size_t tc_len = strlen(trusted_comment);
    size_t uc_len = strlen(untrusted_comment);

    if (tc_len > SIG_TRUSTED_COMMENT_MAX || !comment_is_printable(trusted_comment, tc_len))
        return err_set(err, "trusted comment is too long or has control characters");
    if (uc_len > SIG_UNTRUSTED_COMMENT_MAX || !comment_is_printable(untrusted_comment, uc_len))
        return err_set(err, "untrusted comment is too long or has control characters");
    hash_blake2b(msg, len, digest);
    blob[0] = 'E';
    blob[1] = 'D';
    memcpy(blob + 2, key->keyid, SIG_KEYID_BYTES);
    crypto_sign_detached(blob + 2 + SIG_KEYID_BYTES, NULL, digest, sizeof(digest), key->sk);
    global_msg = xmalloc(SIG_SIGNATURE_BYTES + tc_len);
    memcpy(global_msg, blob + 2 + SIG_KEYID_BYTES, SIG_SIGNATURE_BYTES);
    memcpy(global_msg + SIG_SIGNATURE_BYTES, trusted_comment, tc_len);
    crypto_sign_detached(global, NULL, global_msg, SIG_SIGNATURE_BYTES + tc_len, key->sk);
    free(global_msg);
    buf_addf(out, "%s%s\n", UNTRUSTED_PREFIX, untrusted_comment);
    encode_b64(out, blob, sizeof(blob));
    buf_addf(out, "\n%s%s\n", TRUSTED_PREFIX, trusted_comment);
    encode_b64(out, global, sizeof(global));
    buf_addch(out, '\n');
    return 0;
}

void
sig_keyring_init(struct sig_keyring *k)
{
    memset(k, 0, sizeof(*k));
}

void
sig_keyring_release(struct sig_keyring *k)
{
    free(k->keys);
    sig_keyring_init(k);
}

int
sig_keyring_add_file(struct sig_keyring *k, const char *path, struct diag_err *err)
{
    struct sig_pubkey key;
    char id[SIG_KEYID_HEX];

    if (sig_pubkey_load(&key, path, err) != 0)
        return -1;
    for (size_t i = 0; i < k->n; i++) {
        if (memcmp(k->keys[i].keyid, key.keyid, SIG_KEYID_BYTES) != 0)
            continue;
        if (memcmp(k->keys[i].pk, key.pk, SIG_PUBLICKEY_BYTES) == 0)
            return 0; /* the same key given twice counts once */
        return err_set(err, "%s: another trusted key has the same key id %s", path,
                       sig_keyid_hex(id, key.keyid));
    }
    k->keys = xgrow(k->keys, &k->cap, k->n + 1, sizeof(*k->keys));
    k->keys[k->n++] = key;
    return 0;
}
