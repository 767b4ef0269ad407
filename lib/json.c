/*
 * json.c: JSON string escaping for --json output.
 * Layer: lib.
 */
#include "sealift/json.h"

#include <string.h>

void
json_strn(struct buf *out, const char *s, size_t len)
{
    static const char digits[] = "0123456789abcdef";

    buf_addch(out, '"');
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c == '"' || c == '\\') {
            buf_addch(out, '\\');
            buf_addch(out, (char)c);
        } else if (c == '\n') {
            buf_addstr(out, "\\n");
        } else if (c == '\t') {
            buf_addstr(out, "\\t");
        } else if (c == '\r') {
            buf_addstr(out, "\\r");
        } else if (c < 0x20 || c == 0x7f) {
            buf_addstr(out, "\\u00");
            buf_addch(out, digits[c >> 4]);
            buf_addch(out, digits[c & 15]);
        } else {
            buf_addch(out, (char)c);
        }
    }
    buf_addch(out, '"');
}

void
json_str(struct buf *out, const char *s)
{
    if (s == NULL)
        buf_addstr(out, "null");
    else
        json_strn(out, s, strlen(s));
}

void
json_key(struct buf *out, const char *key, int first)
{
    if (!first)
        buf_addch(out, ',');
    json_str(out, key);
    buf_addch(out, ':');
}
