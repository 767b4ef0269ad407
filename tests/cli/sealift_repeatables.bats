#!/usr/bin/env bats
# Repeatable migrations in the compiler: R__NAME.sql in a native chain (Flyway's name), the
# manifest's "# repeatable" records (format 1.2) with their rendered checksums, sealift.sum's
# repeatable lines (an edit is a change, not drift), check's and inspect's report of them, and
# that the applier takes such a bundle (tests/cli/apply_repeatables.bats runs them).
# ${n} is a sealift placeholder, not a shell one.
# shellcheck disable=SC2154,SC2016
bats_require_minimum_version 1.5.0

load helpers

setup() {
    sealift_setup
    make_keypair release
    write_migrations
    printf 'CREATE OR REPLACE VIEW user_names AS SELECT name FROM users;\n' \
        >migrations/R__views.sql
    printf -- '-- sealift:no-transaction\nCREATE OR REPLACE FUNCTION answer() RETURNS int LANGUAGE sql AS $$ SELECT ${n}::int $$;\n' \
        >migrations/R__functions.sql
}

build() {
    run_sealift build -d migrations -s release.key --project demo --set n=42 "$@"
}

manifest_of() {
    mkdir -p "x_$1" && tar -xf "$1" -C "x_$1" && cat "x_$1/MANIFEST"
}

@test "repeatables: built into a version 1.2 manifest in name order, with rendered checksums" {
    build -o app.sealift
    assert_exit 0
    refute_errors
    run manifest_of app.sealift
    assert_line --index 0 '# sealift-manifest 1.2'
    # After the migrations, by name: functions before views.
    run grep -n '^# repeatable ' x_app.sealift/MANIFEST
    assert_line --index 0 --regexp '^[0-9]+:# repeatable functions$'
    assert_line --index 1 --regexp '^[0-9]+:# repeatable views$'
    # The checksum is of the rendered script (the placeholder filled in), which is the member.
    grep -q 'SELECT 42::int' x_app.sealift/repeatables/000001_functions.sql
    sum=$(sha256sum <x_app.sealift/repeatables/000001_functions.sql | cut -d' ' -f1)
    run grep -A3 '^# repeatable functions$' x_app.sealift/MANIFEST
    assert_line --index 1 --regexp "^# up no-tx [0-9a-f]{64} repeatables/000001_functions.sql$"
    assert_line "# checksum $sum"
    # sha256sum checks every member, the repeatables' too.
    (cd x_app.sealift && sha256sum --strict --quiet -c MANIFEST)
    run_sealift verify -p release.pub app.sealift
    assert_exit 0
}

@test "repeatables: a chain without them still builds a version 1 manifest" {
    rm migrations/R__*.sql
    # Without the lint's records (add_email's ADD COLUMN has a blocking-lock finding: 1.1).
    build -o app.sealift --lint off
    assert_exit 0
    run manifest_of app.sealift
    assert_line --index 0 '# sealift-manifest 1'
    refute_output --partial 'repeatable'
}

@test "repeatables: sealift.sum records them; an edited one is a change, not drift" {
    build -o first.sealift
    assert_exit 0
    run grep '^repeatable ' migrations/sealift.sum
    assert_line --index 0 --regexp '^repeatable functions up=[0-9a-f]{64}:no-tx$'
    assert_line --index 1 "repeatable views up=$(sha256sum <migrations/R__views.sql | cut -d' ' -f1):tx"
    run_sealift check -d migrations --set n=42
    assert_exit 0
    assert_line 'repeatable: functions (unchanged)'
    assert_line 'repeatable: views (unchanged)'

    printf 'CREATE OR REPLACE VIEW user_names AS SELECT id, name FROM users;\n' \
        >migrations/R__views.sql
    run_sealift check -d migrations --set n=42
    assert_exit 0
    refute_errors
    assert_line 'repeatable: views (changed)'
    build -o second.sealift
    assert_exit 0
    refute_errors
    assert_equal "$stderr" 'sealift: recorded the changed repeatable migrations in migrations/sealift.sum: commit it'
    run grep '^repeatable views ' migrations/sealift.sum
    assert_output "repeatable views up=$(sha256sum <migrations/R__views.sql | cut -d' ' -f1):tx"
    # The versioned history did not move: same head, same serial.
    run_sealift inspect second.sealift
    assert_line 'serial       2'
    assert_line --regexp '^repeatables  2 '
    assert_line --regexp '^     2  views  +tx  +[0-9a-f]{64}$'

    # A new repeatable is a change too; a removed one drops its line.
    rm migrations/R__functions.sql
    printf 'GRANT SELECT ON users TO PUBLIC;\n' >migrations/R__grants.sql
    run_sealift check -d migrations
    assert_line 'repeatable: grants (new)'
    build -o third.sealift
    assert_exit 0
    run grep '^repeatable ' migrations/sealift.sum
    assert_line --index 0 --regexp '^repeatable grants '
    assert_line --index 1 --regexp '^repeatable views '
    refute_line --partial 'functions'
}

@test "repeatables: a hand-edited repeatable line in sealift.sum is refused" {
    build -o app.sealift
    assert_exit 0
    sed -i 's/^repeatable views up=\([0-9a-f]*\):tx$/repeatable views up=\1:maybe/' migrations/sealift.sum
    run_sealift check -d migrations --set n=42
    assert_exit 1
    assert_error_regex 'migrations/sealift.sum:[0-9]+: malformed repeatable line'
}

@test "repeatables: placeholders, directives and SQL are checked like a versioned script's" {
    run_sealift check -d migrations
    assert_exit 1
    assert_error 'migrations/R__functions.sql'
    assert_error '${n}'
    printf 'CREATE OR REPLACE VIEW broken AS SELEC 1;\n' >migrations/R__broken.sql
    run_sealift check -d migrations --set n=1
    assert_exit 1
    assert_error 'migrations/R__broken.sql'
    rm migrations/R__broken.sql
    printf -- '-- sealift:irreversible\nSELECT 1;\n' >migrations/R__marked.sql
    run_sealift check -d migrations --set n=1
    assert_exit 1
    assert_error 'migrations/R__marked.sql'
}

@test "repeatables: a data file is refused, an R__ name with other characters is no migration" {
    printf -- '-- sealift:data rows.csv\nCOPY users FROM STDIN;\n' >migrations/R__load.sql
    run_sealift check -d migrations --set n=1
    assert_exit 1
    assert_error 'migrations/R__load.sql: a repeatable migration cannot load a data file ("-- sealift:data rows.csv"): put the data inline after the COPY'
    rm migrations/R__load.sql
    printf 'SELECT 1;\n' >'migrations/R__bad name.sql'
    run_sealift check -d migrations --set n=1
    assert_exit 1
    assert_error 'migrations/R__bad name.sql: not a migration file name (expected VERSION_SLUG.up.sql, .down.sql or .verify.sql, or R__SLUG.sql for a repeatable'
}

@test "repeatables: sealift-apply verifies such a bundle and goes on to the database" {
    build -o app.sealift
    assert_exit 0
    run --separate-stderr "$SEALIFT_BIN/sealift-apply" verify -p release.pub app.sealift
    assert_equal "$status" 0
    # Past verification (no refusal of the repeatables): it is the connection that fails.
    run --separate-stderr "$SEALIFT_BIN/sealift-apply" status -p release.pub -d 'host=/nonexistent' app.sealift
    assert_equal "$status" 6
    refute [ -z "$stderr" ]
    [[ $stderr != *repeatable* ]]
}
