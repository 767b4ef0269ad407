/*
 * test_compiler_lint.c: the safety lint (compiler/lint*.c): every fixture of
 * tests/lint/fixtures.txt (positive: its rule fires; negative: nothing does), version-dependent
 * rules, context (new, existing, the down of a migration), suppressions, and the formats.
 */
#include "unit.h"

#include "chain.h"
#include "lint.h"
#include "sqlcheck.h"
#include "sqltext.h"
#include "sealift/xalloc.h"

struct linted {
    struct src_chain chain;
    struct lint_script *scripts;
    struct lint_result res;
};

static void
linted_init(struct linted *l)
{
    chain_init(&l->chain);
    l->scripts = NULL;
}

/*
 * Add a migration with an up script (and a down, if given); check them like the pipeline, and
 * extract their operations from the trees the check kept.
 */
static void
add_migration(struct linted *l, const char *up, const char *down, int transactional)
{
    char id[16];
    struct src_migration *m;
    const char *text[2] = {up, down};
    struct src_chain *ch = &l->chain;
    struct lint_script *scripts;

    snprintf(id, sizeof(id), "%04zu", ch->n + 1);
    m = chain_add(ch, id, "m");
    l->scripts = xrealloc(l->scripts, ch->n * MANIFEST_NSCRIPTS * sizeof(*l->scripts));
    scripts = &l->scripts[(ch->n - 1) * MANIFEST_NSCRIPTS];
    memset(scripts, 0, MANIFEST_NSCRIPTS * sizeof(*scripts));
    for (int k = 0; k < 2; k++) {
        struct src_script *s = &m->script[k];
        struct report rep = REPORT_INIT;
        struct sqltrees trees = SQLTREES_INIT;

        if (text[k] == NULL)
            continue;
        s->present = 1;
        s->transactional = transactional;
        s->file = xasprintf("%s_m.%s.sql", id, k ? "down" : "up");
        buf_addstr(&s->rendered, text[k]);
        assert_int_equal(sqlcheck_script(s->file, s, lint_wants_tree, &trees, &rep), 0);
        lint_extract(s, &trees, &scripts[k]);
        sqltrees_release(&trees);
    }
}

/*
 * Add a repeatable named name with script sql, checked and extracted like add_migration's
 * scripts (after every migration: its entry follows theirs, as lint_chain reads them).
 */
static void
add_repeatable(struct linted *l, const char *name, const char *sql)
{
    struct src_chain *ch = &l->chain;
    struct src_migration *r = chain_add_repeatable(ch, name);
    struct src_script *s = &r->script[MANIFEST_UP];
    struct report rep = REPORT_INIT;
    struct sqltrees trees = SQLTREES_INIT;
    size_t j = ch->n + ch->nrep - 1;

    l->scripts = xrealloc(l->scripts, (j + 1) * MANIFEST_NSCRIPTS * sizeof(*l->scripts));
    memset(&l->scripts[j * MANIFEST_NSCRIPTS], 0, MANIFEST_NSCRIPTS * sizeof(*l->scripts));
    s->present = 1;
    s->transactional = 1;
    s->file = xasprintf("R__%s.sql", name);
    buf_addstr(&s->rendered, sql);
    assert_int_equal(sqlcheck_script(s->file, s, lint_wants_tree, &trees, &rep), 0);
    lint_extract(s, &trees, &l->scripts[j * MANIFEST_NSCRIPTS + MANIFEST_UP]);
    sqltrees_release(&trees);
}

static void
run_lint(struct linted *l, int pg_version, int mode)
{
    struct lint_options opt = {mode, pg_version, 0, NULL};

    lint_result_init(&l->res);
    lint_chain(&l->chain, l->scripts, &opt, &l->res);
}

static void
linted_release(struct linted *l)
{
    for (size_t i = 0; i < (l->chain.n + l->chain.nrep) * MANIFEST_NSCRIPTS; i++)
        lint_script_release(&l->scripts[i]);
    free(l->scripts);
    lint_result_release(&l->res);
    chain_release(&l->chain); /* frees the scripts' file names too */
}

/* The migrations of a fixture's SQL (" ;; " separates them), after base. */
static void
lint_fixture(struct linted *l, const char *base, const char *sql, int transactional, int pg)
{
    char *copy = xstrdup(sql), *p = copy;

    linted_init(l);
    add_migration(l, base, NULL, 1);
    for (;;) {
        char *sep = strstr(p, " ;; ");

        if (sep)
            *sep = '\0';
        add_migration(l, p, NULL, transactional);
        if (!sep)
            break;
        p = sep + 4;
    }
    free(copy);
    run_lint(l, pg, LINT_MODE_DEFAULT);
}

static const char *
find_rule(const struct lint_result *r, const char *rule)
{
    for (size_t i = 0; i < r->n; i++)
        if (strcmp(r->v[i].rule->name, rule) == 0)
            return r->v[i].message;
    return NULL;
}

/* The first finding that is not blocking-lock (a brief lock, info), or NULL. */
static const struct lint_finding *
first_not_blocking(const struct lint_result *r)
{
    for (size_t i = 0; i < r->n; i++)
        if (strcmp(r->v[i].rule->name, "blocking-lock") != 0)
            return &r->v[i];
    return NULL;
}

static char *
fixture_path(const char *name)
{
    const char *root = getenv("SEALIFT_ROOT");

    return xasprintf("%s/tests/lint/%s", root && root[0] ? root : ".", name);
}

static void
test_lint_fixtures(void **state)
{
    char *bpath = fixture_path("base.sql"), *fpath = fixture_path("fixtures.txt");
    struct buf base = BUF_INIT, fix = BUF_INIT;
    char *line, *save = NULL;
    size_t npos = 0, nneg = 0;
    (void)state;

    unit_read_file(bpath, &base);
    unit_read_file(fpath, &fix);
    for (line = strtok_r(fix.data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *rule = line, *server, *mode, *sql;
        struct linted l;

        if (line[0] == '#' || line[0] == '\0')
            continue;
        server = strchr(rule, '|');
        assert_non_null(server);
        *server++ = '\0';
        mode = strchr(server, '|');
        assert_non_null(mode);
        *mode++ = '\0';
        sql = strchr(mode, '|');
        assert_non_null(sql);
        *sql++ = '\0';
        lint_fixture(&l, base.data, sql, strcmp(mode, "tx") == 0, LINT_PG_VERSION_DEFAULT);
        if (strcmp(rule, "-") == 0) {
            if (l.res.n != 0)
                fail_msg("%s: expected no finding, got %s: %s", sql, l.res.v[0].rule->name,
                         l.res.v[0].message);
            nneg++;
        } else {
            if (find_rule(&l.res, rule) == NULL)
                fail_msg("%s: expected %s, got %zu finding(s)%s%s", sql, rule, l.res.n,
                         l.res.n ? ", first " : "", l.res.n ? l.res.v[0].rule->name : "");
            /* Every rule with a lock names its relation, which the base created. */
            for (size_t i = 0; i < l.res.n; i++)
                if (l.res.v[i].lock && l.res.v[i].relation &&
                    strncmp(l.res.v[i].relation, "public.", 7) == 0)
                    assert_string_equal(l.res.v[i].created_by, "0001_m");
            npos++;
        }
        linted_release(&l);
    }
    assert_true(npos >= 30);
    assert_true(nneg >= 20);
    buf_release(&base);
    buf_release(&fix);
    free(bpath);
    free(fpath);
}

/* Every rule has at least one positive fixture in the file. */
static void
test_lint_every_rule_has_a_fixture(void **state)
{
    char *fpath = fixture_path("fixtures.txt");
    struct buf fix = BUF_INIT;
    (void)state;

    unit_read_file(fpath, &fix);
    for (size_t r = 0; r < lint_nrules; r++) {
        char *want = xasprintf("\n%s|", lint_rules[r].name);

        if (strcmp(lint_rules[r].name, "unused-allow") != 0 &&
            strcmp(lint_rules[r].name, "allow-without-reason") != 0 &&
            strstr(fix.data, want) == NULL)
            fail_msg("rule %s has no positive fixture", lint_rules[r].name);
        free(want);
    }
    buf_release(&fix);
    free(fpath);
}

/* Rules whose verdict depends on --pg-version. */
static void
test_lint_pg_version(void **state)
{
    static const struct {
        int pg;
        const char *sql;
        int transactional;
        const char *rule; /* NULL: no finding */
    } cases[] = {
        {10, "ALTER TABLE t ADD COLUMN x int DEFAULT 0;", 1, "add-column-rewrite"},
        {11, "ALTER TABLE t ADD COLUMN x int DEFAULT 0;", 1, NULL},
        {11,
         "ALTER TABLE t ADD CONSTRAINT s_nn CHECK (s IS NOT NULL) NOT VALID; ;; ALTER TABLE t "
         "VALIDATE CONSTRAINT s_nn; ;; ALTER TABLE t ALTER COLUMN s SET NOT NULL;",
         1, "set-not-null-scan"},
        {12,
         "ALTER TABLE t ADD CONSTRAINT s_nn CHECK (s IS NOT NULL) NOT VALID; ;; ALTER TABLE t "
         "VALIDATE CONSTRAINT s_nn; ;; ALTER TABLE t ALTER COLUMN s SET NOT NULL;",
         1, NULL},
        {11, "ALTER TYPE mood ADD VALUE 'meh';", 1, "enum-add-value"},
        {11, "ALTER TYPE mood ADD VALUE 'meh';", 0, NULL},
        {12, "ALTER TYPE mood ADD VALUE 'meh';", 1, NULL},
        {13, "ALTER TABLE p DETACH PARTITION p1;", 1, "detach-partition-concurrently"},
    };
    char *bpath = fixture_path("base.sql");
    struct buf base = BUF_INIT;
    (void)state;

    unit_read_file(bpath, &base);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct linted l;

        lint_fixture(&l, base.data, cases[i].sql, cases[i].transactional, cases[i].pg);
        /* Nothing but the brief locks' blocking-lock findings. */
        if (cases[i].rule == NULL && first_not_blocking(&l.res))
            fail_msg("PG %d %s: expected nothing, got %s", cases[i].pg, cases[i].sql,
                     first_not_blocking(&l.res)->rule->name);
        if (cases[i].rule && find_rule(&l.res, cases[i].rule) == NULL)
            fail_msg("PG %d %s: expected %s", cases[i].pg, cases[i].sql, cases[i].rule);
        if (cases[i].pg == 13)
            assert_contains(find_rule(&l.res, cases[i].rule), "before 14");
        linted_release(&l);
    }
    buf_release(&base);
    free(bpath);
}

/* Context: a relation created in the same migration is new, one of an earlier one existing. */
static void
test_lint_context(void **state)
{
    struct linted l;
    (void)state;

    linted_init(&l);
    add_migration(&l, "CREATE TABLE a (id int);", "DROP TABLE a;", 1);
    add_migration(&l, "CREATE INDEX a_idx ON a (id); ALTER TABLE a ADD COLUMN c int;",
                  "ALTER TABLE a DROP COLUMN c; DROP INDEX a_idx;", 1);
    add_migration(&l, "ALTER TABLE a RENAME TO b; CREATE INDEX b_idx ON b (id);", NULL, 1);
    run_lint(&l, 15, LINT_MODE_DEFAULT);
    /* The CREATE INDEX of migration 2 (on a, existing) and its ADD COLUMN (a brief ACCESS
     * EXCLUSIVE: blocking-lock); the down scripts undo their ups: no drop findings, but the
     * DROP COLUMN still takes its lock on a, which migration 1 created; then CREATE INDEX on b,
     * which is a renamed, existing table. */
    assert_int_equal(l.res.n, 5);
    assert_string_equal(l.res.v[0].rule->name, "create-index-concurrently");
    assert_string_equal(l.res.v[0].relation, "public.a");
    assert_string_equal(l.res.v[0].created_by, "0001_m");
    assert_int_equal(l.res.v[0].lock, LINT_LOCK_SHARE);
    assert_int_equal(l.res.v[0].mig, 1);
    assert_int_equal(l.res.v[0].line, 1);
    assert_int_equal(l.res.v[0].col, 1);
    assert_string_equal(l.res.v[1].rule->name, "blocking-lock");
    assert_string_equal(l.res.v[1].relation, "public.a");
    assert_int_equal(l.res.v[1].lock, LINT_LOCK_ACCESS_EXCLUSIVE);
    assert_int_equal(l.res.v[1].col, 31);
    assert_string_equal(l.res.v[2].rule->name, "blocking-lock");
    assert_int_equal(l.res.v[2].kind, MANIFEST_DOWN);
    assert_string_equal(l.res.v[3].rule->name, "rename-table");
    assert_string_equal(l.res.v[4].rule->name, "create-index-concurrently");
    assert_string_equal(l.res.v[4].relation, "public.b");
    assert_int_equal(l.res.v[4].col, 28);
    assert_int_equal(l.res.errors, 0);
    assert_int_equal(l.res.warnings, 3);
    assert_int_equal(l.res.infos, 2);
    linted_release(&l);
}

/*
 * Repeatables run after the whole chain: what it created is existing to them; what one
 * creates earlier in its own script is new, but CREATE TABLE IF NOT EXISTS finds the table
 * there on every rerun; a later repeatable sees an earlier one's tables as existing. Allows
 * work in them, and one sealift.sum records unchanged is released.
 */
static void
test_lint_repeatables(void **state)
{
    static const unsigned char released[] = {0, 1};
    struct linted l;
    struct lint_options opt = {LINT_MODE_DEFAULT, 15, 2, released};
    (void)state;

    linted_init(&l);
    add_migration(&l, "CREATE TABLE a (id int);", "DROP TABLE a;", 1);
    add_migration(&l, "SELECT 1;", NULL, 1);
    add_repeatable(
        &l, "r1",
        "CREATE INDEX a_i ON a (id);\nCREATE TABLE t (x int); CREATE INDEX t_i ON t (x);\n"
        "CREATE TABLE IF NOT EXISTS k (x int); CREATE INDEX k_i ON k (x);\n"
        "-- sealift:allow create-index-concurrently a is tiny\n"
        "CREATE INDEX a_j ON a (id);");
    add_repeatable(&l, "r2", "CREATE INDEX t_j ON t (x);");
    lint_result_init(&l.res);
    lint_chain(&l.chain, l.scripts, &opt, &l.res);
    assert_int_equal(l.res.n, 4);
    /* On a, which migration 0001 created. */
    assert_string_equal(l.res.v[0].rule->name, "create-index-concurrently");
    assert_string_equal(l.res.v[0].relation, "public.a");
    assert_string_equal(l.res.v[0].created_by, "0001_m");
    assert_string_equal(l.res.v[0].file, "R__r1.sql");
    assert_int_equal(l.res.v[0].mig, 2);
    assert_int_equal(l.res.v[0].kind, MANIFEST_UP);
    assert_int_equal(l.res.v[0].line, 1);
    assert_int_equal(l.res.v[0].released, 0);
    /* t_i: t is new (created just before); k_i: k is there on every rerun. */
    assert_string_equal(l.res.v[1].relation, "public.k");
    assert_string_equal(l.res.v[1].created_by, "r1");
    assert_int_equal(l.res.v[1].line, 3);
    assert_null(l.res.v[1].allowed);
    assert_string_equal(l.res.v[2].relation, "public.a");
    assert_string_equal(l.res.v[2].allowed, "a is tiny");
    /* r2 runs after r1: t is existing to it; and sealift.sum records r2 unchanged. */
    assert_string_equal(l.res.v[3].relation, "public.t");
    assert_string_equal(l.res.v[3].created_by, "r1");
    assert_string_equal(l.res.v[3].file, "R__r2.sql");
    assert_int_equal(l.res.v[3].mig, 3);
    assert_int_equal(l.res.v[3].released, 1);
    assert_int_equal(l.res.allowed, 1);
    assert_int_equal(l.res.warnings, 3);
    linted_release(&l);
}

/* "-- sealift:allow RULE reason": per statement or for the file; a reason is mandatory. */
static void
test_lint_allow(void **state)
{
    static const struct {
        const char *sql;
        size_t allowed, errors, warnings;
        const char *rule; /* a finding that must be present */
        const char *text; /* in its message, or its reason */
    } cases[] = {
        {"-- sealift:allow create-index-concurrently t is tiny\nCREATE INDEX i ON t (a);", 1, 0, 0,
         "create-index-concurrently", "t is tiny"},
        /* The file header covers every statement. */
        {"-- sealift:allow create-index-concurrently,cluster small table\nSELECT 1;\n"
         "CREATE INDEX i ON t (a);\nCLUSTER t USING t_pkey;",
         2, 0, 0, "cluster", "small table"},
        /* Before another statement it does not cover this one, and is itself unused. */
        {"SELECT 1;\n-- sealift:allow create-index-concurrently why\nSELECT 2;\n"
         "CREATE INDEX i ON t (a);",
         0, 0, 2, "unused-allow", "matches no finding of its statement"},
        /* No reason: allows nothing, and is an error of its own. */
        {"SELECT 1;\n-- sealift:allow alter-column-type\nALTER TABLE t ALTER a TYPE bigint;", 0, 2,
         0, "allow-without-reason", "gives no reason"},
        {"SELECT 1;\n-- sealift:allow no-such-rule because\nCREATE INDEX i ON t (a);", 0, 0, 2,
         "unused-allow", "no such rule"},
        {"SELECT 1;\n-- sealift:allow\nSELECT 2;", 0, 1, 0, "allow-without-reason",
         "names no rule"},
    };
    char *bpath = fixture_path("base.sql");
    struct buf base = BUF_INIT;
    (void)state;

    unit_read_file(bpath, &base);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct linted l;
        const char *msg;
        int found = 0;

        lint_fixture(&l, base.data, cases[i].sql, 1, 15);
        assert_int_equal(l.res.allowed, cases[i].allowed);
        assert_int_equal(l.res.errors, cases[i].errors);
        assert_int_equal(l.res.warnings, cases[i].warnings);
        msg = find_rule(&l.res, cases[i].rule);
        assert_non_null(msg);
        for (size_t f = 0; f < l.res.n; f++)
            found |= strstr(l.res.v[f].message, cases[i].text) != NULL ||
                     (l.res.v[f].allowed && strstr(l.res.v[f].allowed, cases[i].text) != NULL);
        if (!found)
            fail_msg("case %zu: \"%s\" not in any finding", i, cases[i].text);
        linted_release(&l);
    }
    buf_release(&base);
    free(bpath);
}

/* --lint error and warn set every finding's severity. */
static void
test_lint_modes(void **state)
{
    struct linted l;
    (void)state;

    linted_init(&l);
    add_migration(&l, "CREATE TABLE a (id int);", NULL, 1);
    add_migration(&l, "CREATE INDEX i ON a (id); DROP TABLE a;", NULL, 1);
    run_lint(&l, 15, LINT_MODE_WARN);
    assert_int_equal(l.res.errors, 0);
    assert_int_equal(l.res.warnings, 2);
    linted_release(&l);
    linted_init(&l);
    add_migration(&l, "CREATE TABLE a (id int);", NULL, 1);
    add_migration(&l, "CREATE INDEX i ON a (id); DROP TABLE a;", NULL, 1);
    run_lint(&l, 15, LINT_MODE_ERROR);
    assert_int_equal(l.res.errors, 2);
    assert_int_equal(l.res.warnings, 0);
    linted_release(&l);
}

/* The text, JSON and SARIF forms carry the fields. */
static void
test_lint_formats(void **state)
{
    struct linted l;
    struct buf out = BUF_INIT;
    (void)state;

    linted_init(&l);
    add_migration(&l, "CREATE TABLE a (id int);", NULL, 1);
    add_migration(&l, "\n  ALTER TABLE a ADD COLUMN x float8 DEFAULT random();", NULL, 1);
    run_lint(&l, 15, LINT_MODE_DEFAULT);
    lint_format(&l.chain, &l.res, LINT_FORMAT_TEXT, 0, &out);
    assert_contains(out.data, "0002_m.up.sql:2:3: error[add-column-rewrite]: ADD COLUMN x with a "
                              "volatile default rewrites the table and its indexes (ACCESS "
                              "EXCLUSIVE lock on public.a blocks reads, writes and DDL)\n  help: ");
    buf_reset(&out);
    lint_format(&l.chain, &l.res, LINT_FORMAT_JSON, 0, &out);
    assert_contains(out.data, "\"file\":\"0002_m.up.sql\",\"line\":2,\"column\":3,"
                              "\"migration\":\"0002_m\"");
    assert_contains(out.data, "\"relation\":\"public.a\",\"relation_created_by\":\"0001_m\","
                              "\"lock_mode\":\"ACCESS EXCLUSIVE\",\"blocks\":[\"reads\",\"writes\","
                              "\"ddl\"],\"rewrites\":true,\"scans\":false,\"allowed\":null,"
                              "\"released\":false,\"enforced\":true}");
    buf_reset(&out);
    lint_format(&l.chain, &l.res, LINT_FORMAT_SARIF, 0, &out);
    assert_contains(out.data, "\"version\":\"2.1.0\"");
    assert_contains(out.data, "\"ruleId\":\"add-column-rewrite\"");
    assert_contains(out.data, "\"region\":{\"startLine\":2,\"startColumn\":3}");
    buf_release(&out);
    linted_release(&l);
}

/* ALTER COLUMN TYPE of a column whose type the chain does not know: at most a warning. */
static void
test_lint_unknown_column_type(void **state)
{
    struct linted l;
    (void)state;

    linted_init(&l);
    add_migration(&l, "ALTER TABLE outside ALTER COLUMN c TYPE text;", NULL, 1);
    run_lint(&l, 15, LINT_MODE_DEFAULT);
    assert_int_equal(l.res.n, 1);
    assert_int_equal(l.res.v[0].severity, LINT_WARNING);
    assert_null(l.res.v[0].created_by);
    assert_contains(l.res.v[0].message, "not known to the chain");
    linted_release(&l);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lint_fixtures),
        cmocka_unit_test(test_lint_every_rule_has_a_fixture),
        cmocka_unit_test(test_lint_pg_version),
        cmocka_unit_test(test_lint_context),
        cmocka_unit_test(test_lint_repeatables),
        cmocka_unit_test(test_lint_allow),
        cmocka_unit_test(test_lint_modes),
        cmocka_unit_test(test_lint_formats),
        cmocka_unit_test(test_lint_unknown_column_type),
    };
    int ret = cmocka_run_group_tests(tests, NULL, NULL);

    sqlcheck_shutdown();
    return ret;
}
