#!/usr/bin/env bats
# sealift keygen: minisign-format key pairs, unencrypted (-W) or with a password.
# run sets stderr.
# shellcheck disable=SC2154
bats_require_minimum_version 1.5.0

load helpers

setup() {
    sealift_setup
}

# Keygen without a controlling terminal, whatever the test runner has.
run_sealift_without_terminal() {
    run --separate-stderr setsid -w "$SEALIFT" "$@" </dev/null
    assert_no_crash
}

@test "keygen -W writes a 0600 secret key and a minisign public key" {
    run_sealift keygen -W -p release.pub -s release.key
    assert_exit 0
    refute_errors
    id=$(key_id release.pub)
    assert_output "wrote secret key release.key and public key release.pub (key id $id)"

    assert_equal "$(stat -c %a release.key)" 600
    assert_equal "$(sed -n 1p release.key)" "untrusted comment: minisign secret key (unencrypted)"
    assert_equal "$(sed -n 1p release.pub)" "untrusted comment: minisign public key $id"
    # Line 2: base64 of "Ed" || key id || Ed25519 public key (42 bytes, 56 characters).
    assert_regex "$(sed -n 2p release.pub)" '^RW[A-Za-z0-9+/]{54}$'
    assert_equal "$(wc -l <release.pub)" 2
}

@test "keygen -W: minisign signs with the secret key and verifies with the public key" {
    require_minisign
    make_keypair release
    echo 'some file' >file.txt

    run minisign -S -s release.key -m file.txt </dev/null
    assert_success
    run minisign -Vm file.txt -p release.pub
    assert_success
    assert_output --partial 'Signature and comment signature verified'
}

@test "keygen refuses to overwrite existing keys without -f" {
    make_keypair release
    before=$(tree_state .)

    run_sealift keygen -W -p other.pub -s release.key
    assert_exit 2
    assert_error '"release.key" already exists (use -f to overwrite it)'
    run_sealift keygen -W -p release.pub -s other.key
    assert_exit 2
    assert_error '"release.pub" already exists (use -f to overwrite it)'
    assert_equal "$(tree_state .)" "$before"
}

@test "keygen -f replaces both key files with a new pair" {
    make_keypair release
    old=$(key_id release.pub)

    run_sealift keygen -W -f -p release.pub -s release.key
    assert_exit 0
    refute_errors
    new=$(key_id release.pub)
    assert_not_equal "$new" "$old"
    assert_output --partial "(key id $new)"
    assert_equal "$(stat -c %a release.key)" 600
}

@test "keygen without -p or -s is a usage error with the --help hint" {
    run_sealift keygen -W -p release.pub
    assert_usage_error keygen 'both -p PUBLIC_KEY and -s SECRET_KEY are required'
    run_sealift keygen -W -s release.key
    assert_usage_error keygen 'both -p PUBLIC_KEY and -s SECRET_KEY are required'
    assert [ ! -e release.key ]
    assert [ ! -e release.pub ]
}

@test "keygen rejects unknown options, stray arguments and bad --kdf-limits" {
    run_sealift keygen --bogus -W -p a.pub -s a.key
    assert_usage_error keygen 'unrecognized option "--bogus"'
    run_sealift keygen -W -p a.pub -s a.key extra
    assert_usage_error keygen 'unexpected argument "extra"'
    run_sealift keygen -p a.pub -s a.key --kdf-limits fast
    assert_usage_error keygen '--kdf-limits must be "sensitive" or "interactive"'
    assert [ ! -e a.key ]
}

@test "keygen --help prints the usage on stdout" {
    run_sealift keygen --help
    assert_exit 0
    assert_output --partial 'sealift keygen -p PUBLIC_KEY -s SECRET_KEY [-W] [-f]'
    assert_equal "$stderr" ''
}

@test "encrypted keygen: the right password builds, a wrong one is refused with exit 2" {
    echo 'correct horse' >pw
    echo 'wrong horse' >bad-pw
    SEALIFT_PASSWORD_FILE=pw run_sealift keygen -p release.pub -s release.key \
        --kdf-limits interactive
    assert_exit 0
    assert_equal "$(sed -n 1p release.key)" "untrusted comment: minisign encrypted secret key"
    assert_equal "$(stat -c %a release.key)" 600
    write_migrations

    # A wrong password stops the build before anything is written, sealift.sum included.
    SEALIFT_PASSWORD_FILE=bad-pw run_sealift build -s release.key -o app.sealift
    assert_exit 2
    assert_error 'release.key: wrong password for this secret key'
    assert [ ! -e app.sealift ]
    assert [ ! -e migrations/sealift.sum ]

    SEALIFT_PASSWORD_FILE=pw run_sealift build -s release.key -o app.sealift
    assert_exit 0
    assert_output --partial "signed by $(key_id release.pub)"
    run_sealift verify app.sealift -p release.pub
    assert_exit 0
}

@test "encrypted keygen with no terminal and no password file fails clearly" {
    run_sealift_without_terminal keygen -p release.pub -s release.key
    assert_exit 2
    assert_error 'no terminal to ask for the password (set SEALIFT_PASSWORD_FILE)'
    assert [ ! -e release.key ]
    assert [ ! -e release.pub ]
}

@test "an encrypted key with no terminal and no password file cannot sign" {
    echo 'pw' >pw
    SEALIFT_PASSWORD_FILE=pw run_sealift keygen -p release.pub -s release.key \
        --kdf-limits interactive
    assert_exit 0
    write_migrations

    run_sealift_without_terminal build -s release.key -o app.sealift
    assert_exit 2
    assert_error 'release.key: no terminal to ask for the password (set SEALIFT_PASSWORD_FILE)'
    assert [ ! -e app.sealift ]
}

@test "a missing or empty password file is an environment error" {
    SEALIFT_PASSWORD_FILE=no-such-file run_sealift keygen -p a.pub -s a.key
    assert_exit 2
    assert_error 'could not open password file "no-such-file": No such file or directory'

    : >empty
    SEALIFT_PASSWORD_FILE=empty run_sealift keygen -p a.pub -s a.key
    assert_exit 2
    assert_error 'password file "empty": first line is empty'
    assert [ ! -e a.key ]
}

@test "a secret key readable by others is refused" {
    make_keypair release
    chmod 0644 release.key
    write_migrations

    run_sealift build -s release.key -o app.sealift
    assert_exit 2
    assert_error 'secret key file "release.key" is accessible by group or others (mode 0644)'
    assert [ ! -e app.sealift ]
}
