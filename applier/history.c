/*
 * history.c: the history schema, its state, the SQL that writes it, and journal verification.
 * Layer: applier. Generates SQL text; db.c runs it.
 */
#include "history.h"
#include "sealift/hash.h"
#include "sealift/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HISTORY_VERSION 1
#define ZERO_HASH       "0000000000000000000000000000000000000000000000000000000000000000"
#define TS_FORMAT       "'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'"

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

/* Append s as a literal, or NULL. */
static void
lit(struct buf *out, const char *s)
{
    char *q;

    if (s == NULL) {
        buf_addstr(out, "NULL");
        return;
    }
    q = db_quote_literal(s);
    buf_addstr(out, q);
    free(q);
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
    lit(out, s);
    buf_addf(out, ") IS NULL THEN CREATE SCHEMA %s; END IF; END $sealift$;\n", s);
    buf_addf(out,
             "CREATE TABLE IF NOT EXISTS %s.meta (key text PRIMARY KEY, value text NOT NULL);\n"
             "INSERT INTO %s.meta (key, value) VALUES ('history_version', '%d'), "
             "('journal_head', '" ZERO_HASH "'), ('journal_rows', '0') "
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
    free(s->applied);
    free(s->progress);
    free(s->environment);
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

int
history_load(struct db *db, const struct history_ctx *h, struct db_state *s, struct db_error *e)
{
    struct buf sql = BUF_INIT;
    struct db_rows *r = NULL, *rows[4];
    int ret = -1;

    db_state_release(s);
    buf_addstr(&sql, "SELECT to_regclass(");
    {
        struct buf name = BUF_INIT;

        buf_addf(&name, "%s.applied", h->qschema);
        lit(&sql, name.data);
        buf_release(&name);
    }
    buf_addstr(&sql, ") IS NOT NULL");
    r = db_query(db, sql.data, e);
    if (r == NULL)
        goto cleanup;
    s->schema_exists = strcmp(db_value(r, 0, 0), "t") == 0;
    db_rows_free(r);
    r = NULL;
    if (!s->schema_exists) {
        ret = 0;
        goto cleanup;
    }

    /*
     * The rest in one round trip (and one snapshot): the history version, the applied rows
     * (only what comparing them with a bundle needs: "history" reads the journal), the
     * project's binding and serial, and the progress of no-transaction migrations.
     */
    buf_reset(&sql);
    buf_addf(&sql, "SELECT value FROM %s.meta WHERE key = 'history_version'; ", h->qschema);
    buf_addf(&sql,
             "SELECT ordinal, migration_id, name, up_source_sha256, chain FROM %s.applied "
             "WHERE project = ",
             h->qschema);
    lit(&sql, h->project);
    buf_addf(&sql,
             " ORDER BY ordinal; SELECT environment, max_serial FROM %s.projects WHERE project = ",
             h->qschema);
    lit(&sql, h->project);
    buf_addf(&sql,
             "; SELECT migration_id, direction, chain, statements_done, statements_total, "
             "statement_sha256 FROM %s.progress WHERE project = ",
             h->qschema);
    lit(&sql, h->project);
    if (db_query_batch(db, sql.data, rows, 4, e) != 0)
        goto cleanup;

    r = rows[0];
    s->history_version = db_nrows(r) ? atoi(db_value(r, 0, 0)) : 0;
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
    for (size_t i = 0; i < 4; i++)
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

void
history_sql_applied_head(const struct history_ctx *h, struct buf *out)
{
    buf_addf(out,
             "INSERT INTO %s.applied (project, ordinal, migration_id, name, up_source_sha256, "
             "down_source_sha256, up_sha256, chain, bundle_id, bundle_serial, signers, "
             "environment, how, applied_at, client_host, duration_ms) VALUES ",
             h->qschema);
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
history_sql_applied_values(const struct history_ctx *h, const struct history_source *src,
                           const struct manifest *m, size_t idx, const char *how,
                           const char *duration_ms, const char *at_utc, struct buf *out)
{
    struct history_row row = {0};

    history_applied_fields(h, src, m, idx, how, duration_ms, at_utc, &row);
    buf_addch(out, '(');
    for (int i = 0; i < HISTORY_APPLIED_FIELDS; i++) {
        if (i > 0)
            buf_addstr(out, ", ");
        if (i == 1 || i == 9 || i == 15) /* ordinal, serial, duration: numbers */
            buf_addstr(out, row.v[i] ? row.v[i] : "NULL");
        else if (i == 13 && row.v[i] == NULL)
            buf_addstr(out, "clock_timestamp()");
        else
            lit(out, row.v[i]);
        if (i == 13 && row.v[i])
            buf_addstr(out, "::timestamptz");
    }
    buf_addch(out, ')');
}

void
history_sql_applied(const struct history_ctx *h, const struct history_source *src,
                    const struct manifest *m, size_t idx, const char *how, const char *duration_ms,
                    struct buf *out)
{
    history_sql_applied_head(h, out);
    history_sql_applied_values(h, src, m, idx, how, duration_ms, NULL, out);
    buf_addstr(out, ";\n");
}

void
history_sql_unapplied(const struct history_ctx *h, const char *id, struct buf *out)
{
    buf_addf(out, "DELETE FROM %s.applied WHERE project = ", h->qschema);
    lit(out, h->project);
    buf_addstr(out, " AND migration_id = ");
    lit(out, id);
    buf_addstr(out, ";\n");
}

/*
 * The canonical text of a journal row, as an SQL expression over alias: every field as
 * LENGTH:VALUE; (or -; for NULL), so no two different rows share a text. Timestamps are
 * formatted explicitly in UTC so that session settings cannot change the text.
 */
static void
journal_canon(struct buf *out, const char *a)
{
    /* Each field is PRE alias POST. */
    static const struct {
        const char *pre;
        const char *post;
    } fields[] = {
        {"", ".seq::text"},
        {"", ".project"},
        {"to_char(", ".at AT TIME ZONE 'UTC', " TS_FORMAT ")"},
        {"", ".event"},
        {"", ".migration_id"},
        {"", ".ordinal::text"},
        {"", ".chain"},
        {"", ".bundle_id"},
        {"", ".bundle_serial::text"},
        {"", ".signers"},
        {"", ".environment"},
        {"", ".actor"},
        {"", ".client_host"},
        {"", ".detail"},
        {"", ".prev_hash"},
    };

    buf_addstr(out, "('sealift-journal-1;'");
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        struct buf f = BUF_INIT;

        buf_addstr(&f, fields[i].pre);
        buf_addstr(&f, a);
        buf_addstr(&f, fields[i].post);
        buf_addf(out,
                 " || CASE WHEN %s IS NULL THEN '-;' ELSE octet_length(%s)::text || ':' || %s "
                 "|| ';' END",
                 f.data, f.data, f.data);
        buf_release(&f);
    }
    buf_addch(out, ')');
}

void
history_sql_journal(const struct history_ctx *h, const struct history_source *src,
                    const char *event, const struct manifest *m, long idx, const char *detail,
                    struct buf *out)
{
    const struct manifest_migration *mig = (m && idx >= 0) ? &m->migrations[idx] : NULL;
    char chain[HASH_SHA256_HEX];

    buf_addf(out,
             "INSERT INTO %s.journal (seq, project, at, event, migration_id, ordinal, chain, "
             "bundle_id, bundle_serial, signers, environment, actor, client_host, detail, "
             "prev_hash, hash)\nSELECT r.*, encode(sha256(convert_to(",
             h->qschema);
    journal_canon(out, "r");
    buf_addstr(out, ", 'UTF8')), 'hex') FROM (SELECT n.seq, v.project, v.at, v.event, "
                    "v.migration_id, v.ordinal, v.chain, v.bundle_id, v.bundle_serial, "
                    "v.signers, v.environment, v.actor, v.client_host, v.detail, n.prev_hash "
                    "FROM (VALUES (");
    lit(out, h->project);
    buf_addstr(out, ", clock_timestamp(), ");
    lit(out, event);
    buf_addstr(out, ", ");
    lit(out, mig ? mig->id : NULL);
    if (mig)
        buf_addf(out, ", %ld, ", idx + 1);
    else
        buf_addstr(out, ", NULL::integer, ");
    lit(out, mig ? hex_encode(chain, mig->chain, HASH_SHA256_BYTES) : NULL);
    buf_addstr(out, ", ");
    lit(out, src ? src->bundle_id : NULL);
    if (src)
        buf_addf(out, ", %lld::bigint, ", src->serial);
    else
        buf_addstr(out, ", NULL::bigint, ");
    lit(out, src ? src->signers : NULL);
    buf_addstr(out, ", ");
    lit(out, src ? src->environment : NULL);
    buf_addstr(out, ", current_user::text, ");
    lit(out, src ? src->client_host : NULL);
    buf_addstr(out, ", ");
    lit(out, detail);
    buf_addf(out,
             ")) AS v(project, at, event, migration_id, ordinal, chain, bundle_id, "
             "bundle_serial, signers, environment, actor, client_host, detail), "
             "(SELECT coalesce(max(seq), 0) + 1 AS seq, coalesce((SELECT hash FROM %s.journal "
             "ORDER BY seq DESC LIMIT 1), '" ZERO_HASH "') AS prev_hash FROM %s.journal) AS n) "
             "AS r;\n",
             h->qschema, h->qschema);
}

/* One field of the canonical text, as journal_canon() writes it in SQL: LENGTH:VALUE; or -; */
static void
canon_field(struct buf *out, const char *v)
{
    if (v == NULL)
        buf_addstr(out, "-;");
    else
        buf_addf(out, "%zu:%s;", strlen(v), v);
}

int
history_journal_pos(struct db *db, const struct history_ctx *h, struct journal_pos *pos,
                    struct db_error *e)
{
    char *sql = xasprintf("SELECT seq, hash FROM %s.journal ORDER BY seq DESC LIMIT 1", h->qschema);
    struct db_rows *r = db_query(db, sql, e);

    free(sql);
    if (r == NULL)
        return -1;
    pos->seq = db_nrows(r) ? atoll(db_value(r, 0, 0)) : 0;
    snprintf(pos->hash, sizeof(pos->hash), "%s", db_nrows(r) ? db_value(r, 0, 1) : ZERO_HASH);
    db_rows_free(r);
    return 0;
}

void
history_sql_journal_head_insert(const struct history_ctx *h, struct buf *out)
{
    buf_addf(out,
             "INSERT INTO %s.journal (seq, project, at, event, migration_id, ordinal, chain, "
             "bundle_id, bundle_serial, signers, environment, actor, client_host, detail, "
             "prev_hash, hash) VALUES ",
             h->qschema);
}

void
history_sql_journal_row(const struct history_ctx *h, const struct history_source *src,
                        const char *event, const struct manifest *m, long idx, const char *detail,
                        const char *actor, const char *at_utc, struct journal_pos *pos,
                        struct buf *out)
{
    history_sql_journal_head_insert(h, out);
    history_sql_journal_values(src, event, m, idx, detail, actor, at_utc, h->project, pos, out);
}

void
history_journal_fields(const struct history_source *src, const char *event,
                       const struct manifest *m, long idx, const char *detail, const char *actor,
                       const char *at_utc, const char *project, struct journal_pos *pos,
                       struct history_row *row)
{
    const struct manifest_migration *mig = (m && idx >= 0) ? &m->migrations[idx] : NULL;
    struct buf canon = BUF_INIT;
    unsigned char digest[HASH_SHA256_BYTES];

    snprintf(row->store[0], sizeof(row->store[0]), "%lld", pos->seq + 1);
    snprintf(row->store[1], sizeof(row->store[1]), "%ld", idx + 1);
    snprintf(row->store[2], sizeof(row->store[2]), "%lld", src ? src->serial : 0);
    if (mig)
        hex_encode(row->store[3], mig->chain, HASH_SHA256_BYTES);
    snprintf(row->store[4], sizeof(row->store[4]), "%s", pos->hash);
    /* The fields in journal_canon()'s order; keep the two in step. */
    row->v[0] = row->store[0];
    row->v[1] = project;
    row->v[2] = at_utc;
    row->v[3] = event;
    row->v[4] = mig ? mig->id : NULL;
    row->v[5] = mig ? row->store[1] : NULL;
    row->v[6] = mig ? row->store[3] : NULL;
    row->v[7] = src ? src->bundle_id : NULL;
    row->v[8] = src ? row->store[2] : NULL;
    row->v[9] = src ? src->signers : NULL;
    row->v[10] = src ? src->environment : NULL;
    row->v[11] = actor;
    row->v[12] = src ? src->client_host : NULL;
    row->v[13] = detail;
    row->v[14] = row->store[4];
    buf_addstr(&canon, "sealift-journal-1;");
    for (int i = 0; i < 15; i++)
        canon_field(&canon, row->v[i]);
    hash_sha256(canon.data, canon.len, digest);
    row->v[15] = hex_encode(row->store[5], digest, HASH_SHA256_BYTES);
    buf_release(&canon);
    pos->seq++;
    memcpy(pos->hash, row->v[15], sizeof(pos->hash));
}

void
history_sql_journal_values(const struct history_source *src, const char *event,
                           const struct manifest *m, long idx, const char *detail,
                           const char *actor, const char *at_utc, const char *project,
                           struct journal_pos *pos, struct buf *out)
{
    struct history_row row = {0};

    history_journal_fields(src, event, m, idx, detail, actor, at_utc, project, pos, &row);
    buf_addf(out, "(%s", row.v[0]);
    for (int i = 1; i < HISTORY_JOURNAL_FIELDS; i++) {
        buf_addstr(out, ", ");
        lit(out, row.v[i]);
        if (i == 2)
            buf_addstr(out, "::timestamptz");
        else if (i == 5)
            buf_addstr(out, "::integer");
        else if (i == 8)
            buf_addstr(out, "::bigint");
    }
    buf_addch(out, ')');
}

void
history_sql_record_prepared(const struct history_ctx *h, struct buf *out)
{
    buf_addstr(out, "WITH sealift_a AS (");
    history_sql_applied_head(h, out);
    buf_addstr(out, "($1, $2::integer, $3, $4, $5, $6, $7, $8, $9, $10::bigint, $11, $12, $13, "
                    "$14::timestamptz, $15, $16::numeric)), sealift_j AS (");
    history_sql_journal_head_insert(h, out);
    buf_addstr(out, "($17::bigint, $18, $19::timestamptz, $20, $21, $22::integer, $23, $24, "
                    "$25::bigint, $26, $27, $28, $29, $30, $31, $32))\n");
    buf_addf(out,
             "UPDATE %s.meta SET value = CASE key WHEN 'journal_head' THEN $33::text ELSE "
             "$34::text END WHERE key IN ('journal_head', 'journal_rows')",
             h->qschema);
}

void
history_sql_journal_pos(const struct history_ctx *h, const struct journal_pos *pos, struct buf *out)
{
    /* The journal's rows are numbered 1..seq, so the count is the last seq. */
    buf_addf(out,
             "UPDATE %s.meta SET value = CASE key WHEN 'journal_head' THEN '%s' ELSE '%lld' END "
             "WHERE key IN ('journal_head', 'journal_rows')",
             h->qschema, pos->hash, pos->seq);
}

void
history_sql_journal_head(const struct history_ctx *h, struct buf *out)
{
    buf_addf(out,
             "UPDATE %s.meta SET value = coalesce((SELECT hash FROM %s.journal ORDER BY seq "
             "DESC LIMIT 1), '" ZERO_HASH "') WHERE key = 'journal_head';\n"
             "UPDATE %s.meta SET value = (SELECT count(*) FROM %s.journal)::text "
             "WHERE key = 'journal_rows';\n",
             h->qschema, h->qschema, h->qschema, h->qschema);
}

void
history_sql_project(const struct history_ctx *h, const struct history_source *src, struct buf *out)
{
    buf_addf(out, "INSERT INTO %s.projects (project, environment, max_serial) VALUES (",
             h->qschema);
    lit(out, h->project);
    buf_addstr(out, ", ");
    lit(out, src->environment);
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
    lit(out, h->project);
    buf_addstr(out, ", ");
    lit(out, id);
    buf_addstr(out, ", ");
    lit(out, direction);
    buf_addstr(out, ", ");
    lit(out, chain);
    buf_addf(out, ", %zu, %zu, ARRAY[", done, total);
    for (size_t i = 0; i < done; i++) {
        if (i)
            buf_addstr(out, ", ");
        lit(out, stmt_sha[i]);
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
    lit(out, h->project);
    buf_addstr(out, " AND migration_id = ");
    lit(out, id);
    buf_addstr(out, " AND direction = ");
    lit(out, direction);
    buf_addstr(out, ";\n");
}

/* ---- verification ---- */

/* Which migrations the journal's events leave applied, per project (replayed in order). */
struct replay_entry {
    char *key; /* "project\nmigration_id" */
    char *chain;
};

struct replay {
    struct replay_entry *v;
    size_t n;
    size_t cap;
};

static long
replay_find(const struct replay *r, const char *key)
{
    for (size_t i = 0; i < r->n; i++)
        if (strcmp(r->v[i].key, key) == 0)
            return (long)i;
    return -1;
}

static void
replay_event(struct replay *r, const char *project, const char *event, const char *id,
             const char *chain)
{
    char *key;
    long at;

    if (id == NULL)
        return;
    key = xasprintf("%s\n%s", project, id);
    at = replay_find(r, key);
    if (strcmp(event, "apply") == 0 || strcmp(event, "stamp") == 0 || strcmp(event, "adopt") == 0) {
        if (at < 0) {
            r->v = xgrow(r->v, &r->cap, r->n + 1, sizeof(*r->v));
            r->v[r->n].key = key;
            r->v[r->n].chain = xstrdup(chain ? chain : "");
            r->n++;
            return;
        }
        free(r->v[at].chain);
        r->v[at].chain = xstrdup(chain ? chain : "");
    } else if (strcmp(event, "rollback") == 0 && at >= 0) {
        free(r->v[at].key);
        free(r->v[at].chain);
        r->v[at] = r->v[r->n - 1];
        r->n--;
    }
    free(key);
}

static void
replay_release(struct replay *r)
{
    for (size_t i = 0; i < r->n; i++) {
        free(r->v[i].key);
        free(r->v[i].chain);
    }
    free(r->v);
}

int
history_verify(struct db *db, const struct history_ctx *h, struct buf *out, struct db_error *e)
{
    struct buf sql = BUF_INIT;
    struct db_rows *r = NULL, *meta = NULL, *applied = NULL;
    struct replay rep = {NULL, 0, 0};
    char prev[HASH_SHA256_HEX] = ZERO_HASH;
    size_t n;
    int ret = -1;

    buf_addstr(&sql, "SELECT seq, prev_hash, hash, ");
    journal_canon(&sql, "j");
    buf_addf(&sql, ", project, event, migration_id, chain FROM %s.journal j ORDER BY seq",
             h->qschema);
    r = db_query(db, sql.data, e);
    if (r == NULL)
        goto cleanup;
    n = db_nrows(r);
    for (size_t i = 0; i < n; i++) {
        const char *seq = db_value(r, i, 0);
        const char *canon = db_value(r, i, 3);
        unsigned char digest[HASH_SHA256_BYTES];
        char hex[HASH_SHA256_HEX];

        if (atoll(seq) != (long long)i + 1) {
            buf_addf(out,
                     "journal row %zu is missing (the next row is %s): rows were deleted "
                     "or renumbered",
                     i + 1, seq);
            ret = 1;
            goto cleanup;
        }
        hash_sha256(canon, strlen(canon), digest);
        hex_encode(hex, digest, HASH_SHA256_BYTES);
        if (strcmp(hex, db_value(r, i, 2)) != 0) {
            buf_addf(out,
                     "journal row %s (%s %s) was edited: its hash does not match its "
                     "contents",
                     seq, db_value(r, i, 5), db_value(r, i, 6) ? db_value(r, i, 6) : "");
            ret = 1;
            goto cleanup;
        }
        if (strcmp(prev, db_value(r, i, 1)) != 0) {
            buf_addf(out,
                     "journal row %s (%s %s) does not follow row %zu: rows were reordered, "
                     "deleted or inserted",
                     seq, db_value(r, i, 5), db_value(r, i, 6) ? db_value(r, i, 6) : "", i);
            ret = 1;
            goto cleanup;
        }
        memcpy(prev, hex, sizeof(prev));
        replay_event(&rep, db_value(r, i, 4), db_value(r, i, 5), db_value(r, i, 6),
                     db_value(r, i, 7));
    }

    /* The tail: meta remembers the head hash and the row count. */
    buf_reset(&sql);
    buf_addf(&sql,
             "SELECT (SELECT value FROM %s.meta WHERE key = 'journal_head'), "
             "(SELECT value FROM %s.meta WHERE key = 'journal_rows')",
             h->qschema, h->qschema);
    meta = db_query(db, sql.data, e);
    if (meta == NULL)
        goto cleanup;
    if (db_value(meta, 0, 0) == NULL || strcmp(db_value(meta, 0, 0), prev) != 0 ||
        db_value(meta, 0, 1) == NULL || atoll(db_value(meta, 0, 1)) != (long long)n) {
        buf_addf(out,
                 "the journal's last rows were removed or added outside sealift: it has "
                 "%zu rows ending in %.16s..., but %s.meta records %s rows ending in "
                 "%.16s...",
                 n, prev, h->schema, db_value(meta, 0, 1) ? db_value(meta, 0, 1) : "?",
                 db_value(meta, 0, 0) ? db_value(meta, 0, 0) : "?");
        ret = 1;
        goto cleanup;
    }

    /* Every applied row must be what the journal's events leave applied, and vice versa. */
    buf_reset(&sql);
    buf_addf(&sql, "SELECT project, migration_id, chain FROM %s.applied ORDER BY project, ordinal",
             h->qschema);
    applied = db_query(db, sql.data, e);
    if (applied == NULL)
        goto cleanup;
    for (size_t i = 0; i < db_nrows(applied); i++) {
        char *key = xasprintf("%s\n%s", db_value(applied, i, 0), db_value(applied, i, 1));
        long at = replay_find(&rep, key);

        free(key);
        if (at < 0 || strcmp(rep.v[at].chain, db_value(applied, i, 2)) != 0) {
            buf_addf(out,
                     "applied migration %s (project %s) is not backed by the journal: the "
                     "applied table was edited",
                     db_value(applied, i, 1), db_value(applied, i, 0));
            ret = 1;
            goto cleanup;
        }
    }
    if (db_nrows(applied) != rep.n) {
        buf_addf(out,
                 "the journal records %zu applied migrations but the applied table has "
                 "%zu: rows were deleted from it",
                 rep.n, db_nrows(applied));
        ret = 1;
        goto cleanup;
    }
    buf_addf(out, "journal intact: %zu rows, head %s", n, prev);
    ret = 0;
cleanup:
    replay_release(&rep);
    db_rows_free(r);
    db_rows_free(meta);
    db_rows_free(applied);
    buf_release(&sql);
    return ret;
}
