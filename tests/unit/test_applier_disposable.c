/*
 * test_applier_disposable.c: unit tests for applier/disposable.c, the rule that says whether
 * "sealift-apply test" may create and drop objects in a database, and whether a database was
 * named at all. Tables of {facts, expected verdict, expected words}.
 * Layer: tests.
 */
#include "unit.h"

#include "disposable.h"

/* The name rule alone: which names say "disposable". */
static void
test_disposable_name_words(void **state)
{
    static const struct {
        const char *name;
        int yes;
    } cases[] = {
        /* The examples of "sealift-apply test --help". */
        {"app_test", 1},
        {"scratch1", 1},
        {"ci-tmp", 1},
        {"latest", 0},
        {"prod_test", 0},
        {"app", 0},
        /* A word begins with the prefix; any case; digits and punctuation separate words. */
        {"testing", 1},
        {"TMP", 1},
        {"Scratch_Area", 1},
        {"2024test", 1},
        {"app.test", 1},
        {"contest", 0},
        {"attempt", 0},
        {"tes", 0},
        {"tm", 0},
        {"", 0},
        {"___", 0},
        /* One word beginning with prod refuses the name, wherever it stands. */
        {"test_prod", 0},
        {"shop_prod_test", 0},
        {"production_tmp", 0},
        {"PRODtest", 0},
        {"tmp_product", 0},
        /* "prod" inside a word is not a word beginning with prod. */
        {"test_byproduct", 1},
        /* Non-ASCII letters split words (é is not an ASCII letter). */
        {"t\xc3\xa9st", 0},
        {"\xc3\xa9test", 1},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        if (disposable_name(cases[i].name) != cases[i].yes)
            fail_msg("\"%s\": expected %s", cases[i].name,
                     cases[i].yes ? "disposable" : "not disposable");
}

/* The whole rule: the facts of a database, and what test says about it. */
static void
test_disposable_judge_table(void **state)
{
    static const struct {
        const char *dbname;
        size_t nobjects;
        int history;
        int scratch;
        enum disposable_verdict verdict;
        const char *message; /* a substring, or "" for an empty message */
        const char *hint;    /* a substring, or "" for no hint */
    } cases[] = {
        /* An empty database: any name, with or without --scratch. */
        {"app", 0, 0, 0, DISPOSABLE_EMPTY, "", ""},
        {"shop_prod", 0, 0, 1, DISPOSABLE_EMPTY, "", ""},
        {"postgres", 0, 0, 0, DISPOSABLE_EMPTY, "", ""},
        /* Template databases, whatever else is true. */
        {"template1", 0, 0, 0, DISPOSABLE_REFUSED_TEMPLATE,
         "test refuses database \"template1\": every new database is copied from it", ""},
        {"template0", 3, 1, 1, DISPOSABLE_REFUSED_TEMPLATE,
         "test refuses database \"template0\": every new database is copied from it", ""},
        /* Objects of its own without --scratch: refused, whatever the name. */
        {"app", 1, 0, 0, DISPOSABLE_REFUSED_OBJECTS,
         "test refuses database \"app\": it has 1 object of its own, and test creates and drops "
         "objects",
         "use an empty database, or no -d at all (a throwaway server)"},
        {"app_test", 12, 0, 0, DISPOSABLE_REFUSED_OBJECTS, "it has 12 objects of its own",
         "name it so (e.g. app_test) and add --scratch"},
        /* With --scratch, the name must say disposable. */
        {"latest", 1, 0, 1, DISPOSABLE_REFUSED_OBJECTS, "test refuses database \"latest\"",
         "--scratch accepts such a database only when its name says it is disposable"},
        {"shop_prod_test", 2, 0, 1, DISPOSABLE_REFUSED_OBJECTS,
         "test refuses database \"shop_prod_test\": it has 2 objects", "none with prod"},
        /* The history schema is counted among the objects: that refusal comes first. */
        {"app", 1, 1, 0, DISPOSABLE_REFUSED_OBJECTS, "it has 1 object of its own",
         "use an empty database"},
        /* A disposable name with --scratch: the history schema still refuses it. */
        {"app_tmp", 3, 1, 1, DISPOSABLE_REFUSED_HISTORY,
         "test refuses database \"app_tmp\": its history schema \"sealift\" exists (sealift has "
         "been used here)",
         "use a fresh database, or another history schema (--schema)"},
        {"fresh", 0, 1, 0, DISPOSABLE_REFUSED_HISTORY, "its history schema \"sealift\" exists",
         "another history schema"},
        /* --scratch and a disposable name: the test runs beside the objects, and says so. */
        {"shop_test", 1, 0, 1, DISPOSABLE_BESIDE,
         "database \"shop_test\" has 1 object of its own; --scratch and its name let the test "
         "run beside them",
         ""},
        {"scratch1", 40, 0, 1, DISPOSABLE_BESIDE, "has 40 objects of its own", ""},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct disposable_facts f = {cases[i].dbname, cases[i].nobjects, cases[i].history,
                                     "sealift", cases[i].scratch};
        struct disposable_judgement j;
        int refused = cases[i].verdict != DISPOSABLE_EMPTY && cases[i].verdict != DISPOSABLE_BESIDE;

        memset(&j, 'x', sizeof(j));
        if (disposable_judge(&f, &j) != refused || j.verdict != cases[i].verdict)
            fail_msg("case %zu (%s): verdict %d, expected %d", i, cases[i].dbname, (int)j.verdict,
                     (int)cases[i].verdict);
        if (cases[i].message[0])
            assert_contains(j.message, cases[i].message);
        else
            assert_string_equal(j.message, "");
        if (cases[i].hint[0])
            assert_contains(j.hint, cases[i].hint);
        else
            assert_string_equal(j.hint, "");
    }
}

/* The template check needs the name only, and is made before the database is asked more. */
static void
test_disposable_judge_name_alone(void **state)
{
    struct disposable_judgement j;

    (void)state;
    assert_int_equal(disposable_judge_name("template1", &j), 1);
    assert_int_equal(j.verdict, DISPOSABLE_REFUSED_TEMPLATE);
    assert_string_equal(
        j.message, "test refuses database \"template1\": every new database is copied from it");
    assert_int_equal(disposable_judge_name("template10", &j), 0);
    assert_int_equal(j.verdict, DISPOSABLE_EMPTY);
    assert_string_equal(j.message, "");
    assert_int_equal(disposable_judge_name("Template0", &j), 0);
}

/* A name as long as the server allows, or longer, never overflows the message: it is cut. */
static void
test_disposable_judge_long_name_is_cut(void **state)
{
    char name[2 * DISPOSABLE_MSG_MAX];
    struct disposable_facts f = {name, 5, 0, "sealift", 0};
    struct disposable_judgement j;

    (void)state;
    memset(name, 'a', sizeof(name) - 1);
    name[sizeof(name) - 1] = '\0';
    assert_int_equal(disposable_judge(&f, &j), 1);
    assert_int_equal(strlen(j.message), DISPOSABLE_MSG_MAX - 1);
    assert_string_equal(j.message + DISPOSABLE_MSG_MAX - 4, "...");
    assert_contains(j.message, "test refuses database \"aaaa");
}

/* Where the test runs: a database named by -d or the environment, else a throwaway server. */
static void
test_disposable_target_named_table(void **state)
{
    static char *const none[] = {NULL};
    static char *const unrelated[] = {"HOME=/root", "PGUSER=app", "PGPASSWORD=x",
                                      "PGHOSTX=h",  "XPGHOST=h",  "PGSSLMODE=require",
                                      NULL};
    static char *const host[] = {"HOME=/root", "PGHOST=/run/postgresql", NULL};
    static char *const url[] = {"DATABASE_URL=postgres://app@db/app", NULL};
    static char *const port[] = {"PGPORT=5433", NULL};
    static char *const hostaddr[] = {"PGHOSTADDR=127.0.0.1", NULL};
    static char *const dbname[] = {"PGDATABASE=app_test", NULL};
    static char *const service[] = {"PGSERVICE=ci", NULL};
    static char *const empty[] = {"PGHOST=", "DATABASE_URL=", "PGDATABASE=", NULL};
    /* getenv() reads the first setting of a name: an empty one hides a later one. */
    static char *const first_empty[] = {"PGHOST=", "PGHOST=db", NULL};
    static char *const first_set[] = {"PGHOST=db", "PGHOST=", NULL};
    static const struct {
        const char *conninfo;
        char *const *env;
        int named;
    } cases[] = {
        {NULL, NULL, 0},
        {NULL, none, 0},
        {"", none, 0},
        {NULL, unrelated, 0},
        {NULL, empty, 0},
        {"dbname=app_test", none, 1},
        {"postgres://localhost/app_test", none, 1},
        {"host=/tmp", empty, 1},
        {NULL, host, 1},
        {NULL, url, 1},
        {NULL, port, 1},
        {NULL, hostaddr, 1},
        {NULL, dbname, 1},
        {NULL, service, 1},
        {NULL, first_empty, 0},
        {NULL, first_set, 1},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        if (disposable_target_named(cases[i].conninfo, cases[i].env) != cases[i].named)
            fail_msg("case %zu: expected %s", i,
                     cases[i].named ? "a named database" : "a throwaway server");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_disposable_name_words),
        cmocka_unit_test(test_disposable_judge_table),
        cmocka_unit_test(test_disposable_judge_name_alone),
        cmocka_unit_test(test_disposable_judge_long_name_is_cut),
        cmocka_unit_test(test_disposable_target_named_table),
    };

    return cmocka_run_group_tests_name("applier_disposable", tests, NULL, NULL);
}
