/*
 * sqlcheck.c: syntax and transaction-safety checks of migration SQL with libpg_query.
 * Layer: compiler. The only file that speaks libpg_query.
 */
#include "sqlcheck.h"
#include "sqlsplit.h"
#include "sqltext.h"
#include "sealift/sqllex.h"
#include "sealift/textpos.h"
#include "sealift/xalloc.h"

#include <pg_query.h>
#include <pg_query/pg_query.pb-c.h>
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

static int
defelem_named(PgQuery__Node *const *list, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (list[i]->node_case == PG_QUERY__NODE__NODE_DEF_ELEM &&
            strcmp(list[i]->def_elem->defname, name) == 0)
            return 1;
    return 0;
}

/*
 * The statements PostgreSQL runs only outside a transaction block (PreventInTransactionBlock
 * callers in PostgreSQL 15). Returns how to name the statement, or NULL if it is fine.
 */
static const char *
needs_no_transaction(const PgQuery__Node *n)
{
    switch (n->node_case) {
    case PG_QUERY__NODE__NODE_INDEX_STMT:
        return n->index_stmt->concurrent ? "CREATE INDEX CONCURRENTLY" : NULL;
    case PG_QUERY__NODE__NODE_DROP_STMT:
        return n->drop_stmt->concurrent ? "DROP INDEX CONCURRENTLY" : NULL;
    case PG_QUERY__NODE__NODE_REINDEX_STMT: {
        const PgQuery__ReindexStmt *r = n->reindex_stmt;

        if (defelem_named(r->params, r->n_params, "concurrently"))
            return "REINDEX CONCURRENTLY";
        if (r->kind == PG_QUERY__REINDEX_OBJECT_TYPE__REINDEX_OBJECT_SCHEMA ||
            r->kind == PG_QUERY__REINDEX_OBJECT_TYPE__REINDEX_OBJECT_SYSTEM ||
            r->kind == PG_QUERY__REINDEX_OBJECT_TYPE__REINDEX_OBJECT_DATABASE)
            return "REINDEX SCHEMA, SYSTEM or DATABASE";
        return NULL;
    }
    case PG_QUERY__NODE__NODE_VACUUM_STMT:
        return n->vacuum_stmt->is_vacuumcmd ? "VACUUM" : NULL;
    case PG_QUERY__NODE__NODE_CREATEDB_STMT:
        return "CREATE DATABASE";
    case PG_QUERY__NODE__NODE_DROPDB_STMT:
        return "DROP DATABASE";
    case PG_QUERY__NODE__NODE_ALTER_SYSTEM_STMT:
        return "ALTER SYSTEM";
    case PG_QUERY__NODE__NODE_CREATE_TABLE_SPACE_STMT:
        return "CREATE TABLESPACE";
    case PG_QUERY__NODE__NODE_DROP_TABLE_SPACE_STMT:
        return "DROP TABLESPACE";
    case PG_QUERY__NODE__NODE_CREATE_SUBSCRIPTION_STMT:
        return "CREATE SUBSCRIPTION";
    case PG_QUERY__NODE__NODE_DROP_SUBSCRIPTION_STMT:
        return "DROP SUBSCRIPTION";
    case PG_QUERY__NODE__NODE_ALTER_DATABASE_STMT:
        return defelem_named(n->alter_database_stmt->options, n->alter_database_stmt->n_options,
                             "tablespace")
                   ? "ALTER DATABASE SET TABLESPACE"
                   : NULL;
    case PG_QUERY__NODE__NODE_CLUSTER_STMT:
        return n->cluster_stmt->relation == NULL ? "CLUSTER without a table" : NULL;
    case PG_QUERY__NODE__NODE_ALTER_TABLE_STMT: {
        const PgQuery__AlterTableStmt *a = n->alter_table_stmt;

        for (size_t i = 0; i < a->n_cmds; i++) {
            const PgQuery__Node *c = a->cmds[i];

            if (c->node_case == PG_QUERY__NODE__NODE_ALTER_TABLE_CMD && c->alter_table_cmd->def &&
                c->alter_table_cmd->def->node_case == PG_QUERY__NODE__NODE_PARTITION_CMD &&
                c->alter_table_cmd->def->partition_cmd->concurrent)
                return "ALTER TABLE ... DETACH PARTITION CONCURRENTLY";
        }
        return NULL;
    }
    default:
        return NULL;
    }
}

/* Transaction control that would end or nest sealift's own transaction. */
static const char *
transaction_control(const PgQuery__Node *n, int transactional)
{
    if (n->node_case != PG_QUERY__NODE__NODE_TRANSACTION_STMT)
        return NULL;
    switch (n->transaction_stmt->kind) {
    case PG_QUERY__TRANSACTION_STMT_KIND__TRANS_STMT_BEGIN:
    case PG_QUERY__TRANSACTION_STMT_KIND__TRANS_STMT_START:
        return "BEGIN";
    case PG_QUERY__TRANSACTION_STMT_KIND__TRANS_STMT_COMMIT:
        return "COMMIT";
    case PG_QUERY__TRANSACTION_STMT_KIND__TRANS_STMT_ROLLBACK:
        return "ROLLBACK";
    case PG_QUERY__TRANSACTION_STMT_KIND__TRANS_STMT_PREPARE:
        return "PREPARE TRANSACTION";
    case PG_QUERY__TRANSACTION_STMT_KIND__TRANS_STMT_COMMIT_PREPARED:
        return "COMMIT PREPARED";
    case PG_QUERY__TRANSACTION_STMT_KIND__TRANS_STMT_ROLLBACK_PREPARED:
        return "ROLLBACK PREPARED";
    default:
        /* Savepoints are fine inside our transaction, meaningless outside one. */
        return transactional ? NULL : "SAVEPOINT";
    }
}

static size_t
report_syntax_error(const char *file, const char *sql, size_t len, const PgQueryError *e,
                    struct report *rep)
{
    size_t off = e->cursorpos > 0 ? textpos_char_to_byte(sql, len, (size_t)e->cursorpos - 1) : 0;
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

/* pg_query_exit() crashes if the parser never ran; remember whether it did. */
static _Thread_local int parser_used; /* per thread, as libpg_query's memory is */

static int
is_copy_from_stdin(const PgQuery__Node *n)
{
    return n->node_case == PG_QUERY__NODE__NODE_COPY_STMT && n->copy_stmt->is_from &&
           (n->copy_stmt->filename == NULL || n->copy_stmt->filename[0] == '\0') &&
           !n->copy_stmt->is_program;
}

/* Parse sql[start, end) alone: is it one COPY ... FROM STDIN? */
static int
statement_is_copy_in(const char *sql, size_t start, size_t end)
{
    char *one = xstrndup(sql + start, end - start);
    PgQueryProtobufParseResult res = pg_query_parse_protobuf(one);
    PgQuery__ParseResult *tree = NULL;
    int yes = 0;

    if (!res.error)
        tree = pg_query__parse_result__unpack(NULL, res.parse_tree.len,
                                              (const uint8_t *)res.parse_tree.data);
    if (tree && tree->n_stmts == 1)
        yes = is_copy_from_stdin(tree->stmts[0]->stmt);
    if (tree)
        pg_query__parse_result__free_unpacked(tree, NULL);
    pg_query_free_protobuf_parse_result(res);
    free(one);
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

/* Inline COPY data found before parsing: the COPY's ';' and the data's byte range. */
struct inline_region {
    size_t semi;
    size_t start;
    size_t end;   /* exclusive; the "\." line follows */
    size_t after; /* past the "\." line */
};

/*
 * Find every COPY ... FROM STDIN whose data follows it inline (pg_dump's form), before the
 * parser sees the script: the data is not SQL. Returns problems reported.
 */
static size_t
find_inline_data(const char *file, const char *sql, size_t len, struct inline_region **out,
                 size_t *n, struct report *rep)
{
    size_t pos = 0, cap = 0, problems = 0;

    while (pos < len) {
        size_t end = sqllex_statement_end(sql, len, pos);
        size_t start, dend, after, bad;
        unsigned line, col;
        char *name;
        int r;

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
        pos = after;
    }
    return problems;
}

/* Attach its data to a COPY ... FROM STDIN statement (index idx at [loc, loc + slen)). */
static size_t
attach_copy_data(const char *file, struct src_script *s, size_t idx, size_t loc, size_t slen,
                 const struct inline_region *regions, size_t nregions, unsigned line, unsigned col,
                 struct report *rep)
{
    const char *sql = s->rendered.data;
    size_t bad;
    char *name = data_directive(sql, loc, first_token(sql, s->rendered.len, loc), &bad);
    struct src_copy c;

    memset(&c, 0, sizeof(c));
    c.stmt = idx;
    for (size_t r = 0; r < nregions && !name; r++) {
        if (regions[r].semi == loc + slen) {
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
 * Does the statement in sql[tok, end) need its parse tree? Only statements that transaction
 * control, COPY or the no-transaction rules can concern do: those that start with one of a few
 * words, or mention one of a few others. Building and reading a tree for every statement
 * would cost more than parsing itself (libpg_query serialises trees through protobuf); a false
 * positive costs one tree, a statement is never missed.
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
        for (size_t k = 0; k < sizeof(anywhere) / sizeof(anywhere[0]); k++)
            if (word_is(sql + i, w, anywhere[k]))
                return 1;
        i += w;
    }
    return 0;
}

/* The parse tree of the one statement sql[start, end) (NULL if it does not parse alone). */
static PgQuery__ParseResult *
parse_statement(const char *sql, size_t start, size_t end)
{
    char *one = xstrndup(sql + start, end - start);
    PgQueryProtobufParseResult res = pg_query_parse_protobuf(one);
    PgQuery__ParseResult *tree = NULL;

    if (!res.error)
        tree = pg_query__parse_result__unpack(NULL, res.parse_tree.len,
                                              (const uint8_t *)res.parse_tree.data);
    pg_query_free_protobuf_parse_result(res);
    free(one);
    if (tree && tree->n_stmts != 1) {
        pg_query__parse_result__free_unpacked(tree, NULL);
        tree = NULL;
    }
    return tree;
}

size_t
sqlcheck_script(const char *file, struct src_script *s, struct report *rep)
{
    const char *sql = s->rendered.data;
    size_t len = s->rendered.len;
    PgQuerySplitResult split;
    struct inline_region *regions = NULL;
    size_t nregions = 0;
    char *blank;
    size_t problems = 0;

    parser_used = 1;
    /* Inline COPY data is set aside (blanked, offsets kept) before the parser sees the SQL. */
    problems += find_inline_data(file, sql, len, &regions, &nregions, rep);
    if (problems > 0) {
        /* Data that could not be set apart would only trip the parser: one report is enough. */
        free(regions);
        return problems;
    }
    blank = xstrndup(sql, len);
    for (size_t r = 0; r < nregions; r++)
        for (size_t i = regions[r].start; i < regions[r].after; i++)
            if (blank[i] != '\n')
                blank[i] = ' ';
    /* PostgreSQL's grammar checks the whole script and says where each statement is. */
    split = pg_query_split_with_parser(blank);
    if (split.error) {
        problems += report_syntax_error(file, blank, len, split.error, rep);
        goto cleanup;
    }
    for (int i = 0; i < split.n_stmts; i++) {
        size_t loc = (size_t)split.stmts[i]->stmt_location;
        size_t slen = split.stmts[i]->stmt_len ? (size_t)split.stmts[i]->stmt_len : len - loc;
        size_t tok = first_token(blank, len, loc);
        PgQuery__ParseResult *tree = statement_needs_tree(blank, tok, loc + slen)
                                         ? parse_statement(blank, loc, loc + slen)
                                         : NULL;
        const PgQuery__Node *node = tree ? tree->stmts[0]->stmt : NULL;
        const char *what;
        unsigned line, col;
        size_t bad;
        char *directive;

        textpos_line_col(sql, len, tok, &line, &col);
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
            pg_query__parse_result__free_unpacked(tree, NULL);
            continue;
        }
        directive = data_directive(blank, loc, tok, &bad);
        if (bad != SIZE_MAX) {
            unsigned l2, c2;

            textpos_line_col(sql, len, bad, &l2, &c2);
            report_error(rep,
                         "%s:%u:%u: malformed \"-- sealift:data FILE\" directive (FILE: "
                         "letters, digits, '.', '_' and '-')",
                         file, l2, c2);
            problems++;
        }
        if (node && node->node_case == PG_QUERY__NODE__NODE_COPY_STMT &&
            !node->copy_stmt->is_from &&
            (node->copy_stmt->filename == NULL || node->copy_stmt->filename[0] == '\0') &&
            !node->copy_stmt->is_program) {
            report_error(rep, "%s:%u:%u: COPY ... TO STDOUT has no reader in a migration", file,
                         line, col);
            problems++;
        } else if (node && is_copy_from_stdin(node)) {
            problems +=
                attach_copy_data(file, s, s->nstmts, loc, slen, regions, nregions, line, col, rep);
        } else if (directive) {
            report_error(rep,
                         "%s:%u:%u: \"-- sealift:data %s\" must come right before a COPY ... "
                         "FROM STDIN statement",
                         file, line, col, directive);
            problems++;
        }
        free(directive);
        what = node ? needs_no_transaction(node) : NULL;
        if (tree)
            pg_query__parse_result__free_unpacked(tree, NULL);
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
        /* A statement after inline data starts after the data's "\." line, not in it. */
        for (size_t r = 0; r < nregions; r++) {
            if (regions[r].start >= loc && regions[r].after <= loc + slen) {
                slen -= regions[r].after - loc;
                loc = regions[r].after;
            }
        }
        s->stmts = xgrow(s->stmts, &s->stmts_cap, s->nstmts + 1, sizeof(*s->stmts));
        s->stmts[s->nstmts].offset = loc;
        s->stmts[s->nstmts].length = slen;
        s->nstmts++;
    }
cleanup:
    pg_query_free_split_result(split);
    free(regions);
    free(blank);
    return problems;
}

void
sqlcheck_shutdown(void)
{
    if (parser_used)
        pg_query_exit();
    parser_used = 0;
}
