/*
 * cmd_report.c: "sealift-apply report -d DB [BUNDLE... -p KEY...] -o FILE": the auditor's
 * report of a database, as one self-contained HTML file and, with --json, its JSON twin on
 * stdout (report.h; the schema is docs/report.md).
 * Layer: applier.
 */
#include "cmds.h"
#include "report.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static void
usage_report(void)
{
    printf(
        "Write the auditor's report of a database: the history schema, the journal's\n"
        "verification (as history --verify) and head, every event (time, who, host,\n"
        "duration, bundle, serial, signers verified or not, environment), every applied\n"
        "migration's checksums, the keys the journal names; and for each BUNDLE given\n"
        "(verified first) its signatures, each migration's exact SQL and lint findings\n"
        "with the reasons they were allowed, and the drift of the database against it.\n"
        "The HTML is one file: no script, no external resource, printable. Times are the\n"
        "server's. The report is written whatever it finds; the exit code says what:\n"
        "0 journal intact and no drift, 1 journal not intact (or a bundle rejected: no\n"
        "report), 3 drift against a bundle given, or no sealift history.\n\n"
        "Usage:\n  sealift-apply report [BUNDLE... -p PUBLIC_KEY...] [OPTIONS]\n\n"
        "Options:\n"
        "  -o, --output FILE     write the HTML report to FILE (default: stdout, unless\n"
        "                        --json)\n"
        "      --json            write the JSON report on stdout (with -o: as well)\n"
        "      --witness FILE    also check the journal heads recorded in FILE\n" APP_USAGE_BUNDLE
            APP_USAGE_DB);
}

/* The verdict as an exit code, with an error line saying why it is not 0. */
static int
verdict_code(const struct report *r)
{
    size_t drifted = 0;

    for (size_t i = 0; i < r->nbundles; i++)
        drifted += r->bundles[i].view.drift != 0;
    if (!r->schema_exists) {
        app_error("no sealift history in schema \"%s\"", r->o->schema);
        return EXIT_STATE;
    }
    if (r->intact != 1)
        app_error("the journal is not intact (the report lists each problem)");
    if (drifted)
        app_error("the database's history contradicts %zu of the bundles given (drift)", drifted);
    /* As history --verify (a tampered journal: 1) and status (drift: 3) answer. */
    return r->intact != 1 ? EXIT_REJECTED : drifted ? EXIT_STATE : EXIT_OK;
}

/* Write the HTML report to path. Returns the exit code (2 when the file cannot be written). */
static int
write_html(const struct report *r, const char *path)
{
    FILE *f = fopen(path, "w");

    if (f == NULL) {
        app_error("could not open file \"%s\": %s", path, strerror(errno));
        return EXIT_USAGE;
    }
    report_html(r, f);
    if (ferror(f) | fclose(f)) {
        app_error("could not write file \"%s\": %s", path, strerror(errno));
        return EXIT_USAGE;
    }
    return EXIT_OK;
}

int
cmd_report(int argc, char **argv)
{
    static const struct option longopts[] = {
        APP_OPTS_BUNDLE, APP_OPTS_DB,     {"json", no_argument, NULL, 'J'},
        APP_OPT_OUTPUT,  APP_OPT_WITNESS, APP_OPT_HELP,
        APP_OPT_END};
    struct app_opts o;
    struct report r;
    const char *output = NULL;
    int c, code;

    app_opts_init(&o);
    optind = 0;
    while ((c = getopt_long(argc, argv, ":p:d:o:wWh", longopts, NULL)) != -1) {
        if (app_option(&o, c, optarg, "report"))
            continue;
        if (c == 'o')
            output = optarg;
        else if (c == 'h') {
            usage_report();
            return EXIT_OK;
        } else
            app_bad_option("report", c, argv);
    }
    /* Keys are needed to trust a bundle; a report of the database alone shows what it has. */
    if (optind < argc)
        app_require_keys(&o, "report");
    else
        app_settle(&o, "report");
    report_init(&r, &o);
    code = report_collect(&r, argv + optind, (size_t)(argc - optind));
    if (code == EXIT_OK && output)
        code = write_html(&r, output);
    if (code == EXIT_OK && o.json)
        report_json(&r, stdout);
    else if (code == EXIT_OK && !output)
        report_html(&r, stdout);
    if (code == EXIT_OK) {
        fflush(stdout);
        code = verdict_code(&r);
    }
    report_release(&r);
    app_opts_release(&o);
    return code;
}
