/*
 * cmd_key.c: "sealift key rotate" and "sealift key revoke": write a key statement (keystmt.h)
 * signed by the keys that are current now, for bundles to carry (build --rotation).
 * Layer: compiler.
 */
#include "cmds.h"
#include "password.h"
#include "sealift/file.h"
#include "sealift/keystmt.h"
#include "sealift/numarg.h"
#include "sealift/seckey.h"
#include "sealift/utctime.h"
#include "sealift/verify.h"
#include "sealift/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void
usage_key(void)
{
    printf("Write a key statement that bundles carry (build --rotation FILE): a rotation\n"
           "hands trust from a key to its successor, a revocation withdraws a key for good.\n"
           "Signed by the keys given with -s: as many distinct current keys as the appliers'\n"
           "--threshold.\n\n"
           "Usage:\n"
           "  sealift key rotate -s OLD_SECRET_KEY [-s SECRET_KEY...] --new NEW_PUBLIC_KEY\n"
           "                     -o FILE [--comment TEXT] [--from-serial N]\n"
           "  sealift key revoke KEYID -s SECRET_KEY... -o FILE [--comment TEXT]\n\n"
           "Options:\n"
           "  -s, --seckey FILE     a signing secret key (repeatable); for rotate, the first\n"
           "                        is the key that is retired\n"
           "      --new FILE        rotate: the successor's public key\n"
           "      --from-serial N   rotate: the successor signs bundles of serial N and later,\n"
           "                        the old key those below N (default 0: the old key none)\n"
           "      --comment TEXT    why (kept in the statement and in each database's journal)\n"
           "  -o, --output FILE     the statement to write\n\n"
           "SOURCE_DATE_EPOCH sets the statement's creation time.\n");
}

struct key_opts {
    const char **seckeys;
    size_t nseckeys;
    size_t seckeys_cap;
    const char *newkey;
    const char *output;
    const char *comment;
    unsigned long long from_serial;
};

static int
cmp_keyid(const void *a, const void *b)
{
    const struct seckey *const *x = a, *const *y = b;

    /* As sig_keyid_hex prints them: the last byte first. */
    for (int i = SIG_KEYID_BYTES - 1; i >= 0; i--)
        if ((*x)->keyid[i] != (*y)->keyid[i])
            return (int)(*x)->keyid[i] - (int)(*y)->keyid[i];
    return 0;
}

/* Sign the statement with every key (sorted by key id, each once) and write it. */
static int
write_statement(const struct keystmt *st, struct seckey **keys, size_t n, const char *path,
                struct diag_err *err)
{
    struct buf body = BUF_INIT, text = BUF_INIT, tc = BUF_INIT;
    int fd, ret = -1;

    keystmt_format_body(st, &body);
    keystmt_trusted_comment(st, &tc);
    buf_add(&text, body.data, body.len);
    qsort(keys, n, sizeof(*keys), cmp_keyid);
    for (size_t i = 0; i < n; i++) {
        char id[SIG_KEYID_HEX];

        if (i > 0 && cmp_keyid(&keys[i - 1], &keys[i]) == 0) {
            err_set(err, "key %s is given twice", sig_keyid_hex(id, keys[i]->keyid));
            goto cleanup;
        }
        if (sig_sign(keys[i], body.data, body.len, tc.data, BUNDLE_SIG_UNTRUSTED_COMMENT, &text,
                     err) != 0)
            goto cleanup;
    }
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        err_set_io(err, "could not create \"%s\": %s", path, strerror(errno));
        goto cleanup;
    }
    if (file_write_all(fd, text.data, text.len) != 0 || fsync(fd) != 0) {
        err_set_io(err, "could not write \"%s\": %s", path, strerror(errno));
        close(fd);
        goto cleanup;
    }
    close(fd);
    ret = 0;
cleanup:
    buf_release(&body);
    buf_release(&text);
    buf_release(&tc);
    return ret;
}

static void
parse_key_option(int c, struct key_opts *k, char **argv)
{
    struct diag_err err = DIAG_ERR_INIT;

    switch (c) {
    case 's':
        k->seckeys = xgrow(k->seckeys, &k->seckeys_cap, k->nseckeys + 1, sizeof(*k->seckeys));
        k->seckeys[k->nseckeys++] = optarg;
        break;
    case 'n':
        k->newkey = optarg;
        break;
    case 'o':
        k->output = optarg;
        break;
    case 'c':
        if (strlen(optarg) > KEYSTMT_MAX_COMMENT)
            die_usage("key", "--comment is longer than %d bytes", KEYSTMT_MAX_COMMENT);
        k->comment = optarg;
        break;
    case 'f':
        if (numarg_integer("--from-serial", optarg, 0, LLONG_MAX, &k->from_serial, &err) != 0)
            die_usage("key", "%s", err.msg);
        break;
    default:
        die_bad_option("key", c, argv);
    }
}

int
cmd_key(int argc, char **argv)
{
    static const struct option longopts[] = {{"seckey", required_argument, NULL, 's'},
                                             {"new", required_argument, NULL, 'n'},
                                             {"output", required_argument, NULL, 'o'},
                                             {"comment", required_argument, NULL, 'c'},
                                             {"from-serial", required_argument, NULL, 'f'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    struct key_opts k = {0};
    struct keystmt st;
    struct seckey **keys = NULL;
    struct diag_err err = DIAG_ERR_INIT;
    const char *verb;
    long long now;
    char id[SIG_KEYID_HEX], id2[SIG_KEYID_HEX];
    int c, rotate, ret = EXIT_REJECTED;

    keystmt_init(&st);
    if (argc >= 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
        usage_key();
        return EXIT_OK;
    }
    if (argc < 2 || (strcmp(argv[1], "rotate") != 0 && strcmp(argv[1], "revoke") != 0))
        die_usage("key", "expected \"rotate\" or \"revoke\"");
    verb = argv[1];
    rotate = strcmp(verb, "rotate") == 0;
    optind = 0;
    while ((c = getopt_long(argc - 1, argv + 1, ":s:o:h", longopts, NULL)) != -1) {
        if (c == 'h') {
            usage_key();
            free(k.seckeys);
            return EXIT_OK;
        }
        parse_key_option(c, &k, argv + 1);
    }
    if (rotate ? optind != argc - 1 : optind + 1 != argc - 1)
        die_usage("key", rotate ? "key rotate takes no arguments" : "key revoke takes one KEYID");
    if (k.nseckeys == 0 || !k.output)
        die_usage("key", "both -s SECRET_KEY and -o FILE are required");
    if (rotate != (k.newkey != NULL))
        die_usage("key",
                  rotate ? "key rotate needs --new PUBLIC_KEY" : "--new is for key rotate only");
    if (!rotate && k.from_serial)
        die_usage("key", "--from-serial is for key rotate only");
    if (!rotate && sig_keyid_parse(st.subject, argv[optind + 1]) != 0)
        die_usage("key",
                  "KEYID must be 16 uppercase hex digits, as \"sealift verify\" prints "
                  "them, not \"%.40s\"",
                  argv[optind + 1]);
    if (build_time(&now) != 0)
        die(EXIT_USAGE, "SOURCE_DATE_EPOCH must be a number of seconds since 1970");
    st.kind = rotate ? KEYSTMT_ROTATION : KEYSTMT_REVOCATION;
    st.from_serial = k.from_serial;
    utc_format(now, st.created);
    snprintf(st.comment, sizeof(st.comment), "%s", k.comment ? k.comment : "");
    if (rotate && sig_pubkey_load(&st.newkey, k.newkey, &err) != 0) {
        diag_error("%s", err.msg);
        ret = EXIT_USAGE;
        goto cleanup;
    }
    keys = xcalloc(k.nseckeys, sizeof(*keys));
    for (size_t i = 0; i < k.nseckeys; i++) {
        keys[i] = seckey_load(k.seckeys[i], password_get_cb, NULL, &err);
        if (keys[i] == NULL) {
            diag_error("%s", err.msg);
            ret = EXIT_USAGE;
            goto cleanup;
        }
    }
    if (rotate) {
        memcpy(st.subject, keys[0]->keyid, SIG_KEYID_BYTES);
        if (memcmp(st.subject, st.newkey.keyid, SIG_KEYID_BYTES) == 0)
            die_usage("key", "--new is the key being retired");
    }
    if (write_statement(&st, keys, k.nseckeys, k.output, &err) != 0) {
        diag_error("%s", err.msg);
        ret = exit_code_for(&err);
        goto cleanup;
    }
    if (rotate)
        printf("wrote %s: rotation of key %s to key %s from serial %llu, %zu signature%s\n",
               k.output, sig_keyid_hex(id, st.subject), sig_keyid_hex(id2, st.newkey.keyid),
               (unsigned long long)st.from_serial, k.nseckeys, k.nseckeys == 1 ? "" : "s");
    else
        printf("wrote %s: revocation of key %s, %zu signature%s\n", k.output,
               sig_keyid_hex(id, st.subject), k.nseckeys, k.nseckeys == 1 ? "" : "s");
    ret = EXIT_OK;
cleanup:
    for (size_t i = 0; keys && i < k.nseckeys; i++)
        seckey_free(keys[i]);
    free(keys);
    free(k.seckeys);
    keystmt_release(&st);
    return ret;
}
