/*
 * witness.c: the journal witness file: appending the journal's head, and checking every
 * recorded head against the journal (history --verify --witness).
 * Layer: applier.
 */
#include "witness.h"
#include "sealift/file.h"
#include "sealift/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int
witness_append(const char *path, const struct journal_pos *pos, const char *bundle_id,
               struct diag_err *err)
{
    char line[256], at[32];
    time_t now = time(NULL);
    struct tm tm;
    int fd, n;
    ssize_t w;

    if (pos == NULL) {
        /* Only whether it can be opened for appending (created if missing). */
        fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
        if (fd < 0)
            return err_set(err, "could not open witness file \"%s\": %s", path, strerror(errno));
        close(fd);
        return 0;
    }
    gmtime_r(&now, &tm);
    strftime(at, sizeof(at), "%Y-%m-%dT%H:%M:%SZ", &tm);
    n = snprintf(line, sizeof(line), "%lld %s %s %s\n", pos->seq, pos->hash, at,
                 bundle_id && bundle_id[0] ? bundle_id : "-");
    if (n < 0 || (size_t)n >= sizeof(line))
        return err_set(err, "witness line for journal row %lld is too long", pos->seq);
    /* 0600: the file says nothing secret, but only its owner should be able to append. */
    fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return err_set(err, "could not open witness file \"%s\": %s", path, strerror(errno));
    w = write(fd, line, (size_t)n);
    if (w != n || fsync(fd) != 0) {
        int saved = w < 0 ? errno : EIO;

        close(fd);
        return err_set(err, "could not write witness file \"%s\": %s", path, strerror(saved));
    }
    if (close(fd) != 0)
        return err_set(err, "could not write witness file \"%s\": %s", path, strerror(errno));
    return 0;
}

/* Parse "SEQ HASH ..." into seq and hash (64 lowercase hex digits). Returns 0 or -1. */
static int
parse_line(const char *line, long long *seq, char hash[HASH_SHA256_HEX])
{
    char *end;
    size_t n;

    errno = 0;
    *seq = strtoll(line, &end, 10);
    if (errno || end == line || *seq < 1 || *end != ' ')
        return -1;
    n = strspn(end + 1, "0123456789abcdef");
    if (n != HASH_SHA256_HEX - 1 || (end[1 + n] != ' ' && end[1 + n] != '\0'))
        return -1;
    memcpy(hash, end + 1, n);
    hash[n] = '\0';
    return 0;
}

int
witness_check(struct db *db, const struct history_ctx *h, const char *path, struct buf *out,
              struct diag_err *err, struct db_error *e)
{
    struct buf file = BUF_INIT;
    struct db_rows *r = NULL;
    char *sql = NULL;
    size_t lineno = 0, heads = 0;
    int ret = -1, bad = 0;

    if (file_read_all(path, WITNESS_MAX_SIZE, &file, err) != 0)
        goto cleanup;
    sql = xasprintf("SELECT seq, hash FROM %s.journal ORDER BY seq", h->qschema);
    r = db_query(db, sql, e);
    if (r == NULL)
        goto cleanup;
    for (char *line = file.data, *next; *line; line = next) {
        long long seq;
        char hash[HASH_SHA256_HEX];
        const char *have;

        next = line + strcspn(line, "\n");
        if (*next)
            *next++ = '\0';
        lineno++;
        if (*line == '\0' || *line == '#')
            continue;
        if (parse_line(line, &seq, hash) != 0) {
            err_set(err, "%s:%zu: not a witness line (\"SEQ HASH TIME BUNDLE\")", path, lineno);
            goto cleanup;
        }
        heads++;
        /* The journal's rows are 1..n in order (journal_verify checks that first). */
        have = (size_t)seq <= db_nrows(r) && atoll(db_value(r, (size_t)seq - 1, 0)) == seq
                   ? db_value(r, (size_t)seq - 1, 1)
                   : NULL;
        if (have == NULL)
            buf_addf(out,
                     "%sjournal row %lld, witnessed in %s line %zu, is missing: the journal "
                     "was cut short or renumbered",
                     bad++ ? "\n" : "", seq, path, lineno);
        else if (strcmp(have, hash) != 0)
            buf_addf(out,
                     "%sjournal row %lld differs from its witness (%s line %zu): its hash is "
                     "%.16s..., the witness recorded %.16s...: the journal was rewritten",
                     bad++ ? "\n" : "", seq, path, lineno, have, hash);
    }
    if (!bad)
        buf_addf(out, "witness: %zu head%s of %s found in the journal", heads,
                 heads == 1 ? "" : "s", path);
    ret = bad ? 1 : 0;
cleanup:
    db_rows_free(r);
    free(sql);
    buf_release(&file);
    return ret;
}

int
witness_record(struct db *db, const struct history_ctx *h, const char *path, const char *bundle_id,
               struct diag_err *err, struct db_error *e)
{
    char *sql = xasprintf("SELECT to_regclass('%s.journal') IS NOT NULL", h->qschema);
    struct db_rows *r = db_query(db, sql, e);
    struct journal_pos pos;
    int exists = r && strcmp(db_value(r, 0, 0), "t") == 0;

    free(sql);
    if (r == NULL)
        return -1;
    db_rows_free(r);
    if (!exists)
        return 0; /* no history: nothing journaled to anchor */
    if (journal_read_pos(db, h, &pos, e) != 0)
        return -1;
    if (pos.seq == 0)
        return 0;
    return witness_append(path, &pos, bundle_id, err);
}

int
witness_expect_head(struct db *db, const struct history_ctx *h, const char *text, struct buf *out,
                    struct diag_err *err, struct db_error *e)
{
    const char *colon = strchr(text, ':'), *hash = colon ? colon + 1 : text;
    long long seq = -1;
    char *sql;
    struct db_rows *r;
    int ret;

    if (colon) {
        char *end;

        seq = strtoll(text, &end, 10);
        if (end != colon || seq < 1 || text[0] < '0' || text[0] > '9')
            seq = 0;
    }
    if (seq == 0 || strlen(hash) != 64 || strspn(hash, "0123456789abcdef") != 64)
        return err_set(err,
                       "--expect-head takes HASH or SEQ:HASH (64 lowercase hex digits, as "
                       "\"journal head SEQ HASH\" prints them), not \"%.80s\"",
                       text);
    sql = xasprintf("SELECT seq FROM %s.journal WHERE hash = '%s' ORDER BY seq", h->qschema, hash);
    r = db_query(db, sql, e);
    free(sql);
    if (r == NULL)
        return -1;
    if (db_nrows(r) == 0) {
        buf_addf(out,
                 "the journal has no row with the expected head %.16s...: it was rewritten, cut "
                 "short, or is not this database's",
                 hash);
        ret = 1;
    } else if (seq > 0 && atoll(db_value(r, 0, 0)) != seq) {
        buf_addf(out,
                 "the expected head %.16s... is at journal row %s, not row %lld: the journal "
                 "was renumbered",
                 hash, db_value(r, 0, 0), seq);
        ret = 1;
    } else {
        buf_addf(out, "expected head %.16s... found at journal row %s", hash, db_value(r, 0, 0));
        ret = 0;
    }
    db_rows_free(r);
    return ret;
}
