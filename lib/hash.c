/*
 * hash.c: streaming SHA-256 and BLAKE2b, SHA-1, and hex coding (hash_crc32 is in codec.c, the
 * zlib file), and MD5 for Liquibase's checksums.
 * Layer: lib. BLAKE2b and hex through libsodium (as sig.c); SHA-256 through OpenSSL's libcrypto,
 * which both binaries link anyway (libpq's TLS): it uses the CPU's SHA instructions where they
 * exist, hashing about 4.5 times as fast as libsodium's portable code here, and every byte of
 * a bundle is hashed once when verified and again when a data member is loaded.
 */
/* The SHA256_* functions are deprecated in OpenSSL 3 but stay: they need no allocation,
 * unlike EVP contexts, so a hash state can live inside struct hash_sha256. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include "sealift/hash.h"

#include <openssl/md5.h>
#include <openssl/sha.h>
#include <sodium.h>
#include <string.h>

_Static_assert(sizeof(SHA256_CTX) <= sizeof(((struct hash_sha256 *)0)->opaque),
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
    SHA256_Init((SHA256_CTX *)h->opaque);
}

void
hash_sha256_update(struct hash_sha256 *h, const void *data, size_t len)
{
    SHA256_Update((SHA256_CTX *)h->opaque, data, len);
}

void
hash_sha256_final(struct hash_sha256 *h, unsigned char out[HASH_SHA256_BYTES])
{
    SHA256_Final(out, (SHA256_CTX *)h->opaque);
}

/* Not OpenSSL's one-shot SHA256(): in OpenSSL 3 it looks the algorithm up on every call, which
 * cost more than hashing a small script does. */
void
hash_sha256(const void *data, size_t len, unsigned char out[HASH_SHA256_BYTES])
{
    SHA256_CTX ctx;

    SHA256_Init(&ctx);
    SHA256_Update(&ctx, data, len);
    SHA256_Final(out, &ctx);
}

void
hash_sha1(const void *data, size_t len, unsigned char out[HASH_SHA1_BYTES])
{
    SHA_CTX ctx;

    SHA1_Init(&ctx);
    SHA1_Update(&ctx, data, len);
    SHA1_Final(out, &ctx);
}

void
hash_md5(const void *data, size_t len, unsigned char out[HASH_MD5_BYTES])
{
    MD5_CTX ctx;

    MD5_Init(&ctx);
    MD5_Update(&ctx, data, len);
    MD5_Final(out, &ctx);
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

/*
 * Hex coding by table: everything hex-coded here is public (digests, key ids), and libsodium's
 * constant-time coders cost a tenth of a large build's time.
 */
char *
hex_encode(char *out, const unsigned char *bin, size_t len)
{
    static const char digits[] = "0123456789abcdef";

    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[bin[i] >> 4];
        out[2 * i + 1] = digits[bin[i] & 15];
    }
    out[2 * len] = '\0';
    return out;
}

/*
 * Value + 1 of each byte as a lowercase hex digit, 0 for any other byte: one table lookup
 * both checks and decodes (a manifest holds thousands of digests; a check loop before the
 * decode was most of the manifest's parse time). Constant, so threads may share it.
 */
static const unsigned char lower_hex1[256] = {
    ['0'] = 1, ['1'] = 2,  ['2'] = 3,  ['3'] = 4,  ['4'] = 5,  ['5'] = 6,  ['6'] = 7,  ['7'] = 8,
    ['8'] = 9, ['9'] = 10, ['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16,
};

static int
decode(unsigned char *bin, size_t len, const char *hex, size_t hexlen, int upper_too)
{
    const unsigned char *h = (const unsigned char *)hex;
    unsigned bad = 0;

    if (hexlen != len * 2)
        return -1;
    /* Digests are lowercase almost always: that loop without the case folding. */
    if (!upper_too) {
        for (size_t i = 0; i < len; i++) {
            unsigned hi = lower_hex1[h[2 * i]], lo = lower_hex1[h[2 * i + 1]];

            bad |= (hi == 0) | (lo == 0);
            bin[i] = (unsigned char)((hi - 1) << 4 | (lo - 1));
        }
        return bad ? -1 : 0;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c1 = h[2 * i], c2 = h[2 * i + 1];
        unsigned hi, lo;

        if (upper_too) {
            c1 = (c1 >= 'A' && c1 <= 'F') ? (unsigned char)(c1 + ('a' - 'A')) : c1;
            c2 = (c2 >= 'A' && c2 <= 'F') ? (unsigned char)(c2 + ('a' - 'A')) : c2;
        }
        hi = lower_hex1[c1];
        lo = lower_hex1[c2];
        bad |= (hi == 0) | (lo == 0);
        bin[i] = (unsigned char)((hi - 1) << 4 | (lo - 1));
    }
    return bad ? -1 : 0;
}

int
hex_decode(unsigned char *bin, size_t len, const char *hex, size_t hexlen)
{
    return decode(bin, len, hex, hexlen, 1);
}

int
hex_decode_lower(unsigned char *bin, size_t len, const char *hex, size_t hexlen)
{
    return decode(bin, len, hex, hexlen, 0);
}

int
hash_equal(const unsigned char *a, const unsigned char *b, size_t len)
{
    return memcmp(a, b, len) == 0;
}
