/*
 * cmd_test.c: "sealift-apply test BUNDLE": prove a chain on a scratch database before it
 * ships (proof.h says how). This file parses the options and calls the steps in order; with
 * no database given, the test runs on a throwaway server (scratch_pg.c), and a database that
 * is given must pass the safety rule (disposable.h). Layer: applier.
 */
#include "cmds.h"
#include "disposable.h"
#include "proof.h"
#include "scratch_pg.h"

#include <stdio.h>
#include <string.h>

extern char **environ;

static void
usage_test(void)
{
    printf(
        "Prove a chain before it ships, on a scratch database: every migration up, down and\n"
        "up again, with the schema compared after each step; then the whole chain rolled back\n"
        "to base and applied to head again, as rollback and apply would (the repeatables run\n"
        "at head, twice, and must leave the same schema, and again on the way up); then a\n"
        "stamp at head, after which apply must have nothing to do. Irreversible migrations\n"
        "are skipped and listed. Exit 0 when every reversible migration round-trips and the\n"
        "chain goes down and up again; 1 otherwise, naming the first migration that fails.\n\n"
        "Usage:\n  sealift-apply test BUNDLE -p PUBLIC_KEY... [-d SCRATCH [--scratch]] "
        "[OPTIONS]\n\n"
        "Where it runs: with no database given (no -d, DATABASE_URL, PGHOST, PGHOSTADDR,\n"
        "PGPORT, PGDATABASE or PGSERVICE), on a throwaway PostgreSQL server started from this\n"
        "host's server binaries (initdb and postgres; SEALIFT_PG_BINDIR chooses them) in a\n"
        "temporary directory, reachable only through a Unix socket there, and removed when the\n"
        "test ends, however it ends.\n\n"
        "Safety: test creates and drops objects, so it refuses a database (exit 3) unless\n"
        "  - the database has no objects of its own: no schema but public, no table, view,\n"
        "    sequence, index, function or type outside the system schemas, and no extension\n"
        "    but plpgsql; or\n"
        "  - --scratch is given and the database's name says it is disposable: a word of the\n"
        "    name (a run of letters) begins with \"scratch\", \"test\" or \"tmp\", and no word\n"
        "    begins with \"prod\" (app_test, scratch1 and ci-tmp pass; latest, prod_test and\n"
        "    app do not).\n"
        "template0 and template1 are always refused, and so is a database where the history\n"
        "schema exists. Objects already in a --scratch database are left alone. When every\n"
        "down works, the database is left as it was found: rolled back, history schema dropped.\n\n"
        "Options:\n" APP_USAGE_BUNDLE
        "  -d, --db CONNINFO     the scratch database, conninfo or URI (default: DATABASE_URL,\n"
        "                        then libpq's PG* variables; with none, a throwaway server)\n"
        "      --scratch         accept a database with objects of its own if its name says\n"
        "                        it is disposable (see Safety)\n"
        "      --schema NAME     history schema used during the test (default "
        "\"sealift\")\n" APP_USAGE_PASSWORD
        "      --per-migration   roll back and apply the whole chain one transaction per\n"
        "                        migration (default: one transaction, as rollback and "
        "apply)\n"
        "      --no-lock-trace   do not trace statements (by default each one runs on its\n"
        "                        own and the locks it newly took on relations that existed\n"
        "                        before its migration, and any rewrite, are read from the\n"
        "                        server and held against the bundle's lint findings: \"lint\n"
        "                        missed\" for a blocking lock or rewrite none "
        "predicts)\n" APP_USAGE_LOCK APP_USAGE_OUT
        "\nExit codes: 0 passed, 1 failed (or the bundle was rejected), 2 usage or no server\n"
        "binaries, 3 database refused, 4 interrupted or could not go on, 5 lock timeout,\n"
        "6 cannot connect or lost the connection.\n");
}

int
cmd_test(int argc, char **argv)
{
    static const struct option longopts[] = {APP_OPTS_BUNDLE,
                                             APP_OPTS_DB,
                                             APP_OPTS_OUT,
                                             APP_OPT_LOCK,
                                             {"scratch", no_argument, NULL, 'X'},
                                             APP_OPT_PER_MIGRATION,
                                             APP_OPT_NO_LOCK_TRACE,
                                             APP_OPT_HELP,
                                             APP_OPT_END};
    struct app_opts o;
    struct proof p;
    struct scratch_pg pg;
    int c, code, scratch = 0, per_migration = 0, trace = 1;

    app_opts_init(&o);
    memset(&pg, 0, sizeof(pg));
    optind = 0;
    while ((c = getopt_long(argc, argv, APP_SHORTOPTS, longopts, NULL)) != -1) {
        if (app_option(&o, c, optarg, "test"))
            continue;
        if (c == 'X')
            scratch = 1;
        else if (c == 'M')
            per_migration = 1;
        else if (c == APP_OPTC_NO_LOCK_TRACE)
            trace = 0;
        else if (c == 'h') {
            usage_test();
            return EXIT_OK;
        } else
            app_bad_option("test", c, argv);
    }
    if (optind + 1 != argc)
        die_usage("test", "expected one BUNDLE");
    app_require_keys(&o, "test");
    proof_init(&p, &o, per_migration, trace);

    /* Trust first: no server is started and nothing is connected to for a rejected bundle. */
    code = proof_verify(&p, &o, argv[optind]);
    if (code != EXIT_OK)
        goto done;
    proof_arm_signals(&p);
    /* No database named: a throwaway server of our own, removed however the test ends. */
    if (!disposable_target_named(o.conninfo, environ)) {
        code = scratch_pg_start(&pg, proof_stop_flag());
        p.throwaway = code == EXIT_OK;
        o.conninfo = pg.conninfo;
    }
    if (code == EXIT_OK)
        code = proof_open(&p, scratch, pg.dir);
    if (code == EXIT_OK)
        code = proof_run(&p);
    code = proof_close(&p, code);
    if (p.throwaway || pg.dir[0])
        scratch_pg_stop(&pg);
    proof_disarm_signals(&p);
done:
    proof_release(&p);
    app_opts_release(&o);
    return code;
}
