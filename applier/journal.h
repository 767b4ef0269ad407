/*
 * journal.h: the hash-chained journal of the history schema (history.h has the schema). Each
 * row carries SHA-256 over its canonical text: its own fields and the previous row's hash.
 *
 * One table of fields (journal.c) defines the row: its columns in order, their SQL types, the
 * canonical text the client hashes, and the SQL expression with which the server computes the
 * same text (for rows a plan script writes, for the applier's prepared record, and for
 * "history --verify"). Nothing else spells the fields out.
 */
#ifndef SEALIFT_APPLIER_JOURNAL_H
#define SEALIFT_APPLIER_JOURNAL_H

#include "db.h"
#include "history.h"
#include "sealift/buf.h"
#include "sealift/manifest.h"

#include <stddef.h>

#define JOURNAL_FIELDS       17 /* columns of a journal row, its hash last */
#define JOURNAL_CANON_FIELDS 16 /* the fields the hash covers: all but the hash */
/* "up_source_sha256=HEX down_source_sha256=HEX|- up_sha256=HEX" and its NUL */
#define JOURNAL_CHECKSUMS_SIZE 256
#define JOURNAL_CANON_PREFIX   "sealift-journal-1;"
#define JOURNAL_ZERO_HASH      "0000000000000000000000000000000000000000000000000000000000000000"
/* The canonical text of a timestamp: UTC with microseconds, "2026-12-02T12:48:09.123456Z". */
#define JOURNAL_TS_FORMAT "'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'"
#define JOURNAL_TS_SIZE   40 /* room for it (27 bytes) and its NUL */

/*
 * The events of a repeatable's run: migration_id is its name, chain its checksum, ordinal
 * NULL. They leave a row in repeatable_runs (history.h) and never touch applied.
 */
#define JOURNAL_EVENT_REPEATABLE_APPLY "apply_repeatable"
#define JOURNAL_EVENT_REPEATABLE_STAMP "stamp_repeatable"
#define JOURNAL_EVENT_REPEATABLE_ADOPT "adopt_repeatable"

/* Where the journal ends: its last row's seq (0: empty) and hash (zeros: empty). */
struct journal_pos {
    long long seq;
    char hash[65];
};

/* A row's fields as text, in column order, NULL for SQL NULL; they point into store or into
 * the arguments of journal_row_fill (which must outlive the row). */
struct journal_row {
    const char *v[JOURNAL_FIELDS];
    char store[5][72];
    char checksums[JOURNAL_CHECKSUMS_SIZE];
};

/*
 * The checksums an apply, stamp or adopt event records for migration idx of m (what its
 * applied row holds), into out. Returns out.
 */
char *journal_checksums_text(const struct manifest *m, size_t idx,
                             char out[JOURNAL_CHECKSUMS_SIZE]);

/* The name of column i (0 <= i < JOURNAL_FIELDS). */
const char *journal_column(size_t i);
/* Append "seq, project, ..., hash". */
void journal_sql_columns(struct buf *out);

/* Append the canonical text of row: the prefix, then each covered field as LENGTH:VALUE; or -;
 * for NULL (so no two different rows share a text). */
void journal_canonical(const struct journal_row *row, struct buf *out);
/* Append an SQL expression computing the same text from the columns of alias (timestamps
 * formatted in UTC explicitly, so that no session setting changes the text). */
void journal_canonical_sql(const char *alias, struct buf *out);

/*
 * Fill row as the journal's next row after *pos, hash it, and advance *pos. event: apply,
 * rollback, stamp, failure, interrupted, bind, adopt. m may be NULL or idx -1 (no migration);
 * src, detail may be NULL. at_utc in the canonical timestamp text.
 */
void journal_row_fill(struct journal_row *row, const struct history_source *src, const char *event,
                      const struct manifest *m, long idx, const char *detail, const char *actor,
                      const char *at_utc, const char *project, struct journal_pos *pos);
/* Append the row as one line of COPY text (journal_copy_head). */
void journal_copy_line(const struct journal_row *row, struct buf *out);
/* Append "COPY schema.journal (columns) FROM STDIN". */
void journal_copy_head(const struct history_ctx *h, struct buf *out);
/* Append "INSERT INTO schema.journal (columns) VALUES ". */
void journal_sql_insert_head(const struct history_ctx *h, struct buf *out);
/*
 * Append one INSERT of the next row whose time (clock_timestamp()), actor (current_user),
 * place in the chain and hash the server computes with journal_canonical_sql: for scripts
 * that psql runs (plan) and for writes that do not know the journal's end. No trailing ";\n".
 */
void journal_sql_insert_computed(const struct history_ctx *h, const struct history_source *src,
                                 const char *event, const struct manifest *m, long idx,
                                 const char *detail, struct buf *out);
/*
 * The same as a prepared statement, for a script of many rows from one source: "PREPARE
 * name(types) AS INSERT ...;\n" once, with src's and detail's fields written in, then per row
 * "EXECUTE name('event', 'id', ordinal, 'chain', 'checksums');\n", one short line (plan).
 */
void journal_sql_prepare_computed(const struct history_ctx *h, const char *name,
                                  const struct history_source *src, const char *detail,
                                  struct buf *out);
void journal_sql_execute_computed(const char *name, const char *event, const struct manifest *m,
                                  long idx, struct buf *out);
/*
 * Append the SELECT list "$N::type AS column, ..." of the covered fields, for an
 * INSERT ... SELECT whose at comes from at_expr and whose parameters start at $first (every
 * covered field but at, in column order). Returns the next free parameter number.
 */
int journal_sql_param_fields(const char *at_expr, int first, struct buf *out);
/* The values journal_sql_param_fields' parameters take, from row, into out (room for
 * JOURNAL_CANON_FIELDS). Returns their count. */
int journal_param_values(const struct journal_row *row, const char **out);

/* Append the UPDATE that sets meta's journal head and count to *pos (no ";"). */
void journal_sql_set_pos(const struct history_ctx *h, const struct journal_pos *pos,
                         struct buf *out);
/* Append the UPDATEs that set meta's head and count from the journal's rows (";\n" each). */
void journal_sql_recount(const struct history_ctx *h, struct buf *out);
/* Format a time given in microseconds since the epoch as canonical timestamp text. */
void journal_ts_text(long long epoch_us, char out[JOURNAL_TS_SIZE]);
/*
 * Where the journal ends: the query (appended to out, no ";"), and the position its result
 * rows say (a journal without rows: seq 0 and the zero hash). journal_read_pos runs both.
 */
void journal_sql_pos(const struct history_ctx *h, struct buf *out);
void journal_pos_of(const struct db_rows *r, struct journal_pos *pos);
/* Read where the journal ends. Returns 0, or -1 on a database error (e filled). */
int journal_read_pos(struct db *db, const struct history_ctx *h, struct journal_pos *pos,
                     struct db_error *e);

/* Append the query for the journal's key statements in order: seq, detail (no ";"). */
void journal_sql_key_statements(const struct history_ctx *h, struct buf *out);

/* Does h's schema have a journal? 1, 0, or -1 on a database error (e filled). */
int journal_exists(struct db *db, const struct history_ctx *h, struct db_error *e);
/*
 * The same, when the caller may know already (known: history_load saw the history's tables,
 * which are created together): 1 then without asking the server, a round trip saved.
 */
int journal_exists_known(struct db *db, const struct history_ctx *h, int known, struct db_error *e);

/*
 * After a command that may have written the journal: when its end moved past *before, print
 * "journal head SEQ HASH" (one line; not with quiet) or, with json, emit
 * {"event":"journal_head","seq":SEQ,"head":"HASH"} on stdout, so that the head can be kept
 * outside the database (history --verify --expect-head). known: as journal_exists_known.
 * Returns 0, or -1 (e filled).
 */
int journal_report_head(struct db *db, const struct history_ctx *h,
                        const struct journal_pos *before, int json, int quiet, int known,
                        struct db_error *e);

/*
 * Check the journal: contiguous sequence, each row's hash over its fields, each prev_hash the
 * previous row's hash, meta's head and count, and applied rows backed by journal events.
 * Appends "journal intact: ..." or the first problem to out. Returns 0 if intact, 1 if
 * tampered, -1 on a database error (e filled).
 */
int journal_verify(struct db *db, const struct history_ctx *h, struct buf *out, struct db_error *e);

#endif
