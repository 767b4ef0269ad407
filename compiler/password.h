/*
 * password.h: where the compiler gets a secret key's password: the file named by
 * SEALIFT_PASSWORD_FILE (its first line), else the terminal with echo off.
 */
#ifndef SEALIFT_COMPILER_PASSWORD_H
#define SEALIFT_COMPILER_PASSWORD_H

#include "sealift/diag.h"

#include <stddef.h>

/* seckey_password_cb for loading a key: data is unused. */
int password_get_cb(char *out, size_t cap, void *data, struct diag_err *err);

/*
 * A new password for keygen: from SEALIFT_PASSWORD_FILE, or asked twice on the terminal.
 * out is sodium_malloc'd by the caller.
 */
int password_new(char *out, size_t cap, struct diag_err *err);

#endif
