#!/usr/bin/env bats
# Rerunnable after interruption (issue 14 §4). A concurrent index build that failed or was
# cancelled leaves an INVALID index (REINDEX CONCURRENTLY: an INVALID INDEX_ccnew); the rerun
# of its no-transaction migration drops it (DROP INDEX CONCURRENTLY), says so, journals it and
# runs the statement again, but only an index the journal says that statement built, and never
# a valid one. Builds are interrupted by a unique index over duplicate rows, cancelled by
# --statement-timeout on a table of generate_series rows, or cut off by kill -9 of the applier. And stamp moves backwards (the later
# migrations recorded as not applied, no SQL run, a journal "unstamp" event, after the same
# refusals as other moves).

bats_require_minimum_version 1.5.0

load apply_helpers

setup_file() { apply_setup_file; }
teardown_file() { apply_teardown_file; }
setup() { apply_setup; }
teardown() { apply_teardown; }

@test "stamp backwards records the later migrations as not applied and runs nothing" {
    three_migrations
    bundle m b.sealift
    must "$APPLY" apply b.sealift -p release.pub

    run_apply stamp b.sealift 001_users -p release.pub
    assert_exit 0
    refute_errors
    assert_line '[  1/2] unrecorded 003_orders (0.0 ms)'
    assert_line '[  2/2] unrecorded 002_email (0.0 ms)'
    assert_line 'unrecorded 2 migrations; the database is recorded at 001_users'
    # Nothing ran: the tables, the column and the index are still there.
    assert_tables 'orders,users'
    assert_sql "SELECT count(*) FROM pg_indexes WHERE indexname = 'users_email_idx'" 1
    assert_applied 001
    assert_sql "SELECT string_agg(event || ':' || migration_id, ',' ORDER BY seq)
        FROM sealift.journal WHERE seq > 3" 'unstamp:003,unstamp:002'

    run_apply status b.sealift -p release.pub
    assert_exit 7
    assert_line --regexp '^applied +1 of 3 \(database at 001_users\)$'
    assert_line '  002_email'
    assert_line '  003_orders'

    # The journal still proves the applied table: unstamp is replayed like a rollback.
    run_apply history --verify
    assert_exit 0
    run_apply history
    assert_exit 0
    assert_output --partial unstamp

    # Forward again by stamp: the record is back, still without running anything.
    run_apply stamp b.sealift head -p release.pub --json
    assert_exit 0
    assert_json_lines
    assert_applied 001,002,003
    assert_sql "SELECT string_agg(how, ',' ORDER BY ordinal) FROM sealift.applied" \
        'applied,stamped,stamped'
}

@test "stamp backwards to base, in JSON" {
    three_migrations
    bundle m b.sealift
    must "$APPLY" apply b.sealift -p release.pub --to 002

    run_apply stamp b.sealift base -p release.pub --json
    assert_exit 0
    assert_json_lines
    [ "$(grep -c '"event":"migration_unrecorded"' <<<"$output")" = 2 ] ||
        fail "want 2 migration_unrecorded events: $output"
    assert_applied ''
    assert_tables 'users'
}

@test "stamp backwards is refused where other moves are" {
    three_migrations
    bundle m b.sealift
    must "$APPLY" apply b.sealift -p release.pub

    # Drift: a migration of the history was edited since.
    cp -r m edited
    mig edited 002_email 'ALTER TABLE users ADD COLUMN email varchar(200);
CREATE INDEX users_email_idx ON users (email);' 'DROP INDEX users_email_idx;
ALTER TABLE users DROP COLUMN email;'
    rebuild edited edited.sealift
    run_apply stamp edited.sealift 001 -p release.pub
    assert_exit 3
    assert_error 'the database'"'"'s history does not match this bundle (drift); nothing was changed'
    assert_applied 001,002,003

    # History after the bundle's head: an older bundle cannot unrecord what it does not know.
    mkdir older && cp m/001_users.* m/002_email.* older/
    rebuild older older.sealift
    run_apply stamp older.sealift 001 -p release.pub
    assert_exit 3
    assert_error "the database has migrations after this bundle's head; roll back with the bundle that applied them"
    assert_applied 001,002,003

    # An unknown target.
    run_apply stamp b.sealift 007 -p release.pub
    assert_exit 2
    assert_error '007: the bundle has no such migration'
}

@test "stamp backwards over an unfinished no-transaction migration is refused" {
    mig m 001_t 'CREATE TABLE t (id int);' 'DROP TABLE t;'
    mig m 002_n '-- sealift:no-transaction
INSERT INTO t VALUES (1);
SELECT 1 / (SELECT count(*) - 1 FROM t);' 'SELECT 1;'
    bundle m b.sealift
    run_apply apply b.sealift -p release.pub
    assert_exit 4

    run_apply stamp b.sealift base -p release.pub
    assert_exit 3
    assert_error 'no-transaction migration 002 is unfinished; finish it before stamping'
    assert_applied 001
}

# A table t of 1000 rows with one duplicate value of v (a unique index on v fails).
dup_table() {
    must sql "CREATE TABLE t (id int, v int);
        INSERT INTO t SELECT g, g FROM generate_series(1, 1000) g;
        INSERT INTO t VALUES (1001, 7)"
}

# A table big of $1 rows, with an md5 text (an index on it takes a while to build).
big_table() {
    must sql "CREATE TABLE big (id int, v text);
        INSERT INTO big SELECT g, md5(g::text) FROM generate_series(1, $1) g"
}

# The events of the journal, in order: "event:migration" or with detail "event:detail".
journal_events_sql="SELECT string_agg(event, ',' ORDER BY seq) FROM sealift.journal"
invalid_sql="SELECT coalesce(string_agg(c.relname, ',' ORDER BY c.relname), '') FROM pg_index i
    JOIN pg_class c ON c.oid = i.indexrelid WHERE NOT i.indisvalid"

@test "a unique index build that failed on duplicates is dropped and built again on the rerun" {
    dup_table
    mig m 001_t_v_key '-- sealift:no-transaction
CREATE TABLE IF NOT EXISTS other (id int);
CREATE UNIQUE INDEX CONCURRENTLY "T_v_key" ON public.t (v);' 'DROP INDEX "T_v_key";'
    bundle m b.sealift

    run_apply apply b.sealift -p release.pub
    assert_exit 4
    assert_error 'migration 001_t_v_key (up) failed: could not create unique index "T_v_key"'
    assert_sql "$invalid_sql" 'T_v_key'
    assert_sql "SELECT detail FROM sealift.journal WHERE event = 'index_build'" \
        'statement 2: CREATE INDEX CONCURRENTLY public."T_v_key"'

    # The same failure again: the leftover is dropped first, and left again by the new failure.
    run_apply apply b.sealift -p release.pub
    assert_exit 4
    assert_line 'dropped INVALID index public."T_v_key" left by an interrupted CREATE INDEX CONCURRENTLY; running it again'
    assert_error 'migration 001_t_v_key (up) failed: could not create unique index "T_v_key"'
    assert_sql "$invalid_sql" 'T_v_key'

    # The operator removes the duplicate; the rerun repairs and finishes.
    must sql "DELETE FROM t WHERE id = 1001"
    run_apply apply b.sealift -p release.pub --json
    assert_exit 0
    assert_json_lines
    [[ $output == *'{"event":"index_repair","migration":"001","action":"dropped","index":"public.\"T_v_key\"","statement":"CREATE INDEX CONCURRENTLY",'* ]] ||
        fail "no index_repair event: $output"
    assert_sql "$invalid_sql" ''
    assert_sql "SELECT indisvalid AND indisunique FROM pg_index WHERE indexrelid = '\"T_v_key\"'::regclass" t
    assert_applied 001
    assert_sql "$journal_events_sql" \
        'index_build,failure,index_repair,index_build,failure,index_repair,index_build,apply'
    assert_sql "SELECT count(*) FROM sealift.journal WHERE event = 'index_repair'
        AND detail = 'dropped INVALID index public.\"T_v_key\" left by an interrupted CREATE INDEX CONCURRENTLY; running it again'" 2
    run_apply history --verify
    assert_exit 0
}

@test "a build cancelled by the statement timeout is repaired on the rerun, IF NOT EXISTS too" {
    big_table 100000
    mig m 001_big_v_idx '-- sealift:no-transaction
CREATE INDEX CONCURRENTLY IF NOT EXISTS big_v_idx ON big (v, id);' 'DROP INDEX big_v_idx;'
    bundle m b.sealift

    run_apply apply b.sealift -p release.pub --statement-timeout 150ms
    assert_exit 4
    assert_error 'migration 001_big_v_idx (up) failed: canceling statement due to statement timeout'
    assert_sql "$invalid_sql" 'big_v_idx'

    run_apply apply b.sealift -p release.pub
    assert_exit 0
    assert_line 'dropped INVALID index public.big_v_idx left by an interrupted CREATE INDEX CONCURRENTLY; running it again'
    assert_sql "$invalid_sql" ''
    assert_sql "SELECT count(*) FROM pg_indexes WHERE indexname = 'big_v_idx'" 1
}

@test "an index the statement did not build is never dropped: the rerun fails clearly" {
    dup_table
    mig m 001_t_v_key '-- sealift:no-transaction
CREATE UNIQUE INDEX CONCURRENTLY t_v_key ON t (v);' 'DROP INDEX t_v_key;'
    bundle m b.sealift

    # A valid index of that name, made by hand before the migration ran.
    must sql "CREATE INDEX t_v_key ON t (v)"
    run_apply apply b.sealift -p release.pub
    assert_exit 4
    assert_error 'migration 001_t_v_key (up) failed: relation "t_v_key" already exists'
    refute_output --partial dropped
    assert_sql "SELECT indisvalid FROM pg_index WHERE indexrelid = 't_v_key'::regclass" t
    assert_sql "SELECT count(*) FROM sealift.journal WHERE event LIKE 'index_%'" 0

    # An INVALID one left by someone else's failed build: not the migration's either.
    must sql "DROP INDEX t_v_key"
    sql "CREATE UNIQUE INDEX CONCURRENTLY t_v_key ON t (v)" 2>/dev/null || true
    assert_sql "$invalid_sql" 't_v_key'
    # (That index is a hand change since the last fingerprint: schema drift, allowed here.)
    run_apply apply b.sealift -p release.pub --allow-schema-drift 'a failed build by hand'
    assert_exit 4
    assert_error 'migration 001_t_v_key (up) failed: relation "t_v_key" already exists'
    refute_output --partial dropped
    assert_sql "$invalid_sql" 't_v_key'
    assert_sql "SELECT count(*) FROM sealift.journal WHERE event LIKE 'index_%'" 0
}

@test "REINDEX CONCURRENTLY cancelled: its INVALID _ccnew copy is dropped on the rerun" {
    big_table 100000
    must sql "CREATE INDEX big_v_idx ON big (v, id)"
    mig m 001_reindex '-- sealift:no-transaction
REINDEX INDEX CONCURRENTLY public.big_v_idx;' 'SELECT 1;'
    bundle m b.sealift

    run_apply apply b.sealift -p release.pub --statement-timeout 150ms
    assert_exit 4
    assert_error 'migration 001_reindex (up) failed: canceling statement due to statement timeout'
    assert_sql "$invalid_sql" 'big_v_idx_ccnew'

    run_apply apply b.sealift -p release.pub
    assert_exit 0
    assert_line 'dropped INVALID index public.big_v_idx_ccnew left by an interrupted REINDEX INDEX CONCURRENTLY public.big_v_idx; running it again'
    assert_sql "$invalid_sql" ''
    assert_sql "SELECT indisvalid FROM pg_index WHERE indexrelid = 'big_v_idx'::regclass" t
    assert_sql "SELECT string_agg(detail, ' | ' ORDER BY seq) FROM sealift.journal
        WHERE event LIKE 'index_%'" 'statement 1: REINDEX INDEX CONCURRENTLY public.big_v_idx | dropped INVALID index public.big_v_idx_ccnew left by an interrupted REINDEX INDEX CONCURRENTLY public.big_v_idx; running it again | statement 1: REINDEX INDEX CONCURRENTLY public.big_v_idx'
}

@test "REINDEX TABLE CONCURRENTLY cancelled: every _ccnew copy of its indexes, and nothing else" {
    big_table 100000
    must sql 'CREATE INDEX big_v_idx ON big (v, id); CREATE INDEX "Big Id" ON big (id, v)'
    # A decoy: an INVALID index named like a leftover, on another table.
    dup_table
    sql "CREATE UNIQUE INDEX CONCURRENTLY t_v_ccnew ON t (v)" 2>/dev/null || true
    mig m 001_reindex '-- sealift:no-transaction
REINDEX (VERBOSE) TABLE CONCURRENTLY big;' 'SELECT 1;'
    bundle m b.sealift

    # A transaction with an older snapshot makes the REINDEX wait once its _ccnew copies exist,
    # so the statement timeout always ends it there, however fast the machine is.
    "$SEALIFT_PG_BIN/psql" -XAtq -d "$PGDATABASE" -c "SET application_name = 'old_snapshot'" \
        -c "BEGIN ISOLATION LEVEL REPEATABLE READ" -c "SELECT count(*) FROM t" \
        -c "SELECT pg_sleep(60)" >/dev/null 2>&1 3>&- &
    APPLY_PIDS+=($!)
    wait_sql "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'old_snapshot'
        AND state = 'active' AND query LIKE '%pg_sleep%'" 1 10
    run_apply apply b.sealift -p release.pub --statement-timeout 1s
    assert_exit 4
    assert_error 'migration 001_reindex (up) failed: canceling statement due to statement timeout'
    sql "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'old_snapshot'" >/dev/null
    # (The toast table's index has a leftover too, pg_toast.pg_toast_N_index_ccnew: only
    # allow_system_table_mods may drop it, so it is not touched; the schema public is looked at.)
    assert_sql "$invalid_sql AND c.relnamespace = 'public'::regnamespace" \
        'Big Id_ccnew,big_v_idx_ccnew,t_v_ccnew'

    run_apply apply b.sealift -p release.pub
    assert_exit 0
    assert_line 'dropped INVALID index public."Big Id_ccnew" left by an interrupted REINDEX TABLE CONCURRENTLY big; running it again'
    assert_line 'dropped INVALID index public.big_v_idx_ccnew left by an interrupted REINDEX TABLE CONCURRENTLY big; running it again'
    assert_sql "$invalid_sql AND c.relnamespace = 'public'::regnamespace" 't_v_ccnew'
    assert_sql "SELECT count(*) FROM pg_index WHERE indrelid = 'big'::regclass AND indisvalid" 2
}

@test "kill -9 of the applier in the middle of a concurrent index build, then a rerun" {
    # A slow index expression: 1000 rows of 2 ms each.
    must sql 'CREATE FUNCTION slow(t text) RETURNS text IMMUTABLE LANGUAGE plpgsql
        AS $$ BEGIN PERFORM pg_sleep(0.002); RETURN t; END $$'
    must sql "CREATE TABLE big (id int, v text);
        INSERT INTO big SELECT g, md5(g::text) FROM generate_series(1, 1000) g"
    mig m 001_big_slow_idx '-- sealift:no-transaction
CREATE INDEX CONCURRENTLY big_slow_idx ON big (slow(v));' 'DROP INDEX big_slow_idx;'
    bundle m b.sealift

    apply_bg first apply b.sealift -p release.pub
    wait_sql "SELECT count(*) FROM pg_stat_progress_create_index
        WHERE phase LIKE 'building index%'" 1 20
    kill -9 "$BG_PID"
    wait_exit "$BG_PID" 10
    # The server ends the statement of a client that is gone; its index stays, INVALID.
    wait_sql "SELECT count(*) FROM pg_stat_progress_create_index" 0 20
    assert_sql "$invalid_sql" 'big_slow_idx'

    run_apply status b.sealift -p release.pub
    assert_exit 7
    run_apply apply b.sealift -p release.pub
    assert_exit 0
    assert_line 'dropped INVALID index public.big_slow_idx left by an interrupted CREATE INDEX CONCURRENTLY; running it again'
    assert_sql "$invalid_sql" ''
    assert_applied 001
    run_apply history --verify
    assert_exit 0
}

@test "an index the recorded run left INVALID and a DBA rebuilt by hand counts as the statement's work" {
    dup_table
    mig m 001_t_v_key '-- sealift:no-transaction
CREATE UNIQUE INDEX CONCURRENTLY t_v_key ON t (v);
CREATE TABLE after_it (id int);' 'DROP TABLE after_it; DROP INDEX t_v_key;'
    bundle m b.sealift
    run_apply apply b.sealift -p release.pub
    assert_exit 4
    assert_sql "$invalid_sql" 't_v_key'

    must sql "DELETE FROM t WHERE id = 1001"
    must sql "REINDEX INDEX t_v_key"
    # (The DBA's rebuild changed the index since the last fingerprint: allowed here.)
    run_apply apply b.sealift --json -p release.pub --allow-schema-drift 'the DBA rebuilt t_v_key'
    assert_exit 0
    [[ $output == *'{"event":"index_repair","migration":"001","action":"kept","index":"public.t_v_key",'* ]] ||
        fail "no index_repair event: $output"
    run_apply status b.sealift -p release.pub
    assert_exit 0
    assert_sql "SELECT indisvalid FROM pg_index WHERE indexrelid = 't_v_key'::regclass" t
    assert_tables 'after_it,t'
    assert_sql "SELECT detail FROM sealift.journal WHERE event = 'index_repair'" \
        'index public.t_v_key was built by the interrupted run and is valid: statement 1 counted as done'
}
