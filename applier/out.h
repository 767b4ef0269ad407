/*
 * out.h: what the applier tells its user while it works. Text lines on stdout (one per
 * migration, with a running count and its duration), or with --json one JSON object per event
 * on stdout, or nothing with -q. Errors always go to stderr through diag.
 */
#ifndef SEALIFT_APPLIER_OUT_H
#define SEALIFT_APPLIER_OUT_H

#include "sealift/buf.h"

#include <stddef.h>

struct out {
    int json;
    int quiet;
    int tty;      /* stdout is a terminal: progress lines are redrawn in place */
    size_t total; /* migrations this run will touch */
    size_t done;
    int live; /* a refreshing line is drawn on the terminal (out_live), not yet ended */
};

/*
 * A refreshing line: on a terminal, draw line in place of the last one (no newline); elsewhere
 * nothing. Every other line out.c prints erases it first, so it never garbles them.
 */
void out_live(struct out *o, const char *line);
/* Erase the refreshing line, if one is drawn (before printing elsewhere, e.g. on stderr). */
void out_live_end(struct out *o);

/* An informational line ("info" event in JSON). */
void out_info(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* One JSON event: fields is "key":value,... already formatted (may be empty). */
void out_event(struct out *o, const char *event, const char *fields);

/* A migration finished: verb ("applied", "rolled back", "stamped"), label, milliseconds. */
void out_migration(struct out *o, const char *verb, const char *id, const char *label, double ms);
/*
 * A migration reported as done (verb as for out_migration) was undone: the transaction it ran
 * in failed later and was rolled back. A "rolled_back" event in JSON.
 */
void out_undone(struct out *o, const char *verb, const char *id, const char *label);
/* A statement of a no-transaction migration finished. */
void out_statement(struct out *o, const char *id, size_t k, size_t n, double ms);

/* A COPY load in progress: bytes sent of total, lines so far (about the rows), seconds. */
void out_load_progress(struct out *o, const char *label, unsigned long long sent,
                       unsigned long long total, unsigned long long lines, double secs);
/* A COPY load finished: rows the server counted, bytes, milliseconds. */
void out_load_done(struct out *o, const char *label, unsigned long long rows,
                   unsigned long long bytes, double ms);

/*
 * The error that ends a run under --json, as one object on stdout (even with -q: it is an
 * error): {"event":"error","exit_code":N,"message":...,"detail":...,"hint":...}; detail and
 * hint may be NULL (null). The caller decides that --json is on (see app_exit()).
 */
void out_error(int exit_code, const char *message, const char *detail, const char *hint);

#endif
