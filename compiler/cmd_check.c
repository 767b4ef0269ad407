/*
 * cmd_check.c: "sealift check": validate the chain, its recorded history and every script.
 * Layer: compiler.
 */
#include "cmds.h"
#include "pipeline.h"
#include "sealift/json.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

static void
usage_check(void)
{
    printf("Validate a migration chain: file names and pairs, directives, the recorded history\n"
           "in sealift.sum, placeholders, and every script with PostgreSQL's own parser.\n\n"
           "Usage:\n  sealift check [OPTIONS]\n\nOptions:\n" COMPILE_USAGE
           "      --json            print the result as one JSON object on stdout\n");
}

/* check --json: the chain's figures and every lint finding (problems stay on stderr). */
static void
print_check_json(const struct compiled *comp, const struct compile_options *opt,
                 const struct report *rep)
{
    struct buf out = BUF_INIT;

    buf_addch(&out, '{');
    json_key(&out, "dir", 1);
    json_str(&out, opt->dir);
    json_key(&out, "format", 0);
    json_str(&out, comp->chain.format);
    buf_addf(&out,
             ",\"migrations\":%zu,\"recorded\":%zu,\"new\":%zu,\"errors\":%zu,"
             "\"warnings\":%zu,\"ok\":%s,\"findings\":[",
             comp->chain.n, comp->nrecorded, comp->nnew, rep->errors, rep->warnings,
             rep->errors ? "false" : "true");
    for (size_t i = 0; i < comp->lint.n; i++) {
        if (i)
            buf_addch(&out, ',');
        lint_format_finding_json(&comp->chain, &comp->lint.v[i], &out);
    }
    buf_addstr(&out, "]}\n");
    fwrite(out.data, 1, out.len, stdout);
    buf_release(&out);
}

int
cmd_check(int argc, char **argv)
{
    static const struct option longopts[] = {COMPILE_LONGOPTS,
                                             {"json", no_argument, NULL, 'J'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    struct vars vars;
    /* Designated: options a reader adds stay NULL or 0 here. */
    struct compile_options opt = {
        .dir = "migrations", .from = "auto", .vars = &vars, .lint_mode = LINT_MODE_DEFAULT};
    struct compiled comp;
    struct report rep = REPORT_INIT;
    struct diag_err err = DIAG_ERR_INIT;
    int c, json = 0, ret = EXIT_REJECTED;

    vars_init(&vars);
    compiled_init(&comp);
    optind = 0;
    while ((c = getopt_long(argc, argv, ":d:hv", longopts, NULL)) != -1) {
        if (compile_option(c, optarg, &opt, "check"))
            continue;
        if (c == 'h') {
            usage_check();
            ret = EXIT_OK;
            goto cleanup;
        }
        if (c == 'J') {
            json = 1;
            continue;
        }
        die_bad_option("check", c, argv);
    }
    if (optind < argc)
        die_usage("check", "unexpected argument \"%s\"", argv[optind]);

    if (compile_chain(&opt, &comp, &rep, &err) != 0) {
        diag_error("%s", err.msg);
        ret = exit_code_for(&err);
        goto cleanup;
    }
    compile_warn_unused(&opt);
    compile_report_lint(&comp, &rep);
    if (json) {
        print_check_json(&comp, &opt, &rep);
        ret = rep.errors ? EXIT_REJECTED : EXIT_OK;
        goto cleanup;
    }
    printf("%zu migrations in %s (%s): %zu recorded in %s, %zu new\n", comp.chain.n, opt.dir,
           comp.chain.format, comp.nrecorded, comp.sum_path, comp.nnew);
    for (size_t i = comp.chain.n - comp.nnew; i < comp.chain.n && rep.errors == 0; i++)
        printf("new: %s%s%s (recorded by the next build)\n", comp.chain.v[i].id,
               comp.chain.v[i].name[0] ? "_" : "", comp.chain.v[i].name);
    for (size_t i = 0; i < comp.chain.nignored; i++)
        printf("ignored: %s\n", comp.chain.ignored[i]);
    if (rep.errors) {
        diag_error("%zu problem%s found", rep.errors, rep.errors == 1 ? "" : "s");
        goto cleanup;
    }
    if (comp.chain.n == 0)
        diag_warning("no migrations in \"%s\"", opt.dir);
    ret = EXIT_OK;
cleanup:
    free(opt.amend);
    compiled_release(&comp);
    vars_release(&vars);
    return ret;
}
