/*
 * sqlcheck.c: syntax and transaction-safety checks of migration SQL with libpg_query.
 * Layer: compiler. The only file that speaks libpg_query.
 */
#include "sqlcheck.h"
#include "sqltext.h"
#include "sealift/xalloc.h"

#include <pg_query.h>
#include <pg_query/pg_query.pb-c.h>
#include <string.h>

/* Offset of the first token at or after off (skipping blanks and comments). */
static size_t
first_token(const char *sql, size_t len, size_t off)
{
    while (off < len) {
        if (sql[off] == ' ' || sql[off] == '\t' || sql[off] == '\n' || sql[off] == '\r') {
            off++;
        } else if (off + 1 < len && sql[off] == '-' && sql[off + 1] == '-') {
            while (off < len && sql[off] != '\n')
                off++;
        } else if (off + 1 < len && sql[off] == '/' && sql[off + 1] == '*') {
            const char *end = strstr(sql + off + 2, "*/");

            off = end ? (size_t)(end - sql) + 2 : len;
        } else {
            break;
        }
    }
    return off;
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
    size_t off = e->cursorpos > 0 ? sqltext_char_to_byte(sql, len, (size_t)e->cursorpos - 1) : 0;
    unsigned line, col;

    sqltext_position(sql, off, &line, &col);
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
static int parser_used;

size_t
sqlcheck_script(const char *file, struct src_script *s, struct report *rep)
{
    const char *sql = s->rendered.data;
    size_t len = s->rendered.len;
    PgQueryProtobufParseResult res;
    PgQuery__ParseResult *tree = NULL;
    size_t problems = 0;

    parser_used = 1;
    res = pg_query_parse_protobuf(sql);

    if (res.error) {
        problems += report_syntax_error(file, sql, len, res.error, rep);
        goto cleanup;
    }
    tree = pg_query__parse_result__unpack(NULL, res.parse_tree.len,
                                          (const uint8_t *)res.parse_tree.data);
    if (tree == NULL) {
        report_error(rep, "%s: internal error: could not read the parse tree", file);
        problems++;
        goto cleanup;
    }
    for (size_t i = 0; i < tree->n_stmts; i++) {
        const PgQuery__RawStmt *raw = tree->stmts[i];
        size_t loc = (size_t)raw->stmt_location;
        size_t slen = raw->stmt_len ? (size_t)raw->stmt_len : len - loc;
        size_t tok = first_token(sql, len, loc);
        const char *what;
        unsigned line, col;

        sqltext_position(sql, tok, &line, &col);
        what = transaction_control(raw->stmt, s->transactional);
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
        if (raw->stmt->node_case == PG_QUERY__NODE__NODE_COPY_STMT &&
            raw->stmt->copy_stmt->is_from && raw->stmt->copy_stmt->filename == NULL &&
            !raw->stmt->copy_stmt->is_program) {
            report_error(rep,
                         "%s:%u:%u: COPY ... FROM STDIN is not supported in this version of "
                         "sealift",
                         file, line, col);
            problems++;
            continue;
        }
        what = needs_no_transaction(raw->stmt);
        if (what && s->transactional) {
            report_error(rep,
                         "%s:%u:%u: %s cannot run inside a transaction; put "
                         "\"-- sealift:no-transaction\" at the top of %s",
                         file, line, col, what, file);
            problems++;
            continue;
        }
        {
            s->stmts = xgrow(s->stmts, &s->stmts_cap, s->nstmts + 1, sizeof(*s->stmts));
            s->stmts[s->nstmts].offset = loc;
            s->stmts[s->nstmts].length = slen;
            s->nstmts++;
        }
    }
cleanup:
    if (tree)
        pg_query__parse_result__free_unpacked(tree, NULL);
    pg_query_free_protobuf_parse_result(res);
    return problems;
}

void
sqlcheck_shutdown(void)
{
    if (parser_used)
        pg_query_exit();
}
