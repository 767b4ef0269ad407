/*
 * read_alembic.c: reader for Alembic: the revision graph from the revision files (revision,
 * down_revision, depends_on, the docstring's first line as the name), the SQL from Alembic's
 * own offline rendering, split at its "-- Running upgrade A -> B" markers.
 * Layer: compiler.
 *
 * -d DIR is a project directory holding alembic.ini (its script_location's versions/, or
 * version_locations, hold the revisions) or the versions directory itself. The SQL is
 * "alembic upgrade base:head --sql" and "alembic downgrade head:base --sql", run here with the
 * project's alembic.ini (--alembic-config, default DIR/alembic.ini) when alembic is on PATH, or
 * read from files rendered elsewhere (--alembic-sql-up, --alembic-sql-down).
 *
 * Alembic's rendering wraps everything in BEGIN; ... COMMIT; (one per revision with
 * transaction_per_migration), closes that transaction around an autocommit_block() with
 * COMMIT; ... BEGIN;, and maintains its alembic_version table. Those statements are recognised
 * and dropped: sealift owns the transaction and its own history. A revision whose statements all
 * ran outside the transaction (an autocommit_block) is a no-transaction migration; one that
 * mixes both is refused. One head: branches merged long ago are ordered as Alembic's upgrade
 * SQL runs them; two or more heads are refused, naming them.
 */
#include "read_common.h"
#include "readers.h"
#include "sqltext.h"
#include "sealift/textpos.h"
#include "sealift/sig.h"
#include "sealift/xalloc.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <unistd.h>

struct revision {
    char *file; /* path of the .py */
    char *rev;
    char **downs; /* down_revision: none (a base), one, or several (a merge point) */
    size_t ndowns;
    char **depends;
    size_t ndepends;
    char *message;
    int nchildren;
};

struct revisions {
    struct revision *v;
    size_t n;
    size_t cap;
};

static void
free_strings(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static void
revisions_release(struct revisions *r)
{
    for (size_t i = 0; i < r->n; i++) {
        free(r->v[i].file);
        free(r->v[i].rev);
        free_strings(r->v[i].downs, r->v[i].ndowns);
        free_strings(r->v[i].depends, r->v[i].ndepends);
        free(r->v[i].message);
    }
    free(r->v);
}

/*
 * A Python value of a revision file: None, a string literal, or a tuple or list of them.
 * Returns the count of strings (into *out), 0 for None, -1 for anything else.
 */
static long
python_strings(const char *s, const char *end, char ***out)
{
    size_t n = 0, cap = 0;
    int bracket = 0;

    *out = NULL;
    while (s < end && isspace((unsigned char)*s))
        s++;
    while (end > s && isspace((unsigned char)end[-1]))
        end--;
    if (end - s == 4 && strncmp(s, "None", 4) == 0)
        return 0;
    if (s < end && (*s == '(' || *s == '[')) {
        bracket = 1;
        s++;
        end--;
    }
    while (s < end) {
        char q;
        const char *close;

        while (s < end && (isspace((unsigned char)*s) || *s == ','))
            s++;
        if (s >= end)
            break;
        q = *s;
        if (q != '\'' && q != '"')
            goto bad;
        close = memchr(s + 1, q, (size_t)(end - s - 1));
        if (close == NULL || memchr(s + 1, '\\', (size_t)(close - s - 1)))
            goto bad;
        *out = xgrow(*out, &cap, n + 1, sizeof(**out));
        (*out)[n++] = xstrndup(s + 1, (size_t)(close - s - 1));
        s = close + 1;
        if (!bracket)
            break;
    }
    while (s < end && isspace((unsigned char)*s))
        s++;
    if (s != end || (!bracket && n != 1))
        goto bad;
    return (long)n;
bad:
    free_strings(*out, n);
    *out = NULL;
    return -1;
}

/* Read one revision file; returns 0, 1 if it is not a revision file, -1 after reporting. */
static int
read_revision(const char *path, struct revision *r, struct report *rep)
{
    struct buf text = BUF_INIT;
    struct diag_err err = DIAG_ERR_INIT;
    int have_rev = 0, have_down = 0, ret = -1;
    unsigned lineno = 0;
    size_t ls = 0;

    memset(r, 0, sizeof(*r));
    if (sqltext_read_file(path, &text, &err) != 0) {
        report_error(rep, "%s", err.msg);
        buf_release(&text);
        return -1;
    }
    /* The module docstring's first line is Alembic's message. */
    {
        size_t i = 0;

        while (i < text.len) {
            while (i < text.len && isspace((unsigned char)text.data[i]))
                i++;
            if (i < text.len && text.data[i] == '#') {
                while (i < text.len && text.data[i] != '\n')
                    i++;
                continue;
            }
            break;
        }
        if (i < text.len && (text.data[i] == 'r' || text.data[i] == 'u'))
            i++;
        if (text.len - i >= 3 &&
            (strncmp(text.data + i, "\"\"\"", 3) == 0 || strncmp(text.data + i, "'''", 3) == 0)) {
            size_t s = i + 3, e = s;

            while (e < text.len && text.data[e] != '\n' && text.data[e] != text.data[i])
                e++;
            while (s < e && isspace((unsigned char)text.data[s]))
                s++;
            while (e > s && isspace((unsigned char)text.data[e - 1]))
                e--;
            r->message = xstrndup(text.data + s, e - s);
        }
    }
    while (ls < text.len) {
        const char *nl = memchr(text.data + ls, '\n', text.len - ls);
        size_t le = nl ? (size_t)(nl - text.data) : text.len;
        const char *l = text.data + ls, *eq, *name_end;
        size_t n = le - ls;
        const char *keys[] = {"revision", "down_revision", "depends_on"};

        lineno++;
        ls = nl ? le + 1 : text.len;
        eq = memchr(l, '=', n);
        if (eq == NULL || isspace((unsigned char)l[0]))
            continue;
        /* "name = value" or "name: Type = value", at module level. */
        for (name_end = l; name_end < eq && (isalnum((unsigned char)*name_end) || *name_end == '_');
             name_end++)
            ;
        for (int k = 0; k < 3; k++) {
            char **vals;
            long nv;
            const char *after = name_end;

            if ((size_t)(name_end - l) != strlen(keys[k]) || strncmp(l, keys[k], strlen(keys[k])))
                continue;
            while (after < eq && isspace((unsigned char)*after))
                after++;
            if (after != eq && *after != ':')
                continue;
            if (eq + 1 < l + n && eq[1] == '=')
                continue;
            nv = python_strings(eq + 1, l + n, &vals);
            if (nv < 0) {
                report_error(rep,
                             "%s:%u: cannot read %s (a string, None, or a tuple of strings on "
                             "one line)",
                             path, lineno, keys[k]);
                goto done;
            }
            if (k == 0) {
                if (nv != 1) {
                    report_error(rep, "%s:%u: revision must be one string", path, lineno);
                    free_strings(vals, (size_t)nv);
                    goto done;
                }
                free(r->rev);
                r->rev = vals[0];
                free(vals);
                have_rev = 1;
            } else if (k == 1) {
                free_strings(r->downs, r->ndowns);
                r->downs = vals;
                r->ndowns = (size_t)nv;
                have_down = 1;
            } else {
                free_strings(r->depends, r->ndepends);
                r->depends = vals;
                r->ndepends = (size_t)nv;
            }
        }
    }
    if (!have_rev && !have_down) {
        ret = 1;
        goto done;
    }
    if (!have_rev || !have_down) {
        report_error(rep, "%s: an Alembic revision file needs both revision and down_revision",
                     path);
        goto done;
    }
    r->file = xstrdup(path);
    if (r->message == NULL)
        r->message = xstrdup("");
    ret = 0;
done:
    if (ret != 0) {
        free(r->rev);
        free_strings(r->downs, r->ndowns);
        free_strings(r->depends, r->ndepends);
        free(r->message);
        memset(r, 0, sizeof(*r));
    }
    buf_release(&text);
    return ret;
}

/* ---- alembic.ini ---- */

/* The [alembic] value of key in ini (configparser: "key = value", "%(here)s"), or NULL. */
static char *
ini_value(const char *ini_path, const char *key, struct report *rep)
{
    struct buf text = BUF_INIT, out = BUF_INIT;
    struct diag_err err = DIAG_ERR_INIT;
    int in_alembic = 0, found = 0;
    char *here, *copy = xstrdup(ini_path);

    here = xstrdup(dirname(copy));
    free(copy);
    if (sqltext_read_file(ini_path, &text, &err) != 0) {
        report_error(rep, "%s", err.msg);
        goto done;
    }
    for (size_t ls = 0; ls < text.len && !found;) {
        const char *nl = memchr(text.data + ls, '\n', text.len - ls);
        size_t le = nl ? (size_t)(nl - text.data) : text.len, i = ls, e = le, k;

        ls = nl ? le + 1 : text.len;
        while (i < e && isspace((unsigned char)text.data[i]))
            i++;
        while (e > i && isspace((unsigned char)text.data[e - 1]))
            e--;
        if (i == e || text.data[i] == '#' || text.data[i] == ';')
            continue;
        if (text.data[i] == '[') {
            in_alembic = e - i == 9 && strncmp(text.data + i, "[alembic]", 9) == 0;
            continue;
        }
        if (!in_alembic)
            continue;
        for (k = i; k < e && text.data[k] != '=' && text.data[k] != ':'; k++)
            ;
        {
            size_t ke = k, vs = k + 1;

            while (ke > i && isspace((unsigned char)text.data[ke - 1]))
                ke--;
            while (vs < e && isspace((unsigned char)text.data[vs]))
                vs++;
            if (k >= e || ke - i != strlen(key) || strncmp(text.data + i, key, ke - i) != 0)
                continue;
            /* A value may end with an inline comment in Alembic's own template ("  # ..."). */
            for (size_t c = vs; c + 1 < e; c++)
                if (isspace((unsigned char)text.data[c]) && text.data[c + 1] == '#') {
                    e = c;
                    break;
                }
            while (e > vs && isspace((unsigned char)text.data[e - 1]))
                e--;
            for (size_t c = vs; c < e; c++) {
                if (e - c >= 8 && strncmp(text.data + c, "%(here)s", 8) == 0) {
                    buf_addstr(&out, here);
                    c += 7;
                } else if (e - c >= 2 && text.data[c] == '%' && text.data[c + 1] == '%') {
                    buf_addch(&out, '%');
                    c++;
                } else {
                    buf_addch(&out, text.data[c]);
                }
            }
            found = 1;
        }
    }
done:
    buf_release(&text);
    free(here);
    if (!found) {
        buf_release(&out);
        return NULL;
    }
    return buf_detach(&out, NULL);
}

/* ---- running alembic ---- */

/*
 * Run "alembic -c INI ARGS... --sql" in the ini's directory, as a user would, and capture its
 * standard output. Python must not write __pycache__ into the source tree: a build changes no
 * file there. Returns 0, or -1 with err set (err->io: alembic is an environment matter).
 */
static int
run_alembic(const char *ini, const char *cmd, const char *range, struct buf *out,
            struct diag_err *err)
{
    char *copy1 = xstrdup(ini), *copy2 = xstrdup(ini);
    char *dir = dirname(copy1), *base = basename(copy2);
    char *argv[] = {"alembic", "-c", base, (char *)cmd, (char *)range, "--sql", NULL};
    struct buf errout = BUF_INIT;
    int ret = -1;
    int status = common_run_tool(dir, argv, "PYTHONDONTWRITEBYTECODE", "1", out, &errout, err);

    if (status == 127) {
        err_set_io(err, "alembic is not on PATH: install it (Debian: alembic), or render the SQL "
                        "elsewhere and give --alembic-sql-up FILE [--alembic-sql-down FILE]");
    } else if (status != 0 && status != -1) {
        char *last;

        /* Alembic's last line of stderr says why (a Python exception, usually). */
        while (errout.len &&
               (errout.data[errout.len - 1] == '\n' || errout.data[errout.len - 1] == '\r'))
            buf_truncate(&errout, errout.len - 1);
        last = strrchr(errout.data, '\n') ? strrchr(errout.data, '\n') + 1 : errout.data;
        err_set_io(err, "\"alembic -c %s %s %s --sql\" failed in \"%s\"%s%.399s", base, cmd, range,
                   dir, last[0] ? ": " : "", last);
    } else if (status == 0) {
        ret = 0;
    }
    buf_release(&errout);
    free(copy1);
    free(copy2);
    return ret;
}

/* ---- the rendered SQL ---- */

struct section {
    char *from; /* revision before ("" for base) */
    char *to;
    size_t text_start; /* after the marker line */
    size_t text_end;
    int ntx;   /* statements inside Alembic's transaction */
    int nno;   /* statements outside it (autocommit_block) */
    int vstmt; /* its alembic_version statement was seen and matched */
    size_t first_no, first_tx;
};

struct rendered {
    const char *label; /* for messages */
    struct buf text;
    struct section *v;
    size_t n;
    size_t cap;
    char *version_table;
};

/* Whitespace collapsed to single spaces (statements compared in a canonical form). */
static char *
collapse(const char *s, size_t n)
{
    struct buf out = BUF_INIT;
    int space = 0;

    for (size_t i = 0; i < n; i++) {
        if (isspace((unsigned char)s[i])) {
            space = out.len > 0;
        } else {
            if (space)
                buf_addch(&out, ' ');
            space = 0;
            buf_addch(&out, s[i]);
        }
    }
    return buf_detach(&out, NULL);
}

/* Text between prefix and the next occurrence of stop in s, if s starts with prefix. */
static char *
between(const char *s, const char *prefix, const char *stop, const char **rest)
{
    size_t pl = strlen(prefix);
    const char *e;

    if (strncasecmp(s, prefix, pl) != 0)
        return NULL;
    e = strstr(s + pl, stop);
    if (e == NULL || e == s + pl)
        return NULL;
    *rest = e + strlen(stop);
    return xstrndup(s + pl, (size_t)(e - s - pl));
}

enum vkind { V_NONE, V_CREATE, V_INSERT, V_UPDATE, V_DELETE, V_DROP };

/* Is x one of the revisions of list ("a" or "a, b", as Alembic's markers write them)? */
static int
in_list(const char *list, const char *x)
{
    size_t xl = strlen(x);

    for (const char *p = list; *p;) {
        size_t n = strcspn(p, ",");

        if (n == xl && strncmp(p, x, xl) == 0)
            return 1;
        p += n;
        while (*p == ',' || *p == ' ')
            p++;
    }
    return 0;
}

/* The revisions of list are exactly revs[0, n) (in any order)? */
static int
same_revs(const char *list, char *const *revs, size_t n)
{
    size_t count = 0;

    for (const char *p = list; *p; count++) {
        p += strcspn(p, ",");
        while (*p == ',' || *p == ' ')
            p++;
    }
    if (count != n)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!in_list(list, revs[i]))
            return 0;
    return 1;
}

/* Is the statement one of Alembic's alembic_version statements? Fills table and revisions. */
static enum vkind
version_statement(const char *stmt, const char *known_table, char **table, char **a, char **b)
{
    const char *rest;
    char *t;

    *table = *a = *b = NULL;
    if ((t = between(stmt, "CREATE TABLE ", " ( version_num VARCHAR(32) NOT NULL", &rest))) {
        *table = t;
        return V_CREATE;
    }
    if ((t = between(stmt, "INSERT INTO ", " (version_num) VALUES ('", &rest))) {
        const char *q = strchr(rest, '\'');

        if (q && strncmp(q, "')", 2) == 0) {
            *table = t;
            *a = xstrndup(rest, (size_t)(q - rest));
            return V_INSERT;
        }
        free(t);
    }
    if ((t = between(stmt, "UPDATE ", " SET version_num='", &rest))) {
        const char *q = strchr(rest, '\'');
        char *where = q ? xasprintf("' WHERE %s.version_num = '", t) : NULL;

        if (q && strncmp(q, where, strlen(where)) == 0) {
            const char *old = q + strlen(where), *q2 = strchr(old, '\'');

            if (q2 && q2[1] == '\0') {
                *table = t;
                *a = xstrndup(rest, (size_t)(q - rest));
                *b = xstrndup(old, (size_t)(q2 - old));
                free(where);
                return V_UPDATE;
            }
        }
        free(where);
        free(t);
    }
    if ((t = between(stmt, "DELETE FROM ", " WHERE ", &rest))) {
        size_t tl = strlen(t);

        if (strncmp(rest, t, tl) == 0 && strncmp(rest + tl, ".version_num = '", 16) == 0) {
            const char *r = rest + tl + 16, *q = strchr(r, '\'');

            if (q && q[1] == '\0') {
                *table = t;
                *a = xstrndup(r, (size_t)(q - r));
                return V_DELETE;
            }
        }
        free(t);
    }
    if (known_table && strncasecmp(stmt, "DROP TABLE ", 11) == 0 &&
        strcmp(stmt + 11, known_table) == 0) {
        *table = xstrdup(known_table);
        return V_DROP;
    }
    return V_NONE;
}

/* Blank text[start, end] keeping newlines. */
static void
blank_range(struct buf *t, size_t start, size_t end)
{
    for (size_t i = start; i <= end && i < t->len; i++)
        if (t->data[i] != '\n')
            t->data[i] = ' ';
}

/* A "-- Running upgrade A -> B" line at text[ls, le)? Fills from and to. */
static int
marker(const char *l, size_t n, const char *verb, char **from, char **to)
{
    char prefix[32];
    size_t pl, i;
    const char *arrow;

    pl = (size_t)snprintf(prefix, sizeof(prefix), "-- Running %s ", verb);
    if (pl >= sizeof(prefix))
        return 0; /* no verb of Alembic's is that long */
    if (n < pl || strncmp(l, prefix, pl) != 0)
        return 0;
    arrow = NULL;
    for (i = pl; i + 4 <= n; i++)
        if (strncmp(l + i, " -> ", 4) == 0 || (i == pl && strncmp(l + i, "-> ", 3) == 0)) {
            arrow = l + i;
            break;
        }
    if (arrow == NULL) {
        if (n >= pl + 3 && strncmp(l + pl, "-> ", 3) == 0)
            arrow = l + pl - 1;
        else
            return 0;
    }
    *from = xstrndup(l + pl, (size_t)(arrow - l) - pl);
    {
        const char *t = arrow + 4, *e = l + n;
        const char *comma = memchr(t, ',', (size_t)(e - t));
        int list = 1;

        /*
         * Older Alembic appended ", message"; a downgrade of a merge point goes to a list of
         * revisions, "a, b". Revisions have no blanks inside; a message has.
         */
        for (const char *q = t; q < e && list; q++)
            if (isspace((unsigned char)*q) && !(q > t && q[-1] == ',') && q + 1 < e)
                list = 0;
        if (comma && !list)
            e = comma;
        while (e > t && isspace((unsigned char)e[-1]))
            e--;
        *to = xstrndup(t, (size_t)(e - t));
    }
    return 1;
}

/*
 * Split Alembic's offline SQL into per-revision sections, dropping its transaction control
 * and alembic_version statements (blanked in r->text). Problems are reported against label.
 */
static int
split_rendered(struct rendered *r, const char *verb, struct report *rep)
{
    struct common_stmt *st = NULL;
    size_t nst = common_statements(r->text.data, r->text.len, &st), k = 0;
    struct section *cur = NULL;
    int in_tx = 0, ok = 1;
    size_t ls = 0;
    unsigned lineno = 0;

    while (ls < r->text.len || k < nst) {
        const char *nl =
            ls < r->text.len ? memchr(r->text.data + ls, '\n', r->text.len - ls) : NULL;
        size_t le = nl ? (size_t)(nl - r->text.data) : r->text.len;
        char *from, *to;

        /* Statements that start before this line's end come first. */
        if (k < nst && (ls >= r->text.len || st[k].start < le)) {
            char *norm = collapse(r->text.data + st[k].start, st[k].end - st[k].start);
            char *table, *a, *b;
            enum vkind vk = version_statement(norm, r->version_table, &table, &a, &b);
            unsigned line, col;

            textpos_line_col(r->text.data, r->text.len, st[k].start, &line, &col);
            if (strcasecmp(norm, "BEGIN") == 0) {
                in_tx = 1;
                blank_range(&r->text, st[k].start, st[k].end);
            } else if (strcasecmp(norm, "COMMIT") == 0) {
                in_tx = 0;
                blank_range(&r->text, st[k].start, st[k].end);
            } else if (vk != V_NONE) {
                if (r->version_table == NULL)
                    r->version_table = xstrdup(table);
                if (strcmp(table, r->version_table) != 0) {
                    report_error(rep, "%s:%u:%u: a second version table \"%s\"", r->label, line,
                                 col, table);
                    ok = 0;
                } else if (vk == V_INSERT || vk == V_UPDATE || vk == V_DELETE) {
                    /*
                     * It must record this section's step: the new head replaces one it
                     * comes from (UPDATE), is added beside the others (INSERT: a base, or a
                     * branch), or one of the heads it comes from goes (DELETE: a merge, or
                     * a branch rolled back).
                     */
                    int up = strcmp(verb, "upgrade") == 0;
                    int match =
                        cur != NULL &&
                        (vk == V_INSERT   ? (up ? !strcmp(a, cur->to) : in_list(cur->to, a))
                         : vk == V_UPDATE ? (up ? !strcmp(a, cur->to) && in_list(cur->from, b)
                                                : in_list(cur->to, a) && !strcmp(b, cur->from))
                                          : (up ? in_list(cur->from, a) : !strcmp(a, cur->from)));

                    if (!match) {
                        report_error(rep,
                                     "%s:%u:%u: this %s statement does not record the step it "
                                     "follows; is the SQL rendered from other revision files?",
                                     r->label, line, col, r->version_table);
                        ok = 0;
                    } else {
                        cur->vstmt = 1;
                    }
                }
                blank_range(&r->text, st[k].start, st[k].end);
            } else if (cur == NULL) {
                report_error(rep,
                             "%s:%u:%u: SQL before the first \"-- Running %s\" marker: it belongs "
                             "to no revision (env.py emits it?)",
                             r->label, line, col, verb);
                ok = 0;
            } else if (in_tx) {
                if (cur->ntx++ == 0)
                    cur->first_tx = st[k].start;
            } else {
                if (cur->nno++ == 0)
                    cur->first_no = st[k].start;
            }
            free(norm);
            free(table);
            free(a);
            free(b);
            k++;
            continue;
        }
        if (ls >= r->text.len)
            break;
        lineno++;
        if (marker(r->text.data + ls, le - ls, verb, &from, &to)) {
            if (cur)
                cur->text_end = ls;
            r->v = xgrow(r->v, &r->cap, r->n + 1, sizeof(*r->v));
            cur = &r->v[r->n++];
            memset(cur, 0, sizeof(*cur));
            cur->from = from;
            cur->to = to;
            cur->text_start = nl ? le + 1 : le;
        }
        ls = nl ? le + 1 : r->text.len;
    }
    if (cur)
        cur->text_end = r->text.len;
    free(st);
    return ok ? 0 : -1;
}

static void
rendered_release(struct rendered *r)
{
    for (size_t i = 0; i < r->n; i++) {
        free(r->v[i].from);
        free(r->v[i].to);
    }
    free(r->v);
    buf_release(&r->text);
    free(r->version_table);
}

/* Put one section into m's script of kind; decide its transaction mode. */
static void
section_script(struct rendered *r, const struct section *sec, struct src_migration *m, int kind,
               const char *label, struct report *rep)
{
    struct src_script *s = &m->script[kind];
    size_t b = sec->text_start, e = sec->text_end;

    /* Blank lines (and the blanked BEGIN; or COMMIT;) around the statements are dropped. */
    while (e > b && isspace((unsigned char)r->text.data[e - 1]))
        e--;
    for (size_t i = b; i < e && isspace((unsigned char)r->text.data[i]); i++)
        if (r->text.data[i] == '\n')
            b = i + 1;
    free(s->file);
    s->file = xstrdup(label);
    buf_reset(&s->text);
    buf_add(&s->text, r->text.data + b, e > b ? e - b : 0);
    if (s->text.len)
        buf_addch(&s->text, '\n');
    s->present = 1;
    s->no_tx_hint = "wrap it in \"with op.get_context().autocommit_block():\" in the revision "
                    "(and give it a revision of its own)";
    common_refuse_psql(s, rep);
    if (sec->nno && sec->ntx) {
        unsigned l1, c1, l2, c2;

        textpos_line_col(r->text.data, r->text.len, sec->first_no, &l1, &c1);
        textpos_line_col(r->text.data, r->text.len, sec->first_tx, &l2, &c2);
        report_error(rep,
                     "%s: revision %s runs statements both outside Alembic's transaction (an "
                     "autocommit_block, line %u of the rendered SQL) and inside it (line %u); "
                     "one sealift migration is either: give the autocommit_block a revision of "
                     "its own",
                     label, m->id, l1, l2);
    }
    s->transactional = sec->nno == 0;
}

/* ---- the chain ---- */

static int
scan_versions(const char *vdir, struct revisions *revs, struct src_chain *c, const char *dir,
              struct report *rep, struct diag_err *err)
{
    struct common_dir d;

    if (common_dir_list(vdir, &d, err) != 0)
        return -1;
    for (size_t i = 0; i < d.n; i++) {
        const char *n = d.v[i].name;
        size_t nl = strlen(n);
        char *path = xasprintf("%s/%s", vdir, n);
        size_t dl = strlen(dir);
        const char *shown = strncmp(path, dir, dl) == 0 && path[dl] == '/' ? path + dl + 1 : path;
        struct revision r;

        if (d.v[i].is_file && nl > 3 && strcmp(n + nl - 3, ".py") == 0 &&
            strcmp(n, "__init__.py") != 0) {
            int got = read_revision(path, &r, rep);

            if (got == 0) {
                revs->v = xgrow(revs->v, &revs->cap, revs->n + 1, sizeof(*revs->v));
                revs->v[revs->n++] = r;
            } else if (got == 1) {
                chain_add_ignored(c, shown);
            }
        } else {
            char *s = d.v[i].is_dir ? xasprintf("%s/", shown) : xstrdup(shown);

            chain_add_ignored(c, s);
            free(s);
        }
        free(path);
    }
    common_dir_release(&d);
    return 0;
}

static struct revision *
find_rev(struct revisions *revs, const char *id)
{
    for (size_t i = 0; i < revs->n; i++)
        if (strcmp(revs->v[i].rev, id) == 0)
            return &revs->v[i];
    return NULL;
}

/*
 * Check the revision graph and order it base to head. One base and one head: branches merged
 * long ago are fine, but two heads are refused, naming them (Alembic itself needs "alembic
 * upgrade heads" or a merge revision then). A graph with merge points is ordered later, as
 * Alembic's own rendering orders it (*merged set, the order left empty). Returns the order
 * (revs->n + 1 slots) or NULL after reporting why.
 */
/* r's down revisions as Alembic's markers write them: "a" or "a, b" ("" for a base). */
static char *
join_revs(const struct revision *r)
{
    struct buf out = BUF_INIT;

    for (size_t k = 0; k < r->ndowns; k++)
        buf_addf(&out, "%s%s", k ? ", " : "", r->downs[k]);
    return buf_detach(&out, NULL);
}

static struct revision **
linear_order(struct revisions *revs, struct report *rep, int *merged)
{
    size_t nheads = 0;

    struct revision **order = xcalloc(revs->n + 1, sizeof(*order));
    struct revision *base = NULL;
    struct buf heads = BUF_INIT;
    size_t n = 0;
    int ok = 1;

    for (size_t i = 0; i < revs->n; i++) {
        struct revision *r = &revs->v[i];

        for (size_t j = 0; j < i; j++)
            if (strcmp(revs->v[j].rev, r->rev) == 0) {
                report_error(rep, "%s: revision %s is also in %s", r->file, r->rev,
                             revs->v[j].file);
                ok = 0;
            }
        for (size_t k = 0; k < r->ndowns; k++) {
            struct revision *p = find_rev(revs, r->downs[k]);

            if (p == NULL) {
                report_error(rep, "%s: down_revision %s is not a revision here", r->file,
                             r->downs[k]);
                ok = 0;
            } else {
                p->nchildren++;
            }
        }
    }
    *merged = 0;
    for (size_t i = 0; i < revs->n; i++) {
        if (revs->v[i].nchildren == 0) {
            buf_addf(&heads, "%s%s", heads.len ? ", " : "", revs->v[i].rev);
            nheads++;
        }
        if (revs->v[i].ndowns > 1)
            *merged = 1;
    }
    if (ok && nheads > 1) {
        report_error(rep,
                     "%zu heads (%s): sealift compiles one chain; merge them first (\"alembic "
                     "merge heads\")",
                     nheads, heads.data);
        ok = 0;
    }
    for (size_t i = 0; i < revs->n && ok; i++) {
        struct revision *r = &revs->v[i];

        if (r->ndowns == 0) {
            if (base) {
                report_error(rep, "%s: a second base revision (%s, after %s); heads: %s", r->file,
                             r->rev, base->rev, heads.data);
                ok = 0;
            }
            base = r;
        }
    }
    if (ok && base && !*merged) {
        for (struct revision *r = base; r;) {
            struct revision *next = NULL;

            order[n++] = r;
            for (size_t i = 0; i < revs->n && !next; i++)
                if (revs->v[i].ndowns == 1 && strcmp(revs->v[i].downs[0], r->rev) == 0)
                    next = &revs->v[i];
            r = next;
            if (n > revs->n)
                break;
        }
        if (n != revs->n) {
            report_error(rep, "the revisions in %s do not form one chain (a cycle?)", base->file);
            ok = 0;
        }
    }
    buf_release(&heads);
    if (!ok || (revs->n > 0 && base == NULL)) {
        if (ok)
            report_error(rep, "no base revision (down_revision = None) among the revisions");
        free(order);
        return NULL;
    }
    return order;
}

/* Read the rendered SQL (from a file or from alembic) into r. */
static int
get_sql(const char *file, const char *ini, const char *cmd, const char *range, struct rendered *r,
        struct report *rep, struct diag_err *err)
{
    struct diag_err e = DIAG_ERR_INIT;
    struct buf raw = BUF_INIT;

    if (file) {
        if (sqltext_read_file(file, &r->text, &e) != 0) {
            if (e.io)
                return err_set_io(err, "%s", e.msg);
            report_error(rep, "%s", e.msg);
            return -2;
        }
        return 0;
    }
    if (run_alembic(ini, cmd, range, &raw, err) != 0) {
        buf_release(&raw);
        return -1;
    }
    if (sqltext_normalize(raw.data, raw.len, &r->text, &e) != 0) {
        report_error(rep, "alembic %s %s --sql: %s", cmd, range, e.msg);
        buf_release(&raw);
        return -2;
    }
    buf_release(&raw);
    return 0;
}

/*
 * Every revision after all it comes from (down_revision) and all it depends on (depends_on):
 * the order sealift applies them in, and rolls them back against. Returns 0, or -1 after
 * reporting.
 */
static int
check_order(struct revision **order, size_t n, struct report *rep)
{
    int ok = 1;

    for (size_t i = 0; i < n && ok; i++) {
        for (size_t k = 0; k < order[i]->ndowns + order[i]->ndepends; k++) {
            int dep = k >= order[i]->ndowns;
            const char *want = dep ? order[i]->depends[k - order[i]->ndowns] : order[i]->downs[k];
            int earlier = 0;

            for (size_t j = 0; j < i; j++)
                earlier |= strcmp(order[j]->rev, want) == 0;
            if (!earlier) {
                report_error(rep, "%s: %s %s is not an earlier revision of the chain",
                             order[i]->file, dep ? "depends_on" : "down_revision", want);
                ok = 0;
            }
        }
    }
    return ok ? 0 : -1;
}

/* order[i]: the revision upgrade step i of up makes. Returns 0, or -1 after reporting. */
static int
order_from_steps(struct revisions *revs, const struct rendered *up, struct revision **order,
                 struct report *rep)
{
    for (size_t i = 0; i < up->n; i++) {
        struct revision *r = find_rev(revs, up->v[i].to);

        for (size_t j = 0; r && j < i; j++)
            if (order[j] == r)
                r = NULL;
        if (r == NULL) {
            report_error(rep,
                         "%s: step %zu makes \"%s\", which is no revision file here or comes "
                         "twice (render the SQL again)",
                         up->label, i + 1, up->v[i].to);
            return -1;
        }
        order[i] = r;
    }
    return 0;
}

int
read_alembic(const char *dir, const struct read_options *opt, struct src_chain *c,
             struct report *rep, struct diag_err *err)
{
    char *dir_ini = xasprintf("%s/alembic.ini", dir);
    char *ini = NULL, *loc = NULL;
    struct revisions revs = {NULL, 0, 0};
    struct revision **order = NULL;
    int merged = 0;
    struct rendered up, down;
    int ret = -1, have_down = 0;
    struct common_dir probe;

    memset(&up, 0, sizeof(up));
    memset(&down, 0, sizeof(down));
    if (common_dir_list(dir, &probe, err) != 0)
        goto done;
    common_dir_release(&probe);
    if (opt->alembic_config)
        ini = xstrdup(opt->alembic_config);
    else if (common_is_file(dir_ini))
        ini = xstrdup(dir_ini);

    /* 1. The revision files: DIR itself, or the project's versions directories. */
    if (common_is_file(dir_ini)) {
        char *locs = ini_value(dir_ini, "version_locations", rep);

        if (locs == NULL) {
            char *script = ini_value(dir_ini, "script_location", rep);

            if (script == NULL) {
                report_error(rep, "%s: no script_location in [alembic]", dir_ini);
                ret = 0;
                goto done;
            }
            if (strchr(script, ':')) {
                report_error(rep,
                             "%s: script_location \"%s\" names a package; sealift reads a "
                             "directory",
                             dir_ini, script);
                free(script);
                ret = 0;
                goto done;
            }
            locs = script[0] == '/' ? xasprintf("%s/versions", script)
                                    : xasprintf("%s/%s/versions", dir, script);
            free(script);
        } else if (strchr(locs, ' ') || strchr(locs, ',') || strchr(locs, ':')) {
            report_error(rep,
                         "%s: several version_locations: sealift reads one directory of "
                         "revisions",
                         dir_ini);
            free(locs);
            ret = 0;
            goto done;
        } else if (locs[0] != '/') {
            char *rel = xasprintf("%s/%s", dir, locs);

            free(locs);
            locs = rel;
        }
        loc = locs;
        /* The project's other files (env.py's directory holding the versions aside). */
        {
            struct common_dir top;
            size_t dl = strlen(dir);

            if (common_dir_list(dir, &top, err) != 0)
                goto done;
            for (size_t i = 0; i < top.n; i++) {
                const char *n = top.v[i].name;
                size_t nl = strlen(n);
                int holds_versions = strncmp(loc, dir, dl) == 0 && loc[dl] == '/' &&
                                     strncmp(loc + dl + 1, n, nl) == 0 &&
                                     (loc[dl + 1 + nl] == '/' || loc[dl + 1 + nl] == '\0');

                if (strcmp(n, "alembic.ini") != 0 && !holds_versions) {
                    char *shown = top.v[i].is_dir ? xasprintf("%s/", n) : xstrdup(n);

                    chain_add_ignored(c, shown);
                    free(shown);
                }
            }
            common_dir_release(&top);
        }
    } else {
        loc = xstrdup(dir);
    }
    if (scan_versions(loc, &revs, c, dir, rep, err) != 0)
        goto done;
    if (revs.n == 0) {
        report_error(rep,
                     "%s: no Alembic revision files (for Alembic, -d names the project "
                     "directory with alembic.ini, or its versions directory)",
                     loc);
        ret = 0;
        goto done;
    }
    order = linear_order(&revs, rep, &merged);
    if (order == NULL) {
        ret = 0;
        goto done;
    }

    /* 2. The SQL: rendered by alembic here, or elsewhere. */
    if (opt->alembic_sql_up == NULL && ini == NULL) {
        err_set_io(err,
                   "Alembic's SQL is needed: give --alembic-config alembic.ini (alembic on "
                   "PATH renders it), or --alembic-sql-up FILE and --alembic-sql-down FILE "
                   "(\"alembic upgrade base:head --sql\", \"alembic downgrade head:base --sql\")");
        goto done;
    }
    up.label = opt->alembic_sql_up ? opt->alembic_sql_up : "alembic upgrade base:head --sql";
    {
        int r = get_sql(opt->alembic_sql_up, ini, "upgrade", "base:head", &up, rep, err);

        if (r == -1)
            goto done;
        if (r == -2) {
            ret = 0;
            goto done;
        }
    }
    if (opt->alembic_sql_down || (opt->alembic_sql_up == NULL && ini)) {
        int r;

        down.label =
            opt->alembic_sql_down ? opt->alembic_sql_down : "alembic downgrade head:base --sql";
        r = get_sql(opt->alembic_sql_down, ini, "downgrade", "head:base", &down, rep, err);
        if (r == -1)
            goto done;
        have_down = r == 0;
    }
    if (split_rendered(&up, "upgrade", rep) != 0 ||
        (have_down && split_rendered(&down, "downgrade", rep) != 0)) {
        ret = 0;
        goto done;
    }

    /* 3. Hold the markers against the graph, and make the migrations. */
    if (up.n != revs.n)
        report_error(rep, "%s: %zu \"-- Running upgrade\" steps, but %zu revision files in %s",
                     up.label, up.n, revs.n, loc);
    /*
     * Branches merged long ago: the order is Alembic's own, as its upgrade SQL runs the
     * revisions (each after all it comes from; the checks below hold it to the files).
     */
    if (merged && (up.n != revs.n || order_from_steps(&revs, &up, order, rep) != 0)) {
        ret = 0;
        goto done;
    }
    if (check_order(order, revs.n, rep) != 0) {
        ret = 0;
        goto done;
    }
    if (have_down && down.n != revs.n)
        report_error(rep, "%s: %zu \"-- Running downgrade\" steps, but %zu revision files in %s",
                     down.label, down.n, revs.n, loc);
    for (size_t i = 0; i < revs.n; i++) {
        struct revision *r = order[i];
        struct src_migration *m = chain_add(c, r->rev, r->message);
        const struct section *ds = NULL;
        char *label, *prev = join_revs(r);

        m->origin_id = xstrdup(r->rev);
        if (i < up.n) {
            const struct section *s = &up.v[i];

            if (!same_revs(s->from, r->downs, r->ndowns) || strcmp(s->to, r->rev) != 0 || !s->vstmt)
                report_error(rep,
                             "%s: step %zu is \"upgrade %s -> %s\", but the revision files "
                             "say %s -> %s (render the SQL again)",
                             up.label, i + 1, s->from, s->to, prev, r->rev);
            label = opt->alembic_sql_up ? xasprintf("%s [upgrade %s]", up.label, r->rev)
                                        : xasprintf("%s [upgrade SQL]", r->file);
            section_script(&up, s, m, MANIFEST_UP, label, rep);
            free(label);
        } else {
            m->script[MANIFEST_UP].file = xstrdup(r->file);
        }
        /* Each downgrade step by the revision it undoes (Alembic's order may differ). */
        for (size_t k = 0; have_down && k < down.n && ds == NULL; k++)
            if (strcmp(down.v[k].from, r->rev) == 0)
                ds = &down.v[k];
        if (have_down && ds == NULL && revs.n - 1 - i < down.n)
            ds = &down.v[revs.n - 1 - i];
        if (ds) {
            const struct section *s = ds;

            if (strcmp(s->from, r->rev) != 0 || !same_revs(s->to, r->downs, r->ndowns) || !s->vstmt)
                report_error(rep,
                             "%s: step \"downgrade %s -> %s\" where the revision files say "
                             "%s -> %s (render the SQL again)",
                             down.label, s->from, s->to, r->rev, prev);
            label = opt->alembic_sql_down ? xasprintf("%s [downgrade %s]", down.label, r->rev)
                                          : xasprintf("%s [downgrade SQL]", r->file);
            /* An empty downgrade() renders nothing: a valid no-op, as in Alembic. */
            section_script(&down, s, m, MANIFEST_DOWN, label, rep);
            free(label);
        } else if (!have_down) {
            common_no_down(opt, r->file, "no downgrade SQL (give --alembic-sql-down FILE)", rep);
        }
        free(prev);
    }
    ret = 0;
done:
    free(order);
    revisions_release(&revs);
    rendered_release(&up);
    rendered_release(&down);
    free(dir_ini);
    free(ini);
    free(loc);
    return ret;
}

static int
named_py_cb(const char *name)
{
    size_t nl = strlen(name);

    return nl > 3 && strcmp(name + nl - 3, ".py") == 0;
}

/* A revision file assigns both at module level. */
static int
is_revision_cb(const char *text, size_t len)
{
    (void)len;
    return strstr(text, "\ndown_revision") && strstr(text, "\nrevision");
}

/*
 * An Alembic project by its files: alembic.ini (the project directory), env.py (the script
 * directory), a versions/ directory with revision files, or revision files themselves.
 */
int
detect_alembic_why(const char *dir, char *why, size_t cap)
{
    static const char *const marks[] = {"alembic.ini", "env.py"};
    char name[200];
    char *versions;
    int found;

    for (size_t i = 0; i < 2; i++) {
        char *path = xasprintf("%s/%s", dir, marks[i]);

        found = common_is_file(path);
        free(path);
        if (found) {
            if (why)
                snprintf(why, cap, "%s", marks[i]);
            return 3;
        }
    }
    versions = xasprintf("%s/versions", dir);
    found = common_is_dir(versions) &&
            common_detect_in_files(versions, 0, named_py_cb, is_revision_cb, name, sizeof(name));
    free(versions);
    if (found) {
        if (why)
            snprintf(why, cap, "revision file versions/%s", name);
        return 3;
    }
    if (!common_detect_in_files(dir, 0, named_py_cb, is_revision_cb, name, sizeof(name)))
        return 0;
    if (why)
        snprintf(why, cap, "revision file %s", name);
    return 3;
}

int
detect_alembic(const char *dir)
{
    return detect_alembic_why(dir, NULL, 0);
}
