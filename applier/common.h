/*
 * common.h: what every sealift-apply command shares: options (-p, --threshold, -d, --schema,
 * --json, -q, --lock-timeout), loading a bundle (verified first, always), connecting, and
 * taking the migration lock. Each helper prints its own error and returns the exit code.
 */
#ifndef SEALIFT_APPLIER_COMMON_H
#define SEALIFT_APPLIER_COMMON_H

#include "db.h"
#include "history.h"
#include "out.h"
#include "sealift/sig.h"
#include "sealift/verify.h"

#include <getopt.h>

#define EXIT_OK       0
#define EXIT_REJECTED 1
#define EXIT_USAGE    2
#define EXIT_STATE    3
#define EXIT_FAILED   4
#define EXIT_LOCK     5
#define EXIT_CONNECT  6
#define EXIT_PENDING  7

struct app_opts {
    struct sig_keyring ring;
    unsigned threshold;
    const char *conninfo;
    const char *schema;
    int json;
    int quiet;
    long lock_timeout_ms;
    int compat_alembic; /* --compat alembic */
};

// clang-format off
#define APP_LONGOPTS                                                                               \
    {"pubkey", required_argument, NULL, 'p'},                                                     \
    {"threshold", required_argument, NULL, 'T'},                                                  \
    {"db", required_argument, NULL, 'd'},                                                         \
    {"schema", required_argument, NULL, 'S'},                                                     \
    {"json", no_argument, NULL, 'J'},                                                             \
    {"quiet", no_argument, NULL, 'q'},                                                            \
    {"lock-timeout", required_argument, NULL, 'L'},                                               \
    {"compat", required_argument, NULL, 'K'},                                                     \
    {"help", no_argument, NULL, 'h'}
// clang-format on

#define APP_SHORTOPTS ":p:d:qh"

#define APP_USAGE_BUNDLE                                                                           \
    "  -p, --pubkey FILE     a trusted public key (repeatable; at least one)\n"                    \
    "      --threshold N     distinct trusted keys that must have signed (default 1)\n"
#define APP_USAGE_DB                                                                               \
    "  -d, --db CONNINFO     conninfo string or postgres:// URI (default: DATABASE_URL, then\n"    \
    "                        libpq's PG* variables, service file and pgpass)\n"                    \
    "      --schema NAME     history schema (default \"sealift\")\n"
#define APP_USAGE_OUT                                                                              \
    "      --json            one JSON object per event on stdout\n"                                \
    "  -q, --quiet           print nothing but errors\n"
#define APP_USAGE_COMPAT                                                                           \
    "      --compat alembic  keep Alembic's alembic_version table in step, so that Alembic\n"      \
    "                        keeps working against this database\n"
#define APP_USAGE_LOCK                                                                             \
    "      --lock-timeout S  seconds to wait for the migration lock (default 60)\n"

void app_opts_init(struct app_opts *o);
void app_opts_release(struct app_opts *o);
/* Handle a shared option. Returns 1 if c was one; exits 2 on a bad value. */
int app_option(struct app_opts *o, int c, const char *arg, const char *cmd);
/* After parsing: checks that need every option (threshold vs keys, a key at all). */
void app_require_keys(const struct app_opts *o, const char *cmd);

/* Verify the bundle (signatures, then every member). Returns 0, 1 or 2. */
int app_load_bundle(const struct app_opts *o, const char *path, struct verify_result *res);

/* Connect and prepare the session. Returns NULL and sets *code to 6 on failure. */
struct db *app_connect(const struct app_opts *o, int *code);
/* The same, printing nothing (err says why): safe to run in another thread. */
struct db *app_connect_quiet(const struct app_opts *o, int *code, struct diag_err *err);

/* The advisory lock keys of a history schema. */
void app_lock_keys(const char *schema, int *k1, int *k2);
/* Take the migration lock, or explain who holds it. Returns 0, 5 (timeout) or 6 (lost). */
int app_lock(struct db *db, const struct app_opts *o);
void app_unlock(struct db *db, const struct app_opts *o);

/* Fill src from a verified bundle; strings live in the returned buffers (release both). */
void app_source(const struct verify_result *res, struct history_source *src, struct buf *signers,
                char bundle_id[65], char host[256]);

#endif
