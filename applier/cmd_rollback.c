/*
 * cmd_rollback.c: "sealift-apply rollback BUNDLE --to REV|base": run down scripts, newest
 * first, back to REV.
 * Layer: applier.
 */
#include "cmds.h"
#include "move.h"

#include <stdio.h>

static void
usage_rollback(void)
{
    printf("Roll the database back to REV (\"base\" = before the first migration) by running\n"
           "down scripts in reverse order. Refuses to cross an irreversible migration, and a\n"
           "REV the database has not reached.\n\n"
           "Usage:\n  sealift-apply rollback BUNDLE --to REV -p PUBLIC_KEY... [OPTIONS]\n\n"
           "Options:\n" APP_USAGE_BUNDLE APP_USAGE_DB
           "      --to REV          the revision to go back to (id, ID_NAME or base)\n"
           "      --per-migration   commit each rollback step on its own\n" APP_USAGE_COMPAT
               APP_USAGE_LOCK APP_USAGE_OUT);
}

int
cmd_rollback(int argc, char **argv)
{
    static const struct option longopts[] = {APP_OPTS_BUNDLE, APP_OPTS_DB,    APP_OPTS_OUT,
                                             APP_OPT_LOCK,    APP_OPT_COMPAT, APP_OPT_PER_MIGRATION,
                                             APP_OPT_TO,      APP_OPT_HELP,   APP_OPT_END};
    struct move_request rq = {MOVE_ROLLBACK, NULL, NULL};
    struct app_opts o;
    int c, code, per_migration = 0;

    app_opts_init(&o);
    optind = 0;
    while ((c = getopt_long(argc, argv, APP_SHORTOPTS, longopts, NULL)) != -1) {
        if (app_option(&o, c, optarg, "rollback"))
            continue;
        if (c == 't')
            rq.to = optarg;
        else if (c == 'M')
            per_migration = 1;
        else if (c == 'h') {
            usage_rollback();
            return EXIT_OK;
        } else
            app_bad_option("rollback", c, argv);
    }
    if (optind + 1 != argc)
        app_usage("rollback", "expected one BUNDLE");
    if (rq.to == NULL)
        app_usage("rollback", "--to REV is required (use --to base to undo everything)");
    app_require_keys(&o, "rollback");
    /* A database another tool managed: what it ran is recorded first, then rolled back. */
    code = move_run(&o, argv[optind], &rq, per_migration);
    app_opts_release(&o);
    return code;
}
