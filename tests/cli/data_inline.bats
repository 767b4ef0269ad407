#!/usr/bin/env bats
# Inline COPY data (pg_dump's form: "COPY ... FROM stdin;", the data lines, "\."): text and CSV
# formats, several blocks among other statements, check's refusals, and a real pg_dump
# --data-only output applied to a fresh database and compared with its source.

bats_require_minimum_version 1.5.0

load data_helpers

setup_file() { apply_setup_file; }
teardown_file() { apply_teardown_file; }
setup() { apply_setup; }
teardown() { apply_teardown; }

# 001_items: text-format data (tabs, \N, backslash escapes), then statements, then CSV data
# (HEADER, quoted commas, quotes and a newline), then a statement after it.
items_migration() {
    mkdir -p m
    with_tabs >m/001_items.up.sql <<'EOF'
-- items and places, as pg_dump and a spreadsheet write them
CREATE TABLE items (id int PRIMARY KEY, name text, note text, qty int);
COPY items (id, name, note, qty) FROM stdin;
1<TAB>plain<TAB>\N<TAB>10
2<TAB>tab\there<TAB>new\nline<TAB>\N
3<TAB>back\\slash<TAB>\\N is not null<TAB>30
4<TAB>octal \101 and hex \x42<TAB><TAB>40
5<TAB>café ✓<TAB>semi; colon<TAB>50
\.
UPDATE items SET qty = qty + 1 WHERE qty IS NOT NULL;
CREATE TABLE places (id int PRIMARY KEY, name text, note text);
COPY places (id, name, note) FROM STDIN WITH (FORMAT csv, HEADER true);
id,name,note
1,"Paris, France","say ""hi"""
2,"two
lines",
3,,""
\.
INSERT INTO places VALUES (4, 'after', 'the data');
EOF
    printf '%s\n' 'DROP TABLE places;' 'DROP TABLE items;' >m/001_items.down.sql
}

@test "inline text and CSV data among other statements: every value loads exactly" {
    items_migration
    bundle m b.sealift

    run_apply apply b.sealift -p release.pub
    assert_exit 0
    refute_errors
    assert_line --regexp '^ +loaded migrations/000001_001_items/up.sql:4: 5 rows, '
    assert_line --regexp '^ +loaded migrations/000001_001_items/up.sql:13: 3 rows, '
    assert_line 'applied 1 migration; the database is at 001_items'
    # The statement after each block ran after it (the UPDATE saw the rows; the INSERT is row 4).
    assert_rows 'SELECT * FROM items ORDER BY id' \
        '[{"id":1,"name":"plain","note":null,"qty":11}, {"id":2,"name":"tab\there","note":"new\nline","qty":null}, {"id":3,"name":"back\\slash","note":"\\N is not null","qty":31}, {"id":4,"name":"octal A and hex B","note":"","qty":41}, {"id":5,"name":"café ✓","note":"semi; colon","qty":51}]'
    assert_rows 'SELECT * FROM places ORDER BY id' \
        '[{"id":1,"name":"Paris, France","note":"say \"hi\""}, {"id":2,"name":"two\nlines","note":null}, {"id":3,"name":null,"note":""}, {"id":4,"name":"after","note":"the data"}]'
    assert_applied 001
    # The journal records rows and bytes per load, each named by the line its data starts on.
    assert_sql "SELECT detail FROM sealift.journal WHERE event = 'apply'" \
        'loaded migrations/000001_001_items/up.sql:4: 5 rows, 129 bytes; migrations/000001_001_items/up.sql:13: 3 rows, 65 bytes'
}

@test "the manifest records each block as a copy line whose range is exactly its data lines" {
    items_migration
    bundle m b.sealift --compression none
    local man up start len

    man=$(tar -xOf b.sealift MANIFEST)
    up=migrations/000001_001_items/up.sql
    # Statements: 0 CREATE, 1 COPY, 2 UPDATE, 3 CREATE, 4 COPY, 5 INSERT.
    [ "$(grep -c '^# statement up ' <<<"$man")" -eq 6 ] || fail "expected 6 statements: $man"
    grep -q '^# copy up 1 inline [0-9]* [0-9]*$' <<<"$man" || fail "no copy line for stmt 1: $man"
    grep -q '^# copy up 4 inline [0-9]* [0-9]*$' <<<"$man" || fail "no copy line for stmt 4: $man"
    read -r start len < <(sed -n 's/^# copy up 4 inline \([0-9]*\) \([0-9]*\)$/\1 \2/p' <<<"$man")
    # shellcheck disable=SC2016 # expanded by the inner shell
    run --separate-stderr bash -c 'tar -xOf "$1" "$2" | tail -c +$(($3 + 1)) | head -c "$4"' _ \
        b.sealift "$up" "$start" "$len"
    assert_output "$(printf '%s\n' 'id,name,note' '1,"Paris, France","say ""hi"""' '2,"two' \
        'lines",' '3,,""')"
}

@test "check refuses COPY FROM STDIN whose data has no \\. line" {
    mig m 001_t 'CREATE TABLE t (a int);
COPY t FROM stdin;
1
2' 'DROP TABLE t;'
    refute_check_one m '001_t.up.sql:2:1: COPY ... FROM STDIN has no data: end its data lines with a line "\.", or name a data file with "-- sealift:data FILE" before it'
}

@test "check refuses text after the ; of COPY FROM STDIN (the data starts on the next line)" {
    mig m 001_t 'CREATE TABLE t (a int);
COPY t FROM stdin; SELECT 1;
1
\.' 'DROP TABLE t;'
    refute_check_one m '001_t.up.sql:2:20: nothing may follow COPY ... FROM STDIN on its line: its data starts on the next line'
    # A comment there is fine, as psql has it.
    mig m 001_t 'CREATE TABLE t (a int);
COPY t FROM stdin; -- two rows
1
2
\.' 'DROP TABLE t;'
    run_sealift check -d m
    assert_exit 0
    refute_errors
}

@test "check refuses -- sealift:data before a statement that is not a COPY" {
    mig m 001_t 'CREATE TABLE t (a int);
-- sealift:data t.csv
INSERT INTO t VALUES (1);' 'DROP TABLE t;'
    refute_check_one m '001_t.up.sql:3:1: "-- sealift:data t.csv" must come right before a COPY ... FROM STDIN statement'
}

@test "check refuses COPY TO STDOUT: nothing reads it in a migration" {
    mig m 001_t 'CREATE TABLE t (a int);
COPY t TO STDOUT;' 'DROP TABLE t;'
    refute_check_one m '001_t.up.sql:2:1: COPY ... TO STDOUT has no reader in a migration'
}

# refute_check_one DIR MESSAGE: check and build refuse DIR with exactly this one problem.
refute_check_one() {
    refuse_check "$1" 1 "$2"
    assert_compiler_error '1 problem found'
    [ "${#stderr_lines[@]}" -eq 2 ] || fail "expected one problem and the count: $stderr"
    run_apply verify refused.sealift -p release.pub
    assert_exit 2
}

# make_source DB: tables of many types, with awkward values, NULLs and a sequence.
make_source() {
    "$SEALIFT_PG_BIN/psql" -XAtq -v ON_ERROR_STOP=1 -d "$1" <<'EOF'
CREATE TABLE kinds (id serial PRIMARY KEY, t text, b bytea, j json, jb jsonb, ints int[],
    texts text[], ts timestamptz, n numeric, f float8, ok boolean, u uuid, span interval, d date);
INSERT INTO kinds (t, b, j, jb, ints, texts, ts, n, f, ok, u, span, d) VALUES
    (E'tab\there\nnew line\\back\rCR', '\x00ff10', '{"k": "v\"q"}', '{"a": [1, 2], "b": null}',
     '{1,2,NULL}', '{"a b","c,d",NULL,"q\"uote"}', '2024-01-02 03:04:05.678+00', 1.5, 'NaN',
     true, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '1 day 02:03:04', '2024-02-29'),
    (NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    ('\N, not null', '', '[]', 'null', '{}', '{}', 'infinity', -0.0001, '-Infinity', false,
     NULL, '-1 mon', '-infinity'),
    ('\.', (SELECT decode(string_agg(lpad(to_hex(i), 2, '0'), ''), 'hex')
            FROM generate_series(0, 255) i),
     '"ünïcödé ✓"', '"😀"', '{-1}', ARRAY[E'x\ty', E'a\nb', '\.'], NULL, 1e100, 0.1, NULL,
     NULL, NULL, NULL);
INSERT INTO kinds (t, n) SELECT 'row ' || i || E'\t' || md5(i::text), i
    FROM generate_series(1, 2000) i;
CREATE TABLE "Odd ""name""" ("Col 1" text, c2 int);
INSERT INTO "Odd ""name""" VALUES ('x;y', 1), ('\.', 2), ('\', 3), (E'\n\\.', 4);
CREATE TABLE empty (a int);
EOF
}

@test "a real pg_dump --data-only output, as a migration, reproduces its source exactly" {
    extra_db src
    make_source "${PGDATABASE}_src" || fail "could not fill the source database"
    mkdir m
    # The tables come from an earlier migration (pg_dump's schema, as a user would take it).
    "$SEALIFT_PG_BIN/pg_dump" --schema-only -d "${PGDATABASE}_src" |
        grep -v -e '^\\restrict ' -e '^\\unrestrict ' >m/001_schema.up.sql
    printf '%s\n' 'DROP TABLE public.kinds, public."Odd ""name""", public.empty;' \
        >m/001_schema.down.sql
    "$SEALIFT_PG_BIN/pg_dump" --data-only -d "${PGDATABASE}_src" >m/002_data.up.sql
    printf '%s\n' 'TRUNCATE public.kinds, public."Odd ""name""";' >m/002_data.down.sql
    grep -q '^SELECT pg_catalog.set_config' m/002_data.up.sql || fail "unexpected pg_dump output"
    grep -q '^SELECT pg_catalog.setval' m/002_data.up.sql || fail "no sequence in the dump"

    # pg_dump 15.14 and later add psql's \restrict lines: check names them.
    if grep -q '^\\restrict ' m/002_data.up.sql; then
        run_sealift check -d m
        assert_exit 1
        assert_compiler_error 'm/002_data.up.sql:5:1: psql meta-command "\restrict" is not supported'
        sed -i -e '/^\\restrict /d' -e '/^\\unrestrict /d' m/002_data.up.sql
    fi
    run_sealift check -d m
    assert_exit 0
    refute_errors
    bundle m b.sealift

    run_apply apply b.sealift -p release.pub
    assert_exit 0
    refute_errors
    assert_line --regexp '^ +loaded migrations/000002_002_data/up.sql:[0-9]+: 2004 rows, '
    assert_line --regexp '^ +loaded migrations/000002_002_data/up.sql:[0-9]+: 4 rows, '
    assert_line 'applied 2 migrations; the database is at 002_data'
    assert_same_data "${PGDATABASE}_src" "$PGDATABASE"
    assert_sql "SELECT count(*) FROM kinds" 2004
    assert_sql "SELECT last_value FROM kinds_id_seq" 2004
    # pg_dump's set_config('search_path', '', false) did not break the history writes.
    assert_applied 001,002
    run_apply status b.sealift -p release.pub
    assert_exit 0
    run_apply history --verify
    assert_exit 0
    assert_line --regexp '^journal intact: 2 rows'

    # And back: the down script empties the tables.
    run_apply rollback b.sealift -p release.pub --to 001
    assert_exit 0
    assert_sql "SELECT count(*) FROM kinds" 0
    assert_applied 001
}
