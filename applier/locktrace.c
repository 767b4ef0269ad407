/*
 * locktrace.c: what each migration statement locked and rewrote, seen from its own backend
 * between statements, held against the lint's findings (see locktrace.h).
 * Layer: applier.
 */
#include "locktrace.h"
#include "risk.h"
#include "sealift/json.h"
#include "sealift/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NMODES         RISK_LOCK_MODES
#define FIRST_BLOCKING RISK_LOCK_FIRST_BLOCKING

struct locktrace_rel {
    long long oid;
    long long relfilenode; /* 0: none (a view, a partitioned table) or dropped */
    char *name;            /* "schema.name" */
    char *table;           /* an index's table, else NULL */
    unsigned held;         /* bit i: lock level i (risk.h) held by our backend */
};

/* What one statement did to one existing relation. */
struct effect {
    const struct locktrace_rel *rel;
    int mode; /* the strongest blocking mode newly taken, or -1 */
    int rewrote;
};

static long long
now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static unsigned
modes_mask(const char *list)
{
    unsigned mask = 0;

    for (int i = 0; i < NMODES; i++) {
        const char *pg = risk_lock_name(i, 1);
        size_t n = strlen(pg);

        for (const char *p = list; (p = strstr(p, pg)) != NULL; p += n)
            if ((p == list || p[-1] == ',') && (p[n] == ',' || p[n] == '\0'))
                mask |= 1u << i;
    }
    return mask;
}

void
locktrace_init(struct locktrace *t, const struct manifest *m, const char *schema, struct out *out)
{
    memset(t, 0, sizeof(*t));
    t->m = m;
    t->schema = schema;
    t->out = out;
    t->phase = "";
    buf_init(&t->rows);
    buf_init(&t->missed);
    buf_init(&t->text);
    buf_init(&t->missed_keys);
    t->shown = xcalloc(m->nmigrations ? m->nmigrations : 1, 1);
}

static void
free_rels(struct locktrace *t)
{
    for (size_t i = 0; i < t->nrels; i++) {
        free(t->rels[i].name);
        free(t->rels[i].table);
    }
    free(t->rels);
    t->rels = NULL;
    t->nrels = 0;
}

void
locktrace_release(struct locktrace *t)
{
    free_rels(t);
    buf_release(&t->rows);
    buf_release(&t->missed);
    buf_release(&t->text);
    buf_release(&t->missed_keys);
    free(t->shown);
}

/*
 * Every user table, view and index (not sequences, whose locks follow their table's, nor the
 * catalogs, TOAST, temporary schemas or the history schema) with
 * its relfilenode, and the relation locks our backend holds, joined: a relation dropped in the
 * open transaction is still locked, with no pg_class row.
 */
static struct db_rows *
ask(struct locktrace *t, struct db *db)
{
    struct buf sql = BUF_INIT;
    char *schema = db_quote_literal(t->schema);
    struct db_rows *rows;
    struct db_error e;
    long long t0 = now_ns();

    buf_addf(&sql,
             "WITH l AS (SELECT relation, string_agg(mode, ',') AS modes FROM pg_locks WHERE "
             "locktype = 'relation' AND pid = pg_backend_pid() AND granted AND database = "
             "(SELECT oid FROM pg_database WHERE datname = current_database()) GROUP BY "
             "relation), c AS (SELECT c.oid, c.relfilenode, n.nspname || '.' || c.relname AS "
             "name, (SELECT n2.nspname || '.' || c2.relname FROM pg_index x JOIN pg_class c2 ON "
             "c2.oid = x.indrelid JOIN pg_namespace n2 ON n2.oid = c2.relnamespace WHERE "
             "x.indexrelid = c.oid) AS tbl FROM pg_class c JOIN pg_namespace n ON n.oid = "
             "c.relnamespace WHERE c.relkind IN ('r', 'p', 'm', 'v', 'f', 'i', 'I') AND "
             "n.nspname NOT IN ('pg_catalog', "
             "'information_schema', %s) AND n.nspname !~ '^pg_(toast|temp_)') "
             "SELECT coalesce(c.oid, l.relation)::bigint, coalesce(c.relfilenode, 0)::bigint, "
             "c.name, c.tbl, coalesce(l.modes, '') FROM c FULL JOIN l ON l.relation = c.oid",
             schema);
    free(schema);
    rows = db_query(db, sql.data, &e);
    buf_release(&sql);
    t->query_ns += now_ns() - t0;
    if (rows == NULL) {
        diag_warning("lock trace stopped for %s: %s", t->m->migrations[t->idx].id, e.message);
        t->failed_query = 1;
    }
    return rows;
}

/* The table of the migration traced so far goes to the text (when it has rows to show). */
static void
end_migration(struct locktrace *t)
{
    static const struct {
        const char *phase, *title;
    } titles[] = {{"round_trip", "round trip"},
                  {"head_to_base", "head to base"},
                  {"base_to_head", "base to head"}};
    const struct manifest_migration *mig;
    const char *title = t->phase;

    if (t->rows.len == 0 && t->missed.len == 0)
        return;
    mig = &t->m->migrations[t->idx];
    for (size_t i = 0; i < sizeof(titles) / sizeof(titles[0]); i++)
        if (strcmp(titles[i].phase, t->phase) == 0)
            title = titles[i].title;
    buf_addf(&t->text, "      lock trace of %s%s%s %s (%s):\n", mig->id, mig->name[0] ? "_" : "",
             mig->name, manifest_script_label((enum manifest_script_kind)t->kind), title);
    buf_addf(&t->text, "        %-9s %9s  %-52s %s\n", "statement", "ms", "blocking lock / rewrite",
             "lint");
    buf_add(&t->text, t->rows.data, t->rows.len);
    buf_add(&t->text, t->missed.data, t->missed.len);
    buf_reset(&t->rows);
    buf_reset(&t->missed);
}

static void
trace_start(void *ctx, struct db *db, size_t idx, int kind)
{
    struct locktrace *t = ctx;
    unsigned bit = kind == MANIFEST_DOWN ? 2 : 1;
    struct db_rows *rows;

    end_migration(t);
    free_rels(t);
    t->idx = idx;
    t->kind = kind;
    t->failed_query = 0;
    t->show = !(t->shown[idx] & bit);
    t->shown[idx] |= (char)bit;
    if ((rows = ask(t, db)) == NULL)
        return;
    t->rels = xcalloc(db_nrows(rows) ? db_nrows(rows) : 1, sizeof(*t->rels));
    for (size_t k = 0; k < db_nrows(rows); k++) {
        struct locktrace_rel *rel;

        if (db_value(rows, k, 2) == NULL)
            continue; /* a lock on a catalog: not a relation of the migration's */
        rel = &t->rels[t->nrels++];
        rel->oid = strtoll(db_value(rows, k, 0), NULL, 10);
        rel->relfilenode = strtoll(db_value(rows, k, 1), NULL, 10);
        rel->name = xstrdup(db_value(rows, k, 2));
        rel->table = db_value(rows, k, 3) ? xstrdup(db_value(rows, k, 3)) : NULL;
        rel->held = modes_mask(db_value(rows, k, 4));
    }
    db_rows_free(rows);
}

static struct locktrace_rel *
find_rel(struct locktrace *t, long long oid)
{
    for (size_t i = 0; i < t->nrels; i++)
        if (t->rels[i].oid == oid)
            return &t->rels[i];
    return NULL;
}

/* Does a finding of this statement name rel (or an index's table)? */
static int
names(const struct manifest_finding *fd, const struct locktrace_rel *rel)
{
    return fd->relation && (strcmp(fd->relation, rel->name) == 0 ||
                            (rel->table && strcmp(fd->relation, rel->table) == 0));
}

/*
 * The finding of statement line that predicts e: a lock at least as strong on the relation (or
 * the rewrite). NULL when none does; *weaker the finding that names a weaker lock, if any.
 */
static const struct manifest_finding *
predicting(const struct locktrace *t, unsigned line, const struct effect *e, int rewrite,
           const struct manifest_finding **weaker)
{
    const struct manifest_migration *mig = &t->m->migrations[t->idx];

    *weaker = NULL;
    for (size_t f = 0; f < mig->nfindings; f++) {
        const struct manifest_finding *fd = &mig->findings[f];

        if (fd->kind != t->kind || fd->line != line || !names(fd, e->rel))
            continue;
        if (rewrite ? fd->rewrites : risk_lock_level(fd->lock) >= e->mode)
            return fd;
        if (!rewrite && fd->lock)
            *weaker = fd;
    }
    return NULL;
}

/* Say "lint missed" once per migration, script, line, relation and what happened. */
static void
add_missed(struct locktrace *t, unsigned line, const struct effect *e, int rewrite,
           const struct manifest_finding *weaker, struct buf *json)
{
    const struct manifest_migration *mig = &t->m->migrations[t->idx];
    const char *label = manifest_script_label((enum manifest_script_kind)t->kind);
    struct buf msg = BUF_INIT, key = BUF_INIT;

    if (rewrite)
        buf_addf(&msg, "%s %s:%u rewrote %s; no finding predicts the rewrite", mig->id, label, line,
                 e->rel->name);
    else
        buf_addf(&msg, "%s %s:%u took %s on %s: %s; %s%s", mig->id, label, line,
                 risk_lock_name(e->mode, 0), e->rel->name,
                 risk_lock_blocks(risk_lock_name(e->mode, 0)),
                 weaker ? "the lint predicted only " : "no finding predicts it",
                 weaker ? weaker->lock : "");
    if (json->len)
        buf_addch(json, ',');
    json_str(json, msg.data);
    buf_addf(&key, "%s\n", msg.data);
    if (strstr(t->missed_keys.data, key.data) == NULL) {
        buf_add(&t->missed_keys, key.data, key.len);
        t->nmissed++;
        if (t->show)
            buf_addf(&t->missed, "        lint missed: %s\n", msg.data);
    }
    buf_release(&key);
    buf_release(&msg);
}

/* An index's lock or rewrite that its table's says already is left out of the table. */
static int
covered_by_table(const struct effect *es, size_t n, const struct effect *e, int rewrite)
{
    if (e->rel->table == NULL)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (strcmp(es[i].rel->name, e->rel->table) == 0 &&
            (rewrite ? es[i].rewrote : es[i].mode >= e->mode))
            return 1;
    return 0;
}

/* Add the lint column's word for one lock or rewrite, once: the rule (allowed or not), or MISSED.
 */
static void
add_verdict(struct buf *lint, const struct manifest_finding *fd)
{
    char word[256];

    snprintf(word, sizeof(word), "%s%s", fd ? fd->rule : "MISSED",
             fd && fd->allowed ? " (allowed)" : "");
    for (const char *p = lint->data; (p = strstr(p, word)) != NULL; p++)
        if ((p == lint->data || p[-1] == ' ') && (p[strlen(word)] == ',' || !p[strlen(word)]))
            return;
    buf_addf(lint, "%s%s", lint->len ? ", " : "", word);
}

/* One statement's JSON event and, for a blocking lock or a rewrite, its row in the table. */
static void
report(struct locktrace *t, size_t k, unsigned line, double ms, int in_tx, const struct effect *es,
       size_t n)
{
    struct buf locks = BUF_INIT, rewrites = BUF_INIT, missed = BUF_INIT, what = BUF_INIT;
    struct buf lint = BUF_INIT;

    for (size_t i = 0; i < n; i++) {
        const struct manifest_finding *fd, *weaker;

        if (es[i].mode >= FIRST_BLOCKING && !covered_by_table(es, n, &es[i], 0)) {
            fd = predicting(t, line, &es[i], 0, &weaker);
            buf_addstr(&locks, locks.len ? ",{" : "{");
            json_key(&locks, "relation", 1);
            json_str(&locks, es[i].rel->name);
            json_key(&locks, "mode", 0);
            json_str(&locks, risk_lock_name(es[i].mode, 1));
            json_key(&locks, "lock_mode", 0);
            json_str(&locks, risk_lock_name(es[i].mode, 0));
            json_key(&locks, "blocks", 0);
            json_str(&locks, risk_lock_blocks(risk_lock_name(es[i].mode, 0)));
            json_key(&locks, "predicted_by", 0);
            json_str(&locks, fd ? fd->rule : NULL);
            buf_addch(&locks, '}');
            buf_addf(&what, "%s%s on %s", what.len ? ", " : "", risk_lock_name(es[i].mode, 0),
                     es[i].rel->name);
            add_verdict(&lint, fd);
            if (fd == NULL)
                add_missed(t, line, &es[i], 0, weaker, &missed);
        }
        if (es[i].rewrote && !covered_by_table(es, n, &es[i], 1)) {
            fd = predicting(t, line, &es[i], 1, &weaker);
            buf_addstr(&rewrites, rewrites.len ? ",{" : "{");
            json_key(&rewrites, "relation", 1);
            json_str(&rewrites, es[i].rel->name);
            json_key(&rewrites, "predicted_by", 0);
            json_str(&rewrites, fd ? fd->rule : NULL);
            buf_addch(&rewrites, '}');
            buf_addf(&what, "%srewrites %s", what.len ? ", " : "", es[i].rel->name);
            add_verdict(&lint, fd);
            if (fd == NULL)
                add_missed(t, line, &es[i], 1, NULL, &missed);
        }
    }
    if (t->show && what.len) {
        char at[64], dur[32];

        snprintf(at, sizeof(at), "%zu %s:%u", k + 1,
                 manifest_script_label((enum manifest_script_kind)t->kind), line);
        snprintf(dur, sizeof(dur), "%.1f", ms);
        buf_addf(&t->rows, "        %-9s %9s  %-52s %s\n", at, dur, what.data, lint.data);
    }
    if (t->out->json && !t->out->quiet) {
        struct buf f = BUF_INIT;

        json_key(&f, "phase", 1);
        json_str(&f, t->phase);
        json_key(&f, "migration", 0);
        json_str(&f, t->m->migrations[t->idx].id);
        json_key(&f, "script", 0);
        json_str(&f, manifest_script_label((enum manifest_script_kind)t->kind));
        json_key(&f, "statement", 0);
        buf_addf(&f, "%zu", k + 1);
        json_key(&f, "line", 0);
        buf_addf(&f, "%u", line);
        json_key(&f, "duration_ms", 0);
        buf_addf(&f, "%.3f", ms);
        json_key(&f, "in_transaction", 0);
        buf_addstr(&f, in_tx ? "true" : "false");
        json_key(&f, "locks", 0);
        buf_addf(&f, "[%s]", locks.data);
        json_key(&f, "rewrites", 0);
        buf_addf(&f, "[%s]", rewrites.data);
        json_key(&f, "lint_missed", 0);
        buf_addf(&f, "[%s]", missed.data);
        out_event(t->out, "lock_trace", f.data);
        buf_release(&f);
    }
    buf_release(&locks);
    buf_release(&rewrites);
    buf_release(&missed);
    buf_release(&what);
    buf_release(&lint);
}

static void
trace_statement(void *ctx, struct db *db, size_t idx, int kind, size_t k, unsigned line, double ms,
                int in_tx)
{
    struct locktrace *t = ctx;
    struct effect *es;
    struct db_rows *rows;
    size_t n = 0;

    if (idx != t->idx || kind != t->kind || t->failed_query || (rows = ask(t, db)) == NULL)
        return;
    t->nstatements++;
    es = xcalloc(t->nrels ? t->nrels : 1, sizeof(*es));
    for (size_t r = 0; r < db_nrows(rows); r++) {
        struct locktrace_rel *rel = find_rel(t, strtoll(db_value(rows, r, 0), NULL, 10));
        long long node = strtoll(db_value(rows, r, 1), NULL, 10);
        unsigned now = modes_mask(db_value(rows, r, 4)), fresh;
        struct effect *e;

        if (rel == NULL)
            continue; /* created by the migration, or a catalog */
        /* Outside a transaction the statement's locks ended with it: nothing to see. */
        fresh = in_tx ? now & ~rel->held : 0;
        e = &es[n];
        e->rel = rel;
        e->mode = -1;
        for (int i = NMODES - 1; i >= FIRST_BLOCKING && e->mode < 0; i--)
            if (fresh & (1u << i))
                e->mode = i;
        e->rewrote = rel->relfilenode != 0 && node != 0 && node != rel->relfilenode;
        rel->held = now;
        if (node != 0)
            rel->relfilenode = node;
        if (e->mode >= 0 || e->rewrote)
            n++;
    }
    db_rows_free(rows);
    report(t, k, line, ms, in_tx, es, n);
    free(es);
}

const struct runner_tracer locktrace_ops = {trace_start, trace_statement};

void
locktrace_flush(struct locktrace *t)
{
    end_migration(t);
    if (t->text.len && !t->out->json && !t->out->quiet)
        fputs(t->text.data, stdout);
    fflush(stdout);
    buf_reset(&t->text);
}
