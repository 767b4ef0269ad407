/*
 * report_collect.c: what "sealift-apply report" reads: the bundles given (verified before the
 * database is touched), then, in one read-only snapshot, the server, the history schema, the
 * journal's verdict (history --verify's own check), the state tables, and each bundle's drift
 * (the engine's own comparison). See report.h.
 * Layer: applier.
 */
#include "report.h"
#include "history_view.h"
#include "scriptsrc.h"
#include "trust_check.h"
#include "sealift/xalloc.h"

#include <stdlib.h>
#include <string.h>

/* The server's own time, not the host's: the report says when the database said what. */
#define SERVER_SQL                                                                                 \
    "SELECT current_database(), current_user, current_setting('server_version'), "                 \
    "to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"

#define APPLIED_SQL                                                                                \
    "SELECT project, ordinal, migration_id, name, up_source_sha256, down_source_sha256, "          \
    "up_sha256, chain, bundle_id, bundle_serial, signers, environment, how, "                      \
    "to_char(applied_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), applied_by, "       \
    "client_host, duration_ms FROM %s.applied ORDER BY project, ordinal"

/*
 * An event's duration is its applied row's: the journal does not record one. The applied row
 * and the journal row of one apply share the server's time to the microsecond, which ties
 * them; an event whose migration was since rolled back or applied again has none left.
 */
#define DURATIONS_SQL                                                                              \
    "SELECT j.seq, a.duration_ms FROM %s.journal j JOIN %s.applied a ON a.project = j.project "    \
    "AND a.migration_id = j.migration_id AND a.applied_at = j.at WHERE a.duration_ms IS NOT "      \
    "NULL ORDER BY j.seq"

void
report_init(struct report *r, const struct app_opts *o)
{
    memset(r, 0, sizeof(*r));
    r->o = o;
    r->intact = -1;
    buf_init(&r->verdict);
}

void
report_release(struct report *r)
{
    for (size_t i = 0; i < r->nbundles; i++) {
        script_src_free(r->bundles[i].scripts);
        verify_result_release(&r->bundles[i].res);
        db_state_release(&r->bundles[i].state);
        engine_view_release(&r->bundles[i].view);
    }
    free(r->bundles);
    for (size_t i = 0; i < r->nsigners; i++)
        free(r->signers[i].keyid);
    free(r->signers);
    free(r->event_duration_ms);
    db_rows_free(r->server);
    db_rows_free(r->meta);
    db_rows_free(r->projects);
    db_rows_free(r->events);
    db_rows_free(r->durations);
    db_rows_free(r->applied);
    buf_release(&r->verdict);
    memset(r, 0, sizeof(*r));
}

size_t
report_rows(const struct db_rows *rows)
{
    return rows ? db_nrows(rows) : 0;
}

const char *
report_meta(const struct report *r, const char *key)
{
    for (size_t i = 0; i < report_rows(r->meta); i++)
        if (strcmp(db_value(r->meta, i, 0), key) == 0)
            return db_value(r->meta, i, 1);
    return NULL;
}

void
report_each_signer(const char *signers, report_signer_cb cb, void *data)
{
    static const char marker[] = " (not verified here: ";
    const char *p = signers, *others = signers ? strstr(signers, marker) : NULL;
    const char *end;

    if (signers == NULL)
        return;
    /* The verified ids, then the others inside the parenthesis (common.c app_source). */
    for (end = others ? others : p + strlen(p); p < end;) {
        size_t n = strcspn(p, ",");

        if ((size_t)(end - p) < n)
            n = (size_t)(end - p);
        if (n)
            cb(data, p, n, 1);
        p += n + (p[n] == ',');
    }
    if (others == NULL)
        return;
    for (p = others + sizeof(marker) - 1; *p && *p != ')';) {
        size_t n = strcspn(p, ",)");

        if (n)
            cb(data, p, n, 0);
        p += n + (p[n] == ',');
    }
}

int
report_migration_drifted(const struct report_bundle *b, size_t idx)
{
    struct engine_label l;
    size_t n;

    engine_label_into(&b->res.manifest, idx + 1, &l);
    n = strlen(l.s);
    /* The engine names drifted migrations as "LABEL, LABEL" (engine.h). */
    for (const char *p = b->view.drifted.data; (p = strstr(p, l.s)) != NULL; p += n)
        if ((p == b->view.drifted.data || strncmp(p - 2, ", ", 2) == 0) &&
            (p[n] == '\0' || strncmp(p + n, ", ", 2) == 0))
            return 1;
    return 0;
}

static void
count_signer_cb(void *data, const char *keyid, size_t len, int verified)
{
    struct report *r = data;
    size_t i;

    for (i = 0; i < r->nsigners; i++)
        if (strlen(r->signers[i].keyid) == len && memcmp(r->signers[i].keyid, keyid, len) == 0)
            break;
    if (i == r->nsigners) {
        r->signers = xrealloc(r->signers, (r->nsigners + 1) * sizeof(*r->signers));
        memset(&r->signers[i], 0, sizeof(r->signers[i]));
        r->signers[i].keyid = xstrndup(keyid, len);
        r->nsigners++;
    }
    if (verified)
        r->signers[i].verified++;
    else
        r->signers[i].unverified++;
}

/* Verify every bundle given. Returns the exit code. */
static int
load_bundles(struct report *r, char **paths, size_t n)
{
    r->bundles = xcalloc(n ? n : 1, sizeof(*r->bundles));
    for (size_t i = 0; i < n; i++) {
        struct report_bundle *b = &r->bundles[i];
        int code;

        b->path = paths[i];
        verify_result_init(&b->res);
        db_state_init(&b->state);
        engine_view_init(&b->view);
        r->nbundles++;
        if ((code = trust_load_bundle(r->o, paths[i], &b->res, 1)) != EXIT_OK)
            return code;
        /* Every script is in memory: the report shows each one's SQL. */
        b->scripts = script_src_new(paths[i], &b->res.manifest, b->res.data);
        hex_encode(b->id, b->res.bundle_id, HASH_SHA256_BYTES);
    }
    return EXIT_OK;
}

/* Each event's duration, from r->durations (both in seq order). */
static void
match_durations(struct report *r)
{
    size_t k = 0, n = report_rows(r->events);

    r->event_duration_ms = xcalloc(n ? n : 1, sizeof(*r->event_duration_ms));
    for (size_t i = 0; i < n && k < report_rows(r->durations); i++) {
        long long seq = atoll(db_value(r->events, i, RE_SEQ));

        while (k < report_rows(r->durations) && atoll(db_value(r->durations, k, 0)) < seq)
            k++;
        if (k < report_rows(r->durations) && atoll(db_value(r->durations, k, 0)) == seq)
            r->event_duration_ms[i] = db_value(r->durations, k, 1);
    }
}

/* The history schema's tables, its verdict, and each bundle's drift. Returns the exit code. */
static int
read_history(struct report *r, struct db *db, struct history_ctx *h)
{
    struct buf sql = BUF_INIT;
    struct db_error e;
    int v, code = EXIT_FAILED;

    v = history_view_verify(db, h, r->o->witness, &r->verdict, &e);
    if (v < 0) {
        code = v == -2 ? EXIT_USAGE : EXIT_FAILED;
        goto done;
    }
    r->intact = v;
    if (journal_read_pos(db, h, &r->head, &e) != 0 ||
        history_view_load(db, h, &r->projects, &r->events, &e) != 0)
        goto failed;
    buf_addf(&sql, "SELECT key, value FROM %s.meta ORDER BY key", h->qschema);
    if ((r->meta = db_query(db, sql.data, &e)) == NULL)
        goto failed;
    buf_reset(&sql);
    buf_addf(&sql, APPLIED_SQL, h->qschema);
    if ((r->applied = db_query(db, sql.data, &e)) == NULL)
        goto failed;
    buf_reset(&sql);
    buf_addf(&sql, DURATIONS_SQL, h->qschema, h->qschema);
    if ((r->durations = db_query(db, sql.data, &e)) == NULL)
        goto failed;
    match_durations(r);
    for (size_t i = 0; i < report_rows(r->events); i++)
        report_each_signer(db_value(r->events, i, RE_SIGNERS), count_signer_cb, r);
    code = EXIT_OK;
    goto done;
failed:
    app_error("could not read the history in schema \"%s\": %s", r->o->schema, e.message);
done:
    buf_release(&sql);
    return code;
}

/* Each bundle's project history, compared with the bundle as apply would. */
static int
compare_bundles(struct report *r, struct db *db)
{
    for (size_t i = 0; i < r->nbundles; i++) {
        struct report_bundle *b = &r->bundles[i];
        struct history_ctx h;
        struct db_error e;
        int failed;

        history_ctx_init(&h, r->o->schema, b->res.manifest.project);
        failed = history_load(db, &h, &b->state, &e) != 0;
        history_ctx_release(&h);
        if (failed) {
            app_error("could not read the history of project \"%s\": %s", b->res.manifest.project,
                      e.message);
            return EXIT_FAILED;
        }
        engine_compare(&b->res.manifest, b->scripts, &b->state, &b->view);
    }
    return EXIT_OK;
}

int
report_collect(struct report *r, char **bundle_paths, size_t nbundles)
{
    struct history_ctx h;
    struct db *db = NULL;
    struct db_rows *exists = NULL;
    struct buf sql = BUF_INIT;
    struct db_error e;
    int code;

    history_ctx_init(&h, r->o->schema, "");
    /* 1. The bundles first: nothing read from a bundle is shown unless it verified. */
    if ((code = load_bundles(r, bundle_paths, nbundles)) != EXIT_OK)
        goto done;
    /* 2. One snapshot for every read, so that the verdict and the tables shown agree. */
    if ((db = app_connect(r->o, &code)) == NULL)
        goto done;
    code = EXIT_FAILED;
    if (db_exec(db, "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY", &e) != 0 ||
        (r->server = db_query(db, SERVER_SQL, &e)) == NULL)
        goto failed;
    buf_addf(&sql, "SELECT to_regclass('%s.journal') IS NOT NULL", h.qschema);
    if ((exists = db_query(db, sql.data, &e)) == NULL)
        goto failed;
    r->schema_exists = strcmp(db_value(exists, 0, 0), "t") == 0;
    /* 3. The history and its verdict; no history is reported as such, never as intact. */
    if (r->schema_exists && (code = read_history(r, db, &h)) != EXIT_OK)
        goto done;
    if (!r->schema_exists)
        buf_addf(&r->verdict, "no sealift history in schema \"%s\"", r->o->schema);
    /*
     * 4. Drift of each bundle against its project's history. (Schema drift, the live catalog
     * against what the chain made, is not checked here yet: when a module for it exists, run
     * it here, inside this snapshot, keep its result in struct report, and write it in both
     * report_html.c and report_json.c as "schema_drift" (docs/report.md reserves the name).)
     */
    if ((code = compare_bundles(r, db)) != EXIT_OK)
        goto done;
    code = db_exec(db, "COMMIT", &e) == 0 ? EXIT_OK : EXIT_FAILED;
    if (code == EXIT_OK)
        goto done;
failed:
    app_error("could not read the database: %s", e.message);
done:
    db_rows_free(exists);
    buf_release(&sql);
    db_close(db);
    history_ctx_release(&h);
    return code;
}
