/*
 * drift.c: schema fingerprints, stored and compared (see drift.h).
 * Layer: applier. Generates SQL text; db.c runs it; lib/codec.c compresses.
 */
#include "drift.h"
#include "sealift/codec.h"
#include "sealift/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
drift_result_init(struct drift_result *r)
{
    memset(r, 0, sizeof(*r));
    snapshot_init(&r->fp.snap);
    snapshot_init(&r->live);
    snapshot_diff_init(&r->diff);
}

void
drift_result_release(struct drift_result *r)
{
    snapshot_diff_release(&r->diff);
    snapshot_release(&r->fp.snap);
    snapshot_release(&r->live);
    drift_result_init(r);
}

/* ---- the canonical text ---- */

static void
add_field(struct buf *out, const char *v)
{
    for (; *v; v++) {
        if (*v == '\\')
            buf_addstr(out, "\\\\");
        else if (*v == '\t')
            buf_addstr(out, "\\t");
        else if (*v == '\n')
            buf_addstr(out, "\\n");
        else
            buf_addch(out, *v);
    }
}

/* Append one item's line of the canonical text. */
static void
canonical_line(struct buf *out, const char *kind, const char *name, const char *def)
{
    add_field(out, kind);
    buf_addch(out, '\t');
    add_field(out, name);
    buf_addch(out, '\t');
    add_field(out, def);
    buf_addch(out, '\n');
}

void
drift_canonical(const struct snapshot *s, struct buf *out)
{
    buf_addstr(out, DRIFT_CANON_HEADER);
    for (size_t i = 0; i < s->n; i++)
        canonical_line(out, s->items[i].kind, s->items[i].name, s->items[i].def);
}

/*
 * The canonical text of a snapshot, one line at a time, hashed (and compressed, when z is set)
 * as it is made: a schema of 100,000 tables makes a text of tens of megabytes, never held.
 */
struct canon_stream {
    struct hash_sha256 h;
    struct buf line;
    struct codec_zstd_stream *z; /* NULL: hash only */
    uint64_t len;
    size_t items;
    struct diag_err err;
};

static void
canon_stream_init(struct canon_stream *c, struct codec_zstd_stream *z)
{
    memset(c, 0, sizeof(*c));
    hash_sha256_init(&c->h);
    buf_init(&c->line);
    c->z = z;
}

static int
canon_stream_add(struct canon_stream *c, const char *text, size_t len)
{
    hash_sha256_update(&c->h, text, len);
    c->len += len;
    return c->z ? codec_zstd_stream_add(c->z, text, len, &c->err) : 0;
}

/* snapshot_item_cb: one item's line into the stream. */
static int
canon_stream_item(void *data, const char *kind, const char *name, const char *def)
{
    struct canon_stream *c = data;

    c->items++;
    buf_reset(&c->line);
    canonical_line(&c->line, kind, name, def);
    return canon_stream_add(c, c->line.data, c->line.len);
}

static void
canon_stream_release(struct canon_stream *c)
{
    buf_release(&c->line);
}

/* Unescape [p, end) into a new string; -1 on a bad escape. */
static char *
take_field(const char *p, const char *end)
{
    char *out = xmalloc((size_t)(end - p) + 1), *o = out;

    while (p < end) {
        if (*p != '\\') {
            *o++ = *p++;
            continue;
        }
        if (p + 1 == end || (p[1] != '\\' && p[1] != 't' && p[1] != 'n')) {
            free(out);
            return NULL;
        }
        *o++ = p[1] == 't' ? '\t' : p[1] == 'n' ? '\n' : '\\';
        p += 2;
    }
    *o = '\0';
    return out;
}

int
drift_parse(const char *text, size_t len, struct snapshot *s, struct diag_err *err)
{
    size_t hl = strlen(DRIFT_CANON_HEADER), cap = 0, line = 1;
    const char *p = text, *end = text + len;

    snapshot_release(s);
    if (len < hl || memcmp(text, DRIFT_CANON_HEADER, hl) != 0)
        return err_set(err, "not a fingerprint of format %d", DRIFT_FORMAT);
    for (p += hl; p < end; line++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p)), *t1, *t2;
        struct snapshot_item *it;

        if (nl == NULL)
            goto bad;
        t1 = memchr(p, '\t', (size_t)(nl - p));
        t2 = t1 ? memchr(t1 + 1, '\t', (size_t)(nl - t1 - 1)) : NULL;
        if (t2 == NULL || memchr(t2 + 1, '\t', (size_t)(nl - t2 - 1)) != NULL)
            goto bad;
        s->items = xgrow(s->items, &cap, s->n + 1, sizeof(*s->items));
        it = &s->items[s->n];
        it->kind = take_field(p, t1);
        it->name = take_field(t1 + 1, t2);
        it->def = take_field(t2 + 1, nl);
        s->n++;
        if (it->kind == NULL || it->name == NULL || it->def == NULL)
            goto bad;
        p = nl + 1;
    }
    return 0;
bad:
    snapshot_release(s);
    return err_set(err, "fingerprint line %zu is not KIND<TAB>NAME<TAB>DEFINITION", line + 1);
}

/* ---- schemas ---- */

/* Does text contain schema as a qualifier: " SCHEMA." preceded by a space, or at its start? */
static int
qualifies(const char *text, const char *schema)
{
    size_t n = strlen(schema);

    for (const char *p = text; (p = strstr(p, schema)) != NULL; p++)
        if ((p == text || p[-1] == ' ') && p[n] == '.')
            return 1;
    return 0;
}

int
drift_item_in_schema(const struct snapshot_item *it, const char *schema)
{
    size_t n = strlen(schema);
    const char *in;

    if (strcmp(it->kind, "schema") == 0)
        return strcmp(it->name, schema) == 0;
    if (strcmp(it->kind, "extension") == 0)
        return (in = strstr(it->def, " in schema ")) != NULL && strcmp(in + 11, schema) == 0;
    if (strcmp(it->kind, "default privileges") == 0) {
        in = strstr(it->name, " in schema ");
        return in && strncmp(in + 11, schema, n) == 0 && strncmp(in + 11 + n, " on ", 4) == 0;
    }
    if (strcmp(it->kind, "comment") == 0)
        return (strncmp(it->name, "schema ", 7) == 0 && strcmp(it->name + 7, schema) == 0) ||
               qualifies(it->name, schema);
    /* Objects of no schema: their names are not qualified. */
    if (strcmp(it->kind, "cast") == 0 || strcmp(it->kind, "language") == 0 ||
        strcmp(it->kind, "event trigger") == 0 || strcmp(it->kind, "publication") == 0 ||
        strcmp(it->kind, "server") == 0)
        return 0;
    return strncmp(it->name, schema, n) == 0 && it->name[n] == '.';
}

void
drift_filter(struct snapshot *s, const char *const *schemas, size_t n)
{
    size_t kept = 0;

    for (size_t i = 0; i < s->n; i++) {
        int drop = 0;

        for (size_t k = 0; k < n && !drop; k++)
            drop = drift_item_in_schema(&s->items[i], schemas[k]);
        if (drop) {
            free(s->items[i].kind);
            free(s->items[i].name);
            free(s->items[i].def);
        } else {
            s->items[kept++] = s->items[i];
        }
    }
    s->n = kept;
}

/* ---- the table ---- */

void
drift_sql_table(const struct history_ctx *h, struct buf *out)
{
    /* Not in the journal's hash chain: a fingerprint describes the schema, not an event. */
    buf_addf(out,
             "CREATE TABLE IF NOT EXISTS %s.fingerprint (\n"
             "    journal_seq bigint PRIMARY KEY,\n"
             "    project text NOT NULL,\n"
             "    event text NOT NULL,\n"
             "    at timestamptz NOT NULL DEFAULT clock_timestamp(),\n"
             "    format integer NOT NULL,\n"
             "    sha256 text NOT NULL,\n"
             "    objects integer NOT NULL,\n"
             "    raw_bytes bigint NOT NULL,\n"
             "    snapshot bytea);\n",
             h->qschema);
}

/* The cap of a kept snapshot: DRIFT_SNAPSHOT_CAP, or SEALIFT_FINGERPRINT_CAP (bytes) for
 * tests of the hash-only case. */
static size_t
snapshot_cap(void)
{
    const char *v = getenv("SEALIFT_FINGERPRINT_CAP");
    char *end;
    unsigned long long n;

    if (v == NULL || *v == '\0')
        return DRIFT_SNAPSHOT_CAP;
    n = strtoull(v, &end, 10);
    return *end == '\0' && n <= DRIFT_SNAPSHOT_CAP ? (size_t)n : DRIFT_SNAPSHOT_CAP;
}

/* The INSERT of the fingerprint c made (finished: z holds its frame) for event. */
static void
sql_record(const struct history_ctx *h, const char *event, struct canon_stream *c,
           const struct buf *z, struct buf *out)
{
    unsigned char digest[HASH_SHA256_BYTES];
    char hex[HASH_SHA256_HEX];

    hash_sha256_final(&c->h, digest);
    hex_encode(hex, digest, HASH_SHA256_BYTES);
    buf_addf(out,
             "INSERT INTO %s.fingerprint (journal_seq, project, event, format, sha256, objects, "
             "raw_bytes, snapshot) SELECT coalesce(max(seq), 0), ",
             h->qschema);
    db_add_literal(out, h->project);
    buf_addstr(out, ", ");
    db_add_literal(out, event);
    buf_addf(out, ", %d, '%s', %zu, %llu, ", DRIFT_FORMAT, hex, c->items,
             (unsigned long long)c->len);
    if (z->len <= snapshot_cap()) {
        /* Hex straight into the statement: no second copy of it. */
        buf_addstr(out, "decode('");
        buf_grow(out, z->len * 2);
        hex_encode(out->data + out->len, (const unsigned char *)z->data, z->len);
        out->len += z->len * 2;
        buf_addstr(out, "', 'hex')");
    } else {
        buf_addstr(out, "NULL");
    }
    buf_addf(out,
             " FROM %s.journal ON CONFLICT (journal_seq) DO UPDATE SET project = "
             "excluded.project, event = excluded.event, at = excluded.at, format = "
             "excluded.format, sha256 = excluded.sha256, objects = excluded.objects, raw_bytes "
             "= excluded.raw_bytes, snapshot = excluded.snapshot",
             h->qschema);
}

/*
 * Fingerprint the schema into sql (its INSERT), straight from the rows as they come: the
 * canonical text is hashed and compressed line by line, and neither it nor the schema's
 * objects are held (a schema of 100,000 tables has some 700,000).
 */
static int
take_fingerprint(struct db *db, const struct history_ctx *h, const char *event, struct buf *sql,
                 struct db_error *e)
{
    struct buf z = BUF_INIT;
    struct diag_err err = DIAG_ERR_INIT;
    struct canon_stream c;
    int ret = -1;

    canon_stream_init(&c, codec_zstd_stream_open(&z, &err));
    if (c.z == NULL)
        c.err = err;
    if (c.z == NULL || canon_stream_add(&c, DRIFT_CANON_HEADER, strlen(DRIFT_CANON_HEADER)) != 0)
        goto bad;
    /* In the move's transaction: the snapshot runs in a savepoint of its own. */
    if (snapshot_each(db, h->schema, 1, SNAPSHOT_FULL_BODIES | SNAPSHOT_NO_WAIT, canon_stream_item,
                      &c, e) != 0) {
        if (c.err.msg[0])
            goto bad;
        goto cleanup;
    }
    if (codec_zstd_stream_finish(c.z, &c.err) != 0)
        goto bad;
    sql_record(h, event, &c, &z, sql);
    ret = 0;
    goto cleanup;
bad:
    db_error_from_message(e, c.err.msg[0] ? c.err.msg : "could not compress");
cleanup:
    codec_zstd_stream_free(c.z);
    canon_stream_release(&c);
    buf_release(&z);
    return ret;
}

int
drift_record(struct db *db, const struct history_ctx *h, const char *event, int in_tx,
             struct db_error *e)
{
    struct buf sql = BUF_INIT;
    int ret = -1;

    if (!in_tx && db_exec(db, "BEGIN", e) != 0)
        goto cleanup;
    /*
     * In the move's transaction the snapshot runs in a savepoint of its own (a failure leaves
     * the transaction as it was), and the row goes in without one: a row written in a
     * subtransaction would carry another xid than the move's history rows.
     */
    if (take_fingerprint(db, h, event, &sql, e) != 0 || db_exec(db, sql.data, e) != 0 ||
        (!in_tx && db_exec(db, "COMMIT", e) != 0)) {
        if (!in_tx)
            db_exec(db, "ROLLBACK", NULL);
        goto cleanup;
    }
    ret = 0;
cleanup:
    buf_release(&sql);
    return ret;
}

/* ---- reading and comparing ---- */

/*
 * The last fingerprint; with_snapshot 0 reads only whether one exists and is current (no
 * schema snapshot fetched, decompressed and parsed: a no-op apply needs no more), in one
 * query when the caller knows the table exists.
 */
void
drift_sql_last(const struct history_ctx *h, int with_snapshot, struct buf *out)
{
    buf_addf(out,
             "SELECT journal_seq, project, event, to_char(at AT TIME ZONE 'UTC', "
             "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), format, sha256, objects, %s, (SELECT "
             "count(*) FROM %s.journal j WHERE j.seq > f.journal_seq AND "
             "j.event IN ('apply', 'rollback', 'stamp', 'adopt')), (SELECT count(*) FROM "
             "%s.progress p WHERE p.updated_at >= f.at), snapshot IS NOT NULL FROM "
             "%s.fingerprint f "
             "ORDER BY journal_seq DESC, at DESC LIMIT 1",
             with_snapshot ? "encode(snapshot, 'hex')" : "NULL", h->qschema, h->qschema,
             h->qschema);
}

int
drift_last_of(const struct db_rows *r, struct drift_fingerprint *fp, struct db_error *e)
{
    struct buf z = BUF_INIT, text = BUF_INIT;
    struct diag_err err = DIAG_ERR_INIT;
    const char *hex;
    int ret = -1;

    snapshot_release(&fp->snap);
    memset(fp, 0, sizeof(*fp));
    if (db_nrows(r) == 0)
        return 0;
    fp->found = 1;
    fp->journal_seq = atoll(db_value(r, 0, 0));
    snprintf(fp->project, sizeof(fp->project), "%s", db_value(r, 0, 1));
    snprintf(fp->event, sizeof(fp->event), "%s", db_value(r, 0, 2));
    snprintf(fp->at, sizeof(fp->at), "%s", db_value(r, 0, 3));
    snprintf(fp->sha256, sizeof(fp->sha256), "%s", db_value(r, 0, 5));
    fp->objects = atol(db_value(r, 0, 6));
    fp->later_moves = atol(db_value(r, 0, 8));
    fp->later_progress = atol(db_value(r, 0, 9));
    if (atoi(db_value(r, 0, 4)) != DRIFT_FORMAT) {
        db_error_from_message(e, "the last fingerprint has an unknown format");
        goto cleanup;
    }
    hex = db_value(r, 0, 7);
    /* Read without its snapshot, the row still says whether one was kept. */
    fp->kept = db_value(r, 0, 10) && strcmp(db_value(r, 0, 10), "t") == 0;
    if (hex) {
        size_t n = strlen(hex) / 2;
        unsigned char digest[HASH_SHA256_BYTES];
        char got[HASH_SHA256_HEX];

        buf_grow(&z, n);
        if (hex_decode((unsigned char *)z.data, n, hex, strlen(hex)) != 0) {
            db_error_from_message(e, "the last fingerprint's snapshot is not hex");
            goto cleanup;
        }
        z.len = n;
        if (codec_zstd_decompress(z.data, z.len, DRIFT_SNAPSHOT_MAX, &text, &err) != 0)
            goto bad;
        /* The text must be the one the hash describes, or the comparison would be wrong. */
        hash_sha256(text.data, text.len, digest);
        if (strcmp(hex_encode(got, digest, HASH_SHA256_BYTES), fp->sha256) != 0) {
            err_set(&err, "its snapshot does not match its SHA-256");
            goto bad;
        }
        if (drift_parse(text.data, text.len, &fp->snap, &err) != 0)
            goto bad;
    }
    ret = 0;
    goto cleanup;
bad : {
    char msg[sizeof(err.msg) + 64];

    snprintf(msg, sizeof(msg), "the last fingerprint cannot be read: %s", err.msg);
    db_error_from_message(e, msg);
}
cleanup:
    buf_release(&z);
    buf_release(&text);
    return ret;
}

static int
load_last(struct db *db, const struct history_ctx *h, int with_snapshot, int table_known,
          struct drift_fingerprint *fp, struct db_error *e)
{
    struct buf sql = BUF_INIT, name = BUF_INIT;
    struct db_rows *r = NULL;
    int ret = -1;

    snapshot_release(&fp->snap);
    memset(fp, 0, sizeof(*fp));
    if (!table_known) {
        buf_addf(&name, "%s.fingerprint", h->qschema);
        buf_addstr(&sql, "SELECT to_regclass(");
        db_add_literal(&sql, name.data);
        buf_addstr(&sql, ") IS NOT NULL");
        if ((r = db_query(db, sql.data, e)) == NULL)
            goto cleanup;
        if (strcmp(db_value(r, 0, 0), "t") != 0) {
            ret = 0;
            goto cleanup;
        }
        db_rows_free(r);
        r = NULL;
    }
    buf_reset(&sql);
    drift_sql_last(h, with_snapshot, &sql);
    if ((r = db_query(db, sql.data, e)) == NULL)
        goto cleanup;
    ret = drift_last_of(r, fp, e);
cleanup:
    db_rows_free(r);
    buf_release(&sql);
    buf_release(&name);
    return ret;
}

int
drift_load_last(struct db *db, const struct history_ctx *h, struct drift_fingerprint *fp,
                struct db_error *e)
{
    return load_last(db, h, 1, 0, fp, e);
}

int
drift_load_last_head(struct db *db, const struct history_ctx *h, struct drift_fingerprint *fp,
                     struct db_error *e)
{
    return load_last(db, h, 0, 1, fp, e);
}

/*
 * The SHA-256 of the live schema's canonical text (hex into out), streamed from the server:
 * neither the schema nor its text is held.
 */
static int
live_sha256(struct db *db, const struct history_ctx *h, char out[HASH_SHA256_HEX],
            struct db_error *e)
{
    struct canon_stream c;
    unsigned char digest[HASH_SHA256_BYTES];
    int ret;

    canon_stream_init(&c, NULL);
    canon_stream_add(&c, DRIFT_CANON_HEADER, strlen(DRIFT_CANON_HEADER));
    ret = snapshot_each(db, h->schema, 0, SNAPSHOT_FULL_BODIES | SNAPSHOT_NO_WAIT,
                        canon_stream_item, &c, e);
    hash_sha256_final(&c.h, digest);
    hex_encode(out, digest, HASH_SHA256_BYTES);
    canon_stream_release(&c);
    return ret;
}

/*
 * The SHA-256 (hex) of the canonical text of s: only on the drifted path, where s is held whole
 * anyway, so its text may be too (drift_canonical, the one writer of the text from a snapshot).
 */
static void
snapshot_sha256(const struct snapshot *s, char out[HASH_SHA256_HEX])
{
    struct buf canon = BUF_INIT;
    unsigned char digest[HASH_SHA256_BYTES];

    drift_canonical(s, &canon);
    hash_sha256(canon.data, canon.len, digest);
    hex_encode(out, digest, HASH_SHA256_BYTES);
    buf_release(&canon);
}

/* The states a fingerprint decides without the live schema; 0 when it must be compared. */
static int
settled_without_live(struct drift_result *r)
{
    if (!r->fp.found)
        r->state = DRIFT_NO_FINGERPRINT;
    else if (r->fp.later_moves > 0 || r->fp.later_progress > 0)
        r->state = DRIFT_STALE;
    else
        return 0;
    return 1;
}

int
drift_compare(struct db *db, const struct history_ctx *h, const char *const *ignore, size_t nignore,
              struct drift_result *r, struct db_error *e)
{
    r->ignore = ignore;
    r->nignore = nignore;
    /*
     * Hashes first: most databases have not drifted, and then neither the stored snapshot
     * nor the live one is needed whole (each is the size of the schema).
     */
    if (load_last(db, h, 0, 0, &r->fp, e) != 0)
        return -1;
    if (settled_without_live(r))
        return 0;
    if (live_sha256(db, h, r->live_sha256, e) != 0)
        return -1;
    if (strcmp(r->live_sha256, r->fp.sha256) == 0) {
        r->state = DRIFT_NONE;
        return 0;
    }
    /* Drifted: the stored snapshot and the live one, whole, for the differences. */
    if (drift_load_last(db, h, &r->fp, e) != 0)
        return -1;
    if (settled_without_live(r))
        return 0;
    if (snapshot_take_flags(db, h->schema, 0, SNAPSHOT_FULL_BODIES | SNAPSHOT_NO_WAIT, &r->live,
                            e) != 0)
        return -1;
    /* The comparison describes this snapshot (the schema may have moved since the hash). */
    snapshot_sha256(&r->live, r->live_sha256);
    if (strcmp(r->live_sha256, r->fp.sha256) == 0) {
        r->state = DRIFT_NONE;
        return 0;
    }
    if (!r->fp.kept) {
        r->state = DRIFT_HASH_ONLY;
        r->ignore_unapplied = nignore > 0;
        return 0;
    }
    drift_filter(&r->fp.snap, ignore, nignore);
    drift_filter(&r->live, ignore, nignore);
    snapshot_diff(&r->fp.snap, &r->live, &r->diff);
    r->state = r->diff.n ? DRIFT_FOUND : DRIFT_NONE;
    return 0;
}
