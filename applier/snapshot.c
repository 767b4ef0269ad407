/*
 * snapshot.c: the schema as catalog rows, and the difference of two (see snapshot.h).
 * Layer: applier. Generates SQL text; db.c runs it.
 *
 * Covered, each with the parts that make it what it is:
 *   schemas (owner, grants); tables, partitioned and foreign tables (persistence, partition
 *   key and bound, parents, owner, grants, options, row security, replica identity); columns
 *   (type, collation, NOT NULL, default or generation expression, identity, grants);
 *   constraints of tables and domains (pg_get_constraintdef); indexes (pg_get_indexdef,
 *   validity); sequences (type, bounds, increment, cache, cycle, owning column, owner,
 *   grants); views and materialized views (pg_get_viewdef, options, owner, grants); functions,
 *   procedures and aggregates (identity signature, result, language, an MD5 of
 *   pg_get_functiondef, owner, grants); types (enum labels in order, domains, composites,
 *   ranges, base types); extensions (version, schema); triggers (pg_get_triggerdef, enabled);
 *   row-level security policies; rules; default privileges; comments; collations; extended
 *   statistics; operators; casts; languages; event triggers; publications; foreign servers.
 * Not covered: data (rows, sequence values), roles and other cluster-wide objects (another
 * database on the same server may change them at any time), database settings, tablespaces,
 * text search configurations, and the position of a column in its table (PostgreSQL cannot
 * add a column anywhere but at the end, so a down that re-adds a dropped column could never
 * restore it; composite types, whose attribute order matters to row constructors, keep it).
 */
#include "snapshot.h"
#include "sealift/buf.h"
#include "sealift/json.h"
#include "sealift/xalloc.h"

#include <stdlib.h>
#include <string.h>

void
snapshot_init(struct snapshot *s)
{
    s->items = NULL;
    s->n = 0;
}

void
snapshot_release(struct snapshot *s)
{
    for (size_t i = 0; i < s->n; i++) {
        free(s->items[i].kind);
        free(s->items[i].name);
        free(s->items[i].def);
    }
    free(s->items);
    snapshot_init(s);
}

void
snapshot_move(struct snapshot *dst, struct snapshot *src)
{
    snapshot_release(dst);
    *dst = *src;
    snapshot_init(src);
}

void
snapshot_copy(struct snapshot *dst, const struct snapshot *src)
{
    snapshot_release(dst);
    dst->items = xcalloc(src->n ? src->n : 1, sizeof(*dst->items));
    for (size_t i = 0; i < src->n; i++) {
        dst->items[i].kind = xstrdup(src->items[i].kind);
        dst->items[i].name = xstrdup(src->items[i].name);
        dst->items[i].def = xstrdup(src->items[i].def);
    }
    dst->n = src->n;
}

/* "not a member of an extension" for the object alias.oid of catalog cat. */
static void
not_ext(struct buf *q, const char *cat, const char *oid)
{
    buf_addf(q,
             " NOT EXISTS (SELECT 1 FROM pg_depend x WHERE x.deptype = 'e' AND "
             "x.classid = '%s'::regclass AND x.objid = %s) ",
             cat, oid);
}

/*
 * Neither a member of an extension nor a part of another object: CREATE TYPE ... AS RANGE
 * makes constructor functions and casts that come and go with the type ('i' dependencies).
 */
static void
not_ext_or_part(struct buf *q, const char *cat, const char *oid)
{
    buf_addf(q,
             " NOT EXISTS (SELECT 1 FROM pg_depend x WHERE x.deptype IN ('e', 'i') AND "
             "x.classid = '%s'::regclass AND x.objid = %s) ",
             cat, oid);
}

/*
 * "grants ..." (the ACL's items, sorted) when acl differs from what the owner gets by default,
 * else NULL: a GRANT followed by its REVOKE leaves an explicit ACL equal to the default, which
 * is no change; a NULL ACL is the default.
 */
static void
grants(struct buf *q, const char *acl, char objtype, const char *owner)
{
    buf_addf(q,
             "CASE WHEN %s IS NOT NULL THEN "
             "(SELECT CASE WHEN x.g IS DISTINCT FROM y.g THEN 'grants ' || x.g END FROM "
             "(SELECT string_agg(a::text, ', ' ORDER BY a::text) AS g FROM unnest(%s) a) x, "
             "(SELECT string_agg(a::text, ', ' ORDER BY a::text) AS g FROM "
             "unnest(acldefault('%c', %s)) a) y) END",
             acl, acl, objtype, owner);
}

static void
owner(struct buf *q, const char *col)
{
    buf_addf(q, "'owner ' || pg_get_userbyid(%s)", col);
}

static void
build_query(struct buf *q, const char *history_schema, unsigned flags)
{
    char *hist = db_quote_literal(history_schema);

    /* The schemas that hold user objects; rel: their relations, extension members left out. */
    buf_addf(q,
             "WITH ns AS (SELECT oid, nspname FROM pg_namespace WHERE nspname NOT IN "
             "('pg_catalog', 'information_schema', %s) AND nspname !~ '^pg_(toast|temp_)'), "
             "rel AS (SELECT c.*, ns.nspname || '.' || c.relname AS qname FROM pg_class c "
             "JOIN ns ON ns.oid = c.relnamespace WHERE",
             hist);
    not_ext(q, "pg_class", "c.oid");
    buf_addstr(q, ") SELECT kind, name, def FROM (\n");

    /* Schemas. */
    buf_addstr(q, "SELECT 'schema' AS kind, n.nspname AS name, concat_ws(' ', ");
    owner(q, "n.nspowner");
    buf_addstr(q, ", ");
    grants(q, "n.nspacl", 'n', "n.nspowner");
    buf_addstr(q, ") AS def FROM pg_namespace n JOIN ns ON ns.oid = n.oid WHERE");
    not_ext(q, "pg_namespace", "n.oid");

    /* Tables (ordinary, partitioned, foreign). */
    buf_addstr(q, "\nUNION ALL SELECT CASE r.relkind WHEN 'f' THEN 'foreign table' ELSE 'table' "
                  "END, r.qname, concat_ws(' ', "
                  "CASE r.relpersistence WHEN 'u' THEN 'unlogged' END, "
                  "CASE WHEN r.relkind = 'p' THEN 'partitioned by ' || "
                  "pg_get_partkeydef(r.oid) END, "
                  "(SELECT CASE WHEN r.relispartition THEN 'partition of ' ELSE 'inherits ' END "
                  "|| string_agg(i.inhparent::regclass::text, ', ' ORDER BY i.inhseqno) "
                  "FROM pg_inherits i WHERE i.inhrelid = r.oid), "
                  "CASE WHEN r.relispartition THEN pg_get_expr(r.relpartbound, r.oid) END, ");
    owner(q, "r.relowner");
    buf_addstr(q, ", ");
    grants(q, "r.relacl", 'r', "r.relowner");
    buf_addstr(q, ", 'with (' || array_to_string(r.reloptions, ', ') || ')', "
                  "CASE WHEN r.relrowsecurity THEN 'row level security' END, "
                  "CASE WHEN r.relforcerowsecurity THEN 'forced' END, "
                  "CASE r.relreplident WHEN 'n' THEN 'replica identity nothing' "
                  "WHEN 'f' THEN 'replica identity full' WHEN 'i' THEN 'replica identity index' "
                  "END, (SELECT 'server ' || s.srvname || coalesce(' options (' || "
                  "array_to_string(ft.ftoptions, ', ') || ')', '') FROM pg_foreign_table ft "
                  "JOIN pg_foreign_server s ON s.oid = ft.ftserver WHERE ft.ftrelid = r.oid)) "
                  "FROM rel r WHERE r.relkind IN ('r', 'p', 'f')");

    /* Columns: by name, not position (see the top of this file). */
    buf_addstr(q, "\nUNION ALL SELECT 'column', r.qname || '.' || a.attname, concat_ws(' ', "
                  "format_type(a.atttypid, a.atttypmod), "
                  "CASE WHEN a.attcollation <> t.typcollation THEN 'collate ' || "
                  "(SELECT collname FROM pg_collation WHERE oid = a.attcollation) END, "
                  "CASE WHEN a.attnotnull THEN 'not null' END, "
                  "CASE WHEN a.attgenerated = 's' THEN 'generated always as (' || "
                  "pg_get_expr(d.adbin, d.adrelid) || ') stored' "
                  "WHEN d.adbin IS NOT NULL THEN 'default ' || pg_get_expr(d.adbin, d.adrelid) "
                  "END, CASE a.attidentity WHEN 'a' THEN 'generated always as identity' "
                  "WHEN 'd' THEN 'generated by default as identity' END, "
                  "(SELECT 'grants ' || string_agg(g::text, ', ' ORDER BY g::text) "
                  "FROM unnest(a.attacl) g)) "
                  "FROM rel r JOIN pg_attribute a ON a.attrelid = r.oid AND a.attnum > 0 AND "
                  "NOT a.attisdropped JOIN pg_type t ON t.oid = a.atttypid "
                  "LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
                  "WHERE r.relkind IN ('r', 'p', 'f')");

    /* Constraints of tables and of domains. */
    buf_addstr(q, "\nUNION ALL SELECT 'constraint', r.qname || '.' || co.conname, "
                  "pg_get_constraintdef(co.oid) FROM rel r "
                  "JOIN pg_constraint co ON co.conrelid = r.oid");
    buf_addstr(q, "\nUNION ALL SELECT 'constraint', n.nspname || '.' || t.typname || '.' || "
                  "co.conname, pg_get_constraintdef(co.oid) FROM pg_constraint co "
                  "JOIN pg_type t ON t.oid = co.contypid JOIN ns n ON n.oid = t.typnamespace "
                  "WHERE");
    not_ext(q, "pg_type", "t.oid");

    /* Indexes. */
    buf_addstr(q, "\nUNION ALL SELECT 'index', r.qname, pg_get_indexdef(r.oid) || "
                  "CASE WHEN NOT i.indisvalid THEN ' (invalid)' ELSE '' END "
                  "FROM rel r JOIN pg_index i ON i.indexrelid = r.oid");

    /* Sequences: their definition and owning column, not their current value. */
    buf_addstr(q, "\nUNION ALL SELECT 'sequence', r.qname, concat_ws(' ', "
                  "format_type(s.seqtypid, NULL), 'start ' || s.seqstart, "
                  "'increment ' || s.seqincrement, 'min ' || s.seqmin, 'max ' || s.seqmax, "
                  "'cache ' || s.seqcache, CASE WHEN s.seqcycle THEN 'cycle' END, "
                  "(SELECT 'owned by ' || d.refobjid::regclass::text || '.' || "
                  "quote_ident(a.attname) FROM pg_depend d JOIN pg_attribute a ON "
                  "a.attrelid = d.refobjid AND a.attnum = d.refobjsubid WHERE "
                  "d.classid = 'pg_class'::regclass AND d.objid = r.oid AND "
                  "d.refclassid = 'pg_class'::regclass AND d.refobjsubid > 0 AND "
                  "d.deptype IN ('a', 'i') LIMIT 1), ");
    owner(q, "r.relowner");
    buf_addstr(q, ", ");
    grants(q, "r.relacl", 's', "r.relowner");
    buf_addstr(q, ") FROM rel r JOIN pg_sequence s ON s.seqrelid = r.oid");

    /* Views and materialized views. */
    buf_addstr(q, "\nUNION ALL SELECT CASE r.relkind WHEN 'v' THEN 'view' ELSE "
                  "'materialized view' END, r.qname, concat_ws(' ', "
                  "'with (' || array_to_string(r.reloptions, ', ') || ')', ");
    owner(q, "r.relowner");
    buf_addstr(q, ", ");
    grants(q, "r.relacl", 'r', "r.relowner");
    buf_addstr(q, ", 'as ' || pg_get_viewdef(r.oid, true)) FROM rel r "
                  "WHERE r.relkind IN ('v', 'm')");

    /* Functions, procedures, aggregates: the body as a hash keeps the report short. */
    buf_addstr(q, "\nUNION ALL SELECT CASE p.prokind WHEN 'p' THEN 'procedure' WHEN 'a' THEN "
                  "'aggregate' WHEN 'w' THEN 'window function' ELSE 'function' END, "
                  "n.nspname || '.' || p.proname || '(' || "
                  "pg_get_function_identity_arguments(p.oid) || ')', concat_ws(' ', "
                  "CASE WHEN p.prokind <> 'p' THEN 'returns ' || pg_get_function_result(p.oid) "
                  "END, 'language ' || l.lanname, "
                  "CASE WHEN p.prokind = 'a' THEN (SELECT concat_ws(' ', "
                  "'state ' || ag.aggtransfn::regprocedure::text || ' ' || "
                  "format_type(ag.aggtranstype, NULL), "
                  "'final ' || nullif(ag.aggfinalfn, 0)::regprocedure::text, "
                  "'combine ' || nullif(ag.aggcombinefn, 0)::regprocedure::text, "
                  "'initially ' || quote_literal(ag.agginitval), "
                  "'sort operator ' || nullif(ag.aggsortop, 0)::regoperator::text) "
                  "FROM pg_aggregate ag WHERE ag.aggfnoid = p.oid) "
                  "ELSE ");
    /* A report of what changed (schema drift) shows the text; test compares the hash. */
    buf_addstr(q, (flags & SNAPSHOT_FULL_BODIES)
                      ? "'definition ' || pg_get_functiondef(p.oid)"
                      : "'definition md5 ' || md5(pg_get_functiondef(p.oid))");
    buf_addstr(q, " END, ");
    owner(q, "p.proowner");
    buf_addstr(q, ", ");
    grants(q, "p.proacl", 'f', "p.proowner");
    buf_addstr(q, ") FROM pg_proc p JOIN ns n ON n.oid = p.pronamespace "
                  "JOIN pg_language l ON l.oid = p.prolang WHERE");
    not_ext_or_part(q, "pg_proc", "p.oid");

    /* Types: not the row types of relations, nor automatic array and multirange types. */
    buf_addstr(q, "\nUNION ALL SELECT 'type', n.nspname || '.' || t.typname, concat_ws(' ', "
                  "CASE t.typtype WHEN 'e' THEN 'enum (' || (SELECT string_agg("
                  "quote_literal(e.enumlabel), ', ' ORDER BY e.enumsortorder) FROM pg_enum e "
                  "WHERE e.enumtypid = t.oid) || ')' "
                  "WHEN 'd' THEN concat_ws(' ', 'domain over ' || "
                  "format_type(t.typbasetype, t.typtypmod), "
                  "CASE WHEN t.typnotnull THEN 'not null' END, 'default ' || t.typdefault) "
                  "WHEN 'c' THEN 'composite (' || (SELECT string_agg(quote_ident(a.attname) || "
                  "' ' || format_type(a.atttypid, a.atttypmod), ', ' ORDER BY a.attnum) "
                  "FROM pg_attribute a WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND "
                  "NOT a.attisdropped) || ')' "
                  "WHEN 'r' THEN (SELECT 'range of ' || format_type(rg.rngsubtype, NULL) "
                  "FROM pg_range rg WHERE rg.rngtypid = t.oid) "
                  "ELSE 'base type input ' || t.typinput::regproc::text || ' output ' || "
                  "t.typoutput::regproc::text END, ");
    owner(q, "t.typowner");
    buf_addstr(q, ", ");
    grants(q, "t.typacl", 'T', "t.typowner");
    buf_addstr(q, ") FROM pg_type t JOIN ns n ON n.oid = t.typnamespace "
                  "WHERE t.typtype IN ('b', 'c', 'd', 'e', 'r') AND (t.typrelid = 0 OR "
                  "(SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c') AND "
                  "NOT EXISTS (SELECT 1 FROM pg_type el WHERE el.typarray = t.oid) AND");
    not_ext(q, "pg_type", "t.oid");

    /* Extensions: one item each, their members are theirs. */
    buf_addstr(q, "\nUNION ALL SELECT 'extension', x.extname, 'version ' || x.extversion || "
                  "' in schema ' || n.nspname FROM pg_extension x "
                  "JOIN pg_namespace n ON n.oid = x.extnamespace");

    /* Triggers (not the internal ones behind foreign keys). */
    buf_addstr(q, "\nUNION ALL SELECT 'trigger', r.qname || '.' || tg.tgname, "
                  "pg_get_triggerdef(tg.oid) || CASE tg.tgenabled WHEN 'D' THEN ' (disabled)' "
                  "WHEN 'R' THEN ' (replica)' WHEN 'A' THEN ' (always)' ELSE '' END "
                  "FROM rel r JOIN pg_trigger tg ON tg.tgrelid = r.oid WHERE NOT tg.tgisinternal");

    /* Row-level security policies and rules. */
    buf_addstr(q, "\nUNION ALL SELECT 'policy', r.qname || '.' || pol.polname, concat_ws(' ', "
                  "CASE WHEN pol.polpermissive THEN 'permissive' ELSE 'restrictive' END, "
                  "'for ' || CASE pol.polcmd WHEN 'r' THEN 'select' WHEN 'a' THEN 'insert' "
                  "WHEN 'w' THEN 'update' WHEN 'd' THEN 'delete' ELSE 'all' END, "
                  "'to ' || (SELECT string_agg(CASE WHEN ro = 0 THEN 'public' ELSE "
                  "pg_get_userbyid(ro)::text END, ', ' ORDER BY 1) FROM unnest(pol.polroles) ro), "
                  "'using (' || pg_get_expr(pol.polqual, pol.polrelid) || ')', "
                  "'with check (' || pg_get_expr(pol.polwithcheck, pol.polrelid) || ')') "
                  "FROM rel r JOIN pg_policy pol ON pol.polrelid = r.oid");
    buf_addstr(q, "\nUNION ALL SELECT 'rule', r.qname || '.' || rw.rulename, "
                  "pg_get_ruledef(rw.oid) FROM rel r JOIN pg_rewrite rw ON rw.ev_class = r.oid "
                  "WHERE rw.rulename <> '_RETURN'");

    /* Default privileges (ALTER DEFAULT PRIVILEGES). */
    buf_addstr(q, "\nUNION ALL SELECT 'default privileges', 'for ' || "
                  "pg_get_userbyid(da.defaclrole) || coalesce(' in schema ' || n.nspname, '') || "
                  "' on ' || CASE da.defaclobjtype WHEN 'r' THEN 'tables' WHEN 'S' THEN "
                  "'sequences' WHEN 'f' THEN 'functions' WHEN 'T' THEN 'types' WHEN 'n' THEN "
                  "'schemas' ELSE da.defaclobjtype::text END, "
                  "(SELECT string_agg(g::text, ', ' ORDER BY g::text) FROM unnest(da.defaclacl) g) "
                  "FROM pg_default_acl da LEFT JOIN pg_namespace n ON n.oid = da.defaclnamespace "
                  "WHERE da.defaclnamespace = 0 OR da.defaclnamespace IN (SELECT oid FROM ns)");

    /*
     * Comments on user objects (OIDs from FirstNormalObjectId on; the system's own thousands
     * are below), named as PostgreSQL describes them.
     */
    buf_addf(q,
             "\nUNION ALL SELECT 'comment', pg_describe_object(d.classoid, d.objoid, d.objsubid), "
             "d.description FROM pg_description d WHERE d.objoid >= 16384 AND "
             "d.classoid <> 'pg_extension'::regclass AND "
             "NOT EXISTS (SELECT 1 FROM pg_depend x WHERE x.deptype = 'e' AND "
             "x.classid = d.classoid AND x.objid = d.objoid) AND "
             "coalesce((pg_identify_object(d.classoid, d.objoid, 0)).schema, '') NOT IN (%s) AND "
             "NOT (d.classoid = 'pg_namespace'::regclass AND d.objoid IN "
             "(SELECT oid FROM pg_namespace WHERE nspname = %s))",
             hist, hist);

    /* The rarer kinds: collations, statistics, operators, casts, languages, ... */
    buf_addstr(q,
               "\nUNION ALL SELECT 'collation', n.nspname || '.' || c.collname, "
               "concat_ws(' ', 'provider ' || c.collprovider::text, 'collate ' || c.collcollate, "
               "'ctype ' || c.collctype, CASE WHEN NOT c.collisdeterministic THEN "
               "'nondeterministic' END) FROM pg_collation c JOIN ns n ON "
               "n.oid = c.collnamespace WHERE");
    not_ext(q, "pg_collation", "c.oid");
    buf_addstr(q, "\nUNION ALL SELECT 'statistics', n.nspname || '.' || s.stxname, "
                  "pg_get_statisticsobjdef(s.oid) FROM pg_statistic_ext s "
                  "JOIN ns n ON n.oid = s.stxnamespace");
    buf_addstr(q, "\nUNION ALL SELECT 'operator', n.nspname || '.' || o.oprname || '(' || "
                  "format_type(o.oprleft, NULL) || ', ' || format_type(o.oprright, NULL) || ')', "
                  "'function ' || o.oprcode::regprocedure::text FROM pg_operator o "
                  "JOIN ns n ON n.oid = o.oprnamespace WHERE");
    not_ext(q, "pg_operator", "o.oid");
    buf_addstr(q, "\nUNION ALL SELECT 'cast', format_type(c.castsource, NULL) || ' as ' || "
                  "format_type(c.casttarget, NULL), concat_ws(' ', CASE c.castmethod "
                  "WHEN 'f' THEN 'with function ' || c.castfunc::regprocedure::text "
                  "WHEN 'i' THEN 'with inout' ELSE 'without function' END, "
                  "CASE c.castcontext WHEN 'i' THEN 'implicit' WHEN 'a' THEN 'assignment' END) "
                  "FROM pg_cast c WHERE c.oid >= 16384 AND");
    not_ext_or_part(q, "pg_cast", "c.oid");
    buf_addstr(q, "\nUNION ALL SELECT 'language', l.lanname, concat_ws(' ', ");
    owner(q, "l.lanowner");
    buf_addstr(q, ", ");
    grants(q, "l.lanacl", 'l', "l.lanowner");
    buf_addstr(q, ") FROM pg_language l WHERE l.oid >= 16384 AND");
    not_ext(q, "pg_language", "l.oid");
    buf_addstr(q, "\nUNION ALL SELECT 'event trigger', e.evtname, concat_ws(' ', "
                  "'on ' || e.evtevent, 'execute ' || e.evtfoid::regprocedure::text, "
                  "'tags ' || array_to_string(e.evttags, ', '), "
                  "CASE e.evtenabled WHEN 'D' THEN 'disabled' END) FROM pg_event_trigger e WHERE");
    not_ext(q, "pg_event_trigger", "e.oid");
    buf_addstr(q, "\nUNION ALL SELECT 'publication', p.pubname, concat_ws(' ', "
                  "CASE WHEN p.puballtables THEN 'for all tables' END, "
                  "'tables ' || (SELECT string_agg(pr.prrelid::regclass::text, ', ' ORDER BY 1) "
                  "FROM pg_publication_rel pr WHERE pr.prpubid = p.oid), 'publish ' || "
                  "concat_ws(', ', CASE WHEN p.pubinsert THEN 'insert' END, CASE WHEN "
                  "p.pubupdate THEN 'update' END, CASE WHEN p.pubdelete THEN 'delete' END, "
                  "CASE WHEN p.pubtruncate THEN 'truncate' END)) FROM pg_publication p");
    buf_addstr(q, "\nUNION ALL SELECT 'server', s.srvname, concat_ws(' ', "
                  "'wrapper ' || w.fdwname, 'options (' || array_to_string(s.srvoptions, ', ') "
                  "|| ')', ");
    owner(q, "s.srvowner");
    buf_addstr(q, ") FROM pg_foreign_server s JOIN pg_foreign_data_wrapper w ON "
                  "w.oid = s.srvfdw WHERE");
    not_ext(q, "pg_foreign_server", "s.oid");

    /* Byte order, as snapshot_diff merges with strcmp. */
    buf_addstr(q, "\n) o ORDER BY kind COLLATE \"C\", name COLLATE \"C\"");
    free(hist);
}

/*
 * Settings that the catalog functions print by, for the snapshot only (SET LOCAL). jit = off:
 * with thousands of tables the query's estimated cost can pass jit_above_cost (how soon
 * depends on the catalogs' statistics), and compiling its expressions then costs the server
 * about a second (one database of 3,000 tables: 1.0 s of 1.7 s) that one run never earns
 * back; the rows are the same either way.
 */
#define SNAPSHOT_SETTINGS                                                                          \
    "SET LOCAL search_path = pg_catalog, pg_temp; SET LOCAL DateStyle = 'ISO, YMD'; "              \
    "SET LOCAL IntervalStyle = postgres; SET LOCAL extra_float_digits = 1; "                       \
    "SET LOCAL quote_all_identifiers = off; SET LOCAL jit = off"

/* SNAPSHOT_NO_WAIT: give up on a lock another session holds, after a moment. */
#define SNAPSHOT_NO_WAIT_SETTING "SET LOCAL lock_timeout = '" SNAPSHOT_NO_WAIT_MS "ms'"

/*
 * Planning the query costs about as much as running it, and test takes hundreds of
 * snapshots on one connection: prepare it once per connection and history schema, one
 * statement per variant (flags).
 */
static const char *const prepared_name[2] = {"sealift_snapshot", "sealift_snapshot_full"};
static const struct db *prepared_db[2];
static char *prepared_schema[2];

/* Prepare the query of this variant on db (once per connection and history schema). */
static int
prepare_query(struct db *db, const char *history_schema, unsigned flags, struct db_error *e)
{
    int v = (flags & SNAPSHOT_FULL_BODIES) ? 1 : 0;
    struct buf q = BUF_INIT;
    int ret;

    if (prepared_db[v] == db && strcmp(prepared_schema[v], history_schema) == 0)
        return 0;
    if (prepared_db[v] == db)
        buf_addf(&q, "DEALLOCATE %s; ", prepared_name[v]);
    buf_addf(&q, "PREPARE %s AS ", prepared_name[v]);
    build_query(&q, history_schema, flags);
    ret = db_exec(db, q.data, e);
    buf_release(&q);
    if (ret != 0)
        return -1;
    prepared_db[v] = db;
    free(prepared_schema[v]);
    prepared_schema[v] = xstrdup(history_schema);
    return 0;
}

/* What snapshot_each hands its rows to, and how many it has handed. */
struct each_ctx {
    snapshot_item_cb item;
    void *data;
    size_t rows;
};

static int
each_row(void *data, const struct db_rows *r)
{
    struct each_ctx *c = data;
    const char *kind = db_value(r, 0, 0), *name = db_value(r, 0, 1), *def = db_value(r, 0, 2);

    c->rows++;
    return c->item(c->data, kind ? kind : "", name ? name : "", def ? def : "");
}

int
snapshot_take(struct db *db, const char *history_schema, int in_tx, struct snapshot *s,
              struct db_error *e)
{
    return snapshot_take_flags(db, history_schema, in_tx, 0, s, e);
}

int
snapshot_each(struct db *db, const char *history_schema, int in_tx, unsigned flags,
              snapshot_item_cb item, void *data, struct db_error *e)
{
    static int retried;
    /* In a savepoint, ROLLBACK TO undoes the SET LOCALs, which would otherwise last. */
    /* pg_get_indexdef and friends lock the relation: SNAPSHOT_NO_WAIT does not queue. */
    const char *begin =
        in_tx ? ((flags & SNAPSHOT_NO_WAIT) ? "SAVEPOINT sealift_snapshot; " SNAPSHOT_SETTINGS
                                              "; " SNAPSHOT_NO_WAIT_SETTING
                                            : "SAVEPOINT sealift_snapshot; " SNAPSHOT_SETTINGS)
              : ((flags & SNAPSHOT_NO_WAIT) ? "BEGIN READ ONLY; " SNAPSHOT_SETTINGS
                                              "; " SNAPSHOT_NO_WAIT_SETTING
                                            : "BEGIN READ ONLY; " SNAPSHOT_SETTINGS);
    const char *end = in_tx ? "ROLLBACK TO SAVEPOINT sealift_snapshot; "
                              "RELEASE SAVEPOINT sealift_snapshot"
                            : "COMMIT";
    struct each_ctx c = {item, data, 0};
    char *exec;
    int ret;

    /*
     * A migration may have SET search_path (or DateStyle) for the rest of the session; the
     * catalog functions print names and constants by these, so fix them for the snapshot
     * only. With search_path = pg_catalog every user object prints schema-qualified.
     */
    if (db_exec(db, begin, e) != 0) {
        if (!in_tx)
            db_exec(db, "ROLLBACK", NULL);
        return -1;
    }
    /* Row by row: a schema of 100,000 tables is never held whole, neither by libpq nor here. */
    ret = prepare_query(db, history_schema, flags, e);
    if (ret == 0) {
        exec = xasprintf("EXECUTE %s", prepared_name[(flags & SNAPSHOT_FULL_BODIES) ? 1 : 0]);
        ret = db_query_each(db, exec, each_row, &c, e);
        free(exec);
    }
    if (ret != 0) {
        db_exec(db, in_tx ? end : "ROLLBACK", NULL);
        /*
         * A migration may have run DEALLOCATE ALL or DISCARD ALL: prepare it again, once (the
         * server refuses the EXECUTE before any row, so item has seen none).
         */
        if (ret < 0 && c.rows == 0 && strcmp(e->sqlstate, "26000") == 0 && !retried) {
            prepared_db[0] = prepared_db[1] = NULL;
            retried = 1;
            ret = snapshot_each(db, history_schema, in_tx, flags, item, data, e);
            retried = 0;
            return ret;
        }
        return -1;
    }
    if (db_exec(db, end, e) != 0)
        return -1;
    return 0;
}

/* snapshot_each's item for snapshot_take_flags: each row appended to the snapshot. */
struct take_ctx {
    struct snapshot *s;
    size_t cap;
};

static int
take_item(void *data, const char *kind, const char *name, const char *def)
{
    struct take_ctx *t = data;
    struct snapshot_item *it;

    t->s->items = xgrow(t->s->items, &t->cap, t->s->n + 1, sizeof(*t->s->items));
    it = &t->s->items[t->s->n++];
    it->kind = xstrdup(kind);
    it->name = xstrdup(name);
    it->def = xstrdup(def);
    return 0;
}

int
snapshot_take_flags(struct db *db, const char *history_schema, int in_tx, unsigned flags,
                    struct snapshot *s, struct db_error *e)
{
    struct take_ctx t = {s, 0};

    snapshot_release(s);
    if (snapshot_each(db, history_schema, in_tx, flags, take_item, &t, e) != 0) {
        snapshot_release(s);
        return -1;
    }
    return 0;
}

void
snapshot_diff_init(struct snapshot_diff *d)
{
    memset(d, 0, sizeof(*d));
}

void
snapshot_diff_release(struct snapshot_diff *d)
{
    free(d->items);
    snapshot_diff_init(d);
}

static void
diff_add(struct snapshot_diff *d, enum snapshot_change c, const struct snapshot_item *before,
         const struct snapshot_item *after)
{
    if (d->n == d->cap) {
        d->cap = d->cap ? d->cap * 2 : 16;
        d->items = xrealloc(d->items, d->cap * sizeof(*d->items));
    }
    d->items[d->n].change = c;
    d->items[d->n].before = before;
    d->items[d->n].after = after;
    d->n++;
}

static int
item_cmp(const struct snapshot_item *a, const struct snapshot_item *b)
{
    int c = strcmp(a->kind, b->kind);

    return c ? c : strcmp(a->name, b->name);
}

void
snapshot_diff(const struct snapshot *before, const struct snapshot *after, struct snapshot_diff *d)
{
    size_t i = 0, j = 0;

    d->n = 0;
    while (i < before->n || j < after->n) {
        int c;

        if (i == before->n)
            c = 1;
        else if (j == after->n)
            c = -1;
        else
            c = item_cmp(&before->items[i], &after->items[j]);
        if (c < 0) {
            diff_add(d, SNAPSHOT_MISSING, &before->items[i++], NULL);
        } else if (c > 0) {
            diff_add(d, SNAPSHOT_ADDED, NULL, &after->items[j++]);
        } else {
            if (strcmp(before->items[i].def, after->items[j].def) != 0)
                diff_add(d, SNAPSHOT_CHANGED, &before->items[i], &after->items[j]);
            i++;
            j++;
        }
    }
}

const char *
snapshot_change_word(enum snapshot_change c)
{
    switch (c) {
    case SNAPSHOT_ADDED:
        return "added";
    case SNAPSHOT_MISSING:
        return "missing";
    default:
        return "changed";
    }
}

void
snapshot_diff_json(const struct snapshot_diff *d, struct buf *out)
{
    buf_addch(out, '[');
    for (size_t i = 0; d && i < d->n; i++) {
        const struct snapshot_diff_item *it = &d->items[i];
        const struct snapshot_item *o = it->after ? it->after : it->before;

        buf_addstr(out, i ? ",{" : "{");
        json_key(out, "change", 1);
        json_str(out, snapshot_change_word(it->change));
        json_key(out, "kind", 0);
        json_str(out, o->kind);
        json_key(out, "name", 0);
        json_str(out, o->name);
        json_key(out, "before", 0);
        json_str(out, it->before ? it->before->def : NULL);
        json_key(out, "after", 0);
        json_str(out, it->after ? it->after->def : NULL);
        buf_addch(out, '}');
    }
    buf_addch(out, ']');
}
