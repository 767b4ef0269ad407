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
/* The inspect report: bundle facts, signatures, then one line per migration. */
void describe_text(const char *path, const struct verify_result *res, int trust_checked,
                   struct buf *out);
/* The same as one JSON object (with members), followed by a newline. */
void describe_json(const char *path, const struct verify_result *res, int trust_checked,
                   struct buf *out);
/*
 * One lint finding as a JSON object (script, line, column, rule, severity, message, relation,
 * relation_created_by, lock_mode, rewrites, scans, allowed), appended to out; with a
 * "migration" member first when migration is not NULL.
 */
void describe_finding_json(struct buf *out, const struct manifest_finding *fd,
                           const char *migration);

#endif
