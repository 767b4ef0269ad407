#!/usr/bin/env bats
# sealift-apply refuses, before it changes anything: untrusted or damaged bundles, bad usage,
# unreachable databases (without ever showing the password), drift, history the bundle does
# not know, older bundles (serial) and bundles for another environment.

bats_require_minimum_version 1.5.0

load apply_helpers

setup_file() { apply_setup_file; }
teardown_file() { apply_teardown_file; }
setup() { apply_setup; }
teardown() { apply_teardown; }

# The database is exactly as createdb left it.
assert_untouched() {
    assert_no_history
    assert_tables ''
}

@test "a bundle signed by an untrusted key is refused (exit 1) and nothing reaches the database" {
    three_migrations
    bundle m b.sealift
    kid=$(key_id release.pub)

    for verb in apply status plan; do
        run_apply "$verb" b.sealift -p other.pub
        assert_exit 1
        assert_error "b.sealift: MANIFEST: no signature by a trusted key (signed by $kid)"
        assert_output ''
    done
    run_apply stamp b.sealift 003 -p other.pub
    assert_exit 1
    assert_error 'no signature by a trusted key'
    run_apply rollback b.sealift -p other.pub --to base
    assert_exit 1
    assert_error 'no signature by a trusted key'
    assert_untouched

    # Two trusted keys where the bundle has one signature: the threshold is not met.
    run_apply apply b.sealift -p release.pub -p other.pub --threshold 2
    assert_exit 1
    assert_error 'b.sealift'
    assert_untouched
}

@test "a flipped byte in a member of an uncompressed bundle is refused, naming the member" {
    three_migrations
    bundle m b.sealift --compression none
    cp b.sealift bad.sealift
    flip_byte bad.sealift "$(byte_offset bad.sealift 'CREATE TABLE orders')"

    run_apply apply bad.sealift -p release.pub
    assert_exit 1
    assert_error 'bad.sealift: member "migrations/000003_003_orders/up.sql": SHA-256 does not match the manifest'
    assert_untouched

    run_apply status bad.sealift -p release.pub
    assert_exit 1
    assert_error 'SHA-256 does not match the manifest'
    assert_untouched

    # The intact bundle still applies.
    run_apply apply b.sealift -p release.pub
    assert_exit 0
    assert_tables 'orders,users'
}

# The connection is made while the bundle is verified (session.c): a bundle that fails
# verification must close it without a single statement run on it, not even the session's
# SET commands. The server logs every statement of this database; the same log shows the
# statements of an accepted bundle (the check can see them), and pg_stat_database counts the
# refused runs' sessions (the connection was made, so there was something to send on).
@test "a bundle refused by verification runs no statement on the connection made meanwhile" {
    local log=$SEALIFT_PG_DIR/server.log from sessions
    three_migrations
    bundle m b.sealift --compression none
    cp b.sealift bad.sealift
    flip_byte bad.sealift "$(byte_offset bad.sealift 'CREATE TABLE orders')"
    must sql "ALTER DATABASE $PGDATABASE SET log_statement = 'all'" postgres
    sessions=$(sql "SELECT sessions FROM pg_stat_database WHERE datname = '$PGDATABASE'" postgres)

    for verb in apply status; do
        from=$(stat -c %s "$log")
        run_apply "$verb" bad.sealift -p release.pub
        assert_exit 1
        assert_error 'bad.sealift: member "migrations/000003_003_orders/up.sql": SHA-256 does not match the manifest'
        run tail -c +$((from + 1)) "$log"
        refute_output --partial 'statement:'
    done
    for _ in $(seq 100); do
        [ "$(sql "SELECT sessions FROM pg_stat_database WHERE datname = '$PGDATABASE'" \
            postgres)" -ge $((sessions + 2)) ] && break
        sleep 0.05
    done
    assert_sql "SELECT sessions >= $((sessions + 2)) FROM pg_stat_database WHERE datname = '$PGDATABASE'" t
    assert_untouched

    from=$(stat -c %s "$log")
    run_apply status b.sealift -p release.pub
    assert_exit 7
    run tail -c +$((from + 1)) "$log"
    assert_output --partial 'statement: SET standard_conforming_strings = on'
}

@test "a flipped byte in the signed manifest is refused" {
    three_migrations
    bundle m b.sealift --compression none
    flip_byte b.sealift "$(byte_offset b.sealift '# project demo')"

    run_apply apply b.sealift -p release.pub
    assert_exit 1
    assert_error_regex 'b\.sealift: '
    assert_untouched
}

@test "a truncated bundle is refused and the database is untouched" {
    three_migrations
    bundle m b.sealift --compression none
    bundle m z.sealift
    head -c 3000 b.sealift >cut.sealift
    head -c "$(($(stat -c %s z.sealift) - 20))" z.sealift >cutz.sealift

    run_apply apply cut.sealift -p release.pub
    assert_exit 1
    # Where the cut falls depends on the manifest's length: inside a member, the member is named.
    assert_error_regex 'cut\.sealift: ([A-Za-z0-9_./-]+: )?the archive is truncated'
    assert_untouched

    run_apply apply cutz.sealift -p release.pub
    assert_exit 1
    assert_error 'zstd stream is truncated'
    assert_untouched
}

@test "junk appended to a bundle is refused and the database is untouched" {
    three_migrations
    bundle m b.sealift --compression none
    bundle m z.sealift
    printf 'junk\n' >>b.sealift
    printf 'junk\n' >>z.sealift

    run_apply apply b.sealift -p release.pub
    assert_exit 1
    assert_error 'b.sealift: after the last member'
    assert_untouched

    run_apply apply z.sealift -p release.pub
    assert_exit 1
    assert_error 'z.sealift: after the last member: data after the end of the zstd stream'
    assert_untouched
}

@test "a missing bundle file is a usage error (exit 2)" {
    run_apply apply nosuch.sealift -p release.pub
    assert_exit 2
    assert_error 'could not open bundle "nosuch.sealift": No such file or directory'

    run_apply status nosuch.sealift -p release.pub
    assert_exit 2
    assert_error 'could not open bundle "nosuch.sealift"'

    run_apply apply nosuch.sealift -p nosuch.pub
    assert_exit 2
    assert_error 'nosuch.pub'
    assert_untouched
}

@test "an unknown option or command exits 2 with the Try hint" {
    three_migrations
    bundle m b.sealift

    for verb in apply status plan rollback; do
        run_apply "$verb" b.sealift -p release.pub --bogus
        assert_usage_error "$verb" 'unrecognized option "--bogus"'
    done
    # history takes no bundle and no key (-p is itself refused: apply_move.bats).
    run_apply history --bogus
    assert_usage_error history 'unrecognized option "--bogus"'
    run_apply frobnicate b.sealift
    assert_exit 2
    assert_error 'unknown command "frobnicate"'
    assert_hint 'Try "sealift-apply --help" for more information.'

    run_apply apply b.sealift
    assert_usage_error apply 'at least one trusted public key (-p) is required'
    run_apply apply -p release.pub
    assert_usage_error apply 'expected one BUNDLE'
    run_apply apply b.sealift -p release.pub --lock-timeout soon
    assert_usage_error apply '--lock-timeout must be a number of seconds'
    assert_untouched
}

@test "a database that cannot be reached exits 6 and the password never shows" {
    three_migrations
    bundle m b.sealift

    for verb in apply status plan; do
        run_apply "$verb" b.sealift -p release.pub \
            -d "host=127.0.0.1 port=1 dbname=$PGDATABASE user=postgres password=s3cr3t"
        assert_exit 6
        assert_error 'could not connect to the database: connection to server at "127.0.0.1", port 1 failed'
        refute_output --partial s3cr3t
        [[ $stderr != *s3cr3t* ]] || fail "the password is in stderr: $stderr"
    done

    run_apply apply b.sealift -p release.pub -d "postgresql://postgres:s3cr3t@127.0.0.1:1/$PGDATABASE"
    assert_exit 6
    assert_error 'could not connect to the database'
    [[ "$output$stderr" != *s3cr3t* ]] || fail "the password is in the output: $stderr"

    DATABASE_URL="postgres://postgres:s3cr3t@127.0.0.1:1/$PGDATABASE" \
        run_apply history --verify
    assert_exit 6
    assert_error 'could not connect to the database'
    [[ "$output$stderr" != *s3cr3t* ]] || fail "the password is in the output: $stderr"

    # libpq quotes a malformed URI, or the piece it could not decode, in its error.
    for uri in "postgresql://postgres:s3cr3t@[::1/$PGDATABASE" \
        "postgresql://postgres:s3cr3t%zz@localhost/$PGDATABASE"; do
        run_apply status b.sealift -p release.pub -d "$uri"
        assert_exit 6
        assert_error 'could not connect to the database'
        assert_error '****'
        [[ "$output$stderr" != *s3cr3t* ]] || fail "the password is in the output: $stderr"
    done

    # A socket directory with no server in it.
    run_apply status b.sealift -p release.pub -d "host=$BATS_TEST_TMPDIR dbname=x password=s3cr3t"
    assert_exit 6
    assert_error 'could not connect to the database'
    [[ "$output$stderr" != *s3cr3t* ]] || fail "the password is in the output: $stderr"
    assert_untouched
}

@test "drift: an applied migration changed after it ran is refused, naming both checksums" {
    three_migrations
    bundle m b.sealift
    must "$APPLY" apply b.sealift -p release.pub
    old=$(sql "SELECT up_source_sha256 FROM sealift.applied WHERE migration_id = '002'")
    mig m 002_email 'ALTER TABLE users ADD COLUMN email varchar(200);
CREATE INDEX users_email_idx ON users (email);'
    mig m 004_more 'CREATE TABLE more (id int);' 'DROP TABLE more;'
    rebuild m edited.sealift
    new=$(sed -n 's/^002 email up=\([0-9a-f]*\):.*/\1/p' m/sealift.sum)
    [ -n "$old" ] && [ -n "$new" ] && [ "$old" != "$new" ] || fail "checksums: '$old' '$new'"

    run_apply status edited.sealift -p release.pub
    assert_exit 3
    assert_error "the database's history does not match this bundle (drift)"
    assert_detail "migration 002_email was applied with up checksum $old, but the bundle's is $new"

    run_apply apply edited.sealift -p release.pub
    assert_exit 3
    assert_error 'drift'
    assert_detail "migration 002_email was applied with up checksum $old, but the bundle's is $new"
    assert_tables 'orders,users'
    assert_applied 001,002,003

    run_apply rollback edited.sealift -p release.pub --to base
    assert_exit 3
    assert_detail "$old"
    assert_applied 001,002,003

    run_apply status edited.sealift -p release.pub --json
    assert_exit 3
    assert_json_lines
    [ "$(json_field state)" = '"drift"' ]
}

@test "history the bundle does not know: status exits 3, apply is a no-op" {
    three_migrations long
    mig short 001_users "$(cat long/001_users.up.sql)" "$(cat long/001_users.down.sql)"
    mig short 002_email "$(cat long/002_email.up.sql)" "$(cat long/002_email.down.sql)"
    bundle short old.sealift
    bundle long new.sealift
    must "$APPLY" apply new.sealift -p release.pub

    run_apply status old.sealift -p release.pub
    assert_exit 3
    assert_error 'the database has 1 applied migration that this bundle does not know'
    assert_detail 'the database is at 003_orders; this bundle'"'"'s head is 002_email'
    # The database's real head and the migration the bundle does not know are named.
    assert_line --regexp '^applied +2 of 2 \(database at 003_orders\)$'
    assert_line --regexp '^unknown +1 applied migration after this bundle.s head: 003_orders$'

    run_apply status old.sealift -p release.pub --json
    assert_exit 3
    [ "$(json_field head)" = '"003_orders"' ]
    [ "$(json_field unknown)" = '"003_orders"' ]

    run_apply apply old.sealift -p release.pub
    assert_exit 0
    refute_errors
    assert_output 'nothing to apply: the database is at 003_orders, ahead of this bundle (its head is 002_email)'
    assert_applied 001,002,003
    assert_tables 'orders,users'

    run_apply rollback old.sealift -p release.pub --to base
    assert_exit 3
    assert_error 'the database has migrations after this bundle'
    assert_applied 001,002,003
}

@test "rollback protection: a bundle with a lower serial than one applied is refused" {
    mig m 001_users 'CREATE TABLE users (id int);' 'DROP TABLE users;'
    bundle m s10.sealift --serial 10
    mig m 002_more 'CREATE TABLE more (id int);' 'DROP TABLE more;'
    bundle m s5.sealift --serial 5
    must "$APPLY" apply s10.sealift -p release.pub

    run_apply apply s5.sealift -p release.pub
    assert_exit 3
    assert_error 'bundle serial 5 is older than serial 10, already applied to this database (rollback protection)'
    assert_tables users
    assert_applied 001
    assert_sql "SELECT max_serial FROM sealift.projects" 10

    # status agrees with apply: this bundle would be refused.
    run_apply status s5.sealift -p release.pub
    assert_exit 3
    assert_error 'bundle serial 5 is older than serial 10'
    assert_line --regexp '^project +demo, environment \(not bound\), highest serial applied 10$'
    run_apply status s5.sealift -p release.pub --json
    assert_exit 3
    assert_json_lines
    [ "$(json_field state)" = '"refused"' ]
    [ "$(json_field max_serial)" = 10 ]
    # At its own head an older bundle has nothing to refuse.
    run_apply status s10.sealift -p release.pub
    assert_exit 0

    run_apply stamp s5.sealift 002 -p release.pub
    assert_exit 3
    assert_error 'rollback protection'
    assert_applied 001

    # A newer serial goes through.
    bundle m s11.sealift --serial 11
    run_apply apply s11.sealift -p release.pub
    assert_exit 0
    assert_tables 'more,users'
    assert_sql "SELECT max_serial FROM sealift.projects" 11
}

@test "environment binding: a database applied for staging refuses a production bundle" {
    mig m 001_users 'CREATE TABLE users (id int);' 'DROP TABLE users;'
    bundle m staging.sealift --env staging
    mig m 002_more 'CREATE TABLE more (id int);' 'DROP TABLE more;'
    bundle m production.sealift --env production
    bundle m any.sealift
    must "$APPLY" apply staging.sealift -p release.pub

    run_apply status staging.sealift -p release.pub
    assert_exit 0
    assert_line --regexp '^project +demo, environment staging, '

    run_apply apply production.sealift -p release.pub
    assert_exit 3
    assert_error 'this bundle is for environment "production", but the database belongs to "staging"'
    assert_tables users
    assert_applied 001

    run_apply status production.sealift -p release.pub
    assert_exit 3
    assert_error 'this bundle is for environment "production", but the database belongs to "staging"'
    assert_line --regexp '^bundle +production.sealift: serial [0-9]+, environment production, '
    run_apply status production.sealift -p release.pub --json
    assert_exit 3
    assert_json_lines
    [ "$(json_field state)" = '"refused"' ]
    [ "$(json_field environment)" = '"staging"' ]
    [ "$(json_field bundle_environment)" = '"production"' ]

    # A bundle without an environment applies anywhere and leaves the binding as it was.
    run_apply apply any.sealift -p release.pub
    assert_exit 0
    assert_tables 'more,users'
    assert_sql "SELECT environment FROM sealift.projects" staging
}

@test "a bundle without an environment applies to a fresh database and binds nothing" {
    three_migrations
    bundle m any.sealift
    bundle m prod.sealift --env production

    run_apply apply any.sealift -p release.pub
    assert_exit 0
    assert_sql "SELECT coalesce(environment, '(null)') FROM sealift.projects" '(null)'

    run_apply status any.sealift -p release.pub
    assert_exit 0
    assert_line --regexp '^project +demo, environment \(not bound\), '

    # The first bundle with an environment binds it.
    mig m 004_more 'CREATE TABLE more (id int);' 'DROP TABLE more;'
    bundle m prod.sealift --env production
    run_apply apply prod.sealift -p release.pub
    assert_exit 0
    assert_sql "SELECT environment FROM sealift.projects" production
}

@test "a history schema of an unknown version is refused (exit 3) before anything runs" {
    three_migrations
    bundle m b.sealift
    must "$APPLY" apply b.sealift -p release.pub --to 001
    sql "UPDATE sealift.meta SET value = '2' WHERE key = 'history_version'"

    for verb in status apply; do
        run_apply "$verb" b.sealift -p release.pub
        assert_exit 3
        assert_error 'history schema "sealift" has version 2; this sealift-apply knows version 1'
    done
    assert_applied 001
    assert_tables users
}

@test "two projects share one history schema without seeing each other's migrations" {
    three_migrations
    bundle m demo.sealift
    mig other 001_users 'CREATE TABLE other_users (id int);' 'DROP TABLE other_users;'
    must "$SEALIFT" build -d other -s release.key -o other.sealift --project other

    run_apply apply demo.sealift -p release.pub
    assert_exit 0
    # Same migration id "001", another project: not drift, just pending.
    run_apply status other.sealift -p release.pub
    assert_exit 7
    assert_line --regexp '^applied +0 of 1 \(database at base\)$'
    run_apply apply other.sealift -p release.pub
    assert_exit 0
    assert_tables 'orders,other_users,users'

    run_apply status demo.sealift -p release.pub
    assert_exit 0
    run_apply history --verify
    assert_exit 0
    assert_line 'project demo: environment (not bound), highest serial 3, 3 applied, at 003'
    assert_line 'project other: environment (not bound), highest serial 1, 1 applied, at 001'
    assert_line --regexp '^journal intact: 4 rows'

    run_apply rollback other.sealift -p release.pub --to base
    assert_exit 0
    assert_tables 'orders,users'
    assert_sql "SELECT project || ' ' || count(*) FROM sealift.applied GROUP BY project" 'demo 3'
}
