/*
 * adopt.c: adopt a database from the migration tool a chain was imported from (see adopt.h).
 * Layer: applier. Queries go through db.c; the tools' tables are described in the research
 * notes on each tool and checked against their own documentation.
 */
#include "adopt.h"
#include "journal.h"
#include "sealift/version.h"
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
    free(a->reps);
    free(a->pending_reps);
    adopt_result_init(a);
}

int
adopt_any(const struct adopt_result *a)
{
    return a->found && !a->problem.len && (a->count > 0 || a->nreps > 0);
}

/*
 * The chain migration the tool calls version: its id, or the key of its origin line (what the
 * tool records, when the reader named the migration otherwise).
 */
static long
chain_index(const struct manifest *m, const char *version)
{
    for (size_t i = 0; i < m->nmigrations; i++) {
        const char *o = m->migrations[i].origin;
        size_t klen = o ? strcspn(o, " ") : 0;

        if (version_same(m->migrations[i].id, version) ||
            (o && strlen(version) == klen && strncmp(o, version, klen) == 0))
            return (long)i;
    }
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
 * Mark the chain migration the tool calls version as applied in seen[]. A version the chain
 * does not have is a problem: the tool ran something this bundle cannot account for.
 */
static int
mark_seen(struct adopt_result *a, const struct manifest *m, char *seen, const char *version)
{
    long at = chain_index(m, version);

    if (at < 0) {
        problem(a, "%s records migration %s as applied, which this bundle does not know", a->table,
                version);
        return -1;
    }
    seen[at] = 1;
    return 0;
}

/*
 * What the tool recorded (seen[]) must be exactly the chain's first n migrations. Sets a->count,
 * or a problem naming the first one out of place.
 */
static void
take_seen(struct adopt_result *a, const struct manifest *m, const char *seen)
{
    while (a->count < m->nmigrations && seen[a->count])
        a->count++;
    for (size_t i = a->count; i < m->nmigrations; i++)
        if (seen[i]) {
            problem(a, "%s records %s as applied but not %s before it; adopting would skip it",
                    a->table, m->migrations[i].id, m->migrations[a->count].id);
            a->count = 0;
            return;
        }
}

/* The tool recorded the versions in rows (column 0): see take_seen. */
static void
take_prefix(struct adopt_result *a, const struct manifest *m, struct db_rows *r)
{
    char *seen = xcalloc(m->nmigrations + 1, 1);

    for (size_t i = 0; i < db_nrows(r); i++)
        if (mark_seen(a, m, seen, db_value(r, i, 0)) != 0)
            break;
    if (!a->problem.len)
        take_seen(a, m, seen);
    free(seen);
}

/*
 * The origin line's checksum ("KEY CHECKSUM"), or NULL. Checksums have no spaces; a key may
 * (a Liquibase file name).
 */
static const char *
origin_checksum(const struct manifest_migration *mig)
{
    const char *sp = mig->origin ? strrchr(mig->origin, ' ') : NULL;

    return sp ? sp + 1 : NULL;
}

/* The bundle's repeatable named name, or -1. */
static long
repeatable_index(const struct manifest *m, const char *name)
{
    for (size_t j = 0; j < m->nrepeatables; j++)
        if (strcmp(m->repeatables[j].id, name) == 0)
            return (long)j;
    return -1;
}

/*
 * The repeatables to adopt: of those sealift's own history has pending (the view's), each
 * whose last run the tool recorded (last[j], its checksum as text) with the checksum of the
 * bundle's file (the origin line). Any other stays pending and runs on the next apply, as the
 * tool would run a changed one.
 */
static void
take_repeatables(struct adopt_result *a, const struct manifest *m, const struct engine_view *view,
                 const char *const *last)
{
    a->reps = xcalloc(view->nreps + 1, sizeof(*a->reps));
    for (size_t k = 0; k < view->nreps; k++) {
        size_t j = view->reps[k];
        const char *want = origin_checksum(&m->repeatables[j]);

        if (last[j] && want && strcmp(last[j], want) == 0)
            a->reps[a->nreps++] = j;
    }
}

/*
 * flyway_schema_history: one row per run, in installed_rank order. A versioned SQL migration
 * ("SQL") must have the checksum Flyway computed of the bundle's script (the origin line); a
 * BASELINE row stands for every version up to its own (Flyway never runs those); the schema
 * creation row ("SCHEMA") records no migration. A repeatable SQL migration (no version) is
 * known by its description, as Flyway's MigrationInfoServiceImpl keys them, and its row of
 * highest installed_rank is what the database has of it (take_repeatables). Everything else is
 * refused: a failed run, a migration the bundle does not have, undo and Java migrations.
 */
static int
detect_flyway(struct db *db, const struct manifest *m, const struct engine_view *view,
              struct adopt_result *a, struct db_error *e)
{
    struct db_rows *r;
    const char **last; /* per repeatable of the bundle, the checksum of its last run */
    char *seen, *sql;

    sql = xasprintf("SELECT version, checksum::text, success, type, script, description "
                    "FROM %s ORDER BY installed_rank",
                    a->table);
    r = db_query(db, sql, e);
    free(sql);
    if (r == NULL)
        return -1;
    seen = xcalloc(m->nmigrations + 1, 1);
    last = xcalloc(m->nrepeatables + 1, sizeof(*last));
    for (size_t i = 0; i < db_nrows(r) && !a->problem.len; i++) {
        const char *version = db_value(r, i, 0), *checksum = db_value(r, i, 1);
        const char *type = db_value(r, i, 3), *script = db_value(r, i, 4);
        const char *desc = db_value(r, i, 5);
        const char *want;
        long at;

        if (type && strcmp(type, "SCHEMA") == 0)
            continue;
        if (db_value(r, i, 2) == NULL || strcmp(db_value(r, i, 2), "t") != 0) {
            problem(a, "%s records migration %s (%s) as failed; repair it with Flyway first",
                    a->table, version ? version : "without version", script ? script : "?");
        } else if (version == NULL && (type == NULL || strcmp(type, "SQL") != 0)) {
            problem(a, "%s has a row of type %s (for %s), which sealift cannot adopt", a->table,
                    type ? type : "NULL", script ? script : "?");
        } else if (version == NULL) {
            if ((at = desc ? repeatable_index(m, desc) : -1) < 0)
                problem(a,
                        "%s records repeatable migration %s as applied, which this bundle does "
                        "not know",
                        a->table, script ? script : "?");
            else
                last[at] = checksum; /* rows come in installed_rank order: the last wins */
        } else if (type && strcmp(type, "BASELINE") == 0 && !version_flyway_valid(version)) {
            problem(a, "%s records baseline version %s, which is not a Flyway version", a->table,
                    version);
        } else if (type && strcmp(type, "BASELINE") == 0) {
            for (size_t k = 0; k < m->nmigrations; k++)
                if (version_flyway_cmp(m->migrations[k].id, version) <= 0)
                    seen[k] = 1;
        } else if (type == NULL || strcmp(type, "SQL") != 0) {
            problem(a, "%s has a row of type %s (for %s), which sealift cannot adopt", a->table,
                    type ? type : "NULL", version);
        } else if (mark_seen(a, m, seen, version) == 0 && (at = chain_index(m, version)) >= 0 &&
                   (want = origin_checksum(&m->migrations[at])) != NULL &&
                   (checksum == NULL || strcmp(checksum, want) != 0)) {
            problem(a,
                    "%s records migration %s with checksum %s, but the bundle's script has "
                    "%s: it was changed after Flyway ran it",
                    a->table, version, checksum ? checksum : "NULL", want);
        }
    }
    if (!a->problem.len) {
        take_seen(a, m, seen);
        take_repeatables(a, m, view, last);
    }
    free(last);
    free(seen);
    db_rows_free(r);
    return 0;
}

/* The chain migration whose origin names Sqitch change id (origin "CHANGE_ID SCRIPT_HASH"). */
static long
sqitch_index(const struct manifest *m, const char *change_id)
{
    size_t len = strlen(change_id);

    for (size_t k = 0; k < m->nmigrations; k++) {
        const char *o = m->migrations[k].origin;

        if (o && strncmp(o, change_id, len) == 0 && (o[len] == ' ' || o[len] == '\0'))
            return (long)k;
    }
    return -1;
}

/*
 * sqitch.changes: one row per deployed change, of every project sharing the registry. The
 * project is the one whose change ids are the chain's (a change id hashes the project name, so
 * they cannot belong to another), else the bundle's project name; other projects are left
 * alone. The changes must be the chain's first n, in order, each with the script hash of the
 * bundle's deploy script.
 */
static int
detect_sqitch(struct db *db, const struct manifest *m, struct adopt_result *a, struct db_error *e)
{
    const char *project = m->project;
    struct db_rows *r;
    size_t n = 0;

    char *sql = xasprintf("SELECT change_id, script_hash, change, project FROM %s "
                          "ORDER BY committed_at, change_id",
                          a->table);

    r = db_query(db, sql, e);
    free(sql);
    if (r == NULL)
        return -1;
    for (size_t i = 0; i < db_nrows(r); i++)
        if (sqitch_index(m, db_value(r, i, 0)) >= 0) {
            project = db_value(r, i, 3);
            break;
        }
    for (size_t i = 0; i < db_nrows(r); i++) {
        const char *change_id = db_value(r, i, 0), *hash = db_value(r, i, 1);
        const char *name = db_value(r, i, 2), *want;
        long at;

        if (strcmp(db_value(r, i, 3), project) != 0)
            continue;
        if ((at = sqitch_index(m, change_id)) < 0) {
            problem(a, "%s records change %s (%s), which this bundle does not know", a->table, name,
                    change_id);
            break;
        }
        want = origin_checksum(&m->migrations[at]);
        if (want && (hash == NULL || strcmp(hash, want) != 0)) {
            problem(a,
                    "%s records change %s with script hash %s, but the bundle's deploy script "
                    "has %s: it was changed after Sqitch deployed it",
                    a->table, m->migrations[at].id, hash ? hash : "NULL", want);
            break;
        }
        if ((size_t)at != n) {
            problem(a,
                    "%s records change %s as deployed but not %s before it; adopting would "
                    "skip it",
                    a->table, m->migrations[at].id, m->migrations[n].id);
            break;
        }
        n++;
    }
    a->count = a->problem.len ? 0 : n;
    db_rows_free(r);
    return 0;
}

/*
 * Of v[0..n) (the chain's migrations, or its repeatables), the one whose origin key
 * ("author:id@file", before the checksum) is key, or -1.
 */
static long
liquibase_index(const struct manifest_migration *v, size_t n, const char *key)
{
    size_t len = strlen(key);

    for (size_t k = 0; k < n; k++) {
        const char *o = v[k].origin;
        const char *sp = o ? strrchr(o, ' ') : NULL;
        size_t klen = sp ? (size_t)(sp - o) : (o ? strlen(o) : 0);

        if (o && klen == len && strncmp(o, key, len) == 0)
            return (long)k;
    }
    return -1;
}

/*
 * DATABASECHANGELOG: one row per changeset run, keyed by (id, author, filename). A held lock
 * (DATABASECHANGELOGLOCK) means Liquibase is running, or was killed while it ran: refused. A
 * FAILED row is refused; EXECUTED, RERAN and MARK_RAN rows count as applied. A FILENAME is
 * compared as Liquibase normalises it: without a "classpath:" prefix or leading '/' (Spring
 * Boot records its master as "classpath:/db/changelog/..."). The MD5SUM must
 * be the bundle's when both are of the same checksum version (sealift computes version 8, as
 * Liquibase 4.0 to 4.21 do); a sum of another version is not compared (the ids still are).
 *
 * A runOnChange changeset is one of the bundle's repeatables (named by the same key). When it
 * runs again, Liquibase updates its one row in place (MD5SUM, EXECTYPE RERAN), so the row is
 * its last run: adopted when its MD5SUM is the bundle's (take_repeatables). One of another
 * checksum version, or none (after "liquibase clear-checksums"), cannot be shown to be the
 * bundle's changeset: it stays pending and runs once more, which a runOnChange changeset is
 * written to bear.
 */
static int
detect_liquibase(struct db *db, const struct manifest *m, const struct engine_view *view,
                 struct adopt_result *a, struct db_error *e)
{
    struct db_rows *r;
    const char **last; /* per repeatable of the bundle, the MD5SUM of its row */
    char *seen;
    int lock = table_exists(db, "databasechangeloglock", e);

    if (lock < 0)
        return -1;
    if (lock) {
        r = db_query(db,
                     "SELECT coalesce(lockedby, '?'), coalesce(lockgranted::text, '?') "
                     "FROM databasechangeloglock WHERE locked",
                     e);
        if (r == NULL)
            return -1;
        if (db_nrows(r) > 0)
            problem(a,
                    "databasechangeloglock is held (by %s since %s): Liquibase is running, or "
                    "was stopped while it ran; when none runs, clear it with \"liquibase "
                    "release-locks\"",
                    db_value(r, 0, 0), db_value(r, 0, 1));
        db_rows_free(r);
        if (a->problem.len)
            return 0;
    }
    r = db_query(db,
                 "SELECT author || ':' || id || '@' || regexp_replace(filename, "
                 "'^(classpath:)?/*', ''), md5sum, exectype "
                 "FROM databasechangelog ORDER BY orderexecuted, dateexecuted",
                 e);
    if (r == NULL)
        return -1;
    seen = xcalloc(m->nmigrations + 1, 1);
    last = xcalloc(m->nrepeatables + 1, sizeof(*last));
    for (size_t i = 0; i < db_nrows(r) && !a->problem.len; i++) {
        const char *key = db_value(r, i, 0), *sum = db_value(r, i, 1);
        const char *type = db_value(r, i, 2), *want;
        long at = key ? liquibase_index(m->migrations, m->nmigrations, key) : -1;
        long rep = key && at < 0 ? liquibase_index(m->repeatables, m->nrepeatables, key) : -1;

        if (type && strcmp(type, "FAILED") == 0) {
            problem(a, "%s records changeset %s as failed; fix it with Liquibase first", a->table,
                    key ? key : "?");
        } else if (rep >= 0) {
            last[rep] = sum;
        } else if (at < 0) {
            problem(a, "%s records changeset %s as applied, which this bundle does not know",
                    a->table, key ? key : "?");
        } else if ((want = origin_checksum(&m->migrations[at])) != NULL && sum &&
                   strncmp(sum, want, strcspn(want, ":") + 1) == 0 && strcmp(sum, want) != 0) {
            problem(a,
                    "%s records changeset %s with MD5SUM %s, but the bundle's changeset has "
                    "%s: it was changed after Liquibase ran it",
                    a->table, key, sum, want);
        } else {
            seen[at] = 1;
        }
    }
    if (!a->problem.len) {
        take_seen(a, m, seen);
        take_repeatables(a, m, view, last);
    }
    free(last);
    free(seen);
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

/*
 * The query whose result is the digest of the columns adoption reads, over every row in a
 * stable order. Only values whose text does not depend on session settings (no timestamps), so
 * that a plan run later by psql computes the same.
 */
static char *
digest_query(const char *table, const char *columns)
{
    struct buf row = BUF_INIT;
    char *sql;

    for (const char *c = columns; *c;) {
        size_t len = strcspn(c, " ");

        buf_addf(&row, "%squote_nullable(%.*s::text)", row.len ? ", " : "", (int)len, c);
        c += len + (c[len] == ' ');
    }
    sql = xasprintf("SELECT md5(coalesce(string_agg(r, E'\\n' ORDER BY r), '')) "
                    "FROM (SELECT concat_ws(',', %s) AS r FROM %s) t",
                    row.data, table);
    buf_release(&row);
    return sql;
}

static int
table_digest(struct db *db, struct adopt_result *a, struct db_error *e)
{
    char *sql = digest_query(a->table, a->columns);
    struct db_rows *r = db_query(db, sql, e);

    free(sql);
    if (r == NULL)
        return -1;
    snprintf(a->digest, sizeof(a->digest), "%s", db_value(r, 0, 0) ? db_value(r, 0, 0) : "");
    db_rows_free(r);
    return 0;
}

/*
 * The columns the tool's table must have for the queries below: a table of the same name that
 * another tool wrote (dbmate's and golang-migrate's are both schema_migrations, and so is
 * Rails's) is refused rather than misread. Returns 0 (a problem is set when one is missing),
 * or -1 on a database error.
 */
static int
check_columns(struct db *db, struct adopt_result *a, const char *columns, struct db_error *e)
{
    char *lit = db_quote_literal(a->table);
    char *sql = xasprintf("SELECT attname FROM pg_attribute WHERE attrelid = to_regclass(%s) "
                          "AND attnum > 0 AND NOT attisdropped",
                          lit);
    struct db_rows *r = db_query(db, sql, e);
    const char *c = columns;

    free(lit);
    free(sql);
    if (r == NULL)
        return -1;
    while (*c && !a->problem.len) {
        size_t len = strcspn(c, " ");
        int have = 0;

        for (size_t i = 0; i < db_nrows(r) && !have; i++)
            have = strlen(db_value(r, i, 0)) == len && strncmp(db_value(r, i, 0), c, len) == 0;
        if (!have)
            problem(a, "%s has no column \"%.*s\": it is not %s's history table", a->table,
                    (int)len, c, a->tool);
        c += len + (c[len] == ' ');
    }
    db_rows_free(r);
    return 0;
}

int
adopt_table_name_valid(const char *name)
{
    size_t part = 0, parts = 1;

    for (const char *p = name; *p; p++) {
        if (*p == '.') {
            if (part == 0 || ++parts > 2)
                return 0;
            part = 0;
        } else if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || *p == '_' ||
                   (part > 0 && *p >= '0' && *p <= '9')) {
            if (++part > 63)
                return 0;
        } else {
            return 0;
        }
    }
    return part > 0;
}

/* adopt_detect, but for the repeatables left pending. */
static int
detect(struct db *db, const struct manifest *m, const struct engine_view *view,
       struct adopt_result *a, struct db_error *e)
{
    static const struct {
        const char *source;
        const char *table;
        const char *columns;
    } tables[] = {
        {"flyway", "flyway_schema_history",
         "installed_rank version description type script checksum success"},
        {"alembic", "alembic_version", "version_num"},
        {"golang-migrate", "schema_migrations", "version dirty"},
        {"dbmate", "schema_migrations", "version"},
        {"goose", "goose_db_version", "id version_id is_applied"},
        {"sqitch", "sqitch.changes", "change_id script_hash change project"},
        {"diesel", "__diesel_schema_migrations", "version"},
        {"liquibase", "databasechangelog", "id author filename md5sum exectype orderexecuted"},
    };
    int exists = 0;
    const char *columns = NULL;
    char *sql;
    int ret;

    for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
        /* --adopt-table: the tool was configured with another name (validated: plain names). */
        const char *table = a->want_table ? a->want_table : tables[i].table;

        if (strcmp(m->source, tables[i].source) != 0)
            continue;
        exists = table_exists(db, table, e);
        if (exists < 0)
            return -1;
        a->tool = tables[i].source;
        a->columns = columns = tables[i].columns;
        snprintf(a->table, sizeof(a->table), "%s", table);
    }
    /* A table named by the operator must be there: silence would re-run everything. */
    if (exists == 0 && a->want_table && a->tool) {
        a->found = 1;
        problem(a, "--adopt-table %s: no such table (the %s history to adopt)", a->want_table,
                a->tool);
        return 0;
    }
    if (exists <= 0)
        return 0;
    a->found = 1;
    if (check_columns(db, a, columns, e) != 0)
        return -1;
    if (a->problem.len)
        return 0;
    if (table_digest(db, a, e) != 0)
        return -1;
    if (strcmp(a->tool, "flyway") == 0)
        return detect_flyway(db, m, view, a, e);
    if (strcmp(a->tool, "sqitch") == 0)
        return detect_sqitch(db, m, a, e);
    if (strcmp(a->tool, "liquibase") == 0)
        return detect_liquibase(db, m, view, a, e);
    if (strcmp(a->tool, "alembic") == 0)
        sql = xasprintf("SELECT version_num, NULL FROM %s", a->table);
    else if (strcmp(a->tool, "golang-migrate") == 0)
        sql = xasprintf("SELECT version::text, dirty FROM %s", a->table);
    else if (strcmp(a->tool, "dbmate") == 0)
        sql = xasprintf("SELECT version FROM %s", a->table);
    /*
     * goose's newest row of a version says whether it is applied: goose before v3 recorded a
     * down as a new row (version, false) instead of deleting; version 0 is goose's first row.
     */
    else if (strcmp(a->tool, "goose") == 0)
        sql = xasprintf("SELECT version_id::text FROM (SELECT DISTINCT ON (version_id) "
                        "version_id, is_applied FROM %s "
                        "ORDER BY version_id, id DESC) v WHERE is_applied AND version_id <> 0",
                        a->table);
    else
        sql = xasprintf("SELECT version FROM %s", a->table);
    if (strcmp(a->tool, "alembic") == 0 || strcmp(a->tool, "golang-migrate") == 0)
        ret = detect_current(db, sql, m, a, e);
    else
        ret = detect_rows(db, sql, m, a, e);
    free(sql);
    return ret;
}

int
adopt_detect(struct db *db, const struct manifest *m, const struct engine_view *view,
             struct adopt_result *a, struct db_error *e)
{
    if (detect(db, m, view, a, e) != 0)
        return -1;
    /* What an apply to the head runs after the adoption: what sealift has pending, less it. */
    a->pending_reps = xcalloc(view->nreps + 1, sizeof(*a->pending_reps));
    for (size_t k = 0; k < view->nreps; k++) {
        size_t n = 0;

        while (n < a->nreps && a->reps[n] != view->reps[k])
            n++;
        if (n == a->nreps)
            a->pending_reps[a->npending_reps++] = view->reps[k];
    }
    return 0;
}

void
adopt_sql(const struct adopt_result *a, const struct history_ctx *h,
          const struct history_source *src, const struct manifest *m, struct buf *out)
{
    char detail[256];
    char *query = digest_query(a->table, a->columns);
    char *table = db_quote_literal(a->table);

    snprintf(detail, sizeof(detail), "adopted from %s (%s)", a->tool, a->table);
    buf_addstr(out, "BEGIN;\n");
    buf_addf(out,
             "DO $sealift$ BEGIN\n"
             "  IF (%s) IS DISTINCT FROM '%s' THEN\n"
             "    RAISE EXCEPTION 'sealift: %% changed after sealift-apply read it; nothing was "
             "adopted', %s;\n"
             "  END IF;\n"
             "END $sealift$;\n",
             query, a->digest, table);
    free(query);
    free(table);
    for (size_t i = 0; i < a->count; i++) {
        history_sql_applied(h, src, m, i, "adopted", NULL, out);
        history_sql_journal(h, src, "adopt", m, (long)i, detail, out);
    }
    /* A repeatable is step nmigrations + j of the walk (walk.h), as the journal names it. */
    for (size_t k = 0; k < a->nreps; k++) {
        history_sql_repeatable_run(h, src, m, a->reps[k], "adopted", NULL, NULL, out);
        buf_addstr(out, ";\n");
        history_sql_journal(h, src, JOURNAL_EVENT_REPEATABLE_ADOPT, m,
                            (long)(m->nmigrations + a->reps[k]), detail, out);
    }
    history_sql_project(h, src, out);
    history_sql_journal_head(h, out);
    buf_addstr(out, "COMMIT;\n");
}

void
adopt_sql_alembic_version(const char *table, const struct manifest *m, size_t head, struct buf *out)
{
    /* Alembic's version_table may be renamed (--adopt-table names it): keep that one in step. */
    const char *name = table ? table : "alembic_version";
    const char *dot = strchr(name, '.');
    const char *bare = dot ? dot + 1 : name;
    struct buf qualified = BUF_INIT, pkey = BUF_INIT;
    char *part, *q;

    if (dot) {
        part = xstrndup(name, (size_t)(dot - name));
        q = db_quote_ident(part);
        buf_addf(&qualified, "%s.", q);
        free(q);
        free(part);
    }
    q = db_quote_ident(bare);
    buf_addstr(&qualified, q);
    free(q);
    buf_addf(&pkey, "%s_pkc", bare);
    q = db_quote_ident(pkey.data);
    buf_addf(out,
             "CREATE TABLE IF NOT EXISTS %s (version_num varchar(32) NOT NULL, "
             "CONSTRAINT %s PRIMARY KEY (version_num));\n"
             "DELETE FROM %s;\n",
             qualified.data, q, qualified.data);
    free(q);
    if (head > 0) {
        char *lit = db_quote_literal(m->migrations[head - 1].id);

        buf_addf(out, "INSERT INTO %s (version_num) VALUES (%s);\n", qualified.data, lit);
        free(lit);
    }
    buf_release(&qualified);
    buf_release(&pkey);
}
