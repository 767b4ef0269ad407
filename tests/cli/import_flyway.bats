#!/usr/bin/env bats
# Flyway chains (bundles/examples/flyway): read, build, apply; the same schema as psql running
# the V scripts in Flyway's version order; rollback through the U scripts; refusals.
# (Flyway itself needs a JVM and its own download, neither of which is available here: the
# comparison is with psql.)
bats_require_minimum_version 1.5.0

load import_helpers

IMPORT_FORMAT=flyway

setup_file() { import_setup_file; }
teardown_file() { import_teardown_file; }
setup() { import_setup; }

@test "flyway: check reads the example in Flyway's version order" {
    run_sealift check -d src --from flyway
    assert_exit 0
    refute_errors
    assert_line --index 0 '13 migrations in src (flyway): 0 recorded in src/sealift.sum, 13 new'
    assert_line --index 9 'new: 1.9_seed_products (recorded by the next build)'
    assert_line --index 10 'new: 1.10_customers_phone (recorded by the next build)'
    assert_line 'ignored: README.md'
}

@test "flyway: --from auto says what it found" {
    run_sealift check -d src --from auto
    assert_exit 0
    assert_stderr 'sealift: detected flyway (V<version>__<description>.sql files) in src'
    assert_line --index 0 '13 migrations in src (flyway): 0 recorded in src/sealift.sum, 13 new'
}

@test "flyway: applied by sealift-apply, the schema equals psql running the scripts in order" {
    import_db_setup
    build_example
    run_sealift inspect app.sealift
    assert_line --regexp '^ +11 +1\.11 +customers_name_index +no-tx +no-tx +-$'
    newdb ref
    for f in $(cd src && for v in V*__*.sql; do x=${v#V}; x=${x%%__*}; echo "${x//_/.} $v"; done |
        sort -t. -k1,1n -k2,2n | cut -d' ' -f2); do
        psql_file ref "src/$f"
    done
    assert_apply_matches ref
    assert_rollback_to_base
}

@test "flyway: --to takes Flyway's file name of a migration" {
    import_db_setup
    build_example
    newdb partial
    apply_bundle partial --to V1_3__create_products.sql
    run psql -X -At -d "$(dbn partial)" -c "SELECT count(*) FROM pg_tables WHERE tablename IN ('products', 'orders')"
    assert_output 1
    run_apply status app.sealift -p release.pub -d "dbname=$(dbn partial)"
    assert_exit 7
}

@test "flyway: a repeatable migration is refused, naming the file and why" {
    printf 'CREATE OR REPLACE VIEW v AS SELECT 1;\n' >src/R__v.sql
    run_sealift check -d src --from flyway
    assert_exit 1
    assert_stderr 'sealift: error: src/R__v.sql: repeatable migrations are not supported: Flyway re-runs one'
}

@test "flyway: a migration without undo needs --allow-irreversible" {
    rm src/U1.12__raise_coffee_price.sql
    run_sealift check -d src --from flyway
    assert_exit 1
    assert_stderr 'src/V1.12__raise_coffee_price.sql: no undo script (U<version>__...sql), so this migration cannot be rolled back'
    run_sealift check -d src --from flyway --allow-irreversible
    assert_exit 0
    refute_errors
}
