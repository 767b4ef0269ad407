/*
 * risk.h: the signed lint findings of the migrations a move would run, and their live risk:
 * for each relation they name, what the database says now (exists, size on disk, estimated
 * rows, transactions open for a while that hold or wait for locks on it), for plan and status.
 */
#ifndef SEALIFT_APPLIER_RISK_H
#define SEALIFT_APPLIER_RISK_H

#include "db.h"
#include "out.h"
#include "walk.h"
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
    char *name;     /* as the findings (or the statement) name it: "schema.name" */
    char *resolved; /* "schema.name" as the database resolved it, when it exists */
    int exists;
    long long bytes; /* pg_total_relation_size */
    double rows;     /* pg_class.reltuples: -1 when never analyzed */
    struct risk_holder *holders;
    size_t nholders;
};

/*
 * A statement no risky finding covers (the bundle was signed without the lint, or the lint
 * judged it safe) that names an existing relation: it still gets a size line, and the open
 * transactions on the relation, for it may wait behind them (sqltarget.h).
 */
struct risk_target {
    size_t mig;    /* the step (walk.h's idx: a migration, or a repeatable after them) */
    unsigned line; /* of the statement in its script */
    int verb;      /* enum sqltarget_verb */
    size_t rel;    /* index into risk.rels */
    int first;     /* the first line on rel in its migration (its open transactions follow) */
};

/*
 * The findings of script kind of migrations [lo, hi) and of the repeatables that run after
 * them, and (once queried) their relations. Steps are named as walk.h names them: migration
 * i is i, repeatable j is m->nmigrations + j.
 */
struct risk {
    const struct manifest *m;
    size_t lo, hi;
    int kind;
    size_t *reps; /* the repeatables that run after [lo, hi) (indexes into m->repeatables) */
    size_t nreps;
    struct risk_rel *rels;
    size_t nrels;
    struct risk_target *targets;
    size_t ntargets;
    int queried; /* 1 once risk_query succeeded */
};

struct script_src;

/*
 * Collect the relations named by the findings of kind of m's migrations [lo, hi), then of the
 * repeatables reps lists (copied; NULL: none, as for a down move), and with scripts (the
 * verified bundle's scripts, read again; NULL: findings only) those the statements name that
 * no finding covers, except relations an earlier statement of the move creates.
 */
void risk_init(struct risk *r, const struct manifest *m, size_t lo, size_t hi, int kind,
               const struct walk_reps *reps, struct script_src *scripts);
void risk_release(struct risk *r);

/*
 * Ask the database about every collected relation, in one query (none when there are no
 * relations). Returns 0, or -1 with e filled (the caller goes on without live risk).
 */
int risk_query(struct risk *r, struct db *db, struct db_error *e);

/* The number of steps of the move (migrations, then repeatables) and the idx of step s. */
size_t risk_nsteps(const struct risk *r);
size_t risk_step(const struct risk *r, size_t s);

/*
 * Append, for step idx (a migration within [lo, hi), or a repeatable of reps), one line per
 * finding and, once queried, one
 * risk line per affected statement and one per open transaction on its relation; each line
 * starts with prefix. Statements without a finding get a line only when their relation
 * exists. Nothing when the migration has neither.
 */
void risk_text(const struct risk *r, size_t idx, const char *prefix, struct buf *out);

/* Whether risk_text would append anything for step idx. */
int risk_has_lines(const struct risk *r, size_t idx);

/*
 * Append the JSON arrays of every finding ("migration" first: a migration's id, or a
 * repeatable's name) and of the risk lines.
 */
void risk_json_findings(const struct risk *r, struct buf *out);
void risk_json(const struct risk *r, struct buf *out);

/* Table lock modes: levels 0 (ACCESS SHARE) to 7 (ACCESS EXCLUSIVE), weakest first. */
#define RISK_LOCK_MODES 8
/* SHARE (level 4) and stronger keep others from writing; ACCESS EXCLUSIVE from reading too. */
#define RISK_LOCK_FIRST_BLOCKING 4
/* The level of a mode named as the documentation ("SHARE") or pg_locks ("ShareLock"); -1. */
int risk_lock_level(const char *mode);
/* The name of a level: the documentation's, or with pg pg_locks'; NULL out of range. */
const char *risk_lock_name(int level, int pg);
/* What a table lock mode keeps others from doing while it is held (either name). */
const char *risk_lock_blocks(const char *mode);

/* The label of step idx: ID_NAME of a migration, R__NAME of a repeatable. */
void risk_step_label(const struct manifest *m, size_t idx, struct buf *out);

/*
 * What apply says before it takes the migration lock: per step with findings or risk lines,
 * its label and the lines (text), or one "risk" event with the "findings" and "risk" arrays
 * (--json). Nothing with --quiet, nor when no step has a finding or risk line.
 */
void risk_announce(const struct risk *r, struct out *out);

#endif
