/*
 * sqlcheck.h: every script is parsed with PostgreSQL's own grammar (libpg_query) before
 * anything is packaged.
 */
#ifndef SEALIFT_COMPILER_SQLCHECK_H
#define SEALIFT_COMPILER_SQLCHECK_H

#include "chain.h"

#include <stddef.h>

/*
 * Check s->rendered, the SQL of file:
 *   - a syntax error is reported as FILE:LINE:COLUMN with the parser's message;
 *   - transaction control (BEGIN, COMMIT, ROLLBACK, PREPARE TRANSACTION...) is refused, since
 *     sealift owns the transaction;
 *   - in a transactional script, statements PostgreSQL refuses inside a transaction block
 *     (CREATE INDEX CONCURRENTLY, VACUUM, ...) are refused with the directive to add, except
 *     in a script with may_block set, where the first one is recorded in s->blocked;
 *   - the statement ranges are stored in s->stmts (the applier runs them one by one, so
 *     that an error names its statement, line and column).
 * Returns the number of problems reported.
 */
size_t sqlcheck_script(const char *file, struct src_script *s, struct report *rep);

/*
 * Release the parser's memory of the calling thread, at exit. (libpg_query frees the memory of
 * other threads when they end: calling this there would free it twice.)
 */
void sqlcheck_shutdown(void);

#endif
