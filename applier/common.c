/*
 * common.c: options, bundle loading, connection and lock shared by sealift-apply commands.
 * Layer: applier.
 */
#include "common.h"
#include "sealift/numarg.h"
#include "sealift/xalloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Advisory lock class for sealift ("SEAL" in ASCII); the second key is the schema's hash. */
#define LOCK_CLASS 0x5345414c

/*
 * The first error of this run, for --json's error object. Process-wide, as diag's program name
 * is: a run is one command, and its errors come from several modules.
 */
static struct {
    int json;   /* --json was seen */
    int errors; /* app_error calls so far */
    struct buf message, detail, hint;
} run_error = {0, 0, BUF_INIT, BUF_INIT, BUF_INIT};

/*
 * Print a line with print (diag_error and friends) and keep it in part, when it belongs to
 * the run's first error: its detail and hint lines are the ones right after it.
 */
static void
say(void (*print)(const char *fmt, ...), struct buf *part, const char *fmt, va_list ap)
{
    struct buf msg = BUF_INIT;

    buf_vaddf(&msg, fmt, ap);
    if (run_error.errors == 1) {
        if (part->len)
            buf_addch(part, '\n');
        buf_addstr(part, msg.data);
    }
    print("%s", msg.data);
    buf_release(&msg);
}

void
app_error(const char *fmt, ...)
{
    va_list ap;

    run_error.errors++;
    va_start(ap, fmt);
    say(diag_error, &run_error.message, fmt, ap);
    va_end(ap);
}

void
app_detail(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    say(diag_detail, &run_error.detail, fmt, ap);
    va_end(ap);
}

void
app_hint(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    say(diag_hint, &run_error.hint, fmt, ap);
    va_end(ap);
}

/* What each exit code means (README "Exit codes"), for an error no message was kept for. */
static const char *
code_meaning(int code)
{
    switch (code) {
    case EXIT_REJECTED:
        return "the bundle was rejected";
    case EXIT_USAGE:
        return "usage or environment error";
    case EXIT_STATE:
        return "the database state was refused";
    case EXIT_FAILED:
        return "a migration failed; its transaction was rolled back";
    case EXIT_LOCK:
        return "the migration lock was not acquired";
    case EXIT_CONNECT:
        return "could not connect to the database";
    default:
        return "failed";
    }
}

int
app_exit(int code)
{
    /*
     * A migration that failed (4, or 1 for a bundle that failed a check in use) is reported by
     * the runner's own "failed" event: no second object unless an error was made here.
     */
    int runner_reported = (code == EXIT_FAILED || code == EXIT_REJECTED) && !run_error.errors;

    if (run_error.json && code != EXIT_OK && code != EXIT_PENDING && !runner_reported) {
        out_error(code, run_error.message.len ? run_error.message.data : code_meaning(code),
                  run_error.detail.len ? run_error.detail.data : NULL,
                  run_error.hint.len ? run_error.hint.data : NULL);
        run_error.json = 0; /* one object a run */
    }
    buf_release(&run_error.message);
    buf_release(&run_error.detail);
    buf_release(&run_error.hint);
    run_error.errors = 0;
    return code;
}

void
app_die(int code, const char *fmt, ...)
{
    va_list ap;

    run_error.errors++;
    va_start(ap, fmt);
    say(diag_error, &run_error.message, fmt, ap);
    va_end(ap);
    exit(app_exit(code));
}

void
app_usage(const char *cmd, const char *fmt, ...)
{
    struct buf msg = BUF_INIT;
    va_list ap;

    va_start(ap, fmt);
    buf_vaddf(&msg, fmt, ap);
    va_end(ap);
    if (run_error.json) {
        struct buf hint = BUF_INIT;

        buf_addf(&hint, "Try \"%s %s --help\" for more information.", diag_progname(), cmd);
        out_error(EXIT_USAGE, msg.data, NULL, hint.data);
        buf_release(&hint);
    }
    die_usage(cmd, "%s", msg.data);
}

void
app_bad_option(const char *cmd, int c, char **argv)
{
    const char *word = optind > 0 ? argv[optind - 1] : "";

    if (run_error.json) {
        struct buf msg = BUF_INIT, hint = BUF_INIT, name = BUF_INIT;

        /* As die_bad_option names it: a long option without "=VALUE", or the short letter. */
        if (strncmp(word, "--", 2) != 0 && optopt)
            buf_addf(&name, "-%c", optopt);
        else
            buf_add(&name, word, strcspn(word, "="));
        buf_addf(&msg, c == ':' ? "option \"%s\" needs a value" : "unrecognized option \"%s\"",
                 name.data);
        buf_release(&name);
        buf_addf(&hint, "Try \"%s %s --help\" for more information.", diag_progname(), cmd);
        out_error(EXIT_USAGE, msg.data, NULL, hint.data);
        buf_release(&msg);
        buf_release(&hint);
    }
    die_bad_option(cmd, c, argv);
}

void
app_opts_init(struct app_opts *o)
{
    memset(o, 0, sizeof(*o));
    sig_keyring_init(&o->ring);
    o->threshold = 1;
    o->schema = "sealift";
    o->lock_timeout_ms = 60000;
}

void
app_opts_release(struct app_opts *o)
{
    sig_keyring_release(&o->ring);
}

int
app_option(struct app_opts *o, int c, const char *arg, const char *cmd)
{
    struct diag_err err = DIAG_ERR_INIT;

    switch (c) {
    case 'p':
        if (sig_keyring_add_file(&o->ring, arg, &err) != 0)
            app_die(EXIT_USAGE, "%s", err.msg);
        return 1;
    case 'T':
        if (numarg_uint("--threshold", arg, 1, VERIFY_MAX_SIGNATURES, &o->threshold, &err) != 0)
            app_usage(cmd, "%s", err.msg);
        return 1;
    case 'd':
        o->conninfo = arg;
        return 1;
    case 'S':
        if (!history_schema_name_valid(arg))
            app_usage(cmd, "--schema must be letters, digits and '_' (not starting with a digit)");
        o->schema = arg;
        return 1;
    case 'J':
        o->json = 1;
        run_error.json = 1;
        return 1;
    case 'q':
        o->quiet = 1;
        diag_set_quiet(1);
        return 1;
    case 'K':
        if (strcmp(arg, "alembic") != 0)
            app_usage(cmd, "--compat knows only \"alembic\"");
        o->compat_alembic = 1;
        return 1;
    case 'W':
        o->witness = arg;
        return 1;
    case 'L':
        if (numarg_duration_ms("--lock-timeout", arg, APP_MAX_LOCK_TIMEOUT_MS, &o->lock_timeout_ms,
                               &err) != 0)
            app_usage(cmd, "%s", err.msg);
        return 1;
    default:
        return 0;
    }
}

void
app_require_keys(const struct app_opts *o, const char *cmd)
{
    if (o->ring.n == 0)
        app_usage(cmd, "at least one trusted public key (-p) is required");
    if (o->threshold > o->ring.n)
        app_usage(cmd, "--threshold %u is more than the %zu distinct keys given", o->threshold,
                  o->ring.n);
}

int
app_load_bundle(const struct app_opts *o, const char *path, struct verify_result *res)
{
    struct verify_options vo = {o->ring.keys, o->ring.n, o->threshold, 1, 1};
    struct diag_err err = DIAG_ERR_INIT;

    if (bundle_verify(path, &vo, res, &err) != 0) {
        app_error("%s", err.msg);
        return err.io ? EXIT_USAGE : EXIT_REJECTED;
    }
    return EXIT_OK;
}

struct db *
app_connect_quiet(const struct app_opts *o, int *code, struct diag_err *err)
{
    struct db_error e;
    struct db *db = db_connect(o->conninfo, err);

    if (db == NULL) {
        *code = EXIT_CONNECT;
        return NULL;
    }
    /*
     * One round trip: standard strings (quoting in history SQL relies on them), no notices,
     * and, where the server has it (14+), a connection check so that if this process dies
     * (kill -9) the server stops the statement it was running for us within seconds instead
     * of finishing it holding our lock.
     */
    if (db_exec(db,
                db_server_version(db) >= 140000
                    ? "SET standard_conforming_strings = on; SET client_min_messages = warning; "
                      "SET idle_in_transaction_session_timeout = 0; "
                      "SET client_connection_check_interval = '2s'"
                    : "SET standard_conforming_strings = on; SET client_min_messages = warning; "
                      "SET idle_in_transaction_session_timeout = 0",
                &e) != 0) {
        err_set(err, "could not prepare the session: %s", e.message);
        db_close(db);
        *code = EXIT_CONNECT;
        return NULL;
    }
    *code = EXIT_OK;
    return db;
}

struct db *
app_connect(const struct app_opts *o, int *code)
{
    struct diag_err err = DIAG_ERR_INIT;
    struct db *db = app_connect_quiet(o, code, &err);

    if (db == NULL)
        app_error("%s", err.msg);
    return db;
}

void
app_lock_keys(const char *schema, int *k1, int *k2)
{
    unsigned h = 2166136261u; /* FNV-1a: stable across hosts and builds */

    for (const char *p = schema; *p; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    *k1 = LOCK_CLASS;
    *k2 = (int)(h & 0x7fffffff);
}

/* Tell who holds the lock: pid, user, application and since when. */
static void
describe_holder(struct db *db, int k1, int k2)
{
    char sql[512];
    struct db_rows *r;

    snprintf(sql, sizeof(sql),
             "SELECT a.pid, a.usename, a.application_name, "
             "to_char(a.backend_start, 'YYYY-MM-DD HH24:MI:SS') FROM pg_locks l "
             "JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' AND "
             "l.classid = %u AND l.objid = %u AND l.objsubid = 2 AND l.granted",
             (unsigned)k1, (unsigned)k2);
    r = db_query(db, sql, NULL);
    if (r && db_nrows(r) > 0)
        app_detail("the lock is held by process %s (user %s, application \"%s\", connected "
                   "%s)",
                   db_value(r, 0, 0), db_value(r, 0, 1) ? db_value(r, 0, 1) : "?",
                   db_value(r, 0, 2) ? db_value(r, 0, 2) : "",
                   db_value(r, 0, 3) ? db_value(r, 0, 3) : "?");
    db_rows_free(r);
}

int
app_lock(struct db *db, const struct app_opts *o)
{
    struct db_error e;
    int k1, k2, got;

    app_lock_keys(o->schema, &k1, &k2);
    got = db_lock(db, k1, k2, o->lock_timeout_ms, &e);
    if (got < 0) {
        app_error("could not take the migration lock: %s", e.message);
        return e.connection_lost ? EXIT_CONNECT : EXIT_FAILED;
    }
    if (got == 0) {
        app_error("another sealift-apply holds the migration lock of schema \"%s\"; gave up "
                  "after %.1f s",
                  o->schema, (double)o->lock_timeout_ms / 1000.0);
        describe_holder(db, k1, k2);
        app_hint("wait for it to finish, or raise --lock-timeout");
        return EXIT_LOCK;
    }
    return EXIT_OK;
}

void
app_unlock(struct db *db, const struct app_opts *o)
{
    int k1, k2;

    app_lock_keys(o->schema, &k1, &k2);
    db_unlock(db, k1, k2);
}

void
app_source(const struct verify_result *res, struct history_source *src, struct buf *signers,
           char bundle_id[65], char host[256])
{
    char id[SIG_KEYID_HEX];

    size_t others = 0;

    hex_encode(bundle_id, res->bundle_id, HASH_SHA256_BYTES);
    for (size_t i = 0; i < res->nsigs; i++)
        if (res->sigs[i].valid)
            buf_addf(signers, "%s%s", signers->len ? "," : "",
                     sig_keyid_hex(id, res->sigs[i].keyid));
    /* Co-signers whose keys were not given (or did not verify) are recorded too, as such. */
    for (size_t i = 0; i < res->nsigs; i++)
        if (!res->sigs[i].valid)
            buf_addf(signers, "%s%s", others++ ? "," : " (not verified here: ",
                     sig_keyid_hex(id, res->sigs[i].keyid));
    if (others)
        buf_addch(signers, ')');
    if (gethostname(host, 256) != 0)
        strcpy(host, "unknown");
    host[255] = '\0';
    src->bundle_id = bundle_id;
    src->serial = (long long)res->manifest.serial;
    src->signers = signers->data;
    src->environment = res->manifest.environment;
    src->client_host = host;
}
