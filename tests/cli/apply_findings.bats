#!/usr/bin/env bats
# sealift-apply plan and status show the pending migrations' lint findings, signed into the
# bundle (no source tree on the host), and their live risk: size and estimated rows of each
# relation, and the transactions open on it.

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
# reason); 003 builds an index without CONCURRENTLY (a warning, not allowed).
orders_chain() {
    mig m 001_orders "CREATE TABLE orders (id int PRIMARY KEY, note text);
INSERT INTO orders SELECT g, 'n' || g FROM generate_series(1, 20000) g;" 'DROP TABLE orders;'
    mig m 002_token "-- sealift:allow add-column-rewrite orders is empty in production until v3
ALTER TABLE orders ADD COLUMN token uuid DEFAULT gen_random_uuid();" \
        'ALTER TABLE orders DROP COLUMN token;'
    mig m 003_note 'CREATE INDEX orders_note ON orders (note);' 'DROP INDEX orders_note;'
    bundle m b.sealift
    must "$APPLY" apply b.sealift -p release.pub --to 001
}

@test "status and plan show each pending migration's findings and the allow reason" {
    orders_chain
    rm -r m # the production host has no source tree

    run_apply status b.sealift -p release.pub
    assert_exit 7
    assert_line '  002_token'
    assert_line "    002_token: ACCESS EXCLUSIVE on public.orders (reads and writes blocked), rewrites the table (allowed: 'orders is empty in production until v3')"
    assert_line --regexp '^      allowed\[add-column-rewrite\] up:2:1: ADD COLUMN token'
    assert_line '    003_note: SHARE on public.orders (writes blocked (reads go on)), scans the table'
    assert_line --regexp '^      warning\[create-index-concurrently\] up:1:1: CREATE INDEX'

    run_apply plan b.sealift -p release.pub
    assert_exit 0
    assert_line "-- 002_token: ACCESS EXCLUSIVE on public.orders (reads and writes blocked), rewrites the table (allowed: 'orders is empty in production until v3')"
    # The comments come after the migration's header and before its SQL.
    [[ $output == *"-- Running upgrade 001 -> 002"$'\n'"-- 002_token: ACCESS EXCLUSIVE"*"ADD COLUMN token"* ]]
    # The script still runs.
    printf '%s\n' "$output" >plan.sql
    must "$SEALIFT_PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -f plan.sql
    assert_applied 001,002,003

    # At head nothing is pending: no findings, no risk.
    run_apply status b.sealift -p release.pub
    assert_exit 0
    refute_output --partial 'ACCESS EXCLUSIVE'
    refute_output --partial 'risk:'
}

@test "status --json lists the pending findings and a risk array" {
    orders_chain
    sql 'ANALYZE orders'
    run_apply status b.sealift -p release.pub --json
    assert_exit 7
    run jq -r '.findings[] | [.migration, .rule, .severity, .lock_mode, .relation, (.rewrites|tostring), (.allowed // "-")] | join("|")' <<<"$output"
    assert_line '002|add-column-rewrite|error|ACCESS EXCLUSIVE|public.orders|true|orders is empty in production until v3'
    assert_line '003|create-index-concurrently|warning|SHARE|public.orders|false|-'
    run_apply status b.sealift -p release.pub --json
    run jq -r '.risk[] | [.migration, .relation, (.exists|tostring), (.rows|tostring), (.bytes > 8192 | tostring), (.open_transactions|length|tostring)] | join("|")' <<<"$output"
    assert_output $'002|public.orders|true|20000|true|0\n003|public.orders|true|20000|true|0'
}

@test "the risk line shows size and estimated rows after ANALYZE" {
    orders_chain
    run_apply status b.sealift -p release.pub
    # Never analyzed: rows unknown (PostgreSQL 14 and later keep reltuples at -1).
    assert_line --regexp '^    risk: rewrites public\.orders \([0-9.]+ [kM]B, (rows unknown: never analyzed|~[0-9.]+k? rows)\) under ACCESS EXCLUSIVE: reads and writes blocked until it finishes$'
    sql 'ANALYZE orders'
    run_apply status b.sealift -p release.pub
    assert_line --regexp '^    risk: rewrites public\.orders \([0-9.]+ [kM]B, ~20\.0k rows\) under ACCESS EXCLUSIVE: reads and writes blocked until it finishes$'
    assert_line --regexp '^    risk: scans public\.orders \([0-9.]+ [kM]B, ~20\.0k rows\) under SHARE: writes blocked \(reads go on\) until it finishes$'
    run_apply plan b.sealift -p release.pub
    assert_line --regexp '^-- risk: rewrites public\.orders \([0-9.]+ [kM]B, ~20\.0k rows\) under ACCESS EXCLUSIVE'
}

@test "an open transaction holding a lock on the table is named" {
    orders_chain
    # A session that reads orders and stays idle in its transaction.
    { printf 'BEGIN;\nSELECT count(*) FROM orders;\n'; sleep 60; } |
        "$SEALIFT_PG_BIN/psql" -X -q >/dev/null 3>&- &
    HOLDER_PID=$!
    wait_sql "SELECT count(*) FROM pg_stat_activity WHERE state = 'idle in transaction' AND xact_start < now() - interval '6 seconds'" 1 20
    pid=$(sql "SELECT pid FROM pg_stat_activity WHERE state = 'idle in transaction'")
    run_apply status b.sealift -p release.pub
    assert_exit 7
    assert_line --regexp "^    risk: pid $pid holds AccessShareLock on public\.orders, its transaction open [0-9]+ s \(idle in transaction\): the migration waits for it"
    run_apply status b.sealift -p release.pub --json
    run jq -r '.risk[0].open_transactions[0] | [.pid, .lock, (.granted|tostring)] | join("|")' <<<"$output"
    assert_output "$pid|AccessShareLock|true"
    run_apply plan b.sealift -p release.pub
    assert_line --regexp "^-- risk: pid $pid holds AccessShareLock on public\.orders"
}

@test "a rollback plan shows the down scripts' findings, not the up scripts'" {
    mig m 001_orders "CREATE TABLE orders (id int PRIMARY KEY, note text);
INSERT INTO orders SELECT g, 'n' || g FROM generate_series(1, 20000) g;
CREATE INDEX orders_note ON orders (note);" 'DROP TABLE orders;'
    mig m 002_drop 'DROP INDEX orders_note;' 'CREATE INDEX orders_note ON orders (note);'
    bundle m b.sealift
    must "$APPLY" apply b.sealift -p release.pub
    sql 'ANALYZE orders'
    run_apply plan b.sealift -p release.pub --to 001
    assert_exit 0
    assert_line '-- Running downgrade 002 -> 001'
    refute_output --partial 'drop-index-concurrently'
    assert_line '-- 002_drop: SHARE on public.orders (writes blocked (reads go on)), scans the table'
    assert_line --regexp '^--   warning\[create-index-concurrently\] down:1:1: CREATE INDEX'
    assert_line --regexp '^-- risk: scans public\.orders \([0-9.]+ (kB|MB), ~20\.0k rows\) under SHARE: writes blocked \(reads go on\) until it finishes$'
    # Forward, the up script's finding instead.
    must "$APPLY" rollback b.sealift -p release.pub --to 001
    run_apply plan b.sealift -p release.pub
    assert_line --regexp '^--   warning\[drop-index-concurrently\] up:1:1: DROP INDEX'
    refute_output --partial 'create-index-concurrently'
}

# A repeatable run after the chain (pending with 002): one CREATE INDEX allowed with a reason, one not.
reports_repeatable() {
    mig m 001_orders "CREATE TABLE orders (id int PRIMARY KEY, note text);
INSERT INTO orders SELECT g, 'n' || g FROM generate_series(1, 20000) g;" 'DROP TABLE orders;'
    mig m 002_flag "-- sealift:allow add-column-rewrite orders has no rows yet
ALTER TABLE orders ADD COLUMN flag float8 DEFAULT random();" 'ALTER TABLE orders DROP COLUMN flag;'
    # The allow comes after the first statement: before it, it would cover the whole file.
    printf '%s\n' 'CREATE OR REPLACE VIEW order_notes AS SELECT id, note FROM orders;' \
        '-- sealift:allow create-index-concurrently orders is small in production' \
        'CREATE INDEX IF NOT EXISTS orders_note ON orders (note);' \
        'CREATE INDEX IF NOT EXISTS orders_id_note ON orders (id, note);' >m/R__reports.sql
    bundle m b.sealift
    must "$APPLY" apply b.sealift -p release.pub --to 001
    sql 'ANALYZE orders'
}

@test "status and plan show a pending repeatable's findings, as a pending migration's" {
    reports_repeatable
    rm -r m # the production host has no source tree

    run_apply status b.sealift -p release.pub
    assert_exit 7
    assert_line --regexp '^ +R__reports +pending: new '
    assert_line '  R__reports'
    assert_line "    R__reports: SHARE on public.orders (writes blocked (reads go on)), scans the table (allowed: 'orders is small in production')"
    assert_line --regexp '^      allowed\[create-index-concurrently\] up:3:1: CREATE INDEX public\.orders_note without CONCURRENTLY'
    assert_line '    R__reports: SHARE on public.orders (writes blocked (reads go on)), scans the table'
    assert_line --regexp '^      warning\[create-index-concurrently\] up:4:1: CREATE INDEX public\.orders_id_note without CONCURRENTLY'
    assert_line --regexp '^    risk: scans public\.orders \([0-9.]+ (kB|MB), ~20\.0k rows\) under SHARE: writes blocked \(reads go on\) until it finishes$'

    run_apply status b.sealift -p release.pub --json
    assert_exit 7
    run jq -r '.findings[] | [.migration, .repeatable, .rule, .severity, .line, .relation, (.allowed // "-")] | map(tostring) | join("|")' <<<"$output"
    assert_output $'002|false|add-column-rewrite|error|2|public.orders|orders has no rows yet\nreports|true|create-index-concurrently|warning|3|public.orders|orders is small in production\nreports|true|create-index-concurrently|warning|4|public.orders|-'

    run_apply plan b.sealift -p release.pub
    assert_exit 0
    # The comments come after the repeatable's header and before its SQL.
    [[ $output == *"-- Running repeatable reports (checksum "*$'\n'"-- R__reports: SHARE on public.orders"*"CREATE INDEX IF NOT EXISTS orders_note"* ]]
    assert_line --regexp '^--   warning\[create-index-concurrently\] up:4:1: '
    run_apply plan b.sealift -p release.pub --review
    assert_exit 0
    assert_line --regexp '^-- R__reports: SHARE on public\.orders .*allowed: .orders is small in production'

    # Once it ran, nothing is pending: no findings.
    must "$APPLY" apply b.sealift -p release.pub
    run_apply status b.sealift -p release.pub
    assert_exit 0
    refute_output --partial 'create-index-concurrently'
}

@test "apply announces a repeatable's findings before it takes the migration lock" {
    reports_repeatable
    run_apply apply b.sealift -p release.pub
    assert_exit 0
    assert_line 'risk of what will run, before the migration lock is taken:'
    assert_line '  R__reports'
    assert_line --regexp '^      warning\[create-index-concurrently\] up:4:1: '
}

@test "a bundle without findings (golden, format 1) shows nothing extra" {
    local g=$BATS_TEST_DIRNAME/../../bundles/golden
    run_apply status "$g/golden-v1.sealift" -p "$g/sealift-TEST-ONLY.pub"
    assert_exit 7
    # "pending 6" and the six migrations end the report: not a line more.
    n=${#lines[@]}
    assert_line --index $((n - 7)) 'pending      6'
    assert_line --index $((n - 6)) '  20260101090000_create_accounts'
    assert_line --index $((n - 1)) '  20260106090000_seed_admin'
    run_apply status "$g/golden-v1.sealift" -p "$g/sealift-TEST-ONLY.pub" --json
    run jq -c '[.findings, .risk]' <<<"$output"
    assert_output '[[],[]]'
    run_apply plan "$g/golden-v1.sealift" -p "$g/sealift-TEST-ONLY.pub"
    assert_exit 0
    refute_output --partial 'risk:'
    refute_output --partial ' on public.'
}
