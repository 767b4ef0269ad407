/*
 * readers.h: the source-format readers, one file each (read_<format>.c), sealift's own format
 * (read_native.c) among them. Each only adds the chain's migrations and their raw scripts to a
 * struct src_chain (chain.h), reports what it cannot represent faithfully against the file,
 * and lists the files that are not migrations as ignored. What every format shares is done
 * once by the pipeline (pipeline.c): the chain's format and directory, leaving sealift.sum out
 * of the ignored files, unique ids, and the source checksums. Signatures as struct
 * format_reader (formats.h): read returns -1 with err set only when the directory cannot be
 * read at all; detect returns 0..3.
 */
#ifndef SEALIFT_COMPILER_READERS_H
#define SEALIFT_COMPILER_READERS_H

#include "formats.h"

#include <stddef.h>
#include <stdint.h>

#define READER_DECLARE(fmt)                                                                        \
    int read_##fmt(const char *dir, const struct read_options *opt, struct src_chain *c,           \
                   struct report *rep, struct diag_err *err);                                      \
    int detect_##fmt(const char *dir)

READER_DECLARE(native);
READER_DECLARE(alembic);
READER_DECLARE(flyway);
READER_DECLARE(golang_migrate);
READER_DECLARE(dbmate);
READER_DECLARE(goose);
READER_DECLARE(sqitch);
READER_DECLARE(diesel);
READER_DECLARE(liquibase);

/*
 * --from auto's detection with its reason: the score of detect_<format>, and when it is not 0
 * and why is not NULL, what was found, for "detected FORMAT (WHY)" ("sqitch.plan", "\"-- +goose
 * Up\" in 00001_init.sql"), into why (cap bytes). detect_<format> is this without the reason.
 */
#define DETECT_WHY_DECLARE(fmt) int detect_##fmt##_why(const char *dir, char *why, size_t cap)

DETECT_WHY_DECLARE(native);
DETECT_WHY_DECLARE(alembic);
DETECT_WHY_DECLARE(flyway);
DETECT_WHY_DECLARE(golang_migrate);
DETECT_WHY_DECLARE(dbmate);
DETECT_WHY_DECLARE(goose);
DETECT_WHY_DECLARE(sqitch);
DETECT_WHY_DECLARE(diesel);
/* Liquibase's changelogs (detect_liquibase.c): detection only; the reader is read_liquibase. */
DETECT_WHY_DECLARE(liquibase);

/*
 * Native: --from auto's detect says 2 if dir has sealift.sum or VERSION_SLUG.*.sql files, 1 for
 * any other directory (native is the default), 0 if it cannot be read.
 */

/* The most digits a native VERSION has. */
#define NATIVE_VERSION_MAX 32

/* 1 if slug is a valid native migration slug: letters, digits, '_' and '-' (200 at most). */
int native_slug_valid(const char *slug);

/*
 * Flyway's checksum of a script's raw bytes: CRC-32 over the UTF-8 bytes of its lines without
 * their terminators (LF, CRLF or a lone CR), a leading byte-order mark dropped, as a signed
 * 32-bit integer (what flyway_schema_history.checksum holds).
 */
int32_t flyway_checksum(const char *raw, size_t len);

#endif
