# helpers.bash: shared setup, fixtures and assertions for the sealift CLI tests.
#
# Each .bats file loads this and calls sealift_setup from its setup(). Every test then runs
# in its own fresh directory ($BATS_TEST_TMPDIR/work) and finds the binaries through $SEALIFT_BIN
# (default: the repository's bin/). Run one file with "bats tests/cli/sealift_check.bats",
# all of them with "SEALIFT_SUITES='cli/sealift_*' tests/run-all".
#
# Contract pinned here (PRODUCT.md): exit 0 ok, 1 input rejected, 2 usage or environment;
# errors are single lines "sealift: error: ..." on stderr, results go to stdout.

# run sets status, output, stderr and stderr_lines.
# shellcheck disable=SC2154

load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'

# Never read the machine's /etc/sealift/apply.conf: a test names its config file, if any.
export SEALIFT_CONFIG=
unset SEALIFT_PUBKEYS SEALIFT_THRESHOLD SEALIFT_SCHEMA

: "${SEALIFT_BIN:=$(cd "$BATS_TEST_DIRNAME/../../bin" 2>/dev/null && pwd)}"
SEALIFT=$SEALIFT_BIN/sealift

# Two migrations that every valid-chain test starts from.
V1=20240101000000_create_users
V2=20240102000000_add_email

sealift_setup() {
    [ -x "$SEALIFT" ] || fail "no sealift binary at \"$SEALIFT\" (run make, or set SEALIFT_BIN)"
    # Nothing from the caller's environment may change what sealift does.
    unset SEALIFT_PASSWORD_FILE SOURCE_DATE_EPOCH
    export LC_ALL=C TZ=UTC
    # A subdirectory: bats keeps its own files (run --separate-stderr) in $BATS_TEST_TMPDIR.
    if ! mkdir "$BATS_TEST_TMPDIR/work" || ! cd "$BATS_TEST_TMPDIR/work"; then
        fail "could not enter \"$BATS_TEST_TMPDIR/work\""
    fi
}

# ---- running sealift ----

# Run sealift: sets $status, $output (stdout), $stderr and $stderr_lines; then checks that
# the run shows no sign of a crash or a sanitizer report.
run_sealift() {
    run --separate-stderr "$SEALIFT" "$@"
    assert_no_crash
}

# Neither stream may mention a crash, a sanitizer finding or an internal error, and the
# process must not have died from a signal (libarchive's assertFileContainsNoInvalidStrings).
assert_no_crash() {
    local bad
    for bad in AddressSanitizer LeakSanitizer 'runtime error:' 'internal error' Segmentation \
        'core dumped'; do
        if [[ $stderr == *"$bad"* || $output == *"$bad"* ]]; then
            batslib_print_kv_single_or_multi 6 stdout "$output" stderr "$stderr" |
                batslib_decorate "sealift's output mentions \"$bad\"" | fail
            return 1
        fi
    done
    if [ "$status" -ge 128 ]; then
        batslib_print_kv_single_or_multi 6 stderr "$stderr" |
            batslib_decorate "sealift died from signal $((status - 128))" | fail
        return 1
    fi
}

# Run a setup step; if it fails, fail the test with the step's stderr.
must() {
    local err
    if ! err=$("$@" 2>&1 >/dev/null); then
        printf '%s\n' "$err" | batslib_decorate "setup step failed: $*" | fail
        return 1
    fi
}

# ---- assertions ----

# The exit status is $1. On a mismatch, show both streams: they say why.
assert_exit() {
    if [ "$status" -ne "$1" ]; then
        batslib_print_kv_single_or_multi 8 expected "$1" actual "$status" \
            stdout "$output" stderr "$stderr" |
            batslib_decorate 'wrong exit status' | fail
        return 1
    fi
}

# Some stderr line is "sealift: LEVEL: ..." and contains the literal text $2.
assert_stderr_level() {
    local level=$1 text=$2 line
    for line in "${stderr_lines[@]}"; do
        [[ $line == "sealift: $level: "*"$text"* ]] && return 0
    done
    batslib_print_kv_single_or_multi 8 expected "sealift: $level: ...$text..." stderr "$stderr" |
        batslib_decorate "no such $level message on stderr" | fail
    return 1
}

assert_error() { assert_stderr_level error "$1"; }
assert_hint() { assert_stderr_level hint "$1"; }
assert_warning() { assert_stderr_level warning "$1"; }

# Some stderr line matches the extended regular expression "^sealift: error: $1".
assert_error_regex() {
    local re="^sealift: error: $1" line
    for line in "${stderr_lines[@]}"; do
        [[ $line =~ $re ]] && return 0
    done
    batslib_print_kv_single_or_multi 8 regexp "$re" stderr "$stderr" |
        batslib_decorate 'no stderr line matches' | fail
    return 1
}

# The closing count of check and build: "sealift: error: N problem(s) found...".
assert_problems() {
    assert_error_regex "$1 problems? found"
}

# No "sealift: error:" line at all.
refute_errors() {
    if [[ $stderr == *"sealift: error:"* ]]; then
        batslib_print_kv_single_or_multi 6 stderr "$stderr" |
            batslib_decorate 'unexpected error message' | fail
        return 1
    fi
}

# The usage-error shape: exit 2, the error, and the hint naming the command's --help.
assert_usage_error() {
    local cmd=$1 text=$2
    assert_exit 2
    assert_error "$text"
    assert_hint "Try \"sealift $cmd --help\" for more information."
}

# ---- fixtures ----

# make_keypair NAME: NAME.pub and an unencrypted NAME.key in the current directory.
make_keypair() {
    must "$SEALIFT" keygen -W -p "$1.pub" -s "$1.key"
}

# key_id PUBFILE: the key id (16 uppercase hex digits) from a minisign public key file, read
# from the key itself (bytes 2..9, little-endian), not from the untrusted comment.
key_id() {
    sed -n 2p "$1" | base64 -d | od -An -v -tx1 -j2 -N8 | tr -d ' \n' | fold -w2 | tac |
        tr -d '\n' | tr a-f A-F
}

# add_migration DIR VERSION_SLUG UP_SQL [DOWN_SQL]: the up file, and the down file if given.
add_migration() {
    mkdir -p "$1"
    printf '%s\n' "$3" >"$1/$2.up.sql"
    if [ $# -ge 4 ]; then
        printf '%s\n' "$4" >"$1/$2.down.sql"
    fi
}

# write_migrations [DIR]: a small valid chain of two migrations (default DIR: migrations).
write_migrations() {
    local dir=${1:-migrations}
    add_migration "$dir" "$V1" \
        'CREATE TABLE users (id bigint PRIMARY KEY, name text NOT NULL);' \
        'DROP TABLE users;'
    add_migration "$dir" "$V2" \
        'ALTER TABLE users ADD COLUMN email text;' \
        'ALTER TABLE users DROP COLUMN email;'
}

# build_bundle OUT [BUILD_OPTION...]: a bundle of ./migrations (written if missing) signed
# with release.key (made if missing), for project "demo".
build_bundle() {
    local out=$1
    shift
    [ -e release.key ] || make_keypair release
    [ -d migrations ] || write_migrations migrations
    must "$SEALIFT" build -d migrations -s release.key -o "$out" --project demo "$@"
}

# tree_state DIR: one line per file with its name, size, mode, inode, mtime and SHA-256, so
# that any rewrite (even with the same bytes) shows as a difference.
tree_state() {
    (cd "$1" && find . -type f -printf '%p %s %m %i %T@\n' | LC_ALL=C sort &&
        find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum)
}

# byte_offset FILE STRING: offset of the first occurrence of STRING in FILE.
byte_offset() {
    grep -boaF -m1 -- "$2" "$1" | head -n1 | cut -d: -f1
}

# flip_byte FILE OFFSET: invert the lowest bit of one byte, in place.
flip_byte() {
    local byte
    # An empty offset (byte_offset found nothing) must not quietly flip byte 0.
    [[ $2 =~ ^[0-9]+$ ]] || fail "flip_byte: no offset in \"$1\" (got \"$2\")"
    byte=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
    # shellcheck disable=SC2059 # the format is the escaped byte
    printf "$(printf '\\%03o' $((byte ^ 1)))" |
        dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

# The tools some files need beyond sealift; skip with a clear message when missing.
require_minisign() {
    command -v minisign >/dev/null || skip "minisign is not installed (Debian package minisign)"
}
