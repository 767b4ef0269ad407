#!/usr/bin/env bats
# COPY data from files in VERSION_SLUG.data/ beside the migration ("-- sealift:data NAME"):
# CSV, text and binary formats; unused, missing and edited data files; every compression; a
# down script with data; co-signing keeps data members byte for byte.

bats_require_minimum_version 1.5.0

load data_helpers

setup_file() { apply_setup_file; }
teardown_file() { apply_teardown_file; }
setup() { apply_setup; }
teardown() { apply_teardown; }

# countries: migration 001_countries in m, loading countries.csv (HEADER, quoted fields).
countries() {
    local d=m
    mig "$d" 001_countries 'CREATE TABLE countries (code text PRIMARY KEY, name text NOT NULL);
-- sealift:data countries.csv
COPY countries (code, name) FROM STDIN WITH (FORMAT csv, HEADER true);' 'DROP TABLE countries;'
    data_file "$d" 001_countries countries.csv 'code,name
fr,France
ci,"Côte d'"'"'Ivoire"
kr,"Korea, Republic of"
xx,"The ""Quoted"" One"
'
}

countries_rows='[{"code":"ci","name":"Côte d'"'"'Ivoire"}, {"code":"fr","name":"France"}, {"code":"kr","name":"Korea, Republic of"}, {"code":"xx","name":"The \"Quoted\" One"}]'

@test "data files in CSV, text and binary COPY format load exactly, each as its own member" {
    extra_db src
    sql "CREATE TABLE src (id int, name text, price numeric(10,2), tags text[], raw bytea,
            at timestamptz, doc jsonb);
        INSERT INTO src VALUES
            (1, E'tab\tand\nnewline', 9.99, '{a,\"b c\"}', '\\x00010203ff', '2024-05-06 07:08:09+00',
             '{\"k\": [1, null]}'),
            (2, NULL, NULL, NULL, NULL, NULL, NULL),
            (3, 'plain', 0, '{}', '', 'epoch', '\"s\"')" "${PGDATABASE}_src" ||
        fail "could not fill the source database"
    mkdir -p m/001_load.data
    "$SEALIFT_PG_BIN/psql" -XAtq -v ON_ERROR_STOP=1 -d "${PGDATABASE}_src" \
        -c "\\copy src TO 'm/001_load.data/src.bin' WITH (FORMAT binary)" ||
        fail "could not write the binary file"
    mig m 001_load 'CREATE TABLE csv_t (id int, name text, note text);
CREATE TABLE txt_t (id int, name text, note text);
CREATE TABLE src (id int, name text, price numeric(10,2), tags text[], raw bytea,
    at timestamptz, doc jsonb);
CREATE TABLE none_t (id int);
-- sealift:data people.csv
COPY csv_t FROM STDIN WITH (FORMAT csv, HEADER true);
SELECT count(*) FROM csv_t;
-- sealift:data people.txt
COPY txt_t (id, name, note) FROM STDIN;
-- sealift:data src.bin
COPY src FROM STDIN WITH (FORMAT binary);
-- sealift:data empty.csv
COPY none_t FROM STDIN (FORMAT csv);' 'DROP TABLE csv_t, txt_t, src, none_t;'
    # CSV: a header, quoted commas and quotes, a newline inside quotes, no final newline.
    data_file m 001_load people.csv 'id,name,note
1,"Doe, Jane","said ""hi"""
2,"two
lines",
3,,""'
    data_file m 001_load people.txt "$(printf '%s\n' '1<TAB>tab\tin<TAB>\N' \
        '2<TAB>back\\slash<TAB>new\nline' '3<TAB>\\N<TAB>' | with_tabs)
"
    data_file m 001_load empty.csv ''
    bundle m b.sealift

    # Each file is a member of its own, byte for byte (stock tar reads it).
    run --separate-stderr tar -tf b.sealift
    assert_success
    assert_line data/000001_1_people.csv
    assert_line data/000001_2_people.txt
    assert_line data/000001_3_src.bin
    assert_line data/000001_4_empty.csv
    tar -xOf b.sealift data/000001_3_src.bin | cmp - m/001_load.data/src.bin ||
        fail "the binary member differs from its file"

    run_apply apply b.sealift -p release.pub
    assert_exit 0
    refute_errors
    assert_line --regexp '^ +loaded data/000001_1_people.csv: 3 rows, 61 B in '
    assert_line --regexp '^ +loaded data/000001_2_people.txt: 3 rows, '
    assert_line --regexp '^ +loaded data/000001_3_src.bin: 3 rows, '
    assert_line --regexp '^ +loaded data/000001_4_empty.csv: 0 rows, 0 B in '
    assert_rows 'SELECT * FROM csv_t ORDER BY id' \
        '[{"id":1,"name":"Doe, Jane","note":"said \"hi\""}, {"id":2,"name":"two\nlines","note":null}, {"id":3,"name":null,"note":""}]'
    assert_rows 'SELECT * FROM txt_t ORDER BY id' \
        '[{"id":1,"name":"tab\tin","note":null}, {"id":2,"name":"back\\slash","note":"new\nline"}, {"id":3,"name":"\\N","note":""}]'
    assert_rows 'SELECT * FROM src ORDER BY id' \
        "$(rows 'SELECT * FROM src ORDER BY id' "${PGDATABASE}_src")"
    assert_sql "SELECT count(*) FROM none_t" 0
    assert_applied 001
}

@test "a no-transaction migration loads its data file, recorded statement by statement" {
    countries
    mig m 002_more '-- sealift:no-transaction
-- sealift:data more.csv
COPY countries FROM STDIN WITH (FORMAT csv);
CREATE INDEX CONCURRENTLY countries_name_idx ON countries (name);' 'DELETE FROM countries WHERE code = '"'de'"';'
    data_file m 002_more more.csv 'de,Germany
'
    bundle m b.sealift

    run_apply apply b.sealift -p release.pub
    assert_exit 0
    refute_errors
    assert_line --regexp '^ +loaded data/000002_1_more.csv: 1 rows, 11 B in '
    assert_line 'applied 2 migrations; the database is at 002_more'
    assert_sql "SELECT string_agg(code, ',' ORDER BY code) FROM countries" ci,de,fr,kr,xx
    assert_sql "SELECT count(*) FROM pg_indexes WHERE indexname = 'countries_name_idx'" 1
    assert_applied 001,002
}

@test "check and build refuse a data file that no COPY loads, and a data directory of no migration" {
    countries
    data_file m 001_countries extra.csv 'a,b
'
    refuse_check m 1 'm/001_countries.data/extra.csv: data file not loaded by any COPY (put "-- sealift:data extra.csv" right before a COPY ... FROM STDIN)'
    rm m/001_countries.data/extra.csv
    data_file m 001_countrys countries.csv 'code,name
'
    refuse_check m 1 'm/001_countrys.data/: data directory of no migration (no 001_countrys.up.sql)'
}

@test "a data directive inside a block comment is no directive (psql's comment rules)" {
    mig m 001_countries 'CREATE TABLE countries (code text PRIMARY KEY, name text NOT NULL);
/*
-- sealift:data countries.csv
*/
SELECT 1;' 'DROP TABLE countries;'
    data_file m 001_countries countries.csv 'code,name
'
    refuse_check m 1 'm/001_countries.data/countries.csv: data file not loaded by any COPY'
}

@test "check and build refuse a directive naming a data file that is not there" {
    countries
    mv m/001_countries.data/countries.csv m/001_countries.data/countries.CSV
    refuse_check m 2 'm/001_countries.up.sql: "-- sealift:data countries.csv": no such file in m/001_countries.data' \
        'm/001_countries.data/countries.CSV: data file not loaded by any COPY'
    # Without any data directory at all.
    rm -r m/001_countries.data
    refuse_check m 1 'm/001_countries.up.sql: "-- sealift:data countries.csv": no such file in '
}

@test "a data file edited after release: check and build refuse it, naming it and both checksums" {
    countries
    export SOURCE_DATE_EPOCH=1767225600 # reproducible: the same tree gives the same bundle
    bundle m b.sealift
    local was now
    was=$(sha256sum m/001_countries.data/countries.csv | cut -d' ' -f1)
    # sealift.sum records the data file's checksum, and an unchanged tree checks clean.
    grep -q "^001 countries .* copies=up:1:$was\$" m/sealift.sum || fail "$(cat m/sealift.sum)"
    run_sealift check -d m
    assert_exit 0
    refute_errors
    bundle m again.sealift
    cmp b.sealift again.sealift || fail "rebuilding the same tree changed the bundle"

    echo 'de,Germany' >>m/001_countries.data/countries.csv
    now=$(sha256sum m/001_countries.data/countries.csv | cut -d' ' -f1)
    refuse_check m 1 "m/001_countries.data/countries.csv: data file edited after it was recorded in m/sealift.sum (recorded sha256 $was, now $now)"

    # The released bundle still applies what was signed.
    run_apply apply b.sealift -p release.pub
    assert_exit 0
    assert_rows 'SELECT * FROM countries ORDER BY code' "$countries_rows"
}

@test "bundles with --compression none, gzip and zstd all load their data" {
    countries
    local c
    for c in none gzip zstd; do
        bundle m "b-$c.sealift" --compression "$c"
        tar -xOf "b-$c.sealift" data/000001_1_countries.csv |
            cmp - m/001_countries.data/countries.csv || fail "$c: the member differs from its file"
        extra_db "$c"
        run_apply apply "b-$c.sealift" -p release.pub -d "${PGDATABASE}_$c"
        assert_exit 0
        refute_errors
        assert_line --regexp '^ +loaded data/000001_1_countries.csv: 4 rows, 88 B in '
        assert_rows 'SELECT * FROM countries ORDER BY code' "$countries_rows" "${PGDATABASE}_$c"
    done
    file b-none.sealift | grep -q 'tar archive' || fail "b-none is not a plain tar"
    file b-gzip.sealift | grep -q 'gzip' || fail "b-gzip is not gzip"
    file b-zstd.sealift | grep -q 'Zstandard' || fail "b-zstd is not zstd"
}

@test "rollback runs a down script that loads data too" {
    countries
    mig m 002_rename 'DELETE FROM countries;
-- sealift:data new.csv
COPY countries FROM STDIN WITH (FORMAT csv);' 'DELETE FROM countries;
-- sealift:data old.csv
COPY countries FROM STDIN WITH (FORMAT csv, HEADER true);'
    data_file m 002_rename new.csv 'FR,République française
'
    cp m/001_countries.data/countries.csv m/002_rename.data/old.csv
    bundle m b.sealift

    run_apply apply b.sealift -p release.pub
    assert_exit 0
    assert_line --regexp '^ +loaded data/000002_1_new.csv: 1 rows, '
    assert_rows 'SELECT * FROM countries' '[{"code":"FR","name":"République française"}]'

    run_apply rollback b.sealift -p release.pub --to 001
    assert_exit 0
    refute_errors
    assert_line --regexp '^ +loaded data/000002_2_old.csv: 4 rows, 88 B in '
    assert_rows 'SELECT * FROM countries ORDER BY code' "$countries_rows"
    assert_applied 001
    assert_sql "SELECT event || ' ' || migration_id || ': ' || detail FROM sealift.journal
        WHERE event = 'rollback'" 'rollback 002: loaded data/000002_2_old.csv: 4 rows, 88 bytes'
}

@test "sealift sign: the co-signed bundle keeps data members byte-identical and applies" {
    countries
    bundle m b.sealift
    local member=data/000001_1_countries.csv

    run_sealift sign b.sealift -s other.key -p release.pub -o co.sealift
    assert_exit 0
    refute_errors
    [ "$(tar -xOf co.sealift "$member" | sha256sum)" = "$(tar -xOf b.sealift "$member" | sha256sum)" ] ||
        fail "co-signing changed the data member"
    [ "$(tar -xOf co.sealift MANIFEST | sha256sum)" = "$(tar -xOf b.sealift MANIFEST | sha256sum)" ] ||
        fail "co-signing changed the manifest"
    run --separate-stderr tar -tf co.sealift
    assert_line --regexp '^MANIFEST\.[0-9A-F]{16}\.minisig$'
    [ "$(grep -c '\.minisig$' <<<"$output")" -eq 2 ] || fail "expected two signatures: $output"

    run_apply apply co.sealift -p release.pub -p other.pub --threshold 2
    assert_exit 0
    refute_errors
    assert_line --regexp '^ +loaded data/000001_1_countries.csv: 4 rows, '
    assert_rows 'SELECT * FROM countries ORDER BY code' "$countries_rows"
}
