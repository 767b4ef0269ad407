/*
 * proof_report.h: what "sealift-apply test" tells its user: a line (or a JSON event) per
 * migration's round trip and per phase of the whole chain, the start and the result, and the
 * first failure for the final error. proof.c decides what happened; this module only says it,
 * and keeps the counts the result line needs.
 *
 * A failed walk is reported from a struct failure (failure.h), the runner's own description
 * (proof.c copies it from the runner, or fills it from a failed COMMIT check), rendered by the
 * failure module as the runner renders it.
 */
#ifndef SEALIFT_APPLIER_PROOF_REPORT_H
#define SEALIFT_APPLIER_PROOF_REPORT_H

#include "db.h"
#include "failure.h"
#include "out.h"
#include "snapshot.h"
#include "sealift/buf.h"
#include "sealift/manifest.h"

#include <stddef.h>

/*
 * Append a failure to b. Text: "MESSAGE (SQLSTATE XXXXX)", for the end of a report line.
 * JSON: ",\"error\":{...}" (failure_json's fields), nothing when f is NULL.
 */
void proof_failure_render(struct buf *b, const struct failure *f, int json);

/* What one step found: a migration's round trip, or a phase of the whole chain. */
struct proof_outcome {
    const char *result;               /* "ok", "failed", "skipped" */
    const char *reason;               /* a code for JSON ("down_differs", ...), or NULL */
    struct buf text;                  /* the terminal's words after the label */
    const struct snapshot_diff *diff; /* the differences found, or NULL; not owned */
    const struct failure *fail;       /* the failure, or NULL; not owned */
    double up_ms, down_ms, again_ms;  /* a round trip's steps */
};

/* "ok", no reason, no text. Release with proof_outcome_release(). */
void proof_outcome_init(struct proof_outcome *oc);
/* Set result, reason and the text (replacing it); a failure's words may be appended after. */
void proof_outcome_set(struct proof_outcome *oc, const char *result, const char *reason,
                       const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void proof_outcome_release(struct proof_outcome *oc);

/* The report of one test run. */
struct proof_report {
    const struct manifest *m;
    struct out *out; /* where the user reads it: text, --json or -q; not owned */
    size_t nok;      /* migrations that round-trip */
    size_t nfailed;  /* migrations that do not */
    int phase_failed;
    char *verdict;           /* per migration: 'o' ok, 'f' failed, 's' skipped, 0 untested */
    struct buf failed;       /* ids of migrations that fail the round trip, JSON array items */
    struct buf irreversible; /* labels, ", "-separated */
    struct buf irreversible_json;
    struct buf first;         /* the first failure: migration label or phase; "" if none */
    struct buf first_reason;  /* and what went wrong */
    struct buf first_details; /* its differences, one per line, for the final error */
};

/* m and out stay the caller's and must outlive rep. */
void proof_report_init(struct proof_report *rep, const struct manifest *m, struct out *out);
void proof_report_release(struct proof_report *rep);

/* "testing N migrations of ..." or a test_start event. dir: the throwaway server's. */
void proof_report_start(struct proof_report *rep, const char *database, int throwaway,
                        const char *server_version, const char *dir);
/* Migration k has no down: listed in the result as irreversible (reported by the caller). */
void proof_report_irreversible(struct proof_report *rep, size_t k);
/* A migration's round trip: "[  3/6] FAIL  003_x: its down ...", or a round_trip event. */
void proof_report_migration(struct proof_report *rep, size_t k, const struct proof_outcome *oc);
/*
 * A phase of the whole chain: "ok    head to base: ..." or a phase event. phase: the JSON
 * name ("head_to_base"); title: the terminal's ("head to base"); ms: how long it took.
 */
void proof_report_phase(struct proof_report *rep, const char *phase, const char *title,
                        const struct proof_outcome *oc, double ms);
/*
 * "test passed: ..." or "test FAILED: ..." (a test_result event), then for a failure the error
 * with its differences as detail lines. ms: the whole test. Returns 0 (passed) or 1.
 */
int proof_report_end(struct proof_report *rep, double ms);

#endif
