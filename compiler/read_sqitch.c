/*
 * read_sqitch.c: reader for a Sqitch project: sqitch.plan (pragmas, changes, tags, requires
 * and conflicts), and deploy/, revert/ and verify/ scripts NAME.sql (NAME@TAG.sql for a change
 * reworked later). sqitch.conf may move them (core or engine.pg top_dir, plan_file,
 * deploy_dir, revert_dir, verify_dir, reworked_*dir, extension).
 * Layer: compiler.
 *
 * The plan is read as App::Sqitch::Plan (1.3) reads it, with its errors: a change that requires
 * one planned after it, or one that is not planned, is refused. Sqitch runs every script with
 * psql: a script wrapped in BEGIN; ... COMMIT; (Sqitch's template) keeps that atomicity inside
 * sealift's transaction; a verify script's BEGIN; ... ROLLBACK; becomes a savepoint rolled back
 * to, so that what it did is still undone; a script without its own transaction ran statement
 * by statement in psql, and runs so here when it holds a statement that refuses transaction
 * blocks (else in a transaction, which only adds atomicity).
 */
#include "read_common.h"
#include "readers.h"
#include "sqltext.h"
#include "sealift/hash.h"
#include "sealift/file.h"
#include "sealift/xalloc.h"

#include <ctype.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

enum { DIR_DEPLOY, DIR_REVERT, DIR_VERIFY, NDIRS };

struct sq_conf {
    char *top_dir;
    char *plan_file;
    char *dirs[NDIRS];
    char *reworked_dir;
    char *reworked_dirs[NDIRS];
    char *extension;
    char *engine;
};

struct sq_dep {
    int conflicts;
    char *project; /* NULL: this project */
    char *change;  /* NULL for "@tag" or an id */
    char *tag;
    char *id;
};

struct sq_change {
    char *name;
    char *note;
    char *timestamp;
    char *planner; /* "name <email>" */
    struct sq_dep *deps;
    size_t ndeps;
    size_t deps_cap;
    unsigned line;
    char **tags; /* tags on this change, in plan order */
    size_t ntags;
    size_t tags_cap;
    char **rework_tags; /* when a later change of the same name exists */
    size_t nrework;
    size_t rework_cap;
    char id[41];
};

struct sq_plan {
    char *project;
    char *uri;
    struct sq_change *v;
    size_t n;
    size_t cap;
};

static const char *const script_dirs[NDIRS] = {"deploy", "revert", "verify"};

/* ---- sqitch.conf (git-config syntax; only the keys that move files are read) ---- */

static void
conf_set(char **slot, const char *value, size_t n)
{
    free(*slot);
    *slot = xstrndup(value, n);
}

static void
read_conf(const char *path, struct sq_conf *conf, struct report *rep)
{
    struct buf text = BUF_INIT;
    struct diag_err err = DIAG_ERR_INIT;
    int section = 0; /* 1 core, 2 engine "pg", 0 other */
    unsigned lineno = 0;
    /* engine.pg wins over core: read core values into the first pass, pg into the second. */
    struct sq_conf core = {0}, pg = {0};

    if (sqltext_read_file(path, &text, &err) != 0) {
        report_error(rep, "%s", err.msg);
        buf_release(&text);
        return;
    }
    for (size_t ls = 0, i, e; common_next_line(text.data, text.len, &ls, &i, &e);) {
        const char *l = text.data + i;
        struct sq_conf *into;

        lineno++;
        if (i == e || *l == '#' || *l == ';')
            continue;
        if (*l == '[') {
            section = (e - i == 6 && strncmp(l, "[core]", 6) == 0)              ? 1
                      : (e - i == 13 && strncmp(l, "[engine \"pg\"]", 13) == 0) ? 2
                                                                                : 0;
            continue;
        }
        if (section == 0)
            continue;
        into = section == 1 ? &core : &pg;
        {
            size_t k = i, ke, vs;

            while (k < e && text.data[k] != '=')
                k++;
            for (ke = k; ke > i && isspace((unsigned char)text.data[ke - 1]); ke--)
                ;
            for (vs = k + 1; vs < e && isspace((unsigned char)text.data[vs]); vs++)
                ;
            if (k >= e)
                continue;
            /* Quoted values: git-config strips the quotes. */
            if (e - vs >= 2 && text.data[vs] == '"' && text.data[e - 1] == '"') {
                vs++;
                e--;
            }
#define KEY(s) (ke - i == strlen(s) && strncasecmp(l, s, strlen(s)) == 0)
            if (KEY("top_dir"))
                conf_set(&into->top_dir, text.data + vs, e - vs);
            else if (KEY("plan_file"))
                conf_set(&into->plan_file, text.data + vs, e - vs);
            else if (KEY("extension"))
                conf_set(&into->extension, text.data + vs, e - vs);
            else if (KEY("engine") && section == 1)
                conf_set(&into->engine, text.data + vs, e - vs);
            else if (KEY("reworked_dir"))
                conf_set(&into->reworked_dir, text.data + vs, e - vs);
            else
                for (int d = 0; d < NDIRS; d++) {
                    char key[32], rkey[40];
                    int kn = snprintf(key, sizeof(key), "%s_dir", script_dirs[d]);
                    int rn = snprintf(rkey, sizeof(rkey), "reworked_%s_dir", script_dirs[d]);

                    /* The names are Sqitch's own and fit; a cut one must match nothing. */
                    if (kn < 0 || (size_t)kn >= sizeof(key) || rn < 0 || (size_t)rn >= sizeof(rkey))
                        continue;
                    if (KEY(key))
                        conf_set(&into->dirs[d], text.data + vs, e - vs);
                    else if (KEY(rkey))
                        conf_set(&into->reworked_dirs[d], text.data + vs, e - vs);
                }
#undef KEY
        }
    }
    buf_release(&text);
#define MERGE(f)                                                                                   \
    do {                                                                                           \
        char *v_ = pg.f ? pg.f : core.f;                                                           \
        if (v_) {                                                                                  \
            free(conf->f);                                                                         \
            conf->f = xstrdup(v_);                                                                 \
        }                                                                                          \
        free(pg.f);                                                                                \
        free(core.f);                                                                              \
    } while (0)
    MERGE(top_dir);
    MERGE(plan_file);
    MERGE(reworked_dir);
    MERGE(extension);
    MERGE(engine);
    for (int d = 0; d < NDIRS; d++) {
        MERGE(dirs[d]);
        MERGE(reworked_dirs[d]);
    }
#undef MERGE
}

static void
conf_release(struct sq_conf *c)
{
    free(c->top_dir);
    free(c->plan_file);
    free(c->reworked_dir);
    free(c->extension);
    free(c->engine);
    for (int d = 0; d < NDIRS; d++) {
        free(c->dirs[d]);
        free(c->reworked_dirs[d]);
    }
}

/* A path from sqitch.conf: relative to the project directory (where sqitch runs). */
static char *
project_path(const char *dir, const char *p)
{
    return p[0] == '/' ? xstrdup(p) : xasprintf("%s/%s", dir, p);
}

/* ---- sqitch.plan ---- */

static const char *const punct = "-!\"#$%&'()*+,./:;<=>?@[\\]^`{|}~";

static int
is_blank(char c)
{
    return c == ' ' || c == '\t';
}

/* Plan.pm's name_re, for a name of n bytes at s. */
static int
name_valid(const char *s, size_t n)
{
    if (n == 0 || strchr(punct, s[0]) || strchr(punct, s[n - 1]))
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (is_blank(s[i]) || s[i] == ':' || s[i] == '@' || s[i] == '#' || s[i] == '\\')
            return 0;
        /* No [~/=%^] followed by digits at the end ("foo^2" is a symbolic reference). */
        if (strchr("~/=%^", s[i]) && i + 1 < n && isdigit((unsigned char)s[i + 1])) {
            size_t j = i + 1;

            while (j < n && isdigit((unsigned char)s[j]))
                j++;
            if (j == n)
                return 0;
        }
    }
    return 1;
}

/* Unescape and trim a note as Plan::Line does ("\\n", "\\r", "\\\\"). */
static char *
note_text(const char *s, size_t n)
{
    struct buf out = BUF_INIT;

    while (n > 0 && isspace((unsigned char)*s)) {
        s++;
        n--;
    }
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        n--;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\\' && i + 1 < n && (s[i + 1] == 'n' || s[i + 1] == 'r' || s[i + 1] == '\\')) {
            buf_addch(&out, s[i + 1] == 'n' ? '\n' : s[i + 1] == 'r' ? '\r' : '\\');
            i++;
        } else {
            buf_addch(&out, s[i]);
        }
    }
    return buf_detach(&out, NULL);
}

static int
parse_dep(const char *s, size_t n, struct sq_dep *d)
{
    const char *colon, *at;

    memset(d, 0, sizeof(*d));
    if (n > 0 && *s == '!') {
        d->conflicts = 1;
        s++;
        n--;
    }
    colon = memchr(s, ':', n);
    if (colon) {
        if (!name_valid(s, (size_t)(colon - s)))
            return -1;
        d->project = xstrndup(s, (size_t)(colon - s));
        n -= (size_t)(colon - s) + 1;
        s = colon + 1;
    }
    if (n == 40) {
        size_t k = 0;

        while (k < 40 && ((s[k] >= '0' && s[k] <= '9') || (s[k] >= 'a' && s[k] <= 'f')))
            k++;
        if (k == 40) {
            d->id = xstrndup(s, 40);
            return 0;
        }
    }
    at = memchr(s, '@', n);
    if (at) {
        if (!name_valid(at + 1, n - (size_t)(at - s) - 1) ||
            (at > s && !name_valid(s, (size_t)(at - s))))
            return -1;
        d->tag = xstrndup(at + 1, n - (size_t)(at - s) - 1);
        if (at > s)
            d->change = xstrndup(s, (size_t)(at - s));
        return 0;
    }
    if (!name_valid(s, n))
        return -1;
    d->change = xstrndup(s, n);
    return 0;
}

/* Dependency as App::Sqitch::Plan::Depend->as_string (without the conflict "!"). */
static void
dep_string(const struct sq_plan *p, const struct sq_dep *d, struct buf *out)
{
    if (d->project && strcmp(d->project, p->project) != 0)
        buf_addf(out, "%s:", d->project);
    if (d->change)
        buf_addstr(out, d->change);
    if (d->tag)
        buf_addf(out, "@%s", d->tag);
    if (!d->change && !d->tag && d->id)
        buf_addstr(out, d->id);
}

static int
is_timestamp(const char *s, size_t n)
{
    static const char pat[] = "dddd-dd-ddTdd:dd:ddZ";

    if (n < 20)
        return 0;
    for (size_t i = 0; i < 20; i++)
        if (pat[i] == 'd' ? !isdigit((unsigned char)s[i]) : s[i] != pat[i])
            return 0;
    return 1;
}

static void
free_plan(struct sq_plan *p)
{
    for (size_t i = 0; i < p->n; i++) {
        struct sq_change *c = &p->v[i];

        free(c->name);
        free(c->note);
        free(c->timestamp);
        free(c->planner);
        for (size_t k = 0; k < c->ndeps; k++) {
            free(c->deps[k].project);
            free(c->deps[k].change);
            free(c->deps[k].tag);
            free(c->deps[k].id);
        }
        free(c->deps);
        for (size_t k = 0; k < c->ntags; k++)
            free(c->tags[k]);
        free(c->tags);
        for (size_t k = 0; k < c->nrework; k++)
            free(c->rework_tags[k]);
        free(c->rework_tags);
    }
    free(p->v);
    free(p->project);
    free(p->uri);
}

/* Has the change i (by name, or name@tag) been planned before position pos (Plan.pm rules)? */
static int
dep_satisfied(const struct sq_plan *p, size_t pos, const struct sq_dep *d)
{
    if (d->change && d->tag) {
        /* change@tag: the change appears before the tag, both before pos. */
        for (size_t t = 0; t < pos; t++)
            for (size_t k = 0; k < p->v[t].ntags; k++)
                if (strcmp(p->v[t].tags[k], d->tag) == 0)
                    for (size_t c = 0; c <= t; c++)
                        if (strcmp(p->v[c].name, d->change) == 0)
                            return 1;
        return 0;
    }
    if (d->tag) {
        for (size_t t = 0; t < pos; t++)
            for (size_t k = 0; k < p->v[t].ntags; k++)
                if (strcmp(p->v[t].tags[k], d->tag) == 0)
                    return 1;
        return 0;
    }
    for (size_t c = 0; c < pos; c++)
        if (strcmp(p->v[c].name, d->change) == 0)
            return 1;
    return 0;
}

static int
parse_plan(const char *path, struct sq_plan *p, struct report *rep)
{
    struct buf text = BUF_INIT;
    struct diag_err err = DIAG_ERR_INIT;
    int header = 1, ok = 1;
    unsigned lineno = 0;
    size_t section_start = 0;    /* first change after the last tag */
    struct buf other = BUF_INIT; /* dependencies on other projects, for one warning */
    size_t nother = 0;

    memset(p, 0, sizeof(*p));
    if (sqltext_read_file(path, &text, &err) != 0) {
        report_error(rep, "%s", err.msg);
        buf_release(&text);
        return -1;
    }
    for (size_t ls = 0; ls < text.len && ok;) {
        const char *nl = memchr(text.data + ls, '\n', text.len - ls);
        size_t le = nl ? (size_t)(nl - text.data) : text.len;
        const char *l = text.data + ls, *hash;
        size_t n = le - ls, i = 0, e;

        lineno++;
        ls = nl ? le + 1 : text.len;
        while (i < n && is_blank(l[i]))
            i++;
        if (i == n || l[i] == '#') {
            /* A blank line (not a comment) ends the pragmas. */
            if (header && i == n)
                header = 0;
            continue;
        }
        hash = memchr(l, '#', n);
        e = hash ? (size_t)(hash - l) : n;
        while (e > i && is_blank(l[e - 1]))
            e--;
        if (header) {
            size_t k, ke, vs;

            if (l[i] != '%') {
                report_error(rep, "%s:%u: a blank line must come between pragmas and changes", path,
                             lineno);
                ok = 0;
                break;
            }
            for (i++; i < e && is_blank(l[i]); i++)
                ;
            for (k = i; k < e && l[k] != '='; k++)
                ;
            for (ke = k; ke > i && is_blank(l[ke - 1]); ke--)
                ;
            for (vs = k + 1; vs < e && is_blank(l[vs]); vs++)
                ;
            if (ke - i == 7 && strncmp(l + i, "project", 7) == 0 && k < e) {
                if (!name_valid(l + vs, e - vs)) {
                    report_error(rep, "%s:%u: invalid project name \"%.*s\"", path, lineno,
                                 (int)(e - vs), l + vs);
                    ok = 0;
                }
                free(p->project);
                p->project = xstrndup(l + vs, e - vs);
            } else if (ke - i == 3 && strncmp(l + i, "uri", 3) == 0 && k < e) {
                free(p->uri);
                p->uri = xstrndup(l + vs, e - vs);
            } else if (ke - i == 14 && strncmp(l + i, "syntax-version", 14) == 0) {
                /* Sqitch parses every plan as 1.0.0. */
            } else {
                report_warning(rep, "%s:%u: unknown pragma \"%.*s\" ignored", path, lineno,
                               (int)(ke - i), l + i);
            }
            continue;
        }
        if (p->project == NULL) {
            report_error(rep, "%s: missing %%project pragma", path);
            ok = 0;
            break;
        }
        {
            int tag = 0;
            size_t ns, ne, k;
            struct sq_change ch;

            memset(&ch, 0, sizeof(ch));
            if (l[i] == '@') {
                tag = 1;
                i++;
            } else if (l[i] == '+' || l[i] == '-') {
                if (l[i] == '-') {
                    report_error(rep,
                                 "%s:%u: a change to revert (\"-\"): sealift reads plans whose "
                                 "changes are all deployed",
                                 path, lineno);
                    ok = 0;
                    break;
                }
                for (i++; i < e && is_blank(l[i]); i++)
                    ;
            }
            for (ns = i, ne = i; ne < e && !is_blank(l[ne]) && l[ne] != '['; ne++)
                ;
            if (!name_valid(l + ns, ne - ns) ||
                (ne - ns == 4 &&
                 (strncmp(l + ns, "ROOT", 4) == 0 || strncmp(l + ns, "HEAD", 4) == 0))) {
                report_error(rep, "%s:%u: invalid %s name \"%.*s\"", path, lineno,
                             tag ? "tag" : "change", (int)(ne - ns), l + ns);
                ok = 0;
                break;
            }
            for (k = ne; k < e && is_blank(l[k]); k++)
                ;
            ch.name = xstrndup(l + ns, ne - ns);
            ch.line = lineno;
            if (k < e && l[k] == '[') {
                const char *close = memchr(l + k, ']', e - k);
                size_t ds;

                if (tag || close == NULL) {
                    report_error(rep, "%s:%u: %s", path, lineno,
                                 tag ? "tags may not have dependencies"
                                     : "unterminated dependency list");
                    free(ch.name);
                    ok = 0;
                    break;
                }
                for (ds = k + 1; ds < (size_t)(close - l);) {
                    size_t de;

                    while (ds < (size_t)(close - l) && is_blank(l[ds]))
                        ds++;
                    for (de = ds; de < (size_t)(close - l) && !is_blank(l[de]); de++)
                        ;
                    if (de > ds) {
                        ch.deps = xgrow(ch.deps, &ch.deps_cap, ch.ndeps + 1, sizeof(*ch.deps));
                        if (parse_dep(l + ds, de - ds, &ch.deps[ch.ndeps]) != 0) {
                            report_error(rep, "%s:%u: \"%.*s\" is not a valid dependency", path,
                                         lineno, (int)(de - ds), l + ds);
                            ok = 0;
                        }
                        ch.ndeps++;
                    }
                    ds = de;
                }
                for (k = (size_t)(close - l) + 1; k < e && is_blank(l[k]); k++)
                    ;
            }
            if (!is_timestamp(l + k, e - k)) {
                report_error(rep, "%s:%u: missing timestamp", path, lineno);
                ok = 0;
            } else {
                ch.timestamp = xstrndup(l + k, 20);
                for (k += 20; k < e && is_blank(l[k]); k++)
                    ;
                /* The planner: "name <email>", the last thing on the line. */
                if (!(e > k && l[e - 1] == '>' && memchr(l + k, '<', e - k))) {
                    report_error(rep, "%s:%u: missing planner name and email", path, lineno);
                    ok = 0;
                } else {
                    const char *lt = memchr(l + k, '<', e - k);
                    size_t name_end = (size_t)(lt - l);

                    /* [^<]+ [[:blank:]]+ <...>: one blank goes to the separator. */
                    if (name_end == k || !is_blank(l[name_end - 1])) {
                        report_error(rep, "%s:%u: missing planner name and email", path, lineno);
                        ok = 0;
                    } else {
                        ch.planner = xasprintf("%.*s %.*s", (int)(name_end - 1 - k), l + k,
                                               (int)(e - name_end), lt);
                    }
                }
            }
            if (hash)
                ch.note = note_text(hash + 1, n - (size_t)(hash - l) - 1);
            else
                ch.note = xstrdup("");
            if (!ok) {
                free(ch.name);
                free(ch.note);
                free(ch.timestamp);
                free(ch.planner);
                for (size_t d = 0; d < ch.ndeps; d++) {
                    free(ch.deps[d].project);
                    free(ch.deps[d].change);
                    free(ch.deps[d].tag);
                    free(ch.deps[d].id);
                }
                free(ch.deps);
                break;
            }
            if (tag) {
                struct sq_change *last;

                if (p->n == 0) {
                    report_error(rep, "%s:%u: tag \"%s\" declared without a preceding change", path,
                                 lineno, ch.name);
                    ok = 0;
                }
                for (size_t c = 0; c < p->n && ok; c++)
                    for (size_t t = 0; t < p->v[c].ntags; t++)
                        if (strcmp(p->v[c].tags[t], ch.name) == 0) {
                            report_error(rep, "%s:%u: tag \"%s\" duplicates an earlier one", path,
                                         lineno, ch.name);
                            ok = 0;
                        }
                if (ok) {
                    last = &p->v[p->n - 1];
                    last->tags =
                        xgrow(last->tags, &last->tags_cap, last->ntags + 1, sizeof(*last->tags));
                    last->tags[last->ntags++] = xstrdup(ch.name);
                    section_start = p->n;
                }
                free(ch.name);
                free(ch.note);
                free(ch.timestamp);
                free(ch.planner);
                continue;
            }
            for (size_t c = section_start; c < p->n; c++)
                if (strcmp(p->v[c].name, ch.name) == 0) {
                    report_error(rep, "%s:%u: change \"%s\" duplicates the one on line %u", path,
                                 lineno, ch.name, p->v[c].line);
                    ok = 0;
                }
            /* Reworked: the earlier change of this name gets the tags between them. */
            for (size_t c = section_start; ok && c-- > 0;)
                if (strcmp(p->v[c].name, ch.name) == 0) {
                    struct sq_change *old = &p->v[c];

                    for (size_t x = section_start; x-- > c + 1;)
                        for (size_t t = 0; t < p->v[x].ntags; t++) {
                            old->rework_tags = xgrow(old->rework_tags, &old->rework_cap,
                                                     old->nrework + 1, sizeof(char *));
                            old->rework_tags[old->nrework++] = xstrdup(p->v[x].tags[t]);
                        }
                    for (size_t t = 0; t < old->ntags; t++) {
                        old->rework_tags = xgrow(old->rework_tags, &old->rework_cap,
                                                 old->nrework + 1, sizeof(char *));
                        old->rework_tags[old->nrework++] = xstrdup(old->tags[t]);
                    }
                    break;
                }
            p->v = xgrow(p->v, &p->cap, p->n + 1, sizeof(*p->v));
            p->v[p->n++] = ch;
        }
    }
    if (ok && p->project == NULL) {
        report_error(rep, "%s: missing %%project pragma", path);
        ok = 0;
    }
    /* Dependencies: what Plan.pm's check_changes refuses, and conflicts deploy would refuse. */
    for (size_t i = 0; i < p->n && ok; i++) {
        for (size_t k = 0; k < p->v[i].ndeps; k++) {
            const struct sq_dep *d = &p->v[i].deps[k];
            struct buf s = BUF_INIT;

            dep_string(p, d, &s);
            if (d->project && strcmp(d->project, p->project) != 0) {
                /* Summed up below, in one line: a plan may have many. */
                buf_addf(&other, "%s%s%s", nother++ ? ", " : "", d->conflicts ? "!" : "", s.data);
            } else if (d->id) {
                /* An id may name a change of any project: Sqitch does not check it either. */
            } else if (d->conflicts) {
                if (d->change && dep_satisfied(p, i, d))
                    report_error(rep,
                                 "%s:%u: change \"%s\" conflicts with \"%s\", which is deployed "
                                 "before it; Sqitch would refuse to deploy it",
                                 path, p->v[i].line, p->v[i].name, s.data);
            } else if (d->change && strcmp(d->change, p->v[i].name) == 0 && !d->tag) {
                report_error(rep, "%s:%u: change \"%s\" cannot require itself", path, p->v[i].line,
                             p->v[i].name);
            } else if (!dep_satisfied(p, i, d)) {
                int later = 0;

                for (size_t c = i + 1; c < p->n && d->change; c++)
                    later |= strcmp(p->v[c].name, d->change) == 0;
                if (later)
                    report_error(rep,
                                 "%s:%u: change \"%s\" requires \"%s\", which is planned after "
                                 "it (move \"%s\" below it)",
                                 path, p->v[i].line, p->v[i].name, s.data, p->v[i].name);
                else
                    report_error(rep, "%s:%u: change \"%s\" requires unknown change \"%s\"", path,
                                 p->v[i].line, p->v[i].name, s.data);
            }
            buf_release(&s);
        }
    }
    if (nother)
        report_warning(rep,
                       "%s: %zu dependenc%s on other projects' changes (%s): sealift does not "
                       "check those when applying (deploy those projects first)",
                       path, nother, nother == 1 ? "y" : "ies", other.data);
    buf_release(&other);
    buf_release(&text);
    return ok ? 0 : -1;
}

/* The change id: SHA-1 of "change LEN\0" + Change.pm's info text. */
static void
change_id(const struct sq_plan *p, size_t i, char out[41])
{
    const struct sq_change *c = &p->v[i];
    struct buf info = BUF_INIT, all = BUF_INIT;
    unsigned char sha[HASH_SHA1_BYTES];
    int nreq = 0, ncon = 0;

    buf_addf(&info, "project %s\n", p->project);
    if (p->uri) {
        /* URI->canonical lower-cases the scheme and host; the rest stays as written. */
        const char *colon = strchr(p->uri, ':');
        size_t n = strlen(p->uri), host_end;

        buf_addstr(&info, "uri ");
        if (colon && colon[1] == '/' && colon[2] == '/') {
            const char *h = colon + 3;

            for (host_end = (size_t)(h - p->uri);
                 host_end < n && p->uri[host_end] != '/' && p->uri[host_end] != '?' &&
                 p->uri[host_end] != '#';
                 host_end++)
                ;
            for (size_t k = 0; k < host_end; k++)
                buf_addch(&info, (char)tolower((unsigned char)p->uri[k]));
            buf_addstr(&info, p->uri + host_end);
        } else {
            buf_addstr(&info, p->uri);
        }
        buf_addch(&info, '\n');
    }
    buf_addf(&info, "change %s\n", c->name);
    if (i > 0)
        buf_addf(&info, "parent %s\n", p->v[i - 1].id);
    buf_addf(&info, "planner %s\ndate %s", c->planner, c->timestamp);
    for (size_t k = 0; k < c->ndeps; k++)
        if (!c->deps[k].conflicts) {
            buf_addstr(&info, nreq++ ? "\n  + " : "\nrequires\n  + ");
            dep_string(p, &c->deps[k], &info);
        }
    for (size_t k = 0; k < c->ndeps; k++)
        if (c->deps[k].conflicts) {
            buf_addstr(&info, ncon++ ? "\n  - " : "\nconflicts\n  - ");
            dep_string(p, &c->deps[k], &info);
        }
    if (c->note[0])
        buf_addf(&info, "\n\n%s", c->note);
    buf_addf(&all, "change %zu", info.len);
    buf_add(&all, "", 1);
    buf_add(&all, info.data, info.len);
    hash_sha1(all.data, all.len, sha);
    hex_encode(out, sha, HASH_SHA1_BYTES);
    buf_release(&info);
    buf_release(&all);
}

/* ---- scripts ---- */

struct sq_layout {
    char *dirs[NDIRS];
    char *reworked[NDIRS];
    char *ext;
};

/* The path of change i's script of kind d (Change.pm's path_segments), malloc'd. */
static char *
script_path(const struct sq_layout *lay, const struct sq_change *c, int d)
{
    if (c->nrework == 0)
        return xasprintf("%s/%s.%s", lay->dirs[d], c->name, lay->ext);
    /* The first rework tag with a deploy file wins; else the first. */
    for (size_t t = 0; t < c->nrework; t++) {
        char *deploy = xasprintf("%s/%s@%s.%s", lay->reworked[DIR_DEPLOY], c->name,
                                 c->rework_tags[t], lay->ext);
        int found = common_is_file(deploy);

        free(deploy);
        if (found)
            return xasprintf("%s/%s@%s.%s", lay->reworked[d], c->name, c->rework_tags[t], lay->ext);
    }
    return xasprintf("%s/%s@%s.%s", lay->reworked[d], c->name, c->rework_tags[0], lay->ext);
}

/* A script run without its own transaction ran statement by statement under psql. */
static void
psql_transaction_mode(struct src_script *s, int stripped)
{
    struct common_stmt *st = NULL;
    size_t n;

    if (stripped)
        return;
    n = common_statements(s->text.data, s->text.len, &st);
    for (size_t i = 0; i < n; i++)
        if (common_no_tx_kind(s->text.data, st[i].start, st[i].end))
            s->transactional = 0;
    free(st);
}

static void
load_sqitch_script(struct src_migration *m, int kind, const char *path, struct report *rep)
{
    struct src_script *s = &m->script[kind];
    struct diag_err err = DIAG_ERR_INIT;
    int stripped;

    s->file = xstrdup(path);
    if (sqltext_read_file(path, &s->text, &err) != 0) {
        report_error(rep, "%s", err.msg);
        return;
    }
    s->present = 1;
    common_refuse_psql(s, rep);
    stripped = common_strip_outer_transaction(&s->text, kind == MANIFEST_VERIFY);
    if (kind != MANIFEST_VERIFY)
        psql_transaction_mode(s, stripped);
    s->no_tx_hint = "leave out its BEGIN; and COMMIT; (psql then runs it statement by "
                    "statement), or move the statement to a change of its own";
}

/* Record the files of the script directories that no change uses. */
static void
list_unused(struct src_chain *c, const char *dir, const char *root, const char *rel,
            const struct sq_layout *lay, int depth)
{
    struct common_dir d;
    struct diag_err err = DIAG_ERR_INIT;
    char *path = rel[0] ? xasprintf("%s/%s", root, rel) : xstrdup(root);

    if (common_dir_list(path, &d, &err) == 0) {
        for (size_t i = 0; i < d.n; i++) {
            char *sub = rel[0] ? xasprintf("%s/%s", rel, d.v[i].name) : xstrdup(d.v[i].name);
            char *full = xasprintf("%s/%s", root, sub);
            int used = 0;

            if (d.v[i].is_dir && depth < 16) {
                list_unused(c, dir, root, sub, lay, depth + 1);
            } else {
                for (size_t k = 0; k < c->n && !used; k++)
                    for (int s = 0; s < MANIFEST_NSCRIPTS && !used; s++)
                        used = c->v[k].script[s].file && strcmp(c->v[k].script[s].file, full) == 0;
                if (!used) {
                    size_t dl = strlen(dir);
                    const char *shown =
                        strncmp(full, dir, dl) == 0 && full[dl] == '/' ? full + dl + 1 : full;

                    chain_add_ignored(c, shown);
                }
            }
            free(sub);
            free(full);
        }
        common_dir_release(&d);
    }
    free(path);
}

int
read_sqitch(const char *dir, const struct read_options *opt, struct src_chain *c,
            struct report *rep, struct diag_err *err)
{
    struct sq_conf conf;
    struct sq_layout lay;
    struct sq_plan plan;
    struct common_dir top;
    char *conf_path = xasprintf("%s/sqitch.conf", dir);
    char *top_dir, *plan_path, *rw;

    if (common_dir_list(dir, &top, err) != 0) {
        free(conf_path);
        return -1;
    }
    memset(&conf, 0, sizeof(conf));
    memset(&lay, 0, sizeof(lay));
    if (common_is_file(conf_path))
        read_conf(conf_path, &conf, rep);
    if (conf.engine && strcmp(conf.engine, "pg") != 0)
        report_error(rep, "%s: core.engine is \"%s\"; sealift reads PostgreSQL (pg) projects",
                     conf_path, conf.engine);
    top_dir = conf.top_dir ? project_path(dir, conf.top_dir) : xstrdup(dir);
    plan_path =
        conf.plan_file ? project_path(dir, conf.plan_file) : xasprintf("%s/sqitch.plan", top_dir);
    rw = conf.reworked_dir ? project_path(dir, conf.reworked_dir) : xstrdup(top_dir);
    for (int d = 0; d < NDIRS; d++) {
        lay.dirs[d] = conf.dirs[d] ? project_path(dir, conf.dirs[d])
                                   : xasprintf("%s/%s", top_dir, script_dirs[d]);
        lay.reworked[d] = conf.reworked_dirs[d] ? project_path(dir, conf.reworked_dirs[d])
                                                : xasprintf("%s/%s", rw, script_dirs[d]);
    }
    lay.ext = xstrdup(conf.extension ? conf.extension : "sql");

    if (parse_plan(plan_path, &plan, rep) == 0) {
        /* The project is the plan's %project, as Sqitch names it (its registry rows too). */
        if (plan.project && manifest_token_valid(plan.project))
            c->project = xstrdup(plan.project);
        for (size_t i = 0; i < plan.n; i++) {
            const struct sq_change *ch = &plan.v[i];
            struct src_migration *m;
            char *id, *path;
            struct buf raw = BUF_INIT;
            struct diag_err rerr = DIAG_ERR_INIT;

            change_id(&plan, i, plan.v[i].id);
            /* A change reworked later is "name@tag", as Sqitch names it; the last is "name". */
            if (ch->nrework)
                id = xasprintf("%s@%s", ch->name, ch->ntags ? ch->tags[0] : ch->rework_tags[0]);
            else
                id = xstrdup(ch->name);
            /*
             * The change's name is its id; the note is prose ("Adds a table for ..."), not a
             * name: it stays out of labels and member paths.
             */
            m = chain_add(c, id, "");
            m->origin_id = xstrdup(ch->id);
            m->origin_name = xstrdup(ch->name);
            /* Its tags, for --to @TAG and CHANGE@TAG (sqitch deploy/revert --to). */
            if (ch->ntags) {
                struct buf tags = BUF_INIT;

                for (size_t t = 0; t < ch->ntags; t++)
                    buf_addf(&tags, "%s@%s", t ? " " : "", ch->tags[t]);
                m->origin_tags = buf_detach(&tags, NULL);
            }
            path = script_path(&lay, ch, DIR_DEPLOY);
            if (!common_is_file(path)) {
                report_error(rep, "%s: deploy script of change \"%s\" missing", path, id);
                m->script[MANIFEST_UP].file = xstrdup(path);
            } else {
                load_sqitch_script(m, MANIFEST_UP, path, rep);
                /* script_hash: SHA-1 of the deploy file's raw bytes. */
                if (file_read_all(path, FILE_READ_MAX, &raw, &rerr) == 0) {
                    unsigned char sha[HASH_SHA1_BYTES];
                    char hex[HASH_SHA1_HEX];

                    hash_sha1(raw.data, raw.len, sha);
                    m->origin_checksum = xstrdup(hex_encode(hex, sha, HASH_SHA1_BYTES));
                }
                buf_release(&raw);
            }
            free(path);
            path = script_path(&lay, ch, DIR_REVERT);
            if (common_is_file(path))
                load_sqitch_script(m, MANIFEST_DOWN, path, rep);
            else
                common_no_down(opt, path, "no revert script", rep);
            free(path);
            path = script_path(&lay, ch, DIR_VERIFY);
            if (common_is_file(path))
                load_sqitch_script(m, MANIFEST_VERIFY, path, rep);
            free(path);
            free(id);
        }
    }
    /* Everything else in the project is not part of the chain. */
    for (size_t i = 0; i < top.n; i++) {
        const char *n = top.v[i].name;
        char *full = xasprintf("%s/%s", dir, n);
        int known = strcmp(full, plan_path) == 0 || strcmp(full, conf_path) == 0;

        for (int d = 0; d < NDIRS && !known; d++)
            known = strcmp(full, lay.dirs[d]) == 0 || strcmp(full, lay.reworked[d]) == 0;
        if (!known && strcmp(full, top_dir) != 0) {
            char *shown = top.v[i].is_dir ? xasprintf("%s/", n) : xstrdup(n);

            chain_add_ignored(c, shown);
            free(shown);
        }
        free(full);
    }
    for (int d = 0; d < NDIRS; d++) {
        list_unused(c, dir, lay.dirs[d], "", &lay, 0);
        if (strcmp(lay.reworked[d], lay.dirs[d]) != 0)
            list_unused(c, dir, lay.reworked[d], "", &lay, 0);
    }
    free_plan(&plan);
    for (int d = 0; d < NDIRS; d++) {
        free(lay.dirs[d]);
        free(lay.reworked[d]);
    }
    free(lay.ext);
    conf_release(&conf);
    common_dir_release(&top);
    free(conf_path);
    free(top_dir);
    free(plan_path);
    free(rw);
    return 0;
}

int
detect_sqitch_why(const char *dir, char *why, size_t cap)
{
    static const char *const names[] = {"sqitch.plan", "sqitch.conf"};
    int score = 0;

    for (size_t i = 0; i < 2 && !score; i++) {
        char *path = xasprintf("%s/%s", dir, names[i]);

        if (common_is_file(path)) {
            score = 3;
            if (why)
                snprintf(why, cap, "%s", names[i]);
        }
        free(path);
    }
    return score;
}

int
detect_sqitch(const char *dir)
{
    return detect_sqitch_why(dir, NULL, 0);
}
