/*
 * read_native.c: reader for sealift's own source format: VERSION_SLUG.up.sql,
 * VERSION_SLUG.down.sql and VERSION_SLUG.verify.sql in one directory, ordered by VERSION
 * (digits, compared as numbers: lib/version.c's decimal order), "-- sealift:" directives, and
 * VERSION_SLUG.data/ directories of COPY data files.
 * Layer: compiler. A reader like the others (readers.h), on read_common's directory listing and
 * script loading.
 */
#include "read_common.h"
#include "readers.h"
#include "sqltext.h"
#include "sumfile.h"
#include "workers.h"
#include "sealift/memberpath.h"
#include "sealift/version.h"
#include "sealift/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Data file names become member names (data/NNNNNN_K_NAME): 60 bytes at most. */
#define NATIVE_DATA_NAME_MAX 60

struct file_name {
    char *name;
    char *version;
    char *slug;
    int kind; /* MANIFEST_UP, MANIFEST_DOWN, MANIFEST_VERIFY */
};

int
native_slug_valid(const char *slug)
{
    if (*slug == '\0' || strlen(slug) > 200)
        return 0;
    for (const char *p = slug; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '_' || *p == '-'))
            return 0;
    return 1;
}

/* Split "VERSION_SLUG.KIND.sql". Returns 0 and fills f, or -1 if name does not have that form. */
static int
parse_name(const char *name, struct file_name *f)
{
    static const char *const kinds[] = {".up.sql", ".down.sql", ".verify.sql"};
    size_t len = strlen(name);
    size_t vlen = 0;

    while (name[vlen] >= '0' && name[vlen] <= '9')
        vlen++;
    if (vlen == 0 || vlen > NATIVE_VERSION_MAX || name[vlen] != '_')
        return -1;
    for (int k = 0; k < 3; k++) {
        size_t kl = strlen(kinds[k]);

        if (len > vlen + 1 + kl && strcmp(name + len - kl, kinds[k]) == 0) {
            char *slug = xstrndup(name + vlen + 1, len - kl - vlen - 1);

            if (!native_slug_valid(slug)) {
                free(slug);
                return -1;
            }
            f->version = xstrndup(name, vlen);
            f->slug = slug;
            f->kind = k;
            return 0;
        }
    }
    return -1;
}

static int
cmp_files(const void *pa, const void *pb)
{
    const struct file_name *a = pa, *b = pb;
    int c = version_decimal_cmp(a->version, b->version);

    if (c)
        return c;
    c = strcmp(a->version, b->version);
    if (c)
        return c;
    c = strcmp(a->slug, b->slug);
    return c ? c : a->kind - b->kind;
}

static int
cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Read one script file into m and apply its directives. */
static void
load_script(const char *dir, const struct file_name *f, struct src_migration *m, unsigned *flags,
            struct report *rep)
{
    static const unsigned allowed[] = {SQLTEXT_NO_TRANSACTION | SQLTEXT_IRREVERSIBLE,
                                       SQLTEXT_NO_TRANSACTION, 0};
    struct src_script *s = &m->script[f->kind];
    char *path = xasprintf("%s/%s", dir, f->name);

    if (common_read_script(m, f->kind, path, rep) == 0) {
        sqltext_directives(s->file, s->text.data, allowed[f->kind], flags, rep);
        s->transactional = !(*flags & SQLTEXT_NO_TRANSACTION);
    }
    free(path);
}

/* seen: bit k set when the directory has the file of kind k, readable or not. */
static void
check_pairing(const char *dir, struct src_migration *m, unsigned seen, unsigned up_flags,
              struct report *rep)
{
    char *base = xasprintf("%s/%s_%s", dir, m->id, m->name);

    if (!(seen & (1u << MANIFEST_UP))) {
        report_error(rep, "%s: migration has a %s file but no %s.up.sql", base,
                     (seen & (1u << MANIFEST_DOWN)) ? "down" : "verify", base);
    } else if (!m->script[MANIFEST_UP].present) {
        /* The up file exists but could not be read; that was reported already. */
    } else if (up_flags & SQLTEXT_IRREVERSIBLE) {
        if (m->script[MANIFEST_DOWN].present)
            report_error(rep,
                         "%s.up.sql: marked \"-- sealift:irreversible\" but %s.down.sql exists "
                         "(remove one of them)",
                         base, base);
    } else if (!m->script[MANIFEST_DOWN].present) {
        report_error(rep,
                     "%s.up.sql: no %s.down.sql (write one, or mark the up file with "
                     "\"-- sealift:irreversible\")",
                     base, base);
    }
    free(base);
}

/* "VERSION_SLUG.data": the directory of a migration's COPY data files. */
static int
data_dir_name(const char *name)
{
    struct file_name f = {0};
    char *as_up;
    size_t len = strlen(name);
    int ok;

    if (len <= 5 || strcmp(name + len - 5, ".data") != 0)
        return 0;
    as_up = xasprintf("%.*s.up.sql", (int)(len - 5), name);
    ok = parse_name(as_up, &f) == 0;
    free(as_up);
    free(f.version);
    free(f.slug);
    return ok;
}

/* List a VERSION_SLUG.data directory into its migration's data files. */
static void
attach_data_dir(const char *dir, const char *name, struct src_chain *c, struct report *rep)
{
    size_t base_len = strlen(name) - 5;
    struct src_migration *m = NULL;
    char *path = xasprintf("%s/%s", dir, name);
    struct common_dir d;
    struct diag_err err = DIAG_ERR_INIT;

    for (size_t i = 0; i < c->n && !m; i++) {
        char *base = xasprintf("%s_%s", c->v[i].id, c->v[i].name);

        if (strlen(base) == base_len && strncmp(base, name, base_len) == 0)
            m = &c->v[i];
        free(base);
    }
    if (m == NULL) {
        report_error(rep, "%s/: data directory of no migration (no %.*s.up.sql)", path,
                     (int)base_len, name);
        free(path);
        return;
    }
    if (common_dir_list_of(path, "data directory", &d, &err) != 0) {
        report_error(rep, "%s", err.msg);
        free(path);
        return;
    }
    m->data_dir = path;
    /* The listing is sorted: so are the data files. */
    for (size_t i = 0; i < d.n; i++) {
        if (!d.v[i].is_file)
            report_error(rep, "%s/%s: not a regular file (data directories hold data files only)",
                         path, d.v[i].name);
        else if (!memberpath_name_valid(d.v[i].name, NATIVE_DATA_NAME_MAX))
            report_error(rep,
                         "%s/%s: data file names are letters, digits, '.', '_' and '-', at most "
                         "60 bytes, not starting with '.'",
                         path, d.v[i].name);
        else
            chain_add_data_file(m, d.v[i].name);
    }
    common_dir_release(&d);
}

/* The migrations of a sorted file list: migration g has files [first[g], first[g + 1]). */
struct load_batch {
    const char *dir;
    const struct file_name *files;
    const size_t *first;
    struct src_chain *c;
    size_t base;         /* index in c of the first migration */
    struct report *reps; /* one per migration, its messages held */
};

/* Read one migration's files and check that they pair up. */
static void
load_migration(size_t g, void *ctx)
{
    const struct load_batch *b = ctx;
    const struct file_name *files = b->files;
    struct src_migration *m = &b->c->v[b->base + g];
    struct report *rep = &b->reps[g];
    size_t i = b->first[g];
    unsigned up_flags = 0, seen = 0;

    for (size_t j = i; j < b->first[g + 1]; j++) {
        unsigned flags = 0;

        if (strcmp(files[j].version, files[i].version) != 0 ||
            strcmp(files[j].slug, files[i].slug) != 0) {
            report_error(rep,
                         "%s/%s: duplicate version %s (also used by %s_%s); every migration "
                         "needs its own version",
                         b->dir, files[j].name, files[j].version, files[i].version, files[i].slug);
            continue;
        }
        load_script(b->dir, &files[j], m, &flags, rep);
        seen |= 1u << files[j].kind;
        if (files[j].kind == MANIFEST_UP)
            up_flags = flags;
    }
    check_pairing(b->dir, m, seen, up_flags, rep);
}

/*
 * Group the sorted files by version into migrations, then read them: reading thousands of
 * small files is a good part of a build, so the reads are spread over the cores, and what
 * they report is printed afterwards in the chain's order.
 */
static void
load_migrations(const char *dir, const struct file_name *files, size_t nfiles, struct src_chain *c,
                struct report *rep)
{
    size_t *first = xcalloc(nfiles + 1, sizeof(*first));
    size_t n = 0, base = c->n;
    struct load_batch b;

    for (size_t i = 0; i < nfiles;) {
        size_t j = i;

        while (j < nfiles && version_decimal_cmp(files[j].version, files[i].version) == 0)
            j++;
        chain_add(c, files[i].version, files[i].slug);
        first[n++] = i;
        i = j;
    }
    first[n] = nfiles;
    b = (struct load_batch){dir, files, first, c, base, report_held_new(n)};
    workers_run(n, workers_default(), load_migration, &b);
    report_held_finish(b.reps, n, rep);
    free(first);
}

int
read_native(const char *dir, const struct read_options *opt, struct src_chain *c,
            struct report *rep, struct diag_err *err)
{
    struct common_dir d;
    struct file_name *files = NULL;
    size_t nfiles = 0, cap = 0;
    char **others = NULL, **datadirs = NULL;
    size_t nothers = 0, ocap = 0, ndatadirs = 0, dcap = 0;

    (void)opt; /* the native format says irreversibility itself (-- sealift:irreversible) */
    if (common_dir_list(dir, &d, err) != 0)
        return -1;
    for (size_t i = 0; i < d.n; i++) {
        const char *name = d.v[i].name;
        struct file_name f = {0};

        if (d.v[i].is_file && parse_name(name, &f) == 0) {
            f.name = xstrdup(name);
            files = xgrow(files, &cap, nfiles + 1, sizeof(*files));
            files[nfiles++] = f;
            continue;
        }
        if (!d.v[i].is_file && data_dir_name(name)) {
            datadirs = xgrow(datadirs, &dcap, ndatadirs + 1, sizeof(*datadirs));
            datadirs[ndatadirs++] = xstrdup(name);
            continue;
        }
        if (d.v[i].is_file) {
            size_t len = strlen(name);

            /* A .sql file that is not a migration is most likely a misnamed one: refuse. */
            if (len > 4 && strcmp(name + len - 4, ".sql") == 0) {
                report_error(rep,
                             "%s/%s: not a migration file name (expected "
                             "VERSION_SLUG.up.sql, .down.sql or .verify.sql, VERSION digits, "
                             "SLUG letters, digits, _ and -)",
                             dir, name);
                continue;
            }
        }
        others = xgrow(others, &ocap, nothers + 1, sizeof(*others));
        others[nothers++] = d.v[i].is_file ? xstrdup(name) : xasprintf("%s/", name);
    }
    common_dir_release(&d);
    /* Sorted as shown (a directory's "/" counts). qsort's pointer must not be NULL. */
    if (nothers > 1)
        qsort(others, nothers, sizeof(*others), cmp_str);
    for (size_t i = 0; i < nothers; i++) {
        chain_add_ignored(c, others[i]);
        free(others[i]);
    }
    free(others);

    if (nfiles > 1)
        qsort(files, nfiles, sizeof(*files), cmp_files);
    load_migrations(dir, files, nfiles, c, rep);
    for (size_t i = 0; i < ndatadirs; i++) {
        attach_data_dir(dir, datadirs[i], c, rep);
        free(datadirs[i]);
    }
    free(datadirs);
    for (size_t i = 0; i < nfiles; i++) {
        free(files[i].name);
        free(files[i].version);
        free(files[i].slug);
    }
    free(files);
    return 0;
}

int
detect_native_why(const char *dir, char *why, size_t cap)
{
    struct common_dir d;
    struct diag_err err = DIAG_ERR_INIT;
    int score = 1; /* any directory may be a native chain, if no other format claims it */

    if (common_dir_list(dir, &d, &err) != 0)
        return 0;
    if (why)
        snprintf(why, cap, "%s", d.n ? "no other format's files" : "an empty directory");
    for (size_t i = 0; i < d.n && score < 2; i++) {
        struct file_name f = {0};

        if (strcmp(d.v[i].name, SUMFILE_NAME) == 0) {
            score = 2;
            if (why)
                snprintf(why, cap, "%s", SUMFILE_NAME);
        } else if (parse_name(d.v[i].name, &f) == 0) {
            score = 2;
            if (why)
                snprintf(why, cap, "VERSION_SLUG.up.sql files");
            free(f.version);
            free(f.slug);
        }
    }
    common_dir_release(&d);
    return score;
}

int
detect_native(const char *dir)
{
    return detect_native_why(dir, NULL, 0);
}
