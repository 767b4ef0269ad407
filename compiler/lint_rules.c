/*
 * lint_rules.c: the lint's rule table: stable names, default severities, and the safe
 * alternative each finding's "help:" line gives. docs/lint.md explains each rule.
 * Layer: compiler.
 */
#include "lint.h"

#include <string.h>

/* Where the CONCURRENTLY forms must run (PostgreSQL refuses them in a transaction block). */
#define OUTSIDE_TX                                                                                 \
    "in a migration that runs outside a transaction (\"-- sealift:no-transaction\", or the "       \
    "source format's own marker)"

// clang-format off
const struct lint_rule lint_rules[] = {
    {"add-column-rewrite", LINT_ERROR,
     "add the column without the default (or with a constant one), backfill in batches, then "
     "SET DEFAULT; for an identity or generated value, fill a plain column and switch later"},
    {"add-required-column", LINT_WARNING,
     "add the column nullable or with a constant DEFAULT; a NOT NULL column without a default "
     "fails on a table that has rows"},
    {"alter-column-type", LINT_ERROR,
     "add a column of the new type, backfill it in batches, swap in a later migration; only "
     "widening varchar/numeric/timestamp precision or dropping a length limit is free"},
    {"set-not-null-scan", LINT_WARNING,
     "ADD CONSTRAINT ... CHECK (col IS NOT NULL) NOT VALID, VALIDATE it in a later migration, "
     "then SET NOT NULL (PostgreSQL 12+ skips the scan) and drop the CHECK"},
    {"constraint-not-valid", LINT_WARNING,
     "add the constraint with NOT VALID (brief lock), then VALIDATE CONSTRAINT in a later "
     "migration (SHARE UPDATE EXCLUSIVE: reads and writes go on)"},
    {"validate-same-transaction", LINT_WARNING,
     "move VALIDATE CONSTRAINT to a later migration: in the same transaction it scans while "
     "the lock of the NOT VALID add is still held"},
    {"add-unique-without-index", LINT_WARNING,
     "CREATE UNIQUE INDEX CONCURRENTLY first (in a no-transaction migration), then ADD "
     "CONSTRAINT ... PRIMARY KEY / UNIQUE USING INDEX"},
    {"create-index-concurrently", LINT_WARNING,
     "CREATE INDEX CONCURRENTLY " OUTSIDE_TX ": writes go on while the index builds"},
    {"drop-index-concurrently", LINT_WARNING,
     "DROP INDEX CONCURRENTLY " OUTSIDE_TX},
    {"reindex-concurrently", LINT_WARNING,
     "REINDEX ... CONCURRENTLY (PostgreSQL 12+) " OUTSIDE_TX},
    {"detach-partition-concurrently", LINT_WARNING,
     "DETACH PARTITION ... CONCURRENTLY (PostgreSQL 14+) " OUTSIDE_TX},
    {"concurrent-index-rerun", LINT_WARNING,
     "name the index and put \"DROP INDEX CONCURRENTLY IF EXISTS name;\" before it (or use IF "
     "NOT EXISTS): an interrupted build leaves an INVALID index that makes a rerun fail"},
    {"vacuum-full", LINT_ERROR,
     "use pg_repack or pg_squeeze, which rebuild the table online, outside the migration"},
    {"cluster", LINT_ERROR,
     "use pg_repack --order-by, which reorders the table online, outside the migration"},
    {"lock-table", LINT_WARNING,
     "take the weakest lock the change needs, with a short lock_timeout, and retry"},
    {"update-without-where", LINT_WARNING,
     "backfill in batches of keyed ranges (UPDATE ... WHERE id BETWEEN ...), each its own "
     "transaction, from a no-transaction migration or a job"},
    {"delete-without-where", LINT_WARNING,
     "delete in batches of keyed ranges, or TRUNCATE if the table may really be emptied"},
    {"enum-add-value", LINT_ERROR,
     "ALTER TYPE ... ADD VALUE in its own migration (no-transaction before PostgreSQL 12), "
     "and use the new value only in a later migration"},
    {"rename-table", LINT_WARNING,
     "create the new name as a view or keep both names until every client uses the new one "
     "(expand, then contract)"},
    {"rename-column", LINT_WARNING,
     "add the new column, write both, backfill, switch readers, drop the old one later"},
    {"drop-table", LINT_WARNING,
     "stop every client using the table in an earlier release, then drop it"},
    {"drop-column", LINT_WARNING,
     "stop every client reading or writing the column (ORMs select all columns) in an earlier "
     "release, then drop it"},
    {"truncate-table", LINT_INFO,
     "make sure no running client still needs the rows; TRUNCATE is over quickly but waits "
     "for every query on the table, and every later query waits for it"},
    {"alter-table-rewrite", LINT_ERROR,
     "create the table anew with the property wanted, copy in batches, swap names; or use "
     "pg_repack (tablespace)"},
    {"refresh-matview-concurrently", LINT_WARNING,
     "REFRESH MATERIALIZED VIEW CONCURRENTLY (needs a unique index on the view): reads go on"},
    {"truncate-cascade", LINT_WARNING,
     "TRUNCATE the tables by name, so that what is emptied is written in the migration"},
    {"drop-cascade", LINT_WARNING,
     "drop the dependent objects by name first, then drop without CASCADE"},
    {"identifier-too-long", LINT_ERROR,
     "use a name of at most 63 bytes: PostgreSQL cuts longer ones silently, and two names "
     "that differ only after byte 63 collide"},
    {"blocking-lock", LINT_INFO,
     "SET lock_timeout (a few seconds) at the top of the migration and retry on timeout, so "
     "that waiting for the lock cannot stall the table's traffic; run it when the table is "
     "quiet"},
    {"unused-allow", LINT_WARNING,
     "remove the \"-- sealift:allow\" comment, or name the rule the statement really breaks"},
    {"allow-without-reason", LINT_ERROR,
     "write why the finding is acceptable after the rule names: "
     "\"-- sealift:allow RULE reason text\""},
};
// clang-format on

const size_t lint_nrules = sizeof(lint_rules) / sizeof(lint_rules[0]);

const struct lint_rule *
lint_rule_find(const char *name, size_t len)
{
    for (size_t i = 0; i < lint_nrules; i++)
        if (strlen(lint_rules[i].name) == len && memcmp(lint_rules[i].name, name, len) == 0)
            return &lint_rules[i];
    return NULL;
}
