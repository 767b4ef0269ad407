#!/usr/bin/env bats
# The tamper matrix: a real bundle (uncompressed, zstd, gzip), attacked in every way
# tests/cli/tamper/make-cases knows (flipped bytes at many positions of the file and of every
# member; members added, removed, renamed, duplicated, reordered, truncated, padded; trailing
# data and second archives inside and outside the compression; "../" and absolute names,
# links, devices, FIFOs, pax and GNU headers, sparse entries; decompression bombs and
# oversized member headers; signatures re-made, moved, edited, too few; an older serial and
# another environment). For EACH case, "sealift-apply verify" and "sealift-apply apply" must
# exit 1 (the last two: verify 0, apply 3, as PRODUCT.md's exit codes say for database state)
# with an error line naming what is wrong, stay under a memory ceiling and a time limit, and
# leave the database byte for byte as it was: a full pg_dump (schema and data, so the sealift
# history tables' contents too) of a database where an earlier bundle was applied is identical
# before and after. The last test prints "# cases: N, rejected: N, database unchanged: N" and
# fails unless all three are equal.

bats_require_minimum_version 1.5.0

load apply_helpers

# Peak RSS (KiB) and seconds any one run may take. The largest legitimate read is a manifest
# at the format's 64 MiB cap; sanitizers multiply memory and time.
TAMPER_RSS_KIB=$((96 * 1024))
TAMPER_SECONDS=10
if [ -n "${SEALIFT_ASAN:-}" ]; then
    TAMPER_RSS_KIB=$((640 * 1024))
    TAMPER_SECONDS=60
fi

setup_file() {
    apply_setup_file || return 1
    [ -z "${APPLY_SKIP:-}" ] || return 0
    export TAMPER_DIR=$BATS_FILE_TMPDIR/tamper
    mkdir -p "$TAMPER_DIR/ing" && cd "$TAMPER_DIR/ing" || return 1
    cp "$APPLY_KEYS"/* . &&
        "$SEALIFT" keygen -W -p second.pub -s second.key >/dev/null || return 1
    SEALIFT=$SEALIFT "$BATS_TEST_DIRNAME/tamper/make-ingredients" "$TAMPER_DIR/ing" \
        >"$TAMPER_DIR/ingredients.log" 2>&1 || {
        cat "$TAMPER_DIR/ingredients.log" >&2
        return 1
    }
    "$BATS_TEST_DIRNAME/tamper/make-cases" "$TAMPER_DIR/ing" "$TAMPER_DIR/cases" --bombs || return 1
    # The database every test starts from: the earlier bundle applied, so history exists.
    "$SEALIFT_PG_BIN/createdb" tamper_base &&
        "$APPLY" apply "$TAMPER_DIR/ing/prev.tar" -p release.pub -d dbname=tamper_base -q &&
        : >"$TAMPER_DIR/totals"
}

teardown_file() { apply_teardown_file; }

setup() {
    apply_setup
    cp "$TAMPER_DIR/ing/second.pub" . || fail "no second.pub"
    # A copy of the base database for this test, and its dump before any attack.
    must "$SEALIFT_PG_BIN/dropdb" "$PGDATABASE"
    must "$SEALIFT_PG_BIN/createdb" -T tamper_base "$PGDATABASE"
    assert_applied 001,002
    db_dump >before.sql || fail "pg_dump failed"
}

teardown() { apply_teardown; }

# The whole database, schema and data (so the history tables too), in a stable form.
db_dump() {
    # pg_dump 15.14 brackets its output with \restrict KEY ... \unrestrict KEY, a random KEY.
    "$SEALIFT_PG_BIN/pg_dump" --no-comments -d "$PGDATABASE" | grep -v '^\\\(un\)\?restrict '
}

# run_cases ERE: every case whose name matches, each asserted as the header says. Failures
# are collected and reported together, so one run shows every case that is not refused.
run_cases() {
    local name file vexit aexit args pat cmd want n=0 failures=() rss secs line ok changed
    while IFS=$'\t' read -r name file vexit aexit args pat; do
        [[ $name =~ $1 ]] || continue
        n=$((n + 1))
        ok=1
        for cmd in verify apply; do
            want=$vexit
            [ "$cmd" = apply ] && want=$aexit
            [ "$args" = - ] && args=
            # shellcheck disable=SC2086 # args are words
            run --separate-stderr timeout "$((TAMPER_SECONDS * 3))" \
                /usr/bin/time -f '%M %e' -o time.out "$APPLY" "$cmd" "$TAMPER_DIR/cases/$file" \
                -p release.pub $args
            # GNU time puts "Command exited with non-zero status N" first.
            read -r rss secs < <(tail -n 1 time.out 2>/dev/null) || { rss=0 secs=0; }
            [[ $rss =~ ^[0-9]+$ ]] || rss=0
            if [ "$status" -ne "$want" ]; then
                failures+=("$name: $cmd exited $status, not $want: ${stderr_lines[*]:0:2}")
                ok=0
                continue
            fi
            if [[ $stderr$output =~ (AddressSanitizer|LeakSanitizer|runtime\ error:|internal\ error|INTERNAL\ ERROR) ]]; then
                failures+=("$name: $cmd: ${BASH_REMATCH[1]} in its output")
                ok=0
            fi
            if [ "$want" -ne 0 ]; then
                line=0
                for l in "${stderr_lines[@]}"; do
                    [[ $l =~ ^sealift-apply:\ error:\ .*($pat) ]] && line=1
                done
                if [ $line -eq 0 ]; then
                    failures+=("$name: $cmd: no error line matches /$pat/: ${stderr_lines[*]:0:2}")
                    ok=0
                fi
            fi
            if [ "$rss" -gt "$TAMPER_RSS_KIB" ]; then
                failures+=("$name: $cmd: peak RSS $rss KiB, over $TAMPER_RSS_KIB KiB")
                ok=0
            fi
            if [ "${secs%.*}" -ge "$TAMPER_SECONDS" ]; then
                failures+=("$name: $cmd: took $secs s, $TAMPER_SECONDS s allowed")
                ok=0
            fi
        done
        changed=0
        if ! db_dump >after.sql || ! cmp -s before.sql after.sql; then
            failures+=("$name: the database changed: $(diff before.sql after.sql | head -5)")
            changed=1
        fi
        echo "$name $ok $((1 - changed))" >>"$TAMPER_DIR/totals"
    done <"$TAMPER_DIR/cases/cases.tsv"
    [ "$n" -gt 0 ] || fail "no case matches /$1/"
    if [ ${#failures[@]} -gt 0 ]; then
        printf '%s\n' "${failures[@]}" | batslib_decorate "${#failures[@]} problems in $n cases" |
            fail
    fi
}

@test "flipped bytes in the uncompressed bundle: every member's header, data and padding, the end, 20 random positions" {
    run_cases '^flip-none-'
}

@test "flipped bytes in the zstd bundle: frame header, first, middle, last, trailer, 20 random positions" {
    run_cases '^flip-zstd-'
}

@test "flipped bytes in the gzip bundle: header, first, middle, last, trailer, 20 random positions" {
    run_cases '^flip-gzip-'
}

@test "members added, removed, renamed, duplicated, reordered, truncated, padded (none, zstd, gzip)" {
    run_cases '^(added|removed|renamed|duplicated|reordered|truncated|padded|empty-archive|zero-bytes)-'
}

@test "trailing data and a second archive, inside and outside the compression" {
    run_cases '^(trailing-|second-archive|members-after|zstd-|gzip-)'
}

@test "../ and absolute names, symlinks, hardlinks, devices, FIFOs, directories, other typeflags" {
    run_cases '^(path|entry)-'
}

@test "headers re-packed by hand (checksum made right): mode, owner, bytes after the name, pad, checksum format" {
    run_cases '^repacked-'
}

@test "pax and GNU extension headers, sparse entries, base-256 sizes, non-ustar magic" {
    run_cases '^(pax|gnu|old-v7)-'
}

@test "member headers whose size is far larger (data truncated) or smaller than the manifest says" {
    run_cases '^(oversized|undersized)-'
}

@test "decompression bombs and huge members: refused within the memory ceiling and time limit" {
    run_cases '^bomb-'
}

@test "signatures: re-signed by an untrusted key, moved from another bundle, trusted comment edited, not canonical" {
    run_cases '^sig-'
}

@test "policy: below the threshold (exit 1); an older serial and another environment (apply exits 3)" {
    run_cases '^(threshold|older-serial|other-environment)'
}

@test "totals: every case refused, the database never changed" {
    local cases rejected unchanged
    cases=$(wc -l <"$TAMPER_DIR/totals")
    rejected=$(awk '$2 == 1' "$TAMPER_DIR/totals" | wc -l)
    unchanged=$(awk '$3 == 1' "$TAMPER_DIR/totals" | wc -l)
    echo "# cases: $cases, rejected: $rejected, database unchanged: $unchanged" >&3
    [ "$cases" -eq "$(wc -l <"$TAMPER_DIR/cases/cases.tsv")" ] ||
        fail "$cases cases ran of $(wc -l <"$TAMPER_DIR/cases/cases.tsv") (run the whole file)"
    [ "$rejected" -eq "$cases" ] || fail "$((cases - rejected)) cases were not refused as expected"
    [ "$unchanged" -eq "$cases" ] || fail "$((cases - unchanged)) cases changed the database"
}
