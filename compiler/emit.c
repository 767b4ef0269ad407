/*
 * emit.c: sign a manifest and write a bundle in format v1's member order.
 * Layer: compiler.
 */
#include "emit.h"
#include "sealift/bundle.h"
#include "sealift/sig.h"
#include "sealift/verify.h"
#include "sealift/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
emit_signatures_init(struct emit_signatures *s)
{
    memset(s, 0, sizeof(*s));
}

void
emit_signatures_release(struct emit_signatures *s)
{
    for (size_t i = 0; i < s->n; i++)
        buf_release(&s->v[i].text);
    free(s->v);
    emit_signatures_init(s);
}

int
emit_signatures_add(struct emit_signatures *s, const char *name, const char *text, size_t len,
                    struct diag_err *err)
{
    size_t at = 0;

    /* A cut name would be another member's, or none at all. */
    if (strlen(name) >= sizeof(s->v[0].name))
        return err_set(err, "signature member name \"%s\" is too long", name);
    while (at < s->n && strcmp(s->v[at].name, name) < 0)
        at++;
    if (at < s->n && strcmp(s->v[at].name, name) == 0)
        return err_set(err, "the bundle already has a signature by this key (%s)", name);
    s->v = xgrow(s->v, &s->cap, s->n + 1, sizeof(*s->v));
    memmove(&s->v[at + 1], &s->v[at], (s->n - at) * sizeof(*s->v));
    s->n++;
    memcpy(s->v[at].name, name, strlen(name) + 1);
    buf_init(&s->v[at].text);
    buf_add(&s->v[at].text, text, len);
    return 0;
}

int
emit_sign(struct emit_signatures *s, const struct manifest *m, const struct buf *manifest_text,
          const struct seckey *key, struct diag_err *err)
{
    struct buf comment = BUF_INIT;
    struct buf sig = BUF_INIT;
    char name[BUNDLE_SIG_NAME_MAX];
    int ret;

    bundle_trusted_comment(m, &comment);
    ret = sig_sign(key, manifest_text->data, manifest_text->len, comment.data,
                   BUNDLE_SIG_UNTRUSTED_COMMENT, &sig, err);
    if (ret == 0) {
        bundle_signature_name(name, key->keyid);
        ret = emit_signatures_add(s, name, sig.data, sig.len, err);
    }
    buf_release(&comment);
    buf_release(&sig);
    return ret;
}

void
emit_sources_release(struct emit_source *sources, size_t n)
{
    for (size_t i = 0; sources && i < n; i++)
        if (sources[i].file_owned)
            free((char *)sources[i].file);
    free(sources);
}

static ssize_t
cursor_source_cb(void *data, void *buf, size_t cap, struct diag_err *err)
{
    return bundle_cursor_read(data, buf, cap, err);
}

int
emit_bundle(const char *path, enum codec_kind compression, int64_t mtime,
            const struct buf *manifest_text, const struct emit_signatures *sigs,
            const struct manifest *m, const struct emit_source *src, struct diag_err *err)
{
    struct bundle_writer *w = bundle_writer_open(path, compression, mtime, err);
    struct spill_reader reader;

    if (w == NULL)
        return -1;
    spill_reader_init(&reader, NULL);
    if (bundle_writer_add(w, MANIFEST_NAME, manifest_text->data, manifest_text->len, err) != 0)
        goto fail;
    for (size_t i = 0; i < sigs->n; i++)
        if (bundle_writer_add(w, sigs->v[i].name, sigs->v[i].text.data, sigs->v[i].text.len, err) !=
            0)
            goto fail;
    for (size_t i = 0; i < m->nmembers; i++) {
        const struct manifest_member *mem = &m->members[i];

        int bad;

        if (src[i].file)
            bad = bundle_writer_add_file(w, mem->path, src[i].file, mem->size, mem->sha256, err);
        else if (src[i].spill) {
            /* Streamed, and re-hashed on the way: the spill is a file like any other. */
            struct spill_cursor sc = {&reader, src[i].spill_off, mem->size};

            if (reader.s != src[i].spill) {
                spill_reader_release(&reader);
                spill_reader_init(&reader, src[i].spill);
            }

            bad = bundle_writer_add_stream(w, mem->path, mem->size, mem->sha256, spill_cursor_read,
                                           &sc, err);
        } else if (src[i].cursor)
            bad = bundle_cursor_seek(src[i].cursor, i, err) != 0 ||
                  bundle_writer_add_stream(w, mem->path, mem->size, mem->sha256, cursor_source_cb,
                                           src[i].cursor, err) != 0;
        else
            bad = bundle_writer_add(w, mem->path, src[i].data->data, src[i].data->len, err);
        if (bad)
            goto fail;
    }
    spill_reader_release(&reader);
    return bundle_writer_close(w, err);
fail:
    spill_reader_release(&reader);
    bundle_writer_abort(w);
    return -1;
}
