#!/usr/bin/env bats
# Long statements are visible (issue 14 §2): a statement running longer than --progress-after
# shows what it does, read from the lock watcher's second connection: the progress views
# (pg_stat_progress_create_index here) or, for anything else, its elapsed time and wait event.
# --json: "statement_progress" events; not a terminal: a plain line every 10 s; --quiet:
# nothing. --warn-after warns about a statement running longer, and journals it
# ("slow_statement"). The index builds run on a table of generate_series rows big enough to
# take a few hundred milliseconds; the limits are set lower than that.

bats_require_minimum_version 1.5.0

load apply_helpers

setup_file() { apply_setup_file; }
teardown_file() { apply_teardown_file; }
setup() { apply_setup; }
teardown() { apply_teardown; }

# A table "big" of $1 rows (an id and an md5 text: an index on the text sorts slowly).
big_table() {
    must sql "CREATE TABLE big (id int, v text);
        INSERT INTO big SELECT g, md5(g::text) FROM generate_series(1, $1) g"
}

# json_events NAME: the events called NAME on stdout, one JSON object a line.
json_events() {
    grep -F "\"event\":\"$1\"" <<<"$output" || true
}

@test "a concurrent index build shows its phase and totals as statement_progress events" {
    big_table 200000
    mig m 001_big_v_idx '-- sealift:no-transaction
CREATE INDEX CONCURRENTLY big_v_idx ON big (v, id);' 'DROP INDEX big_v_idx;'
    bundle m b.sealift

    run_apply apply b.sealift -p release.pub --json --progress-after 100ms
    assert_exit 0
    assert_json_lines
    events=$(json_events statement_progress)
    [ -n "$events" ] || fail "no statement_progress event: $output"
    # Every event names the migration, the command and the table; one at least has a phase
    # with a total (blocks while the table is scanned, tuples while they are sorted or
    # loaded).
    python3 - "$events" <<'EOF' || fail "unexpected statement_progress events: $events"
import json, sys
evs = [json.loads(l) for l in sys.argv[1].splitlines()]
for e in evs:
    assert e["migration"] == "001", e
    assert e["command"] == "CREATE INDEX CONCURRENTLY", e
    assert e["relation"] == "public.big", e
    assert e["elapsed_s"] >= 0.1, e
    assert "CREATE INDEX CONCURRENTLY big_v_idx" in e["query"], e
assert any(e["phase"] and ((e["blocks_total"] or 0) > 0 or (e["tuples_total"] or 0) > 0)
           for e in evs), evs
EOF
    assert_sql "SELECT indisvalid FROM pg_index WHERE indexrelid = 'big_v_idx'::regclass" t
    # The history is written by the runner's connection; the watcher only reads.
    assert_sql "SELECT count(*) FROM sealift.journal WHERE event = 'slow_statement'" 0
}

@test "anything else shows its elapsed time and wait event; a plain line when not a terminal" {
    mig m 001_sleep 'SELECT pg_sleep(0.6);' 'SELECT 1;'
    bundle m b.sealift

    run_apply apply b.sealift -p release.pub --json --progress-after 100ms
    assert_exit 0
    events=$(json_events statement_progress)
    [ -n "$events" ] || fail "no statement_progress event: $output"
    python3 - "$events" <<'EOF' || fail "unexpected statement_progress events: $events"
import json, sys
e = json.loads(sys.argv[1].splitlines()[0])
assert e["command"] is None and e["phase"] is None, e
assert e["wait_event_type"] == "Timeout" and e["wait_event"] == "PgSleep", e
assert e["query"] == "SELECT pg_sleep(0.6)", e
EOF

    # Text, not on a terminal (bats' stdout is a pipe): one plain line, not redrawn.
    must sql "DROP SCHEMA sealift CASCADE"
    run_apply apply b.sealift -p release.pub --progress-after 100ms
    assert_exit 0
    assert_line --regexp '^        001: running 0\.[1-9] s: "SELECT pg_sleep\(0\.6\)", waiting for Timeout:PgSleep$'
    [ "$(grep -c 'running' <<<"$output")" = 1 ] || fail "want one progress line: $output"
    [[ $output != *$'\r'* ]] || fail "a carriage return outside a terminal: $output"

    # On a terminal (script(1) of util-linux gives it one): one line redrawn in place, erased before the
    # next line is printed.
    must sql "DROP SCHEMA sealift CASCADE"
    run script -qec "$APPLY apply b.sealift -p release.pub --progress-after 100ms" /dev/null
    assert_equal "$status" 0
    [[ $output == *$'\r        001: running 0.'*$'s: "SELECT pg_sleep(0.6)", waiting for Timeout:PgSleep\033[K'* ]] ||
        fail "no redrawn progress line: $(printf '%q' "$output")"
    [[ $output == *$'\033[K\r\033[K[  1/1] applied 001_sleep'* ]] ||
        fail "the progress line is not erased before the next line: $(printf '%q' "$output")"

    # Quiet: nothing; off (0): nothing either.
    must sql "DROP SCHEMA sealift CASCADE"
    run_apply apply b.sealift -p release.pub --progress-after 100ms -q
    assert_exit 0
    assert_output ''
    must sql "DROP SCHEMA sealift CASCADE"
    run_apply apply b.sealift -p release.pub --progress-after 0
    assert_exit 0
    refute_output --partial running
}

@test "--warn-after warns about a long statement and journals it" {
    mig m 001_quick 'CREATE TABLE quick (id int);' 'DROP TABLE quick;'
    mig m 002_sleep 'SELECT pg_sleep(0.7);' 'SELECT 1;'
    mig m 003_notx '-- sealift:no-transaction
SELECT pg_sleep(0.4);
SELECT 1;' 'SELECT 1;'
    bundle m b.sealift

    run_apply apply b.sealift -p release.pub --warn-after 300ms
    assert_exit 0
    # Each is caught by a look while it runs (the first look comes at --warn-after).
    assert_warning 'migration 002: statement still running after 0.'
    assert_warning 'migration 003: statement still running after 0.'
    [[ $stderr == *'over --warn-after 0.3 s: SELECT pg_sleep(0.7)'* ]] || fail "$stderr"
    [ "${#stderr_lines[@]}" = 2 ] || fail "want two warnings: $stderr"
    assert_sql "SELECT string_agg(migration_id, ',' ORDER BY seq) FROM sealift.journal
        WHERE event = 'slow_statement'" '002,003'
    assert_sql "SELECT count(*) FROM sealift.journal WHERE event = 'slow_statement'
        AND detail LIKE 'statement % s, over --warn-after 0.3 s: %SELECT pg_sleep(%'" 2
    # The journal still verifies: the warnings chain between the migrations' rows.
    run_apply history --verify
    assert_exit 0

    # --json: a statement_warning event.
    must sql "DROP SCHEMA sealift CASCADE; DROP TABLE quick"
    run_apply apply b.sealift -p release.pub --warn-after 300ms --json
    assert_exit 0
    [ "$(json_events statement_warning | wc -l)" = 2 ] || fail "want 2 warnings: $output"
}

@test "--progress-after and --warn-after take durations" {
    mig m 001_t 'CREATE TABLE t (id int);' 'DROP TABLE t;'
    bundle m b.sealift
    run_apply apply b.sealift -p release.pub --progress-after soon
    assert_exit 2
    assert_error '--progress-after must be'
    run_apply apply b.sealift -p release.pub --warn-after -1
    assert_exit 2
    assert_error '--warn-after must be'
    run_apply apply --help
    assert_output --partial '--progress-after D'
    assert_output --partial '--warn-after D'
}
