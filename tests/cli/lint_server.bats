#!/usr/bin/env bats
# The lint's predictions held against a real PostgreSQL: every fixture of tests/lint/fixtures.txt
# that can run in a transaction runs there, on the pre-existing tables of tests/lint/base.sql,
# and the lock modes (pg_locks of the session's own backend) and rewrites (relfilenode before
# and after) must be what the lint said (tests/lint/server_check.py). One cluster, one psql
# session for all fixtures.
bats_require_minimum_version 1.5.0

load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'

: "${SEALIFT_BIN:=$(cd "$BATS_TEST_DIRNAME/../../bin" 2>/dev/null && pwd)}"

# shellcheck source=../lib/pg.bash
. "$BATS_TEST_DIRNAME/../lib/pg.bash"

setup_file() {
    if [ -x "$SEALIFT_PG_BIN/initdb" ] && command -v python3 >/dev/null; then
        pg_start
    fi
}

teardown_file() {
    pg_stop
}

setup() {
    [ -x "$SEALIFT_PG_BIN/initdb" ] || skip "PostgreSQL server binaries not found in $SEALIFT_PG_BIN"
    command -v python3 >/dev/null || skip "python3 not found"
}

@test "every lock mode and rewrite the lint predicts is what PostgreSQL does" {
    run --separate-stderr python3 "$BATS_TEST_DIRNAME/../lint/server_check.py" \
        "$SEALIFT_BIN/sealift" "$BATS_TEST_DIRNAME/../lint" "$BATS_TEST_TMPDIR"
    echo "$output"
    echo "$stderr"
    assert_success
    assert_output --regexp '^ok [0-9]+ fixtures on the server, 0 problems$'
    refute_output --partial FAIL
}

@test "a wrong prediction is a failing test" {
    # A copy of the fixtures with one prediction the server contradicts: an UPDATE with a WHERE
    # clause claimed to be flagged as update-without-where.
    mkdir "$BATS_TEST_TMPDIR/fx"
    cp "$BATS_TEST_DIRNAME/../lint/base.sql" "$BATS_TEST_TMPDIR/fx/"
    printf 'update-without-where|y|tx|UPDATE t SET a = 2 WHERE id = 1;\n' \
        >"$BATS_TEST_TMPDIR/fx/fixtures.txt"
    run --separate-stderr python3 "$BATS_TEST_DIRNAME/../lint/server_check.py" \
        "$SEALIFT_BIN/sealift" "$BATS_TEST_TMPDIR/fx" "$BATS_TEST_TMPDIR/w"
    assert_failure 1
    assert_output --partial "FAIL fixture 0 (update-without-where)"
    assert_output --partial "the lint did not report update-without-where"
}

@test "on the example chains, every statement that scanned or rewrote a table under a blocking lock is flagged" {
    local c
    for c in native/migrations flyway; do
        run --separate-stderr python3 "$BATS_TEST_DIRNAME/../lint/chain_check.py" \
            "$SEALIFT_BIN/sealift" "$BATS_TEST_DIRNAME/../../bundles/examples/$c" \
            "$BATS_TEST_TMPDIR/${c%%/*}" --set admin_email=admin@example.com
        echo "$output"
        echo "$stderr"
        assert_success
        refute_output --partial MISSED
        assert_output --regexp 'summary: [0-9]+ statements held a lock blocking writes'
    done
    # The flyway example adds a CHECK constraint to a table of an earlier migration.
    assert_output --partial \
        'customers_email_lowercase up stmt 1: AccessExclusiveLock on public.customers, scanned it -> constraint-not-valid'
}

@test "a bundle with findings (manifest 1.1) verifies, plans and applies with sealift-apply" {
    local d=$BATS_TEST_TMPDIR/apply S=$SEALIFT_BIN/sealift A=$SEALIFT_BIN/sealift-apply
    mkdir -p "$d/m"
    printf 'CREATE TABLE orders (id int PRIMARY KEY, note text);\n' >"$d/m/001_orders.up.sql"
    printf 'DROP TABLE orders;\n' >"$d/m/001_orders.down.sql"
    printf -- '-- sealift:allow add-column-rewrite orders is empty in production until v3\nALTER TABLE orders ADD COLUMN token uuid DEFAULT gen_random_uuid();\n' \
        >"$d/m/002_token.up.sql"
    printf 'ALTER TABLE orders DROP COLUMN token;\n' >"$d/m/002_token.down.sql"
    "$S" keygen -W -s "$d/k.key" -p "$d/k.pub" >/dev/null
    run --separate-stderr "$S" build -d "$d/m" -s "$d/k.key" -o "$d/b.sealift" --project demo
    assert_success
    zstd -dc "$d/b.sealift" | tar -xOf - MANIFEST | head -1 | grep -qx '# sealift-manifest 1.1'
    psql -X -q -c 'CREATE DATABASE lint_apply'
    run --separate-stderr env PGDATABASE=lint_apply "$A" plan -p "$d/k.pub" "$d/b.sealift"
    assert_success
    assert_output --partial 'ADD COLUMN token uuid DEFAULT gen_random_uuid()'
    run --separate-stderr env PGDATABASE=lint_apply "$A" apply -p "$d/k.pub" "$d/b.sealift"
    assert_success
    assert_output --partial 'applied 2 migrations; the database is at 002_token'
    run psql -X -Atq -d lint_apply -c "SELECT count(*) FROM information_schema.columns WHERE table_name = 'orders' AND column_name = 'token'"
    assert_output 1
}
