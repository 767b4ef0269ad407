/*
 * test_applier_journal.c: unit tests for applier/journal.c: the canonical text of a journal
 * row and its hash, and that the SQL built from the same field table (the canonical text the
 * server computes, the parameters of the prepared record, the columns written) names the same
 * fields in the same order as the C text and as the table's DDL.
 * Layer: tests.
 */
#include "unit.h"

#include "history.h"
#include "journal.h"
#include "sealift/hash.h"

#define HEX64(c)                                                                                   \
    c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c  \
        c c c c c c c c c c c c c c c c c

static void
one_migration(struct manifest *m, struct manifest_migration *mig)
{
    memset(m, 0, sizeof(*m));
    memset(mig, 0, sizeof(*mig));
    mig->id = "001";
    mig->name = "users";
    memset(mig->chain, 0x11, sizeof(mig->chain));
    m->migrations = mig;
    m->nmigrations = 1;
}

static void
test_applier_journal_canonical_text(void **state)
{
    static const char want[] =
        "sealift-journal-1;"
        "1:5;4:demo;27:2026-12-02T12:48:09.123456Z;5:apply;3:001;1:1;64:" HEX64(
            "1") ";"
                 "6:bundle;1:7;5:k1,k2;-;2:ci;4:host;-;64:" HEX64("f") ";";
    struct history_source src = {"bundle", 7, "k1,k2", NULL, "host"};
    struct journal_pos pos = {4, HEX64("f")};
    struct manifest_migration mig;
    struct manifest m;
    struct journal_row row;
    struct buf canon = BUF_INIT;
    unsigned char digest[HASH_SHA256_BYTES];
    char hex[HASH_SHA256_HEX];

    (void)state;
    one_migration(&m, &mig);
    journal_row_fill(&row, &src, "apply", &m, 0, NULL, "ci", "2026-12-02T12:48:09.123456Z", "demo",
                     &pos);
    journal_canonical(&row, &canon);
    assert_string_equal(canon.data, want);
    /* The row's hash is SHA-256 of that text, and the journal's end moved to it. */
    hash_sha256(want, strlen(want), digest);
    hex_encode(hex, digest, HASH_SHA256_BYTES);
    assert_string_equal(row.v[JOURNAL_FIELDS - 1], hex);
    assert_int_equal(pos.seq, 5);
    assert_string_equal(pos.hash, hex);
    buf_release(&canon);
}

/* NULL and empty differ; a value's length makes any split of fields unambiguous. */
static void
test_applier_journal_canonical_text_is_unambiguous(void **state)
{
    struct journal_pos p1 = {0, HEX64("0")}, p2 = p1, p3 = p1;
    struct journal_row a, b, c;
    struct buf ta = BUF_INIT, tb = BUF_INIT, tc = BUF_INIT;

    (void)state;
    journal_row_fill(&a, NULL, "bind", NULL, -1, NULL, "x", "t", "p", &p1);
    journal_row_fill(&b, NULL, "bind", NULL, -1, "", "x", "t", "p", &p2);
    journal_row_fill(&c, NULL, "bind", NULL, -1, "x;", "", "t", "p", &p3);
    journal_canonical(&a, &ta);
    journal_canonical(&b, &tb);
    journal_canonical(&c, &tc);
    assert_string_not_equal(ta.data, tb.data);
    assert_string_not_equal(tb.data, tc.data);
    assert_string_not_equal(p1.hash, p2.hash);
    assert_contains(ta.data, ";1:x;-;-;");  /* actor x, no host, detail NULL */
    assert_contains(tb.data, ";1:x;-;0:;"); /* detail empty */
    buf_release(&ta);
    buf_release(&tb);
    buf_release(&tc);
}

/* Each of names[0..n) occurs in text after the one before it; returns the count found. */
static size_t
in_order(const char *text, const char *const *names, size_t n)
{
    const char *p = text;
    size_t i;

    for (i = 0; i < n; i++) {
        const char *at = strstr(p, names[i]);

        if (at == NULL)
            break;
        p = at + strlen(names[i]);
    }
    return i;
}

static void
test_applier_journal_sql_names_the_same_fields_in_order(void **state)
{
    char refs[JOURNAL_FIELDS][64];
    const char *names[JOURNAL_FIELDS];
    struct buf sql = BUF_INIT;
    size_t cases = 0;

    (void)state;
    for (size_t i = 0; i < JOURNAL_FIELDS; i++) {
        /* checksums, added later, is read so that an older table gives NULL, not an error */
        if (strcmp(journal_column(i), "checksums") == 0)
            snprintf(refs[i], sizeof(refs[i]), "(to_jsonb(r)->>'checksums')");
        else
            snprintf(refs[i], sizeof(refs[i]), "r.%s", journal_column(i));
        names[i] = refs[i];
    }
    journal_canonical_sql("r", &sql);
    assert_true(strncmp(sql.data, "('" JOURNAL_CANON_PREFIX "'", 20) == 0);
    /* Every covered field, in the C text's order, and not the hash itself. */
    assert_int_equal(in_order(sql.data, names, JOURNAL_CANON_FIELDS), JOURNAL_CANON_FIELDS);
    assert_not_contains(sql.data, "r.hash");
    for (const char *p = sql.data; (p = strstr(p, "CASE WHEN")) != NULL; p++)
        cases++;
    assert_int_equal(cases, JOURNAL_CANON_FIELDS);
    /* Timestamps in UTC, with microseconds, as journal_ts_text writes them in C. */
    assert_contains(sql.data, "to_char(r.at AT TIME ZONE 'UTC', " JOURNAL_TS_FORMAT ")");
    buf_release(&sql);
}

static void
test_applier_journal_columns_match_the_ddl(void **state)
{
    struct history_ctx h;
    struct buf ddl = BUF_INIT, cols = BUF_INIT;
    char decl[JOURNAL_FIELDS][64];
    const char *names[JOURNAL_FIELDS];
    const char *table;
    size_t n = 0;

    (void)state;
    history_ctx_init(&h, "sealift", "demo");
    history_sql_create(&h, &ddl);
    table = strstr(ddl.data, ".journal (\n");
    assert_non_null(table);
    for (size_t i = 0; i < JOURNAL_FIELDS; i++) {
        if (strcmp(journal_column(i), "checksums") == 0)
            continue; /* added after version 1: by ALTER TABLE, for old and new tables alike */
        snprintf(decl[n], sizeof(decl[n]), "    %s ", journal_column(i));
        names[n] = decl[n];
        n++;
    }
    assert_int_equal(in_order(table, names, n), n);
    assert_int_equal(n, JOURNAL_FIELDS - 1);
    assert_contains(ddl.data,
                    "ALTER TABLE \"sealift\".journal ADD COLUMN IF NOT EXISTS checksums text");
    journal_sql_columns(&cols);
    assert_string_equal(cols.data, "seq, project, at, event, migration_id, ordinal, chain, "
                                   "bundle_id, bundle_serial, signers, environment, actor, "
                                   "client_host, detail, prev_hash, checksums, hash");
    assert_null(journal_column(JOURNAL_FIELDS));
    buf_release(&ddl);
    buf_release(&cols);
    history_ctx_release(&h);
}

/* The prepared record's parameters: one per covered field but at, in order, and the values
 * journal_param_values gives are those fields' values. */
static void
test_applier_journal_params_follow_the_fields(void **state)
{
    struct history_source src = {"bundle", 7, "k1", "prod", "host"};
    struct journal_pos pos = {0, HEX64("0")};
    struct manifest_migration mig;
    struct manifest m;
    struct journal_row row;
    struct buf sql = BUF_INIT;
    const char *values[JOURNAL_CANON_FIELDS];
    int next, n;

    (void)state;
    one_migration(&m, &mig);
    next = journal_sql_param_fields("t.at", 16, &sql);
    assert_int_equal(next, 16 + JOURNAL_CANON_FIELDS - 1);
    assert_contains(sql.data, "$16::bigint AS seq, $17::text AS project, t.at AS at, "
                              "$18::text AS event, $19::text AS migration_id, "
                              "$20::integer AS ordinal");
    assert_contains(sql.data, "$29::text AS prev_hash");
    assert_not_contains(sql.data, "AS hash");
    journal_row_fill(&row, &src, "apply", &m, 0, "d", "ci", "T", "demo", &pos);
    n = journal_param_values(&row, values);
    assert_int_equal(n, JOURNAL_CANON_FIELDS - 1);
    assert_string_equal(values[0], "1");
    assert_string_equal(values[1], "demo");
    assert_string_equal(values[2], "apply"); /* at is skipped */
    assert_string_equal(values[n - 3], "d");
    assert_string_equal(values[n - 2], HEX64("0"));
    assert_null(values[n - 1]); /* checksums: the fixture's migration has no up script */
    buf_release(&sql);
}

/*
 * An apply, stamp or adopt row records the applied row's checksums, and its canonical text
 * ends with them; a row without them (other events, older rows) leaves them out entirely.
 */
static void
test_applier_journal_checksums_in_canonical_text(void **state)
{
    struct history_source src = {"bundle", 7, "k1", NULL, "host"};
    struct journal_pos pos = {0, HEX64("0")};
    struct manifest_member member[1];
    struct manifest_migration mig;
    struct manifest m;
    struct journal_row row;
    struct buf canon = BUF_INIT;
    static const char want[] = "up_source_sha256=" HEX64("2") " down_source_sha256=- "
                                                              "up_sha256=" HEX64("3");
    char text[JOURNAL_CHECKSUMS_SIZE], suffix[300], prev[HASH_SHA256_HEX];

    (void)state;
    one_migration(&m, &mig);
    memset(member, 0, sizeof(member));
    memset(member[0].sha256, 0x33, sizeof(member[0].sha256));
    m.members = member;
    m.nmembers = 1;
    mig.script[MANIFEST_UP].present = 1;
    mig.script[MANIFEST_UP].member = 0;
    memset(mig.script[MANIFEST_UP].source, 0x22, sizeof(mig.script[MANIFEST_UP].source));
    assert_string_equal(journal_checksums_text(&m, 0, text), want);

    journal_row_fill(&row, &src, "stamp", &m, 0, NULL, "ci", "T", "demo", &pos);
    journal_canonical(&row, &canon);
    /* ...;64:PREV_HASH;177:up_source_sha256=...; */
    snprintf(suffix, sizeof(suffix), "64:%s;%zu:%s;", HEX64("0"), strlen(want), want);
    assert_true(canon.len > strlen(suffix));
    assert_string_equal(canon.data + canon.len - strlen(suffix), suffix);
    buf_reset(&canon);

    /* A rollback records none: its text ends with prev_hash, as rows written before did. */
    snprintf(prev, sizeof(prev), "%s", pos.hash);
    journal_row_fill(&row, &src, "rollback", &m, 0, NULL, "ci", "T", "demo", &pos);
    assert_null(row.v[JOURNAL_FIELDS - 2]);
    journal_canonical(&row, &canon);
    snprintf(suffix, sizeof(suffix), "64:%s;", prev);
    assert_string_equal(canon.data + canon.len - strlen(suffix), suffix);
    buf_release(&canon);
}

static void
test_applier_journal_ts_text(void **state)
{
    static const struct {
        long long us;
        const char *text;
    } cases[] = {
        {0, "1970-01-01T00:00:00.000000Z"},
        {1796215689123456LL, "2026-12-02T12:48:09.123456Z"},
        {1796215689000001LL, "2026-12-02T12:48:09.000001Z"},
        {951782400999999LL, "2000-02-29T00:00:00.999999Z"},
    };
    char out[JOURNAL_TS_SIZE];

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        journal_ts_text(cases[i].us, out);
        assert_string_equal(out, cases[i].text);
    }
}

/*
 * A row as COPY text: one tab-separated field per column, NULL as \N, and a detail holding
 * COPY's own delimiters escaped, so that the server reads back the same bytes (the hash is
 * over them).
 */
static void
test_applier_journal_copy_line_escapes(void **state)
{
    struct history_source src = {"bundle", 7, "k1,k2", NULL, "host"};
    struct journal_pos pos = {4, HEX64("f")};
    struct manifest_migration mig;
    struct manifest m;
    struct journal_row row;
    static const char prefix[] = "5\tdemo\t2026-12-02T12:48:09.123456Z\tapply\t";
    struct buf line = BUF_INIT;
    size_t tabs = 0;

    (void)state;
    one_migration(&m, &mig);
    journal_row_fill(&row, &src, "apply", &m, 0, "a\tb\nc\\d\re", "ci",
                     "2026-12-02T12:48:09.123456Z", "demo", &pos);
    journal_copy_line(&row, &line);
    for (size_t i = 0; i < line.len; i++)
        tabs += line.data[i] == '\t';
    assert_int_equal(tabs, JOURNAL_FIELDS - 1);
    assert_int_equal(line.data[line.len - 1], '\n');
    assert_non_null(strstr(line.data, "\ta\\tb\\nc\\\\d\\re\t"));
    assert_non_null(strstr(line.data, "\t\\N\t")); /* the environment: NULL */
    assert_true(strncmp(line.data, prefix, strlen(prefix)) == 0);
    buf_release(&line);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_applier_journal_canonical_text),
        cmocka_unit_test(test_applier_journal_canonical_text_is_unambiguous),
        cmocka_unit_test(test_applier_journal_sql_names_the_same_fields_in_order),
        cmocka_unit_test(test_applier_journal_columns_match_the_ddl),
        cmocka_unit_test(test_applier_journal_params_follow_the_fields),
        cmocka_unit_test(test_applier_journal_checksums_in_canonical_text),
        cmocka_unit_test(test_applier_journal_ts_text),
        cmocka_unit_test(test_applier_journal_copy_line_escapes),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
