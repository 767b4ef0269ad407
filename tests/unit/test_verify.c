/*
 * test_verify.c: unit tests for lib/verify.c. Real signed bundles are built in the test
 * (generated keys, an emitted manifest, sig_sign with bundle_trusted_comment, bundle_writer in
 * the order MANIFEST, MANIFEST.<KEYID>.minisig, members), then tampered with one way at a time;
 * each tampered bundle must be refused with a message naming the problem.
 * Layer: tests.
 */
#include "unit.h"

#include "sealift/bundle.h"
#include "sealift/hash.h"
#include "sealift/manifest.h"
#include "sealift/seckey.h"
#include "sealift/sig.h"
#include "sealift/verify.h"
#include "sealift/xalloc.h"

#include <sodium.h>

#define MTIME 1767225600

#define PATH_UP1     "migrations/0001_create_users/up.sql"
#define PATH_DOWN1   "migrations/0001_create_users/down.sql"
#define PATH_UP2     "migrations/0002_add_index/up.sql"
#define PATH_VERIFY2 "migrations/0002_add_index/verify.sql"

static const struct {
    const char *path;
    const char *data;
} members[] = {
    {PATH_UP1, "CREATE TABLE users (id int);\n"},
    {PATH_DOWN1, "DROP TABLE users;\n"},
    {PATH_UP2, "CREATE INDEX CONCURRENTLY a ON users (id);\n"},
    {PATH_VERIFY2, "SELECT 1;\n"},
};
#define NMEMBERS (sizeof(members) / sizeof(members[0]))

#define MAX_ENTRIES 16

struct entry {
    char name[BUNDLE_MAX_NAME + 1];
    const char *data;
    size_t len;
};

/* The entries of a bundle to write, in archive order. */
struct plan {
    struct entry e[MAX_ENTRIES];
    size_t n;
    enum codec_kind codec;
    const char *append; /* bytes to add after the compressed stream */
};

struct fixture {
    char dir[UNIT_PATH_MAX];
    struct seckey *key1, *key2;
    struct sig_pubkey pub1, pub2;
    char name1[BUNDLE_SIG_NAME_MAX], name2[BUNDLE_SIG_NAME_MAX];
    char id1[SIG_KEYID_HEX], id2[SIG_KEYID_HEX];
    struct manifest m;
    struct buf text;          /* the emitted manifest */
    struct buf sig1, sig2;    /* its signatures by key1 and key2 */
    struct buf scratch[4];    /* storage for tampered contents */
    char path[UNIT_PATH_MAX]; /* where the bundle under test is written */
};

static void
build_manifest(struct manifest *m, uint64_t serial)
{
    struct manifest_migration *mig;
    unsigned char sha[HASH_SHA256_BYTES];

    manifest_init(m);
    m->project = xstrdup("demo");
    m->serial = serial;
    m->environment = xstrdup("prod");
    m->created = xstrdup("2026-01-02T03:04:05Z");
    m->compiler = xstrdup("sealift 0.1.0");
    m->source = xstrdup("native");
    for (size_t i = 0; i < NMEMBERS; i++) {
        hash_sha256(members[i].data, strlen(members[i].data), sha);
        manifest_add_member(m, members[i].path, strlen(members[i].data), sha);
    }
    mig = manifest_add_migration(m, "0001", "create_users");
    mig->script[MANIFEST_UP] = (struct manifest_script){.present = 1, .transactional = 1};
    mig->script[MANIFEST_UP].member = 0;
    mig->script[MANIFEST_DOWN] = (struct manifest_script){.present = 1, .transactional = 1};
    mig->script[MANIFEST_DOWN].member = 1;
    mig = manifest_add_migration(m, "0002", "add_index");
    mig->script[MANIFEST_UP] = (struct manifest_script){.present = 1, .transactional = 0};
    mig->script[MANIFEST_UP].member = 2;
    manifest_script_add_stmt(&mig->script[MANIFEST_UP], 0, strlen(members[2].data) - 1);
    mig->script[MANIFEST_VERIFY] = (struct manifest_script){.present = 1, .transactional = 1};
    mig->script[MANIFEST_VERIFY].member = 3;
    for (size_t i = 0; i < m->nmigrations; i++)
        for (int k = 0; k < MANIFEST_NSCRIPTS; k++)
            if (m->migrations[i].script[k].present)
                hash_sha256(members[m->migrations[i].script[k].member].data,
                            strlen(members[m->migrations[i].script[k].member].data),
                            m->migrations[i].script[k].source);
    manifest_chain_fill(m);
}

/* Sign text with key as the compiler does, with the trusted comment describing m. */
static void
sign_manifest(const struct seckey *key, const struct manifest *m, const struct buf *text,
              struct buf *out)
{
    struct buf tc = BUF_INIT;
    struct diag_err err = DIAG_ERR_INIT;

    bundle_trusted_comment(m, &tc);
    if (sig_sign(key, text->data, text->len, tc.data, BUNDLE_SIG_UNTRUSTED_COMMENT, out, &err) != 0)
        fail_msg("sig_sign: %s", err.msg);
    buf_release(&tc);
}

static int
setup_group(void **state)
{
    (void)state;
    umask(022);
    return hash_library_init();
}

static int
setup_fixture(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    if (f == NULL || unit_mkdtemp(f->dir) != 0) {
        free(f);
        return -1;
    }
    f->key1 = seckey_generate();
    f->key2 = seckey_generate();
    seckey_pubkey(f->key1, &f->pub1);
    seckey_pubkey(f->key2, &f->pub2);
    bundle_signature_name(f->name1, f->pub1.keyid);
    bundle_signature_name(f->name2, f->pub2.keyid);
    sig_keyid_hex(f->id1, f->pub1.keyid);
    sig_keyid_hex(f->id2, f->pub2.keyid);
    build_manifest(&f->m, 7);
    buf_init(&f->text);
    manifest_emit(&f->m, &f->text);
    buf_init(&f->sig1);
    buf_init(&f->sig2);
    sign_manifest(f->key1, &f->m, &f->text, &f->sig1);
    sign_manifest(f->key2, &f->m, &f->text, &f->sig2);
    for (size_t i = 0; i < 4; i++)
        buf_init(&f->scratch[i]);
    unit_path(f->path, f->dir, "test.bundle");
    *state = f;
    return 0;
}

static int
teardown_fixture(void **state)
{
    struct fixture *f = *state;
    int ret = unit_rmtree(f->dir);

    seckey_free(f->key1);
    seckey_free(f->key2);
    manifest_release(&f->m);
    buf_release(&f->text);
    buf_release(&f->sig1);
    buf_release(&f->sig2);
    for (size_t i = 0; i < 4; i++)
        buf_release(&f->scratch[i]);
    free(f);
    return ret;
}

static void
plan_add(struct plan *p, const char *name, const char *data, size_t len)
{
    assert_true(p->n < MAX_ENTRIES);
    assert_true(strlen(name) <= BUNDLE_MAX_NAME);
    strcpy(p->e[p->n].name, name);
    p->e[p->n].data = data;
    p->e[p->n].len = len;
    p->n++;
}

static void
plan_remove(struct plan *p, size_t at)
{
    assert_true(at < p->n);
    memmove(&p->e[at], &p->e[at + 1], (p->n - at - 1) * sizeof(p->e[0]));
    p->n--;
}

static void
plan_insert(struct plan *p, size_t at, const struct entry *e)
{
    assert_true(p->n < MAX_ENTRIES && at <= p->n);
    memmove(&p->e[at + 1], &p->e[at], (p->n - at) * sizeof(p->e[0]));
    p->e[at] = *e;
    p->n++;
}

/* The bundle the compiler would write: MANIFEST, key1's signature, the members. */
static void
plan_standard(const struct fixture *f, struct plan *p)
{
    memset(p, 0, sizeof(*p));
    p->codec = CODEC_ZSTD;
    plan_add(p, MANIFEST_NAME, f->text.data, f->text.len);
    plan_add(p, f->name1, f->sig1.data, f->sig1.len);
    for (size_t i = 0; i < NMEMBERS; i++)
        plan_add(p, members[i].path, members[i].data, strlen(members[i].data));
}

static void
write_plan(const char *path, const struct plan *p)
{
    struct diag_err err = DIAG_ERR_INIT;
    struct bundle_writer *w = bundle_writer_open(path, p->codec, MTIME, &err);

    if (w == NULL)
        fail_msg("bundle_writer_open: %s", err.msg);
    for (size_t i = 0; i < p->n; i++)
        if (bundle_writer_add(w, p->e[i].name, p->e[i].data, p->e[i].len, &err) != 0)
            fail_msg("bundle_writer_add: %s", err.msg);
    if (bundle_writer_close(w, &err) != 0)
        fail_msg("bundle_writer_close: %s", err.msg);
    if (p->append) {
        int fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);

        assert_true(fd >= 0);
        assert_int_equal(write(fd, p->append, strlen(p->append)), (ssize_t)strlen(p->append));
        close(fd);
    }
}

static struct verify_options
trust(const struct sig_pubkey *keys, size_t nkeys, unsigned threshold)
{
    struct verify_options o;

    memset(&o, 0, sizeof(o));
    o.keys = keys;
    o.nkeys = nkeys;
    o.threshold = threshold;
    o.require_trust = 1;
    o.keep_data = 1;
    return o;
}

static void
test_verify_accepts_signed_bundle(void **state)
{
    static const enum codec_kind kinds[] = {CODEC_ZSTD, CODEC_GZIP, CODEC_NONE};
    struct fixture *f = *state;

    for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
        struct verify_options o = trust(&f->pub1, 1, 1);
        struct verify_result res;
        struct diag_err err = DIAG_ERR_INIT;
        struct buf tc = BUF_INIT;
        unsigned char id[HASH_SHA256_BYTES];
        struct plan p;
        struct stat st;

        plan_standard(f, &p);
        p.codec = kinds[k];
        write_plan(f->path, &p);
        verify_result_init(&res);
        if (bundle_verify(f->path, &o, &res, &err) != 0)
            fail_msg("%s bundle refused: %s", codec_name(kinds[k]), err.msg);
        assert_int_equal(res.compression, kinds[k]);
        assert_int_equal(stat(f->path, &st), 0);
        assert_int_equal(res.file_size, (uint64_t)st.st_size);
        assert_int_equal(res.mtime, MTIME);
        assert_int_equal(res.manifest_text.len, f->text.len);
        assert_memory_equal(res.manifest_text.data, f->text.data, f->text.len);
        hash_sha256(f->text.data, f->text.len, id);
        assert_memory_equal(res.bundle_id, id, sizeof(id));
        assert_string_equal(res.manifest.project, "demo");
        assert_int_equal(res.manifest.nmigrations, 2);
        assert_int_equal(res.manifest.nmembers, NMEMBERS);
        assert_int_equal(res.nsigs, 1);
        assert_int_equal(res.ntrusted_valid, 1);
        assert_string_equal(res.sigs[0].member, f->name1);
        assert_memory_equal(res.sigs[0].keyid, f->pub1.keyid, SIG_KEYID_BYTES);
        assert_true(res.sigs[0].trusted);
        assert_true(res.sigs[0].valid);
        bundle_trusted_comment(&f->m, &tc);
        assert_string_equal(res.sigs[0].trusted_comment, tc.data);
        assert_string_equal(res.sigs[0].text.data, f->sig1.data);
        assert_non_null(res.data);
        for (size_t i = 0; i < NMEMBERS; i++) {
            assert_int_equal(res.data[i].len, strlen(members[i].data));
            assert_memory_equal(res.data[i].data, members[i].data, res.data[i].len);
        }
        verify_result_release(&res);
        assert_int_equal(res.nsigs, 0);
        assert_null(res.data);
        buf_release(&tc);
    }
}

/* A minisign -l style ("Ed") signature of text by key, in the canonical member form. */
static void
sign_legacy(const struct seckey *key, const struct buf *prehashed_sig, const struct buf *text,
            struct buf *out)
{
    struct sig_signature sig;
    struct diag_err err = DIAG_ERR_INIT;
    unsigned char global_msg[SIG_SIGNATURE_BYTES + SIG_TRUSTED_COMMENT_MAX];
    size_t tc_len;

    /* The prehashed one's key id and trusted comment; signatures over the text itself. */
    if (sig_parse(&sig, prehashed_sig->data, prehashed_sig->len, &err) != 0)
        fail_msg("sig_parse: %s", err.msg);
    sig.prehashed = 0;
    crypto_sign_detached(sig.sig, NULL, (const unsigned char *)text->data, text->len, key->sk);
    tc_len = strlen(sig.trusted_comment);
    memcpy(global_msg, sig.sig, SIG_SIGNATURE_BYTES);
    memcpy(global_msg + SIG_SIGNATURE_BYTES, sig.trusted_comment, tc_len);
    crypto_sign_detached(sig.global_sig, NULL, global_msg, SIG_SIGNATURE_BYTES + tc_len, key->sk);
    sig_format(&sig, BUNDLE_SIG_UNTRUSTED_COMMENT, out);
}

/*
 * The applier's way (drop_text): the manifest is parsed and hashed as it streams, its text is
 * never kept, and a legacy signature (over the text, not its digest) still verifies.
 */
static void
test_verify_streamed_manifest(void **state)
{
    struct fixture *f = *state;
    struct verify_options o = trust(&f->pub1, 1, 1);
    struct verify_result res;
    struct diag_err err = DIAG_ERR_INIT;
    struct buf legacy = BUF_INIT, forged = BUF_INIT, want = BUF_INIT;
    struct manifest other;
    unsigned char id[HASH_SHA256_BYTES];
    struct plan p;

    o.drop_text = 1;
    hash_sha256(f->text.data, f->text.len, id);
    sign_legacy(f->key1, &f->sig1, &f->text, &legacy);
    for (int is_legacy = 0; is_legacy < 2; is_legacy++) {
        plan_standard(f, &p);
        if (is_legacy) {
            p.e[1].data = legacy.data;
            p.e[1].len = legacy.len;
        }
        write_plan(f->path, &p);
        verify_result_init(&res);
        if (bundle_verify(f->path, &o, &res, &err) != 0)
            fail_msg("%s signature refused: %s", is_legacy ? "legacy" : "prehashed", err.msg);
        assert_int_equal(res.manifest_text.len, 0);
        assert_int_equal(res.manifest_text.cap, 0);
        assert_memory_equal(res.bundle_id, id, sizeof(id));
        assert_string_equal(res.manifest.project, "demo");
        assert_int_equal(res.manifest.nmigrations, 2);
        assert_int_equal(res.manifest.nmembers, NMEMBERS);
        assert_int_equal(res.ntrusted_valid, 1);
        assert_true(res.sigs[0].valid);
        verify_result_release(&res);
    }

    /* The legacy signature of this manifest does not make another one trusted. */
    build_manifest(&other, 8);
    manifest_emit(&other, &forged);
    manifest_release(&other);
    plan_standard(f, &p);
    p.e[0].data = forged.data;
    p.e[0].len = forged.len;
    p.e[1].data = legacy.data;
    p.e[1].len = legacy.len;
    write_plan(f->path, &p);
    verify_result_init(&res);
    assert_int_equal(bundle_verify(f->path, &o, &res, &err), -1);
    buf_addf(&want, "MANIFEST: signature by key %s does not verify", f->id1);
    assert_contains(err.msg, want.data);
    assert_int_equal(res.manifest.nmigrations, 0);
    buf_release(&legacy);
    buf_release(&forged);
    buf_release(&want);
}

static void
test_verify_options_change_what_is_kept_and_checked(void **state)
{
    struct fixture *f = *state;
    struct verify_options o = trust(&f->pub1, 1, 1);
    struct verify_result res;
    struct diag_err err = DIAG_ERR_INIT;
    struct plan p;

    verify_result_init(&res);
    plan_standard(f, &p);
    write_plan(f->path, &p);

    /* Without keep_data, contents are checked but not kept. */
    o.keep_data = 0;
    assert_int_equal(bundle_verify(f->path, &o, &res, &err), 0);
    assert_null(res.data);

    /* Without trust (inspect), an unknown signer is listed but not valid. */
    o = trust(NULL, 0, 1);
    o.require_trust = 0;
    assert_int_equal(bundle_verify(f->path, &o, &res, &err), 0);
    assert_int_equal(res.nsigs, 1);
    assert_false(res.sigs[0].trusted);
    assert_false(res.sigs[0].valid);
    assert_int_equal(res.ntrusted_valid, 0);

    /* ...but the members are still checked against the manifest. */
    buf_addstr(&f->scratch[0], members[0].data);
    f->scratch[0].data[0] = 'c';
    p.e[2].data = f->scratch[0].data;
    write_plan(f->path, &p);
    assert_int_equal(bundle_verify(f->path, &o, &res, &err), -1);
    assert_contains(err.msg, "member \"" PATH_UP1 "\": SHA-256 does not match the manifest");

    /* Verifying into a used result replaces it. */
    plan_standard(f, &p);
    write_plan(f->path, &p);
    o = trust(&f->pub1, 1, 1);
    assert_int_equal(bundle_verify(f->path, &o, &res, &err), 0);
    assert_int_equal(bundle_verify(f->path, &o, &res, &err), 0);
    assert_int_equal(res.nsigs, 1);
    verify_result_release(&res);
}

static void
test_verify_threshold_counts_distinct_trusted_keys(void **state)
{
    struct fixture *f = *state;
    struct sig_pubkey both[2];
    struct verify_result res;
    struct diag_err err = DIAG_ERR_INIT;
    struct verify_options o;
    struct plan p;
    int second_first = strcmp(f->name2, f->name1) < 0;
    struct entry e2;

    both[0] = f->pub1;
    both[1] = f->pub2;
    verify_result_init(&res);
    /* Two signatures, in name order as the writer puts them. */
    plan_standard(f, &p);
    strcpy(e2.name, f->name2);
    e2.data = f->sig2.data;
    e2.len = f->sig2.len;
    plan_insert(&p, second_first ? 1 : 2, &e2);
    write_plan(f->path, &p);

    o = trust(both, 2, 2);
    if (bundle_verify(f->path, &o, &res, &err) != 0)
        fail_msg("two signers, threshold 2: %s", err.msg);
    assert_int_equal(res.nsigs, 2);
    assert_int_equal(res.ntrusted_valid, 2);

    /* One of the two trusted: enough for 1, not for 2. */
    o = trust(&f->pub2, 1, 1);
    assert_int_equal(bundle_verify(f->path, &o, &res, &err), 0);
    assert_int_equal(res.ntrusted_valid, 1);
    assert_true(res.sigs[second_first ? 0 : 1].valid);
    assert_false(res.sigs[second_first ? 1 : 0].trusted);
    o = trust(&f->pub2, 1, 2);
    assert_int_equal(bundle_verify(f->path, &o, &res, &err), -1);
    assert_contains(err.msg, "1 valid signature by trusted keys, fewer than the threshold of 2");
    /* The same key listed twice is still one key. */
    both[0] = f->pub2;
    o = trust(both, 2, 2);
    assert_int_equal(bundle_verify(f->path, &o, &res, &err), -1);
    assert_contains(err.msg, "fewer than the threshold of 2");
    verify_result_release(&res);
}

/* ---- tampering, one way at a time ---- */

struct tamper;
typedef void (*tamper_fn)(struct fixture *f, struct plan *p);

static void
t_wrong_key(struct fixture *f, struct plan *p)
{
    /* Signed by key2 only; the verifier trusts key1. */
    strcpy(p->e[1].name, f->name2);
    p->e[1].data = f->sig2.data;
    p->e[1].len = f->sig2.len;
}

static void
t_no_signature(struct fixture *f, struct plan *p)
{
    (void)f;
    plan_remove(p, 1);
}

static void
t_member_changed(struct fixture *f, struct plan *p)
{
    buf_addstr(&f->scratch[0], members[1].data);
    f->scratch[0].data[0] = 'd'; /* same size, different bytes */
    p->e[3].data = f->scratch[0].data;
}

static void
t_member_resized(struct fixture *f, struct plan *p)
{
    buf_addstr(&f->scratch[0], members[1].data);
    buf_addch(&f->scratch[0], '\n');
    p->e[3].data = f->scratch[0].data;
    p->e[3].len = f->scratch[0].len;
}

static void
t_member_missing(struct fixture *f, struct plan *p)
{
    (void)f;
    plan_remove(p, p->n - 1);
}

static void
t_member_missing_middle(struct fixture *f, struct plan *p)
{
    (void)f;
    plan_remove(p, 3);
}

static void
t_extra_member_end(struct fixture *f, struct plan *p)
{
    (void)f;
    plan_add(p, "extra.sql", "DROP TABLE users;\n", 18);
}

static void
t_extra_member_first(struct fixture *f, struct plan *p)
{
    struct entry e = {"migrations/0000_evil/up.sql", "DROP TABLE users;\n", 18};

    (void)f;
    plan_insert(p, 2, &e);
}

static void
t_duplicated_member(struct fixture *f, struct plan *p)
{
    (void)f;
    plan_add(p, p->e[2].name, p->e[2].data, p->e[2].len);
}

static void
t_duplicated_adjacent(struct fixture *f, struct plan *p)
{
    struct entry e = p->e[2];

    (void)f;
    plan_insert(p, 3, &e);
}

static void
t_out_of_order(struct fixture *f, struct plan *p)
{
    struct entry tmp = p->e[2];

    (void)f;
    p->e[2] = p->e[3];
    p->e[3] = tmp;
}

static void
t_manifest_not_first(struct fixture *f, struct plan *p)
{
    struct entry tmp = p->e[0];

    (void)f;
    p->e[0] = p->e[2];
    p->e[2] = tmp;
}

static void
t_signature_first(struct fixture *f, struct plan *p)
{
    struct entry tmp = p->e[0];

    (void)f;
    p->e[0] = p->e[1];
    p->e[1] = tmp;
}

static void
t_manifest_twice(struct fixture *f, struct plan *p)
{
    plan_add(p, MANIFEST_NAME, f->text.data, f->text.len);
}

static void
t_empty_archive(struct fixture *f, struct plan *p)
{
    (void)f;
    p->n = 0;
}

/* A valid signature whose trusted comment describes another manifest (serial 8). */
static void
t_comment_mismatch(struct fixture *f, struct plan *p)
{
    struct manifest other;

    build_manifest(&other, 8);
    sign_manifest(f->key1, &other, &f->text, &f->scratch[0]);
    manifest_release(&other);
    p->e[1].data = f->scratch[0].data;
    p->e[1].len = f->scratch[0].len;
}

/* key1's signature stored under key2's member name. */
static void
t_signature_name_mismatch(struct fixture *f, struct plan *p)
{
    strcpy(p->e[1].name, f->name2);
}

/* The manifest edited after signing (serial 8, re-emitted): the signature no longer holds. */
static void
t_forged_manifest(struct fixture *f, struct plan *p)
{
    struct manifest other;

    build_manifest(&other, 8);
    manifest_emit(&other, &f->scratch[0]);
    manifest_release(&other);
    p->e[0].data = f->scratch[0].data;
    p->e[0].len = f->scratch[0].len;
}

/* The manifest's first line, changed after signing: it would not parse either. */
static void
t_garbled_manifest(struct fixture *f, struct plan *p)
{
    buf_add(&f->scratch[0], f->text.data, f->text.len);
    f->scratch[0].data[strlen("# sealift-manifest ")] = '9';
    p->e[0].data = f->scratch[0].data;
}

/* The same manifest, signed as it is: trusted, then refused by the parser. */
static void
t_garbled_manifest_signed(struct fixture *f, struct plan *p)
{
    t_garbled_manifest(f, p);
    sign_manifest(f->key1, &f->m, &f->scratch[0], &f->scratch[2]);
    p->e[1].data = f->scratch[2].data;
    p->e[1].len = f->scratch[2].len;
}

static void
t_signature_garbage(struct fixture *f, struct plan *p)
{
    (void)f;
    p->e[1].data = "not a signature\n";
    p->e[1].len = 16;
}

static void
t_signature_duplicated(struct fixture *f, struct plan *p)
{
    struct entry e = p->e[1];

    (void)f;
    plan_insert(p, 2, &e);
}

static void
t_signatures_out_of_order(struct fixture *f, struct plan *p)
{
    struct entry e;
    int second_first = strcmp(f->name2, f->name1) < 0;

    strcpy(e.name, f->name2);
    e.data = f->sig2.data;
    e.len = f->sig2.len;
    plan_insert(p, second_first ? 2 : 1, &e);
}

static void
t_signature_after_members(struct fixture *f, struct plan *p)
{
    struct entry e = p->e[1];

    (void)f;
    plan_remove(p, 1);
    plan_insert(p, p->n, &e);
}

static void
t_junk_after_stream(struct fixture *f, struct plan *p)
{
    (void)f;
    p->append = "junk";
}

/* A member that holds more bytes than the manifest allows (a bomb in disguise). */
static void
t_member_huge(struct fixture *f, struct plan *p)
{
    while (f->scratch[1].len < 3 * 1024 * 1024)
        buf_addstr(&f->scratch[1], "SELECT 1; -- padding padding padding padding padding\n");
    p->e[3].data = f->scratch[1].data;
    p->e[3].len = f->scratch[1].len;
}

/* The unsigned parts of a signature member changed: its untrusted comment, its line ends. */
static void
t_signature_comment_edited(struct fixture *f, struct plan *p)
{
    buf_add(&f->scratch[0], p->e[1].data, p->e[1].len);
    f->scratch[0].data[strlen("untrusted comment: ")] ^= 0x20;
    p->e[1].data = f->scratch[0].data;
}

static void
t_signature_crlf(struct fixture *f, struct plan *p)
{
    for (size_t i = 0; i < p->e[1].len; i++) {
        if (p->e[1].data[i] == '\n')
            buf_addch(&f->scratch[0], '\r');
        buf_addch(&f->scratch[0], p->e[1].data[i]);
    }
    p->e[1].data = f->scratch[0].data;
    p->e[1].len = f->scratch[0].len;
}

enum keys { KEY1, KEY2, BOTH, KEY1_WRONG_BYTES };

static const struct tamper {
    const char *name;
    tamper_fn fn;
    enum keys keys;
    unsigned threshold;
    const char *expect; /* KEYID1 and KEYID2 are replaced by the fixture's key ids */
} tampers[] = {
    {"wrong trusted key", t_wrong_key, KEY1, 1,
     "MANIFEST: no signature by a trusted key (signed by KEYID2)"},
    {"no signature", t_no_signature, KEY1, 1,
     "MANIFEST: bundle is not signed (no MANIFEST.<KEYID>.minisig member; "
     "\"migrations/0001_create_users/up.sql\" follows MANIFEST)"},
    {"threshold 2 with one signer", NULL, BOTH, 2,
     "MANIFEST: 1 valid signature by trusted keys, fewer than the threshold of 2 (signed by "
     "KEYID1)"},
    {"trusted key id with other key bytes", NULL, KEY1_WRONG_BYTES, 1,
     "MANIFEST: signature by key KEYID1 does not verify"},
    {"member content changed", t_member_changed, KEY1, 1,
     "member \"" PATH_DOWN1 "\": SHA-256 does not match the manifest"},
    {"member size changed", t_member_resized, KEY1, 1,
     "member \"" PATH_DOWN1 "\" has 19 bytes; the manifest says 18"},
    {"member missing at the end", t_member_missing, KEY1, 1,
     "member \"" PATH_VERIFY2 "\" is missing"},
    {"member missing in the middle", t_member_missing_middle, KEY1, 1,
     "member \"" PATH_DOWN1 "\" is missing or out of order (found \"" PATH_UP2 "\" in its place)"},
    {"extra member at the end", t_extra_member_end, KEY1, 1,
     "member \"extra.sql\" is not in the manifest"},
    {"extra member before the others", t_extra_member_first, KEY1, 1,
     "member \"migrations/0000_evil/up.sql\" is not in the manifest"},
    {"member duplicated at the end", t_duplicated_member, KEY1, 1,
     "member \"" PATH_UP1 "\" appears twice"},
    {"member duplicated in place", t_duplicated_adjacent, KEY1, 1,
     "member \"" PATH_UP1 "\" appears twice"},
    {"members out of order", t_out_of_order, KEY1, 1,
     "member \"" PATH_UP1 "\" is missing or out of order (found \"" PATH_DOWN1 "\" in its place)"},
    {"MANIFEST not first", t_manifest_not_first, KEY1, 1,
     "first member is \"" PATH_UP1 "\", not MANIFEST"},
    {"signature before MANIFEST", t_signature_first, KEY1, 1,
     "first member is \"MANIFEST.KEYID1.minisig\", not MANIFEST"},
    {"MANIFEST twice", t_manifest_twice, KEY1, 1, "member \"MANIFEST\" appears twice"},
    {"empty archive", t_empty_archive, KEY1, 1, "archive is empty"},
    {"trusted comment for another manifest", t_comment_mismatch, KEY1, 1,
     "MANIFEST.KEYID1.minisig: trusted comment \"sealift-bundle project=demo serial=8 env=prod "
     "created=2026-01-02T03:04:05Z head=0002\" does not describe this manifest"},
    {"signature under another key's name", t_signature_name_mismatch, KEY1, 1,
     "MANIFEST.KEYID2.minisig: holds a signature by key KEYID1, not the key its name says"},
    {"manifest forged after signing", t_forged_manifest, KEY1, 1,
     "MANIFEST: signature by key KEYID1 does not verify"},
    /* A manifest that does not parse is still reported as tampered when it is. */
    {"manifest garbled after signing", t_garbled_manifest, KEY1, 1,
     "MANIFEST: signature by key KEYID1 does not verify"},
    {"manifest garbled, then signed", t_garbled_manifest_signed, KEY1, 1, "MANIFEST: line 1: "},
    {"signature member garbage", t_signature_garbage, KEY1, 1,
     "MANIFEST.KEYID1.minisig: signature is truncated: 1 of 4 lines"},
    {"signature duplicated", t_signature_duplicated, KEY1, 1,
     "signature member \"MANIFEST.KEYID1.minisig\" is duplicated or out of order"},
    {"signatures out of order", t_signatures_out_of_order, BOTH, 1,
     "is duplicated or out of order"},
    {"signature after the members", t_signature_after_members, KEY1, 1,
     "MANIFEST: bundle is not signed"},
    {"untrusted comment edited", t_signature_comment_edited, KEY1, 1,
     "MANIFEST.KEYID1.minisig: not the canonical form of a sealift signature"},
    {"signature with CR LF line ends", t_signature_crlf, KEY1, 1,
     "MANIFEST.KEYID1.minisig: not the canonical form of a sealift signature"},
    {"junk after the compressed stream", t_junk_after_stream, KEY1, 1,
     "data after the end of the zstd stream"},
    {"member far larger than the manifest says", t_member_huge, KEY1, 1,
     "member \"" PATH_DOWN1 "\" has 3145"},
};

/* expect with KEYID1 and KEYID2 replaced by the fixture's key ids. */
static void
expand_expect(const struct fixture *f, const char *expect, struct buf *out)
{
    for (const char *s = expect; *s;) {
        if (strncmp(s, "KEYID1", 6) == 0) {
            buf_addstr(out, f->id1);
            s += 6;
        } else if (strncmp(s, "KEYID2", 6) == 0) {
            buf_addstr(out, f->id2);
            s += 6;
        } else {
            buf_addch(out, *s++);
        }
    }
}

static void
test_verify_refuses_tampered_bundles(void **state)
{
    struct fixture *f = *state;
    int failures = 0;

    /* Each case twice: the manifest read whole (sign, inspect), and streamed (the applier). */
    for (size_t i = 0; i < 2 * sizeof(tampers) / sizeof(tampers[0]); i++) {
        const struct tamper *t = &tampers[i / 2];
        int streamed = (int)(i % 2);
        struct sig_pubkey keys[2];
        struct verify_options o;
        struct verify_result res;
        struct diag_err err = DIAG_ERR_INIT;
        struct buf want = BUF_INIT;
        struct plan p;
        size_t nkeys = 1;

        for (size_t s = 0; s < 4; s++)
            buf_reset(&f->scratch[s]);
        keys[0] = t->keys == KEY2 ? f->pub2 : f->pub1;
        keys[1] = f->pub2;
        if (t->keys == BOTH)
            nkeys = 2;
        if (t->keys == KEY1_WRONG_BYTES)
            keys[0].pk[0] ^= 1;
        o = trust(keys, nkeys, t->threshold);
        o.drop_text = streamed;
        plan_standard(f, &p);
        if (t->fn)
            t->fn(f, &p);
        write_plan(f->path, &p);
        expand_expect(f, t->expect, &want);
        verify_result_init(&res);
        if (bundle_verify(f->path, &o, &res, &err) != -1) {
            print_error("case \"%s\"%s accepted\n", t->name, streamed ? " (streamed)" : "");
            failures++;
        } else if (strstr(err.msg, want.data) == NULL) {
            print_error("case \"%s\"%s: \"%s\" does not contain \"%s\"\n", t->name,
                        streamed ? " (streamed)" : "", err.msg, want.data);
            failures++;
        } else if (strncmp(err.msg, f->path, strlen(f->path)) != 0 || err.io != 0) {
            print_error("case \"%s\": \"%s\" does not start with the path, or io is set\n", t->name,
                        err.msg);
            failures++;
        }
        /* Nothing from a refused bundle is handed back. */
        assert_int_equal(res.nsigs, 0);
        assert_int_equal(res.manifest.nmigrations, 0);
        assert_int_equal(res.manifest_text.len, 0);
        assert_null(res.data);
        buf_release(&want);
    }
    assert_int_equal(failures, 0);
}

static void
test_verify_unreadable_path_is_io_error(void **state)
{
    struct fixture *f = *state;
    struct verify_options o = trust(&f->pub1, 1, 1);
    struct verify_result res;
    struct diag_err err = DIAG_ERR_INIT;
    char path[UNIT_PATH_MAX];

    verify_result_init(&res);
    unit_path(path, f->dir, "missing.bundle");
    assert_int_equal(bundle_verify(path, &o, &res, &err), -1);
    assert_int_equal(err.io, 1);
    assert_contains(err.msg, path);
    assert_contains(err.msg, "No such file or directory");

    /* A directory cannot be read as a bundle either. */
    assert_int_equal(bundle_verify(f->dir, &o, &res, &err), -1);
    assert_int_equal(err.io, 1);

    /* A file that is there but is not a bundle is a rejection, not an I/O error. */
    unit_path(path, f->dir, "text.bundle");
    unit_write_file(path, "hello, world\n", 13, 0644);
    assert_int_equal(bundle_verify(path, &o, &res, &err), -1);
    assert_int_equal(err.io, 0);
    assert_contains(err.msg, path);
    verify_result_release(&res);
}

static void
test_verify_signature_name_and_trusted_comment(void **state)
{
    static const unsigned char keyid[SIG_KEYID_BYTES] = {0xdd, 0xde, 0xce, 0x72,
                                                         0xfd, 0x7d, 0x5f, 0x5b};
    char name[BUNDLE_SIG_NAME_MAX];
    struct manifest m;
    struct buf tc = BUF_INIT;

    (void)state;
    bundle_signature_name(name, keyid);
    assert_string_equal(name, "MANIFEST.5B5F7DFD72CEDEDD.minisig");

    build_manifest(&m, 7);
    bundle_trusted_comment(&m, &tc);
    assert_string_equal(tc.data, "sealift-bundle project=demo serial=7 env=prod "
                                 "created=2026-01-02T03:04:05Z head=0002");
    /* No environment, and a head id that needs percent-encoding. */
    free(m.environment);
    m.environment = NULL;
    free(m.migrations[1].id);
    m.migrations[1].id = xstrdup("0002 b");
    buf_reset(&tc);
    bundle_trusted_comment(&m, &tc);
    assert_string_equal(tc.data, "sealift-bundle project=demo serial=7 env=- "
                                 "created=2026-01-02T03:04:05Z head=0002%20b");
    manifest_release(&m);
    buf_release(&tc);
}

/* A committed file of the repository (run-all sets SEALIFT_ROOT; else the current directory). */
static void
repo_path(char *out, const char *rel)
{
    const char *root = getenv("SEALIFT_ROOT");

    unit_path(out, root && root[0] ? root : ".", rel);
}

static void
test_verify_accepts_golden_bundle(void **state)
{
    struct fixture *f = *state;
    char bundle[UNIT_PATH_MAX], pubfile[UNIT_PATH_MAX], copy[UNIT_PATH_MAX];
    struct sig_pubkey pub;
    struct verify_options o;
    struct verify_result res;
    struct diag_err err = DIAG_ERR_INIT;
    struct buf bytes = BUF_INIT;
    char id[SIG_KEYID_HEX];

    repo_path(bundle, "bundles/golden/golden-v1.sealift");
    repo_path(pubfile, "bundles/golden/sealift-TEST-ONLY.pub");
    if (sig_pubkey_load(&pub, pubfile, &err) != 0)
        fail_msg("%s (run from the repository root or set SEALIFT_ROOT)", err.msg);
    o = trust(&pub, 1, 1);
    verify_result_init(&res);
    if (bundle_verify(bundle, &o, &res, &err) != 0)
        fail_msg("golden bundle refused: %s", err.msg);
    /* The facts bundles/golden/README.md gives for it. */
    assert_int_equal(res.compression, CODEC_ZSTD);
    assert_string_equal(res.manifest.environment, "golden");
    assert_string_equal(res.manifest.created, "2026-01-01T00:00:00Z");
    assert_int_equal(res.mtime, 1767225600);
    assert_int_equal(res.nsigs, 1);
    assert_string_equal(sig_keyid_hex(id, res.sigs[0].keyid), "87EAF046784968A8");
    assert_string_equal(res.sigs[0].member, "MANIFEST.87EAF046784968A8.minisig");
    assert_true(res.sigs[0].valid);
    assert_true(res.manifest.nmigrations >= 1);

    /* Any single flipped byte in the compressed stream is caught. */
    unit_read_file(bundle, &bytes);
    unit_path(copy, f->dir, "golden-flipped.sealift");
    for (size_t at = 0; at < bytes.len; at += bytes.len / 7 + 1) {
        bytes.data[at] ^= 0x20;
        unit_write_file(copy, bytes.data, bytes.len, 0644);
        if (bundle_verify(copy, &o, &res, &err) == 0)
            fail_msg("golden bundle with byte %zu flipped was accepted", at);
        assert_int_equal(err.io, 0);
        bytes.data[at] ^= 0x20;
    }
    buf_release(&bytes);
    verify_result_release(&res);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_verify_accepts_signed_bundle, setup_fixture,
                                        teardown_fixture),
        cmocka_unit_test_setup_teardown(test_verify_streamed_manifest, setup_fixture,
                                        teardown_fixture),
        cmocka_unit_test_setup_teardown(test_verify_options_change_what_is_kept_and_checked,
                                        setup_fixture, teardown_fixture),
        cmocka_unit_test_setup_teardown(test_verify_threshold_counts_distinct_trusted_keys,
                                        setup_fixture, teardown_fixture),
        cmocka_unit_test_setup_teardown(test_verify_refuses_tampered_bundles, setup_fixture,
                                        teardown_fixture),
        cmocka_unit_test_setup_teardown(test_verify_unreadable_path_is_io_error, setup_fixture,
                                        teardown_fixture),
        cmocka_unit_test(test_verify_signature_name_and_trusted_comment),
        cmocka_unit_test_setup_teardown(test_verify_accepts_golden_bundle, setup_fixture,
                                        teardown_fixture),
    };

    return cmocka_run_group_tests_name("verify", tests, setup_group, NULL);
}
