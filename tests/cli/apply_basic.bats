#!/usr/bin/env bats
# sealift-apply against a real PostgreSQL: status, apply, --to, --per-migration, rollback,
# stamp, history, --json, --schema, verify scripts, and the ways to name the database.

bats_require_minimum_version 1.5.0

load apply_helpers

setup_file() { apply_setup_file tcp; }
teardown_file() { apply_teardown_file; }
setup() { apply_setup; }
teardown() { apply_teardown; }

@test "status on a fresh database exits 7, lists every migration as pending, creates nothing" {
    three_migrations
    bundle m b.sealift

    run_apply status b.sealift -p release.pub
    assert_exit 7
    refute_errors
    assert_line --regexp '^applied +0 of 3 \(database at base\)$'
    assert_line --regexp '^pending +3$'
    assert_line '  001_users'
    assert_line '  002_email'
    assert_line '  003_orders'
    assert_output --partial '(not created yet)'
    assert_no_history
    assert_tables ''
}

@test "apply creates the objects, status then exits 0, and a second apply is a no-op" {
    three_migrations
    bundle m b.sealift

    run_apply apply b.sealift -p release.pub
    assert_exit 0
    refute_errors
    assert_line --regexp '^\[ *1/3\] applied 001_users '
    assert_line --regexp '^\[ *3/3\] applied 003_orders '
    assert_line 'applied 3 migrations; the database is at 003_orders'
    assert_tables 'orders,users'
    assert_sql "SELECT count(*) FROM pg_indexes WHERE indexname = 'users_email_idx'" 1
    assert_sql "SELECT name FROM users" ada
    assert_applied 001,002,003
    # Default mode: one transaction for the whole run.
    assert_sql "SELECT count(DISTINCT xmin::text) FROM sealift.applied" 1

    run_apply status b.sealift -p release.pub
    assert_exit 0
    refute_errors
    assert_line --regexp '^applied +3 of 3 \(database at 003_orders\)$'
    refute_line --regexp '^pending'

    run_apply apply b.sealift -p release.pub
    assert_exit 0
    refute_errors
    assert_output 'nothing to apply: the database is at 003_orders'
    assert_sql "SELECT count(*) FROM sealift.journal" 3
    assert_sql "SELECT count(*) FROM users" 1
}

# At the head, what apply -q and status ask the server is a fixed handful of messages, each
# one round trip (the statements a message holds run together): the server logs each message
# as one "statement:" line. The first carries the session's settings with the first query.
@test "at the head, apply -q and status each take a fixed few round trips" {
    local log=$SEALIFT_PG_DIR/server.log from
    three_migrations
    bundle m b.sealift
    run_apply apply b.sealift -p release.pub -q
    assert_exit 0
    must sql "ALTER DATABASE $PGDATABASE SET log_statement = 'all'" postgres

    from=$(stat -c %s "$log")
    run_apply apply b.sealift -p release.pub -q
    assert_exit 0
    run grep -c 'LOG:  statement: ' <(tail -c +$((from + 1)) "$log")
    assert_output 5
    run grep -m1 'LOG:  statement: ' <(tail -c +$((from + 1)) "$log")
    assert_output --regexp 'statement: SET standard_conforming_strings = on; .*; SELECT pg_try_advisory_lock\('

    from=$(stat -c %s "$log")
    run_apply status b.sealift -p release.pub
    assert_exit 0
    run grep -c 'LOG:  statement: ' <(tail -c +$((from + 1)) "$log")
    assert_output 2
    assert_sql "SELECT count(*) FROM sealift.journal" 3
}

@test "apply --to stops at a revision named by id, then by ID_NAME" {
    three_migrations
    bundle m b.sealift

    run_apply apply b.sealift -p release.pub --to 001
    assert_exit 0
    assert_line 'applied 1 migration; the database is at 001_users'
    assert_tables users
    assert_sql "SELECT count(*) FROM information_schema.columns WHERE column_name = 'email'" 0
    assert_applied 001

    run_apply apply b.sealift -p release.pub --to 002_email
    assert_exit 0
    assert_line 'applied 1 migration; the database is at 002_email'
    assert_tables users
    assert_sql "SELECT count(*) FROM information_schema.columns WHERE column_name = 'email'" 1
    assert_applied 001,002

    run_apply status b.sealift -p release.pub
    assert_exit 7
    assert_line --regexp '^pending +1$'
    assert_line '  003_orders'

    run_apply apply b.sealift -p release.pub --to 999_nope
    assert_exit 2
    assert_error '--to 999_nope: the bundle has no such migration'
    assert_applied 001,002
}

@test "apply --per-migration commits each migration on its own" {
    three_migrations
    bundle m b.sealift

    run_apply apply b.sealift -p release.pub --per-migration
    assert_exit 0
    refute_errors
    assert_line 'applied 3 migrations; the database is at 003_orders'
    assert_tables 'orders,users'
    assert_applied 001,002,003
    # Three commits: three different inserting transactions.
    assert_sql "SELECT count(DISTINCT xmin::text) FROM sealift.applied" 3

    run_apply status b.sealift -p release.pub
    assert_exit 0
}

@test "rollback --to base removes every object of the chain; rollback needs --to" {
    three_migrations
    bundle m b.sealift
    must "$APPLY" apply b.sealift -p release.pub

    run_apply rollback b.sealift -p release.pub
    assert_usage_error rollback '--to REV is required'
    assert_applied 001,002,003

    run_apply rollback b.sealift -p release.pub --to 002
    assert_exit 0
    assert_line 'rolled back 1 migration; the database is at 002_email'
    assert_tables users
    assert_applied 001,002

    run_apply rollback b.sealift -p release.pub --to base
    assert_exit 0
    refute_errors
    assert_line --regexp '^\[ *1/2\] rolled back 002_email '
    assert_line --regexp '^\[ *2/2\] rolled back 001_users '
    assert_line 'rolled back 2 migrations; the database is at base'
    assert_tables ''
    assert_sql "SELECT count(*) FROM pg_indexes WHERE schemaname = 'public'" 0
    assert_applied ''
    assert_sql "SELECT string_agg(event || ' ' || migration_id, ',' ORDER BY seq)
        FROM sealift.journal" \
        'apply 001,apply 002,apply 003,rollback 003,rollback 002,rollback 001'

    run_apply status b.sealift -p release.pub
    assert_exit 7
    assert_line --regexp '^applied +0 of 3 \(database at base\)$'

    run_apply rollback b.sealift -p release.pub --to base
    assert_exit 0
    assert_output 'nothing to roll back: the database is at base'
}

@test "rollback across an irreversible migration is refused before anything runs" {
    mig m 001_users 'CREATE TABLE users (id int);' 'DROP TABLE users;'
    mig m 002_backfill '-- sealift:irreversible
CREATE TABLE archive (id int);'
    mig m 003_idx 'CREATE INDEX users_id_idx ON users (id);' 'DROP INDEX users_id_idx;'
    bundle m b.sealift
    must "$APPLY" apply b.sealift -p release.pub

    run_apply rollback b.sealift -p release.pub --to base
    assert_exit 3
    assert_error 'cannot roll back to base: migration 002_backfill is irreversible'
    # Not even the reversible step after it ran.
    assert_sql "SELECT count(*) FROM pg_indexes WHERE indexname = 'users_id_idx'" 1
    assert_tables 'archive,users'
    assert_applied 001,002,003
    assert_sql "SELECT count(*) FROM sealift.journal WHERE event <> 'apply'" 0

    # Down to the irreversible one itself is fine.
    run_apply rollback b.sealift -p release.pub --to 002_backfill
    assert_exit 0
    assert_line 'rolled back 1 migration; the database is at 002_backfill'
    assert_sql "SELECT count(*) FROM pg_indexes WHERE indexname = 'users_id_idx'" 0
}

@test "stamp records migrations as applied without running them, and back" {
    three_migrations
    bundle m b.sealift

    run_apply stamp b.sealift 002_email -p release.pub
    assert_exit 0
    refute_errors
    assert_line 'stamped 2 migrations; the database is recorded at 002_email'
    assert_tables ''
    assert_applied 001,002
    assert_sql "SELECT string_agg(DISTINCT how, ',') FROM sealift.applied" stamped
    assert_sql "SELECT string_agg(event, ',' ORDER BY seq) FROM sealift.journal" 'stamp,stamp'

    run_apply status b.sealift -p release.pub
    assert_exit 7
    assert_line --regexp '^applied +2 of 3 \(database at 002_email\)$'
    assert_line '  003_orders'

    # Backwards: 002 is recorded as not applied; nothing runs (apply_rerun.bats has more).
    run_apply stamp b.sealift 001 -p release.pub
    assert_exit 0
    refute_errors
    assert_line 'unrecorded 1 migration; the database is recorded at 001_users'
    assert_applied 001

    run_apply stamp b.sealift nope -p release.pub
    assert_exit 2
    assert_error 'nope: the bundle has no such migration'
}

@test "history shows every event with the bundle serial and the signer's key id" {
    three_migrations
    bundle m b.sealift --serial 42
    must "$APPLY" apply b.sealift -p release.pub --to 002
    must "$APPLY" rollback b.sealift -p release.pub --to 001
    kid=$(key_id release.pub)

    run_apply history
    assert_exit 0
    refute_errors
    assert_line 'project demo: environment (not bound), highest serial 42, 1 applied, at 001'
    assert_line --regexp "^ +1  .*  apply +001 +42  [0-9a-f]{12}  $kid +postgres@"
    assert_line --regexp "^ +2  .*  apply +002 +42  [0-9a-f]{12}  $kid +postgres@"
    assert_line --regexp "^ +3  .*  rollback +002 +42  [0-9a-f]{12}  $kid +postgres@"
    assert_sql "SELECT string_agg(signers || '/' || bundle_serial, ',' ORDER BY seq)
        FROM sealift.journal" "$kid/42,$kid/42,$kid/42"

    run_apply history --verify
    assert_exit 0
    assert_line --regexp '^journal intact: 3 rows, head [0-9a-f]{64}$'

    run_apply history --json
    assert_exit 0
    assert_json_lines
    [ "$(json_field verified)" = null ]
}

@test "history on a database without sealift history says so" {
    run_apply history
    assert_exit 0
    assert_output 'no sealift history in schema "sealift"'
    assert_no_history
}

@test "--json: apply and status print one valid JSON object per line" {
    three_migrations
    bundle m b.sealift

    run_apply status b.sealift -p release.pub --json
    assert_exit 7
    assert_json_lines
    [ "$(json_field state)" = '"pending"' ]
    [ "$(json_field pending)" = '["001", "002", "003"]' ]

    run_apply apply b.sealift -p release.pub --json
    assert_exit 0
    assert_json_lines
    [ "$(printf '%s\n' "$output" | grep -c '"event":"migration_applied"')" -eq 3 ]
    [ "$(json_field message)" = '"applied 3 migrations; the database is at 003_orders"' ]

    run_apply status b.sealift -p release.pub --json
    assert_exit 0
    assert_json_lines
    [ "$(json_field state)" = '"at_head"' ]
    [ "$(json_field applied)" = 3 ]

    run_apply apply b.sealift -p release.pub --json
    assert_exit 0
    assert_json_lines
    [ "$(json_field message)" = '"nothing to apply: the database is at 003_orders"' ]

    run_apply rollback b.sealift -p release.pub --to base --json
    assert_exit 0
    assert_json_lines
    [ "$(printf '%s\n' "$output" | grep -c '"event":"migration_rolled_back"')" -eq 3 ]
    assert_tables ''
}

@test "-q prints nothing but errors" {
    three_migrations
    bundle m b.sealift

    run_apply apply b.sealift -p release.pub -q
    assert_exit 0
    assert_output ''
    assert_equal "$stderr" ''
    assert_applied 001,002,003

    run_apply status b.sealift -p release.pub -q
    assert_exit 0
    assert_output ''

    run_apply rollback b.sealift -p release.pub --to nope -q
    assert_exit 2
    assert_error '--to nope: the bundle has no such migration'
    assert_applied 001,002,003
}

@test "--schema keeps the history in another schema" {
    three_migrations
    bundle m b.sealift

    run_apply apply b.sealift -p release.pub --schema ops_history
    assert_exit 0
    assert_tables 'orders,users'
    assert_no_history sealift
    assert_applied 001,002,003 ops_history

    run_apply status b.sealift -p release.pub --schema ops_history
    assert_exit 0
    assert_output --partial 'history schema "ops_history"'

    # Another schema is another history: to it, nothing was applied yet.
    run_apply status b.sealift -p release.pub
    assert_exit 7
    assert_output --partial 'history schema "sealift" (not created yet)'

    run_apply history --verify --schema ops_history
    assert_exit 0
    assert_line --regexp '^journal intact: 3 rows'

    run_apply status b.sealift -p release.pub --schema 'bad-name'
    assert_usage_error status '--schema must be letters, digits and'
}

@test "a failing verify script fails the apply (exit 4) and rolls it back" {
    three_migrations
    mig_verify m 002_email \
        "DO \$\$ BEGIN IF (SELECT count(*) FROM users WHERE email IS NOT NULL) = 0 THEN
  RAISE EXCEPTION 'no user has an email';
END IF; END \$\$;"
    bundle m b.sealift

    run_apply apply b.sealift -p release.pub
    assert_exit 4
    assert_error 'migration 002_email (verify) failed: no user has an email'
    assert_detail 'verify.sql'
    assert_detail 'SQLSTATE P0001'
    assert_detail 'the transaction was rolled back; the database is at base'
    assert_tables ''
    assert_applied ''
    assert_sql "SELECT event || ' ' || migration_id FROM sealift.journal" 'failure 002'

    # A verify script that passes lets the migration through.
    mig_verify m 002_email "SELECT 1 FROM users WHERE email IS NULL;"
    rebuild m b.sealift
    run_apply apply b.sealift -p release.pub
    assert_exit 0
    assert_applied 001,002,003
}

@test "-d takes a conninfo string or a postgres:// URI" {
    three_migrations
    bundle m b.sealift
    local db=$PGDATABASE host=$PGHOST port=$PGPORT
    unset PGDATABASE PGHOST PGPORT

    run_apply apply b.sealift -p release.pub -d "host=$host port=$port user=postgres dbname=$db" \
        --to 001
    assert_exit 0
    assert_line 'applied 1 migration; the database is at 001_users'

    run_apply apply b.sealift -p release.pub -d "postgres://postgres@127.0.0.1:$port/$db"
    assert_exit 0
    assert_line 'applied 2 migrations; the database is at 003_orders'

    run_apply status b.sealift -p release.pub -d "postgresql://postgres@127.0.0.1:$port/$db"
    assert_exit 0
    assert_output --partial "postgres@127.0.0.1:$port/$db"

    export PGHOST=$host PGPORT=$port
    assert_applied 001,002,003 sealift "$db"
}

@test "DATABASE_URL is used when -d is absent, and PG* variables alone work" {
    three_migrations
    bundle m b.sealift
    must "$SEALIFT_PG_BIN/createdb" "${PGDATABASE}_url"

    # PGDATABASE names this test's database; DATABASE_URL wins over it.
    DATABASE_URL="postgresql://postgres@127.0.0.1:$PGPORT/${PGDATABASE}_url" \
        run_apply apply b.sealift -p release.pub
    assert_exit 0
    assert_line 'applied 3 migrations; the database is at 003_orders'
    assert_sql "$tables_sql" 'orders,users' "${PGDATABASE}_url"
    assert_no_history

    # -d wins over DATABASE_URL.
    DATABASE_URL="postgresql://postgres@127.0.0.1:1/nowhere" \
        run_apply status b.sealift -p release.pub -d "dbname=$PGDATABASE"
    assert_exit 7

    # PG* variables alone (PGHOST is the socket directory, PGDATABASE this test's database).
    run_apply apply b.sealift -p release.pub
    assert_exit 0
    assert_line 'applied 3 migrations; the database is at 003_orders'
    assert_tables 'orders,users'
    assert_applied 001,002,003
}
