#!/usr/bin/env bats
# Sqitch projects (bundles/examples/sqitch): read the plan (dependencies, a tag, a reworked
# change), build, apply; the same schema as the real sqitch (Debian package) deploying the
# project to another database; rollback; the identifiers adoption will need; refusals.
bats_require_minimum_version 1.5.0

load import_helpers

IMPORT_FORMAT=sqitch

setup_file() { import_setup_file; }
teardown_file() { import_teardown_file; }
setup() { import_setup; }

require_sqitch() {
    command -v sqitch >/dev/null || skip "sqitch is not installed (Debian packages sqitch, libdbd-pg-perl)"
}

@test "sqitch: check reads the plan, a reworked change named with its tag" {
    run_sealift check -d src --from sqitch
    assert_exit 0
    refute_errors
    assert_line --index 0 '14 migrations in src (sqitch): 0 recorded in src/sealift.sum, 14 new'
    assert_line --index 6 'new: order_total_function@v1.0 (recorded by the next build)'
    assert_line --index 14 'new: order_total_function (recorded by the next build)'
    assert_line 'ignored: README.md'
}

@test "sqitch: --from auto says what it found" {
    run_sealift check -d src --from auto
    assert_exit 0
    assert_stderr 'sealift: detected sqitch (sqitch.plan) in src'
}

@test "sqitch: the real sqitch and sealift-apply leave the same schema; rollback to base" {
    import_db_setup
    require_sqitch
    build_example
    run_sealift inspect app.sealift
    assert_line --regexp '^ +11 +customers_name_index +no-tx +no-tx +-$'
    assert_line --regexp '^ +2 +create_customers +tx +tx +yes$'
    newdb viasqitch
    (cd src && must sqitch deploy --verify "db:pg:$(dbn viasqitch)")
    assert_apply_matches viasqitch --exclude-schema=sqitch
    assert_rollback_to_base
}

@test "sqitch: a change that requires a later one is refused as Sqitch refuses it" {
    sed -i 's/^create_customers 2024/create_customers [create_orders] 2024/' src/sqitch.plan
    run_sealift check -d src --from sqitch
    assert_exit 1
    assert_stderr 'src/sqitch.plan:6: change "create_customers" requires "create_orders", which is planned after it'
}

@test "sqitch: a change without a revert script needs --allow-irreversible" {
    rm src/revert/raise_coffee_price.sql
    run_sealift check -d src --from sqitch
    assert_exit 1
    assert_stderr 'src/revert/raise_coffee_price.sql: no revert script, so this migration cannot be rolled back'
    run_sealift check -d src --from sqitch --allow-irreversible
    assert_exit 0
}

@test "sqitch: a COMMIT in the middle of a script is refused, never run" {
    printf 'BEGIN;\nCREATE TABLE a (x int);\nCOMMIT;\nCREATE TABLE b (x int);\n' \
        >src/deploy/customers_phone.sql
    run_sealift check -d src --from sqitch
    assert_exit 1
    assert_stderr 'src/deploy/customers_phone.sql:1:1: BEGIN is not allowed in a migration'
}
