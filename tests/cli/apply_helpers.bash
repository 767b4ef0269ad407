# apply_helpers.bash: shared setup, fixtures and assertions for the sealift-apply tests that
# run against a real PostgreSQL (tests/cli/apply_*.bats).
#
# Each file calls apply_setup_file from setup_file (one throwaway cluster per file, started
# with tests/lib/pg.bash), apply_teardown_file from teardown_file (stops it on every exit
# path), and apply_setup / apply_teardown from setup / teardown. Every test then works in its
# own directory ($BATS_TEST_TMPDIR/work) with its own database (createdb), named in
# $PGDATABASE, so the tests are independent. Binaries come from $SEALIFT_BIN (default: the
# repository's bin/). Run one file with "bats tests/cli/apply_basic.bats", all of them with
# "SEALIFT_SUITES='cli/apply_*' tests/run-all".
#
# Contract pinned here (PRODUCT.md "Exit codes"): 0 ok, 1 bundle rejected, 2 usage,
# 3 database state refused, 4 migration failed and rolled back, 5 lock timeout, 6 cannot
# connect, 7 status pending; errors are lines "sealift-apply: error: ..." on stderr.

# run sets status, output, stderr and stderr_lines.
# shellcheck disable=SC2154

load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'

# Never read the machine's /etc/sealift/apply.conf: a test names its config file, if any.
export SEALIFT_CONFIG=
unset SEALIFT_PUBKEYS SEALIFT_THRESHOLD SEALIFT_SCHEMA

: "${SEALIFT_BIN:=$(cd "$BATS_TEST_DIRNAME/../../bin" 2>/dev/null && pwd)}"
SEALIFT=$SEALIFT_BIN/sealift
APPLY=$SEALIFT_BIN/sealift-apply

# shellcheck source=../lib/pg.bash
. "$BATS_TEST_DIRNAME/../lib/pg.bash"

# ---- file and test fixtures ----

# apply_setup_file [tcp]: check the binaries, start the cluster, make the key pairs every test
# uses (release: the trusted key; other: a key nobody trusts).
apply_setup_file() {
    if [ ! -x "$SEALIFT" ] || [ ! -x "$APPLY" ]; then
        echo "no sealift binaries in \"$SEALIFT_BIN\" (run make, or set SEALIFT_BIN)" >&2
        return 1
    fi
    # bats 1.8 cannot skip from setup_file: apply_setup skips each test instead.
    if [ ! -x "$SEALIFT_PG_BIN/initdb" ]; then
        export APPLY_SKIP="PostgreSQL server binaries not found in $SEALIFT_PG_BIN"
        APPLY_SKIP+=" (install postgresql-15: scripts/install-deps)"
        return 0
    fi
    unset DATABASE_URL PGSERVICE PGPASSWORD PGSERVICEFILE PGPASSFILE
    pg_start "$@" || return 1
    export APPLY_KEYS=$BATS_FILE_TMPDIR/keys
    mkdir -p "$APPLY_KEYS" &&
        "$SEALIFT" keygen -W -p "$APPLY_KEYS/release.pub" -s "$APPLY_KEYS/release.key" \
            >/dev/null &&
        "$SEALIFT" keygen -W -p "$APPLY_KEYS/other.pub" -s "$APPLY_KEYS/other.key" >/dev/null
}

apply_teardown_file() {
    pg_stop
}

# Every test: a fresh directory, the keys, and a database of its own in $PGDATABASE.
apply_setup() {
    [ -z "${APPLY_SKIP:-}" ] || skip "$APPLY_SKIP"
    unset DATABASE_URL SEALIFT_PASSWORD_FILE SOURCE_DATE_EPOCH
    export LC_ALL=C TZ=UTC
    APPLY_PIDS=()
    if ! mkdir "$BATS_TEST_TMPDIR/work" || ! cd "$BATS_TEST_TMPDIR/work"; then
        fail "could not enter \"$BATS_TEST_TMPDIR/work\""
    fi
    cp "$APPLY_KEYS"/release.* "$APPLY_KEYS"/other.* . || fail "could not copy the keys"
    export PGDATABASE=t$BATS_TEST_NUMBER
    must "$SEALIFT_PG_BIN/createdb" "$PGDATABASE"
}

# Stop any applier a test left running in the background (only the ones it started).
apply_teardown() {
    local pid
    for pid in "${APPLY_PIDS[@]}"; do
        kill -9 "$pid" 2>/dev/null || true
    done
}

# Run a setup step; if it fails, fail the test with the step's output.
must() {
    local err
    if ! err=$("$@" 2>&1); then
        printf '%s\n' "$err" | batslib_decorate "setup step failed: $*" | fail
        return 1
    fi
}

# ---- migrations and bundles ----

# mig DIR VERSION_SLUG UP_SQL [DOWN_SQL]: write the up file, and the down file if given.
mig() {
    mkdir -p "$1"
    printf '%s\n' "$3" >"$1/$2.up.sql"
    if [ $# -ge 4 ]; then
        printf '%s\n' "$4" >"$1/$2.down.sql"
    fi
}

# mig_verify DIR VERSION_SLUG VERIFY_SQL
mig_verify() {
    printf '%s\n' "$3" >"$1/$2.verify.sql"
}

# three_migrations [DIR]: the chain most tests start from (default DIR: m).
#   001_users   CREATE TABLE users, with a row
#   002_email   ALTER TABLE users ADD COLUMN email, an index
#   003_orders  CREATE TABLE orders
three_migrations() {
    local d=${1:-m}
    mig "$d" 001_users \
        "CREATE TABLE users (id int PRIMARY KEY, name text NOT NULL);
INSERT INTO users VALUES (1, 'ada');" \
        'DROP TABLE users;'
    mig "$d" 002_email \
        'ALTER TABLE users ADD COLUMN email text;
CREATE INDEX users_email_idx ON users (email);' \
        'DROP INDEX users_email_idx;
ALTER TABLE users DROP COLUMN email;'
    mig "$d" 003_orders \
        'CREATE TABLE orders (id int PRIMARY KEY, user_id int REFERENCES users (id));' \
        'DROP TABLE orders;'
}

# bundle DIR OUT [BUILD_OPTION...]: build and sign DIR with release.key, project "demo".
bundle() {
    local dir=$1 out=$2
    shift 2
    must "$SEALIFT" build -d "$dir" -s release.key -o "$out" --project demo "$@"
}

# rebuild DIR OUT [BUILD_OPTION...]: as bundle, after forgetting DIR's recorded history, as a
# release engineer would to ship an edited or fixed migration.
rebuild() {
    rm -f "$1/sealift.sum"
    bundle "$@"
}

# ---- running sealift-apply ----

# run_apply ARG...: sets $status, $output (stdout), $stderr and $stderr_lines; fails the test
# if the run shows any sign of a crash.
run_apply() {
    run --separate-stderr "$APPLY" "$@"
    assert_no_crash
}

# apply_bg NAME ARG...: start sealift-apply in the background, stdout in NAME.out, stderr in
# NAME.err; its pid in $BG_PID (and remembered for apply_teardown).
apply_bg() {
    local name=$1
    shift
    "$APPLY" "$@" >"$name.out" 2>"$name.err" 3>&- &
    BG_PID=$!
    APPLY_PIDS+=("$BG_PID")
}

# wait_exit PID SECONDS: wait for a background process; its exit status in $BG_STATUS.
# Fails the test (and kills the process) if it is still running after SECONDS.
wait_exit() {
    local pid=$1 limit=$2 start=$SECONDS
    while kill -0 "$pid" 2>/dev/null; do
        if [ $((SECONDS - start)) -ge "$limit" ]; then
            kill -9 "$pid" 2>/dev/null
            wait "$pid" 2>/dev/null
            fail "process $pid did not exit within $limit s"
            return 1
        fi
        sleep 0.05
    done
    BG_STATUS=0
    wait "$pid" 2>/dev/null || BG_STATUS=$?
}

# load_bg NAME: make NAME's files the result under test ($status from $BG_STATUS).
load_bg() {
    status=$BG_STATUS
    output=$(cat "$1.out")
    stderr=$(cat "$1.err")
    # shellcheck disable=SC2034 # bats-assert's assert_line reads $lines
    mapfile -t lines <"$1.out"
    mapfile -t stderr_lines <"$1.err"
    assert_no_crash
}

# ---- the database ----

# sql QUERY [DATABASE]: run QUERY with psql, unaligned, tuples only; the result on stdout.
sql() {
    "$SEALIFT_PG_BIN/psql" -XAtq -v ON_ERROR_STOP=1 -d "${2:-$PGDATABASE}" -c "$1"
}

# assert_sql QUERY EXPECTED [DATABASE]: the query's result, exactly.
assert_sql() {
    local got
    got=$(sql "$1" "${3:-}" 2>&1)
    if [ "$got" != "$2" ]; then
        batslib_print_kv_single_or_multi 8 query "$1" expected "$2" actual "$got" |
            batslib_decorate 'unexpected database state' | fail
        return 1
    fi
}

# The user tables in schema public, comma-separated and sorted ("" when none).
tables_sql="SELECT coalesce(string_agg(tablename, ',' ORDER BY tablename), '') FROM pg_tables
    WHERE schemaname = 'public'"

assert_tables() {
    assert_sql "$tables_sql" "$1"
}

# The history schema (default sealift) does not exist at all.
assert_no_history() {
    assert_sql "SELECT count(*) FROM pg_namespace WHERE nspname = '${1:-sealift}'" 0
}

# assert_applied IDS [SCHEMA [DATABASE]]: the applied migration ids, in order, comma-separated.
assert_applied() {
    assert_sql "SELECT coalesce(string_agg(migration_id, ',' ORDER BY ordinal), '')
        FROM ${2:-sealift}.applied" "$1" "${3:-}"
}

# wait_sql QUERY EXPECTED SECONDS: poll until QUERY returns EXPECTED; fail after SECONDS.
wait_sql() {
    local start=$SECONDS
    until [ "$(sql "$1" 2>/dev/null)" = "$2" ]; do
        if [ $((SECONDS - start)) -ge "$3" ]; then
            fail "timed out after $3 s waiting for: $1 = $2"
            return 1
        fi
        sleep 0.05
    done
}

# How many sessions of this database run a statement containing TEXT (psql's own excluded).
running_sql() {
    echo "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND
        pid <> pg_backend_pid() AND state = 'active' AND query LIKE '%$1%'"
}

# How many sealift-apply sessions are connected to this database.
# shellcheck disable=SC2034 # used by the .bats files
appliers_sql="SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND
    application_name = 'sealift-apply'"

# ---- assertions ----

# Neither stream may mention a crash, a sanitizer finding or an internal error, and the
# process must not have died from a signal.
assert_no_crash() {
    local bad
    for bad in AddressSanitizer LeakSanitizer 'runtime error:' 'internal error' Segmentation \
        'core dumped'; do
        if [[ $stderr == *"$bad"* || $output == *"$bad"* ]]; then
            batslib_print_kv_single_or_multi 6 stdout "$output" stderr "$stderr" |
                batslib_decorate "sealift-apply's output mentions \"$bad\"" | fail
            return 1
        fi
    done
    if [ "$status" -ge 128 ]; then
        batslib_print_kv_single_or_multi 6 stderr "$stderr" |
            batslib_decorate "sealift-apply died from signal $((status - 128))" | fail
        return 1
    fi
}

# The exit status is $1. On a mismatch, show both streams: they say why.
assert_exit() {
    if [ "$status" -ne "$1" ]; then
        batslib_print_kv_single_or_multi 8 expected "$1" actual "$status" \
            stdout "$output" stderr "$stderr" |
            batslib_decorate 'wrong exit status' | fail
        return 1
    fi
}

# Some stderr line is "sealift-apply: LEVEL: ..." and contains the literal text $2.
assert_stderr_level() {
    local level=$1 text=$2 line
    for line in "${stderr_lines[@]}"; do
        [[ $line == "sealift-apply: $level: "*"$text"* ]] && return 0
    done
    batslib_print_kv_single_or_multi 8 expected "sealift-apply: $level: ...$text..." \
        stderr "$stderr" | batslib_decorate "no such $level message on stderr" | fail
    return 1
}

assert_error() { assert_stderr_level error "$1"; }
assert_detail() { assert_stderr_level detail "$1"; }
assert_hint() { assert_stderr_level hint "$1"; }
assert_warning() { assert_stderr_level warning "$1"; }

# Some stderr line matches the extended regular expression "^sealift-apply: error: $1".
assert_error_regex() {
    local re="^sealift-apply: error: $1" line
    for line in "${stderr_lines[@]}"; do
        [[ $line =~ $re ]] && return 0
    done
    batslib_print_kv_single_or_multi 8 regexp "$re" stderr "$stderr" |
        batslib_decorate 'no stderr line matches' | fail
    return 1
}

# No "sealift-apply: error:" line at all.
refute_errors() {
    if [[ $stderr == *"sealift-apply: error:"* ]]; then
        batslib_print_kv_single_or_multi 6 stderr "$stderr" |
            batslib_decorate 'unexpected error message' | fail
        return 1
    fi
}

# The usage-error shape: exit 2, the error, and the hint naming the command's --help.
assert_usage_error() {
    assert_exit 2
    assert_error "$2"
    assert_hint "Try \"sealift-apply $1 --help\" for more information."
}

# Every non-empty stdout line is one valid JSON object.
assert_json_lines() {
    local n=0 line
    while IFS= read -r line; do
        [ -n "$line" ] || continue
        n=$((n + 1))
        if ! printf '%s' "$line" | python3 -c \
            'import json, sys; v = json.load(sys.stdin); assert isinstance(v, dict)' 2>/dev/null; then
            batslib_print_kv_single_or_multi 6 line "$line" |
                batslib_decorate 'stdout line is not a JSON object' | fail
            return 1
        fi
    done <<<"$output"
    [ "$n" -gt 0 ] || fail "no JSON on stdout"
}

# json_field KEY: KEY of the last JSON line on stdout that has it (python's repr for lists),
# not counting the journal_head event every command that wrote the journal ends with.
json_field() {
    printf '%s\n' "$output" | python3 -c '
import json, sys
key, val = sys.argv[1], None
for line in sys.stdin:
    line = line.strip()
    if line:
        obj = json.loads(line)
        if key in obj and obj.get("event") != "journal_head":
            val = obj[key]
print(json.dumps(val))' "$1"
}

# ---- bundle bytes ----

# byte_offset FILE STRING: offset of the first occurrence of STRING in FILE.
byte_offset() {
    grep -boaF -m1 -- "$2" "$1" | head -n1 | cut -d: -f1
}

# flip_byte FILE OFFSET: invert the lowest bit of one byte, in place.
flip_byte() {
    local byte
    [[ $2 =~ ^[0-9]+$ ]] || fail "flip_byte: no offset in \"$1\" (got \"$2\")"
    byte=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
    # shellcheck disable=SC2059 # the format is the escaped byte
    printf "$(printf '\\%03o' $((byte ^ 1)))" |
        dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

# key_id PUBFILE: the key id (16 uppercase hex digits) from a minisign public key file.
key_id() {
    sed -n 2p "$1" | base64 -d | od -An -v -tx1 -j2 -N8 | tr -d ' \n' | fold -w2 | tac |
        tr -d '\n' | tr a-f A-F
}
