/*
 * db.h: the applier's only door to PostgreSQL (libpq is spoken in db.c and nowhere else).
 *
 * Connection parameters follow libpq's conventions: a conninfo string or URI, else
 * DATABASE_URL, else libpq's own PG* variables, service file and pgpass. Nothing here ever
 * prints or returns a password.
 */
#ifndef SEALIFT_APPLIER_DB_H
#define SEALIFT_APPLIER_DB_H

#include "sealift/buf.h"
#include "sealift/diag.h"

#include <stddef.h>
#include <sys/types.h>

struct db;

/* What the server said about a failed statement. Every field is a NUL-terminated string. */
struct db_error {
    char sqlstate[6];
    char message[1024];
    char detail[1024];
    char hint[512];
    char context[1024];
    int position; /* 1-based character position in the query, 0 if none */
    int connection_lost;
    int cancelled; /* SQLSTATE 57014: cancelled by us (signal) or by statement_timeout */
};

/* Connect. conninfo may be NULL (then DATABASE_URL, then libpq defaults). */
struct db *db_connect(const char *conninfo, struct diag_err *err);

/* The longest password asked for (psql's limit is 100; a pasted token may be longer). */
#define DB_PASSWORD_MAX 1024
/*
 * Ask the user for the password of user (a name, maybe ""), into buf (NUL-terminated, at most
 * cap bytes). Returns 0 with a password, -1 without one (no terminal, end of input).
 */
typedef int (*db_ask_password_cb)(const char *user, char *buf, size_t cap);
/*
 * db_connect, asking for a password with ask (NULL: never): before connecting when always is
 * set (-W), else only when the server asked for one and none was given (not in conninfo,
 * PGPASSWORD or pgpass). The password is passed to libpq only, and wiped after use.
 */
struct db *db_connect_ask(const char *conninfo, int always, db_ask_password_cb ask,
                          struct diag_err *err);
void db_close(struct db *db);
/*
 * Statements (no rows: SET ...) to run ahead of the next statement sent on db, in the same
 * message where the call allows it (db_query), else just before it; until they succeed, they
 * stay ahead of the next one. Nothing is sent by this call.
 */
void db_defer(struct db *db, const char *sql);
/* "user@host:port/dbname" (or the socket directory for host), with no password. */
const char *db_describe(const struct db *db);
int db_server_version(const struct db *db);

/*
 * Run sql (one or several statements, simple query protocol). Returns 0 when every statement
 * succeeded, -1 with e filled otherwise (e may be NULL).
 */
int db_exec(struct db *db, const char *sql, struct db_error *e);

/*
 * Run n single statements (NUL-terminated texts) inside the current transaction, pipelined:
 * sent together and answered together, so that many cost one round trip, while an error still
 * names its statement. On failure *failed is the index of the statement that failed.
 * Not for statements that must run outside a transaction block (use db_exec).
 */
int db_exec_statements(struct db *db, const char *const *stmts, size_t n, size_t *failed,
                       struct db_error *e);

/* One statement of a pipeline: SQL text, or a statement prepared with db_prepare and its
 * parameters (text values, NULL for SQL NULL). rows: NULL, or where the statement's rows go
 * when it returns rows (the caller frees them with db_rows_free, after a failure too; left
 * NULL when the statement did not run or failed). */
struct db_stmt {
    const char *sql;
    const char *prepared;
    int nparams;
    const char *const *params;
    struct db_rows **rows;
};

/* db_exec_statements for statements that may be prepared ones. */
int db_exec_pipeline(struct db *db, const struct db_stmt *stmts, size_t n, size_t *failed,
                     struct db_error *e);

/*
 * Prepare sql as the named statement of this connection, once: 1 if it is (now or already)
 * prepared, 0 if the server refused it (e filled; the caller goes on without it). Run it
 * outside a transaction block, or where an error may abort the transaction.
 */
int db_prepare(struct db *db, const char *name, const char *sql, struct db_error *e);

/*
 * The data of a COPY ... FROM STDIN: fill buf with up to cap bytes and return the count, 0 at
 * the end of the data, or -1 with err set to abort the COPY (the server then fails it).
 */
typedef ssize_t (*db_copy_source_cb)(void *data, char *buf, size_t cap, struct diag_err *err);

/*
 * Run the COPY ... FROM STDIN statement stmt, feeding it from src. On success *rows is the
 * count the server reports. If src failed, *source_err holds its error and e the server's
 * answer to the abort. Returns 0 or -1.
 */
int db_copy_in(struct db *db, const char *stmt, db_copy_source_cb src, void *src_data,
               unsigned long long *rows, struct diag_err *source_err, struct db_error *e);

/* A query's rows, as text. */
struct db_rows;

/* Run one query (no parameters) that returns rows. */
struct db_rows *db_query(struct db *db, const char *sql, struct db_error *e);
/*
 * Run n queries sent as one string ("SELECT ...; SELECT ...") in one round trip; the server
 * runs them in one implicit transaction. Fills out[0..n-1] and returns 0, or returns -1 with e
 * set (and nothing in out) when any failed or their number is not n.
 */
int db_query_batch(struct db *db, const char *sql, struct db_rows **out, size_t n,
                   struct db_error *e);
/*
 * Run one query (no parameters) and hand its rows to row(data, r) one at a time as they
 * arrive (r holds that one row, row 0; valid only during the call), so that a result of any
 * size takes the memory of one row. A row() that returns nonzero stops the query (the rest
 * of its rows are read and dropped). Returns 0; -1 with e set when the query failed; or
 * row()'s nonzero value.
 */
typedef int (*db_row_cb)(void *data, const struct db_rows *r);
int db_query_each(struct db *db, const char *sql, db_row_cb row, void *data, struct db_error *e);
size_t db_nrows(const struct db_rows *r);
/* Value of column col of row: NULL for SQL NULL. */
const char *db_value(const struct db_rows *r, size_t row, int col);
void db_rows_free(struct db_rows *r);

/* Quote s as an SQL literal / identifier. Returns malloc'd text. */
char *db_quote_literal(const char *s);
char *db_quote_ident(const char *s);
/* Append s to out as an SQL literal, or NULL when s is NULL. */
void db_add_literal(struct buf *out, const char *s);
/* Append s as one field of COPY's text format (backslash escapes), or \N when s is NULL. */
void db_add_copy_field(struct buf *out, const char *s);

/*
 * Poll pg_try_advisory_lock(k1, k2) every 100 ms until it is taken or timeout_ms passes
 * (never a blocking wait, which would deadlock with CREATE INDEX CONCURRENTLY). Returns 1
 * when taken, 0 on timeout, -1 on error. The lock is session-level: db_unlock() or closing
 * the connection releases it.
 */
int db_lock(struct db *db, int k1, int k2, long timeout_ms, struct db_error *e);
int db_unlock(struct db *db, int k1, int k2);

/*
 * Signals: db_arm_cancel() prepares a cancel request for this connection; db_cancel() sends
 * it and is async-signal-safe (PQcancel), for SIGINT/SIGTERM handlers.
 */
void db_arm_cancel(struct db *db);
void db_cancel(void);

/*
 * Watching a wait: while db_exec or db_exec_pipeline waits for the server's answer, call
 * cb(data, waited_ms) after first_ms and then every interval_ms (waited_ms: since the
 * statements were sent). cb must not use db (the statements are in flight on it); a second
 * connection (db_connect_twin) may. NULL cb: wait quietly (the default).
 */
typedef void (*db_wait_cb)(void *data, long waited_ms);
void db_set_wait_cb(struct db *db, db_wait_cb cb, void *data, long first_ms, long interval_ms);
/* The server process id of the connection (pg_backend_pid()). */
int db_backend_pid(const struct db *db);
/*
 * A second connection to the same server, database and role, with the parameters db was made
 * with, named application. Returns NULL with err set on failure.
 */
struct db *db_connect_twin(const struct db *db, const char *application, struct diag_err *err);

/* Format e for the user: message, then "detail:"/"hint:" lines are the caller's job. */
void db_error_from_message(struct db_error *e, const char *msg);

#endif
