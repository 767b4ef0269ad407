/*
 * seckey.h: minisign-compatible secret key files.
 *
 * Layout (158 bytes, base64 on line 2): "Ed" || kdf ("Sc" = scrypt, or 00 00 = none) || "B2"
 * || salt (32) || opslimit (u64le) || memlimit (u64le) || [key id (8) || Ed25519 secret key
 * (64) || BLAKE2b-256 checksum (32)], the bracketed 104 bytes XORed with a scrypt key stream
 * when the key is encrypted.
 *
 * Key material lives only in sodium_malloc'd memory (guard pages, locked, wiped on free).
 * This module is separate from sig.c so that the applier, which never signs, does not link
 * the scrypt KDF.
 */
#ifndef SEALIFT_SECKEY_H
#define SEALIFT_SECKEY_H

#include "sealift/diag.h"
#include "sealift/sig.h"

#include <stddef.h>
#include <stdint.h>

#define SECKEY_PASSWORD_MAX 1024

/* scrypt cost limits, as libsodium names them (opslimit, memlimit). */
struct seckey_kdf_limits {
    uint64_t opslimit;
    uint64_t memlimit;
};

/* minisign's defaults (libsodium SENSITIVE): about 1 GiB of memory and seconds of work. */
extern const struct seckey_kdf_limits SECKEY_KDF_SENSITIVE;
/* libsodium INTERACTIVE: 16 MiB; for tests and low-memory hosts. */
extern const struct seckey_kdf_limits SECKEY_KDF_INTERACTIVE;
/*
 * Largest limits a key file may demand when loaded. A hostile file cannot make us use more
 * memory or time than this (memlimit 1 GiB, opslimit 2 x SENSITIVE).
 */
extern const struct seckey_kdf_limits SECKEY_KDF_CAP;

struct seckey {
    unsigned char keyid[SIG_KEYID_BYTES];
    unsigned char sk[64]; /* libsodium layout: seed (32) || public key (32) */
};

/*
 * Called when a key is encrypted: write the password, NUL-terminated, into out (cap bytes,
 * sodium_malloc'd by the caller). Return 0, or -1 with err set (for example no terminal).
 */
typedef int (*seckey_password_cb)(char *out, size_t cap, void *data, struct diag_err *err);

/* Locked, guarded memory for other secrets (passwords); aborts if none can be had. */
void *seckey_secure_alloc(size_t size);
void seckey_secure_free(void *p);

/* Generate a new key pair. Returns a sodium_malloc'd key; free with seckey_free(). */
struct seckey *seckey_generate(void);

void seckey_free(struct seckey *key);

/* The public half, with the same key id. */
void seckey_pubkey(const struct seckey *key, struct sig_pubkey *pub);

/*
 * Write key to a new file at path (mode 0600, refusing to overwrite). With password NULL the
 * key is written unencrypted (minisign -W), with a valid checksum; otherwise it is encrypted
 * with scrypt at the given limits.
 */
int seckey_write_file(const struct seckey *key, const char *path, const char *password,
                      const struct seckey_kdf_limits *limits, struct diag_err *err);

/*
 * Load a secret key file. A file readable by group or others is refused. If the key is
 * encrypted, password_cb is called for the password. A wrong password is reported as such.
 * Returns a key to free with seckey_free(), or NULL with err set.
 */
struct seckey *seckey_load(const char *path, seckey_password_cb password_cb, void *cb_data,
                           struct diag_err *err);

/* Parse secret key file text (already read). Same as seckey_load without the file checks. */
struct seckey *seckey_parse(const char *text, size_t len, seckey_password_cb password_cb,
                            void *cb_data, struct diag_err *err);

#endif
