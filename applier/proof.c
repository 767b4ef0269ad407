/*
 * proof.c: the steps of "sealift-apply test" (see proof.h): the round trip of each migration,
 * head to base and back, the stamp at head, and leaving a database we were given as we found
 * it. Layer: applier. Moves the database only through the runner (proof_walk); reads the
 * schema through snapshot.c; says what it found through proof_report.c.
 */
#include "proof.h"
#include "disposable.h"
#include "runner.h"
#include "snapshot.h"
#include "sealift/xalloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* SIGINT/SIGTERM outside the runner's walks: stop at the next step and clean up. */
static volatile sig_atomic_t stop_signal;

static void
on_signal(int sig)
{
    stop_signal = sig;
    db_cancel();
}

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
halted(const struct proof *p)
{
    return stop_signal || runner_interrupted() || p->lost_connection;
}

/* A step's report line, then the lock trace tables of what it ran. */
static void
report_migration(struct proof *p, size_t k, const struct proof_outcome *oc)
{
    proof_report_migration(&p->rep, k, oc);
    locktrace_flush(&p->trace);
}

static void
report_phase(struct proof *p, const char *phase, const char *title, const struct proof_outcome *oc,
             double ms)
{
    proof_report_phase(&p->rep, phase, title, oc, ms);
    locktrace_flush(&p->trace);
}

/* ---- the database's state ---- */

enum step { STEP_UP, STEP_DOWN, STEP_STAMP };

/*
 * Move the database to position to by the runner: apply, rollback or stamp, as those
 * commands do. The one place where test makes and runs a runner. Returns 0, or the runner's
 * code with f holding the failure (already reported on stderr by the runner, with file, line,
 * column and SQLSTATE). ms: how long it took, or NULL.
 */
static int
proof_walk(struct proof *p, enum step step, size_t to, int per_migration, int nested,
           struct failure *f, double *ms)
{
    long long t0 = now_ns();
    struct runner *r =
        runner_new(p->s.db, &p->s.h, &p->s.src, &p->s.bundle, p->cursor, &p->noview, &p->quiet,
                   (per_migration ? RUNNER_PER_MIGRATION : 0) | (nested ? RUNNER_NESTED : 0));
    int code;

    if (p->tracing)
        runner_set_tracer(r, &locktrace_ops, &p->trace);
    if (p->with_reps) {
        /* Every repeatable, changed or not: test runs them in its up phases (one walk). */
        struct walk_reps reps = {p->all_reps, p->m->nrepeatables};

        runner_set_repeatables(r, step == STEP_DOWN ? NULL : &reps);
        p->with_reps = 0;
    }
    if (step == STEP_UP)
        code = runner_apply(r, p->at, to);
    else if (step == STEP_DOWN)
        code = runner_rollback(r, p->at, to);
    else
        code = runner_stamp(r, p->at, to);
    p->at = runner_position(r);
    memset(f, 0, sizeof(*f));
    if (runner_failure(r)) {
        *f = *runner_failure(r);
        f->scripts = p->s.scripts; /* the runner's own goes with it */
    }
    if (runner_failure(r) && f->err.connection_lost)
        p->lost_connection = 1;
    runner_free(r);
    if (ms)
        *ms = ms_since(t0);
    return code;
}

static int
snap(struct proof *p, int in_tx, struct snapshot *s)
{
    struct db_error e;

    if (snapshot_take(p->s.db, p->s.o->schema, in_tx, s, &e) == 0)
        return 0;
    if (e.connection_lost)
        p->lost_connection = 1;
    if (!halted(p))
        diag_error("could not read the schema: %s", e.message);
    return -1;
}

/* Read the history again and hold it against the bundle (after the test rewrote it). */
static int
reload(struct proof *p)
{
    struct db_error e;

    db_state_release(&p->s.state);
    db_state_init(&p->s.state);
    engine_view_release(&p->s.view);
    engine_view_init(&p->s.view);
    if (history_load(p->s.db, &p->s.h, &p->s.state, &e) != 0) {
        diag_error("could not read the history in schema \"%s\": %s", p->s.o->schema, e.message);
        return -1;
    }
    engine_compare(p->m, p->s.scripts, &p->s.state, &p->s.view);
    return 0;
}

static int
drop_history(struct proof *p)
{
    struct buf sql = BUF_INIT;
    struct db_error e;
    int ret;

    buf_addf(&sql, "DROP SCHEMA %s CASCADE", p->s.h.qschema);
    ret = db_exec(p->s.db, sql.data, &e);
    if (ret != 0 && !halted(p))
        diag_error("could not drop the history schema \"%s\": %s", p->s.o->schema, e.message);
    buf_release(&sql);
    return ret;
}

/* ---- the steps ---- */

/*
 * Check what COMMIT would: deferred constraints and constraint triggers, in a savepoint that
 * is then undone (a nested walk's transaction is never committed). Fills f as a failure of
 * script kind of migration idx when it fails. Returns 0 or -1.
 */
static int
check_commit(struct proof *p, size_t idx, int kind, struct failure *f)
{
    struct db_error e;

    if (db_exec(p->s.db,
                "SAVEPOINT sealift_check; SET CONSTRAINTS ALL IMMEDIATE; "
                "ROLLBACK TO SAVEPOINT sealift_check; RELEASE SAVEPOINT sealift_check",
                &e) == 0)
        return 0;
    memset(f, 0, sizeof(*f));
    f->m = p->m;
    f->scripts = p->s.scripts;
    f->idx = idx;
    f->kind = kind;
    f->stmt = -1;
    f->err = e;
    /* Keep the server's words, and say where: the statements all ran. */
    memcpy(f->err.message, "at commit: ", 11);
    memcpy(f->err.message + 11, e.message, sizeof(e.message) - 12);
    f->err.message[sizeof(f->err.message) - 1] = '\0';
    if (!halted(p))
        diag_error("migration %s (%s) failed at commit: %s", engine_label(p->m, idx + 1).s,
                   manifest_script_label((enum manifest_script_kind)kind), e.message);
    return -1;
}

/* The report of a round trip whose down and up again ran: d1 after the down, d2 after up. */
static void
judge(struct proof_outcome *oc, const struct snapshot_diff *d1, const struct snapshot_diff *d2)
{
    if (d1->n) {
        proof_outcome_set(oc, "failed", "down_differs",
                          "its down does not undo its up (%zu difference%s from before its up)",
                          d1->n, d1->n == 1 ? "" : "s");
        oc->diff = d1;
    } else if (d2->n) {
        proof_outcome_set(oc, "failed", "up_again_differs",
                          "its up, run again after its down, gives another schema (%zu "
                          "difference%s from its first run)",
                          d2->n, d2->n == 1 ? "" : "s");
        oc->diff = d2;
    }
}

/* A walk failed: report it as reason, with the failure's words. */
static void
judge_error(struct proof_outcome *oc, const char *reason, const char *what, const struct failure *f,
            const struct snapshot_diff *d1)
{
    if (d1 && d1->n) {
        proof_outcome_set(oc, "failed", "down_differs",
                          "its down does not undo its up, and its up then failed: ");
        oc->diff = d1;
    } else {
        proof_outcome_set(oc, "failed", reason, "%s", what);
    }
    proof_failure_render(&oc->text, f, 0);
    oc->fail = f;
}

/*
 * Down and up again of migration k (its up is committed; cur: the schema before it, up: the
 * schema after it), the schema compared after each.
 *
 * nested (both scripts transactional): inside a transaction of ours that is then rolled
 * back, each step checked as its COMMIT would check it, so the database returns to just after
 * k's up whatever the down did, and one broken down does not stop the round trip. No
 * snapshot after the up again: it is rolled back, and when the down restored the schema, the
 * up ran again on the schema it first ran on.
 *
 * Otherwise (a script runs outside a transaction: CREATE INDEX CONCURRENTLY, ...): committed
 * as rollback and apply commit them, so a failure that leaves the database off the chain
 * stops the round trip.
 *
 * Returns 0 (go on; cur becomes the schema after the migration), 1 (stop) or -1 (an error or
 * an interruption).
 */
static int
down_up(struct proof *p, size_t k, struct snapshot *cur, struct snapshot *up,
        struct proof_outcome *oc, int nested)
{
    const struct manifest_script *down_script = &p->m->migrations[k].script[MANIFEST_DOWN];
    struct snapshot down, again;
    struct snapshot_diff d1, d2;
    struct failure f;
    struct db_error e;
    int ret = -1, up_again = 0;

    snapshot_init(&down);
    snapshot_init(&again);
    snapshot_diff_init(&d1);
    snapshot_diff_init(&d2);
    if (nested && db_exec(p->s.db, "BEGIN", &e) != 0) {
        if (!halted(p))
            diag_error("could not begin a transaction: %s", e.message);
        goto out;
    }
    if (proof_walk(p, STEP_DOWN, k, 1, nested, &f, &oc->down_ms) != 0 ||
        (nested && check_commit(p, k, MANIFEST_DOWN, &f) != 0)) {
        if (halted(p))
            goto out;
        judge_error(oc, "down_failed", "its down failed: ", &f, NULL);
        report_migration(p, k, oc);
        /* Part of a no-transaction down ran and stays: the schema is neither k's nor k+1's. */
        ret = !nested && (!down_script->transactional || p->at != k + 1);
        goto out;
    }
    if (snap(p, nested, &down) != 0)
        goto out;
    snapshot_diff(cur, &down, &d1);
    if (proof_walk(p, STEP_UP, k + 1, 1, nested, &f, &oc->again_ms) != 0 ||
        (nested && check_commit(p, k, MANIFEST_UP, &f) != 0)) {
        if (halted(p))
            goto out;
        judge_error(oc, "up_again_failed", "its up failed when run again after its down: ", &f,
                    &d1);
        report_migration(p, k, oc);
        ret = !nested;
        goto out;
    }
    if (!nested) {
        if (snap(p, 0, &again) != 0)
            goto out;
        snapshot_diff(up, &again, &d2);
        up_again = 1;
    }
    judge(oc, &d1, &d2);
    report_migration(p, k, oc);
    ret = 0;
out:
    if (nested) {
        db_exec(p->s.db, "ROLLBACK", NULL);
        p->at = k + 1;
    }
    if (ret == 0)
        snapshot_move(cur, up_again ? &again : up);
    snapshot_diff_release(&d1);
    snapshot_diff_release(&d2);
    snapshot_release(&down);
    snapshot_release(&again);
    return ret;
}

/*
 * A down test can run: present, and not one the compiler marked as unable to run as written
 * (rollback refuses to cross such a down, so test treats it as irreversible too).
 */
static int
down_runs(const struct manifest_migration *mig)
{
    return mig->script[MANIFEST_DOWN].present && mig->down_blocked == NULL;
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
round_trip(struct proof *p, struct snapshot *cur, struct snapshot *at_l, size_t l)
{
    struct snapshot up;
    struct failure f;
    int ret = 0;

    p->trace.phase = "round_trip";

    snapshot_init(&up);
    if (l == 0)
        snapshot_copy(at_l, cur);
    for (size_t k = 0; k < p->m->nmigrations && ret == 0; k++) {
        const struct manifest_migration *mig = &p->m->migrations[k];
        struct proof_outcome oc;

        proof_outcome_init(&oc);
        if (proof_walk(p, STEP_UP, k + 1, 1, 0, &f, &oc.up_ms) != 0) {
            if (halted(p)) {
                ret = -1;
            } else {
                judge_error(&oc, "up_failed", "its up failed: ", &f, NULL);
                report_migration(p, k, &oc);
                ret = 1;
            }
        } else if (snap(p, 0, &up) != 0) {
            ret = -1;
        } else if (!down_runs(mig)) {
            if (mig->down_blocked)
                proof_outcome_set(&oc, "skipped", "irreversible",
                                  "irreversible (its down cannot run as written: %s)",
                                  mig->down_blocked);
            else
                proof_outcome_set(&oc, "skipped", "irreversible", "irreversible (no down script)");
            proof_report_irreversible(&p->rep, k);
            report_migration(p, k, &oc);
            snapshot_move(cur, &up);
        } else {
            ret = down_up(p, k, cur, &up, &oc,
                          mig->script[MANIFEST_UP].transactional &&
                              mig->script[MANIFEST_DOWN].transactional);
        }
        if (ret == 0 && k + 1 == l)
            snapshot_copy(at_l, cur);
        proof_outcome_release(&oc);
        if (ret == 0 && halted(p))
            ret = -1;
    }
    snapshot_release(&up);
    return ret;
}

/*
 * Walk the whole chain to position to as rollback (STEP_DOWN) or apply (STEP_UP) would, then
 * read the schema into now and its difference with want into d (d points into now). Returns 0,
 * 1 when the walk failed (f says why; oc is set to say so, for the caller to report: reason,
 * "the down of MIGRATION failed: ..."), or -1 when halted or the schema could not be read.
 */
static int
walk_chain(struct proof *p, enum step step, size_t to, const struct snapshot *want,
           struct snapshot *now, struct snapshot_diff *d, struct failure *f,
           struct proof_outcome *oc, double *ms)
{
    if (proof_walk(p, step, to, p->per_migration, 0, f, ms) != 0) {
        if (halted(p))
            return -1;
        proof_outcome_set(oc, "failed", step == STEP_DOWN ? "down_failed" : "up_failed",
                          "the %s of %s failed: ", step == STEP_DOWN ? "down" : "up",
                          engine_label(p->m, f->idx + 1).s);
        proof_failure_render(&oc->text, f, 0);
        oc->fail = f;
        return 1;
    }
    if (snap(p, 0, now) != 0)
        return -1;
    snapshot_diff(want, now, d);
    return 0;
}

/* Drop from d the objects known names (by kind and name). */
static void
diff_forget(struct snapshot_diff *d, const struct snapshot_diff *known)
{
    size_t kept = 0;

    for (size_t i = 0; i < d->n; i++) {
        const struct snapshot_item *it = d->items[i].after ? d->items[i].after : d->items[i].before;
        int drop = 0;

        for (size_t k = 0; known && k < known->n && !drop; k++) {
            const struct snapshot_item *kn =
                known->items[k].after ? known->items[k].after : known->items[k].before;

            drop = strcmp(kn->kind, it->kind) == 0 && strcmp(kn->name, it->name) == 0;
        }
        if (!drop)
            d->items[kept++] = d->items[i];
    }
    d->n = kept;
}

/*
 * At the head, after the round trip: every repeatable, as apply runs them after the chain,
 * then every one again (as apply does when they change), the schema compared: a repeatable
 * must give the same schema when it runs again. head becomes the schema with them, and added
 * what they changed (pointing into before, which the caller keeps). Returns 0 (go on), 1 (they
 * failed: stop) or -1.
 */
static int
repeatables_phase(struct proof *p, struct snapshot *head, struct snapshot *before,
                  struct snapshot_diff *added)
{
    struct snapshot again;
    struct snapshot_diff d;
    struct proof_outcome oc;
    struct failure f;
    long long t0 = now_ns();
    size_t n = p->m->nrepeatables;
    int ret = -1;

    snapshot_init(&again);
    snapshot_diff_init(&d);
    proof_outcome_init(&oc);
    p->trace.phase = "repeatables";
    snapshot_move(before, head);
    for (int run = 0; run < 2; run++) {
        p->with_reps = 1;
        if (proof_walk(p, STEP_UP, p->at, p->per_migration, 0, &f, NULL) != 0) {
            if (halted(p))
                goto done;
            proof_outcome_set(&oc, "failed", "up_failed",
                              "repeatable %s failed%s: ", engine_label(p->m, f.idx + 1).s,
                              run ? " when run again" : "");
            proof_failure_render(&oc.text, &f, 0);
            oc.fail = &f;
            report_phase(p, "repeatables", "repeatables", &oc, ms_since(t0));
            snapshot_copy(head, before);
            ret = 1;
            goto done;
        }
        if (snap(p, 0, run ? &again : head) != 0)
            goto done;
    }
    snapshot_diff(before, head, added);
    snapshot_diff(head, &again, &d);
    if (d.n) {
        proof_outcome_set(&oc, "failed", "schema_differs",
                          "the repeatables, run again, give another schema (%zu difference%s)", d.n,
                          d.n == 1 ? "" : "s");
        oc.diff = &d;
    } else {
        proof_outcome_set(&oc, "ok", NULL,
                          "applied %zu repeatable%s after the chain, then again: the schema is "
                          "the same",
                          n, n == 1 ? "" : "s");
    }
    report_phase(p, "repeatables", "repeatables", &oc, ms_since(t0));
    ret = 0;
done:
    proof_outcome_release(&oc);
    snapshot_diff_release(&d);
    snapshot_release(&again);
    return ret;
}

/*
 * From head, back to l (base, or after the last irreversible migration) as rollback would,
 * compared with the schema there; then up to head again as apply would, compared with the
 * head of the round trip. Returns 0 (findings reported) or -1 (error or interruption).
 */
static int
head_to_base(struct proof *p, const struct snapshot *at_l, const struct snapshot *head, size_t l,
             const struct snapshot_diff *known)
{
    struct engine_label where_buf;
    const char *where = engine_label_into(p->m, l, &where_buf);
    char target[700];
    struct snapshot now;
    struct snapshot_diff d;
    struct proof_outcome oc;
    struct failure f;
    size_t n = p->m->nmigrations;
    double ms;
    int ret = -1, rt;

    snprintf(target, sizeof(target), "%s", where);
    snapshot_init(&now);
    snapshot_diff_init(&d);
    proof_outcome_init(&oc);
    p->trace.phase = "head_to_base";
    rt = walk_chain(p, STEP_DOWN, l, at_l, &now, &d, &f, &oc, &ms);
    if (rt < 0)
        goto done;
    if (rt > 0) {
        if (f.idx < n && p->rep.verdict[f.idx] == 'o')
            buf_addstr(&oc.text, "; its own round trip passed: it fails only after the downs "
                                 "of the migrations after it");
        report_phase(p, "head_to_base", "head to base", &oc, ms);
        proof_outcome_set(&oc, "skipped", "not_at_base", "the chain did not get back to %s",
                          target);
        report_phase(p, "base_to_head", "base to head", &oc, 0);
        ret = 0;
        goto done;
    }
    /* A rollback leaves the repeatables' objects (they have no down): not a difference. */
    diff_forget(&d, known);
    if (d.n) {
        proof_outcome_set(&oc, "failed", "schema_differs",
                          "rolled back %zu migrations, but the schema differs from the one at "
                          "%s (%zu difference%s)",
                          n - l, target, d.n, d.n == 1 ? "" : "s");
        oc.diff = &d;
    } else {
        proof_outcome_set(&oc, "ok", NULL,
                          "rolled back %zu migrations as rollback would (%.1f ms); the schema "
                          "is the one at %s again",
                          n - l, ms, target);
    }
    report_phase(p, "head_to_base", "head to base", &oc, ms);

    proof_outcome_release(&oc); /* proof_outcome_init starts a new text */
    proof_outcome_init(&oc);
    p->trace.phase = "base_to_head";
    p->with_reps = p->m->nrepeatables > 0;
    rt = walk_chain(p, STEP_UP, n, head, &now, &d, &f, &oc, &ms);
    if (rt < 0)
        goto done;
    if (rt == 0 && d.n) {
        proof_outcome_set(&oc, "failed", "schema_differs",
                          "applied %zu migrations, but the schema differs from the first head's "
                          "(%zu difference%s)",
                          n - l, d.n, d.n == 1 ? "" : "s");
        oc.diff = &d;
    } else if (rt == 0) {
        proof_outcome_set(&oc, "ok", NULL,
                          "applied %zu migrations as apply would (%.1f ms); the schema is the "
                          "first head's again",
                          n - l, ms);
    }
    report_phase(p, "base_to_head", "base to head", &oc, ms);
    ret = 0;
done:
    proof_outcome_release(&oc);
    snapshot_diff_release(&d);
    snapshot_release(&now);
    return ret;
}

/*
 * A database that has the chain's schema but no history, stamped at head: apply must then have
 * nothing to do, and the stamp must not have touched the schema. Returns 0 or -1.
 */
static int
stamp_noop(struct proof *p)
{
    struct snapshot before, after;
    struct snapshot_diff d;
    struct proof_outcome oc;
    struct failure f;
    const struct engine_view *v = &p->s.view;
    size_t n = p->m->nmigrations;
    long long t0 = now_ns();
    int ret = -1;

    snapshot_init(&before);
    snapshot_init(&after);
    snapshot_diff_init(&d);
    proof_outcome_init(&oc);
    if (snap(p, 0, &before) != 0 || drop_history(p) != 0 || reload(p) != 0)
        goto done;
    p->at = 0;
    if (session_create_history(&p->s) != EXIT_OK)
        goto done;
    p->with_reps = p->m->nrepeatables > 0;
    if (proof_walk(p, STEP_STAMP, n, 0, 0, &f, NULL) != 0) {
        if (halted(p))
            goto done;
        proof_outcome_set(&oc, "failed", "stamp_failed", "stamp failed: ");
        proof_failure_render(&oc.text, &f, 0);
        oc.fail = &f;
    } else if (reload(p) != 0 || snap(p, 0, &after) != 0) {
        goto done;
    } else {
        snapshot_diff(&before, &after, &d);
        if (v->drift || v->napplied != n || v->partial || v->ahead || v->nreps) {
            proof_outcome_set(&oc, "failed", "not_at_head",
                              "after the stamp, apply does not find the database at head (%zu "
                              "of %zu applied%s, %zu repeatable%s pending)",
                              v->napplied, n, v->drift ? ", drift" : "", v->nreps,
                              v->nreps == 1 ? "" : "s");
        } else if (d.n) {
            proof_outcome_set(&oc, "failed", "schema_differs",
                              "the stamp changed the schema (%zu difference%s)", d.n,
                              d.n == 1 ? "" : "s");
            oc.diff = &d;
        } else {
            proof_outcome_set(&oc, "ok", NULL,
                              "a database with the chain's schema and no history, stamped at "
                              "%s: apply has nothing to do",
                              engine_label(p->m, n).s);
        }
    }
    report_phase(p, "stamp_noop", "stamp at head", &oc, ms_since(t0));
    ret = 0;
done:
    proof_outcome_release(&oc);
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
restore_given(struct proof *p, const struct snapshot *base, size_t l)
{
    struct snapshot now;
    struct snapshot_diff d;
    struct failure f;

    snapshot_init(&now);
    snapshot_diff_init(&d);
    p->trace.phase = "restore";
    if (p->at > l && p->rep.nfailed == 0 && !p->rep.phase_failed)
        proof_walk(p, STEP_DOWN, l, 0, 0, &f, NULL);
    if (halted(p) || snap(p, 0, &now) != 0)
        goto done;
    snapshot_diff(base, &now, &d);
    if (p->at == 0 && d.n == 0) {
        if (drop_history(p) == 0)
            out_info(&p->out, "the database is as it was before the test");
    } else {
        diag_warning("the test leaves database \"%s\" at %s, with its history in schema \"%s\" "
                     "and %zu difference%s from before the test: recreate it before the next",
                     p->dbname, engine_label(p->m, p->at).s, p->s.o->schema, d.n,
                     d.n == 1 ? "" : "s");
    }
done:
    snapshot_diff_release(&d);
    snapshot_release(&now);
}

static void skip_phases(struct proof *p, int stamp, const char *reason, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/*
 * The round trip stopped, or the last migration is irreversible: the phases of the whole
 * chain that cannot run (and the stamp at head when stamp), each reported as skipped.
 */
static void
skip_phases(struct proof *p, int stamp, const char *reason, const char *fmt, ...)
{
    struct proof_outcome oc;
    va_list ap;

    proof_outcome_init(&oc);
    oc.result = "skipped";
    oc.reason = reason;
    va_start(ap, fmt);
    buf_vaddf(&oc.text, fmt, ap);
    va_end(ap);
    report_phase(p, "head_to_base", "head to base", &oc, 0);
    report_phase(p, "base_to_head", "base to head", &oc, 0);
    if (stamp)
        report_phase(p, "stamp_noop", "stamp at head", &oc, 0);
    proof_outcome_release(&oc);
}

int
proof_run(struct proof *p)
{
    struct snapshot base, cur, at_l, head, no_reps;
    struct snapshot_diff reps_added;
    size_t n = p->m->nmigrations, l = 0;
    long long t0 = now_ns();
    int code = EXIT_FAILED, rt;

    snapshot_init(&base);
    snapshot_init(&cur);
    snapshot_init(&at_l);
    snapshot_init(&head);
    snapshot_init(&no_reps);
    snapshot_diff_init(&reps_added);
    p->all_reps = xcalloc(p->m->nrepeatables + 1, sizeof(*p->all_reps));
    for (size_t j = 0; j < p->m->nrepeatables; j++)
        p->all_reps[j] = j;
    /* Head-to-base can go back only to just after the last irreversible migration. */
    for (size_t i = 0; i < n; i++)
        if (!down_runs(&p->m->migrations[i]))
            l = i + 1;
    if (snap(p, 0, &base) != 0 || session_create_history(&p->s) != EXIT_OK)
        goto done;
    snapshot_copy(&cur, &base);
    rt = round_trip(p, &cur, &at_l, l);
    if (rt < 0)
        goto done;
    snapshot_copy(&head, &cur);
    if (rt == 0 && p->m->nrepeatables > 0) {
        rt = repeatables_phase(p, &head, &no_reps, &reps_added);
        if (rt < 0)
            goto done;
        if (rt > 0) {
            skip_phases(p, 1, "repeatables_failed",
                        "the repeatables failed at the head, where apply runs them");
            goto report;
        }
    }
    if (rt > 0) {
        skip_phases(p, 1, "round_trip_stopped",
                    "the round trip stopped at %s, so the chain is not at head",
                    engine_label(p->m, p->at + 1 <= n ? p->at + 1 : n).s);
    } else {
        if (l == n) {
            skip_phases(p, 0, "irreversible",
                        "the last migration, %s, is irreversible: nothing can be rolled back",
                        engine_label(p->m, n).s);
        } else if (head_to_base(p, &at_l, &head, l, &reps_added) != 0) {
            goto done;
        }
        if (p->at == n && stamp_noop(p) != 0)
            goto done;
    }
report:
    if (!p->throwaway)
        restore_given(p, &base, l);
    if (halted(p))
        goto done;
    if (p->tracing)
        out_info(&p->out,
                 "lock trace: %zu statements traced (%.1f ms asking the server), %zu blocking "
                 "lock%s or rewrite%s the lint did not predict",
                 p->trace.nstatements, (double)p->trace.query_ns / 1e6, p->trace.nmissed,
                 p->trace.nmissed == 1 ? "" : "s", p->trace.nmissed == 1 ? "" : "s");
    code = proof_report_end(&p->rep, ms_since(t0));
done:
    snapshot_release(&base);
    snapshot_release(&cur);
    snapshot_release(&at_l);
    snapshot_release(&head);
    snapshot_diff_release(&reps_added);
    snapshot_release(&no_reps);
    free(p->all_reps);
    p->all_reps = NULL;
    return code;
}

/* ---- where it runs ---- */

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

/*
 * Gather what the safety rule needs (disposable.h) and apply it. Returns 0 to go on, or an
 * exit code (printed): 3 refused, 4 or 6 when the database could not be asked.
 */
static int
check_target(struct proof *p, int scratch)
{
    struct db_rows *r = db_query(p->s.db, "SELECT current_database()", NULL);
    struct disposable_facts facts;
    struct disposable_judgement j;
    struct db_error e;

    snprintf(p->dbname, sizeof(p->dbname), "%s", r && db_value(r, 0, 0) ? db_value(r, 0, 0) : "?");
    db_rows_free(r);
    if (disposable_judge_name(p->dbname, &j)) {
        diag_error("%s", j.message);
        return EXIT_STATE;
    }
    r = db_query(p->s.db, USER_OBJECTS_SQL, &e);
    if (r == NULL) {
        diag_error("could not look at what database \"%s\" holds: %s", p->dbname, e.message);
        return e.connection_lost ? EXIT_CONNECT : EXIT_FAILED;
    }
    memset(&facts, 0, sizeof(facts));
    facts.dbname = p->dbname;
    facts.nobjects = db_nrows(r) ? (size_t)strtoul(db_value(r, 0, 2), NULL, 10) : 0;
    facts.history_exists = p->s.state.schema_exists;
    facts.schema = p->s.o->schema;
    facts.scratch = scratch;
    if (disposable_judge(&facts, &j)) {
        diag_error("%s", j.message);
        /* The objects' names come from the server: the rule only counts them. */
        if (j.verdict == DISPOSABLE_REFUSED_OBJECTS) {
            for (size_t i = 0; i < db_nrows(r); i++)
                diag_detail("%s %s", db_value(r, i, 0), db_value(r, i, 1));
            if (facts.nobjects > db_nrows(r))
                diag_detail("... and %zu more", facts.nobjects - db_nrows(r));
        }
        if (j.hint[0])
            diag_hint("%s", j.hint);
        db_rows_free(r);
        return EXIT_STATE;
    }
    db_rows_free(r);
    if (j.verdict == DISPOSABLE_BESIDE)
        out_info(&p->out, "%s", j.message);
    return EXIT_OK;
}

/* ---- the life of a test ---- */

void
proof_init(struct proof *p, const struct app_opts *o, int per_migration, int trace)
{
    memset(p, 0, sizeof(*p));
    p->tracing = trace;
    p->out.json = o->json;
    p->out.quiet = o->quiet;
    p->out.tty = isatty(STDOUT_FILENO);
    p->quiet.quiet = 1;
    p->per_migration = per_migration;
    engine_view_init(&p->noview);
}

int
proof_verify(struct proof *p, const struct app_opts *o, const char *bundle_path)
{
    int code = session_verify(&p->s, o, bundle_path);

    if (code != EXIT_OK)
        return code;
    p->m = &p->s.bundle.manifest;
    proof_report_init(&p->rep, p->m, &p->out);
    locktrace_init(&p->trace, p->m, o->schema, &p->out);
    return EXIT_OK;
}

void
proof_arm_signals(struct proof *p)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal; /* no SA_RESTART: a wait is cut short, and the flag seen */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &p->old_int);
    sigaction(SIGTERM, &sa, &p->old_term);
    p->armed = 1;
}

void
proof_disarm_signals(struct proof *p)
{
    if (!p->armed)
        return;
    sigaction(SIGINT, &p->old_int, NULL);
    sigaction(SIGTERM, &p->old_term, NULL);
    p->armed = 0;
}

const volatile sig_atomic_t *
proof_stop_flag(void)
{
    return &stop_signal;
}

int
proof_open(struct proof *p, int scratch, const char *dir)
{
    struct db_rows *r;
    int code = session_connect(&p->s, 1);

    if (code != EXIT_OK)
        return code;
    db_arm_cancel(p->s.db);
    if ((code = check_target(p, scratch)) != EXIT_OK)
        return code;
    p->cursor = bundle_cursor_open(p->s.bundle_path, p->m, NULL);
    r = db_query(p->s.db, "SHOW server_version", NULL);
    proof_report_start(&p->rep, db_describe(p->s.db), p->throwaway,
                       r && db_value(r, 0, 0) ? db_value(r, 0, 0) : "?", dir);
    db_rows_free(r);
    return EXIT_OK;
}

int
proof_close(struct proof *p, int code)
{
    bundle_cursor_close(p->cursor);
    p->cursor = NULL;
    if (stop_signal || runner_interrupted()) {
        int sig = stop_signal ? stop_signal : runner_interrupted();

        diag_error("interrupted by %s: the test stopped at %s%s",
                   sig == SIGINT ? "SIGINT" : "SIGTERM",
                   p->m ? engine_label(p->m, p->at).s : "base",
                   p->throwaway ? "; the throwaway server is removed" : "");
        code = EXIT_FAILED;
    } else if (p->lost_connection) {
        diag_error("lost the connection to the database: the test stopped at %s",
                   engine_label(p->m, p->at).s);
        code = EXIT_CONNECT;
    }
    session_close(&p->s);
    memset(&p->s, 0, sizeof(p->s));
    return code;
}

void
proof_release(struct proof *p)
{
    if (p->s.o)
        session_close(&p->s);
    if (p->m) {
        proof_report_release(&p->rep);
        locktrace_release(&p->trace);
    }
    engine_view_release(&p->noview);
}
