/*
 * xmlread.c: a small, strict XML reader for Liquibase changelogs (see xmlread.h).
 * Layer: compiler. A recursive descent over the text; nesting is bounded so that a hostile
 * file cannot exhaust the stack.
 */
#include "xmlread.h"
#include "sealift/xalloc.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define XML_MAX_DEPTH 64

struct xp {
    const char *s;
    size_t len;
    size_t pos;
    struct diag_err *err;
};

static unsigned
xp_line(const struct xp *p, size_t at)
{
    unsigned line = 1;

    for (size_t i = 0; i < at && i < p->len; i++)
        line += p->s[i] == '\n';
    return line;
}

static int xp_fail(struct xp *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int
xp_fail(struct xp *p, const char *fmt, ...)
{
    char msg[400];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return err_set(p->err, "line %u: %s", xp_line(p, p->pos), msg);
}

static int
is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static int
is_name_start(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' || c >= 0x80;
}

static int
is_name_char(unsigned char c)
{
    return is_name_start(c) || (c >= '0' && c <= '9') || c == '-' || c == '.';
}

static int
starts(const struct xp *p, const char *lit)
{
    size_t n = strlen(lit);

    return p->len - p->pos >= n && memcmp(p->s + p->pos, lit, n) == 0;
}

static void
skip_space(struct xp *p)
{
    while (p->pos < p->len && is_space(p->s[p->pos]))
        p->pos++;
}

/* A name at pos, malloc'd; NULL (with err set) if there is none. */
static char *
read_name(struct xp *p)
{
    size_t start = p->pos;

    if (p->pos >= p->len || !is_name_start((unsigned char)p->s[p->pos])) {
        xp_fail(p, "expected a name");
        return NULL;
    }
    while (p->pos < p->len && is_name_char((unsigned char)p->s[p->pos]))
        p->pos++;
    return xstrndup(p->s + start, p->pos - start);
}

static void
add_utf8(struct buf *out, uint32_t cp)
{
    if (cp < 0x80) {
        buf_addch(out, (char)cp);
    } else if (cp < 0x800) {
        buf_addch(out, (char)(0xc0 | (cp >> 6)));
        buf_addch(out, (char)(0x80 | (cp & 0x3f)));
    } else if (cp < 0x10000) {
        buf_addch(out, (char)(0xe0 | (cp >> 12)));
        buf_addch(out, (char)(0x80 | ((cp >> 6) & 0x3f)));
        buf_addch(out, (char)(0x80 | (cp & 0x3f)));
    } else {
        buf_addch(out, (char)(0xf0 | (cp >> 18)));
        buf_addch(out, (char)(0x80 | ((cp >> 12) & 0x3f)));
        buf_addch(out, (char)(0x80 | ((cp >> 6) & 0x3f)));
        buf_addch(out, (char)(0x80 | (cp & 0x3f)));
    }
}

/* An entity reference at pos ('&'), resolved into out. */
static int
read_entity(struct xp *p, struct buf *out)
{
    static const struct {
        const char *name;
        char c;
    } named[] = {{"lt", '<'}, {"gt", '>'}, {"amp", '&'}, {"quot", '"'}, {"apos", '\''}};
    const char *semi = memchr(p->s + p->pos, ';', p->len - p->pos);
    size_t nlen;
    const char *name = p->s + p->pos + 1;

    if (semi == NULL || semi - name > 12)
        return xp_fail(p, "unterminated entity reference");
    nlen = (size_t)(semi - name);
    if (nlen >= 1 && name[0] == '#') {
        uint32_t cp = 0;
        int hex = nlen >= 2 && name[1] == 'x';
        size_t i = hex ? 2 : 1;

        if (i >= nlen)
            return xp_fail(p, "empty character reference");
        for (; i < nlen; i++) {
            char c = name[i];
            int d = c >= '0' && c <= '9'          ? c - '0'
                    : hex && c >= 'a' && c <= 'f' ? c - 'a' + 10
                    : hex && c >= 'A' && c <= 'F' ? c - 'A' + 10
                                                  : -1;

            if (d < 0)
                return xp_fail(p, "bad character reference \"&%.*s;\"", (int)nlen, name);
            cp = cp * (hex ? 16 : 10) + (uint32_t)d;
            if (cp > 0x10ffff)
                return xp_fail(p, "character reference \"&%.*s;\" out of range", (int)nlen, name);
        }
        if (cp == 0 || (cp >= 0xd800 && cp <= 0xdfff))
            return xp_fail(p, "character reference \"&%.*s;\" is not a character", (int)nlen, name);
        add_utf8(out, cp);
        p->pos = (size_t)(semi - p->s) + 1;
        return 0;
    }
    for (size_t i = 0; i < sizeof(named) / sizeof(named[0]); i++)
        if (strlen(named[i].name) == nlen && memcmp(named[i].name, name, nlen) == 0) {
            buf_addch(out, named[i].c);
            p->pos = (size_t)(semi - p->s) + 1;
            return 0;
        }
    return xp_fail(p, "unknown entity \"&%.*s;\"", (int)nlen, name);
}

/* A comment at pos ("<!--"). */
static int
skip_comment(struct xp *p)
{
    const char *end;

    p->pos += 4;
    for (end = p->s + p->pos; end + 3 <= p->s + p->len; end++)
        if (end[0] == '-' && end[1] == '-') {
            if (end[2] != '>')
                return xp_fail(p, "\"--\" inside a comment");
            p->pos = (size_t)(end - p->s) + 3;
            return 0;
        }
    return xp_fail(p, "unterminated comment");
}

static int
read_attrs(struct xp *p, struct xml_node *n)
{
    for (;;) {
        size_t before = p->pos;
        struct xml_attr *a;
        char quote;

        skip_space(p);
        if (p->pos >= p->len)
            return xp_fail(p, "unterminated start tag <%s>", n->name);
        if (p->s[p->pos] == '>' || p->s[p->pos] == '/')
            return 0;
        if (p->pos == before)
            return xp_fail(p, "expected a space before an attribute in <%s>", n->name);
        n->attrs = xgrow(n->attrs, &n->attrs_cap, n->nattrs + 1, sizeof(*n->attrs));
        a = &n->attrs[n->nattrs];
        memset(a, 0, sizeof(*a));
        a->name = read_name(p);
        if (a->name == NULL)
            return -1;
        n->nattrs++;
        for (size_t i = 0; i + 1 < n->nattrs; i++)
            if (strcmp(n->attrs[i].name, a->name) == 0)
                return xp_fail(p, "attribute \"%s\" repeated in <%s>", a->name, n->name);
        skip_space(p);
        if (p->pos >= p->len || p->s[p->pos] != '=')
            return xp_fail(p, "expected '=' after attribute \"%s\"", a->name);
        p->pos++;
        skip_space(p);
        if (p->pos >= p->len || (p->s[p->pos] != '"' && p->s[p->pos] != '\''))
            return xp_fail(p, "attribute \"%s\" value not quoted", a->name);
        quote = p->s[p->pos++];
        {
            struct buf v = BUF_INIT;

            while (p->pos < p->len && p->s[p->pos] != quote) {
                char c = p->s[p->pos];

                if (c == '<') {
                    buf_release(&v);
                    return xp_fail(p, "'<' in the value of attribute \"%s\"", a->name);
                }
                if (c == '&') {
                    if (read_entity(p, &v) != 0) {
                        buf_release(&v);
                        return -1;
                    }
                    continue;
                }
                /* Attribute value normalisation: white space characters become spaces. */
                buf_addch(&v, is_space(c) ? ' ' : c);
                p->pos++;
            }
            if (p->pos >= p->len) {
                buf_release(&v);
                return xp_fail(p, "unterminated value of attribute \"%s\"", a->name);
            }
            p->pos++;
            a->value = buf_detach(&v, NULL);
        }
    }
}

static int read_element(struct xp *p, struct xml_node *n, int depth);

/* The content of n up to and including its end tag. */
static int
read_content(struct xp *p, struct xml_node *n, int depth)
{
    while (p->pos < p->len) {
        char c = p->s[p->pos];

        if (starts(p, "</")) {
            size_t nlen = strlen(n->name);

            p->pos += 2;
            if (p->len - p->pos < nlen || memcmp(p->s + p->pos, n->name, nlen) != 0 ||
                (p->pos + nlen < p->len && is_name_char((unsigned char)p->s[p->pos + nlen])))
                return xp_fail(p, "end tag does not match <%s> of line %u", n->name, n->line);
            p->pos += nlen;
            skip_space(p);
            if (p->pos >= p->len || p->s[p->pos] != '>')
                return xp_fail(p, "unterminated end tag </%s>", n->name);
            p->pos++;
            return 0;
        }
        if (starts(p, "<!--")) {
            if (skip_comment(p) != 0)
                return -1;
        } else if (starts(p, "<![CDATA[")) {
            const char *end;

            p->pos += 9;
            for (end = p->s + p->pos; end + 3 <= p->s + p->len; end++)
                if (memcmp(end, "]]>", 3) == 0)
                    break;
            if (end + 3 > p->s + p->len)
                return xp_fail(p, "unterminated CDATA section");
            buf_add(&n->text, p->s + p->pos, (size_t)(end - p->s) - p->pos);
            p->pos = (size_t)(end - p->s) + 3;
        } else if (starts(p, "<?") || starts(p, "<!")) {
            return xp_fail(p, "processing instructions and declarations are not supported here");
        } else if (c == '<') {
            struct xml_node *child;

            n->children =
                xgrow(n->children, &n->children_cap, n->nchildren + 1, sizeof(*n->children));
            child = &n->children[n->nchildren++];
            memset(child, 0, sizeof(*child));
            buf_init(&child->text);
            if (read_element(p, child, depth + 1) != 0)
                return -1;
        } else if (c == '&') {
            if (read_entity(p, &n->text) != 0)
                return -1;
        } else if (starts(p, "]]>")) {
            return xp_fail(p, "\"]]>\" in text");
        } else {
            /* XML end-of-line handling: CRLF and lone CR read as LF. */
            if (c == '\r') {
                buf_addch(&n->text, '\n');
                p->pos += (p->pos + 1 < p->len && p->s[p->pos + 1] == '\n') ? 2 : 1;
                continue;
            }
            buf_addch(&n->text, c);
            p->pos++;
        }
    }
    return xp_fail(p, "<%s> of line %u is not closed", n->name, n->line);
}

/* An element at pos ('<'). */
static int
read_element(struct xp *p, struct xml_node *n, int depth)
{
    if (depth > XML_MAX_DEPTH)
        return xp_fail(p, "elements nested more than %d deep", XML_MAX_DEPTH);
    n->line = xp_line(p, p->pos);
    p->pos++;
    n->name = read_name(p);
    if (n->name == NULL)
        return -1;
    if (read_attrs(p, n) != 0)
        return -1;
    if (p->s[p->pos] == '/') {
        if (p->pos + 1 >= p->len || p->s[p->pos + 1] != '>')
            return xp_fail(p, "expected \"/>\" in <%s>", n->name);
        p->pos += 2;
        return 0;
    }
    p->pos++;
    return read_content(p, n, depth);
}

/* Comments and white space between the declaration, the root and the end. */
static int
skip_misc(struct xp *p)
{
    for (;;) {
        skip_space(p);
        if (!starts(p, "<!--"))
            return 0;
        if (skip_comment(p) != 0)
            return -1;
    }
}

int
xml_parse(const char *text, size_t len, struct xml_node *root, struct diag_err *err)
{
    struct xp p = {text, len, 0, err};

    memset(root, 0, sizeof(*root));
    buf_init(&root->text);
    if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
        p.pos = 3;
    if (memchr(text, '\0', len) != NULL)
        return err_set(err, "line %u: NUL byte in the file",
                       xp_line(&p, (size_t)((const char *)memchr(text, '\0', len) - text)));
    if (starts(&p, "<?xml") && p.pos + 5 < len && is_space(text[p.pos + 5])) {
        const char *end = NULL;

        for (size_t i = p.pos; i + 1 < len; i++)
            if (text[i] == '?' && text[i + 1] == '>') {
                end = text + i;
                break;
            }
        if (end == NULL)
            return xp_fail(&p, "unterminated XML declaration");
        p.pos = (size_t)(end - text) + 2;
    }
    if (skip_misc(&p) != 0)
        return -1;
    if (starts(&p, "<!DOCTYPE"))
        return xp_fail(&p, "a DOCTYPE is not supported (entities could change the text)");
    if (p.pos >= len || text[p.pos] != '<' || starts(&p, "<?") || starts(&p, "<!"))
        return xp_fail(&p, p.pos >= len ? "no root element" : "expected the root element");
    if (read_element(&p, root, 0) != 0)
        return -1;
    if (skip_misc(&p) != 0)
        return -1;
    if (p.pos < len)
        return xp_fail(&p, "content after the root element </%s>", root->name);
    return 0;
}

void
xml_node_release(struct xml_node *n)
{
    for (size_t i = 0; i < n->nattrs; i++) {
        free(n->attrs[i].name);
        free(n->attrs[i].value);
    }
    free(n->attrs);
    for (size_t i = 0; i < n->nchildren; i++)
        xml_node_release(&n->children[i]);
    free(n->children);
    free(n->name);
    buf_release(&n->text);
    memset(n, 0, sizeof(*n));
    buf_init(&n->text);
}

const char *
xml_attr(const struct xml_node *n, const char *name)
{
    for (size_t i = 0; i < n->nattrs; i++)
        if (strcmp(n->attrs[i].name, name) == 0)
            return n->attrs[i].value;
    return NULL;
}

const char *
xml_local_name(const struct xml_node *n)
{
    const char *colon = strrchr(n->name, ':');

    return colon ? colon + 1 : n->name;
}
