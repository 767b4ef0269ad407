#!/usr/bin/env bats
# Secrets stay secret: no password, secret key byte or conninfo password in any output
# (stdout, stderr, --json), log (the server's) or stored history, for commands that succeed
# and commands that fail; secret key files are written 0600 whatever the umask, and one that
# the group or others may read is refused; a key file asking for hostile scrypt work is
# refused before any of it is done. Runs against a real PostgreSQL that asks one role for a
# password (scram-sha-256 over TCP).

bats_require_minimum_version 1.5.0

load apply_helpers

PW=Hunter2-S3cret-pw
KEYPW=kEy-Pa55word-41

setup_file() {
    apply_setup_file tcp || return 1
    [ -z "${APPLY_SKIP:-}" ] || return 0
    # A role that must give its password, over TCP (everything else stays trust).
    "$SEALIFT_PG_BIN/psql" -XAtq -v ON_ERROR_STOP=1 -d postgres \
        -c "SET password_encryption = 'scram-sha-256'" \
        -c "CREATE ROLE pwuser LOGIN SUPERUSER PASSWORD '$PW'" >/dev/null || return 1
    local hba=$SEALIFT_PG_DIR/data/pg_hba.conf
    { echo "host all pwuser 127.0.0.1/32 scram-sha-256"; cat "$hba"; } >"$hba.new" &&
        mv "$hba.new" "$hba" && chmod 0600 "$hba" &&
        { [ "$(id -u)" -ne 0 ] || chown postgres: "$hba"; } &&
        pg_run "$SEALIFT_PG_BIN/pg_ctl" -D "$SEALIFT_PG_DIR/data" reload >/dev/null
}

teardown_file() { apply_teardown_file; }

setup() {
    apply_setup
    printf '%s\n' "$KEYPW" >pw.txt
    chmod 0600 pw.txt
    three_migrations
    SEEN=()
}

teardown() { apply_teardown; }

# Every secret of key file $1 that must never be printed: its base64 line, and the raw
# Ed25519 secret key (bytes 62..125 of the blob) in base64 and hex.
key_secrets() {
    local line=$(sed -n 2p "$1")
    printf '%s\n' "$line"
    printf '%s' "$line" | base64 -d | dd bs=1 skip=62 count=64 status=none | base64 -w0
    echo
    printf '%s' "$line" | base64 -d | dd bs=1 skip=62 count=64 status=none | od -An -v -tx1 |
        tr -d ' \n'
    echo
}

# Remember what the last run printed, to be searched at the end.
seen() {
    SEEN+=("$output" "$stderr")
}

# refute_secrets SECRET...: none of the outputs seen so far contains any SECRET.
refute_secrets() {
    local s o
    for s in "$@"; do
        [ -n "$s" ] || continue
        for o in "${SEEN[@]}"; do
            if [[ $o == *"$s"* ]]; then
                printf '%s\n' "$o" | batslib_decorate "a secret appears in the output: $s" | fail
                return 1
            fi
        done
    done
}

@test "secret key files are written 0600 whatever the umask; public keys are readable" {
    umask 000
    run --separate-stderr "$SEALIFT" keygen -W -p a.pub -s a.key
    assert_success
    seen
    SEALIFT_PASSWORD_FILE=pw.txt run --separate-stderr "$SEALIFT" keygen -p b.pub -s b.key
    assert_success
    seen
    assert_equal "$(stat -c %a a.key) $(stat -c %a b.key)" '600 600'
    assert_equal "$(stat -c %a a.pub)" 644
    refute_secrets $(key_secrets a.key) $(key_secrets b.key) "$KEYPW"
}

@test "a secret key the group or others may read is refused by build and sign, whatever the mode bit" {
    local mode
    must "$SEALIFT" keygen -W -p k.pub -s k.key
    bundle m b.sealift
    for mode in 0640 0604 0660 0620 0602 0610 0601; do
        chmod "$mode" k.key
        run --separate-stderr "$SEALIFT" build -d m -s k.key -o x.sealift --project demo
        assert_equal "$status" 2
        [[ $stderr == *"secret key file \"k.key\" is accessible by group or others (mode $mode)"* ]] ||
            fail "build with a $mode key: $stderr"
        seen
        run --separate-stderr "$SEALIFT" sign b.sealift -s k.key -o y.sealift
        assert_equal "$status" 2
        [[ $stderr == *"is accessible by group or others (mode $mode)"* ]] ||
            fail "sign with a $mode key: $stderr"
        seen
        [ ! -e x.sealift ] && [ ! -e y.sealift ] || fail "a bundle was written with a $mode key"
    done
    chmod 0400 k.key
    run --separate-stderr "$SEALIFT" sign b.sealift -s k.key -o y.sealift
    assert_success
    refute_secrets $(key_secrets k.key)
}

@test "no secret key byte and no key password in any output, succeeding or failing" {
    SEALIFT_PASSWORD_FILE=pw.txt must "$SEALIFT" keygen -p enc.pub -s enc.key
    must "$SEALIFT" keygen -W -p raw.pub -s raw.key
    printf 'wrong-%s\n' "$KEYPW" >bad.txt
    chmod 0600 bad.txt
    # Succeeding: build, co-sign, inspect, verify; failing: a wrong password, a damaged key,
    # a key used against a bundle it did not sign.
    SEALIFT_PASSWORD_FILE=pw.txt run --separate-stderr "$SEALIFT" build -d m -s enc.key \
        -o b.sealift --project demo
    assert_success
    seen
    run --separate-stderr "$SEALIFT" sign b.sealift -s raw.key
    assert_success
    seen
    for cmd in "inspect b.sealift" "inspect b.sealift --json" "verify b.sealift -p enc.pub -p raw.pub --threshold 2"; do
        # shellcheck disable=SC2086
        run --separate-stderr "$SEALIFT" $cmd
        assert_success
        seen
    done
    run --separate-stderr "$APPLY" verify b.sealift -p enc.pub --json
    assert_success
    seen
    SEALIFT_PASSWORD_FILE=bad.txt run --separate-stderr "$SEALIFT" build -d m -s enc.key \
        -o c.sealift --project demo
    assert_equal "$status" 2
    [[ $stderr == *"wrong password"* ]] || fail "wrong password: $stderr"
    seen
    sed '2s/^\(.\{40\}\)./\1A/' raw.key >damaged.key
    chmod 0600 damaged.key
    run --separate-stderr "$SEALIFT" sign b.sealift -s damaged.key -o d.sealift
    [ "$status" -ne 0 ] || fail "a damaged key signed"
    seen
    refute_secrets $(key_secrets enc.key) $(key_secrets raw.key) "$KEYPW" "wrong-$KEYPW"
}

@test "a key file asking for hostile scrypt work is refused at once, with little memory" {
    SEALIFT_PASSWORD_FILE=pw.txt must "$SEALIFT" keygen -p enc.pub -s enc.key
    # memlimit (bytes 46..53 of the blob) to 2^40, then opslimit (38..45) to 2^50.
    python3 - enc.key <<'EOF'
import base64, struct, sys
lines = open(sys.argv[1]).read().split("\n")
blob = bytearray(base64.b64decode(lines[1]))
mem, ops = bytearray(blob), bytearray(blob)
mem[46:54] = struct.pack("<Q", 1 << 40)
ops[38:46] = struct.pack("<Q", 1 << 50)
for name, b in (("mem.key", mem), ("ops.key", ops)):
    with open(name, "w") as f:
        f.write(lines[0] + "\n" + base64.b64encode(bytes(b)).decode() + "\n")
EOF
    chmod 0600 mem.key ops.key
    for k in mem ops; do
        SEALIFT_PASSWORD_FILE=pw.txt run --separate-stderr /usr/bin/time -f '%M %e' -o t.out \
            "$SEALIFT" build -d m -s "$k.key" -o b.sealift --project demo
        [ "$status" -ne 0 ] || fail "$k.key was used"
        [[ $stderr == *'secret key asks for scrypt limits above what sealift allows'* ]] ||
            fail "$k.key: $stderr"
        read -r rss secs < <(tail -n 1 t.out)
        [ "$rss" -lt $((64 * 1024)) ] || fail "$k.key: peak RSS $rss KiB"
        [ "${secs%.*}" -lt 2 ] || fail "$k.key: took $secs s"
        [ ! -e b.sealift ] || fail "$k.key: a bundle was written"
    done
}

@test "a conninfo password never appears: refused and failing connections, syntax errors, URIs, DATABASE_URL" {
    bundle m b.sealift
    local d
    while IFS= read -r d; do
        d=${d//@PW@/$PW}
        run_apply status b.sealift -p release.pub -d "$d"
        [ "$status" -ne 0 ] || fail "status with \"$d\" succeeded"
        seen
        run_apply apply b.sealift -p release.pub -d "$d" --json
        assert_exit 6
        seen
        DATABASE_URL=$d run_apply apply b.sealift -p release.pub
        assert_exit 6
        seen
    done <<EOF
postgresql://pwuser:@PW@@127.0.0.1:1/db
postgresql://pwuser:@PW@@127.0.0.1:$PGPORT/db
postgresql://pwuser:@PW@@127.0.0.1:notaport/db
postgresql://pwuser:@PW@%zz@127.0.0.1:$PGPORT/db
postgresql://pwuser:@PW@@[::1/db
postgres://pwuser:@PW@@127.0.0.1:$PGPORT/db?sslmode=bogus
host=127.0.0.1 port=1 user=pwuser password=@PW@ dbname=db
host=127.0.0.1 port=$PGPORT user=pwuser password=wrong-@PW@ dbname=$PGDATABASE
host=127.0.0.1 port=$PGPORT user=pwuser password=@PW@ dbname=nosuchdb
host=127.0.0.1 port=$PGPORT user=pwuser password=@PW@ dbname
host=127.0.0.1 port=$PGPORT user=pwuser password='@PW@
host=127.0.0.1 port=$PGPORT user=pwuser password=first-word @PW@ dbname=db
host=127.0.0.1 port=$PGPORT user=pwuser pasword=@PW@ dbname=db
EOF
    refute_secrets "$PW"
    ! grep -qF -- "$PW" "$SEALIFT_PG_DIR/server.log" || fail "the password is in the server log"
}

@test "with the right password: apply, status, history and the journal never show it" {
    bundle m b.sealift
    local uri="postgresql://pwuser:$PW@127.0.0.1:$PGPORT/$PGDATABASE"
    run_apply apply b.sealift -p release.pub -d "$uri"
    assert_exit 0
    assert_line 'applied 3 migrations; the database is at 003_orders'
    seen
    run_apply status b.sealift -p release.pub -d "$uri" --json
    assert_exit 0
    seen
    DATABASE_URL=$uri run_apply history --verify
    assert_exit 0
    seen
    PGPASSWORD=$PW run_apply history -d "host=127.0.0.1 port=$PGPORT user=pwuser dbname=$PGDATABASE" --json
    assert_exit 0
    seen
    run_apply rollback b.sealift -p release.pub -d "host=127.0.0.1 port=$PGPORT user=pwuser password=$PW dbname=$PGDATABASE" --to base
    assert_exit 0
    seen
    refute_secrets "$PW"
    ! "$SEALIFT_PG_BIN/pg_dump" -d "$PGDATABASE" | grep -qF -- "$PW" ||
        fail "the password is stored in the database"
    ! grep -qF -- "$PW" "$SEALIFT_PG_DIR/server.log" || fail "the password is in the server log"
}
