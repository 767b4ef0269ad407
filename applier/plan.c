/*
 * plan.c: write, changing nothing, the psql script of a move that move_decide() allowed:
 * apply's (or rollback's, for a target behind the database), history writes included. It
 * walks the same steps as the runner (walk.c), so running the script with
 * "psql -X -v ON_ERROR_STOP=1 -f" leaves the database as apply would.
 * Layer: applier.
 */
#include "plan.h"
#include "adopt.h"
#include "journal.h"
#include "move.h"
#include "plan_review.h"
#include "risk.h"
#include "scriptsrc.h"
#include "session.h"
#include "walk.h"
#include "sealift/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * The journal row of each migration is one EXECUTE of this statement, prepared once after the
 * history exists: the server-side hash expression is written once, not once a migration.
 */
#define PLAN_JOURNAL_STMT "sealift_journal"

struct planner {
    struct session *s;
    const struct manifest *m;
    struct buf out;
    struct history_source src;
    struct bundle_cursor *cursor; /* data members are streamed into the script */
    size_t head;                  /* migrations applied after the last recorded step */
    struct risk risk;             /* findings and live risk of the migrations it runs */
    int failed;
};

/* The script is written as it is made: what is held goes out past this many bytes. */
#define PLAN_HOLD_BYTES (64u * 1024u)

/* Write out what is held. */
static void
plan_flush(struct planner *p)
{
    fwrite(p->out.data, 1, p->out.len, stdout);
    buf_reset(&p->out);
}

static void
plan_flush_some(struct planner *p)
{
    if (p->out.len >= PLAN_HOLD_BYTES)
        plan_flush(p);
}

/* A script's bytes could not be read or differ from what was verified: the plan is refused. */
static int
plan_script_failed(struct planner *p, struct script_reader *rd, const struct diag_err *err)
{
    script_close(rd);
    app_error("%s", err->msg);
    p->failed = 1;
    return -1;
}

/* Bytes [rd's position, end) of a script, written out in chunks. */
static int
plan_copy_script(struct planner *p, struct script_reader *rd, uint64_t end, struct diag_err *err)
{
    char *chunk = xmalloc(PLAN_HOLD_BYTES);
    ssize_t n;

    plan_flush(p);
    while ((n = script_read(rd, chunk, PLAN_HOLD_BYTES, end, err)) > 0)
        fwrite(chunk, 1, (size_t)n, stdout);
    free(chunk);
    return n < 0 ? -1 : 0;
}

static int
plan_begin(void *ctx)
{
    struct planner *p = ctx;

    buf_addstr(&p->out, "BEGIN;\n");
    return 0;
}

static int
plan_commit(void *ctx)
{
    struct planner *p = ctx;

    history_sql_project(&p->s->h, &p->src, &p->out);
    history_sql_journal_head(&p->s->h, &p->out);
    if (p->s->o->compat_alembic)
        adopt_sql_alembic_version(p->s->o->adopt_table, p->m, p->head, &p->out);
    buf_addstr(&p->out, "COMMIT;\n");
    return 0;
}

static int
plan_start(void *ctx, size_t idx, int kind)
{
    struct planner *p = ctx;
    const char *prev = idx > 0 && idx <= p->m->nmigrations ? p->m->migrations[idx - 1].id : "";
    const char *cur = walk_migration(p->m, idx)->id;

    if (walk_is_repeatable(p->m, idx)) {
        char sum[HASH_SHA256_HEX];

        buf_addf(&p->out, "\n-- Running repeatable %s (checksum %s)\n", cur,
                 hex_encode(sum, walk_migration(p->m, idx)->chain, HASH_SHA256_BYTES));
        risk_text(&p->risk, idx, "-- ", &p->out);
        return 0;
    }
    if (kind == MANIFEST_DOWN)
        buf_addf(&p->out, "\n-- Running downgrade %s -> %s\n", cur, prev);
    else
        buf_addf(&p->out, "\n-- Running upgrade %s -> %s\n", prev, cur);
    risk_text(&p->risk, idx, "-- ", &p->out);
    return 0;
}

/*
 * Write a data member after its COPY statement, as psql reads inline data: the bytes, a final
 * newline, then "\.". Streamed to stdout (after what is buffered): data may be large. psql
 * passes the "\." line on to the server, which wants it in the line end of the data's first
 * line (CR LF files are taken as they are).
 */
static int
plan_copy_file(struct planner *p, const struct manifest_copy *c)
{
    static const char binary_sig[] = "PGCOPY\n\377\r\n";
    struct diag_err err = DIAG_ERR_INIT;
    char *chunk = xmalloc(1 << 20);
    char last = '\n';
    const char *eol = NULL;
    int first = 1, ret = -1;
    ssize_t n;

    plan_flush(p);
    if (bundle_cursor_seek(p->cursor, c->member, &err) != 0)
        goto cleanup;
    while ((n = bundle_cursor_read(p->cursor, chunk, 1 << 20, &err)) > 0) {
        if (first && (size_t)n >= sizeof(binary_sig) - 1 &&
            memcmp(chunk, binary_sig, sizeof(binary_sig) - 1) == 0) {
            err_set(&err,
                    "member \"%s\" is binary COPY data, which psql cannot read inline; apply "
                    "this bundle with sealift-apply",
                    p->m->members[c->member].path);
            goto cleanup;
        }
        first = 0;
        if (eol == NULL) {
            const char *nl = memchr(chunk, '\n', (size_t)n);

            if (nl)
                eol = (nl > chunk ? nl[-1] : last) == '\r' ? "\r\n" : "\n";
        }
        fwrite(chunk, 1, (size_t)n, stdout);
        last = chunk[n - 1];
    }
    if (n < 0)
        goto cleanup;
    if (eol == NULL)
        eol = "\n";
    if (last != '\n')
        buf_addstr(&p->out, eol);
    buf_addf(&p->out, "\\.%s", eol);
    ret = 0;
cleanup:
    if (ret != 0) {
        app_error("%s", err.msg);
        p->failed = 1;
    }
    free(chunk);
    return ret;
}

/* One statement of a script, with its COPY data after it if it has any. */
static int
plan_statement(struct planner *p, const struct manifest_script *sc, struct script_reader *rd,
               size_t k)
{
    const struct manifest_copy *c = manifest_script_copy(sc, k);
    struct diag_err err = DIAG_ERR_INIT;

    if (script_seek(rd, sc->stmts[k].offset, &err) != 0 ||
        plan_copy_script(p, rd, sc->stmts[k].offset + sc->stmts[k].length, &err) != 0)
        return plan_script_failed(p, NULL, &err);
    buf_addstr(&p->out, ";\n");
    if (c == NULL)
        return 0;
    if (!c->inline_data)
        return plan_copy_file(p, c);
    if (script_seek(rd, c->offset, &err) != 0 ||
        plan_copy_script(p, rd, c->offset + c->length, &err) != 0)
        return plan_script_failed(p, NULL, &err);
    buf_addstr(&p->out, "\\.\n");
    plan_flush_some(p);
    return 0;
}

static int
plan_script(void *ctx, size_t idx, int kind)
{
    struct planner *p = ctx;
    const struct manifest_script *sc = &walk_migration(p->m, idx)->script[kind];
    struct diag_err err = DIAG_ERR_INIT;
    struct script_reader *rd = script_open(p->s->scripts, sc->member, 0, &err);

    if (rd == NULL)
        return plan_script_failed(p, NULL, &err);
    if (kind == MANIFEST_VERIFY)
        buf_addf(&p->out, "-- verify %s\n", p->m->migrations[idx].id);
    if (sc->ncopies == 0) {
        /* The whole script as it is; then end its last statement (and any trailing "--"
         * comment) before ours. */
        if (plan_copy_script(p, rd, p->m->members[sc->member].size, &err) != 0)
            return plan_script_failed(p, rd, &err);
        buf_addstr(&p->out, "\n;\n");
    } else {
        /* With COPY data, statement by statement, each COPY followed by its data. */
        for (size_t k = 0; k < sc->nstmts; k++)
            if (plan_statement(p, sc, rd, k) != 0) {
                script_close(rd);
                return -1;
            }
    }
    /* Read to its end: a script whose bytes changed since verification is refused. */
    if (script_finish(rd, &err) != 0)
        return plan_script_failed(p, NULL, &err);
    return 0;
}

static int
plan_notx(void *ctx, size_t idx, int kind)
{
    struct planner *p = ctx;
    const struct manifest_migration *mig = walk_migration(p->m, idx);
    const struct manifest_script *sc = &mig->script[kind];
    const char *dir = kind == MANIFEST_DOWN ? "down" : "up";
    /* A repeatable keeps no progress (runner.c): it runs again whole. */
    int rep = walk_is_repeatable(p->m, idx);
    size_t first = rep ? 0 : engine_resume_point(&p->s->view, idx, kind);
    struct diag_err err = DIAG_ERR_INIT;
    struct script_reader *rd;
    char chain[HASH_SHA256_HEX];
    char **sha = xcalloc(sc->nstmts ? sc->nstmts : 1, sizeof(*sha));
    int ret = 0;

    hex_encode(chain, mig->chain, HASH_SHA256_BYTES);
    for (size_t k = 0; k < sc->nstmts; k++)
        sha[k] = xmalloc(HASH_SHA256_HEX);
    /* Proven whole before a byte of it is written: psql would run it outside a transaction. */
    rd = script_open(p->s->scripts, sc->member, 1, &err);
    if (rd == NULL || script_stmt_shas(rd, sc, sc->nstmts, sha, &err) != 0) {
        ret = plan_script_failed(p, rd, &err);
        goto cleanup;
    }
    buf_addf(&p->out, "-- %s runs outside a transaction, one statement at a time\n", mig->id);
    if (first == 0 && !rep)
        history_sql_progress(&p->s->h, mig->id, dir, chain, 0, sc->nstmts, (const char *const *)sha,
                             &p->out);
    for (size_t k = first; k < sc->nstmts; k++) {
        if (plan_statement(p, sc, rd, k) != 0)
            break;
        if (!rep)
            history_sql_progress(&p->s->h, mig->id, dir, chain, k + 1, sc->nstmts,
                                 (const char *const *)sha, &p->out);
        plan_flush_some(p);
    }
    script_close(rd);
cleanup:
    for (size_t k = 0; k < sc->nstmts; k++)
        free(sha[k]);
    free(sha);
    return ret;
}

static int
plan_record(void *ctx, size_t idx, enum walk_record what, int commit_next)
{
    struct planner *p = ctx;
    const struct manifest_migration *mig = walk_migration(p->m, idx);

    (void)commit_next; /* the script writes its history rows where they fall */
    if (walk_is_repeatable(p->m, idx)) {
        history_sql_repeatable_run(&p->s->h, &p->src, p->m, idx - p->m->nmigrations, "applied",
                                   NULL, NULL, &p->out);
        buf_addstr(&p->out, ";\n");
        journal_sql_execute_computed(PLAN_JOURNAL_STMT, JOURNAL_EVENT_REPEATABLE_APPLY, p->m,
                                     (long)idx, &p->out);
        return 0;
    }
    p->head = what == WALK_ROLLBACK ? idx : idx + 1;
    if (what == WALK_ROLLBACK) {
        history_sql_unapplied(&p->s->h, mig->id, &p->out);
        if (!mig->script[MANIFEST_DOWN].transactional)
            history_sql_progress_clear(&p->s->h, mig->id, "down", &p->out);
        journal_sql_execute_computed(PLAN_JOURNAL_STMT, "rollback", p->m, (long)idx, &p->out);
        return 0;
    }
    history_sql_applied(&p->s->h, &p->src, p->m, idx, "applied", NULL, &p->out);
    if (!mig->script[MANIFEST_UP].transactional)
        history_sql_progress_clear(&p->s->h, mig->id, "up", &p->out);
    journal_sql_execute_computed(PLAN_JOURNAL_STMT, "apply", p->m, (long)idx, &p->out);
    return 0;
}

static const struct walk_ops plan_ops = {plan_begin,  plan_commit, plan_start,
                                         plan_script, plan_notx,   plan_record};

/*
 * Refuse to run unless every repeatable of the bundle has the last run the plan read (none:
 * NULL): which of them run, and which are left as they are, was decided from it. Another
 * apply, stamp or plan since may have run one with other bytes.
 */
static void
plan_guard_repeatables(struct planner *p)
{
    const struct history_ctx *h = &p->s->h;

    if (p->m->nrepeatables == 0)
        return;
    buf_addf(&p->out,
             "DO $sealift$ DECLARE moved record; BEGIN\n"
             "  SELECT w.name, w.checksum, w.have INTO moved FROM (SELECT want.name, "
             "want.checksum, (SELECT r.checksum FROM %s.repeatable_runs r WHERE r.project = ",
             h->qschema);
    db_add_literal(&p->out, h->project);
    buf_addstr(&p->out, " AND r.name = want.name ORDER BY r.run DESC LIMIT 1) AS have\n"
                        "    FROM (VALUES ");
    for (size_t j = 0; j < p->m->nrepeatables; j++) {
        const struct repeatable_row *row =
            history_repeatable(&p->s->state, p->m->repeatables[j].id);

        buf_addstr(&p->out, j ? ", (" : "(");
        db_add_literal(&p->out, p->m->repeatables[j].id);
        buf_addstr(&p->out, ", ");
        db_add_literal(&p->out, row ? row->checksum : NULL);
        buf_addstr(&p->out, "::text)");
    }
    buf_addstr(&p->out,
               ") AS want(name, checksum)) w\n"
               "    WHERE w.have IS DISTINCT FROM w.checksum ORDER BY w.name LIMIT 1;\n"
               "  IF FOUND THEN\n"
               "    RAISE EXCEPTION 'sealift: repeatable % is no longer as this plan found it "
               "(last run %, the plan read %)', moved.name, coalesce(left(moved.have, 16), "
               "'none'), coalesce(left(moved.checksum, 16), 'none');\n"
               "  END IF;\n"
               "END $sealift$;\n");
}

/* Refuse to run unless the database is still where the plan was made, and take the lock. */
static void
plan_guard(struct planner *p, size_t napplied, int repeatables)
{
    const struct history_ctx *h = &p->s->h;
    char *proj = db_quote_literal(h->project);
    char *label = db_quote_literal(engine_label(p->m, napplied).s);
    char chain[HASH_SHA256_HEX] = "";
    char *chain_lit;
    int k1, k2;

    if (napplied > 0)
        hex_encode(chain, p->m->migrations[napplied - 1].chain, HASH_SHA256_BYTES);
    chain_lit = db_quote_literal(chain);
    app_lock_keys(p->s->o->schema, &k1, &k2);
    buf_addf(&p->out,
             "DO $sealift$ BEGIN\n"
             "  IF NOT pg_try_advisory_lock(%d, %d) THEN\n"
             "    RAISE EXCEPTION 'sealift: another run holds the migration lock';\n"
             "  END IF;\n"
             "END $sealift$;\n",
             k1, k2);
    buf_addstr(&p->out, "BEGIN;\n");
    history_sql_create(h, &p->out);
    buf_addstr(&p->out, "COMMIT;\n");
    journal_sql_prepare_computed(h, PLAN_JOURNAL_STMT, &p->src, "via plan", &p->out);
    buf_addf(&p->out,
             "DO $sealift$ BEGIN\n"
             "  IF (SELECT count(*) FROM %s.applied WHERE project = %s) <> %zu OR\n"
             "     coalesce((SELECT chain FROM %s.applied WHERE project = %s ORDER BY ordinal "
             "DESC LIMIT 1), '') <> %s THEN\n"
             "    RAISE EXCEPTION 'sealift: the database is no longer at %%, where this plan "
             "starts', %s;\n"
             "  END IF;\n"
             "END $sealift$;\n",
             h->qschema, proj, napplied, h->qschema, proj, chain_lit, label);
    if (repeatables)
        plan_guard_repeatables(p);
    free(proj);
    free(label);
    free(chain_lit);
}

/* The script's header: what it is for, where it starts and where it goes. */
static void
plan_header(struct planner *p, const struct move_verdict *v)
{
    const struct session *s = p->s;

    buf_addf(&p->out,
             "-- sealift-apply plan for %s\n"
             "-- bundle %s: project %s, serial %llu, environment %s\n"
             "-- database %s is at %s; this script %s %s\n"
             "-- run it with: psql -X -v ON_ERROR_STOP=1 -f FILE\n"
             "\\set ON_ERROR_STOP on\n"
             "SET standard_conforming_strings = on;\n"
             "SET client_min_messages = warning;\n",
             s->bundle_path, s->bundle_id, p->m->project, (unsigned long long)p->m->serial,
             p->m->environment ? p->m->environment : "(any)", db_describe(s->db),
             engine_label(p->m, s->view.napplied).s,
             v->action == MOVE_DOWN ? "rolls back to" : "goes to", engine_label(p->m, v->to).s);
}

/* The whole script of verdict v, written to stdout. Returns the exit code. */
static int
plan_write(struct planner *p, const struct move_verdict *v, int per_migration)
{
    struct session *s = p->s;
    struct db_error e;
    int k1, k2;

    /* The lint's findings on what will run, and what the database says about them now. */
    if (v->action == MOVE_DOWN) {
        risk_init(&p->risk, p->m, v->to, v->from, MANIFEST_DOWN, NULL, s->scripts);
    } else {
        struct walk_reps reps = move_reps(s, v);

        risk_init(&p->risk, p->m, v->from, v->to, MANIFEST_UP, &reps, s->scripts);
    }
    if (risk_query(&p->risk, s->db, &e) != 0)
        diag_warning("could not read the live risk of the planned migrations: %s", e.message);
    plan_header(p, v);
    /* An up plan to the head decided which repeatables run from their last runs. */
    plan_guard(p, s->view.napplied,
               v->action == MOVE_UP && v->to == p->m->nmigrations && !v->ahead);
    if (move_adopts(v)) {
        buf_addf(&p->out, "\n-- adopt what %s recorded in %s: nothing runs\n", s->adopt.tool,
                 s->adopt.table);
        adopt_sql(&s->adopt, &s->h, &p->src, p->m, &p->out);
    }
    p->cursor = bundle_cursor_open(s->bundle_path, p->m, NULL);
    if (v->action == MOVE_DOWN)
        walk_rollback(p->m, v->from, v->to, per_migration, &plan_ops, p);
    else {
        struct walk_reps reps = move_reps(s, v);

        walk_apply(p->m, v->from, v->to, &reps, per_migration, &plan_ops, p);
    }
    if (p->failed)
        return EXIT_REJECTED;
    app_lock_keys(s->o->schema, &k1, &k2);
    buf_addf(&p->out, "\nDEALLOCATE " PLAN_JOURNAL_STMT ";\nSELECT pg_advisory_unlock(%d, %d);\n",
             k1, k2);
    plan_flush(p);
    return EXIT_OK;
}

int
plan_run(const struct app_opts *o, const char *bundle_path, const char *to, int per_migration,
         int review)
{
    struct move_request rq = {MOVE_PLAN, to, NULL};
    struct out out = {0};
    struct session s;
    struct planner p;
    struct move_state st;
    struct move_verdict v;
    char host[300];
    int code;

    memset(&p, 0, sizeof(p));
    buf_init(&p.out);
    code = session_open(&s, o, bundle_path, 0);
    if (code != EXIT_OK)
        goto done;
    /* The same decision as apply's and rollback's: a plan they would refuse is refused. */
    move_state_of(&s, 1, &st);
    if (move_decide(&st, &rq, &v) != EXIT_OK) {
        move_report(&v, &out);
        code = v.code;
        goto done;
    }
    if (review) {
        code = plan_review_write(&s, &v, per_migration);
        goto done;
    }
    p.s = &s;
    p.m = &s.bundle.manifest;
    p.src = s.src;
    if (snprintf(host, sizeof(host), "%s (plan)", s.host) >= (int)sizeof(host))
        app_die(EXIT_USAGE, "host name \"%s\" is too long", s.host); /* gethostname caps it */
    p.src.client_host = host;
    code = plan_write(&p, &v, per_migration);
done:
    risk_release(&p.risk);
    bundle_cursor_close(p.cursor);
    buf_release(&p.out);
    session_close(&s);
    return code;
}
