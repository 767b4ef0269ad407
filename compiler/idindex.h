/*
 * idindex.h: find a migration by its id among thousands, in log n. Layer: compiler.
 * Checking a chain against sealift.sum looks up every migration of one list in the other; a
 * scan per lookup made a build of 100,000 new migrations take minutes.
 */
#ifndef SEALIFT_COMPILER_IDINDEX_H
#define SEALIFT_COMPILER_IDINDEX_H

#include <stddef.h>

/* An id and its position in the list it indexes. */
struct id_at {
    const char *id;
    size_t at;
};

/* The ids of a list, sorted by id, then by position (so equal ids sit together, earliest first). */
struct id_index {
    struct id_at *v;
    size_t n;
};

/*
 * Index the n ids that id_of(list, i) gives (borrowed: they must outlive the index).
 */
void id_index_build(struct id_index *ix, const void *list, size_t n,
                    const char *(*id_of)(const void *list, size_t i));
void id_index_release(struct id_index *ix);
/* The position of the first entry whose id is id, or SIZE_MAX when there is none. */
size_t id_index_find(const struct id_index *ix, const char *id);

#endif
