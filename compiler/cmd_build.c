/*
 * cmd_build.c: "sealift build": compile, render and sign a bundle.
 * Layer: compiler.
 */
#include "cmds.h"
#include "emit.h"
#include "keystmt_member.h"
#include "password.h"
#include "pipeline.h"
#include "provenance.h"
#include "sealift/numarg.h"
#include "sealift/seckey.h"
#include "sealift/utctime.h"
#include "sealift/xalloc.h"

#include <limits.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void
usage_build(void)
{
    printf(
        "Compile a migration chain into a signed bundle: check it, render placeholders,\n"
        "record new migrations in sealift.sum, sign the manifest, write the archive.\n\n"
        "Usage:\n  sealift build -s SECRET_KEY -o OUT [OPTIONS]\n\nOptions:\n" COMPILE_USAGE
        "  -s, --seckey FILE     secret key to sign with (minisign format)\n"
        "  -o, --output FILE     the bundle to write\n"
        "      --env NAME        bind the bundle to one environment (e.g. production)\n"
        "      --compression C   zstd (default), gzip or none\n"
        "      --serial N        bundle serial (default: the number of recorded migrations)\n"
        "      --frozen          refuse to record new migrations (for CI release builds)\n"
        "      --expires WHEN    appliers refuse the bundle from WHEN on: a duration after\n"
        "                        the build (90d, 12h, 2w, 30min), a date (2027-06-30) or a\n"
        "                        UTC time (2027-06-30T12:00:00Z); signed, sign cannot extend it\n"
        "      --rotation FILE   carry a key statement (sealift key rotate or key revoke);\n"
        "                        repeatable, kept in the order given\n"
        "      --revocation FILE the same as --rotation (either takes either kind)\n"
        "      --provenance      add the build's provenance, an in-toto Statement with a\n"
        "                        SLSA provenance v1 predicate, as a signed member\n"
        "      --builder-id URI  the provenance's builder id (default\n"
        "                        " PROVENANCE_DEFAULT_BUILDER ")\n\n"
        "SOURCE_DATE_EPOCH sets the creation time and member mtimes (reproducible builds).\n"
        "Checked scripts wait in an unnamed temporary file in TMPDIR (default /tmp) until the\n"
        "archive is written, so that memory does not grow with the chain.\n");
}

struct build_opts {
    const char *seckey;
    const char *output;
    const char *env;
    enum codec_kind compression;
    unsigned long long serial;
    int have_serial;
    int frozen;
    const char *expires;
    const char **keystmts; /* --rotation and --revocation files, in order */
    size_t nkeystmts;
    size_t keystmts_cap;
    int provenance;         /* --provenance */
    const char *builder_id; /* --builder-id */
};

static void
parse_build_option(int c, struct build_opts *b, char **argv)
{
    struct diag_err err = DIAG_ERR_INIT;

    switch (c) {
    case 's':
        b->seckey = optarg;
        break;
    case 'o':
        b->output = optarg;
        break;
    case 'N':
        if (!manifest_token_valid(optarg))
            die_usage("build", "environment name must be 1-64 letters, digits, '.', '_' or '-'");
        b->env = optarg;
        break;
    case 'C':
        if (codec_parse_name(optarg, &b->compression) != 0)
            die_usage("build", "--compression must be zstd, gzip or none");
        break;
    case 'R':
        /* The history keeps serials in a bigint. */
        if (numarg_integer("--serial", optarg, 0, LLONG_MAX, &b->serial, &err) != 0)
            die_usage("build", "%s", err.msg);
        b->have_serial = 1;
        break;
    case 'Z':
        b->frozen = 1;
        break;
    case 'X':
        b->expires = optarg;
        break;
    case 'Y':
        b->keystmts = xgrow(b->keystmts, &b->keystmts_cap, b->nkeystmts + 1, sizeof(*b->keystmts));
        b->keystmts[b->nkeystmts++] = optarg;
        break;
    case 'Q': /* --provenance (long only, as is --builder-id) */
        b->provenance = 1;
        break;
    case 'B':
        if (!provenance_builder_id_valid(optarg))
            die_usage("build", "--builder-id must be a URI (SCHEME:REST, no spaces)");
        b->builder_id = optarg;
        break;
    default:
        die_bad_option("build", c, argv);
    }
}

/*
 * The provenance member, last: its subjects are every other member, and the manifest lists
 * it (so the signatures cover it). statement holds its bytes until the bundle is written.
 */
static int
add_provenance(const struct build_opts *b, const struct compile_options *opt, struct manifest *m,
               struct emit_source **sources, struct buf *statement, struct diag_err *err)
{
    struct provenance_input in = {m,
                                  opt->dir,
                                  opt->vars,
                                  codec_name(b->compression),
                                  b->builder_id,
                                  getenv("SOURCE_DATE_EPOCH") != NULL};
    unsigned char digest[HASH_SHA256_BYTES];
    size_t idx;

    if (provenance_statement(&in, statement, err) != 0)
        return -1;
    hash_sha256(statement->data, statement->len, digest);
    idx = manifest_add_member(m, PROVENANCE_MEMBER, statement->len, digest);
    *sources = xrealloc(*sources, m->nmembers * sizeof(**sources));
    memset(&(*sources)[idx], 0, sizeof((*sources)[idx]));
    (*sources)[idx].data = statement;
    m->provenance = xstrdup(PROVENANCE_MEMBER);
    return 0;
}

int
cmd_build(int argc, char **argv)
{
    static const struct option longopts[] = {COMPILE_LONGOPTS,
                                             {"seckey", required_argument, NULL, 's'},
                                             {"output", required_argument, NULL, 'o'},
                                             {"env", required_argument, NULL, 'N'},
                                             {"compression", required_argument, NULL, 'C'},
                                             {"serial", required_argument, NULL, 'R'},
                                             {"frozen", no_argument, NULL, 'Z'},
                                             {"expires", required_argument, NULL, 'X'},
                                             {"rotation", required_argument, NULL, 'Y'},
                                             {"revocation", required_argument, NULL, 'Y'},
                                             {"provenance", no_argument, NULL, 'Q'},
                                             {"builder-id", required_argument, NULL, 'B'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    struct vars vars;
    /* Designated: options a reader adds stay NULL or 0 here. */
    struct compile_options opt = {
        .dir = "migrations", .from = "auto", .vars = &vars, .lint_mode = LINT_MODE_DEFAULT};
    struct build_opts b = {.compression = CODEC_ZSTD};
    struct compiled comp;
    struct report rep = REPORT_INIT;
    struct diag_err err = DIAG_ERR_INIT;
    struct manifest m;
    struct buf text = BUF_INIT, provenance = BUF_INIT;
    struct emit_signatures sigs;
    struct seckey *key = NULL;
    struct emit_source *sources = NULL;
    long long now, expires = 0;
    char created[32], id[SIG_KEYID_HEX], expires_text[UTC_TEXT_SIZE];
    int c, record, ret = EXIT_REJECTED;
    size_t newly;
    int amended, reps_changed;

    vars_init(&vars);
    compiled_init(&comp);
    manifest_init(&m);
    emit_signatures_init(&sigs);
    optind = 0;
    while ((c = getopt_long(argc, argv, ":d:s:o:hv", longopts, NULL)) != -1) {
        if (compile_option(c, optarg, &opt, "build"))
            continue;
        if (c == 'h') {
            usage_build();
            ret = EXIT_OK;
            goto cleanup;
        }
        parse_build_option(c, &b, argv);
    }
    if (optind < argc)
        die_usage("build", "unexpected argument \"%s\"", argv[optind]);
    if (!b.seckey || !b.output)
        die_usage("build", "both -s SECRET_KEY and -o OUT are required");
    if (b.builder_id && !b.provenance)
        die_usage("build", "--builder-id needs --provenance");
    if (build_time(&now) != 0)
        die(EXIT_USAGE, "SOURCE_DATE_EPOCH must be a number of seconds since 1970");
    if (b.expires && utc_expiry_arg(b.expires, now, &expires, &err) != 0)
        die_usage("build", "%s", err.msg);

    /* 1. Read and check everything before asking for a password or writing anything. */
    if (compile_chain(&opt, &comp, &rep, &err) != 0) {
        diag_error("%s", err.msg);
        ret = exit_code_for(&err);
        goto cleanup;
    }
    compile_report_lint(&comp, &rep);
    if (rep.errors) {
        diag_error("%zu problem%s found; nothing was built", rep.errors,
                   rep.errors == 1 ? "" : "s");
        goto cleanup;
    }
    if (comp.chain.n == 0) {
        diag_error("no migrations in \"%s\"; nothing to build", opt.dir);
        goto cleanup;
    }
    compile_warn_unused(&opt);
    if (b.frozen && opt.namend > 0)
        die_usage("build", "cannot specify both --frozen and --amend");
    if (b.frozen && comp.nnew > 0) {
        diag_error("%zu migration%s not recorded in %s, and --frozen forbids recording them",
                   comp.nnew, comp.nnew == 1 ? " is" : "s are", comp.sum_path);
        diag_hint("run \"sealift build\" without --frozen and commit %s", comp.sum_path);
        goto cleanup;
    }

    /* 2. The key: a wrong password must stop us before sealift.sum changes. */
    key = seckey_load(b.seckey, password_get_cb, NULL, &err);
    if (key == NULL) {
        diag_error("%s", err.msg);
        ret = EXIT_USAGE;
        goto cleanup;
    }

    /* 3. Record the new migrations, in memory: the serial and the chain include them. */
    newly = comp.nnew;
    amended = compile_amend(&comp);
    /* A file from before sealift.sum named the format gets it, except in a frozen build. */
    record = newly > 0 || amended || !comp.sum.exists || (comp.sum.source_added && !b.frozen);
    if (record)
        compile_record(&comp);
    /* Repeatables are recorded as they are now: editing one is a change, not drift. */
    reps_changed = compile_record_repeatables(&comp);
    record = record || reps_changed;

    /* 4. The manifest, its signature, the archive. */
    compile_manifest(&comp, &m, &sources);
    m.source = xstrdup(comp.chain.format);
    compile_drop_chain(&comp);
    format_utc(now, created);
    m.project = xstrdup(comp.sum.project);
    m.serial = b.have_serial ? b.serial : comp.sum.n;
    m.environment = b.env ? xstrdup(b.env) : NULL;
    m.created = xstrdup(created);
    m.compiler = xstrdup("sealift/" SEALIFT_VERSION);
    m.expires = b.expires ? xstrdup(utc_format(expires, expires_text)) : NULL;
    if (keystmt_add_members(&m, &sources, b.keystmts, b.nkeystmts, &err) != 0) {
        diag_error("%s", err.msg);
        ret = exit_code_for(&err);
        goto cleanup;
    }
    if (b.provenance && add_provenance(&b, &opt, &m, &sources, &provenance, &err) != 0) {
        diag_error("%s", err.msg);
        ret = EXIT_USAGE;
        goto cleanup;
    }
    manifest_emit(&m, &text);
    if (emit_sign(&sigs, &m, &text, key, &err) != 0) {
        diag_error("%s", err.msg);
        goto cleanup;
    }
    if (emit_bundle(b.output, b.compression, getenv("SOURCE_DATE_EPOCH") ? now : 0, &text, &sigs,
                    &m, sources, &err) != 0) {
        diag_error("%s", err.msg);
        ret = EXIT_USAGE;
        goto cleanup;
    }

    /*
     * 5. Only now are the new migrations released history: a build that failed above (an
     * unwritable output, say) must leave sealift.sum alone, and a bundle whose migrations
     * could not be recorded must not be left behind.
     */
    if (record && sumfile_write(comp.sum_path, &comp.sum, &err) != 0) {
        diag_error("%s", err.msg);
        unlink(b.output);
        ret = EXIT_USAGE;
        goto cleanup;
    }
    if (newly > 0)
        diag_info("recorded %zu new migration%s in %s: commit it", newly, newly == 1 ? "" : "s",
                  comp.sum_path);
    if (record && comp.sum.source_added && newly == 0 && !amended)
        diag_info("recorded the source format (%s) in %s: commit it", comp.sum.source,
                  comp.sum_path);
    if (reps_changed && comp.sum.exists && newly == 0 && !amended)
        diag_info("recorded the changed repeatable migrations in %s: commit it", comp.sum_path);
    if (amended)
        diag_info("re-recorded the amended migration%s in %s: commit it",
                  opt.namend == 1 ? "" : "s", comp.sum_path);
    printf("built %s: project %s, serial %llu, %zu migrations, head %s%s%s, signed by %s%s%s\n",
           b.output, m.project, (unsigned long long)m.serial, m.nmigrations,
           m.migrations[m.nmigrations - 1].id, m.migrations[m.nmigrations - 1].name[0] ? "_" : "",
           m.migrations[m.nmigrations - 1].name, sig_keyid_hex(id, key->keyid),
           m.expires ? ", expires " : "", m.expires ? m.expires : "");
    ret = EXIT_OK;
cleanup:
    free(opt.amend);
    keystmt_sources_release(&m, sources, b.nkeystmts);
    emit_sources_release(sources, m.nmembers);
    free(b.keystmts);
    seckey_free(key);
    emit_signatures_release(&sigs);
    buf_release(&text);
    buf_release(&provenance);
    manifest_release(&m);
    compiled_release(&comp);
    vars_release(&vars);
    return ret;
}
