/*
 * plan.h: "sealift-apply plan": the psql script that apply (or rollback, for a target behind
 * the database) would run, history writes included, printed without changing anything. The
 * move is decided as apply and rollback decide theirs (move.h).
 */
#ifndef SEALIFT_APPLIER_PLAN_H
#define SEALIFT_APPLIER_PLAN_H

#include "common.h"

/*
 * Verify, connect (no lock), decide the move to to (NULL: the bundle's head), and write its
 * script to stdout. per_migration: one transaction per migration. review: the reading copy
 * instead (plan_review.h). Returns the exit code.
 */
int plan_run(const struct app_opts *o, const char *bundle_path, const char *to, int per_migration,
             int review);

#endif
