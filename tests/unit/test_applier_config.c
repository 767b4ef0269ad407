/*
 * test_applier_config.c: unit tests for applier/config.c, the parser of sealift-apply's
 * "key = value" config file: a table of texts with the entries they yield or the error they
 * give, and which file config_path picks.
 * Layer: tests.
 */
#include "unit.h"

#include "config.h"

/* Collect "key=value@line;" for each entry; a key "bad" is refused as a caller would. */
static int
collect_cb(const char *key, const char *value, int line, void *arg, struct diag_err *err)
{
    struct buf *b = arg;

    if (strcmp(key, "bad") == 0)
        return err_set(err, "unknown setting \"%s\"", key);
    buf_addf(b, "%s=%s@%d;", key, value, line);
    return 0;
}

static void
test_config_parse_table(void **state)
{
    static const struct {
        const char *text;
        const char *entries; /* NULL: an error */
        const char *error;   /* substring of err.msg */
    } cases[] = {
        {"", "", NULL},
        {"# only a comment\n\n   \n", "", NULL},
        {"schema = app\n", "schema=app@1;", NULL},
        {"  schema=app  \r\n\tthreshold\t=\t2", "schema=app@1;threshold=2@2;", NULL},
        {"pubkey = a.pub\npubkey = b.pub\n", "pubkey=a.pub@1;pubkey=b.pub@2;", NULL},
        {"key = a = b\n", "key=a = b@1;", NULL},
        {"empty =\n", "empty=@1;", NULL},
        {"\n\nno equals here\n", NULL,
         "f.conf:3: expected \"key = value\", not \"no equals here\""},
        {" = value\n", NULL, "f.conf:1: a setting needs a name before \"=\""},
        {"schema = x\nbad = 1\n", NULL, "f.conf:2: unknown setting \"bad\""},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct diag_err err = DIAG_ERR_INIT;
        struct buf got = BUF_INIT;
        int rc = config_parse("f.conf", cases[i].text, collect_cb, &got, &err);

        if (cases[i].entries) {
            if (rc != 0)
                fail_msg("case %zu: unexpected error \"%s\"", i, err.msg);
            assert_string_equal(got.data, cases[i].entries);
        } else {
            if (rc != -1)
                fail_msg("case %zu: accepted", i);
            assert_contains(err.msg, cases[i].error);
        }
        buf_release(&got);
    }
}

static void
test_config_path_choice(void **state)
{
    int required;

    (void)state;
    unsetenv("SEALIFT_CONFIG");
    assert_string_equal(config_path(NULL, &required), CONFIG_DEFAULT_PATH);
    assert_int_equal(required, 0);
    assert_string_equal(config_path("x.conf", &required), "x.conf");
    assert_int_equal(required, 1);
    setenv("SEALIFT_CONFIG", "env.conf", 1);
    assert_string_equal(config_path(NULL, &required), "env.conf");
    assert_int_equal(required, 1);
    assert_string_equal(config_path("x.conf", &required), "x.conf");
    setenv("SEALIFT_CONFIG", "", 1);
    assert_null(config_path(NULL, &required));
    unsetenv("SEALIFT_CONFIG");
}

static void
test_config_read_refuses_loose_modes(void **state)
{
    char dir[] = "/tmp/sealift-config-XXXXXX", path[UNIT_PATH_MAX];
    struct diag_err err = DIAG_ERR_INIT;
    struct buf text = BUF_INIT;
    FILE *f;

    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/apply.conf", dir);
    assert_int_equal(config_read(path, 0, &text, &err), 1);
    assert_int_equal(config_read(path, 1, &text, &err), -1);
    assert_contains(err.msg, "No such file or directory");
    f = fopen(path, "w");
    assert_non_null(f);
    fputs("schema = x\n", f);
    fclose(f);
    chmod(path, 0644);
    assert_int_equal(config_read(path, 0, &text, &err), 0);
    assert_string_equal(text.data, "schema = x\n");
    chmod(path, 0664);
    assert_int_equal(config_read(path, 0, &text, &err), -1);
    assert_contains(err.msg, "writable by its group");
    chmod(path, 0646);
    assert_int_equal(config_read(path, 0, &text, &err), -1);
    assert_contains(err.msg, "writable by others");
    assert_int_equal(config_read(dir, 1, &text, &err), -1);
    assert_contains(err.msg, "is not a regular file");
    unlink(path);
    rmdir(dir);
    buf_release(&text);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_parse_table),
        cmocka_unit_test(test_config_path_choice),
        cmocka_unit_test(test_config_read_refuses_loose_modes),
    };

    return cmocka_run_group_tests_name("applier_config", tests, NULL, NULL);
}
