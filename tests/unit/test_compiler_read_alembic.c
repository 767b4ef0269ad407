/*
 * test_compiler_read_alembic.c: the Alembic reader (compiler/read_alembic.c) on SQL rendered
 * elsewhere (the form "alembic upgrade base:head --sql" prints, copied from Alembic 1.8):
 * markers, Alembic's transaction and alembic_version statements, autocommit blocks, the
 * revision graph, refusals.
 */
#include "reader_test.h"
#include "readers.h"

static const char up_sql[] =
    "BEGIN;\n\nCREATE TABLE alembic_version (\n    version_num VARCHAR(32) NOT NULL, \n"
    "    CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)\n);\n\n"
    "-- Running upgrade  -> aaa111\n\nCREATE TABLE users (id int PRIMARY KEY, name text);\n\n"
    "INSERT INTO alembic_version (version_num) VALUES ('aaa111') RETURNING "
    "alembic_version.version_num;\n\n"
    "-- Running upgrade aaa111 -> bbb222\n\nALTER TABLE users ADD COLUMN email TEXT;\n\n"
    "UPDATE alembic_version SET version_num='bbb222' WHERE alembic_version.version_num = "
    "'aaa111';\n\n"
    "-- Running upgrade bbb222 -> ccc333\n\nCOMMIT;\n\n"
    "CREATE INDEX CONCURRENTLY users_name_idx ON users (name);\n\nBEGIN;\n\n"
    "UPDATE alembic_version SET version_num='ccc333' WHERE alembic_version.version_num = "
    "'bbb222';\n\nCOMMIT;\n\n";

static const char down_sql[] =
    "BEGIN;\n\n-- Running downgrade ccc333 -> bbb222\n\nCOMMIT;\n\n"
    "DROP INDEX CONCURRENTLY users_name_idx;\n\nBEGIN;\n\n"
    "UPDATE alembic_version SET version_num='bbb222' WHERE alembic_version.version_num = "
    "'ccc333';\n\n"
    "-- Running downgrade bbb222 -> aaa111\n\n"
    "UPDATE alembic_version SET version_num='aaa111' WHERE alembic_version.version_num = "
    "'bbb222';\n\n"
    "-- Running downgrade aaa111 -> \n\nDROP TABLE users;\n\n"
    "DELETE FROM alembic_version WHERE alembic_version.version_num = 'aaa111';\n\n"
    "DROP TABLE alembic_version;\n\nCOMMIT;\n\n";

static void
write_revision(struct rt *t, const char *rev, const char *down, const char *message)
{
    char name[64], text[512];

    snprintf(name, sizeof(name), "versions/%s_x.py", rev);
    snprintf(text, sizeof(text),
             "\"\"\"%s\n\nRevision ID: %s\n\"\"\"\nfrom alembic import op\n\n"
             "revision: str = \"%s\"\ndown_revision = %s\nbranch_labels = None\n"
             "depends_on = None\n\n\ndef upgrade() -> None:\n    pass\n",
             message, rev, rev, down);
    rt_write(t, name, text);
}

static void
write_project(struct rt *t)
{
    char up[UNIT_PATH_MAX], down[UNIT_PATH_MAX];

    write_revision(t, "aaa111", "None", "create users");
    write_revision(t, "bbb222", "'aaa111'", "add email");
    write_revision(t, "ccc333", "'bbb222'", "index names");
    rt_write(t, "versions/__init__.py", "");
    rt_write(t, "up.sql", up_sql);
    rt_write(t, "down.sql", down_sql);
    unit_path(up, t->dir, "up.sql");
    unit_path(down, t->dir, "down.sql");
    t->opt.alembic_sql_up = strdup(up);
    t->opt.alembic_sql_down = strdup(down);
}

static void
release_opt(struct rt *t)
{
    free((char *)t->opt.alembic_sql_up);
    free((char *)t->opt.alembic_sql_down);
}

static void
test_read_alembic_splits_rendered_sql(void **state)
{
    struct rt *t = *state;
    const struct src_migration *m;

    write_project(t);
    rt_ok(t, read_alembic, "versions");
    assert_int_equal(t->chain.n, 3);
    m = &t->chain.v[0];
    assert_string_equal(m->id, "aaa111");
    assert_string_equal(m->name, "create users");
    assert_string_equal(m->origin_id, "aaa111");
    /* Alembic's BEGIN and its alembic_version statements are not part of the migration. */
    assert_script(m, MANIFEST_UP, "CREATE TABLE users (id int PRIMARY KEY, name text);\n");
    assert_script(m, MANIFEST_DOWN, "DROP TABLE users;\n");
    assert_true(m->script[MANIFEST_UP].transactional);
    m = &t->chain.v[2];
    assert_script(m, MANIFEST_UP, "CREATE INDEX CONCURRENTLY users_name_idx ON users (name);\n");
    assert_false(m->script[MANIFEST_UP].transactional);
    assert_false(m->script[MANIFEST_DOWN].transactional);
    /* An empty downgrade() renders nothing: a valid no-op. */
    assert_true(t->chain.v[1].script[MANIFEST_DOWN].present);
    assert_int_equal(t->chain.v[1].script[MANIFEST_DOWN].text.len, 0);
    release_opt(t);
}

static void
test_read_alembic_graph_refusals(void **state)
{
    static const struct {
        const char *rev, *down, *expect;
    } cases[] = {
        /* Two heads: refused, naming them (issue 17: was "a branch"). */
        {"ddd444", "'aaa111'", "2 heads ("},
        /* A merge point is accepted by the graph; the SQL then orders it (here: too few steps). */
        {"ddd444", "('bbb222', 'ccc333')", "steps, but 4 revision files"},
        /* A second base is a second line of history: two heads, named. */
        {"ddd444", "None", "2 heads (ccc333, ddd444)"},
        {"ddd444", "'zzz999'", "down_revision zzz999 is not a revision here"},
        {"ddd444", "compute()", "cannot read down_revision"},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct rt *t;

        rt_setup((void **)&t);
        write_project(t);
        write_revision(t, cases[i].rev, cases[i].down, "more");
        rt_refused(t, read_alembic, "versions", cases[i].expect);
        if (i == 0)
            assert_contains(t->errors.data, "merge them first (\"alembic merge heads\")");
        release_opt(t);
        rt_teardown((void **)&t);
    }
}

static void
test_read_alembic_sql_refusals(void **state)
{
    static const struct {
        const char *from, *to, *expect;
    } cases[] = {
        /* Rendered from other revisions. */
        {"-- Running upgrade aaa111 -> bbb222", "-- Running upgrade aaa111 -> xxx222",
         "does not record the step it follows"},
        {"-- Running upgrade aaa111 -> bbb222\n\nALTER TABLE users ADD COLUMN email TEXT;\n\n"
         "UPDATE alembic_version SET version_num='bbb222'",
         "-- Running upgrade aaa111 -> xxx222\n\nALTER TABLE users ADD COLUMN email TEXT;\n\n"
         "UPDATE alembic_version SET version_num='xxx222'",
         "step 2 is \"upgrade aaa111 -> xxx222\""},
        /* A transactional statement and an autocommit block in one revision. */
        {"-- Running upgrade bbb222 -> ccc333\n\nCOMMIT;",
         "-- Running upgrade bbb222 -> ccc333\n\nSELECT 1;\n\nCOMMIT;",
         "runs statements both outside Alembic's transaction"},
        /* SQL that belongs to no revision. */
        {"BEGIN;\n\nCREATE TABLE alembic_version",
         "SET search_path = x;\nBEGIN;\n\nCREATE TABLE alembic_version",
         "SQL before the first \"-- Running upgrade\" marker"},
        {"ALTER TABLE users ADD COLUMN email TEXT;", "\\i more.sql", "psql meta-command"},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct rt *t;
        struct buf text = BUF_INIT;
        const char *at = strstr(up_sql, cases[i].from);

        rt_setup((void **)&t);
        write_project(t);
        assert_non_null(at);
        buf_add(&text, up_sql, (size_t)(at - up_sql));
        buf_addstr(&text, cases[i].to);
        buf_addstr(&text, at + strlen(cases[i].from));
        rt_write(t, "up.sql", text.data);
        rt_refused(t, read_alembic, "versions", cases[i].expect);
        buf_release(&text);
        release_opt(t);
        rt_teardown((void **)&t);
    }
}

static void
test_read_alembic_needs_sql(void **state)
{
    struct rt *t = *state;

    write_revision(t, "aaa111", "None", "create users");
    assert_int_equal(rt_run(t, read_alembic, "versions"), -1);
    assert_contains(t->errors.data, "Alembic's SQL is needed");
    /* Without a down rendering, the migrations have no downs. */
    write_project(t);
    free((char *)t->opt.alembic_sql_down);
    t->opt.alembic_sql_down = NULL;
    rt_refused(t, read_alembic, "versions", "no downgrade SQL (give --alembic-sql-down FILE)");
    t->opt.alembic_sql_down = NULL;
    t->opt.allow_irreversible = 1;
    rt_ok(t, read_alembic, "versions");
    assert_false(t->chain.v[0].script[MANIFEST_DOWN].present);
    release_opt(t);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_read_alembic_splits_rendered_sql, rt_setup,
                                        rt_teardown),
        cmocka_unit_test(test_read_alembic_graph_refusals),
        cmocka_unit_test(test_read_alembic_sql_refusals),
        cmocka_unit_test_setup_teardown(test_read_alembic_needs_sql, rt_setup, rt_teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
