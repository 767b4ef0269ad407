/*
 * move.c: decide a move of the database, and carry it out (see move.h).
 * Layer: applier. move_decide() is pure; the rest prints and talks to the database.
 */
#include "move.h"
#include "risk.h"
#include "drift_move.h"
#include "runner.h"
#include "journal.h"
#include "session.h"
#include "witness.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Marks text that did not fit in a verdict's field (STYLE 8.2.7: never cut silently). */
#define CUT_MARK " [...]"

/* Append a formatted line to field (cap bytes), '\n'-separated; a line that is cut says so. */
static void
text_add(char *field, size_t cap, const char *fmt, va_list ap)
{
    size_t len = strlen(field);
    int n = -1;

    if (len + 1 < cap) {
        if (len > 0)
            field[len++] = '\n';
        n = vsnprintf(field + len, cap - len, fmt, ap);
    }
    if (n < 0 || (size_t)n >= cap - len)
        memcpy(field + cap - sizeof(CUT_MARK), CUT_MARK, sizeof(CUT_MARK));
}

static void add(char *field, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int refuse(struct move_verdict *v, int code, const char *state, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void nothing(struct move_verdict *v, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* A line of a verdict's detail or hint: add(v->detail, sizeof(v->detail), ...). */
static void
add(char *field, size_t cap, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    text_add(field, cap, fmt, ap);
    va_end(ap);
}

#define detail(v, ...) add((v)->detail, sizeof((v)->detail), __VA_ARGS__)
#define hint(v, ...)   add((v)->hint, sizeof((v)->hint), __VA_ARGS__)

/* Refuse the move: returns code. */
static int
refuse(struct move_verdict *v, int code, const char *state, const char *fmt, ...)
{
    va_list ap;

    v->action = MOVE_REFUSE;
    v->code = code;
    v->state = state;
    va_start(ap, fmt);
    text_add(v->message, sizeof(v->message), fmt, ap);
    va_end(ap);
    return code;
}

/* The database is already where the move would take it. */
static void
nothing(struct move_verdict *v, const char *fmt, ...)
{
    va_list ap;

    v->action = MOVE_NOTHING;
    v->code = EXIT_OK;
    va_start(ap, fmt);
    text_add(v->message, sizeof(v->message), fmt, ap);
    va_end(ap);
}

const char *
move_database_head(const struct move_state *st, struct engine_label *out)
{
    const struct applied_row *row;

    if (st->view->ahead == 0 || st->db->napplied == 0)
        return engine_label_into(st->m, st->view->napplied, out);
    row = &st->db->applied[st->db->napplied - 1];
    /* The history's own text, of any length: a label that does not fit says so. */
    if (snprintf(out->s, sizeof(out->s), "%s%s%s", row->id, row->name && row->name[0] ? "_" : "",
                 row->name ? row->name : "") >= (int)sizeof(out->s))
        memcpy(out->s + sizeof(out->s) - 4, "...", 4);
    return out->s;
}

/* 1 to 3: refusals that hold whatever the target. Returns the code, or -1 to go on. */
static int
check_state(const struct move_state *st, struct move_verdict *v)
{
    const struct adopt_result *a = st->adopt;
    const char *want = st->m->environment, *have = st->db->environment;

    if (a && a->found && a->problem.len)
        return refuse(v, EXIT_STATE, "refused", "cannot take over from %s: %s", a->tool,
                      a->problem.data);
    if (st->view->drift) {
        const char *p = st->view->problems.data;

        refuse(v, EXIT_STATE, "drift",
               "the database's history does not match this bundle (drift); nothing was changed");
        while (*p) {
            int len = (int)strcspn(p, "\n");

            detail(v, "%.*s", len, p);
            p += len + (p[len] ? 1 : 0);
        }
        return EXIT_STATE;
    }
    if (want && have && strcmp(want, have) != 0) {
        refuse(v, EXIT_STATE, "refused",
               "this bundle is for environment \"%s\", but the database belongs to \"%s\"", want,
               have);
        detail(v, "the first bundle applied with an environment binds the database to it");
        return EXIT_STATE;
    }
    return -1;
}

/* 5: an unfinished no-transaction migration the move would not finish. Code, or -1. */
static int
check_partial(const struct move_state *st, int kind, int up, struct move_verdict *v)
{
    const struct progress_row *p = st->view->partial;
    int partial_up;

    if (p == NULL)
        return -1;
    partial_up = strcmp(p->direction, "up") == 0;
    if (kind == MOVE_STAMP)
        return refuse(v, EXIT_STATE, "refused",
                      "no-transaction migration %s is unfinished; finish it before stamping",
                      p->id);
    /* Not a state status refuses: the work pending is the rollback's (status exits 7). */
    if (up && !partial_up)
        return refuse(v, EXIT_STATE, "pending",
                      "a rollback of %s stopped after %ld of %ld statements; finish it with "
                      "\"sealift-apply rollback\" first",
                      p->id, p->done, p->total);
    if (up && !st->view->partial_resumable)
        return refuse(v, EXIT_STATE, "refused",
                      "no-transaction migration %s stopped after %ld of %ld statements, and this "
                      "bundle's version of those statements differs from what ran",
                      p->id, p->done, p->total);
    if (!up && partial_up)
        return refuse(v, EXIT_STATE, "refused",
                      "no-transaction migration %s stopped after %ld of %ld statements; finish "
                      "it with \"sealift-apply apply\" before rolling back",
                      p->id, p->done, p->total);
    return -1;
}

/* 6 and 7: the target against where the database is. Code, or -1. */
static int
check_side(const struct move_state *st, const struct move_request *rq, int up,
           struct move_verdict *v)
{
    struct engine_label head, at, target;

    move_database_head(st, &head);
    engine_label_into(st->m, v->from, &at);
    engine_label_into(st->m, v->to, &target);
    if (!up && st->view->ahead) {
        refuse(v, EXIT_STATE, "ahead",
               "the database has migrations after this bundle's head; roll back with the bundle "
               "that applied them");
        detail(v, "the database is at %s; this bundle's head is %s", head.s,
               engine_label(st->m, st->m->nmigrations).s);
        return EXIT_STATE;
    }
    if (rq->kind == MOVE_ROLLBACK && v->to > v->from) {
        refuse(v, EXIT_STATE, "refused",
               "cannot roll back to %s: %s is ahead of the database, which is at %s; nothing was "
               "changed",
               target.s, target.s, at.s);
        hint(v, "to move forward, run \"sealift-apply apply --to %s\"", target.s);
        return EXIT_STATE;
    }
    return -1;
}

/* 8: the database is already there. Returns 1 if so (verdict filled). */
static int
check_nothing(const struct move_state *st, const struct move_request *rq, int up,
              struct move_verdict *v)
{
    struct engine_label head;

    move_database_head(st, &head);
    if (up ? v->to > v->from || v->nreps > 0 : v->to < v->from)
        return 0;
    v->state = v->ahead ? "ahead" : "at_head";
    if (rq->kind == MOVE_STAMP)
        nothing(v, "nothing to stamp: the database is at %s", head.s);
    else if (!up)
        nothing(v, "nothing to roll back: the database is at %s", head.s);
    else if (v->ahead)
        nothing(v, "nothing to apply: the database is at %s, ahead of this bundle (its head is %s)",
                head.s, engine_label(st->m, st->m->nmigrations).s);
    else
        nothing(v, "nothing to apply: the database is at %s", head.s);
    return 1;
}

/* 9 and 10: what the walk itself would cross. Code, or -1. */
static int
check_walk(const struct move_state *st, int up, struct move_verdict *v)
{
    const struct manifest *m = st->m;

    if (up && (long long)m->serial < st->db->max_serial)
        return refuse(v, EXIT_STATE, "refused",
                      "bundle serial %llu is older than serial %lld, already applied to this "
                      "database (rollback protection)",
                      (unsigned long long)m->serial, st->db->max_serial);
    for (size_t i = v->from; !up && i > v->to; i--) {
        if (!m->migrations[i - 1].script[MANIFEST_DOWN].present)
            return refuse(v, EXIT_STATE, "refused",
                          "cannot roll back to %s: migration %s is irreversible (it has no down "
                          "script)",
                          engine_label(m, v->to).s, engine_label(m, i).s);
        /* An imported down its own tool could not run either: the build said why. */
        if (m->migrations[i - 1].down_blocked)
            return refuse(v, EXIT_STATE, "refused",
                          "cannot roll back to %s: the down script of migration %s cannot run "
                          "as written: %s",
                          engine_label(m, v->to).s, engine_label(m, i).s,
                          m->migrations[i - 1].down_blocked);
    }
    return -1;
}

int
move_decide(const struct move_state *st, const struct move_request *rq, struct move_verdict *v)
{
    const struct adopt_result *a = st->adopt;
    const char *opt = rq->to_option ? rq->to_option : "--to";
    long target;
    int up;

    memset(v, 0, sizeof(*v));
    v->ahead = st->view->ahead;
    v->from = st->view->napplied;
    /* What another tool recorded counts as applied: it is adopted before the move. */
    if (a && adopt_any(a)) {
        v->adopt = a->count;
        v->adopt_reps = a->nreps;
        v->from = a->count;
    }
    if (check_state(st, v) >= 0)
        return v->code;
    target = rq->to ? engine_resolve_target(st->m, rq->to) : (long)st->m->nmigrations;
    if (target < 0)
        return refuse(v, EXIT_USAGE, "refused", "%s%s%s: the bundle has no such migration", opt,
                      *opt ? " " : "", rq->to);
    v->to = (size_t)target;
    /* A stamp below the database's head goes back: it unrecords, as rollback would. */
    up = rq->kind == MOVE_APPLY || (rq->kind == MOVE_STAMP && v->to >= v->from) ||
         (rq->kind == MOVE_PLAN && v->to >= v->from);
    if (check_partial(st, rq->kind, up, v) >= 0 || check_side(st, rq, up, v) >= 0)
        return v->code;
    /*
     * Repeatables run after the chain, when the move takes it to the bundle's head (one that
     * stops before may lack what they use), and not over history this bundle does not know.
     */
    if (up && rq->kind != MOVE_ROLLBACK && v->to == st->m->nmigrations && !v->ahead)
        v->nreps = move_adopts(v) ? a->npending_reps : st->view->nreps;
    if (check_nothing(st, rq, up, v))
        return v->code;
    /* Stamping backwards runs no down script: an irreversible migration is no obstacle. */
    if ((rq->kind != MOVE_STAMP || up) && check_walk(st, up, v) >= 0)
        return v->code;
    v->action = rq->kind != MOVE_STAMP ? (up ? MOVE_UP : MOVE_DOWN)
                : up                   ? MOVE_RECORD
                                       : MOVE_UNRECORD;
    v->state = "pending";
    return EXIT_OK;
}

int
move_status_code(const struct move_verdict *v)
{
    if (v->action == MOVE_REFUSE)
        return strcmp(v->state, "pending") == 0 ? EXIT_PENDING : v->code;
    if (v->ahead)
        return EXIT_STATE;
    return v->action == MOVE_NOTHING ? EXIT_OK : EXIT_PENDING;
}

/* Print each '\n'-separated line of text with fn. */
static void
each_line(const char *text, void (*fn)(const char *fmt, ...))
{
    while (*text) {
        int len = (int)strcspn(text, "\n");

        fn("%.*s", len, text);
        text += len + (text[len] ? 1 : 0);
    }
}

void
move_report(const struct move_verdict *v, struct out *out)
{
    if (v->action != MOVE_REFUSE) {
        if (v->message[0])
            out_info(out, "%s", v->message);
        return;
    }
    app_error("%s", v->message);
    each_line(v->detail, app_detail);
    each_line(v->hint, app_hint);
}

int
move_adopts(const struct move_verdict *v)
{
    return v->adopt > 0 || v->adopt_reps > 0;
}

struct walk_reps
move_reps(const struct session *s, const struct move_verdict *v)
{
    struct walk_reps r = {s->view.reps, v->nreps ? s->view.nreps : 0};

    /* Until the adoption is recorded (then the view is read again and is the same). */
    if (move_adopts(v) && adopt_any(&s->adopt)) {
        r.v = s->adopt.pending_reps;
        r.n = v->nreps ? s->adopt.npending_reps : 0;
    }
    return r;
}

void
move_state_of(const struct session *s, int adopt, struct move_state *st)
{
    st->m = &s->bundle.manifest;
    st->view = &s->view;
    st->db = &s->state;
    st->adopt = adopt ? &s->adopt : NULL;
}

/* The server's lock table: warn before one transaction is likely to outgrow it. */
static void
warn_lock_capacity(struct session *s, size_t from, size_t to)
{
    struct db_rows *r = db_query(s->db,
                                 "SELECT current_setting('max_locks_per_transaction')::bigint * "
                                 "(current_setting('max_connections')::bigint + "
                                 "current_setting('max_prepared_transactions')::bigint)",
                                 NULL);
    size_t run = 0, longest = 0;

    if (r == NULL)
        return;
    for (size_t i = from; i < to; i++) {
        run = s->bundle.manifest.migrations[i].script[MANIFEST_UP].transactional ? run + 1 : 0;
        longest = run > longest ? run : longest;
    }
    /* About 4 migrations per lock slot fit in practice (the table has slack); warn at that. */
    if (db_value(r, 0, 0) && (long long)longest * 4 > atoll(db_value(r, 0, 0)))
        diag_warning("%zu migrations will share one transaction; the server's lock table (%s "
                     "slots) may run out (\"out of shared memory\"): consider --per-migration",
                     longest, db_value(r, 0, 0));
    db_rows_free(r);
}

/*
 * Run the walk of a verdict (MOVE_UP, MOVE_DOWN or MOVE_RECORD) and say where the database
 * is. The only place that builds a runner: the runner's constructor goes here.
 */
static int
move_execute(struct session *s, const struct move_verdict *v, struct out *out, int per_migration)
{
    static const char *const verbs[] = {"", "", "applied", "rolled back", "stamped", "unrecorded"};
    const struct manifest *m = &s->bundle.manifest;
    /* Data members are streamed from the bundle; stamping runs nothing. */
    struct bundle_cursor *cursor = v->action != MOVE_RECORD && v->action != MOVE_UNRECORD
                                       ? bundle_cursor_open(s->bundle_path, m, NULL)
                                       : NULL;
    struct runner *r = runner_new(s->db, &s->h, &s->src, &s->bundle, cursor, &s->view, out,
                                  (per_migration ? RUNNER_PER_MIGRATION : 0) |
                                      (s->o->compat_alembic ? RUNNER_ALEMBIC : 0));
    struct drift_move dm = {s, NULL, 0};
    struct walk_reps reps;
    int code;

    /* The fingerprint of the schema the move leaves, in its last transaction if it gets there. */
    dm.event = v->action == MOVE_UP ? "apply" : v->action == MOVE_DOWN ? "rollback" : "stamp";
    drift_move_attach(&dm, r);
    runner_set_limits(r, s->o->stmt_lock_timeout_ms, s->o->stmt_timeout_ms, s->o->retries);
    runner_set_alembic_table(r, s->o->adopt_table);
    runner_set_progress(r, s->o->progress_after_ms, s->o->warn_after_ms);
    /* (After an adoption the view was read again: its repeatables are the current ones.) */
    reps = move_reps(s, v);
    runner_set_repeatables(r, &reps);
    out->total =
        v->action == MOVE_DOWN || v->action == MOVE_UNRECORD ? v->from - v->to : v->to - v->from;
    out->total += reps.n; /* the progress counts them as steps of the run */
    if (v->action == MOVE_UP)
        code = runner_apply(r, v->from, v->to);
    else if (v->action == MOVE_DOWN)
        code = runner_rollback(r, v->from, v->to);
    else
        code = runner_stamp(r, v->from, v->to);
    if (!runner_failure(r) || !runner_failure(r)->err.connection_lost)
        drift_move_finish(&dm);
    if (code == EXIT_OK && reps.n)
        out_info(out, "%s %zu migration%s and %zu repeatable%s; the database is %s %s",
                 verbs[v->action], out->total - reps.n, out->total - reps.n == 1 ? "" : "s", reps.n,
                 reps.n == 1 ? "" : "s", v->action == MOVE_RECORD ? "recorded at" : "at",
                 engine_label(m, runner_position(r)).s);
    else if (code == EXIT_OK)
        out_info(out, "%s %zu migration%s; the database is %s %s", verbs[v->action], out->total,
                 out->total == 1 ? "" : "s",
                 v->action == MOVE_RECORD || v->action == MOVE_UNRECORD ? "recorded at" : "at",
                 engine_label(m, runner_position(r)).s);
    runner_free(r);
    bundle_cursor_close(cursor);
    return code;
}

/* Carry out a verdict on an open session. Returns the exit code. */
static int
carry_out(struct session *s, const struct move_verdict *v, struct out *out, int per_migration)
{
    int code;

    if (v->action == MOVE_REFUSE) {
        move_report(v, out);
        return v->code;
    }
    /*
     * Schema drift since the last move refuses it before anything changes; not when another
     * tool's history is adopted: that tool changed the schema, and the move's fingerprint
     * takes it as the new baseline.
     */
    if (v->action != MOVE_NOTHING && !move_adopts(v) &&
        (code = drift_move_check(s,
                                 v->action == MOVE_UP     ? "apply"
                                 : v->action == MOVE_DOWN ? "roll back"
                                                          : "stamp",
                                 out)) != EXIT_OK)
        return code;
    /* Another tool's history is recorded first, even when the move itself is a no-op. */
    if (move_adopts(v) && (code = session_adopt(s, out)) != EXIT_OK)
        return code;
    if (v->action == MOVE_NOTHING) {
        move_report(v, out);
        /* A history from before fingerprints gets its first one. */
        drift_move_first(s, "baseline");
        return EXIT_OK;
    }

    if (v->action == MOVE_UP && !per_migration)
        warn_lock_capacity(s, v->from, v->to);
    /* Down: only an existing history, which may need upgrading before journal rows go in. */
    if ((v->action != MOVE_DOWN || s->state.schema_exists) &&
        (code = session_create_history(s)) != EXIT_OK)
        return code;
    drift_move_table(s); /* a history from before fingerprints */
    return move_execute(s, v, out, per_migration);
}

/*
 * Append the journal's head to the --witness file, after the command (a failure writes a
 * journal row too). Returns code, or an error code when the head cannot be recorded.
 */
static int
write_witness(struct session *s, int code)
{
    struct db_error e;
    struct diag_err err = DIAG_ERR_INIT;
    int r = witness_record(s->db, &s->h, s->o->witness, s->bundle_id, &err, &e);

    if (r == 0)
        return code;
    app_error("could not record the journal's head in the witness file: %s",
              err.msg[0] ? err.msg : e.message);
    return code != EXIT_OK ? code : err.msg[0] ? EXIT_USAGE : EXIT_FAILED;
}

/*
 * Before apply takes the migration lock: the findings and live risk of what it would run,
 * decided on the history as read unlocked (the decision is made again under the lock).
 */
static void
announce_risk(struct session *s, const struct move_request *rq, struct out *out)
{
    struct move_state st;
    struct move_verdict v;
    struct risk risk;
    struct db_error e;

    move_state_of(s, 1, &st);
    if (move_decide(&st, rq, &v) != EXIT_OK || v.action != MOVE_UP)
        return;
    {
        struct walk_reps reps = move_reps(s, &v);

        risk_init(&risk, &s->bundle.manifest, v.from, v.to, MANIFEST_UP, &reps, s->scripts);
    }
    if (risk_query(&risk, s->db, &e) != 0)
        diag_warning("could not read the live risk of the migrations to apply: %s", e.message);
    risk_announce(&risk, out);
    risk_release(&risk);
}

/*
 * Journal what the session learned about trust (key statements new to the database, an
 * expired bundle applied anyway) before anything runs: the old key is refused from now on.
 */
static int
record_trust(struct session *s, struct out *out)
{
    struct db_error e;
    int code, rows;

    if (s->trust.nrecord == 0 && !s->trust.expired[0])
        return EXIT_OK;
    if ((code = session_create_history(s)) != EXIT_OK)
        return code;
    rows = trust_record(s->db, &s->h, &s->src, s->o, &s->trust, &e);
    if (rows < 0) {
        app_error("could not journal the key statements: %s", e.message);
        return e.connection_lost ? EXIT_CONNECT : EXIT_FAILED;
    }
    if (s->trust.nrecord)
        out_info(out, "recorded %zu key statement%s in the journal", s->trust.nrecord,
                 s->trust.nrecord == 1 ? "" : "s");
    return EXIT_OK;
}

/* Print or emit the journal's new head when the command moved it. */
static int
report_head(struct session *s, const struct journal_pos *before, int code)
{
    struct db_error e;

    if (journal_report_head(s->db, &s->h, before, s->o->json, s->o->quiet, s->state.schema_exists,
                            &e) == 0)
        return code;
    app_error("could not read the journal's head: %s", e.message);
    return code != EXIT_OK ? code : EXIT_FAILED;
}

int
move_run(const struct app_opts *o, const char *bundle_path, const struct move_request *rq,
         int per_migration)
{
    struct journal_pos before = {0, JOURNAL_ZERO_HASH};
    struct db_error e;
    struct out out = {0};
    struct session s;
    struct move_state st;
    struct move_verdict v;
    struct diag_err err = DIAG_ERR_INIT;
    int code;

    out.json = o->json;
    out.quiet = o->quiet;
    out.tty = isatty(STDOUT_FILENO);
    if (o->witness && witness_append(o->witness, NULL, NULL, &err) != 0)
        app_die(EXIT_USAGE, "%s", err.msg); /* before anything runs, not after */
    /* apply shows what it would run before it waits for the lock (not with --quiet). */
    code = session_open(&s, o, bundle_path, rq->kind != MOVE_APPLY || o->quiet);
    if (code == EXIT_OK && !s.locked) {
        announce_risk(&s, rq, &out);
        code = session_lock(&s);
    }
    if (code == EXIT_OK) {
        /* stamp records from sealift's own history only, as it always has. */
        move_state_of(&s, rq->kind != MOVE_STAMP, &st);
        move_decide(&st, rq, &v);
        if (journal_exists_known(s.db, &s.h, s.state.schema_exists, &e) == 1 &&
            journal_read_pos(s.db, &s.h, &before, &e) != 0)
            before.seq = -1; /* unknown: report whatever the head is after */
        code = record_trust(&s, &out);
        if (code == EXIT_OK)
            code = carry_out(&s, &v, &out, per_migration);
        if (s.db && code != EXIT_CONNECT && code != EXIT_LOCK)
            code = report_head(&s, &before, code);
        if (o->witness && s.db && code != EXIT_CONNECT && code != EXIT_LOCK)
            code = write_witness(&s, code);
    }
    session_close(&s);
    return code;
}

int
move_command(int argc, char **argv, enum move_kind kind, const char *name, void (*usage)(void))
{
    static const struct option longopts[] = {APP_OPTS_BUNDLE,
                                             APP_OPTS_DB,
                                             APP_OPTS_OUT,
                                             APP_OPT_LOCK,
                                             APP_OPT_COMPAT,
                                             APP_OPT_PER_MIGRATION,
                                             APP_OPT_TO,
                                             APP_OPTS_LIMITS,
                                             APP_OPT_WITNESS,
                                             APP_OPT_HELP,
                                             APP_OPT_ADOPT_TABLE,
                                             APP_OPTS_DRIFT_MOVE,
                                             APP_OPT_ALLOW_EXPIRED,
                                             APP_OPT_END};
    struct move_request rq = {kind, NULL, NULL};
    struct app_opts o;
    int c, code, per_migration = 0;

    app_opts_init(&o);
    optind = 0;
    while ((c = getopt_long(argc, argv, APP_SHORTOPTS, longopts, NULL)) != -1) {
        if (app_option(&o, c, optarg, name))
            continue;
        if (c == 't')
            rq.to = optarg;
        else if (c == 'M')
            per_migration = 1;
        else if (c == 'h') {
            usage();
            return EXIT_OK;
        } else
            app_bad_option(name, c, argv);
    }
    if (optind + 1 != argc)
        app_usage(name, "expected one BUNDLE");
    if (kind == MOVE_ROLLBACK && rq.to == NULL)
        app_usage(name, "--to REV is required (use --to base to undo everything)");
    app_require_keys(&o, name);
    code = move_run(&o, argv[optind], &rq, per_migration);
    app_opts_release(&o);
    return code;
}
