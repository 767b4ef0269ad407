/*
 * hash.c: streaming SHA-256 and BLAKE2b, and hex coding, through libsodium.
 * Layer: lib. One of the two files that speak libsodium (the other is sig.c; seckey.c adds
 * the secret-key KDF, kept apart so the static applier never links scrypt).
 */
#include "sealift/hash.h"

#include <sodium.h>
#include <string.h>

_Static_assert(sizeof(crypto_hash_sha256_state) <= sizeof(((struct hash_sha256 *)0)->opaque),
               "hash_sha256 storage too small");
_Static_assert(sizeof(crypto_generichash_state) <= sizeof(((struct hash_blake2b *)0)->opaque),
               "hash_blake2b storage too small");

int
hash_library_init(void)
{
    return sodium_init() < 0 ? -1 : 0;
}

void
hash_sha256_init(struct hash_sha256 *h)
{
    crypto_hash_sha256_init((crypto_hash_sha256_state *)h->opaque);
}

void
hash_sha256_update(struct hash_sha256 *h, const void *data, size_t len)
{
    crypto_hash_sha256_update((crypto_hash_sha256_state *)h->opaque, data, len);
}

void
hash_sha256_final(struct hash_sha256 *h, unsigned char out[HASH_SHA256_BYTES])
{
    crypto_hash_sha256_final((crypto_hash_sha256_state *)h->opaque, out);
}

void
hash_sha256(const void *data, size_t len, unsigned char out[HASH_SHA256_BYTES])
{
    crypto_hash_sha256(out, data, len);
}

void
hash_blake2b_init(struct hash_blake2b *h)
{
    crypto_generichash_init((crypto_generichash_state *)h->opaque, NULL, 0, HASH_BLAKE2B_BYTES);
}

void
hash_blake2b_update(struct hash_blake2b *h, const void *data, size_t len)
{
    crypto_generichash_update((crypto_generichash_state *)h->opaque, data, len);
}

void
hash_blake2b_final(struct hash_blake2b *h, unsigned char out[HASH_BLAKE2B_BYTES])
{
    crypto_generichash_final((crypto_generichash_state *)h->opaque, out, HASH_BLAKE2B_BYTES);
}

void
hash_blake2b(const void *data, size_t len, unsigned char out[HASH_BLAKE2B_BYTES])
{
    crypto_generichash(out, HASH_BLAKE2B_BYTES, data, len, NULL, 0);
}

char *
hex_encode(char *out, const unsigned char *bin, size_t len)
{
    return sodium_bin2hex(out, len * 2 + 1, bin, len);
}

int
hex_decode(unsigned char *bin, size_t len, const char *hex, size_t hexlen)
{
    size_t got = 0;
    const char *end = NULL;

    if (hexlen != len * 2)
        return -1;
    if (sodium_hex2bin(bin, len, hex, hexlen, NULL, &got, &end) != 0 || got != len ||
        end != hex + hexlen)
        return -1;
    return 0;
}

int
hash_equal(const unsigned char *a, const unsigned char *b, size_t len)
{
    return memcmp(a, b, len) == 0;
}
