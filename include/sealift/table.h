/*
 * table.h: text tables whose columns are as wide as their longest cell, so that every row puts
 * each column at the same offset whatever the length of names in it. Rows are added cell by
 * cell, then the table is formatted into a buf at once: columns two spaces apart, each row
 * after the table's indent, no trailing blanks. Formatting only: the caller prints.
 *
 *     struct table t;
 *     table_init(&t, 3, "  ");
 *     table_column(&t, 1, TABLE_RIGHT, 0);
 *     table_cell(&t, "%s", "member"); table_cell(&t, "size"); table_cell(&t, "sha256");
 *     ... one table_cell() a cell, row after row ...
 *     table_format(&t, out);
 *     table_release(&t);
 */
#ifndef SEALIFT_TABLE_H
#define SEALIFT_TABLE_H

#include "sealift/buf.h"

#include <stddef.h>

/* The most columns a table has (the tables are fixed layouts, not user data). */
#define TABLE_MAX_COLS 8

enum table_align { TABLE_LEFT, TABLE_RIGHT };

struct table {
    size_t ncols;
    const char *indent;           /* before every row and note */
    size_t width[TABLE_MAX_COLS]; /* the widest cell so far, or the column's minimum */
    enum table_align align[TABLE_MAX_COLS];
    /* ncols slots a row, row after row; a note's row has NULL in slot 0 and its text in 1. */
    char **cells;
    size_t ncells, cap;
};

/* An empty table of ncols (1..TABLE_MAX_COLS) left-aligned columns; indent is not copied. */
void table_init(struct table *t, size_t ncols, const char *indent);
/* Align column col to the right (numbers) or left, and make it at least min_width wide. */
void table_column(struct table *t, size_t col, enum table_align align, size_t min_width);
/* The next cell, row by row; a row ends after ncols cells. */
void table_cell(struct table *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/*
 * A line of its own after the last complete row (say, the reason under a finding): written
 * after the indent as it is, and not a cell, so it widens no column. Tables of two columns or
 * more.
 */
void table_note(struct table *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Append the rows to out, every column as wide as its longest cell (in characters of UTF-8). */
void table_format(const struct table *t, struct buf *out);
void table_release(struct table *t);

#endif
