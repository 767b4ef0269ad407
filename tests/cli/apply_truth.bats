#!/usr/bin/env bats
# sealift-apply reports what really happened: history times are the server's (a migration
# that sleeps 0.3 s lasts at least 0.3 s in its row, its event and its line, in either
# mode); a failure in the middle of one transaction undoes, in the output too, what it rolled
# back, and names file, line, column, SQLSTATE, detail and hint; history --json writes one
# object per row with ISO 8601 UTC times and whole bundle ids.

bats_require_minimum_version 1.5.0

load apply_helpers

setup_file() { apply_setup_file; }
teardown_file() { apply_teardown_file; }
setup() { apply_setup; }
teardown() { apply_teardown; }

# Three migrations of 0.3 s each on the server, the second one without a transaction; the
# downs of the first and the last sleep too.
sleepy_chain() {
    mig m 001_a 'CREATE TABLE a (id int);
SELECT pg_sleep(0.3);' 'DROP TABLE a;
SELECT pg_sleep(0.3);'
    mig m 002_b '-- sealift:no-transaction
CREATE TABLE b (id int);
SELECT pg_sleep(0.3);' '-- sealift:no-transaction
DROP TABLE b;'
    mig m 003_c 'SELECT pg_sleep(0.3);
CREATE TABLE c (id int);' 'SELECT pg_sleep(0.3);
DROP TABLE c;'
}

# assert_server_times: each applied row lasts >= 300 ms (and not absurdly more), successive
# rows' times differ by about the sleep, and each journal "apply" row has its row's time.
assert_server_times() {
    assert_sql "SELECT count(*) FROM sealift.applied WHERE duration_ms >= 300
        AND duration_ms < 5000" 3
    assert_sql "SELECT count(*) FROM (SELECT applied_at - lag(applied_at) OVER (ORDER BY ordinal)
        AS gap FROM sealift.applied) g WHERE gap >= interval '0.29 s' AND gap < interval '5 s'" 2
    assert_sql "SELECT count(*) FROM sealift.applied a JOIN sealift.journal j
        ON j.migration_id = a.migration_id AND j.event = 'apply' AND j.at = a.applied_at" 3
    run_apply history --verify
    assert_exit 0
    assert_output --partial 'journal intact: 3 rows'
}

# assert_event_durations: three migration_applied events, each of >= 300 ms.
assert_event_durations() {
    printf '%s\n' "$output" | python3 -c '
import json, sys
ev = [json.loads(l) for l in sys.stdin if l.strip()]
d = [e["duration_ms"] for e in ev if e["event"] == "migration_applied"]
assert len(d) == 3 and all(300 <= x < 5000 for x in d), d'
}

@test "one transaction: durations and times in history rows and events are the server's" {
    sleepy_chain
    bundle m b.sealift

    run_apply apply b.sealift -p release.pub --json
    assert_exit 0
    assert_json_lines
    assert_event_durations
    assert_server_times
}

@test "one transaction per migration: the same truth, and the terminal prints it" {
    sleepy_chain
    bundle m b.sealift

    run_apply apply b.sealift -p release.pub --per-migration
    assert_exit 0
    [ "$(printf '%s\n' "$output" | grep -cE '^\[ *[0-9]/3\] applied 00[123]_[abc] \((3[0-9][0-9]|[4-9][0-9][0-9]|[0-9]{4})\.[0-9] ms\)$')" -eq 3 ]
    assert_server_times
}

@test "a rollback's journal rows carry the server's times" {
    sleepy_chain
    bundle m b.sealift
    must "$APPLY" apply b.sealift -p release.pub

    run_apply rollback b.sealift -p release.pub --to base --json
    assert_exit 0
    # 003 down (0.3 s), then 002 down, then 001 down (0.3 s): each row when its down ended.
    assert_sql "SELECT string_agg(migration_id, ',' ORDER BY seq) FROM (SELECT seq, migration_id,
        at - lag(at) OVER (ORDER BY seq) AS gap FROM sealift.journal WHERE event = 'rollback') g
        WHERE gap >= interval '0.29 s' AND gap < interval '5 s'" 001
    run_apply history --verify
    assert_exit 0
}

# Four migrations: 001 and 002 fine, 003 raises with a detail and a hint on line 3, 004 fine.
failing_chain() {
    mig m 001_a 'CREATE TABLE a (id int);' 'DROP TABLE a;'
    mig m 002_b 'CREATE TABLE b (id int);' 'DROP TABLE b;'
    mig m 003_c "CREATE TABLE c (id int);
-- it fails here
  DO \$\$ BEGIN RAISE EXCEPTION 'no c today' USING ERRCODE = '22023', DETAIL = 'c is closed',
      HINT = 'try tomorrow'; END \$\$;" 'DROP TABLE c;'
    mig m 004_d 'CREATE TABLE d (id int);' 'DROP TABLE d;'
}

@test "--json: a failure in the middle of one transaction undoes the applied events and names the place" {
    failing_chain
    bundle m b.sealift

    run_apply apply b.sealift -p release.pub --json
    assert_exit 4
    assert_json_lines
    printf '%s\n' "$output" | python3 -c '
import json, sys
ev = [json.loads(l) for l in sys.stdin if l.strip()]
names = [(e["event"], e.get("migration")) for e in ev]
assert names == [("migration_applied", "001"), ("migration_applied", "002"),
                 ("rolled_back", "001"), ("rolled_back", "002"), ("failed", "003"),
                 ("journal_head", None)], names
assert ev[-1]["seq"] == 1 and len(ev[-1]["head"]) == 64, ev[-1]
f = ev[-2]
assert "003_c" in f["file"] and f["file"].endswith("up.sql"), f
assert (f["line"], f["column"]) == (3, 3), f
assert f["statement"] == 2 and f["script"] == "up", f
assert f["sqlstate"] == "22023" and f["message"] == "no c today", f
assert f["detail"] == "c is closed" and f["hint"] == "try tomorrow", f
assert f["database_at"] == "base", f'
    assert_tables ''
    assert_no_crash
}

@test "terminal: a failure in one transaction says which applied migrations it undid" {
    failing_chain
    bundle m b.sealift

    run_apply apply b.sealift -p release.pub
    assert_exit 4
    assert_line --regexp '^\[ *1/4\] applied 001_a '
    assert_line --regexp '^ +undone: 001_a \(applied, then a later failure rolled its transaction back\)$'
    assert_line --regexp '^ +undone: 002_b \('
    assert_error 'migration 003_c (up) failed: no c today'
    assert_detail 'c is closed'
    assert_hint 'try tomorrow'

    # One transaction per migration: 001 and 002 are durable, nothing is undone.
    run_apply apply b.sealift -p release.pub --per-migration
    assert_exit 4
    refute_line --partial 'undone'
    assert_applied 001,002
}

@test "history --json: one object per row, ISO 8601 UTC times, whole bundle ids" {
    failing_chain
    rm m/003_c.up.sql m/003_c.down.sql
    bundle m b.sealift
    must "$APPLY" apply b.sealift -p release.pub
    must "$APPLY" rollback b.sealift -p release.pub --to 002_b

    run_apply history --verify --json
    assert_exit 0
    assert_json_lines
    id=$(sql "SELECT bundle_id FROM sealift.applied LIMIT 1")
    printf '%s\n' "$output" | python3 -c '
import json, re, sys
rows = [json.loads(l) for l in sys.stdin if l.strip()]
ev = [r for r in rows if r["type"] == "event"]
assert [r["type"] for r in rows] == ["project"] + ["event"] * 4 + ["verification"], rows
assert [(e["seq"], e["event"], e["migration"], e["ordinal"]) for e in ev] == [
    (1, "apply", "001", 1), (2, "apply", "002", 2), (3, "apply", "004", 3),
    (4, "rollback", "004", 3)], ev
for e in ev:
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", e["at"]), e
    assert e["bundle"] == sys.argv[1] and len(e["bundle"]) == 64, e
assert rows[-1]["verified"] is True, rows[-1]' "$id"
}
