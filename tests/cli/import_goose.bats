#!/usr/bin/env bats
# goose chains (bundles/examples/goose): read, build, apply; the same schema as psql running
# each file's Up section in order; rollback; annotations and refusals.
# (goose is a Go binary; its npm wrapper downloads it from GitHub, which is not reachable here:
# compared with psql.)
bats_require_minimum_version 1.5.0

load import_helpers

IMPORT_FORMAT=goose

setup_file() { import_setup_file; }
teardown_file() { import_teardown_file; }
setup() { import_setup; }

@test "goose: check reads the example" {
    run_sealift check -d src --from goose
    assert_exit 0
    refute_errors
    assert_line --index 0 '13 migrations in src (goose): 0 recorded in src/sealift.sum, 13 new'
    assert_line 'ignored: README.md'
}

@test "goose: --from auto says what it found" {
    run_sealift check -d src --from auto
    assert_exit 0
    assert_stderr 'sealift: detected goose ("-- +goose Up" in 00001_create_order_status.sql) in src'
}

@test "goose: applied by sealift-apply, the schema equals psql running the Up sections" {
    import_db_setup
    build_example
    run_sealift inspect app.sealift
    assert_line --regexp '^ +11 +11 +customers_name_index +no-tx +no-tx +-$'
    newdb ref
    for f in src/*.sql; do
        sed -n '/^-- +goose Up/,/^-- +goose Down/p' "$f" | grep -v '^-- +goose' >up.sql
        psql_file ref up.sql
    done
    assert_apply_matches ref
    assert_rollback_to_base
}

@test "goose: --to takes goose's version and file name" {
    import_db_setup
    build_example
    newdb partial
    apply_bundle partial --to 00003_create_products
    run psql -X -At -d "$(dbn partial)" -c "SELECT count(*) FROM pg_tables WHERE tablename IN ('products', 'orders')"
    assert_output 1
}

@test "goose: a Go migration is refused" {
    printf 'package migrations\n' >src/00014_backfill.go
    run_sealift check -d src --from goose
    assert_exit 1
    assert_stderr 'src/00014_backfill.go: a goose Go migration: it runs Go code'
}

@test "goose: a semicolon goose would cut a function body at is refused, with the fix" {
    cat >src/00014_f.sql <<'SQL'
-- +goose Up
CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $$
BEGIN
    RETURN 1;
END;
$$;
-- +goose Down
DROP FUNCTION f();
SQL
    run_sealift check -d src --from goose
    assert_exit 1
    assert_stderr 'src/00014_f.sql:4: goose ends a statement at this line'"'"'s ";", but it is inside'
    assert_stderr 'StatementBegin'
}

@test "goose: an empty Down section and a missing one are no-op downs, as goose treats them" {
    printf -- '-- +goose Up\nSELECT 1;\n-- +goose Down\n' >src/00014_noop.sql
    run_sealift check -d src --from goose
    assert_exit 0
    assert_stderr 'sealift: warning: src/00014_noop.sql: the down script has no statements: compiled as a no-op down'
    printf -- '-- +goose Up\nSELECT 1;\n' >src/00015_up_only.sql
    run_sealift check -d src --from goose
    assert_exit 0
    assert_stderr 'sealift: warning: src/00015_up_only.sql: no "-- +goose Down" section: compiled as a no-op down'
    run_sealift check -d src --from goose --strict
    assert_exit 1
    assert_stderr 'sealift: error: src/00015_up_only.sql: no "-- +goose Down" section'
}
