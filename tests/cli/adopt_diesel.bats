#!/usr/bin/env bats
# Adoption of a database diesel managed (bundles/examples/diesel). diesel_cli is a Rust program
# with no Debian or npm package here, so its history is written as diesel_migrations writes it:
# setup_migration_table.sql's __diesel_schema_migrations (version VARCHAR(50) PRIMARY KEY NOT
# NULL, run_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP), and one row per migration run,
# the version being the directory name up to its first "_", dashes removed.
bats_require_minimum_version 1.5.0

load adopt_helpers

IMPORT_FORMAT=diesel
CHAIN_LENGTH=13
TOOL_TABLE=__diesel_schema_migrations
TOOL_EXCLUDE=--exclude-table=public.__diesel_schema_migrations

setup_file() { adopt_setup_file; }
teardown_file() { import_teardown_file; }
setup() { adopt_setup; }

# diesel_run DB K...: "diesel migration run" of the K-th migrations (1-based).
diesel_run() {
    local db=$1 k dir version
    shift
    q "$db" 'CREATE TABLE IF NOT EXISTS __diesel_schema_migrations (
       version VARCHAR(50) PRIMARY KEY NOT NULL,
       run_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP)' >/dev/null
    for k in "$@"; do
        dir=$(cd src && ls -d */ | sed -n "${k}p")
        version=${dir%%_*}
        psql_ups "$db" "$k" "$k" || return 1
        q "$db" "INSERT INTO __diesel_schema_migrations (version) VALUES ('${version//-/}')" >/dev/null
    done
}

@test "diesel: a database at 5 of 13 is adopted, only 6 to 13 run" {
    newdb mid
    diesel_run mid 1 2 3 4 5
    run q mid 'SELECT version FROM __diesel_schema_migrations ORDER BY run_on DESC LIMIT 1'
    assert_output 20240101000005
    assert_adoption mid 5
}

@test "diesel: plan piped to psql takes over as apply does" {
    newdb a
    newdb p
    diesel_run a $(seq 1 9)
    diesel_run p $(seq 1 9)
    run_apply apply app.sealift -p release.pub -d "dbname=$(dbn a)"
    assert_exit 0
    assert_plan_like_apply p a
}

@test "diesel: a migration the bundle does not know is refused" {
    newdb unknown
    diesel_run unknown 1 2 3
    q unknown "INSERT INTO __diesel_schema_migrations (version) VALUES ('20991231000000')" >/dev/null
    assert_refused unknown "__diesel_schema_migrations records migration 20991231000000 as applied, which this bundle does not know"
}

@test "diesel: a gap (1, 2 and 4 applied, not 3) is refused" {
    newdb gap
    diesel_run gap 1 2 4
    assert_refused gap "__diesel_schema_migrations records 20240101000004 as applied but not 20240101000003 before it; adopting would skip it"
}
