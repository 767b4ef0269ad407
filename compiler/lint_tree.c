/*
 * lint_tree.c: the lint's first stage: gather, per statement of a script, the neutral
 * operations (lint.h) its parse tree says it does, its position, its "-- sealift:allow"
 * comments and its over-long identifiers.
 * Layer: compiler. It never runs the parser nor reads a parse node: sqlcheck.c has each
 * statement parsed once, and pgnodes.c reads the operations straight from PostgreSQL's parse
 * nodes for the statements this file asks for (lint_wants_tree: DDL and data-changing statements).
 * Identifiers are measured with PostgreSQL's scanner (pgnodes_identifiers), only when a
 * statement has a run of 64 identifier bytes at all.
 */
#include "lint.h"
#include "pgnodes.h"
#include "sqlcheck.h"
#include "sqltext.h"
#include "sealift/textpos.h"
#include "sealift/xalloc.h"

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* PostgreSQL's NAMEDATALEN - 1: longer identifiers are cut (with only a NOTICE). */
#define LINT_MAX_IDENT 63

struct lint_op *
lint_add_op(struct lint_stmt *st, int kind, const char *rel, const char *name)
{
    struct lint_op *op;

    st->ops = xgrow(st->ops, &st->ops_cap, st->nops + 1, sizeof(*st->ops));
    op = &st->ops[st->nops++];
    memset(op, 0, sizeof(*op));
    op->kind = kind;
    op->rel = rel ? xstrdup(rel) : NULL;
    op->name = name ? xstrdup(name) : NULL;
    op->type.mod[0] = op->type.mod[1] = -1;
    return op;
}

/* The word at sql[*pos, end) (letters only), after blanks; its length (0: none). */
static size_t
next_word(const char *sql, size_t *pos, size_t end)
{
    size_t n = 0;

    while (*pos < end &&
           (sql[*pos] == ' ' || sql[*pos] == '\t' || sql[*pos] == '\n' || sql[*pos] == '\r'))
        (*pos)++;
    while (*pos + n < end && isalpha((unsigned char)sql[*pos + n]))
        n++;
    return n;
}

/* Is the word w (n letters) one of list (lowercase), in any case? */
static int
word_in(const char *w, size_t n, const char *const *list, size_t count)
{
    /* The first letter rules out most of the list before any comparison of the rest. */
    unsigned char first = n ? (unsigned char)tolower((unsigned char)w[0]) : 0;

    for (size_t i = 0; n && i < count; i++)
        if ((unsigned char)list[i][0] == first && strncasecmp(w, list[i], n) == 0 &&
            list[i][n] == '\0')
            return 1;
    return 0;
}

/* Does sql[from, end) contain word (any case)? */
static int
mentions(const char *sql, size_t from, size_t end, const char *word)
{
    size_t n = strlen(word);

    for (size_t i = from; i + n <= end; i++)
        if (strncasecmp(sql + i, word, n) == 0)
            return 1;
    return 0;
}

#define COUNT(a) (sizeof(a) / sizeof(*(a)))

/*
 * Does the statement at sql[tok, end) need its tree? Only statements that can lock, rewrite,
 * create or drop a table do: INSERT, SELECT, COPY, GRANT, CREATE FUNCTION or VIEW, ALTER
 * SEQUENCE... never concern a rule, and building a tree costs about as much as the parse
 * the check already did. A statement the words below do not settle gets its tree: a false
 * positive costs one tree, a statement that matters is never skipped.
 */
static int
needs_tree(const char *sql, size_t tok, size_t end)
{
    static const char *const always[] = {"reindex", "vacuum",   "cluster", "lock", "update",
                                         "delete",  "truncate", "refresh", "with"};
    /* CREATE TRIGGER, POLICY, RULE lock their table; CREATE DOMAIN's constraints matter. */
    static const char *const create_skip[] = {
        "function",   "procedure",    "view",   "type",       "extension", "schema",
        "sequence",   "role",         "user",   "aggregate",  "operator",  "cast",
        "collation",  "publication",  "server", "statistics", "event",     "language",
        "conversion", "subscription", "group",  "transform",  "database",  "tablespace",
        "recursive",  "foreign"};
    /* ALTER and DROP of these lock a table (or scan the tables of a domain). */
    static const char *const alter_what[] = {"table",   "type",   "materialized", "domain",
                                             "trigger", "policy", "rule"};
    static const char *const drop_what[] = {"table",   "index",  "materialized",
                                            "trigger", "policy", "rule"};
    static const char *const create_prefix[] = {"or",        "replace", "global",   "local",
                                                "temporary", "temp",    "unlogged", "unique"};
    size_t pos = tok, n = next_word(sql, &pos, end);
    const char *w = sql + pos;

    if (word_in(w, n, always, COUNT(always)))
        return 1;
    if (n == 6 && strncasecmp(w, "create", 6) == 0) {
        do {
            pos += n;
            n = next_word(sql, &pos, end);
        } while (n && word_in(sql + pos, n, create_prefix, COUNT(create_prefix)));
        return !word_in(sql + pos, n, create_skip, COUNT(create_skip));
    }
    if (n == 5 && strncasecmp(w, "alter", 5) == 0) {
        pos += n;
        n = next_word(sql, &pos, end);
        return word_in(sql + pos, n, alter_what, COUNT(alter_what)) || n == 0;
    }
    if (n == 4 && strncasecmp(w, "drop", 4) == 0) {
        pos += n;
        n = next_word(sql, &pos, end);
        return word_in(sql + pos, n, drop_what, COUNT(drop_what)) || n == 0 ||
               mentions(sql, pos, end, "cascade");
    }
    return 0;
}

/* A byte of an unquoted identifier (or of a keyword or number: the scanner tells them apart). */
static int
ident_byte(char c)
{
    unsigned char ch = (unsigned char)c;

    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '_' || ch == '$' || ch >= 0x80;
}

static void
long_ident_cb(const char *tok, size_t len, void *arg)
{
    struct lint_stmt *st = arg;
    size_t name_len = len >= 2 && tok[0] == '"' ? len - 2 : len;

    if (name_len > LINT_MAX_IDENT) {
        char *name = xstrndup(tok, len);

        lint_add_op(st, LINT_OP_LONG_IDENT, NULL, name);
        free(name);
    }
}

/* Identifiers over 63 bytes: PostgreSQL's own scanner says which tokens are identifiers. */
static void
long_identifiers(struct lint_stmt *st, const char *text, size_t len)
{
    int any = 0;
    char *one;

    /*
     * Cheap first: is there any run of 64 identifier bytes, or two '"' more than 63 bytes
     * apart (a longer quoted name)? A run of 64 covers every 64th byte, so only those are read
     * until one is an identifier byte.
     */
    for (size_t i = LINT_MAX_IDENT; i < len && !any; i += LINT_MAX_IDENT + 1) {
        size_t a = i, b = i + 1;

        if (!ident_byte(text[i]))
            continue;
        while (a > 0 && ident_byte(text[a - 1]))
            a--;
        while (b < len && ident_byte(text[b]))
            b++;
        any = b - a > LINT_MAX_IDENT;
    }
    for (const char *q = memchr(text, '"', len); q && !any;) {
        const char *next = memchr(q + 1, '"', len - (size_t)(q + 1 - text));

        any = next && (size_t)(next - q) - 1 > LINT_MAX_IDENT;
        q = next;
    }
    if (!any)
        return;
    one = xstrndup(text, len);
    pgnodes_identifiers(one, long_ident_cb, st);
    free(one);
}

void
lint_position_at(struct lint_position *p, size_t off, unsigned *line, unsigned *col)
{
    unsigned dl, dc;

    if (off < p->off) {
        p->off = 0;
        p->line = p->col = 1;
    }
    textpos_line_col(p->text + p->off, off - p->off, off - p->off, &dl, &dc);
    if (dl == 1) {
        p->col += dc - 1;
    } else {
        p->line += dl - 1;
        p->col = dc;
    }
    p->off = off;
    *line = p->line;
    *col = p->col;
}

/*
 * Skip blanks and comments from off; collect "-- sealift:allow" lines on the way into out
 * (unless out is NULL), their positions counted by pos.
 */
static size_t
skip_comments(const char *sql, size_t len, size_t off, struct lint_script *out, size_t stmt,
              struct lint_position *pos)
{
    while (off < len) {
        if (sql[off] == ' ' || sql[off] == '\t' || sql[off] == '\n' || sql[off] == '\r') {
            off++;
        } else if (off + 1 < len && sql[off] == '-' && sql[off + 1] == '-') {
            size_t start = off, p = off + 2;
            const char *nl = memchr(sql + off, '\n', len - off);
            size_t end = nl ? (size_t)(nl - sql) : len;

            while (p < end && (sql[p] == ' ' || sql[p] == '\t'))
                p++;
            if (out && end - p >= 13 && memcmp(sql + p, "sealift:allow", 13) == 0 &&
                (p + 13 == end || sql[p + 13] == ' ' || sql[p + 13] == '\t')) {
                struct lint_allow *a;
                size_t q = p + 13, r;

                out->allows =
                    xgrow(out->allows, &out->allows_cap, out->nallows + 1, sizeof(*out->allows));
                a = &out->allows[out->nallows++];
                memset(a, 0, sizeof(*a));
                a->stmt = stmt;
                lint_position_at(pos, start, &a->line, &a->col);
                while (q < end && (sql[q] == ' ' || sql[q] == '\t'))
                    q++;
                /* RULE[,RULE]: up to the first blank. */
                for (r = q; r < end && sql[r] != ' ' && sql[r] != '\t'; r++)
                    ;
                for (size_t b = q; b < r;) {
                    const char *comma = memchr(sql + b, ',', r - b);
                    size_t e = comma ? (size_t)(comma - sql) : r;

                    if (e > b) {
                        a->rules = xrealloc(a->rules, (a->nrules + 1) * sizeof(*a->rules));
                        a->rules[a->nrules++] = xstrndup(sql + b, e - b);
                    }
                    b = e + 1;
                }
                while (r < end && (sql[r] == ' ' || sql[r] == '\t'))
                    r++;
                {
                    size_t e = end;

                    while (e > r && (sql[e - 1] == ' ' || sql[e - 1] == '\t'))
                        e--;
                    a->too_long = e - r > LINT_MAX_REASON;
                    a->reason = e > r && !a->too_long ? xstrndup(sql + r, e - r) : NULL;
                }
            }
            off = end;
        } else if (off + 1 < len && sql[off] == '/' && sql[off + 1] == '*') {
            const char *end = strstr(sql + off + 2, "*/");

            off = end ? (size_t)(end - sql) + 2 : len;
        } else {
            break;
        }
    }
    return off;
}

int
lint_wants_tree(const char *sql, size_t start, size_t end)
{
    struct lint_position unused = {sql, 0, 1, 1};

    return needs_tree(sql, skip_comments(sql, end, start, NULL, 0, &unused), end);
}

void
lint_extract(const struct src_script *s, struct sqltrees *trees, struct lint_script *out)
{
    const char *sql = s->rendered.data;
    struct lint_position pos = {sql, 0, 1, 1};

    memset(out, 0, sizeof(*out));
    /* One entry per statement, allocated once: kept until the whole chain is judged. */
    if (s->nstmts > 0) {
        out->stmts = xcalloc(s->nstmts, sizeof(*out->stmts));
        out->stmts_cap = s->nstmts;
    }
    for (size_t i = 0; i < s->nstmts; i++) {
        size_t loc = (size_t)s->stmts[i].offset;
        size_t end = loc + (size_t)s->stmts[i].length;
        /* Comments before the first statement are the file's header: they cover all of it. */
        size_t tok = skip_comments(sql, end, loc, out, i == 0 ? SIZE_MAX : i, &pos);
        struct lint_stmt *tree = sqltrees_stmt(trees, i);
        struct lint_stmt *st;

        st = &out->stmts[out->nstmts++];
        st->offset = tok; /* its line and column: only if it gets a finding (lint.c) */
        if (tok >= end)
            continue;
        /* Operations are there only where lint_wants_tree asked for them: taken, not copied. */
        if (tree) {
            st->ops = tree->ops;
            st->nops = tree->nops;
            st->ops_cap = tree->ops_cap;
            tree->ops = NULL;
            tree->nops = tree->ops_cap = 0;
        }
        long_identifiers(st, sql + tok, end - tok);
    }
}

void
lint_stmt_release_ops(struct lint_stmt *st)
{
    for (size_t j = 0; j < st->nops; j++) {
        struct lint_op *op = &st->ops[j];

        free(op->rel);
        free(op->name);
        free(op->other);
        free(op->type.name);
    }
    free(st->ops);
    st->ops = NULL;
    st->nops = st->ops_cap = 0;
}

void
lint_script_release(struct lint_script *ls)
{
    for (size_t i = 0; i < ls->nstmts; i++)
        lint_stmt_release_ops(&ls->stmts[i]);
    free(ls->stmts);
    for (size_t i = 0; i < ls->nallows; i++) {
        for (size_t j = 0; j < ls->allows[i].nrules; j++)
            free(ls->allows[i].rules[j]);
        free(ls->allows[i].rules);
        free(ls->allows[i].reason);
    }
    free(ls->allows);
    memset(ls, 0, sizeof(*ls));
}
