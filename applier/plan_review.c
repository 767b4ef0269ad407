/*
 * plan_review.c: the reading copy of a plan (see plan_review.h). It walks the same steps as
 * plan.c and the runner, printing only what the migrations themselves run.
 * Layer: applier.
 */
#include "plan_review.h"
#include "risk.h"
#include "scriptsrc.h"
#include "walk.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct reviewer {
    const struct session *s;
    const struct manifest *m;
    struct buf out;
    struct risk risk;
    unsigned tx;         /* transactions begun so far */
    unsigned last_tx;    /* the walk's transaction of the last transactional script, 0: none */
    unsigned shown;      /* transactions numbered in the review (those that run migrations) */
    int kind;            /* MANIFEST_UP or MANIFEST_DOWN */
    struct diag_err err; /* why a script could not be read (it stops the walk) */
};

static int
review_begin(void *ctx)
{
    struct reviewer *r = ctx;

    r->tx++;
    return 0;
}

static int
review_commit(void *ctx)
{
    (void)ctx;
    return 0;
}

/* The header of one migration's script: what it is, which way, in which transaction. */
static int
review_start(void *ctx, size_t idx, int kind)
{
    struct reviewer *r = ctx;
    const struct manifest_migration *mig = walk_migration(r->m, idx);
    const struct manifest_script *sc = &mig->script[kind];
    int rep = walk_is_repeatable(r->m, idx);

    buf_addf(&r->out,
             "\n-- ============================================================================\n"
             "-- %s %s%s%s, %s\n",
             rep ? "repeatable" : "migration", mig->id, mig->name[0] ? "_" : "", mig->name,
             kind == MANIFEST_DOWN ? "down (rollback)"
             : rep                 ? "up (new or changed since its last run)"
                                   : "up");
    /*
     * The walk begins a transaction before a transactional migration's start. Those that only
     * record a no-transaction migration run no migration SQL: they get no number.
     */
    if (sc->transactional) {
        int shared = r->last_tx == r->tx;

        if (!shared)
            r->shown++;
        buf_addf(&r->out, "-- transaction %u of this plan%s\n", r->shown,
                 shared ? " (shared with the migration before)" : "");
        r->last_tx = r->tx;
    } else
        buf_addf(&r->out, "-- no transaction: %zu statement%s, each committed on its own\n",
                 sc->nstmts, sc->nstmts == 1 ? "" : "s");
    risk_text(&r->risk, idx, "-- ", &r->out);
    buf_addstr(&r->out,
               "-- ----------------------------------------------------------------------------\n");
    return 0;
}

/*
 * A script's statements as the bundle has them (read again, one at a time), COPY data named
 * but not shown. Returns 0, or -1 with err set when the script cannot be read.
 */
static int
add_statements(struct reviewer *r, const struct manifest_script *sc, struct diag_err *err)
{
    struct script_reader *rd = script_open(r->s->scripts, sc->member, 0, err);

    if (rd == NULL)
        return -1;
    for (size_t k = 0; k < sc->nstmts; k++) {
        const struct manifest_copy *c = manifest_script_copy(sc, k);
        unsigned line;
        char *stmt = script_take_stmt(rd, sc, k, SIZE_MAX, &line, err);

        if (stmt == NULL) {
            script_close(rd);
            return -1;
        }
        buf_addstr(&r->out, stmt);
        free(stmt);
        buf_addstr(&r->out, ";\n");
        if (c && c->inline_data)
            buf_addf(&r->out, "-- (%llu bytes of COPY data inline in the script, not shown)\n",
                     (unsigned long long)c->length);
        else if (c)
            buf_addf(&r->out, "-- (COPY data: member %s, %llu bytes, not shown)\n",
                     r->m->members[c->member].path,
                     (unsigned long long)r->m->members[c->member].size);
    }
    return script_finish(rd, err);
}

static int
review_script(void *ctx, size_t idx, int kind)
{
    struct reviewer *r = ctx;
    const struct manifest_script *sc = &walk_migration(r->m, idx)->script[kind];

    if (kind == MANIFEST_VERIFY)
        buf_addf(&r->out, "-- verify script of %s (fails the migration if it fails)\n",
                 r->m->migrations[idx].id);
    return add_statements(r, sc, &r->err);
}

static int
review_notx(void *ctx, size_t idx, int kind)
{
    struct reviewer *r = ctx;

    return add_statements(r, &walk_migration(r->m, idx)->script[kind], &r->err);
}

static int
review_record(void *ctx, size_t idx, enum walk_record what, int commit_next)
{
    (void)ctx, (void)idx, (void)what, (void)commit_next; /* no history writes in a review */
    return 0;
}

static const struct walk_ops review_ops = {review_begin,  review_commit, review_start,
                                           review_script, review_notx,   review_record};

/* What the review is of: the bundle, the database, where it is and where it goes. */
static void
review_header(struct reviewer *r, const struct move_verdict *v)
{
    const struct session *s = r->s;
    size_t n = v->action == MOVE_DOWN ? v->from - v->to : v->to - v->from;

    buf_addf(&r->out,
             "-- sealift-apply plan --review for %s\n"
             "-- bundle %s: project %s, serial %llu, environment %s\n"
             "-- database %s is at %s\n",
             s->bundle_path, s->bundle_id, r->m->project, (unsigned long long)r->m->serial,
             r->m->environment ? r->m->environment : "(any)", db_describe(s->db),
             engine_label(r->m, s->view.napplied).s);
    if (v->action == MOVE_DOWN)
        buf_addf(&r->out, "-- rollback of %zu migration%s, back to %s (newest first)\n", n,
                 n == 1 ? "" : "s", engine_label(r->m, v->to).s);
    else
        buf_addf(&r->out, "-- apply of %zu migration%s, up to %s\n", n, n == 1 ? "" : "s",
                 engine_label(r->m, v->to).s);
    if (v->nreps)
        buf_addf(&r->out, "-- then %zu repeatable%s, new or changed since their last run\n",
                 v->nreps, v->nreps == 1 ? "" : "s");
    buf_addstr(&r->out, "-- For reading, not for running: the migrations' own SQL, in the order it "
                        "runs,\n-- without sealift's history writes (plan without --review "
                        "prints the script to run).\n");
}

int
plan_review_write(struct session *s, const struct move_verdict *v, int per_migration)
{
    struct reviewer r;
    struct db_error e;

    memset(&r, 0, sizeof(r));
    r.s = s;
    r.m = &s->bundle.manifest;
    r.kind = v->action == MOVE_DOWN ? MANIFEST_DOWN : MANIFEST_UP;
    buf_init(&r.out);
    if (v->action == MOVE_DOWN) {
        risk_init(&r.risk, r.m, v->to, v->from, MANIFEST_DOWN, NULL, s->scripts);
    } else {
        struct walk_reps reps = move_reps(s, v);

        risk_init(&r.risk, r.m, v->from, v->to, MANIFEST_UP, &reps, s->scripts);
    }
    if (risk_query(&r.risk, s->db, &e) != 0)
        diag_warning("could not read the live risk of the planned migrations: %s", e.message);
    review_header(&r, v);
    if (move_adopts(v))
        buf_addf(&r.out, "\n-- first, adopt what %s recorded in %s: nothing runs\n", s->adopt.tool,
                 s->adopt.table);
    if (v->action == MOVE_DOWN)
        walk_rollback(r.m, v->from, v->to, per_migration, &review_ops, &r);
    else {
        struct walk_reps reps = move_reps(s, v);

        walk_apply(r.m, v->from, v->to, &reps, per_migration, &review_ops, &r);
    }
    risk_release(&r.risk);
    if (r.err.msg[0]) {
        /* Bytes that differ from what verification saw: nothing of the review is written. */
        app_error("%s", r.err.msg);
        buf_release(&r.out);
        return EXIT_REJECTED;
    }
    fputs(r.out.data, stdout);
    buf_release(&r.out);
    return EXIT_OK;
}
