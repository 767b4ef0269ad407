/*
 * lint_tree.c: the lint's first stage: read each statement's libpg_query parse tree and say,
 * in neutral operations (lint.h), what the statement does to which relation.
 * Layer: compiler. Besides sqlcheck.c, the one file that speaks libpg_query: sqlcheck.c runs
 * the parser for syntax and transaction rules and builds trees only for the few statements
 * those concern; this file reads the trees of DDL and data-changing statements, a walk of
 * some hundred lines over node types sqlcheck.c never needs, kept apart so that neither
 * file's changes touch the other.
 */
#include "lint.h"
#include "sqltext.h"
#include "sealift/xalloc.h"

#include <pg_query.h>
#include <pg_query/pg_query.pb-c.h>
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

/* "schema.name" of a RangeVar (public when unqualified). */
static char *
rangevar_name(const PgQuery__RangeVar *rv)
{
    if (rv == NULL)
        return NULL;
    return xasprintf("%s.%s", rv->schemaname && rv->schemaname[0] ? rv->schemaname : "public",
                     rv->relname);
}

static const char *
node_string(const PgQuery__Node *n)
{
    return n && n->node_case == PG_QUERY__NODE__NODE_STRING ? n->string->sval : NULL;
}

/* "schema.name" of a name list (a List of String nodes), public when unqualified. */
static char *
qualified_list(PgQuery__Node *const *items, size_t n)
{
    const char *last = n ? node_string(items[n - 1]) : NULL;
    const char *schema = n >= 2 ? node_string(items[n - 2]) : NULL;

    if (last == NULL)
        return xstrdup("?");
    return xasprintf("%s.%s", schema ? schema : "public", last);
}

static void
fill_type(struct lint_type *t, const PgQuery__TypeName *tn)
{
    const char *last;

    if (tn == NULL || tn->n_names == 0)
        return;
    last = node_string(tn->names[tn->n_names - 1]);
    t->name = xstrdup(last ? last : "?");
    for (size_t i = 0; i < tn->n_typmods && i < 2; i++) {
        const PgQuery__Node *m = tn->typmods[i];

        if (m->node_case == PG_QUERY__NODE__NODE_A_CONST &&
            m->a_const->val_case == PG_QUERY__A__CONST__VAL_IVAL)
            t->mod[i] = m->a_const->ival->ival;
    }
    t->array = tn->n_array_bounds > 0;
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

/* Flags LINT_F_VOLATILE / LINT_F_NONCONST of a DEFAULT expression. */
static unsigned
expr_volatility(const PgQuery__Node *n)
{
    unsigned f = 0;

    if (n == NULL)
        return 0;
    switch (n->node_case) {
    case PG_QUERY__NODE__NODE_A_CONST:
    case PG_QUERY__NODE__NODE_SQLVALUE_FUNCTION:
        return 0;
    case PG_QUERY__NODE__NODE_TYPE_CAST:
        return expr_volatility(n->type_cast->arg);
    case PG_QUERY__NODE__NODE_A_EXPR:
        return expr_volatility(n->a_expr->lexpr) | expr_volatility(n->a_expr->rexpr);
    case PG_QUERY__NODE__NODE_BOOL_EXPR:
        for (size_t i = 0; i < n->bool_expr->n_args; i++)
            f |= expr_volatility(n->bool_expr->args[i]);
        return f;
    case PG_QUERY__NODE__NODE_A_ARRAY_EXPR:
        for (size_t i = 0; i < n->a_array_expr->n_elements; i++)
            f |= expr_volatility(n->a_array_expr->elements[i]);
        return f;
    case PG_QUERY__NODE__NODE_FUNC_CALL: {
        const PgQuery__FuncCall *fc = n->func_call;
        const char *name = fc->n_funcname ? node_string(fc->funcname[fc->n_funcname - 1]) : NULL;

        if (name && in_list(name, volatile_funcs, sizeof(volatile_funcs) / sizeof(*volatile_funcs)))
            f |= LINT_F_VOLATILE;
        else if (!name ||
                 !in_list(name, stable_funcs, sizeof(stable_funcs) / sizeof(*stable_funcs)))
            f |= LINT_F_NONCONST;
        for (size_t i = 0; i < fc->n_args; i++)
            f |= expr_volatility(fc->args[i]);
        return f;
    }
    case PG_QUERY__NODE__NODE_COALESCE_EXPR:
        for (size_t i = 0; i < n->coalesce_expr->n_args; i++)
            f |= expr_volatility(n->coalesce_expr->args[i]);
        return f;
    default:
        /* A subquery, a column reference...: not a constant PostgreSQL can keep. */
        return LINT_F_NONCONST;
    }
}

/* The column named by "col IS NOT NULL", or NULL. */
static const char *
not_null_check_column(const PgQuery__Node *e)
{
    const PgQuery__ColumnRef *cr;

    if (e == NULL || e->node_case != PG_QUERY__NODE__NODE_NULL_TEST ||
        e->null_test->nulltesttype != PG_QUERY__NULL_TEST_TYPE__IS_NOT_NULL ||
        e->null_test->arg == NULL ||
        e->null_test->arg->node_case != PG_QUERY__NODE__NODE_COLUMN_REF)
        return NULL;
    cr = e->null_test->arg->column_ref;
    return cr->n_fields == 1 ? node_string(cr->fields[0]) : NULL;
}

static int
is_serial(const char *t)
{
    return t && (strcmp(t, "serial") == 0 || strcmp(t, "bigserial") == 0 ||
                 strcmp(t, "smallserial") == 0 || strcmp(t, "serial4") == 0 ||
                 strcmp(t, "serial8") == 0 || strcmp(t, "serial2") == 0);
}

/* A column definition: its type and the flags of its inline constraints. */
static struct lint_op *
column_op(struct lint_stmt *st, int kind, const char *rel, const PgQuery__ColumnDef *cd)
{
    struct lint_op *op = add_op(st, kind, rel, cd->colname);

    fill_type(&op->type, cd->type_name);
    if (is_serial(op->type.name))
        op->flags |= LINT_F_SERIAL | LINT_F_DEFAULT | LINT_F_VOLATILE;
    if (cd->is_not_null)
        op->flags |= LINT_F_NOT_NULL;
    if (cd->raw_default) {
        op->flags |= LINT_F_DEFAULT | expr_volatility(cd->raw_default);
    }
    for (size_t i = 0; i < cd->n_constraints; i++) {
        const PgQuery__Constraint *c;

        if (cd->constraints[i]->node_case != PG_QUERY__NODE__NODE_CONSTRAINT)
            continue;
        c = cd->constraints[i]->constraint;
        switch (c->contype) {
        case PG_QUERY__CONSTR_TYPE__CONSTR_NOTNULL:
            op->flags |= LINT_F_NOT_NULL;
            break;
        case PG_QUERY__CONSTR_TYPE__CONSTR_DEFAULT:
            /* DEFAULT NULL is no default at all. */
            if (!(c->raw_expr && c->raw_expr->node_case == PG_QUERY__NODE__NODE_A_CONST &&
                  c->raw_expr->a_const->isnull))
                op->flags |= LINT_F_DEFAULT | expr_volatility(c->raw_expr);
            break;
        case PG_QUERY__CONSTR_TYPE__CONSTR_IDENTITY:
            op->flags |= LINT_F_IDENTITY;
            break;
        case PG_QUERY__CONSTR_TYPE__CONSTR_GENERATED:
            op->flags |= LINT_F_STORED;
            break;
        case PG_QUERY__CONSTR_TYPE__CONSTR_PRIMARY:
            op->flags |= LINT_F_INLINE_INDEX | LINT_F_NOT_NULL;
            break;
        case PG_QUERY__CONSTR_TYPE__CONSTR_UNIQUE:
            op->flags |= LINT_F_INLINE_INDEX;
            break;
        case PG_QUERY__CONSTR_TYPE__CONSTR_CHECK:
            op->flags |= LINT_F_INLINE_CHECK;
            break;
        case PG_QUERY__CONSTR_TYPE__CONSTR_FOREIGN:
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

/* An ADD CONSTRAINT (or a table constraint of ADD COLUMN). */
static void
constraint_op(struct lint_stmt *st, const char *rel, const PgQuery__Constraint *c)
{
    struct lint_op *op;
    const char *col;

    switch (c->contype) {
    case PG_QUERY__CONSTR_TYPE__CONSTR_CHECK:
        op = add_op(st, LINT_OP_ADD_CHECK, rel, c->conname[0] ? c->conname : NULL);
        if (c->skip_validation)
            op->flags |= LINT_F_NOT_VALID;
        col = not_null_check_column(c->raw_expr);
        op->other = col ? xstrdup(col) : NULL;
        op->lock = LINT_LOCK_ACCESS_EXCLUSIVE;
        break;
    case PG_QUERY__CONSTR_TYPE__CONSTR_FOREIGN:
        op = add_op(st, LINT_OP_ADD_FOREIGN, rel, c->conname[0] ? c->conname : NULL);
        if (c->skip_validation)
            op->flags |= LINT_F_NOT_VALID;
        op->other = rangevar_name(c->pktable);
        op->lock = LINT_LOCK_SHARE_ROW_EXCLUSIVE;
        break;
    case PG_QUERY__CONSTR_TYPE__CONSTR_PRIMARY:
    case PG_QUERY__CONSTR_TYPE__CONSTR_UNIQUE:
    case PG_QUERY__CONSTR_TYPE__CONSTR_EXCLUSION:
        op = add_op(st, LINT_OP_ADD_UNIQUE, rel, c->conname[0] ? c->conname : NULL);
        op->sub = c->contype == PG_QUERY__CONSTR_TYPE__CONSTR_PRIMARY  ? 'p'
                  : c->contype == PG_QUERY__CONSTR_TYPE__CONSTR_UNIQUE ? 'u'
                                                                       : 'x';
        if (c->indexname && c->indexname[0])
            op->flags |= LINT_F_USING_INDEX;
        op->lock = LINT_LOCK_ACCESS_EXCLUSIVE;
        break;
    default:
        op = add_op(st, LINT_OP_ALTER_OTHER, rel, NULL);
        op->lock = LINT_LOCK_ACCESS_EXCLUSIVE;
        break;
    }
}

/* The lock of ALTER TABLE subcommands no rule concerns (PostgreSQL's AlterTableGetLockLevel). */
static int
alter_cmd_lock(int subtype)
{
    switch (subtype) {
    case PG_QUERY__ALTER_TABLE_TYPE__AT_SetStatistics:
    case PG_QUERY__ALTER_TABLE_TYPE__AT_ClusterOn:
    case PG_QUERY__ALTER_TABLE_TYPE__AT_DropCluster:
    case PG_QUERY__ALTER_TABLE_TYPE__AT_SetRelOptions:
    case PG_QUERY__ALTER_TABLE_TYPE__AT_ResetRelOptions:
    case PG_QUERY__ALTER_TABLE_TYPE__AT_ReplaceRelOptions:
    case PG_QUERY__ALTER_TABLE_TYPE__AT_SetOptions:
    case PG_QUERY__ALTER_TABLE_TYPE__AT_ResetOptions:
    case PG_QUERY__ALTER_TABLE_TYPE__AT_SetStorage:
    case PG_QUERY__ALTER_TABLE_TYPE__AT_ValidateConstraint:
    case PG_QUERY__ALTER_TABLE_TYPE__AT_AttachPartition:
        return LINT_LOCK_SHARE_UPDATE_EXCLUSIVE;
    case PG_QUERY__ALTER_TABLE_TYPE__AT_EnableTrig:
    case PG_QUERY__ALTER_TABLE_TYPE__AT_EnableAlwaysTrig:
    case PG_QUERY__ALTER_TABLE_TYPE__AT_EnableReplicaTrig:
    case PG_QUERY__ALTER_TABLE_TYPE__AT_EnableTrigAll:
    case PG_QUERY__ALTER_TABLE_TYPE__AT_EnableTrigUser:
    case PG_QUERY__ALTER_TABLE_TYPE__AT_DisableTrig:
    case PG_QUERY__ALTER_TABLE_TYPE__AT_DisableTrigAll:
    case PG_QUERY__ALTER_TABLE_TYPE__AT_DisableTrigUser:
        return LINT_LOCK_SHARE_ROW_EXCLUSIVE;
    default:
        return LINT_LOCK_ACCESS_EXCLUSIVE;
    }
}

static void
walk_alter_table(struct lint_stmt *st, const PgQuery__AlterTableStmt *a)
{
    char *rel;

    /* ALTER INDEX / SEQUENCE / VIEW ... share the node; only tables concern the rules. */
    if (a->objtype != PG_QUERY__OBJECT_TYPE__OBJECT_TABLE)
        return;
    rel = rangevar_name(a->relation);
    for (size_t i = 0; i < a->n_cmds; i++) {
        const PgQuery__AlterTableCmd *c;
        struct lint_op *op;

        if (a->cmds[i]->node_case != PG_QUERY__NODE__NODE_ALTER_TABLE_CMD)
            continue;
        c = a->cmds[i]->alter_table_cmd;
        switch (c->subtype) {
        case PG_QUERY__ALTER_TABLE_TYPE__AT_AddColumn:
            if (c->def && c->def->node_case == PG_QUERY__NODE__NODE_COLUMN_DEF) {
                op = column_op(st, LINT_OP_ADD_COLUMN, rel, c->def->column_def);
                op->lock = LINT_LOCK_ACCESS_EXCLUSIVE;
                if (c->missing_ok)
                    op->flags |= LINT_F_IF_EXISTS;
            }
            break;
        case PG_QUERY__ALTER_TABLE_TYPE__AT_AlterColumnType:
            op = add_op(st, LINT_OP_ALTER_TYPE, rel, c->name);
            op->lock = LINT_LOCK_ACCESS_EXCLUSIVE;
            if (c->def && c->def->node_case == PG_QUERY__NODE__NODE_COLUMN_DEF) {
                fill_type(&op->type, c->def->column_def->type_name);
                if (c->def->column_def->raw_default)
                    op->flags |= LINT_F_USING;
            }
            break;
        case PG_QUERY__ALTER_TABLE_TYPE__AT_SetNotNull:
            op = add_op(st, LINT_OP_SET_NOT_NULL, rel, c->name);
            op->lock = LINT_LOCK_ACCESS_EXCLUSIVE;
            break;
        case PG_QUERY__ALTER_TABLE_TYPE__AT_AddConstraint:
            if (c->def && c->def->node_case == PG_QUERY__NODE__NODE_CONSTRAINT)
                constraint_op(st, rel, c->def->constraint);
            break;
        case PG_QUERY__ALTER_TABLE_TYPE__AT_ValidateConstraint:
            op = add_op(st, LINT_OP_VALIDATE, rel, c->name);
            op->lock = LINT_LOCK_SHARE_UPDATE_EXCLUSIVE;
            break;
        case PG_QUERY__ALTER_TABLE_TYPE__AT_DropColumn:
            op = add_op(st, LINT_OP_DROP_COLUMN, rel, c->name);
            op->lock = LINT_LOCK_ACCESS_EXCLUSIVE;
            if (c->behavior == PG_QUERY__DROP_BEHAVIOR__DROP_CASCADE)
                op->flags |= LINT_F_CASCADE;
            break;
        case PG_QUERY__ALTER_TABLE_TYPE__AT_AttachPartition:
        case PG_QUERY__ALTER_TABLE_TYPE__AT_DetachPartition:
            if (c->def && c->def->node_case == PG_QUERY__NODE__NODE_PARTITION_CMD) {
                char *part = rangevar_name(c->def->partition_cmd->name);
                int detach = c->subtype == PG_QUERY__ALTER_TABLE_TYPE__AT_DetachPartition;

                op = add_op(st, detach ? LINT_OP_DETACH : LINT_OP_ATTACH, rel, part);
                free(part);
                if (c->def->partition_cmd->concurrent)
                    op->flags |= LINT_F_CONCURRENT;
                op->lock = detach && !c->def->partition_cmd->concurrent
                               ? LINT_LOCK_ACCESS_EXCLUSIVE
                               : LINT_LOCK_SHARE_UPDATE_EXCLUSIVE;
            }
            break;
        case PG_QUERY__ALTER_TABLE_TYPE__AT_SetTableSpace:
        case PG_QUERY__ALTER_TABLE_TYPE__AT_SetLogged:
        case PG_QUERY__ALTER_TABLE_TYPE__AT_SetUnLogged:
        case PG_QUERY__ALTER_TABLE_TYPE__AT_SetAccessMethod:
            op = add_op(st, LINT_OP_ALTER_REWRITE, rel, NULL);
            op->other = xstrdup(
                c->subtype == PG_QUERY__ALTER_TABLE_TYPE__AT_SetTableSpace ? "SET TABLESPACE"
                : c->subtype == PG_QUERY__ALTER_TABLE_TYPE__AT_SetLogged   ? "SET LOGGED"
                : c->subtype == PG_QUERY__ALTER_TABLE_TYPE__AT_SetUnLogged ? "SET UNLOGGED"
                                                                           : "SET ACCESS METHOD");
            op->lock = LINT_LOCK_ACCESS_EXCLUSIVE;
            break;
        case PG_QUERY__ALTER_TABLE_TYPE__AT_AddIdentity:
            op = add_op(st, LINT_OP_ALTER_OTHER, rel, c->name);
            op->lock = LINT_LOCK_ACCESS_EXCLUSIVE;
            break;
        default:
            op = add_op(st, LINT_OP_ALTER_OTHER, rel, c->name && c->name[0] ? c->name : NULL);
            op->lock = alter_cmd_lock(c->subtype);
            break;
        }
    }
    free(rel);
}

static void
walk_create_table(struct lint_stmt *st, const PgQuery__CreateStmt *cs)
{
    char *rel = rangevar_name(cs->relation);
    struct lint_op *op = add_op(st, LINT_OP_CREATE_TABLE, rel, NULL);

    if (cs->if_not_exists)
        op->flags |= LINT_F_IF_EXISTS;
    for (size_t i = 0; i < cs->n_table_elts; i++)
        if (cs->table_elts[i]->node_case == PG_QUERY__NODE__NODE_COLUMN_DEF)
            column_op(st, LINT_OP_COLUMN, rel, cs->table_elts[i]->column_def);
    free(rel);
}

static void
walk_drop(struct lint_stmt *st, const PgQuery__DropStmt *d)
{
    int cascade = d->behavior == PG_QUERY__DROP_BEHAVIOR__DROP_CASCADE;

    for (size_t i = 0; i < d->n_objects; i++) {
        const PgQuery__Node *o = d->objects[i];
        char *name = o->node_case == PG_QUERY__NODE__NODE_LIST
                         ? qualified_list(o->list->items, o->list->n_items)
                         : NULL;
        struct lint_op *op;

        switch (d->remove_type) {
        case PG_QUERY__OBJECT_TYPE__OBJECT_TABLE:
            op = add_op(st, LINT_OP_DROP_TABLE, name, NULL);
            op->lock = LINT_LOCK_ACCESS_EXCLUSIVE;
            break;
        case PG_QUERY__OBJECT_TYPE__OBJECT_INDEX:
            op = add_op(st, LINT_OP_DROP_INDEX, NULL, name);
            op->lock =
                d->concurrent ? LINT_LOCK_SHARE_UPDATE_EXCLUSIVE : LINT_LOCK_ACCESS_EXCLUSIVE;
            if (d->concurrent)
                op->flags |= LINT_F_CONCURRENT;
            break;
        default:
            op = add_op(st, LINT_OP_DROP_OTHER, NULL, NULL);
            break;
        }
        if (d->missing_ok)
            op->flags |= LINT_F_IF_EXISTS;
        if (cascade)
            op->flags |= LINT_F_CASCADE;
        free(name);
    }
}

static void
walk_rename(struct lint_stmt *st, const PgQuery__RenameStmt *r)
{
    char *rel = rangevar_name(r->relation);
    struct lint_op *op;

    if (r->rename_type == PG_QUERY__OBJECT_TYPE__OBJECT_TABLE) {
        op = add_op(st, LINT_OP_RENAME_TABLE, rel, NULL);
        op->other = xstrdup(r->newname);
        op->lock = LINT_LOCK_ACCESS_EXCLUSIVE;
    } else if (r->rename_type == PG_QUERY__OBJECT_TYPE__OBJECT_COLUMN &&
               r->relation_type == PG_QUERY__OBJECT_TYPE__OBJECT_TABLE) {
        op = add_op(st, LINT_OP_RENAME_COLUMN, rel, r->subname);
        op->other = xstrdup(r->newname);
        op->lock = LINT_LOCK_ACCESS_EXCLUSIVE;
    }
    free(rel);
}

/* The operations of one parsed statement. */
static void
walk_statement(struct lint_stmt *st, const PgQuery__Node *n)
{
    struct lint_op *op;
    char *rel;

    switch (n->node_case) {
    case PG_QUERY__NODE__NODE_CREATE_STMT:
        walk_create_table(st, n->create_stmt);
        break;
    case PG_QUERY__NODE__NODE_CREATE_TABLE_AS_STMT:
        if (n->create_table_as_stmt->into && n->create_table_as_stmt->into->rel) {
            rel = rangevar_name(n->create_table_as_stmt->into->rel);
            add_op(st, LINT_OP_CREATE_TABLE, rel, NULL);
            free(rel);
        }
        break;
    case PG_QUERY__NODE__NODE_ALTER_TABLE_STMT:
        walk_alter_table(st, n->alter_table_stmt);
        break;
    case PG_QUERY__NODE__NODE_INDEX_STMT: {
        const PgQuery__IndexStmt *ix = n->index_stmt;
        char *idx = NULL;

        rel = rangevar_name(ix->relation);
        if (ix->idxname && ix->idxname[0])
            idx = xasprintf("%s.%s",
                            ix->relation->schemaname[0] ? ix->relation->schemaname : "public",
                            ix->idxname);
        op = add_op(st, LINT_OP_CREATE_INDEX, rel, idx);
        op->lock = ix->concurrent ? LINT_LOCK_SHARE_UPDATE_EXCLUSIVE : LINT_LOCK_SHARE;
        if (ix->concurrent)
            op->flags |= LINT_F_CONCURRENT;
        if (ix->if_not_exists)
            op->flags |= LINT_F_IF_EXISTS;
        op->sub = ix->unique ? 'u' : 'i';
        free(idx);
        free(rel);
        break;
    }
    case PG_QUERY__NODE__NODE_DROP_STMT:
        walk_drop(st, n->drop_stmt);
        break;
    case PG_QUERY__NODE__NODE_RENAME_STMT:
        walk_rename(st, n->rename_stmt);
        break;
    case PG_QUERY__NODE__NODE_REINDEX_STMT: {
        const PgQuery__ReindexStmt *r = n->reindex_stmt;
        int conc = 0;

        for (size_t i = 0; i < r->n_params; i++)
            if (r->params[i]->node_case == PG_QUERY__NODE__NODE_DEF_ELEM &&
                strcmp(r->params[i]->def_elem->defname, "concurrently") == 0)
                conc = 1;
        rel = r->relation ? rangevar_name(r->relation) : xstrdup(r->name ? r->name : "?");
        op = add_op(st, LINT_OP_REINDEX, rel, NULL);
        op->sub = r->kind == PG_QUERY__REINDEX_OBJECT_TYPE__REINDEX_OBJECT_INDEX   ? 'i'
                  : r->kind == PG_QUERY__REINDEX_OBJECT_TYPE__REINDEX_OBJECT_TABLE ? 't'
                                                                                   : 's';
        op->lock = conc             ? LINT_LOCK_SHARE_UPDATE_EXCLUSIVE
                   : op->sub == 'i' ? LINT_LOCK_ACCESS_EXCLUSIVE
                                    : LINT_LOCK_SHARE;
        if (conc)
            op->flags |= LINT_F_CONCURRENT;
        free(rel);
        break;
    }
    case PG_QUERY__NODE__NODE_VACUUM_STMT: {
        const PgQuery__VacuumStmt *v = n->vacuum_stmt;
        int full = 0;

        for (size_t i = 0; i < v->n_options; i++)
            if (v->options[i]->node_case == PG_QUERY__NODE__NODE_DEF_ELEM &&
                strcmp(v->options[i]->def_elem->defname, "full") == 0) {
                const PgQuery__Node *arg = v->options[i]->def_elem->arg;

                /* FULL, FULL true, FULL 1, FULL on; not FULL false / off / 0. */
                full = !(
                    arg &&
                    ((arg->node_case == PG_QUERY__NODE__NODE_STRING &&
                      (strcasecmp(arg->string->sval, "false") == 0 ||
                       strcasecmp(arg->string->sval, "off") == 0)) ||
                     (arg->node_case == PG_QUERY__NODE__NODE_INTEGER && arg->integer->ival == 0) ||
                     (arg->node_case == PG_QUERY__NODE__NODE_BOOLEAN && !arg->boolean->boolval)));
            }
        if (!full || !v->is_vacuumcmd)
            break;
        if (v->n_rels == 0) {
            op = add_op(st, LINT_OP_VACUUM_FULL, NULL, NULL);
            op->lock = LINT_LOCK_ACCESS_EXCLUSIVE;
        }
        for (size_t i = 0; i < v->n_rels; i++) {
            if (v->rels[i]->node_case != PG_QUERY__NODE__NODE_VACUUM_RELATION)
                continue;
            rel = rangevar_name(v->rels[i]->vacuum_relation->relation);
            op = add_op(st, LINT_OP_VACUUM_FULL, rel, NULL);
            op->lock = LINT_LOCK_ACCESS_EXCLUSIVE;
            free(rel);
        }
        break;
    }
    case PG_QUERY__NODE__NODE_REFRESH_MAT_VIEW_STMT:
        rel = rangevar_name(n->refresh_mat_view_stmt->relation);
        op = add_op(st, LINT_OP_REFRESH_MATVIEW, rel, NULL);
        op->lock =
            n->refresh_mat_view_stmt->concurrent ? LINT_LOCK_EXCLUSIVE : LINT_LOCK_ACCESS_EXCLUSIVE;
        if (n->refresh_mat_view_stmt->concurrent)
            op->flags |= LINT_F_CONCURRENT;
        free(rel);
        break;
    case PG_QUERY__NODE__NODE_CLUSTER_STMT:
        if (n->cluster_stmt->relation) {
            rel = rangevar_name(n->cluster_stmt->relation);
            op = add_op(st, LINT_OP_CLUSTER, rel, NULL);
            op->lock = LINT_LOCK_ACCESS_EXCLUSIVE;
            free(rel);
        }
        break;
    case PG_QUERY__NODE__NODE_LOCK_STMT:
        for (size_t i = 0; i < n->lock_stmt->n_relations; i++) {
            if (n->lock_stmt->relations[i]->node_case != PG_QUERY__NODE__NODE_RANGE_VAR)
                continue;
            rel = rangevar_name(n->lock_stmt->relations[i]->range_var);
            op = add_op(st, LINT_OP_LOCK_TABLE, rel, NULL);
            op->lock = n->lock_stmt->mode;
            free(rel);
        }
        break;
    case PG_QUERY__NODE__NODE_TRUNCATE_STMT:
        for (size_t i = 0; i < n->truncate_stmt->n_relations; i++) {
            if (n->truncate_stmt->relations[i]->node_case != PG_QUERY__NODE__NODE_RANGE_VAR)
                continue;
            rel = rangevar_name(n->truncate_stmt->relations[i]->range_var);
            op = add_op(st, LINT_OP_TRUNCATE, rel, NULL);
            op->lock = LINT_LOCK_ACCESS_EXCLUSIVE;
            if (n->truncate_stmt->behavior == PG_QUERY__DROP_BEHAVIOR__DROP_CASCADE)
                op->flags |= LINT_F_CASCADE;
            free(rel);
        }
        break;
    case PG_QUERY__NODE__NODE_UPDATE_STMT:
        if (n->update_stmt->where_clause == NULL && n->update_stmt->n_from_clause == 0) {
            rel = rangevar_name(n->update_stmt->relation);
            op = add_op(st, LINT_OP_UPDATE_ALL, rel, NULL);
            op->lock = LINT_LOCK_ROW_EXCLUSIVE;
            free(rel);
        }
        break;
    case PG_QUERY__NODE__NODE_DELETE_STMT:
        if (n->delete_stmt->where_clause == NULL && n->delete_stmt->n_using_clause == 0) {
            rel = rangevar_name(n->delete_stmt->relation);
            op = add_op(st, LINT_OP_DELETE_ALL, rel, NULL);
            op->lock = LINT_LOCK_ROW_EXCLUSIVE;
            free(rel);
        }
        break;
    case PG_QUERY__NODE__NODE_ALTER_ENUM_STMT: {
        const PgQuery__AlterEnumStmt *e = n->alter_enum_stmt;

        if (e->old_val && e->old_val[0])
            break; /* RENAME VALUE */
        rel = qualified_list(e->type_name, e->n_type_name);
        op = add_op(st, LINT_OP_ENUM_ADD, NULL, rel);
        op->other = xstrdup(e->new_val);
        if (e->skip_if_new_val_exists)
            op->flags |= LINT_F_IF_EXISTS;
        free(rel);
        break;
    }
    default:
        break;
    }
}

/*
 * Does the statement at sql[tok...] need its tree? Only statements that can lock, rewrite,
 * create or drop a relation do (INSERT, SELECT, COPY, GRANT, CREATE FUNCTION... never
 * concern a rule): parsing only those keeps the lint a small part of a build.
 */
static int
needs_tree(const char *sql, size_t tok, size_t end)
{
    static const char *const first[] = {"alter",  "create",   "drop",   "reindex",
                                        "vacuum", "cluster",  "lock",   "update",
                                        "delete", "truncate", "refresh"};
    size_t n = 0;

    while (tok + n < end && isalpha((unsigned char)sql[tok + n]))
        n++;
    for (size_t i = 0; i < sizeof(first) / sizeof(*first); i++)
        if (strlen(first[i]) == n && strncasecmp(sql + tok, first[i], n) == 0)
            return 1;
    return 0;
}

/* Identifiers over 63 bytes: PostgreSQL's own scanner says which tokens are identifiers. */
static void
long_identifiers(struct lint_stmt *st, const char *text, size_t len)
{
    size_t run = 0;
    int any = 0;
    PgQueryScanResult scan;
    PgQuery__ScanResult *res;

    /* Cheap first: is there any run of 64 identifier bytes at all? */
    for (size_t i = 0; i < len && !any; i++) {
        unsigned char ch = (unsigned char)text[i];

        run = isalnum(ch) || ch == '_' || ch == '$' || ch >= 0x80 ? run + 1 : 0;
        if (text[i] == '"') {
            const char *q = memchr(text + i + 1, '"', len - i - 1);

            any = q && (size_t)(q - text) - i - 1 > LINT_MAX_IDENT;
        }
        any = any || run > LINT_MAX_IDENT;
    }
    if (!any)
        return;
    scan = pg_query_scan(text);
    if (scan.error) {
        pg_query_free_scan_result(scan);
        return;
    }
    res = pg_query__scan_result__unpack(NULL, scan.pbuf.len, (const uint8_t *)scan.pbuf.data);
    for (size_t i = 0; res && i < res->n_tokens; i++) {
        const PgQuery__ScanToken *t = res->tokens[i];
        size_t tl = (size_t)(t->end - t->start);

        if (t->token != PG_QUERY__TOKEN__IDENT)
            continue;
        if (tl >= 2 && text[t->start] == '"')
            tl -= 2;
        if (tl > LINT_MAX_IDENT) {
            char *name = xstrndup(text + t->start, (size_t)(t->end - t->start));

            add_op(st, LINT_OP_LONG_IDENT, NULL, name);
            free(name);
        }
    }
    if (res)
        pg_query__scan_result__free_unpacked(res, NULL);
    pg_query_free_scan_result(scan);
}

/* Skip blanks and comments from off; collect "-- sealift:allow" lines on the way. */
static size_t
skip_comments(const char *sql, size_t len, size_t off, struct lint_script *out, size_t stmt)
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
            if (end - p >= 13 && memcmp(sql + p, "sealift:allow", 13) == 0 &&
                (p + 13 == end || sql[p + 13] == ' ' || sql[p + 13] == '\t')) {
                struct lint_allow *a;
                size_t q = p + 13, r;

                out->allows =
                    xgrow(out->allows, &out->allows_cap, out->nallows + 1, sizeof(*out->allows));
                a = &out->allows[out->nallows++];
                memset(a, 0, sizeof(*a));
                a->stmt = stmt;
                sqltext_position(sql, start, &a->line, &a->col);
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

void
lint_extract(const struct src_script *s, struct lint_script *out)
{
    const char *sql = s->rendered.data;

    memset(out, 0, sizeof(*out));
    for (size_t i = 0; i < s->nstmts; i++) {
        size_t loc = (size_t)s->stmts[i].offset;
        size_t end = loc + (size_t)s->stmts[i].length;
        /* Comments before the first statement are the file's header: they cover all of it. */
        size_t tok = skip_comments(sql, end, loc, out, i == 0 ? SIZE_MAX : i);
        struct lint_stmt *st;
        char *one;

        out->stmts = xgrow(out->stmts, &out->stmts_cap, out->nstmts + 1, sizeof(*out->stmts));
        st = &out->stmts[out->nstmts++];
        memset(st, 0, sizeof(*st));
        st->offset = tok;
        sqltext_position(sql, tok, &st->line, &st->col);
        if (tok >= end)
            continue;
        one = xstrndup(sql + tok, end - tok);
        if (needs_tree(sql, tok, end)) {
            PgQueryProtobufParseResult res = pg_query_parse_protobuf(one);
            PgQuery__ParseResult *tree = NULL;

            if (!res.error)
                tree = pg_query__parse_result__unpack(NULL, res.parse_tree.len,
                                                      (const uint8_t *)res.parse_tree.data);
            for (size_t k = 0; tree && k < tree->n_stmts; k++)
                walk_statement(st, tree->stmts[k]->stmt);
            if (tree)
                pg_query__parse_result__free_unpacked(tree, NULL);
            pg_query_free_protobuf_parse_result(res);
        }
        long_identifiers(st, one, end - tok);
        free(one);
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
