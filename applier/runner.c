/*
 * runner.c: execute apply, rollback and stamp walks against the database.
 * Layer: applier.
 */
#include "runner.h"
#include "adopt.h"
#include "sealift/json.h"
#include "sealift/textpos.h"
#include "sealift/xalloc.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static volatile sig_atomic_t interrupted;

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
}

static void
signals_restore(void)
{
    sigaction(SIGINT, &saved_int, NULL);
    sigaction(SIGTERM, &saved_term, NULL);
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
        r->fail_idx = idx;
        r->fail_kind = kind;
        r->fail_stmt = stmt;
        r->fail_err = *e;
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
    char **params; /* with sql the name of a prepared statement: its parameters */
    int nparams;
};

static void
queue_add(struct runner *r, char *sql, size_t idx, int kind, long stmt)
{
    r->queue = xgrow(r->queue, &r->queue_cap, r->nqueue + 1, sizeof(*r->queue));
    r->queue[r->nqueue].sql = sql;
    r->queue[r->nqueue].idx = idx;
    r->queue[r->nqueue].kind = kind;
    r->queue[r->nqueue].stmt = stmt;
    r->queue[r->nqueue].params = NULL;
    r->queue[r->nqueue].nparams = 0;
    r->nqueue++;
}

/* Queue the prepared statement name with n parameters (copied; NULL for SQL NULL). */
static void
queue_add_prepared(struct runner *r, const char *name, const char *const *params, int n, size_t idx,
                   int kind)
{
    char **copy = xcalloc((size_t)n, sizeof(*copy));

    for (int i = 0; i < n; i++)
        copy[i] = params[i] ? xstrdup(params[i]) : NULL;
    queue_add(r, xstrdup(name), idx, kind, -1);
    r->queue[r->nqueue - 1].params = copy;
    r->queue[r->nqueue - 1].nparams = n;
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

        stmts[i].sql = q->params ? NULL : q->sql;
        stmts[i].prepared = q->params ? q->sql : NULL;
        stmts[i].nparams = q->nparams;
        stmts[i].params = (const char *const *)q->params;
    }
    if (db_exec_pipeline(r->db, stmts, r->nqueue, &failed, &e) != 0)
        ret = fail(r, r->queue[failed].idx, r->queue[failed].kind, r->queue[failed].stmt, &e);
    free(stmts);
    queue_drop(r);
    return ret;
}

/*
 * A migration recorded but not yet reported: when a COMMIT follows its record at once (one
 * transaction per migration, or a no-transaction migration's history), the record and the
 * COMMIT go out in one round trip, and "applied" is printed only after the COMMIT succeeded.
 */
struct recorded {
    const char *verb;
    size_t idx;
    double ms;
};

static void
report_recorded(struct runner *r)
{
    for (size_t i = 0; i < r->nunreported; i++) {
        const struct recorded *u = &r->unreported[i];

        out_migration(r->out, u->verb, r->m->migrations[u->idx].id,
                      engine_revision_label(r->m, u->idx + 1), u->ms);
    }
    r->nunreported = 0;
}

/* Now in UTC with microseconds, as the journal's canonical text writes timestamps. */
static void
utc_now(char out[40])
{
    struct timespec ts;
    struct tm tm;
    char secs[32];

    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    strftime(secs, sizeof(secs), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, 40, "%.20s.%06dZ", secs, (int)(ts.tv_nsec / 1000) % 1000000);
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
#define RECORD_STATEMENT "sealift_record_1"

/*
 * Queue the held rows, and then the statement then (may be NULL), as ONE statement: the
 * inserts become data-modifying WITH queries of the last part, which PostgreSQL runs exactly
 * once each. One statement is planned once, where three were planned apiece.
 */
static void
queue_history(struct runner *r, char *then)
{
    struct buf part[3] = {BUF_INIT, BUF_INIT, BUF_INIT};
    struct buf sql = BUF_INIT;
    size_t n = 0;

    if (r->pending_applied.len) {
        history_sql_applied_head(r->h, &part[n]);
        buf_add(&part[n], r->pending_applied.data, r->pending_applied.len);
        n++;
    }
    if (r->pending_journal.len) {
        history_sql_journal_head_insert(r->h, &part[n]);
        buf_add(&part[n], r->pending_journal.data, r->pending_journal.len);
        n++;
    }
    if (then) {
        buf_addstr(&part[n++], then);
        free(then);
    }
    for (size_t i = 0; i < n; i++) {
        if (i + 1 < n)
            buf_addf(&sql, "%s sealift_w%zu AS (%s)", i == 0 ? "WITH" : ",", i, part[i].data);
        else
            buf_addf(&sql, "%s%s", i > 0 ? "\n" : "", part[i].data);
        buf_release(&part[i]);
    }
    if (n > 0)
        queue_add(r, buf_detach(&sql, NULL), r->tx_last, r->tx_last_kind, -1);
    buf_reset(&r->pending_applied);
    buf_reset(&r->pending_journal);
    r->npending = 0;
}

/* Hold the next journal row of the open transaction. */
static void
hold_journal(struct runner *r, const char *event, long idx, const char *detail, const char *at)
{
    if (r->pending_journal.len)
        buf_addstr(&r->pending_journal, ",\n");
    history_sql_journal_values(r->src, event, r->m, idx, detail, r->actor, at, r->h->project,
                               &r->tx_journal, &r->pending_journal);
}

static int
op_begin(void *ctx)
{
    struct runner *r = ctx;

    queue_add(r, xstrdup(r->nested ? "SAVEPOINT sealift_walk" : "BEGIN"), r->committed, MANIFEST_UP,
              -1);
    r->in_tx = 1;
    r->tx_head = r->committed;
    r->tx_last = r->committed;
    r->tx_last_kind = MANIFEST_UP;
    r->tx_journal = r->journal;
    return 0;
}

static int
op_commit(void *ctx)
{
    struct runner *r = ctx;
    struct buf sql = BUF_INIT;

    if (!r->project_written) {
        history_sql_project(r->h, r->src, &sql);
        buf_truncate(&sql, sql.len - 2); /* one statement: no ";\n" */
        queue_add(r, buf_detach(&sql, NULL), r->tx_last, MANIFEST_UP, -1);
    }
    if (r->record_held) {
        /* One migration's record and meta's journal head: the prepared statement. */
        const char *params[HISTORY_APPLIED_FIELDS + HISTORY_JOURNAL_FIELDS + 2];
        char rows[32];

        memcpy(params, r->held_applied.v, sizeof(r->held_applied.v));
        memcpy(params + HISTORY_APPLIED_FIELDS, r->held_journal.v, sizeof(r->held_journal.v));
        snprintf(rows, sizeof(rows), "%lld", r->tx_journal.seq);
        params[HISTORY_APPLIED_FIELDS + HISTORY_JOURNAL_FIELDS] = r->tx_journal.hash;
        params[HISTORY_APPLIED_FIELDS + HISTORY_JOURNAL_FIELDS + 1] = rows;
        queue_add_prepared(r, RECORD_STATEMENT, params, (int)(sizeof(params) / sizeof(params[0])),
                           r->tx_last, r->tx_last_kind);
        r->record_held = 0;
    } else {
        /* The held rows and meta's journal head: one statement. */
        history_sql_journal_pos(r->h, &r->tx_journal, &sql);
        queue_history(r, buf_detach(&sql, NULL));
    }
    if (r->compat_alembic) {
        /* Several statements of simple-query text: sent on their own, before the COMMIT. */
        if (queue_flush(r) != 0)
            return -1;
        adopt_sql_alembic_version(r->m, r->tx_head, &sql);
        if (exec_step(r, sql.data, r->tx_last, MANIFEST_UP, -1) != 0) {
            buf_release(&sql);
            return -1;
        }
        buf_release(&sql);
    }
    /* A COMMIT that fails (a deferred constraint) is the last recorded migration's. */
    queue_add(r, xstrdup(r->nested ? "RELEASE SAVEPOINT sealift_walk" : "COMMIT"), r->tx_last,
              r->tx_last_kind, -1);
    if (queue_flush(r) != 0)
        return -1;
    report_recorded(r);
    r->in_tx = 0;
    r->committed = r->tx_head;
    r->journal = r->tx_journal;
    r->project_written = 1;
    return 0;
}

static int
op_start(void *ctx, size_t idx, int kind)
{
    struct runner *r = ctx;

    (void)idx;
    (void)kind;
    r->started_ns = now_ns();
    buf_reset(&r->loads);
    return 0;
}

/* Run statements [from, to) of a script inside the open transaction, pipelined. */
static int
run_statements(struct runner *r, size_t idx, int kind, size_t from, size_t to)
{
    const struct manifest_script *s = &r->m->migrations[idx].script[kind];
    const struct buf *text = &r->data[s->member];
    char **stmts;
    struct db_error e;
    size_t failed = 0;
    int ret = 0;

    if (to <= from)
        return 0;
    stmts = xcalloc(to - from, sizeof(*stmts));
    for (size_t k = from; k < to; k++)
        stmts[k - from] = xstrndup(text->data + s->stmts[k].offset, (size_t)s->stmts[k].length);
    if (db_exec_statements(r->db, (const char *const *)stmts, to - from, &failed, &e) != 0)
        ret = fail(r, idx, kind, (long)(from + failed), &e);
    for (size_t k = from; k < to; k++)
        free(stmts[k - from]);
    free(stmts);
    return ret;
}

/* Where a COPY's data comes from, and how much of it has gone to the server. */
struct copy_feed {
    struct runner *r;
    const char *mem; /* inline data */
    uint64_t mem_left;
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
        n = (ssize_t)(f->mem_left < cap ? f->mem_left : cap);
        memcpy(buf, f->mem, (size_t)n);
        f->mem += n;
        f->mem_left -= (uint64_t)n;
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

/* Run statement k, a COPY ... FROM STDIN, feeding it its data. */
static int
run_copy(struct runner *r, size_t idx, int kind, size_t k, const struct manifest_copy *c)
{
    const struct manifest_script *s = &r->m->migrations[idx].script[kind];
    const struct buf *text = &r->data[s->member];
    char *stmt = xstrndup(text->data + s->stmts[k].offset, (size_t)s->stmts[k].length);
    struct diag_err src_err = DIAG_ERR_INIT;
    struct copy_feed f;
    struct db_error e;
    unsigned long long rows = 0;
    char *label = NULL;
    int ret = 0;

    if (check_interrupt(r, idx, kind) != 0) {
        free(stmt);
        return -1;
    }
    memset(&f, 0, sizeof(f));
    f.r = r;
    f.started = now_ns();
    f.reported = f.started;
    if (c->inline_data) {
        unsigned line, col;

        f.mem = text->data + c->offset;
        f.mem_left = c->length;
        f.total = c->length;
        /* A script may hold many blocks: name each by the line its data starts on. */
        textpos_line_col(text->data, text->len, (size_t)c->offset, &line, &col);
        label = xasprintf("%s:%u", r->m->members[s->member].path, line);
        f.label = label;
    } else {
        f.total = r->m->members[c->member].size;
        f.label = r->m->members[c->member].path;
        if (bundle_cursor_seek(r->cursor, c->member, &src_err) != 0) {
            db_error_from_message(&e, src_err.msg);
            r->fail_rejected = 1;
            free(stmt);
            return fail(r, idx, kind, (long)k, &e);
        }
        f.cursor = r->cursor;
    }
    if (db_copy_in(r->db, stmt, copy_feed_cb, &f, &rows, &src_err, &e) != 0) {
        if (src_err.msg[0]) {
            /* Our side stopped the COPY: say why, not the server's echo of it. */
            db_error_from_message(&e, src_err.msg);
            r->fail_rejected = !interrupted;
            e.cancelled = interrupted != 0;
        }
        if (!r->failed)
            r->fail_binary = f.binary;
        ret = fail(r, idx, kind, (long)k, &e);
    } else {
        out_load_done(r->out, f.label, rows, f.sent, (double)(now_ns() - f.started) / 1e6);
        buf_addf(&r->loads, "%s%s: %llu rows, %llu bytes", r->loads.len ? "; " : "loaded ", f.label,
                 rows, (unsigned long long)f.sent);
    }
    free(label);
    free(stmt);
    return ret;
}

/* Run a transactional script: statements pipelined, COPY statements fed one by one. */
static int
op_script(void *ctx, size_t idx, int kind)
{
    struct runner *r = ctx;
    const struct manifest_script *s = &r->m->migrations[idx].script[kind];
    size_t from = 0;

    if (check_interrupt(r, idx, kind) != 0)
        return -1;
    if (s->ncopies == 0) {
        const struct buf *text = &r->data[s->member];

        /* Sent with the migration's history rows, when op_record flushes the queue. */
        for (size_t k = 0; k < s->nstmts; k++)
            queue_add(r, xstrndup(text->data + s->stmts[k].offset, (size_t)s->stmts[k].length), idx,
                      kind, (long)k);
        return 0;
    }
    if (queue_flush(r) != 0)
        return -1;
    for (size_t i = 0; i < s->ncopies; i++) {
        const struct manifest_copy *c = &s->copies[i];

        if (run_statements(r, idx, kind, from, c->stmt) != 0 ||
            run_copy(r, idx, kind, c->stmt, c) != 0)
            return -1;
        from = c->stmt + 1;
    }
    return run_statements(r, idx, kind, from, s->nstmts);
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
notx_step(struct runner *r, size_t idx, int kind, size_t k, const struct manifest_copy *c,
          const char *stmt, const char *record)
{
    struct db_error e;
    struct buf sql = BUF_INIT;
    int ret;

    if (!r->nested && !controls_transactions(stmt)) {
        if (exec_step(r, "BEGIN", idx, kind, -1) != 0)
            return -1;
        r->in_tx = 1; /* a failure from here on is rolled back by after_failure() */
        if (c) {
            ret = run_copy(r, idx, kind, k, c);
        } else if ((ret = check_interrupt(r, idx, kind)) == 0 && db_exec(r->db, stmt, &e) != 0) {
            if (strcmp(e.sqlstate, "25001") != 0 && strcmp(e.sqlstate, "2D000") != 0)
                return fail(r, idx, kind, (long)k, &e);
            if (db_exec(r->db, "ROLLBACK", &e) != 0)
                return fail(r, idx, kind, -1, &e);
            r->in_tx = 0;
            ret = 1; /* not in a transaction block: run it bare below */
        }
        if (ret < 0)
            return -1;
        if (ret == 0) {
            buf_addf(&sql, "%sCOMMIT;", record);
            ret = exec_step(r, sql.data, idx, kind, -1);
            buf_release(&sql);
            if (ret == 0)
                r->in_tx = 0;
            return ret;
        }
    }
    if (c ? run_copy(r, idx, kind, k, c) : exec_step(r, stmt, idx, kind, (long)k))
        return -1;
    /* Record the statement as done at once: a rerun must not run it again. */
    return exec_step(r, record, idx, kind, -1);
}

static int
op_notx(void *ctx, size_t idx, int kind)
{
    struct runner *r = ctx;
    const struct manifest_migration *mig = &r->m->migrations[idx];
    const struct manifest_script *s = &mig->script[kind];
    const struct buf *text = &r->data[s->member];
    char chain[HASH_SHA256_HEX];
    char **sha = xcalloc(s->nstmts ? s->nstmts : 1, sizeof(*sha));
    struct buf sql = BUF_INIT;
    size_t first = 0;
    int ret = -1;

    hex_encode(chain, mig->chain, HASH_SHA256_BYTES);
    /* Resume after the statements an earlier run finished (the engine checked their bytes). */
    first = engine_resume_point(r->view, idx, kind);
    for (size_t k = 0; k < s->nstmts; k++) {
        sha[k] = xmalloc(HASH_SHA256_HEX);
        engine_statement_sha(r->m, r->data, idx, kind, k, sha[k]);
    }
    if (first > 0 && first >= s->nstmts)
        out_info(r->out, "resuming %s of %s: all %zu statements ran before; finishing it",
                 direction(kind), mig->id, s->nstmts);
    else if (first > 0)
        out_info(r->out, "resuming %s of %s at statement %zu of %zu", direction(kind), mig->id,
                 first + 1, s->nstmts);
    else {
        history_sql_progress(r->h, mig->id, direction(kind), chain, 0, s->nstmts,
                             (const char *const *)sha, &sql);
        if (exec_step(r, sql.data, idx, kind, -1) != 0)
            goto cleanup;
    }
    for (size_t k = first; k < s->nstmts; k++) {
        const struct manifest_stmt *st = &s->stmts[k];
        const struct manifest_copy *c = manifest_script_copy(s, k);
        char *stmt = xstrndup(text->data + st->offset, (size_t)st->length);
        long long t0 = now_ns();
        int bad;

        buf_reset(&sql);
        history_sql_progress(r->h, mig->id, direction(kind), chain, k + 1, s->nstmts,
                             (const char *const *)sha, &sql);
        bad = notx_step(r, idx, kind, k, c, stmt, sql.data);
        free(stmt);
        if (bad)
            goto cleanup;
        out_statement(r->out, mig->id, k + 1, s->nstmts, (double)(now_ns() - t0) / 1e6);
    }
    ret = 0;
cleanup:
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

/*
 * Does walk.c commit right after this migration's record? It does for each migration of
 * --per-migration and for a no-transaction migration's history in either mode.
 */
static int
commit_follows(const struct runner *r, const struct manifest_migration *mig, int kind)
{
    return r->per_migration || !mig->script[kind].transactional;
}

static int
op_record(void *ctx, size_t idx, enum walk_record what)
{
    static const char *const events[] = {"apply", "rollback", "stamp"};
    static const char *const verbs[] = {"applied", "rolled back", "stamped"};
    struct runner *r = ctx;
    const struct manifest_migration *mig = &r->m->migrations[idx];
    double ms = (double)(now_ns() - r->started_ns) / 1e6;
    char dur[32], at[40];
    struct buf sql = BUF_INIT;
    int kind = what == WALK_ROLLBACK ? MANIFEST_DOWN : MANIFEST_UP;

    snprintf(dur, sizeof(dur), "%.3f", ms);
    utc_now(at);
    /* Each history write is one statement of the queue: pipelined statements stand alone. */
    if (what == WALK_ROLLBACK) {
        history_sql_unapplied(r->h, mig->id, &sql);
        queue_add(r, stmt_text(&sql), idx, kind, -1);
        if (!mig->script[MANIFEST_DOWN].transactional) {
            history_sql_progress_clear(r->h, mig->id, "down", &sql);
            queue_add(r, stmt_text(&sql), idx, kind, -1);
        }
    } else if (r->record_prepared && r->npending == 0 && commit_follows(r, mig, kind)) {
        /*
         * The COMMIT follows at once (walk.c): hold this record for the prepared statement,
         * which op_commit sends with it. A transaction of one small migration spent a third
         * of its server time parsing and planning the record as text.
         */
        memcpy(r->held_at, at, sizeof(r->held_at));
        memcpy(r->held_dur, dur, sizeof(r->held_dur));
        buf_reset(&r->held_detail);
        buf_add(&r->held_detail, r->loads.data, r->loads.len);
        history_applied_fields(r->h, r->src, r->m, idx, what == WALK_STAMP ? "stamped" : "applied",
                               what == WALK_STAMP ? NULL : r->held_dur, r->held_at,
                               &r->held_applied);
        history_journal_fields(r->src, events[what], r->m, (long)idx,
                               r->held_detail.len ? r->held_detail.data : NULL, r->actor,
                               r->held_at, r->h->project, &r->tx_journal, &r->held_journal);
        r->record_held = 1;
        if (what == WALK_APPLY && !mig->script[MANIFEST_UP].transactional) {
            history_sql_progress_clear(r->h, mig->id, "up", &sql);
            queue_add(r, stmt_text(&sql), idx, kind, -1);
        }
    } else {
        if (r->pending_applied.len)
            buf_addstr(&r->pending_applied, ",\n");
        history_sql_applied_values(r->h, r->src, r->m, idx,
                                   what == WALK_STAMP ? "stamped" : "applied",
                                   what == WALK_STAMP ? NULL : dur, at, &r->pending_applied);
        if (what == WALK_APPLY && !mig->script[MANIFEST_UP].transactional) {
            history_sql_progress_clear(r->h, mig->id, "up", &sql);
            queue_add(r, stmt_text(&sql), idx, kind, -1);
        }
    }
    if (!r->record_held)
        hold_journal(r, events[what], (long)idx, r->loads.len ? r->loads.data : NULL, at);
    buf_release(&sql);
    r->tx_last = idx;
    r->tx_last_kind = kind;
    if (++r->npending >= HISTORY_BATCH)
        queue_history(r, NULL);
    r->unreported =
        xgrow(r->unreported, &r->unreported_cap, r->nunreported + 1, sizeof(*r->unreported));
    r->unreported[r->nunreported++] = (struct recorded){verbs[what], idx, ms};
    /* When a COMMIT follows, the record goes out with it (see struct recorded). */
    if (!commit_follows(r, mig, kind)) {
        if (queue_flush(r) != 0)
            return -1;
        report_recorded(r);
    }
    r->tx_head = what == WALK_ROLLBACK ? idx : idx + 1;
    return 0;
}

static const struct walk_ops runner_ops = {op_begin,  op_commit, op_start,
                                           op_script, op_notx,   op_record};

/*
 * A COPY that failed on a row: the server's context says "COPY t, line N[, column c]"; name
 * that line in the data (a data member, or the lines after the statement in its script).
 * Returns 1 if it printed the location.
 */
static int
report_copy_row(const struct runner *r, const struct manifest_script *s)
{
    const struct manifest_copy *c;
    const char *at;
    unsigned long n;

    if (s == NULL || !s->present || r->fail_stmt < 0 ||
        (c = manifest_script_copy(s, (size_t)r->fail_stmt)) == NULL)
        return 0;
    at = strstr(r->fail_err.context, ", line ");
    if (at == NULL || sscanf(at, ", line %lu", &n) != 1 || n == 0)
        return 0;
    if (r->fail_binary) {
        diag_detail("at %s, row %lu of the binary COPY data%s%s%s", r->m->members[c->member].path,
                    n, r->fail_err.sqlstate[0] ? " (SQLSTATE " : "", r->fail_err.sqlstate,
                    r->fail_err.sqlstate[0] ? ")" : "");
    } else if (c->inline_data) {
        const struct buf *text = &r->data[s->member];
        unsigned line, col;

        textpos_line_col(text->data, text->len, (size_t)c->offset, &line, &col);
        diag_detail("at %s:%lu, line %lu of the COPY data%s%s%s", r->m->members[s->member].path,
                    line + n - 1, n, r->fail_err.sqlstate[0] ? " (SQLSTATE " : "",
                    r->fail_err.sqlstate, r->fail_err.sqlstate[0] ? ")" : "");
    } else {
        diag_detail("at %s:%lu (data file line %lu)%s%s%s", r->m->members[c->member].path, n, n,
                    r->fail_err.sqlstate[0] ? " (SQLSTATE " : "", r->fail_err.sqlstate,
                    r->fail_err.sqlstate[0] ? ")" : "");
    }
    return 1;
}

/* Print the failure: what, where (file:line:column), the server's words, and where we are. */
static void
report_failure(struct runner *r)
{
    const struct db_error *e = &r->fail_err;
    const struct manifest_migration *mig =
        r->fail_idx < r->m->nmigrations ? &r->m->migrations[r->fail_idx] : NULL;
    const struct manifest_script *s = mig ? &mig->script[r->fail_kind] : NULL;
    char label[600];

    snprintf(label, sizeof(label), "%s",
             mig ? engine_revision_label(r->m, r->fail_idx + 1) : "(history)");
    if (e->cancelled && interrupted)
        diag_error("migration %s (%s) was interrupted by %s: its statement was cancelled", label,
                   manifest_script_label((enum manifest_script_kind)r->fail_kind),
                   interrupted == SIGINT ? "SIGINT" : "SIGTERM");
    else
        diag_error("migration %s (%s) failed: %s", label,
                   manifest_script_label((enum manifest_script_kind)r->fail_kind), e->message);
    if (report_copy_row(r, s))
        ; /* a row of COPY data: named by its line in the data */
    else if (s && s->present && (e->position > 0 || r->fail_stmt >= 0)) {
        const struct buf *text = &r->data[s->member];
        size_t base = 0, len = text->len, off;
        unsigned line, col;

        if (r->fail_stmt >= 0 && (size_t)r->fail_stmt < s->nstmts) {
            base = (size_t)s->stmts[r->fail_stmt].offset;
            len = (size_t)s->stmts[r->fail_stmt].length;
        }
        if (e->position > 0)
            off = base + textpos_char_to_byte(text->data + base, len, (size_t)e->position - 1);
        else
            off = base + textpos_skip_blank(text->data + base, len); /* the statement's start */
        textpos_line_col(text->data, text->len, off, &line, &col);
        diag_detail("at %s:%u:%u%s%s%s", r->m->members[s->member].path, line, col,
                    e->sqlstate[0] ? " (SQLSTATE " : "", e->sqlstate, e->sqlstate[0] ? ")" : "");
    } else if (s && s->present) {
        diag_detail("in %s%s%s%s", r->m->members[s->member].path,
                    e->sqlstate[0] ? " (SQLSTATE " : "", e->sqlstate, e->sqlstate[0] ? ")" : "");
    }
    if (e->detail[0])
        diag_detail("%s", e->detail);
    if (e->context[0])
        diag_detail("context: %s", e->context);
    if (e->hint[0])
        diag_hint("%s", e->hint);
    if (strcmp(e->sqlstate, "53200") == 0 && !r->per_migration)
        diag_hint("one transaction ran out of lock table space: apply with --per-migration, or "
                  "raise max_locks_per_transaction on the server");
    if (e->connection_lost)
        diag_detail("the connection to the server was lost; the database is at %s (its last "
                    "commit)",
                    engine_revision_label(r->m, r->committed));
    else if (s && !s->transactional && r->fail_stmt == 0)
        diag_detail("none of its %zu statements ran; the database is at %s; a rerun%s starts "
                    "%s at statement 1",
                    s->nstmts, engine_revision_label(r->m, r->committed),
                    r->fail_kind == MANIFEST_DOWN ? " of rollback" : "", label);
    else if (s && !s->transactional && r->fail_stmt >= 0)
        diag_detail("statements 1 to %ld of %zu ran and are recorded; the database is at %s "
                    "with %s partly %s resumes at statement %ld",
                    r->fail_stmt, s->nstmts, engine_revision_label(r->m, r->committed), label,
                    r->fail_kind == MANIFEST_DOWN ? "rolled back; a rerun of rollback"
                                                  : "applied; a rerun",
                    r->fail_stmt + 1);
    else if (mig && r->fail_kind == MANIFEST_VERIFY && !mig->script[MANIFEST_UP].transactional)
        /* The up statements ran outside the transaction that was rolled back: they stay. */
        diag_detail("the transaction was rolled back; the database is at %s, but the %zu "
                    "statements of %s ran outside it and stay (recorded); a rerun runs only "
                    "its verify script",
                    engine_revision_label(r->m, r->committed), mig->script[MANIFEST_UP].nstmts,
                    label);
    else if (r->nested)
        diag_detail("its changes were rolled back to where the walk started");
    else
        diag_detail("the transaction was rolled back; the database is at %s",
                    engine_revision_label(r->m, r->committed));
}

/* After a failure: roll back, and record the failure in the journal (best effort). */
static void
after_failure(struct runner *r)
{
    struct buf sql = BUF_INIT;
    struct buf detail = BUF_INIT;
    struct db_error e;

    queue_drop(r);
    buf_reset(&r->pending_applied); /* rolled back with the transaction */
    buf_reset(&r->pending_journal);
    r->npending = 0;
    r->record_held = 0;
    if (r->in_tx)
        db_exec(r->db,
                r->nested ? "ROLLBACK TO SAVEPOINT sealift_walk; RELEASE SAVEPOINT sealift_walk"
                          : "ROLLBACK",
                &e);
    r->in_tx = 0;
    r->tx_journal = r->journal; /* the rolled-back rows are gone */
    /* Nested: the caller's transaction, and a journal row written in it, will be undone. */
    if (r->fail_err.connection_lost || r->nested || r->actor[0] == '\0')
        return;
    buf_addf(&detail, "%s: %s%s%s", manifest_script_label((enum manifest_script_kind)r->fail_kind),
             r->fail_err.sqlstate[0] ? r->fail_err.sqlstate : "",
             r->fail_err.sqlstate[0] ? ": " : "", r->fail_err.message);
    {
        char at[40];
        struct journal_pos pos = r->journal;

        utc_now(at);
        buf_addstr(&sql, "BEGIN;\n");
        history_sql_journal_row(r->h, r->src, interrupted ? "interrupted" : "failure", r->m,
                                (long)r->fail_idx, detail.data, r->actor, at, &pos, &sql);
        buf_addstr(&sql, ";\n");
        history_sql_journal_pos(r->h, &pos, &sql);
        buf_addstr(&sql, ";\nCOMMIT;");
        if (db_exec(r->db, sql.data, &e) != 0)
            db_exec(r->db, "ROLLBACK", &e);
        else
            r->journal = pos;
    }
    buf_release(&sql);
    buf_release(&detail);
}

static int
finish(struct runner *r, int walk_ret)
{
    signals_restore();
    buf_release(&r->loads);
    buf_release(&r->pending_applied);
    buf_release(&r->pending_journal);
    buf_release(&r->held_detail);
    if (walk_ret == 0 && !r->failed && queue_flush(r) == 0)
        report_recorded(r); /* nothing is normally left; a walk ends with a commit */
    free(r->unreported);
    r->unreported = NULL;
    r->nunreported = r->unreported_cap = 0;
    if (walk_ret == 0 && !r->failed) {
        free(r->queue);
        r->queue = NULL;
        return 0;
    }
    after_failure(r);
    free(r->queue);
    r->queue = NULL;
    report_failure(r);
    {
        struct buf f = BUF_INIT;

        json_key(&f, "migration", 1);
        json_str(&f, r->fail_idx < r->m->nmigrations ? r->m->migrations[r->fail_idx].id : NULL);
        json_key(&f, "sqlstate", 0);
        json_str(&f, r->fail_err.sqlstate);
        json_key(&f, "message", 0);
        json_str(&f, r->fail_err.message);
        json_key(&f, "database_at", 0);
        json_str(&f, engine_revision_label(r->m, r->committed));
        out_event(r->out, "failed", f.data);
        buf_release(&f);
    }
    return r->fail_rejected ? 1 : 4;
}

/* What every run needs first: who we are, and where the journal ends. */
static int
runner_begin(struct runner *r)
{
    struct db_error e;
    struct db_rows *rows;

    buf_init(&r->loads);
    buf_init(&r->pending_applied);
    buf_init(&r->pending_journal);
    buf_init(&r->held_detail);
    r->npending = 0;
    r->queue = NULL;
    r->nqueue = r->queue_cap = 0;
    r->actor[0] = '\0'; /* no journal position known yet: after_failure writes nothing */
    rows = db_query(r->db, "SELECT current_user", &e);
    if (rows == NULL || history_journal_pos(r->db, r->h, &r->journal, &e) != 0) {
        db_rows_free(rows);
        return fail(r, r->committed, MANIFEST_UP, -1, &e);
    }
    snprintf(r->actor, sizeof(r->actor), "%s", db_value(rows, 0, 0));
    db_rows_free(rows);
    r->tx_journal = r->journal;
    r->record_held = 0;
    r->record_prepared = 0;
    /* Outside a transaction: a refusal (it should not happen) would abort nothing. */
    if (r->per_migration && !r->nested) {
        struct buf sql = BUF_INIT;

        history_sql_record_prepared(r->h, &sql);
        r->record_prepared = db_prepare(r->db, RECORD_STATEMENT, sql.data, &e);
        buf_release(&sql);
    }
    return 0;
}

int
runner_apply(struct runner *r, size_t from, size_t to)
{
    if (runner_begin(r) != 0)
        return finish(r, -1);
    signals_install(r);
    return finish(r, walk_apply(r->m, from, to, r->per_migration, &runner_ops, r));
}

int
runner_rollback(struct runner *r, size_t to)
{
    if (runner_begin(r) != 0)
        return finish(r, -1);
    signals_install(r);
    return finish(r, walk_rollback(r->m, r->committed, to, r->per_migration, &runner_ops, r));
}

int
runner_stamp(struct runner *r, size_t to)
{
    if (runner_begin(r) != 0)
        return finish(r, -1);
    signals_install(r);
    return finish(r, walk_stamp(r->committed, to, &runner_ops, r));
}
