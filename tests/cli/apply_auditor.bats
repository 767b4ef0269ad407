#!/usr/bin/env bats
# The auditor's journal recipe, taken from the README as it stands (its psql query and its
# "audit-journal" script) and run with psql and standard tools only: on a good database with
# the witness file the applier kept, on a journal a DBA edited and re-hashed (the chain holds,
# the witness does not), on one cut short, and on a meta head that lies.

bats_require_minimum_version 1.5.0

load apply_helpers

setup_file() { apply_setup_file; }
teardown_file() { apply_teardown_file; }
setup() {
    apply_setup
    readme_block '^#### The journal, re-checked with psql' sql >journal.sql
    readme_block '^#### The journal, re-checked with psql' sh >audit-journal
    grep -q 'pg_temp.f(prev_hash)' journal.sql || fail "README psql block not found"
    grep -q 'witness' audit-journal || fail "README audit-journal block not found"
}
teardown() { apply_teardown; }

# readme_block HEADING_REGEX LANG: the first ```LANG block after the heading, as it stands.
readme_block() {
    awk -v h="$1" -v fence="\`\`\`$2" '$0 ~ h { on = 1 } on && /^```$/ && open { exit }
        on && open { print } on && $0 == fence { open = 1 }' "$BATS_TEST_DIRNAME/../../README.md"
}

# audited: apply, roll back and apply again, each time appending the head to w.txt: 5
# journal rows (001, 002; 003; rollback 003; 003), heads witnessed at rows 2, 3, 4 and 5.
audited() {
    three_migrations
    bundle m b.sealift
    must "$APPLY" apply b.sealift -p release.pub --to 002 --witness w.txt
    must "$APPLY" apply b.sealift -p release.pub --witness w.txt
    must "$APPLY" rollback b.sealift -p release.pub --to 002 --witness w.txt
    must "$APPLY" apply b.sealift -p release.pub --witness w.txt
}

# A DBA's rewrite: recompute every row's hash and link from the README's own description, so
# that the chain is whole again after an edit (25 lines of SQL, no sealift needed).
rehash() {
    sql "CREATE FUNCTION pg_temp.f(text) RETURNS text LANGUAGE sql AS
        \$f\$SELECT CASE WHEN \$1 IS NULL THEN '-;' ELSE octet_length(\$1) || ':' || \$1 || ';' END\$f\$;
    DO \$\$
    DECLARE r record; prev text := repeat('0', 64); h text;
    BEGIN
        FOR r IN SELECT seq FROM sealift.journal ORDER BY seq LOOP
            UPDATE sealift.journal SET prev_hash = prev WHERE seq = r.seq;
            SELECT encode(sha256(convert_to('sealift-journal-1;' || pg_temp.f(seq::text)
                || pg_temp.f(project) || pg_temp.f(to_char(at AT TIME ZONE 'UTC',
                    'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')) || pg_temp.f(event)
                || pg_temp.f(migration_id) || pg_temp.f(ordinal::text) || pg_temp.f(chain)
                || pg_temp.f(bundle_id) || pg_temp.f(bundle_serial::text) || pg_temp.f(signers)
                || pg_temp.f(environment) || pg_temp.f(actor) || pg_temp.f(client_host)
                || pg_temp.f(detail) || pg_temp.f(prev_hash)
                || coalesce(octet_length(checksums) || ':' || checksums || ';', ''), 'UTF8')), 'hex')
                INTO h FROM sealift.journal WHERE seq = r.seq;
            UPDATE sealift.journal SET hash = h WHERE seq = r.seq;
            prev := h;
        END LOOP;
        UPDATE sealift.meta SET value = prev WHERE key = 'journal_head';
    END \$\$"
}

@test "the README's journal recipe passes on a good database with its witness file" {
    audited
    run sh audit-journal journal.sql w.txt
    assert_success
    assert_output "journal: 5 rows checked, 4 witnessed heads"
    # It checks what sealift checks.
    run_apply history --verify --witness w.txt
    assert_exit 0
}

@test "a re-hashed journal passes the chain check and fails the witness, with psql alone" {
    audited
    # The DBA turns apply 002 into a stamp, in the journal and the applied table.
    sql "UPDATE sealift.journal SET event = 'stamp' WHERE seq = 2"
    run sh audit-journal journal.sql w.txt
    assert_failure
    assert_line --regexp '^2 f t$'
    assert_line 'journal: the rows above do not chain'

    rehash
    run sh audit-journal journal.sql /dev/null
    assert_success
    run sh audit-journal journal.sql w.txt
    assert_failure
    refute_line 'journal: the rows above do not chain'
    # Every head witnessed at or after the edit differs (rows 2 to 5).
    for seq in 2 3 4 5; do
        assert_line --regexp "^journal row $seq: [0-9a-f]{64}, witness: [0-9a-f]{64}\$"
    done
    assert_line "journal: 5 rows checked, 4 witnessed heads"
    run_apply history --verify --witness w.txt
    assert_exit 1
}

@test "a journal cut short and a lying head: the recipe says which" {
    audited
    sql "DELETE FROM sealift.journal WHERE seq = 5"
    run sh audit-journal journal.sql w.txt
    assert_failure
    assert_line "journal: meta's journal_head is not the last row's hash"
    assert_line --regexp '^journal row 5: missing, witness: [0-9a-f]{64}$'
    assert_line "journal: 4 rows checked, 4 witnessed heads"
    # The rows left chain: only the head and the witness tell.
    refute_line 'journal: the rows above do not chain'
    # A head that names another row: caught, even with every row intact.
    sql "UPDATE sealift.meta SET value = repeat('a', 64) WHERE key = 'journal_head'"
    run sh audit-journal journal.sql /dev/null
    assert_failure
    assert_output "journal: meta's journal_head is not the last row's hash
journal: 4 rows checked, 0 witnessed heads"
}
