/*
 * trust_check.h: the applier's decisions about time and keys (trust.h, keystmt.h): loading a
 * bundle signed by a rotated key, refusing an expired bundle, refusing a clock that runs
 * behind the database's journal, refusing keys the database has retired or revoked, and
 * journaling what the database learns (rotations, revocations, expiry overrides).
 *
 * Every check uses the time the command read once at its start (app_opts.started).
 */
#ifndef SEALIFT_APPLIER_TRUST_CHECK_H
#define SEALIFT_APPLIER_TRUST_CHECK_H

#include "db.h"
#include "history.h"
#include "sealift/trust.h"
#include "sealift/utctime.h"
#include "sealift/verify.h"

struct app_opts;

/* What a session learned about trust, for the journal. */
struct trust_run {
    struct trust_set set;      /* anchors, then the journal's statements, then the bundle's */
    const struct buf **record; /* texts of the bundle's statements new to the database */
    size_t nrecord;
    size_t record_cap;
    char expired[UTC_TEXT_SIZE]; /* set: the bundle expired then and --allow-expired applies */
};

void trust_run_release(struct trust_run *run);

/*
 * Verify the bundle at path (verify.h) with the trusted keys of o, and with the keys that the
 * bundle's own key statements make current (a rotation chain from those keys); then refuse it
 * unless the threshold of its signers are current for its serial after its statements (a
 * revocation it carries counts). Prints the error and returns an exit code. Small down scripts
 * are kept in res->data (scriptsrc.h), or with all_scripts every script member (the report
 * shows them all).
 */
int trust_load_bundle(const struct app_opts *o, const char *path, struct verify_result *res,
                      int all_scripts);

/*
 * The bundle's expiry against o->started: EXIT_OK if it has none or it is later; else
 * EXIT_REJECTED with the error "expired on DATE", unless o->allow_expired, which warns and
 * copies the date to expired (may be NULL).
 */
int trust_check_expiry(const struct app_opts *o, const char *path, const struct verify_result *res,
                       char *expired);

/*
 * With the database (history loaded, before anything is written): refuse a host clock earlier
 * than the journal's newest event when the bundle expires (EXIT_STATE, naming both times);
 * replay the journal's key statements from the trusted keys, then the bundle's, and refuse the
 * bundle (EXIT_REJECTED) unless the threshold of its signers are still current. Fills run.
 * key_rows: the journal's key statements as history_load read them (the journal exists), or
 * NULL to find out whether it exists and read them here.
 */
int trust_check_database(struct db *db, const struct history_ctx *h, const struct app_opts *o,
                         const struct verify_result *res, const struct db_rows *key_rows,
                         struct trust_run *run);

/*
 * Replay the rotations and revocations of h's journal (which must exist) onto t, in order.
 * Each is checked again against t's keys (a row written by hand has no valid signature), and
 * one that does not apply is ignored with a warning. Prints errors; returns an exit code.
 */
int trust_load_journal(struct db *db, const struct history_ctx *h, struct trust_set *t);

/*
 * Journal what run says the database has not recorded yet: one "rotation" or "revocation"
 * row per new statement (its text as detail) and an "expiry-override" row (the date and the
 * reason), in one transaction; nothing when there is nothing. Returns the number of rows
 * written, or -1 on a database error (e filled).
 */
int trust_record(struct db *db, const struct history_ctx *h, const struct history_source *src,
                 const struct app_opts *o, const struct trust_run *run, struct db_error *e);

#endif
