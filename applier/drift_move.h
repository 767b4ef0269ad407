/*
 * drift_move.h: schema drift around a move (apply, rollback, stamp): the check before it
 * starts (a refusal, exit 3, unless --allow-schema-drift REASON, which is journaled with the
 * drift's summary), and the fingerprint after it, taken in the move's last transaction when
 * the walk gets there, else in a transaction of its own.
 */
#ifndef SEALIFT_APPLIER_DRIFT_MOVE_H
#define SEALIFT_APPLIER_DRIFT_MOVE_H

#include "out.h"
#include "runner.h"
#include "session.h"

/*
 * Compare the live schema with the last fingerprint before a move named verb. Returns 0 to go
 * on (no fingerprint, no drift, or drift allowed and journaled), or the exit code of the
 * refusal or error, printed.
 */
int drift_move_check(struct session *s, const char *verb, struct out *out);

/*
 * Add the fingerprint table to a history from before it (a move's history writes need no new
 * privilege for it): 0, or -1 after a warning (the move goes on without a fingerprint).
 */
int drift_move_table(struct session *s);

/* The fingerprint of one move: event is "apply", "rollback" or "stamp". */
struct drift_move {
    struct session *s;
    const char *event;
    int recorded;
};

/* Take the fingerprint in the walk's last transaction (runner_set_final_cb). */
void drift_move_attach(struct drift_move *dm, struct runner *r);
/*
 * After the walk: when its last transaction did not record the fingerprint (the walk failed,
 * or recording failed there), record it now, in a transaction of its own; a failure is a
 * warning (the next comparison then reads an older fingerprint).
 */
void drift_move_finish(struct drift_move *dm);

/* A database without a current fingerprint (history from before them, or moves since the last
 * one that recorded none): record one, for a move that had nothing to do. */
void drift_move_first(struct session *s, const char *event);

#endif
