/*
 * cmd_plan.c: "sealift-apply plan BUNDLE [--to REV]": print, changing nothing, the psql
 * script that apply (or rollback, for a REV behind the database) would run (plan.c).
 * Layer: applier.
 */
#include "cmds.h"
#include "plan.h"

#include <stdio.h>

static void
usage_plan(void)
{
    printf("Print the psql script that apply would run (with \"-- Running upgrade A -> B\"\n"
           "markers and the history writes), without changing anything. With --to REV behind\n"
           "the database, print the rollback instead. Run it with\n"
           "  psql -X -v ON_ERROR_STOP=1 -f plan.sql\n\n"
           "Usage:\n  sealift-apply plan BUNDLE -p PUBLIC_KEY... [--to REV] [OPTIONS]\n\n"
           "Options:\n" APP_USAGE_BUNDLE APP_USAGE_DB APP_USAGE_COMPAT APP_USAGE_ADOPT_TABLE
               APP_USAGE_ALLOW_EXPIRED "      --to REV          plan up to (or back to) REV\n"
           "      --per-migration   one transaction per migration\n"
           "      --review          print the migrations' own SQL for reading, each script\n"
           "                        under a header (migration, direction, transaction,\n"
           "                        findings and risk), without the history writes\n");
}

int
cmd_plan(int argc, char **argv)
{
    static const struct option longopts[] = {
        APP_OPTS_BUNDLE,       APP_OPTS_DB, APP_OPT_COMPAT, APP_OPT_ADOPT_TABLE,
        APP_OPT_PER_MIGRATION, APP_OPT_TO,  APP_OPT_REVIEW, APP_OPT_HELP,
        APP_OPT_ALLOW_EXPIRED, APP_OPT_END};
    struct app_opts o;
    const char *to = NULL;
    int c, code, per_migration = 0, review = 0;

    app_opts_init(&o);
    optind = 0;
    while ((c = getopt_long(argc, argv, APP_SHORTOPTS_NO_OUT, longopts, NULL)) != -1) {
        if (app_option(&o, c, optarg, "plan"))
            continue;
        if (c == 't')
            to = optarg;
        else if (c == 'M')
            per_migration = 1;
        else if (c == APP_OPTC_REVIEW)
            review = 1;
        else if (c == 'h') {
            usage_plan();
            return EXIT_OK;
        } else
            app_bad_option("plan", c, argv);
    }
    if (optind + 1 != argc)
        app_usage("plan", "expected one BUNDLE");
    app_require_keys(&o, "plan");
    code = plan_run(&o, argv[optind], to, per_migration, review);
    app_opts_release(&o);
    return code;
}
