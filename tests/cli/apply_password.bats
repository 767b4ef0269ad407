#!/usr/bin/env bats
# apply_password.bats: sealift-apply asks for a password as psql does (issue 19 §2). The
# cluster listens on 127.0.0.1 with scram-sha-256 for TCP; tmux drives a real terminal.
# Pinned: the prompt "Password for user NAME: " when the server asks and none is given and
# stdin is a terminal; -W asks first; -w never asks (exit 6); the password is never echoed
# and appears in no output.

bats_require_minimum_version 1.5.0
load apply_helpers

PW='s3cret-Tr0ub4dor'

setup_file() {
    apply_setup_file tcp || return 1
    [ -n "${APPLY_SKIP:-}" ] && return 0
    # The socket stays trusted (for createdb); TCP wants a password.
    psql -h "$PGHOST" -qAtc "ALTER ROLE postgres PASSWORD '$PW'" postgres >/dev/null || return 1
    sed -i 's/^host\(.*\)trust$/host\1scram-sha-256/' "$SEALIFT_PG_DIR/data/pg_hba.conf" &&
        pg_run "$SEALIFT_PG_BIN/pg_ctl" -D "$SEALIFT_PG_DIR/data" reload >/dev/null
}

teardown_file() {
    apply_teardown_file
}

setup() {
    apply_setup
    command -v tmux >/dev/null || skip "tmux is not installed (apt-get install tmux)"
    export PGPASSFILE=$BATS_TEST_TMPDIR/no-pgpass
    three_migrations
    bundle m b.bundle
    TMUX_SOCK=$BATS_TEST_TMPDIR/tmux.sock
    URL="host=127.0.0.1 port=$PGPORT user=postgres dbname=$PGDATABASE"
}

teardown() {
    [ -n "${TMUX_SOCK:-}" ] && tmux -S "$TMUX_SOCK" kill-server 2>/dev/null || true
    apply_teardown
}

# in_terminal CMD: run CMD in a detached tmux terminal; its exit code goes to $BATS_TEST_TMPDIR/rc.
in_terminal() {
    rm -f "$BATS_TEST_TMPDIR/rc"
    tmux -S "$TMUX_SOCK" new-session -d -x 200 -y 50 \
        "$*; echo \$? >$BATS_TEST_TMPDIR/rc; sleep 60"
}

screen() {
    tmux -S "$TMUX_SOCK" capture-pane -p -S -100
}

# wait_screen TEXT: until the terminal shows TEXT (10 s).
wait_screen() {
    for _ in $(seq 1 100); do
        screen | grep -qF -- "$1" && return 0
        sleep 0.1
    done
    screen | batslib_decorate "the terminal never showed \"$1\"" | fail
}

wait_rc() {
    for _ in $(seq 1 150); do
        [ -s "$BATS_TEST_TMPDIR/rc" ] && { cat "$BATS_TEST_TMPDIR/rc"; return 0; }
        sleep 0.1
    done
    screen | batslib_decorate "the command never finished" | fail
}

@test "the server asks for a password: prompted on a terminal like psql, not echoed" {
    in_terminal "'$APPLY' apply b.bundle -p release.pub -d '$URL' 2>&1 | tee out.log"
    wait_screen "Password for user postgres:"
    tmux -S "$TMUX_SOCK" send-keys -l "$PW"
    tmux -S "$TMUX_SOCK" send-keys Enter
    run wait_rc
    assert_output 0
    run screen
    assert_output --partial "applied 3 migrations"
    refute_output --partial "$PW"
    run grep -rlF -- "$PW" out.log
    assert_failure
    assert_sql "SELECT count(*) FROM sealift.applied" 3
    # The journal and history hold no password either.
    run psql -h "$PGHOST" -At -d "$PGDATABASE" -c "SELECT * FROM sealift.journal"
    refute_output --partial "$PW"
}

@test "a wrong password fails to connect: exit 6, the password not shown" {
    in_terminal "'$APPLY' status b.bundle -p release.pub -d '$URL'"
    wait_screen "Password for user postgres:"
    tmux -S "$TMUX_SOCK" send-keys -l "wrong-$PW"
    tmux -S "$TMUX_SOCK" send-keys Enter
    run wait_rc
    assert_output 6
    run screen
    assert_output --partial "sealift-apply: error: could not connect to the database"
    assert_output --partial "password authentication failed"
    refute_output --partial "$PW"
}

@test "-W asks before connecting, even when the server would not ask" {
    in_terminal "'$APPLY' status b.bundle -p release.pub -W -d 'host=$PGHOST port=$PGPORT dbname=$PGDATABASE'"
    wait_screen "Password for user postgres:"
    tmux -S "$TMUX_SOCK" send-keys -l "anything"
    tmux -S "$TMUX_SOCK" send-keys Enter
    run wait_rc
    assert_output 7
    run screen
    refute_output --partial "anything"
}

@test "-w never asks: exit 6 at once, on a terminal too" {
    in_terminal "'$APPLY' status b.bundle -p release.pub -w -d '$URL'"
    run wait_rc
    assert_output 6
    run screen
    refute_output --partial "Password for user"
    assert_output --partial "no password supplied"
}

@test "without a terminal nothing is asked: exit 6 with libpq's reason" {
    run --separate-stderr "$APPLY" status b.bundle -p release.pub -d "$URL" </dev/null
    assert_equal "$status" 6
    assert_equal "$output" ""
    [[ "$stderr" == *"sealift-apply: error: could not connect to the database"*"no password supplied"* ]] ||
        fail "stderr: $stderr"
}

@test "PGPASSWORD given: no prompt" {
    in_terminal "PGPASSWORD='$PW' '$APPLY' status b.bundle -p release.pub -d '$URL'"
    run wait_rc
    assert_output 7
    run screen
    refute_output --partial "Password for user"
}

@test "-W reads the password from stdin when there is no terminal, and -W with -w is refused" {
    run --separate-stderr bash -c "printf '%s\n' '$PW' | setsid '$APPLY' status b.bundle -p release.pub -W -d '$URL'"
    assert_equal "$status" 7
    [[ "$output$stderr" != *"$PW"* ]] || fail "the password was printed"
    run --separate-stderr "$APPLY" status b.bundle -p release.pub -W -w -d "$URL"
    assert_equal "$status" 2
    assert_equal "$stderr" 'sealift-apply: error: cannot specify both -W (--password) and -w (--no-password)
sealift-apply: hint: Try "sealift-apply status --help" for more information.'
}
