/*
 * file.c: open regular files without blocking on FIFOs.
 * Layer: lib.
 */
#include "sealift/file.h"

#include <errno.h>
#include <fcntl.h>
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
