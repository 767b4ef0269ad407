/*
 * session.h: the common first steps of every command that takes a bundle and a database:
 * verify the bundle (before anything else), connect, optionally take the migration lock, load
 * the history, and compare it with the bundle.
 */
#ifndef SEALIFT_APPLIER_SESSION_H
#define SEALIFT_APPLIER_SESSION_H

#include "common.h"
#include "engine.h"
#include "adopt.h"
#include "history.h"
#include "trust_check.h"

struct session {
    const struct app_opts *o;
    const char *bundle_path;
    struct verify_result bundle;
    struct script_src *scripts; /* its scripts' bytes, kept or read again (scriptsrc.h) */
    struct db *db;
    int locked;
    struct history_ctx h;
    struct db_state state;
    struct engine_view view;
    struct history_source src;
    struct adopt_result adopt; /* the source tool's history, when sealift has none yet */
    struct buf signers;
    char bundle_id[65];
    char host[256];
    struct trust_run trust; /* key statements new to the database, expiry override */
    int trust_checked;      /* trust_check_database ran for this command */
};

/* Returns an exit code: 0 when the session is ready. lock: take the migration lock. */
int session_open(struct session *s, const struct app_opts *o, const char *bundle_path, int lock);
/*
 * session_open in two steps, for a command that must do something between trusting the bundle
 * and connecting (test starts its throwaway server there): verify, then connect, lock, load
 * and compare. session_close() after either.
 */
int session_verify(struct session *s, const struct app_opts *o, const char *bundle_path);
int session_connect(struct session *s, int lock);
void session_close(struct session *s);
/*
 * Take the migration lock on a session opened without it, and read the history again (it
 * may have moved while unlocked). Returns an exit code.
 */
int session_lock(struct session *s);

/*
 * Record what the source tool's history says is applied (adopt.h) and reload the state.
 * Whether it may be adopted is decided before (move.h); a history with a problem is left
 * alone. Returns an exit code.
 */
int session_adopt(struct session *s, struct out *out);

/* Create the history schema if it does not exist yet (its own transaction). Exit code. */
int session_create_history(struct session *s);

#endif
