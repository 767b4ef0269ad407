/*
 * runner.c: execute apply, rollback and stamp walks against the database.
 * Layer: applier. walk.c decides the steps and where each transaction ends; the runner
 * follows it. Times in the history are the server's (clock_timestamp() around each
 * migration's statements, in the same pipeline), never the client's.
 */
#include "runner.h"
#include "adopt.h"
#include "journal.h"
#include "index_repair.h"
#include "lockwatch.h"
#include "progress.h"
#include "scriptsrc.h"
#include "sealift/json.h"
#include "sealift/textpos.h"
#include "sealift/xalloc.h"
#include "walk.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

struct queued;
struct recorded;

struct runner {
    struct db *db;
    const struct history_ctx *h;
    const struct history_source *src;
    const struct manifest *m;
    struct script_src *scripts;   /* the scripts' bytes, kept or read again as they run */
    struct bundle_cursor *cursor; /* re-reads data members from the bundle when loaded */
    const struct engine_view *view;
    struct engine_view noview; /* when the caller has none: nothing resumes */
    struct out *out;
    int per_migration;
    int compat_alembic;
    const char *alembic_table; /* --adopt-table with --compat alembic; NULL: the default */
    int nested;
    enum walk_record what;
    /* Where the database stands, in migrations of the chain applied. */
    size_t committed;
    /* Filled by the steps. */
    int in_tx;
    size_t tx_head;
    size_t tx_last; /* the migration last recorded in the open transaction: a COMMIT's culprit */
    int tx_last_kind;
    int signals_installed;
    /* The first failure, if any. */
    int failed;
    struct failure fail;
    /* Statements waiting to go out in one pipeline (see queue_*). */
    struct queued *queue;
    size_t nqueue;
    size_t queue_cap;
    /* Migrations recorded in the open transaction, reported once its COMMIT is answered. */
    struct recorded *unreported;
    size_t nunreported;
    size_t unreported_cap;
    /* Migrations reported as done while their transaction is open: undone if it fails. */
    size_t *shown;
    size_t nshown;
    size_t shown_cap;
    /* The journal: last committed row, and the last row of the open transaction. */
    struct journal_pos journal;
    struct journal_pos tx_journal;
    char actor[128];
    int project_written; /* the project row (environment, serial) is written once a run */
    struct buf loads;    /* what this migration's COPY statements loaded, for the journal */
    /* History rows of the open transaction not sent yet: "(...), (...)" (see queue_history). */
    struct buf pending_applied;
    struct buf pending_journal;
    size_t npending;
    /* The server's clock: before the migration's statements, after them, and the answer of
     * the prepared record (see op_record). */
    struct db_rows *clock_start;
    struct db_rows *clock_end;
    struct db_rows *record_rows;
    long long t0_us;     /* the running migration's start, when known (no-transaction ones) */
    int t0_is_tx_start;  /* it started its transaction: its start is the server's now() */
    size_t tx_starts;    /* migrations started in the open transaction */
    long long stamp_us;  /* the time of a stamp walk's records */
    int record_prepared; /* the record statement is prepared on this connection */
    int clock_prepared;  /* and the clock statement */
    int record_sent;     /* it is queued in the open transaction */
    /* The limits of the migrations' statements (runner_set_limits) and their retries. */
    long lock_timeout_ms;      /* 0: lock_timeout is left alone */
    long statement_timeout_ms; /* -1: statement_timeout is left alone */
    unsigned retries;
    char saved_lock_timeout[64]; /* the session's values, put back after each script */
    char saved_statement_timeout[64];
    unsigned lock_timeouts; /* lock failures of the transaction (or statement) retried */
    unsigned deadlocks;
    char lock_relation[256]; /* the relation the last lock failure waited for, "" if unknown */
    int notx_ran;            /* no-transaction statements ran since the last commit */
    int limits_set;          /* runner_set_limits was called: watch lock waits too */
    int limits_on;           /* the limits are SET LOCAL in the open transaction */
    struct lockwatch *watch;
    struct progress *progress; /* long statements and --warn-after, on the watcher's connection */
    long progress_after_ms;
    long warn_after_ms;
    size_t repair_idx;                  /* the migration index_repair.c works for (repair_index) */
    const struct runner_tracer *tracer; /* runner_set_tracer: statements one at a time */
    void *tracer_ctx;
    size_t walk_to; /* where the walk ends: its last COMMIT is there */
    /* The repeatables the walk runs (records) after the chain (runner_set_repeatables), how
     * many of them are committed, and how many the open transaction recorded. */
    struct walk_reps reps;
    size_t reps_done;
    size_t tx_reps;
    runner_final_cb final_cb; /* runs before that COMMIT (runner_set_final_cb) */
    void *final_ctx;
};

static volatile sig_atomic_t interrupted;

/* Is idx a step of the walk (a migration or a repeatable), not sealift's own? */
static int
is_step(const struct runner *r, size_t idx)
{
    return idx < r->m->nmigrations + r->m->nrepeatables;
}

/* SIGINT/SIGTERM: cancel the running statement; the step that was running then fails. */
static void
on_signal(int sig)
{
    interrupted = sig;
    db_cancel();
}

/* The handlers before ours: a caller with its own (test, which must remove its server). */
static struct sigaction saved_int, saved_term;

static void
signals_install(struct runner *r)
{
    struct sigaction sa;

    db_arm_cancel(r->db);
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &saved_int);
    sigaction(SIGTERM, &sa, &saved_term);
    r->signals_installed = 1;
}

/* Put back the caller's handlers, only if ours were installed (else the saved ones are not
 * the caller's, and a caller's own handler would be lost). */
static void
signals_restore(struct runner *r)
{
    if (!r->signals_installed)
        return;
    sigaction(SIGINT, &saved_int, NULL);
    sigaction(SIGTERM, &saved_term, NULL);
    r->signals_installed = 0;
}

int
runner_interrupted(void)
{
    return (int)interrupted;
}

static long long
now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static const char *
direction(int kind)
{
    return kind == MANIFEST_DOWN ? "down" : "up";
}

static int
fail(struct runner *r, size_t idx, int kind, long stmt, const struct db_error *e)
{
    if (!r->failed) {
        r->failed = 1;
        r->fail.idx = idx;
        r->fail.kind = kind;
        r->fail.stmt = stmt;
        r->fail.err = *e;
    }
    return -1;
}

static int
check_interrupt(struct runner *r, size_t idx, int kind)
{
    struct db_error e;

    if (!interrupted)
        return 0;
    db_error_from_message(&e, "interrupted by a signal before the next step");
    strcpy(e.sqlstate, "57014");
    e.cancelled = 1;
    return fail(r, idx, kind, -1, &e);
}

static int
exec_step(struct runner *r, const char *sql, size_t idx, int kind, long stmt)
{
    struct db_error e;

    if (check_interrupt(r, idx, kind) != 0)
        return -1;
    if (db_exec(r->db, sql, &e) != 0)
        return fail(r, idx, kind, stmt, &e);
    return 0;
}

/*
 * The queue: a transaction's BEGIN, each migration's statements and history rows, and its
 * COMMIT are sent together, pipelined, and answered together: one round trip per migration
 * instead of one per step, while a failure still names its statement.
 */
struct queued {
    char *sql;
    size_t idx;
    int kind;
    long stmt;     /* statement of the script, or -1 for sealift's own */
    int prepared;  /* sql is the name of a prepared statement */
    char **params; /* its parameters */
    int nparams;
    struct db_rows **rows; /* where its rows go, or NULL */
};

static void
queue_add(struct runner *r, char *sql, size_t idx, int kind, long stmt)
{
    r->queue = xgrow(r->queue, &r->queue_cap, r->nqueue + 1, sizeof(*r->queue));
    r->queue[r->nqueue].sql = sql;
    r->queue[r->nqueue].idx = idx;
    r->queue[r->nqueue].kind = kind;
    r->queue[r->nqueue].stmt = stmt;
    r->queue[r->nqueue].prepared = 0;
    r->queue[r->nqueue].params = NULL;
    r->queue[r->nqueue].nparams = 0;
    r->queue[r->nqueue].rows = NULL;
    r->nqueue++;
}

/* Queue the prepared statement name with n parameters (copied; NULL for SQL NULL). */
static void
queue_add_prepared(struct runner *r, const char *name, const char *const *params, int n, size_t idx,
                   int kind)
{
    char **copy = n ? xcalloc((size_t)n, sizeof(*copy)) : NULL;

    for (int i = 0; i < n; i++)
        copy[i] = params[i] ? xstrdup(params[i]) : NULL;
    queue_add(r, xstrdup(name), idx, kind, -1);
    r->queue[r->nqueue - 1].prepared = 1;
    r->queue[r->nqueue - 1].params = copy;
    r->queue[r->nqueue - 1].nparams = n;
}

/*
 * Queue a read of the server's clock (microseconds since the epoch) into *rows. It goes out
 * in the pipeline between the statements it times, so it is when the server ran them.
 */
#define CLOCK_SQL                                                                                  \
    "SELECT (extract(epoch FROM clock_timestamp()) * 1000000)::bigint, "                           \
    "(extract(epoch FROM now()) * 1000000)::bigint"
#define CLOCK_STATEMENT "sealift_clock_1"

static void
queue_clock(struct runner *r, struct db_rows **rows, size_t idx, int kind)
{
    db_rows_free(*rows);
    *rows = NULL;
    /* Prepared once a session (two a migration: parsing and planning them cost more). */
    if (r->clock_prepared)
        queue_add_prepared(r, CLOCK_STATEMENT, NULL, 0, idx, kind);
    else
        queue_add(r, xstrdup(CLOCK_SQL), idx, kind, -1);
    r->queue[r->nqueue - 1].rows = rows;
}

/* The clock read into *rows, or -1 if it was not read, and if tx_start is not NULL the start
 * of its transaction (or -1); frees the rows. */
static long long
take_clock(struct db_rows **rows, long long *tx_start)
{
    long long us = -1;

    if (tx_start)
        *tx_start = -1;
    if (*rows && db_nrows(*rows) == 1 && db_value(*rows, 0, 0) && db_value(*rows, 0, 1)) {
        us = atoll(db_value(*rows, 0, 0));
        if (tx_start)
            *tx_start = atoll(db_value(*rows, 0, 1));
    }
    db_rows_free(*rows);
    *rows = NULL;
    return us;
}

static void
queue_drop(struct runner *r)
{
    for (size_t i = 0; i < r->nqueue; i++) {
        free(r->queue[i].sql);
        for (int k = 0; k < r->queue[i].nparams; k++)
            free(r->queue[i].params[k]);
        free(r->queue[i].params);
    }
    r->nqueue = 0;
}

/* Send what is queued; on failure, fail() names the queued step that failed. */
static int
queue_flush(struct runner *r)
{
    struct db_stmt *stmts;
    struct db_error e;
    size_t failed = 0;
    int ret = 0;

    if (r->nqueue == 0)
        return 0;
    if (check_interrupt(r, r->queue[0].idx, r->queue[0].kind) != 0) {
        queue_drop(r);
        return -1;
    }
    stmts = xcalloc(r->nqueue, sizeof(*stmts));
    for (size_t i = 0; i < r->nqueue; i++) {
        const struct queued *q = &r->queue[i];

        stmts[i].sql = q->prepared ? NULL : q->sql;
        stmts[i].prepared = q->prepared ? q->sql : NULL;
        stmts[i].nparams = q->nparams;
        stmts[i].params = (const char *const *)q->params;
        stmts[i].rows = q->rows;
    }
    if (db_exec_pipeline(r->db, stmts, r->nqueue, &failed, &e) != 0)
        ret = fail(r, r->queue[failed].idx, r->queue[failed].kind, r->queue[failed].stmt, &e);
    free(stmts);
    queue_drop(r);
    return ret;
}

/*
 * The statement limits as one statement, appended to out (nothing when no limit is set):
 * "SELECT set_config('lock_timeout', '5000ms', true), ..." with restore the session's values
 * again. local: for the rest of the transaction (SET LOCAL), else for the session.
 */
static void
limits_sql(const struct runner *r, int local, int restore, struct buf *out)
{
    const char *names[2] = {"lock_timeout", "statement_timeout"};
    const char *saved[2] = {r->saved_lock_timeout, r->saved_statement_timeout};
    long ms[2] = {r->lock_timeout_ms > 0 ? r->lock_timeout_ms : -1, r->statement_timeout_ms};
    const char *sep = "SELECT ";

    for (int i = 0; i < 2; i++) {
        char v[64];
        char *lit;

        if (ms[i] < 0)
            continue;
        snprintf(v, sizeof(v), "%ldms", ms[i]);
        lit = db_quote_literal(restore ? saved[i] : v);
        buf_addf(out, "%sset_config('%s', %s, %s)", sep, names[i], lit, local ? "true" : "false");
        free(lit);
        sep = ", ";
    }
}

/*
 * Queue the limits (restore: the session's values again) in the open transaction, when they
 * are not so already: set before a script, they stay set across the scripts of the
 * transaction and are put back only before a history write (a statement planned after DDL
 * costs the server about a millisecond: one pair per transaction, not per migration).
 */
static void
queue_limits(struct runner *r, int restore, size_t idx, int kind)
{
    struct buf sql = BUF_INIT;

    if (r->limits_on == !restore)
        return;
    r->limits_on = !restore;
    limits_sql(r, 1, restore, &sql);
    if (sql.len)
        queue_add(r, buf_detach(&sql, NULL), idx, kind, -1);
    buf_release(&sql);
}

static int
is_lock_failure(const struct db_error *e)
{
    return strcmp(e->sqlstate, "55P03") == 0 || strcmp(e->sqlstate, "40P01") == 0;
}

/*
 * The relation a lock failure waited for, when the server's words name it: NOWAIT's "could
 * not obtain lock on relation \"x\"", or a deadlock's detail "Process N waits for MODE on
 * relation OID of database D" (our process is named first), resolved once the transaction is
 * rolled back. lock_timeout's message names none: then the lock watcher's last sighting
 * (lockwatch.h), taken from the second connection while the statement waited.
 */
static void
note_lock_relation(struct runner *r)
{
    const struct db_error *e = &r->fail.err;
    const char *p = strstr(e->message, "on relation \"");
    unsigned long oid;

    if (p) {
        p += strlen("on relation \"");
        snprintf(r->lock_relation, sizeof(r->lock_relation), "%.*s", (int)strcspn(p, "\""), p);
        return;
    }
    if (strcmp(e->sqlstate, "55P03") == 0 && lockwatch_relation(r->watch)[0]) {
        snprintf(r->lock_relation, sizeof(r->lock_relation), "%s", lockwatch_relation(r->watch));
        return;
    }
    p = strstr(e->detail, " on relation ");
    oid = p ? strtoul(p + strlen(" on relation "), NULL, 10) : 0;
    if (oid) {
        char sql[192];
        struct db_rows *rows;
        struct db_error qe;

        snprintf(sql, sizeof(sql),
                 "SELECT format('%%I.%%I', n.nspname, c.relname) FROM pg_class c JOIN "
                 "pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = %lu",
                 oid);
        rows = db_query(r->db, sql, &qe);
        if (rows && db_nrows(rows) == 1 && db_value(rows, 0, 0))
            snprintf(r->lock_relation, sizeof(r->lock_relation), "%s", db_value(rows, 0, 0));
        db_rows_free(rows);
    }
}

/* "6 lock timeouts", "2 lock timeouts and 1 deadlock" (the failures counted so far). */
static void
lock_failures_text(const struct runner *r, char *out, size_t cap)
{
    char t[64] = "", d[64] = "";

    if (r->lock_timeouts)
        snprintf(t, sizeof(t), "%u lock timeout%s", r->lock_timeouts,
                 r->lock_timeouts == 1 ? "" : "s");
    if (r->deadlocks)
        snprintf(d, sizeof(d), "%u deadlock%s", r->deadlocks, r->deadlocks == 1 ? "" : "s");
    snprintf(out, cap, "%s%s%s", t, t[0] && d[0] ? " and " : "", d);
}

/* The backoff before retry n (1-based): 1 s doubling, capped at 30 s, the upper half random. */
static long
backoff_ms(unsigned n)
{
    /* Undocumented, for the tests: a smaller base (milliseconds). */
    const char *env = getenv("SEALIFT_RETRY_BASE_MS");
    long base = env && *env ? atol(env) : 1000, cap = 30000, d = base;

    if (base <= 0)
        base = d = 1;
    for (unsigned i = 1; i < n && d < cap; i++)
        d *= 2;
    if (d > cap)
        d = cap;
    return d / 2 + (long)((unsigned long long)now_ns() / 1000 % (unsigned long long)(d / 2 + 1));
}

static void journal_event(struct runner *r, const char *event, size_t idx, const char *detail);
static void journal_warnings(struct runner *r);

/*
 * After a lock failure (55P03, 40P01), once the failed transaction or statement is rolled
 * back: count it; with retries left, say so (a line, a "retry" event, a journal row), wait the
 * backoff and clear the failure. Returns 1 to run it again; 0 to stop, the failure standing
 * (when the retries ran out, its message says "gave up after N lock timeouts on RELATION").
 */
static int
lock_retry(struct runner *r)
{
    struct db_error *e = &r->fail.err, f_err;
    const char *mig;
    int known = is_step(r, r->fail.idx);
    char failures[160], on[300] = "", detail[700];
    struct buf f = BUF_INIT;
    unsigned n;
    long ms;

    if (!r->failed || r->nested || interrupted || e->connection_lost || !is_lock_failure(e))
        return 0;
    if (strcmp(e->sqlstate, "55P03") == 0)
        r->lock_timeouts++;
    else
        r->deadlocks++;
    note_lock_relation(r);
    n = r->lock_timeouts + r->deadlocks;
    lock_failures_text(r, failures, sizeof(failures));
    if (r->lock_relation[0])
        snprintf(on, sizeof(on), " on %s", r->lock_relation);
    if (n > r->retries) {
        char msg[sizeof(e->message)];

        if (snprintf(msg, sizeof(msg), "gave up after %s%s: %s", failures, on, e->message) <
            (int)sizeof(msg))
            memcpy(e->message, msg, sizeof(msg));
        return 0;
    }
    ms = backoff_ms(n);
    mig = known ? engine_revision_label(r->m, r->fail.idx + 1) : "(history)";
    snprintf(detail, sizeof(detail), "%s%s (%s); retry %u of %u in %.1f s", failures, on,
             e->sqlstate, n, r->retries, (double)ms / 1000.0);
    if (r->out->json) {
        json_key(&f, "migration", 1);
        json_str(&f, known ? walk_migration(r->m, r->fail.idx)->id : NULL);
        json_key(&f, "label", 0);
        json_str(&f, mig);
        json_key(&f, "sqlstate", 0);
        json_str(&f, e->sqlstate);
        json_key(&f, "message", 0);
        json_str(&f, e->message);
        json_key(&f, "relation", 0);
        json_str(&f, r->lock_relation[0] ? r->lock_relation : NULL);
        json_key(&f, "statement", 0);
        if (r->fail.stmt >= 0)
            buf_addf(&f, "%ld", r->fail.stmt + 1);
        else
            buf_addstr(&f, "null");
        buf_addf(&f, ",\"attempt\":%u,\"retries\":%u,\"delay_ms\":%ld", n, r->retries, ms);
        out_event(r->out, "retry", f.data);
        buf_release(&f);
    } else {
        out_info(r->out, "retry %u of %u: %s: %s%s; rolled back, trying again in %.1f s", n,
                 r->retries, mig, strcmp(e->sqlstate, "55P03") == 0 ? "lock timeout" : "deadlock",
                 on, (double)ms / 1000.0);
    }
    journal_event(r, "retry", r->fail.idx, detail);
    /* The next attempt's rows chain after that row. */
    if (journal_read_pos(r->db, r->h, &r->journal, &f_err) != 0)
        return 0;
    r->tx_journal = r->journal;
    for (long waited = 0; waited < ms && !interrupted; waited += 50) {
        struct timespec step = {0, (ms - waited < 50 ? ms - waited : 50) * 1000000L};

        nanosleep(&step, NULL);
    }
    if (interrupted)
        return 0;
    r->failed = 0;
    r->fail.stmt = -1;
    r->fail.rejected = 0;
    r->fail.binary = 0;
    memset(&r->fail.err, 0, sizeof(r->fail.err));
    lockwatch_forget(r->watch);
    return 1;
}

/*
 * A migration recorded but not yet reported: when a COMMIT follows its record at once (walk.c
 * says so), the record and the COMMIT go out in one round trip, and the migration is reported
 * only after the COMMIT succeeded, with the duration the server measured.
 */
struct recorded {
    const char *verb;
    size_t idx;
    double ms;
};

static void
report(struct runner *r, const char *verb, size_t idx, double ms)
{
    out_migration(r->out, verb, walk_migration(r->m, idx)->id, engine_revision_label(r->m, idx + 1),
                  ms);
}

static void
report_recorded(struct runner *r)
{
    for (size_t i = 0; i < r->nunreported; i++)
        report(r, r->unreported[i].verb, r->unreported[i].idx, r->unreported[i].ms);
    r->nunreported = 0;
}

/*
 * History rows are held and sent as one INSERT per table, at the COMMIT or every
 * HISTORY_BATCH migrations. One INSERT per migration cost the server more than a small
 * migration itself: after each DDL statement of the transaction, the next statement plans
 * against invalidated catalog caches, so a row apiece made 3,000 one-table migrations 1.6x
 * slower than psql running them. Held rows are in the transaction all the same: they commit
 * with it or not at all.
 */
#define HISTORY_BATCH 500

/* The prepared statement that records one migration (history_sql_record_prepared). */
#define RECORD_STATEMENT "sealift_record_2"

/* COPY's data from memory (db_copy_source_cb). */
struct copy_text {
    const char *p;
    size_t left;
};

static ssize_t
copy_text_read(void *data, char *buf, size_t cap, struct diag_err *err)
{
    struct copy_text *t = data;
    size_t n = t->left < cap ? t->left : cap;

    (void)err;
    memcpy(buf, t->p, n);
    t->p += n;
    t->left -= n;
    return (ssize_t)n;
}

/* COPY the rows of lines (COPY text) with the statement head; fail() names the last step. */
static int
copy_rows(struct runner *r, const char *head, const struct buf *lines)
{
    struct copy_text t = {lines->data, lines->len};
    struct diag_err src_err = {0};
    unsigned long long rows;
    struct db_error e;

    if (db_copy_in(r->db, head, copy_text_read, &t, &rows, &src_err, &e) != 0)
        return fail(r, r->tx_last, r->tx_last_kind, -1, &e);
    return 0;
}

/*
 * Send the held rows, one COPY per table, and then queue the statement then (may be NULL).
 * COPY is the cheapest insert the server has: a multi-row INSERT of the same rows cost it
 * about 50 ms per 500 migrations to parse and evaluate its literals (after DDL, each new
 * statement also plans against invalidated catalog caches). COPY cannot be pipelined: the
 * queue is sent first, so the rows still follow the statements they record.
 */
static int
queue_history(struct runner *r, char *then)
{
    struct buf head = BUF_INIT;
    int ret = 0;

    if ((r->pending_applied.len || r->pending_journal.len) && queue_flush(r) != 0)
        ret = -1;
    if (ret == 0 && r->pending_applied.len) {
        history_copy_applied_head(r->h, &head);
        ret = copy_rows(r, head.data, &r->pending_applied);
        buf_reset(&head);
    }
    if (ret == 0 && r->pending_journal.len) {
        journal_copy_head(r->h, &head);
        ret = copy_rows(r, head.data, &r->pending_journal);
    }
    buf_release(&head);
    if (then && ret == 0)
        queue_add(r, then, r->tx_last, r->tx_last_kind, -1);
    else
        free(then);
    buf_reset(&r->pending_applied);
    buf_reset(&r->pending_journal);
    r->npending = 0;
    return ret;
}

/* Hold the next journal row of the open transaction. */
static void
hold_journal(struct runner *r, const char *event, long idx, const char *detail, const char *at)
{
    struct journal_row row;

    journal_row_fill(&row, r->src, event, r->m, idx, detail, r->actor, at, r->h->project,
                     &r->tx_journal);
    journal_copy_line(&row, &r->pending_journal);
}

static int
op_begin(void *ctx)
{
    struct runner *r = ctx;

    queue_add(r, xstrdup(r->nested ? "SAVEPOINT sealift_walk" : "BEGIN"), r->committed, MANIFEST_UP,
              -1);
    r->in_tx = 1;
    r->limits_on = 0;
    r->tx_starts = 0;
    r->tx_reps = 0;
    r->tx_head = r->committed;
    r->tx_last = r->committed;
    r->tx_last_kind = MANIFEST_UP;
    r->tx_journal = r->journal;
    return 0;
}

/* The prepared record's answer: the journal's new end, and the migration's duration. */
static int
take_record(struct runner *r)
{
    struct db_rows *rows = r->record_rows;
    struct db_error e;

    r->record_rows = NULL;
    r->record_sent = 0;
    if (rows == NULL || db_nrows(rows) != 1) {
        db_rows_free(rows);
        db_error_from_message(&e, "the history record returned no row");
        return fail(r, r->tx_last, r->tx_last_kind, -1, &e);
    }
    r->tx_journal.seq = atoll(db_value(rows, 0, 2));
    snprintf(r->tx_journal.hash, sizeof(r->tx_journal.hash), "%s", db_value(rows, 0, 3));
    if (r->nunreported)
        r->unreported[r->nunreported - 1].ms = (double)atoll(db_value(rows, 0, 1)) / 1000.0;
    db_rows_free(rows);
    return 0;
}

static int
op_commit(void *ctx)
{
    struct runner *r = ctx;
    struct buf sql = BUF_INIT;

    queue_limits(r, 1, r->tx_last, r->tx_last_kind); /* history writes follow */
    if (!r->project_written) {
        history_sql_project(r->h, r->src, &sql);
        buf_truncate(&sql, sql.len - 2); /* one statement: no ";\n" */
        queue_add(r, buf_detach(&sql, NULL), r->tx_last, MANIFEST_UP, -1);
    }
    if (!r->record_sent) {
        /* The held rows and meta's journal head: one statement. (The prepared record sets
         * the head itself.) */
        journal_sql_set_pos(r->h, &r->tx_journal, &sql);
        if (queue_history(r, buf_detach(&sql, NULL)) != 0)
            return -1;
    }
    if (r->compat_alembic) {
        /* Several statements of simple-query text: sent on their own, before the COMMIT. */
        if (queue_flush(r) != 0)
            return -1;
        adopt_sql_alembic_version(r->alembic_table, r->m, r->tx_head, &sql);
        if (exec_step(r, sql.data, r->tx_last, MANIFEST_UP, -1) != 0) {
            buf_release(&sql);
            return -1;
        }
        buf_release(&sql);
    }
    if (r->final_cb && !r->nested && r->tx_head == r->walk_to &&
        r->reps_done + r->tx_reps == r->reps.n) {
        /* The schema as this last transaction leaves it: its statements must have run. */
        if (queue_flush(r) != 0)
            return -1;
        r->final_cb(r->final_ctx, r->db);
    }
    /* A COMMIT that fails (a deferred constraint) is the last recorded migration's. */
    queue_add(r, xstrdup(r->nested ? "RELEASE SAVEPOINT sealift_walk" : "COMMIT"), r->tx_last,
              r->tx_last_kind, -1);
    if (queue_flush(r) != 0)
        return -1;
    if (r->record_sent && take_record(r) != 0)
        return -1;
    report_recorded(r);
    r->nshown = 0; /* durable now */
    r->in_tx = 0;
    r->notx_ran = 0;
    r->limits_on = 0;
    r->lock_timeouts = r->deadlocks = 0; /* --retries counts per transaction */
    r->committed = r->tx_head;
    r->reps_done += r->tx_reps;
    r->tx_reps = 0;
    r->journal = r->tx_journal;
    r->project_written = 1;
    journal_warnings(r);
    return 0;
}

/*
 * Does the prepared statement record this migration, timing it on the server? With one
 * transaction per migration (the only mode that prepares it), when no rows are held and its
 * start is known to the server: the start of its transaction, or a time read before.
 */
static int
record_on_server(const struct runner *r)
{
    return r->record_prepared && r->what == WALK_APPLY && r->npending == 0 &&
           (r->t0_is_tx_start || r->t0_us >= 0);
}

static int
op_start(void *ctx, size_t idx, int kind)
{
    struct runner *r = ctx;

    buf_reset(&r->loads);
    lockwatch_migration(r->watch, walk_migration(r->m, idx)->id);
    if (r->progress)
        progress_migration(r->progress, idx, walk_migration(r->m, idx)->id);
    r->t0_us = -1;
    db_rows_free(r->clock_start);
    r->clock_start = NULL;
    /*
     * The first migration of a transaction starts with it: the server's now() is its start,
     * and the prepared record reads it without a clock statement. Stamps run nothing: they
     * have no duration.
     */
    r->t0_is_tx_start = r->in_tx && r->tx_starts++ == 0;
    if (r->what != WALK_STAMP && !(r->t0_is_tx_start && r->record_prepared))
        queue_clock(r, &r->clock_start, idx, kind);
    return 0;
}

/*
 * A script's bytes could not be read, or differ from what verification saw: the bundle is
 * refused (exit 1), and the open transaction is rolled back by the failure.
 */
static int
fail_script(struct runner *r, size_t idx, int kind, long stmt, const struct diag_err *err)
{
    struct db_error e;

    db_error_from_message(&e, err->msg);
    r->fail.rejected = 1;
    return fail(r, idx, kind, stmt, &e);
}

/* Statement bytes queued in a script before they are sent: a bound, not a whole script. */
#define SCRIPT_QUEUE_BYTES (1024u * 1024u)

/* Where a COPY's data comes from, and how much of it has gone to the server. */
struct copy_feed {
    struct runner *r;
    struct script_reader *script; /* inline data: the script's bytes up to script_end */
    uint64_t script_end;
    struct bundle_cursor *cursor; /* or a data member */
    const char *label;
    uint64_t total;
    uint64_t sent;
    int binary; /* the data starts with binary COPY's signature */
    unsigned long long lines;
    long long started;
    long long reported;
};

static ssize_t
copy_feed_cb(void *data, char *buf, size_t cap, struct diag_err *err)
{
    struct copy_feed *f = data;
    ssize_t n;
    long long now;

    if (interrupted)
        return err_set(err, "interrupted by a signal");
    if (f->cursor) {
        n = bundle_cursor_read(f->cursor, buf, cap, err);
        if (n < 0)
            return -1;
    } else {
        n = script_read(f->script, buf, cap, f->script_end, err);
        if (n < 0)
            return -1;
    }
    if (f->sent == 0 && n >= 11 && memcmp(buf, "PGCOPY\n\377\r\n", 11) == 0)
        f->binary = 1;
    for (const char *q = buf, *end = buf + n; (q = memchr(q, '\n', (size_t)(end - q))) != NULL; q++)
        f->lines++;
    f->sent += (uint64_t)n;
    now = now_ns();
    if (n > 0 && now - f->reported > 500000000LL) {
        out_load_progress(f->r->out, f->label, f->sent, f->total, f->lines,
                          (double)(now - f->started) / 1e9);
        f->reported = now;
    }
    return n;
}

/* Run statement k, the COPY ... FROM STDIN stmt, feeding it its data (inline: from rd). */
static int
run_copy(struct runner *r, size_t idx, int kind, size_t k, const struct manifest_copy *c,
         const char *stmt, struct script_reader *rd)
{
    const struct manifest_script *s = &walk_migration(r->m, idx)->script[kind];
    struct diag_err src_err = DIAG_ERR_INIT;
    struct copy_feed f;
    struct db_error e;
    unsigned long long rows = 0;
    char *label = NULL;
    int ret = 0;

    if (check_interrupt(r, idx, kind) != 0)
        return -1;
    memset(&f, 0, sizeof(f));
    f.r = r;
    f.started = now_ns();
    f.reported = f.started;
    if (c->inline_data) {
        /* A retried no-transaction COPY reads its data again (rd is then seekable). */
        if (script_seek(rd, c->offset, &src_err) != 0)
            return fail_script(r, idx, kind, (long)k, &src_err);
        f.script = rd;
        f.script_end = c->offset + c->length;
        f.total = c->length;
        /* A script may hold many blocks: name each by the line its data starts on. */
        label = xasprintf("%s:%lu", r->m->members[s->member].path, script_line(rd));
        f.label = label;
    } else {
        f.total = r->m->members[c->member].size;
        f.label = r->m->members[c->member].path;
        if (bundle_cursor_seek(r->cursor, c->member, &src_err) != 0) {
            db_error_from_message(&e, src_err.msg);
            r->fail.rejected = 1;
            return fail(r, idx, kind, (long)k, &e);
        }
        f.cursor = r->cursor;
    }
    if (db_copy_in(r->db, stmt, copy_feed_cb, &f, &rows, &src_err, &e) != 0) {
        if (src_err.msg[0]) {
            /* Our side stopped the COPY: say why, not the server's echo of it. */
            db_error_from_message(&e, src_err.msg);
            r->fail.rejected = !interrupted;
            e.cancelled = interrupted != 0;
        }
        if (!r->failed)
            r->fail.binary = f.binary;
        ret = fail(r, idx, kind, (long)k, &e);
    } else {
        out_load_done(r->out, f.label, rows, f.sent, (double)(now_ns() - f.started) / 1e6);
        buf_addf(&r->loads, "%s%s: %llu rows, %llu bytes", r->loads.len ? "; " : "loaded ", f.label,
                 rows, (unsigned long long)f.sent);
    }
    free(label);
    return ret;
}

/*
 * Run a transactional script as it is read: statements pipelined (sent with the migration's
 * history rows, or as soon as SCRIPT_QUEUE_BYTES of them wait), COPY statements fed one by
 * one. The script is read to its end before the transaction can commit: bytes that differ from
 * what verification saw fail the migration, and the transaction is rolled back. With a tracer
 * (test's lock trace), each statement runs on its own, the tracer told before the first and
 * after each.
 */
static int
op_script(void *ctx, size_t idx, int kind)
{
    struct runner *r = ctx;
    const struct manifest_script *s = &walk_migration(r->m, idx)->script[kind];
    struct diag_err err = DIAG_ERR_INIT;
    struct script_reader *rd;
    size_t queued = 0, next_copy = 0;
    /* (test's lock trace follows the chain's migrations, not the repeatables) */
    int traced = r->tracer && kind != MANIFEST_VERIFY && !walk_is_repeatable(r->m, idx);

    if (check_interrupt(r, idx, kind) != 0)
        return -1;
    /* The script's statements run under the limits; sealift's history writes do not. */
    queue_limits(r, 0, idx, kind);
    if (traced) {
        if (queue_flush(r) != 0)
            return -1;
        r->tracer->start(r->tracer_ctx, r->db, idx, kind);
    }
    rd = script_open(r->scripts, s->member, 0, &err);
    if (rd == NULL)
        return fail_script(r, idx, kind, -1, &err);
    for (size_t k = 0; k < s->nstmts; k++) {
        const struct manifest_copy *c = next_copy < s->ncopies && s->copies[next_copy].stmt == k
                                            ? &s->copies[next_copy++]
                                            : NULL;
        unsigned line = 0;
        char *stmt = script_take_stmt(rd, s, k, SIZE_MAX, &line, &err);
        long long t0 = now_ns();
        int bad;

        if (stmt == NULL) {
            script_close(rd);
            return fail_script(r, idx, kind, (long)k, &err);
        }
        if (c == NULL) {
            queue_add(r, stmt, idx, kind, (long)k);
            queued += (size_t)s->stmts[k].length;
            if (!traced && queued < SCRIPT_QUEUE_BYTES)
                continue;
            queued = 0;
            bad = queue_flush(r);
        } else {
            queued = 0;
            bad = queue_flush(r) != 0 || run_copy(r, idx, kind, k, c, stmt, rd) != 0;
            free(stmt);
        }
        if (bad) {
            script_close(rd);
            return -1;
        }
        if (traced)
            r->tracer->statement(r->tracer_ctx, r->db, idx, kind, k, line,
                                 (double)(now_ns() - t0) / 1e6, 1);
    }
    if (script_finish(rd, &err) != 0)
        return fail_script(r, idx, kind, -1, &err);
    return 0;
}

/*
 * Does a statement control transactions itself (BEGIN, COMMIT, SAVEPOINT, ...), or mean
 * something else inside a transaction block (LOCK, DECLARE)? Its first word says.
 */
static int
controls_transactions(const char *stmt)
{
    static const char *const words[] = {"BEGIN",    "START", "COMMIT",    "END",
                                        "ROLLBACK", "ABORT", "SAVEPOINT", "RELEASE",
                                        "PREPARE",  "LOCK",  "DECLARE"};
    const char *p = stmt + textpos_skip_blank(stmt, strlen(stmt));
    size_t n = 0;

    while ((p[n] >= 'a' && p[n] <= 'z') || (p[n] >= 'A' && p[n] <= 'Z'))
        n++;
    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
        if (strlen(words[i]) == n && strncasecmp(p, words[i], n) == 0)
            return 1;
    return 0;
}

/*
 * Run statement k of a no-transaction script and record it as done. Where PostgreSQL allows,
 * both happen in one transaction of their own: run apart, a kill -9, a lost connection or a
 * crash between the two would leave the statement done but not recorded, and the rerun would
 * run it a second time (and status would under-report). A statement the server refuses in a
 * transaction block (CREATE INDEX CONCURRENTLY, VACUUM, ...: SQLSTATE 25001) or that ends
 * transactions itself (a procedure that commits: 2D000) fails before it changed anything
 * that stays; it is rolled back and run bare, then recorded, as are the script's own
 * transaction-control statements. Returns 0, or -1 after fail().
 */
static int
notx_try(struct runner *r, size_t idx, int kind, size_t k, const struct manifest_copy *c,
         const char *stmt, struct script_reader *rd, const char *record)
{
    struct db_error e;
    struct buf sql = BUF_INIT;
    int ret;

    if (!r->nested && !controls_transactions(stmt)) {
        /* The limits hold for the statement: SET LOCAL, put back before the record. */
        buf_addstr(&sql, "BEGIN;");
        limits_sql(r, 1, 0, &sql);
        ret = exec_step(r, sql.data, idx, kind, -1);
        buf_reset(&sql);
        if (ret != 0)
            goto done;
        r->in_tx = 1; /* a failure from here on is rolled back by after_failure() */
        if (c) {
            ret = run_copy(r, idx, kind, k, c, stmt, rd);
        } else if ((ret = check_interrupt(r, idx, kind)) == 0 && db_exec(r->db, stmt, &e) != 0) {
            if (strcmp(e.sqlstate, "25001") != 0 && strcmp(e.sqlstate, "2D000") != 0) {
                ret = fail(r, idx, kind, (long)k, &e);
                goto done;
            }
            if (db_exec(r->db, "ROLLBACK", &e) != 0) {
                ret = fail(r, idx, kind, -1, &e);
                goto done;
            }
            r->in_tx = 0;
            ret = 1; /* not in a transaction block: run it bare below */
        }
        if (ret <= 0) {
            if (ret == 0) {
                limits_sql(r, 1, 1, &sql);
                buf_addf(&sql, "%s%sCOMMIT;", sql.len ? ";\n" : "", record);
                ret = exec_step(r, sql.data, idx, kind, -1);
                if (ret == 0)
                    r->in_tx = 0;
            }
            goto done;
        }
    }
    /* Outside a transaction block the limits are the session's, for this statement only. */
    limits_sql(r, 0, 0, &sql);
    if (sql.len && (ret = exec_step(r, sql.data, idx, kind, -1)) != 0)
        goto done;
    buf_reset(&sql);
    limits_sql(r, 0, 1, &sql);
    ret = c ? run_copy(r, idx, kind, k, c, stmt, rd) : exec_step(r, stmt, idx, kind, (long)k);
    if (ret == 0) {
        /* Record the statement as done at once: a rerun must not run it again. */
        buf_addf(&sql, "%s%s", sql.len ? ";\n" : "", record);
        ret = exec_step(r, sql.data, idx, kind, -1);
    } else if (sql.len) {
        struct db_error ignored;

        db_exec(r->db, sql.data, &ignored);
    }
done:
    buf_release(&sql);
    return ret;
}

/*
 * Run statement k of a no-transaction script (notx_try), again after a lock failure while
 * retries remain: the statement failed as a whole (rolled back, or refused before it ran), so
 * running it again is what a rerun would do.
 */
static int
notx_step(struct runner *r, size_t idx, int kind, size_t k, const struct manifest_copy *c,
          const char *stmt, struct script_reader *rd, const char *record)
{
    for (;;) {
        struct db_error e;

        if (notx_try(r, idx, kind, k, c, stmt, rd, record) == 0) {
            r->lock_timeouts = r->deadlocks = 0; /* and per statement */
            return 0;
        }
        if (r->in_tx) {
            db_exec(r->db, "ROLLBACK", &e);
            r->in_tx = 0;
        }
        if (!lock_retry(r))
            return -1;
    }
}

/* What index_repair.c says: a line, or an "index_repair" event. */
static void
repair_said_cb(void *data, const char *action, const char *index, const char *statement,
               const char *line)
{
    struct runner *r = data;
    struct buf f = BUF_INIT;

    if (!r->out->json) {
        out_info(r->out, "%s", line);
        return;
    }
    json_key(&f, "migration", 1);
    json_str(&f, walk_migration(r->m, r->repair_idx)->id);
    json_key(&f, "action", 0);
    json_str(&f, action);
    json_key(&f, "index", 0);
    json_str(&f, index);
    json_key(&f, "statement", 0);
    json_str(&f, statement);
    json_key(&f, "message", 0);
    json_str(&f, line);
    out_event(r->out, "index_repair", f.data);
    buf_release(&f);
}

/* index_repair.c's journal rows, written now (outside any transaction). */
static void
repair_journal_cb(void *data, const char *event, const char *detail)
{
    struct runner *r = data;
    struct db_error e;

    journal_event(r, event, r->repair_idx, detail);
    if (!r->nested && journal_read_pos(r->db, r->h, &r->journal, &e) == 0)
        r->tx_journal = r->journal;
}

/*
 * Before statement k of a no-transaction script: if it builds an index concurrently, drop
 * what an interrupted earlier run of it left INVALID, and record what it builds
 * (index_repair.h), under the statement limits (a DROP INDEX CONCURRENTLY waits for locks
 * too, and the watcher shows who blocks it). Returns 0 to run it, 1 when it is done already,
 * or -1 after fail().
 */
static int
repair_index(struct runner *r, size_t idx, int kind, size_t k, const char *stmt)
{
    const struct index_repair_say say = {repair_said_cb, repair_journal_cb, r};
    struct index_build b;
    struct db_error e;
    struct buf limits = BUF_INIT;
    int ret;

    /* Only for apply and rollback (move.c sets the limits), not test's throwaway runs. */
    if (r->nested || !r->limits_set || !index_build_parse(stmt, strlen(stmt), &b))
        return 0;
    r->repair_idx = idx;
    limits_sql(r, 0, 0, &limits);
    if (limits.len && exec_step(r, limits.data, idx, kind, -1) != 0) {
        buf_release(&limits);
        return -1;
    }
    ret = index_repair_before(r->db, r->h, walk_migration(r->m, idx)->id, k, &b, &say, &e);
    if (ret < 0)
        fail(r, idx, kind, (long)k, &e);
    buf_reset(&limits);
    limits_sql(r, 0, 1, &limits);
    if (limits.len)
        db_exec(r->db, limits.data, &e);
    buf_release(&limits);
    return ret;
}

static int
op_notx(void *ctx, size_t idx, int kind)
{
    struct runner *r = ctx;
    const struct manifest_migration *mig = walk_migration(r->m, idx);
    const struct manifest_script *s = &mig->script[kind];
    /*
     * A repeatable keeps no progress: one that stopped part way runs again from its first
     * statement (it is written to be run again), as it does when it changed.
     */
    int rep = walk_is_repeatable(r->m, idx), traced;
    struct diag_err err = DIAG_ERR_INIT;
    struct script_reader *rd = NULL;
    char chain[HASH_SHA256_HEX];
    char **sha = xcalloc(s->nstmts ? s->nstmts : 1, sizeof(*sha));
    struct buf sql = BUF_INIT;
    size_t first = 0;
    int ret = -1;

    /* What op_start queued (the clock) goes out first: these statements do not queue. */
    if (queue_flush(r) != 0)
        goto cleanup;
    r->t0_us = take_clock(&r->clock_start, NULL);
    hex_encode(chain, mig->chain, HASH_SHA256_BYTES);
    /* Resume after the statements an earlier run finished (the engine checked their bytes). */
    first = rep ? 0 : engine_resume_point(r->view, idx, kind);
    for (size_t k = 0; k < s->nstmts; k++)
        sha[k] = xmalloc(HASH_SHA256_HEX);
    /* Nothing runs outside a transaction before the whole script is proven (read first). */
    rd = script_open(r->scripts, s->member, 1, &err);
    if (rd == NULL || script_stmt_shas(rd, s, s->nstmts, sha, &err) != 0) {
        fail_script(r, idx, kind, -1, &err);
        goto cleanup;
    }
    if (first > 0 && first >= s->nstmts)
        out_info(r->out, "resuming %s of %s: all %zu statements ran before; finishing it",
                 direction(kind), mig->id, s->nstmts);
    else if (first > 0)
        out_info(r->out, "resuming %s of %s at statement %zu of %zu", direction(kind), mig->id,
                 first + 1, s->nstmts);
    else if (!rep) {
        history_sql_progress(r->h, mig->id, direction(kind), chain, 0, s->nstmts,
                             (const char *const *)sha, &sql);
        if (exec_step(r, sql.data, idx, kind, -1) != 0)
            goto cleanup;
    }
    /* As in a transaction: the lock trace follows migrations (its tables are sized for them). */
    traced = r->tracer && !rep;
    if (traced)
        r->tracer->start(r->tracer_ctx, r->db, idx, kind);
    for (size_t k = first; k < s->nstmts; k++) {
        const struct manifest_copy *c = manifest_script_copy(s, k);
        unsigned line = 0;
        char *stmt = script_take_stmt(rd, s, k, SIZE_MAX, &line, &err);
        long long t0 = now_ns();
        int bad;

        int done;

        if (stmt == NULL) {
            fail_script(r, idx, kind, (long)k, &err);
            goto cleanup;
        }
        done = c == NULL && !rep ? repair_index(r, idx, kind, k, stmt) : 0;
        if (done < 0) {
            free(stmt);
            goto cleanup;
        }
        buf_reset(&sql);
        if (rep)
            buf_addstr(&sql, "SELECT 1;\n"); /* nothing to record per statement */
        else
            history_sql_progress(r->h, mig->id, direction(kind), chain, k + 1, s->nstmts,
                                 (const char *const *)sha, &sql);
        /* Done already (an interrupted run's index, finished by the server): recorded only. */
        bad = done ? exec_step(r, sql.data, idx, kind, -1)
                   : notx_step(r, idx, kind, k, c, stmt, rd, sql.data);
        r->notx_ran = 1;
        if (!bad)
            progress_statement_done(r->progress, stmt, (double)(now_ns() - t0) / 1e6);
        free(stmt);
        if (bad)
            goto cleanup;
        if (traced)
            r->tracer->statement(r->tracer_ctx, r->db, idx, kind, k, line,
                                 (double)(now_ns() - t0) / 1e6, 0);
        out_statement(r->out, mig->id, k + 1, s->nstmts, (double)(now_ns() - t0) / 1e6);
        journal_warnings(r);
    }
    ret = 0;
cleanup:
    script_close(rd);
    for (size_t k = 0; k < s->nstmts; k++)
        free(sha[k]);
    free(sha);
    buf_release(&sql);
    return ret;
}

/* A history statement built into sql, without its ";\n", as a malloc'd text; sql emptied. */
static char *
stmt_text(struct buf *sql)
{
    while (sql->len > 0 && (sql->data[sql->len - 1] == '\n' || sql->data[sql->len - 1] == ';'))
        buf_truncate(sql, sql->len - 1);
    return buf_detach(sql, NULL);
}

/* Indexed by enum walk_record. "unstamp": a stamp backwards (no down script ran). */
static const char *const record_events[] = {"apply", "rollback", "stamp", "unstamp"};
static const char *const record_verbs[] = {"applied", "rolled back", "stamped", "unrecorded"};
/* A repeatable's run (only applied and stamped occur: a rollback never runs one). */
static const char *const repeatable_events[] = {JOURNAL_EVENT_REPEATABLE_APPLY, "",
                                                JOURNAL_EVENT_REPEATABLE_STAMP, ""};

/*
 * Queue the prepared record of migration idx: the server times it and hashes its journal
 * row; op_commit reads the answer (take_record).
 */
static void
queue_record_on_server(struct runner *r, size_t idx, int kind)
{
    const char *params[64];
    struct history_row applied = {0};
    struct journal_row jrow;
    struct journal_pos pos = r->tx_journal;
    char t0[JOURNAL_TS_SIZE];
    int n = 0;

    history_applied_fields(r->h, r->src, r->m, idx, "applied", NULL, NULL, &applied);
    for (int i = 0; i < 13; i++) /* $1-$13: the applied fields before applied_at */
        params[n++] = applied.v[i];
    params[n++] = applied.v[14]; /* $14: client_host */
    if (r->t0_us >= 0)
        journal_ts_text(r->t0_us, t0);
    params[n++] = r->t0_us >= 0 ? t0 : NULL; /* $15 */
    /* The journal row's fields (its time and hash are the server's: not sent). */
    journal_row_fill(&jrow, r->src, record_events[WALK_APPLY], r->m, (long)idx,
                     r->loads.len ? r->loads.data : NULL, r->actor, "", r->h->project, &pos);
    n += journal_param_values(&jrow, params + n);
    queue_add_prepared(r, RECORD_STATEMENT, params, n, idx, kind);
    r->queue[r->nqueue - 1].rows = &r->record_rows;
    r->record_sent = 1;
}

static int
op_record(void *ctx, size_t idx, enum walk_record what, int commit_next)
{
    struct runner *r = ctx;
    const struct manifest_migration *mig = walk_migration(r->m, idx);
    int kind = what == WALK_ROLLBACK || what == WALK_UNSTAMP ? MANIFEST_DOWN : MANIFEST_UP;
    /* A repeatable's run is a row of its own table; the chain's place does not move. */
    int rep = walk_is_repeatable(r->m, idx);
    int on_server = commit_next && !rep && record_on_server(r);
    long long t0, t1, tx_start;
    double ms = 0;
    char dur[32], at[JOURNAL_TS_SIZE];
    struct buf sql = BUF_INIT;

    /* The history writes below run under the session's limits, not the migration's. */
    if (what != WALK_APPLY || !mig->script[MANIFEST_UP].transactional || on_server || rep)
        queue_limits(r, 1, idx, kind);
    if (what == WALK_APPLY && !mig->script[MANIFEST_UP].transactional && !rep) {
        history_sql_progress_clear(r->h, mig->id, "up", &sql);
        queue_add(r, stmt_text(&sql), idx, kind, -1);
    }
    r->tx_last = idx;
    r->tx_last_kind = kind;
    if (rep)
        r->tx_reps++;
    else
        r->tx_head = what == WALK_ROLLBACK || what == WALK_UNSTAMP ? idx : idx + 1;
    if (on_server) {
        queue_record_on_server(r, idx, kind);
        r->unreported =
            xgrow(r->unreported, &r->unreported_cap, r->nunreported + 1, sizeof(*r->unreported));
        r->unreported[r->nunreported++] = (struct recorded){record_verbs[what], idx, 0};
        return 0;
    }

    /* The server's times: read with the migration's statements, before its rows are hashed. */
    if (what == WALK_STAMP || what == WALK_UNSTAMP) {
        if (r->stamp_us < 0) {
            queue_clock(r, &r->clock_end, idx, kind);
            if (queue_flush(r) != 0)
                return -1;
            r->stamp_us = take_clock(&r->clock_end, NULL);
        }
        t0 = t1 = r->stamp_us;
    } else {
        queue_clock(r, &r->clock_end, idx, kind);
        if (queue_flush(r) != 0)
            return -1;
        t1 = take_clock(&r->clock_end, &tx_start);
        if (r->t0_us >= 0)
            t0 = r->t0_us;
        else if (r->clock_start)
            t0 = take_clock(&r->clock_start, NULL);
        else
            t0 = tx_start; /* no clock statement before it: it started its transaction */
        if (t0 < 0 || t0 > t1)
            t0 = t1;
        ms = (double)(t1 - t0) / 1000.0;
    }
    if (t1 < 0) {
        struct db_error e;

        db_error_from_message(&e, "the server's clock could not be read");
        return fail(r, idx, kind, -1, &e);
    }
    journal_ts_text(t1, at);
    snprintf(dur, sizeof(dur), "%.3f", ms);
    /* Each history write is one statement of the queue: pipelined statements stand alone. */
    if (rep) {
        history_sql_repeatable_run(r->h, r->src, r->m, idx - r->m->nmigrations,
                                   what == WALK_STAMP ? "stamped" : "applied",
                                   what == WALK_STAMP ? NULL : dur, at, &sql);
        queue_add(r, buf_detach(&sql, NULL), idx, kind, -1);
    } else if (what == WALK_ROLLBACK || what == WALK_UNSTAMP) {
        history_sql_unapplied(r->h, mig->id, &sql);
        queue_add(r, stmt_text(&sql), idx, kind, -1);
        /* (A stamp is refused over an unfinished migration: no progress row to clear.) */
        if (what == WALK_ROLLBACK && !mig->script[MANIFEST_DOWN].transactional) {
            history_sql_progress_clear(r->h, mig->id, "down", &sql);
            queue_add(r, stmt_text(&sql), idx, kind, -1);
        }
    } else {
        history_copy_applied_line(r->h, r->src, r->m, idx,
                                  what == WALK_STAMP ? "stamped" : "applied",
                                  what == WALK_STAMP ? NULL : dur, at, &r->pending_applied);
    }
    hold_journal(r, rep ? repeatable_events[what] : record_events[what], (long)idx,
                 r->loads.len ? r->loads.data : NULL, at);
    buf_release(&sql);
    if (++r->npending >= HISTORY_BATCH) {
        queue_limits(r, 1, idx, kind);
        if (queue_history(r, NULL) != 0)
            return -1;
    }
    if (commit_next) {
        /* Reported once the COMMIT that follows is answered. */
        r->unreported =
            xgrow(r->unreported, &r->unreported_cap, r->nunreported + 1, sizeof(*r->unreported));
        r->unreported[r->nunreported++] = (struct recorded){record_verbs[what], idx, ms};
        return 0;
    }
    /* It ran; its transaction is still open: shown now, and undone if the transaction fails. */
    report(r, record_verbs[what], idx, ms);
    r->shown = xgrow(r->shown, &r->shown_cap, r->nshown + 1, sizeof(*r->shown));
    r->shown[r->nshown++] = idx;
    return 0;
}

static const struct walk_ops runner_ops = {op_begin,  op_commit, op_start,
                                           op_script, op_notx,   op_record};

/* After a failure: roll back the open transaction and forget what it held. */
static void
roll_back(struct runner *r)
{
    struct db_error e;

    queue_drop(r);
    buf_reset(&r->pending_applied); /* rolled back with the transaction */
    buf_reset(&r->pending_journal);
    r->npending = 0;
    r->record_sent = 0;
    r->tx_reps = 0;
    if (r->in_tx)
        db_exec(r->db,
                r->nested ? "ROLLBACK TO SAVEPOINT sealift_walk; RELEASE SAVEPOINT sealift_walk"
                          : "ROLLBACK",
                &e);
    r->in_tx = 0;
    r->limits_on = 0;           /* SET LOCAL ends with its transaction */
    r->tx_journal = r->journal; /* the rolled-back rows are gone */
}

/* After a failure: roll back, and record the failure in the journal (best effort). */
static void
after_failure(struct runner *r)
{
    struct buf detail = BUF_INIT;

    roll_back(r);
    journal_warnings(r);
    /* Nested: the caller's transaction, and a journal row written in it, will be undone. */
    if (r->fail.err.connection_lost || r->nested || r->actor[0] == '\0')
        return;
    failure_journal_detail(&r->fail, &detail);
    journal_event(r, interrupted ? "interrupted" : "failure", r->fail.idx, detail.data);
    buf_release(&detail);
}

/* Journal an event of migration idx outside any transaction of the walk (best effort). */
static void
journal_event(struct runner *r, const char *event, size_t idx, const char *detail)
{
    struct buf sql = BUF_INIT;
    struct db_error e;

    if (r->nested || r->actor[0] == '\0')
        return;
    /* The server writes the row: its time, its place in the chain and its hash. */
    buf_addstr(&sql, "BEGIN;\n");
    history_sql_journal(r->h, r->src, event, r->m, (long)idx, detail, &sql);
    history_sql_journal_head(r->h, &sql);
    buf_addstr(&sql, "COMMIT;");
    if (db_exec(r->db, sql.data, &e) != 0)
        db_exec(r->db, "ROLLBACK", &e);
    buf_release(&sql);
}

/*
 * Journal the --warn-after warnings seen so far (progress.h), once outside a transaction, and
 * read the journal's end again: the open transaction's rows chain after them.
 */
static void
journal_warnings(struct runner *r)
{
    struct buf detail = BUF_INIT;
    struct db_error e;
    size_t idx;
    int wrote = 0;

    while (progress_take_warning(r->progress, &idx, &detail)) {
        journal_event(r, "slow_statement", idx, detail.data);
        buf_reset(&detail);
        wrote = 1;
    }
    buf_release(&detail);
    if (wrote && !r->nested && journal_read_pos(r->db, r->h, &r->journal, &e) == 0)
        r->tx_journal = r->journal;
}

/* The migrations shown as done in the transaction the failure rolled back. */
static void
report_undone(struct runner *r)
{
    for (size_t i = 0; i < r->nshown; i++) {
        size_t idx = r->shown[i];

        out_undone(r->out, record_verbs[r->what], walk_migration(r->m, idx)->id,
                   engine_revision_label(r->m, idx + 1));
    }
    r->nshown = 0;
}

static int
finish(struct runner *r, int walk_ret)
{
    struct buf f = BUF_INIT;

    signals_restore(r);
    out_live_end(r->out);
    if (walk_ret == 0 && !r->failed && queue_flush(r) == 0) {
        report_recorded(r); /* nothing is normally left; a walk ends with a commit */
        return 0;
    }
    r->nunreported = 0;
    after_failure(r);
    r->fail.at = r->committed;
    r->fail.signal = (int)interrupted;
    report_undone(r);
    failure_report(&r->fail);
    failure_json(&r->fail, &f);
    json_key(&f, "database_at", 0);
    json_str(&f, engine_revision_label(r->m, r->committed));
    out_event(r->out, "failed", f.data);
    buf_release(&f);
    return r->fail.rejected ? 1 : 4;
}

/* What every run needs first: who we are, and where the journal ends. */
static int
runner_begin(struct runner *r, enum walk_record what, size_t from)
{
    struct db_error e;
    struct db_rows *rows;

    r->what = what;
    r->committed = from;
    r->stamp_us = -1;
    rows = db_query(r->db,
                    "SELECT current_user, current_setting('lock_timeout'), "
                    "current_setting('statement_timeout')",
                    &e);
    if (rows == NULL || journal_read_pos(r->db, r->h, &r->journal, &e) != 0) {
        db_rows_free(rows);
        return fail(r, r->committed, MANIFEST_UP, -1, &e);
    }
    snprintf(r->actor, sizeof(r->actor), "%s", db_value(rows, 0, 0));
    snprintf(r->saved_lock_timeout, sizeof(r->saved_lock_timeout), "%s", db_value(rows, 0, 1));
    snprintf(r->saved_statement_timeout, sizeof(r->saved_statement_timeout), "%s",
             db_value(rows, 0, 2));
    db_rows_free(rows);
    r->tx_journal = r->journal;
    /* Outside a transaction: a refusal (it should not happen) would abort nothing. */
    if (!r->nested)
        r->clock_prepared = db_prepare(r->db, CLOCK_STATEMENT, CLOCK_SQL, &e);
    if (r->per_migration && !r->nested && what == WALK_APPLY) {
        struct buf sql = BUF_INIT;

        history_sql_record_prepared(r->h, &sql);
        r->record_prepared = db_prepare(r->db, RECORD_STATEMENT, sql.data, &e);
        buf_release(&sql);
    }
    if (r->limits_set && !r->nested && what != WALK_STAMP)
        r->watch = lockwatch_new(r->db, r->out, r->lock_timeout_ms);
    if (r->watch) {
        r->progress = progress_new(r->out, r->progress_after_ms, r->warn_after_ms);
        lockwatch_also(r->watch, progress_look_cb, r->progress,
                       progress_first_look_ms(r->progress));
    }
    signals_install(r);
    return 0;
}

struct runner *
runner_new(struct db *db, const struct history_ctx *h, const struct history_source *src,
           const struct verify_result *bundle, struct bundle_cursor *cursor,
           const struct engine_view *view, struct out *out, unsigned flags)
{
    struct runner *r = xcalloc(1, sizeof(*r));

    r->db = db;
    r->h = h;
    r->src = src;
    r->m = &bundle->manifest;
    /* The scripts are read again from the bundle the cursor reads (stamps read none). */
    r->scripts = script_src_new(cursor ? bundle_cursor_path(cursor) : "", r->m, bundle->data);
    r->cursor = cursor;
    engine_view_init(&r->noview);
    r->view = view ? view : &r->noview;
    r->out = out;
    r->per_migration = (flags & RUNNER_PER_MIGRATION) != 0;
    r->compat_alembic = (flags & RUNNER_ALEMBIC) != 0;
    r->nested = (flags & RUNNER_NESTED) != 0;
    r->statement_timeout_ms = -1; /* no limits unless runner_set_limits says so */
    r->progress_after_ms = PROGRESS_DEFAULT_AFTER_MS;
    r->fail.m = r->m;
    r->fail.scripts = r->scripts;
    r->fail.stmt = -1;
    r->fail.per_migration = r->per_migration;
    r->fail.nested = r->nested;
    buf_init(&r->loads);
    buf_init(&r->pending_applied);
    buf_init(&r->pending_journal);
    return r;
}

void
runner_set_tracer(struct runner *r, const struct runner_tracer *t, void *ctx)
{
    r->tracer = t;
    r->tracer_ctx = ctx;
}

void
runner_free(struct runner *r)
{
    if (r == NULL)
        return;
    signals_restore(r);
    lockwatch_free(r->watch);
    progress_free(r->progress);
    queue_drop(r);
    free(r->queue);
    free(r->unreported);
    free(r->shown);
    db_rows_free(r->clock_start);
    db_rows_free(r->clock_end);
    db_rows_free(r->record_rows);
    buf_release(&r->loads);
    buf_release(&r->pending_applied);
    buf_release(&r->pending_journal);
    engine_view_release(&r->noview);
    script_src_free(r->scripts);
    free(r);
}

/*
 * Walk from the last commit to to, and after a lock failure in a transaction walk again from
 * the last commit: walk.c's boundaries make that the same transaction (one migration's, or the
 * whole all-or-nothing set). Not when no-transaction statements ran since the last commit
 * (their failures are retried statement by statement; a second walk would run them again).
 */
static int
walk_retrying(struct runner *r, size_t to)
{
    for (;;) {
        /* The repeatables committed already are not run again. */
        struct walk_reps left = {r->reps.v + r->reps_done, r->reps.n - r->reps_done};
        int ret = r->what == WALK_ROLLBACK
                      ? walk_rollback(r->m, r->committed, to, r->per_migration, &runner_ops, r)
                      : walk_apply(r->m, r->committed, to, &left, r->per_migration, &runner_ops, r);

        if (ret == 0 && !r->failed)
            return 0;
        if (!r->failed || r->notx_ran || !is_lock_failure(&r->fail.err))
            return ret;
        r->nunreported = 0;
        roll_back(r);
        report_undone(r);
        if (!lock_retry(r))
            return ret;
    }
}

int
runner_apply(struct runner *r, size_t from, size_t to)
{
    r->walk_to = to;
    if (runner_begin(r, WALK_APPLY, from) != 0)
        return finish(r, -1);
    return finish(r, walk_retrying(r, to));
}

int
runner_rollback(struct runner *r, size_t from, size_t to)
{
    r->walk_to = to;
    if (runner_begin(r, WALK_ROLLBACK, from) != 0)
        return finish(r, -1);
    r->reps.n = 0; /* a rollback never runs them */
    return finish(r, walk_retrying(r, to));
}

void
runner_set_limits(struct runner *r, long lock_timeout_ms, long statement_timeout_ms,
                  unsigned retries)
{
    r->lock_timeout_ms = lock_timeout_ms;
    r->statement_timeout_ms = statement_timeout_ms;
    r->retries = retries;
    r->limits_set = 1;
}

void
runner_set_alembic_table(struct runner *r, const char *table)
{
    r->alembic_table = table;
}

void
runner_set_progress(struct runner *r, long progress_after_ms, long warn_after_ms)
{
    r->progress_after_ms = progress_after_ms;
    r->warn_after_ms = warn_after_ms;
}

int
runner_stamp(struct runner *r, size_t from, size_t to)
{
    r->walk_to = to;
    if (runner_begin(r, WALK_STAMP, from) != 0)
        return finish(r, -1);
    return finish(r, walk_stamp(r->m, from, to, &r->reps, &runner_ops, r));
}

void
runner_set_repeatables(struct runner *r, const struct walk_reps *reps)
{
    r->reps = reps ? *reps : (struct walk_reps){NULL, 0};
}

size_t
runner_repeatables_done(const struct runner *r)
{
    return r->reps_done;
}

void
runner_set_final_cb(struct runner *r, runner_final_cb fn, void *ctx)
{
    r->final_cb = fn;
    r->final_ctx = ctx;
}

size_t
runner_position(const struct runner *r)
{
    return r->committed;
}

const struct failure *
runner_failure(const struct runner *r)
{
    return r->failed ? &r->fail : NULL;
}
