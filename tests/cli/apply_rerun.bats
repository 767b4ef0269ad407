#!/usr/bin/env bats
# Rerunnable after interruption (issue 14 §4): stamp moves backwards (the later migrations
# recorded as not applied, no SQL run, a journal "unstamp" event, after the same refusals as
# other moves).

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
