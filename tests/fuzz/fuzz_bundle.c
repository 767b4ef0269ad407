/*
 * fuzz_bundle.c: libFuzzer target for whole bundles: decompression (zstd, gzip, none), the tar
 * reader and the checks of lib/verify.c, through the same path the applier takes. The input is
 * handed over as a file (memfd). Trust is not required, so that inputs which are not signed by
 * the test key still reach the manifest parser and the member checks.
 */
#define _GNU_SOURCE
#include "sealift/hash.h"
#include "sealift/verify.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    struct verify_options vo = {NULL, 0, 1, 0, 1, 0, 0};
    struct verify_result res;
    struct diag_err err = DIAG_ERR_INIT;
    char path[64];
    int fd;

    if (!ready) {
        if (hash_library_init() != 0)
            abort();
        ready = 1;
    }
    fd = memfd_create("bundle", 0);
    if (fd < 0 || write(fd, data, size) != (ssize_t)size)
        abort();
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    verify_result_init(&res);
    if (bundle_verify(path, &vo, &res, &err) == 0) {
        /* Accepted: the second reading of every member must agree with the first. */
        struct bundle_cursor *c = bundle_cursor_open(path, &res.manifest, &err);
        char chunk[4096];

        for (size_t i = 0; i < res.manifest.nmembers; i++) {
            if (bundle_cursor_seek(c, i, &err) != 0)
                abort();
            while (bundle_cursor_read(c, chunk, sizeof(chunk), &err) > 0)
                ;
        }
        bundle_cursor_close(c);
    } else if (err.msg[0] == '\0') {
        abort();
    }
    verify_result_release(&res);
    close(fd);
    return 0;
}
