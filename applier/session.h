/*
 * session.h: the common first steps of every command that takes a bundle and a database:
 * verify the bundle (before anything else), connect, optionally take the migration lock, load
 * the history, and compare it with the bundle.
 */
#ifndef SEALIFT_APPLIER_SESSION_H
#define SEALIFT_APPLIER_SESSION_H

#include "common.h"
#include "engine.h"
#include "history.h"

struct session {
    const struct app_opts *o;
    const char *bundle_path;
    struct verify_result bundle;
    struct db *db;
    int locked;
    struct history_ctx h;
    struct db_state state;
    struct engine_view view;
    struct history_source src;
    struct buf signers;
    char bundle_id[65];
    char host[256];
};

/* Returns an exit code: 0 when the session is ready. lock: take the migration lock. */
int session_open(struct session *s, const struct app_opts *o, const char *bundle_path, int lock);
void session_close(struct session *s);

/*
 * Refuse a database bound to another environment than the bundle's. Returns 0 or 3 (printed).
 */
int session_check_environment(const struct session *s);
/* Print drift problems and return 3, or return 0 when there are none. */
int session_check_drift(const struct session *s);

/* Create the history schema if it does not exist yet (its own transaction). Exit code. */
int session_create_history(struct session *s);

#endif
