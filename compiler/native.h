/*
 * native.h: the native source format: VERSION_SLUG.up.sql, VERSION_SLUG.down.sql and
 * VERSION_SLUG.verify.sql in one directory, ordered by VERSION (digits, compared as numbers).
 */
#ifndef SEALIFT_COMPILER_NATIVE_H
#define SEALIFT_COMPILER_NATIVE_H

#include "chain.h"
#include "sealift/diag.h"

/*
 * Read the chain in dir. Problems with the files are reported and counted in rep; an
 * unreadable directory returns -1 with err set (err->io). Returns 0 otherwise.
 */
int native_read(const char *dir, struct src_chain *c, struct report *rep, struct diag_err *err);

/*
 * --from auto: 2 if dir has sealift.sum or VERSION_SLUG.*.sql files, 1 for any other
 * directory (native is the default), 0 if it cannot be read.
 */
int native_detect(const char *dir);

/* 1 if name is a valid migration slug: letters, digits, '_' and '-'. */
int native_slug_valid(const char *slug);

#endif
