/*
 * read_dbmate.c: reader for dbmate: one file VERSION_NAME.sql per migration (VERSION the
 * leading digits, files in file-name order, the directory not searched recursively), with a
 * "-- migrate:up" and a "-- migrate:down" section; "transaction:false" after either runs that
 * section outside a transaction.
 * Layer: compiler.
 *
 * dbmate runs a section as one query: in its transaction by default, else as one multi-statement
 * query (an implicit transaction in PostgreSQL). The sections become the up and down scripts,
 * their lines numbered as in the file.
 */
#include "read_common.h"
#include "readers.h"
#include "sqltext.h"
#include "sealift/textpos.h"
#include "sealift/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A "-- migrate:up" or "-- migrate:down" line, as dbmate's (?m)^--\s*migrate:KIND(\s*$|\s+\S+). */
struct directive {
    size_t start;     /* of the line */
    size_t next_line; /* offset after the line */
    size_t opts;      /* offset of the options on the line */
};

static int
is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

/* Find the directives of kind ("up" or "down") in text; returns how many (fills at most 2). */
static size_t
find_directives(const char *text, size_t len, const char *kind, struct directive *out)
{
    size_t found = 0, klen = strlen(kind);

    for (size_t ls = 0; ls < len;) {
        const char *nl = memchr(text + ls, '\n', len - ls);
        size_t le = nl ? (size_t)(nl - text) : len, i = ls;

        if (le - ls >= 2 && text[i] == '-' && text[i + 1] == '-') {
            i += 2;
            while (i < le && is_blank(text[i]))
                i++;
            if (le - i >= 8 + klen && memcmp(text + i, "migrate:", 8) == 0 &&
                memcmp(text + i + 8, kind, klen) == 0 &&
                (i + 8 + klen == le || is_blank(text[i + 8 + klen]))) {
                if (found < 2) {
                    out[found].start = ls;
                    out[found].next_line = nl ? le + 1 : len;
                    out[found].opts = i + 8 + klen;
                }
                found++;
            }
        }
        ls = nl ? le + 1 : len;
    }
    return found;
}

/* The options after a directive: transaction:false/true known, anything else warned about. */
static int
section_transactional(const char *file, const char *text, const struct directive *d,
                      struct report *rep)
{
    size_t end = d->next_line, i = d->opts;
    int tx = 1;

    while (end > i && (text[end - 1] == '\n' || is_blank(text[end - 1])))
        end--;
    while (i < end) {
        size_t j, colon = 0, ncolons = 0;

        while (i < end && is_blank(text[i]))
            i++;
        for (j = i; j < end && !is_blank(text[j]); j++)
            if (text[j] == ':') {
                colon = j;
                ncolons++;
            }
        if (j > i) {
            if (ncolons == 1 && colon - i == 11 && memcmp(text + i, "transaction", 11) == 0) {
                /* dbmate: Transaction() is m["transaction"] != "false". */
                tx = !(j - colon - 1 == 5 && memcmp(text + colon + 1, "false", 5) == 0);
            } else {
                report_warning(rep,
                               "%s: dbmate ignores the option \"%.*s\" (only "
                               "transaction:false has a meaning)",
                               file, (int)(j - i), text + i);
            }
        }
        i = j;
    }
    return tx;
}

static const char *const up_hint = "add \"transaction:false\" to its \"-- migrate:up\" line";
static const char *const down_hint = "add \"transaction:false\" to its \"-- migrate:down\" line";

static void
read_file(const char *path, const char *version, const char *name, const struct read_options *opt,
          struct src_chain *c, struct report *rep)
{
    struct src_migration *m = chain_add(c, version, name);
    struct diag_err err = DIAG_ERR_INIT;
    struct buf raw = BUF_INIT, section = BUF_INIT;
    struct directive up[2], down[2];
    size_t nup, ndown;
    const char *kind;
    int stripped;

    m->origin_id = xstrdup(version);
    m->script[MANIFEST_UP].file = xstrdup(path);
    if (sqltext_read_file(path, &raw, &err) != 0) {
        report_error(rep, "%s", err.msg);
        goto done;
    }
    nup = find_directives(raw.data, raw.len, "up", up);
    ndown = find_directives(raw.data, raw.len, "down", down);
    if (nup == 0) {
        report_error(rep, "%s: no \"-- migrate:up\" line (dbmate requires one)", path);
        goto done;
    }
    if (nup > 1 || ndown > 1) {
        /* dbmate runs each section in a transaction of its own: one migration cannot hold that. */
        report_error(rep,
                     "%s: more than one \"-- migrate:%s\" section; dbmate runs each in a "
                     "transaction of its own, which one sealift migration cannot represent "
                     "(split them into migration files of their own)",
                     path, nup > 1 ? "up" : "down");
        goto done;
    }
    if (ndown && down[0].start < up[0].start) {
        report_error(rep,
                     "%s: \"-- migrate:down\" comes before \"-- migrate:up\" (dbmate "
                     "refuses that)",
                     path);
        goto done;
    }
    for (size_t ls = 0; ls < up[0].start;) {
        const char *nl = memchr(raw.data + ls, '\n', up[0].start - ls);
        size_t le = nl ? (size_t)(nl - raw.data) : up[0].start, i = ls;

        while (i < le && (is_blank(raw.data[i])))
            i++;
        if (i < le && !(le - i >= 2 && raw.data[i] == '-' && raw.data[i + 1] == '-')) {
            unsigned line, col;

            textpos_line_col(raw.data, raw.len, i, &line, &col);
            report_error(rep, "%s:%u:%u: SQL before \"-- migrate:up\" (dbmate refuses that)", path,
                         line, col);
            goto done;
        }
        ls = le + 1;
    }
    common_section(&section, raw.data, up[0].next_line, ndown ? down[0].start : raw.len);
    /* A section wrapped in BEGIN; ... COMMIT; ran in that transaction, whatever its option. */
    stripped = common_set_script(m, MANIFEST_UP, path, section.data, section.len, rep);
    m->script[MANIFEST_UP].no_tx_hint = up_hint;
    if (!section_transactional(path, raw.data, &up[0], rep) && !stripped &&
        !common_whole_script_no_tx(&m->script[MANIFEST_UP], "dbmate", &kind, rep))
        m->script[MANIFEST_UP].transactional = 0;
    if (ndown == 0) {
        common_no_down(opt, path, "no \"-- migrate:down\" section (dbmate itself requires one)",
                       rep);
        goto done;
    }
    /* An empty down section is a valid no-op, as in dbmate: present, with no statements. */
    common_section(&section, raw.data, down[0].next_line, raw.len);
    stripped = common_set_script(m, MANIFEST_DOWN, path, section.data, section.len, rep);
    m->script[MANIFEST_DOWN].no_tx_hint = down_hint;
    if (!section_transactional(path, raw.data, &down[0], rep) && !stripped &&
        !common_whole_script_no_tx(&m->script[MANIFEST_DOWN], "dbmate", &kind, rep))
        m->script[MANIFEST_DOWN].transactional = 0;
done:
    buf_release(&raw);
    buf_release(&section);
}

/* dbmate's file pattern ^(\d+).*\.sql$: the version length, or 0. */
static size_t
version_len(const char *name)
{
    size_t v = 0, len = strlen(name);

    while (name[v] >= '0' && name[v] <= '9')
        v++;
    return v > 0 && len >= v + 4 && strcmp(name + len - 4, ".sql") == 0 ? v : 0;
}

int
read_dbmate(const char *dir, const struct read_options *opt, struct src_chain *c,
            struct report *rep, struct diag_err *err)
{
    struct common_dir d;

    if (common_dir_list(dir, &d, err) != 0)
        return -1;
    /* common_dir_list sorts by name in byte order: dbmate's order (file names). */
    for (size_t i = 0; i < d.n; i++) {
        const char *n = d.v[i].name;
        size_t v = d.v[i].is_file ? version_len(n) : 0;

        if (v == 0) {
            char *shown = d.v[i].is_dir ? xasprintf("%s/", n) : xstrdup(n);

            chain_add_ignored(c, shown);
            free(shown);
        } else {
            char *version = xstrndup(n, v);
            const char *rest = n + v;
            char *name, *path = xasprintf("%s/%s", dir, n);

            if (*rest == '_' || *rest == '-')
                rest++;
            name = xstrndup(rest, strlen(rest) - 4 < strlen(rest) ? strlen(rest) - 4 : 0);
            read_file(path, version, name, opt, c, rep);
            free(version);
            free(name);
            free(path);
        }
    }
    common_dir_release(&d);
    return 0;
}

static int
named_dbmate_cb(const char *name)
{
    return version_len(name) != 0;
}

/* The directive is in every file of the format. */
static int
has_up_directive_cb(const char *text, size_t len)
{
    struct directive up[2];

    return find_directives(text, len, "up", up) > 0;
}

int
detect_dbmate_why(const char *dir, char *why, size_t cap)
{
    char name[200];

    if (!common_detect_in_files(dir, 5, named_dbmate_cb, has_up_directive_cb, name, sizeof(name)))
        return 0;
    if (why)
        snprintf(why, cap, "\"-- migrate:up\" in %s", name);
    return 3;
}

int
detect_dbmate(const char *dir)
{
    return detect_dbmate_why(dir, NULL, 0);
}
