/*
 * cmds.h: sealift-apply's subcommands, one file each (applier/cmd_<verb>.c).
 * Each returns the process exit code (README "Exit codes").
 */
#ifndef SEALIFT_APPLIER_CMDS_H
#define SEALIFT_APPLIER_CMDS_H

int cmd_verify(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_plan(int argc, char **argv);
int cmd_apply(int argc, char **argv);
int cmd_rollback(int argc, char **argv);
int cmd_stamp(int argc, char **argv);
int cmd_history(int argc, char **argv);
int cmd_test(int argc, char **argv);
int cmd_keys(int argc, char **argv);
int cmd_report(int argc, char **argv);

#endif
