/*
 * lockwatch.c: who blocks a waiting migration statement, seen from a second connection.
 * Layer: applier. SQL goes through db.h; printing through out.h.
 */
#include "lockwatch.h"
#include "sealift/buf.h"
#include "sealift/json.h"
#include "sealift/xalloc.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct lockwatch {
    struct db *db;   /* the runner's connection: only its pid is read */
    struct db *twin; /* the watcher's, opened at the first look */
    int twin_failed; /* it could not be opened: stop trying */
    struct out *out;
    int pid;
    char sql[1536];
    const char *id;
    char relation[256];
    long long last_line_ms; /* when the last line was shown (monotonic ms), -1: none yet */
    int hidden_said;        /* the pg_read_all_stats line was shown */
    long first;             /* the first look and the interval of looks (ms) */
    lockwatch_look_cb also; /* lockwatch_also */
    void *also_data;
};

/* Columns of the watch query. */
enum {
    W_MODE,
    W_RELATION,
    W_WAITED,
    W_PID,
    W_USER,
    W_APP,
    W_CLIENT,
    W_STATE,
    W_XACT_AGE,
    W_QUERY,
    W_HIDDEN,
    W_ROLE
};

static long long
now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
lockwatch_mode_name(const char *mode, char *out, size_t cap)
{
    size_t n = strlen(mode), k = 0;

    if (cap == 0)
        return;
    if (n > 4 && strcmp(mode + n - 4, "Lock") == 0)
        n -= 4;
    for (size_t i = 0; i < n && k + 2 < cap; i++) {
        if (i > 0 && isupper((unsigned char)mode[i]) && islower((unsigned char)mode[i - 1]))
            out[k++] = ' ';
        out[k++] = (char)toupper((unsigned char)mode[i]);
    }
    out[k] = '\0';
}

void
lockwatch_age(double secs, char *out, size_t cap)
{
    if (secs < 60)
        snprintf(out, cap, "%.0f s", secs);
    else if (secs < 3600)
        snprintf(out, cap, "%.0f min", secs / 60);
    else
        snprintf(out, cap, "%.1f h", secs / 3600);
}

/* One blocker, for the line: "pid 7178 (user alice, application "x", 10.0.0.5, ...)". */
static void
blocker_text(const struct db_rows *rows, size_t i, struct buf *b)
{
    const char *v;
    char age[32];

    buf_addf(b, "pid %s (user %s", db_value(rows, i, W_PID),
             db_value(rows, i, W_USER) ? db_value(rows, i, W_USER) : "?");
    if ((v = db_value(rows, i, W_APP)) && *v)
        buf_addf(b, ", application \"%s\"", v);
    if (db_value(rows, i, W_HIDDEN)[0] == 't') {
        buf_addstr(b, ")");
        return;
    }
    buf_addf(b, ", %s", db_value(rows, i, W_CLIENT) ? db_value(rows, i, W_CLIENT) : "local");
    if ((v = db_value(rows, i, W_STATE)))
        buf_addf(b, ", %s", v);
    if ((v = db_value(rows, i, W_XACT_AGE))) {
        lockwatch_age(atof(v), age, sizeof(age));
        buf_addf(b, " for %s", age);
    }
    if ((v = db_value(rows, i, W_QUERY)) && *v)
        buf_addf(b, ": \"%s\"", v);
    buf_addstr(b, ")");
}

static void
blocker_json(const struct db_rows *rows, size_t i, struct buf *f)
{
    static const struct {
        const char *key;
        int col;
        int number;
    } cols[] = {{"pid", W_PID, 1},         {"user", W_USER, 0},
                {"application", W_APP, 0}, {"client", W_CLIENT, 0},
                {"state", W_STATE, 0},     {"transaction_age_s", W_XACT_AGE, 1},
                {"query", W_QUERY, 0}};

    buf_addch(f, '{');
    for (size_t c = 0; c < sizeof(cols) / sizeof(cols[0]); c++) {
        const char *v = db_value(rows, i, cols[c].col);

        json_key(f, cols[c].key, c == 0);
        if (v && cols[c].number)
            buf_addstr(f, v);
        else
            json_str(f, v);
    }
    json_key(f, "hidden", 0);
    buf_addstr(f, db_value(rows, i, W_HIDDEN)[0] == 't' ? "true" : "false");
    buf_addch(f, '}');
}

/* Show the wait in rows (one row per blocker, all for the same lock). */
static void
show(struct lockwatch *w, const struct db_rows *rows, double waited)
{
    char mode[64];
    const char *rel = db_value(rows, 0, W_RELATION);
    int hidden = 0;
    struct buf b = BUF_INIT;

    lockwatch_mode_name(db_value(rows, 0, W_MODE), mode, sizeof(mode));
    for (size_t i = 0; i < db_nrows(rows); i++)
        if (db_value(rows, i, W_PID) && db_value(rows, i, W_HIDDEN)[0] == 't')
            hidden = 1;
    if (w->out->json) {
        json_key(&b, "migration", 1);
        json_str(&b, w->id);
        json_key(&b, "waited_s", 0);
        buf_addf(&b, "%.1f", waited);
        json_key(&b, "mode", 0);
        json_str(&b, mode);
        json_key(&b, "relation", 0);
        json_str(&b, rel);
        json_key(&b, "blockers", 0);
        buf_addch(&b, '[');
        for (size_t i = 0, k = 0; i < db_nrows(rows); i++) {
            if (db_value(rows, i, W_PID) == NULL)
                continue;
            if (k++)
                buf_addch(&b, ',');
            blocker_json(rows, i, &b);
        }
        buf_addch(&b, ']');
        out_event(w->out, "lock_wait", b.data);
    } else if (!w->out->quiet) {
        buf_addf(&b, "waiting %.1f s for %s on %s: ", waited, mode, rel);
        for (size_t i = 0, k = 0; i < db_nrows(rows); i++) {
            if (db_value(rows, i, W_PID) == NULL)
                continue;
            buf_addstr(&b, k++ ? "; " : "held by ");
            blocker_text(rows, i, &b);
        }
        if (db_value(rows, 0, W_PID) == NULL)
            buf_addstr(&b, "no blocker seen (it just ended)");
        out_info(w->out, "%s", b.data);
    }
    if (hidden && !w->hidden_said) {
        out_info(w->out,
                 "the state, client and query of other roles' sessions are hidden from role "
                 "\"%s\": grant it pg_read_all_stats to see them",
                 db_value(rows, 0, W_ROLE));
        w->hidden_said = 1;
    }
    buf_release(&b);
}

/* The wait callback: look at the runner's backend from the second connection. */
static void
watch_cb(void *data, long waited_ms)
{
    struct lockwatch *w = data;
    struct diag_err err = DIAG_ERR_INIT;
    struct db_rows *rows;
    struct db_error e;
    double waited;

    if (w->twin == NULL && !w->twin_failed) {
        w->twin = db_connect_twin(w->db, "sealift-apply lock watch", &err);
        if (w->twin == NULL) {
            /* Said once; the migration goes on unwatched. */
            w->twin_failed = 1;
            out_info(w->out, "cannot watch lock waits: %s", err.msg);
        }
    }
    if (w->twin == NULL)
        return;
    rows = db_query(w->twin, w->sql, &e);
    if (rows == NULL || db_nrows(rows) == 0) {
        db_rows_free(rows);
        if (w->also)
            w->also(w->also_data, w->twin, w->pid, 0);
        return;
    }
    if (db_value(rows, 0, W_RELATION))
        snprintf(w->relation, sizeof(w->relation), "%s", db_value(rows, 0, W_RELATION));
    waited = db_value(rows, 0, W_WAITED) ? atof(db_value(rows, 0, W_WAITED))
                                         : (double)waited_ms / 1000.0;
    /* Looks may come faster (to catch short waits); lines come once a second. */
    if (waited >= 0.95 && (w->last_line_ms < 0 || now_ms() - w->last_line_ms >= 950)) {
        show(w, rows, waited);
        w->last_line_ms = now_ms();
    }
    db_rows_free(rows);
    if (w->also)
        w->also(w->also_data, w->twin, w->pid, 1);
}

struct lockwatch *
lockwatch_new(struct db *db, struct out *out, long lock_timeout_ms)
{
    struct lockwatch *w = xcalloc(1, sizeof(*w));
    long first = 1000;
    int n;

    w->db = db;
    w->out = out;
    w->pid = db_backend_pid(db);
    w->last_line_ms = -1;
    /* pg_locks.waitstart is PostgreSQL 14's; before it, the client's count stands. */
    n = snprintf(
        w->sql, sizeof(w->sql),
        "SELECT l.mode, coalesce((SELECT format('%%I.%%I', n.nspname, c.relname) FROM pg_class c "
        "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = l.relation), l.locktype), "
        "%s, "
        "b.pid, b.usename, b.application_name, host(b.client_addr), b.state, "
        "extract(epoch FROM clock_timestamp() - b.xact_start)::float8, left(b.query, 200), "
        "b.pid IS NOT NULL AND b.state IS NULL, current_user "
        "FROM pg_locks l LEFT JOIN LATERAL unnest(pg_blocking_pids(l.pid)) AS bp(pid) ON true "
        "LEFT JOIN pg_stat_activity b ON b.pid = bp.pid "
        "WHERE l.pid = %d AND NOT l.granted ORDER BY b.pid",
        db_server_version(db) >= 140000
            ? "extract(epoch FROM clock_timestamp() - l.waitstart)::float8"
            : "NULL::float8",
        w->pid);
    if (n < 0 || (size_t)n >= sizeof(w->sql)) {
        free(w);
        return NULL;
    }
    if (lock_timeout_ms > 0 && lock_timeout_ms / 2 < first)
        first = lock_timeout_ms / 2 > 20 ? lock_timeout_ms / 2 : 20;
    w->first = first;
    db_set_wait_cb(db, watch_cb, w, first, first);
    return w;
}

void
lockwatch_also(struct lockwatch *w, lockwatch_look_cb cb, void *data, long first_ms)
{
    if (w == NULL)
        return;
    w->also = cb;
    w->also_data = data;
    if (cb && first_ms > 0)
        db_set_wait_cb(w->db, watch_cb, w, first_ms < w->first ? first_ms : w->first, w->first);
}

void
lockwatch_free(struct lockwatch *w)
{
    if (w == NULL)
        return;
    db_set_wait_cb(w->db, NULL, NULL, 0, 0);
    db_close(w->twin);
    free(w);
}

void
lockwatch_migration(struct lockwatch *w, const char *id)
{
    if (w)
        w->id = id;
}

const char *
lockwatch_relation(const struct lockwatch *w)
{
    return w ? w->relation : "";
}

void
lockwatch_forget(struct lockwatch *w)
{
    if (w) {
        w->relation[0] = '\0';
        w->last_line_ms = -1;
    }
}
