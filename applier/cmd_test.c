/*
 * cmd_test.c: "sealift-apply test BUNDLE": prove a chain on a scratch database before it
 * ships. Every migration goes up, down and up again, with the schema compared after each
 * step (snapshot.c); then the whole chain goes back to base and up to head again, as rollback
 * and apply would; then the history is replaced by a stamp at head, after which apply must
 * have nothing to do. Every step runs through the runner, exactly as apply, rollback and stamp
 * run it. With no database given, the test runs on a throwaway server (scratch_pg.c).
 * Layer: applier.
 *
 * The order: the round trip needs the empty database and goes through the chain from base,
 * so it comes first; starting from base also means that one broken down does not hide the
 * others. The database is then at head, where head-to-base starts; its second half, base to
 * head as apply would (one transaction by default), is the fresh-to-head apply.
 */
#include "cmds.h"
#include "runner.h"
#include "scratch_pg.h"
#include "session.h"
#include "snapshot.h"
#include "sealift/json.h"
#include "sealift/xalloc.h"

#include <ctype.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

/* Differences shown per failure on a terminal (JSON has them all). */
#define SHOW_DIFFS 20
/* Definitions longer than this are cut on a terminal. */
#define SHOW_DEF 160

static volatile sig_atomic_t stop_signal;
/* The connection to the server was lost: nothing more can be tried. */
static int lost_connection;

/* SIGINT/SIGTERM outside the runner's walks: stop at the next step and clean up. */
static void
on_signal(int sig)
{
    stop_signal = sig;
    db_cancel();
}

static void
usage_test(void)
{
    printf(
        "Prove a chain before it ships, on a scratch database: every migration up, down and\n"
        "up again, with the schema compared after each step; then the whole chain rolled back\n"
        "to base and applied to head again, as rollback and apply would; then a stamp at head,\n"
        "after which apply must have nothing to do. Irreversible migrations are skipped and\n"
        "listed. Exit 0 when every reversible migration round-trips and the chain goes down\n"
        "and up again; 1 otherwise, naming the first migration that fails.\n\n"
        "Usage:\n  sealift-apply test BUNDLE -p PUBLIC_KEY... [-d SCRATCH [--scratch]] "
        "[OPTIONS]\n\n"
        "Where it runs: with no database given (no -d, DATABASE_URL, PGHOST, PGHOSTADDR,\n"
        "PGPORT, PGDATABASE or PGSERVICE), on a throwaway PostgreSQL server started from this\n"
        "host's server binaries (initdb and postgres; SEALIFT_PG_BINDIR chooses them) in a\n"
        "temporary directory, reachable only through a Unix socket there, and removed when the\n"
        "test ends, however it ends.\n\n"
        "Safety: test creates and drops objects, so it refuses a database (exit 3) unless\n"
        "  - the database has no objects of its own: no schema but public, no table, view,\n"
        "    sequence, index, function or type outside the system schemas, and no extension\n"
        "    but plpgsql; or\n"
        "  - --scratch is given and the database's name says it is disposable: a word of the\n"
        "    name (a run of letters) begins with \"scratch\", \"test\" or \"tmp\", and no word\n"
        "    begins with \"prod\" (app_test, scratch1 and ci-tmp pass; latest, prod_test and\n"
        "    app do not).\n"
        "template0 and template1 are always refused, and so is a database where the history\n"
        "schema exists. Objects already in a --scratch database are left alone. When every\n"
        "down works, the database is left as it was found: rolled back, history schema dropped.\n\n"
        "Options:\n" APP_USAGE_BUNDLE
        "  -d, --db CONNINFO     the scratch database, conninfo or URI (default: DATABASE_URL,\n"
        "                        then libpq's PG* variables; with none, a throwaway server)\n"
        "      --scratch         accept a database with objects of its own if its name says\n"
        "                        it is disposable (see Safety)\n"
        "      --schema NAME     history schema used during the test (default \"sealift\")\n"
        "      --per-migration   roll back and apply the whole chain one transaction per\n"
        "                        migration (default: one transaction, as rollback and "
        "apply)\n" APP_USAGE_LOCK APP_USAGE_OUT
        "\nExit codes: 0 passed, 1 failed (or the bundle was rejected), 2 usage or no server\n"
        "binaries, 3 database refused, 4 interrupted or could not go on, 5 lock timeout,\n"
        "6 cannot connect or lost the connection.\n");
}

struct tester {
    struct session s;
    const struct manifest *m;
    struct out out;            /* what the user sees */
    struct out quiet;          /* the runner's: it reports errors (stderr) only */
    struct engine_view noview; /* nothing to resume: the database started without history */
    struct bundle_cursor *cursor;
    int per_migration;
    size_t at; /* migrations of the chain applied */
    /* Results. */
    size_t nok;
    size_t nfailed;
    int phase_failed;
    char *verdict;           /* per migration: 'o' ok, 'f' failed, 's' skipped, 0 untested */
    struct buf failed;       /* ids of migrations that fail the round trip, JSON array items */
    struct buf irreversible; /* labels, ", "-separated */
    struct buf irreversible_json;
    char first[700];          /* the first failure: migration label or phase */
    char first_reason[1200];  /* and what went wrong */
    struct buf first_details; /* its differences, one per line, for the final error */
    char dbname[256];
};

static long long
now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static double
ms_since(long long t0)
{
    return (double)(now_ns() - t0) / 1e6;
}

/* Stop now: a signal, or no more connection. The caller cleans up and says why. */
static int
halted(void)
{
    return stop_signal || runner_interrupted() || lost_connection;
}

/* ---- the database's state ---- */

enum step { STEP_UP, STEP_DOWN, STEP_STAMP };

/*
 * Move the database to position to by the runner: apply, rollback or stamp, as those
 * commands do. Returns 0, or the runner's code with r holding the failure (already reported
 * on stderr by the runner, with file, line, column and SQLSTATE).
 */
static int
walk(struct tester *t, enum step step, size_t to, int per_migration, int nested, struct failure *f,
     double *ms)
{
    long long t0 = now_ns();
    struct runner *r =
        runner_new(t->s.db, &t->s.h, &t->s.src, &t->s.bundle, t->cursor, &t->noview, &t->quiet,
                   (per_migration ? RUNNER_PER_MIGRATION : 0) | (nested ? RUNNER_NESTED : 0));
    int code;

    if (step == STEP_UP)
        code = runner_apply(r, t->at, to);
    else if (step == STEP_DOWN)
        code = runner_rollback(r, t->at, to);
    else
        code = runner_stamp(r, t->at, to);
    t->at = runner_position(r);
    memset(f, 0, sizeof(*f));
    if (runner_failure(r))
        *f = *runner_failure(r);
    if (runner_failure(r) && f->err.connection_lost)
        lost_connection = 1;
    runner_free(r);
    if (ms)
        *ms = ms_since(t0);
    return code;
}

static int
snap(struct tester *t, int in_tx, struct snapshot *s)
{
    struct db_error e;

    if (snapshot_take(t->s.db, t->s.o->schema, in_tx, s, &e) == 0)
        return 0;
    if (e.connection_lost)
        lost_connection = 1;
    if (!halted())
        diag_error("could not read the schema: %s", e.message);
    return -1;
}

/* Read the history again and hold it against the bundle (after the test rewrote it). */
static int
reload(struct tester *t)
{
    struct db_error e;

    db_state_release(&t->s.state);
    db_state_init(&t->s.state);
    engine_view_release(&t->s.view);
    engine_view_init(&t->s.view);
    if (history_load(t->s.db, &t->s.h, &t->s.state, &e) != 0) {
        diag_error("could not read the history in schema \"%s\": %s", t->s.o->schema, e.message);
        return -1;
    }
    engine_compare(t->m, t->s.bundle.data, &t->s.state, &t->s.view);
    return 0;
}

static int
drop_history(struct tester *t)
{
    struct buf sql = BUF_INIT;
    struct db_error e;
    int ret;

    buf_addf(&sql, "DROP SCHEMA %s CASCADE", t->s.h.qschema);
    ret = db_exec(t->s.db, sql.data, &e);
    if (ret != 0 && !halted())
        diag_error("could not drop the history schema \"%s\": %s", t->s.o->schema, e.message);
    buf_release(&sql);
    return ret;
}

/* ---- reporting ---- */

/* One line of a definition: whitespace runs made one space, cut at max bytes (UTF-8 safe). */
static void
add_def(struct buf *b, const char *def, size_t max)
{
    size_t start = b->len;
    int space = 0;

    for (const char *p = def; *p; p++) {
        if (isspace((unsigned char)*p)) {
            space = 1;
            continue;
        }
        if (space && b->len > start)
            buf_addch(b, ' ');
        space = 0;
        if (b->len - start >= max && ((unsigned char)*p & 0xC0) != 0x80) {
            buf_addstr(b, "...");
            return;
        }
        buf_addch(b, *p);
    }
}

/* "added index public.x (CREATE INDEX ...)", "changed column public.t.c: was X; now Y". */
static void
diff_text(struct buf *b, const struct snapshot_diff_item *d)
{
    const struct snapshot_item *it = d->after ? d->after : d->before;

    buf_addf(b, "%s %s %s", snapshot_change_word(d->change), it->kind, it->name);
    if (d->change == SNAPSHOT_CHANGED) {
        buf_addstr(b, ": was \"");
        add_def(b, d->before->def, SHOW_DEF);
        buf_addstr(b, "\"; now \"");
        add_def(b, d->after->def, SHOW_DEF);
        buf_addch(b, '"');
    } else if (it->def[0]) {
        buf_addstr(b, " (");
        add_def(b, it->def, SHOW_DEF);
        buf_addch(b, ')');
    }
}

static void
diff_json(struct buf *f, const struct snapshot_diff *d)
{
    buf_addstr(f, ",\"differences\":[");
    for (size_t i = 0; d && i < d->n; i++) {
        const struct snapshot_diff_item *it = &d->items[i];
        const struct snapshot_item *o = it->after ? it->after : it->before;

        buf_addstr(f, i ? ",{" : "{");
        json_key(f, "change", 1);
        json_str(f, snapshot_change_word(it->change));
        json_key(f, "kind", 0);
        json_str(f, o->kind);
        json_key(f, "name", 0);
        json_str(f, o->name);
        json_key(f, "before", 0);
        json_str(f, it->before ? it->before->def : NULL);
        json_key(f, "after", 0);
        json_str(f, it->after ? it->after->def : NULL);
        buf_addch(f, '}');
    }
    buf_addch(f, ']');
}

static void
error_json(struct buf *f, const struct failure *r)
{
    if (r == NULL)
        return;
    buf_addstr(f, ",\"error\":{");
    failure_json(r, f);
    buf_addch(f, '}');
}

/* What one step found: a migration's round trip, or a phase of the whole chain. */
struct outcome {
    const char *result; /* "ok", "failed", "skipped" */
    const char *reason; /* a code for JSON, or NULL */
    struct buf text;    /* the terminal's words after the label */
    const struct snapshot_diff *diff;
    const struct failure *err;
    double up_ms, down_ms, again_ms;
};

static void
outcome_init(struct outcome *oc)
{
    memset(oc, 0, sizeof(*oc));
    oc->result = "ok";
    buf_init(&oc->text);
}

static void outcome_set(struct outcome *oc, const char *result, const char *reason, const char *fmt,
                        ...) __attribute__((format(printf, 4, 5)));

static void
outcome_set(struct outcome *oc, const char *result, const char *reason, const char *fmt, ...)
{
    va_list ap;

    oc->result = result;
    oc->reason = reason;
    buf_reset(&oc->text);
    va_start(ap, fmt);
    buf_vaddf(&oc->text, fmt, ap);
    va_end(ap);
}

/* Remember the first failure, for the last line and the exit status. */
static void
note_failure(struct tester *t, const char *what, const struct outcome *oc)
{
    if (t->first[0])
        return;
    snprintf(t->first, sizeof(t->first), "%s", what);
    snprintf(t->first_reason, sizeof(t->first_reason), "%s", oc->text.data);
    for (size_t i = 0; oc->diff && i < oc->diff->n && i < SHOW_DIFFS; i++) {
        diff_text(&t->first_details, &oc->diff->items[i]);
        buf_addch(&t->first_details, '\n');
    }
}

static void
print_diffs(const struct snapshot_diff *d)
{
    struct buf line = BUF_INIT;

    for (size_t i = 0; d && i < d->n && i < SHOW_DIFFS; i++) {
        buf_reset(&line);
        diff_text(&line, &d->items[i]);
        printf("          %s\n", line.data);
    }
    if (d && d->n > SHOW_DIFFS)
        printf("          ... and %zu more (--json lists them all)\n", d->n - SHOW_DIFFS);
    buf_release(&line);
}

/* A migration's round trip: "[  3/6] FAIL  003_x: its down ...", or a round_trip event. */
static void
report_migration(struct tester *t, size_t k, struct outcome *oc)
{
    const struct manifest_migration *mig = &t->m->migrations[k];
    const char *label = engine_revision_label(t->m, k + 1);
    int failed = strcmp(oc->result, "failed") == 0;

    t->verdict[k] = oc->result[0];
    if (failed) {
        t->nfailed++;
        buf_addf(&t->failed, "%s", t->failed.len ? "," : "");
        json_str(&t->failed, mig->id);
        note_failure(t, label, oc);
    } else if (strcmp(oc->result, "ok") == 0) {
        t->nok++;
    }
    if (t->out.quiet)
        return;
    if (t->out.json) {
        struct buf f = BUF_INIT;

        json_key(&f, "migration", 1);
        json_str(&f, mig->id);
        json_key(&f, "label", 0);
        json_str(&f, label);
        buf_addf(&f, ",\"ordinal\":%zu,\"total\":%zu", k + 1, t->m->nmigrations);
        json_key(&f, "result", 0);
        json_str(&f, oc->result);
        json_key(&f, "reason", 0);
        json_str(&f, oc->reason);
        json_key(&f, "message", 0);
        json_str(&f, oc->text.len ? oc->text.data : NULL);
        buf_addf(&f, ",\"up_ms\":%.3f,\"down_ms\":%.3f,\"up_again_ms\":%.3f", oc->up_ms,
                 oc->down_ms, oc->again_ms);
        diff_json(&f, oc->diff);
        error_json(&f, oc->err);
        out_event(&t->out, "round_trip", f.data);
        buf_release(&f);
        return;
    }
    if (strcmp(oc->result, "ok") == 0)
        printf("[%*zu/%zu] ok    %s (up %.1f ms, down %.1f ms, up again %.1f ms)\n",
               t->m->nmigrations >= 1000 ? 5 : 3, k + 1, t->m->nmigrations, label, oc->up_ms,
               oc->down_ms, oc->again_ms);
    else
        printf("[%*zu/%zu] %-5s %s: %s\n", t->m->nmigrations >= 1000 ? 5 : 3, k + 1,
               t->m->nmigrations, failed ? "FAIL" : "skip", label, oc->text.data);
    print_diffs(oc->diff);
    fflush(stdout);
}

/* A phase of the whole chain: "ok    head to base: ..." or a phase event. */
static void
report_phase(struct tester *t, const char *phase, const char *title, struct outcome *oc, double ms)
{
    int failed = strcmp(oc->result, "failed") == 0;

    if (failed) {
        char what[800];

        /* Name the migration when one failed: "002_x (head to base)". */
        if (oc->err && oc->err->idx < t->m->nmigrations)
            snprintf(what, sizeof(what), "%s (%s)", engine_revision_label(t->m, oc->err->idx + 1),
                     title);
        else
            snprintf(what, sizeof(what), "%s", title);
        t->phase_failed = 1;
        note_failure(t, what, oc);
    }
    if (t->out.quiet)
        return;
    if (t->out.json) {
        struct buf f = BUF_INIT;

        json_key(&f, "phase", 1);
        json_str(&f, phase);
        json_key(&f, "result", 0);
        json_str(&f, oc->result);
        json_key(&f, "reason", 0);
        json_str(&f, oc->reason);
        json_key(&f, "message", 0);
        json_str(&f, oc->text.data);
        buf_addf(&f, ",\"duration_ms\":%.3f", ms);
        diff_json(&f, oc->diff);
        error_json(&f, oc->err);
        out_event(&t->out, "phase", f.data);
        buf_release(&f);
        return;
    }
    printf("%-5s %s: %s\n",
           failed                          ? "FAIL"
           : strcmp(oc->result, "ok") == 0 ? "ok"
                                           : "skip",
           title, oc->text.data);
    print_diffs(oc->diff);
    fflush(stdout);
}

/* ---- the steps ---- */

/*
 * Check what COMMIT would: deferred constraints and constraint triggers, in a savepoint that
 * is then undone (a nested walk's transaction is never committed). Fills r as a runner's
 * failure of script kind of migration idx when it fails. Returns 0 or -1.
 */
static int
check_commit(struct tester *t, size_t idx, int kind, struct failure *r)
{
    struct db_error e;

    if (db_exec(t->s.db,
                "SAVEPOINT sealift_check; SET CONSTRAINTS ALL IMMEDIATE; "
                "ROLLBACK TO SAVEPOINT sealift_check; RELEASE SAVEPOINT sealift_check",
                &e) == 0)
        return 0;
    memset(r, 0, sizeof(*r));
    r->m = t->m;
    r->data = t->s.bundle.data;
    r->idx = idx;
    r->kind = kind;
    r->stmt = -1;
    r->err = e;
    /* Keep the server's words, and say where: the statements all ran. */
    memcpy(r->err.message, "at commit: ", 11);
    memcpy(r->err.message + 11, e.message, sizeof(e.message) - 12);
    r->err.message[sizeof(r->err.message) - 1] = '\0';
    if (!halted())
        diag_error("migration %s (%s) failed at commit: %s", engine_revision_label(t->m, idx + 1),
                   manifest_script_label((enum manifest_script_kind)kind), e.message);
    return -1;
}

/* The report of a round trip whose down and up again ran: d1 after the down, d2 after up. */
static void
judge(struct outcome *oc, const struct snapshot_diff *d1, const struct snapshot_diff *d2)
{
    if (d1->n) {
        outcome_set(oc, "failed", "down_differs",
                    "its down does not undo its up (%zu difference%s from before its up)", d1->n,
                    d1->n == 1 ? "" : "s");
        oc->diff = d1;
    } else if (d2->n) {
        outcome_set(oc, "failed", "up_again_differs",
                    "its up, run again after its down, gives another schema (%zu difference%s "
                    "from its first run)",
                    d2->n, d2->n == 1 ? "" : "s");
        oc->diff = d2;
    }
}

/* A walk failed: report it as reason, with the runner's error. */
static void
judge_error(struct outcome *oc, const char *reason, const char *what, const struct failure *r,
            const struct snapshot_diff *d1)
{
    if (d1 && d1->n) {
        outcome_set(oc, "failed", "down_differs",
                    "its down does not undo its up, and its up then failed: ");
        oc->diff = d1;
    } else {
        outcome_set(oc, "failed", reason, "%s", what);
    }
    failure_text(r, &oc->text);
    oc->err = r;
}

/*
 * Down and up again of migration k, both transactional, inside a transaction of ours that is
 * then rolled back: the database returns to just after k's (committed) up whatever the down
 * did, so that one broken down does not stop the round trip. cur: the schema before k's up.
 * Returns 0, or -1 on an error or an interruption.
 */
static int
try_down_up(struct tester *t, size_t k, const struct snapshot *cur, struct outcome *oc)
{
    struct snapshot down;
    struct snapshot_diff d1, d2;
    struct failure r;
    struct db_error e;
    int ret = -1;

    snapshot_init(&down);
    snapshot_diff_init(&d1);
    snapshot_diff_init(&d2);
    if (db_exec(t->s.db, "BEGIN", &e) != 0) {
        if (!halted())
            diag_error("could not begin a transaction: %s", e.message);
        goto out;
    }
    if (walk(t, STEP_DOWN, k, 1, 1, &r, &oc->down_ms) != 0 ||
        check_commit(t, k, MANIFEST_DOWN, &r) != 0) {
        if (halted())
            goto out;
        judge_error(oc, "down_failed", "its down failed: ", &r, NULL);
        report_migration(t, k, oc);
        ret = 0;
        goto out;
    }
    if (snap(t, 1, &down) != 0)
        goto out;
    snapshot_diff(cur, &down, &d1);
    if (walk(t, STEP_UP, k + 1, 1, 1, &r, &oc->again_ms) != 0 ||
        check_commit(t, k, MANIFEST_UP, &r) != 0) {
        if (halted())
            goto out;
        judge_error(oc, "up_again_failed", "its up failed when run again after its down: ", &r,
                    &d1);
        report_migration(t, k, oc);
        ret = 0;
        goto out;
    }
    /*
     * No snapshot after the up again: it is rolled back, and when the down restored the
     * schema, the up ran again on the schema it first ran on.
     */
    judge(oc, &d1, &d2);
    report_migration(t, k, oc);
    ret = 0;
out:
    db_exec(t->s.db, "ROLLBACK", NULL);
    t->at = k + 1;
    snapshot_diff_release(&d1);
    snapshot_diff_release(&d2);
    snapshot_release(&down);
    return ret;
}

/*
 * Down and up again of migration k when one of its scripts runs outside a transaction
 * (CREATE INDEX CONCURRENTLY, ...): committed as rollback and apply commit them, so a failure
 * that leaves the database off the chain stops the round trip. Returns 0, 1 (stop) or -1.
 * cur becomes the schema after the migration.
 */
static int
commit_down_up(struct tester *t, size_t k, struct snapshot *cur, struct snapshot *up,
               struct outcome *oc)
{
    const struct manifest_script *down_script = &t->m->migrations[k].script[MANIFEST_DOWN];
    struct snapshot down, again;
    struct snapshot_diff d1, d2;
    struct failure r;
    int ret = -1;

    snapshot_init(&down);
    snapshot_init(&again);
    snapshot_diff_init(&d1);
    snapshot_diff_init(&d2);
    if (walk(t, STEP_DOWN, k, 1, 0, &r, &oc->down_ms) != 0) {
        if (halted())
            goto out;
        judge_error(oc, "down_failed", "its down failed: ", &r, NULL);
        report_migration(t, k, oc);
        /* Part of a no-transaction down ran and stays: the schema is neither k's nor k+1's. */
        ret = !down_script->transactional || t->at != k + 1;
        snapshot_move(cur, up);
        goto out;
    }
    if (snap(t, 0, &down) != 0)
        goto out;
    snapshot_diff(cur, &down, &d1);
    if (walk(t, STEP_UP, k + 1, 1, 0, &r, &oc->again_ms) != 0) {
        if (halted())
            goto out;
        judge_error(oc, "up_again_failed", "its up failed when run again after its down: ", &r,
                    &d1);
        report_migration(t, k, oc);
        ret = 1;
        goto out;
    }
    if (snap(t, 0, &again) != 0)
        goto out;
    snapshot_diff(up, &again, &d2);
    judge(oc, &d1, &d2);
    report_migration(t, k, oc);
    snapshot_move(cur, &again);
    ret = 0;
out:
    snapshot_diff_release(&d1);
    snapshot_diff_release(&d2);
    snapshot_release(&down);
    snapshot_release(&again);
    return ret;
}

/*
 * Each migration in order: up (committed, as apply --per-migration would), then down and up
 * again, the schema compared after each step. cur: the schema at base on entry, at the last
 * position reached on return; at_l: a copy of the schema at position l (where head-to-base
 * will stop). Returns 0 when it went through the chain, 1 when it had to stop (an up failed,
 * or a no-transaction step left the database off the chain), -1 on an error or an
 * interruption (printed).
 */
static int
round_trip(struct tester *t, struct snapshot *cur, struct snapshot *at_l, size_t l)
{
    struct snapshot up;
    struct failure r;
    int ret = 0;

    snapshot_init(&up);
    if (l == 0)
        snapshot_copy(at_l, cur);
    for (size_t k = 0; k < t->m->nmigrations && ret == 0; k++) {
        const struct manifest_migration *mig = &t->m->migrations[k];
        struct outcome oc;

        outcome_init(&oc);
        if (walk(t, STEP_UP, k + 1, 1, 0, &r, &oc.up_ms) != 0) {
            if (halted()) {
                ret = -1;
            } else {
                judge_error(&oc, "up_failed", "its up failed: ", &r, NULL);
                report_migration(t, k, &oc);
                ret = 1;
            }
        } else if (snap(t, 0, &up) != 0) {
            ret = -1;
        } else if (!mig->script[MANIFEST_DOWN].present) {
            outcome_set(&oc, "skipped", "irreversible", "irreversible (no down script)");
            buf_addf(&t->irreversible, "%s%s", t->irreversible.len ? ", " : "",
                     engine_revision_label(t->m, k + 1));
            buf_addf(&t->irreversible_json, "%s", t->irreversible_json.len ? "," : "");
            json_str(&t->irreversible_json, mig->id);
            report_migration(t, k, &oc);
            snapshot_move(cur, &up);
        } else if (mig->script[MANIFEST_UP].transactional &&
                   mig->script[MANIFEST_DOWN].transactional) {
            ret = try_down_up(t, k, cur, &oc);
            snapshot_move(cur, &up);
        } else {
            ret = commit_down_up(t, k, cur, &up, &oc);
        }
        if (ret == 0 && k + 1 == l)
            snapshot_copy(at_l, cur);
        buf_release(&oc.text);
        if (ret == 0 && halted())
            ret = -1;
    }
    snapshot_release(&up);
    return ret;
}

/*
 * From head, back to l (base, or after the last irreversible migration) as rollback would,
 * compared with the schema there; then up to head again as apply would, compared with the
 * head of the round trip. Returns 0 (findings reported) or -1 (error or interruption).
 */
static int
head_to_base(struct tester *t, const struct snapshot *at_l, const struct snapshot *head, size_t l)
{
    const char *where = l ? engine_revision_label(t->m, l) : "base";
    char target[700];
    struct snapshot now;
    struct snapshot_diff d;
    struct outcome oc;
    struct failure r;
    size_t n = t->m->nmigrations;
    double ms;
    int ret = 0;

    snprintf(target, sizeof(target), "%s", where);
    snapshot_init(&now);
    snapshot_diff_init(&d);
    outcome_init(&oc);
    if (walk(t, STEP_DOWN, l, t->per_migration, 0, &r, &ms) != 0) {
        if (halted()) {
            ret = -1;
            goto done;
        }
        outcome_set(&oc, "failed", "down_failed",
                    "the down of %s failed: ", engine_revision_label(t->m, r.idx + 1));
        failure_text(&r, &oc.text);
        if (r.idx < n && t->verdict[r.idx] == 'o')
            buf_addstr(&oc.text, "; its own round trip passed: it fails only after the downs "
                                 "of the migrations after it");
        oc.err = &r;
        report_phase(t, "head_to_base", "head to base", &oc, ms);
        outcome_set(&oc, "skipped", "not_at_base", "the chain did not get back to %s", target);
        report_phase(t, "base_to_head", "base to head", &oc, 0);
        goto done;
    }
    if (snap(t, 0, &now) != 0) {
        ret = -1;
        goto done;
    }
    snapshot_diff(at_l, &now, &d);
    if (d.n) {
        outcome_set(&oc, "failed", "schema_differs",
                    "rolled back %zu migrations, but the schema differs from the one at %s "
                    "(%zu difference%s)",
                    n - l, target, d.n, d.n == 1 ? "" : "s");
        oc.diff = &d;
    } else {
        outcome_set(&oc, "ok", NULL,
                    "rolled back %zu migrations as rollback would (%.1f ms); the schema is the "
                    "one at %s again",
                    n - l, ms, target);
    }
    report_phase(t, "head_to_base", "head to base", &oc, ms);

    buf_release(&oc.text); /* outcome_init starts a new text */
    outcome_init(&oc);
    if (walk(t, STEP_UP, n, t->per_migration, 0, &r, &ms) != 0) {
        if (halted()) {
            ret = -1;
            goto done;
        }
        outcome_set(&oc, "failed", "up_failed",
                    "the up of %s failed: ", engine_revision_label(t->m, r.idx + 1));
        failure_text(&r, &oc.text);
        oc.err = &r;
        report_phase(t, "base_to_head", "base to head", &oc, ms);
        goto done;
    }
    if (snap(t, 0, &now) != 0) {
        ret = -1;
        goto done;
    }
    snapshot_diff(head, &now, &d);
    if (d.n) {
        outcome_set(&oc, "failed", "schema_differs",
                    "applied %zu migrations, but the schema differs from the first head's "
                    "(%zu difference%s)",
                    n - l, d.n, d.n == 1 ? "" : "s");
        oc.diff = &d;
    } else {
        outcome_set(&oc, "ok", NULL,
                    "applied %zu migrations as apply would (%.1f ms); the schema is the first "
                    "head's again",
                    n - l, ms);
    }
    report_phase(t, "base_to_head", "base to head", &oc, ms);
done:
    buf_release(&oc.text);
    snapshot_diff_release(&d);
    snapshot_release(&now);
    return ret;
}

/*
 * A database that has the chain's schema but no history, stamped at head: apply must then have
 * nothing to do, and the stamp must not have touched the schema. Returns 0 or -1.
 */
static int
stamp_noop(struct tester *t)
{
    struct snapshot before, after;
    struct snapshot_diff d;
    struct outcome oc;
    struct failure r;
    size_t n = t->m->nmigrations;
    long long t0 = now_ns();
    int ret = -1;

    snapshot_init(&before);
    snapshot_init(&after);
    snapshot_diff_init(&d);
    outcome_init(&oc);
    if (snap(t, 0, &before) != 0 || drop_history(t) != 0 || reload(t) != 0)
        goto done;
    t->at = 0;
    if (session_create_history(&t->s) != EXIT_OK)
        goto done;
    if (walk(t, STEP_STAMP, n, 0, 0, &r, NULL) != 0) {
        if (halted())
            goto done;
        outcome_set(&oc, "failed", "stamp_failed", "stamp failed: ");
        failure_text(&r, &oc.text);
        oc.err = &r;
    } else if (reload(t) != 0 || snap(t, 0, &after) != 0) {
        goto done;
    } else {
        snapshot_diff(&before, &after, &d);
        if (t->s.view.drift || t->s.view.napplied != n || t->s.view.partial || t->s.view.ahead) {
            outcome_set(&oc, "failed", "not_at_head",
                        "after the stamp, apply does not find the database at head (%zu of %zu "
                        "applied%s)",
                        t->s.view.napplied, n, t->s.view.drift ? ", drift" : "");
        } else if (d.n) {
            outcome_set(&oc, "failed", "schema_differs",
                        "the stamp changed the schema (%zu difference%s)", d.n,
                        d.n == 1 ? "" : "s");
            oc.diff = &d;
        } else {
            outcome_set(&oc, "ok", NULL,
                        "a database with the chain's schema and no history, stamped at %s: "
                        "apply has nothing to do",
                        engine_revision_label(t->m, n));
        }
    }
    report_phase(t, "stamp_noop", "stamp at head", &oc, ms_since(t0));
    ret = 0;
done:
    buf_release(&oc.text);
    snapshot_diff_release(&d);
    snapshot_release(&before);
    snapshot_release(&after);
    return ret;
}

/*
 * A database we were given (not our throwaway server): leave it as it was found when we can,
 * that is when every down works; an irreversible migration keeps it at l. base: its schema
 * before the test.
 */
static void
restore_given(struct tester *t, const struct snapshot *base, size_t l)
{
    struct snapshot now;
    struct snapshot_diff d;
    struct failure r;

    snapshot_init(&now);
    snapshot_diff_init(&d);
    if (t->at > l && t->nfailed == 0 && !t->phase_failed)
        walk(t, STEP_DOWN, l, 0, 0, &r, NULL);
    if (halted() || snap(t, 0, &now) != 0)
        goto done;
    snapshot_diff(base, &now, &d);
    if (t->at == 0 && d.n == 0) {
        if (drop_history(t) == 0)
            out_info(&t->out, "the database is as it was before the test");
    } else {
        diag_warning("the test leaves database \"%s\" at %s, with its history in schema \"%s\" "
                     "and %zu difference%s from before the test: recreate it before the next",
                     t->dbname, engine_revision_label(t->m, t->at), t->s.o->schema, d.n,
                     d.n == 1 ? "" : "s");
    }
done:
    snapshot_diff_release(&d);
    snapshot_release(&now);
}

/* ---- where it runs ---- */

/* A database was named: -d, DATABASE_URL, or a libpq variable that picks a server or database. */
static int
target_given(const struct app_opts *o)
{
    static const char *const vars[] = {"DATABASE_URL", "PGHOST",     "PGHOSTADDR",
                                       "PGPORT",       "PGDATABASE", "PGSERVICE"};

    if (o->conninfo && *o->conninfo)
        return 1;
    for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
        const char *v = getenv(vars[i]);

        if (v && *v)
            return 1;
    }
    return 0;
}

static int
word_begins(const char *w, size_t len, const char *prefix)
{
    size_t n = strlen(prefix);

    return len >= n && strncasecmp(w, prefix, n) == 0;
}

/*
 * The name says the database may be thrown away: a word of it (a run of ASCII letters) begins
 * with "scratch", "test" or "tmp", and no word begins with "prod".
 */
static int
name_is_disposable(const char *name)
{
    int yes = 0;

    for (const char *p = name; *p;) {
        const char *w = p;
        size_t len;

        if (!isalpha((unsigned char)*p)) {
            p++;
            continue;
        }
        while (isalpha((unsigned char)*p))
            p++;
        len = (size_t)(p - w);
        if (word_begins(w, len, "prod"))
            return 0;
        if (word_begins(w, len, "scratch") || word_begins(w, len, "test") ||
            word_begins(w, len, "tmp"))
            yes = 1;
    }
    return yes;
}

/* Objects of the database's own (the safety rule's first half), the first ten named. */
#define USER_OBJECTS_SQL                                                                           \
    "SELECT kind, name, count(*) OVER () FROM ("                                                   \
    "SELECT 'schema' AS kind, nspname::text AS name FROM pg_namespace WHERE nspname NOT IN "       \
    "('public', 'pg_catalog', 'information_schema') AND nspname !~ '^pg_(toast|temp_)' "           \
    "UNION ALL SELECT CASE c.relkind WHEN 'r' THEN 'table' WHEN 'p' THEN 'table' WHEN 'v' THEN "   \
    "'view' WHEN 'm' THEN 'materialized view' WHEN 'S' THEN 'sequence' WHEN 'f' THEN "             \
    "'foreign table' WHEN 'c' THEN 'type' ELSE 'index' END, n.nspname || '.' || c.relname "        \
    "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname NOT IN "        \
    "('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_(toast|temp_)' "                   \
    "UNION ALL SELECT 'function', n.nspname || '.' || p.proname || '(' || "                        \
    "pg_get_function_identity_arguments(p.oid) || ')' FROM pg_proc p JOIN pg_namespace n ON "      \
    "n.oid = p.pronamespace WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND "      \
    "n.nspname !~ '^pg_(toast|temp_)' "                                                            \
    "UNION ALL SELECT 'type', n.nspname || '.' || t.typname FROM pg_type t JOIN pg_namespace n "   \
    "ON n.oid = t.typnamespace WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND "   \
    "n.nspname !~ '^pg_(toast|temp_)' AND t.typrelid = 0 AND "                                     \
    "NOT EXISTS (SELECT 1 FROM pg_type el WHERE el.typarray = t.oid) "                             \
    "UNION ALL SELECT 'extension', extname::text FROM pg_extension WHERE extname <> 'plpgsql'"     \
    ") o ORDER BY 1, 2 LIMIT 10"

/* The safety rule (see usage_test). Returns 0 to go on, or 3 (printed). */
static int
check_target(struct tester *t, int scratch)
{
    struct db_rows *r = db_query(t->s.db, "SELECT current_database()", NULL);
    struct db_error e;
    size_t count;

    snprintf(t->dbname, sizeof(t->dbname), "%s", r && db_value(r, 0, 0) ? db_value(r, 0, 0) : "?");
    db_rows_free(r);
    if (strcmp(t->dbname, "template0") == 0 || strcmp(t->dbname, "template1") == 0) {
        diag_error("test refuses database \"%s\": every new database is copied from it", t->dbname);
        return EXIT_STATE;
    }
    r = db_query(t->s.db, USER_OBJECTS_SQL, &e);
    if (r == NULL) {
        diag_error("could not look at what database \"%s\" holds: %s", t->dbname, e.message);
        return e.connection_lost ? EXIT_CONNECT : EXIT_FAILED;
    }
    count = db_nrows(r) ? (size_t)strtoul(db_value(r, 0, 2), NULL, 10) : 0;
    if (count > 0 && !(scratch && name_is_disposable(t->dbname))) {
        diag_error("test refuses database \"%s\": it has %zu object%s of its own, and test "
                   "creates and drops objects",
                   t->dbname, count, count == 1 ? "" : "s");
        for (size_t i = 0; i < db_nrows(r); i++)
            diag_detail("%s %s", db_value(r, i, 0), db_value(r, i, 1));
        if (count > db_nrows(r))
            diag_detail("... and %zu more", count - db_nrows(r));
        if (scratch)
            diag_hint("--scratch accepts such a database only when its name says it is "
                      "disposable (a word beginning with scratch, test or tmp, none with prod)");
        else
            diag_hint("use an empty database, or no -d at all (a throwaway server); for a "
                      "disposable one with objects, name it so (e.g. app_test) and add --scratch");
        db_rows_free(r);
        return EXIT_STATE;
    }
    db_rows_free(r);
    if (t->s.state.schema_exists) {
        diag_error("test refuses database \"%s\": its history schema \"%s\" exists (sealift has "
                   "been used here)",
                   t->dbname, t->s.o->schema);
        diag_hint("use a fresh database, or another history schema (--schema)");
        return EXIT_STATE;
    }
    if (count > 0)
        out_info(&t->out,
                 "database \"%s\" has %zu object%s of its own; --scratch and its name let the "
                 "test run beside them",
                 t->dbname, count, count == 1 ? "" : "s");
    return EXIT_OK;
}

/* ---- the whole test ---- */

static void
report_start(struct tester *t, int throwaway, const char *dir)
{
    struct db_rows *r = db_query(t->s.db, "SHOW server_version", NULL);
    const char *version = r && db_value(r, 0, 0) ? db_value(r, 0, 0) : "?";

    if (t->out.json) {
        struct buf f = BUF_INIT;

        json_key(&f, "project", 1);
        json_str(&f, t->m->project);
        buf_addf(&f, ",\"serial\":%llu,\"migrations\":%zu", (unsigned long long)t->m->serial,
                 t->m->nmigrations);
        json_key(&f, "database", 0);
        json_str(&f, db_describe(t->s.db));
        json_key(&f, "throwaway", 0);
        buf_addstr(&f, throwaway ? "true" : "false");
        json_key(&f, "server_version", 0);
        json_str(&f, version);
        out_event(&t->out, "test_start", f.data);
        buf_release(&f);
    } else if (throwaway) {
        out_info(&t->out,
                 "testing %zu migrations of \"%s\" on a throwaway PostgreSQL %s in %s (removed "
                 "at the end)",
                 t->m->nmigrations, t->m->project, version, dir);
    } else {
        out_info(&t->out, "testing %zu migrations of \"%s\" on %s (PostgreSQL %s)",
                 t->m->nmigrations, t->m->project, db_describe(t->s.db), version);
    }
    db_rows_free(r);
}

static int
report_end(struct tester *t, double ms)
{
    size_t n = t->m->nmigrations;
    int passed = !t->first[0];

    if (t->out.json) {
        struct buf f = BUF_INIT;

        json_key(&f, "result", 1);
        json_str(&f, passed ? "passed" : "failed");
        buf_addf(&f, ",\"migrations\":%zu,\"round_trip_ok\":%zu,\"round_trip_failed\":%zu", n,
                 t->nok, t->nfailed);
        buf_addf(&f, ",\"failed\":[%s],\"irreversible\":[%s]", t->failed.data,
                 t->irreversible_json.data);
        json_key(&f, "first_failure", 0);
        json_str(&f, passed ? NULL : t->first);
        json_key(&f, "reason", 0);
        json_str(&f, passed ? NULL : t->first_reason);
        buf_addf(&f, ",\"duration_ms\":%.3f", ms);
        out_event(&t->out, "test_result", f.data);
        buf_release(&f);
    } else if (passed) {
        out_info(&t->out,
                 "test passed: %zu of %zu migrations round-trip, and the chain goes down and up "
                 "again%s%s (%.1f s)",
                 t->nok, n, t->irreversible.len ? "; irreversible, skipped: " : "",
                 t->irreversible.data, ms / 1000);
    } else {
        struct buf what = BUF_INIT;

        if (t->nfailed)
            buf_addf(&what, "%zu of %zu migrations do not round-trip%s", t->nfailed, n,
                     t->phase_failed ? ", and the whole chain does not go down and up again" : "");
        else
            buf_addf(&what,
                     "%zu of %zu migrations round-trip, but the whole chain does not go "
                     "down and up again",
                     t->nok, n);
        out_info(&t->out, "test FAILED: %s; first failure: %s (%.1f s)", what.data, t->first,
                 ms / 1000);
        buf_release(&what);
    }
    if (passed)
        return EXIT_OK;
    diag_error("test failed: %s: %s", t->first, t->first_reason);
    for (const char *p = t->first_details.data; *p;) {
        const char *nl = strchr(p, '\n');
        int len = nl ? (int)(nl - p) : (int)strlen(p);

        diag_detail("%.*s", len, p);
        p += len + (nl ? 1 : 0);
    }
    return EXIT_REJECTED;
}

/* Returns the exit code. */
static int
run(struct tester *t, int throwaway)
{
    struct snapshot base, cur, at_l, head;
    size_t n = t->m->nmigrations, l = 0;
    long long t0 = now_ns();
    int code = EXIT_FAILED, rt;

    snapshot_init(&base);
    snapshot_init(&cur);
    snapshot_init(&at_l);
    snapshot_init(&head);
    /* Head-to-base can go back only to just after the last irreversible migration. */
    for (size_t i = 0; i < n; i++)
        if (!t->m->migrations[i].script[MANIFEST_DOWN].present)
            l = i + 1;
    if (snap(t, 0, &base) != 0 || session_create_history(&t->s) != EXIT_OK)
        goto done;
    snapshot_copy(&cur, &base);
    rt = round_trip(t, &cur, &at_l, l);
    if (rt < 0)
        goto done;
    snapshot_copy(&head, &cur);
    if (rt > 0) {
        struct outcome oc;

        outcome_init(&oc);
        outcome_set(&oc, "skipped", "round_trip_stopped",
                    "the round trip stopped at %s, so the chain is not at head",
                    engine_revision_label(t->m, t->at + 1 <= n ? t->at + 1 : n));
        report_phase(t, "head_to_base", "head to base", &oc, 0);
        report_phase(t, "base_to_head", "base to head", &oc, 0);
        report_phase(t, "stamp_noop", "stamp at head", &oc, 0);
        buf_release(&oc.text);
    } else {
        if (l == n) {
            struct outcome oc;

            outcome_init(&oc);
            outcome_set(&oc, "skipped", "irreversible",
                        "the last migration, %s, is irreversible: nothing can be rolled back",
                        engine_revision_label(t->m, n));
            report_phase(t, "head_to_base", "head to base", &oc, 0);
            report_phase(t, "base_to_head", "base to head", &oc, 0);
            buf_release(&oc.text);
        } else if (head_to_base(t, &at_l, &head, l) != 0) {
            goto done;
        }
        if (t->at == n && stamp_noop(t) != 0)
            goto done;
    }
    if (!throwaway)
        restore_given(t, &base, l);
    if (halted())
        goto done;
    code = report_end(t, ms_since(t0));
done:
    snapshot_release(&base);
    snapshot_release(&cur);
    snapshot_release(&at_l);
    snapshot_release(&head);
    return code;
}

static void
tester_release(struct tester *t)
{
    buf_release(&t->failed);
    buf_release(&t->irreversible);
    buf_release(&t->irreversible_json);
    buf_release(&t->first_details);
    engine_view_release(&t->noview);
    free(t->verdict);
}

int
cmd_test(int argc, char **argv)
{
    static const struct option longopts[] = {APP_LONGOPTS,
                                             {"scratch", no_argument, NULL, 'X'},
                                             {"per-migration", no_argument, NULL, 'M'},
                                             {NULL, 0, NULL, 0}};
    struct app_opts o;
    struct tester t;
    struct scratch_pg pg;
    struct sigaction sa, old_int, old_term;
    int c, code, scratch = 0, throwaway = 0;

    app_opts_init(&o);
    memset(&t, 0, sizeof(t));
    memset(&pg, 0, sizeof(pg));
    optind = 0;
    while ((c = getopt_long(argc, argv, APP_SHORTOPTS, longopts, NULL)) != -1) {
        if (app_option(&o, c, optarg, "test"))
            continue;
        if (c == 'X')
            scratch = 1;
        else if (c == 'M')
            t.per_migration = 1;
        else if (c == 'h') {
            usage_test();
            return EXIT_OK;
        } else
            die_bad_option("test", c, argv);
    }
    if (optind + 1 != argc)
        die_usage("test", "expected one BUNDLE");
    app_require_keys(&o, "test");
    t.out.json = o.json;
    t.out.quiet = o.quiet;
    t.out.tty = isatty(STDOUT_FILENO);
    t.quiet.quiet = 1;
    engine_view_init(&t.noview);
    buf_init(&t.failed);
    buf_init(&t.irreversible);
    buf_init(&t.irreversible_json);
    buf_init(&t.first_details);

    /* Trust first: no server is started and nothing is connected to for a rejected bundle. */
    code = session_verify(&t.s, &o, argv[optind]);
    if (code != EXIT_OK)
        goto done;
    t.m = &t.s.bundle.manifest;
    t.verdict = xcalloc(t.m->nmigrations + 1, 1);
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal; /* no SA_RESTART: a wait is cut short, and the flag seen */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    if (!target_given(&o)) {
        code = scratch_pg_start(&pg, &stop_signal);
        if (code != EXIT_OK)
            goto restore;
        throwaway = 1;
        o.conninfo = pg.conninfo;
    }
    code = session_connect(&t.s, 1);
    if (code != EXIT_OK)
        goto restore;
    db_arm_cancel(t.s.db);
    if ((code = check_target(&t, scratch)) != EXIT_OK)
        goto restore;
    t.cursor = bundle_cursor_open(t.s.bundle_path, t.m, NULL);
    report_start(&t, throwaway, pg.dir);
    code = run(&t, throwaway);
    bundle_cursor_close(t.cursor);
restore:
    if (stop_signal || runner_interrupted()) {
        int sig = stop_signal ? stop_signal : runner_interrupted();

        diag_error("interrupted by %s: the test stopped at %s%s",
                   sig == SIGINT ? "SIGINT" : "SIGTERM",
                   t.m ? engine_revision_label(t.m, t.at) : "base",
                   throwaway ? "; the throwaway server is removed" : "");
        code = EXIT_FAILED;
    } else if (lost_connection) {
        diag_error("lost the connection to the database: the test stopped at %s",
                   engine_revision_label(t.m, t.at));
        code = EXIT_CONNECT;
    }
    session_close(&t.s);
    memset(&t.s, 0, sizeof(t.s));
    if (throwaway || pg.dir[0])
        scratch_pg_stop(&pg);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
done:
    if (t.s.o)
        session_close(&t.s);
    tester_release(&t);
    app_opts_release(&o);
    return code;
}
