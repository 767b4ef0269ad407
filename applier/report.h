/*
 * report.h: "sealift-apply report": the auditor's report of one database, as one self-contained
 * HTML file (report_html.c) and its JSON twin (report_json.c, schema in docs/report.md), both
 * written from one model that report_collect.c reads (database, journal and its verdict,
 * state tables, and the bundles given, verified first).
 *
 * Everything in the model comes from the database or a bundle and is untrusted text: the
 * writers escape every byte of it for their format.
 */
#ifndef SEALIFT_APPLIER_REPORT_H
#define SEALIFT_APPLIER_REPORT_H

#include "common.h"
#include "engine.h"
#include "journal.h"

#include <stdio.h>

/* The version of the JSON twin's schema (docs/report.md); bumped on an incompatible change. */
#define REPORT_FORMAT_VERSION 1

/* A bundle given on the command line, verified, and held against its project's history. */
struct report_bundle {
    const char *path;
    struct verify_result res;
    struct script_src *scripts; /* res's scripts, all of them kept in memory */
    char id[65];
    struct db_state state;   /* the history of the bundle's project */
    struct engine_view view; /* drift of that history against the bundle (engine.h) */
};

/* A key id the journal names as a signer, and how many events it signed. */
struct report_signer {
    char *keyid;
    size_t verified;   /* events whose bundle it signed, verified with a trusted key */
    size_t unverified; /* events whose bundle it signed, not verified there */
};

struct report {
    const struct app_opts *o;
    struct db_rows *server; /* database, user, server version, time (UTC, ISO 8601) */
    int schema_exists;
    int intact;         /* history --verify's answer: 1 intact, 0 not; -1: no history to verify */
    struct buf verdict; /* its text: one line per problem, or "journal intact ..." */
    struct journal_pos head;        /* where the journal ends */
    struct db_rows *meta;           /* key, value */
    struct db_rows *projects;       /* as history_view_load reads them */
    struct db_rows *events;         /* as history_view_load reads them, in seq order */
    const char **event_duration_ms; /* per event: its applied row's duration, or NULL */
    struct db_rows *durations;      /* seq, duration_ms (storage of event_duration_ms) */
    struct db_rows *applied;        /* REPORT_APPLIED_SQL's columns, by project and ordinal */
    /*
     * The keys the journal names as signers, in the order it first names them. (Key state a
     * database records beyond that, such as rotations and revocations, belongs here too once
     * the journal records it: read it in report_collect's step 3, inside the snapshot, and
     * write it in the trust section of both writers, docs/report.md "trust".)
     */
    struct report_signer *signers;
    size_t nsigners;
    struct report_bundle *bundles;
    size_t nbundles;
};

/* Columns of report->applied. */
enum report_applied_col {
    RA_PROJECT,
    RA_ORDINAL,
    RA_ID,
    RA_NAME,
    RA_UP_SOURCE,
    RA_DOWN_SOURCE,
    RA_UP_SHA,
    RA_CHAIN,
    RA_BUNDLE,
    RA_SERIAL,
    RA_SIGNERS,
    RA_ENVIRONMENT,
    RA_HOW,
    RA_AT,
    RA_BY,
    RA_HOST,
    RA_DURATION,
};

/* Columns of report->events: those of history_view_load's EVENTS_SQL. */
enum report_event_col {
    RE_SEQ = 0,
    RE_EVENT = 2,
    RE_PROJECT = 3,
    RE_MIGRATION = 4,
    RE_SERIAL = 5,
    RE_SIGNERS = 7,
    RE_ENVIRONMENT = 8,
    RE_ACTOR = 9,
    RE_HOST = 10,
    RE_DETAIL = 11,
    RE_HASH = 12,
    RE_AT = 13,
    RE_BUNDLE = 14,
    RE_ORDINAL = 15,
};

void report_init(struct report *r, const struct app_opts *o);
void report_release(struct report *r);

/*
 * Verify each bundle (before connecting: nothing unverified is ever shown), then read the
 * database: the journal's verdict (history --verify's own check, with o->witness), the state
 * tables, and each bundle's drift. Prints its errors; returns the exit code (0: r is filled).
 */
int report_collect(struct report *r, char **bundle_paths, size_t nbundles);

/* The rows of a result the report may not have read (no history): 0 for NULL. */
size_t report_rows(const struct db_rows *rows);

/* The value of key in the history's meta table, or NULL. */
const char *report_meta(const struct report *r, const char *key);

/* The key ids of a journal row's signers text ("ID,ID (not verified here: ID,...)"): calls
 * cb for each with verified 1 or 0. */
typedef void (*report_signer_cb)(void *data, const char *keyid, size_t len, int verified);
void report_each_signer(const char *signers, report_signer_cb cb, void *data);

/* The bundle's migration idx: 1 if the engine named it as drifted. */
int report_migration_drifted(const struct report_bundle *b, size_t idx);

/* Write the report as HTML or JSON to f. */
void report_html(const struct report *r, FILE *f);
void report_json(const struct report *r, FILE *f);

#endif
