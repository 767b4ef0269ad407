/*
 * sqltarget.h: the relations a statement names as its targets, read from its first words with
 * the project's lexer (sqllex.h), without a parser: for a bundle signed without lint findings
 * (an older bundle) the applier still shows the size of, and the transactions open on, what
 * its statements alter, index, drop, truncate, lock, update or delete. A guess from the words,
 * not an analysis: what it cannot read (a DO block, a function call) names nothing.
 */
#ifndef SEALIFT_SQLTARGET_H
#define SEALIFT_SQLTARGET_H

#include <stddef.h>

/* The longest relation name kept: "schema"."name" at 63 bytes each, quoted, and the dot. */
#define SQLTARGET_NAME_MAX 260
/* At most this many targets of one statement (DROP TABLE a, b, ...). */
#define SQLTARGET_MAX 8

enum sqltarget_verb {
    SQLTARGET_ALTERS,    /* ALTER TABLE / ALTER INDEX / ALTER MATERIALIZED VIEW */
    SQLTARGET_INDEXES,   /* CREATE INDEX ... ON name */
    SQLTARGET_DROPS,     /* DROP TABLE / INDEX / MATERIALIZED VIEW */
    SQLTARGET_TRUNCATES, /* TRUNCATE */
    SQLTARGET_LOCKS,     /* LOCK TABLE */
    SQLTARGET_WRITES,    /* UPDATE, DELETE FROM */
    SQLTARGET_REBUILDS,  /* VACUUM FULL, CLUSTER, REINDEX TABLE/INDEX, REFRESH MAT. VIEW */
    SQLTARGET_CREATES,   /* CREATE TABLE / MATERIALIZED VIEW / VIEW: the relation is new */
};

struct sqltarget {
    enum sqltarget_verb verb;
    /*
     * "schema.name" or "name" as PostgreSQL folds it: unquoted words in lower case, quoted
     * ones as written (without the quotes, "" undoubled).
     */
    char name[SQLTARGET_NAME_MAX];
};

/*
 * Fill out[0..max) with the targets of the statement text[0, len) (comments and blanks
 * before it are skipped) and return how many (0 for a statement that names none, or one it
 * cannot read; a name too long is left out).
 */
size_t sqltarget_find(const char *text, size_t len, struct sqltarget *out, size_t max);

/* A word for what a verb does to its relation: "alters", "indexes", "drops", ... */
const char *sqltarget_verb_text(enum sqltarget_verb verb);

#endif
