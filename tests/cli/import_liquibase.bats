#!/usr/bin/env bats
# Liquibase projects (bundles/examples/liquibase): read, build, apply; the same schema and data
# as the real Liquibase 4.3.3 running "update"; rollback as Liquibase rolls back; selection by
# --contexts/--labels; refusals naming the changeset. The real Liquibase comes from npm
# (node-liquibase 4.3.3, installed into build/npm when missing; see liquibase_helpers.bash).
bats_require_minimum_version 1.5.0

load import_helpers
load liquibase_helpers

IMPORT_FORMAT=liquibase
LB_EXCLUDE=--exclude-table=public.databasechangelog*

setup_file() {
    import_setup_file tcp || return 1
    liquibase_install
}
teardown_file() { import_teardown_file; }
setup() { import_setup; }

@test "liquibase: check reads the example in Liquibase's order" {
    run_sealift check -d src --from liquibase
    assert_exit 0
    refute_errors
    assert_line --index 0 '13 migrations in src (liquibase): 0 recorded in src/sealift.sum, 13 new'
    # include, the master's own changeset, then includeAll: whole paths sorted, so the folder
    # "a 10 trigger/" comes before "b-view.sql"; the Oracle-only changeset is left out.
    assert_line --index 1 'new: order-status_the status of an order (recorded by the next build)'
    assert_line --index 4 'new: orders (recorded by the next build)'
    assert_line --index 6 'new: order-total_order_total(order) in cents (recorded by the next build)'
    assert_line --index 7 'new: customers-updated-at (recorded by the next build)'
    assert_line --index 13 'new: customers-email-lowercase (recorded by the next build)'
    assert_line 'ignored: README.md'
    refute_line --partial 'only-on-oracle'
}

@test "liquibase: --from auto says what it found" {
    run_sealift check -d src --from auto
    assert_exit 0
    assert_stderr 'sealift: detected liquibase (changelog changelog.xml) in src'
}

@test "liquibase: the real Liquibase and sealift-apply leave the same schema; rollbacks agree" {
    import_db_setup
    liquibase_db_setup
    build_example
    run_sealift inspect app.sealift
    assert_line --regexp '^ +11 +customers-name-index +no-tx +no-tx +-$'
    newdb ref
    liquibase ref update
    assert_apply_matches ref "$LB_EXCLUDE"
    # Liquibase rolls back its last 5 changesets; sealift rolls back to the 8th migration.
    liquibase ref rollbackCount 5
    run_apply rollback app.sealift -p release.pub -d "dbname=$(dbn applied)" --to order-summaries
    assert_exit 0
    refute_errors
    assert_same_schema applied ref "$LB_EXCLUDE"
    assert_rollback_to_base
}

@test "liquibase: --contexts and --labels select changesets as Liquibase does" {
    import_db_setup
    liquibase_db_setup
    # seed-products is context "!test", label "seed".
    run_sealift check -d src --from liquibase --contexts test
    assert_exit 0
    assert_line --index 0 '12 migrations in src (liquibase): 0 recorded in src/sealift.sum, 12 new'
    refute_line --partial 'seed-products'
    run_sealift check -d src --from liquibase --labels '!seed'
    assert_exit 0
    refute_line --partial 'seed-products'
    run_sealift check -d src --from liquibase --labels 'seed and !x'
    assert_line --index 0 '13 migrations in src (liquibase): 0 recorded in src/sealift.sum, 13 new'
    build_example --contexts test
    newdb ctx
    apply_bundle ctx
    newdb ref
    liquibase ref --contexts=test update
    assert_same_schema ctx ref "$LB_EXCLUDE"
    run q2 ctx 'SELECT count(*) FROM products'
    assert_output 0
}

q2() {
    psql -X -At -v ON_ERROR_STOP=1 -d "$(dbn "$1")" -c "$2"
}

@test "liquibase: --changelog names the master; two masters at the top need it" {
    cp src/changelog.xml src/other.xml
    run_sealift check -d src --from liquibase
    assert_exit 1
    assert_stderr 'sealift: error: several changelogs at the top of "src" ("changelog.xml", "other.xml"); give the master one with --changelog FILE'
    run_sealift check -d src --from liquibase --changelog changes/001-base.sql
    assert_exit 0
    assert_line --index 0 '3 migrations in src (liquibase): 0 recorded in src/sealift.sum, 3 new'
    run_sealift check -d src --from liquibase --changelog missing.xml
    assert_exit 1
    assert_stderr 'sealift: error: changelog "src/missing.xml" not found'
}

@test "liquibase: abstract change types and runAlways are refused naming the changeset" {
    cat >src/changes/later/d-more.xml <<'XML'
<databaseChangeLog>
    <changeSet id="t" author="dee">
        <createTable tableName="t"><column name="id" type="int"/></createTable>
    </changeSet>
</databaseChangeLog>
XML
    printf -- '--liquibase formatted sql\n--changeset dee:grants runAlways:true\nGRANT SELECT ON products TO PUBLIC;\n' \
        >src/changes/later/e-always.sql
    SEALIFT_LIQUIBASE=/nonexistent/liquibase run_sealift check -d src --from liquibase
    assert_exit 1
    assert_stderr 'sealift: error: src/changes/later/d-more.xml:2: changeset dee:t uses the change type <createTable>, which only Liquibase can render as SQL: install Liquibase (on PATH, or SEALIFT_LIQUIBASE=COMMAND) to render it, or write it as <sql> (for example from "liquibase update-sql")'
    assert_stderr 'changeset dee:grants is runAlways: Liquibase runs it on every update, but a bundle runs each migration once'
}

@test "liquibase: runOnChange changesets are repeatables keyed and summed as Liquibase records them" {
    import_db_setup
    liquibase_db_setup
    printf -- '--liquibase formatted sql\n\n--changeset dee:cheap-products runOnChange:true\nCREATE OR REPLACE VIEW cheap_products AS SELECT sku FROM products WHERE price_cents < 400;\n--rollback DROP VIEW cheap_products;\n\n--changeset dee:product-count runOnChange:true\nCREATE OR REPLACE VIEW product_count AS SELECT count(*) AS n FROM products;\n' \
        >src/changes/later/f-views.sql
    cat >src/changes/later/g-views.xml <<'XML'
<?xml version="1.0" encoding="UTF-8"?>
<databaseChangeLog xmlns="http://www.liquibase.org/xml/ns/dbchangelog"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
    xsi:schemaLocation="http://www.liquibase.org/xml/ns/dbchangelog http://www.liquibase.org/xml/ns/dbchangelog/dbchangelog-4.3.xsd">
    <changeSet id="dear-products" author="dee" runOnChange="true">
        <sql>CREATE OR REPLACE VIEW dear_products AS SELECT sku FROM products WHERE price_cents >= 400</sql>
    </changeSet>
</databaseChangeLog>
XML
    build_example
    run_sealift inspect --json app.sealift
    jq -r '.repeatables[].origin' <<<"$output" | sort >ours
    assert_equal "$(wc -l <ours)" 3
    assert_equal "$(jq -r '.migrations | length' <<<"$output")" 13
    # Liquibase's own key and MD5SUM for each, as DATABASECHANGELOG records them.
    newdb ref
    liquibase ref update
    theirs() {
        psql -X -At -d "$(dbn ref)" -c "SELECT author || ':' || id || '@' || filename || ' ' || md5sum FROM databasechangelog WHERE id IN ('cheap-products', 'product-count', 'dear-products')" | sort
    }
    assert_equal "$(theirs)" "$(cat ours)"
    # sealift-apply runs them as Liquibase did: the same schema.
    assert_apply_matches ref "$LB_EXCLUDE"

    # An edit: Liquibase runs the changeset again and records its new MD5SUM; the rebuilt
    # bundle's repeatable has that MD5SUM, the others are as they were.
    sed -i 's/price_cents < 400/price_cents < 500/' src/changes/later/f-views.sql
    run_sealift check -d src --from liquibase
    assert_exit 0
    assert_line 'repeatable: dee:cheap-products@changes/later/f-views.sql (changed)'
    assert_line 'repeatable: dee:product-count@changes/later/f-views.sql (unchanged)'
    build_example
    run_sealift inspect --json app.sealift
    jq -r '.repeatables[].origin' <<<"$output" | sort >ours.2
    liquibase ref update
    assert_equal "$(theirs)" "$(cat ours.2)"
    run diff ours ours.2
    assert_equal "$(grep -c '^[<>]' <<<"$output")" 2
    assert_line --regexp '^> dee:cheap-products@changes/later/f-views.sql 8:[0-9a-f]{32}$'
    # Applied again, the changed one runs again: the schema follows Liquibase's.
    apply_bundle applied
    assert_same_schema applied ref "$LB_EXCLUDE"
    grep -q 'price_cents < 500' schema.applied || fail "the changed view was not run again"
}

@test "liquibase: abstract change types are rendered by Liquibase when it is installed" {
    import_db_setup
    liquibase_db_setup
    cat >src/changes/later/d-abstract.xml <<'XML'
<?xml version="1.0" encoding="UTF-8"?>
<databaseChangeLog xmlns="http://www.liquibase.org/xml/ns/dbchangelog"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
    xsi:schemaLocation="http://www.liquibase.org/xml/ns/dbchangelog http://www.liquibase.org/xml/ns/dbchangelog/dbchangelog-4.3.xsd">
    <changeSet id="coupons" author="dee">
        <createTable tableName="coupons">
            <column name="code" type="varchar(20)"><constraints primaryKey="true"/></column>
            <column name="cents" type="int" defaultValueNumeric="0"/>
        </createTable>
    </changeSet>
    <changeSet id="coupons-note" author="dee">
        <addColumn tableName="coupons"><column name="note" type="text"/></addColumn>
        <sql>UPDATE coupons SET note = 'none'</sql>
        <rollback>ALTER TABLE coupons DROP COLUMN note;</rollback>
    </changeSet>
</databaseChangeLog>
XML
    SEALIFT_LIQUIBASE=/nonexistent/liquibase run_sealift check -d src --from liquibase
    assert_exit 1
    assert_stderr 'changeset dee:coupons uses the change type <createTable>'
    export SEALIFT_LIQUIBASE=$LIQUIBASE_DIST/liquibase/liquibase
    build_example
    run_sealift inspect app.sealift
    assert_line --regexp '^ +14 +coupons +tx +tx +-$'
    newdb ref
    liquibase ref update
    assert_apply_matches ref "$LB_EXCLUDE"
    # Liquibase's automatic rollback of createTable, and the explicit one.
    liquibase ref rollbackCount 2
    run_apply rollback app.sealift -p release.pub -d "dbname=$(dbn applied)" --to customers-email-lowercase
    assert_exit 0
    assert_same_schema applied ref "$LB_EXCLUDE"
}

@test "liquibase: a changeset without rollback needs --allow-irreversible" {
    printf -- '--liquibase formatted sql\n--changeset dee:norollback\nCREATE TABLE nr (id int);\n' \
        >src/changes/later/e-norollback.sql
    run_sealift check -d src --from liquibase
    assert_exit 1
    assert_stderr 'changeset dee:norollback has no rollback'
    run_sealift check -d src --from liquibase --allow-irreversible
    assert_exit 0
}

@test "liquibase: an include loop and a missing include are errors naming the line" {
    printf '<databaseChangeLog>\n<include file="changelog.xml"/>\n<include file="nowhere.sql"/>\n</databaseChangeLog>\n' \
        >src/changes/later/loop.xml
    run_sealift check -d src --from liquibase
    assert_exit 1
    assert_stderr 'sealift: error: src/changes/later/loop.xml:2: include loop: "changelog.xml" includes itself'
    assert_stderr 'sealift: error: src/changes/later/loop.xml:3: included changelog "nowhere.sql" not found'
}
