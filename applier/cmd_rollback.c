/*
 * cmd_rollback.c: "sealift-apply rollback BUNDLE --to REV|base": run down scripts, newest
 * first, back to REV.
 * Layer: applier.
 */
#include "cmds.h"
#include "runner.h"
#include "session.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void
usage_rollback(void)
{
    printf("Roll the database back to REV (\"base\" = before the first migration) by running\n"
           "down scripts in reverse order. Refuses to cross an irreversible migration.\n\n"
           "Usage:\n  sealift-apply rollback BUNDLE --to REV -p PUBLIC_KEY... [OPTIONS]\n\n"
           "Options:\n" APP_USAGE_BUNDLE APP_USAGE_DB
           "      --to REV          the revision to go back to (id, ID_NAME or base)\n"
           "      --per-migration   commit each rollback step on its own\n" APP_USAGE_COMPAT
               APP_USAGE_LOCK APP_USAGE_OUT);
}

int
cmd_rollback(int argc, char **argv)
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
    const struct manifest *m;
    int c, code, per_migration = 0;
    long to;

    app_opts_init(&o);
    optind = 0;
    while ((c = getopt_long(argc, argv, APP_SHORTOPTS, longopts, NULL)) != -1) {
        if (app_option(&o, c, optarg, "rollback"))
            continue;
        if (c == 't')
            to_rev = optarg;
        else if (c == 'M')
            per_migration = 1;
        else if (c == 'h') {
            usage_rollback();
            return EXIT_OK;
        } else
            die_bad_option("rollback", c, argv);
    }
    if (optind + 1 != argc)
        die_usage("rollback", "expected one BUNDLE");
    if (to_rev == NULL)
        die_usage("rollback", "--to REV is required (use --to base to undo everything)");
    app_require_keys(&o, "rollback");
    out.json = o.json;
    out.quiet = o.quiet;
    out.tty = isatty(STDOUT_FILENO);

    code = session_open(&s, &o, argv[optind], 1);
    /* A database another tool managed: what it ran is recorded first, then rolled back. */
    if (code != EXIT_OK || (code = session_adopt(&s, &out)) != EXIT_OK)
        goto done;
    m = &s.bundle.manifest;
    if ((code = session_check_drift(&s)) != EXIT_OK ||
        (code = session_check_environment(&s)) != EXIT_OK)
        goto done;
    if (s.view.ahead) {
        diag_error("the database has migrations after this bundle's head; roll back with the "
                   "bundle that applied them");
        code = EXIT_STATE;
        goto done;
    }
    if (s.view.partial && strcmp(s.view.partial->direction, "up") == 0) {
        diag_error("no-transaction migration %s stopped after %ld of %ld statements; finish it "
                   "with \"sealift-apply apply\" before rolling back",
                   s.view.partial->id, s.view.partial->done, s.view.partial->total);
        code = EXIT_STATE;
        goto done;
    }
    to = engine_resolve_target(m, to_rev);
    if (to < 0) {
        diag_error("--to %s: the bundle has no such migration", to_rev);
        code = EXIT_USAGE;
        goto done;
    }
    if ((size_t)to >= s.view.napplied) {
        out_info(&out, "nothing to roll back: the database is at %s",
                 engine_revision_label(m, s.view.napplied));
        code = EXIT_OK;
        goto done;
    }
    /* Every step must be possible before the first one runs. */
    for (size_t i = s.view.napplied; i > (size_t)to; i--) {
        if (!m->migrations[i - 1].script[MANIFEST_DOWN].present) {
            diag_error("cannot roll back to %s: migration %s is irreversible (it has no down "
                       "script)",
                       engine_revision_label(m, (size_t)to), engine_revision_label(m, i));
            code = EXIT_STATE;
            goto done;
        }
    }
    out.total = s.view.napplied - (size_t)to;
    cursor = bundle_cursor_open(s.bundle_path, &s.bundle.manifest, NULL);
    r = runner_new(s.db, &s.h, &s.src, &s.bundle, cursor, &s.view, &out,
                   (per_migration ? RUNNER_PER_MIGRATION : 0) |
                       (o.compat_alembic ? RUNNER_ALEMBIC : 0));
    code = runner_rollback(r, s.view.napplied, (size_t)to);
    if (code == EXIT_OK)
        out_info(&out, "rolled back %zu migration%s; the database is at %s", out.total,
                 out.total == 1 ? "" : "s", engine_revision_label(m, runner_position(r)));
    runner_free(r);
    bundle_cursor_close(cursor);
done:
    session_close(&s);
    app_opts_release(&o);
    return code;
}
