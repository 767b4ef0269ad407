/*
 * keystmt.c: key statement files: body text, strict parser, signature checks (keystmt.h).
 * Layer: lib. Pure; the signatures are sig.c's.
 */
#include "sealift/keystmt.h"
#include "sealift/manifest.h"
#include "sealift/utctime.h"
#include "sealift/verify.h"
#include "sealift/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
keystmt_init(struct keystmt *st)
{
    memset(st, 0, sizeof(*st));
}

void
keystmt_release(struct keystmt *st)
{
    free(st->sigs);
    keystmt_init(st);
}

const char *
keystmt_kind_name(enum keystmt_kind kind)
{
    return kind == KEYSTMT_ROTATION ? "rotation" : "revocation";
}

void
keystmt_format_body(const struct keystmt *st, struct buf *out)
{
    char id[SIG_KEYID_HEX];
    struct buf pk = BUF_INIT;

    buf_addf(out, "%s\nkind %s\n", KEYSTMT_HEADER, keystmt_kind_name(st->kind));
    if (st->kind == KEYSTMT_ROTATION) {
        sig_pubkey_format(&st->newkey, &pk);
        /* The public key file's second line: the key as minisign -P takes it. */
        buf_addf(out, "retires %s\n", sig_keyid_hex(id, st->subject));
        buf_addf(out, "key %s", strchr(pk.data, '\n') + 1);
        buf_addf(out, "from-serial %llu\n", (unsigned long long)st->from_serial);
    } else {
        buf_addf(out, "revokes %s\n", sig_keyid_hex(id, st->subject));
    }
    buf_addstr(out, "comment ");
    manifest_pct_encode(out, st->comment);
    buf_addf(out, "\ncreated %s\nend\n", st->created);
    buf_release(&pk);
}

void
keystmt_trusted_comment(const struct keystmt *st, struct buf *out)
{
    char a[SIG_KEYID_HEX], b[SIG_KEYID_HEX];

    if (st->kind == KEYSTMT_ROTATION)
        buf_addf(out, "sealift-key-statement kind=rotation retires=%s key=%s from-serial=%llu",
                 sig_keyid_hex(a, st->subject), sig_keyid_hex(b, st->newkey.keyid),
                 (unsigned long long)st->from_serial);
    else
        buf_addf(out, "sealift-key-statement kind=revocation revokes=%s created=%s",
                 sig_keyid_hex(a, st->subject), st->created);
}

/* The next line of text at *pos (without its LF) into line/len; 0 at the end, -1 if no LF. */
static int
next_line(const char *text, size_t n, size_t *pos, const char **line, size_t *len)
{
    const char *nl;

    if (*pos >= n)
        return 0;
    nl = memchr(text + *pos, '\n', n - *pos);
    if (nl == NULL)
        return -1;
    *line = text + *pos;
    *len = (size_t)(nl - *line);
    *pos += *len + 1;
    return 1;
}

/* The line is "NAME VALUE": value (NUL-terminated copy, at most cap - 1 bytes) or -1. */
static int
field(const char *line, size_t len, const char *name, char *value, size_t cap)
{
    size_t n = strlen(name);

    if (len <= n + 1 || memcmp(line, name, n) != 0 || line[n] != ' ' || len - n - 1 >= cap)
        return -1;
    memcpy(value, line + n + 1, len - n - 1);
    value[len - n - 1] = '\0';
    return memchr(value, '\0', len - n - 1) ? -1 : 0;
}

static int
percent_decode(const char *s, char *out, size_t cap)
{
    size_t o = 0;

    for (size_t i = 0; s[i]; i++) {
        unsigned v;

        if (o + 1 >= cap)
            return -1;
        if (s[i] == '%') {
            if (sscanf(s + i + 1, "%2x", &v) != 1 || !s[i + 1] || !s[i + 2] || v == 0)
                return -1;
            out[o++] = (char)v;
            i += 2;
        } else if ((unsigned char)s[i] > 0x20 && (unsigned char)s[i] < 0x7f) {
            out[o++] = s[i];
        } else {
            return -1;
        }
    }
    out[o] = '\0';
    return 0;
}

/* The body's fields, line by line, in the one order keystmt_format_body writes them. */
static int
parse_body(struct keystmt *st, const char *text, size_t n, size_t *pos, struct diag_err *err)
{
    char v[1600];
    const char *line;
    size_t len;
    unsigned long long serial;
    char end;

#define NEXT(what)                                                                                 \
    do {                                                                                           \
        if (next_line(text, n, pos, &line, &len) != 1)                                             \
            return err_set(err, "key statement ends before its %s line", what);                    \
    } while (0)
    NEXT("header");
    if (len != strlen(KEYSTMT_HEADER) || memcmp(line, KEYSTMT_HEADER, len) != 0)
        return err_set(err, "not a key statement (expected \"%s\")", KEYSTMT_HEADER);
    NEXT("kind");
    if (field(line, len, "kind", v, sizeof(v)) != 0 ||
        (strcmp(v, "rotation") != 0 && strcmp(v, "revocation") != 0))
        return err_set(err, "key statement: kind must be \"rotation\" or \"revocation\"");
    st->kind = strcmp(v, "rotation") == 0 ? KEYSTMT_ROTATION : KEYSTMT_REVOCATION;
    NEXT("key id");
    if (field(line, len, st->kind == KEYSTMT_ROTATION ? "retires" : "revokes", v, sizeof(v)) != 0 ||
        sig_keyid_parse(st->subject, v) != 0)
        return err_set(err, "key statement: expected \"%s KEYID\" (16 uppercase hex digits)",
                       st->kind == KEYSTMT_ROTATION ? "retires" : "revokes");
    if (st->kind == KEYSTMT_ROTATION) {
        struct diag_err e2 = DIAG_ERR_INIT;

        NEXT("key");
        if (field(line, len, "key", v, sizeof(v)) != 0 ||
            sig_pubkey_parse(&st->newkey, v, strlen(v), &e2) != 0)
            return err_set(err, "key statement: expected \"key PUBLIC_KEY\" (minisign base64)");
        if (memcmp(st->newkey.keyid, st->subject, SIG_KEYID_BYTES) == 0)
            return err_set(err, "key statement: a key cannot replace itself");
        NEXT("from-serial");
        if (field(line, len, "from-serial", v, sizeof(v)) != 0 || v[0] < '0' || v[0] > '9' ||
            (v[0] == '0' && v[1]) || sscanf(v, "%llu%c", &serial, &end) != 1 || strlen(v) > 18)
            return err_set(err, "key statement: expected \"from-serial N\"");
        st->from_serial = serial;
    }
    NEXT("comment");
    /* As manifest fields: "-" is the empty comment (a comment "-" is "%2D"). */
    if (len == strlen("comment -") && memcmp(line, "comment -", len) == 0)
        st->comment[0] = '\0';
    else if (field(line, len, "comment", v, sizeof(v)) != 0 ||
             percent_decode(v, st->comment, sizeof(st->comment)) != 0)
        return err_set(err, "key statement: comment is not a valid field");
    NEXT("created");
    {
        long long t;

        if (field(line, len, "created", v, sizeof(v)) != 0 || utc_parse(v, &t) != 0)
            return err_set(err, "key statement: expected \"created YYYY-MM-DDTHH:MM:SSZ\"");
        memcpy(st->created, v, UTC_TEXT_SIZE);
    }
    NEXT("end");
    if (len != 3 || memcmp(line, "end", 3) != 0)
        return err_set(err, "key statement: expected \"end\" after its fields");
#undef NEXT
    st->body_len = *pos;
    return 0;
}

int
keystmt_parse(struct keystmt *st, const char *text, size_t n, struct diag_err *err)
{
    struct buf body = BUF_INIT, want = BUF_INIT, tc = BUF_INIT;
    size_t pos = 0, cap = 0;
    int ret = -1;

    keystmt_release(st);
    if (n > KEYSTMT_MAX_BYTES)
        return err_set(err, "key statement is larger than %u bytes", KEYSTMT_MAX_BYTES);
    if (memchr(text, '\0', n) || memchr(text, '\r', n))
        return err_set(err, "key statement contains a NUL byte or a carriage return");
    if (parse_body(st, text, n, &pos, err) != 0)
        goto cleanup;
    /* Re-emitted, the body must be these bytes: one text per statement. */
    keystmt_format_body(st, &body);
    if (body.len != st->body_len || memcmp(body.data, text, body.len) != 0) {
        err_set(err, "key statement is not in canonical form");
        goto cleanup;
    }
    keystmt_trusted_comment(st, &tc);
    while (pos < n) {
        const char *line;
        size_t len, start = pos;
        struct sig_signature *sig;

        for (int i = 0; i < 4; i++)
            if (next_line(text, n, &pos, &line, &len) != 1) {
                err_set(err, "key statement: signature %zu is not 4 complete lines", st->nsigs + 1);
                goto cleanup;
            }
        if (st->nsigs == KEYSTMT_MAX_SIGS) {
            err_set(err, "key statement has more than %d signatures", KEYSTMT_MAX_SIGS);
            goto cleanup;
        }
        st->sigs = xgrow(st->sigs, &cap, st->nsigs + 1, sizeof(*st->sigs));
        sig = &st->sigs[st->nsigs];
        if (sig_parse(sig, text + start, pos - start, err) != 0) {
            err_prefix(err, "key statement: signature %zu", st->nsigs + 1);
            goto cleanup;
        }
        buf_reset(&want);
        sig_format(sig, BUNDLE_SIG_UNTRUSTED_COMMENT, &want);
        if (want.len != pos - start || memcmp(want.data, text + start, want.len) != 0 ||
            !sig->prehashed) {
            err_set(err, "key statement: signature %zu is not in sealift's canonical form",
                    st->nsigs + 1);
            goto cleanup;
        }
        if (strcmp(sig->trusted_comment, tc.data) != 0) {
            err_set(err, "key statement: signature %zu's trusted comment does not describe it",
                    st->nsigs + 1);
            goto cleanup;
        }
        /* Little-endian key ids: compare from the last byte, as their hex text sorts. */
        if (st->nsigs > 0) {
            int order = 0;

            for (int i = SIG_KEYID_BYTES - 1; i >= 0 && order == 0; i--)
                order = (int)sig->keyid[i] - (int)st->sigs[st->nsigs - 1].keyid[i];
            if (order <= 0) {
                err_set(err, "key statement: signatures are duplicated or not sorted by key id");
                goto cleanup;
            }
        }
        st->nsigs++;
    }
    if (st->nsigs == 0) {
        err_set(err, "key statement is not signed");
        goto cleanup;
    }
    ret = 0;
cleanup:
    buf_release(&body);
    buf_release(&want);
    buf_release(&tc);
    if (ret != 0)
        keystmt_release(st);
    return ret;
}

int
keystmt_verify_by(const struct keystmt *st, const char *text, const struct sig_pubkey *key,
                  struct diag_err *err)
{
    for (size_t i = 0; i < st->nsigs; i++) {
        if (memcmp(st->sigs[i].keyid, key->keyid, SIG_KEYID_BYTES) != 0)
            continue;
        if (sig_verify(&st->sigs[i], key, text, st->body_len, err) != 0)
            return -1;
        return 1;
    }
    return 0;
}
