#!/usr/bin/env bats
# golang-migrate chains (bundles/examples/golang-migrate): read, build, apply; the same schema
# as psql running the .up.sql files in order; rollback; outer BEGIN/COMMIT and refusals.
# (golang-migrate is a Go binary with no Debian or npm package here: compared with psql.)
bats_require_minimum_version 1.5.0

load import_helpers

IMPORT_FORMAT=golang-migrate

setup_file() { import_setup_file; }
teardown_file() { import_teardown_file; }
setup() { import_setup; }

@test "golang-migrate: check reads the example, versions as numbers" {
    run_sealift check -d src --from golang-migrate
    assert_exit 0
    refute_errors
    assert_line --index 0 '13 migrations in src (golang-migrate): 0 recorded in src/sealift.sum, 13 new'
    assert_line --index 1 'new: 1_create_order_status (recorded by the next build)'
    assert_line 'ignored: README.md'
}

@test "golang-migrate: --from auto tells it from native by its zero-padded sequence" {
    run_sealift check -d src
    assert_exit 0
    assert_stderr "sealift: detected golang-migrate (BEGIN; ... COMMIT; in 000004_create_orders.up.sql, which sealift's own format refuses) in src"
}

@test "golang-migrate: applied by sealift-apply, the schema equals psql running the up files" {
    import_db_setup
    build_example
    run_sealift inspect app.sealift
    assert_line --regexp '^ +11 +11 +customers_name_index +no-tx +no-tx +-$'
    assert_line --regexp '^ +7 +7 +customers_updated_at +tx +tx +-$'
    newdb ref
    for f in src/*.up.sql; do
        psql_file ref "$f"
    done
    assert_apply_matches ref
    assert_rollback_to_base
}

@test "golang-migrate: --to takes the file name's VERSION_TITLE" {
    import_db_setup
    build_example
    newdb partial
    apply_bundle partial --to 000002_create_customers
    run psql -X -At -d "$(dbn partial)" -c "SELECT count(*) FROM pg_tables WHERE tablename IN ('customers', 'products')"
    assert_output 1
}

@test "golang-migrate: CREATE INDEX CONCURRENTLY among other statements is refused" {
    printf 'CREATE TABLE t (a int);\nCREATE INDEX CONCURRENTLY t_a ON t (a);\n' >src/000014_t.up.sql
    printf 'DROP TABLE t;\n' >src/000014_t.down.sql
    run_sealift check -d src --from golang-migrate
    assert_exit 1
    assert_stderr 'src/000014_t.up.sql:2:1: CREATE INDEX CONCURRENTLY must be the only statement of its file'
}

@test "golang-migrate: up files without down files need --allow-irreversible" {
    rm src/000013_customers_email_lowercase.down.sql
    run_sealift check -d src --from golang-migrate
    assert_exit 1
    assert_stderr 'src/000013_customers_email_lowercase.up.sql: no .down.sql file, so this migration cannot be rolled back'
    run_sealift check -d src --from golang-migrate --allow-irreversible
    assert_exit 0
}

@test "golang-migrate: a psql meta-command is refused, never sent" {
    printf '\\set ON_ERROR_STOP on\nSELECT 1;\n' >src/000014_x.up.sql
    printf 'SELECT 1;\n' >src/000014_x.down.sql
    run_sealift check -d src --from golang-migrate
    assert_exit 1
    assert_stderr 'src/000014_x.up.sql:1:1: psql meta-command "\set" is not supported'
}
