#!/usr/bin/env bats
# Keys that change: "sealift key rotate" and "key revoke" write statements signed by the keys
# that are current; bundles carry them (build --rotation, --revocation); an applier that
# trusts the old key accepts the successor's bundles through a valid rotation chain, journals
# the rotation, and from then on refuses bundles signed only by the retired key; a revoked key
# is refused for good; "sealift-apply keys" shows what the database recorded. Real servers,
# real keys (unencrypted test keys, as the other suites make them).

bats_require_minimum_version 1.5.0

load apply_helpers

setup_file() { apply_setup_file; }
teardown_file() { apply_teardown_file; }
setup() {
    apply_setup
    must "$SEALIFT" keygen -W -p next.pub -s next.key
    must "$SEALIFT" keygen -W -p third.pub -s third.key
}
teardown() { apply_teardown; }

keyid() {
    "$SEALIFT" verify "$2" -p "$1" | sed -n 's/.*signed by \([0-9A-F]\{16\}\).*/\1/p'
}

# build_with KEY OUT [BUILD_OPTION...]: build m as project demo, signed by KEY.
build_with() {
    local key=$1 out=$2
    shift 2
    rm -f m/sealift.sum
    must "$SEALIFT" build -d m -s "$key" -o "$out" --project demo "$@"
}

# A first bundle applied with the release key; REL and NEXT hold the key ids.
first_apply() {
    three_migrations
    build_with release.key b1.sealift
    must "$APPLY" apply b1.sealift -p release.pub
    REL=$(keyid release.pub b1.sealift)
    build_with next.key n.sealift
    NEXT=$(keyid next.pub n.sealift)
    [ -n "$REL" ] && [ -n "$NEXT" ] || fail "no key ids"
}

@test "key rotate writes a statement that stock minisign verifies with the old key" {
    run --separate-stderr "$SEALIFT" key rotate -s release.key --new next.pub -o rot.txt \
        --comment 'yearly rotation: 2027' --from-serial 4
    assert_success
    assert_output --regexp '^wrote rot.txt: rotation of key [0-9A-F]{16} to key [0-9A-F]{16} from serial 4, 1 signature$'
    run sed -n 1,8p rot.txt
    assert_line --index 0 'sealift-key-statement 1'
    assert_line --index 1 'kind rotation'
    assert_line --index 4 'from-serial 4'
    assert_line --index 5 'comment yearly%20rotation:%202027'
    assert_line --index 7 'end'
    sed '/^end$/q' rot.txt >body
    sed '1,/^end$/d' rot.txt >body.minisig
    if command -v minisign >/dev/null; then
        run minisign -Vm body -x body.minisig -p release.pub
        assert_success
        assert_output --partial 'kind=rotation'
        run minisign -Vm body -x body.minisig -p next.pub
        assert_failure
    fi
    # Usage errors.
    run --separate-stderr "$SEALIFT" key rotate -s release.key -o x.txt
    assert_failure 2
    [[ $stderr == *"key rotate needs --new PUBLIC_KEY"* ]]
    run --separate-stderr "$SEALIFT" key rotate -s release.key --new release.pub -o x.txt
    assert_failure 2
    run --separate-stderr "$SEALIFT" key revoke NOTAKEYID -s release.key -o x.txt
    assert_failure 2
    [[ $stderr == *"KEYID must be 16 uppercase hex digits"* ]]
    run --separate-stderr "$SEALIFT" key frobnicate
    assert_failure 2
    [ ! -e x.txt ]
}

@test "build refuses a statement that is not canonical or not signed" {
    three_migrations
    must "$SEALIFT" key rotate -s release.key --new next.pub -o rot.txt
    sed 's/^from-serial 0$/from-serial 1/' rot.txt >edited.txt
    run --separate-stderr "$SEALIFT" build -d m -s release.key -o x.sealift --project demo --rotation edited.txt
    assert_failure 1
    [[ $stderr == *"edited.txt: key statement: signature 1's trusted comment does not describe it"* ]] || fail "$stderr"
    sed '/^end$/q' rot.txt >unsigned.txt
    run --separate-stderr "$SEALIFT" build -d m -s release.key -o x.sealift --project demo --rotation unsigned.txt
    assert_failure 1
    [[ $stderr == *"key statement is not signed"* ]] || fail "$stderr"
    run --separate-stderr "$SEALIFT" build -d m -s release.key -o x.sealift --project demo --rotation rot.txt --rotation rot.txt
    assert_failure 1
    [[ $stderr == *"the same key statement is given twice"* ]]
    [ ! -e x.sealift ]
}

@test "a bundle signed by the new key with the rotation is accepted, the rotation journaled, the old key then refused" {
    first_apply
    must "$SEALIFT" key rotate -s release.key --new next.pub -o rot.txt --comment 'scheduled'
    mig m 004_more 'CREATE TABLE more (id int);' 'DROP TABLE more;'
    build_with next.key b2.sealift --rotation rot.txt
    run "$SEALIFT" inspect b2.sealift
    assert_line --regexp "^key statements  keys/01-rotation-$REL.txt$"
    # The longest label sets where every value starts.
    assert_line --regexp '^serial {10}[0-9]+$'
    assert_line --regexp "^signatures {6}$NEXT not checked"

    # Without the rotation, the new key is just an unknown key.
    build_with next.key bare.sealift
    run --separate-stderr "$APPLY" apply bare.sealift -p release.pub
    assert_failure 1
    [[ $stderr == *"no signature by a trusted key (signed by $NEXT)"* ]] || fail "$stderr"

    run --separate-stderr "$APPLY" verify b2.sealift -p release.pub
    assert_success
    assert_output --partial "signed by $NEXT"
    run --separate-stderr "$APPLY" apply b2.sealift -p release.pub
    assert_success
    assert_line 'recorded 1 key statement in the journal'
    assert_sql "SELECT count(*) FROM sealift.applied" 4
    assert_sql "SELECT event || ' ' || (detail LIKE 'sealift-key-statement 1%kind rotation%retires $REL%') FROM sealift.journal WHERE event = 'rotation'" 'rotation true'
    run --separate-stderr "$APPLY" history --verify
    assert_success
    assert_line --regexp "^ +4  .*  rotation .*kind rotation, retires $REL, key RW[A-Za-z0-9+/=]+, from-serial 0, comment scheduled, created [0-9T:-]+Z$"

    # From now on, for this database, the retired key alone is refused...
    mig m 005_last 'CREATE TABLE last (id int);' 'DROP TABLE last;'
    build_with release.key old.sealift
    run --separate-stderr "$APPLY" apply old.sealift -p release.pub
    assert_failure 1
    [[ $stderr == *"bundle: 0 signatures by current keys for this database, fewer than the threshold of 1"* ]] || fail "$stderr"
    [[ $stderr == *"detail: key $REL was retired on "*"(replaced by $NEXT from serial 0)"* ]] || fail "$stderr"
    assert_sql "SELECT count(*) FROM sealift.applied" 4
    # ... even when it still carries the rotation (which is known, not journaled again).
    build_with release.key old2.sealift --rotation rot.txt
    run --separate-stderr "$APPLY" apply old2.sealift -p release.pub
    assert_failure 1
    # ... while a fresh database still takes it (the rotation is this database's).
    must "$SEALIFT_PG_BIN/createdb" "${PGDATABASE}_other"
    run --separate-stderr "$APPLY" apply old.sealift -p release.pub -d "dbname=${PGDATABASE}_other"
    assert_success
    # The successor's next bundle, still carrying the rotation, applies; it is not recorded twice.
    build_with next.key b3.sealift --rotation rot.txt
    run --separate-stderr "$APPLY" apply b3.sealift -p release.pub
    assert_success
    refute_output --partial 'key statement'
    assert_sql "SELECT count(*) FROM sealift.journal WHERE event = 'rotation'" 1
}

@test "a rotation chain of two steps, and a statement not signed by a current key" {
    first_apply
    must "$SEALIFT" key rotate -s release.key --new next.pub -o r1.txt
    must "$SEALIFT" key rotate -s next.key --new third.pub -o r2.txt
    mig m 004_more 'CREATE TABLE more (id int);' 'DROP TABLE more;'
    build_with third.key b2.sealift --rotation r1.txt --rotation r2.txt
    run --separate-stderr "$APPLY" apply b2.sealift -p release.pub
    assert_success
    assert_line 'recorded 2 key statements in the journal'
    # Out of order, the second link has no current signer: the bundle is refused.
    build_with third.key bad.sealift --rotation r2.txt --rotation r1.txt
    must "$SEALIFT_PG_BIN/createdb" "${PGDATABASE}_b"
    run --separate-stderr "$APPLY" apply bad.sealift -p release.pub -d "dbname=${PGDATABASE}_b"
    assert_failure 1
    # A rotation by a key nobody here trusts (other -> third) does not make third trusted.
    must "$SEALIFT" key rotate -s other.key --new third.pub -o foreign.txt
    build_with third.key f.sealift --rotation foreign.txt
    run --separate-stderr "$APPLY" apply f.sealift -p release.pub -d "dbname=${PGDATABASE}_b"
    assert_failure 1
    [[ $stderr == *"no signature by a trusted key (signed by"* ]] || fail "$stderr"
}

@test "with --threshold 2 a rotation needs two current keys, each counted once" {
    three_migrations
    build_with release.key b1.sealift
    must "$SEALIFT" sign b1.sealift -s other.key
    must "$APPLY" apply b1.sealift -p release.pub -p other.pub --threshold 2
    REL=$(keyid release.pub b1.sealift)

    must "$SEALIFT" key rotate -s release.key --new next.pub -o one.txt
    mig m 004_more 'CREATE TABLE more (id int);' 'DROP TABLE more;'
    build_with next.key b2.sealift --rotation one.txt
    must "$SEALIFT" sign b2.sealift -s other.key
    run --separate-stderr "$APPLY" apply b2.sealift -p release.pub -p other.pub --threshold 2
    assert_failure 1
    [[ $stderr == *"rotation of key $REL is signed by 1 current key, fewer than the threshold of 2"* ]] || fail "$stderr"
    # The same key twice is refused when the statement is written.
    run --separate-stderr "$SEALIFT" key rotate -s release.key -s release.key --new next.pub -o twice.txt
    assert_failure 1
    [[ $stderr == *"is given twice"* ]]

    must "$SEALIFT" key rotate -s release.key -s other.key --new next.pub -o two.txt
    build_with next.key b3.sealift --rotation two.txt
    # Signed by next alone: one current key, threshold 2.
    run --separate-stderr "$APPLY" apply b3.sealift -p release.pub -p other.pub --threshold 2
    assert_failure 1
    must "$SEALIFT" sign b3.sealift -s other.key
    run --separate-stderr "$APPLY" apply b3.sealift -p release.pub -p other.pub --threshold 2
    assert_success
    assert_sql "SELECT count(*) FROM sealift.applied" 4
}

@test "a revocation signed by the current keys makes a key refused for this database for good" {
    three_migrations
    build_with release.key b1.sealift
    must "$APPLY" apply b1.sealift -p release.pub -p other.pub
    build_with other.key o.sealift
    OTHER=$(keyid other.pub o.sealift)
    run --separate-stderr "$SEALIFT" key revoke "$OTHER" -s release.key -o rev.txt --comment 'laptop stolen'
    assert_success
    assert_output "wrote rev.txt: revocation of key $OTHER, 1 signature"

    mig m 004_more 'CREATE TABLE more (id int);' 'DROP TABLE more;'
    build_with release.key b2.sealift --revocation rev.txt
    run --separate-stderr "$APPLY" apply b2.sealift -p release.pub -p other.pub
    assert_success
    assert_line 'recorded 1 key statement in the journal'
    assert_sql "SELECT count(*) FROM sealift.journal WHERE event = 'revocation' AND detail LIKE '%comment laptop%20stolen%'" 1

    # A bundle signed by the revoked key alone, carrying nothing: refused here, forever.
    mig m 005_last 'CREATE TABLE last (id int);' 'DROP TABLE last;'
    build_with other.key o2.sealift
    run --separate-stderr "$APPLY" apply o2.sealift -p release.pub -p other.pub
    assert_failure 1
    [[ $stderr == *"detail: key $OTHER was revoked on "* ]] || fail "$stderr"
    assert_sql "SELECT count(*) FROM sealift.applied" 4
    # A bundle carrying the revocation is refused by any applier, even without a database.
    build_with other.key o3.sealift --revocation rev.txt
    run --separate-stderr "$APPLY" verify o3.sealift -p release.pub -p other.pub
    assert_failure 1
    [[ $stderr == *"key $OTHER was revoked on"* ]] || fail "$stderr"
}

@test "keys shows the key state the database recorded (text and --json); a forged row is ignored" {
    first_apply
    run --separate-stderr "$APPLY" keys
    assert_success
    assert_output 'no key rotations or revocations recorded in schema "sealift"'
    must "$SEALIFT" key rotate -s release.key --new next.pub -o rot.txt --from-serial 4
    mig m 004_more 'CREATE TABLE more (id int);' 'DROP TABLE more;'
    build_with next.key b2.sealift --rotation rot.txt --serial 4
    must "$APPLY" apply b2.sealift -p release.pub
    build_with release.key o.sealift
    run --separate-stderr "$APPLY" keys -p release.pub
    assert_success
    assert_line --regexp "^key $REL  retired   on [0-9T:-]+Z, replaced by $NEXT  \(trusted key given\)$"
    assert_line --regexp "^key $NEXT  current   since [0-9T:-]+Z, signs serial 4 and later$"
    run --separate-stderr "$APPLY" keys --json
    assert_success
    assert_line --regexp "^\{\"event\":\"key\",\"key_id\":\"$REL\",\"state\":\"retired\",\"trusted_key_given\":false,\"since\":\"[0-9T:-]+Z\",\"from_serial\":0,\"successor\":\"$NEXT\"\}$"
    assert_line --regexp "^\{\"event\":\"key\",\"key_id\":\"$NEXT\",\"state\":\"current\",.*\"from_serial\":4,\"successor\":null\}$"

    # A DBA inserts a rotation of next to a key of their own, signed by that key: with the
    # trusted key given it does not verify and is ignored.
    must "$SEALIFT" key rotate -s third.key --new other.pub -o forged.txt
    sed "s/^retires .*/retires $NEXT/" forged.txt >forged2.txt
    sql "INSERT INTO sealift.journal (seq, project, at, event, signers, actor, detail, prev_hash, hash)
         SELECT max(seq) + 1, 'demo', now(), 'rotation', '-', 'mallory', \$\$$(cat forged2.txt)\$\$, '0', '0' FROM sealift.journal"
    run --separate-stderr "$APPLY" keys -p release.pub
    assert_success
    [[ $stderr == *"key statement ignored"* ]] || fail "$stderr"
    assert_line --regexp "^key $NEXT  current"
    # And the next bundle by next still applies.
    mig m 005_last 'CREATE TABLE last (id int);' 'DROP TABLE last;'
    build_with next.key b3.sealift --rotation rot.txt --serial 5
    run --separate-stderr "$APPLY" apply b3.sealift -p release.pub
    assert_success
}

@test "a successor key signs only bundles from its serial on" {
    first_apply
    must "$SEALIFT" key rotate -s release.key --new next.pub -o rot.txt --from-serial 10
    mig m 004_more 'CREATE TABLE more (id int);' 'DROP TABLE more;'
    build_with next.key early.sealift --rotation rot.txt
    run --separate-stderr "$APPLY" apply early.sealift -p release.pub
    assert_failure 1
    build_with next.key late.sealift --rotation rot.txt --serial 10
    run --separate-stderr "$APPLY" apply late.sealift -p release.pub
    assert_success
}

@test "the old key's last bundle can carry the rotation: it signs serials below --from-serial" {
    first_apply
    must "$SEALIFT" key rotate -s release.key --new next.pub -o rot.txt --from-serial 5
    mig m 004_more 'CREATE TABLE more (id int);' 'DROP TABLE more;'
    build_with release.key last-old.sealift --rotation rot.txt --serial 4
    run --separate-stderr "$APPLY" apply last-old.sealift -p release.pub
    assert_success
    assert_line 'recorded 1 key statement in the journal'
    mig m 005_last 'CREATE TABLE last (id int);' 'DROP TABLE last;'
    build_with release.key old5.sealift --serial 5
    run --separate-stderr "$APPLY" apply old5.sealift -p release.pub
    assert_failure 1
    [[ $stderr == *"key $REL was retired on "*"(replaced by $NEXT from serial 5)"* ]] || fail "$stderr"
    build_with next.key new5.sealift --rotation rot.txt --serial 5
    run --separate-stderr "$APPLY" apply new5.sealift -p release.pub
    assert_success
    assert_sql "SELECT count(*) FROM sealift.applied" 5
}
