/*
 * jsonread.c: a strict, bounded JSON reader (recursive descent) for the Ansible module.
 * Layer: applier.
 */
#include "jsonread.h"
#include "sealift/json.h"
#include "sealift/xalloc.h"

#include <stdlib.h>
#include <string.h>

struct reader {
    const char *s;
    size_t len, pos;
    struct diag_err *err;
};

static int parse_value(struct reader *r, struct jv *out, int depth);

static int
fail(struct reader *r, const char *what)
{
    return err_set(r->err, "invalid JSON at byte %zu: %s", r->pos, what);
}

static void
skip_ws(struct reader *r)
{
    while (r->pos < r->len && (r->s[r->pos] == ' ' || r->s[r->pos] == '\t' ||
                               r->s[r->pos] == '\n' || r->s[r->pos] == '\r'))
        r->pos++;
}

static int
literal(struct reader *r, const char *word)
{
    size_t n = strlen(word);

    if (r->len - r->pos < n || memcmp(r->s + r->pos, word, n) != 0)
        return fail(r, "unexpected character");
    r->pos += n;
    return 0;
}

static int
hex4(struct reader *r, unsigned *cp)
{
    *cp = 0;
    if (r->len - r->pos < 4)
        return fail(r, "short \\u escape");
    for (int i = 0; i < 4; i++) {
        char c = r->s[r->pos++];

        *cp <<= 4;
        if (c >= '0' && c <= '9')
            *cp |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            *cp |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            *cp |= (unsigned)(c - 'A' + 10);
        else
            return fail(r, "bad \\u escape");
    }
    return 0;
}

static void
add_utf8(struct buf *b, unsigned cp)
{
    if (cp < 0x80) {
        buf_addch(b, (char)cp);
    } else if (cp < 0x800) {
        buf_addch(b, (char)(0xC0 | (cp >> 6)));
        buf_addch(b, (char)(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
        buf_addch(b, (char)(0xE0 | (cp >> 12)));
        buf_addch(b, (char)(0x80 | ((cp >> 6) & 0x3F)));
        buf_addch(b, (char)(0x80 | (cp & 0x3F)));
    } else {
        buf_addch(b, (char)(0xF0 | (cp >> 18)));
        buf_addch(b, (char)(0x80 | ((cp >> 12) & 0x3F)));
        buf_addch(b, (char)(0x80 | ((cp >> 6) & 0x3F)));
        buf_addch(b, (char)(0x80 | (cp & 0x3F)));
    }
}

/* A \u escape (after the "\u"), with a surrogate pair's second half. */
static int
unicode_escape(struct reader *r, struct buf *b)
{
    unsigned cp, lo;

    if (hex4(r, &cp) != 0)
        return -1;
    if (cp >= 0xDC00 && cp <= 0xDFFF)
        return fail(r, "lone low surrogate");
    if (cp >= 0xD800 && cp <= 0xDBFF) {
        if (r->len - r->pos < 2 || r->s[r->pos] != '\\' || r->s[r->pos + 1] != 'u')
            return fail(r, "lone high surrogate");
        r->pos += 2;
        if (hex4(r, &lo) != 0)
            return -1;
        if (lo < 0xDC00 || lo > 0xDFFF)
            return fail(r, "bad surrogate pair");
        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
    }
    if (cp == 0)
        return fail(r, "\\u0000 in a string");
    add_utf8(b, cp);
    return 0;
}

/* A string (at its opening quote) into a new C string. */
static int
parse_string(struct reader *r, char **out)
{
    struct buf b = BUF_INIT;

    r->pos++;
    for (;;) {
        unsigned char c;

        if (r->pos >= r->len) {
            buf_release(&b);
            return fail(r, "unterminated string");
        }
        c = (unsigned char)r->s[r->pos++];
        if (c == '"')
            break;
        if (c < 0x20) {
            r->pos--;
            buf_release(&b);
            return fail(r, "control character in a string");
        }
        if (c != '\\') {
            buf_addch(&b, (char)c);
            continue;
        }
        if (r->pos >= r->len) {
            buf_release(&b);
            return fail(r, "unterminated string");
        }
        c = (unsigned char)r->s[r->pos++];
        switch (c) {
        case '"':
        case '\\':
        case '/':
            buf_addch(&b, (char)c);
            break;
        case 'b':
            buf_addch(&b, '\b');
            break;
        case 'f':
            buf_addch(&b, '\f');
            break;
        case 'n':
            buf_addch(&b, '\n');
            break;
        case 'r':
            buf_addch(&b, '\r');
            break;
        case 't':
            buf_addch(&b, '\t');
            break;
        case 'u':
            if (unicode_escape(r, &b) != 0) {
                buf_release(&b);
                return -1;
            }
            break;
        default:
            r->pos--;
            buf_release(&b);
            return fail(r, "bad escape");
        }
    }
    *out = buf_detach(&b, NULL);
    return 0;
}

static int
is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* A number in JSON's grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static int
parse_number(struct reader *r, struct jv *out)
{
    size_t start = r->pos;

    if (r->pos < r->len && r->s[r->pos] == '-')
        r->pos++;
    if (r->pos < r->len && r->s[r->pos] == '0')
        r->pos++;
    else if (r->pos < r->len && is_digit(r->s[r->pos]))
        while (r->pos < r->len && is_digit(r->s[r->pos]))
            r->pos++;
    else
        return fail(r, "bad number");
    if (r->pos < r->len && r->s[r->pos] == '.') {
        r->pos++;
        if (r->pos >= r->len || !is_digit(r->s[r->pos]))
            return fail(r, "bad number");
        while (r->pos < r->len && is_digit(r->s[r->pos]))
            r->pos++;
    }
    if (r->pos < r->len && (r->s[r->pos] == 'e' || r->s[r->pos] == 'E')) {
        r->pos++;
        if (r->pos < r->len && (r->s[r->pos] == '+' || r->s[r->pos] == '-'))
            r->pos++;
        if (r->pos >= r->len || !is_digit(r->s[r->pos]))
            return fail(r, "bad number");
        while (r->pos < r->len && is_digit(r->s[r->pos]))
            r->pos++;
    }
    out->type = JV_NUMBER;
    out->str = xmalloc(r->pos - start + 1);
    memcpy(out->str, r->s + start, r->pos - start);
    out->str[r->pos - start] = '\0';
    out->num = strtod(out->str, NULL);
    return 0;
}

/* Room for one more member of an array or object. */
static struct jv *
add_member(struct jv *out, size_t *cap)
{
    if (out->n == *cap) {
        *cap = *cap ? *cap * 2 : 4;
        out->v = xrealloc(out->v, *cap * sizeof(*out->v));
        if (out->type == JV_OBJECT)
            out->keys = xrealloc(out->keys, *cap * sizeof(*out->keys));
    }
    memset(&out->v[out->n], 0, sizeof(out->v[out->n]));
    return &out->v[out->n];
}

static int
parse_container(struct reader *r, struct jv *out, int depth)
{
    char close = r->s[r->pos] == '[' ? ']' : '}';
    size_t cap = 0;

    if (depth >= JSONREAD_MAX_DEPTH)
        return fail(r, "nested too deeply");
    out->type = close == ']' ? JV_ARRAY : JV_OBJECT;
    r->pos++;
    skip_ws(r);
    if (r->pos < r->len && r->s[r->pos] == close) {
        r->pos++;
        return 0;
    }
    for (;;) {
        struct jv *m = add_member(out, &cap);
        char *key = NULL;

        skip_ws(r);
        if (out->type == JV_OBJECT) {
            if (r->pos >= r->len || r->s[r->pos] != '"')
                return fail(r, "expected a member name");
            if (parse_string(r, &key) != 0)
                return -1;
            for (size_t i = 0; i < out->n; i++) {
                if (strcmp(out->keys[i], key) == 0) {
                    free(key);
                    return fail(r, "duplicate member name");
                }
            }
            skip_ws(r);
            if (r->pos >= r->len || r->s[r->pos] != ':') {
                free(key);
                return fail(r, "expected ':'");
            }
            r->pos++;
            out->keys[out->n] = key;
        }
        /* Counted before it is filled, so that jv_free releases a half-parsed member. */
        out->n++;
        if (parse_value(r, m, depth + 1) != 0)
            return -1;
        skip_ws(r);
        if (r->pos < r->len && r->s[r->pos] == ',') {
            r->pos++;
            continue;
        }
        if (r->pos < r->len && r->s[r->pos] == close) {
            r->pos++;
            return 0;
        }
        return fail(r, close == ']' ? "expected ',' or ']'" : "expected ',' or '}'");
    }
}

static int
parse_value(struct reader *r, struct jv *out, int depth)
{
    skip_ws(r);
    if (r->pos >= r->len)
        return fail(r, "unexpected end");
    switch (r->s[r->pos]) {
    case '{':
    case '[':
        return parse_container(r, out, depth);
    case '"':
        out->type = JV_STRING;
        return parse_string(r, &out->str);
    case 't':
        out->type = JV_BOOL;
        out->boolean = 1;
        return literal(r, "true");
    case 'f':
        out->type = JV_BOOL;
        return literal(r, "false");
    case 'n':
        out->type = JV_NULL;
        return literal(r, "null");
    default:
        return parse_number(r, out);
    }
}

struct jv *
jv_parse(const char *text, size_t len, struct diag_err *err)
{
    struct reader r = {text, len, 0, err};
    struct jv *v = xcalloc(1, sizeof(*v));

    if (parse_value(&r, v, 0) != 0) {
        jv_free(v);
        return NULL;
    }
    skip_ws(&r);
    if (r.pos != len) {
        fail(&r, "trailing characters");
        jv_free(v);
        return NULL;
    }
    return v;
}

static void
jv_clear(struct jv *v)
{
    for (size_t i = 0; i < v->n; i++) {
        jv_clear(&v->v[i]);
        if (v->keys)
            free(v->keys[i]);
    }
    free(v->v);
    free(v->keys);
    free(v->str);
}

void
jv_free(struct jv *v)
{
    if (v == NULL)
        return;
    jv_clear(v);
    free(v);
}

const struct jv *
jv_get(const struct jv *v, const char *key)
{
    if (v == NULL || v->type != JV_OBJECT)
        return NULL;
    for (size_t i = 0; i < v->n; i++)
        if (strcmp(v->keys[i], key) == 0)
            return &v->v[i];
    return NULL;
}

const char *
jv_get_str(const struct jv *v, const char *key)
{
    const struct jv *m = jv_get(v, key);

    return m && m->type == JV_STRING ? m->str : NULL;
}

void
jv_emit(struct buf *out, const struct jv *v)
{
    switch (v->type) {
    case JV_NULL:
        buf_addstr(out, "null");
        break;
    case JV_BOOL:
        buf_addstr(out, v->boolean ? "true" : "false");
        break;
    case JV_NUMBER:
        buf_addstr(out, v->str);
        break;
    case JV_STRING:
        json_str(out, v->str);
        break;
    case JV_ARRAY:
    case JV_OBJECT:
        buf_addch(out, v->type == JV_ARRAY ? '[' : '{');
        for (size_t i = 0; i < v->n; i++) {
            if (v->type == JV_OBJECT)
                json_key(out, v->keys[i], i == 0);
            else if (i)
                buf_addch(out, ',');
            jv_emit(out, &v->v[i]);
        }
        buf_addch(out, v->type == JV_ARRAY ? ']' : '}');
        break;
    }
}
