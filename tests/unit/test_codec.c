/*
 * test_codec.c: unit tests for lib/codec.c (bounded, strict decompression and reproducible
 * compression: zstd, gzip, none).
 * Layer: tests. Uses libzstd directly to craft frames sealift itself never writes.
 */
#include "unit.h"

#include "sealift/codec.h"

#include <sys/wait.h>
#include <zstd.h>

#define DATA_LEN (400 * 1024)

static const enum codec_kind kinds[] = {CODEC_ZSTD, CODEC_GZIP, CODEC_NONE};

struct fixture {
    char dir[UNIT_PATH_MAX];
    struct buf data; /* DATA_LEN bytes of compressible text */
};

static int
setup_fixture(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    unsigned x = 12345;

    if (f == NULL || unit_mkdtemp(f->dir) != 0) {
        free(f);
        return -1;
    }
    buf_init(&f->data);
    /* Text with some repetition and some noise: compresses, but not to nothing. */
    while (f->data.len < DATA_LEN) {
        x = x * 1103515245u + 12345u;
        buf_addf(&f->data, "row %u value %u\n", (unsigned)f->data.len, (x >> 16) % 1000);
    }
    buf_truncate(&f->data, DATA_LEN);
    *state = f;
    return 0;
}

static int
teardown_fixture(void **state)
{
    struct fixture *f = *state;
    int ret = unit_rmtree(f->dir);

    buf_release(&f->data);
    free(f);
    return ret;
}

/* Compress data into a new file dir/name with the writer; returns the compressed bytes. */
static void
compress_file(const char *path, enum codec_kind kind, const void *data, size_t len,
              struct buf *compressed)
{
    struct diag_err err = DIAG_ERR_INIT;
    struct codec_writer *w;
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

    assert_true(fd >= 0);
    w = codec_writer_open(fd, kind, &err);
    if (w == NULL)
        fail_msg("codec_writer_open: %s", err.msg);
    /* Several writes of uneven sizes, as libarchive does. */
    for (size_t off = 0; off < len;) {
        size_t n = len - off < 10007 ? len - off : 10007;

        if (codec_writer_write(w, (const char *)data + off, n, &err) != 0)
            fail_msg("codec_writer_write: %s", err.msg);
        off += n;
    }
    if (codec_writer_finish(w, &err) != 0)
        fail_msg("codec_writer_finish: %s", err.msg);
    assert_int_equal(close(fd), 0);
    if (compressed)
        unit_read_file(path, compressed);
}

/*
 * Read everything from fd through a codec reader, chunk bytes at a time, into out.
 * Returns 0, or -1 with err set. *kind receives the detected compression.
 */
static int
decompress_fd(int fd, uint64_t limit, size_t chunk, struct buf *out, enum codec_kind *kind,
              struct diag_err *err)
{
    struct codec_reader *r = codec_reader_open(fd, err);
    char *tmp;
    ssize_t n;

    if (r == NULL)
        return -1;
    if (kind)
        *kind = codec_reader_kind(r);
    codec_reader_set_limit(r, limit);
    tmp = malloc(chunk);
    assert_non_null(tmp);
    while ((n = codec_reader_read(r, tmp, chunk, err)) > 0) {
        assert_true((size_t)n <= chunk);
        buf_add(out, tmp, (size_t)n);
    }
    if (n == 0)
        assert_int_equal(codec_reader_total_out(r), out->len);
    free(tmp);
    codec_reader_free(r);
    return n < 0 ? -1 : 0;
}

static int
decompress_bytes(const char *dir, const void *bytes, size_t len, uint64_t limit, size_t chunk,
                 struct buf *out, enum codec_kind *kind, struct diag_err *err)
{
    char path[UNIT_PATH_MAX];
    int fd, ret;

    unit_path(path, dir, "input");
    unit_write_file(path, bytes, len, 0644);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    assert_true(fd >= 0);
    ret = decompress_fd(fd, limit, chunk, out, kind, err);
    close(fd);
    return ret;
}

static void
test_codec_round_trip_all_kinds(void **state)
{
    static const size_t chunks[] = {1, 7, 4096, 65536, 1 << 20};
    struct fixture *f = *state;
    char path[UNIT_PATH_MAX];

    unit_path(path, f->dir, "out");
    for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
        struct buf compressed = BUF_INIT;

        compress_file(path, kinds[k], f->data.data, f->data.len, &compressed);
        if (kinds[k] == CODEC_NONE)
            assert_int_equal(compressed.len, f->data.len);
        else
            assert_true(compressed.len < f->data.len / 2);
        for (size_t c = 0; c < sizeof(chunks) / sizeof(chunks[0]); c++) {
            struct buf out = BUF_INIT;
            struct diag_err err = DIAG_ERR_INIT;
            enum codec_kind kind;

            /* One-byte reads of 400 KiB are slow only for "none"; skip that pairing. */
            if (chunks[c] == 1 && kinds[k] != CODEC_ZSTD)
                continue;
            if (decompress_bytes(f->dir, compressed.data, compressed.len, 0, chunks[c], &out, &kind,
                                 &err) != 0)
                fail_msg("%s with %zu-byte reads: %s", codec_name(kinds[k]), chunks[c], err.msg);
            assert_int_equal(kind, kinds[k]);
            assert_int_equal(out.len, f->data.len);
            assert_memory_equal(out.data, f->data.data, f->data.len);
            buf_release(&out);
        }
        buf_release(&compressed);
    }
}

static void
test_codec_round_trip_small_inputs(void **state)
{
    static const char *const inputs[] = {"", "x", "\x28\xb5\x2f\xfd", "\x1f\x8b"};
    struct fixture *f = *state;
    char path[UNIT_PATH_MAX];

    unit_path(path, f->dir, "small");
    for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
        for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
            struct buf compressed = BUF_INIT, out = BUF_INIT;
            struct diag_err err = DIAG_ERR_INIT;
            enum codec_kind kind;

            /* Uncompressed data that starts with a magic number would be read as compressed;
             * a bundle never does (it starts with the "MANIFEST" tar header). */
            if (kinds[k] == CODEC_NONE && i >= 2)
                continue;
            compress_file(path, kinds[k], inputs[i], strlen(inputs[i]), &compressed);
            if (decompress_bytes(f->dir, compressed.data, compressed.len, 0, 100, &out, &kind,
                                 &err) != 0)
                fail_msg("%s input %zu: %s", codec_name(kinds[k]), i, err.msg);
            assert_int_equal(out.len, strlen(inputs[i]));
            assert_memory_equal(out.data, inputs[i], out.len);
            assert_int_equal(kind, kinds[k]);
            buf_release(&compressed);
            buf_release(&out);
        }
    }
}

static void
test_codec_round_trip_through_pipe(void **state)
{
    struct fixture *f = *state;
    char path[UNIT_PATH_MAX];

    unit_path(path, f->dir, "piped");
    for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
        struct buf compressed = BUF_INIT, out = BUF_INIT;
        struct diag_err err = DIAG_ERR_INIT;
        enum codec_kind kind;
        int fds[2], status;
        pid_t pid;

        compress_file(path, kinds[k], f->data.data, 50000, &compressed);
        assert_int_equal(pipe(fds), 0);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            /* Trickle the first bytes so the reader sees short reads while detecting. */
            close(fds[0]);
            for (size_t i = 0; i < compressed.len;) {
                size_t n = i < 6 ? 1 : compressed.len - i;
                ssize_t w = write(fds[1], compressed.data + i, n);

                if (w <= 0)
                    _exit(1);
                i += (size_t)w;
                if (i < 6)
                    usleep(2000);
            }
            _exit(0);
        }
        close(fds[1]);
        if (decompress_fd(fds[0], 0, 4096, &out, &kind, &err) != 0)
            fail_msg("%s through a pipe: %s", codec_name(kinds[k]), err.msg);
        close(fds[0]);
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        assert_int_equal(kind, kinds[k]);
        assert_int_equal(out.len, 50000);
        assert_memory_equal(out.data, f->data.data, 50000);
        buf_release(&compressed);
        buf_release(&out);
    }
}

static void
test_codec_reader_detects_kind(void **state)
{
    static const struct {
        const char *bytes;
        size_t len;
        enum codec_kind kind;
    } cases[] = {
        {"", 0, CODEC_NONE},
        {"x", 1, CODEC_NONE},
        {"\x28\xb5\x2f", 3, CODEC_NONE}, /* too short for the zstd magic */
        {"\x28\xb5\x2f\xfe", 4, CODEC_NONE},
        {"\x1f", 1, CODEC_NONE},
        /* The magic numbers, then the rest of the header sealift writes (checked at open). */
        {"\x1f\x8b\x08\0\0\0\0\0\0\x03", 10, CODEC_GZIP},
        {"\x28\xb5\x2f\xfd\x04\x58", 6, CODEC_ZSTD},
        {"# sealift-manifest 1\n", 21, CODEC_NONE},
    };
    struct fixture *f = *state;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char path[UNIT_PATH_MAX];
        struct diag_err err = DIAG_ERR_INIT;
        struct codec_reader *r;
        int fd;

        unit_path(path, f->dir, "detect");
        unit_write_file(path, cases[i].bytes, cases[i].len, 0644);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        assert_true(fd >= 0);
        r = codec_reader_open(fd, &err);
        assert_non_null(r);
        if (codec_reader_kind(r) != cases[i].kind)
            fail_msg("case %zu detected as %s", i, codec_name(codec_reader_kind(r)));
        codec_reader_free(r);
        close(fd);
    }
}

static void
test_codec_refuses_data_after_end(void **state)
{
    struct fixture *f = *state;
    char path[UNIT_PATH_MAX];

    unit_path(path, f->dir, "frame");
    for (size_t k = 0; k < 2; k++) {
        struct buf frame = BUF_INIT;
        char want[64];
        static const char *const suffixes[] = {"junk", "\0", "\n"};

        compress_file(path, kinds[k], f->data.data, 20000, &frame);
        snprintf(want, sizeof(want), "data after the end of the %s stream", codec_name(kinds[k]));
        /* Junk after the stream, then a whole second frame or member (which the zstd and
         * gzip tools would happily decompress as a concatenation). */
        for (size_t s = 0; s <= sizeof(suffixes) / sizeof(suffixes[0]); s++) {
            struct buf input = BUF_INIT, out = BUF_INIT;
            struct diag_err err = DIAG_ERR_INIT;

            buf_add(&input, frame.data, frame.len);
            if (s < sizeof(suffixes) / sizeof(suffixes[0]))
                buf_add(&input, suffixes[s], s == 1 ? 1 : strlen(suffixes[s]));
            else
                buf_add(&input, frame.data, frame.len);
            assert_int_equal(
                decompress_bytes(f->dir, input.data, input.len, 0, 4096, &out, NULL, &err), -1);
            assert_string_equal(err.msg, want);
            buf_release(&input);
            buf_release(&out);
        }
        buf_release(&frame);
    }
}

static void
test_codec_refuses_truncated(void **state)
{
    struct fixture *f = *state;
    char path[UNIT_PATH_MAX];

    unit_path(path, f->dir, "whole");
    for (size_t k = 0; k < 2; k++) {
        struct buf whole = BUF_INIT;
        size_t cuts[5];

        compress_file(path, kinds[k], f->data.data, f->data.len, &whole);
        cuts[0] = whole.len - 1;
        cuts[1] = whole.len - 4;
        cuts[2] = whole.len / 2;
        cuts[3] = 10;
        cuts[4] = kinds[k] == CODEC_ZSTD ? 4 : 2; /* the magic number alone */
        for (size_t c = 0; c < sizeof(cuts) / sizeof(cuts[0]); c++) {
            struct buf out = BUF_INIT;
            struct diag_err err = DIAG_ERR_INIT;
            char want[64];

            snprintf(want, sizeof(want), "%s stream is truncated", codec_name(kinds[k]));
            if (decompress_bytes(f->dir, whole.data, cuts[c], 0, 65536, &out, NULL, &err) != -1)
                fail_msg("%s cut at %zu accepted", codec_name(kinds[k]), cuts[c]);
            if (strstr(err.msg, want) == NULL)
                fail_msg("%s cut at %zu: \"%s\"", codec_name(kinds[k]), cuts[c], err.msg);
            buf_release(&out);
        }
        buf_release(&whole);
    }
}

static void
test_codec_refuses_corrupt_checksums(void **state)
{
    struct fixture *f = *state;
    char path[UNIT_PATH_MAX];
    struct buf z = BUF_INIT, g = BUF_INIT, out = BUF_INIT;
    struct diag_err err = DIAG_ERR_INIT;

    unit_path(path, f->dir, "z");
    compress_file(path, CODEC_ZSTD, f->data.data, 30000, &z);
    /* The zstd writer sets the content checksum flag: the last 4 bytes are the checksum. */
    z.data[z.len - 1] ^= 0x01;
    assert_int_equal(decompress_bytes(f->dir, z.data, z.len, 0, 4096, &out, NULL, &err), -1);
    assert_contains(err.msg, "zstd: ");
    assert_contains(err.msg, "checksum");

    unit_path(path, f->dir, "g");
    compress_file(path, CODEC_GZIP, f->data.data, 30000, &g);
    /* The gzip trailer is CRC-32 then ISIZE. */
    g.data[g.len - 8] ^= 0x01;
    buf_reset(&out);
    assert_int_equal(decompress_bytes(f->dir, g.data, g.len, 0, 4096, &out, NULL, &err), -1);
    assert_string_equal(err.msg, "gzip: incorrect data check");
    g.data[g.len - 8] ^= 0x01;
    g.data[g.len - 1] ^= 0x01;
    buf_reset(&out);
    assert_int_equal(decompress_bytes(f->dir, g.data, g.len, 0, 4096, &out, NULL, &err), -1);
    assert_string_equal(err.msg, "gzip: incorrect length check");

    /* Not a stream behind a correct magic number (for zstd: a block of the reserved type). */
    buf_reset(&out);
    assert_int_equal(
        decompress_bytes(f->dir, "\x1f\x8bXXXXXXXXXXXX", 14, 0, 4096, &out, NULL, &err), -1);
    assert_contains(err.msg, "gzip: ");
    buf_reset(&out);
    assert_int_equal(decompress_bytes(f->dir, "\x28\xb5\x2f\xfd\x00\x00\x07\x00\x00\x00", 10, 0,
                                      4096, &out, NULL, &err),
                     -1);
    assert_contains(err.msg, "zstd: ");
    buf_release(&z);
    buf_release(&g);
    buf_release(&out);
}

static void
test_codec_limit_refuses_excess(void **state)
{
    struct fixture *f = *state;
    char path[UNIT_PATH_MAX];

    unit_path(path, f->dir, "limited");
    for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
        struct buf compressed = BUF_INIT;
        static const size_t chunks[] = {1000, 65536, 1 << 20};

        compress_file(path, kinds[k], f->data.data, f->data.len, &compressed);
        for (size_t c = 0; c < sizeof(chunks) / sizeof(chunks[0]); c++) {
            struct buf out = BUF_INIT;
            struct diag_err err = DIAG_ERR_INIT;
            char want[128];

            /* Exactly the decompressed size is allowed. */
            if (decompress_bytes(f->dir, compressed.data, compressed.len, DATA_LEN, chunks[c], &out,
                                 NULL, &err) != 0)
                fail_msg("%s at its exact limit: %s", codec_name(kinds[k]), err.msg);
            assert_int_equal(out.len, DATA_LEN);
            /* One byte less is refused, and no more than the limit was handed out. */
            buf_reset(&out);
            assert_int_equal(decompress_bytes(f->dir, compressed.data, compressed.len, DATA_LEN - 1,
                                              chunks[c], &out, NULL, &err),
                             -1);
            snprintf(want, sizeof(want),
                     "archive holds more data than its manifest allows (more than %u bytes "
                     "uncompressed)",
                     (unsigned)(DATA_LEN - 1));
            assert_string_equal(err.msg, want);
            assert_true(out.len <= DATA_LEN - 1);
            /* A small limit stops a large stream early. */
            buf_reset(&out);
            assert_int_equal(decompress_bytes(f->dir, compressed.data, compressed.len, 1000,
                                              chunks[c], &out, NULL, &err),
                             -1);
            assert_contains(err.msg, "more than 1000 bytes uncompressed");
            assert_true(out.len <= 1000);
            buf_release(&out);
        }
        buf_release(&compressed);
    }
}

/*
 * Past its first 4 MiB a stream is decompressed on a thread of its own (readahead.c): the same
 * bytes come out, and every refusal (checksum, truncation, trailing data, limit) still comes,
 * after the bytes before it. A reader freed in the middle stops its thread.
 */
static void
test_codec_large_streams_read_ahead(void **state)
{
    struct fixture *f = *state;
    char path[UNIT_PATH_MAX];
    struct buf big = BUF_INIT;
    unsigned x = 777;

    /* 12 MiB: the thread starts after the first 4 and fills its buffers many times over. */
    while (big.len < 12u << 20) {
        x = x * 1103515245u + 12345u;
        buf_addf(&big, "%u,name %u,%u\n", (unsigned)big.len, x >> 8, (x >> 16) % 1000);
    }
    unit_path(path, f->dir, "big");
    for (size_t k = 0; k < 2; k++) {
        static const size_t chunks[] = {4093, 65536, 1 << 20};
        struct buf z = BUF_INIT, out = BUF_INIT, input = BUF_INIT;
        struct diag_err err = DIAG_ERR_INIT;
        char want[128];

        compress_file(path, kinds[k], big.data, big.len, &z);
        for (size_t c = 0; c < sizeof(chunks) / sizeof(chunks[0]); c++) {
            buf_reset(&out);
            if (decompress_bytes(f->dir, z.data, z.len, 0, chunks[c], &out, NULL, &err) != 0)
                fail_msg("%s, %zu-byte reads: %s", codec_name(kinds[k]), chunks[c], err.msg);
            assert_int_equal(out.len, big.len);
            assert_memory_equal(out.data, big.data, big.len);
        }

        /* The trailer's checksum, flipped: every byte but the refusal comes first. */
        buf_add(&input, z.data, z.len);
        input.data[input.len - (kinds[k] == CODEC_ZSTD ? 1 : 8)] ^= 0x01;
        buf_reset(&out);
        assert_int_equal(
            decompress_bytes(f->dir, input.data, input.len, 0, 65536, &out, NULL, &err), -1);
        assert_contains(err.msg, kinds[k] == CODEC_ZSTD ? "checksum" : "incorrect data check");

        /* Cut in the middle, and followed by junk. */
        buf_reset(&out);
        assert_int_equal(decompress_bytes(f->dir, z.data, z.len / 2, 0, 65536, &out, NULL, &err),
                         -1);
        snprintf(want, sizeof(want), "%s stream is truncated", codec_name(kinds[k]));
        assert_contains(err.msg, want);
        assert_true(out.len < big.len);
        buf_reset(&input);
        buf_add(&input, z.data, z.len);
        buf_add(&input, "junk", 4);
        buf_reset(&out);
        assert_int_equal(
            decompress_bytes(f->dir, input.data, input.len, 0, 65536, &out, NULL, &err), -1);
        snprintf(want, sizeof(want), "data after the end of the %s stream", codec_name(kinds[k]));
        assert_string_equal(err.msg, want);
        assert_int_equal(out.len, big.len);

        /* The limit, exact and one byte short, counts what the thread made too. */
        buf_reset(&out);
        if (decompress_bytes(f->dir, z.data, z.len, big.len, 65536, &out, NULL, &err) != 0)
            fail_msg("%s at its exact limit: %s", codec_name(kinds[k]), err.msg);
        buf_reset(&out);
        assert_int_equal(
            decompress_bytes(f->dir, z.data, z.len, big.len - 1, 65536, &out, NULL, &err), -1);
        assert_contains(err.msg, "archive holds more data than its manifest allows");
        assert_true(out.len <= big.len - 1);

        /* Freed in the middle of the stream, with the thread running: no hang, no leak. */
        {
            int fd = open(path, O_RDONLY | O_CLOEXEC);
            struct codec_reader *r = codec_reader_open(fd, &err);
            char chunk[65536];
            size_t got = 0;

            assert_non_null(r);
            while (got < (2u << 20)) {
                ssize_t n = codec_reader_read(r, chunk, sizeof(chunk), &err);

                assert_true(n > 0);
                assert_memory_equal(chunk, big.data + got, (size_t)n);
                got += (size_t)n;
            }
            codec_reader_free(r);
            close(fd);
        }
        buf_release(&z);
        buf_release(&out);
        buf_release(&input);
    }
    buf_release(&big);
}

/*
 * The window size and content checksum flag a zstd frame header declares (RFC 8878, 3.1.1.1).
 * Returns the window size, or 0 for a single-segment frame (window = content size).
 */
static unsigned long long
zstd_header_window(const unsigned char *frame, int *checksum)
{
    unsigned char fhd = frame[4];
    unsigned char wd;
    unsigned long long base;

    *checksum = (fhd >> 2) & 1;
    if (fhd & 0x20)
        return 0;
    wd = frame[5];
    base = 1ull << (10 + (wd >> 3));
    return base + base / 8 * (wd & 7);
}

static void
test_codec_writer_is_reproducible(void **state)
{
    struct fixture *f = *state;
    char p1[UNIT_PATH_MAX], p2[UNIT_PATH_MAX];

    unit_path(p1, f->dir, "one");
    unit_path(p2, f->dir, "two");
    for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
        struct buf a = BUF_INIT, b = BUF_INIT;

        compress_file(p1, kinds[k], f->data.data, f->data.len, &a);
        sleep(kinds[k] == CODEC_GZIP ? 1 : 0); /* a timestamp in the header would now differ */
        compress_file(p2, kinds[k], f->data.data, f->data.len, &b);
        assert_int_equal(a.len, b.len);
        assert_memory_equal(a.data, b.data, a.len);
        if (kinds[k] == CODEC_GZIP) {
            /* gzip header: no FNAME or other flags, MTIME zero. */
            assert_memory_equal(a.data, "\x1f\x8b\x08\x00\x00\x00\x00\x00", 8);
        } else if (kinds[k] == CODEC_ZSTD) {
            int checksum;

            assert_memory_equal(a.data, "\x28\xb5\x2f\xfd", 4);
            /* Streamed without a known size, so the header declares the writer's window. */
            assert_int_equal(zstd_header_window((const unsigned char *)a.data, &checksum),
                             1ull << 21);
            assert_int_equal(checksum, 1);
        }
        buf_release(&a);
        buf_release(&b);
    }
}

/* A zstd frame made by libzstd with the given window log and checksum setting. */
static void
zstd_frame(const void *data, size_t len, int window_log, int checksum, struct buf *out)
{
    ZSTD_CCtx *cctx = ZSTD_createCCtx();
    size_t cap = ZSTD_compressBound(len) + 64;
    ZSTD_inBuffer in = {data, len, 0};
    ZSTD_outBuffer ob;
    size_t left;

    assert_non_null(cctx);
    ob.dst = malloc(cap);
    ob.size = cap;
    ob.pos = 0;
    assert_non_null(ob.dst);
    assert_false(ZSTD_isError(ZSTD_CCtx_setParameter(cctx, ZSTD_c_windowLog, window_log)));
    assert_false(ZSTD_isError(ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, checksum)));
    /* Streaming without a pledged size: the header declares the full window. */
    assert_false(ZSTD_isError(ZSTD_compressStream2(cctx, &ob, &in, ZSTD_e_continue)));
    do {
        left = ZSTD_compressStream2(cctx, &ob, &in, ZSTD_e_end);
        assert_false(ZSTD_isError(left));
    } while (left != 0);
    buf_add(out, ob.dst, ob.pos);
    free(ob.dst);
    ZSTD_freeCCtx(cctx);
}

static void
test_codec_refuses_large_zstd_window(void **state)
{
    struct fixture *f = *state;
    struct buf frame = BUF_INIT, out = BUF_INIT;
    struct diag_err err = DIAG_ERR_INIT;
    int checksum;

    /* The largest window the reader accepts... */
    zstd_frame(f->data.data, f->data.len, CODEC_ZSTD_WINDOW_LOG_MAX, 1, &frame);
    assert_int_equal(zstd_header_window((const unsigned char *)frame.data, &checksum),
                     1ull << CODEC_ZSTD_WINDOW_LOG_MAX);
    if (decompress_bytes(f->dir, frame.data, frame.len, 0, 65536, &out, NULL, &err) != 0)
        fail_msg("window 2^%d refused: %s", CODEC_ZSTD_WINDOW_LOG_MAX, err.msg);
    assert_int_equal(out.len, f->data.len);

    /* ...and one twice as large is refused: a verifier must not allocate what a file asks. */
    buf_reset(&frame);
    buf_reset(&out);
    zstd_frame(f->data.data, f->data.len, CODEC_ZSTD_WINDOW_LOG_MAX + 1, 1, &frame);
    assert_int_equal(zstd_header_window((const unsigned char *)frame.data, &checksum),
                     1ull << (CODEC_ZSTD_WINDOW_LOG_MAX + 1));
    assert_int_equal(decompress_bytes(f->dir, frame.data, frame.len, 0, 65536, &out, NULL, &err),
                     -1);
    assert_contains(err.msg, "zstd: ");
    assert_int_equal(out.len, 0);
    buf_release(&frame);
    buf_release(&out);
}

/*
 * Header bits the decoders ignore (gzip: flags FTEXT, mtime, XFL, OS; zstd: the unused bit, a
 * window that is not a power of two) would let a bundle's bytes change without changing what
 * it decodes to: each edit is refused at open, naming the header.
 */
static void
test_codec_refuses_headers_sealift_never_writes(void **state)
{
    static const struct {
        enum codec_kind kind;
        size_t off;
        unsigned char xor_mask;
        const char *expect;
    } cases[] = {
        {CODEC_GZIP, 2, 0x01, "gzip: header: compression method 9 is not deflate"},
        {CODEC_GZIP, 3, 0x01, "gzip: header has flags 0x01"},
        {CODEC_GZIP, 3, 0x08, "gzip: header has flags 0x08 (a name"},
        {CODEC_GZIP, 4, 0x01, "gzip: header has a modification time"},
        {CODEC_GZIP, 7, 0x80, "gzip: header has a modification time"},
        {CODEC_GZIP, 8, 0x01, "gzip: header: extra flags 0x01 and OS 3"},
        {CODEC_GZIP, 9, 0x01, "gzip: header: extra flags 0x00 and OS 2"},
        {CODEC_GZIP, 9, 0xfc, "OS 255"},
        {CODEC_ZSTD, 4, 0x10, "zstd: frame header has reserved or unused bits set"},
        {CODEC_ZSTD, 4, 0x08, "zstd: frame header has reserved or unused bits set"},
        {CODEC_ZSTD, 4, 0x01, "zstd: frame header names a dictionary"},
        {CODEC_ZSTD, 5, 0x01, "zstd: frame header: window size is not a power of two"},
    };
    struct fixture *f = *state;
    char path[UNIT_PATH_MAX];
    struct buf gz = BUF_INIT, zst = BUF_INIT;

    unit_path(path, f->dir, "h");
    compress_file(path, CODEC_GZIP, f->data.data, 10000, &gz);
    compress_file(path, CODEC_ZSTD, f->data.data, 10000, &zst);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct buf *src = cases[i].kind == CODEC_GZIP ? &gz : &zst;
        struct buf bad = BUF_INIT, out = BUF_INIT;
        struct diag_err err = DIAG_ERR_INIT;

        buf_add(&bad, src->data, src->len);
        bad.data[cases[i].off] ^= (char)cases[i].xor_mask;
        if (decompress_bytes(f->dir, bad.data, bad.len, 0, 65536, &out, NULL, &err) != -1)
            fail_msg("case %zu (%s byte %zu ^ 0x%02x) accepted", i, codec_name(cases[i].kind),
                     cases[i].off, cases[i].xor_mask);
        if (strstr(err.msg, cases[i].expect) == NULL)
            fail_msg("case %zu: \"%s\" does not contain \"%s\"", i, err.msg, cases[i].expect);
        assert_int_equal(out.len, 0);
        buf_release(&bad);
        buf_release(&out);
    }
    buf_release(&gz);
    buf_release(&zst);
}

static void
test_codec_reads_zstd_frame_without_checksum(void **state)
{
    static const size_t chunks[] = {1000, 4096, 65536, 131072, 1 << 20};
    struct fixture *f = *state;
    struct buf frame = BUF_INIT;

    /* Frames by other zstd writers may lack the checksum; they are still complete frames. */
    zstd_frame(f->data.data, f->data.len, 20, 0, &frame);
    for (size_t c = 0; c < sizeof(chunks) / sizeof(chunks[0]); c++) {
        struct buf out = BUF_INIT;
        struct diag_err err = DIAG_ERR_INIT;

        if (decompress_bytes(f->dir, frame.data, frame.len, 0, chunks[c], &out, NULL, &err) != 0)
            fail_msg("%zu-byte reads: %s", chunks[c], err.msg);
        assert_int_equal(out.len, f->data.len);
        assert_memory_equal(out.data, f->data.data, f->data.len);
        buf_release(&out);
    }
    buf_release(&frame);
}

static void
test_codec_names(void **state)
{
    static const struct {
        const char *name;
        int ok;
        enum codec_kind kind;
    } cases[] = {
        {"zstd", 1, CODEC_ZSTD}, {"gzip", 1, CODEC_GZIP},  {"none", 1, CODEC_NONE},
        {"ZSTD", 0, CODEC_NONE}, {"gz", 0, CODEC_NONE},    {"xz", 0, CODEC_NONE},
        {"", 0, CODEC_NONE},     {"zstd ", 0, CODEC_NONE},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        enum codec_kind kind = CODEC_NONE;

        assert_int_equal(codec_parse_name(cases[i].name, &kind), cases[i].ok ? 0 : -1);
        if (cases[i].ok) {
            assert_int_equal(kind, cases[i].kind);
            assert_string_equal(codec_name(kind), cases[i].name);
        }
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_codec_round_trip_all_kinds),
        cmocka_unit_test(test_codec_round_trip_small_inputs),
        cmocka_unit_test(test_codec_round_trip_through_pipe),
        cmocka_unit_test(test_codec_reader_detects_kind),
        cmocka_unit_test(test_codec_refuses_data_after_end),
        cmocka_unit_test(test_codec_refuses_truncated),
        cmocka_unit_test(test_codec_refuses_corrupt_checksums),
        cmocka_unit_test(test_codec_limit_refuses_excess),
        cmocka_unit_test(test_codec_large_streams_read_ahead),
        cmocka_unit_test(test_codec_writer_is_reproducible),
        cmocka_unit_test(test_codec_refuses_large_zstd_window),
        cmocka_unit_test(test_codec_reads_zstd_frame_without_checksum),
        cmocka_unit_test(test_codec_refuses_headers_sealift_never_writes),
        cmocka_unit_test(test_codec_names),
    };

    return cmocka_run_group_tests_name("codec", tests, setup_fixture, teardown_fixture);
}
