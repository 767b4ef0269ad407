/*
 * pgnodes.c: read PostgreSQL's parse nodes, as libpg_query's raw parse leaves them, into the
 * project's own summary of each statement (pgnodes.h): transaction control, COPY, statements
 * refused in a transaction block (sqlcheck.c's rules), and what the statement locks, rewrites,
 * creates or drops (the lint's operations, lint.h).
 * Layer: compiler. The one file that speaks libpg_query (the raw parse, and the split, scanner
 * and shutdown sqlcheck.c and the lint need) and includes PostgreSQL's server headers (the parse
 * nodes of PostgreSQL 15, which libpg_query 15 is built from). The nodes live in the parser's
 * memory context: everything kept is copied out before the context is released, so no node
 * outlives pgnodes_parse.
 *
 * The server headers are read for the layout of parse nodes only: no global of the server (nor
 * of libpg_query, whose memory context pointers are per thread) is touched here, and of the
 * functions behind them only pg_query_raw_parse and libpg_query's memory context pair are
 * called.
 */
#include <pg_query.h>

/*
 * The PostgreSQL libpg_query was built from (pg_query.h names it; 15.1 for libpg_query 15-4.0.0).
 * The server headers must be of the same major version: PostgreSQL keeps the layout of parse
 * nodes within a major version (minor releases do not move fields), not across them. The
 * lint's tests (every fixture of tests/lint) read every field used here.
 */
enum { pgnodes_parser_major = PG_VERSION_NUM / 10000 };
#undef PG_MAJORVERSION
#undef PG_VERSION
#undef PG_VERSION_NUM

#include <pg_query/pg_query.pb-c.h>
#include <pg_query/pg_query_internal.h>

#include "nodes/parsenodes.h"

_Static_assert(pgnodes_parser_major == PG_VERSION_NUM / 10000,
               "PostgreSQL's server headers must be of libpg_query's major version");

#include "pgnodes.h"
#include "sealift/xalloc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* pg_query_exit() crashes if the parser never ran; remember whether it did. */
static _Thread_local int parser_used; /* per thread, as libpg_query's memory is */

/* ---- the lint's operations (the vocabulary of lint.h) ---- */

/* "schema.name", malloc'd. */
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

/* "schema.name" of a RangeVar (public when unqualified), or NULL. */
static char *
rangevar_name(const RangeVar *rv)
{
    if (rv == NULL || rv->relname == NULL)
        return NULL;
    return qualified(rv->schemaname ? rv->schemaname : "public", rv->relname);
}

/*
 * lint_add_op with rel and name malloc'd here (or NULL): taken by the operation, which frees
 * them, instead of copied and freed (a chain's most common statements are read here).
 */
static struct lint_op *
take_op(struct lint_stmt *st, int kind, char *rel, char *name)
{
    struct lint_op *op = lint_add_op(st, kind, NULL, NULL);

    op->rel = rel;
    op->name = name;
    return op;
}

/* LINT_F_ONLY when rv is "ONLY rel" (the statement does not recurse to its children). */
static unsigned
only_flag(const RangeVar *rv)
{
    return rv && !rv->inh ? LINT_F_ONLY : 0;
}

/* The string of a String node, or NULL. */
static const char *
node_string(const void *n)
{
    return n && IsA(n, String) ? ((const String *)n)->sval : NULL;
}

/* The last element of a list, or NULL. */
static void *
last_of(const List *l)
{
    return l ? llast(l) : NULL;
}

/* "schema.name" of a name list (String nodes), public when unqualified. */
static char *
qualified_list(const List *items)
{
    const char *schema = NULL, *last = NULL;
    const ListCell *lc;

    foreach (lc, items) {
        schema = last;
        last = node_string(lfirst(lc));
    }
    if (last == NULL)
        return xstrdup("?");
    return qualified(schema ? schema : "public", last);
}

/* "schema.table" of the name list of a trigger, policy or rule: all its items but the last. */
static char *
qualified_owner(const List *items)
{
    List *head = NIL;
    char *out;

    for (int i = 0; i + 1 < list_length(items); i++)
        head = lappend(head, list_nth(items, i));
    out = head ? qualified_list(head) : NULL;
    list_free(head);
    return out;
}

/* An operation that only takes lock on rel (blocking-lock judges it); what: the statement. */
static void
lock_op(struct lint_stmt *st, const char *rel, int lock, const char *what)
{
    struct lint_op *op;

    if (rel == NULL)
        return;
    op = lint_add_op(st, LINT_OP_ALTER_OTHER, rel, NULL);
    op->lock = lock;
    op->other = xstrdup(what);
}

/* lock_op on the relation of a RangeVar. */
static void
lock_rangevar(struct lint_stmt *st, const RangeVar *rv, int lock, const char *what)
{
    char *rel = rangevar_name(rv);

    lock_op(st, rel, lock, what);
    free(rel);
}

static void
fill_type(struct lint_type *t, const TypeName *tn)
{
    const char *last;
    const ListCell *lc;
    int i = 0;

    if (tn == NULL)
        return;
    last = node_string(last_of(tn->names));
    t->name = xstrdup(last ? last : "?");
    foreach (lc, tn->typmods) {
        const Node *m = lfirst(lc);

        if (i >= 2)
            break;
        if (IsA(m, A_Const) && !((const A_Const *)m)->isnull &&
            IsA(&((const A_Const *)m)->val, Integer))
            t->mod[i] = ((const A_Const *)m)->val.ival.ival;
        i++;
    }
    t->array = tn->arrayBounds != NIL;
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

#define COUNT(a) (sizeof(a) / sizeof(*(a)))

static int
in_list(const char *s, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(s, list[i]) == 0)
            return 1;
    return 0;
}

static unsigned expr_volatility(const Node *n);

static unsigned
list_volatility(const List *l)
{
    unsigned f = 0;
    const ListCell *lc;

    foreach (lc, l)
        f |= expr_volatility(lfirst(lc));
    return f;
}

/* Flags LINT_F_VOLATILE / LINT_F_NONCONST of a DEFAULT expression. */
static unsigned
expr_volatility(const Node *n)
{
    if (n == NULL)
        return 0;
    switch (nodeTag(n)) {
    case T_A_Const:
    case T_SQLValueFunction:
        return 0;
    case T_TypeCast:
        return expr_volatility(((const TypeCast *)n)->arg);
    case T_A_Expr:
        return expr_volatility(((const A_Expr *)n)->lexpr) |
               expr_volatility(((const A_Expr *)n)->rexpr);
    case T_BoolExpr:
        return list_volatility(((const BoolExpr *)n)->args);
    case T_CoalesceExpr:
        return list_volatility(((const CoalesceExpr *)n)->args);
    case T_A_ArrayExpr:
        return list_volatility(((const A_ArrayExpr *)n)->elements);
    case T_FuncCall: {
        const FuncCall *fc = (const FuncCall *)n;
        const char *name = node_string(last_of(fc->funcname));
        unsigned f = list_volatility(fc->args);

        if (name && in_list(name, volatile_funcs, COUNT(volatile_funcs)))
            f |= LINT_F_VOLATILE;
        else if (!name || !in_list(name, stable_funcs, COUNT(stable_funcs)))
            f |= LINT_F_NONCONST;
        return f;
    }
    default:
        /* A subquery, a column reference...: not a constant PostgreSQL can keep. */
        return LINT_F_NONCONST;
    }
}

/* The column named by "col IS NOT NULL", or NULL. */
static const char *
not_null_check_column(const Node *e)
{
    const NullTest *nt;
    const ColumnRef *cr;

    if (e == NULL || !IsA(e, NullTest))
        return NULL;
    nt = (const NullTest *)e;
    if (nt->nulltesttype != IS_NOT_NULL || nt->arg == NULL || !IsA(nt->arg, ColumnRef))
        return NULL;
    cr = (const ColumnRef *)nt->arg;
    if (list_length(cr->fields) != 1)
        return NULL;
    return node_string(linitial(cr->fields));
}

static int
is_serial(const char *t)
{
    return t && (strcmp(t, "serial") == 0 || strcmp(t, "bigserial") == 0 ||
                 strcmp(t, "smallserial") == 0 || strcmp(t, "serial4") == 0 ||
                 strcmp(t, "serial8") == 0 || strcmp(t, "serial2") == 0);
}

/* Is n an A_Const NULL? */
static int
is_null_const(const Node *n)
{
    return n && IsA(n, A_Const) && ((const A_Const *)n)->isnull;
}

/* A column definition: its type and the flags of its constraints. */
static struct lint_op *
column_op(struct lint_stmt *st, int kind, const char *rel, const ColumnDef *cd)
{
    struct lint_op *op = lint_add_op(st, kind, rel, cd->colname);
    const ListCell *lc;

    fill_type(&op->type, cd->typeName);
    if (is_serial(op->type.name))
        op->flags |= LINT_F_SERIAL | LINT_F_DEFAULT | LINT_F_VOLATILE;
    if (cd->is_not_null)
        op->flags |= LINT_F_NOT_NULL;
    if (cd->raw_default)
        op->flags |= LINT_F_DEFAULT | expr_volatility(cd->raw_default);
    foreach (lc, cd->constraints) {
        const Constraint *c = lfirst(lc);

        if (!IsA(c, Constraint))
            continue;
        switch (c->contype) {
        case CONSTR_NOTNULL:
            op->flags |= LINT_F_NOT_NULL;
            break;
        case CONSTR_DEFAULT:
            /* DEFAULT NULL is no default at all. */
            if (!is_null_const(c->raw_expr))
                op->flags |= LINT_F_DEFAULT | expr_volatility(c->raw_expr);
            break;
        case CONSTR_IDENTITY:
            op->flags |= LINT_F_IDENTITY;
            break;
        case CONSTR_GENERATED:
            op->flags |= LINT_F_STORED;
            break;
        case CONSTR_PRIMARY:
            op->flags |= LINT_F_INLINE_INDEX | LINT_F_NOT_NULL;
            break;
        case CONSTR_UNIQUE:
            op->flags |= LINT_F_INLINE_INDEX;
            break;
        case CONSTR_CHECK:
            op->flags |= LINT_F_INLINE_CHECK;
            break;
        case CONSTR_FOREIGN:
            op->flags |= LINT_F_REFERENCES;
            free(op->other);
            op->other = rangevar_name(c->pktable);
            break;
        default:
            break;
        }
    }
    return op;
}

/* An ADD CONSTRAINT. */
static void
constraint_op(struct lint_stmt *st, const char *rel, const Constraint *c)
{
    struct lint_op *op;
    const char *col;

    switch (c->contype) {
    case CONSTR_CHECK:
        op = lint_add_op(st, LINT_OP_ADD_CHECK, rel, c->conname);
        col = not_null_check_column(c->raw_expr);
        op->other = col ? xstrdup(col) : NULL;
        op->lock = LINT_LOCK_ACCESS_EXCLUSIVE;
        break;
    case CONSTR_FOREIGN:
        op = lint_add_op(st, LINT_OP_ADD_FOREIGN, rel, c->conname);
        op->other = rangevar_name(c->pktable);
        op->lock = LINT_LOCK_SHARE_ROW_EXCLUSIVE;
        break;
    case CONSTR_PRIMARY:
    case CONSTR_UNIQUE:
    case CONSTR_EXCLUSION:
        op = lint_add_op(st, LINT_OP_ADD_UNIQUE, rel, c->conname);
        op->sub = c->contype == CONSTR_PRIMARY ? 'p' : c->contype == CONSTR_UNIQUE ? 'u' : 'x';
        if (c->indexname)
            op->flags |= LINT_F_USING_INDEX;
        op->lock = LINT_LOCK_ACCESS_EXCLUSIVE;
        break;
    default:
        op = lint_add_op(st, LINT_OP_ALTER_OTHER, rel, NULL);
        op->lock = LINT_LOCK_ACCESS_EXCLUSIVE;
        break;
    }
    if (c->skip_validation)
        op->flags |= LINT_F_NOT_VALID;
}

/*
 * The lock of ALTER TABLE subcommands no rule concerns (PostgreSQL 15's AlterTableGetLockLevel;
 * SET STORAGE takes ACCESS EXCLUSIVE there, SHARE UPDATE EXCLUSIVE only from 16).
 */
static int
alter_cmd_lock(AlterTableType subtype)
{
    switch (subtype) {
    case AT_SetStatistics:
    case AT_ClusterOn:
    case AT_DropCluster:
    case AT_SetRelOptions:
    case AT_ResetRelOptions:
    case AT_ReplaceRelOptions:
    case AT_SetOptions:
    case AT_ResetOptions:
    case AT_ValidateConstraint:
    case AT_AttachPartition:
        return LINT_LOCK_SHARE_UPDATE_EXCLUSIVE;
    case AT_EnableTrig:
    case AT_EnableAlwaysTrig:
    case AT_EnableReplicaTrig:
    case AT_EnableTrigAll:
    case AT_EnableTrigUser:
    case AT_DisableTrig:
    case AT_DisableTrigAll:
    case AT_DisableTrigUser:
        return LINT_LOCK_SHARE_ROW_EXCLUSIVE;
    default:
        return LINT_LOCK_ACCESS_EXCLUSIVE;
    }
}

/* ALTER TABLE subcommands that rewrite the table, and how to name them. */
static const char *
rewriting_subcommand(AlterTableType subtype, char *sub)
{
    switch (subtype) {
    case AT_SetTableSpace:
        *sub = 't';
        return "SET TABLESPACE";
    case AT_SetLogged:
        *sub = 'l';
        return "SET LOGGED";
    case AT_SetUnLogged:
        *sub = 'u';
        return "SET UNLOGGED";
    case AT_SetAccessMethod:
        *sub = 'a';
        return "SET ACCESS METHOD";
    default:
        return NULL;
    }
}

/*
 * Is a USING expression only the column itself, or a cast of it to the new type (type_name)?
 * Then PostgreSQL judges the change as if there were no USING (no rewrite when the types are
 * binary-coercible).
 */
static int
using_is_column(const Node *e, const char *col, const char *type_name)
{
    const ColumnRef *cr;

    if (e && IsA(e, TypeCast)) {
        const TypeCast *tc = (const TypeCast *)e;
        const char *t = tc->typeName ? node_string(last_of(tc->typeName->names)) : NULL;

        if (t == NULL || type_name == NULL || strcmp(t, type_name) != 0)
            return 0;
        e = tc->arg;
    }
    if (e == NULL || !IsA(e, ColumnRef))
        return 0;
    cr = (const ColumnRef *)e;
    return list_length(cr->fields) == 1 && col && node_string(linitial(cr->fields)) &&
           strcmp(node_string(linitial(cr->fields)), col) == 0;
}

static void
walk_alter_cmd(struct lint_stmt *st, const char *rel, unsigned only, const AlterTableCmd *c)
{
    const Node *def = c->def;
    const ColumnDef *cd = def && IsA(def, ColumnDef) ? (const ColumnDef *)def : NULL;
    const PartitionCmd *pc = def && IsA(def, PartitionCmd) ? (const PartitionCmd *)def : NULL;
    char sub = 0;
    const char *rewrite = rewriting_subcommand(c->subtype, &sub);
    struct lint_op *op;
    size_t first = st->nops;

    if (c->subtype == AT_AddColumn && cd) {
        op = column_op(st, LINT_OP_ADD_COLUMN, rel, cd);
        op->lock = LINT_LOCK_ACCESS_EXCLUSIVE;
    } else if (c->subtype == AT_AlterColumnType) {
        op = lint_add_op(st, LINT_OP_ALTER_TYPE, rel, c->name);
        op->lock = LINT_LOCK_ACCESS_EXCLUSIVE;
        if (cd) {
            fill_type(&op->type, cd->typeName);
            if (cd->raw_default && !using_is_column(cd->raw_default, c->name, op->type.name))
                op->flags |= LINT_F_USING;
        }
    } else if (c->subtype == AT_SetNotNull) {
        op = lint_add_op(st, LINT_OP_SET_NOT_NULL, rel, c->name);
        op->lock = LINT_LOCK_ACCESS_EXCLUSIVE;
    } else if (c->subtype == AT_AddConstraint && def && IsA(def, Constraint)) {
        constraint_op(st, rel, (const Constraint *)def);
    } else if (c->subtype == AT_ValidateConstraint) {
        op = lint_add_op(st, LINT_OP_VALIDATE, rel, c->name);
        op->lock = LINT_LOCK_SHARE_UPDATE_EXCLUSIVE;
    } else if (c->subtype == AT_DropColumn) {
        op = lint_add_op(st, LINT_OP_DROP_COLUMN, rel, c->name);
        op->lock = LINT_LOCK_ACCESS_EXCLUSIVE;
        if (c->behavior == DROP_CASCADE)
            op->flags |= LINT_F_CASCADE;
    } else if ((c->subtype == AT_AttachPartition || c->subtype == AT_DetachPartition) && pc) {
        char *part = rangevar_name(pc->name);
        int detach = c->subtype == AT_DetachPartition;
        int conc = pc->concurrent;

        op = lint_add_op(st, detach ? LINT_OP_DETACH : LINT_OP_ATTACH, rel, part);
        free(part);
        if (conc)
            op->flags |= LINT_F_CONCURRENT;
        op->lock = detach && !conc ? LINT_LOCK_ACCESS_EXCLUSIVE : LINT_LOCK_SHARE_UPDATE_EXCLUSIVE;
    } else if (rewrite) {
        op = lint_add_op(st, LINT_OP_ALTER_REWRITE, rel, c->name);
        op->other = xstrdup(rewrite);
        op->sub = sub;
        op->lock = LINT_LOCK_ACCESS_EXCLUSIVE;
    } else {
        op = lint_add_op(st, LINT_OP_ALTER_OTHER, rel, c->name);
        op->lock = alter_cmd_lock(c->subtype);
        if (c->subtype == AT_AddInherit && def && IsA(def, RangeVar)) {
            char *parent = rangevar_name((const RangeVar *)def);

            /* The parent: SHARE UPDATE EXCLUSIVE (the child: ACCESS EXCLUSIVE, above). */
            op = lint_add_op(st, LINT_OP_CHILD, parent, rel);
            op->lock = LINT_LOCK_SHARE_UPDATE_EXCLUSIVE;
            op->sub = 'i';
            free(parent);
        }
    }
    for (size_t i = first; i < st->nops; i++)
        st->ops[i].flags |= only;
}

static void
walk_alter_table(struct lint_stmt *st, const AlterTableStmt *a)
{
    char *rel;
    const ListCell *lc;

    /*
     * ALTER INDEX / SEQUENCE / VIEW ... share the node; only tables and materialized views
     * (whose locks block their readers) concern the rules.
     */
    if (a->objtype != OBJECT_TABLE && a->objtype != OBJECT_MATVIEW)
        return;
    rel = rangevar_name(a->relation);
    if (rel == NULL)
        return;
    foreach (lc, a->cmds)
        if (IsA(lfirst(lc), AlterTableCmd))
            walk_alter_cmd(st, rel, only_flag(a->relation), lfirst(lc));
    free(rel);
}

static void
walk_create_table(struct lint_stmt *st, const CreateStmt *cs)
{
    char *rel = rangevar_name(cs->relation);
    const ListCell *lc;

    struct lint_op *op;

    if (rel == NULL)
        return;
    op = lint_add_op(st, LINT_OP_CREATE_TABLE, rel, NULL);
    if (cs->if_not_exists)
        op->flags |= LINT_F_IF_EXISTS;
    if (cs->relation->relpersistence == 'u') /* RELPERSISTENCE_UNLOGGED */
        op->flags |= LINT_F_UNLOGGED;
    if (cs->accessMethod || cs->tablespacename)
        op->flags |= LINT_F_STORAGE;
    if (cs->partspec)
        op->flags |= LINT_F_PARTITIONED;
    /* PARTITION OF takes ACCESS EXCLUSIVE on the parent; INHERITS, SHARE UPDATE EXCLUSIVE. */
    foreach (lc, cs->inhRelations) {
        char *parent = IsA(lfirst(lc), RangeVar) ? rangevar_name(lfirst(lc)) : NULL;

        if (parent == NULL)
            continue;
        op = lint_add_op(st, LINT_OP_CHILD, parent, rel);
        op->lock = cs->partbound ? LINT_LOCK_ACCESS_EXCLUSIVE : LINT_LOCK_SHARE_UPDATE_EXCLUSIVE;
        op->sub = cs->partbound ? 'p' : 'i';
        free(parent);
    }
    foreach (lc, cs->tableElts) {
        const Node *e = lfirst(lc);

        if (IsA(e, ColumnDef)) {
            column_op(st, LINT_OP_COLUMN, rel, lfirst(lc));
        } else if (IsA(e, Constraint) && ((const Constraint *)e)->contype == CONSTR_FOREIGN) {
            char *pk = rangevar_name(((const Constraint *)e)->pktable);

            lock_op(st, pk, LINT_LOCK_SHARE_ROW_EXCLUSIVE, "FOREIGN KEY ... REFERENCES");
            free(pk);
        }
    }
    free(rel);
}

static void
walk_drop(struct lint_stmt *st, const DropStmt *ds)
{
    const ListCell *lc;

    foreach (lc, ds->objects) {
        const Node *o = lfirst(lc);
        char *name = o && IsA(o, List) ? qualified_list((const List *)o) : NULL;
        struct lint_op *op;

        if (ds->removeType == OBJECT_TABLE || ds->removeType == OBJECT_MATVIEW) {
            op = take_op(st, LINT_OP_DROP_TABLE, name, NULL);
            op->lock = LINT_LOCK_ACCESS_EXCLUSIVE;
            op->sub = ds->removeType == OBJECT_MATVIEW ? 'm' : 't';
        } else if ((ds->removeType == OBJECT_TRIGGER || ds->removeType == OBJECT_POLICY ||
                    ds->removeType == OBJECT_RULE) &&
                   o && IsA(o, List)) {
            char *owner = qualified_owner((const List *)o);

            lock_op(st, owner, LINT_LOCK_ACCESS_EXCLUSIVE,
                    ds->removeType == OBJECT_TRIGGER  ? "DROP TRIGGER"
                    : ds->removeType == OBJECT_POLICY ? "DROP POLICY"
                                                      : "DROP RULE");
            op = lint_add_op(st, LINT_OP_DROP_OTHER, NULL, NULL);
            free(owner);
            free(name);
        } else if (ds->removeType == OBJECT_INDEX) {
            op = take_op(st, LINT_OP_DROP_INDEX, NULL, name);
            op->lock =
                ds->concurrent ? LINT_LOCK_SHARE_UPDATE_EXCLUSIVE : LINT_LOCK_ACCESS_EXCLUSIVE;
            if (ds->concurrent)
                op->flags |= LINT_F_CONCURRENT;
        } else {
            op = lint_add_op(st, LINT_OP_DROP_OTHER, NULL, NULL);
            free(name);
        }
        if (ds->missing_ok)
            op->flags |= LINT_F_IF_EXISTS;
        if (ds->behavior == DROP_CASCADE)
            op->flags |= LINT_F_CASCADE;
    }
}

static void
walk_rename(struct lint_stmt *st, const RenameStmt *r)
{
    char *rel = rangevar_name(r->relation);
    struct lint_op *op;

    if (rel && (r->renameType == OBJECT_TABLE || r->renameType == OBJECT_MATVIEW)) {
        op = lint_add_op(st, LINT_OP_RENAME_TABLE, rel, NULL);
        op->other = xstrdup(r->newname ? r->newname : "?");
        op->lock = LINT_LOCK_ACCESS_EXCLUSIVE;
    } else if (rel && r->renameType == OBJECT_COLUMN &&
               (r->relationType == OBJECT_TABLE || r->relationType == OBJECT_MATVIEW)) {
        op = lint_add_op(st, LINT_OP_RENAME_COLUMN, rel, r->subname);
        op->other = xstrdup(r->newname ? r->newname : "?");
        op->lock = LINT_LOCK_ACCESS_EXCLUSIVE;
    } else if (rel && (r->renameType == OBJECT_TABCONSTRAINT || r->renameType == OBJECT_TRIGGER ||
                       r->renameType == OBJECT_POLICY || r->renameType == OBJECT_RULE)) {
        lock_op(st, rel, LINT_LOCK_ACCESS_EXCLUSIVE,
                r->renameType == OBJECT_TABCONSTRAINT ? "RENAME CONSTRAINT"
                : r->renameType == OBJECT_TRIGGER     ? "ALTER TRIGGER ... RENAME"
                : r->renameType == OBJECT_POLICY      ? "ALTER POLICY ... RENAME"
                                                      : "ALTER RULE ... RENAME");
    }
    free(rel);
}

/* The DefElem of a list named name, or NULL. */
static const DefElem *
defelem_named(const List *options, const char *name)
{
    const ListCell *lc;

    foreach (lc, options) {
        const DefElem *de = lfirst(lc);

        if (IsA(de, DefElem) && de->defname && strcmp(de->defname, name) == 0)
            return de;
    }
    return NULL;
}

/* Is the DefElem list's option name set (REINDEX (CONCURRENTLY), VACUUM (FULL))? */
static int
option_on(const List *options, const char *name)
{
    const DefElem *de = defelem_named(options, name);
    const char *s;

    if (de == NULL)
        return 0;
    /* NAME, NAME true, NAME 1, NAME on; not NAME false / off / 0. */
    if (de->arg == NULL)
        return 1;
    s = node_string(de->arg);
    if (s)
        return strcasecmp(s, "false") != 0 && strcasecmp(s, "off") != 0;
    if (IsA(de->arg, Integer))
        return ((const Integer *)de->arg)->ival != 0;
    if (IsA(de->arg, Boolean))
        return ((const Boolean *)de->arg)->boolval;
    return 1;
}

/* Statements on a list of RangeVar nodes (LOCK, TRUNCATE), one operation each. */
static void
walk_relations(struct lint_stmt *st, const List *rels, int kind, int lock, unsigned flags)
{
    const ListCell *lc;

    foreach (lc, rels) {
        const Node *r = lfirst(lc);
        char *rel = r && IsA(r, RangeVar) ? rangevar_name((const RangeVar *)r) : NULL;
        struct lint_op *op;

        if (rel == NULL)
            continue;
        op = lint_add_op(st, kind, rel, NULL);
        op->lock = lock;
        op->flags |= flags | only_flag((const RangeVar *)r);
        free(rel);
    }
}

static void
walk_index(struct lint_stmt *st, const IndexStmt *ix)
{
    char *rel = rangevar_name(ix->relation), *idx = NULL;
    struct lint_op *op;

    if (rel == NULL)
        return;
    if (ix->idxname)
        idx =
            qualified(ix->relation->schemaname ? ix->relation->schemaname : "public", ix->idxname);
    op = take_op(st, LINT_OP_CREATE_INDEX, rel, idx);
    op->lock = ix->concurrent ? LINT_LOCK_SHARE_UPDATE_EXCLUSIVE : LINT_LOCK_SHARE;
    if (ix->concurrent)
        op->flags |= LINT_F_CONCURRENT;
    if (ix->if_not_exists)
        op->flags |= LINT_F_IF_EXISTS;
    op->flags |= only_flag(ix->relation);
    op->sub = ix->unique ? 'u' : 'i';
}

static void
walk_reindex(struct lint_stmt *st, const ReindexStmt *r)
{
    int conc = option_on(r->params, "concurrently");
    char *rel = r->relation ? rangevar_name(r->relation) : xstrdup(r->name ? r->name : "?");
    struct lint_op *op = lint_add_op(st, LINT_OP_REINDEX, rel, NULL);

    op->sub = r->kind == REINDEX_OBJECT_INDEX ? 'i' : r->kind == REINDEX_OBJECT_TABLE ? 't' : 's';
    op->lock = conc             ? LINT_LOCK_SHARE_UPDATE_EXCLUSIVE
               : op->sub == 'i' ? LINT_LOCK_ACCESS_EXCLUSIVE
                                : LINT_LOCK_SHARE;
    if (conc)
        op->flags |= LINT_F_CONCURRENT;
    free(rel);
}

static void
walk_vacuum(struct lint_stmt *st, const VacuumStmt *v)
{
    struct lint_op *op;
    const ListCell *lc;

    if (!v->is_vacuumcmd || !option_on(v->options, "full"))
        return;
    if (v->rels == NIL) {
        op = lint_add_op(st, LINT_OP_VACUUM_FULL, NULL, NULL);
        op->lock = LINT_LOCK_ACCESS_EXCLUSIVE;
    }
    foreach (lc, v->rels) {
        const Node *r = lfirst(lc);
        char *rel = r && IsA(r, VacuumRelation)
                        ? rangevar_name(((const VacuumRelation *)r)->relation)
                        : NULL;

        if (rel == NULL)
            continue;
        op = lint_add_op(st, LINT_OP_VACUUM_FULL, rel, NULL);
        op->lock = LINT_LOCK_ACCESS_EXCLUSIVE;
        free(rel);
    }
}

/* UPDATE / DELETE without WHERE (and without FROM / USING, which join: a filter, usually). */
static void
walk_dml(struct lint_stmt *st, const RangeVar *relation, int filtered, int kind)
{
    char *rel;
    struct lint_op *op;

    if (filtered)
        return;
    rel = rangevar_name(relation);
    if (rel == NULL)
        return;
    op = lint_add_op(st, kind, rel, NULL);
    op->lock = LINT_LOCK_ROW_EXCLUSIVE;
    free(rel);
}

/* The lint's operations of one parsed statement. */
static void
walk_statement(struct lint_stmt *st, const Node *n)
{
    struct lint_op *op;
    char *rel;

    switch (nodeTag(n)) {
    case T_CreateStmt:
        walk_create_table(st, (const CreateStmt *)n);
        break;
    case T_CreateTableAsStmt: {
        const IntoClause *into = ((const CreateTableAsStmt *)n)->into;

        rel = into ? rangevar_name(into->rel) : NULL;
        if (rel)
            lint_add_op(st, LINT_OP_CREATE_TABLE, rel, NULL);
        free(rel);
        break;
    }
    case T_AlterTableStmt:
        walk_alter_table(st, (const AlterTableStmt *)n);
        break;
    case T_IndexStmt:
        walk_index(st, (const IndexStmt *)n);
        break;
    case T_DropStmt:
        walk_drop(st, (const DropStmt *)n);
        break;
    case T_RenameStmt:
        walk_rename(st, (const RenameStmt *)n);
        break;
    case T_ReindexStmt:
        walk_reindex(st, (const ReindexStmt *)n);
        break;
    case T_VacuumStmt:
        walk_vacuum(st, (const VacuumStmt *)n);
        break;
    case T_ClusterStmt:
        rel = rangevar_name(((const ClusterStmt *)n)->relation);
        if (rel) {
            op = lint_add_op(st, LINT_OP_CLUSTER, rel, NULL);
            op->lock = LINT_LOCK_ACCESS_EXCLUSIVE;
        }
        free(rel);
        break;
    case T_RefreshMatViewStmt: {
        const RefreshMatViewStmt *r = (const RefreshMatViewStmt *)n;

        rel = rangevar_name(r->relation);
        if (rel) {
            op = lint_add_op(st, LINT_OP_REFRESH_MATVIEW, rel, NULL);
            op->lock = r->concurrent ? LINT_LOCK_EXCLUSIVE : LINT_LOCK_ACCESS_EXCLUSIVE;
            if (r->concurrent)
                op->flags |= LINT_F_CONCURRENT;
        }
        free(rel);
        break;
    }
    case T_LockStmt:
        walk_relations(st, ((const LockStmt *)n)->relations, LINT_OP_LOCK_TABLE,
                       ((const LockStmt *)n)->mode, 0);
        break;
    case T_TruncateStmt:
        walk_relations(st, ((const TruncateStmt *)n)->relations, LINT_OP_TRUNCATE,
                       LINT_LOCK_ACCESS_EXCLUSIVE,
                       ((const TruncateStmt *)n)->behavior == DROP_CASCADE ? LINT_F_CASCADE : 0);
        break;
    case T_UpdateStmt: {
        const UpdateStmt *u = (const UpdateStmt *)n;

        walk_dml(st, u->relation, u->whereClause || u->fromClause, LINT_OP_UPDATE_ALL);
        break;
    }
    case T_DeleteStmt: {
        const DeleteStmt *d = (const DeleteStmt *)n;

        walk_dml(st, d->relation, d->whereClause || d->usingClause, LINT_OP_DELETE_ALL);
        break;
    }
    case T_CreateTrigStmt:
        lock_rangevar(st, ((const CreateTrigStmt *)n)->relation, LINT_LOCK_SHARE_ROW_EXCLUSIVE,
                      "CREATE TRIGGER");
        break;
    case T_RuleStmt:
        lock_rangevar(st, ((const RuleStmt *)n)->relation, LINT_LOCK_ACCESS_EXCLUSIVE,
                      "CREATE RULE");
        break;
    case T_CreatePolicyStmt:
        lock_rangevar(st, ((const CreatePolicyStmt *)n)->table, LINT_LOCK_ACCESS_EXCLUSIVE,
                      "CREATE POLICY");
        break;
    case T_AlterPolicyStmt:
        lock_rangevar(st, ((const AlterPolicyStmt *)n)->table, LINT_LOCK_ACCESS_EXCLUSIVE,
                      "ALTER POLICY");
        break;
    case T_AlterObjectSchemaStmt: {
        const AlterObjectSchemaStmt *a = (const AlterObjectSchemaStmt *)n;

        if (a->objectType == OBJECT_TABLE || a->objectType == OBJECT_MATVIEW)
            lock_rangevar(st, a->relation, LINT_LOCK_ACCESS_EXCLUSIVE, "SET SCHEMA");
        break;
    }
    case T_CreateDomainStmt: {
        const CreateDomainStmt *d = (const CreateDomainStmt *)n;
        const ListCell *lc;
        int checked = 0;

        foreach (lc, d->constraints) {
            const Constraint *c = lfirst(lc);

            checked |=
                IsA(c, Constraint) && (c->contype == CONSTR_CHECK || c->contype == CONSTR_NOTNULL);
        }
        op = lint_add_op(st, LINT_OP_DOMAIN, NULL, node_string(last_of(d->domainname)));
        op->sub = 'c';
        fill_type(&op->type, d->typeName);
        if (checked)
            op->flags |= LINT_F_INLINE_CHECK;
        break;
    }
    case T_AlterDomainStmt: {
        const AlterDomainStmt *d = (const AlterDomainStmt *)n;
        /* 'C' ADD CONSTRAINT, 'V' VALIDATE CONSTRAINT, 'O' SET NOT NULL scan every column. */
        char sub = d->subtype == 'C' ? 'a' : d->subtype == 'V' ? 'v' : d->subtype == 'O' ? 'n' : 0;

        if (sub == 0)
            break;
        op = lint_add_op(st, LINT_OP_DOMAIN, NULL, node_string(last_of(d->typeName)));
        op->sub = sub;
        op->lock = LINT_LOCK_SHARE;
        if (sub == 'a' && d->def && IsA(d->def, Constraint) &&
            ((const Constraint *)d->def)->skip_validation)
            op->flags |= LINT_F_NOT_VALID;
        break;
    }
    case T_AlterEnumStmt: {
        const AlterEnumStmt *e = (const AlterEnumStmt *)n;

        /* ADD VALUE (with oldVal it is RENAME VALUE) */
        if (e->oldVal)
            break;
        rel = qualified_list(e->typeName);
        op = lint_add_op(st, LINT_OP_ENUM_ADD, NULL, rel);
        op->other = xstrdup(e->newVal ? e->newVal : "?");
        if (e->skipIfNewValExists)
            op->flags |= LINT_F_IF_EXISTS;
        free(rel);
        break;
    }
    default:
        break;
    }
}

/* ---- sqlcheck.c's questions ---- */

/*
 * The statements PostgreSQL runs only outside a transaction block (PreventInTransactionBlock
 * callers in PostgreSQL 15): how to name the statement, or NULL if it is fine.
 */
static const char *
needs_no_transaction(const Node *n)
{
    switch (nodeTag(n)) {
    case T_CreatedbStmt:
        return "CREATE DATABASE";
    case T_DropdbStmt:
        return "DROP DATABASE";
    case T_AlterSystemStmt:
        return "ALTER SYSTEM";
    case T_CreateTableSpaceStmt:
        return "CREATE TABLESPACE";
    case T_DropTableSpaceStmt:
        return "DROP TABLESPACE";
    case T_CreateSubscriptionStmt:
        return "CREATE SUBSCRIPTION";
    case T_DropSubscriptionStmt:
        return "DROP SUBSCRIPTION";
    case T_IndexStmt:
        return ((const IndexStmt *)n)->concurrent ? "CREATE INDEX CONCURRENTLY" : NULL;
    case T_DropStmt:
        return ((const DropStmt *)n)->concurrent ? "DROP INDEX CONCURRENTLY" : NULL;
    case T_ReindexStmt: {
        const ReindexStmt *r = (const ReindexStmt *)n;

        if (defelem_named(r->params, "concurrently"))
            return "REINDEX CONCURRENTLY";
        if (r->kind == REINDEX_OBJECT_SCHEMA || r->kind == REINDEX_OBJECT_SYSTEM ||
            r->kind == REINDEX_OBJECT_DATABASE)
            return "REINDEX SCHEMA, SYSTEM or DATABASE";
        return NULL;
    }
    case T_VacuumStmt:
        return ((const VacuumStmt *)n)->is_vacuumcmd ? "VACUUM" : NULL;
    case T_AlterDatabaseStmt:
        return defelem_named(((const AlterDatabaseStmt *)n)->options, "tablespace")
                   ? "ALTER DATABASE SET TABLESPACE"
                   : NULL;
    case T_ClusterStmt:
        return ((const ClusterStmt *)n)->relation == NULL ? "CLUSTER without a table" : NULL;
    case T_AlterTableStmt: {
        const ListCell *lc;

        foreach (lc, ((const AlterTableStmt *)n)->cmds) {
            const AlterTableCmd *c = lfirst(lc);

            if (IsA(c, AlterTableCmd) && c->def && IsA(c->def, PartitionCmd) &&
                ((const PartitionCmd *)c->def)->concurrent)
                return "ALTER TABLE ... DETACH PARTITION CONCURRENTLY";
        }
        return NULL;
    }
    default:
        return NULL;
    }
}

/* Transaction control that would end or nest sealift's own transaction. */
static void
transaction_control(const Node *n, struct pgstmt *p)
{
    if (!IsA(n, TransactionStmt))
        return;
    switch (((const TransactionStmt *)n)->kind) {
    case TRANS_STMT_BEGIN:
    case TRANS_STMT_START:
        p->txn = "BEGIN";
        break;
    case TRANS_STMT_COMMIT:
        p->txn = "COMMIT";
        break;
    case TRANS_STMT_ROLLBACK:
        p->txn = "ROLLBACK";
        break;
    case TRANS_STMT_PREPARE:
        p->txn = "PREPARE TRANSACTION";
        break;
    case TRANS_STMT_COMMIT_PREPARED:
        p->txn = "COMMIT PREPARED";
        break;
    case TRANS_STMT_ROLLBACK_PREPARED:
        p->txn = "ROLLBACK PREPARED";
        break;
    default:
        /* Savepoints are fine inside our transaction, meaningless outside one. */
        p->txn = "SAVEPOINT";
        p->savepoint = 1;
        break;
    }
}

/* COPY ... FROM STDIN or TO STDOUT (no file, no program)? */
static int
copy_stdio(const Node *n)
{
    const CopyStmt *c = (const CopyStmt *)n;

    if (!IsA(n, CopyStmt) || (c->filename && c->filename[0] != '\0') || c->is_program)
        return PGSTMT_COPY_NONE;
    return c->is_from ? PGSTMT_COPY_FROM_STDIN : PGSTMT_COPY_TO_STDOUT;
}

int
pgnodes_parse(const char *text, int lint, struct pgstmt_list *out)
{
    MemoryContext ctx;
    PgQueryInternalParsetreeAndError res;
    const ListCell *lc;
    int rc = 0;
    /*
     * A statement's operations are gathered here, then copied to a vector of their exact
     * size: they are kept until the whole chain is judged, and a vector grown per statement
     * (eight operations at first, for the one or two most statements have) would be most of
     * the lint's memory on a long chain, and pages the build touches for nothing.
     */
    struct lint_stmt scratch = {0};

    parser_used = 1;
    ctx = pg_query_enter_memory_context();
    res = pg_query_raw_parse(text);
    if (res.error) {
        pg_query_free_error(res.error);
        rc = -1;
    }
    foreach (lc, rc == 0 ? res.tree : NIL) {
        const RawStmt *rs = lfirst(lc);
        const Node *n = rs->stmt;
        struct pgstmt *p;

        out->v = xgrow(out->v, &out->cap, out->n + 1, sizeof(*out->v));
        p = &out->v[out->n++];
        memset(p, 0, sizeof(*p));
        p->loc = (size_t)rs->stmt_location;
        p->len = (size_t)rs->stmt_len;
        if (n == NULL)
            continue;
        transaction_control(n, p);
        p->copy = copy_stdio(n);
        p->no_tx = needs_no_transaction(n);
        if (lint)
            walk_statement(&scratch, n);
        if (scratch.nops > 0) {
            p->lint.ops = xmalloc(scratch.nops * sizeof(*scratch.ops));
            memcpy(p->lint.ops, scratch.ops, scratch.nops * sizeof(*scratch.ops));
            p->lint.nops = p->lint.ops_cap = scratch.nops;
            scratch.nops = 0; /* their strings are p's now */
        }
    }
    free(scratch.ops);
    free(res.stderr_buffer);
    pg_query_exit_memory_context(ctx);
    return rc;
}

void
pgstmt_list_release(struct pgstmt_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        lint_stmt_release_ops(&l->v[i].lint);
    free(l->v);
    memset(l, 0, sizeof(*l));
}

int
pgnodes_split(const char *text, struct pgstmt_list *out, struct pgnodes_error *err)
{
    PgQuerySplitResult split = pg_query_split_with_parser(text);

    parser_used = 1;
    if (split.error) {
        err->message = xstrdup(split.error->message ? split.error->message : "syntax error");
        err->cursorpos = split.error->cursorpos;
        pg_query_free_split_result(split);
        return -1;
    }
    for (int i = 0; i < split.n_stmts; i++) {
        struct pgstmt *p;

        out->v = xgrow(out->v, &out->cap, out->n + 1, sizeof(*out->v));
        p = &out->v[out->n++];
        memset(p, 0, sizeof(*p));
        p->loc = (size_t)split.stmts[i]->stmt_location;
        p->len = (size_t)split.stmts[i]->stmt_len;
    }
    pg_query_free_split_result(split);
    return 0;
}

void
pgnodes_error_release(struct pgnodes_error *err)
{
    free(err->message);
    err->message = NULL;
}

void
pgnodes_identifiers(const char *text, pgnodes_ident_cb cb, void *arg)
{
    PgQueryScanResult scan = pg_query_scan(text);
    PgQuery__ScanResult *res;

    parser_used = 1;
    if (scan.error) {
        pg_query_free_scan_result(scan);
        return;
    }
    res = pg_query__scan_result__unpack(NULL, scan.pbuf.len, (const uint8_t *)scan.pbuf.data);
    for (size_t i = 0; res && i < res->n_tokens; i++) {
        const PgQuery__ScanToken *tk = res->tokens[i];

        if (tk->token == PG_QUERY__TOKEN__IDENT)
            cb(text + tk->start, (size_t)(tk->end - tk->start), arg);
    }
    if (res)
        pg_query__scan_result__free_unpacked(res, NULL);
    pg_query_free_scan_result(scan);
}

void
pgnodes_shutdown(void)
{
    if (parser_used)
        pg_query_exit();
    parser_used = 0;
}
