#!/usr/bin/env bats
# apply_diag.bats: how a server's error reaches the operator (issue 19 §3): a DETAIL or HINT
# of several lines keeps its lines, each after the first indented under the text, instead of
# being run together into one long line; --json keeps them joined by newlines.

bats_require_minimum_version 1.5.0
load apply_helpers

setup_file() { apply_setup_file; }
teardown_file() { apply_teardown_file; }
setup() { apply_setup; }
teardown() { apply_teardown; }

@test "a DETAIL and HINT of several lines keep their lines, indented" {
    mig m 001_boom "DO \$\$ BEGIN RAISE EXCEPTION 'boom' USING DETAIL = E'first line\\nsecond line', HINT = E'hint one\\nhint two'; END \$\$;" 'SELECT 1;'
    bundle m b.bundle
    run --separate-stderr "$APPLY" apply b.bundle -p release.pub
    assert_equal "$status" 4
    printf '%s\n' "$stderr" | grep -qxF 'sealift-apply: detail: first line' || fail "stderr: $stderr"
    printf '%s\n' "$stderr" | grep -qxF '                       second line' || fail "stderr: $stderr"
    printf '%s\n' "$stderr" | grep -qxF 'sealift-apply: hint: hint one' || fail "stderr: $stderr"
    printf '%s\n' "$stderr" | grep -qxF '                     hint two' || fail "stderr: $stderr"
    [[ "$stderr" != *"first line second line"* ]] || fail "the lines were joined: $stderr"
}
