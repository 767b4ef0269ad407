/*
 * cmd_history.c: "sealift-apply history [--verify]": what the database says ran, when, from
 * which bundle, signed by whom; --verify checks the hash-chained journal.
 * Layer: applier.
 */
#include "cmds.h"
#include "common.h"
#include "journal.h"
#include "sealift/json.h"

#include <stdio.h>
#include <string.h>

static void
usage_history(void)
{
    printf("Show the migration journal of the database: every apply, rollback, stamp and\n"
           "failure, with the bundle, its signers, who and from where. --verify checks that\n"
           "no journal row was edited, deleted or reordered (exit 1 naming the row).\n\n"
           "Usage:\n  sealift-apply history [OPTIONS]\n\nOptions:\n" APP_USAGE_DB APP_USAGE_CONFIG
           "      --verify          check the journal's hash chain\n" APP_USAGE_OUT);
}

/* The text view shortens the bundle id to 12 digits; JSON has it whole. Times in UTC. */
#define EVENTS_SQL                                                                                 \
    "SELECT seq, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS\"Z\"'), event, project, "   \
    "migration_id, bundle_serial, left(bundle_id, 12), signers, environment, actor, "              \
    "client_host, detail, hash, to_char(at AT TIME ZONE 'UTC', "                                   \
    "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), "                                                          \
    "bundle_id, ordinal FROM %s.journal ORDER BY seq"

#define PROJECTS_SQL                                                                               \
    "SELECT p.project, p.environment, p.max_serial, (SELECT count(*) FROM %s.applied a WHERE "     \
    "a.project = p.project), (SELECT migration_id FROM %s.applied a WHERE a.project = "            \
    "p.project ORDER BY ordinal DESC LIMIT 1) FROM %s.projects p ORDER BY p.project"

static void
print_text(struct db_rows *projects, struct db_rows *events)
{
    for (size_t i = 0; i < db_nrows(projects); i++)
        printf("project %s: environment %s, highest serial %s, %s applied, at %s\n",
               db_value(projects, i, 0),
               db_value(projects, i, 1) ? db_value(projects, i, 1) : "(not bound)",
               db_value(projects, i, 2), db_value(projects, i, 3),
               db_value(projects, i, 4) ? db_value(projects, i, 4) : "base");
    printf("\n%5s  %-20s  %-11s  %-24s  %6s  %-12s  %-17s  %s\n", "seq", "at (UTC)", "event",
           "migration", "serial", "bundle", "signed by", "by");
    for (size_t i = 0; i < db_nrows(events); i++) {
        const char *detail = db_value(events, i, 11);

        printf("%5s  %-20s  %-11s  %-24s  %6s  %-12s  %-17s  %s@%s%s%s\n", db_value(events, i, 0),
               db_value(events, i, 1), db_value(events, i, 2),
               db_value(events, i, 4) ? db_value(events, i, 4) : "-",
               db_value(events, i, 5) ? db_value(events, i, 5) : "-",
               db_value(events, i, 6) ? db_value(events, i, 6) : "-",
               db_value(events, i, 7) ? db_value(events, i, 7) : "-", db_value(events, i, 9),
               db_value(events, i, 10) ? db_value(events, i, 10) : "?", detail ? "  " : "",
               detail ? detail : "");
    }
}

/*
 * JSON Lines: one object per row. A "project" object per project, an "event" object per
 * journal row (ISO 8601 UTC time, the whole bundle id), then with --verify a "verification"
 * object.
 */
static void
print_json(struct db_rows *projects, struct db_rows *events, int verified, const char *verdict)
{
    /* key, column of EVENTS_SQL, is a number */
    static const struct {
        const char *key;
        int col;
        int number;
    } keys[] = {{"seq", 0, 1},       {"at", 13, 0},         {"event", 2, 0},  {"project", 3, 0},
                {"migration", 4, 0}, {"ordinal", 15, 1},    {"serial", 5, 1}, {"bundle", 14, 0},
                {"signers", 7, 0},   {"environment", 8, 0}, {"actor", 9, 0},  {"host", 10, 0},
                {"detail", 11, 0},   {"hash", 12, 0}};
    struct buf b = BUF_INIT;

    for (size_t i = 0; i < db_nrows(projects); i++) {
        buf_addch(&b, '{');
        json_key(&b, "type", 1);
        json_str(&b, "project");
        json_key(&b, "project", 0);
        json_str(&b, db_value(projects, i, 0));
        json_key(&b, "environment", 0);
        json_str(&b, db_value(projects, i, 1));
        json_key(&b, "max_serial", 0);
        buf_addstr(&b, db_value(projects, i, 2));
        json_key(&b, "applied", 0);
        buf_addstr(&b, db_value(projects, i, 3));
        json_key(&b, "head", 0);
        json_str(&b, db_value(projects, i, 4));
        buf_addstr(&b, "}\n");
    }
    for (size_t i = 0; i < db_nrows(events); i++) {
        buf_addch(&b, '{');
        json_key(&b, "type", 1);
        json_str(&b, "event");
        for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
            const char *v = db_value(events, i, keys[k].col);

            json_key(&b, keys[k].key, 0);
            if (keys[k].number && v)
                buf_addstr(&b, v);
            else
                json_str(&b, v);
        }
        buf_addstr(&b, "}\n");
    }
    if (verified >= 0) {
        buf_addch(&b, '{');
        json_key(&b, "type", 1);
        json_str(&b, "verification");
        json_key(&b, "verified", 0);
        buf_addstr(&b, verified ? "true" : "false");
        json_key(&b, "verification", 0);
        json_str(&b, verdict);
        buf_addstr(&b, "}\n");
    }
    fputs(b.data, stdout);
    buf_release(&b);
}

int
cmd_history(int argc, char **argv)
{
    static const struct option longopts[] = {APP_OPTS_DB,
                                             APP_OPTS_OUT,
                                             {"config", required_argument, NULL, 'F'},
                                             {"verify", no_argument, NULL, 'Y'},
                                             APP_OPT_HELP,
                                             APP_OPT_END};
    struct app_opts o;
    struct history_ctx h;
    struct db *db = NULL;
    struct db_rows *projects = NULL, *events = NULL, *exists = NULL;
    struct buf sql = BUF_INIT, verdict = BUF_INIT;
    struct db_error e;
    int c, code = EXIT_OK, verify = 0, verified = -1;

    app_opts_init(&o);
    optind = 0;
    while ((c = getopt_long(argc, argv, ":d:wWqh", longopts, NULL)) != -1) {
        if (app_option(&o, c, optarg, "history"))
            continue;
        if (c == 'Y')
            verify = 1;
        else if (c == 'h') {
            usage_history();
            return EXIT_OK;
        } else
            app_bad_option("history", c, argv);
    }
    if (optind != argc)
        die_usage("history", "unexpected argument \"%s\"", argv[optind]);
    app_settle(&o, "history");
    history_ctx_init(&h, o.schema, "");
    db = app_connect(&o, &code);
    if (db == NULL)
        goto done;
    buf_addf(&sql, "SELECT to_regclass('%s.journal') IS NOT NULL", h.qschema);
    exists = db_query(db, sql.data, &e);
    if (exists == NULL || strcmp(db_value(exists, 0, 0), "t") != 0) {
        if (exists == NULL)
            diag_error("could not read schema \"%s\": %s", o.schema, e.message);
        else if (!o.quiet)
            printf("no sealift history in schema \"%s\"\n", o.schema);
        code = exists == NULL ? EXIT_FAILED : EXIT_OK;
        goto done;
    }
    if (verify) {
        int v = journal_verify(db, &h, &verdict, &e);

        if (v < 0) {
            diag_error("could not read the journal: %s", e.message);
            code = EXIT_FAILED;
            goto done;
        }
        verified = v == 0;
    }
    buf_reset(&sql);
    buf_addf(&sql, PROJECTS_SQL, h.qschema, h.qschema, h.qschema);
    projects = db_query(db, sql.data, &e);
    buf_reset(&sql);
    buf_addf(&sql, EVENTS_SQL, h.qschema);
    events = projects ? db_query(db, sql.data, &e) : NULL;
    if (events == NULL) {
        diag_error("could not read the history: %s", e.message);
        code = EXIT_FAILED;
        goto done;
    }
    if (o.json)
        print_json(projects, events, verified, verify ? verdict.data : NULL);
    else if (!o.quiet)
        print_text(projects, events);
    if (verified == 0) {
        diag_error("%s", verdict.data);
        code = EXIT_REJECTED;
    } else if (verified == 1 && !o.json && !o.quiet) {
        printf("\n%s\n", verdict.data);
    }
done:
    db_rows_free(exists);
    db_rows_free(projects);
    db_rows_free(events);
    buf_release(&sql);
    buf_release(&verdict);
    db_close(db);
    history_ctx_release(&h);
    app_opts_release(&o);
    return code;
}
