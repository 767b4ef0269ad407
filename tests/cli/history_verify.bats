#!/usr/bin/env bats
# sealift-apply history --verify against the state tables, and the witness file.
#
# The journal's events say what applied, projects and progress must hold: a hand edit of any
# of them (an environment, a max_serial, a checksum) makes --verify exit 1 naming the table,
# row and column. No history at all fails verification too (exit 1), not a silent 0. The hash chain is unkeyed, so a
# journal re-hashed inside the database passes a plain --verify; the heads an operator kept in
# a --witness file outside the database catch it. An auditor can recompute every row's hash
# with psql alone (the recipe below is the README's).

bats_require_minimum_version 1.5.0

load apply_helpers

setup_file() { apply_setup_file; }
teardown_file() { apply_teardown_file; }
setup() { apply_setup; }
teardown() { apply_teardown; }

# The canonical text of journal row j, written out by hand from the README's description (not
# taken from sealift): the prefix, then per field LENGTH:VALUE; or -; for NULL, the time in UTC
# with microseconds, checksums only when not NULL. canon_sql old: without checksums (a history
# made before the column existed).
canon_sql() {
    local e out="'sealift-journal-1;'"
    local fields=(j.seq::text j.project
        "to_char(j.at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"
        j.event j.migration_id j.ordinal::text j.chain j.bundle_id j.bundle_serial::text
        j.signers j.environment j.actor j.client_host j.detail j.prev_hash)
    for e in "${fields[@]}"; do
        out+=" || CASE WHEN $e IS NULL THEN '-;' ELSE octet_length($e)::text || ':' || $e || ';' END"
    done
    [ "${1:-}" = old ] ||
        out+=" || CASE WHEN j.checksums IS NULL THEN '' ELSE octet_length(j.checksums)::text || ':' || j.checksums || ';' END"
    printf '%s' "$out"
}

# apply 001..003 with a bundle bound to "production", then roll 003 back and apply it again.
production_history() {
    three_migrations
    bundle m b.sealift --env production
    must "$APPLY" apply b.sealift -p release.pub "$@"
    must "$APPLY" rollback b.sealift -p release.pub --to 002 "$@"
    must "$APPLY" apply b.sealift -p release.pub "$@"
}

# Each case: a name, the SQL a DBA runs by hand, and the error line history --verify must print.
state_cases=(
    "environment|UPDATE sealift.projects SET environment = 'staging'|sealift.projects row demo: column environment is \"staging\", but the journal bound the project to \"production\": the projects table was edited"
    "unbound environment|UPDATE sealift.projects SET environment = NULL|sealift.projects row demo: column environment is NULL, but the journal bound the project to \"production\""
    "max_serial|UPDATE sealift.projects SET max_serial = 1|sealift.projects row demo: column max_serial is 1, but the highest serial the journal recorded is 3: the projects table was edited"
    "deleted project|DELETE FROM sealift.projects|sealift.projects has no row for project demo, which the journal records: the row was deleted"
    "up_source_sha256|UPDATE sealift.applied SET up_source_sha256 = repeat('0', 64) WHERE migration_id = '002'|applied migration 002 (project demo) is not backed by the journal: the applied table was edited: sealift.applied column up_source_sha256 is \"$(printf '0%.0s' {1..64})\", journal row 2 recorded \""
    "down_source_sha256|UPDATE sealift.applied SET down_source_sha256 = NULL WHERE migration_id = '001'|sealift.applied column down_source_sha256 is NULL, journal row 1 recorded \""
    "up_sha256|UPDATE sealift.applied SET up_sha256 = repeat('a', 64) WHERE migration_id = '003'|sealift.applied column up_sha256 is \"$(printf 'a%.0s' {1..64})\", journal row 5 recorded \""
    "bundle_id|UPDATE sealift.applied SET bundle_id = repeat('b', 64) WHERE migration_id = '001'|applied migration 001 (project demo) is not backed by the journal: the applied table was edited: sealift.applied column bundle_id is"
    "bundle_serial|UPDATE sealift.applied SET bundle_serial = 9 WHERE migration_id = '001'|sealift.applied column bundle_serial is \"9\", journal row 1 recorded \"3\""
    "how|UPDATE sealift.applied SET how = 'stamped' WHERE migration_id = '002'|sealift.applied column how is \"stamped\", journal row 2 recorded \"applied\""
    "environment of a row|UPDATE sealift.applied SET environment = 'staging' WHERE migration_id = '002'|sealift.applied column environment is \"staging\", journal row 2 recorded \"production\""
    "progress of an applied migration|INSERT INTO sealift.progress VALUES ('demo', '002', 'up', repeat('c', 64), 1, 2, ARRAY[repeat('d', 64)])|sealift.progress row 002 up (project demo) contradicts the journal, which leaves the migration applied: the progress table was edited"
)

@test "each hand edit of a state table makes history --verify exit 1 naming table, row and column" {
    local case name tamper want template=$PGDATABASE n=0

    production_history
    run_apply history --verify
    assert_exit 0
    assert_line --regexp '^journal intact: 5 rows, head [0-9a-f]{64}$'
    for case in "${state_cases[@]}"; do
        IFS='|' read -r name tamper want <<<"$case"
        n=$((n + 1))
        export PGDATABASE=${template}_$n
        must "$SEALIFT_PG_BIN/createdb" -T "$template" "$PGDATABASE"
        sql "$tamper" || fail "$name: the tampering SQL failed"

        run_apply history --verify
        if [ "$status" -ne 1 ]; then
            fail "$name: expected exit 1, got $status; stdout: $output; stderr: $stderr"
        fi
        assert_error "$want"
        refute_line --partial 'journal intact'

        run_apply history --verify --json
        [ "$status" -eq 1 ] || fail "$name (--json): expected exit 1, got $status"
        assert_json_lines
        [ "$(json_field verified)" = false ] || fail "$name: --json does not say verified false"
    done
}

@test "every problem is reported, one error line each" {
    production_history
    sql "UPDATE sealift.projects SET environment = 'staging', max_serial = 1"
    sql "UPDATE sealift.applied SET up_source_sha256 = repeat('0', 64) WHERE migration_id = '002'"

    run_apply history --verify
    assert_exit 1
    assert_error 'sealift.projects row demo: column environment is "staging"'
    assert_error 'sealift.projects row demo: column max_serial is 1'
    assert_error 'sealift.applied column up_source_sha256 is'
    [ "${#stderr_lines[@]}" -eq 3 ] || fail "expected 3 error lines: $stderr"
}

@test "an edited state table that makes apply pass its checks is caught (the issue's bypass)" {
    production_history
    # A DBA unbinds the environment and lowers the serial: a staging bundle of serial 1 would
    # then be accepted by apply. history --verify must see it.
    sql "UPDATE sealift.projects SET environment = 'staging', max_serial = 1"
    run_apply history --verify -q
    assert_exit 1
    assert_error 'column environment is "staging", but the journal bound the project to "production"'
    assert_error 'column max_serial is 1, but the highest serial the journal recorded is 3'
}

@test "no history schema: history --verify exits 1 and says so; history alone still exits 0" {
    run_apply history --verify
    assert_exit 1
    assert_error 'no sealift history in schema "sealift": there is no journal to verify'
    assert_output ''

    run_apply history --verify --json
    assert_exit 1

    run_apply history
    assert_exit 0
    assert_output 'no sealift history in schema "sealift"'

    # A dropped schema is the same: not "intact".
    production_history
    sql "DROP SCHEMA sealift CASCADE"
    run_apply history --verify
    assert_exit 1
    assert_error 'there is no journal to verify'
}

@test "a history created before the journal kept checksums verifies, and is upgraded by apply" {
    three_migrations
    bundle m b.sealift
    must "$APPLY" apply b.sealift -p release.pub --to 002
    # As an older sealift left it: no checksums column, rows hashed without it.
    sql "ALTER TABLE sealift.journal DROP COLUMN checksums"
    rehash_journal old
    run_apply history --verify
    assert_exit 0
    assert_line --regexp '^journal intact: 2 rows'

    must "$APPLY" apply b.sealift -p release.pub
    assert_sql "SELECT count(*) FROM information_schema.columns WHERE table_schema = 'sealift'
        AND table_name = 'journal' AND column_name = 'checksums'" 1
    assert_sql "SELECT string_agg(seq || ':' || (checksums IS NOT NULL), ',' ORDER BY seq)
        FROM sealift.journal" '1:false,2:false,3:true'
    run_apply history --verify
    assert_exit 0
    assert_line --regexp '^journal intact: 3 rows'
}

# Re-hash every journal row from seq 1 on with the canonical SQL expression: what a DBA who
# edited a row would run to make the chain consistent again (and meta's head with it).
# rehash_journal old: without the checksums column.
rehash_journal() {
    sql "DO \$\$
DECLARE
    r record;
    prev text := repeat('0', 64);
    h text;
BEGIN
    FOR r IN SELECT seq FROM sealift.journal ORDER BY seq LOOP
        UPDATE sealift.journal SET prev_hash = prev WHERE seq = r.seq;
        SELECT encode(sha256(convert_to($(canon_sql "${1:-}"), 'UTF8')), 'hex') INTO h
            FROM sealift.journal j WHERE j.seq = r.seq;
        UPDATE sealift.journal SET hash = h WHERE seq = r.seq;
        prev := h;
    END LOOP;
    UPDATE sealift.meta SET value = prev WHERE key = 'journal_head';
END
\$\$"
}

@test "apply, rollback and stamp --witness append the journal's head to a 0600 file" {
    production_history --witness w.txt
    [ "$(stat -c %a w.txt)" = 600 ] || fail "witness file mode is $(stat -c %a w.txt)"
    [ "$(wc -l <w.txt)" -eq 3 ] || fail "expected 3 lines: $(cat w.txt)"
    bundle_id=$(tar -xOf b.sealift MANIFEST | sha256sum | cut -d' ' -f1)
    run cat w.txt
    assert_line --index 0 --regexp "^3 [0-9a-f]{64} [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z $bundle_id\$"
    assert_line --index 1 --regexp "^4 [0-9a-f]{64} "
    assert_line --index 2 --regexp "^5 $(sql "SELECT hash FROM sealift.journal WHERE seq = 5") "

    must "$APPLY" stamp b.sealift 003 -p release.pub --witness w.txt
    [ "$(wc -l <w.txt)" -eq 4 ] || fail "stamp did not append: $(cat w.txt)"

    run_apply history --verify --witness w.txt
    assert_exit 0
    assert_line --regexp '^journal intact: 5 rows'
    assert_line 'witness: 4 heads of w.txt found in the journal'

    run_apply history --witness w.txt
    assert_exit 2
    assert_error '--witness needs --verify'
    run_apply history --verify --witness missing.txt
    assert_exit 2
    assert_error 'could not check the witness: could not'
    printf 'not a line\n' >>w.txt
    run_apply history --verify --witness w.txt
    assert_exit 2
    assert_error 'w.txt:5: not a witness line ("SEQ HASH TIME BUNDLE")'
}

@test "an unwritable witness is refused before anything runs" {
    three_migrations
    bundle m b.sealift
    mkdir adir
    run_apply apply b.sealift -p release.pub --witness adir
    assert_exit 2
    assert_error 'could not open witness file "adir": Is a directory'
    assert_no_history
}

@test "a journal re-hashed in the database passes plain --verify but fails with --witness" {
    production_history --witness w.txt
    # The DBA's rewrite: apply 002 "was" stamped instead, applied row and journal alike.
    sql "UPDATE sealift.journal SET event = 'stamp' WHERE seq = 2"
    sql "UPDATE sealift.applied SET how = 'stamped' WHERE migration_id = '002'"
    run_apply history --verify
    assert_exit 1
    assert_error 'journal row 2 (stamp 002) was edited'

    rehash_journal
    run_apply history --verify
    assert_exit 0
    assert_line --regexp '^journal intact: 5 rows'

    run_apply history --verify --witness w.txt
    assert_exit 1
    assert_error_regex 'journal row 3 differs from its witness \(w\.txt line 1\): its hash is [0-9a-f]{16}\.\.\., the witness recorded [0-9a-f]{16}\.\.\.: the journal was rewritten$'
    assert_error 'journal row 5 differs from its witness (w.txt line 3)'
    refute_line --partial 'journal intact'

    run_apply history --verify --witness w.txt --json
    assert_exit 1
    [ "$(json_field verified)" = false ]

    # A journal cut short: the witnessed row is missing.
    sql "DELETE FROM sealift.journal WHERE seq = 5; UPDATE sealift.meta SET value = '4' WHERE key = 'journal_rows'"
    rehash_journal
    run_apply history --verify --witness w.txt
    assert_exit 1
    assert_error 'journal row 5, witnessed in w.txt line 3, is missing: the journal was cut short or renumbered'
}

@test "auditor: every journal row's hash and chain recomputed with psql alone; bundle id with sha256sum" {
    production_history
    # Each row: its hash over the canonical text, and prev_hash the previous row's hash.
    assert_sql "SELECT count(*) FROM sealift.journal j WHERE j.hash = encode(sha256(convert_to($(canon_sql), 'UTF8')), 'hex')
        AND j.prev_hash = coalesce((SELECT p.hash FROM sealift.journal p WHERE p.seq = j.seq - 1), repeat('0', 64))" 5
    assert_sql "SELECT value = (SELECT hash FROM sealift.journal ORDER BY seq DESC LIMIT 1) FROM sealift.meta WHERE key = 'journal_head'" t
    # The bundle id is the SHA-256 of the MANIFEST member.
    assert_sql "SELECT DISTINCT bundle_id FROM sealift.journal" "$(tar -xOf b.sealift MANIFEST | sha256sum | cut -d' ' -f1)"
    # The checksums an apply event records are the applied row's.
    assert_sql "SELECT count(*) FROM sealift.applied a JOIN sealift.journal j ON j.seq = (SELECT max(seq)
        FROM sealift.journal k WHERE k.migration_id = a.migration_id AND k.event = 'apply')
        WHERE j.checksums = 'up_source_sha256=' || a.up_source_sha256 || ' down_source_sha256=' ||
        coalesce(a.down_source_sha256, '-') || ' up_sha256=' || a.up_sha256" 3
    # And a changed row no longer matches its hash.
    sql "UPDATE sealift.journal SET detail = 'x' WHERE seq = 2"
    assert_sql "SELECT string_agg(seq::text, ',') FROM sealift.journal j WHERE j.hash <> encode(sha256(convert_to($(canon_sql), 'UTF8')), 'hex')" 2
}

@test "co-signers whose keys were not given are recorded as not verified, and shown by history" {
    three_migrations
    bundle m b.sealift
    must "$SEALIFT" sign b.sealift -s other.key -o co.sealift
    kid=$(key_id release.pub)
    oid=$(key_id other.pub)

    must "$APPLY" apply co.sealift -p release.pub --to 001
    assert_sql "SELECT signers FROM sealift.journal WHERE seq = 1" "$kid (not verified here: $oid)"
    assert_sql "SELECT signers FROM sealift.applied WHERE migration_id = '001'" \
        "$kid (not verified here: $oid)"
    must "$APPLY" apply co.sealift -p release.pub -p other.pub --to 002
    # Both verified, in the bundle's signature order.
    assert_sql "SELECT signers IN ('$kid,$oid', '$oid,$kid') FROM sealift.journal WHERE seq = 2" t
    # A bundle signed only by the release key records that key alone.
    must "$APPLY" apply b.sealift -p release.pub -p other.pub
    assert_sql "SELECT signers FROM sealift.journal WHERE seq = 3" "$kid"

    run_apply history
    assert_exit 0
    assert_line --regexp "^ +1  .*  apply +001 .*  $kid \\(not verified here: $oid\\)  postgres@"
    # The signers column is as wide as its longest cell: "by" starts at one offset on every row.
    assert_line --regexp "^ +2  .*  apply +002 .*  ($kid,$oid|$oid,$kid) +postgres@"
    printf '%s\n' "$output" | awk '/postgres@/ { at[index($0, "postgres@")] = 1 }
        END { n = 0; for (k in at) n++; exit n != 1 }' ||
        fail "the \"by\" column does not start at one offset: $output"
    run_apply history --json
    assert_output --partial "\"signers\":\"$kid (not verified here: $oid)\""
    run_apply history --verify
    assert_exit 0
}

# The README's psql block, as it stands there.
readme_journal_sql() {
    local readme=$BATS_TEST_DIRNAME/../../README.md
    awk '/^#### The journal, re-checked with psql/ { on = 1 } on && /^```$/ && open { exit }
        on && open { print } on && /^```sql$/ { open = 1 }' "$readme"
}

@test "auditor: the README's psql block recomputes every journal row and finds an edited one" {
    production_history
    readme_journal_sql >check.sql
    grep -q 'pg_temp.f(prev_hash)' check.sql || fail "README block not found: $(cat check.sql)"

    run "$SEALIFT_PG_BIN/psql" -XAtq -v ON_ERROR_STOP=1 -F ' ' -f check.sql
    [ "$status" -eq 0 ] || fail "psql failed: $output"
    assert_output "$(printf '1 t t\n2 t t\n3 t t\n4 t t\n5 t t')"

    sql "UPDATE sealift.journal SET checksums = replace(checksums, 'up_sha256=', 'up_sha256=0') WHERE seq = 2"
    run "$SEALIFT_PG_BIN/psql" -XAtq -v ON_ERROR_STOP=1 -F ' ' -f check.sql
    assert_line --index 1 '2 f t'
    assert_line --index 2 '3 t t'
}
