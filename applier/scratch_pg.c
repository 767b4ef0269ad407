/*
 * scratch_pg.c: a throwaway PostgreSQL server in a temporary directory (see scratch_pg.h).
 * Layer: applier. Runs the host's initdb and postgres as child processes, as the "postgres"
 * user when we are root (initdb refuses root), the way tests/lib/pg.bash does in shell.
 */
#define _XOPEN_SOURCE 700 /* nftw */

#include "scratch_pg.h"
#include "db.h"
#include "sealift/diag.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <glob.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/*
 * The server listens on a Unix socket in its own private directory and on no TCP address, so
 * no other server can be in the way: the port only names the socket file.
 */
#define SCRATCH_PORT "5432"

/* The server being run, for the atexit hook (any exit() between start and stop). */
static struct scratch_pg *active;

static void
sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

    nanosleep(&ts, NULL);
}

static int
is_exec(const char *dir, const char *name)
{
    char path[PATH_MAX];

    if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path))
        return 0;
    return access(path, X_OK) == 0;
}

static int
set_bindir(struct scratch_pg *pg, const char *dir)
{
    if (dir == NULL || *dir == '\0' || strlen(dir) >= sizeof(pg->bindir) ||
        !is_exec(dir, "initdb") || !is_exec(dir, "postgres"))
        return 0;
    strcpy(pg->bindir, dir);
    return 1;
}

static int
from_pg_config(struct scratch_pg *pg)
{
    char line[PATH_MAX];
    FILE *p = popen("pg_config --bindir 2>/dev/null", "r");
    int ok = 0;

    if (p == NULL)
        return 0;
    if (fgets(line, sizeof(line), p)) {
        line[strcspn(line, "\n")] = '\0';
        ok = set_bindir(pg, line);
    }
    pclose(p);
    return ok;
}

static int
from_path(struct scratch_pg *pg)
{
    const char *p = getenv("PATH");

    while (p && *p) {
        size_t n = strcspn(p, ":");
        char dir[PATH_MAX];

        if (n > 0 && n < sizeof(dir)) {
            memcpy(dir, p, n);
            dir[n] = '\0';
            if (set_bindir(pg, dir))
                return 1;
        }
        p += n;
        if (*p == ':')
            p++;
    }
    return 0;
}

/* The highest version among directories matching pattern (the version starts at vpos). */
static int
newest(struct scratch_pg *pg, const char *pattern, size_t vpos)
{
    glob_t g;
    double best = -1;
    size_t besti = 0;
    int ok;

    if (glob(pattern, 0, NULL, &g) != 0)
        return 0;
    for (size_t i = 0; i < g.gl_pathc; i++) {
        double v = strlen(g.gl_pathv[i]) > vpos ? strtod(g.gl_pathv[i] + vpos, NULL) : 0;

        if (v > best && is_exec(g.gl_pathv[i], "initdb") && is_exec(g.gl_pathv[i], "postgres")) {
            best = v;
            besti = i;
        }
    }
    ok = best >= 0 && set_bindir(pg, g.gl_pathv[besti]);
    globfree(&g);
    return ok;
}

static int
find_bindir(struct scratch_pg *pg)
{
    const char *env = getenv("SEALIFT_PG_BINDIR");

    if (env && *env) {
        if (set_bindir(pg, env))
            return 0;
        diag_error("SEALIFT_PG_BINDIR is \"%s\", but it has no initdb and postgres", env);
        return 2;
    }
    if (from_pg_config(pg) || from_path(pg) || newest(pg, "/usr/lib/postgresql/*/bin", 20) ||
        newest(pg, "/usr/pgsql-*/bin", 11) || set_bindir(pg, "/usr/local/pgsql/bin"))
        return 0;
    diag_error("no database was given, and there are no PostgreSQL server binaries here to "
               "start a throwaway one");
    diag_detail("looked for initdb and postgres in SEALIFT_PG_BINDIR, pg_config --bindir, PATH, "
                "/usr/lib/postgresql/*/bin, /usr/pgsql-*/bin and /usr/local/pgsql/bin");
    diag_hint("give a scratch database with -d (see --help for the safety rule), or install the "
              "PostgreSQL server (Debian: apt-get install postgresql), or set "
              "SEALIFT_PG_BINDIR");
    return 2;
}

/* Every directory on the way to path can be entered by uid (TMPDIR may be root's own). */
static int
reachable(const char *path, uid_t uid)
{
    char p[PATH_MAX];
    struct stat st;
    char *slash;

    if (snprintf(p, sizeof(p), "%s", path) >= (int)sizeof(p))
        return 0;
    for (;;) {
        if (stat(p, &st) != 0 || !S_ISDIR(st.st_mode))
            return 0;
        if (!(st.st_mode & S_IXOTH) && st.st_uid != uid)
            return 0;
        slash = strrchr(p, '/');
        if (slash == NULL || slash == p)
            return 1;
        *slash = '\0';
    }
}

/*
 * TMPDIR if the server's user can reach it and the socket path fits (107 bytes on Linux),
 * else /tmp.
 */
static const char *
tmp_base(const struct scratch_pg *pg)
{
    const char *t = getenv("TMPDIR");

    if (t == NULL || t[0] != '/' || strlen(t) > 64)
        return "/tmp";
    if (pg->drop && !reachable(t, pg->uid))
        return "/tmp";
    return t;
}

static int
rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

static void
remove_tree(const char *dir)
{
    nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Wait until pid is gone (reaped, if it is our child). Returns 1 when gone. */
static int
wait_gone(pid_t pid, int our_child, long ms)
{
    for (long waited = 0; waited <= ms; waited += 20) {
        if (our_child) {
            pid_t r = waitpid(pid, NULL, WNOHANG);

            if (r == pid || (r < 0 && errno == ECHILD))
                return 1;
        } else if (kill(pid, 0) != 0 && errno == ESRCH) {
            return 1;
        }
        sleep_ms(20);
    }
    return 0;
}

static pid_t
read_postmaster_pid(const char *dir)
{
    char path[PATH_MAX];
    FILE *f;
    long pid = 0;

    snprintf(path, sizeof(path), "%s/data/postmaster.pid", dir);
    f = fopen(path, "r");
    if (f == NULL)
        return 0;
    if (fscanf(f, "%ld", &pid) != 1)
        pid = 0;
    fclose(f);
    return (pid_t)pid;
}

/*
 * The watchdog: waits on the pipe. "D" means we cleaned up ourselves; end of file without it
 * means we died (kill -9, a crash): the server has had its parent-death signal; wait for it to
 * go and remove the directory. In a session of its own and deaf to the usual signals, so that
 * Ctrl-C or a kill of our process group does not take it with us.
 */
static _Noreturn void
watchdog(int rfd, const char *dir)
{
    char c = 0;
    ssize_t n;
    pid_t pm;

    setsid();
    signal(SIGINT, SIG_IGN);
    signal(SIGTERM, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    signal(SIGQUIT, SIG_IGN);
    /* Hold nothing of ours open (a test harness waits for its pipes to close). */
    for (int fd = 0; fd < 1024; fd++)
        if (fd != rfd)
            close(fd);
    do
        n = read(rfd, &c, 1);
    while (n < 0 && errno == EINTR);
    if (n == 1 && c == 'D')
        _exit(0);
    pm = read_postmaster_pid(dir);
    if (pm > 0 && kill(pm, SIGQUIT) == 0 && !wait_gone(pm, 0, 10000)) {
        kill(pm, SIGKILL);
        wait_gone(pm, 0, 5000);
    }
    remove_tree(dir);
    _exit(0);
}

static int
start_watchdog(struct scratch_pg *pg)
{
    int fds[2];
    pid_t pid;

    if (pipe(fds) != 0)
        return -1;
    /* Only we hold the write end: no child we exec may inherit it. */
    fcntl(fds[1], F_SETFD, FD_CLOEXEC);
    fcntl(fds[0], F_SETFD, FD_CLOEXEC);
    pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        return -1;
    }
    if (pid == 0) {
        close(fds[1]);
        watchdog(fds[0], pg->dir);
    }
    close(fds[0]);
    pg->watchdog = pid;
    pg->watch_fd = fds[1];
    return 0;
}

/* In a child about to exec a server binary: its user, its death with us, its log. */
static void
child_setup(const struct scratch_pg *pg, pid_t parent, int deathsig, const char *log)
{
    int fd;

    signal(SIGPIPE, SIG_DFL);
    if (pg->drop && (setgroups(0, NULL) != 0 || setgid(pg->gid) != 0 || setuid(pg->uid) != 0))
        _exit(126);
    /* Set after setuid, which clears it. */
    prctl(PR_SET_PDEATHSIG, deathsig);
    if (getppid() != parent || chdir(pg->dir) != 0)
        _exit(126);
    fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (fd >= 0) {
        dup2(fd, STDOUT_FILENO);
        dup2(fd, STDERR_FILENO);
        if (fd > STDERR_FILENO)
            close(fd);
    }
    fd = open("/dev/null", O_RDONLY);
    if (fd >= 0 && fd != STDIN_FILENO) {
        dup2(fd, STDIN_FILENO);
        close(fd);
    }
}

/* The last lines of a log, as detail lines. */
static void
show_log(const char *path)
{
    char buf[4096];
    FILE *f = fopen(path, "r");
    size_t n;
    long size;
    char *line, *save = NULL;

    if (f == NULL)
        return;
    fseek(f, 0, SEEK_END);
    size = ftell(f);
    fseek(f, size > (long)sizeof(buf) - 1 ? size - (long)sizeof(buf) + 1 : 0, SEEK_SET);
    n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    diag_detail("the last lines of %s:", path);
    for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
        diag_detail("  %s", line);
}

/* Wait for a child, polling so that a signal (stop) is noticed at once. */
static int
wait_child(pid_t pid, const volatile sig_atomic_t *stop, int *status)
{
    for (;;) {
        pid_t r = waitpid(pid, status, WNOHANG);

        if (r == pid)
            return 0;
        if (r < 0 && errno != EINTR)
            return -1;
        if (*stop) {
            kill(pid, SIGKILL);
            waitpid(pid, status, 0);
            return 1;
        }
        sleep_ms(10);
    }
}

static int
run_initdb(struct scratch_pg *pg, const volatile sig_atomic_t *stop)
{
    char exe[PATH_MAX + 16], data[PATH_MAX + 16], log[PATH_MAX + 16];
    char *argv[] = {exe,     "-D", data,   "-U",          "postgres",  "-A",
                    "trust", "-E", "UTF8", "--no-locale", "--no-sync", NULL};
    pid_t parent = getpid(), pid;
    int status = 0, r;

    snprintf(exe, sizeof(exe), "%s/initdb", pg->bindir);
    snprintf(data, sizeof(data), "%s/data", pg->dir);
    snprintf(log, sizeof(log), "%s/initdb.log", pg->dir);
    pid = fork();
    if (pid < 0) {
        diag_error("could not start %s: %s", exe, strerror(errno));
        return 2;
    }
    if (pid == 0) {
        child_setup(pg, parent, SIGKILL, log);
        execv(exe, argv);
        _exit(127);
    }
    r = wait_child(pid, stop, &status);
    if (r == 1)
        return 4;
    if (r != 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        diag_error("could not create the throwaway cluster: %s failed (%s %d)", exe,
                   WIFSIGNALED(status) ? "signal" : "exit status",
                   WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
        show_log(log);
        return 2;
    }
    return 0;
}

/* Append value to a conninfo string, quoted. */
static void
conninfo_add(char *out, size_t cap, const char *key, const char *value)
{
    size_t n = strlen(out);

    n += (size_t)snprintf(out + n, n < cap ? cap - n : 0, "%s%s='", n ? " " : "", key);
    for (const char *p = value; *p && n + 3 < cap; p++) {
        if (*p == '\'' || *p == '\\')
            out[n++] = '\\';
        out[n++] = *p;
    }
    if (n + 1 < cap) {
        out[n++] = '\'';
        out[n] = '\0';
    }
}

static int
start_server(struct scratch_pg *pg, const volatile sig_atomic_t *stop)
{
    char exe[PATH_MAX + 16], data[PATH_MAX + 16], log[PATH_MAX + 16], sock[PATH_MAX + 32];
    char *argv[] = {exe,
                    "-D",
                    data,
                    "-k",
                    pg->dir,
                    "-p",
                    SCRATCH_PORT,
                    "-c",
                    "listen_addresses=",
                    "-c",
                    "fsync=off",
                    "-c",
                    "synchronous_commit=off",
                    "-c",
                    "full_page_writes=off",
                    NULL};
    pid_t parent = getpid(), pid;
    struct stat st;

    snprintf(exe, sizeof(exe), "%s/postgres", pg->bindir);
    snprintf(data, sizeof(data), "%s/data", pg->dir);
    snprintf(log, sizeof(log), "%s/server.log", pg->dir);
    snprintf(sock, sizeof(sock), "%s/.s.PGSQL." SCRATCH_PORT, pg->dir);
    pid = fork();
    if (pid < 0) {
        diag_error("could not start %s: %s", exe, strerror(errno));
        return 2;
    }
    if (pid == 0) {
        /* Its own session: a Ctrl-C meant for us must not shut it down under us. */
        setsid();
        child_setup(pg, parent, SIGQUIT, log);
        execv(exe, argv);
        _exit(127);
    }
    pg->postmaster = pid;
    pg->conninfo[0] = '\0';
    conninfo_add(pg->conninfo, sizeof(pg->conninfo), "host", pg->dir);
    conninfo_add(pg->conninfo, sizeof(pg->conninfo), "port", SCRATCH_PORT);
    conninfo_add(pg->conninfo, sizeof(pg->conninfo), "user", "postgres");
    conninfo_add(pg->conninfo, sizeof(pg->conninfo), "dbname", "postgres");
    conninfo_add(pg->conninfo, sizeof(pg->conninfo), "sslmode", "disable");
    conninfo_add(pg->conninfo, sizeof(pg->conninfo), "gssencmode", "disable");
    for (long waited = 0; waited < 60000; waited += 20) {
        int status;

        if (*stop)
            return 4;
        if (waitpid(pid, &status, WNOHANG) == pid) {
            pg->postmaster = 0;
            diag_error("the throwaway PostgreSQL server stopped while starting (%s %d)",
                       WIFSIGNALED(status) ? "signal" : "exit status",
                       WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
            show_log(log);
            return 2;
        }
        if (stat(sock, &st) == 0) {
            struct diag_err err = DIAG_ERR_INIT;
            struct db *db = db_connect(pg->conninfo, &err);

            if (db) {
                db_close(db);
                return 0;
            }
        }
        sleep_ms(20);
    }
    diag_error("the throwaway PostgreSQL server did not accept connections within 60 s");
    show_log(log);
    return 2;
}

static void
stop_at_exit(void)
{
    if (active)
        scratch_pg_stop(active);
}

int
scratch_pg_start(struct scratch_pg *pg, const volatile sig_atomic_t *stop)
{
    static int hooked;
    int code;

    memset(pg, 0, sizeof(*pg));
    pg->watch_fd = -1;
    if ((code = find_bindir(pg)) != 0)
        return code;
    if (geteuid() == 0) {
        struct passwd *pw = getpwnam("postgres");

        if (pw == NULL) {
            diag_error("running as root, and there is no \"postgres\" user to run the throwaway "
                       "PostgreSQL server as (initdb refuses to run as root)");
            diag_hint("create the user, run as another user, or give a scratch database with -d");
            return 2;
        }
        pg->drop = 1;
        pg->uid = pw->pw_uid;
        pg->gid = pw->pw_gid;
    }
    snprintf(pg->dir, sizeof(pg->dir), "%s/sealift-test.XXXXXX", tmp_base(pg));
    if (mkdtemp(pg->dir) == NULL) {
        diag_error("could not create a temporary directory \"%s\": %s", pg->dir, strerror(errno));
        pg->dir[0] = '\0';
        return 2;
    }
    if (pg->drop && chown(pg->dir, pg->uid, pg->gid) != 0) {
        diag_error("could not give \"%s\" to the postgres user: %s", pg->dir, strerror(errno));
        scratch_pg_stop(pg);
        return 2;
    }
    if (start_watchdog(pg) != 0) {
        diag_error("could not start a process to clean up after the server: %s", strerror(errno));
        scratch_pg_stop(pg);
        return 2;
    }
    active = pg;
    if (!hooked) {
        atexit(stop_at_exit);
        hooked = 1;
    }
    if ((code = run_initdb(pg, stop)) != 0 || (code = start_server(pg, stop)) != 0) {
        scratch_pg_stop(pg);
        return code;
    }
    return 0;
}

void
scratch_pg_stop(struct scratch_pg *pg)
{
    if (pg->postmaster > 0) {
        /* Immediate shutdown: nothing in it is worth a checkpoint. */
        kill(pg->postmaster, SIGQUIT);
        if (!wait_gone(pg->postmaster, 1, 10000)) {
            kill(pg->postmaster, SIGKILL);
            wait_gone(pg->postmaster, 1, 5000);
        }
        pg->postmaster = 0;
    }
    if (pg->dir[0]) {
        remove_tree(pg->dir);
        pg->dir[0] = '\0';
    }
    if (pg->watchdog > 0) {
        ssize_t w = write(pg->watch_fd, "D", 1);

        (void)w;
        close(pg->watch_fd);
        pg->watch_fd = -1;
        while (waitpid(pg->watchdog, NULL, 0) < 0 && errno == EINTR)
            ;
        pg->watchdog = 0;
    }
    if (active == pg)
        active = NULL;
}
