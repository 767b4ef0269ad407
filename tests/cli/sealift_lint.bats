#!/usr/bin/env bats
# sealift lint, and the same findings in check and build: text, JSON and SARIF output,
# "-- sealift:allow" suppressions, --lint and --pg-version, findings signed into the bundle and
# shown by inspect. The rules themselves: tests/unit/test_compiler_lint.c and
# tests/cli/lint_server.bats.
bats_require_minimum_version 1.5.0

load helpers

setup() {
    sealift_setup
    add_migration migrations 20240101000000_orders \
        'CREATE TABLE orders (id bigint PRIMARY KEY, note varchar(10), total int);' \
        'DROP TABLE orders;'
}

# A second migration with the given up SQL (and a down that undoes nothing harmful).
second() {
    add_migration migrations 20240102000000_change "$1" 'SELECT 1;'
}

@test "lint prints FILE:LINE:COL: severity[rule]: message with the lock, then help:" {
    second $'SELECT 1;\n  ALTER TABLE orders ADD COLUMN x float8 DEFAULT random();'
    run_sealift lint
    assert_exit 1
    assert_line --index 0 "migrations/20240102000000_change.up.sql:2:3: error[add-column-rewrite]: ADD COLUMN x with a volatile default rewrites the table and its indexes (ACCESS EXCLUSIVE lock on public.orders blocks reads, writes and DDL)"
    assert_line --index 1 --regexp '^  help: add the column without the default'
    [[ $stderr == *"sealift: 2 migrations: 1 error, 0 warnings, 0 info, 0 allowed"* ]]
}

@test "a chain without findings lints clean: exit 0, nothing on stdout" {
    # Neither takes a lock that blocks writes (SHARE UPDATE EXCLUSIVE).
    second 'ALTER TABLE orders SET (fillfactor = 80); ALTER TABLE orders ALTER COLUMN note SET STATISTICS 500; COMMENT ON TABLE orders IS NULL;'
    run_sealift lint
    assert_exit 0
    assert_output ''
    refute_errors
}

@test "a catalog-only change under a blocking lock is reported as info (blocking-lock), not failed" {
    second 'ALTER TABLE orders ADD COLUMN x int DEFAULT 0; ALTER TABLE orders ALTER COLUMN note TYPE varchar(20); CREATE TRIGGER orders_t BEFORE UPDATE ON orders FOR EACH ROW EXECUTE FUNCTION f();'
    run_sealift lint
    assert_exit 0
    assert_output --partial 'up.sql:1:1: info[blocking-lock]: ADD COLUMN changes only the catalog'
    assert_output --partial '(ACCESS EXCLUSIVE lock on public.orders blocks reads, writes and DDL)'
    assert_output --partial 'info[blocking-lock]: CREATE TRIGGER changes only the catalog'
    assert_output --partial '(SHARE ROW EXCLUSIVE lock on public.orders blocks writes and DDL)'
    assert_output --partial 'help: SET lock_timeout'
    refute_output --partial 'alter-column-type'
    refute_output --partial 'add-column-rewrite'
}

@test "a table created in the same migration is new: no lock finding" {
    second 'CREATE TABLE items (id int, v text); CREATE INDEX items_v ON items (v); UPDATE items SET v = NULL;'
    run_sealift lint
    assert_exit 0
    assert_output ''
}

@test "lint --format json: an array with every field the issue lists, valid JSON" {
    second 'CREATE INDEX orders_total ON orders (total);'
    run_sealift lint --format json
    assert_exit 0
    echo "$output" | jq -e 'length == 1' >/dev/null
    echo "$output" | jq -e '.[0] | .file == "migrations/20240102000000_change.up.sql" and .line == 1
        and .column == 1 and .migration == "20240102000000_change" and .script == "up"
        and .rule == "create-index-concurrently" and .severity == "warning"
        and .relation == "public.orders" and .relation_created_by == "20240101000000_orders"
        and .lock_mode == "SHARE" and .blocks == ["writes", "ddl"] and .rewrites == false
        and .scans == true and .allowed == null and .released == false and (.help | length > 0)
        and (.message | contains("holds its lock for the whole build"))' >/dev/null
}

@test "lint --format sarif: a SARIF 2.1.0 log whose results name rules of the driver" {
    second $'-- sealift:allow cluster orders is small until v3\nCLUSTER orders USING orders_pkey;\nCREATE INDEX orders_total ON orders (total);'
    run_sealift lint --format sarif
    assert_exit 0
    echo "$output" | python3 -c '
import json, sys
log = json.load(sys.stdin)
assert log["version"] == "2.1.0" and "sarif-2.1.0" in log["$schema"]
run, = log["runs"]
driver = run["tool"]["driver"]
assert driver["name"] == "sealift"
ids = [r["id"] for r in driver["rules"]]
assert len(ids) == len(set(ids))
levels = {"none", "note", "warning", "error"}
assert all(r["defaultConfiguration"]["level"] in levels for r in driver["rules"])
res = run["results"]
assert [r["ruleId"] for r in res] == ["cluster", "create-index-concurrently"], res
for r in res:
    assert ids[r["ruleIndex"]] == r["ruleId"] and r["level"] in levels and r["message"]["text"]
    loc = r["locations"][0]["physicalLocation"]
    assert loc["artifactLocation"]["uri"] == "migrations/20240102000000_change.up.sql"
    assert loc["region"]["startLine"] >= 1 and loc["region"]["startColumn"] >= 1
assert res[0]["suppressions"] == [{"kind": "inSource", "justification": "orders is small until v3"}]
assert "suppressions" not in res[1]
'
}

@test "an allow with a reason suppresses its statement's finding; lint text shows the reason" {
    second $'-- sealift:allow create-index-concurrently orders is empty in production until v3\nCREATE INDEX orders_total ON orders (total);'
    run_sealift lint
    assert_exit 0
    assert_line --index 0 --partial 'allowed[create-index-concurrently]: CREATE INDEX'
    assert_line --index 1 '  reason: orders is empty in production until v3'
    run_sealift check
    assert_exit 0
    refute_errors
    [[ $stderr != *create-index-concurrently* ]]
}

@test "an allow in the file header covers every statement of the file" {
    second $'-- sealift:allow create-index-concurrently,update-without-where backfill of a small table\nSELECT 1;\nCREATE INDEX orders_total ON orders (total);\nUPDATE orders SET total = 0;'
    run_sealift lint --format json
    assert_exit 0
    echo "$output" | jq -e 'length == 2 and all(.allowed == "backfill of a small table")' >/dev/null
}

@test "an allow without a reason allows nothing and is an error of its own" {
    second $'SELECT 1;\n-- sealift:allow alter-column-type\nALTER TABLE orders ALTER COLUMN total TYPE bigint;'
    run_sealift lint
    assert_exit 1
    assert_output --partial 'error[alter-column-type]'
    assert_output --partial 'up.sql:2:1: error[allow-without-reason]: "-- sealift:allow alter-column-type" gives no reason, so it allows nothing'
}

@test "an allow that matches nothing, or names no rule, is a warning" {
    second $'SELECT 1;\n-- sealift:allow cluster just in case\nSELECT 2;\n-- sealift:allow no-such-rule because\nSELECT 3;'
    run_sealift lint
    assert_exit 0
    assert_output --partial 'up.sql:2:1: warning[unused-allow]: "-- sealift:allow cluster" matches no finding of its statement'
    assert_output --partial 'up.sql:4:1: warning[unused-allow]: "-- sealift:allow no-such-rule": no such rule'
}

@test "check prints the same findings on stderr and fails on an error (exit 1)" {
    second 'ALTER TABLE orders ALTER COLUMN total TYPE bigint;'
    run_sealift check
    assert_exit 1
    [[ $stderr == *"migrations/20240102000000_change.up.sql:1:1: error[alter-column-type]: ALTER COLUMN total TYPE int8 (from int4) rewrites the table"* ]]
    [[ $stderr == *"  help: add a column of the new type"* ]]
    assert_problems 1
}

@test "warnings do not fail check; --lint error makes them fail, --lint off silences all" {
    second 'ALTER TABLE orders RENAME COLUMN note TO memo;'
    run_sealift check
    assert_exit 0
    [[ $stderr == *"warning[rename-column]"* ]]
    run_sealift check --lint error
    assert_exit 1
    [[ $stderr == *"error[rename-column]"* ]]
    run_sealift check --lint off
    assert_exit 0
    [[ $stderr != *rename-column* ]]
}

@test "--lint warn lets build pass with errors reported as warnings" {
    make_keypair release
    second 'ALTER TABLE orders ALTER COLUMN total TYPE bigint;'
    run_sealift build -s release.key -o a.sealift --project demo
    assert_exit 1
    assert_error '1 problem found; nothing was built'
    [ ! -e a.sealift ]
    run_sealift build -s release.key -o a.sealift --project demo --lint warn
    assert_exit 0
    [[ $stderr == *"warning[alter-column-type]"* ]]
}

@test "--pg-version changes version-dependent rules" {
    second 'ALTER TABLE orders ADD COLUMN x int DEFAULT 0;'
    run_sealift lint
    assert_exit 0
    run_sealift lint --pg-version 10
    assert_exit 1
    assert_output --partial 'before PostgreSQL 11 every default rewrites'
    run_sealift lint --pg-version ten
    assert_usage_error lint '--pg-version must be a PostgreSQL major version'
}

@test "check --json: the chain's figures and every finding" {
    second 'UPDATE orders SET total = 0;'
    run_sealift check --json
    assert_exit 0
    echo "$output" | jq -e '.migrations == 2 and .new == 2 and .errors == 0 and .warnings == 1
        and .ok == true and (.findings | length == 1)
        and .findings[0].rule == "update-without-where"' >/dev/null
}

@test "build signs every finding into the manifest; inspect shows them, text and --json" {
    make_keypair release
    second $'-- sealift:allow add-column-rewrite orders is empty in production until v3\nALTER TABLE orders ADD COLUMN created timestamptz DEFAULT clock_timestamp();\nALTER TABLE orders RENAME COLUMN note TO memo;'
    run_sealift build -s release.key -o a.sealift --project demo
    assert_exit 0
    run_sealift verify -p release.pub a.sealift
    assert_exit 0
    run_sealift inspect a.sealift
    assert_exit 0
    assert_output --partial 'lint findings 2 (1 allowed)'
    assert_line --regexp '^  20240102000000_change  up:2:1  allowed\[add-column-rewrite\]  ACCESS EXCLUSIVE on public\.orders, rewrites the table: ADD COLUMN created'
    assert_output --partial "      allowed: orders is empty in production until v3"
    assert_line --regexp '^  20240102000000_change  up:3:1  warning\[rename-column\] +ACCESS EXCLUSIVE on public\.orders'
    run_sealift inspect --json a.sealift
    assert_exit 0
    echo "$output" | jq -e '.lint_findings == 2 and .migrations[0].findings == [] and (.migrations[1].findings | length == 2)
        and .migrations[1].findings[0].rule == "add-column-rewrite"
        and .migrations[1].findings[0].lock_mode == "ACCESS EXCLUSIVE"
        and .migrations[1].findings[0].rewrites == true
        and .migrations[1].findings[0].relation == "public.orders"
        and .migrations[1].findings[0].relation_created_by == "20240101000000"
        and .migrations[1].findings[0].allowed == "orders is empty in production until v3"' >/dev/null
    # The manifest says version 1.1 only because it has lint records.
    zstd -dc a.sealift | tar -xOf - MANIFEST | head -1 | grep -qx '# sealift-manifest 1.1'
}

@test "a bundle without findings keeps manifest version 1" {
    make_keypair release
    second 'ALTER TABLE orders ALTER COLUMN note SET STATISTICS 500;'
    run_sealift build -s release.key -o a.sealift --project demo
    assert_exit 0
    run_sealift inspect a.sealift
    assert_exit 0
    refute_output --partial 'lint findings'
    zstd -dc a.sealift | tar -xOf - MANIFEST | head -1 | grep -qx '# sealift-manifest 1'
}

@test "errors in released migrations (recorded in sealift.sum) are reported, not enforced" {
    make_keypair release
    second 'ALTER TABLE orders ALTER COLUMN total TYPE bigint;'
    run_sealift build -s release.key -o a.sealift --project demo --lint warn
    assert_exit 0
    # Now both migrations are recorded: check counts the finding, lint shows it as a warning.
    run_sealift check
    assert_exit 0
    [[ $stderr == *"sealift: 1 lint finding in released migrations, not enforced (\"sealift lint\" lists them)"* ]]
    [[ $stderr != *"alter-column-type"* ]]
    run_sealift lint
    assert_exit 0
    assert_output --partial "warning[alter-column-type]: ALTER COLUMN total TYPE int8 (from int4) rewrites the table and its indexes (ACCESS EXCLUSIVE lock on public.orders blocks reads, writes and DDL) [released migration: reported, not enforced]"
    run_sealift lint --format json
    assert_exit 0
    echo "$output" | jq -e '.[0].released == true and .[0].severity == "warning"' >/dev/null
    # --lint error still enforces everything.
    run_sealift check --lint error
    assert_exit 1
}

@test "errors in down scripts are reported, not enforced: a down runs only in a rollback" {
    add_migration migrations 20240102000000_change 'ALTER TABLE orders ALTER COLUMN note TYPE text;' \
        'ALTER TABLE orders ALTER COLUMN note TYPE varchar(10);'
    run_sealift check
    assert_exit 0
    [[ $stderr == *"20240102000000_change.down.sql:1:1: warning[alter-column-type]: ALTER COLUMN note TYPE varchar(10) (from text) rewrites the table and its indexes (ACCESS EXCLUSIVE lock on public.orders blocks reads, writes and DDL) [down script: reported, not enforced]"* ]]
    run_sealift check --lint error
    assert_exit 1
}

@test "a rebuild once the migrations are released gives the same bytes (findings are signed as found)" {
    make_keypair release
    second $'-- sealift:allow alter-column-type orders is tiny\nALTER TABLE orders ALTER COLUMN total TYPE bigint;\nALTER TABLE orders RENAME COLUMN note TO memo;'
    SOURCE_DATE_EPOCH=1767225600 run_sealift build -s release.key -o a.sealift --project demo
    assert_exit 0
    # Both migrations are recorded now: the second build enforces nothing, and signs the same.
    SOURCE_DATE_EPOCH=1767225600 run_sealift build -s release.key -o b.sealift --project demo
    assert_exit 0
    cmp a.sealift b.sealift
    run_sealift inspect --json b.sealift
    echo "$output" | jq -e '[.migrations[1].findings[] | .severity] == ["error", "warning"]' >/dev/null
}

# repeatable NAME SQL: migrations/R__NAME.sql, a repeatable migration (runs after the chain).
repeatable() {
    printf '%s\n' "$2" >"migrations/R__$1.sql"
}

@test "repeatables are linted after the whole chain: the chain's tables are existing to them" {
    repeatable reports $'CREATE OR REPLACE VIEW totals AS SELECT sum(total) FROM orders;\n  CREATE INDEX orders_total ON orders (total);\nCREATE TABLE scratch (a int); CREATE INDEX scratch_a ON scratch (a);\nCREATE TABLE IF NOT EXISTS seen (a int);\nCREATE INDEX seen_a ON seen (a);\n-- sealift:allow create-index-concurrently orders is tiny\nCREATE INDEX orders_note ON orders (note);'
    run_sealift lint
    assert_exit 0
    # orders: the chain created it; scratch: created just before, new; seen: IF NOT EXISTS
    # finds it there (with rows) every time the repeatable runs again.
    assert_line --index 0 "migrations/R__reports.sql:2:3: warning[create-index-concurrently]: CREATE INDEX public.orders_total without CONCURRENTLY holds its lock for the whole build (SHARE lock on public.orders blocks writes and DDL)"
    assert_line --index 2 --regexp '^migrations/R__reports\.sql:5:1: warning\[create-index-concurrently\]: CREATE INDEX public\.seen_a '
    assert_line --index 4 --regexp '^migrations/R__reports\.sql:7:1: allowed\[create-index-concurrently\]: CREATE INDEX public\.orders_note '
    assert_line --index 5 '  reason: orders is tiny'
    refute_output --partial 'scratch'
    [[ $stderr == *"sealift: 1 migration and 1 repeatable: 0 errors, 2 warnings, 0 info, 1 allowed"* ]]
    run_sealift lint --format json
    assert_exit 0
    echo "$output" | jq -e 'length == 3 and (map(.migration) | unique) == ["reports"]
        and all(.[]; .repeatable == true and .script == "up" and .file == "migrations/R__reports.sql")
        and .[0].relation_created_by == "20240101000000_orders"
        and .[1].relation == "public.seen" and .[1].relation_created_by == "reports"
        and .[2].allowed == "orders is tiny"' >/dev/null
    run_sealift lint --format sarif
    assert_exit 0
    echo "$output" | jq -e '.runs[0].results | length == 3
        and .[0].locations[0].physicalLocation.artifactLocation.uri == "migrations/R__reports.sql"
        and .[0].properties.migration == "reports" and .[0].properties.repeatable == true
        and .[2].suppressions[0].justification == "orders is tiny"' >/dev/null
    # check prints the same findings.
    run_sealift check
    assert_exit 0
    [[ $stderr == *"migrations/R__reports.sql:2:3: warning[create-index-concurrently]"* ]]
}

@test "an error in a new repeatable fails check; once built unchanged it is reported, not enforced" {
    make_keypair release
    repeatable widen 'ALTER TABLE orders ALTER COLUMN total TYPE bigint;'
    run_sealift check
    assert_exit 1
    [[ $stderr == *"migrations/R__widen.sql:1:1: error[alter-column-type]"* ]]
    run_sealift build -s release.key -o a.sealift --project demo --lint warn
    assert_exit 0
    # sealift.sum records it as it is now: like a released migration.
    run_sealift check
    assert_exit 0
    [[ $stderr == *"sealift: 1 lint finding in released migrations and repeatables sealift.sum records unchanged, not enforced"* ]]
    run_sealift lint
    assert_exit 0
    assert_output --partial "[unchanged repeatable: reported, not enforced]"
    # Edited, it runs again: enforced again.
    repeatable widen $'SELECT 1;\nALTER TABLE orders ALTER COLUMN total TYPE bigint;'
    run_sealift check
    assert_exit 1
    [[ $stderr == *"migrations/R__widen.sql:2:1: error[alter-column-type]"* ]]
}

@test "build signs a repeatable's findings (manifest 1.4); inspect shows them, text and --json" {
    make_keypair release
    repeatable reports $'SELECT 1;\n-- sealift:allow create-index-concurrently orders is tiny\nCREATE INDEX orders_note ON orders (note);\nCREATE INDEX orders_total ON orders (total);'
    run_sealift build -s release.key -o a.sealift --project demo
    assert_exit 0
    run_sealift verify -p release.pub a.sealift
    assert_exit 0
    zstd -dc a.sealift | tar -xOf - MANIFEST | head -1 | grep -qx '# sealift-manifest 1.4'
    run_sealift inspect a.sealift
    assert_exit 0
    assert_line --regexp '^format +sealift bundle v1\.4, '
    assert_output --partial 'lint findings 2 (1 allowed)'
    assert_line --regexp '^  repeatable reports  up:3:1  allowed\[create-index-concurrently\]  SHARE on public\.orders, scans the table: CREATE INDEX public\.orders_note'
    assert_output --partial "      allowed: orders is tiny"
    assert_line --regexp '^  repeatable reports  up:4:1  warning\[create-index-concurrently\] +SHARE on public\.orders'
    run_sealift inspect --json a.sealift
    assert_exit 0
    echo "$output" | jq -e '.lint_findings == 2 and .migrations[0].findings == []
        and (.repeatables[0].findings | length == 2)
        and .repeatables[0].findings[0].rule == "create-index-concurrently"
        and .repeatables[0].findings[0].lock_mode == "SHARE"
        and .repeatables[0].findings[0].relation_created_by == "20240101000000"
        and .repeatables[0].findings[0].allowed == "orders is tiny"
        and .repeatables[0].findings[1].line == 4 and .repeatables[0].findings[1].allowed == null' >/dev/null
}

@test "a repeatable without findings keeps its bundle at manifest version 1.2" {
    make_keypair release
    repeatable views 'CREATE OR REPLACE VIEW totals AS SELECT sum(total) FROM orders;'
    run_sealift build -s release.key -o a.sealift --project demo
    assert_exit 0
    zstd -dc a.sealift | tar -xOf - MANIFEST | head -1 | grep -qx '# sealift-manifest 1.2'
    run_sealift inspect --json a.sealift
    echo "$output" | jq -e '.lint_findings == 0 and .repeatables[0].findings == []' >/dev/null
}

@test "a chain with problems is not linted: what follows a refused script would be misjudged" {
    add_migration migrations 20240102000000_change 'CREATE TABLE t (id int); SELEC 1;' \
        'DROP TABLE t;'
    run_sealift check
    assert_exit 1
    assert_problems 1
    [[ $stderr != *"drop-table"* ]]
    run_sealift lint
    assert_exit 1
    assert_output ''
    assert_error '1 problem found in the chain itself (see "sealift check")'
}

@test "lint: bad --format and unknown options are usage errors (exit 2)" {
    run_sealift lint --format xml
    assert_usage_error lint '--format must be text, json or sarif'
    run_sealift lint --frobnicate
    assert_exit 2
    run_sealift lint --lint off
    assert_usage_error lint '--lint off leaves nothing to do'
    run_sealift check --lint maybe
    assert_usage_error check '--lint must be error, warn or off'
}
