/*
 * formats.h: the source formats sealift reads (--from NAME), and --from auto's detection.
 * Every reader fills the same struct src_chain (chain.h): ordered migrations with their up,
 * down and verify scripts as normalised text, transaction modes, and the files it ignored.
 */
#ifndef SEALIFT_COMPILER_FORMATS_H
#define SEALIFT_COMPILER_FORMATS_H

#include "chain.h"
#include "sealift/diag.h"

/* Options a reader may need beyond the directory. */
struct read_options {
    int allow_irreversible; /* migrations without a down become irreversible, not an error */
    /* Alembic: the alembic.ini to render SQL with, or SQL rendered elsewhere (NULL: none). */
    const char *alembic_config;
    const char *alembic_sql_up;
    const char *alembic_sql_down;
    /* Liquibase: the master changelog (relative to the directory; NULL: the one at its top),
     * and the contexts and label expression that select changesets (NULL: all). */
    const char *liquibase_changelog;
    const char *liquibase_contexts;
    const char *liquibase_labels;
    int strict; /* --strict */
};

struct format_reader {
    const char *name;
    /*
     * How sure the format is that dir holds its chain: 0 no, 1 maybe, 2 likely, 3 surely (a
     * file only that format has: sqitch.plan, an Alembic revision, a Flyway V__ name...).
     */
    int (*detect)(const char *dir);
    /*
     * Read the chain. Problems with the files are reported in rep (each naming its file);
     * returns -1 with err set only when the directory cannot be read at all.
     */
    int (*read)(const char *dir, const struct read_options *opt, struct src_chain *c,
                struct report *rep, struct diag_err *err);
};

/* The reader named name, or NULL. */
const struct format_reader *formats_find(const char *name);

/*
 * The format of dir for --from auto: the one surest of it. Returns NULL with err set when no
 * format recognises dir, or when two are equally sure (naming them).
 */
const struct format_reader *formats_detect(const char *dir, struct diag_err *err);

/*
 * The same, saying why in why (cap bytes: "sqitch.plan", "recorded in sealift.sum"), and
 * with the format recorded in the chain's sealift.sum first (recorded: NULL when none): a
 * chain recorded as one format is never re-read as another. Also refuses a directory with
 * files of no known format (an empty directory is an empty native chain), and a format that
 * is recognised but has no reader.
 */
const struct format_reader *formats_detect_why(const char *dir, const char *recorded, char *why,
                                               size_t cap, struct diag_err *err);

/* "native, alembic, ..." into out (at most cap bytes; a list that does not fit ends in "..."). */
void formats_names(char *out, size_t cap);

#endif
