/*
 * diag.c: error values for lib/ and the message printer used by both binaries.
 * Layer: lib (the only module of lib/ that prints; see diag.h).
 */
#include "sealift/diag.h"
#include "sealift/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *progname = "sealift";
static int quiet;
static int silent;

void
diag_set_silent(int s)
{
    silent = s;
}

static int
err_vset(struct diag_err *err, const char *fmt, va_list ap)
{
    int n;

    if (err == NULL)
        return -1;
    n = vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    if (n < 0)
        strcpy(err->msg, "(unformattable message)");
    else if ((size_t)n >= sizeof(err->msg))
        memcpy(err->msg + sizeof(err->msg) - 4, "...", 4);
    return -1;
}

int
err_set(struct diag_err *err, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    err_vset(err, fmt, ap);
    va_end(ap);
    if (err)
        err->io = 0;
    return -1;
}

int
err_set_io(struct diag_err *err, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    err_vset(err, fmt, ap);
    va_end(ap);
    if (err)
        err->io = 1;
    return -1;
}

int
err_prefix(struct diag_err *err, const char *fmt, ...)
{
    char old[DIAG_MSG_MAX];
    char prefix[DIAG_MSG_MAX];
    va_list ap;
    int n;

    if (err == NULL)
        return -1;
    memcpy(old, err->msg, sizeof(old));
    va_start(ap, fmt);
    n = vsnprintf(prefix, sizeof(prefix), fmt, ap);
    va_end(ap);
    if (n < 0)
        return -1;
    n = err->io;
    err_set(err, "%s: %s", prefix, old);
    err->io = n;
    return -1;
}

void
diag_set_progname(const char *argv0)
{
    const char *slash = strrchr(argv0, '/');

    progname = slash ? slash + 1 : argv0;
}

const char *
diag_progname(void)
{
    return progname;
}

void
diag_set_quiet(int q)
{
    quiet = q;
}

int
diag_is_quiet(void)
{
    return quiet;
}

/*
 * Print "PROG: LEVEL: message". A message of several lines (a server's DETAIL or CONTEXT) keeps
 * them, each after the first indented to where the message text starts.
 */
static void
vprint(const char *level, const char *fmt, va_list ap)
{
    struct buf msg = BUF_INIT;
    int indent;

    if (silent)
        return;
    buf_vaddf(&msg, fmt, ap);
    /* Results go to stdout; flush them first so the two streams interleave in order. */
    fflush(stdout);
    if (level)
        indent = fprintf(stderr, "%s: %s: ", progname, level);
    else
        indent = fprintf(stderr, "%s: ", progname);
    for (const char *p = msg.data;;) {
        size_t n = strcspn(p, "\n");

        fwrite(p, 1, n, stderr);
        fputc('\n', stderr);
        if (p[n] == '\0' || p[n + 1] == '\0')
            break;
        p += n + 1;
        fprintf(stderr, "%*s", indent > 0 ? indent : 0, "");
    }
    buf_release(&msg);
}

#define DEFINE_PRINTER(name, level)                                                                \
    void name(const char *fmt, ...)                                                                \
    {                                                                                              \
        va_list ap;                                                                                \
        va_start(ap, fmt);                                                                         \
        vprint(level, fmt, ap);                                                                    \
        va_end(ap);                                                                                \
    }

DEFINE_PRINTER(diag_error, "error")
DEFINE_PRINTER(diag_warning, "warning")
DEFINE_PRINTER(diag_detail, "detail")
DEFINE_PRINTER(diag_hint, "hint")

void
diag_info(const char *fmt, ...)
{
    va_list ap;

    if (quiet)
        return;
    va_start(ap, fmt);
    vprint(NULL, fmt, ap);
    va_end(ap);
}

void
die(int code, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vprint("error", fmt, ap);
    va_end(ap);
    exit(code);
}

void
die_usage(const char *cmd, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vprint("error", fmt, ap);
    va_end(ap);
    if (cmd)
        diag_hint("Try \"%s %s --help\" for more information.", progname, cmd);
    else
        diag_hint("Try \"%s --help\" for more information.", progname);
    exit(2);
}

void
die_bad_option(const char *cmd, int c, char **argv)
{
    const char *word = optind > 0 ? argv[optind - 1] : "";
    char short_name[3] = {'-', (char)optopt, '\0'};
    const char *name = word;
    int len = (int)strlen(word);

    /* Printed whole (no fixed buffer): a cut option name would name another option. */
    if (strncmp(word, "--", 2) == 0) { /* a long option: its name, without any "=VALUE" */
        len = (int)strcspn(word, "=");
    } else if (optopt) { /* a short option, perhaps inside a cluster such as "-qx" */
        name = short_name;
        len = 2;
    }
    if (c == ':')
        die_usage(cmd, "option \"%.*s\" needs a value", len, name);
    die_usage(cmd, "unrecognized option \"%.*s\"", len, name);
}
