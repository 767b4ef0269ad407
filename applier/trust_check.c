/*
 * trust_check.c: expiry, clock and key decisions of the applier (trust_check.h).
 * Layer: applier. The rules themselves are lib/trust.c's; this file brings them the bundle,
 * the database's journal and the time.
 */
#include "trust_check.h"
#include "scriptsrc.h"
#include "common.h"
#include "journal.h"
#include "sealift/keystmt.h"
#include "sealift/xalloc.h"

#include <stdlib.h>
#include <string.h>

void
trust_run_release(struct trust_run *run)
{
    trust_set_release(&run->set);
    free(run->record);
    memset(run, 0, sizeof(*run));
}

/* The bundle's statement i: its text (kept in res->data) parsed into st. */
static const struct buf *
bundle_statement(const struct verify_result *res, size_t i, struct keystmt *st,
                 struct diag_err *err)
{
    const struct manifest *m = &res->manifest;
    const struct buf *text = &res->data[m->keystmts[i]];

    if (keystmt_parse(st, text->data, text->len, err) != 0) {
        err_prefix(err, "%s", m->members[m->keystmts[i]].path);
        return NULL;
    }
    return text;
}

/*
 * Apply the bundle's statements to t in order; record (when not NULL) gets those that changed
 * it. Returns 0, or -1 with err set.
 */
static int
apply_bundle_statements(struct trust_set *t, const struct verify_result *res,
                        struct trust_run *record, struct diag_err *err)
{
    for (size_t i = 0; i < res->manifest.nkeystmts; i++) {
        struct keystmt st;
        const struct buf *text;
        int r;

        keystmt_init(&st);
        text = bundle_statement(res, i, &st, err);
        r = text ? trust_apply(t, &st, text->data, err) : -1;
        keystmt_release(&st);
        if (r < 0)
            return err_prefix(err, "%s", res->manifest.members[res->manifest.keystmts[i]].path);
        if (r == TRUST_APPLIED && record) {
            record->record = xgrow(record->record, &record->record_cap, record->nrecord + 1,
                                   sizeof(*record->record));
            record->record[record->nrecord++] = text;
        }
    }
    return 0;
}

/* Refuse unless the threshold of res's signers are current in t. */
static int
check_signers(const struct trust_set *t, const char *path, const struct verify_result *res,
              const char *where)
{
    struct buf why = BUF_INIT;
    size_t n = trust_count_signers(t, res, &why);

    if (n >= t->threshold) {
        buf_release(&why);
        return EXIT_OK;
    }
    app_error("%s: %zu signature%s by current keys%s, fewer than the threshold of %u", path, n,
              n == 1 ? "" : "s", where, t->threshold);
    if (why.len)
        app_detail("%s", why.data);
    buf_release(&why);
    return EXIT_REJECTED;
}

int
trust_load_bundle(const struct app_opts *o, const char *path, struct verify_result *res,
                  int all_scripts)
{
    /* Small down scripts are kept, up to a bound; the others are read again when they run. */
    struct script_keep keep = {NULL};
    int (*keep_cb)(const struct manifest *, size_t, uint64_t, void *) =
        all_scripts ? NULL : script_keep;
    /* The applier never writes the manifest out again: its parse is all it keeps. */
    struct verify_options vo = {o->ring.keys, o->ring.n, o->threshold, 1, 1, keep_cb, &keep, 1};
    struct diag_err err = DIAG_ERR_INIT, first = DIAG_ERR_INIT;
    struct verify_result untrusted;
    struct trust_set t;
    struct sig_keyring ring;
    unsigned char id[HASH_SHA256_BYTES];
    int code = EXIT_REJECTED;

    trust_set_init(&t, o->ring.keys, o->ring.n, o->threshold);
    sig_keyring_init(&ring);
    verify_result_init(&untrusted);
    if (bundle_verify(path, &vo, res, &first) != 0) {
        if (first.io) {
            app_error("%s", first.msg);
            code = EXIT_USAGE;
            goto cleanup;
        }
        /*
         * Not signed by the trusted keys: maybe by their successors. The statements are
         * read from the bundle before it is trusted, which is safe because each one is
         * checked against keys we already trust, not against the bundle.
         */
        vo.require_trust = 0;
        vo.keep = NULL;
        vo.keep_arg = NULL;
        script_keep_release(&keep);
        if (bundle_verify(path, &vo, &untrusted, &err) != 0 || untrusted.manifest.nkeystmts == 0) {
            app_error("%s", first.msg);
            goto cleanup;
        }
        if (apply_bundle_statements(&t, &untrusted, NULL, &err) != 0) {
            app_error("%s: %s", path, err.msg);
            goto cleanup;
        }
        trust_signing_keys(&t, untrusted.manifest.serial, &ring);
        memcpy(id, untrusted.bundle_id, sizeof(id));
        vo.keys = ring.keys;
        vo.nkeys = ring.n;
        vo.require_trust = 1;
        vo.keep = keep_cb;
        vo.keep_arg = &keep;
        if (ring.n == 0 || bundle_verify(path, &vo, res, &err) != 0) {
            app_error("%s", ring.n ? err.msg : first.msg);
            goto cleanup;
        }
        if (memcmp(id, res->bundle_id, sizeof(id)) != 0) {
            app_error("%s: the bundle changed while it was read", path);
            goto cleanup;
        }
    } else if (apply_bundle_statements(&t, res, NULL, &err) != 0) {
        app_error("%s: %s", path, err.msg);
        goto cleanup;
    }
    code = check_signers(&t, path, res, " after the bundle's key statements");
cleanup:
    script_keep_release(&keep);
    if (code != EXIT_OK)
        verify_result_release(res);
    verify_result_release(&untrusted);
    sig_keyring_release(&ring);
    trust_set_release(&t);
    return code;
}

int
trust_check_expiry(const struct app_opts *o, const char *path, const struct verify_result *res,
                   char *expired)
{
    const char *when = res->manifest.expires;

    if (!utc_expired(when, o->started))
        return EXIT_OK;
    if (o->allow_expired == NULL) {
        app_error("%s: expired on %s", path, when);
        app_hint("a newer bundle is needed; --allow-expired REASON applies it anyway and "
                 "journals the reason");
        return EXIT_REJECTED;
    }
    diag_warning("%s expired on %s; applying it anyway (--allow-expired: %s)", path, when,
                 o->allow_expired);
    if (expired)
        memcpy(expired, when, UTC_TEXT_SIZE);
    return EXIT_OK;
}

/* A host clock behind the journal cannot be trusted to say a bundle has not expired. */
static int
check_clock(struct db *db, const struct history_ctx *h, const struct app_opts *o)
{
    char *sql = xasprintf("SELECT extract(epoch FROM max(at))::bigint, to_char(max(at) AT TIME "
                          "ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') FROM %s.journal",
                          h->qschema);
    struct db_error e;
    struct db_rows *r = db_query(db, sql, &e);
    char now[UTC_TEXT_SIZE];
    int code = EXIT_OK;

    free(sql);
    if (r == NULL) {
        app_error("could not read the journal's newest event: %s", e.message);
        return e.connection_lost ? EXIT_CONNECT : EXIT_FAILED;
    }
    if (db_value(r, 0, 0) && atoll(db_value(r, 0, 0)) > o->started) {
        app_error("the host clock (%s) is earlier than the newest event in the journal (%s): "
                  "the clock is unreliable, so the bundle's expiry cannot be checked",
                  utc_format(o->started, now), db_value(r, 0, 1));
        app_hint("set the host clock right; or give --allow-expired REASON to apply without "
                 "the expiry check");
        code = EXIT_STATE;
    }
    db_rows_free(r);
    return code;
}

/* Replay the key statement rows r (journal_sql_key_statements) onto t. */
static void
replay_key_statements(const struct db_rows *r, struct trust_set *t)
{
    for (size_t i = 0; i < db_nrows(r); i++) {
        const char *text = db_value(r, i, 1);
        struct diag_err err = DIAG_ERR_INIT;
        struct keystmt st;

        keystmt_init(&st);
        /* Each is checked again: a row a DBA wrote has no valid signature by our keys. */
        if (text == NULL || keystmt_parse(&st, text, strlen(text), &err) != 0 ||
            trust_apply(t, &st, text, &err) < 0)
            diag_warning("journal row %s: key statement ignored: %s", db_value(r, i, 0),
                         err.msg[0] ? err.msg : "no statement text");
        keystmt_release(&st);
    }
}

int
trust_load_journal(struct db *db, const struct history_ctx *h, struct trust_set *t)
{
    struct buf sql = BUF_INIT;
    struct db_error e;
    struct db_rows *r;

    journal_sql_key_statements(h, &sql);
    r = db_query(db, sql.data, &e);
    buf_release(&sql);
    if (r == NULL) {
        app_error("could not read the journal's key statements: %s", e.message);
        return e.connection_lost ? EXIT_CONNECT : EXIT_FAILED;
    }
    replay_key_statements(r, t);
    db_rows_free(r);
    return EXIT_OK;
}

int
trust_check_database(struct db *db, const struct history_ctx *h, const struct app_opts *o,
                     const struct verify_result *res, const struct db_rows *key_rows,
                     struct trust_run *run)
{
    struct db_error e;
    struct diag_err err = DIAG_ERR_INIT;
    int exists = journal_exists_known(db, h, key_rows != NULL, &e), code;

    trust_set_init(&run->set, o->ring.keys, o->ring.n, o->threshold);
    if (exists < 0) {
        app_error("could not read the history: %s", e.message);
        return e.connection_lost ? EXIT_CONNECT : EXIT_FAILED;
    }
    if (exists && res->manifest.expires && !o->allow_expired &&
        (code = check_clock(db, h, o)) != EXIT_OK)
        return code;
    if (key_rows)
        replay_key_statements(key_rows, &run->set);
    else if (exists && (code = trust_load_journal(db, h, &run->set)) != EXIT_OK)
        return code;
    if (apply_bundle_statements(&run->set, res, run, &err) != 0) {
        app_error("%s", err.msg);
        return EXIT_REJECTED;
    }
    return check_signers(&run->set, "bundle", res, " for this database");
}

int
trust_record(struct db *db, const struct history_ctx *h, const struct history_source *src,
             const struct app_opts *o, const struct trust_run *run, struct db_error *e)
{
    struct buf sql = BUF_INIT;
    int rows = 0;

    buf_addstr(&sql, "BEGIN;\n");
    for (size_t i = 0; i < run->nrecord; i++, rows++) {
        struct keystmt st;
        struct diag_err err = DIAG_ERR_INIT;

        keystmt_init(&st);
        keystmt_parse(&st, run->record[i]->data, run->record[i]->len, &err);
        history_sql_journal(h, src, keystmt_kind_name(st.kind), NULL, -1, run->record[i]->data,
                            &sql);
        keystmt_release(&st);
    }
    if (run->expired[0]) {
        char *detail = xasprintf("expired on %s; reason: %s", run->expired, o->allow_expired);

        history_sql_journal(h, src, "expiry-override", NULL, -1, detail, &sql);
        free(detail);
        rows++;
    }
    if (rows == 0) {
        buf_release(&sql);
        return 0;
    }
    history_sql_journal_head(h, &sql);
    buf_addstr(&sql, "COMMIT;");
    if (db_exec(db, sql.data, e) != 0) {
        db_exec(db, "ROLLBACK", NULL);
        rows = -1;
    }
    buf_release(&sql);
    return rows;
}
