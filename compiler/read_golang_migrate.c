/*
 * read_golang_migrate.c: reader for golang-migrate's file source: VERSION_TITLE.up.sql and
 * VERSION_TITLE.down.sql in one directory (not recursive), VERSION an unsigned 64-bit number.
 * Layer: compiler.
 *
 * golang-migrate's PostgreSQL driver sends each file as one query. PostgreSQL runs such a
 * multi-statement query as one implicit transaction, so a file is atomic (transactional here),
 * except a file whose only statement refuses transaction blocks (CREATE INDEX CONCURRENTLY...),
 * which runs on its own (no-transaction here). A file with BEGIN; ... COMMIT; around its
 * statements keeps them atomic in sealift's transaction (read_common.c).
 */
#include "read_common.h"
#include "readers.h"
#include "sqltext.h"
#include "sealift/version.h"
#include "sealift/xalloc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct gm_file {
    const char *name;
    char *version; /* canonical decimal */
    char *title;
    int kind; /* MANIFEST_UP or MANIFEST_DOWN */
    int sql;  /* extension is "sql" */
};

/*
 * golang-migrate's pattern ^([0-9]+)_(.*)\.(down|up)\.(.*)$ (greedy title). Returns 0 and
 * fills f, -1 when name does not match, -2 when the version does not fit 64 bits.
 */
static int
parse_name(const char *name, struct gm_file *f)
{
    size_t v = 0, len = strlen(name);
    const char *dot = NULL;
    unsigned long long n;
    char *end;

    while (name[v] >= '0' && name[v] <= '9')
        v++;
    if (v == 0 || name[v] != '_')
        return -1;
    /* The last ".up." or ".down." (the title is greedy), followed by the extension. */
    for (size_t i = len; i-- > v + 1;) {
        if (name[i] == '.' &&
            (strncmp(name + i, ".up.", 4) == 0 || strncmp(name + i, ".down.", 6) == 0)) {
            dot = name + i;
            break;
        }
    }
    if (dot == NULL)
        return -1;
    errno = 0;
    n = strtoull(name, &end, 10);
    if (errno == ERANGE)
        return -2;
    (void)n;
    f->name = name;
    f->version = version_decimal_canonical(name, v);
    f->title = xstrndup(name + v + 1, (size_t)(dot - name) - v - 1);
    f->kind = dot[1] == 'u' ? MANIFEST_UP : MANIFEST_DOWN;
    f->sql = strcmp(dot + (f->kind == MANIFEST_UP ? 4 : 6), "sql") == 0;
    return 0;
}

static int
cmp_files(const void *pa, const void *pb)
{
    const struct gm_file *a = pa, *b = pb;
    int c = version_decimal_cmp(a->version, b->version);

    return c ? c : a->kind - b->kind;
}

static const char *const no_tx_hint =
    "golang-migrate runs a file whose only statement this is outside a transaction: move it to "
    "a migration of its own";

/* One migration from its up file (and down file, if any). */
static void
add_migration(const char *dir, const struct read_options *opt, struct src_chain *c,
              const struct gm_file *up, const struct gm_file *down, struct report *rep)
{
    struct src_migration *m = chain_add(c, up->version, up->title);
    char *path = xasprintf("%s/%s", dir, up->name);
    const char *kind;

    m->origin_id = xstrdup(up->version);
    /* 1: its own BEGIN; ... COMMIT; made it one transaction. */
    if (common_load_script(m, MANIFEST_UP, path, rep) == 0) {
        m->script[MANIFEST_UP].no_tx_hint = no_tx_hint;
        if (!common_whole_script_no_tx(&m->script[MANIFEST_UP], "golang-migrate", &kind, rep) &&
            kind)
            m->script[MANIFEST_UP].transactional = 0;
    }
    free(path);
    if (down == NULL) {
        char *want = xasprintf("%s/%s", dir, up->name);

        common_no_down(opt, want, "no .down.sql file", rep);
        free(want);
        return;
    }
    if (strcmp(down->title, up->title) != 0)
        report_warning(rep, "%s/%s: its title differs from the up file's (%s)", dir, down->name,
                       up->name);
    path = xasprintf("%s/%s", dir, down->name);
    if (common_load_script(m, MANIFEST_DOWN, path, rep) == 0) {
        m->script[MANIFEST_DOWN].no_tx_hint = no_tx_hint;
        if (!common_whole_script_no_tx(&m->script[MANIFEST_DOWN], "golang-migrate", &kind, rep) &&
            kind)
            m->script[MANIFEST_DOWN].transactional = 0;
    }
    free(path);
}

int
read_golang_migrate(const char *dir, const struct read_options *opt, struct src_chain *c,
                    struct report *rep, struct diag_err *err)
{
    struct common_dir d;
    struct gm_file *files = NULL;
    size_t n = 0, cap = 0;

    if (common_dir_list(dir, &d, err) != 0)
        return -1;
    for (size_t i = 0; i < d.n; i++) {
        struct gm_file f;
        int r;

        r = d.v[i].is_file ? parse_name(d.v[i].name, &f) : -1;
        if (r == -2) {
            report_error(rep, "%s/%s: version does not fit in 64 bits (golang-migrate's limit)",
                         dir, d.v[i].name);
            continue;
        }
        if (r != 0) {
            char *shown = d.v[i].is_dir ? xasprintf("%s/", d.v[i].name) : xstrdup(d.v[i].name);

            chain_add_ignored(c, shown);
            free(shown);
            continue;
        }
        if (!f.sql) {
            /* golang-migrate would run it; sealift only reads SQL files. */
            report_error(rep,
                         "%s/%s: golang-migrate would run this file, but it is not a .sql file",
                         dir, d.v[i].name);
            free(f.version);
            free(f.title);
            continue;
        }
        files = xgrow(files, &cap, n + 1, sizeof(*files));
        files[n++] = f;
    }
    if (n > 1)
        qsort(files, n, sizeof(*files), cmp_files);
    for (size_t i = 0; i < n;) {
        size_t j = i;
        const struct gm_file *up = NULL, *down = NULL;

        for (; j < n && version_decimal_cmp(files[j].version, files[i].version) == 0; j++) {
            const struct gm_file **slot = files[j].kind == MANIFEST_UP ? &up : &down;

            if (*slot) {
                report_error(rep, "%s/%s: duplicate migration version %s (also %s)", dir,
                             files[j].name, files[j].version, (*slot)->name);
                continue;
            }
            *slot = &files[j];
        }
        if (up)
            add_migration(dir, opt, c, up, down, rep);
        else
            report_error(rep, "%s/%s: a down file without an up file", dir, down->name);
        i = j;
    }
    for (size_t i = 0; i < n; i++) {
        free(files[i].version);
        free(files[i].title);
    }
    free(files);
    common_dir_release(&d);
    return 0;
}

/* Does the file at path carry a sealift directive (so it was written for sealift)? */
/*
 * What a file says about the chain's format: 1 if it has a sealift directive (only sealift's
 * own format has them), 2 if it holds what sealift's format refuses and golang-migrate runs (an
 * outer BEGIN/COMMIT, a statement PostgreSQL runs only outside a transaction: golang-migrate
 * sends the file as it is), 0 if neither. *what says which (a static string).
 */
static int
file_signal(const char *path, const char **what)
{
    struct buf text = BUF_INIT;
    struct diag_err err = DIAG_ERR_INIT;
    struct common_stmt *st = NULL;
    size_t n;
    int sig = 0;
    char w[32];

    if (sqltext_read_file(path, &text, &err) != 0)
        goto done;
    if (strstr(text.data, "-- sealift:") != NULL) {
        sig = 1;
        goto done;
    }
    n = common_statements(text.data, text.len, &st);
    if (n > 0) {
        common_words(text.data, st[0].start, st[0].end, 2, w, sizeof(w));
        if (strcmp(w, "BEGIN") == 0 || strcmp(w, "START TRANSACTION") == 0) {
            *what = "BEGIN; ... COMMIT;";
            sig = 2;
        }
    }
    for (size_t i = 0; i < n && !sig; i++)
        if ((*what = common_no_tx_kind(text.data, st[i].start, st[i].end)) != NULL)
            sig = 2;
    free(st);
done:
    buf_release(&text);
    return sig;
}

int
detect_golang_migrate_why(const char *dir, char *why, size_t cap)
{
    struct common_dir d;
    struct diag_err err = DIAG_ERR_INIT;
    int files = 0, padded = 1, wide = 1, sealift_only = 0, tool = 0;
    char first[256] = "";

    if (common_dir_list(dir, &d, &err) != 0)
        return 0;
    for (size_t i = 0; i < d.n && !sealift_only; i++) {
        struct gm_file f;
        size_t v = strspn(d.v[i].name, "0123456789");
        size_t len = strlen(d.v[i].name);

        if (len > 11 && strcmp(d.v[i].name + len - 11, ".verify.sql") == 0)
            sealift_only = 1;
        if (!d.v[i].is_file || parse_name(d.v[i].name, &f) != 0)
            continue;
        if (files++ == 0)
            snprintf(first, sizeof(first), "%s", d.v[i].name);
        /*
         * "migrate create -seq" numbers 000001, 000002... (-digits sets the width); sealift new
         * uses the time, as golang-migrate does without -seq (then the names cannot tell).
         */
        if (d.v[i].name[0] != '0')
            padded = 0;
        if (v < 6)
            wide = 0;
        /*
         * The names are sealift's own format's too: what the files hold decides. Each file is
         * read until one tells (a native chain without directives is read through).
         */
        if (!tool && padded) { /* only a padded chain needs its files read */
            char *path = xasprintf("%s/%s", dir, d.v[i].name);
            const char *what = NULL;
            int sig = file_signal(path, &what);

            if (sig == 1) {
                sealift_only = 1;
            } else if (sig == 2) {
                tool = 1;
                if (why)
                    snprintf(why, cap, "%s in %s, which sealift's own format refuses", what,
                             d.v[i].name);
            }
            free(path);
        }
        free(f.version);
        free(f.title);
    }
    common_dir_release(&d);
    /*
     * Zero-padded versions (a sequence) and what native never has make it certain: six or more
     * digits, or shorter ones with what golang-migrate runs and native refuses; and no sealift
     * directive or verify file. Otherwise native (2) wins (its users are told what to fix),
     * and --from golang-migrate says what is meant.
     */
    if (files == 0)
        return 0;
    if (sealift_only || !padded || !(wide || tool))
        return 1;
    if (why && !tool)
        snprintf(why, cap, "zero-padded sequence numbers, %s", first);
    return 3;
}

int
detect_golang_migrate(const char *dir)
{
    return detect_golang_migrate_why(dir, NULL, 0);
}
