/*
 * risk.c: the lint findings signed into a bundle for the migrations a move would run, joined
 * with the live database (see risk.h): one catalog query for all their relations.
 * Layer: applier.
 */
#include "risk.h"
#include "sealift/describe.h"
#include "sealift/json.h"
#include "sealift/xalloc.h"

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

void
risk_init(struct risk *r, const struct manifest *m, size_t lo, size_t hi, int kind)
{
    memset(r, 0, sizeof(*r));
    r->m = m;
    r->lo = lo;
    r->hi = hi < m->nmigrations ? hi : m->nmigrations;
    r->kind = kind;
    for (size_t i = r->lo; i < r->hi; i++)
        for (size_t f = 0; f < m->migrations[i].nfindings; f++) {
            const struct manifest_finding *fd = &m->migrations[i].findings[f];

            if (fd->kind != kind || !finding_risky(fd) || risk_find(r, fd->relation))
                continue;
            r->rels = xrealloc(r->rels, (r->nrels + 1) * sizeof(*r->rels));
            memset(&r->rels[r->nrels], 0, sizeof(*r->rels));
            r->rels[r->nrels++].name = xstrdup(fd->relation);
        }
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
    }
    free(r->rels);
    memset(r, 0, sizeof(*r));
}

/*
 * One row per relation and open transaction on it (one row with NULLs when none). Names are
 * "schema.name" as the lint resolved them; format('%I.%I') keeps odd names whole. Sizes come
 * from the catalog, so nothing is scanned.
 */
static const char risk_sql_head[] =
    "SELECT r.i, c.oid IS NOT NULL, pg_total_relation_size(c.oid), c.reltuples, h.pid, h.state, "
    "h.age, h.mode, h.granted FROM unnest(ARRAY[";
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
            rel->bytes = strtoll(db_value(rows, k, 2), NULL, 10);
            rel->rows = strtod(db_value(rows, k, 3), NULL);
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

/* What a table lock of this mode keeps others from doing while it is held. */
static const char *
lock_blocks(const char *mode)
{
    static const struct {
        const char *mode, *blocks;
    } table[] = {
        {"ACCESS EXCLUSIVE", "reads and writes blocked"},
        {"EXCLUSIVE", "writes blocked (reads go on)"},
        {"SHARE ROW EXCLUSIVE", "writes blocked (reads go on)"},
        {"SHARE", "writes blocked (reads go on)"},
        {"SHARE UPDATE EXCLUSIVE", "schema changes and VACUUM blocked (reads and writes go on)"},
        {"ROW EXCLUSIVE", "only schema changes and explicit table locks blocked"},
        {"ROW SHARE", "only ACCESS EXCLUSIVE and EXCLUSIVE locks blocked"},
        {"ACCESS SHARE", "only ACCESS EXCLUSIVE locks blocked"},
    };

    for (size_t i = 0; mode && i < sizeof(table) / sizeof(table[0]); i++)
        if (strcmp(table[i].mode, mode) == 0)
            return table[i].blocks;
    return "conflicting locks blocked";
}

/* "8192 bytes", "3.1 GB" (1024-based, as pg_size_pretty). */
static void
add_size(struct buf *out, long long bytes)
{
    static const char *const units[] = {"kB", "MB", "GB", "TB", "PB"};
    double v = (double)bytes;
    int u = -1;

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
        buf_addf(out, " under %s: %s until it finishes", fd->lock, lock_blocks(fd->lock));
}

static void
add_holder_line(struct buf *out, const struct risk_rel *rel, const struct risk_holder *h)
{
    buf_addf(out, "pid %s %s %s on %s, its transaction open %s s%s%s%s: the migration %s", h->pid,
             h->granted ? "holds" : "waits for", h->mode, rel->name, h->seconds,
             h->state[0] ? " (" : "", h->state, h->state[0] ? ")" : "",
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
add_finding_line(struct buf *out, const char *prefix, const struct manifest_migration *mig,
                 const struct manifest_finding *fd)
{
    buf_addf(out, "%s%s%s%s: ", prefix, mig->id, mig->name[0] ? "_" : "", mig->name);
    if (fd->lock)
        buf_addf(out, "%s on %s (%s)", fd->lock, fd->relation ? fd->relation : "?",
                 lock_blocks(fd->lock));
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

void
risk_text(const struct risk *r, size_t idx, const char *prefix, struct buf *out)
{
    const struct manifest_migration *mig = &r->m->migrations[idx];

    for (size_t f = 0; f < mig->nfindings; f++)
        if (mig->findings[f].kind == r->kind)
            add_finding_line(out, prefix, mig, &mig->findings[f]);
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
}

void
risk_json_findings(const struct risk *r, struct buf *out)
{
    int first = 1;

    buf_addch(out, '[');
    for (size_t i = r->lo; i < r->hi; i++) {
        const struct manifest_migration *mig = &r->m->migrations[i];

        for (size_t f = 0; f < mig->nfindings; f++) {
            if (mig->findings[f].kind != r->kind)
                continue;
            if (!first)
                buf_addch(out, ',');
            first = 0;
            describe_finding_json(out, &mig->findings[f], mig->id);
        }
    }
    buf_addch(out, ']');
}

static void
json_risk_item(struct buf *out, const struct manifest_migration *mig,
               const struct manifest_finding *fd, const struct risk_rel *rel)
{
    struct buf line = BUF_INIT;

    add_risk_line(&line, fd, rel);
    buf_addch(out, '{');
    json_key(out, "migration", 1);
    json_str(out, mig->id);
    json_key(out, "script", 0);
    json_str(out, manifest_script_label((enum manifest_script_kind)fd->kind));
    json_key(out, "line", 0);
    buf_addf(out, "%u", fd->line);
    json_key(out, "relation", 0);
    json_str(out, fd->relation);
    json_key(out, "exists", 0);
    buf_addstr(out, rel->exists ? "true" : "false");
    json_key(out, "bytes", 0);
    if (rel->exists)
        buf_addf(out, "%lld", rel->bytes);
    else
        buf_addstr(out, "null");
    json_key(out, "rows", 0);
    if (rel->exists && rel->rows >= 0)
        buf_addf(out, "%.0f", rel->rows);
    else
        buf_addstr(out, "null");
    json_key(out, "lock_mode", 0);
    json_str(out, fd->lock);
    json_key(out, "blocks", 0);
    json_str(out, fd->lock ? lock_blocks(fd->lock) : NULL);
    json_key(out, "rewrites", 0);
    buf_addstr(out, fd->rewrites ? "true" : "false");
    json_key(out, "scans", 0);
    buf_addstr(out, fd->scans ? "true" : "false");
    json_key(out, "text", 0);
    json_str(out, line.data);
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
    buf_release(&line);
}

void
risk_json(const struct risk *r, struct buf *out)
{
    int first = 1;

    buf_addch(out, '[');
    for (size_t i = r->lo; i < r->hi && r->queried; i++) {
        const struct manifest_migration *mig = &r->m->migrations[i];

        for (size_t f = 0; f < mig->nfindings; f++) {
            const struct manifest_finding *fd = &mig->findings[f];

            if (fd->kind != r->kind || !finding_risky(fd) || same_statement_before(mig, f))
                continue;
            if (!first)
                buf_addch(out, ',');
            first = 0;
            json_risk_item(out, mig, fd, risk_find(r, fd->relation));
        }
    }
    buf_addch(out, ']');
}
