/*
 * status.h: "sealift-apply status": what the database has applied from a bundle's chain, what
 * is pending, drift, and what apply would do, as text or one JSON object. The verdict is
 * apply's own (move.h): exit 0 at the bundle's head, 7 pending, 3 refused or unknown history.
 */
#ifndef SEALIFT_APPLIER_STATUS_H
#define SEALIFT_APPLIER_STATUS_H

#include "common.h"

/* Verify, connect (no lock), compare, decide and report. Returns the exit code. */
int status_run(const struct app_opts *o, const char *bundle_path);

#endif
