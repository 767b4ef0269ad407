/*
 * history.c: the history schema, its state, the SQL that writes it, and journal verification.
 * Layer: applier. Generates SQL text; db.c runs it.
 */
#include "history.h"
#include "drift.h"
#include "journal.h"
#include "sealift/hash.h"
#include "sealift/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HISTORY_VERSION 1
/* Results of history_load's second round trip: meta, applied, projects, progress, repeatable
 * runs, the journal's key statements and head, the last fingerprint. */
#define HISTORY_BATCH_MAX 8

void
history_ctx_init(struct history_ctx *h, const char *schema, const char *project)
{
    h->schema = xstrdup(schema);
    h->qschema = db_quote_ident(schema);
    h->project = xstrdup(project);
}

void
history_ctx_release(struct history_ctx *h)
{
    free(h->schema);
    free(h->qschema);
    free(h->project);
    memset(h, 0, sizeof(*h));
}

int
history_schema_name_valid(const char *name)
{
    size_t n = strlen(name);

    if (n == 0 || n > 63 || (name[0] >= '0' && name[0] <= '9'))
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= 'A' && name[i] <= 'Z') ||
              (name[i] >= '0' && name[i] <= '9') || name[i] == '_'))
            return 0;
    return 1;
}

void
history_sql_upgrade(const struct history_ctx *h, struct buf *out)
{
    /* Added after version 1 shipped: a history created before has no such column. */
    buf_addf(out, "ALTER TABLE %s.journal ADD COLUMN IF NOT EXISTS checksums text;\n", h->qschema);
    /* Schema fingerprints (drift.h), added later too. */
    drift_sql_table(h, out);
    /* Repeatable migrations' runs, added later still. */
    buf_addf(out,
             "CREATE TABLE IF NOT EXISTS %s.repeatable_runs (\n"
             "    project text NOT NULL,\n"
             "    name text NOT NULL,\n"
             "    run integer NOT NULL,\n"
             "    checksum text NOT NULL,\n"
             "    bundle_id text NOT NULL,\n"
             "    bundle_serial bigint NOT NULL,\n"
             "    signers text NOT NULL,\n"
             "    environment text,\n"
             "    how text NOT NULL,\n"
             "    applied_at timestamptz NOT NULL DEFAULT clock_timestamp(),\n"
             "    applied_by text NOT NULL DEFAULT current_user,\n"
             "    client_host text,\n"
             "    duration_ms numeric,\n"
             "    PRIMARY KEY (project, name, run));\n",
             h->qschema);
}

void
history_sql_create(const struct history_ctx *h, struct buf *out)
{
    const char *s = h->qschema;

    /*
     * Not "CREATE SCHEMA IF NOT EXISTS": PostgreSQL checks CREATE on the database before it
     * looks whether the schema exists, and a least-privileged role may be given a schema
     * created for it (USAGE and CREATE on it) instead of CREATE on the database.
     */
    buf_addstr(out, "DO $sealift$ BEGIN IF to_regnamespace(");
    db_add_literal(out, s);
    buf_addf(out, ") IS NULL THEN CREATE SCHEMA %s; END IF; END $sealift$;\n", s);
    buf_addf(out,
             "CREATE TABLE IF NOT EXISTS %s.meta (key text PRIMARY KEY, value text NOT NULL);\n"
             "INSERT INTO %s.meta (key, value) VALUES ('history_version', '%d'), "
             "('journal_head', '" JOURNAL_ZERO_HASH "'), ('journal_rows', '0') "
             "ON CONFLICT (key) DO NOTHING;\n",
             s, s, HISTORY_VERSION);
    buf_addf(out,
             "CREATE TABLE IF NOT EXISTS %s.projects (\n"
             "    project text PRIMARY KEY,\n"
             "    environment text,\n"
             "    max_serial bigint NOT NULL DEFAULT 0,\n"
             "    updated_at timestamptz NOT NULL DEFAULT clock_timestamp());\n",
             s);
    buf_addf(out,
             "CREATE TABLE IF NOT EXISTS %s.applied (\n"
             "    project text NOT NULL,\n"
             "    ordinal integer NOT NULL,\n"
             "    migration_id text NOT NULL,\n"
             "    name text NOT NULL,\n"
             "    up_source_sha256 text NOT NULL,\n"
             "    down_source_sha256 text,\n"
             "    up_sha256 text NOT NULL,\n"
             "    chain text NOT NULL,\n"
             "    bundle_id text NOT NULL,\n"
             "    bundle_serial bigint NOT NULL,\n"
             "    signers text NOT NULL,\n"
             "    environment text,\n"
             "    how text NOT NULL,\n"
             "    applied_at timestamptz NOT NULL DEFAULT clock_timestamp(),\n"
             "    applied_by text NOT NULL DEFAULT current_user,\n"
             "    client_host text,\n"
             "    duration_ms numeric,\n"
             "    PRIMARY KEY (project, migration_id),\n"
             "    UNIQUE (project, ordinal));\n",
             s);
    buf_addf(out,
             "CREATE TABLE IF NOT EXISTS %s.progress (\n"
             "    project text NOT NULL,\n"
             "    migration_id text NOT NULL,\n"
             "    direction text NOT NULL,\n"
             "    chain text NOT NULL,\n"
             "    statements_done integer NOT NULL,\n"
             "    statements_total integer NOT NULL,\n"
             "    statement_sha256 text[] NOT NULL,\n"
             "    updated_at timestamptz NOT NULL DEFAULT clock_timestamp(),\n"
             "    PRIMARY KEY (project, migration_id, direction));\n",
             s);
    buf_addf(out,
             "CREATE TABLE IF NOT EXISTS %s.journal (\n"
             "    seq bigint PRIMARY KEY,\n"
             "    project text NOT NULL,\n"
             "    at timestamptz NOT NULL,\n"
             "    event text NOT NULL,\n"
             "    migration_id text,\n"
             "    ordinal integer,\n"
             "    chain text,\n"
             "    bundle_id text,\n"
             "    bundle_serial bigint,\n"
             "    signers text,\n"
             "    environment text,\n"
             "    actor text NOT NULL,\n"
             "    client_host text,\n"
             "    detail text,\n"
             "    prev_hash text NOT NULL,\n"
             "    hash text NOT NULL);\n",
             s);
    history_sql_upgrade(h, out);
}

/* ---- state ---- */

void
db_state_init(struct db_state *s)
{
    memset(s, 0, sizeof(*s));
}

static void
free_applied(struct applied_row *r)
{
    free(r->id);
    free(r->name);
    free(r->up_source);
    free(r->chain);
}

void
db_state_release(struct db_state *s)
{
    for (size_t i = 0; i < s->napplied; i++)
        free_applied(&s->applied[i]);
    for (size_t i = 0; i < s->nprogress; i++) {
        struct progress_row *p = &s->progress[i];

        free(p->id);
        free(p->direction);
        free(p->chain);
        for (long k = 0; k < p->done; k++)
            free(p->stmt_sha[k]);
        free(p->stmt_sha);
    }
    for (size_t i = 0; i < s->nreps; i++) {
        free(s->reps[i].name);
        free(s->reps[i].checksum);
        free(s->reps[i].how);
    }
    free(s->reps);
    free(s->applied);
    free(s->progress);
    free(s->environment);
    db_rows_free(s->key_rows);
    db_rows_free(s->head_rows);
    db_rows_free(s->fingerprint_rows);
    db_state_init(s);
}

static char *
dup_or_null(const char *s)
{
    return s ? xstrdup(s) : NULL;
}

/* Split a text[] value "{a,b,c}" (hex strings: no quoting needed) into n strings. */
static char **
split_array(const char *v, long n)
{
    char **out = xcalloc((size_t)(n > 0 ? n : 1), sizeof(*out));
    const char *p = v && *v == '{' ? v + 1 : "";

    for (long i = 0; i < n; i++) {
        size_t len = strcspn(p, ",}");

        out[i] = xstrndup(p, len);
        p += len;
        if (*p == ',')
            p++;
    }
    return out;
}

/* The query of the last run of each of the project's repeatables, by name. */
static void
sql_repeatables(const struct history_ctx *h, struct buf *sql)
{
    buf_addf(sql,
             "SELECT DISTINCT ON (name) name, checksum, how FROM %s.repeatable_runs WHERE "
             "project = ",
             h->qschema);
    db_add_literal(sql, h->project);
    buf_addstr(sql, " ORDER BY name, run DESC");
}

static void
take_repeatables(struct db_state *s, const struct db_rows *r)
{
    for (size_t i = 0; i < db_nrows(r); i++) {
        struct repeatable_row *row;

        s->reps = xgrow(s->reps, &s->reps_cap, s->nreps + 1, sizeof(*s->reps));
        row = &s->reps[s->nreps++];
        row->name = xstrdup(db_value(r, i, 0));
        row->checksum = xstrdup(db_value(r, i, 1));
        row->how = xstrdup(db_value(r, i, 2));
    }
}

const struct repeatable_row *
history_repeatable(const struct db_state *s, const char *name)
{
    for (size_t i = 0; i < s->nreps; i++)
        if (strcmp(s->reps[i].name, name) == 0)
            return &s->reps[i];
    return NULL;
}

/* Append "to_regclass('schema.table') IS NOT NULL". */
static void
sql_table_exists(const struct history_ctx *h, const char *table, struct buf *sql)
{
    struct buf name = BUF_INIT;

    buf_addf(&name, "%s.%s", h->qschema, table);
    buf_addstr(sql, "to_regclass(");
    db_add_literal(sql, name.data);
    buf_addstr(sql, ") IS NOT NULL");
    buf_release(&name);
}

int
history_load(struct db *db, const struct history_ctx *h, struct db_state *s, struct db_error *e)
{
    struct buf sql = BUF_INIT;
    struct db_rows *r = NULL, *rows[HISTORY_BATCH_MAX] = {NULL};
    size_t nrows = 4;
    int ret = -1, with_fingerprint;

    db_state_release(s);
    /* Which of the history's tables exist: the rest is then read in one round trip. */
    buf_addstr(&sql, "SELECT ");
    sql_table_exists(h, "applied", &sql);
    buf_addstr(&sql, ", ");
    sql_table_exists(h, "fingerprint", &sql);
    buf_addstr(&sql, ", ");
    sql_table_exists(h, "repeatable_runs", &sql);
    r = db_query(db, sql.data, e);
    if (r == NULL)
        goto cleanup;
    s->schema_exists = strcmp(db_value(r, 0, 0), "t") == 0;
    s->has_fingerprints = strcmp(db_value(r, 0, 1), "t") == 0;
    s->has_repeatables = strcmp(db_value(r, 0, 2), "t") == 0;
    db_rows_free(r);
    r = NULL;
    if (!s->schema_exists) {
        s->has_fingerprints = s->has_repeatables = 0;
        ret = 0;
        goto cleanup;
    }

    /*
     * The rest in one round trip (and one snapshot): the history version, the applied rows
     * (only what comparing them with a bundle needs: "history" reads the journal), the
     * project's binding and serial, the progress of no-transaction migrations and the last
     * run of each repeatable.
     */
    buf_reset(&sql);
    buf_addf(&sql,
             "SELECT value, (SELECT count(*) FROM pg_attribute WHERE attrelid = '%s.journal'"
             "::regclass AND attname = 'checksums' AND NOT attisdropped) FROM %s.meta WHERE "
             "key = 'history_version'; ",
             h->qschema, h->qschema);
    buf_addf(&sql,
             "SELECT ordinal, migration_id, name, up_source_sha256, chain FROM %s.applied "
             "WHERE project = ",
             h->qschema);
    db_add_literal(&sql, h->project);
    buf_addf(&sql,
             " ORDER BY ordinal; SELECT environment, max_serial FROM %s.projects WHERE project = ",
             h->qschema);
    db_add_literal(&sql, h->project);
    buf_addf(&sql,
             "; SELECT migration_id, direction, chain, statements_done, statements_total, "
             "statement_sha256 FROM %s.progress WHERE project = ",
             h->qschema);
    db_add_literal(&sql, h->project);
    if (s->has_repeatables) {
        buf_addstr(&sql, "; ");
        sql_repeatables(h, &sql);
        nrows = 5;
    }
    /*
     * The journal exists with the schema: its key statements (trust_check.h) and its head
     * (where a move's report starts) come with the rest, not in two more round trips.
     */
    buf_addstr(&sql, "; ");
    journal_sql_key_statements(h, &sql);
    buf_addstr(&sql, "; ");
    journal_sql_pos(h, &sql);
    nrows += 2;
    /* And whether the last fingerprint is current, which a no-op apply asks (drift_move.h). */
    with_fingerprint = s->has_fingerprints;
    if (with_fingerprint) {
        buf_addstr(&sql, "; ");
        drift_sql_last(h, 0, &sql);
        nrows++;
    }
    if (db_query_batch(db, sql.data, rows, nrows, e) != 0)
        goto cleanup;

    r = rows[0];
    s->history_version = db_nrows(r) ? atoi(db_value(r, 0, 0)) : 0;
    s->journal_upgraded = db_nrows(r) ? atoi(db_value(r, 0, 1)) == 1 : 0;
    if (!db_nrows(r))
        s->has_fingerprints = s->has_repeatables = 0;
    r = rows[1];
    for (size_t i = 0; i < db_nrows(r); i++) {
        struct applied_row *a;

        s->applied = xgrow(s->applied, &s->applied_cap, s->napplied + 1, sizeof(*s->applied));
        a = &s->applied[s->napplied++];
        a->ordinal = atol(db_value(r, i, 0));
        a->id = dup_or_null(db_value(r, i, 1));
        a->name = dup_or_null(db_value(r, i, 2));
        a->up_source = dup_or_null(db_value(r, i, 3));
        a->chain = dup_or_null(db_value(r, i, 4));
    }
    r = rows[2];
    if (db_nrows(r) == 1) {
        s->has_project = 1;
        s->environment = dup_or_null(db_value(r, 0, 0));
        s->max_serial = atoll(db_value(r, 0, 1));
    }
    r = rows[3];
    for (size_t i = 0; i < db_nrows(r); i++) {
        struct progress_row *p;

        s->progress = xgrow(s->progress, &s->progress_cap, s->nprogress + 1, sizeof(*s->progress));
        p = &s->progress[s->nprogress++];
        p->id = xstrdup(db_value(r, i, 0));
        p->direction = xstrdup(db_value(r, i, 1));
        p->chain = xstrdup(db_value(r, i, 2));
        p->done = atol(db_value(r, i, 3));
        p->total = atol(db_value(r, i, 4));
        p->stmt_sha = split_array(db_value(r, i, 5), p->done);
    }
    if (s->has_repeatables)
        take_repeatables(s, rows[4]);
    if (with_fingerprint) {
        s->fingerprint_rows = rows[--nrows];
        rows[nrows] = NULL;
    }
    s->key_rows = rows[nrows - 2];
    s->head_rows = rows[nrows - 1];
    rows[nrows - 2] = rows[nrows - 1] = NULL;
    for (size_t i = 0; i < nrows; i++)
        db_rows_free(rows[i]);
    r = NULL;
    ret = 0;
cleanup:
    buf_release(&sql);
    return ret;
}

const struct progress_row *
history_progress(const struct db_state *s, const char *id, const char *direction)
{
    for (size_t i = 0; i < s->nprogress; i++)
        if (strcmp(s->progress[i].id, id) == 0 && strcmp(s->progress[i].direction, direction) == 0)
            return &s->progress[i];
    return NULL;
}

/* ---- writes ---- */

/* The columns of an applied row, in history_applied_fields' order. */
#define APPLIED_COLUMNS                                                                            \
    "project, ordinal, migration_id, name, up_source_sha256, down_source_sha256, up_sha256, "      \
    "chain, bundle_id, bundle_serial, signers, environment, how, applied_at, client_host, "        \
    "duration_ms"

void
history_sql_applied_head(const struct history_ctx *h, struct buf *out)
{
    buf_addf(out, "INSERT INTO %s.applied (" APPLIED_COLUMNS ") VALUES ", h->qschema);
}

void
history_applied_fields(const struct history_ctx *h, const struct history_source *src,
                       const struct manifest *m, size_t idx, const char *how,
                       const char *duration_ms, const char *at_utc, struct history_row *row)
{
    const struct manifest_migration *mig = &m->migrations[idx];
    const struct manifest_script *up = &mig->script[MANIFEST_UP];
    const struct manifest_script *down = &mig->script[MANIFEST_DOWN];

    snprintf(row->store[0], sizeof(row->store[0]), "%zu", idx + 1);
    snprintf(row->store[1], sizeof(row->store[1]), "%lld", src->serial);
    row->v[0] = h->project;
    row->v[1] = row->store[0];
    row->v[2] = mig->id;
    row->v[3] = mig->name;
    row->v[4] = hex_encode(row->store[2], up->source, HASH_SHA256_BYTES);
    row->v[5] = down->present ? hex_encode(row->store[3], down->source, HASH_SHA256_BYTES) : NULL;
    row->v[6] = hex_encode(row->store[4], m->members[up->member].sha256, HASH_SHA256_BYTES);
    row->v[7] = hex_encode(row->store[5], mig->chain, HASH_SHA256_BYTES);
    row->v[8] = src->bundle_id;
    row->v[9] = row->store[1];
    row->v[10] = src->signers;
    row->v[11] = src->environment;
    row->v[12] = how;
    row->v[13] = at_utc;
    row->v[14] = src->client_host;
    row->v[15] = duration_ms;
}

void
history_copy_applied_head(const struct history_ctx *h, struct buf *out)
{
    buf_addf(out, "COPY %s.applied (" APPLIED_COLUMNS ") FROM STDIN", h->qschema);
}

void
history_copy_applied_line(const struct history_ctx *h, const struct history_source *src,
                          const struct manifest *m, size_t idx, const char *how,
                          const char *duration_ms, const char *at_utc, struct buf *out)
{
    struct history_row row = {0};

    history_applied_fields(h, src, m, idx, how, duration_ms, at_utc, &row);
    for (int i = 0; i < HISTORY_APPLIED_FIELDS; i++) {
        if (i > 0)
            buf_addch(out, '\t');
        db_add_copy_field(out, row.v[i]);
    }
    buf_addch(out, '\n');
}

void
history_sql_applied(const struct history_ctx *h, const struct history_source *src,
                    const struct manifest *m, size_t idx, const char *how, const char *duration_ms,
                    struct buf *out)
{
    struct history_row row = {0};

    history_applied_fields(h, src, m, idx, how, duration_ms, NULL, &row);
    history_sql_applied_head(h, out);
    buf_addch(out, '(');
    for (int i = 0; i < HISTORY_APPLIED_FIELDS; i++) {
        if (i > 0)
            buf_addstr(out, ", ");
        if (i == 1 || i == 9 || i == 15) /* ordinal, serial, duration: numbers */
            buf_addstr(out, row.v[i] ? row.v[i] : "NULL");
        else if (i == 13) /* no time given: the server's clock */
            buf_addstr(out, "clock_timestamp()");
        else
            db_add_literal(out, row.v[i]);
    }
    buf_addstr(out, ");\n");
}

void
history_sql_unapplied(const struct history_ctx *h, const char *id, struct buf *out)
{
    buf_addf(out, "DELETE FROM %s.applied WHERE project = ", h->qschema);
    db_add_literal(out, h->project);
    buf_addstr(out, " AND migration_id = ");
    db_add_literal(out, id);
    buf_addstr(out, ";\n");
}

void
history_sql_repeatable_run(const struct history_ctx *h, const struct history_source *src,
                           const struct manifest *m, size_t rep, const char *how,
                           const char *duration_ms, const char *at_utc, struct buf *out)
{
    const struct manifest_migration *r = &m->repeatables[rep];
    char sum[HASH_SHA256_HEX];

    buf_addf(out,
             "INSERT INTO %s.repeatable_runs (project, name, run, checksum, bundle_id, "
             "bundle_serial, signers, environment, how, applied_at, client_host, duration_ms) "
             "SELECT ",
             h->qschema);
    db_add_literal(out, h->project);
    buf_addstr(out, ", ");
    db_add_literal(out, r->id);
    buf_addstr(out, ", coalesce(max(run), 0) + 1, ");
    db_add_literal(out, hex_encode(sum, r->chain, HASH_SHA256_BYTES));
    buf_addstr(out, ", ");
    db_add_literal(out, src->bundle_id);
    buf_addf(out, ", %lld, ", src->serial);
    db_add_literal(out, src->signers);
    buf_addstr(out, ", ");
    db_add_literal(out, src->environment);
    buf_addstr(out, ", ");
    db_add_literal(out, how);
    buf_addstr(out, ", ");
    if (at_utc) {
        db_add_literal(out, at_utc);
        buf_addstr(out, "::timestamptz");
    } else {
        buf_addstr(out, "clock_timestamp()");
    }
    buf_addstr(out, ", ");
    db_add_literal(out, src->client_host);
    buf_addf(out,
             ", %s FROM %s.repeatable_runs WHERE project = ", duration_ms ? duration_ms : "NULL",
             h->qschema);
    db_add_literal(out, h->project);
    buf_addstr(out, " AND name = ");
    db_add_literal(out, r->id);
}

void
history_sql_record_prepared(const struct history_ctx *h, struct buf *out)
{
    /*
     * The server's clock once (a CTE referenced twice is evaluated once): the applied row's
     * time and duration, the journal row's time, and the hash over its canonical text.
     */
    buf_addstr(out, "WITH sealift_t AS MATERIALIZED (SELECT clock_timestamp() AS at, "
                    "coalesce($15::timestamptz, now()) AS t0), sealift_a AS (");
    history_sql_applied_head(h, out);
    buf_truncate(out, out->len - strlen("VALUES "));
    buf_addstr(out, "SELECT $1, $2::integer, $3, $4, $5, $6, $7, $8, $9, $10::bigint, $11, $12, "
                    "$13, t.at, $14, round((extract(epoch FROM t.at - t.t0) * 1000)::numeric, 3) "
                    "FROM sealift_t t), sealift_j AS (");
    journal_sql_insert_head(h, out);
    buf_truncate(out, out->len - strlen("VALUES "));
    buf_addstr(out, "SELECT r.*, encode(sha256(convert_to(");
    journal_canonical_sql("r", out);
    buf_addstr(out, ", 'UTF8')), 'hex') FROM (SELECT ");
    journal_sql_param_fields("t.at", HISTORY_RECORD_JOURNAL_PARAM, out);
    buf_addf(out,
             " FROM sealift_t t) r RETURNING seq, hash), sealift_m AS (UPDATE %s.meta SET "
             "value = CASE key WHEN 'journal_head' THEN j.hash ELSE j.seq::text END FROM "
             "sealift_j j WHERE key IN ('journal_head', 'journal_rows'))\n"
             "SELECT (extract(epoch FROM t.at) * 1000000)::bigint, "
             "(extract(epoch FROM t.at - t.t0) * 1000000)::bigint, j.seq, j.hash "
             "FROM sealift_t t, sealift_j j",
             h->qschema);
}

void
history_sql_journal(const struct history_ctx *h, const struct history_source *src,
                    const char *event, const struct manifest *m, long idx, const char *detail,
                    struct buf *out)
{
    journal_sql_insert_computed(h, src, event, m, idx, detail, out);
    buf_addstr(out, ";\n");
}

void
history_sql_journal_head(const struct history_ctx *h, struct buf *out)
{
    journal_sql_recount(h, out);
}

void
history_sql_project(const struct history_ctx *h, const struct history_source *src, struct buf *out)
{
    buf_addf(out, "INSERT INTO %s.projects (project, environment, max_serial) VALUES (",
             h->qschema);
    db_add_literal(out, h->project);
    buf_addstr(out, ", ");
    db_add_literal(out, src->environment);
    buf_addf(out,
             ", %lld) ON CONFLICT (project) DO UPDATE SET "
             "environment = coalesce(%s.projects.environment, excluded.environment), "
             "max_serial = greatest(%s.projects.max_serial, excluded.max_serial), "
             "updated_at = clock_timestamp();\n",
             src->serial, h->qschema, h->qschema);
}

void
history_sql_progress(const struct history_ctx *h, const char *id, const char *direction,
                     const char *chain, size_t done, size_t total, const char *const *stmt_sha,
                     struct buf *out)
{
    buf_addf(out,
             "INSERT INTO %s.progress (project, migration_id, direction, chain, "
             "statements_done, statements_total, statement_sha256) VALUES (",
             h->qschema);
    db_add_literal(out, h->project);
    buf_addstr(out, ", ");
    db_add_literal(out, id);
    buf_addstr(out, ", ");
    db_add_literal(out, direction);
    buf_addstr(out, ", ");
    db_add_literal(out, chain);
    buf_addf(out, ", %zu, %zu, ARRAY[", done, total);
    for (size_t i = 0; i < done; i++) {
        if (i)
            buf_addstr(out, ", ");
        db_add_literal(out, stmt_sha[i]);
    }
    buf_addf(out,
             "]::text[]) ON CONFLICT (project, migration_id, direction) DO UPDATE SET "
             "chain = excluded.chain, statements_done = excluded.statements_done, "
             "statements_total = excluded.statements_total, "
             "statement_sha256 = excluded.statement_sha256, updated_at = clock_timestamp();\n");
}

void
history_sql_progress_clear(const struct history_ctx *h, const char *id, const char *direction,
                           struct buf *out)
{
    buf_addf(out, "DELETE FROM %s.progress WHERE project = ", h->qschema);
    db_add_literal(out, h->project);
    buf_addstr(out, " AND migration_id = ");
    db_add_literal(out, id);
    buf_addstr(out, " AND direction = ");
    db_add_literal(out, direction);
    buf_addstr(out, ";\n");
}
