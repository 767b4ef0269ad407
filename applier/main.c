/*
 * main.c: sealift-apply's entry point: global options and subcommand dispatch.
 * Layer: applier.
 */
#include "ansible_module.h"
#include "cmds.h"
#include "common.h"
#include "sealift/diag.h"
#include "sealift/hash.h"

#include <signal.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

struct cmd {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *help;
};

static const struct cmd cmds[] = {
    {"verify", cmd_verify, "verify a bundle's signatures and checksums (no database)"},
    {"status", cmd_status, "show what is applied, pending or drifted"},
    {"plan", cmd_plan, "print the psql script that apply would run"},
    {"apply", cmd_apply, "apply pending migrations"},
    {"rollback", cmd_rollback, "run down migrations back to a revision"},
    {"stamp", cmd_stamp, "record migrations as applied without running them"},
    {"history", cmd_history, "show (and --verify) the database's migration journal"},
    {"keys", cmd_keys, "show the signing keys the database has recorded (rotated, revoked)"},
    {"test", cmd_test, "run every migration up, down and up again on a scratch database"},
    {"report", cmd_report, "write the auditor's report of a database (HTML, or --json)"},
};

static void
usage(void)
{
    printf("sealift-apply verifies a signed sealift bundle and applies it to PostgreSQL.\n\n"
           "Usage:\n  sealift-apply COMMAND [OPTIONS]\n\nCommands:\n");
    for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
        printf("  %-9s %s\n", cmds[i].name, cmds[i].help);
    printf("\nOptions:\n  -h, --help     show this help, then exit\n"
           "  -V, --version  show the version, then exit\n\n"
           "Run \"sealift-apply COMMAND --help\" for a command's options.\n"
           "Exit codes: 0 ok, 1 bundle rejected, 2 usage, 3 database state refused, 4 migration\n"
           "failed (rolled back), 5 lock timeout, 6 cannot connect, 7 pending (status).\n\n"
           "Environment:\n"
           "  SEALIFT_PUBKEYS    trusted public key files, FILE:FILE... (when no -p is given)\n"
           "  SEALIFT_THRESHOLD  the default of --threshold\n"
           "  SEALIFT_SCHEMA     the default of --schema\n"
           "  SEALIFT_CONFIG     the config file to read instead of /etc/sealift/apply.conf\n"
           "                     (empty: none)\n"
           "  DATABASE_URL       the database when no -d is given; then libpq's PG* variables,\n"
           "                     service file and pgpass\n\n"
           "Files:\n"
           "  /etc/sealift/apply.conf  defaults as \"key = value\" lines (pubkey, repeatable;\n"
           "                     threshold; schema; lock_timeout), read when it exists; refused\n"
           "                     unless owned by root or the user and not writable by others.\n"
           "                     Options win over the environment, the environment over it.\n");
}

int
main(int argc, char **argv)
{
    diag_set_progname("sealift-apply");
    /* A closed stdout must not kill us in the middle of a migration. */
    signal(SIGPIPE, SIG_IGN);
    opterr = 0; /* commands report bad options themselves (die_bad_option) */
    if (hash_library_init() != 0)
        die(2, "could not initialise libsodium");
    if (argc < 2) {
        usage();
        return 2;
    }
    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage();
        return 0;
    }
    if (strcmp(argv[1], "-V") == 0 || strcmp(argv[1], "--version") == 0) {
        printf("sealift-apply %s\n", SEALIFT_VERSION);
        return 0;
    }
    for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
        if (strcmp(argv[1], cmds[i].name) == 0)
            return app_exit(cmds[i].fn(argc - 1, argv + 1));
    /* Run by Ansible as a binary module: one argument, the task's JSON arguments file. */
    if (argc == 2 && ansible_module_is_args_file(argv[1]))
        return ansible_module_main(argv[0], argv[1]);
    die_usage(NULL, "unknown command \"%s\"", argv[1]);
}
