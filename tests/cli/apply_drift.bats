#!/usr/bin/env bats
# Schema drift: every apply, rollback and stamp records a fingerprint of the schema it left
# (sealift.fingerprint, tied to the move's last journal row and written in its transaction);
# "status --schema-drift" compares the live catalog with it object by object (exit 3 on
# drift), and a move refuses on drift (exit 3) unless --allow-schema-drift REASON, which is
# journaled. The changes are a DBA's, by hand, with psql.

bats_require_minimum_version 1.5.0

load apply_helpers

setup_file() { apply_setup_file; }
teardown_file() { apply_teardown_file; }
setup() { apply_setup; }
teardown() { apply_teardown; }

# The three migrations and a fourth that adds a function, applied up to 003 (or $1).
applied_chain() {
    three_migrations
    mig m 004_fn "CREATE FUNCTION total(a int, b int) RETURNS int LANGUAGE sql
AS 'SELECT a + b';" 'DROP FUNCTION total(int, int);'
    bundle m b.sealift
    must "$APPLY" apply b.sealift -p release.pub --to "${1:-003}"
}

# What a DBA does by hand on production.
dba_changes() {
    must sql "DROP INDEX users_email_idx;
ALTER TABLE users ADD COLUMN nickname varchar(40) NOT NULL DEFAULT '';
CREATE OR REPLACE FUNCTION total(a int, b int) RETURNS int LANGUAGE sql AS 'SELECT a + b + 1';
CREATE TABLE audit_log (id bigint, note text);
GRANT SELECT ON orders TO PUBLIC;"
}

@test "an apply records the schema's fingerprint in the transaction of its last journal row" {
    applied_chain 004

    # Same transaction: the fingerprint row and the move's last journal row share an xmin.
    assert_sql "SELECT f.journal_seq || ' ' || f.event || ' ' || f.project || ' ' ||
        (f.xmin::text = j.xmin::text) || ' ' || (f.snapshot IS NOT NULL) || ' ' ||
        (f.objects > 10)
        FROM sealift.fingerprint f JOIN sealift.journal j ON j.seq = f.journal_seq" \
        '4 apply demo true true true'
    # The history schema's own objects are not in it.
    run_apply status b.sealift -p release.pub --schema-drift
    assert_exit 0
    refute_errors
    assert_line --regexp '^schema drift: none since the last fingerprint \(apply, journal row 4, .*project demo, [0-9]+ objects\)$'
}

@test "--per-migration, and a no-transaction last migration: the fingerprint is in the last commit" {
    three_migrations
    bundle m b.sealift
    run_apply apply b.sealift -p release.pub --per-migration --to 002
    assert_exit 0
    assert_sql "SELECT f.journal_seq || ' ' || (f.xmin::text = j.xmin::text)
        FROM sealift.fingerprint f JOIN sealift.journal j ON j.seq = f.journal_seq" '2 true'

    mig m 004_idx '-- sealift:no-transaction
CREATE INDEX CONCURRENTLY orders_user_idx ON orders (user_id);' 'DROP INDEX orders_user_idx;'
    rebuild m b.sealift
    run_apply apply b.sealift -p release.pub
    assert_exit 0
    assert_sql "SELECT f.journal_seq || ' ' || (f.xmin::text = j.xmin::text)
        FROM sealift.fingerprint f JOIN sealift.journal j ON j.seq = f.journal_seq
        ORDER BY f.journal_seq DESC LIMIT 1" '5 true'
    # Row 4 is the index_build event journaled before the concurrent build (index_repair).
    assert_sql "SELECT event FROM sealift.journal WHERE seq = 4" 'index_build'
    run_apply status b.sealift -p release.pub --schema-drift
    assert_exit 0
    assert_line --partial 'schema drift: none since the last fingerprint (apply, journal row 5'
}

@test "status --schema-drift names each object a DBA changed, with its old and new definition" {
    applied_chain 004
    dba_changes

    run_apply status b.sealift -p release.pub --schema-drift
    assert_exit 3
    assert_error 'the schema changed since the last fingerprint sealift recorded (schema drift)'
    assert_line --regexp '^schema drift: 7 objects changed since the last fingerprint \(apply, journal row 4'
    # A dropped index: missing, with what it was.
    assert_line '  missing  index public.users_email_idx'
    assert_line '           was: CREATE INDEX users_email_idx ON public.users USING btree (email)'
    # An added column: its type, nullability and default.
    assert_line '  added    column public.users.nickname'
    assert_line "           now: character varying(40) not null default ''::character varying"
    # A changed function body: both definitions, in full.
    assert_line '  changed  function public.total(a integer, b integer)'
    assert_line --regexp '^ +AS \$function\$SELECT a \+ b\$function\$$'
    assert_line --regexp '^ +AS \$function\$SELECT a \+ b \+ 1\$function\$$'
    # A new table in the chain's schema, with its columns.
    assert_line '  added    table public.audit_log'
    assert_line '  added    column public.audit_log.note'
    # A changed grant.
    assert_line '  changed  table public.orders'
    assert_line --regexp '^           now: owner [a-z_]+ grants =r/'
    # Nothing else: the unchanged tables are not listed.
    refute_line --partial 'public.users.name'
}

@test "apply refuses on schema drift (exit 3) and changes nothing" {
    applied_chain
    dba_changes
    rows=$(sql "SELECT count(*) FROM sealift.journal")

    run_apply apply b.sealift -p release.pub
    assert_exit 3
    assert_error 'the schema changed since the last fingerprint sealift recorded (apply, journal row 3): schema drift; nothing was changed'
    assert_detail 'missing index public.users_email_idx'
    assert_detail 'added column public.users.nickname'
    assert_detail 'added table public.audit_log'
    assert_hint 'to apply anyway, give --allow-schema-drift REASON'
    assert_applied 001,002,003
    assert_sql "SELECT count(*) FROM sealift.journal" "$rows"
    assert_sql "SELECT count(*) FROM pg_proc WHERE proname = 'total'" 1 # the DBA's, not 004's

    # rollback and stamp refuse too, before they start.
    run_apply rollback b.sealift -p release.pub --to 002
    assert_exit 3
    assert_hint 'to roll back anyway, give --allow-schema-drift REASON'
    assert_applied 001,002,003
    run_apply stamp b.sealift 004 -p release.pub
    assert_exit 3
    assert_hint 'to stamp anyway, give --allow-schema-drift REASON'
    assert_applied 001,002,003
}

@test "--allow-schema-drift REASON applies, journals the reason and the drift, and takes a new fingerprint" {
    applied_chain
    must sql "DROP INDEX users_email_idx; CREATE TABLE audit_log (id int)"

    run_apply apply b.sealift -p release.pub --allow-schema-drift 'INC-4711: index dropped during an outage'
    assert_exit 0
    assert_line 'schema drift allowed (INC-4711: index dropped during an outage): 3 objects changed: added column public.audit_log.id, missing index public.users_email_idx, added table public.audit_log'
    assert_applied 001,002,003,004
    assert_sql "SELECT event || ': ' || detail FROM sealift.journal WHERE seq = 4" \
        'allow_drift: reason: INC-4711: index dropped during an outage; schema drift since journal row 3: 3 objects changed: added column public.audit_log.id, missing index public.users_email_idx, added table public.audit_log'
    # The journal still verifies, and the new fingerprint accepts the drift as the new baseline.
    run_apply history --verify
    assert_exit 0
    assert_output --partial 'journal intact: 5 rows'
    assert_sql "SELECT journal_seq || ' ' || event FROM sealift.fingerprint ORDER BY journal_seq DESC LIMIT 1" \
        '5 apply'
    run_apply status b.sealift -p release.pub --schema-drift
    assert_exit 0
    assert_line --partial 'schema drift: none since the last fingerprint (apply, journal row 5'
}

@test "--json: the drift as an object of status, and as an event before apply's refusal" {
    applied_chain 004
    dba_changes

    run_apply status b.sealift -p release.pub --schema-drift --json
    assert_exit 3
    assert_json_lines
    printf '%s\n' "$output" | head -n1 | python3 -c '
import json, sys
d = json.load(sys.stdin)["schema_drift"]
assert d["state"] == "drift", d
fp = d["fingerprint"]
assert fp["journal_seq"] == 4 and fp["event"] == "apply" and fp["project"] == "demo", fp
assert fp["snapshot_kept"] is True and len(fp["sha256"]) == 64 and fp["objects"] > 10, fp
assert len(d["live_sha256"]) == 64 and d["live_sha256"] != fp["sha256"]
assert d["ignored_schemas"] == [] and d["ignore_applied"] is True
ch = {(c["change"], c["kind"], c["name"]): c for c in d["changes"]}
assert set(ch) == {("missing", "index", "public.users_email_idx"),
                   ("added", "column", "public.users.nickname"),
                   ("changed", "function", "public.total(a integer, b integer)"),
                   ("added", "table", "public.audit_log"),
                   ("added", "column", "public.audit_log.id"),
                   ("added", "column", "public.audit_log.note"),
                   ("changed", "table", "public.orders")}, sorted(ch)
c = ch[("missing", "index", "public.users_email_idx")]
assert c["before"].startswith("CREATE INDEX users_email_idx") and c["after"] is None, c
c = ch[("changed", "function", "public.total(a integer, b integer)")]
assert "SELECT a + b$function$" in c["before"] and "SELECT a + b + 1$function$" in c["after"], c
' || fail "unexpected schema_drift object"
    [ "$(json_field exit_code)" = 3 ]

    run_apply apply b.sealift -p release.pub --to 003 --json
    assert_exit 0 # at 004 already: nothing to apply, no check
    must sql "CREATE TABLE late (id int)"
    run_apply rollback b.sealift -p release.pub --to 003 --json
    assert_exit 3
    assert_json_lines
    [ "$(json_field event | head -n1)" != null ]
    printf '%s\n' "$output" | python3 -c '
import json, sys
ev = [json.loads(l) for l in sys.stdin if l.strip()]
assert ev[0]["event"] == "schema_drift" and ev[0]["allowed"] is False, ev[0]
assert ev[0]["schema_drift"]["state"] == "drift"
assert ev[-1]["event"] == "error" and ev[-1]["exit_code"] == 3, ev[-1]
assert "added table public.late" in ev[-1]["detail"], ev[-1]
' || fail "unexpected JSON events"
}

@test "--ignore-schema leaves a schema's objects out of status and of the move's check" {
    applied_chain
    must sql "CREATE SCHEMA scratch; CREATE TABLE scratch.tmp (x int);
COMMENT ON TABLE scratch.tmp IS 'tmp';"

    run_apply status b.sealift -p release.pub --schema-drift
    assert_exit 3
    assert_line '  added    schema scratch'
    assert_line '  added    table scratch.tmp'
    assert_line '  added    comment table scratch.tmp'

    run_apply status b.sealift -p release.pub --schema-drift --ignore-schema scratch
    assert_exit 7 # pending 004, and no drift
    refute_errors
    assert_line --partial 'schema drift: none since the last fingerprint'
    assert_line '  schemas left out: scratch'

    # A change in public still counts when scratch is left out.
    must sql "ALTER TABLE users ADD COLUMN extra int"
    run_apply apply b.sealift -p release.pub --ignore-schema scratch --ignore-schema other
    assert_exit 3
    assert_detail 'added column public.users.extra'
    [[ $stderr != *scratch* ]] || fail "scratch named: $stderr"
    must sql "ALTER TABLE users DROP COLUMN extra"
    run_apply apply b.sealift -p release.pub --ignore-schema scratch
    assert_exit 0
    assert_applied 001,002,003,004
}

@test "a history from before fingerprints is not drift; the next move records the first one" {
    applied_chain 002
    # As an applier without fingerprints left it.
    must sql "DROP TABLE sealift.fingerprint"
    must sql "CREATE TABLE hand_made (id int)"

    run_apply status b.sealift -p release.pub --schema-drift
    assert_exit 7
    refute_errors
    assert_line 'schema drift: no fingerprint recorded yet (the history predates them); the next apply, rollback or stamp records one'
    run_apply status b.sealift -p release.pub --schema-drift --json
    assert_exit 7
    [ "$(json_field schema_drift | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["state"], d["fingerprint"], d["changes"])')" = 'no_fingerprint None []' ]

    run_apply apply b.sealift -p release.pub --to 003
    assert_exit 0
    assert_sql "SELECT journal_seq || ' ' || event FROM sealift.fingerprint" '3 apply'
    run_apply status b.sealift -p release.pub --schema-drift
    assert_exit 7
    assert_line --partial 'schema drift: none since the last fingerprint (apply, journal row 3'
}

@test "moves made by a plan script run with psql leave the fingerprint stale, not drift" {
    applied_chain 002
    run_apply plan b.sealift -p release.pub --to 003
    assert_exit 0
    printf '%s\n' "$output" >plan.sql
    must "$SEALIFT_PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -f plan.sql
    assert_applied 001,002,003

    run_apply status b.sealift -p release.pub --schema-drift
    assert_exit 7
    refute_errors
    assert_line 'schema drift: not compared: the journal has 1 move after the last fingerprint (journal row 2) that recorded none (a plan script run with psql, an applier without fingerprints, or one stopped between commits); the next apply, rollback or stamp records one'
    run_apply status b.sealift -p release.pub --schema-drift --json
    [ "$(json_field schema_drift | python3 -c 'import json,sys; print(json.load(sys.stdin)["state"])')" = stale ]

    # The next move is not refused, and records a current fingerprint.
    run_apply apply b.sealift -p release.pub
    assert_exit 0
    assert_applied 001,002,003,004
    must sql "DROP INDEX users_email_idx"
    run_apply status b.sealift -p release.pub --schema-drift
    assert_exit 3
    assert_line '  missing  index public.users_email_idx'
}

@test "a no-op apply gives a database at head its first fingerprint" {
    applied_chain 004
    must sql "DROP TABLE sealift.fingerprint"

    run_apply apply b.sealift -p release.pub
    assert_exit 0
    assert_line 'nothing to apply: the database is at 004_fn'
    assert_sql "SELECT journal_seq || ' ' || event FROM sealift.fingerprint" '4 baseline'
    # A second no-op leaves it alone.
    run_apply apply b.sealift -p release.pub
    assert_exit 0
    assert_sql "SELECT count(*) FROM sealift.fingerprint" 1
}

@test "rollback and stamp record new fingerprints of the schema they leave" {
    applied_chain 004

    run_apply rollback b.sealift -p release.pub --to 002
    assert_exit 0
    assert_sql "SELECT f.journal_seq || ' ' || f.event || ' ' || (f.xmin::text = j.xmin::text)
        FROM sealift.fingerprint f JOIN sealift.journal j ON j.seq = f.journal_seq
        ORDER BY f.journal_seq DESC LIMIT 1" '6 rollback true'
    run_apply status b.sealift -p release.pub --schema-drift
    assert_exit 7
    assert_line --partial 'schema drift: none since the last fingerprint (rollback, journal row 6'

    # The DBA re-creates orders by hand; stamp records it as applied, and the fingerprint.
    must sql "CREATE TABLE orders (id int PRIMARY KEY, user_id int REFERENCES users (id))"
    run_apply stamp b.sealift 003 -p release.pub --allow-schema-drift 'orders restored by hand'
    assert_exit 0
    assert_sql "SELECT f.journal_seq || ' ' || f.event || ' ' || (f.xmin::text = j.xmin::text)
        FROM sealift.fingerprint f JOIN sealift.journal j ON j.seq = f.journal_seq
        ORDER BY f.journal_seq DESC LIMIT 1" '8 stamp true'
    assert_sql "SELECT event FROM sealift.journal WHERE seq = 7" allow_drift
    run_apply status b.sealift -p release.pub --schema-drift
    assert_exit 7
    assert_line --partial 'schema drift: none since the last fingerprint (stamp, journal row 8'
}

@test "a failed apply records the fingerprint of what it committed" {
    three_migrations
    mig m 004_bad 'CREATE TABLE t4 (id int); SELECT 1/0;' 'DROP TABLE t4;'
    bundle m b.sealift

    run_apply apply b.sealift -p release.pub --per-migration
    assert_exit 4
    assert_applied 001,002,003
    # Taken after the failure's journal row: what 001..003 left, not the empty database.
    assert_sql "SELECT f.journal_seq || ' ' || j.event FROM sealift.fingerprint f
        JOIN sealift.journal j ON j.seq = f.journal_seq ORDER BY f.journal_seq DESC LIMIT 1" \
        '4 failure'
    run_apply status b.sealift -p release.pub --schema-drift
    assert_exit 7
    assert_line --partial 'schema drift: none since the last fingerprint'
}

@test "over the size cap only the hash is kept: drift is seen but no object named" {
    three_migrations
    bundle m b.sealift
    SEALIFT_FINGERPRINT_CAP=16 must "$APPLY" apply b.sealift -p release.pub
    assert_sql "SELECT snapshot IS NULL AND length(sha256) = 64 AND raw_bytes > 16
        FROM sealift.fingerprint" t

    run_apply status b.sealift -p release.pub --schema-drift
    assert_exit 0
    must sql "DROP INDEX users_email_idx"
    run_apply status b.sealift -p release.pub --schema-drift --ignore-schema x
    assert_exit 3
    assert_line --regexp '^schema drift: the schema changed since the last fingerprint \(apply, journal row 3'
    assert_line '  only its hash was kept (its snapshot was over the size cap): no object can be named'
    assert_line '  --ignore-schema could not be applied: the comparison covers every schema'
    refute_line --partial users_email_idx
}

@test "odd shapes: quoted names, tabs, newlines and backslashes survive the stored snapshot" {
    three_migrations
    bundle m b.sealift
    tab=$'\t'
    # A table named a<TAB>tab\x, a column named new<NEWLINE>line, a default with a backslash.
    must sql "CREATE SCHEMA \"we.ird\"; CREATE TABLE \"we.ird\".\"a${tab}tab\\x\" (\"new
line\" text DEFAULT E'back\\\\slash'); CREATE TYPE mood AS ENUM ('sad', 'ok');"
    must "$APPLY" apply b.sealift -p release.pub
    run_apply status b.sealift -p release.pub --schema-drift
    assert_exit 0

    must sql "ALTER TYPE mood ADD VALUE 'happy'; ALTER TABLE \"we.ird\".\"a${tab}tab\\x\"
ALTER COLUMN \"new
line\" SET DEFAULT E'back\\\\slash2'"
    run_apply status b.sealift -p release.pub --schema-drift --json
    assert_exit 3
    printf '%s\n' "$output" | head -n1 | python3 -c '
import json, sys
d = json.load(sys.stdin)["schema_drift"]
ch = {(c["kind"], c["name"]): c for c in d["changes"]}
col = "we.ird.a\ttab\\x.new\nline"
assert set(ch) == {("type", "public.mood"), ("column", col)}, sorted(ch)
assert ch[("type", "public.mood")]["after"].startswith("enum (\x27sad\x27, \x27ok\x27, \x27happy\x27)")
c = ch[("column", col)]
assert c["before"] == "text default \x27back\\slash\x27::text", c
assert c["after"] == "text default \x27back\\slash2\x27::text", c
' || fail "unexpected changes: $output"
    # Leaving the dotted schema out is by its name.
    run_apply status b.sealift -p release.pub --schema-drift --ignore-schema we.ird
    assert_exit 3
    assert_line '  changed  type public.mood'
    refute_line --partial 'we.ird.a'
}

@test "a fingerprint edited by hand is refused, not trusted; --allow-schema-drift goes on" {
    applied_chain
    must sql "UPDATE sealift.fingerprint SET sha256 = repeat('0', 64)"

    run_apply status b.sealift -p release.pub --schema-drift
    assert_exit 3
    assert_error 'could not compare the schema with its last fingerprint: the last fingerprint cannot be read: its snapshot does not match its SHA-256'
    run_apply apply b.sealift -p release.pub
    assert_exit 3
    assert_error 'its snapshot does not match its SHA-256'
    assert_applied 001,002,003
    run_apply apply b.sealift -p release.pub --allow-schema-drift 'fingerprint row damaged'
    assert_exit 0
    assert_warning 'going on (--allow-schema-drift)'
    assert_applied 001,002,003,004
}

@test "bad drift options are usage errors (exit 2)" {
    three_migrations
    bundle m b.sealift

    run_apply apply b.sealift -p release.pub --allow-schema-drift ''
    assert_usage_error apply '--allow-schema-drift needs a REASON of 1 to 1000 bytes'
    run_apply apply b.sealift -p release.pub --ignore-schema ''
    assert_usage_error apply '--ignore-schema needs a schema NAME'
    run_apply status b.sealift -p release.pub --allow-schema-drift why
    assert_exit 2
    run_apply apply b.sealift -p release.pub --schema-drift
    assert_exit 2
    run_apply apply --help
    assert_output --partial '--allow-schema-drift REASON'
    run_apply status --help
    assert_output --partial '--schema-drift'
    assert_output --partial '--ignore-schema NAME'
}

@test "a role that may not write the fingerprint table: the move goes on, with a warning" {
    role=drifter$BATS_TEST_NUMBER
    must sql "CREATE ROLE $role LOGIN; GRANT CREATE ON SCHEMA public TO $role"
    mig m 001_a 'CREATE TABLE a (id int);' 'DROP TABLE a;'
    mig m 002_b 'CREATE TABLE b (id int);' 'DROP TABLE b;'
    bundle m b.sealift
    must "$APPLY" apply b.sealift -p release.pub --to 001
    # Grants on the history tables as they were before fingerprints: not on the new table.
    must sql "GRANT USAGE ON SCHEMA sealift TO $role;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA sealift TO $role;
REVOKE INSERT, UPDATE, DELETE ON sealift.fingerprint FROM $role"

    run_apply apply b.sealift -p release.pub -d "dbname=$PGDATABASE user=$role"
    assert_exit 0
    assert_warning 'could not record the schema'"'"'s fingerprint: permission denied for table fingerprint'
    assert_applied 001,002
    # The fingerprint of 001 is stale now: not compared, not drift.
    run_apply status b.sealift -p release.pub --schema-drift
    assert_exit 0
    assert_line --partial 'schema drift: not compared: the journal has 1 move after the last fingerprint (journal row 1)'
}

@test "a history from before fingerprints and a role that may not add the table: moves go on, with a warning" {
    role=olddrifter$BATS_TEST_NUMBER
    must sql "CREATE ROLE $role LOGIN; GRANT CREATE ON SCHEMA public TO $role"
    mig m 001_a 'CREATE TABLE a (id int);' 'DROP TABLE a;'
    mig m 002_b 'CREATE TABLE b (id int);' 'DROP TABLE b;'
    bundle m b.sealift
    must "$APPLY" apply b.sealift -p release.pub --to 001
    must sql "DROP TABLE sealift.fingerprint; GRANT USAGE ON SCHEMA sealift TO $role;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA sealift TO $role"

    run_apply apply b.sealift -p release.pub -d "dbname=$PGDATABASE user=$role"
    assert_exit 0
    assert_warning 'could not add the fingerprint table to the history schema "sealift": permission denied for schema sealift; no fingerprint is recorded until it exists'
    [ "$(grep -c 'fingerprint' <<<"$stderr")" -eq 1 ] || fail "one warning only: $stderr"
    assert_applied 001,002
    run_apply status b.sealift -p release.pub --schema-drift
    assert_exit 0
    assert_line --partial 'schema drift: no fingerprint recorded yet'
}

@test "a table locked by another session: the check does not queue behind it; status says why" {
    applied_chain
    "$SEALIFT_PG_BIN/psql" -XAtq -d "$PGDATABASE" -c "SET application_name = 'long_tx'" \
        -c "BEGIN" -c "LOCK TABLE users" -c "SELECT pg_sleep(60)" >/dev/null 2>&1 3>&- &
    APPLY_PIDS+=($!)
    wait_sql "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
        WHERE c.relname = 'users' AND l.mode = 'AccessExclusiveLock' AND l.granted" 1 10

    SECONDS=0
    run_apply status b.sealift -p release.pub --schema-drift
    assert_exit 3
    assert_error 'could not compare the schema with its last fingerprint: canceling statement due to lock timeout'
    # 004 does not touch users, but its fingerprint needs users' index definitions: the move
    # goes on unchecked, and its fingerprint is not taken (a warning each), so the last one is
    # stale.
    run_apply apply b.sealift -p release.pub
    assert_exit 0
    assert_warning 'the schema was not compared with its last fingerprint: another session holds a lock on a relation it describes'
    assert_warning "could not record the schema's fingerprint"
    [ "$SECONDS" -lt 30 ] || fail "the check waited for the lock ($SECONDS s)"
    assert_applied 001,002,003,004
    must sql "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'long_tx'"
    run_apply status b.sealift -p release.pub --schema-drift
    assert_exit 0
    assert_line --partial 'schema drift: not compared: the journal has 1 move after the last fingerprint (journal row 3)'
}

# Every object kind the snapshot reads, in one migration (no extension: the test cluster has
# only the built-in ones).
every_kind_migration() {
    mig m 005_every_kind "CREATE SCHEMA app;
CREATE SCHEMA \"Weird Schema\";
CREATE TYPE app.mood AS ENUM ('sad', 'ok', 'happy');
CREATE DOMAIN app.posint AS integer NOT NULL DEFAULT 1 CHECK (VALUE > 0);
CREATE TYPE app.pair AS (a int, b text);
CREATE TYPE app.floatrange AS RANGE (subtype = float8);
CREATE SEQUENCE app.s1 INCREMENT 5 START 10 CACHE 3 CYCLE;
CREATE TABLE app.t (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  \"Mixed Case\" text COLLATE \"C\" NOT NULL DEFAULT 'x',
  m app.mood, p app.posint, n numeric(10,2) DEFAULT 1.5,
  g int GENERATED ALWAYS AS (length(\"Mixed Case\") * 2) STORED,
  during tsrange, v varchar(20), ts timestamptz DEFAULT now(), arr int[],
  UNIQUE (v) INCLUDE (n) WITH (fillfactor = 70),
  EXCLUDE USING gist (during WITH &&),
  CHECK (n > 0) NOT VALID);
CREATE INDEX t_expr ON app.t (lower(\"Mixed Case\") text_pattern_ops DESC NULLS LAST, id)
  WHERE n > 1;
CREATE INDEX t_hash ON app.t USING hash (v);
CREATE INDEX \"T Idx\" ON app.t (v COLLATE \"C\" DESC, ts NULLS FIRST) WITH (fillfactor = 50);
CREATE INDEX t_brin ON app.t USING brin (ts);
CREATE UNIQUE INDEX t_uq_nnd ON app.t (n) NULLS NOT DISTINCT;
CREATE INDEX t_gin ON app.t USING gin (arr);
CREATE TABLE \"Weird Schema\".\"Tab\" (\"Col\" int PRIMARY KEY,
  ref bigint REFERENCES app.t (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED);
CREATE INDEX \"select\" ON \"Weird Schema\".\"Tab\" (\"Col\", ref);
CREATE TABLE app.parted (id int, k date, PRIMARY KEY (id, k)) PARTITION BY RANGE (k);
CREATE TABLE app.parted_2020 PARTITION OF app.parted
  FOR VALUES FROM ('2020-01-01') TO ('2021-01-01');
CREATE INDEX parted_k ON app.parted (k);
CREATE UNLOGGED TABLE app.u (x int) WITH (fillfactor = 80);
ALTER TABLE app.u REPLICA IDENTITY FULL;
CREATE TABLE app.child (extra int) INHERITS (app.u);
CREATE VIEW app.v AS SELECT id, \"Mixed Case\" FROM app.t WHERE n > 2;
CREATE MATERIALIZED VIEW app.mv AS SELECT id FROM app.t;
CREATE UNIQUE INDEX mv_id ON app.mv (id);
CREATE FUNCTION app.f(a int) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT a + 1';
CREATE FUNCTION app.trg() RETURNS trigger LANGUAGE plpgsql AS \$\$BEGIN RETURN NEW; END\$\$;
CREATE TRIGGER t_trg BEFORE INSERT ON app.t FOR EACH ROW EXECUTE FUNCTION app.trg();
CREATE INDEX t_func ON app.t ((app.f(length(v))));
ALTER TABLE app.t ENABLE ROW LEVEL SECURITY;
CREATE POLICY pol ON app.t FOR SELECT USING (n > 0);
CREATE RULE r AS ON INSERT TO app.u DO ALSO NOTIFY u;
COMMENT ON TABLE app.t IS 'the t';
CREATE STATISTICS app.st ON n, v FROM app.t;
GRANT SELECT ON app.t TO PUBLIC;" 'DROP SCHEMA app, "Weird Schema" CASCADE;'
}

@test "the fingerprint of a fixed schema is byte for byte what earlier appliers recorded" {
    # A stored fingerprint must compare equal after an upgrade of the applier: a change to the
    # snapshot query that changes one byte of its rows fails here. Recorded on PostgreSQL 15
    # (whose catalog functions print these texts) with the applier as it was before the
    # snapshot was made cheaper; the test cluster's role, postgres, owns every object.
    applied_chain 004
    every_kind_migration
    rebuild m b.sealift
    run_apply apply b.sealift -p release.pub
    assert_exit 0
    assert_sql "SELECT objects || ' ' || sha256 FROM sealift.fingerprint
        ORDER BY journal_seq DESC LIMIT 1" \
        '84 6dec524f704089b0af4f56374a1d0027cb0b9e8a3abaacbb9971df1654fc9ce1'
}
