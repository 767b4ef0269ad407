/*
 * bundle_write.c: reproducible writing of bundle archives (see bundle.h).
 * Layer: lib. The only file that speaks libarchive: the applier, which never writes, links
 * none of it.
 */
#include "sealift/bundle.h"
#include "sealift/file.h"
#include "sealift/hash.h"
#include "sealift/xalloc.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct bundle_writer {
    struct archive *a;
    struct codec_writer *codec;
    int fd;
    char *path;
    char *tmp_path;
    int64_t mtime;
    struct diag_err codec_err;
    int codec_failed;
};

static la_ssize_t
write_cb(struct archive *a, void *client, const void *buf, size_t len)
{
    struct bundle_writer *w = client;

    if (codec_writer_write(w->codec, buf, len, &w->codec_err) != 0) {
        w->codec_failed = 1;
        archive_set_error(a, EIO, "%s", w->codec_err.msg);
        return -1;
    }
    return (la_ssize_t)len;
}

struct bundle_writer *
bundle_writer_open(const char *path, enum codec_kind compression, int64_t mtime,
                   struct diag_err *err)
{
    struct bundle_writer *w;
    struct stat st;
    mode_t mask;

    /*
     * The bundle is written beside path and renamed onto it: over a FIFO, a device or a
     * directory that would replace it (as root, "-o /dev/null" would turn /dev/null into a
     * regular file). Only a regular file, or nothing yet, may be replaced.
     */
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
        err_set_io(err, "could not write bundle \"%s\": it exists and is not a regular file", path);
        return NULL;
    }
    w = xcalloc(1, sizeof(*w));
    w->fd = -1;
    w->path = xstrdup(path);
    w->tmp_path = xasprintf("%s.tmp.XXXXXX", path);
    w->mtime = mtime;
    w->fd = mkstemp(w->tmp_path);
    if (w->fd < 0) {
        err_set(err, "could not create file \"%s\": %s", w->tmp_path, strerror(errno));
        free(w->tmp_path);
        w->tmp_path = NULL;
        bundle_writer_abort(w);
        return NULL;
    }
    /* mkstemp makes the file 0600; a bundle is public, so use the usual mode. */
    mask = umask(0);
    umask(mask);
    if (fchmod(w->fd, 0666 & ~mask) != 0) {
        err_set(err, "could not set the mode of \"%s\": %s", w->tmp_path, strerror(errno));
        bundle_writer_abort(w);
        return NULL;
    }
    w->codec = codec_writer_open(w->fd, compression, err);
    if (w->codec == NULL) {
        bundle_writer_abort(w);
        return NULL;
    }
    w->a = archive_write_new();
    if (w->a == NULL || archive_write_set_format_ustar(w->a) != ARCHIVE_OK ||
        archive_write_add_filter_none(w->a) != ARCHIVE_OK ||
        archive_write_open2(w->a, w, NULL, write_cb, NULL, NULL) != ARCHIVE_OK) {
        err_set(err, "could not start the archive: %s",
                w->a ? archive_error_string(w->a) : "out of memory");
        bundle_writer_abort(w);
        return NULL;
    }
    return w;
}

/* The ustar header of a regular member of size bytes: fixed mode, owner and mtime. */
static int
write_header(struct bundle_writer *w, const char *name, uint64_t size, struct diag_err *err)
{
    struct archive_entry *e;
    int ret = 0;

    if (strlen(name) > BUNDLE_MAX_NAME)
        return err_set(err, "member name \"%s\" is longer than %d bytes", name, BUNDLE_MAX_NAME);
    e = archive_entry_new();
    if (e == NULL)
        return err_set(err, "out of memory");
    archive_entry_set_pathname(e, name);
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_entry_set_size(e, (la_int64_t)size);
    archive_entry_set_uid(e, 0);
    archive_entry_set_gid(e, 0);
    archive_entry_set_mtime(e, (time_t)w->mtime, 0);
    if (archive_write_header(w->a, e) != ARCHIVE_OK)
        ret = err_set(err, "could not write member \"%s\": %s", name, archive_error_string(w->a));
    archive_entry_free(e);
    return ret;
}

/* The most bundle_writer_add hands libarchive at once. */
#define BUNDLE_WRITE_PIECE ((size_t)1 << 30)

int
bundle_writer_add(struct bundle_writer *w, const char *name, const void *data, size_t len,
                  struct diag_err *err)
{
    const char *p = data;

    if (write_header(w, name, len, err) != 0)
        return -1;
    /*
     * In pieces: libarchive writes at most INT_MAX bytes a call (and says nothing of the
     * rest), and a script with inline COPY data may be larger.
     */
    while (len > 0) {
        size_t piece = len < BUNDLE_WRITE_PIECE ? len : BUNDLE_WRITE_PIECE;

        if (archive_write_data(w->a, p, piece) != (la_ssize_t)piece)
            return err_set(err, "could not write member \"%s\": %s", name,
                           archive_error_string(w->a));
        p += piece;
        len -= piece;
    }
    return 0;
}

int
bundle_writer_add_stream(struct bundle_writer *w, const char *name, uint64_t size,
                         const unsigned char sha256[32], bundle_source_cb src, void *src_data,
                         struct diag_err *err)
{
    struct hash_sha256 h;
    unsigned char got[HASH_SHA256_BYTES];
    uint64_t left = size;
    char *chunk = NULL;
    int ret = -1;

    if (write_header(w, name, size, err) != 0)
        return -1;
    /*
     * No bigger than the member: a build streams thousands of small scripts, and a megabyte
     * asked for each time costs a consolidation of the allocator's free lists.
     */
    chunk = xmalloc(size < (1 << 20) ? (size_t)size + 1 : (1 << 20));
    hash_sha256_init(&h);
    while (left > 0) {
        ssize_t n = src(src_data, chunk, left < (1 << 20) ? (size_t)left : (1 << 20), err);

        if (n < 0)
            goto cleanup;
        if (n == 0) {
            err_set(err, "member \"%s\" became shorter while the bundle was written", name);
            goto cleanup;
        }
        hash_sha256_update(&h, chunk, (size_t)n);
        if (archive_write_data(w->a, chunk, (size_t)n) != n) {
            err_set(err, "could not write member \"%s\": %s", name, archive_error_string(w->a));
            goto cleanup;
        }
        left -= (uint64_t)n;
    }
    hash_sha256_final(&h, got);
    if (src(src_data, chunk, 1, err) != 0 || !hash_equal(got, sha256, HASH_SHA256_BYTES)) {
        err_set(err, "member \"%s\" changed while the bundle was written", name);
        goto cleanup;
    }
    ret = 0;
cleanup:
    free(chunk);
    return ret;
}

struct file_source {
    int fd;
    const char *path;
};

static ssize_t
file_source_cb(void *data, void *buf, size_t cap, struct diag_err *err)
{
    struct file_source *f = data;

    for (;;) {
        ssize_t n = read(f->fd, buf, cap);

        if (n >= 0)
            return n;
        if (errno != EINTR)
            return err_set_io(err, "could not read \"%s\": %s", f->path, strerror(errno));
    }
}

int
bundle_writer_add_file(struct bundle_writer *w, const char *name, const char *path, uint64_t size,
                       const unsigned char sha256[32], struct diag_err *err)
{
    struct file_source f = {file_open_regular(path, "data file", err), path};
    int ret;

    if (f.fd < 0)
        return -1;
    ret = bundle_writer_add_stream(w, name, size, sha256, file_source_cb, &f, err);
    close(f.fd);
    return ret;
}

static int
fsync_dir_of(const char *path)
{
    char *copy = xstrdup(path);
    int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int ret = 0;

    if (fd >= 0) {
        ret = fsync(fd);
        close(fd);
    }
    free(copy);
    return ret;
}

int
bundle_writer_close(struct bundle_writer *w, struct diag_err *err)
{
    struct codec_writer *codec;
    int ret = -1;

    if (archive_write_close(w->a) != ARCHIVE_OK) {
        err_set(err, "could not finish the archive: %s", archive_error_string(w->a));
        bundle_writer_abort(w);
        return -1;
    }
    codec = w->codec;
    w->codec = NULL;
    if (codec_writer_finish(codec, err) != 0) {
        err_prefix(err, "could not write \"%s\"", w->path);
        bundle_writer_abort(w);
        return -1;
    }
    if (fsync(w->fd) != 0 || close(w->fd) != 0) {
        w->fd = -1;
        err_set(err, "could not write \"%s\": %s", w->tmp_path, strerror(errno));
        bundle_writer_abort(w);
        return -1;
    }
    w->fd = -1;
    if (rename(w->tmp_path, w->path) != 0) {
        err_set(err, "could not rename \"%s\" to \"%s\": %s", w->tmp_path, w->path,
                strerror(errno));
        bundle_writer_abort(w);
        return -1;
    }
    fsync_dir_of(w->path);
    free(w->tmp_path);
    w->tmp_path = NULL;
    ret = 0;
    bundle_writer_abort(w);
    return ret;
}

void
bundle_writer_abort(struct bundle_writer *w)
{
    if (w == NULL)
        return;
    if (w->a)
        archive_write_free(w->a); /* may call write_cb to flush; harmless on abort */
    codec_writer_free(w->codec);
    if (w->fd >= 0)
        close(w->fd);
    if (w->tmp_path) {
        unlink(w->tmp_path);
        free(w->tmp_path);
    }
    free(w->path);
    free(w);
}
