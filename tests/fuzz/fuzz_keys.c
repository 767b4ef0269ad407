/*
 * fuzz_keys.c: libFuzzer target for minisign public keys, signatures and secret keys
 * (lib/sig.c, lib/seckey.c). Built with a small scrypt cap (see the Makefile) so that a
 * hostile key cannot make one input cost a gigabyte.
 */
#include "sealift/hash.h"
#include "sealift/seckey.h"
#include "sealift/sig.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
password_cb(char *out, size_t cap, void *d, struct diag_err *err)
{
    (void)d;
    (void)err;
    snprintf(out, cap, "pw123");
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    struct sig_pubkey pk;
    struct sig_signature *sig = malloc(sizeof(*sig));
    struct seckey *sk;
    struct diag_err err = DIAG_ERR_INIT;

    if (!ready) {
        if (hash_library_init() != 0)
            abort();
        ready = 1;
    }
    if (sig_pubkey_parse(&pk, (const char *)data, size, &err) != 0 && err.msg[0] == '\0')
        abort();
    if (sig_parse(sig, (const char *)data, size, &err) == 0) {
        /* A parsed signature must be safe to check against any key and message. */
        memset(&pk, 0, sizeof(pk));
        memcpy(pk.keyid, sig->keyid, sizeof(pk.keyid));
        sig_verify(sig, &pk, data, size, &err);
    }
    sk = seckey_parse((const char *)data, size, password_cb, NULL, &err);
    seckey_free(sk);
    free(sig);
    return 0;
}
