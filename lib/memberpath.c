/*
 * memberpath.c: the safety check for bundle member paths (see memberpath.h).
 * Layer: lib.
 */
#include "sealift/memberpath.h"

#include <string.h>

/* 1 for the bytes a member name may hold besides '/' (a table: thousands of names are checked). */
static const unsigned char safe_table[256] = {
    ['.'] = 1, ['_'] = 1, ['-'] = 1, ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1,
    ['5'] = 1, ['6'] = 1, ['7'] = 1, ['8'] = 1, ['9'] = 1, ['A'] = 1, ['B'] = 1, ['C'] = 1,
    ['D'] = 1, ['E'] = 1, ['F'] = 1, ['G'] = 1, ['H'] = 1, ['I'] = 1, ['J'] = 1, ['K'] = 1,
    ['L'] = 1, ['M'] = 1, ['N'] = 1, ['O'] = 1, ['P'] = 1, ['Q'] = 1, ['R'] = 1, ['S'] = 1,
    ['T'] = 1, ['U'] = 1, ['V'] = 1, ['W'] = 1, ['X'] = 1, ['Y'] = 1, ['Z'] = 1, ['a'] = 1,
    ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1, ['g'] = 1, ['h'] = 1, ['i'] = 1,
    ['j'] = 1, ['k'] = 1, ['l'] = 1, ['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1, ['q'] = 1,
    ['r'] = 1, ['s'] = 1, ['t'] = 1, ['u'] = 1, ['v'] = 1, ['w'] = 1, ['x'] = 1, ['y'] = 1,
    ['z'] = 1,
};

int
memberpath_valid(const char *path, size_t max)
{
    const unsigned char *p = (const unsigned char *)path;
    size_t comp = 0; /* start of the current component */
    size_t i = 0;

    /* One pass: safe bytes only; no empty (leading, trailing, doubled '/'), "." or ".." parts. */
    for (;; i++) {
        if (p[i] == '/' || p[i] == '\0') {
            size_t len = i - comp;

            if (len == 0 || (len == 1 && p[comp] == '.') ||
                (len == 2 && p[comp] == '.' && p[comp + 1] == '.'))
                return 0;
            if (p[i] == '\0')
                return i <= max;
            comp = i + 1;
        } else if (!safe_table[p[i]] || i >= max) {
            return 0;
        }
    }
}

int
memberpath_name_valid(const char *name, size_t max)
{
    return name[0] != '.' && strchr(name, '/') == NULL && memberpath_valid(name, max);
}
