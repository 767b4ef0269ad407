/*
 * bundle.c: strict, in-memory reading of bundle archives.
 * Layer: lib. With bundle_write.c, the only files that speak libarchive (writing is apart so
 * that the static applier, which never writes, does not link libarchive's writers, which
 * drag in every archive format and its libraries); compression is codec.c's job.
 */
#include "sealift/bundle.h"
#include "sealift/file.h"
#include "sealift/memberpath.h"
#include "sealift/xalloc.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define READ_CHUNK (256 * 1024)

/* ---- reader ---- */

#define TAR_BLOCK  512
#define TAR_RECORD 10240

/*
 * A second, independent reading of the tar framing, fed every decompressed byte before
 * libarchive sees it. libarchive is lenient where a verifier must not be: it skips the
 * padding after a member's data and the record padding after the end-of-archive marker
 * without looking at them, takes any regular-file typeflag ('0', '7', NUL), a prefix field,
 * base-256 sizes, and a checksum field with junk after its digits (which the checksum does
 * not cover). Any of those would let bytes of a bundle change without the bundle being
 * refused. This checks that every header is exactly a plain ustar regular-file header as
 * FORMAT.md 1.2 describes it, every padding byte is zero, and the stream ends with the
 * end-of-archive marker and zero padding to exactly one 10240-byte record.
 */
enum frame_state { FRAME_HEADER, FRAME_DATA, FRAME_PAD, FRAME_TAIL };

struct tar_frame {
    enum frame_state state;
    uint64_t pos;        /* decompressed bytes seen */
    uint64_t left;       /* of the current data or padding */
    uint64_t tail_start; /* offset of the end-of-archive marker */
    unsigned char hdr[TAR_BLOCK];
    size_t hdr_fill;
    uint64_t hdr_pos; /* offset of the header being collected or last read */
    char name[101];   /* of the last member, for messages */
    uint64_t fail_at; /* offset of the problem frame_feed found */
};

struct bundle_reader {
    int fd;
    uint64_t file_size;
    struct codec_reader *codec;
    struct archive *a;
    unsigned char *chunk;
    struct diag_err codec_err;
    int codec_failed;
    uint64_t entry_left;
    int in_entry;
    int at_eof;
    struct tar_frame frame;
    /*
     * The framing check's first finding, kept until libarchive's reading reaches its offset
     * (libarchive reads ahead), so that problems are reported in the order of the stream.
     */
    int frame_failed;
    uint64_t frame_fail_at;
    struct diag_err frame_err;
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

/* The ustar checksum: the sum of the header's bytes, its own field counted as spaces. */
static unsigned
frame_checksum(const unsigned char *h)
{
    unsigned sum = 8 * ' ';

    /* Two loops without a branch, which the compiler vectorizes. */
    for (size_t i = 0; i < 148; i++)
        sum += h[i];
    for (size_t i = 156; i < TAR_BLOCK; i++)
        sum += h[i];
    return sum;
}

/* Check one complete, non-zero header block; set up the data and padding that follow. */
static int
frame_header(struct tar_frame *f, struct diag_err *err)
{
    const unsigned char *h = f->hdr;
    unsigned sum;
    uint64_t chk, size, mode, id;
    const char *problem = NULL;
    size_t n;

    n = strnlen((const char *)h, 100);
    memcpy(f->name, h, n);
    f->name[n] = '\0';
    for (size_t i = 0; i < n; i++)
        if (f->name[i] < 0x20 || f->name[i] > 0x7e)
            f->name[i] = '?';
    if (f->hdr_pos == 0 && memcmp(h + 257, "ustar", 5) != 0) {
        f->fail_at = 0;
        return err_set(err, "unrecognized format: not zstd, gzip or a ustar archive");
    }
    sum = frame_checksum(h);
    /* Six octal digits, NUL, space: the checksum does not cover its own field. */
    for (size_t i = 148; i < 154 && !problem; i++)
        if (h[i] < '0' || h[i] > '7')
            problem = "damaged header (checksum field)";
    if (!problem && (h[154] != '\0' || h[155] != ' '))
        problem = "damaged header (checksum field)";
    if (!problem && (frame_octal(h + 148, 6, &chk) != 0 || chk != sum))
        problem = "damaged header (checksum does not match)";
    if (!problem && (memcmp(h + 257, "ustar\0", 6) != 0 || memcmp(h + 263, "00", 2) != 0))
        problem = "not a plain ustar header (magic)";
    if (!problem)
        problem = frame_typeflag_problem(h[156]);
    if (!problem && n == 100)
        problem = "unsafe or non-canonical name (no NUL in the name field)";
    if (!problem && h[157] != '\0')
        problem = "hard or symbolic link target set (not a regular file)";
    if (!problem && h[345] != '\0')
        problem = "prefix field is not empty";
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
    f->fail_at = f->hdr_pos;
    if (problem)
        return err_set(err, "tar header at offset %llu (member \"%s\"): %s",
                       (unsigned long long)f->hdr_pos, f->name, problem);
    f->left = size;
    f->state = FRAME_DATA;
    return 0;
}

/* Where the stream must end: the end-of-archive marker, padded to a whole record. */
static uint64_t
frame_tail_end(const struct tar_frame *f)
{
    return (f->tail_start + 2 * TAR_BLOCK + TAR_RECORD - 1) / TAR_RECORD * TAR_RECORD;
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

/* Feed decompressed bytes through the framing check. */
static int
frame_feed(struct tar_frame *f, const unsigned char *p, size_t len, struct diag_err *err)
{
    while (len > 0) {
        size_t take = 0;

        switch (f->state) {
        case FRAME_HEADER:
            if (f->hdr_fill == 0)
                f->hdr_pos = f->pos;
            take = TAR_BLOCK - f->hdr_fill < len ? TAR_BLOCK - f->hdr_fill : len;
            memcpy(f->hdr + f->hdr_fill, p, take);
            f->hdr_fill += take;
            if (f->hdr_fill == TAR_BLOCK) {
                f->hdr_fill = 0;
                if (frame_zero(f->hdr, 0, TAR_BLOCK)) {
                    f->state = FRAME_TAIL;
                    f->tail_start = f->hdr_pos;
                } else if (frame_header(f, err) != 0) {
                    return -1;
                }
            }
            break;
        case FRAME_DATA:
            take = f->left < len ? (size_t)f->left : len;
            f->left -= take;
            if (f->left == 0) {
                /* The data ends at pos + take; padding runs to the next block. */
                f->left = (TAR_BLOCK - (f->pos + take) % TAR_BLOCK) % TAR_BLOCK;
                f->state = f->left ? FRAME_PAD : FRAME_HEADER;
            }
            break;
        case FRAME_PAD:
        case FRAME_TAIL:
            take = f->state == FRAME_PAD && f->left < len ? (size_t)f->left : len;
            for (size_t i = zero_prefix(p, take); i < take; i++) {
                if (p[i] == 0)
                    continue;
                f->fail_at = f->pos + i;
                if (f->state == FRAME_PAD)
                    return err_set(err,
                                   "non-zero byte in the padding after member \"%s\" (offset "
                                   "%llu)",
                                   f->name, (unsigned long long)(f->pos + i));
                return err_set(err,
                               "data after the end of the archive (non-zero byte at offset "
                               "%llu)",
                               (unsigned long long)(f->pos + i));
            }
            if (f->state == FRAME_PAD && (f->left -= take) == 0)
                f->state = FRAME_HEADER;
            /* Zeros too: the marker and the record's padding, then nothing (no bomb of zeros). */
            if (f->state == FRAME_TAIL && f->pos + take > frame_tail_end(f)) {
                f->fail_at = frame_tail_end(f);
                return err_set(err,
                               "data after the end of the archive (more than the "
                               "end-of-archive marker and its %d-byte record)",
                               TAR_RECORD);
            }
            break;
        }
        /* A header's data may be empty: move on at once, so that the padding is not skipped. */
        if (f->state == FRAME_DATA && f->left == 0)
            f->state = FRAME_HEADER;
        f->pos += take;
        p += take;
        len -= take;
    }
    return 0;
}

/* At the end of the decompressed stream: the end-of-archive marker and one padded record. */
static int
frame_finish(const struct tar_frame *f, struct diag_err *err)
{
    if (f->pos == 0)
        return err_set(err, "the archive is empty (not even a tar header)");
    if (f->state == FRAME_HEADER && f->hdr_fill == 0)
        return err_set(err, "the archive ends without its end-of-archive marker");
    if (f->state != FRAME_TAIL)
        return err_set(err, "the archive is truncated (it ends inside %s)",
                       f->state == FRAME_HEADER ? "a header" : "a member's data");
    if (f->pos < f->tail_start + 2 * TAR_BLOCK)
        return err_set(err, "the archive ends without its end-of-archive marker (one zero "
                            "block of two)");
    if (f->pos < frame_tail_end(f))
        return err_set(err, "the archive is truncated (its last %d-byte record is incomplete)",
                       TAR_RECORD);
    return 0;
}

static la_ssize_t
read_cb(struct archive *a, void *client, const void **buffer)
{
    struct bundle_reader *r = client;
    ssize_t n = codec_reader_read(r->codec, r->chunk, READ_CHUNK, &r->codec_err);

    if (n >= 0 && !r->frame_failed &&
        (n > 0 ? frame_feed(&r->frame, r->chunk, (size_t)n, &r->frame_err)
               : frame_finish(&r->frame, &r->frame_err)) != 0) {
        r->frame_failed = 1;
        r->frame_fail_at = n > 0 ? r->frame.fail_at : r->frame.pos;
    }
    if (n < 0) {
        r->codec_failed = 1;
        archive_set_error(a, EIO, "%s", r->codec_err.msg);
        return -1;
    }
    *buffer = r->chunk;
    return n;
}

struct bundle_reader *
bundle_reader_open(const char *path, struct diag_err *err)
{
    struct bundle_reader *r = xcalloc(1, sizeof(*r));
    struct stat st;

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
    r->a = archive_read_new();
    /*
     * Tar only, no filters (decompression is ours), and read past the end-of-archive marker
     * so that a second archive or junk appended inside the compressed stream is seen.
     */
    if (r->a == NULL || archive_read_support_format_tar(r->a) != ARCHIVE_OK ||
        archive_read_set_options(r->a, "tar:read_concatenated_archives") != ARCHIVE_OK ||
        archive_read_open2(r->a, r, NULL, read_cb, NULL, NULL) != ARCHIVE_OK) {
        err_set(err, "could not read bundle \"%s\": %s", path,
                r->codec_failed   ? r->codec_err.msg
                : r->frame_failed ? r->frame_err.msg
                                  : (r->a ? archive_error_string(r->a) : "out of memory"));
        bundle_reader_close(r);
        return NULL;
    }
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

static int
reader_error(struct bundle_reader *r, struct diag_err *err)
{
    if (r->codec_failed)
        return err_set(err, "%s", r->codec_err.msg);
    return err_set(err, "%s",
                   archive_error_string(r->a) ? archive_error_string(r->a) : "damaged archive");
}

int
bundle_reader_next(struct bundle_reader *r, struct bundle_entry *e, struct diag_err *err)
{
    struct archive_entry *ae;
    const char *name;
    int ret;

    if (r->in_entry && r->entry_left > 0)
        return err_set(err, "internal error: entry not fully read");
    r->in_entry = 0;
    if (r->at_eof)
        return 0; /* libarchive must not be asked again after its end */
    ret = archive_read_next_header(r->a, &ae);
    /* At the end, or where libarchive gave up, the framing check's finding explains more. */
    if (ret != ARCHIVE_OK && r->frame_failed)
        return err_set(err, "%s", r->frame_err.msg);
    if (ret == ARCHIVE_EOF) {
        r->at_eof = 1;
        return 0;
    }
    if (ret != ARCHIVE_OK) /* ARCHIVE_WARN too: a verifier treats warnings as errors */
        return reader_error(r, err);
    name = archive_entry_pathname(ae);
    if (name == NULL)
        return err_set(err, "archive entry has no usable name");
    if (archive_format(r->a) != ARCHIVE_FORMAT_TAR_USTAR)
        return err_set(err, "member \"%s\": not a plain ustar header (%s)", name,
                       archive_format_name(r->a) ? archive_format_name(r->a) : "unknown");
    if (!memberpath_valid(name, BUNDLE_MAX_NAME))
        return err_set(err, "member \"%s\": unsafe or non-canonical name", name);
    if (archive_entry_hardlink(ae) != NULL)
        return err_set(err, "member \"%s\": hard links are not allowed", name);
    if (archive_entry_symlink(ae) != NULL || archive_entry_filetype(ae) == AE_IFLNK)
        return err_set(err, "member \"%s\": symbolic links are not allowed", name);
    if (archive_entry_filetype(ae) != AE_IFREG)
        return err_set(err, "member \"%s\": not a regular file", name);
    if (archive_entry_sparse_count(ae) != 0)
        return err_set(err, "member \"%s\": sparse entries are not allowed", name);
    if (archive_entry_is_encrypted(ae))
        return err_set(err, "member \"%s\": encrypted entries are not allowed", name);
    if (!archive_entry_size_is_set(ae) || archive_entry_size(ae) < 0)
        return err_set(err, "member \"%s\": size is not set", name);
    /* What libarchive lets pass, up to and including this header (see struct tar_frame). */
    if (r->frame_failed &&
        r->frame_fail_at < (uint64_t)archive_read_header_position(r->a) + TAR_BLOCK)
        return err_set(err, "%s", r->frame_err.msg);
    strcpy(e->name, name);
    e->size = (uint64_t)archive_entry_size(ae);
    e->mtime = (int64_t)archive_entry_mtime(ae);
    r->entry_left = e->size;
    r->in_entry = 1;
    return 1;
}

ssize_t
bundle_reader_read(struct bundle_reader *r, void *buf, size_t len, struct diag_err *err)
{
    la_ssize_t n;

    if (!r->in_entry || r->entry_left == 0)
        return 0;
    if (len > r->entry_left)
        len = (size_t)r->entry_left;
    n = archive_read_data(r->a, buf, len);
    if (n < 0)
        return reader_error(r, err);
    if (n == 0)
        return err_set(err, "member data is truncated");
    r->entry_left -= (uint64_t)n;
    return (ssize_t)n;
}

void
bundle_reader_close(struct bundle_reader *r)
{
    if (r == NULL)
        return;
    if (r->a)
        archive_read_free(r->a);
    codec_reader_free(r->codec);
    if (r->fd >= 0)
        close(r->fd);
    free(r->chunk);
    free(r);
}
