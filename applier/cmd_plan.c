/*
 * cmd_plan.c: "sealift-apply plan BUNDLE [--to REV]": print, changing nothing, the psql
 * script that apply (or rollback, for a REV behind the database) would run, history writes
 * included. It walks the same steps as the runner (walk.c), so running the script with
 * "psql -X -v ON_ERROR_STOP=1 -f" leaves the database as apply would.
 * Layer: applier.
 */
#include "cmds.h"
#include "adopt.h"
#include "session.h"
#include "walk.h"
#include "sealift/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
usage_plan(void)
{
    printf("Print the psql script that apply would run (with \"-- Running upgrade A -> B\"\n"
           "markers and the history writes), without changing anything. With --to REV behind\n"
           "the database, print the rollback instead. Run it with\n"
           "  psql -X -v ON_ERROR_STOP=1 -f plan.sql\n\n"
           "Usage:\n  sealift-apply plan BUNDLE -p PUBLIC_KEY... [--to REV] [OPTIONS]\n\n"
           "Options:\n" APP_USAGE_BUNDLE APP_USAGE_DB APP_USAGE_COMPAT
           "      --to REV          plan up to (or back to) REV\n"
           "      --per-migration   one transaction per migration\n");
}

struct planner {
    struct session *s;
    const struct manifest *m;
    struct buf out;
    struct history_source src;
    struct bundle_cursor *cursor; /* data members are streamed into the script */
    size_t head;                  /* migrations applied after the last recorded step */
    int failed;
};

static void
add_sql(struct buf *out, const char *text, size_t len)
{
    buf_add(out, text, len);
    /* End the script's last statement (and any trailing "--" comment) before ours. */
    buf_addstr(out, "\n;\n");
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
        adopt_sql_alembic_version(p->m, p->head, &p->out);
    buf_addstr(&p->out, "COMMIT;\n");
    return 0;
}

static int
plan_start(void *ctx, size_t idx, int kind)
{
    struct planner *p = ctx;
    const char *prev = idx > 0 ? p->m->migrations[idx - 1].id : "";
    const char *cur = p->m->migrations[idx].id;

    if (kind == MANIFEST_DOWN)
        buf_addf(&p->out, "\n-- Running downgrade %s -> %s\n", cur, prev);
    else
        buf_addf(&p->out, "\n-- Running upgrade %s -> %s\n", prev, cur);
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

    fputs(p->out.data, stdout);
    buf_reset(&p->out);
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
        diag_error("%s", err.msg);
        p->failed = 1;
    }
    free(chunk);
    return ret;
}

/* One statement of a script, with its COPY data after it if it has any. */
static int
plan_statement(struct planner *p, const struct manifest_script *sc, const struct buf *text,
               size_t k)
{
    const struct manifest_copy *c = manifest_script_copy(sc, k);

    buf_add(&p->out, text->data + sc->stmts[k].offset, (size_t)sc->stmts[k].length);
    buf_addstr(&p->out, ";\n");
    if (c == NULL)
        return 0;
    if (!c->inline_data)
        return plan_copy_file(p, c);
    buf_add(&p->out, text->data + c->offset, (size_t)c->length);
    buf_addstr(&p->out, "\\.\n");
    return 0;
}

static int
plan_script(void *ctx, size_t idx, int kind)
{
    struct planner *p = ctx;
    const struct manifest_script *sc = &p->m->migrations[idx].script[kind];
    const struct buf *text = &p->s->bundle.data[sc->member];

    if (kind == MANIFEST_VERIFY)
        buf_addf(&p->out, "-- verify %s\n", p->m->migrations[idx].id);
    if (sc->ncopies == 0) {
        add_sql(&p->out, text->data, text->len);
        return 0;
    }
    /* With COPY data, statement by statement, each COPY followed by its data. */
    for (size_t k = 0; k < sc->nstmts; k++)
        if (plan_statement(p, sc, text, k) != 0)
            return -1;
    return 0;
}

static int
plan_notx(void *ctx, size_t idx, int kind)
{
    struct planner *p = ctx;
    const struct manifest_migration *mig = &p->m->migrations[idx];
    const struct manifest_script *sc = &mig->script[kind];
    const struct buf *text = &p->s->bundle.data[sc->member];
    const char *dir = kind == MANIFEST_DOWN ? "down" : "up";
    size_t first = engine_resume_point(&p->s->view, idx, kind);
    char chain[HASH_SHA256_HEX];
    char **sha = xcalloc(sc->nstmts ? sc->nstmts : 1, sizeof(*sha));

    hex_encode(chain, mig->chain, HASH_SHA256_BYTES);
    for (size_t k = 0; k < sc->nstmts; k++) {
        sha[k] = xmalloc(HASH_SHA256_HEX);
        engine_statement_sha(p->m, p->s->bundle.data, idx, kind, k, sha[k]);
    }
    buf_addf(&p->out, "-- %s runs outside a transaction, one statement at a time\n", mig->id);
    if (first == 0)
        history_sql_progress(&p->s->h, mig->id, dir, chain, 0, sc->nstmts, (const char *const *)sha,
                             &p->out);
    for (size_t k = first; k < sc->nstmts; k++) {
        if (plan_statement(p, sc, text, k) != 0)
            break;
        history_sql_progress(&p->s->h, mig->id, dir, chain, k + 1, sc->nstmts,
                             (const char *const *)sha, &p->out);
    }
    for (size_t k = 0; k < sc->nstmts; k++)
        free(sha[k]);
    free(sha);
    return 0;
}

static int
plan_record(void *ctx, size_t idx, enum walk_record what, int commit_next)
{
    struct planner *p = ctx;
    const struct manifest_migration *mig = &p->m->migrations[idx];

    (void)commit_next; /* the script writes its history rows where they fall */
    p->head = what == WALK_ROLLBACK ? idx : idx + 1;
    if (what == WALK_ROLLBACK) {
        history_sql_unapplied(&p->s->h, mig->id, &p->out);
        if (!mig->script[MANIFEST_DOWN].transactional)
            history_sql_progress_clear(&p->s->h, mig->id, "down", &p->out);
        history_sql_journal(&p->s->h, &p->src, "rollback", p->m, (long)idx, "via plan", &p->out);
        return 0;
    }
    history_sql_applied(&p->s->h, &p->src, p->m, idx, "applied", NULL, &p->out);
    if (!mig->script[MANIFEST_UP].transactional)
        history_sql_progress_clear(&p->s->h, mig->id, "up", &p->out);
    history_sql_journal(&p->s->h, &p->src, "apply", p->m, (long)idx, "via plan", &p->out);
    return 0;
}

static const struct walk_ops plan_ops = {plan_begin,  plan_commit, plan_start,
                                         plan_script, plan_notx,   plan_record};

/* Refuse to run unless the database is still where the plan was made, and take the lock. */
static void
plan_guard(struct planner *p, size_t napplied)
{
    const struct history_ctx *h = &p->s->h;
    char *proj = db_quote_literal(h->project);
    char *label = db_quote_literal(engine_revision_label(p->m, napplied));
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
    free(proj);
    free(label);
    free(chain_lit);
}

int
cmd_plan(int argc, char **argv)
{
    static const struct option longopts[] = {APP_LONGOPTS,
                                             {"to", required_argument, NULL, 't'},
                                             {"per-migration", no_argument, NULL, 'M'},
                                             {NULL, 0, NULL, 0}};
    struct app_opts o;
    struct session s;
    struct planner p;
    const char *to_rev = NULL;
    int c, code, per_migration = 0, k1, k2;
    size_t to;
    char host[300];

    app_opts_init(&o);
    optind = 0;
    while ((c = getopt_long(argc, argv, APP_SHORTOPTS, longopts, NULL)) != -1) {
        if (app_option(&o, c, optarg, "plan"))
            continue;
        if (c == 't')
            to_rev = optarg;
        else if (c == 'M')
            per_migration = 1;
        else if (c == 'h') {
            usage_plan();
            return EXIT_OK;
        } else
            die_bad_option("plan", c, argv);
    }
    if (optind + 1 != argc)
        die_usage("plan", "expected one BUNDLE");
    app_require_keys(&o, "plan");
    memset(&p, 0, sizeof(p));
    buf_init(&p.out);
    code = session_open(&s, &o, argv[optind], 0);
    if (code != EXIT_OK)
        goto done;
    if ((code = session_check_drift(&s)) != EXIT_OK ||
        (code = session_check_environment(&s)) != EXIT_OK)
        goto done;
    p.s = &s;
    p.m = &s.bundle.manifest;
    p.src = s.src;
    snprintf(host, sizeof(host), "%s (plan)", s.host);
    p.src.client_host = host;
    to = p.m->nmigrations;
    if (to_rev) {
        long t = engine_resolve_target(p.m, to_rev);

        if (t < 0) {
            diag_error("--to %s: the bundle has no such migration", to_rev);
            code = EXIT_USAGE;
            goto done;
        }
        to = (size_t)t;
    }
    if (to > s.view.napplied && (long long)p.m->serial < s.state.max_serial) {
        diag_error("bundle serial %llu is older than serial %lld, already applied to this "
                   "database (rollback protection)",
                   (unsigned long long)p.m->serial, s.state.max_serial);
        code = EXIT_STATE;
        goto done;
    }
    buf_addf(&p.out,
             "-- sealift-apply plan for %s\n"
             "-- bundle %s: project %s, serial %llu, environment %s\n"
             "-- database %s is at %s; this script goes to %s\n"
             "-- run it with: psql -X -v ON_ERROR_STOP=1 -f FILE\n"
             "\\set ON_ERROR_STOP on\n"
             "SET standard_conforming_strings = on;\n"
             "SET client_min_messages = warning;\n",
             s.bundle_path, s.bundle_id, p.m->project, (unsigned long long)p.m->serial,
             p.m->environment ? p.m->environment : "(any)", db_describe(s.db),
             engine_revision_label(p.m, s.view.napplied), engine_revision_label(p.m, to));
    plan_guard(&p, s.view.napplied);
    if (s.adopt.found && s.adopt.problem.len) {
        diag_error("cannot take over from %s: %s", s.adopt.tool, s.adopt.problem.data);
        code = EXIT_STATE;
        goto done;
    }
    if (s.adopt.found && s.adopt.count > 0) {
        buf_addf(&p.out, "\n-- adopt what %s recorded in %s: nothing runs\n", s.adopt.tool,
                 s.adopt.table);
        adopt_sql(&s.adopt, &s.h, &p.src, p.m, &p.out);
        s.view.napplied = s.adopt.count;
    }
    p.cursor = bundle_cursor_open(s.bundle_path, p.m, NULL);
    if (to >= s.view.napplied) {
        walk_apply(p.m, s.view.napplied, to, per_migration, &plan_ops, &p);
    } else {
        for (size_t i = s.view.napplied; i > to; i--) {
            if (!p.m->migrations[i - 1].script[MANIFEST_DOWN].present) {
                diag_error("cannot plan a rollback to %s: migration %s is irreversible",
                           engine_revision_label(p.m, to), engine_revision_label(p.m, i));
                code = EXIT_STATE;
                goto done;
            }
        }
        walk_rollback(p.m, s.view.napplied, to, per_migration, &plan_ops, &p);
    }
    if (p.failed) {
        code = EXIT_REJECTED;
        goto done;
    }
    app_lock_keys(o.schema, &k1, &k2);
    buf_addf(&p.out, "\nSELECT pg_advisory_unlock(%d, %d);\n", k1, k2);
    fputs(p.out.data, stdout);
done:
    bundle_cursor_close(p.cursor);
    buf_release(&p.out);
    session_close(&s);
    app_opts_release(&o);
    return code;
}
