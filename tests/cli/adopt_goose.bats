#!/usr/bin/env bats
# Adoption of a database goose managed (bundles/examples/goose). goose is a Go binary that does
# not install here (its npm wrapper downloads from GitHub), so its history is written as goose
# writes it (internal/dialect/dialectquery/postgres.go): goose_db_version(id serial, version_id
# bigint, is_applied boolean, tstamp timestamp default now()), a first row for version 0, then
# one row (version_id, true) per migration up, after the migration's SQL ran (here by psql).
bats_require_minimum_version 1.5.0

load adopt_helpers

IMPORT_FORMAT=goose
CHAIN_LENGTH=13
TOOL_TABLE=goose_db_version
TOOL_EXCLUDE='--exclude-table=public.goose_db_version*'

setup_file() { adopt_setup_file; }
teardown_file() { import_teardown_file; }
setup() { adopt_setup; }

# goose_table DB: the table as goose creates it, with its version 0 row.
goose_table() {
    q "$1" "CREATE TABLE goose_db_version (
        id serial NOT NULL,
        version_id bigint NOT NULL,
        is_applied boolean NOT NULL,
        tstamp timestamp NULL default now(),
        PRIMARY KEY(id));
        INSERT INTO goose_db_version (version_id, is_applied) VALUES (0, true)" >/dev/null
}

# goose_up DB VERSION...: run each migration's Up section with psql, then record it as goose does.
goose_up() {
    local db=$1 v
    shift
    for v in "$@"; do
        psql_ups "$db" "$v" "$v" || return 1
        q "$db" "INSERT INTO goose_db_version (version_id, is_applied) VALUES ($v, true)" >/dev/null ||
            return 1
    done
}

@test "goose: a database at 12 of 13 is adopted, only 13 runs" {
    newdb mid
    goose_table mid
    goose_up mid $(seq 1 12)
    # 12 raised the coffee price: run again, it would show.
    assert_adoption mid 12
}

@test "goose: plan piped to psql takes over as apply does" {
    newdb a
    newdb p
    for db in a p; do
        goose_table $db
        goose_up $db 1 2 3 4 5
    done
    run_apply apply app.sealift -p release.pub -d "dbname=$(dbn a)"
    assert_exit 0
    assert_plan_like_apply p a
}

@test "goose: a plan refuses to adopt when goose ran more after the plan was made" {
    newdb later
    goose_table later
    goose_up later 1 2 3
    run --separate-stderr "$APPLY" plan app.sealift -p release.pub -d "dbname=$(dbn later)"
    assert_exit 0
    printf '%s\n' "$output" >plan.sql
    goose_up later 4
    run --separate-stderr psql -X -q -v ON_ERROR_STOP=1 -d "$(dbn later)" -f plan.sql
    assert_failure
    assert_stderr 'ERROR:  sealift: goose_db_version changed after sealift-apply read it; nothing was adopted'
    run q later "SELECT count(*) FROM sealift.applied"
    assert_output 0
    # apply reads it again and adopts all four.
    run_apply apply app.sealift -p release.pub -d "dbname=$(dbn later)"
    assert_exit 0
    assert_line 'adopted 4 migrations that goose recorded in goose_db_version (nothing ran)'
}

@test "goose: the latest row of a version decides (an older goose recorded a down as is_applied false)" {
    newdb mid
    goose_table mid
    goose_up mid $(seq 1 10)
    # Before v3, goose's down inserted (version, false) instead of deleting the row.
    sed -n '/^-- +goose Down/,$p' src/00010_customers_phone.sql >down10.sql
    psql_file mid down10.sql
    q mid "INSERT INTO goose_db_version (version_id, is_applied) VALUES (10, false)" >/dev/null
    assert_adoption mid 9
}

@test "goose: rollback of a database goose managed adopts what goose ran, then rolls back" {
    newdb mid
    goose_table mid
    goose_up mid 1 2 3 4 5
    run_apply rollback app.sealift -p release.pub -d "dbname=$(dbn mid)" --to 2
    assert_exit 0
    refute_errors
    assert_line 'adopted 5 migrations that goose recorded in goose_db_version (nothing ran)'
    assert_line 'rolled back 3 migrations; the database is at 2_create_customers'
    newdb two
    psql_ups two 1 2
    schema mid "$TOOL_EXCLUDE" >schema.mid || fail "pg_dump failed"
    schema two >schema.two || fail "pg_dump failed"
    diff -u schema.two schema.mid || fail "the rollback left another schema than 1 and 2 alone"
    grep -q 'CREATE TABLE public.customers' schema.mid || fail "no customers table"
    run q mid "SELECT event, count(*) FROM sealift.journal GROUP BY event ORDER BY event"
    assert_output $'adopt|5\nrollback|3'
}

@test "goose: a gap (1, 2 and 4 applied, not 3) is refused, naming both" {
    newdb gap
    goose_table gap
    goose_up gap 1 2 4
    assert_refused gap "goose_db_version records 4 as applied but not 3 before it; adopting would skip it"
}

@test "goose: a version the bundle does not know is refused" {
    newdb unknown
    goose_table unknown
    goose_up unknown 1 2
    q unknown "INSERT INTO goose_db_version (version_id, is_applied) VALUES (20240101, true)" >/dev/null
    assert_refused unknown "goose_db_version records migration 20240101 as applied, which this bundle does not know"
}

@test "goose: adoption only when the project has no sealift history; other projects do not count" {
    newdb mixed
    # Another project's history in the same schema does not stop adoption of this one.
    mkdir other
    printf 'CREATE SCHEMA other;\n' >other/1_other.up.sql
    printf 'DROP SCHEMA other;\n' >other/1_other.down.sql
    must "$SEALIFT" build -d other -s release.key -o other.sealift --project other --from native
    run_apply apply other.sealift -p release.pub -d "dbname=$(dbn mixed)"
    assert_exit 0
    goose_table mixed
    goose_up mixed 1 2 3
    run_apply apply app.sealift -p release.pub -d "dbname=$(dbn mixed)"
    assert_exit 0
    assert_line 'adopted 3 migrations that goose recorded in goose_db_version (nothing ran)'
    ref_db
    assert_same_schema mixed ref "$TOOL_EXCLUDE" --exclude-schema=other

    # This project's own history wins: goose's table, even ahead of it, is not read.
    newdb own
    run_apply apply app.sealift -p release.pub -d "dbname=$(dbn own)" --to 3
    assert_exit 0
    goose_table own
    q own "INSERT INTO goose_db_version (version_id, is_applied) SELECT g, true FROM generate_series(1, 8) g" >/dev/null
    run_apply status app.sealift -p release.pub -d "dbname=$(dbn own)"
    assert_exit 7
    refute_line --partial adoptable
    # goose's table, made after sealift's last move, is schema drift: allowed here.
    run_apply apply app.sealift -p release.pub -d "dbname=$(dbn own)" \
        --allow-schema-drift 'goose table made by hand'
    assert_exit 0
    assert_line --partial 'added table public.goose_db_version'
    refute_line --partial adopted
    assert_line 'applied 10 migrations; the database is at 13_customers_email_lowercase'
    run q own "SELECT count(*) FROM sealift.journal WHERE event = 'adopt'"
    assert_output 0
}
