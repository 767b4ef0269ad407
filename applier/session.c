/*
 * session.c: verify, connect, lock, load and compare (see session.h).
 * Layer: applier.
 */
#include "session.h"

#include <string.h>

int
session_open(struct session *s, const struct app_opts *o, const char *bundle_path, int lock)
{
    struct db_error e;
    int code;

    memset(s, 0, sizeof(*s));
    s->o = o;
    s->bundle_path = bundle_path;
    verify_result_init(&s->bundle);
    db_state_init(&s->state);
    engine_view_init(&s->view);
    buf_init(&s->signers);
    /* Trust first: nothing from the bundle is used, not even its project name, before this. */
    code = app_load_bundle(o, bundle_path, &s->bundle);
    if (code != EXIT_OK)
        return code;
    app_source(&s->bundle, &s->src, &s->signers, s->bundle_id, s->host);
    history_ctx_init(&s->h, o->schema, s->bundle.manifest.project);
    s->db = app_connect(o, &code);
    if (s->db == NULL)
        return code;
    if (lock) {
        code = app_lock(s->db, o);
        if (code != EXIT_OK)
            return code;
        s->locked = 1;
    }
    if (history_load(s->db, &s->h, &s->state, &e) != 0) {
        diag_error("could not read the history in schema \"%s\": %s", o->schema, e.message);
        return e.connection_lost ? EXIT_CONNECT : EXIT_FAILED;
    }
    if (s->state.schema_exists && s->state.history_version != 1) {
        diag_error("history schema \"%s\" has version %d; this sealift-apply knows version 1",
                   o->schema, s->state.history_version);
        return EXIT_STATE;
    }
    engine_compare(&s->bundle.manifest, s->bundle.data, &s->state, &s->view);
    return EXIT_OK;
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
    db_state_release(&s->state);
    if (s->h.schema)
        history_ctx_release(&s->h);
    buf_release(&s->signers);
    verify_result_release(&s->bundle);
}

int
session_check_environment(const struct session *s)
{
    const char *want = s->bundle.manifest.environment;
    const char *have = s->state.environment;

    if (want && have && strcmp(want, have) != 0) {
        diag_error("this bundle is for environment \"%s\", but the database belongs to \"%s\"",
                   want, have);
        diag_detail("the first bundle applied with an environment binds the database to it");
        return EXIT_STATE;
    }
    return EXIT_OK;
}

int
session_check_drift(const struct session *s)
{
    const char *p = s->view.problems.data;

    if (!s->view.drift)
        return EXIT_OK;
    diag_error("the database's history does not match this bundle (drift); nothing was changed");
    while (*p) {
        const char *nl = strchr(p, '\n');
        int len = nl ? (int)(nl - p) : (int)strlen(p);

        diag_detail("%.*s", len, p);
        p += len + (nl ? 1 : 0);
    }
    return EXIT_STATE;
}

int
session_create_history(struct session *s)
{
    struct buf sql = BUF_INIT;
    struct db_error e;
    int ret = EXIT_OK;

    if (s->state.schema_exists)
        return EXIT_OK;
    buf_addstr(&sql, "BEGIN;\n");
    history_sql_create(&s->h, &sql);
    buf_addstr(&sql, "COMMIT;");
    if (db_exec(s->db, sql.data, &e) != 0) {
        db_exec(s->db, "ROLLBACK", NULL);
        diag_error("could not create the history schema \"%s\": %s", s->o->schema, e.message);
        if (e.hint[0])
            diag_hint("%s", e.hint);
        ret = e.connection_lost ? EXIT_CONNECT : EXIT_FAILED;
    }
    buf_release(&sql);
    return ret;
}
