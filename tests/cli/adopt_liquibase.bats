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

# views_sql EMAILS SKUS: src/changes/later/d-views.sql, two runOnChange changesets (the
# bundle's repeatables dee:customer-emails@... and dee:product-skus@...). EMAILS is the column
# list of the customer_emails view, SKUS the comment on the product_skus view. Each logs its
# run in rep_runs, so that a run that should not happen shows.
views_sql() {
    cat >src/changes/later/d-views.sql <<SQL
--liquibase formatted sql

--changeset dee:customer-emails runOnChange:true
CREATE TABLE IF NOT EXISTS rep_runs (name text NOT NULL);
INSERT INTO rep_runs VALUES ('customer emails');
CREATE OR REPLACE VIEW customer_emails AS SELECT $1 FROM customers;

--changeset dee:product-skus runOnChange:true
CREATE TABLE IF NOT EXISTS rep_runs (name text NOT NULL);
INSERT INTO rep_runs VALUES ('product skus');
CREATE OR REPLACE VIEW product_skus AS SELECT sku FROM products;
COMMENT ON VIEW product_skus IS '$2';
SQL
}

EMAILS=dee:customer-emails@changes/later/d-views.sql
SKUS=dee:product-skus@changes/later/d-views.sql

# The runs each repeatable's log shows, by name.
rep_runs_of() {
    q "$1" "SELECT name, count(*) FROM rep_runs GROUP BY name ORDER BY name"
}

# What sealift recorded of the repeatables: runs, and the journal's repeatable events.
rep_history_of() {
    q "$1" "SELECT name, run, how FROM sealift.repeatable_runs WHERE project = 'shop' ORDER BY name" &&
        q "$1" "SELECT event, migration_id FROM sealift.journal WHERE project = 'shop'
            AND event LIKE '%repeatable' ORDER BY seq"
}

# reran_then_edited DB...: new databases, each brought to the end by Liquibase with the views
# as first written; then customer emails edited, which Liquibase runs again and records in
# place (its row: RERAN, the new MD5SUM); then product skus edited, which Liquibase has not run
# since.
reran_then_edited() {
    local db
    views_sql 'id, email' v1
    for db in "$@"; do
        newdb "$db"
        liquibase "$db" update
    done
    views_sql 'id, lower(email) AS email' v1
    for db in "$@"; do
        liquibase "$db" update
    done
    views_sql 'id, lower(email) AS email' v2
}

@test "liquibase: runOnChange changesets Liquibase ran as they are are adopted, not run; an edit later runs once" {
    views_sql 'id, email' v1
    newdb full
    liquibase full update
    build_example
    run rep_runs_of full
    assert_output $'customer emails|1\nproduct skus|1'

    # Nothing is pending: as when a tool ran the whole chain, status exits 0 (at the head).
    run_apply status app.sealift -p release.pub -d "dbname=$(dbn full)"
    assert_exit 0
    refute_errors
    assert_line 'adoptable    13 migrations and 2 repeatables recorded by liquibase in databasechangelog; apply adopts them without running them'
    assert_line 'repeatables  2, 0 pending'
    assert_line --regexp "^  R__$EMAILS +adoptable: liquibase last ran it as it is +\(checksum [0-9a-f]{16}\)\$"
    assert_line --regexp "^  R__$SKUS +adoptable: liquibase last ran it as it is +\(checksum [0-9a-f]{16}\)\$"
    run_apply status app.sealift -p release.pub -d "dbname=$(dbn full)" --json
    assert_exit 0
    assert_output --partial '"pending_repeatables":[]'
    assert_output --partial '"adoptable_from":"liquibase","adoptable":13,"adoptable_repeatables":2,'

    run_apply apply app.sealift -p release.pub -d "dbname=$(dbn full)"
    assert_exit 0
    refute_errors
    assert_line 'adopted 13 migrations and 2 repeatables that liquibase recorded in databasechangelog (nothing ran)'
    run rep_runs_of full
    assert_output $'customer emails|1\nproduct skus|1'
    assert_products_once full
    run rep_history_of full
    assert_output "$EMAILS|1|adopted"$'\n'"$SKUS|1|adopted"$'\n'"adopt_repeatable|$EMAILS"$'\n'"adopt_repeatable|$SKUS"
    run_apply status app.sealift -p release.pub -d "dbname=$(dbn full)"
    assert_exit 0
    assert_line 'repeatables  2, 0 pending'
    assert_line --regexp "^  R__$EMAILS +adopted +\(checksum [0-9a-f]{16}\)\$"
    run_apply history -d "dbname=$(dbn full)" --verify
    assert_exit 0
    refute_errors

    # Edited and rebuilt: the next apply runs the edited changeset once, as Liquibase would.
    views_sql 'id, email' v2
    build_example
    run_apply status app.sealift -p release.pub -d "dbname=$(dbn full)"
    assert_exit 7
    refute_line --partial adoptable
    assert_line --regexp "^  R__$SKUS +pending: changed +\(last run [0-9a-f]{16}, bundle [0-9a-f]{16}\)\$"
    run_apply apply app.sealift -p release.pub -d "dbname=$(dbn full)"
    assert_exit 0
    refute_errors
    refute_line --partial adopted
    assert_line --regexp '^applied 0 migrations and 1 repeatable; the database is at '
    run rep_runs_of full
    assert_output $'customer emails|1\nproduct skus|2'
    run q full "SELECT obj_description('product_skus'::regclass)"
    assert_output v2
    run q full "SELECT name, run, how FROM sealift.repeatable_runs WHERE project = 'shop' ORDER BY name, run"
    assert_output "$EMAILS|1|adopted"$'\n'"$SKUS|1|adopted"$'\n'"$SKUS|2|applied"
    # The schema is the one Liquibase leaves with the changelog as it is now.
    ref_db
    assert_same_schema full ref "$TOOL_EXCLUDE"
    run_apply apply app.sealift -p release.pub -d "dbname=$(dbn full)"
    assert_exit 0
    assert_line --regexp '^nothing to apply: the database is at '
}

@test "liquibase: a runOnChange changeset's one row is its last run; one edited after Liquibase ran it runs on the first apply" {
    reran_then_edited lb
    run q lb "SELECT exectype, count(*) FROM databasechangelog WHERE id = 'customer-emails' GROUP BY exectype"
    assert_output 'RERAN|1'
    build_example
    run rep_runs_of lb
    assert_output $'customer emails|2\nproduct skus|1'

    run_apply status app.sealift -p release.pub -d "dbname=$(dbn lb)"
    assert_exit 7
    refute_errors
    assert_line 'adoptable    13 migrations and 1 repeatable recorded by liquibase in databasechangelog; apply adopts them without running them'
    assert_line 'repeatables  2, 1 pending'
    assert_line --regexp "^  R__$EMAILS +adoptable: liquibase last ran it as it is +\(checksum [0-9a-f]{16}\)\$"
    assert_line --regexp "^  R__$SKUS +pending: new +\(checksum [0-9a-f]{16}\)\$"
    run_apply status app.sealift -p release.pub -d "dbname=$(dbn lb)" --json
    assert_exit 7
    assert_output --partial "\"pending_repeatables\":[\"$SKUS\"]"
    assert_output --partial '"adoptable_from":"liquibase","adoptable":13,"adoptable_repeatables":1,'

    run_apply apply app.sealift -p release.pub -d "dbname=$(dbn lb)"
    assert_exit 0
    refute_errors
    assert_line 'adopted 13 migrations and 1 repeatable that liquibase recorded in databasechangelog (nothing ran)'
    assert_line --regexp '^applied 0 migrations and 1 repeatable; the database is at '
    # Only product skus ran, once, as the bundle has it; after the chain, which did not run.
    run rep_runs_of lb
    assert_output $'customer emails|2\nproduct skus|2'
    assert_products_once lb
    run q lb "SELECT obj_description('product_skus'::regclass)"
    assert_output v2
    run rep_history_of lb
    assert_output "$EMAILS|1|adopted"$'\n'"$SKUS|1|applied"$'\n'"adopt_repeatable|$EMAILS"$'\n'"apply_repeatable|$SKUS"
    run_apply status app.sealift -p release.pub -d "dbname=$(dbn lb)"
    assert_exit 0
    assert_line 'repeatables  2, 0 pending'
    run_apply history -d "dbname=$(dbn lb)" --verify
    assert_exit 0
    refute_errors
    ref_db
    assert_same_schema lb ref "$TOOL_EXCLUDE"
    run_apply apply app.sealift -p release.pub -d "dbname=$(dbn lb)"
    assert_exit 0
    assert_line --regexp '^nothing to apply: the database is at '
    run rep_runs_of lb
    assert_output $'customer emails|2\nproduct skus|2'
}

@test "liquibase: plan piped to psql adopts the runOnChange changesets as apply does" {
    reran_then_edited a p
    build_example
    run_apply apply app.sealift -p release.pub -d "dbname=$(dbn a)"
    assert_exit 0
    assert_plan_like_apply p a
    grep -q "^-- Running repeatable $SKUS " plan.sql || fail "the plan does not run product skus"
    ! grep -q "^-- Running repeatable $EMAILS" plan.sql || fail "the plan runs customer emails again"
    run rep_runs_of p
    assert_output $'customer emails|2\nproduct skus|2'
    for db in a p; do
        q "$db" "SELECT name, run, how, checksum FROM sealift.repeatable_runs ORDER BY name" >"runs.$db" ||
            fail "could not read the runs"
    done
    diff -u runs.a runs.p || fail "plan and apply recorded different repeatable runs"
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
