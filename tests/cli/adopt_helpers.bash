# adopt_helpers.bash: shared code of the adoption tests (tests/cli/adopt_<format>.bats): a
# database that another tool brought to the middle of the example chain
# (bundles/examples/<format>/) is taken over by sealift-apply, which must record what the tool
# ran as adopted, run only the rest, and leave the schema the whole chain run by psql leaves;
# or, when the tool's history cannot be trusted, refuse (exit 3) and change nothing.
#
# Each file sets IMPORT_FORMAT, CHAIN_LENGTH (migrations in the example), TOOL_TABLE (as status
# and apply name it) and TOOL_EXCLUDE (the pg_dump option that leaves the tool's own history
# out), then uses import_helpers.bash's
# setup (one cluster per file, a database per test, the example copied to ./src).

# run sets status, output, stderr and stderr_lines.
# shellcheck disable=SC2154

load import_helpers

# adopt_setup_file [tcp]: the cluster, and the example built once (app.sealift, project "shop")
# for every test of the file; a test that changes the example builds again (build_example).
adopt_setup_file() {
    import_setup_file "$@" || return 1
    local dir=$BATS_FILE_TMPDIR/example
    mkdir -p "$dir" && cp -R "$EXAMPLES/$IMPORT_FORMAT" "$dir/src" || return 1
    (cd "$dir" && "$SEALIFT" build -d src --from "$IMPORT_FORMAT" -s "$IMPORT_KEYS/release.key" \
        -o "$BATS_FILE_TMPDIR/app.sealift" --project shop) >"$dir/build.log" 2>&1 ||
        rm -f "$BATS_FILE_TMPDIR/app.sealift"
}

# adopt_setup: a test's work directory (import_setup) with the bundle and the up scripts.
# Tests skip without a server, or with ADOPT_SKIP set (the tool does not install here).
adopt_setup() {
    import_setup
    import_db_setup
    [ -z "${ADOPT_SKIP:-}" ] || skip "$ADOPT_SKIP"
    if [ ! -f "$BATS_FILE_TMPDIR/app.sealift" ]; then
        batslib_decorate "the $IMPORT_FORMAT example did not build" <"$BATS_FILE_TMPDIR/example/build.log" | fail
        return 1
    fi
    cp "$BATS_FILE_TMPDIR/app.sealift" . || fail "could not copy the bundle"
    ups_in_order || fail "could not list the $IMPORT_FORMAT up scripts"
}

# The example's up scripts, in chain order, as plain SQL files ups/01.sql ... (what psql runs).
# Alembic and Liquibase have none here: their reference is the tool's own run (ref_db).
ups_in_order() {
    local i=0 f v x
    rm -rf ups && mkdir ups || return 1
    case $IMPORT_FORMAT in
    flyway)
        # Flyway's order: versions as numbers, part by part (1.10 after 1.9).
        for f in $(cd src && for v in V*__*.sql; do x=${v#V}; x=${x%%__*}; echo "${x//_/.} $v"; done |
            sort -t. -k1,1n -k2,2n | cut -d' ' -f2); do
            i=$((i + 1))
            cp "src/$f" "ups/$(printf %02d $i).sql"
        done ;;
    golang-migrate)
        for f in src/*.up.sql; do
            i=$((i + 1))
            cp "$f" "ups/$(printf %02d $i).sql"
        done ;;
    goose)
        for f in src/*.sql; do
            i=$((i + 1))
            sed -n '/^-- +goose Up/,/^-- +goose Down/p' "$f" | grep -v '^-- +goose' >"ups/$(printf %02d $i).sql"
        done ;;
    dbmate)
        for f in src/*.sql; do
            i=$((i + 1))
            sed -n '/^-- migrate:up/,/^-- migrate:down/p' "$f" | grep -v '^-- migrate:' >"ups/$(printf %02d $i).sql"
        done ;;
    diesel)
        for f in src/*/up.sql; do
            i=$((i + 1))
            cp "$f" "ups/$(printf %02d $i).sql"
        done ;;
    sqitch)
        # Plan order; a change reworked later runs its script as of the tag that follows it.
        for f in $(sqitch_deploy_scripts); do
            i=$((i + 1))
            cp "src/deploy/$f" "ups/$(printf %02d $i).sql"
        done ;;
    alembic | liquibase) ;;
    *)
        return 1 ;;
    esac
}

# The deploy script of each change of src/sqitch.plan, in plan order.
sqitch_deploy_scripts() {
    awk '
        /^%/ || /^#/ || NF == 0 { next }
        /^@/ { n++; kind[n] = "tag"; name[n] = substr($1, 2); next }
        { n++; kind[n] = "change"; name[n] = $1 }
        END {
            for (i = 1; i <= n; i++) {
                if (kind[i] != "change") continue
                file = name[i]
                for (j = i + 1; j <= n; j++)
                    if (kind[j] == "change" && name[j] == name[i]) {
                        for (k = i + 1; k <= n && kind[k] != "tag"; k++) ;
                        file = name[i] "@" name[k]
                        break
                    }
                print file ".sql"
            }
        }' src/sqitch.plan
}

# psql_ups DB FROM TO: run the chain's up scripts FROM..TO (1-based) with psql, in order, as
# psql runs each file (autocommit, stopping at the first error).
psql_ups() {
    local db=$1 k files=()
    for k in $(seq "$2" "$3"); do
        files+=(-f "ups/$(printf %02d "$k").sql")
    done
    must psql -X -q -v ON_ERROR_STOP=1 -d "$(dbn "$db")" "${files[@]}"
}

# ref_db: database "ref" with the whole chain run by psql in order (once per test).
ref_db() {
    [ -e ref.done ] && return 0
    newdb ref
    if [ "$IMPORT_FORMAT" = liquibase ]; then
        # Liquibase itself runs the whole chain.
        liquibase ref update && : >ref.done
        return
    fi
    if [ "$IMPORT_FORMAT" = alembic ]; then
        # Alembic's own offline rendering of the whole chain, as a DBA would run it.
        (cd src && alembic upgrade base:head --sql >../ref.sql 2>../ref.log) ||
            fail "alembic upgrade base:head --sql failed: $(cat ref.log)"
        psql_file ref ref.sql && : >ref.done
        return
    fi
    psql_ups ref 1 "$CHAIN_LENGTH" && : >ref.done
}

# q DB SQL: one query, unaligned, tuples only.
q() {
    psql -X -At -v ON_ERROR_STOP=1 -d "$(dbn "$1")" -c "$2"
}

# fingerprint DB: everything in the database (schema and data, the tools' tables and any
# sealift history included), for proving that a refusal changed nothing.
fingerprint() {
    pg_dump --no-owner --no-privileges -d "$(dbn "$1")" |
        grep -v -e '^\\restrict' -e '^\\unrestrict' -e '^-- Dumped'
}

# assert_refused DB MESSAGE: status, plan and apply all refuse with exit 3 naming MESSAGE, and
# the database is exactly as before (no sealift schema created, the tool's history untouched).
assert_refused() {
    local db=$1 msg=$2 cmd
    fingerprint "$db" >before.dump || fail "pg_dump failed"
    for cmd in status plan apply; do
        run_apply "$cmd" app.sealift -p release.pub -d "dbname=$(dbn "$db")"
        assert_exit 3
        assert_stderr "sealift-apply: error: cannot take over from $IMPORT_FORMAT: $msg"
    done
    run q "$db" "SELECT to_regnamespace('sealift') IS NULL"
    assert_output t
    fingerprint "$db" >after.dump || fail "pg_dump failed"
    if ! diff -u before.dump after.dump >refused.diff; then
        batslib_decorate "the refusal changed the database" <refused.diff | fail
        return 1
    fi
}

# The example's products after the whole chain: seeded once (migration 9), the coffee raised
# once (migration 12). A seed run twice fails on the primary key; a raise run twice shows here.
assert_products_once() {
    run q "$1" 'SELECT sku, price_cents FROM products ORDER BY sku'
    assert_output $'cake|320\ncoffee|405\ntea|450'
}

# assert_adoption DB N [APPLY_OPTION...]: DB is at migration N of the chain by the tool's own
# doing, with no sealift history. status shows N adoptable (exit 7); apply adopts N and runs
# only the rest; the schema equals "ref" (ref_db); nothing ran twice (the journal has N adopt
# and the rest apply events, the data is as after one run); the journal verifies; a second
# apply has nothing to do; status is at head.
assert_adoption() {
    local db=$1 n=$2 total rest plural=s
    shift 2
    total=$CHAIN_LENGTH
    ref_db
    rest=$((total - n))
    [ "$n" -eq 1 ] && plural=
    run_apply status app.sealift -p release.pub -d "dbname=$(dbn "$db")"
    assert_exit 7
    refute_errors
    # The database is where the tool left it; sealift has recorded nothing yet.
    assert_line --regexp "^applied      $n of $total \(database at "
    assert_line --regexp '^database .* history schema "sealift" \(not created yet\)$'
    assert_line "adoptable    $n migration$plural recorded by $IMPORT_FORMAT in $TOOL_TABLE; apply adopts them without running them"
    assert_line "pending      $rest"
    run_apply status app.sealift -p release.pub -d "dbname=$(dbn "$db")" --json
    assert_exit 7
    assert_output --partial "\"adoptable_from\":\"$IMPORT_FORMAT\",\"adoptable\":$n,"

    run_apply apply app.sealift -p release.pub -d "dbname=$(dbn "$db")" "$@"
    assert_exit 0
    refute_errors
    assert_line "adopted $n migration$plural that $IMPORT_FORMAT recorded in $TOOL_TABLE (nothing ran)"
    assert_line --regexp "^applied $rest migrations?; the database is at "

    assert_same_schema "$db" ref "$TOOL_EXCLUDE"
    assert_products_once "$db"
    # index_build: the note apply journals before a concurrent index build (index_repair.c).
    run q "$db" "SELECT event, count(*) FROM sealift.journal WHERE project = 'shop'
        AND event <> 'index_build' GROUP BY event ORDER BY event"
    assert_output "adopt|$n"$'\n'"apply|$rest"
    run q "$db" "SELECT how, count(*), min(ordinal), max(ordinal) FROM sealift.applied WHERE project = 'shop' GROUP BY how ORDER BY how"
    assert_output "adopted|$n|1|$n"$'\n'"applied|$rest|$((n + 1))|$total"

    run_apply history -d "dbname=$(dbn "$db")" --verify
    assert_exit 0
    refute_errors

    # Adopted once: a rerun sees sealift's own history and has nothing to do.
    fingerprint "$db" >adopted.dump || fail "pg_dump failed"
    run_apply apply app.sealift -p release.pub -d "dbname=$(dbn "$db")" "$@"
    assert_exit 0
    refute_errors
    assert_line --regexp '^nothing to apply: the database is at '
    refute_line --partial adopted
    fingerprint "$db" >rerun.dump || fail "pg_dump failed"
    diff -u adopted.dump rerun.dump >rerun.diff || fail "a second apply changed the database"
    run_apply status app.sealift -p release.pub -d "dbname=$(dbn "$db")"
    assert_exit 0
    refute_line --partial adoptable
}

# sealift's history of DB as text: what is recorded (ordinal, migration, how) and the journal's
# events in order, for comparing a database taken over by plan + psql with one taken over by
# apply. Not index_build: apply journals it before a concurrent index build, so that a rerun
# can repair what an interrupted one left (index_repair.c); a plan run by psql cannot repair.
history_of() {
    q "$1" "SELECT ordinal, migration_id, how FROM sealift.applied WHERE project = 'shop' ORDER BY ordinal" &&
        q "$1" "SELECT event, migration_id FROM sealift.journal WHERE project = 'shop'
            AND event <> 'index_build' ORDER BY seq"
}

# assert_plan_like_apply PLANDB APPLIEDDB [PLAN_OPTION...]: PLANDB is where APPLIEDDB was before
# apply took it over (same tool, same N). The plan of PLANDB, run by psql, leaves it as apply
# left APPLIEDDB: same schema, same history; its journal verifies, and apply then has nothing
# to do.
assert_plan_like_apply() {
    local pdb=$1 adb=$2
    shift 2
    run --separate-stderr "$APPLY" plan app.sealift -p release.pub -d "dbname=$(dbn "$pdb")" "$@"
    import_no_crash
    assert_exit 0
    refute_errors
    printf '%s\n' "$output" >plan.sql
    grep -q "^-- adopt what $IMPORT_FORMAT recorded in $TOOL_TABLE: nothing runs" plan.sql ||
        fail "the plan does not say it adopts"
    psql_file "$pdb" plan.sql
    ref_db
    assert_same_schema "$pdb" ref "$TOOL_EXCLUDE"
    assert_same_schema "$pdb" "$adb" "$TOOL_EXCLUDE"
    assert_products_once "$pdb"
    history_of "$pdb" >history.plan || fail "could not read the history"
    history_of "$adb" >history.apply || fail "could not read the history"
    diff -u history.apply history.plan >history.diff ||
        { batslib_decorate "plan and apply recorded different histories" <history.diff | fail; return 1; }
    run_apply history -d "dbname=$(dbn "$pdb")" --verify
    assert_exit 0
    refute_errors
    run_apply apply app.sealift -p release.pub -d "dbname=$(dbn "$pdb")" "$@"
    assert_exit 0
    assert_line --regexp '^nothing to apply: the database is at '
}
