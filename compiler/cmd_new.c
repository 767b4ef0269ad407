/*
 * cmd_new.c: "sealift new": the next migration's up and down files, from a template.
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
        "VERSION the current UTC time (YYYYMMDDHHMMSS).\n\n"
        "Usage:\n  sealift new [-d DIR] [--project NAME] [--no-transaction] [--irreversible]\n"
        "              [--verify] SLUG\n\n"
        "Options:\n"
        "  -d, --dir DIR       migrations directory (default \"migrations\"; created if needed)\n"
        "      --project NAME  project name for a new chain's sealift.sum (default: the name\n"
        "                      of the directory that holds DIR)\n"
        "      --no-transaction  mark the up and down files \"-- sealift:no-transaction\" (for\n"
        "                      CREATE INDEX CONCURRENTLY and the like)\n"
        "      --irreversible  mark the up file \"-- sealift:irreversible\" and write no down "
        "file\n"
        "      --verify        write VERSION_SLUG.verify.sql too (run after the up script; an\n"
        "                      error in it fails the migration)\n");
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

int
cmd_new(int argc, char **argv)
{
    static const struct option longopts[] = {{"dir", required_argument, NULL, 'd'},
                                             {"project", required_argument, NULL, 'P'},
                                             {"no-transaction", no_argument, NULL, 'N'},
                                             {"irreversible", no_argument, NULL, 'I'},
                                             {"verify", no_argument, NULL, 'V'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    const char *dir = "migrations", *project = NULL, *slug;
    char version[NATIVE_VERSION_MAX + 1], *high, *sum_path = NULL;
    unsigned flags = 0;
    struct diag_err err = DIAG_ERR_INIT;
    time_t now = time(NULL);
    struct tm tm;
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
    if (mkdir(dir, 0777) != 0 && errno != EEXIST)
        die(EXIT_USAGE, "could not create directory \"%s\": %s", dir, strerror(errno));

    gmtime_r(&now, &tm);
    strftime(version, sizeof(version), "%Y%m%d%H%M%S", &tm);
    /* Never sort before an existing migration, even with a skewed clock. */
    high = highest_version(dir);
    if (high[0] && version_decimal_cmp(version, high) <= 0) {
        char *next = increment(high);
        int n = snprintf(version, sizeof(version), "%s", next);

        /* A cut version would sort before the one it must follow. */
        if (n < 0 || (size_t)n >= sizeof(version))
            die(EXIT_REJECTED,
                "the version after %s would have more than %d digits, the most a native version "
                "has",
                high, NATIVE_VERSION_MAX);
        free(next);
    }
    free(high);

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

    if (write_migration(dir, version, slug, flags) != 0)
        goto cleanup;
    ret = EXIT_OK;
cleanup:
    free(sum_path);
    return ret;
}
