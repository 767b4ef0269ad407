/*
 * version.h: the version orders of migration chains, one definition for both binaries.
 *
 *   decimal  sealift's native versions, golang-migrate's, goose's and dbmate's: a string of
 *            digits read as a number of any size ("0042" is 42, "2" comes before "10");
 *   Flyway   digit parts separated by "." (or "_", which Flyway reads as "."), compared part
 *            by part as numbers of any size (flyway-core's MigrationVersion: BigInteger parts),
 *            a missing part counting as 0, so "1.10" comes after "1.9" and "1.0" equals "1";
 *   same     the "same version" rule of adoption: two texts that are both decimal name the
 *            same version when they are equal as numbers (golang-migrate stores 1 for a file
 *            named 0001_...), any other two only when they are the same text.
 *
 * Nothing here allocates except version_decimal_canonical; no input makes a function loop:
 * every byte is looked at a bounded number of times.
 */
#ifndef SEALIFT_VERSION_H
#define SEALIFT_VERSION_H

#include <stddef.h>

/* 1 if s[0, n) is one or more ASCII digits, else 0. */
int version_is_decimal(const char *s, size_t n);

/*
 * Compare two decimal versions as numbers: <0, 0 or >0. Leading zeros do not count ("007"
 * equals "7"); numbers have no size limit. Strings that are not decimal still get a total
 * order (leading zeros aside, shorter first, then byte order), so a sort cannot misbehave.
 */
int version_decimal_cmp(const char *a, const char *b);

/* "0042" -> "42", "000" -> "0": the decimal as an integer column stores it (malloc'd). */
char *version_decimal_canonical(const char *digits, size_t n);

/*
 * 1 if v is a Flyway version: one or more parts of digits separated by single "." or "_"
 * characters (no empty part, no separator first or last). Flyway refuses anything else
 * ("Invalid version containing non-numeric characters").
 */
int version_flyway_valid(const char *v);

/*
 * Flyway's order: <0, 0 or >0. A version that is not valid (version_flyway_valid) sorts after
 * every valid one, and two invalid ones compare as text: a total order for any input.
 */
int version_flyway_cmp(const char *a, const char *b);

/* The "same version" rule of adoption (see the top of this file): 1 if same, else 0. */
int version_same(const char *a, const char *b);

#endif
