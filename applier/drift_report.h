/*
 * drift_report.h: what a schema drift comparison (drift.h) says, as text lines, as one JSON
 * object, and as a one-line summary for refusals and the journal.
 */
#ifndef SEALIFT_APPLIER_DRIFT_REPORT_H
#define SEALIFT_APPLIER_DRIFT_REPORT_H

#include "drift.h"
#include "sealift/buf.h"

/* "none", "drift", "changed" (hash only) or "no_fingerprint". */
const char *drift_state_word(enum drift_state s);

/* Is it drift (objects differ, named or not)? */
int drift_found(const struct drift_result *r);

/*
 * Append the report as text lines: a heading naming the fingerprint (event, journal row,
 * time), then per object its change, kind and name, and its definition before ("was:") and
 * after ("now:"), continuation lines indented.
 */
void drift_text(const struct drift_result *r, struct buf *out);

/*
 * Append the JSON object: {"state":..., "fingerprint":{...} or null, "live_sha256":...,
 * "ignored_schemas":[...], "changes":[{"change","kind","name","before","after"}...]}.
 */
void drift_json(const struct drift_result *r, struct buf *out);

/* Append "N objects changed: missing index public.i, added column ..." (at most
 * DRIFT_SUMMARY_NAMES named, then "and N more"). */
void drift_summary(const struct drift_result *r, struct buf *out);

#endif
