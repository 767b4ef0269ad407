/*
 * cmd_lint.c: "sealift lint": what each migration locks, rewrites and scans on PostgreSQL,
 * as text, JSON or SARIF (the rules: docs/lint.md).
 * Layer: compiler.
 */
#include "cmds.h"
#include "pipeline.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
usage_lint(void)
{
    printf("Report what each statement of a migration chain (and of its repeatable migrations)\n"
           "locks, rewrites and scans on PostgreSQL, and which safety rules it breaks (the same\n"
           "analysis check and build run). Exits 1 when a finding of error severity is not "
           "allowed.\n\n"
           "Usage:\n  sealift lint [OPTIONS]\n\nOptions:\n" COMPILE_USAGE
           "      --format F        text (default), json or sarif (SARIF 2.1.0)\n\n"
           "Allow a finding with a comment before its statement (or before the first\n"
           "statement, for the whole file): -- sealift:allow RULE[,RULE] reason text\n");
}

static int
parse_format(const char *arg)
{
    if (strcmp(arg, "text") == 0)
        return LINT_FORMAT_TEXT;
    if (strcmp(arg, "json") == 0)
        return LINT_FORMAT_JSON;
    if (strcmp(arg, "sarif") == 0)
        return LINT_FORMAT_SARIF;
    die_usage("lint", "--format must be text, json or sarif");
}

int
cmd_lint(int argc, char **argv)
{
    static const struct option longopts[] = {COMPILE_LONGOPTS,
                                             {"format", required_argument, NULL, 'f'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    struct vars vars;
    struct compile_options opt = {
        .dir = "migrations", .from = "auto", .vars = &vars, .lint_mode = LINT_MODE_DEFAULT};
    struct compiled comp;
    struct report rep = REPORT_INIT;
    struct diag_err err = DIAG_ERR_INIT;
    struct buf out = BUF_INIT, reps = BUF_INIT;
    int c, format = LINT_FORMAT_TEXT, ret = EXIT_REJECTED;

    vars_init(&vars);
    compiled_init(&comp);
    optind = 0;
    while ((c = getopt_long(argc, argv, ":d:f:h", longopts, NULL)) != -1) {
        if (compile_option(c, optarg, &opt, "lint"))
            continue;
        if (c == 'h') {
            usage_lint();
            ret = EXIT_OK;
            goto cleanup;
        }
        if (c == 'f') {
            format = parse_format(optarg);
            continue;
        }
        die_bad_option("lint", c, argv);
    }
    if (optind < argc)
        die_usage("lint", "unexpected argument \"%s\"", argv[optind]);
    if (opt.lint_mode == LINT_MODE_OFF)
        die_usage("lint", "--lint off leaves nothing to do");

    if (compile_chain(&opt, &comp, &rep, &err) != 0) {
        diag_error("%s", err.msg);
        ret = exit_code_for(&err);
        goto cleanup;
    }
    lint_format(&comp.chain, &comp.lint, format, 1, &out);
    fwrite(out.data, 1, out.len, stdout);
    fflush(stdout);
    if (comp.chain.nrep)
        buf_addf(&reps, " and %zu repeatable%s", comp.chain.nrep, comp.chain.nrep == 1 ? "" : "s");
    if (rep.errors)
        diag_error("%zu problem%s found in the chain itself (see \"sealift check\")", rep.errors,
                   rep.errors == 1 ? "" : "s");
    diag_info("%zu migration%s%s: %zu error%s, %zu warning%s, %zu info, %zu allowed", comp.chain.n,
              comp.chain.n == 1 ? "" : "s", reps.data, comp.lint.errors,
              comp.lint.errors == 1 ? "" : "s", comp.lint.warnings,
              comp.lint.warnings == 1 ? "" : "s", comp.lint.infos, comp.lint.allowed);
    ret = rep.errors || comp.lint.errors ? EXIT_REJECTED : EXIT_OK;
cleanup:
    buf_release(&out);
    buf_release(&reps);
    free(opt.amend);
    compiled_release(&comp);
    vars_release(&vars);
    return ret;
}
