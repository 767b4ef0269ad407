/*
 * sqllex.c: comments, strings, quoted identifiers and dollar quotes, psql's way (see sqllex.h).
 * Layer: lib. Hand-written because psql's lexer is not a library and libpg_query's scanner
 * stops at what is not SQL (inline COPY data, psql meta-commands) that callers must get past.
 */
#include "sealift/sqllex.h"

#include <string.h>

static int
is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static int
is_digit(char c)
{
    return c >= '0' && c <= '9';
}

int
sqllex_ident_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '_' ||
           (unsigned char)c >= 0x80;
}

/* Past a block comment opened at text[i]: they nest. */
static size_t
skip_block_comment(const char *text, size_t len, size_t i)
{
    int depth = 0;

    while (i < len) {
        if (i + 1 < len && text[i] == '/' && text[i + 1] == '*') {
            depth++;
            i += 2;
        } else if (i + 1 < len && text[i] == '*' && text[i + 1] == '/') {
            i += 2;
            if (--depth == 0)
                return i;
        } else {
            i++;
        }
    }
    return len;
}

/* Past the quoted text opened by q at text[i]; a doubled q is one; escapes: backslash too. */
static size_t
skip_quoted(const char *text, size_t len, size_t i, char q, int escapes)
{
    for (i++; i < len; i++) {
        if (escapes && text[i] == '\\') {
            i++;
        } else if (text[i] == q) {
            if (i + 1 < len && text[i + 1] == q)
                i++;
            else
                return i + 1;
        }
    }
    return len;
}

/* Length of a dollar-quote delimiter ("$$" or "$tag$") at text[i], or 0. */
static size_t
dollar_tag(const char *text, size_t len, size_t i)
{
    size_t j = i + 1;

    if (i > 0 && sqllex_ident_char(text[i - 1]))
        return 0; /* "a$b$" is part of an identifier, not a quote */
    if (j < len && is_digit(text[j]))
        return 0; /* "$1" is a parameter */
    while (j < len && sqllex_ident_char(text[j]))
        j++;
    return j < len && text[j] == '$' ? j - i + 1 : 0;
}

size_t
sqllex_skip(const char *text, size_t len, size_t i)
{
    char c;

    if (i >= len)
        return i;
    c = text[i];
    if (c == '-' && i + 1 < len && text[i + 1] == '-') {
        const char *nl = memchr(text + i, '\n', len - i);

        return nl ? (size_t)(nl - text) : len;
    }
    if (c == '/' && i + 1 < len && text[i + 1] == '*')
        return skip_block_comment(text, len, i);
    if (c == '\'') {
        /* E'...' takes backslash escapes; a plain '...' does not (standard strings). */
        int e = i > 0 && (text[i - 1] == 'E' || text[i - 1] == 'e') &&
                (i < 2 || !sqllex_ident_char(text[i - 2]));

        return skip_quoted(text, len, i, '\'', e);
    }
    if (c == '"')
        return skip_quoted(text, len, i, '"', 0);
    if (c == '$') {
        size_t t = dollar_tag(text, len, i), j;

        if (t == 0)
            return i;
        for (j = i + t; j < len; j++)
            if (text[j] == '$' && j + t <= len && memcmp(text + j, text + i, t) == 0)
                return j + t;
        return len;
    }
    return i;
}

size_t
sqllex_skip_blank(const char *text, size_t len, size_t i)
{
    while (i < len) {
        if (is_space(text[i])) {
            i++;
        } else if (i + 1 < len && ((text[i] == '-' && text[i + 1] == '-') ||
                                   (text[i] == '/' && text[i + 1] == '*'))) {
            i = sqllex_skip(text, len, i);
        } else {
            break;
        }
    }
    return i < len ? i : len;
}

size_t
sqllex_statement_end(const char *text, size_t len, size_t pos)
{
    int parens = 0;
    size_t i = pos;

    while (i < len) {
        char c = text[i];

        /* Only these bytes can open what sqllex_skip skips; the rest is one byte each. */
        if (c == '-' || c == '/' || c == '\'' || c == '"' || c == '$') {
            size_t j = sqllex_skip(text, len, i);

            i = j != i ? j : i + 1;
        } else if (c == '(') {
            parens++;
            i++;
        } else if (c == ')') {
            if (parens > 0)
                parens--;
            i++;
        } else if (c == ';' && parens == 0) {
            return i;
        } else {
            i++;
        }
    }
    return len;
}

int
sqllex_line_comments(const char *text, size_t len, sqllex_comment_cb fn, void *arg)
{
    size_t i = 0;

    while (i < len) {
        size_t j = sqllex_skip(text, len, i);

        if (j == i) {
            i++;
            continue;
        }
        if (text[i] == '-') {
            int r = fn(text, i, j, arg);

            if (r != 0)
                return r;
        }
        i = j;
    }
    return 0;
}
