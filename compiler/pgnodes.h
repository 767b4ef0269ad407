/*
 * pgnodes.h: what PostgreSQL's own parse tree says about each statement of a text, read from
 * the parser's nodes as it leaves them (libpg_query's raw parse): no tree is serialised and
 * read back, which cost the lint more than the rest of its work together (docs/lint.md).
 *
 * pgnodes.c is the one file that includes PostgreSQL's server headers; this interface has only
 * the project's types, so no other file depends on the layout of a parse node.
 */
#ifndef SEALIFT_COMPILER_PGNODES_H
#define SEALIFT_COMPILER_PGNODES_H

#include "lint.h"

#include <stddef.h>

enum pgstmt_copy { PGSTMT_COPY_NONE = 0, PGSTMT_COPY_FROM_STDIN, PGSTMT_COPY_TO_STDOUT };

/* One statement of a parsed text, with what sqlcheck.c's rules and the lint ask of it. */
struct pgstmt {
    size_t loc; /* offset of the statement in the text parsed */
    size_t len; /* its length; 0: it runs to the end of the text */
    /*
     * Transaction control: how to name it ("BEGIN", "COMMIT", "PREPARE TRANSACTION"...), or
     * "SAVEPOINT" with savepoint set (SAVEPOINT, RELEASE, ROLLBACK TO); NULL if it is none.
     */
    const char *txn;
    int savepoint;
    int copy; /* enum pgstmt_copy: COPY ... FROM STDIN / TO STDOUT (no file, no program) */
    /* A statement PostgreSQL runs only outside a transaction block: how to name it, or NULL. */
    const char *no_tx;
    /* With lint: the lint's operations (lint.h), in lint.ops / lint.nops; else empty. */
    struct lint_stmt lint;
};

struct pgstmt_list {
    struct pgstmt *v;
    size_t n;
    size_t cap;
};

/*
 * Parse text (NUL-terminated) with PostgreSQL's grammar and append one entry per statement to
 * out; with lint, each entry's lint operations too. Returns 0, or -1 if text does not parse
 * (nothing is appended then).
 */
int pgnodes_parse(const char *text, int lint, struct pgstmt_list *out);

/* Free the entries of l (their lint operations) and l's vector. */
void pgstmt_list_release(struct pgstmt_list *l);

#endif
