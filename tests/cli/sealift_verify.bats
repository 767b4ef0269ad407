#!/usr/bin/env bats
# sealift verify: signatures by trusted keys (with a threshold), then every member against the
# signed manifest; damaged, forged and truncated bundles are refused with exit 1.
# run sets stderr.
# shellcheck disable=SC2154
bats_require_minimum_version 1.5.0

load helpers

M2_UP=migrations/000002_20240102000000_add_email/up.sql

setup() {
    sealift_setup
    build_bundle app.sealift
    RELEASE=$(key_id release.pub)
}

@test "verify accepts a bundle signed by the trusted key" {
    run_sealift verify app.sealift -p release.pub
    assert_exit 0
    refute_errors
    assert_output "app.sealift: verified: project demo, serial 2, environment (any), 2 migrations, head 20240102000000; signed by $RELEASE"
}

@test "verify -q prints nothing; --json describes the verified bundle" {
    run_sealift verify -q app.sealift -p release.pub
    assert_exit 0
    assert_equal "$output$stderr" ''

    run_sealift verify --json app.sealift -p release.pub
    assert_exit 0
    printf '%s\n' "$output" >verify.json
    assert python3 -m json.tool verify.json
    assert_output --partial '"signatures_checked":true'
    assert_output --partial "\"key_id\":\"$RELEASE\""
    assert_output --partial '"valid":true'
}

@test "verify with another key is refused, naming the signer's key id" {
    make_keypair other
    run_sealift verify app.sealift -p other.pub
    assert_exit 1
    assert_error "app.sealift: MANIFEST: no signature by a trusted key (signed by $RELEASE)"
}

@test "--threshold 2 with one signer is refused" {
    make_keypair second
    run_sealift verify app.sealift -p release.pub -p second.pub --threshold 2
    assert_exit 1
    assert_error "app.sealift: MANIFEST: 1 valid signature by trusted keys, fewer than the threshold of 2 (signed by $RELEASE)"
}

@test "--threshold larger than the keys given is a usage error" {
    run_sealift verify app.sealift -p release.pub --threshold 2
    assert_usage_error verify '--threshold 2 is more than the 1 distinct keys given'

    # The same key twice is still one key.
    cp release.pub copy.pub
    run_sealift verify app.sealift -p release.pub -p copy.pub --threshold 2
    assert_usage_error verify '--threshold 2 is more than the 1 distinct keys given'

    for bad in 0 65 two; do
        run_sealift verify app.sealift -p release.pub --threshold "$bad"
        assert_usage_error verify '--threshold must be a number from 1 to 64'
    done
}

@test "one flipped byte in a member is refused, naming the member" {
    build_bundle plain.sealift --compression none
    flip_byte plain.sealift "$(byte_offset plain.sealift 'ADD COLUMN email')"

    run_sealift verify plain.sealift -p release.pub
    assert_exit 1
    assert_error "plain.sealift: member \"$M2_UP\": SHA-256 does not match the manifest"
}

@test "a forged manifest is refused" {
    build_bundle plain.sealift --compression none
    flip_byte plain.sealift "$(byte_offset plain.sealift '# project demo')"

    run_sealift verify plain.sealift -p release.pub
    assert_exit 1
    assert_error "plain.sealift: MANIFEST: signature by key $RELEASE does not verify"
}

@test "a truncated bundle is refused" {
    for c in zstd gzip none; do
        build_bundle "full.$c" --compression "$c"
        head -c "$(($(stat -c %s "full.$c") / 2))" "full.$c" >"cut.$c"
        run_sealift verify "cut.$c" -p release.pub
        assert_exit 1
        assert_error "cut.$c"
    done
    run_sealift verify cut.zstd -p release.pub
    assert_error 'zstd stream is truncated'
    run_sealift verify cut.gzip -p release.pub
    assert_error 'gzip stream is truncated'
}

@test "junk appended after the compressed stream is refused" {
    for c in zstd gzip; do
        build_bundle "junk.$c" --compression "$c"
        printf 'junk' >>"junk.$c"
        run_sealift verify "junk.$c" -p release.pub
        assert_exit 1
        assert_error "junk.$c: after the last member: data after the end of the $c stream"
    done
}

@test "a member appended to an uncompressed bundle is refused" {
    build_bundle plain.sealift --compression none
    # GNU tar drops the end-of-archive blocks and appends a member behind the last one.
    echo 'DROP TABLE users;' >extra.sql
    must tar --format=ustar -rf plain.sealift extra.sql

    run_sealift verify plain.sealift -p release.pub
    assert_exit 1
    assert_error 'plain.sealift: member "extra.sql" is not in the manifest'
}

@test "a file that is not a bundle is refused" {
    echo 'hello' >text.sealift
    run_sealift verify text.sealift -p release.pub
    assert_exit 1
    assert_error 'could not read bundle "text.sealift": '

    : >empty.sealift
    run_sealift verify empty.sealift -p release.pub
    assert_exit 1
    assert_error 'could not read bundle "empty.sealift": '
}

@test "a missing bundle or key file is an environment error (exit 2)" {
    run_sealift verify missing.sealift -p release.pub
    assert_exit 2
    assert_error 'could not open bundle "missing.sealift": No such file or directory'

    run_sealift verify app.sealift -p missing.pub
    assert_exit 2
    assert_error 'could not open file "missing.pub": No such file or directory'

    mkdir dir.sealift
    run_sealift verify dir.sealift -p release.pub
    assert_exit 2
    assert_error 'bundle "dir.sealift" is not a regular file'
}

@test "verify needs a bundle and at least one key" {
    run_sealift verify app.sealift
    assert_usage_error verify 'at least one trusted public key (-p) is required'
    run_sealift verify -p release.pub
    assert_usage_error verify 'expected one BUNDLE'
    run_sealift verify app.sealift -p release.pub --bogus
    assert_usage_error verify 'unrecognized option "--bogus"'
}

@test "a public key file that is not one is refused" {
    echo 'not a key' >bad.pub
    run_sealift verify app.sealift -p bad.pub
    assert_exit 2
    assert_error 'bad.pub: not a minisign public key'
}

@test "a secret key given as -p is named as one, by sealift and sealift-apply" {
    cp "$BATS_TEST_DIRNAME/fixtures/minisign-encrypted.key" minisign.key
    for key in release.key minisign.key; do
        run_sealift verify app.sealift -p "$key"
        assert_exit 2
        assert_error "\"$key\" is a secret key, not a public key: pass the .pub file"
        [[ $stderr != *'not a minisign public key'* ]]

        run --separate-stderr "$SEALIFT_BIN/sealift-apply" verify app.sealift -p "$key"
        assert_no_crash
        assert_exit 2
        assert_equal "$stderr" "sealift-apply: error: \"$key\" is a secret key, not a public key: pass the .pub file"
    done
}

@test "verify's usage line lists every option its help describes" {
    run_sealift verify --help
    assert_exit 0
    usage=$(printf '%s\n' "$output" | grep -A1 '^Usage:' | tail -1)
    # Each option line: "  -q, --quiet ..." or "      --json ...": either name will do.
    while read -r short long; do
        [[ "$usage" == *"$long"* || ( "$short" != -  && "$usage" == *"$short "* ) ||
            ( "$short" != - && "$usage" == *"$short]"* ) ]] || fail "usage line \"$usage\" lacks $long"
    done < <(printf '%s\n' "$output" | sed -n '/^Options:/,$p' |
        sed -nE 's/^  (-[a-z]), (--[a-z-]+).*/\1 \2/p; s/^      (--[a-z-]+).*/- \1/p')
    [[ "$usage" == *"-p PUBLIC_KEY"* ]] || fail "usage line \"$usage\" lacks -p"
}
