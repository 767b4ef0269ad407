/*
 * sqltext.c: normalisation, directives, placeholders and positions of migration text.
 * Layer: compiler. UTF-8 validation is hand-written: it is a small state machine and no
 * library we already link offers it.
 */
#include "sqltext.h"
#include "sealift/sqllex.h"
#include "sealift/textpos.h"
#include "sealift/file.h"
#include "sealift/xalloc.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/* Length of the valid UTF-8 sequence at p (1..4), or 0 if invalid. */
static size_t
utf8_seq(const unsigned char *p, size_t left)
{
    unsigned char c = p[0];
    size_t n;
    unsigned cp;

    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf) {
        n = 2;
        cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (left < n)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (p[i] & 0x3f);
    }
    /* Overlong forms, surrogates and code points past U+10FFFF. */
    if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return n;
}

/*
 * Line and column (in characters; the CR of a CRLF not counted) of byte at in p, for messages:
 * worked out only when there is an error, so that the copy loop need not count.
 */
static void
text_position(const unsigned char *p, size_t start, size_t len, size_t at, unsigned *line,
              unsigned *col)
{
    *line = 1;
    *col = 1;
    for (size_t i = start; i < at;) {
        size_t n;

        if (p[i] == '\r' && i + 1 < len && p[i + 1] == '\n') {
            i++;
            continue;
        }
        n = utf8_seq(p + i, len - i);
        if (p[i] == '\n') {
            (*line)++;
            *col = 1;
        } else {
            (*col)++;
        }
        i += n ? n : 1;
    }
}

/*
 * Normalise the bytes of b where they are: the result is never longer (a BOM and the CR of each
 * CRLF are dropped), so a script is held once, however large it is.
 */
static int
normalize_in_place(struct buf *b, struct diag_err *err)
{
    unsigned char *p = (unsigned char *)b->data;
    size_t len = b->len, start = 0, i, run, w = 0;
    unsigned line, col;

    if (len >= 3 && p[0] == 0xef && p[1] == 0xbb && p[2] == 0xbf)
        start = 3;
    /*
     * Runs of accepted bytes move down at once; a CRLF ends a run and its CR is left out. On an
     * error the run before it is moved too: its position is counted in the normalised text
     * (lines and characters are those of the file: a CRLF is one line end).
     */
    for (i = run = start; i <= len;) {
        unsigned char c = i < len ? p[i] : '\0';
        size_t n = 0;

        if (i < len && c != '\0' && c != '\r' && c < 0x80) {
            i++;
            continue;
        }
        if (i < len && c == '\r' && !(i + 1 < len && p[i + 1] == '\n')) {
            i++;
            continue;
        }
        if (i < len && c >= 0x80 && (n = utf8_seq(p + i, len - i)) != 0) {
            i += n;
            continue;
        }
        if (w != run)
            memmove(p + w, p + run, i - run);
        w += i - run;
        if (i == len)
            break;
        if (c == '\r') {
            run = ++i; /* the CR of a CRLF */
            continue;
        }
        text_position(p, 0, w, w, &line, &col);
        if (c == '\0')
            return err_set(err, "%u:%u: NUL byte in the file", line, col);
        return err_set(err, "%u:%u: invalid UTF-8 (byte 0x%02x)", line, col, c);
    }
    buf_truncate(b, w);
    return 0;
}

int
sqltext_normalize(const char *raw, size_t len, struct buf *out, struct diag_err *err)
{
    buf_reset(out);
    buf_add(out, raw, len);
    return normalize_in_place(out, err);
}

/* Read a file of at most max bytes into out and normalise it there. */
static int
read_normalized(const char *path, size_t max, struct buf *out, struct diag_err *err)
{
    buf_reset(out);
    if (file_read_all(path, max, out, err) != 0)
        return -1;
    if (normalize_in_place(out, err) != 0) {
        /* The message starts with "LINE:COL: "; make the locus "PATH:LINE:COL: " as elsewhere. */
        char msg[DIAG_MSG_MAX];

        memcpy(msg, err->msg, sizeof(msg));
        err_set(err, "%s:%s", path, msg);
        return -1;
    }
    return 0;
}

int
sqltext_read_file(const char *path, struct buf *out, struct diag_err *err)
{
    return read_normalized(path, FILE_READ_MAX, out, err);
}

int
sqltext_read_script(const char *path, struct buf *out, struct diag_err *err)
{
    return read_normalized(path, SQLTEXT_SCRIPT_MAX, out, err);
}

static const struct {
    const char *name;
    unsigned flag;
} directives[] = {
    {"no-transaction", SQLTEXT_NO_TRANSACTION},
    {"irreversible", SQLTEXT_IRREVERSIBLE},
};

/* If line (len bytes) is a "-- sealift:NAME" directive, return a pointer to NAME. */
static const char *
directive_name(const char *line, size_t len, size_t *name_len)
{
    size_t i = 0;

    while (i < len && (line[i] == ' ' || line[i] == '\t'))
        i++;
    if (len - i < 2 || line[i] != '-' || line[i + 1] != '-')
        return NULL;
    i += 2;
    while (i < len && (line[i] == ' ' || line[i] == '\t'))
        i++;
    if (len - i < 8 || memcmp(line + i, "sealift:", 8) != 0)
        return NULL;
    i += 8;
    *name_len = len - i;
    while (*name_len > 0 && (line[i + *name_len - 1] == ' ' || line[i + *name_len - 1] == '\t'))
        (*name_len)--;
    return line + i;
}

/* What sqltext_directives() walks the comments with. */
struct directive_walk {
    const char *file;
    size_t len;
    size_t first_sql; /* offset of the first byte of SQL: the leading comment block ends there */
    unsigned allowed;
    unsigned *flags;
    struct report *rep;
    size_t problems;
};

/* One "--" comment of the text: a directive if it starts its line and reads "sealift:NAME". */
static int
directive_cb(const char *text, size_t start, size_t end, void *arg)
{
    struct directive_walk *w = arg;
    size_t b = start, name_len = 0;
    const char *name;
    unsigned line, col, flag = 0;

    while (b > 0 && (text[b - 1] == ' ' || text[b - 1] == '\t'))
        b--;
    if (b > 0 && text[b - 1] != '\n')
        return 0; /* a comment after SQL on its line is not a directive */
    name = directive_name(text + start, end - start, &name_len);
    if (name == NULL)
        return 0;
    /*
     * "-- sealift:data NAME" goes before its COPY statement; sqlcheck.c checks it.
     * "-- sealift:allow RULE reason" goes before a statement or in the header; lint.c.
     */
    if ((name_len >= 4 && memcmp(name, "data", 4) == 0 &&
         (name_len == 4 || name[4] == ' ' || name[4] == '\t')) ||
        (name_len >= 5 && memcmp(name, "allow", 5) == 0 &&
         (name_len == 5 || name[5] == ' ' || name[5] == '\t')))
        return 0;
    textpos_line_col(text, w->len, start, &line, &col);
    for (size_t d = 0; d < sizeof(directives) / sizeof(directives[0]); d++)
        if (strlen(directives[d].name) == name_len &&
            memcmp(directives[d].name, name, name_len) == 0)
            flag = directives[d].flag;
    if (start > w->first_sql) {
        report_error(w->rep,
                     "%s:%u: directive \"sealift:%.*s\" must be in the leading comment block, "
                     "before any SQL",
                     w->file, line, (int)name_len, name);
        w->problems++;
    } else if (flag == 0) {
        report_error(w->rep, "%s:%u: unknown directive \"sealift:%.*s\"", w->file, line,
                     (int)name_len, name);
        w->problems++;
    } else if (!(w->allowed & flag)) {
        report_error(w->rep, "%s:%u: directive \"sealift:%.*s\" is not allowed in this file",
                     w->file, line, (int)name_len, name);
        w->problems++;
    } else {
        *w->flags |= flag;
    }
    return 0;
}

size_t
sqltext_directives(const char *file, const char *text, unsigned allowed, unsigned *flags,
                   struct report *rep)
{
    size_t len = strlen(text);
    struct directive_walk w = {file, len, 0, allowed, flags, rep, 0};

    *flags = 0;
    /* Most scripts have none: no need to lex them. */
    if (strstr(text, "sealift:") == NULL)
        return 0;
    /* Comments by psql's rules: one in a string, a dollar-quoted body or a block comment is not. */
    w.first_sql = sqllex_skip_blank(text, len, 0);
    sqllex_line_comments(text, len, directive_cb, &w);
    return w.problems;
}

void
vars_init(struct vars *v)
{
    memset(v, 0, sizeof(*v));
}

void
vars_release(struct vars *v)
{
    for (size_t i = 0; i < v->n; i++) {
        free(v->v[i].name);
        free(v->v[i].value);
    }
    free(v->v);
    vars_init(v);
}

static int
name_char(char c, int first)
{
    return isalpha((unsigned char)c) || c == '_' ||
           (!first && (isdigit((unsigned char)c) || c == '.'));
}

static int
valid_name(const char *s, size_t len)
{
    if (len == 0)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (!name_char(s[i], i == 0))
            return 0;
    return 1;
}

static void
vars_put(struct vars *v, const char *name, size_t nlen, const char *value)
{
    for (size_t i = 0; i < v->n; i++) {
        if (strlen(v->v[i].name) == nlen && memcmp(v->v[i].name, name, nlen) == 0) {
            free(v->v[i].value);
            v->v[i].value = xstrdup(value);
            return;
        }
    }
    v->v = xgrow(v->v, &v->cap, v->n + 1, sizeof(*v->v));
    v->v[v->n].name = xstrndup(name, nlen);
    v->v[v->n].value = xstrdup(value);
    v->v[v->n].used = 0;
    v->n++;
}

int
vars_set_assignment(struct vars *v, const char *assignment, struct diag_err *err)
{
    const char *eq = strchr(assignment, '=');

    if (eq == NULL || !valid_name(assignment, (size_t)(eq - assignment)))
        return err_set(err, "\"%s\" is not NAME=VALUE with a valid placeholder name", assignment);
    vars_put(v, assignment, (size_t)(eq - assignment), eq + 1);
    return 0;
}

int
vars_load_file(struct vars *v, const char *path, struct diag_err *err)
{
    struct buf text = BUF_INIT;
    char *p;
    unsigned lineno = 0;
    int ret = -1;

    if (sqltext_read_file(path, &text, err) != 0)
        return -1;
    p = text.data;
    while (*p) {
        char *nl = strchr(p, '\n');

        lineno++;
        if (nl)
            *nl = '\0';
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p && *p != '#' && vars_set_assignment(v, p, err) != 0) {
            err_prefix(err, "%s:%u", path, lineno);
            goto cleanup;
        }
        if (!nl)
            break;
        p = nl + 1;
    }
    ret = 0;
cleanup:
    buf_release(&text);
    return ret;
}

/* ${NAME} at s[at] (the '$'): the offset of its '}', or 0 when it is not one. */
static size_t
placeholder_end(const char *s, size_t len, size_t at)
{
    size_t end = at + 2;

    if (at + 1 >= len || s[at] != '$' || s[at + 1] != '{')
        return 0;
    while (end < len && name_char(s[end], end == at + 2))
        end++;
    return end < len && s[end] == '}' && end > at + 2 ? end : 0;
}

/*
 * Render s[from, to): ${NAME} becomes its value, and $${NAME} the text ${NAME}. In code (and
 * the strings and bodies in it) an undefined name is added to undefined; in a comment it is
 * left as written (comment is set).
 */
static size_t
render_span(const char *s, size_t len, size_t from, size_t to, struct vars *vars, struct buf *out,
            struct buf *undefined, int comment)
{
    size_t problems = 0;
    size_t i = from;

    while (i < to) {
        const char *open = memchr(s + i, '$', to - i);
        size_t at, end;

        if (open == NULL) {
            buf_add(out, s + i, to - i);
            break;
        }
        at = (size_t)(open - s);
        buf_add(out, s + i, at - i);
        /* "$${NAME}": the escape, for a "${NAME}" the script itself must contain. */
        if (at + 1 < to && s[at + 1] == '$' && (end = placeholder_end(s, len, at + 1)) != 0 &&
            end < to) {
            buf_add(out, s + at + 1, end - at);
            i = end + 1;
            continue;
        }
        end = placeholder_end(s, len, at);
        if (end == 0 || end >= to) {
            /* "${" not followed by NAME}: not a placeholder; keep it as written. */
            buf_addch(out, '$');
            i = at + 1;
            continue;
        }
        {
            size_t nlen = end - at - 2;
            const char *value = NULL;

            for (size_t k = 0; k < vars->n; k++) {
                struct var *var = &vars->v[k];

                if (strlen(var->name) == nlen && memcmp(var->name, s + at + 2, nlen) == 0) {
                    value = var->value;
                    var->used = 1;
                }
            }
            if (value == NULL && comment) {
                buf_add(out, s + at, end + 1 - at);
            } else if (value == NULL) {
                unsigned line, col;

                textpos_line_col(s, len, at, &line, &col);
                buf_addf(undefined, "%.*s %u:%u\n", (int)nlen, s + at + 2, line, col);
                problems++;
                buf_add(out, s + at, end + 1 - at);
            } else {
                buf_addstr(out, value);
            }
        }
        i = end + 1;
    }
    return problems;
}

int
sqltext_has_placeholders(const char *text, size_t len)
{
    for (const char *p = text, *end = text + len; (p = memchr(p, '$', (size_t)(end - p))) != NULL;
         p++)
        if (p + 1 < end && p[1] == '{')
            return 1;
    return 0;
}

size_t
sqltext_render(const struct buf *text, struct vars *vars, struct buf *out, struct buf *undefined)
{
    const char *s = text->data;
    size_t len = text->len;
    size_t problems = 0;
    size_t seg = 0, i = 0;

    buf_reset(out);
    buf_reset(undefined);
    /*
     * In comments a placeholder may be documentation: an undefined one is left as written, not
     * an error. A defined one is rendered there as in code, as it always was, so that a chain
     * built before rebuilds byte for byte. Strings, quoted identifiers and dollar-quoted bodies
     * are skipped whole (a "--" inside one is no comment) and rendered with the code.
     */
    while (i < len) {
        char c = s[i];
        size_t j;

        if (c == '$' && i + 2 < len && s[i + 1] == '$' && s[i + 2] == '{') {
            i += 2; /* the $${NAME} escape, not a "$$" body */
            continue;
        }
        if (c != '-' && c != '/' && c != '\'' && c != '"' && c != '$' && c != 'E' && c != 'e') {
            i++;
            continue;
        }
        j = sqllex_skip(s, len, i);
        if (j == i) {
            i++;
            continue;
        }
        if (c == '-' || c == '/') {
            problems += render_span(s, len, seg, i, vars, out, undefined, 0);
            render_span(s, len, i, j, vars, out, undefined, 1);
            seg = j;
        }
        i = j;
    }
    problems += render_span(s, len, seg, len, vars, out, undefined, 0);
    return problems;
}
