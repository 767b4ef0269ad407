/*
 * password.c: read a password from SEALIFT_PASSWORD_FILE or the terminal (echo off).
 * Layer: compiler.
 */
#include "password.h"
#include "sealift/seckey.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

/* Read one line from fd into out (without the line end). Returns its length or -1. */
static ssize_t
read_line(int fd, char *out, size_t cap)
{
    size_t n = 0;

    for (;;) {
        char c;
        ssize_t r = read(fd, &c, 1);

        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0 || c == '\n')
            break;
        if (n + 1 >= cap)
            return -1;
        out[n++] = c;
    }
    if (n > 0 && out[n - 1] == '\r')
        n--;
    out[n] = '\0';
    return (ssize_t)n;
}

static int
from_file(const char *path, char *out, size_t cap, struct diag_err *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n;

    if (fd < 0)
        return err_set_io(err, "could not open password file \"%s\": %s", path, strerror(errno));
    n = read_line(fd, out, cap);
    close(fd);
    if (n < 0)
        return err_set_io(err, "password file \"%s\": first line is too long", path);
    if (n == 0)
        return err_set_io(err, "password file \"%s\": first line is empty", path);
    return 0;
}

static int
from_terminal(const char *prompt, char *out, size_t cap, struct diag_err *err)
{
    struct termios old, quiet;
    int fd = open("/dev/tty", O_RDWR | O_CLOEXEC);
    ssize_t n;

    if (fd < 0)
        return err_set_io(err, "no terminal to ask for the password (set SEALIFT_PASSWORD_FILE)");
    if (tcgetattr(fd, &old) != 0) {
        close(fd);
        return err_set_io(err, "no terminal to ask for the password (set SEALIFT_PASSWORD_FILE)");
    }
    quiet = old;
    quiet.c_lflag &= ~(tcflag_t)ECHO;
    quiet.c_lflag |= ECHONL;
    if (write(fd, prompt, strlen(prompt)) < 0 || tcsetattr(fd, TCSAFLUSH, &quiet) != 0) {
        close(fd);
        return err_set_io(err, "could not turn off terminal echo");
    }
    n = read_line(fd, out, cap);
    tcsetattr(fd, TCSAFLUSH, &old);
    close(fd);
    if (n < 0)
        return err_set_io(err, "password is too long");
    return 0;
}

int
password_get_cb(char *out, size_t cap, void *data, struct diag_err *err)
{
    const char *file = getenv("SEALIFT_PASSWORD_FILE");

    (void)data;
    if (file && *file)
        return from_file(file, out, cap, err);
    return from_terminal("Password: ", out, cap, err);
}

int
password_new(char *out, size_t cap, struct diag_err *err)
{
    const char *file = getenv("SEALIFT_PASSWORD_FILE");
    char *again;
    int ret = -1;

    if (file && *file)
        return from_file(file, out, cap, err);
    again = seckey_secure_alloc(cap);
    if (from_terminal("Password: ", out, cap, err) != 0 ||
        from_terminal("Password (again): ", again, cap, err) != 0)
        goto cleanup;
    if (strcmp(out, again) != 0) {
        err_set_io(err, "the passwords do not match");
        goto cleanup;
    }
    if (out[0] == '\0') {
        err_set_io(err, "empty password (use -W for an unencrypted key)");
        goto cleanup;
    }
    ret = 0;
cleanup:
    seckey_secure_free(again);
    return ret;
}
