#!/usr/bin/env bats
# A 100 MiB CSV data file through the whole path (build, verify, stream, COPY) with the
# applier's peak memory measured by GNU time and held under 64 MiB; the --json progress
# events and the journal's record of the load.

bats_require_minimum_version 1.5.0

load data_helpers

setup_file() { apply_setup_file; }
teardown_file() { apply_teardown_file; }
setup() { apply_setup; }
teardown() { apply_teardown; }

# big_csv FILE: at least 100 MiB of CSV rows (quoted fields with commas, varied bytes so that
# zstd cannot shrink it to nothing); prints the number of rows.
big_csv() {
    awk 'BEGIN {
        srand(7)
        while (n < 104857600) {
            line = sprintf("%d,\"name %x, %d\",%s%d,%d.%02d", ++i, int(rand() * 2^31), i,
                substr("lorem ipsum dolor sit amet consectetur adipiscing elit", 1 + int(rand() * 30)),
                int(rand() * 1e9), i % 1000, i % 100)
            n += length(line) + 1
            print line
        }
        print i > "/dev/stderr"
    }' >"$1" 2>big.rows
    cat big.rows
}

@test "a 100 MiB CSV loads with peak RSS under 64 MiB; --json progress and the journal record it" {
    [ -x /usr/bin/time ] || skip "GNU time is not installed (Debian package time: scripts/install-deps)"
    local nrows size kib
    mkdir -p m/001_big.data
    nrows=$(big_csv m/001_big.data/big.csv)
    size=$(stat -c %s m/001_big.data/big.csv)
    [ "$size" -ge 104857600 ] || fail "the CSV is only $size bytes"
    mig m 001_big 'CREATE TABLE big (id int PRIMARY KEY, name text, note text, price numeric);
-- sealift:data big.csv
COPY big FROM STDIN WITH (FORMAT csv);' 'DROP TABLE big;'
    bundle m b.sealift

    run --separate-stderr /usr/bin/time -v -o time.txt "$APPLY" apply b.sealift -p release.pub --json
    assert_no_crash
    assert_exit 0
    refute_errors
    assert_json_lines

    # Peak memory stays small whatever the data size (the target: under 64 MiB).
    kib=$(sed -n 's/^[[:space:]]*Maximum resident set size (kbytes): //p' time.txt)
    [[ $kib =~ ^[0-9]+$ ]] || fail "no peak RSS in time.txt: $(cat time.txt)"
    [ "$kib" -lt 65536 ] || fail "peak RSS $kib KiB is not under 64 MiB"

    # The rows, all of them once.
    assert_sql "SELECT count(*), max(id) FROM big" "$nrows|$nrows"

    # --json: progress while loading (it takes well over the 0.5 s between reports), then the
    # result with rows and bytes.
    run --separate-stderr python3 -c '
import json, sys
size, rows = int(sys.argv[1]), int(sys.argv[2])
events = [json.loads(l) for l in open(sys.argv[3]) if l.strip()]
prog = [e for e in events if e["event"] == "load_progress"]
done = [e for e in events if e["event"] == "loaded"]
assert prog, "no load_progress event"
sent = [e["bytes"] for e in prog]
assert sent == sorted(sent) and 0 < sent[0] and sent[-1] <= size, sent
for e in prog:
    assert e["data"] == "data/000001_1_big.csv" and e["total_bytes"] == size, e
    assert e["lines"] > 0 and e["seconds"] > 0 and "eta_seconds" in e, e
assert len(done) == 1, done
d = done[0]
assert (d["data"], d["rows"], d["bytes"]) == ("data/000001_1_big.csv", rows, size), d
assert d["duration_ms"] > 0, d
print("%d progress events" % len(prog))' "$size" "$nrows" <(printf '%s\n' "$output")
    assert_success
    assert_output --regexp '^[0-9]+ progress events$'

    # The journal records the load.
    assert_sql "SELECT event || ' ' || migration_id || ': ' || detail FROM sealift.journal" \
        "apply 001: loaded data/000001_1_big.csv: $nrows rows, $size bytes"
    run_apply history
    assert_exit 0
    assert_output --partial "loaded data/000001_1_big.csv: $nrows rows, $size bytes"
}
