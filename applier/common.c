/*
 * common.c: options, bundle loading, connection and lock shared by sealift-apply commands.
 * Layer: applier.
 */
#include "common.h"
#include "progress.h"
#include "adopt.h"
#include "config.h"
#include "scriptsrc.h"
#include "sealift/numarg.h"
#include "sealift/xalloc.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <termios.h>
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
    o->stmt_lock_timeout_ms = APP_DEFAULT_STMT_LOCK_TIMEOUT_MS;
    o->stmt_timeout_ms = -1;
    o->retries = APP_DEFAULT_RETRIES;
    o->progress_after_ms = PROGRESS_DEFAULT_AFTER_MS;
    /* The one reading of the clock (TUF's fixed start time): every expiry check uses it. */
    o->started = (long long)time(NULL);
    for (int i = 0; i < APP_NSETTINGS; i++)
        o->origin[i].kind = "default";
}

/* Record that setting i came from kind (where: the option, variable or FILE:LINE). */
static void
set_origin(struct app_opts *o, enum app_setting i, const char *kind, const char *where)
{
    o->origin[i].kind = kind;
    snprintf(o->origin[i].where, sizeof(o->origin[i].where), "%s", where);
}

void
app_opts_release(struct app_opts *o)
{
    sig_keyring_release(&o->ring);
    free(o->ignore_schemas);
    o->ignore_schemas = NULL;
    o->nignore_schemas = 0;
    free(o->schema_owned);
    o->schema_owned = NULL;
}

int
app_option(struct app_opts *o, int c, const char *arg, const char *cmd)
{
    struct diag_err err = DIAG_ERR_INIT;

    switch (c) {
    case 'p':
        if (sig_keyring_add_file(&o->ring, arg, &err) != 0)
            app_die(EXIT_USAGE, "%s", err.msg);
        set_origin(o, APP_SET_PUBKEY, "option", "--pubkey");
        return 1;
    case 'T':
        if (numarg_uint("--threshold", arg, 1, VERIFY_MAX_SIGNATURES, &o->threshold, &err) != 0)
            app_usage(cmd, "%s", err.msg);
        set_origin(o, APP_SET_THRESHOLD, "option", "--threshold");
        return 1;
    case 'F':
        o->config = arg;
        return 1;
    case 'd':
        o->conninfo = arg;
        return 1;
    case APP_OPTC_SCHEMA_DRIFT:
        o->schema_drift = 1;
        return 1;
    case APP_OPTC_ALLOW_SCHEMA_DRIFT:
        if (arg[0] == '\0' || strlen(arg) > APP_MAX_DRIFT_REASON)
            app_usage(cmd, "--allow-schema-drift needs a REASON of 1 to %d bytes",
                      APP_MAX_DRIFT_REASON);
        o->allow_schema_drift = arg;
        return 1;
    case APP_OPTC_IGNORE_SCHEMA:
        if (arg[0] == '\0')
            app_usage(cmd, "--ignore-schema needs a schema NAME");
        o->ignore_schemas =
            xrealloc(o->ignore_schemas, (o->nignore_schemas + 1) * sizeof(*o->ignore_schemas));
        o->ignore_schemas[o->nignore_schemas++] = arg;
        return 1;
    case 'S':
        if (!history_schema_name_valid(arg))
            app_usage(cmd, "--schema must be letters, digits and '_' (not starting with a digit)");
        o->schema = arg;
        set_origin(o, APP_SET_SCHEMA, "option", "--schema");
        return 1;
    case 'W':
    case 'w':
        if (o->password == (c == 'W' ? -1 : 1))
            app_usage(cmd, "cannot specify both -W (--password) and -w (--no-password)");
        o->password = c == 'W' ? 1 : -1;
        return 1;
    case 'J':
        o->json = 1;
        run_error.json = 1;
        return 1;
    case 'q':
        o->quiet = 1;
        diag_set_quiet(1);
        return 1;
    case APP_OPTC_ALLOW_EXPIRED:
        if (arg[0] == '\0' || strlen(arg) > 500 || strpbrk(arg, "\n\r"))
            app_usage(cmd, "--allow-expired needs a reason: one line of at most 500 bytes");
        o->allow_expired = arg;
        return 1;
    case APP_OPT_ADOPT_TABLE_CODE:
        if (!adopt_table_name_valid(arg))
            app_usage(cmd, "--adopt-table takes TABLE or SCHEMA.TABLE (letters, digits and '_', "
                           "not starting with a digit)");
        o->adopt_table = arg;
        return 1;
    case 'K':
        if (strcmp(arg, "alembic") != 0)
            app_usage(cmd, "--compat knows only \"alembic\"");
        o->compat_alembic = 1;
        return 1;
    case APP_OPTC_WITNESS:
        o->witness = arg;
        return 1;
    case 'L':
        if (numarg_duration_ms("--lock-timeout", arg, APP_MAX_LOCK_TIMEOUT_MS, &o->lock_timeout_ms,
                               &err) != 0)
            app_usage(cmd, "%s", err.msg);
        set_origin(o, APP_SET_LOCK_TIMEOUT, "option", "--lock-timeout");
        return 1;
    case APP_OPTC_STMT_LOCK_TIMEOUT:
        if (numarg_duration_ms("--statement-lock-timeout", arg, APP_MAX_LOCK_TIMEOUT_MS,
                               &o->stmt_lock_timeout_ms, &err) != 0)
            app_usage(cmd, "%s", err.msg);
        return 1;
    case APP_OPTC_STMT_TIMEOUT:
        if (numarg_duration_ms("--statement-timeout", arg, APP_MAX_LOCK_TIMEOUT_MS,
                               &o->stmt_timeout_ms, &err) != 0)
            app_usage(cmd, "%s", err.msg);
        return 1;
    case APP_OPTC_PROGRESS_AFTER:
        if (numarg_duration_ms("--progress-after", arg, APP_MAX_LOCK_TIMEOUT_MS,
                               &o->progress_after_ms, &err) != 0)
            app_usage(cmd, "%s", err.msg);
        return 1;
    case APP_OPTC_WARN_AFTER:
        if (numarg_duration_ms("--warn-after", arg, APP_MAX_LOCK_TIMEOUT_MS, &o->warn_after_ms,
                               &err) != 0)
            app_usage(cmd, "%s", err.msg);
        return 1;
    case APP_OPTC_RETRIES:
        if (numarg_uint("--retries", arg, 0, APP_MAX_RETRIES, &o->retries, &err) != 0)
            app_usage(cmd, "%s", err.msg);
        return 1;
    default:
        return 0;
    }
}

/* Set setting key from text (from kind/where), if nothing stronger has set it. */
static int
settle_value(struct app_opts *o, enum app_setting i, const char *name, const char *text,
             const char *kind, const char *where, struct diag_err *err)
{
    unsigned threshold;
    long ms;

    /* Checked even when overridden, so that a bad default is found before it is needed. */
    switch (i) {
    case APP_SET_THRESHOLD:
        if (numarg_uint(name, text, 1, VERIFY_MAX_SIGNATURES, &threshold, err) != 0)
            return -1;
        break;
    case APP_SET_SCHEMA:
        if (!history_schema_name_valid(text))
            return err_set(err, "%s must be letters, digits and '_' (not starting with a digit)",
                           name);
        break;
    case APP_SET_LOCK_TIMEOUT:
        if (numarg_duration_ms(name, text, APP_MAX_LOCK_TIMEOUT_MS, &ms, err) != 0)
            return -1;
        break;
    default:
        break;
    }
    if (strcmp(o->origin[i].kind, "default") != 0)
        return 0;
    if (i == APP_SET_PUBKEY) {
        if (sig_keyring_add_file(&o->ring, text, err) != 0)
            return -1;
        set_origin(o, i, kind, where);
        return 0;
    }
    if (i == APP_SET_THRESHOLD)
        o->threshold = threshold;
    else if (i == APP_SET_SCHEMA) {
        free(o->schema_owned);
        o->schema_owned = xstrdup(text);
        o->schema = o->schema_owned;
    } else if (i == APP_SET_LOCK_TIMEOUT)
        o->lock_timeout_ms = ms;
    set_origin(o, i, kind, where);
    return 0;
}

/* SEALIFT_PUBKEYS: FILE:FILE..., every file a key (empty entries are skipped). */
static int
settle_env_keys(struct app_opts *o, const char *list, struct diag_err *err)
{
    struct buf file = BUF_INIT;
    int rc = 0;

    for (const char *p = list; *p && rc == 0;) {
        size_t n = strcspn(p, ":");

        buf_reset(&file);
        buf_add(&file, p, n);
        p += n + (p[n] == ':');
        if (n == 0)
            continue;
        rc = sig_keyring_add_file(&o->ring, file.data, err);
    }
    buf_release(&file);
    if (rc == 0 && o->ring.n > 0)
        set_origin(o, APP_SET_PUBKEY, "environment", "SEALIFT_PUBKEYS");
    return rc;
}

/* A config file being read: its keys are taken after the environment's. */
struct config_ctx {
    struct app_opts *o;
    const char *path;
    int envkeys;    /* SEALIFT_PUBKEYS or --pubkey gave the keys */
    struct buf dir; /* the file's directory, for relative key paths */
};

static int
setting_cb(const char *key, const char *value, int line, void *arg, struct diag_err *err)
{
    static const char *const names[APP_NSETTINGS] = {"pubkey", "threshold", "schema",
                                                     "lock_timeout"};
    struct config_ctx *c = arg;
    char where[320];
    int i;

    for (i = 0; i < APP_NSETTINGS; i++)
        if (strcmp(key, names[i]) == 0)
            break;
    if (i == APP_NSETTINGS)
        return err_set(
            err, "unknown setting \"%s\" (known: pubkey, threshold, schema, lock_timeout)", key);
    if (*value == '\0')
        return err_set(err, "setting \"%s\" has no value", key);
    snprintf(where, sizeof(where), "%s:%d", c->path, line);
    if (i == APP_SET_PUBKEY) {
        struct buf file = BUF_INIT;
        int rc = 0;

        /* Keys given elsewhere win; a key file named here is relative to this file. */
        if (!c->envkeys) {
            if (value[0] != '/' && c->dir.len)
                buf_addf(&file, "%s/", c->dir.data);
            buf_addstr(&file, value);
            rc = sig_keyring_add_file(&c->o->ring, file.data, err);
            if (rc == 0)
                set_origin(c->o, APP_SET_PUBKEY, "config", where);
        }
        buf_release(&file);
        return rc;
    }
    return settle_value(c->o, (enum app_setting)i, key, value, "config", where, err);
}

/* Read and apply the config file, if there is one. */
static void
settle_config(struct app_opts *o)
{
    struct diag_err err = DIAG_ERR_INIT;
    struct config_ctx c = {o, NULL, strcmp(o->origin[APP_SET_PUBKEY].kind, "default") != 0,
                           BUF_INIT};
    struct buf text = BUF_INIT;
    const char *slash;
    int required, rc;

    c.path = config_path(o->config, &required);
    if (c.path == NULL)
        return;
    rc = config_read(c.path, required, &text, &err);
    if (rc == 0) {
        slash = strrchr(c.path, '/');
        if (slash)
            buf_add(&c.dir, c.path, slash == c.path ? 1 : (size_t)(slash - c.path));
        rc = config_parse(c.path, text.data, setting_cb, &c, &err);
    }
    buf_release(&text);
    buf_release(&c.dir);
    if (rc < 0)
        app_die(EXIT_USAGE, "%s", err.msg);
}

void
app_settle(struct app_opts *o, const char *cmd)
{
    static const char *const vars[APP_NSETTINGS] = {"SEALIFT_PUBKEYS", "SEALIFT_THRESHOLD",
                                                    "SEALIFT_SCHEMA", NULL};
    struct diag_err err = DIAG_ERR_INIT;

    (void)cmd;
    /* The environment first: what it sets, the config file does not. */
    for (int i = 0; i < APP_NSETTINGS; i++) {
        const char *v = vars[i] ? getenv(vars[i]) : NULL;
        int rc;

        if (v == NULL || *v == '\0')
            continue;
        if (i == APP_SET_PUBKEY)
            rc = strcmp(o->origin[i].kind, "default") == 0 ? settle_env_keys(o, v, &err) : 0;
        else
            rc = settle_value(o, (enum app_setting)i, vars[i], v, "environment", vars[i], &err);
        if (rc != 0)
            app_die(EXIT_USAGE, "%s", err.msg);
    }
    settle_config(o);
}

const char *
app_origin_text(const struct app_origin *origin, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s%s%s", origin->kind, origin->where[0] ? " " : "", origin->where);
    return buf;
}

void
app_require_keys(struct app_opts *o, const char *cmd)
{
    app_settle(o, cmd);
    if (o->ring.n == 0)
        app_usage(cmd, "at least one trusted public key (-p) is required");
    if (o->threshold > o->ring.n)
        app_usage(cmd, "--threshold %u is more than the %zu distinct keys given", o->threshold,
                  o->ring.n);
}

int
app_may_ask_password(const struct app_opts *o)
{
    return o->password == 1 || (o->password == 0 && isatty(STDIN_FILENO));
}

/*
 * Ask for a password as psql does: "Password for user NAME: " on the terminal (/dev/tty, else
 * stderr and stdin), echo off, one line read with read(2) so that no stdio buffer keeps a copy.
 */
static int
ask_password_cb(const char *user, char *buf, size_t cap)
{
    int tty = open("/dev/tty", O_RDWR | O_CLOEXEC);
    int in = tty >= 0 ? tty : STDIN_FILENO, out = tty >= 0 ? tty : STDERR_FILENO;
    struct termios old, quiet;
    int echo_off = 0, got_line = 0;
    size_t n = 0;
    char prompt[320], ch;
    int len;

    len = *user ? snprintf(prompt, sizeof(prompt), "Password for user %s: ", user)
                : snprintf(prompt, sizeof(prompt), "Password: ");
    if (len > 0 && (size_t)len < sizeof(prompt) && write(out, prompt, (size_t)len) < 0) {
        /* no terminal to ask on: read anyway, as psql does */
    }
    if (tcgetattr(in, &old) == 0) {
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        echo_off = tcsetattr(in, TCSAFLUSH, &quiet) == 0;
    }
    while (read(in, &ch, 1) == 1) {
        if (ch == '\n') {
            got_line = 1;
            break;
        }
        if (n + 1 < cap) /* a longer line is cut, as psql's simple_prompt cuts it */
            buf[n++] = ch;
    }
    buf[n] = '\0';
    ch = '\0';
    if (echo_off) {
        tcsetattr(in, TCSAFLUSH, &old);
        if (write(out, "\n", 1) < 0) {
            /* the terminal went away: nothing to tidy */
        }
    }
    if (tty >= 0)
        close(tty);
    return got_line || n > 0 ? 0 : -1;
}

struct db *
app_connect_quiet(const struct app_opts *o, int defer, int *code, struct diag_err *err)
{
    struct db_error e;
    struct db *db = db_connect_ask(o->conninfo, o->password == 1,
                                   app_may_ask_password(o) ? ask_password_cb : NULL, err);
    /*
     * One round trip: standard strings (quoting in history SQL relies on them), no notices,
     * and, where the server has it (14+), a connection check so that if this process dies
     * (kill -9) the server stops the statement it was running for us within seconds instead
     * of finishing it holding our lock.
     */
    const char *settings =
        db && db_server_version(db) >= 140000
            ? "SET standard_conforming_strings = on; SET client_min_messages = warning; "
              "SET idle_in_transaction_session_timeout = 0; "
              "SET client_connection_check_interval = '2s'"
            : "SET standard_conforming_strings = on; SET client_min_messages = warning; "
              "SET idle_in_transaction_session_timeout = 0";

    if (db == NULL) {
        *code = EXIT_CONNECT;
        return NULL;
    }
    if (defer) {
        db_defer(db, settings);
        *code = EXIT_OK;
        return db;
    }
    if (db_exec(db, settings, &e) != 0) {
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
    struct db *db = app_connect_quiet(o, 0, code, &err);

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
