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

#endif
