/*
 * lint_tree.c: the lint's first stage: read each statement's libpg_query parse tree and say,
 * in neutral operations (lint.h), what the statement does to which relation.
 * Layer: compiler. It never runs the parser: sqlcheck.c parses each statement once and keeps
 * the trees this file asks for (lint_wants_tree: DDL and data-changing statements), in
 * libpg_query's JSON form (lint_json.h). The walk, some hundred lines over node types the
 * checks never need, stays here. Identifiers are measured with PostgreSQL's scanner
 * (sqlcheck_identifiers), only when a statement has a run of 64 identifier bytes at all.
 */
#include "lint.h"
#include "lint_json.h"
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

static struct lint_op *
add_op(struct lint_stmt *st, int kind, const char *rel, const char *name)
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

/* "schema.name", malloc'd (xasprintf's two formatting passes cost more, for every relation). */
static char *
qualified(const char *schema, const char *name)
{
    size_t ls = strlen(schema), ln = strlen(name);
    char *out = xmalloc(ls + ln + 2);

    memcpy(out, schema, ls);
    out[ls] = '.';
    memcpy(out + ls + 1, name, ln + 1);
    return out;
}

/* "schema.name" of a RangeVar object (public when unqualified). */
static char *
rangevar_name(const struct jdoc *d, const struct jnode *rv)
{
    const char *schema = jstr(jget(d, rv, "schemaname"));
    const char *rel = jstr(jget(d, rv, "relname"));

    if (rel == NULL)
        return NULL;
    return qualified(schema ? schema : "public", rel);
}

/* The string of a String node, or NULL. */
static const char *
node_string(const struct jdoc *d, const struct jnode *n)
{
    return jstr(jget(d, jnode_of(d, n, "String"), "sval"));
}

/* The last element of an array. */
static const struct jnode *
jlast(const struct jdoc *d, const struct jnode *arr)
{
    const struct jnode *last = NULL;

    for (const struct jnode *c = jfirst(d, arr); c; c = jnext(d, c))
        last = c;
    return last;
}

/* "schema.name" of a name list (an array of String nodes), public when unqualified. */
static char *
qualified_list(const struct jdoc *d, const struct jnode *items)
{
    const char *schema = NULL, *last = NULL;

    for (const struct jnode *c = jfirst(d, items); c; c = jnext(d, c)) {
        schema = last;
        last = node_string(d, c);
    }
    if (last == NULL)
        return xstrdup("?");
    return qualified(schema ? schema : "public", last);
}

static void
fill_type(const struct jdoc *d, struct lint_type *t, const struct jnode *tn)
{
    const char *last = node_string(d, jlast(d, jget(d, tn, "names")));
    int i = 0;

    if (tn == NULL)
        return;
    t->name = xstrdup(last ? last : "?");
    for (const struct jnode *m = jfirst(d, jget(d, tn, "typmods")); m && i < 2;
         m = jnext(d, m), i++) {
        const struct jnode *ival = jget(d, jnode_of(d, m, "A_Const"), "ival");

        /* {"ival": {}} is 0: libpg_query leaves zero fields out. */
        if (ival)
            t->mod[i] = (int)jnum(jget(d, ival, "ival"));
    }
    t->array = jget(d, tn, "arrayBounds") != NULL;
}

/*
 * Functions a DEFAULT may call without making ADD COLUMN rewrite the table (stable or
 * immutable in PostgreSQL's catalog: evaluated once, the value kept in the catalog), and
 * volatile ones that do make it rewrite. Anything else is "not known to be stable".
 */
static const char *const stable_funcs[] = {"now",
                                           "transaction_timestamp",
                                           "statement_timestamp",
                                           "current_date",
                                           "current_timestamp",
                                           "localtimestamp",
                                           "lower",
                                           "upper",
                                           "concat",
                                           "coalesce",
                                           "jsonb_build_object",
                                           "json_build_object",
                                           "jsonb_build_array",
                                           "json_build_array",
                                           "to_jsonb",
                                           "to_json",
                                           "make_interval",
                                           "make_date",
                                           "to_timestamp",
                                           "to_date",
                                           "array_fill",
                                           "length",
                                           "abs",
                                           "round",
                                           "btrim",
                                           "trim",
                                           "replace",
                                           "md5",
                                           "current_setting"};
static const char *const volatile_funcs[] = {
    "random",           "clock_timestamp",    "gen_random_uuid",
    "uuid_generate_v1", "uuid_generate_v1mc", "uuid_generate_v4",
    "nextval",          "timeofday",          "setseed",
    "txid_current",     "gen_random_bytes",   "pg_current_xact_id",
    "uuidv7",           "gen_uuid_v7"};

static int
in_list(const char *s, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(s, list[i]) == 0)
            return 1;
    return 0;
}

static unsigned expr_volatility(const struct jdoc *d, const struct jnode *n);

static unsigned
list_volatility(const struct jdoc *d, const struct jnode *arr)
{
    unsigned f = 0;

    for (const struct jnode *c = jfirst(d, arr); c; c = jnext(d, c))
        f |= expr_volatility(d, c);
    return f;
}

/* Flags LINT_F_VOLATILE / LINT_F_NONCONST of a DEFAULT expression (a Node). */
static unsigned
expr_volatility(const struct jdoc *d, const struct jnode *n)
{
    const char *type = jnode_type(d, n);
    const struct jnode *body = jfirst(d, n);

    if (n == NULL || type == NULL)
        return 0;
    if (strcmp(type, "A_Const") == 0 || strcmp(type, "SQLValueFunction") == 0)
        return 0;
    if (strcmp(type, "TypeCast") == 0)
        return expr_volatility(d, jget(d, body, "arg"));
    if (strcmp(type, "A_Expr") == 0)
        return expr_volatility(d, jget(d, body, "lexpr")) |
               expr_volatility(d, jget(d, body, "rexpr"));
    if (strcmp(type, "BoolExpr") == 0 || strcmp(type, "CoalesceExpr") == 0)
        return list_volatility(d, jget(d, body, "args"));
    if (strcmp(type, "A_ArrayExpr") == 0)
        return list_volatility(d, jget(d, body, "elements"));
    if (strcmp(type, "FuncCall") == 0) {
        const char *name = node_string(d, jlast(d, jget(d, body, "funcname")));
        unsigned f = list_volatility(d, jget(d, body, "args"));

        if (name && in_list(name, volatile_funcs, sizeof(volatile_funcs) / sizeof(*volatile_funcs)))
            f |= LINT_F_VOLATILE;
        else if (!name ||
                 !in_list(name, stable_funcs, sizeof(stable_funcs) / sizeof(*stable_funcs)))
            f |= LINT_F_NONCONST;
        return f;
    }
    /* A subquery, a column reference...: not a constant PostgreSQL can keep. */
    return LINT_F_NONCONST;
}

/* The column named by "col IS NOT NULL", or NULL. */
static const char *
not_null_check_column(const struct jdoc *d, const struct jnode *e)
{
    const struct jnode *nt = jnode_of(d, e, "NullTest");
    const struct jnode *cr = jnode_of(d, jget(d, nt, "arg"), "ColumnRef");
    const struct jnode *fields = jget(d, cr, "fields");
    const struct jnode *f = jfirst(d, fields);

    if (!jis(jget(d, nt, "nulltesttype"), "IS_NOT_NULL") || f == NULL || jnext(d, f))
        return NULL;
    return node_string(d, f);
}

static int
is_serial(const char *t)
{
    return t && (strcmp(t, "serial") == 0 || strcmp(t, "bigserial") == 0 ||
                 strcmp(t, "smallserial") == 0 || strcmp(t, "serial4") == 0 ||
                 strcmp(t, "serial8") == 0 || strcmp(t, "serial2") == 0);
}

/* A column definition (a ColumnDef object): its type and the flags of its constraints. */
static struct lint_op *
column_op(const struct jdoc *d, struct lint_stmt *st, int kind, const char *rel,
          const struct jnode *cd)
{
    struct lint_op *op = add_op(st, kind, rel, jstr(jget(d, cd, "colname")));

    fill_type(d, &op->type, jget(d, cd, "typeName"));
    if (is_serial(op->type.name))
        op->flags |= LINT_F_SERIAL | LINT_F_DEFAULT | LINT_F_VOLATILE;
    if (jtrue(jget(d, cd, "is_not_null")))
        op->flags |= LINT_F_NOT_NULL;
    if (jget(d, cd, "raw_default"))
        op->flags |= LINT_F_DEFAULT | expr_volatility(d, jget(d, cd, "raw_default"));
    for (const struct jnode *cn = jfirst(d, jget(d, cd, "constraints")); cn; cn = jnext(d, cn)) {
        const struct jnode *c = jnode_of(d, cn, "Constraint");
        const struct jnode *contype = jget(d, c, "contype");
        const struct jnode *expr = jget(d, c, "raw_expr");

        if (jis(contype, "CONSTR_NOTNULL")) {
            op->flags |= LINT_F_NOT_NULL;
        } else if (jis(contype, "CONSTR_DEFAULT")) {
            /* DEFAULT NULL is no default at all. */
            if (!jtrue(jget(d, jnode_of(d, expr, "A_Const"), "isnull")))
                op->flags |= LINT_F_DEFAULT | expr_volatility(d, expr);
        } else if (jis(contype, "CONSTR_IDENTITY")) {
            op->flags |= LINT_F_IDENTITY;
        } else if (jis(contype, "CONSTR_GENERATED")) {
            op->flags |= LINT_F_STORED;
        } else if (jis(contype, "CONSTR_PRIMARY")) {
            op->flags |= LINT_F_INLINE_INDEX | LINT_F_NOT_NULL;
        } else if (jis(contype, "CONSTR_UNIQUE")) {
            op->flags |= LINT_F_INLINE_INDEX;
        } else if (jis(contype, "CONSTR_CHECK")) {
            op->flags |= LINT_F_INLINE_CHECK;
        } else if (jis(contype, "CONSTR_FOREIGN")) {
            op->flags |= LINT_F_REFERENCES;
            free(op->other);
            op->other = rangevar_name(d, jget(d, c, "pktable"));
        }
    }
    return op;
}

/* An ADD CONSTRAINT (a Constraint object). */
static void
constraint_op(const struct jdoc *d, struct lint_stmt *st, const char *rel, const struct jnode *c)
{
    const struct jnode *contype = jget(d, c, "contype");
    const char *conname = jstr(jget(d, c, "conname"));
    int not_valid = jtrue(jget(d, c, "skip_validation"));
    struct lint_op *op;
    const char *col;

    if (jis(contype, "CONSTR_CHECK")) {
        op = add_op(st, LINT_OP_ADD_CHECK, rel, conname);
        col = not_null_check_column(d, jget(d, c, "raw_expr"));
        op->other = col ? xstrdup(col) : NULL;
        op->lock = LINT_LOCK_ACCESS_EXCLUSIVE;
    } else if (jis(contype, "CONSTR_FOREIGN")) {
        op = add_op(st, LINT_OP_ADD_FOREIGN, rel, conname);
        op->other = rangevar_name(d, jget(d, c, "pktable"));
        op->lock = LINT_LOCK_SHARE_ROW_EXCLUSIVE;
    } else if (jis(contype, "CONSTR_PRIMARY") || jis(contype, "CONSTR_UNIQUE") ||
               jis(contype, "CONSTR_EXCLUSION")) {
        op = add_op(st, LINT_OP_ADD_UNIQUE, rel, conname);
        op->sub = jis(contype, "CONSTR_PRIMARY") ? 'p' : jis(contype, "CONSTR_UNIQUE") ? 'u' : 'x';
        if (jstr(jget(d, c, "indexname")))
            op->flags |= LINT_F_USING_INDEX;
        op->lock = LINT_LOCK_ACCESS_EXCLUSIVE;
    } else {
        op = add_op(st, LINT_OP_ALTER_OTHER, rel, NULL);
        op->lock = LINT_LOCK_ACCESS_EXCLUSIVE;
    }
    if (not_valid)
        op->flags |= LINT_F_NOT_VALID;
}

/* The lock of ALTER TABLE subcommands no rule concerns (PostgreSQL's AlterTableGetLockLevel). */
static int
alter_cmd_lock(const char *subtype)
{
    static const char *const share_update_exclusive[] = {
        "AT_SetStatistics",   "AT_ClusterOn",          "AT_DropCluster",    "AT_SetRelOptions",
        "AT_ResetRelOptions", "AT_ReplaceRelOptions",  "AT_SetOptions",     "AT_ResetOptions",
        "AT_SetStorage",      "AT_ValidateConstraint", "AT_AttachPartition"};
    static const char *const share_row_exclusive[] = {
        "AT_EnableTrig",     "AT_EnableAlwaysTrig", "AT_EnableReplicaTrig", "AT_EnableTrigAll",
        "AT_EnableTrigUser", "AT_DisableTrig",      "AT_DisableTrigAll",    "AT_DisableTrigUser"};

    if (subtype && in_list(subtype, share_update_exclusive,
                           sizeof(share_update_exclusive) / sizeof(*share_update_exclusive)))
        return LINT_LOCK_SHARE_UPDATE_EXCLUSIVE;
    if (subtype && in_list(subtype, share_row_exclusive,
                           sizeof(share_row_exclusive) / sizeof(*share_row_exclusive)))
        return LINT_LOCK_SHARE_ROW_EXCLUSIVE;
    return LINT_LOCK_ACCESS_EXCLUSIVE;
}

/* ALTER TABLE subcommands that rewrite the table, and how to name them. */
static const char *
rewriting_subcommand(const char *subtype)
{
    static const char *const names[][2] = {{"AT_SetTableSpace", "SET TABLESPACE"},
                                           {"AT_SetLogged", "SET LOGGED"},
                                           {"AT_SetUnLogged", "SET UNLOGGED"},
                                           {"AT_SetAccessMethod", "SET ACCESS METHOD"}};

    for (size_t i = 0; subtype && i < sizeof(names) / sizeof(*names); i++)
        if (strcmp(subtype, names[i][0]) == 0)
            return names[i][1];
    return NULL;
}

static void
walk_alter_cmd(const struct jdoc *d, struct lint_stmt *st, const char *rel, const struct jnode *c)
{
    const char *subtype = jstr(jget(d, c, "subtype"));
    const char *name = jstr(jget(d, c, "name"));
    const struct jnode *def = jget(d, c, "def");
    const struct jnode *cd = jnode_of(d, def, "ColumnDef");
    const struct jnode *pc = jnode_of(d, def, "PartitionCmd");
    const char *rewrite = rewriting_subcommand(subtype);
    struct lint_op *op;

    if (subtype == NULL)
        return;
    if (strcmp(subtype, "AT_AddColumn") == 0 && cd) {
        op = column_op(d, st, LINT_OP_ADD_COLUMN, rel, cd);
        op->lock = LINT_LOCK_ACCESS_EXCLUSIVE;
    } else if (strcmp(subtype, "AT_AlterColumnType") == 0) {
        op = add_op(st, LINT_OP_ALTER_TYPE, rel, name);
        op->lock = LINT_LOCK_ACCESS_EXCLUSIVE;
        fill_type(d, &op->type, jget(d, cd, "typeName"));
        if (jget(d, cd, "raw_default"))
            op->flags |= LINT_F_USING;
    } else if (strcmp(subtype, "AT_SetNotNull") == 0) {
        op = add_op(st, LINT_OP_SET_NOT_NULL, rel, name);
        op->lock = LINT_LOCK_ACCESS_EXCLUSIVE;
    } else if (strcmp(subtype, "AT_AddConstraint") == 0 && jnode_of(d, def, "Constraint")) {
        constraint_op(d, st, rel, jnode_of(d, def, "Constraint"));
    } else if (strcmp(subtype, "AT_ValidateConstraint") == 0) {
        op = add_op(st, LINT_OP_VALIDATE, rel, name);
        op->lock = LINT_LOCK_SHARE_UPDATE_EXCLUSIVE;
    } else if (strcmp(subtype, "AT_DropColumn") == 0) {
        op = add_op(st, LINT_OP_DROP_COLUMN, rel, name);
        op->lock = LINT_LOCK_ACCESS_EXCLUSIVE;
        if (jis(jget(d, c, "behavior"), "DROP_CASCADE"))
            op->flags |= LINT_F_CASCADE;
    } else if ((strcmp(subtype, "AT_AttachPartition") == 0 ||
                strcmp(subtype, "AT_DetachPartition") == 0) &&
               pc) {
        char *part = rangevar_name(d, jget(d, pc, "name"));
        int detach = strcmp(subtype, "AT_DetachPartition") == 0;
        int conc = jtrue(jget(d, pc, "concurrent"));

        op = add_op(st, detach ? LINT_OP_DETACH : LINT_OP_ATTACH, rel, part);
        free(part);
        if (conc)
            op->flags |= LINT_F_CONCURRENT;
        op->lock = detach && !conc ? LINT_LOCK_ACCESS_EXCLUSIVE : LINT_LOCK_SHARE_UPDATE_EXCLUSIVE;
    } else if (rewrite) {
        op = add_op(st, LINT_OP_ALTER_REWRITE, rel, NULL);
        op->other = xstrdup(rewrite);
        op->lock = LINT_LOCK_ACCESS_EXCLUSIVE;
    } else {
        op = add_op(st, LINT_OP_ALTER_OTHER, rel, name);
        op->lock = alter_cmd_lock(subtype);
    }
}

static void
walk_alter_table(const struct jdoc *d, struct lint_stmt *st, const struct jnode *a)
{
    char *rel;

    /* ALTER INDEX / SEQUENCE / VIEW ... share the node; only tables concern the rules. */
    if (!jis(jget(d, a, "objtype"), "OBJECT_TABLE"))
        return;
    rel = rangevar_name(d, jget(d, a, "relation"));
    for (const struct jnode *c = jfirst(d, jget(d, a, "cmds")); c && rel; c = jnext(d, c))
        if (jnode_of(d, c, "AlterTableCmd"))
            walk_alter_cmd(d, st, rel, jnode_of(d, c, "AlterTableCmd"));
    free(rel);
}

static void
walk_create_table(const struct jdoc *d, struct lint_stmt *st, const struct jnode *cs)
{
    char *rel = rangevar_name(d, jget(d, cs, "relation"));

    if (rel == NULL)
        return;
    if (jtrue(jget(d, cs, "if_not_exists")))
        add_op(st, LINT_OP_CREATE_TABLE, rel, NULL)->flags |= LINT_F_IF_EXISTS;
    else
        add_op(st, LINT_OP_CREATE_TABLE, rel, NULL);
    for (const struct jnode *e = jfirst(d, jget(d, cs, "tableElts")); e; e = jnext(d, e))
        if (jnode_of(d, e, "ColumnDef"))
            column_op(d, st, LINT_OP_COLUMN, rel, jnode_of(d, e, "ColumnDef"));
    free(rel);
}

static void
walk_drop(const struct jdoc *d, struct lint_stmt *st, const struct jnode *ds)
{
    const struct jnode *type = jget(d, ds, "removeType");
    int cascade = jis(jget(d, ds, "behavior"), "DROP_CASCADE");
    int conc = jtrue(jget(d, ds, "concurrent"));

    for (const struct jnode *o = jfirst(d, jget(d, ds, "objects")); o; o = jnext(d, o)) {
        const struct jnode *list = jnode_of(d, o, "List");
        char *name = list ? qualified_list(d, jget(d, list, "items")) : NULL;
        struct lint_op *op;

        if (jis(type, "OBJECT_TABLE")) {
            op = add_op(st, LINT_OP_DROP_TABLE, name, NULL);
            op->lock = LINT_LOCK_ACCESS_EXCLUSIVE;
        } else if (jis(type, "OBJECT_INDEX")) {
            op = add_op(st, LINT_OP_DROP_INDEX, NULL, name);
            op->lock = conc ? LINT_LOCK_SHARE_UPDATE_EXCLUSIVE : LINT_LOCK_ACCESS_EXCLUSIVE;
            if (conc)
                op->flags |= LINT_F_CONCURRENT;
        } else {
            op = add_op(st, LINT_OP_DROP_OTHER, NULL, NULL);
        }
        if (jtrue(jget(d, ds, "missing_ok")))
            op->flags |= LINT_F_IF_EXISTS;
        if (cascade)
            op->flags |= LINT_F_CASCADE;
        free(name);
    }
}

static void
walk_rename(const struct jdoc *d, struct lint_stmt *st, const struct jnode *r)
{
    char *rel = rangevar_name(d, jget(d, r, "relation"));
    const struct jnode *type = jget(d, r, "renameType");
    struct lint_op *op;

    if (rel && jis(type, "OBJECT_TABLE")) {
        op = add_op(st, LINT_OP_RENAME_TABLE, rel, NULL);
        op->other = xstrdup(jstr(jget(d, r, "newname")) ? jstr(jget(d, r, "newname")) : "?");
        op->lock = LINT_LOCK_ACCESS_EXCLUSIVE;
    } else if (rel && jis(type, "OBJECT_COLUMN") &&
               jis(jget(d, r, "relationType"), "OBJECT_TABLE")) {
        op = add_op(st, LINT_OP_RENAME_COLUMN, rel, jstr(jget(d, r, "subname")));
        op->other = xstrdup(jstr(jget(d, r, "newname")) ? jstr(jget(d, r, "newname")) : "?");
        op->lock = LINT_LOCK_ACCESS_EXCLUSIVE;
    }
    free(rel);
}

/* Is the DefElem list's option name set (REINDEX (CONCURRENTLY), VACUUM (FULL))? */
static int
option_on(const struct jdoc *d, const struct jnode *options, const char *name)
{
    for (const struct jnode *o = jfirst(d, options); o; o = jnext(d, o)) {
        const struct jnode *de = jnode_of(d, o, "DefElem");
        const struct jnode *arg = jget(d, de, "arg");
        const char *s = node_string(d, arg);

        if (!jis(jget(d, de, "defname"), name))
            continue;
        /* NAME, NAME true, NAME 1, NAME on; not NAME false / off / 0. */
        if (arg == NULL)
            return 1;
        if (s)
            return strcasecmp(s, "false") != 0 && strcasecmp(s, "off") != 0;
        if (jnode_of(d, arg, "Integer"))
            return jnum(jget(d, jnode_of(d, arg, "Integer"), "ival")) != 0;
        if (jnode_of(d, arg, "Boolean"))
            return jtrue(jget(d, jnode_of(d, arg, "Boolean"), "boolval"));
        return 1;
    }
    return 0;
}

/* Statements on a list of RangeVar nodes (LOCK, TRUNCATE), one operation each. */
static void
walk_relations(const struct jdoc *d, struct lint_stmt *st, const struct jnode *rels, int kind,
               int lock, unsigned flags)
{
    for (const struct jnode *r = jfirst(d, rels); r; r = jnext(d, r)) {
        char *rel = rangevar_name(d, jnode_of(d, r, "RangeVar"));
        struct lint_op *op;

        if (rel == NULL)
            continue;
        op = add_op(st, kind, rel, NULL);
        op->lock = lock;
        op->flags |= flags;
        free(rel);
    }
}

static void
walk_index(const struct jdoc *d, struct lint_stmt *st, const struct jnode *ix)
{
    const struct jnode *rv = jget(d, ix, "relation");
    const char *idxname = jstr(jget(d, ix, "idxname"));
    const char *schema = jstr(jget(d, rv, "schemaname"));
    char *rel = rangevar_name(d, rv), *idx = NULL;
    int conc = jtrue(jget(d, ix, "concurrent"));
    struct lint_op *op;

    if (rel == NULL)
        return;
    if (idxname)
        idx = xasprintf("%s.%s", schema ? schema : "public", idxname);
    op = add_op(st, LINT_OP_CREATE_INDEX, rel, idx);
    op->lock = conc ? LINT_LOCK_SHARE_UPDATE_EXCLUSIVE : LINT_LOCK_SHARE;
    if (conc)
        op->flags |= LINT_F_CONCURRENT;
    if (jtrue(jget(d, ix, "if_not_exists")))
        op->flags |= LINT_F_IF_EXISTS;
    op->sub = jtrue(jget(d, ix, "unique")) ? 'u' : 'i';
    free(idx);
    free(rel);
}

static void
walk_reindex(const struct jdoc *d, struct lint_stmt *st, const struct jnode *r)
{
    const struct jnode *kind = jget(d, r, "kind");
    int conc = option_on(d, jget(d, r, "params"), "concurrently");
    char *rel = jget(d, r, "relation")
                    ? rangevar_name(d, jget(d, r, "relation"))
                    : xstrdup(jstr(jget(d, r, "name")) ? jstr(jget(d, r, "name")) : "?");
    struct lint_op *op = add_op(st, LINT_OP_REINDEX, rel, NULL);

    op->sub = jis(kind, "REINDEX_OBJECT_INDEX")   ? 'i'
              : jis(kind, "REINDEX_OBJECT_TABLE") ? 't'
                                                  : 's';
    op->lock = conc             ? LINT_LOCK_SHARE_UPDATE_EXCLUSIVE
               : op->sub == 'i' ? LINT_LOCK_ACCESS_EXCLUSIVE
                                : LINT_LOCK_SHARE;
    if (conc)
        op->flags |= LINT_F_CONCURRENT;
    free(rel);
}

static void
walk_vacuum(const struct jdoc *d, struct lint_stmt *st, const struct jnode *v)
{
    const struct jnode *rels = jget(d, v, "rels");
    struct lint_op *op;

    if (!jtrue(jget(d, v, "is_vacuumcmd")) || !option_on(d, jget(d, v, "options"), "full"))
        return;
    if (jfirst(d, rels) == NULL) {
        op = add_op(st, LINT_OP_VACUUM_FULL, NULL, NULL);
        op->lock = LINT_LOCK_ACCESS_EXCLUSIVE;
    }
    for (const struct jnode *r = jfirst(d, rels); r; r = jnext(d, r)) {
        char *rel = rangevar_name(d, jget(d, jnode_of(d, r, "VacuumRelation"), "relation"));

        if (rel == NULL)
            continue;
        op = add_op(st, LINT_OP_VACUUM_FULL, rel, NULL);
        op->lock = LINT_LOCK_ACCESS_EXCLUSIVE;
        free(rel);
    }
}

/* UPDATE / DELETE without WHERE (and without FROM / USING, which join: a filter, usually). */
static void
walk_dml(const struct jdoc *d, struct lint_stmt *st, const struct jnode *s, int kind)
{
    char *rel;
    struct lint_op *op;

    if (jget(d, s, "whereClause") || jget(d, s, "fromClause") || jget(d, s, "usingClause"))
        return;
    rel = rangevar_name(d, jget(d, s, "relation"));
    if (rel == NULL)
        return;
    op = add_op(st, kind, rel, NULL);
    op->lock = LINT_LOCK_ROW_EXCLUSIVE;
    free(rel);
}

/* The operations of one parsed statement (a Node). */
static void
walk_statement(const struct jdoc *d, struct lint_stmt *st, const struct jnode *n)
{
    const char *type = jnode_type(d, n);
    const struct jnode *b = jfirst(d, n);
    struct lint_op *op;
    char *rel;

    if (type == NULL)
        return;
    if (strcmp(type, "CreateStmt") == 0) {
        walk_create_table(d, st, b);
    } else if (strcmp(type, "CreateTableAsStmt") == 0) {
        rel = rangevar_name(d, jget(d, jget(d, b, "into"), "rel"));
        if (rel)
            add_op(st, LINT_OP_CREATE_TABLE, rel, NULL);
        free(rel);
    } else if (strcmp(type, "AlterTableStmt") == 0) {
        walk_alter_table(d, st, b);
    } else if (strcmp(type, "IndexStmt") == 0) {
        walk_index(d, st, b);
    } else if (strcmp(type, "DropStmt") == 0) {
        walk_drop(d, st, b);
    } else if (strcmp(type, "RenameStmt") == 0) {
        walk_rename(d, st, b);
    } else if (strcmp(type, "ReindexStmt") == 0) {
        walk_reindex(d, st, b);
    } else if (strcmp(type, "VacuumStmt") == 0) {
        walk_vacuum(d, st, b);
    } else if (strcmp(type, "ClusterStmt") == 0) {
        rel = rangevar_name(d, jget(d, b, "relation"));
        if (rel) {
            op = add_op(st, LINT_OP_CLUSTER, rel, NULL);
            op->lock = LINT_LOCK_ACCESS_EXCLUSIVE;
        }
        free(rel);
    } else if (strcmp(type, "RefreshMatViewStmt") == 0) {
        int conc = jtrue(jget(d, b, "concurrent"));

        rel = rangevar_name(d, jget(d, b, "relation"));
        if (rel) {
            op = add_op(st, LINT_OP_REFRESH_MATVIEW, rel, NULL);
            op->lock = conc ? LINT_LOCK_EXCLUSIVE : LINT_LOCK_ACCESS_EXCLUSIVE;
            if (conc)
                op->flags |= LINT_F_CONCURRENT;
        }
        free(rel);
    } else if (strcmp(type, "LockStmt") == 0) {
        walk_relations(d, st, jget(d, b, "relations"), LINT_OP_LOCK_TABLE,
                       (int)jnum(jget(d, b, "mode")), 0);
    } else if (strcmp(type, "TruncateStmt") == 0) {
        walk_relations(d, st, jget(d, b, "relations"), LINT_OP_TRUNCATE, LINT_LOCK_ACCESS_EXCLUSIVE,
                       jis(jget(d, b, "behavior"), "DROP_CASCADE") ? LINT_F_CASCADE : 0);
    } else if (strcmp(type, "UpdateStmt") == 0) {
        walk_dml(d, st, b, LINT_OP_UPDATE_ALL);
    } else if (strcmp(type, "DeleteStmt") == 0) {
        walk_dml(d, st, b, LINT_OP_DELETE_ALL);
    } else if (strcmp(type, "AlterEnumStmt") == 0 && !jstr(jget(d, b, "oldVal"))) {
        /* ADD VALUE (with oldVal it is RENAME VALUE) */
        rel = qualified_list(d, jget(d, b, "typeName"));
        op = add_op(st, LINT_OP_ENUM_ADD, NULL, rel);
        op->other = xstrdup(jstr(jget(d, b, "newVal")) ? jstr(jget(d, b, "newVal")) : "?");
        if (jtrue(jget(d, b, "skipIfNewValExists")))
            op->flags |= LINT_F_IF_EXISTS;
        free(rel);
    }
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

static int
word_in(const char *w, size_t n, const char *const *list, size_t count)
{
    for (size_t i = 0; i < count; i++)
        if (strlen(list[i]) == n && strncasecmp(w, list[i], n) == 0)
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
    static const char *const create_skip[] = {
        "function",     "procedure", "view",       "type",       "trigger",   "extension",
        "schema",       "sequence",  "domain",     "role",       "user",      "policy",
        "rule",         "aggregate", "operator",   "cast",       "collation", "publication",
        "subscription", "server",    "statistics", "event",      "language",  "conversion",
        "transform",    "group",     "database",   "tablespace", "recursive", "foreign"};
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
        return (n == 5 && strncasecmp(sql + pos, "table", 5) == 0) ||
               (n == 4 && strncasecmp(sql + pos, "type", 4) == 0) || n == 0;
    }
    if (n == 4 && strncasecmp(w, "drop", 4) == 0) {
        pos += n;
        n = next_word(sql, &pos, end);
        return (n == 5 && strncasecmp(sql + pos, "table", 5) == 0) ||
               (n == 5 && strncasecmp(sql + pos, "index", 5) == 0) || n == 0 ||
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

        add_op(st, LINT_OP_LONG_IDENT, NULL, name);
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
    sqlcheck_identifiers(one, long_ident_cb, st);
    free(one);
}

/*
 * Line and column of offsets that only grow through a script: each is counted from the one
 * before, so that a script of many statements is not read from its start for each.
 */
struct position {
    const char *text;
    size_t off;
    unsigned line, col;
};

static void
position_at(struct position *p, size_t off, unsigned *line, unsigned *col)
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
              struct position *pos)
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
                position_at(pos, start, &a->line, &a->col);
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
    struct position unused = {sql, 0, 1, 1};

    return needs_tree(sql, skip_comments(sql, end, start, NULL, 0, &unused), end);
}

void
lint_extract(const struct src_script *s, const struct sqltrees *trees, struct lint_script *out)
{
    const char *sql = s->rendered.data;
    struct position pos = {sql, 0, 1, 1};

    memset(out, 0, sizeof(*out));
    for (size_t i = 0; i < s->nstmts; i++) {
        size_t loc = (size_t)s->stmts[i].offset;
        size_t end = loc + (size_t)s->stmts[i].length;
        /* Comments before the first statement are the file's header: they cover all of it. */
        size_t tok = skip_comments(sql, end, loc, out, i == 0 ? SIZE_MAX : i, &pos);
        const struct jdoc *d = NULL;
        const struct jnode *tree = sqltrees_stmt(trees, i, &d);
        struct lint_stmt *st;

        out->stmts = xgrow(out->stmts, &out->stmts_cap, out->nstmts + 1, sizeof(*out->stmts));
        st = &out->stmts[out->nstmts++];
        memset(st, 0, sizeof(*st));
        st->offset = tok;
        position_at(&pos, tok, &st->line, &st->col);
        if (tok >= end)
            continue;
        /* A tree is there only where lint_wants_tree asked for it. */
        if (tree)
            walk_statement(d, st, tree);
        long_identifiers(st, sql + tok, end - tok);
    }
}

void
lint_script_release(struct lint_script *ls)
{
    for (size_t i = 0; i < ls->nstmts; i++) {
        for (size_t j = 0; j < ls->stmts[i].nops; j++) {
            struct lint_op *op = &ls->stmts[i].ops[j];

            free(op->rel);
            free(op->name);
            free(op->other);
            free(op->type.name);
        }
        free(ls->stmts[i].ops);
    }
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
