#!/usr/bin/env bats
# sealift-apply plan: the psql script that apply would run. It changes nothing itself; run
# through psql it leaves the database as apply does (objects and history), guarded against a
# database that moved since the plan was made.

bats_require_minimum_version 1.5.0

load apply_helpers

setup_file() { apply_setup_file; }
teardown_file() { apply_teardown_file; }
setup() { apply_setup; }
teardown() { apply_teardown; }

# psql_plan FILE [DATABASE]: run a plan the way its header says.
psql_plan() {
    "$SEALIFT_PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -d "${2:-$PGDATABASE}" -f "$1"
}

# schema_of DATABASE: its schema without the history, comments and pg_dump's random
# \restrict key lines.
schema_of() {
    "$SEALIFT_PG_BIN/pg_dump" --schema-only --exclude-schema=sealift "$1" |
        grep -v -e '^--' -e '^\\restrict ' -e '^\\unrestrict ' -e '^$'
}

# The example chain of bundles/examples/native (enum, foreign key, verify script, concurrent
# indexes, function, view, placeholder, COPY data file), built into shop.sealift.
example_bundle() {
    cp -r "$BATS_TEST_DIRNAME/../../bundles/examples/native/migrations" shop
    must "$SEALIFT" build -d shop -s release.key -o shop.sealift --set admin_email=a@example.com
}

@test "plan changes nothing: no history schema after a plan alone" {
    three_migrations
    bundle m b.sealift

    run_apply plan b.sealift -p release.pub
    assert_exit 0
    refute_errors
    assert_line '-- Running upgrade  -> 001'
    assert_no_history
    assert_tables ''

    must "$APPLY" apply b.sealift -p release.pub --to 001
    journal=$(sql "SELECT count(*) || ' ' || max(hash) FROM sealift.journal")
    run_apply plan b.sealift -p release.pub
    assert_exit 0
    assert_line '-- Running upgrade 001 -> 002'
    assert_sql "SELECT count(*) || ' ' || max(hash) FROM sealift.journal" "$journal"
    assert_applied 001
    assert_tables users
    assert_sql "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'" 0
}

@test "plan piped to psql brings a fresh database to head; status and history --verify agree" {
    three_migrations
    bundle m b.sealift

    run_apply plan b.sealift -p release.pub
    assert_exit 0
    assert_line '-- sealift-apply plan for b.sealift'
    assert_line --regexp '^-- database .* is at base; this script goes to 003_orders$'
    assert_line '-- Running upgrade  -> 001'
    assert_line '-- Running upgrade 001 -> 002'
    assert_line '-- Running upgrade 002 -> 003'

    # Piped straight into psql, as an operator would.
    run bash -c 'set -o pipefail; "$1" plan b.sealift -p release.pub |
        "$2/psql" -X -q -v ON_ERROR_STOP=1 -d "$3"' - "$APPLY" "$SEALIFT_PG_BIN" "$PGDATABASE"
    assert_success
    assert_tables 'orders,users'
    assert_applied 001,002,003
    assert_sql "SELECT string_agg(event || ' ' || detail, ',' ORDER BY seq) FROM sealift.journal" \
        'apply via plan,apply via plan,apply via plan'

    run_apply status b.sealift -p release.pub
    assert_exit 0
    assert_line --regexp '^applied +3 of 3 \(database at 003_orders\)$'

    run_apply history --verify
    assert_exit 0
    assert_line --regexp '^journal intact: 3 rows'

    # Apply agrees that there is nothing left.
    run_apply apply b.sealift -p release.pub
    assert_exit 0
    assert_output 'nothing to apply: the database is at 003_orders'
}

@test "plan + psql and apply produce the same schema (the example chain, with a no-transaction migration)" {
    example_bundle
    must "$SEALIFT_PG_BIN/createdb" "${PGDATABASE}_plan"

    run_apply apply shop.sealift -p release.pub
    assert_exit 0

    run_apply plan shop.sealift -p release.pub -d "dbname=${PGDATABASE}_plan"
    assert_exit 0
    assert_output --partial 'runs outside a transaction, one statement at a time'
    assert_output --partial 'CREATE INDEX CONCURRENTLY'
    printf '%s\n' "$output" >plan.sql
    run psql_plan plan.sql "${PGDATABASE}_plan"
    assert_success

    schema_of "$PGDATABASE" >applied.schema
    schema_of "${PGDATABASE}_plan" >planned.schema
    [ -s applied.schema ] || fail "empty schema dump"
    grep -q 'CREATE INDEX orders_account_id_idx' planned.schema || fail "no concurrent index"
    run diff -u applied.schema planned.schema
    assert_success
    assert_output ''

    # The same data too, and the same history (but for how it ran).
    assert_sql "SELECT email FROM accounts" a@example.com "${PGDATABASE}_plan"
    assert_sql "SELECT count(*) FROM sealift.progress" 0 "${PGDATABASE}_plan"
    assert_sql "SELECT string_agg(migration_id || ' ' || chain, ',' ORDER BY ordinal)
        FROM sealift.applied" \
        "$(sql "SELECT string_agg(migration_id || ' ' || chain, ',' ORDER BY ordinal)
            FROM sealift.applied")" "${PGDATABASE}_plan"
    run_apply status shop.sealift -p release.pub -d "dbname=${PGDATABASE}_plan"
    assert_exit 0
    run_apply history --verify -d "dbname=${PGDATABASE}_plan"
    assert_exit 0
    assert_line --regexp '^journal intact: 7 rows'
    # The example's COPY data file went through the plan as psql reads it.
    assert_sql "SELECT count(*) || ' ' || max(name) FROM countries" '13 United States of America' \
        "${PGDATABASE}_plan"
}

@test "plan on a database at head has nothing to run, and running it changes nothing" {
    three_migrations
    bundle m b.sealift
    must "$APPLY" apply b.sealift -p release.pub
    before=$(sql "SELECT count(*) || ' ' || max(hash) FROM sealift.journal")

    run_apply plan b.sealift -p release.pub
    assert_exit 0
    refute_errors
    assert_line --regexp '^-- database .* is at 003_orders; this script goes to 003_orders$'
    refute_output --partial '-- Running'
    refute_output --partial 'INSERT INTO "sealift".applied'
    refute_output --partial 'CREATE TABLE users'
    printf '%s\n' "$output" >plan.sql

    run psql_plan plan.sql
    assert_success
    assert_sql "SELECT count(*) || ' ' || max(hash) FROM sealift.journal" "$before"
    assert_applied 001,002,003
}

@test "plan --to stops at a revision; a plan --to behind the database is a rollback script" {
    three_migrations
    bundle m b.sealift

    run_apply plan b.sealift -p release.pub --to 002_email
    assert_exit 0
    assert_line '-- Running upgrade 001 -> 002'
    refute_line --partial '-> 003'
    printf '%s\n' "$output" >up.sql
    run psql_plan up.sql
    assert_success
    assert_applied 001,002

    run_apply plan b.sealift -p release.pub --to base
    assert_exit 0
    assert_line '-- Running downgrade 002 -> 001'
    assert_line '-- Running downgrade 001 -> '
    printf '%s\n' "$output" >down.sql
    run psql_plan down.sql
    assert_success
    assert_tables ''
    assert_applied ''
    run_apply history --verify
    assert_exit 0
    assert_line --regexp '^journal intact: 4 rows'
}

@test "a plan refuses to run once the database has moved on" {
    three_migrations
    bundle m b.sealift
    run_apply plan b.sealift -p release.pub
    assert_exit 0
    printf '%s\n' "$output" >plan.sql
    must "$APPLY" apply b.sealift -p release.pub --to 001

    run --separate-stderr psql_plan plan.sql
    assert_failure 3
    [[ $stderr == *'sealift: the database is no longer at base, where this plan starts'* ]] ||
        fail "unexpected psql error: $stderr"
    assert_applied 001
    assert_tables users
    assert_sql "SELECT count(*) FROM sealift.journal" 1
}
