/*
 * read_liquibase_yaml.c: Liquibase's YAML and JSON changelogs, read into the element tree the XML
 * changelogs give (xmlread.h), so that one walk serves both (see read_liquibase.h).
 * Layer: compiler.
 *
 * The YAML read is the block subset Liquibase changelogs are written in: mappings, sequences
 * ("- " items, also at the indentation of their key), plain, 'single' and "double" quoted
 * scalars, literal and folded block scalars (|, |-, |+, >, >-), comments, "---". Flow
 * collections ([...], {...}), anchors, aliases and tags are refused with their line, not
 * guessed at.
 *
 * The mapping to elements: a key with a scalar value is an attribute, except the ones XML
 * writes as text (a changeSet's comment and rollback, a sql change's sql); a key with a
 * mapping is a child element; "changes", "rollback" and "preConditions" lists hold one
 * single-key mapping per child element.
 */
#include "read_liquibase.h"
#include "sealift/xalloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum ykind { Y_SCALAR, Y_MAP, Y_SEQ };

struct ynode {
    enum ykind kind;
    char *key;    /* for an entry of a mapping */
    char *scalar; /* Y_SCALAR */
    unsigned line;
    struct ynode *v;
    size_t n;
    size_t cap;
};

struct yline {
    unsigned no;
    size_t indent;
    char *text; /* from the first non-blank character, line end removed */
};

struct yp {
    struct yline *l;
    size_t n;
    size_t i;
    struct diag_err *err;
    int failed;
};

static void yp_fail(struct yp *p, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
yp_fail(struct yp *p, unsigned line, const char *fmt, ...)
{
    char msg[300];
    va_list ap;

    if (p->failed)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    err_set(p->err, "line %u: %s", line, msg);
    p->failed = 1;
}

static void
ynode_release(struct ynode *y)
{
    for (size_t i = 0; i < y->n; i++)
        ynode_release(&y->v[i]);
    free(y->v);
    free(y->key);
    free(y->scalar);
    memset(y, 0, sizeof(*y));
}

static struct ynode *
ynode_add(struct ynode *parent)
{
    struct ynode *c;

    parent->v = xgrow(parent->v, &parent->cap, parent->n + 1, sizeof(*parent->v));
    c = &parent->v[parent->n++];
    memset(c, 0, sizeof(*c));
    return c;
}

/* Skip comment-only and blank lines (outside block scalars). */
static void
skip_blank(struct yp *p)
{
    while (p->i < p->n && (p->l[p->i].text[0] == '\0' || p->l[p->i].text[0] == '#'))
        p->i++;
}

static int
is_item(const char *t)
{
    return t[0] == '-' && (t[1] == '\0' || t[1] == ' ');
}

/* The ": " (or final ':') ending a key in t outside quotes; NULL if none. */
static char *
find_colon(char *t)
{
    char q = 0;

    for (char *s = t; *s; s++) {
        if (q) {
            if (*s == q)
                q = 0;
        } else if ((*s == '"' || *s == '\'') && s == t) {
            q = *s;
        } else if (*s == ':' && (s[1] == ' ' || s[1] == '\0')) {
            return s;
        } else if (*s == ' ' && s[1] == '#') {
            return NULL;
        }
    }
    return NULL;
}

/* A one-line scalar: quoted (escapes of double quotes read) or plain (a " #" comment cut). */
static char *
inline_scalar(struct yp *p, unsigned line, const char *s)
{
    struct buf b = BUF_INIT;

    if (*s == '[' || *s == '{') {
        yp_fail(p, line, "flow collections ([...], {...}) are not supported; write the block form");
        return xstrdup("");
    }
    if (*s == '&' || *s == '*' || *s == '!') {
        yp_fail(p, line, "anchors, aliases and tags are not supported");
        return xstrdup("");
    }
    if (*s == '\'' || *s == '"') {
        char q = *s++;

        for (; *s; s++) {
            if (*s == q) {
                if (q == '\'' && s[1] == '\'') {
                    buf_addch(&b, '\'');
                    s++;
                    continue;
                }
                break;
            }
            if (q == '"' && *s == '\\' && s[1]) {
                s++;
                buf_addch(&b, *s == 'n' ? '\n' : *s == 't' ? '\t' : *s);
                continue;
            }
            buf_addch(&b, *s);
        }
        if (*s != q)
            yp_fail(p, line, "unterminated quoted string");
        return buf_detach(&b, NULL);
    }
    {
        const char *hash = strstr(s, " #");
        size_t len = hash ? (size_t)(hash - s) : strlen(s);

        while (len && s[len - 1] == ' ')
            len--;
        buf_add(&b, s, len);
    }
    return buf_detach(&b, NULL);
}

/* A block scalar after "key: |" on line p->i - 1, its lines indented more than parent. */
static char *
block_scalar(struct yp *p, const char *header, size_t parent)
{
    int fold = header[0] == '>';
    char chomp = header[1] == '-' || header[1] == '+' ? header[1] : 0;
    struct buf b = BUF_INIT;
    size_t ind = 0;

    while (p->i < p->n) {
        struct yline *l = &p->l[p->i];

        if (l->text[0] != '\0' && l->indent <= parent)
            break;
        if (l->text[0] != '\0' && ind == 0)
            ind = l->indent;
        if (l->text[0] == '\0') {
            buf_addch(&b, '\n');
        } else {
            for (size_t k = ind; k < l->indent; k++)
                buf_addch(&b, ' ');
            if (fold && b.len && b.data[b.len - 1] == '\n' &&
                !(b.len >= 2 && b.data[b.len - 2] == '\n'))
                b.data[b.len - 1] = ' ';
            buf_addstr(&b, l->text);
            buf_addch(&b, '\n');
        }
        p->i++;
    }
    if (chomp != '+') {
        while (b.len && b.data[b.len - 1] == '\n')
            buf_truncate(&b, b.len - 1);
        if (chomp == 0 && b.len)
            buf_addch(&b, '\n');
    }
    return buf_detach(&b, NULL);
}

static void parse_node(struct yp *p, size_t indent, struct ynode *out);

static void
parse_seq(struct yp *p, size_t indent, struct ynode *out)
{
    out->kind = Y_SEQ;
    for (skip_blank(p); p->i < p->n && !p->failed; skip_blank(p)) {
        struct yline *l = &p->l[p->i];
        struct ynode *item;
        char *rest;

        if (l->indent != indent || !is_item(l->text))
            break;
        item = ynode_add(out);
        item->line = l->no;
        rest = l->text + 1;
        while (*rest == ' ')
            rest++;
        if (*rest == '\0') {
            p->i++;
            skip_blank(p);
            if (p->i < p->n && p->l[p->i].indent > indent)
                parse_node(p, p->l[p->i].indent, item);
            else
                item->scalar = xstrdup("");
            continue;
        }
        /* "- key: value": the rest is a node at the indentation of its text. */
        l->indent += (size_t)(rest - l->text);
        memmove(l->text, rest, strlen(rest) + 1);
        parse_node(p, l->indent, item);
    }
}

static void
parse_map(struct yp *p, size_t indent, struct ynode *out)
{
    out->kind = Y_MAP;
    for (skip_blank(p); p->i < p->n && !p->failed; skip_blank(p)) {
        struct yline *l = &p->l[p->i];
        char *colon, *val;
        struct ynode *e;
        unsigned no = l->no;

        if (l->indent != indent || is_item(l->text))
            break;
        colon = find_colon(l->text);
        if (colon == NULL) {
            yp_fail(p, no, "expected \"key: value\"");
            return;
        }
        *colon = '\0';
        e = ynode_add(out);
        e->line = no;
        e->key = inline_scalar(p, no, l->text);
        val = colon + 1;
        while (*val == ' ')
            val++;
        p->i++;
        if (*val == '|' || *val == '>') {
            e->kind = Y_SCALAR;
            e->scalar = block_scalar(p, val, indent);
        } else if (*val && *val != '#') {
            struct buf b = BUF_INIT;
            char *first = inline_scalar(p, no, val);

            buf_addstr(&b, first);
            free(first);
            /* A plain scalar may go on over more indented lines (folded with spaces). */
            while (*val != '"' && *val != '\'' && p->i < p->n && p->l[p->i].text[0] != '\0' &&
                   p->l[p->i].indent > indent && find_colon(p->l[p->i].text) == NULL &&
                   !is_item(p->l[p->i].text)) {
                buf_addch(&b, ' ');
                buf_addstr(&b, p->l[p->i].text);
                p->i++;
            }
            e->kind = Y_SCALAR;
            e->scalar = buf_detach(&b, NULL);
        } else {
            skip_blank(p);
            if (p->i < p->n && p->l[p->i].indent > indent)
                parse_node(p, p->l[p->i].indent, e);
            else if (p->i < p->n && p->l[p->i].indent == indent && is_item(p->l[p->i].text))
                parse_seq(p, indent, e);
            else {
                e->kind = Y_SCALAR;
                e->scalar = xstrdup("");
            }
        }
    }
}

static void
parse_node(struct yp *p, size_t indent, struct ynode *out)
{
    skip_blank(p);
    if (p->i >= p->n)
        return;
    out->line = out->line ? out->line : p->l[p->i].no;
    if (is_item(p->l[p->i].text))
        parse_seq(p, indent, out);
    else if (find_colon(p->l[p->i].text))
        parse_map(p, indent, out);
    else {
        out->kind = Y_SCALAR;
        out->scalar = inline_scalar(p, p->l[p->i].no, p->l[p->i].text);
        p->i++;
    }
}

/* Split text into lines with their indentation; tabs in indentation are refused. */
static int
split_lines(struct yp *p, const char *text, size_t len)
{
    size_t cap = 0;
    unsigned no = 0;

    for (size_t ls = 0; ls < len;) {
        const char *nl = memchr(text + ls, '\n', len - ls);
        size_t le = nl ? (size_t)(nl - text) : len, i = ls;
        struct yline *l;

        no++;
        while (i < le && text[i] == ' ')
            i++;
        if (i < le && text[i] == '\t') {
            yp_fail(p, no, "a tab in indentation (YAML allows spaces only)");
            return -1;
        }
        p->l = xgrow(p->l, &cap, p->n + 1, sizeof(*p->l));
        l = &p->l[p->n++];
        l->no = no;
        l->indent = i - ls;
        while (le > i && (text[le - 1] == ' ' || text[le - 1] == '\r'))
            le--;
        l->text = xstrndup(text + i, le - i);
        if (strcmp(l->text, "---") == 0 || strncmp(l->text, "%YAML", 5) == 0)
            l->text[0] = '\0';
        ls = nl ? (size_t)(nl - text) + 1 : len;
    }
    return 0;
}

static void to_element(const char *name, const struct ynode *y, struct xml_node *out);

static void
add_attr(struct xml_node *n, const char *name, const char *value)
{
    n->attrs = xgrow(n->attrs, &n->attrs_cap, n->nattrs + 1, sizeof(*n->attrs));
    n->attrs[n->nattrs].name = xstrdup(name);
    n->attrs[n->nattrs].value = xstrdup(value);
    n->nattrs++;
}

static struct xml_node *
add_child(struct xml_node *n, const char *name, unsigned line)
{
    struct xml_node *c;

    n->children = xgrow(n->children, &n->children_cap, n->nchildren + 1, sizeof(*n->children));
    c = &n->children[n->nchildren++];
    memset(c, 0, sizeof(*c));
    buf_init(&c->text);
    c->name = xstrdup(name);
    c->line = line;
    return c;
}

/* Does the element name write key as its text (XML's text content)? */
static int
text_key(const char *name, const char *key)
{
    return (strcmp(name, "sql") == 0 && strcmp(key, "sql") == 0) ||
           (strcmp(name, "rollback") == 0 && strcmp(key, "sql") == 0);
}

/* A list of single-key mappings: child elements of n. */
static void
list_children(const struct ynode *seq, struct xml_node *n)
{
    for (size_t i = 0; i < seq->n; i++) {
        const struct ynode *it = &seq->v[i];

        if (it->kind == Y_MAP && it->n == 1) {
            to_element(it->v[0].key, &it->v[0], add_child(n, it->v[0].key, it->v[0].line));
        } else if (it->kind == Y_SCALAR && strcmp(xml_local_name(n), "rollback") == 0) {
            /* rollback: [- "DROP ..."] */
            struct xml_node *c = add_child(n, "sql", it->line);

            buf_addstr(&c->text, it->scalar);
        } else {
            add_child(n, "?", it->line);
        }
    }
}

static void
to_element(const char *name, const struct ynode *y, struct xml_node *out)
{
    if (y->kind == Y_SCALAR) {
        buf_addstr(&out->text, y->scalar ? y->scalar : "");
        return;
    }
    if (y->kind == Y_SEQ) {
        list_children(y, out);
        return;
    }
    for (size_t i = 0; i < y->n; i++) {
        const struct ynode *e = &y->v[i];

        if (e->kind == Y_SCALAR && text_key(name, e->key))
            buf_addstr(&out->text, e->scalar);
        else if (e->kind == Y_SCALAR && strcmp(name, "changeSet") == 0 &&
                 (strcmp(e->key, "comment") == 0 || strcmp(e->key, "rollback") == 0 ||
                  strcmp(e->key, "validCheckSum") == 0))
            buf_addstr(&add_child(out, e->key, e->line)->text, e->scalar);
        else if (e->kind == Y_SCALAR)
            add_attr(out, e->key, e->scalar);
        else if (e->kind == Y_SEQ && strcmp(e->key, "changes") == 0)
            list_children(e, out);
        else
            to_element(e->key, e, add_child(out, e->key, e->line));
    }
}

/* ---- JSON: the same tree from Liquibase's JSON changelogs ---- */

struct jp {
    const char *s;
    size_t len;
    size_t pos;
    unsigned line;
    struct yp *p;
};

static void
json_space(struct jp *j)
{
    while (j->pos < j->len && strchr(" \t\r\n", j->s[j->pos]) && j->s[j->pos]) {
        j->line += j->s[j->pos] == '\n';
        j->pos++;
    }
}

static char *
json_string(struct jp *j)
{
    struct buf b = BUF_INIT;

    j->pos++;
    while (j->pos < j->len && j->s[j->pos] != '"') {
        char c = j->s[j->pos++];

        if (c == '\\' && j->pos < j->len) {
            c = j->s[j->pos++];
            if (c == 'u') {
                unsigned v = 0;

                for (int k = 0; k < 4 && j->pos < j->len; k++) {
                    char h = j->s[j->pos++];

                    v = v * 16 + (unsigned)(h >= '0' && h <= '9'   ? h - '0'
                                            : h >= 'a' && h <= 'f' ? h - 'a' + 10
                                            : h >= 'A' && h <= 'F' ? h - 'A' + 10
                                                                   : 0);
                }
                if (v < 0x80) {
                    buf_addch(&b, (char)v);
                } else if (v < 0x800) {
                    buf_addch(&b, (char)(0xc0 | (v >> 6)));
                    buf_addch(&b, (char)(0x80 | (v & 0x3f)));
                } else {
                    buf_addch(&b, (char)(0xe0 | (v >> 12)));
                    buf_addch(&b, (char)(0x80 | ((v >> 6) & 0x3f)));
                    buf_addch(&b, (char)(0x80 | (v & 0x3f)));
                }
                continue;
            }
            c = c == 'n'   ? '\n'
                : c == 't' ? '\t'
                : c == 'r' ? '\r'
                : c == 'b' ? '\b'
                : c == 'f' ? '\f'
                           : c;
        } else if (c == '\n') {
            yp_fail(j->p, j->line, "unterminated string");
        }
        buf_addch(&b, c);
    }
    if (j->pos >= j->len)
        yp_fail(j->p, j->line, "unterminated string");
    j->pos++;
    return buf_detach(&b, NULL);
}

static void
json_value(struct jp *j, struct ynode *out, int depth)
{
    json_space(j);
    out->line = j->line;
    if (depth > 64) {
        yp_fail(j->p, j->line, "nested more than 64 deep");
        return;
    }
    if (j->pos >= j->len) {
        yp_fail(j->p, j->line, "expected a value");
        return;
    }
    if (j->s[j->pos] == '{' || j->s[j->pos] == '[') {
        int obj = j->s[j->pos] == '{';
        char close = obj ? '}' : ']';

        out->kind = obj ? Y_MAP : Y_SEQ;
        j->pos++;
        json_space(j);
        if (j->pos < j->len && j->s[j->pos] == close) {
            j->pos++;
            return;
        }
        while (!j->p->failed) {
            struct ynode *c = ynode_add(out);

            json_space(j);
            if (obj) {
                if (j->pos >= j->len || j->s[j->pos] != '"') {
                    yp_fail(j->p, j->line, "expected a member name");
                    return;
                }
                c->key = json_string(j);
                json_space(j);
                if (j->pos >= j->len || j->s[j->pos] != ':') {
                    yp_fail(j->p, j->line, "expected ':'");
                    return;
                }
                j->pos++;
            }
            json_value(j, c, depth + 1);
            json_space(j);
            if (j->pos < j->len && j->s[j->pos] == ',') {
                j->pos++;
                continue;
            }
            if (j->pos < j->len && j->s[j->pos] == close) {
                j->pos++;
                return;
            }
            yp_fail(j->p, j->line, "expected ',' or '%c'", close);
        }
        return;
    }
    out->kind = Y_SCALAR;
    if (j->s[j->pos] == '"') {
        out->scalar = json_string(j);
    } else {
        size_t st = j->pos;

        while (j->pos < j->len && strchr("+-.0123456789eEtruefalsn", j->s[j->pos]) && j->s[j->pos])
            j->pos++;
        if (j->pos == st)
            yp_fail(j->p, j->line, "unexpected character '%c'", j->s[j->pos]);
        out->scalar = xstrndup(j->s + st, j->pos - st);
    }
}

/* The databaseChangeLog of a parsed document, as elements (both YAML and JSON). */
static int
doc_to_root(struct ynode *doc, struct xml_node *root, struct diag_err *err)
{
    if (doc->kind != Y_MAP || doc->n != 1 || strcmp(doc->v[0].key, "databaseChangeLog") != 0)
        return err_set(err, "not a Liquibase changelog (no top-level \"databaseChangeLog\" key)");
    root->name = xstrdup("databaseChangeLog");
    root->line = doc->v[0].line;
    to_element("databaseChangeLog", &doc->v[0], root);
    return 0;
}

int
lb_json_parse(const char *text, size_t len, struct xml_node *root, struct diag_err *err)
{
    struct yp p = {NULL, 0, 0, err, 0};
    struct jp j = {text, len, 0, 1, &p};
    struct ynode doc;
    int ret = -1;

    memset(&doc, 0, sizeof(doc));
    memset(root, 0, sizeof(*root));
    buf_init(&root->text);
    json_value(&j, &doc, 0);
    json_space(&j);
    if (!p.failed && j.pos < len)
        yp_fail(&p, j.line, "content after the changelog");
    if (!p.failed)
        ret = doc_to_root(&doc, root, err);
    ynode_release(&doc);
    return ret;
}

int
lb_yaml_parse(const char *text, size_t len, struct xml_node *root, struct diag_err *err)
{
    struct yp p = {NULL, 0, 0, err, 0};
    struct ynode doc;
    int ret = -1;

    memset(&doc, 0, sizeof(doc));
    memset(root, 0, sizeof(*root));
    buf_init(&root->text);
    if (split_lines(&p, text, len) == 0) {
        skip_blank(&p);
        if (p.i < p.n)
            parse_node(&p, p.l[p.i].indent, &doc);
        skip_blank(&p);
        if (!p.failed && p.i < p.n)
            yp_fail(&p, p.l[p.i].no, "unexpected indentation");
    }
    if (!p.failed)
        ret = doc_to_root(&doc, root, err);
    for (size_t i = 0; i < p.n; i++)
        free(p.l[i].text);
    free(p.l);
    ynode_release(&doc);
    return ret;
}
