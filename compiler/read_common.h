/*
 * read_common.h: what the readers of other tools' formats share: directory listings, script
 * loading with the checks every psql- or driver-fed script needs (psql meta-commands, an outer
 * BEGIN/COMMIT pair), a keyword view of statements, and the "no down" policy.
 */
#ifndef SEALIFT_COMPILER_READ_COMMON_H
#define SEALIFT_COMPILER_READ_COMMON_H

#include "chain.h"
#include "formats.h"
#include "sealift/buf.h"

#include <dirent.h>
#include <stddef.h>
#include <stdint.h>

/* One entry of a directory listing. */
struct common_entry {
    char *name;
    int is_dir;  /* a directory (followed through symlinks) */
    int is_file; /* a regular file (followed through symlinks) */
};

struct common_dir {
    struct common_entry *v;
    size_t n;
    size_t cap;
};

/* Whether the directory entry de of dir is a regular file or a directory (links followed). */
void common_entry_type(const char *dir, const struct dirent *de, int *is_file, int *is_dir);

/*
 * List dir (without "." and ".."), sorted by name in byte order. Returns 0, or -1 with err set
 * (err->io: "could not open migrations directory ...") when dir cannot be read. Release with
 * common_dir_release.
 */
int common_dir_list(const char *dir, struct common_dir *out, struct diag_err *err);
/* The same for a directory the message calls what ("data directory"). */
int common_dir_list_of(const char *dir, const char *what, struct common_dir *out,
                       struct diag_err *err);
void common_dir_release(struct common_dir *d);

/*
 * --from auto's look inside files: for the regular files of dir that want accepts by name, in
 * name order and at most max of them (0: no limit), read the text (sqltext_read_file) and ask
 * looks. Returns 1 as soon as looks says yes, with that file's name in found (cap bytes; found
 * may be NULL); 0 otherwise, or when dir cannot be read.
 */
typedef int (*common_want_cb)(const char *name);
typedef int (*common_looks_cb)(const char *text, size_t len);
int common_detect_in_files(const char *dir, size_t max, common_want_cb want, common_looks_cb looks,
                           char *found, size_t cap);

/* 1 if path names a regular file (followed through symlinks), a directory for _dir. */
int common_is_file(const char *path);
int common_is_dir(const char *path);

/*
 * The next line of a settings file (text[*pos, len)): [*start, *end) is the line without its
 * line end and surrounding white space. Advances *pos past the line and returns 1, or returns 0
 * when no line is left. For the formats' small key=value files (diesel.toml, sqitch.conf,
 * Flyway's .sql.conf).
 */
int common_next_line(const char *text, size_t len, size_t *pos, size_t *start, size_t *end);

/* One statement of a script: [start, end) from its first token to its ';' (or the text end). */
struct common_stmt {
    size_t start;
    size_t end;
    int has_semicolon;
};

/*
 * The top-level statements of text (quotes, dollar quotes, comments and parentheses respected
 * as psql does; inline COPY data skipped). Comment-only stretches are not statements. Returns
 * the count; *out is malloc'd (free it), NULL when there are none.
 */
size_t common_statements(const char *text, size_t len, struct common_stmt **out);

/*
 * Up to max upper-cased leading words of text[start, end), blanks and comments skipped, joined
 * by single spaces into out (cap bytes): "CREATE UNIQUE INDEX". Stops at the first token that
 * is not a plain word.
 */
void common_words(const char *text, size_t start, size_t end, int max, char *out, size_t cap);

/*
 * The statement kinds PostgreSQL refuses inside a transaction block, recognised by their
 * leading keywords: "CREATE INDEX CONCURRENTLY", "VACUUM", ...; NULL for any other statement.
 */
const char *common_no_tx_kind(const char *text, size_t start, size_t end);

/*
 * What every reader checks in a script it loaded (s->text, s->file): psql meta-commands
 * ("\i", "\set", ...) and psql variables (:'name', :"name") are refused, since sealift sends
 * SQL to the server and not to psql. Returns the number of problems reported.
 */
size_t common_refuse_psql(const struct src_script *s, struct report *rep);

/*
 * Scripts written for psql-driven tools often wrap themselves in BEGIN; ... COMMIT;. sealift
 * runs the script in its own transaction, and a COMMIT there would end it halfway. When the
 * first statement is BEGIN (or START TRANSACTION, without options) and the last is COMMIT, both
 * are blanked out (spaces, so lines and columns stay): the script stays atomic inside
 * sealift's transaction. With rollback_ok, a last ROLLBACK (Sqitch's verify convention) turns
 * the pair into a savepoint and ROLLBACK TO it, so that what the script did is undone as
 * before. Any other transaction control is left for sqlcheck to refuse with its reason.
 * Returns 1 if the text was changed, else 0.
 */
int common_strip_outer_transaction(struct buf *text, int rollback_ok);

/*
 * Read path into m's script of kind and normalise it (sqltext_read_script): sets file (a copy of
 * path), text and present. Returns 0, or -1 after reporting why (a file that cannot be read or
 * is not UTF-8). The native format's loading; other formats use common_load_script.
 */
int common_read_script(struct src_migration *m, int kind, const char *path, struct report *rep);

/*
 * Load path into m's script of kind: read and normalise it (sqltext_read_script), refuse psql
 * meta-commands, strip an outer BEGIN/COMMIT pair (which makes the script transactional: its
 * statements ran in one transaction, whatever the format's option says). Sets present, file
 * (a copy of path) and text. Returns 1 if an outer pair was stripped, 0 if not, or -1 after
 * reporting why (a file that cannot be read or is not UTF-8).
 */
int common_load_script(struct src_migration *m, int kind, const char *path, struct report *rep);

/*
 * Same for a text already extracted from a file (for formats with up and down in one file);
 * text is copied. Returns 1 if an outer pair was stripped, else 0.
 */
int common_set_script(struct src_migration *m, int kind, const char *path, const char *text,
                      size_t len, struct report *rep);

/*
 * text[from, to) as a script of its own, preceded by as many empty lines as text has before
 * from, so that the lines of messages about it are the file's lines. Into out (reset first).
 */
void common_section(struct buf *out, const char *text, size_t from, size_t to);

/*
 * A migration with no down: an error unless --allow-irreversible, with which it compiles as
 * irreversible (no down script; rollback refuses to cross it). what says what is missing.
 */
void common_no_down(const struct read_options *opt, const char *file, const char *what,
                    struct report *rep);

/*
 * The tools that send a whole script as one query when they run it outside a transaction
 * (dbmate, diesel, golang-migrate): PostgreSQL runs such a multi-statement query as one
 * implicit transaction, so a statement that refuses transaction blocks only works alone.
 * Reports a script that has such a statement among others (the tool itself would fail) and
 * returns 1; returns 0 otherwise. *kind is set to the no-transaction kind found, if any.
 */
int common_whole_script_no_tx(const struct src_script *s, const char *tool, const char **kind,
                              struct report *rep);

/*
 * Run the tool argv (argv[0] searched on PATH) in dir, as a user would, with env_name=env_value
 * set when env_name is not NULL: its standard output into out, its standard error into errout.
 * Returns the tool's exit status (127: it could not be run, e.g. not installed), or -1 with
 * err set when it could not be started. For the readers that let the source tool render SQL.
 */
int common_run_tool(const char *dir, char *const *argv, const char *env_name, const char *env_value,
                    struct buf *out, struct buf *errout, struct diag_err *err);

#endif
