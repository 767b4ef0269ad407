#!/usr/bin/env bats
# One transaction does not scale without limit (PRODUCT.md "The database side"): on a server
# with a small lock table, all-or-nothing apply warns before it starts, then fails cleanly
# (rolled back, exit 4) with a hint naming --per-migration and max_locks_per_transaction;
# --per-migration gets through.

bats_require_minimum_version 1.5.0

load apply_helpers

N=200

# A server whose lock table has 10 x 10 = 100 slots (the smallest PostgreSQL accepts).
setup_file() {
    SEALIFT_PG_OPTS="-c max_locks_per_transaction=10 -c max_connections=10" apply_setup_file
}
teardown_file() { apply_teardown_file; }
setup() { apply_setup; }
teardown() { apply_teardown; }

@test "all-or-nothing apply past the lock table: warned, rolled back, exit 4 with the hint" {
    local i v
    for i in $(seq 1 $N); do
        v=$(printf '%04d' "$i")
        mig m "${v}_t$i" "CREATE TABLE t$i (id int PRIMARY KEY, v text);
CREATE INDEX t${i}_v_idx ON t$i (v);" "DROP TABLE t$i;"
    done
    bundle m big.sealift

    run_apply apply big.sealift -p release.pub
    assert_exit 4
    assert_warning "$N migrations will share one transaction; the server's lock table (100 slots) may run out"
    assert_error_regex 'migration [0-9]{4}_t[0-9]+ \(up\) failed: out of shared memory'
    assert_detail 'SQLSTATE 53200'
    assert_hint 'one transaction ran out of lock table space: apply with --per-migration, or raise max_locks_per_transaction on the server'
    assert_detail 'the transaction was rolled back; the database is at base'
    assert_tables ''
    assert_applied ''
    assert_sql "SELECT event || ' ' || split_part(detail, ':', 2) FROM sealift.journal" 'failure  53200'

    run_apply apply big.sealift -p release.pub --per-migration
    assert_exit 0
    refute_line --partial 'warning'
    [[ $stderr != *warning* ]] || fail "unexpected warning: $stderr"
    assert_line "applied $N migrations; the database is at 0200_t200"
    assert_sql "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'" $N

    run_apply status big.sealift -p release.pub
    assert_exit 0
}
