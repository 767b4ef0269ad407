/*
 * manifest.h: the bundle manifest (format v1): model, strict parser, emitter, chain hash.
 *
 * The manifest is the one signed object of a bundle. It is a text file that GNU sha256sum
 * can check directly: metadata sits on lines starting with "# " (which sha256sum ignores) and
 * every other member of the bundle has a "SHA256  PATH" line. The grammar is in
 * bundles/FORMAT.md; this module implements it exactly, and nothing else (no file or archive
 * I/O).
 */
#ifndef SEALIFT_MANIFEST_H
#define SEALIFT_MANIFEST_H

#include "sealift/buf.h"
#include "sealift/diag.h"
#include "sealift/hash.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define MANIFEST_FORMAT_VERSION 1
/*
 * Minor version 1 adds "# lint" records (the safety lint's findings). A manifest without
 * findings is still written as version 1, byte for byte as before; readers take both.
 */
#define MANIFEST_FORMAT_MINOR 1
/* Longest decoded message or reason of a lint record (bytes). */
#define MANIFEST_MAX_TEXT 1024
/*
 * Minor version 1.2: version 1.1 plus "# repeatable" records. A manifest with repeatables is
 * written as "# sealift-manifest 1.2" (so that an applier that cannot run them refuses the
 * bundle at its first line), one without them as version 1.1 or 1, as before.
 */
#define MANIFEST_REPEATABLES_VERSION "1.2"
/*
 * Minor version 1.3: version 1.2 (repeatables optional) plus an expiry ("# expires") and key
 * statements ("# key-statement PATH": rotations and revocations the bundle carries). Written
 * only when a bundle has one of them, so that older bundles keep their bytes.
 */
#define MANIFEST_TRUST_VERSION "1.3"
/*
 * Minor version 1.4: version 1.3 (expiry and key statements optional) plus
 * "# lint" records in repeatables (the lint's findings on their scripts). Written only when a
 * repeatable has a finding, so that older bundles keep their bytes, and an applier that would
 * not show them refuses the bundle at its first line.
 */
#define MANIFEST_REPEATABLE_LINT_VERSION "1.4"
#define MANIFEST_NAME                    "MANIFEST"
/* Longest manifest line, newline excluded. */
#define MANIFEST_MAX_LINE 4096
/*
 * Largest manifest accepted. A migration takes about 700 bytes of it (its records, one line per
 * statement, two member lines): a 100,000-migration chain needs about 70 MiB.
 */
#define MANIFEST_MAX_BYTES (256u * 1024u * 1024u)
/* Longest migration id or name (bytes, before percent-encoding). */
#define MANIFEST_MAX_TOKEN 255
/* Longest member path: a ustar name field without the prefix field. */
#define MANIFEST_MAX_PATH 99

enum manifest_script_kind {
    MANIFEST_UP = 0,
    MANIFEST_DOWN = 1,
    MANIFEST_VERIFY = 2,
    MANIFEST_NSCRIPTS = 3
};

/* A statement of a script, as a byte range of its member. */
struct manifest_stmt {
    uint64_t offset;
    uint64_t length;
};

/*
 * The data of a COPY ... FROM STDIN statement: inline (bytes of the script's own member, as
 * pg_dump writes them after the statement) or a data member of its own.
 */
struct manifest_copy {
    size_t stmt;     /* index of the COPY statement in its script */
    int inline_data; /* 1: bytes [offset, offset + length) of the script's member */
    uint64_t offset;
    uint64_t length;
    unsigned char sha256[HASH_SHA256_BYTES]; /* file data: the data member's SHA-256 */
    size_t member;                           /* file data: index into manifest.members */
};

struct manifest_script {
    int present;
    int transactional; /* 0 for a "no-tx" script (runs statement by statement) */
    unsigned char source[HASH_SHA256_BYTES]; /* SHA-256 of the normalised source text */
    size_t member;                           /* index into manifest.members */
    struct manifest_stmt *stmts;             /* every statement, in order */
    size_t nstmts;
    size_t stmts_cap;
    struct manifest_copy *copies; /* COPY ... FROM STDIN data, by statement order */
    size_t ncopies;
    size_t copies_cap;
};

/*
 * A finding of the compiler's safety lint on one statement of a migration, signed with the
 * bundle so that the applier can show it without the source tree. Not part of the chain hash
 * (the same migration judged for another PostgreSQL version is the same migration).
 */
struct manifest_finding {
    int kind;         /* enum manifest_script_kind of the script */
    char *rule;       /* the rule's name (a token) */
    char *severity;   /* "error", "warning" or "info" */
    char *lock;       /* lock mode the statement takes ("ACCESS EXCLUSIVE"), or NULL */
    int rewrites;     /* rewrites the table */
    int scans;        /* reads the whole table while holding the lock */
    char *relation;   /* "schema.name", or NULL */
    char *created_by; /* migration id that created relation; NULL: not created by the chain */
    unsigned line;    /* of the statement in the script */
    unsigned col;
    char *allowed; /* the "-- sealift:allow" reason, or NULL */
    char *message;
};

struct manifest_migration {
    char *id;   /* unique within the chain */
    char *name; /* descriptive; may be empty */
    /*
     * What the source tool recorded to identify the applied migration (e.g. Flyway's CRC32,
     * Sqitch's script hash), for adopting a database that tool managed; NULL if none.
     */
    char *origin;
    /*
     * Why the down script cannot run as written ("FILE:LINE:COL: CREATE INDEX CONCURRENTLY
     * cannot run inside a transaction; FIX"), for a down imported from a tool that would fail
     * on it too: rollback refuses to cross the migration with this message. NULL for a down
     * that runs (and for none).
     */
    char *down_blocked;
    struct manifest_script script[MANIFEST_NSCRIPTS];
    struct manifest_finding *findings; /* in statement order */
    size_t nfindings;
    size_t findings_cap;
    /*
     * A migration: its chain hash. A repeatable (manifest.repeatables): its checksum, the
     * SHA-256 of its rendered up script (the member's bytes), which the database records
     * when it runs and compares to decide whether it runs again.
     */
    unsigned char chain[HASH_SHA256_BYTES];
};

struct manifest_member {
    char *path;
    uint64_t size;
    unsigned char sha256[HASH_SHA256_BYTES];
    int referenced;   /* set by the parser: some script names it */
    int is_data;      /* COPY data (streamed when used), not a script (kept in memory) */
    size_t path_hash; /* of path, for the path index (manifest_find_member) */
};

struct manifest {
    char *project;
    uint64_t serial;
    char *environment; /* NULL when the bundle is not bound to an environment */
    char *created;     /* YYYY-MM-DDTHH:MM:SSZ */
    char *compiler;    /* e.g. "sealift 0.1.0" */
    char *source;      /* source format, e.g. "native" */
    char *expires;     /* YYYY-MM-DDTHH:MM:SSZ (1.3); NULL: the bundle does not expire */
    /* Member indexes of the key statements (1.3, keystmt.h), in manifest order. */
    size_t *keystmts;
    size_t nkeystmts;
    size_t keystmts_cap;
    /*
     * The member holding the build's provenance (an in-toto Statement with a SLSA provenance
     * predicate, compiler/provenance.h), or NULL. Listed, so signed, like every member; no
     * script names it.
     */
    char *provenance;
    struct manifest_migration *migrations;
    size_t nmigrations;
    size_t migrations_cap;
    /*
     * Repeatable migrations (format 1.2), in strictly increasing byte order of their ids (the
     * order they run in, after the versioned ones). Each has an up script only, id is its name
     * (R__NAME.sql's NAME), name is empty, and chain holds its checksum. Not part of any chain
     * hash: editing one changes only its own checksum.
     */
    struct manifest_migration *repeatables;
    size_t nrepeatables;
    size_t repeatables_cap;
    struct manifest_member *members;
    size_t nmembers;
    size_t members_cap;
    /* Open-addressing index of member paths (built by manifest_index()). */
    size_t *index;
    size_t index_cap;
};

void manifest_init(struct manifest *m);
void manifest_release(struct manifest *m);

/*
 * Parse manifest text strictly. On error returns -1 with err set to "line N: what" (N is
 * 1-based). The manifest is released and re-initialised first.
 */
int manifest_parse(struct manifest *m, const char *text, size_t len, struct diag_err *err);

/*
 * Reads up to len bytes of manifest text into buf: returns the count, 0 at the end, or -1 with
 * err set.
 */
typedef ssize_t (*manifest_read_fn)(void *arg, void *buf, size_t len, struct diag_err *err);
/* Bytes a streamed parse asks read for at a time (it holds about this plus two lines). */
#define MANIFEST_READ_CHUNK (64 * 1024)
/*
 * manifest_parse over text that read hands out in pieces, so that the whole text is never held
 * (a 100,000-migration manifest is about 70 MiB). The same checks and errors, but for a line
 * longer than MANIFEST_MAX_LINE that also lacks its newline: that one is "too long". A read
 * error is returned as is (-1, err set by read); read is not called again after it returns 0
 * or -1, and whatever the parse did not reach is left unread (the caller drains it).
 */
int manifest_parse_stream(struct manifest *m, manifest_read_fn read, void *arg,
                          struct diag_err *err);

/* Append the canonical manifest text to out. manifest_emit(manifest_parse(x)) == x. */
void manifest_emit(const struct manifest *m, struct buf *out);

/* Append a migration (strings copied). Returns it, zeroed but for id and name. */
struct manifest_migration *manifest_add_migration(struct manifest *m, const char *id,
                                                  const char *name);
/* Append a repeatable (name copied). Returns it, zeroed but for id (the name). */
struct manifest_migration *manifest_add_repeatable(struct manifest *m, const char *name);
/* Set every repeatable's checksum from its up script's member (used by writers). */
void manifest_repeatables_fill(struct manifest *m);
/* Append the key statement whose member is member (an index into members). */
void manifest_add_keystmt(struct manifest *m, size_t member);
/* Append a member (path copied). Returns its index. */
size_t manifest_add_member(struct manifest *m, const char *path, uint64_t size,
                           const unsigned char sha256[HASH_SHA256_BYTES]);
void manifest_script_add_stmt(struct manifest_script *s, uint64_t offset, uint64_t length);
/* Append a copy record (copied) to s. */
void manifest_script_add_copy(struct manifest_script *s, const struct manifest_copy *c);
/*
 * The format version m is written as ("1", "1.1", ... MANIFEST_REPEATABLE_LINT_VERSION): the
 * oldest that holds what it has.
 */
const char *manifest_version(const struct manifest *m);
/* Append a finding to mig (strings copied; NULL fields stay NULL). */
void manifest_migration_add_finding(struct manifest_migration *mig,
                                    const struct manifest_finding *f);
/* The copy record of statement stmt of s, or NULL. */
const struct manifest_copy *manifest_script_copy(const struct manifest_script *s, size_t stmt);

/* Index of the member with this path, or -1. */
long manifest_find_member(const struct manifest *m, const char *path);
/*
 * Index of the migration with this id, or with this "id_name" or name, or (last) with the file
 * name another tool shows for it ("V1_1__x.sql" for Flyway's 1.1, "0001_x" for version 1,
 * "2024-01-01-000000_x" for diesel's 20240101000000); -1 if none or ambiguous.
 */
long manifest_find_migration(const struct manifest *m, const char *rev);

const char *manifest_script_label(enum manifest_script_kind kind);

/*
 * The chain hash: chain(i) = SHA-256(chain(i-1) || record(i)), chain(-1) = 32 zero bytes,
 * record(i) = "id\nup-source\nup-mode\ndown-source\ndown-mode\nverify-source\n" with hex
 * digests, modes "tx" or "no-tx", and "-" for an absent script; then, for each COPY whose
 * data is a member of its own, "copy KIND STMT SHA256\n" (so chains without data files
 * keep the hashes they always had).
 */
void manifest_chain_next(const unsigned char prev[HASH_SHA256_BYTES],
                         const struct manifest_migration *mig,
                         unsigned char out[HASH_SHA256_BYTES]);
/* Recompute every migration's chain hash in order (used by writers). */
void manifest_chain_fill(struct manifest *m);

/* Validation helpers shared with the compiler. Return 1 if valid. */
int manifest_path_valid(const char *path);
int manifest_token_valid(const char *s); /* project, environment, source format */
/* Percent-encode s for a manifest field (bytes outside 0x21..0x7e, and '%'). */
void manifest_pct_encode(struct buf *out, const char *s);

#endif
