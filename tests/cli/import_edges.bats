#!/usr/bin/env bats
# The edges real chains of other tools have (issue 17 §2): empty or comment-only downs compile
# as no-op downs with a warning (rollback crosses them), a down its own tool could not run
# (CREATE INDEX CONCURRENTLY in its transaction) compiles as one that rollback refuses to cross,
# and --strict makes both errors. Directory names with spaces, odd padding.
bats_require_minimum_version 1.5.0

load import_helpers

IMPORT_FORMAT=diesel

setup_file() { import_setup_file; }
teardown_file() { import_teardown_file; }
setup() {
    import_setup
    rm -rf src
}

# diesel_mig DIR NAME UP [DOWN]: a diesel migration; DOWN "-" for no down.sql.
diesel_mig() {
    mkdir -p "$1/$2"
    printf '%s\n' "$3" >"$1/$2/up.sql"
    if [ "${4-}" != - ]; then printf '%s' "${4-}" >"$1/$2/down.sql"; fi
}

count_warnings() {
    local n=0 line
    for line in "${stderr_lines[@]}"; do
        [[ $line == *"warning: "*"$1"* ]] && n=$((n + 1))
    done
    echo "$n"
}

@test "edges: diesel empty and comment-only down.sql compile as no-op downs, one warning each" {
    d="my migrations"
    diesel_mig "$d" 2020-01-01-000000_a 'CREATE TABLE a (id int);' ''
    diesel_mig "$d" 2020-01-02-000000_b 'CREATE TABLE b (id int);' $'-- This file should undo anything in `up.sql`\n\n'
    diesel_mig "$d" 2020-01-03-000000_c 'CREATE TABLE c (id int);' $'   \n\t\n/* nothing */\n'
    run_sealift check -d "$d" --from diesel
    assert_exit 0
    refute_errors
    assert_stderr "sealift: warning: $d/2020-01-01-000000_a/down.sql: the down script has no statements: compiled as a no-op down"
    assert_stderr "sealift: warning: $d/2020-01-02-000000_b/down.sql: the down script has no statements"
    assert_stderr "sealift: warning: $d/2020-01-03-000000_c/down.sql: the down script has no statements"
    [ "$(count_warnings 'no-op down')" = 3 ]
    # --strict: each is an error.
    run_sealift check -d "$d" --from diesel --strict
    assert_exit 1
    assert_stderr "sealift: error: $d/2020-01-01-000000_a/down.sql: the down script has no statements: compiled as a no-op down (rollback records the migration as rolled back and runs nothing) (--strict)"
    assert_stderr 'sealift: error: 3 problems found'
    # An empty up.sql stays diesel's error.
    : >"$d/2020-01-03-000000_c/up.sql"
    run_sealift check -d "$d" --from diesel
    assert_exit 1
    assert_stderr 'up.sql: empty file (diesel refuses to run an empty migration file)'
}

@test "edges: a chain with no-op downs applies and rolls back across them" {
    import_db_setup
    d="my migrations"
    diesel_mig "$d" 2020-01-01-000000_a 'CREATE TABLE a (id int);' 'DROP TABLE a;'
    diesel_mig "$d" 2020-01-02-000000_b 'CREATE TABLE b (id int);' $'-- keep b\n'
    diesel_mig "$d" 2020-01-03-000000_c 'CREATE TABLE c (id int);' 'DROP TABLE c;'
    run_sealift build -d "$d" --from diesel -s release.key -o app.sealift --project shop
    assert_exit 0
    refute_errors
    newdb x
    apply_bundle x
    run_apply rollback app.sealift -p release.pub -d "dbname=$(dbn x)" --to base
    assert_exit 0
    refute_errors
    # b's no-op down ran nothing: b stays; a and c were dropped; nothing is applied any more.
    run psql -X -At -d "$(dbn x)" -c "SELECT string_agg(tablename, ',' ORDER BY tablename) FROM pg_tables WHERE schemaname = 'public'"
    assert_output b
    run_apply status app.sealift -p release.pub -d "dbname=$(dbn x)"
    assert_exit 7
    assert_line "applied      0 of 3 (database at base)"
    # And it applies again from base.
    run psql -X -q -d "$(dbn x)" -c 'DROP TABLE b'
    # Dropped by hand: schema drift since the rollback's fingerprint, allowed.
    apply_bundle x --allow-schema-drift 'b dropped by hand'
    assert_line --partial 'schema drift allowed (b dropped by hand): 2 objects changed: missing column public.b.id, missing table public.b'

}

@test "edges: goose without a Down section is a no-op down, as goose treats it" {
    mkdir g
    printf -- '-- +goose Up\nCREATE TABLE a (id int);\n' >g/00001_a.sql
    printf -- '-- +goose Up\nCREATE TABLE b (id int);\n-- +goose Down\n-- nothing\n' >g/00002_b.sql
    printf -- '-- +goose Up\nCREATE TABLE c (id int);\n-- +goose Down\nDROP TABLE c;\n' >g/003_c.sql
    run_sealift check -d g --from goose
    assert_exit 0
    refute_errors
    assert_stderr 'sealift: warning: g/00001_a.sql: no "-- +goose Down" section: compiled as a no-op down'
    assert_stderr 'sealift: warning: g/00002_b.sql: the down script has no statements: compiled as a no-op down'
    [ "$(count_warnings 'no-op down')" = 2 ]
    run_sealift check -d g --from goose --strict
    assert_exit 1
    assert_stderr 'sealift: error: 2 problems found'
}

@test "edges: golang-migrate, dbmate and Sqitch empty downs warn once each" {
    mkdir gm db
    printf 'CREATE TABLE a (id int);\n' >gm/0001_a.up.sql
    : >gm/0001_a.down.sql
    printf 'CREATE TABLE b (id int);\n' >gm/02_b.up.sql
    printf -- '-- no way back\n' >gm/02_b.down.sql
    run_sealift check -d gm --from golang-migrate
    assert_exit 0
    refute_errors
    assert_stderr 'sealift: warning: gm/0001_a.down.sql: the down script has no statements'
    assert_stderr 'sealift: warning: gm/02_b.down.sql: the down script has no statements'
    [ "$(count_warnings 'no-op down')" = 2 ]
    printf -- '-- migrate:up\nCREATE TABLE a (id int);\n\n-- migrate:down\n\n' >db/20200101000000_a.sql
    run_sealift check -d db --from dbmate
    assert_exit 0
    assert_stderr 'sealift: warning: db/20200101000000_a.sql: the down script has no statements'
    [ "$(count_warnings 'no-op down')" = 1 ]
    mkdir -p sq/deploy sq/revert
    printf '%%syntax-version=1.0.0\n%%project=edges\n\na 2020-01-01T00:00:00Z A <a@example.com> # first\n' >sq/sqitch.plan
    printf 'CREATE TABLE a (id int);\n' >sq/deploy/a.sql
    printf -- '-- Revert edges:a from pg\n\nBEGIN;\n\nCOMMIT;\n' >sq/revert/a.sql
    run_sealift check -d sq --from sqitch
    assert_exit 0
    refute_errors
    assert_stderr 'sealift: warning: sq/revert/a.sql: the down script has no statements'
}

@test "edges: a diesel down with CREATE INDEX CONCURRENTLY in its transaction compiles; rollback refuses to cross it" {
    import_db_setup
    d=src
    diesel_mig "$d" 2020-01-01-000000_t 'CREATE TABLE t (id int);' 'DROP TABLE t;'
    diesel_mig "$d" 2020-01-02-000000_idx 'CREATE INDEX t_id ON t (id);' $'-- undo\nDROP INDEX t_id;\nCREATE INDEX CONCURRENTLY t_id2 ON t (id);\n'
    diesel_mig "$d" 2020-01-03-000000_u 'CREATE TABLE u (id int);' 'DROP TABLE u;'
    run_sealift check -d src --from diesel
    assert_exit 0
    refute_errors
    assert_stderr 'sealift: warning: src/2020-01-02-000000_idx/down.sql:3:1: CREATE INDEX CONCURRENTLY cannot run inside a transaction (fix: put "run_in_transaction = false" in the migration'"'"'s metadata.toml): this down cannot run as written'
    run_sealift check -d src --from diesel --strict
    assert_exit 1
    assert_stderr 'sealift: error: src/2020-01-02-000000_idx/down.sql:3:1: CREATE INDEX CONCURRENTLY cannot run inside a transaction'
    build_example
    newdb x
    apply_bundle x
    # The migration above it rolls back; crossing the blocked one is refused, saying why.
    run_apply rollback app.sealift -p release.pub -d "dbname=$(dbn x)" --to 2020-01-02-000000_idx
    assert_exit 0
    run_apply rollback app.sealift -p release.pub -d "dbname=$(dbn x)" --to base
    assert_exit 3
    assert_stderr 'cannot roll back to base: the down script of migration'
    assert_stderr 'cannot run as written: src/2020-01-02-000000_idx/down.sql:3:1: CREATE INDEX CONCURRENTLY cannot run inside a transaction (fix: put "run_in_transaction = false"'
    run psql -X -At -d "$(dbn x)" -c "SELECT count(*) FROM pg_indexes WHERE indexname = 't_id'"
    assert_output 1
    # test treats it as rollback does: irreversible, skipped, never run.
    run_apply test app.sealift -p release.pub
    assert_exit 0
    assert_line --partial 'skip  20200102000000_idx: irreversible (its down cannot run as written: src/2020-01-02-000000_idx/down.sql:3:1: CREATE INDEX CONCURRENTLY'
    assert_line --regexp '^test passed: 2 of 3 migrations round-trip, .*; irreversible, skipped: 20200102000000_idx'
    # With metadata.toml saying so, the same down is no-transaction and not blocked... but
    # diesel sends it as one query, where CONCURRENTLY among others fails: still refused.
    printf 'run_in_transaction = false\n' >src/2020-01-02-000000_idx/metadata.toml
    run_sealift check -d src --from diesel
    assert_exit 1
}

@test "edges: the same statement in an up script stays an error" {
    diesel_mig src 2020-01-01-000000_t $'CREATE TABLE t (id int);\nCREATE INDEX CONCURRENTLY t_id ON t (id);' 'DROP TABLE t;'
    run_sealift check -d src --from diesel
    assert_exit 1
    assert_stderr 'src/2020-01-01-000000_t/up.sql:2:1: CREATE INDEX CONCURRENTLY cannot run inside a transaction; put "run_in_transaction = false"'
}

@test "edges: a Flyway chain without any undo script is one error with the count and the flag" {
    cp -R "$EXAMPLES/flyway" "fly way"
    rm "fly way"/U*.sql
    run_sealift check -d "fly way" --from flyway
    assert_exit 1
    assert_stderr 'sealift: error: fly way: none of the 13 versioned migrations has an undo script (U<version>__...sql), so none can be rolled back (give --allow-irreversible to compile them as irreversible)'
    assert_stderr 'sealift: error: 1 problem found'
    [ "${#stderr_lines[@]}" -eq 2 ]
    # With the flag: one summary line; --verbose names each migration.
    run_sealift check -d "fly way" --from flyway --allow-irreversible --lint off
    assert_exit 0
    refute_errors
    assert_stderr 'sealift: --allow-irreversible: 13 of 13 migrations compiled as irreversible (no down; rollback refuses to cross them); --verbose names them'
    [ "${#stderr_lines[@]}" -eq 1 ]
    run_sealift check -d "fly way" --from flyway --allow-irreversible --verbose --lint off
    assert_exit 0
    assert_stderr 'sealift: --allow-irreversible: 13 of 13 migrations compiled as irreversible (no down; rollback refuses to cross them)'
    assert_stderr 'sealift: irreversible: 1.1_create_order_status (fly way/V1_1__create_order_status.sql)'
    assert_stderr 'sealift: irreversible: 1.13_customers_email_lowercase (fly way/V1_13__customers_email_lowercase.sql)'
    [ "${#stderr_lines[@]}" -eq 14 ]
}

@test "edges: a Flyway chain with some undo scripts names each one missing" {
    cp -R "$EXAMPLES/flyway" fw
    rm fw/U1.12__raise_coffee_price.sql fw/U1_3__create_products.sql
    run_sealift check -d fw --from flyway
    assert_exit 1
    assert_stderr 'sealift: error: fw/V1_3__create_products.sql: no undo script (U<version>__...sql), so this migration cannot be rolled back'
    assert_stderr 'sealift: error: fw/V1.12__raise_coffee_price.sql: no undo script'
    assert_stderr 'sealift: error: 2 problems found'
    run_sealift build -d fw --from flyway --allow-irreversible -v -s release.key -o app.sealift --project shop
    assert_exit 0
    assert_stderr 'sealift: --allow-irreversible: 2 of 13 migrations compiled as irreversible (no down; rollback refuses to cross them)'
    assert_stderr 'sealift: irreversible: 1.3_create_products (fw/V1_3__create_products.sql)'
    assert_stderr 'sealift: irreversible: 1.12_raise_coffee_price (fw/V1.12__raise_coffee_price.sql)'
}

@test "edges: --from auto takes golang-migrate with any padding by what native refuses, and says why" {
    cp -R "$EXAMPLES/golang-migrate" gm6
    rm gm6/README.md
    run_sealift check -d gm6
    assert_exit 0
    assert_stderr 'sealift: detected golang-migrate ('
    # Four digits: the names are native's too; BEGIN; ... COMMIT; in a file is not.
    mkdir "gm 4"
    for f in gm6/*.sql; do
        b=${f#gm6/00}
        cp "$f" "gm 4/$b"
    done
    run_sealift check -d "gm 4"
    assert_exit 0
    refute_errors
    assert_stderr "sealift: detected golang-migrate (BEGIN; ... COMMIT; in 0004_create_orders.up.sql, which sealift's own format refuses) in gm 4"
    # No wrapper, but CREATE INDEX CONCURRENTLY (which golang-migrate runs outside a transaction).
    mkdir g3
    printf 'CREATE TABLE t (id int);\n' >g3/001_t.up.sql
    printf 'DROP TABLE t;\n' >g3/001_t.down.sql
    printf 'CREATE INDEX CONCURRENTLY t_id ON t (id);\n' >g3/002_i.up.sql
    printf 'DROP INDEX CONCURRENTLY t_id;\n' >g3/002_i.down.sql
    run_sealift check -d g3 --from auto
    assert_exit 0
    assert_stderr "sealift: detected golang-migrate (DROP INDEX CONCURRENTLY in 002_i.down.sql, which sealift's own format refuses) in g3"
    # The same names with sealift's directive are a native chain.
    printf -- '-- sealift:no-transaction\nCREATE INDEX CONCURRENTLY t_id ON t (id);\n' >g3/002_i.up.sql
    printf -- '-- sealift:no-transaction\nDROP INDEX CONCURRENTLY t_id;\n' >g3/002_i.down.sql
    run_sealift check -d g3 --from auto
    assert_exit 0
    assert_stderr 'sealift: detected native (VERSION_SLUG.up.sql files) in g3'
}

@test "edges: --from auto: dbmate with short versions, Alembic by its files, Liquibase by its changelog" {
    mkdir db
    printf -- '-- migrate:up\nCREATE TABLE a (id int);\n-- migrate:down\nDROP TABLE a;\n' >db/0001_a.sql
    run_sealift check -d db
    assert_exit 0
    assert_stderr 'sealift: detected dbmate ("-- migrate:up" in 0001_a.sql) in db'
    mkdir -p al/versions
    : >al/env.py
    run_sealift check -d al
    assert_stderr 'sealift: detected alembic (env.py) in al'
    refute_line --partial '0 migrations in al (native)'
    mkdir -p al2/versions
    printf '"""init"""\nrevision = "a1"\ndown_revision = None\n' >al2/versions/a1_init.py
    run_sealift check -d al2
    assert_stderr 'sealift: detected alembic (revision file versions/a1_init.py) in al2'
    mkdir lq
    printf '<?xml version="1.0"?>\n<databaseChangeLog xmlns="http://www.liquibase.org/xml/ns/dbchangelog">\n</databaseChangeLog>\n' >lq/db.changelog-master.xml
    run_sealift check -d lq
    assert_stderr 'detected liquibase (changelog db.changelog-master.xml)'
    mkdir lqs
    printf -- '-- liquibase formatted sql\n\n--changeset a:1\nCREATE TABLE a (id int);\n' >lqs/changes.sql
    run_sealift check -d lqs
    assert_stderr 'detected liquibase (changelog changes.sql)'
}

@test "edges: --from auto refuses an ambiguous, an unrecognised or (asked) an empty directory with a hint" {
    mkdir both
    printf '%%project=x\n' >both/sqitch.plan
    printf -- '-- +goose Up\nSELECT 1;\n' >both/00001_a.sql
    run_sealift check -d both
    assert_exit 2
    assert_stderr 'sealift: error: "both" looks like both goose and sqitch migrations: give --from goose or --from sqitch'
    mkdir docs
    echo hello >docs/README.md
    run_sealift check -d docs
    assert_exit 2
    assert_stderr 'sealift: error: no migrations of any known format in "docs" (is it the migrations directory? for another tool'"'"'s chain give --from FORMAT: native, '
    mkdir empty
    run_sealift check -d empty --from auto
    assert_exit 2
    assert_stderr 'sealift: error: "empty" is empty: there is no format to detect (give --from FORMAT, or write a first migration with "sealift new")'
}

@test "edges: sealift.sum records the source format; check uses it; a contradicting --from is refused" {
    cp -R "$EXAMPLES/golang-migrate" gm
    run_sealift build -d gm --from golang-migrate -s release.key -o app.sealift --project shop
    assert_exit 0
    run grep -c '^sealift-sum 1 project=shop migrations=13 head=[0-9a-f]* source=golang-migrate$' gm/sealift.sum
    assert_output 1
    # Four-digit names would be native's: the record decides, and nothing looks edited.
    run_sealift check -d gm
    assert_exit 0
    refute_errors
    assert_stderr 'sealift: detected golang-migrate (recorded in sealift.sum) in gm'
    assert_line --index 0 '13 migrations in gm (golang-migrate): 13 recorded in gm/sealift.sum, 0 new'
    run_sealift check -d gm --from native
    assert_exit 2
    assert_stderr 'sealift: error: --from native contradicts gm/sealift.sum, which records this chain as golang-migrate (its released migrations were read as golang-migrate: give --from golang-migrate, or leave --from out)'
    # A file from before the field: a frozen build leaves it; the next build records the format.
    sed -i 's/ source=golang-migrate$//' gm/sealift.sum
    cp gm/sealift.sum before.sum
    run_sealift build -d gm --from golang-migrate --frozen -s release.key -o app2.sealift
    assert_exit 0
    cmp before.sum gm/sealift.sum
    run_sealift build -d gm --from golang-migrate -s release.key -o app3.sealift
    assert_exit 0
    assert_stderr 'sealift: recorded the source format (golang-migrate) in gm/sealift.sum: commit it'
    grep -q ' source=golang-migrate$' gm/sealift.sum
}

@test "edges: Sqitch project name from %project, change names without notes, other projects' requires in one line" {
    mkdir -p "sq dir/deploy" "sq dir/revert"
    cat >"sq dir/sqitch.plan" <<'PLAN'
%syntax-version=1.0.0
%project=flipr

settings [auth:roles] 2024-01-01T00:00:00Z Ada <ada@example.com> # Adds a new table for tracking persistent settings, with a very long note
users [settings auth:groups !legacy:users] 2024-01-01T00:01:00Z Ada <ada@example.com> # Users.
PLAN
    for c in settings users; do
        printf 'CREATE TABLE %s (id int);\n' "$c" >"sq dir/deploy/$c.sql"
        printf 'DROP TABLE %s;\n' "$c" >"sq dir/revert/$c.sql"
    done
    run_sealift check -d "sq dir" --from sqitch
    assert_exit 0
    refute_errors
    assert_line 'new: settings (recorded by the next build)'
    assert_line 'new: users (recorded by the next build)'
    assert_stderr "sealift: warning: sq dir/sqitch.plan: 3 dependencies on other projects' changes (auth:roles, auth:groups, !legacy:users): sealift does not check those when applying (deploy those projects first)"
    [ "${#stderr_lines[@]}" -eq 1 ]
    run_sealift build -d "sq dir" --from sqitch -s release.key -o app.sealift
    assert_exit 0
    assert_output --partial 'built app.sealift: project flipr, serial 2, 2 migrations, head users, signed by'
    run grep -c '^sealift-sum 1 project=flipr ' "sq dir/sealift.sum"
    assert_output 1
    run_sealift inspect app.sealift
    refute_output --partial 'Adds a new table'
}
