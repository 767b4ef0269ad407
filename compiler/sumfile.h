/*
 * sumfile.h: sealift.sum, the recorded (released) history of a chain: its order and every
 * script's checksum and transaction mode, with the chain hash. Written by "sealift build",
 * committed with the migrations. The first line carries the count and the head hash, so two
 * branches that each record a migration always conflict in git.
 */
#ifndef SEALIFT_COMPILER_SUMFILE_H
#define SEALIFT_COMPILER_SUMFILE_H

#include "sealift/diag.h"
#include "sealift/hash.h"
#include "sealift/manifest.h"

#include <stddef.h>

#define SUMFILE_NAME "sealift.sum"

/* A COPY whose data is a file: part of the chain, so recorded too. */
struct sum_copy {
    int kind;
    size_t stmt;
    unsigned char sha[HASH_SHA256_BYTES];
};

struct sum_entry {
    char *id;
    char *name;
    int present[MANIFEST_NSCRIPTS];
    int transactional[MANIFEST_NSCRIPTS];
    unsigned char sha[MANIFEST_NSCRIPTS][HASH_SHA256_BYTES];
    unsigned char chain[HASH_SHA256_BYTES];
    struct sum_copy *copies;
    size_t ncopies;
    size_t copies_cap;
};

struct sumfile {
    int exists;
    char *project;
    /*
     * The source format the chain was read as ("golang-migrate"), so that it is never re-read
     * as another; NULL when the file does not record one (written before it did, or by
     * "sealift new"). A token, as a format name is.
     */
    char *source;
    int source_added; /* set by the pipeline: source was not recorded, and is now to be */
    struct sum_entry *v;
    size_t n;
    size_t cap;
};

void sumfile_init(struct sumfile *s);
void sumfile_release(struct sumfile *s);
/* Read path. A missing file leaves s->exists 0 and returns 0. Corruption is an error. */
int sumfile_read(const char *path, struct sumfile *s, struct diag_err *err);
/*
 * Only the source format recorded in path's header, into out (cap bytes): 1 if one is, 0 if
 * none is or the file is missing or unreadable (sumfile_read reports that).
 */
int sumfile_read_source(const char *path, char *out, size_t cap);
/* Write s to path atomically (temporary file, fsync, rename). */
int sumfile_write(const char *path, const struct sumfile *s, struct diag_err *err);
/* Append an entry; its chain hash is computed from the previous entry. */
struct sum_entry *sumfile_append(struct sumfile *s, const char *id, const char *name);
void sumfile_fill_chain(struct sumfile *s, size_t i);
void sumfile_add_copy(struct sum_entry *e, int kind, size_t stmt,
                      const unsigned char sha[HASH_SHA256_BYTES]);

#endif
