/*
 * read_liquibase.h: what the Liquibase reader's files share (read_liquibase.c walks the
 * changelogs and builds the chain; read_liquibase_sql.c reads formatted SQL changelogs).
 * Layer: compiler.
 */
#ifndef SEALIFT_COMPILER_READ_LIQUIBASE_H
#define SEALIFT_COMPILER_READ_LIQUIBASE_H

#include "chain.h"
#include "formats.h"
#include "xmlread.h"
#include "sealift/buf.h"

/* Liquibase's checksum algorithm version that lb_checksum_* compute (Liquibase 4.x before 4.22). */
#define LB_CHECKSUM_VERSION 8

/* One changeset as read from a changelog, before selection. */
struct lb_changeset {
    char *author;
    char *id;
    char *file; /* Liquibase's FILENAME: the changelog's path as Liquibase records it */
    char *path; /* the changelog on disk, for messages */
    unsigned line;
    int run_in_tx;
    int run_always;
    int run_on_change;
    int fail_on_error;
    char *context; /* context filter expression, or NULL */
    char *labels;  /* comma-separated labels, or NULL */
    char *dbms;    /* comma-separated dbms list, or NULL */
    char *comment;
    struct buf up;    /* the SQL that runs, lines numbered as in path where possible */
    char *up_file;    /* the file up's lines refer to (path or an sqlFile) */
    struct buf down;  /* the rollback SQL */
    char *down_file;  /* the file down's lines refer to */
    int has_rollback; /* a rollback was given (possibly empty: a no-op) */
    struct buf sum;   /* the changes' checksums, "8:HEX:" each, as ChangeSet hashes them */
    char *refuse;     /* why this changeset cannot be compiled (first reason), or NULL */
    char *abstract;   /* its first change of a type only Liquibase renders, or NULL */
    const char *no_tx_hint;
};

void lb_changeset_init(struct lb_changeset *cs);
void lb_changeset_release(struct lb_changeset *cs);
/* Set cs->refuse (printf-style) unless a reason is already set. */
void lb_refuse(struct lb_changeset *cs, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * The checksum of one SQL change (sql, sqlFile, a formatted SQL changeset) as Liquibase 4.x
 * computes it (AbstractSQLChange.generateCheckSum, version 8): MD5 over
 * "ENDDELIMITER:SPLIT:STRIP:" followed by the SQL with white space (space, tab, CR, LF) runs
 * collapsed to one space and leading and trailing white space dropped (NormalizingStream). Adds
 * "8:HEX:" to sum, as ChangeSet.generateCheckSum joins its changes' checksums.
 */
void lb_checksum_add(struct buf *sum, const char *end_delimiter, int split, int strip,
                     const char *sql, size_t len);

/*
 * Add the checksum of a change Liquibase hashes as its serialised text (tagDatabase:
 * "tagDatabase:[\n    tag=\"TAG\"\n]", StringChangeLogSerializer's form), without normalising.
 */
void lb_checksum_add_text(struct buf *sum, const char *text);

/* The changeset's checksum from its changes' (sum): "8:HEX" into out (HASH_MD5_HEX + 2 bytes). */
void lb_checksum_final(const struct buf *sum, char *out, size_t cap);

/*
 * Statements ended by end_delimiter (a line that is, or ends with, the delimiter, ignoring case)
 * are rewritten to end with ';' instead, in place, keeping lines. A NULL or ";" delimiter leaves
 * text as it is.
 */
void lb_apply_end_delimiter(struct buf *text, const char *end_delimiter);

/* A changeset's fields from a formatted SQL changelog line's "key:value" attributes. */
struct lb_sink {
    void *ctx;
    /* Called for each changeset read, which it takes over (releases). */
    void (*changeset_cb)(void *ctx, struct lb_changeset *cs);
};

/*
 * Read the formatted SQL changelog text (normalised: UTF-8, LF) of path, whose Liquibase file
 * name is file; each changeset goes to sink. Problems with the file itself are reported in rep;
 * problems of one changeset are set in its refuse.
 */
void lb_read_formatted_sql(const char *path, const char *file, const char *text, size_t len,
                           const struct lb_sink *sink, struct report *rep);

/* 1 if text begins with a "--liquibase formatted sql" line. */
int lb_is_formatted_sql(const char *text, size_t len);

/*
 * Read a YAML changelog (read_liquibase_yaml.c) into the element tree an XML changelog gives
 * (root: databaseChangeLog). Returns 0, or -1 with err set ("line N: ..."); release root with
 * xml_node_release either way.
 */
int lb_yaml_parse(const char *text, size_t len, struct xml_node *root, struct diag_err *err);
/* The same for a JSON changelog. */
int lb_json_parse(const char *text, size_t len, struct xml_node *root, struct diag_err *err);

/* One changeset as Liquibase rendered it (read_liquibase_render.c). */
struct lb_rendered {
    char *key; /* "FILE::ID::AUTHOR", as Liquibase names changesets */
    struct buf up;
    struct buf down;
    int has_down;
    char *md5; /* Liquibase's MD5SUM of it, or NULL */
};

struct lb_render {
    int tried;            /* rendering was attempted */
    int status;           /* 0: rendered, 1: Liquibase not installed, -1: it failed (error) */
    char *error;          /* why it failed */
    char *rollback_error; /* why the rollbacks could not be rendered (then none is), or NULL */
    struct lb_rendered *v;
    size_t n;
    size_t cap;
};

/*
 * Render the changelog master (relative to dir) with Liquibase's offline mode: each
 * changeset's SQL and MD5SUM into r, and the rollbacks of the nkeys changesets keys
 * ("FILE::ID::AUTHOR"). The command is $SEALIFT_LIQUIBASE, else
 * "liquibase" on PATH. Returns 0, 1 when Liquibase is not installed, or -1 with err set.
 */
int lb_render_run(const char *dir, const char *master, const struct read_options *opt,
                  char *const *keys, size_t nkeys, struct lb_render *r, struct diag_err *err);
void lb_render_release(struct lb_render *r);

/*
 * A runOnChange changeset cs into c as a repeatable named key ("author:id@FILENAME"), with
 * Liquibase's checksum sum (read_liquibase_rep.c). A rollback it has is ignored, with a warning;
 * so is, once (*order_warned), the first repeatable that runs before one the changelog has
 * first (repeatables run in name order).
 */
void lb_add_repeatable(struct src_chain *c, const struct lb_changeset *cs, const char *key,
                       const char *sum, int *order_warned, struct report *rep);

/* Parse "true"/"false" (any case); returns 0 or 1, or -1 for anything else. */
int lb_bool(const char *s, size_t len);

#endif
