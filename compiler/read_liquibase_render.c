/*
 * read_liquibase_render.c: changesets of Liquibase's abstract change types (createTable,
 * addColumn, ...) rendered by Liquibase itself, when it is installed (see read_liquibase.h).
 * Layer: compiler.
 *
 * Liquibase's offline mode ("offline:postgresql", no database) renders the whole changelog:
 * "updateSQL" writes each changeset's SQL after a "-- Changeset FILE::ID::AUTHOR" line;
 * "changelogSync" then records every changeset as run in a CSV history (with the MD5SUM
 * Liquibase computes, which adoption compares), and "rollbackCountSQL N" writes the rollbacks
 * after "-- Rolling Back ChangeSet: FILE::ID::AUTHOR" lines, automatic ones included
 * (createTable's DROP TABLE). The commands run in the changelog's directory, as a user would.
 */
#include "read_common.h"
#include "read_liquibase.h"
#include "sealift/file.h"
#include "sealift/xalloc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* The Liquibase command: $SEALIFT_LIQUIBASE, else "liquibase" (on PATH). */
static const char *
liquibase_command(void)
{
    const char *c = getenv("SEALIFT_LIQUIBASE");

    return c && c[0] ? c : "liquibase";
}

/*
 * Run Liquibase with args (args[verb] the command) in dir; its standard output into out.
 * Returns 0, 1 when it is not installed, or -1 with err set (its own words on why).
 */
static int
run_liquibase(const char *dir, char *const *args, int verb, struct buf *out, struct diag_err *err)
{
    struct buf e = BUF_INIT;
    int status = common_run_tool(dir, args, NULL, NULL, out, &e, err), ret = -1;

    if (status == 127) {
        ret = 1;
    } else if (status == 0) {
        ret = 0;
    } else if (status > 0) {
        char *last;

        while (e.len && (e.data[e.len - 1] == '\n' || e.data[e.len - 1] == '\r'))
            buf_truncate(&e, e.len - 1);
        /* Liquibase says why on its "Unexpected error" line, or last. */
        last = strstr(e.data, "Unexpected error running Liquibase: ");
        if (last) {
            last += 36;
            last[strcspn(last, "\n")] = '\0';
        } else {
            last = strrchr(e.data, '\n') ? strrchr(e.data, '\n') + 1 : e.data;
        }
        err_set_io(err, "\"%s %s\" failed in \"%s\": %.300s", args[0], args[verb], dir, last);
    }
    buf_release(&e);
    return ret;
}

/* Split Liquibase's output into blocks after lines starting with marker ("FILE::ID::AUTHOR"). */
static void
split_blocks(const struct buf *out, const char *marker, struct lb_render *r, int down)
{
    size_t mlen = strlen(marker);
    struct lb_rendered *cur = NULL;

    for (size_t ls = 0; ls < out->len;) {
        const char *s = out->data + ls;
        const char *nl = memchr(s, '\n', out->len - ls);
        size_t n = nl ? (size_t)(nl - s) : out->len - ls;

        ls += n + (nl != NULL);
        if (n && s[n - 1] == '\r')
            n--;
        if (n >= mlen && memcmp(s, marker, mlen) == 0) {
            char *key = xstrndup(s + mlen, n - mlen);

            cur = NULL;
            for (size_t i = 0; i < r->n && cur == NULL; i++)
                if (strcmp(r->v[i].key, key) == 0)
                    cur = &r->v[i];
            if (cur == NULL) {
                r->v = xgrow(r->v, &r->cap, r->n + 1, sizeof(*r->v));
                cur = &r->v[r->n++];
                memset(cur, 0, sizeof(*cur));
                cur->key = key;
                buf_init(&cur->up);
                buf_init(&cur->down);
            } else {
                free(key);
            }
            if (down)
                cur->has_down = 1;
            continue;
        }
        if (cur && n) {
            buf_add(down ? &cur->down : &cur->up, s, n);
            buf_addch(down ? &cur->down : &cur->up, '\n');
        }
    }
}

/*
 * The first max quoted fields of a line of Liquibase's CSV history, in place (ids and file
 * names with quotes are not expected here). Returns how many were found.
 */
static int
csv_fields(char *line, char **f, int max)
{
    int nf = 0;

    for (char *p = line; nf < max && (p = strchr(p, '"')) != NULL;) {
        char *q = strchr(p + 1, '"');

        if (q == NULL)
            break;
        *q = '\0';
        f[nf++] = p + 1;
        p = q + 1;
    }
    return nf;
}

/* The MD5SUMs of the CSV history changelogSync wrote ("ID","AUTHOR","FILENAME",...,"MD5SUM"). */
static void
read_sums(const char *csv, struct lb_render *r)
{
    struct buf text = BUF_INIT;
    struct diag_err err = DIAG_ERR_INIT;

    if (file_read_all(csv, FILE_READ_MAX, &text, &err) != 0)
        return;
    for (size_t ls = 0; ls < text.len;) {
        char *s = text.data + ls, *nl = memchr(s, '\n', text.len - ls);
        char *f[8];

        if (nl)
            *nl = '\0';
        ls = nl ? (size_t)(nl - text.data) + 1 : text.len;
        if (csv_fields(s, f, 8) == 8) {
            char *key = xasprintf("%s::%s::%s", f[2], f[0], f[1]);

            for (size_t i = 0; i < r->n; i++)
                if (strcmp(r->v[i].key, key) == 0) {
                    free(r->v[i].md5);
                    r->v[i].md5 = xstrdup(f[6]);
                }
            free(key);
        }
    }
    buf_release(&text);
}

/*
 * Keep in the CSV history only the rows of the changesets in keys ("FILE::ID::AUTHOR"), so that
 * rolling back that many rolls back exactly those (a changeset without any rollback elsewhere
 * in the changelog would otherwise stop Liquibase). Returns how many rows are kept.
 */
static size_t
keep_rows(const char *csv, char *const *keys, size_t nkeys)
{
    struct buf text = BUF_INIT, out = BUF_INIT;
    struct diag_err err = DIAG_ERR_INIT;
    size_t kept = 0;

    if (file_read_all(csv, FILE_READ_MAX, &text, &err) != 0)
        return 0;
    for (size_t ls = 0, row = 0; ls < text.len; row++) {
        char *s = text.data + ls, *nl = memchr(s, '\n', text.len - ls);
        size_t n = nl ? (size_t)(nl - s) + 1 : text.len - ls;
        char *line = xstrndup(s, n), *f[3];
        int keep = row == 0;

        ls += n;
        if (!keep && csv_fields(line, f, 3) == 3) {
            char *key = xasprintf("%s::%s::%s", f[2], f[0], f[1]);

            for (size_t k = 0; k < nkeys && !keep; k++)
                keep = strcmp(keys[k], key) == 0;
            kept += (size_t)keep;
            free(key);
        }
        if (keep)
            buf_add(&out, s, n);
        free(line);
    }
    {
        FILE *f = fopen(csv, "w");

        if (f == NULL || fwrite(out.data, 1, out.len, f) != out.len)
            kept = 0;
        if (f && fclose(f) != 0)
            kept = 0;
    }
    buf_release(&text);
    buf_release(&out);
    return kept;
}

int
lb_render_run(const char *dir, const char *master, const struct read_options *opt,
              char *const *keys, size_t nkeys, struct lb_render *r, struct diag_err *err)
{
    char tmpl[] = "/tmp/sealift-liquibase.XXXXXX";
    char *tmp = mkdtemp(tmpl), *csv, *url, *changelog, *contexts = NULL, *labels = NULL;
    char *args[10];
    struct buf out = BUF_INIT;
    int n = 0, ret;
    char count[32];

    if (tmp == NULL)
        return err_set_io(err, "could not make a temporary directory: %s", strerror(errno));
    csv = xasprintf("%s/databasechangelog.csv", tmp);
    url = xasprintf("--url=offline:postgresql?outputLiquibaseSql=none&changeLogFile=%s", csv);
    changelog = xasprintf("--changeLogFile=%s", master);
    args[n++] = (char *)liquibase_command();
    args[n++] = changelog;
    args[n++] = url;
    /* Liquibase 4.3 wants its options before the command. */
    if (opt->liquibase_contexts)
        args[n++] = contexts = xasprintf("--contexts=%s", opt->liquibase_contexts);
    if (opt->liquibase_labels)
        args[n++] = labels = xasprintf("--labels=%s", opt->liquibase_labels);
    args[n] = "updateSQL";
    args[n + 1] = NULL;
    ret = run_liquibase(dir, args, n, &out, err);
    if (ret == 0) {
        split_blocks(&out, "-- Changeset ", r, 0);
        args[n] = "changelogSync";
        buf_reset(&out);
        ret = run_liquibase(dir, args, n, &out, err);
    }
    if (ret == 0) {
        read_sums(csv, r);
        snprintf(count, sizeof(count), "%zu", keep_rows(csv, keys, nkeys));
        args[n] = "rollbackCountSQL";
        args[n + 1] = count;
        args[n + 2] = NULL;
        buf_reset(&out);
        /* A change without an automatic rollback fails the whole command: then none has one. */
        if (run_liquibase(dir, args, n, &out, err) == 0)
            split_blocks(&out, "-- Rolling Back ChangeSet: ", r, 1);
        else
            r->rollback_error = xstrdup(err->msg);
    }
    unlink(csv);
    rmdir(tmp);
    free(csv);
    free(url);
    free(changelog);
    free(contexts);
    free(labels);
    buf_release(&out);
    return ret;
}

void
lb_render_release(struct lb_render *r)
{
    for (size_t i = 0; i < r->n; i++) {
        free(r->v[i].key);
        free(r->v[i].md5);
        buf_release(&r->v[i].up);
        buf_release(&r->v[i].down);
    }
    free(r->v);
    free(r->rollback_error);
    free(r->error);
    memset(r, 0, sizeof(*r));
}
