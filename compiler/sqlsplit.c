/*
 * sqlsplit.c: statement ends and inline COPY data, psql's way.
 * Layer: compiler. Hand-written because libpg_query's splitters stop at the first byte of COPY
 * data (data is not SQL); statements end where the project's lexer (sealift/sqllex.h, psql's
 * rules) says.
 */
#include "sqlsplit.h"
#include "sealift/sqllex.h"

#include <ctype.h>
#include <string.h>

int
sqlsplit_starts_with_copy(const char *text, size_t len)
{
    size_t i = sqllex_skip_blank(text, len, 0);

    return len - i >= 4 && strncasecmp(text + i, "copy", 4) == 0 &&
           (len - i == 4 || !sqllex_ident_char(text[i + 4]));
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
