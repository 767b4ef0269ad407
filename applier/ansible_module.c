/*
 * ansible_module.c: Ansible's binary-module protocol: read the task's arguments (a JSON
 * file), run the applier's own commands with --json, answer with one JSON object.
 * Layer: applier.
 *
 * Why child processes and not calls into cmd_*(): the commands print results and events on
 * stdout and may exit() on bad input, while the module's stdout must carry exactly one JSON
 * object whatever happens. A child's stdout is a pipe the module reads event by event, its
 * exit code is the documented contract (README "Exit codes"), and the module needs to know
 * nothing of a command's internals, so the events may grow new fields and types. The child
 * is the applier the "applier" option names, else sealift-apply on PATH, else this binary
 * itself (/proc/self/exe): the module file Ansible copied is a complete static applier.
 * The conninfo reaches the child in DATABASE_URL, never on its command line (which every
 * local user can read in /proc), and is never written back (Ansible's no_log).
 */
#include "ansible_module.h"
#include "common.h"
#include "engine.h"
#include "jsonread.h"
#include "sealift/file.h"
#include "sealift/json.h"
#include "sealift/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define ARGS_MAX     (1 << 20)  /* an arguments file larger than this is refused */
#define STDOUT_MAX   (64 << 20) /* a child's stdout kept (a long journal) */
#define STDERR_MAX   (64 << 10) /* a child's stderr kept */
#define MASK         "********"
#define NO_LOG_VALUE "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"

enum mod_kind { MOD_APPLY = 1, MOD_STATUS = 2, MOD_VERIFY = 4 };
#define MOD_ALL (MOD_APPLY | MOD_STATUS | MOD_VERIFY)

enum opt_type { OPT_STR, OPT_LIST, OPT_INT, OPT_SECONDS, OPT_BOOL };

struct opt_spec {
    const char *name;
    enum opt_type type;
    unsigned kinds;
    const char *choices; /* "a|b", or NULL for any value */
};

/* The modules' options; the sidecar documentation (contrib/ansible) describes each. */
enum {
    O_APPLIER,
    O_BUNDLE,
    O_PUBKEYS,
    O_THRESHOLD,
    O_DB,
    O_SCHEMA,
    O_COMPAT,
    O_LOCK_TIMEOUT,
    O_TO,
    O_STATE,
    O_PER_MIGRATION,
    O_STMT_LOCK_TIMEOUT,
    O_RETRIES,
    O_STMT_TIMEOUT,
    O_EXTRA_ARGS,
    O_VERIFY_JOURNAL,
    O_COUNT
};

static const struct opt_spec specs[O_COUNT] = {
    [O_APPLIER] = {"applier", OPT_STR, MOD_ALL, NULL},
    [O_BUNDLE] = {"bundle", OPT_STR, MOD_ALL, NULL},
    [O_PUBKEYS] = {"pubkeys", OPT_LIST, MOD_ALL, NULL},
    [O_THRESHOLD] = {"threshold", OPT_INT, MOD_ALL, NULL},
    [O_DB] = {"db", OPT_STR, MOD_APPLY | MOD_STATUS, NULL},
    [O_SCHEMA] = {"schema", OPT_STR, MOD_APPLY | MOD_STATUS, NULL},
    [O_COMPAT] = {"compat", OPT_STR, MOD_APPLY | MOD_STATUS, "alembic"},
    [O_LOCK_TIMEOUT] = {"lock_timeout", OPT_SECONDS, MOD_APPLY, NULL},
    [O_TO] = {"to", OPT_STR, MOD_APPLY, NULL},
    [O_STATE] = {"state", OPT_STR, MOD_APPLY, "applied|rolled_back"},
    [O_PER_MIGRATION] = {"per_migration", OPT_BOOL, MOD_APPLY, NULL},
    [O_STMT_LOCK_TIMEOUT] = {"statement_lock_timeout", OPT_SECONDS, MOD_APPLY, NULL},
    [O_RETRIES] = {"retries", OPT_INT, MOD_APPLY, NULL},
    [O_STMT_TIMEOUT] = {"statement_timeout", OPT_SECONDS, MOD_APPLY, NULL},
    [O_EXTRA_ARGS] = {"extra_args", OPT_LIST, MOD_ALL, NULL},
    [O_VERIFY_JOURNAL] = {"verify_journal", OPT_BOOL, MOD_STATUS, NULL},
};

struct optval {
    int set;
    char *s;     /* OPT_STR, OPT_INT and OPT_SECONDS (as text) */
    char **list; /* OPT_LIST */
    size_t nlist;
    int b; /* OPT_BOOL */
};

/* One child run of the applier. */
struct run {
    const char *what; /* the command, for messages */
    int rc;
    struct buf out, err;
    struct jv **events; /* parsed lines that have an "event" */
    size_t nevents;
    struct jv *doc; /* the last parsed line without one (status, verify, history output) */
};

struct mod {
    unsigned kind;
    const char *name; /* "sealift.migrate.apply" */
    struct optval v[O_COUNT];
    int check_mode, diff;
    char applier[4096];
    char *secrets[2]; /* the conninfo and its password, masked wherever they would show */
    struct buf res;   /* result members after changed/failed/rc/msg */
    int changed, failed, rc;
    struct buf msg;
};

/* ---- result ---- */

static void
res_key(struct mod *m, const char *key)
{
    json_key(&m->res, key, 0);
}

static void
res_str(struct mod *m, const char *key, const char *s)
{
    res_key(m, key);
    json_str(&m->res, s);
}

static void set_msg(struct mod *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
set_msg(struct mod *m, const char *fmt, ...)
{
    va_list ap;

    buf_reset(&m->msg);
    va_start(ap, fmt);
    buf_vaddf(&m->msg, fmt, ap);
    va_end(ap);
}

/* Replace every occurrence of each secret (at least 4 bytes) in b by MASK. */
static void
mask_buf(const struct mod *m, struct buf *b, int json_escaped)
{
    for (int k = 0; k < 2; k++) {
        struct buf needle = BUF_INIT, outb = BUF_INIT;
        const char *p, *hit;

        if (m->secrets[k] == NULL || strlen(m->secrets[k]) < 4)
            continue;
        if (json_escaped) {
            json_str(&needle, m->secrets[k]);
            buf_add(&outb, needle.data + 1, needle.len - 2); /* without the quotes */
            buf_reset(&needle);
            buf_add(&needle, outb.data, outb.len);
            buf_reset(&outb);
        } else {
            buf_addstr(&needle, m->secrets[k]);
        }
        for (p = b->data; (hit = strstr(p, needle.data)) != NULL; p = hit + needle.len) {
            buf_add(&outb, p, (size_t)(hit - p));
            buf_addstr(&outb, MASK);
        }
        buf_addstr(&outb, p);
        buf_reset(b);
        buf_add(b, outb.data, outb.len);
        buf_release(&outb);
        buf_release(&needle);
    }
}

/* The password a conninfo string ("password=...") or URI ("user:PASS@host") carries. */
static char *
conninfo_password(const char *ci)
{
    const char *p = strstr(ci, "password="), *scheme = strstr(ci, "://");
    size_t n;

    if (p) {
        p += strlen("password=");
        if (*p == '\'') {
            p++;
            n = strcspn(p, "'");
        } else {
            n = strcspn(p, " &");
        }
        return n ? xstrndup(p, n) : NULL;
    }
    if (scheme) {
        const char *auth = scheme + 3, *at = strchr(auth, '@'), *slash = strchr(auth, '/');
        const char *colon = strchr(auth, ':');

        if (at && (!slash || at < slash) && colon && colon < at && at > colon + 1)
            return xstrndup(colon + 1, (size_t)(at - colon - 1));
    }
    return NULL;
}

/* Print the one JSON result and return the process's exit code. */
static int
finish(struct mod *m)
{
    struct buf b = BUF_INIT;

    buf_addch(&b, '{');
    json_key(&b, "changed", 1);
    buf_addstr(&b, m->changed ? "true" : "false");
    json_key(&b, "failed", 0);
    buf_addstr(&b, m->failed ? "true" : "false");
    json_key(&b, "rc", 0);
    buf_addf(&b, "%d", m->rc);
    json_key(&b, "msg", 0);
    json_str(&b, m->msg.data);
    buf_add(&b, m->res.data, m->res.len);
    buf_addstr(&b, "}\n");
    mask_buf(m, &b, 1);
    fputs(b.data, stdout);
    fflush(stdout);
    buf_release(&b);
    return m->failed ? 1 : 0;
}

static int fail_module(struct mod *m, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
fail_module(struct mod *m, int rc, const char *fmt, ...)
{
    va_list ap;

    buf_reset(&m->msg);
    va_start(ap, fmt);
    buf_vaddf(&m->msg, fmt, ap);
    va_end(ap);
    m->failed = 1;
    m->rc = rc;
    return -1;
}

/* ---- arguments ---- */

static int
parse_bool(const char *s, int *out)
{
    static const char *const yes[] = {"yes", "true", "on", "1", "y", "t"};
    static const char *const no[] = {"no", "false", "off", "0", "n", "f"};

    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        if (strcasecmp(s, yes[i]) == 0)
            return *out = 1, 0;
        if (strcasecmp(s, no[i]) == 0)
            return *out = 0, 0;
    }
    return -1;
}

/* A whole number, or for seconds a non-negative decimal, written as the applier reads it. */
static int
check_number(const char *s, enum opt_type t)
{
    char *end;
    double d;

    if (*s == '\0')
        return -1;
    if (t == OPT_INT) {
        long l;

        errno = 0;
        l = strtol(s, &end, 10);
        return *end || errno || l < 0 ? -1 : 0;
    }
    d = strtod(s, &end);
    return *end || d < 0 ? -1 : 0;
}

/* Convert one argument to its option's type, as Ansible's own argument spec would. */
static int
take_option(struct mod *m, const struct opt_spec *spec, struct optval *ov, const struct jv *v)
{
    if (v->type == JV_NULL)
        return 0; /* "option: null" = not given */
    switch (spec->type) {
    case OPT_BOOL:
        if (v->type == JV_BOOL)
            ov->b = v->boolean;
        else if ((v->type != JV_STRING && v->type != JV_NUMBER) || parse_bool(v->str, &ov->b))
            return fail_module(m, EXIT_USAGE, "argument '%s' is not a boolean", spec->name);
        break;
    case OPT_LIST:
        if (v->type == JV_STRING) { /* "a,b" as Ansible's list type accepts */
            char *copy = xstrdup(v->str), *save = NULL;

            for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
                ov->list = xrealloc(ov->list, (ov->nlist + 1) * sizeof(*ov->list));
                ov->list[ov->nlist++] = xstrdup(t + strspn(t, " "));
            }
            free(copy);
        } else if (v->type == JV_ARRAY) {
            for (size_t i = 0; i < v->n; i++) {
                if (v->v[i].type != JV_STRING && v->v[i].type != JV_NUMBER)
                    return fail_module(m, EXIT_USAGE, "argument '%s' must be a list of strings",
                                       spec->name);
                ov->list = xrealloc(ov->list, (ov->nlist + 1) * sizeof(*ov->list));
                ov->list[ov->nlist++] = xstrdup(v->v[i].str);
            }
        } else {
            return fail_module(m, EXIT_USAGE, "argument '%s' must be a list", spec->name);
        }
        break;
    default:
        if (v->type == JV_BOOL && spec->type == OPT_STR)
            ov->s = xstrdup(v->boolean ? "True" : "False");
        else if (v->type != JV_STRING && v->type != JV_NUMBER)
            return fail_module(m, EXIT_USAGE, "argument '%s' must be a %s", spec->name,
                               spec->type == OPT_STR ? "string" : "number");
        else
            ov->s = xstrdup(v->str);
        if ((spec->type == OPT_INT || spec->type == OPT_SECONDS) &&
            check_number(ov->s, spec->type) != 0)
            return fail_module(m, EXIT_USAGE, "argument '%s' must be a %s, not \"%s\"", spec->name,
                               spec->type == OPT_INT ? "whole number" : "number of seconds", ov->s);
        if (spec->choices) {
            size_t n = strlen(ov->s);
            const char *c = spec->choices;
            int ok = 0;

            while (*c) {
                size_t len = strcspn(c, "|");

                ok |= len == n && strncmp(c, ov->s, n) == 0;
                c += len + (c[len] == '|');
            }
            if (!ok)
                return fail_module(m, EXIT_USAGE, "value of %s must be one of: %s, got: %s",
                                   spec->name, spec->choices, ov->s);
        }
    }
    ov->set = 1;
    return 0;
}

/* Which module: "_ansible_module_name" ("sealift.migrate.apply"), else argv0's name. */
static int
pick_module(struct mod *m, const struct jv *args, const char *argv0)
{
    const char *name = jv_get_str(args, "_ansible_module_name");
    const char *base;

    if (name == NULL) {
        name = strrchr(argv0, '/') ? strrchr(argv0, '/') + 1 : argv0;
        if (strncmp(name, "AnsiballZ_", 10) == 0)
            name += 10;
    }
    m->name = name;
    base = strrchr(name, '.') ? strrchr(name, '.') + 1 : name;
    if (strcmp(base, "apply") == 0)
        m->kind = MOD_APPLY;
    else if (strcmp(base, "status") == 0)
        m->kind = MOD_STATUS;
    else if (strcmp(base, "verify") == 0)
        m->kind = MOD_VERIFY;
    else
        return fail_module(m, EXIT_USAGE,
                           "sealift-apply does not know the module \"%s\" (it is "
                           "sealift.migrate.apply, status or verify)",
                           name);
    return 0;
}

static int
read_args(struct mod *m, const char *path, const char *argv0, struct jv **out)
{
    struct diag_err err = DIAG_ERR_INIT;
    struct buf text = BUF_INIT;
    struct jv *args = NULL;
    char chunk[8192];
    ssize_t got;
    int fd = file_open_regular(path, "arguments file", &err), ret = -1;

    if (fd < 0)
        return fail_module(m, EXIT_USAGE, "%s", err.msg);
    while ((got = read(fd, chunk, sizeof(chunk))) > 0 && text.len <= ARGS_MAX)
        buf_add(&text, chunk, (size_t)got);
    close(fd);
    if (got < 0) {
        fail_module(m, EXIT_USAGE, "could not read arguments file \"%s\": %s", path,
                    strerror(errno));
        goto done;
    }
    if (text.len > ARGS_MAX) {
        fail_module(m, EXIT_USAGE, "arguments file \"%s\" is larger than %d bytes", path, ARGS_MAX);
        goto done;
    }
    args = jv_parse(text.data, text.len, &err);
    if (args == NULL || args->type != JV_OBJECT) {
        fail_module(m, EXIT_USAGE, "arguments file \"%s\" is not a JSON object: %s", path,
                    args ? "another JSON value" : err.msg);
        goto done;
    }
    ret = pick_module(m, args, argv0);
done:
    buf_release(&text);
    if (ret != 0) {
        jv_free(args);
        args = NULL;
    }
    *out = args;
    return ret;
}

/* Check every argument against the module's options; "_ansible_*" ones set the modes. */
static int
take_args(struct mod *m, const struct jv *args)
{
    struct buf unknown = BUF_INIT;
    const struct jv *v;

    for (size_t i = 0; i < args->n; i++) {
        const char *key = args->keys[i];
        int found = 0;

        if (strncmp(key, "_ansible_", 9) == 0)
            continue;
        for (int k = 0; k < O_COUNT; k++) {
            if (strcmp(key, specs[k].name) == 0 && (specs[k].kinds & m->kind)) {
                found = 1;
                if (take_option(m, &specs[k], &m->v[k], &args->v[i]) != 0) {
                    buf_release(&unknown);
                    return -1;
                }
            }
        }
        if (!found)
            buf_addf(&unknown, "%s%s", unknown.len ? ", " : "", key);
    }
    if (unknown.len) {
        struct buf known = BUF_INIT;

        for (int k = 0; k < O_COUNT; k++)
            if (specs[k].kinds & m->kind)
                buf_addf(&known, "%s%s", known.len ? ", " : "", specs[k].name);
        fail_module(m, EXIT_USAGE,
                    "Unsupported parameters for (%s) module: %s. Supported parameters "
                    "include: %s.",
                    m->name, unknown.data, known.data);
        buf_release(&known);
        buf_release(&unknown);
        return -1;
    }
    buf_release(&unknown);
    if ((v = jv_get(args, "_ansible_check_mode")) && v->type == JV_BOOL)
        m->check_mode = v->boolean;
    if ((v = jv_get(args, "_ansible_diff")) && v->type == JV_BOOL)
        m->diff = v->boolean;
    if (!m->v[O_BUNDLE].set || !m->v[O_PUBKEYS].set || m->v[O_PUBKEYS].nlist == 0)
        return fail_module(m, EXIT_USAGE, "missing required arguments: %s",
                           !m->v[O_BUNDLE].set && !m->v[O_PUBKEYS].nlist ? "bundle, pubkeys"
                           : !m->v[O_BUNDLE].set                         ? "bundle"
                                                                         : "pubkeys");
    if (m->kind == MOD_APPLY && m->v[O_STATE].set && strcmp(m->v[O_STATE].s, "rolled_back") == 0 &&
        !m->v[O_TO].set)
        return fail_module(m, EXIT_USAGE,
                           "state is rolled_back but all of the following are "
                           "missing: to");
    if (m->v[O_DB].set) {
        m->secrets[0] = xstrdup(m->v[O_DB].s);
        m->secrets[1] = conninfo_password(m->v[O_DB].s);
    }
    return 0;
}

/* The module's arguments as Ansible shows them ("invocation"), the conninfo masked. */
static void
res_invocation(struct mod *m)
{
    res_key(m, "invocation");
    buf_addstr(&m->res, "{\"module_args\":{");
    for (int k = 0, first = 1; k < O_COUNT; k++) {
        const struct optval *ov = &m->v[k];

        if (!(specs[k].kinds & m->kind))
            continue;
        json_key(&m->res, specs[k].name, first);
        first = 0;
        if (!ov->set)
            buf_addstr(&m->res, "null");
        else if (k == O_DB)
            json_str(&m->res, NO_LOG_VALUE);
        else if (specs[k].type == OPT_BOOL)
            buf_addstr(&m->res, ov->b ? "true" : "false");
        else if (specs[k].type == OPT_LIST) {
            buf_addch(&m->res, '[');
            for (size_t i = 0; i < ov->nlist; i++) {
                if (i)
                    buf_addch(&m->res, ',');
                json_str(&m->res, ov->list[i]);
            }
            buf_addch(&m->res, ']');
        } else if (specs[k].type != OPT_STR)
            buf_addstr(&m->res, ov->s);
        else
            json_str(&m->res, ov->s);
    }
    buf_addstr(&m->res, "}}");
}

/* ---- running the applier ---- */

/* The applier: the option, else sealift-apply on PATH, else this binary. */
static int
find_applier(struct mod *m)
{
    const char *path = getenv("PATH");

    if (m->v[O_APPLIER].set) {
        struct stat st;
        int n = snprintf(m->applier, sizeof(m->applier), "%s", m->v[O_APPLIER].s);

        if (n < 0 || (size_t)n >= sizeof(m->applier))
            return fail_module(m, EXIT_USAGE, "applier path is too long");
        if (stat(m->applier, &st) != 0 || access(m->applier, X_OK) != 0)
            return fail_module(m, EXIT_USAGE, "applier \"%s\" is not an executable file: %s",
                               m->applier, strerror(errno));
        if (!S_ISREG(st.st_mode))
            return fail_module(m, EXIT_USAGE, "applier \"%s\" is not a regular file", m->applier);
        return 0;
    }
    while (path && *path) {
        size_t len = strcspn(path, ":");
        int n = snprintf(m->applier, sizeof(m->applier), "%.*s/sealift-apply", (int)len, path);

        if (len && n > 0 && (size_t)n < sizeof(m->applier) && access(m->applier, X_OK) == 0)
            return 0;
        path += len + (path[len] == ':');
    }
    /* The module file is itself a complete applier. */
    snprintf(m->applier, sizeof(m->applier), "/proc/self/exe");
    {
        char self[4096];
        ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

        if (n > 0) {
            self[n] = '\0';
            snprintf(m->applier, sizeof(m->applier), "%s", self);
        }
    }
    return 0;
}

struct argv_b {
    char **v;
    size_t n;
};

static void
arg(struct argv_b *a, const char *s)
{
    a->v = xrealloc(a->v, (a->n + 2) * sizeof(*a->v));
    a->v[a->n++] = xstrdup(s);
    a->v[a->n] = NULL;
}

static void
argv_free(struct argv_b *a)
{
    for (size_t i = 0; i < a->n; i++)
        free(a->v[i]);
    free(a->v);
}

/* applier CMD BUNDLE -p KEY... [--threshold N] [--schema S] [--compat X] --json */
static void
base_args(struct mod *m, struct argv_b *a, const char *cmd, int with_bundle)
{
    arg(a, m->applier);
    arg(a, cmd);
    if (with_bundle) {
        arg(a, m->v[O_BUNDLE].s);
        for (size_t i = 0; i < m->v[O_PUBKEYS].nlist; i++) {
            arg(a, "-p");
            arg(a, m->v[O_PUBKEYS].list[i]);
        }
        if (m->v[O_THRESHOLD].set) {
            arg(a, "--threshold");
            arg(a, m->v[O_THRESHOLD].s);
        }
    }
    if (m->v[O_SCHEMA].set && strcmp(cmd, "verify") != 0) {
        arg(a, "--schema");
        arg(a, m->v[O_SCHEMA].s);
    }
    if (m->v[O_COMPAT].set && strcmp(cmd, "verify") != 0 && strcmp(cmd, "history") != 0) {
        arg(a, "--compat");
        arg(a, m->v[O_COMPAT].s);
    }
    arg(a, "--json");
}

static void
run_init(struct run *r, const char *what)
{
    memset(r, 0, sizeof(*r));
    r->what = what;
    buf_init(&r->out);
    buf_init(&r->err);
}

static void
run_release(struct run *r)
{
    for (size_t i = 0; i < r->nevents; i++)
        jv_free(r->events[i]);
    free(r->events);
    jv_free(r->doc);
    buf_release(&r->out);
    buf_release(&r->err);
}

/* Read both pipes to their end, keeping at most the limits (the rest is drained). */
static void
drain(int fd_out, int fd_err, struct buf *out, struct buf *err)
{
    struct pollfd p[2] = {{fd_out, POLLIN, 0}, {fd_err, POLLIN, 0}};
    char chunk[65536];
    int open_fds = 2;

    while (open_fds > 0) {
        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        for (int i = 0; i < 2; i++) {
            ssize_t got;

            if (p[i].fd < 0 || !(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            got = read(p[i].fd, chunk, sizeof(chunk));
            if (got < 0 && errno == EINTR)
                continue;
            if (got <= 0) {
                close(p[i].fd);
                p[i].fd = -1;
                open_fds--;
                continue;
            }
            if (i == 0 && out->len < STDOUT_MAX)
                buf_add(out, chunk, (size_t)got);
            else if (i == 1 && err->len < STDERR_MAX)
                buf_add(err, chunk, (size_t)got);
        }
    }
}

/* Split the child's stdout into JSON lines: events, and the last other object. */
static void
parse_lines(struct run *r)
{
    char *line = r->out.data, *nl;

    for (; *line; line = nl ? nl + 1 : line + strlen(line)) {
        struct diag_err err = DIAG_ERR_INIT;
        struct jv *v;

        nl = strchr(line, '\n');
        if (line[0] != '{')
            continue; /* not JSON: an older applier's text line */
        v = jv_parse(line, nl ? (size_t)(nl - line) : strlen(line), &err);
        if (v == NULL || v->type != JV_OBJECT) {
            jv_free(v);
            continue;
        }
        if (jv_get_str(v, "event")) {
            r->events = xrealloc(r->events, (r->nevents + 1) * sizeof(*r->events));
            r->events[r->nevents++] = v;
        } else {
            jv_free(r->doc);
            r->doc = v;
        }
    }
}

/* Run the applier with argv; the conninfo goes in DATABASE_URL. Fills r (rc -1: not run). */
static void
run_applier(struct mod *m, struct argv_b *a, struct run *r)
{
    int po[2] = {-1, -1}, pe[2] = {-1, -1}, status;
    pid_t pid;

    if (pipe(po) != 0 || pipe(pe) != 0) {
        buf_addf(&r->err, "sealift-apply: error: could not create a pipe: %s\n", strerror(errno));
        r->rc = -1;
        goto closeall;
    }
    fflush(stdout);
    pid = fork();
    if (pid < 0) {
        buf_addf(&r->err, "sealift-apply: error: could not fork: %s\n", strerror(errno));
        r->rc = -1;
        goto closeall;
    }
    if (pid == 0) {
        int devnull = open("/dev/null", O_RDONLY);

        if (devnull >= 0)
            dup2(devnull, STDIN_FILENO);
        dup2(po[1], STDOUT_FILENO);
        dup2(pe[1], STDERR_FILENO);
        close(po[0]);
        close(pe[0]);
        if (m->v[O_DB].set)
            setenv("DATABASE_URL", m->v[O_DB].s, 1);
        signal(SIGPIPE, SIG_DFL);
        execv(a->v[0], a->v);
        fprintf(stderr, "sealift-apply: error: could not run \"%s\": %s\n", a->v[0],
                strerror(errno));
        _exit(EXIT_USAGE);
    }
    close(po[1]);
    close(pe[1]);
    po[1] = pe[1] = -1;
    drain(po[0], pe[0], &r->out, &r->err);
    po[0] = pe[0] = -1;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    r->rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    mask_buf(m, &r->out, 1);
    mask_buf(m, &r->err, 0);
    parse_lines(r);
closeall:
    for (int i = 0; i < 2; i++) {
        if (po[i] >= 0)
            close(po[i]);
        if (pe[i] >= 0)
            close(pe[i]);
    }
}

/*
 * What went wrong in a run, for msg: the "error" event or object of a --json applier, else
 * its "sealift-apply: error:" lines on stderr (with their detail lines), else the "failed"
 * event's message.
 */
static void
run_error_text(const struct run *r, struct buf *out)
{
    const struct jv *failed = NULL;
    const char *line;

    for (size_t i = 0; i < r->nevents; i++) {
        const struct jv *e = r->events[i];
        const char *ev = jv_get_str(e, "event");
        const struct jv *obj = jv_get(e, "error");

        if (obj && jv_get_str(obj, "message")) {
            buf_addstr(out, jv_get_str(obj, "message"));
            return;
        }
        if (strcmp(ev, "error") == 0 && jv_get_str(e, "message")) {
            buf_addstr(out, jv_get_str(e, "message"));
            return;
        }
        if (strcmp(ev, "failed") == 0)
            failed = e;
    }
    for (line = r->err.data; *line;) {
        size_t len = strcspn(line, "\n");
        const char *tag = NULL;

        for (const char *t = line; t < line + len; t++) {
            if (strncmp(t, ": error: ", 9) == 0 || strncmp(t, ": detail: ", 10) == 0) {
                tag = t;
                break;
            }
        }
        if (tag) {
            /* "sealift-apply: error: X" reads "X"; detail lines keep their word. */
            size_t skip = tag[2] == 'e' ? 9 : 2;

            if (out->len)
                buf_addstr(out, "; ");
            buf_add(out, tag + skip, (size_t)(line + len - tag - skip));
        }
        line += len + (line[len] == '\n');
    }
    if (out->len)
        return;
    if (failed && jv_get_str(failed, "message")) {
        buf_addstr(out, jv_get_str(failed, "message"));
        return;
    }
    if (r->err.len) {
        buf_add(out, r->err.data, strcspn(r->err.data, "\n"));
        return;
    }
    buf_addf(out, "exit code %d", r->rc);
}

/* Fail the module with a run's exit code and error; stderr goes into the result too. */
static int
fail_run(struct mod *m, const struct run *r)
{
    struct buf text = BUF_INIT;

    run_error_text(r, &text);
    fail_module(m, r->rc < 0 ? EXIT_USAGE : r->rc, "sealift-apply %s failed (exit %d): %s", r->what,
                r->rc, text.data);
    res_str(m, "stderr", r->err.data);
    buf_release(&text);
    return -1;
}

/* ---- facts ---- */

/* Status of the database against the bundle, as a document (rc 0, 7; or 3 with a state). */
struct status_facts {
    int ok;
    long applied;     /* migrations of the chain applied */
    const char *head; /* revision label */
    const struct jv *pending, *doc;
};

static void
status_facts(const struct run *r, struct status_facts *f)
{
    const struct jv *n;

    memset(f, 0, sizeof(*f));
    f->doc = r->doc;
    if (r->doc == NULL)
        return;
    n = jv_get(r->doc, "applied");
    f->applied = n && n->type == JV_NUMBER ? (long)n->num : 0;
    f->head = jv_get_str(r->doc, "head");
    f->pending = jv_get(r->doc, "pending");
    f->ok = f->head != NULL;
}

/* A journal row of "history --json" (JSON Lines: rows are {"type":"event",...}), or not. */
static int
is_journal_row(const struct jv *v)
{
    const char *type = jv_get_str(v, "type");

    return type && strcmp(type, "event") == 0;
}

/* The journal's last row {seq, hash, event, migration, at}, or NULL (none yet). */
static const struct jv *
journal_head(const struct run *hist)
{
    for (size_t i = hist->nevents; i > 0; i--)
        if (is_journal_row(hist->events[i - 1]))
            return hist->events[i - 1];
    return NULL;
}

static double
journal_seq(const struct jv *row)
{
    const struct jv *s = jv_get(row, "seq");

    return s && s->type == JV_NUMBER ? s->num : 0;
}

/* Journal rows after seq that record a change (every event but a failure or interruption). */
static size_t
journal_changes_after(const struct run *hist, double seq)
{
    size_t n = 0;

    for (size_t i = 0; i < hist->nevents; i++) {
        const struct jv *row = hist->events[i];
        const char *what = jv_get_str(row, "event");

        if (is_journal_row(row) && journal_seq(row) > seq && what &&
            strncmp(what, "fail", 4) != 0 && strcmp(what, "interrupted") != 0 &&
            strcmp(what, "retry") != 0)
            n++;
    }
    return n;
}

/* The repeatables whose runs the journal gained after seq (apply_repeatable rows), as a list. */
static void
res_repeatables_run(struct mod *m, const char *key, const struct run *hist, double seq)
{
    size_t n = 0;

    res_key(m, key);
    buf_addch(&m->res, '[');
    for (size_t i = 0; i < hist->nevents; i++) {
        const struct jv *row = hist->events[i];
        const char *what = jv_get_str(row, "event");

        if (is_journal_row(row) && journal_seq(row) > seq && what &&
            strcmp(what, "apply_repeatable") == 0) {
            if (n++)
                buf_addch(&m->res, ',');
            json_str(&m->res, jv_get_str(row, "migration"));
        }
    }
    buf_addch(&m->res, ']');
}

static void
res_jv(struct mod *m, const char *key, const struct jv *v)
{
    res_key(m, key);
    if (v)
        jv_emit(&m->res, v);
    else
        buf_addstr(&m->res, "null");
}

static void
res_events(struct mod *m, const struct run *r)
{
    res_key(m, "events");
    buf_addch(&m->res, '[');
    for (size_t i = 0; i < r->nevents; i++) {
        if (i)
            buf_addch(&m->res, ',');
        jv_emit(&m->res, r->events[i]);
    }
    buf_addch(&m->res, ']');
}

static void
res_id_list(struct mod *m, const char *key, const struct jv *migrations, long from, long to,
            int reverse)
{
    res_key(m, key);
    buf_addch(&m->res, '[');
    for (long i = 0, k = 0; i < to - from; i++) {
        long idx = reverse ? to - 1 - i : from + i;
        const char *id;

        if (migrations == NULL || idx < 0 || (size_t)idx >= migrations->n)
            continue;
        id = jv_get_str(&migrations->v[idx], "id");
        if (id == NULL)
            continue;
        if (k++)
            buf_addch(&m->res, ',');
        json_str(&m->res, id);
    }
    buf_addch(&m->res, ']');
}

/* The migration label after idx migrations: what status calls the revision. */
static void
label_at(const struct jv *migrations, long count, struct buf *out)
{
    const struct jv *mig;
    const char *name;

    if (count <= 0 || migrations == NULL || (size_t)count > migrations->n) {
        buf_addstr(out, "base");
        return;
    }
    mig = &migrations->v[count - 1];
    name = jv_get_str(mig, "name");
    buf_addstr(out, jv_get_str(mig, "id") ? jv_get_str(mig, "id") : "?");
    if (name && *name)
        buf_addf(out, "_%s", name);
}

/* ---- the modules ---- */

static int
do_verify(struct mod *m, struct run *ver)
{
    struct argv_b a = {0};
    const struct jv *migs;

    base_args(m, &a, "verify", 1);
    for (size_t i = 0; i < m->v[O_EXTRA_ARGS].nlist && m->kind == MOD_VERIFY; i++)
        arg(&a, m->v[O_EXTRA_ARGS].list[i]);
    run_applier(m, &a, ver);
    argv_free(&a);
    if (ver->rc != 0 || ver->doc == NULL)
        return fail_run(m, ver);
    migs = jv_get(ver->doc, "migrations");
    if (m->kind == MOD_VERIFY) {
        set_msg(m, "bundle %s verified: project %s, serial %s, %zu migrations, head %s",
                m->v[O_BUNDLE].s,
                jv_get_str(ver->doc, "project") ? jv_get_str(ver->doc, "project") : "?",
                jv_get(ver->doc, "serial") && jv_get(ver->doc, "serial")->str
                    ? jv_get(ver->doc, "serial")->str
                    : "?",
                migs && migs->type == JV_ARRAY ? migs->n : 0,
                jv_get_str(ver->doc, "head") ? jv_get_str(ver->doc, "head") : "base");
        res_key(m, "verified");
        buf_addstr(&m->res, "true");
        res_jv(m, "bundle_info", ver->doc);
    }
    return 0;
}

static void
history_run(struct mod *m, struct run *hist, int verify)
{
    struct argv_b a = {0};

    base_args(m, &a, "history", 0);
    if (verify)
        arg(&a, "--verify");
    run_applier(m, &a, hist);
    argv_free(&a);
}

static int
do_status(struct mod *m)
{
    struct run st, hist;
    struct argv_b a = {0};
    struct status_facts f;
    int ret = -1;

    run_init(&st, "status");
    run_init(&hist, m->v[O_VERIFY_JOURNAL].b ? "history --verify" : "history");
    base_args(m, &a, "status", 1);
    for (size_t i = 0; i < m->v[O_EXTRA_ARGS].nlist; i++)
        arg(&a, m->v[O_EXTRA_ARGS].list[i]);
    run_applier(m, &a, &st);
    argv_free(&a);
    status_facts(&st, &f);
    /* 0 at head, 7 pending, 3 drift (or ahead, or refused) are answers, not failures. */
    if (!f.ok || (st.rc != 0 && st.rc != 7 && st.rc != 3)) {
        fail_run(m, &st);
        goto done;
    }
    m->rc = st.rc;
    history_run(m, &hist, m->v[O_VERIFY_JOURNAL].b);
    res_str(m, "state", jv_get_str(f.doc, "state"));
    res_str(m, "revision", f.head);
    res_str(m, "bundle_head", jv_get_str(f.doc, "bundle_head"));
    res_jv(m, "pending", f.pending);
    res_jv(m, "pending_repeatables", jv_get(f.doc, "pending_repeatables"));
    res_jv(m, "drift", jv_get(f.doc, "drift"));
    res_jv(m, "journal_head", journal_head(&hist));
    if (m->v[O_VERIFY_JOURNAL].b) {
        res_jv(m, "journal_verified", jv_get(hist.doc, "verified"));
        res_jv(m, "journal_verification", jv_get(hist.doc, "verification"));
    }
    res_jv(m, "status", f.doc);
    if (st.rc == 3) {
        struct buf text = BUF_INIT;

        run_error_text(&st, &text);
        set_msg(m, "the database is refused by this bundle (%s): %s", jv_get_str(f.doc, "state"),
                text.data);
        buf_release(&text);
    } else {
        const struct jv *reps = jv_get(f.doc, "pending_repeatables");

        set_msg(m, "the database is at %s; %zu pending, %zu repeatable%s pending", f.head,
                f.pending && f.pending->type == JV_ARRAY ? f.pending->n : 0,
                reps && reps->type == JV_ARRAY ? reps->n : 0,
                reps && reps->type == JV_ARRAY && reps->n == 1 ? "" : "s");
    }
    if (m->v[O_VERIFY_JOURNAL].b && hist.rc != 0) {
        struct buf text = BUF_INIT;

        run_error_text(&hist, &text);
        fail_module(m, hist.rc, "the journal does not verify (exit %d): %s", hist.rc, text.data);
        buf_release(&text);
        goto done;
    }
    ret = 0;
done:
    run_release(&st);
    run_release(&hist);
    return ret;
}

/* The revision `to` names, as a count of migrations: the applier's own resolution. */
static int
resolve_to(struct mod *m, const struct verify_result *res, long *to)
{
    *to = engine_resolve_target(&res->manifest, m->v[O_TO].s);
    if (*to < 0)
        return fail_module(m, EXIT_USAGE, "to %s: the bundle has no such migration", m->v[O_TO].s);
    return 0;
}

/* The bundle's manifest, read here only to resolve "to" (the applier verified it first). */
static int
load_manifest(struct mod *m, struct verify_result *res)
{
    struct sig_keyring ring;
    struct diag_err err = DIAG_ERR_INIT;
    struct verify_options vo;
    int ret = 0;

    sig_keyring_init(&ring);
    for (size_t i = 0; i < m->v[O_PUBKEYS].nlist && ret == 0; i++)
        if (sig_keyring_add_file(&ring, m->v[O_PUBKEYS].list[i], &err) != 0)
            ret = fail_module(m, EXIT_USAGE, "%s", err.msg);
    if (ret == 0) {
        vo = (struct verify_options){
            ring.keys,
            ring.n,
            m->v[O_THRESHOLD].set ? (unsigned)strtoul(m->v[O_THRESHOLD].s, NULL, 10) : 1,
            1,
            0,
            0,
            0,
            1};
        if (bundle_verify(m->v[O_BUNDLE].s, &vo, res, &err) != 0)
            ret = fail_module(m, err.io ? EXIT_USAGE : EXIT_REJECTED, "%s", err.msg);
    }
    sig_keyring_release(&ring);
    return ret;
}

static void
diff_text(struct buf *out, const char *revision, const struct jv *migs, long from, long to)
{
    buf_addf(out, "revision: %s\npending:", revision);
    if (to <= from)
        buf_addstr(out, " []");
    for (long i = from; i < to && migs && (size_t)i < migs->n; i++) {
        buf_addstr(out, "\n  - ");
        label_at(migs, i + 1, out);
    }
    buf_addch(out, '\n');
}

static void
res_diff(struct mod *m, const char *before, const char *after, const struct jv *migs, long total,
         long napplied_before, long napplied_after)
{
    struct buf b = BUF_INIT, a = BUF_INIT;

    diff_text(&b, before, migs, napplied_before, total);
    diff_text(&a, after, migs, napplied_after, total);
    res_key(m, "diff");
    buf_addch(&m->res, '{');
    json_key(&m->res, "before_header", 1);
    json_str(&m->res, "database (before)");
    json_key(&m->res, "after_header", 0);
    json_str(&m->res, "database (after)");
    json_key(&m->res, "before", 0);
    json_str(&m->res, b.data);
    json_key(&m->res, "after", 0);
    json_str(&m->res, a.data);
    buf_addch(&m->res, '}');
    buf_release(&b);
    buf_release(&a);
}

/* The apply or rollback command line: the target and the safety options given. */
static void
apply_argv(struct mod *m, struct argv_b *a, int rollback)
{
    static const struct {
        int opt;
        const char *flag;
    } valued[] = {
        {O_TO, "--to"},
        {O_LOCK_TIMEOUT, "--lock-timeout"},
        {O_STMT_LOCK_TIMEOUT, "--statement-lock-timeout"},
        {O_RETRIES, "--retries"},
        {O_STMT_TIMEOUT, "--statement-timeout"},
    };

    base_args(m, a, rollback ? "rollback" : "apply", 1);
    for (size_t i = 0; i < sizeof(valued) / sizeof(valued[0]); i++) {
        if (m->v[valued[i].opt].set) {
            arg(a, valued[i].flag);
            arg(a, m->v[valued[i].opt].s);
        }
    }
    if (m->v[O_PER_MIGRATION].b)
        arg(a, "--per-migration");
    for (size_t i = 0; i < m->v[O_EXTRA_ARGS].nlist; i++)
        arg(a, m->v[O_EXTRA_ARGS].list[i]);
}

/* Check mode: what would change (from..to migrations of the chain), nothing changed. */
static void
report_check(struct mod *m, const struct status_facts *f0, const struct run *h0,
             const struct jv *migs, long from, long to, int rollback)
{
    struct buf after = BUF_INIT;
    long n = labs(to - from);
    /* Status lists the repeatables an apply to the head runs: this one, when it goes there. */
    const struct jv *reps = jv_get(f0->doc, "pending_repeatables");
    int run_reps = !rollback && migs && to == (long)migs->n && reps && reps->type == JV_ARRAY;

    label_at(migs, to, &after);
    m->changed = to != from || (run_reps && reps->n > 0);
    res_str(m, "revision_after", after.data);
    res_jv(m, "pending", f0->pending);
    res_id_list(m, rollback ? "would_roll_back" : "would_apply", migs, rollback ? to : from,
                rollback ? from : to, rollback);
    if (run_reps)
        res_jv(m, "would_apply_repeatables", reps);
    else if (!rollback) {
        res_key(m, "would_apply_repeatables");
        buf_addstr(&m->res, "[]");
    }
    res_id_list(m, rollback ? "rolled_back" : "applied", migs, 0, 0, 0);
    res_jv(m, "journal_head", journal_head(h0));
    if (m->diff)
        res_diff(m, f0->head, after.data, migs, migs ? (long)migs->n : 0, f0->applied, to);
    if (run_reps && reps->n > 0)
        set_msg(m,
                "check mode: %ld migration%s and %zu repeatable%s would be applied; the "
                "database would be at %s",
                n, n == 1 ? "" : "s", reps->n, reps->n == 1 ? "" : "s", after.data);
    else
        set_msg(m, "check mode: %ld migration%s would be %s; the database would be at %s", n,
                n == 1 ? "" : "s", rollback ? "rolled back" : "applied", after.data);
    buf_release(&after);
}

/*
 * The run's outcome: on failure the applier's exit code, message and error object (its
 * "failed" event, or an "error" object of a newer applier); on success its last "info".
 */
static int
report_outcome(struct mod *m, const struct run *act, const char *head)
{
    const struct jv *failed = NULL;
    const char *last = NULL;

    for (size_t i = 0; i < act->nevents; i++) {
        const struct jv *e = act->events[i];
        const char *ev = jv_get_str(e, "event");

        if (jv_get(e, "error"))
            failed = jv_get(e, "error");
        else if (strcmp(ev, "failed") == 0)
            failed = e;
        else if (strcmp(ev, "info") == 0 && jv_get_str(e, "message"))
            last = jv_get_str(e, "message");
    }
    if (act->rc != 0) {
        res_jv(m, "error", failed);
        return fail_run(m, act);
    }
    m->rc = 0;
    set_msg(m, "%s", last ? last : head ? head : "done");
    return 0;
}

/* apply, or rollback with state=rolled_back. */
static int
do_apply(struct mod *m)
{
    struct run ver, st0, h0, act, st1, h1;
    struct argv_b a = {0};
    struct status_facts f0, f1;
    struct verify_result vres;
    const struct jv *migs;
    int rollback = m->v[O_STATE].set && strcmp(m->v[O_STATE].s, "rolled_back") == 0;
    long total, target, from, to;
    int ret = -1;

    verify_result_init(&vres);
    run_init(&ver, "verify");
    run_init(&st0, "status");
    run_init(&h0, "history");
    run_init(&act, rollback ? "rollback" : "apply");
    run_init(&st1, "status");
    run_init(&h1, "history");
    res_str(m, "state", rollback ? "rolled_back" : "applied");

    /* 1. The bundle, with no database: a tampered transfer stops here. */
    if (do_verify(m, &ver) != 0)
        goto done;
    migs = jv_get(ver.doc, "migrations");
    total = migs && migs->type == JV_ARRAY ? (long)migs->n : 0;

    /* 2. Where the database stands, and the journal's head before anything runs. */
    base_args(m, &a, "status", 1);
    run_applier(m, &a, &st0);
    argv_free(&a);
    memset(&a, 0, sizeof(a));
    status_facts(&st0, &f0);
    if (!f0.ok || (st0.rc != 0 && st0.rc != 7)) {
        fail_run(m, &st0);
        res_jv(m, "status", f0.doc);
        goto done;
    }
    history_run(m, &h0, 0);

    /* 3. The target, resolved as the applier resolves --to. */
    target = rollback ? 0 : total;
    if (m->v[O_TO].set) {
        if (load_manifest(m, &vres) != 0 || resolve_to(m, &vres, &target) != 0)
            goto done;
    }
    from = f0.applied;
    to = rollback ? (target < from ? target : from) : (target > from ? target : from);
    res_str(m, "revision_before", f0.head);

    /* 4. Check mode: say what would change, change nothing. */
    if (m->check_mode) {
        report_check(m, &f0, &h0, migs, from, to, rollback);
        ret = 0;
        goto done;
    }

    /* 5. The change itself, through the applier's events. */
    apply_argv(m, &a, rollback);
    run_applier(m, &a, &act);
    argv_free(&a);
    memset(&a, 0, sizeof(a));

    /* 6. Where the database stands now: the database, not the events, says what changed. */
    base_args(m, &a, "status", 1);
    run_applier(m, &a, &st1);
    argv_free(&a);
    status_facts(&st1, &f1);
    history_run(m, &h1, 0);
    if (f1.ok) {
        res_str(m, "revision_after", f1.head);
        res_jv(m, "pending", f1.pending);
        res_id_list(m, rollback ? "rolled_back" : "applied", migs,
                    rollback ? f1.applied : f0.applied, rollback ? f0.applied : f1.applied,
                    rollback);
    } else {
        res_str(m, "revision_after", NULL);
        res_jv(m, "pending", NULL);
        res_id_list(m, rollback ? "rolled_back" : "applied", migs, 0, 0, 0);
    }
    res_jv(m, "journal_head", journal_head(&h1));
    res_repeatables_run(m, "repeatables_applied", &h1,
                        journal_head(&h0) ? journal_seq(journal_head(&h0)) : 0);
    res_events(m, &act);
    /* Changed: the journal gained a row that records a change, or the revision moved. */
    m->changed = f1.ok && f1.applied != f0.applied;
    if (h1.doc && journal_head(&h1) &&
        journal_changes_after(&h1, journal_head(&h0) ? journal_seq(journal_head(&h0)) : 0) > 0)
        m->changed = 1;
    if (m->diff && f1.ok)
        res_diff(m, f0.head, f1.head, migs, total, f0.applied, f1.applied);
    ret = report_outcome(m, &act, f1.ok ? f1.head : NULL);
done:
    verify_result_release(&vres);
    run_release(&ver);
    run_release(&st0);
    run_release(&h0);
    run_release(&act);
    run_release(&st1);
    run_release(&h1);
    return ret;
}

int
ansible_module_is_args_file(const char *arg)
{
    struct stat st;
    FILE *f;
    int c;

    if (arg[0] == '-' || stat(arg, &st) != 0 || !S_ISREG(st.st_mode))
        return 0;
    f = fopen(arg, "r");
    if (f == NULL)
        return 0;
    while ((c = getc(f)) == ' ' || c == '\n' || c == '\t' || c == '\r')
        ;
    fclose(f);
    return c == '{';
}

int
ansible_module_main(const char *argv0, const char *args_path)
{
    struct mod m;
    struct jv *args = NULL;
    int code;

    memset(&m, 0, sizeof(m));
    buf_init(&m.res);
    buf_init(&m.msg);
    m.name = "sealift.migrate";
    if (read_args(&m, args_path, argv0, &args) == 0 && take_args(&m, args) == 0 &&
        find_applier(&m) == 0) {
        res_str(&m, "applier", m.applier);
        if (m.kind == MOD_VERIFY) {
            struct run ver;

            run_init(&ver, "verify");
            do_verify(&m, &ver);
            run_release(&ver);
        } else if (m.kind == MOD_STATUS) {
            do_status(&m);
        } else {
            do_apply(&m);
        }
    }
    if (m.kind)
        res_invocation(&m);
    code = finish(&m);
    jv_free(args);
    for (int k = 0; k < O_COUNT; k++) {
        free(m.v[k].s);
        for (size_t i = 0; i < m.v[k].nlist; i++)
            free(m.v[k].list[i]);
        free(m.v[k].list);
    }
    free(m.secrets[0]);
    free(m.secrets[1]);
    buf_release(&m.res);
    buf_release(&m.msg);
    return code;
}
