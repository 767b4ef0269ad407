#!/usr/bin/env bats
# The operator's promise: bin/sealift-apply is one static file that works alone in an empty
# chroot (itself, a bundle, a public key and /etc/hosts), over TCP and over TLS.
bats_require_minimum_version 1.5.0
load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'

setup_file() {
    export ROOT="${SEALIFT_ROOT:-$(cd "$BATS_TEST_DIRNAME/../.." && pwd)}"
    export SEALIFT_BIN="${SEALIFT_BIN:-$ROOT/bin}"
    . "$ROOT/tests/lib/pg.bash"
    # A self-signed certificate, made here, so the server can offer TLS.
    # (Outside the bats temp tree, which the postgres user cannot enter.)
    CERTDIR=$(mktemp -d "${TMPDIR:-/tmp}/sealift-cert.XXXXXX")
    export CERTDIR
    echo "$CERTDIR" >"$BATS_FILE_TMPDIR/certdir"
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=127.0.0.1" \
        -keyout "$CERTDIR/server.key" -out "$CERTDIR/server.crt" 2>/dev/null
    if [ "$(id -u)" -eq 0 ]; then chown -R postgres: "$CERTDIR"; fi
    chmod 0600 "$CERTDIR/server.key"
    chmod 0755 "$CERTDIR"
    SEALIFT_PG_OPTS="-c ssl=on -c ssl_cert_file=$CERTDIR/server.crt -c ssl_key_file=$CERTDIR/server.key" \
        pg_start tcp
    echo "$SEALIFT_PG_DIR" >"$BATS_FILE_TMPDIR/pgdir"
    # A chain whose second migration records whether its session used TLS.
    local m="$BATS_FILE_TMPDIR/m"
    mkdir -p "$m"
    printf 'CREATE TABLE t (id int);\n' >"$m/1_t.up.sql"
    printf 'DROP TABLE t;\n' >"$m/1_t.down.sql"
    printf 'CREATE TABLE session_tls AS SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid();\n' \
        >"$m/2_tls.up.sql"
    printf 'DROP TABLE session_tls;\n' >"$m/2_tls.down.sql"
    "$SEALIFT_BIN/sealift" keygen -W -p "$BATS_FILE_TMPDIR/k.pub" -s "$BATS_FILE_TMPDIR/k.key" >/dev/null
    "$SEALIFT_BIN/sealift" build -d "$m" -s "$BATS_FILE_TMPDIR/k.key" -o "$BATS_FILE_TMPDIR/b.sealift" \
        >/dev/null 2>&1
}

teardown_file() {
    . "$ROOT/tests/lib/pg.bash"
    SEALIFT_PG_DIR=$(cat "$BATS_FILE_TMPDIR/pgdir" 2>/dev/null) pg_stop
    rm -rf "$(cat "$BATS_FILE_TMPDIR/certdir" 2>/dev/null)"
}

# An empty root with only the applier, the bundle, the key and /etc/hosts.
make_root() {
    local r="$BATS_TEST_TMPDIR/root"
    mkdir -p "$r/etc"
    cp "$SEALIFT_BIN/sealift-apply" "$BATS_FILE_TMPDIR/b.sealift" "$BATS_FILE_TMPDIR/k.pub" "$r/"
    printf '127.0.0.1 localhost\n' >"$r/etc/hosts"
    echo "$r"
}

# The sanitizer build's applier is linked dynamically (sanitizers need that): the tests of
# the static binary itself run in make check, on bin/sealift-apply.
skip_if_dynamic_build() {
    [ -z "${SEALIFT_ASAN:-}" ] || skip "sanitizer build: the applier is dynamically linked"
}

@test "static: file says statically linked, ldd says not dynamic" {
    skip_if_dynamic_build
    run file "$SEALIFT_BIN/sealift-apply"
    assert_output --partial "statically linked"
    run ldd "$SEALIFT_BIN/sealift-apply"
    assert_output --partial "not a dynamic executable"
}

@test "static: the applier contains no compiler code (no libpg_query, no scrypt)" {
    run ! grep -q pg_query_parse "$SEALIFT_BIN/sealift-apply"
    run ! grep -q crypto_pwhash_scryptsalsa208sha256 "$SEALIFT_BIN/sealift-apply"
}

@test "static: verify and apply over TCP from an empty chroot" {
    skip_if_dynamic_build
    [ "$(id -u)" -eq 0 ] || skip "chroot needs root"
    local r
    r=$(make_root)
    run --separate-stderr chroot "$r" /sealift-apply verify /b.sealift -p /k.pub
    assert_success
    assert_output --partial "/b.sealift: verified"
    createdb -h 127.0.0.1 chroot1
    run --separate-stderr chroot "$r" /sealift-apply apply /b.sealift -p /k.pub \
        -d "host=127.0.0.1 port=$PGPORT user=postgres dbname=chroot1 sslmode=disable"
    assert_success
    assert_output --partial "applied 2 migrations"
    run psql -X -Atc "SELECT ssl FROM session_tls" chroot1
    assert_output "f"
    # A host name is resolved from the chroot's /etc/hosts alone.
    createdb -h 127.0.0.1 chroot2
    run --separate-stderr chroot "$r" /sealift-apply status /b.sealift -p /k.pub \
        -d "postgresql://postgres@localhost:$PGPORT/chroot2?sslmode=disable"
    assert_failure 7
    assert_output --partial "pending      2"
}

@test "static: TLS with sslmode=require from an empty chroot" {
    skip_if_dynamic_build
    [ "$(id -u)" -eq 0 ] || skip "chroot needs root"
    local r
    r=$(make_root)
    createdb -h 127.0.0.1 tls
    run --separate-stderr chroot "$r" /sealift-apply apply /b.sealift -p /k.pub \
        -d "host=127.0.0.1 port=$PGPORT user=postgres dbname=tls sslmode=require"
    assert_success
    run psql -X -Atc "SELECT ssl FROM session_tls" tls
    assert_output "t"
}

@test "static: GSSAPI is refused clearly, not crashed on" {
    createdb -h 127.0.0.1 gss
    run --separate-stderr "$SEALIFT_BIN/sealift-apply" status "$BATS_FILE_TMPDIR/b.sealift" \
        -p "$BATS_FILE_TMPDIR/k.pub" -d "host=127.0.0.1 port=$PGPORT user=postgres dbname=gss gssencmode=require"
    assert_failure 6
    assert [ -n "$(echo "$stderr" | grep '^sealift-apply: error: could not connect to the database: .*GSSAPI')" ]
}
