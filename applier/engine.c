/*
 * engine.c: compare database history with a bundle's chain (see engine.h).
 * Layer: applier. Pure: no database access.
 */
#include "engine.h"
#include "sealift/hash.h"
#include "sealift/xalloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
engine_view_init(struct engine_view *v)
{
    memset(v, 0, sizeof(*v));
    buf_init(&v->problems);
    buf_init(&v->drifted);
}

void
engine_view_release(struct engine_view *v)
{
    buf_release(&v->problems);
    buf_release(&v->drifted);
    free(v->reps);
    engine_view_init(v);
}

const char *
engine_label_into(const struct manifest *m, size_t count, struct engine_label *out)
{
    const struct manifest_migration *mig;

    if (count == 0) {
        snprintf(out->s, sizeof(out->s), "base");
        return out->s;
    }
    if (count > m->nmigrations) {
        snprintf(out->s, sizeof(out->s), "R__%s", m->repeatables[count - 1 - m->nmigrations].id);
        return out->s;
    }
    mig = &m->migrations[count - 1];
    /* Fits: ids and names are at most MANIFEST_MAX_TOKEN bytes each. */
    if (mig->name[0])
        snprintf(out->s, sizeof(out->s), "%s_%s", mig->id, mig->name);
    else
        snprintf(out->s, sizeof(out->s), "%s", mig->id);
    return out->s;
}

struct engine_label
engine_label(const struct manifest *m, size_t count)
{
    struct engine_label l;

    engine_label_into(m, count, &l);
    return l;
}

/*
 * A Sqitch change's origin: "CHANGE_ID [@TAG ...] SCRIPT_HASH", CHANGE_ID 40 hex digits (the
 * Sqitch reader writes it; the tags name the position after the change). Returns whether it is
 * one, and then whether it carries tag (tlen bytes, without its '@') in *has.
 */
static int
sqitch_origin_tag(const char *origin, const char *tag, size_t tlen, int *has)
{
    const char *last, *p;

    *has = 0;
    if (origin == NULL || strspn(origin, "0123456789abcdef") != 40 || origin[40] != ' ')
        return 0;
    last = strrchr(origin, ' ');
    for (p = origin + 40; p < last;) {
        size_t n;

        p++;
        n = strcspn(p, " ");
        if (n == tlen + 1 && p[0] == '@' && memcmp(p + 1, tag, tlen) == 0)
            *has = 1;
        p += n;
    }
    return 1;
}

/*
 * Sqitch's names for a position, as sqitch deploy/revert --to take them: "@TAG" is the change
 * the tag follows (@HEAD and @ROOT: the last and the first change), "CHANGE@TAG" the change of
 * that name as of the tag (the last one at or before it: a reworked change has several).
 * Returns the change's index, or -1 (also for a bundle not built from Sqitch).
 */
static long
resolve_sqitch(const struct manifest *m, const char *rev)
{
    const char *at = strchr(rev, '@'), *tag;
    long pos = -1;
    int has, sqitch = 0;

    if (at == NULL || strchr(at + 1, '@'))
        return -1;
    tag = at + 1;
    for (size_t i = 0; i < m->nmigrations; i++) {
        if (!sqitch_origin_tag(m->migrations[i].origin, tag, strlen(tag), &has))
            continue;
        sqitch = 1;
        if (has)
            pos = (long)i;
    }
    if (!sqitch || m->nmigrations == 0)
        return -1;
    /* Sqitch refuses tags of these names, so they cannot hide a real one. */
    if (pos < 0 && (strcmp(tag, "HEAD") == 0 || strcmp(tag, "LAST") == 0))
        pos = (long)m->nmigrations - 1;
    if (pos < 0 && (strcmp(tag, "ROOT") == 0 || strcmp(tag, "FIRST") == 0))
        pos = 0;
    if (pos < 0 || at == rev)
        return pos;
    /* A change's id is its name, or "NAME@TAG" for a reworked one's earlier instances. */
    for (long i = pos; i >= 0; i--) {
        const char *id = m->migrations[i].id;
        size_t n = strcspn(id, "@");

        if (n == (size_t)(at - rev) && strncmp(id, rev, n) == 0)
            return i;
    }
    return -1;
}

long
engine_resolve_target(const struct manifest *m, const char *rev)
{
    long idx;

    if (strcmp(rev, "base") == 0)
        return 0;
    if (strcmp(rev, "head") == 0)
        return (long)m->nmigrations;
    idx = manifest_find_migration(m, rev);
    if (idx < 0)
        idx = resolve_sqitch(m, rev);
    return idx < 0 ? -1 : idx + 1;
}

static void problem(struct engine_view *v, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
problem(struct engine_view *v, const char *fmt, ...)
{
    va_list ap;

    v->drift = 1;
    va_start(ap, fmt);
    buf_vaddf(&v->problems, fmt, ap);
    va_end(ap);
    buf_addch(&v->problems, '\n');
}

/* The bundle migration with this id, or -1. */
static long
find_id(const struct manifest *m, const char *id)
{
    for (size_t i = 0; i < m->nmigrations; i++)
        if (strcmp(m->migrations[i].id, id) == 0)
            return (long)i;
    return -1;
}

/* A recorded migration that differs from the bundle's: counted, named, and drift. */
static void
note_drifted(struct engine_view *v, const struct manifest *m, size_t idx)
{
    buf_addf(&v->drifted, "%s%s", v->ndrifted ? ", " : "", engine_label(m, idx + 1).s);
    v->ndrifted++;
}

/* One of the hashes a history row shares with the bundle. 0 if equal; else drift, -1. */
static int
check_hash(struct engine_view *v, const struct manifest *m, size_t idx, const char *what,
           const char *recorded, const unsigned char *bundle_hash, const char *why)
{
    char hex[HASH_SHA256_HEX];

    hex_encode(hex, bundle_hash, HASH_SHA256_BYTES);
    if (strcmp(recorded, hex) == 0)
        return 0;
    problem(v, "migration %s was applied with %s %s, but the bundle's is %s (%s)",
            engine_label(m, idx + 1).s, what, recorded, hex, why);
    note_drifted(v, m, idx);
    return -1;
}

/*
 * Walk the history rows against the chain. An order problem ends the walk (nothing after it
 * can be placed); a changed migration does not: every one is named, and the rows after it
 * are still counted as recorded (status says "10 applied, 1 drifted", not "applied 3").
 */
static void
compare_applied(const struct manifest *m, const struct db_state *s, struct engine_view *v)
{
    for (size_t i = 0; i < s->napplied; i++) {
        const struct applied_row *row = &s->applied[i];
        const struct manifest_migration *mig;

        if (row->ordinal != (long)i + 1) {
            problem(v, "the history has no migration at position %zu (next recorded: %s at %ld)",
                    i + 1, row->id, row->ordinal);
            return;
        }
        if (i >= m->nmigrations) {
            if (find_id(m, row->id) >= 0)
                problem(v,
                        "migration %s is applied at position %zu, but the bundle has it "
                        "earlier",
                        row->id, i + 1);
            else
                v->ahead++;
            continue;
        }
        mig = &m->migrations[i];
        if (strcmp(row->id, mig->id) != 0) {
            if (find_id(m, row->id) >= 0)
                problem(v,
                        "migration %s is applied at position %zu, but the bundle has %s there "
                        "(a different order)",
                        row->id, i + 1, mig->id);
            else
                problem(v,
                        "migration %s is applied at position %zu, but this bundle does not "
                        "know it (the bundle has %s there)",
                        row->id, i + 1, mig->id);
            return;
        }
        v->nrecorded = i + 1;
        if (check_hash(v, m, i, "up checksum", row->up_source, mig->script[MANIFEST_UP].source,
                       "the migration was changed after it ran") != 0 ||
            check_hash(v, m, i, "chain hash", row->chain, mig->chain,
                       "its down or verify script or its transaction mode changed") != 0)
            continue;
        if (v->ndrifted == 0)
            v->napplied = i + 1;
    }
    if (v->ahead > 0 && v->nrecorded != m->nmigrations)
        problem(v, "the history has migrations this bundle does not know");
}

/*
 * Do the statements an unfinished no-transaction run recorded (their SHA-256) start this
 * script? Read again from the bundle; a script that cannot be read does not resume.
 */
static int
same_statements(struct script_src *scripts, const struct manifest_script *sc,
                const struct progress_row *p)
{
    struct diag_err err = DIAG_ERR_INIT;
    struct script_reader *rd = script_open(scripts, sc->member, 0, &err);
    char **sha = xcalloc((size_t)p->done + 1, sizeof(*sha));
    int same = rd != NULL;

    for (long k = 0; k < p->done; k++)
        sha[k] = xmalloc(HASH_SHA256_HEX);
    if (same && script_stmt_shas(rd, sc, (size_t)p->done, sha, &err) != 0)
        same = 0;
    for (long k = 0; k < p->done; k++) {
        if (same && strcmp(sha[k], p->stmt_sha[k]) != 0)
            same = 0;
        free(sha[k]);
    }
    free(sha);
    script_close(rd);
    return same;
}

/* An unfinished no-transaction migration: where it is, and whether this bundle can resume it. */
static void
compare_progress(const struct manifest *m, const struct db_state *s, struct script_src *scripts,
                 struct engine_view *v)
{
    for (size_t i = 0; i < s->nprogress; i++) {
        const struct progress_row *p = &s->progress[i];
        int up = strcmp(p->direction, "up") == 0;
        size_t want = up ? v->napplied : v->napplied - 1;
        int kind = up ? MANIFEST_UP : MANIFEST_DOWN;
        const struct manifest_script *sc;

        if ((!up && v->napplied == 0) || want >= m->nmigrations ||
            strcmp(m->migrations[want].id, p->id) != 0) {
            problem(v,
                    "no-transaction migration %s (%s) stopped after %ld of %ld statements, "
                    "but it is not where this bundle would continue",
                    p->id, p->direction, p->done, p->total);
            continue;
        }
        v->partial = p;
        v->partial_index = want;
        sc = &m->migrations[want].script[kind];
        if (!sc->present || sc->transactional || (size_t)p->done > sc->nstmts)
            continue;
        v->partial_resumable = scripts != NULL && same_statements(scripts, sc, p);
    }
}

/* The repeatables never run, or changed since their last run. */
static void
compare_repeatables(const struct manifest *m, const struct db_state *s, struct engine_view *v)
{
    v->reps = xcalloc(m->nrepeatables ? m->nrepeatables : 1, sizeof(*v->reps));
    for (size_t j = 0; j < m->nrepeatables; j++) {
        const struct repeatable_row *row = history_repeatable(s, m->repeatables[j].id);
        char sum[HASH_SHA256_HEX];

        hex_encode(sum, m->repeatables[j].chain, HASH_SHA256_BYTES);
        if (row == NULL || strcmp(row->checksum, sum) != 0)
            v->reps[v->nreps++] = j;
    }
}

void
engine_compare(const struct manifest *m, struct script_src *scripts, const struct db_state *s,
               struct engine_view *v)
{
    compare_applied(m, s, v);
    if (!v->drift)
        compare_progress(m, s, scripts, v);
    compare_repeatables(m, s, v);
}

size_t
engine_resume_point(const struct engine_view *v, size_t idx, int kind)
{
    const char *dir = kind == MANIFEST_DOWN ? "down" : "up";

    if (v && v->partial && v->partial_index == idx && v->partial_resumable &&
        strcmp(v->partial->direction, dir) == 0)
        return (size_t)v->partial->done;
    return 0;
}
