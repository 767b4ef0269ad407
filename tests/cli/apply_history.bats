#!/usr/bin/env bats
# sealift-apply history --verify: the journal is hash-chained, so any edit made outside
# sealift (a changed, deleted, renumbered or removed row, or an applied row the journal does
# not back) makes it exit 1 naming the row or table; an intact journal passes.

bats_require_minimum_version 1.5.0

load apply_helpers

setup_file() { apply_setup_file; }
teardown_file() { apply_teardown_file; }
setup() { apply_setup; }
teardown() { apply_teardown; }

# A journal of five rows: apply 001..003, rollback 003, apply 003.
five_events() {
    three_migrations
    bundle m b.sealift
    must "$APPLY" apply b.sealift -p release.pub
    must "$APPLY" rollback b.sealift -p release.pub --to 002
    must "$APPLY" apply b.sealift -p release.pub
    assert_sql "SELECT string_agg(seq || ' ' || event || ' ' || migration_id, ',' ORDER BY seq)
        FROM sealift.journal" '1 apply 001,2 apply 002,3 apply 003,4 rollback 003,5 apply 003'
}

@test "an intact journal verifies (exit 0, \"journal intact\")" {
    five_events

    run_apply history --verify
    assert_exit 0
    refute_errors
    head=$(sql "SELECT hash FROM sealift.journal WHERE seq = 5")
    assert_line "journal intact: 5 rows, head $head"

    run_apply history --verify --json
    assert_exit 0
    assert_json_lines
    [ "$(json_field verified)" = true ]
    [ "$(json_field verification)" = "\"journal intact: 5 rows, head $head\"" ]

    run_apply history --verify -q
    assert_exit 0
    assert_output ''
}

# Each case: a name, the SQL that tampers, and the text the error must contain.
tamper_cases=(
    "edited detail|UPDATE sealift.journal SET detail = 'x' WHERE seq = 2|journal row 2 (apply 002) was edited: its hash does not match its contents"
    "edited event|UPDATE sealift.journal SET event = 'stamp' WHERE seq = 4|journal row 4 (stamp 003) was edited"
    "edited time|UPDATE sealift.journal SET at = at - interval '1 day' WHERE seq = 1|journal row 1 (apply 001) was edited"
    "deleted row|DELETE FROM sealift.journal WHERE seq = 2|journal row 2 is missing (the next row is 3): rows were deleted or renumbered"
    "deleted first row|DELETE FROM sealift.journal WHERE seq = 1|journal row 1 is missing (the next row is 2)"
    "swapped seq|UPDATE sealift.journal SET seq = -seq WHERE seq IN (2, 3); UPDATE sealift.journal SET seq = 5 + seq WHERE seq IN (-2, -3)|journal row 2 (apply 003) was edited"
    "deleted last row|DELETE FROM sealift.journal WHERE seq = 5|the journal's last rows were removed or added outside sealift: it has 4 rows ending in"
    "added row|INSERT INTO sealift.journal SELECT 6, project, at, event, migration_id, ordinal, chain, bundle_id, bundle_serial, signers, environment, actor, client_host, detail, hash, hash FROM sealift.journal WHERE seq = 5|journal row 6 (apply 003) was edited"
    "edited applied chain|UPDATE sealift.applied SET chain = repeat('0', 64) WHERE migration_id = '002'|applied migration 002 (project demo) is not backed by the journal: the applied table was edited"
    "edited applied id|UPDATE sealift.applied SET migration_id = '009' WHERE migration_id = '003'|applied migration 009 (project demo) is not backed by the journal"
    "deleted applied row|DELETE FROM sealift.applied WHERE migration_id = '003'|the journal records 3 applied migrations but the applied table has 2: rows were deleted from it"
    "inserted applied row|INSERT INTO sealift.applied SELECT project, 4, '004', name, up_source_sha256, down_source_sha256, up_sha256, chain, bundle_id, bundle_serial, signers, environment, how, applied_at, applied_by, client_host, duration_ms FROM sealift.applied WHERE migration_id = '003'|applied migration 004 (project demo) is not backed by the journal"
)

@test "every kind of hand edit makes history --verify exit 1 naming the row or table" {
    local case name tamper want template=$PGDATABASE n=0

    # One intact history, copied for each case: faster than five runs per case.
    five_events
    for case in "${tamper_cases[@]}"; do
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
        # The report still lists what is there.
        assert_line --regexp '^ +seq  at \(UTC\) '

        run_apply history --verify --json
        [ "$status" -eq 1 ] || fail "$name (--json): expected exit 1, got $status"
        assert_json_lines
        [ "$(json_field verified)" = false ] || fail "$name: --json does not say verified false"
        assert_error "$want"
    done
}

@test "an edited checksum in the applied table: status refuses it as drift (history --verify: history_verify.bats)" {
    three_migrations
    bundle m b.sealift
    must "$APPLY" apply b.sealift -p release.pub
    sql "UPDATE sealift.applied SET up_source_sha256 = repeat('0', 64) WHERE migration_id = '002'"

    run_apply status b.sealift -p release.pub
    assert_exit 3
    assert_detail "migration 002_email was applied with up checksum $(printf '0%.0s' {1..64}), but the bundle's is"
    run_apply apply b.sealift -p release.pub
    assert_exit 3
}

@test "history --verify after failures, rollbacks and stamps still verifies" {
    three_migrations
    bundle m b.sealift
    must "$APPLY" stamp b.sealift 001 -p release.pub
    sql "CREATE TABLE users (id int PRIMARY KEY, name text NOT NULL)"
    sql "CREATE TABLE orders (id int)"
    run_apply apply b.sealift -p release.pub --ignore-schema public
    assert_exit 4
    sql "DROP TABLE orders"
    must "$APPLY" apply b.sealift -p release.pub --ignore-schema public
    must "$APPLY" rollback b.sealift -p release.pub --to 001

    run_apply history --verify
    assert_exit 0
    assert_line --regexp '^journal intact: 6 rows, head [0-9a-f]{64}$'
    assert_sql "SELECT string_agg(event, ',' ORDER BY seq) FROM sealift.journal" \
        'stamp,failure,apply,apply,rollback,rollback'
}
