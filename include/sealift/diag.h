/*
 * diag.h: error values for lib/ and message printing for the two binaries.
 *
 * lib/ functions report failure by filling a caller-owned struct diag_err and returning -1
 * (or NULL); they never print or exit. The binaries print with diag_error() and friends, in
 * PostgreSQL's frontend form:
 *
 *     sealift: error: could not open file "x": No such file or directory
 *     sealift: detail: ...
 *     sealift: hint: ...
 */
#ifndef SEALIFT_DIAG_H
#define SEALIFT_DIAG_H

#include <stdarg.h>
#include <stddef.h>

#define DIAG_MSG_MAX 1024

/* An error filled in by a lib/ function. msg is always NUL-terminated. */
struct diag_err {
    char msg[DIAG_MSG_MAX];
    int io; /* 1 when the cause is the environment (a missing or unreadable file), not input */
};

#define DIAG_ERR_INIT                                                                              \
    {                                                                                              \
        {0}, 0                                                                                     \
    }

/*
 * Format msg into err (truncating with "..." if it is too long) and return -1, so that code
 * reads "return err_set(err, ...)". err may be NULL.
 */
int err_set(struct diag_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* As err_set, and mark the error as an environment (I/O) error. */
int err_set_io(struct diag_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prefix err->msg with "PREFIX: " (for adding a locus such as a file name). Returns -1. */
int err_prefix(struct diag_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Set the program name printed before every message (argv[0]'s basename is fine). */
void diag_set_progname(const char *argv0);
const char *diag_progname(void);

/* Silence every message (fuzz targets only: they feed millions of refused inputs). */
void diag_set_silent(int silent);

/* Quiet mode suppresses diag_info(); errors are always printed. */
void diag_set_quiet(int quiet);
int diag_is_quiet(void);

void diag_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void diag_warning(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void diag_detail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void diag_hint(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Progress and informational lines on stderr; silent with -q. */
void diag_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Print "PROG: error: MSG" and exit with code. */
_Noreturn void die(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Print the usage error, the "Try ... --help" hint, and exit 2. */
_Noreturn void die_usage(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * For getopt_long's error returns (optstrings start with ':' and opterr is 0): c ':' is a
 * missing value, anything else an unknown option. Names the option and exits 2 with the hint.
 */
_Noreturn void die_bad_option(const char *cmd, int c, char **argv);

#endif
