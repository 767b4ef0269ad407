/*
 * drift.h: schema drift. After every move (apply, rollback, stamp) the applier records a
 * fingerprint of the schema it left: the catalog snapshot test reads (snapshot.h, with
 * functions' full definitions), as a canonical text, its SHA-256, and the text itself
 * zstd-compressed when it fits DRIFT_SNAPSHOT_CAP (above it only the hash: a comparison can then
 * only say "changed"). Later, status --schema-drift and every move compare the live catalog
 * with the last fingerprint, object by object.
 *
 * The fingerprints live in the history schema's table "fingerprint", one row per move, keyed
 * by the journal row of the move's last event (journal_seq). The schema is the database's, not
 * a project's: several projects sharing a history schema compare with the last fingerprint of
 * any of them. The history schema's own objects are never part of a snapshot.
 *
 * Canonical text (format 1): the line "sealift-fingerprint-1", then one line per object,
 * "KIND<TAB>NAME<TAB>DEFINITION", in the snapshot's order, each field with backslash, tab and
 * newline written as \\, \t and \n.
 */
#ifndef SEALIFT_APPLIER_DRIFT_H
#define SEALIFT_APPLIER_DRIFT_H

#include "db.h"
#include "history.h"
#include "snapshot.h"
#include "sealift/buf.h"
#include "sealift/diag.h"
#include "sealift/hash.h"

#include <stddef.h>

#define DRIFT_FORMAT       1
#define DRIFT_CANON_HEADER "sealift-fingerprint-1\n"
/* Largest compressed snapshot kept in a fingerprint row; above it, only the hash. */
#define DRIFT_SNAPSHOT_CAP (4u << 20)
/* Largest canonical text a stored snapshot may expand to (a guard against a crafted row). */
#define DRIFT_SNAPSHOT_MAX (256u << 20)
/* How many objects a one-line summary names before "and N more". */
#define DRIFT_SUMMARY_NAMES 10

/* The last fingerprint a history schema holds. */
struct drift_fingerprint {
    int found;
    long long journal_seq;
    char project[128];
    char event[32];
    char at[40]; /* UTC, the journal's timestamp text */
    char sha256[HASH_SHA256_HEX];
    long objects;
    int kept;         /* the snapshot itself was stored (else only its hash) */
    long later_moves; /* apply, rollback, stamp or adopt journal rows after it */
    /* no-transaction migrations whose statements ran after it (progress rows written since):
     * a run that was killed or lost its connection before it could record a fingerprint */
    long later_progress;
    struct snapshot snap; /* the stored snapshot, when kept and read with it */
};

enum drift_state {
    DRIFT_NO_FINGERPRINT, /* history from before fingerprints: not drift */
    DRIFT_NONE,           /* the live schema is the fingerprint's */
    DRIFT_FOUND,          /* objects added, missing or changed (diff lists them) */
    DRIFT_HASH_ONLY,      /* changed, but only the hash was kept: no object can be named */
    /*
     * The journal has moves after the last fingerprint (a plan script run by psql, an applier
     * without fingerprints, or one killed between two commits), or no-transaction statements
     * ran since: the schema moved by them, not by hand. Not drift, nothing to compare; the
     * next move records a fresh one.
     */
    DRIFT_STALE,
};

/* A comparison of the live schema with the last fingerprint. */
struct drift_result {
    enum drift_state state;
    struct drift_fingerprint fp;
    struct snapshot live;
    struct snapshot_diff diff; /* points into fp.snap and live */
    char live_sha256[HASH_SHA256_HEX];
    const char *const *ignore; /* borrowed: the schemas left out */
    size_t nignore;
    int ignore_unapplied; /* hash only and schemas to ignore: they could not be left out */
};

void drift_result_init(struct drift_result *r);
void drift_result_release(struct drift_result *r);

/* ---- pure: the canonical text and what belongs where (unit-tested) ---- */

/* Append the canonical text of s to out. */
void drift_canonical(const struct snapshot *s, struct buf *out);
/* Parse a canonical text into s (released first). Returns 0, or -1 with err set. */
int drift_parse(const char *text, size_t len, struct snapshot *s, struct diag_err *err);
/* Does the object belong to schema (a named schema's objects, the schema itself, its
 * comments, default privileges and extensions installed in it)? */
int drift_item_in_schema(const struct snapshot_item *it, const char *schema);
/* Drop from s the objects of any of the n schemas. */
void drift_filter(struct snapshot *s, const char *const *schemas, size_t n);

/* ---- the database ---- */

/* SQL that creates the fingerprint table if it is missing (idempotent; history upgrade). */
void drift_sql_table(const struct history_ctx *h, struct buf *out);

/*
 * Take a fingerprint of the connected database and store it, tied to the journal's last row,
 * for a move event ("apply", "rollback", "stamp", "baseline"). in_tx: inside the move's open
 * transaction, so that it describes what that transaction commits (a snapshot that fails
 * leaves it as it was; an INSERT that fails aborts it); else in a transaction of its own.
 * Returns 0, or -1 with e filled.
 */
int drift_record(struct db *db, const struct history_ctx *h, const char *event, int in_tx,
                 struct db_error *e);

/*
 * The last fingerprint in two steps: the query (appended to out, no ";"; with_snapshot: with
 * the snapshot, else NULL in its place), and fp from its result rows (found = 0 when none).
 * Returns 0, or -1 with e filled.
 */
void drift_sql_last(const struct history_ctx *h, int with_snapshot, struct buf *out);
int drift_last_of(const struct db_rows *r, struct drift_fingerprint *fp, struct db_error *e);

/* Load the last fingerprint (found = 0 when none, or when the table does not exist). */
int drift_load_last(struct db *db, const struct history_ctx *h, struct drift_fingerprint *fp,
                    struct db_error *e);
/*
 * drift_load_last without the snapshot (fp->kept stays 0): whether a fingerprint exists and
 * is current, for a caller that knows the fingerprint table exists.
 */
int drift_load_last_head(struct db *db, const struct history_ctx *h, struct drift_fingerprint *fp,
                         struct db_error *e);

/*
 * Compare the live schema with the last fingerprint, leaving out the nignore schemas of
 * ignore (borrowed: must outlive r). Returns 0 with r->state set, or -1 with e filled (also
 * for a stored snapshot that cannot be read).
 */
int drift_compare(struct db *db, const struct history_ctx *h, const char *const *ignore,
                  size_t nignore, struct drift_result *r, struct db_error *e);

#endif
