/*
 * drift_move.c: schema drift before and after a move (see drift_move.h).
 * Layer: applier.
 */
#include "drift_move.h"
#include "drift.h"
#include "drift_report.h"
#include "history.h"

#include <stdio.h>
#include <string.h>

/* Each line of text as a detail, at most DRIFT_SUMMARY_NAMES objects. */
static void
detail_changes(const struct drift_result *r)
{
    for (size_t i = 0; i < r->diff.n && i < DRIFT_SUMMARY_NAMES; i++) {
        const struct snapshot_diff_item *d = &r->diff.items[i];
        const struct snapshot_item *it = d->after ? d->after : d->before;

        app_detail("%s %s %s", snapshot_change_word(d->change), it->kind, it->name);
    }
    if (r->diff.n > DRIFT_SUMMARY_NAMES)
        app_detail("and %zu more", r->diff.n - DRIFT_SUMMARY_NAMES);
    if (r->state == DRIFT_HASH_ONLY)
        app_detail("the fingerprint kept only its hash (its snapshot was over the size cap): no "
                   "object can be named");
}

/* Journal that the move goes on despite the drift: the reason and what changed. */
static int
journal_allowed(struct session *s, const struct drift_result *r, struct db_error *e)
{
    struct buf detail = BUF_INIT, sql = BUF_INIT;
    int ret;

    buf_addf(&detail, "reason: %s; schema drift since journal row %lld: ", s->o->allow_schema_drift,
             r->fp.journal_seq);
    drift_summary(r, &detail);
    buf_addstr(&sql, "BEGIN;\n");
    history_sql_journal(&s->h, &s->src, "allow_drift", NULL, -1, detail.data, &sql);
    history_sql_journal_head(&s->h, &sql);
    buf_addstr(&sql, "COMMIT;");
    ret = db_exec(s->db, sql.data, e);
    if (ret != 0)
        db_exec(s->db, "ROLLBACK", NULL);
    buf_release(&detail);
    buf_release(&sql);
    return ret;
}

int
drift_move_check(struct session *s, const char *verb, struct out *out)
{
    struct drift_result r;
    struct db_error e;
    int code = EXIT_OK;

    if (!s->state.schema_exists || !s->state.has_fingerprints)
        return EXIT_OK; /* no fingerprint yet: not drift; this move records the first */
    drift_result_init(&r);
    if (drift_compare(s->db, &s->h, s->o->ignore_schemas, s->o->nignore_schemas, &r, &e) != 0) {
        /*
         * Another session holds a lock on a relation the catalog functions describe: the
         * move's own statements queue for such locks under their lock timeout and retries,
         * so the check does not hold the move up; it says it was not made.
         */
        if (strcmp(e.sqlstate, "55P03") == 0) {
            diag_warning("the schema was not compared with its last fingerprint: another "
                         "session holds a lock on a relation it describes (%s); going on "
                         "without the check",
                         e.message);
            goto done;
        }
        if (s->o->allow_schema_drift && !e.connection_lost) {
            diag_warning("could not compare the schema with its last fingerprint: %s; going on "
                         "(--allow-schema-drift)",
                         e.message);
            goto done;
        }
        app_error("could not compare the schema with its last fingerprint: %s", e.message);
        if (!e.connection_lost)
            app_hint("to %s anyway, give --allow-schema-drift REASON", verb);
        code = e.connection_lost ? EXIT_CONNECT : EXIT_STATE;
        goto done;
    }
    if (!drift_found(&r))
        goto done;
    if (out->json) {
        struct buf f = BUF_INIT;

        buf_addstr(&f, "\"schema_drift\":");
        drift_json(&r, &f);
        buf_addstr(&f, ",\"allowed\":");
        buf_addstr(&f, s->o->allow_schema_drift ? "true" : "false");
        out_event(out, "schema_drift", f.data);
        buf_release(&f);
    }
    if (s->o->allow_schema_drift == NULL) {
        app_error("the schema changed since the last fingerprint sealift recorded (%s, journal "
                  "row %lld): schema drift; nothing was changed",
                  r.fp.event, r.fp.journal_seq);
        detail_changes(&r);
        app_hint("\"sealift-apply status --schema-drift\" shows each object's definition before "
                 "and after; to %s anyway, give --allow-schema-drift REASON",
                 verb);
        code = EXIT_STATE;
        goto done;
    }
    if (journal_allowed(s, &r, &e) != 0) {
        app_error("could not journal the schema drift allowed: %s", e.message);
        code = e.connection_lost ? EXIT_CONNECT : EXIT_FAILED;
        goto done;
    }
    {
        struct buf sum = BUF_INIT;

        drift_summary(&r, &sum);
        out_info(out, "schema drift allowed (%s): %s", s->o->allow_schema_drift, sum.data);
        buf_release(&sum);
    }
done:
    drift_result_release(&r);
    return code;
}

static void
final_cb(void *ctx, struct db *db)
{
    struct drift_move *dm = ctx;
    struct db_error e;

    dm->recorded = drift_record(db, &dm->s->h, dm->event, 1, &e) == 0;
}

/* 1 if the fingerprint table exists and the role may write it, 0 if not, -1 if it is missing. */
static int
table_writable(struct session *s)
{
    struct buf sql = BUF_INIT, name = BUF_INIT;
    struct db_rows *rows;
    int ret = 0;

    buf_addf(&name, "%s.fingerprint", s->h.qschema);
    buf_addstr(&sql, "SELECT to_regclass(");
    db_add_literal(&sql, name.data);
    buf_addstr(&sql, ") IS NOT NULL AND has_table_privilege(");
    db_add_literal(&sql, name.data);
    buf_addstr(&sql, ", 'INSERT, UPDATE'), to_regclass(");
    db_add_literal(&sql, name.data);
    buf_addstr(&sql, ") IS NOT NULL");
    rows = db_query(s->db, sql.data, NULL);
    if (rows && db_nrows(rows) == 1 && db_value(rows, 0, 0) && db_value(rows, 0, 1))
        ret = strcmp(db_value(rows, 0, 1), "t") != 0 ? -1 : strcmp(db_value(rows, 0, 0), "t") == 0;
    db_rows_free(rows);
    buf_release(&sql);
    buf_release(&name);
    return ret;
}

int
drift_move_table(struct session *s)
{
    struct buf sql = BUF_INIT;
    struct db_error e;
    int ret = 0;

    if (s->state.has_fingerprints)
        return 0;
    buf_addstr(&sql, "BEGIN;\n");
    drift_sql_table(&s->h, &sql);
    buf_addstr(&sql, "COMMIT;");
    if (db_exec(s->db, sql.data, &e) != 0) {
        db_exec(s->db, "ROLLBACK", NULL);
        diag_warning("could not add the fingerprint table to the history schema \"%s\": %s; no "
                     "fingerprint is recorded until it exists",
                     s->o->schema, e.message);
        ret = -1;
    } else {
        s->state.has_fingerprints = 1;
    }
    buf_release(&sql);
    return ret;
}

void
drift_move_attach(struct drift_move *dm, struct runner *r)
{
    dm->recorded = 0;
    /*
     * In the move's transaction a refused INSERT would abort the move: a role that may not
     * write the table (grants made before it existed) gets the warning after the walk instead.
     */
    if (table_writable(dm->s) == 1)
        runner_set_final_cb(r, final_cb, dm);
}

void
drift_move_finish(struct drift_move *dm)
{
    struct db_error e;

    /* A missing table was said when it could not be added. */
    if (dm->recorded || table_writable(dm->s) < 0)
        return;
    if (drift_record(dm->s->db, &dm->s->h, dm->event, 0, &e) != 0)
        diag_warning("could not record the schema's fingerprint: %s; the next schema drift check "
                     "compares with an older one",
                     e.message);
    else
        dm->recorded = 1;
}

void
drift_move_first(struct session *s, const char *event)
{
    struct drift_fingerprint fp;
    struct db_error e;
    struct drift_move dm = {s, event, 0};

    if (!s->state.schema_exists)
        return;
    memset(&fp, 0, sizeof(fp));
    snapshot_init(&fp.snap);
    if (s->state.has_fingerprints) {
        /*
         * Only whether a current one exists: its snapshot is not needed here. Read with the
         * history under the lock; what ran since (key statements) is not a move.
         */
        int ret = s->state.fingerprint_rows ? drift_last_of(s->state.fingerprint_rows, &fp, &e)
                                            : drift_load_last_head(s->db, &s->h, &fp, &e),
            found = fp.found;

        snapshot_release(&fp.snap);
        if (ret != 0 || (found && fp.later_moves == 0 && fp.later_progress == 0))
            return; /* a current one exists (an unreadable one is the check's to report) */
    }
    if (drift_move_table(s) == 0)
        drift_move_finish(&dm);
}
