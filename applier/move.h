/*
 * move.h: the one place where a move of the database is decided. apply, rollback, stamp and
 * plan ask it where the database would go and whether it may; status asks it what apply would
 * do. It resolves the target (--to REV, stamp's REV) and runs every refusal once, in this
 * order:
 *
 *   1. another tool's history that cannot be adopted           exit 3
 *   2. drift: history that contradicts the bundle               exit 3
 *   3. the database is bound to another environment             exit 3
 *   4. the target is not a migration of the bundle              exit 2
 *   5. an unfinished no-transaction migration, wrong direction  exit 3
 *   6. history after the bundle's head (rollback, stamp)        exit 3
 *   7. a target on the wrong side (rollback to a revision the database has not reached)
 *                                                               exit 3
 *   8. nothing to do                                            exit 0
 *   9. a bundle older than one applied (rollback protection)   exit 3
 *  10. an irreversible migration in the way of a rollback      exit 3
 *
 * move_decide() is pure: it reads the manifest, the engine's comparison and the history state,
 * and fills a verdict (exit code, message, detail, hint, from and to), printing nothing. The
 * rest carries a verdict out: move_report() prints it, move_run() is a whole command.
 */
#ifndef SEALIFT_APPLIER_MOVE_H
#define SEALIFT_APPLIER_MOVE_H

#include "adopt.h"
#include "common.h"
#include "engine.h"
#include "history.h"
#include "out.h"
#include "sealift/manifest.h"
#include "walk.h"

#include <stddef.h>

struct session;

enum move_kind {
    MOVE_APPLY,    /* up to --to (default: the bundle's head) */
    MOVE_ROLLBACK, /* down to --to (required) */
    MOVE_STAMP,    /* record up to REV (required) without running anything; below the
                    * database's head: record the migrations after REV as not applied */
    MOVE_PLAN,     /* up to --to, or down when --to is behind the database */
};

struct move_request {
    enum move_kind kind;
    const char *to; /* REV: an id, ID_NAME, "base" or "head"; NULL: the bundle's head */
    /* How messages name the target's source: "--to" (NULL), or "" for stamp's REV argument. */
    const char *to_option;
};

/* What the database holds, as session_connect read and compared it (all borrowed). */
struct move_state {
    const struct manifest *m;
    const struct engine_view *view;
    const struct db_state *db;
    const struct adopt_result *adopt; /* another tool's history; NULL: not considered */
};

enum move_action {
    MOVE_REFUSE,   /* code says why (2 or 3) */
    MOVE_NOTHING,  /* the database is already there: code 0, message says where */
    MOVE_UP,       /* run up scripts [from, to), then nreps repeatables */
    MOVE_DOWN,     /* run down scripts from from (exclusive) back to to */
    MOVE_RECORD,   /* record [from, to) as applied, then nreps repeatables */
    MOVE_UNRECORD, /* stamp backwards: record [to, from) as not applied, running nothing */
};

#define MOVE_TEXT_MAX 2048

struct move_verdict {
    enum move_action action;
    int code;          /* exit code when refused; 0 otherwise */
    size_t from;       /* where the database is (after adopting another tool's history) */
    size_t to;         /* where the move ends */
    size_t adopt;      /* migrations another tool recorded, to adopt before the move (0: none) */
    size_t adopt_reps; /* repeatables it recorded as they are in the bundle, adopted with them */
    size_t ahead;      /* applied migrations after the bundle's head (status exits 3 on them) */
    /*
     * Repeatables an up move to the bundle's head runs (records, for a stamp) after the chain:
     * the view's (engine.h), new or changed since their last run. 0 for any other move.
     */
    size_t nreps;
    const char *state; /* one word for status: at_head, pending, drift, ahead, refused */
    /* Refused: the error, its detail lines ('\n'-separated) and a hint. Else an info line. */
    char message[MOVE_TEXT_MAX];
    char detail[MOVE_TEXT_MAX];
    char hint[MOVE_TEXT_MAX];
};

/* Decide. Pure: fills *v from st and rq and returns v->code. */
int move_decide(const struct move_state *st, const struct move_request *rq, struct move_verdict *v);

/*
 * status's exit code for apply's verdict: 0 at the head, 7 pending (also when apply waits for
 * an unfinished rollback: that is work pending, not a state refused), 3 refused or ahead.
 */
int move_status_code(const struct move_verdict *v);

/* The database's real head for messages: the last history row's "ID_NAME", or "base". */
const char *move_database_head(const struct move_state *st, struct engine_label *out);

/* Print a refusal as an error (with --json also kept for the error object), or the info line. */
void move_report(const struct move_verdict *v, struct out *out);

/*
 * A whole move command (apply, rollback, stamp) once its options are parsed: verify the
 * bundle, connect and lock, decide, adopt another tool's history if the verdict says so, run
 * the walk and say where the database is. per_migration: one transaction per migration.
 * Returns the exit code.
 */
int move_run(const struct app_opts *o, const char *bundle_path, const struct move_request *rq,
             int per_migration);

/*
 * apply and rollback (kind MOVE_APPLY or MOVE_ROLLBACK) as commands named name: their
 * options (-p, --threshold, -d, --schema, --json, -q, --lock-timeout, --compat,
 * --per-migration, --to: required for rollback), then move_run. usage prints --help.
 * Returns the exit code; exits 2 on a usage error.
 */
int move_command(int argc, char **argv, enum move_kind kind, const char *name, void (*usage)(void));

/* Does verdict v adopt another tool's history (migrations or repeatables) before the move? */
int move_adopts(const struct move_verdict *v);

/* The repeatables of verdict v, in the session's view, less those an adoption records first
 * (valid until the view is read again). */
struct walk_reps move_reps(const struct session *s, const struct move_verdict *v);

/* The session's move state (adopt: consider another tool's history). */
void move_state_of(const struct session *s, int adopt, struct move_state *st);

#endif
