/*
 * db.c: connection, queries, errors, advisory lock and cancellation, over libpq.
 * Layer: applier. The only file that includes libpq-fe.h.
 */
#include "db.h"
#include "sealift/buf.h"
#include "sealift/xalloc.h"

#include <errno.h>
#include <libpq-fe.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

struct db {
    PGconn *conn;
    char describe[512];
    char prepared[8][64]; /* names of the statements prepared on this connection */
    /* db_set_wait_cb: called while an answer is awaited */
    db_wait_cb wait_cb;
    void *wait_data;
    long wait_first_ms;
    long wait_interval_ms;
    int armed;      /* armed_cancel is this connection's (db_arm_cancel) */
    char *deferred; /* statements sent ahead of the next query (db_defer) */
};

struct db_rows {
    PGresult *res;
};

/* The cancel object for the signal handler; set before any long statement runs. */
static PGcancel *volatile armed_cancel;

static void
quiet_notice_cb(void *arg, const char *message)
{
    (void)arg;
    (void)message; /* NOTICEs from migrations (IF NOT EXISTS, ...) are not ours to print */
}

static void
copy_field(char *dst, size_t cap, const char *src)
{
    size_t n;

    if (src == NULL) {
        dst[0] = '\0';
        return;
    }
    n = strlen(src);
    while (n > 0 && (src[n - 1] == '\n' || src[n - 1] == ' '))
        n--;
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
    /* libpq's messages may span lines ("\n\tIs the server running..."); keep ours one line. */
    {
        char *w = dst;

        for (const char *p = dst; *p; p++) {
            char c = (*p == '\n' || *p == '\t') ? ' ' : *p;

            if (c == ' ' && w > dst && w[-1] == ' ')
                continue;
            *w++ = c;
        }
        *w = '\0';
    }
}

/*
 * As copy_field, for a server's DETAIL, HINT and CONTEXT: those may have several lines on
 * purpose (a RAISE ... DETAIL E'a\nb', a PL/pgSQL call stack), which the printer indents.
 */
static void
copy_lines(char *dst, size_t cap, const char *src)
{
    size_t n = src ? strlen(src) : 0;

    while (n > 0 && (src[n - 1] == '\n' || src[n - 1] == ' '))
        n--;
    if (n >= cap)
        n = cap - 1;
    if (n)
        memcpy(dst, src, n);
    dst[n] = '\0';
}

void
db_error_from_message(struct db_error *e, const char *msg)
{
    memset(e, 0, sizeof(*e));
    copy_field(e->message, sizeof(e->message), msg);
}

/*
 * libpq's errors for a malformed URI quote the URI, or the piece of it that it could not
 * decode, and so may show the URI's password ("postgresql://USER:PASSWORD@..."). Returns msg
 * with every occurrence of that password masked (a new string).
 */
static char *
redact_uri_password(const char *msg, const char *conninfo)
{
    const char *p = conninfo ? strstr(conninfo, "://") : NULL;
    const char *colon, *pw;
    struct buf out = BUF_INIT;
    size_t seg, pwlen;

    if (p == NULL)
        return xstrdup(msg);
    p += 3;
    seg = strcspn(p, "@/"); /* as libpq: the user info ends at the first '@' */
    colon = p[seg] == '@' ? memchr(p, ':', seg) : NULL;
    if (colon == NULL || colon + 1 == p + seg)
        return xstrdup(msg);
    pw = colon + 1;
    pwlen = (size_t)(p + seg - pw);
    for (const char *m = msg; *m;) {
        if (strncmp(m, pw, pwlen) == 0) {
            buf_addstr(&out, "****");
            m += pwlen;
        } else {
            buf_addch(&out, *m++);
        }
    }
    return buf_detach(&out, NULL);
}

/*
 * A syntax error in a keyword=value conninfo quotes the token libpq stumbled on, which may be
 * a piece of the password ("password=two words": missing "=" after "words"). When the string
 * names a password, mask every quoted token of such a message (but the "=" it asks for).
 */
static char *
redact_conninfo_syntax(char *msg, const char *conninfo)
{
    struct buf out = BUF_INIT;
    const char *m = msg;

    if (conninfo == NULL || strstr(conninfo, "://") || !strstr(msg, "connection info string"))
        return msg;
    for (const char *p = conninfo; *p; p++)
        if (strncasecmp(p, "password", 8) == 0)
            break;
        else if (p[1] == '\0')
            return msg;
    while (*m) {
        const char *close = *m == '"' ? strchr(m + 1, '"') : NULL;

        if (close) {
            /* "=" is what libpq asks for, not a piece of the string. */
            buf_addstr(&out, close == m + 2 && m[1] == '=' ? "\"=\"" : "\"****\"");
            m = close + 1;
        } else {
            buf_addch(&out, *m++);
        }
    }
    free(msg);
    return buf_detach(&out, NULL);
}

/* Start a connection to conninfo (else DATABASE_URL), with a password when one is given. */
static PGconn *
open_conn(const char *conninfo, const char *password)
{
    const char *keywords[4];
    const char *values[4];
    int n = 0;

    if (conninfo && *conninfo) {
        keywords[n] = "dbname"; /* expanded: a conninfo string or a URI */
        values[n++] = conninfo;
    }
    /* After dbname, so that it overrides a password the string may hold (as psql does). */
    if (password) {
        keywords[n] = "password";
        values[n++] = password;
    }
    keywords[n] = "fallback_application_name";
    values[n++] = "sealift-apply";
    keywords[n] = NULL;
    values[n] = NULL;
    return PQconnectdbParams(keywords, values, 1);
}

/* The user a connection to conninfo would log in as, before connecting (for -W's prompt). */
static void
user_of(const char *conninfo, char *user, size_t cap)
{
    PQconninfoOption *opts = PQconninfoParse(conninfo && *conninfo ? conninfo : "", NULL);
    PQconninfoOption *defaults = PQconndefaults();
    const char *name = NULL;

    for (PQconninfoOption *o = opts; o && o->keyword && !name; o++)
        if (strcmp(o->keyword, "user") == 0 && o->val && *o->val)
            name = o->val;
    for (PQconninfoOption *o = defaults; o && o->keyword && !name; o++)
        if (strcmp(o->keyword, "user") == 0 && o->val && *o->val)
            name = o->val;
    snprintf(user, cap, "%s", name ? name : "");
    PQconninfoFree(opts);
    PQconninfoFree(defaults);
}

/* Overwrite a password, in a way the compiler may not drop as a dead store. */
static void
wipe(char *s, size_t n)
{
    volatile char *v = s;

    while (n--)
        *v++ = '\0';
}

struct db *
db_connect_ask(const char *conninfo, int always, db_ask_password_cb ask, struct diag_err *err)
{
    char password[DB_PASSWORD_MAX];
    char user[256];
    int have = 0;
    struct db *db;
    const char *host;

    if (conninfo == NULL || *conninfo == '\0')
        conninfo = getenv("DATABASE_URL");
    db = xcalloc(1, sizeof(*db));
    /* -W: ask first, as psql does, and connect once. */
    if (always && ask) {
        user_of(conninfo, user, sizeof(user));
        have = ask(user, password, sizeof(password)) == 0;
    }
    db->conn = open_conn(conninfo, have ? password : NULL);
    /*
     * The server wants a password and none came from the string, PGPASSWORD or pgpass: ask
     * once, then connect again with it (psql's loop, without its retries).
     */
    if (!have && ask && db->conn && PQstatus(db->conn) == CONNECTION_BAD &&
        PQconnectionNeedsPassword(db->conn)) {
        snprintf(user, sizeof(user), "%s", PQuser(db->conn) ? PQuser(db->conn) : "");
        if (ask(user, password, sizeof(password)) == 0) {
            have = 1;
            PQfinish(db->conn);
            db->conn = open_conn(conninfo, password);
        }
    }
    if (have)
        wipe(password, sizeof(password));
    if (db->conn == NULL || PQstatus(db->conn) != CONNECTION_OK) {
        char msg[1024];
        /* Connection failures never show the password; URI syntax errors might. */
        char *safe = redact_conninfo_syntax(
            redact_uri_password(db->conn ? PQerrorMessage(db->conn)
                                         : "out of memory creating connection",
                                conninfo),
            conninfo);

        copy_field(msg, sizeof(msg), safe);
        free(safe);
        err_set(err, "could not connect to the database: %s", msg);
        db_close(db);
        return NULL;
    }
    PQsetNoticeProcessor(db->conn, quiet_notice_cb, NULL);
    host = PQhost(db->conn);
    snprintf(db->describe, sizeof(db->describe), "%s@%s:%s/%s", PQuser(db->conn),
             host && *host ? host : "localhost", PQport(db->conn), PQdb(db->conn));
    return db;
}

struct db *
db_connect(const char *conninfo, struct diag_err *err)
{
    return db_connect_ask(conninfo, 0, NULL, err);
}

void
db_close(struct db *db)
{
    if (db == NULL)
        return;
    /* A second connection (db_connect_twin) leaves the first one's cancel armed. */
    if (armed_cancel && db->armed) {
        PGcancel *c = armed_cancel;

        armed_cancel = NULL;
        PQfreeCancel(c);
    }
    if (db->conn)
        PQfinish(db->conn);
    free(db->deferred);
    free(db);
}

void
db_defer(struct db *db, const char *sql)
{
    free(db->deferred);
    db->deferred = xstrdup(sql);
}

/*
 * What db_defer left, sent on its own: for the calls that cannot carry it in their message.
 * Kept for the next call if it fails (the server undid it with its transaction).
 */
static int
send_deferred(struct db *db, struct db_error *e)
{
    char *sql = db->deferred;
    int ret;

    if (sql == NULL)
        return 0;
    db->deferred = NULL;
    ret = db_exec(db, sql, e);
    if (ret != 0)
        db->deferred = sql;
    else
        free(sql);
    return ret;
}

const char *
db_describe(const struct db *db)
{
    return db->describe;
}

int
db_server_version(const struct db *db)
{
    return PQserverVersion(db->conn);
}

static void
fill_error(struct db *db, PGresult *res, struct db_error *e)
{
    const char *pos;

    if (e == NULL)
        return;
    memset(e, 0, sizeof(*e));
    if (res == NULL) {
        copy_field(e->message, sizeof(e->message), PQerrorMessage(db->conn));
    } else {
        copy_field(e->sqlstate, sizeof(e->sqlstate), PQresultErrorField(res, PG_DIAG_SQLSTATE));
        copy_field(e->message, sizeof(e->message),
                   PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY));
        if (e->message[0] == '\0')
            copy_field(e->message, sizeof(e->message), PQresultErrorMessage(res));
        copy_lines(e->detail, sizeof(e->detail), PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL));
        copy_lines(e->hint, sizeof(e->hint), PQresultErrorField(res, PG_DIAG_MESSAGE_HINT));
        copy_lines(e->context, sizeof(e->context), PQresultErrorField(res, PG_DIAG_CONTEXT));
        pos = PQresultErrorField(res, PG_DIAG_STATEMENT_POSITION);
        e->position = pos ? atoi(pos) : 0;
    }
    if (e->message[0] == '\0')
        copy_field(e->message, sizeof(e->message), PQerrorMessage(db->conn));
    e->connection_lost = PQstatus(db->conn) != CONNECTION_OK;
    e->cancelled = strcmp(e->sqlstate, "57014") == 0;
    if (e->connection_lost && e->message[0] == '\0')
        snprintf(e->message, sizeof(e->message), "connection to the server was lost");
}

static long
elapsed_ms(const struct timespec *since)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return (now.tv_sec - since->tv_sec) * 1000 + (now.tv_nsec - since->tv_nsec) / 1000000;
}

/*
 * Wait until PQgetResult would not block, calling the wait callback on schedule; sent is when
 * the statements went out. Without a callback, PQgetResult itself waits. Errors (a lost
 * connection) are left for PQgetResult to report.
 */
static void
await_result(struct db *db, const struct timespec *sent)
{
    long next;

    if (db->wait_cb == NULL)
        return;
    next = db->wait_first_ms;
    while (PQisBusy(db->conn)) {
        struct pollfd pfd = {PQsocket(db->conn), POLLIN, 0};
        long waited = elapsed_ms(sent);
        int n;

        if (pfd.fd < 0)
            return;
        if (waited >= next) {
            db->wait_cb(db->wait_data, waited);
            while (next <= elapsed_ms(sent))
                next += db->wait_interval_ms;
            continue;
        }
        n = poll(&pfd, 1, (int)(next - waited));
        if (n < 0 && errno != EINTR)
            return;
        if (n > 0 && !PQconsumeInput(db->conn))
            return;
    }
}

void
db_set_wait_cb(struct db *db, db_wait_cb cb, void *data, long first_ms, long interval_ms)
{
    db->wait_cb = cb;
    db->wait_data = data;
    db->wait_first_ms = first_ms > 0 ? first_ms : 1;
    db->wait_interval_ms = interval_ms > 0 ? interval_ms : 1000;
}

int
db_backend_pid(const struct db *db)
{
    return PQbackendPID(db->conn);
}

struct db *
db_connect_twin(const struct db *db, const char *application, struct diag_err *err)
{
    PQconninfoOption *opts = PQconninfo(db->conn);
    const char **keywords, **values;
    struct db *twin;
    size_t n = 0, k = 0;

    if (opts == NULL) {
        err_set(err, "could not read the connection's parameters: out of memory");
        return NULL;
    }
    while (opts[n].keyword)
        n++;
    keywords = xcalloc(n + 2, sizeof(*keywords));
    values = xcalloc(n + 2, sizeof(*values));
    for (size_t i = 0; i < n; i++) {
        if (opts[i].val == NULL || strcmp(opts[i].keyword, "application_name") == 0)
            continue;
        keywords[k] = opts[i].keyword;
        values[k++] = opts[i].val;
    }
    keywords[k] = "application_name";
    values[k++] = application;
    twin = xcalloc(1, sizeof(*twin));
    twin->conn = PQconnectdbParams(keywords, values, 0);
    free(keywords);
    free(values);
    PQconninfoFree(opts);
    if (twin->conn == NULL || PQstatus(twin->conn) != CONNECTION_OK) {
        char msg[1024];

        copy_field(msg, sizeof(msg),
                   twin->conn ? PQerrorMessage(twin->conn) : "out of memory creating connection");
        err_set(err, "could not open a second connection: %s", msg);
        if (twin->conn)
            PQfinish(twin->conn);
        free(twin);
        return NULL;
    }
    PQsetNoticeProcessor(twin->conn, quiet_notice_cb, NULL);
    snprintf(twin->describe, sizeof(twin->describe), "%s", db->describe);
    return twin;
}

int
db_exec(struct db *db, const char *sql, struct db_error *e)
{
    PGresult *res;
    struct timespec sent;
    int failed = 0;

    if (send_deferred(db, e) != 0)
        return -1;
    if (!PQsendQuery(db->conn, sql)) {
        fill_error(db, NULL, e);
        return -1;
    }
    clock_gettime(CLOCK_MONOTONIC, &sent);
    await_result(db, &sent);
    /* Read every result: the first error wins, the rest are drained. */
    while ((res = PQgetResult(db->conn)) != NULL) {
        ExecStatusType st = PQresultStatus(res);

        if (!failed && st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK && st != PGRES_EMPTY_QUERY) {
            if (st == PGRES_COPY_IN || st == PGRES_COPY_OUT || st == PGRES_COPY_BOTH) {
                /* No COPY through db_exec: end it so the connection stays usable. */
                if (st == PGRES_COPY_IN)
                    PQputCopyEnd(db->conn, "COPY is not supported here");
                if (e) {
                    db_error_from_message(e, "COPY statements are not supported in this "
                                             "version of sealift-apply");
                }
            } else {
                fill_error(db, res, e);
            }
            failed = 1;
        }
        PQclear(res);
        if (PQstatus(db->conn) != CONNECTION_OK) {
            if (!failed)
                fill_error(db, NULL, e);
            failed = 1;
            break;
        }
        await_result(db, &sent);
    }
    if (failed && e)
        e->connection_lost = PQstatus(db->conn) != CONNECTION_OK;
    return failed ? -1 : 0;
}

/* Statements per pipeline sync: keeps both sides' socket buffers from filling up. */
#define PIPELINE_CHUNK 256

/* Read the results of one pipeline chunk up to its sync; remember the first failure. */
static void
read_chunk(struct db *db, const struct db_stmt *stmts, size_t first, size_t n, size_t *failed,
           int *bad, struct db_error *e, const struct timespec *sent)
{
    size_t i = 0;
    PGresult *res;

    for (;;) {
        await_result(db, sent);
        res = PQgetResult(db->conn);
        if (res == NULL) {
            if (PQstatus(db->conn) != CONNECTION_OK) {
                if (!*bad) {
                    fill_error(db, NULL, e);
                    *failed = first + (i < n ? i : n - 1);
                    *bad = 1;
                }
                return;
            }
            i++; /* the end of one statement's results */
            continue;
        }
        switch (PQresultStatus(res)) {
        case PGRES_PIPELINE_SYNC:
            PQclear(res);
            return;
        case PGRES_TUPLES_OK:
            if (i < n && stmts[first + i].rows && *stmts[first + i].rows == NULL) {
                /* The caller keeps this result: it is not cleared here. */
                *stmts[first + i].rows = xmalloc(sizeof(struct db_rows));
                (*stmts[first + i].rows)->res = res;
                continue;
            }
            break;
        case PGRES_COMMAND_OK:
        case PGRES_EMPTY_QUERY:
        case PGRES_PIPELINE_ABORTED:
            break;
        default:
            if (!*bad) {
                fill_error(db, res, e);
                *failed = first + i;
                *bad = 1;
            }
            break;
        }
        PQclear(res);
    }
}

int
db_exec_pipeline(struct db *db, const struct db_stmt *stmts, size_t n, size_t *failed,
                 struct db_error *e)
{
    struct timespec sent_at;
    int bad = 0;

    if (send_deferred(db, e) != 0) {
        *failed = 0;
        return -1;
    }
    if (n == 0)
        return 0;
    if (!PQenterPipelineMode(db->conn)) {
        fill_error(db, NULL, e);
        *failed = 0;
        return -1;
    }
    for (size_t first = 0; first < n && !bad; first += PIPELINE_CHUNK) {
        size_t count = n - first < PIPELINE_CHUNK ? n - first : PIPELINE_CHUNK;

        for (size_t i = 0; i < count; i++) {
            const struct db_stmt *st = &stmts[first + i];
            int sent = st->prepared
                           ? PQsendQueryPrepared(db->conn, st->prepared, st->nparams, st->params,
                                                 NULL, NULL, 0)
                           : PQsendQueryParams(db->conn, st->sql, 0, NULL, NULL, NULL, NULL, 0);

            if (!sent) {
                fill_error(db, NULL, e);
                *failed = first + i;
                bad = 1;
                break;
            }
        }
        if (!PQpipelineSync(db->conn)) {
            if (!bad) {
                fill_error(db, NULL, e);
                *failed = first;
            }
            bad = 1;
        }
        clock_gettime(CLOCK_MONOTONIC, &sent_at);
        read_chunk(db, stmts, first, count, failed, &bad, e, &sent_at);
    }
    PQexitPipelineMode(db->conn);
    if (bad && e)
        e->connection_lost = PQstatus(db->conn) != CONNECTION_OK;
    return bad ? -1 : 0;
}

int
db_exec_statements(struct db *db, const char *const *stmts, size_t n, size_t *failed,
                   struct db_error *e)
{
    struct db_stmt *st = xcalloc(n ? n : 1, sizeof(*st));
    int ret;

    for (size_t i = 0; i < n; i++)
        st[i].sql = stmts[i];
    ret = db_exec_pipeline(db, st, n, failed, e);
    free(st);
    return ret;
}

int
db_prepare(struct db *db, const char *name, const char *sql, struct db_error *e)
{
    size_t slots = sizeof(db->prepared) / sizeof(db->prepared[0]), free_slot = slots;
    PGresult *res;
    int ok;

    for (size_t i = 0; i < slots; i++) {
        if (strcmp(db->prepared[i], name) == 0)
            return 1;
        if (db->prepared[i][0] == '\0' && free_slot == slots)
            free_slot = i;
    }
    if (free_slot == slots || strlen(name) >= sizeof(db->prepared[0])) {
        db_error_from_message(e, "too many prepared statements");
        return 0;
    }
    if (send_deferred(db, e) != 0)
        return 0;
    res = PQprepare(db->conn, name, sql, 0, NULL);
    ok = res && PQresultStatus(res) == PGRES_COMMAND_OK;
    if (!ok)
        fill_error(db, res, e);
    else
        snprintf(db->prepared[free_slot], sizeof(db->prepared[0]), "%s", name);
    PQclear(res);
    return ok;
}

/*
 * Bytes handed to libpq per PQputCopyData call, and the Unix socket send buffer asked for at a
 * COPY (it stays; it costs memory only while data waits in it). Both keep the server fed: the
 * backend parses rows as fast as they come and waits whenever the socket is empty. A 1 GiB CSV
 * load from a data member, against psql's \copy of the same file, alternated on a cluster on
 * tmpfs: with 256 KiB chunks and the default buffer (212,992 bytes) the backend sat idle
 * (wall minus its CPU) 2.7-3.5 s a run, 1.4 s of it during verification; with 64 KiB chunks
 * and 4 MiB, 1.1-1.5 s, so the rest was gone (psql's: 0.1-0.3 s). 64 KiB alone: 1.2-1.8 s.
 * The kernel caps the buffer at net.core.wmem_max, and a refusal changes nothing else.
 */
#define COPY_CHUNK  (64 * 1024)
#define COPY_SNDBUF (4 * 1024 * 1024)

/*
 * A Unix socket's send buffer: COPY_SNDBUF, where the kernel allows it (a refusal changes
 * nothing else). Not a TCP socket's: setting it there would turn off the kernel's own sizing,
 * which grows the buffer to what the path to a distant server needs.
 */
static void
copy_socket_buffer(int fd)
{
    struct sockaddr_storage addr;
    socklen_t len = sizeof(addr);
    int size = COPY_SNDBUF;

    if (getsockname(fd, (struct sockaddr *)&addr, &len) == 0 && addr.ss_family == AF_UNIX)
        (void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
}

int
db_copy_in(struct db *db, const char *stmt, db_copy_source_cb src, void *src_data,
           unsigned long long *rows, struct diag_err *source_err, struct db_error *e)
{
    PGresult *res;
    char *chunk;
    int failed = 0, aborted = 0;

    memset(e, 0, sizeof(*e));
    *rows = 0;
    if (send_deferred(db, e) != 0)
        return -1;
    res = PQexec(db->conn, stmt);
    if (res == NULL || PQresultStatus(res) != PGRES_COPY_IN) {
        if (res && PQresultStatus(res) == PGRES_COMMAND_OK)
            db_error_from_message(e, "statement is not a COPY ... FROM STDIN");
        else
            fill_error(db, res, e);
        PQclear(res);
        return -1;
    }
    PQclear(res);
    copy_socket_buffer(PQsocket(db->conn));
    chunk = xmalloc(COPY_CHUNK);
    for (;;) {
        ssize_t n = src(src_data, chunk, COPY_CHUNK, source_err);

        if (n < 0) {
            /* The server fails the COPY with this message; the transaction is then aborted. */
            PQputCopyEnd(db->conn, "sealift-apply stopped the COPY: its data failed a check");
            aborted = 1;
            break;
        }
        if (n == 0) {
            if (PQputCopyEnd(db->conn, NULL) != 1)
                failed = 1;
            break;
        }
        if (PQputCopyData(db->conn, chunk, (int)n) != 1) {
            failed = 1;
            break;
        }
    }
    free(chunk);
    while ((res = PQgetResult(db->conn)) != NULL) {
        if (PQresultStatus(res) == PGRES_COMMAND_OK) {
            *rows = strtoull(PQcmdTuples(res), NULL, 10);
        } else if (!failed || !e->message[0]) {
            fill_error(db, res, e);
            failed = 1;
        }
        PQclear(res);
        if (PQstatus(db->conn) != CONNECTION_OK)
            break;
    }
    if (failed && PQstatus(db->conn) != CONNECTION_OK && e->message[0] == '\0')
        fill_error(db, NULL, e);
    return failed || aborted ? -1 : 0;
}

struct db_rows *
db_query(struct db *db, const char *sql, struct db_error *e)
{
    PGresult *res;
    struct db_rows *r;

    /*
     * What db_defer left goes in the same message, ahead of the query: PQexec returns the
     * last statement's result, or the first failure's. On a failure the server undid the
     * deferred statements with the rest of the message, so they are kept for the next call.
     */
    if (db->deferred) {
        char *both = xasprintf("%s; %s", db->deferred, sql);

        res = PQexec(db->conn, both);
        free(both);
        if (res && PQresultStatus(res) == PGRES_TUPLES_OK) {
            free(db->deferred);
            db->deferred = NULL;
        }
    } else {
        res = PQexec(db->conn, sql);
    }
    if (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK) {
        fill_error(db, res, e);
        PQclear(res);
        return NULL;
    }
    r = xmalloc(sizeof(*r));
    r->res = res;
    return r;
}

int
db_query_each(struct db *db, const char *sql, db_row_cb row, void *data, struct db_error *e)
{
    PGresult *res;
    int ret = 0;

    if (send_deferred(db, e) != 0)
        return -1;
    if (!PQsendQuery(db->conn, sql) || !PQsetSingleRowMode(db->conn)) {
        fill_error(db, NULL, e);
        while ((res = PQgetResult(db->conn)) != NULL)
            PQclear(res);
        return -1;
    }
    /* Read every result, even after a failure or a stop, so the connection is ready again. */
    while ((res = PQgetResult(db->conn)) != NULL) {
        ExecStatusType st = PQresultStatus(res);

        if (ret == 0 && st == PGRES_SINGLE_TUPLE) {
            struct db_rows one = {res};

            ret = row(data, &one);
        } else if (ret == 0 && st != PGRES_TUPLES_OK) {
            fill_error(db, res, e);
            ret = -1;
        }
        PQclear(res);
    }
    return ret;
}

int
db_query_batch(struct db *db, const char *sql, struct db_rows **out, size_t n, struct db_error *e)
{
    PGresult *res;
    size_t got = 0;
    int failed = 0;

    if (send_deferred(db, e) != 0)
        return -1;
    if (!PQsendQuery(db->conn, sql)) {
        fill_error(db, NULL, e);
        return -1;
    }
    /* Read every result, even after a failure, so the connection is ready for the next. */
    while ((res = PQgetResult(db->conn)) != NULL) {
        if (!failed && (PQresultStatus(res) != PGRES_TUPLES_OK || got == n)) {
            fill_error(db, res, e);
            failed = 1;
        }
        if (failed) {
            PQclear(res);
            continue;
        }
        out[got] = xmalloc(sizeof(*out[got]));
        out[got++]->res = res;
    }
    if (!failed && got != n) {
        fill_error(db, NULL, e);
        if (e)
            snprintf(e->message, sizeof(e->message), "expected %zu results, the server sent %zu", n,
                     got);
        failed = 1;
    }
    if (failed) {
        while (got > 0)
            db_rows_free(out[--got]);
        return -1;
    }
    return 0;
}

size_t
db_nrows(const struct db_rows *r)
{
    return (size_t)PQntuples(r->res);
}

const char *
db_value(const struct db_rows *r, size_t row, int col)
{
    if (PQgetisnull(r->res, (int)row, col))
        return NULL;
    return PQgetvalue(r->res, (int)row, col);
}

void
db_rows_free(struct db_rows *r)
{
    if (r == NULL)
        return;
    PQclear(r->res);
    free(r);
}

/*
 * Quoting is done here rather than with PQescapeLiteral so that plan output (which has no
 * connection to escape with) is quoted the same way. Requires standard_conforming_strings,
 * which every sealift session and plan script sets.
 */
void
db_add_literal(struct buf *out, const char *s)
{
    char *q;

    if (s == NULL) {
        buf_addstr(out, "NULL");
        return;
    }
    q = db_quote_literal(s);
    buf_addstr(out, q);
    free(q);
}

void
db_add_copy_field(struct buf *out, const char *s)
{
    if (s == NULL) {
        buf_addstr(out, "\\N");
        return;
    }
    for (; *s; s++) {
        switch (*s) {
        case '\\':
            buf_addstr(out, "\\\\");
            break;
        case '\t':
            buf_addstr(out, "\\t");
            break;
        case '\n':
            buf_addstr(out, "\\n");
            break;
        case '\r':
            buf_addstr(out, "\\r");
            break;
        default:
            buf_addch(out, *s);
        }
    }
}

char *
db_quote_literal(const char *s)
{
    size_t n = 2;
    char *out, *p;

    for (const char *q = s; *q; q++)
        n += *q == '\'' ? 2 : 1;
    out = xmalloc(n + 1);
    p = out;
    *p++ = '\'';
    for (const char *q = s; *q; q++) {
        if (*q == '\'')
            *p++ = '\'';
        *p++ = *q;
    }
    *p++ = '\'';
    *p = '\0';
    return out;
}

char *
db_quote_ident(const char *s)
{
    size_t n = 2;
    char *out, *p;

    for (const char *q = s; *q; q++)
        n += *q == '"' ? 2 : 1;
    out = xmalloc(n + 1);
    p = out;
    *p++ = '"';
    for (const char *q = s; *q; q++) {
        if (*q == '"')
            *p++ = '"';
        *p++ = *q;
    }
    *p++ = '"';
    *p = '\0';
    return out;
}

int
db_lock(struct db *db, int k1, int k2, long timeout_ms, struct db_error *e)
{
    char sql[128];
    struct timespec start, now, pause = {0, 100 * 1000 * 1000};

    snprintf(sql, sizeof(sql), "SELECT pg_try_advisory_lock(%d, %d)", k1, k2);
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (;;) {
        struct db_rows *r = db_query(db, sql, e);
        int got;
        long elapsed;

        if (r == NULL)
            return -1;
        got = db_value(r, 0, 0) && strcmp(db_value(r, 0, 0), "t") == 0;
        db_rows_free(r);
        if (got)
            return 1;
        clock_gettime(CLOCK_MONOTONIC, &now);
        elapsed = (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
        if (elapsed >= timeout_ms)
            return 0;
        nanosleep(&pause, NULL);
    }
}

int
db_unlock(struct db *db, int k1, int k2)
{
    char sql[128];

    snprintf(sql, sizeof(sql), "SELECT pg_advisory_unlock(%d, %d)", k1, k2);
    return db_exec(db, sql, NULL);
}

void
db_arm_cancel(struct db *db)
{
    if (armed_cancel == NULL) {
        armed_cancel = PQgetCancel(db->conn);
        db->armed = 1;
    }
}

void
db_cancel(void)
{
    char errbuf[256];
    PGcancel *c = armed_cancel;

    if (c)
        PQcancel(c, errbuf, sizeof(errbuf));
}
