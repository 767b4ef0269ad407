#!/usr/bin/env bats
# sealift check: file names and pairs, directives, placeholders, text encoding and every
# script through PostgreSQL's parser. Every problem is one "FILE[:LINE[:COL]]: ..." error.
# ${schema} is a sealift placeholder, not a shell one.
# shellcheck disable=SC2016
bats_require_minimum_version 1.5.0

load helpers

setup() {
    sealift_setup
    write_migrations
}

# A third migration with the given up (and optional down) SQL.
V3=20240103000000_more
add_third() {
    add_migration migrations "$V3" "$@"
}

# check must refuse: exit 1, the given error, and the closing count.
assert_refused() {
    assert_exit 1
    assert_error "$1"
    assert_problems "${2:-1}"
}

@test "check accepts a valid chain, lists the new migrations and the ignored files" {
    touch migrations/README.md migrations/.gitkeep
    run_sealift check
    assert_exit 0
    refute_errors
    assert_line --index 0 '2 migrations in migrations (native): 0 recorded in migrations/sealift.sum, 2 new'
    assert_line "new: $V1 (recorded by the next build)"
    assert_line "new: $V2 (recorded by the next build)"
    assert_line 'ignored: .gitkeep'
    assert_line 'ignored: README.md'
}

@test "check reports a syntax error as FILE:LINE:COLUMN with the parser's message" {
    add_third $'CREATE TABLE t (id int);\nCREATE TABLE u (id int,, x int);' 'SELECT 1;'
    run_sealift check
    assert_refused "migrations/$V3.up.sql:2:24: syntax error at or near \",\""
    refute_line --partial 'new:'
}

@test "CREATE INDEX CONCURRENTLY needs the no-transaction directive" {
    add_third 'CREATE INDEX CONCURRENTLY users_name ON users (name);' \
        'DROP INDEX CONCURRENTLY users_name;'
    run_sealift check
    assert_exit 1
    assert_error "migrations/$V3.up.sql:1:1: CREATE INDEX CONCURRENTLY cannot run inside a transaction; put \"-- sealift:no-transaction\" at the top of migrations/$V3.up.sql"
    assert_error "migrations/$V3.down.sql:1:1: DROP INDEX CONCURRENTLY cannot run inside a transaction"
    assert_problems 2

    add_third $'-- sealift:no-transaction\nCREATE INDEX CONCURRENTLY users_name ON users (name);' \
        $'-- sealift:no-transaction\nDROP INDEX CONCURRENTLY users_name;'
    run_sealift check
    assert_exit 0
    refute_errors
    assert_line "new: $V3 (recorded by the next build)"
}

@test "transaction control in a migration is refused" {
    add_third $'BEGIN;\nCREATE TABLE t (id int);\nCOMMIT;' 'DROP TABLE t;'
    run_sealift check
    assert_exit 1
    assert_error "migrations/$V3.up.sql:1:1: BEGIN is not allowed in a migration: sealift runs each migration in its own transaction"
    assert_error "migrations/$V3.up.sql:3:1: COMMIT is not allowed in a migration"
    assert_problems 2
}

@test "a psql meta-command is refused with a clear message" {
    add_third $'CREATE TABLE t (id int);\n\\i x.sql' 'DROP TABLE t;'
    run_sealift check
    assert_refused "migrations/$V3.up.sql:2:1: psql meta-command \"\\i\" is not supported (sealift sends SQL to the server, not to psql)"
}

@test "a migration without a down file is refused unless marked irreversible" {
    add_third 'DROP TABLE users;'
    run_sealift check
    assert_refused "migrations/$V3.up.sql: no migrations/$V3.down.sql (write one, or mark the up file with \"-- sealift:irreversible\")"

    add_third $'-- sealift:irreversible\nDROP TABLE users;'
    run_sealift check
    assert_exit 0
    refute_errors
}

@test "an irreversible migration with a down file is refused" {
    add_third $'-- sealift:irreversible\nDROP TABLE users;' 'SELECT 1;'
    run_sealift check
    assert_refused "migrations/$V3.up.sql: marked \"-- sealift:irreversible\" but migrations/$V3.down.sql exists (remove one of them)"
}

@test "a down file without an up file is refused" {
    printf 'SELECT 1;\n' >"migrations/$V3.down.sql"
    run_sealift check
    assert_refused "migrations/$V3: migration has a down file but no migrations/$V3.up.sql"
}

@test "a duplicate version is refused, naming both migrations" {
    add_migration migrations 20240102000000_add_phone 'SELECT 1;' 'SELECT 1;'
    run_sealift check
    assert_exit 1
    assert_error "migrations/20240102000000_add_phone.up.sql: duplicate version 20240102000000 (also used by $V2); every migration needs its own version"
}

@test "versions that differ only in leading zeros are duplicates" {
    add_migration migrations 020240102000000_again 'SELECT 1;' 'SELECT 1;'
    run_sealift check
    assert_exit 1
    assert_error 'duplicate version'
    assert_error '020240102000000_again'
}

@test "a misnamed .sql file is refused" {
    for name in 20240103000000-more.up.sql notes.sql 20240103000000_more.sql; do
        printf 'SELECT 1;\n' >"migrations/$name"
        run_sealift check
        assert_refused "migrations/$name: not a migration file name (expected VERSION_SLUG.up.sql, .down.sql or .verify.sql"
        rm "migrations/$name"
    done
}

@test "an unknown directive is refused with FILE:LINE" {
    add_third $'-- a comment\n-- sealift:no-transactions\nSELECT 1;' 'SELECT 1;'
    run_sealift check
    assert_refused "migrations/$V3.up.sql:2: unknown directive \"sealift:no-transactions\""
}

@test "a directive after the first SQL statement is refused" {
    add_third $'SELECT 1;\n-- sealift:no-transaction\nSELECT 2;' 'SELECT 1;'
    run_sealift check
    assert_refused "migrations/$V3.up.sql:2: directive \"sealift:no-transaction\" must be in the leading comment block, before any SQL"
}

@test "irreversible is not allowed in a down file" {
    add_third 'SELECT 1;' $'-- sealift:irreversible\nSELECT 1;'
    run_sealift check
    assert_refused "migrations/$V3.down.sql:1: directive \"sealift:irreversible\" is not allowed in this file"
}

@test "an undefined placeholder is one error naming every FILE:LINE:COL; --set defines it" {
    add_third $'-- orders in ${schema}\nCREATE TABLE ${schema}.orders (id int);\nCREATE TABLE ${other}.x (id int);' 'DROP TABLE ${schema}.orders;'
    run_sealift check
    assert_exit 1
    assert_error "undefined placeholder \${schema} (give --set schema=VALUE), used 2 times: migrations/$V3.up.sql:2:14, migrations/$V3.down.sql:1:12"
    assert_error "undefined placeholder \${other} (give --set other=VALUE), used 1 time: migrations/$V3.up.sql:3:14"
    assert_problems 2

    run_sealift check --set schema=app --set other=o
    assert_exit 0
    refute_errors
    assert_line "new: $V3 (recorded by the next build)"
}

@test "--env-file sets placeholders; unused values are warned about" {
    add_third 'CREATE TABLE ${schema}.orders (id int);' 'DROP TABLE ${schema}.orders;'
    printf '# placeholders for production\nschema=app\n\nregion=eu\n' >prod.env

    run_sealift check --env-file prod.env
    assert_exit 0
    refute_errors
    assert_warning 'placeholder ${region} was set but no migration uses it'
}

@test "bad --set and --env-file values are usage errors" {
    run_sealift check --set 'no equals sign'
    assert_usage_error check '--set "no equals sign" is not NAME=VALUE with a valid placeholder name'

    run_sealift check --env-file missing.env
    assert_exit 2
    assert_error 'could not open file "missing.env"'

    printf 'schema=app\n1bad=x\n' >bad.env
    run_sealift check --env-file bad.env
    assert_exit 2
    assert_error 'bad.env:2: "1bad=x" is not NAME=VALUE with a valid placeholder name'
}

@test "CRLF line ends and a UTF-8 BOM do not change the checksums" {
    mkdir crlf
    for f in migrations/*.sql; do
        # BOM, then the same text with CRLF line ends.
        { printf '\xef\xbb\xbf'; sed 's/$/\r/' "$f"; } >"crlf/${f#migrations/}"
    done
    assert [ "$(sha256sum <"crlf/$V1.up.sql")" != "$(sha256sum <"migrations/$V1.up.sql")" ]
    make_keypair release

    export SOURCE_DATE_EPOCH=1700000000
    run_sealift build -d migrations --project demo -s release.key -o lf.sealift
    assert_exit 0
    run_sealift build -d crlf --project demo -s release.key -o crlf.sealift
    assert_exit 0

    # Same recorded history, same source checksums, and in fact the very same bundle.
    assert cmp migrations/sealift.sum crlf/sealift.sum
    run_sealift inspect crlf.sealift --json
    assert_exit 0
    assert_output --partial "\"source_sha256\":\"$(sha256sum <"migrations/$V1.up.sql" | cut -d' ' -f1)\""
    assert cmp lf.sealift crlf.sealift
}

@test "invalid UTF-8 is refused with FILE:LINE:COL" {
    add_third $'CREATE TABLE t (id int);\nCOMMENT ON TABLE t IS \'caf\xe9\';' 'DROP TABLE t;'
    run_sealift check
    assert_refused "migrations/$V3.up.sql:2:27: invalid UTF-8 (byte 0xe9)"
}

@test "a NUL byte is refused with FILE:LINE:COL" {
    add_third '' 'DROP TABLE t;'
    printf 'SELECT 1;\nSELECT\0 2;\n' >"migrations/$V3.up.sql"
    run_sealift check
    assert_refused "migrations/$V3.up.sql:2:7: NUL byte in the file"
}

@test "check lists every problem, not just the first" {
    add_third $'-- sealift:bogus\nSELECT 1;' 'SELEC 1;'
    printf 'SELECT 1;\n' >migrations/stray.sql
    run_sealift check
    assert_exit 1
    assert_error 'unknown directive "sealift:bogus"'
    assert_error 'syntax error at or near "SELEC"'
    assert_error 'stray.sql: not a migration file name'
    assert_problems 3
}

@test "problems in many migrations are listed in the chain's order, however the work was split" {
    local i f
    # Files are read and parsed on several threads: the report must not depend on which
    # thread finished first. Each migration has an unreadable down file (a NUL byte, so also
    # no down to pair with) and a syntax error in its up file.
    for i in $(seq 101 160); do
        f=migrations/20250101000${i}_m$i
        printf 'SELECT %d;\nSELEC %d;\n' "$i" "$i" >"$f.up.sql"
        printf 'SELECT 1;\0\n' >"$f.down.sql"
    done
    run_sealift check
    assert_exit 1
    assert_problems 180
    # Reading reports come first, migration by migration; then the parser's, in the same order.
    for i in $(seq 101 160); do
        f=migrations/20250101000${i}_m$i
        echo "$f.down.sql:1:10: NUL byte in the file"
        echo "$f.up.sql: no $f.down.sql (write one, or mark the up file with \"-- sealift:irreversible\")"
    done >want
    for i in $(seq 101 160); do
        echo "migrations/20250101000${i}_m$i.up.sql:2:1: syntax error at or near \"SELEC\""
    done >>want
    printf '%s\n' "${stderr_lines[@]}" | sed -n 's/^sealift: error: \(migrations\/2025\)/\1/p' >got
    diff want got
}

@test "an empty directory passes with a warning" {
    mkdir empty
    run_sealift check -d empty
    assert_exit 0
    assert_line --index 0 '0 migrations in empty (native): 0 recorded in empty/sealift.sum, 0 new'
    assert_warning 'no migrations in "empty"'
}

@test "a missing directory is an environment error (exit 2)" {
    run_sealift check -d no-such-dir
    assert_exit 2
    assert_error 'could not open migrations directory "no-such-dir": No such file or directory'
}

@test "check rejects unknown options and stray arguments with the --help hint" {
    run_sealift check --bogus
    assert_usage_error check 'unrecognized option "--bogus"'
    run_sealift check extra
    assert_usage_error check 'unexpected argument "extra"'
    run_sealift check --help
    assert_exit 0
    assert_output --partial 'Usage:'
}
