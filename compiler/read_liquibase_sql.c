/*
 * read_liquibase_sql.c: Liquibase's formatted SQL changelogs ("--liquibase formatted sql"), and
 * the checksum Liquibase keeps of SQL changes (see read_liquibase.h).
 * Layer: compiler.
 *
 * As Liquibase 4's FormattedSqlChangeLogParser reads them: lines before the first "--changeset
 * author:id [key:value...]" are ignored; "--rollback SQL" lines and "/" "* liquibase rollback
 * ... *" "/" blocks make the rollback (Liquibase 4.3 reads such a block as a comment of the SQL,
 * so its checksum covers the block; later versions take it as the rollback, as sealift does);
 * "--comment:" lines the comment; "--precondition-*" and
 * "--preconditions" lines the preconditions; "--validCheckSum" lines are Liquibase's own
 * business; every other line, comments included, is the changeset's SQL. Defaults:
 * splitStatements and stripComments true, endDelimiter none, runInTransaction true.
 */
#include "read_liquibase.h"
#include "sealift/hash.h"
#include "sealift/xalloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void
lb_changeset_init(struct lb_changeset *cs)
{
    memset(cs, 0, sizeof(*cs));
    cs->run_in_tx = 1;
    cs->fail_on_error = 1;
    buf_init(&cs->up);
    buf_init(&cs->down);
    buf_init(&cs->sum);
}

void
lb_changeset_release(struct lb_changeset *cs)
{
    free(cs->author);
    free(cs->id);
    free(cs->file);
    free(cs->path);
    free(cs->context);
    free(cs->labels);
    free(cs->dbms);
    free(cs->comment);
    free(cs->up_file);
    free(cs->down_file);
    free(cs->refuse);
    free(cs->abstract);
    buf_release(&cs->up);
    buf_release(&cs->down);
    buf_release(&cs->sum);
    lb_changeset_init(cs);
}

void
lb_refuse(struct lb_changeset *cs, const char *fmt, ...)
{
    struct buf b = BUF_INIT;
    va_list ap;

    if (cs->refuse)
        return;
    va_start(ap, fmt);
    buf_vaddf(&b, fmt, ap);
    va_end(ap);
    cs->refuse = buf_detach(&b, NULL);
}

static int
lb_space(int c)
{
    return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

void
lb_checksum_add(struct buf *sum, const char *end_delimiter, int split, int strip, const char *sql,
                size_t len)
{
    struct buf b = BUF_INIT;
    unsigned char md5[HASH_MD5_BYTES];
    char hex[HASH_MD5_HEX];
    size_t i = 0;
    int last = 'X', seen = 0;

    buf_addf(&b, "%s:%s:%s:", end_delimiter ? end_delimiter : "null", split ? "true" : "false",
             strip ? "true" : "false");
    /*
     * NormalizingStream.read(), byte for byte: white space reads as one space, runs of it and
     * leading white space are skipped, and a space is the end when the next (at most) 100 bytes
     * are all white space (its isOnlyWhitespaceRemaining looks no further).
     */
    for (;;) {
        int ch = i < len ? (unsigned char)sql[i++] : -1;

        if (lb_space(ch))
            ch = ' ';
        while (ch == ' ' && (!seen || last == ' ')) {
            ch = i < len ? (unsigned char)sql[i++] : -1;
            if (lb_space(ch))
                ch = ' ';
        }
        seen = 1;
        last = ch;
        if (ch == ' ') {
            size_t k = i, lim = len - i > 100 ? i + 100 : len;
            int only_space = 1;

            for (; k < lim && only_space; k++)
                only_space = lb_space((unsigned char)sql[k]);
            if (only_space)
                break;
        }
        if (ch < 0)
            break;
        buf_addch(&b, (char)ch);
    }
    hash_md5(b.data, b.len, md5);
    buf_addf(sum, "%d:%s:", LB_CHECKSUM_VERSION, hex_encode(hex, md5, HASH_MD5_BYTES));
    buf_release(&b);
}

void
lb_checksum_add_text(struct buf *sum, const char *text)
{
    unsigned char md5[HASH_MD5_BYTES];
    char hex[HASH_MD5_HEX];

    hash_md5(text, strlen(text), md5);
    buf_addf(sum, "%d:%s:", LB_CHECKSUM_VERSION, hex_encode(hex, md5, HASH_MD5_BYTES));
}

void
lb_checksum_final(const struct buf *sum, char *out, size_t cap)
{
    unsigned char md5[HASH_MD5_BYTES];
    char hex[HASH_MD5_HEX];

    hash_md5(sum->data, sum->len, md5);
    snprintf(out, cap, "%d:%s", LB_CHECKSUM_VERSION, hex_encode(hex, md5, HASH_MD5_BYTES));
}

void
lb_apply_end_delimiter(struct buf *text, const char *delim)
{
    size_t dlen = delim ? strlen(delim) : 0;

    if (dlen == 0 || strcmp(delim, ";") == 0)
        return;
    for (size_t ls = 0; ls < text->len;) {
        char *nl = memchr(text->data + ls, '\n', text->len - ls);
        size_t le = nl ? (size_t)(nl - text->data) : text->len, e = le;

        while (e > ls && (text->data[e - 1] == ' ' || text->data[e - 1] == '\t'))
            e--;
        if (e - ls >= dlen && strncasecmp(text->data + e - dlen, delim, dlen) == 0) {
            text->data[e - dlen] = ';';
            for (size_t k = e - dlen + 1; k < e; k++)
                text->data[k] = ' ';
        }
        ls = le + 1;
    }
}

int
lb_bool(const char *s, size_t len)
{
    if (len == 4 && strncasecmp(s, "true", 4) == 0)
        return 1;
    if (len == 5 && strncasecmp(s, "false", 5) == 0)
        return 0;
    return -1;
}

/* After "--" and blanks at text[i]: does the line say word (any case)? Sets *after past it. */
static int
directive(const char *line, size_t len, const char *word, size_t *after)
{
    size_t i = 0, wlen = strlen(word);

    if (len < 2 || line[0] != '-' || line[1] != '-')
        return 0;
    i = 2;
    while (i < len && (line[i] == ' ' || line[i] == '\t'))
        i++;
    if (len - i < wlen || strncasecmp(line + i, word, wlen) != 0)
        return 0;
    *after = i + wlen;
    return 1;
}

int
lb_is_formatted_sql(const char *text, size_t len)
{
    const char *nl = memchr(text, '\n', len);
    size_t le = nl ? (size_t)(nl - text) : len, after, i;

    if (!directive(text, le, "liquibase", &after))
        return 0;
    for (i = after; i < le && (text[i] == ' ' || text[i] == '\t'); i++)
        ;
    return i > after && le - i >= 13 && strncasecmp(text + i, "formatted sql", 13) == 0;
}

static void
set_str(char **dst, const char *s, size_t len)
{
    free(*dst);
    *dst = xstrndup(s, len);
}

/* The "key:value" attributes after "--changeset author:id" (values may be "quoted"). */
static void
changeset_attrs(struct lb_changeset *cs, const char *s, size_t len, char **end_delim, int *split,
                int *strip)
{
    size_t i = 0;

    while (i < len) {
        size_t k, klen, vs, ve;
        int b;

        while (i < len && (s[i] == ' ' || s[i] == '\t'))
            i++;
        if (i >= len)
            break;
        for (k = i; k < len && s[k] != ':' && s[k] != ' ' && s[k] != '\t'; k++)
            ;
        klen = k - i;
        if (k >= len || s[k] != ':') {
            lb_refuse(cs, "changeset %s:%s: attribute \"%.*s\" has no value", cs->author, cs->id,
                      (int)klen, s + i);
            i = k;
            continue;
        }
        vs = k + 1;
        if (vs < len && s[vs] == '"') {
            const char *q = memchr(s + vs + 1, '"', len - vs - 1);

            vs++;
            ve = q ? (size_t)(q - s) : len;
            i = q ? ve + 1 : len;
        } else {
            for (ve = vs; ve < len && s[ve] != ' ' && s[ve] != '\t'; ve++)
                ;
            i = ve;
        }
#define KEY(name) (klen == strlen(name) && strncasecmp(s + k - klen, name, klen) == 0)
        b = lb_bool(s + vs, ve - vs);
        if (KEY("runInTransaction") && b >= 0)
            cs->run_in_tx = b;
        else if (KEY("splitStatements") && b >= 0)
            *split = b;
        else if (KEY("stripComments") && b >= 0)
            *strip = b;
        else if (KEY("runOnChange") && b >= 0)
            cs->run_on_change = b;
        else if (KEY("runAlways") && b >= 0)
            cs->run_always = b;
        else if (KEY("failOnError") && b >= 0)
            cs->fail_on_error = b;
        else if (KEY("endDelimiter"))
            set_str(end_delim, s + vs, ve - vs);
        else if (KEY("context") || KEY("contextFilter") || KEY("contexts"))
            set_str(&cs->context, s + vs, ve - vs);
        else if (KEY("labels") || KEY("label"))
            set_str(&cs->labels, s + vs, ve - vs);
        else if (KEY("dbms"))
            set_str(&cs->dbms, s + vs, ve - vs);
        else if (KEY("logicalFilePath"))
            set_str(&cs->file, s + vs, ve - vs);
        else if (KEY("rollbackSplitStatements") || KEY("rollbackEndDelimiter") || KEY("ignore") ||
                 KEY("created"))
            ; /* no effect on what runs here */
        else
            lb_refuse(cs, "changeset %s:%s: unknown or invalid attribute \"%.*s:%.*s\"", cs->author,
                      cs->id, (int)klen, s + k - klen, (int)(ve - vs), s + vs);
#undef KEY
    }
}

/* A "--precondition-NAME args" line: evaluated when it can be at build time, else refused. */
static void
precondition(struct lb_changeset *cs, const char *s, size_t len)
{
    size_t n = 0;

    while (n < len && s[n] != ' ' && s[n] != '\t')
        n++;
    if (n == 4 && strncasecmp(s, "dbms", 4) == 0) {
        const char *t = s + n;
        size_t tl = len - n;
        const char *type = NULL;

        for (size_t i = 0; i + 5 <= tl; i++)
            if (strncasecmp(t + i, "type:", 5) == 0) {
                type = t + i + 5;
                break;
            }
        if (type && strncasecmp(type, "postgresql", 10) == 0)
            return; /* holds on PostgreSQL: nothing to check when applying */
        lb_refuse(cs,
                  "changeset %s:%s: its precondition \"dbms %.*s\" fails on PostgreSQL (Liquibase "
                  "would halt or skip it; remove the changeset or the precondition)",
                  cs->author, cs->id, (int)(len - n), s + n);
        return;
    }
    lb_refuse(cs,
              "changeset %s:%s: precondition \"%.*s\" depends on the database's state, which a "
              "bundle compiled ahead of time cannot evaluate (only \"--precondition-dbms "
              "type:postgresql\" can be); make the changeset unconditional",
              cs->author, cs->id, (int)len, s);
}

struct sql_state {
    const char *path;
    const char *file;
    const struct lb_sink *sink;
    struct lb_changeset cs;
    int open;
    char *end_delim;
    int split;
    int strip;
    struct buf body; /* the changeset's SQL lines, for the checksum */
    size_t up_lines;
    size_t down_lines;
};

static void
flush(struct sql_state *st)
{
    struct lb_changeset *cs = &st->cs;
    size_t from = 0, to = st->body.len;

    if (!st->open)
        return;
    /* Liquibase trims the SQL (StringUtil.trimToNull) before it hashes it. */
    while (from < to && lb_space((unsigned char)st->body.data[from]))
        from++;
    while (to > from && lb_space((unsigned char)st->body.data[to - 1]))
        to--;
    lb_checksum_add(&cs->sum, st->end_delim, st->split, st->strip, st->body.data + from, to - from);
    lb_apply_end_delimiter(&cs->up, st->end_delim);
    cs->no_tx_hint = "add \"runInTransaction:false\" to its \"--changeset\" line";
    st->sink->changeset_cb(st->sink->ctx, cs);
    lb_changeset_release(cs);
    free(st->end_delim);
    st->end_delim = NULL;
    buf_reset(&st->body);
    st->open = 0;
}

/* Pad buf with empty lines up to line (1-based) so that its lines are the file's. */
static void
pad_to(struct buf *b, size_t *lines, size_t line)
{
    while (*lines + 1 < line) {
        buf_addch(b, '\n');
        (*lines)++;
    }
}

static void
add_line(struct buf *b, size_t *lines, size_t line, const char *s, size_t len)
{
    pad_to(b, lines, line);
    buf_add(b, s, len);
    buf_addch(b, '\n');
    (*lines)++;
}

static void
add_body(struct sql_state *st, const char *s, size_t n)
{
    buf_add(&st->body, s, n);
    buf_addch(&st->body, '\n');
}

static void
start_changeset(struct sql_state *st, const char *s, size_t len, unsigned line, struct report *rep)
{
    struct lb_changeset *cs = &st->cs;
    size_t i = 0, a0, colon, id0, id1;

    flush(st);
    lb_changeset_init(cs);
    st->open = 1;
    st->split = 1;
    st->strip = 1;
    st->up_lines = st->down_lines = 0;
    cs->line = line;
    cs->path = xstrdup(st->path);
    cs->up_file = xstrdup(st->path);
    cs->down_file = xstrdup(st->path);
    while (i < len && (s[i] == ' ' || s[i] == '\t'))
        i++;
    a0 = i;
    if (i < len && s[i] == '"') {
        const char *q = memchr(s + i + 1, '"', len - i - 1);

        colon = q ? (size_t)(q - s) + 1 : len;
        cs->author = xstrndup(s + i + 1, q ? (size_t)(q - s) - i - 1 : 0);
    } else {
        for (colon = i; colon < len && s[colon] != ':' && s[colon] != ' '; colon++)
            ;
        cs->author = xstrndup(s + a0, colon - a0);
    }
    if (colon >= len || s[colon] != ':' || cs->author[0] == '\0') {
        report_error(rep, "%s:%u: \"--changeset\" needs \"author:id\"", st->path, line);
        free(cs->author);
        cs->author = xstrdup("?");
        cs->id = xstrdup("?");
        cs->file = xstrdup(st->file);
        lb_refuse(cs, "malformed \"--changeset\" line");
        return;
    }
    id0 = colon + 1;
    if (id0 < len && s[id0] == '"') {
        const char *q = memchr(s + id0 + 1, '"', len - id0 - 1);

        id1 = q ? (size_t)(q - s) : len;
        cs->id = xstrndup(s + id0 + 1, id1 - id0 - 1);
        id1 = q ? id1 + 1 : len;
    } else {
        for (id1 = id0; id1 < len && s[id1] != ' ' && s[id1] != '\t'; id1++)
            ;
        cs->id = xstrndup(s + id0, id1 - id0);
    }
    if (cs->id[0] == '\0') {
        report_error(rep, "%s:%u: \"--changeset\" needs \"author:id\"", st->path, line);
        lb_refuse(cs, "malformed \"--changeset\" line");
    }
    changeset_attrs(cs, s + id1, len - id1, &st->end_delim, &st->split, &st->strip);
    if (cs->file == NULL)
        cs->file = xstrdup(st->file);
}

void
lb_read_formatted_sql(const char *path, const char *file, const char *text, size_t len,
                      const struct lb_sink *sink, struct report *rep)
{
    struct sql_state st;
    unsigned line = 0;
    int in_block = 0;

    memset(&st, 0, sizeof(st));
    st.path = path;
    st.file = file;
    st.sink = sink;
    buf_init(&st.body);
    lb_changeset_init(&st.cs);
    for (size_t ls = 0; ls < len;) {
        const char *nl = memchr(text + ls, '\n', len - ls);
        size_t le = nl ? (size_t)(nl - text) : len, after;
        const char *s = text + ls;
        size_t n = le - ls, t = 0;

        line++;
        ls = nl ? le + 1 : len;
        while (t < n && (s[t] == ' ' || s[t] == '\t'))
            t++;
        if (in_block) {
            /* A rollback block ends at the line that ends with the comment's close. */
            size_t e = n;

            add_body(&st, s, n);

            while (e > 0 && (s[e - 1] == ' ' || s[e - 1] == '\t' || s[e - 1] == '\r'))
                e--;
            if (e >= 2 && s[e - 2] == '*' && s[e - 1] == '/') {
                in_block = 0;
                add_line(&st.cs.down, &st.down_lines, line, s, e - 2);
            } else {
                add_line(&st.cs.down, &st.down_lines, line, s, n);
            }
            continue;
        }
        if (directive(s + t, n - t, "changeset", &after) && after + t < n &&
            (s[t + after] == ' ' || s[t + after] == '\t')) {
            start_changeset(&st, s + t + after, n - t - after, line, rep);
            continue;
        }
        if (!st.open)
            continue; /* before the first changeset: ignored, as Liquibase does */
        if (directive(s + t, n - t, "rollback", &after)) {
            const char *r = s + t + after;
            size_t rl = n - t - after;

            if (rl && (r[0] == ' ' || r[0] == '\t' || r[0] == ':')) {
                r++;
                rl--;
            }
            st.cs.has_rollback = 1;
            add_line(&st.cs.down, &st.down_lines, line, r, rl);
        } else if (n - t >= 2 && s[t] == '/' && s[t + 1] == '*' && (n - t - 2) >= 18 &&
                   strncasecmp(s + t + 2 + strspn(s + t + 2, " \t"), "liquibase rollback", 18) ==
                       0) {
            /* Liquibase 4.3 reads the block as SQL (a comment): its checksum covers it. */
            add_body(&st, s, n);
            st.cs.has_rollback = 1;
            in_block = 1;
        } else if (directive(s + t, n - t, "comment", &after)) {
            const char *r = s + t + after;
            size_t rl = n - t - after;

            while (rl && (r[0] == ':' || r[0] == ' ' || r[0] == '\t')) {
                r++;
                rl--;
            }
            set_str(&st.cs.comment, r, rl);
        } else if (directive(s + t, n - t, "precondition-", &after)) {
            precondition(&st.cs, s + t + after, n - t - after);
        } else if (directive(s + t, n - t, "preconditions", &after) ||
                   directive(s + t, n - t, "validCheckSum", &after)) {
            ; /* onFail/onError only matter for preconditions, refused or evaluated above */
        } else if (directive(s + t, n - t, "ignoreLines", &after) ||
                   directive(s + t, n - t, "include", &after)) {
            lb_refuse(&st.cs, "changeset %s:%s: \"--%.*s\" is not supported", st.cs.author,
                      st.cs.id, (int)(n - t - 2), s + t + 2);
        } else {
            add_body(&st, s, n);
            add_line(&st.cs.up, &st.up_lines, line, s, n);
        }
    }
    if (in_block)
        lb_refuse(&st.cs, "changeset %s:%s: its \"/* liquibase rollback\" block is not closed",
                  st.cs.author, st.cs.id);
    flush(&st);
    lb_changeset_release(&st.cs);
    buf_release(&st.body);
    free(st.end_delim);
}
