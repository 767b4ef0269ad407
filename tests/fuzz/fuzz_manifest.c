/*
 * fuzz_manifest.c: libFuzzer target for the manifest parser (lib/manifest.c). Every input must
 * be parsed or refused with a message; a parsed one must emit back to the same bytes.
 */
#include "sealift/manifest.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct manifest m;
    struct diag_err err = DIAG_ERR_INIT;

    manifest_init(&m);
    if (manifest_parse(&m, (const char *)data, size, &err) == 0) {
        struct buf out = BUF_INIT;

        /* The emitter is canonical and the parser strict: a round trip is the identity. */
        manifest_emit(&m, &out);
        if (out.len != size || memcmp(out.data, data, size) != 0)
            abort();
        buf_release(&out);
    } else if (err.msg[0] == '\0') {
        abort(); /* every refusal says why */
    }
    manifest_release(&m);
    return 0;
}
