#!/usr/bin/env bats
# valgrind memcheck over the applier's end-to-end path: verify, status, plan, apply (with COPY
# data, inline and from a data member, and a no-transaction migration), rollback, apply
# --per-migration, history --verify, report, and the refusals and failures on the way (a tampered
# bundle, a failing migration, an unreachable server). Every run must be clean: no invalid
# read or write, no use of uninitialised memory, no leak (definite, indirect or possible).
#
# valgrind cannot follow a static binary's allocations, so this uses the dynamically linked
# -O0 applier "make valgrind-build" makes, found through SEALIFT_VALGRIND_BIN (make check sets
# it); without it, or without valgrind, every test is skipped with the reason.

bats_require_minimum_version 1.5.0

load apply_helpers

setup_file() { apply_setup_file; }
teardown_file() { apply_teardown_file; }

setup() {
    command -v valgrind >/dev/null || skip "valgrind is not installed (Debian package valgrind)"
    [ -x "${SEALIFT_VALGRIND_BIN:-}/sealift-apply" ] ||
        skip "no applier for valgrind: run \"make valgrind-build\" and set SEALIFT_VALGRIND_BIN"
    apply_setup
    VG_N=0
}

teardown() { apply_teardown; }

# vg ARG...: run the valgrind applier under memcheck (sets $status, $output, $stderr); the
# report goes to vgN.log, checked by refute_memcheck_findings.
vg() {
    VG_N=$((VG_N + 1))
    VG_LOG=vg$VG_N.log
    run --separate-stderr valgrind --tool=memcheck --log-file="$VG_LOG" --error-exitcode=99 \
        --leak-check=full --show-leak-kinds=definite,indirect,possible \
        --errors-for-leak-kinds=definite,indirect,possible --track-origins=yes \
        --child-silent-after-fork=yes "$SEALIFT_VALGRIND_BIN/sealift-apply" "$@"
    if [ "$status" -eq 99 ] || ! grep -q 'ERROR SUMMARY: 0 errors' "$VG_LOG"; then
        sed -n '/== Memcheck/,$p' "$VG_LOG" | head -60 |
            batslib_decorate "memcheck findings in sealift-apply $*" | fail
        return 1
    fi
}

data_chain() {
    mig m 001_countries "CREATE TABLE countries (code text PRIMARY KEY, name text NOT NULL);
-- sealift:data countries.csv
COPY countries (code, name) FROM STDIN WITH (FORMAT csv, HEADER true);" 'DROP TABLE countries;'
    mkdir -p m/001_countries.data
    {
        echo code,name
        for i in $(seq 1 500); do echo "c$i,Country $i"; done
    } >m/001_countries.data/countries.csv
    mig m 002_cities 'CREATE TABLE cities (name text, country text REFERENCES countries (code));
COPY cities (name, country) FROM stdin;
Paris	c1
Lyon	c1
\.' 'DROP TABLE cities;'
    mig m 003_idx '-- sealift:no-transaction
CREATE INDEX CONCURRENTLY cities_country_idx ON cities (country);
INSERT INTO cities VALUES ('"'Nice'"', '"'c1'"');' '-- sealift:no-transaction
DROP INDEX CONCURRENTLY cities_country_idx;
DELETE FROM cities WHERE name = '"'Nice'"';'
    bundle m b.sealift
}

@test "memcheck: verify, status, plan, apply with data, rollback, apply --per-migration, history --verify" {
    data_chain
    vg verify b.sealift -p release.pub
    assert_exit 0
    vg status b.sealift -p release.pub
    assert_exit 7
    vg plan b.sealift -p release.pub
    assert_exit 0
    assert_output --partial 'COPY countries (code, name) FROM STDIN'
    vg apply b.sealift -p release.pub --json
    assert_exit 0
    assert_sql "SELECT count(*) FROM countries" 500
    assert_sql "SELECT count(*) FROM cities" 3
    vg status b.sealift -p release.pub
    assert_exit 0
    vg rollback b.sealift -p release.pub --to base
    assert_exit 0
    assert_tables ''
    vg apply b.sealift -p release.pub --per-migration
    assert_exit 0
    assert_line 'applied 3 migrations; the database is at 003_idx'
    vg history --verify
    assert_exit 0
    # 3 applies, 3 rollbacks, 3 applies, and an index_build note before each concurrent build.
    assert_line --regexp '^journal intact: 11 rows'
    vg history --json
    assert_exit 0
}

@test "memcheck: refusals and failures (tampered bundle, failing migration, no server, bad usage)" {
    data_chain
    cp b.sealift bad.sealift
    flip_byte bad.sealift 700
    vg verify bad.sealift -p release.pub
    assert_exit 1
    vg apply b.sealift -p other.pub
    assert_exit 1
    assert_error 'no signature by a trusted key'

    mig m 004_fail 'CREATE TABLE t (id int);
INSERT INTO t SELECT 1 / 0;' 'DROP TABLE t;'
    rebuild m fail.sealift
    vg apply fail.sealift -p release.pub
    assert_exit 4
    assert_error 'migration 004_fail (up) failed: division by zero'
    vg apply fail.sealift -p release.pub -d 'host=127.0.0.1 port=1 password=x'
    assert_exit 6
    vg status fail.sealift -p release.pub --schema 'bad name'
    assert_exit 2
    vg rollback fail.sealift -p release.pub --to nosuch
    [ "$status" -ne 0 ] || fail "rollback to a missing revision succeeded"
}

@test "memcheck: schema drift: fingerprints, status --schema-drift, a refusal, --allow-schema-drift" {
    data_chain
    vg apply b.sealift -p release.pub --to 002
    assert_exit 0
    must sql "CREATE TABLE hand (id int); CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT 1'"
    vg status b.sealift -p release.pub --schema-drift --json
    assert_exit 3
    vg status b.sealift -p release.pub --schema-drift --ignore-schema public
    assert_exit 7
    vg apply b.sealift -p release.pub
    assert_exit 3
    assert_detail 'added table public.hand'
    vg apply b.sealift -p release.pub --allow-schema-drift 'hand made' --json
    assert_exit 0
    vg status b.sealift -p release.pub --schema-drift
    assert_exit 0
}

@test "memcheck: report, HTML and JSON, of a good and a tampered history and of none" {
    vg report -o none.html
    assert_exit 3
    data_chain
    must "$APPLY" apply b.sealift -p release.pub
    vg report b.sealift -p release.pub -o r.html --json
    assert_exit 0
    grep -q 'Verified: journal intact' r.html || fail "no verdict in the report"
    sql "UPDATE sealift.applied SET up_source_sha256 = repeat('0', 64) WHERE migration_id = '002'"
    vg report b.sealift -p release.pub --json
    assert_exit 1
}
