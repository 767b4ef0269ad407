/*
 * cmd_stamp.c: "sealift-apply stamp BUNDLE REV": record REV and everything before it as
 * applied, without running any SQL (for a database brought to REV by other means).
 * Layer: applier.
 */
#include "cmds.h"
#include "runner.h"
#include "session.h"

#include <stdio.h>
#include <string.h>

static void
usage_stamp(void)
{
    printf("Record REV and every migration before it as applied, without running them: for a\n"
           "database that already has their effect.\n\n"
           "Usage:\n  sealift-apply stamp BUNDLE REV -p PUBLIC_KEY... [OPTIONS]\n\n"
           "Options:\n" APP_USAGE_BUNDLE APP_USAGE_DB APP_USAGE_LOCK APP_USAGE_OUT);
}

int
cmd_stamp(int argc, char **argv)
{
    static const struct option longopts[] = {APP_LONGOPTS, {NULL, 0, NULL, 0}};
    struct app_opts o;
    struct session s;
    struct out out = {0};
    struct runner *r;
    const struct manifest *m;
    int c, code;
    long to;

    app_opts_init(&o);
    optind = 0;
    while ((c = getopt_long(argc, argv, APP_SHORTOPTS, longopts, NULL)) != -1) {
        if (app_option(&o, c, optarg, "stamp"))
            continue;
        if (c == 'h') {
            usage_stamp();
            return EXIT_OK;
        }
        die_bad_option("stamp", c, argv);
    }
    if (optind + 2 != argc)
        die_usage("stamp", "expected BUNDLE and REV");
    app_require_keys(&o, "stamp");
    out.json = o.json;
    out.quiet = o.quiet;

    code = session_open(&s, &o, argv[optind], 1);
    if (code != EXIT_OK)
        goto done;
    m = &s.bundle.manifest;
    if ((code = session_check_drift(&s)) != EXIT_OK ||
        (code = session_check_environment(&s)) != EXIT_OK)
        goto done;
    to = engine_resolve_target(m, argv[optind + 1]);
    if (to < 0) {
        diag_error("%s: the bundle has no such migration", argv[optind + 1]);
        code = EXIT_USAGE;
        goto done;
    }
    if (s.view.partial) {
        diag_error("no-transaction migration %s is unfinished; finish it before stamping",
                   s.view.partial->id);
        code = EXIT_STATE;
        goto done;
    }
    if ((size_t)to < s.view.napplied) {
        diag_error("the database is already at %s, past %s; stamp only moves forward (use "
                   "rollback to go back)",
                   engine_revision_label(m, s.view.napplied), argv[optind + 1]);
        code = EXIT_STATE;
        goto done;
    }
    if ((size_t)to == s.view.napplied) {
        out_info(&out, "nothing to stamp: the database is at %s",
                 engine_revision_label(m, s.view.napplied));
        goto done;
    }
    if ((long long)m->serial < s.state.max_serial) {
        diag_error("bundle serial %llu is older than serial %lld, already applied to this "
                   "database (rollback protection)",
                   (unsigned long long)m->serial, s.state.max_serial);
        code = EXIT_STATE;
        goto done;
    }
    if ((code = session_create_history(&s)) != EXIT_OK)
        goto done;
    out.total = (size_t)to - s.view.napplied;
    r = runner_new(s.db, &s.h, &s.src, &s.bundle, NULL, &s.view, &out, 0);
    code = runner_stamp(r, s.view.napplied, (size_t)to);
    if (code == EXIT_OK)
        out_info(&out, "stamped %zu migration%s; the database is recorded at %s", out.total,
                 out.total == 1 ? "" : "s", engine_revision_label(m, runner_position(r)));
    runner_free(r);
done:
    session_close(&s);
    app_opts_release(&o);
    return code;
}
