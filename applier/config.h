/*
 * config.h: sealift-apply's configuration file (--config FILE, SEALIFT_CONFIG, else
 * /etc/sealift/apply.conf when it exists): "key = value" lines, "#" comments and blank lines.
 *
 * The file sets defaults that the environment (SEALIFT_PUBKEYS, SEALIFT_THRESHOLD,
 * SEALIFT_SCHEMA) and then the command line override. Because it names the keys that decide
 * what runs on a database, it is refused unless it is a regular file owned by root or by the
 * user running sealift-apply and writable by nobody else (as sudo and ssh treat theirs).
 */
#ifndef SEALIFT_APPLIER_CONFIG_H
#define SEALIFT_APPLIER_CONFIG_H

#include "sealift/buf.h"
#include "sealift/diag.h"

#define CONFIG_DEFAULT_PATH "/etc/sealift/apply.conf"
/* A config file is a few lines: anything larger is not one. */
#define CONFIG_MAX_BYTES (64u * 1024)

/*
 * Called once for each "key = value" line (key and value trimmed, value may be ""; line counts
 * from 1). Returns 0,
 * or -1 with err set (an unknown key, a bad value): config_parse then adds the file and line.
 */
typedef int (*config_entry_cb)(const char *key, const char *value, int line, void *arg,
                               struct diag_err *err);

/*
 * Parse text (the file's contents; path names it in messages) line by line, calling cb.
 * Returns 0, or -1 with err set to "PATH:LINE: why" for a line without "=", an empty key, or
 * an error from cb.
 */
int config_parse(const char *path, const char *text, config_entry_cb cb, void *arg,
                 struct diag_err *err);

/*
 * Which file to read: explicit (--config) if not NULL, else $SEALIFT_CONFIG if set (empty: no
 * file), else CONFIG_DEFAULT_PATH. *required is set when the file must exist (named by the
 * user), clear when a missing one is simply not used. Returns the path, or NULL for none.
 */
const char *config_path(const char *explicit, int *required);

/*
 * Read the config file path into out after checking that it is a regular file owned by root
 * or the effective user and not writable by group or others. Returns 0, 1 when it does not
 * exist and !required (out untouched), or -1 with err set.
 */
int config_read(const char *path, int required, struct buf *out, struct diag_err *err);

#endif
