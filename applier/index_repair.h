/*
 * index_repair.h: make a no-transaction migration rerunnable after an interrupted concurrent
 * index build.
 *
 * When CREATE INDEX CONCURRENTLY fails or is cancelled (statement_timeout, a signal, a
 * uniqueness violation, a lost connection), PostgreSQL leaves the index behind, marked INVALID
 * (pg_index.indisvalid = false), and a rerun fails with "relation ... already exists". When
 * REINDEX CONCURRENTLY fails, it leaves the transient copy INVALID under the name
 * INDEX_ccnew (or, if it failed while dropping the old one, the old one as INDEX_ccold);
 * PostgreSQL's documentation says to drop either and run the REINDEX again.
 *
 * So, before such a statement runs, the applier records in the journal which index it builds
 * ("index_build": "statement K: CREATE INDEX CONCURRENTLY public.big_v_idx"), but only when
 * that name is free: an index that was there before is not the statement's. On a rerun of the
 * same migration (no apply, rollback or stamp of it since the record), an INVALID index the
 * record names (or a _ccnew/_ccold leftover of the REINDEX) is dropped with DROP INDEX
 * CONCURRENTLY, said ("index_repair" line, event and journal row), and the statement runs
 * again. A valid index is never dropped, nor one the journal does not say the statement built.
 * A valid index the record names is the statement's finished work (its client was killed after
 * the server finished the build): the statement counts as done. An index another backend is
 * still building (a statement whose client went away) is left alone: the rerun stops and says
 * which process to wait for or cancel. The _ccnew copy of a TOAST table's index (REINDEX TABLE)
 * is left alone: only allow_system_table_mods may drop it.
 *
 * Layer: applier. SQL goes through db.h.
 */
#ifndef SEALIFT_APPLIER_INDEX_REPAIR_H
#define SEALIFT_APPLIER_INDEX_REPAIR_H

#include "db.h"
#include "history.h"

#include <stddef.h>

/* PostgreSQL's longest identifier (NAMEDATALEN - 1); longer ones are cut, as the server does. */
#define INDEX_NAME_MAX 63

enum index_build_kind {
    INDEX_BUILD_NONE,
    INDEX_BUILD_CREATE,        /* CREATE [UNIQUE] INDEX CONCURRENTLY [IF NOT EXISTS] name ON t */
    INDEX_BUILD_REINDEX_INDEX, /* REINDEX [(...)] INDEX CONCURRENTLY [schema.]name */
    INDEX_BUILD_REINDEX_TABLE, /* REINDEX [(...)] TABLE CONCURRENTLY [schema.]name */
};

/* What a statement builds concurrently: names as the server folds them ("" when not given). */
struct index_build {
    enum index_build_kind kind;
    char schema[INDEX_NAME_MAX + 1]; /* CREATE: the table's schema as written; else the name's */
    char name[INDEX_NAME_MAX + 1];  /* the index (CREATE, REINDEX INDEX) or table (REINDEX TABLE) */
    char table[INDEX_NAME_MAX + 1]; /* CREATE: the table */
};

/*
 * Read stmt (len bytes, comments allowed) with the project's lexer. Returns 1 and fills *b when
 * it builds an index concurrently under a name it gives; else 0 (b->kind INDEX_BUILD_NONE):
 * other statements, CREATE INDEX CONCURRENTLY without a name, REINDEX SCHEMA/DATABASE/SYSTEM.
 * Pure.
 */
int index_build_parse(const char *stmt, size_t len, struct index_build *b);

/* How index_repair_before tells what it did. */
struct index_repair_say {
    /* An index dropped (action "dropped") or kept as the statement's finished work ("kept"):
     * its qualified name, the statement's words ("CREATE INDEX CONCURRENTLY", ...), and the
     * line for people. */
    void (*said)(void *data, const char *action, const char *index, const char *statement,
                 const char *line);
    /* Write a journal row now: event ("index_build" or "index_repair") and detail. */
    void (*journal)(void *data, const char *event, const char *detail);
    void *data;
};

/*
 * Before statement k (0-based) of migration mig_id runs, outside any transaction: if the
 * journal records that an earlier run of it built an index, drop what that run left INVALID;
 * then, if the name is free, record what this run builds. Returns 0 to run the statement; 1
 * when the recorded run's index is there and valid (its client was cut off after the server
 * finished): the statement is done, and is not run again; -1 with e set when a query or a
 * DROP failed, or the leftover is still being built by another backend (a statement whose
 * client went away: dropping it would wait for the build and drop the finished index).
 */
int index_repair_before(struct db *db, const struct history_ctx *h, const char *mig_id, size_t k,
                        const struct index_build *b, const struct index_repair_say *say,
                        struct db_error *e);

#endif
