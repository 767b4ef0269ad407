/*
 * cmd_apply.c: "sealift-apply apply BUNDLE [--to REV] [--per-migration]".
 * Layer: applier.
 */
#include "cmds.h"
#include "move.h"

#include <stdio.h>

static void
usage_apply(void)
{
    printf("Apply the bundle's pending migrations. By default all pending transactional\n"
           "migrations run in one transaction: the database moves to the new head or not at\n"
           "all. A no-transaction migration runs statement by statement outside any, and a\n"
           "rerun resumes it where it stopped. A database the bundle's source tool (Flyway,\n"
           "Alembic...) has been migrating is adopted first: what that tool recorded is\n"
           "checked against the chain and recorded as applied, without running it. When the\n"
           "database reaches the bundle's head, its repeatable migrations (R__NAME.sql) that\n"
           "never ran or changed since their last run follow, by name, in the same mode.\n\n"
           "Usage:\n  sealift-apply apply BUNDLE -p PUBLIC_KEY... [OPTIONS]\n\n"
           "Options:\n" APP_USAGE_BUNDLE APP_USAGE_DB
           "      --to REV          stop after migration REV (its id or ID_NAME; Sqitch's\n"
           "                        @TAG or CHANGE@TAG)\n"
           "      --per-migration   commit each migration on its own\n" APP_USAGE_COMPAT
               APP_USAGE_ADOPT_TABLE APP_USAGE_DRIFT_MOVE APP_USAGE_LOCK APP_USAGE_LIMITS
                   APP_USAGE_WITNESS APP_USAGE_ALLOW_EXPIRED APP_USAGE_OUT);
}

int
cmd_apply(int argc, char **argv)
{
    return move_command(argc, argv, MOVE_APPLY, "apply", usage_apply);
}
