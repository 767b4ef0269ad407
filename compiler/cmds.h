/*
 * cmds.h: the compiler's subcommands, one file each (compiler/cmd_<verb>.c).
 * Each returns the process exit code (see README "Exit codes").
 */
#ifndef SEALIFT_COMPILER_CMDS_H
#define SEALIFT_COMPILER_CMDS_H

#include "sealift/diag.h"
#include "sealift/exitcode.h"

int cmd_keygen(int argc, char **argv);
int cmd_new(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_build(int argc, char **argv);
int cmd_lint(int argc, char **argv);
int cmd_sign(int argc, char **argv);
int cmd_inspect(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_key(int argc, char **argv);

/* Exit code for a failed lib/ call: 2 for environment errors (err->io), else 1. */
int exit_code_for(const struct diag_err *err);

/* The bundle's creation time: SOURCE_DATE_EPOCH if set (else now), as seconds. */
int build_time(long long *out);
void format_utc(long long t, char out[32]);

#endif
