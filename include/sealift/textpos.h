/*
 * textpos.h: positions in UTF-8 text, as PostgreSQL reports them (1-based characters) and as
 * editors show them (line and column).
 */
#ifndef SEALIFT_TEXTPOS_H
#define SEALIFT_TEXTPOS_H

#include <stddef.h>

/* 1-based line and column (in characters) of byte offset off in text (len bytes). */
void textpos_line_col(const char *text, size_t len, size_t off, unsigned *line, unsigned *col);
/* Carry *line and *col over len more bytes of text: textpos_line_col of a text read in pieces. */
void textpos_advance(const char *text, size_t len, unsigned *line, unsigned *col);
/* Byte offset of the 0-based character index idx in text (clamped to len). */
size_t textpos_char_to_byte(const char *text, size_t len, size_t idx);

/* Bytes of blanks and SQL comments at the start of text (sqllex_skip_blank from 0). */
size_t textpos_skip_blank(const char *text, size_t len);

#endif
