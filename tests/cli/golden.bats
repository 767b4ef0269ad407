#!/usr/bin/env bats
# The committed golden bundle: rebuilt byte for byte, verified, applied by the current binaries.
bats_require_minimum_version 1.5.0
load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'

setup_file() {
    export ROOT="${SEALIFT_ROOT:-$(cd "$BATS_TEST_DIRNAME/../.." && pwd)}"
    export SEALIFT_BIN="${SEALIFT_BIN:-$ROOT/bin}"
    export GOLDEN="$ROOT/bundles/golden"
}

@test "golden bundle: the compiler rebuilds it byte for byte" {
    run --separate-stderr "$GOLDEN/make-golden"
    assert_success
    assert_output "golden-v1.sealift: rebuilt byte for byte"
}

@test "golden bundle: the compiler and the applier verify it" {
    run --separate-stderr "$SEALIFT_BIN/sealift" verify "$GOLDEN/golden-v1.sealift" \
        -p "$GOLDEN/sealift-TEST-ONLY.pub"
    assert_success
    assert_output --partial "verified: project shop, serial 6, environment golden"
    run --separate-stderr "$SEALIFT_BIN/sealift-apply" verify "$GOLDEN/golden-v1.sealift" \
        -p "$GOLDEN/sealift-TEST-ONLY.pub"
    assert_success
    assert_output --partial "signed by 87EAF046784968A8"
}

@test "golden bundle: refused with any other key" {
    "$SEALIFT_BIN/sealift" keygen -W -p "$BATS_TEST_TMPDIR/o.pub" -s "$BATS_TEST_TMPDIR/o.key"
    run --separate-stderr "$SEALIFT_BIN/sealift-apply" verify "$GOLDEN/golden-v1.sealift" \
        -p "$BATS_TEST_TMPDIR/o.pub"
    assert_failure 1
    assert [ -n "$(echo "$stderr" | grep '^sealift-apply: error: .*no signature by a trusted key (signed by 87EAF046784968A8)')" ]
}

@test "golden bundle: applies to a throwaway PostgreSQL and rolls back" {
    . "$ROOT/tests/lib/pg.bash"
    pg_start || skip "no PostgreSQL server binaries"
    trap pg_stop EXIT
    "$SEALIFT_PG_BIN/createdb" golden
    run --separate-stderr "$SEALIFT_BIN/sealift-apply" apply "$GOLDEN/golden-v1.sealift" \
        -p "$GOLDEN/sealift-TEST-ONLY.pub" -d dbname=golden
    assert_success
    assert_output --partial "applied 6 migrations; the database is at 20260106090000_seed_admin"
    run psql -X -Atc "SELECT email FROM accounts" golden
    assert_output "golden@example.com"
    run --separate-stderr "$SEALIFT_BIN/sealift-apply" rollback "$GOLDEN/golden-v1.sealift" \
        -p "$GOLDEN/sealift-TEST-ONLY.pub" -d dbname=golden --to base
    assert_success
    run psql -X -Atc "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'" golden
    assert_output "0"
    pg_stop
}
