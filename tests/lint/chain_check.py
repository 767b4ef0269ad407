#!/usr/bin/env python3
"""chain_check.py: run a real chain on PostgreSQL statement by statement and hold every lock
and rewrite the server saw against the lint's findings (the precision note of docs/lint.md).

The chain is copied, built into a bundle (so that the statements are exactly the bundle's:
rendered, split as sealift-apply runs them) and linted (sealift lint --format json). Then, in
one psql session on a fresh database, every up script runs in chain order, each statement of
a transactional script in a transaction of its own that is committed: before it, the
relfilenode of every relation that existed when its migration started; after it, the locks
the session holds on those relations (pg_locks) and which files changed. No-transaction
scripts run as they are, unmeasured (their CONCURRENTLY statements take no blocking lock).

Prints one line per statement that took a lock blocking writes (SHARE or stronger) on a
pre-existing relation or rewrote one, whether it scanned (pg_stat_get_xact_numscans) or
rewrote it or only changed the catalog (a brief lock), and the finding that covers it (MISSED
when a scan or rewrite is not flagged), then a summary. Exit 1 if one was missed.

Usage: chain_check.py SEALIFT CHAIN_DIR WORK_DIR [sealift option...]
"""
import json
import os
import re
import shutil
import subprocess
import sys

ORDER = ["AccessShareLock", "RowShareLock", "RowExclusiveLock", "ShareUpdateExclusiveLock",
         "ShareLock", "ShareRowExclusiveLock", "ExclusiveLock", "AccessExclusiveLock"]


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


def main():
    sealift, chain, work = sys.argv[1:4]
    extra = sys.argv[4:]
    src = os.path.join(work, "chain")
    shutil.rmtree(src, ignore_errors=True)
    shutil.copytree(chain, src)
    key, pub, bundle = (os.path.join(work, n) for n in ("k.key", "k.pub", "b.sealift"))
    run([sealift, "keygen", "-W", "-f", "-s", key, "-p", pub], check=True)
    r = run([sealift, "build", "-d", src, "-s", key, "-o", bundle, "--lint", "warn"] + extra)
    if r.returncode != 0:
        sys.exit("build failed: " + r.stderr)
    findings = json.loads(run([sealift, "lint", "-d", src, "--format", "json"] + extra).stdout)
    x = os.path.join(work, "x")
    shutil.rmtree(x, ignore_errors=True)
    os.makedirs(x)
    subprocess.run("zstd -dc %s | tar -xf - -C %s" % (bundle, x), shell=True, check=True)
    manifest = open(os.path.join(x, "MANIFEST"), encoding="utf-8").read().splitlines()

    migs = []  # (id, name, tx, member text, [(offset, length)])
    for line in manifest:
        m = re.match(r"# migration (\S+) (\S+)$", line)
        if m:
            migs.append([m.group(1), m.group(2), True, None, []])
        m = re.match(r"# up (tx|no-tx) \S+ (\S+)$", line)
        if m:
            migs[-1][2] = m.group(1) == "tx"
            migs[-1][3] = open(os.path.join(x, m.group(2)), "rb").read()
        m = re.match(r"# statement up (\d+) (\d+)$", line)
        if m:
            migs[-1][4].append((int(m.group(1)), int(m.group(2))))

    db = "lint_chain_%d" % os.getpid()
    run(["psql", "-X", "-q", "-c", "CREATE DATABASE %s" % db], check=True)
    os.environ["PGDATABASE"] = db
    script = ["SET client_min_messages = warning;"]
    for i, (mid, name, tx, text, stmts) in enumerate(migs):
        script.append("DROP TABLE IF EXISTS pg_temp.lint_existing;")
        script.append("CREATE TEMP TABLE lint_existing AS SELECT c.oid, c.relname FROM pg_class c"
                      " WHERE c.relnamespace = 'public'::regnamespace"
                      " AND c.relkind IN ('r', 'p', 'm');")
        for j, (off, ln) in enumerate(stmts):
            sql = text[off:off + ln].decode("utf-8")
            if re.match(r"\s*(--[^\n]*\n\s*)*copy\b", sql, re.I):
                continue  # its data is in the bundle, not in the statement: not measured
            if not tx:
                script.append(sql + ";")
                continue
            script += [
                "BEGIN;",
                "CREATE TEMP TABLE lint_fn ON COMMIT DROP AS SELECT e.oid, e.relname,"
                " pg_relation_filenode(e.oid) AS fn, pg_stat_get_xact_numscans(e.oid) AS scans"
                " FROM lint_existing e;",
                sql + ";",
                "SELECT 'ROW|%d|%d|' || f.relname || '|' || (CASE WHEN"
                " pg_relation_filenode(f.oid) IS NULL OR f.fn IS NULL THEN 0 ELSE"
                " (pg_relation_filenode(f.oid) <> f.fn)::int END) || '|' ||"
                " (pg_stat_get_xact_numscans(f.oid) > f.scans)::int || '|' ||"
                " coalesce((SELECT string_agg(l.mode, ',') FROM pg_locks l WHERE"
                " l.pid = pg_backend_pid() AND l.locktype = 'relation'"
                " AND l.relation = f.oid), '') FROM lint_fn f;" % (i, j),
                "COMMIT;",
            ]
    r = subprocess.run(["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1"],
                       input="\n".join(script) + "\n", capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit("the chain failed on the server: " + r.stderr[-500:])

    def line_of(text, off):
        return text[:off].count(b"\n") + 1

    total = flagged = rewrites = rewrites_flagged = brief = 0
    seen = set()
    for row in r.stdout.splitlines():
        if not row.startswith("ROW|"):
            continue
        _, i, j, rel, rewrote, scanned, modes = row.split("|", 6)
        i, j = int(i), int(j)
        held = [m for m in modes.split(",") if m]
        strongest = max((ORDER.index(m) for m in held), default=-1)
        if (strongest < ORDER.index("ShareLock") and rewrote != "1") or (i, j, rel) in seen:
            continue
        seen.add((i, j, rel))
        mid, name, _, text, stmts = migs[i]
        off, ln = stmts[j]
        first, last = line_of(text, off), line_of(text, off + ln)
        label = "%s_%s" % (mid, name) if name != "-" else mid
        cover = [f for f in findings if f["migration"] == label and f["script"] == "up"
                 and first <= f["line"] <= last and f["relation"] in ("public." + rel, None)]
        long_hold = rewrote == "1" or scanned == "1"
        rules = ", ".join(sorted({f["rule"] for f in cover}))
        if long_hold:
            total += 1
            flagged += bool(cover)
            if rewrote == "1":
                rewrites += 1
                rewrites_flagged += bool(cover)
        else:
            brief += 1
        print("%s up stmt %d: %s on public.%s%s -> %s" % (
            label, j + 1, ORDER[strongest] if strongest >= 0 else "-", rel,
            ", rewrote it" if rewrote == "1" else ", scanned it" if scanned == "1"
            else " (catalog only: brief)",
            rules or ("MISSED" if long_hold else "not flagged")))
    print("summary: %d statements held a lock blocking writes on a pre-existing relation while "
          "scanning or rewriting it, %d flagged (%d rewrites, %d flagged); %d took one only "
          "for a catalog change; the lint reported %d findings in all"
          % (total, flagged, rewrites, rewrites_flagged, brief, len(findings)))
    return 1 if flagged < total else 0


if __name__ == "__main__":
    sys.exit(main())
