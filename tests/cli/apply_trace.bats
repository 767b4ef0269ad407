#!/usr/bin/env bats
# sealift-apply test traces, per statement of every up and down script, the locks its backend
# newly took on relations that existed before the migration, whether it rewrote one, and how
# long it took; and holds each blocking lock and rewrite against the bundle's lint findings:
# one the lint did not predict is "lint missed".

bats_require_minimum_version 1.5.0

load apply_helpers

setup_file() { apply_setup_file; }
teardown_file() { apply_teardown_file; }
setup() { apply_setup; }
teardown() { apply_teardown; }

# 001 creates and fills orders; 002 rewrites it (an allowed finding); 003 locks it through a
# function (the lint cannot see into the body) and rewrites it again with an allowed type
# change; its down changes the type back (varchar to text needs no rewrite, and is traced as
# a lock only).
trace_chain() {
    mig m 001_orders "CREATE TABLE orders (id int PRIMARY KEY, note text);
INSERT INTO orders SELECT g, 'n' || g FROM generate_series(1, 2000) g;" 'DROP TABLE orders;'
    mig m 002_token "-- sealift:allow add-column-rewrite orders is empty in production until v3
ALTER TABLE orders ADD COLUMN token uuid DEFAULT gen_random_uuid();" \
        'ALTER TABLE orders DROP COLUMN token;'
    mig m 003_sneaky "CREATE FUNCTION lock_orders() RETURNS void LANGUAGE plpgsql AS \$\$
BEGIN EXECUTE 'LOCK TABLE orders IN SHARE MODE'; END \$\$;
SELECT lock_orders();
-- sealift:allow alter-column-type note is short everywhere
ALTER TABLE orders ALTER COLUMN note TYPE varchar(100);" 'DROP FUNCTION lock_orders();
ALTER TABLE orders ALTER COLUMN note TYPE text;'
    bundle m b.sealift
}

@test "test traces blocking locks and rewrites per statement and reports what the lint missed" {
    trace_chain
    run_apply test b.sealift -p release.pub
    assert_exit 0
    # 002's rewrite: traced, and predicted by its allowed finding.
    assert_line '      lock trace of 002_token up (round trip):'
    assert_line --regexp '^        1 up:2 +[0-9.]+  ACCESS EXCLUSIVE on public\.orders, rewrites public\.orders +add-column-rewrite \(allowed\)$'
    # 003: the lock taken inside the function is one no finding predicts.
    assert_line '      lock trace of 003_sneaky up (round trip):'
    assert_line --regexp '^        2 up:3 +[0-9.]+  SHARE on public\.orders +MISSED$'
    assert_line '        lint missed: 003 up:3 took SHARE on public.orders: writes blocked (reads go on); no finding predicts it'
    assert_line --regexp '^        3 up:5 +[0-9.]+  ACCESS EXCLUSIVE on public\.orders, rewrites public\.orders +alter-column-type \(allowed\)$'
    # Statement 1 of 003 creates a function: no lock on an existing relation, no row.
    refute_line --regexp '^        1 up:1 '
    # Each table is printed once, under the round trip that first ran the script.
    run grep -c 'lock trace of 003_sneaky up' <<<"$output"
    assert_output 1
    run_apply test b.sealift -p release.pub
    assert_line --regexp '^lock trace: [0-9]+ statements traced \([0-9.]+ ms asking the server\), [1-9][0-9]* blocking locks? or rewrites? the lint did not predict$'
    # The verdict of the test is the round trip's: a lint miss is reported, not a failure.
    assert_line --regexp '^test passed: 3 of 3 migrations round-trip'
}

@test "test --json has a lock_trace event per statement, with locks, rewrites and lint_missed" {
    trace_chain
    run_apply test b.sealift -p release.pub --json
    assert_exit 0
    # Every statement of every traced up and down script has its event: 2 + 1 + 3 ups and
    # 1 + 1 + 1 downs in the round trip (up again too), then head to base and base to head.
    run jq -r 'select(.event == "lock_trace" and .phase == "round_trip" and .migration == "003" and .script == "up") | .statement' <<<"$output"
    assert_output $'1\n2\n3\n1\n2\n3'
    run_apply test b.sealift -p release.pub --json
    run jq -r 'select(.event == "lock_trace" and .migration == "003" and .script == "up" and .statement == 2) | [.phase, .line, (.locks | map(.lock_mode + " " + .relation + " " + (.predicted_by // "-")) | join(",")), (.lint_missed | length), (.in_transaction | tostring)] | map(tostring) | join("|")' <<<"$output"
    # The round trip's up and its up again; in base to head, one transaction from base,
    # orders is locked already by the migrations before 003: nothing newly taken.
    assert_output $'round_trip|3|SHARE public.orders -|1|true\nround_trip|3|SHARE public.orders -|1|true\nbase_to_head|3||0|true'
    run_apply test b.sealift -p release.pub --json
    run jq -r 'select(.event == "lock_trace" and .migration == "002" and .script == "up" and .phase == "round_trip") | [(.rewrites | map(.relation + " " + .predicted_by) | join(",")), (.duration_ms > 0 | tostring)] | join("|")' <<<"$output"
    assert_line 'public.orders add-column-rewrite|true'
}

@test "a relation created by the migration itself is not traced; a no-transaction statement's rewrite still is" {
    mig m 001_t "CREATE TABLE t (id int);
ALTER TABLE t ADD COLUMN v uuid DEFAULT gen_random_uuid();" 'DROP TABLE t;'
    mig m 002_vac '-- sealift:no-transaction
-- sealift:allow vacuum-full t is tiny
VACUUM FULL t;' 'SELECT 1;'
    bundle m b.sealift
    run_apply test b.sealift -p release.pub --json
    assert_exit 0
    # 001's ALTER works on a table 001 created: nothing locked on an existing relation.
    run jq -r 'select(.event == "lock_trace" and .migration == "001" and .script == "up") | (.locks | length) + (.rewrites | length)' <<<"$output"
    assert_output $'0\n0\n0\n0\n0\n0'
    # 002 runs outside a transaction: its locks ended with it, its rewrite is still seen.
    run_apply test b.sealift -p release.pub --json
    run jq -r 'select(.event == "lock_trace" and .migration == "002" and .phase == "round_trip" and .script == "up") | [(.in_transaction | tostring), (.locks | length), (.rewrites | map(.relation) | join(","))] | map(tostring) | join("|")' <<<"$output"
    assert_line 'false|0|public.t'
}

@test "--no-lock-trace runs the test without the trace" {
    trace_chain
    run_apply test b.sealift -p release.pub --no-lock-trace
    assert_exit 0
    refute_output --partial 'lock trace'
    refute_output --partial 'lint missed'
    run_apply test b.sealift -p release.pub --no-lock-trace --json
    refute_output --partial '"lock_trace"'
}
