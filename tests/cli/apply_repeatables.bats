#!/usr/bin/env bats
# sealift-apply and repeatable migrations (R__NAME.sql): after the pending migrations, every
# repeatable never run or changed since its last run is applied, by name, in the same
# transaction mode; each run is a row of repeatable_runs and a journal event; status, plan,
# stamp, rollback and test know them; history --verify replays them; an older history
# schema is upgraded.

bats_require_minimum_version 1.5.0

load apply_helpers

setup_file() { apply_setup_file; }
teardown_file() { apply_teardown_file; }
setup() {
    apply_setup
    three_migrations
    printf 'CREATE OR REPLACE VIEW user_names AS SELECT name FROM users;\n' >m/R__views.sql
    printf 'CREATE OR REPLACE FUNCTION answer() RETURNS int LANGUAGE sql AS $$ SELECT 42 $$;\n' \
        >m/R__functions.sql
}
teardown() { apply_teardown; }

# The journal's events and their migration or repeatable, in order.
events_sql="SELECT string_agg(event || ':' || coalesce(migration_id, '-'), ',' ORDER BY seq)
    FROM sealift.journal WHERE event NOT IN ('index_build')"
# The repeatables' runs: name, run, how, by name and run.
runs_sql="SELECT string_agg(name || '#' || run || ':' || how, ',' ORDER BY name, run)
    FROM sealift.repeatable_runs"

sum_of() { sha256sum <"$1" | cut -d' ' -f1; }

@test "repeatables: the first apply runs the migrations, then the repeatables by name" {
    bundle m b.sealift
    run_apply apply b.sealift -p release.pub
    assert_exit 0
    refute_errors
    assert_line --regexp '^\[ *4/5\] applied R__functions '
    assert_line --regexp '^\[ *5/5\] applied R__views '
    assert_line 'applied 3 migrations and 2 repeatables; the database is at 003_orders'
    assert_sql "$events_sql" 'apply:001,apply:002,apply:003,apply_repeatable:functions,apply_repeatable:views'
    assert_sql "$runs_sql" 'functions#1:applied,views#1:applied'
    assert_sql "SELECT checksum FROM sealift.repeatable_runs WHERE name = 'views'" \
        "$(sum_of m/R__views.sql)"
    assert_sql "SELECT answer(), (SELECT count(*) FROM user_names)" '42|1'
    run_apply status b.sealift -p release.pub
    assert_exit 0
    assert_line --regexp '^repeatables +2, 0 pending$'
    assert_line --regexp '^  R__views +applied +\(checksum [0-9a-f]{16}\)$'
    # The state column starts where the longest name ends, on both rows.
    assert_line --regexp '^  R__functions  applied  \(checksum [0-9a-f]{16}\)$'
    assert_line --regexp '^  R__views      applied  \(checksum [0-9a-f]{16}\)$'
}

@test "repeatables: an apply with nothing changed runs nothing; a changed one re-applies alone" {
    bundle m b.sealift
    run_apply apply b.sealift -p release.pub
    assert_exit 0
    run_apply apply b.sealift -p release.pub
    assert_exit 0
    refute_errors
    assert_line 'nothing to apply: the database is at 003_orders'
    assert_sql "$runs_sql" 'functions#1:applied,views#1:applied'

    printf 'CREATE OR REPLACE VIEW user_names AS SELECT name, id FROM users;\n' >m/R__views.sql
    bundle m c.sealift --serial 100
    run_apply status c.sealift -p release.pub
    assert_exit 7
    assert_line --regexp '^repeatables +2, 1 pending$'
    assert_line --regexp '^  R__views +pending: changed +\(last run [0-9a-f]{16}, bundle [0-9a-f]{16}\)$'
    run_apply status c.sealift -p release.pub --json
    assert_exit 7
    [ "$(printf '%s' "$output" | jq -c '.pending_repeatables')" = '["views"]' ]
    [ "$(printf '%s' "$output" | jq -r '.repeatables[] | select(.name == "views") | .state')" = changed ]

    run_apply apply c.sealift -p release.pub
    assert_exit 0
    refute_errors
    assert_line --regexp '^\[ *1/1\] applied R__views '
    assert_line 'applied 0 migrations and 1 repeatable; the database is at 003_orders'
    assert_sql "$runs_sql" 'functions#1:applied,views#1:applied,views#2:applied'
    assert_sql "SELECT count(*) FROM information_schema.columns WHERE table_name = 'user_names'" 2
    run_apply status c.sealift -p release.pub
    assert_exit 0
    run_apply history --verify
    assert_exit 0
    assert_output --partial 'journal intact'
}

@test "repeatables: history's table keeps its columns under the longer event names" {
    bundle m b.sealift
    run_apply apply b.sealift -p release.pub
    assert_exit 0
    run_apply history
    assert_exit 0
    refute_errors
    # Every row's migration starts where the header's "migration" does, and its event and
    # migration are two separate words (an overflowing event would push or join them).
    printf '%s\n' "$output" | awk '
        /^ +seq  at \(UTC\)/ { col = index($0, "  migration") + 2; next }
        col && /^ +[0-9]+  / {
            rows++
            if (substr($0, col - 2, 2) != "  " || substr($0, col, 1) == " ") bad = bad "\n" $0
            split(substr($0, col), w, " ")
            got = got w[1] ","
        }
        END {
            if (!col || rows != 5 || bad != "" || got != "001,002,003,functions,views,") {
                print "header at " col ", " rows " rows, migrations " got bad; exit 1
            }
        }' || fail "history's columns are misaligned: $output"
    assert_line --regexp '^ +[0-9]+  .{20}  apply_repeatable  views '
}

@test "repeatables: a failing repeatable exits 4, the database stays at a known revision" {
    printf 'CREATE OR REPLACE VIEW user_names AS SELECT nosuchcolumn FROM users;\n' >m/R__views.sql
    bundle m b.sealift
    run_apply apply b.sealift -p release.pub
    assert_exit 4
    assert_error_regex 'migration R__views \(up\) failed: .*nosuchcolumn'
    # One transaction: all or nothing, the chain's migrations too.
    assert_tables ''
    assert_applied ''
    assert_sql "SELECT count(*) FROM sealift.repeatable_runs" 0
    assert_sql "$events_sql" 'failure:views'
    run_apply history --verify
    assert_exit 0
}

@test "repeatables: --per-migration commits each on its own; a failing one leaves the rest" {
    printf 'CREATE OR REPLACE VIEW user_names AS SELECT nosuchcolumn FROM users;\n' >m/R__views.sql
    bundle m b.sealift
    run_apply apply b.sealift -p release.pub --per-migration
    assert_exit 4
    assert_error_regex 'migration R__views \(up\) failed'
    assert_applied '001,002,003'
    assert_sql "$runs_sql" 'functions#1:applied'
    run_apply status b.sealift -p release.pub
    assert_exit 7
    assert_line --regexp '^  R__views +pending: new +\('

    printf 'CREATE OR REPLACE VIEW user_names AS SELECT name FROM users;\n' >m/R__views.sql
    bundle m c.sealift --serial 100
    run_apply apply c.sealift -p release.pub --per-migration
    assert_exit 0
    assert_sql "$runs_sql" 'functions#1:applied,views#1:applied'
    run_apply history --verify
    assert_exit 0
}

@test "repeatables: stamp records them without running them" {
    bundle m b.sealift
    run_apply stamp b.sealift 003 -p release.pub
    assert_exit 0
    refute_errors
    assert_line 'stamped 3 migrations and 2 repeatables; the database is recorded at 003_orders'
    assert_sql "$runs_sql" 'functions#1:stamped,views#1:stamped'
    assert_sql "SELECT count(*) FROM pg_proc WHERE proname = 'answer'" 0
    run_apply status b.sealift -p release.pub
    assert_exit 0
    assert_line --regexp '^  R__functions  stamped +\('
    run_apply history --verify
    assert_exit 0
}

@test "repeatables: rollback does not run them, and status still shows them applied" {
    bundle m b.sealift
    run_apply apply b.sealift -p release.pub
    assert_exit 0
    run_apply rollback b.sealift --to 002 -p release.pub
    assert_exit 0
    refute_errors
    assert_applied '001,002'
    assert_sql "$runs_sql" 'functions#1:applied,views#1:applied'
    run_apply status b.sealift -p release.pub
    assert_exit 7
    assert_line --regexp '^repeatables +2, 0 pending$'
    assert_line --regexp "^  R__views +applied +\\(checksum $(sum_of m/R__views.sql | cut -c1-16)\\)$"
    # Back to the head: the repeatables are unchanged, so they do not run again.
    run_apply apply b.sealift -p release.pub
    assert_exit 0
    assert_line 'applied 1 migration; the database is at 003_orders'
    assert_sql "$runs_sql" 'functions#1:applied,views#1:applied'
    run_apply history --verify
    assert_exit 0
}

@test "repeatables: apply --to short of the head leaves them pending" {
    bundle m b.sealift
    run_apply apply b.sealift -p release.pub --to 002
    assert_exit 0
    assert_line 'applied 2 migrations; the database is at 002_email'
    assert_sql "SELECT count(*) FROM sealift.repeatable_runs" 0
}

@test "repeatables: plan includes them, and psql running it leaves what apply would" {
    bundle m b.sealift
    run_apply plan b.sealift -p release.pub
    assert_exit 0
    printf '%s\n' "$output" >plan.sql
    assert_line --regexp '^-- Running repeatable functions \(checksum [0-9a-f]{64}\)$'
    assert_line --regexp '^-- Running repeatable views '
    run_apply plan b.sealift -p release.pub --review
    assert_exit 0
    assert_line '-- then 2 repeatables, new or changed since their last run'
    assert_line '-- repeatable views, up (new or changed since its last run)'
    assert_output --partial 'CREATE OR REPLACE VIEW user_names AS SELECT name FROM users'
    run "$SEALIFT_PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -f plan.sql
    assert_success
    assert_sql "$runs_sql" 'functions#1:applied,views#1:applied'
    assert_sql "SELECT answer()" 42
    run_apply status b.sealift -p release.pub
    assert_exit 0
    run_apply history --verify
    assert_exit 0
    # Nothing pending: no plan of them.
    run_apply plan b.sealift -p release.pub
    assert_exit 0
    refute_output --partial 'Running repeatable'
}

@test "repeatables: a plan refuses to run once a repeatable ran since it was made" {
    bundle m b.sealift
    must "$APPLY" apply b.sealift -p release.pub
    printf 'CREATE OR REPLACE VIEW user_names AS SELECT name, id FROM users;\n' >m/R__views.sql
    bundle m c.sealift --serial 100
    run_apply plan c.sealift -p release.pub
    assert_exit 0
    printf '%s\n' "$output" >plan.sql
    assert_line --regexp '^-- Running repeatable views '
    # Meanwhile another release ran views with other bytes: the plan would undo it unseen.
    printf 'CREATE OR REPLACE VIEW user_names AS SELECT name, id, id AS uid FROM users;\n' >m/R__views.sql
    bundle m d.sealift --serial 101
    must "$APPLY" apply d.sealift -p release.pub

    run --separate-stderr "$SEALIFT_PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -f plan.sql
    assert_failure 3
    [[ $stderr == *"sealift: repeatable views is no longer as this plan found it (last run $(sum_of m/R__views.sql | cut -c1-16), the plan read "* ]] ||
        fail "unexpected psql error: $stderr"
    assert_sql "$runs_sql" 'functions#1:applied,views#1:applied,views#2:applied'
    assert_sql "SELECT count(*) FROM information_schema.columns WHERE table_name = 'user_names'" 3
    run_apply history --verify
    assert_exit 0

    # A repeatable that never ran is part of what the plan read too.
    printf 'SELECT 1;\n' >m/R__zz_new.sql
    bundle m e.sealift --serial 102
    run_apply plan e.sealift -p release.pub
    assert_exit 0
    printf '%s\n' "$output" >plan2.sql
    must "$APPLY" apply e.sealift -p release.pub
    run --separate-stderr "$SEALIFT_PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -f plan2.sql
    assert_failure 3
    [[ $stderr == *"sealift: repeatable zz_new is no longer as this plan found it (last run "*", the plan read none)"* ]] ||
        fail "unexpected psql error: $stderr"
    assert_sql "SELECT count(*) FROM sealift.repeatable_runs WHERE name = 'zz_new'" 1
}

@test "repeatables: a no-transaction repeatable runs statement by statement" {
    printf -- '-- sealift:no-transaction\nCREATE INDEX CONCURRENTLY IF NOT EXISTS users_name_idx ON users (name);\n' \
        >m/R__indexes.sql
    bundle m b.sealift
    run_apply apply b.sealift -p release.pub
    assert_exit 0
    refute_errors
    assert_sql "$runs_sql" 'functions#1:applied,indexes#1:applied,views#1:applied'
    assert_sql "SELECT count(*) FROM pg_indexes WHERE indexname = 'users_name_idx'" 1
    assert_sql "SELECT count(*) FROM sealift.progress" 0
    run_apply history --verify
    assert_exit 0
}

@test "repeatables: history --verify sees an edited repeatable_runs row" {
    bundle m b.sealift
    run_apply apply b.sealift -p release.pub
    assert_exit 0
    sql "UPDATE sealift.repeatable_runs SET checksum = repeat('0', 64) WHERE name = 'views'"
    run_apply history --verify
    assert_exit 1
    assert_error_regex 'sealift\.repeatable_runs row views run 1 \(project demo\): column checksum is 0{64}, but journal row 5 recorded [0-9a-f]{64}: the table was edited'
}

@test "repeatables: a history schema from before them is upgraded, and they run" {
    rm m/R__*.sql
    bundle m old.sealift
    run_apply apply old.sealift -p release.pub
    assert_exit 0
    # A history as an applier before repeatables left it.
    sql "DROP TABLE sealift.repeatable_runs"
    printf 'CREATE OR REPLACE VIEW user_names AS SELECT name FROM users;\n' >m/R__views.sql
    bundle m b.sealift --serial 100
    run_apply status b.sealift -p release.pub
    assert_exit 7
    assert_line --regexp '^  R__views +pending: new +\('
    run_apply apply b.sealift -p release.pub
    assert_exit 0
    refute_errors
    assert_sql "$runs_sql" 'views#1:applied'
    run_apply history --verify
    assert_exit 0
}

@test "repeatables: test runs them at the head and again, and the chain still goes down and up" {
    # A view on users would keep 001's down from dropping users: test would say so.
    rm m/R__views.sql
    printf 'CREATE OR REPLACE VIEW order_ids AS SELECT 1 AS id;\n' >m/R__views.sql
    bundle m b.sealift
    run_apply test b.sealift -p release.pub
    assert_exit 0
    assert_line --regexp '^ok    repeatables: applied 2 repeatables after the chain, then again: the schema is the same'
    assert_line --regexp '^ok    head to base: rolled back 3 migrations as rollback would'
    assert_line --regexp '^ok    base to head: applied 3 migrations as apply would'
    assert_line --partial 'ok    stamp at head:'
    assert_line --regexp '^test passed: '
}

@test "repeatables: test runs a no-transaction repeatable; the lock trace follows only migrations" {
    rm m/R__views.sql
    printf -- '-- sealift:no-transaction\nCREATE INDEX CONCURRENTLY IF NOT EXISTS users_name_idx ON users (name);\n' \
        >m/R__indexes.sql
    bundle m b.sealift
    run_apply test b.sealift -p release.pub
    assert_exit 0
    refute_output --partial 'R__indexes'
    refute_output --regexp 'lock trace.*indexes'
    assert_line --regexp '^ok    repeatables: applied 2 repeatables after the chain, then again: the schema is the same'
    assert_line --regexp '^test passed: '
}

@test "repeatables: test fails a repeatable that gives another schema when run again" {
    # Each run adds a column named after the run: not re-runnable.
    printf 'DO $$ BEGIN EXECUTE format(%s, (SELECT count(*) FROM pg_attribute WHERE attrelid = to_regclass(%s))); END $$;\n' \
        "'CREATE TABLE IF NOT EXISTS grows (x int); ALTER TABLE grows ADD COLUMN c%s int'" "'grows'" \
        >m/R__views.sql
    bundle m b.sealift
    run_apply test b.sealift -p release.pub
    assert_exit 1
    assert_line --regexp '^FAIL  repeatables: the repeatables, run again, give another schema \(1 difference\)'
}
