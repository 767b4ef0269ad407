/*
 * jsonread.h: a small, bounded JSON reader for the applier's Ansible module: it reads the
 * arguments file Ansible writes and the --json events of the applier commands the module
 * runs. Strict RFC 8259 (no comments, no trailing commas, one value, nothing after it but
 * whitespace), depth at most JSONREAD_MAX_DEPTH, \u escapes decoded to UTF-8 (lone
 * surrogates and \u0000 refused, so strings are C strings).
 */
#ifndef SEALIFT_APPLIER_JSONREAD_H
#define SEALIFT_APPLIER_JSONREAD_H

#include "sealift/buf.h"
#include "sealift/diag.h"

#include <stddef.h>

#define JSONREAD_MAX_DEPTH 64

enum jv_type { JV_NULL, JV_BOOL, JV_NUMBER, JV_STRING, JV_ARRAY, JV_OBJECT };

struct jv {
    enum jv_type type;
    int boolean;  /* JV_BOOL */
    double num;   /* JV_NUMBER */
    char *str;    /* JV_STRING: decoded; JV_NUMBER: the number's text as written */
    size_t n;     /* JV_ARRAY, JV_OBJECT: members */
    struct jv *v; /* the members' values */
    char **keys;  /* JV_OBJECT: the members' names (duplicates refused) */
};

/*
 * Parse len bytes of text. Returns a tree the caller frees with jv_free, or NULL with err
 * set (the message names the byte offset).
 */
struct jv *jv_parse(const char *text, size_t len, struct diag_err *err);
/* Free a tree from jv_parse (NULL is fine). */
void jv_free(struct jv *v);
/* The member named key of an object, or NULL (also when v is NULL or not an object). */
const struct jv *jv_get(const struct jv *v, const char *key);
/* The string member named key, or NULL when absent or not a string. */
const char *jv_get_str(const struct jv *v, const char *key);
/* Append v as compact JSON text (the numbers as they were written). */
void jv_emit(struct buf *out, const struct jv *v);

#endif
