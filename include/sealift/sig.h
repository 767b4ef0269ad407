/*
 * sig.h: minisign-compatible public keys and signatures.
 *
 * Byte layouts (documented in bundles/FORMAT.md, section "Signatures"):
 *   public key  = "Ed" || key id (8 bytes) || Ed25519 public key (32), base64 on line 2;
 *   signature   = 4 lines: untrusted comment, base64("ED" || key id || sig over
 *                 BLAKE2b-512(message)), trusted comment, base64(sig over sig || comment).
 * Legacy "Ed" signatures (pure Ed25519 over the message) are verified too; sealift writes "ED".
 */
#ifndef SEALIFT_SIG_H
#define SEALIFT_SIG_H

#include "sealift/buf.h"
#include "sealift/diag.h"
#include "sealift/hash.h"

#include <stddef.h>

#define SIG_KEYID_BYTES     8
#define SIG_PUBLICKEY_BYTES 32
#define SIG_SIGNATURE_BYTES 64
#define SIG_KEYID_HEX       (SIG_KEYID_BYTES * 2 + 1)
/* Longest trusted comment minisign accepts (8192-byte line buffer, prefix and newline). */
#define SIG_TRUSTED_COMMENT_MAX 8173
/* Longest untrusted comment minisign reads (1024-byte line buffer). */
#define SIG_UNTRUSTED_COMMENT_MAX 1000
/* Upper bound on a signature file; anything longer is refused before parsing. */
#define SIG_FILE_MAX 16384
/* Upper bound on a public key file. */
#define SIG_PUBKEY_FILE_MAX 4096

struct sig_pubkey {
    unsigned char keyid[SIG_KEYID_BYTES];
    unsigned char pk[SIG_PUBLICKEY_BYTES];
};

struct sig_signature {
    int prehashed; /* 1 for "ED", 0 for legacy "Ed" */
    unsigned char keyid[SIG_KEYID_BYTES];
    unsigned char sig[SIG_SIGNATURE_BYTES];
    char trusted_comment[SIG_TRUSTED_COMMENT_MAX + 1];
    unsigned char global_sig[SIG_SIGNATURE_BYTES];
};

struct seckey;

/*
 * Key ids are printed as minisign does: the 8 bytes read as a little-endian integer, in
 * uppercase hex, zero-padded to 16 digits (minisign 0.12). out must hold SIG_KEYID_HEX bytes.
 */
char *sig_keyid_hex(char *out, const unsigned char keyid[SIG_KEYID_BYTES]);
/* The inverse: exactly 16 uppercase hex digits into keyid. Returns 0, or -1 if not that. */
int sig_keyid_parse(unsigned char keyid[SIG_KEYID_BYTES], const char *hex);

/*
 * Parse a public key from the text of a minisign public key file (any first line, base64 on the
 * second) or from a bare base64 line (minisign -P). Returns 0 or -1 with err set.
 */
int sig_pubkey_parse(struct sig_pubkey *key, const char *text, size_t len, struct diag_err *err);
/* Read and parse a public key file. Errors name the file. */
int sig_pubkey_load(struct sig_pubkey *key, const char *path, struct diag_err *err);
/* Append the two-line public key file text to out. */
void sig_pubkey_format(const struct sig_pubkey *key, struct buf *out);

/* Parse the text of a signature file. Returns 0 or -1 with err set. */
int sig_parse(struct sig_signature *sig, const char *text, size_t len, struct diag_err *err);

/*
 * Append the four-line signature file text of a parsed signature to out, in the one form
 * sig_sign writes (LF line ends, canonical base64), with this untrusted comment.
 */
void sig_format(const struct sig_signature *sig, const char *untrusted_comment, struct buf *out);

/*
 * Verify sig over msg with key: the key ids must match, then the signature over the message
 * (BLAKE2b-512 prehash for "ED"), then the global signature over the trusted comment.
 * Returns 0 if all hold, -1 with err saying which check failed.
 */
int sig_verify(const struct sig_signature *sig, const struct sig_pubkey *key, const void *msg,
               size_t len, struct diag_err *err);
/*
 * sig_verify for a prehashed ("ED") signature, given the message's BLAKE2b-512 digest (hashed
 * as the message streamed past). A legacy "Ed" signature signs the message itself: -1.
 */
int sig_verify_digest(const struct sig_signature *sig, const struct sig_pubkey *key,
                      const unsigned char digest[HASH_BLAKE2B_BYTES], struct diag_err *err);

/*
 * Sign msg with key as minisign -S does (prehashed "ED"), appending the four-line signature
 * file text to out. trusted_comment must be printable ASCII or tab, at most
 * SIG_TRUSTED_COMMENT_MAX bytes; untrusted_comment likewise, at most
 * SIG_UNTRUSTED_COMMENT_MAX bytes. Returns 0 or -1 with err set.
 */
int sig_sign(const struct seckey *key, const void *msg, size_t len, const char *trusted_comment,
             const char *untrusted_comment, struct buf *out, struct diag_err *err);

/* A set of trusted public keys (duplicates by key id and key are dropped). */
struct sig_keyring {
    struct sig_pubkey *keys;
    size_t n;
    size_t cap;
};

void sig_keyring_init(struct sig_keyring *k);
void sig_keyring_release(struct sig_keyring *k);
/* Load a public key file into the ring. Two different keys with one key id are refused. */
int sig_keyring_add_file(struct sig_keyring *k, const char *path, struct diag_err *err);

#endif
