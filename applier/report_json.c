/*
 * report_json.c: the auditor's report as one JSON object, the HTML report's twin (report.h).
 * Its schema, field by field, is docs/report.md; REPORT_FORMAT_VERSION numbers it.
 * Layer: applier.
 */
#include "report.h"
#include "sealift/describe.h"
#include "sealift/json.h"
#include "sealift/version.h"

#include <string.h>

/* A number column: its text as it is (PostgreSQL's), or null. */
static void
num(struct buf *b, const char *key, const char *v)
{
    json_key(b, key, 0);
    buf_addstr(b, v && v[0] ? v : "null");
}

static void
str(struct buf *b, const char *key, const char *v)
{
    json_key(b, key, 0);
    json_str(b, v);
}

struct signer_lists {
    struct buf verified, not_verified;
};

static void
list_cb(void *data, const char *keyid, size_t len, int verified)
{
    struct signer_lists *l = data;
    struct buf *b = verified ? &l->verified : &l->not_verified;

    buf_addch(b, b->len ? ',' : '[');
    json_strn(b, keyid, len);
}

/* "signers":{"verified":[...],"not_verified":[...],"text":"..."} */
static void
signers(struct buf *b, const char *text)
{
    struct signer_lists l = {BUF_INIT, BUF_INIT};

    report_each_signer(text, list_cb, &l);
    json_key(b, "signers", 0);
    buf_addch(b, '{');
    json_key(b, "verified", 1);
    buf_addf(b, "%s]", l.verified.len ? l.verified.data : "[");
    json_key(b, "not_verified", 0);
    buf_addf(b, "%s]", l.not_verified.len ? l.not_verified.data : "[");
    str(b, "text", text);
    buf_addch(b, '}');
    buf_release(&l.verified);
    buf_release(&l.not_verified);
}

static void
database(const struct report *r, struct buf *b)
{
    json_key(b, "database", 0);
    buf_addch(b, '{');
    json_key(b, "name", 1);
    json_str(b, db_value(r->server, 0, 0));
    str(b, "user", db_value(r->server, 0, 1));
    str(b, "server_version", db_value(r->server, 0, 2));
    buf_addch(b, '}');
    json_key(b, "history", 0);
    buf_addch(b, '{');
    json_key(b, "schema", 1);
    json_str(b, r->o->schema);
    json_key(b, "exists", 0);
    buf_addstr(b, r->schema_exists ? "true" : "false");
    num(b, "version", r->schema_exists ? report_meta(r, "history_version") : NULL);
    buf_addch(b, '}');
    json_key(b, "verification", 0);
    buf_addch(b, '{');
    json_key(b, "intact", 1);
    buf_addstr(b, r->intact == 1 ? "true" : r->intact == 0 ? "false" : "null");
    str(b, "verdict", r->verdict.data);
    json_key(b, "problems", 0);
    buf_addch(b, '[');
    for (const char *p = r->verdict.data, *nl; r->intact == 0 && p && *p; p = nl ? nl + 1 : NULL) {
        nl = strchr(p, '\n');
        if (p != r->verdict.data)
            buf_addch(b, ',');
        json_strn(b, p, nl ? (size_t)(nl - p) : strlen(p));
    }
    buf_addch(b, ']');
    str(b, "witness", r->o->witness);
    json_key(b, "head", 0);
    if (r->schema_exists)
        buf_addf(b, "{\"seq\":%lld,\"hash\":\"%s\"}", r->head.seq, r->head.hash);
    else
        buf_addstr(b, "null");
    buf_addch(b, '}');
}

static void
projects(const struct report *r, struct buf *b)
{
    json_key(b, "projects", 0);
    buf_addch(b, '[');
    for (size_t i = 0; i < report_rows(r->projects); i++) {
        buf_addstr(b, i ? ",{" : "{");
        json_key(b, "project", 1);
        json_str(b, db_value(r->projects, i, 0));
        str(b, "environment", db_value(r->projects, i, 1));
        num(b, "max_serial", db_value(r->projects, i, 2));
        num(b, "applied", db_value(r->projects, i, 3));
        str(b, "head", db_value(r->projects, i, 4));
        buf_addch(b, '}');
    }
    buf_addch(b, ']');
}

static void
events(const struct report *r, struct buf *b)
{
    const struct db_rows *e = r->events;

    json_key(b, "events", 0);
    buf_addch(b, '[');
    for (size_t i = 0; i < report_rows(e); i++) {
        buf_addstr(b, i ? ",{" : "{");
        json_key(b, "seq", 1);
        buf_addstr(b, db_value(e, i, RE_SEQ));
        str(b, "at", db_value(e, i, RE_AT));
        str(b, "event", db_value(e, i, RE_EVENT));
        str(b, "project", db_value(e, i, RE_PROJECT));
        str(b, "migration", db_value(e, i, RE_MIGRATION));
        num(b, "ordinal", db_value(e, i, RE_ORDINAL));
        str(b, "bundle", db_value(e, i, RE_BUNDLE));
        num(b, "serial", db_value(e, i, RE_SERIAL));
        signers(b, db_value(e, i, RE_SIGNERS));
        str(b, "environment", db_value(e, i, RE_ENVIRONMENT));
        str(b, "actor", db_value(e, i, RE_ACTOR));
        str(b, "host", db_value(e, i, RE_HOST));
        num(b, "duration_ms", r->event_duration_ms ? r->event_duration_ms[i] : NULL);
        str(b, "detail", db_value(e, i, RE_DETAIL));
        str(b, "hash", db_value(e, i, RE_HASH));
        buf_addch(b, '}');
    }
    buf_addch(b, ']');
}

static void
applied(const struct report *r, struct buf *b)
{
    const struct db_rows *a = r->applied;

    json_key(b, "applied", 0);
    buf_addch(b, '[');
    for (size_t i = 0; i < report_rows(a); i++) {
        buf_addstr(b, i ? ",{" : "{");
        json_key(b, "project", 1);
        json_str(b, db_value(a, i, RA_PROJECT));
        num(b, "ordinal", db_value(a, i, RA_ORDINAL));
        str(b, "migration", db_value(a, i, RA_ID));
        str(b, "name", db_value(a, i, RA_NAME));
        str(b, "how", db_value(a, i, RA_HOW));
        str(b, "at", db_value(a, i, RA_AT));
        str(b, "by", db_value(a, i, RA_BY));
        str(b, "host", db_value(a, i, RA_HOST));
        num(b, "duration_ms", db_value(a, i, RA_DURATION));
        str(b, "bundle", db_value(a, i, RA_BUNDLE));
        num(b, "serial", db_value(a, i, RA_SERIAL));
        signers(b, db_value(a, i, RA_SIGNERS));
        str(b, "environment", db_value(a, i, RA_ENVIRONMENT));
        json_key(b, "checksums", 0);
        buf_addch(b, '{');
        json_key(b, "up_source_sha256", 1);
        json_str(b, db_value(a, i, RA_UP_SOURCE));
        str(b, "down_source_sha256", db_value(a, i, RA_DOWN_SOURCE));
        str(b, "up_sha256", db_value(a, i, RA_UP_SHA));
        str(b, "chain", db_value(a, i, RA_CHAIN));
        buf_addstr(b, "}}");
    }
    buf_addch(b, ']');
}

static void
scripts(const struct report_bundle *rb, const struct manifest_migration *mig, struct buf *b)
{
    char hex[HASH_SHA256_HEX];
    int first = 1;

    json_key(b, "scripts", 0);
    buf_addch(b, '[');
    for (int k = 0; k < MANIFEST_NSCRIPTS; k++) {
        const struct manifest_script *s = &mig->script[k];
        const struct manifest_member *mem;

        if (!s->present)
            continue;
        mem = &rb->res.manifest.members[s->member];
        buf_addstr(b, first ? "{" : ",{");
        first = 0;
        json_key(b, "kind", 1);
        json_str(b, manifest_script_label(k));
        json_key(b, "transaction", 0);
        buf_addstr(b, s->transactional ? "true" : "false");
        str(b, "member", mem->path);
        str(b, "sha256", hex_encode(hex, mem->sha256, HASH_SHA256_BYTES));
        str(b, "source_sha256", hex_encode(hex, s->source, HASH_SHA256_BYTES));
        json_key(b, "statements", 0);
        buf_addf(b, "%zu", s->nstmts);
        json_key(b, "sql", 0);
        json_strn(b, rb->res.data[s->member].data, rb->res.data[s->member].len);
        buf_addch(b, '}');
    }
    buf_addch(b, ']');
}

/* The lint findings, each as inspect and status write one (describe.h). */
static void
findings(const struct manifest_migration *mig, struct buf *b)
{
    json_key(b, "findings", 0);
    buf_addch(b, '[');
    for (size_t k = 0; k < mig->nfindings; k++) {
        if (k)
            buf_addch(b, ',');
        describe_finding_json(b, &mig->findings[k], NULL, 0);
    }
    buf_addch(b, ']');
}

static void
bundle(const struct report_bundle *rb, struct buf *b)
{
    const struct manifest *m = &rb->res.manifest;
    char hex[HASH_SHA256_HEX], id[SIG_KEYID_HEX];

    json_key(b, "path", 1);
    json_str(b, rb->path);
    str(b, "bundle_id", rb->id);
    str(b, "project", m->project);
    buf_addf(b, ",\"serial\":%llu", (unsigned long long)m->serial);
    str(b, "environment", m->environment);
    str(b, "created", m->created);
    str(b, "compiler", m->compiler);
    str(b, "source", m->source);
    json_key(b, "signatures", 0);
    buf_addch(b, '[');
    for (size_t k = 0; k < rb->res.nsigs; k++)
        buf_addf(b, "%s{\"key_id\":\"%s\",\"trusted\":%s,\"verified\":%s}", k ? "," : "",
                 sig_keyid_hex(id, rb->res.sigs[k].keyid),
                 rb->res.sigs[k].trusted ? "true" : "false",
                 rb->res.sigs[k].valid ? "true" : "false");
    buf_addch(b, ']');
    /* The provenance member's text, as inspect --json carries it (null: none). */
    json_key(b, "provenance", 0);
    {
        long idx = m->provenance ? manifest_find_member(m, m->provenance) : -1;

        if (idx < 0)
            buf_addstr(b, "null");
        else
            json_strn(b, rb->res.data[idx].data, rb->res.data[idx].len);
    }
    json_key(b, "drift", 0);
    buf_addf(b, "{\"drifted\":%s,\"applied\":%zu,\"after_head\":%zu",
             rb->view.drift ? "true" : "false", rb->view.nrecorded, rb->view.ahead);
    str(b, "problems", rb->view.drift ? rb->view.problems.data : NULL);
    buf_addch(b, '}');
    json_key(b, "migrations", 0);
    buf_addch(b, '[');
    for (size_t i = 0; i < m->nmigrations; i++) {
        const struct manifest_migration *mig = &m->migrations[i];
        int drifted = report_migration_drifted(rb, i);

        buf_addstr(b, i ? ",{" : "{");
        json_key(b, "id", 1);
        json_str(b, mig->id);
        str(b, "name", mig->name);
        str(b, "state", drifted ? "drifted" : i < rb->view.nrecorded ? "applied" : "not_applied");
        str(b, "chain", hex_encode(hex, mig->chain, HASH_SHA256_BYTES));
        scripts(rb, mig, b);
        findings(mig, b);
        buf_addch(b, '}');
    }
    buf_addstr(b, "]");
}

static void
trust(const struct report *r, struct buf *b)
{
    char id[SIG_KEYID_HEX];

    json_key(b, "trust", 0);
    buf_addf(b, "{\"threshold\":%u,\"keys\":[", r->o->ring.n ? r->o->threshold : 0);
    for (size_t i = 0; i < r->o->ring.n; i++)
        buf_addf(b, "%s\"%s\"", i ? "," : "", sig_keyid_hex(id, r->o->ring.keys[i].keyid));
    buf_addstr(b, "],\"journal_signers\":[");
    for (size_t i = 0; i < r->nsigners; i++) {
        buf_addstr(b, i ? ",{" : "{");
        json_key(b, "key_id", 1);
        json_str(b, r->signers[i].keyid);
        buf_addf(b, ",\"verified_events\":%zu,\"unverified_events\":%zu}", r->signers[i].verified,
                 r->signers[i].unverified);
    }
    buf_addstr(b, "]}");
}

void
report_json(const struct report *r, FILE *f)
{
    struct buf b = BUF_INIT;

    buf_addch(&b, '{');
    json_key(&b, "report_format", 1);
    buf_addf(&b, "%d", REPORT_FORMAT_VERSION);
    str(&b, "generator", "sealift-apply " SEALIFT_VERSION);
    str(&b, "generated_at", db_value(r->server, 0, 3));
    database(r, &b);
    projects(r, &b);
    events(r, &b);
    applied(r, &b);
    json_key(&b, "bundles", 0);
    buf_addch(&b, '[');
    for (size_t i = 0; i < r->nbundles; i++) {
        buf_addstr(&b, i ? ",{" : "{");
        bundle(&r->bundles[i], &b);
        buf_addch(&b, '}');
    }
    buf_addch(&b, ']');
    trust(r, &b);
    buf_addstr(&b, "}\n");
    fwrite(b.data, 1, b.len, f);
    buf_release(&b);
}
