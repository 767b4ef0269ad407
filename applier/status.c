/*
 * status.c: the report of "sealift-apply status": what the database has applied from a
 * bundle's chain, what is pending, drift, and what apply would do (see status.h).
 * Layer: applier.
 */
#include "status.h"
#include "move.h"
#include "drift_report.h"
#include "risk.h"
#include "session.h"
#include "sealift/json.h"
#include "sealift/table.h"

#include <stdio.h>
#include <string.h>

/* The history rows after the bundle's head, ", "-separated, into b. */
static void
add_unknown(const struct session *s, struct buf *b)
{
    for (size_t i = s->state.napplied - s->view.ahead; i < s->state.napplied; i++) {
        const struct applied_row *row = &s->state.applied[i];

        buf_addf(b, "%s%s%s%s", b->len ? ", " : "", row->id, row->name && row->name[0] ? "_" : "",
                 row->name ? row->name : "");
    }
}

/* Does the adoption that verdict v carries out first record repeatable j as it is? */
static int
adoptable_repeatable(const struct session *s, const struct move_verdict *v, size_t j)
{
    for (size_t k = 0; move_adopts(v) && k < s->adopt.nreps; k++)
        if (s->adopt.reps[k] == j)
            return 1;
    return 0;
}

/*
 * Repeatable j of the bundle: its last run in the database (NULL: never ran), and its state
 * ("adoptable": the tool adopted last ran it as the bundle has it).
 */
static const char *
repeatable_state(const struct session *s, const struct move_verdict *v, size_t j,
                 const struct repeatable_row **row)
{
    const struct manifest_migration *r = &s->bundle.manifest.repeatables[j];
    char sum[HASH_SHA256_HEX];

    *row = history_repeatable(&s->state, r->id);
    if (adoptable_repeatable(s, v, j))
        return "adoptable";
    if (*row == NULL)
        return "new";
    return strcmp((*row)->checksum, hex_encode(sum, r->chain, HASH_SHA256_BYTES)) == 0 ? (*row)->how
                                                                                       : "changed";
}

/* The bundle's repeatables as JSON: name, checksum, the last run's checksum, state. */
static void
add_json_repeatables(struct buf *b, const struct session *s, const struct move_verdict *v)
{
    const struct manifest *m = &s->bundle.manifest;
    struct walk_reps reps = move_reps(s, v);

    json_key(b, "repeatables", 0);
    buf_addch(b, '[');
    for (size_t j = 0; j < m->nrepeatables; j++) {
        const struct repeatable_row *row;
        const char *state = repeatable_state(s, v, j, &row);
        char sum[HASH_SHA256_HEX];

        buf_addstr(b, j ? ",{" : "{");
        json_key(b, "name", 1);
        json_str(b, m->repeatables[j].id);
        json_key(b, "checksum", 0);
        json_str(b, hex_encode(sum, m->repeatables[j].chain, HASH_SHA256_BYTES));
        json_key(b, "applied_checksum", 0);
        json_str(b, row ? row->checksum : NULL);
        json_key(b, "state", 0);
        json_str(b, state);
        buf_addch(b, '}');
    }
    buf_addch(b, ']');
    json_key(b, "pending_repeatables", 0);
    buf_addch(b, '[');
    for (size_t k = 0; k < reps.n; k++) {
        if (k)
            buf_addch(b, ',');
        json_str(b, m->repeatables[reps.v[k]].id);
    }
    buf_addch(b, ']');
}

/*
 * The same as text: one line a repeatable, those apply would run marked pending. The state
 * and checksum columns start where the longest name ends.
 */
static void
print_repeatables(const struct session *s, const struct move_verdict *v, const struct risk *risk)
{
    const struct manifest *m = &s->bundle.manifest;
    /* Pending, whether or not this apply runs them (it does not when it stops short). */
    size_t waiting = move_adopts(v) ? s->adopt.npending_reps : s->view.nreps;
    struct buf b = BUF_INIT;
    struct table t;

    if (m->nrepeatables == 0)
        return;
    table_init(&t, 3, "  ");
    for (size_t j = 0; j < m->nrepeatables; j++) {
        const struct repeatable_row *row;
        const char *state = repeatable_state(s, v, j, &row);
        char sum[HASH_SHA256_HEX];

        hex_encode(sum, m->repeatables[j].chain, HASH_SHA256_BYTES);
        table_cell(&t, "R__%s", m->repeatables[j].id);
        if (strcmp(state, "adoptable") == 0) {
            table_cell(&t, "adoptable: %s last ran it as it is", s->adopt.tool);
            table_cell(&t, "(checksum %.16s)", sum);
        } else if (row == NULL) {
            table_cell(&t, "pending: new");
            table_cell(&t, "(checksum %.16s)", sum);
        } else if (strcmp(state, "changed") == 0) {
            table_cell(&t, "pending: changed");
            table_cell(&t, "(last run %.16s, bundle %.16s)", row->checksum, sum);
        } else {
            table_cell(&t, "%s", state);
            table_cell(&t, "(checksum %.16s)", sum);
        }
    }
    buf_addf(&b, "repeatables  %zu, %zu pending%s\n", m->nrepeatables, v->nreps,
             v->nreps == 0 && waiting ? " (they run when apply reaches the head)" : "");
    table_format(&t, &b);
    /* The findings and live risk of those apply runs, as for a pending migration. */
    for (size_t step = risk->hi - risk->lo; step < risk_nsteps(risk); step++) {
        size_t idx = risk_step(risk, step);

        if (!risk_has_lines(risk, idx))
            continue;
        buf_addstr(&b, "  ");
        risk_step_label(m, idx, &b);
        buf_addch(&b, '\n');
        risk_text(risk, idx, "    ", &b);
    }
    fputs(b.data, stdout);
    table_release(&t);
    buf_release(&b);
}

static void
add_json_count(struct buf *b, const char *key, size_t n)
{
    json_key(b, key, 0);
    buf_addf(b, "%zu", n);
}

/* Where each setting came from (option, environment, config file or default), as JSON. */
static void
add_json_settings(struct buf *b, const struct app_opts *o)
{
    static const char *const names[APP_NSETTINGS] = {"pubkey", "threshold", "schema",
                                                     "lock_timeout_ms"};

    json_key(b, "settings", 0);
    buf_addch(b, '{');
    for (int i = 0; i < APP_NSETTINGS; i++) {
        json_key(b, names[i], i == 0);
        buf_addch(b, '{');
        json_key(b, "value", 1);
        if (i == APP_SET_PUBKEY)
            buf_addf(b, "%zu", o->ring.n);
        else if (i == APP_SET_THRESHOLD)
            buf_addf(b, "%u", o->threshold);
        else if (i == APP_SET_SCHEMA)
            json_str(b, o->schema);
        else
            buf_addf(b, "%ld", o->lock_timeout_ms);
        json_key(b, "source", 0);
        json_str(b, o->origin[i].kind);
        json_key(b, "where", 0);
        json_str(b, o->origin[i].where[0] ? o->origin[i].where : NULL);
        buf_addch(b, '}');
    }
    buf_addch(b, '}');
}

/* The same as one text line. */
static void
print_settings(const struct app_opts *o)
{
    char k[400], t[400], s[400], l[400];

    printf("settings     %zu key%s (%s), threshold %u (%s), schema \"%s\" (%s), lock timeout "
           "%.1f s (%s)\n",
           o->ring.n, o->ring.n == 1 ? "" : "s",
           app_origin_text(&o->origin[APP_SET_PUBKEY], k, sizeof(k)), o->threshold,
           app_origin_text(&o->origin[APP_SET_THRESHOLD], t, sizeof(t)), o->schema,
           app_origin_text(&o->origin[APP_SET_SCHEMA], s, sizeof(s)),
           (double)o->lock_timeout_ms / 1000.0,
           app_origin_text(&o->origin[APP_SET_LOCK_TIMEOUT], l, sizeof(l)));
}

static void
print_json(const struct session *s, const struct move_state *st, const struct move_verdict *v,
           const struct risk *risk, const struct buf *drift)
{
    const struct manifest *m = &s->bundle.manifest;
    struct buf b = BUF_INIT, unknown = BUF_INIT;
    struct engine_label head;

    add_unknown(s, &unknown);
    buf_addch(&b, '{');
    json_key(&b, "state", 1);
    json_str(&b, v->state);
    json_key(&b, "database", 0);
    json_str(&b, db_describe(s->db));
    json_key(&b, "schema", 0);
    json_str(&b, s->o->schema);
    json_key(&b, "project", 0);
    json_str(&b, m->project);
    json_key(&b, "environment", 0);
    json_str(&b, s->state.environment);
    json_key(&b, "max_serial", 0);
    buf_addf(&b, "%lld", s->state.max_serial);
    json_key(&b, "bundle_serial", 0);
    buf_addf(&b, "%llu", (unsigned long long)m->serial);
    json_key(&b, "bundle_environment", 0);
    json_str(&b, m->environment);
    add_json_count(&b, "applied", v->from);
    json_key(&b, "head", 0);
    json_str(&b, move_database_head(st, &head));
    json_key(&b, "bundle_head", 0);
    json_str(&b, engine_label(m, m->nmigrations).s);
    json_key(&b, "pending", 0);
    buf_addch(&b, '[');
    for (size_t i = v->from; i < m->nmigrations && !s->view.drift; i++) {
        if (i > v->from)
            buf_addch(&b, ',');
        json_str(&b, m->migrations[i].id);
    }
    buf_addch(&b, ']');
    add_json_repeatables(&b, s, v);
    json_key(&b, "adoptable_from", 0);
    json_str(&b,
             s->adopt.found && (s->adopt.count > 0 || s->adopt.nreps > 0) ? s->adopt.tool : NULL);
    add_json_count(&b, "adoptable", s->adopt.found && !s->adopt.problem.len ? s->adopt.count : 0);
    add_json_count(&b, "adoptable_repeatables",
                   s->adopt.found && !s->adopt.problem.len ? s->adopt.nreps : 0);
    add_json_count(&b, "unknown_applied", s->view.ahead);
    json_key(&b, "unknown", 0);
    json_str(&b, unknown.len ? unknown.data : NULL);
    add_json_count(&b, "recorded", s->view.nrecorded);
    json_key(&b, "drifted", 0);
    json_str(&b, s->view.ndrifted ? s->view.drifted.data : NULL);
    json_key(&b, "drift", 0);
    json_str(&b, s->view.drift ? s->view.problems.data : NULL);
    json_key(&b, "unfinished", 0);
    if (s->view.partial) {
        buf_addch(&b, '{');
        json_key(&b, "migration", 1);
        json_str(&b, s->view.partial->id);
        json_key(&b, "direction", 0);
        json_str(&b, s->view.partial->direction);
        json_key(&b, "statements_done", 0);
        buf_addf(&b, "%ld", s->view.partial->done);
        json_key(&b, "statements", 0);
        buf_addf(&b, "%ld", s->view.partial->total);
        buf_addch(&b, '}');
    } else {
        buf_addstr(&b, "null");
    }
    /* The pending migrations' signed lint findings, and their live risk. */
    json_key(&b, "findings", 0);
    risk_json_findings(risk, &b);
    json_key(&b, "risk", 0);
    risk_json(risk, &b);
    if (drift->len) {
        json_key(&b, "schema_drift", 0);
        buf_add(&b, drift->data, drift->len);
    }
    add_json_settings(&b, s->o);
    buf_addstr(&b, "}\n");
    fputs(b.data, stdout);
    buf_release(&unknown);
    buf_release(&b);
}

static void
print_text(const struct session *s, const struct move_state *st, const struct move_verdict *v,
           const struct risk *risk)
{
    const struct manifest *m = &s->bundle.manifest;
    struct engine_label head;

    printf("database     %s (PostgreSQL %d), history schema \"%s\"%s\n", db_describe(s->db),
           db_server_version(s->db) / 10000, s->o->schema,
           s->state.schema_exists ? "" : " (not created yet)");
    print_settings(s->o);
    printf("project      %s, environment %s, highest serial applied %lld\n", m->project,
           s->state.environment ? s->state.environment : "(not bound)", s->state.max_serial);
    printf("bundle       %s: serial %llu, environment %s, %zu migrations, head %s\n",
           s->bundle_path, (unsigned long long)m->serial, m->environment ? m->environment : "(any)",
           m->nmigrations, engine_label(m, m->nmigrations).s);
    move_database_head(st, &head);
    /* A changed migration does not make the ones after it unapplied: count them all. */
    if (s->view.ndrifted)
        printf("applied      %zu applied, %zu drifted: %s (database at %s)\n", s->view.nrecorded,
               s->view.ndrifted, s->view.drifted.data, engine_label(m, s->view.nrecorded).s);
    else
        printf("applied      %zu of %zu (database at %s)\n", v->from, m->nmigrations, head.s);
    if (adopt_any(&s->adopt) && s->adopt.nreps > 0)
        printf("adoptable    %zu migration%s and %zu repeatable%s recorded by %s in %s; apply "
               "adopts them without running them\n",
               s->adopt.count, s->adopt.count == 1 ? "" : "s", s->adopt.nreps,
               s->adopt.nreps == 1 ? "" : "s", s->adopt.tool, s->adopt.table);
    else if (adopt_any(&s->adopt))
        printf("adoptable    %zu migration%s recorded by %s in %s; apply adopts them without "
               "running them\n",
               s->adopt.count, s->adopt.count == 1 ? "" : "s", s->adopt.tool, s->adopt.table);
    if (s->view.ahead) {
        struct buf unknown = BUF_INIT;

        add_unknown(s, &unknown);
        printf("unknown      %zu applied migration%s after this bundle's head: %s\n", s->view.ahead,
               s->view.ahead == 1 ? "" : "s", unknown.data);
        buf_release(&unknown);
    }
    if (s->view.partial)
        printf("unfinished   %s (%s) stopped after %ld of %ld statements%s\n", s->view.partial->id,
               s->view.partial->direction, s->view.partial->done, s->view.partial->total,
               strcmp(s->view.partial->direction, "up") == 0 ? "; apply resumes it"
                                                             : "; rollback resumes it");
    if (!s->view.drift && v->from < m->nmigrations) {
        printf("pending      %zu\n", m->nmigrations - v->from);
        for (size_t i = v->from; i < m->nmigrations; i++) {
            struct buf b = BUF_INIT;

            risk_text(risk, i, "    ", &b);
            printf("  %s\n%s", engine_label(m, i + 1).s, b.data);
            buf_release(&b);
        }
    }
    print_repeatables(s, v, risk);
}

/*
 * --schema-drift: compare the live schema with the last fingerprint, as text or JSON into
 * out. Returns code, or 3 on drift where code was 0 or 7 (apply would refuse). When the
 * comparison fails (printed; a fingerprint that cannot be read is a state apply refuses):
 * *failed = 1 and 3, or 6 when the connection was lost.
 */
static int
schema_drift(struct session *s, int code, struct buf *out, int *failed)
{
    struct drift_result r;
    struct db_error e;

    drift_result_init(&r);
    if (drift_compare(s->db, &s->h, s->o->ignore_schemas, s->o->nignore_schemas, &r, &e) != 0) {
        app_error("could not compare the schema with its last fingerprint: %s", e.message);
        drift_result_release(&r);
        *failed = 1;
        return e.connection_lost ? EXIT_CONNECT : EXIT_STATE;
    }
    if (s->o->json)
        drift_json(&r, out);
    else
        drift_text(&r, out);
    if (drift_found(&r) && (code == EXIT_OK || code == EXIT_PENDING))
        code = EXIT_STATE;
    drift_result_release(&r);
    return code;
}

int
status_run(const struct app_opts *o, const char *bundle_path)
{
    struct out out = {0};
    struct session s;
    struct move_state st;
    struct move_verdict v;
    struct move_request apply = {MOVE_APPLY, NULL, NULL};
    struct risk risk;
    struct db_error e;
    struct buf drift = BUF_INIT;
    int code, drift_failed = 0;

    memset(&risk, 0, sizeof(risk));

    code = session_open(&s, o, bundle_path, 0);
    if (code != EXIT_OK)
        goto done;
    /* What would apply do? Its verdict is status's answer. */
    move_state_of(&s, 1, &st);
    move_decide(&st, &apply, &v);
    code = move_status_code(&v);
    /* Findings and live risk of what is pending (no query when nothing is). */
    {
        struct walk_reps reps = move_reps(&s, &v);

        if (s.view.drift)
            reps.n = 0;
        risk_init(&risk, &s.bundle.manifest, s.view.drift ? 0 : v.from,
                  s.view.drift ? 0 : s.bundle.manifest.nmigrations, MANIFEST_UP, &reps, s.scripts);
    }
    if ((o->json || !o->quiet) && risk_query(&risk, s.db, &e) != 0)
        diag_warning("could not read the live risk of the pending migrations: %s", e.message);
    if (o->schema_drift && ((code = schema_drift(&s, code, &drift, &drift_failed)), drift_failed))
        goto done;
    if (o->json)
        print_json(&s, &st, &v, &risk, &drift);
    else if (!o->quiet) {
        print_text(&s, &st, &v, &risk);
        fputs(drift.data, stdout);
    }
    fflush(stdout);
    if (v.action == MOVE_REFUSE && code != EXIT_PENDING) {
        move_report(&v, &out);
    } else if (v.ahead) {
        struct engine_label head;

        app_error("the database has %zu applied migration%s that this bundle does not know (it "
                  "is older than the database)",
                  v.ahead, v.ahead == 1 ? "" : "s");
        app_detail("the database is at %s; this bundle's head is %s",
                   move_database_head(&st, &head), engine_label(st.m, st.m->nmigrations).s);
    }
    if (o->schema_drift && code == EXIT_STATE && v.action != MOVE_REFUSE && !v.ahead)
        app_error("the schema changed since the last fingerprint sealift recorded (schema drift)");
done:
    buf_release(&drift);
    risk_release(&risk);
    session_close(&s);
    return code;
}
