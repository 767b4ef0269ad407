/*
 * plan_review.h: "sealift-apply plan --review": the SQL a move would run, for a DBA to read,
 * not to run: each script in the order the move runs it, under a header comment (migration,
 * direction, transaction, the lint's findings and the live risk), without sealift's history
 * writes. The walk is the one apply and rollback follow (walk.h).
 */
#ifndef SEALIFT_APPLIER_PLAN_REVIEW_H
#define SEALIFT_APPLIER_PLAN_REVIEW_H

#include "move.h"
#include "session.h"

/*
 * Write the review of verdict v (MOVE_UP or MOVE_DOWN) on session s to stdout;
 * per_migration: one transaction per migration. Returns the exit code.
 */
int plan_review_write(struct session *s, const struct move_verdict *v, int per_migration);

#endif
