/*
 * cmd_stamp.c: "sealift-apply stamp BUNDLE REV": record REV and everything before it as
 * applied, without running any SQL (for a database brought to REV by other means); below the
 * head, record the migrations after REV as not applied.
 * Layer: applier.
 */
#include "cmds.h"
#include "move.h"

#include <stdio.h>

static void
usage_stamp(void)
{
    printf("Record REV and every migration before it as applied, without running them: for a\n"
           "database that already has their effect. A REV below the database's head moves the\n"
           "record back: the migrations after REV are recorded as not applied (their SQL, up\n"
           "or down, is not run), so that a wrong stamp can be undone. A stamp at the head\n"
           "records the pending repeatables too, as run with their current checksums.\n\n"
           "Usage:\n  sealift-apply stamp BUNDLE REV -p PUBLIC_KEY... [OPTIONS]\n\n"
           "Options:\n" APP_USAGE_BUNDLE APP_USAGE_DB APP_USAGE_DRIFT_MOVE APP_USAGE_LOCK
               APP_USAGE_WITNESS APP_USAGE_ALLOW_EXPIRED APP_USAGE_OUT);
}

int
cmd_stamp(int argc, char **argv)
{
    static const struct option longopts[] = {
        APP_OPTS_BUNDLE, APP_OPTS_DB,         APP_OPTS_OUT,          APP_OPT_LOCK, APP_OPT_WITNESS,
        APP_OPT_HELP,    APP_OPTS_DRIFT_MOVE, APP_OPT_ALLOW_EXPIRED, APP_OPT_END};
    /* REV is an argument: messages name it alone, not as "--to REV". */
    struct move_request rq = {MOVE_STAMP, NULL, ""};
    struct app_opts o;
    int c, code;

    app_opts_init(&o);
    optind = 0;
    while ((c = getopt_long(argc, argv, APP_SHORTOPTS, longopts, NULL)) != -1) {
        if (app_option(&o, c, optarg, "stamp"))
            continue;
        if (c == 'h') {
            usage_stamp();
            return EXIT_OK;
        }
        app_bad_option("stamp", c, argv);
    }
    if (optind + 2 != argc)
        app_usage("stamp", "expected BUNDLE and REV");
    app_require_keys(&o, "stamp");
    rq.to = argv[optind + 1];
    code = move_run(&o, argv[optind], &rq, 0);
    app_opts_release(&o);
    return code;
}
