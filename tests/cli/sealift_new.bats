#!/usr/bin/env bats
# sealift new: the next migration pair, versioned by the UTC time, and the chain's sealift.sum.
bats_require_minimum_version 1.5.0

load helpers

setup() {
    sealift_setup
}

# The version of the migration whose up file path is on stdout line $1 (0-based).
version_on_line() {
    local file=${lines[$1]##*/}
    printf '%s\n' "${file%%_*}"
}

@test "new creates VERSION_SLUG.up.sql and .down.sql with a 14-digit UTC version" {
    before=$(date -u +%Y%m%d%H%M%S)
    run_sealift new add_users
    after=$(date -u +%Y%m%d%H%M%S)
    assert_exit 0
    refute_errors

    # Line 0 announces sealift.sum; then the two new files.
    assert_regex "${lines[1]}" '^migrations/[0-9]{14}_add_users\.up\.sql$'
    version=$(version_on_line 1)
    assert_equal "${lines[2]}" "migrations/${version}_add_users.down.sql"
    assert [ "$version" -ge "$before" ]
    assert [ "$version" -le "$after" ]
    assert [ -f "migrations/${version}_add_users.up.sql" ]
    assert [ -f "migrations/${version}_add_users.down.sql" ]
    assert grep -qF -- '-- sealift:no-transaction' "migrations/${version}_add_users.up.sql"
}

@test "new creates sealift.sum on first use, named after the project directory" {
    mkdir shop
    run_sealift new -d shop/migrations add_users
    assert_exit 0
    assert_line --index 0 'created shop/migrations/sealift.sum (project shop)'
    assert grep -qx 'sealift-sum 1 project=shop migrations=0 head=-' shop/migrations/sealift.sum

    # The second migration leaves the existing sealift.sum alone.
    sum_before=$(tree_state shop/migrations | grep sealift.sum)
    run_sealift new -d shop/migrations add_orders
    assert_exit 0
    refute_line --partial 'created'
    assert_equal "$(tree_state shop/migrations | grep sealift.sum)" "$sum_before"
}

@test "new --project names the project in a new sealift.sum" {
    run_sealift new --project billing add_invoices
    assert_exit 0
    assert_line --index 0 'created migrations/sealift.sum (project billing)'
    assert grep -qx 'sealift-sum 1 project=billing migrations=0 head=-' migrations/sealift.sum

    run_sealift new --project 'not valid' x
    assert_usage_error new "project name must be 1-64 letters, digits, '.', '_' or '-'"
}

@test "new called several times in the same second gives increasing versions" {
    run_sealift new first
    assert_exit 0
    previous=$(version_on_line 1)
    for slug in second third fourth; do
        run_sealift new "$slug"
        assert_exit 0
        version=$(version_on_line 0)
        assert [ "$version" -gt "$previous" ]
        previous=$version
    done
    assert_equal "$(find migrations -name '*.up.sql' | wc -l)" 4
}

@test "new never sorts before an existing migration, even with a skewed clock" {
    add_migration migrations 99990101000000_from_the_future 'SELECT 1;' 'SELECT 1;'

    run_sealift new add_users
    assert_exit 0
    assert_line 'migrations/99990101000001_add_users.up.sql'
    assert [ -f migrations/99990101000001_add_users.down.sql ]
}

@test "the new pair passes check as it is" {
    run_sealift new add_users
    assert_exit 0
    version=$(version_on_line 1)

    run_sealift check
    assert_exit 0
    refute_errors
    assert_line "new: ${version}_add_users (recorded by the next build)"
}

@test "new refuses a bad slug with exit 2 and creates nothing" {
    for slug in 'bad slug' '../escape' 'x.sql' ''; do
        run_sealift new "$slug"
        assert_usage_error new "slug \"$slug\" must be letters, digits, '_' and '-'"
    done
    assert [ ! -e migrations ]
}

@test "new needs exactly one slug" {
    run_sealift new
    assert_usage_error new 'expected one SLUG (a short name such as add_users)'
    run_sealift new one two
    assert_usage_error new 'expected one SLUG (a short name such as add_users)'
    run_sealift new --bogus x
    assert_usage_error new 'unrecognized option "--bogus"'
    # A long name is printed whole (a 64-byte buffer cut it to another name).
    long=--$(printf 'o%.0s' {1..90})
    run_sealift new "$long=1" x
    assert_usage_error new "unrecognized option \"$long\""
}

@test "new reports a directory it cannot create" {
    : >not-a-dir
    run_sealift new -d not-a-dir/migrations add_users
    assert_exit 2
    assert_error 'could not create directory "not-a-dir/migrations": Not a directory'
}

@test "new refuses a version past the native limit instead of cutting it" {
    # 32 nines: the next version has 33 digits. Cut to fit, it would sort first.
    add_migration migrations 99999999999999999999999999999999_last 'SELECT 1;' 'SELECT 1;'

    run_sealift new add_users
    assert_exit 1
    assert_error 'the version after 99999999999999999999999999999999 would have more than 32 digits, the most a native version has'
    assert [ ! -e migrations/1000000000000000000000000000000_add_users.up.sql ]
    run ls migrations
    refute_output --partial add_users
}

@test "new --no-transaction marks the up and down files; the bundle runs them outside a transaction" {
    run_sealift new --no-transaction add_index
    assert_exit 0
    version=$(version_on_line 1)
    base=migrations/${version}_add_index
    assert_equal "${lines[2]}" "$base.down.sql"
    assert_equal "$(head -1 "$base.up.sql")" '-- sealift:no-transaction'
    assert_equal "$(head -1 "$base.down.sql")" '-- sealift:no-transaction'
    echo 'CREATE TABLE t (a int); CREATE INDEX CONCURRENTLY t_a ON t (a);' >>"$base.up.sql"
    echo 'DROP INDEX CONCURRENTLY t_a; DROP TABLE t;' >>"$base.down.sql"
    build_bundle b.sealift
    run_sealift inspect b.sealift
    assert_line --regexp "^ +1 +$version +add_index +no-tx +no-tx +-$"
}

@test "new --irreversible marks the up file and writes no down file; build accepts it" {
    run_sealift new --irreversible drop_legacy
    assert_exit 0
    version=$(version_on_line 1)
    assert_equal "${#lines[@]}" 2
    assert_equal "${lines[1]}" "migrations/${version}_drop_legacy.up.sql"
    assert [ ! -e "migrations/${version}_drop_legacy.down.sql" ]
    assert_equal "$(head -1 "migrations/${version}_drop_legacy.up.sql")" '-- sealift:irreversible'
    echo 'SELECT 1;' >>"migrations/${version}_drop_legacy.up.sql"
    build_bundle b.sealift
    run_sealift inspect b.sealift
    assert_line --regexp "^ +1 +$version +drop_legacy +tx +irreversible +-$"
}

@test "new --verify writes the verify file too, and build carries it" {
    run_sealift new --verify --no-transaction add_users
    assert_exit 0
    version=$(version_on_line 1)
    base=migrations/${version}_add_users
    assert_equal "${lines[3]}" "$base.verify.sql"
    assert [ -f "$base.verify.sql" ]
    # A verify script takes no directives.
    refute grep -q '^-- sealift:' "$base.verify.sql"
    echo 'CREATE TABLE users (id int);' >>"$base.up.sql"
    echo 'DROP TABLE users;' >>"$base.down.sql"
    echo 'SELECT 1 / count(*) FROM users;' >>"$base.verify.sql"
    build_bundle b.sealift
    run_sealift inspect b.sealift
    assert_line --regexp "^ +1 +$version +add_users +no-tx +no-tx +yes$"
}

@test "new --help lists the new options" {
    run_sealift new --help
    assert_exit 0
    assert_output --partial '--no-transaction'
    assert_output --partial '--irreversible'
    assert_output --partial '--verify'
    assert_output --partial '--repeatable    write R__SLUG.sql'
    assert_output --partial 'sealift new [-d DIR] [--project NAME] [--no-transaction] --repeatable SLUG'
}

@test "new --repeatable writes R__NAME.sql; check and build take the chain with it" {
    run_sealift new --repeatable views
    assert_exit 0
    refute_errors
    assert_line --index 0 'created migrations/sealift.sum (project work)'
    assert_line --index 1 'migrations/R__views.sql'
    assert_equal "${#lines[@]}" 2
    # Nothing versioned, no down, no verify: the one file.
    run ls migrations
    assert_output "$(printf 'R__views.sql\nsealift.sum')"
    refute grep -q '^-- sealift:' migrations/R__views.sql

    run_sealift check
    assert_exit 0
    refute_errors
    assert_line 'repeatable: views (new)'

    # With a versioned migration beside it, and one outside a transaction.
    run_sealift new add_users
    assert_exit 0
    version=$(version_on_line 0)
    echo 'CREATE TABLE users (id int, name text);' >>"migrations/${version}_add_users.up.sql"
    echo 'DROP TABLE users;' >>"migrations/${version}_add_users.down.sql"
    echo 'CREATE OR REPLACE VIEW user_names AS SELECT name FROM users;' >>migrations/R__views.sql
    run_sealift new --no-transaction --repeatable indexes
    assert_exit 0
    assert_equal "$(head -1 migrations/R__indexes.sql)" '-- sealift:no-transaction'
    echo 'CREATE INDEX CONCURRENTLY IF NOT EXISTS users_name ON users (name);' >>migrations/R__indexes.sql
    run_sealift check
    assert_exit 0
    refute_errors
    assert_line 'repeatable: indexes (new)'
    assert_line 'repeatable: views (new)'
    build_bundle b.sealift
    run_sealift inspect b.sealift
    assert_line --regexp '^ +1 +indexes +no-tx +[0-9a-f]{64}$'
    assert_line --regexp '^ +2 +views +tx +[0-9a-f]{64}$'
    # The repeatables do not move the next version: it still follows add_users.
    run_sealift new add_orders
    assert_exit 0
    assert [ "$(version_on_line 0)" -gt "$version" ]
}

@test "new --repeatable refuses an existing file, a bad name, --irreversible and --verify" {
    run_sealift new --repeatable views
    assert_exit 0
    echo 'CREATE VIEW v AS SELECT 1;' >>migrations/R__views.sql
    before=$(tree_state migrations)
    run_sealift new --repeatable views
    assert_exit 1
    assert_error '"migrations/R__views.sql" already exists: edit it (a changed repeatable runs again)'
    assert_equal "$(tree_state migrations)" "$before"

    # The names the native reader would not read as a repeatable.
    for name in 'bad name' '../escape' 'x.sql' ''; do
        run_sealift new --repeatable "$name"
        assert_usage_error new "slug \"$name\" must be letters, digits, '_' and '-'"
    done
    run_sealift new --repeatable --irreversible grants
    assert_usage_error new '--repeatable does not go with --irreversible (a repeatable has no down or verify file)'
    run_sealift new --verify --repeatable grants
    assert_usage_error new '--repeatable does not go with --verify (a repeatable has no down or verify file)'
    assert_equal "$(tree_state migrations)" "$before"
}
