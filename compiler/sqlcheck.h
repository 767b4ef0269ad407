/*
 * sqlcheck.h: every script is parsed with PostgreSQL's own grammar (libpg_query) before
 * anything is packaged.
 */
#ifndef SEALIFT_COMPILER_SQLCHECK_H
#define SEALIFT_COMPILER_SQLCHECK_H

#include "chain.h"
#include "pgnodes.h"

#include <stddef.h>

/*
 * Does the caller want the parse tree of the statement sql[start, end) (leading blanks and
 * comments included, no ';')? Called for the statements of a script, more than once for some:
 * a pure function of the text.
 */
typedef int (*sqlcheck_want_cb)(const char *sql, size_t start, size_t end);

/*
 * What sqlcheck_script read from the parse trees of the statements its caller wanted, so that
 * no statement is parsed twice: each one's lint operations, read from PostgreSQL's own parse
 * nodes (pgnodes.h; no tree is serialised). Take them with sqltrees_stmt; the fields are
 * sqlcheck.c's. Initialise with SQLTREES_INIT; release with sqltrees_release.
 */
struct sqltrees {
    struct pgstmt_list parsed; /* every statement parsed with its tree */
    size_t *refs;              /* per statement of the script's stmts: 1 + index in parsed, or 0 */
    size_t nrefs;
    size_t refs_cap;
};
#define SQLTREES_INIT                                                                              \
    {                                                                                              \
        {NULL, 0, 0}, NULL, 0, 0                                                                   \
    }

/*
 * The lint operations of statement i (of s->stmts), which the caller may take (move out of
 * ops, leaving it empty); NULL when the caller did not want that statement's tree. Valid until
 * sqltrees_release(t).
 */
struct lint_stmt *sqltrees_stmt(struct sqltrees *t, size_t i);
void sqltrees_release(struct sqltrees *t);

/*
 * Check s->rendered, the SQL of file:
 *   - a syntax error is reported as FILE:LINE:COLUMN with the parser's message;
 *   - transaction control (BEGIN, COMMIT, ROLLBACK, PREPARE TRANSACTION...) is refused, since
 *     sealift owns the transaction;
 *   - in a transactional script, statements PostgreSQL refuses inside a transaction block
 *     (CREATE INDEX CONCURRENTLY, VACUUM, ...) are refused with the directive to add, except
 *     in a script with may_block set, where the first one is recorded in s->blocked;
 *   - the statement ranges are stored in s->stmts (the applier runs them one by one, so
 *     that an error names its statement, line and column), and each COPY ... FROM STDIN's
 *     data (inline, or a "-- sealift:data" file) in s->copies.
 * Inline COPY data never reaches the parser: it reads the script with the data cut out (a
 * copy of the statements only), and offsets and positions are mapped back to the script.
 * With trees (empty, SQLTREES_INIT), the lint operations of the statements want asks for are
 * kept there, one entry per statement of s->stmts: each statement is parsed once, for the
 * checks here and for the caller (the lint). trees NULL: nothing is kept, want is not called.
 * Returns the number of problems reported.
 */
size_t sqlcheck_script(const char *file, struct src_script *s, sqlcheck_want_cb want,
                       struct sqltrees *trees, struct report *rep);

/*
 * Release the parser's memory of the calling thread, at exit. (libpg_query frees the memory of
 * other threads when they end: calling this there would free it twice.)
 */
void sqlcheck_shutdown(void);

#endif
