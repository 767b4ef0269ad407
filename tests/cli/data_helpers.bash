# data_helpers.bash: what the data-migration tests (tests/cli/data_*.bats) add to
# apply_helpers.bash: the compiler's own messages, data directories, dumps and JSON events.
#
# Each file loads this (it loads apply_helpers), and uses apply_setup_file / apply_setup as the
# apply_*.bats files do: one throwaway cluster per file, one database per test. Run them with
# "SEALIFT_SUITES='cli/data_*' tests/run-all".

# run sets status, output, stderr and stderr_lines.
# shellcheck disable=SC2154

load apply_helpers

# ---- the compiler ----

# run_sealift ARG...: run the compiler; sets $status, $output, $stderr and $stderr_lines.
run_sealift() {
    run --separate-stderr "$SEALIFT" "$@"
    assert_no_crash
}

# Some stderr line is "sealift: error: ..." and contains the literal text $1.
assert_compiler_error() {
    local line
    for line in "${stderr_lines[@]}"; do
        [[ $line == "sealift: error: "*"$1"* ]] && return 0
    done
    batslib_print_kv_single_or_multi 8 expected "sealift: error: ...$1..." stderr "$stderr" |
        batslib_decorate 'no such compiler error on stderr' | fail
    return 1
}

# refuse_check DIR PROBLEMS TEXT...: check and build of DIR both exit 1, with each TEXT in an
# error line and "PROBLEMS problem(s) found"; build writes no bundle.
refuse_check() {
    local dir=$1 n=$2 text
    shift 2
    run_sealift check -d "$dir"
    assert_exit 1
    for text in "$@"; do
        assert_compiler_error "$text"
    done
    assert_compiler_error "$n problem"
    run_sealift build -d "$dir" -s release.key -o refused.sealift --project demo
    assert_exit 1
    for text in "$@"; do
        assert_compiler_error "$text"
    done
    assert_compiler_error "nothing was built"
    [ ! -e refused.sealift ] || fail "build wrote a bundle although it refused the input"
}

# data_file DIR VERSION_SLUG NAME CONTENT: write NAME in the migration's data directory, exactly
# CONTENT (printf %s: add the final newline yourself).
data_file() {
    mkdir -p "$1/$2.data"
    printf '%s' "$4" >"$1/$2.data/$3"
}

# ---- the database ----

# rows QUERY [DATABASE]: the rows of QUERY as one line of JSON, an object per row with the
# columns in order (tabs, newlines, backslashes and NULLs all visible and exact), e.g.
# rows "SELECT id, name FROM t ORDER BY id".
rows() {
    sql "SELECT coalesce(json_agg(to_json(q)), '[]')::text FROM ($1) q" "${2:-}"
}

# assert_rows QUERY EXPECTED [DATABASE]
assert_rows() {
    local got
    got=$(rows "$1" "${3:-}" 2>&1)
    if [ "$got" != "$2" ]; then
        batslib_print_kv_single_or_multi 8 query "$1" expected "$2" actual "$got" |
            batslib_decorate 'unexpected rows' | fail
        return 1
    fi
}

# data_dump DATABASE: pg_dump --data-only without the history schema, without comment lines
# and without pg_dump's per-run "\restrict KEY" / "\unrestrict KEY" lines.
data_dump() {
    "$SEALIFT_PG_BIN/pg_dump" --data-only --exclude-schema=sealift -d "$1" |
        grep -v -e '^--' -e '^\\restrict ' -e '^\\unrestrict '
}

# assert_same_data DB1 DB2: their data dumps are identical.
assert_same_data() {
    local a b
    a=$(data_dump "$1") || fail "pg_dump of $1 failed"
    b=$(data_dump "$2") || fail "pg_dump of $2 failed"
    if [ "$a" != "$b" ]; then
        diff <(printf '%s\n' "$a") <(printf '%s\n' "$b") |
            batslib_decorate "the data of $1 and $2 differ" | fail
        return 1
    fi
    [[ $a == *COPY* ]] || fail "the dump of $1 has no data at all"
}

# extra_db NAME: create a further database of this test, "${PGDATABASE}_NAME".
extra_db() {
    must "$SEALIFT_PG_BIN/createdb" "${PGDATABASE}_$1"
}

# ---- JSON events ----

# json_events NAME: every JSON line on stdout whose "event" is NAME, one per line, compact.
json_events() {
    printf '%s\n' "$output" | python3 -c '
import json, sys
for line in sys.stdin:
    line = line.strip()
    if line:
        obj = json.loads(line)
        if obj.get("event") == sys.argv[1]:
            print(json.dumps(obj, sort_keys=True, separators=(",", ":")))' "$1"
}

# ---- bundle bytes ----

# member_offset BUNDLE TEXT: the offset of TEXT in an uncompressed bundle (fails if absent).
member_offset() {
    local off
    off=$(byte_offset "$1" "$2")
    [ -n "$off" ] || fail "\"$2\" is not in $1 (is it compressed?)"
    echo "$off"
}

# with_tabs: stdin to stdout with every "<TAB>" made a real tab (data lines stay readable).
with_tabs() {
    sed 's/<TAB>/\t/g'
}
