/*
 * emit.h: write a bundle archive in the order format v1 fixes: MANIFEST, its signatures sorted
 * by key id, then every member in manifest order.
 */
#ifndef SEALIFT_COMPILER_EMIT_H
#define SEALIFT_COMPILER_EMIT_H

#include "spill.h"
#include "sealift/buf.h"
#include "sealift/codec.h"
#include "sealift/diag.h"
#include "sealift/manifest.h"
#include "sealift/seckey.h"
#include "sealift/verify.h"

#include <stdint.h>

struct emit_signature {
    char name[48]; /* MANIFEST.<KEYID>.minisig */
    struct buf text;
};

struct emit_signatures {
    struct emit_signature *v;
    size_t n;
    size_t cap;
};

void emit_signatures_init(struct emit_signatures *s);
void emit_signatures_release(struct emit_signatures *s);
/* Add a signature member (text copied); keeps them sorted; refuses a second by one key. */
int emit_signatures_add(struct emit_signatures *s, const char *name, const char *text, size_t len,
                        struct diag_err *err);
/* Sign manifest_text with key, with sealift's trusted comment for m, and add it. */
int emit_sign(struct emit_signatures *s, const struct manifest *m, const struct buf *manifest_text,
              const struct seckey *key, struct diag_err *err);

/*
 * Where a member's bytes come from: memory, a file (COPY data files, at build), the chain's
 * spill of checked scripts (at build, spill.h), or the member of the same index read again from
 * a verified bundle (data members, at sign). Unused fields are zero.
 */
struct emit_source {
    const struct buf *data;
    const char *file;
    struct bundle_cursor *cursor;
    const struct spill *spill; /* the member's manifest size of bytes at spill_off */
    uint64_t spill_off;
    int file_owned; /* file is malloc'd: emit_sources_release frees it */
};

/* Free sources (n of them) and the file names they own. */
void emit_sources_release(struct emit_source *sources, size_t n);

/*
 * Write the whole bundle. src[i] holds member i of m. A file is streamed, and must still have
 * the size and SHA-256 the manifest records.
 */
int emit_bundle(const char *path, enum codec_kind compression, int64_t mtime,
                const struct buf *manifest_text, const struct emit_signatures *sigs,
                const struct manifest *m, const struct emit_source *src, struct diag_err *err);

#endif
