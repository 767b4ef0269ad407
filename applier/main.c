/*
 * main.c: sealift-apply's entry point: global options and subcommand dispatch.
 * Layer: applier.
 */
#include "sealift/diag.h"
#include "sealift/hash.h"

#include <stdio.h>
#include <string.h>

int
main(int argc, char **argv)
{
    diag_set_progname("sealift-apply");
    if (hash_library_init() != 0)
        die(2, "could not initialise libsodium");
    if (argc > 1 && (strcmp(argv[1], "-V") == 0 || strcmp(argv[1], "--version") == 0)) {
        printf("sealift-apply %s\n", SEALIFT_VERSION);
        return 0;
    }
    return 2;
}
