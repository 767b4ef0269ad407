#!/usr/bin/env bats
# Bundle expiry (build --expires), the applier's refusal of an expired bundle (exit 1), the
# --allow-expired override (journaled with its reason), a host clock behind the database's
# journal (exit 3, naming both times), and the journal head every writing command prints
# (history --verify --expect-head).
#
# Time is never faked: a bundle built with SOURCE_DATE_EPOCH in 2020 and --expires 1d expired
# long ago by the real clock; a journal event in 2099 is written by hand, as a DBA (or a
# server with a wrong clock) would.

bats_require_minimum_version 1.5.0

load apply_helpers

setup_file() { apply_setup_file; }
teardown_file() { apply_teardown_file; }
setup() { apply_setup; }
teardown() { apply_teardown; }

# expired_bundle OUT: three migrations, built on 2020-01-01, expiring a day later.
expired_bundle() {
    three_migrations
    SOURCE_DATE_EPOCH=1577836800 bundle m "$1" --expires 1d
}

manifest_of() {
    tar -xOf "$1" MANIFEST
}

@test "build --expires writes the expiry into the signed manifest (format 1.3) and its trusted comment" {
    three_migrations
    SOURCE_DATE_EPOCH=1577836800 bundle m b.sealift --expires 90d
    run manifest_of b.sealift
    assert_success
    assert_line --index 0 '# sealift-manifest 1.3'
    assert_line '# expires 2020-03-31T00:00:00Z'
    run bash -c "tar -xOf b.sealift --wildcards 'MANIFEST.*.minisig'"
    assert_output --partial 'expires=2020-03-31T00:00:00Z'
    # A date, and a full UTC time.
    rm -f m/sealift.sum
    SOURCE_DATE_EPOCH=1577836800 bundle m c.sealift --expires 2020-06-30
    run manifest_of c.sealift
    assert_line '# expires 2020-06-30T00:00:00Z'
    rm -f m/sealift.sum
    SOURCE_DATE_EPOCH=1577836800 bundle m d.sealift --expires 2021-02-03T04:05:06Z
    run manifest_of d.sealift
    assert_line '# expires 2021-02-03T04:05:06Z'
}

@test "build --expires refuses malformed values and times not after the build" {
    three_migrations
    for bad in 0d 90 -1d 1y 2020-02-30 2019-12-31 '' 1.5d 'd' 9999999999d; do
        run --separate-stderr env SOURCE_DATE_EPOCH=1577836800 "$SEALIFT" build -d m \
            -s release.key -o x.sealift --project demo --expires "$bad"
        [ "$status" -eq 2 ] || fail "--expires \"$bad\" gave exit $status"
        [[ $stderr == *"--expires"* ]] || fail "no message for \"$bad\": $stderr"
        [ ! -e x.sealift ]
    done
}

@test "a bundle without --expires keeps format 1 and its old trusted comment" {
    three_migrations
    bundle m b.sealift
    run manifest_of b.sealift
    assert_line --index 0 --regexp '^# sealift-manifest 1(\.1)?$'
    refute_output --partial '# expires'
    run bash -c "tar -xOf b.sealift --wildcards 'MANIFEST.*.minisig'"
    refute_output --partial 'expires='
}

@test "verify (both binaries) reports the expiry, and exits 1 once it has passed" {
    three_migrations
    bundle m live.sealift --expires 30d
    run --separate-stderr "$SEALIFT" verify live.sealift -p release.pub
    assert_success
    assert_output --regexp '; expires 20[0-9][0-9]-[0-9-]+T[0-9:]+Z$'
    run --separate-stderr "$APPLY" verify live.sealift -p release.pub --json
    assert_success
    assert_output --regexp '"expires":"20[0-9-]+T[0-9:]+Z"'

    rm -f m/sealift.sum
    SOURCE_DATE_EPOCH=1577836800 bundle m old.sealift --expires 1d
    for bin in "$SEALIFT" "$APPLY"; do
        run --separate-stderr "$bin" verify old.sealift -p release.pub
        assert_failure 1
        assert_output --partial '; expires 2020-01-02T00:00:00Z'
        [[ $stderr == *"error: old.sealift: expired on 2020-01-02T00:00:00Z"* ]] ||
            fail "$bin: $stderr"
    done
}

@test "sign cannot extend the expiry: a co-signed bundle keeps the manifest and its date" {
    expired_bundle b.sealift
    must "$SEALIFT" sign b.sealift -s other.key -o co.sealift
    run manifest_of co.sealift
    assert_line '# expires 2020-01-02T00:00:00Z'
    run --separate-stderr "$SEALIFT" verify co.sealift -p release.pub -p other.pub --threshold 2
    assert_failure 1
    [[ $stderr == *"expired on 2020-01-02T00:00:00Z"* ]]
    # Editing the date in the manifest breaks every signature.
    mkdir x && (cd x && tar -xf ../b.sealift)
    sed -i 's/^# expires 2020-01-02T00:00:00Z$/# expires 2099-01-02T00:00:00Z/' x/MANIFEST
    (cd x && tar --format=ustar --zstd -cf ../edited.sealift MANIFEST MANIFEST.*.minisig \
        $(grep -v '^#' MANIFEST | cut -c67-))
    run --separate-stderr "$APPLY" verify edited.sealift -p release.pub
    assert_failure 1
    refute_output
    [[ $stderr == *"signature"* ]] || fail "$stderr"
}

@test "apply refuses an expired bundle (exit 1) and touches nothing" {
    expired_bundle b.sealift
    run --separate-stderr "$APPLY" apply b.sealift -p release.pub
    assert_failure 1
    [[ $stderr == *"sealift-apply: error: b.sealift: expired on 2020-01-02T00:00:00Z"* ]] || fail "$stderr"
    [[ $stderr == *"--allow-expired"* ]]
    assert_sql "SELECT to_regclass('sealift.journal') IS NULL" t
    # status and plan refuse it too, and --json carries the error object.
    run --separate-stderr "$APPLY" status b.sealift -p release.pub --json
    assert_failure 1
    assert_output --partial '"event":"error","exit_code":1'
    assert_output --partial 'expired on 2020-01-02T00:00:00Z'
}

@test "apply --allow-expired REASON applies and journals the reason" {
    expired_bundle b.sealift
    run --separate-stderr "$APPLY" apply b.sealift -p release.pub --allow-expired 'hotfix INC-42, approved by ops'
    assert_success
    [[ $stderr == *"warning: b.sealift expired on 2020-01-02T00:00:00Z; applying it anyway"* ]] || fail "$stderr"

    # The override is a journal row like any other: the chain still verifies.
    run --separate-stderr "$APPLY" history --verify
    assert_success
    assert_output --partial 'expiry-override'
    # An empty or multi-line reason is a usage error.
    run --separate-stderr "$APPLY" apply b.sealift -p release.pub --allow-expired ''
    assert_failure 2
    run --separate-stderr "$APPLY" apply b.sealift -p release.pub --allow-expired $'a\nb'
    assert_failure 2
}

@test "a host clock earlier than the journal's newest event is refused (exit 3, both times)" {
    three_migrations
    bundle m first.sealift
    must "$APPLY" apply first.sealift -p release.pub
    # The newest event is now in 2099: the host's clock runs behind the database.
    sql "UPDATE sealift.journal SET at = '2099-05-06 07:08:09+00' WHERE seq = (SELECT max(seq) FROM sealift.journal)"
    mig m 004_more 'CREATE TABLE more (id int);' 'DROP TABLE more;'
    bundle m exp.sealift --expires 30d
    run --separate-stderr "$APPLY" apply exp.sealift -p release.pub
    assert_failure 3
    [[ $stderr == *"the host clock ("*"Z) is earlier than the newest event in the journal (2099-05-06T07:08:09Z)"* ]] || fail "$stderr"
    assert_sql "SELECT count(*) FROM sealift.applied" 3
    # A bundle that does not expire does not need the clock.
    rm -f m/sealift.sum
    bundle m noexp.sealift
    run --separate-stderr "$APPLY" apply noexp.sealift -p release.pub
    assert_success
}

@test "every command that writes the journal prints its new head; --expect-head checks it" {
    three_migrations
    bundle m b.sealift
    run --separate-stderr "$APPLY" apply b.sealift -p release.pub
    assert_success
    assert_line --regexp '^journal head 3 [0-9a-f]{64}$'
    head3=$(printf '%s\n' "$output" | sed -n 's/^journal head 3 //p')
    assert_sql 'SELECT hash FROM sealift.journal WHERE seq = 3' "$head3"
    # Nothing to do: nothing written, no head line.
    run --separate-stderr "$APPLY" apply b.sealift -p release.pub
    assert_success
    refute_output --partial 'journal head'
    # -q prints nothing; --json emits it as an event.
    run --separate-stderr "$APPLY" rollback b.sealift -p release.pub --to 002 -q
    assert_success
    refute_output
    run --separate-stderr "$APPLY" apply b.sealift -p release.pub --json
    assert_success
    assert_line --regexp '^\{"event":"journal_head","seq":5,"head":"[0-9a-f]{64}"\}$'
    run --separate-stderr "$APPLY" stamp b.sealift 003 -p release.pub
    assert_success

    run --separate-stderr "$APPLY" history --verify --expect-head "$head3"
    assert_success
    assert_output --partial "expected head ${head3:0:16}... found at journal row 3"
    run --separate-stderr "$APPLY" history --verify --expect-head "3:$head3"
    assert_success
    run --separate-stderr "$APPLY" history --verify --expect-head "2:$head3"
    assert_failure 1
    [[ $stderr == *"is at journal row 3, not row 2"* ]] || fail "$stderr"
    run --separate-stderr "$APPLY" history --verify --expect-head "$(printf 'e%.0s' {1..64})"
    assert_failure 1
    [[ $stderr == *"the journal has no row with the expected head eeeeeeeeeeeeeeee..."* ]] || fail "$stderr"
    run --separate-stderr "$APPLY" history --verify --expect-head nothex
    assert_failure 2
    run --separate-stderr "$APPLY" history --expect-head "$head3"
    assert_failure 2
    [[ $stderr == *"--expect-head needs --verify"* ]]
}
