#!/usr/bin/env bats
# Interoperability with minisign (Debian's minisign 0.11): keys made by either tool work in the
# other, and the bundle's signature is a plain minisign signature of MANIFEST.
#
# minisign reads a password from stdin when stdin is not a terminal, so "<<<password" feeds it.
bats_require_minimum_version 1.5.0

load helpers

FIXTURES=$BATS_TEST_DIRNAME/fixtures

setup() {
    sealift_setup
    require_minisign
    write_migrations
}

# Unpack BUNDLE into directory DIR.
unpack() {
    mkdir "$2" && tar -xf "$1" -C "$2"
}

@test "a key pair from minisign -G -W signs with sealift build and verifies with sealift" {
    run minisign -G -W -p x.pub -s x.key
    assert_success
    id=$(key_id x.pub)

    run_sealift build -s x.key -o app.sealift
    assert_exit 0
    assert_output --partial "signed by $id"
    run_sealift verify app.sealift -p x.pub
    assert_exit 0
    assert_output --partial "; signed by $id"
}

@test "minisign -Vm verifies the manifest of a bundle signed with a sealift keygen key" {
    make_keypair release
    id=$(key_id release.pub)
    export SOURCE_DATE_EPOCH=1700000000
    build_bundle app.sealift
    unpack app.sealift out

    run minisign -Vm out/MANIFEST -x "out/MANIFEST.$id.minisig" -p release.pub
    assert_success
    assert_line 'Signature and comment signature verified'
    assert_line "Trusted comment: sealift-bundle project=demo serial=2 env=- created=2023-11-14T22:13:20Z head=20240102000000"

    # And refuses it with any other key.
    run minisign -G -W -p other.pub -s other.key
    run minisign -Vm out/MANIFEST -x "out/MANIFEST.$id.minisig" -p other.pub
    assert_failure
}

@test "the bundle's signature is what minisign -S itself makes (prehashed, same trusted comment)" {
    make_keypair release
    id=$(key_id release.pub)
    build_bundle app.sealift
    unpack app.sealift out
    sig=out/MANIFEST.$id.minisig

    # Four lines; line 2 is an "ED" (prehashed) signature, which base64-encodes as "RU".
    assert_equal "$(wc -l <"$sig")" 4
    assert_regex "$(sed -n 2p "$sig")" '^RU[A-Za-z0-9+/]{97}=$'
    comment=$(sed -n 3p "$sig")
    comment=${comment#trusted comment: }

    # Ed25519 is deterministic: minisign signing the same bytes with the same trusted comment
    # must produce the very same signature and global signature.
    run minisign -S -s release.key -m out/MANIFEST -x minisign.sig -t "$comment" </dev/null
    assert_success
    assert_equal "$(sed -n 2,4p minisign.sig)" "$(sed -n 2,4p "$sig")"
}

@test "an encrypted minisign key works in sealift" {
    cp "$FIXTURES/minisign-encrypted.key" x.key
    cp "$FIXTURES/minisign-encrypted.pub" x.pub
    chmod 0600 x.key
    echo pw123 >pw
    echo pw124 >bad-pw

    # minisign itself decrypts it with this password.
    echo 'file' >file.txt
    run minisign -S -s x.key -m file.txt <<<pw123
    assert_success

    SEALIFT_PASSWORD_FILE=bad-pw run_sealift build -s x.key -o app.sealift
    assert_exit 2
    assert_error 'x.key: wrong password for this secret key'
    assert [ ! -e app.sealift ]

    SEALIFT_PASSWORD_FILE=pw run_sealift build -s x.key -o app.sealift
    assert_exit 0
    assert_output --partial 'signed by DDD30BA4B95795FC'
    run_sealift verify app.sealift -p x.pub
    assert_exit 0
}

@test "an encrypted sealift key works in minisign" {
    echo 'sekrit' >pw
    SEALIFT_PASSWORD_FILE=pw run_sealift keygen -p enc.pub -s enc.key --kdf-limits interactive
    assert_exit 0
    echo 'some file' >file.txt

    run minisign -S -s enc.key -m file.txt <<<wrong
    assert_failure 2
    assert_output --partial 'Wrong password for that key'
    assert [ ! -e file.txt.minisig ]

    run minisign -S -s enc.key -m file.txt <<<sekrit
    assert_success
    run minisign -Vm file.txt -p enc.pub
    assert_success
    assert_line 'Signature and comment signature verified'
}

@test "a bundle co-signed with a minisign key verifies in both tools" {
    make_keypair release
    run minisign -G -W -p x.pub -s x.key
    assert_success
    build_bundle app.sealift
    run_sealift sign app.sealift -s x.key
    assert_exit 0

    run_sealift verify app.sealift -p release.pub -p x.pub --threshold 2
    assert_exit 0
    unpack app.sealift out
    for who in release x; do
        run minisign -Vm out/MANIFEST -x "out/MANIFEST.$(key_id "$who.pub").minisig" -p "$who.pub"
        assert_success
    done
}
