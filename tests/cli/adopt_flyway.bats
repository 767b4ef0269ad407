#!/usr/bin/env bats
# Adoption of a database Flyway managed (bundles/examples/flyway). Flyway needs a JVM and its own
# download, neither available here, so its history is written as Flyway writes it on
# PostgreSQL: flyway_schema_history as createMetaDataTable.sql creates it, one row per run
# (installed_rank, version with "_" read as ".", description, type 'SQL', script, checksum,
# installed_by, installed_on, execution_time, success). The checksum is computed here, apart
# from sealift, as Flyway's ChecksumCalculator does: CRC32 over the UTF-8 bytes of each line
# without its line break (BOM dropped), as a signed 32-bit integer.
bats_require_minimum_version 1.5.0

load adopt_helpers

IMPORT_FORMAT=flyway
CHAIN_LENGTH=13
TOOL_TABLE=flyway_schema_history
TOOL_EXCLUDE=--exclude-table=public.flyway_schema_history

setup_file() { adopt_setup_file; }
teardown_file() { import_teardown_file; }
setup() { adopt_setup; }

# Flyway's checksum of FILE (java.util.zip.CRC32 over BufferedReader.readLine() lines).
flyway_crc() {
    python3 - "$1" <<'PY'
import re, sys, zlib
text = open(sys.argv[1], 'rb').read().decode('utf-8')
if text.startswith('\ufeff'):
    text = text[1:]
crc = 0
for line in re.split(r'\r\n|\r|\n', text):
    crc = zlib.crc32(line.encode('utf-8'), crc)
print(crc - (1 << 32) if crc >= 1 << 31 else crc)
PY
}

# The helper above against a published value: CRC-32's check value (the CRC catalogue's
# CRC-32/ISO-HDLC, zlib's and java.util.zip.CRC32's), the sum of "123456789", is 0xCBF43926,
# which Flyway stores as the int -873187034; split into lines, the line breaks do not count.
@test "flyway: the checksum of these tests is CRC-32's check value for 123456789 over lines" {
    printf '1234\r\n56789\n' >vector.sql
    run flyway_crc vector.sql
    assert_output -- -873187034
}

# The V scripts in Flyway's order (as ups_in_order runs them).
flyway_files() {
    (cd src && for v in V*__*.sql; do x=${v#V}; x=${x%%__*}; echo "${x//_/.} $v"; done |
        sort -t. -k1,1n -k2,2n | cut -d' ' -f2)
}

flyway_table() {
    q "$1" 'CREATE TABLE "public"."flyway_schema_history" (
        "installed_rank" INT NOT NULL,
        "version" VARCHAR(50),
        "description" VARCHAR(200) NOT NULL,
        "type" VARCHAR(20) NOT NULL,
        "script" VARCHAR(1000) NOT NULL,
        "checksum" INTEGER,
        "installed_by" VARCHAR(100) NOT NULL,
        "installed_on" TIMESTAMP NOT NULL DEFAULT now(),
        "execution_time" INTEGER NOT NULL,
        "success" BOOLEAN NOT NULL);
    ALTER TABLE "public"."flyway_schema_history" ADD CONSTRAINT "flyway_schema_history_pk" PRIMARY KEY ("installed_rank");
    CREATE INDEX "flyway_schema_history_s_idx" ON "public"."flyway_schema_history" ("success")' >/dev/null
}

# flyway_row DB RANK VERSION DESCRIPTION TYPE SCRIPT CHECKSUM SUCCESS (NULL unquoted)
flyway_row() {
    local v=$3 c=$7
    [ "$v" = NULL ] || v="'$v'"
    q "$1" "INSERT INTO flyway_schema_history (installed_rank, version, description, type, script,
        checksum, installed_by, execution_time, success)
        VALUES ($2, $v, '$4', '$5', '$6', $c, 'postgres', 13, $8)" >/dev/null
}

# flyway_migrate DB K...: as "flyway migrate" running the K-th V scripts (1-based, Flyway's
# order): the script runs, then its row is written with the next installed_rank.
flyway_migrate() {
    local db=$1 k f x rank desc
    shift
    for k in "$@"; do
        f=$(flyway_files | sed -n "${k}p")
        x=${f#V}
        x=${x%%__*}
        desc=${f#*__}
        desc=${desc%.sql}
        psql_ups "$db" "$k" "$k" || return 1
        rank=$(q "$db" 'SELECT coalesce(max(installed_rank), 0) + 1 FROM flyway_schema_history')
        flyway_row "$db" "$rank" "${x//_/.}" "${desc//_/ }" SQL "$f" "$(flyway_crc "src/$f")" true ||
            return 1
    done
}

# flyway_repeatable DB FILE: as "flyway migrate" running repeatable src/FILE (R__DESC.sql)
# after the versioned ones: the script runs, then its row (no version, the description with
# "_" read as " ") with the next installed_rank.
flyway_repeatable() {
    local db=$1 f=$2 desc rank
    desc=${f#R__}
    desc=${desc%.sql}
    psql_file "$db" "src/$f" || return 1
    rank=$(q "$db" 'SELECT coalesce(max(installed_rank), 0) + 1 FROM flyway_schema_history')
    flyway_row "$db" "$rank" NULL "${desc//_/ }" SQL "$f" "$(flyway_crc "src/$f")" true
}

# customer_emails_sql [lower]: R__customer_emails.sql, a view kept in one file. Each of these
# repeatables logs its run in rep_runs, so that a run that should not happen shows.
customer_emails_sql() {
    local col=email
    [ "${1:-}" = lower ] && col='lower(email) AS email'
    printf '%s\n' 'CREATE TABLE IF NOT EXISTS rep_runs (name text NOT NULL);' \
        "INSERT INTO rep_runs VALUES ('customer emails');" \
        "CREATE OR REPLACE VIEW customer_emails AS SELECT id, $col FROM customers;" \
        >src/R__customer_emails.sql
}

# product_skus_sql VERSION: R__product_skus.sql, its view commented with VERSION.
product_skus_sql() {
    printf '%s\n' 'CREATE TABLE IF NOT EXISTS rep_runs (name text NOT NULL);' \
        "INSERT INTO rep_runs VALUES ('product skus');" \
        'CREATE OR REPLACE VIEW product_skus AS SELECT sku FROM products;' \
        "COMMENT ON VIEW product_skus IS '$1';" >src/R__product_skus.sql
}

# flyway_with_repeatables DB: the whole chain by Flyway, then its repeatables over several
# runs, leaving the files as a team would have them today. customer emails: Flyway ran an
# older file, then the file as it is (its last run matches: adopted). product skus: Flyway
# ran v1, then v2, and the file went back to v1: an earlier row matches, but the last run is
# what Flyway compares (and runs a reverted file again), so it stays pending.
flyway_with_repeatables() {
    local db=$1
    flyway_table "$db"
    flyway_migrate "$db" $(seq 1 13) || return 1
    customer_emails_sql
    product_skus_sql v1
    flyway_repeatable "$db" R__customer_emails.sql || return 1
    flyway_repeatable "$db" R__product_skus.sql || return 1
    customer_emails_sql lower
    product_skus_sql v2
    flyway_repeatable "$db" R__customer_emails.sql || return 1
    flyway_repeatable "$db" R__product_skus.sql || return 1
    product_skus_sql v1
}

# The runs each repeatable's log shows, by name.
rep_runs_of() {
    q "$1" "SELECT name, count(*) FROM rep_runs GROUP BY name ORDER BY name"
}

@test "flyway: repeatables Flyway last ran as they are are adopted, not run; a changed one runs on the first apply" {
    newdb fw
    flyway_with_repeatables fw
    build_example
    run rep_runs_of fw
    assert_output $'customer emails|2\nproduct skus|2'

    run_apply status app.sealift -p release.pub -d "dbname=$(dbn fw)"
    assert_exit 7
    refute_errors
    assert_line 'adoptable    13 migrations and 1 repeatable recorded by flyway in flyway_schema_history; apply adopts them without running them'
    assert_line 'repeatables  2, 1 pending'
    assert_line --regexp '^  R__customer emails  adoptable: flyway last ran it as it is  \(checksum [0-9a-f]{16}\)$'
    assert_line --regexp '^  R__product skus     pending: new +\(checksum [0-9a-f]{16}\)$'
    run_apply status app.sealift -p release.pub -d "dbname=$(dbn fw)" --json
    assert_exit 7
    assert_output --partial '"pending_repeatables":["product skus"]'
    assert_output --partial '"adoptable_from":"flyway","adoptable":13,"adoptable_repeatables":1,'

    run_apply apply app.sealift -p release.pub -d "dbname=$(dbn fw)"
    assert_exit 0
    refute_errors
    assert_line 'adopted 13 migrations and 1 repeatable that flyway recorded in flyway_schema_history (nothing ran)'
    assert_line --regexp '^applied 0 migrations and 1 repeatable; the database is at '
    # Only product skus ran, once, as the file is now.
    run rep_runs_of fw
    assert_output $'customer emails|2\nproduct skus|3'
    run q fw "SELECT obj_description('product_skus'::regclass)"
    assert_output v1
    run q fw "SELECT name, run, how FROM sealift.repeatable_runs WHERE project = 'shop' ORDER BY name"
    assert_output $'customer emails|1|adopted\nproduct skus|1|applied'
    run q fw "SELECT event, migration_id FROM sealift.journal WHERE project = 'shop'
        AND event LIKE '%repeatable' ORDER BY seq"
    assert_output $'adopt_repeatable|customer emails\napply_repeatable|product skus'
    # The adopted run records the bundle's checksum (SHA-256 of the script), which status
    # compares: nothing is pending any more.
    run_apply status app.sealift -p release.pub -d "dbname=$(dbn fw)"
    assert_exit 0
    assert_line 'repeatables  2, 0 pending'
    assert_line --regexp '^  R__customer emails  adopted  \(checksum [0-9a-f]{16}\)$'
    assert_line --regexp '^  R__product skus     applied  \(checksum [0-9a-f]{16}\)$'
    run_apply history -d "dbname=$(dbn fw)" --verify
    assert_exit 0
    refute_errors

    # The schema is the chain's and the repeatables' as psql leaves them, in Flyway's order.
    ref_db
    psql_file ref src/R__customer_emails.sql
    psql_file ref src/R__product_skus.sql
    assert_same_schema fw ref "$TOOL_EXCLUDE"

    run_apply apply app.sealift -p release.pub -d "dbname=$(dbn fw)"
    assert_exit 0
    assert_line --regexp '^nothing to apply: the database is at '
    run rep_runs_of fw
    assert_output $'customer emails|2\nproduct skus|3'
}

@test "flyway: plan piped to psql adopts the repeatables as apply does" {
    newdb a
    newdb p
    flyway_with_repeatables a
    flyway_with_repeatables p
    build_example
    run_apply apply app.sealift -p release.pub -d "dbname=$(dbn a)"
    assert_exit 0
    run --separate-stderr "$APPLY" plan app.sealift -p release.pub -d "dbname=$(dbn p)"
    import_no_crash
    assert_exit 0
    refute_errors
    printf '%s\n' "$output" >plan.sql
    grep -q '^-- adopt what flyway recorded in flyway_schema_history: nothing runs' plan.sql ||
        fail "the plan does not say it adopts"
    grep -q '^-- Running repeatable product skus ' plan.sql || fail "the plan does not run product skus"
    ! grep -q '^-- Running repeatable customer emails' plan.sql || fail "the plan runs customer emails again"
    psql_file p plan.sql
    assert_same_schema p a "$TOOL_EXCLUDE"
    run rep_runs_of p
    assert_output $'customer emails|2\nproduct skus|3'
    history_of p >history.plan || fail "could not read the history"
    history_of a >history.apply || fail "could not read the history"
    diff -u history.apply history.plan >history.diff ||
        { batslib_decorate "plan and apply recorded different histories" <history.diff | fail; return 1; }
    for db in a p; do
        q "$db" "SELECT name, run, how, checksum FROM sealift.repeatable_runs ORDER BY name" >"runs.$db" ||
            fail "could not read the runs"
    done
    diff -u runs.a runs.p || fail "plan and apply recorded different repeatable runs"
    run_apply history -d "dbname=$(dbn p)" --verify
    assert_exit 0
    refute_errors
    run_apply apply app.sealift -p release.pub -d "dbname=$(dbn p)"
    assert_exit 0
    assert_line --regexp '^nothing to apply: the database is at '
}

@test "flyway: a database at 1.10 (10 of 13) is adopted with every checksum checked, only the rest runs" {
    newdb mid
    flyway_table mid
    flyway_migrate mid $(seq 1 10)
    run q mid "SELECT version, script FROM flyway_schema_history WHERE installed_rank = 10"
    assert_output '1.10|V1.10__customers_phone.sql'
    assert_adoption mid 10
}

@test "flyway: plan piped to psql takes over as apply does" {
    newdb a
    newdb p
    for db in a p; do
        flyway_table $db
        flyway_migrate $db 1 2 3 4
    done
    run_apply apply app.sealift -p release.pub -d "dbname=$(dbn a)"
    assert_exit 0
    assert_plan_like_apply p a
}

@test "flyway: a baseline row stands for every version up to its own, in Flyway's version order" {
    newdb based
    # The database had 1.1 to 1.10 before Flyway ("flyway baseline -baselineVersion=1.10"; 1.9
    # is below it, as a number); then "flyway migrate" ran 1.11.
    psql_ups based 1 10
    flyway_table based
    flyway_row based 1 1.10 '<< Flyway Baseline >>' BASELINE '<< Flyway Baseline >>' NULL true
    flyway_migrate based 11
    assert_adoption based 11

    # Flyway's default baseline version, 1, is below every migration of the chain.
    newdb default
    flyway_table default
    flyway_row default 1 1 '<< Flyway Baseline >>' BASELINE '<< Flyway Baseline >>' NULL true
    flyway_migrate default 1 2 3 4
    run_apply status app.sealift -p release.pub -d "dbname=$(dbn default)"
    assert_exit 7
    assert_line 'adoptable    4 migrations recorded by flyway in flyway_schema_history; apply adopts them without running them'
}

@test "flyway: line ends and a byte-order mark change neither Flyway's checksum nor sealift's" {
    newdb crlf
    flyway_table crlf
    flyway_migrate crlf 1 2 3
    # A Windows checkout of the scripts Flyway ran.
    for f in src/V*.sql; do
        sed -i 's/$/\r/' "$f"
    done
    sed -i '1s/^/\xef\xbb\xbf/' src/V1_1__create_order_status.sql
    build_example
    assert_adoption crlf 3
}

@test "flyway: a script changed after Flyway ran it is refused, naming both checksums" {
    newdb edited
    flyway_table edited
    flyway_migrate edited 1 2 3 4 5
    local before after
    before=$(flyway_crc src/V1_3__create_products.sql)
    printf -- '-- reviewed\n' >>src/V1_3__create_products.sql
    after=$(flyway_crc src/V1_3__create_products.sql)
    [ "$before" != "$after" ] || fail "the edit did not change Flyway's checksum"
    build_example
    assert_refused edited "flyway_schema_history records migration 1.3 with checksum $before, but the bundle's script has $after: it was changed after Flyway ran it"
}

@test "flyway: a failed run (success false) is refused" {
    newdb failed
    flyway_table failed
    flyway_migrate failed 1 2 3 4 5
    # A non-transactional migration that failed half-way leaves such a row.
    flyway_row failed 6 1.6 'order total function' SQL V1.6__order_total_function.sql \
        "$(flyway_crc src/V1.6__order_total_function.sql)" false
    assert_refused failed "flyway_schema_history records migration 1.6 (V1.6__order_total_function.sql) as failed; repair it with Flyway first"
}

@test "flyway: a migration the bundle does not know is refused, versioned or repeatable" {
    newdb unknown
    flyway_table unknown
    flyway_migrate unknown 1 2 3
    flyway_row unknown 4 2.0 'hotfix' SQL V2.0__hotfix.sql 12345 true
    assert_refused unknown "flyway_schema_history records migration 2.0 as applied, which this bundle does not know"

    newdb repeatable
    flyway_table repeatable
    flyway_migrate repeatable 1 2 3
    flyway_row repeatable 4 NULL 'refresh views' SQL R__refresh_views.sql 777 true
    assert_refused repeatable "flyway_schema_history records repeatable migration R__refresh_views.sql as applied, which this bundle does not know"
}

@test "flyway: a gap (1.1, 1.2 and 1.4, not 1.3) is refused" {
    newdb gap
    flyway_table gap
    flyway_migrate gap 1 2 4
    assert_refused gap "flyway_schema_history records 1.4 as applied but not 1.3 before it; adopting would skip it"
}
