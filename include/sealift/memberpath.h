/*
 * memberpath.h: the one safety check for the paths of files inside a bundle (members), used
 * where a bundle is written (manifest) and where one is read (bundle reader), and for the
 * names of data files that become members.
 *
 * A safe member path is relative, made of letters, digits, '.', '_', '-' and '/' only, with no
 * empty, "." or ".." component: extracted anywhere, it cannot name a file outside the
 * extraction directory, and it means the same on every file system.
 */
#ifndef SEALIFT_MEMBERPATH_H
#define SEALIFT_MEMBERPATH_H

#include <stddef.h>

/*
 * 1 if path is a safe member path of at most max bytes (see above): not empty, no leading or
 * trailing '/', no "//", no "." or ".." component. Else 0.
 */
int memberpath_valid(const char *path, size_t max);

/*
 * 1 if name is one safe path component of at most max bytes that does not start with '.'
 * (so neither "." nor ".." nor a hidden file): a data file's name. Else 0.
 */
int memberpath_name_valid(const char *name, size_t max);

#endif
