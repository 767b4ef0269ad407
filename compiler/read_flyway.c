/*
 * read_flyway.c: reader for Flyway SQL migrations in one location (searched recursively, as
 * Flyway does): V<version>__<description>.sql versioned, U<version>__<description>.sql their
 * undo (the down script), <script>.sql.conf per-script settings (executeInTransaction).
 * Layer: compiler.
 *
 * Faithful to Flyway (flyway-core's MigrationVersion, ChecksumCalculator, PostgreSQLParser):
 *  - versions: digits separated by "." or "_" ("_" shown as "."), compared part by part as
 *    numbers with missing parts as zero, so 1.10 comes after 1.9 and 1.0 equals 1;
 *  - a script whose statements all refuse transaction blocks (CREATE INDEX CONCURRENTLY,
 *    VACUUM...) runs outside a transaction; one that mixes both kinds is refused, as Flyway
 *    refuses it with mixed=false (its default);
 *  - ${name} placeholders are sealift's (--set); Flyway's built-in ${flyway:...} ones depend on
 *    the run and are refused;
 *  - repeatable migrations (R__DESCRIPTION.sql) are the chain's repeatables, named by their
 *    description as Flyway shows it ("_" read as " "), so that sorting the names in byte order
 *    is Flyway's order (by description); Flyway's checksum is kept for adoption. SQL callbacks
 *    that run during migrate (beforeMigrate.sql...) are refused: a bundle holds migrations.
 */
#include "read_common.h"
#include "readers.h"
#include "sqltext.h"
#include "sealift/textpos.h"
#include "sealift/file.h"
#include "sealift/sqllex.h"
#include "sealift/version.h"
#include "sealift/xalloc.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int32_t
flyway_checksum(const char *raw, size_t len)
{
    uint32_t crc = 0;
    size_t i = 0;

    /* BomFilter: the first line loses a leading U+FEFF. */
    if (len >= 3 && (unsigned char)raw[0] == 0xef && (unsigned char)raw[1] == 0xbb &&
        (unsigned char)raw[2] == 0xbf)
        i = 3;
    /* readLine() drops LF, CRLF and lone CR; only the lines' bytes go into the CRC. */
    while (i < len) {
        size_t j = i;

        while (j < len && raw[j] != '\n' && raw[j] != '\r')
            j++;
        crc = (uint32_t)hash_crc32(crc, raw + i, j - i);
        i = j;
        while (i < len && (raw[i] == '\n' || raw[i] == '\r'))
            i++;
    }
    return (int32_t)crc;
}

enum fw_kind { FW_VERSIONED, FW_UNDO };

struct fw_file {
    char *rel;     /* path relative to the location */
    char *version; /* Flyway's display text: "_" shown as "." */
    char *desc;    /* as in the file name */
    enum fw_kind kind;
};

/*
 * Parse "<prefix><version>__<description>.sql". Returns 0 and fills f, -1 if not such a name,
 * -2 if the version is not digits and separators.
 */
static int
parse_versioned(const char *base, const char *rel, struct fw_file *f)
{
    size_t len = strlen(base);
    const char *sep, *v = base + 1;
    char *ver;

    if (len < 6 || (base[0] != 'V' && base[0] != 'U') || strcmp(base + len - 4, ".sql") != 0)
        return -1;
    sep = strstr(v, "__");
    if (sep == NULL || sep > base + len - 4)
        return -1;
    ver = xstrndup(v, (size_t)(sep - v));
    if (!version_flyway_valid(ver)) {
        free(ver);
        return -2;
    }
    /* Flyway shows (and records) "_" as ".". */
    for (char *p = ver; *p; p++)
        if (*p == '_')
            *p = '.';
    f->rel = xstrdup(rel);
    f->version = ver;
    f->desc = xstrndup(sep + 2, (size_t)(base + len - 4 - (sep + 2)));
    f->kind = base[0] == 'V' ? FW_VERSIONED : FW_UNDO;
    return 0;
}

/* Flyway's SQL callbacks: events named at the start of a file ("afterMigrate__x.sql"). */
static int
callback_event(const char *base, char *event, size_t cap)
{
    static const char *const prefixes[] = {"before", "after", "createSchema"};
    size_t len = strlen(base), n;
    const char *end;

    if (len < 5 || strcmp(base + len - 4, ".sql") != 0)
        return 0;
    for (size_t i = 0; i < 3; i++) {
        size_t pl = strlen(prefixes[i]);

        if (strncmp(base, prefixes[i], pl) != 0)
            continue;
        end = strstr(base, "__");
        if (end == NULL || end > base + len - 4)
            end = base + len - 4;
        n = (size_t)(end - base);
        for (size_t k = 0; k < n; k++)
            if (!isalpha((unsigned char)base[k]))
                return 0;
        if (n + 1 > cap)
            return 0;
        memcpy(event, base, n);
        event[n] = '\0';
        return 1;
    }
    return 0;
}

struct fw_ctx {
    const char *dir;
    struct src_chain *c;
    struct report *rep;
    struct fw_file *files;
    size_t n;
    size_t cap;
    char **confs; /* .sql.conf files, relative */
    size_t nconfs;
    size_t confs_cap;
    char **reps; /* repeatable scripts, relative (a .sql.conf may belong to one) */
    size_t nreps;
    size_t reps_cap;
};

static void add_script(struct fw_ctx *x, struct src_migration *m, int kind,
                       const struct fw_file *f);
static void add_origin(struct src_migration *m, const char *path, const char *id, const char *rel);

/* R__DESCRIPTION.sql: a repeatable named by DESCRIPTION as Flyway shows it ("_" as " "). */
static void
add_repeatable(struct fw_ctx *x, const char *base, const char *rel)
{
    size_t bl = strlen(base);
    char *desc = xstrndup(base + 3, bl - 7);
    struct fw_file f = {(char *)rel, NULL, desc, FW_VERSIONED};
    struct src_migration *m;
    char *path = xasprintf("%s/%s", x->dir, rel);

    for (char *p = desc; *p; p++)
        if (*p == '_')
            *p = ' ';
    m = chain_add_repeatable(x->c, desc);
    add_script(x, m, MANIFEST_UP, &f);
    add_origin(m, path, rel, rel);
    x->reps = xgrow(x->reps, &x->reps_cap, x->nreps + 1, sizeof(*x->reps));
    x->reps[x->nreps++] = xstrdup(rel);
    free(path);
    free(desc);
}

static void
scan(struct fw_ctx *x, const char *rel_dir, int depth)
{
    struct common_dir d;
    struct diag_err err = DIAG_ERR_INIT;
    char *path = rel_dir[0] ? xasprintf("%s/%s", x->dir, rel_dir) : xstrdup(x->dir);

    if (common_dir_list(path, &d, &err) != 0) {
        report_error(x->rep, "%s", err.msg);
        free(path);
        return;
    }
    for (size_t i = 0; i < d.n; i++) {
        const char *base = d.v[i].name;
        char *rel = rel_dir[0] ? xasprintf("%s/%s", rel_dir, base) : xstrdup(base);
        struct fw_file f;
        char event[64];
        size_t bl = strlen(base);
        int r;

        if (d.v[i].is_dir) {
            if (depth < 32)
                scan(x, rel, depth + 1);
            free(rel);
            continue;
        }
        if (!d.v[i].is_file) {
            chain_add_ignored(x->c, rel);
            free(rel);
            continue;
        }
        if (bl > 9 && strcmp(base + bl - 9, ".sql.conf") == 0) {
            x->confs = xgrow(x->confs, &x->confs_cap, x->nconfs + 1, sizeof(*x->confs));
            x->confs[x->nconfs++] = rel;
            continue;
        }
        r = parse_versioned(base, rel, &f);
        if (r == 0) {
            x->files = xgrow(x->files, &x->cap, x->n + 1, sizeof(*x->files));
            x->files[x->n++] = f;
        } else if (r == -2) {
            report_error(x->rep,
                         "%s/%s: invalid Flyway version (digits separated by \".\" or \"_\")",
                         x->dir, rel);
        } else if (strncmp(base, "R__", 3) == 0 && bl > 7 && strcmp(base + bl - 4, ".sql") == 0) {
            add_repeatable(x, base, rel);
        } else if (base[0] == 'B' && bl > 6 && isdigit((unsigned char)base[1]) &&
                   strstr(base, "__") && strcmp(base + bl - 4, ".sql") == 0) {
            report_error(x->rep,
                         "%s/%s: baseline migrations are not supported (Flyway applies one "
                         "instead of the versioned migrations before it, on empty databases "
                         "only)",
                         x->dir, rel);
        } else if (callback_event(base, event, sizeof(event))) {
            if (strstr(event, "Migrate") || strstr(event, "Undo") || strstr(event, "Repeatable") ||
                strstr(event, "Versioned") || strstr(event, "Connect") ||
                strcmp(event, "createSchema") == 0)
                report_error(x->rep,
                             "%s/%s: Flyway runs this %s callback around migrations; a "
                             "bundle holds migrations only (fold it into the migrations that "
                             "need it)",
                             x->dir, rel, event);
            else
                chain_add_ignored(x->c, rel); /* info, validate, clean... callbacks */
        } else {
            if ((base[0] == 'V' || base[0] == 'U') && bl > 4 && strcmp(base + bl - 4, ".sql") == 0)
                report_warning(x->rep,
                               "%s/%s: ignored: not a Flyway migration name "
                               "(V<version>__<description>.sql), so Flyway ignores it too",
                               x->dir, rel);
            chain_add_ignored(x->c, rel);
        }
        free(rel);
    }
    common_dir_release(&d);
    free(path);
}

static int
cmp_files(const void *pa, const void *pb)
{
    const struct fw_file *a = pa, *b = pb;
    int c = version_flyway_cmp(a->version, b->version);

    return c ? c : (int)a->kind - (int)b->kind;
}

/* executeInTransaction from "<script>.sql.conf": 1, 0, or -1 when not set. */
static int
read_conf(const char *path, struct report *rep)
{
    struct buf text = BUF_INIT;
    struct diag_err err = DIAG_ERR_INIT;
    int tx = -1;
    unsigned lineno = 0;

    if (sqltext_read_file(path, &text, &err) != 0) {
        report_error(rep, "%s", err.msg);
        buf_release(&text);
        return -1;
    }
    for (size_t ls = 0, i, e, k; common_next_line(text.data, text.len, &ls, &i, &e);) {
        lineno++;
        if (i == e || text.data[i] == '#')
            continue;
        for (k = i; k < e && text.data[k] != '='; k++)
            ;
        {
            size_t ke = k, vs = k + 1;

            while (ke > i && isspace((unsigned char)text.data[ke - 1]))
                ke--;
            while (vs < e && isspace((unsigned char)text.data[vs]))
                vs++;
            if (k < e && ke - i == 20 && strncmp(text.data + i, "executeInTransaction", 20) == 0 &&
                (e - vs == 4 || e - vs == 5)) {
                if (e - vs == 4 && strncmp(text.data + vs, "true", 4) == 0)
                    tx = 1;
                else if (e - vs == 5 && strncmp(text.data + vs, "false", 5) == 0)
                    tx = 0;
                else
                    report_error(rep, "%s:%u: executeInTransaction must be true or false", path,
                                 lineno);
            } else if (k < e && ke - i == 8 && strncmp(text.data + i, "encoding", 8) == 0) {
                if (!(e - vs == 5 && strncasecmp(text.data + vs, "UTF-8", 5) == 0))
                    report_error(rep, "%s:%u: only UTF-8 scripts are supported", path, lineno);
            } else {
                report_error(rep,
                             "%s:%u: unsupported script setting \"%.*s\" (sealift knows "
                             "executeInTransaction and encoding)",
                             path, lineno, (int)(e - i), text.data + i);
            }
        }
    }
    buf_release(&text);
    return tx;
}

/* ${...} in t[from, to) that sealift cannot fill the way Flyway would: built-ins, other names. */
static void
check_placeholder_span(const struct src_script *s, size_t from, size_t to, struct report *rep)
{
    const char *t = s->text.data;

    for (size_t i = from; i + 1 < to; i++) {
        const char *p = t + i, *q = p + 2;
        unsigned line, col;
        int ok;

        if (p[0] != '$' || p[1] != '{')
            continue;
        ok = isalpha((unsigned char)*q) || *q == '_';
        while (ok && (isalnum((unsigned char)*q) || *q == '_' || *q == '.'))
            q++;
        if (ok && *q == '}')
            continue;
        textpos_line_col(t, s->text.len, i, &line, &col);
        if (strncmp(p + 2, "flyway:", 7) == 0)
            report_error(rep,
                         "%s:%u:%u: Flyway's built-in placeholder \"%.*s\" depends on the run; "
                         "replace it with a ${NAME} placeholder given at build time (--set)",
                         s->file, line, col, (int)strcspn(p, "}\n") + 1, p);
        else
            report_error(rep,
                         "%s:%u:%u: Flyway would replace the placeholder \"%.*s\", but sealift "
                         "placeholder names are letters, digits, \"_\" and \".\"",
                         s->file, line, col, (int)strcspn(p, "}\n") + 1, p);
    }
}

/*
 * Every ${...} of the script outside comments (check_placeholder_span). In a comment one is
 * left alone: sealift leaves it as written and it never runs, so a built-in there is harmless.
 */
static void
check_placeholders(const struct src_script *s, struct report *rep)
{
    const char *t = s->text.data;
    size_t len = s->text.len, seg = 0, i = 0;

    while (i < len) {
        size_t j = sqllex_skip(t, len, i);

        if (j == i) {
            i++;
            continue;
        }
        if (t[i] == '-' || t[i] == '/') {
            check_placeholder_span(s, seg, i, rep);
            seg = j;
        }
        i = j;
    }
    check_placeholder_span(s, seg, len, rep);
}

/*
 * Flyway's transaction decision for a script: 0 when every statement refuses transaction
 * blocks, 1 when none does; a mix is refused (Flyway's "Detected both transactional and
 * non-transactional statements within the same migration (even though mixed is false)").
 */
static int
script_transactional(const struct src_script *s, struct report *rep)
{
    struct common_stmt *st = NULL;
    size_t n = common_statements(s->text.data, s->text.len, &st), ntx = 0, nno = 0;
    size_t first_no = 0, first_tx = 0;

    for (size_t i = 0; i < n; i++) {
        const char *k = common_no_tx_kind(s->text.data, st[i].start, st[i].end);
        char w[64];

        common_words(s->text.data, st[i].start, st[i].end, 2, w, sizeof(w));
        /* PostgreSQLParser knows REINDEX SCHEMA/DATABASE/SYSTEM, not REINDEX CONCURRENTLY. */
        if (k && strncmp(k, "REINDEX", 7) == 0 &&
            !(strstr(w, "SCHEMA") || strstr(w, "DATABASE") || strstr(w, "SYSTEM")))
            k = NULL;
        if (k) {
            if (nno++ == 0)
                first_no = i;
        } else if (ntx++ == 0) {
            first_tx = i;
        }
    }
    if (nno && ntx) {
        unsigned l1, c1, l2, c2;

        textpos_line_col(s->text.data, s->text.len, st[first_no].start, &l1, &c1);
        textpos_line_col(s->text.data, s->text.len, st[first_tx].start, &l2, &c2);
        report_error(rep,
                     "%s:%u:%u: this statement cannot run in a transaction, but the one at line "
                     "%u can only run in one; Flyway refuses such a mix (mixed=false), and so "
                     "does sealift: split the script in two migrations",
                     s->file, l1, c1, l2);
    }
    free(st);
    return nno == 0 || ntx != 0;
}

static void
add_script(struct fw_ctx *x, struct src_migration *m, int kind, const struct fw_file *f)
{
    char *path = xasprintf("%s/%s", x->dir, f->rel);
    char *conf = xasprintf("%s.conf", path);
    struct src_script *s = &m->script[kind];
    int tx, stripped = common_load_script(m, kind, path, x->rep);

    if (stripped >= 0) {
        s->no_tx_hint = "put \"executeInTransaction=false\" in a .sql.conf file beside it, or "
                        "move the statement to a migration of its own";
        check_placeholders(s, x->rep);
        /* Its own BEGIN; ... COMMIT; made it one transaction in Flyway too. */
        tx = stripped ? 1 : script_transactional(s, x->rep);
        if (common_is_file(conf)) {
            int set = read_conf(conf, x->rep);

            if (set >= 0)
                tx = set;
        }
        s->transactional = tx;
    }
    free(conf);
    free(path);
}

/* What flyway_schema_history records of the script at path: its key, script and checksum. */
static void
add_origin(struct src_migration *m, const char *path, const char *id, const char *rel)
{
    struct buf raw = BUF_INIT;
    struct diag_err rerr = DIAG_ERR_INIT;

    /* Flyway's checksum is over the file as it is, before any placeholder. */
    if (file_read_all(path, FILE_READ_MAX, &raw, &rerr) == 0)
        m->origin_checksum = xasprintf("%d", (int)flyway_checksum(raw.data, raw.len));
    m->origin_id = xstrdup(id);
    m->origin_name = xstrdup(rel);
    buf_release(&raw);
}

int
read_flyway(const char *dir, const struct read_options *opt, struct src_chain *c,
            struct report *rep, struct diag_err *err)
{
    struct fw_ctx x = {dir, c, rep, NULL, 0, 0, NULL, 0, 0, NULL, 0, 0};
    struct common_dir top;
    char **no_undo = NULL; /* versioned scripts without an undo script */
    size_t nno_undo = 0, no_undo_cap = 0;

    /* Only to fail as an unreadable directory, before anything else. */
    if (common_dir_list(dir, &top, err) != 0)
        return -1;
    common_dir_release(&top);
    scan(&x, "", 0);
    if (x.n > 1)
        qsort(x.files, x.n, sizeof(*x.files), cmp_files);
    for (size_t i = 0; i < x.n;) {
        size_t j = i;
        const struct fw_file *v = NULL, *u = NULL;

        for (; j < x.n && version_flyway_cmp(x.files[j].version, x.files[i].version) == 0; j++) {
            const struct fw_file **slot = x.files[j].kind == FW_VERSIONED ? &v : &u;

            if (*slot) {
                report_error(rep,
                             "%s/%s: found more than one migration with version %s (also "
                             "%s/%s)",
                             dir, x.files[j].rel, x.files[j].version, dir, (*slot)->rel);
                continue;
            }
            *slot = &x.files[j];
        }
        if (v == NULL) {
            report_error(rep, "%s/%s: an undo script without versioned migration %s", dir, u->rel,
                         u->version);
        } else {
            struct src_migration *m = chain_add(c, v->version, v->desc);
            char *path = xasprintf("%s/%s", dir, v->rel);

            add_script(&x, m, MANIFEST_UP, v);
            add_origin(m, path, v->version, v->rel);
            if (u) {
                add_script(&x, m, MANIFEST_DOWN, u);
                free(path);
            } else {
                no_undo = xgrow(no_undo, &no_undo_cap, nno_undo + 1, sizeof(*no_undo));
                no_undo[nno_undo++] = path;
            }
        }
        i = j;
    }
    /*
     * Undo scripts are a Flyway Teams feature: most chains have none at all. Then one error
     * says so with the count, rather than one per file.
     */
    if (!opt->allow_irreversible && nno_undo > 1 && nno_undo == c->n)
        report_error(rep,
                     "%s: none of the %zu versioned migrations has an undo script "
                     "(U<version>__...sql), so none can be rolled back (give "
                     "--allow-irreversible to compile them as irreversible)",
                     dir, nno_undo);
    else
        for (size_t k = 0; k < nno_undo; k++)
            common_no_down(opt, no_undo[k], "no undo script (U<version>__...sql)", rep);
    for (size_t k = 0; k < nno_undo; k++)
        free(no_undo[k]);
    free(no_undo);
    /* A .sql.conf belongs to a script; one without is a misspelling Flyway would ignore. */
    for (size_t k = 0; k < x.nconfs; k++) {
        size_t cl = strlen(x.confs[k]);
        int found = 0;

        for (size_t i = 0; i < x.n && !found; i++)
            found = strlen(x.files[i].rel) == cl - 5 &&
                    strncmp(x.files[i].rel, x.confs[k], cl - 5) == 0;
        for (size_t i = 0; i < x.nreps && !found; i++)
            found = strlen(x.reps[i]) == cl - 5 && strncmp(x.reps[i], x.confs[k], cl - 5) == 0;
        if (!found)
            report_warning(rep, "%s/%s: ignored: no migration script of that name beside it", dir,
                           x.confs[k]);
        if (!found)
            chain_add_ignored(c, x.confs[k]);
        free(x.confs[k]);
    }
    for (size_t i = 0; i < x.n; i++) {
        free(x.files[i].rel);
        free(x.files[i].version);
        free(x.files[i].desc);
    }
    for (size_t i = 0; i < x.nreps; i++)
        free(x.reps[i]);
    free(x.files);
    free(x.confs);
    free(x.reps);
    return 0;
}

/* Any V<digits>...__*.sql below dir (a few levels deep)? */
static int
find_versioned(const char *dir, int depth)
{
    struct common_dir d;
    struct diag_err err = DIAG_ERR_INIT;
    int found = 0;

    if (common_dir_list(dir, &d, &err) != 0)
        return 0;
    for (size_t i = 0; i < d.n && !found; i++) {
        struct fw_file f;

        if (d.v[i].is_dir && depth < 4) {
            char *sub = xasprintf("%s/%s", dir, d.v[i].name);

            found = find_versioned(sub, depth + 1);
            free(sub);
        } else if (d.v[i].is_file && d.v[i].name[0] == 'V' &&
                   parse_versioned(d.v[i].name, d.v[i].name, &f) == 0) {
            found = 1;
            free(f.rel);
            free(f.version);
            free(f.desc);
        }
    }
    common_dir_release(&d);
    return found;
}

int
detect_flyway_why(const char *dir, char *why, size_t cap)
{
    if (!find_versioned(dir, 0))
        return 0;
    if (why)
        snprintf(why, cap, "V<version>__<description>.sql files");
    return 3;
}

int
detect_flyway(const char *dir)
{
    return detect_flyway_why(dir, NULL, 0);
}
