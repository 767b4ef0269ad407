#!/usr/bin/env bats
# Liquibase runOnChange changesets compiled as repeatable migrations: formatted SQL, XML and
# YAML changesets become "# repeatable" records named by Liquibase's key "author:id@FILENAME";
# editing one changes its checksum only (sealift.sum records it, check reports it as changed,
# not as drift); a rollback is ignored with a warning; runAlways stays refused. Compiler only:
# no server, no Liquibase.
bats_require_minimum_version 1.5.0

load helpers

setup() {
    sealift_setup
    make_keypair release
    mkdir -p lb/views
    cat >lb/changelog.xml <<'XML'
<?xml version="1.0" encoding="UTF-8"?>
<databaseChangeLog xmlns="http://www.liquibase.org/xml/ns/dbchangelog">
    <include file="tables.sql"/>
    <changeSet id="names" author="dee" runOnChange="true">
        <sql>CREATE OR REPLACE VIEW product_names AS SELECT name FROM products</sql>
    </changeSet>
    <changeSet id="prices" author="dee" runOnChange="true" runInTransaction="false">
        <sqlFile path="views/prices.sql" relativeToChangelogFile="true"/>
    </changeSet>
    <include file="views/more.sql"/>
    <include file="views/grants.yaml"/>
</databaseChangeLog>
XML
    printf -- '--liquibase formatted sql\n--changeset dee:products\nCREATE TABLE products (id int, name text, price int);\n--rollback DROP TABLE products;\n' \
        >lb/tables.sql
    printf 'CREATE OR REPLACE VIEW product_prices AS SELECT name, price FROM products;\n' \
        >lb/views/prices.sql
    cat >lb/views/more.sql <<'SQL'
--liquibase formatted sql

--changeset eve:cheap runOnChange:true
CREATE OR REPLACE VIEW cheap AS SELECT name FROM products WHERE price < 10;
--rollback DROP VIEW cheap;

--changeset eve:dear runOnChange:true
CREATE OR REPLACE VIEW dear AS SELECT name FROM products WHERE price > 100;
SQL
    cat >lb/views/grants.yaml <<'YAML'
databaseChangeLog:
  - changeSet:
      id: grants
      author: fay
      runOnChange: true
      changes:
        - sql:
            sql: GRANT SELECT ON product_names TO PUBLIC
YAML
}

build() {
    run_sealift build -d lb --from liquibase -s release.key --project shop "$@"
}

# repeatable NAME: its sha256 in lb/sealift.sum.
recorded() {
    grep "^repeatable $1 " lb/sealift.sum | sed 's/.* up=\([0-9a-f]*\):.*/\1/'
}

@test "liquibase repeatables: runOnChange changesets build into repeatables named author:id@file" {
    build -o app.sealift
    assert_exit 0
    refute_errors
    assert_warning 'lb/views/more.sql:3: changeset eve:cheap is runOnChange, compiled as a repeatable migration, which has no down: its rollback is ignored'
    run_sealift inspect --json app.sealift
    assert_exit 0
    printf '%s\n' "$output" >inspect.json
    # One versioned migration; the repeatables by name, each with Liquibase's key and MD5SUM.
    run jq -r '.migrations | length' inspect.json
    assert_output 1
    run jq -r '.repeatables[] | [.name, (.origin | split(" ")[0]), (.up.transaction | tostring)] | join("|")' inspect.json
    assert_line --index 0 'dee:names@changelog.xml|dee:names@changelog.xml|true'
    assert_line --index 1 'dee:prices@changelog.xml|dee:prices@changelog.xml|false'
    assert_line --index 2 'eve:cheap@views/more.sql|eve:cheap@views/more.sql|true'
    assert_line --index 3 'eve:dear@views/more.sql|eve:dear@views/more.sql|true'
    assert_line --index 4 'fay:grants@views/grants.yaml|fay:grants@views/grants.yaml|true'
    assert_equal "${#lines[@]}" 5
    run jq -r '.repeatables[].origin | split(" ")[1]' inspect.json
    for l in "${lines[@]}"; do [[ $l =~ ^8:[0-9a-f]{32}$ ]] || fail "not a Liquibase MD5SUM: $l"; done
    # The member is the changeset's SQL alone, not padded to its line in the changelog.
    mkdir x && tar -xf app.sealift -C x
    member=$(jq -r '.repeatables[3].up.member' inspect.json)
    assert_equal "$(cat "x/$member")" 'CREATE OR REPLACE VIEW dear AS SELECT name FROM products WHERE price > 100;'
    assert_equal "$(jq -r '.repeatables[3].checksum' inspect.json)" "$(sha256sum <"x/$member" | cut -d' ' -f1)"
    run_sealift verify -p release.pub app.sealift
    assert_exit 0
}

@test "liquibase repeatables: an edit changes only that repeatable's checksum; check calls it changed" {
    build -o first.sealift
    assert_exit 0
    cp lb/sealift.sum first.sum
    names_before=$(recorded dee:names@changelog.xml)
    cheap_before=$(recorded eve:cheap@views/more.sql)
    dear_before=$(recorded eve:dear@views/more.sql)
    [ -n "$dear_before" ] || fail "eve:dear@views/more.sql is not recorded"
    run_sealift check -d lb --from liquibase
    assert_exit 0
    assert_line 'repeatable: eve:dear@views/more.sql (unchanged)'

    # A longer cheap view (two lines more) above dear in the same file: dear stays as it was.
    sed -i 's/^CREATE OR REPLACE VIEW cheap AS .*/CREATE OR REPLACE VIEW cheap AS\n    SELECT name, price\n    FROM products WHERE price < 10;/' \
        lb/views/more.sql
    run_sealift check -d lb --from liquibase
    assert_exit 0
    refute_errors
    assert_line 'repeatable: eve:cheap@views/more.sql (changed)'
    assert_line 'repeatable: eve:dear@views/more.sql (unchanged)'
    assert_line 'repeatable: dee:names@changelog.xml (unchanged)'
    refute_output --partial 'edited'
    build -o second.sealift
    assert_exit 0
    refute_errors
    assert_equal "$(recorded dee:names@changelog.xml)" "$names_before"
    assert_equal "$(recorded eve:dear@views/more.sql)" "$dear_before"
    [ "$(recorded eve:cheap@views/more.sql)" != "$cheap_before" ] || fail "cheap's checksum did not change"
    # Only its line of sealift.sum moved; the versioned history did not.
    run diff first.sum lb/sealift.sum
    assert_equal "$(grep -c '^[<>]' <<<"$output")" 2
    assert_line --regexp '^< repeatable eve:cheap@views/more.sql '
    run_sealift inspect second.sealift
    assert_line 'serial       1'

    # The versioned changeset edited is drift, as before.
    sed -i 's/price int/price bigint/' lb/tables.sql
    run_sealift check -d lb --from liquibase
    assert_exit 1
    assert_error 'edited after it was recorded in lb/sealift.sum'
}

@test "liquibase repeatables: an XML sqlFile edit is a change; its transaction mode is recorded" {
    build -o first.sealift
    assert_exit 0
    run grep '^repeatable dee:prices@changelog.xml ' lb/sealift.sum
    assert_output --regexp ':no-tx$'
    printf 'CREATE OR REPLACE VIEW product_prices AS SELECT id, name, price FROM products;\n' \
        >lb/views/prices.sql
    run_sealift check -d lb --from liquibase
    assert_exit 0
    refute_errors
    assert_line 'repeatable: dee:prices@changelog.xml (changed)'
    assert_line 'repeatable: dee:names@changelog.xml (unchanged)'
}

@test "liquibase repeatables: their order is by name, with a warning when the changelog differs" {
    printf -- '--liquibase formatted sql\n--changeset zed:1 runOnChange:true\nSELECT 1;\n--changeset amy:1 runOnChange:true\nSELECT 2;\n' \
        >lb/views/more.sql
    run_sealift check -d lb --from liquibase
    assert_exit 0
    assert_warning 'lb/views/more.sql:4: runOnChange changesets run after the other changesets, in name order (author:id@file), not in changelog order: "amy:1@views/more.sql" runs before "zed:1@views/more.sql"'
    # A problem in one names the changeset and the line its SQL starts at.
    printf -- '--liquibase formatted sql\n--changeset amy:1 runOnChange:true\nSELEC 2;\n' \
        >lb/views/more.sql
    run_sealift check -d lb --from liquibase
    assert_exit 1
    assert_error 'lb/views/more.sql (changeset amy:1; its line 1 is line 3):1:1: syntax error at or near "SELEC"'
}

@test "liquibase repeatables: runAlways stays refused, with runOnChange too" {
    printf -- '--liquibase formatted sql\n--changeset eve:always runOnChange:true runAlways:true\nSELECT 1;\n' \
        >lb/views/more.sql
    run_sealift check -d lb --from liquibase
    assert_exit 1
    assert_error 'lb/views/more.sql:2: changeset eve:always is runAlways: Liquibase runs it on every update'
    refute_line --partial 'repeatable: eve:always'
}

@test "liquibase repeatables: a runOnChange changeset twice is refused as Liquibase refuses it" {
    printf -- '--liquibase formatted sql\n--changeset eve:v runOnChange:true\nSELECT 1;\n--changeset eve:v runOnChange:true\nSELECT 2;\n' \
        >lb/views/more.sql
    run_sealift check -d lb --from liquibase
    assert_exit 1
    assert_error 'changeset eve:v appears twice in "views/more.sql"'
}
