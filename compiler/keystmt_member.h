/*
 * keystmt_member.h: key statement files (keystmt.h) as members of a bundle being built.
 */
#ifndef SEALIFT_COMPILER_KEYSTMT_MEMBER_H
#define SEALIFT_COMPILER_KEYSTMT_MEMBER_H

#include "emit.h"
#include "sealift/diag.h"
#include "sealift/manifest.h"

/*
 * Read each of the n statement files (checked strictly: a statement no applier would read is
 * refused here), and add each as a member "keys/NN-KIND-KEYID.txt" of m, listed as a key
 * statement, with its bytes in (*sources)[member] (grown to m's member count). Nothing is
 * added unless every file is good. Returns 0, or -1 with err set (err->io for a file that
 * cannot be read).
 */
int keystmt_add_members(struct manifest *m, struct emit_source **sources, const char *const *paths,
                        size_t n, struct diag_err *err);

/* Free the bytes keystmt_add_members gave the key statements of m (sources may be NULL). */
void keystmt_sources_release(const struct manifest *m, struct emit_source *sources, size_t n);

#endif
