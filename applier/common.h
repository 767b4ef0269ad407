/*
 * common.h: what every sealift-apply command shares: options (-p, --threshold, -d, --schema,
 * --json, -q, --lock-timeout, --compat), the errors of a run (printed on stderr, and with
 * --json also as one "error" object on stdout), loading a bundle (verified first, always),
 * connecting, and taking the migration lock. Each helper prints its own error and returns the
 * exit code.
 */
#ifndef SEALIFT_APPLIER_COMMON_H
#define SEALIFT_APPLIER_COMMON_H

#include "db.h"
#include "history.h"
#include "out.h"
#include "sealift/exitcode.h"
#include "sealift/sig.h"
#include "sealift/verify.h"

#include <getopt.h>

/* The longest --lock-timeout: a day. */
#define APP_MAX_LOCK_TIMEOUT_MS 86400000L

/* The settings a config file or the environment may give, and where each one came from. */
enum app_setting {
    APP_SET_PUBKEY,
    APP_SET_THRESHOLD,
    APP_SET_SCHEMA,
    APP_SET_LOCK_TIMEOUT,
    APP_NSETTINGS
};

struct app_origin {
    const char *kind; /* "option", "environment", "config" or "default" */
    char where[320];  /* "--pubkey", "SEALIFT_PUBKEYS", "FILE:LINE" or "" */
};

struct app_opts {
    struct sig_keyring ring;
    unsigned threshold;
    const char *conninfo;
    const char *schema;
    int json;
    int quiet;
    long lock_timeout_ms;
    int compat_alembic;      /* --compat alembic */
    const char *adopt_table; /* --adopt-table [SCHEMA.]TABLE: the tool's history table, or NULL */
    int password; /* -1: never ask (-w); 0: ask on a terminal if the server wants one; 1: -W */
    const char *config; /* --config FILE */
    char *schema_owned; /* schema's text when the environment or config file gave it */
    struct app_origin origin[APP_NSETTINGS];
    /* Limits of the migrations' own statements (apply, rollback, test): */
    long stmt_lock_timeout_ms; /* --statement-lock-timeout: lock_timeout; 0: not set */
    long stmt_timeout_ms;      /* --statement-timeout: statement_timeout; -1: not given */
    unsigned retries;          /* --retries: reruns of a transaction after a lock failure */
    long progress_after_ms;    /* --progress-after: show a statement's progress; 0: never */
    long warn_after_ms;        /* --warn-after: warn about a statement this long; 0: never */
    const char *witness;       /* --witness FILE: where the journal's head is appended or checked */
    /* Schema drift (drift.h): */
    int schema_drift;               /* status --schema-drift: compare with the fingerprint */
    const char *allow_schema_drift; /* --allow-schema-drift REASON: move despite drift */
    const char **ignore_schemas;    /* --ignore-schema NAME (repeatable): left out */
    size_t nignore_schemas;
    long long started;         /* time(NULL) at the command's start: every expiry check's "now" */
    const char *allow_expired; /* --allow-expired REASON: apply an expired bundle, journaled */
    const char *expect_head;   /* history --verify --expect-head HASH */
};

/* getopt codes of the schema drift options (drift.h). */
enum {
    APP_OPTC_SCHEMA_DRIFT = 0x1101,
    APP_OPTC_ALLOW_SCHEMA_DRIFT,
    APP_OPTC_IGNORE_SCHEMA,
};
/* The longest --allow-schema-drift REASON (it goes into the journal). */
#define APP_MAX_DRIFT_REASON 1000

/* Defaults and ranges of the statement limits. */
#define APP_DEFAULT_STMT_LOCK_TIMEOUT_MS 5000L
#define APP_DEFAULT_RETRIES              5U
#define APP_MAX_RETRIES                  100U

/* getopt codes of long options without a short letter (above every char). */
enum {
    APP_OPTC_STMT_LOCK_TIMEOUT = 0x1001,
    APP_OPTC_STMT_TIMEOUT,
    APP_OPTC_RETRIES,
    APP_OPTC_WITNESS,
    APP_OPTC_PROGRESS_AFTER,
    APP_OPTC_WARN_AFTER,
    APP_OPTC_REVIEW,
    APP_OPTC_NO_LOCK_TRACE,
    APP_OPTC_ALLOW_EXPIRED,
    APP_OPTC_EXPECT_HEAD,
};

/*
 * Option table entries. Each command lists exactly the options it uses, so that one it would
 * ignore is refused as unrecognized (exit 2) instead of being accepted and dropped.
 */
// clang-format off
#define APP_OPTS_BUNDLE                                                                            \
    {"pubkey", required_argument, NULL, 'p'},                                                     \
    {"threshold", required_argument, NULL, 'T'},                                                  \
    {"config", required_argument, NULL, 'F'}
#define APP_OPTS_DB                                                                                \
    {"db", required_argument, NULL, 'd'},                                                         \
    {"schema", required_argument, NULL, 'S'},                                                     \
    {"password", no_argument, NULL, 'W'},                                                         \
    {"no-password", no_argument, NULL, 'w'}
#define APP_OPTS_OUT                                                                               \
    {"json", no_argument, NULL, 'J'},                                                             \
    {"quiet", no_argument, NULL, 'q'}
#define APP_OPT_LOCK          {"lock-timeout", required_argument, NULL, 'L'}
#define APP_OPT_COMPAT        {"compat", required_argument, NULL, 'K'}
#define APP_OPT_ADOPT_TABLE   {"adopt-table", required_argument, NULL, APP_OPT_ADOPT_TABLE_CODE}
#define APP_OPT_TO            {"to", required_argument, NULL, 't'}
#define APP_OPT_PER_MIGRATION {"per-migration", no_argument, NULL, 'M'}
#define APP_OPT_HELP          {"help", no_argument, NULL, 'h'}
#define APP_OPTS_LIMITS                                                                            \
    {"statement-lock-timeout", required_argument, NULL, APP_OPTC_STMT_LOCK_TIMEOUT},              \
    {"statement-timeout", required_argument, NULL, APP_OPTC_STMT_TIMEOUT},                        \
    {"retries", required_argument, NULL, APP_OPTC_RETRIES},                                       \
    {"progress-after", required_argument, NULL, APP_OPTC_PROGRESS_AFTER},                         \
    {"warn-after", required_argument, NULL, APP_OPTC_WARN_AFTER}
#define APP_OPT_WITNESS       {"witness", required_argument, NULL, APP_OPTC_WITNESS}
#define APP_OPT_REVIEW        {"review", no_argument, NULL, APP_OPTC_REVIEW}
#define APP_OPT_NO_LOCK_TRACE {"no-lock-trace", no_argument, NULL, APP_OPTC_NO_LOCK_TRACE}
#define APP_OPTS_DRIFT_MOVE                                                                        \
    {"allow-schema-drift", required_argument, NULL, APP_OPTC_ALLOW_SCHEMA_DRIFT},                 \
    {"ignore-schema", required_argument, NULL, APP_OPTC_IGNORE_SCHEMA}
#define APP_OPTS_DRIFT_STATUS                                                                      \
    {"schema-drift", no_argument, NULL, APP_OPTC_SCHEMA_DRIFT},                                   \
    {"ignore-schema", required_argument, NULL, APP_OPTC_IGNORE_SCHEMA}
#define APP_OPT_ALLOW_EXPIRED {"allow-expired", required_argument, NULL, APP_OPTC_ALLOW_EXPIRED}
#define APP_OPT_OUTPUT        {"output", required_argument, NULL, 'o'}
#define APP_OPT_END           {NULL, 0, NULL, 0}
/* Every shared option: for commands that have not listed theirs yet (history, test). */
#define APP_LONGOPTS                                                                               \
    APP_OPTS_BUNDLE, APP_OPTS_DB, APP_OPTS_OUT, APP_OPT_LOCK, APP_OPT_COMPAT, APP_OPT_HELP
// clang-format on

/* getopt code of --adopt-table (a long option only). */
#define APP_OPT_ADOPT_TABLE_CODE 0x201

/* Short options: -p always, -d with a database, -q with output. */
#define APP_SHORTOPTS        ":p:d:wWqh"
#define APP_SHORTOPTS_NO_DB  ":p:qh"
#define APP_SHORTOPTS_NO_OUT ":p:d:wWh"

#define APP_USAGE_CONFIG                                                                           \
    "      --config FILE     read defaults from FILE (default: SEALIFT_CONFIG, else\n"             \
    "                        /etc/sealift/apply.conf when it exists)\n"
#define APP_USAGE_BUNDLE                                                                           \
    "  -p, --pubkey FILE     a trusted public key (repeatable; at least one; default:\n"           \
    "                        SEALIFT_PUBKEYS, FILE:FILE..., then the config file)\n"               \
    "      --threshold N     distinct trusted keys that must have signed (default:\n"              \
    "                        SEALIFT_THRESHOLD, then the config file, then 1)\n" APP_USAGE_CONFIG
#define APP_USAGE_PASSWORD                                                                         \
    "  -W, --password        ask for the password before connecting\n"                             \
    "  -w, --no-password     never ask for a password (by default sealift-apply asks on a\n"       \
    "                        terminal when the server wants one and none was given)\n"
#define APP_USAGE_WITNESS                                                                          \
    "      --witness FILE    append the journal's new head (seq, hash, time, bundle) to FILE,\n"   \
    "                        kept outside the database (see history --verify --witness)\n"
#define APP_USAGE_ALLOW_EXPIRED                                                                    \
    "      --allow-expired REASON  use a bundle past its expiry anyway; the reason is\n"           \
    "                        journaled (and the host clock is not checked)\n"
#define APP_USAGE_ALLOW_EXPIRED                                                                    \
    "      --allow-expired REASON  use a bundle past its expiry anyway; the reason is\n"           \
    "                        journaled (and the host clock is not checked)\n"
#define APP_USAGE_DB                                                                               \
    "  -d, --db CONNINFO     conninfo string or postgres:// URI (default: DATABASE_URL, then\n"    \
    "                        libpq's PG* variables, service file and pgpass)\n"                    \
    "      --schema NAME     history schema (default: SEALIFT_SCHEMA, then the config file,\n"     \
    "                        then \"sealift\")\n" APP_USAGE_PASSWORD
#define APP_USAGE_OUT                                                                              \
    "      --json            one JSON object per event on stdout\n"                                \
    "  -q, --quiet           print nothing but errors\n"
#define APP_USAGE_COMPAT                                                                           \
    "      --compat alembic  keep Alembic's alembic_version table in step, so that Alembic\n"      \
    "                        keeps working against this database\n"
#define APP_USAGE_ADOPT_TABLE                                                                      \
    "      --adopt-table [SCHEMA.]TABLE  the source tool's history table, when it has another\n"   \
    "                        name than the tool's default (Flyway's table, Alembic's\n"            \
    "                        version_table, golang-migrate's x-migrations-table, dbmate's\n"       \
    "                        --migrations-table)\n"
#define APP_USAGE_LOCK                                                                             \
    "      --lock-timeout S  seconds to wait for the migration lock, 0 to 86400, or with a\n"      \
    "                        unit: 500ms, 2min, 1h (default 60)\n"

#define APP_USAGE_DRIFT_MOVE                                                                       \
    "      --allow-schema-drift REASON\n"                                                          \
    "                        move even though the schema changed since sealift's last move\n"      \
    "                        (schema drift); REASON and the drift go into the journal\n"           \
    "      --ignore-schema NAME  leave the objects of schema NAME out of the drift check\n"        \
    "                        (repeatable)\n"
#define APP_USAGE_DRIFT_STATUS                                                                     \
    "      --schema-drift    compare the live schema with the fingerprint sealift recorded\n"      \
    "                        after its last move, object by object (exit 3 on drift)\n"            \
    "      --ignore-schema NAME  leave the objects of schema NAME out (repeatable)\n"
#define APP_USAGE_LIMITS                                                                           \
    "      --statement-lock-timeout D\n"                                                           \
    "                        lock_timeout of each migration statement: how long it may\n"          \
    "                        wait for a lock (default 5s; 0: the server's setting applies)\n"      \
    "      --statement-timeout D\n"                                                                \
    "                        statement_timeout of each migration statement (default: the\n"        \
    "                        server's setting)\n"                                                  \
    "      --retries N       after a lock timeout or a deadlock, roll back and run the\n"          \
    "                        transaction again (in a no-transaction migration: the\n"              \
    "                        statement), up to N times, waiting 1 s doubling to 30 s with\n"       \
    "                        jitter (default 5)\n"                                                 \
    "      --progress-after D\n"                                                                   \
    "                        show what a statement running longer than D is doing\n"               \
    "                        (default 2s; 0: never): a line redrawn on a terminal, else a\n"       \
    "                        line every 10 s; \"statement_progress\" events with --json\n"         \
    "      --warn-after D    warn, and journal it, when a statement runs longer than D\n"

void app_opts_init(struct app_opts *o);
void app_opts_release(struct app_opts *o);
/* Handle a shared option. Returns 1 if c was one; exits 2 on a bad value. */
int app_option(struct app_opts *o, int c, const char *arg, const char *cmd);
/*
 * After parsing: settings not given as options come from the environment (SEALIFT_PUBKEYS,
 * SEALIFT_THRESHOLD, SEALIFT_SCHEMA), then the config file (config.h), then the defaults; each
 * origin is recorded. Exits 2 on a bad value or a refused config file.
 */
void app_settle(struct app_opts *o, const char *cmd);
/* app_settle, then the checks that need every setting (threshold vs keys, a key at all). */
void app_require_keys(struct app_opts *o, const char *cmd);
/* "KIND" or "KIND WHERE" of a setting, for status ("environment SEALIFT_PUBKEYS"). */
const char *app_origin_text(const struct app_origin *origin, char *buf, size_t cap);
/* May connecting ask for a password (-W, or a terminal on stdin and no -w)? */
int app_may_ask_password(const struct app_opts *o);

/*
 * The errors of a run. app_error/app_detail/app_hint print as diag_error and friends do; the
 * first error and its detail and hint lines are also kept, and once --json has been seen
 * app_exit() writes them as one object on stdout:
 *   {"event":"error","exit_code":3,"message":"...","detail":"..." or null,"hint":... or null}
 * (several detail lines are joined by newlines).
 */
void app_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void app_detail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void app_hint(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A usage error: as die_usage() (the "Try --help" hint, exit 2), with the error object. */
_Noreturn void app_usage(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* getopt_long's error returns: as die_bad_option(), with the error object. */
_Noreturn void app_bad_option(const char *cmd, int c, char **argv);
/* Print the error and exit with code (through app_exit). */
_Noreturn void app_die(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/*
 * The end of a command: with --json and an error code (not 0, not 7 "pending"), write the
 * error object (a generic message for the code if no app_error was made; none for a failed
 * migration, which the runner reports as its "failed" event). Returns code.
 */
int app_exit(int code);

/* Connect and prepare the session. Returns NULL and sets *code to 6 on failure. */
struct db *app_connect(const struct app_opts *o, int *code);
/*
 * The same, printing nothing (err says why): safe to run in another thread. defer: send
 * nothing now; the session's settings go with the first statement the caller sends
 * (db_defer), so that a connection made while a bundle is verified runs nothing until then.
 */
struct db *app_connect_quiet(const struct app_opts *o, int defer, int *code, struct diag_err *err);

/* The advisory lock keys of a history schema. */
void app_lock_keys(const char *schema, int *k1, int *k2);
/* Take the migration lock, or explain who holds it. Returns 0, 5 (timeout) or 6 (lost). */
int app_lock(struct db *db, const struct app_opts *o);
void app_unlock(struct db *db, const struct app_opts *o);

/* Fill src from a verified bundle; strings live in the returned buffers (release both). The
 * signers text lists the key ids that verified, then " (not verified here: ID,...)" for the other
 * signatures the bundle carries (co-signers whose keys were not given). */
void app_source(const struct verify_result *res, struct history_source *src, struct buf *signers,
                char bundle_id[65], char host[256]);

#endif
