/*
 * keystmt_member.c: key statement files as bundle members (keystmt_member.h).
 * Layer: compiler.
 */
#include "keystmt_member.h"
#include "sealift/file.h"
#include "sealift/hash.h"
#include "sealift/keystmt.h"
#include "sealift/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
keystmt_add_members(struct manifest *m, struct emit_source **sources, const char *const *paths,
                    size_t n, struct diag_err *err)
{
    struct buf *texts = xcalloc(n ? n : 1, sizeof(*texts));
    struct keystmt *sts = xcalloc(n ? n : 1, sizeof(*sts));
    size_t cap = m->nmembers;
    int ret = -1;

    for (size_t i = 0; i < n; i++) {
        buf_init(&texts[i]);
        keystmt_init(&sts[i]);
    }
    for (size_t i = 0; i < n; i++) {
        if (file_read_all(paths[i], KEYSTMT_MAX_BYTES, &texts[i], err) != 0)
            goto cleanup;
        if (keystmt_parse(&sts[i], texts[i].data, texts[i].len, err) != 0) {
            err_prefix(err, "%s", paths[i]);
            goto cleanup;
        }
        for (size_t j = 0; j < i; j++)
            if (texts[j].len == texts[i].len &&
                memcmp(texts[j].data, texts[i].data, texts[i].len) == 0) {
                err_set(err, "%s: the same key statement is given twice", paths[i]);
                goto cleanup;
            }
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char sha[HASH_SHA256_BYTES];
        char path[64], id[SIG_KEYID_HEX];
        size_t idx;
        struct buf *data = xmalloc(sizeof(*data));

        snprintf(path, sizeof(path), "keys/%02zu-%s-%s.txt", i + 1, keystmt_kind_name(sts[i].kind),
                 sig_keyid_hex(id, sts[i].subject));
        hash_sha256(texts[i].data, texts[i].len, sha);
        idx = manifest_add_member(m, path, texts[i].len, sha);
        manifest_add_keystmt(m, idx);
        *data = texts[i];
        buf_init(&texts[i]);
        *sources = xgrow(*sources, &cap, m->nmembers, sizeof(**sources));
        memset(&(*sources)[idx], 0, sizeof(**sources));
        (*sources)[idx].data = data;
    }
    ret = 0;
cleanup:
    for (size_t i = 0; i < n; i++) {
        buf_release(&texts[i]);
        keystmt_release(&sts[i]);
    }
    free(texts);
    free(sts);
    return ret;
}

void
keystmt_sources_release(const struct manifest *m, struct emit_source *sources, size_t n)
{
    (void)n;
    if (sources == NULL)
        return;
    for (size_t i = 0; i < m->nkeystmts; i++) {
        struct buf *data = (struct buf *)sources[m->keystmts[i]].data;

        if (data) {
            buf_release(data);
            free(data);
        }
    }
}
