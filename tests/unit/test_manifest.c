/*
 * test_manifest.c: unit tests for lib/manifest.c (model, strict parser, canonical emitter,
 * chain hash). Bad inputs are a table of mutations of one valid emitted manifest, each with
 * the substring its error message must contain (PostgreSQL's 005_bad_manifest.pl model).
 * Layer: tests.
 */
#include "unit.h"

#include "sealift/hash.h"
#include "sealift/manifest.h"
#include "sealift/xalloc.h"

/* The members of the reference manifest. */
#define UP1     "CREATE TABLE users (id int);\n"
#define DOWN1   "DROP TABLE users;\n"
#define STMT2A  "CREATE INDEX CONCURRENTLY a ON users (id);"
#define STMT2B  "CREATE INDEX CONCURRENTLY b ON users (id);"
#define UP2     STMT2A "\n" STMT2B "\n"
#define VERIFY2 "SELECT 1;\n"

#define PATH_UP1     "migrations/0001_create_users/up.sql"
#define PATH_DOWN1   "migrations/0001_create_users/down.sql"
#define PATH_UP2     "migrations/0002_add_index/up.sql"
#define PATH_VERIFY2 "migrations/0002_add_index/verify.sql"

#define HEADER                                                                                     \
    "# sealift-manifest 1\n"                                                                       \
    "# project demo\n"                                                                             \
    "# serial 7\n"                                                                                 \
    "# environment prod\n"                                                                         \
    "# created 2026-01-02T03:04:05Z\n"                                                             \
    "# compiler sealift%200.1.0\n"                                                                 \
    "# source native\n"

static size_t
add_member_text(struct manifest *m, const char *path, const char *content)
{
    unsigned char sha[HASH_SHA256_BYTES];

    hash_sha256(content, strlen(content), sha);
    return manifest_add_member(m, path, strlen(content), sha);
}

static void
set_script(struct manifest_script *s, int transactional, size_t member, const char *content)
{
    s->present = 1;
    s->transactional = transactional;
    s->member = member;
    hash_sha256(content, strlen(content), s->source);
}

/*
 * The reference manifest: migration 0001 (tx up and down) and 0002 (a no-tx up script with
 * two statements, and a verify script), four members.
 */
static void
build_manifest(struct manifest *m)
{
    struct manifest_migration *mig;
    size_t up1, down1, up2, verify2;

    manifest_init(m);
    m->project = xstrdup("demo");
    m->serial = 7;
    m->environment = xstrdup("prod");
    m->created = xstrdup("2026-01-02T03:04:05Z");
    m->compiler = xstrdup("sealift 0.1.0");
    m->source = xstrdup("native");
    up1 = add_member_text(m, PATH_UP1, UP1);
    down1 = add_member_text(m, PATH_DOWN1, DOWN1);
    up2 = add_member_text(m, PATH_UP2, UP2);
    verify2 = add_member_text(m, PATH_VERIFY2, VERIFY2);
    mig = manifest_add_migration(m, "0001", "create_users");
    set_script(&mig->script[MANIFEST_UP], 1, up1, UP1);
    set_script(&mig->script[MANIFEST_DOWN], 1, down1, DOWN1);
    mig = manifest_add_migration(m, "0002", "add_index");
    set_script(&mig->script[MANIFEST_UP], 0, up2, UP2);
    manifest_script_add_stmt(&mig->script[MANIFEST_UP], 0, strlen(STMT2A));
    manifest_script_add_stmt(&mig->script[MANIFEST_UP], strlen(STMT2A) + 1, strlen(STMT2B));
    set_script(&mig->script[MANIFEST_VERIFY], 1, verify2, VERIFY2);
    manifest_chain_fill(m);
}

/* Replace the bytes [off, off + del) of b with ins (ins_len bytes). */
static void
splice(struct buf *b, size_t off, size_t del, const char *ins, size_t ins_len)
{
    struct buf out = BUF_INIT;

    assert_true(off + del <= b->len);
    buf_add(&out, b->data, off);
    buf_add(&out, ins, ins_len);
    buf_add(&out, b->data + off + del, b->len - off - del);
    buf_release(b);
    *b = out;
}

static size_t
offset_of(const struct buf *b, const char *needle)
{
    const char *at = strstr(b->data, needle);

    if (at == NULL)
        fail_msg("\"%s\" is not in the manifest text", needle);
    return (size_t)(at - b->data);
}

static void
replace_first(struct buf *b, const char *from, const char *to)
{
    splice(b, offset_of(b, from), strlen(from), to, strlen(to));
}

/* Delete the first whole line that starts with prefix. */
static void
delete_line(struct buf *b, const char *prefix)
{
    struct buf needle = BUF_INIT;
    size_t start, end;

    buf_addf(&needle, "\n%s", prefix);
    start = offset_of(b, needle.data) + 1;
    end = start;
    while (b->data[end] != '\n')
        end++;
    splice(b, start, end + 1 - start, "", 0);
    buf_release(&needle);
}

/* A "# project" line of exactly len bytes (newline excluded). */
static void
project_line_of(struct buf *b, size_t len)
{
    struct buf line = BUF_INIT;

    buf_addstr(&line, "# project ");
    while (line.len < len)
        buf_addch(&line, 'p');
    buf_addch(&line, '\n');
    replace_first(b, "# project demo\n", line.data);
    buf_release(&line);
}

/* ---- model edits for the bad-manifest table ---- */

static void
edit_dup_member_path(struct manifest *m)
{
    free(m->members[1].path);
    m->members[1].path = xstrdup(m->members[0].path);
}

static void
edit_dup_migration_id(struct manifest *m)
{
    free(m->migrations[1].id);
    m->migrations[1].id = xstrdup("0001");
    manifest_chain_fill(m);
}

static void
edit_unreferenced_member(struct manifest *m)
{
    add_member_text(m, "extra.sql", "SELECT 2;\n");
}

static void
edit_member_named_twice(struct manifest *m)
{
    m->migrations[0].script[MANIFEST_DOWN].member = m->migrations[0].script[MANIFEST_UP].member;
}

static void
edit_bad_chain_first(struct manifest *m)
{
    m->migrations[0].chain[0] ^= 1;
}

static void
edit_bad_chain_second(struct manifest *m)
{
    m->migrations[1].chain[31] ^= 0x80;
}

/* A script checksum edited without recomputing the chain. */
static void
edit_stale_chain(struct manifest *m)
{
    m->migrations[0].script[MANIFEST_DOWN].source[7] ^= 1;
}

/* A transaction mode edited without recomputing the chain. */
static void
edit_stale_chain_mode(struct manifest *m)
{
    m->migrations[0].script[MANIFEST_DOWN].transactional = 0;
}

static void
edit_stmts_past_end_tx(struct manifest *m)
{
    manifest_script_add_stmt(&m->migrations[0].script[MANIFEST_UP], 0, strlen(UP1) + 1);
}

static void
set_stmts(struct manifest *m, uint64_t o1, uint64_t l1, uint64_t o2, uint64_t l2)
{
    struct manifest_script *s = &m->migrations[1].script[MANIFEST_UP];

    s->nstmts = 0;
    manifest_script_add_stmt(s, o1, l1);
    manifest_script_add_stmt(s, o2, l2);
}

static void
edit_stmts_overlap(struct manifest *m)
{
    set_stmts(m, 0, 20, 19, 10);
}

static void
edit_stmts_out_of_order(struct manifest *m)
{
    set_stmts(m, 44, 10, 0, 10);
}

static void
edit_stmts_same_start(struct manifest *m)
{
    set_stmts(m, 5, 10, 5, 10);
}

static void
edit_stmts_past_end(struct manifest *m)
{
    set_stmts(m, 0, 10, strlen(UP2) - 5, 6);
}

static void
edit_stmts_zero_length(struct manifest *m)
{
    set_stmts(m, 0, 10, 20, 0);
}

static void
edit_stmts_overflow(struct manifest *m)
{
    set_stmts(m, 0, 10, UINT64_MAX - 5, 10);
}

static void
edit_no_migrations(struct manifest *m)
{
    for (size_t i = 0; i < m->nmigrations; i++) {
        free(m->migrations[i].id);
        free(m->migrations[i].name);
        for (int k = 0; k < MANIFEST_NSCRIPTS; k++)
            free(m->migrations[i].script[k].stmts);
    }
    m->nmigrations = 0;
}

static void
edit_nothing_at_all(struct manifest *m)
{
    edit_no_migrations(m);
    for (size_t i = 0; i < m->nmembers; i++)
        free(m->members[i].path);
    m->nmembers = 0;
}

static void
edit_bad_member_path(struct manifest *m)
{
    free(m->members[0].path);
    m->members[0].path = xstrdup("migrations/../up.sql");
}

static void
edit_manifest_as_member(struct manifest *m)
{
    free(m->members[0].path);
    m->members[0].path = xstrdup("MANIFEST.extra");
}

static void
edit_long_name(struct manifest *m)
{
    char name[MANIFEST_MAX_TOKEN + 2];

    memset(name, 'n', sizeof(name) - 1);
    name[sizeof(name) - 1] = '\0';
    free(m->migrations[0].name);
    m->migrations[0].name = xstrdup(name);
}

static void
edit_project_token(struct manifest *m)
{
    free(m->project);
    m->project = xstrdup("de/mo");
}

/* ---- text mutations for the bad-manifest table ---- */

static void
mut_empty(struct buf *b)
{
    buf_reset(b);
}

static void
mut_drop_final_newline(struct buf *b)
{
    buf_truncate(b, b->len - 1);
}

static void
mut_append_keyword(struct buf *b)
{
    buf_addstr(b, "# frobnicate 1\n");
}

static void
mut_append_blank_line(struct buf *b)
{
    buf_addch(b, '\n');
}

static void
mut_truncate_after_project(struct buf *b)
{
    buf_truncate(b, offset_of(b, "# serial"));
}

static void
mut_truncate_at_chain(struct buf *b)
{
    buf_truncate(b, offset_of(b, "# chain "));
}

static void
mut_truncate_after_last_member_line(struct buf *b)
{
    const char *last = NULL;

    for (const char *p = b->data; (p = strstr(p, "# member ")) != NULL; p++)
        last = p;
    assert_non_null(last);
    buf_truncate(b, (size_t)(strchr(last, '\n') + 1 - b->data));
}

static void
mut_delete_last_member_line(struct buf *b)
{
    const char *last = NULL;

    for (const char *p = b->data; (p = strstr(p, "# member ")) != NULL; p++)
        last = p;
    assert_non_null(last);
    splice(b, (size_t)(last - b->data), (size_t)(strchr(last, '\n') + 1 - last), "", 0);
}

static void
mut_delete_up_line(struct buf *b)
{
    delete_line(b, "# up tx ");
}

static void
mut_delete_up_and_down(struct buf *b)
{
    delete_line(b, "# up tx ");
    delete_line(b, "# down tx ");
}

static void
mut_delete_chain_line(struct buf *b)
{
    delete_line(b, "# chain ");
}

static void
mut_delete_last_chain_line(struct buf *b)
{
    size_t at = offset_of(b, "# migration 0002");
    const char *chain = strstr(b->data + at, "# chain ");
    size_t start, end;

    assert_non_null(chain);
    start = (size_t)(chain - b->data);
    end = (size_t)(strchr(chain, '\n') + 1 - b->data);
    splice(b, start, end - start, "", 0);
}

static void
mut_uppercase_chain(struct buf *b)
{
    size_t at = offset_of(b, "# chain ") + strlen("# chain ");

    for (size_t i = at; b->data[i] != '\n'; i++)
        if (b->data[i] >= 'a' && b->data[i] <= 'f')
            b->data[i] = (char)(b->data[i] - 'a' + 'A');
}

static void
mut_uppercase_member_sha(struct buf *b)
{
    size_t at = offset_of(b, "# member ");

    at = (size_t)(strchr(b->data + at, '\n') + 1 - b->data);
    for (size_t i = at; i < at + 64; i++)
        if (b->data[i] >= 'a' && b->data[i] <= 'f')
            b->data[i] = (char)(b->data[i] - 'a' + 'A');
}

static void
mut_line_too_long(struct buf *b)
{
    project_line_of(b, MANIFEST_MAX_LINE + 1);
}

static void
mut_line_at_limit(struct buf *b)
{
    /* Exactly MANIFEST_MAX_LINE bytes is within the line limit: the token check fails. */
    project_line_of(b, MANIFEST_MAX_LINE);
}

static void
mut_nul_in_line(struct buf *b)
{
    splice(b, offset_of(b, "demo") + 2, 0, "\0", 1);
}

/* A lint finding on migration 0002's up script (a version 1.1 manifest). */
static void
add_finding(struct manifest *m)
{
    struct manifest_finding f;

    memset(&f, 0, sizeof(f));
    f.kind = MANIFEST_UP;
    f.rule = "alter-column-type";
    f.severity = "warning";
    f.lock = "ACCESS EXCLUSIVE";
    f.rewrites = 1;
    f.relation = "public.users";
    f.created_by = "0001";
    f.line = 3;
    f.col = 5;
    f.allowed = "small table";
    f.message = "ALTER COLUMN x TYPE int8 (from int4) rewrites the table";
    manifest_migration_add_finding(&m->migrations[1], &f);
}

static void
edit_expires_bad(struct manifest *m)
{
    m->expires = xstrdup("2027-13-01T00:00:00Z");
}

static void
edit_expires_early(struct manifest *m)
{
    m->expires = xstrdup("2000-01-01T00:00:00Z");
}

static void
edit_expires_ok(struct manifest *m)
{
    m->expires = xstrdup("2099-01-01T00:00:00Z");
}

/* A provenance member, listed and named by the "# provenance" record. */
static void
add_provenance(struct manifest *m)
{
    unsigned char sha[HASH_SHA256_BYTES];

    hash_sha256("{}\n", 3, sha);
    manifest_add_member(m, "provenance.intoto.json", 3, sha);
    m->provenance = xstrdup("provenance.intoto.json");
}

struct bad_manifest {
    const char *name;
    void (*edit)(struct manifest *m); /* applied to the model before emitting */
    const char *from;                 /* then the first occurrence of from becomes to */
    const char *to;
    void (*mutate)(struct buf *text); /* then this */
    const char *expect;               /* substring of err.msg */
};

static const struct bad_manifest bad_manifests[] = {
    /* The header. */
    {"empty", NULL, NULL, NULL, mut_empty, "line 1: manifest is empty"},
    {"wrong header", NULL, "# sealift-manifest 1\n", "# sealift-manifesto 1\n", NULL,
     "line 1: not a sealift manifest (expected \"# sealift-manifest 1\")"},
    {"no header space", NULL, "# sealift-manifest 1\n", "#sealift-manifest 1\n", NULL,
     "line 1: not a sealift manifest"},
    {"header missing", NULL, "# sealift-manifest 1\n", "", NULL, "line 1: not a sealift manifest"},
    {"unsupported version", NULL, "# sealift-manifest 1\n", "# sealift-manifest 2\n", NULL,
     "line 1: unsupported manifest version \"2\" (this sealift reads versions 1, 1.1, 1.2, 1.3 "
     "and 1.4; the bundle needs a newer sealift)"},
    {"version with suffix", NULL, "# sealift-manifest 1\n", "# sealift-manifest 1.5\n", NULL,
     "unsupported manifest version \"1.5\""},
    /* Expiry and key statements (version 1.3). */
    {"1.3 without an expiry or key statements", NULL, "# sealift-manifest 1\n",
     "# sealift-manifest 1.3\n", NULL,
     "a version 1.3 manifest has an expiry or key statements, and this one has none"},
    {"expires in version 1", NULL, "# migration ", "# expires 2027-01-01T00:00:00Z\n# migration ",
     NULL, "expected \"# migration\""},
    {"expires not a time", edit_expires_bad, NULL, NULL, NULL, "expires is not a timestamp"},
    {"expires before created", edit_expires_early, NULL, NULL, NULL,
     "expires is not after created"},
    {"key statement not a member", edit_expires_ok, "# member ",
     "# key-statement keys/01-x.txt\n# member ", NULL,
     "key statement names \"keys/01-x.txt\", which is not a member"},
    /* Lint records (version 1.1). */
    {"lint in version 1", NULL, "# chain ",
     "# lint up alter-column-type warning - -- - - 1:1 - m\n# chain ", NULL,
     "\"# lint\" needs manifest version 1.1"},
    {"lint bad severity", add_finding, " warning ", " fatal ", NULL, "malformed \"# lint\" record"},
    {"lint bad flags", add_finding, " r- ", " x- ", NULL, "malformed \"# lint\" record"},
    {"lint line 0", add_finding, " 3:5 ", " 0:5 ", NULL, "malformed \"# lint\" record"},
    {"lint column 0", add_finding, " 3:5 ", " 3:0 ", NULL, "malformed \"# lint\" record"},
    {"lint position junk", add_finding, " 3:5 ", " 3:5x ", NULL, "malformed \"# lint\" record"},
    {"lint no message", add_finding,
     " ALTER%20COLUMN%20x%20TYPE%20int8%20(from%20int4)%20rewrites%20the%20table\n", " -\n", NULL,
     "malformed \"# lint\" record"},
    {"lint too few fields", add_finding, " public.users ", " ", NULL, "takes 10 fields"},
    {"lint of a missing script", add_finding, "# lint up ", "# lint down ", NULL,
     "names a script the migration does not have"},
    {"lint before the scripts", add_finding, "# up no-tx ", "# lint up x", NULL,
     "comes after the migration's scripts"},
    {"lint not canonical", add_finding, "small%20table", "small%20tabl%65", NULL,
     "malformed \"# lint\" record"},
    /* The provenance record. */
    {"provenance not a member", add_provenance, "# provenance provenance.intoto.json\n",
     "# provenance other.json\n", NULL, "provenance names \"other.json\", which is not a member"},
    {"provenance member unnamed", add_provenance, "# provenance provenance.intoto.json\n", "", NULL,
     "member \"provenance.intoto.json\" is not named by any migration"},
    {"provenance naming a script", add_provenance, "# provenance provenance.intoto.json\n",
     "# provenance " PATH_UP1 "\n", NULL, "member \"" PATH_UP1 "\" is named by two scripts"},
    {"provenance twice", add_provenance, "# provenance provenance.intoto.json\n",
     "# provenance provenance.intoto.json\n# provenance provenance.intoto.json\n", NULL,
     "\"# provenance\" comes once, before the first \"# member\""},
    {"provenance bad path", add_provenance, "# provenance provenance.intoto.json\n",
     "# provenance ../x\n", NULL, "invalid provenance member path"},
    {"provenance inside a migration", add_provenance, "# chain ",
     "# provenance provenance.intoto.json\n# chain ", NULL, "is not closed by \"# chain\""},
    {"missing project", NULL, "# project demo\n", "", NULL, "line 2: expected \"# project\""},
    {"missing serial", NULL, "# serial 7\n", "", NULL, "line 3: expected \"# serial\""},
    {"missing environment", NULL, "# environment prod\n", "", NULL,
     "line 4: expected \"# environment\""},
    {"missing created", NULL, "# created 2026-01-02T03:04:05Z\n", "", NULL,
     "line 5: expected \"# created\""},
    {"missing compiler", NULL, "# compiler sealift%200.1.0\n", "", NULL,
     "line 6: expected \"# compiler\""},
    {"missing source", NULL, "# source native\n", "", NULL, "line 7: expected \"# source\""},
    {"header fields swapped", NULL, "# project demo\n# serial 7\n", "# serial 7\n# project demo\n",
     NULL, "line 2: expected \"# project\""},
    {"header ends early", NULL, NULL, NULL, mut_truncate_after_project,
     "line 3: missing \"# serial\" line"},
    {"keyword prefix only", NULL, "# project demo\n", "# projects demo\n", NULL,
     "expected \"# project\""},
    {"header field two values", NULL, "# project demo\n", "# project demo extra\n", NULL,
     "\"# project\" takes exactly one value"},
    {"header field empty", NULL, "# project demo\n", "# project \n", NULL,
     "\"# project\" takes exactly one value"},
    {"header field absent", NULL, "# project demo\n", "# project\n", NULL,
     "\"# project\" takes exactly one value"},
    {"bad project", edit_project_token, NULL, NULL, NULL, "line 2: invalid project name"},
    {"serial leading zero", NULL, "# serial 7\n", "# serial 07\n", NULL,
     "line 3: serial is not a decimal number"},
    {"serial not a number", NULL, "# serial 7\n", "# serial 7a\n", NULL,
     "serial is not a decimal number"},
    {"serial negative", NULL, "# serial 7\n", "# serial -7\n", NULL,
     "serial is not a decimal number"},
    {"serial plus sign", NULL, "# serial 7\n", "# serial +7\n", NULL,
     "serial is not a decimal number"},
    {"serial hex", NULL, "# serial 7\n", "# serial 0x7\n", NULL, "serial is not a decimal number"},
    {"serial overflow", NULL, "# serial 7\n", "# serial 18446744073709551616\n", NULL,
     "serial is not a decimal number"},
    {"serial far too long", NULL, "# serial 7\n", "# serial 100000000000000000000\n", NULL,
     "serial is not a decimal number"},
    {"timestamp without Z", NULL, "2026-01-02T03:04:05Z", "2026-01-02T03:04:05", NULL,
     "line 5: created is not a timestamp of the form YYYY-MM-DDTHH:MM:SSZ"},
    {"timestamp short month", NULL, "2026-01-02T03:04:05Z", "2026-1-02T03:04:05Z", NULL,
     "created is not a timestamp"},
    {"timestamp lowercase z", NULL, "2026-01-02T03:04:05Z", "2026-01-02T03:04:05z", NULL,
     "created is not a timestamp"},
    {"timestamp offset", NULL, "2026-01-02T03:04:05Z", "2026-01-02T03:04:05+00:00", NULL,
     "created is not a timestamp"},
    {"timestamp fraction", NULL, "2026-01-02T03:04:05Z", "2026-01-02T03:04:05.5Z", NULL,
     "created is not a timestamp"},
    /* The form alone is not enough: the spec says a UTC time. */
    {"timestamp month 13", NULL, "2026-01-02T03:04:05Z", "2026-13-02T03:04:05Z", NULL,
     "created is not a timestamp"},
    {"timestamp month 0", NULL, "2026-01-02T03:04:05Z", "2026-00-02T03:04:05Z", NULL,
     "created is not a timestamp"},
    {"timestamp day 0", NULL, "2026-01-02T03:04:05Z", "2026-01-00T03:04:05Z", NULL,
     "created is not a timestamp"},
    {"timestamp day 32", NULL, "2026-01-02T03:04:05Z", "2026-01-32T03:04:05Z", NULL,
     "created is not a timestamp"},
    {"timestamp April 31", NULL, "2026-01-02T03:04:05Z", "2026-04-31T03:04:05Z", NULL,
     "created is not a timestamp"},
    {"timestamp February 29 of a common year", NULL, "2026-01-02T03:04:05Z", "2100-02-29T03:04:05Z",
     NULL, "created is not a timestamp"},
    {"timestamp hour 24", NULL, "2026-01-02T03:04:05Z", "2026-01-02T24:00:00Z", NULL,
     "created is not a timestamp"},
    {"timestamp minute 60", NULL, "2026-01-02T03:04:05Z", "2026-01-02T03:60:05Z", NULL,
     "created is not a timestamp"},
    {"timestamp second 60", NULL, "2026-01-02T03:04:05Z", "2026-01-02T03:04:60Z", NULL,
     "created is not a timestamp"},
    {"timestamp with space", NULL, "2026-01-02T03:04:05Z", "2026-01-02 03:04:05Z", NULL,
     "\"# created\" takes exactly one value"},
    {"environment bad character", NULL, "# environment prod\n", "# environment pr/od\n", NULL,
     "line 4: invalid environment name"},
    {"environment non-ASCII", NULL, "# environment prod\n",
     "# environment pr\xc3\xb6"
     "d\n",
     NULL, "invalid environment name"},
    {"environment empty", NULL, "# environment prod\n", "# environment \n", NULL,
     "\"# environment\" takes exactly one value"},
    {"environment too long", NULL, "# environment prod\n",
     "# environment eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee\n", NULL,
     "invalid environment name"},
    {"source bad token", NULL, "# source native\n", "# source nat!ve\n", NULL,
     "line 7: invalid source format name"},
    {"compiler empty", NULL, "# compiler sealift%200.1.0\n", "# compiler -\n", NULL,
     "line 6: compiler is not a valid field"},
    {"compiler non-canonical escape", NULL, "sealift%200.1.0", "sealift%200%2E1.0", NULL,
     "compiler is not a valid field"},
    {"compiler lowercase escape", NULL, "sealift%200.1.0", "sealift%2a0.1.0", NULL,
     "compiler is not a valid field"},
    {"compiler escaped NUL", NULL, "sealift%200.1.0", "sealift%000.1.0", NULL,
     "compiler is not a valid field"},
    {"compiler truncated escape", NULL, "sealift%200.1.0", "sealift0.1.0%2", NULL,
     "compiler is not a valid field"},

    /* Migration records. */
    {"name non-canonical escape", NULL, "# migration 0001 create_users\n",
     "# migration 0001 create%5Fusers\n", NULL,
     "line 8: migration id or name is not a valid field"},
    {"name lowercase escape", NULL, "# migration 0001 create_users\n",
     "# migration 0001 create%5fusers\n", NULL, "migration id or name is not a valid field"},
    {"name bare percent", NULL, "# migration 0001 create_users\n", "# migration 0001 100%\n", NULL,
     "migration id or name is not a valid field"},
    {"name escaped dash", NULL, "# migration 0001 create_users\n", "# migration 0001 %2D%2D\n",
     NULL, "migration id or name is not a valid field"},
    {"name too long", edit_long_name, NULL, NULL, NULL,
     "migration id or name is not a valid field"},
    {"empty id", NULL, "# migration 0001 ", "# migration - ", NULL,
     "migration id or name is not a valid field"},
    {"migration without name", NULL, "# migration 0001 create_users\n", "# migration 0001\n", NULL,
     "\"# migration\" takes an id and a name"},
    {"migration three fields", NULL, "# migration 0001 create_users\n",
     "# migration 0001 create users\n", NULL, "\"# migration\" takes an id and a name"},
    {"migration double space", NULL, "# migration 0001 create_users\n",
     "# migration  0001 create_users\n", NULL, "\"# migration\" takes an id and a name"},
    {"duplicate migration id", edit_dup_migration_id, NULL, NULL, NULL,
     "duplicate migration id \"0001\""},
    {"down-blocked without a down", NULL, "# verify ", "# down-blocked x\n# verify ", NULL,
     "\"# down-blocked\" comes once, after the down script's lines"},
    {"down-blocked twice", NULL, "# chain ", "# down-blocked x\n# down-blocked y\n# chain ", NULL,
     "\"# down-blocked\" comes once, after the down script's lines"},
    {"down-blocked empty", NULL, "# chain ", "# down-blocked \n# chain ", NULL,
     "down-blocked is not a valid field"},
    {"unknown keyword in a migration", NULL, "# chain ", "# frobnicate 1\n# chain ", NULL,
     "line 11: unknown manifest keyword \"frobnicate\" (made by a newer sealift?)"},
    {"unknown keyword between migrations", NULL, "# migration 0002 ",
     "# frobnicate\n# migration 0002 ", NULL, "expected \"# migration\" or \"# member\""},
    {"unknown keyword among members", NULL, NULL, NULL, mut_append_keyword,
     "unknown manifest keyword in the member section"},
    {"blank line at the end", NULL, NULL, NULL, mut_append_blank_line,
     "expected \"# member SIZE\""},
    {"non-comment line in a migration", NULL, "# chain ", "SELECT 1;\n# chain ", NULL,
     "expected a migration record line"},
    {"bad transaction mode", NULL, "# up tx ", "# up TX ", NULL,
     "line 9: transaction mode must be \"tx\" or \"no-tx\""},
    {"script missing mode", NULL, "# up tx ", "# up ", NULL, "\"# up\" takes 3 fields"},
    {"verify with a mode", NULL, "# verify ", "# verify tx ", NULL, "\"# verify\" takes 2 fields"},
    {"first script not up", NULL, NULL, NULL, mut_delete_up_line,
     "a migration's first script must be its up script"},
    {"script repeated", NULL, "# down tx ", "# up tx ", NULL,
     "scripts must come once each, in the order up, down, verify"},
    {"no scripts", NULL, NULL, NULL, mut_delete_up_and_down, "migration has no up script"},
    {"script naming a non-member", NULL, PATH_UP1 "\n", "migrations/0001_create_users/nope.sql\n",
     NULL, "line 9: script names \"migrations/0001_create_users/nope.sql\", which is not a member"},
    {"script path invalid", NULL, PATH_UP1 "\n", "/etc/passwd\n", NULL,
     "line 9: invalid member path"},
    {"member named by two scripts", edit_member_named_twice, NULL, NULL, NULL,
     "member \"" PATH_UP1 "\" is named by two scripts"},
    {"chain hash wrong", edit_bad_chain_first, NULL, NULL, NULL,
     "line 11: chain hash of migration \"0001\" does not match its records"},
    {"second chain hash wrong", edit_bad_chain_second, NULL, NULL, NULL,
     "chain hash of migration \"0002\" does not match its records"},
    {"script checksum edited", edit_stale_chain, NULL, NULL, NULL,
     "chain hash of migration \"0001\" does not match its records"},
    {"transaction mode edited", edit_stale_chain_mode, NULL, NULL, NULL,
     "chain hash of migration \"0001\" does not match its records"},
    {"chain hash not hex", NULL, "# chain ", "# chain X", NULL,
     "chain hash is not 64 lowercase hex digits"},
    {"chain hash uppercase", NULL, NULL, NULL, mut_uppercase_chain,
     "chain hash is not 64 lowercase hex digits"},
    {"migration not closed at the end", NULL, NULL, NULL, mut_truncate_at_chain,
     "migration \"0001\" is not closed by \"# chain\""},
    {"migration not closed before the next", NULL, NULL, NULL, mut_delete_chain_line,
     "line 11: migration \"0001\" is not closed by \"# chain\""},
    {"migration not closed before members", NULL, NULL, NULL, mut_delete_last_chain_line,
     "migration \"0002\" is not closed by \"# chain\""},
    {"no migrations", edit_no_migrations, NULL, NULL, NULL, "manifest lists no migrations"},
    {"nothing but a header", edit_nothing_at_all, NULL, NULL, NULL, "manifest lists no migrations"},

    /* Statements. */
    {"statements past the end of a tx script", edit_stmts_past_end_tx, NULL, NULL, NULL,
     "line 9: statements run past the end of \"" PATH_UP1 "\""},
    {"statements overlap", edit_stmts_overlap, NULL, NULL, NULL,
     "statements overlap or are out of order"},
    {"statements out of order", edit_stmts_out_of_order, NULL, NULL, NULL,
     "statements overlap or are out of order"},
    {"statements repeated", edit_stmts_same_start, NULL, NULL, NULL,
     "statements overlap or are out of order"},
    {"statements past the member end", edit_stmts_past_end, NULL, NULL, NULL,
     "statements run past the end of \"" PATH_UP2 "\""},
    {"statement of zero length", edit_stmts_zero_length, NULL, NULL, NULL,
     "statement offset and length must be decimal numbers, length > 0"},
    {"statement range overflows", edit_stmts_overflow, NULL, NULL, NULL,
     "statement range overflows"},
    {"statement leading zero", NULL, "# statement up 0 ", "# statement up 00 ", NULL,
     "statement offset and length must be decimal numbers"},
    {"statement for the wrong script", NULL, "# statement up ", "# statement down ", NULL,
     "\"# statement\" must follow the script it belongs to"},
    {"statement for verify after up", NULL, "# statement up ", "# statement verify ", NULL,
     "\"# statement\" must follow the script it belongs to"},
    {"statement for no script", NULL, "# statement up ", "# statement sideways ", NULL,
     "\"# statement\" must follow the script it belongs to"},
    {"statement two fields", NULL, "# statement up 0 ", "# statement up ", NULL,
     "\"# statement\" takes 3 fields"},

    /* Members. */
    {"duplicate member path", edit_dup_member_path, NULL, NULL, NULL,
     "duplicate member path \"" PATH_UP1 "\""},
    {"member not referenced", edit_unreferenced_member, NULL, NULL, NULL,
     "member \"extra.sql\" is not named by any migration"},
    {"member path invalid", edit_bad_member_path, NULL, NULL, NULL, "invalid member path"},
    {"member path reserved", edit_manifest_as_member, NULL, NULL, NULL, "invalid member path"},
    {"member size not a number", NULL, "# member ", "# member x", NULL,
     "member size is not a decimal number"},
    {"member checksum one space", NULL, "  ", " ", NULL,
     "expected \"SHA256  PATH\" (64 lowercase hex digits, two spaces)"},
    {"member checksum uppercase", NULL, NULL, NULL, mut_uppercase_member_sha,
     "expected \"SHA256  PATH\""},
    {"member without checksum line", NULL, NULL, NULL, mut_truncate_after_last_member_line,
     "member record has no checksum line"},
    {"checksum line before the members", NULL, "# member ", "", NULL,
     "expected \"# migration\" or \"# member\""},
    {"checksum line without member", NULL, NULL, NULL, mut_delete_last_member_line,
     "expected \"# member SIZE\""},

    /* Lines. */
    {"overlong line", NULL, NULL, NULL, mut_line_too_long,
     "line 2: line is longer than 4096 bytes"},
    {"line at the limit", NULL, NULL, NULL, mut_line_at_limit, "line 2: invalid project name"},
    {"CR in a line", NULL, "# project demo\n", "# project demo\r\n", NULL,
     "line 2: line contains a carriage return"},
    {"CR in a member line", NULL, PATH_UP2 "\n# member", PATH_UP2 "\r\n# member", NULL,
     "line contains a carriage return"},
    {"NUL in a line", NULL, NULL, NULL, mut_nul_in_line, "line 2: line contains a NUL byte"},
    {"missing final newline", NULL, NULL, NULL, mut_drop_final_newline,
     "the last line does not end with a newline"},
};

/* The text of bad manifest case c. */
static void
bad_manifest_text(const struct bad_manifest *c, struct buf *text)
{
    struct manifest m;

    build_manifest(&m);
    if (c->edit)
        c->edit(&m);
    manifest_emit(&m, text);
    manifest_release(&m);
    if (c->from)
        replace_first(text, c->from, c->to);
    if (c->mutate)
        c->mutate(text);
}

static void
test_manifest_rejects_bad_manifests(void **state)
{
    int failures = 0;

    (void)state;
    for (size_t i = 0; i < sizeof(bad_manifests) / sizeof(bad_manifests[0]); i++) {
        const struct bad_manifest *c = &bad_manifests[i];
        struct manifest parsed;
        struct buf text = BUF_INIT;
        struct diag_err err = DIAG_ERR_INIT;

        bad_manifest_text(c, &text);
        manifest_init(&parsed);
        /* Report every failing case, not just the first. */
        if (manifest_parse(&parsed, text.data, text.len, &err) != -1) {
            print_error("case \"%s\" accepted\n", c->name);
            failures++;
        } else if (strstr(err.msg, c->expect) == NULL) {
            print_error("case \"%s\": \"%s\" does not contain \"%s\"\n", c->name, err.msg,
                        c->expect);
            failures++;
        }
        /* A failed parse leaves an empty manifest behind. */
        assert_int_equal(parsed.nmigrations, 0);
        assert_int_equal(parsed.nmembers, 0);
        assert_null(parsed.project);
        buf_release(&text);
    }
    assert_int_equal(failures, 0);
}

/* ---- streamed parse ---- */

static void build_rep_manifest(struct manifest *m);

/* Hands out text chunk bytes at a time (fewer at its end), as an archive reader would. */
struct chunk_reader {
    const char *text;
    size_t len;
    size_t pos;
    size_t chunk;
    int reads_after_end; /* read called again after it returned 0 */
    int at_end;
};

static ssize_t
chunk_read(void *arg, void *buf, size_t len, struct diag_err *err)
{
    struct chunk_reader *r = arg;
    size_t n = r->len - r->pos;

    (void)err;
    if (r->at_end)
        r->reads_after_end++;
    if (n > r->chunk)
        n = r->chunk;
    if (n > len)
        n = len;
    memcpy(buf, r->text + r->pos, n);
    r->pos += n;
    r->at_end = n == 0;
    return (ssize_t)n;
}

/*
 * Parse text streamed in pieces of chunk bytes and whole: the same answer (the same error, or
 * manifests that emit the same bytes). Returns the number of differences (printed).
 */
static int
stream_differs(const char *label, const struct buf *text, size_t chunk, int valid)
{
    struct chunk_reader r = {text->data, text->len, 0, chunk, 0, 0};
    struct manifest whole, streamed;
    struct diag_err werr = DIAG_ERR_INIT, serr = DIAG_ERR_INIT;
    struct buf a = BUF_INIT, b = BUF_INIT;
    int wret, sret, bad = 0;

    manifest_init(&whole);
    manifest_init(&streamed);
    wret = manifest_parse(&whole, text->data, text->len, &werr);
    sret = manifest_parse_stream(&streamed, chunk_read, &r, &serr);
    if (wret != sret || (wret != 0 && strcmp(werr.msg, serr.msg) != 0)) {
        print_error("%s, chunk %zu: whole %d \"%s\", streamed %d \"%s\"\n", label, chunk, wret,
                    werr.msg, sret, serr.msg);
        bad = 1;
    }
    if (wret != (valid ? 0 : -1)) {
        print_error("%s: %s as a whole (\"%s\")\n", label, wret ? "refused" : "accepted", werr.msg);
        bad = 1;
    }
    if (wret == 0 && sret == 0) {
        manifest_emit(&whole, &a);
        manifest_emit(&streamed, &b);
        if (a.len != b.len || memcmp(a.data, b.data, a.len) != 0 || a.len != text->len) {
            print_error("%s, chunk %zu: the streamed parse emits other bytes\n", label, chunk);
            bad = 1;
        }
    }
    if (sret != 0 && streamed.nmigrations + streamed.nmembers != 0) {
        print_error("%s, chunk %zu: a failed streamed parse left a manifest\n", label, chunk);
        bad = 1;
    }
    if (r.reads_after_end) {
        print_error("%s, chunk %zu: read called after its end\n", label, chunk);
        bad = 1;
    }
    manifest_release(&whole);
    manifest_release(&streamed);
    buf_release(&a);
    buf_release(&b);
    return bad;
}

/* Chunk sizes that split lines everywhere, and one larger than the parser's window. */
static const size_t stream_chunks[] = {
    1, 2, 3, 7, 64, 4095, 4097, MANIFEST_READ_CHUNK, 4 * MANIFEST_READ_CHUNK};

static void
test_manifest_stream_rejects_as_whole(void **state)
{
    int failures = 0;

    (void)state;
    for (size_t i = 0; i < sizeof(bad_manifests) / sizeof(bad_manifests[0]); i++) {
        struct buf text = BUF_INIT;

        bad_manifest_text(&bad_manifests[i], &text);
        for (size_t c = 0; c < sizeof(stream_chunks) / sizeof(stream_chunks[0]); c++)
            failures += stream_differs(bad_manifests[i].name, &text, stream_chunks[c], 0);
        buf_release(&text);
    }
    assert_int_equal(failures, 0);
}

/*
 * A chain long enough that the parser's window slides many times, with lines of every length
 * up to the limit, so that some line straddles every kind of boundary.
 */
static void
build_long_manifest(struct manifest *m, size_t nmigrations)
{
    char id[32], name[MANIFEST_MAX_TOKEN + 1], path[MANIFEST_MAX_PATH + 1];

    build_manifest(m);
    for (size_t i = 0; i < nmigrations; i++) {
        struct manifest_migration *mig;
        size_t len = 1 + i % MANIFEST_MAX_TOKEN, up;

        snprintf(id, sizeof(id), "%06zu", i + 3);
        /* Spaces are percent-encoded: up to three bytes each in the line. */
        for (size_t k = 0; k < len; k++)
            name[k] = k % 3 == 1 ? ' ' : (char)('a' + (i + k) % 26);
        name[len] = '\0';
        snprintf(path, sizeof(path), "migrations/%s/up.sql", id);
        up = add_member_text(m, path, UP1);
        mig = manifest_add_migration(m, id, name);
        set_script(&mig->script[MANIFEST_UP], 1, up, UP1);
        for (size_t k = 0; k < i % 5; k++)
            manifest_script_add_stmt(&mig->script[MANIFEST_UP], k, 1);
    }
    manifest_chain_fill(m);
}

static void
test_manifest_stream_parses_as_whole(void **state)
{
    struct manifest m;
    struct buf text = BUF_INIT;
    int failures = 0;

    (void)state;
    build_long_manifest(&m, 3000);
    manifest_emit(&m, &text);
    manifest_release(&m);
    /* Several windows' worth, or the window never slides. */
    assert_true(text.len > 8 * MANIFEST_READ_CHUNK);
    for (size_t c = 0; c < sizeof(stream_chunks) / sizeof(stream_chunks[0]); c++)
        failures += stream_differs("long chain", &text, stream_chunks[c], 1);

    /*
     * A line at the limit, deep in the chain, whose error quotes it: wherever it falls in the
     * window (a line must never move while it is current), the quote stays right.
     */
    for (size_t k = 0; k < 60; k++) {
        struct buf bad = BUF_INIT;
        const char *at = text.data;

        /* Inside a migration, where an unknown keyword is quoted in the error. */
        for (size_t n = 0; n < 1000 + k; n++)
            at = strstr(at, "# migration ") + 1;
        at = strchr(at, '\n') + 1;
        buf_add(&bad, text.data, (size_t)(at - text.data));
        buf_addstr(&bad, "# ");
        for (size_t n = 0; n < MANIFEST_MAX_LINE - 2; n++)
            buf_addch(&bad, (char)('a' + n % 26));
        buf_addch(&bad, '\n');
        buf_add(&bad, at, text.len - (size_t)(at - text.data));
        /* Reads of 3 and 7 bytes: the window is full when such a line comes, whatever k. */
        for (size_t c = 2; c < 4; c++)
            failures += stream_differs("line at the limit", &bad, stream_chunks[c], 0);
        buf_release(&bad);
    }

    /* A line split by the last read, and a last line without its newline. */
    buf_truncate(&text, text.len - 1);
    failures += stream_differs("no final newline", &text, 5, 0);
    failures += stream_differs("no final newline", &text, MANIFEST_READ_CHUNK, 0);
    buf_release(&text);

    build_rep_manifest(&m);
    manifest_emit(&m, &text);
    manifest_release(&m);
    for (size_t c = 0; c < sizeof(stream_chunks) / sizeof(stream_chunks[0]); c++)
        failures += stream_differs("repeatables", &text, stream_chunks[c], 1);
    buf_release(&text);
    assert_int_equal(failures, 0);
}

/* A read error is the parse's answer, as read gave it. */
static ssize_t
failing_read(void *arg, void *buf, size_t len, struct diag_err *err)
{
    size_t *calls = arg;

    (void)buf;
    (void)len;
    if ((*calls)++ == 0) {
        memcpy(buf, "# sealift-manifest 1\n# pro", 27);
        return 27;
    }
    return err_set(err, "disk on fire");
}

static void
test_manifest_stream_read_error(void **state)
{
    struct manifest m;
    struct diag_err err = DIAG_ERR_INIT;
    size_t calls = 0;

    (void)state;
    manifest_init(&m);
    assert_int_equal(manifest_parse_stream(&m, failing_read, &calls, &err), -1);
    assert_string_equal(err.msg, "disk on fire");
    assert_int_equal(calls, 2);
    assert_int_equal(m.nmigrations, 0);
}

/* ---- repeatables (format 1.2) ---- */

#define REP_A      "CREATE OR REPLACE VIEW a AS SELECT 1;\n"
#define REP_B      "CREATE OR REPLACE VIEW b AS SELECT 2;\n"
#define PATH_REP_A "repeatables/000001_a_view.sql"
#define PATH_REP_B "repeatables/000002_b_view.sql"

/* The reference manifest plus two repeatables, "a view" (with an origin) and "b_view". */
static void
build_rep_manifest(struct manifest *m)
{
    struct manifest_migration *r;
    size_t a, b;

    build_manifest(m);
    a = add_member_text(m, PATH_REP_A, REP_A);
    b = add_member_text(m, PATH_REP_B, REP_B);
    r = manifest_add_repeatable(m, "a view");
    r->origin = xstrdup("R__a_view.sql -123");
    set_script(&r->script[MANIFEST_UP], 1, a, REP_A);
    manifest_script_add_stmt(&r->script[MANIFEST_UP], 0, strlen(REP_A) - 2);
    r = manifest_add_repeatable(m, "b_view");
    set_script(&r->script[MANIFEST_UP], 0, b, REP_B);
    manifest_repeatables_fill(m);
}

static void
test_manifest_repeatables_round_trip(void **state)
{
    struct manifest m, parsed;
    struct buf first = BUF_INIT, second = BUF_INIT, want = BUF_INIT;
    struct diag_err err = DIAG_ERR_INIT;
    char hex[HASH_SHA256_HEX];
    unsigned char sha[HASH_SHA256_BYTES];

    (void)state;
    build_rep_manifest(&m);
    manifest_emit(&m, &first);
    /* Version 1.2 at the first line, so that a version 1 reader stops there. */
    assert_memory_equal(first.data, "# sealift-manifest 1.2\n# project demo\n",
                        strlen("# sealift-manifest 1.2\n# project demo\n"));
    hash_sha256(REP_A, strlen(REP_A), sha);
    hex_encode(hex, sha, sizeof(sha));
    buf_addf(
        &want,
        "# chain %s\n# repeatable a%%20view\n# origin R__a_view.sql%%20-123\n# up tx %s " PATH_REP_A
        "\n# statement up 0 %zu\n# checksum %s\n# repeatable b_view\n# up no-tx ",
        hex_encode((char[HASH_SHA256_HEX]){0}, m.migrations[1].chain, HASH_SHA256_BYTES), hex,
        strlen(REP_A) - 2, hex);
    assert_contains(first.data, want.data);

    manifest_init(&parsed);
    if (manifest_parse(&parsed, first.data, first.len, &err) != 0)
        fail_msg("manifest with repeatables refused: %s", err.msg);
    assert_int_equal(parsed.nmigrations, 2);
    assert_int_equal(parsed.nrepeatables, 2);
    assert_string_equal(parsed.repeatables[0].id, "a view");
    assert_string_equal(parsed.repeatables[0].origin, "R__a_view.sql -123");
    assert_int_equal(parsed.repeatables[0].script[MANIFEST_UP].transactional, 1);
    assert_int_equal(parsed.repeatables[1].script[MANIFEST_UP].transactional, 0);
    assert_memory_equal(parsed.repeatables[0].chain, sha, HASH_SHA256_BYTES);
    assert_string_equal(parsed.members[parsed.repeatables[1].script[MANIFEST_UP].member].path,
                        PATH_REP_B);
    manifest_emit(&parsed, &second);
    assert_text_equal(second.data, second.len, first.data, first.len);

    /* Without repeatables the text is version 1 again, byte for byte. */
    manifest_release(&m);
    buf_reset(&first);
    buf_reset(&second);
    build_manifest(&m);
    manifest_emit(&m, &first);
    assert_memory_equal(first.data, HEADER, strlen(HEADER));
    manifest_release(&m);
    manifest_release(&parsed);
    buf_release(&first);
    buf_release(&second);
    buf_release(&want);
}

static void
mut_rep_copy_file(struct buf *b)
{
    char line[200];

    snprintf(line, sizeof(line), "# copy up 0 file %064d " PATH_UP1 "\n# checksum", 0);
    replace_first(b, "# checksum", line);
}

static void
mut_rep_swap(struct buf *b)
{
    /* "a view" becomes "c view": the records are no longer in name order. */
    replace_first(b, "# repeatable a%20view\n", "# repeatable c%20view\n");
}

static void
mut_rep_no_checksum(struct buf *b)
{
    delete_line(b, "# checksum ");
}

static void
mut_rep_after_members(struct buf *b)
{
    buf_addstr(b, "# repeatable z\n");
}

static void
mut_rep_other_checksum(struct buf *b)
{
    unsigned char sha[HASH_SHA256_BYTES];
    char hex[HASH_SHA256_HEX], line[100];

    hash_sha256(REP_B, strlen(REP_B), sha);
    snprintf(line, sizeof(line), "# checksum %s", hex_encode(hex, sha, sizeof(sha)));
    splice(b, offset_of(b, "# checksum "), strlen(line), line, strlen(line));
}

static const struct bad_manifest bad_rep_manifests[] = {
    {"repeatable in a version 1 manifest", NULL, "# sealift-manifest 1.2\n",
     "# sealift-manifest 1\n", NULL,
     "\"# repeatable\" needs manifest version 1.2 (the header says 1)"},
    {"newer minor version", NULL, "# sealift-manifest 1.2\n", "# sealift-manifest 1.5\n", NULL,
     "line 1: unsupported manifest version \"1.5\" (this sealift reads versions 1, 1.1, 1.2, 1.3 "
     "and 1.4; the bundle needs a newer sealift)"},
    {"checksum is not the member's", NULL, "# checksum ", "# checksum 0", NULL,
     "repeatable checksum is not 64 lowercase hex digits"},
    {"out of name order", NULL, NULL, NULL, mut_rep_swap,
     "repeatables must be listed once each, in byte order of their names"},
    {"down script", NULL, "# checksum", "# down tx 0 x\n# checksum", NULL,
     "a repeatable has an up script only"},
    {"second up script", NULL, "# checksum", "# up tx 0 x\n# checksum", NULL,
     "a repeatable has one up script"},
    {"no up script", NULL, "# origin R__a_view.sql%20-123\n# up", "# checksum", NULL,
     "repeatable \"a view\" has no up script"},
    {"not closed", NULL, NULL, NULL, mut_rep_no_checksum,
     "repeatable \"a view\" is not closed by \"# checksum\""},
    {"checksum of another script", NULL, NULL, NULL, mut_rep_other_checksum,
     "checksum of repeatable \"a view\" differs from member \"" PATH_REP_A "\"'s"},
    {"copy data file", NULL, NULL, NULL, mut_rep_copy_file, "a repeatable's COPY data is inline"},
    {"empty name", NULL, "# repeatable b_view\n", "# repeatable -\n", NULL,
     "repeatable name is not a valid field"},
    {"after the members", NULL, NULL, NULL, mut_rep_after_members,
     "unknown manifest keyword in the member section"},
};

static void
test_manifest_rejects_bad_repeatables(void **state)
{
    int failures = 0;

    (void)state;
    for (size_t i = 0; i < sizeof(bad_rep_manifests) / sizeof(bad_rep_manifests[0]); i++) {
        const struct bad_manifest *c = &bad_rep_manifests[i];
        struct manifest m, parsed;
        struct buf text = BUF_INIT;
        struct diag_err err = DIAG_ERR_INIT;

        build_rep_manifest(&m);
        manifest_emit(&m, &text);
        manifest_release(&m);
        if (c->from)
            replace_first(&text, c->from, c->to);
        if (c->mutate)
            c->mutate(&text);
        manifest_init(&parsed);
        if (manifest_parse(&parsed, text.data, text.len, &err) != -1) {
            print_error("case \"%s\" accepted\n", c->name);
            failures++;
        } else if (strstr(err.msg, c->expect) == NULL) {
            print_error("case \"%s\": \"%s\" does not contain \"%s\"\n", c->name, err.msg,
                        c->expect);
            failures++;
        }
        assert_int_equal(parsed.nrepeatables, 0);
        buf_release(&text);
    }
    assert_int_equal(failures, 0);
}

/* Lint records and repeatables together: version 1.2 (1.1 plus repeatables), round trip. */
static void
test_manifest_repeatables_with_findings(void **state)
{
    struct manifest m, parsed;
    struct buf first = BUF_INIT, second = BUF_INIT;
    struct diag_err err = DIAG_ERR_INIT;

    (void)state;
    build_rep_manifest(&m);
    add_finding(&m);
    manifest_emit(&m, &first);
    assert_memory_equal(first.data, "# sealift-manifest 1.2\n", strlen("# sealift-manifest 1.2\n"));
    assert_contains(first.data, "\n# lint up ");
    manifest_init(&parsed);
    if (manifest_parse(&parsed, first.data, first.len, &err) != 0)
        fail_msg("manifest with findings and repeatables refused: %s", err.msg);
    assert_int_equal(parsed.nrepeatables, 2);
    manifest_emit(&parsed, &second);
    assert_text_equal(second.data, second.len, first.data, first.len);
    /* A repeatable in a 1.1 manifest is refused. */
    buf_reset(&second);
    buf_addstr(&second, first.data);
    replace_first(&second, "# sealift-manifest 1.2\n", "# sealift-manifest 1.1\n");
    assert_int_equal(manifest_parse(&parsed, second.data, second.len, &err), -1);
    assert_contains(err.msg, "\"# repeatable\" needs manifest version 1.2 (the header says 1.1)");
    manifest_release(&m);
    buf_release(&first);
    buf_release(&second);
}

/*
 * A repeatable's findings (version 1.4): after its script, before its checksum; round trip,
 * and the refusals: the record in an older version, before the script, and a 1.4 header on
 * a manifest whose repeatables have none.
 */
static void
test_manifest_repeatable_findings(void **state)
{
    struct manifest m, parsed;
    struct buf first = BUF_INIT, second = BUF_INIT;
    struct diag_err err = DIAG_ERR_INIT;
    struct manifest_finding f;

    (void)state;
    build_rep_manifest(&m);
    memset(&f, 0, sizeof(f));
    f.kind = MANIFEST_UP;
    f.rule = "create-index-concurrently";
    f.severity = "warning";
    f.lock = "SHARE";
    f.scans = 1;
    f.relation = "public.users";
    f.created_by = "0001";
    f.line = 2;
    f.col = 1;
    f.message = "CREATE INDEX i without CONCURRENTLY holds its lock for the whole build";
    manifest_migration_add_finding(&m.repeatables[1], &f);
    manifest_emit(&m, &first);
    assert_memory_equal(first.data, "# sealift-manifest 1.4\n", strlen("# sealift-manifest 1.4\n"));
    assert_string_equal(manifest_version(&m), "1.4");
    assert_contains(first.data, "# repeatable b_view\n# up no-tx ");
    assert_contains(first.data,
                    "\n# lint up create-index-concurrently warning SHARE -s public.users "
                    "0001 2:1 - CREATE%20INDEX%20i%20");
    manifest_init(&parsed);
    if (manifest_parse(&parsed, first.data, first.len, &err) != 0)
        fail_msg("manifest with a repeatable's finding refused: %s", err.msg);
    assert_int_equal(parsed.repeatables[0].nfindings, 0);
    assert_int_equal(parsed.repeatables[1].nfindings, 1);
    assert_string_equal(parsed.repeatables[1].findings[0].rule, "create-index-concurrently");
    assert_int_equal(parsed.repeatables[1].findings[0].scans, 1);
    manifest_emit(&parsed, &second);
    assert_text_equal(second.data, second.len, first.data, first.len);

    /* The same text under the 1.3 header (it has no expiry: 1.4 makes that optional too). */
    buf_reset(&second);
    buf_addstr(&second, first.data);
    replace_first(&second, "# sealift-manifest 1.4\n", "# sealift-manifest 1.3\n");
    assert_int_equal(manifest_parse(&parsed, second.data, second.len, &err), -1);
    assert_contains(err.msg, "\"# lint\" in a repeatable needs manifest version 1.4");
    /* The record before the script it judges. */
    buf_reset(&second);
    buf_addstr(&second, first.data);
    {
        const char *lint = strstr(second.data, "# lint up create-index");
        size_t len = strcspn(lint, "\n") + 1;
        char *line = xstrndup(lint, len);
        char *moved = xasprintf("# repeatable b_view\n%s", line);

        splice(&second, (size_t)(lint - second.data), len, "", 0);
        replace_first(&second, "# repeatable b_view\n", moved);
        free(moved);
        free(line);
    }
    assert_int_equal(manifest_parse(&parsed, second.data, second.len, &err), -1);
    assert_contains(err.msg, "\"# lint\" comes after the repeatable's script");
    /* A 1.4 header, and no repeatable has a finding. */
    buf_reset(&second);
    build_rep_manifest(&parsed);
    manifest_emit(&parsed, &second);
    manifest_release(&parsed);
    replace_first(&second, "# sealift-manifest 1.2\n", "# sealift-manifest 1.4\n");
    assert_int_equal(manifest_parse(&parsed, second.data, second.len, &err), -1);
    assert_contains(
        err.msg, "a version 1.4 manifest has lint records in repeatables, and this one has none");
    manifest_release(&m);
    buf_release(&first);
    buf_release(&second);
}

/* A version 1.2 header on a manifest without repeatables: one text has one spelling. */
static void
test_manifest_rejects_empty_1_2(void **state)
{
    struct manifest m;
    struct buf text = BUF_INIT;
    struct diag_err err = DIAG_ERR_INIT;

    (void)state;
    build_manifest(&m);
    manifest_emit(&m, &text);
    manifest_release(&m);
    replace_first(&text, "# sealift-manifest 1\n", "# sealift-manifest 1.2\n");
    assert_int_equal(manifest_parse(&m, text.data, text.len, &err), -1);
    assert_string_equal(err.msg, "a version 1.2 manifest lists repeatables, and this one has none");
    buf_release(&text);
}

static void
test_manifest_rejects_oversized(void **state)
{
    /* Untouched pages of calloc'd memory cost nothing: the size check must come first. */
    char *big = calloc(MANIFEST_MAX_BYTES + 1, 1);
    struct manifest m;
    struct diag_err err = DIAG_ERR_INIT;

    (void)state;
    assert_non_null(big);
    manifest_init(&m);
    assert_int_equal(manifest_parse(&m, big, MANIFEST_MAX_BYTES + 1, &err), -1);
    assert_string_equal(err.msg, "manifest is larger than 268435456 bytes");
    free(big);
}

static void
test_manifest_emit_parse_round_trip(void **state)
{
    struct manifest m, parsed;
    struct buf first = BUF_INIT, second = BUF_INIT;
    struct diag_err err = DIAG_ERR_INIT;
    char hex[HASH_SHA256_HEX];
    unsigned char sha[HASH_SHA256_BYTES];

    (void)state;
    build_manifest(&m);
    manifest_emit(&m, &first);
    /* The canonical text: header, migration blocks, then member records. */
    assert_memory_equal(first.data, HEADER "# migration 0001 create_users\n# up tx ",
                        strlen(HEADER "# migration 0001 create_users\n# up tx "));
    assert_contains(first.data, "\n# migration 0002 add_index\n# up no-tx ");
    assert_contains(first.data,
                    " " PATH_UP2 "\n# statement up 0 42\n# statement up 43 42\n# verify ");
    hash_sha256(UP1, strlen(UP1), sha);
    buf_addf(&second, "\n# member %zu\n%s  " PATH_UP1 "\n", strlen(UP1),
             hex_encode(hex, sha, sizeof(sha)));
    assert_contains(first.data, second.data);
    buf_reset(&second);

    manifest_init(&parsed);
    if (manifest_parse(&parsed, first.data, first.len, &err) != 0)
        fail_msg("reference manifest refused: %s", err.msg);
    manifest_emit(&parsed, &second);
    assert_text_equal(second.data, second.len, first.data, first.len);

    /* The parsed model holds what was built. */
    assert_string_equal(parsed.project, "demo");
    assert_int_equal(parsed.serial, 7);
    assert_string_equal(parsed.environment, "prod");
    assert_string_equal(parsed.created, "2026-01-02T03:04:05Z");
    assert_string_equal(parsed.compiler, "sealift 0.1.0");
    assert_string_equal(parsed.source, "native");
    assert_int_equal(parsed.nmigrations, 2);
    assert_int_equal(parsed.nmembers, 4);
    for (size_t i = 0; i < parsed.nmembers; i++) {
        assert_string_equal(parsed.members[i].path, m.members[i].path);
        assert_int_equal(parsed.members[i].size, m.members[i].size);
        assert_memory_equal(parsed.members[i].sha256, m.members[i].sha256, HASH_SHA256_BYTES);
        assert_int_equal(parsed.members[i].referenced, 1);
    }
    for (size_t i = 0; i < parsed.nmigrations; i++) {
        const struct manifest_migration *a = &parsed.migrations[i], *b = &m.migrations[i];

        assert_string_equal(a->id, b->id);
        assert_string_equal(a->name, b->name);
        assert_memory_equal(a->chain, b->chain, HASH_SHA256_BYTES);
        for (int k = 0; k < MANIFEST_NSCRIPTS; k++) {
            assert_int_equal(a->script[k].present, b->script[k].present);
            if (!a->script[k].present)
                continue;
            assert_int_equal(a->script[k].transactional, b->script[k].transactional);
            assert_int_equal(a->script[k].member, b->script[k].member);
            assert_memory_equal(a->script[k].source, b->script[k].source, HASH_SHA256_BYTES);
            assert_int_equal(a->script[k].nstmts, b->script[k].nstmts);
            for (size_t s = 0; s < a->script[k].nstmts; s++) {
                assert_int_equal(a->script[k].stmts[s].offset, b->script[k].stmts[s].offset);
                assert_int_equal(a->script[k].stmts[s].length, b->script[k].stmts[s].length);
            }
        }
    }
    /* Parsing into a used manifest replaces its content. */
    assert_int_equal(manifest_parse(&parsed, first.data, first.len, &err), 0);
    assert_int_equal(parsed.nmigrations, 2);
    manifest_release(&parsed);
    manifest_release(&m);
    buf_release(&first);
    buf_release(&second);
}

/* Parse text, emit it, and require the same bytes back. */
static void
assert_round_trips(const char *what, const struct buf *text)
{
    struct manifest m;
    struct buf again = BUF_INIT;
    struct diag_err err = DIAG_ERR_INIT;

    manifest_init(&m);
    if (manifest_parse(&m, text->data, text->len, &err) != 0)
        fail_msg("%s: refused: %s", what, err.msg);
    manifest_emit(&m, &again);
    if (again.len != text->len || memcmp(again.data, text->data, text->len) != 0)
        print_error("%s: emitted differently\n", what);
    assert_text_equal(again.data, again.len, text->data, text->len);
    manifest_release(&m);
    buf_release(&again);
}

static void
test_manifest_round_trip_variants(void **state)
{
    static const char *const names[] = {
        "", "-", "add index", "100%", "caf\xc3\xa9", "tab\there", "a%20b",
    };
    struct manifest m;
    struct buf text = BUF_INIT;
    char longest[MANIFEST_MAX_TOKEN + 1];

    (void)state;
    /* No environment, the largest serial, and one migration with only an up script. */
    build_manifest(&m);
    free(m.environment);
    m.environment = NULL;
    m.serial = UINT64_MAX;
    manifest_emit(&m, &text);
    assert_contains(text.data, "\n# environment -\n# created ");
    assert_contains(text.data, "\n# serial 18446744073709551615\n");
    assert_round_trips("no environment", &text);
    manifest_release(&m);

    /* Names that must be percent-encoded, and the empty and "-" names. */
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        struct manifest parsed;
        struct diag_err err = DIAG_ERR_INIT;

        build_manifest(&m);
        free(m.migrations[1].name);
        m.migrations[1].name = xstrdup(names[i]);
        buf_reset(&text);
        manifest_emit(&m, &text);
        assert_round_trips(names[i], &text);
        manifest_init(&parsed);
        assert_int_equal(manifest_parse(&parsed, text.data, text.len, &err), 0);
        assert_string_equal(parsed.migrations[1].name, names[i]);
        manifest_release(&parsed);
        manifest_release(&m);
    }

    /* Statements may be listed for tx and verify scripts too. */
    build_manifest(&m);
    manifest_script_add_stmt(&m.migrations[0].script[MANIFEST_UP], 0, strlen(UP1) - 1);
    manifest_script_add_stmt(&m.migrations[0].script[MANIFEST_DOWN], 0, strlen(DOWN1));
    manifest_script_add_stmt(&m.migrations[1].script[MANIFEST_VERIFY], 0, 9);
    buf_reset(&text);
    manifest_emit(&m, &text);
    assert_contains(text.data, " " PATH_UP1 "\n# statement up 0 28\n# down tx ");
    assert_contains(text.data, " " PATH_VERIFY2 "\n# statement verify 0 9\n# chain ");
    assert_round_trips("statements everywhere", &text);
    manifest_release(&m);

    /* A down that cannot run as written: the message follows the down's lines, encoded. */
    build_manifest(&m);
    m.migrations[0].down_blocked = xstrdup("down.sql:3:1: CREATE INDEX CONCURRENTLY (fix: 100%)");
    manifest_script_add_stmt(&m.migrations[0].script[MANIFEST_DOWN], 0, strlen(DOWN1));
    buf_reset(&text);
    manifest_emit(&m, &text);
    assert_contains(text.data, " " PATH_DOWN1 "\n# statement down 0 18\n# down-blocked "
                               "down.sql:3:1:%20CREATE%20INDEX%20CONCURRENTLY%20(fix:%20100%25)\n"
                               "# chain ");
    assert_round_trips("down-blocked", &text);
    {
        struct manifest parsed;
        struct diag_err err = DIAG_ERR_INIT;

        manifest_init(&parsed);
        assert_int_equal(manifest_parse(&parsed, text.data, text.len, &err), 0);
        assert_string_equal(parsed.migrations[0].down_blocked, m.migrations[0].down_blocked);
        assert_null(parsed.migrations[1].down_blocked);
        manifest_release(&parsed);
    }
    manifest_release(&m);

    /* A provenance member: its record comes right before the member records. */
    build_manifest(&m);
    add_provenance(&m);
    buf_reset(&text);
    manifest_emit(&m, &text);
    assert_contains(text.data, "# provenance provenance.intoto.json\n# member ");
    assert_round_trips("provenance", &text);
    {
        struct manifest parsed;
        struct diag_err err = DIAG_ERR_INIT;

        manifest_init(&parsed);
        assert_int_equal(manifest_parse(&parsed, text.data, text.len, &err), 0);
        assert_string_equal(parsed.provenance, "provenance.intoto.json");
        manifest_release(&parsed);
    }
    manifest_release(&m);

    /* Calendar edge cases that are real UTC times. */
    {
        static const char *const times[] = {"2028-02-29T23:59:59Z", "2000-02-29T00:00:00Z",
                                            "1970-01-01T00:00:00Z", "2026-12-31T23:59:59Z"};

        for (size_t i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
            build_manifest(&m);
            free(m.created);
            m.created = xstrdup(times[i]);
            buf_reset(&text);
            manifest_emit(&m, &text);
            assert_round_trips(times[i], &text);
            manifest_release(&m);
        }
    }

    /* A name of exactly MANIFEST_MAX_TOKEN bytes is accepted. */
    memset(longest, 'n', sizeof(longest) - 1);
    longest[sizeof(longest) - 1] = '\0';
    build_manifest(&m);
    free(m.migrations[0].name);
    m.migrations[0].name = xstrdup(longest);
    buf_reset(&text);
    manifest_emit(&m, &text);
    assert_round_trips("longest name", &text);
    manifest_release(&m);
    buf_release(&text);
}

static void
test_manifest_pct_encode(void **state)
{
    static const struct {
        const char *in;
        const char *out;
    } cases[] = {
        {"", "-"},
        {"-", "%2D"},
        {"--", "--"},
        {"plain_name-1.2", "plain_name-1.2"},
        {"a b", "a%20b"},
        {"100%", "100%25"},
        {"caf\xc3\xa9", "caf%C3%A9"},
        {"\x01\x7f", "%01%7F"},
        {"~!", "~!"},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct buf out = BUF_INIT;

        manifest_pct_encode(&out, cases[i].in);
        assert_string_equal(out.data, cases[i].out);
        buf_release(&out);
    }
}

static void
test_manifest_path_and_token_validity(void **state)
{
    static const struct {
        const char *s;
        int path_ok;
        int token_ok;
    } cases[] = {
        {"a", 1, 1},
        {"migrations/0001_x/up.sql", 1, 0},
        {"", 0, 0},
        {"-", 1, 0},
        {"/abs", 0, 0},
        {"dir/", 0, 0},
        {"a//b", 0, 0},
        {"./a", 0, 0},
        {"a/./b", 0, 0},
        {"../a", 0, 0},
        {"a/..", 0, 0},
        {"..a", 1, 1},
        {"a b", 0, 0},
        {"a\\b", 0, 0},
        {"MANIFEST", 0, 1},
        {"MANIFEST.5B5F7DFD72CEDEDD.minisig", 0, 1},
        {"caf\xc3\xa9", 0, 0},
    };
    char long_path[MANIFEST_MAX_PATH + 2];

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        if (manifest_path_valid(cases[i].s) != cases[i].path_ok)
            fail_msg("manifest_path_valid(\"%s\") != %d", cases[i].s, cases[i].path_ok);
        if (manifest_token_valid(cases[i].s) != cases[i].token_ok)
            fail_msg("manifest_token_valid(\"%s\") != %d", cases[i].s, cases[i].token_ok);
    }
    memset(long_path, 'p', sizeof(long_path) - 1);
    long_path[MANIFEST_MAX_PATH] = '\0';
    assert_true(manifest_path_valid(long_path));
    long_path[MANIFEST_MAX_PATH] = 'p';
    long_path[MANIFEST_MAX_PATH + 1] = '\0';
    assert_false(manifest_path_valid(long_path));
}

static void
test_manifest_find_member(void **state)
{
    struct manifest m;
    struct buf text = BUF_INIT;
    struct diag_err err = DIAG_ERR_INIT;
    unsigned char sha[HASH_SHA256_BYTES] = {0};

    (void)state;
    manifest_init(&m);
    assert_int_equal(manifest_find_member(&m, PATH_UP1), -1);
    manifest_release(&m);

    build_manifest(&m);
    assert_int_equal(manifest_find_member(&m, PATH_UP1), 0);
    assert_int_equal(manifest_find_member(&m, PATH_DOWN1), 1);
    assert_int_equal(manifest_find_member(&m, PATH_UP2), 2);
    assert_int_equal(manifest_find_member(&m, PATH_VERIFY2), 3);
    assert_int_equal(manifest_find_member(&m, "migrations/0001_create_users"), -1);
    assert_int_equal(manifest_find_member(&m, PATH_UP1 "x"), -1);
    assert_int_equal(manifest_find_member(&m, ""), -1);
    manifest_emit(&m, &text);
    manifest_release(&m);

    /* The parser builds the same index. */
    manifest_init(&m);
    assert_int_equal(manifest_parse(&m, text.data, text.len, &err), 0);
    assert_int_equal(manifest_find_member(&m, PATH_VERIFY2), 3);
    assert_int_equal(manifest_find_member(&m, "MANIFEST"), -1);
    manifest_release(&m);

    /* Many members: the index grows and every path is still found. */
    manifest_init(&m);
    for (int i = 0; i < 3000; i++) {
        char path[32];

        snprintf(path, sizeof(path), "m/%04d.sql", i);
        assert_int_equal(manifest_add_member(&m, path, (uint64_t)i, sha), (size_t)i);
    }
    for (int i = 0; i < 3000; i++) {
        char path[32];

        snprintf(path, sizeof(path), "m/%04d.sql", i);
        assert_int_equal(manifest_find_member(&m, path), i);
    }
    assert_int_equal(manifest_find_member(&m, "m/3000.sql"), -1);
    manifest_release(&m);
    buf_release(&text);
}

static void
test_manifest_find_migration(void **state)
{
    struct manifest m;
    struct manifest_migration *mig;

    (void)state;
    build_manifest(&m);
    assert_int_equal(manifest_find_migration(&m, "0001"), 0);
    assert_int_equal(manifest_find_migration(&m, "0002"), 1);
    assert_int_equal(manifest_find_migration(&m, "0001_create_users"), 0);
    assert_int_equal(manifest_find_migration(&m, "0002_add_index"), 1);
    assert_int_equal(manifest_find_migration(&m, "create_users"), 0);
    assert_int_equal(manifest_find_migration(&m, "add_index"), 1);
    assert_int_equal(manifest_find_migration(&m, "0002_create_users"), -1);
    assert_int_equal(manifest_find_migration(&m, "0001_"), -1);
    assert_int_equal(manifest_find_migration(&m, "000"), -1);
    assert_int_equal(manifest_find_migration(&m, "0003"), -1);
    assert_int_equal(manifest_find_migration(&m, ""), -1);

    /* A name shared by two migrations is ambiguous; an id always wins over a name. */
    mig = manifest_add_migration(&m, "0003", "add_index");
    mig = manifest_add_migration(&m, "0004", "0001");
    mig = manifest_add_migration(&m, "0005", "");
    (void)mig;
    assert_int_equal(manifest_find_migration(&m, "add_index"), -1);
    assert_int_equal(manifest_find_migration(&m, "0003_add_index"), 2);
    assert_int_equal(manifest_find_migration(&m, "0001"), 0);
    assert_int_equal(manifest_find_migration(&m, "0004_0001"), 3);
    /* An empty name is not matched as "ID_". */
    assert_int_equal(manifest_find_migration(&m, "0005_"), -1);
    assert_int_equal(manifest_find_migration(&m, "0005"), 4);
    manifest_release(&m);
}

static void
test_manifest_chain_matches_documented_record(void **state)
{
    struct manifest m;
    struct manifest_migration *mig;
    unsigned char src[HASH_SHA256_BYTES], want[HASH_SHA256_BYTES], want2[HASH_SHA256_BYTES];
    char hex[HASH_SHA256_HEX];
    struct buf rec = BUF_INIT;
    struct hash_sha256 h;
    static const unsigned char zero[HASH_SHA256_BYTES] = {0};

    (void)state;
    manifest_init(&m);
    hash_sha256("x", 1, src);
    mig = manifest_add_migration(&m, "0001", "ignored");
    mig->script[MANIFEST_UP].present = 1;
    mig->script[MANIFEST_UP].transactional = 1;
    memcpy(mig->script[MANIFEST_UP].source, src, sizeof(src));
    mig = manifest_add_migration(&m, "0002", "");
    mig->script[MANIFEST_UP].present = 1;
    mig->script[MANIFEST_UP].transactional = 0;
    memcpy(mig->script[MANIFEST_UP].source, src, sizeof(src));
    mig->script[MANIFEST_DOWN].present = 1;
    mig->script[MANIFEST_DOWN].transactional = 1;
    memcpy(mig->script[MANIFEST_DOWN].source, src, sizeof(src));
    mig->script[MANIFEST_VERIFY].present = 1;
    memcpy(mig->script[MANIFEST_VERIFY].source, src, sizeof(src));
    manifest_chain_fill(&m);

    /* chain(0) = SHA-256(32 zero bytes || "0001\n" up "\ntx\n-\n-\n-\n"), per manifest.h. */
    hex_encode(hex, src, sizeof(src));
    buf_addf(&rec, "0001\n%s\ntx\n-\n-\n-\n", hex);
    hash_sha256_init(&h);
    hash_sha256_update(&h, zero, sizeof(zero));
    hash_sha256_update(&h, rec.data, rec.len);
    hash_sha256_final(&h, want);
    assert_memory_equal(m.migrations[0].chain, want, sizeof(want));

    buf_reset(&rec);
    buf_addf(&rec, "0002\n%s\nno-tx\n%s\ntx\n%s\n", hex, hex, hex);
    hash_sha256_init(&h);
    hash_sha256_update(&h, want, sizeof(want));
    hash_sha256_update(&h, rec.data, rec.len);
    hash_sha256_final(&h, want2);
    assert_memory_equal(m.migrations[1].chain, want2, sizeof(want2));

    /* manifest_chain_next agrees with manifest_chain_fill. */
    manifest_chain_next(want, &m.migrations[1], want2);
    assert_memory_equal(m.migrations[1].chain, want2, sizeof(want2));
    buf_release(&rec);
    manifest_release(&m);
}

/* Edits that must change the chain hash of the migration they touch (and all later ones). */
static void
chg_up_source(struct manifest_migration *mig)
{
    mig->script[MANIFEST_UP].source[0] ^= 1;
}

static void
chg_up_mode(struct manifest_migration *mig)
{
    mig->script[MANIFEST_UP].transactional ^= 1;
}

static void
chg_down_source(struct manifest_migration *mig)
{
    mig->script[MANIFEST_DOWN].source[31] ^= 0x40;
}

static void
chg_down_mode(struct manifest_migration *mig)
{
    mig->script[MANIFEST_DOWN].transactional ^= 1;
}

static void
chg_down_absent(struct manifest_migration *mig)
{
    mig->script[MANIFEST_DOWN].present = 0;
}

static void
chg_verify_present(struct manifest_migration *mig)
{
    mig->script[MANIFEST_VERIFY].present = 1;
}

static void
chg_id(struct manifest_migration *mig)
{
    free(mig->id);
    mig->id = xstrdup("0001a");
}

static void
test_manifest_chain_changes_with_any_record(void **state)
{
    static void (*const changes[])(struct manifest_migration *) = {
        chg_up_source,   chg_up_mode,        chg_down_source, chg_down_mode,
        chg_down_absent, chg_verify_present, chg_id,
    };
    struct manifest ref;

    (void)state;
    build_manifest(&ref);
    for (size_t i = 0; i < sizeof(changes) / sizeof(changes[0]); i++) {
        struct manifest m;

        build_manifest(&m);
        changes[i](&m.migrations[0]);
        manifest_chain_fill(&m);
        if (memcmp(m.migrations[0].chain, ref.migrations[0].chain, HASH_SHA256_BYTES) == 0)
            fail_msg("change %zu left the chain hash of migration 0001 unchanged", i);
        /* The next migration's hash covers the previous one's. */
        if (memcmp(m.migrations[1].chain, ref.migrations[1].chain, HASH_SHA256_BYTES) == 0)
            fail_msg("change %zu left the chain hash of migration 0002 unchanged", i);
        manifest_release(&m);
    }
    /* The name and the statement list are not part of the chain. */
    {
        struct manifest m;

        build_manifest(&m);
        free(m.migrations[0].name);
        m.migrations[0].name = xstrdup("renamed");
        m.migrations[1].script[MANIFEST_UP].nstmts = 1;
        manifest_chain_fill(&m);
        assert_memory_equal(m.migrations[0].chain, ref.migrations[0].chain, HASH_SHA256_BYTES);
        assert_memory_equal(m.migrations[1].chain, ref.migrations[1].chain, HASH_SHA256_BYTES);
        manifest_release(&m);
    }
    manifest_release(&ref);
}

static void
test_manifest_script_labels(void **state)
{
    (void)state;
    assert_string_equal(manifest_script_label(MANIFEST_UP), "up");
    assert_string_equal(manifest_script_label(MANIFEST_DOWN), "down");
    assert_string_equal(manifest_script_label(MANIFEST_VERIFY), "verify");
}

/* Findings round-trip, make the manifest version 1.1, and leave the chain hash alone. */
static void
test_manifest_findings_round_trip(void **state)
{
    struct manifest m, parsed;
    struct buf text = BUF_INIT, again = BUF_INIT;
    struct diag_err err = DIAG_ERR_INIT;
    unsigned char chain[HASH_SHA256_BYTES];
    const struct manifest_finding *f;
    (void)state;

    build_manifest(&m);
    memcpy(chain, m.migrations[1].chain, HASH_SHA256_BYTES);
    add_finding(&m);
    manifest_emit(&m, &text);
    assert_memory_equal(text.data, "# sealift-manifest 1.1\n", 23);
    assert_non_null(strstr(text.data, "# lint up alter-column-type warning ACCESS%20EXCLUSIVE r- "
                                      "public.users 0001 3:5 small%20table ALTER%20COLUMN%20x%20"
                                      "TYPE%20int8%20(from%20int4)%20rewrites%20the%20table\n"
                                      "# chain "));
    manifest_init(&parsed);
    assert_int_equal(manifest_parse(&parsed, text.data, text.len, &err), 0);
    assert_int_equal(parsed.migrations[1].nfindings, 1);
    f = &parsed.migrations[1].findings[0];
    assert_int_equal(f->kind, MANIFEST_UP);
    assert_string_equal(f->lock, "ACCESS EXCLUSIVE");
    assert_int_equal(f->rewrites, 1);
    assert_int_equal(f->scans, 0);
    assert_string_equal(f->allowed, "small table");
    assert_int_equal(f->line, 3);
    assert_int_equal(f->col, 5);
    assert_memory_equal(parsed.migrations[1].chain, chain, HASH_SHA256_BYTES);
    manifest_emit(&parsed, &again);
    assert_int_equal(again.len, text.len);
    assert_memory_equal(again.data, text.data, text.len);
    buf_release(&text);
    buf_release(&again);
    manifest_release(&m);
    manifest_release(&parsed);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_manifest_emit_parse_round_trip),
        cmocka_unit_test(test_manifest_round_trip_variants),
        cmocka_unit_test(test_manifest_rejects_bad_manifests),
        cmocka_unit_test(test_manifest_stream_rejects_as_whole),
        cmocka_unit_test(test_manifest_stream_parses_as_whole),
        cmocka_unit_test(test_manifest_stream_read_error),
        cmocka_unit_test(test_manifest_repeatables_round_trip),
        cmocka_unit_test(test_manifest_rejects_bad_repeatables),
        cmocka_unit_test(test_manifest_rejects_empty_1_2),
        cmocka_unit_test(test_manifest_repeatables_with_findings),
        cmocka_unit_test(test_manifest_repeatable_findings),
        cmocka_unit_test(test_manifest_findings_round_trip),
        cmocka_unit_test(test_manifest_rejects_oversized),
        cmocka_unit_test(test_manifest_pct_encode),
        cmocka_unit_test(test_manifest_path_and_token_validity),
        cmocka_unit_test(test_manifest_find_member),
        cmocka_unit_test(test_manifest_find_migration),
        cmocka_unit_test(test_manifest_chain_matches_documented_record),
        cmocka_unit_test(test_manifest_chain_changes_with_any_record),
        cmocka_unit_test(test_manifest_script_labels),
    };

    return cmocka_run_group_tests_name("manifest", tests, NULL, NULL);
}
