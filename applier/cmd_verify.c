/*
 * cmd_verify.c: "sealift-apply verify BUNDLE": signatures and every checksum, no database.
 * Layer: applier.
 */
#include "cmds.h"
#include "common.h"
#include "trust_check.h"
#include "sealift/describe.h"

#include <stdio.h>

static void
usage_verify(void)
{
    printf("Verify a bundle without touching any database: its signatures by trusted keys,\n"
           "then every member's size and SHA-256 against the signed manifest.\n\n"
           "Usage:\n  sealift-apply verify BUNDLE -p PUBLIC_KEY... [OPTIONS]\n\n"
           "Options:\n" APP_USAGE_BUNDLE APP_USAGE_OUT);
}

int
cmd_verify(int argc, char **argv)
{
    /* No database: -d, --schema, --compat and --lock-timeout are refused, not ignored. */
    static const struct option longopts[] = {APP_OPTS_BUNDLE, APP_OPTS_OUT, APP_OPT_HELP,
                                             APP_OPT_END};
    struct app_opts o;
    struct verify_result res;
    struct buf out = BUF_INIT;
    int c, code;

    app_opts_init(&o);
    verify_result_init(&res);
    optind = 0;
    while ((c = getopt_long(argc, argv, APP_SHORTOPTS_NO_DB, longopts, NULL)) != -1) {
        if (app_option(&o, c, optarg, "verify"))
            continue;
        if (c == 'h') {
            usage_verify();
            return EXIT_OK;
        }
        app_bad_option("verify", c, argv);
    }
    if (optind + 1 != argc)
        app_usage("verify", "expected one BUNDLE");
    app_require_keys(&o, "verify");
    code = trust_load_bundle(&o, argv[optind], &res, 0);
    if (code == EXIT_OK) {
        if (o.json)
            describe_json(argv[optind], &res, 1, &out);
        else
            describe_verified(argv[optind], &res, &out);
        if (!o.quiet)
            fputs(out.data, stdout);
        fflush(stdout);
        code = trust_check_expiry(&o, argv[optind], &res, NULL);
    }
    buf_release(&out);
    verify_result_release(&res);
    app_opts_release(&o);
    return code;
}
