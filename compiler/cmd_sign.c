/*
 * cmd_sign.c: "sealift sign": add a co-signature to a bundle. The bundle is checked first
 * (every member against the manifest; with -p, the existing signatures too) and rewritten
 * with the new signature in its place, everything else byte for byte the same.
 * Layer: compiler.
 */
#include "cmds.h"
#include "emit.h"
#include "password.h"
#include "sealift/seckey.h"
#include "sealift/verify.h"
#include "sealift/xalloc.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

static void
usage_sign(void)
{
    printf("Add a co-signature by another key to a bundle.\n\n"
           "Usage:\n  sealift sign BUNDLE -s SECRET_KEY [-p PUBLIC_KEY...] [-o OUT]\n\n"
           "Options:\n"
           "  -s, --seckey FILE   the co-signer's secret key\n"
           "  -p, --pubkey FILE   refuse unless the bundle already verifies with these keys\n"
           "  -o, --output FILE   write the co-signed bundle here (default: in place)\n");
}

int
cmd_sign(int argc, char **argv)
{
    static const struct option longopts[] = {{"seckey", required_argument, NULL, 's'},
                                             {"pubkey", required_argument, NULL, 'p'},
                                             {"output", required_argument, NULL, 'o'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    const char *seckey = NULL, *output = NULL, *bundle;
    struct sig_keyring ring;
    struct verify_options vo = {NULL, 0, 1, 0, 1, 0, 0, 0};
    struct verify_result res;
    struct diag_err err = DIAG_ERR_INIT;
    struct emit_signatures sigs;
    struct seckey *key = NULL;
    struct emit_source *data = NULL;
    struct bundle_cursor *cursor = NULL;
    char id[SIG_KEYID_HEX];
    int c, ret = EXIT_REJECTED;

    sig_keyring_init(&ring);
    verify_result_init(&res);
    emit_signatures_init(&sigs);
    optind = 0;
    while ((c = getopt_long(argc, argv, ":s:p:o:h", longopts, NULL)) != -1) {
        switch (c) {
        case 's':
            seckey = optarg;
            break;
        case 'p':
            if (sig_keyring_add_file(&ring, optarg, &err) != 0)
                die(EXIT_USAGE, "%s", err.msg);
            break;
        case 'o':
            output = optarg;
            break;
        case 'h':
            usage_sign();
            return EXIT_OK;
        default:
            die_bad_option("sign", c, argv);
        }
    }
    if (optind + 1 != argc)
        die_usage("sign", "expected one BUNDLE");
    if (!seckey)
        die_usage("sign", "-s SECRET_KEY is required");
    bundle = argv[optind];
    vo.keys = ring.keys;
    vo.nkeys = ring.n;
    vo.require_trust = ring.n > 0;
    if (bundle_verify(bundle, &vo, &res, &err) != 0) {
        diag_error("%s", err.msg);
        ret = exit_code_for(&err);
        goto cleanup;
    }
    key = seckey_load(seckey, password_get_cb, NULL, &err);
    if (key == NULL) {
        diag_error("%s", err.msg);
        ret = EXIT_USAGE;
        goto cleanup;
    }
    for (size_t i = 0; i < res.nsigs; i++)
        if (emit_signatures_add(&sigs, res.sigs[i].member, res.sigs[i].text.data,
                                res.sigs[i].text.len, &err) != 0)
            goto fail;
    if (emit_sign(&sigs, &res.manifest, &res.manifest_text, key, &err) != 0)
        goto fail;
    data = xcalloc(res.manifest.nmembers ? res.manifest.nmembers : 1, sizeof(*data));
    cursor = bundle_cursor_open(bundle, &res.manifest, &err);
    for (size_t i = 0; i < res.manifest.nmembers; i++) {
        /* Data members were not kept in memory: they are copied from the bundle, re-hashed. */
        if (res.manifest.members[i].is_data)
            data[i].cursor = cursor;
        else
            data[i].data = &res.data[i];
    }
    if (emit_bundle(output ? output : bundle, res.compression, res.mtime, &res.manifest_text, &sigs,
                    &res.manifest, data, &err) != 0) {
        diag_error("%s", err.msg);
        ret = EXIT_USAGE;
        goto cleanup;
    }
    printf("signed %s with key %s (%zu signature%s)\n", output ? output : bundle,
           sig_keyid_hex(id, key->keyid), sigs.n, sigs.n == 1 ? "" : "s");
    ret = EXIT_OK;
    goto cleanup;
fail:
    diag_error("%s", err.msg);
cleanup:
    bundle_cursor_close(cursor);
    free(data);
    seckey_free(key);
    emit_signatures_release(&sigs);
    verify_result_release(&res);
    sig_keyring_release(&ring);
    return ret;
}
