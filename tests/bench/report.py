#!/usr/bin/python3
"""report.py RESULTS_DIR: print BENCHMARKS.md from what tests/bench/run measured.

RESULTS_DIR holds meta.tsv (one line per row: id, section, label, limit id, peer ids, target,
status), ID.json (hyperfine's export), ID.rss (peak RSS in KiB, one line per run measured),
ID.failed, versions.tsv and machine.tsv. Server CPU comes from ID.server (hyperfine rows: the
server's CPU ticks after each reset and after each run) or from the JSON's server_ticks
(tests/bench/interleave: per run). Ratios are medians divided by medians from the same
invocation: "x limit" by the row's limit (psql running the same SQL in the same transaction
mode, or the stock tools), "x best peer" by the fastest of the row's peers (Alembic, dbmate,
Sqitch doing the same job).
"""
import json
import os
import sys
import time

PRODUCT_TARGETS = [
    ("apply", "1,000 small migrations within 1.05x of psql in the same transaction mode "
     "(`psql -1 -f` for the default, BEGIN/COMMIT per migration for `--per-migration`); "
     "our own cost under 0.1 ms per migration"),
    ("head", "no-op apply or `status` at head of a 1,000-migration bundle: at most 1.0x of "
     "psql's own start, connect and `SELECT 1` (`psql -X -c 'SELECT 1'`, the server's own "
     "psql binary) against the same server"),
    ("tiny", "3,000 one-table migrations within 1.05x of psql in both transaction modes"),
    ("inline", "an inline COPY of 1.5 M rows and of 1 GiB: apply within 1.1x of psql running "
     "the script; peak memory of apply, plan and verify not growing with the data"),
    ("data", "a 1 GiB CSV load within 1.1x of psql `\\copy`, verification included"),
    ("scale", "build, verify, status, apply and rollback `--to base` (both `--per-migration`) on "
     "chains of 1,000, 10,000 and 100,000 migrations: time growing linearly (10x the "
     "migrations, about 10x the time)"),
    ("verify", "within 1.5x of `tar -x` + `sha256sum -c` + `minisign -V`; peak memory "
     "bounded (not growing with bundle size) for a 1 GiB bundle"),
    ("compile", "10,000 migrations within 2x of `tar --zstd -cf` + `minisign -S`"),
    ("lint", "the safety lint adds at most 10% to `build` of 10,000 migrations, runs faster "
     "than squawk on the same files, and reports far fewer findings"),
]


def read_tsv(path):
    rows = []
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            for line in f:
                line = line.rstrip("\n")
                if line:
                    rows.append(line.split("\t"))
    return rows


class Row:
    def __init__(self, res, fields):
        (self.id, self.section, self.label, self.limit, peers, self.target,
         self.status) = fields
        self.peers = [] if peers == "-" else peers.split(",")
        self.times = None
        self.rss_kib = None
        jpath = os.path.join(res, self.id + ".json")
        if os.path.exists(os.path.join(res, self.id + ".failed")):
            self.status = "failed (see bench.log)"
        elif self.status == "ok":
            try:
                with open(jpath, encoding="utf-8") as f:
                    r = json.load(f)["results"][0]
                self.times = sorted(r["times"])
                self.median = r["median"]
            except (OSError, ValueError, KeyError, IndexError):
                self.status = "not measured"
        self.client_cpu = None
        self.server_cpu = None
        rpath = os.path.join(res, self.id + ".rss")
        if os.path.exists(rpath):
            rss = []
            for line in open(rpath):
                f = line.split()
                if f and f[0].isdigit():
                    rss.append(int(f[0]))
            if rss:
                self.rss_kib = max(rss)
        self.cpu_times = None
        self.interleaved = False
        server_ticks = None
        if self.times is not None:
            self.interleaved = bool(r.get("interleaved"))
            server_ticks = r.get("server_ticks")
            # hyperfine's mean user + system time (rusage: the process and its children).
            self.client_cpu = r["user"] + r["system"]
            # Per run, from tests/bench/interleave only (hyperfine keeps the mean alone).
            if r.get("cpu_times"):
                self.cpu_times = r["cpu_times"]
        spath = os.path.join(res, self.id + ".server")
        if server_ticks:
            self.server_cpu = median(server_ticks) / CLK_TCK
        elif os.path.exists(spath) and self.times is not None:
            self.server_cpu = server_file_cpu(spath)

    @property
    def ok(self):
        return self.times is not None


CLK_TCK = 100


def median(vals):
    v = sorted(vals)
    n = len(v)
    return v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2


def server_file_cpu(path):
    """Median server CPU (s) of the runs: each "post" (after the reset) to the next "pre"."""
    runs, post = [], None
    for line in open(path):
        kind, ticks = line.split()
        if kind == "post":
            post = int(ticks)
        elif post is not None:
            runs.append((int(ticks) - post) / CLK_TCK)
            post = None
    return median(runs) if runs else None


def total_cpu(row):
    if row.client_cpu is None or row.server_cpu is None:
        return None
    return row.client_cpu + row.server_cpu


def fmt_time(s):
    if s < 1:
        return "%.1f ms" % (s * 1000) if s < 0.1 else "%.0f ms" % (s * 1000)
    return "%.2f s" % s if s < 100 else "%.0f s" % s


def fmt_ratio(x):
    return "%.2fx" % x if x < 10 else "%.1fx" % x


def fmt_rss(kib):
    return "—" if kib is None else "%.1f MiB" % (kib / 1024)


def section_n(section):
    tail = section.rsplit("-", 1)[-1]
    return int(tail) if tail.isdigit() else None


def section_title(section, machine):
    kind = section.split("-", 1)[0]
    n = section_n(section)
    if kind == "apply":
        return "Apply %s migrations onto an empty database" % format(n, ",")
    if kind == "head":
        return "At the head of a %s-migration chain: no-op apply and status" % format(n, ",")
    if kind == "verify":
        return "Verify a bundle of %s migrations (no database)" % format(n, ",")
    if kind == "compile":
        return "Compile %s migrations into a signed bundle" % format(n, ",")
    if kind == "lint":
        return "The safety lint on %s migrations (build with and without it; squawk)" % (
            format(n, ","))
    if kind == "tiny":
        return "%s one-table migrations against psql, both transaction modes" % format(n, ",")
    if kind == "inline":
        return "A pg_dump-style inline COPY of %s rows in one script" % format(n, ",")
    if kind == "data":
        return "A %s MiB data migration (CSV loaded by COPY from a data member)" % (
            format(int(machine.get("data_mib", "0")), ","))
    return section


def target_text(row, ratio):
    if row.target.startswith("cpu-ratio:"):
        limit = float(row.target.split(":")[1])
        return ("≤ %sx limit in CPU time (median user + system, runs interleaved)"
                % row.target.split(":")[1], ratio is not None and ratio <= limit)
    if row.target.startswith("ratio:"):
        limit = float(row.target.split(":")[1])
        return "≤ %sx limit" % row.target.split(":")[1], (ratio is not None and ratio <= limit)
    if row.target.startswith("abs:"):
        _, ms, mib = row.target.split(":")
        met = (row.ok and row.median * 1000 < float(ms) and row.rss_kib is not None
               and row.rss_kib / 1024 < float(mib))
        return "< %s ms, < %s MiB" % (ms, mib), met
    return "", None


def render_section(section, rows, byid, machine, out, summary):
    n = section_n(section)
    kind = section.split("-", 1)[0]
    per_migration = kind in ("apply", "tiny")
    out.append("### " + section_title(section, machine))
    out.append("")
    runs = sorted({len(r.times) for r in rows if r.ok})
    if runs:
        out.append("Median of %s runs each; spread is min-max." % "/".join(map(str, runs)))
        out.append("")
    with_server = any(r.server_cpu is not None for r in rows)
    head = ["what", "median", "spread", "peak RSS"]
    if per_migration:
        head += ["per migration", "own cost per migration"]
    head += ["x limit", "x best peer", "target", "met"]
    head += ["client CPU", "server CPU", "CPU x limit"] if with_server else ["CPU"]
    out.append("| " + " | ".join(head) + " |")
    out.append("|" + "|".join("---" if h in ("what", "target", "met") else "---:"
                              for h in head) + "|")
    for r in rows:
        if not r.ok:
            cells = [r.label, r.status] + [""] * (len(head) - 2)
            out.append("| " + " | ".join(cells) + " |")
            continue
        lim = byid.get(r.limit)
        ratio = r.median / lim.median if lim is not None and lim.ok else None
        if r.target.startswith("cpu-ratio:"):
            # Judged on CPU time: per-run CPU times of both, or nothing to judge by.
            ratio = (median(r.cpu_times) / median(lim.cpu_times)
                     if lim is not None and lim.ok and r.cpu_times and lim.cpu_times else None)
        peers = [byid[p] for p in r.peers if p in byid and byid[p].ok]
        best = min(peers, key=lambda p: p.median) if peers else None
        cells = [r.label, fmt_time(r.median),
                 "%s – %s" % (fmt_time(r.times[0]), fmt_time(r.times[-1])), fmt_rss(r.rss_kib)]
        if per_migration:
            cells.append("%.2f ms" % (r.median * 1000 / n))
            if lim is not None and lim.ok and lim is not r:
                cells.append("%+.3f ms" % ((r.median - lim.median) * 1000 / n))
            else:
                cells.append("")
        cells.append(fmt_ratio(ratio) if ratio is not None else "—")
        cells.append(fmt_ratio(r.median / best.median) + " (%s)" % short_name(best.label)
                     if best is not None else "—")
        text, met = target_text(r, ratio)
        cells.append(text)
        cells.append("" if met is None else ("yes" if met else "**no**"))
        cells.append(fmt_time(r.client_cpu) if r.client_cpu is not None else "")
        if with_server:
            cells.append(fmt_time(r.server_cpu) if r.server_cpu is not None else "")
            tot, ltot = total_cpu(r), (total_cpu(lim) if lim is not None else None)
            cells.append(fmt_ratio(tot / ltot) if tot is not None and ltot else "")
        out.append("| " + " | ".join(cells) + " |")
        if met is not None:
            summary.append((section_title(section, machine), r, text, met, ratio, best))
    out.append("")


def render_scale(rows, out):
    """The scale rows (id scale-WHAT-N): one line per job and chain length, with the growth of
    time from the chain length before it (10x the migrations should be about 10x the time), and
    the same for the client's CPU, which a loaded machine does not stretch as it does time."""
    out.append("### Growth with the length of the chain")
    out.append("")
    out.append("Each job on chains of growing length; \"growth\" is the median divided by the "
               "median at the previous length (linear growth: the ratio of the lengths); \"CPU "
               "growth\" is the same for the client's CPU (user + system), which does not "
               "depend on what else the machine runs. Server CPU where it is measured.")
    out.append("")
    out.append("| what | migrations | median | spread | peak RSS | per migration | growth "
               "| client CPU | CPU growth | server CPU |")
    out.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    prev = {}
    order = ["build", "verify", "status", "apply", "rollback"]
    for r in sorted(rows, key=lambda r: (order.index(r.id.split("-")[1])
                                         if r.id.split("-")[1] in order else 9,
                                         int(r.id.split("-")[2]))):
        what, n = r.id.split("-")[1], int(r.id.split("-")[2])
        if not r.ok:
            out.append("| %s | %s | %s | | | | | | | |" % (r.label, format(n, ","), r.status))
            continue
        growth = cpu_growth = ""
        if what in prev:
            pn, pm, pc = prev[what]
            growth = "%s for %gx the migrations" % (fmt_ratio(r.median / pm), n / pn)
            if pc and r.client_cpu is not None:
                cpu_growth = fmt_ratio(r.client_cpu / pc)
        prev[what] = (n, r.median, r.client_cpu)
        out.append("| %s | %s | %s | %s – %s | %s | %.3f ms | %s | %s | %s | %s |" % (
            r.label, format(n, ","), fmt_time(r.median), fmt_time(r.times[0]),
            fmt_time(r.times[-1]), fmt_rss(r.rss_kib), r.median * 1000 / n, growth,
            fmt_time(r.client_cpu) if r.client_cpu is not None else "",
            cpu_growth, fmt_time(r.server_cpu) if r.server_cpu is not None else ""))
    out.append("")


def interleaved_text(rows):
    """The Method line on the rows timed in alternation, by section."""
    by_section = {}
    for r in rows:
        if r.interleaved:
            by_section.setdefault(r.section, []).append(r.id)
    if not by_section:
        return "No row was timed in alternation (tests/bench/interleave)."
    return ("Timed in alternation (tests/bench/interleave: one untimed warm-up each, none where "
            "a run takes many seconds, then A, B, A, B ..., every run of either preceded by the "
            "same untimed preparation, for the apply and load rows a fresh database): %s. "
            "Each target row is measured so with the limit it is divided by, because on this "
            "kind of machine the cost of the same work drifts by several times within minutes "
            "(file-creating SQL on a VM: 3-4x from one minute to the next); hyperfine's blocks "
            "of runs (all of A, then all of B) give such a drift to one side and the ratio with "
            "it, where alternation lands it on both. Their \"x limit\" is still median over "
            "median, both from the same alternation; their client CPU (the mean user + system "
            "of the runs) comes from the rusage of each run, their server CPU from the "
            "postmaster's reaped-children times read just before and after each run." % "; ".join(
                "%s (%s)" % (s, ", ".join(ids)) for s, ids in by_section.items()))


def short_name(label):
    for name in ("Alembic", "dbmate", "Sqitch"):
        if label.startswith(name):
            return name
    return label.split(":")[0].replace("**", "")


def main():
    global CLK_TCK
    res = sys.argv[1]
    machine = dict(read_tsv(os.path.join(res, "machine.tsv")))
    CLK_TCK = int(machine.get("clk_tck", "100"))
    versions = read_tsv(os.path.join(res, "versions.tsv"))
    rows = [Row(res, f) for f in read_tsv(os.path.join(res, "meta.tsv"))]
    byid = {r.id: r for r in rows}
    sections = []
    for r in rows:
        if r.section not in sections:
            sections.append(r.section)

    out = []
    out.append("# sealift benchmarks")
    out.append("")
    mode = machine.get("mode", "full")
    elapsed = int(machine.get("elapsed", "0") or 0)
    out.append("Written by `make bench%s` (tests/bench/run) on %s, in %d min %02d s. Every "
               "figure is from that one invocation, on one machine, against a PostgreSQL "
               "cluster the bench started for itself." % (
                   " QUICK=1" if mode == "quick" else "", time.strftime("%Y-%m-%d"),
                   elapsed // 60, elapsed % 60))
    out.append("")
    out.append("## Machine and tools")
    out.append("")
    out.append("| | |")
    out.append("|---|---|")
    out.append("| CPU | %s |" % machine.get("cpu", "?"))
    out.append("| cores | %s |" % machine.get("cores", "?"))
    out.append("| memory | %s |" % machine.get("memory", "?"))
    out.append("| system | %s, %s |" % (machine.get("os", "?"), machine.get("kernel", "?")))
    out.append("| server settings (every tool) | %s |" % machine.get("server", "?"))
    out.append("| connection | %s |" % machine.get("connection", "?"))
    out.append("| cluster's file system | %s |" % machine.get("storage", "?"))
    out.append("| sealift sources | %s |" % machine.get("source", "?"))
    out.append("| load average (1, 5, 15 min) | at start %s; at end %s |" % (
        machine.get("load_start", "?"), machine.get("load_end", "?")))
    for name, version in versions:
        out.append("| %s | %s |" % (name, version))
    out.append("")

    body = []
    summary = []
    for s in sections:
        if s == "scale":
            render_scale([r for r in rows if r.section == s], body)
            continue
        render_section(s, [r for r in rows if r.section == s], byid, machine, body, summary)

    out.append("## Targets (PRODUCT.md \"Performance targets\")")
    out.append("")
    for kind, text in PRODUCT_TARGETS:
        out.append("- %s: %s" % (kind, text))
    out.append("")
    out.append("| scenario | what | median | peak RSS | x limit | target | met | CPU x limit |")
    out.append("|---|---|---:|---:|---:|---|---|---:|")
    for title, r, text, met, ratio, _best in summary:
        lim = byid.get(r.limit)
        tot, ltot = total_cpu(r), (total_cpu(lim) if lim is not None else None)
        out.append("| %s | %s | %s | %s | %s | %s | %s | %s |" % (
            title, r.label, fmt_time(r.median), fmt_rss(r.rss_kib),
            fmt_ratio(ratio) if ratio is not None else "—", text,
            "yes" if met else "**no**",
            fmt_ratio(tot / ltot) if tot is not None and ltot else ""))
    out.append("")
    out.append("\"met\" is judged on wall time, as the targets are written, except where the "
               "target says CPU time (the lint's: it is judged, and its x limit computed, on the "
               "median user + system time of runs interleaved with the limit's). \"CPU x limit\" "
               "divides client plus server CPU time by the limit's: it does not depend on what "
               "else the machine was running, and so is the figure to trust when the load "
               "average above is high.")
    out.append("")
    out.append("## Figures")
    out.append("")
    out.append("\"x limit\": median divided by the median of the same job done by psql in the "
               "same transaction mode (for verify and compile: by the stock tools). "
               "\"x best peer\": divided by the fastest of Alembic, dbmate and Sqitch on the "
               "same job. \"own cost per migration\": (median - limit) / N. Peak RSS is the "
               "largest of the process and its children (Sqitch runs psql per change). "
               "\"client CPU\": user + system time of the tool's process tree (mean of the runs); "
               "\"server CPU\": user + system time of the server backends that served the "
               "run (median; from the postmaster's reaped-children times, 10 ms ticks); "
               "\"CPU x limit\": (client + server CPU) over the limit's.")
    out.append("")
    out.extend(body)
    out.append("## Method")
    out.append("")
    out.append("- Chains (tests/bench/gen-chain): migration i creates a table (integer primary "
               "key, text, timestamptz with a default), an index on the text column and inserts "
               "10 rows; its down drops the table. The same three statements, byte for byte, "
               "are rendered for psql (one file; and one with BEGIN/COMMIT around each "
               "migration), sealift's native directory (built into a bundle signed with an "
               "unencrypted minisign key), Alembic (one op.execute per statement, the generic "
               "env.py in online mode), Sqitch (deploy and revert scripts with BEGIN/COMMIT, as "
               "Sqitch recommends) and dbmate (one file per migration).")
    out.append("- Every apply run starts from an empty database (DROP DATABASE, CREATE "
               "DATABASE, CHECKPOINT before each run, untimed); the history tables of each "
               "tool are created inside the timed run, as on a first deploy. At-head runs use a "
               "database each tool brought to head itself. The cluster lives on tmpfs when "
               "there is room (\"cluster's file system\" above): on ext4, files created within "
               "a minute or so of the previous run's DROP DATABASE cost a scan past every "
               "inode it freed, so on disk the order of the runs, not the tool, decided the "
               "ratio of the fresh-database rows (tests/bench/run, cluster_base).")
    out.append("- Wall time: hyperfine (`-N` where no shell is needed), median and min-max, "
               "except for the interleaved rows below. Peak RSS: GNU time (`/usr/bin/time`, "
               "maximum resident set size); for the apply and data-load rows GNU time wraps "
               "every timed run (half a millisecond on runs of a tenth of a second or more), "
               "elsewhere it comes from one extra run; for interleaved rows, from GNU time around "
               "the warm-up run (or around every run, where there is no warm-up).")
    out.append("- " + interleaved_text(rows))
    out.append("- sealift-apply is the static binary; every command verifies the signature "
               "and every member's SHA-256 before it touches the database, and this is "
               "included in its times. dbmate is the Go binary from its npm package, run "
               "directly (not through the Node.js wrapper).")
    out.append("")
    sys.stdout.write("\n".join(out))


if __name__ == "__main__":
    main()
