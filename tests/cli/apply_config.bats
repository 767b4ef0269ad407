#!/usr/bin/env bats
# apply_config.bats: trusted keys and defaults without repeating them (issue 19 §2).
# SEALIFT_PUBKEYS (FILE:FILE...), SEALIFT_THRESHOLD, SEALIFT_SCHEMA and a config file
# (--config FILE, SEALIFT_CONFIG, else /etc/sealift/apply.conf when it exists; never read here):
# the command line wins over the environment, the environment over the file; status says where
# each setting came from; a file writable by others, owned by another user or with an unknown
# key is refused (exit 2) naming the file and line.

bats_require_minimum_version 1.5.0
load apply_helpers

setup_file() { apply_setup_file; }
teardown_file() { apply_teardown_file; }

setup() {
    apply_setup
    unset SEALIFT_PUBKEYS SEALIFT_THRESHOLD SEALIFT_SCHEMA
    export SEALIFT_CONFIG=
    three_migrations
    bundle m b.bundle
    chmod 600 release.pub other.pub
}
teardown() { apply_teardown; }

# conf FILE LINE...: write a config file, mode 600.
conf() {
    local f=$1
    shift
    printf '%s\n' "$@" >"$f"
    chmod 600 "$f"
}

@test "SEALIFT_PUBKEYS: keys from the environment, no -p needed; status says so" {
    SEALIFT_PUBKEYS="other.pub::$PWD/release.pub" run --separate-stderr "$APPLY" verify b.bundle
    assert_equal "$status" 0
    SEALIFT_PUBKEYS="release.pub" run --separate-stderr "$APPLY" status b.bundle
    assert_equal "$status" 7
    assert_line --regexp '^settings     1 key \(environment SEALIFT_PUBKEYS\), threshold 1 \(default\), schema "sealift" \(default\), lock timeout 60.0 s \(default\)$'
    SEALIFT_PUBKEYS="release.pub" run --separate-stderr "$APPLY" status --json b.bundle
    assert_equal "$status" 7
    [[ "$output" == *'"settings":{"pubkey":{"value":1,"source":"environment","where":"SEALIFT_PUBKEYS"},"threshold":{"value":1,"source":"default","where":null}'* ]] ||
        fail "output: $output"
}

@test "-p wins over SEALIFT_PUBKEYS: only the keys given are trusted" {
    SEALIFT_PUBKEYS="release.pub" run --separate-stderr "$APPLY" verify b.bundle -p other.pub
    assert_equal "$status" 1
}

@test "SEALIFT_THRESHOLD and SEALIFT_SCHEMA: used, checked, and beaten by options" {
    SEALIFT_PUBKEYS=release.pub SEALIFT_THRESHOLD=2 run --separate-stderr "$APPLY" verify b.bundle
    assert_equal "$status" 2
    assert_equal "$stderr" 'sealift-apply: error: --threshold 2 is more than the 1 distinct keys given
sealift-apply: hint: Try "sealift-apply verify --help" for more information.'
    SEALIFT_THRESHOLD=two run --separate-stderr "$APPLY" verify b.bundle -p release.pub
    assert_equal "$status" 2
    assert_equal "$stderr" 'sealift-apply: error: SEALIFT_THRESHOLD must be a number from 1 to 64, not "two"'
    SEALIFT_SCHEMA='bad-name' run --separate-stderr "$APPLY" status b.bundle -p release.pub
    assert_equal "$status" 2
    assert_equal "$stderr" "sealift-apply: error: SEALIFT_SCHEMA must be letters, digits and '_' (not starting with a digit)"
    SEALIFT_SCHEMA=envhist run "$APPLY" apply -q b.bundle -p release.pub
    assert_success
    assert_sql "SELECT count(*) FROM envhist.applied" 3
    SEALIFT_SCHEMA=envhist run --separate-stderr "$APPLY" status b.bundle -p release.pub --schema other
    assert_line --partial 'schema "other" (option --schema)'
}

@test "a config file gives keys (relative to it), threshold, schema and lock timeout" {
    mkdir etc
    cp release.pub etc/
    conf etc/apply.conf '# sealift-apply defaults' '' 'pubkey = release.pub' '  schema=confhist  ' \
        'threshold = 1' 'lock_timeout = 2min'
    run --separate-stderr "$APPLY" apply --config etc/apply.conf b.bundle
    assert_equal "$status" 0
    assert_sql "SELECT count(*) FROM confhist.applied" 3
    SEALIFT_CONFIG=$PWD/etc/apply.conf run --separate-stderr "$APPLY" status b.bundle
    assert_equal "$status" 0
    assert_line "settings     1 key (config $PWD/etc/apply.conf:3), threshold 1 (config $PWD/etc/apply.conf:5), schema \"confhist\" (config $PWD/etc/apply.conf:4), lock timeout 120.0 s (config $PWD/etc/apply.conf:6)"
}

@test "options beat the environment, and the environment beats the config file" {
    conf apply.conf 'pubkey = other.pub' 'schema = confhist'
    SEALIFT_SCHEMA=envhist SEALIFT_PUBKEYS=release.pub run --separate-stderr "$APPLY" status \
        --config apply.conf --json b.bundle
    assert_equal "$status" 7
    [[ "$output" == *'"pubkey":{"value":1,"source":"environment","where":"SEALIFT_PUBKEYS"}'* ]] ||
        fail "output: $output"
    [[ "$output" == *'"schema":{"value":"envhist","source":"environment","where":"SEALIFT_SCHEMA"}'* ]] ||
        fail "output: $output"
    SEALIFT_SCHEMA=envhist run --separate-stderr "$APPLY" status --config apply.conf --json \
        b.bundle -p release.pub --schema optionhist
    [[ "$output" == *'"pubkey":{"value":1,"source":"option","where":"--pubkey"}'* ]] ||
        fail "output: $output"
    [[ "$output" == *'"schema":{"value":"optionhist","source":"option","where":"--schema"}'* ]] ||
        fail "output: $output"
}

@test "a config file writable by group or others is refused" {
    conf apply.conf 'pubkey = release.pub'
    chmod 620 apply.conf
    run --separate-stderr "$APPLY" verify --config apply.conf b.bundle
    assert_equal "$status" 2
    assert_equal "$stderr" 'sealift-apply: error: config file "apply.conf" is writable by its group; refusing it (chmod go-w "apply.conf")'
    chmod 602 apply.conf
    run --separate-stderr "$APPLY" verify --config apply.conf b.bundle -p release.pub
    assert_equal "$status" 2
    assert_equal "$stderr" 'sealift-apply: error: config file "apply.conf" is writable by others; refusing it (chmod go-w "apply.conf")'
}

@test "a config file owned by another user is refused" {
    [ "$(id -u)" -eq 0 ] || skip "needs root to give the file away"
    conf apply.conf 'pubkey = release.pub'
    chown nobody apply.conf
    SEALIFT_CONFIG=apply.conf run --separate-stderr "$APPLY" verify b.bundle
    assert_equal "$status" 2
    assert_equal "$stderr" "sealift-apply: error: config file \"apply.conf\" is owned by another user (uid $(id -u nobody)); it must be owned by root or by you"
}

@test "bad config lines are errors naming the file and line" {
    conf apply.conf 'pubkey = release.pub' 'colour = blue'
    run --separate-stderr "$APPLY" verify --config apply.conf b.bundle
    assert_equal "$status" 2
    assert_equal "$stderr" 'sealift-apply: error: apply.conf:2: unknown setting "colour" (known: pubkey, threshold, schema, lock_timeout)'
    conf apply.conf '' 'just words'
    run --separate-stderr "$APPLY" verify --config apply.conf b.bundle -p release.pub
    assert_equal "$status" 2
    assert_equal "$stderr" 'sealift-apply: error: apply.conf:2: expected "key = value", not "just words"'
    conf apply.conf 'threshold = 0'
    run --separate-stderr "$APPLY" verify --config apply.conf b.bundle -p release.pub
    assert_equal "$status" 2
    assert_equal "$stderr" 'sealift-apply: error: apply.conf:1: threshold must be a number from 1 to 64, not "0"'
    conf apply.conf 'pubkey = missing.pub'
    run --separate-stderr "$APPLY" verify --config apply.conf b.bundle
    assert_equal "$status" 2
    [[ "$stderr" == 'sealift-apply: error: apply.conf:1: '*'missing.pub'* ]] || fail "stderr: $stderr"
}

@test "a config file named by --config or SEALIFT_CONFIG must exist" {
    run --separate-stderr "$APPLY" verify --config nowhere.conf b.bundle -p release.pub
    assert_equal "$status" 2
    assert_equal "$stderr" 'sealift-apply: error: could not read config file "nowhere.conf": No such file or directory'
    SEALIFT_CONFIG=nowhere.conf run --separate-stderr "$APPLY" verify b.bundle -p release.pub
    assert_equal "$status" 2
}
