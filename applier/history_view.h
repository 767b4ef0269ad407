/*
 * history_view.h: the reading and the two views of "sealift-apply history" (see
 * history_view.c). The command only parses options and calls these.
 */
#ifndef SEALIFT_APPLIER_HISTORY_VIEW_H
#define SEALIFT_APPLIER_HISTORY_VIEW_H

#include "db.h"
#include "history.h"
#include "journal.h"
#include "sealift/buf.h"

/*
 * Read the projects and the journal (in seq order) of history h. Returns 0, or -1 with e set
 * (either result may then be NULL). The caller frees both with db_rows_free.
 */
int history_view_load(struct db *db, const struct history_ctx *h, struct db_rows **projects,
                      struct db_rows **events, struct db_error *e);
/* The journal as a table on stdout. */
void history_view_text(struct db_rows *projects, struct db_rows *events);
/*
 * JSON Lines on stdout: a "project" object per project, an "event" object per journal row,
 * then with verified >= 0 a "verification" object carrying verdict.
 */
void history_view_json(struct db_rows *projects, struct db_rows *events, int verified,
                       const char *verdict);
/*
 * --verify: the journal's chain and the state tables, then the heads in witness (a file, or
 * NULL). verdict gets one line per problem (or "journal intact ..."). Returns 1 intact, 0 not,
 * -1 on a database error, -2 when the witness file cannot be read (both reported).
 */
int history_view_verify(struct db *db, const struct history_ctx *h, const char *witness,
                        struct buf *verdict, struct db_error *e);

#endif
