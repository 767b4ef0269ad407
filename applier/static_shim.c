/*
 * static_shim.c: stand-ins for the GSSAPI and LDAP functions that Debian's libpq.a refers to.
 * Layer: applier (static build only).
 *
 * Debian ships libpq.a built with GSSAPI (Kerberos) and LDAP support, but no static Kerberos or
 * OpenLDAP libraries to link it with. Rather than drop to a dynamic binary, the static applier
 * links these stand-ins: each fails the way the real library fails when it has nothing to offer,
 * so libpq behaves as on a host with no Kerberos credentials and no LDAP server:
 *   - gssencmode=prefer (the default) quietly uses TLS or plain TCP;
 *   - gssencmode=require, or a server that demands GSSAPI authentication, fails with libpq's
 *     own message about missing GSSAPI credentials;
 *   - an "ldap://" service lookup in pg_service.conf fails ("could not create LDAP structure").
 * Password, SCRAM, certificate and peer authentication, and TLS, are unaffected.
 */
#include <stddef.h>
#include <stdint.h>

typedef uint32_t shim_status;

#define SHIM_GSS_FAILURE (13u << 16) /* GSS_S_FAILURE */

/* gss_OID_desc: { OM_uint32 length; void *elements; } */
struct shim_oid {
    uint32_t length;
    void *elements;
};

static struct shim_oid shim_hostbased = {0, NULL};
void *GSS_C_NT_HOSTBASED_SERVICE = &shim_hostbased;

shim_status gss_acquire_cred(shim_status *minor, void *a, uint32_t b, void *c, int d, void **e,
                             void **f, uint32_t *g);
shim_status gss_delete_sec_context(shim_status *minor, void **ctx, void *out);
shim_status gss_display_status(shim_status *minor, shim_status status, int type, void *mech,
                               shim_status *more, void *buf);
shim_status gss_import_name(shim_status *minor, void *buf, void *type, void **name);
shim_status gss_init_sec_context(shim_status *minor, void *cred, void **ctx, void *name, void *mech,
                                 uint32_t flags, uint32_t time, void *bindings, void *in,
                                 void **mech_out, void *out, uint32_t *ret_flags,
                                 uint32_t *time_rec);
shim_status gss_release_buffer(shim_status *minor, void *buf);
shim_status gss_release_cred(shim_status *minor, void **cred);
shim_status gss_release_name(shim_status *minor, void **name);
shim_status gss_unwrap(shim_status *minor, void *ctx, void *in, void *out, int *conf,
                       uint32_t *qop);
shim_status gss_wrap(shim_status *minor, void *ctx, int conf, uint32_t qop, void *in, int *state,
                     void *out);
shim_status gss_wrap_size_limit(shim_status *minor, void *ctx, int conf, uint32_t qop, uint32_t req,
                                uint32_t *max);

static shim_status
gss_fail(shim_status *minor)
{
    if (minor)
        *minor = 0;
    return SHIM_GSS_FAILURE;
}

/* gss_buffer_desc: { size_t length; void *value; } */
struct shim_buffer {
    size_t length;
    void *value;
};

shim_status
gss_acquire_cred(shim_status *minor, void *a, uint32_t b, void *c, int d, void **e, void **f,
                 uint32_t *g)
{
    (void)a, (void)b, (void)c, (void)d, (void)e, (void)f, (void)g;
    return gss_fail(minor); /* "no credentials": libpq skips GSSAPI encryption */
}

shim_status
gss_delete_sec_context(shim_status *minor, void **ctx, void *out)
{
    (void)out;
    if (ctx)
        *ctx = NULL;
    if (minor)
        *minor = 0;
    return 0;
}

shim_status
gss_display_status(shim_status *minor, shim_status status, int type, void *mech, shim_status *more,
                   void *buf)
{
    static char msg[] = "GSSAPI is not available in the static sealift-apply";
    struct shim_buffer *b = buf;

    (void)status, (void)type, (void)mech;
    if (more)
        *more = 0;
    if (b) {
        b->length = sizeof(msg) - 1;
        b->value = msg;
    }
    if (minor)
        *minor = 0;
    return 0;
}

shim_status
gss_import_name(shim_status *minor, void *buf, void *type, void **name)
{
    (void)buf, (void)type, (void)name;
    return gss_fail(minor);
}

shim_status
gss_init_sec_context(shim_status *minor, void *cred, void **ctx, void *name, void *mech,
                     uint32_t flags, uint32_t time, void *bindings, void *in, void **mech_out,
                     void *out, uint32_t *ret_flags, uint32_t *time_rec)
{
    (void)cred, (void)ctx, (void)name, (void)mech, (void)flags, (void)time, (void)bindings;
    (void)in, (void)mech_out, (void)out, (void)ret_flags, (void)time_rec;
    return gss_fail(minor);
}

shim_status
gss_release_buffer(shim_status *minor, void *buf)
{
    struct shim_buffer *b = buf;

    if (b) {
        b->length = 0;
        b->value = NULL; /* display_status hands out static text: nothing to free */
    }
    if (minor)
        *minor = 0;
    return 0;
}

shim_status
gss_release_cred(shim_status *minor, void **cred)
{
    if (cred)
        *cred = NULL;
    if (minor)
        *minor = 0;
    return 0;
}

shim_status
gss_release_name(shim_status *minor, void **name)
{
    if (name)
        *name = NULL;
    if (minor)
        *minor = 0;
    return 0;
}

shim_status
gss_unwrap(shim_status *minor, void *ctx, void *in, void *out, int *conf, uint32_t *qop)
{
    (void)ctx, (void)in, (void)out, (void)conf, (void)qop;
    return gss_fail(minor);
}

shim_status
gss_wrap(shim_status *minor, void *ctx, int conf, uint32_t qop, void *in, int *state, void *out)
{
    (void)ctx, (void)conf, (void)qop, (void)in, (void)state, (void)out;
    return gss_fail(minor);
}

shim_status
gss_wrap_size_limit(shim_status *minor, void *ctx, int conf, uint32_t qop, uint32_t req,
                    uint32_t *max)
{
    (void)ctx, (void)conf, (void)qop, (void)req, (void)max;
    return gss_fail(minor);
}

/* LDAP: ldap_init returning NULL makes libpq report it could not create an LDAP structure. */
void *ldap_init(const char *host, int port);
int ldap_set_option(void *ld, int option, const void *value);
int ldap_simple_bind(void *ld, const char *who, const char *passwd);
int ldap_result(void *ld, int msgid, int all, void *timeout, void **result);
int ldap_search_st(void *ld, const char *base, int scope, const char *filter, char **attrs,
                   int attrsonly, void *timeout, void **res);
int ldap_count_entries(void *ld, void *chain);
void *ldap_first_entry(void *ld, void *chain);
void **ldap_get_values_len(void *ld, void *entry, const char *attr);
void ldap_value_free_len(void **vals);
int ldap_msgfree(void *msg);
int ldap_unbind(void *ld);
char *ldap_err2string(int err);

#define SHIM_LDAP_UNAVAILABLE 0x34

void *
ldap_init(const char *host, int port)
{
    (void)host, (void)port;
    return NULL;
}

int
ldap_set_option(void *ld, int option, const void *value)
{
    (void)ld, (void)option, (void)value;
    return SHIM_LDAP_UNAVAILABLE;
}

int
ldap_simple_bind(void *ld, const char *who, const char *passwd)
{
    (void)ld, (void)who, (void)passwd;
    return -1;
}

int
ldap_result(void *ld, int msgid, int all, void *timeout, void **result)
{
    (void)ld, (void)msgid, (void)all, (void)timeout, (void)result;
    return -1;
}

int
ldap_search_st(void *ld, const char *base, int scope, const char *filter, char **attrs,
               int attrsonly, void *timeout, void **res)
{
    (void)ld, (void)base, (void)scope, (void)filter, (void)attrs, (void)attrsonly, (void)timeout;
    if (res)
        *res = NULL;
    return SHIM_LDAP_UNAVAILABLE;
}

int
ldap_count_entries(void *ld, void *chain)
{
    (void)ld, (void)chain;
    return 0;
}

void *
ldap_first_entry(void *ld, void *chain)
{
    (void)ld, (void)chain;
    return NULL;
}

void **
ldap_get_values_len(void *ld, void *entry, const char *attr)
{
    (void)ld, (void)entry, (void)attr;
    return NULL;
}

void
ldap_value_free_len(void **vals)
{
    (void)vals;
}

int
ldap_msgfree(void *msg)
{
    (void)msg;
    return 0;
}

int
ldap_unbind(void *ld)
{
    (void)ld;
    return 0;
}

char *
ldap_err2string(int err)
{
    static char msg[] = "LDAP is not available in the static sealift-apply";

    (void)err;
    return msg;
}
