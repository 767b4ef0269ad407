/*
 * proof.h: the proof of "sealift-apply test": every migration up, down and up again with the
 * schema compared after each step (snapshot.c); then the whole chain back to base and up to
 * head again, as rollback and apply would; then the history replaced by a stamp at head,
 * after which apply must have nothing to do. Every step runs through the runner, exactly as
 * apply, rollback and stamp run it; proof_report.c says what each step found.
 *
 * The order: the round trip needs the empty database and goes through the chain from base,
 * so it comes first; starting from base also means that one broken down does not hide the
 * others. The database is then at head, where head-to-base starts; its second half, base to
 * head as apply would (one transaction by default), is the fresh-to-head apply.
 *
 * A command runs it in this order, each step returning an exit code (README "Exit codes"):
 *   proof_init, proof_verify (trust first: nothing is connected to for a rejected bundle),
 *   proof_arm_signals, [scratch_pg_start with proof_stop_flag()], proof_open, proof_run,
 *   proof_close (always, once armed), [scratch_pg_stop], proof_disarm_signals, proof_release.
 */
#ifndef SEALIFT_APPLIER_PROOF_H
#define SEALIFT_APPLIER_PROOF_H

#include "common.h"
#include "engine.h"
#include "locktrace.h"
#include "out.h"
#include "proof_report.h"
#include "session.h"

#include <signal.h>
#include <stddef.h>

struct proof {
    struct session s;
    const struct manifest *m;  /* the verified chain, once proof_verify succeeded */
    struct out out;            /* what the user sees */
    struct out quiet;          /* the runner's: it reports errors (stderr) only */
    struct engine_view noview; /* nothing to resume: the database started without history */
    struct bundle_cursor *cursor;
    int per_migration; /* head to base and back one transaction per migration */
    int throwaway;     /* the database is our throwaway server's: nothing to restore */
    size_t at;         /* migrations of the chain applied */
    /* Every repeatable (indexes), and the next up walk or stamp runs (records) them too. */
    size_t *all_reps;
    int with_reps;
    int lost_connection;
    struct proof_report rep;
    struct locktrace trace; /* what each statement locked and rewrote (locktrace.h) */
    int tracing;            /* the trace is on (not --no-lock-trace) */
    char dbname[256];
    int armed; /* our SIGINT/SIGTERM handlers are installed; the old ones are kept here */
    struct sigaction old_int, old_term;
};

/*
 * Output settings from o (--json, -q); per_migration: --per-migration; trace: trace each
 * statement's locks and rewrites (locktrace.h).
 */
void proof_init(struct proof *p, const struct app_opts *o, int per_migration, int trace);
/* Verify the bundle (session_verify). Returns 0, 1 or 2 (printed). */
int proof_verify(struct proof *p, const struct app_opts *o, const char *bundle_path);

/*
 * SIGINT and SIGTERM from here on stop the test at its next step (the runner's own handlers
 * take over during a walk); proof_disarm_signals() puts the old handlers back.
 */
void proof_arm_signals(struct proof *p);
void proof_disarm_signals(struct proof *p);
/* The signal that stopped the test, or 0: what scratch_pg_start() watches. */
const volatile sig_atomic_t *proof_stop_flag(void);

/*
 * Connect to the database the options name, check that the test may use it (disposable.h:
 * printed, exit 3 when refused) and say that the test starts. dir: the throwaway server's
 * directory, for the first line. Returns an exit code.
 */
int proof_open(struct proof *p, int scratch, const char *dir);
/* Run the whole proof and report it. Returns 0 (passed), 1 (failed) or 4 (could not go on). */
int proof_run(struct proof *p);
/*
 * After proof_open or proof_run (or a failed start), whatever code they returned: say why the
 * test stopped if a signal or a lost connection stopped it, and close the session. Returns
 * the exit code: code, or 4 (interrupted), or 6 (lost connection).
 */
int proof_close(struct proof *p, int code);
void proof_release(struct proof *p);

#endif
