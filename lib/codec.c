/*
 * codec.c: bounded, strict decompression and reproducible compression (zstd, gzip, none).
 * Layer: lib. The only file that speaks libzstd and zlib (so hash.h's CRC-32 is here too). See
 * codec.h for why this is ours.
 */
#include "sealift/codec.h"
#include "sealift/file.h"
#include "sealift/hash.h"
#include "sealift/readahead.h"
#include "sealift/xalloc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <zlib.h>
/* For ZSTD_createDStream_advanced: the decoder's buffers come from zstd_alloc below. */
#define ZSTD_STATIC_LINKING_ONLY
#include <zstd.h>

#define IN_CHUNK           (128 * 1024)
#define ZSTD_LEVEL         3
#define ZSTD_WRITER_WINDOW 21
/*
 * Compression in jobs of 1 MiB on two threads of zstd's own: a large bundle compresses in
 * parallel. The bytes depend on the job size, never on the threads or the machine's cores
 * (zstd's multi-threaded output is deterministic), so bundles stay reproducible everywhere.
 */
#define ZSTD_WRITER_THREADS 2
#define ZSTD_WRITER_JOB     (1 << 20)
#define GZIP_LEVEL          6
/* Bytes read before deciding the compression: the longest zstd frame header is 18. */
#define CODEC_HEADER_PEEK 18
/*
 * Decompressed bytes after which decompression moves to a thread of its own (readahead.h):
 * past the size of a bundle of small scripts, which never pays for starting a thread, and far
 * below that of a data load, whose reader hashes one buffer while the next is decompressed.
 * A bundle of 1,000 small migrations is 3.2 MB of tar (a 512-byte header and a padded block
 * each): at 1 MiB its verification started the thread and cost more CPU and more wall time
 * (perf stat, 5 x 20 runs alternated: 16.9 against 14.3 ms CPU, median).
 */
#define CODEC_READAHEAD_AFTER (4u << 20)

static const unsigned char ZSTD_MAGIC[4] = {0x28, 0xb5, 0x2f, 0xfd};
static const unsigned char GZIP_MAGIC[2] = {0x1f, 0x8b};

int
codec_parse_name(const char *name, enum codec_kind *out)
{
    if (strcmp(name, "zstd") == 0)
        *out = CODEC_ZSTD;
    else if (strcmp(name, "gzip") == 0)
        *out = CODEC_GZIP;
    else if (strcmp(name, "none") == 0)
        *out = CODEC_NONE;
    else
        return -1;
    return 0;
}

const char *
codec_name(enum codec_kind kind)
{
    switch (kind) {
    case CODEC_ZSTD:
        return "zstd";
    case CODEC_GZIP:
        return "gzip";
    case CODEC_NONE:
        break;
    }
    return "none";
}

/* ---- reader ---- */

struct codec_reader {
    int fd;
    enum codec_kind kind;
    unsigned char *in;
    size_t in_pos;
    size_t in_len;
    int in_eof;
    int stream_done;
    uint64_t total_in;
    uint64_t total_out;
    uint64_t limit;
    ZSTD_DStream *zd;
    z_stream zs;
    int zs_ready;
    /* Once started, the thread alone decompresses: the fields above are its own. */
    struct readahead *ra;
    int ra_tried;
};

/*
 * The zstd decoder's window (2 MiB for a bundle) is its one large allocation, and all of it is
 * written before a bundle of a few MiB is read: faulted in 4 KiB page by page it cost more than
 * the decompression. Allocations of 1 MiB and more are mapped on their own and marked for
 * transparent huge pages where the system has them (a hint: without them, the same pages as
 * before). Every block starts with a header holding its size, so zstd_free knows which it is.
 */
#define ZSTD_BIG_ALLOC (1u << 20)
#define HUGE_PAGE      (2u << 20)
#define ALLOC_HEAD     64 /* keeps zstd's alignment */

static void *
zstd_alloc(void *opaque, size_t size)
{
    unsigned char *p;
    size_t total = size + ALLOC_HEAD;

    (void)opaque;
    if (size < ZSTD_BIG_ALLOC) {
        p = malloc(total);
        if (p == NULL)
            return NULL;
    } else {
        total = (total + HUGE_PAGE - 1) / HUGE_PAGE * HUGE_PAGE;
        p = mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED)
            return NULL;
#ifdef MADV_HUGEPAGE
        (void)madvise(p, total, MADV_HUGEPAGE);
#endif
    }
    memcpy(p, &total, sizeof(total));
    return p + ALLOC_HEAD;
}

static void
zstd_free(void *opaque, void *address)
{
    unsigned char *p = address;
    size_t total;

    (void)opaque;
    if (p == NULL)
        return;
    p -= ALLOC_HEAD;
    memcpy(&total, p, sizeof(total));
    if (total - ALLOC_HEAD < ZSTD_BIG_ALLOC)
        free(p);
    else
        munmap(p, total);
}

static const ZSTD_customMem zstd_mem = {zstd_alloc, zstd_free, NULL};

/* Refill the input buffer when it is empty. Returns 0, or -1 on a read error. */
static int
fill_input(struct codec_reader *r, struct diag_err *err)
{
    ssize_t n;

    if (r->in_pos < r->in_len || r->in_eof)
        return 0;
    for (;;) {
        n = read(r->fd, r->in, IN_CHUNK);
        if (n >= 0)
            break;
        if (errno != EINTR)
            return err_set(err, "read error: %s", strerror(errno));
    }
    r->in_pos = 0;
    r->in_len = (size_t)n;
    r->total_in += (uint64_t)n;
    if (n == 0)
        r->in_eof = 1;
    return 0;
}

/*
 * The frame header sealift writes, and nothing looser: the decoders ignore some header bits
 * (zstd's unused bit, a fractional window; gzip's mtime, flags FTEXT, XFL and OS), so a bundle
 * whose header bits changed would otherwise decode to the same bytes and be accepted.
 */
static int
check_zstd_header(const struct codec_reader *r, struct diag_err *err)
{
    unsigned char fhd;

    if (r->in_len < 6)
        return err_set(err, "zstd stream is truncated (in its frame header)");
    fhd = r->in[4];
    if (fhd & 0x18)
        return err_set(err, "zstd: frame header has reserved or unused bits set");
    if (fhd & 0x03)
        return err_set(err, "zstd: frame header names a dictionary (sealift uses none)");
    /* Without the single-segment flag a window descriptor follows: a power of two only. */
    if (!(fhd & 0x20) && (r->in[5] & 0x07))
        return err_set(err, "zstd: frame header: window size is not a power of two");
    return 0;
}

static int
check_gzip_header(const struct codec_reader *r, struct diag_err *err)
{
    const unsigned char *h = r->in;

    if (r->in_len < 10)
        return err_set(err, "gzip stream is truncated (in its header)");
    if (h[2] != 8)
        return err_set(err, "gzip: header: compression method %u is not deflate", h[2]);
    if (h[3] != 0)
        return err_set(err,
                       "gzip: header has flags 0x%02x (a name, comment, extra field or "
                       "header CRC), which sealift never writes",
                       h[3]);
    if (h[4] || h[5] || h[6] || h[7])
        return err_set(err, "gzip: header has a modification time; sealift writes 0");
    if ((h[8] != 0 && h[8] != 2 && h[8] != 4) || h[9] != 3)
        return err_set(err,
                       "gzip: header: extra flags 0x%02x and OS %u are not what sealift "
                       "writes (0, 2 or 4, and 3)",
                       h[8], h[9]);
    return 0;
}

struct codec_reader *
codec_reader_open(int fd, struct diag_err *err)
{
    struct codec_reader *r = xcalloc(1, sizeof(*r));

    r->fd = fd;
    r->in = xmalloc(IN_CHUNK);
    /* Read enough to see the magic bytes and the header (short reads happen on pipes). */
    while (r->in_len < CODEC_HEADER_PEEK && !r->in_eof) {
        ssize_t n = read(fd, r->in + r->in_len, IN_CHUNK - r->in_len);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            err_set(err, "read error: %s", strerror(errno));
            codec_reader_free(r);
            return NULL;
        }
        if (n == 0)
            r->in_eof = 1;
        r->in_len += (size_t)n;
        r->total_in += (uint64_t)n;
    }
    if (r->in_len >= 4 && memcmp(r->in, ZSTD_MAGIC, 4) == 0) {
        r->kind = CODEC_ZSTD;
        if (check_zstd_header(r, err) != 0) {
            codec_reader_free(r);
            return NULL;
        }
        r->zd = ZSTD_createDStream_advanced(zstd_mem);
        if (r->zd == NULL || ZSTD_isError(ZSTD_DCtx_setParameter(r->zd, ZSTD_d_windowLogMax,
                                                                 CODEC_ZSTD_WINDOW_LOG_MAX))) {
            err_set(err, "could not set up zstd decompression");
            codec_reader_free(r);
            return NULL;
        }
    } else if (r->in_len >= 2 && memcmp(r->in, GZIP_MAGIC, 2) == 0) {
        r->kind = CODEC_GZIP;
        if (check_gzip_header(r, err) != 0) {
            codec_reader_free(r);
            return NULL;
        }
        /* 16 + MAX_WBITS: gzip wrapper only, no zlib or raw deflate. */
        if (inflateInit2(&r->zs, 16 + MAX_WBITS) != Z_OK) {
            err_set(err, "could not set up gzip decompression");
            codec_reader_free(r);
            return NULL;
        }
        r->zs_ready = 1;
    } else {
        r->kind = CODEC_NONE;
    }
    return r;
}

enum codec_kind
codec_reader_kind(const struct codec_reader *r)
{
    return r->kind;
}

void
codec_reader_set_limit(struct codec_reader *r, uint64_t max)
{
    r->limit = max;
}

uint64_t
codec_reader_total_out(const struct codec_reader *r)
{
    return r->total_out;
}

uint64_t
codec_reader_total_in(const struct codec_reader *r)
{
    return r->total_in;
}

/* After the compressed stream ended, nothing may follow it in the file. */
static int
check_nothing_after(struct codec_reader *r, struct diag_err *err)
{
    if (fill_input(r, err) != 0)
        return -1;
    if (r->in_pos < r->in_len)
        return err_set(err, "data after the end of the %s stream", codec_name(r->kind));
    return 0;
}

static ssize_t
read_zstd(struct codec_reader *r, void *buf, size_t len, struct diag_err *err)
{
    ZSTD_outBuffer out = {buf, len, 0};

    while (out.pos == 0) {
        ZSTD_inBuffer in;
        size_t ret;

        if (r->stream_done)
            return check_nothing_after(r, err) == 0 ? 0 : -1;
        if (fill_input(r, err) != 0)
            return -1;
        if (r->in_eof && r->in_pos >= r->in_len)
            return err_set(err, "zstd stream is truncated");
        in.src = r->in;
        in.size = r->in_len;
        in.pos = r->in_pos;
        ret = ZSTD_decompressStream(r->zd, &out, &in);
        r->in_pos = in.pos;
        if (ZSTD_isError(ret))
            return err_set(err, "zstd: %s", ZSTD_getErrorName(ret));
        if (ret == 0)
            r->stream_done = 1; /* one frame, fully decoded and flushed */
    }
    return (ssize_t)out.pos;
}

static ssize_t
read_gzip(struct codec_reader *r, void *buf, size_t len, struct diag_err *err)
{
    if (len > UINT32_MAX)
        len = UINT32_MAX;
    r->zs.next_out = buf;
    r->zs.avail_out = (uInt)len;
    while (r->zs.avail_out == len) {
        int ret;

        if (r->stream_done)
            return check_nothing_after(r, err) == 0 ? 0 : -1;
        if (fill_input(r, err) != 0)
            return -1;
        if (r->in_eof && r->in_pos >= r->in_len)
            return err_set(err, "gzip stream is truncated");
        r->zs.next_in = r->in + r->in_pos;
        r->zs.avail_in = (uInt)(r->in_len - r->in_pos);
        ret = inflate(&r->zs, Z_NO_FLUSH);
        r->in_pos = r->in_len - r->zs.avail_in;
        if (ret == Z_STREAM_END)
            r->stream_done = 1;
        else if (ret != Z_OK && ret != Z_BUF_ERROR)
            return err_set(err, "gzip: %s", r->zs.msg ? r->zs.msg : "corrupt data");
    }
    return (ssize_t)(len - r->zs.avail_out);
}

static ssize_t
read_none(struct codec_reader *r, void *buf, size_t len, struct diag_err *err)
{
    size_t n;

    if (fill_input(r, err) != 0)
        return -1;
    n = r->in_len - r->in_pos;
    if (n > len)
        n = len;
    memcpy(buf, r->in + r->in_pos, n);
    r->in_pos += n;
    return (ssize_t)n;
}

/* The next decompressed bytes, without the limit (which the caller's side applies). */
static ssize_t
decode(void *arg, void *buf, size_t len, struct diag_err *err)
{
    struct codec_reader *r = arg;

    switch (r->kind) {
    case CODEC_ZSTD:
        return read_zstd(r, buf, len, err);
    case CODEC_GZIP:
        return read_gzip(r, buf, len, err);
    default:
        return read_none(r, buf, len, err);
    }
}

ssize_t
codec_reader_read(struct codec_reader *r, void *buf, size_t len, struct diag_err *err)
{
    ssize_t n;

    if (len == 0)
        return 0;
    if (r->limit && len > r->limit - r->total_out + 1)
        len = (size_t)(r->limit - r->total_out + 1); /* one byte past the limit proves excess */
    /* Uncompressed input is only copied: no work a thread would take off this one. */
    if (!r->ra_tried && r->kind != CODEC_NONE && r->total_out >= CODEC_READAHEAD_AFTER) {
        r->ra_tried = 1;
        r->ra = readahead_start(decode, r);
    }
    n = r->ra ? readahead_read(r->ra, buf, len, err) : decode(r, buf, len, err);
    if (n > 0) {
        r->total_out += (uint64_t)n;
        if (r->limit && r->total_out > r->limit)
            return err_set(err,
                           "archive holds more data than its manifest allows "
                           "(more than %llu bytes uncompressed)",
                           (unsigned long long)r->limit);
    }
    return n;
}

void
codec_reader_free(struct codec_reader *r)
{
    if (r == NULL)
        return;
    readahead_stop(r->ra);
    if (r->zd)
        ZSTD_freeDStream(r->zd);
    if (r->zs_ready)
        inflateEnd(&r->zs);
    free(r->in);
    free(r);
}

/* ---- writer ---- */

struct codec_writer {
    int fd;
    enum codec_kind kind;
    unsigned char *out;
    ZSTD_CStream *zc;
    z_stream zs;
    int zs_ready;
};

static int
write_all(int fd, const void *data, size_t len, struct diag_err *err)
{
    if (file_write_all(fd, data, len) != 0)
        return err_set(err, "write error: %s", strerror(errno));
    return 0;
}

struct codec_writer *
codec_writer_open(int fd, enum codec_kind kind, struct diag_err *err)
{
    struct codec_writer *w = xcalloc(1, sizeof(*w));

    w->fd = fd;
    w->kind = kind;
    w->out = xmalloc(IN_CHUNK);
    if (kind == CODEC_ZSTD) {
        w->zc = ZSTD_createCStream();
        /* Every parameter fixed: the output must not depend on the zstd defaults of the day. */
        if (w->zc == NULL ||
            ZSTD_isError(ZSTD_CCtx_setParameter(w->zc, ZSTD_c_compressionLevel, ZSTD_LEVEL)) ||
            ZSTD_isError(ZSTD_CCtx_setParameter(w->zc, ZSTD_c_windowLog, ZSTD_WRITER_WINDOW)) ||
            ZSTD_isError(ZSTD_CCtx_setParameter(w->zc, ZSTD_c_checksumFlag, 1)) ||
            ZSTD_isError(ZSTD_CCtx_setParameter(w->zc, ZSTD_c_nbWorkers, ZSTD_WRITER_THREADS)) ||
            ZSTD_isError(ZSTD_CCtx_setParameter(w->zc, ZSTD_c_jobSize, ZSTD_WRITER_JOB))) {
            err_set(err, "could not set up zstd compression");
            codec_writer_free(w);
            return NULL;
        }
    } else if (kind == CODEC_GZIP) {
        /* zlib writes a gzip header with mtime 0 and no name: reproducible. */
        if (deflateInit2(&w->zs, GZIP_LEVEL, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) !=
            Z_OK) {
            err_set(err, "could not set up gzip compression");
            codec_writer_free(w);
            return NULL;
        }
        w->zs_ready = 1;
    }
    return w;
}

static int
zstd_pump(struct codec_writer *w, const void *data, size_t len, ZSTD_EndDirective mode,
          struct diag_err *err)
{
    ZSTD_inBuffer in = {data, len, 0};

    for (;;) {
        ZSTD_outBuffer out = {w->out, IN_CHUNK, 0};
        size_t left = ZSTD_compressStream2(w->zc, &out, &in, mode);

        if (ZSTD_isError(left))
            return err_set(err, "zstd: %s", ZSTD_getErrorName(left));
        if (write_all(w->fd, w->out, out.pos, err) != 0)
            return -1;
        if (mode == ZSTD_e_continue ? in.pos == in.size : left == 0)
            return 0;
    }
}

static int
gzip_pump(struct codec_writer *w, const void *data, size_t len, int flush, struct diag_err *err)
{
    w->zs.next_in = (Bytef *)(uintptr_t)data;
    w->zs.avail_in = (uInt)len;
    for (;;) {
        int ret;

        w->zs.next_out = w->out;
        w->zs.avail_out = IN_CHUNK;
        ret = deflate(&w->zs, flush);
        if (ret == Z_STREAM_ERROR)
            return err_set(err, "gzip: compression failed");
        if (write_all(w->fd, w->out, IN_CHUNK - w->zs.avail_out, err) != 0)
            return -1;
        if (flush == Z_FINISH ? ret == Z_STREAM_END : (w->zs.avail_in == 0 && w->zs.avail_out != 0))
            return 0;
    }
}

int
codec_writer_write(struct codec_writer *w, const void *data, size_t len, struct diag_err *err)
{
    switch (w->kind) {
    case CODEC_ZSTD:
        return zstd_pump(w, data, len, ZSTD_e_continue, err);
    case CODEC_GZIP:
        while (len > 0) {
            size_t n = len > UINT32_MAX ? UINT32_MAX : len;

            if (gzip_pump(w, data, n, Z_NO_FLUSH, err) != 0)
                return -1;
            data = (const char *)data + n;
            len -= n;
        }
        return 0;
    case CODEC_NONE:
        break;
    }
    return write_all(w->fd, data, len, err);
}

int
codec_writer_finish(struct codec_writer *w, struct diag_err *err)
{
    int ret = 0;

    if (w->kind == CODEC_ZSTD)
        ret = zstd_pump(w, "", 0, ZSTD_e_end, err);
    else if (w->kind == CODEC_GZIP)
        ret = gzip_pump(w, "", 0, Z_FINISH, err);
    codec_writer_free(w);
    return ret;
}

void
codec_writer_free(struct codec_writer *w)
{
    if (w == NULL)
        return;
    if (w->zc)
        ZSTD_freeCStream(w->zc);
    if (w->zs_ready)
        deflateEnd(&w->zs);
    free(w->out);
    free(w);
}

/* hash.h's CRC-32: here because this is the file that speaks zlib. */
unsigned long
hash_crc32(unsigned long crc, const void *data, size_t len)
{
    const unsigned char *p = data;

    while (len > 0) {
        uInt n = len > UINT32_MAX ? UINT32_MAX : (uInt)len;

        crc = crc32(crc, p, n);
        p += n;
        len -= n;
    }
    return crc;
}

struct codec_zstd_stream {
    ZSTD_CCtx *cc;
    struct buf *out;
    size_t start;  /* where the frame begins in out */
    uint64_t size; /* bytes taken so far */
};

struct codec_zstd_stream *
codec_zstd_stream_open(struct buf *out, struct diag_err *err)
{
    struct codec_zstd_stream *z = xcalloc(1, sizeof(*z));

    z->cc = ZSTD_createCCtx();
    z->out = out;
    z->start = out->len;
    if (z->cc == NULL ||
        ZSTD_isError(ZSTD_CCtx_setParameter(z->cc, ZSTD_c_compressionLevel, ZSTD_LEVEL))) {
        codec_zstd_stream_free(z);
        err_set(err, "could not start compressing");
        return NULL;
    }
    return z;
}

/* Compress in (all of it, or with end the rest of the frame) onto the end of out. */
static int
zstd_stream_run(struct codec_zstd_stream *z, const void *data, size_t len, ZSTD_EndDirective end,
                struct diag_err *err)
{
    ZSTD_inBuffer in = {data, len, 0};
    struct buf *out = z->out;
    size_t left;

    do {
        ZSTD_outBuffer o;

        buf_grow(out, ZSTD_CStreamOutSize());
        o = (ZSTD_outBuffer){out->data + out->len, out->cap - out->len - 1, 0};
        left = ZSTD_compressStream2(z->cc, &o, &in, end);
        if (ZSTD_isError(left))
            return err_set(err, "could not compress: %s", ZSTD_getErrorName(left));
        out->len += o.pos;
        out->data[out->len] = '\0';
    } while (end == ZSTD_e_end ? left != 0 : in.pos < in.size);
    return 0;
}

int
codec_zstd_stream_add(struct codec_zstd_stream *z, const void *data, size_t len,
                      struct diag_err *err)
{
    z->size += len;
    return len ? zstd_stream_run(z, data, len, ZSTD_e_continue, err) : 0;
}

/*
 * Put the content size into the header of the frame at out[start...]: a frame compressed
 * before its size was known has a window descriptor and no size field (RFC 8878, 3.1.1.1).
 * The blocks do not depend on the header, so the field is inserted (8 bytes, flag 3) after the
 * window descriptor and dictionary id, and the header's flags byte says so.
 */
static int
frame_add_size(struct buf *out, size_t start, uint64_t size, struct diag_err *err)
{
    static const size_t did_bytes[4] = {0, 1, 2, 4};
    unsigned char *f = (unsigned char *)out->data + start;
    size_t at;

    if (out->len - start < 6)
        return err_set(err, "could not compress: a frame without a header");
    /* Told the size some other way (a frame of one call): nothing to add. */
    if ((f[4] & 0xE0) == 0) {
        at = start + 6 + did_bytes[f[4] & 3];
        buf_grow(out, 8);
        memmove(out->data + at + 8, out->data + at, out->len - at);
        for (int i = 0; i < 8; i++)
            out->data[at + (size_t)i] = (char)(unsigned char)(size >> (8 * i));
        out->data[start + 4] = (char)(unsigned char)((unsigned char)out->data[start + 4] | 0xC0);
        out->len += 8;
        out->data[out->len] = '\0';
    }
    if (ZSTD_getFrameContentSize(out->data + start, out->len - start) != size)
        return err_set(err, "could not compress: the frame does not record its size");
    return 0;
}

int
codec_zstd_stream_finish(struct codec_zstd_stream *z, struct diag_err *err)
{
    if (zstd_stream_run(z, NULL, 0, ZSTD_e_end, err) != 0)
        return -1;
    return frame_add_size(z->out, z->start, z->size, err);
}

void
codec_zstd_stream_free(struct codec_zstd_stream *z)
{
    if (z == NULL)
        return;
    ZSTD_freeCCtx(z->cc);
    free(z);
}

int
codec_zstd_compress(const void *data, size_t len, struct buf *out, struct diag_err *err)
{
    struct codec_zstd_stream *z = codec_zstd_stream_open(out, err);
    int ret;

    if (z == NULL)
        return -1;
    ret = codec_zstd_stream_add(z, data, len, err) != 0 ? -1 : codec_zstd_stream_finish(z, err);
    codec_zstd_stream_free(z);
    return ret;
}

int
codec_zstd_decompress(const void *data, size_t len, size_t max, struct buf *out,
                      struct diag_err *err)
{
    unsigned long long size = ZSTD_getFrameContentSize(data, len);
    size_t frame = ZSTD_findFrameCompressedSize(data, len), n;

    if (size == ZSTD_CONTENTSIZE_ERROR || ZSTD_isError(frame))
        return err_set(err, "not a zstd frame");
    if (size == ZSTD_CONTENTSIZE_UNKNOWN)
        return err_set(err, "the zstd frame does not record its size");
    if (frame != len)
        return err_set(err, "%zu bytes after the zstd frame", len - frame);
    if (size > max)
        return err_set(err, "the zstd frame holds %llu bytes, more than the limit of %zu", size,
                       max);
    buf_grow(out, (size_t)size);
    n = ZSTD_decompress(out->data + out->len, (size_t)size, data, len);
    if (ZSTD_isError(n) || n != size)
        return err_set(err, "corrupt zstd frame: %s",
                       ZSTD_isError(n) ? ZSTD_getErrorName(n) : "short content");
    out->len += n;
    out->data[out->len] = '\0';
    return 0;
}
