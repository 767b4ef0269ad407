/*
 * disposable.h: may "sealift-apply test" create and drop objects in this database? The
 * policy alone, pure: it reads facts the caller gathered (proof.c asks the server) and says
 * yes, no and why, with the words to print; it prints nothing and asks nobody. Also where the
 * test runs: a database the user named, or a throwaway server (scratch_pg.c).
 *
 * The rule, as "sealift-apply test --help" states it: a database may be used when
 *   - it has no objects of its own, or
 *   - --scratch is given and its name says it is disposable (disposable_name);
 * template0 and template1 are always refused, and so is a database where the history schema
 * exists. Refusals are judged in that order: the name, the objects, the history schema.
 */
#ifndef SEALIFT_APPLIER_DISPOSABLE_H
#define SEALIFT_APPLIER_DISPOSABLE_H

#include <stddef.h>

/* Longest message or hint of a judgement, with its NUL (a longer one is cut with "..."). */
#define DISPOSABLE_MSG_MAX 512

/* What test knows of the database before it touches it. */
struct disposable_facts {
    const char *dbname; /* current_database() */
    size_t nobjects;    /* objects of its own: schemas but public, relations, functions, ... */
    int history_exists; /* the history schema is there: sealift has been used here */
    const char *schema; /* the history schema's name, for the message */
    int scratch;        /* --scratch was given */
};

enum disposable_verdict {
    DISPOSABLE_EMPTY,            /* nothing of its own: go on */
    DISPOSABLE_BESIDE,           /* objects of its own, --scratch and a disposable name: go on */
    DISPOSABLE_REFUSED_TEMPLATE, /* template0, template1 */
    DISPOSABLE_REFUSED_OBJECTS,  /* objects of its own, and no --scratch or the wrong name */
    DISPOSABLE_REFUSED_HISTORY,  /* the history schema exists */
};

struct disposable_judgement {
    enum disposable_verdict verdict;
    /*
     * Refused: the error ("test refuses database ..."); beside: the line that says the test
     * runs beside the objects there; empty: "".
     */
    char message[DISPOSABLE_MSG_MAX];
    /* Refused: what to do instead, or "". */
    char hint[DISPOSABLE_MSG_MAX];
};

/*
 * The name says the database may be thrown away: a word of it (a run of ASCII letters, any
 * case) begins with "scratch", "test" or "tmp", and no word begins with "prod". app_test,
 * scratch1 and ci-tmp are disposable; latest, prod_test and app are not.
 */
int disposable_name(const char *name);

/*
 * The part of the rule that needs the name only (template databases), judged before the
 * database is asked anything. Returns 1 (refused) or 0; j is filled either way.
 */
int disposable_judge_name(const char *dbname, struct disposable_judgement *j);

/* The whole rule. Returns 1 (refused: exit 3) or 0 (go on); j is filled either way. */
int disposable_judge(const struct disposable_facts *f, struct disposable_judgement *j);

/*
 * A database was named: conninfo (-d) is not empty, or env (environ's "NAME=value" form,
 * NULL-terminated; NULL for none) sets one of DATABASE_URL, PGHOST, PGHOSTADDR, PGPORT,
 * PGDATABASE, PGSERVICE to a non-empty value. Otherwise test starts a throwaway server.
 */
int disposable_target_named(const char *conninfo, char *const *env);

#endif
