/*
 * provenance.c: the in-toto Statement with a SLSA provenance predicate that "build
 * --provenance" writes into a bundle (see provenance.h).
 * Layer: compiler.
 */
#include "provenance.h"
#include "read_common.h"
#include "sealift/file.h"
#include "sealift/hash.h"
#include "sealift/json.h"
#include "sealift/xalloc.h"

#include <stdlib.h>
#include <string.h>

int
provenance_builder_id_valid(const char *id)
{
    const char *colon = strchr(id, ':');

    if (colon == NULL || colon == id || colon[1] == '\0' || strlen(id) > 1024)
        return 0;
    for (const char *p = id; p < colon; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
              (p > id && ((*p >= '0' && *p <= '9') || *p == '+' || *p == '-' || *p == '.'))))
            return 0;
    for (const unsigned char *p = (const unsigned char *)id; *p; p++)
        if (*p <= 0x20 || *p == 0x7f)
            return 0;
    return 1;
}

/* Drop the newline a tool ends its answer with. */
static void
chomp(struct buf *b)
{
    while (b->len > 0 && (b->data[b->len - 1] == '\n' || b->data[b->len - 1] == '\r'))
        buf_truncate(b, b->len - 1);
}

/*
 * Ask git about dir: its HEAD commit, dir's path inside the work tree, and whether tracked or
 * untracked files under dir differ from that commit. Returns 0 when dir is in a git work tree
 * and git answered (commit filled), -1 otherwise (no git, not a work tree): then the
 * provenance names no commit rather than guessing.
 */
static int
git_source(const char *dir, struct buf *commit, struct buf *prefix, int *dirty)
{
    char *head[] = {"git", "rev-parse", "--verify", "HEAD", NULL};
    char *where[] = {"git", "rev-parse", "--show-prefix", NULL};
    char *status[] = {"git", "status", "--porcelain", "--untracked-files=all", "--", ".", NULL};
    struct buf out = BUF_INIT, errout = BUF_INIT;
    struct diag_err err = DIAG_ERR_INIT;
    int ret = -1;

    /* GIT_OPTIONAL_LOCKS=0: asking must not write the repository's index. */
    if (common_run_tool(dir, head, "GIT_OPTIONAL_LOCKS", "0", &out, &errout, &err) != 0)
        goto done;
    chomp(&out);
    if (out.len != 40 && out.len != 64)
        goto done;
    buf_addstr(commit, out.data);
    buf_reset(&out);
    if (common_run_tool(dir, where, "GIT_OPTIONAL_LOCKS", "0", &out, &errout, &err) != 0)
        goto done;
    chomp(&out);
    buf_addstr(prefix, out.data);
    buf_reset(&out);
    if (common_run_tool(dir, status, "GIT_OPTIONAL_LOCKS", "0", &out, &errout, &err) != 0)
        goto done;
    *dirty = out.len > 0;
    ret = 0;
done:
    buf_release(&out);
    buf_release(&errout);
    return ret;
}

static int
cmp_var_name(const void *a, const void *b)
{
    return strcmp((*(const struct var *const *)a)->name, (*(const struct var *const *)b)->name);
}

/* "placeholders": {"NAME": {"sha256": HEX}, ...}, by name: the values never leave the host. */
static void
add_placeholders(const struct vars *vars, struct buf *out)
{
    const struct var **sorted = xcalloc(vars->n ? vars->n : 1, sizeof(*sorted));
    char hex[HASH_SHA256_HEX];
    unsigned char digest[HASH_SHA256_BYTES];

    for (size_t i = 0; i < vars->n; i++)
        sorted[i] = &vars->v[i];
    qsort(sorted, vars->n, sizeof(*sorted), cmp_var_name);
    json_key(out, "placeholders", 0);
    buf_addch(out, '{');
    for (size_t i = 0; i < vars->n; i++) {
        hash_sha256(sorted[i]->value, strlen(sorted[i]->value), digest);
        json_key(out, sorted[i]->name, i == 0);
        buf_addf(out, "{\"sha256\":\"%s\"}", hex_encode(hex, digest, HASH_SHA256_BYTES));
    }
    buf_addch(out, '}');
    free(sorted);
}

static void
add_subjects(const struct manifest *m, struct buf *out)
{
    char hex[HASH_SHA256_HEX];

    json_key(out, "subject", 0);
    buf_addch(out, '[');
    for (size_t i = 0; i < m->nmembers; i++) {
        buf_addstr(out, i ? ",{" : "{");
        json_key(out, "name", 1);
        json_str(out, m->members[i].path);
        buf_addf(out, ",\"digest\":{\"sha256\":\"%s\"}}",
                 hex_encode(hex, m->members[i].sha256, HASH_SHA256_BYTES));
    }
    buf_addch(out, ']');
}

/* The source commit (when there is one) and the compiler, as resource descriptors. */
static int
add_dependencies(const struct provenance_input *in, struct buf *out, struct diag_err *err)
{
    struct buf commit = BUF_INIT, prefix = BUF_INIT;
    unsigned char digest[HASH_SHA256_BYTES];
    char hex[HASH_SHA256_HEX];
    uint64_t size;
    int dirty = 0;

    /* The running binary itself: what compiled this bundle, byte for byte. */
    if (file_sha256("/proc/self/exe", digest, &size, err) != 0)
        return -1;
    json_key(out, "resolvedDependencies", 0);
    buf_addch(out, '[');
    if (git_source(in->dir, &commit, &prefix, &dirty) == 0) {
        buf_addstr(out, "{\"name\":\"source\",\"digest\":{\"gitCommit\":");
        json_str(out, commit.data);
        buf_addstr(out, "},\"annotations\":{\"path\":");
        /* The directory inside the work tree ("" at its top), never a host path. */
        json_str(out, prefix.data);
        buf_addf(out, ",\"uncommittedChanges\":%s}},", dirty ? "true" : "false");
    }
    buf_addstr(out, "{\"name\":\"compiler\",\"uri\":\"pkg:generic/sealift@" SEALIFT_VERSION "\"");
    buf_addf(out, ",\"digest\":{\"sha256\":\"%s\"}", hex_encode(hex, digest, HASH_SHA256_BYTES));
    buf_addstr(out, ",\"annotations\":{\"version\":\"sealift/" SEALIFT_VERSION "\"}}]");
    buf_release(&commit);
    buf_release(&prefix);
    return 0;
}

/* Re-indent compact JSON text (two spaces a level), leaving strings as they are. */
static void
indent_json(const struct buf *in, struct buf *out)
{
    int depth = 0, in_str = 0;

    for (size_t i = 0; i < in->len; i++) {
        char c = in->data[i];

        if (in_str) {
            buf_addch(out, c);
            if (c == '\\')
                buf_addch(out, in->data[++i]);
            else if (c == '"')
                in_str = 0;
            continue;
        }
        if (c == '"')
            in_str = 1;
        if ((c == '}' || c == ']') &&
            !(i > 0 && (in->data[i - 1] == '{' || in->data[i - 1] == '['))) {
            depth--;
            buf_addf(out, "\n%*s", 2 * depth, "");
        }
        buf_addch(out, c);
        if (c == ':')
            buf_addch(out, ' ');
        if ((c == '{' || c == '[') &&
            !(i + 1 < in->len && (in->data[i + 1] == '}' || in->data[i + 1] == ']'))) {
            depth++;
            buf_addf(out, "\n%*s", 2 * depth, "");
        } else if (c == ',') {
            buf_addf(out, "\n%*s", 2 * depth, "");
        }
    }
    buf_addch(out, '\n');
}

int
provenance_statement(const struct provenance_input *in, struct buf *out, struct diag_err *err)
{
    const struct manifest *m = in->m;
    struct buf b = BUF_INIT;
    int ret = -1;

    buf_addstr(&b, "{\"_type\":\"" PROVENANCE_STATEMENT_TYPE "\"");
    add_subjects(m, &b);
    buf_addstr(&b, ",\"predicateType\":\"" PROVENANCE_PREDICATE_TYPE "\",\"predicate\":{");
    buf_addstr(&b, "\"buildDefinition\":{\"buildType\":\"" PROVENANCE_BUILD_TYPE "\"");
    json_key(&b, "externalParameters", 0);
    buf_addch(&b, '{');
    json_key(&b, "project", 1);
    json_str(&b, m->project);
    json_key(&b, "environment", 0);
    json_str(&b, m->environment);
    buf_addf(&b, ",\"serial\":%llu,\"formats\":{", (unsigned long long)m->serial);
    json_key(&b, "source", 1);
    json_str(&b, m->source);
    json_key(&b, "compression", 0);
    json_str(&b, in->compression);
    buf_addch(&b, '}');
    add_placeholders(in->vars, &b);
    buf_addch(&b, '}');
    if (add_dependencies(in, &b, err) != 0)
        goto done;
    buf_addstr(&b, "},\"runDetails\":{\"builder\":{");
    json_key(&b, "id", 1);
    json_str(&b, in->builder_id ? in->builder_id : PROVENANCE_DEFAULT_BUILDER);
    buf_addstr(&b, ",\"version\":{\"sealift\":\"" SEALIFT_VERSION "\"}}");
    /* A time only when SOURCE_DATE_EPOCH fixed it: the clock would break reproducibility. */
    if (in->have_time) {
        buf_addstr(&b, ",\"metadata\":{\"startedOn\":");
        json_str(&b, m->created);
        buf_addch(&b, '}');
    }
    buf_addstr(&b, "}}}");
    indent_json(&b, out);
    ret = 0;
done:
    buf_release(&b);
    return ret;
}
