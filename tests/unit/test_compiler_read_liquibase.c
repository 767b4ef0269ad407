/*
 * test_compiler_read_liquibase.c: the Liquibase reader (compiler/read_liquibase.c,
 * read_liquibase_sql.c): formatted SQL and XML changelogs, include/includeAll order, the
 * checksums Liquibase 4.3.3 stored for the same files (taken from its DATABASECHANGELOG),
 * selection, messy shapes, refusals.
 */
#include "reader_test.h"
#include "readers.h"

/* The changelog Liquibase 4.3.3 ran; MD5SUMs as it recorded them. */
static const char formatted[] =
    "--liquibase formatted sql\n\n--changeset alice:1\nCREATE TABLE t1 (id int);\n-- a "
    "comment\n--rollback DROP TABLE t1;\n\n--changeset alice:2 splitStatements:false\nCREATE "
    "TABLE t2 (id   int);\n\n\n  CREATE TABLE t3(id int);\n--rollback DROP TABLE t3;\n--rollback "
    "DROP TABLE t2;\n--changeset alice:3 stripComments:true\n/* c */ CREATE TABLE t4 (id int); -- "
    "tail\n--rollback DROP TABLE t4;\n";

static const char master[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<databaseChangeLog xmlns=\"http://www.liquibase.org/xml/ns/dbchangelog\">\n"
    "  <include file=\"changes/001.sql\" relativeToChangelogFile=\"true\"/>\n"
    "  <changeSet id=\"x1\" author=\"bob\">\n"
    "    <sql>CREATE TABLE x1 (id int);\n    INSERT INTO x1 VALUES (1);</sql>\n"
    "    <rollback>DROP TABLE x1;</rollback>\n"
    "  </changeSet>\n"
    "  <changeSet id=\"x2\" author=\"bob\">\n"
    "    <sqlFile path=\"changes/x2.sql\" relativeToChangelogFile=\"true\"/>\n"
    "    <rollback><sqlFile path=\"changes/x2_down.sql\" relativeToChangelogFile=\"true\"/>"
    "</rollback>\n"
    "  </changeSet>\n"
    "  <includeAll path=\"changes/sub/\" relativeToChangelogFile=\"true\"/>\n"
    "</databaseChangeLog>\n";

/* One case of a refusal table: file with content (the master when changelog is given). */
static void
refused_case(size_t i, const char *file, const char *changelog, const char *content,
             const char *expect)
{
    struct rt *t;

    rt_setup((void **)&t);
    rt_write(t, file, content);
    t->opt.liquibase_changelog = changelog;
    rt_run(t, read_liquibase, NULL);
    if (t->rep.errors == 0 || strstr(t->errors.data, expect) == NULL)
        fail_msg("case %zu: \"%s\" does not contain \"%s\"", i, t->errors.data, expect);
    rt_teardown((void **)&t);
}

/* The files the YAML and JSON masters include, and the checksums Liquibase gave them. */
static void
write_y_changes(struct rt *t)
{
    rt_write(t, "changes/001.sql",
             "--liquibase formatted sql\n--changeset a:1\nCREATE TABLE a1 (id int);\n--rollback "
             "DROP TABLE a1;\n");
    rt_write(t, "changes/y2.sql", "CREATE TABLE y2 (id int);\n");
}

static void
assert_y_sums(const struct src_chain *c, size_t y2, const char *file)
{
    char key[64];

    snprintf(key, sizeof(key), "yan:y2@%s", file);
    assert_string_equal(c->v[0].origin_checksum, "8:4293d601b1a0fe94b821e6fbde456daf");
    assert_string_equal(c->v[y2].origin_id, key);
    assert_string_equal(c->v[y2].origin_checksum, "8:b060e20db59530014affa70efd955f09");
    assert_string_equal(c->v[y2 + 1].origin_checksum, "8:66b36565238a5af72e5603468437de78");
}

static void
write_sub(struct rt *t, const char *rel, const char *id, const char *table)
{
    char text[256];

    snprintf(text, sizeof(text),
             "--liquibase formatted sql\n--changeset carl:%s\nCREATE TABLE %s (id int);\n"
             "--rollback DROP TABLE %s;\n",
             id, table, table);
    rt_write(t, rel, text);
}

static void
write_probe(struct rt *t)
{
    rt_write(t, "changelog.xml", master);
    rt_write(t, "changes/001.sql", formatted);
    rt_write(t, "changes/x2.sql", "CREATE TABLE x2 (id int);\n");
    rt_write(t, "changes/x2_down.sql", "DROP TABLE x2;\n");
    write_sub(t, "changes/sub/b.sql", "s1", "s1");
    write_sub(t, "changes/sub/A.sql", "s0", "s0");
    write_sub(t, "changes/sub/zz/1.sql", "zz", "szz");
    write_sub(t, "changes/sub/aa/1.sql", "aa", "saa");
    write_sub(t, "changes/sub/m.sql", "top", "stop");
    rt_write(t, "README.md", "x\n");
}

static void
test_read_liquibase_order_and_checksums_as_liquibase(void **state)
{
    static const char *const want[][2] = {
        {"alice:1@changes/001.sql", "8:2753dca0875b7b1900415c3823830075"},
        {"alice:2@changes/001.sql", "8:c03514cf4f921ccc7a2e252366242d4d"},
        {"alice:3@changes/001.sql", "8:c21298762f52d3952444953aedec6d9d"},
        {"bob:x1@changelog.xml", "8:d441ced82aaf42987035e4cbf13a77ee"},
        {"bob:x2@changelog.xml", "8:f975dcaf1398b0ae3db5369adf05d31c"},
        {"carl:s0@changes/sub/A.sql", "8:f1abde8ae4efa8b566becb5159915dcc"},
        {"carl:aa@changes/sub/aa/1.sql", "8:51f41cb7d22e52debc7d1a01105f1f10"},
        {"carl:s1@changes/sub/b.sql", "8:76fc1203765d1449b163e31ff32de6b8"},
        {"carl:top@changes/sub/m.sql", "8:513e5f5bfe0dd8144231efa06ddbd629"},
        {"carl:zz@changes/sub/zz/1.sql", "8:1b429a61d764c406517908aff5f83932"},
    };
    struct rt *t = *state;
    const struct src_migration *m;

    write_probe(t);
    rt_ok(t, read_liquibase, NULL);
    assert_int_equal(t->chain.n, 10);
    for (size_t i = 0; i < 10; i++) {
        assert_string_equal(t->chain.v[i].origin_id, want[i][0]);
        assert_string_equal(t->chain.v[i].origin_checksum, want[i][1]);
    }
    m = &t->chain.v[0];
    assert_string_equal(m->id, "1");
    /* The rollback and the SQL keep the file's line numbers. */
    assert_script(m, MANIFEST_UP, "\n\n\nCREATE TABLE t1 (id int);\n-- a comment\n\n\n");
    assert_script(m, MANIFEST_DOWN, "\n\n\n\n\nDROP TABLE t1;\n");
    m = &t->chain.v[4];
    assert_script(m, MANIFEST_UP, "CREATE TABLE x2 (id int);\n");
    assert_script(m, MANIFEST_DOWN, "DROP TABLE x2;\n");
    assert_int_equal(t->chain.nignored, 1);
    assert_string_equal(t->chain.ignored[0], "README.md");
}

/* CRLF line ends and a byte-order mark change neither the SQL nor Liquibase's checksum. */
static void
test_read_liquibase_crlf_bom_and_spaces_in_folders(void **state)
{
    struct rt *t = *state;

    rt_write(t, "master.xml",
             "\xef\xbb\xbf<databaseChangeLog>\r\n"
             "<include file=\"my changes/one.sql\"/>\r\n</databaseChangeLog>\r\n");
    rt_write(t, "my changes/one.sql",
             "\xef\xbb\xbf--liquibase formatted sql\r\n--changeset carl:s0\r\nCREATE TABLE s0 (id "
             "int);\r\n--rollback DROP TABLE s0;\r\n");
    rt_ok(t, read_liquibase, NULL);
    assert_int_equal(t->chain.n, 1);
    assert_string_equal(t->chain.v[0].origin_id, "carl:s0@my changes/one.sql");
    assert_string_equal(t->chain.v[0].origin_checksum, "8:f1abde8ae4efa8b566becb5159915dcc");
    assert_script(&t->chain.v[0], MANIFEST_UP, "\n\nCREATE TABLE s0 (id int);\n");
}

static void
test_read_liquibase_attributes_and_rollback_block(void **state)
{
    struct rt *t = *state;
    const struct src_migration *m;

    rt_write(t, "db.changelog.sql",
             "--liquibase formatted sql\n"
             "-- before the first changeset: ignored\n"
             "--changeset a:idx runInTransaction:false\n"
             "--comment: an index\n"
             "CREATE INDEX CONCURRENTLY i ON t (a);\n"
             "--rollback DROP INDEX CONCURRENTLY i;\n"
             "--changeset a:fn endDelimiter:/\n"
             "UPDATE t SET a = 1\n"
             "/\n"
             "/* liquibase rollback\n"
             "UPDATE t SET a = 0;\n"
             "*/\n"
             "--changeset a:empty\n"
             "-- only a comment\n"
             "--rollback\n"
             "--changeset a:pg dbms:postgresql,h2\n"
             "--precondition-dbms type:postgresql\n"
             "SELECT 1;\n"
             "--rollback SELECT 1;\n"
             "--changeset a:ora dbms:oracle\n"
             "SELECT 1 FROM dual;\n");
    rt_ok(t, read_liquibase, NULL);
    assert_int_equal(t->chain.n, 4);
    m = &t->chain.v[0];
    assert_string_equal(m->name, "an index");
    assert_false(m->script[MANIFEST_UP].transactional);
    assert_false(m->script[MANIFEST_DOWN].transactional);
    m = &t->chain.v[1];
    assert_script(m, MANIFEST_UP, "\n\n\n\n\n\n\nUPDATE t SET a = 1\n;\n");
    assert_script(m, MANIFEST_DOWN, "\n\n\n\n\n\n\n\n\n\nUPDATE t SET a = 0;\n\n");
    /* A comment-only changeset with an empty rollback: a no-op up and down. */
    m = &t->chain.v[2];
    assert_true(m->script[MANIFEST_UP].present);
    assert_true(m->script[MANIFEST_DOWN].present);
    assert_string_equal(t->chain.v[3].id, "pg");
}

static void
test_read_liquibase_contexts_and_labels(void **state)
{
    struct rt *t = *state;

    rt_write(t, "changelog.sql",
             "--liquibase formatted sql\n"
             "--changeset a:1\nSELECT 1;\n--rollback SELECT 1;\n"
             "--changeset a:2 context:test\nSELECT 2;\n--rollback SELECT 1;\n"
             "--changeset a:3 context:\"!test and prod\"\nSELECT 3;\n--rollback SELECT 1;\n"
             "--changeset a:4 labels:seed,demo\nSELECT 4;\n--rollback SELECT 1;\n");
    rt_ok(t, read_liquibase, NULL);
    assert_int_equal(t->chain.n, 4);
    t->opt.liquibase_contexts = "prod";
    rt_ok(t, read_liquibase, NULL);
    assert_int_equal(t->chain.n, 3);
    assert_string_equal(t->chain.v[1].id, "3");
    t->opt.liquibase_contexts = "test, prod";
    t->opt.liquibase_labels = "!seed";
    rt_ok(t, read_liquibase, NULL);
    assert_int_equal(t->chain.n, 2);
    assert_string_equal(t->chain.v[1].id, "2");
    t->opt.liquibase_contexts = NULL;
    t->opt.liquibase_labels = "demo or x";
    rt_ok(t, read_liquibase, NULL);
    assert_int_equal(t->chain.n, 4);
}

/* Two changesets with one id in different files: their ids become Liquibase's whole key. */
static void
test_read_liquibase_same_id_in_two_files(void **state)
{
    struct rt *t = *state;

    rt_write(t, "changelog.xml",
             "<databaseChangeLog><include file='a.sql'/><include file='b.sql'/>"
             "</databaseChangeLog>");
    rt_write(t, "a.sql", "--liquibase formatted sql\n--changeset x:1\nSELECT 1;\n--rollback\n");
    rt_write(t, "b.sql", "--liquibase formatted sql\n--changeset x:1\nSELECT 2;\n--rollback\n");
    rt_ok(t, read_liquibase, NULL);
    assert_int_equal(t->chain.n, 2);
    assert_string_equal(t->chain.v[0].id, "x:1@a.sql");
    assert_string_equal(t->chain.v[1].id, "x:1@b.sql");
}

/* Checksums Liquibase 4.3.3 recorded for tagDatabase, two sql changes, a leading '/'. */
static void
test_read_liquibase_tags_two_changes_and_root_paths(void **state)
{
    struct rt *t = *state;

    rt_write(t, "changelog.xml",
             "<databaseChangeLog>\n"
             "  <include file=\"classpath:/changes/a.sql\"/>\n"
             "  <changeSet id=\"tag1\" author=\"bob\"><tagDatabase tag=\"v1.0\"/></changeSet>\n"
             "  <changeSet id=\"tag2\" author=\"bob\"><tagDatabase tag=\"release 2\"/>"
             "</changeSet>\n"
             "  <changeSet id=\"two\" author=\"bob\">\n"
             "    <sql>SELECT 1;</sql>\n"
             "    <sql endDelimiter=\"/\" splitStatements=\"false\" stripComments=\"true\">SELECT "
             "2</sql>\n"
             "    <rollback/>\n"
             "  </changeSet>\n"
             "</databaseChangeLog>\n");
    rt_write(t, "changes/a.sql",
             "--liquibase formatted sql\n--changeset a:1\nSELECT 1;\n--rollback\n");
    rt_ok(t, read_liquibase, NULL);
    assert_int_equal(t->chain.n, 4);
    assert_string_equal(t->chain.v[0].origin_id, "a:1@changes/a.sql");
    assert_string_equal(t->chain.v[0].origin_checksum, "8:1299757950f2a4bc6ca7abbec6ca2a01");
    assert_string_equal(t->chain.v[1].origin_checksum, "8:1d23e0aaa0556a059304fe1d52e1caa0");
    assert_string_equal(t->chain.v[2].origin_checksum, "8:274e1326fdb0aeebf411c0dc330cc18b");
    assert_string_equal(t->chain.v[3].origin_checksum, "8:0d2263a9a207595916f051844a2a20a5");
    /* A tag is a no-op both ways. */
    assert_true(t->chain.v[1].script[MANIFEST_UP].present);
    assert_true(t->chain.v[1].script[MANIFEST_DOWN].present);
    assert_script(&t->chain.v[3], MANIFEST_UP, "\n\n\n\n\nSELECT 1;\nSELECT 2;\n");
}

/* A Spring Boot style YAML master; MD5SUMs as Liquibase 4.3.3 recorded them. */
static void
test_read_liquibase_yaml(void **state)
{
    struct rt *t = *state;

    rt_write(t, "db.changelog-master.yaml",
             "# Spring Boot style master\n"
             "databaseChangeLog:\n"
             "  - include:\n"
             "      file: changes/001.sql\n"
             "      relativeToChangelogFile: true\n"
             "  - changeSet:\n"
             "      id: y1\n"
             "      author: yan\n"
             "      comment: a YAML changeset\n"
             "      changes:\n"
             "        - sql:\n"
             "            sql: CREATE TABLE y1 (id int, note text DEFAULT 'a#b')\n"
             "        - sql:\n"
             "            splitStatements: false\n"
             "            sql: |\n"
             "              CREATE FUNCTION y1f() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;\n"
             "              INSERT INTO y1 (id) VALUES (1);\n"
             "      rollback:\n"
             "        - sql:\n"
             "            sql: DROP FUNCTION y1f(); DROP TABLE y1;\n"
             "  - changeSet:\n"
             "      id: \"y2\"\n"
             "      author: 'yan'\n"
             "      changes:\n"
             "      - sqlFile:\n"
             "          path: changes/y2.sql\n"
             "          relativeToChangelogFile: true\n"
             "      rollback: DROP TABLE y2\n"
             "  - changeSet:\n"
             "      id: y3\n"
             "      author: yan\n"
             "      changes:\n"
             "        - tagDatabase:\n"
             "            tag: v1\n");
    write_y_changes(t);
    rt_ok(t, read_liquibase, NULL);
    assert_int_equal(t->chain.n, 4);
    assert_y_sums(&t->chain, 2, "db.changelog-master.yaml");
    assert_string_equal(t->chain.v[1].origin_id, "yan:y1@db.changelog-master.yaml");
    assert_string_equal(t->chain.v[1].origin_checksum, "8:db2ae6f1432b8f4022b66a5a96db02a3");
    assert_string_equal(t->chain.v[1].name, "a YAML changeset");
    assert_contains(t->chain.v[2].script[MANIFEST_DOWN].text.data, "DROP TABLE y2;\n");
}

/* The same changelog in JSON: the same chain and checksums. */
static void
test_read_liquibase_json(void **state)
{
    struct rt *t = *state;

    rt_write(
        t, "changelog.json",
        "{\"databaseChangeLog\": [\n"
        "  {\"include\": {\"file\": \"changes/001.sql\", \"relativeToChangelogFile\": true}},\n"
        "  {\"changeSet\": {\"id\": \"y2\", \"author\": \"yan\",\n"
        "    \"changes\": [{\"sqlFile\": {\"path\": \"changes/y2.sql\", "
        "\"relativeToChangelogFile\": true}}],\n"
        "    \"rollback\": \"DROP TABLE y2\"}},\n"
        "  {\"changeSet\": {\"id\": \"y3\", \"author\": \"yan\",\n"
        "    \"changes\": [{\"tagDatabase\": {\"tag\": \"v1\"}}]}}\n"
        "]}\n");
    write_y_changes(t);
    rt_ok(t, read_liquibase, NULL);
    assert_int_equal(t->chain.n, 3);
    assert_y_sums(&t->chain, 1, "changelog.json");
}

static void
test_read_liquibase_yaml_refusals(void **state)
{
    static const struct {
        const char *content, *expect;
    } cases[] = {
        {"databaseChangeLog: [ {include: {file: a.sql}} ]\n", "line 1: flow collections"},
        {"databaseChangeLog:\n\t- include:\n", "line 2: a tab in indentation"},
        {"databaseChangeLog:\n  - changeSet:\n      id: 'x\n",
         "line 3: unterminated quoted string"},
        {"databaseChangeLog:\n  - changeSet:\n      id: &a x\n", "anchors, aliases and tags"},
        {"databaseChangeLog:\n  - changeSet:\n      id: 1\n      just text\n",
         "line 4: expected \"key: value\""},
        {"other: 1\n", "no top-level \"databaseChangeLog\" key"},
        {"databaseChangeLog:\n  - changeSet:\n      id: 1\n      author: a\n      changes:\n"
         "        - createTable:\n            tableName: t\n",
         "changeset a:1 uses the change type <createTable>"},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        refused_case(i, "changelog.yaml", "changelog.yaml", cases[i].content, cases[i].expect);
    }
}

/* A change for another dbms does not run, but Liquibase 4.3.3 hashes it all the same. */
static void
test_read_liquibase_change_for_other_dbms(void **state)
{
    struct rt *t = *state;

    rt_write(t, "changelog.xml",
             "<databaseChangeLog><changeSet id=\"d1\" author=\"bob\">\n"
             "<sql dbms=\"oracle\">SELECT 1 FROM dual</sql>\n"
             "<sql dbms=\"postgresql\">SELECT 2</sql>\n"
             "<rollback/></changeSet></databaseChangeLog>\n");
    rt_ok(t, read_liquibase, NULL);
    assert_int_equal(t->chain.n, 1);
    assert_string_equal(t->chain.v[0].origin_checksum, "8:dd1639c269ff1b81baa482260342348d");
    assert_script(&t->chain.v[0], MANIFEST_UP, "SELECT 2;\n");
}

static void
test_read_liquibase_empty_changelog(void **state)
{
    struct rt *t = *state;

    rt_write(t, "changelog.sql", "--liquibase formatted sql\n");
    rt_ok(t, read_liquibase, NULL);
    assert_int_equal(t->chain.n, 0);
}

static void
test_read_liquibase_changelog_option(void **state)
{
    struct rt *t = *state;

    rt_write(t, "one.xml", "<databaseChangeLog/>");
    rt_write(t, "two.xml", "<databaseChangeLog><include file='sub/c.sql'/></databaseChangeLog>");
    rt_write(t, "sub/c.sql", "--liquibase formatted sql\n--changeset x:1\nSELECT 1;\n--rollback\n");
    rt_refused(t, read_liquibase, NULL, "several changelogs at the top of \"" /* dir */);
    assert_contains(t->errors.data, "(\"one.xml\", \"two.xml\"); give the master one with "
                                    "--changelog FILE");
    t->opt.liquibase_changelog = "./two.xml";
    rt_ok(t, read_liquibase, NULL);
    assert_int_equal(t->chain.n, 1);
    assert_string_equal(t->chain.v[0].origin_id, "x:1@sub/c.sql");
    rt_write(t, "other.xml", "<other/>");
    t->opt.liquibase_changelog = "other.xml";
    rt_refused(t, read_liquibase, NULL, "not a Liquibase changelog (the root is <other>)");
    t->opt.liquibase_changelog = "../two.xml";
    rt_refused(t, read_liquibase, NULL, "--changelog \"../two.xml\" is outside");
}

static void
test_read_liquibase_refusals(void **state)
{
    static const struct {
        const char *file, *content, *expect;
    } cases[] = {
        {"c.xml",
         "<databaseChangeLog><changeSet id='t' author='a'><createTable tableName='t'/>"
         "</changeSet></databaseChangeLog>",
         "c.xml:1: changeset a:t uses the change type <createTable>, which only Liquibase can "
         "render as SQL: install Liquibase"},
        {"c.sql", "--liquibase formatted sql\n--changeset a:1 runAlways:true\nSELECT 1;\n",
         "changeset a:1 is runAlways: Liquibase runs it on every update"},
        {"c.sql",
         "--liquibase formatted sql\n--changeset a:1 runOnChange:true runAlways:true\n"
         "SELECT 1;\n",
         "changeset a:1 is runAlways"},
        {"c.sql", "--liquibase formatted sql\n--changeset a:1 failOnError:false\nSELECT 1;\n",
         "changeset a:1 has failOnError:false"},
        {"c.sql",
         "--liquibase formatted sql\n--changeset a:1\n--preconditions onFail:MARK_RAN\n"
         "--precondition-sql-check expectedResult:0 SELECT count(*) FROM t\nSELECT 1;\n",
         "changeset a:1: precondition \"sql-check expectedResult:0"},
        {"c.sql", "--liquibase formatted sql\n--changeset a:1\n--precondition-dbms type:oracle\n",
         "fails on PostgreSQL"},
        {"c.sql", "--liquibase formatted sql\n--changeset a:1 foo:bar\nSELECT 1;\n",
         "unknown or invalid attribute \"foo:bar\""},
        {"c.sql", "--liquibase formatted sql\n--changeset nobody\nSELECT 1;\n",
         "c.sql:2: \"--changeset\" needs \"author:id\""},
        {"c.sql", "--liquibase formatted sql\n--changeset a:1\nSELECT 1;\n",
         "changeset a:1 has no rollback"},
        {"c.sql", "--liquibase formatted sql\n--changeset a:1\nSELECT 1;\n/* liquibase rollback\n",
         "block is not closed"},
        {"c.sql",
         "--liquibase formatted sql\n--changeset a:1\nSELECT 1;\n--rollback\n"
         "--changeset a:1\nSELECT 1;\n--rollback\n",
         "changeset a:1 appears twice in \"c.sql\""},
        {"c.xml", "<databaseChangeLog><include file='c.xml'/></databaseChangeLog>",
         "c.xml:1: include loop: \"c.xml\" includes itself"},
        {"c.xml", "<databaseChangeLog><include file='gone.sql'/></databaseChangeLog>",
         "included changelog \"gone.sql\" not found"},
        {"c.xml", "<databaseChangeLog><include file='../up.sql'/></databaseChangeLog>",
         "\"../up.sql\" is outside the directory"},
        {"c.xml", "<databaseChangeLog><includeAll path='none/'/></databaseChangeLog>",
         "includeAll folder \"none\" not found"},
        {"c.xml", "<databaseChangeLog><include file='x.yaml'/></databaseChangeLog>",
         "included changelog \"x.yaml\" not found"},
        {"c.xml", "<databaseChangeLog><changeSet id='1' author='a'><sql>x</sql>",
         "c.xml: line 1: <changeSet> of line 1 is not closed"},
        {"c.xml", "<databaseChangeLog><changeSet id='1' author='a'/></databaseChangeLog>",
         "changeset a:1 has no change"},
        {"c.xml",
         "<databaseChangeLog><changeSet id='1' author='a'><sql>SELECT 1</sql>"
         "<rollback changeSetId='0' changeSetAuthor='a'/></changeSet></databaseChangeLog>",
         "changeset a:1: a rollback that refers to changeset 0 is not supported"},
        {"c.xml",
         "<databaseChangeLog><changeSet id='1' author='a'><sql> </sql><rollback/></changeSet>"
         "</databaseChangeLog>",
         "changeset a:1: <sql> of line 1 is empty (Liquibase requires its text)"},
        {"c.xml",
         "<databaseChangeLog><changeSet id='1' author='a'><sqlFile path='no.sql'/>"
         "<rollback/></changeSet></databaseChangeLog>",
         "changeset a:1: sqlFile: could not"},
        {"c.xml",
         "<databaseChangeLog><changeSet id='1' author='a' runInTransaction='maybe'><sql>x</sql>"
         "<rollback/></changeSet></databaseChangeLog>",
         "runInTransaction=\"maybe\" is not true or false"},
        {"c.xml",
         "<databaseChangeLog><changeSet id='1' author='a'><sql>SELECT 1</sql><rollback>"
         "<dropTable tableName='t'/></rollback></changeSet></databaseChangeLog>",
         "changeset a:1 uses the change type <dropTable>, which only Liquibase can render"},
        {"c.xml",
         "<databaseChangeLog><preConditions><dbms type='postgresql'/></preConditions>"
         "</databaseChangeLog>",
         "changelog preconditions cannot be evaluated at build time"},
        {"c.json", "{\"databaseChangeLog\": [}", "c.json: line 1: unexpected character"},
        {"c.json", "{\"databaseChangeLog\": [], \"x\": 1}", "no top-level \"databaseChangeLog\""},
        {"c.json", "{\"databaseChangeLog\": [] } x", "content after the changelog"},
        {"c.json", "{\"databaseChangeLog\": [{\"include\": {\"file\": \"a\n.sql\"}}]}",
         "unterminated string"},
        {"c.txt", "", "no Liquibase changelog at the top of"},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        refused_case(i, cases[i].file, NULL, cases[i].content, cases[i].expect);
    }
}

/*
 * runOnChange changesets (formatted SQL, XML, JSON) are repeatables named "author:id@FILE", with
 * their SQL alone (not padded to the changelog's lines), Liquibase's checksum of the changeset
 * (runOnChange is not part of it), and their transaction mode; a rollback is ignored with a
 * warning.
 */
static void
test_read_liquibase_run_on_change(void **state)
{
    struct rt *t = *state;
    char plain_sum[64];

    rt_write(t, "changelog.xml",
             "<databaseChangeLog>\n"
             "  <include file='c/v.sql'/>\n"
             "  <changeSet id='x' author='bob' runOnChange='true' runInTransaction='false'>\n"
             "    <sql>CREATE OR REPLACE VIEW x AS SELECT 1</sql>\n"
             "  </changeSet>\n"
             "  <include file='c/j.json'/>\n"
             "</databaseChangeLog>\n");
    rt_write(t, "c/v.sql",
             "--liquibase formatted sql\n--changeset amy:t\nCREATE TABLE t (a int);\n"
             "--rollback DROP TABLE t;\n\n--changeset amy:v runOnChange:true\n"
             "CREATE OR REPLACE VIEW v AS SELECT a FROM t;\n--rollback DROP VIEW v;\n");
    rt_write(t, "c/j.json",
             "{\"databaseChangeLog\": [{\"changeSet\": {\"id\": \"j\", \"author\": \"cy\", "
             "\"runOnChange\": true, \"changes\": [{\"sql\": {\"sql\": \"SELECT 2\"}}]}}]}\n");
    rt_ok(t, read_liquibase, NULL);
    assert_int_equal(t->chain.n, 1);
    assert_string_equal(t->chain.v[0].id, "t");
    /* In changelog order here; the pipeline sorts them by name. */
    assert_int_equal(t->chain.nrep, 3);
    assert_string_equal(t->chain.rep[0].id, "amy:v@c/v.sql");
    assert_string_equal(t->chain.rep[0].origin_id, "amy:v@c/v.sql");
    assert_script(&t->chain.rep[0], MANIFEST_UP, "CREATE OR REPLACE VIEW v AS SELECT a FROM t;\n");
    assert_false(t->chain.rep[0].script[MANIFEST_DOWN].present);
    assert_true(t->chain.rep[0].script[MANIFEST_UP].transactional);
    assert_contains(t->errors.data, "warning: ");
    assert_contains(t->errors.data, "c/v.sql:6: changeset amy:v is runOnChange, compiled as a "
                                    "repeatable migration, which has no down: its rollback is "
                                    "ignored");
    assert_string_equal(t->chain.rep[1].id, "bob:x@changelog.xml");
    assert_script(&t->chain.rep[1], MANIFEST_UP, "CREATE OR REPLACE VIEW x AS SELECT 1;\n");
    assert_false(t->chain.rep[1].script[MANIFEST_UP].transactional);
    assert_string_equal(t->chain.rep[2].id, "cy:j@c/j.json");
    assert_script(&t->chain.rep[2], MANIFEST_UP, "SELECT 2;\n");
    /* "amy:v" < "bob:x" < "cy:j": name order is the changelog's, so no warning. */
    assert_null(strstr(t->errors.data, "not in changelog order"));

    /* Liquibase's checksum is the same as without runOnChange (adoption matches it). */
    snprintf(plain_sum, sizeof(plain_sum), "%s", t->chain.rep[0].origin_checksum);
    assert_true(strncmp(plain_sum, "8:", 2) == 0);
    rt_write(t, "c/v.sql",
             "--liquibase formatted sql\n--changeset amy:t\nCREATE TABLE t (a int);\n"
             "--rollback DROP TABLE t;\n\n--changeset amy:v\n"
             "CREATE OR REPLACE VIEW v AS SELECT a FROM t;\n--rollback DROP VIEW v;\n");
    rt_ok(t, read_liquibase, NULL);
    assert_int_equal(t->chain.nrep, 2);
    assert_non_null(rt_find(t, "v"));
    assert_string_equal(rt_find(t, "v")->origin_checksum, plain_sum);

    /* Out of name order: one warning, naming the first pair. An empty rollback: no warning. */
    rt_write(t, "c/v.sql",
             "--liquibase formatted sql\n--changeset zed:v runOnChange:true\nSELECT 1;\n"
             "--rollback\n");
    rt_ok(t, read_liquibase, NULL);
    assert_contains(t->errors.data, "changelog.xml:3: runOnChange changesets run after the other "
                                    "changesets, in name order (author:id@file), not in "
                                    "changelog order: \"bob:x@changelog.xml\" runs before "
                                    "\"zed:v@c/v.sql\"");
    assert_null(strstr(t->errors.data, "\"cy:j@c/j.json\" runs before"));
    assert_null(strstr(t->errors.data, "rollback is ignored"));
}

/* A plain .sql file that includeAll finds is refused: Liquibase would run it whole. */
static void
test_read_liquibase_include_all_plain_sql(void **state)
{
    struct rt *t = *state;

    rt_write(t, "changelog.xml", "<databaseChangeLog><includeAll path='s'/></databaseChangeLog>");
    rt_write(t, "s/1.sql", "CREATE TABLE t (a int);\n");
    rt_refused(t, read_liquibase, NULL, "s/1.sql: not a formatted SQL changelog");
    rt_write(t, "s/1.sql", "--liquibase formatted sql\n");
    rt_write(t, "s/2.txt", "not a changelog\n");
    rt_ok(t, read_liquibase, NULL);
}

static void
test_read_liquibase_detect(void **state)
{
    struct rt *t = *state;

    assert_int_equal(detect_liquibase(t->dir), 0);
    rt_write(t, "notes.xml", "<notes/>");
    assert_int_equal(detect_liquibase(t->dir), 0);
    rt_write(t, "db.changelog-master.xml", "<databaseChangeLog/>");
    assert_int_equal(detect_liquibase(t->dir), 3);
}

int
main(void)
{
    /* Abstract change types are refused, not rendered, whatever is installed here. */
    setenv("SEALIFT_LIQUIBASE", "/nonexistent/liquibase", 1);
#define T(f) cmocka_unit_test_setup_teardown(f, rt_setup, rt_teardown)
    const struct CMUnitTest tests[] = {
        T(test_read_liquibase_order_and_checksums_as_liquibase),
        T(test_read_liquibase_crlf_bom_and_spaces_in_folders),
        T(test_read_liquibase_attributes_and_rollback_block),
        T(test_read_liquibase_contexts_and_labels),
        T(test_read_liquibase_same_id_in_two_files),
        T(test_read_liquibase_tags_two_changes_and_root_paths),
        T(test_read_liquibase_yaml),
        cmocka_unit_test(test_read_liquibase_yaml_refusals),
        T(test_read_liquibase_json),
        T(test_read_liquibase_change_for_other_dbms),
        T(test_read_liquibase_empty_changelog),
        T(test_read_liquibase_changelog_option),
        cmocka_unit_test(test_read_liquibase_refusals),
        T(test_read_liquibase_run_on_change),
        T(test_read_liquibase_include_all_plain_sql),
        T(test_read_liquibase_detect),
    };
#undef T

    return cmocka_run_group_tests(tests, NULL, NULL);
}
