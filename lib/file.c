/*
 * file.c: open regular files without blocking on FIFOs; read, write or hash them whole; private
 * temporary files.
 * Layer: lib.
 */
#include "sealift/file.h"
#include "sealift/hash.h"
#include "sealift/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int
file_open_regular(const char *path, const char *what, struct diag_err *err)
{
    struct stat st;
    /* O_NONBLOCK: opening a FIFO must not wait for a writer; cleared again below. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    int flags;

    if (fd < 0)
        return err_set_io(err, "could not open %s \"%s\": %s", what, path, strerror(errno));
    if (fstat(fd, &st) != 0) {
        err_set_io(err, "could not stat %s \"%s\": %s", what, path, strerror(errno));
        close(fd);
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        err_set_io(err, "%s \"%s\" is not a regular file", what, path);
        close(fd);
        return -1;
    }
    flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) != 0) {
        err_set_io(err, "could not read %s \"%s\": %s", what, path, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

int
file_sha256(const char *path, unsigned char out[32], uint64_t *size, struct diag_err *err)
{
    struct hash_sha256 h;
    char *chunk;
    int fd = file_open_regular(path, "file", err);
    int ret = 0;

    if (fd < 0)
        return -1;
    chunk = xmalloc(1 << 20);
    hash_sha256_init(&h);
    *size = 0;
    for (;;) {
        ssize_t n = read(fd, chunk, 1 << 20);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            ret = err_set_io(err, "could not read file \"%s\": %s", path, strerror(errno));
            break;
        }
        if (n == 0)
            break;
        hash_sha256_update(&h, chunk, (size_t)n);
        *size += (uint64_t)n;
    }
    hash_sha256_final(&h, out);
    free(chunk);
    close(fd);
    return ret;
}

int
file_read_all(const char *path, size_t max, struct buf *out, struct diag_err *err)
{
    int fd = file_open_regular(path, "file", err);
    struct stat st;
    int ret = -1;

    if (fd < 0)
        return -1;
    /* Read straight into out, sized once from the file's size: no copy of a large file. */
    if (fstat(fd, &st) == 0 && st.st_size > 0) {
        if (out->len > max || (uintmax_t)st.st_size > max - out->len) {
            err_set(err, "file \"%s\" is larger than %zu bytes", path, max);
            goto cleanup;
        }
        /*
         * And one byte of room for the read that finds the end of the file: no more, as a
         * compiler holds thousands of small scripts at once (4 KiB of slack each was 88 MB of
         * a 10,000-migration build). A file that grew since fstat grows out as below.
         */
        buf_reserve(out, (size_t)st.st_size + 1);
    }
    for (;;) {
        ssize_t r;

        /* Room for a read past the size: the file may have grown, and end of file is a read. */
        if (out->cap == 0 || out->cap - out->len - 1 == 0)
            buf_grow(out, 4096);
        r = read(fd, out->data + out->len, out->cap - out->len - 1);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            err_set_io(err, "could not read file \"%s\": %s", path, strerror(errno));
            goto cleanup;
        }
        if (r == 0)
            break;
        out->len += (size_t)r;
        out->data[out->len] = '\0';
        if (out->len > max) {
            err_set(err, "file \"%s\" is larger than %zu bytes", path, max);
            goto cleanup;
        }
    }
    ret = 0;
cleanup:
    close(fd);
    return ret;
}

int
file_write_all(int fd, const void *data, size_t len)
{
    const char *p = data;

    while (len > 0) {
        ssize_t w = write(fd, p, len);

        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

int
file_private_temp(const char *prefix, struct diag_err *err)
{
    const char *env = getenv("TMPDIR");
    const char *dir = env && *env ? env : "/tmp";
    char *tmpl = xasprintf("%s/sealift-%s-XXXXXX", dir, prefix);
    int fd = mkstemp(tmpl), saved;

    if (fd < 0) {
        saved = errno;
        err_set(err, "could not create a temporary file in \"%s\": %s", dir, strerror(saved));
        errno = saved;
    } else {
        unlink(tmpl); /* private: no name another process could open, and gone when closed */
    }
    free(tmpl);
    return fd;
}
