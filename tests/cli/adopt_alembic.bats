#!/usr/bin/env bats
# Adoption of a database the real Alembic (Debian package) managed (bundles/examples/alembic):
# "alembic upgrade REV" to the middle of the chain, then sealift-apply takes over; with
# --compat alembic, alembic_version follows every apply and rollback, so that Alembic, run
# afterwards, agrees. The reference schema is Alembic's own offline SQL run by psql.
bats_require_minimum_version 1.5.0

load adopt_helpers

IMPORT_FORMAT=alembic
CHAIN_LENGTH=13
TOOL_TABLE=alembic_version
TOOL_EXCLUDE=--exclude-table=public.alembic_version
HEAD=d0e1f2031413

setup_file() {
    if ! command -v alembic >/dev/null; then
        export ADOPT_SKIP="alembic is not installed (Debian packages alembic, python3-psycopg2)"
    elif ! /usr/bin/python3 -c 'import psycopg2' 2>/dev/null; then
        export ADOPT_SKIP="python3-psycopg2 is not installed"
    fi
    adopt_setup_file
}
teardown_file() { import_teardown_file; }
setup() { adopt_setup; }

# alembic_in DB ARG...: the real alembic, online, against DB (env.py reads DATABASE_URL).
alembic_in() {
    local db=$1
    shift
    (cd src && DATABASE_URL="postgresql://postgres@/$(dbn "$db")?host=$PGHOST&port=$PGPORT" \
        alembic "$@")
}

@test "alembic: a database alembic upgraded to 6 of 13 is adopted; with --compat alembic, Alembic agrees after apply and rollback" {
    newdb mid
    must alembic_in mid upgrade 6f7a8b9cad06
    assert_adoption mid 6 --compat alembic
    run q mid 'SELECT version_num FROM alembic_version'
    assert_output "$HEAD"
    run alembic_in mid current
    assert_success
    assert_output --partial "$HEAD (head)"

    # Alembic finds nothing to do: every revision is where it expects it.
    fingerprint mid >before.dump
    run --separate-stderr alembic_in mid upgrade head
    assert_success
    [[ $stderr != *"Running upgrade"* ]] || fail "alembic ran something: $stderr"
    fingerprint mid >after.dump
    diff -u before.dump after.dump || fail "alembic upgrade head changed the database"

    run_apply rollback app.sealift -p release.pub -d "dbname=$(dbn mid)" --to 8b9cadbecf08 --compat alembic
    assert_exit 0
    refute_errors
    run q mid 'SELECT version_num FROM alembic_version'
    assert_output 8b9cadbecf08
    run alembic_in mid current
    assert_success
    assert_output --partial 8b9cadbecf08
    refute_output --partial '(head)'
    run_apply history -d "dbname=$(dbn mid)" --verify
    assert_exit 0
}

@test "alembic: without --compat alembic, apply warns that alembic_version stays behind" {
    newdb mid
    must alembic_in mid upgrade 9cadbecfd009
    run_apply apply app.sealift -p release.pub -d "dbname=$(dbn mid)"
    assert_exit 0
    assert_line 'adopted 9 migrations that alembic recorded in alembic_version (nothing ran)'
    assert_stderr 'sealift-apply: warning: alembic_version stays at 9cadbecfd009: give --compat alembic to keep it in step with what sealift applies, or Alembic will run the later revisions again'
    ref_db
    assert_same_schema mid ref "$TOOL_EXCLUDE"
    assert_products_once mid
    run q mid 'SELECT version_num FROM alembic_version'
    assert_output 9cadbecfd009
}

@test "alembic: --adopt-table names a renamed version_table; --compat alembic keeps that one in step" {
    newdb renamed
    must alembic_in renamed upgrade 6f7a8b9cad06
    q renamed 'CREATE SCHEMA ops; ALTER TABLE alembic_version SET SCHEMA ops; ALTER TABLE ops.alembic_version RENAME TO versions'
    run_apply apply app.sealift -p release.pub -d "dbname=$(dbn renamed)" --adopt-table ops.versions --compat alembic
    assert_exit 0
    assert_line 'adopted 6 migrations that alembic recorded in ops.versions (nothing ran)'
    run q renamed 'SELECT version_num FROM ops.versions'
    assert_output "$HEAD"
    # The default table is not made beside it: Alembic reads only its configured one.
    run q renamed "SELECT to_regclass('public.alembic_version') IS NULL"
    assert_output t

    run_apply rollback app.sealift -p release.pub -d "dbname=$(dbn renamed)" --to 8b9cadbecf08 --adopt-table ops.versions --compat alembic
    assert_exit 0
    run q renamed 'SELECT version_num FROM ops.versions'
    assert_output 8b9cadbecf08

    # Without --compat alembic, the warning names the table that stays behind.
    newdb renamed2
    must alembic_in renamed2 upgrade 6f7a8b9cad06
    q renamed2 'ALTER TABLE alembic_version RENAME TO my_versions'
    run_apply apply app.sealift -p release.pub -d "dbname=$(dbn renamed2)" --adopt-table my_versions
    assert_exit 0
    assert_stderr 'sealift-apply: warning: my_versions stays at 6f7a8b9cad06: give --compat alembic to keep it in step with what sealift applies, or Alembic will run the later revisions again'
}

@test "alembic: plan piped to psql takes over as apply does, alembic_version included" {
    newdb a
    newdb p
    must alembic_in a upgrade 3c4d5e6f7a03
    must alembic_in p upgrade 3c4d5e6f7a03
    run_apply apply app.sealift -p release.pub -d "dbname=$(dbn a)" --compat alembic
    assert_exit 0
    assert_plan_like_apply p a --compat alembic
    run q p 'SELECT version_num FROM alembic_version'
    assert_output "$HEAD"
}

@test "alembic: two heads in alembic_version (a branch was upgraded) are refused" {
    newdb branched
    cp -R src branch
    sed -e "s/^revision = .*/revision = 'ffff00000001'/" \
        -e "s/^down_revision = .*/down_revision = '6f7a8b9cad06'/" \
        branch/alembic/versions/cfd0e1f20312_raise_coffee_price.py >branch/alembic/versions/ffff00000001_branch.py
    (cd branch && DATABASE_URL="postgresql://postgres@/$(dbn branched)?host=$PGHOST&port=$PGPORT" \
        must alembic upgrade heads)
    run q branched 'SELECT count(*) FROM alembic_version'
    assert_output 2
    assert_refused branched "alembic_version names 2 current versions (several heads); sealift adopts one linear chain"
}

@test "alembic: a revision the bundle does not know (the database is ahead) is refused" {
    newdb ahead
    cp -R src newer
    sed -e "s/^revision = .*/revision = 'e1f203142514'/" \
        -e "s/^down_revision = .*/down_revision = '$HEAD'/" \
        newer/alembic/versions/cfd0e1f20312_raise_coffee_price.py >newer/alembic/versions/e1f203142514_newer.py
    (cd newer && DATABASE_URL="postgresql://postgres@/$(dbn ahead)?host=$PGHOST&port=$PGPORT" \
        must alembic upgrade head)
    assert_refused ahead "alembic_version says the database is at e1f203142514, which this bundle does not know"
}
