/*
 * describe.c: text and JSON descriptions of a verified bundle.
 * Layer: lib (formats into a buf; never prints).
 */
#include "sealift/describe.h"
#include "sealift/json.h"
#include "sealift/table.h"

#include <stdio.h>
#include <string.h>

static const char *
signature_state(const struct verify_signature *s, int trust_checked)
{
    if (!trust_checked)
        return "not checked (give -p to verify)";
    if (s->valid)
        return "verified";
    return "not a trusted key";
}

static void
add_signers(const struct verify_result *res, struct buf *out, int valid_only)
{
    char id[SIG_KEYID_HEX];
    int first = 1;

    for (size_t i = 0; i < res->nsigs; i++) {
        if (valid_only && !res->sigs[i].valid)
            continue;
        buf_addf(out, "%s%s", first ? "" : ", ", sig_keyid_hex(id, res->sigs[i].keyid));
        first = 0;
    }
}

void
describe_verified(const char *path, const struct verify_result *res, struct buf *out)
{
    const struct manifest *m = &res->manifest;

    buf_addf(out,
             "%s: verified: project %s, serial %llu, environment %s, %zu migrations, head %s; "
             "signed by ",
             path, m->project, (unsigned long long)m->serial,
             m->environment ? m->environment : "(any)", m->nmigrations,
             m->migrations[m->nmigrations - 1].id);
    add_signers(res, out, 1);
    if (m->expires)
        buf_addf(out, "; expires %s", m->expires);
    buf_addch(out, '\n');
}

static void text_findings(const struct manifest *m, struct buf *out);

static const char *
mode_label(const struct manifest_script *s)
{
    if (!s->present)
        return "-";
    return s->transactional ? "tx" : "no-tx";
}

/* The down column of a migration: its mode, or "irreversible" when there is no down script. */
static const char *
down_label(const struct manifest_migration *mig)
{
    return mig->script[MANIFEST_DOWN].present ? mode_label(&mig->script[MANIFEST_DOWN])
                                              : "irreversible";
}

/* One row per migration under a header; every column as wide as its longest cell. */
static void
add_migration_table(const struct manifest *m, struct buf *out)
{
    struct table t;

    table_init(&t, 6, "");
    table_column(&t, 0, TABLE_RIGHT, 6);
    table_cell(&t, "#");
    table_cell(&t, "id");
    table_cell(&t, "name");
    table_cell(&t, "up");
    table_cell(&t, "down");
    table_cell(&t, "verify");
    for (size_t i = 0; i < m->nmigrations; i++) {
        const struct manifest_migration *mig = &m->migrations[i];

        table_cell(&t, "%zu", i + 1);
        table_cell(&t, "%s", mig->id);
        table_cell(&t, "%s", mig->name);
        table_cell(&t, "%s", mode_label(&mig->script[MANIFEST_UP]));
        table_cell(&t, "%s", down_label(mig));
        table_cell(&t, "%s", mig->script[MANIFEST_VERIFY].present ? "yes" : "-");
    }
    buf_addch(out, '\n');
    table_format(&t, out);
    table_release(&t);
}

/* Every member: path, size and the first DESCRIBE_SHA_PREFIX hex digits of its SHA-256. */
static void
add_member_table(const struct manifest *m, struct buf *out)
{
    char hex[HASH_SHA256_HEX];
    struct table t;

    table_init(&t, 3, "  ");
    table_column(&t, 1, TABLE_RIGHT, 0);
    table_cell(&t, "member");
    table_cell(&t, "size");
    table_cell(&t, "sha256");
    for (size_t i = 0; i < m->nmembers; i++) {
        hex_encode(hex, m->members[i].sha256, HASH_SHA256_BYTES);
        hex[DESCRIBE_SHA_PREFIX] = '\0';
        table_cell(&t, "%s", m->members[i].path);
        table_cell(&t, "%llu", (unsigned long long)m->members[i].size);
        table_cell(&t, "%s", hex);
    }
    buf_addf(out, "\nmembers      %zu\n", m->nmembers);
    table_format(&t, out);
    table_release(&t);
}

/*
 * The repeatables in the order they run, under a header like the migrations'. Their names
 * run long (a Liquibase changeset is author:id@file), so the columns fit the longest.
 */
static void
add_repeatable_table(const struct manifest *m, struct buf *out)
{
    char hex[HASH_SHA256_HEX];
    struct table t;

    if (m->nrepeatables == 0)
        return;
    table_init(&t, 4, "");
    table_column(&t, 0, TABLE_RIGHT, 6);
    table_cell(&t, "#");
    table_cell(&t, "name");
    table_cell(&t, "up");
    table_cell(&t, "checksum");
    for (size_t i = 0; i < m->nrepeatables; i++) {
        const struct manifest_migration *r = &m->repeatables[i];

        table_cell(&t, "%zu", i + 1);
        table_cell(&t, "%s", r->id);
        table_cell(&t, "%s", mode_label(&r->script[MANIFEST_UP]));
        table_cell(&t, "%s", hex_encode(hex, r->chain, HASH_SHA256_BYTES));
    }
    buf_addf(out,
             "\nrepeatables  %zu (after the migrations, in this order, each when its checksum "
             "differs from the one the database last ran)\n",
             m->nrepeatables);
    table_format(&t, out);
    table_release(&t);
}

/*
 * The provenance member's bytes, when the bundle has one and they were kept (keep_data), else
 * NULL; *idx is its member index (-1: none).
 */
static const struct buf *
provenance_data(const struct verify_result *res, long *idx)
{
    *idx = res->manifest.provenance ? manifest_find_member(&res->manifest, res->manifest.provenance)
                                    : -1;
    return *idx >= 0 && res->data ? &res->data[*idx] : NULL;
}

/*
 * The provenance section: the member, then its text as it is (the build wrote it indented),
 * with any control byte but the newline shown as \xHH: the text comes from the bundle.
 */
static void
text_provenance(const struct verify_result *res, struct buf *out)
{
    long idx;
    const struct buf *data = provenance_data(res, &idx);
    char hex[HASH_SHA256_HEX];

    if (idx < 0)
        return;
    buf_addf(out, "\nprovenance   %s (in-toto Statement, SLSA provenance), %llu bytes, sha256 %s\n",
             res->manifest.provenance, (unsigned long long)res->manifest.members[idx].size,
             hex_encode(hex, res->manifest.members[idx].sha256, HASH_SHA256_BYTES));
    for (size_t i = 0; data && i < data->len; i++) {
        unsigned char c = (unsigned char)data->data[i];

        if (c == '\n' || (c >= 0x20 && c != 0x7f))
            buf_addch(out, (char)c);
        else
            buf_addf(out, "\\x%02x", c);
    }
}

/*
 * The bundle's facts, a label and a value a line: the values start where the longest label
 * ends ("key statements" is longer than the others when the bundle has them).
 */
static void
add_facts(const char *path, const struct verify_result *res, int trust_checked, struct buf *out)
{
    const struct manifest *m = &res->manifest;
    char hex[HASH_SHA256_HEX];
    char id[SIG_KEYID_HEX];
    struct table t;

    table_init(&t, 2, "");
    table_cell(&t, "bundle");
    table_cell(&t, "%s", path);
    table_cell(&t, "id");
    table_cell(&t, "%s", hex_encode(hex, res->bundle_id, HASH_SHA256_BYTES));
    table_cell(&t, "format");
    table_cell(&t, "sealift bundle v%s, %s, %llu bytes", manifest_version(m),
               codec_name(res->compression), (unsigned long long)res->file_size);
    table_cell(&t, "project");
    table_cell(&t, "%s", m->project);
    table_cell(&t, "serial");
    table_cell(&t, "%llu", (unsigned long long)m->serial);
    table_cell(&t, "environment");
    table_cell(&t, "%s", m->environment ? m->environment : "(any)");
    table_cell(&t, "created");
    table_cell(&t, "%s", m->created);
    table_cell(&t, "compiler");
    table_cell(&t, "%s", m->compiler);
    table_cell(&t, "source");
    table_cell(&t, "%s", m->source);
    table_cell(&t, "expires");
    table_cell(&t, "%s", m->expires ? m->expires : "never");
    for (size_t i = 0; i < m->nkeystmts; i++) {
        table_cell(&t, "%s", i == 0 ? "key statements" : "");
        table_cell(&t, "%s", m->members[m->keystmts[i]].path);
    }
    for (size_t i = 0; i < res->nsigs; i++) {
        table_cell(&t, "%s", i == 0 ? "signatures" : "");
        table_cell(&t, "%s %s", sig_keyid_hex(id, res->sigs[i].keyid),
                   signature_state(&res->sigs[i], trust_checked));
    }
    table_cell(&t, "migrations");
    table_cell(&t, "%zu (head %s, chain %s)", m->nmigrations, m->migrations[m->nmigrations - 1].id,
               hex_encode(hex, m->migrations[m->nmigrations - 1].chain, HASH_SHA256_BYTES));
    table_format(&t, out);
    table_release(&t);
}

void
describe_text(const char *path, const struct verify_result *res, int trust_checked, struct buf *out)
{
    const struct manifest *m = &res->manifest;

    add_facts(path, res, trust_checked, out);
    add_migration_table(m, out);
    add_member_table(m, out);
    add_repeatable_table(m, out);
    text_findings(m, out);
    text_provenance(res, out);
}

/* Migration i of m, then its repeatables (i - nmigrations): the order findings are listed. */
static const struct manifest_migration *
finding_owner(const struct manifest *m, size_t i)
{
    return i < m->nmigrations ? &m->migrations[i] : &m->repeatables[i - m->nmigrations];
}

/* The findings of the migrations and the repeatables, and how many of them were allowed. */
static size_t
count_findings(const struct manifest *m, size_t *allowed)
{
    size_t n = 0;

    for (size_t i = 0; i < m->nmigrations + m->nrepeatables; i++) {
        const struct manifest_migration *mig = finding_owner(m, i);

        n += mig->nfindings;
        for (size_t f = 0; allowed && f < mig->nfindings; f++)
            *allowed += mig->findings[f].allowed != NULL;
    }
    return n;
}

/*
 * The lint findings signed into the bundle, per migration then per repeatable (nothing when
 * there are none): one row each (migration, script:line:column, severity[rule], what it
 * does), the reason that allowed it on a line of its own under it.
 */
static void
text_findings(const struct manifest *m, struct buf *out)
{
    size_t allowed = 0, n = count_findings(m, &allowed);
    struct buf what = BUF_INIT;
    struct table t;

    if (n == 0)
        return;
    table_init(&t, 4, "  ");
    for (size_t i = 0; i < m->nmigrations + m->nrepeatables; i++) {
        const struct manifest_migration *mig = finding_owner(m, i);

        for (size_t f = 0; f < mig->nfindings; f++) {
            const struct manifest_finding *fd = &mig->findings[f];

            buf_reset(&what);
            if (fd->lock)
                buf_addf(&what, "%s on %s", fd->lock, fd->relation ? fd->relation : "?");
            else if (fd->relation)
                buf_addf(&what, "on %s", fd->relation);
            if (fd->rewrites)
                buf_addstr(&what, ", rewrites the table");
            if (fd->scans)
                buf_addstr(&what, ", scans the table");
            if (i < m->nmigrations)
                table_cell(&t, "%s%s%s", mig->id, mig->name[0] ? "_" : "", mig->name);
            else
                table_cell(&t, "repeatable %s", mig->id);
            table_cell(&t, "%s:%u:%u", manifest_script_label((enum manifest_script_kind)fd->kind),
                       fd->line, fd->col);
            table_cell(&t, "%s[%s]", fd->allowed ? "allowed" : fd->severity, fd->rule);
            table_cell(&t, "%s%s%s", what.data, what.len ? ": " : "", fd->message);
            if (fd->allowed)
                table_note(&t, "    allowed: %s", fd->allowed);
        }
    }
    buf_addf(out, "\nlint findings %zu (%zu allowed)\n", n, allowed);
    table_format(&t, out);
    table_release(&t);
    buf_release(&what);
}

void
describe_finding_json(struct buf *out, const struct manifest_finding *fd, const char *migration,
                      int repeatable)
{
    buf_addch(out, '{');
    if (migration) {
        json_key(out, "migration", 1);
        json_str(out, migration);
        json_key(out, "repeatable", 0);
        buf_addstr(out, repeatable ? "true" : "false");
    }
    json_key(out, "script", migration == NULL);
    json_str(out, manifest_script_label((enum manifest_script_kind)fd->kind));
    json_key(out, "line", 0);
    buf_addf(out, "%u", fd->line);
    json_key(out, "column", 0);
    buf_addf(out, "%u", fd->col);
    json_key(out, "rule", 0);
    json_str(out, fd->rule);
    json_key(out, "severity", 0);
    json_str(out, fd->severity);
    json_key(out, "message", 0);
    json_str(out, fd->message);
    json_key(out, "relation", 0);
    json_str(out, fd->relation);
    json_key(out, "relation_created_by", 0);
    json_str(out, fd->created_by);
    json_key(out, "lock_mode", 0);
    json_str(out, fd->lock);
    json_key(out, "rewrites", 0);
    buf_addstr(out, fd->rewrites ? "true" : "false");
    json_key(out, "scans", 0);
    buf_addstr(out, fd->scans ? "true" : "false");
    json_key(out, "allowed", 0);
    json_str(out, fd->allowed);
    buf_addch(out, '}');
}

static void
json_hex(struct buf *out, const unsigned char *bin, size_t len)
{
    char hex[2 * 64 + 1];

    json_str(out, hex_encode(hex, bin, len));
}

static void
json_script(struct buf *out, const struct manifest *m, const struct manifest_script *s)
{
    const struct manifest_member *mem;

    if (!s->present) {
        buf_addstr(out, "null");
        return;
    }
    mem = &m->members[s->member];
    buf_addch(out, '{');
    json_key(out, "member", 1);
    json_str(out, mem->path);
    json_key(out, "size", 0);
    buf_addf(out, "%llu", (unsigned long long)mem->size);
    json_key(out, "sha256", 0);
    json_hex(out, mem->sha256, HASH_SHA256_BYTES);
    json_key(out, "source_sha256", 0);
    json_hex(out, s->source, HASH_SHA256_BYTES);
    json_key(out, "transaction", 0);
    buf_addstr(out, s->transactional ? "true" : "false");
    json_key(out, "statements", 0);
    buf_addf(out, "%zu", s->nstmts);
    buf_addch(out, '}');
}

void
describe_json(const char *path, const struct verify_result *res, int trust_checked, struct buf *out)
{
    const struct manifest *m = &res->manifest;
    char id[SIG_KEYID_HEX];

    buf_addch(out, '{');
    json_key(out, "bundle", 1);
    json_str(out, path);
    json_key(out, "id", 0);
    json_hex(out, res->bundle_id, HASH_SHA256_BYTES);
    json_key(out, "format_version", 0);
    buf_addf(out, "%d", MANIFEST_FORMAT_VERSION);
    json_key(out, "lint_findings", 0);
    buf_addf(out, "%zu", count_findings(m, NULL));
    json_key(out, "compression", 0);
    json_str(out, codec_name(res->compression));
    json_key(out, "size", 0);
    buf_addf(out, "%llu", (unsigned long long)res->file_size);
    json_key(out, "project", 0);
    json_str(out, m->project);
    json_key(out, "serial", 0);
    buf_addf(out, "%llu", (unsigned long long)m->serial);
    json_key(out, "environment", 0);
    json_str(out, m->environment);
    json_key(out, "created", 0);
    json_str(out, m->created);
    json_key(out, "compiler", 0);
    json_str(out, m->compiler);
    json_key(out, "source", 0);
    json_str(out, m->source);
    json_key(out, "expires", 0);
    json_str(out, m->expires);
    json_key(out, "key_statements", 0);
    buf_addch(out, '[');
    for (size_t i = 0; i < m->nkeystmts; i++) {
        buf_addstr(out, i ? "," : "");
        json_str(out, m->members[m->keystmts[i]].path);
    }
    buf_addch(out, ']');
    json_key(out, "signatures_checked", 0);
    buf_addstr(out, trust_checked ? "true" : "false");
    json_key(out, "signatures", 0);
    buf_addch(out, '[');
    for (size_t i = 0; i < res->nsigs; i++) {
        const struct verify_signature *s = &res->sigs[i];

        buf_addstr(out, i ? ",{" : "{");
        json_key(out, "key_id", 1);
        json_str(out, sig_keyid_hex(id, s->keyid));
        json_key(out, "member", 0);
        json_str(out, s->member);
        json_key(out, "trusted", 0);
        buf_addstr(out, s->trusted ? "true" : "false");
        json_key(out, "valid", 0);
        buf_addstr(out, s->valid ? "true" : (trust_checked && s->trusted ? "false" : "null"));
        json_key(out, "trusted_comment", 0);
        json_str(out, s->trusted_comment);
        buf_addch(out, '}');
    }
    buf_addch(out, ']');
    json_key(out, "head", 0);
    json_str(out, m->migrations[m->nmigrations - 1].id);
    json_key(out, "migrations", 0);
    buf_addch(out, '[');
    for (size_t i = 0; i < m->nmigrations; i++) {
        const struct manifest_migration *mig = &m->migrations[i];

        buf_addstr(out, i ? ",{" : "{");
        json_key(out, "ordinal", 1);
        buf_addf(out, "%zu", i + 1);
        json_key(out, "id", 0);
        json_str(out, mig->id);
        json_key(out, "name", 0);
        json_str(out, mig->name);
        json_key(out, "origin", 0);
        json_str(out, mig->origin);
        json_key(out, "reversible", 0);
        buf_addstr(out, mig->script[MANIFEST_DOWN].present ? "true" : "false");
        for (int k = 0; k < MANIFEST_NSCRIPTS; k++) {
            json_key(out, manifest_script_label((enum manifest_script_kind)k), 0);
            json_script(out, m, &mig->script[k]);
        }
        json_key(out, "findings", 0);
        buf_addch(out, '[');
        for (size_t f = 0; f < mig->nfindings; f++) {
            if (f)
                buf_addch(out, ',');
            describe_finding_json(out, &mig->findings[f], NULL, 0);
        }
        buf_addch(out, ']');
        json_key(out, "chain", 0);
        json_hex(out, mig->chain, HASH_SHA256_BYTES);
        buf_addch(out, '}');
    }
    buf_addch(out, ']');
    /* Only in bundles that have them (format 1.2), so that older bundles describe as before. */
    if (m->nrepeatables > 0) {
        json_key(out, "repeatables", 0);
        buf_addch(out, '[');
        for (size_t i = 0; i < m->nrepeatables; i++) {
            const struct manifest_migration *r = &m->repeatables[i];

            buf_addstr(out, i ? ",{" : "{");
            json_key(out, "name", 1);
            json_str(out, r->id);
            json_key(out, "origin", 0);
            json_str(out, r->origin);
            json_key(out, "up", 0);
            json_script(out, m, &r->script[MANIFEST_UP]);
            json_key(out, "findings", 0);
            buf_addch(out, '[');
            for (size_t f = 0; f < r->nfindings; f++) {
                if (f)
                    buf_addch(out, ',');
                describe_finding_json(out, &r->findings[f], NULL, 1);
            }
            buf_addch(out, ']');
            json_key(out, "checksum", 0);
            json_hex(out, r->chain, HASH_SHA256_BYTES);
            buf_addch(out, '}');
        }
        buf_addch(out, ']');
    }
    /* The statement as a JSON string (jq: .provenance.statement | fromjson): sealift writes
     * JSON and never parses it, so it passes on the member's text as text. */
    json_key(out, "provenance", 0);
    {
        long idx;
        const struct buf *data = provenance_data(res, &idx);

        if (idx < 0) {
            buf_addstr(out, "null");
        } else {
            buf_addch(out, '{');
            json_key(out, "member", 1);
            json_str(out, m->provenance);
            json_key(out, "sha256", 0);
            json_hex(out, m->members[idx].sha256, HASH_SHA256_BYTES);
            json_key(out, "statement", 0);
            if (data)
                json_strn(out, data->data, data->len);
            else
                buf_addstr(out, "null");
            buf_addch(out, '}');
        }
    }
    json_key(out, "members", 0);
    buf_addch(out, '[');
    for (size_t i = 0; i < m->nmembers; i++) {
        buf_addstr(out, i ? ",{" : "{");
        json_key(out, "path", 1);
        json_str(out, m->members[i].path);
        json_key(out, "size", 0);
        buf_addf(out, "%llu", (unsigned long long)m->members[i].size);
        json_key(out, "sha256", 0);
        json_hex(out, m->members[i].sha256, HASH_SHA256_BYTES);
        buf_addch(out, '}');
    }
    buf_addstr(out, "]}\n");
}
