#!/usr/bin/env bats
# sealift-apply test: every migration up, down and up again on a scratch database, with the
# schema compared after each step; head to base and back as rollback and apply would; stamp at
# head then nothing to apply. The safety rule for the target database, and the throwaway
# server used when no database is given (started, and removed on every exit path).

bats_require_minimum_version 1.5.0

load apply_helpers

setup_file() { apply_setup_file; }
teardown_file() { apply_teardown_file; }
setup() { apply_setup; }
teardown() { apply_teardown; }

# run_throwaway ARG...: sealift-apply with no database in the environment, so that test starts
# its own server.
run_throwaway() {
    run --separate-stderr env -u PGHOST -u PGPORT -u PGDATABASE -u PGUSER -u DATABASE_URL \
        "$APPLY" "$@"
    assert_no_crash
}

# The throwaway server's directory, from test's first line ("... in DIR (removed at the end)").
throwaway_dir() {
    sed -n 's/.* in \(.*sealift-test\.[A-Za-z0-9]*\) (removed at the end)$/\1/p' <<<"$1" | head -n1
}

# assert_gone DIR SECONDS: DIR is removed and no process runs from it, within SECONDS.
assert_gone() {
    local dir=$1 start=$SECONDS
    [ -n "$dir" ] || fail "no throwaway directory named in the output"
    while [ -e "$dir" ] || pgrep -f -- "$dir" >/dev/null; do
        if [ $((SECONDS - start)) -ge "$2" ]; then
            fail "$dir or its server is still there after $2 s: $(pgrep -af -- "$dir")"
            return 1
        fi
        sleep 0.1
    done
}

@test "a chain whose downs are right passes: a line per migration, the phases, exit 0" {
    three_migrations
    bundle m b.sealift

    run_apply test b.sealift -p release.pub
    assert_exit 0
    refute_errors
    assert_line --regexp "^testing 3 migrations of \"demo\" on .*/$PGDATABASE \(PostgreSQL 15"
    assert_line --regexp '^\[  1/3\] ok    001_users \(up [0-9.]+ ms, down [0-9.]+ ms, up again [0-9.]+ ms\)$'
    assert_line --regexp '^\[  2/3\] ok    002_email '
    assert_line --regexp '^\[  3/3\] ok    003_orders '
    assert_line --regexp '^ok    head to base: rolled back 3 migrations as rollback would \([0-9.]+ ms\); the schema is the one at base again$'
    assert_line --regexp '^ok    base to head: applied 3 migrations as apply would \([0-9.]+ ms\); the schema is the first head.s again$'
    assert_line --partial 'ok    stamp at head: a database with the chain'"'"'s schema and no history, stamped at 003_orders: apply has nothing to do'
    assert_line --regexp '^test passed: 3 of 3 migrations round-trip, and the chain goes down and up again \([0-9.]+ s\)$'
    # A database it was given is left as it was found.
    assert_line 'the database is as it was before the test'
    assert_tables ''
    assert_no_history
}

@test "a down that forgets an index: exit 1, the migration and the index named" {
    three_migrations
    mig m 002_email \
        'ALTER TABLE users ADD COLUMN email text;
CREATE INDEX IF NOT EXISTS users_name_idx ON users (name);' \
        'ALTER TABLE users DROP COLUMN email;'
    mig m 004_tags 'CREATE TABLE tags (name text);
CREATE INDEX tags_name_idx ON tags (name);' 'DROP TABLE tags;'
    bundle m b.sealift

    run_apply test b.sealift -p release.pub
    assert_exit 1
    assert_line '[  2/4] FAIL  002_email: its down does not undo its up (1 difference from before its up)'
    assert_line '          added index public.users_name_idx (CREATE INDEX users_name_idx ON public.users USING btree (name))'
    # The round trip goes on past it, and the rest pass.
    assert_line --regexp '^\[  3/4\] ok    003_orders '
    assert_line --regexp '^\[  4/4\] ok    004_tags '
    assert_line --regexp '^test FAILED: 1 of 4 migrations do not round-trip; first failure: 002_email '
    assert_error 'test failed: 002_email: its down does not undo its up (1 difference from before its up)'
    assert_detail 'added index public.users_name_idx (CREATE INDEX users_name_idx ON public.users USING btree (name))'
}

@test "a down that leaves an index that its up then creates again: named, and the test goes on" {
    mig m 001_users 'CREATE TABLE users (id int PRIMARY KEY, name text);' 'DROP TABLE users;'
    mig m 002_name_idx 'CREATE INDEX users_name_idx ON users (name);' 'SELECT 1;'
    mig m 003_t 'CREATE TABLE t (id int);' 'DROP TABLE t;'
    bundle m b.sealift

    run_apply test b.sealift -p release.pub
    assert_exit 1
    assert_line '[  2/3] FAIL  002_name_idx: its down does not undo its up, and its up then failed: relation "users_name_idx" already exists (SQLSTATE 42P07)'
    assert_line '          added index public.users_name_idx (CREATE INDEX users_name_idx ON public.users USING btree (name))'
    assert_line --regexp '^\[  3/3\] ok    003_t '
    # The runner's own report of the failing up, with file:line:column.
    assert_error 'migration 002_name_idx (up) failed: relation "users_name_idx" already exists'
    assert_detail 'at migrations/000002_002_name_idx/up.sql:1:1 (SQLSTATE 42P07)'
}

@test "a down that fails: exit 1, the SQL error with file, line, column and SQLSTATE" {
    three_migrations
    mig m 002_email \
        'ALTER TABLE users ADD COLUMN email text;
CREATE INDEX users_email_idx ON users (email);' \
        '-- drops the wrong index
DROP INDEX users_mail_idx;
ALTER TABLE users DROP COLUMN email;'
    bundle m b.sealift

    run_apply test b.sealift -p release.pub
    assert_exit 1
    assert_line '[  2/3] FAIL  002_email: its down failed: index "users_mail_idx" does not exist (SQLSTATE 42704)'
    assert_line --regexp '^\[  3/3\] ok    003_orders '
    assert_error 'migration 002_email (down) failed: index "users_mail_idx" does not exist'
    assert_detail 'at migrations/000002_002_email/down.sql:2:1 (SQLSTATE 42704)'
    # Rolling the whole chain back meets the same down.
    assert_line 'FAIL  head to base: the down of 002_email failed: index "users_mail_idx" does not exist (SQLSTATE 42704)'
    assert_line 'skip  base to head: the chain did not get back to base'
    assert_error 'test failed: 002_email: its down failed: index "users_mail_idx" does not exist (SQLSTATE 42704)'
    # A failed test leaves the database as it is, and says so.
    assert_warning "the test leaves database \"$PGDATABASE\" at 003_orders"
}

@test "an irreversible migration is skipped and listed; the rest pass: exit 0" {
    mig m 001_users 'CREATE TABLE users (id int PRIMARY KEY);' 'DROP TABLE users;'
    mig m 002_archive '-- sealift:irreversible
CREATE TABLE archive (id int);'
    mig m 003_idx 'CREATE INDEX users_id_idx ON users (id);' 'DROP INDEX users_id_idx;'
    bundle m b.sealift

    run_apply test b.sealift -p release.pub
    assert_exit 0
    refute_errors
    assert_line --regexp '^\[  1/3\] ok    001_users '
    assert_line '[  2/3] skip  002_archive: irreversible (no down script)'
    assert_line --regexp '^\[  3/3\] ok    003_idx '
    # The whole chain goes back as far as it can: to just after the irreversible one.
    assert_line --regexp '^ok    head to base: rolled back 1 migrations as rollback would \([0-9.]+ ms\); the schema is the one at 002_archive again$'
    assert_line --regexp '^test passed: 2 of 3 migrations round-trip, .*; irreversible, skipped: 002_archive \('
    # It could not go back to base, so it leaves the database at the irreversible one.
    assert_warning "the test leaves database \"$PGDATABASE\" at 002_archive"
}

@test "a later migration makes an earlier down fail: head to base catches it" {
    mig m 001_users 'CREATE TABLE users (id serial PRIMARY KEY, email text NOT NULL);' \
        'DROP TABLE users;'
    mig m 002_optional_email 'ALTER TABLE users ALTER COLUMN email DROP NOT NULL;' \
        'ALTER TABLE users ALTER COLUMN email SET NOT NULL;'
    mig m 003_guest 'INSERT INTO users (email) VALUES (NULL);' '-- the guest stays
SELECT 1;'
    bundle m b.sealift

    run_apply test b.sealift -p release.pub
    assert_exit 1
    # Each migration round-trips on its own ...
    assert_line --regexp '^\[  1/3\] ok    001_users '
    assert_line --regexp '^\[  2/3\] ok    002_optional_email '
    assert_line --regexp '^\[  3/3\] ok    003_guest '
    # ... but 003 changed the table so that 002's down no longer works.
    assert_line 'FAIL  head to base: the down of 002_optional_email failed: column "email" of relation "users" contains null values (SQLSTATE 23502); its own round trip passed: it fails only after the downs of the migrations after it'
    assert_line --regexp '^test FAILED: 3 of 3 migrations round-trip, but the whole chain does not go down and up again; first failure: 002_optional_email \(head to base\)'
    assert_error 'migration 002_optional_email (down) failed: column "email" of relation "users" contains null values'
    assert_error 'test failed: 002_optional_email (head to base): the down of 002_optional_email failed'
}

@test "a down that changes what was there: column default, function, grants, enum labels named" {
    sql 'CREATE ROLE test_reader' 2>/dev/null || true
    mig m 001_base "CREATE TYPE mood AS ENUM ('sad', 'ok');
CREATE TABLE people (id int PRIMARY KEY, name varchar(40) DEFAULT 'x', m mood);
CREATE FUNCTION greet(p text) RETURNS text LANGUAGE sql AS \$\$ SELECT 'hi ' || p \$\$;" \
        'DROP FUNCTION greet(text); DROP TABLE people; DROP TYPE mood;'
    mig m 002_changes "ALTER TABLE people ALTER COLUMN name TYPE text;
ALTER TABLE people ALTER COLUMN name SET DEFAULT 'nobody';
ALTER TYPE mood ADD VALUE 'happy';
GRANT SELECT ON people TO test_reader;
CREATE OR REPLACE FUNCTION greet(p text) RETURNS text LANGUAGE sql AS \$\$ SELECT 'hello ' || p \$\$;
CREATE VIEW named AS SELECT name FROM people;
ALTER TABLE people DROP COLUMN m;" \
        "DROP VIEW named;
ALTER TABLE people ADD COLUMN m mood;
ALTER TABLE people ALTER COLUMN name TYPE varchar(40);"
    bundle m b.sealift

    run_apply test b.sealift -p release.pub
    assert_exit 1
    # The down cannot remove the enum value, so the up fails when it runs again.
    assert_line '[  2/2] FAIL  002_changes: its down does not undo its up, and its up then failed: enum label "happy" already exists (SQLSTATE 42710)'
    assert_line '          changed column public.people.name: was "character varying(40) default '"'"'x'"'"'::character varying"; now "character varying(40) default '"'"'nobody'"'"'::text"'
    assert_line --regexp '^          changed function public.greet\(p text\): was "returns text language sql definition md5 [0-9a-f]+ owner postgres"; now "returns text language sql definition md5 [0-9a-f]+ owner postgres"$'
    assert_line '          changed table public.people: was "owner postgres"; now "owner postgres grants postgres=arwdDxt/postgres, test_reader=r/postgres"'
    assert_line "          changed type public.mood: was \"enum ('sad', 'ok') owner postgres\"; now \"enum ('sad', 'ok', 'happy') owner postgres\""
    # Column m was dropped and added back at the end: its position is not compared.
    refute_line --partial 'public.people.m'
    # Four differences, no more.
    run grep -c '^          changed ' <<<"$output"
    assert_output 4
    sql 'DROP ROLE IF EXISTS test_reader' "$PGDATABASE" >/dev/null 2>&1 || true
}

@test "a down that drops too much: the objects are named as missing" {
    mig m 001_a 'CREATE TABLE a (id int, note text);
CREATE VIEW a_notes AS SELECT note FROM a;' 'DROP VIEW a_notes; DROP TABLE a;'
    mig m 002_b 'CREATE TABLE b (id int);' 'DROP TABLE b; DROP VIEW a_notes;'
    bundle m b.sealift

    run_apply test b.sealift -p release.pub
    assert_exit 1
    assert_line '[  2/2] FAIL  002_b: its down does not undo its up (1 difference from before its up)'
    assert_line '          missing view public.a_notes (owner postgres as SELECT a.note FROM public.a;)'
}

@test "a down that breaks a deferred foreign key fails as its COMMIT would" {
    mig m 001_tables 'CREATE TABLE parent (id int PRIMARY KEY);
CREATE TABLE child (pid int REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED);' \
        'DROP TABLE child; DROP TABLE parent;'
    mig m 002_rows 'INSERT INTO parent VALUES (1); INSERT INTO child VALUES (1);' \
        'DELETE FROM parent;'
    # Deferred: the child row may come first, as long as the parent is there at COMMIT.
    mig m 003_rows 'INSERT INTO child VALUES (2); INSERT INTO parent VALUES (2);' \
        'DELETE FROM child WHERE pid = 2; DELETE FROM parent WHERE id = 2;'
    bundle m b.sealift

    run_apply test b.sealift -p release.pub
    assert_exit 1
    assert_line '[  2/3] FAIL  002_rows: its down failed: at commit: update or delete on table "parent" violates foreign key constraint "child_pid_fkey" on table "child" (SQLSTATE 23503)'
    assert_line --regexp '^\[  3/3\] ok    003_rows '
    assert_error 'migration 002_rows (down) failed at commit: update or delete on table "parent"'
}

@test "a no-transaction migration (CREATE INDEX CONCURRENTLY) round-trips" {
    mig m 001_t 'CREATE TABLE t (id int);' 'DROP TABLE t;'
    mig m 002_idx '-- sealift:no-transaction
CREATE INDEX CONCURRENTLY t_id_idx ON t (id);' '-- sealift:no-transaction
DROP INDEX CONCURRENTLY t_id_idx;'
    mig m 003_idx2 '-- sealift:no-transaction
CREATE INDEX CONCURRENTLY t_id2_idx ON t (id);' '-- sealift:no-transaction
SELECT 1;'
    bundle m b.sealift

    run_apply test b.sealift -p release.pub
    assert_exit 1
    assert_line --regexp '^\[  2/3\] ok    002_idx '
    assert_line '[  3/3] FAIL  003_idx2: its down does not undo its up, and its up then failed: relation "t_id2_idx" already exists (SQLSTATE 42P07)'
    assert_line '          added index public.t_id2_idx (CREATE INDEX t_id2_idx ON public.t USING btree (id))'
    assert_line 'skip  head to base: the round trip stopped at 003_idx2, so the chain is not at head'
}

@test "--json: one object per event, a round_trip per migration, phases, the result" {
    three_migrations
    mig m 003_orders 'CREATE TABLE orders (id int PRIMARY KEY);' 'SELECT 1;'
    bundle m b.sealift

    run_apply test b.sealift -p release.pub --json
    assert_exit 1
    assert_json_lines
    python3 - "$output" <<'EOF' || fail "unexpected JSON events"
import json, sys
events = [json.loads(l) for l in sys.argv[1].splitlines() if l.strip()]
kinds = [e["event"] for e in events]
assert kinds[0] == "test_start" and kinds[-1] == "test_result", kinds
rt = [e for e in events if e["event"] == "round_trip"]
assert [e["result"] for e in rt] == ["ok", "ok", "failed"], rt
bad = rt[2]
assert bad["migration"] == "003" and bad["reason"] == "down_differs", bad
assert bad["differences"][0]["change"] == "added", bad
names = {(d["kind"], d["name"]) for d in bad["differences"]}
assert ("table", "public.orders") in names and ("index", "public.orders_pkey") in names, names
phases = {e["phase"]: e["result"] for e in events if e["event"] == "phase"}
assert phases["head_to_base"] == "failed", phases
res = events[-1]
assert res["result"] == "failed" and res["failed"] == ["003"], res
assert res["first_failure"] == "003_orders", res
EOF
}

@test "refused: a database with objects of its own, without --scratch, or with a name that is not disposable" {
    three_migrations
    bundle m b.sealift
    sql 'CREATE TABLE keep (id int); INSERT INTO keep VALUES (1);'

    run_apply test b.sealift -p release.pub
    assert_exit 3
    assert_error "test refuses database \"$PGDATABASE\": it has 1 object of its own, and test creates and drops objects"
    assert_detail 'table public.keep'
    assert_hint 'use an empty database'
    assert_no_history
    assert_tables keep

    # --scratch needs a name that says the database is disposable.
    run_apply test b.sealift -p release.pub --scratch
    assert_exit 3
    assert_hint '--scratch accepts such a database only when its name says it is disposable'

    must "$SEALIFT_PG_BIN/createdb" shop_prod_test
    sql 'CREATE TABLE keep (id int)' shop_prod_test
    run_apply test b.sealift -p release.pub --scratch -d dbname=shop_prod_test
    assert_exit 3
    assert_error 'test refuses database "shop_prod_test"'

    must "$SEALIFT_PG_BIN/createdb" latest
    sql 'CREATE TABLE keep (id int)' latest
    run_apply test b.sealift -p release.pub --scratch -d dbname=latest
    assert_exit 3
    assert_error 'test refuses database "latest"'

    run_apply test b.sealift -p release.pub -d dbname=template1
    assert_exit 3
    assert_error 'test refuses database "template1": every new database is copied from it'
    assert_sql "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'" 0 template1
}

@test "--scratch on a disposable name: runs beside the objects there and leaves them alone" {
    three_migrations
    bundle m b.sealift
    must "$SEALIFT_PG_BIN/createdb" shop_test
    sql 'CREATE TABLE keep (id int); INSERT INTO keep VALUES (7);' shop_test

    run_apply test b.sealift -p release.pub --scratch -d dbname=shop_test
    assert_exit 0
    assert_line 'database "shop_test" has 1 object of its own; --scratch and its name let the test run beside them'
    assert_line --regexp '^test passed: 3 of 3 '
    assert_sql "SELECT string_agg(tablename, ',') FROM pg_tables WHERE schemaname = 'public'" keep shop_test
    assert_sql 'SELECT id FROM keep' 7 shop_test
    assert_sql "SELECT count(*) FROM pg_namespace WHERE nspname = 'sealift'" 0 shop_test
}

@test "refused: a database where the history schema exists (sealift was used there)" {
    three_migrations
    bundle m b.sealift
    must "$APPLY" apply b.sealift -p release.pub
    must "$SEALIFT_PG_BIN/createdb" app_tmp
    must "$APPLY" apply b.sealift -p release.pub -d dbname=app_tmp

    run_apply test b.sealift -p release.pub
    assert_exit 3
    assert_error "test refuses database \"$PGDATABASE\": it has"
    # The history's objects are among those listed (the first ten, in kind and name order).
    assert_detail 'index sealift.journal_pkey'

    run_apply test b.sealift -p release.pub -d dbname=app_tmp --scratch
    assert_exit 3
    assert_error 'test refuses database "app_tmp": its history schema "sealift" exists'
    assert_applied 001,002,003 sealift app_tmp
}

@test "verification first: a bundle signed by an unknown key is rejected before any database" {
    three_migrations
    bundle m b.sealift

    run_throwaway test b.sealift -p other.pub
    assert_exit 1
    assert_error 'b.sealift: MANIFEST: no signature by a trusted key'
    assert_output ''
}

@test "no database given: a throwaway server is started, used and removed" {
    three_migrations
    bundle m b.sealift

    run_throwaway test b.sealift -p release.pub
    assert_exit 0
    refute_errors
    assert_line --regexp '^testing 3 migrations of "demo" on a throwaway PostgreSQL 15.* in /.*/sealift-test\.[A-Za-z0-9]+ \(removed at the end\)$'
    assert_line --regexp '^test passed: 3 of 3 '
    assert_gone "$(throwaway_dir "$output")" 0
    # The cluster of this file was not touched.
    assert_no_history
}

@test "no database given and no server binaries: exit 2 with a clear message" {
    three_migrations
    bundle m b.sealift

    SEALIFT_PG_BINDIR=/nonexistent run_throwaway test b.sealift -p release.pub
    assert_exit 2
    assert_error 'SEALIFT_PG_BINDIR is "/nonexistent", but it has no initdb and postgres'

    # An operator's host: the static applier alone in an empty root, no server anywhere.
    [ "$(id -u)" -eq 0 ] || skip "chroot needs root"
    [ -z "${SEALIFT_ASAN:-}" ] || skip "sanitizer build: the applier is dynamically linked"
    mkdir -p root
    cp "$APPLY" b.sealift release.pub root/
    run --separate-stderr env -i /usr/sbin/chroot root /sealift-apply test /b.sealift -p /release.pub
    assert_no_crash
    assert_exit 2
    assert_error 'no database was given, and there are no PostgreSQL server binaries here to start a throwaway one'
    assert_detail 'looked for initdb and postgres in SEALIFT_PG_BINDIR, pg_config --bindir, PATH'
    assert_hint 'give a scratch database with -d'
}

@test "the throwaway server is removed on SIGINT, SIGTERM and a failing test" {
    mig m 001_slow 'SELECT pg_sleep(30);
CREATE TABLE t (id int);' 'DROP TABLE t;'
    bundle m b.sealift
    local sig dir

    for sig in INT TERM; do
        env -u PGHOST -u PGPORT -u PGDATABASE -u PGUSER "$APPLY" test b.sealift -p release.pub \
            >run.out 2>run.err 3>&- &
        BG_PID=$!
        APPLY_PIDS+=("$BG_PID")
        # Wait until the server is up and the slow migration runs.
        for _ in $(seq 1 200); do
            grep -q 'removed at the end' run.out 2>/dev/null && break
            sleep 0.05
        done
        dir=$(throwaway_dir "$(cat run.out)")
        [ -d "$dir" ] || fail "no throwaway directory: $(cat run.out run.err)"
        sleep 0.5
        kill -"$sig" "$BG_PID"
        wait_exit "$BG_PID" 15
        load_bg run
        assert_exit 4
        assert_error "interrupted by SIG$sig: the test stopped at base; the throwaway server is removed"
        assert_gone "$dir" 0
    done

    # A failing test removes it too.
    mig m 001_slow 'CREATE TABLE t (id int);' 'DROP TABLE nope;'
    rebuild m c.sealift
    run_throwaway test c.sealift -p release.pub
    assert_exit 1
    assert_gone "$(throwaway_dir "$output")" 0
}

@test "kill -9: the server stops and its directory is removed all the same" {
    mig m 001_slow 'SELECT pg_sleep(60);' 'SELECT 1;'
    bundle m b.sealift
    local dir

    env -u PGHOST -u PGPORT -u PGDATABASE -u PGUSER "$APPLY" test b.sealift -p release.pub \
        >run.out 2>run.err 3>&- &
    BG_PID=$!
    APPLY_PIDS+=("$BG_PID")
    for _ in $(seq 1 200); do
        grep -q 'removed at the end' run.out 2>/dev/null && break
        sleep 0.05
    done
    dir=$(throwaway_dir "$(cat run.out)")
    [ -d "$dir" ] || fail "no throwaway directory: $(cat run.out run.err)"
    sleep 0.5
    kill -9 "$BG_PID"
    wait "$BG_PID" 2>/dev/null || true
    assert_gone "$dir" 20
}

@test "usage: one bundle, a key; --help documents the safety rule" {
    run_apply test
    assert_usage_error test 'expected one BUNDLE'

    run_apply test --help
    assert_exit 0
    assert_output --partial 'Safety: test creates and drops objects, so it refuses a database (exit 3) unless'
    assert_output --partial '--scratch is given and the database'"'"'s name says it is disposable'
}
