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

@test "sqitch: tags are checked as Sqitch checks them: a duplicate, one before any change" {
    printf '@v1.0 2024-01-01T00:15:00Z Ada Lovelace <ada@example.com> # Again.\n' >>src/sqitch.plan
    run_sealift check -d src --from sqitch
    assert_exit 1
    assert_stderr "src/sqitch.plan:$(wc -l <src/sqitch.plan): tag \"v1.0\" duplicates an earlier one"
    cp -R "$EXAMPLES/sqitch" early
    sed -i '5i @v0 2024-01-01T00:00:30Z Ada Lovelace <ada@example.com> # Too early.' early/sqitch.plan
    run_sealift check -d early --from sqitch
    assert_exit 1
    assert_stderr 'early/sqitch.plan:5: tag "v0" declared without a preceding change'
}

@test "sqitch: requires on other projects are summed up in one warning line" {
    sed -i 's/^seed_products \[create_products\]/seed_products [create_products catalog:items other:@v2]/' \
        src/sqitch.plan
    run_sealift check -d src --from sqitch
    assert_exit 0
    assert_stderr 'src/sqitch.plan: 2 dependencies on other projects'"'"' changes (catalog:items, other:@v2)'
    assert_equal "$(grep -c 'other projects' <<<"$stderr")" 1
}

# sqitch_schema DB: the schema, as schema() gives it, without Sqitch's and sealift's own.
sqitch_schema() {
    schema "$1" --exclude-schema=sqitch
}

@test "sqitch: apply --to @TAG and rollback --to CHANGE@TAG stop where sqitch deploy/revert --to do" {
    import_db_setup
    build_example
    newdb tagged
    apply_bundle tagged --to @v1.0
    # @v1.0 follows order_summaries_view, the 8th change: the reworked function is its first version.
    run psql -X -At -d "$(dbn tagged)" -c 'SELECT count(*) FROM sealift.applied'
    assert_output 8
    run_apply status app.sealift -p release.pub -d "dbname=$(dbn tagged)"
    assert_exit 7
    # create_customers as of v1.0: the 2nd change.
    run_apply rollback app.sealift -p release.pub -d "dbname=$(dbn tagged)" --to create_customers@v1.0
    assert_exit 0
    refute_errors
    run psql -X -At -d "$(dbn tagged)" -c 'SELECT count(*) FROM sealift.applied'
    assert_output 2
    run_apply apply app.sealift -p release.pub -d "dbname=$(dbn tagged)" --to @nope
    assert_exit 2
    assert_stderr 'sealift-apply: error: --to @nope: the bundle has no such migration'
    # The same positions with the real sqitch: the same schema at each.
    require_sqitch
    newdb viasqitch
    (cd src && must sqitch deploy --to @v1.0 "db:pg:$(dbn viasqitch)")
    newdb tagged2
    apply_bundle tagged2 --to @v1.0
    sqitch_schema tagged2 >schema.sealift || fail "pg_dump failed"
    sqitch_schema viasqitch >schema.sqitch || fail "pg_dump failed"
    diff -u schema.sqitch schema.sealift
    grep -q 'CREATE VIEW public.order_summaries' schema.sealift
    (cd src && must sqitch revert -y --to create_customers@v1.0 "db:pg:$(dbn viasqitch)")
    run_apply rollback app.sealift -p release.pub -d "dbname=$(dbn tagged2)" --to create_customers@v1.0
    assert_exit 0
    sqitch_schema tagged2 >schema.sealift || fail "pg_dump failed"
    sqitch_schema viasqitch >schema.sqitch || fail "pg_dump failed"
    diff -u schema.sqitch schema.sealift
    grep -q 'CREATE TABLE public.customers' schema.sealift
    if grep -q 'CREATE TABLE public.products' schema.sealift; then
        fail "products is still there after the rollback to create_customers@v1.0"
    fi
}
