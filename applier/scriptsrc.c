/*
 * scriptsrc.c: a verified bundle's scripts read when they run, kept or streamed (scriptsrc.h).
 * Layer: applier. The bytes come from verification's cache, from the bundle again through a
 * bundle_cursor (which hashes them again), or from a private copy made through one.
 */
#include "scriptsrc.h"
#include "sealift/file.h"
#include "sealift/sqllex.h"
#include "sealift/hash.h"
#include "sealift/textpos.h"
#include "sealift/verify.h"
#include "sealift/xalloc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Bytes read from the bundle at a time. */
#define SCRIPT_CHUNK (64u * 1024u)
/* A proven-first script up to this size is checked into memory, a larger one into a file. */
#define SCRIPT_PROVE_IN_MEMORY (1024u * 1024u)

struct script_src {
    const struct manifest *m;
    const struct buf *kept;
    struct bundle_cursor *cursor; /* opened when a script first streams */
    char *path;
    size_t chunk;
    uint64_t prove_in_memory;
    int no_cache;
    int streaming; /* a reader streams from the cursor now */
};

struct script_reader {
    struct script_src *s;
    size_t member;
    uint64_t size;
    uint64_t pos;
    unsigned long line;
    const char *mem; /* kept bytes, or the proven copy (owned) */
    char *owned;
    FILE *spool; /* the proven copy of a large script */
    int streams; /* from the bundle, through the cursor */
    char *scratch;
};

int
script_keep(const struct manifest *m, size_t member, uint64_t kept, void *arg)
{
    struct script_keep *k = arg;
    uint64_t size = m->members[member].size;

    if (k->down == NULL) {
        k->down = xcalloc(m->nmembers ? m->nmembers : 1, 1);
        for (size_t i = 0; i < m->nmigrations; i++)
            if (m->migrations[i].script[MANIFEST_DOWN].present)
                k->down[m->migrations[i].script[MANIFEST_DOWN].member] = 1;
        /* Key statements are read whole by the trust check (trust_check.c): always kept. */
        for (size_t i = 0; i < m->nkeystmts; i++)
            k->down[m->keystmts[i]] = 2;
    }
    if (k->down[member] == 2)
        return 1;
    return k->down[member] && size <= SCRIPT_KEEP_MEMBER_MAX &&
           kept + size <= SCRIPT_KEEP_TOTAL_MAX;
}

void
script_keep_release(struct script_keep *k)
{
    free(k->down);
    k->down = NULL;
}

struct script_src *
script_src_new(const char *path, const struct manifest *m, const struct buf *kept)
{
    struct script_src *s = xcalloc(1, sizeof(*s));
    const char *env = getenv("SEALIFT_STREAM_CHUNK");

    s->m = m;
    s->kept = kept;
    s->path = xstrdup(path);
    s->chunk = SCRIPT_CHUNK;
    s->prove_in_memory = SCRIPT_PROVE_IN_MEMORY;
    if (env && atol(env) > 0) {
        s->chunk = (size_t)atol(env);
        s->prove_in_memory = s->chunk;
        s->no_cache = 1;
    }
    return s;
}

void
script_src_free(struct script_src *s)
{
    if (s == NULL)
        return;
    bundle_cursor_close(s->cursor);
    free(s->path);
    free(s);
}

/* The next bytes of the member from wherever they are: count, 0 at its end, or -1. */
static ssize_t
raw_read(struct script_reader *rd, void *buf, size_t cap, struct diag_err *err)
{
    size_t n = rd->size - rd->pos < cap ? (size_t)(rd->size - rd->pos) : cap;

    if (n == 0)
        return 0;
    if (rd->mem) {
        memcpy(buf, rd->mem + rd->pos, n);
    } else if (rd->spool) {
        if (fread(buf, 1, n, rd->spool) != n)
            return err_set(err, "could not read the copy of member \"%s\": %s",
                           rd->s->m->members[rd->member].path,
                           ferror(rd->spool) ? strerror(errno) : "it is shorter");
    } else {
        ssize_t got = bundle_cursor_read(rd->s->cursor, buf, n, err);

        if (got <= 0)
            return got < 0 ? -1
                           : err_set(err, "member \"%s\" ended early",
                                     rd->s->m->members[rd->member].path);
        n = (size_t)got;
    }
    for (const char *q = buf, *end = (const char *)buf + n;
         (q = memchr(q, '\n', (size_t)(end - q))) != NULL; q++)
        rd->line++;
    rd->pos += n;
    return (ssize_t)n;
}

/* Copy the whole member from the cursor into memory or an unlinked file: it proves it. */
static int
prove(struct script_reader *rd, struct diag_err *err)
{
    int fd;
    ssize_t n;

    if (rd->size <= rd->s->prove_in_memory) {
        rd->owned = xmalloc(rd->size ? (size_t)rd->size : 1);
        while ((n = raw_read(rd, rd->owned + rd->pos, rd->s->chunk, err)) > 0)
            ;
        if (n < 0)
            return -1;
        rd->mem = rd->owned;
    } else {
        struct diag_err tmp_err = DIAG_ERR_INIT;

        fd = file_private_temp("script", &tmp_err);
        if (fd < 0)
            return err_set(err, "could not make a temporary copy of member \"%s\": %s",
                           rd->s->m->members[rd->member].path, tmp_err.msg);
        if ((rd->spool = fdopen(fd, "w+")) == NULL) {
            close(fd);
            return err_set(err, "could not make a temporary copy of member \"%s\": %s",
                           rd->s->m->members[rd->member].path, strerror(errno));
        }
        {
            FILE *f = rd->spool;

            rd->spool = NULL; /* raw_read reads the cursor while copying */
            while ((n = raw_read(rd, rd->scratch, rd->s->chunk, err)) > 0)
                if (fwrite(rd->scratch, 1, (size_t)n, f) != (size_t)n) {
                    fclose(f);
                    return err_set(err, "could not write the temporary copy of member \"%s\": %s",
                                   rd->s->m->members[rd->member].path, strerror(errno));
                }
            rd->spool = f;
            if (n < 0)
                return -1;
            if (fflush(f) != 0 || fseeko(f, 0, SEEK_SET) != 0)
                return err_set(err, "could not write the temporary copy of member \"%s\": %s",
                               rd->s->m->members[rd->member].path, strerror(errno));
        }
    }
    rd->s->streaming = 0;
    rd->streams = 0;
    rd->pos = 0;
    rd->line = 1;
    return 0;
}

struct script_reader *
script_open(struct script_src *s, size_t member, int proven_first, struct diag_err *err)
{
    struct script_reader *rd;
    const struct buf *kept = s->kept ? &s->kept[member] : NULL;

    if (s->streaming) {
        err_set(err, "internal error: two scripts stream at once");
        return NULL;
    }
    rd = xcalloc(1, sizeof(*rd));
    rd->s = s;
    rd->member = member;
    rd->size = s->m->members[member].size;
    rd->line = 1;
    rd->scratch = xmalloc(s->chunk);
    if (kept && kept->len == rd->size && (!s->no_cache || rd->size == 0)) {
        rd->mem = kept->data;
        return rd;
    }
    if (s->cursor == NULL)
        s->cursor = bundle_cursor_open(s->path, s->m, err);
    if (s->cursor == NULL || bundle_cursor_seek(s->cursor, member, err) != 0) {
        script_close(rd);
        return NULL;
    }
    rd->streams = 1;
    s->streaming = 1;
    if (proven_first && prove(rd, err) != 0) {
        script_close(rd);
        return NULL;
    }
    return rd;
}

int
script_seek(struct script_reader *rd, uint64_t off, struct diag_err *err)
{
    if (off > rd->size)
        off = rd->size;
    if (off < rd->pos) {
        if (rd->streams)
            return err_set(err, "internal error: member \"%s\" read backwards",
                           rd->s->m->members[rd->member].path);
        if (rd->spool && fseeko(rd->spool, 0, SEEK_SET) != 0)
            return err_set(err, "could not read the copy of member \"%s\": %s",
                           rd->s->m->members[rd->member].path, strerror(errno));
        rd->pos = 0;
        rd->line = 1;
    }
    while (rd->pos < off) {
        uint64_t want = off - rd->pos;

        if (raw_read(rd, rd->scratch, want < rd->s->chunk ? (size_t)want : rd->s->chunk, err) < 0)
            return -1;
    }
    return 0;
}

char *
script_take(struct script_reader *rd, uint64_t off, uint64_t len, struct diag_err *err)
{
    char *out;
    size_t have = 0;

    if (script_seek(rd, off, err) != 0)
        return NULL;
    out = xmalloc((size_t)len + 1);
    while (have < len) {
        size_t want = (size_t)len - have;
        ssize_t n = raw_read(rd, out + have, want < rd->s->chunk ? want : rd->s->chunk, err);

        if (n <= 0) {
            if (n == 0)
                err_set(err, "member \"%s\" ended early", rd->s->m->members[rd->member].path);
            free(out);
            return NULL;
        }
        have += (size_t)n;
    }
    out[len] = '\0';
    return out;
}

char *
script_take_stmt(struct script_reader *rd, const struct manifest_script *sc, size_t k, size_t cap,
                 unsigned *line, struct diag_err *err)
{
    const struct manifest_stmt *st = &sc->stmts[k];
    size_t len = (uint64_t)st->length < cap ? (size_t)st->length : cap;
    unsigned long first;
    char *text;
    size_t blank;

    if (script_seek(rd, st->offset, err) != 0)
        return NULL;
    first = rd->line;
    if ((text = script_take(rd, st->offset, len, err)) == NULL)
        return NULL;
    blank = sqllex_skip_blank(text, len, 0);
    for (size_t i = 0; i < blank; i++)
        first += text[i] == '\n';
    *line = (unsigned)first;
    return text;
}

ssize_t
script_read(struct script_reader *rd, void *buf, size_t cap, uint64_t end, struct diag_err *err)
{
    if (end > rd->size)
        end = rd->size;
    if (rd->pos >= end)
        return 0;
    if (cap > end - rd->pos)
        cap = (size_t)(end - rd->pos);
    return raw_read(rd, buf, cap, err);
}

unsigned long
script_line(const struct script_reader *rd)
{
    return rd->line;
}

int
script_finish(struct script_reader *rd, struct diag_err *err)
{
    int ret = script_seek(rd, rd->size, err);

    /* A streamed member is proven by its last read (bundle_cursor_read); an empty one too. */
    if (ret == 0 && rd->streams && bundle_cursor_read(rd->s->cursor, rd->scratch, 1, err) < 0)
        ret = -1;
    script_close(rd);
    return ret;
}

void
script_close(struct script_reader *rd)
{
    if (rd == NULL)
        return;
    if (rd->streams)
        rd->s->streaming = 0;
    if (rd->spool)
        fclose(rd->spool);
    free(rd->owned);
    free(rd->scratch);
    free(rd);
}

int
script_stmt_shas(struct script_reader *rd, const struct manifest_script *sc, size_t n, char **sha,
                 struct diag_err *err)
{
    for (size_t k = 0; k < n; k++) {
        unsigned char digest[HASH_SHA256_BYTES];
        char *stmt = script_take(rd, sc->stmts[k].offset, sc->stmts[k].length, err);

        if (stmt == NULL)
            return -1;
        hash_sha256(stmt, (size_t)sc->stmts[k].length, digest);
        hex_encode(sha[k], digest, HASH_SHA256_BYTES);
        free(stmt);
    }
    return 0;
}

int
script_line_col(struct script_src *s, size_t member, uint64_t off, unsigned *line, unsigned *col,
                struct diag_err *err)
{
    struct script_reader *rd = script_open(s, member, 0, err);

    *line = 1;
    *col = 1;
    if (rd == NULL)
        return -1;
    while (rd->pos < off) {
        ssize_t n = script_read(rd, rd->scratch, rd->s->chunk, off, err);

        if (n <= 0) {
            script_close(rd);
            return n < 0 ? -1 : 0;
        }
        textpos_advance(rd->scratch, (size_t)n, line, col);
    }
    script_close(rd);
    return 0;
}
