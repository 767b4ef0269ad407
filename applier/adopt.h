/*
 * adopt.h: take over a database that another migration tool has been managing. When the
 * sealift history of a project is empty, the history table of the tool the bundle's chain came
 * from (the manifest's "source") is read; what it records as applied must be a prefix of the
 * signed chain, checked against the checksums the tool kept where it kept any (Flyway's
 * CRC32, Sqitch's script hash); those migrations are then recorded as adopted. Nothing runs.
 */
#ifndef SEALIFT_APPLIER_ADOPT_H
#define SEALIFT_APPLIER_ADOPT_H

#include "db.h"
#include "engine.h"
#include "history.h"
#include "sealift/buf.h"
#include "sealift/manifest.h"

#include <stddef.h>

struct adopt_result {
    int found;           /* the tool's history table exists */
    const char *tool;    /* e.g. "flyway" */
    char table[128];     /* where its history was found */
    size_t count;        /* the chain's first count migrations are recorded as applied by it */
    const char *columns; /* the columns read, space-separated (static) */
    char digest[33];     /* MD5 of those columns' values as read, so that recording can check */
    /*
     * Repeatables (indexes into manifest.repeatables, by name) whose last run the tool
     * recorded with the checksum it computes of the bundle's script (Flyway's CRC32, Liquibase's
     * MD5SUM of a runOnChange changeset), and that
     * are pending in sealift's own history: recorded as adopted, so they do not run again. A
     * repeatable changed since the tool ran it is not adopted: it runs on the next apply.
     */
    size_t *reps;
    size_t nreps;
    /* The repeatables an apply to the head runs after the adoption: the view's, less reps. */
    size_t *pending_reps;
    size_t npending_reps;
    struct buf problem; /* set when the tool's history cannot be adopted (exit 3) */
    /* Set by the caller: --adopt-table, the table to read instead of the tool's default. */
    const char *want_table;
};

/* 1 if name is TABLE or SCHEMA.TABLE of plain identifiers (letters, digits, '_'; 63 each). */
int adopt_table_name_valid(const char *name);

void adopt_result_init(struct adopt_result *a);
void adopt_result_release(struct adopt_result *a);

/*
 * Read the source tool's history, if any. view: the engine's comparison of sealift's own
 * history (its pending repeatables are the ones adoption may record). Returns 0, or -1 on a
 * database error.
 */
int adopt_detect(struct db *db, const struct manifest *m, const struct engine_view *view,
                 struct adopt_result *a, struct db_error *e);

/* 1 if a found history that may be adopted and that records something (migrations or
 * repeatables). */
int adopt_any(const struct adopt_result *a);

/*
 * The SQL that records the adoption (applied rows, repeatable runs, journal events, project,
 * journal head), in one transaction that first checks that the tool's table still holds what
 * adopt_detect read (so that a plan run later, or the tool running meanwhile, cannot record a
 * stale adoption).
 */
void adopt_sql(const struct adopt_result *a, const struct history_ctx *h,
               const struct history_source *src, const struct manifest *m, struct buf *out);

/*
 * --compat alembic: the SQL that leaves alembic_version (or table, when --adopt-table named
 * Alembic's version_table; NULL for the default) saying the database is at the first
 * head migrations of the chain (no row at base), so that Alembic keeps working alongside.
 */
void adopt_sql_alembic_version(const char *table, const struct manifest *m, size_t head,
                               struct buf *out);

#endif
