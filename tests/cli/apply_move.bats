#!/usr/bin/env bats
# sealift-apply: one decision for every move (applier/move.c), shown through the commands:
# targets that are not base, refusals named once, status telling the truth, per-command
# option tables, range-checked numeric options, and --json's error object.

bats_require_minimum_version 1.5.0

load apply_helpers

setup_file() { apply_setup_file; }
teardown_file() { apply_teardown_file; }
setup() { apply_setup; }
teardown() { apply_teardown; }

# 001_users, 002_backfill (irreversible: no down script), 003_idx.
irreversible_chain() {
    mig m 001_users 'CREATE TABLE users (id int);' 'DROP TABLE users;'
    mig m 002_backfill '-- sealift:irreversible
CREATE TABLE archive (id int);'
    mig m 003_idx 'CREATE INDEX users_id_idx ON users (id);' 'DROP INDEX users_id_idx;'
    bundle m b.sealift
}

# The error object of a --json run: the one stdout line with "event":"error".
error_object() {
    printf '%s\n' "$output" | python3 -c '
import json, sys
objs = [json.loads(l) for l in sys.stdin if l.strip()]
errs = [o for o in objs if o.get("event") == "error"]
assert len(errs) == 1, "expected one error object, got %d" % len(errs)
e = errs[0]
print("%s|%s|%s|%s" % (e["exit_code"], e["message"], e["detail"], e["hint"]))'
}

@test "rollback --to 001 names the irreversible migration in the way (002), not the target" {
    irreversible_chain
    must "$APPLY" apply b.sealift -p release.pub

    run_apply rollback b.sealift -p release.pub --to 001
    assert_exit 3
    assert_error 'cannot roll back to 001_users: migration 002_backfill is irreversible (it has no down script)'
    assert_applied 001,002,003

    run_apply plan b.sealift -p release.pub --to 001_users
    assert_exit 3
    assert_error 'cannot roll back to 001_users: migration 002_backfill is irreversible'
    assert_output ''

    # To just after it is fine, and says where the database is.
    run_apply rollback b.sealift -p release.pub --to 002_backfill
    assert_exit 0
    assert_line 'rolled back 1 migration; the database is at 002_backfill'
    assert_applied 001,002
}

@test "plan --to of a rollback names where the database is and where the script goes" {
    three_migrations
    bundle m b.sealift
    must "$APPLY" apply b.sealift -p release.pub

    run_apply plan b.sealift -p release.pub --to 001_users
    assert_exit 0
    assert_line --regexp '^-- database .* is at 003_orders; this script rolls back to 001_users$'
    assert_line '-- Running downgrade 003 -> 002'
    assert_line '-- Running downgrade 002 -> 001'
    refute_line '-- Running downgrade 001 -> '

    must "$APPLY" rollback b.sealift -p release.pub --to 001
    run_apply plan b.sealift -p release.pub --to 002_email
    assert_exit 0
    assert_line --regexp '^-- database .* is at 001_users; this script goes to 002_email$'
}

@test "rollback --to a revision the database has not reached is refused (exit 3)" {
    three_migrations
    bundle m b.sealift
    must "$APPLY" apply b.sealift -p release.pub --to 001

    run_apply rollback b.sealift -p release.pub --to 003_orders
    assert_exit 3
    assert_error 'cannot roll back to 003_orders: 003_orders is ahead of the database, which is at 001_users'
    assert_hint 'to move forward, run "sealift-apply apply --to 003_orders"'
    assert_applied 001
    assert_sql "SELECT count(*) FROM sealift.journal WHERE event <> 'apply'" 0

    # To where it is: nothing to do.
    run_apply rollback b.sealift -p release.pub --to 001_users
    assert_exit 0
    assert_output 'nothing to roll back: the database is at 001_users'
}

@test "status with one corrupted checksum row counts every applied migration and names the drifted one" {
    local i
    for i in $(seq 1 10); do
        mig m "$(printf %03d "$i")_t$i" "CREATE TABLE t$i (id int);" "DROP TABLE t$i;"
    done
    bundle m b.sealift
    must "$APPLY" apply b.sealift -p release.pub
    sql "UPDATE sealift.applied SET up_source_sha256 = repeat('0', 64) WHERE migration_id = '004'"

    run_apply status b.sealift -p release.pub
    assert_exit 3
    assert_line --regexp '^applied +10 applied, 1 drifted: 004_t4 \(database at 010_t10\)$'
    refute_line --regexp '^applied +3 of 10'
    refute_line --regexp '^pending'
    assert_error "the database's history does not match this bundle (drift)"
    assert_detail 'migration 004_t4 was applied with up checksum 0000'

    run_apply status b.sealift -p release.pub --json
    assert_exit 3
    [ "$(json_field state)" = '"drift"' ]
    [ "$(json_field recorded)" = '10' ]
    [ "$(json_field drifted)" = '"004_t4"' ]
}

@test "status asks what apply would do: the same refusal, the same exit code" {
    three_migrations
    bundle m s5.sealift --serial 5
    bundle m s2.sealift --serial 2
    must "$APPLY" apply s5.sealift -p release.pub --to 001

    run_apply status s2.sealift -p release.pub
    assert_exit 3
    assert_error 'bundle serial 2 is older than serial 5, already applied to this database (rollback protection)'
    run_apply apply s2.sealift -p release.pub
    assert_exit 3
    assert_error 'bundle serial 2 is older than serial 5, already applied to this database (rollback protection)'
}

@test "numeric options are range-checked in both binaries (exit 2, naming the option and range)" {
    three_migrations
    bundle m b.sealift

    # strtoul's wrap-around took 4294967297 for 1.
    run_apply verify b.sealift -p release.pub --threshold 4294967297
    assert_usage_error verify '--threshold must be a number from 1 to 64, not "4294967297"'
    run --separate-stderr "$SEALIFT" verify b.sealift -p release.pub --threshold 4294967297
    [ "$status" -eq 2 ]
    [[ $stderr == *'sealift: error: --threshold must be a number from 1 to 64, not "4294967297"'* ]]
    [[ $stderr == *'Try "sealift verify --help" for more information.'* ]]
    run --separate-stderr "$SEALIFT" build -d m -s release.key -o x.sealift --serial 9223372036854775808
    [ "$status" -eq 2 ]
    [[ $stderr == *'--serial must be a non-negative integer (0 to 9223372036854775807), not "9223372036854775808"'* ]]

    for bad in 1e3 inf nan -1 0x10 86401 25h; do
        run_apply apply b.sealift -p release.pub --lock-timeout "$bad"
        assert_usage_error apply "--lock-timeout must be a number of seconds from 0 to 86400 (or a number with a unit: ms, s, min, h), not \"$bad\""
    done
    assert_no_history
    # Units as PostgreSQL spells them.
    run_apply apply b.sealift -p release.pub --lock-timeout 500ms --to 001
    assert_exit 0
    assert_applied 001
}

@test "an option a command does not use is a usage error, not ignored" {
    three_migrations
    bundle m b.sealift

    run_apply verify b.sealift -p release.pub -d x
    assert_usage_error verify 'unrecognized option "-d"'
    run_apply verify b.sealift -p release.pub --schema y
    assert_usage_error verify 'unrecognized option "--schema"'
    run_apply verify b.sealift -p release.pub --compat alembic
    assert_usage_error verify 'unrecognized option "--compat"'
    run_apply stamp b.sealift 001 -p release.pub --compat alembic
    assert_usage_error stamp 'unrecognized option "--compat"'
    run_apply status b.sealift -p release.pub --lock-timeout 5
    assert_usage_error status 'unrecognized option "--lock-timeout"'
    run_apply plan b.sealift -p release.pub --json
    assert_usage_error plan 'unrecognized option "--json"'
    run_apply history -p release.pub
    assert_usage_error history 'unrecognized option "-p"'
    run_apply history --lock-timeout 5
    assert_usage_error history 'unrecognized option "--lock-timeout"'
    run_apply test b.sealift -p release.pub --compat alembic
    assert_usage_error test 'unrecognized option "--compat"'
    assert_no_history

    # What each uses is still accepted.
    run_apply verify b.sealift -p release.pub --threshold 1 -q
    assert_exit 0
    run_apply stamp b.sealift 001 -p release.pub --schema sealift --lock-timeout 5 --json
    assert_exit 0
    assert_applied 001
}

@test "--json: every error also writes one error object with its exit code" {
    irreversible_chain
    must "$APPLY" apply b.sealift -p release.pub

    # A refusal.
    run_apply rollback b.sealift -p release.pub --to base --json
    assert_exit 3
    assert_json_lines
    [ "$(error_object)" = '3|cannot roll back to base: migration 002_backfill is irreversible (it has no down script)|None|None' ]

    # An unknown revision (exit 2).
    run_apply apply b.sealift --json -p release.pub --to 009
    assert_exit 2
    [ "$(error_object)" = '2|--to 009: the bundle has no such migration|None|None' ]

    # Drift, with its detail.
    sql "UPDATE sealift.applied SET chain = repeat('0', 64) WHERE migration_id = '003'"
    run_apply apply b.sealift -p release.pub --json
    assert_exit 3
    [[ "$(error_object)" == "3|the database's history does not match this bundle (drift); nothing was changed|migration 003_idx was applied with chain hash 0000"* ]]

    # No connection.
    run_apply status b.sealift -p release.pub --json -d "postgresql:///nope?host=$BATS_TEST_TMPDIR/none"
    assert_exit 6
    [[ "$(error_object)" == '6|'*'|None|None' ]]

    # Usage, once --json has been seen.
    run_apply apply b.sealift --json -p release.pub --lock-timeout soon
    assert_exit 2
    [[ "$(error_object)" == '2|--lock-timeout must be a number of seconds'*'|None|Try "sealift-apply apply --help" for more information.' ]]
    run_apply apply b.sealift --json -p release.pub --bogus
    assert_exit 2
    [ "$(error_object)" = '2|unrecognized option "--bogus"|None|Try "sealift-apply apply --help" for more information.' ]
    # Success and "pending" are not errors.
    sql "DELETE FROM sealift.applied WHERE migration_id = '003'"
    run_apply status b.sealift -p release.pub --json
    assert_exit 7
    refute_output --partial '"event":"error"'
}
