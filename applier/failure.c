/*
 * failure.c: a walk's failure told on stderr, in JSON, in a report line and in the journal.
 * Layer: applier.
 */
#include "failure.h"
#include "engine.h"
#include "walk.h"
#include "sealift/json.h"
#include "sealift/textpos.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The migration or repeatable that failed (a step of the walk: walk.h), or NULL. */
static const struct manifest_migration *
failed_migration(const struct failure *f)
{
    if (f->m == NULL || f->idx >= f->m->nmigrations + f->m->nrepeatables)
        return NULL;
    return walk_migration(f->m, f->idx);
}

static const struct manifest_script *
failed_script(const struct failure *f)
{
    const struct manifest_migration *mig = failed_migration(f);

    return mig ? &mig->script[f->kind] : NULL;
}

/*
 * A COPY that failed on a row: the server's context says "COPY t, line N[, column c]"; place
 * it at that line of the data (a data member, or the lines after the statement in its
 * script). Returns 1 if it did.
 */
static int
locate_copy_row(const struct failure *f, const struct manifest_script *s, struct failure_place *p)
{
    const struct manifest_copy *c;
    const char *at;
    unsigned long n;

    if (s == NULL || !s->present || f->stmt < 0 ||
        (c = manifest_script_copy(s, (size_t)f->stmt)) == NULL)
        return 0;
    at = strstr(f->err.context, ", line ");
    if (at == NULL || sscanf(at, ", line %lu", &n) != 1 || n == 0)
        return 0;
    p->data_line = n;
    if (f->binary) {
        p->copy_row = FAILURE_COPY_BINARY;
        p->file = f->m->members[c->member].path;
        p->line = n;
    } else if (c->inline_data) {
        struct diag_err err = DIAG_ERR_INIT;
        unsigned line = 1, col;

        if (f->scripts)
            script_line_col(f->scripts, s->member, c->offset, &line, &col, &err);
        p->copy_row = FAILURE_COPY_INLINE;
        p->file = f->m->members[s->member].path;
        p->line = line + n - 1;
    } else {
        p->copy_row = FAILURE_COPY_FILE;
        p->file = f->m->members[c->member].path;
        p->line = n;
    }
    return 1;
}

/* Most bytes of a script read again to place a position that is not in one statement. */
#define FAILURE_TEXT_MAX (16u * 1024u * 1024u)

/*
 * The line and column of the failed statement (its start, or the server's position in it),
 * read again from the bundle: the runner does not keep scripts.
 */
static void
locate_statement(const struct failure *f, const struct manifest_script *s, struct failure_place *p)
{
    struct diag_err err = DIAG_ERR_INIT;
    uint64_t base = 0, len = f->m->members[s->member].size, off;
    struct script_reader *rd;
    unsigned line, col;
    char *text;

    if (f->stmt >= 0 && (size_t)f->stmt < s->nstmts) {
        base = s->stmts[f->stmt].offset;
        len = s->stmts[f->stmt].length;
    }
    if (len > FAILURE_TEXT_MAX)
        len = FAILURE_TEXT_MAX;
    rd = script_open(f->scripts, s->member, 0, &err);
    text = rd ? script_take(rd, base, len, &err) : NULL;
    script_close(rd);
    if (text == NULL)
        return;
    if (f->err.position > 0)
        off = base + textpos_char_to_byte(text, (size_t)len, (size_t)f->err.position - 1);
    else
        off = base + textpos_skip_blank(text, (size_t)len); /* the statement's start */
    free(text);
    if (script_line_col(f->scripts, s->member, off, &line, &col, &err) != 0)
        return;
    p->line = line;
    p->column = col;
}

void
failure_locate(const struct failure *f, struct failure_place *p)
{
    const struct manifest_script *s = failed_script(f);
    const struct db_error *e = &f->err;

    memset(p, 0, sizeof(*p));
    if (s == NULL || !s->present || locate_copy_row(f, s, p))
        return;
    p->file = f->m->members[s->member].path;
    if (f->scripts && (e->position > 0 || f->stmt >= 0))
        locate_statement(f, s, p);
}

/* " (SQLSTATE XXXXX)" or "" */
static const char *
sqlstate_note(const struct failure *f, char buf[32])
{
    if (f->err.sqlstate[0] == '\0')
        return "";
    snprintf(buf, 32, " (SQLSTATE %s)", f->err.sqlstate);
    return buf;
}

/* Where the database stands now, in words ("base", "003_x"). */
static void
position_words(const struct failure *f, char *out, size_t cap)
{
    snprintf(out, cap, "%s", engine_revision_label(f->m, f->at));
}

void
failure_report(const struct failure *f)
{
    const struct db_error *e = &f->err;
    const struct manifest_migration *mig = failed_migration(f);
    const struct manifest_script *s = failed_script(f);
    const char *script = manifest_script_label((enum manifest_script_kind)f->kind);
    struct failure_place p;
    char label[600], at[600], st[32];

    snprintf(label, sizeof(label), "%s",
             mig ? engine_revision_label(f->m, f->idx + 1) : "(history)");
    position_words(f, at, sizeof(at));
    if (e->cancelled && f->signal)
        diag_error("migration %s (%s) was interrupted by %s: its statement was cancelled", label,
                   script, f->signal == SIGINT ? "SIGINT" : "SIGTERM");
    else
        diag_error("migration %s (%s) failed: %s", label, script, e->message);
    failure_locate(f, &p);
    if (p.copy_row == FAILURE_COPY_BINARY)
        diag_detail("at %s, row %lu of the binary COPY data%s", p.file, p.data_line,
                    sqlstate_note(f, st));
    else if (p.copy_row == FAILURE_COPY_INLINE)
        diag_detail("at %s:%lu, line %lu of the COPY data%s", p.file, p.line, p.data_line,
                    sqlstate_note(f, st));
    else if (p.copy_row == FAILURE_COPY_FILE)
        diag_detail("at %s:%lu (data file line %lu)%s", p.file, p.line, p.data_line,
                    sqlstate_note(f, st));
    else if (p.file && p.line)
        diag_detail("at %s:%lu:%lu%s", p.file, p.line, p.column, sqlstate_note(f, st));
    else if (p.file)
        diag_detail("in %s%s", p.file, sqlstate_note(f, st));
    if (e->detail[0])
        diag_detail("%s", e->detail);
    if (e->context[0])
        diag_detail("context: %s", e->context);
    if (e->hint[0])
        diag_hint("%s", e->hint);
    if (strcmp(e->sqlstate, "53200") == 0 && !f->per_migration)
        diag_hint("one transaction ran out of lock table space: apply with --per-migration, or "
                  "raise max_locks_per_transaction on the server");
    if (e->connection_lost)
        diag_detail("the connection to the server was lost; the database is at %s (its last "
                    "commit)",
                    at);
    else if (s && !s->transactional && walk_is_repeatable(f->m, f->idx))
        /* A repeatable keeps no progress (runner.c): it runs again whole. */
        diag_detail("statements 1 to %ld of %zu ran and stay; the database is at %s and the "
                    "repeatable's last run is unchanged; a rerun runs it again from its first "
                    "statement",
                    f->stmt > 0 ? f->stmt : 0, s->nstmts, at);
    else if (s && !s->transactional && f->stmt == 0)
        diag_detail("none of its %zu statements ran; the database is at %s; a rerun%s starts "
                    "%s at statement 1",
                    s->nstmts, at, f->kind == MANIFEST_DOWN ? " of rollback" : "", label);
    else if (s && !s->transactional && f->stmt >= 0)
        diag_detail("statements 1 to %ld of %zu ran and are recorded; the database is at %s "
                    "with %s partly %s resumes at statement %ld",
                    f->stmt, s->nstmts, at, label,
                    f->kind == MANIFEST_DOWN ? "rolled back; a rerun of rollback"
                                             : "applied; a rerun",
                    f->stmt + 1);
    else if (mig && f->kind == MANIFEST_VERIFY && !mig->script[MANIFEST_UP].transactional)
        /* The up statements ran outside the transaction that was rolled back: they stay. */
        diag_detail("the transaction was rolled back; the database is at %s, but the %zu "
                    "statements of %s ran outside it and stay (recorded); a rerun runs only "
                    "its verify script",
                    at, mig->script[MANIFEST_UP].nstmts, label);
    else if (f->nested)
        diag_detail("its changes were rolled back to where the walk started");
    else
        diag_detail("the transaction was rolled back; the database is at %s", at);
}

/* A JSON string, or null for an empty one. */
static void
str_or_null(struct buf *out, const char *s)
{
    json_str(out, s && s[0] ? s : NULL);
}

void
failure_json(const struct failure *f, struct buf *out)
{
    const struct manifest_migration *mig = failed_migration(f);
    struct failure_place p;

    failure_locate(f, &p);
    json_key(out, "migration", 1);
    json_str(out, mig ? mig->id : NULL);
    json_key(out, "script", 0);
    json_str(out, manifest_script_label((enum manifest_script_kind)f->kind));
    json_key(out, "file", 0);
    json_str(out, p.file);
    json_key(out, "line", 0);
    if (p.line)
        buf_addf(out, "%lu", p.line);
    else
        buf_addstr(out, "null");
    json_key(out, "column", 0);
    if (p.column)
        buf_addf(out, "%lu", p.column);
    else
        buf_addstr(out, "null");
    json_key(out, "statement", 0);
    if (f->stmt >= 0)
        buf_addf(out, "%ld", f->stmt + 1);
    else
        buf_addstr(out, "null");
    json_key(out, "sqlstate", 0);
    json_str(out, f->err.sqlstate);
    json_key(out, "message", 0);
    json_str(out, f->err.message);
    json_key(out, "detail", 0);
    str_or_null(out, f->err.detail);
    json_key(out, "hint", 0);
    str_or_null(out, f->err.hint);
}

void
failure_text(const struct failure *f, struct buf *out)
{
    buf_addstr(out, f->err.message);
    if (f->err.sqlstate[0])
        buf_addf(out, " (SQLSTATE %s)", f->err.sqlstate);
}

void
failure_journal_detail(const struct failure *f, struct buf *out)
{
    buf_addf(out, "%s: %s%s%s", manifest_script_label((enum manifest_script_kind)f->kind),
             f->err.sqlstate[0] ? f->err.sqlstate : "", f->err.sqlstate[0] ? ": " : "",
             f->err.message);
}
