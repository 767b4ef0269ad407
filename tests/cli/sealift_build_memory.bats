#!/usr/bin/env bats
# sealift build, check and lint of a migration with pg_dump's inline COPY data: the script is
# held once (read and normalised in place, its own rendering when it has no placeholder) and
# its data never reaches the SQL parser, so peak memory stays close to the script's size.
# Data after the statements is cut out of what the parser reads: positions in messages, the
# statement ranges and the data's range are still those of the script.
bats_require_minimum_version 1.5.0

load helpers

setup() {
    sealift_setup
    make_keypair release
    mkdir -p m
}

# big_migration ROWS: m/001_big, one inline COPY of ROWS rows of about 128 bytes between
# statements (a placeholder-free script: it is its own rendering).
big_migration() {
    {
        printf '%s\n' 'CREATE TABLE big (id int, v text);' 'COPY big (id, v) FROM stdin;'
        awk -v n="$1" 'BEGIN {
            pad = sprintf("%0100d", 0)
            for (i = 1; i <= n; i++)
                printf "%d\trow %s %d; COMMIT; \\.\n", i, pad, i
        }'
        printf '%s\n' '\.' 'CREATE INDEX big_id ON big (id);'
    } >m/001_big.up.sql
    echo 'DROP TABLE big;' >m/001_big.down.sql
}

# peak_kib CMD...: run CMD under GNU time; fails unless it exits 0; prints its peak RSS in KiB.
peak_kib() {
    /usr/bin/time -f %M -o rss.txt "$@" >out.txt 2>err.txt ||
        fail "$* failed: $(cat err.txt)"
    tail -n 1 rss.txt
}

@test "a 64 MiB inline COPY migration builds, checks and lints with peak RSS under 1.5x its size" {
    [ -x /usr/bin/time ] || skip "GNU time is not installed (Debian package time: scripts/install-deps)"
    [ -z "${SEALIFT_ASAN:-}" ] || skip "sanitizer build: its allocator and shadow memory add to RSS"
    local size bound kib
    big_migration 500000
    size=$(stat -c %s m/001_big.up.sql)
    [ "$size" -gt 64000000 ] || fail "the script is too small: $size bytes"
    # Before: 4.3x (the file, its normalised copy, its rendering, a blanked copy, the parser's).
    bound=$((size * 3 / 2 / 1024))

    kib=$(peak_kib "$SEALIFT" check -d m --project demo)
    [[ $kib =~ ^[0-9]+$ ]] || fail "no peak RSS: $kib"
    [ "$kib" -lt "$bound" ] || fail "check: peak RSS $kib KiB is not under $bound KiB"
    kib=$(peak_kib "$SEALIFT" lint -d m --project demo)
    [ "$kib" -lt "$bound" ] || fail "lint: peak RSS $kib KiB is not under $bound KiB"
    kib=$(peak_kib "$SEALIFT" build -d m -s release.key -o b.sealift --project demo)
    [ "$kib" -lt "$bound" ] || fail "build: peak RSS $kib KiB is not under $bound KiB"

    # The member is the script byte for byte; statements and the data range are the script's.
    tar -xOf b.sealift migrations/000001_001_big/up.sql | cmp - m/001_big.up.sql ||
        fail "the member differs from the script"
    local man start
    man=$(tar -xOf b.sealift MANIFEST)
    start=$(head -n 2 m/001_big.up.sql | wc -c)
    # The data runs to the "\." line; the CREATE INDEX line (33 bytes) follows that.
    grep -qx "# copy up 1 inline $start $((size - start - 3 - 33))" <<<"$man" ||
        fail "no copy line for the data at $start: $(grep '^# copy' <<<"$man")"
    grep -qx "# statement up $((size - 33)) 31" <<<"$man" ||
        fail "the CREATE INDEX is not at $((size - 33)): $(grep '^# statement' <<<"$man")"
}

@test "after inline data, messages name the script's lines and columns, as the parser never saw the data" {
    printf '%s\n' 'CREATE TABLE a (id int);' 'COPY a (id) FROM stdin; -- the rows' '1' 'COMMIT;' \
        '\.' '' '  SELEC 1;' >m/001_a.up.sql
    echo 'DROP TABLE a;' >m/001_a.down.sql
    run_sealift check -d m
    assert_exit 1
    assert_error 'm/001_a.up.sql:7:3: syntax error at or near "SELEC"'
    printf '%s\n' 'CREATE TABLE a (id int);' 'COPY a (id) FROM stdin;' '1' '\.' 'BEGIN;' \
        'COPY a (id) FROM stdin;' '2' '\.' 'SELECT (1' >m/001_a.up.sql
    run_sealift check -d m
    assert_exit 1
    assert_error 'm/001_a.up.sql:10:1: syntax error at end of input'
    sed -i 's/SELECT (1/SELECT 1;/' m/001_a.up.sql
    run_sealift check -d m
    assert_exit 1
    assert_error 'm/001_a.up.sql:5:1: BEGIN is not allowed in a migration: sealift runs each migration in its own transaction'
    printf '%s\n' 'CREATE TABLE a (id int);' 'COPY a (id) FROM stdin;' '1' '\.' '\set x 1' >m/001_a.up.sql
    run_sealift check -d m
    assert_exit 1
    assert_error 'm/001_a.up.sql:5:1: psql meta-command "\set" is not supported (sealift sends SQL to the server, not to psql)'
}

@test "a COPY that loads a data file may follow inline data: its directive is read past that data" {
    mkdir -p m/001_a.data
    printf '%s\n' 'CREATE TABLE a (id int);' 'COPY a (id) FROM stdin;' '1' '2' '\.' \
        '-- sealift:data more.csv' 'COPY a (id) FROM stdin WITH (FORMAT csv);' >m/001_a.up.sql
    echo 'DROP TABLE a;' >m/001_a.down.sql
    printf '3\n' >m/001_a.data/more.csv
    run_sealift build -d m -s release.key -o b.sealift --project demo --compression none
    assert_exit 0
    run tar -xOf b.sealift MANIFEST
    assert_line --regexp '^# copy up 1 inline 49 4$'
    assert_line "# copy up 2 file $(sha256sum <m/001_a.data/more.csv | cut -d' ' -f1) data/000001_1_more.csv"
}
