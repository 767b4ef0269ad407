/*
 * chain.h: the compiler's internal model of a migration chain, as every source-format reader
 * produces it, and the problem report that check and build print as they go.
 */
#ifndef SEALIFT_COMPILER_CHAIN_H
#define SEALIFT_COMPILER_CHAIN_H

#include "sealift/buf.h"
#include "sealift/diag.h"
#include "sealift/hash.h"
#include "sealift/manifest.h"

#include <stddef.h>
#include <stdint.h>

/* The data of one COPY ... FROM STDIN statement of a script. */
struct src_copy {
    size_t stmt;     /* index of the COPY statement in the script's stmts */
    int inline_data; /* 1: data lines after the statement, bytes [offset, offset + length) */
    uint64_t offset; /* of rendered */
    uint64_t length;
    char *name; /* file data: the name given by "-- sealift:data NAME" */
    char *path; /* file data: the file it resolves to */
    unsigned char sha256[HASH_SHA256_BYTES]; /* file data: of the file's bytes */
    uint64_t size;
};

struct src_script {
    char *file; /* source path, for messages */
    /*
     * How the source format asks for a run outside a transaction (e.g. "add \"transaction:false\"
     * to its \"-- migrate:up\" line"), for sqlcheck's message; NULL for sealift's own directive.
     * A static string, never freed.
     */
    const char *no_tx_hint;
    /*
     * A down script with no statements: why, when the reader knows better than "it has no
     * statements" (goose: no Down section). A static string, never freed; NULL otherwise.
     */
    const char *noop_why;
    /*
     * Set by the pipeline before the check: a down script of another tool's format, which
     * compiles even with a statement PostgreSQL refuses inside its transaction (the tool itself
     * would fail on it when reverting) and then records why in blocked ("FILE:LINE:COL: ...;
     * FIX", malloc'd) instead of reporting it. Such a down cannot run as written: rollback
     * refuses to cross it.
     */
    int may_block;
    int present;
    char *blocked;
    /*
     * Normalised source (UTF-8, no BOM, LF line ends). The pipeline lets it go once it has its
     * checksum and rendering: a script without placeholders becomes its own rendering.
     */
    struct buf text;
    unsigned char source_sha[HASH_SHA256_BYTES]; /* of text, computed by the pipeline */
    int transactional;
    /*
     * Once the script is checked, its rendering goes to the chain's spill (when it has one)
     * and rendered is released: rendered_size bytes at spill_off. chain_script_text and
     * chain_script_size read a script either way.
     */
    int spilled;
    struct buf rendered; /* after placeholder substitution: the bytes that will run */
    uint64_t spill_off;
    size_t rendered_size;
    struct buf undefined; /* "NAME LINE:COL" lines: undefined placeholders (sqltext_render) */
    unsigned char rendered_sha[HASH_SHA256_BYTES]; /* of rendered, once it is checked */
    struct manifest_stmt *stmts;                   /* statement ranges of rendered */
    size_t nstmts;
    size_t stmts_cap;
    struct src_copy *copies; /* COPY ... FROM STDIN statements and their data, in order */
    size_t ncopies;
    size_t copies_cap;
};

struct src_migration {
    char *id;
    char *name;
    struct src_script script[MANIFEST_NSCRIPTS];
    /* Data files that COPY statements may load ("-- sealift:data NAME"). */
    char *data_dir;    /* NULL when the migration has none */
    char **data_files; /* names in data_dir, sorted */
    size_t ndata_files;
    size_t data_files_cap;
    /*
     * What the source format's own tool records about this migration once applied, kept so
     * that adopting a database that tool managed can match its history table against the
     * chain. Not in bundles yet (the manifest has no field for it); NULL when the tool keeps
     * nothing of the kind. Owned by the migration (freed by chain_release).
     *   origin_id        the tool's key of an applied migration (Flyway version, Sqitch change
     *                    id, Alembic revision, goose/golang-migrate/dbmate/diesel version)
     *   origin_name      a second name the tool records (Flyway script, Sqitch change name)
     *   origin_checksum  the tool's checksum of the migration (Flyway: its signed CRC32 in
     *                    decimal; Sqitch: script_hash, SHA-1 of the deploy file, in hex)
     *   origin_tags      the tool's names for the position after this migration, as the
     *                    applier's --to takes them ("@v1.0 @v1.1": Sqitch's tags on a change)
     */
    char *origin_id;
    char *origin_name;
    char *origin_checksum;
    char *origin_tags;
};

struct report;
struct spill_reader;

struct src_chain {
    char *format; /* the reader's name, set by the pipeline */
    char *dir;    /* the source directory, set by the pipeline */
    /*
     * The project's name as the source format states it (Sqitch's %project), set by the
     * reader; NULL when the format has none (then the directory's name, or --project).
     */
    char *project;
    struct src_migration *v;
    size_t n;
    size_t cap;
    /* Where checked scripts' renderings go (spill.h); NULL: they stay in memory. */
    struct spill *spill;
    /*
     * Repeatable migrations (R__NAME.sql): id is NAME, name is empty, only script[MANIFEST_UP]
     * is used. The pipeline sorts them by name; they run after the versioned ones, in that
     * order, whenever their rendered checksum differs from the one a database last ran.
     */
    struct src_migration *rep;
    size_t nrep;
    size_t rep_cap;
    char **ignored; /* files in the directory that are not part of the chain */
    size_t nignored;
    size_t ignored_cap;
};

void chain_init(struct src_chain *c);
/*
 * Move the renderings of m's present scripts to c's spill, in one write, and release them from
 * memory (a no-op without a spill). On a write error they stay where they were. Returns 0, or
 * -1 with err set. Safe from several threads at once, each on its own migration.
 */
int chain_spill_migration(const struct src_chain *c, struct src_migration *m, struct diag_err *err);
/* The length of s's rendering, in memory or spilled. */
size_t chain_script_size(const struct src_script *s);
/*
 * s's rendering, NUL-terminated: its own buffer, or read back from c's spill through r into
 * scratch (valid until scratch changes). Exits with a message when the spill cannot be read.
 */
const char *chain_script_text(const struct src_script *s, struct spill_reader *r,
                              struct buf *scratch);

void chain_release(struct src_chain *c);
struct src_migration *chain_add(struct src_chain *c, const char *id, const char *name);
/*
 * Give back the room the migration arrays grew into and will not use (up to half of the
 * chain's largest structure, held until the archive is written): once the reader is done.
 */
void chain_trim(struct src_chain *c);
/*
 * Job j of the chain, as the checks and the lint number them: its migrations 0 .. n - 1, then
 * its repeatables (repeatable r is job n + r).
 */
const struct src_migration *chain_job(const struct src_chain *c, size_t j);
/* Is job j a repeatable? */
int chain_job_is_repeatable(const struct src_chain *c, size_t j);
/* Append a repeatable migration named name (copied). Returns it, scripts empty. */
struct src_migration *chain_add_repeatable(struct src_chain *c, const char *name);
/* Sort the repeatables by name (byte order) and report every name used twice. */
void chain_sort_repeatables(struct src_chain *c, struct report *rep);
void chain_add_ignored(struct src_chain *c, const char *name);
/* Add a data file name to m's list (copied). */
void chain_add_data_file(struct src_migration *m, const char *name);

/* Remove every ignored entry equal to name (the pipeline's listing exclusions). */
void chain_drop_ignored(struct src_chain *c, const char *name);

/*
 * Problems found while checking. Each is printed at once ("sealift: error: FILE:LINE: ...")
 * and counted, so that check lists every problem, not just the first. A report with held set
 * keeps its messages there instead (a job on another thread), for report_replay to print in
 * the chain's order.
 */
struct report {
    size_t errors;
    size_t warnings;
    struct buf *held;
};

#define REPORT_INIT                                                                                \
    {                                                                                              \
        0, 0, NULL                                                                                 \
    }

void report_error(struct report *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void report_warning(struct report *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Print (or hold) what from held, in its order, and count it in into. */
void report_replay(struct report *into, const struct report *from);
/*
 * n reports that hold their messages, one per job of a batch run on several threads; then
 * report_held_finish prints them into into, in index order, and frees them.
 */
struct report *report_held_new(size_t n);
void report_held_finish(struct report *held, size_t n, struct report *into);

/* Report every migration whose id an earlier one has, naming that earlier one's up file. */
void chain_check_unique_ids(const struct src_chain *c, struct report *rep);
/* The id of migration i of the chain list (a struct src_chain): for id_index_build. */
const char *chain_id_of(const void *list, size_t i);

#endif
