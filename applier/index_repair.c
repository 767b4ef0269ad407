/*
 * index_repair.c: rerunning a no-transaction migration after an interrupted concurrent index
 * build: what the statement builds (read with the project's lexer), what an earlier run left
 * INVALID, and dropping it (see index_repair.h).
 * Layer: applier. SQL goes through db.h.
 */
#include "index_repair.h"
#include "sealift/buf.h"
#include "sealift/sqllex.h"
#include "sealift/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum tok_type { TOK_END, TOK_WORD, TOK_QUOTED, TOK_PUNCT };

struct tok {
    enum tok_type type;
    char text[INDEX_NAME_MAX + 1]; /* a word folded to lower case, a quoted name unquoted */
};

/* Cut s to INDEX_NAME_MAX bytes, at a UTF-8 character boundary, as the server does. */
static void
clip_name(char *s)
{
    size_t n = strlen(s);

    if (n <= INDEX_NAME_MAX)
        return;
    n = INDEX_NAME_MAX;
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
        n--;
    s[n] = '\0';
}

/* The token at *i (blanks and comments skipped); *i moves past it. */
static void
next_tok(const char *text, size_t len, size_t *i, struct tok *t)
{
    size_t p = sqllex_skip_blank(text, len, *i), k = 0;
    char buf[256];

    t->text[0] = '\0';
    if (p >= len) {
        t->type = TOK_END;
        *i = len;
        return;
    }
    if (text[p] == '"') {
        size_t end = sqllex_skip(text, len, p);

        /* Between the quotes, "" is one quote. */
        for (size_t q = p + 1; q + 1 < end && k + 1 < sizeof(buf); q++) {
            buf[k++] = text[q];
            if (text[q] == '"')
                q++;
        }
        buf[k] = '\0';
        t->type = TOK_QUOTED;
        *i = end;
    } else if (sqllex_ident_char(text[p]) && !(text[p] >= '0' && text[p] <= '9')) {
        size_t q = p;

        while (q < len && (sqllex_ident_char(text[q]) || text[q] == '$')) {
            if (k + 1 < sizeof(buf))
                buf[k++] =
                    (text[q] >= 'A' && text[q] <= 'Z') ? (char)(text[q] - 'A' + 'a') : text[q];
            q++;
        }
        buf[k] = '\0';
        t->type = TOK_WORD;
        *i = q;
    } else {
        buf[0] = text[p];
        buf[1] = '\0';
        t->type = TOK_PUNCT;
        *i = p + 1;
    }
    clip_name(buf); /* now at most INDEX_NAME_MAX bytes: it fits t->text */
    memcpy(t->text, buf, strlen(buf) + 1);
}

static int
is_word(const struct tok *t, const char *w)
{
    return t->type == TOK_WORD && strcmp(t->text, w) == 0;
}

static int
is_name(const struct tok *t)
{
    return t->type == TOK_WORD || t->type == TOK_QUOTED;
}

/*
 * A name, maybe qualified, starting with the token t: into schema ("" when not qualified) and
 * name. Returns 1, or 0 when t is no name.
 */
static int
qualified_name(const char *text, size_t len, size_t *i, struct tok *t, char *schema, char *name)
{
    size_t save;
    struct tok dot, second;

    if (!is_name(t))
        return 0;
    schema[0] = '\0';
    strcpy(name, t->text);
    save = *i;
    next_tok(text, len, i, &dot);
    if (dot.type == TOK_PUNCT && dot.text[0] == '.') {
        next_tok(text, len, i, &second);
        if (!is_name(&second))
            return 0;
        strcpy(schema, name);
        strcpy(name, second.text);
    } else {
        *i = save;
    }
    return 1;
}

/* CREATE [UNIQUE] INDEX CONCURRENTLY [IF NOT EXISTS] name ON [ONLY] [schema.]table */
static int
parse_create(const char *text, size_t len, size_t i, struct index_build *b)
{
    struct tok t;

    next_tok(text, len, &i, &t);
    if (is_word(&t, "unique"))
        next_tok(text, len, &i, &t);
    if (!is_word(&t, "index"))
        return 0;
    next_tok(text, len, &i, &t);
    if (!is_word(&t, "concurrently"))
        return 0;
    next_tok(text, len, &i, &t);
    if (is_word(&t, "if")) {
        next_tok(text, len, &i, &t);
        if (!is_word(&t, "not"))
            return 0;
        next_tok(text, len, &i, &t);
        if (!is_word(&t, "exists"))
            return 0;
        next_tok(text, len, &i, &t);
    }
    /* Unquoted, ON is the keyword: the server picks the name, and a rerun takes another. */
    if (!is_name(&t) || is_word(&t, "on"))
        return 0;
    strcpy(b->name, t.text);
    next_tok(text, len, &i, &t);
    if (!is_word(&t, "on"))
        return 0;
    next_tok(text, len, &i, &t);
    if (is_word(&t, "only"))
        next_tok(text, len, &i, &t);
    if (!qualified_name(text, len, &i, &t, b->schema, b->table))
        return 0;
    b->kind = INDEX_BUILD_CREATE;
    return 1;
}

/* REINDEX [( option [, ...] )] {INDEX | TABLE} [CONCURRENTLY] [schema.]name */
static int
parse_reindex(const char *text, size_t len, size_t i, struct index_build *b)
{
    struct tok t;
    int concurrently = 0;
    enum index_build_kind kind;

    next_tok(text, len, &i, &t);
    if (t.type == TOK_PUNCT && t.text[0] == '(') {
        /* PostgreSQL 14's option list: CONCURRENTLY [ boolean ] among others. */
        int after = 0;

        for (next_tok(text, len, &i, &t); t.type != TOK_END; next_tok(text, len, &i, &t)) {
            if (t.type == TOK_PUNCT && t.text[0] == ')')
                break;
            if (after && (is_word(&t, "false") || is_word(&t, "off") || strcmp(t.text, "0") == 0))
                concurrently = 0;
            after = is_word(&t, "concurrently");
            if (after)
                concurrently = 1;
        }
        if (t.type == TOK_END)
            return 0;
        next_tok(text, len, &i, &t);
    }
    if (is_word(&t, "index"))
        kind = INDEX_BUILD_REINDEX_INDEX;
    else if (is_word(&t, "table"))
        kind = INDEX_BUILD_REINDEX_TABLE;
    else
        return 0;
    next_tok(text, len, &i, &t);
    if (is_word(&t, "concurrently")) {
        concurrently = 1;
        next_tok(text, len, &i, &t);
    }
    if (!concurrently || !qualified_name(text, len, &i, &t, b->schema, b->name))
        return 0;
    b->kind = kind;
    return 1;
}

int
index_build_parse(const char *stmt, size_t len, struct index_build *b)
{
    struct tok t;
    size_t i = 0;
    int ok = 0;

    memset(b, 0, sizeof(*b));
    next_tok(stmt, len, &i, &t);
    if (is_word(&t, "create"))
        ok = parse_create(stmt, len, i, b);
    else if (is_word(&t, "reindex"))
        ok = parse_reindex(stmt, len, i, b);
    if (!ok)
        memset(b, 0, sizeof(*b));
    return ok;
}

/* ---- against the database ---- */

static const char *const statement_words[] = {
    "", "CREATE INDEX CONCURRENTLY", "REINDEX INDEX CONCURRENTLY", "REINDEX TABLE CONCURRENTLY"};

/* [schema.]name as regclass input text, quoted, as an SQL literal. */
static void
add_regclass_literal(struct buf *sql, const char *schema, const char *name)
{
    struct buf text = BUF_INIT;
    char *q;

    if (schema[0]) {
        q = db_quote_ident(schema);
        buf_addf(&text, "%s.", q);
        free(q);
    }
    q = db_quote_ident(name);
    buf_addstr(&text, q);
    free(q);
    db_add_literal(sql, text.data);
    buf_release(&text);
}

/*
 * Another backend building index OID expr: its pg_stat_progress_create_index row. A client
 * killed mid-build (kill -9 does not stop the server's statement) leaves the index INVALID
 * until that build ends: it must not be dropped, or the drop would wait for the build and then
 * remove the index it finished. (Not pg_locks: every query planned on the table briefly locks
 * its indexes, INVALID ones too. The row of another role's backend hides index_relid unless
 * the applier's role has pg_read_all_stats; the build's own role, the usual case, sees it.)
 */
static void
add_busy_pid(struct buf *sql, const char *oid_expr)
{
    buf_addf(sql,
             "(SELECT min(p.pid) FROM pg_stat_progress_create_index p WHERE p.index_relid = %s "
             "AND p.pid <> pg_backend_pid())",
             oid_expr);
}

/*
 * The index a CREATE builds, as the server resolves the table: one row (qualified name, a
 * relation of that name exists, it is an index of that table, it is valid, the pid of another
 * backend working on it), or none when the table does not exist.
 */
static void
sql_create_target(const struct index_build *b, struct buf *sql)
{
    buf_addstr(sql, "SELECT format('%I.%I', n.nspname, ");
    db_add_literal(sql, b->name);
    buf_addstr(sql, "), ci.oid IS NOT NULL, i.indrelid IS NOT DISTINCT FROM t.oid, i.indisvalid, ");
    add_busy_pid(sql, "ci.oid");
    buf_addstr(sql, " FROM pg_class t JOIN pg_namespace n ON n.oid = t.relnamespace "
                    "LEFT JOIN pg_class ci ON ci.relnamespace = t.relnamespace AND ci.relname = ");
    db_add_literal(sql, b->name);
    buf_addstr(sql, " LEFT JOIN pg_index i ON i.indexrelid = ci.oid WHERE t.oid = to_regclass(");
    add_regclass_literal(sql, b->schema, b->table);
    buf_addstr(sql, ")");
}

/*
 * The INVALID leftovers of a REINDEX CONCURRENTLY: indexes of the same table and schema named
 * after an index it rebuilds with _ccnew or _ccold and maybe a number (the server cuts the
 * base of a long name to fit 63 bytes). One row per index: its qualified name, and the pid of
 * another backend working on it.
 */
static void
sql_reindex_leftovers(const struct index_build *b, struct buf *sql)
{
    buf_addstr(sql, "SELECT format('%I.%I', n.nspname, ci.relname), ");
    add_busy_pid(sql, "ci.oid");
    buf_addstr(sql,
               " FROM pg_class ci JOIN pg_namespace n ON n.oid = ci.relnamespace WHERE ci.oid IN "
               "(SELECT i.indexrelid FROM pg_index x JOIN pg_class cx ON cx.oid = x.indexrelid "
               "JOIN pg_index i ON i.indrelid = x.indrelid AND NOT i.indisvalid "
               "JOIN pg_class c ON c.oid = i.indexrelid AND c.relnamespace = cx.relnamespace "
               "CROSS JOIN LATERAL regexp_replace(c.relname, '_cc(new|old)[0-9]*$', '') AS base "
               "WHERE c.relname ~ '_cc(new|old)[0-9]*$' AND c.oid <> cx.oid AND (base = "
               "cx.relname OR (octet_length(c.relname) >= 56 AND left(cx.relname, length(base)) "
               "= base)) AND ");
    buf_addstr(sql, b->kind == INDEX_BUILD_REINDEX_INDEX ? "x.indexrelid" : "x.indrelid");
    buf_addstr(sql, " = to_regclass(");
    add_regclass_literal(sql, b->schema, b->name);
    buf_addstr(sql, ")) ORDER BY 1");
}

/* The journal row that says what statement k builds: "statement 2: CREATE INDEX ... x.y". */
static void
build_detail(const struct index_build *b, size_t k, const char *target, struct buf *out)
{
    buf_addf(out, "statement %zu: %s %s", k + 1, statement_words[b->kind], target);
}

/* Does the journal record that statement k of mig_id built target, in the migration's current
 * attempt (since its last apply, rollback or stamp)? 1, 0, or -1 with e set. */
static int
recorded(struct db *db, const struct history_ctx *h, const char *mig_id, const char *detail,
         struct db_error *e)
{
    struct buf sql = BUF_INIT;
    struct db_rows *rows;
    int ret;

    buf_addf(&sql, "SELECT count(*) FROM %s.journal j WHERE j.project = ", h->qschema);
    db_add_literal(&sql, h->project);
    buf_addstr(&sql, " AND j.migration_id = ");
    db_add_literal(&sql, mig_id);
    buf_addstr(&sql, " AND j.event = 'index_build' AND j.detail = ");
    db_add_literal(&sql, detail);
    buf_addf(&sql,
             " AND j.seq > coalesce((SELECT max(o.seq) FROM %s.journal o WHERE o.project = "
             "j.project AND o.migration_id = j.migration_id AND o.event IN ('apply', 'rollback', "
             "'stamp', 'unstamp', 'adopt')), 0)",
             h->qschema);
    rows = db_query(db, sql.data, e);
    buf_release(&sql);
    if (rows == NULL)
        return -1;
    ret = atoll(db_value(rows, 0, 0)) > 0;
    db_rows_free(rows);
    return ret;
}

/* Refuse to touch index while process pid (text) still works on it. Returns -1, e set. */
static int
busy(const char *index, const char *pid, struct db_error *e)
{
    char msg[sizeof(e->message)];

    snprintf(msg, sizeof(msg),
             "index %s, left by an interrupted run, is still being built by process %s "
             "(a statement whose client went away runs on); wait for it to end, or cancel it "
             "with SELECT pg_cancel_backend(%s), then run again",
             index, pid, pid);
    db_error_from_message(e, msg);
    return -1;
}

/* Drop index (qualified), say it and journal it. */
static int
drop_leftover(struct db *db, const struct index_build *b, const char *index, const char *target,
              const struct index_repair_say *say, struct db_error *e)
{
    char *sql = xasprintf("DROP INDEX CONCURRENTLY IF EXISTS %s", index);
    struct buf line = BUF_INIT;
    int ret = db_exec(db, sql, e);

    free(sql);
    if (ret != 0)
        return -1;
    buf_addf(&line, "dropped INVALID index %s left by an interrupted %s", index,
             statement_words[b->kind]);
    if (b->kind != INDEX_BUILD_CREATE)
        buf_addf(&line, " %s", target);
    buf_addstr(&line, "; running it again");
    say->said(say->data, "dropped", index, statement_words[b->kind], line.data);
    say->journal(say->data, "index_repair", line.data);
    buf_release(&line);
    return 0;
}

int
index_repair_before(struct db *db, const struct history_ctx *h, const char *mig_id, size_t k,
                    const struct index_build *b, const struct index_repair_say *say,
                    struct db_error *e)
{
    struct buf sql = BUF_INIT, detail = BUF_INIT, line = BUF_INIT;
    struct db_rows *rows = NULL;
    char target[2 * INDEX_NAME_MAX + 8];
    int ret = -1, ours, free_now = 0;

    if (b->kind == INDEX_BUILD_CREATE) {
        sql_create_target(b, &sql);
        if ((rows = db_query(db, sql.data, e)) == NULL)
            goto done;
        if (db_nrows(rows) == 0) {
            ret = 0; /* no such table: the statement fails on its own, and built nothing */
            goto done;
        }
        snprintf(target, sizeof(target), "%s", db_value(rows, 0, 0));
    } else {
        /* The REINDEX's own target, as written: its leftovers are found by its OID. */
        snprintf(target, sizeof(target), "%s%s%s", b->schema, b->schema[0] ? "." : "", b->name);
    }
    build_detail(b, k, target, &detail);
    if ((ours = recorded(db, h, mig_id, detail.data, e)) < 0)
        goto done;
    if (b->kind == INDEX_BUILD_CREATE) {
        int exists = db_value(rows, 0, 1)[0] == 't';
        int of_table = db_value(rows, 0, 2)[0] == 't';
        const char *valid = db_value(rows, 0, 3), *pid = db_value(rows, 0, 4);

        if (ours && exists && of_table && pid) {
            ret = busy(target, pid, e);
            goto done;
        }
        if (ours && exists && of_table && valid && valid[0] == 't') {
            /* The run was cut off after the server finished the build (its client was killed):
             * the statement's work is done, as a successful run would have left it. */
            buf_addf(&line,
                     "index %s was built by the interrupted run and is valid: statement "
                     "%zu counted as done",
                     target, k + 1);
            say->said(say->data, "kept", target, statement_words[b->kind], line.data);
            say->journal(say->data, "index_repair", line.data);
            ret = 1;
            goto done;
        }
        if (ours && exists && of_table) {
            if (drop_leftover(db, b, target, target, say, e) != 0)
                goto done;
            exists = 0;
        }
        free_now = !exists;
    } else {
        sql_reindex_leftovers(b, &sql);
        if ((rows = db_query(db, sql.data, e)) == NULL)
            goto done;
        free_now = db_nrows(rows) == 0;
        for (size_t i = 0; ours && i < db_nrows(rows); i++)
            if (db_value(rows, i, 1)) {
                ret = busy(db_value(rows, i, 0), db_value(rows, i, 1), e);
                goto done;
            }
        for (size_t i = 0; ours && i < db_nrows(rows); i++) {
            if (drop_leftover(db, b, db_value(rows, i, 0), target, say, e) != 0)
                goto done;
            free_now = 1;
        }
    }
    /* Recorded only when the name is free: an index already there is not this statement's. */
    if (free_now)
        say->journal(say->data, "index_build", detail.data);
    ret = 0;
done:
    db_rows_free(rows);
    buf_release(&sql);
    buf_release(&detail);
    buf_release(&line);
    return ret;
}
