/*
 * read_diesel.c: reader for diesel's migrations directory: one subdirectory per migration,
 * named VERSION_NAME (diesel's version: the part before the first "_", "-" removed, ordered as
 * text), holding up.sql, down.sql and optionally metadata.toml ("run_in_transaction = false").
 * Layer: compiler.
 *
 * diesel runs a file as one batch: inside its transaction by default, else as one
 * multi-statement query (an implicit transaction in PostgreSQL). A zero-byte up.sql is an error
 * in diesel ("empty migration"), and so here; an empty or comment-only down.sql (nothing to
 * undo) compiles as a no-op down, with the pipeline's warning.
 */
#include "read_common.h"
#include "readers.h"
#include "sqltext.h"
#include "sealift/xalloc.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const no_tx_hint =
    "put \"run_in_transaction = false\" in the migration's metadata.toml";

/*
 * The run_in_transaction of metadata.toml: diesel's TomlMetadata, where a file that exists
 * but does not set it means false (serde's default for bool), and a file diesel cannot parse
 * means true. We refuse what we cannot read rather than guess. Returns 0 or 1, -1 on error.
 */
static int
run_in_transaction(const char *path, struct report *rep)
{
    struct buf text = BUF_INIT;
    struct diag_err err = DIAG_ERR_INIT;
    int value = 0, in_table = 0, ret = -1;
    unsigned lineno = 0;

    if (sqltext_read_file(path, &text, &err) != 0) {
        report_error(rep, "%s", err.msg);
        goto done;
    }
    for (size_t ls = 0, i, e; common_next_line(text.data, text.len, &ls, &i, &e);) {
        const char *l = text.data + i;

        lineno++;
        if (i == e || *l == '#')
            continue;
        if (*l == '[') {
            in_table = 1; /* a table: its keys are additional fields, not ours */
            continue;
        }
        if (in_table)
            continue;
        if ((size_t)(e - i) >= 18 && strncmp(l, "run_in_transaction", 18) == 0) {
            size_t k = i + 18;
            size_t ve;

            while (k < e && (text.data[k] == ' ' || text.data[k] == '\t'))
                k++;
            if (k >= e || text.data[k] != '=') {
                report_error(rep, "%s:%u: cannot read this line", path, lineno);
                goto done;
            }
            k++;
            while (k < e && (text.data[k] == ' ' || text.data[k] == '\t'))
                k++;
            for (ve = k; ve < e && text.data[ve] != '#' && !isspace((unsigned char)text.data[ve]);
                 ve++)
                ;
            if (ve - k == 4 && strncmp(text.data + k, "true", 4) == 0) {
                value = 1;
            } else if (ve - k == 5 && strncmp(text.data + k, "false", 5) == 0) {
                value = 0;
            } else {
                report_error(rep, "%s:%u: run_in_transaction must be true or false", path, lineno);
                goto done;
            }
        }
    }
    ret = value;
done:
    buf_release(&text);
    return ret;
}

/*
 * Load one of up.sql / down.sql; a zero-byte file is diesel's "empty migration" error. Returns
 * 1 if an outer BEGIN/COMMIT was stripped (the file then ran in that transaction), 0, or -1.
 */
static int
load(struct src_migration *m, int kind, const char *path, struct report *rep)
{
    int stripped = common_load_script(m, kind, path, rep);

    if (stripped < 0)
        return -1;
    /* An empty down.sql compiles as a no-op down (the pipeline warns about it). */
    if (kind == MANIFEST_UP && m->script[kind].text.len == 0) {
        report_error(rep, "%s: empty file (diesel refuses to run an empty migration file)", path);
        return -1;
    }
    m->script[kind].no_tx_hint = no_tx_hint;
    return stripped;
}

static void
read_migration(const char *dir, const char *sub, const struct read_options *opt,
               struct src_chain *c, struct report *rep)
{
    const char *us = strchr(sub, '_');
    size_t vlen = us ? (size_t)(us - sub) : strlen(sub);
    struct buf version = BUF_INIT;
    struct src_migration *m;
    char *up = xasprintf("%s/%s/up.sql", dir, sub);
    char *down = xasprintf("%s/%s/down.sql", dir, sub);
    char *meta = xasprintf("%s/%s/metadata.toml", dir, sub);
    int tx = 1;

    /* diesel: version_from_string = the part before the first '_', with '-' removed. */
    for (size_t i = 0; i < vlen; i++)
        if (sub[i] != '-')
            buf_addch(&version, sub[i]);
    m = chain_add(c, version.data, us ? us + 1 : "");
    m->origin_id = xstrdup(version.data);
    if (version.len == 0)
        report_error(rep, "%s/%s: no version before \"_\" in the directory name", dir, sub);
    if (common_is_file(meta)) {
        tx = run_in_transaction(meta, rep);
        if (tx < 0)
            tx = 1;
    }
    if (load(m, MANIFEST_UP, up, rep) == 0) { /* 1: its own BEGIN/COMMIT: transactional */
        const char *kind;

        if (!tx && !common_whole_script_no_tx(&m->script[MANIFEST_UP], "diesel", &kind, rep))
            m->script[MANIFEST_UP].transactional = 0;
    }
    if (!common_is_file(down)) {
        common_no_down(opt, up, "no down.sql beside it", rep);
    } else if (load(m, MANIFEST_DOWN, down, rep) == 0) {
        const char *kind;

        if (!tx && !common_whole_script_no_tx(&m->script[MANIFEST_DOWN], "diesel", &kind, rep))
            m->script[MANIFEST_DOWN].transactional = 0;
    }
    /* Anything else in the migration's directory is not part of it. */
    {
        struct common_dir d;
        struct diag_err err = DIAG_ERR_INIT;
        char *subdir = xasprintf("%s/%s", dir, sub);

        if (common_dir_list(subdir, &d, &err) == 0) {
            for (size_t i = 0; i < d.n; i++)
                if (strcmp(d.v[i].name, "up.sql") != 0 && strcmp(d.v[i].name, "down.sql") != 0 &&
                    strcmp(d.v[i].name, "metadata.toml") != 0) {
                    char *shown = xasprintf("%s/%s%s", sub, d.v[i].name, d.v[i].is_dir ? "/" : "");

                    chain_add_ignored(c, shown);
                    free(shown);
                }
            common_dir_release(&d);
        }
        free(subdir);
    }
    buf_release(&version);
    free(up);
    free(down);
    free(meta);
}

static int
cmp_id(const void *a, const void *b)
{
    return strcmp(((const struct src_migration *)a)->id, ((const struct src_migration *)b)->id);
}

int
read_diesel(const char *dir, const struct read_options *opt, struct src_chain *c,
            struct report *rep, struct diag_err *err)
{
    struct common_dir d;

    if (common_dir_list(dir, &d, err) != 0)
        return -1;
    for (size_t i = 0; i < d.n; i++) {
        const char *name = d.v[i].name;
        char *up;

        /* diesel looks at directories only, and skips hidden ones. */
        if (!d.v[i].is_dir || name[0] == '.') {
            char *shown = d.v[i].is_dir ? xasprintf("%s/", name) : xstrdup(name);

            chain_add_ignored(c, shown);
            free(shown);
            continue;
        }
        up = xasprintf("%s/%s/up.sql", dir, name);
        if (!common_is_file(up))
            report_error(rep,
                         "%s/%s: a directory without up.sql (diesel refuses the whole "
                         "migrations directory then)",
                         dir, name);
        else
            read_migration(dir, name, opt, c, rep);
        free(up);
    }
    common_dir_release(&d);
    /* diesel orders by version, compared as text. */
    if (c->n > 1)
        qsort(c->v, c->n, sizeof(*c->v), cmp_id);
    return 0;
}

int
detect_diesel_why(const char *dir, char *why, size_t cap)
{
    struct common_dir d;
    struct diag_err err = DIAG_ERR_INIT;
    int score = 0;

    if (common_dir_list(dir, &d, &err) != 0)
        return 0;
    for (size_t i = 0; i < d.n && score < 3; i++) {
        char *up;

        if (!d.v[i].is_dir || d.v[i].name[0] == '.')
            continue;
        up = xasprintf("%s/%s/up.sql", dir, d.v[i].name);
        if (common_is_file(up)) {
            score = 3;
            if (why)
                snprintf(why, cap, "migration directory %s/ with up.sql", d.v[i].name);
        }
        free(up);
    }
    common_dir_release(&d);
    return score;
}

int
detect_diesel(const char *dir)
{
    return detect_diesel_why(dir, NULL, 0);
}
