/*
 * cmd_verify.c: "sealift verify": signatures (with a threshold) and every checksum.
 * Layer: compiler. The applier has the same command; both call lib/verify.c.
 */
#include "cmds.h"
#include "sealift/describe.h"
#include "sealift/utctime.h"
#include "sealift/numarg.h"
#include "sealift/verify.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static void
usage_verify(void)
{
    printf("Verify a bundle: its signatures by trusted keys, then every member's size and\n"
           "SHA-256 against the signed manifest.\n\n"
           "Usage:\n  sealift verify BUNDLE -p PUBLIC_KEY... [--threshold N] [--json | "
           "-q]\n\nOptions:\n"
           "  -p, --pubkey FILE   a trusted public key (repeatable)\n"
           "      --threshold N   distinct trusted keys that must have signed (default 1)\n"
           "      --json          describe the verified bundle as JSON\n"
           "  -q, --quiet         print nothing; the exit code says it all\n");
}

int
cmd_verify(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"pubkey", required_argument, NULL, 'p'}, {"threshold", required_argument, NULL, 'T'},
        {"json", no_argument, NULL, 'J'},         {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0}};
    struct sig_keyring ring;
    /* The manifest streams: verify never writes it out again (only sign does). */
    struct verify_options vo = {NULL, 0, 1, 1, 0, 0, 0, 1};
    struct verify_result res;
    struct diag_err err = DIAG_ERR_INIT;
    struct buf out = BUF_INIT;
    int c, json = 0, quiet = 0, ret = EXIT_REJECTED;
    /* Read once, at the start: the expiry is judged against this time. */
    long long now = (long long)time(NULL);

    sig_keyring_init(&ring);
    verify_result_init(&res);
    optind = 0;
    while ((c = getopt_long(argc, argv, ":p:qh", longopts, NULL)) != -1) {
        switch (c) {
        case 'p':
            if (sig_keyring_add_file(&ring, optarg, &err) != 0)
                die(EXIT_USAGE, "%s", err.msg);
            break;
        case 'T':
            if (numarg_uint("--threshold", optarg, 1, VERIFY_MAX_SIGNATURES, &vo.threshold, &err) !=
                0)
                die_usage("verify", "%s", err.msg);
            break;
        case 'J':
            json = 1;
            break;
        case 'q':
            quiet = 1;
            break;
        case 'h':
            usage_verify();
            return EXIT_OK;
        default:
            die_bad_option("verify", c, argv);
        }
    }
    if (optind + 1 != argc)
        die_usage("verify", "expected one BUNDLE");
    if (ring.n == 0)
        die_usage("verify", "at least one trusted public key (-p) is required");
    if (vo.threshold > ring.n)
        die_usage("verify", "--threshold %u is more than the %zu distinct keys given", vo.threshold,
                  ring.n);
    vo.keys = ring.keys;
    vo.nkeys = ring.n;
    if (bundle_verify(argv[optind], &vo, &res, &err) != 0) {
        diag_error("%s", err.msg);
        ret = exit_code_for(&err);
        goto cleanup;
    }
    if (json)
        describe_json(argv[optind], &res, 1, &out);
    else
        describe_verified(argv[optind], &res, &out);
    if (!quiet)
        fputs(out.data, stdout);
    ret = EXIT_OK;
    if (utc_expired(res.manifest.expires, now)) {
        fflush(stdout);
        diag_error("%s: expired on %s", argv[optind], res.manifest.expires);
        ret = EXIT_REJECTED;
    }
cleanup:
    buf_release(&out);
    verify_result_release(&res);
    sig_keyring_release(&ring);
    return ret;
}
