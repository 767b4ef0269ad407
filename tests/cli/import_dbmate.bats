#!/usr/bin/env bats
# dbmate chains (bundles/examples/dbmate): read, build, apply; the same schema as the real
# dbmate (npm package "dbmate", installed into a temporary directory) applying the example to
# another database; rollback; sections, transaction:false and refusals.
bats_require_minimum_version 1.5.0

load import_helpers

IMPORT_FORMAT=dbmate

setup_file() {
    # dbmate speaks TCP only (a postgres:// URL).
    import_setup_file tcp || return 1
    export DBMATE_DIR=$BATS_FILE_TMPDIR/dbmate
    if ! command -v npm >/dev/null; then
        export DBMATE_SKIP="npm is not installed (needed to install dbmate from the npm registry)"
    elif ! (mkdir -p "$DBMATE_DIR" && cd "$DBMATE_DIR" &&
        npm install --no-audit --no-fund --loglevel=error dbmate >npm.log 2>&1) ||
        [ ! -x "$DBMATE_DIR/node_modules/.bin/dbmate" ]; then
        export DBMATE_SKIP="could not install dbmate from the npm registry (see $DBMATE_DIR/npm.log)"
    fi
}
teardown_file() { import_teardown_file; }
setup() { import_setup; }

@test "dbmate: check reads the example" {
    run_sealift check -d src --from dbmate
    assert_exit 0
    refute_errors
    assert_line --index 0 '13 migrations in src (dbmate): 0 recorded in src/sealift.sum, 13 new'
    assert_line 'ignored: .gitkeep'
    assert_line 'ignored: README.md'
}

@test "dbmate: --from auto says what it found" {
    run_sealift check -d src --from auto
    assert_exit 0
    assert_stderr 'sealift: detected dbmate ("-- migrate:up" in 20240101000001_create_order_status.sql) in src'
}

@test "dbmate: the real dbmate and sealift-apply leave the same schema; rollback to base" {
    import_db_setup
    [ -z "${DBMATE_SKIP:-}" ] || skip "$DBMATE_SKIP"
    build_example
    run_sealift inspect app.sealift
    assert_line --regexp '^ +11 +20240101000011 +customers_name_index +no-tx +no-tx +-$'
    newdb viadbmate
    must "$DBMATE_DIR/node_modules/.bin/dbmate" --no-dump-schema --migrations-dir src \
        --url "postgres://postgres@127.0.0.1:$PGPORT/$(dbn viadbmate)?sslmode=disable" up
    assert_apply_matches viadbmate --exclude-table=public.schema_migrations
    assert_rollback_to_base
}

@test "dbmate: applied by sealift-apply, the schema equals psql running the up sections" {
    import_db_setup
    build_example
    newdb ref
    for f in src/*.sql; do
        sed -n '/^-- migrate:up/,/^-- migrate:down/p' "$f" | grep -v '^-- migrate:' >up.sql
        psql_file ref up.sql
    done
    assert_apply_matches ref
}

@test "dbmate: CREATE INDEX CONCURRENTLY without transaction:false is refused with dbmate's fix" {
    printf -- '-- migrate:up\nCREATE INDEX CONCURRENTLY p_idx ON products (sku);\n-- migrate:down\nDROP INDEX p_idx;\n' \
        >src/20240201000000_p_idx.sql
    run_sealift check -d src --from dbmate
    assert_exit 1
    assert_stderr 'src/20240201000000_p_idx.sql:2:1: CREATE INDEX CONCURRENTLY cannot run inside a transaction; add "transaction:false" to its "-- migrate:up" line'
}

@test "dbmate: two up sections are refused; an empty down section is a no-op" {
    printf -- '-- migrate:up\nSELECT 1;\n-- migrate:down\n' >src/20240201000000_noop.sql
    run_sealift check -d src --from dbmate
    assert_exit 0
    printf -- '-- migrate:up\nSELECT 1;\n-- migrate:down\n-- migrate:up\nSELECT 2;\n-- migrate:down\n' \
        >src/20240201000001_two.sql
    run_sealift check -d src --from dbmate
    assert_exit 1
    assert_stderr 'src/20240201000001_two.sql: more than one "-- migrate:up" section'
}
