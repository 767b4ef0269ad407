/*
 * journal.c: the journal's one table of fields, the canonical text in C and in SQL from it,
 * the SQL that writes rows, and the check of the chain (history --verify).
 * Layer: applier. Generates SQL text; db.c runs it.
 */
#include "journal.h"
#include "sealift/hash.h"
#include "sealift/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum journal_field {
    J_SEQ,
    J_PROJECT,
    J_AT,
    J_EVENT,
    J_MIGRATION,
    J_ORDINAL,
    J_CHAIN,
    J_BUNDLE,
    J_SERIAL,
    J_SIGNERS,
    J_ENVIRONMENT,
    J_ACTOR,
    J_HOST,
    J_DETAIL,
    J_PREV,
    J_HASH
};

/*
 * THE definition of a journal row: its columns in table order, and their SQL types. The type
 * decides how SQL turns a value into its canonical text (numbers with ::text, timestamps with
 * to_char in UTC, text as it is) and how a value is written as a literal. The hash covers the
 * first JOURNAL_CANON_FIELDS.
 */
static const struct {
    const char *column;
    const char *type;
} fields[JOURNAL_FIELDS] = {
    [J_SEQ] = {"seq", "bigint"},
    [J_PROJECT] = {"project", "text"},
    [J_AT] = {"at", "timestamptz"},
    [J_EVENT] = {"event", "text"},
    [J_MIGRATION] = {"migration_id", "text"},
    [J_ORDINAL] = {"ordinal", "integer"},
    [J_CHAIN] = {"chain", "text"},
    [J_BUNDLE] = {"bundle_id", "text"},
    [J_SERIAL] = {"bundle_serial", "bigint"},
    [J_SIGNERS] = {"signers", "text"},
    [J_ENVIRONMENT] = {"environment", "text"},
    [J_ACTOR] = {"actor", "text"},
    [J_HOST] = {"client_host", "text"},
    [J_DETAIL] = {"detail", "text"},
    [J_PREV] = {"prev_hash", "text"},
    [J_HASH] = {"hash", "text"},
};

const char *
journal_column(size_t i)
{
    return i < JOURNAL_FIELDS ? fields[i].column : NULL;
}

void
journal_sql_columns(struct buf *out)
{
    for (size_t i = 0; i < JOURNAL_FIELDS; i++)
        buf_addf(out, "%s%s", i ? ", " : "", fields[i].column);
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
journal_canonical(const struct journal_row *row, struct buf *out)
{
    buf_addstr(out, JOURNAL_CANON_PREFIX);
    for (size_t i = 0; i < JOURNAL_CANON_FIELDS; i++) {
        if (row->v[i] == NULL)
            buf_addstr(out, "-;");
        else
            buf_addf(out, "%zu:%s;", strlen(row->v[i]), row->v[i]);
    }
}

/* Field i of alias as canonical text, in SQL. */
static void
field_text_sql(const char *alias, size_t i, struct buf *out)
{
    if (strcmp(fields[i].type, "timestamptz") == 0)
        buf_addf(out, "to_char(%s.%s AT TIME ZONE 'UTC', " JOURNAL_TS_FORMAT ")", alias,
                 fields[i].column);
    else if (strcmp(fields[i].type, "text") == 0)
        buf_addf(out, "%s.%s", alias, fields[i].column);
    else
        buf_addf(out, "%s.%s::text", alias, fields[i].column);
}

void
journal_canonical_sql(const char *alias, struct buf *out)
{
    buf_addstr(out, "('" JOURNAL_CANON_PREFIX "'");
    for (size_t i = 0; i < JOURNAL_CANON_FIELDS; i++) {
        struct buf f = BUF_INIT;

        field_text_sql(alias, i, &f);
        buf_addf(out,
                 " || CASE WHEN %s IS NULL THEN '-;' ELSE octet_length(%s)::text || ':' || %s "
                 "|| ';' END",
                 f.data, f.data, f.data);
        buf_release(&f);
    }
    buf_addch(out, ')');
}

/* The fields every row has, but seq, prev_hash and hash. */
static void
fill_fields(struct journal_row *row, const struct history_source *src, const char *event,
            const struct manifest *m, long idx, const char *detail, const char *actor,
            const char *at_utc, const char *project)
{
    const struct manifest_migration *mig = (m && idx >= 0) ? &m->migrations[idx] : NULL;

    memset(row, 0, sizeof(*row));
    row->v[J_PROJECT] = project;
    row->v[J_AT] = at_utc;
    row->v[J_EVENT] = event;
    if (mig) {
        snprintf(row->store[1], sizeof(row->store[1]), "%ld", idx + 1);
        row->v[J_MIGRATION] = mig->id;
        row->v[J_ORDINAL] = row->store[1];
        row->v[J_CHAIN] = hex_encode(row->store[3], mig->chain, HASH_SHA256_BYTES);
    }
    if (src) {
        snprintf(row->store[2], sizeof(row->store[2]), "%lld", src->serial);
        row->v[J_BUNDLE] = src->bundle_id;
        row->v[J_SERIAL] = row->store[2];
        row->v[J_SIGNERS] = src->signers;
        row->v[J_ENVIRONMENT] = src->environment;
        row->v[J_HOST] = src->client_host;
    }
    row->v[J_ACTOR] = actor;
    row->v[J_DETAIL] = detail;
}

void
journal_row_fill(struct journal_row *row, const struct history_source *src, const char *event,
                 const struct manifest *m, long idx, const char *detail, const char *actor,
                 const char *at_utc, const char *project, struct journal_pos *pos)
{
    struct buf canon = BUF_INIT;
    unsigned char digest[HASH_SHA256_BYTES];

    fill_fields(row, src, event, m, idx, detail, actor, at_utc, project);
    snprintf(row->store[0], sizeof(row->store[0]), "%lld", pos->seq + 1);
    snprintf(row->store[4], sizeof(row->store[4]), "%s", pos->hash);
    row->v[J_SEQ] = row->store[0];
    row->v[J_PREV] = row->store[4];
    journal_canonical(row, &canon);
    hash_sha256(canon.data, canon.len, digest);
    buf_release(&canon);
    pos->seq++;
    hex_encode(pos->hash, digest, HASH_SHA256_BYTES);
    row->v[J_HASH] = pos->hash;
}

/* Field i's value as an SQL literal of its column's type. */
static void
field_literal(size_t i, const char *v, struct buf *out)
{
    lit(out, v);
    if (strcmp(fields[i].type, "text") != 0)
        buf_addf(out, "::%s", fields[i].type);
}

void
journal_sql_values(const struct journal_row *row, struct buf *out)
{
    buf_addch(out, '(');
    for (size_t i = 0; i < JOURNAL_FIELDS; i++) {
        if (i)
            buf_addstr(out, ", ");
        field_literal(i, row->v[i], out);
    }
    buf_addch(out, ')');
}

void
journal_sql_insert_head(const struct history_ctx *h, struct buf *out)
{
    buf_addf(out, "INSERT INTO %s.journal (", h->qschema);
    journal_sql_columns(out);
    buf_addstr(out, ") VALUES ");
}

void
journal_sql_insert_computed(const struct history_ctx *h, const struct history_source *src,
                            const char *event, const struct manifest *m, long idx,
                            const char *detail, struct buf *out)
{
    struct journal_row row;
    struct buf names = BUF_INIT;

    fill_fields(&row, src, event, m, idx, detail, NULL, NULL, h->project);
    buf_addf(out, "INSERT INTO %s.journal (", h->qschema);
    journal_sql_columns(out);
    buf_addstr(out, ")\nSELECT r.*, encode(sha256(convert_to(");
    journal_canonical_sql("r", out);
    buf_addstr(out, ", 'UTF8')), 'hex') FROM (SELECT ");
    /* seq and prev_hash from the journal's end (n), every other field from the values (v). */
    for (size_t i = 0; i < JOURNAL_CANON_FIELDS; i++) {
        int from_end = i == J_SEQ || i == J_PREV;

        buf_addf(out, "%s%s.%s", i ? ", " : "", from_end ? "n" : "v", fields[i].column);
    }
    buf_addstr(out, " FROM (VALUES (");
    for (size_t i = 0; i < JOURNAL_CANON_FIELDS; i++) {
        if (i == J_SEQ || i == J_PREV)
            continue;
        buf_addstr(out, names.len ? ", " : "");
        buf_addf(&names, "%s%s", names.len ? ", " : "", fields[i].column);
        if (i == J_AT)
            buf_addstr(out, "clock_timestamp()");
        else if (i == J_ACTOR)
            buf_addstr(out, "current_user::text");
        else
            field_literal(i, row.v[i], out);
    }
    buf_addf(out,
             ")) AS v(%s), (SELECT coalesce(max(seq), 0) + 1 AS seq, coalesce((SELECT hash FROM "
             "%s.journal ORDER BY seq DESC LIMIT 1), '" JOURNAL_ZERO_HASH "') AS prev_hash "
             "FROM %s.journal) AS n) AS r",
             names.data, h->qschema, h->qschema);
    buf_release(&names);
}

int
journal_sql_param_fields(const char *at_expr, int first, struct buf *out)
{
    for (size_t i = 0; i < JOURNAL_CANON_FIELDS; i++) {
        if (i)
            buf_addstr(out, ", ");
        if (i == J_AT)
            buf_addf(out, "%s AS %s", at_expr, fields[i].column);
        else
            buf_addf(out, "$%d::%s AS %s", first++, fields[i].type, fields[i].column);
    }
    return first;
}

int
journal_param_values(const struct journal_row *row, const char **out)
{
    int n = 0;

    for (size_t i = 0; i < JOURNAL_CANON_FIELDS; i++)
        if (i != J_AT)
            out[n++] = row->v[i];
    return n;
}

void
journal_sql_set_pos(const struct history_ctx *h, const struct journal_pos *pos, struct buf *out)
{
    /* The journal's rows are numbered 1..seq, so the count is the last seq. */
    buf_addf(out,
             "UPDATE %s.meta SET value = CASE key WHEN 'journal_head' THEN '%s' ELSE '%lld' END "
             "WHERE key IN ('journal_head', 'journal_rows')",
             h->qschema, pos->hash, pos->seq);
}

void
journal_sql_recount(const struct history_ctx *h, struct buf *out)
{
    buf_addf(out,
             "UPDATE %s.meta SET value = coalesce((SELECT hash FROM %s.journal ORDER BY seq "
             "DESC LIMIT 1), '" JOURNAL_ZERO_HASH "') WHERE key = 'journal_head';\n"
             "UPDATE %s.meta SET value = (SELECT count(*) FROM %s.journal)::text "
             "WHERE key = 'journal_rows';\n",
             h->qschema, h->qschema, h->qschema, h->qschema);
}

void
journal_ts_text(long long epoch_us, char out[JOURNAL_TS_SIZE])
{
    time_t secs = (time_t)(epoch_us / 1000000);
    struct tm tm;
    char date[32];

    gmtime_r(&secs, &tm);
    strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, JOURNAL_TS_SIZE, "%.19s.%06dZ", date, (int)(epoch_us % 1000000));
}

int
journal_read_pos(struct db *db, const struct history_ctx *h, struct journal_pos *pos,
                 struct db_error *e)
{
    char *sql = xasprintf("SELECT seq, hash FROM %s.journal ORDER BY seq DESC LIMIT 1", h->qschema);
    struct db_rows *r = db_query(db, sql, e);

    free(sql);
    if (r == NULL)
        return -1;
    pos->seq = db_nrows(r) ? atoll(db_value(r, 0, 0)) : 0;
    snprintf(pos->hash, sizeof(pos->hash), "%s",
             db_nrows(r) ? db_value(r, 0, 1) : JOURNAL_ZERO_HASH);
    db_rows_free(r);
    return 0;
}

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
journal_verify(struct db *db, const struct history_ctx *h, struct buf *out, struct db_error *e)
{
    struct buf sql = BUF_INIT;
    struct db_rows *r = NULL, *meta = NULL, *applied = NULL;
    struct replay rep = {NULL, 0, 0};
    char prev[HASH_SHA256_HEX] = JOURNAL_ZERO_HASH;
    size_t n;
    int ret = -1;

    buf_addstr(&sql, "SELECT seq, prev_hash, hash, ");
    journal_canonical_sql("j", &sql);
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
