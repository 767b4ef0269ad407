/*
 * sqlsplit.h: inline COPY ... FROM stdin data, which no SQL parser can read, found and set
 * aside before the script goes to PostgreSQL's parser. Statements end where
 * sqllex_statement_end (sealift/sqllex.h) says.
 */
#ifndef SEALIFT_COMPILER_SQLSPLIT_H
#define SEALIFT_COMPILER_SQLSPLIT_H

#include <stddef.h>

/* 1 if the statement text (comments and blanks first allowed) starts with the word COPY. */
int sqlsplit_starts_with_copy(const char *text, size_t len);

/*
 * Inline COPY data after a "COPY ... FROM stdin;" whose ';' is at semi: the data begins on the
 * next line and ends before a line that is exactly "\.". On success returns 0 and sets
 * *data_start, *data_end (exclusive) and *after (just past the "\." line); returns -1 when
 * something other than blanks or a comment follows the ';' on its line (*data_start is set to
 * its offset), -2 when no "\." line ends the data.
 */
int sqlsplit_copy_data(const char *text, size_t len, size_t semi, size_t *data_start,
                       size_t *data_end, size_t *after);

#endif
