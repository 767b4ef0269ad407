/*
 * adopt.c: adopt a database from the migration tool a chain was imported from (see adopt.h).
 * Layer: applier. Queries go through db.c; the tools' tables are described in the research
 * notes on each tool and checked against their own documentation.
 */
#include "adopt.h"
#include "sealift/xalloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
adopt_result_init(struct adopt_result *a)
{
    memset(a, 0, sizeof(*a));
    buf_init(&a->problem);
}

void
adopt_result_release(struct adopt_result *a)
{
    buf_release(&a->problem);
    adopt_result_init(a);
}

/* Version texts compare as numbers when both are digits (golang-migrate stores 1 for 0001). */
static int
same_version(const char *a, const char *b)
{
    size_t da = strspn(a, "0123456789"), db = strspn(b, "0123456789");

    if (a[da] == '\0' && b[db] == '\0' && da > 0 && db > 0) {
        while (*a == '0' && a[1])
            a++;
        while (*b == '0' && b[1])
            b++;
    }
    return strcmp(a, b) == 0;
}

static long
chain_index(const struct manifest *m, const char *version)
{
    for (size_t i = 0; i < m->nmigrations; i++)
        if (same_version(m->migrations[i].id, version))
            return (long)i;
    return -1;
}

/* Does a relation exist (search_path applies to an unqualified name)? */
static int
table_exists(struct db *db, const char *name, struct db_error *e)
{
    char *lit = db_quote_literal(name);
    char *sql = xasprintf("SELECT to_regclass(%s) IS NOT NULL", lit);
    struct db_rows *r = db_query(db, sql, e);
    int yes = r && db_value(r, 0, 0) && strcmp(db_value(r, 0, 0), "t") == 0;

    free(lit);
    free(sql);
    if (r == NULL)
        return -1;
    db_rows_free(r);
    return yes;
}

static void problem(struct adopt_result *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
problem(struct adopt_result *a, const char *fmt, ...)
{
    va_list ap;

    if (a->problem.len)
        return;
    va_start(ap, fmt);
    buf_vaddf(&a->problem, fmt, ap);
    va_end(ap);
}

/*
 * The tool recorded the versions in rows (column 0) of r: they must be exactly the chain's first
 * n migrations. Sets a->count, or a problem naming the first one out of place.
 */
static void
take_prefix(struct adopt_result *a, const struct manifest *m, struct db_rows *r)
{
    size_t n = db_nrows(r);
    char *seen = xcalloc(m->nmigrations + 1, 1);

    for (size_t i = 0; i < n; i++) {
        long at = chain_index(m, db_value(r, i, 0));

        if (at < 0) {
            problem(a, "%s records migration %s as applied, which this bundle does not know",
                    a->table, db_value(r, i, 0));
            free(seen);
            return;
        }
        seen[at] = 1;
    }
    while (a->count < m->nmigrations && seen[a->count])
        a->count++;
    for (size_t i = a->count; i < m->nmigrations; i++)
        if (seen[i])
            problem(a, "%s records %s as applied but not %s before it; adopting would skip it",
                    a->table, m->migrations[i].id, m->migrations[a->count].id);
    free(seen);
}

/* The origin line's checksum ("KEY CHECKSUM"), or NULL. */
static const char *
origin_checksum(const struct manifest_migration *mig)
{
    const char *sp = mig->origin ? strchr(mig->origin, ' ') : NULL;

    return sp ? sp + 1 : NULL;
}

static int
detect_flyway(struct db *db, const struct manifest *m, struct adopt_result *a, struct db_error *e)
{
    struct db_rows *r;

    r = db_query(db,
                 "SELECT version, checksum, success, type FROM flyway_schema_history "
                 "WHERE version IS NOT NULL ORDER BY installed_rank",
                 e);
    if (r == NULL)
        return -1;
    for (size_t i = 0; i < db_nrows(r); i++) {
        const char *version = db_value(r, i, 0), *type = db_value(r, i, 3);
        long at = chain_index(m, version);

        if (strcmp(db_value(r, i, 2), "t") != 0)
            problem(a, "%s records migration %s as failed; repair it with Flyway first", a->table,
                    version);
        else if (type && strcmp(type, "SQL") != 0 && strcmp(type, "BASELINE") != 0)
            problem(a, "%s has a row of type %s (for %s), which sealift cannot adopt", a->table,
                    type, version);
        else if (at >= 0 && type && strcmp(type, "SQL") == 0 && db_value(r, i, 1) &&
                 origin_checksum(&m->migrations[at]) &&
                 strcmp(db_value(r, i, 1), origin_checksum(&m->migrations[at])) != 0)
            problem(a,
                    "%s records migration %s with checksum %s, but the bundle's script has "
                    "%s: it was changed after Flyway ran it",
                    a->table, version, db_value(r, i, 1), origin_checksum(&m->migrations[at]));
    }
    if (!a->problem.len)
        take_prefix(a, m, r);
    db_rows_free(r);
    return 0;
}

static int
detect_sqitch(struct db *db, const struct manifest *m, struct adopt_result *a, struct db_error *e)
{
    char *lit = db_quote_literal(m->project);
    char *sql;
    struct db_rows *r;

    /* Sqitch keys changes by change id; the manifest's origin holds "CHANGE_ID SCRIPT_HASH". */
    sql = xasprintf("SELECT change_id, script_hash, change FROM sqitch.changes "
                    "WHERE project = %s ORDER BY committed_at",
                    lit);
    free(lit);
    r = db_query(db, sql, e);
    free(sql);
    if (r == NULL)
        return -1;
    for (size_t i = 0; i < db_nrows(r); i++) {
        const char *change_id = db_value(r, i, 0);
        long at = -1;

        for (size_t k = 0; k < m->nmigrations && at < 0; k++) {
            const char *o = m->migrations[k].origin;

            if (o && strncmp(o, change_id, strlen(change_id)) == 0)
                at = (long)k;
        }
        if (at < 0) {
            problem(a, "%s records change %s (%s), which this bundle does not know", a->table,
                    db_value(r, i, 2), change_id);
            break;
        }
        if (db_value(r, i, 1) && origin_checksum(&m->migrations[at]) &&
            strcmp(db_value(r, i, 1), origin_checksum(&m->migrations[at])) != 0) {
            problem(a,
                    "%s records change %s with script hash %s, but the bundle's deploy script "
                    "has %s: it was changed after Sqitch deployed it",
                    a->table, db_value(r, i, 2), db_value(r, i, 1),
                    origin_checksum(&m->migrations[at]));
            break;
        }
        if ((size_t)at != i) {
            problem(a, "%s records change %s in another order than the bundle's chain", a->table,
                    db_value(r, i, 2));
            break;
        }
        a->count = i + 1;
    }
    db_rows_free(r);
    return 0;
}

/* Tools that keep one row per applied version (dbmate, goose, diesel): column 0. */
static int
detect_rows(struct db *db, const char *sql, const struct manifest *m, struct adopt_result *a,
            struct db_error *e)
{
    struct db_rows *r = db_query(db, sql, e);

    if (r == NULL)
        return -1;
    take_prefix(a, m, r);
    db_rows_free(r);
    return 0;
}

/* Tools that keep only the current version (Alembic, golang-migrate). */
static int
detect_current(struct db *db, const char *sql, const struct manifest *m, struct adopt_result *a,
               struct db_error *e)
{
    struct db_rows *r = db_query(db, sql, e);
    long at;

    if (r == NULL)
        return -1;
    if (db_nrows(r) > 1) {
        problem(a,
                "%s names %zu current versions (several heads); sealift adopts one linear "
                "chain",
                a->table, db_nrows(r));
    } else if (db_nrows(r) == 1) {
        if (db_value(r, 0, 1) && strcmp(db_value(r, 0, 1), "t") == 0)
            problem(a,
                    "%s is dirty at version %s: a migration failed half-way under "
                    "golang-migrate; fix the database and clear the flag (migrate force) first",
                    a->table, db_value(r, 0, 0));
        else if ((at = chain_index(m, db_value(r, 0, 0))) < 0)
            problem(a, "%s says the database is at %s, which this bundle does not know", a->table,
                    db_value(r, 0, 0));
        else
            a->count = (size_t)at + 1;
    }
    db_rows_free(r);
    return 0;
}

int
adopt_detect(struct db *db, const struct manifest *m, struct adopt_result *a, struct db_error *e)
{
    static const struct {
        const char *source;
        const char *table;
    } tables[] = {
        {"flyway", "flyway_schema_history"},
        {"alembic", "alembic_version"},
        {"golang-migrate", "schema_migrations"},
        {"dbmate", "schema_migrations"},
        {"goose", "goose_db_version"},
        {"sqitch", "sqitch.changes"},
        {"diesel", "__diesel_schema_migrations"},
    };
    int exists = 0;

    for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
        if (strcmp(m->source, tables[i].source) != 0)
            continue;
        exists = table_exists(db, tables[i].table, e);
        if (exists < 0)
            return -1;
        a->tool = tables[i].source;
        snprintf(a->table, sizeof(a->table), "%s", tables[i].table);
    }
    if (exists <= 0)
        return 0;
    a->found = 1;
    if (strcmp(a->tool, "flyway") == 0)
        return detect_flyway(db, m, a, e);
    if (strcmp(a->tool, "sqitch") == 0)
        return detect_sqitch(db, m, a, e);
    if (strcmp(a->tool, "alembic") == 0)
        return detect_current(db, "SELECT version_num, NULL FROM alembic_version", m, a, e);
    if (strcmp(a->tool, "golang-migrate") == 0)
        return detect_current(db, "SELECT version::text, dirty::text FROM schema_migrations", m, a,
                              e);
    if (strcmp(a->tool, "dbmate") == 0)
        return detect_rows(db, "SELECT version FROM schema_migrations", m, a, e);
    if (strcmp(a->tool, "goose") == 0)
        return detect_rows(db,
                           "SELECT version_id::text FROM goose_db_version "
                           "WHERE is_applied AND version_id > 0",
                           m, a, e);
    return detect_rows(db, "SELECT version FROM __diesel_schema_migrations", m, a, e);
}

void
adopt_sql(const struct adopt_result *a, const struct history_ctx *h,
          const struct history_source *src, const struct manifest *m, struct buf *out)
{
    char detail[256];

    snprintf(detail, sizeof(detail), "adopted from %s (%s)", a->tool, a->table);
    buf_addstr(out, "BEGIN;\n");
    for (size_t i = 0; i < a->count; i++) {
        history_sql_applied(h, src, m, i, "adopted", NULL, out);
        history_sql_journal(h, src, "adopt", m, (long)i, detail, out);
    }
    history_sql_project(h, src, out);
    history_sql_journal_head(h, out);
    buf_addstr(out, "COMMIT;\n");
}

void
adopt_sql_alembic_version(const struct manifest *m, size_t head, struct buf *out)
{
    buf_addstr(out, "CREATE TABLE IF NOT EXISTS alembic_version (version_num varchar(32) NOT NULL, "
                    "CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num));\n"
                    "DELETE FROM alembic_version;\n");
    if (head > 0) {
        char *lit = db_quote_literal(m->migrations[head - 1].id);

        buf_addf(out, "INSERT INTO alembic_version (version_num) VALUES (%s);\n", lit);
        free(lit);
    }
}
