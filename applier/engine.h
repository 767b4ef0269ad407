/*
 * engine.h: hold the database's history against a verified bundle's chain, before any change:
 * how far the database is along the chain, drift, history the bundle does not know, an
 * unfinished no-transaction migration, and the serial and environment policies.
 */
#ifndef SEALIFT_APPLIER_ENGINE_H
#define SEALIFT_APPLIER_ENGINE_H

#include "history.h"
#include "scriptsrc.h"
#include "sealift/buf.h"
#include "sealift/manifest.h"

#include <stddef.h>

struct engine_view {
    size_t napplied;    /* the bundle's first napplied migrations are applied, in order */
    size_t ahead;       /* applied migrations after the bundle's last one */
    size_t nrecorded;   /* history rows that are the bundle's migrations in its order */
    size_t ndrifted;    /* of those, rows whose checksum or chain hash differs */
    struct buf drifted; /* their labels, ", "-separated */
    int drift;          /* history that contradicts the bundle: messages in problems */
    struct buf problems;
    /* An unfinished no-transaction migration (up at napplied, or down at napplied - 1). */
    const struct progress_row *partial;
    size_t partial_index;
    int partial_resumable; /* its finished statements are the bundle's, byte for byte */
    /*
     * The repeatables an apply to the head runs after the chain: those the database never
     * ran, and those whose checksum differs from their last run's (indexes into
     * manifest.repeatables, by name). A repeatable the bundle no longer has is left alone.
     */
    size_t *reps;
    size_t nreps;
};

void engine_view_init(struct engine_view *v);
void engine_view_release(struct engine_view *v);

/*
 * Compare; fills v. Never fails: contradictions are reported in v. scripts: the bundle's
 * script bytes (an unfinished no-transaction migration's statements are checked against them).
 */
void engine_compare(const struct manifest *m, struct script_src *scripts, const struct db_state *s,
                    struct engine_view *v);

/*
 * The first statement to run of no-transaction script kind of migration idx: after the ones
 * an earlier run finished, when the engine found them identical; else 0.
 */
size_t engine_resume_point(const struct engine_view *v, size_t idx, int kind);

/*
 * Resolve --to REV: "base" is 0, else the 1-based position after the named migration (its id
 * or ID_NAME; in a bundle built from Sqitch also "@TAG" and "CHANGE@TAG", as sqitch deploy and
 * revert --to read them). Returns -1 if the bundle has no such migration.
 */
long engine_resolve_target(const struct manifest *m, const char *rev);

/*
 * A revision's name for messages: "ID_NAME", or "ID" when the migration has no name, of the
 * revision after count migrations of the chain; "base" for 0. A count past the chain names
 * the repeatable whose step (walk.h) is count - 1: "R__NAME", as its file is named. Held in the
 * caller's storage, never a static buffer, so that two labels in one call are two labels.
 */
#define ENGINE_LABEL_MAX (2 * MANIFEST_MAX_TOKEN + 2)
struct engine_label {
    char s[ENGINE_LABEL_MAX];
};

/* Write the label into *out; returns out->s. */
const char *engine_label_into(const struct manifest *m, size_t count, struct engine_label *out);

/*
 * The label as a value: engine_label(m, n).s is an array in the caller's own temporary
 * storage, valid until the end of the full expression it appears in (C11 6.2.4p8), so
 *     printf("%s -> %s", engine_label(m, a).s, engine_label(m, b).s);
 * prints two labels. To keep a label beyond one expression, use engine_label_into.
 */
struct engine_label engine_label(const struct manifest *m, size_t count);

/* The old name, for callers not converted yet (runner.c, cmd_test.c): the same value. */
#define engine_revision_label(m, count) (engine_label((m), (count)).s)

#endif
