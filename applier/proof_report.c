/*
 * proof_report.c: the words of "sealift-apply test": report lines and JSON events for each
 * round trip and phase, the start and the result (see proof_report.h).
 * Layer: applier. Prints to stdout through out.c, and the final error through diag.
 */
#include "proof_report.h"
#include "common.h"
#include "engine.h"
#include "sealift/diag.h"
#include "sealift/json.h"
#include "sealift/xalloc.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Differences shown per failure on a terminal (JSON has them all). */
#define SHOW_DIFFS 20
/* Definitions longer than this are cut on a terminal. */
#define SHOW_DEF 160

/* ---- a failure ---- */

void
proof_failure_render(struct buf *b, const struct failure *f, int json)
{
    if (f == NULL)
        return;
    if (!json) {
        failure_text(f, b);
        return;
    }
    buf_addstr(b, ",\"error\":{");
    failure_json(f, b);
    buf_addch(b, '}');
}

/* ---- an outcome ---- */

void
proof_outcome_init(struct proof_outcome *oc)
{
    memset(oc, 0, sizeof(*oc));
    oc->result = "ok";
    buf_init(&oc->text);
}

void
proof_outcome_set(struct proof_outcome *oc, const char *result, const char *reason, const char *fmt,
                  ...)
{
    va_list ap;

    oc->result = result;
    oc->reason = reason;
    buf_reset(&oc->text);
    va_start(ap, fmt);
    buf_vaddf(&oc->text, fmt, ap);
    va_end(ap);
}

void
proof_outcome_release(struct proof_outcome *oc)
{
    buf_release(&oc->text);
}

/* ---- differences ---- */

/* One line of a definition: whitespace runs made one space, cut at max bytes (UTF-8 safe). */
static void
add_def(struct buf *b, const char *def, size_t max)
{
    size_t start = b->len;
    int space = 0;

    for (const char *p = def; *p; p++) {
        if (isspace((unsigned char)*p)) {
            space = 1;
            continue;
        }
        if (space && b->len > start)
            buf_addch(b, ' ');
        space = 0;
        if (b->len - start >= max && ((unsigned char)*p & 0xC0) != 0x80) {
            buf_addstr(b, "...");
            return;
        }
        buf_addch(b, *p);
    }
}

/* "added index public.x (CREATE INDEX ...)", "changed column public.t.c: was X; now Y". */
static void
diff_text(struct buf *b, const struct snapshot_diff_item *d)
{
    const struct snapshot_item *it = d->after ? d->after : d->before;

    buf_addf(b, "%s %s %s", snapshot_change_word(d->change), it->kind, it->name);
    if (d->change == SNAPSHOT_CHANGED) {
        buf_addstr(b, ": was \"");
        add_def(b, d->before->def, SHOW_DEF);
        buf_addstr(b, "\"; now \"");
        add_def(b, d->after->def, SHOW_DEF);
        buf_addch(b, '"');
    } else if (it->def[0]) {
        buf_addstr(b, " (");
        add_def(b, it->def, SHOW_DEF);
        buf_addch(b, ')');
    }
}

static void
diff_json(struct buf *f, const struct snapshot_diff *d)
{
    buf_addstr(f, ",\"differences\":");
    snapshot_diff_json(d, f);
}

static void
print_diffs(const struct snapshot_diff *d)
{
    struct buf line = BUF_INIT;

    for (size_t i = 0; d && i < d->n && i < SHOW_DIFFS; i++) {
        buf_reset(&line);
        diff_text(&line, &d->items[i]);
        printf("          %s\n", line.data);
    }
    if (d && d->n > SHOW_DIFFS)
        printf("          ... and %zu more (--json lists them all)\n", d->n - SHOW_DIFFS);
    buf_release(&line);
}

/* ---- the report ---- */

void
proof_report_init(struct proof_report *rep, const struct manifest *m, struct out *out)
{
    memset(rep, 0, sizeof(*rep));
    rep->m = m;
    rep->out = out;
    rep->verdict = xcalloc(m->nmigrations + 1, 1);
    buf_init(&rep->failed);
    buf_init(&rep->irreversible);
    buf_init(&rep->irreversible_json);
    buf_init(&rep->first);
    buf_init(&rep->first_reason);
    buf_init(&rep->first_details);
}

void
proof_report_release(struct proof_report *rep)
{
    buf_release(&rep->failed);
    buf_release(&rep->irreversible);
    buf_release(&rep->irreversible_json);
    buf_release(&rep->first);
    buf_release(&rep->first_reason);
    buf_release(&rep->first_details);
    free(rep->verdict);
    rep->verdict = NULL;
}

/* Remember the first failure, for the last line and the exit status. */
static void
note_failure(struct proof_report *rep, const char *what, const struct proof_outcome *oc)
{
    if (rep->first.len)
        return;
    buf_addstr(&rep->first, what);
    buf_addstr(&rep->first_reason, oc->text.data);
    for (size_t i = 0; oc->diff && i < oc->diff->n && i < SHOW_DIFFS; i++) {
        diff_text(&rep->first_details, &oc->diff->items[i]);
        buf_addch(&rep->first_details, '\n');
    }
}

void
proof_report_irreversible(struct proof_report *rep, size_t k)
{
    buf_addf(&rep->irreversible, "%s%s", rep->irreversible.len ? ", " : "",
             engine_label(rep->m, k + 1).s);
    buf_addf(&rep->irreversible_json, "%s", rep->irreversible_json.len ? "," : "");
    json_str(&rep->irreversible_json, rep->m->migrations[k].id);
}

void
proof_report_migration(struct proof_report *rep, size_t k, const struct proof_outcome *oc)
{
    const struct manifest_migration *mig = &rep->m->migrations[k];
    struct engine_label label_buf;
    const char *label = engine_label_into(rep->m, k + 1, &label_buf);
    size_t n = rep->m->nmigrations;
    int failed = strcmp(oc->result, "failed") == 0;

    rep->verdict[k] = oc->result[0];
    if (failed) {
        rep->nfailed++;
        buf_addf(&rep->failed, "%s", rep->failed.len ? "," : "");
        json_str(&rep->failed, mig->id);
        note_failure(rep, label, oc);
    } else if (strcmp(oc->result, "ok") == 0) {
        rep->nok++;
    }
    if (rep->out->quiet)
        return;
    if (rep->out->json) {
        struct buf f = BUF_INIT;

        json_key(&f, "migration", 1);
        json_str(&f, mig->id);
        json_key(&f, "label", 0);
        json_str(&f, label);
        buf_addf(&f, ",\"ordinal\":%zu,\"total\":%zu", k + 1, n);
        json_key(&f, "result", 0);
        json_str(&f, oc->result);
        json_key(&f, "reason", 0);
        json_str(&f, oc->reason);
        json_key(&f, "message", 0);
        json_str(&f, oc->text.len ? oc->text.data : NULL);
        buf_addf(&f, ",\"up_ms\":%.3f,\"down_ms\":%.3f,\"up_again_ms\":%.3f", oc->up_ms,
                 oc->down_ms, oc->again_ms);
        diff_json(&f, oc->diff);
        proof_failure_render(&f, oc->fail, 1);
        out_event(rep->out, "round_trip", f.data);
        buf_release(&f);
        return;
    }
    if (strcmp(oc->result, "ok") == 0)
        printf("[%*zu/%zu] ok    %s (up %.1f ms, down %.1f ms, up again %.1f ms)\n",
               n >= 1000 ? 5 : 3, k + 1, n, label, oc->up_ms, oc->down_ms, oc->again_ms);
    else
        printf("[%*zu/%zu] %-5s %s: %s\n", n >= 1000 ? 5 : 3, k + 1, n, failed ? "FAIL" : "skip",
               label, oc->text.data);
    print_diffs(oc->diff);
    fflush(stdout);
}

void
proof_report_phase(struct proof_report *rep, const char *phase, const char *title,
                   const struct proof_outcome *oc, double ms)
{
    int failed = strcmp(oc->result, "failed") == 0;

    if (failed) {
        struct buf what = BUF_INIT;

        /* Name the migration when one failed: "002_x (head to base)". */
        if (oc->fail && oc->fail->idx < rep->m->nmigrations)
            buf_addf(&what, "%s (%s)", engine_label(rep->m, oc->fail->idx + 1).s, title);
        else
            buf_addstr(&what, title);
        rep->phase_failed = 1;
        note_failure(rep, what.data, oc);
        buf_release(&what);
    }
    if (rep->out->quiet)
        return;
    if (rep->out->json) {
        struct buf f = BUF_INIT;

        json_key(&f, "phase", 1);
        json_str(&f, phase);
        json_key(&f, "result", 0);
        json_str(&f, oc->result);
        json_key(&f, "reason", 0);
        json_str(&f, oc->reason);
        json_key(&f, "message", 0);
        json_str(&f, oc->text.data);
        buf_addf(&f, ",\"duration_ms\":%.3f", ms);
        diff_json(&f, oc->diff);
        proof_failure_render(&f, oc->fail, 1);
        out_event(rep->out, "phase", f.data);
        buf_release(&f);
        return;
    }
    printf("%-5s %s: %s\n",
           failed                          ? "FAIL"
           : strcmp(oc->result, "ok") == 0 ? "ok"
                                           : "skip",
           title, oc->text.data);
    print_diffs(oc->diff);
    fflush(stdout);
}

void
proof_report_start(struct proof_report *rep, const char *database, int throwaway,
                   const char *server_version, const char *dir)
{
    const struct manifest *m = rep->m;

    if (rep->out->json) {
        struct buf f = BUF_INIT;

        json_key(&f, "project", 1);
        json_str(&f, m->project);
        buf_addf(&f, ",\"serial\":%llu,\"migrations\":%zu", (unsigned long long)m->serial,
                 m->nmigrations);
        json_key(&f, "database", 0);
        json_str(&f, database);
        json_key(&f, "throwaway", 0);
        buf_addstr(&f, throwaway ? "true" : "false");
        json_key(&f, "server_version", 0);
        json_str(&f, server_version);
        out_event(rep->out, "test_start", f.data);
        buf_release(&f);
    } else if (throwaway) {
        out_info(rep->out,
                 "testing %zu migrations of \"%s\" on a throwaway PostgreSQL %s in %s (removed "
                 "at the end)",
                 m->nmigrations, m->project, server_version, dir);
    } else {
        out_info(rep->out, "testing %zu migrations of \"%s\" on %s (PostgreSQL %s)", m->nmigrations,
                 m->project, database, server_version);
    }
}

int
proof_report_end(struct proof_report *rep, double ms)
{
    size_t n = rep->m->nmigrations;
    int passed = !rep->first.len;

    if (rep->out->json) {
        struct buf f = BUF_INIT;

        json_key(&f, "result", 1);
        json_str(&f, passed ? "passed" : "failed");
        buf_addf(&f, ",\"migrations\":%zu,\"round_trip_ok\":%zu,\"round_trip_failed\":%zu", n,
                 rep->nok, rep->nfailed);
        buf_addf(&f, ",\"failed\":[%s],\"irreversible\":[%s]", rep->failed.data,
                 rep->irreversible_json.data);
        json_key(&f, "first_failure", 0);
        json_str(&f, passed ? NULL : rep->first.data);
        json_key(&f, "reason", 0);
        json_str(&f, passed ? NULL : rep->first_reason.data);
        buf_addf(&f, ",\"duration_ms\":%.3f", ms);
        out_event(rep->out, "test_result", f.data);
        buf_release(&f);
    } else if (passed) {
        out_info(rep->out,
                 "test passed: %zu of %zu migrations round-trip, and the chain goes down and up "
                 "again%s%s (%.1f s)",
                 rep->nok, n, rep->irreversible.len ? "; irreversible, skipped: " : "",
                 rep->irreversible.data, ms / 1000);
    } else {
        struct buf what = BUF_INIT;

        if (rep->nfailed)
            buf_addf(&what, "%zu of %zu migrations do not round-trip%s", rep->nfailed, n,
                     rep->phase_failed ? ", and the whole chain does not go down and up again"
                                       : "");
        else
            buf_addf(&what,
                     "%zu of %zu migrations round-trip, but the whole chain does not go "
                     "down and up again",
                     rep->nok, n);
        out_info(rep->out, "test FAILED: %s; first failure: %s (%.1f s)", what.data,
                 rep->first.data, ms / 1000);
        buf_release(&what);
    }
    if (passed)
        return EXIT_OK;
    diag_error("test failed: %s: %s", rep->first.data, rep->first_reason.data);
    for (const char *p = rep->first_details.data; *p;) {
        const char *nl = strchr(p, '\n');
        int len = nl ? (int)(nl - p) : (int)strlen(p);

        diag_detail("%.*s", len, p);
        p += len + (nl ? 1 : 0);
    }
    return EXIT_REJECTED;
}
