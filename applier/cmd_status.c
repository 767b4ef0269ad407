/*
 * cmd_status.c: "sealift-apply status BUNDLE": applied, pending, drift (status.c). Exit 0 at
 * head, 7 when migrations are pending, 3 when apply would refuse or the history has
 * migrations this bundle does not know.
 * Layer: applier.
 */
#include "cmds.h"
#include "status.h"

#include <stdio.h>

static void
usage_status(void)
{
    printf("Show what the database has applied from this bundle's chain, what is pending, and\n"
           "any drift; the bundle's repeatables, new or changed ones as pending. Exit 0 at the\n"
           "bundle's head, 7 when migrations or repeatables are pending, 3 on drift\n"
           "(of the history, or with --schema-drift of the schema).\n\n"
           "Usage:\n  sealift-apply status BUNDLE -p PUBLIC_KEY... [OPTIONS]\n\n"
           "Options:\n" APP_USAGE_BUNDLE APP_USAGE_DB APP_USAGE_DRIFT_STATUS APP_USAGE_ALLOW_EXPIRED
               APP_USAGE_OUT);
}

int
cmd_status(int argc, char **argv)
{
    static const struct option longopts[] = {
        APP_OPTS_BUNDLE, APP_OPTS_DB,           APP_OPTS_OUT,          APP_OPT_ADOPT_TABLE,
        APP_OPT_HELP,    APP_OPTS_DRIFT_STATUS, APP_OPT_ALLOW_EXPIRED, APP_OPT_END};
    struct app_opts o;
    int c, code;

    app_opts_init(&o);
    optind = 0;
    while ((c = getopt_long(argc, argv, APP_SHORTOPTS, longopts, NULL)) != -1) {
        if (app_option(&o, c, optarg, "status"))
            continue;
        if (c == 'h') {
            usage_status();
            return EXIT_OK;
        }
        app_bad_option("status", c, argv);
    }
    if (optind + 1 != argc)
        app_usage("status", "expected one BUNDLE");
    app_require_keys(&o, "status");
    code = status_run(&o, argv[optind]);
    app_opts_release(&o);
    return code;
}
