/*
 * cmd_keygen.c: "sealift keygen": a minisign-compatible key pair.
 * Layer: compiler.
 */
#include "cmds.h"
#include "password.h"
#include "sealift/buf.h"
#include "sealift/file.h"
#include "sealift/seckey.h"
#include "sealift/sig.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void
usage_keygen(void)
{
    printf("Create a signing key pair, in minisign's file formats.\n\n"
           "Usage:\n  sealift keygen -p PUBLIC_KEY -s SECRET_KEY [-W] [-f]\n\n"
           "Options:\n"
           "  -p, --pubkey FILE      where to write the public key\n"
           "  -s, --seckey FILE      where to write the secret key (mode 0600)\n"
           "  -W, --without-password write the secret key unencrypted\n"
           "  -f, --force            overwrite existing key files\n"
           "      --kdf-limits L     scrypt cost: sensitive (default, as minisign: 1 GiB) or\n"
           "                         interactive (16 MiB)\n\n"
           "The password comes from the file named by SEALIFT_PASSWORD_FILE, or the terminal.\n");
}

static int
write_public(const char *path, const struct sig_pubkey *pub, struct diag_err *err)
{
    struct buf text = BUF_INIT;
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    int ret = 0;

    if (fd < 0)
        return err_set_io(err, "could not create public key file \"%s\": %s", path,
                          strerror(errno));
    sig_pubkey_format(pub, &text);
    if (file_write_all(fd, text.data, text.len) != 0 || fsync(fd) != 0)
        ret = err_set_io(err, "could not write public key file \"%s\": %s", path, strerror(errno));
    close(fd);
    buf_release(&text);
    return ret;
}

int
cmd_keygen(int argc, char **argv)
{
    static const struct option longopts[] = {{"pubkey", required_argument, NULL, 'p'},
                                             {"seckey", required_argument, NULL, 's'},
                                             {"without-password", no_argument, NULL, 'W'},
                                             {"force", no_argument, NULL, 'f'},
                                             {"kdf-limits", required_argument, NULL, 'K'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    const char *pub_path = NULL, *sec_path = NULL;
    const struct seckey_kdf_limits *limits = &SECKEY_KDF_SENSITIVE;
    int unencrypted = 0, force = 0, c;
    struct diag_err err = DIAG_ERR_INIT;
    struct seckey *key = NULL;
    struct sig_pubkey pub;
    char *password = NULL;
    char id[SIG_KEYID_HEX];
    int ret = EXIT_USAGE;

    optind = 0;
    while ((c = getopt_long(argc, argv, ":p:s:Wfh", longopts, NULL)) != -1) {
        switch (c) {
        case 'p':
            pub_path = optarg;
            break;
        case 's':
            sec_path = optarg;
            break;
        case 'W':
            unencrypted = 1;
            break;
        case 'f':
            force = 1;
            break;
        case 'K':
            if (strcmp(optarg, "sensitive") == 0)
                limits = &SECKEY_KDF_SENSITIVE;
            else if (strcmp(optarg, "interactive") == 0)
                limits = &SECKEY_KDF_INTERACTIVE;
            else
                die_usage("keygen", "--kdf-limits must be \"sensitive\" or \"interactive\"");
            break;
        case 'h':
            usage_keygen();
            return EXIT_OK;
        default:
            die_bad_option("keygen", c, argv);
        }
    }
    if (optind < argc)
        die_usage("keygen", "unexpected argument \"%s\"", argv[optind]);
    if (!pub_path || !sec_path)
        die_usage("keygen", "both -p PUBLIC_KEY and -s SECRET_KEY are required");
    if (!force) {
        if (access(sec_path, F_OK) == 0)
            die(EXIT_USAGE, "\"%s\" already exists (use -f to overwrite it)", sec_path);
        if (access(pub_path, F_OK) == 0)
            die(EXIT_USAGE, "\"%s\" already exists (use -f to overwrite it)", pub_path);
    }
    if (!unencrypted) {
        password = seckey_secure_alloc(SECKEY_PASSWORD_MAX);
        if (password_new(password, SECKEY_PASSWORD_MAX, &err) != 0) {
            diag_error("%s", err.msg);
            goto cleanup;
        }
    }
    key = seckey_generate();
    seckey_pubkey(key, &pub);
    if (force) {
        unlink(sec_path);
        unlink(pub_path);
    }
    if (seckey_write_file(key, sec_path, password, limits, &err) != 0 ||
        write_public(pub_path, &pub, &err) != 0) {
        diag_error("%s", err.msg);
        goto cleanup;
    }
    printf("wrote secret key %s and public key %s (key id %s)\n", sec_path, pub_path,
           sig_keyid_hex(id, pub.keyid));
    ret = EXIT_OK;
cleanup:
    seckey_free(key);
    seckey_secure_free(password);
    return ret;
}
