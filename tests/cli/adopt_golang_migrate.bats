#!/usr/bin/env bats
# Adoption of a database golang-migrate managed (bundles/examples/golang-migrate).
# golang-migrate is a Go binary with no Debian or npm package here, so its history is written
# as its postgres driver writes it: CREATE TABLE IF NOT EXISTS schema_migrations (version bigint
# not null primary key, dirty boolean not null), and for each migration SetVersion(v, true)
# (TRUNCATE, INSERT), the migration, SetVersion(v, false): one row, the current version.
bats_require_minimum_version 1.5.0

load adopt_helpers

IMPORT_FORMAT=golang-migrate
CHAIN_LENGTH=13
TOOL_TABLE=schema_migrations
TOOL_EXCLUDE=--exclude-table=public.schema_migrations

setup_file() { adopt_setup_file; }
teardown_file() { import_teardown_file; }
setup() { adopt_setup; }

# set_version DB VERSION DIRTY: golang-migrate's SetVersion.
set_version() {
    q "$1" "BEGIN; TRUNCATE \"public\".\"schema_migrations\";
        INSERT INTO \"public\".\"schema_migrations\" (version, dirty) VALUES ($2, $3); COMMIT" >/dev/null
}

# migrate_up DB N: "migrate up N" from an empty database.
migrate_up() {
    local db=$1 v
    q "$db" 'CREATE TABLE IF NOT EXISTS "public"."schema_migrations" (version bigint not null primary key, dirty boolean not null)' >/dev/null
    for v in $(seq 1 "$2"); do
        set_version "$db" "$v" true
        psql_ups "$db" "$v" "$v" || return 1
        set_version "$db" "$v" false
    done
}

@test "golang-migrate: a database at version 7 is adopted, only 8 to 13 run" {
    newdb mid
    migrate_up mid 7
    run q mid 'SELECT version, dirty FROM schema_migrations'
    assert_output '7|f'
    assert_adoption mid 7
}

@test "golang-migrate: plan piped to psql takes over as apply does" {
    newdb a
    newdb p
    migrate_up a 11
    migrate_up p 11
    run_apply apply app.sealift -p release.pub -d "dbname=$(dbn a)"
    assert_exit 0
    assert_plan_like_apply p a
}

@test "golang-migrate: a dirty version is refused, with golang-migrate's own way out" {
    newdb dirty
    migrate_up dirty 6
    # Migration 7 failed half-way: golang-migrate leaves (7, true) for a human.
    set_version dirty 7 true
    assert_refused dirty "schema_migrations is dirty at version 7: a migration failed half-way under golang-migrate; fix the database and clear the flag (migrate force) first"
}

@test "golang-migrate: a version the bundle does not know is refused" {
    newdb unknown
    migrate_up unknown 3
    set_version unknown 20240101 false
    assert_refused unknown "schema_migrations says the database is at 20240101, which this bundle does not know"
}

@test "golang-migrate: another tool's schema_migrations (no dirty column) is refused, not misread" {
    newdb other
    psql_ups other 1 2
    # dbmate's and Rails's schema_migrations have the same name and one column, version.
    q other "CREATE TABLE schema_migrations (version varchar(128) PRIMARY KEY);
        INSERT INTO schema_migrations VALUES ('1'), ('2')" >/dev/null
    assert_refused other 'schema_migrations has no column "dirty": it is not golang-migrate'"'"'s history table'
}

@test "golang-migrate: --adopt-table SCHEMA.TABLE reads a history kept under x-migrations-table" {
    newdb custom
    q custom 'CREATE SCHEMA ops; CREATE TABLE ops.gm_versions (version bigint not null primary key, dirty boolean not null)' >/dev/null
    psql_ups custom 1 7
    q custom 'INSERT INTO ops.gm_versions VALUES (7, false)' >/dev/null
    # Under its default name there is nothing to adopt.
    run_apply status app.sealift -p release.pub -d "dbname=$(dbn custom)"
    assert_exit 7
    assert_line --regexp '^applied      0 of 13 '
    refute_line --partial adoptable
    run_apply status app.sealift -p release.pub -d "dbname=$(dbn custom)" --adopt-table ops.gm_versions
    assert_exit 7
    assert_line 'adoptable    7 migrations recorded by golang-migrate in ops.gm_versions; apply adopts them without running them'
    run_apply apply app.sealift -p release.pub -d "dbname=$(dbn custom)" --adopt-table ops.gm_versions
    assert_exit 0
    refute_errors
    assert_line 'adopted 7 migrations that golang-migrate recorded in ops.gm_versions (nothing ran)'
    assert_products_once custom
    run q custom "SELECT event, count(*) FROM sealift.journal WHERE project = 'shop' GROUP BY event ORDER BY event"
    assert_output $'adopt|7\napply|6\nindex_build|1'
}

@test "golang-migrate: --adopt-table naming no table is refused; a malformed name is a usage error" {
    newdb none
    run_apply status app.sealift -p release.pub -d "dbname=$(dbn none)" --adopt-table ops.missing
    assert_exit 3
    assert_stderr 'sealift-apply: error: cannot take over from golang-migrate: --adopt-table ops.missing: no such table (the golang-migrate history to adopt)'
    run_apply apply app.sealift -p release.pub -d "dbname=$(dbn none)" --adopt-table 'ops.x;drop table y'
    assert_exit 2
    assert_stderr "sealift-apply: error: --adopt-table takes TABLE or SCHEMA.TABLE (letters, digits and '_', not starting with a digit)"
    run q none "SELECT to_regnamespace('sealift') IS NULL"
    assert_output t
}
