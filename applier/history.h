/*
 * history.h: the database side's record of what ran: the history schema (default "sealift"),
 * reading its state, and the SQL that writes it (shared by apply and plan, so a plan run by
 * psql leaves exactly what apply would). The journal's rows and their check: journal.h.
 *
 * Tables (all in one schema, keyed by project so several chains can share a database):
 *   meta      history format version, journal head hash and row count
 *   projects  per project: the environment the database is bound to, highest serial applied
 *   applied   one row per applied migration: checksums, chain hash, bundle, signers, who, when
 *   progress  per-statement progress of a no-transaction migration that has not finished
 *   journal   append-only events (apply, rollback, stamp, failure, ...), each row carrying
 *             SHA-256 over its own fields and the previous row's hash
 *   repeatable_runs  one row per run (or stamp, or adoption) of a repeatable migration: its
 *             name, the run's number, the checksum it ran with; the last run of a name is
 *             what the database has of it
 *   fingerprint  the schema each move left, tied to its last journal row (drift.h); not in
 *             the journal's hash chain, and not checked by history --verify
 */
#ifndef SEALIFT_APPLIER_HISTORY_H
#define SEALIFT_APPLIER_HISTORY_H

#include "db.h"
#include "sealift/buf.h"
#include "sealift/manifest.h"

#include <stddef.h>

struct history_ctx {
    char *schema;  /* as given */
    char *qschema; /* quoted identifier */
    char *project;
};

void history_ctx_init(struct history_ctx *h, const char *schema, const char *project);
void history_ctx_release(struct history_ctx *h);
/* 1 if name is an acceptable schema name (letters, digits, '_', not starting with a digit). */
int history_schema_name_valid(const char *name);

/* What the database's history says of one applied migration, as a bundle is compared with it
 * (who applied it, when and from which bundle is in the journal: see "history"). */
struct applied_row {
    long ordinal;
    char *id;
    char *name;
    char *up_source; /* hex SHA-256 of the up script's source */
    char *chain;     /* hex chain hash */
};

struct progress_row {
    char *id;
    char *direction; /* "up" or "down" */
    char *chain;
    long done;
    long total;
    char **stmt_sha; /* hex SHA-256 of each completed statement */
};

/* The last run of a repeatable the database recorded. */
struct repeatable_row {
    char *name;
    char *checksum; /* hex SHA-256 of the rendered script it ran (manifest chain) */
    char *how;      /* "applied", "stamped" or "adopted" */
};

struct db_state {
    int schema_exists;
    int history_version;
    int journal_upgraded; /* the journal has the columns added after version 1 */
    int has_fingerprints; /* the fingerprint table exists (drift.h) */
    struct applied_row *applied;
    size_t napplied;
    size_t applied_cap;
    int has_project;
    char *environment; /* the environment the database is bound to, or NULL */
    long long max_serial;
    struct progress_row *progress;
    size_t nprogress;
    size_t progress_cap;
    int has_repeatables;         /* the repeatable_runs table exists */
    struct repeatable_row *reps; /* the project's repeatables, by name: their last runs */
    size_t nreps;
    size_t reps_cap;
    /*
     * Read in the same round trip when the schema exists, so that the steps after the load
     * need not ask again (owned; NULL when the schema does not exist): the journal's key
     * statements (journal_sql_key_statements) and its head (journal_sql_pos); with
     * has_fingerprints, the last fingerprint without its snapshot (drift_sql_last).
     */
    struct db_rows *key_rows;
    struct db_rows *head_rows;
    struct db_rows *fingerprint_rows;
};

void db_state_init(struct db_state *s);
void db_state_release(struct db_state *s);
/*
 * Load the project's state in at most two round trips (which tables exist, then the rest). A
 * missing schema is not an error (schema_exists = 0).
 */
int history_load(struct db *db, const struct history_ctx *h, struct db_state *s,
                 struct db_error *e);
/* The last run of repeatable name, or NULL. */
const struct repeatable_row *history_repeatable(const struct db_state *s, const char *name);
/* The progress row of migration id in direction, or NULL. */
const struct progress_row *history_progress(const struct db_state *s, const char *id,
                                            const char *direction);

/* What every write knows about the bundle and the host it comes from. */
struct history_source {
    const char *bundle_id; /* hex */
    long long serial;
    const char
        *signers; /* verified key ids, comma-separated, then " (not verified here: ID,...)" */
    const char *environment;
    const char *client_host;
};

/* SQL that adds to an existing history what later versions added (idempotent). */
void history_sql_upgrade(const struct history_ctx *h, struct buf *out);

/* SQL that creates the history schema if it is missing (idempotent). */
void history_sql_create(const struct history_ctx *h, struct buf *out);

/* SQL for an applied row (how: "applied", "stamped", "adopted"). */
void history_sql_applied(const struct history_ctx *h, const struct history_source *src,
                         const struct manifest *m, size_t idx, const char *how,
                         const char *duration_ms, struct buf *out);
/* A history row's fields as text (NULL for SQL NULL), in the table's column order. */
#define HISTORY_APPLIED_FIELDS 16
struct history_row {
    char store[6][72];
    const char *v[16];
};

/* "INSERT INTO schema.applied (columns) VALUES " (for statements that add their rows). */
void history_sql_applied_head(const struct history_ctx *h, struct buf *out);
/*
 * The same rows for one COPY of many: the statement ("COPY schema.applied (columns) FROM
 * STDIN"), then each row's line of COPY text. at_utc in the journal's timestamp text
 * (journal.h), never NULL: COPY gives no column its default.
 */
void history_copy_applied_head(const struct history_ctx *h, struct buf *out);
void history_copy_applied_line(const struct history_ctx *h, const struct history_source *src,
                               const struct manifest *m, size_t idx, const char *how,
                               const char *duration_ms, const char *at_utc, struct buf *out);
void history_sql_unapplied(const struct history_ctx *h, const char *id, struct buf *out);
/*
 * One INSERT (no ";") of a run of repeatable rep (an index into m->repeatables): the next run
 * number of its name, its checksum, how ("applied", "stamped", "adopted"). at_utc NULL: the
 * server's clock_timestamp(); duration_ms NULL: none (a stamp).
 */
void history_sql_repeatable_run(const struct history_ctx *h, const struct history_source *src,
                                const struct manifest *m, size_t rep, const char *how,
                                const char *duration_ms, const char *at_utc, struct buf *out);

/*
 * A journal row whose time, actor, place in the chain and hash the server computes (for plan
 * scripts and adoption; journal.h has the rest of the journal).
 */
void history_sql_journal(const struct history_ctx *h, const struct history_source *src,
                         const char *event, const struct manifest *m, long idx, const char *detail,
                         struct buf *out);
/* Set meta's journal head and count from the journal (after a transaction's last row). */
void history_sql_journal_head(const struct history_ctx *h, struct buf *out);

/* The fields of an applied row (at_utc NULL: the server's clock), as
 * history_copy_applied_line writes them. */
void history_applied_fields(const struct history_ctx *h, const struct history_source *src,
                            const struct manifest *m, size_t idx, const char *how,
                            const char *duration_ms, const char *at_utc, struct history_row *row);

/*
 * One statement that records one migration with the server's times: its applied row, its
 * journal row and meta's journal head. Prepared once a session, it spares the server a parse
 * and a plan per migration. Parameters: $1-$13 the applied fields before applied_at, $14 its
 * client_host; $15 when the migration started (timestamptz; NULL: the transaction's start);
 * from HISTORY_RECORD_JOURNAL_PARAM the journal row's covered fields but at, in column order
 * (journal_sql_param_fields). It returns one row: the time (microseconds since the epoch),
 * the duration (microseconds), and the journal row's seq and hash.
 */
#define HISTORY_RECORD_JOURNAL_PARAM 16
void history_sql_record_prepared(const struct history_ctx *h, struct buf *out);

/* Bind the project: environment (if the bundle has one) and the highest serial. */
void history_sql_project(const struct history_ctx *h, const struct history_source *src,
                         struct buf *out);

/* Progress of a no-transaction migration: statements done so far, with their hashes. */
void history_sql_progress(const struct history_ctx *h, const char *id, const char *direction,
                          const char *chain, size_t done, size_t total, const char *const *stmt_sha,
                          struct buf *out);
void history_sql_progress_clear(const struct history_ctx *h, const char *id, const char *direction,
                                struct buf *out);

#endif
