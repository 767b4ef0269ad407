/*
 * bundle.c: strict, streaming reading of bundle archives.
 * Layer: lib. The reader is ours, not libarchive's: a bundle is plain ustar and nothing else
 * (FORMAT.md 1.2), which a verifier must check byte by byte anyway, and libarchive's general
 * reader cost more than the rest of verification (wide-character name conversion, a second
 * header checksum, a copy of every byte). Writing (bundle_write.c) still uses libarchive;
 * compression is codec.c's job.
 */
#include "sealift/bundle.h"
#include "sealift/file.h"
#include "sealift/memberpath.h"
#include "sealift/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Decompressed bytes per refill: small enough that its pages are few, large enough for speed. */
#define READ_CHUNK (64 * 1024)

/* ---- reader ---- */

#define TAR_BLOCK  512
#define TAR_RECORD 10240

/*
 * Every byte of the stream is accounted for: each header must be exactly a plain ustar
 * regular-file header as FORMAT.md 1.2 describes it (no pax, GNU or sparse headers, typeflag
 * '0', no prefix, octal fields, checksum field in its canonical form, nothing hidden in unused
 * fields), every padding byte is zero, and the stream ends with the end-of-archive marker and
 * zero padding to exactly one 10240-byte record. Anything else would let bytes of a bundle
 * change without the bundle being refused.
 */
struct bundle_reader {
    int fd;
    uint64_t file_size;
    struct codec_reader *codec;
    unsigned char *chunk;
    size_t cpos, clen; /* unread bytes of chunk */
    int eof;           /* the decompressed stream has ended */
    uint64_t pos;      /* stream offset of chunk[cpos] */
    unsigned char hdr[TAR_BLOCK];
    uint64_t hdr_pos;          /* offset of the last header read */
    uint64_t tail_start;       /* offset of the end-of-archive marker */
    char name[101];            /* of the last member, printable, for messages */
    uint64_t entry_left;       /* data bytes of the current member not yet read */
    uint64_t pad_left;         /* its padding, not yet checked */
    struct bundle_entry first; /* read by bundle_reader_open */
    int pending;               /* 2: first waits to be returned; 1: the archive is empty */
    int at_eof;
    int failed; /* an error was reported: it is reported again */
    struct diag_err fail;
};

/* A ustar numeric field: octal digits, then only NUL or space. Returns 0 with *out, or -1. */
static int
frame_octal(const unsigned char *f, size_t len, uint64_t *out)
{
    size_t i = 0;
    uint64_t v = 0;

    for (; i < len && f[i] >= '0' && f[i] <= '7'; i++)
        v = v * 8 + (uint64_t)(f[i] - '0');
    if (i == 0)
        return -1;
    for (; i < len; i++)
        if (f[i] != '\0' && f[i] != ' ')
            return -1;
    *out = v;
    return 0;
}

static const char *
frame_typeflag_problem(unsigned char t)
{
    switch (t) {
    case '0':
        return NULL;
    case '1':
        return "hard links are not allowed";
    case '2':
        return "symbolic links are not allowed";
    case '3':
    case '4':
        return "device files are not allowed (not a regular file)";
    case '5':
        return "directories are not allowed (not a regular file)";
    case '6':
        return "FIFOs are not allowed (not a regular file)";
    case 'x':
    case 'g':
    case 'X':
        return "not a plain ustar header (pax extension header)";
    case 'L':
    case 'K':
        return "not a plain ustar header (GNU long-name extension header)";
    case 'S':
        return "sparse entries are not allowed (GNU sparse header)";
    default:
        return "typeflag is not '0' (a plain regular file)";
    }
}

/* A block of zeros to compare padding and headers with (memcmp beats a byte loop). */
static const unsigned char zero_block[TAR_BLOCK];

/* Are bytes [from, to) of a header all zero? (memcmp: a byte loop was a visible cost.) */
static int
frame_zero(const unsigned char *h, size_t from, size_t to)
{
    return memcmp(h + from, zero_block, to - from) == 0;
}

/*
 * The ustar checksum: the sum of the header's bytes, its own field counted as spaces. Summed
 * eight bytes at a time (two bytes to a 16-bit lane: 64 words of at most 2 x 255 each stay
 * below 65,536), then its own field's eight bytes taken back out: the byte loop was one
 * verification's largest cost after hashing and decompression, on a bundle of small members.
 */
static unsigned
frame_checksum(const unsigned char *h)
{
    const uint64_t low = 0x00FF00FF00FF00FFull;
    uint64_t lanes = 0;
    unsigned sum;

    for (size_t i = 0; i < TAR_BLOCK; i += 8) {
        uint64_t w;

        memcpy(&w, h + i, sizeof(w));
        lanes += (w & low) + ((w >> 8) & low);
    }
    sum = (unsigned)((lanes & 0xFFFF) + ((lanes >> 16) & 0xFFFF) + ((lanes >> 32) & 0xFFFF) +
                     (lanes >> 48));
    for (size_t i = 148; i < 156; i++)
        sum -= h[i];
    return sum + 8 * ' ';
}

/*
 * The checks libarchive made before ours, with its messages ("member "NAME": ..."), so that a
 * link, a device or an unsafe name is named as such: NULL, or the problem.
 */
static const char *
member_problem(const char *raw, unsigned char typeflag)
{
    if (!memberpath_valid(raw, BUNDLE_MAX_NAME))
        return "unsafe or non-canonical name";
    switch (typeflag) {
    case '1':
        return "hard links are not allowed";
    case '2':
        return "symbolic links are not allowed";
    case '3':
    case '4':
    case '5':
    case '6':
        return "not a regular file";
    case 'S':
        return "sparse entries are not allowed";
    default:
        return NULL;
    }
}

/* A numeric field read leniently (it is not one whose form is checked): octal, spaces before. */
static int64_t
header_number(const unsigned char *f, size_t len)
{
    size_t i = 0;
    int64_t v = 0;

    while (i < len && f[i] == ' ')
        i++;
    for (; i < len && f[i] >= '0' && f[i] <= '7' && v < (INT64_MAX >> 3); i++)
        v = v * 8 + (f[i] - '0');
    return v;
}

/* Check one complete, non-zero header block at r->hdr; fill e. Returns 0, or -1 with err. */
static int
read_header_check(struct bundle_reader *r, struct bundle_entry *e, struct diag_err *err)
{
    const unsigned char *h = r->hdr;
    unsigned sum;
    uint64_t chk, size, mode, id;
    const char *problem = NULL;
    size_t n;

    n = strnlen((const char *)h, 100);
    memcpy(r->name, h, n);
    r->name[n] = '\0';
    for (size_t i = 0; i < n; i++)
        if (r->name[i] < 0x20 || r->name[i] > 0x7e)
            r->name[i] = '?';
    if (r->hdr_pos == 0 && memcmp(h + 257, "ustar", 5) != 0)
        return err_set(err, "unrecognized format: not zstd, gzip or a ustar archive");
    sum = frame_checksum(h);
    /* Six octal digits, NUL, space: the checksum does not cover its own field. */
    for (size_t i = 148; i < 154 && !problem; i++)
        if (h[i] < '0' || h[i] > '7')
            problem = "damaged header (checksum field)";
    if (!problem && (h[154] != '\0' || h[155] != ' '))
        problem = "damaged header (checksum field)";
    if (!problem && (frame_octal(h + 148, 6, &chk) != 0 || chk != sum))
        problem = "damaged header (checksum does not match)";
    /* Extension headers and other formats first: their names are not members' names. */
    if (!problem && strchr("xgXLK", h[156]) && h[156] != '\0')
        problem = frame_typeflag_problem(h[156]);
    if (!problem && (memcmp(h + 257, "ustar\0", 6) != 0 || memcmp(h + 263, "00", 2) != 0))
        problem = "not a plain ustar header (magic)";
    if (!problem && n < 100) {
        const char *mp = member_problem((const char *)h, h[156]);

        if (mp)
            return err_set(err, "member \"%s\": %s", r->name, mp);
    }
    if (!problem)
        problem = frame_typeflag_problem(h[156]);
    if (!problem && n == 100)
        problem = "unsafe or non-canonical name (no NUL in the name field)";
    if (!problem && h[157] != '\0')
        problem = "hard or symbolic link target set (not a regular file)";
    if (!problem && h[345] != '\0')
        problem = "unsafe or non-canonical name (prefix field is not empty)";
    if (!problem && frame_octal(h + 124, 12, &size) != 0)
        problem = "size field is not octal (base-256 or damaged)";
    if (!problem && (frame_octal(h + 100, 8, &mode) != 0 || mode != 0644))
        problem = "mode is not 0644";
    if (!problem && (frame_octal(h + 108, 8, &id) != 0 || id != 0 ||
                     frame_octal(h + 116, 8, &id) != 0 || id != 0))
        problem = "owner is not uid 0, gid 0";
    /*
     * Nothing hides after the name's NUL, in the link name, the prefix or the header's pad,
     * which readers skip. (mtime, user and group names and device numbers are left alone: a
     * change there is covered by the checksum, and changes nothing a reader or tar -x uses.)
     */
    if (!problem &&
        (!frame_zero(h, n, 100) || !frame_zero(h, 157, 257) || !frame_zero(h, 345, 512)))
        problem = "bytes after the name, or in the link name, prefix or pad fields";
    if (problem)
        return err_set(err, "tar header at offset %llu (member \"%s\"): %s",
                       (unsigned long long)r->hdr_pos, r->name, problem);
    memcpy(e->name, h, n + 1);
    e->size = size;
    e->mtime = header_number(h + 136, 12);
    r->entry_left = size;
    r->pad_left = (TAR_BLOCK - size % TAR_BLOCK) % TAR_BLOCK;
    return 0;
}

/* Where the stream must end: the end-of-archive marker, padded to a whole record. */
static uint64_t
tail_end(const struct bundle_reader *r)
{
    return (r->tail_start + 2 * TAR_BLOCK + TAR_RECORD - 1) / TAR_RECORD * TAR_RECORD;
}

/*
 * How many leading bytes of p are zero, in block-sized memcmp steps: with small members,
 * padding is most of a bundle's bytes, and a byte loop over it was a tenth of verify's time.
 */
static size_t
zero_prefix(const unsigned char *p, size_t len)
{
    size_t done = 0;

    while (len - done >= TAR_BLOCK && memcmp(p + done, zero_block, TAR_BLOCK) == 0)
        done += TAR_BLOCK;
    if (len - done < TAR_BLOCK && memcmp(p + done, zero_block, len - done) == 0)
        done = len;
    return done;
}

/* The offset of the first non-zero byte of p, or len. */
static size_t
first_nonzero(const unsigned char *p, size_t len)
{
    size_t i = zero_prefix(p, len);

    while (i < len && p[i] == 0)
        i++;
    return i;
}

/* Unread bytes in the chunk: 1, 0 at the end of the stream, -1 with err. */
static int
fill(struct bundle_reader *r, struct diag_err *err)
{
    ssize_t n;

    if (r->cpos < r->clen)
        return 1;
    if (r->eof)
        return 0;
    n = codec_reader_read(r->codec, r->chunk, READ_CHUNK, err);
    if (n < 0)
        return -1;
    r->cpos = 0;
    r->clen = (size_t)n;
    if (n == 0)
        r->eof = 1;
    return n > 0;
}

static void
take(struct bundle_reader *r, size_t n)
{
    r->cpos += n;
    r->pos += n;
}

/* Check the padding after the current member's data. */
static int
skip_padding(struct bundle_reader *r, struct diag_err *err)
{
    while (r->pad_left > 0) {
        size_t avail, n, z;
        int got = fill(r, err);

        if (got < 0)
            return -1;
        if (got == 0)
            return err_set(err, "the archive is truncated (it ends inside a member's data)");
        avail = r->clen - r->cpos;
        n = r->pad_left < avail ? (size_t)r->pad_left : avail;
        z = first_nonzero(r->chunk + r->cpos, n);
        if (z < n)
            return err_set(err, "non-zero byte in the padding after member \"%s\" (offset %llu)",
                           r->name, (unsigned long long)(r->pos + z));
        take(r, n);
        r->pad_left -= n;
    }
    return 0;
}

/* After the first zero block: the rest of the marker and the record's padding, then nothing. */
static int
read_tail(struct bundle_reader *r, struct diag_err *err)
{
    int got;

    while ((got = fill(r, err)) > 0) {
        size_t n = r->clen - r->cpos, z = first_nonzero(r->chunk + r->cpos, n);

        if (z < n)
            return err_set(err, "data after the end of the archive (non-zero byte at offset %llu)",
                           (unsigned long long)(r->pos + z));
        /* Zeros too: no bomb of zeros after the marker. */
        if (r->pos + n > tail_end(r))
            return err_set(err,
                           "data after the end of the archive (more than the end-of-archive "
                           "marker and its %d-byte record)",
                           TAR_RECORD);
        take(r, n);
    }
    if (got < 0)
        return -1;
    if (r->pos < r->tail_start + 2 * TAR_BLOCK)
        return err_set(err, "the archive ends without its end-of-archive marker (one zero block "
                            "of two)");
    if (r->pos < tail_end(r))
        return err_set(err, "the archive is truncated (its last %d-byte record is incomplete)",
                       TAR_RECORD);
    return 0;
}

/* The next header: 1 with e filled, 0 at the (checked) end of the archive, -1 with err. */
static int
read_next(struct bundle_reader *r, struct bundle_entry *e, struct diag_err *err)
{
    size_t fill_n = 0;

    if (skip_padding(r, err) != 0)
        return -1;
    r->hdr_pos = r->pos;
    while (fill_n < TAR_BLOCK) {
        int got = fill(r, err);
        size_t n;

        if (got < 0)
            return -1;
        if (got == 0) {
            if (r->pos == 0)
                return err_set(err, "the archive is empty (not even a tar header)");
            if (fill_n == 0)
                return err_set(err, "the archive ends without its end-of-archive marker");
            return err_set(err, "the archive is truncated (it ends inside a header)");
        }
        n = r->clen - r->cpos < TAR_BLOCK - fill_n ? r->clen - r->cpos : TAR_BLOCK - fill_n;
        memcpy(r->hdr + fill_n, r->chunk + r->cpos, n);
        take(r, n);
        fill_n += n;
    }
    if (frame_zero(r->hdr, 0, TAR_BLOCK)) {
        r->tail_start = r->hdr_pos;
        return read_tail(r, err) == 0 ? 0 : -1;
    }
    return read_header_check(r, e, err) == 0 ? 1 : -1;
}

/* Remember an error: a reader that failed fails the same way from then on. */
static int
reader_fail(struct bundle_reader *r, struct diag_err *err)
{
    r->failed = 1;
    r->fail = *err;
    return -1;
}

struct bundle_reader *
bundle_reader_open(const char *path, struct diag_err *err)
{
    struct bundle_reader *r = xcalloc(1, sizeof(*r));
    struct stat st;
    int ret;

    r->fd = file_open_regular(path, "bundle", err);
    if (r->fd < 0) {
        free(r);
        return NULL;
    }
    if (fstat(r->fd, &st) != 0) {
        err_set_io(err, "could not stat bundle \"%s\": %s", path, strerror(errno));
        bundle_reader_close(r);
        return NULL;
    }
    r->file_size = (uint64_t)st.st_size;
    if (r->file_size == 0) {
        err_set(err, "could not read bundle \"%s\": the file is empty", path);
        bundle_reader_close(r);
        return NULL;
    }
    r->chunk = xmalloc(READ_CHUNK);
    r->codec = codec_reader_open(r->fd, err);
    if (r->codec == NULL) {
        err_prefix(err, "could not read bundle \"%s\"", path);
        bundle_reader_close(r);
        return NULL;
    }
    /* The first header now: a file that is no archive at all is refused as such. */
    ret = read_next(r, &r->first, err);
    if (ret < 0 && (r->pos < TAR_BLOCK || memcmp(r->hdr + 257, "ustar", 5) != 0)) {
        err_prefix(err, "could not read bundle \"%s\"", path);
        bundle_reader_close(r);
        return NULL;
    }
    /* A damaged first header of an archive is the first entry's problem, as any other's. */
    if (ret < 0) {
        reader_fail(r, err);
        ret = 0;
    }
    r->pending = 1 + ret; /* 2: the first entry is waiting, 1: the archive is empty */
    return r;
}

enum codec_kind
bundle_reader_compression(const struct bundle_reader *r)
{
    return codec_reader_kind(r->codec);
}

uint64_t
bundle_reader_file_size(const struct bundle_reader *r)
{
    return r->file_size;
}

void
bundle_reader_set_limit(struct bundle_reader *r, uint64_t max_more)
{
    codec_reader_set_limit(r->codec, codec_reader_total_out(r->codec) + max_more);
}

int
bundle_reader_next(struct bundle_reader *r, struct bundle_entry *e, struct diag_err *err)
{
    int ret;

    if (r->failed)
        return err_set(err, "%s", r->fail.msg);
    if (r->entry_left > 0 && !r->pending)
        return err_set(err, "internal error: entry not fully read");
    if (r->at_eof)
        return 0;
    if (r->pending) {
        ret = r->pending - 1;
        r->pending = 0;
        if (ret == 1)
            *e = r->first;
    } else {
        ret = read_next(r, e, err);
    }
    if (ret < 0)
        return reader_fail(r, err);
    if (ret == 0)
        r->at_eof = 1;
    return ret;
}

ssize_t
bundle_reader_read(struct bundle_reader *r, void *buf, size_t len, struct diag_err *err)
{
    size_t n;
    int got;

    if (r->failed)
        return err_set(err, "%s", r->fail.msg);
    if (r->entry_left == 0)
        return 0;
    /*
     * A large read with nothing buffered goes straight into the caller's buffer: a 1 GiB
     * member is not copied through the chunk on its way (the bytes are the same, and so is
     * the accounting: only the member's own bytes, never its padding, are read this way).
     */
    if (r->cpos == r->clen && !r->eof && len >= READ_CHUNK) {
        ssize_t direct;

        if (len > r->entry_left)
            len = (size_t)r->entry_left;
        direct = codec_reader_read(r->codec, buf, len, err);
        if (direct <= 0) {
            if (direct == 0) {
                r->eof = 1;
                err_set(err, "the archive is truncated (it ends inside a member's data)");
            }
            return reader_fail(r, err);
        }
        r->pos += (uint64_t)direct;
        r->entry_left -= (uint64_t)direct;
        return direct;
    }
    got = fill(r, err);
    if (got <= 0) {
        if (got == 0)
            err_set(err, "the archive is truncated (it ends inside a member's data)");
        return reader_fail(r, err);
    }
    n = r->clen - r->cpos;
    if (n > len)
        n = len;
    if (n > r->entry_left)
        n = (size_t)r->entry_left;
    memcpy(buf, r->chunk + r->cpos, n);
    take(r, n);
    r->entry_left -= n;
    return (ssize_t)n;
}

void
bundle_reader_close(struct bundle_reader *r)
{
    if (r == NULL)
        return;
    codec_reader_free(r->codec);
    if (r->fd >= 0)
        close(r->fd);
    free(r->chunk);
    free(r);
}
