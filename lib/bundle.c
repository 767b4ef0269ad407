/*
 * bundle.c: strict, in-memory reading of bundle archives.
 * Layer: lib. With bundle_write.c, the only files that speak libarchive (writing is apart so
 * that the static applier, which never writes, does not link libarchive's writers, which
 * drag in every archive format and its libraries); compression is codec.c's job.
 */
#include "sealift/bundle.h"
#include "sealift/file.h"
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
};

static la_ssize_t
read_cb(struct archive *a, void *client, const void **buffer)
{
    struct bundle_reader *r = client;
    ssize_t n = codec_reader_read(r->codec, r->chunk, READ_CHUNK, &r->codec_err);

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
                r->codec_failed ? r->codec_err.msg
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

static int
name_is_canonical(const char *name)
{
    size_t n = strlen(name);
    const char *comp = name;

    if (n == 0 || n > BUNDLE_MAX_NAME || name[0] == '/' || name[n - 1] == '/')
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-' || c == '/'))
            return 0;
    }
    for (;;) {
        const char *slash = strchr(comp, '/');
        size_t len = slash ? (size_t)(slash - comp) : strlen(comp);

        if (len == 0 || (len == 1 && comp[0] == '.') ||
            (len == 2 && comp[0] == '.' && comp[1] == '.'))
            return 0;
        if (!slash)
            return 1;
        comp = slash + 1;
    }
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
    ret = archive_read_next_header(r->a, &ae);
    if (ret == ARCHIVE_EOF)
        return 0;
    if (ret != ARCHIVE_OK) /* ARCHIVE_WARN too: a verifier treats warnings as errors */
        return reader_error(r, err);
    name = archive_entry_pathname(ae);
    if (name == NULL)
        return err_set(err, "archive entry has no usable name");
    if (archive_format(r->a) != ARCHIVE_FORMAT_TAR_USTAR)
        return err_set(err, "member \"%s\": not a plain ustar header (%s)", name,
                       archive_format_name(r->a) ? archive_format_name(r->a) : "unknown");
    if (!name_is_canonical(name))
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
