/*
 * read_common.c: helpers the source-format readers share (see read_common.h).
 * Layer: compiler.
 */
#include "read_common.h"
#include "sqlsplit.h"
#include "sqltext.h"
#include "sealift/sqllex.h"
#include "sealift/textpos.h"
#include "sealift/xalloc.h"

#include <ctype.h>
#include <stdio.h>
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static int
cmp_entry(const void *a, const void *b)
{
    return strcmp(((const struct common_entry *)a)->name, ((const struct common_entry *)b)->name);
}

void
common_entry_type(const char *dir, const struct dirent *de, int *is_file, int *is_dir)
{
    struct stat st;
    char *path;

    /* readdir tells the type on most file systems; stat only links and the unknown. */
    if (de->d_type == DT_REG || de->d_type == DT_DIR) {
        *is_file = de->d_type == DT_REG;
        *is_dir = de->d_type == DT_DIR;
        return;
    }
    path = xasprintf("%s/%s", dir, de->d_name);
    *is_dir = stat(path, &st) == 0 && S_ISDIR(st.st_mode);
    *is_file = !*is_dir && stat(path, &st) == 0 && S_ISREG(st.st_mode);
    free(path);
}

int
common_dir_list(const char *dir, struct common_dir *out, struct diag_err *err)
{
    return common_dir_list_of(dir, "migrations directory", out, err);
}

int
common_dir_list_of(const char *dir, const char *what, struct common_dir *out, struct diag_err *err)
{
    DIR *d = opendir(dir);
    struct dirent *de;

    memset(out, 0, sizeof(*out));
    if (d == NULL)
        return err_set_io(err, "could not open %s \"%s\": %s", what, dir, strerror(errno));
    while ((de = readdir(d)) != NULL) {
        struct common_entry *e;

        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        out->v = xgrow(out->v, &out->cap, out->n + 1, sizeof(*out->v));
        e = &out->v[out->n++];
        e->name = xstrdup(de->d_name);
        common_entry_type(dir, de, &e->is_file, &e->is_dir);
    }
    closedir(d);
    if (out->n > 1)
        qsort(out->v, out->n, sizeof(*out->v), cmp_entry);
    return 0;
}

void
common_dir_release(struct common_dir *d)
{
    for (size_t i = 0; i < d->n; i++)
        free(d->v[i].name);
    free(d->v);
    memset(d, 0, sizeof(*d));
}

int
common_next_line(const char *text, size_t len, size_t *pos, size_t *start, size_t *end)
{
    const char *nl;
    size_t i = *pos, e;

    if (i >= len)
        return 0;
    nl = memchr(text + i, '\n', len - i);
    e = nl ? (size_t)(nl - text) : len;
    *pos = nl ? e + 1 : len;
    while (i < e && isspace((unsigned char)text[i]))
        i++;
    while (e > i && isspace((unsigned char)text[e - 1]))
        e--;
    *start = i;
    *end = e;
    return 1;
}

int
common_detect_in_files(const char *dir, size_t max, common_want_cb want, common_looks_cb looks,
                       char *found_name, size_t cap)
{
    struct common_dir d;
    struct diag_err err = DIAG_ERR_INIT;
    size_t sampled = 0;
    int found = 0;

    if (common_dir_list(dir, &d, &err) != 0)
        return 0;
    for (size_t i = 0; i < d.n && !found; i++) {
        struct buf text = BUF_INIT;
        char *path;

        if (!d.v[i].is_file || !want(d.v[i].name))
            continue;
        /* Reading costs: a few files of a format tell. */
        if (max && ++sampled > max)
            break;
        path = xasprintf("%s/%s", dir, d.v[i].name);
        found = sqltext_read_file(path, &text, &err) == 0 && looks(text.data, text.len);
        if (found && found_name)
            snprintf(found_name, cap, "%s", d.v[i].name);
        buf_release(&text);
        free(path);
    }
    common_dir_release(&d);
    return found;
}

int
common_is_file(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

int
common_is_dir(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Is the COPY statement [start, end) reading FROM STDIN (whose data lines follow it)? */
static int
copy_from_stdin(const char *t, size_t start, size_t end)
{
    for (size_t i = start; i + 5 <= end; i++)
        if (strncasecmp(t + i, "stdin", 5) == 0 && (i == 0 || !sqllex_ident_char(t[i - 1])) &&
            (i + 5 == end || !sqllex_ident_char(t[i + 5])))
            return 1;
    return 0;
}

size_t
common_statements(const char *text, size_t len, struct common_stmt **out)
{
    size_t n = 0, cap = 0, pos = 0;

    *out = NULL;
    while (pos < len) {
        size_t start = sqllex_skip_blank(text, len, pos), end;

        if (start >= len)
            break;
        end = sqllex_statement_end(text, len, start);
        if (end > start) {
            *out = xgrow(*out, &cap, n + 1, sizeof(**out));
            (*out)[n].start = start;
            (*out)[n].end = end;
            (*out)[n].has_semicolon = end < len;
            n++;
        }
        pos = end < len ? end + 1 : len;
        if (end < len && sqlsplit_starts_with_copy(text + start, end - start) &&
            copy_from_stdin(text, start, end)) {
            size_t ds, de, after;

            if (sqlsplit_copy_data(text, len, end, &ds, &de, &after) == 0)
                pos = after;
        }
    }
    return n;
}

void
common_words(const char *text, size_t start, size_t end, int max, char *out, size_t cap)
{
    size_t used = 0, i = start;

    out[0] = '\0';
    for (int w = 0; w < max; w++) {
        size_t j;

        i = sqllex_skip_blank(text, end, i);
        if (i >= end || !(isalpha((unsigned char)text[i]) || text[i] == '_'))
            break;
        for (j = i; j < end && sqllex_ident_char(text[j]); j++)
            ;
        if (used + (j - i) + 2 > cap)
            break;
        if (used)
            out[used++] = ' ';
        for (size_t k = i; k < j; k++)
            out[used++] = (char)toupper((unsigned char)text[k]);
        out[used] = '\0';
        i = j;
    }
}

static int
starts(const char *words, const char *prefix)
{
    size_t n = strlen(prefix);

    return strncmp(words, prefix, n) == 0 && (words[n] == '\0' || words[n] == ' ');
}

const char *
common_no_tx_kind(const char *text, size_t start, size_t end)
{
    char w[128];

    common_words(text, start, end, 6, w, sizeof(w));
    if (starts(w, "CREATE INDEX CONCURRENTLY") || starts(w, "CREATE UNIQUE INDEX CONCURRENTLY"))
        return "CREATE INDEX CONCURRENTLY";
    if (starts(w, "DROP INDEX CONCURRENTLY"))
        return "DROP INDEX CONCURRENTLY";
    if (starts(w, "REINDEX") && (strstr(w, " CONCURRENTLY") || strstr(w, " SCHEMA") ||
                                 strstr(w, " DATABASE") || strstr(w, " SYSTEM")))
        return "REINDEX CONCURRENTLY, SCHEMA, DATABASE or SYSTEM";
    if (starts(w, "VACUUM"))
        return "VACUUM";
    if (starts(w, "CREATE DATABASE") || starts(w, "DROP DATABASE"))
        return "CREATE or DROP DATABASE";
    if (starts(w, "CREATE TABLESPACE") || starts(w, "DROP TABLESPACE"))
        return "CREATE or DROP TABLESPACE";
    if (starts(w, "CREATE SUBSCRIPTION") || starts(w, "DROP SUBSCRIPTION"))
        return "CREATE or DROP SUBSCRIPTION";
    if (starts(w, "ALTER SYSTEM"))
        return "ALTER SYSTEM";
    if (starts(w, "DISCARD ALL"))
        return "DISCARD ALL";
    return NULL;
}

/* ---- checks on loaded scripts ---- */

/* Report psql meta-commands and variables in text[i, stop). */
static size_t
refuse_psql_range(const struct src_script *s, size_t i, size_t stop, struct report *rep)
{
    const char *t = s->text.data;
    size_t problems = 0;

    while (i < stop) {
        size_t j = sqllex_skip(t, stop, i);

        if (j != i) {
            i = j;
            continue;
        }
        if (t[i] == '\\' || (t[i] == ':' && i + 1 < stop && (t[i + 1] == '\'' || t[i + 1] == '"') &&
                             !(i > 0 && t[i - 1] == ':'))) {
            unsigned line, col;
            size_t e = i + 1;

            while (e < stop && e - i < 24 && !isspace((unsigned char)t[e]))
                e++;
            textpos_line_col(t, s->text.len, i, &line, &col);
            if (t[i] == '\\')
                report_error(rep,
                             "%s:%u:%u: psql meta-command \"%.*s\" is not supported (sealift "
                             "sends SQL to the server, not to psql)",
                             s->file, line, col, (int)(e - i), t + i);
            else
                report_error(rep,
                             "%s:%u:%u: psql variable \"%.*s\" is not supported (sealift sends "
                             "SQL to the server, not to psql; use a ${NAME} placeholder)",
                             s->file, line, col, (int)(e - i), t + i);
            problems++;
            while (i < stop && t[i] != '\n')
                i++;
            continue;
        }
        i++;
    }
    return problems;
}

size_t
common_refuse_psql(const struct src_script *s, struct report *rep)
{
    const char *t = s->text.data;
    size_t len = s->text.len, problems = 0, pos = 0;

    /* Statement by statement, so that inline COPY data (which may hold "\\.") is skipped. */
    while (pos < len) {
        size_t start = sqllex_skip_blank(t, len, pos);
        size_t end = start < len ? sqllex_statement_end(t, len, start) : len;
        size_t next = end < len ? end + 1 : len;

        problems += refuse_psql_range(s, pos, next, rep);
        if (end < len && start < end && sqlsplit_starts_with_copy(t + start, end - start) &&
            copy_from_stdin(t, start, end)) {
            size_t ds, de, after;

            if (sqlsplit_copy_data(t, len, end, &ds, &de, &after) == 0)
                next = after;
        }
        pos = next;
    }
    return problems;
}

/* Blank text[start, end] (inclusive of the ';' at end, if any), keeping newlines. */
static void
blank(struct buf *text, size_t start, size_t end)
{
    for (size_t i = start; i <= end && i < text->len; i++)
        if (text->data[i] != '\n')
            text->data[i] = ' ';
}

/* Replace text[start, end] by repl followed by ";" (lines after it keep their numbers). */
static void
replace(struct buf *text, size_t start, size_t end, const char *repl)
{
    struct buf out = BUF_INIT;
    size_t stop = end < text->len ? end + 1 : text->len;

    buf_add(&out, text->data, start);
    buf_addstr(&out, repl);
    /* Keep the newlines the replaced statement spanned. */
    for (size_t i = start; i < stop; i++)
        if (text->data[i] == '\n')
            buf_addch(&out, '\n');
    buf_add(&out, text->data + stop, text->len - stop);
    buf_release(text);
    *text = out;
}

int
common_strip_outer_transaction(struct buf *text, int rollback_ok)
{
    struct common_stmt *st = NULL;
    size_t n = common_statements(text->data, text->len, &st);
    char first[64], last[64];
    int changed = 0;

    if (n < 2)
        goto done;
    common_words(text->data, st[0].start, st[0].end, 4, first, sizeof(first));
    common_words(text->data, st[n - 1].start, st[n - 1].end, 4, last, sizeof(last));
    /* BEGIN with options (an isolation level...) cannot be kept: sqlcheck says why. */
    if (!(strcmp(first, "BEGIN") == 0 || strcmp(first, "BEGIN WORK") == 0 ||
          strcmp(first, "BEGIN TRANSACTION") == 0 || strcmp(first, "START TRANSACTION") == 0))
        goto done;
    /* The statement must be only those words (no isolation level after them). */
    {
        size_t i = st[0].start, words = 0;

        while (i < st[0].end) {
            i = sqllex_skip_blank(text->data, st[0].end, i);
            if (i >= st[0].end)
                break;
            if (!sqllex_ident_char(text->data[i]))
                goto done;
            while (i < st[0].end && sqllex_ident_char(text->data[i]))
                i++;
            words++;
        }
        if (words != (size_t)(strchr(first, ' ') ? 2 : 1))
            goto done;
    }
    if (strcmp(last, "COMMIT") == 0 || strcmp(last, "COMMIT WORK") == 0 ||
        strcmp(last, "COMMIT TRANSACTION") == 0) {
        /* Blank the last first: blanking keeps offsets, so the first stays valid. */
        blank(text, st[n - 1].start, st[n - 1].end);
        blank(text, st[0].start, st[0].end);
        changed = 1;
    } else if (rollback_ok &&
               (strcmp(last, "ROLLBACK") == 0 || strcmp(last, "ROLLBACK WORK") == 0 ||
                strcmp(last, "ROLLBACK TRANSACTION") == 0 || strcmp(last, "ABORT") == 0)) {
        replace(text, st[n - 1].start, st[n - 1].end, "ROLLBACK TO SAVEPOINT sealift_verify;");
        replace(text, st[0].start, st[0].end, "SAVEPOINT sealift_verify;");
        changed = 1;
    }
done:
    free(st);
    return changed;
}

int
common_read_script(struct src_migration *m, int kind, const char *path, struct report *rep)
{
    struct src_script *s = &m->script[kind];
    struct diag_err err = DIAG_ERR_INIT;

    free(s->file);
    s->file = xstrdup(path);
    if (sqltext_read_script(path, &s->text, &err) != 0) {
        report_error(rep, "%s", err.msg);
        return -1;
    }
    s->present = 1;
    return 0;
}

int
common_load_script(struct src_migration *m, int kind, const char *path, struct report *rep)
{
    struct src_script *s = &m->script[kind];

    if (common_read_script(m, kind, path, rep) != 0)
        return -1;
    common_refuse_psql(s, rep);
    if (!common_strip_outer_transaction(&s->text, kind == MANIFEST_VERIFY))
        return 0;
    s->transactional = 1;
    return 1;
}

int
common_set_script(struct src_migration *m, int kind, const char *path, const char *text, size_t len,
                  struct report *rep)
{
    struct src_script *s = &m->script[kind];

    free(s->file);
    s->file = xstrdup(path);
    buf_reset(&s->text);
    buf_add(&s->text, text, len);
    s->present = 1;
    common_refuse_psql(s, rep);
    if (!common_strip_outer_transaction(&s->text, kind == MANIFEST_VERIFY))
        return 0;
    s->transactional = 1;
    return 1;
}

void
common_section(struct buf *out, const char *text, size_t from, size_t to)
{
    buf_reset(out);
    for (size_t i = 0; i < from; i++)
        if (text[i] == '\n')
            buf_addch(out, '\n');
    buf_add(out, text + from, to - from);
}

void
common_no_down(const struct read_options *opt, const char *file, const char *what,
               struct report *rep)
{
    if (opt->allow_irreversible)
        return;
    report_error(rep,
                 "%s: %s, so this migration cannot be rolled back (write one, or give "
                 "--allow-irreversible to compile it as irreversible)",
                 file, what);
}

int
common_whole_script_no_tx(const struct src_script *s, const char *tool, const char **kind,
                          struct report *rep)
{
    struct common_stmt *st = NULL;
    size_t n = common_statements(s->text.data, s->text.len, &st);
    int bad = 0;

    *kind = NULL;
    for (size_t i = 0; i < n && !bad; i++) {
        const char *k = common_no_tx_kind(s->text.data, st[i].start, st[i].end);
        unsigned line, col;

        if (k == NULL)
            continue;
        *kind = k;
        if (n > 1) {
            textpos_line_col(s->text.data, s->text.len, st[i].start, &line, &col);
            report_error(rep,
                         "%s:%u:%u: %s must be the only statement of its file: %s sends a "
                         "file as one query, which PostgreSQL runs as one transaction, and %s "
                         "refuses to run in one (move it to a migration of its own)",
                         s->file, line, col, k, tool, k);
            bad = 1;
        }
    }
    free(st);
    return bad;
}

int
common_run_tool(const char *dir, char *const *argv, const char *env_name, const char *env_value,
                struct buf *out, struct buf *errout, struct diag_err *err)
{
    int pipefd[2], status;
    FILE *errfile = tmpfile();
    pid_t pid;

    if (errfile == NULL || pipe(pipefd) != 0) {
        if (errfile)
            fclose(errfile);
        return err_set_io(err, "could not run %s: %s", argv[0], strerror(errno));
    }
    fflush(NULL);
    pid = fork();
    if (pid < 0) {
        err_set_io(err, "could not run %s: %s", argv[0], strerror(errno));
        close(pipefd[0]);
        close(pipefd[1]);
        fclose(errfile);
        return -1;
    }
    if (pid == 0) {
        dup2(pipefd[1], 1);
        dup2(fileno(errfile), 2);
        close(pipefd[0]);
        close(pipefd[1]);
        if (env_name)
            setenv(env_name, env_value, 1);
        if (chdir(dir) != 0)
            _exit(126);
        execvp(argv[0], argv);
        _exit(127);
    }
    close(pipefd[1]);
    for (;;) {
        char chunk[65536];
        ssize_t r = read(pipefd[0], chunk, sizeof(chunk));

        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        buf_add(out, chunk, (size_t)r);
    }
    close(pipefd[0]);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    fflush(errfile);
    rewind(errfile);
    for (int c; (c = fgetc(errfile)) != EOF;)
        buf_addch(errout, (char)c);
    fclose(errfile);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}
