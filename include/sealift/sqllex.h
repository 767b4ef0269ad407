/*
 * sqllex.h: the one SQL lexer of the project, with psql's rules for what is not code: "--" line
 * comments, block comments (which nest, as in PostgreSQL), standard strings ('it''s', no
 * backslash escapes: standard_conforming_strings is on by default), E'' strings (backslash
 * escapes), quoted identifiers ("a""b"), and dollar-quoted bodies ($$...$$, $tag$...$tag$; "$1"
 * is a parameter and "a$b$" part of an identifier, not a quote). Used to split statements,
 * skip blanks and comments, and find directives; it does not tokenise SQL itself.
 *
 * Every function takes a text of len bytes (NULs are not terminators) and an offset; none reads
 * past len. An unterminated comment, string or body runs to len.
 */
#ifndef SEALIFT_SQLLEX_H
#define SEALIFT_SQLLEX_H

#include <stddef.h>

/* 1 if c may continue an identifier: ASCII letters and digits, '_', and bytes >= 0x80. */
int sqllex_ident_char(char c);

/*
 * If text[i] opens a comment, a string, a quoted identifier or a dollar-quoted body, the offset
 * just past its end (len if it never ends); else i itself.
 */
size_t sqllex_skip(const char *text, size_t len, size_t i);

/* Offset of the first byte at or after i that is neither white space nor in a comment. */
size_t sqllex_skip_blank(const char *text, size_t len, size_t i);

/*
 * Offset of the ';' that ends the statement starting at pos, or len if the text ends first.
 * Semicolons inside strings, quoted identifiers, dollar-quoted bodies, comments and
 * parentheses (CREATE RULE ... (a; b)) do not count.
 */
size_t sqllex_statement_end(const char *text, size_t len, size_t pos);

/*
 * Call fn(text, start, end, arg) for every "--" line comment of text[0, len): [start, end) is
 * the comment without its line end, start at the "--". Comments inside strings, bodies and
 * block comments are not line comments. Stops early when fn returns non-zero and returns that
 * value; else 0.
 */
typedef int (*sqllex_comment_cb)(const char *text, size_t start, size_t end, void *arg);
int sqllex_line_comments(const char *text, size_t len, sqllex_comment_cb fn, void *arg);

#endif
