/*
 * risk.h: the signed lint findings of the migrations a move would run, and their live risk:
 * for each relation they name, what the database says now (exists, size on disk, estimated
 * rows, transactions open for a while that hold or wait for locks on it), for plan and status.
 */
#ifndef SEALIFT_APPLIER_RISK_H
#define SEALIFT_APPLIER_RISK_H

#include "db.h"
#include "sealift/buf.h"
#include "sealift/manifest.h"

/* Transactions open for less than this many seconds are not named (they come and go). */
#define RISK_MIN_AGE_S 5

/* A transaction that holds (granted) or waits for a lock on a relation. */
struct risk_holder {
    char *pid;
    char *state;   /* pg_stat_activity.state, e.g. "idle in transaction" */
    char *seconds; /* since its transaction started */
    char *mode;    /* pg_locks.mode, e.g. "AccessShareLock" */
    int granted;
};

struct risk_rel {
    char *name; /* as the findings name it: "schema.name" */
    int exists;
    long long bytes; /* pg_total_relation_size */
    double rows;     /* pg_class.reltuples: -1 when never analyzed */
    struct risk_holder *holders;
    size_t nholders;
};

/* The findings of script kind of migrations [lo, hi), and (once queried) their relations. */
struct risk {
    const struct manifest *m;
    size_t lo, hi;
    int kind;
    struct risk_rel *rels;
    size_t nrels;
    int queried; /* 1 once risk_query succeeded */
};

/* Collect the relations named by the findings of kind of m's migrations [lo, hi). */
void risk_init(struct risk *r, const struct manifest *m, size_t lo, size_t hi, int kind);
void risk_release(struct risk *r);

/*
 * Ask the database about every collected relation, in one query (none when there are no
 * relations). Returns 0, or -1 with e filled (the caller goes on without live risk).
 */
int risk_query(struct risk *r, struct db *db, struct db_error *e);

/*
 * Append, for migration idx (within [lo, hi)), one line per finding and, once queried, one
 * risk line per affected statement and one per open transaction on its relation; each line
 * starts with prefix. Nothing when the migration has no findings.
 */
void risk_text(const struct risk *r, size_t idx, const char *prefix, struct buf *out);

/* Append the JSON arrays of every finding ("migration" first) and of the risk lines. */
void risk_json_findings(const struct risk *r, struct buf *out);
void risk_json(const struct risk *r, struct buf *out);

#endif
