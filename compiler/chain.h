/*
 * chain.h: the compiler's internal model of a migration chain, as every source-format reader
 * produces it, and the problem report that check and build print as they go.
 */
#ifndef SEALIFT_COMPILER_CHAIN_H
#define SEALIFT_COMPILER_CHAIN_H

#include "sealift/buf.h"
#include "sealift/hash.h"
#include "sealift/manifest.h"

#include <stddef.h>

struct src_script {
    int present;
    char *file;      /* source path, for messages */
    struct buf text; /* normalised source (UTF-8, no BOM, LF line ends) */
    unsigned char source_sha[HASH_SHA256_BYTES];
    int transactional;
    struct buf rendered;         /* after placeholder substitution: the bytes that will run */
    struct manifest_stmt *stmts; /* statement ranges of rendered */
    size_t nstmts;
    size_t stmts_cap;
};

struct src_migration {
    char *id;
    char *name;
    struct src_script script[MANIFEST_NSCRIPTS];
};

struct src_chain {
    char *format;
    char *dir;
    struct src_migration *v;
    size_t n;
    size_t cap;
    char **ignored; /* files in the directory that are not part of the chain */
    size_t nignored;
    size_t ignored_cap;
};

void chain_init(struct src_chain *c);
void chain_release(struct src_chain *c);
struct src_migration *chain_add(struct src_chain *c, const char *id, const char *name);
void chain_add_ignored(struct src_chain *c, const char *name);
/* Compute each script's source checksum from its normalised text. */
void chain_hash_sources(struct src_chain *c);

/*
 * Problems found while checking. Each is printed at once ("sealift: error: FILE:LINE: ...")
 * and counted, so that check lists every problem, not just the first.
 */
struct report {
    size_t errors;
    size_t warnings;
};

void report_error(struct report *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void report_warning(struct report *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
