/*
 * fuzz_formats.c: libFuzzer target for the source-format readers (compiler/read_*.c)
 * and --from auto's detection. Readers take a directory, so each input is unpacked into one:
 *
 *   byte 0        which reader: 0 native, 1 alembic, ... 7 diesel (formats.c order), 8+ auto
 *   then          files, each introduced by a line "@@ PATH" and holding the bytes up to the
 *                 next such line (bytes before the first one are dropped)
 *
 * PATH is reduced to [A-Za-z0-9._@-] components (at most three, none "." or ".."), so every
 * file lands inside the scratch directory. Alembic's SQL comes from the files "_up.sql" and
 * "_down.sql" (--alembic-sql-up/-down), never from running alembic. A chain read without
 * problems (and passing the pipeline's unique-id check) must have non-empty, distinct ids and
 * NUL-free scripts; a reader that fails must say
 * why.
 */
#define _XOPEN_SOURCE 700
#include "chain.h"
#include "formats.h"

#include <errno.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const reader_names[] = {"native", "alembic", "flyway", "golang-migrate",
                                           "dbmate", "goose",   "sqitch", "diesel"};
#define NREADERS  (sizeof(reader_names) / sizeof(reader_names[0]))
#define MAX_DEPTH 3

static char scratch[64];

static int
remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    if (ftw->level > 0)
        remove(path);
    return 0;
}

/* Empty the scratch directory (made on the first call). */
static void
scratch_reset(void)
{
    if (scratch[0] == '\0') {
        snprintf(scratch, sizeof(scratch), "%s/sealift-fuzz-XXXXXX",
                 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
        if (strlen(scratch) >= sizeof(scratch) - 1 || mkdtemp(scratch) == NULL)
            abort();
    }
    nftw(scratch, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/*
 * The fuzzer's PATH made safe: characters outside the set become '_', empty, "." and ".."
 * components are dropped, parents are created. Writes "scratch/safe" into out; returns 0, or
 * -1 when nothing is left of the path.
 */
static int
safe_path(const char *name, size_t len, char *out, size_t cap)
{
    size_t o = (size_t)snprintf(out, cap, "%s", scratch);
    int depth = 0;

    for (size_t i = 0; i < len && depth < MAX_DEPTH;) {
        size_t start = o;

        while (i < len && name[i] == '/')
            i++;
        if (i == len)
            break;
        out[o++] = '/';
        for (; i < len && name[i] != '/' && o < cap - 1; i++) {
            char ch = name[i];
            int ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                     (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-' || ch == '@';
            out[o++] = ok ? ch : '_';
        }
        out[o] = '\0';
        if (strcmp(out + start, "/.") == 0 || strcmp(out + start, "/..") == 0 || o == start + 1) {
            o = start;
            out[o] = '\0';
            continue;
        }
        if (o >= cap - 1)
            return -1;
        depth++;
        if (i < len && depth < MAX_DEPTH) {
            if (mkdir(out, 0700) != 0 && errno != EEXIST)
                return -1;
        }
    }
    out[o] = '\0';
    return depth > 0 ? 0 : -1;
}

static void
write_file(const char *path, const uint8_t *data, size_t len)
{
    FILE *f;
    struct stat st;

    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
        return; /* the name is a directory already */
    f = fopen(path, "wb");
    if (f == NULL)
        return; /* a parent is a file: the input simply has fewer files */
    if (len)
        fwrite(data, 1, len, f);
    fclose(f);
}

/* Unpack the "@@ PATH" records into the scratch directory. */
static void
unpack(const uint8_t *data, size_t size)
{
    size_t i = 0;

    while (i < size) {
        const uint8_t *mark = NULL;
        size_t name_start, name_end, body, next;
        char path[512];

        /* Find the next line starting "@@ " at i (at the input's start or after a newline). */
        for (size_t j = i; j + 3 <= size; j++)
            if ((j == 0 || data[j - 1] == '\n') && memcmp(data + j, "@@ ", 3) == 0) {
                mark = data + j;
                break;
            }
        if (mark == NULL)
            return;
        name_start = (size_t)(mark - data) + 3;
        name_end = name_start;
        while (name_end < size && data[name_end] != '\n')
            name_end++;
        body = name_end < size ? name_end + 1 : size;
        next = body;
        while (next < size && !((next == 0 || data[next - 1] == '\n') && next + 3 <= size &&
                                memcmp(data + next, "@@ ", 3) == 0))
            next++;
        if (safe_path((const char *)data + name_start, name_end - name_start, path, sizeof(path)) ==
            0)
            write_file(path, data + body, next - body);
        i = next;
    }
}

/* A chain read without problems: ids non-empty and distinct, scripts free of NUL bytes. */
static void
check_chain(const struct src_chain *c)
{
    for (size_t i = 0; i < c->n; i++) {
        const struct src_migration *m = &c->v[i];

        if (m->id == NULL || m->id[0] == '\0')
            abort();
        for (size_t j = 0; j < i; j++)
            if (strcmp(c->v[j].id, m->id) == 0)
                abort();
        for (int k = 0; k < MANIFEST_NSCRIPTS; k++) {
            const struct src_script *s = &m->script[k];

            if (s->present && s->text.len && memchr(s->text.data, '\0', s->text.len))
                abort();
        }
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const struct format_reader *reader;
    struct src_chain chain;
    struct report rep = REPORT_INIT;
    struct diag_err err = DIAG_ERR_INIT;
    struct read_options opt = {0, NULL, NULL, NULL};
    char up[128], down[128];

    if (size == 0)
        return 0;
    diag_set_silent(1);
    scratch_reset();
    unpack(data + 1, size - 1);
    snprintf(up, sizeof(up), "%s/_up.sql", scratch);
    snprintf(down, sizeof(down), "%s/_down.sql", scratch);
    opt.allow_irreversible = data[0] & 0x80;
    opt.alembic_sql_up = up;
    opt.alembic_sql_down = down;

    if ((data[0] & 0x7f) < NREADERS)
        reader = formats_find(reader_names[data[0] & 0x7f]);
    else
        reader = formats_detect(scratch, &err);
    if (reader == NULL) {
        if (err.msg[0] == '\0')
            abort(); /* detection that finds nothing says so */
        return 0;
    }
    chain_init(&chain);
    if (reader->read(scratch, &opt, &chain, &rep, &err) != 0) {
        if (err.msg[0] == '\0')
            abort(); /* every refusal says why */
    } else {
        /* Readers only read: unique ids are the pipeline's check (pipeline.c), run here too. */
        chain_check_unique_ids(&chain, &rep);
        if (rep.errors == 0)
            check_chain(&chain);
    }
    chain_release(&chain);
    return 0;
}
