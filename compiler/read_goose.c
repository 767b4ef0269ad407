/*
 * read_goose.c: reader for goose's SQL migrations: VERSION_NAME.sql (VERSION a positive 64-bit
 * number) in one directory, with "-- +goose Up" and "-- +goose Down" sections,
 * "-- +goose StatementBegin" / "-- +goose StatementEnd" around statements that hold semicolons,
 * and "-- +goose NO TRANSACTION" for the whole file. Go migrations (VERSION_NAME.go) run Go code
 * and are refused.
 * Layer: compiler.
 *
 * goose splits a section into statements itself (a line whose last word ends with ";" ends one,
 * outside StatementBegin/End) and runs them one by one. sealift splits with PostgreSQL's own
 * parser, so every place where goose would end a statement must be a real statement end; where
 * it is not (a ";" inside a string or a dollar-quoted body), goose would send a broken
 * statement, and the file is refused with the fix. The annotation rules are goose v3.2x's.
 */
#include "read_common.h"
#include "readers.h"
#include "sqlsplit.h"
#include "sqltext.h"
#include "sealift/sqllex.h"
#include "sealift/version.h"
#include "sealift/xalloc.h"

#include <ctype.h>
#include <stdio.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum goose_state { G_START, G_UP, G_UP_BLOCK, G_DOWN, G_DOWN_BLOCK };

enum goose_annotation {
    A_NONE,
    A_UP,
    A_DOWN,
    A_BEGIN,
    A_END,
    A_NO_TX,
    A_ENVSUB_ON,
    A_ENVSUB_OFF,
    A_BAD
};

/* A place where goose ends a statement, to hold against the SQL: section offsets. */
struct goose_cut {
    int down;
    size_t stmt_start; /* where goose's statement began */
    size_t semi;       /* the ';' goose ends it at */
    unsigned line;
};

/*
 * goose's extractAnnotation: a comment line containing "+goose"; no leading blanks; every "--"
 * and the first "+goose" removed, the rest matched without regard to case.
 */
static enum goose_annotation
annotation(const char *line, size_t len)
{
    static const struct {
        const char *name;
        enum goose_annotation a;
    } names[] = {{"Up", A_UP},
                 {"Down", A_DOWN},
                 {"StatementBegin", A_BEGIN},
                 {"StatementEnd", A_END},
                 {"NO TRANSACTION", A_NO_TX},
                 {"ENVSUB ON", A_ENVSUB_ON},
                 {"ENVSUB OFF", A_ENVSUB_OFF}};
    char cmd[128];
    size_t i = 0, n = 0, a, b;
    int seen_goose = 0;

    while (i < len && isspace((unsigned char)line[i]))
        i++;
    if (len - i < 2 || line[i] != '-' || line[i + 1] != '-')
        return A_NONE;
    {
        int has = 0;

        for (size_t k = 0; k + 6 <= len; k++)
            if (memcmp(line + k, "+goose", 6) == 0)
                has = 1;
        if (!has)
            return A_NONE;
    }
    if (i > 0)
        return A_BAD; /* goose: "contains leading whitespace" */
    for (i = 0; i < len && n + 1 < sizeof(cmd); i++) {
        if (i + 1 < len && line[i] == '-' && line[i + 1] == '-') {
            i++;
            continue;
        }
        if (!seen_goose && i + 6 <= len && memcmp(line + i, "+goose", 6) == 0) {
            seen_goose = 1;
            i += 5;
            continue;
        }
        if (i + 6 <= len && memcmp(line + i, "+goose", 6) == 0)
            return A_BAD; /* two annotations on a line */
        cmd[n++] = line[i];
    }
    cmd[n] = '\0';
    for (a = 0; a < n && isspace((unsigned char)cmd[a]); a++)
        ;
    for (b = n; b > a && isspace((unsigned char)cmd[b - 1]); b--)
        ;
    cmd[b] = '\0';
    for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++)
        if (strcasecmp(cmd + a, names[k].name) == 0)
            return names[k].a;
    return A_BAD;
}

/* goose's endsWithSemicolon: the offset of the ';' ending the line's last word, or -1. */
static long
semicolon_at(const char *line, size_t len)
{
    long last_end = -1;
    size_t i = 0;

    while (i < len) {
        size_t j;

        while (i < len && isspace((unsigned char)line[i]))
            i++;
        if (i >= len)
            break;
        if (len - i >= 2 && line[i] == '-' && line[i + 1] == '-')
            break;
        for (j = i; j < len && !isspace((unsigned char)line[j]); j++)
            ;
        last_end = (long)j;
        i = j;
    }
    return last_end > 0 && line[last_end - 1] == ';' ? last_end - 1 : -1;
}

/* Is the ';' at semi where a statement that began at start really ends (PostgreSQL's view)? */
static int
real_end(const char *text, size_t len, size_t start, size_t semi)
{
    size_t e = sqllex_statement_end(text, len, start);

    while (e < semi)
        e = sqllex_statement_end(text, len, e + 1);
    return e == semi;
}

static void
read_file(const char *path, const char *version, const char *name, struct src_chain *c,
          struct report *rep)
{
    struct src_migration *m = chain_add(c, version, name);
    struct diag_err err = DIAG_ERR_INIT;
    struct buf raw = BUF_INIT, sec[2] = {BUF_INIT, BUF_INIT};
    struct goose_cut *cuts = NULL;
    size_t ncuts = 0, cuts_cap = 0, stmt_start = 0;
    enum goose_state st = G_START;
    int use_tx = 1, have_down = 0, in_stmt = 0, failed = 0, stripped[2] = {0, 0};
    unsigned lineno = 0;

    m->origin_id = xstrdup(version);
    m->script[MANIFEST_UP].file = xstrdup(path);
    if (sqltext_read_file(path, &raw, &err) != 0) {
        report_error(rep, "%s", err.msg);
        goto done;
    }
    for (size_t ls = 0; ls < raw.len && !failed;) {
        const char *nl = memchr(raw.data + ls, '\n', raw.len - ls);
        size_t le = nl ? (size_t)(nl - raw.data) : raw.len, len = le - ls;
        const char *line = raw.data + ls;
        enum goose_annotation a = annotation(line, len);
        int down = st == G_DOWN || st == G_DOWN_BLOCK;
        int keep = 0;

        lineno++;
        switch (a) {
        case A_UP:
            if (st != G_START) {
                report_error(rep, "%s:%u: a second \"-- +goose Up\" (goose refuses that)", path,
                             lineno);
                failed = 1;
            }
            st = G_UP;
            break;
        case A_DOWN:
            if (st != G_UP) {
                report_error(rep, "%s:%u: \"-- +goose Down\" %s (goose refuses that)", path, lineno,
                             st == G_START      ? "before \"-- +goose Up\""
                             : st == G_UP_BLOCK ? "inside StatementBegin/StatementEnd"
                                                : "twice");
                failed = 1;
            } else if (in_stmt) {
                report_error(rep,
                             "%s:%u: the statement before \"-- +goose Down\" has no ending "
                             "semicolon (goose refuses that)",
                             path, lineno);
                failed = 1;
            }
            st = G_DOWN;
            have_down = 1;
            in_stmt = 0;
            break;
        case A_BEGIN:
            if (st == G_UP || st == G_DOWN) {
                if (in_stmt) {
                    report_error(rep,
                                 "%s:%u: StatementBegin inside an unfinished statement "
                                 "(missing semicolon before it?)",
                                 path, lineno);
                    failed = 1;
                }
                st = st == G_UP ? G_UP_BLOCK : G_DOWN_BLOCK;
                stmt_start = sec[st == G_DOWN_BLOCK].len + 1;
                in_stmt = 0;
            } else {
                report_error(rep, "%s:%u: StatementBegin %s (goose refuses that)", path, lineno,
                             st == G_START ? "before \"-- +goose Up\"" : "inside another");
                failed = 1;
            }
            break;
        case A_END:
            if (st == G_UP_BLOCK || st == G_DOWN_BLOCK) {
                st = st == G_UP_BLOCK ? G_UP : G_DOWN;
            } else {
                report_error(rep,
                             "%s:%u: StatementEnd without StatementBegin (goose refuses "
                             "that)",
                             path, lineno);
                failed = 1;
            }
            break;
        case A_NO_TX:
            use_tx = 0;
            break;
        case A_ENVSUB_ON:
            /* goose substitutes the environment of the moment it runs: no bundle can hold that. */
            report_error(rep,
                         "%s:%u: \"-- +goose ENVSUB ON\" substitutes environment variables when "
                         "goose runs; sealift renders ${NAME} placeholders when it builds "
                         "(--set NAME=VALUE): remove the annotation and write ${NAME}",
                         path, lineno);
            failed = 1;
            break;
        case A_ENVSUB_OFF:
            break;
        case A_BAD:
            report_error(rep, "%s:%u: unknown or malformed goose annotation \"%.*s\"", path, lineno,
                         (int)len, line);
            failed = 1;
            break;
        case A_NONE:
            if (st == G_START) {
                size_t i = 0;

                while (i < len && isspace((unsigned char)line[i]))
                    i++;
                if (i < len && !(len - i >= 2 && line[i] == '-' && line[i + 1] == '-')) {
                    report_error(rep, "%s:%u: SQL before \"-- +goose Up\" (goose refuses that)",
                                 path, lineno);
                    failed = 1;
                }
                break;
            }
            keep = 1;
            if (st == G_UP || st == G_DOWN) {
                long semi;
                size_t i = 0;

                while (i < len && isspace((unsigned char)line[i]))
                    i++;
                /* goose skips blank and comment lines before a statement. */
                if (!in_stmt &&
                    (i == len || (len - i >= 2 && line[i] == '-' && line[i + 1] == '-')))
                    break;
                if (!in_stmt) {
                    in_stmt = 1;
                    stmt_start = sec[down].len;
                }
                semi = semicolon_at(line, len);
                if (semi >= 0) {
                    cuts = xgrow(cuts, &cuts_cap, ncuts + 1, sizeof(*cuts));
                    cuts[ncuts].down = down;
                    cuts[ncuts].stmt_start = stmt_start;
                    cuts[ncuts].semi = sec[down].len + (size_t)semi;
                    cuts[ncuts].line = lineno;
                    ncuts++;
                    in_stmt = 0;
                }
            }
            break;
        }
        if (keep)
            buf_add(&sec[down], line, len);
        buf_addch(&sec[0], '\n');
        buf_addch(&sec[1], '\n');
        ls = nl ? le + 1 : raw.len;
    }
    if (failed)
        goto done;
    if (st == G_START) {
        report_error(rep, "%s: no \"-- +goose Up\" annotation (goose requires one)", path);
        goto done;
    }
    if (st == G_UP_BLOCK || st == G_DOWN_BLOCK) {
        report_error(rep, "%s: StatementBegin without StatementEnd (goose refuses that)", path);
        goto done;
    }
    if (in_stmt) {
        report_error(rep, "%s: the last statement has no ending semicolon (goose refuses that)",
                     path);
        goto done;
    }
    for (size_t k = 0; k < ncuts; k++) {
        const struct buf *t = &sec[cuts[k].down];

        if (!real_end(t->data, t->len, cuts[k].stmt_start, cuts[k].semi)) {
            report_error(rep,
                         "%s:%u: goose ends a statement at this line's \";\", but it is inside a "
                         "string, a dollar-quoted body, a comment or parentheses, so goose would "
                         "run a broken statement: put the statement between "
                         "\"-- +goose StatementBegin\" and \"-- +goose StatementEnd\"",
                         path, cuts[k].line);
            goto done;
        }
    }
    stripped[0] = common_set_script(m, MANIFEST_UP, path, sec[0].data, sec[0].len, rep);
    if (have_down)
        stripped[1] = common_set_script(m, MANIFEST_DOWN, path, sec[1].data, sec[1].len, rep);
    else if ((stripped[1] = common_set_script(m, MANIFEST_DOWN, path, "", 0, rep)) == 0)
        /* goose: a file without a Down section rolls back by running nothing. */
        m->script[MANIFEST_DOWN].noop_why = "no \"-- +goose Down\" section";
    for (int k = MANIFEST_UP; k <= MANIFEST_DOWN; k++) {
        struct src_script *s = &m->script[k];

        s->no_tx_hint = "add \"-- +goose NO TRANSACTION\" to the file (or move the statement to a "
                        "migration of its own)";
        /*
         * goose runs NO TRANSACTION files statement by statement: sealift's no-transaction,
         * unless the section wraps itself in BEGIN; ... COMMIT; (then that transaction).
         */
        if (s->present && !use_tx && !stripped[k])
            s->transactional = 0;
    }
done:
    free(cuts);
    buf_release(&raw);
    buf_release(&sec[0]);
    buf_release(&sec[1]);
}

/*
 * goose's NumericComponent: VERSION before the first "_" must be an int64 above zero. Returns
 * the version's length, 0 if name has no "_" or no digits there, -1 if out of range.
 */
static long
version_len(const char *name)
{
    const char *us = strchr(name, '_');
    unsigned long long v;
    char *end;

    if (us == NULL || us == name || !version_is_decimal(name, (size_t)(us - name)))
        return 0;
    errno = 0;
    v = strtoull(name, &end, 10);
    if (errno == ERANGE || v > 9223372036854775807ull || v == 0)
        return -1;
    return (long)(us - name);
}

static int
has_suffix(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);

    return a >= b && strcmp(s + a - b, suffix) == 0;
}

struct goose_file {
    const char *name;
    char *version;
};

static int
cmp_files(const void *a, const void *b)
{
    return version_decimal_cmp(((const struct goose_file *)a)->version,
                               ((const struct goose_file *)b)->version);
}

int
read_goose(const char *dir, const struct read_options *opt, struct src_chain *c, struct report *rep,
           struct diag_err *err)
{
    struct common_dir d;
    struct goose_file *files = NULL;
    size_t n = 0, cap = 0;

    (void)opt; /* goose has no option of ours: a missing Down section is a no-op down */
    if (common_dir_list(dir, &d, err) != 0)
        return -1;
    for (size_t i = 0; i < d.n; i++) {
        const char *name = d.v[i].name;
        long v;

        if (!d.v[i].is_file || !(has_suffix(name, ".sql") || has_suffix(name, ".go"))) {
            char *shown = d.v[i].is_dir ? xasprintf("%s/", name) : xstrdup(name);

            chain_add_ignored(c, shown);
            free(shown);
            continue;
        }
        v = version_len(name);
        if (has_suffix(name, ".go")) {
            if (v == 0 || has_suffix(name, "_test.go")) {
                chain_add_ignored(c, name); /* goose skips Go files without a version too */
            } else {
                report_error(rep,
                             "%s/%s: a goose Go migration: it runs Go code, which a bundle of "
                             "SQL cannot hold (rewrite it as a .sql migration)",
                             dir, name);
            }
            continue;
        }
        if (v <= 0) {
            report_error(rep, "%s/%s: %s (goose refuses every .sql file without one)", dir, name,
                         v == 0 ? "not a goose migration name: no VERSION_ before the name"
                                : "the version must be a number from 1 to 9223372036854775807");
            continue;
        }
        files = xgrow(files, &cap, n + 1, sizeof(*files));
        files[n].name = name;
        files[n].version = version_decimal_canonical(name, (size_t)v);
        n++;
    }
    if (n > 1)
        qsort(files, n, sizeof(*files), cmp_files);
    for (size_t i = 0; i < n; i++) {
        const char *rest = strchr(files[i].name, '_') + 1;
        char *mname = xstrndup(rest, strlen(rest) - 4);
        char *path = xasprintf("%s/%s", dir, files[i].name);

        if (i > 0 && strcmp(files[i].version, files[i - 1].version) == 0)
            report_error(rep, "%s: duplicate goose version %s (also %s/%s)", path, files[i].version,
                         dir, files[i - 1].name);
        else
            read_file(path, files[i].version, mname, c, rep);
        free(mname);
        free(path);
    }
    for (size_t i = 0; i < n; i++)
        free(files[i].version);
    free(files);
    common_dir_release(&d);
    return 0;
}

static int
named_goose_sql_cb(const char *name)
{
    return version_len(name) > 0 && has_suffix(name, ".sql");
}

/* The "-- +goose Up" annotation is in every file of the format. */
static int
has_up_annotation_cb(const char *text, size_t len)
{
    for (size_t ls = 0; ls < len;) {
        const char *nl = memchr(text + ls, '\n', len - ls);
        size_t le = nl ? (size_t)(nl - text) : len;

        if (annotation(text + ls, le - ls) == A_UP)
            return 1;
        ls = le + 1;
    }
    return 0;
}

int
detect_goose_why(const char *dir, char *why, size_t cap)
{
    char name[200];

    if (!common_detect_in_files(dir, 5, named_goose_sql_cb, has_up_annotation_cb, name,
                                sizeof(name)))
        return 0;
    if (why)
        snprintf(why, cap, "\"-- +goose Up\" in %s", name);
    return 3;
}

int
detect_goose(const char *dir)
{
    return detect_goose_why(dir, NULL, 0);
}
