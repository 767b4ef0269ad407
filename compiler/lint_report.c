/*
 * lint_report.c: the lint's findings as text (FILE:LINE:COL: severity[rule]: message, then
 * help:), as a JSON array, and as a SARIF 2.1.0 log for code-scanning UIs.
 * Layer: compiler.
 */
#include "lint.h"
#include "sealift/json.h"

#include <string.h>

static const char *const script_names[MANIFEST_NSCRIPTS] = {"up", "down", "verify"};

/* The JSON array of what the lock makes wait: "reads", "writes", "ddl". */
static void
blocks_json(struct buf *out, int lock)
{
    buf_addch(out, '[');
    if (lock == LINT_LOCK_ACCESS_EXCLUSIVE)
        buf_addstr(out, "\"reads\",");
    if (lock >= LINT_LOCK_SHARE)
        buf_addstr(out, "\"writes\",");
    if (lock > LINT_LOCK_NONE)
        buf_addstr(out, "\"ddl\"");
    buf_addch(out, ']');
}

/* The migration's ID_NAME, or the repeatable's name. */
static void
add_migration(struct buf *out, const struct src_chain *ch, size_t mig)
{
    const struct src_migration *m = chain_job(ch, mig);
    struct buf label = BUF_INIT;

    buf_addstr(&label, m->id);
    if (m->name[0])
        buf_addf(&label, "_%s", m->name);
    json_str(out, label.data);
    buf_release(&label);
}

void
lint_format_finding_json(const struct src_chain *ch, const struct lint_finding *f, struct buf *out)
{
    buf_addch(out, '{');
    json_key(out, "file", 1);
    json_str(out, f->file);
    json_key(out, "line", 0);
    buf_addf(out, "%u", f->line);
    json_key(out, "column", 0);
    buf_addf(out, "%u", f->col);
    json_key(out, "migration", 0);
    add_migration(out, ch, f->mig);
    json_key(out, "repeatable", 0);
    buf_addstr(out, chain_job_is_repeatable(ch, f->mig) ? "true" : "false");
    json_key(out, "script", 0);
    json_str(out, script_names[f->kind]);
    json_key(out, "rule", 0);
    json_str(out, f->rule->name);
    json_key(out, "severity", 0);
    json_str(out, lint_severity_name(f->severity));
    json_key(out, "message", 0);
    json_str(out, f->message);
    json_key(out, "help", 0);
    json_str(out, f->rule->help);
    json_key(out, "relation", 0);
    json_str(out, f->relation);
    json_key(out, "relation_created_by", 0);
    json_str(out, f->created_by);
    json_key(out, "lock_mode", 0);
    json_str(out, f->lock ? lint_lock_name(f->lock) : NULL);
    json_key(out, "blocks", 0);
    blocks_json(out, f->lock);
    json_key(out, "rewrites", 0);
    buf_addstr(out, f->rewrites ? "true" : "false");
    json_key(out, "scans", 0);
    buf_addstr(out, f->scans ? "true" : "false");
    json_key(out, "allowed", 0);
    json_str(out, f->allowed);
    json_key(out, "released", 0);
    buf_addstr(out, f->released ? "true" : "false");
    json_key(out, "enforced", 0);
    buf_addstr(out, f->not_enforced ? "false" : "true");
    buf_addch(out, '}');
}

void
lint_format_text(const struct lint_result *r, int hide_released, int show_allowed, struct buf *out)
{
    for (size_t i = 0; i < r->n; i++) {
        const struct lint_finding *f = &r->v[i];

        if ((f->allowed && !show_allowed) ||
            (hide_released && f->released && f->severity != LINT_ERROR))
            continue;
        buf_addf(out, "%s:%u:%u: %s[%s]: %s", f->file, f->line, f->col,
                 f->allowed ? "allowed" : lint_severity_name(f->severity), f->rule->name,
                 f->message);
        if (f->not_enforced && !f->allowed)
            buf_addf(out, " [%s: reported, not enforced]", f->not_enforced);
        buf_addch(out, '\n');
        if (f->allowed)
            buf_addf(out, "  reason: %s\n", f->allowed);
        else
            buf_addf(out, "  help: %s\n", f->rule->help);
    }
}

static const char *
sarif_level(int severity)
{
    return severity == LINT_ERROR ? "error" : severity == LINT_WARNING ? "warning" : "note";
}

static void
format_sarif(const struct src_chain *ch, const struct lint_result *r, struct buf *out)
{
    buf_addstr(out, "{\"$schema\":\"https://json.schemastore.org/sarif-2.1.0.json\","
                    "\"version\":\"2.1.0\",\"runs\":[{\"tool\":{\"driver\":{\"name\":\"sealift\","
                    "\"version\":\"" SEALIFT_VERSION "\",\"rules\":[");
    for (size_t i = 0; i < lint_nrules; i++) {
        const struct lint_rule *rl = &lint_rules[i];

        buf_addstr(out, i ? ",{" : "{");
        json_key(out, "id", 1);
        json_str(out, rl->name);
        json_key(out, "shortDescription", 0);
        buf_addstr(out, "{\"text\":");
        json_str(out, rl->name);
        buf_addstr(out, "},\"help\":{\"text\":");
        json_str(out, rl->help);
        buf_addf(out, "},\"defaultConfiguration\":{\"level\":\"%s\"}}", sarif_level(rl->severity));
    }
    buf_addstr(out, "]}},\"columnKind\":\"unicodeCodePoints\",\"results\":[");
    for (size_t i = 0; i < r->n; i++) {
        const struct lint_finding *f = &r->v[i];

        buf_addstr(out, i ? ",{" : "{");
        json_key(out, "ruleId", 1);
        json_str(out, f->rule->name);
        json_key(out, "ruleIndex", 0);
        buf_addf(out, "%zu", (size_t)(f->rule - lint_rules));
        json_key(out, "level", 0);
        json_str(out, sarif_level(f->severity));
        json_key(out, "message", 0);
        buf_addstr(out, "{\"text\":");
        json_str(out, f->message);
        buf_addstr(out, "},\"locations\":[{\"physicalLocation\":{\"artifactLocation\":{\"uri\":");
        json_str(out, f->file);
        buf_addf(out, "},\"region\":{\"startLine\":%u,\"startColumn\":%u}}}]", f->line, f->col);
        if (f->allowed) {
            buf_addstr(out, ",\"suppressions\":[{\"kind\":\"inSource\",\"justification\":");
            json_str(out, f->allowed);
            buf_addstr(out, "}]");
        }
        buf_addstr(out, ",\"properties\":{");
        json_key(out, "migration", 1);
        add_migration(out, ch, f->mig);
        json_key(out, "repeatable", 0);
        buf_addstr(out, chain_job_is_repeatable(ch, f->mig) ? "true" : "false");
        json_key(out, "relation", 0);
        json_str(out, f->relation);
        json_key(out, "lockMode", 0);
        json_str(out, f->lock ? lint_lock_name(f->lock) : NULL);
        json_key(out, "rewrites", 0);
        buf_addstr(out, f->rewrites ? "true" : "false");
        json_key(out, "scans", 0);
        buf_addstr(out, f->scans ? "true" : "false");
        buf_addstr(out, "}}");
    }
    buf_addstr(out, "]}]}\n");
}

void
lint_format(const struct src_chain *ch, const struct lint_result *r, int format, int show_allowed,
            struct buf *out)
{
    switch (format) {
    case LINT_FORMAT_JSON:
        buf_addch(out, '[');
        for (size_t i = 0; i < r->n; i++) {
            if (i)
                buf_addch(out, ',');
            buf_addstr(out, "\n  ");
            lint_format_finding_json(ch, &r->v[i], out);
        }
        buf_addstr(out, r->n ? "\n]\n" : "]\n");
        break;
    case LINT_FORMAT_SARIF:
        format_sarif(ch, r, out);
        break;
    default:
        lint_format_text(r, 0, show_allowed, out);
        break;
    }
}
