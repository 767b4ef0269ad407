/*
 * hash.h: streaming SHA-256 and BLAKE2b-512, and the two checksums other migration tools
 * record (SHA-1, CRC-32).
 *
 * SHA-256 is what the manifest records for every member (so that sha256sum can check them);
 * BLAKE2b-512 is what minisign's prehashed "ED" signatures sign. SHA-1 (Sqitch's change ids
 * and script hashes) and CRC-32 (Flyway's checksum) only reproduce other tools' identifiers;
 * no security rests on them.
 * The state structs are opaque storage sized for the libraries' own states. SHA-256 and SHA-1
 * come from OpenSSL (lib/hash.c), BLAKE2b from libsodium (lib/hash.c), CRC-32 from zlib
 * (lib/codec.c, the file that speaks zlib).
 */
#ifndef SEALIFT_HASH_H
#define SEALIFT_HASH_H

#include <stddef.h>

#define HASH_SHA256_BYTES  32
#define HASH_BLAKE2B_BYTES 64
#define HASH_SHA256_HEX    (HASH_SHA256_BYTES * 2 + 1)
#define HASH_SHA1_BYTES    20
#define HASH_SHA1_HEX      (HASH_SHA1_BYTES * 2 + 1)
#define HASH_MD5_BYTES     16
#define HASH_MD5_HEX       (HASH_MD5_BYTES * 2 + 1)

struct hash_sha256 {
    _Alignas(64) unsigned char opaque[128];
};

struct hash_blake2b {
    _Alignas(64) unsigned char opaque[448];
};

/* Initialise libsodium once; returns -1 if it cannot be initialised. */
int hash_library_init(void);

void hash_sha256_init(struct hash_sha256 *h);
void hash_sha256_update(struct hash_sha256 *h, const void *data, size_t len);
void hash_sha256_final(struct hash_sha256 *h, unsigned char out[HASH_SHA256_BYTES]);
/* One-shot SHA-256. */
void hash_sha256(const void *data, size_t len, unsigned char out[HASH_SHA256_BYTES]);

/* One-shot SHA-1, for other tools' identifiers only (Sqitch). */
void hash_sha1(const void *data, size_t len, unsigned char out[HASH_SHA1_BYTES]);

/* One-shot MD5, for other tools' identifiers only (Liquibase's checksums). */
void hash_md5(const void *data, size_t len, unsigned char out[HASH_MD5_BYTES]);

/*
 * CRC-32 (IEEE 802.3, as java.util.zip.CRC32 and zlib compute it) of data, continued from crc
 * (0 to start). Any len: longer runs than zlib's uInt are fed in pieces.
 */
unsigned long hash_crc32(unsigned long crc, const void *data, size_t len);

void hash_blake2b_init(struct hash_blake2b *h);
void hash_blake2b_update(struct hash_blake2b *h, const void *data, size_t len);
void hash_blake2b_final(struct hash_blake2b *h, unsigned char out[HASH_BLAKE2B_BYTES]);
void hash_blake2b(const void *data, size_t len, unsigned char out[HASH_BLAKE2B_BYTES]);

/* Lowercase hex of len bytes into out, which must hold 2 * len + 1 bytes. Returns out. */
char *hex_encode(char *out, const unsigned char *bin, size_t len);
/*
 * Decode exactly 2 * len lowercase or uppercase hex digits from hex (hexlen bytes) into bin.
 * Returns 0, or -1 if hexlen is not 2 * len or a character is not a hex digit.
 */
int hex_decode(unsigned char *bin, size_t len, const char *hex, size_t hexlen);
/* The same, lowercase digits only (the manifest's digests). bin is undefined on failure. */
int hex_decode_lower(unsigned char *bin, size_t len, const char *hex, size_t hexlen);

/* Compare two equal-length public digests; constant time is not needed for public data. */
int hash_equal(const unsigned char *a, const unsigned char *b, size_t len);

#endif
