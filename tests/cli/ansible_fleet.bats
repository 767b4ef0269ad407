#!/usr/bin/env bats
# The sealift.migrate Ansible collection against a fleet on loopback, with real Ansible
# (ansible-core from Debian, installed here when missing; the tests skip only when it cannot
# be installed). One PostgreSQL cluster, one database per host; three hosts: h1 over real
# SSH (an sshd this file starts on 127.0.0.1), h2 over the local connection, h3 over SSH with
# no Python available to Ansible. The tests run in order, each from the fleet's state the one
# before left: first rollout, rerun, check mode, a tampered bundle, a wave that stops.
# The playbook is the collection's example (contrib/ansible/examples/site.yml).

bats_require_minimum_version 1.5.0

load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'

: "${SEALIFT_BIN:=$(cd "$BATS_TEST_DIRNAME/../../bin" 2>/dev/null && pwd)}"
: "${SEALIFT_ROOT:=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)}"
export SEALIFT_BIN SEALIFT_ROOT
PLAYBOOK=$SEALIFT_ROOT/contrib/ansible/examples/site.yml
COLLECTION=$SEALIFT_ROOT/contrib/ansible/ansible_collections/sealift/migrate

# shellcheck source=../lib/pg.bash
. "$BATS_TEST_DIRNAME/../lib/pg.bash"
# shellcheck source=ansible_helpers.bash
. "$BATS_TEST_DIRNAME/ansible_helpers.bash"

setup_file() {
    local why
    # bats 1.8 cannot skip from setup_file: each test skips with the reason instead.
    if ! why=$(fleet_install); then
        export FLEET_SKIP="$why"
        return 0
    fi
    if [ ! -x "$SEALIFT_PG_BIN/initdb" ]; then
        export FLEET_SKIP="PostgreSQL server binaries not found in $SEALIFT_PG_BIN"
        return 0
    fi
    unset DATABASE_URL PGSERVICE PGPASSWORD PGSERVICEFILE PGPASSFILE
    export LC_ALL=C.UTF-8 TZ=UTC
    fleet_setup "$BATS_FILE_TMPDIR/fleet" || return 1
    # Releases: b1 = 001+002, b2 = b1+003, b3 = b2+004; t2 and t3 are b2 and b3 tampered.
    local m=$FLEET_DIR/migrations
    fleet_release "$m" "$FLEET_DIR/b1/shop.sealift" \
        "001_users=CREATE TABLE users (id int PRIMARY KEY, name text);||DROP TABLE users;" \
        "002_email=ALTER TABLE users ADD COLUMN email text;||ALTER TABLE users DROP COLUMN email;" &&
        fleet_release "$m" "$FLEET_DIR/b2/shop.sealift" \
            "003_orders=CREATE TABLE orders (id int PRIMARY KEY, user_id int);||DROP TABLE orders;" &&
        fleet_release "$m" "$FLEET_DIR/b3/shop.sealift" \
            "004_items=CREATE TABLE items (id int PRIMARY KEY);||DROP TABLE items;" &&
        fleet_release "$FLEET_DIR/bad" "$FLEET_DIR/bad.sealift" \
            "001_ok=CREATE TABLE ok (id int);||DROP TABLE ok;" \
            "002_bad=CREATE TABLE fine (id int);
INSERT INTO no_such_table VALUES (1);||DROP TABLE fine;" &&
        "$SEALIFT_PG_BIN/createdb" fleet_direct &&
        # e3: b3 rebuilt after 002 was edited (the drift a hand-edited migration makes).
        cp -R "$m" "$FLEET_DIR/edited" && rm "$FLEET_DIR/edited/sealift.sum" &&
        echo "ALTER TABLE users ADD COLUMN email varchar(200);" \
            >"$FLEET_DIR/edited/002_email.up.sql" &&
        fleet_release "$FLEET_DIR/edited" "$FLEET_DIR/e3/shop.sealift" &&
        mkdir -p "$FLEET_DIR/t2" "$FLEET_DIR/t3" &&
        fleet_tamper "$FLEET_DIR/b2/shop.sealift" "$FLEET_DIR/t2/shop.sealift" &&
        fleet_tamper "$FLEET_DIR/b3/shop.sealift" "$FLEET_DIR/t3/shop.sealift"
}

teardown_file() {
    [ -n "${FLEET_DIR:-}" ] && fleet_teardown
    return 0
}

setup() {
    [ -z "${FLEET_SKIP:-}" ] || skip "$FLEET_SKIP"
    cd "$FLEET_DIR" || fail "no fleet directory"
}

# play INVENTORY_RELEASE [HOST=BUNDLE...] -- [ansible-playbook option...]: run the example
# playbook over the fleet with fresh reports; sets status and output.
play() {
    local release=$1 overrides=()
    shift
    while [ $# -gt 0 ] && [ "$1" != -- ]; do
        overrides+=("$1")
        shift
    done
    [ "${1:-}" = -- ] && shift
    fleet_inventory "$FLEET_DIR/inventory.yml" "$release" "${overrides[@]}"
    # No report directory: the role makes it.
    rm -rf "$FLEET_DIR/reports"
    run ansible-playbook -i "$FLEET_DIR/inventory.yml" "$PLAYBOOK" "$@"
    # The conninfo (h1's carries a password) is never shown, in output or reports.
    refute_output --partial "$FLEET_SECRET"
    if grep -rq -- "$FLEET_SECRET" "$FLEET_DIR/reports"; then
        fail "a report shows the conninfo's password"
    fi
}

# report HOST PYTHON_EXPRESSION: evaluate against the host's report (r = its JSON, a = apply).
report() {
    "$FLEET_PY" -c '
import json, sys
r = json.load(open(sys.argv[1]))
a = r.get("apply") or {}
v = eval(sys.argv[2])
print(*v) if isinstance(v, tuple) else print(v)' "$FLEET_DIR/reports/$1.json" "$2"
}

# recap HOST: the unreachable and failed counts of the host's PLAY RECAP line. (What changed
# is asserted on the task lines, "changed: [h1]": the recap also counts the reports the play
# writes on the controller.)
recap() {
    printf '%s\n' "$output" | sed -n "s/^$1 *: *//p" | grep -o '\(unreachable\|failed\)=[0-9]*' |
        tr '\n' ' ' | sed 's/ *$//'
}

@test "ansible-doc renders every module and the role; the collection's YAML is valid" {
    run ansible-doc sealift.migrate.apply sealift.migrate.status sealift.migrate.verify \
        sealift.migrate.put
    assert_success
    assert_output --partial "SEALIFT.MIGRATE.APPLY"
    assert_output --partial "SEALIFT.MIGRATE.STATUS"
    assert_output --partial "SEALIFT.MIGRATE.VERIFY"
    assert_output --partial "SEALIFT.MIGRATE.PUT"
    refute_output --partial "ERROR"
    run ansible-doc -t role sealift.migrate.deploy
    assert_success
    assert_output --partial "sealift_bundle_src"
    # Every YAML file of the collection and the examples parses (yamllint when Debian's
    # package is there, with the collection's own config; else PyYAML).
    if command -v yamllint >/dev/null 2>&1; then
        run yamllint -c "$SEALIFT_ROOT/contrib/ansible/.yamllint" "$SEALIFT_ROOT/contrib/ansible"
        assert_success
    fi
    run "$FLEET_PY" -c '
import sys, yaml, pathlib
n = 0
for p in sorted(pathlib.Path(sys.argv[1]).rglob("*.y*ml")):
    yaml.safe_load(p.read_text()); n += 1
print(n, "YAML files")' "$SEALIFT_ROOT/contrib/ansible"
    assert_success
    # ansible-test sanity: the tests that need no packages from PyPI (the others, pylint,
    # validate-modules, yamllint..., install their requirements with pip, which this machine
    # cannot reach; ansible-doc and yamllint run above instead).
    if command -v ansible-test >/dev/null 2>&1; then
        run bash -c 'cd "$1" && ansible-test sanity --python "$2" --test compile --test shebang \
            --test symlinks --test line-endings --test no-smart-quotes --test action-plugin-docs \
            --test future-import-boilerplate --test metaclass-boilerplate --test empty-init \
            --test no-illegal-filenames --test use-argspec-type-path --test shellcheck \
            --test no-assert --test no-get-exception --test replace-urlopen --test use-compat-six' \
            _ "$FLEET_DIR/stage/ansible_collections/sealift/migrate" \
            "$("$FLEET_PY" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
        assert_success
        assert_output --partial 'Running sanity test "symlinks"'
        refute_output --partial "ERROR"
    fi
    # The playbook itself passes Ansible's own syntax check.
    fleet_inventory "$FLEET_DIR/inventory.yml" "$FLEET_DIR/b1/shop.sealift"
    run ansible-playbook -i "$FLEET_DIR/inventory.yml" --syntax-check "$PLAYBOOK" \
        "${PLAYBOOK%/*}/status.yml"
    assert_success
}

@test "the binary module answers one JSON object; bad arguments fail with rc 2, db never echoed" {
    printf '{"bundle": "%s", "pubkeys": ["%s"], "db": "password=%s", "bogus": 1,
        "_ansible_module_name": "sealift.migrate.apply"}' "$FLEET_DIR/b1/shop.sealift" \
        "$FLEET_DIR/keys/release.pub" "$FLEET_SECRET" >args.json
    run --separate-stderr "$SEALIFT_BIN/sealift-apply" args.json
    assert_failure 1
    [ -z "$stderr" ] || fail "stderr: $stderr"
    refute_output --partial "$FLEET_SECRET"
    run "$FLEET_PY" -c 'import json,sys; d=json.loads(sys.argv[1]); print(d["failed"], d["rc"], d["msg"])' "$output"
    assert_success
    assert_output "True 2 Unsupported parameters for (sealift.migrate.apply) module: bogus. Supported parameters include: applier, bundle, pubkeys, threshold, db, schema, compat, lock_timeout, to, state, per_migration, statement_lock_timeout, retries, statement_timeout, extra_args."
    # Only a file that holds a JSON object is taken for an arguments file.
    echo hello >plain.txt
    run --separate-stderr "$SEALIFT_BIN/sealift-apply" plain.txt
    assert_failure 2
    assert_equal "${stderr_lines[0]}" 'sealift-apply: error: unknown command "plain.txt"'
    # An arguments file that is not JSON: one JSON answer all the same.
    echo '{"bundle": ' >broken.json
    run --separate-stderr "$SEALIFT_BIN/sealift-apply" broken.json
    assert_failure 1
    run "$FLEET_PY" -c 'import json,sys; d=json.loads(sys.argv[1]); print(d["failed"], d["rc"], d["msg"])' "$output"
    assert_output --regexp '^True 2 arguments file ".*broken.json" is not a JSON object: invalid JSON at byte 12: unexpected end$'
}

# module NAME JSON_MEMBERS: run the binary module as Ansible would (an arguments file);
# sets status and output, and r to the parsed result (Python expression on d).
module() {
    printf '{"_ansible_module_name": "sealift.migrate.%s", "pubkeys": ["%s"], %s}' "$1" \
        "$FLEET_DIR/keys/release.pub" "$2" >args.json
    run --separate-stderr "$SEALIFT_BIN/sealift-apply" args.json
    [ -z "$stderr" ] || fail "the module wrote on stderr: $stderr"
    printf '%s' "$output" >result.json
}

# result PYTHON_EXPRESSION: evaluate against the last module result (d).
result() {
    "$FLEET_PY" -c '
import json, sys
d = json.load(open("result.json"))
v = eval(sys.argv[1])
print(*v) if isinstance(v, tuple) else print(v)' "$1"
}

@test "a failing migration: rc 4, the error object, nothing applied; then rollback by state" {
    local db="\"db\": \"host=$PGHOST port=$PGPORT user=postgres dbname=fleet_direct\""
    module apply "\"bundle\": \"$FLEET_DIR/bad.sealift\", $db"
    assert_failure 1
    assert_equal "$(result 'd["failed"], d["rc"], d["changed"], d["applied"], d["revision_after"]')" \
        "True 4 False [] base"
    assert_equal "$(result 'd["error"]["migration"], d["error"]["sqlstate"]')" "002 42P01"
    run result 'd["msg"]'
    assert_output --regexp '^sealift-apply apply failed \(exit 4\): .*no_such_table'
    assert_equal "$(fleet_revision fleet_direct)" "none"
    # Up to 001 only, then back to base with state=rolled_back.
    module apply "\"bundle\": \"$FLEET_DIR/bad.sealift\", $db, \"to\": \"001_ok\", \"_ansible_diff\": true"
    assert_success
    assert_equal "$(result 'd["changed"], d["applied"], d["revision_after"], d["pending"]')" \
        "True ['001'] 001_ok ['002']"
    assert_equal "$(result 'd["diff"]["after"]')" "revision: 001_ok
pending:
  - 002_bad"
    module apply "\"bundle\": \"$FLEET_DIR/bad.sealift\", $db, \"state\": \"rolled_back\", \"to\": \"base\", \"_ansible_check_mode\": true"
    assert_success
    assert_equal "$(result 'd["changed"], d["would_roll_back"], d["revision_after"]')" "True ['001'] base"
    assert_equal "$(fleet_revision fleet_direct)" "001"
    module apply "\"bundle\": \"$FLEET_DIR/bad.sealift\", $db, \"state\": \"rolled_back\", \"to\": \"base\""
    assert_success
    assert_equal "$(result 'd["changed"], d["rolled_back"], d["revision_after"]')" "True ['001'] base"
    assert_equal "$(fleet_revision fleet_direct)" "none"
    # state=rolled_back needs to; an unknown revision is a usage error.
    module apply "\"bundle\": \"$FLEET_DIR/bad.sealift\", $db, \"state\": \"rolled_back\""
    assert_failure 1
    assert_equal "$(result 'd["rc"], d["msg"]')" "2 state is rolled_back but all of the following are missing: to"
    module apply "\"bundle\": \"$FLEET_DIR/bad.sealift\", $db, \"to\": \"999\""
    assert_equal "$(result 'd["rc"], d["msg"]')" "2 to 999: the bundle has no such migration"
    # verify: a tampered bundle is rc 1 with the reason; a missing one rc 2.
    module verify "\"bundle\": \"$FLEET_DIR/t2/shop.sealift\""
    assert_failure 1
    assert_equal "$(result 'd["rc"]')" "1"
    module verify "\"bundle\": \"$FLEET_DIR/nonexistent.sealift\""
    assert_equal "$(result 'd["rc"]')" "2"
    module verify "\"bundle\": \"$FLEET_DIR/b2/shop.sealift\""
    assert_success
    assert_equal "$(result 'd["verified"], d["changed"], d["bundle_info"]["project"], d["bundle_info"]["head"]')" \
        "True False fleet 003"
}

@test "first rollout applies everywhere (changed), over SSH, locally and without Python" {
    play "$FLEET_DIR/b1/shop.sealift" -- -e sealift_serial=3
    assert_success
    for h in h1 h2 h3; do
        assert_equal "$(recap $h)" "unreachable=0 failed=0"
        # The files were put, the bundle applied: on every host.
        assert_output --partial "changed: [$h] => (item=bin/sealift-apply)"
        assert_output --partial "changed: [$h] => (item=bundles/shop.sealift)"
        assert_output --partial "changed: [$h] => (item=keys/release.pub)"
        assert_equal "$(report $h 'a["changed"], a["applied"], a["revision_before"], a["revision_after"]')" \
            "True ['001', '002'] base 002_email"
        assert_equal "$(report $h 'a["journal_head"]["seq"], a["journal_head"]["event"]')" "2 apply"
        assert_equal "$(fleet_revision fleet_$h)" "001,002"
    done
    # h3 really had no Python: any Python module there would have failed on the interpreter.
    refute_output --partial "/nonexistent/python3"
}

@test "second rollout of the same bundle changes nothing" {
    play "$FLEET_DIR/b1/shop.sealift" -- -e sealift_serial=3
    assert_success
    for h in h1 h2 h3; do
        assert_equal "$(recap $h)" "unreachable=0 failed=0"
        # Same checksums: nothing is sent again.
        assert_output --partial "ok: [$h] => (item=bin/sealift-apply)"
        assert_output --partial "ok: [$h] => (item=bundles/shop.sealift)"
        assert_equal "$(report $h 'a["changed"], a["applied"], a["msg"]')" \
            "False [] nothing to apply: the database is at 002_email"
    done
    # The one change is the report the play writes on the controller (delegated), never a host.
    assert_output --regexp "changed: \[h1 -> localhost\]"
    refute_output --regexp "changed: \[h[123]\]"
}

@test "check mode on a new bundle reports the pending list and changes nothing" {
    # A host never deployed to keeps no trace of a check run either.
    fleet_inventory "$FLEET_DIR/inventory.yml" "$FLEET_DIR/b2/shop.sealift"
    run ansible-playbook -i "$FLEET_DIR/inventory.yml" "$PLAYBOOK" --check --limit h2 \
        -e sealift_serial=3 -e sealift_dir="$FLEET_DIR/hosts/fresh" -e sealift_report_dir=
    assert_success
    [ ! -e "$FLEET_DIR/hosts/fresh" ] || fail "check mode left $FLEET_DIR/hosts/fresh behind"

    play "$FLEET_DIR/b2/shop.sealift" -- -e sealift_serial=3 --check --diff
    assert_success
    for h in h1 h2 h3; do
        assert_equal "$(report $h 'a["changed"], a["would_apply"], a["pending"], a["revision_after"]')" \
            "True ['003'] ['003'] 003_orders"
        assert_equal "$(fleet_revision fleet_$h)" "001,002"
        # The new bundle went to a scratch directory, since removed.
        [ ! -e "$FLEET_DIR/hosts/$h/.check" ] || fail "$h: the check-mode scratch directory stayed"
        [ ! -e "$FLEET_DIR/hosts/$h/bundles/shop.sealift.new" ]
    done
    # Diff mode shows the revision and the pending list before and after.
    assert_output --partial "+revision: 003_orders"
    assert_output --partial "-  - 003_orders"
    # The host's bundle is still b1.
    cmp -s "$FLEET_DIR/hosts/h1/bundles/shop.sealift" "$FLEET_DIR/b1/shop.sealift" ||
        fail "check mode replaced the host's bundle"
}

@test "a tampered bundle fails its host with the exit code and message; the others apply" {
    play "$FLEET_DIR/b2/shop.sealift" h2="$FLEET_DIR/t2/shop.sealift" -- \
        -e sealift_serial=3 -e sealift_max_fail_percentage=50
    assert_failure 2
    assert_equal "$(recap h2)" "unreachable=0 failed=1"
    assert_equal "$(report h2 'a["failed"], a["rc"], a["changed"]')" "True 1 False"
    run report h2 'a["msg"]'
    assert_output --regexp "^sealift-apply verify failed \(exit 1\): .*(checksum|SHA-256|corrupt|decompress)"
    assert_equal "$(fleet_revision fleet_h2)" "001,002"
    for h in h1 h3; do
        assert_equal "$(report $h 'a["changed"], a["applied"], a["revision_after"]')" \
            "True ['003'] 003_orders"
        assert_equal "$(fleet_revision fleet_$h)" "001,002,003"
    done
}

@test "a wave that fails past max_fail_percentage stops the rollout; later waves are untouched" {
    # One host per wave, no failure allowed: h1 applies 004, h2 (tampered) fails, h3 is never
    # reached.
    play "$FLEET_DIR/b3/shop.sealift" h2="$FLEET_DIR/t3/shop.sealift" -- \
        -e sealift_serial=1 -e sealift_max_fail_percentage=0
    assert_failure 2
    # The play ends after the failed wave: h3 is not even in the recap.
    assert_equal "$(recap h2)" "unreachable=0 failed=1"
    refute_output --regexp "(^|\n)h3 +:"
    refute_output --partial "[h3]"
    assert_equal "$(report h1 'a["applied"]')" "['004']"
    assert_equal "$(report h2 'a["failed"], a["rc"]')" "True 1"
    [ ! -e "$FLEET_DIR/reports/h3.json" ] || fail "h3 was touched"
    assert_equal "$(fleet_revision fleet_h1)" "001,002,003,004"
    assert_equal "$(fleet_revision fleet_h2)" "001,002"
    assert_equal "$(fleet_revision fleet_h3)" "001,002,003"
}

@test "status reports revision, pending, drift and the journal head on every host" {
    # Drift on h1: its bundle's 002 is not what the database ran (the migration was edited).
    fleet_inventory "$FLEET_DIR/inventory.yml" "$FLEET_DIR/b3/shop.sealift" \
        h1="$FLEET_DIR/e3/shop.sealift"
    # One ad-hoc run over the fleet; each host's bundle and conninfo come from the inventory.
    run ansible -i "$FLEET_DIR/inventory.yml" databases -m sealift.migrate.status \
        -a "bundle={{ release }} pubkeys=$FLEET_DIR/keys/release.pub
            verify_journal=true db={{ sealift_db }}"
    assert_success
    refute_output --partial "$FLEET_SECRET"
    for h in h1 h2 h3; do
        printf '%s\n' "$output" | sed -n "/^$h | /,/^}/p" >"status_$h.out"
    done
    run cat status_h1.out
    assert_output --partial '"state": "drift"'
    assert_output --partial '"rc": 3'
    assert_output --regexp '"drift": ".*002'
    run cat status_h2.out
    assert_output --partial '"state": "pending"'
    assert_output --partial '"revision": "002_email"'
    assert_output --regexp '"pending": \[[[:space:]]*"003",[[:space:]]*"004"'
    assert_output --partial '"journal_verified": true'
    run cat status_h3.out
    assert_output --partial '"state": "pending"'
    assert_output --partial '"rc": 7'
    assert_output --regexp '"pending": \[[[:space:]]*"004"'
    assert_output --regexp '"journal_head": \{'
    # The example status playbook says the same, host by host.
    run ansible-playbook -i "$FLEET_DIR/inventory.yml" "${PLAYBOOK%/*}/status.yml"
    assert_success
    assert_output --regexp '"msg": "drift at 001_users; pending none; journal seq 4 \(intact\)"'
    assert_output --regexp '"msg": "pending at 002_email; pending 003, 004; journal seq 2 \(intact\)"'
    assert_output --regexp '"msg": "pending at 003_orders; pending 004; journal seq 3 \(intact\)"'
    # The drifted host refuses to apply, with the database state exit code.
    play "$FLEET_DIR/e3/shop.sealift" -- -e sealift_serial=3 -e sealift_max_fail_percentage=100 \
        --limit h1
    assert_failure 2
    assert_equal "$(report h1 'a["failed"], a["rc"], a["changed"]')" "True 3 False"
}

@test "a release whose only change is a repeatable is changed, with repeatables_applied" {
    # h2 (local) on a database and a host directory of its own: the fleet's state stays.
    local r=$FLEET_DIR/reps vars
    vars="{\"sealift_db\": \"host=$PGHOST port=$PGPORT user=postgres dbname=fleet_reps\",
        \"sealift_dir\": \"$FLEET_DIR/hosts/reps\"}"
    "$SEALIFT_PG_BIN/createdb" fleet_reps || fail "createdb failed"
    mkdir -p "$r" && printf 'CREATE OR REPLACE VIEW user_names AS SELECT name FROM users;\n' \
        >"$r/R__user_names.sql" || fail "could not write the repeatable"
    fleet_release "$r" "$FLEET_DIR/r1/shop.sealift" \
        "001_users=CREATE TABLE users (id int PRIMARY KEY, name text);||DROP TABLE users;" ||
        fail "could not build r1"
    play "$FLEET_DIR/r1/shop.sealift" -- -e sealift_serial=3 --limit h2 -e "$vars"
    assert_success
    assert_equal "$(report h2 'a["changed"], a["applied"], a["repeatables_applied"]')" \
        "True ['001'] ['user_names']"

    # The next release changes the view only.
    printf 'CREATE OR REPLACE VIEW user_names AS SELECT name, id FROM users;\n' \
        >"$r/R__user_names.sql"
    fleet_release "$r" "$FLEET_DIR/r2/shop.sealift" || fail "could not build r2"
    play "$FLEET_DIR/r2/shop.sealift" -- -e sealift_serial=3 --limit h2 -e "$vars" --check
    assert_success
    assert_equal "$(report h2 'a["changed"], a["would_apply"], a["would_apply_repeatables"]')" \
        "True [] ['user_names']"
    play "$FLEET_DIR/r2/shop.sealift" -- -e sealift_serial=3 --limit h2 -e "$vars"
    assert_success
    assert_equal "$(report h2 'a["changed"], a["applied"], a["repeatables_applied"], a["revision_after"]')" \
        "True [] ['user_names'] 001_users"
    assert_equal "$(report h2 'a["journal_head"]["event"], a["journal_head"]["migration"]')" \
        "apply_repeatable user_names"
    assert_equal "$("$SEALIFT_PG_BIN/psql" -X -Atq -d fleet_reps -c \
        "SELECT string_agg(name || '#' || run, ',' ORDER BY run) FROM sealift.repeatable_runs")" \
        "user_names#1,user_names#2"

    # The same release again: nothing ran, nothing changed.
    play "$FLEET_DIR/r2/shop.sealift" -- -e sealift_serial=3 --limit h2 -e "$vars"
    assert_success
    assert_equal "$(report h2 'a["changed"], a["applied"], a["repeatables_applied"]')" \
        "False [] []"
    refute_output --regexp "changed: \[h2\]$"
}
