#!/usr/bin/env bats
# sealift inspect: describe a bundle as text or JSON. Member checksums are always checked;
# signatures only against the keys given with -p.
bats_require_minimum_version 1.5.0

load helpers

setup() {
    sealift_setup
    build_bundle app.sealift
    RELEASE=$(key_id release.pub)
}

# Print one field of the JSON in $output, with a Python expression over "d".
json_field() {
    printf '%s\n' "$output" | python3 -c 'import json, sys; d = json.load(sys.stdin); print('"$1"')'
}

@test "inspect describes the bundle as text" {
    run_sealift inspect app.sealift
    assert_exit 0
    refute_errors
    assert_line 'bundle       app.sealift'
    assert_line --regexp '^id           [0-9a-f]{64}$'
    # add_email's ADD COLUMN has a finding (blocking-lock): manifest 1.1.
    assert_line "format       sealift bundle v1.1, zstd, $(stat -c %s app.sealift) bytes"
    assert_line 'project      demo'
    assert_line 'serial       2'
    assert_line 'environment  (any)'
    assert_line 'compiler     sealift/0.1.0'
    assert_line 'source       native'
    assert_line "signatures   $RELEASE not checked (give -p to verify)"
    assert_line --regexp '^migrations   2 \(head 20240102000000, chain [0-9a-f]{64}\)$'
    assert_line --regexp '^ +1  20240101000000  create_users  tx +tx +-$'
    assert_line --regexp '^ +2  20240102000000  add_email +tx +tx +-$'
}

@test "inspect -p checks the signatures" {
    make_keypair other
    run_sealift inspect app.sealift -p release.pub
    assert_exit 0
    assert_line "signatures   $RELEASE verified"

    run_sealift inspect app.sealift -p other.pub
    assert_exit 1
    assert_error "app.sealift: MANIFEST: no signature by a trusted key (signed by $RELEASE)"
}

@test "inspect shows irreversible and no-transaction migrations" {
    add_migration migrations 20240103000000_index \
        $'-- sealift:no-transaction\n-- sealift:irreversible\nCREATE INDEX CONCURRENTLY i ON users (name);'
    build_bundle next.sealift
    run_sealift inspect next.sealift
    assert_exit 0
    assert_line --regexp '^ +3  20240103000000  index +no-tx  irreversible  -$'
}

@test "inspect --json is valid JSON with the bundle's fields" {
    run_sealift inspect app.sealift --json
    assert_exit 0
    refute_errors
    printf '%s\n' "$output" >inspect.json
    run python3 -m json.tool inspect.json
    assert_success

    run_sealift inspect app.sealift --json
    assert_equal "$(json_field 'd["project"]')" demo
    assert_equal "$(json_field 'd["serial"]')" 2
    assert_equal "$(json_field 'd["environment"]')" None
    assert_equal "$(json_field 'd["compression"]')" zstd
    assert_equal "$(json_field 'd["head"]')" 20240102000000
    assert_equal "$(json_field '" ".join(m["id"] for m in d["migrations"])')" \
        '20240101000000 20240102000000'
    assert_equal "$(json_field '" ".join(m["name"] for m in d["migrations"])')" \
        'create_users add_email'
    assert_equal "$(json_field '" ".join(s["key_id"] for s in d["signatures"])')" "$RELEASE"
    assert_equal "$(json_field 'd["signatures"][0]["member"]')" "MANIFEST.$RELEASE.minisig"
    assert_equal "$(json_field 'd["signatures_checked"]')" False
    assert_equal "$(json_field 'len(d["members"])')" 4
    # The up script's member checksum is that of the bytes in the archive.
    member=$(json_field 'd["migrations"][0]["up"]["member"]')
    assert_equal "$(json_field 'd["migrations"][0]["up"]["sha256"]')" \
        "$(tar -xOf app.sealift "$member" | sha256sum | cut -d' ' -f1)"
}

@test "inspect --json -p marks verified signatures" {
    run_sealift inspect app.sealift --json -p release.pub
    assert_exit 0
    assert_equal "$(json_field 'd["signatures_checked"]')" True
    assert_equal "$(json_field 'd["signatures"][0]["valid"]')" True
    assert_equal "$(json_field 'd["signatures"][0]["trusted"]')" True
}

@test "inspect refuses a bundle whose member was altered, even without keys" {
    build_bundle plain.sealift --compression none
    flip_byte plain.sealift "$(byte_offset plain.sealift 'DROP TABLE users')"

    run_sealift inspect plain.sealift
    assert_exit 1
    assert_error 'plain.sealift: member "migrations/000001_20240101000000_create_users/down.sql": SHA-256 does not match the manifest'
    assert_output ''
}

@test "inspect of a missing bundle is an environment error (exit 2)" {
    run_sealift inspect missing.sealift
    assert_exit 2
    assert_error 'could not open bundle "missing.sealift": No such file or directory'
}

@test "inspect needs exactly one bundle" {
    run_sealift inspect
    assert_usage_error inspect 'expected one BUNDLE'
    run_sealift inspect app.sealift app.sealift
    assert_usage_error inspect 'expected one BUNDLE'
    run_sealift inspect --bogus app.sealift
    assert_usage_error inspect 'unrecognized option "--bogus"'
}

@test "inspect lists every member: path, size and SHA-256 prefix, as the JSON has them" {
    run_sealift inspect --json app.sealift
    assert_exit 0
    expected=$(json_field '"\n".join("%s %d %s" % (x["path"], x["size"], x["sha256"][:16]) for x in d["members"])')
    count=$(json_field 'len(d["members"])')
    run_sealift inspect app.sealift
    assert_exit 0
    assert_line "members      $count"
    assert_line --regexp '^  member +size  sha256$'
    # The member rows end at the blank line (the lint findings may follow).
    got=$(printf '%s\n' "$output" | sed -n '/^members /,/^$/p' | tail -n +3 | grep -v '^$' |
        awk '{print $1, $2, $3}')
    assert_equal "$got" "$expected"
    assert_equal "$count" 4
}

@test "inspect's columns are as wide as their longest cell" {
    add_migration migrations 20240103000000_a_rather_long_migration_name_for_the_table \
        $'-- sealift:irreversible\nSELECT 1;'
    build_bundle next.sealift
    run_sealift inspect next.sealift
    assert_exit 0
    # The header and every row put each column at the same offset.
    header=$(printf '%s\n' "$output" | grep -E '^ +# +id +name')
    row=$(printf '%s\n' "$output" | grep -E '^ +3  20240103000000')
    assert_equal "$(awk -v s="$header" 'BEGIN{print index(s, "verify")}')" \
        "$(awk -v s="$row" 'BEGIN{print index(s, " -")+1}')"
    assert_equal "$(awk -v s="$header" 'BEGIN{print index(s, "down")}')" \
        "$(awk -v s="$row" 'BEGIN{print index(s, "irreversible")}')"
    row1=$(printf '%s\n' "$output" | grep -E '^ +1  20240101000000')
    assert_equal "$(awk -v s="$header" 'BEGIN{print index(s, "verify")}')" \
        "$(awk -v s="$row1" 'BEGIN{print length(s)}')"
    mheader=$(printf '%s\n' "$output" | grep -E '^  member ')
    mrow=$(printf "%s\n" "$output" | grep -F "/000003_") || fail "$output"
    assert_equal "$(awk -v s="$mheader" 'BEGIN{print index(s, "sha256")}')" \
        "$(awk -v s="$mrow" 'BEGIN{print length(s) - 15}')"
}

@test "inspect's repeatables table: the checksum column starts at one offset on every row" {
    printf 'SELECT 1;\n' >migrations/R__a.sql
    printf -- '-- sealift:no-transaction\nSELECT 2;\n' >migrations/R__a_much_longer_repeatable_name.sql
    build_bundle rep.sealift
    run_sealift inspect rep.sealift
    assert_exit 0
    refute_errors
    assert_line --regexp '^repeatables  2 '
    rows=$(printf '%s\n' "$output" | sed -n '/^repeatables /,/^$/p' | sed -n '2,4p')
    assert_equal "$(printf '%s\n' "$rows" | wc -l)" 3
    header=$(sed -n 1p <<<"$rows")
    [[ $header =~ ^\ +#\ +name\ +up\ +checksum$ ]] || fail "header: $header"
    # Each checksum ends its row; all start where the header's "checksum" does.
    offset=$(awk -v s="$header" 'BEGIN{print index(s, "checksum")}')
    while IFS= read -r row; do
        [[ $row =~ [0-9a-f]{64}$ ]] || fail "row without a checksum: $row"
        assert_equal "$(awk -v s="$row" 'BEGIN{print length(s) - 63}')" "$offset"
        # The mode column lines up too.
        assert_equal "$(awk -v s="$row" 'BEGIN{print match(s, / (no-)?tx /)+1}')" \
            "$(awk -v s="$header" 'BEGIN{print index(s, " up ")+1}')"
    done < <(sed -n '2,$p' <<<"$rows")
    assert_line --regexp '^     1  a  +tx  +[0-9a-f]{64}$'
    assert_line --regexp '^     2  a_much_longer_repeatable_name  no-tx  [0-9a-f]{64}$'
}

@test "inspect's lint findings line up whatever the migration's name" {
    add_migration migrations 20240103000000_a_rather_long_migration_name \
        $'-- sealift:allow add-column-rewrite users is small\nALTER TABLE users ADD COLUMN created timestamptz DEFAULT clock_timestamp();' \
        'ALTER TABLE users DROP COLUMN created;'
    add_migration migrations 20240104000000_short 'ALTER TABLE users RENAME COLUMN name TO full_name;' \
        'ALTER TABLE users RENAME COLUMN full_name TO name;'
    build_bundle lint.sealift
    run_sealift inspect lint.sealift
    assert_exit 0
    long=$(printf '%s\n' "$output" | grep -E '^  20240103000000_a_rather_long_migration_name  ') ||
        fail "$output"
    short=$(printf '%s\n' "$output" | grep -E '^  20240104000000_short  ') || fail "$output"
    assert_equal "$(awk -v s="$long" 'BEGIN{print index(s, "up:")}')" \
        "$(awk -v s="$short" 'BEGIN{print index(s, "up:")}')"
    # So do the severity and the lock; the reason that allowed a finding is a line of its own.
    assert_equal "$(awk -v s="$long" 'BEGIN{print index(s, "allowed[")}')" \
        "$(awk -v s="$short" 'BEGIN{print index(s, "warning[")}')"
    assert_equal "$(awk -v s="$long" 'BEGIN{print index(s, "ACCESS EXCLUSIVE")}')" \
        "$(awk -v s="$short" 'BEGIN{print index(s, "ACCESS EXCLUSIVE")}')"
    assert_line '      allowed: users is small'
}
