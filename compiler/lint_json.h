/*
 * lint_json.h: a small JSON reader for libpg_query's parse trees (pg_query_parse()), which the
 * lint reads instead of the protobuf form: libpg_query builds and unpacks protobuf at several
 * times the cost of the parse itself, its JSON at a fraction of it.
 *
 * The document is parsed in place: strings are decoded into the caller's text, which must
 * stay alive (and unmodified) while the document is used. Values are nodes of one vector.
 */
#ifndef SEALIFT_COMPILER_LINT_JSON_H
#define SEALIFT_COMPILER_LINT_JSON_H

#include <stddef.h>

enum jtype { JNULL, JFALSE, JTRUE, JNUM, JSTR, JARR, JOBJ };

struct jnode {
    int type;        /* enum jtype */
    const char *key; /* member name, inside an object */
    const char *str; /* JSTR: the decoded string */
    long num;        /* JNUM */
    size_t first;    /* JARR, JOBJ: first child (0: none; the root is node 0) */
    size_t next;     /* next sibling (0: none) */
};

struct jdoc {
    struct jnode *v;
    size_t n;
    size_t cap;
};

/* Parse text (NUL-terminated, modified in place) into d. Returns 0, or -1 if malformed. */
int jdoc_parse(struct jdoc *d, char *text);
void jdoc_release(struct jdoc *d);

/* The member key of object o, or NULL (also when o is NULL or not an object). */
const struct jnode *jget(const struct jdoc *d, const struct jnode *o, const char *key);
/* The first child of an array or object, and the next sibling; NULL at the end. */
const struct jnode *jfirst(const struct jdoc *d, const struct jnode *n);
const struct jnode *jnext(const struct jdoc *d, const struct jnode *n);
/* The string of n, or NULL. */
const char *jstr(const struct jnode *n);
/* The number of n, or 0 (libpg_query leaves zero and false fields out). */
long jnum(const struct jnode *n);
/* 1 if n is true. */
int jtrue(const struct jnode *n);
/* 1 if n is a string equal to s. */
int jis(const struct jnode *n, const char *s);
/*
 * A parse-tree Node is an object of one member named by its type ({"RangeVar": {...}}): the
 * member's value if n is a Node of that type, else NULL. jnode_type gives the type's name.
 */
const struct jnode *jnode_of(const struct jdoc *d, const struct jnode *n, const char *type);
const char *jnode_type(const struct jdoc *d, const struct jnode *n);

#endif
