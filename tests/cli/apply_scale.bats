#!/usr/bin/env bats
# A chain of 200 migrations (each a table, an index and rows): apply in one transaction and
# with --per-migration, status at head, rollback to base, and apply again.

bats_require_minimum_version 1.5.0

load apply_helpers

N=200

setup_file() {
    apply_setup_file || return 1
    [ -z "${APPLY_SKIP:-}" ] || return 0
    # One chain and bundle for the whole file: building is the same for every test.
    local dir=$BATS_FILE_TMPDIR/chain i v
    mkdir -p "$dir/m"
    for i in $(seq 1 $N); do
        v=$(printf '%04d' "$i")
        printf '%s\n' "CREATE TABLE t$i (id int PRIMARY KEY, v text NOT NULL);" \
            "CREATE INDEX t${i}_v_idx ON t$i (v);" \
            "INSERT INTO t$i SELECT g, md5(g::text) FROM generate_series(1, 10) g;" \
            >"$dir/m/${v}_table_$i.up.sql"
        printf 'DROP TABLE t%s;\n' "$i" >"$dir/m/${v}_table_$i.down.sql"
    done
    if ! "$SEALIFT" build -d "$dir/m" -s "$APPLY_KEYS/release.key" -o "$dir/big.sealift" \
        --project demo >"$dir/build.log" 2>&1; then
        echo "could not build the $N-migration bundle:" >&2
        cat "$dir/build.log" >&2
        return 1
    fi
    export BIG=$dir/big.sealift
}
teardown_file() { apply_teardown_file; }
setup() {
    apply_setup
    cp "$BIG" big.sealift
}
teardown() { apply_teardown; }

count_tables="SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
count_rows="SELECT sum((xpath('/row/c/text()',
    query_to_xml('SELECT count(*) AS c FROM ' || tablename, false, true, '')))[1]::text::int)
    FROM pg_tables WHERE schemaname = 'public'"

@test "200 migrations apply in one transaction; status, rollback --to base and apply again" {
    run_apply status big.sealift -p release.pub
    assert_exit 7
    assert_line --regexp "^pending +$N$"

    run_apply apply big.sealift -p release.pub
    assert_exit 0
    refute_errors
    assert_line "applied $N migrations; the database is at 0200_table_200"
    assert_sql "$count_tables" $N
    assert_sql "SELECT count(*) FROM pg_indexes WHERE schemaname = 'public' AND indexname LIKE '%_v_idx'" $N
    assert_sql "$count_rows" $((N * 10))
    assert_sql "SELECT count(*) || ' ' || count(DISTINCT xmin::text) FROM sealift.applied" "$N 1"

    run_apply status big.sealift -p release.pub
    assert_exit 0
    assert_line --regexp "^applied +$N of $N \\(database at 0200_table_200\\)$"

    run_apply apply big.sealift -p release.pub
    assert_exit 0
    assert_output 'nothing to apply: the database is at 0200_table_200'

    run_apply rollback big.sealift -p release.pub --to base
    assert_exit 0
    assert_line "rolled back $N migrations; the database is at base"
    assert_sql "$count_tables" 0
    assert_applied ''

    run_apply apply big.sealift -p release.pub
    assert_exit 0
    assert_sql "$count_tables" $N
    assert_applied "$(seq -f '%04g' -s, 1 $N)"

    run_apply history --verify
    assert_exit 0
    assert_line --regexp "^journal intact: $((3 * N)) rows"
}

@test "200 migrations apply with --per-migration, one commit each" {
    run_apply apply big.sealift -p release.pub --per-migration
    assert_exit 0
    refute_errors
    assert_line "applied $N migrations; the database is at 0200_table_200"
    assert_sql "$count_tables" $N
    assert_sql "SELECT count(DISTINCT xmin::text) FROM sealift.applied" $N

    run_apply status big.sealift -p release.pub
    assert_exit 0

    run_apply rollback big.sealift -p release.pub --to 0100 --per-migration
    assert_exit 0
    assert_line "rolled back 100 migrations; the database is at 0100_table_100"
    assert_sql "$count_tables" 100

    run_apply apply big.sealift -p release.pub --per-migration
    assert_exit 0
    assert_sql "$count_tables" $N
    run_apply status big.sealift -p release.pub
    assert_exit 0
}

@test "a failure at migration 150 of 200 rolls back all of them in default mode" {
    run_apply apply big.sealift -p release.pub --to 0010
    assert_exit 0
    # Make migration 150 collide with an existing table.
    sql "CREATE TABLE t150 (id int)"

    run_apply apply big.sealift -p release.pub --allow-schema-drift 't150 made to collide'
    assert_exit 4
    assert_error 'migration 0150_table_150 (up) failed: relation "t150" already exists'
    assert_detail 'the transaction was rolled back; the database is at 0010_table_10'
    assert_sql "$count_tables" 11
    assert_sql "SELECT count(*) FROM sealift.applied" 10
}

@test "1,100 migrations in one transaction: history rows sent in batches, all recorded, journal intact" {
    # The applier holds history rows and sends them 500 at a time (runner.c HISTORY_BATCH):
    # this chain crosses two batch boundaries and ends with a partial batch at the COMMIT.
    local dir=small i v
    mkdir -p "$dir"
    for i in $(seq 1 1100); do
        v=$(printf '%04d' "$i")
        printf 'CREATE TABLE s%s (id int);\n' "$i" >"$dir/${v}_s$i.up.sql"
        printf 'DROP TABLE s%s;\n' "$i" >"$dir/${v}_s$i.down.sql"
    done
    "$SEALIFT" build -d "$dir" -s "$APPLY_KEYS/release.key" -o small.sealift --project small \
        >build.log 2>&1 || { cat build.log; return 1; }

    run_apply apply small.sealift -p release.pub
    assert_exit 0
    assert_line "applied 1100 migrations; the database is at 1100_s1100"
    assert_sql "SELECT count(*) || ' ' || min(ordinal) || ' ' || max(ordinal) || ' ' ||
        count(DISTINCT xmin::text) FROM sealift.applied WHERE project = 'small'" '1100 1 1100 1'
    # Each row carries its own migration's time, in apply order.
    assert_sql "SELECT count(*) FROM (SELECT applied_at < lag(applied_at) OVER (ORDER BY ordinal)
        AS back FROM sealift.applied WHERE project = 'small') x WHERE back" 0
    assert_sql "SELECT count(*) FROM sealift.journal WHERE project = 'small' AND event = 'apply'" 1100

    run_apply history --verify
    assert_exit 0
    assert_line --regexp '^journal intact: 1100 rows'

    run_apply status small.sealift -p release.pub
    assert_exit 0
}
