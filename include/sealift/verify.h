/*
 * verify.h: open a bundle and establish trust in it, in the only safe order:
 *   1. read the manifest (first member, bounded) and the signature members after it;
 *   2. verify the signatures over the manifest bytes with the trusted keys (threshold);
 *   3. only then parse the manifest, and check each signature's trusted comment against it;
 *   4. stream every other member, in manifest order, checking name, size and SHA-256;
 *   5. require the end of the archive right after the last member.
 * Nothing read from the bundle is returned to the caller unless all of this holds.
 */
#ifndef SEALIFT_VERIFY_H
#define SEALIFT_VERIFY_H

#include "sealift/buf.h"
#include "sealift/bundle.h"
#include "sealift/codec.h"
#include "sealift/diag.h"
#include "sealift/manifest.h"
#include "sealift/sig.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Most signature members a bundle may carry. */
#define VERIFY_MAX_SIGNATURES 64

/*
 * The untrusted comment of every signature member. minisign does not sign it, so a reader
 * requires it (and the whole member) in exactly the form sealift writes: no byte of a
 * bundle may change without the bundle being refused (FORMAT.md 5.1).
 */
#define BUNDLE_SIG_UNTRUSTED_COMMENT "signature from sealift secret key"

struct verify_options {
    const struct sig_pubkey *keys; /* trusted public keys */
    size_t nkeys;
    unsigned threshold; /* distinct trusted keys whose signatures must verify (>= 1) */
    /*
     * 0 to skip trust (inspect, sign): signatures are parsed and listed, but the manifest is
     * used without a trusted signature. Member checksums are still checked.
     */
    int require_trust;
    int keep_data; /* keep script members in memory (result.data); data members never */
    /*
     * With keep_data and keep set, a script member is kept only when keep(m, i, kept, arg)
     * says so (kept: the bytes kept so far); the others stay empty (result.data[i].len differs
     * from the member's size) and are read again when used (bundle_cursor).
     */
    int (*keep)(const struct manifest *m, size_t member, uint64_t kept, void *arg);
    void *keep_arg;
    /*
     * Never hold result.manifest_text: the manifest is parsed and hashed (bundle_id, and the
     * digest its signatures sign) as it streams out of the archive, in bounded pieces. For
     * callers that never write the manifest out again (the applier): a 100,000-migration
     * manifest is about 70 MiB of text. Its parse is used only once the signatures hold, and
     * a parse error is reported only then. A legacy "Ed" signature signs the text itself: the
     * text is read again for it (and checked against bundle_id), then dropped.
     */
    int drop_text;
};

struct verify_signature {
    char member[BUNDLE_SIG_NAME_MAX];
    unsigned char keyid[SIG_KEYID_BYTES];
    int trusted; /* a key given in the options has this key id */
    int valid;   /* verified with that key */
    char *trusted_comment;
    struct buf text; /* the signature member's bytes */
};

struct verify_result {
    struct manifest manifest;
    struct buf manifest_text;
    unsigned char bundle_id[HASH_SHA256_BYTES]; /* SHA-256 of the manifest bytes */
    struct verify_signature *sigs;
    size_t nsigs;
    size_t ntrusted_valid; /* distinct trusted keys whose signature verified */
    struct buf *data;      /* per member, when keep_data; else NULL */
    enum codec_kind compression;
    uint64_t file_size;
    int64_t mtime; /* of the MANIFEST member (all members share it) */
};

void verify_result_init(struct verify_result *res);
void verify_result_release(struct verify_result *res);

/*
 * Verify the bundle at path. Returns 0 with res filled, or -1 with err set; err->io is set
 * when the bundle could not be read at all (missing file) rather than rejected.
 */
int bundle_verify(const char *path, const struct verify_options *opt, struct verify_result *res,
                  struct diag_err *err);

/*
 * A second, forward-only reading of a verified bundle's members, for COPY data too large to
 * keep in memory. Each member read through it is hashed again: bytes that differ from what
 * was verified (the file was changed or replaced in between) make the read fail, and the last
 * bytes of a member are returned only after the whole member hashed as verified. m is the
 * verified manifest (kept by the caller for the cursor's life).
 */
struct bundle_cursor;

struct bundle_cursor *bundle_cursor_open(const char *path, const struct manifest *m,
                                         struct diag_err *err);
/* Position at the start of member idx (seeking back reads the archive from the start). */
int bundle_cursor_seek(struct bundle_cursor *c, size_t idx, struct diag_err *err);
/* Read the member's next bytes: count, 0 at its end, -1 with err set. */
ssize_t bundle_cursor_read(struct bundle_cursor *c, void *buf, size_t len, struct diag_err *err);
void bundle_cursor_close(struct bundle_cursor *c);
/* The path of the bundle the cursor reads. */
const char *bundle_cursor_path(const struct bundle_cursor *c);

/* The trusted comment sealift puts in every signature of a bundle with this manifest. */
void bundle_trusted_comment(const struct manifest *m, struct buf *out);

/* The member name of the signature by keyid: "MANIFEST.<KEYID>.minisig". */
void bundle_signature_name(char out[BUNDLE_SIG_NAME_MAX], const unsigned char *keyid);

#endif
