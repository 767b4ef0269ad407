/*
 * pipeline.c: the check/build pipeline (see pipeline.h).
 * Layer: compiler.
 */
#include "pipeline.h"
#include "formats.h"
#include "idindex.h"
#include "spill.h"
#include "sqlcheck.h"
#include "workers.h"
#include "sealift/file.h"
#include "sealift/xalloc.h"

#include <libgen.h>
#include <stdio.h>
#include <stdint.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const script_files[MANIFEST_NSCRIPTS] = {"up", "down", "verify"};

void
compiled_init(struct compiled *c)
{
    memset(c, 0, sizeof(*c));
    chain_init(&c->chain);
    sumfile_init(&c->sum);
}

/* The lint's extraction of every script (lint_chain has judged them, or never will). */
static void
release_lint_scripts(struct compiled *c)
{
    for (size_t i = 0; c->lint_scripts && i < (c->chain.n + c->chain.nrep) * MANIFEST_NSCRIPTS; i++)
        lint_script_release(&c->lint_scripts[i]);
    free(c->lint_scripts);
    c->lint_scripts = NULL;
}

void
compiled_release(struct compiled *c)
{
    release_lint_scripts(c);
    lint_result_release(&c->lint);
    chain_release(&c->chain);
    spill_close(c->spill);
    sumfile_release(&c->sum);
    free(c->sum_path);
    compiled_init(c);
}

/* The project name for a chain without sealift.sum: the directory holding DIR. */
char *
compile_default_project(const char *dir)
{
    char real[PATH_MAX];
    char *copy, *parent, *base;
    struct buf out = BUF_INIT;

    if (realpath(dir, real) == NULL)
        return xstrdup("project");
    copy = xstrdup(real);
    parent = dirname(copy);
    base = basename(parent);
    for (const char *p = base; *p && out.len < 64; p++) {
        char ch = *p;

        buf_addch(&out, (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                                (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-'
                            ? ch
                            : '_');
    }
    free(copy);
    if (out.len == 0 || !manifest_token_valid(out.data)) {
        buf_release(&out);
        return xstrdup("project");
    }
    return buf_detach(&out, NULL);
}

static const char *
script_file(const struct src_migration *m, int k)
{
    return m->script[k].file ? m->script[k].file : script_files[k];
}

/* The file-data COPY statements of m, as recorded in e? */
static int
copies_match(const struct sum_entry *e, const struct src_migration *m)
{
    size_t n = 0;

    for (int k = 0; k < MANIFEST_NSCRIPTS; k++) {
        const struct src_script *s = &m->script[k];

        for (size_t c = 0; c < s->ncopies; c++) {
            if (s->copies[c].inline_data)
                continue;
            if (n >= e->ncopies || e->copies[n].kind != k ||
                e->copies[n].stmt != s->copies[c].stmt ||
                !hash_equal(e->copies[n].sha, s->copies[c].sha256, HASH_SHA256_BYTES))
                return 0;
            n++;
        }
    }
    return n == e->ncopies;
}

/* Its data files differ from e's: name the edited file and both checksums when one was edited. */
static void
report_copies_changed(const struct sum_entry *e, const struct src_migration *m, struct report *rep,
                      const char *sum_path)
{
    char was[HASH_SHA256_HEX], now[HASH_SHA256_HEX];
    size_t n = 0;

    for (int k = 0; k < MANIFEST_NSCRIPTS; k++) {
        const struct src_script *s = &m->script[k];

        for (size_t c = 0; c < s->ncopies; c++) {
            const struct src_copy *cp = &s->copies[c];

            if (cp->inline_data)
                continue;
            if (n >= e->ncopies || e->copies[n].kind != k || e->copies[n].stmt != cp->stmt ||
                cp->path == NULL)
                goto other;
            if (!hash_equal(e->copies[n].sha, cp->sha256, HASH_SHA256_BYTES)) {
                report_error(rep,
                             "%s: data file edited after it was recorded in %s (recorded sha256 "
                             "%s, now %s)",
                             cp->path, sum_path,
                             hex_encode(was, e->copies[n].sha, HASH_SHA256_BYTES),
                             hex_encode(now, cp->sha256, HASH_SHA256_BYTES));
                return;
            }
            n++;
        }
    }
other:
    report_error(rep, "migration %s_%s: its COPY data files changed after it was recorded in %s",
                 e->id, e->name, sum_path);
}

/* Compare one recorded migration with the chain's migration of the same id. */
static void
compare_recorded(const struct sum_entry *e, const struct src_migration *m, struct report *rep,
                 const char *sum_path)
{
    char was[HASH_SHA256_HEX], now[HASH_SHA256_HEX];

    if (strcmp(e->name, m->name) != 0)
        report_error(rep,
                     "migration %s was renamed from \"%s\" to \"%s\" after it was recorded in %s",
                     e->id, e->name, m->name, sum_path);
    for (int k = 0; k < MANIFEST_NSCRIPTS; k++) {
        const struct src_script *s = &m->script[k];

        if (e->present[k] && !s->present) {
            report_error(rep,
                         "migration %s_%s: its %s script was removed after it was recorded "
                         "in %s",
                         e->id, e->name, script_files[k], sum_path);
        } else if (!e->present[k] && s->present) {
            report_error(rep, "%s: added after migration %s was recorded in %s", s->file, e->id,
                         sum_path);
        } else if (s->present && !hash_equal(e->sha[k], s->source_sha, HASH_SHA256_BYTES)) {
            report_error(rep, "%s: edited after it was recorded in %s (recorded sha256 %s, now %s)",
                         s->file, sum_path, hex_encode(was, e->sha[k], HASH_SHA256_BYTES),
                         hex_encode(now, s->source_sha, HASH_SHA256_BYTES));
        } else if (s->present && e->transactional[k] != s->transactional) {
            report_error(rep, "%s: transaction mode changed after it was recorded in %s",
                         script_file(m, k), sum_path);
        }
    }
    if (!copies_match(e, m))
        report_copies_changed(e, m, rep, sum_path);
}

/* Does --amend ARG name this migration (by its id or as ID_NAME)? */
static int
amend_names(const char *arg, const char *id, const char *name)
{
    size_t n = strlen(id);

    return strcmp(arg, id) == 0 ||
           (strncmp(arg, id, n) == 0 && arg[n] == '_' && strcmp(arg + n + 1, name) == 0);
}

static int
is_amended(const struct compile_options *opt, const char *id, const char *name)
{
    for (size_t i = 0; opt && i < opt->namend; i++)
        if (amend_names(opt->amend[i], id, name))
            return 1;
    return 0;
}

/* An amended migration: say what changes, and what that means for databases. */
static void
warn_amended(const struct compiled *c, const struct sum_entry *e, const struct src_migration *m,
             size_t pos)
{
    char was[HASH_SHA256_HEX], now[HASH_SHA256_HEX];
    int changed = strcmp(e->name, m->name) != 0;

    for (int k = 0; k < MANIFEST_NSCRIPTS; k++) {
        const struct src_script *s = &m->script[k];

        if (e->present[k] != s->present ||
            (s->present && (!hash_equal(e->sha[k], s->source_sha, HASH_SHA256_BYTES) ||
                            e->transactional[k] != s->transactional))) {
            changed = 1;
            diag_warning("--amend %s: %s script %s (recorded sha256 %s, now %s)", e->id,
                         script_files[k], s->present ? "changed" : "removed",
                         e->present[k] ? hex_encode(was, e->sha[k], HASH_SHA256_BYTES) : "-",
                         s->present ? hex_encode(now, s->source_sha, HASH_SHA256_BYTES) : "-");
        }
    }
    if (!copies_match(e, m)) {
        changed = 1;
        diag_warning("--amend %s: its COPY data files changed", e->id);
    }
    if (!changed) {
        diag_warning("--amend %s: the migration is unchanged; nothing to amend", e->id);
        return;
    }
    if (pos + 1 < c->sum.n)
        diag_warning("--amend %s: %zu later released migration%s change%s chain hash too; "
                     "databases that applied %s will refuse the new bundle as drift",
                     e->id, c->sum.n - pos - 1, c->sum.n - pos - 1 == 1 ? "" : "s",
                     c->sum.n - pos - 1 == 1 ? "s its" : " their", e->id);
}

/* The id of entry i of a struct sumfile, for id_index_build. */
static const char *
sumfile_id_of(const void *list, size_t i)
{
    return ((const struct sumfile *)list)->v[i].id;
}

/*
 * Is migration id, at position j of the chain, among the first nsum entries of sum (indexed
 * by ids)? Usually the chain starts with the recorded history, in order: that is tried first.
 */
static int
is_recorded(const struct sumfile *sum, size_t nsum, const struct id_index *ids, size_t j,
            const char *id)
{
    return (j < nsum && strcmp(sum->v[j].id, id) == 0) || id_index_find(ids, id) != SIZE_MAX;
}

/* Hold the chain against sealift.sum: same prefix, same contents, new ones only after it. */
static void
check_history(struct compiled *c, struct report *rep)
{
    const struct src_chain *ch = &c->chain;
    const struct sumfile *sum = &c->sum;
    size_t last_pos = 0; /* chain position after the last recorded migration seen */
    int any_recorded_found = 0;
    struct id_index chain_ids, sum_ids;

    id_index_build(&chain_ids, ch, ch->n, chain_id_of);
    for (size_t i = 0; i < sum->n; i++) {
        const struct sum_entry *e = &sum->v[i];
        size_t j;

        /* Usually the chain starts with the recorded history, in order: try that first. */
        if (i < ch->n && strcmp(ch->v[i].id, e->id) == 0)
            j = i;
        else if ((j = id_index_find(&chain_ids, e->id)) == SIZE_MAX)
            j = ch->n;
        if (j == ch->n) {
            report_error(rep,
                         "migration %s_%s is recorded in %s but its files are gone (a released "
                         "migration must never be removed)",
                         e->id, e->name, c->sum_path);
            continue;
        }
        if (any_recorded_found && j < last_pos)
            report_error(rep, "migration %s is out of the order recorded in %s", e->id,
                         c->sum_path);
        if (is_amended(c->opt, e->id, e->name))
            warn_amended(c, e, &ch->v[j], i);
        else
            compare_recorded(e, &ch->v[j], rep, c->sum_path);
        last_pos = j + 1;
        any_recorded_found = 1;
    }
    id_index_release(&chain_ids);
    /* Every migration that is not recorded must come after every recorded one. */
    c->nrecorded = 0;
    c->nnew = 0;
    id_index_build(&sum_ids, sum, sum->n, sumfile_id_of);
    for (size_t j = 0; j < ch->n; j++) {
        if (is_recorded(sum, sum->n, &sum_ids, j, ch->v[j].id)) {
            c->nrecorded++;
            continue;
        }
        if (j < last_pos)
            report_error(rep,
                         "%s: new migration %s sorts before the last recorded migration %s_%s; "
                         "give it a later version than %s",
                         script_file(&ch->v[j], MANIFEST_UP), ch->v[j].id, sum->v[sum->n - 1].id,
                         sum->v[sum->n - 1].name, sum->v[sum->n - 1].id);
        else
            c->nnew++;
    }
    id_index_release(&sum_ids);
}

/*
 * Every "-- sealift:data NAME" names a file of the migration's data directory, every file
 * there is loaded exactly once, and each is hashed (as a stream: data files may be large).
 */
static void
resolve_data_files(struct src_migration *m, struct report *rep)
{
    int *used = xcalloc(m->ndata_files ? m->ndata_files : 1, sizeof(*used));
    struct diag_err err = DIAG_ERR_INIT;

    for (int k = 0; k < MANIFEST_NSCRIPTS; k++) {
        struct src_script *s = &m->script[k];

        for (size_t c = 0; c < s->ncopies; c++) {
            struct src_copy *cp = &s->copies[c];
            size_t f;

            if (cp->inline_data)
                continue;
            for (f = 0; f < m->ndata_files; f++)
                if (strcmp(m->data_files[f], cp->name) == 0)
                    break;
            if (f == m->ndata_files) {
                report_error(rep, "%s: \"-- sealift:data %s\": no such file in %s", s->file,
                             cp->name,
                             m->data_dir ? m->data_dir : "the migration's .data directory");
                continue;
            }
            if (used[f]++) {
                report_error(rep, "%s: data file %s is loaded twice", s->file, cp->name);
                continue;
            }
            cp->path = xasprintf("%s/%s", m->data_dir, cp->name);
            if (file_sha256(cp->path, cp->sha256, &cp->size, &err) != 0)
                report_error(rep, "%s", err.msg);
        }
    }
    for (size_t f = 0; f < m->ndata_files; f++)
        if (!used[f])
            report_error(rep,
                         "%s/%s: data file not loaded by any COPY (put \"-- sealift:data %s\" "
                         "right before a COPY ... FROM STDIN)",
                         m->data_dir, m->data_files[f], m->data_files[f]);
    free(used);
}

/*
 * What another tool's down script may be and still compile, with a warning (an error with
 * --strict): no statements at all (a no-op down: rollback records the migration as rolled back
 * and runs nothing), or a statement PostgreSQL refuses inside the transaction the tool runs it
 * in (the tool itself fails on it when reverting: the down cannot run as written, and rollback
 * refuses to cross it).
 */
static void
check_imported_down(const struct src_script *s, int strict, struct report *rep)
{
    void (*say)(struct report *, const char *, ...) = strict ? report_error : report_warning;

    if (s->blocked)
        say(rep,
            "%s: this down cannot run as written (its tool would fail on it too), and "
            "rollback refuses to cross it%s",
            s->blocked, strict ? " (--strict)" : "");
    else if (s->nstmts == 0)
        say(rep,
            "%s: %s: compiled as a no-op down (rollback records the migration as rolled back "
            "and runs nothing)%s",
            s->file, s->noop_why ? s->noop_why : "the down script has no statements",
            strict ? " (--strict)" : "");
}

/* Each migration's scripts rendered and checked, and its data files hashed: one job each. */
struct check_batch {
    struct compiled *out;
    struct report *reps; /* one per migration, its messages held */
};

/*
 * Render s->text into s->rendered, with its checksum, and let the text go: nothing reads it
 * after its checksum (s->source_sha). A script without placeholders is its own rendering: its
 * buffer is handed over, not copied, so that a script of gigabytes is held once.
 */
static void
render_script(struct src_script *s, struct vars *vars)
{
    if (sqltext_has_placeholders(s->text.data, s->text.len)) {
        sqltext_render(&s->text, vars, &s->rendered, &s->undefined);
        buf_release(&s->text);
        hash_sha256(s->rendered.data, s->rendered.len, s->rendered_sha);
        return;
    }
    buf_release(&s->rendered);
    buf_reset(&s->undefined);
    s->rendered = s->text;
    buf_init(&s->text);
    memcpy(s->rendered_sha, s->source_sha, HASH_SHA256_BYTES);
}

static void
check_migration(size_t i, void *ctx)
{
    struct check_batch *b = ctx;
    struct src_chain *ch = &b->out->chain;
    /* Jobs 0..n-1 are the migrations, n.. the repeatables. */
    struct src_migration *m = i < ch->n ? &ch->v[i] : &ch->rep[i - ch->n];
    struct report *rep = &b->reps[i];
    int native = strcmp(b->out->chain.format, "native") == 0;

    for (int k = 0; k < MANIFEST_NSCRIPTS; k++) {
        struct src_script *s = &m->script[k];
        /* The lint reads the trees the check builds: each statement is parsed once. */
        int lint = b->out->lint_scripts != NULL;
        struct sqltrees trees = SQLTREES_INIT;

        if (!s->present)
            continue;
        /* The source checksum (sealift.sum's, the manifest's) is of the text as the reader left it.
         */
        hash_sha256(s->text.data, s->text.len, s->source_sha);
        s->may_block = k == MANIFEST_DOWN && !native;
        render_script(s, b->out->opt->vars);
        if (s->undefined.len == 0 && sqlcheck_script(s->file, s, lint ? lint_wants_tree : NULL,
                                                     lint ? &trees : NULL, rep) == 0) {
            if (k == MANIFEST_DOWN && !native)
                check_imported_down(s, b->out->opt->strict, rep);
            if (lint)
                lint_extract(s, &trees, &b->out->lint_scripts[i * MANIFEST_NSCRIPTS + k]);
        }
        sqltrees_release(&trees);
        /* Its checksum covers its script only, and data files belong to a version. */
        for (size_t c = 0; i >= ch->n && c < s->ncopies; c++)
            if (!s->copies[c].inline_data)
                report_error(rep,
                             "%s: a repeatable migration cannot load a data file (\"-- "
                             "sealift:data %s\"): put the data inline after the COPY",
                             s->file, s->copies[c].name);
    }
    {
        /*
         * Checked and extracted: the bytes go to disk until the lint and the archive read them
         * back one script at a time, so memory does not grow with the chain.
         */
        struct diag_err serr = DIAG_ERR_INIT;

        if (chain_spill_migration(ch, m, &serr) != 0)
            report_error(rep, "%s: %s", script_file(m, MANIFEST_UP), serr.msg);
    }
    if (i < ch->n)
        resolve_data_files(m, rep);
}

/*
 * The uses of undefined placeholder name (nl bytes) in c, from script k of migration i on:
 * ", "-separated "FILE:LINE:COL" into where. Returns how many.
 */
static size_t
undefined_uses(const struct src_chain *c, size_t i, int k, const char *name, size_t nl,
               struct buf *where)
{
    size_t uses = 0;

    for (size_t j = i; j < c->n + c->nrep; j++) {
        for (int kk = j == i ? k : 0; kk < MANIFEST_NSCRIPTS; kk++) {
            const struct src_script *s = &chain_job(c, j)->script[kk];
            const char *u = s->undefined.data;

            for (size_t q = 0; q < s->undefined.len;) {
                size_t n = strcspn(u + q, " ");
                size_t e = q + strcspn(u + q, "\n");

                if (n == nl && memcmp(u + q, name, nl) == 0)
                    buf_addf(where, "%s%s:%.*s", uses++ ? ", " : "", s->file, (int)(e - q - n - 1),
                             u + q + n + 1);
                q = e + 1;
            }
        }
    }
    return uses;
}

/*
 * Each undefined placeholder once, naming every place it is used in the chain's order (a
 * placeholder missing from --set is usually missing everywhere: one line, not hundreds).
 */
static void
report_undefined(const struct src_chain *c, struct report *rep)
{
    struct buf seen = BUF_INIT; /* "\nNAME\nNAME\n": the names reported */

    buf_addch(&seen, '\n');
    for (size_t i = 0; i < c->n + c->nrep; i++) {
        for (int k = 0; k < MANIFEST_NSCRIPTS; k++) {
            const struct buf *u = &chain_job(c, i)->script[k].undefined;

            for (size_t p = 0; p < u->len; p += strcspn(u->data + p, "\n") + 1) {
                size_t nl = strcspn(u->data + p, " ");
                struct buf key = BUF_INIT, where = BUF_INIT;
                size_t uses;

                buf_addf(&key, "\n%.*s\n", (int)nl, u->data + p);
                /* Reported with its first use: every later use is in that message. */
                if (strstr(seen.data, key.data) == NULL) {
                    buf_add(&seen, key.data + 1, key.len - 1);
                    uses = undefined_uses(c, i, k, u->data + p, nl, &where);
                    report_error(rep,
                                 "undefined placeholder ${%.*s} (give --set %.*s=VALUE), used %zu "
                                 "time%s: %s",
                                 (int)nl, u->data + p, (int)nl, u->data + p, uses,
                                 uses == 1 ? "" : "s", where.data);
                }
                buf_release(&key);
                buf_release(&where);
            }
        }
    }
    buf_release(&seen);
}

/*
 * Check every migration, spread over the cores (parsing is most of a build's time), then
 * print what was found in the chain's order, as one thread would have.
 */
static void
check_migrations(struct compiled *out, struct report *rep)
{
    size_t n = out->chain.n + out->chain.nrep;
    struct check_batch b = {out, report_held_new(n)};

    if (out->opt->lint_mode != LINT_MODE_OFF)
        /* The lint reads every script of the jobs: the migrations', then the repeatables'. */
        out->lint_scripts = xcalloc(n ? n * MANIFEST_NSCRIPTS : 1, sizeof(*out->lint_scripts));

    /* libpg_query frees a thread's parser memory itself when the thread ends. */
    workers_run(n, workers_default(), check_migration, &b);
    report_held_finish(b.reps, n, rep);
}

/*
 * Reading the chain and reading sealift.sum (which checks the hash of every recorded line) do
 * not depend on each other: two jobs. Only the chain's reader prints; the sum file's problem
 * is reported after both, so the output is as one thread would print it.
 */
struct read_batch {
    const struct format_reader *reader;
    const struct read_options *ro;
    struct compiled *out;
    struct report *rep;
    struct diag_err *err;
    int read_ret;
    struct diag_err sum_err;
    int sum_ret;
};

static void
read_chain_or_sum(size_t i, void *ctx)
{
    struct read_batch *b = ctx;

    if (i == 0) {
        struct src_chain *c = &b->out->chain;

        b->read_ret = b->reader->read(b->out->opt->dir, b->ro, c, b->rep, b->err);
        if (b->read_ret != 0)
            return;
        /* What every format shares, done here once: sealift.sum is no file of the source. */
        c->format = xstrdup(b->reader->name);
        c->dir = xstrdup(b->out->opt->dir);
        chain_trim(c);
        chain_drop_ignored(c, SUMFILE_NAME);
        chain_check_unique_ids(c, b->rep);
        chain_sort_repeatables(c, b->rep);
    } else {
        b->sum_ret = sumfile_read(b->out->sum_path, &b->out->sum, &b->sum_err);
    }
}

/*
 * What --allow-irreversible did to another tool's chain: one line with the count, and with
 * --verbose one line per migration. (sealift's own format marks irreversible migrations in
 * the file; the flag does nothing there.)
 */
static void
say_irreversible(const struct compiled *out)
{
    const struct src_chain *c = &out->chain;
    size_t n = 0;

    if (!out->opt->allow_irreversible || strcmp(c->format, "native") == 0)
        return;
    for (size_t i = 0; i < c->n; i++)
        n += !c->v[i].script[MANIFEST_DOWN].present;
    if (n == 0)
        return;
    diag_info("--allow-irreversible: %zu of %zu migrations compiled as irreversible (no down; "
              "rollback refuses to cross them)%s",
              n, c->n, out->opt->verbose ? "" : "; --verbose names them");
    for (size_t i = 0; out->opt->verbose && i < c->n; i++)
        if (!c->v[i].script[MANIFEST_DOWN].present)
            diag_info("irreversible: %s%s%s (%s)", c->v[i].id, c->v[i].name[0] ? "_" : "",
                      c->v[i].name, script_file(&c->v[i], MANIFEST_UP));
}

int
compile_chain(const struct compile_options *opt, struct compiled *out, struct report *rep,
              struct diag_err *err)
{
    const char *from = opt->from ? opt->from : "auto";
    const struct format_reader *reader;
    struct read_options ro = {.allow_irreversible = opt->allow_irreversible,
                              .alembic_config = opt->alembic_config,
                              .alembic_sql_up = opt->alembic_sql_up,
                              .alembic_sql_down = opt->alembic_sql_down,
                              .liquibase_changelog = opt->liquibase_changelog,
                              .liquibase_contexts = opt->liquibase_contexts,
                              .liquibase_labels = opt->liquibase_labels,
                              .strict = opt->strict};
    char names[256], recorded[64], why[256];

    out->sum_path = xasprintf("%s/%s", opt->dir, SUMFILE_NAME);
    /*
     * A chain recorded as one format is never re-read as another: its released migrations
     * would look edited. So sealift.sum's format comes before detection, and before --from.
     */
    sumfile_read_source(out->sum_path, recorded, sizeof(recorded));
    if (strcmp(from, "auto") == 0) {
        reader = formats_detect_why(opt->dir, recorded[0] ? recorded : NULL, why, sizeof(why), err);
        if (reader == NULL) {
            err->io = 1;
            return -1;
        }
        /* Asked to detect, in a directory with nothing to detect from. */
        if (opt->from_given && strcmp(why, "an empty directory") == 0)
            return err_set_io(err,
                              "\"%s\" is empty: there is no format to detect (give --from "
                              "FORMAT, or write a first migration with \"sealift new\")",
                              opt->dir);
        /* Say what was found; a native chain found by default is the quiet, usual case. */
        if (opt->from_given || strcmp(reader->name, "native") != 0)
            diag_info("detected %s (%s) in %s", reader->name, why, opt->dir);
    } else {
        reader = formats_find(from);
        if (reader == NULL) {
            formats_names(names, sizeof(names));
            return err_set_io(err, "unknown source format \"%s\" (known: %s, auto)", from, names);
        }
        if (recorded[0] && strcmp(recorded, from) != 0)
            return err_set_io(err,
                              "--from %s contradicts %s, which records this chain as %s (its "
                              "released migrations were read as %s: give --from %s, or leave "
                              "--from out)",
                              from, out->sum_path, recorded, recorded, recorded);
    }
    out->opt = opt;
    {
        /* The chain and sealift.sum are read at the same time (see struct read_batch). */
        struct read_batch b = {reader, &ro, out, rep, err, 0, DIAG_ERR_INIT, 0};

        workers_run(2, workers_default(), read_chain_or_sum, &b);
        if (b.read_ret != 0)
            return -1;
        if (b.sum_ret != 0)
            report_error(rep, "%s", b.sum_err.msg);
    }
    for (size_t i = 0; i < opt->namend; i++) {
        int found = 0;

        for (size_t j = 0; j < out->chain.n && !found; j++)
            found = amend_names(opt->amend[i], out->chain.v[j].id, out->chain.v[j].name);
        if (!found)
            report_error(rep, "--amend %s: no such migration in %s", opt->amend[i], opt->dir);
    }
    if (!out->sum.exists)
        out->sum.project = opt->project         ? xstrdup(opt->project)
                           : out->chain.project ? xstrdup(out->chain.project)
                                                : compile_default_project(opt->dir);
    if (out->sum.source == NULL) {
        /* Recorded from the next build on (a file from before the field has none). */
        out->sum.source = xstrdup(reader->name);
        out->sum.source_added = out->sum.exists;
    }
    say_irreversible(out);

    out->chain.spill = spill_open(err);
    if (out->chain.spill == NULL) {
        err->io = 1;
        return -1;
    }
    check_migrations(out, rep);
    report_undefined(&out->chain, rep);
    /* After the data files are found and hashed: the recorded history covers them too. */
    check_history(out, rep);
    /*
     * The lint judges the chain in its order, so it follows the parallel checks; and only a
     * chain without problems: a script sqlcheck refused is not all there, and what follows it
     * would be judged without what it creates.
     */
    if (out->lint_scripts && rep->errors == 0) {
        /*
         * A released migration cannot change any more, and a repeatable that sealift.sum
         * records as it is has been built before: their errors are not enforced.
         */
        unsigned char *rep_released = xcalloc(out->chain.nrep + 1, 1);
        struct lint_options lo = {opt->lint_mode,
                                  opt->pg_version ? opt->pg_version : LINT_PG_VERSION_DEFAULT,
                                  out->chain.n - out->nnew, rep_released};

        for (size_t i = 0; i < out->chain.nrep; i++)
            rep_released[i] = strcmp(compile_repeatable_state(out, i), "unchanged") == 0;
        lint_chain(&out->chain, out->lint_scripts, &lo, &out->lint);
        free(rep_released);
    }
    /*
     * The findings own everything they say: the operations go now, so that what the build
     * allocates next (the manifest, the archive) reuses their memory instead of new pages.
     */
    release_lint_scripts(out);
    return 0;
}

void
compile_drop_chain(struct compiled *c)
{
    c->spill = c->chain.spill;
    c->chain.spill = NULL;
    release_lint_scripts(c);
    chain_release(&c->chain);
}

char *
compile_member_path(size_t ordinal, const char *id, const char *name, int kind)
{
    struct buf dir = BUF_INIT;
    char *path;

    buf_addf(&dir, "%06zu_", ordinal);
    for (const char *p = id; *p; p++)
        buf_addch(&dir, *p);
    if (name[0]) {
        buf_addch(&dir, '_');
        buf_addstr(&dir, name);
    }
    /* Member names are restricted to [A-Za-z0-9._-] and 60 bytes of directory name. */
    for (size_t i = 0; i < dir.len; i++) {
        char ch = dir.data[i];

        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '_' || ch == '-' || ch == '.'))
            dir.data[i] = '_';
    }
    if (dir.len > 60)
        buf_truncate(&dir, 60);
    while (dir.len > 0 && dir.data[dir.len - 1] == '.')
        buf_truncate(&dir, dir.len - 1);
    path = xasprintf("migrations/%s/%s.sql", dir.data, script_files[kind]);
    buf_release(&dir);
    return path;
}

/* The member path of a repeatable: "repeatables/NNNNNN_NAME.sql", NAME made a member name. */
static char *
repeatable_member_path(size_t ordinal, const char *name)
{
    struct buf b = BUF_INIT;
    char *path;

    buf_addstr(&b, name);
    for (size_t i = 0; i < b.len; i++) {
        char ch = b.data[i];

        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '_' || ch == '-'))
            b.data[i] = '_';
    }
    if (b.len > 60)
        buf_truncate(&b, 60);
    path = xasprintf("repeatables/%06zu_%s.sql", ordinal, b.data);
    buf_release(&b);
    return path;
}

/* The member path of a data file: "data/NNNNNN_K_NAME". */
static char *
data_member_path(size_t ordinal, size_t k, const char *name)
{
    return xasprintf("data/%06zu_%zu_%.60s", ordinal, k, name);
}

/*
 * Every lint finding, allowed or not, goes into the signed manifest with its migration or
 * repeatable (jobs numbered as chain_job's, repeatables in the manifest's order, which is the
 * chain's: both sorted by name).
 */
static void
compile_manifest_findings(const struct compiled *c, struct manifest *m)
{
    const struct src_chain *ch = &c->chain;

    for (size_t i = 0; i < c->lint.n; i++) {
        const struct lint_finding *f = &c->lint.v[i];
        struct manifest_finding mf;

        memset(&mf, 0, sizeof(mf));
        mf.kind = f->kind;
        mf.rule = (char *)f->rule->name;
        mf.severity = (char *)lint_severity_name(f->signed_severity);
        mf.lock = f->lock ? (char *)lint_lock_name(f->lock) : NULL;
        mf.rewrites = f->rewrites;
        mf.scans = f->scans;
        mf.relation = f->relation;
        mf.created_by = f->created_mig != SIZE_MAX ? chain_job(ch, f->created_mig)->id : NULL;
        mf.line = f->line;
        mf.col = f->col;
        mf.allowed = f->allowed;
        mf.message = f->message;
        manifest_migration_add_finding(chain_job_is_repeatable(ch, f->mig)
                                           ? &m->repeatables[f->mig - ch->n]
                                           : &m->migrations[f->mig],
                                       &mf);
    }
}

/*
 * A script of a migration or a repeatable into the manifest: its member (the rendered text,
 * added to sources at the member's index) and its statements. Data loads are the caller's.
 */
static void
add_script_member(const struct src_chain *ch, struct manifest *m, struct manifest_script *ms,
                  const struct src_script *s, const char *path, struct emit_source **sources,
                  size_t *cap)
{
    ms->present = 1;
    ms->transactional = s->transactional;
    memcpy(ms->source, s->source_sha, HASH_SHA256_BYTES);
    ms->member = manifest_add_member(m, path, chain_script_size(s), s->rendered_sha);
    *sources = xgrow(*sources, cap, m->nmembers, sizeof(**sources));
    memset(&(*sources)[ms->member], 0, sizeof(**sources));
    /* compile_chain spilled every script it checked: the bytes are read back as written. */
    (*sources)[ms->member].spill = ch->spill;
    (*sources)[ms->member].spill_off = s->spill_off;
    for (size_t st = 0; st < s->nstmts; st++)
        manifest_script_add_stmt(ms, s->stmts[st].offset, s->stmts[st].length);
}

void
compile_manifest(const struct compiled *c, struct manifest *m, struct emit_source **sources)
{
    const struct src_chain *ch = &c->chain;
    size_t cap = 0;

    *sources = NULL;
    for (size_t i = 0; i < ch->n; i++) {
        const struct src_migration *src = &ch->v[i];
        struct manifest_migration *mig = manifest_add_migration(m, src->id, src->name);
        size_t ndata = 0;

        /*
         * What the source tool recorded, for adopting a database it managed: "KEY CHECKSUM"
         * (Sqitch: change id and script hash; Flyway: version and CRC32), or the key alone.
         * Sqitch's tags on a change go between them ("KEY @v1.0 CHECKSUM"): readers take the
         * key before the first blank and the checksum after the last, so they are unaffected.
         */
        if (src->origin_checksum)
            mig->origin = xasprintf("%s%s%s %s", src->origin_id ? src->origin_id : src->id,
                                    src->origin_tags ? " " : "",
                                    src->origin_tags ? src->origin_tags : "", src->origin_checksum);
        else if (src->origin_id && strcmp(src->origin_id, src->id) != 0)
            mig->origin = xstrdup(src->origin_id);
        if (src->script[MANIFEST_DOWN].present && src->script[MANIFEST_DOWN].blocked)
            mig->down_blocked = xstrdup(src->script[MANIFEST_DOWN].blocked);

        for (int k = 0; k < MANIFEST_NSCRIPTS; k++) {
            const struct src_script *s = &src->script[k];
            struct manifest_script *ms = &mig->script[k];
            char *path;

            if (!s->present)
                continue;
            path = compile_member_path(i + 1, src->id, src->name, k);
            add_script_member(ch, m, ms, s, path, sources, &cap);
            free(path);
            /* Data files follow the script that loads them. */
            for (size_t cp = 0; cp < s->ncopies; cp++) {
                const struct src_copy *sc = &s->copies[cp];
                struct manifest_copy mc;

                memset(&mc, 0, sizeof(mc));
                mc.stmt = sc->stmt;
                mc.inline_data = sc->inline_data;
                mc.offset = sc->offset;
                mc.length = sc->length;
                if (!sc->inline_data) {
                    path = data_member_path(i + 1, ++ndata, sc->name);
                    memcpy(mc.sha256, sc->sha256, HASH_SHA256_BYTES);
                    mc.member = manifest_add_member(m, path, sc->size, sc->sha256);
                    m->members[mc.member].is_data = 1;
                    *sources = xgrow(*sources, &cap, m->nmembers, sizeof(**sources));
                    memset(&(*sources)[mc.member], 0, sizeof(**sources));
                    /* A copy: the chain may go before the archive is written. */
                    (*sources)[mc.member].file = xstrdup(sc->path);
                    (*sources)[mc.member].file_owned = 1;
                    free(path);
                }
                manifest_script_add_copy(ms, &mc);
            }
        }
    }
    for (size_t i = 0; i < ch->nrep; i++) {
        const struct src_migration *src = &ch->rep[i];
        const struct src_script *s = &src->script[MANIFEST_UP];
        struct manifest_migration *r = manifest_add_repeatable(m, src->id);
        struct manifest_script *ms = &r->script[MANIFEST_UP];
        char *path = repeatable_member_path(i + 1, src->id);

        if (src->origin_checksum)
            r->origin = xasprintf("%s %s", src->origin_name ? src->origin_name : src->id,
                                  src->origin_checksum);
        add_script_member(ch, m, ms, s, path, sources, &cap);
        for (size_t cp = 0; cp < s->ncopies; cp++) {
            struct manifest_copy mc;

            memset(&mc, 0, sizeof(mc));
            mc.stmt = s->copies[cp].stmt;
            mc.inline_data = 1;
            mc.offset = s->copies[cp].offset;
            mc.length = s->copies[cp].length;
            manifest_script_add_copy(ms, &mc);
        }
        free(path);
    }
    compile_manifest_findings(c, m);
    manifest_chain_fill(m);
    manifest_repeatables_fill(m);
}

/* Copy a source migration's scripts into a recorded entry. */
static void
fill_entry(struct sum_entry *e, const struct src_migration *m)
{
    e->ncopies = 0;
    for (int k = 0; k < MANIFEST_NSCRIPTS; k++) {
        e->present[k] = m->script[k].present;
        e->transactional[k] = m->script[k].present ? m->script[k].transactional : 0;
        if (m->script[k].present)
            memcpy(e->sha[k], m->script[k].source_sha, HASH_SHA256_BYTES);
        else
            memset(e->sha[k], 0, HASH_SHA256_BYTES);
        for (size_t c = 0; c < m->script[k].ncopies; c++)
            if (!m->script[k].copies[c].inline_data)
                sumfile_add_copy(e, k, m->script[k].copies[c].stmt, m->script[k].copies[c].sha256);
    }
}

int
compile_amend(struct compiled *c)
{
    size_t first = SIZE_MAX;

    for (size_t i = 0; i < c->sum.n; i++) {
        struct sum_entry *e = &c->sum.v[i];

        if (!is_amended(c->opt, e->id, e->name))
            continue;
        for (size_t j = 0; j < c->chain.n; j++) {
            if (strcmp(c->chain.v[j].id, e->id) != 0)
                continue;
            free(e->name);
            e->name = xstrdup(c->chain.v[j].name);
            fill_entry(e, &c->chain.v[j]);
            first = i < first ? i : first;
        }
    }
    if (first == SIZE_MAX)
        return 0;
    /* The chain hash of the amended migration, and of every one after it, changes. */
    for (size_t i = first; i < c->sum.n; i++)
        sumfile_fill_chain(&c->sum, i);
    return 1;
}

const char *
compile_repeatable_state(const struct compiled *c, size_t i)
{
    const struct src_migration *r = &c->chain.rep[i];
    const struct src_script *s = &r->script[MANIFEST_UP];

    for (size_t j = 0; j < c->sum.nrep; j++) {
        const struct sum_entry *e = &c->sum.rep[j];

        if (strcmp(e->id, r->id) != 0)
            continue;
        return hash_equal(e->sha[MANIFEST_UP], s->source_sha, HASH_SHA256_BYTES) &&
                       e->transactional[MANIFEST_UP] == s->transactional
                   ? "unchanged"
                   : "changed";
    }
    return "new";
}

int
compile_record_repeatables(struct compiled *c)
{
    const struct src_chain *ch = &c->chain;
    int same = c->sum.nrep == ch->nrep;

    for (size_t i = 0; same && i < ch->nrep; i++) {
        const struct sum_entry *e = &c->sum.rep[i];
        const struct src_script *s = &ch->rep[i].script[MANIFEST_UP];

        same = strcmp(e->id, ch->rep[i].id) == 0 &&
               e->transactional[MANIFEST_UP] == s->transactional &&
               hash_equal(e->sha[MANIFEST_UP], s->source_sha, HASH_SHA256_BYTES);
    }
    if (same)
        return 0;
    sumfile_clear_repeatables(&c->sum);
    for (size_t i = 0; i < ch->nrep; i++) {
        const struct src_script *s = &ch->rep[i].script[MANIFEST_UP];
        struct sum_entry *e = sumfile_add_repeatable(&c->sum, ch->rep[i].id);

        e->present[MANIFEST_UP] = 1;
        e->transactional[MANIFEST_UP] = s->transactional;
        memcpy(e->sha[MANIFEST_UP], s->source_sha, HASH_SHA256_BYTES);
    }
    return 1;
}

void
compile_record(struct compiled *c)
{
    struct id_index sum_ids;
    size_t nsum = c->sum.n; /* the recorded ones: those appended below are new */

    /* The index holds the entries' ids, which appending (moving the entries) leaves alone. */
    id_index_build(&sum_ids, &c->sum, nsum, sumfile_id_of);
    for (size_t j = 0; j < c->chain.n; j++) {
        const struct src_migration *m = &c->chain.v[j];
        struct sum_entry *e;

        if (is_recorded(&c->sum, nsum, &sum_ids, j, m->id))
            continue;
        e = sumfile_append(&c->sum, m->id, m->name);
        fill_entry(e, m);
        sumfile_fill_chain(&c->sum, c->sum.n - 1);
    }
    id_index_release(&sum_ids);
}

int
compile_option(int c, const char *arg, struct compile_options *opt, const char *cmd)
{
    struct diag_err err = DIAG_ERR_INIT;

    switch (c) {
    case 'd':
        opt->dir = arg;
        return 1;
    case 'F':
        opt->from = arg;
        opt->from_given = 1;
        return 1;
    case 'I':
        opt->allow_irreversible = 1;
        return 1;
    case COMPILE_OPT_STRICT:
        opt->strict = 1;
        return 1;
    case 'v':
        opt->verbose = 1;
        return 1;
    case COMPILE_OPT_ALEMBIC_CONFIG:
        opt->alembic_config = arg;
        return 1;
    case COMPILE_OPT_ALEMBIC_SQL_UP:
        opt->alembic_sql_up = arg;
        return 1;
    case COMPILE_OPT_ALEMBIC_SQL_DOWN:
        opt->alembic_sql_down = arg;
        return 1;
    case COMPILE_OPT_CHANGELOG:
        opt->liquibase_changelog = arg;
        return 1;
    case COMPILE_OPT_CONTEXTS:
        opt->liquibase_contexts = arg;
        return 1;
    case COMPILE_OPT_LABELS:
        opt->liquibase_labels = arg;
        return 1;
    case 'S':
        if (vars_set_assignment(opt->vars, arg, &err) != 0)
            die_usage(cmd, "--set %s", err.msg);
        return 1;
    case 'E':
        if (vars_load_file(opt->vars, arg, &err) != 0)
            die(2, "%s", err.msg);
        return 1;
    case 'A':
        opt->amend = xgrow(opt->amend, &opt->amend_cap, opt->namend + 1, sizeof(*opt->amend));
        opt->amend[opt->namend++] = arg;
        return 1;
    case COMPILE_OPT_LINT:
        if (strcmp(arg, "error") == 0)
            opt->lint_mode = LINT_MODE_ERROR;
        else if (strcmp(arg, "warn") == 0)
            opt->lint_mode = LINT_MODE_WARN;
        else if (strcmp(arg, "off") == 0)
            opt->lint_mode = LINT_MODE_OFF;
        else
            die_usage(cmd, "--lint must be error, warn or off");
        return 1;
    case COMPILE_OPT_PG_VERSION: {
        char *end;
        long v = strtol(arg, &end, 10);

        if (*end || end == arg || v < 9 || v > 99)
            die_usage(cmd, "--pg-version must be a PostgreSQL major version (9 to 99)");
        opt->pg_version = (int)v;
        return 1;
    }
    case 'P':
        if (!manifest_token_valid(arg))
            die_usage(cmd, "project name must be 1-64 letters, digits, '.', '_' or '-'");
        opt->project = arg;
        return 1;
    default:
        return 0;
    }
}

void
compile_report_lint(const struct compiled *c, struct report *rep)
{
    struct buf text = BUF_INIT;
    size_t released = 0, reps = 0;

    /*
     * Released migrations (and repeatables built unchanged before) cannot change: their
     * findings are counted, not listed again at every check ("sealift lint" lists them),
     * unless --lint error enforces them. Infos are never enforced: not counted either (a
     * chain's brief locks, blocking-lock, would repeat that line at every build).
     */
    lint_format_text(&c->lint, 1, 0, &text);
    for (size_t i = 0; i < c->lint.n; i++) {
        const struct lint_finding *f = &c->lint.v[i];

        if (f->released && !f->allowed && f->severity == LINT_WARNING) {
            released++;
            reps += chain_job_is_repeatable(&c->chain, f->mig);
        }
    }
    fflush(stdout);
    fputs(text.data, stderr);
    buf_release(&text);
    if (released)
        diag_info("%zu lint finding%s in released migrations%s, not enforced (\"sealift lint\" "
                  "lists them)",
                  released, released == 1 ? "" : "s",
                  reps ? " and repeatables sealift.sum records unchanged" : "");
    rep->errors += c->lint.errors;
    rep->warnings += c->lint.warnings;
}

void
compile_warn_unused(const struct compile_options *opt)
{
    for (size_t i = 0; i < opt->vars->n; i++)
        if (!opt->vars->v[i].used)
            diag_warning("placeholder ${%s} was set but no migration uses it",
                         opt->vars->v[i].name);
}
