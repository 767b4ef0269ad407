/*
 * report_html.c: the auditor's report as one self-contained HTML file (see report.h): inline
 * CSS only, no script, no external resource (a Content-Security-Policy forbids any), a print
 * stylesheet. Every text from the database or a bundle goes through esc().
 * Layer: applier.
 */
#include "report.h"
#include "sealift/version.h"

#include <string.h>

/* Append s HTML-escaped: the five characters that can end a text or an attribute value. */
static void
escn(FILE *f, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        switch (s[i]) {
        case '&':
            fputs("&amp;", f);
            break;
        case '<':
            fputs("&lt;", f);
            break;
        case '>':
            fputs("&gt;", f);
            break;
        case '"':
            fputs("&quot;", f);
            break;
        case '\'':
            fputs("&#39;", f);
            break;
        case '\0':
            fputs("\xef\xbf\xbd", f); /* U+FFFD: a NUL in a script is shown, not dropped */
            break;
        default:
            fputc(s[i], f);
        }
    }
}

static void
esc(FILE *f, const char *s)
{
    if (s)
        escn(f, s, strlen(s));
}

/* A table cell: the escaped text, or a dash for NULL; code: in a <code>. */
static void
cell(FILE *f, const char *s, int code)
{
    fputs("<td>", f);
    if (s == NULL || s[0] == '\0') {
        fputs("<span class=\"none\">-</span></td>", f);
        return;
    }
    fputs(code ? "<code>" : "", f);
    esc(f, s);
    fputs(code ? "</code></td>" : "</td>", f);
}

/* A row of a definition list. */
static void
dl_row(FILE *f, const char *term, const char *value, int code)
{
    fprintf(f, "<dt>%s</dt><dd>%s", term, code ? "<code>" : "");
    if (value)
        esc(f, value);
    else
        fputs("-", f);
    fprintf(f, "%s</dd>\n", code ? "</code>" : "");
}

static const char style[] =
    "body{font:14px/1.45 system-ui,sans-serif;color:#1b1f23;background:#fff;margin:1.5em auto;"
    "max-width:1200px;padding:0 1em}"
    "h1{font-size:1.6em;margin-bottom:.2em}h2{border-bottom:2px solid #d0d7de;padding-bottom:.2em;"
    "margin-top:1.6em}h3{margin-top:1.3em}"
    "table{border-collapse:collapse;width:100%;margin:.5em 0;font-size:.92em}"
    "th,td{border:1px solid #d0d7de;padding:.25em .45em;text-align:left;vertical-align:top}"
    "th{background:#f3f5f7}tbody tr:nth-child(even){background:#fafbfc}"
    "code,pre{font-family:ui-monospace,monospace;font-size:.9em;word-break:break-all}"
    "pre{background:#f6f8fa;border:1px solid #d0d7de;padding:.6em;white-space:pre-wrap;"
    "overflow-wrap:anywhere}"
    "dl{display:grid;grid-template-columns:max-content 1fr;gap:.2em 1em}dt{font-weight:600}"
    "dd{margin:0}.ok{color:#116329;font-weight:700}.bad{color:#a40e26;font-weight:700}"
    ".verdict{padding:.6em .9em;border-left:6px solid}.verdict.ok{border-color:#2da44e;"
    "background:#dafbe1}.verdict.bad{border-color:#cf222e;background:#ffebe9}"
    ".none{color:#8c959f}.unverified{color:#9a6700}details{margin:.3em 0}"
    "summary{cursor:pointer}nav a{margin-right:1em}"
    "@media print{body{max-width:none;margin:0;font-size:9pt}nav{display:none}"
    "h2{break-after:avoid}tr,.verdict,dl{break-inside:avoid}thead{display:table-header-group}"
    "pre{border:none;background:none;padding:0}details::details-content{content-visibility:"
    "visible;display:block}a{color:inherit;text-decoration:none}}";

static void
head(const struct report *r, FILE *f)
{
    const char *dbname = db_value(r->server, 0, 0);

    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
          /* No request of any kind, even if a value escaped our escaping. */
          "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
          "style-src 'unsafe-inline'\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
          "<title>sealift audit report: ",
          f);
    esc(f, dbname);
    fprintf(f,
            "</title>\n<style>%s</style>\n</head>\n<body>\n<h1>Audit report of database "
            "<code>",
            style);
    esc(f, dbname);
    fputs("</code></h1>\n<p>Written by sealift-apply " SEALIFT_VERSION " at ", f);
    esc(f, db_value(r->server, 0, 3));
    fputs(" (the server's time, UTC), from one read-only snapshot of the database.</p>\n"
          "<nav><a href=\"#verification\">Verification</a><a href=\"#projects\">Projects</a>"
          "<a href=\"#events\">Events</a><a href=\"#migrations\">Applied migrations</a>"
          "<a href=\"#bundles\">Bundles</a><a href=\"#trust\">Trust</a></nav>\n",
          f);
}

static void
verification(const struct report *r, FILE *f)
{
    char seq[32];

    fputs("<section id=\"verification\">\n<h2>Database and journal</h2>\n<dl>\n", f);
    dl_row(f, "Database", db_value(r->server, 0, 0), 1);
    dl_row(f, "Read as", db_value(r->server, 0, 1), 1);
    dl_row(f, "PostgreSQL", db_value(r->server, 0, 2), 0);
    dl_row(f, "History schema", r->o->schema, 1);
    dl_row(f, "History version", r->schema_exists ? report_meta(r, "history_version") : NULL, 0);
    snprintf(seq, sizeof(seq), "%lld", r->head.seq);
    dl_row(f, "Journal rows", r->schema_exists ? seq : NULL, 0);
    dl_row(f, "Journal head", r->schema_exists && r->head.seq ? r->head.hash : NULL, 1);
    dl_row(f, "Witness file", r->o->witness, 1);
    fputs("</dl>\n", f);
    fprintf(f, "<div class=\"verdict %s\" id=\"verdict\"><p><strong>%s</strong></p><pre>",
            r->intact == 1 ? "ok" : "bad",
            r->intact == 1   ? "Verified: journal intact"
            : r->intact == 0 ? "Verification FAILED"
                             : "Not verified: no history");
    esc(f, r->verdict.data);
    fputs("</pre></div>\n</section>\n", f);
}

static void
projects(const struct report *r, FILE *f)
{
    fputs("<section id=\"projects\">\n<h2>Projects</h2>\n<table><thead><tr><th>Project</th>"
          "<th>Environment bound</th><th>Highest serial</th><th>Applied</th><th>At</th></tr>"
          "</thead><tbody>\n",
          f);
    for (size_t i = 0; i < report_rows(r->projects); i++) {
        fputs("<tr>", f);
        for (int c = 0; c < 5; c++)
            cell(f, db_value(r->projects, i, c), c == 0 || c == 4);
        fputs("</tr>\n", f);
    }
    fputs("</tbody></table>\n</section>\n", f);
}

static void
signer_cb(void *data, const char *keyid, size_t len, int verified)
{
    FILE *f = data;

    fprintf(f, "<code class=\"%s\" title=\"%s\">", verified ? "verified" : "unverified",
            verified ? "verified with a trusted key" : "signed by (not verified here)");
    escn(f, keyid, len);
    fputs(verified ? "</code> " : "</code> (not verified) ", f);
}

static void
signers(FILE *f, const char *text)
{
    fputs("<td>", f);
    if (text == NULL || text[0] == '\0')
        fputs("<span class=\"none\">-</span>", f);
    report_each_signer(text, signer_cb, f);
    fputs("</td>", f);
}

static void
events(const struct report *r, FILE *f)
{
    fputs("<section id=\"events\">\n<h2>Events (the journal)</h2>\n<p>Every row of the "
          "journal, in order. Times are the server's, in UTC; the duration is the applied "
          "row's, where one still matches the event.</p>\n<table><thead><tr><th>Seq</th>"
          "<th>Time (UTC)</th><th>Event</th><th>Project</th><th>Migration</th><th>Serial</th>"
          "<th>Bundle</th><th>Signed by</th><th>Environment</th><th>Who</th><th>Host</th>"
          "<th>Duration (ms)</th><th>Detail</th></tr></thead><tbody>\n",
          f);
    for (size_t i = 0; i < report_rows(r->events); i++) {
        fprintf(f, "<tr class=\"event-%s\">",
                strcmp(db_value(r->events, i, RE_EVENT), "failure") ? "ok" : "failure");
        cell(f, db_value(r->events, i, RE_SEQ), 0);
        cell(f, db_value(r->events, i, RE_AT), 0);
        cell(f, db_value(r->events, i, RE_EVENT), 0);
        cell(f, db_value(r->events, i, RE_PROJECT), 1);
        cell(f, db_value(r->events, i, RE_MIGRATION), 1);
        cell(f, db_value(r->events, i, RE_SERIAL), 0);
        cell(f, db_value(r->events, i, RE_BUNDLE), 1);
        signers(f, db_value(r->events, i, RE_SIGNERS));
        cell(f, db_value(r->events, i, RE_ENVIRONMENT), 1);
        cell(f, db_value(r->events, i, RE_ACTOR), 1);
        cell(f, db_value(r->events, i, RE_HOST), 1);
        cell(f, r->event_duration_ms ? r->event_duration_ms[i] : NULL, 0);
        cell(f, db_value(r->events, i, RE_DETAIL), 0);
        fputs("</tr>\n", f);
    }
    fputs("</tbody></table>\n</section>\n", f);
}

static void
applied(const struct report *r, FILE *f)
{
    fputs("<section id=\"migrations\">\n<h2>Applied migrations</h2>\n<table><thead><tr>"
          "<th>Project</th><th>#</th><th>Migration</th><th>How</th><th>At (UTC)</th><th>By</th>"
          "<th>Host</th><th>Duration (ms)</th><th>Bundle</th><th>Serial</th><th>Signed by</th>"
          "<th>Checksums</th></tr></thead><tbody>\n",
          f);
    for (size_t i = 0; i < report_rows(r->applied); i++) {
        const struct db_rows *a = r->applied;
        static const struct {
            const char *name;
            int col;
        } sums[] = {{"up source", RA_UP_SOURCE},
                    {"down source", RA_DOWN_SOURCE},
                    {"up script", RA_UP_SHA},
                    {"chain", RA_CHAIN}};

        fputs("<tr>", f);
        cell(f, db_value(a, i, RA_PROJECT), 1);
        cell(f, db_value(a, i, RA_ORDINAL), 0);
        fputs("<td><code>", f);
        esc(f, db_value(a, i, RA_ID));
        fputs("</code> ", f);
        esc(f, db_value(a, i, RA_NAME));
        fputs("</td>", f);
        cell(f, db_value(a, i, RA_HOW), 0);
        cell(f, db_value(a, i, RA_AT), 0);
        cell(f, db_value(a, i, RA_BY), 1);
        cell(f, db_value(a, i, RA_HOST), 1);
        cell(f, db_value(a, i, RA_DURATION), 0);
        cell(f, db_value(a, i, RA_BUNDLE), 1);
        cell(f, db_value(a, i, RA_SERIAL), 0);
        signers(f, db_value(a, i, RA_SIGNERS));
        fputs("<td>", f);
        for (size_t k = 0; k < sizeof(sums) / sizeof(sums[0]); k++) {
            fprintf(f, "%s%s: <code>", k ? "<br>" : "", sums[k].name);
            esc(f, db_value(a, i, sums[k].col) ? db_value(a, i, sums[k].col) : "-");
            fputs("</code>", f);
        }
        fputs("</td></tr>\n", f);
    }
    fputs("</tbody></table>\n</section>\n", f);
}

/* A script's exact SQL (the member's bytes), collapsed. */
static void
script_sql(const struct report_bundle *b, const struct manifest_migration *mig, int kind, FILE *f)
{
    const struct manifest_script *s = &mig->script[kind];
    const struct buf *data;

    if (!s->present)
        return;
    data = &b->res.data[s->member];
    fprintf(f, "<details><summary>%s script (%s, %zu statement%s): <code>",
            manifest_script_label(kind), s->transactional ? "in a transaction" : "no transaction",
            s->nstmts, s->nstmts == 1 ? "" : "s");
    esc(f, b->res.manifest.members[s->member].path);
    fputs("</code></summary><pre>", f);
    escn(f, data->data, data->len);
    fputs("</pre></details>\n", f);
}

static void
findings(const struct manifest_migration *mig, FILE *f)
{
    if (mig->nfindings == 0) {
        fputs("<p class=\"none\">No lint findings.</p>\n", f);
        return;
    }
    fputs("<table class=\"findings\"><thead><tr><th>Script</th><th>Where</th><th>Rule</th>"
          "<th>Severity</th><th>Lock</th><th>Relation</th><th>Finding</th><th>Allowed because"
          "</th></tr></thead><tbody>\n",
          f);
    for (size_t k = 0; k < mig->nfindings; k++) {
        const struct manifest_finding *x = &mig->findings[k];

        fprintf(f, "<tr><td>%s</td><td>%u:%u</td>", manifest_script_label(x->kind), x->line,
                x->col);
        cell(f, x->rule, 1);
        cell(f, x->severity, 0);
        cell(f, x->lock, 0);
        cell(f, x->relation, 1);
        cell(f, x->message, 0);
        if (x->allowed)
            cell(f, x->allowed, 0);
        else
            fputs("<td class=\"bad\">not allowed</td>", f);
        fputs("</tr>\n", f);
    }
    fputs("</tbody></table>\n", f);
}

static void
bundle_migrations(const struct report_bundle *b, FILE *f)
{
    const struct manifest *m = &b->res.manifest;

    for (size_t i = 0; i < m->nmigrations; i++) {
        const struct manifest_migration *mig = &m->migrations[i];
        int drifted = report_migration_drifted(b, i);
        char up[HASH_SHA256_HEX], chain[HASH_SHA256_HEX];

        fputs("<h4><code>", f);
        esc(f, mig->id);
        fputs("</code> ", f);
        esc(f, mig->name);
        fprintf(f, " <span class=\"%s\">%s</span></h4>\n", drifted ? "bad" : "",
                drifted                 ? "drifted: the database applied another version"
                : i < b->view.nrecorded ? "applied"
                                        : "not applied");
        fprintf(f, "<p>up source <code>%s</code>, chain <code>%s</code></p>\n",
                hex_encode(up, mig->script[MANIFEST_UP].source, HASH_SHA256_BYTES),
                hex_encode(chain, mig->chain, HASH_SHA256_BYTES));
        for (int k = 0; k < MANIFEST_NSCRIPTS; k++)
            script_sql(b, mig, k, f);
        findings(mig, f);
    }
}

/* The build's provenance member (FORMAT.md 2.8), signed with the bundle, as its text. */
static void
provenance(const struct report_bundle *b, FILE *f)
{
    long idx = b->res.manifest.provenance
                   ? manifest_find_member(&b->res.manifest, b->res.manifest.provenance)
                   : -1;

    if (idx < 0) {
        fputs("<p class=\"none\">No provenance in this bundle (built without --provenance)."
              "</p>\n",
              f);
        return;
    }
    fputs("<details><summary>Provenance: in-toto Statement with a SLSA provenance predicate, "
          "signed with the bundle (<code>",
          f);
    esc(f, b->res.manifest.provenance);
    fputs("</code>)</summary><pre>", f);
    escn(f, b->res.data[idx].data, b->res.data[idx].len);
    fputs("</pre></details>\n", f);
}

static void
bundles(const struct report *r, FILE *f)
{
    char id[SIG_KEYID_HEX];

    fputs("<section id=\"bundles\">\n<h2>Bundles given</h2>\n", f);
    if (r->nbundles == 0)
        fputs("<p class=\"none\">No bundle was given: no SQL, lint findings or drift.</p>\n", f);
    for (size_t i = 0; i < r->nbundles; i++) {
        const struct report_bundle *b = &r->bundles[i];
        const struct manifest *m = &b->res.manifest;
        char serial[32];

        fputs("<h3>Bundle <code>", f);
        esc(f, b->path);
        fputs("</code></h3>\n<dl>\n", f);
        dl_row(f, "Bundle id", b->id, 1);
        dl_row(f, "Project", m->project, 1);
        snprintf(serial, sizeof(serial), "%llu", (unsigned long long)m->serial);
        dl_row(f, "Serial", serial, 0);
        dl_row(f, "Environment", m->environment, 1);
        dl_row(f, "Created", m->created, 0);
        dl_row(f, "Compiler", m->compiler, 0);
        dl_row(f, "Source format", m->source, 0);
        fputs("</dl>\n<table><thead><tr><th>Signature by key</th><th>Result</th></tr></thead>"
              "<tbody>\n",
              f);
        for (size_t k = 0; k < b->res.nsigs; k++)
            fprintf(f, "<tr><td><code>%s</code></td><td class=\"%s\">%s</td></tr>\n",
                    sig_keyid_hex(id, b->res.sigs[k].keyid), b->res.sigs[k].valid ? "ok" : "",
                    b->res.sigs[k].valid     ? "verified with a trusted key"
                    : b->res.sigs[k].trusted ? "does not verify"
                                             : "not verified here (key not given)");
        fputs("</tbody></table>\n", f);
        fprintf(f, "<div class=\"verdict %s\"><p><strong>", b->view.drift ? "bad" : "ok");
        if (b->view.drift)
            fputs("Drift: the database's history contradicts this bundle", f);
        else
            fprintf(f, "No drift: %zu of %zu migrations applied, %zu applied after its head",
                    b->view.nrecorded, m->nmigrations, b->view.ahead);
        fputs("</strong></p>", f);
        if (b->view.drift) {
            fputs("<pre>", f);
            esc(f, b->view.problems.data);
            fputs("</pre>", f);
        }
        fputs("</div>\n", f);
        provenance(b, f);
        bundle_migrations(b, f);
    }
    fputs("</section>\n", f);
}

static void
trust(const struct report *r, FILE *f)
{
    char id[SIG_KEYID_HEX];

    fprintf(f,
            "<section id=\"trust\">\n<h2>Trust</h2>\n<p>Keys given to this report (-p): "
            "%zu, threshold %u.</p>\n<table><thead><tr><th>Trusted key</th></tr></thead>"
            "<tbody>\n",
            r->o->ring.n, r->o->threshold);
    for (size_t i = 0; i < r->o->ring.n; i++)
        fprintf(f, "<tr><td><code>%s</code></td></tr>\n",
                sig_keyid_hex(id, r->o->ring.keys[i].keyid));
    fputs("</tbody></table>\n<h3>Signers the journal records</h3>\n<table><thead><tr>"
          "<th>Key</th><th>Events verified with it</th><th>Events it signed, not verified"
          "</th></tr></thead><tbody>\n",
          f);
    for (size_t i = 0; i < r->nsigners; i++) {
        fputs("<tr>", f);
        cell(f, r->signers[i].keyid, 1);
        fprintf(f, "<td>%zu</td><td>%zu</td></tr>\n", r->signers[i].verified,
                r->signers[i].unverified);
    }
    fputs("</tbody></table>\n</section>\n", f);
}

void
report_html(const struct report *r, FILE *f)
{
    head(r, f);
    verification(r, f);
    projects(r, f);
    events(r, f);
    applied(r, f);
    bundles(r, f);
    trust(r, f);
    fputs("</body>\n</html>\n", f);
}
