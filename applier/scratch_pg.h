/*
 * scratch_pg.h: a throwaway PostgreSQL server for "sealift-apply test" when no database is
 * given: the host's own server binaries (initdb, postgres), a private temporary directory,
 * a Unix socket in it and no TCP, and nothing left behind on any exit path. Used by
 * cmd_test.c only; no other command starts a server.
 *
 * How it is cleaned up, whatever happens:
 *   - scratch_pg_stop() (normal end, errors, SIGINT/SIGTERM handled by the caller, and an
 *     atexit hook for any exit() in between) stops the server and removes the directory;
 *   - the server is our child with a parent-death signal (SIGQUIT, PostgreSQL's immediate
 *     shutdown), so it stops if we are killed outright;
 *   - a watchdog process, which holds the read end of a pipe only we write to, removes the
 *     directory when that pipe closes without a word from us (kill -9, a crash).
 */
#ifndef SEALIFT_APPLIER_SCRATCH_PG_H
#define SEALIFT_APPLIER_SCRATCH_PG_H

#include <limits.h>
#include <signal.h>
#include <sys/types.h>

struct scratch_pg {
    char bindir[PATH_MAX];
    char dir[PATH_MAX]; /* the temporary directory: data/, logs, the socket; "" if none */
    char conninfo[PATH_MAX + 64];
    pid_t postmaster; /* 0 when not running */
    pid_t watchdog;   /* 0 when none */
    int watch_fd;     /* our end of the watchdog's pipe, -1 when none */
    int drop;         /* run the server binaries as uid/gid (we are root) */
    uid_t uid;
    gid_t gid;
};

/*
 * Start one: find the binaries (SEALIFT_PG_BINDIR if set, else pg_config --bindir, initdb on
 * PATH, /usr/lib/postgresql/N/bin, /usr/pgsql-N/bin, /usr/local/pgsql/bin), initdb, start,
 * wait until it accepts connections. stop: set by the caller's signal handler; the start
 * gives up when it becomes non-zero. Prints its own errors. Returns 0, 2 (no server binaries,
 * no "postgres" user to run them as root, initdb or the server failed) or 4 (interrupted);
 * on failure everything already made is removed.
 */
int scratch_pg_start(struct scratch_pg *pg, const volatile sig_atomic_t *stop);

/* Stop the server and remove the directory. Safe to call twice, and on a failed start. */
void scratch_pg_stop(struct scratch_pg *pg);

#endif
