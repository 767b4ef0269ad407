#!/usr/bin/env bats
# COPY data that fails: a bad row (inline, in a file, binary) names its line in the data and
# leaves nothing behind; a tampered data member is refused before anything runs; a member that
# changes between verification and load aborts the load; SIGINT and kill -9 in the middle of a
# load.

bats_require_minimum_version 1.5.0

load data_helpers

setup_file() { apply_setup_file; }
teardown_file() { apply_teardown_file; }
setup() { apply_setup; }
teardown() { apply_teardown; }

# 001_people creates a table; 002_load loads people.csv into it (HEADER, one row per line;
# with BAD, line 4 has a bad id).
people() {
    mig m 001_people 'CREATE TABLE people (id int PRIMARY KEY, name text NOT NULL);' \
        'DROP TABLE people;'
    mig m 002_load '-- sealift:data people.csv
COPY people FROM STDIN WITH (FORMAT csv, HEADER true);' 'DELETE FROM people;'
    data_file m 002_load people.csv "id,name
1,ada
2,MARKER_grace
${1:-3},linus
4,ken
"
}

@test "a bad inline row: exit 4, its line in the script and in the data, nothing left behind" {
    mig m 001_t 'CREATE TABLE t (id int, name text);
INSERT INTO t VALUES (0, '"'before'"');
COPY t FROM stdin;
1	one
2	two
three	3
\.
INSERT INTO t VALUES (9, '"'after'"');' 'DROP TABLE t;'
    bundle m b.sealift

    run_apply apply b.sealift -p release.pub
    assert_exit 4
    assert_error 'migration 001_t (up) failed: invalid input syntax for type integer: "three"'
    assert_detail 'at migrations/000001_001_t/up.sql:6, line 3 of the COPY data (SQLSTATE 22P02)'
    assert_detail 'context: COPY t, line 3, column id: "three"'
    assert_detail 'the transaction was rolled back; the database is at base'
    refute_output --partial 'loaded'
    assert_tables ''
    assert_applied ''
    assert_sql "SELECT event || ' ' || migration_id || ' ' || detail FROM sealift.journal" \
        'failure 001 up: 22P02: invalid input syntax for type integer: "three"'
}

@test "a bad row in a data file: exit 4, its line in the file, the run rolled back" {
    people x3
    bundle m b.sealift

    run_apply apply b.sealift -p release.pub
    assert_exit 4
    assert_error 'migration 002_load (up) failed: invalid input syntax for type integer: "x3"'
    # Line 4 of the file: the header is line 1.
    assert_detail 'at data/000002_1_people.csv:4 (data file line 4) (SQLSTATE 22P02)'
    assert_detail 'context: COPY people, line 4, column id: "x3"'
    assert_detail 'the transaction was rolled back; the database is at base'
    # All or nothing: migration 1's table went too.
    assert_tables ''
    assert_applied ''

    # With --per-migration, migration 1 stays and the load leaves no row.
    run_apply apply b.sealift -p release.pub --per-migration
    assert_exit 4
    assert_detail 'at data/000002_1_people.csv:4 (data file line 4) (SQLSTATE 22P02)'
    assert_detail 'the transaction was rolled back; the database is at 001_people'
    assert_tables people
    assert_sql "SELECT count(*) FROM people" 0
    assert_applied 001
}

@test "a constraint violation in a data file names the row's line, with the server's detail" {
    people 2
    bundle m b.sealift

    run_apply apply b.sealift -p release.pub
    assert_exit 4
    assert_error 'migration 002_load (up) failed: duplicate key value violates unique constraint "people_pkey"'
    assert_detail 'at data/000002_1_people.csv:4 (data file line 4) (SQLSTATE 23505)'
    assert_detail 'Key (id)=(2) already exists.'
    assert_tables ''
    assert_applied ''
}

@test "a bad row in binary data is named by its row number, not a line" {
    extra_db src
    sql "CREATE TABLE src (id int); INSERT INTO src VALUES (1), (2), (-3), (4)" "${PGDATABASE}_src"
    mkdir -p m/001_b.data
    "$SEALIFT_PG_BIN/psql" -XAtq -v ON_ERROR_STOP=1 -d "${PGDATABASE}_src" \
        -c "\\copy src TO 'm/001_b.data/src.bin' WITH (FORMAT binary)" || fail "no binary file"
    mig m 001_b 'CREATE TABLE b (id int CHECK (id > 0));
-- sealift:data src.bin
COPY b FROM STDIN WITH (FORMAT binary);' 'DROP TABLE b;'
    bundle m b.sealift

    run_apply apply b.sealift -p release.pub
    assert_exit 4
    assert_error 'migration 001_b (up) failed: new row for relation "b" violates check constraint "b_id_check"'
    assert_detail 'at data/000001_1_src.bin, row 3 of the binary COPY data (SQLSTATE 23514)'
    assert_detail 'Failing row contains (-3).'
    assert_tables ''
}

@test "a failing statement after inline data is named at its own line and column" {
    mig m 001_t 'CREATE TABLE t (id int);
COPY t FROM stdin;
1
2
\.
INSERT INTO t SELECT id FROM missing_table;' 'DROP TABLE t;'
    bundle m b.sealift

    run_apply apply b.sealift -p release.pub
    assert_exit 4
    assert_error 'migration 001_t (up) failed: relation "missing_table" does not exist'
    assert_detail 'at migrations/000001_001_t/up.sql:6:30 (SQLSTATE 42P01)'
    assert_tables ''
}

@test "a tampered data member: verify and apply exit 1 naming it, nothing runs" {
    people
    bundle m b.sealift --compression none
    flip_byte b.sealift "$(member_offset b.sealift MARKER_grace)"

    run_apply verify b.sealift -p release.pub
    assert_exit 1
    assert_error 'b.sealift: member "data/000002_1_people.csv": SHA-256 does not match the manifest'
    run_sealift verify b.sealift -p release.pub
    assert_exit 1
    assert_compiler_error 'member "data/000002_1_people.csv": SHA-256 does not match the manifest'

    run_apply apply b.sealift -p release.pub
    assert_exit 1
    assert_error 'b.sealift: member "data/000002_1_people.csv": SHA-256 does not match the manifest'
    refute_output --partial 'applied'
    assert_tables ''
    assert_no_history
}

@test "a data member changed after verification, before its load: exit 1, rolled back" {
    mig m 001_wait 'SELECT pg_sleep(2);' 'SELECT 1;'
    mig m 002_load 'CREATE TABLE people (id int PRIMARY KEY, name text NOT NULL);
-- sealift:data people.csv
COPY people FROM STDIN WITH (FORMAT csv, HEADER true);' 'DROP TABLE people;'
    data_file m 002_load people.csv 'id,name
1,ada
2,MARKER_grace
'
    bundle m b.sealift --compression none
    cp b.sealift evil.sealift
    flip_byte evil.sealift "$(member_offset evil.sealift MARKER_grace)"
    [ "$(stat -c %s evil.sealift)" = "$(stat -c %s b.sealift)" ] || fail "sizes differ"

    apply_bg run apply b.sealift -p release.pub
    # Verified, and migration 1 is running: swap the file under it (rename is atomic).
    wait_sql "$(running_sql 'pg_sleep(2)')" 1 10
    mv evil.sealift b.sealift
    wait_exit "$BG_PID" 15
    load_bg run
    assert_exit 1
    assert_error 'migration 002_load (up) failed: b.sealift: member "data/000002_1_people.csv" changed since the bundle was verified'
    assert_detail 'the transaction was rolled back; the database is at base'
    refute_output --partial 'loaded'
    assert_tables ''
    assert_applied ''
    assert_sql "SELECT event || ' ' || migration_id FROM sealift.journal" 'failure 002'
}

# A compressed data member of several MiB is decompressed on a thread of its own past its first
# 4 MiB (lib/readahead.c): a damaged byte late in it (at three quarters of 15 MB) is refused all
# the same, by verification and by the load that reads it again.
@test "a damaged byte late in a multi-MiB compressed data member: verify and the load refuse it" {
    mig m 001_wait 'SELECT pg_sleep(2);' 'SELECT 1;'
    mig m 002_load 'CREATE TABLE big (id int);
-- sealift:data big.txt
COPY big FROM STDIN;' 'DROP TABLE big;'
    mkdir -p m/002_load.data
    seq 1 2000000 >m/002_load.data/big.txt
    bundle m b.sealift
    cp b.sealift evil.sealift
    flip_byte evil.sealift $(($(stat -c %s evil.sealift) * 3 / 4))

    run_apply verify evil.sealift -p release.pub
    assert_exit 1
    assert_error_regex 'evil\.sealift: member "data/000002_1_big\.txt": '

    apply_bg run apply b.sealift -p release.pub
    wait_sql "$(running_sql 'pg_sleep(2)')" 1 10
    mv evil.sealift b.sealift
    wait_exit "$BG_PID" 15
    load_bg run
    assert_exit 1
    assert_error_regex 'migration 002_load \(up\) failed: b\.sealift: member "data/000002_1_big\.txt": '
    assert_detail 'the transaction was rolled back; the database is at base'
    assert_tables ''
    assert_applied ''
}

# slow_load: 001_slow loads 100,000 rows through a trigger that sleeps every 100 rows while
# the database's setting test.slow is on.
slow_load() {
    mig m 001_slow 'CREATE TABLE big (id int);
CREATE FUNCTION slow() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.id % 100 = 0 AND current_setting('"'test.slow'"', true) = '"'on'"' THEN
        PERFORM pg_sleep(0.002);
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER slow BEFORE INSERT ON big FOR EACH ROW EXECUTE FUNCTION slow();
-- sealift:data big.txt
COPY big FROM STDIN;' 'DROP TABLE big; DROP FUNCTION slow();'
    mkdir -p m/001_slow.data
    seq 1 100000 >m/001_slow.data/big.txt
    bundle m b.sealift
    sql "ALTER DATABASE $PGDATABASE SET test.slow = on"
}

# Wait until the running COPY has inserted some rows.
copy_started_sql="SELECT count(*) FROM pg_stat_progress_copy WHERE tuples_processed > 1000"

@test "SIGINT in the middle of a load: exit 4, the load and its migration rolled back" {
    slow_load
    apply_bg run apply b.sealift -p release.pub
    wait_sql "$copy_started_sql" 1 20
    kill -INT "$BG_PID"
    wait_exit "$BG_PID" 10
    load_bg run
    assert_exit 4
    assert_error 'migration 001_slow (up) was interrupted by SIGINT: its statement was cancelled'
    assert_detail 'the transaction was rolled back; the database is at base'
    assert_tables ''
    assert_applied ''
    assert_sql "SELECT event || ' ' || migration_id FROM sealift.journal" 'interrupted 001'
    assert_sql "$appliers_sql" 0
}

@test "kill -9 in the middle of a load, then a rerun: loaded once, history intact" {
    slow_load
    apply_bg run apply b.sealift -p release.pub
    wait_sql "$copy_started_sql" 1 20
    kill -9 "$BG_PID"
    wait_exit "$BG_PID" 5
    [ "$BG_STATUS" -eq 137 ] || fail "expected death by SIGKILL, got exit $BG_STATUS"
    # The server ends the orphaned COPY when it reads past what was sent.
    wait_sql "$appliers_sql" 0 20
    assert_tables ''
    assert_applied ''

    sql "ALTER DATABASE $PGDATABASE RESET test.slow"
    run_apply apply b.sealift -p release.pub
    assert_exit 0
    refute_errors
    assert_line --regexp '^ +loaded data/000001_1_big.txt: 100000 rows, 575.1 KiB in '
    assert_sql "SELECT detail FROM sealift.journal" \
        'loaded data/000001_1_big.txt: 100000 rows, 588895 bytes'
    assert_sql "SELECT count(*), count(DISTINCT id) FROM big" '100000|100000'
    assert_applied 001
    run_apply history --verify
    assert_exit 0
    assert_line --regexp '^journal intact: 1 rows'
}
