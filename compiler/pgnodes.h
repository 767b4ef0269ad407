/*
 * pgnodes.h: what PostgreSQL's own parse tree says about each statement of a text, read from
 * the parser's nodes as it leaves them (libpg_query's raw parse): no tree is serialised and
 * read back, which cost the lint more than the rest of its work together (docs/lint.md).
 *
 * pgnodes.c is the one file that speaks libpg_query and includes PostgreSQL's server headers;
 * this interface has only the project's types, so no other file depends on the layout of a
 * parse node.
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

/* A syntax error: the parser's message (malloc'd) and 1-based character position (0: none). */
struct pgnodes_error {
    char *message;
    int cursorpos;
};

/*
 * Delimit the statements of text (NUL-terminated) with PostgreSQL's grammar, reading no node:
 * append one entry per statement to out (loc and len only) and return 0, or fill err (release
 * it with pgnodes_error_release) and return -1 if text does not parse.
 */
int pgnodes_split(const char *text, struct pgstmt_list *out, struct pgnodes_error *err);
void pgnodes_error_release(struct pgnodes_error *err);

/*
 * Call cb with each identifier token of text (NUL-terminated), as PostgreSQL's scanner reads
 * it: tok points into text, len bytes, quotes included. Nothing when text does not scan.
 */
typedef void (*pgnodes_ident_cb)(const char *tok, size_t len, void *arg);
void pgnodes_identifiers(const char *text, pgnodes_ident_cb cb, void *arg);

/*
 * Release the parser's memory of the calling thread, at exit. (libpg_query frees the memory of
 * other threads when they end: calling this there would free it twice.)
 */
void pgnodes_shutdown(void);

#endif
