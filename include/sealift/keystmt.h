/*
 * keystmt.h: key statements, the signed messages that change which keys a database trusts.
 *
 * A rotation says "key NEW replaces key OLD for bundles from serial N on"; a revocation says
 * "key K must never be trusted again". A statement is one text file (bundles/FORMAT.md,
 * section "Key statements"): a body of "NAME VALUE" lines ending with "end", then one or more
 * minisign signatures over the body (4 lines each, prehashed "ED", sorted by key id, each key
 * once), so that stock minisign can check it once the body is cut off at "end".
 *
 * Nothing here decides whom to trust (trust.h does); this module only reads, writes and checks
 * the signatures of a statement.
 */
#ifndef SEALIFT_KEYSTMT_H
#define SEALIFT_KEYSTMT_H

#include "sealift/buf.h"
#include "sealift/diag.h"
#include "sealift/sig.h"

#include <stddef.h>
#include <stdint.h>

#define KEYSTMT_HEADER "sealift-key-statement 1"
/* Most signatures one statement carries (as many as a bundle may). */
#define KEYSTMT_MAX_SIGS 64
/* Longest comment (bytes, decoded). */
#define KEYSTMT_MAX_COMMENT 512
/* Largest statement file. */
#define KEYSTMT_MAX_BYTES (KEYSTMT_MAX_SIGS * 1024u + 4096u)

enum keystmt_kind { KEYSTMT_ROTATION, KEYSTMT_REVOCATION };

struct keystmt {
    enum keystmt_kind kind;
    /* Rotation: the retired key's id. Revocation: the revoked key's id. */
    unsigned char subject[SIG_KEYID_BYTES];
    struct sig_pubkey newkey; /* rotation: the key that replaces subject */
    uint64_t from_serial;     /* rotation: newkey signs bundles from this serial on */
    char comment[KEYSTMT_MAX_COMMENT + 1];
    char created[32];           /* YYYY-MM-DDTHH:MM:SSZ */
    size_t body_len;            /* bytes of the signed body, "end\n" included */
    struct sig_signature *sigs; /* sorted by key id, each key once */
    size_t nsigs;
};

void keystmt_init(struct keystmt *st);
void keystmt_release(struct keystmt *st);

/* "rotation" or "revocation". */
const char *keystmt_kind_name(enum keystmt_kind kind);

/*
 * Append the body of st (its fields; not its signatures) to out: the bytes every signature
 * covers.
 */
void keystmt_format_body(const struct keystmt *st, struct buf *out);

/* Append the trusted comment each signature of st carries to out. */
void keystmt_trusted_comment(const struct keystmt *st, struct buf *out);

/*
 * Parse a statement file strictly (the body, then canonical signatures whose trusted comments
 * describe the body). Signatures are not verified here. Returns 0, or -1 with err set.
 */
int keystmt_parse(struct keystmt *st, const char *text, size_t len, struct diag_err *err);

/*
 * Verify st's signature by key (text: the statement file st was parsed from). Returns 1 if st
 * has a valid signature by key, 0 if it has none by key, -1 with err set if its signature by
 * key is bad.
 */
int keystmt_verify_by(const struct keystmt *st, const char *text, const struct sig_pubkey *key,
                      struct diag_err *err);

#endif
