/*
 * journal.c: the journal's one table of fields, the canonical text in C and in SQL from it,
 * the SQL that writes rows, and the check of the chain (history --verify).
 * Layer: applier. Generates SQL text; db.c runs it.
 */
#include "journal.h"
#include "walk.h"
#include "sealift/hash.h"
#include "sealift/xalloc.h"

#include <stdarg.h>
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
    J_CHECKSUMS,
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
    int optional; /* added later: left out of the canonical text when NULL (old rows) */
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
    [J_CHECKSUMS] = {"checksums", "text", 1},
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

void
journal_canonical(const struct journal_row *row, struct buf *out)
{
    buf_addstr(out, JOURNAL_CANON_PREFIX);
    for (size_t i = 0; i < JOURNAL_CANON_FIELDS; i++) {
        if (row->v[i] == NULL && fields[i].optional)
            continue;
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
    /* A column added later is read through to_jsonb: NULL, not an error, on an older table. */
    if (fields[i].optional)
        buf_addf(out, "(to_jsonb(%s)->>'%s')", alias, fields[i].column);
    else if (strcmp(fields[i].type, "timestamptz") == 0)
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
                 " || CASE WHEN %s IS NULL THEN '%s' ELSE octet_length(%s)::text || ':' || %s "
                 "|| ';' END",
                 f.data, fields[i].optional ? "" : "-;", f.data, f.data);
        buf_release(&f);
    }
    buf_addch(out, ')');
}

char *
journal_checksums_text(const struct manifest *m, size_t idx, char out[JOURNAL_CHECKSUMS_SIZE])
{
    const struct manifest_script *up = &m->migrations[idx].script[MANIFEST_UP];
    const struct manifest_script *down = &m->migrations[idx].script[MANIFEST_DOWN];
    char a[HASH_SHA256_HEX], b[HASH_SHA256_HEX], c[HASH_SHA256_HEX];

    /* Fixed lengths: 3 digests and their names fit JOURNAL_CHECKSUMS_SIZE (241 bytes). */
    snprintf(out, JOURNAL_CHECKSUMS_SIZE, "up_source_sha256=%s down_source_sha256=%s up_sha256=%s",
             hex_encode(a, up->source, HASH_SHA256_BYTES),
             down->present ? hex_encode(b, down->source, HASH_SHA256_BYTES) : "-",
             hex_encode(c, m->members[up->member].sha256, HASH_SHA256_BYTES));
    return out;
}

/* The fields every row has, but seq, prev_hash and hash. */
static void
fill_fields(struct journal_row *row, const struct history_source *src, const char *event,
            const struct manifest *m, long idx, const char *detail, const char *actor,
            const char *at_utc, const char *project)
{
    /* A step of a walk (walk.h): a migration of the chain, or a repeatable. */
    int known = m && idx >= 0 && (size_t)idx < m->nmigrations + m->nrepeatables;
    const struct manifest_migration *mig = known ? walk_migration(m, (size_t)idx) : NULL;
    int rep = known && walk_is_repeatable(m, (size_t)idx);

    memset(row, 0, sizeof(*row));
    row->v[J_PROJECT] = project;
    row->v[J_AT] = at_utc;
    row->v[J_EVENT] = event;
    if (mig) {
        snprintf(row->store[1], sizeof(row->store[1]), "%ld", idx + 1);
        row->v[J_MIGRATION] = mig->id;
        /* A repeatable has no place in the chain; its chain field is its checksum. */
        row->v[J_ORDINAL] = rep ? NULL : row->store[1];
        row->v[J_CHAIN] = hex_encode(row->store[3], mig->chain, HASH_SHA256_BYTES);
        if (!rep && mig->script[MANIFEST_UP].present &&
            (strcmp(event, "apply") == 0 || strcmp(event, "stamp") == 0 ||
             strcmp(event, "adopt") == 0))
            row->v[J_CHECKSUMS] = journal_checksums_text(m, (size_t)idx, row->checksums);
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
    db_add_literal(out, v);
    if (strcmp(fields[i].type, "text") != 0)
        buf_addf(out, "::%s", fields[i].type);
}

void
journal_copy_line(const struct journal_row *row, struct buf *out)
{
    for (size_t i = 0; i < JOURNAL_FIELDS; i++) {
        if (i)
            buf_addch(out, '\t');
        db_add_copy_field(out, row->v[i]);
    }
    buf_addch(out, '\n');
}

void
journal_sql_insert_head(const struct history_ctx *h, struct buf *out)
{
    buf_addf(out, "INSERT INTO %s.journal (", h->qschema);
    journal_sql_columns(out);
    buf_addstr(out, ") VALUES ");
}

void
journal_copy_head(const struct history_ctx *h, struct buf *out)
{
    buf_addf(out, "COPY %s.journal (", h->qschema);
    journal_sql_columns(out);
    buf_addstr(out, ") FROM STDIN");
}

/*
 * The INSERT of the next journal row whose time, actor, place in the chain and hash the server
 * computes; every other field is row's value (a literal) or, when its bit is in params, a
 * parameter $1, $2, ... in column order (journal_sql_prepare_computed).
 */
static void
insert_computed(const struct history_ctx *h, const struct journal_row *row, unsigned params,
                struct buf *out)
{
    struct buf names = BUF_INIT;
    int param = 1;

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
        else if (params & (1u << i))
            buf_addf(out, "$%d::%s", param++, fields[i].type);
        else
            field_literal(i, row->v[i], out);
    }
    buf_addf(out,
             ")) AS v(%s), (SELECT coalesce(max(seq), 0) + 1 AS seq, coalesce((SELECT hash FROM "
             "%s.journal ORDER BY seq DESC LIMIT 1), '" JOURNAL_ZERO_HASH "') AS prev_hash "
             "FROM %s.journal) AS n) AS r",
             names.data, h->qschema, h->qschema);
    buf_release(&names);
}

/* The fields that differ from one migration's row to the next, in a prepared statement. */
#define PER_MIGRATION                                                                              \
    ((1u << J_EVENT) | (1u << J_MIGRATION) | (1u << J_ORDINAL) | (1u << J_CHAIN) |                 \
     (1u << J_CHECKSUMS))

void
journal_sql_insert_computed(const struct history_ctx *h, const struct history_source *src,
                            const char *event, const struct manifest *m, long idx,
                            const char *detail, struct buf *out)
{
    struct journal_row row;

    fill_fields(&row, src, event, m, idx, detail, NULL, NULL, h->project);
    insert_computed(h, &row, 0, out);
}

void
journal_sql_prepare_computed(const struct history_ctx *h, const char *name,
                             const struct history_source *src, const char *detail, struct buf *out)
{
    struct journal_row row;

    fill_fields(&row, src, "", NULL, -1, detail, NULL, NULL, h->project);
    buf_addf(out, "PREPARE %s(", name);
    for (size_t i = 0, n = 0; i < JOURNAL_CANON_FIELDS; i++)
        if (PER_MIGRATION & (1u << i))
            buf_addf(out, "%s%s", n++ ? ", " : "", fields[i].type);
    buf_addstr(out, ") AS\n");
    insert_computed(h, &row, PER_MIGRATION, out);
    buf_addstr(out, ";\n");
}

void
journal_sql_execute_computed(const char *name, const char *event, const struct manifest *m,
                             long idx, struct buf *out)
{
    struct journal_row row;

    fill_fields(&row, NULL, event, m, idx, NULL, NULL, NULL, NULL);
    buf_addf(out, "EXECUTE %s(", name);
    for (size_t i = 0, n = 0; i < JOURNAL_CANON_FIELDS; i++)
        if (PER_MIGRATION & (1u << i)) {
            buf_addstr(out, n++ ? ", " : "");
            db_add_literal(out, row.v[i]);
        }
    buf_addstr(out, ");\n");
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

void
journal_sql_pos(const struct history_ctx *h, struct buf *out)
{
    buf_addf(out, "SELECT seq, hash FROM %s.journal ORDER BY seq DESC LIMIT 1", h->qschema);
}

void
journal_pos_of(const struct db_rows *r, struct journal_pos *pos)
{
    pos->seq = db_nrows(r) ? atoll(db_value(r, 0, 0)) : 0;
    snprintf(pos->hash, sizeof(pos->hash), "%s",
             db_nrows(r) ? db_value(r, 0, 1) : JOURNAL_ZERO_HASH);
}

int
journal_read_pos(struct db *db, const struct history_ctx *h, struct journal_pos *pos,
                 struct db_error *e)
{
    struct buf sql = BUF_INIT;
    struct db_rows *r;

    journal_sql_pos(h, &sql);
    r = db_query(db, sql.data, e);
    buf_release(&sql);
    if (r == NULL)
        return -1;
    journal_pos_of(r, pos);
    db_rows_free(r);
    return 0;
}

void
journal_sql_key_statements(const struct history_ctx *h, struct buf *out)
{
    buf_addf(out,
             "SELECT seq, detail FROM %s.journal WHERE event IN ('rotation', 'revocation') "
             "ORDER BY seq",
             h->qschema);
}

int
journal_exists(struct db *db, const struct history_ctx *h, struct db_error *e)
{
    char *sql = xasprintf("SELECT to_regclass('%s.journal') IS NOT NULL", h->qschema);
    struct db_rows *r = db_query(db, sql, e);
    int exists;

    free(sql);
    if (r == NULL)
        return -1;
    exists = strcmp(db_value(r, 0, 0), "t") == 0;
    db_rows_free(r);
    return exists;
}

int
journal_exists_known(struct db *db, const struct history_ctx *h, int known, struct db_error *e)
{
    return known ? 1 : journal_exists(db, h, e);
}

int
journal_report_head(struct db *db, const struct history_ctx *h, const struct journal_pos *before,
                    int json, int quiet, int known, struct db_error *e)
{
    struct journal_pos now;
    int exists = journal_exists_known(db, h, known, e);

    if (exists <= 0)
        return exists;
    if (journal_read_pos(db, h, &now, e) != 0)
        return -1;
    if (now.seq == before->seq && strcmp(now.hash, before->hash) == 0)
        return 0;
    if (json)
        printf("{\"event\":\"journal_head\",\"seq\":%lld,\"head\":\"%s\"}\n", now.seq, now.hash);
    else if (!quiet)
        printf("journal head %lld %s\n", now.seq, now.hash);
    fflush(stdout);
    return 0;
}

/*
 * What the journal's events leave in the state tables, replayed in order: per project and
 * migration the last apply, stamp or adopt event (dropped again by a rollback), per project
 * the environment first bound and the highest serial.
 */
enum replay_col {
    RC_SEQ,
    RC_EVENT,
    RC_ORDINAL,
    RC_CHAIN,
    RC_BUNDLE,
    RC_SERIAL,
    RC_SIGNERS,
    RC_ENVIRONMENT,
    RC_HOST,
    RC_CHECKSUMS,
    RC_N
};

struct replay_entry {
    char *key; /* "project\nmigration_id" */
    char *v[RC_N];
};

struct replay_project {
    char *project;
    char *environment; /* the first bound, or NULL */
    long long max_serial;
};

/* A repeatable's run, as its journal row recorded it. */
struct replay_run {
    char *project;
    char *name;
    char *how; /* "applied", "stamped", "adopted" */
    char *checksum;
    char *bundle;
    char *serial;
    char *host;
    long long seq;
};

struct replay {
    struct replay_entry *v;
    size_t n;
    size_t cap;
    struct replay_run *runs; /* in journal order */
    size_t nruns;
    size_t runs_cap;
    struct replay_project *p;
    size_t np;
    size_t pcap;
};

/* The verify query's columns: the chain's, then the replayed fields in enum replay_col order. */
#define VERIFY_COLS         "seq, prev_hash, hash, %s, project, event, migration_id"
#define VERIFY_REPLAY_FIRST 7
static const char *const replay_columns[RC_N] = {
    "seq",           "event",   "ordinal",     "chain",       "bundle_id",
    "bundle_serial", "signers", "environment", "client_host", "checksums"};

static long
replay_find(const struct replay *r, const char *key)
{
    for (size_t i = 0; i < r->n; i++)
        if (strcmp(r->v[i].key, key) == 0)
            return (long)i;
    return -1;
}

static void
replay_entry_clear(struct replay_entry *e)
{
    for (size_t k = 0; k < RC_N; k++)
        free(e->v[k]);
}

static void
replay_project(struct replay *r, const char *project, const char *environment, const char *serial)
{
    struct replay_project *p = NULL;

    for (size_t i = 0; i < r->np && p == NULL; i++)
        if (strcmp(r->p[i].project, project) == 0)
            p = &r->p[i];
    if (p == NULL) {
        r->p = xgrow(r->p, &r->pcap, r->np + 1, sizeof(*r->p));
        p = &r->p[r->np++];
        p->project = xstrdup(project);
        p->environment = NULL;
        p->max_serial = 0;
    }
    /* As history_sql_project: the first environment binds, the serial only grows. */
    if (p->environment == NULL && environment)
        p->environment = xstrdup(environment);
    if (serial && atoll(serial) > p->max_serial)
        p->max_serial = atoll(serial);
}

static char *
dup_value(struct db_rows *rows, size_t i, size_t col)
{
    return db_value(rows, i, col) ? xstrdup(db_value(rows, i, col)) : NULL;
}

/* A repeatable's run event: the how of its row ("applied", ...), or NULL for another event. */
static const char *
repeatable_how(const char *event)
{
    return strcmp(event, JOURNAL_EVENT_REPEATABLE_APPLY) == 0   ? "applied"
           : strcmp(event, JOURNAL_EVENT_REPEATABLE_STAMP) == 0 ? "stamped"
           : strcmp(event, JOURNAL_EVENT_REPEATABLE_ADOPT) == 0 ? "adopted"
                                                                : NULL;
}

/* Replay a repeatable's run: one more row of repeatable_runs. */
static void
replay_run(struct replay *r, struct db_rows *rows, size_t i, const char *how)
{
    struct replay_run *run;

    replay_project(r, db_value(rows, i, 4), db_value(rows, i, VERIFY_REPLAY_FIRST + RC_ENVIRONMENT),
                   db_value(rows, i, VERIFY_REPLAY_FIRST + RC_SERIAL));
    r->runs = xgrow(r->runs, &r->runs_cap, r->nruns + 1, sizeof(*r->runs));
    run = &r->runs[r->nruns++];
    run->project = dup_value(rows, i, 4);
    run->name = dup_value(rows, i, 6);
    run->how = xstrdup(how);
    run->checksum = dup_value(rows, i, VERIFY_REPLAY_FIRST + RC_CHAIN);
    run->bundle = dup_value(rows, i, VERIFY_REPLAY_FIRST + RC_BUNDLE);
    run->serial = dup_value(rows, i, VERIFY_REPLAY_FIRST + RC_SERIAL);
    run->host = dup_value(rows, i, VERIFY_REPLAY_FIRST + RC_HOST);
    run->seq = atoll(db_value(rows, i, 0));
}

/* Replay journal row i of rows (the verify query's columns). */
static void
replay_event(struct replay *r, struct db_rows *rows, size_t i)
{
    const char *project = db_value(rows, i, 4), *event = db_value(rows, i, 5);
    const char *id = db_value(rows, i, 6);
    int up =
        strcmp(event, "apply") == 0 || strcmp(event, "stamp") == 0 || strcmp(event, "adopt") == 0;
    char *key;
    long at;

    if (repeatable_how(event) && id) {
        replay_run(r, rows, i, repeatable_how(event));
        return;
    }
    /* A stamp backwards ("unstamp") removes the row as a rollback does. */
    if (!up && strcmp(event, "rollback") != 0 && strcmp(event, "unstamp") != 0)
        return; /* failures and interruptions committed nothing but their journal row */
    replay_project(r, project, db_value(rows, i, VERIFY_REPLAY_FIRST + RC_ENVIRONMENT),
                   db_value(rows, i, VERIFY_REPLAY_FIRST + RC_SERIAL));
    if (id == NULL)
        return;
    key = xasprintf("%s\n%s", project, id);
    at = replay_find(r, key);
    if (up) {
        if (at < 0) {
            r->v = xgrow(r->v, &r->cap, r->n + 1, sizeof(*r->v));
            at = (long)r->n++;
            r->v[at].key = key;
            key = NULL;
        } else
            replay_entry_clear(&r->v[at]);
        for (size_t k = 0; k < RC_N; k++) {
            const char *v = db_value(rows, i, VERIFY_REPLAY_FIRST + k);

            r->v[at].v[k] = v ? xstrdup(v) : NULL;
        }
    } else if (at >= 0) {
        free(r->v[at].key);
        replay_entry_clear(&r->v[at]);
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
        replay_entry_clear(&r->v[i]);
    }
    free(r->v);
    for (size_t i = 0; i < r->np; i++) {
        free(r->p[i].project);
        free(r->p[i].environment);
    }
    free(r->p);
    for (size_t i = 0; i < r->nruns; i++) {
        struct replay_run *run = &r->runs[i];

        free(run->project);
        free(run->name);
        free(run->how);
        free(run->checksum);
        free(run->bundle);
        free(run->serial);
        free(run->host);
    }
    free(r->runs);
}

/* One problem per line of out. */
static void problem(struct buf *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
problem(struct buf *out, const char *fmt, ...)
{
    va_list ap;
    char line[1024];

    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    buf_addf(out, "%s%s", out->len ? "\n" : "", line);
}

static int
same(const char *a, const char *b)
{
    return (a == NULL && b == NULL) || (a && b && strcmp(a, b) == 0);
}

/*
 * The value key has in a checksums text ("up_source_sha256=HEX down_source_sha256=- ..."),
 * into out; "-" is NULL. Returns out, or NULL when absent.
 */
static const char *
checksum_value(const char *text, const char *key, char *out, size_t size)
{
    size_t kl = strlen(key);

    for (const char *p = text; p && *p; p = strchr(p, ' ') ? strchr(p, ' ') + 1 : NULL) {
        if (strncmp(p, key, kl) == 0 && p[kl] == '=') {
            size_t n = strcspn(p + kl + 1, " ");

            if (n >= size || (n == 1 && p[kl + 1] == '-'))
                return NULL;
            memcpy(out, p + kl + 1, n);
            out[n] = '\0';
            return out;
        }
    }
    return NULL;
}

/* Compare the applied table with the replay: every column the journal recorded. */
static int
check_applied(struct db *db, const struct history_ctx *h, const struct replay *rep, struct buf *out,
              struct db_error *e)
{
    /* applied's columns from 2 on, and the replayed field each must equal (-1: checksums) */
    static const struct {
        const char *column;
        int rc;
    } cols[] = {
        {"ordinal", RC_ORDINAL},      {"chain", RC_CHAIN},     {"bundle_id", RC_BUNDLE},
        {"bundle_serial", RC_SERIAL}, {"signers", RC_SIGNERS}, {"environment", RC_ENVIRONMENT},
        {"client_host", RC_HOST},     {"how", RC_EVENT},       {"up_source_sha256", -1},
        {"down_source_sha256", -1},   {"up_sha256", -1}};
    struct buf sql = BUF_INIT;
    struct db_rows *a;
    size_t ncols = sizeof(cols) / sizeof(cols[0]);

    buf_addstr(&sql, "SELECT project, migration_id");
    for (size_t c = 0; c < ncols; c++)
        buf_addf(&sql, ", %s", cols[c].column);
    buf_addf(&sql, " FROM %s.applied ORDER BY project, ordinal", h->qschema);
    a = db_query(db, sql.data, e);
    buf_release(&sql);
    if (a == NULL)
        return -1;
    for (size_t i = 0; i < db_nrows(a); i++) {
        char *key = xasprintf("%s\n%s", db_value(a, i, 0), db_value(a, i, 1));
        long at = replay_find(rep, key);

        free(key);
        if (at < 0) {
            problem(out,
                    "applied migration %s (project %s) is not backed by the journal: the "
                    "applied table was edited (no apply, stamp or adopt event leaves it applied)",
                    db_value(a, i, 1), db_value(a, i, 0));
            continue;
        }
        for (size_t c = 0; c < ncols; c++) {
            const char *have = db_value(a, i, 2 + c), *want;
            char buf[HASH_SHA256_HEX + 8];

            if (cols[c].rc == RC_EVENT) {
                const char *ev = rep->v[at].v[RC_EVENT];

                want = strcmp(ev, "apply") == 0   ? "applied"
                       : strcmp(ev, "stamp") == 0 ? "stamped"
                                                  : "adopted";
            } else if (cols[c].rc >= 0)
                want = rep->v[at].v[cols[c].rc];
            else if (rep->v[at].v[RC_CHECKSUMS] == NULL)
                continue; /* recorded before the journal kept checksums */
            else
                want = checksum_value(rep->v[at].v[RC_CHECKSUMS], cols[c].column, buf, sizeof(buf));
            if (!same(have, want))
                problem(out,
                        "applied migration %s (project %s) is not backed by the journal: the "
                        "applied table was edited: %s.applied column %s is %s%s%s, journal row "
                        "%s recorded %s%s%s",
                        db_value(a, i, 1), db_value(a, i, 0), h->schema, cols[c].column,
                        have ? "\"" : "", have ? have : "NULL", have ? "\"" : "",
                        rep->v[at].v[RC_SEQ], want ? "\"" : "", want ? want : "NULL",
                        want ? "\"" : "");
        }
    }
    if (db_nrows(a) < rep->n)
        problem(out,
                "the journal records %zu applied migrations but the applied table has %zu: "
                "rows were deleted from it",
                rep->n, db_nrows(a));
    db_rows_free(a);
    return 0;
}

/* Runs by project, then name, then journal order: the order of repeatable_runs' keys. */
static int
run_cmp(const void *a, const void *b)
{
    const struct replay_run *x = a, *y = b;
    int c = strcmp(x->project, y->project);

    if (c == 0)
        c = strcmp(x->name, y->name);
    if (c == 0)
        c = x->seq < y->seq ? -1 : x->seq > y->seq;
    return c;
}

/*
 * Compare the repeatable_runs table with the replay: row for row, runs numbered 1, 2, ... by
 * name in journal order, each with what its journal row recorded. A history from before the
 * table has no runs to compare.
 */
static int
check_repeatables(struct db *db, const struct history_ctx *h, struct replay *rep, struct buf *out,
                  struct db_error *e)
{
    static const char *const cols[] = {"how", "checksum", "bundle_id", "bundle_serial",
                                       "client_host"};
    char *sql = xasprintf("SELECT to_regclass('%s.repeatable_runs') IS NOT NULL", h->qschema);
    struct db_rows *t = db_query(db, sql, e), *a;
    int exists;
    size_t n, k = 0;

    free(sql);
    if (t == NULL)
        return -1;
    exists = strcmp(db_value(t, 0, 0), "t") == 0;
    db_rows_free(t);
    if (!exists) {
        if (rep->nruns)
            problem(out,
                    "the journal records %zu runs of repeatable migrations but %s.repeatable_runs "
                    "does not exist: the table was dropped",
                    rep->nruns, h->schema);
        return 0;
    }
    if (rep->nruns > 1) /* qsort's base may not be NULL, even for no elements */
        qsort(rep->runs, rep->nruns, sizeof(*rep->runs), run_cmp);
    sql = xasprintf("SELECT project, name, run, how, checksum, bundle_id, bundle_serial, "
                    "client_host FROM %s.repeatable_runs ORDER BY project, name, run",
                    h->qschema);
    a = db_query(db, sql, e);
    free(sql);
    if (a == NULL)
        return -1;
    n = db_nrows(a);
    for (size_t i = 0; i < n; i++) {
        const char *project = db_value(a, i, 0), *name = db_value(a, i, 1);
        const struct replay_run *run = k < rep->nruns ? &rep->runs[k] : NULL;
        long want_run = 1;

        if (run == NULL || strcmp(run->project, project) != 0 || strcmp(run->name, name) != 0) {
            problem(out,
                    "%s.repeatable_runs row %s run %s (project %s) is not backed by the "
                    "journal: the table was edited",
                    h->schema, name, db_value(a, i, 2), project);
            continue;
        }
        for (size_t j = k; j > 0 && run_cmp(&rep->runs[j - 1], run) < 0 &&
                           strcmp(rep->runs[j - 1].name, run->name) == 0 &&
                           strcmp(rep->runs[j - 1].project, run->project) == 0;
             j--)
            want_run++;
        {
            const char *want[] = {run->how, run->checksum, run->bundle, run->serial, run->host};

            if (atol(db_value(a, i, 2)) != want_run)
                problem(out,
                        "%s.repeatable_runs row %s (project %s): column run is %s, but the "
                        "journal records it as run %ld: the table was edited",
                        h->schema, name, project, db_value(a, i, 2), want_run);
            for (size_t c = 0; c < sizeof(cols) / sizeof(cols[0]); c++)
                if (!same(db_value(a, i, 3 + c), want[c]))
                    problem(out,
                            "%s.repeatable_runs row %s run %s (project %s): column %s is %s, "
                            "but journal row %lld recorded %s: the table was edited",
                            h->schema, name, db_value(a, i, 2), project, cols[c],
                            db_value(a, i, 3 + c) ? db_value(a, i, 3 + c) : "NULL", run->seq,
                            want[c] ? want[c] : "NULL");
        }
        k++;
    }
    if (k < rep->nruns)
        problem(out,
                "the journal records %zu runs of repeatable migrations but %s.repeatable_runs "
                "has %zu of them: rows were deleted",
                rep->nruns, h->schema, k);
    db_rows_free(a);
    return 0;
}

/* Compare the projects table with the replay: the environment binding and the serial. */
static int
check_projects(struct db *db, const struct history_ctx *h, const struct replay *rep,
               struct buf *out, struct db_error *e)
{
    char *sql = xasprintf("SELECT project, environment, max_serial FROM %s.projects ORDER BY "
                          "project",
                          h->qschema);
    struct db_rows *p = db_query(db, sql, e);
    size_t found = 0;

    free(sql);
    if (p == NULL)
        return -1;
    for (size_t i = 0; i < db_nrows(p); i++) {
        const char *project = db_value(p, i, 0), *env = db_value(p, i, 1);
        const struct replay_project *want = NULL;

        for (size_t k = 0; k < rep->np && want == NULL; k++)
            if (strcmp(rep->p[k].project, project) == 0)
                want = &rep->p[k];
        if (want == NULL) {
            problem(out,
                    "%s.projects row %s is not backed by the journal: no event of that project "
                    "committed anything",
                    h->schema, project);
            continue;
        }
        found++;
        if (!same(env, want->environment))
            problem(out,
                    "%s.projects row %s: column environment is %s%s%s, but the journal bound "
                    "the project to %s%s%s: the projects table was edited",
                    h->schema, project, env ? "\"" : "", env ? env : "NULL", env ? "\"" : "",
                    want->environment ? "\"" : "",
                    want->environment ? want->environment : "no environment",
                    want->environment ? "\"" : "");
        if (atoll(db_value(p, i, 2)) != want->max_serial)
            problem(out,
                    "%s.projects row %s: column max_serial is %s, but the highest serial the "
                    "journal recorded is %lld: the projects table was edited",
                    h->schema, project, db_value(p, i, 2), want->max_serial);
    }
    for (size_t k = 0; k < rep->np && found < rep->np; k++) {
        int present = 0;

        for (size_t i = 0; i < db_nrows(p) && !present; i++)
            present = strcmp(db_value(p, i, 0), rep->p[k].project) == 0;
        if (!present)
            problem(out,
                    "%s.projects has no row for project %s, which the journal records: the row "
                    "was deleted",
                    h->schema, rep->p[k].project);
    }
    db_rows_free(p);
    return 0;
}

/*
 * Progress rows are not journaled (a lost connection leaves one without an event), so only
 * what contradicts the journal is reported: a migration's "up" progress while the journal
 * leaves it applied, its "down" progress while it does not, or a count that disagrees with
 * the statement digests it lists.
 */
static int
check_progress(struct db *db, const struct history_ctx *h, const struct replay *rep,
               struct buf *out, struct db_error *e)
{
    char *sql = xasprintf("SELECT project, migration_id, direction, statements_done, "
                          "statements_total, coalesce(cardinality(statement_sha256), 0) FROM "
                          "%s.progress ORDER BY project, migration_id, direction",
                          h->qschema);
    struct db_rows *p = db_query(db, sql, e);

    free(sql);
    if (p == NULL)
        return -1;
    for (size_t i = 0; i < db_nrows(p); i++) {
        char *key = xasprintf("%s\n%s", db_value(p, i, 0), db_value(p, i, 1));
        int applied = replay_find(rep, key) >= 0, up = strcmp(db_value(p, i, 2), "up") == 0;
        long done = atol(db_value(p, i, 3)), total = atol(db_value(p, i, 4));

        free(key);
        if (applied == up)
            problem(out,
                    "%s.progress row %s %s (project %s) contradicts the journal, which leaves "
                    "the migration %s: the progress table was edited",
                    h->schema, db_value(p, i, 1), db_value(p, i, 2), db_value(p, i, 0),
                    applied ? "applied" : "not applied");
        if (done < 0 || done > total || done != atol(db_value(p, i, 5)))
            problem(out,
                    "%s.progress row %s %s (project %s): column statements_done is %ld, but "
                    "it lists %s statement digests of %ld statements: the progress table was "
                    "edited",
                    h->schema, db_value(p, i, 1), db_value(p, i, 2), db_value(p, i, 0), done,
                    db_value(p, i, 5), total);
    }
    db_rows_free(p);
    return 0;
}

int
journal_verify(struct db *db, const struct history_ctx *h, struct buf *out, struct db_error *e)
{
    struct buf sql = BUF_INIT, canon = BUF_INIT;
    struct db_rows *r = NULL, *meta = NULL;
    struct replay rep = {0};
    char prev[HASH_SHA256_HEX] = JOURNAL_ZERO_HASH;
    size_t n;
    int ret = -1;

    journal_canonical_sql("j", &canon);
    buf_addf(&sql, "SELECT " VERIFY_COLS, canon.data);
    for (size_t k = 0; k < RC_N; k++)
        buf_addf(&sql, k == RC_CHECKSUMS ? ", to_jsonb(j)->>'%s'" : ", %s", replay_columns[k]);
    buf_addf(&sql, " FROM %s.journal j ORDER BY seq", h->qschema);
    r = db_query(db, sql.data, e);
    if (r == NULL)
        goto cleanup;
    n = db_nrows(r);
    for (size_t i = 0; i < n; i++) {
        const char *seq = db_value(r, i, 0);
        const char *canon_text = db_value(r, i, 3);
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
        hash_sha256(canon_text, strlen(canon_text), digest);
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
        replay_event(&rep, r, i);
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

    /* Every state table must be what the journal's events leave, and vice versa. */
    if (check_applied(db, h, &rep, out, e) != 0 || check_projects(db, h, &rep, out, e) != 0 ||
        check_progress(db, h, &rep, out, e) != 0 || check_repeatables(db, h, &rep, out, e) != 0)
        goto cleanup;
    if (out->len) {
        ret = 1;
        goto cleanup;
    }
    buf_addf(out, "journal intact: %zu rows, head %s", n, prev);
    ret = 0;
cleanup:
    replay_release(&rep);
    db_rows_free(r);
    db_rows_free(meta);
    buf_release(&sql);
    buf_release(&canon);
    return ret;
}
