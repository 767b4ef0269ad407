/*
 * detect_liquibase.c: --from auto's recognition of a Liquibase project: a changelog at the top
 * of the directory (XML, YAML or JSON with a databaseChangeLog root, or formatted SQL starting
 * "--liquibase formatted sql"). Detection only: the reader is read_liquibase.
 * Layer: compiler.
 */
#include "read_common.h"
#include "readers.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static int
has_suffix(const char *name, const char *suffix)
{
    size_t n = strlen(name), s = strlen(suffix);

    return n > s && strcasecmp(name + n - s, suffix) == 0;
}

static int
structured_named_cb(const char *name)
{
    return has_suffix(name, ".xml") || has_suffix(name, ".yaml") || has_suffix(name, ".yml") ||
           has_suffix(name, ".json");
}

static int
sql_named_cb(const char *name)
{
    return has_suffix(name, ".sql");
}

/* Formatted SQL: the first line is "--liquibase formatted sql" (blanks and case as Liquibase). */
static int
formatted_sql(const char *text, size_t len)
{
    size_t i = 0;
    static const char mark[] = "liquibaseformattedsql";
    size_t m = 0;

    if (len < 2 || text[0] != '-' || text[1] != '-')
        return 0;
    for (i = 2; i < len && text[i] != '\n' && m < sizeof(mark) - 1; i++) {
        if (text[i] == ' ' || text[i] == '\t')
            continue;
        if (tolower((unsigned char)text[i]) != mark[m++])
            return 0;
    }
    return m == sizeof(mark) - 1;
}

static int
structured_looks_cb(const char *text, size_t len)
{
    (void)len;
    return strstr(text, "<databaseChangeLog") != NULL ||
           strstr(text, "databaseChangeLog:") != NULL ||
           strstr(text, "\"databaseChangeLog\"") != NULL;
}

int
detect_liquibase_why(const char *dir, char *why, size_t cap)
{
    char name[200];

    /*
     * Every XML, YAML or JSON file may be the master; SQL files are other formats' too, and
     * a formatted SQL changelog says so on its first line: a few tell.
     */
    if (!common_detect_in_files(dir, 0, structured_named_cb, structured_looks_cb, name,
                                sizeof(name)) &&
        !common_detect_in_files(dir, 5, sql_named_cb, formatted_sql, name, sizeof(name)))
        return 0;
    if (why)
        snprintf(why, cap, "changelog %s", name);
    return 3;
}
