/*
 * lint.c: the lint's second stage: the chain's context (which relation, column, index and
 * NOT NULL check the chain created where), the rules, and "-- sealift:allow" suppressions.
 * Layer: compiler. Pure: no parser, no I/O; lint_extract() gave it each script's operations.
 */
#include "lint.h"
#include "spill.h"
#include "sealift/xalloc.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const lock_names[] = {
    "",      "ACCESS SHARE",        "ROW SHARE", "ROW EXCLUSIVE",   "SHARE UPDATE EXCLUSIVE",
    "SHARE", "SHARE ROW EXCLUSIVE", "EXCLUSIVE", "ACCESS EXCLUSIVE"};

const char *
lint_lock_name(int lock)
{
    return lock >= 0 && lock <= LINT_LOCK_ACCESS_EXCLUSIVE ? lock_names[lock] : "";
}

int
lint_lock_parse(const char *name)
{
    for (int i = 1; i <= LINT_LOCK_ACCESS_EXCLUSIVE; i++)
        if (strcmp(name, lock_names[i]) == 0)
            return i;
    return -1;
}

/* PostgreSQL's lock conflict table, read as "whose statements wait". */
const char *
lint_lock_blocks(int lock)
{
    switch (lock) {
    case LINT_LOCK_ACCESS_EXCLUSIVE:
        return "reads, writes and DDL";
    case LINT_LOCK_EXCLUSIVE:
    case LINT_LOCK_SHARE_ROW_EXCLUSIVE:
    case LINT_LOCK_SHARE:
        return "writes and DDL";
    case LINT_LOCK_SHARE_UPDATE_EXCLUSIVE:
        return "DDL, VACUUM and index builds";
    case LINT_LOCK_ROW_EXCLUSIVE:
        return "index builds and DDL";
    case LINT_LOCK_ROW_SHARE:
    case LINT_LOCK_ACCESS_SHARE:
        return "DDL that takes an exclusive lock";
    default:
        return "";
    }
}

const char *
lint_severity_name(int severity)
{
    return severity == LINT_ERROR ? "error" : severity == LINT_WARNING ? "warning" : "info";
}

void
lint_result_init(struct lint_result *r)
{
    memset(r, 0, sizeof(*r));
}

void
lint_result_release(struct lint_result *r)
{
    for (size_t i = 0; i < r->n; i++) {
        free(r->v[i].relation);
        free(r->v[i].created_by);
        free(r->v[i].message);
        free(r->v[i].allowed);
    }
    free(r->v);
    lint_result_init(r);
}

/* ---- a small string map (open addressing): name -> index into a table ---- */

/*
 * A chain of 10,000 migrations puts some 50,000 names here: their bytes go one after another
 * into pool, not into a block of their own each (one allocation instead of 50,000, and
 * probes that read nearby memory).
 */
struct smap_slot {
    uint64_t hash; /* of the key, kept: growing rehashes no string, probes compare few */
    size_t key;    /* 1 + the offset of the key in pool; 0: a free slot */
    size_t val;
};

/*
 * A slot's hash, key and value side by side: on a long chain the tables outgrow the caches,
 * and a probe reads one line of memory instead of one per field.
 */
struct smap {
    struct buf pool; /* every key, NUL-terminated */
    struct smap_slot *slots;
    size_t cap; /* a power of two, or 0 */
    size_t n;
};

static uint64_t
smap_hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL;

    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

/* The value of key (hash h), or NULL and in *pos the free slot where it would go. */
static size_t *
smap_slot(const struct smap *m, const char *key, uint64_t h, size_t *pos)
{
    size_t i;

    if (m->cap == 0)
        return NULL;
    for (i = h & (m->cap - 1); m->slots[i].key; i = (i + 1) & (m->cap - 1))
        if (m->slots[i].hash == h && strcmp(m->pool.data + m->slots[i].key - 1, key) == 0) {
            *pos = i;
            return &m->slots[i].val;
        }
    *pos = i;
    return NULL;
}

static size_t
smap_get(const struct smap *m, const char *key)
{
    size_t pos;
    const size_t *v = m->cap ? smap_slot(m, key, smap_hash(key), &pos) : NULL;

    return v ? *v : SIZE_MAX;
}

/*
 * The value of key, added with value val if it was not there (*added says which): one hash
 * and one probe where a get and a put would take two each.
 */
static size_t *
smap_add(struct smap *m, const char *key, size_t val, int *added)
{
    uint64_t h = smap_hash(key);
    size_t pos;
    size_t *v;

    if ((m->n + 1) * 2 > m->cap) {
        struct smap bigger = {m->pool, NULL, m->cap ? m->cap * 2 : 64, 0};

        bigger.slots = xcalloc(bigger.cap, sizeof(*bigger.slots));
        for (size_t i = 0; i < m->cap; i++) {
            size_t j;

            if (m->slots[i].key == 0)
                continue;
            /* Keys are distinct: the first free slot of the probe is the one. */
            for (j = m->slots[i].hash & (bigger.cap - 1); bigger.slots[j].key;
                 j = (j + 1) & (bigger.cap - 1))
                ;
            bigger.slots[j] = m->slots[i];
            bigger.n++;
        }
        free(m->slots);
        *m = bigger;
    }
    v = smap_slot(m, key, h, &pos);
    *added = v == NULL;
    if (v)
        return v;
    m->slots[pos].hash = h;
    m->slots[pos].key = m->pool.len + 1;
    m->slots[pos].val = val;
    buf_add(&m->pool, key, strlen(key) + 1);
    m->n++;
    return &m->slots[pos].val;
}

static void
smap_put(struct smap *m, const char *key, size_t val)
{
    int added;

    *smap_add(m, key, val, &added) = val;
}

static void
smap_release(struct smap *m)
{
    buf_release(&m->pool);
    free(m->slots);
    memset(m, 0, sizeof(*m));
}

/* ---- the chain's context ---- */

/* Where something was created: migration, script kind, and whether it is still there. */
struct origin {
    size_t mig;
    int kind;
    int gone; /* dropped since */
    /* Created IF NOT EXISTS by a repeatable, which finds it there when it runs again. */
    int rerun;
};

/* A column the chain created (CREATE TABLE or ADD COLUMN), with its current type. */
struct col_info {
    struct origin at;
    const struct lint_type *type; /* of the operation that set it (the extraction's) */
    const char *rel;              /* its table (the extraction's) */
};

/* What the chain knows of a relation it created, besides where (rel_v, same index). */
struct rel_extra {
    unsigned flags; /* LINT_F_UNLOGGED, LINT_F_STORAGE, LINT_F_PARTITIONED */
    size_t parent;  /* index of its parent (partition or inheritance child), or SIZE_MAX */
    char sub;       /* 'p' partition, 'i' inheritance child (with parent) */
    size_t nchild;  /* relations whose parent it is: none, and no statement looks for them */
    char *name;
};

/* A relation a statement locks in a mode that blocks writes (judged after its operations). */
struct lock_target {
    const char *rel; /* borrowed from the operation, or from rel_extra.name */
    int lock;
    int scans;
    const char *what; /* the statement, for the message */
    const char *from; /* the parent it was locked through (recursion), or NULL */
    const char *rule; /* the finding if no rule flags the relation (NULL: blocking-lock) */
};

/* A NOT VALID or valid constraint the chain added ("rel|con"). */
struct con_info {
    struct origin at;
    int valid;
    int transactional;  /* its script ran in one transaction */
    char *not_null_col; /* the column of a CHECK (col IS NOT NULL), or NULL */
};

struct index_info {
    struct origin at;
    const char *table; /* the operation's (the extraction outlives the context) */
};

struct ctx {
    const struct src_chain *ch;
    const struct lint_options *opt;
    struct lint_result *out;
    /* Created by ups of the chain so far (global), or by the current down/verify script. */
    struct smap rels, cols, cons, idxs;
    struct origin *rel_v;
    struct rel_extra *relx_v;
    size_t nrel, rel_cap, relx_cap;
    /* The current statement's locks that block writes, on relations that are not new. */
    struct lock_target *lt_v;
    size_t nlt, lt_cap;
    struct col_info *col_v;
    size_t ncol, col_cap;
    struct con_info *con_v;
    size_t ncon, con_cap;
    struct index_info *idx_v;
    size_t nidx, idx_cap;
    /* Validated "rel|col IS NOT NULL" checks. */
    struct smap not_null_ok;
    /* Domains with a CHECK or NOT NULL constraint (by last name): a column of one rewrites. */
    struct smap checked_domains;
    /* Every domain the chain created: its base type (domain_v, the extraction's). */
    struct smap domains;
    const struct lint_type **domain_v;
    size_t ndomain, domain_cap;
    /* The script being judged. */
    size_t mig;
    int kind;
    const struct src_script *script;
    const struct lint_script *ls;
    struct buf text; /* the script's text when it was read back from the chain's spill */
    struct spill_reader reader;
    struct lint_position pos; /* the script's, for the statements that get a finding */
    size_t stmt;
    size_t first_finding;          /* of the current statement */
    struct smap dropped_if_exists; /* DROP INDEX CONCURRENTLY IF EXISTS names of the script */
    struct smap local_rels;        /* relations a down or verify script created itself */
    struct buf key;                /* key2()'s */
    int skip_columns;              /* the columns that follow belong to a no-op CREATE */
};

/*
 * Only ups change the context: a down or verify script is judged against what the chain
 * created up to its migration, and what it creates or drops is its own (local_rels).
 */
static int
recording(const struct ctx *c)
{
    return c->kind == MANIFEST_UP;
}

static struct origin *
rel_get(struct ctx *c, const char *rel)
{
    size_t i = rel ? smap_get(&c->rels, rel) : SIZE_MAX;

    return i == SIZE_MAX || c->rel_v[i].gone ? NULL : &c->rel_v[i];
}

static void
rel_put(struct ctx *c, const char *rel)
{
    size_t i;
    int added;

    if (!recording(c)) {
        smap_put(&c->local_rels, rel, 1);
        return;
    }
    i = *smap_add(&c->rels, rel, c->nrel, &added);
    if (added) {
        c->rel_v = xgrow(c->rel_v, &c->rel_cap, c->nrel + 1, sizeof(*c->rel_v));
        c->relx_v = xgrow(c->relx_v, &c->relx_cap, c->nrel + 1, sizeof(*c->relx_v));
        c->relx_v[i].name = xstrdup(rel);
        c->nrel++;
    }
    c->rel_v[i].mig = c->mig;
    c->rel_v[i].kind = c->kind;
    c->rel_v[i].gone = 0;
    c->rel_v[i].rerun = 0;
    c->relx_v[i].flags = 0;
    c->relx_v[i].parent = SIZE_MAX;
    c->relx_v[i].sub = 0;
    c->relx_v[i].nchild = 0;
}

/* The chain's extra knowledge of rel (created by an up, still there), or NULL. */
static struct rel_extra *
relx_get(struct ctx *c, const char *rel)
{
    size_t i = rel ? smap_get(&c->rels, rel) : SIZE_MAX;

    return i == SIZE_MAX || c->rel_v[i].gone ? NULL : &c->relx_v[i];
}

/* Created earlier in this very script: new to the lint, nobody else can be using it. */
static int
is_new(const struct ctx *c, const struct origin *o)
{
    return o && o->mig == c->mig && o->kind == c->kind && !o->rerun;
}

/* New, or (in a down script) created by the up of the same migration, which the down undoes. */
static int
is_own(const struct ctx *c, const struct origin *o)
{
    return is_new(c, o) || (o && o->mig == c->mig && o->kind == MANIFEST_UP && !o->rerun);
}

/* "a|b" in c->key (overwritten by the next call): the key of a column or constraint. */
static const char *
key2(struct ctx *c, const char *a, const char *b)
{
    buf_reset(&c->key);
    buf_addstr(&c->key, a ? a : "");
    buf_addch(&c->key, '|');
    buf_addstr(&c->key, b ? b : "");
    return c->key.data;
}

static struct col_info *
col_get(struct ctx *c, const char *rel, const char *col)
{
    const char *k = key2(c, rel, col);
    size_t i = smap_get(&c->cols, k);

    return i == SIZE_MAX || c->col_v[i].at.gone ? NULL : &c->col_v[i];
}

static void
col_put(struct ctx *c, const char *rel, const char *col, const struct lint_type *t)
{
    const char *table = rel;
    size_t i;
    int added;

    if (!recording(c))
        return;
    i = *smap_add(&c->cols, key2(c, rel, col), c->ncol, &added);
    if (added) {
        c->col_v = xgrow(c->col_v, &c->col_cap, c->ncol + 1, sizeof(*c->col_v));
        c->ncol++;
        memset(&c->col_v[i], 0, sizeof(c->col_v[i]));
    }
    c->col_v[i].at.mig = c->mig;
    c->col_v[i].at.kind = c->kind;
    c->col_v[i].at.gone = 0;
    c->col_v[i].type = t;
    c->col_v[i].rel = table;
}

static struct con_info *
con_get(struct ctx *c, const char *rel, const char *con)
{
    const char *k = key2(c, rel, con);
    size_t i = smap_get(&c->cons, k);

    return i == SIZE_MAX ? NULL : &c->con_v[i];
}

static struct con_info *
con_put(struct ctx *c, const char *rel, const char *con)
{
    int added;
    size_t i = *smap_add(&c->cons, key2(c, rel, con), c->ncon, &added);

    if (added) {
        c->con_v = xgrow(c->con_v, &c->con_cap, c->ncon + 1, sizeof(*c->con_v));
        c->ncon++;
        memset(&c->con_v[i], 0, sizeof(c->con_v[i]));
    }
    c->con_v[i].at.mig = c->mig;
    c->con_v[i].at.kind = c->kind;
    c->con_v[i].transactional = c->script->transactional;
    free(c->con_v[i].not_null_col);
    c->con_v[i].not_null_col = NULL;
    return &c->con_v[i];
}

static struct index_info *
idx_get(struct ctx *c, const char *name)
{
    size_t i = name ? smap_get(&c->idxs, name) : SIZE_MAX;

    return i == SIZE_MAX || c->idx_v[i].at.gone ? NULL : &c->idx_v[i];
}

static void
idx_put(struct ctx *c, const char *name, const char *table)
{
    size_t i;
    int added;

    if (!recording(c))
        return;
    i = *smap_add(&c->idxs, name, c->nidx, &added);
    if (added) {
        c->idx_v = xgrow(c->idx_v, &c->idx_cap, c->nidx + 1, sizeof(*c->idx_v));
        c->nidx++;
        memset(&c->idx_v[i], 0, sizeof(c->idx_v[i]));
    }
    c->idx_v[i].at.mig = c->mig;
    c->idx_v[i].at.kind = c->kind;
    c->idx_v[i].at.gone = 0;
    c->idx_v[i].table = table;
}

static void
not_null_ok_put(struct ctx *c, const char *rel, const char *col)
{
    if (!recording(c))
        return;
    smap_put(&c->not_null_ok, key2(c, rel, col), 1);
}

static int
not_null_ok(struct ctx *c, const char *rel, const char *col)
{
    const char *k = key2(c, rel, col);
    return smap_get(&c->not_null_ok, k) != SIZE_MAX;
}

/* ---- findings ---- */

#define UNCERTAIN 0x1 /* the lint cannot tell for sure: at most a warning */

static const struct lint_rule *
rule(const char *name)
{
    return lint_rule_find(name, strlen(name));
}

/* ID_NAME of a migration; a repeatable's name (its id: it has no other). */
static char *
migration_label(const struct src_chain *ch, size_t mig)
{
    const struct src_migration *m = chain_job(ch, mig);

    return m->name[0] ? xasprintf("%s_%s", m->id, m->name) : xstrdup(m->id);
}

/*
 * Record a finding of rule name for the current statement: what it does (fmt), on relation
 * rel with lock (0: none), rewrite and scan flags. One finding per rule and relation per
 * statement.
 */
static void finding(struct ctx *c, const char *name, const char *rel, int lock, int rewrites,
                    int scans, unsigned flags, const char *fmt, ...)
    __attribute__((format(printf, 8, 9)));

static void
finding(struct ctx *c, const char *name, const char *rel, int lock, int rewrites, int scans,
        unsigned flags, const char *fmt, ...)
{
    const struct lint_rule *r = rule(name);
    /* Its line and column are counted here, once (lint_extract leaves them 0). */
    struct lint_stmt *st = (struct lint_stmt *)&c->ls->stmts[c->stmt];
    struct lint_finding *f;
    struct origin *o = rel_get(c, rel);
    char what[800]; /* messages go into the manifest (MANIFEST_MAX_TEXT) */
    va_list ap;

    for (size_t i = c->first_finding; i < c->out->n; i++)
        if (c->out->v[i].rule == r &&
            ((!rel && !c->out->v[i].relation) ||
             (rel && c->out->v[i].relation && strcmp(rel, c->out->v[i].relation) == 0)))
            return;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    c->out->v = xgrow(c->out->v, &c->out->cap, c->out->n + 1, sizeof(*c->out->v));
    f = &c->out->v[c->out->n++];
    memset(f, 0, sizeof(*f));
    f->rule = r;
    f->severity = r->severity;
    if ((flags & UNCERTAIN) && f->severity > LINT_WARNING)
        f->severity = LINT_WARNING;
    f->mig = c->mig;
    f->kind = c->kind;
    f->file = c->script->file;
    if (st->line == 0)
        lint_position_at(&c->pos, st->offset, &st->line, &st->col);
    f->line = st->line;
    f->col = st->col;
    f->relation = rel ? xstrdup(rel) : NULL;
    f->created_by = o && o->kind == MANIFEST_UP ? migration_label(c->ch, o->mig) : NULL;
    f->created_mig = o && o->kind == MANIFEST_UP ? o->mig : SIZE_MAX;
    f->lock = lock;
    f->rewrites = rewrites;
    f->scans = scans;
    /* A partitioned table has no storage of its own: its partitions are rewritten (below). */
    if (rel && relx_get(c, rel) && (relx_get(c, rel)->flags & LINT_F_PARTITIONED))
        f->rewrites = 0;
    if (lock && rel)
        f->message = xasprintf("%s (%s lock on %s blocks %s)", what, lint_lock_name(lock), rel,
                               lint_lock_blocks(lock));
    else
        f->message = xstrdup(what);
}

/* ---- ALTER COLUMN TYPE: which changes PostgreSQL 15 makes without a rewrite ---- */

static int
same(const char *a, const char *b)
{
    return a && b && strcmp(a, b) == 0;
}

static int
is_time_type(const char *t)
{
    return same(t, "timestamp") || same(t, "timestamptz") || same(t, "time") || same(t, "timetz") ||
           same(t, "interval");
}

/*
 * Is from -> to binary-coercible with a typmod that only widens (no rewrite, no scan)? The
 * cases of PostgreSQL's varchar_support, numeric_support, timestamp_support and varbit_support,
 * and the binary-coercible casts varchar <-> text and cidr -> inet.
 */
static int
type_change_is_free(const struct lint_type *from, const struct lint_type *to, int using)
{
    if (using || from->array != to->array || !from->name || !to->name)
        return 0;
    if (same(from->name, to->name) && from->mod[0] == to->mod[0] && from->mod[1] == to->mod[1])
        return 1;
    if ((same(from->name, "varchar") || same(from->name, "text")) && same(to->name, "text"))
        return 1;
    if ((same(from->name, "varchar") || same(from->name, "text")) && same(to->name, "varchar") &&
        to->mod[0] < 0)
        return 1;
    if ((same(from->name, "varchar") || same(from->name, "varbit")) && same(from->name, to->name))
        return to->mod[0] < 0 || (from->mod[0] >= 0 && to->mod[0] >= from->mod[0]);
    if (same(from->name, "numeric") && same(to->name, "numeric")) {
        int fs = from->mod[1] < 0 ? 0 : from->mod[1], ts = to->mod[1] < 0 ? 0 : to->mod[1];

        return to->mod[0] < 0 || (from->mod[0] >= 0 && to->mod[0] >= from->mod[0] && ts == fs);
    }
    if (is_time_type(from->name) && same(from->name, to->name) && !same(from->name, "interval")) {
        int fp = from->mod[0] < 0 ? 6 : from->mod[0], tp = to->mod[0] < 0 ? 6 : to->mod[0];

        return tp >= fp;
    }
    if (same(from->name, "cidr") && same(to->name, "inet"))
        return 1;
    return 0;
}

/*
 * timestamp <-> timestamptz with a precision that does not shrink: PostgreSQL 12+ makes it
 * without a rewrite when the session's TimeZone is UTC (the values are the same then), and
 * rewrites otherwise: the lint cannot know the server's setting.
 */
static int
type_change_free_in_utc(const struct lint_type *from, const struct lint_type *to, int using)
{
    int fp = from->mod[0] < 0 ? 6 : from->mod[0], tp = to->mod[0] < 0 ? 6 : to->mod[0];

    return !using && from->array == to->array &&
           ((same(from->name, "timestamp") && same(to->name, "timestamptz")) ||
            (same(from->name, "timestamptz") && same(to->name, "timestamp"))) &&
           tp >= fp;
}

static void
type_text(const struct lint_type *t, char *out, size_t cap)
{
    int n;

    if (t->mod[1] >= 0)
        n = snprintf(out, cap, "%s(%d,%d)%s", t->name ? t->name : "?", t->mod[0], t->mod[1],
                     t->array ? "[]" : "");
    else if (t->mod[0] >= 0)
        n = snprintf(out, cap, "%s(%d)%s", t->name ? t->name : "?", t->mod[0],
                     t->array ? "[]" : "");
    else
        n = snprintf(out, cap, "%s%s", t->name ? t->name : "?", t->array ? "[]" : "");
    if (n < 0 || (size_t)n >= cap)
        snprintf(out, cap, "?");
}

/* ---- the rules, per operation ---- */

static int existing_rel(struct ctx *c, const char *rel);
static const struct lint_type *base_type(struct ctx *c, const struct lint_type *t);

static void
judge_add_column(struct ctx *c, const struct lint_op *op, int existing)
{
    if (existing) {
        unsigned f = op->flags;
        const char *why = NULL;
        unsigned fl = 0;

        if (f & LINT_F_STORED)
            why = "a stored generated column";
        else if (f & LINT_F_IDENTITY)
            why = "an identity column";
        else if (f & LINT_F_SERIAL)
            why = "a serial column (its default calls nextval())";
        else if (f & LINT_F_VOLATILE)
            why = "a volatile default";
        else if (op->type.name && smap_get(&c->checked_domains, op->type.name) != SIZE_MAX)
            why = "a domain type with constraints (PostgreSQL checks every row)";
        else if ((f & LINT_F_DEFAULT) && c->opt->pg_version < 11)
            why = "a default (before PostgreSQL 11 every default rewrites)";
        else if (f & LINT_F_NONCONST) {
            why = "a default that calls a function not known to be stable";
            fl = UNCERTAIN;
        }
        if (why)
            finding(c, "add-column-rewrite", op->rel, LINT_LOCK_ACCESS_EXCLUSIVE, 1, 0, fl,
                    "ADD COLUMN %s with %s %srewrites the table and its indexes", op->name, why,
                    fl ? "may " : "");
        if ((f & LINT_F_NOT_NULL) && !(f & (LINT_F_DEFAULT | LINT_F_IDENTITY | LINT_F_STORED)))
            finding(c, "add-required-column", op->rel, 0, 0, 0, 0,
                    "ADD COLUMN %s NOT NULL without a default fails if %s has any row", op->name,
                    op->rel);
        if (f & LINT_F_INLINE_INDEX)
            finding(c, "add-unique-without-index", op->rel, LINT_LOCK_ACCESS_EXCLUSIVE, 0, 1, 0,
                    "ADD COLUMN %s with PRIMARY KEY or UNIQUE builds its index while holding "
                    "the lock",
                    op->name);
    }
    col_put(c, op->rel, op->name, &op->type);
}

static void
judge_alter_type(struct ctx *c, const struct lint_op *op, int existing)
{
    struct col_info *col = col_get(c, op->rel, op->name);
    char from[128], to[128];

    type_text(&op->type, to, sizeof(to));
    if (existing) {
        if (col == NULL)
            finding(c, "alter-column-type", op->rel, LINT_LOCK_ACCESS_EXCLUSIVE, 1, 0, UNCERTAIN,
                    "ALTER COLUMN %s TYPE %s may rewrite the table and its indexes (the "
                    "column's current type is not known to the chain)",
                    op->name, to);
        else if (c->opt->pg_version >= 12 &&
                 type_change_free_in_utc(base_type(c, col->type), base_type(c, &op->type),
                                         op->flags & LINT_F_USING)) {
            type_text(col->type, from, sizeof(from));
            finding(c, "alter-column-type", op->rel, LINT_LOCK_ACCESS_EXCLUSIVE, 0, 0, UNCERTAIN,
                    "ALTER COLUMN %s TYPE %s (from %s) rewrites the table and its indexes "
                    "unless the session's TimeZone is UTC",
                    op->name, to, from);
        } else if (!type_change_is_free(base_type(c, col->type), base_type(c, &op->type),
                                        op->flags & LINT_F_USING) ||
                   (op->type.name && smap_get(&c->checked_domains, op->type.name) != SIZE_MAX)) {
            /* To a domain with constraints, every row is checked: PostgreSQL rewrites. */
            type_text(col->type, from, sizeof(from));
            finding(c, "alter-column-type", op->rel, LINT_LOCK_ACCESS_EXCLUSIVE, 1, 0, 0,
                    "ALTER COLUMN %s TYPE %s (from %s%s) rewrites the table and its indexes",
                    op->name, to, from, op->flags & LINT_F_USING ? ", with USING" : "");
        }
    }
    if (col || !existing)
        col_put(c, op->rel, op->name, &op->type);
}

static void
judge_constraint(struct ctx *c, const struct lint_op *op, int existing)
{
    struct con_info *con;

    if (op->kind == LINT_OP_ADD_UNIQUE) {
        if (existing && !(op->flags & LINT_F_USING_INDEX))
            finding(c, "add-unique-without-index", op->rel, LINT_LOCK_ACCESS_EXCLUSIVE, 0, 1, 0,
                    "ADD %s builds its index while holding the lock",
                    op->sub == 'p'   ? "PRIMARY KEY"
                    : op->sub == 'u' ? "UNIQUE"
                                     : "EXCLUDE");
        return;
    }
    if (existing && !(op->flags & LINT_F_NOT_VALID)) {
        if (op->kind == LINT_OP_ADD_FOREIGN) {
            finding(c, "constraint-not-valid", op->rel, LINT_LOCK_SHARE_ROW_EXCLUSIVE, 0, 1, 0,
                    "ADD FOREIGN KEY%s%s without NOT VALID scans %s to validate it, also "
                    "locking %s",
                    op->name ? " " : "", op->name ? op->name : "", op->rel,
                    op->other ? op->other : "the referenced table");
            /* The referenced table is locked for as long as the scan takes. */
            if (op->other && existing_rel(c, op->other) && strcmp(op->other, op->rel) != 0)
                finding(c, "constraint-not-valid", op->other, LINT_LOCK_SHARE_ROW_EXCLUSIVE, 0, 0,
                        0,
                        "ADD FOREIGN KEY%s%s on %s without NOT VALID holds a lock on the table "
                        "it references, %s, while it scans %s",
                        op->name ? " " : "", op->name ? op->name : "", op->rel, op->other, op->rel);
        } else
            finding(c, "constraint-not-valid", op->rel, LINT_LOCK_ACCESS_EXCLUSIVE, 0, 1, 0,
                    "ADD CHECK%s%s without NOT VALID scans %s to validate it", op->name ? " " : "",
                    op->name ? op->name : "", op->rel);
    }
    if (op->name == NULL || !recording(c)) {
        if (op->other && !(op->flags & LINT_F_NOT_VALID))
            not_null_ok_put(c, op->rel, op->other);
        return;
    }
    con = con_put(c, op->rel, op->name);
    con->valid = !(op->flags & LINT_F_NOT_VALID);
    con->not_null_col = op->other ? xstrdup(op->other) : NULL;
    if (con->valid && con->not_null_col)
        not_null_ok_put(c, op->rel, con->not_null_col);
}

static void
judge_validate(struct ctx *c, const struct lint_op *op, int existing)
{
    struct con_info *con = con_get(c, op->rel, op->name);

    if (con == NULL)
        return;
    if (existing && !con->valid && is_new(c, &con->at) && c->script->transactional)
        finding(c, "validate-same-transaction", op->rel, LINT_LOCK_SHARE_UPDATE_EXCLUSIVE, 0, 1, 0,
                "VALIDATE CONSTRAINT %s runs in the transaction that added it NOT VALID: the "
                "scan happens while the stronger lock of the ADD is still held",
                op->name);
    if (!recording(c))
        return;
    con->valid = 1;
    if (con->not_null_col)
        not_null_ok_put(c, op->rel, con->not_null_col);
}

static void
judge_index(struct ctx *c, const struct lint_op *op, int existing)
{
    if (op->kind == LINT_OP_CREATE_INDEX) {
        if (existing && !(op->flags & LINT_F_CONCURRENT))
            finding(c, "create-index-concurrently", op->rel, LINT_LOCK_SHARE, 0, 1, 0,
                    "CREATE %sINDEX%s%s without CONCURRENTLY holds its lock for the whole build",
                    op->sub == 'u' ? "UNIQUE " : "", op->name ? " " : "", op->name ? op->name : "");
        if ((op->flags & LINT_F_CONCURRENT) && !(op->flags & LINT_F_IF_EXISTS) &&
            (op->name == NULL || smap_get(&c->dropped_if_exists, op->name) == SIZE_MAX))
            finding(c, "concurrent-index-rerun", op->rel, 0, 0, 0, 0,
                    "CREATE INDEX CONCURRENTLY%s%s cannot be rerun after an interruption: it "
                    "leaves an INVALID index %s",
                    op->name ? " " : "", op->name ? op->name : "",
                    op->name ? "of that name, and the rerun fails"
                             : "behind, and a rerun adds "
                               "another");
        if (op->name)
            idx_put(c, op->name, op->rel);
        return;
    }
    /* DROP INDEX */
    {
        struct index_info *ix = idx_get(c, op->name);
        const char *table = ix ? ix->table : NULL;

        if (!(ix && is_own(c, &ix->at)) && !(op->flags & LINT_F_CONCURRENT) &&
            !(table && is_new(c, rel_get(c, table))))
            finding(c, "drop-index-concurrently", table ? table : op->name,
                    LINT_LOCK_ACCESS_EXCLUSIVE, 0, 0, 0, "DROP INDEX %s without CONCURRENTLY",
                    op->name);
        if ((op->flags & LINT_F_CONCURRENT) && (op->flags & LINT_F_IF_EXISTS))
            smap_put(&c->dropped_if_exists, op->name, 1);
        if (ix && recording(c))
            ix->at.gone = 1;
    }
    (void)existing;
}

/* Is the relation the operation concerns created by this script (or, new == 0, existing)? */
static int
existing_rel(struct ctx *c, const char *rel)
{
    if (rel == NULL)
        return 0;
    if (!recording(c) && smap_get(&c->local_rels, rel) != SIZE_MAX)
        return 0;
    return !is_new(c, rel_get(c, rel));
}

/* A later statement of this script that uses 'value' (an enum value added in its transaction). */
static int
later_use(const struct ctx *c, const char *value)
{
    char *lit = xasprintf("'%s'", value);
    const char *text = c->pos.text;
    int found = 0;

    for (size_t i = c->stmt + 1; i < c->ls->nstmts && !found; i++) {
        size_t from = c->ls->stmts[i].offset;
        size_t to =
            i + 1 < c->ls->nstmts ? c->ls->stmts[i + 1].offset : chain_script_size(c->script);
        size_t n = strlen(lit);

        for (size_t p = from; p + n <= to && !found; p++)
            found = memcmp(text + p, lit, n) == 0;
    }
    free(lit);
    return found;
}

/* Record (or, parent NULL, forget) that child is a partition ('p') or child ('i') of parent. */
static void
set_parent(struct ctx *c, const char *child, const char *parent, char sub)
{
    struct rel_extra *x = relx_get(c, child);
    size_t p = parent && rel_get(c, parent) ? smap_get(&c->rels, parent) : SIZE_MAX;

    if (x == NULL || !recording(c))
        return;
    if (x->parent != SIZE_MAX)
        c->relx_v[x->parent].nchild--;
    x->parent = p;
    x->sub = p == SIZE_MAX ? 0 : sub;
    if (p != SIZE_MAX)
        c->relx_v[p].nchild++;
}

/*
 * SET LOGGED / UNLOGGED / ACCESS METHOD / TABLESPACE to what the table already has: PostgreSQL
 * 15 changes nothing then (no rewrite). Known only for tables the chain created (logged or not;
 * the heap access method and the default tablespace unless its CREATE named others).
 */
static int
alter_is_noop(struct ctx *c, const struct lint_op *op)
{
    struct rel_extra *x = relx_get(c, op->rel);

    if (x == NULL)
        return 0;
    if (x->flags & LINT_F_PARTITIONED)
        return 1; /* no storage of its own to rewrite */
    switch (op->sub) {
    case 'l':
        return !(x->flags & LINT_F_UNLOGGED);
    case 'u':
        return (x->flags & LINT_F_UNLOGGED) != 0;
    case 'a':
        return !(x->flags & LINT_F_STORAGE) && same(op->name, "heap");
    case 't':
        return !(x->flags & LINT_F_STORAGE) && same(op->name, "pg_default");
    default:
        return 0;
    }
}

/* CREATE DOMAIN with constraints; ALTER DOMAIN ... that checks every column of the domain. */
static void
judge_domain(struct ctx *c, const struct lint_op *op)
{
    if (op->name == NULL)
        return;
    if (!recording(c))
        return;
    if ((op->sub == 'c' && (op->flags & LINT_F_INLINE_CHECK)) || op->sub == 'a' || op->sub == 'n')
        smap_put(&c->checked_domains, op->name, 1);
    if (op->sub == 'c' && op->type.name) {
        c->domain_v = xgrow(c->domain_v, &c->domain_cap, c->ndomain + 1, sizeof(*c->domain_v));
        c->domain_v[c->ndomain] = &op->type;
        smap_put(&c->domains, op->name, c->ndomain++);
    }
}

/*
 * The type a column really stores: a domain's base type (its constraints aside), or t. A domain
 * over a domain is followed a few levels.
 */
static const struct lint_type *
base_type(struct ctx *c, const struct lint_type *t)
{
    for (int depth = 0; t && t->name && !t->array && depth < 4; depth++) {
        size_t i = smap_get(&c->domains, t->name);

        if (i == SIZE_MAX)
            break;
        t = c->domain_v[i];
    }
    return t;
}

static void
judge_op(struct ctx *c, const struct lint_op *op)
{
    /* A CREATE TABLE and its columns ask no rule: no lookup (most operations of a chain). */
    int existing = op->kind == LINT_OP_CREATE_TABLE || op->kind == LINT_OP_COLUMN
                       ? 0
                       : existing_rel(c, op->rel);
    int pg = c->opt->pg_version;

    switch (op->kind) {
    case LINT_OP_CREATE_TABLE:
        /* IF NOT EXISTS on a table the chain already has creates nothing: it stays existing. */
        c->skip_columns = (op->flags & LINT_F_IF_EXISTS) && rel_get(c, op->rel);
        if (!c->skip_columns) {
            rel_put(c, op->rel);
            if (recording(c))
                relx_get(c, op->rel)->flags =
                    op->flags & (LINT_F_UNLOGGED | LINT_F_STORAGE | LINT_F_PARTITIONED);
        }
        /*
         * A repeatable runs again whenever it changes: from its second run on, IF NOT EXISTS
         * finds the table its first run created, with rows. So it is existing to what follows,
         * as if an earlier migration had created it.
         */
        if (!c->skip_columns && (op->flags & LINT_F_IF_EXISTS) &&
            chain_job_is_repeatable(c->ch, c->mig))
            rel_get(c, op->rel)->rerun = 1;
        break;
    case LINT_OP_CHILD:
    case LINT_OP_ATTACH:
        set_parent(c, op->name, op->rel, op->kind == LINT_OP_ATTACH ? 'p' : op->sub);
        break;
    case LINT_OP_DOMAIN:
        judge_domain(c, op);
        break;
    case LINT_OP_COLUMN:
        if (!c->skip_columns)
            col_put(c, op->rel, op->name, &op->type);
        break;
    case LINT_OP_ADD_COLUMN:
        judge_add_column(c, op, existing);
        break;
    case LINT_OP_ALTER_TYPE:
        judge_alter_type(c, op, existing);
        break;
    case LINT_OP_SET_NOT_NULL:
        if (existing && !(pg >= 12 && not_null_ok(c, op->rel, op->name)))
            finding(c, "set-not-null-scan", op->rel, LINT_LOCK_ACCESS_EXCLUSIVE, 0, 1, 0,
                    "SET NOT NULL on %s scans the whole table%s", op->name,
                    pg >= 12 ? " (no validated CHECK (col IS NOT NULL) precedes it)"
                             : " (PostgreSQL before 12 always scans)");
        break;
    case LINT_OP_ADD_CHECK:
    case LINT_OP_ADD_FOREIGN:
    case LINT_OP_ADD_UNIQUE:
        judge_constraint(c, op, existing);
        break;
    case LINT_OP_VALIDATE:
        judge_validate(c, op, existing);
        break;
    case LINT_OP_CREATE_INDEX:
    case LINT_OP_DROP_INDEX:
        judge_index(c, op, existing);
        break;
    case LINT_OP_REINDEX: {
        struct index_info *ix = op->sub == 'i' ? idx_get(c, op->rel) : NULL;
        const char *table = ix ? ix->table : op->sub == 't' ? op->rel : NULL;

        if (!(op->flags & LINT_F_CONCURRENT) && !(table && is_new(c, rel_get(c, table))) &&
            !(ix && is_new(c, &ix->at)))
            finding(c, "reindex-concurrently", table ? table : op->rel,
                    table ? LINT_LOCK_SHARE : LINT_LOCK_ACCESS_EXCLUSIVE, 0, 1, 0,
                    "REINDEX %s without CONCURRENTLY rebuilds %s under a lock%s", op->rel,
                    op->sub == 'i' ? "the index (ACCESS EXCLUSIVE on it: queries that would use "
                                     "it wait)"
                                   : "every index of the table",
                    pg < 12 ? " (PostgreSQL before 12 has no REINDEX CONCURRENTLY)" : "");
        break;
    }
    case LINT_OP_DETACH:
        set_parent(c, op->name, NULL, 0);
        if (existing && !(op->flags & LINT_F_CONCURRENT))
            finding(c, "detach-partition-concurrently", op->rel, LINT_LOCK_ACCESS_EXCLUSIVE, 0, 0,
                    0, "DETACH PARTITION %s without CONCURRENTLY%s", op->name,
                    pg < 14 ? " (PostgreSQL before 14 has no DETACH CONCURRENTLY)" : "");
        break;
    case LINT_OP_VACUUM_FULL:
        if (op->rel == NULL || existing)
            finding(c, "vacuum-full", op->rel, LINT_LOCK_ACCESS_EXCLUSIVE, 1, 1, 0,
                    "VACUUM FULL rewrites %s", op->rel ? op->rel : "every table of the database");
        break;
    case LINT_OP_CLUSTER:
        if (existing)
            finding(c, "cluster", op->rel, LINT_LOCK_ACCESS_EXCLUSIVE, 1, 1, 0,
                    "CLUSTER rewrites %s in index order", op->rel);
        break;
    case LINT_OP_LOCK_TABLE:
        if (existing && op->lock >= LINT_LOCK_SHARE)
            finding(c, "lock-table", op->rel, op->lock, 0, 0, 0,
                    "LOCK TABLE %s IN %s MODE holds the lock until the migration commits", op->rel,
                    lint_lock_name(op->lock));
        break;
    case LINT_OP_UPDATE_ALL:
    case LINT_OP_DELETE_ALL:
        if (existing)
            finding(
                c, op->kind == LINT_OP_UPDATE_ALL ? "update-without-where" : "delete-without-where",
                op->rel, LINT_LOCK_ROW_EXCLUSIVE, 0, 1, 0,
                "%s without WHERE changes every row of %s in one transaction, holding a "
                "row lock on each: concurrent updates and deletes of them wait",
                op->kind == LINT_OP_UPDATE_ALL ? "UPDATE" : "DELETE", op->rel);
        break;
    case LINT_OP_ENUM_ADD:
        if (c->script->transactional && pg < 12)
            finding(c, "enum-add-value", NULL, 0, 0, 0, 0,
                    "ALTER TYPE %s ADD VALUE '%s' cannot run inside a transaction block before "
                    "PostgreSQL 12",
                    op->name, op->other);
        else if (c->script->transactional && later_use(c, op->other))
            finding(c, "enum-add-value", NULL, 0, 0, 0, 0,
                    "'%s' is used after ALTER TYPE %s ADD VALUE in the same transaction, where "
                    "PostgreSQL refuses it (\"unsafe use of new value\")",
                    op->other, op->name);
        break;
    case LINT_OP_RENAME_TABLE:
        if (existing && !is_own(c, rel_get(c, op->rel)))
            finding(c, "rename-table", op->rel, LINT_LOCK_ACCESS_EXCLUSIVE, 0, 0, 0,
                    "RENAME TO %s breaks every running client that still uses %s", op->other,
                    op->rel);
        if (rel_get(c, op->rel) && recording(c)) {
            char *to =
                xasprintf("%.*s.%s", (int)(strchr(op->rel, '.') - op->rel), op->rel, op->other);

            struct origin was = *rel_get(c, op->rel);
            struct rel_extra wasx = *relx_get(c, op->rel);
            size_t old = smap_get(&c->rels, op->rel), now;

            /* The renamed table keeps its origin: it is as new or as existing as before. */
            rel_get(c, op->rel)->gone = 1;
            rel_put(c, to);
            *rel_get(c, to) = was;
            now = smap_get(&c->rels, to);
            c->relx_v[now].flags = wasx.flags;
            c->relx_v[now].parent = wasx.parent;
            c->relx_v[now].sub = wasx.sub;
            c->relx_v[now].nchild = wasx.nchild;
            for (size_t i = 0; i < c->nrel; i++)
                if (c->relx_v[i].parent == old)
                    c->relx_v[i].parent = now;
            free(to);
        }
        break;
    case LINT_OP_RENAME_COLUMN:
        if (existing && !is_own(c, rel_get(c, op->rel)))
            finding(c, "rename-column", op->rel, LINT_LOCK_ACCESS_EXCLUSIVE, 0, 0, 0,
                    "RENAME COLUMN %s TO %s breaks every running client that still uses %s",
                    op->name, op->other, op->name);
        break;
    case LINT_OP_DROP_TABLE:
        if (op->flags & LINT_F_CASCADE)
            finding(c, "drop-cascade", op->rel, 0, 0, 0, 0,
                    "DROP TABLE %s CASCADE also drops whatever depends on it (views, foreign "
                    "keys), unnamed in the migration",
                    op->rel);
        if (existing && !is_own(c, rel_get(c, op->rel)))
            finding(c, "drop-table", op->rel, LINT_LOCK_ACCESS_EXCLUSIVE, 0, 0, 0,
                    "DROP TABLE %s breaks every running client that still uses it", op->rel);
        if (recording(c) && rel_get(c, op->rel))
            rel_get(c, op->rel)->gone = 1;
        break;
    case LINT_OP_DROP_COLUMN: {
        struct col_info *col = col_get(c, op->rel, op->name);

        if (op->flags & LINT_F_CASCADE)
            finding(c, "drop-cascade", op->rel, 0, 0, 0, 0,
                    "DROP COLUMN %s CASCADE also drops whatever depends on it, unnamed in the "
                    "migration",
                    op->name);
        if (existing && !(col && is_own(c, &col->at)) && !is_own(c, rel_get(c, op->rel)))
            finding(c, "drop-column", op->rel, LINT_LOCK_ACCESS_EXCLUSIVE, 0, 0, 0,
                    "DROP COLUMN %s breaks every running client that still reads or writes it",
                    op->name);
        if (col && recording(c))
            col->at.gone = 1;
        break;
    }
    case LINT_OP_DROP_OTHER:
        if (op->flags & LINT_F_CASCADE)
            finding(c, "drop-cascade", NULL, 0, 0, 0, 0,
                    "DROP ... CASCADE also drops whatever depends on the object, unnamed in the "
                    "migration");
        break;
    case LINT_OP_TRUNCATE:
        if (existing)
            finding(c, "truncate-table", op->rel, LINT_LOCK_ACCESS_EXCLUSIVE, 1, 0, 0,
                    "TRUNCATE %s empties the table into a new file", op->rel);
        if (op->flags & LINT_F_CASCADE)
            finding(c, "truncate-cascade", op->rel, LINT_LOCK_ACCESS_EXCLUSIVE, 1, 0, 0,
                    "TRUNCATE %s CASCADE also empties every table with a foreign key to it",
                    op->rel);
        break;
    case LINT_OP_ALTER_REWRITE:
        if (existing && !alter_is_noop(c, op))
            finding(c, "alter-table-rewrite", op->rel, LINT_LOCK_ACCESS_EXCLUSIVE, 1, 0, 0,
                    "ALTER TABLE %s %s rewrites the table and its indexes", op->rel, op->other);
        if (relx_get(c, op->rel) && recording(c) && (op->sub == 'l' || op->sub == 'u'))
            relx_get(c, op->rel)->flags = (relx_get(c, op->rel)->flags & ~LINT_F_UNLOGGED) |
                                          (op->sub == 'u' ? LINT_F_UNLOGGED : 0);
        break;
    case LINT_OP_REFRESH_MATVIEW:
        if (!(op->flags & LINT_F_CONCURRENT) && !is_new(c, rel_get(c, op->rel)))
            finding(c, "refresh-matview-concurrently", op->rel, LINT_LOCK_ACCESS_EXCLUSIVE, 1, 1, 0,
                    "REFRESH MATERIALIZED VIEW %s without CONCURRENTLY rebuilds it", op->rel);
        break;
    case LINT_OP_LONG_IDENT:
        finding(c, "identifier-too-long", NULL, 0, 0, 0, 0,
                "identifier %.80s... is longer than 63 bytes: PostgreSQL cuts it", op->name);
        break;
    default:
        break;
    }
}

/* ---- blocking locks no rule flagged (blocking-lock), and locks reached through children ---- */

/* What an operation is, for a blocking-lock message. */
static const char *
op_label(const struct lint_op *op)
{
    switch (op->kind) {
    case LINT_OP_ADD_COLUMN:
        return "ADD COLUMN";
    case LINT_OP_ALTER_TYPE:
        return "ALTER COLUMN ... TYPE";
    case LINT_OP_SET_NOT_NULL:
        return "SET NOT NULL";
    case LINT_OP_ADD_CHECK:
        return "ADD CHECK";
    case LINT_OP_ADD_FOREIGN:
        return "ADD FOREIGN KEY";
    case LINT_OP_ADD_UNIQUE:
        return "ADD CONSTRAINT";
    case LINT_OP_DROP_COLUMN:
        return "DROP COLUMN";
    case LINT_OP_ALTER_REWRITE:
        return op->other;
    case LINT_OP_ALTER_OTHER:
        return op->other ? op->other : "ALTER TABLE";
    case LINT_OP_CHILD:
        return "CREATE TABLE ... PARTITION OF";
    case LINT_OP_ATTACH:
        return "ATTACH PARTITION";
    case LINT_OP_DETACH:
        return "DETACH PARTITION";
    case LINT_OP_CREATE_INDEX:
        return "CREATE INDEX";
    case LINT_OP_DROP_INDEX:
        return "DROP INDEX";
    case LINT_OP_DROP_TABLE:
        return "DROP TABLE";
    case LINT_OP_RENAME_TABLE:
    case LINT_OP_RENAME_COLUMN:
        return "RENAME";
    case LINT_OP_LOCK_TABLE:
        return "LOCK TABLE";
    case LINT_OP_TRUNCATE:
        return "TRUNCATE";
    case LINT_OP_DOMAIN:
        return op->sub == 'a'   ? "ALTER DOMAIN ... ADD CONSTRAINT"
               : op->sub == 'n' ? "ALTER DOMAIN ... SET NOT NULL"
                                : "ALTER DOMAIN ... VALIDATE CONSTRAINT";
    default:
        return "the statement";
    }
}

/*
 * Note that the current statement takes lock on rel (scanning it), unless rel is new (or the
 * migration's own, in its down) or the lock lets writes go on. from: the parent it was reached
 * through, or NULL. rule: the finding when no rule flags rel (NULL: blocking-lock).
 */
static void
lock_target(struct ctx *c, const char *rel, int lock, int scans, const char *what, const char *from,
            const char *rule_name)
{
    struct lock_target *t;

    if (rel == NULL || lock < LINT_LOCK_SHARE || !existing_rel(c, rel) ||
        is_own(c, rel_get(c, rel)))
        return;
    for (size_t i = 0; i < c->nlt; i++)
        if (strcmp(c->lt_v[i].rel, rel) == 0) {
            if (lock > c->lt_v[i].lock)
                c->lt_v[i].lock = lock;
            c->lt_v[i].scans |= scans;
            return;
        }
    c->lt_v = xgrow(c->lt_v, &c->lt_cap, c->nlt + 1, sizeof(*c->lt_v));
    t = &c->lt_v[c->nlt++];
    t->rel = rel;
    t->lock = lock;
    t->scans = scans;
    t->what = what;
    t->from = from;
    t->rule = rule_name;
}

/* The partitions (only, or every child table too) of parent, and theirs: the same lock. */
static void
lock_children(struct ctx *c, const char *parent, int lock, const char *what, int partitions_only,
              int depth)
{
    size_t p = parent ? smap_get(&c->rels, parent) : SIZE_MAX;

    /* Most tables have no child: no walk over every relation of the chain for them. */
    if (p == SIZE_MAX || c->relx_v[p].nchild == 0 || depth > 8)
        return;
    for (size_t i = 0; i < c->nrel; i++) {
        const struct rel_extra *x = &c->relx_v[i];

        if (x->parent != p || c->rel_v[i].gone || (partitions_only && x->sub != 'p'))
            continue;
        lock_target(c, x->name, lock, 0, what, c->relx_v[p].name, NULL);
        lock_children(c, x->name, lock, what, partitions_only, depth + 1);
    }
}

/* The locks an operation takes that block writes, before judge_op changes the context. */
static void
note_locks(struct ctx *c, const struct lint_op *op)
{
    const char *what = op_label(op);
    int recurse = !(op->flags & LINT_F_ONLY);

    switch (op->kind) {
    case LINT_OP_DOMAIN:
        if (op->sub == 'v' || op->sub == 'n' || (op->sub == 'a' && !(op->flags & LINT_F_NOT_VALID)))
            for (size_t i = 0; i < c->ncol; i++)
                if (!c->col_v[i].at.gone && c->col_v[i].type &&
                    same(c->col_v[i].type->name, op->name))
                    lock_target(c, c->col_v[i].rel, LINT_LOCK_SHARE, 1, what, NULL,
                                op->sub == 'a'   ? "constraint-not-valid"
                                : op->sub == 'n' ? "set-not-null-scan"
                                                 : NULL);
        return;
    case LINT_OP_REINDEX:
        /* REINDEX INDEX / SCHEMA name no table: reindex-concurrently finds the index's. */
        if (op->sub == 't')
            lock_target(c, op->rel, op->lock, 0, what, NULL, NULL);
        return;
    case LINT_OP_ATTACH:
        /* The table attached: ACCESS EXCLUSIVE, and a scan for the partition bound. */
        lock_target(c, op->name, LINT_LOCK_ACCESS_EXCLUSIVE, 1, what, NULL, NULL);
        return;
    case LINT_OP_DETACH:
        lock_target(c, op->rel, op->lock, 0, what, NULL, NULL);
        if (!(op->flags & LINT_F_CONCURRENT))
            lock_target(c, op->name, LINT_LOCK_ACCESS_EXCLUSIVE, 0, what, NULL, NULL);
        return;
    case LINT_OP_ADD_COLUMN:
    case LINT_OP_ALTER_TYPE:
    case LINT_OP_SET_NOT_NULL:
    case LINT_OP_ADD_CHECK:
    case LINT_OP_ADD_FOREIGN:
    case LINT_OP_DROP_COLUMN:
    case LINT_OP_LOCK_TABLE:
    case LINT_OP_TRUNCATE:
        lock_target(c, op->rel, op->lock, 0, what, NULL, NULL);
        if (recurse)
            lock_children(c, op->rel, op->lock, what, 0, 0);
        break;
    case LINT_OP_CREATE_INDEX:
    case LINT_OP_DROP_TABLE: {
        const struct rel_extra *x = op->kind == LINT_OP_DROP_TABLE ? relx_get(c, op->rel) : NULL;

        lock_target(c, op->rel, op->lock, 0, what, NULL, NULL);
        /* DROP TABLE drops the partitions; with CASCADE, the inheritance children too. */
        if (recurse)
            lock_children(c, op->rel, op->lock, what, !(op->flags & LINT_F_CASCADE), 0);
        /* Dropping a partition locks its parent too. */
        if (x && x->sub == 'p' && x->parent != SIZE_MAX && !c->rel_v[x->parent].gone)
            lock_target(c, c->relx_v[x->parent].name, LINT_LOCK_ACCESS_EXCLUSIVE, 0, what, NULL,
                        NULL);
        break;
    }
    default:
        lock_target(c, op->rel, op->lock, 0, what, NULL, NULL);
        break;
    }
    /* A foreign key locks the table it references in SHARE ROW EXCLUSIVE (writes wait). */
    if ((op->kind == LINT_OP_ADD_FOREIGN || (op->flags & LINT_F_REFERENCES)) && op->other)
        lock_target(c, op->other, LINT_LOCK_SHARE_ROW_EXCLUSIVE, 0, "FOREIGN KEY ... REFERENCES",
                    NULL, NULL);
}

/* Does a finding of the current statement concern rel? Its index, or SIZE_MAX. */
static size_t
stmt_finding_on(const struct ctx *c, const char *rel, int any_rule)
{
    for (size_t i = c->first_finding; i < c->out->n; i++)
        if (c->out->v[i].relation && strcmp(c->out->v[i].relation, rel) == 0 &&
            (any_rule || strcmp(c->out->v[i].rule->name, "blocking-lock") != 0))
            return i;
    return SIZE_MAX;
}

/*
 * An ALTER TABLE takes the strongest lock of its subcommands for all of them: a finding of the
 * statement on rel that names a weaker one (VALIDATE after an ADD in the same statement) gets
 * the statement's lock, in its message too.
 */
static void
raise_lock(struct ctx *c, const char *rel, int lock)
{
    for (size_t i = c->first_finding; i < c->out->n; i++) {
        struct lint_finding *f = &c->out->v[i];
        char *tail, *msg;

        if (!f->relation || strcmp(f->relation, rel) != 0 || f->lock == 0 || f->lock >= lock)
            continue;
        tail = xasprintf(" (%s lock on %s blocks ", lint_lock_name(f->lock), rel);
        msg = strstr(f->message, tail);
        if (msg) {
            char *now = xasprintf("%.*s (%s lock on %s blocks %s)", (int)(msg - f->message),
                                  f->message, lint_lock_name(lock), rel, lint_lock_blocks(lock));

            free(f->message);
            f->message = now;
        }
        free(tail);
        f->lock = lock;
    }
}

/* The rules that rewrite what they flag (for the partitions of a partitioned table). */
static int
rewriting_rule(const struct lint_rule *r)
{
    return same(r->name, "add-column-rewrite") || same(r->name, "alter-column-type") ||
           same(r->name, "alter-table-rewrite") || same(r->name, "truncate-table") ||
           same(r->name, "truncate-cascade");
}

/*
 * After a statement's operations: a relation it locks against writes that no finding names gets
 * the finding of the parent it was reached through (a partition rewritten with its table), or
 * a blocking-lock finding: a brief catalog change still queues behind every running query.
 */
static void
judge_locks(struct ctx *c)
{
    for (size_t i = 0; i < c->nlt; i++) {
        const struct lock_target *t = &c->lt_v[i];
        size_t pf = t->from ? stmt_finding_on(c, t->from, 0) : SIZE_MAX;

        if (stmt_finding_on(c, t->rel, 1) != SIZE_MAX) {
            raise_lock(c, t->rel, t->lock);
            continue;
        }
        if (pf != SIZE_MAX) {
            const struct lint_finding *f = &c->out->v[pf];
            const struct lint_rule *r = f->rule;
            const struct rel_extra *px = relx_get(c, t->from);
            int rw = f->rewrites || (rewriting_rule(r) && px && (px->flags & LINT_F_PARTITIONED));
            int scans = f->scans;
            unsigned fl = f->severity < r->severity ? UNCERTAIN : 0;
            char *msg = xstrdup(f->message);

            finding(c, r->name, t->rel, t->lock, rw, scans, fl,
                    "%s reaches %s, which is %s of %s: %s", t->what, t->rel,
                    relx_get(c, t->rel) && relx_get(c, t->rel)->sub == 'p' ? "a partition"
                                                                           : "a child table",
                    t->from, msg);
            free(msg);
        } else if (t->rule) {
            finding(c, t->rule, t->rel, t->lock, 0, t->scans, 0,
                    "%s checks every row of %s (a column of the domain) while holding the lock",
                    t->what, t->rel);
        } else if (t->scans) {
            finding(c, "blocking-lock", t->rel, t->lock, 0, 1, 0,
                    "%s scans %s while holding the lock", t->what, t->rel);
        } else {
            finding(c, "blocking-lock", t->rel, t->lock, 0, 0, 0,
                    "%s changes only the catalog, but its lock queues: it waits for every query "
                    "already running on %s, and every later query on the table waits behind it",
                    t->what, t->rel);
        }
    }
    c->nlt = 0;
}

/* Does allow a name rule r? */
static int
allow_names(const struct lint_allow *a, const struct lint_rule *r)
{
    for (size_t i = 0; i < a->nrules; i++)
        if (strcmp(a->rules[i], r->name) == 0)
            return 1;
    return 0;
}

/* Apply the script's allows to the findings of statement stmt (from index first). */
static void
apply_allows(struct ctx *c, struct lint_script *ls, size_t stmt, size_t first)
{
    for (size_t i = first; i < c->out->n; i++) {
        struct lint_finding *f = &c->out->v[i];

        for (size_t a = 0; a < ls->nallows && !f->allowed; a++) {
            struct lint_allow *al = &ls->allows[a];

            if ((al->stmt != stmt && al->stmt != SIZE_MAX) || !allow_names(al, f->rule))
                continue;
            al->used = 1;
            if (al->reason)
                f->allowed = xstrdup(al->reason);
        }
    }
}

/* An allow that matched nothing, names no rule, or gives no reason. */
static void
judge_allows(struct ctx *c, const struct lint_script *ls)
{
    for (size_t a = 0; a < ls->nallows; a++) {
        const struct lint_allow *al = &ls->allows[a];
        struct lint_stmt fake = {0, al->line, al->col, NULL, 0, 0};
        struct lint_script one = {&fake, 1, 1, NULL, 0, 0};
        const struct lint_script *saved = c->ls;
        size_t saved_stmt = c->stmt;

        c->ls = &one;
        c->stmt = 0;
        c->first_finding = c->out->n;
        if (al->nrules == 0)
            finding(c, "allow-without-reason", NULL, 0, 0, 0, 0,
                    "\"-- sealift:allow\" names no rule");
        else if (al->too_long)
            finding(c, "allow-without-reason", NULL, 0, 0, 0, 0,
                    "the reason of \"-- sealift:allow %s\" is longer than %d bytes, so it "
                    "allows nothing",
                    al->rules[0], LINT_MAX_REASON);
        else if (!al->reason)
            finding(c, "allow-without-reason", NULL, 0, 0, 0, 0,
                    "\"-- sealift:allow %s\" gives no reason, so it allows nothing", al->rules[0]);
        for (size_t r = 0; r < al->nrules; r++) {
            if (lint_rule_find(al->rules[r], strlen(al->rules[r])) == NULL)
                finding(c, "unused-allow", NULL, 0, 0, 0, 0,
                        "\"-- sealift:allow %s\": no such rule", al->rules[r]);
            else if (al->reason && !al->used)
                finding(c, "unused-allow", NULL, 0, 0, 0, 0,
                        "\"-- sealift:allow %s\" matches no finding %s", al->rules[r],
                        al->stmt == SIZE_MAX ? "in the file" : "of its statement");
        }
        c->ls = saved;
        c->stmt = saved_stmt;
    }
}

static void
judge_script(struct ctx *c, size_t mig, int kind, const struct lint_script *ls_in)
{
    /* The allows' "used" marks are the only thing judging changes in the extraction. */
    struct lint_script *ls = (struct lint_script *)ls_in;

    c->mig = mig;
    c->kind = kind;
    c->script = &chain_job(c->ch, mig)->script[kind];
    c->ls = ls;
    /* One script's text at a time: the chain's are spilled once checked (chain.h). */
    c->pos.text = chain_script_text(c->script, &c->reader, &c->text);
    c->pos.off = 0;
    c->pos.line = c->pos.col = 1;
    for (size_t a = 0; a < ls->nallows; a++)
        ls->allows[a].used = 0;
    for (size_t i = 0; i < ls->nstmts; i++) {
        size_t first = c->out->n;

        c->stmt = i;
        c->first_finding = first;
        for (size_t j = 0; j < ls->stmts[i].nops; j++) {
            note_locks(c, &ls->stmts[i].ops[j]);
            judge_op(c, &ls->stmts[i].ops[j]);
        }
        judge_locks(c);
        apply_allows(c, ls, i, first);
    }
    judge_allows(c, ls);
    smap_release(&c->dropped_if_exists);
    smap_release(&c->local_rels);
}

static void
ctx_release(struct ctx *c)
{
    smap_release(&c->rels);
    smap_release(&c->cols);
    smap_release(&c->cons);
    smap_release(&c->idxs);
    smap_release(&c->not_null_ok);
    smap_release(&c->checked_domains);
    smap_release(&c->domains);
    free(c->domain_v);
    smap_release(&c->dropped_if_exists);
    smap_release(&c->local_rels);
    free(c->rel_v);
    for (size_t i = 0; i < c->nrel; i++)
        free(c->relx_v[i].name);
    free(c->relx_v);
    free(c->lt_v);
    free(c->col_v);
    buf_release(&c->key);
    buf_release(&c->text);
    spill_reader_release(&c->reader);
    for (size_t i = 0; i < c->ncon; i++)
        free(c->con_v[i].not_null_col);
    free(c->con_v);
    free(c->idx_v);
}

void
lint_chain(const struct src_chain *ch, const struct lint_script *scripts,
           const struct lint_options *opt, struct lint_result *out)
{
    struct ctx c;

    memset(&c, 0, sizeof(c));
    buf_init(&c.key);
    buf_init(&c.text);
    spill_reader_init(&c.reader, ch->spill);
    c.ch = ch;
    c.opt = opt;
    c.out = out;
    for (size_t i = 0; i < ch->n; i++) {
        for (int k = 0; k < MANIFEST_NSCRIPTS; k++) {
            if (!ch->v[i].script[k].present)
                continue;
            /* The up first: its down and verify run after it (see recording()). */
            judge_script(&c, i, k, &scripts[i * MANIFEST_NSCRIPTS + k]);
        }
    }
    /*
     * The repeatables run after the whole chain, in order: what the chain (or an earlier
     * repeatable) created is existing to them; what a repeatable creates earlier in its own
     * script is new. A repeatable has an up script only.
     */
    for (size_t j = ch->n; j < ch->n + ch->nrep; j++)
        if (chain_job(ch, j)->script[MANIFEST_UP].present)
            judge_script(&c, j, MANIFEST_UP, &scripts[j * MANIFEST_NSCRIPTS + MANIFEST_UP]);
    for (size_t i = 0; i < out->n; i++) {
        struct lint_finding *f = &out->v[i];

        if (opt->mode == LINT_MODE_ERROR)
            f->severity = LINT_ERROR;
        else if (opt->mode == LINT_MODE_WARN)
            f->severity = LINT_WARNING;
        /*
         * What is signed is the finding itself; whether this run enforces it depends on what
         * sealift.sum has recorded so far, and must not change a rebuild's bytes.
         */
        f->signed_severity = f->severity;
        if (chain_job_is_repeatable(ch, f->mig))
            f->released = opt->rep_released && opt->rep_released[f->mig - ch->n];
        else
            f->released = f->mig < opt->first_new;
        if (opt->mode == LINT_MODE_DEFAULT && f->severity == LINT_ERROR &&
            (f->released || f->kind == MANIFEST_DOWN)) {
            /* See lint_options.first_new; a down runs only when someone rolls back. */
            f->severity = LINT_WARNING;
            f->not_enforced = !f->released                          ? "down script"
                              : chain_job_is_repeatable(ch, f->mig) ? "unchanged repeatable"
                                                                    : "released migration";
        }
        if (f->allowed)
            out->allowed++;
        else if (f->severity == LINT_ERROR)
            out->errors++;
        else if (f->severity == LINT_WARNING)
            out->warnings++;
        else
            out->infos++;
    }
    ctx_release(&c);
}
