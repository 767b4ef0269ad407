#!/usr/bin/env bats
# Adoption of a database the real Liquibase 4.3.3 managed (bundles/examples/liquibase):
# DATABASECHANGELOG rows are matched by author:id@filename and MD5SUM (checksum version 8, as
# Liquibase 4.3 computes it); a held DATABASECHANGELOGLOCK, a FAILED row, an edited changeset
# or an unknown one are refused and change nothing.
bats_require_minimum_version 1.5.0

load adopt_helpers
load liquibase_helpers

IMPORT_FORMAT=liquibase
CHAIN_LENGTH=13
TOOL_TABLE=databasechangelog
TOOL_EXCLUDE=--exclude-table=public.databasechangelog*

setup_file() {
    adopt_setup_file tcp || return 1
    liquibase_install
}
teardown_file() { import_teardown_file; }
setup() {
    adopt_setup
    liquibase_db_setup
}

@test "liquibase: a database Liquibase brought halfway (6 of 13) is adopted, only the rest runs" {
    newdb half
    liquibase half updateCount 6
    assert_adoption half 6
    # Liquibase's own tables are left as they were.
    run q half 'SELECT count(*) FROM databasechangelog'
    assert_output 6
}

@test "liquibase: a database Liquibase brought to the end is adopted whole; nothing runs" {
    newdb full
    liquibase full update
    run_apply apply app.sealift -p release.pub -d "dbname=$(dbn full)"
    assert_exit 0
    refute_errors
    assert_line 'adopted 13 migrations that liquibase recorded in databasechangelog (nothing ran)'
    assert_products_once full
}

@test "liquibase: FILENAMEs as Spring Boot records them (classpath:/...) are matched" {
    newdb spring
    liquibase spring updateCount 5
    q spring "UPDATE databasechangelog SET filename = 'classpath:/' || filename" >/dev/null
    assert_adoption spring 5
}

@test "liquibase: a changeset edited after Liquibase ran it is refused, naming both MD5SUMs" {
    newdb edited
    liquibase edited updateCount 4
    local before
    before=$(q edited "SELECT md5sum FROM databasechangelog WHERE id = 'customers'")
    sed -i 's/name text NOT NULL,/name text NOT NULL,  -- reviewed/' src/changes/001-base.sql
    build_example
    run_sealift inspect app.sealift
    assert_exit 0
    assert_refused edited "databasechangelog records changeset ana:customers@changes/001-base.sql with MD5SUM $before, but the bundle's changeset has 8:"
}

@test "liquibase: whitespace-only edits keep Liquibase's checksum, so adoption still holds" {
    newdb spaces
    liquibase spaces updateCount 3
    sed -i 's/^    email text NOT NULL UNIQUE,/\temail   text NOT NULL UNIQUE,/; s/$/\r/' src/changes/001-base.sql
    build_example
    assert_adoption spaces 3
}

@test "liquibase: a held DATABASECHANGELOGLOCK is refused" {
    newdb locked
    liquibase locked updateCount 2
    q locked "UPDATE databasechangeloglock SET locked = true, lockedby = 'ci-runner (10.0.0.7)', lockgranted = '2024-01-01 00:00'" >/dev/null
    assert_refused locked 'databasechangeloglock is held (by ci-runner (10.0.0.7) since 2024-01-01 00:00:00): Liquibase is running, or was stopped while it ran; when none runs, clear it with "liquibase release-locks"'
}

@test "liquibase: a FAILED row and a changeset the bundle does not know are refused" {
    newdb failed
    liquibase failed updateCount 3
    q failed "UPDATE databasechangelog SET exectype = 'FAILED' WHERE id = 'products'" >/dev/null
    assert_refused failed 'databasechangelog records changeset ana:products@changes/001-base.sql as failed; fix it with Liquibase first'
    newdb unknown
    liquibase unknown updateCount 3
    q unknown "UPDATE databasechangelog SET filename = 'elsewhere.sql' WHERE id = 'customers'" >/dev/null
    assert_refused unknown 'databasechangelog records changeset ana:customers@elsewhere.sql as applied, which this bundle does not know'
}
