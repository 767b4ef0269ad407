/*
 * cmd_apply.c: "sealift-apply apply BUNDLE [--to REV] [--per-migration]".
 * Layer: applier.
 */
#include "cmds.h"
#include "move.h"

#include <stdio.h>

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

int
cmd_apply(int argc, char **argv)
{
    static const struct option longopts[] = {APP_OPTS_BUNDLE, APP_OPTS_DB,    APP_OPTS_OUT,
                                             APP_OPT_LOCK,    APP_OPT_COMPAT, APP_OPT_PER_MIGRATION,
                                             APP_OPT_TO,      APP_OPT_HELP,   APP_OPT_END};
    struct move_request rq = {MOVE_APPLY, NULL, NULL};
    struct app_opts o;
    int c, code, per_migration = 0;

    app_opts_init(&o);
    optind = 0;
    while ((c = getopt_long(argc, argv, APP_SHORTOPTS, longopts, NULL)) != -1) {
        if (app_option(&o, c, optarg, "apply"))
            continue;
        if (c == 't')
            rq.to = optarg;
        else if (c == 'M')
            per_migration = 1;
        else if (c == 'h') {
            usage_apply();
            return EXIT_OK;
        } else
            app_bad_option("apply", c, argv);
    }
    if (optind + 1 != argc)
        app_usage("apply", "expected one BUNDLE");
    app_require_keys(&o, "apply");
    code = move_run(&o, argv[optind], &rq, per_migration);
    app_opts_release(&o);
    return code;
}
