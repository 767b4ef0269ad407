/*
 * trust.h: which keys are trusted, and how key statements (keystmt.h) move that forward.
 *
 * The model (bundles/FORMAT.md, "Key statements"): the operator's public keys (-p) are the
 * anchors, all current. A statement takes effect when `threshold` distinct current keys signed
 * it (TUF's root rule: each key counts once). A rotation retires one key and makes its
 * successor current for bundles of serial from_serial on; a revocation makes a key revoked.
 * Nothing goes back: a retired or revoked key never becomes current again.
 *
 * Pure: the caller brings the statements (from a bundle, from a database's journal) in order.
 */
#ifndef SEALIFT_TRUST_H
#define SEALIFT_TRUST_H

#include "sealift/buf.h"
#include "sealift/diag.h"
#include "sealift/keystmt.h"
#include "sealift/sig.h"
#include "sealift/verify.h"

#include <stddef.h>
#include <stdint.h>

enum trust_key_state { TRUST_CURRENT, TRUST_RETIRED, TRUST_REVOKED };

struct trust_key {
    unsigned char keyid[SIG_KEYID_BYTES];
    int have_pk; /* 0 for a key known only by its id (retired or revoked before we saw it) */
    struct sig_pubkey pk;
    enum trust_key_state state;
    int anchor;           /* given by the operator */
    uint64_t from_serial; /* signs bundles of this serial and later */
    /*
     * A retired key still signs bundles of serials below its successor's from_serial: the
     * last bundles signed by the old key can carry the rotation (signify's way).
     */
    uint64_t until_serial;
    /* The statement that last changed the key: its time, and for a rotation the successor. */
    char changed[32];
    unsigned char successor[SIG_KEYID_BYTES];
    int have_successor;
};

struct trust_set {
    struct trust_key *v;
    size_t n;
    size_t cap;
    unsigned threshold;
    /*
     * Apply statements without checking their signatures: to show what a database's journal
     * records (sealift-apply keys without -p), never to decide whom to trust.
     */
    int unverified;
};

/* What trust_apply did with a statement. */
enum trust_outcome {
    TRUST_APPLIED, /* it changed the set */
    TRUST_KNOWN,   /* the set already says what it says */
    TRUST_IGNORED  /* not signed by enough current keys, and it concerns no current key */
};

/* A set of the anchors (copied), all current from serial 0. */
void trust_set_init(struct trust_set *t, const struct sig_pubkey *anchors, size_t n,
                    unsigned threshold);
void trust_set_release(struct trust_set *t);

/* The key with this id, or NULL. */
const struct trust_key *trust_find(const struct trust_set *t,
                                   const unsigned char keyid[SIG_KEYID_BYTES]);

/*
 * Apply statement st (parsed from text) to t. Returns its outcome, or -1 with err set when it
 * must be refused: a bad signature by a current key, a statement about a current key signed
 * by fewer than the threshold of current keys, or a rotation to a retired or revoked key.
 */
int trust_apply(struct trust_set *t, const struct keystmt *st, const char *text,
                struct diag_err *err);

/* 1 if k may sign a bundle of this serial: current from its from_serial, or retired only
 * from a later serial on. */
int trust_key_signs(const struct trust_key *k, uint64_t serial);

/*
 * The keys that may sign a bundle of this serial (trust_key_signs), appended to ring (which
 * the caller owns).
 */
void trust_signing_keys(const struct trust_set *t, uint64_t serial, struct sig_keyring *ring);

/*
 * How many distinct keys whose signature on res verified are current for res's serial in t.
 * Every other verified signer is described in why (", "-separated: "key X was retired on
 * DATE (replaced by Y)", "key X was revoked on DATE").
 */
size_t trust_count_signers(const struct trust_set *t, const struct verify_result *res,
                           struct buf *why);

/* "current", "retired" or "revoked". */
const char *trust_state_name(enum trust_key_state state);

#endif
