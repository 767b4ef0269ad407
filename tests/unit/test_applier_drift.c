/*
 * test_applier_drift.c: unit tests for the pure half of schema drift (applier/drift.c,
 * applier/drift_report.c) and the in-memory zstd frame under it (lib/codec.c): the canonical
 * text of a fingerprint and its parse (round trip through escapes, refusal of bad texts),
 * which objects belong to a schema (--ignore-schema), the summary and JSON of a comparison.
 * Layer: tests.
 */
#include "unit.h"

#include "drift.h"
#include "drift_report.h"
#include "sealift/codec.h"
#include "sealift/xalloc.h"

#include <zstd.h>

struct row {
    const char *kind;
    const char *name;
    const char *def;
};

static void
make(struct snapshot *s, const struct row *rows, size_t n)
{
    snapshot_release(s);
    s->items = xcalloc(n ? n : 1, sizeof(*s->items));
    for (size_t i = 0; i < n; i++) {
        s->items[i].kind = xstrdup(rows[i].kind);
        s->items[i].name = xstrdup(rows[i].name);
        s->items[i].def = xstrdup(rows[i].def);
    }
    s->n = n;
}

/* Odd shapes: tabs, newlines and backslashes in every field, an empty definition. */
static const struct row odd[] = {
    {"column", "public.a\ttab.new\nline", "text default 'back\\slash'::text"},
    {"function", "public.f(integer)",
     "returns integer language sql definition CREATE FUNCTION\n AS $$\\t$$\n"},
    {"index", "public.i", ""},
    {"schema", "we.ird", "owner postgres"},
};

static void
test_drift_canonical_round_trip(void **state)
{
    struct snapshot a, b;
    struct buf text = BUF_INIT;
    struct diag_err err = DIAG_ERR_INIT;

    (void)state;
    snapshot_init(&a);
    snapshot_init(&b);
    make(&a, odd, sizeof(odd) / sizeof(odd[0]));
    drift_canonical(&a, &text);
    /* One line per object after the header: no raw tab or newline inside a field. */
    assert_string_equal(text.data, DRIFT_CANON_HEADER
                        "column\tpublic.a\\ttab.new\\nline\ttext default 'back\\\\slash'::text\n"
                        "function\tpublic.f(integer)\treturns integer language sql definition "
                        "CREATE FUNCTION\\n AS $$\\\\t$$\\n\n"
                        "index\tpublic.i\t\n"
                        "schema\twe.ird\towner postgres\n");
    assert_int_equal(drift_parse(text.data, text.len, &b, &err), 0);
    assert_int_equal(b.n, a.n);
    for (size_t i = 0; i < a.n; i++) {
        assert_string_equal(b.items[i].kind, a.items[i].kind);
        assert_string_equal(b.items[i].name, a.items[i].name);
        assert_string_equal(b.items[i].def, a.items[i].def);
    }
    /* An empty snapshot is the header alone. */
    snapshot_release(&a);
    buf_reset(&text);
    drift_canonical(&a, &text);
    assert_string_equal(text.data, DRIFT_CANON_HEADER);
    assert_int_equal(drift_parse(text.data, text.len, &b, &err), 0);
    assert_int_equal(b.n, 0);
    snapshot_release(&b);
    buf_release(&text);
}

static void
test_drift_parse_refuses_bad_texts(void **state)
{
    static const struct {
        const char *text;
        const char *want;
    } bad[] = {
        {"", "not a fingerprint of format 1"},
        {"sealift-fingerprint-2\n", "not a fingerprint of format 1"},
        {DRIFT_CANON_HEADER "table\tpublic.t\n", "fingerprint line 2 is not KIND<TAB>NAME"},
        {DRIFT_CANON_HEADER "table\tpublic.t\tx\ty\n", "fingerprint line 2 is not"},
        {DRIFT_CANON_HEADER "table\tpublic.t\tok\nindex\tpublic.i\tno newline",
         "fingerprint line 3 is not"},
        {DRIFT_CANON_HEADER "table\tpublic.t\tbad \\x escape\n", "fingerprint line 2 is not"},
        {DRIFT_CANON_HEADER "table\tpublic.t\ttrailing \\\n", "fingerprint line 2 is not"},
    };
    struct snapshot s;

    (void)state;
    snapshot_init(&s);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct diag_err err = DIAG_ERR_INIT;

        assert_int_equal(drift_parse(bad[i].text, strlen(bad[i].text), &s, &err), -1);
        assert_contains(err.msg, bad[i].want);
        assert_int_equal(s.n, 0);
    }
}

static void
test_drift_item_in_schema_table(void **state)
{
    static const struct {
        struct row item;
        const char *schema;
        int in;
    } cases[] = {
        {{"table", "scratch.t", ""}, "scratch", 1},
        {{"column", "scratch.t.c", "int"}, "scratch", 1},
        {{"table", "scratch2.t", ""}, "scratch", 0},
        {{"table", "public.scratch", ""}, "scratch", 0},
        {{"schema", "scratch", "owner x"}, "scratch", 1},
        {{"schema", "scratch2", "owner x"}, "scratch", 0},
        {{"table", "we.ird.t", ""}, "we.ird", 1},
        {{"table", "we.ird.t", ""}, "we", 1}, /* a dotted name is ambiguous: left out too */
        {{"extension", "pgcrypto", "version 1.3 in schema scratch"}, "scratch", 1},
        {{"extension", "pgcrypto", "version 1.3 in schema public"}, "scratch", 0},
        {{"default privileges", "for bob in schema scratch on tables", "x"}, "scratch", 1},
        {{"default privileges", "for bob on tables", "x"}, "scratch", 0},
        {{"comment", "table scratch.t", "hi"}, "scratch", 1},
        {{"comment", "column c of table scratch.t", "hi"}, "scratch", 1},
        {{"comment", "schema scratch", "hi"}, "scratch", 1},
        {{"comment", "table public.scratch", "hi"}, "scratch", 0},
        {{"cast", "scratch.t as text", ""}, "scratch", 0}, /* casts belong to no schema */
        {{"language", "plscratch", ""}, "plscratch", 0},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct snapshot_item it = {(char *)cases[i].item.kind, (char *)cases[i].item.name,
                                   (char *)cases[i].item.def};

        if (drift_item_in_schema(&it, cases[i].schema) != cases[i].in)
            fail_msg("%s %s in schema %s: expected %d", it.kind, it.name, cases[i].schema,
                     cases[i].in);
    }
}

static void
test_drift_filter_and_report(void **state)
{
    static const struct row before[] = {
        {"index", "public.users_email_idx", "CREATE INDEX users_email_idx ON public.users"},
        {"table", "public.users", "owner app"},
        {"table", "scratch.tmp", "owner app"},
    };
    static const struct row after[] = {
        {"column", "public.users.nick", "text"},
        {"table", "public.users", "owner app grants =r/app"},
        {"table", "scratch.tmp2", "owner app"},
    };
    static const char *const ignore[] = {"scratch"};
    struct drift_result r;
    struct buf b = BUF_INIT;

    (void)state;
    drift_result_init(&r);
    make(&r.fp.snap, before, 3);
    make(&r.live, after, 3);
    drift_filter(&r.fp.snap, ignore, 1);
    drift_filter(&r.live, ignore, 1);
    assert_int_equal(r.fp.snap.n, 2);
    assert_int_equal(r.live.n, 2);
    snapshot_diff(&r.fp.snap, &r.live, &r.diff);
    r.state = DRIFT_FOUND;
    r.fp.found = 1;
    r.fp.journal_seq = 7;
    r.ignore = ignore;
    r.nignore = 1;
    assert_true(drift_found(&r));
    drift_summary(&r, &b);
    assert_string_equal(b.data, "3 objects changed: added column public.users.nick, missing "
                                "index public.users_email_idx, changed table public.users");
    buf_reset(&b);
    drift_text(&r, &b);
    assert_contains(b.data, "schema drift: 3 objects changed since the last fingerprint");
    assert_contains(b.data, "  missing  index public.users_email_idx\n"
                            "           was: CREATE INDEX users_email_idx ON public.users\n");
    assert_contains(b.data, "  changed  table public.users\n           was: owner app\n"
                            "           now: owner app grants =r/app\n");
    assert_contains(b.data, "  schemas left out: scratch\n");
    assert_not_contains(b.data, "tmp");
    buf_reset(&b);
    drift_json(&r, &b);
    assert_contains(b.data, "{\"state\":\"drift\",\"fingerprint\":{\"journal_seq\":7,");
    assert_contains(b.data, "\"ignored_schemas\":[\"scratch\"],\"ignore_applied\":true,");
    assert_contains(b.data, "{\"change\":\"missing\",\"kind\":\"index\",\"name\":"
                            "\"public.users_email_idx\",\"before\":\"CREATE INDEX "
                            "users_email_idx ON public.users\",\"after\":null}");
    buf_release(&b);
    drift_result_release(&r);

    /* No fingerprint: not drift. */
    drift_result_init(&r);
    assert_false(drift_found(&r));
    assert_string_equal(drift_state_word(r.state), "no_fingerprint");
    drift_text(&r, &b);
    assert_contains(b.data, "no fingerprint recorded yet");
    buf_release(&b);
    drift_result_release(&r);
}

static void
test_codec_zstd_memory_frame(void **state)
{
    struct buf text = BUF_INIT, z = BUF_INIT, back = BUF_INIT;
    struct diag_err err = DIAG_ERR_INIT;

    (void)state;
    for (int i = 0; i < 2000; i++)
        buf_addf(&text, "column\tpublic.t%d.c\tinteger not null\n", i);
    assert_int_equal(codec_zstd_compress(text.data, text.len, &z, &err), 0);
    assert_true(z.len < text.len / 4);
    assert_int_equal(codec_zstd_decompress(z.data, z.len, text.len, &back, &err), 0);
    assert_int_equal(back.len, text.len);
    assert_memory_equal(back.data, text.data, text.len);

    /* Over the limit, trailing bytes, a cut frame, not a frame at all. */
    buf_reset(&back);
    assert_int_equal(codec_zstd_decompress(z.data, z.len, text.len - 1, &back, &err), -1);
    assert_contains(err.msg, "more than the limit");
    buf_addch(&z, 'x');
    assert_int_equal(codec_zstd_decompress(z.data, z.len, text.len, &back, &err), -1);
    assert_contains(err.msg, "1 bytes after the zstd frame");
    assert_int_equal(codec_zstd_decompress(z.data, z.len / 2, text.len, &back, &err), -1);
    assert_int_equal(codec_zstd_decompress("hello", 5, 100, &back, &err), -1);
    assert_contains(err.msg, "not a zstd frame");

    /* An empty text makes a frame too. */
    buf_reset(&z);
    buf_reset(&back);
    assert_int_equal(codec_zstd_compress("", 0, &z, &err), 0);
    assert_int_equal(codec_zstd_decompress(z.data, z.len, 10, &back, &err), 0);
    assert_int_equal(back.len, 0);
    buf_release(&text);
    buf_release(&z);
    buf_release(&back);
}

static void
test_codec_zstd_stream_frame(void **state)
{
    struct buf text = BUF_INIT, z = BUF_INIT, back = BUF_INIT;
    struct diag_err err = DIAG_ERR_INIT;
    struct codec_zstd_stream *zs;

    (void)state;
    for (int i = 0; i < 20000; i++)
        buf_addf(&text, "index\tpublic.t%d_idx\tCREATE INDEX t%d_idx ON public.t%d (c)\n", i, i, i);
    /* Fed in uneven pieces, as lines come: one frame that says its size and gives the text. */
    buf_addstr(&z, "kept");
    zs = codec_zstd_stream_open(&z, &err);
    assert_non_null(zs);
    for (size_t at = 0, step = 1; at < text.len; at += step, step = step * 3 % 9973 + 1)
        assert_int_equal(codec_zstd_stream_add(zs, text.data + at,
                                               step < text.len - at ? step : text.len - at, &err),
                         0);
    assert_int_equal(codec_zstd_stream_finish(zs, &err), 0);
    codec_zstd_stream_free(zs);
    /* Appended after what out held. */
    assert_memory_equal(z.data, "kept", 4);
    assert_true(z.len - 4 < text.len / 4);
    assert_int_equal(ZSTD_getFrameContentSize(z.data + 4, z.len - 4), text.len);
    assert_int_equal(codec_zstd_decompress(z.data + 4, z.len - 4, text.len, &back, &err), 0);
    assert_int_equal(back.len, text.len);
    assert_memory_equal(back.data, text.data, text.len);
    /* The size in the header is what a reader bounds: a limit one byte short refuses it. */
    buf_reset(&back);
    assert_int_equal(codec_zstd_decompress(z.data + 4, z.len - 4, text.len - 1, &back, &err), -1);
    buf_release(&text);
    buf_release(&z);
    buf_release(&back);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_drift_canonical_round_trip),
        cmocka_unit_test(test_drift_parse_refuses_bad_texts),
        cmocka_unit_test(test_drift_item_in_schema_table),
        cmocka_unit_test(test_drift_filter_and_report),
        cmocka_unit_test(test_codec_zstd_memory_frame),
        cmocka_unit_test(test_codec_zstd_stream_frame),
    };

    return cmocka_run_group_tests_name("applier_drift", tests, NULL, NULL);
}
