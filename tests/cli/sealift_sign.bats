#!/usr/bin/env bats
# sealift sign: a co-signature by a second key; everything else in the bundle stays the same.
bats_require_minimum_version 1.5.0

load helpers

setup() {
    sealift_setup
    build_bundle app.sealift
    make_keypair second
    RELEASE=$(key_id release.pub)
    SECOND=$(key_id second.pub)
    cp app.sealift original.sealift
}

@test "sign adds a co-signature; verify --threshold 2 with both keys passes" {
    run_sealift sign app.sealift -s second.key
    assert_exit 0
    refute_errors
    assert_output "signed app.sealift with key $SECOND (2 signatures)"

    run_sealift verify app.sealift -p release.pub -p second.pub --threshold 2
    assert_exit 0
    assert_output --partial 'signed by '
    assert_output --partial "$RELEASE"
    assert_output --partial "$SECOND"

    # Each key alone still verifies; the signatures follow MANIFEST, sorted by name.
    run_sealift verify app.sealift -p second.pub
    assert_exit 0
    run tar -tf app.sealift
    assert_line --index 0 MANIFEST
    expected=$(printf 'MANIFEST.%s.minisig\n' "$RELEASE" "$SECOND" | LC_ALL=C sort)
    assert_equal "$(tar -tf app.sealift | sed -n 2,3p)" "$expected"
}

@test "the co-signed bundle keeps every other member byte-identical" {
    run_sealift sign app.sealift -s second.key
    assert_exit 0

    members=$(tar -tf original.sealift)
    assert_equal "$(tar -tf app.sealift | grep -v "MANIFEST.$SECOND.minisig")" "$members"
    for member in $members; do
        assert cmp <(tar -xOf original.sealift "$member") <(tar -xOf app.sealift "$member")
    done
}

@test "sign -o writes the co-signed bundle elsewhere and leaves the input alone" {
    run_sealift sign app.sealift -s second.key -o cosigned.sealift
    assert_exit 0
    assert_output "signed cosigned.sealift with key $SECOND (2 signatures)"
    assert cmp app.sealift original.sealift
    run_sealift verify cosigned.sealift -p release.pub -p second.pub --threshold 2
    assert_exit 0
}

@test "signing twice with the same key is refused" {
    run_sealift sign app.sealift -s second.key
    assert_exit 0
    cp app.sealift cosigned.sealift

    run_sealift sign app.sealift -s second.key
    assert_exit 1
    assert_error "the bundle already has a signature by this key (MANIFEST.$SECOND.minisig)"
    assert cmp app.sealift cosigned.sealift

    run_sealift sign original.sealift -s release.key
    assert_exit 1
    assert_error "the bundle already has a signature by this key (MANIFEST.$RELEASE.minisig)"
}

@test "sign -p refuses to co-sign a bundle the given keys do not verify" {
    make_keypair other
    run_sealift sign app.sealift -s second.key -p other.pub -o cosigned.sealift
    assert_exit 1
    assert_error "app.sealift: MANIFEST: no signature by a trusted key (signed by $RELEASE)"
    assert [ ! -e cosigned.sealift ]
    assert cmp app.sealift original.sealift

    run_sealift sign app.sealift -s second.key -p release.pub -o cosigned.sealift
    assert_exit 0
}

@test "sign refuses a damaged bundle" {
    build_bundle plain.sealift --compression none
    flip_byte plain.sealift "$(byte_offset plain.sealift 'ADD COLUMN email')"
    cp plain.sealift damaged.sealift

    run_sealift sign plain.sealift -s second.key
    assert_exit 1
    assert_error 'plain.sealift: member "migrations/000002_20240102000000_add_email/up.sql": SHA-256 does not match the manifest'
    assert cmp plain.sealift damaged.sealift
}

@test "sign keeps the compression of the bundle" {
    for c in gzip none; do
        build_bundle "app.$c" --compression "$c"
        run_sealift sign "app.$c" -s second.key
        assert_exit 0
        run_sealift inspect "app.$c"
        assert_line --regexp "^format       sealift bundle v1(\.1)?, $c, "
    done
}

@test "a wrong password for the co-signer's key leaves the bundle alone" {
    echo 'right' >pw
    echo 'wrong' >bad-pw
    SEALIFT_PASSWORD_FILE=pw run_sealift keygen -p enc.pub -s enc.key --kdf-limits interactive
    assert_exit 0

    SEALIFT_PASSWORD_FILE=bad-pw run_sealift sign app.sealift -s enc.key
    assert_exit 2
    assert_error 'enc.key: wrong password for this secret key'
    assert cmp app.sealift original.sealift

    SEALIFT_PASSWORD_FILE=pw run_sealift sign app.sealift -s enc.key
    assert_exit 0
}

@test "sign needs a bundle and a secret key" {
    run_sealift sign app.sealift
    assert_usage_error sign '-s SECRET_KEY is required'
    run_sealift sign -s second.key
    assert_usage_error sign 'expected one BUNDLE'
    run_sealift sign app.sealift -s second.key --bogus
    assert_usage_error sign 'unrecognized option "--bogus"'

    run_sealift sign missing.sealift -s second.key
    assert_exit 2
    assert_error 'could not open bundle "missing.sealift": No such file or directory'
    run_sealift sign app.sealift -s missing.key
    assert_exit 2
    assert_error 'could not open secret key file "missing.key": No such file or directory'
    assert cmp app.sealift original.sealift
}
