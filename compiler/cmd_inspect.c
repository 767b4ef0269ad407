/*
 * cmd_inspect.c: "sealift inspect": describe a bundle, text or JSON. Member checksums are
 * always checked; signatures only when trusted keys are given.
 * Layer: compiler.
 */
#include "cmds.h"
#include "sealift/describe.h"
#include "sealift/verify.h"

#include <getopt.h>
#include <stdio.h>

static void
usage_inspect(void)
{
    printf("Describe a bundle: project, serial, environment, signatures, migrations and\n"
           "members. Member checksums are checked; signatures are checked when -p is given.\n\n"
           "Usage:\n  sealift inspect BUNDLE [--json] [-p PUBLIC_KEY...]\n");
}

int
cmd_inspect(int argc, char **argv)
{
    static const struct option longopts[] = {{"json", no_argument, NULL, 'J'},
                                             {"pubkey", required_argument, NULL, 'p'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    struct sig_keyring ring;
    /* Scripts kept in memory: inspect shows the provenance member's text. */
    struct verify_options vo = {NULL, 0, 1, 0, 1, 0, 0, 0};
    struct verify_result res;
    struct diag_err err = DIAG_ERR_INIT;
    struct buf out = BUF_INIT;
    int c, json = 0, ret = EXIT_REJECTED;

    sig_keyring_init(&ring);
    verify_result_init(&res);
    optind = 0;
    while ((c = getopt_long(argc, argv, ":p:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'J':
            json = 1;
            break;
        case 'p':
            if (sig_keyring_add_file(&ring, optarg, &err) != 0)
                die(EXIT_USAGE, "%s", err.msg);
            break;
        case 'h':
            usage_inspect();
            return EXIT_OK;
        default:
            die_bad_option("inspect", c, argv);
        }
    }
    if (optind + 1 != argc)
        die_usage("inspect", "expected one BUNDLE");
    vo.keys = ring.keys;
    vo.nkeys = ring.n;
    vo.require_trust = ring.n > 0;
    if (bundle_verify(argv[optind], &vo, &res, &err) != 0) {
        diag_error("%s", err.msg);
        ret = exit_code_for(&err);
        goto cleanup;
    }
    if (json)
        describe_json(argv[optind], &res, ring.n > 0, &out);
    else
        describe_text(argv[optind], &res, ring.n > 0, &out);
    fputs(out.data, stdout);
    ret = EXIT_OK;
cleanup:
    buf_release(&out);
    verify_result_release(&res);
    sig_keyring_release(&ring);
    return ret;
}
