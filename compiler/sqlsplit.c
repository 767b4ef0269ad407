/*
 * sqlsplit.c: statement ends and inline COPY data, psql's way.
 * Layer: compiler. Hand-written because libpg_query's splitters stop at the first byte of COPY
 * data (data is not SQL), and psql's lexer is not a library; this follows its rules.
 */
#include "sqlsplit.h"

#include <ctype.h>
#include <string.h>

static int
ident_char(char c)
{
    return isalnum((unsigned char)c) || c == '_' || (unsigned char)c >= 0x80;
}

/* Length of a dollar-quote delimiter ("$$" or "$tag$") at text[i], or 0. */
static size_t
dollar_tag(const char *text, size_t len, size_t i)
{
    size_t j = i + 1;

    if (i > 0 && ident_char(text[i - 1]))
        return 0; /* "a$b$" is part of an identifier, not a quote */
    if (j < len && isdigit((unsigned char)text[j]))
        return 0; /* "$1" is a parameter */
    while (j < len && ident_char(text[j]))
        j++;
    return j < len && text[j] == '$' ? j - i + 1 : 0;
}

/* Skip a quoted literal or identifier opened at text[i]; escapes: backslash when escapes. */
static size_t
skip_quoted(const char *text, size_t len, size_t i, char q, int escapes)
{
    i++;
    while (i < len) {
        if (escapes && text[i] == '\\') {
            i += 2;
            continue;
        }
        if (text[i] == q) {
            if (i + 1 < len && text[i + 1] == q) {
                i += 2;
                continue;
            }
            return i + 1;
        }
        i++;
    }
    return len;
}

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

size_t
sqlsplit_statement_end(const char *text, size_t len, size_t pos)
{
    int parens = 0;
    size_t i = pos;

    while (i < len) {
        char c = text[i];

        if (c == '-' && i + 1 < len && text[i + 1] == '-') {
            while (i < len && text[i] != '\n')
                i++;
        } else if (c == '/' && i + 1 < len && text[i + 1] == '*') {
            i = skip_block_comment(text, len, i);
        } else if (c == '\'') {
            /* E'...' strings take backslash escapes; plain ones do not (standard strings). */
            int e = i > 0 && (text[i - 1] == 'E' || text[i - 1] == 'e') &&
                    (i < 2 || !ident_char(text[i - 2]));

            i = skip_quoted(text, len, i, '\'', e);
        } else if (c == '"') {
            i = skip_quoted(text, len, i, '"', 0);
        } else if (c == '$') {
            size_t t = dollar_tag(text, len, i);

            if (t == 0) {
                i++;
            } else {
                /* Find the same delimiter again. */
                size_t j = i + t;

                while (j < len &&
                       !(text[j] == '$' && j + t <= len && memcmp(text + j, text + i, t) == 0))
                    j++;
                i = j < len ? j + t : len;
            }
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
sqlsplit_starts_with_copy(const char *text, size_t len)
{
    size_t i = 0;

    for (;;) {
        while (i < len && isspace((unsigned char)text[i]))
            i++;
        if (i + 1 < len && text[i] == '-' && text[i + 1] == '-') {
            while (i < len && text[i] != '\n')
                i++;
        } else if (i + 1 < len && text[i] == '/' && text[i + 1] == '*') {
            i = skip_block_comment(text, len, i);
        } else {
            break;
        }
    }
    return len - i >= 4 && strncasecmp(text + i, "copy", 4) == 0 &&
           (len - i == 4 || !ident_char(text[i + 4]));
}

int
sqlsplit_copy_data(const char *text, size_t len, size_t semi, size_t *data_start, size_t *data_end,
                   size_t *after)
{
    size_t i = semi + 1;

    /* Only blanks or a comment may follow the ';' on its line. */
    while (i < len && text[i] != '\n') {
        if (text[i] == '-' && i + 1 < len && text[i + 1] == '-') {
            while (i < len && text[i] != '\n')
                i++;
            break;
        }
        if (!isspace((unsigned char)text[i])) {
            *data_start = i;
            return -1;
        }
        i++;
    }
    if (i < len)
        i++; /* past the newline */
    *data_start = i;
    while (i < len) {
        const char *nl = memchr(text + i, '\n', len - i);
        size_t line_end = nl ? (size_t)(nl - text) : len;

        if (line_end - i == 2 && text[i] == '\\' && text[i + 1] == '.') {
            *data_end = i;
            *after = nl ? line_end + 1 : len;
            return 0;
        }
        i = nl ? line_end + 1 : len;
    }
    return -2;
}
