/*
 * table.c: text tables whose columns are as wide as their longest cell (see table.h).
 * Layer: lib (formats into a buf; never prints).
 */
#include "sealift/table.h"
#include "sealift/xalloc.h"

#include <assert.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void
table_init(struct table *t, size_t ncols, const char *indent)
{
    assert(ncols > 0 && ncols <= TABLE_MAX_COLS);
    memset(t, 0, sizeof(*t));
    t->ncols = ncols;
    t->indent = indent ? indent : "";
}

void
table_column(struct table *t, size_t col, enum table_align align, size_t min_width)
{
    assert(col < t->ncols);
    t->align[col] = align;
    if (min_width > t->width[col])
        t->width[col] = min_width;
}

/*
 * Characters that s takes on a terminal: UTF-8 continuation bytes take none, so that a
 * migration named in another script lines up too. (Wide CJK characters still count as one.)
 */
static size_t
text_width(const char *s)
{
    size_t n = 0;

    for (; *s; s++)
        n += ((unsigned char)*s & 0xc0) != 0x80;
    return n;
}

static void
add_slot(struct table *t, char *text)
{
    t->cells = xgrow(t->cells, &t->cap, t->ncells + 1, sizeof(*t->cells));
    t->cells[t->ncells++] = text;
}

void
table_cell(struct table *t, const char *fmt, ...)
{
    struct buf b = BUF_INIT;
    size_t col = t->ncells % t->ncols, w;
    va_list ap;

    va_start(ap, fmt);
    buf_vaddf(&b, fmt, ap);
    va_end(ap);
    w = text_width(b.data);
    if (w > t->width[col])
        t->width[col] = w;
    add_slot(t, buf_detach(&b, NULL));
}

void
table_note(struct table *t, const char *fmt, ...)
{
    struct buf b = BUF_INIT;
    va_list ap;

    assert(t->ncols >= 2 && t->ncells % t->ncols == 0);
    va_start(ap, fmt);
    buf_vaddf(&b, fmt, ap);
    va_end(ap);
    add_slot(t, NULL);
    add_slot(t, buf_detach(&b, NULL));
    for (size_t c = 2; c < t->ncols; c++)
        add_slot(t, NULL);
}

static void
pad(struct buf *out, size_t n)
{
    while (n-- > 0)
        buf_addch(out, ' ');
}

void
table_format(const struct table *t, struct buf *out)
{
    for (size_t r = 0; r < t->ncells; r += t->ncols) {
        char *const *row = &t->cells[r];
        size_t start = out->len;

        buf_addstr(out, t->indent);
        if (row[0] == NULL) {
            buf_addstr(out, row[1]);
            buf_addch(out, '\n');
            continue;
        }
        for (size_t c = 0; c < t->ncols && r + c < t->ncells; c++) {
            size_t gap = t->width[c] - text_width(row[c]);

            if (c > 0)
                buf_addstr(out, "  ");
            if (t->align[c] == TABLE_RIGHT)
                pad(out, gap);
            buf_addstr(out, row[c]);
            if (t->align[c] == TABLE_LEFT && c + 1 < t->ncols)
                pad(out, gap);
        }
        /* An empty last cell leaves blanks: a row never ends in them. */
        while (out->len > start + strlen(t->indent) && out->data[out->len - 1] == ' ')
            buf_truncate(out, out->len - 1);
        buf_addch(out, '\n');
    }
}

void
table_release(struct table *t)
{
    for (size_t i = 0; i < t->ncells; i++)
        free(t->cells[i]);
    free(t->cells);
    memset(t, 0, sizeof(*t));
}
