/*
 * describe.h: human and JSON descriptions of a verified bundle, shared by both binaries'
 * verify and inspect commands. Formatting only: the caller prints.
 */
#ifndef SEALIFT_DESCRIBE_H
#define SEALIFT_DESCRIBE_H

#include "sealift/buf.h"
#include "sealift/verify.h"

/* One line: "PATH: verified: project P, serial N, ... signed by KEYID". */
void describe_verified(const char *path, const struct verify_result *res, struct buf *out);
/* Hex digits of a member's SHA-256 that the text report shows (JSON has all 64). */
#define DESCRIBE_SHA_PREFIX 16

/*
 * The inspect report: bundle facts, signatures, one line per migration, then one line per
 * member (path, size, SHA-256 prefix), per repeatable and per lint finding. Every table's
 * columns, and the facts' labels, are as wide as their longest cell (sealift/table.h).
 */
void describe_text(const char *path, const struct verify_result *res, int trust_checked,
                   struct buf *out);
/* The same as one JSON object (with members), followed by a newline. */
void describe_json(const char *path, const struct verify_result *res, int trust_checked,
                   struct buf *out);
/*
 * One lint finding as a JSON object (script, line, column, rule, severity, message, relation,
 * relation_created_by, lock_mode, rewrites, scans, allowed), appended to out; with a
 * "migration" member first when migration is not NULL (a migration's id, or a repeatable's
 * name), and after it "repeatable" (whether migration names a repeatable).
 */
void describe_finding_json(struct buf *out, const struct manifest_finding *fd,
                           const char *migration, int repeatable);

#endif
