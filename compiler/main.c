/*
 * main.c: the sealift compiler's entry point: global options and subcommand dispatch.
 * Layer: compiler.
 */
#include "cmds.h"
#include "sqlcheck.h"
#include "sealift/diag.h"
#include "sealift/hash.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

struct cmd {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *help;
};

static const struct cmd cmds[] = {
    {"keygen", cmd_keygen, "create a minisign-compatible signing key pair"},
    {"new", cmd_new, "create the next migration (up and down files), or a repeatable one"},
    {"check", cmd_check, "validate the chain, its recorded history and its SQL"},
    {"lint", cmd_lint, "report what each migration locks, rewrites and scans"},
    {"build", cmd_build, "compile, render and sign a bundle"},
    {"sign", cmd_sign, "add a co-signature to a bundle"},
    {"inspect", cmd_inspect, "describe a bundle (text or --json)"},
    {"verify", cmd_verify, "verify a bundle's signatures and checksums"},
    {"key", cmd_key, "write a key rotation or revocation statement"},
};

static void
usage(void)
{
    printf("sealift compiles PostgreSQL migrations into a signed, reproducible bundle.\n\n"
           "Usage:\n  sealift COMMAND [OPTIONS]\n\nCommands:\n");
    for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
        printf("  %-9s %s\n", cmds[i].name, cmds[i].help);
    printf("\nOptions:\n  -h, --help     show this help, then exit\n"
           "  -V, --version  show the version, then exit\n\n"
           "Run \"sealift COMMAND --help\" for a command's options.\n");
}

int
main(int argc, char **argv)
{
    int ret;

    diag_set_progname("sealift");
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
        printf("sealift %s\n", SEALIFT_VERSION);
        return 0;
    }
    for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
        if (strcmp(argv[1], cmds[i].name) == 0) {
            ret = cmds[i].fn(argc - 1, argv + 1);
            sqlcheck_shutdown();
            fflush(stdout);
            return ret;
        }
    }
    die_usage(NULL, "unknown command \"%s\"", argv[1]);
}
