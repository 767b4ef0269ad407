/*
 * sumfile.c: read and write sealift.sum (see sumfile.h and bundles/FORMAT.md).
 * Layer: compiler.
 */
#include "sumfile.h"
#include "sqltext.h"
#include "sealift/buf.h"
#include "sealift/file.h"
#include "sealift/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const labels[MANIFEST_NSCRIPTS] = {"up", "down", "verify"};

void
sumfile_init(struct sumfile *s)
{
    memset(s, 0, sizeof(*s));
}

void
sumfile_release(struct sumfile *s)
{
    for (size_t i = 0; i < s->n; i++) {
        free(s->v[i].id);
        free(s->v[i].name);
        free(s->v[i].copies);
    }
    free(s->v);
    free(s->project);
    free(s->source);
    sumfile_init(s);
}

struct sum_entry *
sumfile_append(struct sumfile *s, const char *id, const char *name)
{
    struct sum_entry *e;

    s->v = xgrow(s->v, &s->cap, s->n + 1, sizeof(*s->v));
    e = &s->v[s->n++];
    memset(e, 0, sizeof(*e));
    e->id = xstrdup(id);
    e->name = xstrdup(name);
    return e;
}

void
sumfile_add_copy(struct sum_entry *e, int kind, size_t stmt,
                 const unsigned char sha[HASH_SHA256_BYTES])
{
    e->copies = xgrow(e->copies, &e->copies_cap, e->ncopies + 1, sizeof(*e->copies));
    e->copies[e->ncopies].kind = kind;
    e->copies[e->ncopies].stmt = stmt;
    memcpy(e->copies[e->ncopies].sha, sha, HASH_SHA256_BYTES);
    e->ncopies++;
}

void
sumfile_fill_chain(struct sumfile *s, size_t i)
{
    struct manifest_migration mig;
    unsigned char prev[HASH_SHA256_BYTES] = {0};
    struct sum_entry *e = &s->v[i];

    memset(&mig, 0, sizeof(mig));
    mig.id = e->id;
    for (int k = 0; k < MANIFEST_NSCRIPTS; k++) {
        mig.script[k].present = e->present[k];
        mig.script[k].transactional = e->transactional[k];
        memcpy(mig.script[k].source, e->sha[k], HASH_SHA256_BYTES);
    }
    for (size_t c = 0; c < e->ncopies; c++) {
        struct manifest_copy mc;

        memset(&mc, 0, sizeof(mc));
        mc.stmt = e->copies[c].stmt;
        memcpy(mc.sha256, e->copies[c].sha, HASH_SHA256_BYTES);
        manifest_script_add_copy(&mig.script[e->copies[c].kind], &mc);
    }
    if (i > 0)
        memcpy(prev, s->v[i - 1].chain, HASH_SHA256_BYTES);
    manifest_chain_next(prev, &mig, e->chain);
    for (int k = 0; k < MANIFEST_NSCRIPTS; k++)
        free(mig.script[k].copies);
}

/* "copies=up:3:HEX,down:1:HEX": the file-data COPY statements of an entry. */
static int
parse_copies(const char *f, struct sum_entry *e)
{
    const char *p = f + strlen("copies=");

    while (*p) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        char kind[8], hex[65];
        unsigned long stmt;
        unsigned char sha[HASH_SHA256_BYTES];
        int k = -1;
        char *item = xstrndup(p, len);
        int n = sscanf(item, "%7[a-z]:%lu:%64[0-9a-f]", kind, &stmt, hex);

        free(item);
        if (n != 3 || hex_decode(sha, HASH_SHA256_BYTES, hex, strlen(hex)) != 0)
            return -1;
        for (int j = 0; j < MANIFEST_NSCRIPTS; j++)
            if (strcmp(kind, labels[j]) == 0)
                k = j;
        if (k < 0)
            return -1;
        sumfile_add_copy(e, k, stmt, sha);
        p += len + (comma ? 1 : 0);
    }
    return 0;
}

/* Decode one percent-encoded field of the sum file (same encoding as the manifest). */
static char *
field_decode(const char *f)
{
    struct buf out = BUF_INIT;
    struct buf again = BUF_INIT;

    if (strcmp(f, "-") == 0)
        return xstrdup("");
    for (const char *p = f; *p; p++) {
        if (*p == '%') {
            unsigned v;

            if (sscanf(p + 1, "%2X", &v) != 1 || v == 0 || !p[1] || !p[2])
                goto bad;
            buf_addch(&out, (char)v);
            p += 2;
        } else {
            buf_addch(&out, *p);
        }
    }
    manifest_pct_encode(&again, out.data);
    if (strcmp(again.data, f) != 0)
        goto bad;
    buf_release(&again);
    return buf_detach(&out, NULL);
bad:
    buf_release(&out);
    buf_release(&again);
    return NULL;
}

static int
parse_digest(const char *hex, unsigned char out[HASH_SHA256_BYTES])
{
    return hex_decode(out, HASH_SHA256_BYTES, hex, strlen(hex));
}

/* "up=HEX:tx" / "down=-" / "verify=HEX" */
static int
parse_script_field(char *f, int k, struct sum_entry *e)
{
    size_t ll = strlen(labels[k]);
    char *val;
    char *mode;

    if (strncmp(f, labels[k], ll) != 0 || f[ll] != '=')
        return -1;
    val = f + ll + 1;
    if (strcmp(val, "-") == 0)
        return k == MANIFEST_UP ? -1 : 0;
    e->present[k] = 1;
    e->transactional[k] = 1;
    mode = strchr(val, ':');
    if (k == MANIFEST_VERIFY) {
        if (mode)
            return -1;
    } else {
        if (!mode)
            return -1;
        *mode++ = '\0';
        if (strcmp(mode, "no-tx") == 0)
            e->transactional[k] = 0;
        else if (strcmp(mode, "tx") != 0)
            return -1;
    }
    return parse_digest(val, e->sha[k]);
}

static int
parse_entry(char *line, struct sumfile *s)
{
    char *f[7];
    size_t n = 0;
    char *save = NULL;
    struct sum_entry *e;
    unsigned char want[HASH_SHA256_BYTES];
    char *id, *name;

    for (char *t = strtok_r(line, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
        if (n == 7)
            return -1;
        f[n++] = t;
    }
    if (n < 6 || strncmp(f[5], "chain=", 6) != 0 || parse_digest(f[5] + 6, want) != 0 ||
        (n == 7 && strncmp(f[6], "copies=", 7) != 0))
        return -1;
    id = field_decode(f[0]);
    name = field_decode(f[1]);
    if (id == NULL || name == NULL || id[0] == '\0') {
        free(id);
        free(name);
        return -1;
    }
    e = sumfile_append(s, id, name);
    free(id);
    free(name);
    for (int k = 0; k < MANIFEST_NSCRIPTS; k++)
        if (parse_script_field(f[2 + k], k, e) != 0)
            return -1;
    if (n == 7 && parse_copies(f[6], e) != 0)
        return -1;
    sumfile_fill_chain(s, s->n - 1);
    return hash_equal(want, e->chain, HASH_SHA256_BYTES) ? 0 : -2;
}

/*
 * The " source=FORMAT" field that follows head= in a header line, into out ("" when there is
 * none). Returns 0, or -1 when it is there but not a token. Older compilers read the header
 * with sscanf and ignore what follows head=, so adding the field keeps them reading it.
 */
static int
header_source(const char *line, char *out, size_t cap)
{
    const char *f = strstr(line, " source=");
    size_t n;

    out[0] = '\0';
    if (f == NULL)
        return 0;
    f += strlen(" source=");
    n = strcspn(f, " ");
    if (n == 0 || n >= cap || f[n] != '\0')
        return -1;
    memcpy(out, f, n);
    out[n] = '\0';
    return manifest_token_valid(out) ? 0 : -1;
}

int
sumfile_read_source(const char *path, char *out, size_t cap)
{
    struct buf text = BUF_INIT;
    struct diag_err err = DIAG_ERR_INIT;
    int found = 0;

    out[0] = '\0';
    if (access(path, F_OK) != 0 || sqltext_read_file(path, &text, &err) != 0)
        goto done;
    for (char *p = text.data, *nl; *p; p = nl + 1) {
        nl = strchr(p, '\n');
        if (nl == NULL)
            break;
        *nl = '\0';
        if (*p == '#' || *p == '\0')
            continue;
        found = strncmp(p, "sealift-sum 1 ", 14) == 0 && header_source(p, out, cap) == 0 &&
                out[0] != '\0';
        break;
    }
done:
    buf_release(&text);
    return found;
}

int
sumfile_read(const char *path, struct sumfile *s, struct diag_err *err)
{
    struct buf text = BUF_INIT;
    char *p, *nl;
    unsigned lineno = 0;
    int have_header = 0;
    unsigned long long count = 0;
    unsigned char head[HASH_SHA256_BYTES] = {0};
    int ret = -1;

    sumfile_release(s);
    if (access(path, F_OK) != 0 && errno == ENOENT)
        return 0;
    if (sqltext_read_file(path, &text, err) != 0)
        return -1;
    s->exists = 1;
    for (p = text.data; *p; p = nl + 1) {
        nl = strchr(p, '\n');
        if (nl == NULL) {
            err_set(err, "%s:%u: last line has no newline (hand-edited?)", path, lineno + 1);
            goto cleanup;
        }
        *nl = '\0';
        lineno++;
        if (*p == '#' || *p == '\0')
            continue;
        if (!have_header) {
            char project[80], hex[80], source[80];

            if (sscanf(p, "sealift-sum 1 project=%79s migrations=%llu head=%79s", project, &count,
                       hex) != 3 ||
                !manifest_token_valid(project) ||
                (strcmp(hex, "-") != 0 && parse_digest(hex, head) != 0)) {
                err_set(err, "%s:%u: not a sealift.sum header line", path, lineno);
                goto cleanup;
            }
            s->project = xstrdup(project);
            if (header_source(p, source, sizeof(source)) < 0) {
                err_set(err, "%s:%u: not a sealift.sum header line (bad source=)", path, lineno);
                goto cleanup;
            }
            s->source = source[0] ? xstrdup(source) : NULL;
            have_header = 1;
            continue;
        }
        switch (parse_entry(p, s)) {
        case 0:
            break;
        case -2:
            err_set(err,
                    "%s:%u: chain hash does not match the line's contents (the file was "
                    "edited by hand)",
                    path, lineno);
            goto cleanup;
        default:
            err_set(err, "%s:%u: malformed line", path, lineno);
            goto cleanup;
        }
    }
    if (!have_header) {
        err_set(err, "%s: no \"sealift-sum 1\" header line", path);
        goto cleanup;
    }
    if (count != s->n || (s->n > 0 && !hash_equal(head, s->v[s->n - 1].chain, HASH_SHA256_BYTES))) {
        err_set(err,
                "%s: header says %llu migrations and a head hash that the lines do not match "
                "(a bad merge or a hand edit?)",
                path, count);
        goto cleanup;
    }
    ret = 0;
cleanup:
    buf_release(&text);
    return ret;
}

int
sumfile_write(const char *path, const struct sumfile *s, struct diag_err *err)
{
    struct buf out = BUF_INIT;
    char hex[HASH_SHA256_HEX];
    char *tmp = xasprintf("%s.tmp.XXXXXX", path);
    int fd = -1;
    int ret = -1;

    buf_addstr(&out, "# sealift.sum: the recorded history of this migration chain. Written by\n"
                     "# \"sealift build\"; commit it with the migrations and never edit it.\n");
    buf_addf(&out, "sealift-sum 1 project=%s migrations=%zu head=%s", s->project, s->n,
             s->n ? hex_encode(hex, s->v[s->n - 1].chain, HASH_SHA256_BYTES) : "-");
    if (s->source)
        buf_addf(&out, " source=%s", s->source);
    buf_addch(&out, '\n');
    for (size_t i = 0; i < s->n; i++) {
        const struct sum_entry *e = &s->v[i];

        manifest_pct_encode(&out, e->id);
        buf_addch(&out, ' ');
        manifest_pct_encode(&out, e->name);
        for (int k = 0; k < MANIFEST_NSCRIPTS; k++) {
            buf_addf(&out, " %s=", labels[k]);
            if (!e->present[k]) {
                buf_addch(&out, '-');
                continue;
            }
            buf_addstr(&out, hex_encode(hex, e->sha[k], HASH_SHA256_BYTES));
            if (k != MANIFEST_VERIFY)
                buf_addstr(&out, e->transactional[k] ? ":tx" : ":no-tx");
        }
        buf_addf(&out, " chain=%s", hex_encode(hex, e->chain, HASH_SHA256_BYTES));
        for (size_t c = 0; c < e->ncopies; c++)
            buf_addf(&out, "%s%s:%zu:%s", c ? "," : " copies=", labels[e->copies[c].kind],
                     e->copies[c].stmt, hex_encode(hex, e->copies[c].sha, HASH_SHA256_BYTES));
        buf_addch(&out, '\n');
    }
    fd = mkstemp(tmp);
    if (fd < 0) {
        err_set_io(err, "could not create \"%s\": %s", tmp, strerror(errno));
        goto cleanup;
    }
    {
        mode_t mask = umask(0);

        umask(mask);
        if (fchmod(fd, 0666 & ~mask) != 0 || file_write_all(fd, out.data, out.len) != 0 ||
            fsync(fd) != 0) {
            err_set_io(err, "could not write \"%s\": %s", tmp, strerror(errno));
            goto cleanup;
        }
    }
    if (close(fd) != 0 || rename(tmp, path) != 0) {
        fd = -1;
        err_set_io(err, "could not write \"%s\": %s", path, strerror(errno));
        goto cleanup;
    }
    fd = -1;
    ret = 0;
cleanup:
    if (fd >= 0)
        close(fd);
    if (ret != 0)
        unlink(tmp);
    free(tmp);
    buf_release(&out);
    return ret;
}
