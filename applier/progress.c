/*
 * progress.c: a long migration statement's progress and --warn-after warnings, read from the
 * lock watcher's second connection (see progress.h).
 * Layer: applier. SQL goes through db.h; printing through out.h and diag.
 */
#include "progress.h"
#include "sealift/buf.h"
#include "sealift/diag.h"
#include "sealift/json.h"
#include "sealift/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct warning {
    size_t idx;
    char *detail;
};

struct progress {
    struct out *out;
    long after_ms;
    long warn_ms;
    struct buf sql; /* the look's query, built at the first look (it depends on the server) */
    int sql_pid;
    size_t idx;
    const char *id;
    char key[64];          /* the statement looked at: its backend's query_start */
    double last_plain;     /* its elapsed seconds at the last plain line, -1: none yet */
    int warned;            /* it was warned about */
    int warned_since_done; /* a look warned since the last progress_statement_done */
    struct warning *warnings;
    size_t nwarnings, warnings_cap, taken;
};

/* Columns of the look's query. */
enum {
    P_ELAPSED,
    P_KEY,
    P_STATE,
    P_WAIT_TYPE,
    P_WAIT,
    P_QUERY,
    P_COMMAND,
    P_PHASE,
    P_RELATION,
    P_BLOCKS_DONE,
    P_BLOCKS_TOTAL,
    P_TUPLES_DONE,
    P_TUPLES_TOTAL,
    P_BYTES_DONE,
    P_BYTES_TOTAL
};

struct progress *
progress_new(struct out *out, long after_ms, long warn_ms)
{
    struct progress *p = xcalloc(1, sizeof(*p));

    p->out = out;
    p->after_ms = after_ms > 0 ? after_ms : 0;
    p->warn_ms = warn_ms > 0 ? warn_ms : 0;
    p->last_plain = -1;
    buf_init(&p->sql);
    return p;
}

void
progress_free(struct progress *p)
{
    if (p == NULL)
        return;
    for (size_t i = 0; i < p->nwarnings; i++)
        free(p->warnings[i].detail);
    free(p->warnings);
    buf_release(&p->sql);
    free(p);
}

long
progress_first_look_ms(const struct progress *p)
{
    long first = -1;

    if (p->after_ms > 0 && !p->out->quiet)
        first = p->after_ms;
    if (p->warn_ms > 0 && (first < 0 || p->warn_ms < first))
        first = p->warn_ms;
    return first;
}

void
progress_migration(struct progress *p, size_t idx, const char *id)
{
    p->idx = idx;
    p->id = id;
}

/*
 * One progress view's part of the look: its row for the backend, in the shared columns
 * (command, phase, relation, blocks done/total, tuples done/total, bytes done/total).
 */
static void
add_view(struct buf *sql, const char *cols, const char *view, int *first)
{
    buf_addf(sql, "%s SELECT %s FROM pg_catalog.%s v WHERE v.pid = a.pid",
             *first ? "" : " UNION ALL", cols, view);
    *first = 0;
}

#define REL_NAME                                                                                   \
    "(SELECT format('%I.%I', n.nspname, c.relname) FROM pg_class c JOIN pg_namespace n ON "        \
    "n.oid = c.relnamespace WHERE c.oid = v.relid)"

/* The look's query for server_version (each progress view where the server has it). */
static void
build_sql(struct buf *sql, int pid, int server_version)
{
    int first = 1;

    buf_addstr(sql, "SELECT extract(epoch FROM clock_timestamp() - a.query_start)::float8, "
                    "a.query_start::text, a.state, a.wait_event_type, a.wait_event, "
                    "left(a.query, 200), p.* FROM pg_stat_activity a LEFT JOIN LATERAL (");
    if (server_version >= 120000) {
        add_view(sql,
                 "v.command::text, v.phase::text, " REL_NAME ", v.blocks_done, v.blocks_total, "
                 "v.tuples_done, v.tuples_total, NULL::bigint, NULL::bigint",
                 "pg_stat_progress_create_index", &first);
        add_view(sql,
                 "v.command::text, v.phase::text, " REL_NAME ", v.heap_blks_scanned, "
                 "v.heap_blks_total, v.heap_tuples_written, NULL, NULL, NULL",
                 "pg_stat_progress_cluster", &first);
    }
    if (server_version >= 140000)
        add_view(sql,
                 "v.command::text, NULL::text, " REL_NAME ", NULL, NULL, v.tuples_processed, "
                 "NULL, v.bytes_processed, nullif(v.bytes_total, 0)",
                 "pg_stat_progress_copy", &first);
    if (server_version >= 130000)
        add_view(sql,
                 "'ANALYZE'::text, v.phase::text, " REL_NAME ", v.sample_blks_scanned, "
                 "v.sample_blks_total, NULL, NULL, NULL, NULL",
                 "pg_stat_progress_analyze", &first);
    add_view(sql,
             "'VACUUM'::text, v.phase::text, " REL_NAME ", v.heap_blks_scanned, "
             "v.heap_blks_total, NULL, NULL, NULL, NULL",
             "pg_stat_progress_vacuum", &first);
    buf_addf(sql, " LIMIT 1) p ON true WHERE a.pid = %d", pid);
}

/* "12,345" (thousands separated, for people). */
static void
add_count(struct buf *b, const char *v)
{
    size_t n = strlen(v);

    for (size_t i = 0; i < n; i++) {
        if (i > 0 && (n - i) % 3 == 0)
            buf_addch(b, ',');
        buf_addch(b, v[i]);
    }
}

/* ", blocks 812 of 4425 (18%)", or "rows 812" when no total is known. */
static void
add_amount(struct buf *b, const char *what, const char *done, const char *total, int *sep)
{
    double d, t;

    if (done == NULL)
        return;
    buf_addf(b, "%s%s ", *sep ? ", " : "", what);
    add_count(b, done);
    *sep = 1;
    if (total == NULL || (t = atof(total)) <= 0)
        return;
    d = atof(done);
    buf_addstr(b, " of ");
    add_count(b, total);
    buf_addf(b, " (%.0f%%)", 100.0 * d / t);
}

void
progress_describe(const char *phase, const char *blocks_done, const char *blocks_total,
                  const char *tuples_done, const char *tuples_total, const char *bytes_done,
                  const char *bytes_total, struct buf *out)
{
    int sep = 0;

    if (phase && *phase) {
        buf_addstr(out, phase);
        sep = 1;
    }
    /* Zero of zero says nothing: a phase that does not count blocks leaves them at 0. */
    if (blocks_total && atof(blocks_total) > 0)
        add_amount(out, "blocks", blocks_done, blocks_total, &sep);
    if (tuples_total && atof(tuples_total) > 0)
        add_amount(out, "tuples", tuples_done, tuples_total, &sep);
    else if (tuples_done && atof(tuples_done) > 0 && !(blocks_total && atof(blocks_total) > 0))
        add_amount(out, "tuples", tuples_done, NULL, &sep);
    if (bytes_done)
        add_amount(out, "bytes", bytes_done, bytes_total, &sep);
}

/* The statement's text on one line, cut at max characters. */
static void
add_query(struct buf *b, const char *q, size_t max)
{
    size_t n = 0;

    for (; q && *q && n < max; q++, n++)
        buf_addch(b, (*q == '\n' || *q == '\r' || *q == '\t') ? ' ' : *q);
    if (q && *q)
        buf_addstr(b, "...");
}

/* The terminal (or log) line of a look. */
static void
line_text(const struct progress *p, const struct db_rows *r, double elapsed, struct buf *b)
{
    const char *v;

    buf_addf(b, "        %s: ", p->id ? p->id : "?");
    if ((v = db_value(r, 0, P_COMMAND))) {
        buf_addstr(b, v);
        if ((v = db_value(r, 0, P_RELATION)))
            buf_addf(b, " on %s", v);
        buf_addstr(b, ": ");
        progress_describe(db_value(r, 0, P_PHASE), db_value(r, 0, P_BLOCKS_DONE),
                          db_value(r, 0, P_BLOCKS_TOTAL), db_value(r, 0, P_TUPLES_DONE),
                          db_value(r, 0, P_TUPLES_TOTAL), db_value(r, 0, P_BYTES_DONE),
                          db_value(r, 0, P_BYTES_TOTAL), b);
        buf_addf(b, ", %.1f s", elapsed);
        return;
    }
    buf_addf(b, "running %.1f s: \"", elapsed);
    add_query(b, db_value(r, 0, P_QUERY), 60);
    buf_addch(b, '"');
    if ((v = db_value(r, 0, P_WAIT)))
        buf_addf(b, ", waiting for %s:%s",
                 db_value(r, 0, P_WAIT_TYPE) ? db_value(r, 0, P_WAIT_TYPE) : "?", v);
}

static void
emit_json(const struct progress *p, const struct db_rows *r, double elapsed)
{
    static const struct {
        const char *key;
        int col;
        int number;
    } cols[] = {{"command", P_COMMAND, 0},           {"phase", P_PHASE, 0},
                {"relation", P_RELATION, 0},         {"blocks_done", P_BLOCKS_DONE, 1},
                {"blocks_total", P_BLOCKS_TOTAL, 1}, {"tuples_done", P_TUPLES_DONE, 1},
                {"tuples_total", P_TUPLES_TOTAL, 1}, {"bytes_done", P_BYTES_DONE, 1},
                {"bytes_total", P_BYTES_TOTAL, 1},   {"wait_event_type", P_WAIT_TYPE, 0},
                {"wait_event", P_WAIT, 0},           {"query", P_QUERY, 0}};
    struct buf f = BUF_INIT;

    json_key(&f, "migration", 1);
    json_str(&f, p->id);
    json_key(&f, "elapsed_s", 0);
    buf_addf(&f, "%.1f", elapsed);
    for (size_t c = 0; c < sizeof(cols) / sizeof(cols[0]); c++) {
        const char *v = db_value(r, 0, cols[c].col);

        json_key(&f, cols[c].key, 0);
        if (v && cols[c].number)
            buf_addstr(&f, v);
        else
            json_str(&f, v);
    }
    out_event(p->out, "statement_progress", f.data);
    buf_release(&f);
}

/* Warn once about the statement: a line (or event), and a warning kept for the journal. */
static void
warn(struct progress *p, const char *query, double secs, int finished)
{
    struct buf detail = BUF_INIT, q = BUF_INIT;

    add_query(&q, query, 200);
    buf_addf(&detail, "statement %s %.1f s, over --warn-after %.1f s: %s",
             finished ? "ran" : "still running after", secs, (double)p->warn_ms / 1000.0, q.data);
    if (p->out->json) {
        struct buf f = BUF_INIT;

        json_key(&f, "migration", 1);
        json_str(&f, p->id);
        json_key(&f, "elapsed_s", 0);
        buf_addf(&f, "%.1f", secs);
        buf_addf(&f, ",\"warn_after_s\":%.3f,\"finished\":%s", (double)p->warn_ms / 1000.0,
                 finished ? "true" : "false");
        json_key(&f, "query", 0);
        json_str(&f, q.data);
        out_event(p->out, "statement_warning", f.data);
        buf_release(&f);
    } else {
        out_live_end(p->out);
        diag_warning("migration %s: %s", p->id ? p->id : "?", detail.data);
    }
    p->warnings = xgrow(p->warnings, &p->warnings_cap, p->nwarnings + 1, sizeof(*p->warnings));
    p->warnings[p->nwarnings].idx = p->idx;
    p->warnings[p->nwarnings++].detail = buf_detach(&detail, NULL);
    buf_release(&detail);
    buf_release(&q);
}

void
progress_look_cb(void *data, struct db *twin, int pid, int lock_wait)
{
    struct progress *p = data;
    struct db_rows *r;
    const char *key, *state;
    double elapsed;

    if (p->sql.len == 0 || p->sql_pid != pid) {
        buf_reset(&p->sql);
        build_sql(&p->sql, pid, db_server_version(twin));
        p->sql_pid = pid;
    }
    r = db_query(twin, p->sql.data, NULL);
    if (r == NULL || db_nrows(r) != 1 || (key = db_value(r, 0, P_KEY)) == NULL ||
        (state = db_value(r, 0, P_STATE)) == NULL || strcmp(state, "active") != 0) {
        db_rows_free(r); /* between statements, or gone: nothing runs now */
        return;
    }
    if (strcmp(key, p->key) != 0) {
        snprintf(p->key, sizeof(p->key), "%s", key);
        p->last_plain = -1;
        p->warned = 0;
    }
    elapsed = atof(db_value(r, 0, P_ELAPSED));
    if (p->warn_ms > 0 && !p->warned && elapsed * 1000.0 >= (double)p->warn_ms) {
        warn(p, db_value(r, 0, P_QUERY), elapsed, 0);
        p->warned = p->warned_since_done = 1;
    }
    if (p->after_ms > 0 && !p->out->quiet && !lock_wait &&
        elapsed * 1000.0 >= (double)p->after_ms) {
        struct buf line = BUF_INIT;

        if (p->out->json) {
            emit_json(p, r, elapsed);
        } else if (p->out->tty) {
            line_text(p, r, elapsed, &line);
            out_live(p->out, line.data);
        } else if (p->last_plain < 0 ||
                   elapsed - p->last_plain >= PROGRESS_PLAIN_EVERY_MS / 1000.0) {
            line_text(p, r, elapsed, &line);
            out_info(p->out, "%s", line.data);
            p->last_plain = elapsed;
        }
        buf_release(&line);
    }
    db_rows_free(r);
}

void
progress_statement_done(struct progress *p, const char *stmt, double ms)
{
    if (p == NULL)
        return;
    if (p->warn_ms > 0 && !p->warned_since_done && ms >= (double)p->warn_ms)
        warn(p, stmt + strspn(stmt, " \t\r\n"), ms / 1000.0, 1);
    p->warned_since_done = 0;
}

int
progress_take_warning(struct progress *p, size_t *idx, struct buf *detail)
{
    if (p == NULL || p->taken >= p->nwarnings)
        return 0;
    *idx = p->warnings[p->taken].idx;
    buf_addstr(detail, p->warnings[p->taken].detail);
    p->taken++;
    return 1;
}
