/*
 * json.h: writing JSON text into a buf (output only; sealift never parses JSON).
 * Hand-written because it is twenty lines and a JSON library would be a new dependency of
 * the static applier for nothing.
 */
#ifndef SEALIFT_JSON_H
#define SEALIFT_JSON_H

#include "sealift/buf.h"

#include <stddef.h>

/* Append s as a JSON string literal (quoted, escaped). NULL appends null. */
void json_str(struct buf *out, const char *s);
/* Append len bytes as a JSON string literal. */
void json_strn(struct buf *out, const char *s, size_t len);
/* Append "key": (with a leading comma unless first). */
void json_key(struct buf *out, const char *key, int first);

#endif
