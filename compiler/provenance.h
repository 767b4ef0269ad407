/*
 * provenance.h: the build's provenance, for "sealift build --provenance": an in-toto
 * Statement (v1) whose predicate is SLSA provenance (v1), written into the bundle as a member
 * that the manifest lists (so the bundle's signatures cover it; FORMAT.md 2.7).
 *
 * It says what went in, never a secret: the subjects are the manifest's members with their
 * SHA-256; the external parameters are the project, environment, serial, source format and
 * compression, and each placeholder's name with the SHA-256 of its value (not the value); the
 * resolved dependencies are the source directory's git commit (when git is installed and the
 * directory is in a work tree) and the compiler (its version and the SHA-256 of its binary).
 * The text depends on nothing else (no clock unless SOURCE_DATE_EPOCH gives one, no path of the
 * host), so a reproducible build stays reproducible.
 */
#ifndef SEALIFT_COMPILER_PROVENANCE_H
#define SEALIFT_COMPILER_PROVENANCE_H

#include "sqltext.h"
#include "sealift/buf.h"
#include "sealift/diag.h"
#include "sealift/manifest.h"

/* The member's path in the bundle. */
#define PROVENANCE_MEMBER         "provenance.intoto.json"
#define PROVENANCE_STATEMENT_TYPE "https://in-toto.io/Statement/v1"
#define PROVENANCE_PREDICATE_TYPE "https://slsa.dev/provenance/v1"
/* Our build type: what externalParameters and resolvedDependencies mean (FORMAT.md 2.7). */
#define PROVENANCE_BUILD_TYPE "urn:sealift:build-type:bundle:v1"
/* The builder when --builder-id does not name one: this sealift, run by hand. */
#define PROVENANCE_DEFAULT_BUILDER "urn:sealift:builder:local"

struct provenance_input {
    const struct manifest *m; /* header fields, and the members so far: the subjects */
    const char *dir;          /* the source directory (git is asked about it) */
    const struct vars *vars;  /* the placeholders given */
    const char *compression;  /* codec name */
    const char *builder_id;   /* NULL: PROVENANCE_DEFAULT_BUILDER */
    int have_time;            /* SOURCE_DATE_EPOCH was set: m->created is the build's time */
};

/* 1 if id can be a builder id: a URI's shape (scheme ":" rest), printable, no spaces. */
int provenance_builder_id_valid(const char *id);

/*
 * Append the Statement's JSON text (indented, ending with a newline) to out. Returns 0, or -1
 * with err set when the compiler's own binary cannot be read.
 */
int provenance_statement(const struct provenance_input *in, struct buf *out, struct diag_err *err);

#endif
