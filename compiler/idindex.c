/*
 * idindex.c: a sorted index of migration ids (see idindex.h).
 * Layer: compiler.
 */
#include "idindex.h"
#include "sealift/xalloc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* By id, then by position (so the first of equal ids is the earliest). */
static int
cmp_id_at_cb(const void *pa, const void *pb)
{
    const struct id_at *a = pa, *b = pb;
    int c = strcmp(a->id, b->id);

    return c ? c : (a->at > b->at) - (a->at < b->at);
}

void
id_index_build(struct id_index *ix, const void *list, size_t n,
               const char *(*id_of)(const void *list, size_t i))
{
    ix->v = xcalloc(n ? n : 1, sizeof(*ix->v));
    ix->n = n;
    for (size_t i = 0; i < n; i++)
        ix->v[i] = (struct id_at){id_of(list, i), i};
    if (n > 1)
        qsort(ix->v, n, sizeof(*ix->v), cmp_id_at_cb);
}

void
id_index_release(struct id_index *ix)
{
    free(ix->v);
    ix->v = NULL;
    ix->n = 0;
}

size_t
id_index_find(const struct id_index *ix, const char *id)
{
    size_t lo = 0, hi = ix->n;

    /* The first entry not below id: with equal ids, the earliest. */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (strcmp(ix->v[mid].id, id) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < ix->n && strcmp(ix->v[lo].id, id) == 0 ? ix->v[lo].at : SIZE_MAX;
}
