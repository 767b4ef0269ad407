/*
 * config.c: finding, checking and parsing sealift-apply's configuration file (see config.h).
 * Layer: applier. Pure but for config_read's stat and read; the meaning of each key is the
 * caller's (common.c).
 */
#include "config.h"
#include "sealift/file.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Trim blanks from both ends of s[0..n) in place; returns the new start, *n the new length. */
static char *
trim(char *s, size_t *n)
{
    while (*n > 0 && (*s == ' ' || *s == '\t')) {
        s++;
        (*n)--;
    }
    while (*n > 0 && (s[*n - 1] == ' ' || s[*n - 1] == '\t' || s[*n - 1] == '\r'))
        (*n)--;
    s[*n] = '\0';
    return s;
}

int
config_parse(const char *path, const char *text, config_entry_cb cb, void *arg,
             struct diag_err *err)
{
    struct buf line = BUF_INIT;
    int lineno = 0, rc = 0;

    for (const char *p = text; *p && rc == 0;) {
        size_t len = strcspn(p, "\n"), klen, vlen;
        char *s, *eq, *key, *value;

        lineno++;
        buf_reset(&line);
        buf_add(&line, p, len);
        p += len + (p[len] == '\n');
        s = trim(line.data, &len);
        if (len == 0 || *s == '#')
            continue;
        eq = strchr(s, '=');
        if (eq == NULL) {
            rc = err_set(err, "%s:%d: expected \"key = value\", not \"%s\"", path, lineno, s);
            break;
        }
        *eq = '\0';
        klen = (size_t)(eq - s);
        vlen = len - klen - 1;
        key = trim(s, &klen);
        value = trim(eq + 1, &vlen);
        if (klen == 0) {
            rc = err_set(err, "%s:%d: a setting needs a name before \"=\"", path, lineno);
            break;
        }
        if (cb(key, value, lineno, arg, err) != 0) {
            char why[DIAG_MSG_MAX];

            memcpy(why, err->msg, sizeof(why));
            rc = err_set(err, "%s:%d: %s", path, lineno, why);
        }
    }
    buf_release(&line);
    return rc;
}

const char *
config_path(const char *explicit, int *required)
{
    const char *env = getenv("SEALIFT_CONFIG");

    *required = 1;
    if (explicit)
        return explicit;
    if (env)
        return *env ? env : NULL;
    *required = 0;
    return CONFIG_DEFAULT_PATH;
}

int
config_read(const char *path, int required, struct buf *out, struct diag_err *err)
{
    struct stat st;

    if (stat(path, &st) != 0) {
        if (errno == ENOENT && !required)
            return 1;
        return err_set_io(err, "could not read config file \"%s\": %s", path, strerror(errno));
    }
    if (!S_ISREG(st.st_mode))
        return err_set_io(err, "config file \"%s\" is not a regular file", path);
    /* It names the keys trusted to change a database: only its owner may write it. */
    if (st.st_uid != 0 && st.st_uid != geteuid())
        return err_set_io(err,
                          "config file \"%s\" is owned by another user (uid %ld); it must be "
                          "owned by root or by you",
                          path, (long)st.st_uid);
    if (st.st_mode & (S_IWGRP | S_IWOTH))
        return err_set_io(err,
                          "config file \"%s\" is writable by %s; refusing it (chmod go-w \"%s\")",
                          path, st.st_mode & S_IWOTH ? "others" : "its group", path);
    return file_read_all(path, CONFIG_MAX_BYTES, out, err);
}
