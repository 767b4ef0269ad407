/*
 * sqltarget.c: the target relations of a statement, from its first words (see sqltarget.h).
 * Layer: lib. Tokens are words, quoted identifiers and single punctuation bytes; the lexer
 * (sqllex.c) skips comments and blanks between them.
 */
#include "sealift/sqltarget.h"
#include "sealift/sqllex.h"

#include <string.h>

enum tok_kind { TOK_END, TOK_WORD, TOK_QUOTED, TOK_PUNCT };

struct tok {
    enum tok_kind kind;
    size_t start, end; /* in text; a quoted identifier with its quotes */
};

struct reader {
    const char *text;
    size_t len, pos;
    struct tok t; /* the current token */
};

static void
next(struct reader *r)
{
    size_t i = sqllex_skip_blank(r->text, r->len, r->pos);

    r->t.start = i;
    if (i >= r->len) {
        r->t.kind = TOK_END;
        r->t.end = r->pos = r->len;
        return;
    }
    if (r->text[i] == '"') {
        r->t.kind = TOK_QUOTED;
        r->t.end = sqllex_skip(r->text, r->len, i);
    } else if (sqllex_ident_char(r->text[i])) {
        r->t.kind = TOK_WORD;
        for (r->t.end = i; r->t.end < r->len && sqllex_ident_char(r->text[r->t.end]); r->t.end++)
            ;
    } else {
        r->t.kind = TOK_PUNCT;
        r->t.end = i + 1;
    }
    r->pos = r->t.end;
}

/* Is the current token the (unquoted, case-insensitive) word w? */
static int
is(const struct reader *r, const char *w)
{
    size_t n = strlen(w);

    if (r->t.kind != TOK_WORD || r->t.end - r->t.start != n)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = r->text[r->t.start + i];

        if ((c >= 'A' && c <= 'Z' ? c + 32 : c) != w[i])
            return 0;
    }
    return 1;
}

/* Take the word w if it is the current token. */
static int
take(struct reader *r, const char *w)
{
    if (!is(r, w))
        return 0;
    next(r);
    return 1;
}

static int
is_punct(const struct reader *r, char c)
{
    return r->t.kind == TOK_PUNCT && r->text[r->t.start] == c;
}

/* Append the current identifier token to out (folded as PostgreSQL folds it). */
static int
add_ident(const struct reader *r, char *out, size_t *n)
{
    size_t s = r->t.start, e = r->t.end;

    if (r->t.kind == TOK_QUOTED) {
        s++;
        if (e > s && r->text[e - 1] == '"')
            e--;
    } else if (r->t.kind != TOK_WORD) {
        return -1;
    }
    for (size_t i = s; i < e; i++) {
        char c = r->text[i];

        if (r->t.kind == TOK_QUOTED && c == '"')
            i++; /* "" is one quote */
        else if (r->t.kind == TOK_WORD && c >= 'A' && c <= 'Z')
            c = (char)(c + 32);
        if (*n + 2 >= SQLTARGET_NAME_MAX)
            return -1;
        out[(*n)++] = c;
    }
    out[*n] = '\0';
    return 0;
}

/*
 * Read a qualified name ([db.]schema.name) into out as "schema.name" or "name". Returns 0, or
 * -1 when the current token is not a name (or the name is too long).
 */
static int
read_name(struct reader *r, char *out)
{
    size_t starts[3], n = 0, parts = 0;

    out[0] = '\0';
    for (;;) {
        if (parts == 3)
            return -1;
        starts[parts++] = n;
        if (add_ident(r, out, &n) != 0)
            return -1;
        next(r);
        if (!is_punct(r, '.'))
            break;
        out[n++] = '.';
        next(r);
    }
    /* A database name in front goes: relations are looked up in the connected one. */
    if (parts == 3)
        memmove(out, out + starts[1], n - starts[1] + 1);
    return 0;
}

/* Read names separated by commas (each maybe followed by "*"), up to max. */
static size_t
read_names(struct reader *r, enum sqltarget_verb verb, int list, struct sqltarget *out, size_t max)
{
    size_t n = 0;

    do {
        take(r, "only");
        if (n == max || read_name(r, out[n].name) != 0)
            break;
        out[n++].verb = verb;
        if (is_punct(r, '*'))
            next(r);
        if (!list || !is_punct(r, ','))
            break;
        next(r);
    } while (1);
    return n;
}

static void
skip_if_exists(struct reader *r)
{
    if (take(r, "if")) {
        take(r, "not");
        take(r, "exists");
    }
}

/* Skip a parenthesised option list "( ... )"; 1 if it contained the word w. */
static int
skip_parens(struct reader *r, const char *w)
{
    int found = 0, depth = 0;

    if (!is_punct(r, '('))
        return 0;
    do {
        if (is_punct(r, '('))
            depth++;
        else if (is_punct(r, ')'))
            depth--;
        else if (is(r, w))
            found = 1;
        next(r);
    } while (depth > 0 && r->t.kind != TOK_END);
    return found;
}

static size_t
read_alter(struct reader *r, struct sqltarget *out, size_t max)
{
    if (!take(r, "table") && !take(r, "index") && !(take(r, "materialized") && take(r, "view")))
        return 0;
    skip_if_exists(r);
    if (is(r, "all")) /* ALTER TABLE ALL IN TABLESPACE: every table, none by name */
        return 0;
    return read_names(r, SQLTARGET_ALTERS, 0, out, max);
}

/* CREATE [UNIQUE] INDEX [CONCURRENTLY] [[IF NOT EXISTS] name] ON [ONLY] table, or a new table. */
static size_t
read_create(struct reader *r, struct sqltarget *out, size_t max)
{
    if (take(r, "or"))
        take(r, "replace");
    take(r, "unique");
    if (take(r, "index")) {
        while (r->t.kind != TOK_END && !is_punct(r, '(') && !is_punct(r, ';') && !is(r, "on"))
            next(r);
        if (!take(r, "on"))
            return 0;
        return read_names(r, SQLTARGET_INDEXES, 0, out, max);
    }
    while (take(r, "global") || take(r, "local") || take(r, "temp") || take(r, "temporary") ||
           take(r, "unlogged") || take(r, "recursive"))
        ;
    if (!take(r, "table") && !take(r, "view") && !(take(r, "materialized") && take(r, "view")))
        return 0;
    skip_if_exists(r);
    return read_names(r, SQLTARGET_CREATES, 0, out, max);
}

static size_t
read_drop(struct reader *r, struct sqltarget *out, size_t max)
{
    if (!take(r, "table") && !take(r, "index") && !(take(r, "materialized") && take(r, "view")))
        return 0;
    take(r, "concurrently");
    skip_if_exists(r);
    return read_names(r, SQLTARGET_DROPS, 1, out, max);
}

/* VACUUM FULL, CLUSTER, REINDEX TABLE/INDEX, REFRESH MATERIALIZED VIEW: rebuild the relation. */
static size_t
read_rebuild(struct reader *r, const char *first, struct sqltarget *out, size_t max)
{
    if (strcmp(first, "vacuum") == 0) {
        int full = skip_parens(r, "full");

        for (;;) {
            if (take(r, "full"))
                full = 1;
            else if (!take(r, "freeze") && !take(r, "verbose") && !take(r, "analyze") &&
                     !take(r, "analyse"))
                break;
        }
        return full ? read_names(r, SQLTARGET_REBUILDS, 1, out, max) : 0;
    }
    if (strcmp(first, "cluster") == 0) {
        skip_parens(r, "");
        take(r, "verbose");
        return read_names(r, SQLTARGET_REBUILDS, 0, out, max);
    }
    if (strcmp(first, "reindex") == 0) {
        skip_parens(r, "");
        if (!take(r, "table") && !take(r, "index"))
            return 0;
        take(r, "concurrently");
        return read_names(r, SQLTARGET_REBUILDS, 0, out, max);
    }
    if (!take(r, "materialized") || !take(r, "view"))
        return 0;
    take(r, "concurrently");
    return read_names(r, SQLTARGET_REBUILDS, 0, out, max);
}

size_t
sqltarget_find(const char *text, size_t len, struct sqltarget *out, size_t max)
{
    static const char *const rebuilds[] = {"vacuum", "cluster", "reindex", "refresh"};
    struct reader r = {text, len, 0, {TOK_END, 0, 0}};

    next(&r);
    if (take(&r, "alter"))
        return read_alter(&r, out, max);
    if (take(&r, "create"))
        return read_create(&r, out, max);
    if (take(&r, "drop"))
        return read_drop(&r, out, max);
    if (take(&r, "truncate")) {
        take(&r, "table");
        return read_names(&r, SQLTARGET_TRUNCATES, 1, out, max);
    }
    if (take(&r, "lock")) {
        take(&r, "table");
        return read_names(&r, SQLTARGET_LOCKS, 1, out, max);
    }
    if (take(&r, "update"))
        return read_names(&r, SQLTARGET_WRITES, 0, out, max);
    if (take(&r, "delete"))
        return take(&r, "from") ? read_names(&r, SQLTARGET_WRITES, 0, out, max) : 0;
    for (size_t i = 0; i < sizeof(rebuilds) / sizeof(rebuilds[0]); i++)
        if (take(&r, rebuilds[i]))
            return read_rebuild(&r, rebuilds[i], out, max);
    return 0;
}

const char *
sqltarget_verb_text(enum sqltarget_verb verb)
{
    static const char *const words[] = {"alters", "indexes", "drops",    "truncates",
                                        "locks",  "writes",  "rebuilds", "creates"};

    return (size_t)verb < sizeof(words) / sizeof(words[0]) ? words[verb] : "names";
}
