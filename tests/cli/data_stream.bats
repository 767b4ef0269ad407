#!/usr/bin/env bats
# Scripts stream: the applier reads each script from the bundle in bounded chunks when it runs
# (SEALIFT_STREAM_CHUNK, undocumented, makes the chunks tiny and turns off the cache of small
# scripts, so that every boundary case is crossed), sends inline COPY data as it reads it, and
# hashes every byte again: a script changed after verification aborts before its transaction
# commits, and a no-transaction script is proven whole before any of it runs. Peak memory does
# not grow with the script.

bats_require_minimum_version 1.5.0

load data_helpers

setup_file() { apply_setup_file; }
teardown_file() { apply_teardown_file; }
setup() { apply_setup; }
teardown() { apply_teardown; }

# tricky_data N: N rows of COPY text data (value, id), each line shaped like SQL, a psql
# meta-command or an end-of-data marker that is not one ("\\." is the value "\.").
tricky_data() {
    awk -v n="$1" 'BEGIN {
        q = "\047"
        s[0] = "COMMIT;"; s[1] = "\\\\."; s[2] = ";"; s[3] = "$$;$$"; s[4] = "-- ;"
        s[5] = "/* ; */"; s[6] = q ";"; s[7] = "\\\\. "; s[8] = "x\\\\."
        s[9] = "BEGIN; DROP TABLE t;"; s[10] = "\\\\copy t from stdin"; s[11] = "E" q "\\\\" q
        for (i = 1; i <= n; i++)
            printf "%s %d\t%d\n", s[i % 12], i, i
    }'
}

# stream_chain: 001_t, one script: statements with dollar quotes, comments and strings holding
# semicolons, a large inline COPY of tricky_data (rows given), then more statements.
stream_chain() {
    {
        printf '%s\n' "CREATE TABLE t (id int PRIMARY KEY, v text);
/* a comment; with a semicolon
   /* nested; */ still comment; */
CREATE FUNCTION f() RETURNS text LANGUAGE sql AS \$body\$ SELECT 'a;b' || \$\$;\$\$ \$body\$;
INSERT INTO t VALUES (-1, 'it''s; -- not a comment'); -- a comment; here
COPY t (v, id) FROM stdin;"
        tricky_data "$1"
        printf '%s\n' '\.' "INSERT INTO t VALUES (-2, f());
DO \$\$ BEGIN PERFORM 1; END \$\$;
CREATE TABLE after (n int);
INSERT INTO after SELECT count(*) FROM t;"
    } >m/001_t.up.sql
    printf '%s\n' 'DROP TABLE after; DROP TABLE t; DROP FUNCTION f();' >m/001_t.down.sql
}

# assert_stream_loaded ROWS: what stream_chain's script leaves behind.
assert_stream_loaded() {
    assert_sql "SELECT count(*) FROM t WHERE id > 0" "$1"
    assert_sql "SELECT v FROM t WHERE id = -1" "it's; -- not a comment"
    assert_sql "SELECT v FROM t WHERE id = -2" 'a;b;'
    assert_sql "SELECT n FROM after" "$(($1 + 2))"
    assert_sql "SELECT md5(string_agg(id || ':' || v, ',' ORDER BY id)) FROM t WHERE id > 0" \
        "$(tricky_data "$1" | sed 's/\\\\/\\/g' | awk -F'\t' '{ printf "%s%s:%s", (NR > 1 ? "," : ""), $2, $1 }' | md5sum | cut -d' ' -f1)"
}

@test "a multi-MiB inline COPY among statements of one script: every row, in order, streamed" {
    mkdir -p m
    stream_chain 200000
    [ "$(stat -c %s m/001_t.up.sql)" -gt 4000000 ] || fail "the script is too small"
    bundle m b.sealift

    run_apply apply b.sealift -p release.pub
    assert_exit 0
    refute_errors
    assert_stream_loaded 200000

    # The same through rollback and apply again with 4 KiB chunks and no cache.
    run_apply rollback b.sealift -p release.pub --to base
    assert_exit 0
    assert_tables ''
    SEALIFT_STREAM_CHUNK=4096 run_apply apply b.sealift -p release.pub
    assert_exit 0
    refute_errors
    assert_stream_loaded 200000
}

@test "chunks of a few bytes: statements, dollar quotes, comments and COPY data cross every boundary" {
    mkdir -p m
    stream_chain 300
    mig m 002_more "CREATE TABLE more (a text);
INSERT INTO more VALUES (\$x\$;\$\$'\$x\$), ('--;'), (E'\\\\;'); /* ; */ -- ;
INSERT INTO more SELECT 'c' || g FROM generate_series(1, 3) g;" 'DROP TABLE more;'
    # A no-transaction script: proven first, through a temporary copy when chunks are small.
    mig m 003_notx "-- sealift:no-transaction
CREATE TABLE n (a text); -- ;
INSERT INTO n VALUES (\$\$;'\$\$), ('/*;*/');" 'DROP TABLE n;'
    bundle m b.sealift

    for chunk in 1 2 3 7 64; do
        SEALIFT_STREAM_CHUNK=$chunk run_apply apply b.sealift -p release.pub
        assert_exit 0
        refute_errors
        assert_stream_loaded 300
        assert_sql "SELECT string_agg(a, ' ' ORDER BY a COLLATE \"C\") FROM n" "/*;*/ ;'"
        assert_sql "SELECT string_agg(a, ' ' ORDER BY a COLLATE \"C\") FROM more" "--; ;\$\$' \\; c1 c2 c3"
        SEALIFT_STREAM_CHUNK=$chunk run_apply rollback b.sealift -p release.pub --to base
        assert_exit 0
        assert_tables ''
    done
}

@test "plan streams a script larger than its chunks; psql runs it to the same rows" {
    mkdir -p m
    stream_chain 20000
    bundle m b.sealift

    SEALIFT_STREAM_CHUNK=5 run_apply plan b.sealift -p release.pub
    assert_exit 0
    printf '%s\n' "$output" >plan.sql
    run_apply plan b.sealift -p release.pub
    assert_exit 0
    printf '%s\n' "$output" >plan2.sql
    cmp plan.sql plan2.sql || fail "plans differ with the chunk size"
    run psql -X -q -v ON_ERROR_STOP=1 -f plan.sql
    assert_success
    assert_stream_loaded 20000
}

# swap_chain MODE ROWS: 001_wait sleeps (its down script is padded to 1 MiB, so that what the
# applier reads ahead while 001_wait runs ends far before 002_s); 002_s is a script
# (no-transaction when MODE is notx) whose first statement creates a table, then one INSERT of
# ROWS rows, then a last one that holds MARKER_q (over 1 MiB of script: a no-transaction one
# is proven through a temporary file). b.sealift, uncompressed.
swap_chain() {
    local head=''
    [ "$1" = notx ] && head='-- sealift:no-transaction'
    mig m 001_wait 'SELECT pg_sleep(2);' "SELECT 1;
$(seq 1 20000 | sed 's/.*/-- padding line & of the down script, which is never run here/')"
    {
        printf '%s\n' "$head" 'CREATE TABLE s (id int, v text);' 'INSERT INTO s VALUES'
        seq 1 "$2" | sed "s/.*/(&, 'row & of the padding that makes this script large'),/"
        printf '%s\n' "(0, 'end');" "INSERT INTO s VALUES (0, 'MARKER_q');"
    } >m/002_s.up.sql
    printf '%s\n' 'DROP TABLE s;' >m/002_s.down.sql
    [ "$(stat -c %s m/001_wait.down.sql)" -gt 1048576 ] || fail "the padding is too small"
    bundle m b.sealift --compression none
}

# apply_swapped: apply b.sealift; once verified, while 001_wait runs, one bit of MARKER_q
# changes in the file itself. Exit 1, naming 002_s's script.
apply_swapped() {
    local off
    off=$(member_offset b.sealift MARKER_q)
    apply_bg run apply b.sealift -p release.pub
    wait_sql "$(running_sql 'pg_sleep(2)')" 1 10
    flip_byte b.sealift "$off"
    wait_exit "$BG_PID" 15
    load_bg run
    assert_exit 1
    assert_error 'migration 002_s (up) failed: b.sealift: member "migrations/000002_002_s/up.sql" changed since the bundle was verified'
}

@test "a script changed after verification, while an earlier migration runs: exit 1, rolled back" {
    swap_chain tx 20000
    apply_swapped
    assert_detail 'the transaction was rolled back; the database is at base'
    assert_tables ''
    assert_applied ''
    assert_sql "SELECT event || ' ' || migration_id FROM sealift.journal" 'failure 002'
}

@test "a no-transaction script changed after verification runs nothing of it: exit 1" {
    local rows
    for rows in 1500 20000; do
        rm -rf m ./*.sealift
        sql "DROP SCHEMA IF EXISTS sealift CASCADE"
        swap_chain notx "$rows"
        apply_swapped
        # Not even its first statement ran: the script was proven whole first.
        assert_tables ''
        assert_applied '001'
    done
}

@test "peak memory of apply and plan on a 64 MiB inline COPY stays far below its size" {
    [ -x /usr/bin/time ] || skip "GNU time is not installed (Debian package time: scripts/install-deps)"
    local kib
    mkdir -p m
    stream_chain 3300000
    [ "$(stat -c %s m/001_t.up.sql)" -gt 60000000 ] || fail "the script is too small"
    bundle m b.sealift

    run --separate-stderr /usr/bin/time -f %M -o rss.txt "$APPLY" apply b.sealift -p release.pub
    assert_no_crash
    assert_exit 0
    kib=$(tail -n1 rss.txt)
    [[ $kib =~ ^[0-9]+$ ]] || fail "no peak RSS: $(cat rss.txt)"
    [ "$kib" -lt 40960 ] || fail "apply: peak RSS $kib KiB is not under 40 MiB"
    assert_sql "SELECT count(*) FROM t WHERE id > 0" 3300000

    /usr/bin/time -f %M -o rss.txt "$APPLY" plan b.sealift -p release.pub --to base >plan.sql 2>plan.err ||
        fail "plan failed: $(cat plan.err)"
    kib=$(tail -n1 rss.txt)
    [ "$kib" -lt 40960 ] || fail "plan: peak RSS $kib KiB is not under 40 MiB"
    sql 'DROP SCHEMA sealift CASCADE; DROP TABLE after; DROP TABLE t; DROP FUNCTION f()'
    /usr/bin/time -f %M -o rss.txt "$APPLY" plan b.sealift -p release.pub >plan.sql 2>plan.err ||
        fail "plan failed: $(cat plan.err)"
    kib=$(tail -n1 rss.txt)
    [ "$kib" -lt 40960 ] || fail "plan: peak RSS $kib KiB is not under 40 MiB"
    [ "$(stat -c %s plan.sql)" -gt 60000000 ] || fail "the plan does not hold the data"
}
