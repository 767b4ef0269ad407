/*
 * cmd_rollback.c: "sealift-apply rollback BUNDLE --to REV|base": run down scripts, newest
 * first, back to REV.
 * Layer: applier.
 */
#include "cmds.h"
#include "move.h"

#include <stdio.h>

static void
usage_rollback(void)
{
    printf("Roll the database back to REV (\"base\" = before the first migration) by running\n"
           "down scripts in reverse order. Refuses to cross an irreversible migration, and a\n"
           "REV the database has not reached.\n\n"
           "Usage:\n  sealift-apply rollback BUNDLE --to REV -p PUBLIC_KEY... [OPTIONS]\n\n"
           "Options:\n" APP_USAGE_BUNDLE APP_USAGE_DB
           "      --to REV          the revision to go back to (id, ID_NAME or base; Sqitch's\n"
           "                        @TAG or CHANGE@TAG)\n"
           "      --per-migration   commit each rollback step on its own\n" APP_USAGE_COMPAT
               APP_USAGE_ADOPT_TABLE APP_USAGE_DRIFT_MOVE APP_USAGE_LOCK APP_USAGE_LIMITS
                   APP_USAGE_WITNESS APP_USAGE_ALLOW_EXPIRED APP_USAGE_OUT);
}

int
cmd_rollback(int argc, char **argv)
{
    /* A database another tool managed: what it ran is recorded first, then rolled back. */
    return move_command(argc, argv, MOVE_ROLLBACK, "rollback", usage_rollback);
}
