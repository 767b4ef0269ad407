/*
 * drift_report.c: the text, JSON and summary of a schema drift comparison (see
 * drift_report.h).
 * Layer: applier. Pure: formats into buffers.
 */
#include "drift_report.h"
#include "sealift/json.h"

#include <string.h>

const char *
drift_state_word(enum drift_state s)
{
    switch (s) {
    case DRIFT_NO_FINGERPRINT:
        return "no_fingerprint";
    case DRIFT_NONE:
        return "none";
    case DRIFT_FOUND:
        return "drift";
    case DRIFT_STALE:
        return "stale";
    default:
        return "changed";
    }
}

int
drift_found(const struct drift_result *r)
{
    return r->state == DRIFT_FOUND || r->state == DRIFT_HASH_ONLY;
}

/* "LABEL TEXT" with TEXT's later lines indented under its first. */
static void
add_def(struct buf *out, const char *label, const char *def)
{
    buf_addf(out, "           %s ", label);
    for (const char *p = def; *p; p++) {
        buf_addch(out, *p);
        if (*p == '\n' && p[1])
            buf_addstr(out, "                ");
    }
    if (!*def)
        buf_addstr(out, "(empty)");
    if (out->data[out->len - 1] != '\n')
        buf_addch(out, '\n');
}

static void
add_heading(const struct drift_result *r, struct buf *out)
{
    const struct drift_fingerprint *fp = &r->fp;

    buf_addf(out, "the last fingerprint (%s, journal row %lld, %s, project %s, %ld objects)",
             fp->event, fp->journal_seq, fp->at, fp->project, fp->objects);
}

void
drift_text(const struct drift_result *r, struct buf *out)
{
    switch (r->state) {
    case DRIFT_NO_FINGERPRINT:
        buf_addstr(out, "schema drift: no fingerprint recorded yet (the history predates them); "
                        "the next apply, rollback or stamp records one\n");
        return;
    case DRIFT_STALE:
        if (r->fp.later_moves > 0)
            buf_addf(out,
                     "schema drift: not compared: the journal has %ld move%s after the last "
                     "fingerprint (journal row %lld) that recorded none (a plan script run with "
                     "psql, an applier without fingerprints, or one stopped between commits); "
                     "the next apply, rollback or stamp records one\n",
                     r->fp.later_moves, r->fp.later_moves == 1 ? "" : "s", r->fp.journal_seq);
        else
            buf_addf(out,
                     "schema drift: not compared: %ld unfinished no-transaction migration%s ran "
                     "statements after the last fingerprint (journal row %lld); the next apply, "
                     "rollback or stamp records one\n",
                     r->fp.later_progress, r->fp.later_progress == 1 ? "" : "s", r->fp.journal_seq);
        return;
    case DRIFT_NONE:
        buf_addstr(out, "schema drift: none since ");
        add_heading(r, out);
        buf_addstr(out, "\n");
        break;
    case DRIFT_HASH_ONLY:
        buf_addstr(out, "schema drift: the schema changed since ");
        add_heading(r, out);
        buf_addstr(out, "\n  only its hash was kept (its snapshot was over the size cap): no "
                        "object can be named\n");
        if (r->ignore_unapplied)
            buf_addstr(out, "  --ignore-schema could not be applied: the comparison covers "
                            "every schema\n");
        break;
    case DRIFT_FOUND:
        buf_addf(out, "schema drift: %zu object%s changed since ", r->diff.n,
                 r->diff.n == 1 ? "" : "s");
        add_heading(r, out);
        buf_addstr(out, "\n");
        for (size_t i = 0; i < r->diff.n; i++) {
            const struct snapshot_diff_item *d = &r->diff.items[i];
            const struct snapshot_item *it = d->after ? d->after : d->before;

            buf_addf(out, "  %-8s %s %s\n", snapshot_change_word(d->change), it->kind, it->name);
            if (d->before)
                add_def(out, "was:", d->before->def);
            if (d->after)
                add_def(out, "now:", d->after->def);
        }
        break;
    }
    for (size_t k = 0; k < r->nignore; k++)
        buf_addf(out, "%s%s%s", k ? ", " : "  schemas left out: ", r->ignore[k],
                 k + 1 == r->nignore ? "\n" : "");
}

void
drift_json(const struct drift_result *r, struct buf *out)
{
    const struct drift_fingerprint *fp = &r->fp;

    buf_addch(out, '{');
    json_key(out, "state", 1);
    json_str(out, drift_state_word(r->state));
    json_key(out, "fingerprint", 0);
    if (fp->found) {
        buf_addch(out, '{');
        json_key(out, "journal_seq", 1);
        buf_addf(out, "%lld", fp->journal_seq);
        json_key(out, "event", 0);
        json_str(out, fp->event);
        json_key(out, "project", 0);
        json_str(out, fp->project);
        json_key(out, "at", 0);
        json_str(out, fp->at);
        json_key(out, "sha256", 0);
        json_str(out, fp->sha256);
        json_key(out, "objects", 0);
        buf_addf(out, "%ld", fp->objects);
        json_key(out, "snapshot_kept", 0);
        buf_addstr(out, fp->kept ? "true" : "false");
        buf_addch(out, '}');
    } else {
        buf_addstr(out, "null");
    }
    json_key(out, "live_sha256", 0);
    json_str(out, r->live_sha256[0] ? r->live_sha256 : NULL);
    json_key(out, "ignored_schemas", 0);
    buf_addch(out, '[');
    for (size_t k = 0; k < r->nignore; k++) {
        if (k)
            buf_addch(out, ',');
        json_str(out, r->ignore[k]);
    }
    buf_addch(out, ']');
    json_key(out, "ignore_applied", 0);
    buf_addstr(out, r->ignore_unapplied ? "false" : "true");
    json_key(out, "changes", 0);
    snapshot_diff_json(&r->diff, out);
    buf_addch(out, '}');
}

void
drift_summary(const struct drift_result *r, struct buf *out)
{
    if (r->state == DRIFT_HASH_ONLY) {
        buf_addf(out,
                 "the schema's hash changed from %.16s... to %.16s... (only the hash was kept)",
                 r->fp.sha256, r->live_sha256);
        return;
    }
    buf_addf(out, "%zu object%s changed", r->diff.n, r->diff.n == 1 ? "" : "s");
    for (size_t i = 0; i < r->diff.n && i < DRIFT_SUMMARY_NAMES; i++) {
        const struct snapshot_diff_item *d = &r->diff.items[i];
        const struct snapshot_item *it = d->after ? d->after : d->before;

        buf_addf(out, "%s%s %s %s", i ? ", " : ": ", snapshot_change_word(d->change), it->kind,
                 it->name);
    }
    if (r->diff.n > DRIFT_SUMMARY_NAMES)
        buf_addf(out, ", and %zu more", r->diff.n - DRIFT_SUMMARY_NAMES);
}
