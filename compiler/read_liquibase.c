/*
 * read_liquibase.c: reader for Liquibase: a master changelog (XML, YAML or formatted SQL;
 * --changelog FILE, relative to the directory, else the one changelog at its top), its include and
 * includeAll elements followed in Liquibase's order, and changesets made of sql, sqlFile and
 * rollback. Each changeset is one migration; the origin records Liquibase's key
 * "author:id@FILENAME" and its checksum (MD5SUM), for adopting a database Liquibase managed.
 * Layer: compiler.
 *
 * Faithful to Liquibase 4.3 (checked against the real tool in tests/cli/import_liquibase.bats):
 *  - FILENAME is the changelog's path relative to the directory (the search path), as the
 *    include names it: relativeToChangelogFile joins it to the including changelog's folder;
 *  - includeAll takes every changelog file under the folder, subfolders included, sorted by
 *    their whole path (so "A.sql" < "aa/1.sql" < "b.sql");
 *  - changesets for another dbms, or not selected by --contexts/--labels, are left out, as
 *    Liquibase skips them without recording them;
 *  - abstract change types (createTable...) are rendered by Liquibase itself when it is
 *    installed (read_liquibase_render.c), as the Alembic reader has Alembic render its SQL;
 *  - runOnChange changesets are the chain's repeatables, named by Liquibase's key
 *    "author:id@FILENAME" (read_liquibase_rep.c);
 *  - what a compiled bundle cannot do as Liquibase does is refused naming the changeset:
 *    abstract change types without Liquibase, runAlways (SQL that
 *    re-runs on every update is not a migration), failOnError:false, preconditions other than
 *    dbms.
 */
#include "read_common.h"
#include "read_liquibase.h"
#include "readers.h"
#include "sqltext.h"
#include "xmlread.h"
#include "sealift/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct lb_ctx {
    const char *dir;
    const struct read_options *opt;
    struct src_chain *c;
    struct report *rep;
    char **stack; /* changelogs being read (include loops) */
    size_t nstack;
    size_t stack_cap;
    const char *master; /* the master changelog, relative to dir */
    int collect;        /* first pass: only collect the changesets Liquibase must render */
    char **keys;        /* those, as "FILE::ID::AUTHOR" */
    size_t nkeys;
    size_t keys_cap;
    struct lb_render render; /* Liquibase's rendering, made when a changeset needs it */
    char **used;             /* files that are part of the chain (relative paths) */
    size_t nused;
    size_t used_cap;
    int rep_order_warned; /* the order of repeatables was warned about */
};

static void
mark_used(struct lb_ctx *x, const char *rel)
{
    for (size_t i = 0; i < x->nused; i++)
        if (strcmp(x->used[i], rel) == 0)
            return;
    x->used = xgrow(x->used, &x->used_cap, x->nused + 1, sizeof(*x->used));
    x->used[x->nused++] = xstrdup(rel);
}

/*
 * Normalise a path relative to the directory: "." components and doubled '/' dropped, ".."
 * applied. Returns NULL when it would leave the directory.
 */
static char *
norm_path(const char *p)
{
    struct buf out = BUF_INIT;

    /* "classpath:" names the search path's root, as a leading '/' does. */
    if (strncmp(p, "classpath:", 10) == 0)
        p += 10;
    while (*p == '/')
        p++;
    while (*p) {
        size_t n = strcspn(p, "/");

        if (n == 1 && p[0] == '.') {
            /* nothing */
        } else if (n == 2 && p[0] == '.' && p[1] == '.') {
            char *slash;

            if (out.len == 0) {
                buf_release(&out);
                return NULL;
            }
            slash = strrchr(out.data, '/');
            buf_truncate(&out, slash ? (size_t)(slash - out.data) : 0);
        } else if (n > 0) {
            if (out.len)
                buf_addch(&out, '/');
            buf_add(&out, p, n);
        }
        p += n;
        while (*p == '/')
            p++;
    }
    return buf_detach(&out, NULL);
}

/* The path an include names, relative to the directory (see norm_path). */
static char *
resolve(const char *parent, const char *file, int relative)
{
    char *joined, *r;
    const char *slash = strrchr(parent, '/');

    if (!relative || slash == NULL || file[0] == '/')
        return norm_path(file);
    joined = xasprintf("%.*s/%s", (int)(slash - parent), parent, file);
    r = norm_path(joined);
    free(joined);
    return r;
}

/* Is the comma-separated list set holding word (any case)? */
static int
in_list(const char *set, const char *word, size_t wlen)
{
    const char *p = set;

    while (p && *p) {
        size_t n = strcspn(p, ",");
        size_t a = 0, b = n;

        while (a < b && (p[a] == ' ' || p[a] == '\t'))
            a++;
        while (b > a && (p[b - 1] == ' ' || p[b - 1] == '\t'))
            b--;
        if (b - a == wlen && strncasecmp(p + a, word, wlen) == 0)
            return 1;
        p += n + (p[n] == ',');
    }
    return 0;
}

/* Liquibase's context and label expressions: words, "!"/"not", "and", "or" and ",", (). */
struct expr {
    const char *s;
    const char *set;
    int bad;
};

static size_t
expr_token(struct expr *e, const char **tok)
{
    while (*e->s == ' ' || *e->s == '\t')
        e->s++;
    *tok = e->s;
    if (*e->s == '(' || *e->s == ')' || *e->s == ',' || *e->s == '!')
        return 1;
    return strcspn(e->s, " \t(),!");
}

static int expr_or(struct expr *e);

static int
expr_unary(struct expr *e)
{
    const char *t;
    size_t n = expr_token(e, &t);

    if (n == 0) {
        e->bad = 1;
        return 0;
    }
    if ((n == 1 && *t == '!') || (n == 3 && strncasecmp(t, "not", 3) == 0)) {
        e->s = t + n;
        return !expr_unary(e);
    }
    if (n == 1 && *t == '(') {
        int v;

        e->s = t + 1;
        v = expr_or(e);
        n = expr_token(e, &t);
        if (n == 1 && *t == ')')
            e->s = t + 1;
        else
            e->bad = 1;
        return v;
    }
    if (n == 1 && (*t == ')' || *t == ',')) {
        e->bad = 1;
        return 0;
    }
    e->s = t + n;
    return in_list(e->set, t, n);
}

static int
expr_and(struct expr *e)
{
    int v = expr_unary(e);

    for (;;) {
        const char *t;
        size_t n = expr_token(e, &t);

        if (n != 3 || strncasecmp(t, "and", 3) != 0)
            return v;
        e->s = t + n;
        v = expr_unary(e) && v;
    }
}

static int
expr_or(struct expr *e)
{
    int v = expr_and(e);

    for (;;) {
        const char *t;
        size_t n = expr_token(e, &t);

        if (!((n == 2 && strncasecmp(t, "or", 2) == 0) || (n == 1 && *t == ',')))
            return v;
        e->s = t + n;
        v = expr_and(e) || v;
    }
}

/* Evaluate expression text against the set; -1 if it is not an expression. */
static int
expr_eval(const char *text, const char *set)
{
    struct expr e = {text, set, 0};
    int v = expr_or(&e);
    const char *t;

    if (expr_token(&e, &t) != 0)
        e.bad = 1;
    return e.bad ? -1 : v;
}

/* Does the changeset's dbms list include PostgreSQL ("all", "postgresql", not "!postgresql")? */
static int
dbms_selected(const char *dbms)
{
    int any_positive = 0, selected = 0;
    const char *p = dbms;

    if (dbms == NULL || dbms[0] == '\0')
        return 1;
    while (*p) {
        size_t n = strcspn(p, ","), a = 0, b = n;
        int neg;

        while (a < b && p[a] == ' ')
            a++;
        while (b > a && p[b - 1] == ' ')
            b--;
        neg = a < b && p[a] == '!';
        a += (size_t)neg;
        if (b - a == 10 && strncasecmp(p + a, "postgresql", 10) == 0) {
            if (neg)
                return 0;
            selected = 1;
        } else if (b - a == 3 && strncasecmp(p + a, "all", 3) == 0 && !neg) {
            selected = 1;
        } else if (b - a == 4 && strncasecmp(p + a, "none", 4) == 0 && !neg) {
            any_positive = 1;
        }
        if (!neg)
            any_positive = 1;
        p += n + (p[n] == ',');
    }
    return selected || !any_positive;
}

/* The changeset's problem, counted against its changelog. */
static void
refuse_changeset(struct lb_ctx *x, const struct lb_changeset *cs, const char *why)
{
    report_error(x->rep, "%s:%u: %s", cs->path, cs->line, why);
}

/*
 * A changeset with abstract change types: its SQL, rollback and MD5SUM as Liquibase renders
 * them, or refused naming it (Liquibase not installed, or failing).
 */
static void
use_rendering(struct lb_ctx *x, struct lb_changeset *cs)
{
    struct lb_render *r = &x->render;
    char *key;
    const struct lb_rendered *got = NULL;

    if (!r->tried) {
        struct diag_err err = DIAG_ERR_INIT;

        r->tried = 1;
        r->status = lb_render_run(x->dir, x->master, x->opt, x->keys, x->nkeys, r, &err);
        if (r->status < 0)
            r->error = xstrdup(err.msg);
    }
    if (r->status == 1) {
        lb_refuse(cs,
                  "changeset %s:%s uses the change type <%s>, which only Liquibase can render "
                  "as SQL: install Liquibase (on PATH, or SEALIFT_LIQUIBASE=COMMAND) to render "
                  "it, or write it as <sql> (for example from \"liquibase update-sql\")",
                  cs->author, cs->id, cs->abstract);
        return;
    }
    if (r->status < 0) {
        lb_refuse(
            cs, "changeset %s:%s uses the change type <%s>, and Liquibase could not render it: %s",
            cs->author, cs->id, cs->abstract, r->error);
        return;
    }
    key = xasprintf("%s::%s::%s", cs->file, cs->id, cs->author);
    for (size_t i = 0; i < r->n && got == NULL; i++)
        if (strcmp(r->v[i].key, key) == 0)
            got = &r->v[i];
    free(key);
    if (got == NULL) {
        lb_refuse(cs,
                  "changeset %s:%s uses the change type <%s>, but Liquibase rendered no SQL for it",
                  cs->author, cs->id, cs->abstract);
        return;
    }
    buf_reset(&cs->up);
    buf_add(&cs->up, got->up.data, got->up.len);
    buf_reset(&cs->down);
    cs->has_rollback = got->has_down && r->rollback_error == NULL;
    if (cs->has_rollback)
        buf_add(&cs->down, got->down.data, got->down.len);
    if (got->md5) {
        buf_reset(&cs->sum);
        buf_addstr(&cs->sum, got->md5);
    }
}

static void
add_changeset_cb(void *ctx, struct lb_changeset *cs)
{
    struct lb_ctx *x = ctx;
    struct src_migration *m;
    char *key, sum[HASH_MD5_HEX + 8];
    int sel;

    /* Selection first: Liquibase does not look at what it skips. */
    if (!dbms_selected(cs->dbms))
        return;
    if (x->opt->liquibase_contexts && cs->context && cs->context[0]) {
        sel = expr_eval(cs->context, x->opt->liquibase_contexts);
        if (sel < 0) {
            refuse_changeset(x, cs, "its context expression is not valid");
            return;
        }
        if (!sel)
            return;
    }
    if (x->opt->liquibase_labels && cs->labels && cs->labels[0]) {
        sel = expr_eval(x->opt->liquibase_labels, cs->labels);
        if (sel < 0) {
            report_error(x->rep, "--labels \"%s\" is not a label expression",
                         x->opt->liquibase_labels);
            return;
        }
        if (!sel)
            return;
    }
    if (x->collect) {
        if (cs->abstract) {
            x->keys = xgrow(x->keys, &x->keys_cap, x->nkeys + 1, sizeof(*x->keys));
            x->keys[x->nkeys++] = xasprintf("%s::%s::%s", cs->file, cs->id, cs->author);
        }
        return;
    }
    key = xasprintf("%s:%s@%s", cs->author, cs->id, cs->file);
    for (size_t i = 0; i < x->c->n + x->c->nrep; i++) {
        const char *o = i < x->c->n ? x->c->v[i].origin_id : x->c->rep[i - x->c->n].origin_id;

        if (o && strcmp(o, key) == 0) {
            char *why = xasprintf("changeset %s:%s appears twice in \"%s\" (Liquibase refuses "
                                  "duplicate identifiers)",
                                  cs->author, cs->id, cs->file);

            refuse_changeset(x, cs, why);
            free(why);
            free(key);
            return;
        }
    }
    if (cs->run_always)
        lb_refuse(cs,
                  "changeset %s:%s is runAlways: Liquibase runs it on every update, but a "
                  "bundle runs each migration once (SQL that re-runs each time is not a "
                  "migration); make it a plain changeset",
                  cs->author, cs->id);
    if (!cs->fail_on_error)
        lb_refuse(cs,
                  "changeset %s:%s has failOnError:false: sealift stops at a failing "
                  "statement and cannot ignore its errors as Liquibase does",
                  cs->author, cs->id);
    if (cs->abstract && !cs->refuse)
        use_rendering(x, cs);
    /* Liquibase's own sum of a rendered changeset, else ours of its SQL changes. */
    if (cs->abstract && x->render.status == 0 && !cs->refuse)
        snprintf(sum, sizeof(sum), "%s", cs->sum.data);
    else
        lb_checksum_final(&cs->sum, sum, sizeof(sum));
    if (cs->run_on_change && !cs->refuse) {
        lb_add_repeatable(x->c, cs, key, sum, &x->rep_order_warned, x->rep);
        free(key);
        return;
    }
    m = chain_add(x->c, cs->id, cs->comment ? cs->comment : "");
    m->origin_id = key;
    m->origin_checksum = xstrdup(sum);
    if (cs->refuse) {
        refuse_changeset(x, cs, cs->refuse);
        m->script[MANIFEST_UP].file = xstrdup(cs->path);
        return;
    }
    common_set_script(m, MANIFEST_UP, cs->up_file, cs->up.data, cs->up.len, x->rep);
    m->script[MANIFEST_UP].transactional = cs->run_in_tx;
    m->script[MANIFEST_UP].no_tx_hint = cs->no_tx_hint;
    if (cs->has_rollback) {
        common_set_script(m, MANIFEST_DOWN, cs->down_file, cs->down.data, cs->down.len, x->rep);
        m->script[MANIFEST_DOWN].transactional = cs->run_in_tx;
        m->script[MANIFEST_DOWN].no_tx_hint = cs->no_tx_hint;
    } else {
        char *what = xasprintf("changeset %s:%s has no rollback (Liquibase cannot roll back raw "
                               "SQL without one either)",
                               cs->author, cs->id);
        char *where = xasprintf("%s:%u", cs->path, cs->line);

        common_no_down(x->opt, where, what, x->rep);
        free(what);
        free(where);
    }
}

static void read_changelog(struct lb_ctx *x, const char *rel, const char *parent,
                           unsigned parent_line);

/* Liquibase's changelog file types, by extension. */
static int
changelog_ext(const char *name)
{
    static const char *const exts[] = {".xml", ".sql", ".yaml", ".yml", ".json"};
    size_t len = strlen(name);

    for (size_t i = 0; i < sizeof(exts) / sizeof(exts[0]); i++) {
        size_t el = strlen(exts[i]);

        if (len > el && strcasecmp(name + len - el, exts[i]) == 0)
            return 1;
    }
    return 0;
}

/* Every changelog file under rel (relative to the directory), recursively, into list. */
static void
list_tree(struct lb_ctx *x, const char *rel, char ***list, size_t *n, size_t *cap)
{
    char *full = rel[0] ? xasprintf("%s/%s", x->dir, rel) : xstrdup(x->dir);
    struct common_dir d;
    struct diag_err err = DIAG_ERR_INIT;

    if (common_dir_list_of(full, "includeAll folder", &d, &err) != 0) {
        free(full);
        return;
    }
    for (size_t i = 0; i < d.n; i++) {
        char *child = rel[0] ? xasprintf("%s/%s", rel, d.v[i].name) : xstrdup(d.v[i].name);

        if (d.v[i].is_dir) {
            list_tree(x, child, list, n, cap);
            free(child);
        } else if (d.v[i].is_file && changelog_ext(d.v[i].name)) {
            *list = xgrow(*list, cap, *n + 1, sizeof(**list));
            (*list)[(*n)++] = child;
        } else {
            free(child);
        }
    }
    common_dir_release(&d);
    free(full);
}

static int
cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
include_all(struct lb_ctx *x, const char *rel, const char *path, unsigned line, const char *folder)
{
    char **list = NULL;
    size_t n = 0, cap = 0;
    char *full = xasprintf("%s/%s", x->dir, folder);

    if (!common_is_dir(full)) {
        report_error(x->rep, "%s:%u: includeAll folder \"%s\" not found", path, line, folder);
        free(full);
        return;
    }
    free(full);
    list_tree(x, folder, &list, &n, &cap);
    /* Liquibase sorts the whole paths, so files and subfolders interleave by name. */
    qsort(list, n, sizeof(*list), cmp_str);
    if (n == 0)
        report_error(x->rep, "%s:%u: includeAll folder \"%s\" has no changelogs", path, line,
                     folder);
    for (size_t i = 0; i < n; i++) {
        read_changelog(x, list[i], rel, line);
        free(list[i]);
    }
    free(list);
}

/* An attribute that must be a boolean; def when absent. */
static int
attr_bool(const struct xml_node *n, const char *name, int def, struct lb_changeset *cs)
{
    const char *v = xml_attr(n, name);
    int b;

    if (v == NULL)
        return def;
    b = lb_bool(v, strlen(v));
    if (b < 0 && cs)
        lb_refuse(cs, "changeset %s:%s: %s=\"%s\" is not true or false", cs->author, cs->id, name,
                  v);
    return b < 0 ? def : b;
}

/* Append one SQL change's text to script (each change ends with ';'), numbered from line. */
static void
append_sql(struct buf *script, const char *text, size_t len, unsigned line, int first)
{
    struct common_stmt *st = NULL;
    size_t n;

    if (first)
        for (unsigned i = 1; i < line; i++)
            buf_addch(script, '\n');
    else if (script->len && script->data[script->len - 1] != '\n')
        buf_addch(script, '\n');
    buf_add(script, text, len);
    n = common_statements(text, len, &st);
    if (n > 0 && !st[n - 1].has_semicolon)
        buf_addch(script, ';');
    if (script->len && script->data[script->len - 1] != '\n')
        buf_addch(script, '\n');
    free(st);
}

/*
 * A sql or sqlFile change of a changeset (or its rollback, with for_rollback): its text into
 * script, its checksum into cs->sum (not for a rollback: Liquibase hashes only the changes).
 */
static void
sql_change(struct lb_ctx *x, struct lb_changeset *cs, const char *rel, const struct xml_node *ch,
           struct buf *script, char **script_file, int first, int for_rollback)
{
    const char *local = xml_local_name(ch);
    const char *ed = xml_attr(ch, "endDelimiter");
    int split = attr_bool(ch, "splitStatements", 1, cs);
    int strip = attr_bool(ch, "stripComments", 0, cs);
    struct buf text = BUF_INIT;
    unsigned line = ch->line;

    if (strcmp(local, "sql") == 0) {
        size_t k = 0;

        while (k < ch->text.len && strchr(" \t\n", ch->text.data[k]))
            k++;
        if (k == ch->text.len) {
            /* Liquibase: "'sql' is required". */
            lb_refuse(cs,
                      "changeset %s:%s: <sql> of line %u is empty (Liquibase requires its text)",
                      cs->author, cs->id, ch->line);
            return;
        }
        buf_add(&text, ch->text.data, ch->text.len);
    } else {
        const char *p = xml_attr(ch, "path");
        char *frel, *full;
        struct diag_err err = DIAG_ERR_INIT;

        if (p == NULL) {
            lb_refuse(cs, "changeset %s:%s: sqlFile without path", cs->author, cs->id);
            return;
        }
        frel = resolve(rel, p, attr_bool(ch, "relativeToChangelogFile", 0, cs));
        if (frel == NULL) {
            lb_refuse(cs, "changeset %s:%s: sqlFile \"%s\" is outside the directory", cs->author,
                      cs->id, p);
            return;
        }
        full = xasprintf("%s/%s", x->dir, frel);
        if (sqltext_read_file(full, &text, &err) != 0) {
            lb_refuse(cs, "changeset %s:%s: sqlFile: %s", cs->author, cs->id, err.msg);
            free(frel);
            free(full);
            return;
        }
        mark_used(x, frel);
        free(*script_file);
        *script_file = full;
        free(frel);
        line = 1;
    }
    /* Liquibase hashes every change of the changeset, also those for another dbms. */
    if (!for_rollback)
        lb_checksum_add(&cs->sum, ed, split, strip, text.data, text.len);
    if (!xml_attr(ch, "dbms") || dbms_selected(xml_attr(ch, "dbms"))) {
        lb_apply_end_delimiter(&text, ed);
        append_sql(script, text.data, text.len, line, first);
    }
    buf_release(&text);
}

static void
xml_changeset(struct lb_ctx *x, const char *rel, const char *path, const char *logical,
              const struct xml_node *n)
{
    struct lb_changeset cs;
    int nchanges = 0, nrollback = 0, ntags = 0;

    lb_changeset_init(&cs);
    cs.path = xstrdup(path);
    cs.line = n->line;
    cs.up_file = xstrdup(path);
    cs.down_file = xstrdup(path);
    cs.author = xstrdup(xml_attr(n, "author") ? xml_attr(n, "author") : "");
    cs.id = xstrdup(xml_attr(n, "id") ? xml_attr(n, "id") : "");
    cs.file = xstrdup(xml_attr(n, "logicalFilePath") ? xml_attr(n, "logicalFilePath") : logical);
    if (!cs.id[0] || !cs.author[0])
        lb_refuse(&cs, "changeSet needs id and author");
    cs.run_in_tx = attr_bool(n, "runInTransaction", 1, &cs);
    cs.run_always = attr_bool(n, "runAlways", 0, &cs);
    cs.run_on_change = attr_bool(n, "runOnChange", 0, &cs);
    cs.fail_on_error = attr_bool(n, "failOnError", 1, &cs);
    if (xml_attr(n, "contextFilter") || xml_attr(n, "context"))
        cs.context = xstrdup(xml_attr(n, "contextFilter") ? xml_attr(n, "contextFilter")
                                                          : xml_attr(n, "context"));
    if (xml_attr(n, "labels"))
        cs.labels = xstrdup(xml_attr(n, "labels"));
    if (xml_attr(n, "dbms"))
        cs.dbms = xstrdup(xml_attr(n, "dbms"));
    cs.no_tx_hint = "add runInTransaction=\"false\" to its <changeSet>";
    for (size_t i = 0; i < n->nchildren; i++) {
        const struct xml_node *ch = &n->children[i];
        const char *local = xml_local_name(ch);

        if (strcmp(local, "comment") == 0) {
            free(cs.comment);
            cs.comment = xstrndup(ch->text.data, strcspn(ch->text.data, "\n"));
        } else if (strcmp(local, "sql") == 0 || strcmp(local, "sqlFile") == 0) {
            sql_change(x, &cs, rel, ch, &cs.up, &cs.up_file, nchanges++ == 0, 0);
        } else if (strcmp(local, "rollback") == 0) {
            cs.has_rollback = 1;
            if (xml_attr(ch, "changeSetId")) {
                lb_refuse(&cs,
                          "changeset %s:%s: a rollback that refers to changeset %s is not "
                          "supported (write its SQL in <rollback>)",
                          cs.author, cs.id, xml_attr(ch, "changeSetId"));
                continue;
            }
            if (ch->nchildren == 0) {
                append_sql(&cs.down, ch->text.data, ch->text.len, ch->line, nrollback++ == 0);
                continue;
            }
            for (size_t k = 0; k < ch->nchildren; k++) {
                const char *rl = xml_local_name(&ch->children[k]);

                if (strcmp(rl, "sql") == 0 || strcmp(rl, "sqlFile") == 0)
                    sql_change(x, &cs, rel, &ch->children[k], &cs.down, &cs.down_file,
                               nrollback++ == 0, 1);
                else if (strcmp(rl, "comment") != 0 && cs.abstract == NULL)
                    cs.abstract = xstrdup(ch->children[k].name);
            }
        } else if (strcmp(local, "validCheckSum") == 0) {
            continue;
        } else if (strcmp(local, "tagDatabase") == 0 && xml_attr(ch, "tag")) {
            /*
             * Only a name in DATABASECHANGELOG.TAG: no SQL, and Liquibase rolls it back as a
             * no-op. Hashed as Liquibase serialises it.
             */
            char *ser = xasprintf("tagDatabase:[\n    tag=\"%s\"\n]", xml_attr(ch, "tag"));

            lb_checksum_add_text(&cs.sum, ser);
            free(ser);
            nchanges++;
            ntags++;
        } else if (strcmp(local, "preConditions") == 0) {
            for (size_t k = 0; k < ch->nchildren; k++) {
                const struct xml_node *pc = &ch->children[k];
                const char *t = xml_attr(pc, "type");

                if (strcmp(xml_local_name(pc), "dbms") == 0 && t && dbms_selected(t))
                    continue;
                lb_refuse(&cs,
                          "changeset %s:%s: precondition <%s> %s (only a dbms precondition "
                          "that holds on PostgreSQL can be evaluated at build time)",
                          cs.author, cs.id, pc->name,
                          strcmp(xml_local_name(pc), "dbms") == 0
                              ? "fails on PostgreSQL"
                              : "depends on the database's state, which a bundle compiled "
                                "ahead of time cannot evaluate");
            }
        } else {
            if (cs.abstract == NULL)
                cs.abstract = xstrdup(ch->name);
            nchanges++;
        }
    }
    if (nchanges == 0 && !cs.refuse)
        lb_refuse(&cs, "changeset %s:%s has no change", cs.author, cs.id);
    /* A changeset that only tags: a no-op both ways. */
    if (ntags == nchanges && !cs.has_rollback)
        cs.has_rollback = 1;
    add_changeset_cb(x, &cs);
    lb_changeset_release(&cs);
}

static void
read_tree(struct lb_ctx *x, const char *rel, const char *path, const char *text, size_t len,
          int kind)
{
    struct xml_node root;
    struct diag_err err = DIAG_ERR_INIT;
    const char *logical;

    if ((kind == 1   ? lb_yaml_parse(text, len, &root, &err)
         : kind == 2 ? lb_json_parse(text, len, &root, &err)
                     : xml_parse(text, len, &root, &err)) != 0) {
        report_error(x->rep, "%s: %s", path, err.msg);
        xml_node_release(&root);
        return;
    }
    if (strcmp(xml_local_name(&root), "databaseChangeLog") != 0) {
        report_error(x->rep, "%s: not a Liquibase changelog (the root is <%s>)", path, root.name);
        xml_node_release(&root);
        return;
    }
    logical = xml_attr(&root, "logicalFilePath") ? xml_attr(&root, "logicalFilePath") : rel;
    for (size_t i = 0; i < root.nchildren; i++) {
        const struct xml_node *n = &root.children[i];
        const char *local = xml_local_name(n);

        if (strcmp(local, "changeSet") == 0) {
            xml_changeset(x, rel, path, logical, n);
        } else if (strcmp(local, "include") == 0 || strcmp(local, "includeAll") == 0) {
            int all = strcmp(local, "includeAll") == 0;
            const char *f = xml_attr(n, all ? "path" : "file");
            char *target;

            if (f == NULL) {
                report_error(x->rep, "%s:%u: <%s> without %s", path, n->line, local,
                             all ? "path" : "file");
                continue;
            }
            target = resolve(rel, f, attr_bool(n, "relativeToChangelogFile", 0, NULL));
            if (target == NULL) {
                report_error(x->rep, "%s:%u: \"%s\" is outside the directory", path, n->line, f);
                continue;
            }
            if (xml_attr(n, "context") || xml_attr(n, "contextFilter") || xml_attr(n, "labels"))
                report_error(x->rep,
                             "%s:%u: contexts or labels on <%s> are not supported (put them "
                             "on the changesets)",
                             path, n->line, local);
            else if (all)
                include_all(x, rel, path, n->line, target);
            else
                read_changelog(x, target, rel, n->line);
            free(target);
        } else if (strcmp(local, "property") == 0) {
            report_warning(x->rep,
                           "%s:%u: property \"%s\" is not read; give its value with --set "
                           "NAME=VALUE",
                           path, n->line, xml_attr(n, "name") ? xml_attr(n, "name") : "?");
        } else if (strcmp(local, "preConditions") == 0) {
            report_error(x->rep, "%s:%u: changelog preconditions cannot be evaluated at build time",
                         path, n->line);
        } else {
            report_error(x->rep, "%s:%u: <%s> is not supported in a changelog", path, n->line,
                         n->name);
        }
    }
    xml_node_release(&root);
}

static void
read_changelog(struct lb_ctx *x, const char *rel, const char *parent, unsigned parent_line)
{
    char *path = xasprintf("%s/%s", x->dir, rel);
    struct buf text = BUF_INIT;
    struct diag_err err = DIAG_ERR_INIT;
    size_t len = strlen(rel);

    for (size_t i = 0; i < x->nstack; i++)
        if (strcmp(x->stack[i], rel) == 0) {
            report_error(x->rep, "%s/%s:%u: include loop: \"%s\" includes itself", x->dir, parent,
                         parent_line, rel);
            goto done;
        }
    if (!common_is_file(path)) {
        if (parent)
            report_error(x->rep, "%s/%s:%u: included changelog \"%s\" not found", x->dir, parent,
                         parent_line, rel);
        else
            report_error(x->rep, "changelog \"%s\" not found", path);
        goto done;
    }
    if (sqltext_read_file(path, &text, &err) != 0) {
        report_error(x->rep, "%s", err.msg);
        goto done;
    }
    mark_used(x, rel);
    x->stack = xgrow(x->stack, &x->stack_cap, x->nstack + 1, sizeof(*x->stack));
    x->stack[x->nstack++] = xstrdup(rel);
    if (len > 4 && strcasecmp(rel + len - 4, ".xml") == 0) {
        read_tree(x, rel, path, text.data, text.len, 0);
    } else if ((len > 5 && strcasecmp(rel + len - 5, ".yaml") == 0) ||
               (len > 4 && strcasecmp(rel + len - 4, ".yml") == 0)) {
        read_tree(x, rel, path, text.data, text.len, 1);
    } else if (len > 4 && strcasecmp(rel + len - 4, ".sql") == 0) {
        struct lb_sink sink = {x, add_changeset_cb};

        if (lb_is_formatted_sql(text.data, text.len))
            lb_read_formatted_sql(path, rel, text.data, text.len, &sink, x->rep);
        else
            report_error(x->rep,
                         "%s: not a formatted SQL changelog (no \"--liquibase formatted sql\" "
                         "first line); Liquibase would run it whole as one changeset without "
                         "rollback: add the header and \"--changeset\" lines",
                         path);
    } else if (len > 5 && strcasecmp(rel + len - 5, ".json") == 0) {
        read_tree(x, rel, path, text.data, text.len, 2);
    } else {
        report_error(
            x->rep, "%s: not a changelog Liquibase reads (.xml, .yaml, .yml, .json or .sql)", path);
    }
    free(x->stack[--x->nstack]);
done:
    buf_release(&text);
    free(path);
}

/* Does the top-level file name look like a master changelog? 2: XML changelog, 1: SQL. */
static int
master_kind(const char *dir, const char *name)
{
    char *path = xasprintf("%s/%s", dir, name);
    struct buf text = BUF_INIT;
    struct diag_err err = DIAG_ERR_INIT;
    size_t len = strlen(name);
    int kind = 0;

    if (len > 4 && strcasecmp(name + len - 4, ".xml") == 0) {
        if (sqltext_read_file(path, &text, &err) == 0 && strstr(text.data, "<databaseChangeLog"))
            kind = 2;
    } else if (len > 4 && strcasecmp(name + len - 4, ".sql") == 0) {
        if (sqltext_read_file(path, &text, &err) == 0 && lb_is_formatted_sql(text.data, text.len))
            kind = 1;
    } else if (changelog_ext(name)) {
        if (sqltext_read_file(path, &text, &err) == 0 && strstr(text.data, "databaseChangeLog"))
            kind = 2;
    }
    buf_release(&text);
    free(path);
    return kind;
}

/* The master changelog: --changelog, else the one XML (or else formatted SQL) at the top. */
static char *
find_master(const char *dir, const struct common_dir *top, struct report *rep)
{
    char *best = NULL;
    int best_kind = 0, ties = 0;
    struct buf names = BUF_INIT;

    for (size_t i = 0; i < top->n; i++) {
        int k = top->v[i].is_file ? master_kind(dir, top->v[i].name) : 0;

        if (k == 0)
            continue;
        buf_addf(&names, "%s\"%s\"", names.len ? ", " : "", top->v[i].name);
        if (k > best_kind) {
            free(best);
            best = xstrdup(top->v[i].name);
            best_kind = k;
            ties = 0;
        } else if (k == best_kind) {
            ties++;
        }
    }
    if (best == NULL)
        report_error(rep, "no Liquibase changelog at the top of \"%s\" (give --changelog FILE)",
                     dir);
    else if (ties) {
        report_error(rep,
                     "several changelogs at the top of \"%s\" (%s); give the master one with "
                     "--changelog FILE",
                     dir, names.data);
        free(best);
        best = NULL;
    }
    buf_release(&names);
    return best;
}

/* Two changesets with one id (in different files or by different authors): key them apart. */
static void
unique_ids(struct src_chain *c)
{
    char *dup = xcalloc(c->n + 1, 1);

    for (size_t i = 0; i < c->n; i++)
        for (size_t k = i + 1; k < c->n; k++)
            if (strcmp(c->v[k].id, c->v[i].id) == 0)
                dup[i] = dup[k] = 1;
    /* the origin key "author:id@file" is unique (duplicates were refused) */
    for (size_t i = 0; i < c->n; i++)
        if (dup[i] && c->v[i].origin_id) {
            free(c->v[i].id);
            c->v[i].id = xstrdup(c->v[i].origin_id);
        }
    free(dup);
}

int
read_liquibase(const char *dir, const struct read_options *opt, struct src_chain *c,
               struct report *rep, struct diag_err *err)
{
    struct lb_ctx x;
    struct common_dir top;
    char *master;

    if (common_dir_list(dir, &top, err) != 0)
        return -1;
    memset(&x, 0, sizeof(x));
    x.dir = dir;
    x.opt = opt;
    x.c = c;
    x.rep = rep;
    if (opt->liquibase_changelog) {
        master = norm_path(opt->liquibase_changelog);
        if (master == NULL)
            report_error(rep, "--changelog \"%s\" is outside \"%s\"", opt->liquibase_changelog,
                         dir);
    } else {
        master = find_master(dir, &top, rep);
    }
    x.master = master;
    if (master) {
        /*
         * A first, silent pass finds the changesets only Liquibase can render, so that it
         * renders their rollbacks alone.
         */
        struct buf held = BUF_INIT;
        struct report quiet = {0, 0, &held};

        x.collect = 1;
        x.rep = &quiet;
        read_changelog(&x, master, NULL, 0);
        x.collect = 0;
        x.rep = rep;
        buf_release(&held);
        for (size_t i = 0; i < x.nused; i++)
            free(x.used[i]);
        x.nused = 0;
        read_changelog(&x, master, NULL, 0);
    }
    lb_render_release(&x.render);
    for (size_t i = 0; i < x.nkeys; i++)
        free(x.keys[i]);
    free(x.keys);
    unique_ids(c);
    /* What no changelog names is not part of the chain. */
    for (size_t i = 0; i < top.n; i++) {
        const char *n = top.v[i].name;
        size_t nl = strlen(n);
        int used = 0;

        for (size_t k = 0; k < x.nused && !used; k++)
            used = strcmp(x.used[k], n) == 0 ||
                   (top.v[i].is_dir && strncmp(x.used[k], n, nl) == 0 && x.used[k][nl] == '/');
        if (!used) {
            char *shown = top.v[i].is_dir ? xasprintf("%s/", n) : xstrdup(n);

            chain_add_ignored(c, shown);
            free(shown);
        }
    }
    for (size_t i = 0; i < x.nused; i++)
        free(x.used[i]);
    free(x.used);
    free(x.stack);
    free(master);
    common_dir_release(&top);
    return 0;
}

int
detect_liquibase(const char *dir)
{
    struct common_dir top;
    struct diag_err err = DIAG_ERR_INIT;
    int found = 0;

    if (common_dir_list(dir, &top, &err) != 0)
        return 0;
    for (size_t i = 0; i < top.n && found < 2; i++)
        if (top.v[i].is_file && master_kind(dir, top.v[i].name) == 2)
            found = 2;
        else if (top.v[i].is_file && master_kind(dir, top.v[i].name) == 1)
            found = 1;
    common_dir_release(&top);
    /* A databaseChangeLog element is Liquibase's alone; a formatted SQL header nearly so. */
    return found == 2 ? 3 : found ? 3 : 0;
}
