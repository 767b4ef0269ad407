/*
 * chain.c: the compiler's in-memory migration chain and problem report.
 * Layer: compiler.
 */
#include "chain.h"
#include "idindex.h"
#include "spill.h"
#include "sealift/exitcode.h"
#include "sealift/diag.h"
#include "sealift/xalloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
chain_init(struct src_chain *c)
{
    memset(c, 0, sizeof(*c));
}

static void
migration_release(struct src_migration *m)
{
    {
        free(m->id);
        free(m->name);
        for (int k = 0; k < MANIFEST_NSCRIPTS; k++) {
            free(m->script[k].file);
            free(m->script[k].blocked);
            buf_release(&m->script[k].text);
            buf_release(&m->script[k].rendered);
            buf_release(&m->script[k].undefined);
            free(m->script[k].stmts);
            for (size_t j = 0; j < m->script[k].ncopies; j++) {
                free(m->script[k].copies[j].name);
                free(m->script[k].copies[j].path);
            }
            free(m->script[k].copies);
        }
        for (size_t d = 0; d < m->ndata_files; d++)
            free(m->data_files[d]);
        free(m->data_files);
        free(m->data_dir);
        free(m->origin_id);
        free(m->origin_name);
        free(m->origin_checksum);
        free(m->origin_tags);
    }
}

void
chain_release(struct src_chain *c)
{
    for (size_t i = 0; i < c->n; i++)
        migration_release(&c->v[i]);
    for (size_t i = 0; i < c->nrep; i++)
        migration_release(&c->rep[i]);
    free(c->rep);
    for (size_t i = 0; i < c->nignored; i++)
        free(c->ignored[i]);
    free(c->ignored);
    free(c->v);
    free(c->format);
    free(c->dir);
    free(c->project);
    spill_close(c->spill);
    chain_init(c);
}

int
chain_spill_migration(const struct src_chain *c, struct src_migration *m, struct diag_err *err)
{
    struct iovec iov[MANIFEST_NSCRIPTS];
    int n = 0;
    uint64_t off;

    for (int k = 0; k < MANIFEST_NSCRIPTS; k++)
        if (m->script[k].present && !m->script[k].spilled) {
            iov[n].iov_base = m->script[k].rendered.data;
            iov[n++].iov_len = m->script[k].rendered.len;
        }
    if (c->spill == NULL || n == 0)
        return 0;
    if (spill_put(c->spill, iov, n, &off, err) != 0)
        return -1;
    for (int k = 0; k < MANIFEST_NSCRIPTS; k++) {
        struct src_script *s = &m->script[k];

        if (!s->present || s->spilled)
            continue;
        s->spill_off = off;
        s->rendered_size = s->rendered.len;
        s->spilled = 1;
        off += s->rendered.len;
        buf_release(&s->rendered);
    }
    return 0;
}

size_t
chain_script_size(const struct src_script *s)
{
    return s->spilled ? s->rendered_size : s->rendered.len;
}

const char *
chain_script_text(const struct src_script *s, struct spill_reader *r, struct buf *scratch)
{
    struct diag_err err = DIAG_ERR_INIT;

    if (!s->spilled)
        return s->rendered.data;
    buf_reset(scratch);
    buf_reserve(scratch, s->rendered_size);
    /* The file is this process's own, unlinked: failing to read it back is the machine's fault. */
    if (spill_read(r, s->spill_off, scratch->data, s->rendered_size, &err) != 0)
        die(EXIT_USAGE, "%s", err.msg);
    scratch->len = s->rendered_size;
    scratch->data[scratch->len] = '\0';
    return scratch->data;
}

static void
migration_init(struct src_migration *m, const char *id, const char *name)
{
    memset(m, 0, sizeof(*m));
    m->id = xstrdup(id);
    m->name = xstrdup(name);
    for (int k = 0; k < MANIFEST_NSCRIPTS; k++) {
        buf_init(&m->script[k].text);
        buf_init(&m->script[k].rendered);
        buf_init(&m->script[k].undefined);
        m->script[k].transactional = 1;
    }
}

struct src_migration *
chain_add(struct src_chain *c, const char *id, const char *name)
{
    struct src_migration *m;

    c->v = xgrow(c->v, &c->cap, c->n + 1, sizeof(*c->v));
    m = &c->v[c->n++];
    migration_init(m, id, name);
    return m;
}

void
chain_trim(struct src_chain *c)
{
    if (c->n > 0 && c->cap > c->n) {
        c->v = xrealloc(c->v, c->n * sizeof(*c->v));
        c->cap = c->n;
    }
    if (c->nrep > 0 && c->rep_cap > c->nrep) {
        c->rep = xrealloc(c->rep, c->nrep * sizeof(*c->rep));
        c->rep_cap = c->nrep;
    }
}

const struct src_migration *
chain_job(const struct src_chain *c, size_t j)
{
    return j < c->n ? &c->v[j] : &c->rep[j - c->n];
}

int
chain_job_is_repeatable(const struct src_chain *c, size_t j)
{
    return j >= c->n;
}

struct src_migration *
chain_add_repeatable(struct src_chain *c, const char *name)
{
    struct src_migration *m;

    c->rep = xgrow(c->rep, &c->rep_cap, c->nrep + 1, sizeof(*c->rep));
    m = &c->rep[c->nrep++];
    migration_init(m, name, "");
    return m;
}

static int
cmp_rep_cb(const void *pa, const void *pb)
{
    const struct src_migration *a = pa, *b = pb;

    return strcmp(a->id, b->id);
}

void
chain_sort_repeatables(struct src_chain *c, struct report *rep)
{
    if (c->nrep > 1)
        qsort(c->rep, c->nrep, sizeof(*c->rep), cmp_rep_cb);
    for (size_t i = 1; i < c->nrep; i++)
        if (strcmp(c->rep[i - 1].id, c->rep[i].id) == 0)
            report_error(rep, "%s: repeatable %s is also defined by %s (names must be unique)",
                         c->rep[i].script[MANIFEST_UP].file ? c->rep[i].script[MANIFEST_UP].file
                                                            : c->rep[i].id,
                         c->rep[i].id,
                         c->rep[i - 1].script[MANIFEST_UP].file
                             ? c->rep[i - 1].script[MANIFEST_UP].file
                             : c->rep[i - 1].id);
}

void
chain_add_data_file(struct src_migration *m, const char *name)
{
    m->data_files =
        xgrow(m->data_files, &m->data_files_cap, m->ndata_files + 1, sizeof(*m->data_files));
    m->data_files[m->ndata_files++] = xstrdup(name);
}

void
chain_add_ignored(struct src_chain *c, const char *name)
{
    c->ignored = xgrow(c->ignored, &c->ignored_cap, c->nignored + 1, sizeof(*c->ignored));
    c->ignored[c->nignored++] = xstrdup(name);
}

void
chain_drop_ignored(struct src_chain *c, const char *name)
{
    size_t kept = 0;

    for (size_t i = 0; i < c->nignored; i++) {
        if (strcmp(c->ignored[i], name) == 0)
            free(c->ignored[i]);
        else
            c->ignored[kept++] = c->ignored[i];
    }
    c->nignored = kept;
}

/* The id of migration i of a chain, for the id index. */
const char *
chain_id_of(const void *list, size_t i)
{
    return ((const struct src_chain *)list)->v[i].id;
}

void
chain_check_unique_ids(const struct src_chain *c, struct report *rep)
{
    struct id_index ix;
    size_t *first_of;

    if (c->n < 2)
        return;
    first_of = xcalloc(c->n, sizeof(*first_of));
    for (size_t i = 0; i < c->n; i++)
        first_of[i] = i;
    /* Sorted, equal ids sit together: n log n, where comparing every pair was n squared. */
    id_index_build(&ix, c, c->n, chain_id_of);
    for (size_t k = 1; k < ix.n; k++)
        if (strcmp(ix.v[k].id, ix.v[k - 1].id) == 0)
            first_of[ix.v[k].at] = first_of[ix.v[k - 1].at];
    /* Reported in chain order, each naming the first migration with its id. */
    for (size_t i = 0; i < c->n; i++) {
        size_t j = first_of[i];
        const char *fi, *fj;

        if (j == i)
            continue;
        fi = c->v[i].script[MANIFEST_UP].file;
        fj = c->v[j].script[MANIFEST_UP].file;
        report_error(rep,
                     "%s: duplicate migration id \"%s\" (also %s); every migration needs its own",
                     fi ? fi : c->v[i].id, c->v[i].id, fj ? fj : c->v[j].id);
    }
    id_index_release(&ix);
    free(first_of);
}

/*
 * A held message: its level ('E' or 'W'), its text, a NUL. Formatted into a growing buffer:
 * a message is never cut (a fixed buffer once cut long ones without saying so).
 */
static void
vreport(struct report *r, char level, const char *fmt, va_list ap)
{
    struct buf msg = BUF_INIT;

    buf_vaddf(&msg, fmt, ap);
    if (r->held) {
        buf_addch(r->held, level);
        buf_add(r->held, msg.data, msg.len + 1);
    } else if (level == 'E') {
        diag_error("%s", msg.data);
    } else {
        diag_warning("%s", msg.data);
    }
    buf_release(&msg);
}

void
report_error(struct report *r, const char *fmt, ...)
{
    va_list ap;

    r->errors++;
    va_start(ap, fmt);
    vreport(r, 'E', fmt, ap);
    va_end(ap);
}

void
report_warning(struct report *r, const char *fmt, ...)
{
    va_list ap;

    r->warnings++;
    va_start(ap, fmt);
    vreport(r, 'W', fmt, ap);
    va_end(ap);
}

void
report_replay(struct report *into, const struct report *from)
{
    size_t at = 0;

    while (from->held && at < from->held->len) {
        const char *msg = from->held->data + at + 1;

        if (from->held->data[at] == 'E')
            report_error(into, "%s", msg);
        else
            report_warning(into, "%s", msg);
        at += 1 + strlen(msg) + 1;
    }
}

struct report *
report_held_new(size_t n)
{
    struct report *reps = xcalloc(n ? n : 1, sizeof(*reps));

    for (size_t i = 0; i < n; i++) {
        reps[i].held = xmalloc(sizeof(*reps[i].held));
        buf_init(reps[i].held);
    }
    return reps;
}

void
report_held_finish(struct report *held, size_t n, struct report *into)
{
    for (size_t i = 0; i < n; i++) {
        report_replay(into, &held[i]);
        buf_release(held[i].held);
        free(held[i].held);
    }
    free(held);
}
