/*
 * manifest.c: bundle manifest v1: strict parser, canonical emitter, chain hash.
 * Layer: lib. Pure: no file or archive I/O. The grammar is bundles/FORMAT.md, "The manifest".
 */
#include "sealift/manifest.h"
#include "sealift/memberpath.h"
#include "sealift/version.h"
#include "sealift/xalloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HEADER_LINE "# sealift-manifest 1"
/* The header of a manifest with lint records (minor version 1). */
#define HEADER_LINE_1_1 "# sealift-manifest 1.1"
/* Repeatables (minor version 2, which may also have lint records). */
#define HEADER_LINE_REP "# sealift-manifest " MANIFEST_REPEATABLES_VERSION
/* Expiry and key statements (minor version 3; lint records and repeatables optional). */
#define HEADER_LINE_TRUST "# sealift-manifest " MANIFEST_TRUST_VERSION
/* Lint records in repeatables (minor version 4; expiry and key statements optional). */
#define HEADER_LINE_REP_LINT "# sealift-manifest " MANIFEST_REPEATABLE_LINT_VERSION
#define VERSIONS_READ                                                                              \
    "1, 1.1, " MANIFEST_REPEATABLES_VERSION ", " MANIFEST_TRUST_VERSION                            \
    " and " MANIFEST_REPEATABLE_LINT_VERSION

static const char *const script_labels[MANIFEST_NSCRIPTS] = {"up", "down", "verify"};

const char *
manifest_script_label(enum manifest_script_kind kind)
{
    return script_labels[kind];
}

void
manifest_init(struct manifest *m)
{
    memset(m, 0, sizeof(*m));
}

static void
migration_release(struct manifest_migration *mig)
{
    free(mig->id);
    free(mig->name);
    free(mig->origin);
    for (size_t f = 0; f < mig->nfindings; f++) {
        struct manifest_finding *fd = &mig->findings[f];

        free(fd->rule);
        free(fd->severity);
        free(fd->lock);
        free(fd->relation);
        free(fd->created_by);
        free(fd->allowed);
        free(fd->message);
    }
    free(mig->findings);
    free(mig->down_blocked);
    for (int k = 0; k < MANIFEST_NSCRIPTS; k++) {
        free(mig->script[k].stmts);
        free(mig->script[k].copies);
    }
}

void
manifest_release(struct manifest *m)
{
    for (size_t i = 0; i < m->nmigrations; i++)
        migration_release(&m->migrations[i]);
    for (size_t i = 0; i < m->nrepeatables; i++)
        migration_release(&m->repeatables[i]);
    for (size_t i = 0; i < m->nmembers; i++)
        free(m->members[i].path);
    free(m->migrations);
    free(m->repeatables);
    free(m->members);
    free(m->index);
    free(m->project);
    free(m->environment);
    free(m->created);
    free(m->compiler);
    free(m->source);
    free(m->expires);
    free(m->keystmts);
    free(m->provenance);
    manifest_init(m);
}

struct manifest_migration *
manifest_add_migration(struct manifest *m, const char *id, const char *name)
{
    struct manifest_migration *mig;

    m->migrations =
        xgrow(m->migrations, &m->migrations_cap, m->nmigrations + 1, sizeof(*m->migrations));
    mig = &m->migrations[m->nmigrations++];
    memset(mig, 0, sizeof(*mig));
    mig->id = xstrdup(id);
    mig->name = xstrdup(name ? name : "");
    return mig;
}

struct manifest_migration *
manifest_add_repeatable(struct manifest *m, const char *name)
{
    struct manifest_migration *r;

    m->repeatables =
        xgrow(m->repeatables, &m->repeatables_cap, m->nrepeatables + 1, sizeof(*m->repeatables));
    r = &m->repeatables[m->nrepeatables++];
    memset(r, 0, sizeof(*r));
    r->id = xstrdup(name);
    r->name = xstrdup("");
    return r;
}

void
manifest_repeatables_fill(struct manifest *m)
{
    for (size_t i = 0; i < m->nrepeatables; i++)
        memcpy(m->repeatables[i].chain,
               m->members[m->repeatables[i].script[MANIFEST_UP].member].sha256, HASH_SHA256_BYTES);
}

/* A hash of a member path, eight bytes at a time (paths are long, and thousands are looked up). */
static size_t
path_hash(const char *s)
{
    size_t n = strlen(s), i = 0;
    uint64_t h = 0x9e3779b97f4a7c15u ^ n, w;

    for (; i + 8 <= n; i += 8) {
        memcpy(&w, s + i, 8);
        h = (h ^ w) * 0xff51afd7ed558ccdu;
        h ^= h >> 32;
    }
    w = 0;
    memcpy(&w, s + i, n - i);
    h = (h ^ w) * 0xc4ceb9fe1a85ec53u;
    h ^= h >> 29;
    return (size_t)h;
}

/* Rebuild the path index at twice the member count (load factor <= 1/2). */
static void
index_rebuild(struct manifest *m)
{
    size_t cap = 16;

    while (cap < m->nmembers * 2 + 2)
        cap *= 2;
    free(m->index);
    m->index = xmalloc(cap * sizeof(*m->index));
    m->index_cap = cap;
    for (size_t i = 0; i < cap; i++)
        m->index[i] = SIZE_MAX;
    for (size_t i = 0; i < m->nmembers; i++) {
        size_t h = m->members[i].path_hash & (cap - 1);

        while (m->index[h] != SIZE_MAX)
            h = (h + 1) & (cap - 1);
        m->index[h] = i;
    }
}

void
manifest_add_keystmt(struct manifest *m, size_t member)
{
    m->keystmts = xgrow(m->keystmts, &m->keystmts_cap, m->nkeystmts + 1, sizeof(*m->keystmts));
    m->keystmts[m->nkeystmts++] = member;
}

size_t
manifest_add_member(struct manifest *m, const char *path, uint64_t size,
                    const unsigned char sha256[HASH_SHA256_BYTES])
{
    struct manifest_member *mem;

    m->members = xgrow(m->members, &m->members_cap, m->nmembers + 1, sizeof(*m->members));
    mem = &m->members[m->nmembers++];
    memset(mem, 0, sizeof(*mem));
    mem->path = xstrdup(path);
    mem->size = size;
    mem->path_hash = path_hash(path);
    memcpy(mem->sha256, sha256, HASH_SHA256_BYTES);
    if (m->nmembers * 2 + 2 > m->index_cap) {
        index_rebuild(m);
    } else {
        size_t h = mem->path_hash & (m->index_cap - 1);

        while (m->index[h] != SIZE_MAX)
            h = (h + 1) & (m->index_cap - 1);
        m->index[h] = m->nmembers - 1;
    }
    return m->nmembers - 1;
}

long
manifest_find_member(const struct manifest *m, const char *path)
{
    size_t h, want;

    if (m->index_cap == 0)
        return -1;
    want = path_hash(path);
    h = want & (m->index_cap - 1);
    while (m->index[h] != SIZE_MAX) {
        const struct manifest_member *mem = &m->members[m->index[h]];

        if (mem->path_hash == want && strcmp(mem->path, path) == 0)
            return (long)m->index[h];
        h = (h + 1) & (m->index_cap - 1);
    }
    return -1;
}

/* s[0, n) with '-' dropped into out (cap bytes), if it then is decimal; else 0. */
static int
dashless_decimal(const char *s, size_t n, char *out, size_t cap)
{
    size_t used = 0;

    for (size_t i = 0; i < n; i++) {
        if (s[i] == '-')
            continue;
        if (used + 1 >= cap)
            return 0;
        out[used++] = s[i];
    }
    out[used] = '\0';
    return version_is_decimal(out, used);
}

/*
 * Does rev name mig the way another tool's file names show it? "V1_1__add_users.sql" (Flyway:
 * version 1.1, "_" read as "."), "0001_add_users" (golang-migrate, goose: version 1), and
 * "2024-01-01-000000_add_users" (diesel: version 20240101000000). A trailing ".sql" and the
 * "_NAME" part are optional; the version part must equal the id as those tools compare it.
 */
static int
tool_name_matches(const char *rev, const struct manifest_migration *mig)
{
    char r[512], k1[256], k2[256];
    size_t n = strlen(rev);
    const char *sep, *name = NULL;

    if (n >= sizeof(r))
        return 0;
    memcpy(r, rev, n + 1);
    if (n > 4 && strcmp(r + n - 4, ".sql") == 0)
        r[n -= 4] = '\0';
    if (r[0] == 'V' && r[1] >= '0' && r[1] <= '9') {
        sep = strstr(r, "__");
        if (sep) {
            name = sep + 2;
            n = (size_t)(sep - r);
        }
        for (size_t i = 1; i < n; i++)
            if (r[i] == '_')
                r[i] = '.';
        return n - 1 == strlen(mig->id) && strncmp(r + 1, mig->id, n - 1) == 0 &&
               (name == NULL || (name[0] && strcmp(name, mig->name) == 0));
    }
    sep = strchr(r, '_');
    if (sep) {
        name = sep + 1;
        n = (size_t)(sep - r);
    }
    return dashless_decimal(r, n, k1, sizeof(k1)) &&
           dashless_decimal(mig->id, strlen(mig->id), k2, sizeof(k2)) && version_same(k1, k2) &&
           (name == NULL || (name[0] && strcmp(name, mig->name) == 0));
}

long
manifest_find_migration(const struct manifest *m, const char *rev)
{
    size_t idlen;

    for (size_t i = 0; i < m->nmigrations; i++)
        if (strcmp(m->migrations[i].id, rev) == 0)
            return (long)i;
    /* "ID_NAME", as native file names show a migration, or the name alone when unique. */
    for (size_t i = 0; i < m->nmigrations; i++) {
        const struct manifest_migration *mig = &m->migrations[i];

        idlen = strlen(mig->id);
        if (mig->name[0] && strncmp(rev, mig->id, idlen) == 0 && rev[idlen] == '_' &&
            strcmp(rev + idlen + 1, mig->name) == 0)
            return (long)i;
    }
    {
        long found = -1;

        for (size_t i = 0; i < m->nmigrations; i++) {
            if (m->migrations[i].name[0] && strcmp(m->migrations[i].name, rev) == 0) {
                if (found >= 0)
                    return -1;
                found = (long)i;
            }
        }
        if (found >= 0)
            return found;
        /* Last, the file names of other tools' formats (only when exactly one matches). */
        for (size_t i = 0; i < m->nmigrations; i++) {
            if (tool_name_matches(rev, &m->migrations[i])) {
                if (found >= 0)
                    return -1;
                found = (long)i;
            }
        }
        return found;
    }
}

void
manifest_script_add_stmt(struct manifest_script *s, uint64_t offset, uint64_t length)
{
    s->stmts = xgrow(s->stmts, &s->stmts_cap, s->nstmts + 1, sizeof(*s->stmts));
    s->stmts[s->nstmts].offset = offset;
    s->stmts[s->nstmts].length = length;
    s->nstmts++;
}

void
manifest_script_add_copy(struct manifest_script *s, const struct manifest_copy *c)
{
    s->copies = xgrow(s->copies, &s->copies_cap, s->ncopies + 1, sizeof(*s->copies));
    s->copies[s->ncopies++] = *c;
}

static char *
dup_or_null(const char *s)
{
    return s ? xstrdup(s) : NULL;
}

void
manifest_migration_add_finding(struct manifest_migration *mig, const struct manifest_finding *f)
{
    struct manifest_finding *d;

    mig->findings =
        xgrow(mig->findings, &mig->findings_cap, mig->nfindings + 1, sizeof(*mig->findings));
    d = &mig->findings[mig->nfindings++];
    *d = *f;
    d->rule = dup_or_null(f->rule);
    d->severity = dup_or_null(f->severity);
    d->lock = dup_or_null(f->lock);
    d->relation = dup_or_null(f->relation);
    d->created_by = dup_or_null(f->created_by);
    d->allowed = dup_or_null(f->allowed);
    d->message = dup_or_null(f->message);
}

const struct manifest_copy *
manifest_script_copy(const struct manifest_script *s, size_t stmt)
{
    for (size_t i = 0; i < s->ncopies; i++)
        if (s->copies[i].stmt == stmt)
            return &s->copies[i];
    return NULL;
}

/* ---- chain ---- */

static void
add_digest_or_dash(struct buf *b, const struct manifest_script *s, int with_mode)
{
    char hex[HASH_SHA256_HEX];

    if (!s->present) {
        buf_addstr(b, with_mode ? "-\n-\n" : "-\n");
        return;
    }
    buf_addstr(b, hex_encode(hex, s->source, HASH_SHA256_BYTES));
    buf_addch(b, '\n');
    if (with_mode)
        buf_addstr(b, s->transactional ? "tx\n" : "no-tx\n");
}

void
manifest_chain_next(const unsigned char prev[HASH_SHA256_BYTES],
                    const struct manifest_migration *mig, unsigned char out[HASH_SHA256_BYTES])
{
    struct hash_sha256 h;
    struct buf rec = BUF_INIT;

    /* Room for a usual record at once: this runs for every migration of every parse. */
    buf_grow(&rec, 512);
    buf_addstr(&rec, mig->id);
    buf_addch(&rec, '\n');
    add_digest_or_dash(&rec, &mig->script[MANIFEST_UP], 1);
    add_digest_or_dash(&rec, &mig->script[MANIFEST_DOWN], 1);
    add_digest_or_dash(&rec, &mig->script[MANIFEST_VERIFY], 0);
    for (int k = 0; k < MANIFEST_NSCRIPTS; k++) {
        const struct manifest_script *s = &mig->script[k];
        char hex[HASH_SHA256_HEX];

        for (size_t i = 0; s->present && i < s->ncopies; i++)
            if (!s->copies[i].inline_data)
                buf_addf(&rec, "copy %s %zu %s\n", script_labels[k], s->copies[i].stmt,
                         hex_encode(hex, s->copies[i].sha256, HASH_SHA256_BYTES));
    }
    hash_sha256_init(&h);
    hash_sha256_update(&h, prev, HASH_SHA256_BYTES);
    hash_sha256_update(&h, rec.data, rec.len);
    hash_sha256_final(&h, out);
    buf_release(&rec);
}

void
manifest_chain_fill(struct manifest *m)
{
    unsigned char prev[HASH_SHA256_BYTES] = {0};

    for (size_t i = 0; i < m->nmigrations; i++) {
        manifest_chain_next(prev, &m->migrations[i], m->migrations[i].chain);
        memcpy(prev, m->migrations[i].chain, HASH_SHA256_BYTES);
    }
}

/* ---- tokens and encodings ---- */

int
manifest_token_valid(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n > 64 || strcmp(s, "-") == 0)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

int
manifest_path_valid(const char *path)
{
    /* The manifest's own name (and anything below it) is not a member's. */
    if (strncmp(path, MANIFEST_NAME, strlen(MANIFEST_NAME)) == 0)
        return 0;
    return memberpath_valid(path, MANIFEST_MAX_PATH);
}

void
manifest_pct_encode(struct buf *out, const char *s)
{
    static const char digits[] = "0123456789ABCDEF";

    if (s[0] == '\0') {
        buf_addch(out, '-');
        return;
    }
    if (strcmp(s, "-") == 0) {
        buf_addstr(out, "%2D");
        return;
    }
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        const unsigned char *q = p;

        /* A run of bytes that stand for themselves, copied at once (most of a text is). */
        while (*q > 0x20 && *q < 0x7f && *q != '%')
            q++;
        if (q > p) {
            buf_add(out, p, (size_t)(q - p));
            p = q;
            continue;
        }
        buf_addch(out, '%');
        buf_addch(out, digits[*p >> 4]);
        buf_addch(out, digits[*p & 15]);
        p++;
    }
}

static int
hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static char *pct_decode_max(const char *s, size_t len, size_t max);

/* Decode a percent-encoded field; it must be in canonical form. Returns malloc'd or NULL. */
static char *
pct_decode(const char *s, size_t len)
{
    return pct_decode_max(s, len, MANIFEST_MAX_TOKEN);
}

/* pct_decode for a field of at most max decoded bytes. */
static char *
pct_decode_max(const char *s, size_t len, size_t max)
{
    struct buf out = BUF_INIT;
    struct buf again = BUF_INIT;
    char *res;

    if (len == 1 && s[0] == '-')
        return xstrdup("");
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '%') {
            int hi, lo;

            if (i + 2 >= len)
                goto bad;
            hi = hexval(s[i + 1]);
            lo = hexval(s[i + 2]);
            if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
                goto bad;
            buf_addch(&out, (char)(hi * 16 + lo));
            i += 2;
        } else {
            buf_addch(&out, s[i]);
        }
    }
    if (out.len > max)
        goto bad;
    manifest_pct_encode(&again, out.data);
    if (again.len != len || memcmp(again.data, s, len) != 0)
        goto bad; /* not canonical: the same name must have one spelling */
    buf_release(&again);
    res = buf_detach(&out, NULL);
    return res;
bad:
    buf_release(&out);
    buf_release(&again);
    return NULL;
}

/* ---- emitter ---- */

static void
emit_script(struct buf *out, const struct manifest *m, const struct manifest_migration *mig,
            enum manifest_script_kind k)
{
    const struct manifest_script *s = &mig->script[k];
    char hex[HASH_SHA256_HEX];

    if (!s->present)
        return;
    buf_addf(out, "# %s ", script_labels[k]);
    if (k != MANIFEST_VERIFY)
        buf_addstr(out, s->transactional ? "tx " : "no-tx ");
    buf_addf(out, "%s %s\n", hex_encode(hex, s->source, HASH_SHA256_BYTES),
             m->members[s->member].path);
    for (size_t i = 0; i < s->nstmts; i++)
        buf_addf(out, "# statement %s %llu %llu\n", script_labels[k],
                 (unsigned long long)s->stmts[i].offset, (unsigned long long)s->stmts[i].length);
    for (size_t i = 0; i < s->ncopies; i++) {
        const struct manifest_copy *c = &s->copies[i];

        if (c->inline_data)
            buf_addf(out, "# copy %s %zu inline %llu %llu\n", script_labels[k], c->stmt,
                     (unsigned long long)c->offset, (unsigned long long)c->length);
        else
            buf_addf(out, "# copy %s %zu file %s %s\n", script_labels[k], c->stmt,
                     hex_encode(hex, c->sha256, HASH_SHA256_BYTES), m->members[c->member].path);
    }
}

static int
has_findings(const struct manifest *m)
{
    for (size_t i = 0; i < m->nmigrations; i++)
        if (m->migrations[i].nfindings)
            return 1;
    return 0;
}

/* Does a repeatable have a finding (version 1.4)? */
static int
has_repeatable_findings(const struct manifest *m)
{
    for (size_t i = 0; i < m->nrepeatables; i++)
        if (m->repeatables[i].nfindings)
            return 1;
    return 0;
}

const char *
manifest_version(const struct manifest *m)
{
    return has_repeatable_findings(m)   ? MANIFEST_REPEATABLE_LINT_VERSION
           : m->expires || m->nkeystmts ? MANIFEST_TRUST_VERSION
           : m->nrepeatables            ? MANIFEST_REPEATABLES_VERSION
           : has_findings(m)            ? "1.1"
                                        : "1";
}

static void
emit_field_or_dash(struct buf *out, const char *s)
{
    buf_addch(out, ' ');
    if (s && s[0])
        manifest_pct_encode(out, s);
    else
        buf_addch(out, '-');
}

/* "# lint KIND RULE SEVERITY LOCK FLAGS RELATION CREATED_BY LINE:COL ALLOWED MESSAGE" */
static void
emit_finding(struct buf *out, const struct manifest_finding *f)
{
    buf_addf(out, "# lint %s", script_labels[f->kind]);
    emit_field_or_dash(out, f->rule);
    emit_field_or_dash(out, f->severity);
    emit_field_or_dash(out, f->lock);
    buf_addf(out, " %c%c", f->rewrites ? 'r' : '-', f->scans ? 's' : '-');
    emit_field_or_dash(out, f->relation);
    emit_field_or_dash(out, f->created_by);
    buf_addf(out, " %u:%u", f->line, f->col);
    emit_field_or_dash(out, f->allowed);
    emit_field_or_dash(out, f->message);
    buf_addch(out, '\n');
}

void
manifest_emit(const struct manifest *m, struct buf *out)
{
    char hex[HASH_SHA256_HEX];

    buf_addf(out, "# sealift-manifest %s\n", manifest_version(m));
    buf_addf(out, "# project %s\n", m->project);
    buf_addf(out, "# serial %llu\n", (unsigned long long)m->serial);
    buf_addf(out, "# environment %s\n", m->environment ? m->environment : "-");
    buf_addf(out, "# created %s\n", m->created);
    buf_addstr(out, "# compiler ");
    manifest_pct_encode(out, m->compiler);
    buf_addf(out, "\n# source %s\n", m->source);
    if (m->expires)
        buf_addf(out, "# expires %s\n", m->expires);
    for (size_t i = 0; i < m->nmigrations; i++) {
        const struct manifest_migration *mig = &m->migrations[i];

        buf_addstr(out, "# migration ");
        manifest_pct_encode(out, mig->id);
        buf_addch(out, ' ');
        manifest_pct_encode(out, mig->name);
        buf_addch(out, '\n');
        if (mig->origin) {
            buf_addstr(out, "# origin ");
            manifest_pct_encode(out, mig->origin);
            buf_addch(out, '\n');
        }
        for (int k = 0; k < MANIFEST_NSCRIPTS; k++) {
            emit_script(out, m, mig, (enum manifest_script_kind)k);
            if (k == MANIFEST_DOWN && mig->down_blocked && mig->script[k].present) {
                buf_addstr(out, "# down-blocked ");
                manifest_pct_encode(out, mig->down_blocked);
                buf_addch(out, '\n');
            }
        }
        for (size_t f = 0; f < mig->nfindings; f++)
            emit_finding(out, &mig->findings[f]);
        buf_addf(out, "# chain %s\n", hex_encode(hex, mig->chain, HASH_SHA256_BYTES));
    }
    for (size_t i = 0; i < m->nrepeatables; i++) {
        const struct manifest_migration *r = &m->repeatables[i];

        buf_addstr(out, "# repeatable ");
        manifest_pct_encode(out, r->id);
        buf_addch(out, '\n');
        if (r->origin) {
            buf_addstr(out, "# origin ");
            manifest_pct_encode(out, r->origin);
            buf_addch(out, '\n');
        }
        emit_script(out, m, r, MANIFEST_UP);
        for (size_t f = 0; f < r->nfindings; f++)
            emit_finding(out, &r->findings[f]);
        buf_addf(out, "# checksum %s\n", hex_encode(hex, r->chain, HASH_SHA256_BYTES));
    }
    for (size_t i = 0; i < m->nkeystmts; i++)
        buf_addf(out, "# key-statement %s\n", m->members[m->keystmts[i]].path);
    if (m->provenance)
        buf_addf(out, "# provenance %s\n", m->provenance);
    for (size_t i = 0; i < m->nmembers; i++) {
        const struct manifest_member *mem = &m->members[i];

        buf_addf(out, "# member %llu\n", (unsigned long long)mem->size);
        buf_addf(out, "%s  %s\n", hex_encode(hex, mem->sha256, HASH_SHA256_BYTES), mem->path);
    }
}

/* ---- parser ---- */

struct parser {
    struct manifest *m;
    const char *text; /* the whole text, or (streamed) the window over it */
    size_t len;       /* bytes of text (of the window) */
    size_t pos;
    /*
     * Streamed: the window is refilled by read, as lines are taken; eof once read said so.
     * The whole text is never held, only the current line and what follows it in the window.
     */
    char *win;
    size_t win_cap;
    manifest_read_fn read;
    void *read_arg;
    uint64_t total; /* bytes read so far */
    int eof;
    size_t lineno;
    int minor;        /* the manifest's minor format version */
    const char *line; /* current line, without "\n" */
    size_t line_len;
    struct diag_err *err;
    int minor_rep;      /* the header says version 1.2: repeatables allowed (and required) */
    int minor_trust;    /* version 1.3: expiry and key statements, repeatables optional */
    int minor_rep_lint; /* version 1.4: lint records in repeatables; the rest optional */
    int in_rep;         /* parsing the repeatable records: scripts belong to m->repeatables */
    int odd_bytes;      /* the text holds a carriage return or NUL: each line is searched */
};

static int perr(struct parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int
perr(struct parser *p, const char *fmt, ...)
{
    char msg[DIAG_MSG_MAX];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return err_set(p->err, "line %zu: %s", p->lineno, msg);
}

/* Longest lookahead into the next line (is_next_keyword): "# " and a keyword and a space. */
#define PEEK_BYTES 64
/*
 * What a streamed parse makes sure of before it takes a line: the line, its newline and the
 * lookahead into the next one (or the end), so that a line is never moved while it is current.
 */
#define LINE_AHEAD (MANIFEST_MAX_LINE + 1 + PEEK_BYTES)

/*
 * Streamed: make at least LINE_AHEAD bytes from pos available (fewer only at the end). What
 * is before pos is done with. Returns 0, or -1 if read failed (its error is in p->err).
 */
static int
fill(struct parser *p)
{
    while (!p->eof && p->len - p->pos < LINE_AHEAD) {
        ssize_t n;

        if (p->win_cap - p->len < MANIFEST_READ_CHUNK) {
            /* Slide the rest to the front: under LINE_AHEAD bytes, every READ_CHUNK taken. */
            memmove(p->win, p->win + p->pos, p->len - p->pos);
            p->len -= p->pos;
            p->pos = 0;
        }
        n = p->read(p->read_arg, p->win + p->len, p->win_cap - p->len, p->err);
        if (n < 0)
            return -1;
        if (n == 0) {
            p->eof = 1;
            break;
        }
        p->total += (uint64_t)n;
        if (p->total > MANIFEST_MAX_BYTES)
            return err_set(p->err, "manifest is larger than %u bytes", MANIFEST_MAX_BYTES);
        if (!p->odd_bytes)
            p->odd_bytes = memchr(p->win + p->len, '\r', (size_t)n) != NULL ||
                           memchr(p->win + p->len, '\0', (size_t)n) != NULL;
        p->len += (size_t)n;
    }
    return 0;
}

/* Advance to the next line. Returns 1 if there is one, 0 at the end, -1 on error. */
static int
next_line(struct parser *p)
{
    const char *nl;

    /*
     * The test here, not in fill: it is made for every line, and mostly answered no. A line
     * longer than the limit is refused below whether its newline was reached or not.
     */
    if (!p->eof && p->len - p->pos < LINE_AHEAD && fill(p) != 0)
        return -1;
    if (p->pos >= p->len)
        return 0;
    p->lineno++;
    nl = memchr(p->text + p->pos, '\n', p->len - p->pos);
    if (nl == NULL && !p->eof)
        return perr(p, "line is longer than %d bytes", MANIFEST_MAX_LINE);
    if (nl == NULL)
        return perr(p, "the last line does not end with a newline");
    p->line = p->text + p->pos;
    p->line_len = (size_t)(nl - p->line);
    p->pos += p->line_len + 1;
    if (p->line_len > MANIFEST_MAX_LINE)
        return perr(p, "line is longer than %d bytes", MANIFEST_MAX_LINE);
    if (p->odd_bytes && memchr(p->line, '\r', p->line_len))
        return perr(p, "line contains a carriage return");
    if (p->odd_bytes && memchr(p->line, '\0', p->line_len))
        return perr(p, "line contains a NUL byte");
    return 1;
}

/* Split the current line on single spaces into at most max fields. Returns the count. */
static size_t
split_fields(struct parser *p, size_t skip, const char **f, size_t *fl, size_t max)
{
    size_t n = 0;
    size_t i = skip;

    if (i > p->line_len)
        return 0;
    while (i <= p->line_len && n < max + 1) {
        const char *sp = memchr(p->line + i, ' ', p->line_len - i);
        size_t end = sp ? (size_t)(sp - p->line) : p->line_len;

        if (n < max) {
            f[n] = p->line + i;
            fl[n] = end - i;
        }
        n++;
        if (!sp)
            break;
        i = end + 1;
    }
    return n;
}

/* The current line as "# KEYWORD REST": returns 1 and sets *rest if the keyword matches. */
static int
is_keyword(struct parser *p, const char *kw, size_t *rest)
{
    size_t n;

    /* Most tries fail at the keyword's first letter: decided before any length or compare. */
    if (p->line_len < 3 || p->line[2] != kw[0] || p->line[0] != '#' || p->line[1] != ' ')
        return 0;
    n = strlen(kw);
    if (p->line_len < 2 + n || memcmp(p->line + 2, kw, n) != 0)
        return 0;
    if (p->line_len == 2 + n) {
        *rest = p->line_len;
        return 1;
    }
    if (p->line[2 + n] != ' ')
        return 0;
    *rest = 2 + n + 1;
    return 1;
}

/* Does the next line (not yet read) start with "# KEYWORD "? */
static int
is_next_keyword(const struct parser *p, const char *kw)
{
    size_t n = strlen(kw);
    const char *at = p->text + p->pos;

    return p->pos + 3 + n <= p->len && memcmp(at, "# ", 2) == 0 && memcmp(at + 2, kw, n) == 0 &&
           at[2 + n] == ' ';
}

static int
field_is_empty_or_spaced(const char *f, size_t len)
{
    return len == 0 || memchr(f, ' ', len) != NULL;
}

static int
parse_u64(const char *f, size_t len, uint64_t *out)
{
    uint64_t v = 0;

    if (len == 0 || len > 20 || (len > 1 && f[0] == '0'))
        return -1;
    for (size_t i = 0; i < len; i++) {
        if (f[i] < '0' || f[i] > '9')
            return -1;
        if (v > (UINT64_MAX - (uint64_t)(f[i] - '0')) / 10)
            return -1;
        v = v * 10 + (uint64_t)(f[i] - '0');
    }
    *out = v;
    return 0;
}

static int
parse_digest(const char *f, size_t len, unsigned char out[HASH_SHA256_BYTES])
{
    return hex_decode_lower(out, HASH_SHA256_BYTES, f, len);
}

/* The value of n decimal digits at s (already checked to be digits). */
static int
digits_value(const char *s, int n)
{
    int v = 0;

    while (n-- > 0)
        v = v * 10 + (*s++ - '0');
    return v;
}

static int
valid_timestamp(const char *s)
{
    /* YYYY-MM-DDTHH:MM:SSZ */
    static const char shape[] = "dddd-dd-ddTdd:dd:ddZ";
    static const int mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int year, mon, day;

    if (strlen(s) != sizeof(shape) - 1)
        return 0;
    for (size_t i = 0; shape[i]; i++) {
        if (shape[i] == 'd' ? (s[i] < '0' || s[i] > '9') : s[i] != shape[i])
            return 0;
    }
    /* The form alone would let "2026-13-45T99:99:99Z" through: require a real UTC time. */
    year = digits_value(s, 4);
    mon = digits_value(s + 5, 2);
    day = digits_value(s + 8, 2);
    if (mon < 1 || mon > 12 || day < 1 || day > mdays[mon - 1])
        return 0;
    if (mon == 2 && day == 29 && !(year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)))
        return 0;
    return digits_value(s + 11, 2) < 24 && digits_value(s + 14, 2) < 60 &&
           digits_value(s + 17, 2) < 60;
}

/* "# KEY VALUE" header line with exactly one field. */
static int
header_field(struct parser *p, const char *key, char **out)
{
    size_t rest;
    const char *f[1];
    size_t fl[1];

    int r = next_line(p);

    if (r < 0)
        return -1;
    if (r == 0)
        return err_set(p->err, "line %zu: missing \"# %s\" line", p->lineno + 1, key);
    if (!is_keyword(p, key, &rest))
        return perr(p, "expected \"# %s\"", key);
    if (split_fields(p, rest, f, fl, 1) != 1 || fl[0] == 0)
        return perr(p, "\"# %s\" takes exactly one value", key);
    *out = xstrndup(f[0], fl[0]);
    return 0;
}

static int parse_header_fields(struct parser *p);

static int
parse_header(struct parser *p)
{
    int r;

    r = next_line(p);
    if (r == 0)
        return err_set(p->err, "line 1: manifest is empty");
    if (r < 0)
        return -1;
    /* 1.2 is 1.1 (lint records) plus repeatables. */
    p->minor_rep = p->line_len == strlen(HEADER_LINE_REP) &&
                   memcmp(p->line, HEADER_LINE_REP, p->line_len) == 0;
    p->minor_trust = p->line_len == strlen(HEADER_LINE_TRUST) &&
                     memcmp(p->line, HEADER_LINE_TRUST, p->line_len) == 0;
    p->minor_rep_lint = p->line_len == strlen(HEADER_LINE_REP_LINT) &&
                        memcmp(p->line, HEADER_LINE_REP_LINT, p->line_len) == 0;
    p->minor_trust = p->minor_trust || p->minor_rep_lint;
    p->minor_rep = p->minor_rep || p->minor_trust;
    p->minor = p->minor_rep_lint ? 4
               : p->minor_trust  ? 3
               : p->minor_rep    ? 2
                                 : p->line_len == strlen(HEADER_LINE_1_1) &&
                                    memcmp(p->line, HEADER_LINE_1_1, p->line_len) == 0;
    if (p->minor)
        return parse_header_fields(p);
    if (p->line_len >= strlen("# sealift-manifest ") &&
        memcmp(p->line, "# sealift-manifest ", strlen("# sealift-manifest ")) == 0 &&
        !(p->line_len == strlen(HEADER_LINE) && memcmp(p->line, HEADER_LINE, p->line_len) == 0))
        return perr(p,
                    "unsupported manifest version \"%.*s\" (this sealift reads versions %s; "
                    "the bundle needs a newer sealift)",
                    (int)(p->line_len - strlen("# sealift-manifest ")),
                    p->line + strlen("# sealift-manifest "), VERSIONS_READ);
    if (p->line_len != strlen(HEADER_LINE) || memcmp(p->line, HEADER_LINE, p->line_len) != 0)
        return perr(p, "not a sealift manifest (expected \"%s\")", HEADER_LINE);
    return parse_header_fields(p);
}

/* The header's fields, after its version line. */
static int
parse_header_fields(struct parser *p)
{
    struct manifest *m = p->m;
    char *serial = NULL;
    char *compiler = NULL;
    int r;

    if (header_field(p, "project", &m->project) != 0)
        return -1;
    if (!manifest_token_valid(m->project))
        return perr(p, "invalid project name");
    if (header_field(p, "serial", &serial) != 0)
        return -1;
    r = parse_u64(serial, strlen(serial), &m->serial);
    free(serial);
    if (r != 0)
        return perr(p, "serial is not a decimal number");
    if (header_field(p, "environment", &m->environment) != 0)
        return -1;
    if (strcmp(m->environment, "-") == 0) {
        free(m->environment);
        m->environment = NULL;
    } else if (!manifest_token_valid(m->environment)) {
        return perr(p, "invalid environment name");
    }
    if (header_field(p, "created", &m->created) != 0)
        return -1;
    if (!valid_timestamp(m->created))
        return perr(p, "created is not a timestamp of the form YYYY-MM-DDTHH:MM:SSZ");
    if (header_field(p, "compiler", &compiler) != 0)
        return -1;
    m->compiler = pct_decode(compiler, strlen(compiler));
    free(compiler);
    if (m->compiler == NULL || m->compiler[0] == '\0')
        return perr(p, "compiler is not a valid field");
    if (header_field(p, "source", &m->source) != 0)
        return -1;
    if (!manifest_token_valid(m->source))
        return perr(p, "invalid source format name");
    if (p->minor_trust && is_next_keyword(p, "expires")) {
        if (header_field(p, "expires", &m->expires) != 0)
            return -1;
        if (!valid_timestamp(m->expires))
            return perr(p, "expires is not a timestamp of the form YYYY-MM-DDTHH:MM:SSZ");
        if (strcmp(m->expires, m->created) <= 0)
            return perr(p, "expires is not after created");
    }
    return 0;
}

/* A script line's member path: recorded now, resolved against members at the end. */
struct pending_ref {
    /*
     * Sized for a 100,000-migration chain, which names 200,000 paths: every count and offset
     * below is bounded by the manifest's size (< 2^32), a path by MANIFEST_MAX_PATH.
     */
    uint32_t migration; /* index into migrations, or into repeatables when repeatable is set */
    int32_t copy;       /* index of the copy record naming the path, or -1 for the script itself */
    uint32_t lineno;
    /*
     * The path (not NUL-terminated), at path_at in the manifest text, which is alive for the
     * whole parse: not a copy each. A streamed parse holds no text: there path_at is in
     * refs.paths, one buffer.
     */
    uint32_t path_at;
    uint8_t path_len;
    uint8_t kind;
    uint8_t repeatable;
    uint8_t keystmt; /* a "# key-statement" line: no migration */
};

_Static_assert(MANIFEST_MAX_BYTES <= INT32_MAX, "pending_ref offsets and counts are 32-bit");
_Static_assert(MANIFEST_MAX_PATH <= UINT8_MAX, "pending_ref.path_len is 8-bit");

struct refs {
    struct pending_ref *v;
    size_t n;
    size_t cap;
    struct buf paths; /* streamed parse: every path named, one after another */
};

/* The member path of field f as a string in out (checked); -1 with the error set if invalid. */
static int
ref_path_string(struct parser *p, const char *f, size_t len, char out[MANIFEST_MAX_PATH + 1])
{
    /* Longer than any valid path: refused without a copy. */
    if (len > MANIFEST_MAX_PATH || memchr(f, '\0', len) != NULL)
        return perr(p, "invalid member path");
    memcpy(out, f, len);
    out[len] = '\0';
    if (!manifest_path_valid(out))
        return perr(p, "invalid member path");
    return 0;
}

/* A new pending reference to the path in field f of the current line (checked). */
static struct pending_ref *
add_ref(struct parser *p, struct refs *refs, const char *f, size_t len)
{
    char path[MANIFEST_MAX_PATH + 1];
    struct pending_ref *ref;

    if (ref_path_string(p, f, len, path) != 0)
        return NULL;
    refs->v = xgrow(refs->v, &refs->cap, refs->n + 1, sizeof(*refs->v));
    ref = &refs->v[refs->n++];
    memset(ref, 0, sizeof(*ref));
    ref->copy = -1;
    if (p->read) {
        ref->path_at = (uint32_t)refs->paths.len;
        buf_add(&refs->paths, f, len);
    } else {
        ref->path_at = (uint32_t)(f - p->text);
    }
    ref->path_len = (uint8_t)len;
    ref->lineno = (uint32_t)p->lineno;
    return ref;
}

static int
parse_script(struct parser *p, struct manifest_migration *mig, int kind, size_t rest,
             struct refs *refs)
{
    struct manifest_script *s = &mig->script[kind];
    const char *f[3];
    size_t fl[3];
    size_t want = kind == MANIFEST_VERIFY ? 2 : 3;
    size_t n = split_fields(p, rest, f, fl, 3);
    size_t i = 0;
    struct pending_ref *ref;

    if (n != want)
        return perr(p, "\"# %s\" takes %zu fields", script_labels[kind], want);
    if (kind == MANIFEST_VERIFY) {
        s->transactional = 1;
    } else if (fl[0] == 2 && memcmp(f[0], "tx", 2) == 0) {
        s->transactional = 1;
        i = 1;
    } else if (fl[0] == 5 && memcmp(f[0], "no-tx", 5) == 0) {
        s->transactional = 0;
        i = 1;
    } else {
        return perr(p, "transaction mode must be \"tx\" or \"no-tx\"");
    }
    if (parse_digest(f[i], fl[i], s->source) != 0)
        return perr(p, "source checksum is not 64 lowercase hex digits");
    if ((ref = add_ref(p, refs, f[i + 1], fl[i + 1])) == NULL)
        return -1;
    s->present = 1;
    ref->migration = (uint32_t)(p->in_rep ? p->m->nrepeatables - 1 : p->m->nmigrations - 1);
    ref->repeatable = (uint8_t)p->in_rep;
    ref->kind = (uint8_t)kind;
    return 0;
}

static int
parse_statement(struct parser *p, struct manifest_migration *mig, int last_kind, size_t rest)
{
    const char *f[3];
    size_t fl[3];
    uint64_t off, len;
    struct manifest_script *s;
    int kind = -1;

    if (split_fields(p, rest, f, fl, 3) != 3)
        return perr(p, "\"# statement\" takes 3 fields");
    for (int k = 0; k < MANIFEST_NSCRIPTS; k++)
        if (fl[0] == strlen(script_labels[k]) && memcmp(f[0], script_labels[k], fl[0]) == 0)
            kind = k;
    if (kind < 0 || kind != last_kind)
        return perr(p, "\"# statement\" must follow the script it belongs to");
    s = &mig->script[kind];
    if (s->ncopies > 0)
        return perr(p, "\"# statement\" lines must come before the script's \"# copy\" lines");
    if (parse_u64(f[1], fl[1], &off) != 0 || parse_u64(f[2], fl[2], &len) != 0 || len == 0)
        return perr(p, "statement offset and length must be decimal numbers, length > 0");
    if (s->nstmts > 0) {
        const struct manifest_stmt *prev = &s->stmts[s->nstmts - 1];

        if (off < prev->offset + prev->length)
            return perr(p, "statements overlap or are out of order");
    }
    if (off > UINT64_MAX - len)
        return perr(p, "statement range overflows");
    manifest_script_add_stmt(s, off, len);
    return 0;
}

/* "# copy KIND STMT inline OFFSET LENGTH" or "# copy KIND STMT file SHA256 PATH". */
static int
parse_copy(struct parser *p, struct manifest_migration *mig, int last_kind, size_t rest,
           struct refs *refs)
{
    const char *f[5];
    size_t fl[5];
    struct manifest_copy c;
    struct manifest_script *s;
    uint64_t stmt;
    int kind = -1;

    memset(&c, 0, sizeof(c));
    if (split_fields(p, rest, f, fl, 5) != 5)
        return perr(p, "\"# copy\" takes 5 fields");
    for (int k = 0; k < MANIFEST_NSCRIPTS; k++)
        if (fl[0] == strlen(script_labels[k]) && memcmp(f[0], script_labels[k], fl[0]) == 0)
            kind = k;
    if (kind < 0 || kind != last_kind)
        return perr(p, "\"# copy\" must follow the script it belongs to");
    s = &mig->script[kind];
    if (parse_u64(f[1], fl[1], &stmt) != 0 || stmt >= s->nstmts)
        return perr(p, "\"# copy\" names no statement of its script");
    if (s->ncopies > 0 && stmt <= s->copies[s->ncopies - 1].stmt)
        return perr(p, "\"# copy\" lines are duplicated or out of order");
    c.stmt = (size_t)stmt;
    if (fl[2] == 6 && memcmp(f[2], "inline", 6) == 0) {
        const struct manifest_stmt *st = &s->stmts[c.stmt];

        c.inline_data = 1;
        if (parse_u64(f[3], fl[3], &c.offset) != 0 || parse_u64(f[4], fl[4], &c.length) != 0)
            return perr(p, "inline copy offset and length must be decimal numbers");
        if (c.offset < st->offset + st->length || c.offset > UINT64_MAX - c.length ||
            (c.stmt + 1 < s->nstmts && c.offset + c.length > s->stmts[c.stmt + 1].offset))
            return perr(p, "inline copy data must lie between its statement and the next");
    } else if (fl[2] == 4 && memcmp(f[2], "file", 4) == 0) {
        struct pending_ref *ref;

        if (p->in_rep)
            return perr(p, "a repeatable's COPY data is inline (\"# copy up N inline ...\")");
        if (parse_digest(f[3], fl[3], c.sha256) != 0)
            return perr(p, "copy data checksum is not 64 lowercase hex digits");
        if ((ref = add_ref(p, refs, f[4], fl[4])) == NULL)
            return -1;
        ref->migration = (uint32_t)(p->m->nmigrations - 1);
        ref->kind = (uint8_t)kind;
        ref->copy = (int32_t)s->ncopies;
    } else {
        return perr(p, "copy data is \"inline\" or \"file\"");
    }
    manifest_script_add_copy(s, &c);
    return 0;
}

/* A "-" field is NULL; any other is percent-decoded (at most max bytes). */
static int
finding_field(const char *f, size_t fl, size_t max, char **out)
{
    *out = NULL;
    if (fl == 1 && f[0] == '-')
        return 0;
    *out = pct_decode_max(f, fl, max);
    return *out && (*out)[0] ? 0 : -1;
}

static int
parse_finding(struct parser *p, struct manifest_migration *mig, size_t rest)
{
    const char *f[10];
    size_t fl[10];
    struct manifest_finding fd;
    char *strs[7] = {NULL};
    unsigned line, col;
    char tail;
    int kind, ok;

    memset(&fd, 0, sizeof(fd));
    if (split_fields(p, rest, f, fl, 10) != 10)
        return perr(p, "\"# lint\" takes 10 fields");
    for (kind = 0; kind < MANIFEST_NSCRIPTS; kind++)
        if (strlen(script_labels[kind]) == fl[0] && memcmp(f[0], script_labels[kind], fl[0]) == 0)
            break;
    if (kind == MANIFEST_NSCRIPTS || !mig->script[kind].present)
        return perr(p, "lint record names a script the migration does not have");
    ok = finding_field(f[1], fl[1], MANIFEST_MAX_TOKEN, &strs[0]) == 0 && strs[0] &&
         manifest_token_valid(strs[0]) &&
         finding_field(f[2], fl[2], MANIFEST_MAX_TOKEN, &strs[1]) == 0 && strs[1] &&
         (strcmp(strs[1], "error") == 0 || strcmp(strs[1], "warning") == 0 ||
          strcmp(strs[1], "info") == 0) &&
         finding_field(f[3], fl[3], MANIFEST_MAX_TOKEN, &strs[2]) == 0 && fl[4] == 2 &&
         (f[4][0] == 'r' || f[4][0] == '-') && (f[4][1] == 's' || f[4][1] == '-') &&
         finding_field(f[5], fl[5], MANIFEST_MAX_TOKEN, &strs[3]) == 0 &&
         finding_field(f[6], fl[6], MANIFEST_MAX_TOKEN, &strs[4]) == 0 &&
         finding_field(f[8], fl[8], MANIFEST_MAX_TEXT, &strs[5]) == 0 &&
         finding_field(f[9], fl[9], MANIFEST_MAX_TEXT, &strs[6]) == 0 && strs[6] && fl[7] < 24 &&
         f[7][0] >= '1' && f[7][0] <= '9';
    if (ok) {
        char pos[24];

        memcpy(pos, f[7], fl[7]);
        pos[fl[7]] = '\0';
        ok = sscanf(pos, "%u:%u%c", &line, &col, &tail) == 2 && col > 0;
    }
    if (!ok) {
        for (int i = 0; i < 7; i++)
            free(strs[i]);
        return perr(p, "malformed \"# lint\" record");
    }
    fd.kind = kind;
    fd.rewrites = f[4][0] == 'r';
    fd.scans = f[4][1] == 's';
    fd.line = line;
    fd.col = col;
    mig->findings =
        xgrow(mig->findings, &mig->findings_cap, mig->nfindings + 1, sizeof(*mig->findings));
    fd.rule = strs[0];
    fd.severity = strs[1];
    fd.lock = strs[2];
    fd.relation = strs[3];
    fd.created_by = strs[4];
    fd.allowed = strs[5];
    fd.message = strs[6];
    mig->findings[mig->nfindings++] = fd;
    return 0;
}

static int
parse_migrations(struct parser *p, struct refs *refs)
{
    struct manifest *m = p->m;
    struct manifest_migration *mig = NULL;
    int last_kind = -1;
    size_t rest;
    int r;

    /* States: outside a block, or inside one after the line of kind last_kind. */
    while ((r = next_line(p)) == 1) {
        const char *f[2];
        size_t fl[2];

        if (mig == NULL) {
            char *id, *name;

            if (is_keyword(p, "member", &rest) || is_keyword(p, "repeatable", &rest) ||
                is_keyword(p, "key-statement", &rest) || is_keyword(p, "provenance", &rest)) {
                /* The first member (repeatable, key statement, provenance) record ends them. */
                p->pos -= p->line_len + 1;
                p->lineno--;
                return 0;
            }
            if (!is_keyword(p, "migration", &rest))
                return perr(p, "expected \"# migration\" or \"# member\"");
            if (split_fields(p, rest, f, fl, 2) != 2 || field_is_empty_or_spaced(f[0], fl[0]))
                return perr(p, "\"# migration\" takes an id and a name");
            id = pct_decode(f[0], fl[0]);
            name = pct_decode(f[1], fl[1]);
            if (id == NULL || name == NULL || id[0] == '\0') {
                free(id);
                free(name);
                return perr(p, "migration id or name is not a valid field");
            }
            mig = manifest_add_migration(m, id, name);
            free(id);
            free(name);
            last_kind = -1;
            continue;
        }
        if (is_keyword(p, "origin", &rest)) {
            if (last_kind >= 0 || mig->origin)
                return perr(p, "\"# origin\" comes once, right after \"# migration\"");
            mig->origin = pct_decode(p->line + rest, p->line_len - rest);
            if (mig->origin == NULL || mig->origin[0] == '\0')
                return perr(p, "origin is not a valid field");
            continue;
        }
        if (is_keyword(p, "down-blocked", &rest)) {
            if (last_kind != MANIFEST_DOWN || mig->down_blocked)
                return perr(p, "\"# down-blocked\" comes once, after the down script's lines");
            mig->down_blocked = pct_decode(p->line + rest, p->line_len - rest);
            if (mig->down_blocked == NULL || mig->down_blocked[0] == '\0')
                return perr(p, "down-blocked is not a valid field");
            continue;
        }
        if (is_keyword(p, "up", &rest) || is_keyword(p, "down", &rest) ||
            is_keyword(p, "verify", &rest)) {
            int kind = p->line[2] == 'u' ? MANIFEST_UP
                                         : (p->line[2] == 'd' ? MANIFEST_DOWN : MANIFEST_VERIFY);

            if (kind <= last_kind)
                return perr(p, "scripts must come once each, in the order up, down, verify");
            if (kind != MANIFEST_UP && last_kind < MANIFEST_UP)
                return perr(p, "a migration's first script must be its up script");
            if (parse_script(p, mig, kind, rest, refs) != 0)
                return -1;
            last_kind = kind;
        } else if (is_keyword(p, "lint", &rest)) {
            if (p->minor < 1)
                return perr(p, "\"# lint\" needs manifest version 1.1");
            if (last_kind < MANIFEST_UP)
                return perr(p, "\"# lint\" comes after the migration's scripts");
            if (parse_finding(p, mig, rest) != 0)
                return -1;
        } else if (is_keyword(p, "statement", &rest)) {
            if (parse_statement(p, mig, last_kind, rest) != 0)
                return -1;
        } else if (is_keyword(p, "copy", &rest)) {
            if (parse_copy(p, mig, last_kind, rest, refs) != 0)
                return -1;
        } else if (is_keyword(p, "chain", &rest)) {
            unsigned char want[HASH_SHA256_BYTES];
            unsigned char prev[HASH_SHA256_BYTES] = {0};

            if (last_kind < MANIFEST_UP)
                return perr(p, "migration has no up script");
            if (parse_digest(p->line + rest, p->line_len - rest, mig->chain) != 0)
                return perr(p, "chain hash is not 64 lowercase hex digits");
            if (m->nmigrations > 1)
                memcpy(prev, m->migrations[m->nmigrations - 2].chain, HASH_SHA256_BYTES);
            manifest_chain_next(prev, mig, want);
            if (!hash_equal(want, mig->chain, HASH_SHA256_BYTES))
                return perr(p, "chain hash of migration \"%s\" does not match its records",
                            mig->id);
            mig = NULL;
        } else if (is_keyword(p, "migration", &rest) || is_keyword(p, "member", &rest) ||
                   is_keyword(p, "repeatable", &rest) || is_keyword(p, "provenance", &rest)) {
            /* A known keyword out of place: the block it interrupts was never closed. */
            return perr(p, "migration \"%s\" is not closed by \"# chain\"", mig->id);
        } else {
            size_t kl = 0;

            while (2 + kl < p->line_len && p->line[2 + kl] != ' ')
                kl++;
            if (p->line_len >= 2 && memcmp(p->line, "# ", 2) == 0)
                return perr(p, "unknown manifest keyword \"%.*s\" (made by a newer sealift?)",
                            (int)(kl > 40 ? 40 : kl), p->line + 2);
            return perr(p, "expected a migration record line");
        }
    }
    if (r < 0)
        return -1;
    if (mig != NULL)
        return err_set(p->err, "line %zu: migration \"%s\" is not closed by \"# chain\"", p->lineno,
                       mig->id);
    return 0;
}

/*
 * The repeatable records (1.2): "# repeatable NAME", an optional origin, the up script with
 * its statements and inline copies, and "# checksum DIGEST", in strictly increasing name order.
 */
static int
parse_repeatables(struct parser *p, struct refs *refs)
{
    struct manifest *m = p->m;
    struct manifest_migration *r = NULL;
    int have_up = 0;
    size_t rest;
    int ret;

    p->in_rep = 1;
    while ((ret = next_line(p)) == 1) {
        if (r == NULL) {
            char *name;

            if (is_keyword(p, "member", &rest) || is_keyword(p, "key-statement", &rest) ||
                is_keyword(p, "provenance", &rest)) {
                p->pos -= p->line_len + 1;
                p->lineno--;
                break;
            }
            if (!is_keyword(p, "repeatable", &rest))
                return perr(p, "expected \"# repeatable\" or \"# member\"");
            if (!p->minor_rep)
                return perr(p, "\"# repeatable\" needs manifest version %s (the header says %s)",
                            MANIFEST_REPEATABLES_VERSION, p->minor ? "1.1" : "1");
            name = pct_decode(p->line + rest, p->line_len - rest);
            if (name == NULL || name[0] == '\0' ||
                memchr(p->line + rest, ' ', p->line_len - rest) != NULL) {
                free(name);
                return perr(p, "repeatable name is not a valid field");
            }
            if (m->nrepeatables > 0 && strcmp(m->repeatables[m->nrepeatables - 1].id, name) >= 0) {
                free(name);
                return perr(p,
                            "repeatables must be listed once each, in byte order of their names");
            }
            r = manifest_add_repeatable(m, name);
            free(name);
            have_up = 0;
            continue;
        }
        if (is_keyword(p, "origin", &rest)) {
            if (have_up || r->origin)
                return perr(p, "\"# origin\" comes once, right after \"# repeatable\"");
            r->origin = pct_decode(p->line + rest, p->line_len - rest);
            if (r->origin == NULL || r->origin[0] == '\0')
                return perr(p, "origin is not a valid field");
        } else if (is_keyword(p, "up", &rest)) {
            if (have_up)
                return perr(p, "a repeatable has one up script");
            if (parse_script(p, r, MANIFEST_UP, rest, refs) != 0)
                return -1;
            have_up = 1;
        } else if (is_keyword(p, "statement", &rest)) {
            if (parse_statement(p, r, have_up ? MANIFEST_UP : -1, rest) != 0)
                return -1;
        } else if (is_keyword(p, "copy", &rest)) {
            if (parse_copy(p, r, have_up ? MANIFEST_UP : -1, rest, refs) != 0)
                return -1;
        } else if (is_keyword(p, "lint", &rest)) {
            if (!p->minor_rep_lint)
                return perr(p, "\"# lint\" in a repeatable needs manifest version %s",
                            MANIFEST_REPEATABLE_LINT_VERSION);
            if (!have_up)
                return perr(p, "\"# lint\" comes after the repeatable's script");
            if (parse_finding(p, r, rest) != 0)
                return -1;
        } else if (is_keyword(p, "checksum", &rest)) {
            if (!have_up)
                return perr(p, "repeatable \"%s\" has no up script", r->id);
            if (parse_digest(p->line + rest, p->line_len - rest, r->chain) != 0)
                return perr(p, "repeatable checksum is not 64 lowercase hex digits");
            r = NULL;
        } else if (is_keyword(p, "down", &rest) || is_keyword(p, "verify", &rest)) {
            return perr(p, "a repeatable has an up script only");
        } else {
            return perr(p, "repeatable \"%s\" is not closed by \"# checksum\"", r->id);
        }
    }
    p->in_rep = 0;
    if (ret < 0)
        return -1;
    if (r != NULL)
        return err_set(p->err, "line %zu: repeatable \"%s\" is not closed by \"# checksum\"",
                       p->lineno, r->id);
    return 0;
}

/* "# key-statement PATH" lines (1.3), before the members; each path is resolved later. */
static int
parse_keystmts(struct parser *p, struct refs *refs)
{
    size_t rest;
    int r;

    while ((r = next_line(p)) == 1) {
        struct pending_ref *ref;

        if (!is_keyword(p, "key-statement", &rest)) {
            p->pos -= p->line_len + 1;
            p->lineno--;
            return 0;
        }
        if (!p->minor_trust)
            return perr(p, "\"# key-statement\" needs manifest version %s", MANIFEST_TRUST_VERSION);
        if ((ref = add_ref(p, refs, p->line + rest, p->line_len - rest)) == NULL)
            return -1;
        ref->keystmt = 1;
    }
    return r < 0 ? -1 : 0;
}

/* The optional "# provenance PATH" record, between the repeatables and the members. */
static int
parse_provenance(struct parser *p)
{
    size_t rest;
    int r = next_line(p);

    if (r <= 0)
        return r;
    if (!is_keyword(p, "provenance", &rest)) {
        p->pos -= p->line_len + 1;
        p->lineno--;
        return 0;
    }
    p->m->provenance = xstrndup(p->line + rest, p->line_len - rest);
    if (!manifest_path_valid(p->m->provenance))
        return perr(p, "invalid provenance member path");
    return 0;
}

static int
parse_members(struct parser *p)
{
    struct manifest *m = p->m;
    size_t rest;
    int r;

    while ((r = next_line(p)) == 1) {
        uint64_t size;
        unsigned char sha[HASH_SHA256_BYTES];
        char *path;

        if (!is_keyword(p, "member", &rest)) {
            if (is_keyword(p, "provenance", &rest))
                return perr(p, "\"# provenance\" comes once, before the first \"# member\"");
            if (p->line_len >= 2 && memcmp(p->line, "# ", 2) == 0 &&
                !is_keyword(p, "migration", &rest))
                return perr(p, "unknown manifest keyword in the member section");
            return perr(p, "expected \"# member SIZE\"");
        }
        if (parse_u64(p->line + rest, p->line_len - rest, &size) != 0)
            return perr(p, "member size is not a decimal number");
        r = next_line(p);
        if (r == 0)
            return err_set(p->err, "line %zu: member record has no checksum line", p->lineno + 1);
        if (r < 0)
            return -1;
        if (p->line_len < 64 + 2 + 1 || p->line[64] != ' ' || p->line[65] != ' ' ||
            parse_digest(p->line, 64, sha) != 0)
            return perr(p, "expected \"SHA256  PATH\" (64 lowercase hex digits, two spaces)");
        path = xstrndup(p->line + 66, p->line_len - 66);
        if (!manifest_path_valid(path)) {
            free(path);
            return perr(p, "invalid member path");
        }
        if (manifest_find_member(m, path) >= 0) {
            int e = perr(p, "duplicate member path \"%s\"", path);

            free(path);
            return e;
        }
        manifest_add_member(m, path, size, sha);
        free(path);
    }
    return r < 0 ? -1 : 0;
}

static int
resolve_refs(struct parser *p, struct refs *refs)
{
    struct manifest *m = p->m;

    for (size_t i = 0; i < refs->n; i++) {
        const struct pending_ref *ref = &refs->v[i];
        char path[MANIFEST_MAX_PATH + 1];
        long idx;
        struct manifest_migration *mig;
        struct manifest_script *s;

        /* Checked when it was read: fits, and holds no NUL. */
        memcpy(path, (p->read ? refs->paths.data : p->text) + ref->path_at, ref->path_len);
        path[ref->path_len] = '\0';
        idx = manifest_find_member(m, path);

        if (idx < 0)
            return err_set(p->err, "line %zu: %s names \"%s\", which is not a member",
                           (size_t)ref->lineno,
                           ref->keystmt    ? "key statement"
                           : ref->copy < 0 ? "script"
                                           : "copy",
                           path);
        if (m->members[idx].referenced)
            return err_set(p->err, "line %zu: member \"%s\" is named by two scripts",
                           (size_t)ref->lineno, path);
        m->members[idx].referenced = 1;
        if (ref->keystmt) {
            manifest_add_keystmt(m, (size_t)idx);
            continue;
        }
        mig = ref->repeatable ? &m->repeatables[ref->migration] : &m->migrations[ref->migration];
        s = &mig->script[ref->kind];
        if (ref->copy >= 0) {
            struct manifest_copy *c = &s->copies[ref->copy];

            if (!hash_equal(c->sha256, m->members[idx].sha256, HASH_SHA256_BYTES))
                return err_set(p->err, "line %zu: copy data checksum differs from member \"%s\"'s",
                               (size_t)ref->lineno, path);
            c->member = (size_t)idx;
            m->members[idx].is_data = 1;
            continue;
        }
        s->member = (size_t)idx;
        if (ref->repeatable && !hash_equal(mig->chain, m->members[idx].sha256, HASH_SHA256_BYTES))
            return err_set(p->err,
                           "line %zu: checksum of repeatable \"%s\" differs from member \"%s\"'s",
                           (size_t)ref->lineno, mig->id, path);
        if (s->nstmts > 0) {
            const struct manifest_stmt *last = &s->stmts[s->nstmts - 1];

            if (last->offset + last->length > m->members[idx].size)
                return err_set(p->err, "line %zu: statements run past the end of \"%s\"",
                               (size_t)ref->lineno, path);
        }
        for (size_t k = 0; k < s->ncopies; k++) {
            const struct manifest_copy *c = &s->copies[k];

            if (c->inline_data && c->offset + c->length > m->members[idx].size)
                return err_set(p->err, "line %zu: inline copy data runs past the end of \"%s\"",
                               (size_t)ref->lineno, path);
        }
    }
    for (size_t i = 0; i < m->nmembers; i++)
        if (!m->members[i].referenced)
            return err_set(p->err, "member \"%s\" is not named by any migration",
                           m->members[i].path);
    return 0;
}

static size_t
refs_count_keystmts(const struct refs *refs)
{
    size_t n = 0;

    for (size_t i = 0; i < refs->n; i++)
        n += refs->v[i].keystmt != 0;
    return n;
}

/* The provenance record names a member that no script names (resolve_refs checks the rest). */
static int
resolve_provenance(struct parser *p)
{
    long idx;

    if (p->m->provenance == NULL)
        return 0;
    idx = manifest_find_member(p->m, p->m->provenance);
    if (idx < 0)
        return err_set(p->err, "provenance names \"%s\", which is not a member", p->m->provenance);
    p->m->members[idx].referenced = 1;
    return 0;
}

/* Duplicate migration ids: sort a copy of the id pointers. */
static int
cmp_str_ptr(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
check_unique_ids(struct parser *p)
{
    struct manifest *m = p->m;
    char **ids = xmalloc((m->nmigrations + 1) * sizeof(*ids));
    int ret = 0;

    for (size_t i = 0; i < m->nmigrations; i++)
        ids[i] = m->migrations[i].id;
    qsort(ids, m->nmigrations, sizeof(*ids), cmp_str_ptr);
    for (size_t i = 1; i < m->nmigrations; i++) {
        if (strcmp(ids[i - 1], ids[i]) == 0) {
            ret = err_set(p->err, "duplicate migration id \"%s\"", ids[i]);
            break;
        }
    }
    free(ids);
    return ret;
}

/* Parse what p reads (p->m released and p set up by the caller). */
static int
parse(struct parser *p)
{
    struct manifest *m = p->m;
    struct diag_err *err = p->err;
    struct refs refs = {0};
    int ret = -1;

    buf_init(&refs.paths);
    if (parse_header(p) != 0 || parse_migrations(p, &refs) != 0 ||
        parse_repeatables(p, &refs) != 0 || parse_keystmts(p, &refs) != 0 ||
        parse_provenance(p) != 0 || parse_members(p) != 0)
        goto cleanup;
    if (p->minor_rep_lint && !has_repeatable_findings(m)) {
        err_set(err, "a version %s manifest has lint records in repeatables, and this one has none",
                MANIFEST_REPEATABLE_LINT_VERSION);
        goto cleanup;
    }
    if (p->minor_trust && !p->minor_rep_lint && m->expires == NULL &&
        refs_count_keystmts(&refs) == 0) {
        err_set(err, "a version %s manifest has an expiry or key statements, and this one has none",
                MANIFEST_TRUST_VERSION);
        goto cleanup;
    }
    if (p->minor_rep && !p->minor_trust && m->nrepeatables == 0) {
        err_set(err, "a version %s manifest lists repeatables, and this one has none",
                MANIFEST_REPEATABLES_VERSION);
        goto cleanup;
    }
    if (m->nmigrations == 0) {
        err_set(err, "manifest lists no migrations");
        goto cleanup;
    }
    if (check_unique_ids(p) != 0 || resolve_provenance(p) != 0 || resolve_refs(p, &refs) != 0)
        goto cleanup;
    ret = 0;
cleanup:
    free(refs.v);
    buf_release(&refs.paths);
    if (ret != 0)
        manifest_release(m);
    return ret;
}

int
manifest_parse(struct manifest *m, const char *text, size_t len, struct diag_err *err)
{
    struct parser p;

    manifest_release(m);
    memset(&p, 0, sizeof(p));
    p.m = m;
    p.text = text;
    p.len = len;
    p.eof = 1;
    p.err = err;
    /* Two searches of the whole text instead of two of every line (tens of thousands). */
    p.odd_bytes = memchr(text, '\r', len) != NULL || memchr(text, '\0', len) != NULL;
    err->msg[0] = '\0';
    if (len > MANIFEST_MAX_BYTES) {
        manifest_release(m);
        return err_set(err, "manifest is larger than %u bytes", MANIFEST_MAX_BYTES);
    }
    return parse(&p);
}

int
manifest_parse_stream(struct manifest *m, manifest_read_fn read, void *arg, struct diag_err *err)
{
    struct parser p;
    int ret;

    manifest_release(m);
    memset(&p, 0, sizeof(p));
    p.m = m;
    /* Room for what is slid to the front (under LINE_AHEAD bytes) and a chunk read after. */
    p.win_cap = LINE_AHEAD + MANIFEST_READ_CHUNK;
    p.win = xmalloc(p.win_cap);
    p.text = p.win;
    p.read = read;
    p.read_arg = arg;
    p.err = err;
    err->msg[0] = '\0';
    ret = parse(&p);
    free(p.win);
    return ret;
}
