/*
 * textpos.c: byte, character and line/column positions in UTF-8 text.
 * Layer: lib.
 */
#include "sealift/textpos.h"
#include "sealift/sqllex.h"

void
textpos_line_col(const char *text, size_t len, size_t off, unsigned *line, unsigned *col)
{
    *line = 1;
    *col = 1;
    textpos_advance(text, off < len ? off : len, line, col);
}

void
textpos_advance(const char *text, size_t len, unsigned *line, unsigned *col)
{
    for (size_t i = 0; i < len; i++) {
        if (text[i] == '\n') {
            (*line)++;
            *col = 1;
        } else if (((unsigned char)text[i] & 0xc0) != 0x80) {
            (*col)++;
        }
    }
}

size_t
textpos_char_to_byte(const char *text, size_t len, size_t idx)
{
    size_t chars = 0;

    for (size_t i = 0; i < len; i++) {
        if (((unsigned char)text[i] & 0xc0) != 0x80) {
            if (chars == idx)
                return i;
            chars++;
        }
    }
    return len;
}

size_t
textpos_skip_blank(const char *text, size_t len)
{
    return sqllex_skip_blank(text, len, 0);
}
