#!/usr/bin/env bats
# What an operator and a DBA read before a migration runs: apply shows the pending
# migrations' findings and live risk before it takes the migration lock; bundles signed
# without lint findings still get size and open-transaction lines for the relations their
# statements name; plan --review is the migration SQL alone, for reading.

bats_require_minimum_version 1.5.0

load apply_helpers

setup_file() { apply_setup_file; }
teardown_file() { apply_teardown_file; }
setup() { apply_setup; }
teardown() {
    [ -z "${HOLDER_PID:-}" ] || kill "$HOLDER_PID" 2>/dev/null || true
    apply_teardown
}

# orders_chain: 001 creates and fills orders (applied first); 002 rewrites it (allowed, with a
# reason); 003 builds an index without CONCURRENTLY (a warning) and adds a nullable column
# (no finding: the lint judges it safe, but it still takes its lock on orders).
orders_chain() {
    mig m 001_orders "CREATE TABLE orders (id int PRIMARY KEY, note text);
INSERT INTO orders SELECT g, 'n' || g FROM generate_series(1, 20000) g;" 'DROP TABLE orders;'
    mig m 002_token "-- sealift:allow add-column-rewrite orders is empty in production until v3
ALTER TABLE orders ADD COLUMN token uuid DEFAULT gen_random_uuid();" \
        'ALTER TABLE orders DROP COLUMN token;'
    mig m 003_note 'CREATE INDEX orders_note ON orders (note);
ALTER TABLE orders ADD COLUMN memo text;' 'ALTER TABLE orders DROP COLUMN memo;
DROP INDEX orders_note;'
    bundle m b.sealift
    must "$APPLY" apply b.sealift -p release.pub --to 001
    sql 'ANALYZE orders'
}

GOLDEN=$BATS_TEST_DIRNAME/../../bundles/golden

@test "apply prints the findings and risk lines before it takes the migration lock" {
    orders_chain
    run_apply apply b.sealift -p release.pub --lock-timeout 0
    assert_exit 0
    # The risk block comes first, then the migrations run.
    assert_line --index 0 'risk of what will run, before the migration lock is taken:'
    assert_line --index 1 '  002_token'
    assert_line "    002_token: ACCESS EXCLUSIVE on public.orders (reads and writes blocked), rewrites the table (allowed: 'orders is empty in production until v3')"
    assert_line --regexp '^    risk: rewrites public\.orders \([0-9.]+ [kM]B, ~20\.0k rows\) under ACCESS EXCLUSIVE: reads and writes blocked until it finishes$'
    assert_line '  003_note'
    # The ADD COLUMN's brief ACCESS EXCLUSIVE is a finding too (blocking-lock, info).
    assert_line --regexp '^    risk: locks public\.orders \([0-9.]+ [kM]B, ~20\.0k rows\) under ACCESS EXCLUSIVE: reads and writes blocked until it finishes$'
    [[ $output == *"risk: locks public.orders"*"applied 2 migrations"* ]]
    assert_applied 001,002,003
}

@test "apply waiting for the migration lock has already shown the risk" {
    orders_chain
    # Hold sealift's migration lock from another session (the key plan's script takes).
    keys=$("$APPLY" plan b.sealift -p release.pub | sed -n 's/.*pg_try_advisory_lock(\([0-9-]*\), \([0-9-]*\)).*/\1 \2/p')
    read -r k1 k2 <<<"$keys"
    { printf 'SELECT pg_advisory_lock(%s, %s);\n' "$k1" "$k2"; sleep 30; } |
        "$SEALIFT_PG_BIN/psql" -X -q >/dev/null 3>&- &
    HOLDER_PID=$!
    wait_sql "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted" 1 20
    run_apply apply b.sealift -p release.pub --lock-timeout 1
    assert_exit 5
    assert_line --index 0 'risk of what will run, before the migration lock is taken:'
    assert_line --regexp '^    risk: rewrites public\.orders'
    assert_applied 001
}

@test "apply --json has a risk event with the findings and risk arrays; --quiet says nothing" {
    orders_chain
    run_apply apply b.sealift -p release.pub --json --to 002
    assert_exit 0
    # The risk event comes before any migration event.
    run jq -r 'select(.event != "info") | .event' <<<"$output"
    assert_line --index 0 'risk'
    run_apply rollback b.sealift -p release.pub --to 001
    run_apply apply b.sealift -p release.pub --json
    run jq -r 'select(.event == "risk") | .risk[] | [.migration, .script, (.line|tostring), .relation, (.from_lint|tostring), (.statement // "-"), (.lock_mode // "-"), (.rows|tostring)] | join("|")' <<<"$output"
    assert_output $'002|up|2|public.orders|true|-|ACCESS EXCLUSIVE|20000\n003|up|1|public.orders|true|-|SHARE|20000\n003|up|2|public.orders|true|-|ACCESS EXCLUSIVE|20000'
    run_apply rollback b.sealift -p release.pub --to 001
    run jq -r 'select(.event == "risk") | .findings | length' <<<"$output"
    run_apply apply b.sealift -p release.pub --json
    run jq -r 'select(.event == "risk") | .findings | map(.rule) | join(",")' <<<"$output"
    assert_output 'add-column-rewrite,create-index-concurrently,blocking-lock'
    run_apply rollback b.sealift -p release.pub --to 001
    run_apply apply b.sealift -p release.pub --quiet
    assert_exit 0
    assert_output ''
    # At head: no risk, no event.
    run_apply apply b.sealift -p release.pub --json
    refute_output --partial '"risk"'
}

@test "an older bundle without findings gets size and open-transaction lines for what its statements name" {
    local pub=$GOLDEN/sealift-TEST-ONLY.pub g=$GOLDEN/golden-v1.sealift
    must "$APPLY" apply "$g" -p "$pub" --to 20260101090000
    sql "INSERT INTO accounts (email, name) SELECT 'a' || g || '@x', 'n' FROM generate_series(1, 3000) g"
    sql 'ANALYZE accounts'
    # A session reads accounts and stays idle in its transaction.
    { printf 'BEGIN;\nSELECT count(*) FROM accounts;\n'; sleep 60; } |
        "$SEALIFT_PG_BIN/psql" -X -q >/dev/null 3>&- &
    HOLDER_PID=$!
    wait_sql "SELECT count(*) FROM pg_stat_activity WHERE state = 'idle in transaction' AND xact_start < now() - interval '6 seconds'" 1 20
    pid=$(sql "SELECT pid FROM pg_stat_activity WHERE state = 'idle in transaction'")
    run_apply status "$g" -p "$pub"
    assert_exit 7
    assert_line --regexp '^    risk: alters public\.accounts \([0-9.]+ kB, ~3\.0k rows\), up:2$'
    assert_line --regexp "^    risk: pid $pid holds AccessShareLock on public\.accounts, its transaction open [0-9]+ s \(idle in transaction\): the migration waits for it"
    # orders is created by a pending migration: its index builds get no line.
    refute_output --partial 'public.orders'
    run_apply plan "$g" -p "$pub"
    assert_line --regexp '^-- risk: alters public\.accounts \([0-9.]+ kB, ~3\.0k rows\), up:2$'
    run_apply status "$g" -p "$pub" --json
    run jq -r '.risk[] | [.migration, .relation, .statement, (.rows|tostring), (.open_transactions[0].pid|tostring)] | join("|")' <<<"$output"
    assert_output "20260102090000|public.accounts|alters|3000|$pid"
    kill "$HOLDER_PID"
    HOLDER_PID=
    run_apply apply "$g" -p "$pub"
    assert_exit 0
    assert_line --index 0 'risk of what will run, before the migration lock is taken:'
    assert_line --index 1 '  20260102090000_account_status'
    assert_line --regexp '^    risk: alters public\.accounts \([0-9.]+ kB, ~3\.0k rows\), up:2$'
}

@test "plan --review is the migration SQL alone, each script under its header with findings and risk" {
    orders_chain
    run_apply plan b.sealift -p release.pub --review
    assert_exit 0
    assert_line --index 0 '-- sealift-apply plan --review for b.sealift'
    assert_line '-- apply of 2 migrations, up to 003_note'
    assert_line '-- migration 002_token, up'
    assert_line '-- migration 003_note, up'
    assert_line '-- transaction 1 of this plan'
    assert_line '-- transaction 1 of this plan (shared with the migration before)'
    assert_line "-- 002_token: ACCESS EXCLUSIVE on public.orders (reads and writes blocked), rewrites the table (allowed: 'orders is empty in production until v3')"
    assert_line --regexp '^-- risk: rewrites public\.orders \([0-9.]+ [kM]B, ~20\.0k rows\) under ACCESS EXCLUSIVE'
    assert_line --regexp '^-- risk: locks public\.orders \([0-9.]+ [kM]B, ~20\.0k rows\) under ACCESS EXCLUSIVE'
    # In order: 002's statement, then 003's two.
    [[ $output == *"ADD COLUMN token"*"CREATE INDEX orders_note"*"ADD COLUMN memo"* ]]
    # Nothing of sealift's own: no history writes, no lock, no transaction control.
    refute_output --partial 'sealift".'
    refute_output --partial 'sealift_journal'
    refute_output --partial 'pg_try_advisory_lock'
    refute_line 'BEGIN;'
    refute_line 'COMMIT;'
    # Every line that is not SQL of the migrations is a comment (psql would run nothing else).
    run grep -v -e '^--' -e '^$' -e 'ALTER TABLE orders' -e 'CREATE INDEX orders_note' <<<"$output"
    assert_output ''
    # Nothing changed.
    assert_applied 001
}

@test "plan --review of a rollback names the revision it goes back to, newest first" {
    orders_chain
    must "$APPLY" apply b.sealift -p release.pub
    run_apply plan b.sealift -p release.pub --review --to 001
    assert_exit 0
    assert_line '-- rollback of 2 migrations, back to 001_orders (newest first)'
    assert_line '-- migration 003_note, down (rollback)'
    [[ $output == *"migration 003_note, down"*"DROP COLUMN memo"*"DROP INDEX orders_note"*"migration 002_token, down"*"DROP COLUMN token"* ]]
    # A no-transaction migration says so.
    mig m 004_idx '-- sealift:no-transaction
CREATE INDEX CONCURRENTLY orders_id2 ON orders (id);' '-- sealift:no-transaction
DROP INDEX CONCURRENTLY orders_id2;'
    rebuild m b2.sealift
    run_apply plan b2.sealift -p release.pub --review
    assert_line '-- no transaction: 1 statement, each committed on its own'
}

@test "plan keeps the history bookkeeping short: one journal line per migration" {
    orders_chain
    mig m 004_more 'ALTER TABLE orders ADD COLUMN a int;' 'ALTER TABLE orders DROP COLUMN a;'
    mig m 005_more 'ALTER TABLE orders ADD COLUMN b int;' 'ALTER TABLE orders DROP COLUMN b;'
    rebuild m b.sealift
    run_apply plan b.sealift -p release.pub
    assert_exit 0
    printf '%s\n' "$output" >plan.sql
    # The journal's hash expression is written once, in the prepared statement.
    run grep -c 'encode(sha256' plan.sql
    assert_output 1
    run grep -c '^EXECUTE sealift_journal(' plan.sql
    assert_output 4
    # Per migration: its applied row and its journal row, one line each, under 1.5 kB together.
    bytes=$(grep -E '^(INSERT INTO "sealift"\.applied|EXECUTE sealift_journal)' plan.sql | wc -c)
    [ "$bytes" -lt $((4 * 1500)) ] || fail "bookkeeping of 4 migrations is $bytes bytes"
    # And it still runs, with an intact journal.
    must "$SEALIFT_PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -f plan.sql
    assert_applied 001,002,003,004,005
    run_apply history --verify
    assert_exit 0
    assert_line --regexp '^journal intact: 5 rows'
}

@test "the risk lines do not wait behind an ACCESS EXCLUSIVE lock on the table they measure" {
    orders_chain
    # A session holds LOCK TABLE orders and stays: reading the table's size would queue.
    { printf 'BEGIN;\nLOCK TABLE orders;\n'; sleep 60; } |
        "$SEALIFT_PG_BIN/psql" -X -q >/dev/null 3>&- &
    HOLDER_PID=$!
    wait_sql "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
        WHERE c.relname = 'orders' AND l.mode = 'AccessExclusiveLock' AND l.granted" 1 20
    run --separate-stderr timeout 20 "$APPLY" status b.sealift -p release.pub
    assert_exit 7
    assert_line --regexp '^    risk: rewrites public\.orders \(([0-9.]+ [kM]B|size unknown: locked), ~20\.0k rows\) under ACCESS EXCLUSIVE'
    # apply says it before it waits: then its statement times out behind the lock.
    run --separate-stderr timeout 20 "$APPLY" apply b.sealift -p release.pub \
        --statement-lock-timeout 300ms --retries 0
    assert_exit 4
    assert_line --index 0 'risk of what will run, before the migration lock is taken:'
    assert_line --regexp '^    risk: rewrites public\.orders '
    assert_applied 001
}
