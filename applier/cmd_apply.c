/*
 * cmd_apply.c: "sealift-apply apply BUNDLE [--to REV] [--per-migration]".
 * Layer: applier.
 */
#include "cmds.h"
#include "runner.h"
#include "session.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void
usage_apply(void)
{
    printf(
        "Apply the bundle's pending migrations. By default all pending transactional\n"
        "migrations run in one transaction: the database moves to the new head or not at\n"
        "all. A no-transaction migration runs statement by statement outside any, and a\n"
        "rerun resumes it where it stopped. A database the bundle's source tool (Flyway,\n"
        "Alembic...) has been migrating is adopted first: what that tool recorded is\n"
        "checked against the chain and recorded as applied, without running it.\n\n"
        "Usage:\n  sealift-apply apply BUNDLE -p PUBLIC_KEY... [OPTIONS]\n\n"
        "Options:\n" APP_USAGE_BUNDLE APP_USAGE_DB
        "      --to REV          stop after migration REV (its id or ID_NAME)\n"
        "      --per-migration   commit each migration on its own\n" APP_USAGE_COMPAT APP_USAGE_LOCK
            APP_USAGE_OUT);
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

/* Everything apply checks before it changes anything. Returns an exit code, or -1 to go on. */
static int
preflight(struct session *s, const char *to_rev, size_t *to)
{
    const struct manifest *m = &s->bundle.manifest;
    int code;

    if ((code = session_check_drift(s)) != EXIT_OK ||
        (code = session_check_environment(s)) != EXIT_OK)
        return code;
    if (s->view.partial && strcmp(s->view.partial->direction, "down") == 0) {
        diag_error("a rollback of %s stopped after %ld of %ld statements; finish it with "
                   "\"sealift-apply rollback\" first",
                   s->view.partial->id, s->view.partial->done, s->view.partial->total);
        return EXIT_STATE;
    }
    if (s->view.partial && !s->view.partial_resumable) {
        diag_error("no-transaction migration %s stopped after %ld of %ld statements, and this "
                   "bundle's version of those statements differs from what ran",
                   s->view.partial->id, s->view.partial->done, s->view.partial->total);
        return EXIT_STATE;
    }
    *to = m->nmigrations;
    if (to_rev) {
        long t = engine_resolve_target(m, to_rev);

        if (t < 0) {
            diag_error("--to %s: the bundle has no such migration", to_rev);
            return EXIT_USAGE;
        }
        *to = (size_t)t;
    }
    if (*to <= s->view.napplied && !s->view.partial)
        return EXIT_OK; /* nothing to do; the caller says so */
    if ((long long)m->serial < s->state.max_serial) {
        diag_error("bundle serial %llu is older than serial %lld, already applied to this "
                   "database (rollback protection)",
                   (unsigned long long)m->serial, s->state.max_serial);
        return EXIT_STATE;
    }
    return -1;
}

int
cmd_apply(int argc, char **argv)
{
    static const struct option longopts[] = {APP_LONGOPTS,
                                             {"to", required_argument, NULL, 't'},
                                             {"per-migration", no_argument, NULL, 'M'},
                                             {NULL, 0, NULL, 0}};
    struct app_opts o;
    struct session s;
    struct out out = {0};
    struct runner *r;
    struct bundle_cursor *cursor;
    const char *to_rev = NULL;
    int c, code, per_migration = 0;
    size_t to = 0;

    app_opts_init(&o);
    optind = 0;
    while ((c = getopt_long(argc, argv, APP_SHORTOPTS, longopts, NULL)) != -1) {
        if (app_option(&o, c, optarg, "apply"))
            continue;
        if (c == 't')
            to_rev = optarg;
        else if (c == 'M')
            per_migration = 1;
        else if (c == 'h') {
            usage_apply();
            return EXIT_OK;
        } else
            die_bad_option("apply", c, argv);
    }
    if (optind + 1 != argc)
        die_usage("apply", "expected one BUNDLE");
    app_require_keys(&o, "apply");
    out.json = o.json;
    out.quiet = o.quiet;
    out.tty = isatty(STDOUT_FILENO);

    code = session_open(&s, &o, argv[optind], 1);
    if (code != EXIT_OK || (code = session_adopt(&s, &out)) != EXIT_OK)
        goto done;
    code = preflight(&s, to_rev, &to);
    if (code >= 0) {
        if (code == EXIT_OK)
            out_info(&out, "nothing to apply: the database is at %s%s",
                     engine_revision_label(&s.bundle.manifest, s.view.napplied),
                     s.view.ahead ? " (ahead of this bundle)" : "");
        goto done;
    }
    if (!per_migration)
        warn_lock_capacity(&s, s.view.napplied, to);
    if ((code = session_create_history(&s)) != EXIT_OK)
        goto done;
    out.total = to - s.view.napplied;
    cursor = bundle_cursor_open(s.bundle_path, &s.bundle.manifest, NULL);
    r = runner_new(s.db, &s.h, &s.src, &s.bundle, cursor, &s.view, &out,
                   (per_migration ? RUNNER_PER_MIGRATION : 0) |
                       (o.compat_alembic ? RUNNER_ALEMBIC : 0));
    code = runner_apply(r, s.view.napplied, to);
    if (code == EXIT_OK)
        out_info(&out, "applied %zu migration%s; the database is at %s", out.total,
                 out.total == 1 ? "" : "s",
                 engine_revision_label(&s.bundle.manifest, runner_position(r)));
    runner_free(r);
    bundle_cursor_close(cursor);
done:
    session_close(&s);
    app_opts_release(&o);
    return code;
}
