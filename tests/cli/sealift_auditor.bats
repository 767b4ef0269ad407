#!/usr/bin/env bats
# The auditor's recipe: verify a bundle with stock tools only (tar, minisign, sha256sum). The
# README gives it as a script, "audit-bundle BUNDLE KEYDIR THRESHOLD"; these tests take that
# block from the README as it stands and run it: the archive's member list against the
# manifest's, a threshold of distinct trusted signatures, every member's SHA-256, the bundle id.
#
# The public keys are taken from outside the bundle: the bundle is untrusted until verified,
# and a forged bundle can carry a release.pub of its own (see the last test).
bats_require_minimum_version 1.5.0

load helpers

setup() {
    sealift_setup
    require_minisign
    build_bundle app.sealift
    KEYID=$(key_id release.pub)
    MEMBERS=$(tar -tf app.sealift)
    mkdir keys && cp release.pub keys/ || fail "could not copy the key"
    readme_recipe >audit-bundle
    grep -q 'sha256sum --strict -c MANIFEST' audit-bundle || fail "README block not found"
}

# The README's audit-bundle block, as it stands there.
readme_recipe() {
    awk '/^#### The bundle, checked with tar, minisign and sha256sum/ { on = 1 }
        on && /^```$/ && open { exit } on && open { print } on && /^```sh$/ { open = 1 }' \
        "$BATS_TEST_DIRNAME/../../README.md"
}

# auditor_recipe BUNDLE [THRESHOLD]: the recipe with the keys in keys/.
auditor_recipe() {
    sh audit-bundle "$1" keys "${2:-1}"
}

# Unpack app.sealift into DIR, to be altered and packed again with repack.
unpack() {
    mkdir "$1" && tar -xf app.sealift -C "$1"
}

# repack DIR OUT: a tar of DIR's files in the original bundle's member order.
repack() {
    # shellcheck disable=SC2086 # one member name per word
    tar --format=ustar -cf "$2" -C "$1" $MEMBERS
}

@test "the auditor's recipe passes on a real bundle" {
    run auditor_recipe app.sealift
    assert_success
    assert_line --partial 'signed by keys/release.pub: Trusted comment: sealift-bundle project=demo serial=2 env=-'
    for member in $MEMBERS; do
        case $member in
        MANIFEST*) ;;
        *) assert_line "$member: OK" ;;
        esac
    done
    # The bundle id, as the database records it.
    assert_line "bundle id $(tar -xOf app.sealift MANIFEST | sha256sum | cut -d' ' -f1)"
    run bash -c "$SEALIFT_BIN/sealift-apply verify app.sealift -p release.pub --json | jq -r .id"
    assert_line "$(tar -xOf app.sealift MANIFEST | sha256sum | cut -d' ' -f1)"
}

@test "the recipe counts a threshold of distinct trusted keys" {
    make_keypair second
    make_keypair third
    cp second.pub keys/
    # One signature of the two keys: a threshold of 2 fails, 1 passes.
    run auditor_recipe app.sealift 2
    assert_failure
    assert_output --partial '1 of 2 trusted signatures'
    refute_line --partial ': OK'
    must "$SEALIFT" sign app.sealift -s second.key
    run auditor_recipe app.sealift 2
    assert_success
    assert_line --partial 'signed by keys/second.pub:'
    # A co-signer whose key the auditor does not trust does not count.
    must "$SEALIFT" sign app.sealift -s third.key
    run auditor_recipe app.sealift 3
    assert_failure
    assert_output --partial '2 of 3 trusted signatures'
}

@test "the recipe fails on a bundle with a member the manifest does not list" {
    # sha256sum -c and minisign alone accept it: only the listing comparison catches it.
    unpack forged
    echo 'DROP TABLE users;' >forged/extra.sql
    MEMBERS="$MEMBERS extra.sql"
    repack forged forged.sealift
    run bash -c 'mkdir o && tar -xf forged.sealift -C o && cd o &&
        minisign -Vm MANIFEST -x "MANIFEST.$1.minisig" -p ../release.pub &&
        sha256sum --strict -c MANIFEST' _ "$KEYID"
    assert_success

    run auditor_recipe forged.sealift
    assert_failure
    assert_line '> extra.sql'
    refute_line --partial 'signed by'

    run_sealift verify forged.sealift -p release.pub
    assert_exit 1
    assert_error 'forged.sealift: member "extra.sql" is not in the manifest'
}

@test "the auditor's recipe passes on every compression and on a co-signed bundle" {
    make_keypair second
    for c in gzip none; do
        build_bundle "app.$c" --compression "$c"
        must "$SEALIFT" sign "app.$c" -s second.key
        run auditor_recipe "app.$c"
        assert_success
    done
}

@test "the auditor's recipe fails on a bundle whose member was altered" {
    unpack forged
    member=migrations/000002_20240102000000_add_email/up.sql
    echo 'DROP TABLE users;' >>"forged/$member"
    repack forged forged.sealift

    run auditor_recipe forged.sealift
    assert_failure
    assert_line --partial 'signed by keys/release.pub'
    assert_line "$member: FAILED"

    run_sealift verify forged.sealift -p release.pub
    assert_exit 1
    assert_error "forged.sealift: member \"$member\" has 59 bytes; the manifest says 41"
}

@test "the auditor's recipe fails on a bundle whose MANIFEST was altered to match" {
    unpack forged
    member=migrations/000002_20240102000000_add_email/up.sql
    old=$(sha256sum <"forged/$member" | cut -d' ' -f1)
    echo 'DROP TABLE users;' >>"forged/$member"
    new=$(sha256sum <"forged/$member" | cut -d' ' -f1)
    sed -i "s/$old/$new/g" forged/MANIFEST
    repack forged forged.sealift

    run auditor_recipe forged.sealift
    assert_failure
    assert_output --partial '0 of 1 trusted signatures'
    refute_line --partial ': OK'

    run_sealift verify forged.sealift -p release.pub
    assert_exit 1
    assert_error "forged.sealift: MANIFEST: signature by key $KEYID does not verify"
}

@test "the recipe must take release.pub from outside the extracted bundle" {
    # A forger signs an altered MANIFEST with their own key, stores that signature under the
    # real key's member name, and ships their public key as "release.pub".
    unpack forged
    member=migrations/000002_20240102000000_add_email/up.sql
    old=$(sha256sum <"forged/$member" | cut -d' ' -f1)
    echo 'DROP TABLE users;' >>"forged/$member"
    new=$(sha256sum <"forged/$member" | cut -d' ' -f1)
    sed -i "s/$old/$new/g" forged/MANIFEST
    run minisign -G -W -p forged/release.pub -s forger.key
    assert_success
    rm "forged/MANIFEST.$KEYID.minisig"
    run minisign -S -s forger.key -m forged/MANIFEST -x "forged/MANIFEST.$KEYID.minisig" \
        -t 'sealift-bundle project=demo' </dev/null
    assert_success
    MEMBERS="$MEMBERS release.pub"
    repack forged forged.sealift

    # Taking the key from inside the bundle would accept the forgery...
    run bash -c 'mkdir naive && tar -xf forged.sealift -C naive && cd naive &&
        minisign -Vm MANIFEST -x "MANIFEST.$1.minisig" -p release.pub &&
        sha256sum --strict -c MANIFEST' _ "$KEYID"
    assert_success

    # ...the recipe, with the auditor's own key, refuses it; so does sealift.
    run auditor_recipe forged.sealift
    assert_failure
    refute_line --partial 'signed by'
    run_sealift verify forged.sealift -p release.pub
    assert_exit 1
    assert_error "forged.sealift: MANIFEST.$KEYID.minisig: holds a signature by key "
    assert_error ', not the key its name says'
}
