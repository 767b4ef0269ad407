#!/usr/bin/env bats
# sealift-apply plan with COPY data: the data is written inline after each COPY, as psql reads
# it, so that the plan piped to psql loads exactly what apply loads; binary data cannot be
# written so, and plan refuses it.

bats_require_minimum_version 1.5.0

load data_helpers

setup_file() { apply_setup_file; }
teardown_file() { apply_teardown_file; }
setup() { apply_setup; }
teardown() { apply_teardown; }

# run_plan_psql BUNDLE DATABASE [PLAN_OPTION...]: plan for DATABASE, piped to psql as its
# header says; $status is psql's or plan's, whichever failed.
run_plan_psql() {
    local b=$1 db=$2
    shift 2
    # shellcheck disable=SC2016 # expanded by the inner shell
    run --separate-stderr bash -c 'set -o pipefail
        "$1" plan "$2" -p release.pub -d "$3" "${@:5}" |
            "$4/psql" -X -q -v ON_ERROR_STOP=1 -d "$3"' _ "$APPLY" "$b" "$db" "$SEALIFT_PG_BIN" "$@"
}

# A chain with every kind of data a plan can carry: inline text and CSV blocks, CSV and text
# data files (one without a final newline, one with CRLF line ends), a no-transaction load,
# and a down script that loads data.
data_chain() {
    mkdir -p m
    mig m 001_tables 'CREATE TABLE items (id int PRIMARY KEY, name text, note text);
CREATE TABLE places (id int PRIMARY KEY, name text, note text);
CREATE TABLE countries (code text PRIMARY KEY, name text NOT NULL);' \
        'DROP TABLE items, places, countries;'
    with_tabs >m/002_inline.up.sql <<'EOF'
COPY items (id, name, note) FROM stdin;
1<TAB>tab\there<TAB>\N
2<TAB>back\\slash<TAB>new\nline
\.
COPY places FROM STDIN WITH (FORMAT csv, HEADER true);
id,name,note
1,"Paris, France","say ""hi"""
2,"two
lines",
\.
UPDATE places SET note = 'updated' WHERE id = 2;
EOF
    printf '%s\n' 'DELETE FROM places;' 'DELETE FROM items;' >m/002_inline.down.sql
    mig m 003_files '-- sealift:data countries.csv
COPY countries FROM STDIN WITH (FORMAT csv, HEADER true);
-- sealift:data more.txt
COPY items FROM STDIN;' '-- sealift:data old.csv
COPY places FROM STDIN WITH (FORMAT csv);
DELETE FROM items WHERE id >= 10;
DELETE FROM countries;'
    data_file m 003_files countries.csv $'code,name\r\nfr,France\r\nkr,"Korea, Republic of"\r\n'
    data_file m 003_files more.txt "$(printf '10<TAB>ten<TAB>\\N\n11<TAB>eleven<TAB>x' | with_tabs)"
    data_file m 003_files old.csv '9,"from the down script",
'
    mig m 004_notx '-- sealift:no-transaction
-- sealift:data late.csv
COPY places FROM STDIN WITH (FORMAT csv);' 'DELETE FROM places WHERE id = 20;'
    data_file m 004_notx late.csv '20,late,
'
}

@test "plan piped to psql loads the same data as apply; status and history --verify agree" {
    data_chain
    bundle m b.sealift
    extra_db viaplan

    run_plan_psql b.sealift "${PGDATABASE}_viaplan"
    assert_success
    [[ $stderr != *ERROR* ]] || fail "psql reported an error: $stderr"

    run_apply apply b.sealift -p release.pub
    assert_exit 0
    assert_same_data "$PGDATABASE" "${PGDATABASE}_viaplan"
    assert_rows 'SELECT * FROM items ORDER BY id' \
        '[{"id":1,"name":"tab\there","note":null}, {"id":2,"name":"back\\slash","note":"new\nline"}, {"id":10,"name":"ten","note":null}, {"id":11,"name":"eleven","note":"x"}]' \
        "${PGDATABASE}_viaplan"
    assert_rows 'SELECT * FROM countries ORDER BY code' \
        '[{"code":"fr","name":"France"}, {"code":"kr","name":"Korea, Republic of"}]' \
        "${PGDATABASE}_viaplan"

    run_apply status b.sealift -p release.pub -d "${PGDATABASE}_viaplan"
    assert_exit 0
    assert_line --regexp '^applied +4 of 4 \(database at 004_notx\)$'
    run_apply history --verify -d "${PGDATABASE}_viaplan"
    assert_exit 0
    assert_line --regexp '^journal intact: 4 rows'
    run_apply apply b.sealift -p release.pub -d "${PGDATABASE}_viaplan"
    assert_exit 0
    assert_output 'nothing to apply: the database is at 004_notx'

    # A rollback plan runs the down script's data too, as rollback does.
    run_plan_psql b.sealift "${PGDATABASE}_viaplan" --to 002
    assert_success
    run_apply rollback b.sealift -p release.pub --to 002
    assert_exit 0
    assert_same_data "$PGDATABASE" "${PGDATABASE}_viaplan"
    assert_sql "SELECT string_agg(id || ':' || name, ',' ORDER BY id) FROM places" \
        '1:Paris, France,2:two
lines,9:from the down script' "${PGDATABASE}_viaplan"
    assert_applied 001,002 sealift "${PGDATABASE}_viaplan"
}

@test "plan writes each COPY's data inline, ended by \\. as psql expects" {
    data_chain
    bundle m b.sealift

    run_apply plan b.sealift -p release.pub
    assert_exit 0
    refute_errors
    # The file without a final newline gets one before the end marker; a CR LF file gets its
    # end marker with CR LF, as the server wants it after CR LF data.
    assert_output --partial "$(printf 'COPY items FROM STDIN;\n10\tten\t\\N\n11\televen\tx\n\\.\n')"
    assert_output --partial "$(printf 'COPY countries FROM STDIN WITH (FORMAT csv, HEADER true);\ncode,name\r\nfr,France\r\nkr,"Korea, Republic of"\r\n\\.\r\n')"
    assert_output --partial "$(printf '1,"Paris, France","say ""hi"""\n2,"two\nlines",\n\\.\n')"
    assert_no_history
}

@test "plan refuses binary COPY data: exit 1, a clear message, and no COMMIT for psql to run" {
    extra_db src
    sql "CREATE TABLE src (id int); INSERT INTO src VALUES (1), (2)" "${PGDATABASE}_src"
    mkdir -p m/002_bin.data
    "$SEALIFT_PG_BIN/psql" -XAtq -v ON_ERROR_STOP=1 -d "${PGDATABASE}_src" \
        -c "\\copy src TO 'm/002_bin.data/src.bin' WITH (FORMAT binary)" || fail "no binary file"
    mig m 001_t 'CREATE TABLE t (id int);' 'DROP TABLE t;'
    mig m 002_bin '-- sealift:data src.bin
COPY t FROM STDIN WITH (FORMAT binary);' 'DELETE FROM t;'
    bundle m b.sealift

    run_apply plan b.sealift -p release.pub
    assert_exit 1
    assert_error 'member "data/000002_1_src.bin" is binary COPY data, which psql cannot read inline; apply this bundle with sealift-apply'
    assert_no_history
    # What was written before the refusal never commits the migrations.
    printf '%s\n' "$output" >partial.sql
    run --separate-stderr "$SEALIFT_PG_BIN/psql" -X -q -d "$PGDATABASE" -f partial.sql
    assert_tables ''
    assert_sql "SELECT count(*) FROM sealift.applied" 0

    # apply loads it.
    run_apply apply b.sealift -p release.pub
    assert_exit 0
    assert_sql "SELECT string_agg(id::text, ',' ORDER BY id) FROM t" 1,2
}
