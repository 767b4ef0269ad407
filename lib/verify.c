/*
 * verify.c: establish trust in a bundle (signatures, then manifest, then every member).
 * Layer: lib. Composes bundle.c, sig.c, manifest.c and hash.c; see verify.h for the order.
 */
#include "sealift/verify.h"
#include "sealift/bundle.h"
#include "sealift/hash.h"
#include "sealift/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DATA_CHUNK (64 * 1024)
#define TAR_BLOCK  512
/* End-of-archive marker and record padding a tar writer may add after the last member. */
#define TAR_TAIL_SLACK (2 * 10240 + 2 * TAR_BLOCK)

void
verify_result_init(struct verify_result *res)
{
    memset(res, 0, sizeof(*res));
    manifest_init(&res->manifest);
    buf_init(&res->manifest_text);
}

void
verify_result_release(struct verify_result *res)
{
    if (res->data) {
        for (size_t i = 0; i < res->manifest.nmembers; i++)
            buf_release(&res->data[i]);
        free(res->data);
    }
    for (size_t i = 0; i < res->nsigs; i++) {
        free(res->sigs[i].trusted_comment);
        buf_release(&res->sigs[i].text);
    }
    free(res->sigs);
    manifest_release(&res->manifest);
    buf_release(&res->manifest_text);
    verify_result_init(res);
}

/* "MANIFEST.<16 hex>.minisig" and its NUL always fit: the snprintf below never cuts. */
_Static_assert(sizeof(MANIFEST_NAME) + SIG_KEYID_HEX + sizeof(".minisig") - 1 <=
                   BUNDLE_SIG_NAME_MAX,
               "BUNDLE_SIG_NAME_MAX too small for a signature member name");

void
bundle_signature_name(char out[BUNDLE_SIG_NAME_MAX], const unsigned char *keyid)
{
    char hex[SIG_KEYID_HEX];

    snprintf(out, BUNDLE_SIG_NAME_MAX, "%s.%s.minisig", MANIFEST_NAME, sig_keyid_hex(hex, keyid));
}

void
bundle_trusted_comment(const struct manifest *m, struct buf *out)
{
    buf_addf(out, "sealift-bundle project=%s serial=%llu env=%s created=%s head=", m->project,
             (unsigned long long)m->serial, m->environment ? m->environment : "-", m->created);
    manifest_pct_encode(out, m->migrations[m->nmigrations - 1].id);
    /* Only bundles that expire say so: every older signature keeps its text. */
    if (m->expires)
        buf_addf(out, " expires=%s", m->expires);
}

/* "MANIFEST.<16 uppercase hex>.minisig" → key id bytes. Returns 0 if the name has that form. */
static int
parse_signature_name(const char *name, unsigned char keyid[SIG_KEYID_BYTES])
{
    static const char prefix[] = MANIFEST_NAME ".";
    static const char suffix[] = ".minisig";
    char hex[SIG_KEYID_HEX];

    if (strlen(name) != strlen(prefix) + 16 + strlen(suffix) ||
        strncmp(name, prefix, strlen(prefix)) != 0 ||
        strcmp(name + strlen(prefix) + 16, suffix) != 0)
        return -1;
    memcpy(hex, name + strlen(prefix), 16);
    hex[16] = '\0';
    return sig_keyid_parse(keyid, hex);
}

/*
 * Read the whole current entry (size bytes, already bounded by the caller) into out: straight
 * into room made once for exactly size bytes (and the NUL), not through a bounce buffer into a
 * buffer grown by doubling (a 4.5 MB manifest took an 8 MiB one). The reader stops at the
 * entry's end, so the room asked for one byte past it is only ever told "end of entry".
 */
static int
read_entry(struct bundle_reader *r, uint64_t size, struct buf *out, struct diag_err *err)
{
    ssize_t n;

    buf_reserve(out, (size_t)size + 1);
    while ((n = bundle_reader_read(r, out->data + out->len, out->cap - out->len - 1, err)) > 0) {
        out->len += (size_t)n;
        out->data[out->len] = '\0';
        if (out->cap - out->len < 2)
            buf_grow(out, 4096);
    }
    return n < 0 ? -1 : 0;
}

/*
 * The manifest as it streams out of the archive: through its parse, and through the SHA-256
 * (bundle id) and BLAKE2b-512 (what an "ED" signature signs) that the trust check needs, so
 * that its text (about 700 bytes a migration) is never held whole.
 */
struct manifest_stream {
    struct bundle_reader *r;
    struct hash_sha256 sha;
    struct hash_blake2b blake;
    int failed; /* reading failed: that error, not the parse's, is the one to report */
};

static ssize_t
stream_read(void *arg, void *buf, size_t len, struct diag_err *err)
{
    struct manifest_stream *s = arg;
    ssize_t n = bundle_reader_read(s->r, buf, len, err);

    if (n < 0) {
        s->failed = 1;
        return -1;
    }
    hash_sha256_update(&s->sha, buf, (size_t)n);
    hash_blake2b_update(&s->blake, buf, (size_t)n);
    return n;
}

/*
 * Parse the manifest (the current entry) as it streams, hashing every byte of it. Nothing of
 * the parse is trusted yet: a parse error goes to parse_err (parse_err->msg[0] set) and is
 * reported only once the signatures hold, so that a tampered manifest is reported as such.
 * Returns -1 (err set) only when the entry could not be read.
 */
static int
stream_manifest(struct bundle_reader *r, struct verify_result *res,
                unsigned char digest[HASH_BLAKE2B_BYTES], struct diag_err *parse_err,
                struct diag_err *err)
{
    struct manifest_stream s = {.r = r};
    unsigned char *chunk;
    ssize_t n;

    hash_sha256_init(&s.sha);
    hash_blake2b_init(&s.blake);
    if (manifest_parse_stream(&res->manifest, stream_read, &s, parse_err) == 0)
        parse_err->msg[0] = '\0';
    if (s.failed) {
        *err = *parse_err;
        return -1;
    }
    /* What a failed parse left unread still counts for the hashes. */
    chunk = xmalloc(DATA_CHUNK);
    while ((n = stream_read(&s, chunk, DATA_CHUNK, err)) > 0)
        ;
    free(chunk);
    if (n < 0)
        return -1;
    hash_sha256_final(&s.sha, res->bundle_id);
    hash_blake2b_final(&s.blake, digest);
    return 0;
}

/*
 * A legacy "Ed" signature signs the manifest itself, not its digest: read the manifest again
 * (only for such a bundle) and make sure it is the text that was parsed.
 */
static int
load_text_again(const char *path, struct verify_result *res, struct diag_err *err)
{
    struct bundle_reader *r = bundle_reader_open(path, err);
    struct bundle_entry e;
    unsigned char id[HASH_SHA256_BYTES];
    int ret;

    if (r == NULL)
        return -1;
    bundle_reader_set_limit(r, (uint64_t)MANIFEST_MAX_BYTES + 2 * TAR_BLOCK);
    ret = bundle_reader_next(r, &e, err);
    if (ret > 0 && strcmp(e.name, MANIFEST_NAME) == 0 && e.size <= MANIFEST_MAX_BYTES) {
        ret = read_entry(r, e.size, &res->manifest_text, err);
        if (ret == 0)
            hash_sha256(res->manifest_text.data, res->manifest_text.len, id);
        if (ret == 0 && !hash_equal(id, res->bundle_id, HASH_SHA256_BYTES))
            ret = err_set(err, "%s: changed while it was read", MANIFEST_NAME);
    } else if (ret >= 0) {
        ret = err_set(err, "%s: changed while it was read", MANIFEST_NAME);
    }
    bundle_reader_close(r);
    return ret;
}

/* The member must be byte for byte what sealift writes for this signature. */
static int
check_canonical_signature(const struct verify_signature *vs, const struct sig_signature *sig,
                          struct diag_err *err)
{
    struct buf want = BUF_INIT;
    int same;

    sig_format(sig, BUNDLE_SIG_UNTRUSTED_COMMENT, &want);
    same = want.len == vs->text.len && memcmp(want.data, vs->text.data, want.len) == 0;
    buf_release(&want);
    if (!same)
        return err_set(err,
                       "%s: not the canonical form of a sealift signature (its untrusted "
                       "comment must be \"%s\", lines end with LF)",
                       vs->member, BUNDLE_SIG_UNTRUSTED_COMMENT);
    return 0;
}

/* Is the manifest text in res->manifest_text (digest: NULL unless it was streamed)? */
static int
text_held(const struct verify_result *res, const unsigned char *digest)
{
    return digest == NULL || res->manifest_text.cap != 0;
}

/*
 * digest: the manifest's BLAKE2b-512 when it was streamed (NULL when it was read whole), which
 * "ED" signatures are checked against; path: to read the text again for an "Ed" one.
 */
static int
check_signatures(const struct verify_options *opt, struct verify_result *res, const char *next,
                 const char *path, const unsigned char *digest, struct diag_err *err)
{
    char id[SIG_KEYID_HEX];

    if (res->nsigs == 0 && next)
        return err_set(err,
                       "%s: bundle is not signed (no %s.<KEYID>.minisig member; \"%s\" follows "
                       "%s)",
                       MANIFEST_NAME, MANIFEST_NAME, next, MANIFEST_NAME);
    if (res->nsigs == 0)
        return err_set(err, "%s: bundle is not signed (no %s.<KEYID>.minisig member)",
                       MANIFEST_NAME, MANIFEST_NAME);
    for (size_t i = 0; i < res->nsigs; i++) {
        struct verify_signature *vs = &res->sigs[i];
        struct sig_signature sig;

        if (sig_parse(&sig, vs->text.data, vs->text.len, err) != 0)
            return err_prefix(err, "%s", vs->member);
        if (memcmp(sig.keyid, vs->keyid, SIG_KEYID_BYTES) != 0)
            return err_set(err, "%s: holds a signature by key %s, not the key its name says",
                           vs->member, sig_keyid_hex(id, sig.keyid));
        if (check_canonical_signature(vs, &sig, err) != 0)
            return -1;
        vs->trusted_comment = xstrdup(sig.trusted_comment);
        for (size_t k = 0; k < opt->nkeys; k++) {
            if (memcmp(opt->keys[k].keyid, sig.keyid, SIG_KEYID_BYTES) != 0)
                continue;
            vs->trusted = 1;
            /* A bad signature by a trusted key is evidence of tampering: refuse outright. */
            if (!text_held(res, digest) && !sig.prehashed && load_text_again(path, res, err) != 0)
                return -1;
            if (!text_held(res, digest) ? sig_verify_digest(&sig, &opt->keys[k], digest, err) != 0
                                        : sig_verify(&sig, &opt->keys[k], res->manifest_text.data,
                                                     res->manifest_text.len, err) != 0)
                return err_prefix(err, "%s", MANIFEST_NAME);
            vs->valid = 1;
            res->ntrusted_valid++;
            break;
        }
    }
    if (!opt->require_trust)
        return 0;
    if (res->ntrusted_valid < opt->threshold) {
        struct buf signers = BUF_INIT;

        for (size_t i = 0; i < res->nsigs; i++)
            buf_addf(&signers, "%s%s", i ? ", " : "", sig_keyid_hex(id, res->sigs[i].keyid));
        if (res->ntrusted_valid == 0)
            err_set(err, "%s: no signature by a trusted key (signed by %s)", MANIFEST_NAME,
                    signers.data);
        else
            err_set(err,
                    "%s: %zu valid signature%s by trusted keys, fewer than the threshold of %u "
                    "(signed by %s)",
                    MANIFEST_NAME, res->ntrusted_valid, res->ntrusted_valid == 1 ? "" : "s",
                    opt->threshold, signers.data);
        buf_release(&signers);
        return -1;
    }
    return 0;
}

static int
check_trusted_comments(const struct verify_result *res, struct diag_err *err)
{
    struct buf want = BUF_INIT;
    int ret = 0;

    bundle_trusted_comment(&res->manifest, &want);
    for (size_t i = 0; i < res->nsigs; i++) {
        if (res->sigs[i].valid && strcmp(res->sigs[i].trusted_comment, want.data) != 0) {
            ret = err_set(err, "%s: trusted comment \"%s\" does not describe this manifest",
                          res->sigs[i].member, res->sigs[i].trusted_comment);
            break;
        }
    }
    buf_release(&want);
    return ret;
}

/* Stream one member, checking it against the manifest record. */
static int
check_member(struct bundle_reader *r, const struct bundle_entry *e, size_t idx,
             struct verify_result *res, int keep, unsigned char *chunk, struct diag_err *err)
{
    const struct manifest_member *mem = &res->manifest.members[idx];
    struct hash_sha256 h;
    unsigned char got[HASH_SHA256_BYTES];
    ssize_t n;

    if (e->size != mem->size)
        return err_set(err, "member \"%s\" has %llu bytes; the manifest says %llu", e->name,
                       (unsigned long long)e->size, (unsigned long long)mem->size);
    hash_sha256_init(&h);
    while ((n = bundle_reader_read(r, chunk, DATA_CHUNK, err)) > 0) {
        hash_sha256_update(&h, chunk, (size_t)n);
        if (keep)
            buf_add(&res->data[idx], chunk, (size_t)n);
    }
    if (n < 0)
        return err_prefix(err, "member \"%s\"", e->name);
    hash_sha256_final(&h, got);
    if (!hash_equal(got, mem->sha256, HASH_SHA256_BYTES))
        return err_set(err, "member \"%s\": SHA-256 does not match the manifest", e->name);
    return 0;
}

static int
walk_members(struct bundle_reader *r, struct bundle_entry *e, int have_entry,
             const struct verify_options *opt, struct verify_result *res, unsigned char *chunk,
             struct diag_err *err)
{
    struct manifest *m = &res->manifest;
    uint64_t expect = TAR_TAIL_SLACK, kept = 0;
    int ret, keep;

    for (size_t i = 0; i < m->nmembers; i++)
        expect += TAR_BLOCK + (m->members[i].size + TAR_BLOCK - 1) / TAR_BLOCK * TAR_BLOCK;
    /* From here on the archive cannot hold more than the signed manifest accounts for. */
    bundle_reader_set_limit(r, expect);
    if (opt->keep_data)
        res->data = xcalloc(m->nmembers ? m->nmembers : 1, sizeof(*res->data));
    for (size_t i = 0; i < m->nmembers; i++) {
        const char *want = m->members[i].path;

        if (!have_entry) {
            ret = bundle_reader_next(r, e, err);
            if (ret < 0)
                return -1;
            if (ret == 0)
                return err_set(err, "member \"%s\" is missing", want);
        }
        have_entry = 0;
        if (strcmp(e->name, want) != 0) {
            long at = manifest_find_member(m, e->name);

            if (at < 0)
                return err_set(err, "member \"%s\" is not in the manifest", e->name);
            if ((size_t)at < i)
                return err_set(err, "member \"%s\" appears twice", e->name);
            return err_set(err,
                           "member \"%s\" is missing or out of order (found \"%s\" in its place)",
                           want, e->name);
        }
        /* Data members may be large: hashed now, streamed again when they are loaded. */
        keep = opt->keep_data && !m->members[i].is_data &&
               (!opt->keep || opt->keep(m, i, kept, opt->keep_arg));
        if (check_member(r, e, i, res, keep, chunk, err) != 0)
            return -1;
        if (keep)
            kept += m->members[i].size;
    }
    if (have_entry)
        return err_set(err, "member \"%s\" is not in the manifest", e->name);
    ret = bundle_reader_next(r, e, err);
    if (ret < 0)
        return err_prefix(err, "after the last member");
    if (ret > 0) {
        if (manifest_find_member(m, e->name) >= 0 || strcmp(e->name, MANIFEST_NAME) == 0)
            return err_set(err, "member \"%s\" appears twice", e->name);
        return err_set(err, "member \"%s\" is not in the manifest", e->name);
    }
    return 0;
}

static int
check_members(struct bundle_reader *r, struct bundle_entry *e, int have_entry,
              const struct verify_options *opt, struct verify_result *res, struct diag_err *err)
{
    /* One buffer for every member: thousands of small members each paid for a fresh one. */
    unsigned char *chunk = xmalloc(DATA_CHUNK);
    int ret = walk_members(r, e, have_entry, opt, res, chunk, err);

    free(chunk);
    return ret;
}

int
bundle_verify(const char *path, const struct verify_options *opt, struct verify_result *res,
              struct diag_err *err)
{
    struct bundle_reader *r;
    struct bundle_entry e;
    struct diag_err parse_err = DIAG_ERR_INIT;
    unsigned char digest[HASH_BLAKE2B_BYTES];
    int have_entry = 0;
    int ret = -1;
    size_t sigs_cap = 0;

    verify_result_release(res);
    r = bundle_reader_open(path, err);
    if (r == NULL)
        return -1;
    res->compression = bundle_reader_compression(r);
    res->file_size = bundle_reader_file_size(r);
    /* Before anything is trusted, bound what we read to a manifest and its signatures. */
    bundle_reader_set_limit(r, (uint64_t)MANIFEST_MAX_BYTES +
                                   VERIFY_MAX_SIGNATURES * (uint64_t)(SIG_FILE_MAX + TAR_BLOCK) +
                                   4 * TAR_BLOCK + TAR_TAIL_SLACK);

    /* 1. The manifest, then the signatures that follow it. */
    ret = bundle_reader_next(r, &e, err);
    if (ret <= 0) {
        if (ret == 0)
            err_set(err, "archive is empty");
        ret = -1;
        goto cleanup;
    }
    ret = -1;
    if (strcmp(e.name, MANIFEST_NAME) != 0) {
        err_set(err, "first member is \"%s\", not %s", e.name, MANIFEST_NAME);
        goto cleanup;
    }
    res->mtime = e.mtime;
    if (e.size > MANIFEST_MAX_BYTES) {
        err_set(err, "%s: larger than %u bytes", MANIFEST_NAME, MANIFEST_MAX_BYTES);
        goto cleanup;
    }
    if (opt->drop_text) {
        if (stream_manifest(r, res, digest, &parse_err, err) != 0) {
            err_prefix(err, "%s", MANIFEST_NAME);
            goto cleanup;
        }
    } else {
        if (read_entry(r, e.size, &res->manifest_text, err) != 0) {
            err_prefix(err, "%s", MANIFEST_NAME);
            goto cleanup;
        }
        hash_sha256(res->manifest_text.data, res->manifest_text.len, res->bundle_id);
    }
    for (;;) {
        unsigned char keyid[SIG_KEYID_BYTES];
        struct verify_signature *vs;
        int n = bundle_reader_next(r, &e, err);

        if (n < 0)
            goto cleanup;
        if (n == 0)
            break;
        if (parse_signature_name(e.name, keyid) != 0) {
            have_entry = 1;
            break;
        }
        if (res->nsigs == VERIFY_MAX_SIGNATURES) {
            err_set(err, "more than %d signatures", VERIFY_MAX_SIGNATURES);
            goto cleanup;
        }
        if (res->nsigs > 0 && strcmp(res->sigs[res->nsigs - 1].member, e.name) >= 0) {
            err_set(err, "signature member \"%s\" is duplicated or out of order", e.name);
            goto cleanup;
        }
        if (e.size > SIG_FILE_MAX) {
            err_set(err, "%s: larger than %d bytes", e.name, SIG_FILE_MAX);
            goto cleanup;
        }
        res->sigs = xgrow(res->sigs, &sigs_cap, res->nsigs + 1, sizeof(*res->sigs));
        vs = &res->sigs[res->nsigs++];
        memset(vs, 0, sizeof(*vs));
        buf_init(&vs->text);
        strcpy(vs->member, e.name);
        memcpy(vs->keyid, keyid, SIG_KEYID_BYTES);
        if (read_entry(r, e.size, &vs->text, err) != 0) {
            err_prefix(err, "%s", e.name);
            goto cleanup;
        }
    }

    /* 2. Trust: nothing in the manifest is looked at before this succeeds. */
    if (check_signatures(opt, res, have_entry ? e.name : NULL, path, opt->drop_text ? digest : NULL,
                         err) != 0)
        goto cleanup;

    /*
     * 3. The manifest, now trusted (or explicitly untrusted for inspect): parsed here, or as it
     * streamed (its parse untouched until now, its error kept until now).
     */
    if (!opt->drop_text &&
        manifest_parse(&res->manifest, res->manifest_text.data, res->manifest_text.len, err) != 0) {
        err_prefix(err, "%s", MANIFEST_NAME);
        goto cleanup;
    }
    if (opt->drop_text && parse_err.msg[0]) {
        *err = parse_err;
        err_prefix(err, "%s", MANIFEST_NAME);
        goto cleanup;
    }
    if (check_trusted_comments(res, err) != 0)
        goto cleanup;
    /* Read again only for a legacy signature: a caller that wants only the parse lets it go. */
    if (opt->drop_text)
        buf_release(&res->manifest_text);

    /* 4 and 5. Every member, in order, and nothing after the last. */
    if (check_members(r, &e, have_entry, opt, res, err) != 0)
        goto cleanup;
    ret = 0;
cleanup:
    bundle_reader_close(r);
    if (ret != 0 && !err->io)
        err_prefix(err, "%s", path);
    if (ret != 0) {
        int io = err->io;

        verify_result_release(res);
        err->io = io;
    }
    return ret;
}

/* ---- second reading of data members ---- */

struct bundle_cursor {
    char *path;
    const struct manifest *m;
    struct bundle_reader *r;
    long at; /* member index the reader is positioned in, -1 before any */
    struct hash_sha256 h;
    uint64_t left;
    int open_member;
};

struct bundle_cursor *
bundle_cursor_open(const char *path, const struct manifest *m, struct diag_err *err)
{
    struct bundle_cursor *c = xcalloc(1, sizeof(*c));

    (void)err;
    c->path = xstrdup(path);
    c->m = m;
    c->at = -1;
    return c;
}

const char *
bundle_cursor_path(const struct bundle_cursor *c)
{
    return c->path;
}

void
bundle_cursor_close(struct bundle_cursor *c)
{
    if (c == NULL)
        return;
    bundle_reader_close(c->r);
    free(c->path);
    free(c);
}

/* Read and discard the rest of the current entry. */
static int
drain_entry(struct bundle_reader *r, struct diag_err *err)
{
    char chunk[65536];
    ssize_t n;

    while ((n = bundle_reader_read(r, chunk, sizeof(chunk), err)) > 0)
        ;
    return n < 0 ? -1 : 0;
}

int
bundle_cursor_seek(struct bundle_cursor *c, size_t member, struct diag_err *err)
{
    const struct manifest_member *want = &c->m->members[member];
    struct bundle_entry e;
    uint64_t expect = (uint64_t)MANIFEST_MAX_BYTES +
                      VERIFY_MAX_SIGNATURES * (uint64_t)(SIG_FILE_MAX + TAR_BLOCK) + TAR_TAIL_SLACK;

    /* Forward only: going back (or starting) means reading from the beginning again. */
    if (c->r == NULL || (long)member <= c->at) {
        bundle_reader_close(c->r);
        c->r = bundle_reader_open(c->path, err);
        if (c->r == NULL)
            return -1;
        for (size_t i = 0; i < c->m->nmembers; i++)
            expect += TAR_BLOCK + (c->m->members[i].size + TAR_BLOCK - 1) / TAR_BLOCK * TAR_BLOCK;
        bundle_reader_set_limit(c->r, expect);
        c->at = -1;
    } else if (drain_entry(c->r, err) != 0) {
        return -1;
    }
    for (;;) {
        int n = bundle_reader_next(c->r, &e, err);

        if (n < 0)
            return err_prefix(err, "%s: reading \"%s\" again", c->path, want->path);
        if (n == 0)
            return err_set(err, "%s: member \"%s\" is gone since the bundle was verified", c->path,
                           want->path);
        if (strcmp(e.name, want->path) == 0)
            break;
        if (drain_entry(c->r, err) != 0)
            return -1;
    }
    if (e.size != want->size)
        return err_set(err, "%s: member \"%s\" changed since the bundle was verified", c->path,
                       want->path);
    c->at = (long)member;
    c->left = want->size;
    c->open_member = 1;
    hash_sha256_init(&c->h);
    return 0;
}

ssize_t
bundle_cursor_read(struct bundle_cursor *c, void *buf, size_t len, struct diag_err *err)
{
    const struct manifest_member *mem;
    unsigned char got[HASH_SHA256_BYTES];
    ssize_t n;

    if (!c->open_member)
        return 0;
    mem = &c->m->members[c->at];
    if (c->left == 0) {
        c->open_member = 0;
        hash_sha256_final(&c->h, got);
        if (!hash_equal(got, mem->sha256, HASH_SHA256_BYTES))
            return err_set(err, "%s: member \"%s\" changed since the bundle was verified", c->path,
                           mem->path);
        return 0;
    }
    if (len > c->left)
        len = (size_t)c->left;
    n = bundle_reader_read(c->r, buf, len, err);
    if (n < 0)
        return err_prefix(err, "%s: member \"%s\"", c->path, mem->path);
    if (n == 0)
        return err_set(err, "%s: member \"%s\" is shorter than when it was verified", c->path,
                       mem->path);
    hash_sha256_update(&c->h, buf, (size_t)n);
    c->left -= (uint64_t)n;
    /* The last bytes are handed out only once the whole member hashes as verified. */
    if (c->left == 0) {
        hash_sha256_final(&c->h, got);
        c->open_member = 0;
        if (!hash_equal(got, mem->sha256, HASH_SHA256_BYTES))
            return err_set(err, "%s: member \"%s\" changed since the bundle was verified", c->path,
                           mem->path);
    }
    return n;
}
