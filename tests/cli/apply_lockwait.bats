#!/usr/bin/env bats
# Bounded lock waits (issue 14 §1): migration statements run under lock_timeout
# (--statement-lock-timeout) and statement_timeout (--statement-timeout), sealift's own history
# writes do not; a transaction that fails with lock_not_available (55P03) or deadlock_detected
# (40P01) is rolled back and run again after a backoff (--retries), each retry a line, a
# "retry" event and a journal row; when the retries run out, exit 4 with "gave up after N lock
# timeouts on RELATION" and the database at its previous head. A blocker session is a
# background psql holding a lock.

bats_require_minimum_version 1.5.0

load apply_helpers

setup_file() { apply_setup_file; }
teardown_file() { apply_teardown_file; }
setup() {
    apply_setup
    # Short backoffs (undocumented, for tests): 100 ms doubling instead of 1 s.
    export SEALIFT_RETRY_BASE_MS=100
    mig m 001_orders 'CREATE TABLE orders (id int PRIMARY KEY, note text);' 'DROP TABLE orders;'
    bundle m one.sealift
    run_apply apply one.sealift -p release.pub
    assert_exit 0
    mig m 002_orders_total 'ALTER TABLE orders ADD COLUMN total numeric;' \
        'ALTER TABLE orders DROP COLUMN total;'
    bundle m two.sealift
}
teardown() { apply_teardown; }

# Hold "LOCK TABLE orders" (ACCESS EXCLUSIVE) in a background psql for $1 seconds; returns
# once the lock is held.
blocker() {
    "$SEALIFT_PG_BIN/psql" -XAtq -v ON_ERROR_STOP=1 -d "$PGDATABASE" \
        -c "SET application_name = 'dba_console'" \
        -c "BEGIN" -c "LOCK TABLE orders" -c "SELECT pg_sleep($1)" -c "COMMIT" \
        >/dev/null 2>&1 3>&- &
    APPLY_PIDS+=($!)
    wait_sql "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
        WHERE c.relname = 'orders' AND l.mode = 'AccessExclusiveLock' AND l.granted" 1 10
}

@test "a lock held, then released within the retries: applied after retries, shown and journaled" {
    blocker 1.2
    run_apply apply two.sealift -p release.pub --statement-lock-timeout 200ms --retries 8
    assert_exit 0
    assert_line --regexp '^retry 1 of 8: 002_orders_total: lock timeout on public\.orders; rolled back, trying again in [0-9.]+ s$'
    assert_line 'applied 1 migration; the database is at 002_orders_total'
    assert_applied '001,002'
    assert_sql "SELECT count(*) = (SELECT count(*) FROM sealift.journal WHERE event = 'retry'
        AND migration_id = '002' AND detail ~ '^[0-9]+ lock timeouts? on public\.orders \(55P03\); retry [0-9]+ of 8 in [0-9.]+ s$')
        AND count(*) >= 1 FROM sealift.journal WHERE event = 'retry'" t
    assert_sql "SELECT event FROM sealift.journal ORDER BY seq DESC LIMIT 1" apply
    assert_sql "SELECT count(*) FROM information_schema.columns WHERE table_name = 'orders'
        AND column_name = 'total'" 1
}

# The relation is named from the lock watcher's sighting, whose first look comes at half the
# lock timeout over a second connection: 400 ms leaves that connection time to open even when
# other suites load the machine (tests/run-all runs suites side by side).
@test "never released: exit 4, gave up after N lock timeouts on the relation, database at the previous head" {
    blocker 60
    run_apply apply two.sealift -p release.pub --statement-lock-timeout 400ms --retries 2 --json
    assert_exit 4
    assert_error_regex 'migration 002_orders_total \(up\) failed: gave up after 3 lock timeouts on public\.orders: canceling statement due to lock timeout'
    assert_detail 'the transaction was rolled back; the database is at 001_orders'
    [ "$(grep -c '"event":"retry"' <<<"$output")" -eq 2 ] || fail "expected 2 retry events: $output"
    assert_line --regexp '^\{"event":"retry","migration":"002","label":"002_orders_total","sqlstate":"55P03",.*"relation":"public.orders","statement":1,"attempt":1,"retries":2,"delay_ms":[0-9]+\}$'
    assert_line --regexp '^\{"event":"failed",.*"message":"gave up after 3 lock timeouts on public.orders: '
    assert_applied '001'
    assert_sql "SELECT string_agg(event, ',' ORDER BY seq) FROM sealift.journal" 'apply,retry,retry,failure'
    assert_sql "SELECT count(*) FROM information_schema.columns WHERE table_name = 'orders'
        AND column_name = 'total'" 0
}

@test "--retries 0: the first lock timeout ends the run" {
    blocker 60
    run_apply apply two.sealift -p release.pub --statement-lock-timeout 400ms --retries 0
    assert_exit 4
    assert_error_regex 'migration 002_orders_total \(up\) failed: gave up after 1 lock timeout on public\.orders: '
    [[ $output != *retry* ]] || fail "no retry expected: $output"
    assert_applied '001'
}

@test "lock_wait events name the blocker while the statement waits, once a second" {
    blocker 60
    run_apply apply two.sealift -p release.pub --statement-lock-timeout 2500ms --retries 0 --json
    assert_exit 4
    assert_line --regexp '^\{"event":"lock_wait","migration":"002","waited_s":[12]\.[0-9],"mode":"ACCESS EXCLUSIVE","relation":"public.orders","blockers":\[\{"pid":[0-9]+,"user":"[^"]+","application":"dba_console","client":null,"state":"active","transaction_age_s":[0-9.]+,"query":"SELECT pg_sleep\(60\)","hidden":false\}\]\}$'
    n=$(grep -c '"event":"lock_wait"' <<<"$output")
    [ "$n" -ge 1 ] && [ "$n" -le 3 ] || fail "expected 1 to 3 lock_wait events in 2.5 s, got $n"
    assert_sql "SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE 'sealift-apply%'" 0
}

@test "the text line says who blocks: pid, user, application, client, state, age and query" {
    blocker 60
    run_apply apply two.sealift -p release.pub --statement-lock-timeout 2500ms --retries 0
    assert_exit 4
    assert_line --regexp '^waiting [12]\.[0-9] s for ACCESS EXCLUSIVE on public\.orders: held by pid [0-9]+ \(user [^,]+, application "dba_console", local, active for [0-9]+ s: "SELECT pg_sleep\(60\)"\)$'
}

@test "a role that cannot see other sessions gets what it can see and one line saying why" {
    sql "CREATE ROLE watcher LOGIN; GRANT ALL ON DATABASE $PGDATABASE TO watcher;
        GRANT ALL ON SCHEMA public TO watcher; ALTER TABLE orders OWNER TO watcher;
        GRANT ALL ON SCHEMA sealift TO watcher; GRANT ALL ON ALL TABLES IN SCHEMA sealift TO watcher;
        GRANT ALL ON ALL SEQUENCES IN SCHEMA sealift TO watcher"
    blocker 60
    run_apply apply two.sealift -p release.pub -d "user=watcher" --statement-lock-timeout 2500ms --retries 0
    assert_exit 4
    assert_line --regexp '^waiting [12]\.[0-9] s for ACCESS EXCLUSIVE on public\.orders: held by pid [0-9]+ \(user [^,]+, application "dba_console"\)$'
    assert_line 'the state, client and query of other roles'"'"' sessions are hidden from role "watcher": grant it pg_read_all_stats to see them'
    [ "$(grep -c 'hidden from role' <<<"$output")" -eq 1 ] || fail "the line must come once: $output"
}

@test "a deadlock provoked on purpose is retried, and the retry applies" {
    sql "CREATE TABLE a (id int); CREATE TABLE b (id int)"
    mig m 002_orders_total 'LOCK TABLE a IN ACCESS EXCLUSIVE MODE;
LOCK TABLE b IN ACCESS EXCLUSIVE MODE;' 'SELECT 1;'
    rebuild m two.sealift
    # The other session takes b; the migration takes a and waits for b; then the other wants
    # a: a cycle, and the migration, which waited first, is the one the server cancels. The
    # other session asks for a once the migration holds a and waits for b (not after a fixed
    # time: what the applier does before its first statement, the schema drift check and the
    # live risk, takes longer on a loaded machine, and the risk's size queries wait for b too).
    "$SEALIFT_PG_BIN/psql" -XAtq -d "$PGDATABASE" -c "BEGIN" -c "LOCK TABLE b" \
        -c "DO \$\$ BEGIN WHILE NOT EXISTS (SELECT 1 FROM pg_locks w JOIN pg_locks h
            ON h.pid = w.pid WHERE NOT w.granted AND w.relation = 'b'::regclass AND h.granted
            AND h.relation = 'a'::regclass) LOOP PERFORM pg_sleep(0.02); END LOOP; END \$\$" \
        -c "LOCK TABLE a" -c "SELECT pg_sleep(0.3)" -c "COMMIT" >/dev/null 2>&1 3>&- &
    APPLY_PIDS+=($!)
    wait_sql "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
        WHERE c.relname = 'b' AND l.granted AND l.pid <> pg_backend_pid()" 1 10
    run_apply apply two.sealift -p release.pub --ignore-schema public --statement-lock-timeout 10s --retries 3 --json
    assert_exit 0
    assert_line --regexp '^\{"event":"retry","migration":"002",.*"sqlstate":"40P01","message":"deadlock detected","relation":"public\.(a|b)",.*"attempt":1,'
    assert_applied '001,002'
    assert_sql "SELECT count(*) FROM sealift.journal WHERE event = 'retry' AND detail LIKE '1 deadlock on public.%'" 1
}

@test "a no-transaction migration retries the statement, not what ran before it" {
    mig m 002_orders_total '-- sealift:no-transaction
CREATE TABLE log (n int);
INSERT INTO log VALUES (1);
ALTER TABLE orders ADD COLUMN total numeric;' 'SELECT 1;'
    rebuild m two.sealift
    blocker 1.0
    run_apply apply two.sealift -p release.pub --statement-lock-timeout 150ms --retries 10
    assert_exit 0
    assert_line --regexp '^retry 1 of 10: 002_orders_total: lock timeout on public\.orders; '
    assert_sql "SELECT count(*) FROM log" 1
    assert_applied '001,002'
}

@test "--statement-timeout limits the migration's statements only" {
    mig m 002_orders_total 'SELECT pg_sleep(1);' 'SELECT 1;'
    rebuild m two.sealift
    run_apply apply two.sealift -p release.pub --statement-timeout 200ms
    assert_exit 4
    assert_error_regex 'migration 002_orders_total \(up\) failed: canceling statement due to statement timeout'
    assert_applied '001'
    run_apply apply two.sealift -p release.pub --statement-timeout 5s
    assert_exit 0
    assert_applied '001,002'
}

@test "bad values of the limits are usage errors" {
    run_apply apply two.sealift -p release.pub --retries -1
    assert_exit 2
    assert_error '--retries must be a non-negative integer (0 to 100), not "-1"'
    run_apply apply two.sealift -p release.pub --statement-lock-timeout 5parsecs
    assert_exit 2
    assert_error_regex '--statement-lock-timeout must be a number of seconds from 0 to 86400 .*, not "5parsecs"'
    run_apply rollback two.sealift -p release.pub --to base --statement-timeout x
    assert_exit 2
}

@test "rollback is bounded and retried the same way" {
    run_apply apply two.sealift -p release.pub
    assert_exit 0
    blocker 0.8
    run_apply rollback two.sealift -p release.pub --to 001 --statement-lock-timeout 150ms --retries 10 --per-migration
    assert_exit 0
    assert_line --regexp '^retry 1 of 10: 002_orders_total: lock timeout on public\.orders; rolled back, trying again in [0-9.]+ s$'
    assert_applied '001'
    assert_sql "SELECT count(*) FROM information_schema.columns WHERE table_name = 'orders'
        AND column_name = 'total'" 0
}

@test "SIGINT while a statement waits for a lock, watched: cancelled at once, exit 4" {
    blocker 60
    apply_bg run apply two.sealift -p release.pub --statement-lock-timeout 30s --retries 3
    wait_sql "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'sealift-apply lock watch'" 1 10
    kill -INT "$BG_PID"
    wait_exit "$BG_PID" 5
    load_bg run
    assert_exit 4
    assert_error_regex 'migration 002_orders_total \(up\) was interrupted by SIGINT'
    [[ $output != *retry* ]] || fail "an interrupted wait is not retried: $output"
    assert_applied '001'
}

@test "the limits hold in every migration of the transaction, and not for sealift's history writes" {
    mig m 002_orders_total "CREATE TABLE seen AS SELECT current_setting('lock_timeout') AS lt,
    current_setting('statement_timeout') AS st;" 'DROP TABLE seen;'
    mig m 003_again "INSERT INTO seen SELECT current_setting('lock_timeout'),
    current_setting('statement_timeout');" 'DELETE FROM seen;'
    rebuild m two.sealift
    # A session reading the journal in SHARE mode for 1 s: the history INSERTs wait for it,
    # which a 100 ms lock_timeout on them would turn into a failure.
    "$SEALIFT_PG_BIN/psql" -XAtq -d "$PGDATABASE" -c "BEGIN" \
        -c "LOCK TABLE sealift.journal IN SHARE MODE" -c "SELECT pg_sleep(1)" -c "COMMIT" \
        >/dev/null 2>&1 3>&- &
    APPLY_PIDS+=($!)
    wait_sql "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
        WHERE c.relname = 'journal' AND l.mode = 'ShareLock' AND l.granted" 1 10
    run_apply apply two.sealift -p release.pub --statement-lock-timeout 100ms --statement-timeout 3s --retries 0
    assert_exit 0
    assert_sql "SELECT string_agg(lt || '/' || st, ',') FROM seen" '100ms/3s,100ms/3s'
    assert_applied '001,002,003'
}

# Wait until file $1 has $2 lines matching $3 (at most 20 s).
wait_lines() {
    local start=$SECONDS
    until [ "$(grep -c "$3" "$1" 2>/dev/null)" -ge "$2" ]; do
        [ $((SECONDS - start)) -lt 20 ] || { fail "no $2 lines of $3 in $1: $(cat "$1")"; return 1; }
        sleep 0.02
    done
}

@test "--retries counts per transaction: each migration of --per-migration gets all of them" {
    export SEALIFT_RETRY_BASE_MS=400
    sql "CREATE TABLE items (id int)"
    mig m 003_items 'ALTER TABLE items ADD COLUMN n int;' 'ALTER TABLE items DROP COLUMN n;'
    rebuild m two.sealift
    blocker 60
    "$SEALIFT_PG_BIN/psql" -XAtq -d "$PGDATABASE" -c "SET application_name = 'items_blocker'" \
        -c "BEGIN" -c "LOCK TABLE items" -c "SELECT pg_sleep(60)" >/dev/null 2>&1 3>&- &
    APPLY_PIDS+=($!)
    wait_sql "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'items_blocker'
        AND state = 'active'" 1 10
    apply_bg run apply two.sealift -p release.pub --ignore-schema public --per-migration --json \
        --statement-lock-timeout 100ms --retries 2
    wait_lines run.out 2 '"event":"retry","migration":"002"'
    sql "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'dba_console'" >/dev/null
    wait_lines run.out 2 '"event":"retry","migration":"003"'
    sql "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'items_blocker'" >/dev/null
    wait_exit "$BG_PID" 20
    load_bg run
    assert_exit 0
    assert_applied '001,002,003'
    assert_sql "SELECT string_agg(migration_id, ',' ORDER BY seq) FROM sealift.journal WHERE event = 'retry'" '002,002,003,003'
}
