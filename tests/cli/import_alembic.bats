#!/usr/bin/env bats
# Alembic projects (bundles/examples/alembic): the revision graph from the revision files, the
# SQL from Alembic's offline rendering (alembic from Debian, run by sealift), or from files
# rendered elsewhere; apply; the same schema as the real alembic upgrading another database;
# rollback; branches refused.
bats_require_minimum_version 1.5.0

load import_helpers

IMPORT_FORMAT=alembic

setup_file() { import_setup_file; }
teardown_file() { import_teardown_file; }
setup() { import_setup; }

require_alembic() {
    command -v alembic >/dev/null || skip "alembic is not installed (Debian packages alembic, python3-psycopg2)"
}

@test "alembic: check renders the SQL with alembic and reads the chain" {
    require_alembic
    run_sealift check -d src --from alembic
    assert_exit 0
    refute_errors
    assert_line --index 0 '13 migrations in src (alembic): 0 recorded in src/sealift.sum, 13 new'
    assert_line --index 1 'new: 1a2b3c4d5e01_Create order status enum (recorded by the next build)'
    assert_line 'ignored: README.md'
    # Python wrote no bytecode into the source tree.
    run find src -name __pycache__
    assert_output ''
}

@test "alembic: --from auto says what it found" {
    require_alembic
    run_sealift check -d src --from auto
    assert_exit 0
    assert_stderr 'sealift: detected alembic (alembic.ini) in src'
}

@test "alembic: SQL rendered elsewhere, read from files, gives the same bundle" {
    require_alembic
    (cd src && alembic upgrade base:head --sql >../up.sql 2>/dev/null &&
        alembic downgrade head:base --sql >../down.sql 2>/dev/null) || fail "alembic --sql failed"
    run_sealift check -d src/alembic/versions --from alembic --alembic-sql-up up.sql --alembic-sql-down down.sql
    assert_exit 0
    refute_errors
    assert_line --index 0 '13 migrations in src/alembic/versions (alembic): 0 recorded in src/alembic/versions/sealift.sum, 13 new'
}

@test "alembic: the real alembic and sealift-apply leave the same schema; rollback to base" {
    import_db_setup
    require_alembic
    python3 -c 'import psycopg2' 2>/dev/null || /usr/bin/python3 -c 'import psycopg2' ||
        skip "python3-psycopg2 is not installed"
    build_example
    run_sealift inspect app.sealift
    assert_line --regexp '^ +11 +becfd0e1f211 +Customers name index +no-tx +no-tx +-$'
    newdb viaalembic
    (cd src && DATABASE_URL="postgresql://postgres@/$(dbn viaalembic)?host=$PGHOST&port=$PGPORT" \
        must alembic upgrade head)
    assert_apply_matches viaalembic --exclude-table=public.alembic_version
    assert_rollback_to_base
}

@test "alembic: the offline SQL run by psql gives the same schema" {
    import_db_setup
    require_alembic
    build_example
    (cd src && alembic upgrade base:head --sql >../ref.sql 2>/dev/null) || fail "alembic --sql failed"
    newdb ref
    psql_file ref ref.sql
    assert_apply_matches ref --exclude-table=public.alembic_version
}

@test "alembic: two heads are refused naming them and saying alembic merge" {
    require_alembic
    sed -e "s/^revision = .*/revision = 'ffff00000001'/" \
        -e "s/^down_revision = .*/down_revision = '6f7a8b9cad06'/" \
        src/alembic/versions/cfd0e1f20312_raise_coffee_price.py >src/alembic/versions/ffff00000001_branch.py
    run_sealift check -d src --from alembic
    assert_exit 1
    assert_stderr "sealift: error: 2 heads (d0e1f2031413, ffff00000001): sealift compiles one chain; merge them first (\"alembic merge heads\")"
}

# alembic_rev FILE REV DOWN UP_SQL DOWN_SQL: a revision file (DOWN: a Python expression).
alembic_rev() {
    cat >"src/alembic/versions/$1" <<PY
"""$2"""
from alembic import op

revision = '$2'
down_revision = $3
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("$4")


def downgrade() -> None:
    op.execute("$5")
PY
}

@test "alembic: branches merged long ago are ordered as alembic upgrade --sql orders them" {
    require_alembic
    import_db_setup
    # Two branches off 6f7a8b9cad06 (one of two revisions), merged; then a second merge.
    alembic_rev aa01_branch_a.py aa01 "'6f7a8b9cad06'" 'CREATE TABLE branch_a (id int)' 'DROP TABLE branch_a'
    alembic_rev aa02_branch_a2.py aa02 "'aa01'" 'CREATE TABLE branch_a2 (id int)' 'DROP TABLE branch_a2'
    alembic_rev bb01_branch_b.py bb01 "'6f7a8b9cad06'" 'CREATE TABLE branch_b (id int)' 'DROP TABLE branch_b'
    alembic_rev cc01_merge.py cc01 "('d0e1f2031413', 'aa02', 'bb01')" 'CREATE TABLE merged (id int)' 'DROP TABLE merged'
    alembic_rev dd01_after.py dd01 "'cc01'" 'CREATE TABLE after_merge (id int)' 'DROP TABLE after_merge'
    alembic_rev ee01_side.py ee01 "'cc01'" 'CREATE TABLE side (id int)' 'DROP TABLE side'
    alembic_rev ff01_merge2.py ff01 "('dd01', 'ee01')" 'SELECT 1' 'SELECT 1'
    (cd src && alembic upgrade base:head --sql 2>/dev/null) >alembic_up.sql
    # Alembic's order: the revisions of its "-- Running upgrade A -> B" lines.
    sed -n 's/^-- Running upgrade .* -> \(.*\)$/\1/p' alembic_up.sql >want
    [ "$(wc -l <want)" -eq 20 ]
    build_example
    run_sealift inspect app.sealift
    printf '%s\n' "${lines[@]}" | sed -n 's/^ *[0-9][0-9]*  *\([0-9a-f]\{4,12\}\)  .*/\1/p' >got
    diff -u want got
    # The same schema as psql running alembic's own script; rollback to base crosses the merges.
    newdb ref
    psql_file ref alembic_up.sql
    assert_apply_matches ref --exclude-table=alembic_version
    assert_rollback_to_base
}

@test "alembic: without alembic.ini or rendered SQL, says what it needs" {
    run_sealift check -d src/alembic/versions --from alembic
    assert_exit 2
    assert_stderr "sealift: error: Alembic's SQL is needed: give --alembic-config alembic.ini"
}
