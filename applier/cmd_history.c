/*
 * cmd_history.c: "sealift-apply history [--verify]": what the database says ran, when, from
 * which bundle, signed by whom; --verify checks the hash-chained journal.
 * Layer: applier.
 */
#include "cmds.h"
#include "common.h"
#include "history_view.h"
#include "witness.h"

#include <stdio.h>
#include <string.h>

static void
usage_history(void)
{
    printf("Show the migration journal of the database: every apply, rollback, stamp and\n"
           "failure, with the bundle, its signers, who and from where. --verify checks that\n"
           "no journal row was edited, deleted or reordered, and that the state tables\n"
           "(applied, projects, progress) are what the journal's events leave (exit 1 naming\n"
           "the table, row and column; exit 3 when the database has no sealift history).\n"
           "--witness FILE also checks every head an apply, rollback or stamp --witness\n"
           "recorded in FILE (a journal re-hashed inside the database fails it).\n\n"
           "Usage:\n  sealift-apply history [OPTIONS]\n\nOptions:\n" APP_USAGE_DB APP_USAGE_CONFIG
           "      --verify          check the journal's hash chain and the state tables\n"
           "      --witness FILE    with --verify: check the heads recorded in FILE\n"
           "      --expect-head [SEQ:]HASH  with --verify: fail unless the journal has this head\n"
           "                        (as apply, rollback and stamp print it: journal head SEQ "
           "HASH)\n" APP_USAGE_OUT);
}

/* --expect-head: its verdict on a line after the journal's (replacing "intact" if missing). */
static int
expect_head(struct db *db, const struct history_ctx *h, const char *text, struct buf *verdict,
            int *verified)
{
    struct diag_err err = DIAG_ERR_INIT;
    struct db_error e;
    struct buf line = BUF_INIT;
    int r = witness_expect_head(db, h, text, &line, &err, &e);

    if (r < 0) {
        diag_error("%s", err.msg[0] ? err.msg : e.message);
        buf_release(&line);
        return err.msg[0] ? EXIT_USAGE : EXIT_FAILED;
    }
    if (r == 1 && strncmp(verdict->data, "journal intact", 14) == 0)
        buf_reset(verdict);
    buf_addf(verdict, "%s%s", verdict->len ? "\n" : "", line.data);
    if (r == 1)
        *verified = 0;
    buf_release(&line);
    return EXIT_OK;
}

int
cmd_history(int argc, char **argv)
{
    static const struct option longopts[] = {
        APP_OPTS_DB,
        APP_OPTS_OUT,
        {"config", required_argument, NULL, 'F'},
        APP_OPT_WITNESS,
        {"verify", no_argument, NULL, 'Y'},
        {"expect-head", required_argument, NULL, APP_OPTC_EXPECT_HEAD},
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
        else if (c == APP_OPTC_EXPECT_HEAD)
            o.expect_head = optarg;
        else if (c == 'h') {
            usage_history();
            return EXIT_OK;
        } else
            app_bad_option("history", c, argv);
    }
    if (optind != argc)
        die_usage("history", "unexpected argument \"%s\"", argv[optind]);
    app_settle(&o, "history");
    if (o.witness && !verify)
        die_usage("history", "--witness needs --verify");
    if (o.expect_head && !verify)
        die_usage("history", "--expect-head needs --verify");
    history_ctx_init(&h, o.schema, "");
    db = app_connect(&o, &code);
    if (db == NULL)
        goto done;
    buf_addf(&sql, "SELECT to_regclass('%s.journal') IS NOT NULL", h.qschema);
    exists = db_query(db, sql.data, &e);
    if (exists == NULL || strcmp(db_value(exists, 0, 0), "t") != 0) {
        if (exists == NULL)
            diag_error("could not read schema \"%s\": %s", o.schema, e.message);
        else if (verify)
            /*
             * Nothing to verify is not "intact": a dropped schema fails verification like an
             * edited one (exit 1), never a silent 0.
             */
            diag_error("no sealift history in schema \"%s\": there is no journal to verify",
                       o.schema);
        else if (!o.quiet)
            printf("no sealift history in schema \"%s\"\n", o.schema);
        code = exists == NULL ? EXIT_FAILED : verify ? EXIT_REJECTED : EXIT_OK;
        goto done;
    }
    if (verify && (verified = history_view_verify(db, &h, o.witness, &verdict, &e)) < 0) {
        code = verified == -2 ? EXIT_USAGE : EXIT_FAILED;
        goto done;
    }
    if (o.expect_head && (code = expect_head(db, &h, o.expect_head, &verdict, &verified)) != 0)
        goto done;
    if (history_view_load(db, &h, &projects, &events, &e) != 0) {
        diag_error("could not read the history: %s", e.message);
        code = EXIT_FAILED;
        goto done;
    }
    if (o.json)
        history_view_json(projects, events, verified, verify ? verdict.data : NULL);
    else if (!o.quiet)
        history_view_text(projects, events);
    if (verified == 0) {
        /* One error line per problem found. */
        for (char *p = verdict.data, *nl; p; p = nl ? nl + 1 : NULL) {
            nl = strchr(p, '\n');
            diag_error("%.*s", nl ? (int)(nl - p) : (int)strlen(p), p);
        }
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
