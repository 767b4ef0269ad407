#!/usr/bin/env python3
"""server_check.py: hold the lint's predictions against what PostgreSQL really does.

For every fixture of tests/lint/fixtures.txt marked "y" or "!": lint a chain whose first
migration is tests/lint/base.sql and whose next is the fixture (sealift lint --format json);
then, in one psql session on a database where base.sql ran, run the fixture inside a
transaction, read pg_locks for the session's own backend and compare each relation's
relfilenode before and after, and roll back. A fixture fails when:
  - a finding's lock mode is not one the server took on its relation, or (a fixture of one
    statement) the server took a stronger one;
  - a finding's rewrite flag differs from what the server did to the relation's file;
  - the server rewrote a pre-existing relation and no finding says so;
  - the server took a lock blocking writes (SHARE or stronger) on a pre-existing relation and
    no finding names that relation;
  - a negative fixture ("-") has a finding, or the server rewrote something;
  - a "!" fixture ran, or a "y" fixture did not.

Usage: server_check.py SEALIFT FIXTURE_DIR WORK_DIR  (psql, PGHOST... from the environment)
Prints "ok N fixtures" or one "FAIL ..." line per problem, and exits 1 on any.
"""
import json
import os
import subprocess
import sys

MODES = {
    "AccessShareLock": "ACCESS SHARE",
    "RowShareLock": "ROW SHARE",
    "RowExclusiveLock": "ROW EXCLUSIVE",
    "ShareUpdateExclusiveLock": "SHARE UPDATE EXCLUSIVE",
    "ShareLock": "SHARE",
    "ShareRowExclusiveLock": "SHARE ROW EXCLUSIVE",
    "ExclusiveLock": "EXCLUSIVE",
    "AccessExclusiveLock": "ACCESS EXCLUSIVE",
}
ORDER = list(MODES.values())
# SHARE and stronger block writes (or reads): every such lock on a pre-existing relation must
# be named by a finding.
BLOCKING = ORDER.index("SHARE")


def read_fixtures(path):
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            rule, server, mode, sql = line.split("|", 3)
            out.append((rule, server, mode, sql))
    return out


def lint(sealift, base, fixture, work, n):
    rule, server, mode, sql = fixture
    d = os.path.join(work, "f%03d" % n, "migrations")
    os.makedirs(d, exist_ok=True)
    # No downs: each script is marked irreversible (a chain with problems is not linted).
    with open(os.path.join(d, "0001_base.up.sql"), "w", encoding="utf-8") as f:
        f.write("-- sealift:irreversible\n" + base)
    for i, part in enumerate(sql.split(" ;; ")):
        head = "-- sealift:irreversible\n"
        if mode == "notx":
            head += "-- sealift:no-transaction\n"
        with open(os.path.join(d, "%04d_fixture.up.sql" % (i + 2)), "w", encoding="utf-8") as f:
            f.write(head + part + "\n")
    r = subprocess.run([sealift, "lint", "-d", d, "--format", "json"], capture_output=True,
                       text=True)
    if r.returncode not in (0, 1) or "in the chain itself" in r.stderr:
        raise SystemExit("sealift lint failed on fixture %d: %s" % (n, r.stderr))
    return json.loads(r.stdout)


def psql_script(fixtures):
    lines = ["\\set ON_ERROR_STOP 0", "SET client_min_messages = warning;"]
    for n, (rule, server, mode, sql) in fixtures:
        lines += [
            "BEGIN;",
            "CREATE TEMP TABLE lint_before ON COMMIT DROP AS SELECT c.oid, c.relname,"
            " pg_relation_filenode(c.oid) AS fn FROM pg_class c"
            " WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p', 'm');",
            sql,
            "SELECT 'ROW|%d|' || b.relname || '|' ||"
            " (CASE WHEN pg_relation_filenode(b.oid) IS NULL OR b.fn IS NULL THEN 0"
            "  ELSE (pg_relation_filenode(b.oid) <> b.fn)::int END) || '|' ||"
            " coalesce((SELECT string_agg(l.mode, ',') FROM pg_locks l"
            "  WHERE l.pid = pg_backend_pid() AND l.locktype = 'relation'"
            "  AND l.relation = b.oid), '') FROM lint_before b;" % n,
            "ROLLBACK;",
        ]
    return "\n".join(lines) + "\n"


def main():
    sealift, fixdir, work = sys.argv[1:4]
    with open(os.path.join(fixdir, "base.sql"), encoding="utf-8") as f:
        base = f.read()
    fixtures = [(n, fx) for n, fx in enumerate(read_fixtures(os.path.join(fixdir, "fixtures.txt")))
                if fx[1] in ("y", "!")]
    findings = {n: lint(sealift, base, fx, work, n) for n, fx in fixtures}

    # A database of its own, so that runs on one cluster do not meet.
    db = "lint_%d" % os.getpid()
    subprocess.run(["psql", "-X", "-q", "-c", "CREATE DATABASE %s" % db], check=True,
                   capture_output=True)
    os.environ["PGDATABASE"] = db
    subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-c", base], check=True,
                   capture_output=True)
    r = subprocess.run(["psql", "-X", "-q", "-At"], input=psql_script(fixtures),
                       capture_output=True, text=True)
    rows = {}
    for line in r.stdout.splitlines():
        if not line.startswith("ROW|"):
            continue
        _, n, rel, rewrote, modes = line.split("|", 4)
        held = {MODES[m] for m in modes.split(",") if m}
        rows.setdefault(int(n), {})["public." + rel] = (rewrote == "1", held)

    fails = []
    for n, (rule, server, mode, sql) in fixtures:
        got = findings[n]
        what = "fixture %d (%s): %s" % (n, rule, sql)
        if rule != "-" and not any(f["rule"] == rule for f in got):
            fails.append("%s: the lint did not report %s" % (what, rule))
        if rule == "-" and got:
            fails.append("%s: the lint reported %s" % (what, got[0]["rule"]))
        if server == "!":
            if n in rows:
                fails.append("%s: the server ran it; the lint says it fails" % what)
            continue
        if n not in rows:
            fails.append("%s: the server refused it: %s" % (what, r.stderr.strip()[:300]))
            continue
        single = sql.count(";") == 1
        for f in got:
            rel, lock = f["relation"], f["lock_mode"]
            if rel not in rows[n] or lock is None:
                continue
            rewrote, held = rows[n][rel]
            if lock not in held:
                fails.append("%s: predicted %s on %s, the server took %s"
                             % (what, lock, rel, sorted(held) or "none"))
            elif single and max(ORDER.index(h) for h in held) > ORDER.index(lock):
                fails.append("%s: predicted %s on %s, the server took the stronger %s"
                             % (what, lock, rel, ORDER[max(ORDER.index(h) for h in held)]))
            if f["rewrites"] != rewrote:
                fails.append("%s: predicted rewrites=%s on %s, the server %s"
                             % (what, f["rewrites"], rel,
                                "rewrote it" if rewrote else "did not rewrite it"))
        for rel, (rewrote, held) in rows[n].items():
            if rewrote and not any(f["relation"] == rel and f["rewrites"] for f in got):
                fails.append("%s: the server rewrote %s and the lint did not say so"
                             % (what, rel))
            top = max((ORDER.index(h) for h in held), default=-1)
            if top >= BLOCKING and not any(f["relation"] == rel for f in got):
                fails.append("%s: the server took %s on %s and no finding names it"
                             % (what, ORDER[top], rel))
    for line in fails:
        print("FAIL " + line)
    print("%s %d fixtures on the server, %d problems" % ("ok" if not fails else "not ok",
                                                          len(fixtures), len(fails)))
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
