#!/usr/bin/env bats
# Adoption of a database the real Sqitch (Debian package) managed (bundles/examples/sqitch):
# "sqitch deploy --to CHANGE", then sealift-apply takes over, matching sqitch.changes by change
# id and checking each change's script_hash (SHA-1 of the deploy script) against the bundle.
bats_require_minimum_version 1.5.0

load adopt_helpers

IMPORT_FORMAT=sqitch
CHAIN_LENGTH=14
TOOL_TABLE=sqitch.changes
TOOL_EXCLUDE=--exclude-schema=sqitch

setup_file() {
    command -v sqitch >/dev/null ||
        export ADOPT_SKIP="sqitch is not installed (Debian packages sqitch, libdbd-pg-perl)"
    adopt_setup_file
}
teardown_file() { import_teardown_file; }
setup() { adopt_setup; }

# sqitch_in DIR DB ARG...: the real sqitch in project DIR against DB.
sqitch_in() {
    local dir=$1 db=$2 verb=$3
    shift 3
    (cd "$dir" && sqitch --quiet "$verb" "$@" "db:pg:$(dbn "$db")")
}

@test "sqitch: a database deployed to seed_products (9 of 14, past a tag and a reworked change) is adopted" {
    newdb mid
    must sqitch_in src mid deploy --to seed_products
    run q mid "SELECT count(*), count(DISTINCT change) FROM sqitch.changes"
    assert_output '9|9'
    assert_adoption mid 9
}

@test "sqitch: plan piped to psql takes over as apply does" {
    newdb a
    newdb p
    must sqitch_in src a deploy --to create_products
    must sqitch_in src p deploy --to create_products
    run_apply apply app.sealift -p release.pub -d "dbname=$(dbn a)"
    assert_exit 0
    assert_plan_like_apply p a
}

@test "sqitch: the registry's project is found by change id; other projects in it are left alone" {
    newdb shared
    # Another Sqitch project deploys into the same registry first.
    mkdir audit
    (cd audit && must sqitch init audit --engine pg &&
        must sqitch add audit_log -n 'Audit log.' &&
        printf 'BEGIN;\nCREATE SCHEMA audit;\nCOMMIT;\n' >deploy/audit_log.sql) || fail "sqitch init failed"
    must sqitch_in audit shared deploy
    must sqitch_in src shared deploy --to create_orders
    # A bundle whose project is not called as the Sqitch project is.
    cp -R src renamed
    must "$SEALIFT" build -d renamed --from sqitch -s release.key -o renamed.sealift --project store
    run_apply status renamed.sealift -p release.pub -d "dbname=$(dbn shared)"
    assert_exit 7
    assert_line 'adoptable    4 migrations recorded by sqitch in sqitch.changes; apply adopts them without running them'
    run_apply apply renamed.sealift -p release.pub -d "dbname=$(dbn shared)"
    assert_exit 0
    refute_errors
    assert_line 'adopted 4 migrations that sqitch recorded in sqitch.changes (nothing ran)'
    ref_db
    assert_same_schema shared ref "$TOOL_EXCLUDE" --exclude-schema=audit
    assert_products_once shared
    run q shared "SELECT project, count(*) FROM sqitch.changes GROUP BY project ORDER BY project"
    assert_output $'audit|1\nshop|4'
}

@test "sqitch: a deploy script changed after Sqitch deployed it is refused, naming both hashes" {
    newdb edited
    must sqitch_in src edited deploy --to create_orders
    local before after
    before=$(sha1sum <src/deploy/create_products.sql | cut -d' ' -f1)
    run q edited "SELECT script_hash FROM sqitch.changes WHERE change = 'create_products'"
    assert_output "$before"
    printf -- '-- reviewed\n' >>src/deploy/create_products.sql
    after=$(sha1sum <src/deploy/create_products.sql | cut -d' ' -f1)
    build_example
    assert_refused edited "sqitch.changes records change create_products with script hash $before, but the bundle's deploy script has $after: it was changed after Sqitch deployed it"
}

@test "sqitch: a change the bundle does not know is refused" {
    newdb unknown
    # Deployed from another plan: a hotfix change after create_customers.
    cp -R src hotfix
    sed -i '/^create_customers /a hotfix [create_customers] 2024-01-01T00:02:30Z Ada Lovelace <ada@example.com> # Hotfix.' hotfix/sqitch.plan
    printf 'BEGIN;\nALTER TABLE customers ADD COLUMN vip boolean;\nCOMMIT;\n' >hotfix/deploy/hotfix.sql
    printf 'BEGIN;\nALTER TABLE customers DROP COLUMN vip;\nCOMMIT;\n' >hotfix/revert/hotfix.sql
    must sqitch_in hotfix unknown deploy --to hotfix
    local id
    id=$(q unknown "SELECT change_id FROM sqitch.changes WHERE change = 'hotfix'")
    assert_refused unknown "sqitch.changes records change hotfix ($id), which this bundle does not know"
}
