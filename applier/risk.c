/*
 * risk.c: the lint findings signed into a bundle for the migrations a move would run, joined
 * with the live database (see risk.h): one catalog query for all their relations.
 * Layer: applier.
 */
#include "risk.h"
#include "scriptsrc.h"
#include "sealift/describe.h"
#include "sealift/json.h"
#include "sealift/sqllex.h"
#include "sealift/sqltarget.h"
#include "sealift/textpos.h"
#include "sealift/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A finding that says something about a relation's locking (the ones a risk line is for). */
static int
finding_risky(const struct manifest_finding *fd)
{
    return fd->relation && (fd->lock || fd->rewrites || fd->scans);
}

static struct risk_rel *
risk_find(const struct risk *r, const char *name)
{
    for (size_t i = 0; i < r->nrels; i++)
        if (strcmp(r->rels[i].name, name) == 0)
            return &r->rels[i];
    return NULL;
}

/* The relation named name, added when it is not collected yet. Returns its index. */
static size_t
risk_add_rel(struct risk *r, const char *name)
{
    const struct risk_rel *found = risk_find(r, name);

    if (found)
        return (size_t)(found - r->rels);
    r->rels = xrealloc(r->rels, (r->nrels + 1) * sizeof(*r->rels));
    memset(&r->rels[r->nrels], 0, sizeof(*r->rels));
    r->rels[r->nrels].name = xstrdup(name);
    return r->nrels++;
}

/* Does a risky finding of mig (of kind) cover the statement starting on line? */
static int
finding_covers(const struct manifest_migration *mig, int kind, unsigned line)
{
    for (size_t f = 0; f < mig->nfindings; f++)
        if (mig->findings[f].kind == kind && mig->findings[f].line == line &&
            finding_risky(&mig->findings[f]))
            return 1;
    return 0;
}

/*
 * The names the move's statements create, as a hash set: every statement of a move of
 * thousands of migrations looks its targets up in it (a list made that quadratic).
 */
struct name_set {
    struct buf names; /* NUL-separated */
    size_t *slots;    /* offset + 1 of a name in names; 0: empty */
    size_t nslots, n;
};

static size_t
name_hash(const char *s)
{
    uint64_t h = 0xcbf29ce484222325u;

    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3u;
    return (size_t)h;
}

static void
name_set_put(struct name_set *set, size_t offset)
{
    size_t h = name_hash(set->names.data + offset) & (set->nslots - 1);

    while (set->slots[h])
        h = (h + 1) & (set->nslots - 1);
    set->slots[h] = offset + 1;
}

/* A name an earlier statement of the move creates (nothing of it exists to block yet). */
static int
created_before(const struct name_set *set, const char *name)
{
    if (set->nslots == 0)
        return 0;
    for (size_t h = name_hash(name) & (set->nslots - 1); set->slots[h];
         h = (h + 1) & (set->nslots - 1))
        if (strcmp(set->names.data + set->slots[h] - 1, name) == 0)
            return 1;
    return 0;
}

static void
name_set_add(struct name_set *set, const char *name)
{
    size_t offset = set->names.len;

    if (created_before(set, name))
        return;
    buf_add(&set->names, name, strlen(name) + 1);
    set->n++;
    if (set->n * 2 > set->nslots) {
        set->nslots = set->nslots ? set->nslots * 2 : 64;
        free(set->slots);
        set->slots = xcalloc(set->nslots, sizeof(*set->slots));
        for (size_t i = 0; i < set->names.len; i += strlen(set->names.data + i) + 1)
            name_set_put(set, i);
        return;
    }
    name_set_put(set, offset);
}

static void
name_set_release(struct name_set *set)
{
    buf_release(&set->names);
    free(set->slots);
    memset(set, 0, sizeof(*set));
}

/* The first words of a statement are enough to name what it targets (sqltarget). */
#define RISK_STMT_PREFIX 4096

/*
 * The targets of migration i's statements of kind r->kind, in order (see risk_target), read
 * from the bundle (only each statement's first RISK_STMT_PREFIX bytes are kept). A script that
 * cannot be read adds none: these lines advise, and the move itself proves every byte.
 */
static void
add_statement_targets(struct risk *r, size_t i, struct script_src *scripts,
                      struct name_set *created)
{
    const struct manifest_migration *mig = walk_migration(r->m, i);
    const struct manifest_script *sc = &mig->script[r->kind];
    struct diag_err err = DIAG_ERR_INIT;
    struct script_reader *rd;
    size_t first_target = r->ntargets;

    if (!sc->present || (rd = script_open(scripts, sc->member, 0, &err)) == NULL)
        return;
    for (size_t k = 0; k < sc->nstmts; k++) {
        unsigned line;
        char *stmt = script_take_stmt(rd, sc, k, RISK_STMT_PREFIX, &line, &err);
        struct sqltarget t[SQLTARGET_MAX];
        size_t n;

        if (stmt == NULL)
            break;
        n = sqltarget_find(stmt, strlen(stmt), t, SQLTARGET_MAX);
        free(stmt);
        for (size_t j = 0; j < n; j++) {
            struct risk_target *tg;
            size_t rel;

            if (t[j].verb == SQLTARGET_CREATES) {
                name_set_add(created, t[j].name);
                continue;
            }
            if (created_before(created, t[j].name) || finding_covers(mig, r->kind, line))
                continue;
            rel = risk_add_rel(r, t[j].name);
            r->targets = xrealloc(r->targets, (r->ntargets + 1) * sizeof(*r->targets));
            tg = &r->targets[r->ntargets++];
            tg->mig = i;
            tg->line = line;
            tg->verb = (int)t[j].verb;
            tg->rel = rel;
            tg->first = 1;
            for (size_t o = first_target; o + 1 < r->ntargets; o++)
                if (r->targets[o].rel == rel)
                    tg->first = 0;
        }
    }
    script_close(rd);
}

size_t
risk_nsteps(const struct risk *r)
{
    return r->hi - r->lo + r->nreps;
}

size_t
risk_step(const struct risk *r, size_t s)
{
    return s < r->hi - r->lo ? r->lo + s : r->m->nmigrations + r->reps[s - (r->hi - r->lo)];
}

void
risk_step_label(const struct manifest *m, size_t idx, struct buf *out)
{
    const struct manifest_migration *mig = walk_migration(m, idx);

    if (walk_is_repeatable(m, idx))
        buf_addf(out, "R__%s", mig->id);
    else
        buf_addf(out, "%s%s%s", mig->id, mig->name[0] ? "_" : "", mig->name);
}

void
risk_init(struct risk *r, const struct manifest *m, size_t lo, size_t hi, int kind,
          const struct walk_reps *reps, struct script_src *scripts)
{
    struct name_set created = {BUF_INIT, NULL, 0, 0};
    size_t n;

    memset(r, 0, sizeof(*r));
    r->m = m;
    r->lo = lo;
    r->hi = hi < m->nmigrations ? hi : m->nmigrations;
    r->kind = kind;
    if (reps && reps->n) {
        r->reps = xmalloc(reps->n * sizeof(*r->reps));
        memcpy(r->reps, reps->v, reps->n * sizeof(*r->reps));
        r->nreps = reps->n;
    }
    n = risk_nsteps(r);
    for (size_t s = 0; s < n; s++) {
        const struct manifest_migration *mig = walk_migration(m, risk_step(r, s));

        for (size_t f = 0; f < mig->nfindings; f++) {
            const struct manifest_finding *fd = &mig->findings[f];

            if (fd->kind == kind && finding_risky(fd))
                risk_add_rel(r, fd->relation);
        }
    }
    if (scripts == NULL)
        return;
    /*
     * In the order the move runs them: a down walk goes from the newest migration back; the
     * repeatables (up only) follow the migrations.
     */
    for (size_t s = 0; s < n; s++)
        add_statement_targets(r, kind == MANIFEST_DOWN ? r->hi - 1 - s : risk_step(r, s), scripts,
                              &created);
    name_set_release(&created);
}

void
risk_release(struct risk *r)
{
    for (size_t i = 0; i < r->nrels; i++) {
        for (size_t h = 0; h < r->rels[i].nholders; h++) {
            free(r->rels[i].holders[h].pid);
            free(r->rels[i].holders[h].state);
            free(r->rels[i].holders[h].seconds);
            free(r->rels[i].holders[h].mode);
        }
        free(r->rels[i].holders);
        free(r->rels[i].name);
        free(r->rels[i].resolved);
    }
    free(r->rels);
    free(r->targets);
    free(r->reps);
    memset(r, 0, sizeof(*r));
}

/*
 * One row per relation and open transaction on it (one row with NULLs when none). Names are
 * "schema.name" as the lint resolved them; format('%I.%I') keeps odd names whole. Sizes come
 * from the catalog, so nothing is scanned. pg_total_relation_size() takes ACCESS SHARE on the
 * table and its indexes: behind an ACCESS EXCLUSIVE lock held or queued (the very case the
 * risk lines warn of) it would wait, so the size is then the catalog's page count instead
 * (as of the last VACUUM, ANALYZE or CREATE INDEX).
 */
static const char risk_sql_head[] =
    "SELECT r.i, c.oid IS NOT NULL, CASE WHEN EXISTS (SELECT 1 FROM pg_locks x WHERE "
    "x.locktype = 'relation' AND x.mode = 'AccessExclusiveLock' AND (x.relation = c.oid OR "
    "x.relation = c.reltoastrelid OR x.relation IN (SELECT indexrelid FROM pg_index WHERE "
    "indrelid = c.oid))) THEN nullif((SELECT sum(p.relpages) FROM pg_class p WHERE p.oid = c.oid "
    "OR "
    "p.oid = c.reltoastrelid OR p.oid IN (SELECT indexrelid FROM pg_index WHERE indrelid = "
    "c.oid)), 0)::bigint * nullif(current_setting('block_size')::bigint, 0) ELSE "
    "pg_total_relation_size(c.oid) "
    "END, c.reltuples, h.pid, h.state, h.age, h.mode, h.granted, (SELECT nspname FROM "
    "pg_namespace WHERE oid = c.relnamespace) || '.' || c.relname FROM unnest(ARRAY[";
static const char risk_sql_tail[] =
    "]::text[]) WITH ORDINALITY AS r(name, i) LEFT JOIN pg_class c ON c.oid = to_regclass("
    "CASE WHEN strpos(r.name, '.') > 0 THEN format('%%I.%%I', split_part(r.name, '.', 1), "
    "substr(r.name, strpos(r.name, '.') + 1)) ELSE format('%%I', r.name) END) "
    "LEFT JOIN LATERAL (SELECT a.pid, coalesce(a.state, '') AS state, "
    "floor(extract(epoch FROM now() - a.xact_start))::bigint AS age, l.mode, l.granted "
    "FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
    "WHERE l.locktype = 'relation' AND l.relation = c.oid AND l.database = (SELECT oid FROM "
    "pg_database WHERE datname = current_database()) AND l.pid <> pg_backend_pid() AND "
    "a.xact_start < now() - interval '%d seconds') h ON true "
    "ORDER BY r.i, h.age DESC, h.pid";

int
risk_query(struct risk *r, struct db *db, struct db_error *e)
{
    struct buf sql = BUF_INIT;
    struct db_rows *rows;

    if (r->nrels == 0)
        return 0;
    buf_addstr(&sql, risk_sql_head);
    for (size_t i = 0; i < r->nrels; i++) {
        char *lit = db_quote_literal(r->rels[i].name);

        buf_addf(&sql, "%s%s", i ? ", " : "", lit);
        free(lit);
    }
    buf_addf(&sql, risk_sql_tail, RISK_MIN_AGE_S);
    rows = db_query(db, sql.data, e);
    buf_release(&sql);
    if (rows == NULL)
        return -1;
    for (size_t k = 0; k < db_nrows(rows); k++) {
        long i = strtol(db_value(rows, k, 0), NULL, 10) - 1;
        struct risk_rel *rel;
        struct risk_holder *h;

        if (i < 0 || (size_t)i >= r->nrels)
            continue;
        rel = &r->rels[i];
        rel->exists = strcmp(db_value(rows, k, 1), "t") == 0;
        if (rel->exists) {
            /* NULL: locked, and the catalog has no page count yet. */
            rel->bytes = db_value(rows, k, 2) ? strtoll(db_value(rows, k, 2), NULL, 10) : -1;
            rel->rows = strtod(db_value(rows, k, 3), NULL);
            if (rel->resolved == NULL)
                rel->resolved = xstrdup(db_value(rows, k, 9));
        }
        if (db_value(rows, k, 4) == NULL)
            continue;
        rel->holders = xrealloc(rel->holders, (rel->nholders + 1) * sizeof(*rel->holders));
        h = &rel->holders[rel->nholders++];
        h->pid = xstrdup(db_value(rows, k, 4));
        h->state = xstrdup(db_value(rows, k, 5));
        h->seconds = xstrdup(db_value(rows, k, 6));
        h->mode = xstrdup(db_value(rows, k, 7));
        h->granted = strcmp(db_value(rows, k, 8), "t") == 0;
    }
    db_rows_free(rows);
    r->queried = 1;
    return 0;
}

/*
 * PostgreSQL's table lock modes, weakest first: the documentation's name, pg_locks' name, and
 * what the lock keeps others from doing while it is held.
 */
static const struct {
    const char *sql, *pg, *blocks;
} lock_modes[RISK_LOCK_MODES] = {
    {"ACCESS SHARE", "AccessShareLock", "only ACCESS EXCLUSIVE locks blocked"},
    {"ROW SHARE", "RowShareLock", "only ACCESS EXCLUSIVE and EXCLUSIVE locks blocked"},
    {"ROW EXCLUSIVE", "RowExclusiveLock", "only schema changes and explicit table locks blocked"},
    {"SHARE UPDATE EXCLUSIVE", "ShareUpdateExclusiveLock",
     "schema changes and VACUUM blocked (reads and writes go on)"},
    {"SHARE", "ShareLock", "writes blocked (reads go on)"},
    {"SHARE ROW EXCLUSIVE", "ShareRowExclusiveLock", "writes blocked (reads go on)"},
    {"EXCLUSIVE", "ExclusiveLock", "writes blocked (reads go on)"},
    {"ACCESS EXCLUSIVE", "AccessExclusiveLock", "reads and writes blocked"},
};

int
risk_lock_level(const char *mode)
{
    for (int i = 0; mode && i < RISK_LOCK_MODES; i++)
        if (strcmp(lock_modes[i].sql, mode) == 0 || strcmp(lock_modes[i].pg, mode) == 0)
            return i;
    return -1;
}

const char *
risk_lock_name(int level, int pg)
{
    if (level < 0 || level >= RISK_LOCK_MODES)
        return NULL;
    return pg ? lock_modes[level].pg : lock_modes[level].sql;
}

const char *
risk_lock_blocks(const char *mode)
{
    int level = risk_lock_level(mode);

    return level < 0 ? "conflicting locks blocked" : lock_modes[level].blocks;
}

/* "8192 bytes", "3.1 GB" (1024-based, as pg_size_pretty). */
static void
add_size(struct buf *out, long long bytes)
{
    static const char *const units[] = {"kB", "MB", "GB", "TB", "PB"};
    double v = (double)bytes;
    int u = -1;

    if (bytes < 0) {
        buf_addstr(out, "size unknown: locked");
        return;
    }
    if (bytes < 1024) {
        buf_addf(out, "%lld bytes", bytes);
        return;
    }
    while (v >= 1024 && u < 4) {
        v /= 1024;
        u++;
    }
    buf_addf(out, "%.1f %s", v, units[u]);
}

/* "~12.4M rows"; reltuples is -1 on a table never vacuumed or analyzed. */
static void
add_rows(struct buf *out, double rows)
{
    if (rows < 0)
        buf_addstr(out, "rows unknown: never analyzed");
    else if (rows < 1000)
        buf_addf(out, "~%.0f rows", rows);
    else if (rows < 1e6)
        buf_addf(out, "~%.1fk rows", rows / 1e3);
    else if (rows < 1e9)
        buf_addf(out, "~%.1fM rows", rows / 1e6);
    else
        buf_addf(out, "~%.1fG rows", rows / 1e9);
}

/* The risk line of one statement's finding on an existing or missing relation. */
static void
add_risk_line(struct buf *out, const struct manifest_finding *fd, const struct risk_rel *rel)
{
    if (!rel->exists) {
        if (fd->created_by)
            buf_addf(out, "%s does not exist yet (migration %s creates it): nothing to block",
                     fd->relation, fd->created_by);
        else
            buf_addf(out, "%s does not exist in the database", fd->relation);
        return;
    }
    buf_addf(out, "%s %s (",
             fd->rewrites ? "rewrites"
             : fd->scans  ? "scans"
                          : "locks",
             fd->relation);
    add_size(out, rel->bytes);
    buf_addstr(out, ", ");
    add_rows(out, rel->rows);
    buf_addch(out, ')');
    if (fd->lock)
        buf_addf(out, " under %s: %s until it finishes", fd->lock, risk_lock_blocks(fd->lock));
}

/* The size line of a statement no finding covers, on a relation that exists. */
static void
add_target_line(struct buf *out, const struct risk *r, const struct risk_target *t)
{
    const struct risk_rel *rel = &r->rels[t->rel];

    buf_addf(out, "%s %s (", sqltarget_verb_text((enum sqltarget_verb)t->verb), rel->resolved);
    add_size(out, rel->bytes);
    buf_addstr(out, ", ");
    add_rows(out, rel->rows);
    buf_addf(out, "), %s:%u", manifest_script_label((enum manifest_script_kind)r->kind), t->line);
}

static void
add_holder_line(struct buf *out, const struct risk_rel *rel, const struct risk_holder *h)
{
    buf_addf(out, "pid %s %s %s on %s, its transaction open %s s%s%s%s: the migration %s", h->pid,
             h->granted ? "holds" : "waits for", h->mode, rel->resolved ? rel->resolved : rel->name,
             h->seconds, h->state[0] ? " (" : "", h->state, h->state[0] ? ")" : "",
             h->granted ? "waits for it, and blocks what queues behind it"
                        : "queues with it, and it waits for a lock holder");
}

/* Whether an earlier finding of mig is on the same statement and relation as finding f. */
static int
same_statement_before(const struct manifest_migration *mig, size_t f)
{
    const struct manifest_finding *fd = &mig->findings[f];

    for (size_t g = 0; g < f; g++) {
        const struct manifest_finding *o = &mig->findings[g];

        if (o->kind == fd->kind && o->line == fd->line && o->col == fd->col && finding_risky(o) &&
            strcmp(o->relation, fd->relation) == 0)
            return 1;
    }
    return 0;
}

/* One finding: what it locks and rewrites, the rule, and the reason it was allowed. */
static void
add_finding_line(struct buf *out, const char *prefix, const struct manifest *m, size_t idx,
                 const struct manifest_finding *fd)
{
    buf_addstr(out, prefix);
    risk_step_label(m, idx, out);
    buf_addstr(out, ": ");
    if (fd->lock)
        buf_addf(out, "%s on %s (%s)", fd->lock, fd->relation ? fd->relation : "?",
                 risk_lock_blocks(fd->lock));
    else
        buf_addf(out, "%s", fd->relation ? fd->relation : "no relation");
    if (fd->rewrites)
        buf_addstr(out, ", rewrites the table");
    if (fd->scans)
        buf_addstr(out, ", scans the table");
    if (fd->allowed)
        buf_addf(out, " (allowed: '%s')", fd->allowed);
    buf_addf(out, "\n%s  %s[%s] %s:%u:%u: %s\n", prefix, fd->allowed ? "allowed" : fd->severity,
             fd->rule, manifest_script_label((enum manifest_script_kind)fd->kind), fd->line,
             fd->col, fd->message);
}

/* The lines of the statements of migration idx that no finding covers (existing relations). */
static void
add_target_lines(const struct risk *r, size_t idx, const char *prefix, struct buf *out)
{
    for (size_t t = 0; t < r->ntargets; t++) {
        const struct risk_target *tg = &r->targets[t];
        const struct risk_rel *rel = &r->rels[tg->rel];

        if (tg->mig != idx || !rel->exists)
            continue;
        buf_addf(out, "%srisk: ", prefix);
        add_target_line(out, r, tg);
        buf_addch(out, '\n');
        for (size_t h = 0; tg->first && h < rel->nholders; h++) {
            buf_addf(out, "%srisk: ", prefix);
            add_holder_line(out, rel, &rel->holders[h]);
            buf_addch(out, '\n');
        }
    }
}

int
risk_has_lines(const struct risk *r, size_t idx)
{
    const struct manifest_migration *mig = walk_migration(r->m, idx);

    for (size_t f = 0; f < mig->nfindings; f++)
        if (mig->findings[f].kind == r->kind)
            return 1;
    for (size_t t = 0; r->queried && t < r->ntargets; t++)
        if (r->targets[t].mig == idx && r->rels[r->targets[t].rel].exists)
            return 1;
    return 0;
}

void
risk_text(const struct risk *r, size_t idx, const char *prefix, struct buf *out)
{
    const struct manifest_migration *mig = walk_migration(r->m, idx);

    for (size_t f = 0; f < mig->nfindings; f++)
        if (mig->findings[f].kind == r->kind)
            add_finding_line(out, prefix, r->m, idx, &mig->findings[f]);
    if (!r->queried)
        return;
    for (size_t f = 0; f < mig->nfindings; f++) {
        const struct manifest_finding *fd = &mig->findings[f];
        const struct risk_rel *rel;

        if (fd->kind != r->kind || !finding_risky(fd) || same_statement_before(mig, f))
            continue;
        rel = risk_find(r, fd->relation);
        buf_addf(out, "%srisk: ", prefix);
        add_risk_line(out, fd, rel);
        buf_addch(out, '\n');
        for (size_t h = 0; h < rel->nholders; h++) {
            buf_addf(out, "%srisk: ", prefix);
            add_holder_line(out, rel, &rel->holders[h]);
            buf_addch(out, '\n');
        }
    }
    add_target_lines(r, idx, prefix, out);
}

void
risk_json_findings(const struct risk *r, struct buf *out)
{
    int first = 1;

    buf_addch(out, '[');
    for (size_t s = 0; s < risk_nsteps(r); s++) {
        const struct manifest_migration *mig = walk_migration(r->m, risk_step(r, s));

        for (size_t f = 0; f < mig->nfindings; f++) {
            if (mig->findings[f].kind != r->kind)
                continue;
            if (!first)
                buf_addch(out, ',');
            first = 0;
            describe_finding_json(out, &mig->findings[f], mig->id,
                                  walk_is_repeatable(r->m, risk_step(r, s)));
        }
    }
    buf_addch(out, ']');
}

/* What one risk item says: a finding's statement, or a statement no finding covers. */
struct risk_item {
    const char *migration;
    int kind;
    unsigned line;
    const char *relation;
    const struct risk_rel *rel;
    const char *lock; /* NULL when no finding says */
    int rewrites, scans;
    const char *verb; /* a statement's verb ("alters"), or NULL for a finding */
};

static void
json_risk_item(struct buf *out, const struct risk_item *it, const char *text)
{
    const struct risk_rel *rel = it->rel;

    buf_addch(out, '{');
    json_key(out, "migration", 1);
    json_str(out, it->migration);
    json_key(out, "script", 0);
    json_str(out, manifest_script_label((enum manifest_script_kind)it->kind));
    json_key(out, "line", 0);
    buf_addf(out, "%u", it->line);
    json_key(out, "relation", 0);
    json_str(out, it->relation);
    json_key(out, "from_lint", 0);
    buf_addstr(out, it->verb ? "false" : "true");
    json_key(out, "statement", 0);
    json_str(out, it->verb);
    json_key(out, "exists", 0);
    buf_addstr(out, rel->exists ? "true" : "false");
    json_key(out, "bytes", 0);
    if (rel->exists && rel->bytes >= 0)
        buf_addf(out, "%lld", rel->bytes);
    else
        buf_addstr(out, "null");
    json_key(out, "rows", 0);
    if (rel->exists && rel->rows >= 0)
        buf_addf(out, "%.0f", rel->rows);
    else
        buf_addstr(out, "null");
    json_key(out, "lock_mode", 0);
    json_str(out, it->lock);
    json_key(out, "blocks", 0);
    json_str(out, it->lock ? risk_lock_blocks(it->lock) : NULL);
    json_key(out, "rewrites", 0);
    buf_addstr(out, it->rewrites ? "true" : "false");
    json_key(out, "scans", 0);
    buf_addstr(out, it->scans ? "true" : "false");
    json_key(out, "text", 0);
    json_str(out, text);
    json_key(out, "open_transactions", 0);
    buf_addch(out, '[');
    for (size_t h = 0; h < rel->nholders; h++) {
        buf_addstr(out, h ? ",{" : "{");
        json_key(out, "pid", 1);
        buf_addstr(out, rel->holders[h].pid);
        json_key(out, "state", 0);
        json_str(out, rel->holders[h].state);
        json_key(out, "seconds", 0);
        buf_addstr(out, rel->holders[h].seconds);
        json_key(out, "lock", 0);
        json_str(out, rel->holders[h].mode);
        json_key(out, "granted", 0);
        buf_addstr(out, rel->holders[h].granted ? "true" : "false");
        buf_addch(out, '}');
    }
    buf_addstr(out, "]}");
}

/* The JSON items of migration idx: its findings' statements, then the others. */
static void
json_migration_items(const struct risk *r, size_t idx, struct buf *out, int *first)
{
    const struct manifest_migration *mig = walk_migration(r->m, idx);
    struct buf line = BUF_INIT;

    for (size_t f = 0; f < mig->nfindings; f++) {
        const struct manifest_finding *fd = &mig->findings[f];
        struct risk_item it = {mig->id,  fd->kind,     fd->line,  fd->relation, NULL,
                               fd->lock, fd->rewrites, fd->scans, NULL};

        if (fd->kind != r->kind || !finding_risky(fd) || same_statement_before(mig, f))
            continue;
        it.rel = risk_find(r, fd->relation);
        buf_reset(&line);
        add_risk_line(&line, fd, it.rel);
        buf_addstr(out, *first ? "" : ",");
        *first = 0;
        json_risk_item(out, &it, line.data);
    }
    for (size_t t = 0; t < r->ntargets; t++) {
        const struct risk_target *tg = &r->targets[t];
        const struct risk_rel *rel = &r->rels[tg->rel];
        struct risk_item it = {mig->id,
                               r->kind,
                               tg->line,
                               rel->resolved,
                               rel,
                               NULL,
                               0,
                               0,
                               sqltarget_verb_text((enum sqltarget_verb)tg->verb)};

        if (tg->mig != idx || !rel->exists)
            continue;
        buf_reset(&line);
        add_target_line(&line, r, tg);
        buf_addstr(out, *first ? "" : ",");
        *first = 0;
        json_risk_item(out, &it, line.data);
    }
    buf_release(&line);
}

void
risk_json(const struct risk *r, struct buf *out)
{
    int first = 1;

    buf_addch(out, '[');
    for (size_t s = 0; s < risk_nsteps(r) && r->queried; s++)
        json_migration_items(r, risk_step(r, s), out, &first);
    buf_addch(out, ']');
}

void
risk_announce(const struct risk *r, struct out *out)
{
    struct buf b = BUF_INIT;
    int any = 0;

    for (size_t s = 0; s < risk_nsteps(r); s++)
        any |= risk_has_lines(r, risk_step(r, s));
    /* Nothing to say: no event either, so a run without risk reads as it always has. */
    if (out->quiet || !any)
        return;
    if (out->json) {
        json_key(&b, "findings", 1);
        risk_json_findings(r, &b);
        json_key(&b, "risk", 0);
        risk_json(r, &b);
        out_event(out, "risk", b.data);
        buf_release(&b);
        return;
    }
    for (size_t s = 0; s < risk_nsteps(r); s++) {
        size_t idx = risk_step(r, s);

        if (!risk_has_lines(r, idx))
            continue;
        buf_addstr(&b, "  ");
        risk_step_label(r->m, idx, &b);
        buf_addch(&b, '\n');
        risk_text(r, idx, "    ", &b);
    }
    if (b.len)
        printf("risk of what will run, before the migration lock is taken:\n%s", b.data);
    fflush(stdout);
    buf_release(&b);
}
