/*
 * memberpath.c: the safety check for bundle member paths (see memberpath.h).
 * Layer: lib.
 */
#include "sealift/memberpath.h"

#include <string.h>

static int
safe_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
}

int
memberpath_valid(const char *path, size_t max)
{
    size_t n = strlen(path);
    const char *comp = path;

    if (n == 0 || n > max)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!safe_char(path[i]) && path[i] != '/')
            return 0;
    /* No empty (leading, trailing or doubled '/'), "." or ".." components. */
    for (;;) {
        const char *slash = strchr(comp, '/');
        size_t len = slash ? (size_t)(slash - comp) : strlen(comp);

        if (len == 0 || (len == 1 && comp[0] == '.') ||
            (len == 2 && comp[0] == '.' && comp[1] == '.'))
            return 0;
        if (!slash)
            return 1;
        comp = slash + 1;
    }
}

int
memberpath_name_valid(const char *name, size_t max)
{
    return name[0] != '.' && strchr(name, '/') == NULL && memberpath_valid(name, max);
}
