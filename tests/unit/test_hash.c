/*
 * test_hash.c: unit tests for lib/hash.c (SHA-256, BLAKE2b-512, SHA-1, CRC-32, hex coding).
 * Layer: tests.
 */
#include "unit.h"

#include "sealift/hash.h"

struct known_answer {
    const char *msg;
    const char *sha256;
    const char *blake2b;
};

/* SHA-256 from FIPS 180-2; BLAKE2b-512 from RFC 7693 and b2sum; the last is the research vector. */
static const struct known_answer known[] = {
    {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
     "786a02f742015903c6c6fd852552d272912f4740e15847618a86e217f71f5419d25e1031afee585313896444"
     "934eb04b903a685b1448b755d56f701afe9be2ce"},
    {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
     "ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d17d87c5392aab792dc252d5de"
     "4533cc9518d38aa8dbf1925ab92386edd4009923"},
    {"hello bundle\n", "a0145b5ca231a2598e9eea29cd9ca0dc95f5df9bcb2bb39b6462cf6f523e0772",
     "8b26095c1f5b3339c843fac5d7c7356f3633db78b5740e91b2ac52d08701be34119eeccd1ec14fbaf7b0b2fe"
     "0a3b811ee4e7240caf1647edb678e62122d1635e"},
};

/* 100,000 bytes of (i * 7 + 3) mod 256, and its digests (Python hashlib). */
#define LONG_LEN 100000
static const char long_sha256[] =
    "d96bab6a55ee326ba206dd4a85a6e95e14360d7fabbf448f03e689c24382b7d0";
static const char long_blake2b[] =
    "f130f41a8afb982b8a555846596c54fd876e394ec8316f89c43c4d7173847c5f3321719968a3c49f107d87ce3db3"
    "650957d79d535ea8294bd3cc1f1f40c9ba24";

static int
setup_sodium(void **state)
{
    (void)state;
    return hash_library_init();
}

static unsigned char *
long_message(void)
{
    unsigned char *m = malloc(LONG_LEN);

    assert_non_null(m);
    for (size_t i = 0; i < LONG_LEN; i++)
        m[i] = (unsigned char)(i * 7 + 3);
    return m;
}

static void
test_hash_sha256_known_answers(void **state)
{
    unsigned char out[HASH_SHA256_BYTES];
    char hex[HASH_SHA256_HEX];

    (void)state;
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
        hash_sha256(known[i].msg, strlen(known[i].msg), out);
        assert_string_equal(hex_encode(hex, out, sizeof(out)), known[i].sha256);
    }
}

static void
test_hash_blake2b_known_answers(void **state)
{
    unsigned char out[HASH_BLAKE2B_BYTES];
    char hex[2 * HASH_BLAKE2B_BYTES + 1];

    (void)state;
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
        hash_blake2b(known[i].msg, strlen(known[i].msg), out);
        assert_string_equal(hex_encode(hex, out, sizeof(out)), known[i].blake2b);
    }
}

static void
test_hash_streaming_equals_one_shot(void **state)
{
    /* Odd sizes straddle the 64-byte SHA-256 and 128-byte BLAKE2b blocks in every way. */
    static const size_t chunks[] = {1, 3, 63, 64, 65, 127, 128, 129, 1000, 4093, 65537};
    unsigned char *msg = long_message();
    unsigned char one_sha[HASH_SHA256_BYTES], one_b2[HASH_BLAKE2B_BYTES];
    char hex_sha[HASH_SHA256_HEX], hex_b2[2 * HASH_BLAKE2B_BYTES + 1];

    (void)state;
    hash_sha256(msg, LONG_LEN, one_sha);
    hash_blake2b(msg, LONG_LEN, one_b2);
    assert_string_equal(hex_encode(hex_sha, one_sha, sizeof(one_sha)), long_sha256);
    assert_string_equal(hex_encode(hex_b2, one_b2, sizeof(one_b2)), long_blake2b);
    for (size_t c = 0; c < sizeof(chunks) / sizeof(chunks[0]); c++) {
        struct hash_sha256 hs;
        struct hash_blake2b hb;
        unsigned char s[HASH_SHA256_BYTES], b[HASH_BLAKE2B_BYTES];

        hash_sha256_init(&hs);
        hash_blake2b_init(&hb);
        /* An empty update first and in between must change nothing. */
        hash_sha256_update(&hs, msg, 0);
        hash_blake2b_update(&hb, msg, 0);
        for (size_t off = 0; off < LONG_LEN; off += chunks[c]) {
            size_t n = LONG_LEN - off < chunks[c] ? LONG_LEN - off : chunks[c];

            hash_sha256_update(&hs, msg + off, n);
            hash_blake2b_update(&hb, msg + off, n);
        }
        hash_sha256_final(&hs, s);
        hash_blake2b_final(&hb, b);
        assert_memory_equal(s, one_sha, sizeof(s));
        assert_memory_equal(b, one_b2, sizeof(b));
    }
    free(msg);
}

static void
test_hash_streaming_empty_input(void **state)
{
    struct hash_sha256 hs;
    struct hash_blake2b hb;
    unsigned char s[HASH_SHA256_BYTES], b[HASH_BLAKE2B_BYTES];
    char hex[2 * HASH_BLAKE2B_BYTES + 1];

    (void)state;
    hash_sha256_init(&hs);
    hash_sha256_final(&hs, s);
    assert_string_equal(hex_encode(hex, s, sizeof(s)), known[0].sha256);
    hash_blake2b_init(&hb);
    hash_blake2b_final(&hb, b);
    assert_string_equal(hex_encode(hex, b, sizeof(b)), known[0].blake2b);
}

static void
test_hash_hex_round_trip(void **state)
{
    unsigned char bin[256], back[256];
    char hex[2 * 256 + 1];

    (void)state;
    for (int i = 0; i < 256; i++)
        bin[i] = (unsigned char)i;
    assert_ptr_equal(hex_encode(hex, bin, sizeof(bin)), hex);
    assert_int_equal(strlen(hex), 512);
    assert_memory_equal(hex, "000102030405060708090a0b0c0d0e0f10", 34);
    assert_string_equal(hex + 500, "fafbfcfdfeff");
    assert_int_equal(hex_decode(back, sizeof(back), hex, strlen(hex)), 0);
    assert_memory_equal(back, bin, sizeof(bin));
    memset(back, 0, sizeof(back));
    assert_int_equal(hex_decode_lower(back, sizeof(back), hex, strlen(hex)), 0);
    assert_memory_equal(back, bin, sizeof(bin));
    /* Uppercase digits decode too (not in the lowercase-only decoder: see below). */
    assert_int_equal(hex_decode(back, 4, "DEADbeef", 8), 0);
    assert_memory_equal(back, "\xde\xad\xbe\xef", 4);
    /* Zero bytes encode to the empty string. */
    assert_string_equal(hex_encode(hex, bin, 0), "");
}

static void
test_hash_hex_decode_rejects(void **state)
{
    static const struct {
        const char *hex;
        size_t len; /* bytes wanted */
        const char *why;
    } bad[] = {
        {"abc", 2, "odd length"},
        {"abcd", 1, "too long"},
        {"ab", 2, "too short"},
        {"", 1, "empty"},
        {"zz00", 2, "not hex at the start"},
        {"00zz", 2, "not hex at the end"},
        {"0g", 1, "g is not hex"},
        {"0 ", 1, "space"},
        {"-1", 1, "sign"},
        {"0x", 1, "0x prefix"},
        {"00:1", 2, "separator"},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        unsigned char out[8];

        memset(out, 0, sizeof(out));
        if (hex_decode(out, bad[i].len, bad[i].hex, strlen(bad[i].hex)) != -1)
            fail_msg("hex_decode accepted \"%s\" (%s)", bad[i].hex, bad[i].why);
        if (hex_decode_lower(out, bad[i].len, bad[i].hex, strlen(bad[i].hex)) != -1)
            fail_msg("hex_decode_lower accepted \"%s\" (%s)", bad[i].hex, bad[i].why);
    }
}

static void
test_hash_hex_decode_lower(void **state)
{
    unsigned char back[4];

    (void)state;
    /* Any uppercase digit is refused, wherever it is; digits and a-f only. */
    assert_int_equal(hex_decode_lower(back, 4, "DEADbeef", 8), -1);
    assert_int_equal(hex_decode_lower(back, 4, "deadbeeF", 8), -1);
    assert_int_equal(hex_decode_lower(back, 1, "A0", 2), -1);
    /* Every byte value other than 0-9 a-f is refused in either position. */
    for (int c = 0; c < 256; c++) {
        char two[2] = {'0', (char)c};
        int is_digit = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');

        assert_int_equal(hex_decode_lower(back, 1, two, 2), is_digit ? 0 : -1);
        two[0] = (char)c;
        two[1] = '0';
        assert_int_equal(hex_decode_lower(back, 1, two, 2), is_digit ? 0 : -1);
    }
}

static void
test_hash_hex_decode_honours_length(void **state)
{
    unsigned char out[2] = {0, 0};

    (void)state;
    /* Only hexlen bytes are read: the rest of the string is not part of the input. */
    assert_int_equal(hex_decode(out, 2, "0102zz", 4), 0);
    assert_memory_equal(out, "\x01\x02", 2);
    /* A NUL inside the counted length is a bad character, not an end. */
    assert_int_equal(hex_decode(out, 2, "01\0\0", 4), -1);
}

static void
test_hash_equal_compares(void **state)
{
    unsigned char a[HASH_SHA256_BYTES], b[HASH_SHA256_BYTES];

    (void)state;
    hash_sha256("x", 1, a);
    memcpy(b, a, sizeof(a));
    assert_true(hash_equal(a, b, sizeof(a)));
    b[HASH_SHA256_BYTES - 1] ^= 1;
    assert_false(hash_equal(a, b, sizeof(a)));
    b[HASH_SHA256_BYTES - 1] ^= 1;
    b[0] ^= 0x80;
    assert_false(hash_equal(a, b, sizeof(a)));
}

/* SHA-1 (FIPS 180-2 vectors; the two-block padding case is 56 bytes). */
static void
test_hash_sha1_known_answers(void **state)
{
    static const struct {
        const char *msg;
        const char *sha1;
    } cases[] = {
        {"", "da39a3ee5e6b4b0d3255bfef95601890afd80709"},
        {"abc", "a9993e364706816aba3e25717850c26c9cd0d89d"},
        {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
         "84983e441c3bd26ebaae4aa1f95129e5e54670f1"},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        unsigned char d[HASH_SHA1_BYTES];
        char hex[HASH_SHA1_HEX];

        hash_sha1(cases[i].msg, strlen(cases[i].msg), d);
        assert_string_equal(hex_encode(hex, d, sizeof(d)), cases[i].sha1);
    }
}

/* CRC-32: the check value of "123456789", and a sum continued over pieces is the whole's. */
static void
test_hash_crc32_known_answers(void **state)
{
    (void)state;
    assert_int_equal(hash_crc32(0, "123456789", 9), 0xcbf43926UL);
    assert_int_equal(hash_crc32(0, "", 0), 0);
    assert_int_equal(hash_crc32(hash_crc32(0, "1234", 4), "56789", 5), 0xcbf43926UL);
    assert_int_equal(hash_crc32(0, "SELECT 1;", 9), 78787420UL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hash_sha256_known_answers),
        cmocka_unit_test(test_hash_blake2b_known_answers),
        cmocka_unit_test(test_hash_streaming_equals_one_shot),
        cmocka_unit_test(test_hash_streaming_empty_input),
        cmocka_unit_test(test_hash_hex_round_trip),
        cmocka_unit_test(test_hash_hex_decode_rejects),
        cmocka_unit_test(test_hash_hex_decode_lower),
        cmocka_unit_test(test_hash_hex_decode_honours_length),
        cmocka_unit_test(test_hash_equal_compares),
        cmocka_unit_test(test_hash_sha1_known_answers),
        cmocka_unit_test(test_hash_crc32_known_answers),
    };

    return cmocka_run_group_tests_name("hash", tests, setup_sodium, NULL);
}
