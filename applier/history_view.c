/*
 * history_view.c: what "sealift-apply history" reads and shows: the projects and the journal,
 * as text or JSON Lines, and the verdict of --verify (journal, state tables, witness file).
 * Layer: applier.
 */
#include "history_view.h"
#include "witness.h"
#include "sealift/keystmt.h"
#include "sealift/json.h"
#include "sealift/table.h"

#include <stdio.h>
#include <string.h>

/* The text view shortens the bundle id to 12 digits; JSON has it whole. Times in UTC. */
#define EVENTS_SQL                                                                                 \
    "SELECT seq, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS\"Z\"'), event, project, "   \
    "migration_id, bundle_serial, left(bundle_id, 12), signers, environment, actor, "              \
    "client_host, detail, hash, to_char(at AT TIME ZONE 'UTC', "                                   \
    "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), "                                                          \
    "bundle_id, ordinal FROM %s.journal ORDER BY seq"

#define PROJECTS_SQL                                                                               \
    "SELECT p.project, p.environment, p.max_serial, (SELECT count(*) FROM %s.applied a WHERE "     \
    "a.project = p.project), (SELECT migration_id FROM %s.applied a WHERE a.project = "            \
    "p.project ORDER BY ordinal DESC LIMIT 1) FROM %s.projects p ORDER BY p.project"

void
history_view_text(struct db_rows *projects, struct db_rows *events)
{
    /* Today's widths are the minimums; a longer cell ("apply_repeatable") widens its column. */
    static const struct {
        const char *head;
        size_t min;
        enum table_align align;
    } cols[] = {{"seq", 5, TABLE_RIGHT},       {"at (UTC)", 20, TABLE_LEFT},
                {"event", 11, TABLE_LEFT},     {"migration", 24, TABLE_LEFT},
                {"serial", 6, TABLE_RIGHT},    {"bundle", 12, TABLE_LEFT},
                {"signed by", 17, TABLE_LEFT}, {"by", 0, TABLE_LEFT}};
    struct buf out = BUF_INIT;
    struct table t;

    for (size_t i = 0; i < db_nrows(projects); i++)
        printf("project %s: environment %s, highest serial %s, %s applied, at %s\n",
               db_value(projects, i, 0),
               db_value(projects, i, 1) ? db_value(projects, i, 1) : "(not bound)",
               db_value(projects, i, 2), db_value(projects, i, 3),
               db_value(projects, i, 4) ? db_value(projects, i, 4) : "base");
    table_init(&t, sizeof(cols) / sizeof(cols[0]), "");
    for (size_t c = 0; c < sizeof(cols) / sizeof(cols[0]); c++) {
        table_column(&t, c, cols[c].align, cols[c].min);
        table_cell(&t, "%s", cols[c].head);
    }
    for (size_t i = 0; i < db_nrows(events); i++) {
        const char *detail = db_value(events, i, 11);
        struct buf one = BUF_INIT;

        /* A key statement's detail is its whole text: its fields on the line, not its sigs. */
        if (detail && strncmp(detail, KEYSTMT_HEADER "\n", strlen(KEYSTMT_HEADER) + 1) == 0) {
            for (const char *p = detail + strlen(KEYSTMT_HEADER) + 1, *nl;
                 (nl = strchr(p, '\n')) != NULL && strncmp(p, "end\n", 4) != 0; p = nl + 1)
                buf_addf(&one, "%s%.*s", one.len ? ", " : "", (int)(nl - p), p);
            detail = one.data;
        }
        table_cell(&t, "%s", db_value(events, i, 0));
        table_cell(&t, "%s", db_value(events, i, 1));
        table_cell(&t, "%s", db_value(events, i, 2));
        for (int c = 4; c <= 7; c++)
            table_cell(&t, "%s", db_value(events, i, c) ? db_value(events, i, c) : "-");
        table_cell(&t, "%s@%s%s%s", db_value(events, i, 9),
                   db_value(events, i, 10) ? db_value(events, i, 10) : "?", detail ? "  " : "",
                   detail ? detail : "");
        buf_release(&one);
    }
    table_format(&t, &out);
    printf("\n%s", out.data);
    table_release(&t);
    buf_release(&out);
}

/*
 * JSON Lines: one object per row. A "project" object per project, an "event" object per
 * journal row (ISO 8601 UTC time, the whole bundle id), then with --verify a "verification"
 * object.
 */
void
history_view_json(struct db_rows *projects, struct db_rows *events, int verified,
                  const char *verdict)
{
    /* key, column of EVENTS_SQL, is a number */
    static const struct {
        const char *key;
        int col;
        int number;
    } keys[] = {{"seq", 0, 1},       {"at", 13, 0},         {"event", 2, 0},  {"project", 3, 0},
                {"migration", 4, 0}, {"ordinal", 15, 1},    {"serial", 5, 1}, {"bundle", 14, 0},
                {"signers", 7, 0},   {"environment", 8, 0}, {"actor", 9, 0},  {"host", 10, 0},
                {"detail", 11, 0},   {"hash", 12, 0}};
    struct buf b = BUF_INIT;

    for (size_t i = 0; i < db_nrows(projects); i++) {
        buf_addch(&b, '{');
        json_key(&b, "type", 1);
        json_str(&b, "project");
        json_key(&b, "project", 0);
        json_str(&b, db_value(projects, i, 0));
        json_key(&b, "environment", 0);
        json_str(&b, db_value(projects, i, 1));
        json_key(&b, "max_serial", 0);
        buf_addstr(&b, db_value(projects, i, 2));
        json_key(&b, "applied", 0);
        buf_addstr(&b, db_value(projects, i, 3));
        json_key(&b, "head", 0);
        json_str(&b, db_value(projects, i, 4));
        buf_addstr(&b, "}\n");
    }
    for (size_t i = 0; i < db_nrows(events); i++) {
        buf_addch(&b, '{');
        json_key(&b, "type", 1);
        json_str(&b, "event");
        for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
            const char *v = db_value(events, i, keys[k].col);

            json_key(&b, keys[k].key, 0);
            if (keys[k].number && v)
                buf_addstr(&b, v);
            else
                json_str(&b, v);
        }
        buf_addstr(&b, "}\n");
    }
    if (verified >= 0) {
        buf_addch(&b, '{');
        json_key(&b, "type", 1);
        json_str(&b, "verification");
        json_key(&b, "verified", 0);
        buf_addstr(&b, verified ? "true" : "false");
        json_key(&b, "verification", 0);
        json_str(&b, verdict);
        buf_addstr(&b, "}\n");
    }
    fputs(b.data, stdout);
    buf_release(&b);
}

/*
 * Check the witness file; its verdict goes on a line of its own after the journal's. Returns
 * 0 or 1 as witness_check, -2 when the file cannot be read (reported), -1 on a database error
 * (reported).
 */
static int
check_witness(struct db *db, const struct history_ctx *h, const char *path, struct buf *verdict,
              struct db_error *e)
{
    struct diag_err err = DIAG_ERR_INIT;
    struct buf w = BUF_INIT;
    int v = witness_check(db, h, path, &w, &err, e);

    if (v < 0)
        diag_error("could not check the witness: %s", err.msg[0] ? err.msg : e->message);
    else if (v == 1 && strncmp(verdict->data, "journal intact", 14) == 0)
        buf_reset(verdict); /* the witness's problems replace "intact" */
    if (v >= 0)
        buf_addf(verdict, "%s%s", verdict->len ? "\n" : "", w.data);
    buf_release(&w);
    return v < 0 ? (err.msg[0] ? -2 : -1) : v;
}

int
history_view_load(struct db *db, const struct history_ctx *h, struct db_rows **projects,
                  struct db_rows **events, struct db_error *e)
{
    struct buf sql = BUF_INIT;

    buf_addf(&sql, PROJECTS_SQL, h->qschema, h->qschema, h->qschema);
    *projects = db_query(db, sql.data, e);
    buf_reset(&sql);
    buf_addf(&sql, EVENTS_SQL, h->qschema);
    *events = *projects ? db_query(db, sql.data, e) : NULL;
    buf_release(&sql);
    return *events ? 0 : -1;
}

int
history_view_verify(struct db *db, const struct history_ctx *h, const char *witness,
                    struct buf *verdict, struct db_error *e)
{
    int v = journal_verify(db, h, verdict, e);

    if (v < 0) {
        diag_error("could not read the journal: %s", e->message);
        return -1;
    }
    if (witness) {
        int w = check_witness(db, h, witness, verdict, e);

        if (w < 0)
            return w;
        v = v || w == 1;
    }
    return v == 0;
}
