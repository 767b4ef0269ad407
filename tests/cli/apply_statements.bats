#!/usr/bin/env bats
# What sealift-apply sends the server per migration, read from the server's own statement log
# (log_statement = all on the test's database): its bookkeeping statements are few and
# prepared, and what they record still holds (server times, a journal that verifies).

bats_require_minimum_version 1.5.0

load apply_helpers

setup_file() { apply_setup_file; }
teardown_file() { apply_teardown_file; }
setup() {
    apply_setup
    must sql "ALTER DATABASE $PGDATABASE SET log_statement = 'all'"
    LOG_FROM=$(($(stat -c %s "$SEALIFT_PG_DIR/server.log") + 1))
}
teardown() { apply_teardown; }

# count TEXT: lines of the server log since setup that contain TEXT (fixed string).
count() {
    tail -c +"$LOG_FROM" "$SEALIFT_PG_DIR/server.log" | grep -cF -- "$1" || true
}

# assert_count TEXT N
assert_count() {
    local got
    got=$(count "$1")
    [ "$got" -eq "$2" ] || fail "\"$1\" sent $got times, expected $2"
}

# The recorded times: each migration's duration is not negative and the times do not go back.
assert_times() {
    assert_sql "SELECT count(*) FROM sealift.applied WHERE duration_ms >= 0" 3
    assert_sql "SELECT count(*) FROM (SELECT applied_at < lag(applied_at) OVER (ORDER BY ordinal)
        AS back FROM sealift.applied) a WHERE back" 0
}

@test "apply in one transaction reads the server's clock once per migration, and once before the first" {
    three_migrations
    bundle m b.sealift

    run_apply apply b.sealift -p release.pub
    assert_exit 0
    refute_errors
    assert_count 'execute sealift_clock_1' 4
    assert_times
    run_apply history --verify
    assert_exit 0
}

@test "a no-transaction migration between two others has its own clock reads" {
    mig m 001_a 'CREATE TABLE a (id int);' 'DROP TABLE a;'
    mig m 002_idx '-- sealift:no-transaction
CREATE INDEX CONCURRENTLY a_id_idx ON a (id);' 'DROP INDEX a_id_idx;'
    mig m 003_b 'CREATE TABLE b (id int);' 'DROP TABLE b;'
    bundle m b.sealift

    run_apply apply b.sealift -p release.pub
    assert_exit 0
    refute_errors
    # 001: start and end; 002: start (outside the transaction) and end; 003: start and end
    assert_count 'execute sealift_clock_1' 6
    assert_times
    run_apply history --verify
    assert_exit 0
}

@test "--per-migration sets and restores the statement limits with a prepared statement" {
    three_migrations
    bundle m b.sealift

    run_apply apply b.sealift -p release.pub --per-migration --statement-timeout 30s
    assert_exit 0
    refute_errors
    # set before each migration's statements, the session's values put back before its record
    assert_count 'execute sealift_limits_3' 6
    assert_count "set_config('lock_timeout', '" 0
    assert_times
    run_apply history --verify
    assert_exit 0
}
