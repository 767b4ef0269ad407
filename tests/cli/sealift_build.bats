#!/usr/bin/env bats
# sealift build: compile, record the new migrations in sealift.sum, sign, write the bundle;
# reproducibly, and never against the recorded history.
# run sets stderr; ${schema} is a sealift placeholder, not a shell one.
# shellcheck disable=SC2154,SC2016
bats_require_minimum_version 1.5.0

load helpers

setup() {
    sealift_setup
    make_keypair release
    write_migrations
}

build() {
    run_sealift build -d migrations -s release.key --project demo "$@"
}

# sha256 of a file, as sealift.sum and the messages print it (the files here are LF, no BOM).
sha_of() {
    sha256sum <"$1" | cut -d' ' -f1
}

# A recorded chain: build once and keep the first bundle.
build_recorded() {
    build_bundle first.sealift
}

# build and check both refuse the current source with exit 1 and the given message.
assert_build_and_check_refuse() {
    run_sealift check -d migrations
    assert_exit 1
    assert_error "$1"
    build -o app.sealift
    assert_exit 1
    assert_error "$1"
    assert_error 'nothing was built'
    assert [ ! -e app.sealift ]
}

@test "build writes the bundle and records the new migrations in sealift.sum" {
    # The lint's findings (a blocking-lock info for add_email's ADD COLUMN) are
    # tests/cli/sealift_lint.bats' business: without them, stderr is the record line alone.
    build -o app.sealift --lint off
    assert_exit 0
    assert_output "built app.sealift: project demo, serial 2, 2 migrations, head $V2, signed by $(key_id release.pub)"
    assert_equal "$stderr" 'sealift: recorded 2 new migrations in migrations/sealift.sum: commit it'

    assert grep -q "^sealift-sum 1 project=demo migrations=2 head=[0-9a-f]\{64\} source=native\$" migrations/sealift.sum
    assert grep -q "^${V1%%_*} ${V1#*_} up=$(sha_of "migrations/$V1.up.sql"):tx down=$(sha_of "migrations/$V1.down.sql"):tx verify=- chain=" migrations/sealift.sum
    assert grep -q "^${V2%%_*} ${V2#*_} up=" migrations/sealift.sum

    run_sealift verify app.sealift -p release.pub
    assert_exit 0
    run_sealift check -d migrations
    assert_exit 0
    assert_line --index 0 '2 migrations in migrations (native): 2 recorded in migrations/sealift.sum, 0 new'
}

@test "a second build changes no file in the source tree" {
    build -o first.sealift --lint off
    assert_exit 0
    before=$(tree_state migrations)

    build -o second.sealift --lint off
    assert_exit 0
    refute_errors
    assert_equal "$stderr" ''
    assert_equal "$(tree_state migrations)" "$before"
}

@test "SOURCE_DATE_EPOCH makes bundles byte-identical, for every compression" {
    export SOURCE_DATE_EPOCH=1700000000
    for c in zstd gzip none; do
        build -o "a.$c" --compression "$c"
        assert_exit 0
        build -o "b.$c" --compression "$c"
        assert_exit 0
        assert cmp "a.$c" "b.$c"
        run_sealift inspect "a.$c"
        assert_exit 0
        # add_email's ADD COLUMN has a finding (blocking-lock): manifest 1.1.
        assert_line "format       sealift bundle v1.1, $c, $(stat -c %s "a.$c") bytes"
        assert_line 'created      2023-11-14T22:13:20Z'
    done
    # Every member has the fixed mtime, owner and mode.
    run tar --numeric-owner -tvf a.none
    assert_success
    assert_equal "${#lines[@]}" 6
    for line in "${lines[@]}"; do
        assert_regex "$line" '^-rw-r--r-- 0/0 +[0-9]+ 2023-11-14 22:13 '
    done
}

@test "a bundle larger than one compression job is the same bytes on one CPU as on all of them" {
    # Migrations are read and parsed on a pool of threads, and zstd compresses in 1 MiB jobs
    # on threads of its own: neither may make the bytes depend on the machine's cores.
    local i
    export SOURCE_DATE_EPOCH=1700000000
    for i in $(seq 10 69); do
        awk -v t="t$i" 'BEGIN { printf "CREATE TABLE %s (id int, v text);\n", t
            for (r = 0; r < 800; r++) printf "INSERT INTO %s VALUES (%d, md5(\x27%s%d\x27));\n", t, r, t, r }' \
            >"migrations/202501010000${i}_t$i.up.sql"
        printf 'DROP TABLE t%s;\n' "$i" >"migrations/202501010000${i}_t$i.down.sql"
    done
    build -o all.sealift
    assert_exit 0
    [ "$(tar --zstd -xOf all.sealift | wc -c)" -gt $((3 * 1048576)) ]
    cp migrations/sealift.sum recorded.sum
    run taskset -c 0 "$SEALIFT_BIN/sealift" build -d migrations -s release.key --project demo \
        -o one.sealift
    assert_success
    assert cmp all.sealift one.sealift
    assert cmp migrations/sealift.sum recorded.sum
}

@test "a bad SOURCE_DATE_EPOCH is an environment error" {
    SOURCE_DATE_EPOCH=yesterday build -o app.sealift
    assert_exit 2
    assert_error 'SOURCE_DATE_EPOCH must be a number of seconds since 1970'
    assert [ ! -e migrations/sealift.sum ]
}

@test "editing a recorded migration fails check and build, naming both checksums" {
    build_recorded
    was=$(sha_of "migrations/$V1.up.sql")
    echo 'CREATE INDEX ON users (name);' >>"migrations/$V1.up.sql"
    now=$(sha_of "migrations/$V1.up.sql")

    assert_build_and_check_refuse "migrations/$V1.up.sql: edited after it was recorded in migrations/sealift.sum (recorded sha256 $was, now $now)"
}

@test "changing a recorded migration's transaction mode fails" {
    build_recorded
    add_migration migrations 20240103000000_idx 'CREATE INDEX i ON users (name);' 'DROP INDEX i;'
    build_bundle second.sealift
    # The same statement, now outside a transaction: a different script.
    printf -- '-- sealift:no-transaction\nCREATE INDEX i ON users (name);\n' \
        >migrations/20240103000000_idx.up.sql

    assert_build_and_check_refuse 'migrations/20240103000000_idx.up.sql: edited after it was recorded'
}

@test "removing a recorded migration fails" {
    build_recorded
    rm "migrations/$V2".*

    assert_build_and_check_refuse "migration $V2 is recorded in migrations/sealift.sum but its files are gone (a released migration must never be removed)"
}

@test "removing the down file of a recorded migration fails" {
    build_recorded
    rm "migrations/$V2.down.sql"
    printf -- '-- sealift:irreversible\nALTER TABLE users ADD COLUMN email text;\n' \
        >"migrations/$V2.up.sql"

    assert_build_and_check_refuse "migration $V2: its down script was removed after it was recorded in migrations/sealift.sum"
}

@test "renaming a recorded migration's slug fails" {
    build_recorded
    for kind in up down; do
        mv "migrations/$V2.$kind.sql" "migrations/20240102000000_add_mail.$kind.sql"
    done

    assert_build_and_check_refuse 'migration 20240102000000 was renamed from "add_email" to "add_mail" after it was recorded in migrations/sealift.sum'
}

@test "a new migration that sorts before the last recorded one is refused" {
    build_recorded
    add_migration migrations 20240101120000_late_branch 'SELECT 1;' 'SELECT 1;'

    assert_build_and_check_refuse "migrations/20240101120000_late_branch.up.sql: new migration 20240101120000 sorts before the last recorded migration $V2; give it a later version than 20240102000000"
}

@test "--frozen refuses new migrations and passes when there are none" {
    build -o app.sealift --frozen
    assert_exit 1
    assert_error '2 migrations are not recorded in migrations/sealift.sum, and --frozen forbids recording them'
    assert_hint 'run "sealift build" without --frozen and commit migrations/sealift.sum'
    assert [ ! -e app.sealift ]
    assert [ ! -e migrations/sealift.sum ]

    build_recorded
    before=$(tree_state migrations)
    build -o app.sealift --frozen
    assert_exit 0
    refute_errors
    assert_equal "$(tree_state migrations)" "$before"

    add_migration migrations 20240103000000_more 'SELECT 1;' 'SELECT 1;'
    build -o app.sealift --frozen
    assert_exit 1
    assert_error '1 migration is not recorded in migrations/sealift.sum'
}

@test "--env binds the bundle to an environment, shown by inspect" {
    build -o app.sealift --env production
    assert_exit 0
    run_sealift inspect app.sealift -p release.pub
    assert_exit 0
    assert_line 'environment  production'
    run_sealift inspect app.sealift --json
    assert_output --partial '"environment":"production"'
    assert_output --partial 'env=production'

    build -o any.sealift
    run_sealift inspect any.sealift
    assert_line 'environment  (any)'
}

@test "--serial sets the serial; the default is the number of recorded migrations" {
    build -o default.sealift
    run_sealift inspect default.sealift
    assert_line 'serial       2'

    build -o seven.sealift --serial 7
    assert_exit 0
    assert_output --partial 'serial 7,'
    run_sealift inspect seven.sealift
    assert_line 'serial       7'
    # The signed trusted comment carries it too.
    run_sealift inspect seven.sealift --json
    assert_output --partial '"serial":7,'
    assert_output --partial 'serial=7 '
}

@test "bad build options are usage errors" {
    build -o app.sealift --serial -1
    assert_usage_error build '--serial must be a non-negative integer'
    build -o app.sealift --serial 12abc
    assert_usage_error build '--serial must be a non-negative integer'
    build -o app.sealift --env 'pro duction'
    assert_usage_error build "environment name must be 1-64 letters, digits, '.', '_' or '-'"
    build -o app.sealift --compression lz4
    assert_usage_error build '--compression must be zstd, gzip or none'
    run_sealift build -d migrations -s release.key
    assert_usage_error build 'both -s SECRET_KEY and -o OUT are required'
    build -o app.sealift stray
    assert_usage_error build 'unexpected argument "stray"'
    assert [ ! -e migrations/sealift.sum ]
}

@test "a missing secret key is an environment error and records nothing" {
    run_sealift build -d migrations -s no-such.key -o app.sealift
    assert_exit 2
    assert_error 'could not open secret key file "no-such.key": No such file or directory'
    assert [ ! -e migrations/sealift.sum ]
}

@test "an unwritable output is an environment error and records nothing" {
    build -o no-such-dir/app.sealift --lint off
    assert_exit 2
    assert_error 'could not create file "no-such-dir/app.sealift.tmp.'
    assert_equal "${#stderr_lines[@]}" 1
    assert [ ! -e no-such-dir ]
    # The migrations were not released, so they are still new (and still editable).
    assert [ ! -e migrations/sealift.sum ]

    build_recorded
    before=$(tree_state migrations)
    add_migration migrations 20240103000000_more 'SELECT 1;' 'SELECT 1;'
    build -o no-such-dir/app.sealift
    assert_exit 2
    run_sealift check -d migrations
    assert_line --index 0 '3 migrations in migrations (native): 2 recorded in migrations/sealift.sum, 1 new'
}

@test "checked scripts wait in an unnamed file in TMPDIR; a TMPDIR that cannot take it is an environment error" {
    # Between their check and the archive, the rendered scripts are on disk, not in memory: the
    # members are still the scripts byte for byte, and no file is left behind.
    mkdir tmp
    TMPDIR=$PWD/tmp build -o app.sealift
    assert_exit 0
    for v in "$V1" "$V2"; do
        local n=1
        [ "$v" = "$V1" ] || n=2
        for k in up down; do
            tar -xOf app.sealift "migrations/00000${n}_$v/$k.sql" | cmp - "migrations/$v.$k.sql" ||
                fail "member $k.sql of $v differs from its script"
        done
    done
    assert_equal "$(ls -A tmp)" ''

    rm -f migrations/sealift.sum
    TMPDIR=$PWD/no-such-dir build -o again.sealift
    assert_exit 2
    assert_error "could not create a temporary file in \"$PWD/no-such-dir\": No such file or directory"
    assert [ ! -e again.sealift ]
    assert [ ! -e migrations/sealift.sum ]
}

@test "a chain with problems builds nothing and records nothing" {
    add_migration migrations 20240103000000_broken 'SELEC 1;' 'SELECT 1;'
    build -o app.sealift
    assert_exit 1
    assert_error 'syntax error at or near "SELEC"'
    assert_problems 1
    assert_error 'nothing was built'
    assert [ ! -e app.sealift ]
    assert [ ! -e migrations/sealift.sum ]
}

@test "an empty chain builds nothing" {
    mkdir empty
    run_sealift build -d empty -s release.key -o app.sealift
    assert_exit 1
    assert_error 'no migrations in "empty"; nothing to build'
    assert [ ! -e app.sealift ]
}

@test "placeholders are rendered into the bundle; the source checksum is recorded" {
    add_migration migrations 20240103000000_orders 'CREATE TABLE ${schema}.orders (id int);' \
        'DROP TABLE ${schema}.orders;'
    build -o app.sealift --set schema=app
    assert_exit 0

    member=migrations/000003_20240103000000_orders/up.sql
    assert_equal "$(tar -xOf app.sealift "$member")" 'CREATE TABLE app.orders (id int);'
    assert grep -q "up=$(sha_of migrations/20240103000000_orders.up.sql):tx" migrations/sealift.sum

    # Another value renders differently but is the same recorded source.
    before=$(tree_state migrations)
    build -o staging.sealift --set schema=staging
    assert_exit 0
    assert_equal "$(tar -xOf staging.sealift "$member")" 'CREATE TABLE staging.orders (id int);'
    assert_equal "$(tree_state migrations)" "$before"
}

@test "placeholders: \$\${name} is a literal \${name}; undefined ones in comments stay; strings and bodies are rendered" {
    add_migration migrations 20240103000000_orders $'-- creates ${schema}.orders\n/* ${schema} /* nested ${x} */ still */\nCREATE TABLE ${schema}.orders (note text DEFAULT \'$${schema}\', n text DEFAULT \'${schema}\');\nCREATE FUNCTION ${schema}.f() RETURNS text LANGUAGE sql AS $$ SELECT \'-- ${schema}\' $$;' \
        'DROP TABLE ${schema}.orders; -- ${undefined_in_comment}'
    build -o app.sealift --set schema=app
    assert_exit 0
    refute_errors
    member=migrations/000003_20240103000000_orders/up.sql
    assert_equal "$(tar -xOf app.sealift "$member")" $'-- creates app.orders\n/* app /* nested ${x} */ still */\nCREATE TABLE app.orders (note text DEFAULT \'${schema}\', n text DEFAULT \'app\');\nCREATE FUNCTION app.f() RETURNS text LANGUAGE sql AS $$ SELECT \'-- app\' $$;'
    assert_equal "$(tar -xOf app.sealift migrations/000003_20240103000000_orders/down.sql)" 'DROP TABLE app.orders; -- ${undefined_in_comment}'
}

@test "a hand-edited sealift.sum is refused" {
    build_recorded
    cp migrations/sealift.sum good.sum

    # One digit of a recorded checksum.
    line=$(sed -n 4p good.sum)
    digit=${line#* up=}
    digit=${digit:0:1}
    if [ "$digit" = 0 ]; then other=1; else other=0; fi
    sed -i "4s/ up=$digit/ up=$other/" migrations/sealift.sum
    assert [ "$(sed -n 4p migrations/sealift.sum)" != "$line" ]
    assert_build_and_check_refuse "migrations/sealift.sum:4: chain hash does not match the line's contents (the file was edited by hand)"

    # A line dropped from the end.
    sed '$d' good.sum >migrations/sealift.sum
    assert_build_and_check_refuse 'migrations/sealift.sum: header says 2 migrations and a head hash that the lines do not match (a bad merge or a hand edit?)'

    # A missing final newline.
    head -c -1 good.sum >migrations/sealift.sum
    assert_build_and_check_refuse 'migrations/sealift.sum:5: last line has no newline (hand-edited?)'

    # Not a sum file at all.
    printf 'hello\n' >migrations/sealift.sum
    assert_build_and_check_refuse 'migrations/sealift.sum:1: not a sealift.sum header line'
}

# Git with no user or system configuration, and no hooks.
git_() {
    GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1 git -c user.name=test \
        -c user.email=test@example.invalid -c core.hooksPath=/dev/null \
        -c init.defaultBranch=main -c merge.conflictStyle=merge "$@"
}

@test "two branches that each add and build a migration conflict in sealift.sum" {
    command -v git >/dev/null || skip 'git is not installed'
    must git_ init -q repo
    mv migrations repo/
    cd repo
    must "$SEALIFT" build -d migrations -s ../release.key -o ../base.sealift --project demo
    must git_ add migrations
    must git_ commit -qm base

    must git_ checkout -qb feature-a
    add_migration migrations 20240201000000_add_phone 'ALTER TABLE users ADD COLUMN phone text;' \
        'ALTER TABLE users DROP COLUMN phone;'
    must "$SEALIFT" build -d migrations -s ../release.key -o ../a.sealift
    must git_ add migrations
    must git_ commit -qm 'add phone'

    must git_ checkout -q main
    must git_ checkout -qb feature-b
    add_migration migrations 20240202000000_add_city 'ALTER TABLE users ADD COLUMN city text;' \
        'ALTER TABLE users DROP COLUMN city;'
    must "$SEALIFT" build -d migrations -s ../release.key -o ../b.sealift
    must git_ add migrations
    must git_ commit -qm 'add city'

    run git_ merge feature-a
    assert_failure
    assert_output --partial 'CONFLICT (content): Merge conflict in migrations/sealift.sum'

    # And the conflicted file is refused rather than half-read.
    run_sealift check -d migrations
    assert_exit 1
    assert_error 'migrations/sealift.sum:'
}

@test "build --amend ID re-records an edited released migration, with warnings" {
    build_recorded
    printf -- '-- fixed\n' >>"migrations/$V1.up.sql"
    build -o fixed.sealift
    assert_exit 1
    assert_error "migrations/$V1.up.sql: edited after it was recorded"
    build -o fixed.sealift --amend "$V1"
    assert_exit 0
    assert_warning "--amend ${V1%%_*}: up script changed (recorded sha256"
    assert_warning "--amend ${V1%%_*}: 1 later released migration changes its chain hash too"
    assert [ -n "$(echo "$stderr" | grep -F 'sealift: re-recorded the amended migration in migrations/sealift.sum: commit it')" ]
    # The recorded history now matches the edited file: plain check and build pass again.
    run_sealift check -d migrations
    assert_exit 0
    build -o again.sealift --frozen
    assert_exit 0
}

@test "build --amend accepts ID_NAME, refuses an unknown id and --frozen" {
    build_recorded
    printf -- '-- fixed\n' >>"migrations/$V2.up.sql"
    run_sealift check -d migrations --amend "$V2"
    assert_exit 0
    run_sealift check -d migrations --amend 99999999999999
    assert_exit 1
    assert_error '--amend 99999999999999: no such migration in migrations'
    build -o x.sealift --amend "$V2" --frozen
    assert_usage_error build 'cannot specify both --frozen and --amend'
}
