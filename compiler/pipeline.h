/*
 * pipeline.h: what check and build share: read a chain in its source format, hold it against
 * the recorded history (sealift.sum), render placeholders, parse every script; then, for
 * build, turn it into a manifest and record the new migrations.
 */
#ifndef SEALIFT_COMPILER_PIPELINE_H
#define SEALIFT_COMPILER_PIPELINE_H

#include "chain.h"
#include "emit.h"
#include "lint.h"
#include "sqltext.h"
#include "sumfile.h"
#include "sealift/diag.h"
#include "sealift/manifest.h"

struct compile_options {
    const char *dir;
    const char *from; /* source format name, or "auto" */
    struct vars *vars;
    const char *project; /* used when no sealift.sum exists yet; NULL = directory name */
    /* Recorded migrations whose edited scripts are accepted and re-recorded (--amend ID). */
    const char **amend;
    size_t namend;
    size_t amend_cap;
    int allow_irreversible; /* --allow-irreversible: a missing down marks the migration so */
    int from_given;         /* --from was given (auto then says what it found) */
    /* --alembic-config, --alembic-sql-up, --alembic-sql-down (see formats.h) */
    const char *alembic_config;
    const char *alembic_sql_up;
    const char *alembic_sql_down;
    int lint_mode;  /* --lint (enum lint_mode); LINT_MODE_DEFAULT when not given */
    int pg_version; /* --pg-version; 0: LINT_PG_VERSION_DEFAULT */
    /* --changelog, --contexts, --labels (Liquibase; see formats.h) */
    const char *liquibase_changelog;
    const char *liquibase_contexts;
    const char *liquibase_labels;
    int strict;  /* --strict: what would compile with a warning (a no-op down...) is an error */
    int verbose; /* --verbose: name each migration a summary line counts */
};

struct compiled {
    struct src_chain chain;
    const struct compile_options *opt;
    struct sumfile sum;
    char *sum_path;
    size_t nrecorded; /* migrations already in sealift.sum */
    size_t nnew;      /* migrations after them, to be recorded by build */
    /*
     * The lint (unless --lint off): per script (i * MANIFEST_NSCRIPTS + k), then findings.
     * compile_chain releases lint_scripts (NULL after it returns); lint keeps the findings.
     */
    struct lint_script *lint_scripts;
    struct lint_result lint;
    /* The chain's spill, kept by compile_drop_chain for the sources that read it. */
    struct spill *spill;
};

void compiled_init(struct compiled *c);
void compiled_release(struct compiled *c);

/*
 * Read, validate, render and parse. Problems with the chain are reported and counted in rep;
 * returns -1 only when the work could not be done at all (err set; err->io for a missing
 * directory), else 0.
 */
int compile_chain(const struct compile_options *opt, struct compiled *out, struct report *rep,
                  struct diag_err *err);

/*
 * Fill m (initialised) from a chain that compiled without problems, and *sources (malloc'd,
 * one per member, free() it) with where each member's bytes are.
 */
void compile_manifest(const struct compiled *c, struct manifest *m, struct emit_source **sources);

/*
 * Let the chain go once compile_manifest has taken what the manifest says and the sources
 * need (the spilled scripts stay readable until compiled_release): what the build allocates
 * next, the manifest's text and the archive, does not add to a chain-sized structure.
 */
void compile_drop_chain(struct compiled *c);

/* Re-record the --amend migrations (in memory). Returns 1 if any entry changed. */
int compile_amend(struct compiled *c);

/* Append the new migrations to the recorded history (in memory). */
void compile_record(struct compiled *c);
/*
 * Record the chain's repeatables in c->sum as they are now (an edited one is a change, not
 * drift). Returns 1 if that changed what sealift.sum says, 0 if not.
 */
int compile_record_repeatables(struct compiled *c);
/* Repeatable i against sealift.sum: "new", "changed" or "unchanged" (a static string). */
const char *compile_repeatable_state(const struct compiled *c, size_t i);

/* Project name for a chain without sealift.sum: the name of the directory holding dir. */
char *compile_default_project(const char *dir);

/* The member path of one script: "migrations/NNNNNN_ID_NAME/KIND.sql", sanitised. */
char *compile_member_path(size_t ordinal, const char *id, const char *name, int kind);

/*
 * Options that check and build share (-d, --from, --set, --env-file, --project): handle option
 * c with argument arg. Returns 1 if it was one of them, 0 if not; exits 2 on a bad value.
 */
int compile_option(int c, const char *arg, struct compile_options *opt, const char *cmd);

// clang-format off
#define COMPILE_LONGOPTS                                                                           \
    {"dir", required_argument, NULL, 'd'},                                                        \
    {"from", required_argument, NULL, 'F'},                                                       \
    {"set", required_argument, NULL, 'S'},                                                        \
    {"env-file", required_argument, NULL, 'E'},                                                   \
    {"project", required_argument, NULL, 'P'},                                                    \
    {"amend", required_argument, NULL, 'A'},                                                      \
    {"allow-irreversible", no_argument, NULL, 'I'},                                               \
    {"strict", no_argument, NULL, COMPILE_OPT_STRICT},                                            \
    {"verbose", no_argument, NULL, 'v'},                                                          \
    {"alembic-config", required_argument, NULL, COMPILE_OPT_ALEMBIC_CONFIG},                      \
    {"alembic-sql-up", required_argument, NULL, COMPILE_OPT_ALEMBIC_SQL_UP},                      \
    {"alembic-sql-down", required_argument, NULL, COMPILE_OPT_ALEMBIC_SQL_DOWN},                  \
    {"lint", required_argument, NULL, COMPILE_OPT_LINT},                                          \
    {"pg-version", required_argument, NULL, COMPILE_OPT_PG_VERSION},                              \
    {"changelog", required_argument, NULL, COMPILE_OPT_CHANGELOG},                                \
    {"contexts", required_argument, NULL, COMPILE_OPT_CONTEXTS},                                  \
    {"labels", required_argument, NULL, COMPILE_OPT_LABELS}
// clang-format on

/* getopt codes of the long-only options above (beyond any single character). */
#define COMPILE_OPT_ALEMBIC_CONFIG   0x101
#define COMPILE_OPT_ALEMBIC_SQL_UP   0x102
#define COMPILE_OPT_ALEMBIC_SQL_DOWN 0x103
#define COMPILE_OPT_LINT             0x104
#define COMPILE_OPT_PG_VERSION       0x105
#define COMPILE_OPT_CHANGELOG        0x106
#define COMPILE_OPT_CONTEXTS         0x107
#define COMPILE_OPT_LABELS           0x108
#define COMPILE_OPT_STRICT           0x109

#define COMPILE_USAGE                                                                              \
    "  -d, --dir DIR         migrations directory (default \"migrations\")\n"                      \
    "      --from FORMAT     source format: auto (default: detect it), native, alembic,\n"         \
    "                        flyway, golang-migrate, dbmate, goose, sqitch, diesel or\n"           \
    "                        liquibase\n"                                                          \
    "      --allow-irreversible  compile migrations that have no down as irreversible\n"           \
    "                        (rollback refuses to cross them) instead of refusing them\n"          \
    "      --strict          refuse what otherwise compiles with a warning: empty or\n"            \
    "                        comment-only downs, downs that cannot run as written\n"               \
    "      --alembic-config INI  alembic.ini to render the SQL with (\"alembic ... --sql\")\n"     \
    "      --alembic-sql-up FILE, --alembic-sql-down FILE\n"                                       \
    "                        Alembic's offline SQL rendered elsewhere (\"alembic upgrade\n"        \
    "                        base:head --sql\", \"alembic downgrade head:base --sql\")\n"          \
    "      --changelog FILE  Liquibase master changelog, relative to DIR (default: the one\n"      \
    "                        changelog at the top of DIR)\n"                                       \
    "      --contexts LIST, --labels EXPR\n"                                                       \
    "                        Liquibase contexts and label expression selecting changesets\n"       \
    "      --set NAME=VALUE  value of the ${NAME} placeholder (repeatable)\n"                      \
    "      --env-file FILE   NAME=VALUE lines for placeholders\n"                                  \
    "      --project NAME    project name when the chain has no sealift.sum yet\n"                 \
    "      --lint MODE       safety lint: every finding an error, every one a warning, or\n"       \
    "                        off (error, warn, off; default: each rule's own severity)\n"          \
    "      --pg-version N    PostgreSQL major version the migrations target (default 15)\n"        \
    "      --amend ID        accept the edited scripts of released migration ID and record\n"      \
    "                        them anew (repeatable; databases that ran the old scripts will\n"     \
    "                        see drift, except one stopped partway through a no-transaction\n"     \
    "                        migration, which resumes with the fixed statements)\n"

/*
 * Print the lint's findings (not the allowed ones) to stderr as text, and count them in rep:
 * an error-severity finding fails check and build.
 */
void compile_report_lint(const struct compiled *c, struct report *rep);

/* Warn about --set values no script used. */
void compile_warn_unused(const struct compile_options *opt);

#endif
