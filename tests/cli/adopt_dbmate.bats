#!/usr/bin/env bats
# Adoption of a database the real dbmate (npm package "dbmate", installed into a temporary
# directory) managed (bundles/examples/dbmate): "dbmate up" over a copy of the migrations
# directory holding only the first N files, then sealift-apply takes over.
bats_require_minimum_version 1.5.0

load adopt_helpers

IMPORT_FORMAT=dbmate
CHAIN_LENGTH=13
TOOL_TABLE=schema_migrations
TOOL_EXCLUDE=--exclude-table=public.schema_migrations

setup_file() {
    export DBMATE_DIR=$BATS_FILE_TMPDIR/dbmate
    if ! command -v npm >/dev/null; then
        export ADOPT_SKIP="npm is not installed (needed to install dbmate from the npm registry)"
    elif ! (mkdir -p "$DBMATE_DIR" && cd "$DBMATE_DIR" &&
        npm install --no-audit --no-fund --loglevel=error dbmate >npm.log 2>&1) ||
        [ ! -x "$DBMATE_DIR/node_modules/.bin/dbmate" ]; then
        export ADOPT_SKIP="could not install dbmate from the npm registry (see $DBMATE_DIR/npm.log)"
    fi
    # dbmate speaks TCP only (a postgres:// URL).
    adopt_setup_file tcp
}
teardown_file() { import_teardown_file; }
setup() { adopt_setup; }

# dbmate_up DB FILE...: "dbmate up" with a migrations directory holding only FILEs (from src).
dbmate_up() {
    local db=$1 f
    shift
    rm -rf "mig.$db" && mkdir "mig.$db" || return 1
    for f in "$@"; do
        cp "src/$f" "mig.$db/" || return 1
    done
    must "$DBMATE_DIR/node_modules/.bin/dbmate" --no-dump-schema --migrations-dir "mig.$db" \
        --url "postgres://postgres@127.0.0.1:$PGPORT/$(dbn "$db")?sslmode=disable" up
}

# The first N migration files of the example.
first() {
    (cd src && ls 2024*.sql | head -n "$1")
}

@test "dbmate: a database dbmate brought to 11 of 13 (past a transaction:false step) is adopted" {
    newdb mid
    dbmate_up mid $(first 11)
    run q mid 'SELECT count(*), max(version) FROM schema_migrations'
    assert_output '11|20240101000011'
    assert_adoption mid 11
}

@test "dbmate: plan piped to psql takes over as apply does" {
    newdb a
    newdb p
    dbmate_up a $(first 4)
    dbmate_up p $(first 4)
    run_apply apply app.sealift -p release.pub -d "dbname=$(dbn a)"
    assert_exit 0
    assert_plan_like_apply p a
}

@test "dbmate: a migration the bundle does not know is refused" {
    newdb unknown
    printf -- '-- migrate:up\nCREATE TABLE hotfix (id int);\n-- migrate:down\nDROP TABLE hotfix;\n' \
        >src/20240101000099_hotfix.sql
    dbmate_up unknown $(first 3) 20240101000099_hotfix.sql
    assert_refused unknown "schema_migrations records migration 20240101000099 as applied, which this bundle does not know"
}

@test "dbmate: a gap (1, 2 and 4 applied, not 3) is refused" {
    newdb gap
    dbmate_up gap $(first 4 | sed 3d)
    run q gap 'SELECT string_agg(version, $$ $$ ORDER BY version) FROM schema_migrations'
    assert_output '20240101000001 20240101000002 20240101000004'
    assert_refused gap "schema_migrations records 20240101000004 as applied but not 20240101000003 before it; adopting would skip it"
}
