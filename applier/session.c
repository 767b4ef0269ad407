/*
 * session.c: verify, connect, lock, load and compare (see session.h).
 * Layer: applier.
 */
#include "session.h"

#include <pthread.h>
#include <string.h>

/* The connection made while the bundle is verified. */
struct connector {
    const struct app_opts *o;
    struct db *db;
    int code;
    struct diag_err err;
};

static void *
connect_thread(void *arg)
{
    struct connector *c = arg;

    c->db = app_connect_quiet(c->o, 1, &c->code, &c->err);
    return NULL;
}

/*
 * Connecting takes milliseconds of waiting for the server, verifying milliseconds of work:
 * both happen at once. The connection uses nothing from the bundle, and no statement is sent
 * on it, not even the session's settings (they go with the first query, app_connect_quiet),
 * until the bundle is verified; if it is not, the connection is closed unused. The server
 * has then only authenticated us and started a backend, as psql -c '' would.
 */
int
session_open(struct session *s, const struct app_opts *o, const char *bundle_path, int lock)
{
    struct connector c;
    pthread_t thread;
    int threaded, code;

    memset(&c, 0, sizeof(c));
    c.o = o;
    /* A password prompt waits for the bundle to be verified: not asked for a bundle refused. */
    threaded = !app_may_ask_password(o) && pthread_create(&thread, NULL, connect_thread, &c) == 0;
    code = session_verify(s, o, bundle_path);
    if (threaded) {
        pthread_join(thread, NULL);
        if (code != EXIT_OK) {
            db_close(c.db);
            return code;
        }
        if (c.db == NULL) {
            app_error("%s", c.err.msg);
            return c.code;
        }
        s->db = c.db;
    }
    return code == EXIT_OK ? session_connect(s, lock) : code;
}

int
session_verify(struct session *s, const struct app_opts *o, const char *bundle_path)
{
    int code;

    memset(s, 0, sizeof(*s));
    adopt_result_init(&s->adopt);
    s->o = o;
    s->bundle_path = bundle_path;
    verify_result_init(&s->bundle);
    db_state_init(&s->state);
    engine_view_init(&s->view);
    buf_init(&s->signers);
    /* Trust first: nothing from the bundle is used, not even its project name, before this. */
    code = trust_load_bundle(o, bundle_path, &s->bundle, 0);
    if (code == EXIT_OK)
        code = trust_check_expiry(o, bundle_path, &s->bundle, s->trust.expired);
    if (code != EXIT_OK)
        return code;
    s->scripts = script_src_new(bundle_path, &s->bundle.manifest, s->bundle.data);
    app_source(&s->bundle, &s->src, &s->signers, s->bundle_id, s->host);
    history_ctx_init(&s->h, o->schema, s->bundle.manifest.project);
    return EXIT_OK;
}

/* Load the history and compare it with the bundle (and maybe another tool's history). */
static int
session_load(struct session *s)
{
    const struct app_opts *o = s->o;
    struct db_error e;

    if (history_load(s->db, &s->h, &s->state, &e) != 0) {
        app_error("could not read the history in schema \"%s\": %s", o->schema, e.message);
        return e.connection_lost ? EXIT_CONNECT : EXIT_FAILED;
    }
    if (s->state.schema_exists && s->state.history_version != 1) {
        app_error("history schema \"%s\" has version %d; this sealift-apply knows version 1",
                  o->schema, s->state.history_version);
        return EXIT_STATE;
    }
    /*
     * Keys the database retired or revoked, and a clock behind its journal, refuse the bundle.
     * Checked once per command (the load under the lock reads the same journal again).
     */
    if (!s->trust_checked) {
        int code = trust_check_database(s->db, &s->h, o, &s->bundle, s->state.key_rows, &s->trust);

        if (code != EXIT_OK)
            return code;
        s->trust_checked = 1;
    }
    engine_compare(&s->bundle.manifest, s->scripts, &s->state, &s->view);
    /* No sealift history yet for a chain imported from another tool: maybe that tool's. */
    s->adopt.want_table = o->adopt_table;
    if (s->state.napplied == 0 && s->state.nprogress == 0 &&
        strcmp(s->bundle.manifest.source, "native") != 0 &&
        adopt_detect(s->db, &s->bundle.manifest, &s->view, &s->adopt, &e) != 0) {
        app_error("could not read the %s history: %s", s->bundle.manifest.source, e.message);
        return e.connection_lost ? EXIT_CONNECT : EXIT_FAILED;
    }
    return EXIT_OK;
}

int
session_connect(struct session *s, int lock)
{
    const struct app_opts *o = s->o;
    int code;

    if (s->db == NULL && (s->db = app_connect(o, &code)) == NULL)
        return code;
    if (lock) {
        code = app_lock(s->db, o);
        if (code != EXIT_OK)
            return code;
        s->locked = 1;
    }
    return session_load(s);
}

int
session_lock(struct session *s)
{
    int code = app_lock(s->db, s->o);

    if (code != EXIT_OK)
        return code;
    s->locked = 1;
    /* What was read before the lock may have moved since: read it again under the lock. */
    engine_view_release(&s->view);
    engine_view_init(&s->view);
    db_state_release(&s->state);
    db_state_init(&s->state);
    adopt_result_release(&s->adopt);
    adopt_result_init(&s->adopt);
    return session_load(s);
}

void
session_close(struct session *s)
{
    if (s->db) {
        if (s->locked)
            app_unlock(s->db, s->o);
        db_close(s->db);
    }
    engine_view_release(&s->view);
    adopt_result_release(&s->adopt);
    db_state_release(&s->state);
    if (s->h.schema)
        history_ctx_release(&s->h);
    buf_release(&s->signers);
    script_src_free(s->scripts);
    s->scripts = NULL;
    trust_run_release(&s->trust);
    verify_result_release(&s->bundle);
}

int
session_create_history(struct session *s)
{
    struct buf sql = BUF_INIT;
    struct db_error e;
    int ret = EXIT_OK;

    if (s->state.schema_exists && s->state.journal_upgraded && s->state.has_repeatables)
        return EXIT_OK;
    buf_addstr(&sql, "BEGIN;\n");
    if (s->state.schema_exists)
        history_sql_upgrade(&s->h, &sql);
    else
        history_sql_create(&s->h, &sql);
    buf_addstr(&sql, "COMMIT;");
    if (db_exec(s->db, sql.data, &e) != 0) {
        db_exec(s->db, "ROLLBACK", NULL);
        app_error("could not create the history schema \"%s\": %s", s->o->schema, e.message);
        if (e.hint[0])
            app_hint("%s", e.hint);
        ret = e.connection_lost ? EXIT_CONNECT : EXIT_FAILED;
    }
    buf_release(&sql);
    return ret;
}

int
session_adopt(struct session *s, struct out *out)
{
    struct buf sql = BUF_INIT;
    struct db_error e;
    int code;

    /* Whether it may be adopted (adopt.problem) is the move's decision (move.c). */
    if (!adopt_any(&s->adopt))
        return EXIT_OK;
    if ((code = session_create_history(s)) != EXIT_OK)
        return code;
    adopt_sql(&s->adopt, &s->h, &s->src, &s->bundle.manifest, &sql);
    if (db_exec(s->db, sql.data, &e) != 0) {
        db_exec(s->db, "ROLLBACK", NULL);
        app_error("could not record the adoption: %s", e.message);
        buf_release(&sql);
        return e.connection_lost ? EXIT_CONNECT : EXIT_FAILED;
    }
    buf_release(&sql);
    if (s->adopt.nreps)
        out_info(out,
                 "adopted %zu migration%s and %zu repeatable%s that %s recorded in %s "
                 "(nothing ran)",
                 s->adopt.count, s->adopt.count == 1 ? "" : "s", s->adopt.nreps,
                 s->adopt.nreps == 1 ? "" : "s", s->adopt.tool, s->adopt.table);
    else
        out_info(out, "adopted %zu migration%s that %s recorded in %s (nothing ran)",
                 s->adopt.count, s->adopt.count == 1 ? "" : "s", s->adopt.tool, s->adopt.table);
    /* Left behind, Alembic's version table would make it run the later revisions again. */
    if (strcmp(s->adopt.tool, "alembic") == 0 && !s->o->compat_alembic && s->adopt.count > 0)
        diag_warning("%s stays at %s: give --compat alembic to keep it in step with "
                     "what sealift applies, or Alembic will run the later revisions again",
                     s->adopt.table, s->bundle.manifest.migrations[s->adopt.count - 1].id);
    s->adopt.found = 0;
    /* The history is sealift's now: read it again, as if it had always been. */
    engine_view_release(&s->view);
    if (history_load(s->db, &s->h, &s->state, &e) != 0) {
        app_error("could not read the history: %s", e.message);
        return EXIT_FAILED;
    }
    engine_compare(&s->bundle.manifest, s->scripts, &s->state, &s->view);
    return EXIT_OK;
}
