/*
 * locktrace.h: the lock trace of "sealift-apply test". Between the statements of every up and
 * down script it asks the server, on the runner's own connection, which relation locks its
 * backend holds (pg_locks for pg_backend_pid()) and each relation's relfilenode, and so learns
 * per statement: the locks it newly took on relations that existed before the migration
 * started, whether it rewrote any of them (relfilenode changed), and its duration. Each
 * blocking lock (one that keeps others from reading or writing) and each rewrite is held
 * against the bundle's signed lint findings for that statement: one no finding predicts is
 * reported as "lint missed".
 *
 * Output: with --json a "lock_trace" event per statement; in text, per migration and
 * direction the first time it is traced, a compact table of the statements that took a
 * blocking lock on an existing relation or rewrote one, and the "lint missed" lines, held
 * until locktrace_flush() (so they follow the report line of the step).
 *
 * A statement that runs outside a transaction has released its locks when it ends: for it
 * only rewrites and the duration are traced.
 */
#ifndef SEALIFT_APPLIER_LOCKTRACE_H
#define SEALIFT_APPLIER_LOCKTRACE_H

#include "out.h"
#include "runner.h"
#include "sealift/buf.h"
#include "sealift/manifest.h"

struct locktrace_rel;

struct locktrace {
    const struct manifest *m;
    const char *schema; /* the history schema: not traced */
    struct out *out;
    const char *phase; /* JSON name of the phase being walked ("round_trip", ...) */
    /* The migration being traced: relations that existed when it started, as last seen. */
    size_t idx;
    int kind;
    int show;         /* its table is printed (the first trace of this migration and kind) */
    int failed_query; /* a trace query failed: the rest of this script is not traced */
    struct locktrace_rel *rels;
    size_t nrels;
    struct buf rows;        /* the table's rows for the migration being traced */
    struct buf missed;      /* its "lint missed" lines */
    struct buf text;        /* finished tables, until locktrace_flush */
    char *shown;            /* per migration: bit 1 up traced, bit 2 down traced */
    struct buf missed_keys; /* "lint missed" already said ('\n'-separated keys) */
    size_t nmissed;         /* distinct "lint missed" */
    size_t nstatements;     /* statements traced */
    long long query_ns;     /* time spent asking the server */
};

/* m and out stay the caller's; schema: the history schema's name. */
void locktrace_init(struct locktrace *t, const struct manifest *m, const char *schema,
                    struct out *out);
void locktrace_release(struct locktrace *t);

/* The runner's hooks (runner_set_tracer(r, &locktrace_ops, t)). */
extern const struct runner_tracer locktrace_ops;

/* Print the tables finished since the last flush (text only; nothing with -q or --json). */
void locktrace_flush(struct locktrace *t);

#endif
