/*
 * cmd_new.c: "sealift new": the next migration's up and down files, or a repeatable
 * migration's R__NAME.sql, from a template.
 * Layer: compiler.
 */
#include "cmds.h"
#include "readers.h"
#include "pipeline.h"
#include "sumfile.h"
#include "sealift/file.h"
#include "sealift/version.h"
#include "sealift/xalloc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static void
usage_new(void)
{
    printf(
        "Create the next migration: VERSION_SLUG.up.sql and VERSION_SLUG.down.sql, with\n"
        "VERSION the current UTC time (YYYYMMDDHHMMSS); or, with --repeatable, a repeatable\n"
        "migration R__SLUG.sql.\n\n"
        "Usage:\n  sealift new [-d DIR] [--project NAME] [--no-transaction] [--irreversible]\n"
        "              [--verify] SLUG\n"
        "  sealift new [-d DIR] [--project NAME] [--no-transaction] --repeatable SLUG\n\n"
        "Options:\n"
        "  -d, --dir DIR       migrations directory (default \"migrations\"; created if needed)\n"
        "      --project NAME  project name for a new chain's sealift.sum (default: the name\n"
        "                      of the directory that holds DIR)\n"
        "      --no-transaction  mark the up and down files \"-- sealift:no-transaction\" (for\n"
        "                      CREATE INDEX CONCURRENTLY and the like)\n"
        "      --irreversible  mark the up file \"-- sealift:irreversible\" and write no down "
        "file\n"
        "      --verify        write VERSION_SLUG.verify.sql too (run after the up script; an\n"
        "                      error in it fails the migration)\n"
        "      --repeatable    write R__SLUG.sql, a repeatable migration: it has no version,\n"
        "                      down or verify file, and runs after the versioned migrations\n"
        "                      (in name order) whenever its checksum changes; an existing\n"
        "                      R__SLUG.sql is refused (edit it instead)\n");
}

/* The highest version already in dir, or "" if none. */
static char *
highest_version(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    char *best = xstrdup("");

    if (d == NULL)
        return best;
    while ((de = readdir(d)) != NULL) {
        size_t n = 0;

        while (de->d_name[n] >= '0' && de->d_name[n] <= '9')
            n++;
        if (n > 0 && de->d_name[n] == '_') {
            char *v = xstrndup(de->d_name, n);

            if (best[0] == '\0' || version_decimal_cmp(v, best) > 0) {
                free(best);
                best = v;
            } else {
                free(v);
            }
        }
    }
    closedir(d);
    return best;
}

/* Decimal string plus one. */
static char *
increment(const char *v)
{
    char *out = xmalloc(strlen(v) + 2);
    size_t n = strlen(v);
    int carry = 1;

    out[n + 1] = '\0';
    for (size_t i = n; i > 0; i--) {
        int d = v[i - 1] - '0' + carry;

        carry = d / 10;
        out[i] = (char)('0' + d % 10);
    }
    out[0] = carry ? '1' : '0';
    if (out[0] == '0')
        memmove(out, out + 1, n + 1);
    return out;
}

/*
 * The next migration's version into version (cap bytes): the current UTC time, but never at or
 * before an existing migration's, even with a skewed clock. Exits when it would not fit.
 */
static void
next_version(const char *dir, char *version, size_t cap)
{
    time_t now = time(NULL);
    struct tm tm;
    char *high;

    gmtime_r(&now, &tm);
    strftime(version, cap, "%Y%m%d%H%M%S", &tm);
    high = highest_version(dir);
    if (high[0] && version_decimal_cmp(version, high) <= 0) {
        char *next = increment(high);
        int n = snprintf(version, cap, "%s", next);

        /* A cut version would sort before the one it must follow. */
        if (n < 0 || (size_t)n >= cap)
            die(EXIT_REJECTED,
                "the version after %s would have more than %d digits, the most a native version "
                "has",
                high, NATIVE_VERSION_MAX);
        free(next);
    }
    free(high);
}

static int
write_new_file(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    int ok;

    if (fd < 0)
        return -1;
    ok = file_write_all(fd, text, strlen(text)) == 0;
    return (close(fd) == 0 && ok) ? 0 : -1;
}

/* What --no-transaction, --irreversible and --verify ask of the new migration. */
#define NEW_NO_TRANSACTION 1u
#define NEW_IRREVERSIBLE   2u
#define NEW_VERIFY         4u
#define NEW_REPEATABLE     8u

/*
 * Write VERSION_SLUG's files in dir: the up file, the down file unless irreversible, the verify
 * file if asked, each with its directives in the leading comment block; print each path. On a
 * failure the files written so far are removed. Returns 0 or -1 (the error printed).
 */
static int
write_migration(const char *dir, const char *version, const char *slug, unsigned flags)
{
    static const char *const kinds[] = {"up", "down", "verify"};
    char *path[3] = {NULL, NULL, NULL};
    struct buf text = BUF_INIT;
    int rc = 0, k;

    for (k = 0; k < 3 && rc == 0; k++) {
        if ((k == 1 && (flags & NEW_IRREVERSIBLE)) || (k == 2 && !(flags & NEW_VERIFY)))
            continue;
        buf_reset(&text);
        if (k < 2 && (flags & NEW_NO_TRANSACTION))
            buf_addstr(&text, "-- sealift:no-transaction\n");
        if (k == 0 && (flags & NEW_IRREVERSIBLE))
            buf_addstr(&text, "-- sealift:irreversible\n");
        if (k == 0)
            buf_addf(&text,
                     "-- %s_%s: up.\n"
                     "-- Directives, if any, go in this leading comment block, one per line:\n"
                     "--   \"-- sealift:no-transaction\" for CREATE INDEX CONCURRENTLY and the "
                     "like;\n"
                     "--   \"-- sealift:irreversible\" when there can be no down (delete the\n"
                     "--   .down.sql file then).\n\n",
                     version, slug);
        else if (k == 1)
            buf_addf(&text, "-- %s_%s: down. Undo exactly what the up did, in reverse order.\n\n",
                     version, slug);
        else
            buf_addf(&text,
                     "-- %s_%s: verify. Runs after the up script; any error here fails the\n"
                     "-- migration (e.g. SELECT 1 / count(*) FROM pg_indexes WHERE ...).\n\n",
                     version, slug);
        path[k] = xasprintf("%s/%s_%s.%s.sql", dir, version, slug, kinds[k]);
        if (write_new_file(path[k], text.data) != 0) {
            diag_error("could not create \"%s\": %s", path[k], strerror(errno));
            free(path[k]);
            path[k] = NULL;
            rc = -1;
        }
    }
    for (k = 0; k < 3; k++) {
        if (path[k] && rc != 0)
            unlink(path[k]);
        else if (path[k])
            printf("%s\n", path[k]);
        free(path[k]);
    }
    buf_release(&text);
    return rc;
}

/*
 * Write dir/R__NAME.sql, a repeatable migration (read_native.c reads it back), and print its
 * path. Returns 0, or EXIT_REJECTED when it exists already, or -1 for another failure (the
 * error printed either way).
 */
static int
write_repeatable(const char *dir, const char *name, unsigned flags)
{
    char *path = xasprintf("%s/R__%s.sql", dir, name);
    struct buf text = BUF_INIT;
    int rc = 0;

    if (flags & NEW_NO_TRANSACTION)
        buf_addstr(&text, "-- sealift:no-transaction\n");
    buf_addf(
        &text,
        "-- R__%s: a repeatable migration. It runs after the versioned migrations, and\n"
        "-- again whenever this file changes, so it must be safe to re-run: CREATE OR\n"
        "-- REPLACE VIEW/FUNCTION, DROP ... IF EXISTS, GRANT. Repeatables run in name order.\n"
        "-- A directive, if any, goes in this leading comment block:\n"
        "--   \"-- sealift:no-transaction\" for statements that cannot run in a transaction.\n\n",
        name);
    if (write_new_file(path, text.data) != 0) {
        if (errno == EEXIST) {
            diag_error("\"%s\" already exists: edit it (a changed repeatable runs again)", path);
            rc = EXIT_REJECTED;
        } else {
            diag_error("could not create \"%s\": %s", path, strerror(errno));
            rc = -1;
        }
    } else {
        printf("%s\n", path);
    }
    buf_release(&text);
    free(path);
    return rc;
}

int
cmd_new(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"dir", required_argument, NULL, 'd'},      {"project", required_argument, NULL, 'P'},
        {"no-transaction", no_argument, NULL, 'N'}, {"irreversible", no_argument, NULL, 'I'},
        {"verify", no_argument, NULL, 'V'},         {"repeatable", no_argument, NULL, 'R'},
        {"help", no_argument, NULL, 'h'},           {NULL, 0, NULL, 0}};
    const char *dir = "migrations", *project = NULL, *slug;
    char version[NATIVE_VERSION_MAX + 1], *sum_path = NULL;
    unsigned flags = 0;
    struct diag_err err = DIAG_ERR_INIT;
    int c, ret = EXIT_USAGE;

    optind = 0;
    while ((c = getopt_long(argc, argv, ":d:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'd':
            dir = optarg;
            break;
        case 'P':
            project = optarg;
            if (!manifest_token_valid(project))
                die_usage("new", "project name must be 1-64 letters, digits, '.', '_' or '-'");
            break;
        case 'N':
            flags |= NEW_NO_TRANSACTION;
            break;
        case 'I':
            flags |= NEW_IRREVERSIBLE;
            break;
        case 'V':
            flags |= NEW_VERIFY;
            break;
        case 'R':
            flags |= NEW_REPEATABLE;
            break;
        case 'h':
            usage_new();
            return EXIT_OK;
        default:
            die_bad_option("new", c, argv);
        }
    }
    if (optind + 1 != argc)
        die_usage("new", "expected one SLUG (a short name such as add_users)");
    slug = argv[optind];
    if (!native_slug_valid(slug))
        die_usage("new", "slug \"%s\" must be letters, digits, '_' and '-'", slug);
    /* A repeatable is one file, re-run as it is: nothing undoes or verifies it. */
    if ((flags & NEW_REPEATABLE) && (flags & (NEW_IRREVERSIBLE | NEW_VERIFY)))
        die_usage("new",
                  "--repeatable does not go with %s (a repeatable has no down or verify "
                  "file)",
                  (flags & NEW_IRREVERSIBLE) ? "--irreversible" : "--verify");
    if (mkdir(dir, 0777) != 0 && errno != EEXIST)
        die(EXIT_USAGE, "could not create directory \"%s\": %s", dir, strerror(errno));

    if (!(flags & NEW_REPEATABLE))
        next_version(dir, version, sizeof(version));
    sum_path = xasprintf("%s/%s", dir, SUMFILE_NAME);
    if (access(sum_path, F_OK) != 0) {
        struct sumfile sum;

        sumfile_init(&sum);
        sum.project = project ? xstrdup(project) : compile_default_project(dir);
        if (sumfile_write(sum_path, &sum, &err) != 0) {
            diag_error("%s", err.msg);
            sumfile_release(&sum);
            goto cleanup;
        }
        printf("created %s (project %s)\n", sum_path, sum.project);
        sumfile_release(&sum);
    }

    if (flags & NEW_REPEATABLE) {
        int r = write_repeatable(dir, slug, flags);

        if (r != 0) {
            ret = r > 0 ? r : EXIT_USAGE;
            goto cleanup;
        }
    } else if (write_migration(dir, version, slug, flags) != 0) {
        goto cleanup;
    }
    ret = EXIT_OK;
cleanup:
    free(sum_path);
    return ret;
}
