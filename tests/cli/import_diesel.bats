#!/usr/bin/env bats
# diesel migrations (bundles/examples/diesel): read, build, apply; the same schema as psql
# running each up.sql in order; rollback; metadata.toml and refusals.
# (diesel_cli is a Rust program with no Debian or npm package here: compared with psql.)
bats_require_minimum_version 1.5.0

load import_helpers

IMPORT_FORMAT=diesel

setup_file() { import_setup_file; }
teardown_file() { import_teardown_file; }
setup() { import_setup; }

@test "diesel: check reads the example, versions without dashes" {
    run_sealift check -d src --from diesel
    assert_exit 0
    refute_errors
    assert_line --index 0 '13 migrations in src (diesel): 0 recorded in src/sealift.sum, 13 new'
    assert_line --index 1 'new: 20240101000001_create_order_status (recorded by the next build)'
    assert_line 'ignored: README.md'
}

@test "diesel: --from auto says what it found" {
    run_sealift check -d src --from auto
    assert_exit 0
    assert_stderr 'sealift: detected diesel (migration directory 2024-01-01-000001_create_order_status/ with up.sql) in src'
}

@test "diesel: applied by sealift-apply, the schema equals psql running each up.sql" {
    import_db_setup
    build_example
    run_sealift inspect app.sealift
    assert_line --regexp '^ +11 +20240101000011 +customers_name_index +no-tx +no-tx +-$'
    newdb ref
    for f in src/*/up.sql; do
        psql_file ref "$f"
    done
    assert_apply_matches ref
    assert_rollback_to_base
}

@test "diesel: --to takes the migration's directory name" {
    import_db_setup
    build_example
    newdb partial
    apply_bundle partial --to 2024-01-01-000003_create_products
    run psql -X -At -d "$(dbn partial)" -c "SELECT count(*) FROM pg_tables WHERE tablename IN ('products', 'orders')"
    assert_output 1
}

@test "diesel: a directory without up.sql and an empty up.sql are refused" {
    mkdir src/2024-02-01-000000_nothing
    run_sealift check -d src --from diesel
    assert_exit 1
    assert_stderr 'src/2024-02-01-000000_nothing: a directory without up.sql'
    : >src/2024-02-01-000000_nothing/up.sql
    run_sealift check -d src --from diesel --allow-irreversible
    assert_exit 1
    assert_stderr 'up.sql: empty file (diesel refuses to run an empty migration file)'
}
