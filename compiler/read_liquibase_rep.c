/*
 * read_liquibase_rep.c: Liquibase's runOnChange changesets as the chain's repeatable
 * migrations. Layer: compiler.
 *
 * Liquibase re-runs a runOnChange changeset whenever its checksum changes, which is what a
 * repeatable is. The repeatable's name is Liquibase's own key of the changeset,
 * "author:id@FILENAME" (the origin id of every Liquibase migration): it is unique (duplicate
 * changesets are refused), it does not change when other changesets are added or moved, and
 * any text is a valid repeatable name (sealift.sum and the manifest percent-encode their
 * fields). The one difference from Liquibase is when it runs: Liquibase runs it in changelog
 * order among the other changesets, sealift after every versioned migration, in name order.
 */
#include "read_common.h"
#include "read_liquibase.h"
#include "sealift/xalloc.h"

#include <stdlib.h>
#include <string.h>

void
lb_add_repeatable(struct src_chain *c, const struct lb_changeset *cs, const char *key,
                  const char *sum, int *order_warned, struct report *rep)
{
    struct src_migration *m = chain_add_repeatable(c, key);
    struct src_script *s = &m->script[MANIFEST_UP];
    size_t pad = 0;
    char *label;

    m->origin_id = xstrdup(key);
    m->origin_checksum = xstrdup(sum);
    /*
     * The reader pads a changeset's SQL with empty lines so that its lines are the
     * changelog's. A repeatable's text is its checksum, which must change when it is edited
     * and only then: not when a changeset above it in the same file grows or moves. So the
     * padding goes, and messages name the line the text starts at instead.
     */
    while (pad < cs->up.len && cs->up.data[pad] == '\n')
        pad++;
    label = pad ? xasprintf("%s (changeset %s:%s; its line 1 is line %zu)", cs->up_file, cs->author,
                            cs->id, pad + 1)
                : xstrdup(cs->up_file);
    common_set_script(m, MANIFEST_UP, label, cs->up.data + pad, cs->up.len - pad, rep);
    free(label);
    /* The first one that runs before a changeset it follows in the changelog is worth a word. */
    if (!*order_warned && c->nrep > 1 && strcmp(c->rep[c->nrep - 2].id, key) > 0) {
        *order_warned = 1;
        report_warning(rep,
                       "%s:%u: runOnChange changesets run after the other changesets, in name "
                       "order (author:id@file), not in changelog order: \"%s\" runs before "
                       "\"%s\"",
                       cs->path, cs->line, key, c->rep[c->nrep - 2].id);
    }
    s->transactional = cs->run_in_tx;
    s->no_tx_hint = cs->no_tx_hint;
    /*
     * A repeatable has no down, as Flyway's R__ scripts have no undo: rollback moves the
     * versioned chain back and leaves repeatables as they were applied (Flyway's undo skips
     * them too). So a rollback given here is ignored, with a warning rather than an error,
     * since Liquibase requires one to roll back and chains carry them by habit.
     */
    if (cs->has_rollback && cs->down.len > strspn(cs->down.data, " \t\r\n"))
        report_warning(rep,
                       "%s:%u: changeset %s:%s is runOnChange, compiled as a repeatable "
                       "migration, which has no down: its rollback is ignored (sealift's "
                       "rollback leaves repeatables applied)",
                       cs->path, cs->line, cs->author, cs->id);
}
