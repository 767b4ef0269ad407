/*
 * disposable.c: the rule that says whether "sealift-apply test" may use a database, and
 * whether a database was named at all (see disposable.h).
 * Layer: applier. Pure: no I/O, no printing, no global state.
 */
#include "disposable.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static void set_text(char *dst, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Format into a DISPOSABLE_MSG_MAX field; a message that would be cut says so ("..."). */
static void
set_text(char *dst, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(dst, DISPOSABLE_MSG_MAX, fmt, ap);
    va_end(ap);
    if (n < 0)
        dst[0] = '\0';
    else if (n >= DISPOSABLE_MSG_MAX)
        memcpy(dst + DISPOSABLE_MSG_MAX - 4, "...", 4);
}

static int
word_begins(const char *w, size_t len, const char *prefix)
{
    size_t n = strlen(prefix);

    return len >= n && strncasecmp(w, prefix, n) == 0;
}

int
disposable_name(const char *name)
{
    int yes = 0;

    for (const char *p = name; *p;) {
        const char *w = p;
        size_t len;

        if (!isalpha((unsigned char)*p)) {
            p++;
            continue;
        }
        while (isalpha((unsigned char)*p))
            p++;
        len = (size_t)(p - w);
        if (word_begins(w, len, "prod"))
            return 0;
        if (word_begins(w, len, "scratch") || word_begins(w, len, "test") ||
            word_begins(w, len, "tmp"))
            yes = 1;
    }
    return yes;
}

int
disposable_judge_name(const char *dbname, struct disposable_judgement *j)
{
    j->verdict = DISPOSABLE_EMPTY;
    j->message[0] = '\0';
    j->hint[0] = '\0';
    if (strcmp(dbname, "template0") != 0 && strcmp(dbname, "template1") != 0)
        return 0;
    j->verdict = DISPOSABLE_REFUSED_TEMPLATE;
    set_text(j->message, "test refuses database \"%s\": every new database is copied from it",
             dbname);
    return 1;
}

int
disposable_judge(const struct disposable_facts *f, struct disposable_judgement *j)
{
    const char *s = f->nobjects == 1 ? "" : "s";

    if (disposable_judge_name(f->dbname, j))
        return 1;
    if (f->nobjects > 0 && !(f->scratch && disposable_name(f->dbname))) {
        j->verdict = DISPOSABLE_REFUSED_OBJECTS;
        set_text(j->message,
                 "test refuses database \"%s\": it has %zu object%s of its own, and test "
                 "creates and drops objects",
                 f->dbname, f->nobjects, s);
        if (f->scratch)
            set_text(j->hint, "--scratch accepts such a database only when its name says it is "
                              "disposable (a word beginning with scratch, test or tmp, none with "
                              "prod)");
        else
            set_text(j->hint, "use an empty database, or no -d at all (a throwaway server); for "
                              "a disposable one with objects, name it so (e.g. app_test) and add "
                              "--scratch");
        return 1;
    }
    if (f->history_exists) {
        j->verdict = DISPOSABLE_REFUSED_HISTORY;
        set_text(j->message,
                 "test refuses database \"%s\": its history schema \"%s\" exists (sealift has "
                 "been used here)",
                 f->dbname, f->schema);
        set_text(j->hint, "use a fresh database, or another history schema (--schema)");
        return 1;
    }
    if (f->nobjects > 0) {
        j->verdict = DISPOSABLE_BESIDE;
        set_text(j->message,
                 "database \"%s\" has %zu object%s of its own; --scratch and its name let the "
                 "test run beside them",
                 f->dbname, f->nobjects, s);
    }
    return 0;
}

int
disposable_target_named(const char *conninfo, char *const *env)
{
    static const char *const vars[] = {"DATABASE_URL", "PGHOST",     "PGHOSTADDR",
                                       "PGPORT",       "PGDATABASE", "PGSERVICE"};

    if (conninfo && *conninfo)
        return 1;
    for (size_t k = 0; k < sizeof(vars) / sizeof(vars[0]); k++) {
        size_t n = strlen(vars[k]);

        /* The first setting counts, as getenv() reads it. */
        for (size_t i = 0; env && env[i]; i++) {
            if (strncmp(env[i], vars[k], n) != 0 || env[i][n] != '=')
                continue;
            if (env[i][n + 1] != '\0')
                return 1;
            break;
        }
    }
    return 0;
}
