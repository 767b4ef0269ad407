/*
 * fuzz_sql.c: libFuzzer target for the compiler's SQL handling: normalisation, directives,
 * placeholders, the SQL lexer (lib/sqllex.c) on raw bytes, the checks on PostgreSQL's parse
 * tree, inline COPY data included (compiler/sqlcheck.c), the safety lint on the statements it
 * accepted (compiler/lint*.c), in every output format, and the version orders (lib/version.c)
 * on the input's two halves.
 */
#include "chain.h"
#include "lint.h"
#include "sqlcheck.h"
#include "sqltext.h"
#include "sealift/sqllex.h"
#include "sealift/version.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The lint on the one-migration chain: every finding within the script, every format. */
static void
fuzz_lint(const struct src_chain *chain, struct sqltrees *trees)
{
    struct lint_script scripts[MANIFEST_NSCRIPTS];
    struct lint_options opt = {LINT_MODE_DEFAULT, LINT_PG_VERSION_DEFAULT, 0};
    struct lint_result res;
    struct buf out = BUF_INIT;

    memset(scripts, 0, sizeof(scripts));
    lint_extract(&chain->v[0].script[MANIFEST_UP], trees, &scripts[MANIFEST_UP]);
    lint_result_init(&res);
    lint_chain(chain, scripts, &opt, &res);
    for (size_t i = 0; i < res.n; i++)
        if (res.v[i].line == 0 || res.v[i].col == 0 || res.v[i].message == NULL)
            abort();
    for (int f = LINT_FORMAT_TEXT; f <= LINT_FORMAT_SARIF; f++) {
        buf_reset(&out);
        lint_format(chain, &res, f, 1, &out);
    }
    buf_release(&out);
    lint_result_release(&res);
    lint_script_release(&scripts[MANIFEST_UP]);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct src_chain chain;
    struct src_migration *m;
    struct src_script *s;
    struct report rep = REPORT_INIT;
    struct diag_err err = DIAG_ERR_INIT;
    struct vars vars;
    unsigned flags = 0;

    diag_set_silent(1);
    /* Statement ends move forward and stay inside the text, NUL bytes and all. */
    for (size_t pos = 0; pos < size;) {
        size_t end = sqllex_statement_end((const char *)data, size, pos);

        if (end < pos || end > size)
            abort();
        pos = end + 1;
    }
    /* Both orders end on any text (Flyway's once looped on "1a") and are antisymmetric. */
    {
        char *a = strndup((const char *)data, size / 2);
        char *b = strndup((const char *)data + size / 2, size - size / 2);
        int ab = version_flyway_cmp(a, b), ba = version_flyway_cmp(b, a);
        int dab = version_decimal_cmp(a, b), dba = version_decimal_cmp(b, a);

        if ((ab > 0) != (ba < 0) || (ab == 0) != (ba == 0) || (dab > 0) != (dba < 0))
            abort();
        free(a);
        free(b);
    }
    chain_init(&chain);
    vars_init(&vars);
    vars_set_assignment(&vars, "schema=app", &err);
    m = chain_add(&chain, "1", "fuzz");
    s = &m->script[MANIFEST_UP];
    s->file = strdup("fuzz.up.sql");
    if (sqltext_normalize((const char *)data, size, &s->text, &err) == 0) {
        s->present = 1;
        sqltext_directives(s->file, s->text.data, SQLTEXT_NO_TRANSACTION, &flags, &rep);
        s->transactional = !(flags & SQLTEXT_NO_TRANSACTION);
        if (sqltext_render(&s->text, &vars, &s->rendered, &s->undefined) == 0) {
            struct sqltrees trees = SQLTREES_INIT;

            sqlcheck_script(s->file, s, lint_wants_tree, &trees, &rep);
            /* Statement ranges and COPY data must lie inside the script, in order. */
            for (size_t i = 0; i < s->nstmts; i++)
                if (s->stmts[i].offset + s->stmts[i].length > s->rendered.len ||
                    (i && s->stmts[i].offset < s->stmts[i - 1].offset + s->stmts[i - 1].length))
                    abort();
            for (size_t i = 0; i < s->ncopies; i++)
                if (s->copies[i].inline_data &&
                    s->copies[i].offset + s->copies[i].length > s->rendered.len)
                    abort();
            fuzz_lint(&chain, &trees);
            sqltrees_release(&trees);
        }
    }
    vars_release(&vars);
    chain_release(&chain);
    return 0;
}
