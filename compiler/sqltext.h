/*
 * sqltext.h: migration text before it reaches the SQL parser: normalisation (UTF-8, BOM,
 * line ends), "-- sealift:" directives and ${name} placeholders (positions: sealift/textpos.h).
 */
#ifndef SEALIFT_COMPILER_SQLTEXT_H
#define SEALIFT_COMPILER_SQLTEXT_H

#include "chain.h"
#include "sealift/buf.h"
#include "sealift/diag.h"

#include <stddef.h>

#define SQLTEXT_NO_TRANSACTION 0x1
#define SQLTEXT_IRREVERSIBLE   0x2

/*
 * Normalise raw file bytes into out: must be valid UTF-8 without NUL bytes; a leading BOM is
 * dropped and every CRLF becomes LF, so that a Windows checkout has the same checksums.
 * Returns 0, or -1 with err set to "LINE:COL: what".
 */
int sqltext_normalize(const char *raw, size_t len, struct buf *out, struct diag_err *err);

/* Read a file (at most FILE_READ_MAX bytes) and normalise it, in place: held once. */
int sqltext_read_file(const char *path, struct buf *out, struct diag_err *err);

/*
 * The size limit of a migration script: pg_dump's inline COPY data makes scripts of gigabytes,
 * and a script is held once (its COPY data never reaches the parser).
 */
#define SQLTEXT_SCRIPT_MAX ((size_t)64 << 30)

/* Read a migration script (at most SQLTEXT_SCRIPT_MAX bytes) and normalise it, as above. */
int sqltext_read_script(const char *path, struct buf *out, struct diag_err *err);

/*
 * Parse the "-- sealift:NAME" directives of the leading comment block (the blanks and comments
 * before the first SQL) into *flags. A directive is a "--" comment by psql's rules
 * (sealift/sqllex.h: not one inside a string, a dollar-quoted body or a block comment) that
 * starts its line. "-- sealift:data FILE", which belongs before a COPY statement, is left to
 * sqlcheck.c.
 * A directive later in the file, or an unknown one, is reported against file. allowed is the
 * mask of directives this kind of script may carry. Returns the number of problems reported.
 */
size_t sqltext_directives(const char *file, const char *text, unsigned allowed, unsigned *flags,
                          struct report *rep);

/* Placeholder values (--set NAME=VALUE, --env-file). */
struct var {
    char *name;
    char *value;
    int used;
};

struct vars {
    struct var *v;
    size_t n;
    size_t cap;
};

void vars_init(struct vars *v);
void vars_release(struct vars *v);
/* "NAME=VALUE": set (a later value for the same name wins). Returns -1 if malformed. */
int vars_set_assignment(struct vars *v, const char *assignment, struct diag_err *err);
/* Load NAME=VALUE lines (blank lines and "#" comments skipped). */
int vars_load_file(struct vars *v, const char *path, struct diag_err *err);

/*
 * Render text into out (reset first): every ${NAME} (NAME: a letter or underscore, then
 * letters, digits, underscores or dots) becomes its value, $${NAME} becomes the text ${NAME}.
 * An undefined name in a comment is left as written; elsewhere each use is added to undefined
 * (reset first) as a line "NAME LINE:COL" and left in out as written; the caller reports them
 * (once per name, with every place). Returns the number of undefined uses.
 */
size_t sqltext_render(const struct buf *text, struct vars *vars, struct buf *out,
                      struct buf *undefined);

/*
 * Might sqltext_render change text[0, len)? 0 when it holds no "${" (neither a placeholder
 * nor the escape): then the rendering is the text itself, and need not be a copy of it.
 */
int sqltext_has_placeholders(const char *text, size_t len);

#endif
