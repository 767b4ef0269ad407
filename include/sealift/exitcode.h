/*
 * exitcode.h: the process exit codes of both binaries, defined once (PRODUCT.md "Exit codes",
 * README "Exit codes"). One meaning per code; bats tests pin each of them.
 */
#ifndef SEALIFT_EXITCODE_H
#define SEALIFT_EXITCODE_H

#define EXIT_OK       0 /* success; for status, the database is at the bundle's head */
#define EXIT_REJECTED 1 /* bundle or input rejected: signature, checksum, format, policy */
#define EXIT_USAGE    2 /* usage or environment: bad option, missing or unreadable file */
#define EXIT_STATE    3 /* database state refused: drift, unknown history, environment, serial */
#define EXIT_FAILED   4 /* a migration failed; its transaction was rolled back */
#define EXIT_LOCK     5 /* the migration lock was not acquired within the timeout */
#define EXIT_CONNECT  6 /* could not connect to the database */
#define EXIT_PENDING  7 /* status only: migrations are pending */

#endif
