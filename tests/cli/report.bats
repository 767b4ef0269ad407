#!/usr/bin/env bats
# sealift-apply report: the auditor's report of a database, as one self-contained HTML file
# read in a real browser (headless Chromium: the DOM it builds, a screenshot, and the network
# requests it makes, which must be none), and its JSON twin checked with jq against the
# fields docs/report.md documents.
#
# Chromium is the Debian package "chromium"; when it is missing and we are root, the suite
# installs it with apt-get (as the fleet suite installs Ansible). It never skips in CI.

bats_require_minimum_version 1.5.0

load apply_helpers

# Chromium's background services (updates, time, accounts) make requests of their own; only
# the page's requests count. A request the page made carries its network isolation key, which
# for a file opened from disk starts with "file://".
CHROMIUM_FLAGS=(--headless --no-sandbox --disable-gpu --no-first-run --disable-extensions
    --disable-background-networking --disable-component-update --disable-sync
    --host-resolver-rules="MAP * ~NOTFOUND")

setup_file() {
    apply_setup_file || return 1
    command -v chromium >/dev/null 2>&1 && command -v jq >/dev/null 2>&1 && return 0
    if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
        echo "chromium and jq are needed and cannot be installed (not root, or no apt-get)" >&2
        return 1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        -o DPkg::Lock::Timeout=300 chromium jq >/dev/null 2>&1 || {
        DEBIAN_FRONTEND=noninteractive apt-get update -o DPkg::Lock::Timeout=300 >/dev/null 2>&1
        DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
            -o DPkg::Lock::Timeout=300 chromium jq >/dev/null 2>&1
    } || {
        echo "could not install chromium and jq with apt-get" >&2
        return 1
    }
}
teardown_file() { apply_teardown_file; }
setup() { apply_setup; }
teardown() { apply_teardown; }

# browse FILE ACTION...: run Chromium on FILE from disk with a fresh profile and a net log
# (net.json); ACTION is --dump-dom or --screenshot=PNG. Its stdout in browse.out.
browse() {
    local file=$1
    shift
    rm -rf profile net.json
    timeout 120 chromium "${CHROMIUM_FLAGS[@]}" --user-data-dir="$PWD/profile" \
        --log-net-log="$PWD/net.json" "$@" "file://$PWD/$file" >browse.out 2>browse.err ||
        fail "chromium failed on $file: $(tail -5 browse.err)"
}

# The URLs the page itself requested (not file:), one a line, from net.json.
page_requests() {
    jq -r '.constants.logEventTypes.URL_REQUEST_START_JOB as $t | .events[]
        | select(.type == $t and ((.params.network_isolation_key // "") | startswith("file://")))
        | .params.url | select(startswith("file:") | not)' net.json
}

# A history with every kind of event: apply 001 (bundle co-signed by a key the report is not
# given), a failure of 003 whose error quotes HTML, apply 002..003, a rollback of 003 and its
# re-apply. 002 carries an allowed lint finding whose reason is HTML-looking text.
audited_history() {
    mig m 001_users "CREATE TABLE users (id int PRIMARY KEY, name text NOT NULL);
INSERT INTO users SELECT g, 'u' || g FROM generate_series(1, 50) g;" 'DROP TABLE users;'
    mig m 002_token "-- sealift:allow add-column-rewrite <b>users</b> & \"friends\" are tiny until v3
ALTER TABLE users ADD COLUMN token uuid DEFAULT gen_random_uuid();" \
        'ALTER TABLE users DROP COLUMN token;'
    mig m 003_orders "CREATE TABLE orders (id int PRIMARY KEY, note text);
SELECT '<img src=x onerror=alert(1)>'::int;" 'DROP TABLE orders;'
    bundle m bad.sealift --env production
    must "$SEALIFT" sign bad.sealift -s other.key
    must "$APPLY" apply bad.sealift -p release.pub --to 001
    run_apply apply bad.sealift -p release.pub
    assert_exit 4
    # The fixed 003, shipped as a new bundle.
    mig m 003_orders 'CREATE TABLE orders (id int PRIMARY KEY, note text);' 'DROP TABLE orders;'
    rebuild m b.sealift --env production --provenance
    must "$APPLY" apply b.sealift -p release.pub
    must "$APPLY" rollback b.sealift -p release.pub --to 002
    must "$APPLY" apply b.sealift -p release.pub
}

@test "the HTML report, read in headless Chromium: every event, migration and key; no request" {
    audited_history
    run_apply report b.sealift -p release.pub -o report.html
    assert_exit 0
    assert_output ''
    refute_errors
    release=$(key_id release.pub)
    other=$(key_id other.pub)

    # No external resource by construction: no URL in any src or href, a CSP forbidding any.
    run grep -Eio '(src|href)="?(https?:)?//' report.html
    assert_failure
    grep -q "Content-Security-Policy\" content=\"default-src 'none'" report.html ||
        fail "no Content-Security-Policy"
    run grep -ci '<script' report.html
    assert_output 0

    browse report.html --dump-dom
    dom=$(cat browse.out)
    [[ $dom == *"Verified: journal intact"* ]] || fail "no verdict in the DOM"
    for want in 001_users 002_token 003_orders "$release" "$other" "(not verified)" \
        rollback failure production 'ALTER TABLE users ADD COLUMN token uuid' \
        'Provenance: in-toto Statement' 'https://slsa.dev/provenance/v1'; do
        [[ $dom == *"$want"* ]] || fail "the rendered page lacks \"$want\""
    done
    # Text from the database and the bundle arrives as text, never as markup.
    [[ $dom == *'&lt;b&gt;users&lt;/b&gt; &amp; "friends" are tiny until v3'* ]] ||
        fail "the allow reason is not shown escaped"
    [[ $dom == *'&lt;img src=x onerror=alert(1)&gt;'* ]] || fail "the failure's detail is not escaped"
    [[ $dom != *'<img src="x"'* && $dom != *'<b>users</b>'* ]] || fail "database text became markup"
    # One row per journal event, in the events table.
    rows=$(printf '%s' "$dom" | grep -o '<tr class="event-' | wc -l)
    assert_equal "$rows" "$(sql 'SELECT count(*) FROM sealift.journal')"
    run page_requests
    assert_success
    assert_output ''

    browse report.html --screenshot="$PWD/shot.png" --window-size=1280,1600
    [ -s shot.png ] || fail "no screenshot"
    run file shot.png
    assert_output --partial 'PNG image data, 1280 x 1600'
    # A blank page compresses to a few kilobytes; a page of tables and text does not.
    size=$(stat -c %s shot.png)
    [ "$size" -gt 40000 ] || fail "screenshot of $size bytes: the page looks empty"

    # Printed (the print stylesheet applies): a PDF of more than one page.
    browse report.html --print-to-pdf="$PWD/report.pdf" --no-pdf-header-footer
    [ "$(head -c 5 report.pdf)" = '%PDF-' ] || fail "no PDF printed"
    pages=$(grep -ao '/Type /Page\b' report.pdf | wc -l)
    [ "$pages" -gt 1 ] || fail "the printed report has $pages page(s)"
    run page_requests
    assert_output ''
}

@test "the network and screenshot checks catch a page that fetches and a page that is blank" {
    # The checks above must be able to fail: a page with a remote image, and an empty one.
    printf '<!DOCTYPE html><html><body><img src="http://report.invalid/x.png"></body></html>\n' \
        >remote.html
    browse remote.html --dump-dom
    run page_requests
    assert_output 'http://report.invalid/x.png'
    printf '<!DOCTYPE html><html><body></body></html>\n' >blank.html
    browse blank.html --screenshot="$PWD/blank.png" --window-size=1280,1600
    size=$(stat -c %s blank.png)
    [ "$size" -le 40000 ] || fail "a blank page's screenshot has $size bytes: the bound is too low"
    browse blank.html --print-to-pdf="$PWD/blank.pdf" --no-pdf-header-footer
    assert_equal "$(grep -ao '/Type /Page\b' blank.pdf | wc -l)" 1
}

@test "report --json: the documented fields, with jq" {
    audited_history
    run_apply report b.sealift -p release.pub --json
    assert_exit 0
    printf '%s\n' "$output" >report.json
    release=$(key_id release.pub)
    other=$(key_id other.pub)
    q() { jq -e "$@" report.json >/dev/null || fail "jq: $* on $(jq -c "[.events[] | [.event, .serial]]" report.json)"; }

    q '.report_format == 1 and (.generator | startswith("sealift-apply "))'
    q '.generated_at | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$")'
    q --arg db "$PGDATABASE" '.database.name == $db and (.database.user | length > 0)
        and (.database.server_version | length > 0)'
    q '.history == {"schema": "sealift", "exists": true, "version": 1}'
    head=$(sql 'SELECT hash FROM sealift.journal ORDER BY seq DESC LIMIT 1')
    n=$(sql 'SELECT count(*) FROM sealift.journal')
    q --arg h "$head" --argjson n "$n" '.verification.intact == true and .verification.problems == []
        and .verification.head == {"seq": $n, "hash": $h} and .verification.witness == null
        and (.verification.verdict | startswith("journal intact"))'
    q '.projects == [{"project": "demo", "environment": "production", "max_serial": 3,
        "applied": 3, "head": "003"}]'
    # Every event, with every documented field.
    q --argjson n "$n" '.events | length == $n'
    q '[.events[] | keys] | unique == [["actor","at","bundle","detail","duration_ms","environment",
        "event","hash","host","migration","ordinal","project","seq","serial","signers"]]'
    q '[.events[].event] == ["apply","failure","apply","apply","rollback","apply"]'
    q --arg r "$release" --arg o "$other" '.events[0].signers == {"verified": [$r],
        "not_verified": [$o], "text": ($r + " (not verified here: " + $o + ")")}'
    q '.events[0].duration_ms >= 0 and .events[1].duration_ms == null'
    q '.events[1].detail | contains("<img src=x onerror=alert(1)>")'
    q '[.events[] | .at | test("^[0-9-]{10}T[0-9:]{8}Z$")] | all'
    q '[.events[] | select(.event == "apply") | .serial] == [3, 3, 3, 3]'
    # The applied rows and their checksums.
    q '[.applied[].migration] == ["001","002","003"]'
    q '[.applied[].checksums | keys] | unique == [["chain","down_source_sha256","up_sha256","up_source_sha256"]]'
    q '.applied[0].checksums.up_source_sha256 | test("^[0-9a-f]{64}$")'
    # The bundle: signatures, SQL, findings with their allow reason, no drift.
    q --arg r "$release" '.bundles[0].signatures == [{"key_id": $r, "trusted": true, "verified": true}]'
    q --arg id "$(tar -xOf b.sealift MANIFEST | sha256sum | cut -d' ' -f1)" '.bundles[0].bundle_id == $id'
    q '.bundles[0].drift == {"drifted": false, "applied": 3, "after_head": 0, "problems": null}'
    q '[.bundles[0].migrations[].state] == ["applied","applied","applied"]'
    q '.bundles[0].provenance | fromjson | .predicateType == "https://slsa.dev/provenance/v1"
        and (.subject | length == 6)'
    q '.bundles[0].migrations[1].scripts[0].sql | contains("ADD COLUMN token uuid")'
    q '.bundles[0].migrations[1].findings[0] | .rule == "add-column-rewrite"
        and .allowed == "<b>users</b> & \"friends\" are tiny until v3" and .script == "up"'
    q --arg r "$release" --arg o "$other" '.trust.keys == [$r] and .trust.threshold == 1
        and (.trust.journal_signers | map(.key_id) | sort) == ([$r, $o] | sort)'
}

@test "a tampered history and drift: the report says so, and exits 1; drift alone exits 3" {
    audited_history
    sql "UPDATE sealift.applied SET up_source_sha256 = repeat('0', 64) WHERE migration_id = '002'"
    run_apply report b.sealift -p release.pub -o report.html --json
    assert_exit 1
    assert_error 'the journal is not intact (the report lists each problem)'
    assert_error 'the database'"'"'s history contradicts 1 of the bundles given (drift)'
    # JSON Lines, as every --json: the report, then the error object of a non-zero exit.
    assert_equal "${#lines[@]}" 2
    jq -e '.event == "error" and .exit_code == 1' <<<"${lines[1]}" >/dev/null || fail "${lines[1]}"
    printf '%s\n' "${lines[0]}" >report.json
    jq -e '.verification.intact == false and (.verification.problems | length > 0)
        and (.verification.problems[0] | contains("sealift.applied column up_source_sha256"))
        and .bundles[0].drift.drifted and .bundles[0].migrations[1].state == "drifted"
        and .bundles[0].migrations[0].state == "applied"' report.json >/dev/null ||
        fail "$(jq -c '.verification.intact, .bundles[0].drift, [.bundles[0].migrations[].state]' report.json)"
    grep -q 'Verification FAILED' report.html || fail "no failed verdict on the page"
    grep -q 'drifted: the database applied another version' report.html || fail "no drift shown"

    # Drift alone (an intact journal, a bundle whose 002 was edited after it ran): exit 3.
    sql "UPDATE sealift.applied SET up_source_sha256 = (SELECT substring(checksums from
        'up_source_sha256=([0-9a-f]{64})') FROM sealift.journal WHERE seq = 3) WHERE migration_id = '002'"
    run_apply report b.sealift -p release.pub -o report.html
    assert_exit 0
    printf '%s\n' "-- edited after release" >>m/002_token.up.sql
    rebuild m edited.sealift --env production
    run_apply report edited.sealift -p release.pub -o report.html
    assert_exit 3
    assert_error 'the database'"'"'s history contradicts 1 of the bundles given (drift)'
    [[ $stderr != *'not intact'* ]] || fail "$stderr"
    grep -q 'Verified: journal intact' report.html || fail "the journal is intact"
}

@test "report of a database without a history: written, and exit 3; a witness is checked" {
    run_apply report -o report.html
    assert_exit 3
    assert_error 'no sealift history in schema "sealift"'
    grep -q 'Not verified: no history' report.html || fail "no verdict"

    three_migrations
    bundle m b.sealift
    must "$APPLY" apply b.sealift -p release.pub --witness w.txt
    run_apply report --witness w.txt --json
    assert_exit 0
    jq -e '.verification.witness == "w.txt" and .verification.intact and .bundles == []
        and .trust.keys == []' <<<"$output" >/dev/null || fail "$output"
    run_apply report --witness missing.txt --json
    assert_exit 2
}

@test "report: usage errors and a rejected bundle" {
    run_apply report b.sealift
    assert_usage_error report 'at least one trusted public key (-p) is required'
    three_migrations
    bundle m b.sealift
    run_apply report b.sealift -p other.pub -o report.html
    assert_exit 1
    [ ! -e report.html ] || fail "a report was written from a rejected bundle"
    run_apply report --bogus
    assert_exit 2
    run_apply report --help
    assert_exit 0
    assert_line --partial 'sealift-apply report [BUNDLE... -p PUBLIC_KEY...] [OPTIONS]'
}
