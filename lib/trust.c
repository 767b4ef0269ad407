/*
 * trust.c: the trusted key set and how key statements move it forward (trust.h).
 * Layer: lib. Pure.
 */
#include "sealift/trust.h"
#include "sealift/xalloc.h"

#include <stdlib.h>
#include <string.h>

void
trust_set_init(struct trust_set *t, const struct sig_pubkey *anchors, size_t n, unsigned threshold)
{
    memset(t, 0, sizeof(*t));
    t->threshold = threshold ? threshold : 1;
    for (size_t i = 0; i < n; i++) {
        struct trust_key *k;

        t->v = xgrow(t->v, &t->cap, t->n + 1, sizeof(*t->v));
        k = &t->v[t->n++];
        memset(k, 0, sizeof(*k));
        memcpy(k->keyid, anchors[i].keyid, SIG_KEYID_BYTES);
        k->pk = anchors[i];
        k->have_pk = 1;
        k->anchor = 1;
    }
}

void
trust_set_release(struct trust_set *t)
{
    free(t->v);
    memset(t, 0, sizeof(*t));
}

const char *
trust_state_name(enum trust_key_state state)
{
    return state == TRUST_CURRENT ? "current" : state == TRUST_RETIRED ? "retired" : "revoked";
}

const struct trust_key *
trust_find(const struct trust_set *t, const unsigned char keyid[SIG_KEYID_BYTES])
{
    for (size_t i = 0; i < t->n; i++)
        if (memcmp(t->v[i].keyid, keyid, SIG_KEYID_BYTES) == 0)
            return &t->v[i];
    return NULL;
}

static struct trust_key *
find_or_add(struct trust_set *t, const unsigned char keyid[SIG_KEYID_BYTES])
{
    struct trust_key *k = (struct trust_key *)trust_find(t, keyid);

    if (k)
        return k;
    t->v = xgrow(t->v, &t->cap, t->n + 1, sizeof(*t->v));
    k = &t->v[t->n++];
    memset(k, 0, sizeof(*k));
    memcpy(k->keyid, keyid, SIG_KEYID_BYTES);
    return k;
}

/* Distinct current keys with a valid signature on st; -1 on a bad one by a current key. */
static int
count_current_signers(const struct trust_set *t, const struct keystmt *st, const char *text,
                      struct diag_err *err)
{
    char id[SIG_KEYID_HEX];
    int n = 0;

    for (size_t i = 0; i < t->n; i++) {
        int r;

        if (t->v[i].state != TRUST_CURRENT || !t->v[i].have_pk)
            continue;
        r = keystmt_verify_by(st, text, &t->v[i].pk, err);
        if (r < 0)
            return err_prefix(err, "%s signed by key %s", keystmt_kind_name(st->kind),
                              sig_keyid_hex(id, t->v[i].keyid));
        n += r;
    }
    return n;
}

int
trust_apply(struct trust_set *t, const struct keystmt *st, const char *text, struct diag_err *err)
{
    const struct trust_key *subject = trust_find(t, st->subject);
    int subject_current = subject && subject->state == TRUST_CURRENT;
    char a[SIG_KEYID_HEX], b[SIG_KEYID_HEX];
    struct trust_key *k;
    int n;

    sig_keyid_hex(a, st->subject);
    if (st->kind == KEYSTMT_ROTATION) {
        const struct trust_key *next = trust_find(t, st->newkey.keyid);

        sig_keyid_hex(b, st->newkey.keyid);
        if (next && next->have_pk && !subject_current &&
            memcmp(next->pk.pk, st->newkey.pk, SIG_PUBLICKEY_BYTES) == 0)
            return TRUST_KNOWN;
        if (next && next->state != TRUST_CURRENT)
            return err_set(err, "rotation of key %s to key %s: key %s is %s and cannot return", a,
                           b, b, trust_state_name(next->state));
    } else if (subject && subject->state == TRUST_REVOKED) {
        return TRUST_KNOWN;
    }
    n = t->unverified ? (int)t->threshold : count_current_signers(t, st, text, err);
    if (n < 0)
        return -1;
    if ((unsigned)n < t->threshold) {
        if (!subject_current)
            return TRUST_IGNORED;
        return err_set(err,
                       "%s of key %s is signed by %d current key%s, fewer than the threshold of %u",
                       keystmt_kind_name(st->kind), a, n, n == 1 ? "" : "s", t->threshold);
    }
    k = find_or_add(t, st->subject);
    memcpy(k->changed, st->created, sizeof(k->changed));
    if (st->kind == KEYSTMT_REVOCATION) {
        k->state = TRUST_REVOKED;
        return TRUST_APPLIED;
    }
    k->state = TRUST_RETIRED;
    k->until_serial = st->from_serial;
    memcpy(k->successor, st->newkey.keyid, SIG_KEYID_BYTES);
    k->have_successor = 1;
    k = find_or_add(t, st->newkey.keyid);
    k->pk = st->newkey;
    k->have_pk = 1;
    k->state = TRUST_CURRENT;
    k->from_serial = st->from_serial;
    memcpy(k->changed, st->created, sizeof(k->changed));
    return TRUST_APPLIED;
}

int
trust_key_signs(const struct trust_key *k, uint64_t serial)
{
    if (!k->have_pk)
        return 0;
    if (k->state == TRUST_CURRENT)
        return k->from_serial <= serial;
    return k->state == TRUST_RETIRED && serial < k->until_serial;
}

void
trust_signing_keys(const struct trust_set *t, uint64_t serial, struct sig_keyring *ring)
{
    for (size_t i = 0; i < t->n; i++) {
        const struct trust_key *k = &t->v[i];

        if (!trust_key_signs(k, serial))
            continue;
        ring->keys = xgrow(ring->keys, &ring->cap, ring->n + 1, sizeof(*ring->keys));
        ring->keys[ring->n++] = k->pk;
    }
}

size_t
trust_count_signers(const struct trust_set *t, const struct verify_result *res, struct buf *why)
{
    size_t n = 0;

    for (size_t i = 0; i < res->nsigs; i++) {
        const struct verify_signature *vs = &res->sigs[i];
        const struct trust_key *k = trust_find(t, vs->keyid);
        char a[SIG_KEYID_HEX], b[SIG_KEYID_HEX];

        if (!vs->valid)
            continue;
        if (k && trust_key_signs(k, res->manifest.serial)) {
            n++;
            continue;
        }
        sig_keyid_hex(a, vs->keyid);
        if (why->len)
            buf_addstr(why, ", ");
        if (k == NULL)
            buf_addf(why, "key %s is not trusted", a);
        else if (k->state == TRUST_CURRENT)
            buf_addf(why, "key %s signs bundles from serial %llu on", a,
                     (unsigned long long)k->from_serial);
        else if (k->state == TRUST_RETIRED && k->have_successor)
            buf_addf(why, "key %s was retired on %s (replaced by %s from serial %llu)", a,
                     k->changed, sig_keyid_hex(b, k->successor),
                     (unsigned long long)k->until_serial);
        else
            buf_addf(why, "key %s was %s on %s", a, trust_state_name(k->state), k->changed);
    }
    return n;
}
