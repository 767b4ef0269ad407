#!/usr/bin/env bats
# sealift-apply when a migration fails or the run is interrupted: the report (migration,
# file:line:column, SQLSTATE, where the database is), all-or-nothing versus --per-migration,
# no-transaction resume, SIGINT/SIGTERM, and kill -9.

bats_require_minimum_version 1.5.0

load apply_helpers

setup_file() { apply_setup_file; }
teardown_file() { apply_teardown_file; }
setup() { apply_setup; }
teardown() { apply_teardown; }

# five_migrations [BROKEN]: t1..t5, one table each; with BROKEN, migration 3 selects from a
# table that does not exist, on line 3, column 30 of its file.
five_migrations() {
    local i third='CREATE TABLE t3 (id int);'
    for i in 1 2 4 5; do
        mig m "00${i}_t$i" "CREATE TABLE t$i (id int);" "DROP TABLE t$i;"
    done
    if [ "${1:-}" = broken ]; then
        third='-- the third migration
CREATE TABLE t3 (id int);
INSERT INTO t3 SELECT 1 FROM missing_table;'
    fi
    mig m 003_t3 "$third" 'DROP TABLE t3;'
}

@test "a failing migration in the middle: exit 4, the report, and nothing of the run remains" {
    five_migrations broken
    bundle m b.sealift

    run_apply apply b.sealift -p release.pub
    assert_exit 4
    assert_error 'migration 003_t3 (up) failed: relation "missing_table" does not exist'
    assert_detail 'at migrations/000003_003_t3/up.sql:3:30 (SQLSTATE 42P01)'
    assert_detail 'the transaction was rolled back; the database is at base'
    refute_line --partial 'applied 5 migrations'
    # All or nothing: not even the two migrations before it.
    assert_tables ''
    assert_applied ''
    assert_sql "SELECT string_agg(event || ' ' || migration_id || ' ' || detail, ',' ORDER BY seq)
        FROM sealift.journal" 'failure 003 up: 42P01: relation "missing_table" does not exist'

    run_apply status b.sealift -p release.pub
    assert_exit 7
    assert_line --regexp '^applied +0 of 5 \(database at base\)$'

    run_apply history --verify
    assert_exit 0
    assert_line --regexp '^ +1  .*  failure +003 '
    assert_line --regexp '^journal intact: 1 rows'

    # The fixed release goes through.
    five_migrations
    rebuild m fixed.sealift
    run_apply apply fixed.sealift -p release.pub
    assert_exit 0
    assert_line 'applied 5 migrations; the database is at 005_t5'
    assert_tables 't1,t2,t3,t4,t5'
    assert_applied 001,002,003,004,005
}

@test "a failing migration with --per-migration keeps the ones before it" {
    five_migrations broken
    bundle m b.sealift

    run_apply apply b.sealift -p release.pub --per-migration
    assert_exit 4
    assert_error 'migration 003_t3 (up) failed: relation "missing_table" does not exist'
    assert_detail 'at migrations/000003_003_t3/up.sql:3:30 (SQLSTATE 42P01)'
    assert_detail 'the transaction was rolled back; the database is at 002_t2'
    assert_tables 't1,t2'
    assert_applied 001,002
    assert_sql "SELECT string_agg(event || ' ' || migration_id, ',' ORDER BY seq)
        FROM sealift.journal" 'apply 001,apply 002,failure 003'

    run_apply status b.sealift -p release.pub
    assert_exit 7
    assert_line --regexp '^applied +2 of 5 \(database at 002_t2\)$'

    five_migrations
    rebuild m fixed.sealift
    run_apply apply fixed.sealift -p release.pub --per-migration
    assert_exit 0
    assert_line 'applied 3 migrations; the database is at 005_t5'
    assert_tables 't1,t2,t3,t4,t5'

    run_apply history --verify
    assert_exit 0
    assert_line --regexp '^journal intact: 6 rows'
}

@test "a deferred constraint that fails at COMMIT is blamed on its migration, in either mode" {
    mig m 001_parent 'CREATE TABLE parent (id int PRIMARY KEY);' 'DROP TABLE parent;'
    mig m 002_child "CREATE TABLE child (p int REFERENCES parent DEFERRABLE INITIALLY DEFERRED);
INSERT INTO child VALUES (7);" 'DROP TABLE child;'
    mig m 003_more 'CREATE TABLE more (id int);' 'DROP TABLE more;'
    bundle m b.sealift

    # One transaction per migration: 001 commits, 002's COMMIT fails, 003 never starts.
    run_apply apply b.sealift -p release.pub --per-migration
    assert_exit 4
    assert_error 'migration 002_child (up) failed: insert or update on table "child" violates foreign key constraint'
    assert_detail '(SQLSTATE 23503)'
    assert_detail 'the transaction was rolled back; the database is at 001_parent'
    assert_line --regexp '^\[ *1/3\] applied 001_parent '
    refute_line --partial 'applied 002_child'
    assert_tables 'parent'
    assert_applied 001

    # One transaction for the run: the last migration recorded before the COMMIT is named.
    run_apply apply b.sealift -p release.pub
    assert_exit 4
    assert_error 'migration 003_more (up) failed: insert or update on table "child"'
    assert_detail 'the transaction was rolled back; the database is at 001_parent'
    assert_tables 'parent'
    assert_applied 001
    assert_sql "SELECT string_agg(event || ' ' || migration_id, ',' ORDER BY seq)
        FROM sealift.journal" 'apply 001,failure 002,failure 003'
}

@test "--json reports the failure as an event" {
    five_migrations broken
    bundle m b.sealift

    run_apply apply b.sealift -p release.pub --json
    assert_exit 4
    assert_json_lines
    [ "$(json_field event)" = '"failed"' ]
    [ "$(json_field sqlstate)" = '"42P01"' ]
    [ "$(json_field database_at)" = '"base"' ]
    assert_error 'migration 003_t3 (up) failed'
}

# A log table, then a no-transaction migration of three INSERTs whose second one fails (or,
# with "fixed", succeeds), then one more migration.
notx_chain() {
    local second='INSERT INTO nosuch VALUES (2);'
    [ "${1:-}" = fixed ] && second='INSERT INTO log VALUES (2);'
    mig m 001_log 'CREATE TABLE log (n int);' 'DROP TABLE log;'
    mig m 002_fill "-- sealift:no-transaction
INSERT INTO log VALUES (1);
$second
INSERT INTO log VALUES (3);" '-- sealift:no-transaction
DELETE FROM log;'
    mig m 003_after 'CREATE TABLE after (id int);' 'DROP TABLE after;'
}

@test "no-transaction migration: a failed statement leaves the earlier ones recorded, and a fixed rerun resumes" {
    notx_chain
    bundle m b.sealift

    run_apply apply b.sealift -p release.pub
    assert_exit 4
    assert_error 'migration 002_fill (up) failed: relation "nosuch" does not exist'
    assert_detail 'at migrations/000002_002_fill/up.sql:3:13 (SQLSTATE 42P01)'
    assert_detail 'statements 1 to 1 of 3 ran and are recorded; the database is at 001_log with 002_fill partly applied; a rerun resumes at statement 2'
    assert_sql "SELECT string_agg(n::text, ',' ORDER BY n) FROM log" 1
    assert_applied 001
    assert_sql "SELECT migration_id || ' ' || direction || ' ' || statements_done || '/' ||
        statements_total FROM sealift.progress" '002 up 1/3'

    run_apply status b.sealift -p release.pub
    assert_exit 7
    assert_line --regexp '^unfinished +002 \(up\) stopped after 1 of 3 statements; apply resumes it$'
    run_apply status b.sealift -p release.pub --json
    assert_exit 7
    assert_json_lines
    [ "$(json_field unfinished)" = \
        '{"migration": "002", "direction": "up", "statements_done": 1, "statements": 3}' ]

    # The same bundle again: it retries statement 2, never statement 1.
    run_apply apply b.sealift -p release.pub
    assert_exit 4
    assert_line 'resuming up of 002 at statement 2 of 3'
    assert_sql "SELECT count(*) FROM log" 1

    # Rolling back is refused while it is unfinished.
    run_apply rollback b.sealift -p release.pub --to base
    assert_exit 3
    assert_error 'no-transaction migration 002 stopped after 1 of 3 statements; finish it'

    notx_chain fixed
    rebuild m fixed.sealift
    run_apply apply fixed.sealift -p release.pub
    assert_exit 0
    assert_line 'resuming up of 002 at statement 2 of 3'
    assert_line 'applied 2 migrations; the database is at 003_after'
    # Statement 1 ran once: one row each.
    assert_sql "SELECT string_agg(n::text, ',' ORDER BY n) FROM log" 1,2,3
    assert_sql "SELECT count(*) FROM sealift.progress" 0
    assert_applied 001,002,003

    run_apply status fixed.sealift -p release.pub
    assert_exit 0
    refute_line --regexp '^unfinished'
    run_apply history --verify
    assert_exit 0
}

@test "a rerun refuses to resume when the finished statements were changed" {
    notx_chain
    bundle m b.sealift
    run_apply apply b.sealift -p release.pub
    assert_exit 4
    assert_sql "SELECT statements_done FROM sealift.progress" 1

    mig m 002_fill '-- sealift:no-transaction
INSERT INTO log VALUES (10);
INSERT INTO log VALUES (2);
INSERT INTO log VALUES (3);' '-- sealift:no-transaction
DELETE FROM log;'
    rebuild m changed.sealift
    run_apply apply changed.sealift -p release.pub
    assert_exit 3
    assert_error 'no-transaction migration 002 stopped after 1 of 3 statements, and this bundle'
    assert_sql "SELECT string_agg(n::text, ',' ORDER BY n) FROM log" 1
}

@test "no-transaction migration whose verify script fails: its statements stay, a rerun only verifies" {
    mig m 001_log 'CREATE TABLE log (n int);' 'DROP TABLE log;'
    mig m 002_fill '-- sealift:no-transaction
INSERT INTO log VALUES (1);
INSERT INTO log VALUES (2);' '-- sealift:no-transaction
DELETE FROM log;'
    mig_verify m 002_fill 'SELECT 1 / (SELECT count(*)::int - 2 FROM log);'
    bundle m b.sealift

    run_apply apply b.sealift -p release.pub
    assert_exit 4
    assert_error 'migration 002_fill (verify) failed: division by zero'
    assert_detail 'at migrations/000002_002_fill/verify.sql:1:1 (SQLSTATE 22012)'
    assert_detail 'the transaction was rolled back; the database is at 001_log, but the 2 statements of 002_fill ran outside it and stay (recorded); a rerun runs only its verify script'
    assert_sql "SELECT count(*) FROM log" 2
    assert_applied 001

    run_apply status b.sealift -p release.pub
    assert_exit 7
    assert_line --regexp '^unfinished +002 \(up\) stopped after 2 of 2 statements; apply resumes it$'

    run_apply apply b.sealift -p release.pub
    assert_exit 4
    assert_line 'resuming up of 002: all 2 statements ran before; finishing it'
    refute_line --partial 'statement 3 of 2'
    assert_sql "SELECT count(*) FROM log" 2

    mig_verify m 002_fill 'SELECT 1 / (SELECT count(*)::int - 1 FROM log);'
    rebuild m fixed.sealift
    run_apply apply fixed.sealift -p release.pub
    assert_exit 0
    assert_line 'resuming up of 002: all 2 statements ran before; finishing it'
    assert_line 'applied 1 migration; the database is at 002_fill'
    assert_sql "SELECT count(*) FROM log" 2
    assert_sql "SELECT count(*) FROM sealift.progress" 0
    assert_applied 001,002
}

@test "the server going away in the middle of a migration: exit 4, nothing half-done, a rerun reaches head" {
    mig m 001_a 'CREATE TABLE a (id int);' 'DROP TABLE a;'
    mig m 002_slow 'CREATE TABLE b (id int);
SELECT pg_sleep(30);' 'DROP TABLE b;'
    bundle m slow.sealift

    apply_bg run apply slow.sealift -p release.pub
    wait_sql "$(running_sql 'pg_sleep(30)')" 1 10
    pg_restart immediate
    wait_exit "$BG_PID" 10
    load_bg run
    assert_exit 4
    assert_error 'migration 002_slow (up) failed: server closed the connection unexpectedly'
    assert_detail 'the connection to the server was lost; the database is at base (its last commit)'
    assert_tables ''

    run_apply status slow.sealift -p release.pub
    assert_exit 7
    assert_line --regexp '^applied +0 of 2 \(database at base\)$'

    mig m 002_slow 'CREATE TABLE b (id int);' 'DROP TABLE b;'
    rebuild m fixed.sealift
    run_apply apply fixed.sealift -p release.pub
    assert_exit 0
    assert_tables 'a,b'
    run_apply history --verify
    assert_exit 0
}

@test "no-transaction rollback that fails midway: recorded, apply refuses, a rerun of rollback resumes" {
    mig m 001_log 'CREATE TABLE log (n int); CREATE TABLE gate (ok int);' 'DROP TABLE log, gate;'
    mig m 002_fill '-- sealift:no-transaction
INSERT INTO log VALUES (1);' '-- sealift:no-transaction
INSERT INTO log VALUES (-1);
SELECT 1 / (SELECT count(*)::int FROM gate);
DELETE FROM log;'
    bundle m b.sealift
    must "$APPLY" apply b.sealift -p release.pub

    run_apply rollback b.sealift -p release.pub --to base
    assert_exit 4
    assert_error 'migration 002_fill (down) failed: division by zero'
    assert_detail 'at migrations/000002_002_fill/down.sql:3:1 (SQLSTATE 22012)'
    assert_detail 'statements 1 to 1 of 3 ran and are recorded; the database is at 002_fill with 002_fill partly rolled back; a rerun of rollback resumes at statement 2'
    assert_applied 001,002
    assert_sql "SELECT string_agg(n::text, ',' ORDER BY n) FROM log" -1,1

    run_apply status b.sealift -p release.pub
    assert_exit 7
    assert_line --regexp '^unfinished +002 \(down\) stopped after 1 of 3 statements; rollback resumes it$'
    run_apply apply b.sealift -p release.pub
    assert_exit 3
    assert_error 'a rollback of 002 stopped after 1 of 3 statements; finish it with "sealift-apply rollback" first'
    run_apply stamp b.sealift 002 -p release.pub
    assert_exit 3
    assert_error 'no-transaction migration 002 is unfinished'

    # The operator fixes what stopped it; the rerun resumes at statement 2.
    sql "INSERT INTO gate VALUES (1)"
    run_apply rollback b.sealift -p release.pub --to base
    assert_exit 0
    assert_line 'resuming down of 002 at statement 2 of 3'
    assert_line 'rolled back 2 migrations; the database is at base'
    assert_tables ''
    assert_applied ''
    assert_sql "SELECT count(*) FROM sealift.progress" 0
    run_apply history --verify
    assert_exit 0
}

# A chain whose migration 2 sleeps (in its transaction) long enough to be interrupted.
slow_chain() {
    mig m 001_a 'CREATE TABLE a (id int);' 'DROP TABLE a;'
    mig m 002_slow 'CREATE TABLE b (id int);
SELECT pg_sleep(30);' 'DROP TABLE b;'
}

@test "SIGINT and SIGTERM during a long statement: exit 4 at once, rolled back, lock released" {
    slow_chain
    bundle m b.sealift
    local sig base=$PGDATABASE

    for sig in INT TERM; do
        export PGDATABASE=${base}_$sig
        must "$SEALIFT_PG_BIN/createdb" "$PGDATABASE"
        apply_bg run apply b.sealift -p release.pub
        wait_sql "$(running_sql 'pg_sleep(30)')" 1 10
        kill -"$sig" "$BG_PID"
        wait_exit "$BG_PID" 5
        load_bg run
        assert_exit 4
        assert_error "migration 002_slow (up) was interrupted by SIG$sig: its statement was cancelled"
        assert_detail 'SQLSTATE 57014'
        assert_detail 'the transaction was rolled back; the database is at base'
        assert_tables ''
        assert_applied ''
        assert_sql "SELECT event || ' ' || migration_id FROM sealift.journal" 'interrupted 002'
        assert_sql "$(running_sql 'pg_sleep(30)')" 0
        assert_sql "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'" 0

        # The lock is free: another run takes it at once.
        run_apply apply b.sealift -p release.pub --lock-timeout 1 --to 001
        assert_exit 0
        assert_line 'applied 1 migration; the database is at 001_a'
        assert_applied 001
    done
}

@test "SIGTERM during a no-transaction statement keeps the finished statements; a rerun resumes" {
    mig m 001_log 'CREATE TABLE log (n int);' 'DROP TABLE log;'
    mig m 002_fill '-- sealift:no-transaction
INSERT INTO log VALUES (1);
SELECT pg_sleep(30);
INSERT INTO log VALUES (3);' '-- sealift:no-transaction
DELETE FROM log;'
    bundle m b.sealift

    apply_bg run apply b.sealift -p release.pub
    wait_sql "$(running_sql 'pg_sleep(30)')" 1 10
    kill -TERM "$BG_PID"
    wait_exit "$BG_PID" 5
    load_bg run
    assert_exit 4
    assert_error 'migration 002_fill (up) was interrupted by SIGTERM'
    assert_detail 'statements 1 to 1 of 3 ran and are recorded'
    assert_sql "SELECT count(*) FROM log" 1
    assert_applied 001

    run_apply status b.sealift -p release.pub
    assert_exit 7
    assert_line --regexp '^unfinished +002 \(up\) stopped after 1 of 3 statements'
}

# kill -9 of the applier while BACKEND_TEXT runs; the server's session lives on until its
# statement ends, so its lock and transaction last that long.
kill9_during() {
    apply_bg run apply b.sealift -p release.pub
    wait_sql "$(running_sql "$1")" 1 10
    kill -9 "$BG_PID"
    wait_exit "$BG_PID" 5
    [ "$BG_STATUS" -eq 137 ] || fail "expected death by SIGKILL, got exit $BG_STATUS"
}

@test "kill -9 in the middle of long migrations: status is truthful, the journal verifies, a rerun reaches head" {
    mig m 001_log 'CREATE TABLE log (n int);' 'DROP TABLE log;'
    mig m 002_fill '-- sealift:no-transaction
INSERT INTO log VALUES (1);
SELECT pg_sleep(1.01);
INSERT INTO log VALUES (3);' '-- sealift:no-transaction
DELETE FROM log;'
    mig m 003_mid 'CREATE TABLE mid (id int);' 'DROP TABLE mid;'
    mig m 004_slow 'CREATE TABLE slow (id int);
SELECT pg_sleep(1.02);' 'DROP TABLE slow;'
    bundle m b.sealift

    # 1. Killed inside the no-transaction migration, after its first statement.
    kill9_during 'pg_sleep(1.01)'
    run_apply status b.sealift -p release.pub
    assert_exit 7
    assert_line --regexp '^applied +1 of 4 \(database at 001_log\)$'
    assert_line --regexp '^unfinished +002 \(up\) stopped after 1 of 3 statements'
    assert_applied 001
    run_apply history --verify
    assert_exit 0
    assert_line --regexp '^journal intact: 1 rows'

    # 2. The rerun resumes it; killed again inside migration 4, which shares one transaction
    # with migration 3: neither is there.
    kill9_during 'pg_sleep(1.02)'
    run_apply status b.sealift -p release.pub
    assert_exit 7
    assert_line --regexp '^applied +2 of 4 \(database at 002_fill\)$'
    refute_line --regexp '^unfinished'
    assert_applied 001,002
    assert_tables log
    run_apply history --verify
    assert_exit 0
    assert_line --regexp '^journal intact: 2 rows'

    # 3. A rerun (it waits for the orphaned server session to end) reaches head.
    run_apply apply b.sealift -p release.pub --lock-timeout 20
    assert_exit 0
    assert_line 'applied 2 migrations; the database is at 004_slow'
    assert_tables 'log,mid,slow'
    assert_applied 001,002,003,004
    # Statement 1 of the no-transaction migration ran exactly once.
    assert_sql "SELECT string_agg(n::text, ',' ORDER BY n) FROM log" 1,3
    run_apply status b.sealift -p release.pub
    assert_exit 0
    run_apply history --verify
    assert_exit 0
    assert_line --regexp '^journal intact: 4 rows'
}
