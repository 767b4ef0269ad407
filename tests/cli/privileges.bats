#!/usr/bin/env bats
# The least privileges the applier's role needs (README "Least privileges"): CONNECT on the
# database; USAGE and CREATE on a history schema created for it (or CREATE on the database,
# to create the schema itself); and what the migrations themselves need. With exactly that,
# apply, status, rollback and history --verify work; without any one of them, the applier
# stops cleanly (exit 6 or 4) with a message naming the missing privilege, and nothing of the
# run stays.

bats_require_minimum_version 1.5.0

load apply_helpers

setup_file() { apply_setup_file; }
teardown_file() { apply_teardown_file; }

setup() {
    apply_setup
    # A role that owns nothing and may do nothing it is not granted below (roles belong to
    # the cluster: one per test).
    deployer=deployer$BATS_TEST_NUMBER
    sql "CREATE ROLE $deployer LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE;
        REVOKE ALL ON DATABASE $PGDATABASE FROM PUBLIC;
        CREATE SCHEMA app; GRANT USAGE, CREATE ON SCHEMA app TO $deployer" >/dev/null ||
        fail "could not create the role"
    AS=(-d "dbname=$PGDATABASE user=$deployer")
    app_migrations
}

teardown() { apply_teardown; }

# Migrations that create and fill tables in schema app, and a no-transaction index.
app_migrations() {
    mig m 001_users 'CREATE TABLE app.users (id int PRIMARY KEY, name text NOT NULL);
INSERT INTO app.users VALUES (1, '"'ada'"');' 'DROP TABLE app.users;'
    mig m 002_idx '-- sealift:no-transaction
CREATE INDEX CONCURRENTLY users_name_idx ON app.users (name);' '-- sealift:no-transaction
DROP INDEX CONCURRENTLY app.users_name_idx;'
    mig m 003_orders 'CREATE TABLE app.orders (id int PRIMARY KEY, user_id int REFERENCES app.users (id));' \
        'DROP TABLE app.orders;'
    bundle m b.sealift
}

grant_history_schema() {
    sql "CREATE SCHEMA sealift; GRANT USAGE, CREATE ON SCHEMA sealift TO $deployer" >/dev/null
}

# Everything the applier does, as deployer: it all works.
assert_everything_works() {
    run_apply apply b.sealift -p release.pub "${AS[@]}"
    assert_exit 0
    assert_line 'applied 3 migrations; the database is at 003_orders'
    refute_errors
    assert_sql "SELECT string_agg(tablename || ':' || tableowner, ',' ORDER BY tablename)
        FROM pg_tables WHERE schemaname = 'app'" "orders:$deployer,users:$deployer"
    run_apply status b.sealift -p release.pub "${AS[@]}"
    assert_exit 0
    run_apply history --verify "${AS[@]}"
    assert_exit 0
    # 3 applies and the index_build note before 002's concurrent index build.
    assert_line --regexp '^journal intact: 4 rows'
    run_apply rollback b.sealift -p release.pub --to base "${AS[@]}"
    assert_exit 0
    assert_line 'rolled back 3 migrations; the database is at base'
    run_apply apply b.sealift -p release.pub --per-migration "${AS[@]}"
    assert_exit 0
    run_apply history --verify "${AS[@]}"
    assert_exit 0
    assert_applied 001,002,003
}

@test "least privileges: CONNECT, USAGE and CREATE on a history schema made for the role, and what the migrations need" {
    sql "GRANT CONNECT ON DATABASE $PGDATABASE TO $deployer" >/dev/null
    grant_history_schema
    assert_sql "SELECT has_database_privilege('$deployer', current_database(), 'CREATE')::text ||
        ' ' || has_database_privilege('$deployer', current_database(), 'TEMP') ||
        ' ' || has_schema_privilege('$deployer', 'public', 'CREATE')" 'false false false'
    assert_everything_works
}

@test "CREATE on the database instead: the applier creates its history schema" {
    sql "GRANT CONNECT, CREATE ON DATABASE $PGDATABASE TO $deployer" >/dev/null
    assert_everything_works
    assert_sql "SELECT nspowner::regrole FROM pg_namespace WHERE nspname = 'sealift'" "$deployer"
}

@test "without CONNECT: exit 6, the server's reason" {
    grant_history_schema
    run_apply apply b.sealift -p release.pub "${AS[@]}"
    assert_exit 6
    assert_error 'could not connect to the database: '
    assert_error 'permission denied for database'
    assert_sql "SELECT count(*) FROM pg_tables WHERE schemaname IN ('app', 'sealift')" 0
}

@test "without CREATE on the database and no history schema: exit 4, nothing created" {
    sql "GRANT CONNECT ON DATABASE $PGDATABASE TO $deployer" >/dev/null
    run_apply apply b.sealift -p release.pub "${AS[@]}"
    assert_exit 4
    assert_error "could not create the history schema \"sealift\": permission denied for database $PGDATABASE"
    assert_no_history
    assert_sql "SELECT count(*) FROM pg_tables WHERE schemaname = 'app'" 0
}

@test "a history schema without USAGE, or without CREATE for its tables: exit 4 naming it" {
    sql "GRANT CONNECT ON DATABASE $PGDATABASE TO $deployer; CREATE SCHEMA sealift" >/dev/null
    run_apply apply b.sealift -p release.pub "${AS[@]}"
    assert_exit 4
    assert_error 'could not read the history in schema "sealift": permission denied for schema sealift'
    run_apply status b.sealift -p release.pub "${AS[@]}"
    assert_exit 4
    assert_error 'permission denied for schema sealift'

    sql "GRANT USAGE ON SCHEMA sealift TO $deployer" >/dev/null
    run_apply apply b.sealift -p release.pub "${AS[@]}"
    assert_exit 4
    assert_error 'could not create the history schema "sealift": permission denied for schema sealift'
    assert_sql "SELECT count(*) FROM pg_tables WHERE schemaname IN ('app', 'sealift')" 0
}

@test "history tables made by another role: refused until the role may read and write them" {
    sql "GRANT CONNECT, CREATE ON DATABASE $PGDATABASE TO $deployer" >/dev/null
    mig m2 001_users 'CREATE TABLE app.users (id int PRIMARY KEY, name text NOT NULL);
INSERT INTO app.users VALUES (1, '"'ada'"');' 'DROP TABLE app.users;'
    bundle m2 first.sealift
    # The history is created by the cluster's owner; deployer has only schema privileges.
    must "$APPLY" apply first.sealift -p release.pub --to 001
    sql "GRANT USAGE, CREATE ON SCHEMA sealift TO $deployer" >/dev/null
    run_apply apply b.sealift -p release.pub "${AS[@]}"
    assert_exit 4
    assert_error_regex 'could not read the history in schema "sealift": permission denied for table [a-z]+'

    sql "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA sealift TO $deployer"
    # The history is usable now; migration 002 indexes a table the role does not own.
    run_apply apply b.sealift -p release.pub "${AS[@]}"
    assert_exit 4
    assert_error 'migration 002_idx (up) failed: must be owner of table users'
    assert_detail 'none of its 1 statements ran; the database is at 001_users; a rerun starts 002_idx at statement 1'

    sql "ALTER TABLE app.users OWNER TO $deployer" >/dev/null
    # A new owner is a change made by hand: schema drift, refused until it is allowed.
    run_apply apply b.sealift -p release.pub "${AS[@]}"
    assert_exit 3
    assert_detail 'changed table app.users'
    run_apply apply b.sealift -p release.pub "${AS[@]}" --allow-schema-drift 'users handed over'
    assert_exit 0
    assert_line 'applied 2 migrations; the database is at 003_orders'
    run_apply history --verify "${AS[@]}"
    assert_exit 0
}

@test "a migration that needs a privilege the role lacks: exit 4 at its statement, rolled back" {
    sql "GRANT CONNECT ON DATABASE $PGDATABASE TO $deployer" >/dev/null
    grant_history_schema
    mig m 004_public 'CREATE TABLE public.audit (id int);' 'DROP TABLE public.audit;'
    rebuild m b.sealift
    run_apply apply b.sealift -p release.pub "${AS[@]}"
    assert_exit 4
    assert_error 'migration 004_public (up) failed: permission denied for schema public'
    assert_detail 'at migrations/000004_004_public/up.sql:1:14 (SQLSTATE 42501)'
    # 003 and 004 share the transaction after the no-transaction 002.
    assert_detail 'the transaction was rolled back; the database is at 002_idx'
    assert_applied 001,002
    assert_sql "SELECT count(*) FROM pg_tables WHERE tablename = 'audit'" 0
    run_apply history --verify "${AS[@]}"
    assert_exit 0
    assert_line --regexp '^ +[0-9]+  .*  failure +004 '
}
