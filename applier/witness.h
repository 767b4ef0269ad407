/*
 * witness.h: a journal witness, a file outside the database that anchors the journal's head.
 *
 * Each command that writes the journal may append one line to it: "SEQ HASH TIME BUNDLE",
 * the journal's last row, its hash, the host's UTC time and the bundle id. The journal's hash
 * chain is unkeyed: whoever can write the history schema can rewrite every row and re-hash
 * the chain. A head kept elsewhere cannot be rewritten with it: "history --verify --witness"
 * checks that row SEQ still has HASH.
 */
#ifndef SEALIFT_APPLIER_WITNESS_H
#define SEALIFT_APPLIER_WITNESS_H

#include "db.h"
#include "history.h"
#include "journal.h"
#include "sealift/buf.h"
#include "sealift/diag.h"

/* The longest witness file read (a line is under 200 bytes: a million heads). */
#define WITNESS_MAX_SIZE (256u * 1024 * 1024)

/*
 * Append pos as a line to the witness file at path (created 0600 if missing, opened for
 * appending, flushed to disk before returning). bundle_id may be NULL ("-"). With pos NULL,
 * only check that the file can be opened for appending (creating it).
 * Returns 0, or -1 with err filled.
 */
int witness_append(const char *path, const struct journal_pos *pos, const char *bundle_id,
                   struct diag_err *err);

/*
 * Append the head of h's journal to the witness file at path; nothing when there is no
 * journal or it is empty. Returns 0, or -1 with err filled (the file) or e filled (the
 * database; err.msg then empty).
 */
int witness_record(struct db *db, const struct history_ctx *h, const char *path,
                   const char *bundle_id, struct diag_err *err, struct db_error *e);

/*
 * Check every line of the witness file at path against the journal of h: row SEQ must exist
 * and have HASH. Appends "witness: N heads found in the journal" or, one per line, each
 * problem (the first names the first seq that differs) to out.
 * Returns 0 if all match, 1 if not, -1 if the file cannot be read or parsed (err filled, as
 * "PATH:LINE: ..." when a line is malformed) or on a database error (e filled, err empty).
 */
int witness_check(struct db *db, const struct history_ctx *h, const char *path, struct buf *out,
                  struct diag_err *err, struct db_error *e);

/*
 * Check that h's journal has a row with the head text gives: "HASH" (64 lowercase hex digits:
 * some row has this hash) or "SEQ:HASH" (row SEQ has it), as apply, rollback and stamp print
 * it ("journal head SEQ HASH"). Appends "expected head found at row SEQ" or the problem to
 * out. Returns 0 if found, 1 if not, -1 with err set when text is malformed, -1 with e filled
 * (err empty) on a database error.
 */
int witness_expect_head(struct db *db, const struct history_ctx *h, const char *text,
                        struct buf *out, struct diag_err *err, struct db_error *e);

#endif
