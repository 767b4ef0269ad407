/*
 * lint_json.c: the JSON reader of lint_json.h.
 * Layer: compiler.
 */
#include "lint_json.h"
#include "sealift/xalloc.h"

#include <stdlib.h>
#include <string.h>

struct jparser {
    struct jdoc *d;
    char *p;
    int depth;
};

/* Far deeper than any parse tree PostgreSQL's own stack limit lets through. */
#define JSON_MAX_DEPTH 2000

static void
skip_ws(struct jparser *jp)
{
    while (*jp->p == ' ' || *jp->p == '\n' || *jp->p == '\t' || *jp->p == '\r')
        jp->p++;
}

static int
hexdigit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static int
read_u4(const char *s, unsigned *out)
{
    unsigned v = 0;

    for (int i = 0; i < 4; i++) {
        int h = hexdigit(s[i]);

        if (h < 0)
            return -1;
        v = v * 16 + (unsigned)h;
    }
    *out = v;
    return 0;
}

/* Decode the string at jp->p (at its opening quote) in place; returns it, or NULL. */
static const char *
read_string(struct jparser *jp)
{
    char *out = ++jp->p, *start = out;
    /* Most strings have no escape: find the end at once, and decode only if one shows up. */
    size_t plain = strcspn(jp->p, "\"\\");

    jp->p += plain;
    out += plain;
    for (;;) {
        char c = *jp->p++;

        if (c == '"')
            break;
        if (c == '\0')
            return NULL;
        if (c != '\\') {
            *out++ = c;
            continue;
        }
        c = *jp->p++;
        switch (c) {
        case '"':
        case '\\':
        case '/':
            *out++ = c;
            break;
        case 'b':
            *out++ = '\b';
            break;
        case 'f':
            *out++ = '\f';
            break;
        case 'n':
            *out++ = '\n';
            break;
        case 'r':
            *out++ = '\r';
            break;
        case 't':
            *out++ = '\t';
            break;
        case 'u': {
            unsigned cp, lo;

            if (read_u4(jp->p, &cp) != 0)
                return NULL;
            jp->p += 4;
            if (cp >= 0xd800 && cp < 0xdc00 && jp->p[0] == '\\' && jp->p[1] == 'u' &&
                read_u4(jp->p + 2, &lo) == 0 && lo >= 0xdc00 && lo < 0xe000) {
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                jp->p += 6;
            }
            if (cp == 0)
                return NULL;
            /* Never longer than the escape it replaces (6 or 12 bytes). */
            if (cp < 0x80) {
                *out++ = (char)cp;
            } else if (cp < 0x800) {
                *out++ = (char)(0xc0 | (cp >> 6));
                *out++ = (char)(0x80 | (cp & 0x3f));
            } else if (cp < 0x10000) {
                *out++ = (char)(0xe0 | (cp >> 12));
                *out++ = (char)(0x80 | ((cp >> 6) & 0x3f));
                *out++ = (char)(0x80 | (cp & 0x3f));
            } else {
                *out++ = (char)(0xf0 | (cp >> 18));
                *out++ = (char)(0x80 | ((cp >> 12) & 0x3f));
                *out++ = (char)(0x80 | ((cp >> 6) & 0x3f));
                *out++ = (char)(0x80 | (cp & 0x3f));
            }
            break;
        }
        default:
            return NULL;
        }
    }
    *out = '\0'; /* out < jp->p: the closing quote at least was consumed */
    return start;
}

static size_t
new_node(struct jparser *jp, int type)
{
    struct jdoc *d = jp->d;

    if (d->n >= d->cap)
        d->v = xgrow(d->v, &d->cap, d->n + 1, sizeof(*d->v));
    memset(&d->v[d->n], 0, sizeof(d->v[d->n]));
    d->v[d->n].type = type;
    return d->n++;
}

static long parse_value(struct jparser *jp);

/* The members or elements of an object or array at jp->p (at its bracket), linked to node. */
static int
parse_children(struct jparser *jp, size_t node, int object)
{
    size_t last = 0;
    char close = object ? '}' : ']';

    jp->p++;
    skip_ws(jp);
    if (*jp->p == close) {
        jp->p++;
        return 0;
    }
    for (;;) {
        const char *key = NULL;
        long child;

        skip_ws(jp);
        if (object) {
            if (*jp->p != '"' || (key = read_string(jp)) == NULL)
                return -1;
            skip_ws(jp);
            if (*jp->p++ != ':')
                return -1;
        }
        child = parse_value(jp);
        if (child < 0)
            return -1;
        jp->d->v[child].key = key;
        if (last)
            jp->d->v[last].next = (size_t)child;
        else
            jp->d->v[node].first = (size_t)child;
        last = (size_t)child;
        skip_ws(jp);
        if (*jp->p == ',') {
            jp->p++;
            continue;
        }
        if (*jp->p++ != close)
            return -1;
        return 0;
    }
}

static long
parse_value(struct jparser *jp)
{
    size_t node;
    char *end;

    skip_ws(jp);
    switch (*jp->p) {
    case '{':
    case '[':
        if (++jp->depth > JSON_MAX_DEPTH)
            return -1;
        node = new_node(jp, *jp->p == '{' ? JOBJ : JARR);
        if (parse_children(jp, node, jp->d->v[node].type == JOBJ) != 0)
            return -1;
        jp->depth--;
        return (long)node;
    case '"': {
        const char *s = read_string(jp);

        if (s == NULL)
            return -1;
        node = new_node(jp, JSTR);
        jp->d->v[node].str = s;
        return (long)node;
    }
    case 't':
        if (strncmp(jp->p, "true", 4) != 0)
            return -1;
        jp->p += 4;
        return (long)new_node(jp, JTRUE);
    case 'f':
        if (strncmp(jp->p, "false", 5) != 0)
            return -1;
        jp->p += 5;
        return (long)new_node(jp, JFALSE);
    case 'n':
        if (strncmp(jp->p, "null", 4) != 0)
            return -1;
        jp->p += 4;
        return (long)new_node(jp, JNULL);
    default:
        node = new_node(jp, JNUM);
        jp->d->v[node].num = strtol(jp->p, &end, 10);
        if (end == jp->p)
            return -1;
        /* A float (never in the fields the lint reads): skip its fraction and exponent. */
        while (*end == '.' || *end == 'e' || *end == 'E' || *end == '+' || *end == '-' ||
               (*end >= '0' && *end <= '9'))
            end++;
        jp->p = end;
        return (long)node;
    }
}

int
jdoc_parse(struct jdoc *d, char *text)
{
    struct jparser jp = {d, text, 0};

    d->n = 0;
    /* libpg_query's JSON has a value every 12 bytes or so: grow once, not a dozen times. */
    if (d->cap == 0)
        d->v = xgrow(d->v, &d->cap, strlen(text) / 12 + 16, sizeof(*d->v));
    if (parse_value(&jp) < 0)
        return -1;
    skip_ws(&jp);
    return *jp.p == '\0' ? 0 : -1;
}

void
jdoc_release(struct jdoc *d)
{
    free(d->v);
    memset(d, 0, sizeof(*d));
}

const struct jnode *
jfirst(const struct jdoc *d, const struct jnode *n)
{
    return n && (n->type == JARR || n->type == JOBJ) && n->first ? &d->v[n->first] : NULL;
}

const struct jnode *
jnext(const struct jdoc *d, const struct jnode *n)
{
    return n && n->next ? &d->v[n->next] : NULL;
}

const struct jnode *
jget(const struct jdoc *d, const struct jnode *o, const char *key)
{
    if (o == NULL || o->type != JOBJ)
        return NULL;
    for (const struct jnode *c = jfirst(d, o); c; c = jnext(d, c))
        if (strcmp(c->key, key) == 0)
            return c;
    return NULL;
}

const char *
jstr(const struct jnode *n)
{
    return n && n->type == JSTR ? n->str : NULL;
}

long
jnum(const struct jnode *n)
{
    return n && n->type == JNUM ? n->num : 0;
}

int
jtrue(const struct jnode *n)
{
    return n && n->type == JTRUE;
}

int
jis(const struct jnode *n, const char *s)
{
    return n && n->type == JSTR && strcmp(n->str, s) == 0;
}

const struct jnode *
jnode_of(const struct jdoc *d, const struct jnode *n, const char *type)
{
    const struct jnode *c = jfirst(d, n);

    return n && n->type == JOBJ && c && strcmp(c->key, type) == 0 ? c : NULL;
}

const char *
jnode_type(const struct jdoc *d, const struct jnode *n)
{
    const struct jnode *c = jfirst(d, n);

    return n && n->type == JOBJ && c ? c->key : NULL;
}
