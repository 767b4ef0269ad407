/*
 * cmd_keys.c: "sealift-apply keys": the key state a database's journal records (rotations,
 * revocations), checked against the trusted keys when they are given.
 * Layer: applier.
 */
#include "cmds.h"
#include "common.h"
#include "journal.h"
#include "sealift/json.h"
#include "trust_check.h"

#include <stdio.h>

static void
usage_keys(void)
{
    printf("Show the signing keys this database knows of: those the journal records as rotated\n"
           "in, retired or revoked, and the trusted keys given with -p. With -p, each recorded\n"
           "statement is checked against those keys (a statement that does not verify is\n"
           "ignored, with a warning); without, the journal is shown as recorded.\n\n"
           "Usage:\n  sealift-apply keys [-p PUBLIC_KEY...] [OPTIONS]\n\n"
           "Options:\n" APP_USAGE_BUNDLE APP_USAGE_DB APP_USAGE_OUT);
}

static void
key_json(const struct trust_key *k, struct buf *b)
{
    char id[SIG_KEYID_HEX];

    buf_addch(b, '{');
    json_key(b, "event", 1);
    json_str(b, "key");
    json_key(b, "key_id", 0);
    json_str(b, sig_keyid_hex(id, k->keyid));
    json_key(b, "state", 0);
    json_str(b, trust_state_name(k->state));
    json_key(b, "trusted_key_given", 0);
    buf_addstr(b, k->anchor ? "true" : "false");
    json_key(b, "since", 0);
    json_str(b, k->changed[0] ? k->changed : NULL);
    json_key(b, "from_serial", 0);
    buf_addf(b, "%llu", (unsigned long long)k->from_serial);
    json_key(b, "successor", 0);
    json_str(b, k->have_successor ? sig_keyid_hex(id, k->successor) : NULL);
    buf_addstr(b, "}\n");
}

static void
key_text(const struct trust_key *k, struct buf *b)
{
    char id[SIG_KEYID_HEX], next[SIG_KEYID_HEX];

    buf_addf(b, "key %s  %-8s", sig_keyid_hex(id, k->keyid), trust_state_name(k->state));
    if (k->state == TRUST_RETIRED && k->have_successor)
        buf_addf(b, "  on %s, replaced by %s", k->changed, sig_keyid_hex(next, k->successor));
    else if (k->state != TRUST_CURRENT)
        buf_addf(b, "  on %s", k->changed);
    else if (k->changed[0])
        buf_addf(b, "  since %s, signs serial %llu and later", k->changed,
                 (unsigned long long)k->from_serial);
    buf_addstr(b, k->anchor ? "  (trusted key given)\n" : "\n");
}

int
cmd_keys(int argc, char **argv)
{
    static const struct option longopts[] = {APP_OPTS_BUNDLE, APP_OPTS_DB, APP_OPTS_OUT,
                                             APP_OPT_HELP, APP_OPT_END};
    struct app_opts o;
    struct history_ctx h;
    struct trust_set t;
    struct db *db = NULL;
    struct db_error e;
    struct buf out = BUF_INIT;
    int c, code = EXIT_OK, exists;

    app_opts_init(&o);
    optind = 0;
    while ((c = getopt_long(argc, argv, APP_SHORTOPTS, longopts, NULL)) != -1) {
        if (app_option(&o, c, optarg, "keys"))
            continue;
        if (c == 'h') {
            usage_keys();
            return EXIT_OK;
        }
        app_bad_option("keys", c, argv);
    }
    if (optind != argc)
        app_usage("keys", "unexpected argument \"%s\"", argv[optind]);
    app_settle(&o, "keys");
    if (o.ring.n && o.threshold > o.ring.n)
        app_usage("keys", "--threshold %u is more than the %zu distinct keys given", o.threshold,
                  o.ring.n);
    history_ctx_init(&h, o.schema, "");
    trust_set_init(&t, o.ring.keys, o.ring.n, o.threshold);
    t.unverified = o.ring.n == 0;
    db = app_connect(&o, &code);
    if (db == NULL)
        goto done;
    exists = journal_exists(db, &h, &e);
    if (exists < 0) {
        app_error("could not read schema \"%s\": %s", o.schema, e.message);
        code = EXIT_FAILED;
        goto done;
    }
    if (exists && (code = trust_load_journal(db, &h, &t)) != EXIT_OK)
        goto done;
    for (size_t i = 0; i < t.n; i++) {
        if (o.json)
            key_json(&t.v[i], &out);
        else
            key_text(&t.v[i], &out);
    }
    if (!o.json && t.n == 0)
        buf_addf(&out, "no key rotations or revocations recorded in schema \"%s\"\n", o.schema);
    if (!o.quiet || o.json)
        fputs(out.data, stdout);
done:
    buf_release(&out);
    trust_set_release(&t);
    db_close(db);
    history_ctx_release(&h);
    app_opts_release(&o);
    return code;
}
