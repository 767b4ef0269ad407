#!/usr/bin/env bats
# Two sealift-apply runs on one database: the migration lock lets one apply while the other
# waits (then finds nothing to do) or gives up with exit 5 naming the holder; and waiting for
# the lock never deadlocks with CREATE INDEX CONCURRENTLY.

bats_require_minimum_version 1.5.0

load apply_helpers

setup_file() { apply_setup_file; }
teardown_file() { apply_teardown_file; }
setup() { apply_setup; }
teardown() { apply_teardown; }

# Migration 2 holds the run for a while.
slow_chain() {
    mig m 001_a 'CREATE TABLE a (id int);' 'DROP TABLE a;'
    mig m 002_slow "CREATE TABLE b (id int);
SELECT pg_sleep($1);" 'DROP TABLE b;'
}

@test "two appliers at once: one applies, the other waits and then finds nothing to do" {
    slow_chain 1.5
    bundle m b.sealift

    apply_bg first apply b.sealift -p release.pub
    first=$BG_PID
    wait_sql "$(running_sql 'pg_sleep(1.5)')" 1 10
    apply_bg second apply b.sealift -p release.pub
    second=$BG_PID
    # The second one is connected and polling for the lock while the first one works.
    wait_sql "$appliers_sql" 2 10

    wait_exit "$first" 20
    load_bg first
    assert_exit 0
    assert_line 'applied 2 migrations; the database is at 002_slow'

    wait_exit "$second" 20
    load_bg second
    assert_exit 0
    refute_errors
    assert_output 'nothing to apply: the database is at 002_slow'

    assert_applied 001,002
    assert_sql "SELECT string_agg(event || ' ' || migration_id, ',' ORDER BY seq)
        FROM sealift.journal" 'apply 001,apply 002'
    assert_sql "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'" 0
}

@test "with --lock-timeout 1 the second applier exits 5 and says who holds the lock" {
    slow_chain 3
    bundle m b.sealift

    apply_bg first apply b.sealift -p release.pub
    first=$BG_PID
    wait_sql "$(running_sql 'pg_sleep(3)')" 1 10
    holder=$(sql "SELECT pid FROM pg_stat_activity WHERE application_name = 'sealift-apply'")

    start=$(date +%s%N)
    run_apply apply b.sealift -p release.pub --lock-timeout 1
    took=$((($(date +%s%N) - start) / 1000000))
    assert_exit 5
    [ "$took" -ge 1000 ] && [ "$took" -lt 2500 ] || fail "gave up after $took ms, not about 1 s"
    assert_error 'another sealift-apply holds the migration lock of schema "sealift"; gave up after 1.0 s'
    assert_detail "the lock is held by process $holder (user postgres, application \"sealift-apply\", connected "
    assert_hint 'wait for it to finish, or raise --lock-timeout'

    # Rollback and stamp wait for the same lock.
    run_apply rollback b.sealift -p release.pub --to base --lock-timeout 0.3
    assert_exit 5
    assert_error 'another sealift-apply holds the migration lock'
    run_apply stamp b.sealift 001 -p release.pub --lock-timeout 0.3
    assert_exit 5
    assert_error 'another sealift-apply holds the migration lock'

    # A history in another schema has a lock of its own.
    run_apply status b.sealift -p release.pub --schema other_history
    assert_exit 7

    wait_exit "$first" 20
    load_bg first
    assert_exit 0
    assert_applied 001,002
    assert_sql "SELECT count(*) FROM sealift.journal" 2
}

@test "CREATE INDEX CONCURRENTLY does not deadlock with an applier waiting for the lock" {
    mig m 001_big "CREATE TABLE big (id int, v text);
INSERT INTO big SELECT g, md5(g::text) FROM generate_series(1, 20000) g;
SELECT pg_sleep(1);" 'DROP TABLE big;'
    mig m 002_idx '-- sealift:no-transaction
CREATE INDEX CONCURRENTLY big_v_idx ON big (v);
CREATE INDEX CONCURRENTLY big_id_idx ON big (id);' '-- sealift:no-transaction
DROP INDEX CONCURRENTLY big_id_idx;
DROP INDEX CONCURRENTLY big_v_idx;'
    bundle m b.sealift

    apply_bg first apply b.sealift -p release.pub
    first=$BG_PID
    wait_sql "$(running_sql 'pg_sleep(1)')" 1 10
    apply_bg second apply b.sealift -p release.pub
    second=$BG_PID
    wait_sql "$appliers_sql" 2 10

    wait_exit "$first" 30
    load_bg first
    assert_exit 0
    assert_line 'applied 2 migrations; the database is at 002_idx'
    wait_exit "$second" 30
    load_bg second
    assert_exit 0
    # Before it waited for the lock, it said what it would run (the lint's warnings on 002).
    assert_line --index 0 'risk of what will run, before the migration lock is taken:'
    assert_line --index "$((${#lines[@]} - 1))" 'nothing to apply: the database is at 002_idx'

    assert_sql "SELECT string_agg(c.relname || ':' || i.indisvalid, ',' ORDER BY c.relname)
        FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
        WHERE i.indrelid = 'big'::regclass" 'big_id_idx:true,big_v_idx:true'
    assert_applied 001,002

    # And the other way round: the down scripts run concurrently too, with a waiter.
    apply_bg first rollback b.sealift -p release.pub --to 001
    first=$BG_PID
    apply_bg second rollback b.sealift -p release.pub --to 001
    second=$BG_PID
    wait_exit "$first" 30
    wait_exit "$second" 30
    assert_applied 001
    assert_sql "SELECT count(*) FROM pg_index WHERE indrelid = 'big'::regclass" 0
}
