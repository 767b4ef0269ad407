/*
 * lint.h: the migration safety lint: what each statement locks, rewrites and scans on
 * PostgreSQL, judged per relation with the chain's context, and the rules that turn that into
 * findings (docs/lint.md lists every rule, its why and its safe alternative).
 *
 * Two stages, so that the expensive one runs on every core:
 *   1. lint_extract() (lint_tree.c, which reads libpg_query's parse tree) turns one script
 *      into a list of neutral operations per statement ("adds column c to public.t with a
 *      volatile default"), plus its "-- sealift:allow" comments. Scripts are independent.
 *   2. lint_chain() (lint.c) walks those in chain order, knows which relations the chain
 *      created where (a relation created earlier in the same script is new: no lock finding;
 *      one created by an earlier migration is existing, and the finding says which), applies
 *      the rules and the suppressions, and returns findings in chain order. The repeatables
 *      come last, in the order they run: after the whole chain, so everything the chain
 *      created is existing to them.
 */
#ifndef SEALIFT_COMPILER_LINT_H
#define SEALIFT_COMPILER_LINT_H

#include "chain.h"

#include <stddef.h>

/* PostgreSQL's table lock modes, weakest first (the numbers of lockdefs.h). */
enum lint_lock {
    LINT_LOCK_NONE = 0,
    LINT_LOCK_ACCESS_SHARE = 1,
    LINT_LOCK_ROW_SHARE = 2,
    LINT_LOCK_ROW_EXCLUSIVE = 3,
    LINT_LOCK_SHARE_UPDATE_EXCLUSIVE = 4,
    LINT_LOCK_SHARE = 5,
    LINT_LOCK_SHARE_ROW_EXCLUSIVE = 6,
    LINT_LOCK_EXCLUSIVE = 7,
    LINT_LOCK_ACCESS_EXCLUSIVE = 8
};

/* "ACCESS EXCLUSIVE", ...; "" for LINT_LOCK_NONE. */
const char *lint_lock_name(int lock);
/* What other sessions' statements the lock makes wait: "reads, writes and DDL", ... */
const char *lint_lock_blocks(int lock);
/* The lock mode of a name as lint_lock_name spells it, or -1. */
int lint_lock_parse(const char *name);

enum lint_severity { LINT_INFO = 0, LINT_WARNING = 1, LINT_ERROR = 2 };

/* "info", "warning", "error". */
const char *lint_severity_name(int severity);

/* --lint: per-rule defaults, or every finding at one severity, or no lint at all. */
enum lint_mode { LINT_MODE_DEFAULT = 0, LINT_MODE_ERROR, LINT_MODE_WARN, LINT_MODE_OFF };

#define LINT_PG_VERSION_DEFAULT 15

/* A rule: its stable name, default severity, and the safe alternative (docs/lint.md). */
struct lint_rule {
    const char *name;
    int severity;
    const char *help;
};

/* The rule table (lint_rules.c), and a rule by name (NULL if none). */
extern const struct lint_rule lint_rules[];
extern const size_t lint_nrules;
const struct lint_rule *lint_rule_find(const char *name, size_t len);

/* ---- stage 1: what a statement does (filled by lint_tree.c) ---- */

enum lint_op_kind {
    LINT_OP_CREATE_TABLE,    /* rel; columns follow as LINT_OP_COLUMN */
    LINT_OP_COLUMN,          /* rel, name, type: a column of a table created here */
    LINT_OP_CREATE_INDEX,    /* rel (table), name (index, qualified; NULL if unnamed) */
    LINT_OP_ADD_COLUMN,      /* rel, name, type */
    LINT_OP_ALTER_TYPE,      /* rel, name, type */
    LINT_OP_SET_NOT_NULL,    /* rel, name */
    LINT_OP_ADD_CHECK,       /* rel, name (constraint), other (column of "col IS NOT NULL") */
    LINT_OP_ADD_FOREIGN,     /* rel, name, other (referenced table) */
    LINT_OP_ADD_UNIQUE,      /* rel, name; sub: 'p' primary key, 'u' unique, 'x' exclusion */
    LINT_OP_VALIDATE,        /* rel, name (constraint) */
    LINT_OP_DROP_INDEX,      /* name (index, qualified) */
    LINT_OP_REINDEX,         /* rel (table or index), sub: 'i' index, 't' table, 's' schema... */
    LINT_OP_DETACH,          /* rel (parent), name (partition) */
    LINT_OP_ATTACH,          /* rel (parent), name (partition) */
    LINT_OP_VACUUM_FULL,     /* rel, or NULL for every table */
    LINT_OP_CLUSTER,         /* rel */
    LINT_OP_LOCK_TABLE,      /* rel, lock */
    LINT_OP_UPDATE_ALL,      /* rel */
    LINT_OP_DELETE_ALL,      /* rel */
    LINT_OP_ENUM_ADD,        /* name (type), other (the new value) */
    LINT_OP_RENAME_TABLE,    /* rel, other (new name) */
    LINT_OP_RENAME_COLUMN,   /* rel, name, other (new name) */
    LINT_OP_DROP_TABLE,      /* rel */
    LINT_OP_DROP_COLUMN,     /* rel, name */
    LINT_OP_TRUNCATE,        /* rel */
    LINT_OP_DROP_OTHER,      /* name: the kind of object dropped (for DROP ... CASCADE) */
    LINT_OP_LONG_IDENT,      /* name: an identifier over 63 bytes, as written */
    LINT_OP_ALTER_REWRITE,   /* rel, other: SET TABLESPACE, SET LOGGED... (they rewrite), name:
                                the tablespace or access method; sub: 't', 'l', 'u', 'a' */
    LINT_OP_REFRESH_MATVIEW, /* rel */
    LINT_OP_ALTER_OTHER,     /* rel, lock, other (the statement, for the message; NULL: ALTER
                                TABLE): a lock no rule concerns (judged by blocking-lock) */
    LINT_OP_CHILD,           /* rel (parent), name (child), lock (on the parent); sub: 'p'
                                partition, 'i' inheritance child */
    LINT_OP_DOMAIN           /* name (the domain's last name); sub: 'c' created (type: its
                                base type; LINT_F_INLINE_CHECK: with a CHECK or NOT NULL), 'a'
                                ADD CONSTRAINT, 'v' VALIDATE, 'n' SET NOT NULL */
};

/* Flags of an operation. */
#define LINT_F_CONCURRENT   0x0001
#define LINT_F_IF_EXISTS    0x0002 /* IF [NOT] EXISTS */
#define LINT_F_CASCADE      0x0004
#define LINT_F_NOT_VALID    0x0008
#define LINT_F_USING_INDEX  0x0010
#define LINT_F_DEFAULT      0x0020 /* a non-NULL DEFAULT */
#define LINT_F_VOLATILE     0x0040 /* the DEFAULT calls a volatile function */
#define LINT_F_NONCONST     0x0080 /* the DEFAULT calls a function not known to be stable */
#define LINT_F_STORED       0x0100 /* GENERATED ALWAYS AS (...) STORED */
#define LINT_F_IDENTITY     0x0200 /* GENERATED ... AS IDENTITY */
#define LINT_F_SERIAL       0x0400 /* serial, bigserial, smallserial */
#define LINT_F_NOT_NULL     0x0800
#define LINT_F_USING        0x1000  /* ALTER COLUMN TYPE ... USING */
#define LINT_F_REFERENCES   0x2000  /* ADD COLUMN ... REFERENCES */
#define LINT_F_INLINE_INDEX 0x4000  /* ADD COLUMN ... PRIMARY KEY / UNIQUE */
#define LINT_F_INLINE_CHECK 0x8000  /* ADD COLUMN ... CHECK */
#define LINT_F_ONLY         0x10000 /* ONLY rel: the statement does not recurse to children */
#define LINT_F_UNLOGGED     0x20000 /* CREATE UNLOGGED TABLE */
#define LINT_F_STORAGE      0x40000 /* CREATE TABLE ... USING / TABLESPACE: not the defaults */
#define LINT_F_PARTITIONED  0x80000 /* CREATE TABLE ... PARTITION BY: no storage of its own */

/* A column type as written: its last name ("varchar", "int4"), up to two modifiers. */
struct lint_type {
    char *name;
    int mod[2]; /* -1 when absent */
    int array;
};

struct lint_op {
    int kind; /* enum lint_op_kind */
    char *rel;
    char *name;
    char *other;
    struct lint_type type;
    unsigned flags;
    int lock;
    char sub;
};

struct lint_stmt {
    size_t offset; /* of the first token, in the script's rendered text */
    /*
     * Its line and column (1-based), or 0, 0 until the first finding needs them: counting lines
     * for every statement of a chain costs more than the few that get a finding
     * (lint_position_at).
     */
    unsigned line, col;
    struct lint_op *ops;
    size_t nops;
    size_t ops_cap;
};

/* A "-- sealift:allow RULE[,RULE] reason" comment. */
struct lint_allow {
    unsigned line, col;
    size_t stmt;  /* the statement it precedes; SIZE_MAX: the whole file (before the first) */
    char **rules; /* as written */
    size_t nrules;
    char *reason; /* NULL when none was given (or it was longer than LINT_MAX_REASON) */
    int too_long;
    int used;
};

/* Longest allow reason (bytes): it is signed into the manifest with the finding. */
#define LINT_MAX_REASON 500

struct lint_script {
    struct lint_stmt *stmts;
    size_t nstmts;
    size_t stmts_cap;
    struct lint_allow *allows;
    size_t nallows;
    size_t allows_cap;
};

/*
 * Does the lint need the parse tree of the statement sql[start, end)? Only statements that can
 * lock, rewrite, create or drop a table do. sqlcheck_script's want callback.
 */
int lint_wants_tree(const char *sql, size_t start, size_t end);

/*
 * Extract s's operations into out (zeroed first). s must have been checked by
 * sqlcheck_script with lint_wants_tree and trees (s->stmts set, the operations pgnodes.c read
 * from their parse trees in trees): those are moved out of trees into out. Thread-safe.
 * Release with lint_script_release.
 */
struct sqltrees;
void lint_extract(const struct src_script *s, struct sqltrees *trees, struct lint_script *out);
void lint_script_release(struct lint_script *ls);
/* Append an operation to st (rel and name copied; no flags, no lock, no type). */
struct lint_op *lint_add_op(struct lint_stmt *st, int kind, const char *rel, const char *name);
/*
 * Line and column of offsets that mostly grow through one script: each is counted from the one
 * before (a smaller one from the start), so that a script of many statements is not read from
 * its start for each. Start with {text, 0, 1, 1}.
 */
struct lint_position {
    const char *text;
    size_t off;
    unsigned line, col;
};
void lint_position_at(struct lint_position *p, size_t off, unsigned *line, unsigned *col);
/* Free a statement's operations (leaving it with none). */
void lint_stmt_release_ops(struct lint_stmt *st);

/* ---- stage 2: findings ---- */

struct lint_finding {
    const struct lint_rule *rule;
    int severity;     /* after --lint */
    size_t mig;       /* job in the chain (chain_job: migrations, then repeatables) */
    int kind;         /* MANIFEST_UP, ... */
    const char *file; /* the script's path (borrowed from the chain) */
    unsigned line, col;
    char *relation; /* schema-qualified; NULL when the finding concerns none */
    /* The migration (ID_NAME) or repeatable (NAME) that created relation; NULL: not the chain */
    char *created_by;
    size_t created_mig; /* its job in the chain, or SIZE_MAX */
    int lock;
    int rewrites;
    int scans;
    char *message;
    char *allowed; /* the reason, when a "-- sealift:allow" covers it */
    /* In a released migration, or a repeatable sealift.sum records as it is (lint_options). */
    int released;
    /* Why an error is reported as a warning ("released migration", "down script"), or NULL. */
    const char *not_enforced;
    int signed_severity; /* what the manifest records: the severity before not_enforced */
};

struct lint_options {
    int mode;       /* enum lint_mode */
    int pg_version; /* major version the migrations target */
    /*
     * Migrations before this index are released (recorded in sealift.sum): they can no longer
     * change, so under LINT_MODE_DEFAULT their errors are reported as warnings, not enforced.
     * So are the errors of down scripts, which run only in a rollback: what fails a build is
     * what a release's deploy will run (up and verify scripts of new migrations).
     */
    size_t first_new;
    /*
     * Per repeatable (in the chain's order), or NULL for none: 1 when sealift.sum records it
     * as it is now. A build ran it before, so like a released migration it is judged but its
     * errors are not enforced; a new or changed repeatable's are.
     */
    const unsigned char *rep_released;
};

struct lint_result {
    struct lint_finding *v;
    size_t n;
    size_t cap;
    size_t errors; /* findings not allowed, by effective severity */
    size_t warnings;
    size_t infos;
    size_t allowed;
};

void lint_result_init(struct lint_result *r);
void lint_result_release(struct lint_result *r);

/*
 * Judge a chain: scripts[j * MANIFEST_NSCRIPTS + k] holds the extraction of script k of job j
 * (chain_job: migration j, or repeatable j - ch->n; a missing script's entry is empty). The
 * array has (ch->n + ch->nrep) * MANIFEST_NSCRIPTS entries. Findings are appended to out in
 * chain order (up, down, verify of each migration, then each repeatable's script).
 */
void lint_chain(const struct src_chain *ch, const struct lint_script *scripts,
                const struct lint_options *opt, struct lint_result *out);

/* ---- output (lint_report.c) ---- */

enum lint_format { LINT_FORMAT_TEXT, LINT_FORMAT_JSON, LINT_FORMAT_SARIF };

/*
 * Append the findings to out: text ("FILE:LINE:COL: severity[rule]: message" and a "help:"
 * line; allowed findings only with show_allowed), a JSON array, or a SARIF 2.1.0 log.
 */
void lint_format(const struct src_chain *ch, const struct lint_result *r, int format,
                 int show_allowed, struct buf *out);

/*
 * The text form, leaving out released findings (lint_finding.released) with hide_released
 * unless they are errors (--lint error), and allowed ones unless show_allowed.
 */
void lint_format_text(const struct lint_result *r, int hide_released, int show_allowed,
                      struct buf *out);

/* The JSON object of one finding (for check --json). */
void lint_format_finding_json(const struct src_chain *ch, const struct lint_finding *f,
                              struct buf *out);

#endif
