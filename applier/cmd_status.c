/*
 * cmd_status.c: "sealift-apply status BUNDLE": applied, pending, drift. Exit 0 at head,
 * 7 when migrations are pending, 3 on drift or a history this bundle does not know.
 * Layer: applier.
 */
#include "cmds.h"
#include "session.h"
#include "sealift/json.h"

#include <stdio.h>
#include <string.h>

static void
usage_status(void)
{
    printf("Show what the database has applied from this bundle's chain, what is pending, and\n"
           "any drift. Exit 0 at the bundle's head, 7 when migrations are pending, 3 on drift.\n\n"
           "Usage:\n  sealift-apply status BUNDLE -p PUBLIC_KEY... [OPTIONS]\n\n"
           "Options:\n" APP_USAGE_BUNDLE APP_USAGE_DB APP_USAGE_OUT);
}

static const char *
state_word(const struct session *s, int code)
{
    if (code == EXIT_STATE)
        return s->view.drift ? "drift" : s->view.ahead ? "ahead" : "refused";
    return code == EXIT_PENDING ? "pending" : "at_head";
}

static void
print_json(const struct session *s, int code)
{
    const struct manifest *m = &s->bundle.manifest;
    struct buf b = BUF_INIT;

    buf_addch(&b, '{');
    json_key(&b, "state", 1);
    json_str(&b, state_word(s, code));
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
    json_key(&b, "applied", 0);
    buf_addf(&b, "%zu", s->view.napplied);
    json_key(&b, "head", 0);
    json_str(&b, engine_revision_label(m, s->view.napplied));
    json_key(&b, "bundle_head", 0);
    json_str(&b, engine_revision_label(m, m->nmigrations));
    json_key(&b, "pending", 0);
    buf_addch(&b, '[');
    for (size_t i = s->view.napplied; i < m->nmigrations && !s->view.drift; i++) {
        if (i > s->view.napplied)
            buf_addch(&b, ',');
        json_str(&b, m->migrations[i].id);
    }
    buf_addch(&b, ']');
    json_key(&b, "adoptable_from", 0);
    json_str(&b, s->adopt.found && s->adopt.count > 0 ? s->adopt.tool : NULL);
    json_key(&b, "adoptable", 0);
    buf_addf(&b, "%zu", s->adopt.found && !s->adopt.problem.len ? s->adopt.count : 0);
    json_key(&b, "unknown_applied", 0);
    buf_addf(&b, "%zu", s->view.ahead);
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
    buf_addstr(&b, "}\n");
    fputs(b.data, stdout);
    buf_release(&b);
}

static void
print_text(const struct session *s)
{
    const struct manifest *m = &s->bundle.manifest;
    size_t npending = m->nmigrations - s->view.napplied;

    printf("database     %s (PostgreSQL %d), history schema \"%s\"%s\n", db_describe(s->db),
           db_server_version(s->db) / 10000, s->o->schema,
           s->state.schema_exists ? "" : " (not created yet)");
    printf("project      %s, environment %s, highest serial applied %lld\n", m->project,
           s->state.environment ? s->state.environment : "(not bound)", s->state.max_serial);
    printf("bundle       %s: serial %llu, environment %s, %zu migrations, head %s\n",
           s->bundle_path, (unsigned long long)m->serial, m->environment ? m->environment : "(any)",
           m->nmigrations, engine_revision_label(m, m->nmigrations));
    printf("applied      %zu of %zu (database at %s)\n", s->view.napplied, m->nmigrations,
           engine_revision_label(m, s->view.napplied));
    if (s->adopt.found && !s->adopt.problem.len && s->adopt.count > 0)
        printf("adoptable    %zu migration%s recorded by %s in %s; apply adopts them without "
               "running them\n",
               s->adopt.count, s->adopt.count == 1 ? "" : "s", s->adopt.tool, s->adopt.table);
    if (s->view.ahead)
        printf("unknown      %zu applied migration%s after this bundle's head\n", s->view.ahead,
               s->view.ahead == 1 ? "" : "s");
    if (s->view.partial)
        printf("unfinished   %s (%s) stopped after %ld of %ld statements%s\n", s->view.partial->id,
               s->view.partial->direction, s->view.partial->done, s->view.partial->total,
               strcmp(s->view.partial->direction, "up") == 0 ? "; apply resumes it"
                                                             : "; rollback resumes it");
    if (!s->view.drift && npending) {
        printf("pending      %zu\n", npending);
        for (size_t i = s->view.napplied; i < m->nmigrations; i++)
            printf("  %s\n", engine_revision_label(m, i + 1));
    }
}

int
cmd_status(int argc, char **argv)
{
    static const struct option longopts[] = {APP_LONGOPTS, {NULL, 0, NULL, 0}};
    struct app_opts o;
    struct session s;
    int c, code, older = 0;

    app_opts_init(&o);
    optind = 0;
    while ((c = getopt_long(argc, argv, APP_SHORTOPTS, longopts, NULL)) != -1) {
        if (app_option(&o, c, optarg, "status"))
            continue;
        if (c == 'h') {
            usage_status();
            return EXIT_OK;
        }
        die_bad_option("status", c, argv);
    }
    if (optind + 1 != argc)
        die_usage("status", "expected one BUNDLE");
    app_require_keys(&o, "status");
    code = session_open(&s, &o, argv[optind], 0);
    /* A database another tool managed: status shows what apply would adopt. */
    if (code == EXIT_OK && s.adopt.found && !s.adopt.problem.len)
        s.view.napplied = s.adopt.count;
    if (code == EXIT_OK) {
        if (s.adopt.found && s.adopt.problem.len)
            code = EXIT_STATE;
        else if (s.view.drift)
            code = EXIT_STATE;
        else if (s.view.ahead)
            code = EXIT_STATE;
        else if (session_check_environment(&s) != EXIT_OK)
            code = EXIT_STATE;
        else if (s.view.napplied < s.bundle.manifest.nmigrations || s.view.partial) {
            /* What apply would refuse (rollback protection) is not merely pending. */
            older = (long long)s.bundle.manifest.serial < s.state.max_serial;
            code = older ? EXIT_STATE : EXIT_PENDING;
        }
        if (o.json)
            print_json(&s, code);
        else if (!o.quiet)
            print_text(&s);
        if (s.adopt.found && s.adopt.problem.len)
            diag_error("cannot take over from %s: %s", s.adopt.tool, s.adopt.problem.data);
        else if (s.view.drift)
            session_check_drift(&s);
        else if (s.view.ahead)
            diag_error("the database has %zu applied migration%s that this bundle does not know "
                       "(it is older than the database)",
                       s.view.ahead, s.view.ahead == 1 ? "" : "s");
        else if (older)
            diag_error("bundle serial %llu is older than serial %lld, already applied to this "
                       "database (rollback protection)",
                       (unsigned long long)s.bundle.manifest.serial, s.state.max_serial);
    }
    session_close(&s);
    app_opts_release(&o);
    return code;
}
