#!/usr/bin/env bats
# sealift_install.bats: "make install" (issue 19 §3). Into a DESTDIR with PREFIX=/usr: the
# binaries run from there; every man page (sealift(1), sealift-apply(1), one per command)
# renders with "man -l" and names every option its command's --help names (they come from
# it); the bash completion loads and completes commands, options, --from formats and files.

bats_require_minimum_version 1.5.0
load helpers

setup_file() {
    REPO=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
    export REPO DEST=$BATS_FILE_TMPDIR/dest
    # make install builds into the repository's bin/: only test it against that build.
    if [ "$SEALIFT_BIN" != "$REPO/bin" ]; then
        export INSTALL_SKIP="make install installs bin/, not $SEALIFT_BIN"
        return 0
    fi
    if ! command -v man >/dev/null || ! command -v groff >/dev/null; then
        DEBIAN_FRONTEND=noninteractive apt-get install -y -o DPkg::Lock::Timeout=300 \
            man-db groff-base >/dev/null 2>&1 || {
            export INSTALL_SKIP="man and groff are missing and could not be installed"
            return 0
        }
    fi
    make --no-print-directory -C "$REPO" install DESTDIR="$DEST" PREFIX=/usr \
        >"$BATS_FILE_TMPDIR/install.log" 2>&1 || {
        cat "$BATS_FILE_TMPDIR/install.log" >&2
        return 1
    }
}

setup() {
    [ -z "${INSTALL_SKIP:-}" ] || skip "$INSTALL_SKIP"
    sealift_setup
}

commands_of() {
    "$DEST/usr/bin/$1" --help | sed -n '/^Commands:$/,/^$/s/^  \([a-z-]*\)  .*/\1/p'
}

@test "make install puts binaries, man pages and completion under DESTDIR/PREFIX" {
    assert [ -x "$DEST/usr/bin/sealift" ]
    assert [ -x "$DEST/usr/bin/sealift-apply" ]
    assert [ -f "$DEST/usr/share/man/man1/sealift.1" ]
    assert [ -f "$DEST/usr/share/man/man1/sealift-apply.1" ]
    for c in $(commands_of sealift); do
        assert [ -f "$DEST/usr/share/man/man1/sealift-$c.1" ]
    done
    for c in $(commands_of sealift-apply); do
        assert [ -f "$DEST/usr/share/man/man1/sealift-apply-$c.1" ]
    done
    assert_equal "$(ls "$DEST/usr/share/man/man1" | wc -l)" 21
    assert [ -f "$DEST/usr/share/bash-completion/completions/sealift" ]
    assert [ -f "$DEST/usr/share/bash-completion/completions/sealift-apply" ]
}

@test "the installed binaries run from there: keygen, new, build, verify" {
    export PATH="$DEST/usr/bin:$PATH"
    run --separate-stderr sealift --version
    assert_equal "$output" "sealift 0.1.0"
    must sealift keygen -W -p k.pub -s k.key
    must sealift new --irreversible first
    printf 'CREATE TABLE t (a int);\n' >>migrations/*_first.up.sql
    must sealift build -s k.key -o b.sealift
    run --separate-stderr sealift-apply verify b.sealift -p k.pub
    assert_equal "$status" 0
    [[ "$output" == "b.sealift: verified: project work,"* ]] || fail "output: $output"
}

@test "man -l renders every page without a warning, and each names its --help's options" {
    for page in "$DEST"/usr/share/man/man1/*.1; do
        name=$(basename "$page" .1)
        run --separate-stderr env MANWIDTH=100 man -l "$page"
        assert_equal "$status" 0
        assert_equal "$stderr" ""
        [[ "$output" == *NAME*"$name"* ]] || fail "$name: no NAME section"
        # The options of the help this page was made from (sealift-apply-status: status).
        case $name in
        sealift-apply-*) help=$("$DEST/usr/bin/sealift-apply" "${name#sealift-apply-}" --help) ;;
        sealift-apply) help=$("$DEST/usr/bin/sealift-apply" --help) ;;
        sealift-*) help=$("$DEST/usr/bin/sealift" "${name#sealift-}" --help) ;;
        *) help=$("$DEST/usr/bin/sealift" --help) ;;
        esac
        text=$(printf '%s\n' "$output" | col -b | tr -d '\n ' | tr '‐' '-')
        for opt in $(printf '%s\n' "$help" | grep -oE -- '--[a-z][a-z-]+' | sort -u); do
            [[ "$text" == *"$opt"* ]] || fail "$name: the man page lacks $opt"
        done
    done
    run env MANWIDTH=100 man -l "$DEST/usr/share/man/man1/sealift-apply-status.1"
    assert_output --partial 'ask for the password before connecting'
    run env MANWIDTH=100 man -l "$DEST/usr/share/man/man1/sealift-apply.1"
    assert_output --partial 'sealift-apply-status(1)'
    assert_output --partial 'SEALIFT_PUBKEYS'
}

# complete WORD...: the completions bash offers for the last word, one a line.
complete_words() {
    PATH="$DEST/usr/bin:$PATH" bash -c '
        . "$1"
        shift
        COMP_WORDS=("$@")
        COMP_CWORD=$(($# - 1))
        complete -p "$1" >/dev/null || exit 9
        _sealift_complete
        printf "%s\n" "${COMPREPLY[@]}"' complete \
        "$DEST/usr/share/bash-completion/completions/sealift" "$@"
}

@test "the completion script loads in bash and completes commands and options" {
    run complete_words sealift-apply st
    assert_success
    assert_output $'status\nstamp'
    run complete_words sealift b
    assert_output 'build'
    run complete_words sealift-apply status --no-p
    assert_output '--no-password'
    run complete_words sealift new --ir
    assert_output '--irreversible'
}

@test "completion offers the --from formats and files by extension" {
    run complete_words sealift build --from go
    assert_output $'golang-migrate\ngoose'
    mkdir keys
    touch a.pub a.key b.sealift notes.txt apply.conf
    run complete_words sealift-apply verify ""
    assert_output $'keys/\nb.sealift'
    run complete_words sealift-apply verify b.sealift -p ""
    assert_output $'keys/\na.pub'
    run complete_words sealift build -s ""
    assert_output $'keys/\na.key'
    run complete_words sealift-apply status b.sealift --config ""
    assert_output $'keys/\napply.conf'
}
