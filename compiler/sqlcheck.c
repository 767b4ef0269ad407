/*
 * sqlcheck.c: syntax and transaction-safety checks of migration SQL with PostgreSQL's parser.
 * Layer: compiler. It does not speak libpg_query itself: pgnodes.c (the one file that does)
 * parses each script once, whole, and reads what the checks here and the lint ask of each
 * statement straight from PostgreSQL's own parse nodes. No tree is serialised: libpg_query's
 * JSON and protobuf forms cost more to write and read back than the parse itself.
 */
#include "sqlcheck.h"
#include "pgnodes.h"
#include "sqlsplit.h"
#include "sqltext.h"
#include "sealift/sqllex.h"
#include "sealift/textpos.h"
#include "sealift/xalloc.h"

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Offset of the first token at or after off (skipping blanks and comments). */
static size_t
first_token(const char *sql, size_t len, size_t off)
{
    return sqllex_skip_blank(sql, len, off);
}

/* Transaction control that would end or nest sealift's own transaction: how to name it. */
static const char *
transaction_control(const struct pgstmt *p, int transactional)
{
    /* Savepoints are fine inside our transaction, meaningless outside one. */
    if (p->savepoint && transactional)
        return NULL;
    return p->txn;
}

/*
 * The text the parser reads: the script with its inline COPY data cut out (each region's data
 * lines and "\." line), so that no data, however large, reaches the parser. The statements
 * keep their text, and the blanks and comments between them theirs; an offset in it maps back
 * to the script's, for messages and for the statement ranges recorded.
 */
struct cut_text {
    const char *text; /* the script itself when nothing is cut; else own */
    size_t len;
    char *own;
    size_t ncuts;
    size_t *at;      /* per cut: its offset in text, where the removed bytes were */
    size_t *removed; /* per cut: bytes removed by it and every cut before it */
};

/* The script's offset of offset q of the cut text (a byte after a cut maps past its data). */
static size_t
cut_to_script(const struct cut_text *ct, size_t q)
{
    size_t lo = 0, hi = ct->ncuts;

    /* The number of cuts at or before q. */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (ct->at[mid] <= q)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo ? q + ct->removed[lo - 1] : q;
}

static size_t
report_syntax_error(const char *file, const struct cut_text *ct, const char *sql, size_t len,
                    const struct pgnodes_error *e, struct report *rep)
{
    /* The parser counts characters of the cut text; the message, lines of the script. */
    size_t at =
        e->cursorpos > 0 ? textpos_char_to_byte(ct->text, ct->len, (size_t)e->cursorpos - 1) : 0;
    size_t off = cut_to_script(ct, at);
    unsigned line, col;

    textpos_line_col(sql, len, off, &line, &col);
    if (off < len && sql[off] == '\\') {
        size_t end = off + 1;

        while (end < len && end - off < 16 && sql[end] != ' ' && sql[end] != '\n')
            end++;
        report_error(rep,
                     "%s:%u:%u: psql meta-command \"%.*s\" is not supported (sealift sends SQL "
                     "to the server, not to psql)",
                     file, line, col, (int)(end - off), sql + off);
    } else if (e->cursorpos > 0) {
        report_error(rep, "%s:%u:%u: %s", file, line, col, e->message);
    } else {
        report_error(rep, "%s: %s", file, e->message);
    }
    return 1;
}

/* ---- the parser: parse nodes are read once (pgnodes.c), for the checks and the lint ---- */

/* A statement as the parser delimited it in the script, with its tree when one was built. */
struct parsed_stmt {
    size_t loc;
    size_t len;
    size_t tree; /* 1 + its index in the trees' parsed statements; 0: none */
};

struct parsed_list {
    struct parsed_stmt *v;
    size_t n;
    size_t cap;
};

static void
parsed_add(struct parsed_list *l, size_t loc, size_t len, size_t tree)
{
    l->v = xgrow(l->v, &l->cap, l->n + 1, sizeof(*l->v));
    l->v[l->n].loc = loc;
    l->v[l->n].len = len;
    l->v[l->n].tree = tree;
    l->n++;
}

/*
 * Parse sql[start, end) and read its statements' parse nodes into t (with the lint's
 * operations when lint is set); append the statements (offsets in sql) to out. Returns 0, or
 * -1 if the text does not parse.
 */
static int
parse_with_trees(const char *sql, size_t start, size_t end, int lint, struct sqltrees *t,
                 struct parsed_list *out)
{
    /* The parser wants a NUL-terminated text: a copy, unless the range ends sql already. */
    char *one = sql[end] == '\0' ? NULL : xstrndup(sql + start, end - start);
    size_t first = t->parsed.n;
    int rc = pgnodes_parse(one ? one : sql + start, lint, &t->parsed);

    free(one);
    if (rc != 0)
        return -1;
    for (size_t k = first; k < t->parsed.n; k++) {
        size_t loc = start + t->parsed.v[k].loc;
        size_t len = t->parsed.v[k].len;

        parsed_add(out, loc, len ? len : end - loc, k + 1);
    }
    return 0;
}

/* Parse sql[loc, loc + len) alone, with its tree: the tree, or 0 if it is not one statement. */
static size_t
parse_one(const char *sql, size_t loc, size_t len, int lint, struct sqltrees *t)
{
    struct parsed_list one = {NULL, 0, 0};
    size_t ref = 0;

    if (parse_with_trees(sql, loc, loc + len, lint, t, &one) == 0 && one.n == 1)
        ref = one.v[0].tree;
    free(one.v);
    return ref;
}

/* Parse sql[start, end) alone: is it one COPY ... FROM STDIN? */
static int
statement_is_copy_in(const char *sql, size_t start, size_t end)
{
    struct sqltrees t = SQLTREES_INIT;
    size_t ref = parse_one(sql, start, end - start, 0, &t);
    int yes = ref && t.parsed.v[ref - 1].copy == PGSTMT_COPY_FROM_STDIN;

    sqltrees_release(&t);
    return yes;
}

/* What data_directive() looks for in each "--" comment. */
struct data_find {
    size_t base;   /* offset of the text walked in the script */
    size_t bad_at; /* of a malformed directive, or SIZE_MAX */
    char *name;
};

static int
data_comment_cb(const char *text, size_t start, size_t end, void *arg)
{
    struct data_find *f = arg;
    size_t j = start + 2, a, b;

    while (j < end && (text[j] == ' ' || text[j] == '\t'))
        j++;
    if (end - j < 12 || memcmp(text + j, "sealift:data", 12) != 0)
        return 0;
    a = j + 12;
    while (a < end && (text[a] == ' ' || text[a] == '\t'))
        a++;
    b = a;
    while (b < end &&
           (isalnum((unsigned char)text[b]) || text[b] == '.' || text[b] == '_' || text[b] == '-'))
        b++;
    while (end > b && (text[end - 1] == ' ' || text[end - 1] == '\t'))
        end--;
    if (b == a || b != end || text[a] == '.')
        f->bad_at = f->base + j;
    else
        f->name = xstrndup(text + a, b - a);
    return 1;
}

/*
 * The "-- sealift:data NAME" directive among the comment lines in sql[from, to) (before a
 * statement's first token). Returns the malloc'd NAME, or NULL; *bad_at is the offset of a
 * malformed directive, or SIZE_MAX.
 */
static char *
data_directive(const char *sql, size_t from, size_t to, size_t *bad_at)
{
    struct data_find f = {from, SIZE_MAX, NULL};

    /* Comments by the project's lexer: a "--" line inside a block comment is none. */
    sqllex_line_comments(sql + from, to - from, data_comment_cb, &f);
    *bad_at = f.bad_at;
    return f.name;
}

/*
 * A statement as the project's lexer delimits it, before the parser runs: [start, end) of the
 * cut text (struct cut_text), end at its ';' or the text's end; and whether the checks here
 * need its tree (checked). The parser's statements are the same ranges where the two agree, so
 * that the question is asked once per statement.
 */
struct chunk {
    size_t start;
    size_t end;
    unsigned char checked;
};

struct chunk_list {
    struct chunk *v;
    size_t n;
    size_t cap;
};

/* Inline COPY data found before parsing: the COPY's ';' and the data's byte range. */
struct inline_region {
    size_t semi;
    size_t start;
    size_t end;   /* exclusive; the "\." line follows */
    size_t after; /* past the "\." line */
};

/*
 * Find every COPY ... FROM STDIN whose data follows it inline (pg_dump's form), before the
 * parser sees the script: the data is not SQL. On the way, append every statement the lexer
 * finds to chunks, in offsets of the text with the data cut out. Returns problems reported.
 */
static size_t
find_inline_data(const char *file, const char *sql, size_t len, struct inline_region **out,
                 size_t *n, struct chunk_list *chunks, struct report *rep)
{
    size_t pos = 0, cap = 0, problems = 0, removed = 0;

    while (pos < len) {
        size_t end = sqllex_statement_end(sql, len, pos);
        size_t start, dend, after, bad;
        unsigned line, col;
        char *name;
        int r;

        /* Its start is past the previous ';' (inline data before it is cut out). */
        chunks->v = xgrow(chunks->v, &chunks->cap, chunks->n + 1, sizeof(*chunks->v));
        chunks->v[chunks->n].start = chunks->n ? chunks->v[chunks->n - 1].end + 1 : 0;
        chunks->v[chunks->n].end = end - removed;
        chunks->n++;

        if (end >= len || !sqlsplit_starts_with_copy(sql + pos, end - pos) ||
            !statement_is_copy_in(sql, pos, end)) {
            pos = end + 1;
            continue;
        }
        name = data_directive(sql, pos, first_token(sql, len, pos), &bad);
        if (name) { /* its data is a file; nothing inline follows */
            free(name);
            pos = end + 1;
            continue;
        }
        r = sqlsplit_copy_data(sql, len, end, &start, &dend, &after);
        textpos_line_col(sql, len, first_token(sql, len, pos), &line, &col);
        if (r == -1) {
            unsigned l2, c2;

            textpos_line_col(sql, len, start, &l2, &c2);
            report_error(rep,
                         "%s:%u:%u: nothing may follow COPY ... FROM STDIN on its line: its "
                         "data starts on the next line",
                         file, l2, c2);
            problems++;
            pos = end + 1;
            continue;
        }
        if (r == -2) {
            report_error(rep,
                         "%s:%u:%u: COPY ... FROM STDIN has no data: end its data lines with a "
                         "line \"\\.\", or name a data file with \"-- sealift:data FILE\" before "
                         "it",
                         file, line, col);
            return problems + 1;
        }
        *out = xgrow(*out, &cap, *n + 1, sizeof(**out));
        (*out)[*n].semi = end;
        (*out)[*n].start = start;
        (*out)[*n].end = dend;
        (*out)[*n].after = after;
        (*n)++;
        removed += after - start;
        pos = after;
    }
    return problems;
}

/* Cut the inline data regions out of sql for the parser (see struct cut_text). */
static void
cut_text_init(struct cut_text *ct, const char *sql, size_t len, const struct inline_region *regions,
              size_t nregions)
{
    size_t w = 0, from = 0, removed = 0;

    memset(ct, 0, sizeof(*ct));
    ct->text = sql;
    ct->len = len;
    if (nregions == 0)
        return;
    for (size_t r = 0; r < nregions; r++)
        removed += regions[r].after - regions[r].start;
    ct->own = xmalloc(len - removed + 1);
    ct->at = xcalloc(nregions, sizeof(*ct->at));
    ct->removed = xcalloc(nregions, sizeof(*ct->removed));
    removed = 0;
    for (size_t r = 0; r < nregions; r++) {
        memcpy(ct->own + w, sql + from, regions[r].start - from);
        w += regions[r].start - from;
        removed += regions[r].after - regions[r].start;
        ct->at[r] = w;
        ct->removed[r] = removed;
        from = regions[r].after;
    }
    memcpy(ct->own + w, sql + from, len - from);
    w += len - from;
    ct->own[w] = '\0';
    ct->text = ct->own;
    ct->len = w;
    ct->ncuts = nregions;
}

static void
cut_text_release(struct cut_text *ct)
{
    free(ct->own);
    free(ct->at);
    free(ct->removed);
    memset(ct, 0, sizeof(*ct));
}

/*
 * Attach its data to a COPY ... FROM STDIN statement (index idx, its ';' at offset semi of the
 * script): the file of its "-- sealift:data" directive (name, malloc'd, taken; NULL: none), or
 * the inline data after it.
 */
static size_t
attach_copy_data(const char *file, struct src_script *s, size_t idx, char *name, size_t semi,
                 const struct inline_region *regions, size_t nregions, unsigned line, unsigned col,
                 struct report *rep)
{
    struct src_copy c;

    memset(&c, 0, sizeof(c));
    c.stmt = idx;
    for (size_t r = 0; r < nregions && !name; r++) {
        if (regions[r].semi == semi) {
            c.inline_data = 1;
            c.offset = regions[r].start;
            c.length = regions[r].end - regions[r].start;
        }
    }
    if (!name && !c.inline_data) {
        report_error(rep,
                     "%s:%u:%u: COPY ... FROM STDIN has no data: put its data lines after it, "
                     "ended by a line \"\\.\", or name a data file with \"-- sealift:data "
                     "FILE\" before it",
                     file, line, col);
        return 1;
    }
    c.name = name;
    s->copies = xgrow(s->copies, &s->copies_cap, s->ncopies + 1, sizeof(*s->copies));
    s->copies[s->ncopies++] = c;
    return 0;
}

/* Does word w (length n, any case) equal the lowercase keyword k? */
static int
word_is(const char *w, size_t n, const char *k)
{
    return strlen(k) == n && strncasecmp(w, k, n) == 0;
}

/*
 * Do the checks here judge the statement in sql[tok, end)? Only statements that transaction
 * control, COPY or the no-transaction rules can concern: those that start with one of a few
 * words, or mention one of a few others. (It chose which statements needed a serialised tree,
 * when trees were serialised; every statement's nodes are read now, so it is only a
 * superset of the statements those rules concern: a statement is never missed.)
 */
static int
statement_needs_tree(const char *sql, size_t tok, size_t end)
{
    static const char *const first[] = {"begin",   "start",   "commit",    "end",     "rollback",
                                        "abort",   "prepare", "savepoint", "release", "vacuum",
                                        "reindex", "cluster", "copy"};
    static const char *const anywhere[] = {"concurrently", "database", "system", "tablespace",
                                           "subscription"};
    size_t i = tok, n = 0;

    while (tok + n < end && (isalpha((unsigned char)sql[tok + n]) || sql[tok + n] == '_'))
        n++;
    for (size_t k = 0; k < sizeof(first) / sizeof(first[0]); k++)
        if (word_is(sql + tok, n, first[k]))
            return 1;
    while (i < end) {
        size_t w = 0;

        while (i < end && !(isalpha((unsigned char)sql[i]) || sql[i] == '_'))
            i++;
        while (i + w < end && (isalnum((unsigned char)sql[i + w]) || sql[i + w] == '_'))
            w++;
        /* The words above are 6 to 12 letters long, and most words of a statement are not. */
        for (size_t k = 0; w >= 6 && w <= 12 && k < sizeof(anywhere) / sizeof(anywhere[0]); k++)
            if (word_is(sql + i, w, anywhere[k]))
                return 1;
        i += w;
    }
    return 0;
}

/*
 * Delimit the statements of ct (the script, inline data cut out) with PostgreSQL's grammar,
 * parsing the script once, and read into t what the checks here and the caller (the lint,
 * when want is set) ask of each statement's parse nodes: reading the nodes costs little next to
 * the parse, so every statement is parsed alike (when trees were serialised, only runs of the
 * statements that needed one were). The project's lexer has cut the script where statements
 * end (chunks): which of them the checks judge (statement_needs_tree) is asked once per chunk,
 * here (which trees the caller wants, after the parse: sqlcheck_script). Where the parse fails (a
 * syntax error), the grammar's split says where and the script has no statements. t must be empty.
 * Returns the number of problems reported (a syntax error).
 */
static size_t
parse_script(const char *file, const struct src_script *s, const struct cut_text *ct,
             struct chunk_list *chunks, sqlcheck_want_cb want, struct sqltrees *t,
             struct parsed_list *out, struct report *rep)
{
    struct pgstmt_list split = {NULL, 0, 0};
    struct pgnodes_error err = {NULL, 0};
    const char *text = ct->text;
    size_t len = ct->len;

    for (size_t i = 0; i < chunks->n; i++) {
        struct chunk *c = &chunks->v[i];

        c->checked =
            (unsigned char)statement_needs_tree(text, first_token(text, len, c->start), c->end);
    }
    if (parse_with_trees(text, 0, len, want != NULL, t, out) == 0)
        return 0;
    out->n = 0;
    chunks->n = 0; /* nothing planned holds */
    sqltrees_release(t);
    /* PostgreSQL's grammar checks the whole script and says where each statement is. */
    if (pgnodes_split(text, &split, &err) != 0) {
        size_t problems =
            report_syntax_error(file, ct, s->rendered.data, s->rendered.len, &err, rep);

        pgnodes_error_release(&err);
        return problems;
    }
    for (size_t i = 0; i < split.n; i++) {
        size_t loc = split.v[i].loc;

        parsed_add(out, loc, split.v[i].len ? split.v[i].len : len - loc, 0);
    }
    pgstmt_list_release(&split);
    return 0;
}

size_t
sqlcheck_script(const char *file, struct src_script *s, sqlcheck_want_cb want,
                struct sqltrees *trees, struct report *rep)
{
    const char *sql = s->rendered.data;
    size_t len = s->rendered.len;
    struct inline_region *regions = NULL;
    struct parsed_list list = {NULL, 0, 0};
    struct sqltrees own = SQLTREES_INIT;
    /* The checks here need trees too: without a caller's, they go in own. */
    struct sqltrees *t = trees ? trees : &own;
    struct chunk_list chunks = {NULL, 0, 0};
    size_t nregions = 0, c = 0;
    struct cut_text ct;
    const char *text;
    size_t tlen;
    size_t problems = 0;

    if (trees == NULL)
        want = NULL;
    /* Inline COPY data is cut out before the parser sees the SQL (struct cut_text). */
    problems += find_inline_data(file, sql, len, &regions, &nregions, &chunks, rep);
    if (problems > 0) {
        /* Data that could not be set apart would only trip the parser: one report is enough. */
        free(chunks.v);
        free(regions);
        return problems;
    }
    cut_text_init(&ct, sql, len, regions, nregions);
    text = ct.text;
    tlen = ct.len;
    /* On a syntax error, list is empty. Offsets in list, chunks, loc and tok are of text. */
    problems += parse_script(file, s, &ct, &chunks, want, t, &list, rep);
    for (size_t i = 0; i < list.n; i++) {
        size_t loc = list.v[i].loc, slen = list.v[i].len;
        size_t tok = first_token(text, tlen, loc);
        /* The statement's range in the script: its ';' (or the end) is past any data cut. */
        size_t run_loc = cut_to_script(&ct, loc);
        size_t semi = cut_to_script(&ct, loc + slen);
        size_t run_len = semi - run_loc;
        int checked, wanted, planned;
        size_t ref = list.v[i].tree;
        const struct pgstmt *node;
        const char *what;
        unsigned line, col;
        size_t bad;
        char *directive;

        /* A statement after inline data starts after the data's "\." line, not in it. */
        int cut = run_len != slen;

        for (size_t r = 0; cut && r < nregions; r++) {
            if (regions[r].start >= run_loc && regions[r].after <= run_loc + run_len) {
                run_len -= regions[r].after - run_loc;
                run_loc = regions[r].after;
            }
        }
        /* The questions the plan asked of the same range; else asked now. */
        while (c < chunks.n && chunks.v[c].end < loc + slen)
            c++;
        planned = c < chunks.n && chunks.v[c].start == loc && chunks.v[c].end == loc + slen && !cut;
        /* Only the statements these rules can concern are judged, whatever trees exist. */
        checked = planned ? chunks.v[c].checked : statement_needs_tree(text, tok, loc + slen);
        /*
         * The caller is asked only about a statement whose parse gave it operations (or that has
         * no nodes yet): a tree with none adds nothing, and most statements of a chain (INSERT,
         * GRANT, CREATE FUNCTION...) have none.
         */
        wanted = want && (ref == 0 || t->parsed.v[ref - 1].lint.nops > 0) &&
                 (planned ? want(text, loc, loc + slen) : want(sql, run_loc, run_loc + run_len));
        /* No nodes were read for it (the script's parse failed, its split did not): alone. */
        if ((checked || wanted) && ref == 0)
            ref = parse_one(text, loc, slen, want != NULL, t);
        node = checked && ref ? &t->parsed.v[ref - 1] : NULL;
        textpos_line_col(sql, len, cut_to_script(&ct, tok), &line, &col);
        what = node ? transaction_control(node, s->transactional) : NULL;
        if (what) {
            report_error(rep,
                         "%s:%u:%u: %s is not allowed in a migration: sealift runs each "
                         "migration in its own transaction%s",
                         file, line, col, what,
                         s->transactional ? ""
                                          : " (and a no-transaction one statement by "
                                            "statement, outside any)");
            problems++;
            continue;
        }
        directive = data_directive(text, loc, tok, &bad);
        if (bad != SIZE_MAX) {
            unsigned l2, c2;

            textpos_line_col(sql, len, cut_to_script(&ct, bad), &l2, &c2);
            report_error(rep,
                         "%s:%u:%u: malformed \"-- sealift:data FILE\" directive (FILE: "
                         "letters, digits, '.', '_' and '-')",
                         file, l2, c2);
            problems++;
        }
        if (node && node->copy == PGSTMT_COPY_TO_STDOUT) {
            report_error(rep, "%s:%u:%u: COPY ... TO STDOUT has no reader in a migration", file,
                         line, col);
            problems++;
        } else if (node && node->copy == PGSTMT_COPY_FROM_STDIN) {
            problems += attach_copy_data(file, s, s->nstmts, directive, semi, regions, nregions,
                                         line, col, rep);
            directive = NULL; /* taken */
        } else if (directive) {
            report_error(rep,
                         "%s:%u:%u: \"-- sealift:data %s\" must come right before a COPY ... "
                         "FROM STDIN statement",
                         file, line, col, directive);
            problems++;
        }
        free(directive);
        what = node ? node->no_tx : NULL;
        if (what && s->transactional && s->may_block) {
            /*
             * An imported down the source tool itself could not run: it compiles, as a down
             * that cannot run as written (the pipeline warns; rollback refuses to cross it).
             * The first such statement says why; the statement stays in the script.
             */
            if (s->blocked == NULL)
                s->blocked = xasprintf(
                    "%s:%u:%u: %s cannot run inside a transaction (fix: %s)", file, line, col, what,
                    s->no_tx_hint ? s->no_tx_hint : "run the down outside a transaction");
        } else if (what && s->transactional) {
            /* A reader of another format knows how that format says it (no_tx_hint). */
            if (s->no_tx_hint)
                report_error(rep, "%s:%u:%u: %s cannot run inside a transaction; %s", file, line,
                             col, what, s->no_tx_hint);
            else
                report_error(rep,
                             "%s:%u:%u: %s cannot run inside a transaction; put "
                             "\"-- sealift:no-transaction\" at the top of %s",
                             file, line, col, what, file);
            problems++;
            continue;
        }
        s->stmts = xgrow(s->stmts, &s->stmts_cap, s->nstmts + 1, sizeof(*s->stmts));
        s->stmts[s->nstmts].offset = run_loc;
        s->stmts[s->nstmts].length = run_len;
        s->nstmts++;
        if (trees) {
            trees->refs =
                xgrow(trees->refs, &trees->refs_cap, trees->nrefs + 1, sizeof(*trees->refs));
            trees->refs[trees->nrefs++] = wanted ? ref : 0;
        }
    }
    sqltrees_release(&own);
    free(chunks.v);
    free(list.v);
    free(regions);
    cut_text_release(&ct);
    return problems;
}

struct lint_stmt *
sqltrees_stmt(struct sqltrees *t, size_t i)
{
    if (t == NULL || i >= t->nrefs || t->refs[i] == 0)
        return NULL;
    return &t->parsed.v[t->refs[i] - 1].lint;
}

void
sqltrees_release(struct sqltrees *t)
{
    pgstmt_list_release(&t->parsed);
    free(t->refs);
    memset(t, 0, sizeof(*t));
}

void
sqlcheck_shutdown(void)
{
    pgnodes_shutdown();
}
