# import_helpers.bash: shared setup for the tests of other tools' formats
# (tests/cli/import_<format>.bats): the example projects in bundles/examples/<format>/ are
# checked, built, applied by sealift-apply to one database and by psql (and, where it installs,
# by the real tool) to another, and the two schemas compared.
#
# Each file sets IMPORT_FORMAT, calls import_setup_file from setup_file (one throwaway cluster
# per file, tests/lib/pg.bash; "tcp" for tools that need TCP), import_teardown_file from
# teardown_file, and import_setup from setup. Every test then works in $BATS_TEST_TMPDIR/work
# with a copy of the example in ./src (builds write src/sealift.sum, never the repository's
# example) and the key pair release.pub / release.key.

# run sets status, output, stderr and stderr_lines.
# shellcheck disable=SC2154

load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'

: "${SEALIFT_BIN:=$(cd "$BATS_TEST_DIRNAME/../../bin" 2>/dev/null && pwd)}"
SEALIFT=$SEALIFT_BIN/sealift
APPLY=$SEALIFT_BIN/sealift-apply
EXAMPLES=$BATS_TEST_DIRNAME/../../bundles/examples

# shellcheck source=../lib/pg.bash
. "$BATS_TEST_DIRNAME/../lib/pg.bash"

import_setup_file() {
    if [ ! -x "$SEALIFT" ] || [ ! -x "$APPLY" ]; then
        echo "no sealift binaries in \"$SEALIFT_BIN\" (run make, or set SEALIFT_BIN)" >&2
        return 1
    fi
    unset DATABASE_URL PGSERVICE PGPASSWORD PGSERVICEFILE PGPASSFILE
    export IMPORT_KEYS=$BATS_FILE_TMPDIR/keys
    mkdir -p "$IMPORT_KEYS" &&
        "$SEALIFT" keygen -W -p "$IMPORT_KEYS/release.pub" -s "$IMPORT_KEYS/release.key" \
            >/dev/null || return 1
    # bats 1.8 cannot skip from setup_file: import_db_setup skips each database test instead.
    if [ ! -x "$SEALIFT_PG_BIN/initdb" ]; then
        export IMPORT_PG_SKIP="PostgreSQL server binaries not found in $SEALIFT_PG_BIN"
        return 0
    fi
    pg_start "$@"
}

import_teardown_file() {
    pg_stop
}

import_setup() {
    unset DATABASE_URL SEALIFT_PASSWORD_FILE SOURCE_DATE_EPOCH
    export LC_ALL=C TZ=UTC
    if ! mkdir "$BATS_TEST_TMPDIR/work" || ! cd "$BATS_TEST_TMPDIR/work"; then
        fail "could not enter \"$BATS_TEST_TMPDIR/work\""
    fi
    cp "$IMPORT_KEYS"/release.* . || fail "could not copy the keys"
    cp -R "$EXAMPLES/$IMPORT_FORMAT" src || fail "could not copy the $IMPORT_FORMAT example"
}

# For tests that need the server.
import_db_setup() {
    [ -z "${IMPORT_PG_SKIP:-}" ] || skip "$IMPORT_PG_SKIP"
}

# Run a setup step; if it fails, fail the test with its output.
must() {
    local out
    if ! out=$("$@" 2>&1); then
        printf '%s\n' "$out" | batslib_decorate "setup step failed: $*" | fail
        return 1
    fi
}

run_sealift() {
    run --separate-stderr "$SEALIFT" "$@"
    import_no_crash
}

run_apply() {
    run --separate-stderr "$APPLY" "$@"
    import_no_crash
}

import_no_crash() {
    local bad
    for bad in AddressSanitizer LeakSanitizer 'runtime error:' 'internal error' Segmentation; do
        if [[ $stderr == *"$bad"* || $output == *"$bad"* ]]; then
            batslib_print_kv_single_or_multi 6 stdout "$output" stderr "$stderr" |
                batslib_decorate "the output mentions \"$bad\"" | fail
            return 1
        fi
    done
}

assert_exit() {
    if [ "$status" -ne "$1" ]; then
        batslib_print_kv_single_or_multi 8 expected "$1" actual "$status" \
            stdout "$output" stderr "$stderr" | batslib_decorate 'wrong exit status' | fail
        return 1
    fi
}

# Some stderr line contains the literal text $1.
assert_stderr() {
    local line
    for line in "${stderr_lines[@]}"; do
        [[ $line == *"$1"* ]] && return 0
    done
    batslib_print_kv_single_or_multi 8 expected "$1" stderr "$stderr" |
        batslib_decorate 'no such line on stderr' | fail
    return 1
}

refute_errors() {
    if [[ $stderr == *"error:"* ]]; then
        batslib_print_kv_single_or_multi 6 stderr "$stderr" |
            batslib_decorate 'unexpected error message' | fail
        return 1
    fi
}

# The database NAME of this test: every test of a file shares its cluster.
dbn() {
    echo "t${BATS_TEST_NUMBER}_$1"
}

# createdb NAME (as dbn NAME)
newdb() {
    must "$SEALIFT_PG_BIN/createdb" "$(dbn "$1")"
}

# build_example [OPTION...]: src -> app.sealift, checked.
build_example() {
    run_sealift build -d src --from "$IMPORT_FORMAT" -s release.key -o app.sealift \
        --project shop "$@"
    assert_exit 0
    refute_errors
}

# apply_bundle DB [OPTION...]
apply_bundle() {
    local db=$1
    shift
    run_apply apply app.sealift -p release.pub -d "dbname=$(dbn "$db")" "$@"
    assert_exit 0
    refute_errors
}

# psql_file DB FILE: run a SQL file as psql does (autocommit, stop at the first error).
psql_file() {
    must psql -X -q -v ON_ERROR_STOP=1 -d "$(dbn "$1")" -f "$2"
}

# schema DB [PG_DUMP_OPTION...]: the schema, without sealift's history or comment lines.
schema() {
    local db=$1
    shift
    pg_dump --schema-only --no-owner --no-privileges --exclude-schema=sealift "$@" -d "$(dbn "$db")" \
        >"dump.$db" || return 1
    # pg_dump 17.6+ brackets its output in \restrict KEY ... \unrestrict KEY, a random key.
    grep -v -e '^--' -e '^$' -e '^SET ' -e '^SELECT pg_catalog.set_config' \
        -e '^\\restrict' -e '^\\unrestrict' "dump.$db" || true
}

# assert_same_schema DB1 DB2 [PG_DUMP_OPTION...] (options apply to both, e.g. excluding a
# tool's own history table)
assert_same_schema() {
    local a=$1 b=$2
    shift 2
    schema "$a" "$@" >"schema.$a" || fail "pg_dump $a failed"
    schema "$b" "$@" >"schema.$b" || fail "pg_dump $b failed"
    if ! diff -u "schema.$a" "schema.$b" >schema.diff; then
        batslib_decorate "schemas of $a and $b differ" <schema.diff | fail
        return 1
    fi
    # The example has tables, a view, functions and a type: an empty dump would prove nothing.
    grep -q 'CREATE TABLE public.orders' "schema.$a" || fail "no orders table in $a"
    grep -q 'CREATE VIEW public.order_summaries' "schema.$a" || fail "no view in $a"
}

# The standard proof: build; apply to db "sealift_db"; the psql reference (ref.sql written by
# the caller, or a reference database the caller filled) has the same schema; rollback to base
# leaves the database as empty as a new one.
# assert_apply_matches REFDB [PG_DUMP_OPTION...]
assert_apply_matches() {
    local ref=$1
    shift
    newdb applied
    apply_bundle applied
    assert_same_schema applied "$ref" "$@"
    run --separate-stderr psql -X -At -d "$(dbn applied)" -c 'SELECT sku, price_cents FROM products ORDER BY sku'
    assert_output $'cake|320\ncoffee|405\ntea|450'
}

assert_rollback_to_base() {
    newdb empty
    run_apply rollback app.sealift -p release.pub -d "dbname=$(dbn applied)" --to base
    assert_exit 0
    refute_errors
    schema applied >schema.after || fail "pg_dump failed"
    schema empty >schema.empty || fail "pg_dump failed"
    if ! diff -u schema.empty schema.after >rollback.diff; then
        batslib_decorate "objects left after rollback --to base" <rollback.diff | fail
        return 1
    fi
}
