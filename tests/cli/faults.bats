#!/usr/bin/env bats
# Faults during apply, against a real PostgreSQL: kill -9 of the applier at random moments
# (default all-or-nothing mode and --per-migration, with a no-transaction migration in the
# chain), the server backend terminated and the server restarted in the middle of a
# migration, eight appliers at once (with CREATE INDEX CONCURRENTLY in the chain), SIGINT and
# SIGTERM in --per-migration mode and inside a no-transaction statement, and a failing
# no-transaction statement fixed with "sealift build --amend". After every fault: status is
# truthful (exit 0 or 7, and what it says is applied is what the schema holds), history
# --verify passes, the schema is the reference schema of the revision status names (made
# once by "apply --to REV"), no statement ran twice, and a rerun reaches head.
#
# make check runs a handful of random kills per mode; SEALIFT_LONG=1 runs 50 per mode.
# SEALIFT_FAULT_SEED=N repeats a run's kill moments (each run prints its seed).
# Figures of the random kills go to the TAP output as "# ..." lines.

bats_require_minimum_version 1.5.0

load apply_helpers

# The reference schemas and the chain's SQL are shared by every test of this file.
setup_file() {
    # Commits must survive "pg_ctl restart -m immediate" (pg.bash turns synchronous_commit
    # off for speed; a crash could then lose a commit the applier already reported).
    export SEALIFT_PG_OPTS="-c synchronous_commit=on"
    apply_setup_file || return 1
    [ -z "${APPLY_SKIP:-}" ] || return 0
    export FAULT_DIR=$BATS_FILE_TMPDIR/faults
    export FAULT_SEED=${SEALIFT_FAULT_SEED:-$((RANDOM * 32768 + RANDOM))}
    if [ -n "${SEALIFT_LONG:-}" ]; then export FAULT_KILLS=50; else export FAULT_KILLS=4; fi
    mkdir -p "$FAULT_DIR" && cd "$FAULT_DIR" || return 1
    cp "$APPLY_KEYS"/release.* . || return 1
    fault_bundles >bundles.log 2>&1 || {
        cat bundles.log >&2
        return 1
    }
    fault_references >references.log 2>&1 || {
        cat references.log >&2
        return 1
    }
}

teardown_file() { apply_teardown_file; }

setup() {
    apply_setup
    cp "$FAULT_DIR"/*.sealift . || fail "no bundles"
}

teardown() { apply_teardown; }

# The no-transaction migration 003's statements (one per line of its up script).
NOTX_STMTS=(
    'CREATE TABLE log (n int)'
    'INSERT INTO log SELECT 1 FROM pg_sleep(0.03)'
    'INSERT INTO log SELECT 2 FROM pg_sleep(0.03)'
    'VACUUM a'
    'ALTER TABLE a ADD COLUMN n3 int'
    'INSERT INTO log SELECT 3 FROM pg_sleep(0.03)'
)
HEAD=006_e

# fault_chain DIR [SLOW]: six migrations; the no-transaction one is 003. SLOW names what
# sleeps 1.5 s instead of 0.03 s, so a test can hit it: "002" (a transactional migration
# before the no-transaction one), "003" (its third statement), "004" (after it).
fault_chain() {
    local d=$1 slow=${2:-} s=0.03 up=
    local s2=$s s3=$s s4=$s
    case $slow in
    002) s2=1.501 ;;
    003) s3=1.501 ;;
    004) s4=1.501 ;;
    esac
    mig "$d" 001_a "CREATE TABLE a (id int PRIMARY KEY);
INSERT INTO a VALUES (1);
SELECT pg_sleep($s);" 'DROP TABLE a;'
    mig "$d" 002_b "CREATE TABLE b (id int);
CREATE INDEX b_id_idx ON b (id);
SELECT pg_sleep($s2);" 'DROP TABLE b;'
    for st in "${NOTX_STMTS[@]}"; do
        [[ $st == *"SELECT 2 "* ]] && st=${st/pg_sleep(0.03)/pg_sleep($s3)}
        up+="$st;"$'\n'
    done
    mig "$d" 003_notx "-- sealift:no-transaction
$up" '-- sealift:no-transaction
ALTER TABLE a DROP COLUMN n3;
DROP TABLE log;'
    mig "$d" 004_c "CREATE TABLE c (id int REFERENCES a (id));
SELECT pg_sleep($s4);" 'DROP TABLE c;'
    mig "$d" 005_d "ALTER TABLE c ADD COLUMN d text;
SELECT pg_sleep($s);" 'ALTER TABLE c DROP COLUMN d;'
    mig "$d" 006_e "CREATE TABLE e (id int);
INSERT INTO e SELECT generate_series(1, 1000);
SELECT pg_sleep($s);" 'DROP TABLE e;'
}

fault_bundles() {
    set -e
    local v
    for v in fast 002 003 004; do
        rm -rf "m_$v"
        fault_chain "m_$v" "${v#fast}"
        "$SEALIFT" build -d "m_$v" -s release.key -o "$v.sealift" --project demo
    done
    grep -q 'pg_sleep(1.501)' m_003/003_notx.up.sql
    [ "$(grep -c 'pg_sleep(1.501)' m_003/003_notx.up.sql)" -eq 1 ]
}

# The schema of every revision, and of the no-transaction migration after each statement:
# refs/REV.sql, refs/003@K.sql. Also the time a whole apply takes (kill moments span it).
fault_references() {
    set -e
    local rev k t0
    mkdir -p refs
    "$SEALIFT_PG_BIN/createdb" ref_base
    schema_dump ref_base >refs/base.sql
    for rev in 001 002 003 004 005 006; do
        "$SEALIFT_PG_BIN/createdb" "ref_$rev"
        "$APPLY" apply fast.sealift -p release.pub -d "dbname=ref_$rev" --to "$rev" -q
        schema_dump "ref_$rev" >"refs/$rev.sql"
    done
    "$SEALIFT_PG_BIN/createdb" ref_notx
    "$APPLY" apply fast.sealift -p release.pub -d dbname=ref_notx --to 002 -q
    for k in 0 1 2 3 4 5 6; do
        [ "$k" -eq 0 ] ||
            "$SEALIFT_PG_BIN/psql" -XAtq -v ON_ERROR_STOP=1 -d ref_notx -c "${NOTX_STMTS[k - 1]}"
        schema_dump ref_notx >"refs/003@$k.sql"
    done
    cmp refs/003@6.sql refs/003.sql
    "$SEALIFT_PG_BIN/createdb" ref_time
    t0=$(date +%s%N)
    "$APPLY" apply fast.sealift -p release.pub -d dbname=ref_time -q
    echo $((($(date +%s%N) - t0) / 1000000)) >apply_ms
}

# The schema outside the history schema, stable across runs.
schema_dump() {
    "$SEALIFT_PG_BIN/pg_dump" --schema-only --no-comments --exclude-schema=sealift -d "$1" |
        grep -v '^\\\(un\)\?restrict '
}

# Wait until no applier session is left (a killed client's backend ends with its statement,
# or within client_connection_check_interval).
wait_no_appliers() {
    wait_sql "$appliers_sql" 0 "${1:-15}"
}

# assert_schema KEY: the database's schema is refs/KEY.sql.
assert_schema() {
    local ref=$FAULT_DIR/refs/$1.sql
    schema_dump "$PGDATABASE" >schema.now || fail "pg_dump failed"
    if ! cmp -s "$ref" schema.now; then
        diff "$ref" schema.now | head -20 |
            batslib_decorate "the schema is not the reference schema of $1" | fail
        return 1
    fi
}

# The rows the no-transaction statements left in log: each once, in the statements' order.
log_rows() {
    if [ "$(sql "SELECT to_regclass('public.log') IS NOT NULL")" = t ]; then
        sql "SELECT coalesce(string_agg(n::text, ',' ORDER BY n), '') FROM log"
    else
        echo none
    fi
}

# What the rows of log must be after K statements of 003 (or all, with K = all; none before).
expected_log() {
    case $1 in
    none | 0) echo none ;;
    1) echo '' ;;
    2 | 3) seq -s, 1 $(($1 - 1)) ;;
    4 | 5) echo 1,2 ;;
    *) echo 1,2,3 ;;
    esac
}

# assert_consistent BUNDLE [APPLY_OPTION...]: after a fault, the whole promise: status is
# truthful, the journal verifies, the schema is the named revision's, nothing ran twice,
# and a rerun reaches head. Sets FAULT_STATE to where status said the database was.
assert_consistent() {
    local bundle=$1 n k key rows
    shift
    wait_no_appliers
    run_apply status "$bundle" -p release.pub
    [ "$status" -eq 0 ] || [ "$status" -eq 7 ] || assert_exit 7
    n=$(printf '%s\n' "$output" | sed -n 's/^applied  *\([0-9]*\) of 6 .*/\1/p')
    [ -n "$n" ] || fail "status printed no \"applied N of 6\" line: $output"
    k=$(printf '%s\n' "$output" |
        sed -n 's/^unfinished  *003 (up) stopped after \([0-9]*\) of 6 statements.*/\1/p')
    if [ -n "$k" ]; then
        [ "$n" -eq 2 ] || fail "003 unfinished, but $n migrations applied"
        key=003@$k
        assert_equal "$status" 7
    else
        key=$(printf '%03d' "$n")
        [ "$n" -eq 0 ] && key=base
        [ "$n" -eq 6 ] && assert_equal "$status" 0
    fi
    if [ "$(sql "SELECT to_regclass('sealift.applied') IS NULL")" = t ]; then
        # Killed before the history existed: nothing happened at all, so there is no journal
        # to verify (history --verify says so, exit 1) and history shows none.
        assert_equal "$key" base
        run_apply history --verify
        assert_exit 1
        assert_error 'no sealift history in schema "sealift": there is no journal to verify'
        run_apply history
        assert_exit 0
        assert_output 'no sealift history in schema "sealift"'
    else
        run_apply history --verify
        assert_exit 0
        assert_line --regexp '^journal intact: [0-9]+ rows'
        assert_applied "$(seq -s, -f '%03g' 1 "$n" 2>/dev/null)"
    fi
    assert_schema "$key"
    if [ -n "$k" ]; then rows=$(expected_log "$k"); elif [ "$n" -ge 3 ]; then
        rows=1,2,3
    else rows=none; fi
    assert_equal "$(log_rows)" "$rows"
    FAULT_STATE=$key

    # The rerun reaches head; every migration was applied once.
    run_apply apply "$bundle" -p release.pub --lock-timeout 30 "$@"
    assert_exit 0
    refute_errors
    assert_line --regexp "(applied [0-9]+ migrations?|nothing to apply); the database is at $HEAD|nothing to apply: the database is at $HEAD"
    assert_schema 006
    assert_equal "$(log_rows)" 1,2,3
    assert_applied 001,002,003,004,005,006
    assert_sql "SELECT count(*) || ' ' || count(DISTINCT migration_id) FROM sealift.journal
        WHERE event = 'apply'" '6 6'
    run_apply status "$bundle" -p release.pub
    assert_exit 0
    run_apply history --verify
    assert_exit 0
}

# kill_loop MODE_OPTION...: FAULT_KILLS random kill -9 moments over a whole apply.
kill_loop() {
    # Not "i": bats 1.8's run() assigns a global i (bats_all_in).
    local kill ms span states=() base=$PGDATABASE
    span=$(($(cat "$FAULT_DIR/apply_ms") * 12 / 10 + 20))
    RANDOM=$FAULT_SEED
    for ((kill = 1; kill <= FAULT_KILLS; kill++)); do
        export PGDATABASE=${base}_$kill
        must "$SEALIFT_PG_BIN/createdb" "$PGDATABASE"
        ms=$((RANDOM % span))
        apply_bg run apply fast.sealift -p release.pub "$@"
        sleep "$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))"
        kill -9 "$BG_PID" 2>/dev/null || true
        wait_exit "$BG_PID" 10
        [ "$BG_STATUS" -eq 137 ] || [ "$BG_STATUS" -eq 0 ] ||
            fail "kill at $ms ms: exit $BG_STATUS: $(cat run.err)"
        assert_consistent fast.sealift "$@"
        states+=("$FAULT_STATE")
        "$SEALIFT_PG_BIN/dropdb" "$PGDATABASE"
    done
    echo "# kill -9 ${*:-(all or nothing)}: $FAULT_KILLS kills (seed $FAULT_SEED) left the" \
        "database at: $(printf '%s\n' "${states[@]}" | sort | uniq -c | awk '{printf "%s%s x%s", (NR > 1 ? ", " : ""), $2, $1}')" >&3
}

@test "kill -9 at random moments, all or nothing: status truthful, journal intact, schema of the revision, rerun reaches head" {
    kill_loop
}

@test "kill -9 at random moments, --per-migration: the same" {
    kill_loop --per-migration
}

@test "kill -9 while a no-transaction statement runs: it is recorded with its work or not at all" {
    # The statement outlives its client on the server; finishing there must not leave it
    # done but unrecorded (the rerun would run it again, and status would under-report).
    apply_bg run apply 003.sealift -p release.pub
    wait_sql "$(running_sql 'pg_sleep(1.501)')" 1 10
    kill -9 "$BG_PID"
    wait_exit "$BG_PID" 5
    assert_equal "$BG_STATUS" 137
    wait_no_appliers
    assert_consistent 003.sealift
    assert_equal "$FAULT_STATE" 003@2
}

# hit BUNDLE TEXT ACTION [APPLY_OPTION...]: start an apply, wait until a statement containing
# TEXT runs, then do ACTION (a function); the applier's result is loaded for assertions.
hit() {
    local bundle=$1 text=$2 action=$3
    shift 3
    apply_bg run apply "$bundle" -p release.pub "$@"
    wait_sql "$(running_sql "$text")" 1 10
    "$action"
    wait_exit "$BG_PID" 20
    load_bg run
}

terminate_backend() {
    assert_sql "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
        WHERE application_name = 'sealift-apply' AND datname = current_database()" 1
}

restart_server() {
    pg_restart immediate
}

@test "the applier's backend terminated mid-migration (pg_terminate_backend), in each mode and inside the no-transaction migration" {
    local base=$PGDATABASE
    # bundle, the statement to hit, mode, where the database is afterwards
    while read -r bundle mode at; do
        export PGDATABASE=${base}_${bundle%.sealift}${mode//-/_}
        must "$SEALIFT_PG_BIN/createdb" "$PGDATABASE"
        [ "$mode" = - ] && mode=
        # shellcheck disable=SC2086 # mode is one word or none
        hit "$bundle" 'pg_sleep(1.501)' terminate_backend $mode
        assert_exit 4
        assert_error 'failed: terminating connection due to administrator command'
        assert_detail "the connection to the server was lost; the database is at $at"
        # shellcheck disable=SC2086
        assert_consistent "$bundle" $mode
    done <<'EOF'
002.sealift - base
002.sealift --per-migration 001_a
003.sealift - 002_b
004.sealift - 003_notx
004.sealift --per-migration 003_notx
EOF
}

@test "the server restarted mid-migration (pg_ctl restart -m immediate), in each mode and inside the no-transaction migration" {
    local base=$PGDATABASE
    while read -r bundle mode at; do
        export PGDATABASE=${base}_${bundle%.sealift}${mode//-/_}
        must "$SEALIFT_PG_BIN/createdb" "$PGDATABASE"
        [ "$mode" = - ] && mode=
        # shellcheck disable=SC2086
        hit "$bundle" 'pg_sleep(1.501)' restart_server $mode
        assert_exit 4
        assert_error_regex 'migration 00[234]_[a-z]+ \(up\) failed: '
        assert_detail "the connection to the server was lost; the database is at $at"
        # shellcheck disable=SC2086
        assert_consistent "$bundle" $mode
    done <<'EOF'
002.sealift - base
003.sealift --per-migration 002_b
004.sealift --per-migration 003_notx
EOF
}

# A chain whose middle is a no-transaction migration of CREATE INDEX CONCURRENTLY statements.
cic_chain() {
    mig m 001_big "CREATE TABLE big (id int, v text);
INSERT INTO big SELECT g, md5(g::text) FROM generate_series(1, 20000) g;
SELECT pg_sleep(0.3);" 'DROP TABLE big;'
    mig m 002_idx '-- sealift:no-transaction
CREATE INDEX CONCURRENTLY big_v_idx ON big (v);
CREATE INDEX CONCURRENTLY big_id_idx ON big (id);' '-- sealift:no-transaction
DROP INDEX CONCURRENTLY big_id_idx;
DROP INDEX CONCURRENTLY big_v_idx;'
    mig m 003_after 'CREATE TABLE after (id int);
SELECT pg_sleep(0.3);' 'DROP TABLE after;'
}

# start_eight NAME_PREFIX APPLY_OPTION...: eight appliers at once; their pids in EIGHT.
start_eight() {
    local p=$1 one
    shift
    EIGHT=()
    for one in 1 2 3 4 5 6 7 8; do
        apply_bg "$p$one" apply b.sealift -p release.pub "$@"
        EIGHT+=("$BG_PID")
    done
}

@test "eight appliers at once, with CREATE INDEX CONCURRENTLY: one applies each migration, the others wait and find nothing to do" {
    local mode one applied nothing base=$PGDATABASE
    cic_chain
    bundle m b.sealift
    for mode in '' --per-migration; do
        export PGDATABASE=${base}_x${mode//-/_}
        must "$SEALIFT_PG_BIN/createdb" "$PGDATABASE"
        # shellcheck disable=SC2086
        start_eight e $mode
        applied=0 nothing=0
        for one in 1 2 3 4 5 6 7 8; do
            wait_exit "${EIGHT[one - 1]}" 60
            load_bg "e$one"
            assert_exit 0
            refute_errors
            if [[ $output == *'applied 3 migrations; the database is at 003_after'* ]]; then
                applied=$((applied + 1))
            else
                # Before waiting it showed the risk of what it would run (002's findings).
                assert_line --index "$((${#lines[@]} - 1))" 'nothing to apply: the database is at 003_after'
                nothing=$((nothing + 1))
            fi
        done
        assert_equal "$applied $nothing" '1 7'
        assert_applied 001,002,003
        assert_sql "SELECT string_agg(event || ' ' || migration_id, ',' ORDER BY seq)
            FROM sealift.journal" 'apply 001,index_build 002,index_build 002,apply 002,apply 003'
        assert_sql "SELECT string_agg(c.relname || ':' || i.indisvalid, ',' ORDER BY c.relname)
            FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
            WHERE i.indrelid = 'big'::regclass" 'big_id_idx:true,big_v_idx:true'
        assert_sql "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'" 0
        run_apply history --verify
        assert_exit 0
    done
}

@test "eight appliers at once with --lock-timeout 0.2: one applies, the others exit 5 naming the holder" {
    local one applied=0 timedout=0
    cic_chain
    bundle m b.sealift
    start_eight e --lock-timeout 0.2
    for one in 1 2 3 4 5 6 7 8; do
        wait_exit "${EIGHT[one - 1]}" 60
        load_bg "e$one"
        if [ "$status" -eq 0 ]; then
            assert_line 'applied 3 migrations; the database is at 003_after'
            applied=$((applied + 1))
        else
            assert_exit 5
            assert_error 'another sealift-apply holds the migration lock of schema "sealift"; gave up after 0.2 s'
            assert_detail 'the lock is held by process '
            timedout=$((timedout + 1))
        fi
    done
    assert_equal "$applied $timedout" '1 7'
    assert_sql "SELECT count(*) || ' ' || count(DISTINCT migration_id) FROM sealift.journal
        WHERE event = 'apply'" '3 3'
    # Besides the applies, only the notes of 002's two concurrent index builds (index_repair.c).
    assert_sql "SELECT count(*) FROM sealift.journal WHERE event NOT IN ('apply', 'index_build')" 0
}

@test "SIGINT and SIGTERM mid-statement with --per-migration: cancelled, rolled back to the last commit, lock released, exit 4" {
    local sig base=$PGDATABASE
    for sig in INT TERM; do
        export PGDATABASE=${base}_$sig
        must "$SEALIFT_PG_BIN/createdb" "$PGDATABASE"
        apply_bg run apply 004.sealift -p release.pub --per-migration
        wait_sql "$(running_sql 'pg_sleep(1.501)')" 1 10
        kill -"$sig" "$BG_PID"
        wait_exit "$BG_PID" 5
        load_bg run
        assert_exit 4
        assert_error "migration 004_c (up) was interrupted by SIG$sig: its statement was cancelled"
        assert_detail 'SQLSTATE 57014'
        assert_detail 'the transaction was rolled back; the database is at 003_notx'
        assert_sql "$(running_sql 'pg_sleep(1.501)')" 0
        assert_sql "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'" 0
        assert_sql "SELECT event || ' ' || migration_id FROM sealift.journal
            WHERE event <> 'apply'" 'interrupted 004'
        assert_consistent 004.sealift --per-migration --lock-timeout 1
        assert_equal "$FAULT_STATE" 003
    done
}

@test "SIGINT inside a no-transaction statement: that statement is rolled back, the rerun runs it once" {
    apply_bg run apply 003.sealift -p release.pub
    wait_sql "$(running_sql 'pg_sleep(1.501)')" 1 10
    kill -INT "$BG_PID"
    wait_exit "$BG_PID" 5
    load_bg run
    assert_exit 4
    assert_error 'migration 003_notx (up) was interrupted by SIGINT: its statement was cancelled'
    assert_detail 'statements 1 to 2 of 6 ran and are recorded; the database is at 002_b with 003_notx partly applied; a rerun resumes at statement 3'
    assert_sql "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'" 0
    assert_sql "SELECT statements_done FROM sealift.progress" 2
    assert_consistent 003.sealift
    assert_equal "$FAULT_STATE" 003@2
}

# A no-transaction migration whose third statement fails; "fixed" corrects it.
amend_chain() {
    local third='INSERT INTO nosuch VALUES (3);'
    [ "${1:-}" = fixed ] && third='INSERT INTO log VALUES (3);'
    mig m 001_log 'CREATE TABLE log (n int);' 'DROP TABLE log;'
    mig m 002_fill "-- sealift:no-transaction
INSERT INTO log VALUES (1);
INSERT INTO log VALUES (2);
$third
INSERT INTO log VALUES (4);
CREATE INDEX CONCURRENTLY log_n_idx ON log (n);" '-- sealift:no-transaction
DROP INDEX CONCURRENTLY log_n_idx;
DELETE FROM log;'
    mig m 003_after 'CREATE TABLE after (id int);' 'DROP TABLE after;'
}

@test "a failing statement in a no-transaction migration, fixed with build --amend: the rerun resumes at it and nothing runs twice" {
    local mode base=$PGDATABASE
    for mode in '' --per-migration; do
        export PGDATABASE=${base}_x${mode//-/_}
        must "$SEALIFT_PG_BIN/createdb" "$PGDATABASE"
        rm -rf m
        amend_chain
        bundle m b.sealift
        # shellcheck disable=SC2086
        run_apply apply b.sealift -p release.pub $mode
        assert_exit 4
        assert_error 'migration 002_fill (up) failed: relation "nosuch" does not exist'
        assert_detail 'at migrations/000002_002_fill/up.sql:4:13 (SQLSTATE 42P01)'
        assert_detail 'statements 1 to 2 of 5 ran and are recorded; the database is at 001_log with 002_fill partly applied; a rerun resumes at statement 3'
        assert_sql "SELECT string_agg(n::text, ',' ORDER BY n) FROM log" 1,2

        # The release engineer fixes the statement and re-records the released migration.
        amend_chain fixed
        run --separate-stderr "$SEALIFT" build -d m -s release.key -o fixed.sealift --amend 002
        assert_success
        [[ $stderr == *'--amend 002'* ]] || fail "build --amend said nothing about 002: $stderr"
        # shellcheck disable=SC2086
        run_apply apply fixed.sealift -p release.pub $mode
        assert_exit 0
        assert_line 'resuming up of 002 at statement 3 of 5'
        assert_line 'applied 2 migrations; the database is at 003_after'
        assert_sql "SELECT string_agg(n::text, ',' ORDER BY n) FROM log" 1,2,3,4
        assert_sql "SELECT indisvalid FROM pg_index WHERE indexrelid = 'log_n_idx'::regclass" t
        assert_sql "SELECT count(*) FROM sealift.progress" 0
        assert_applied 001,002,003
        assert_sql "SELECT string_agg(event || ' ' || migration_id, ',' ORDER BY seq)
            FROM sealift.journal" 'apply 001,failure 002,index_build 002,apply 002,apply 003'
        run_apply history --verify
        assert_exit 0
        run_apply status fixed.sealift -p release.pub
        assert_exit 0
    done
}
