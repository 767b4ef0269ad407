/*
 * xmlread.h: a small, strict XML reader for the subset Liquibase changelogs use: one root
 * element, nested elements with attributes, text, CDATA sections, comments, an XML declaration
 * at the start, and the entities &lt; &gt; &amp; &quot; &apos; and &#N; / &#xN;. Anything else
 * (a DOCTYPE, other processing instructions, other entities, mismatched tags, text after the
 * root) is an error with its line, not a guess. Names keep their namespace prefixes as written.
 */
#ifndef SEALIFT_COMPILER_XMLREAD_H
#define SEALIFT_COMPILER_XMLREAD_H

#include "sealift/buf.h"
#include "sealift/diag.h"

#include <stddef.h>

struct xml_attr {
    char *name;
    char *value; /* entities resolved */
};

struct xml_node {
    char *name;
    unsigned line; /* of the start tag */
    struct xml_attr *attrs;
    size_t nattrs;
    size_t attrs_cap;
    /* The element's own text and CDATA (not its children's), concatenated, entities resolved. */
    struct buf text;
    struct xml_node *children;
    size_t nchildren;
    size_t children_cap;
};

/*
 * Parse text[0, len) (UTF-8, a leading byte-order mark allowed) into *root, which the caller
 * releases with xml_node_release (also after an error). Returns 0, or -1 with err set
 * ("line N: ...").
 */
int xml_parse(const char *text, size_t len, struct xml_node *root, struct diag_err *err);

void xml_node_release(struct xml_node *n);

/* The value of attribute name of n, or NULL. */
const char *xml_attr(const struct xml_node *n, const char *name);

/* The local part of n's name (after any "prefix:"). */
const char *xml_local_name(const struct xml_node *n);

#endif
