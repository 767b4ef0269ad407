/*
 * test_compiler_xmlread.c: the strict XML reader of Liquibase changelogs (compiler/xmlread.c):
 * what it reads, and a table of bad inputs with the message each gets.
 */
#include "unit.h"

#include "xmlread.h"

static void
test_xmlread_reads_changelog_shapes(void **state)
{
    static const char text[] = "\xef\xbb\xbf<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n"
                               "<!-- before -->\n"
                               "<lb:databaseChangeLog xmlns:lb='x' a=\"1 &amp; 2\">\n"
                               "  <changeSet id=\"1\" author='me'>\n"
                               "    <sql>SELECT 1 &lt; 2;&#10;SELECT &#x41;&quot;&apos;&gt;<!-- no "
                               "--><![CDATA[ <&> ]]>\r\n"
                               "</sql>\n"
                               "    <empty/>\n"
                               "  </changeSet>\n"
                               "</lb:databaseChangeLog>\n<!-- after -->\n";
    struct xml_node root;
    struct diag_err err = DIAG_ERR_INIT;
    const struct xml_node *cs, *sql;

    (void)state;
    assert_int_equal(xml_parse(text, strlen(text), &root, &err), 0);
    assert_string_equal(root.name, "lb:databaseChangeLog");
    assert_string_equal(xml_local_name(&root), "databaseChangeLog");
    assert_string_equal(xml_attr(&root, "a"), "1 & 2");
    assert_null(xml_attr(&root, "b"));
    assert_int_equal(root.nchildren, 1);
    cs = &root.children[0];
    assert_int_equal(cs->line, 4);
    assert_string_equal(xml_attr(cs, "author"), "me");
    assert_int_equal(cs->nchildren, 2);
    sql = &cs->children[0];
    assert_string_equal(sql->text.data, "SELECT 1 < 2;\nSELECT A\"'> <&> \n");
    assert_string_equal(cs->children[1].name, "empty");
    xml_node_release(&root);
}

static void
test_xmlread_rejects_bad_input(void **state)
{
    static const struct {
        const char *input;
        const char *expect;
    } bad[] = {
        {"", "line 1: no root element"},
        {"<!-- only a comment -->", "no root element"},
        {"<a>", "<a> of line 1 is not closed"},
        {"<a></b>", "end tag does not match <a> of line 1"},
        {"<a></ab>", "end tag does not match"},
        {"<a><b></a>", "end tag does not match <b>"},
        {"<a/><b/>", "content after the root element"},
        {"<a/>text", "content after the root element"},
        {"<a x=1/>", "attribute \"x\" value not quoted"},
        {"<a x='1' x='2'/>", "attribute \"x\" repeated in <a>"},
        {"<a x='1'y='2'/>", "expected a space before an attribute"},
        {"<a x='<'/>", "'<' in the value of attribute \"x\""},
        {"<a x='1/>", "unterminated value of attribute \"x\""},
        {"<a x/>", "expected '=' after attribute \"x\""},
        {"<a>&nbsp;</a>", "unknown entity \"&nbsp;\""},
        {"<a>&amp</a>", "unterminated entity reference"},
        {"<a>&#xZZ;</a>", "bad character reference"},
        {"<a>&#0;</a>", "is not a character"},
        {"<a>&#xD800;</a>", "is not a character"},
        {"<a>&#x110000;</a>", "out of range"},
        {"<a>&#;</a>", "empty character reference"},
        {"<a><!-- x -- y --></a>", "\"--\" inside a comment"},
        {"<a><!-- x </a>", "unterminated comment"},
        {"<a><![CDATA[ x </a>", "unterminated CDATA section"},
        {"<a>]]></a>", "\"]]>\" in text"},
        {"<a><?php x ?></a>", "processing instructions and declarations are not supported"},
        {"<!DOCTYPE a [<!ENTITY e 'x'>]><a>&e;</a>", "a DOCTYPE is not supported"},
        {"<?xml version='1.0'", "unterminated XML declaration"},
        {"<1a/>", "expected a name"},
        {"<a\n\n", "line 3: unterminated start tag <a>"},
        {"<a/ >", "expected \"/>\" in <a>"},
        {"<a></a >x", "content after the root element </a>"},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct xml_node root;
        struct diag_err err = DIAG_ERR_INIT;

        if (xml_parse(bad[i].input, strlen(bad[i].input), &root, &err) != -1)
            fail_msg("accepted %s", bad[i].input);
        if (strstr(err.msg, bad[i].expect) == NULL)
            fail_msg("for %s: \"%s\" does not contain \"%s\"", bad[i].input, err.msg,
                     bad[i].expect);
        xml_node_release(&root);
    }
}

static void
test_xmlread_refuses_deep_nesting_and_nul(void **state)
{
    struct buf b = BUF_INIT;
    struct xml_node root;
    struct diag_err err = DIAG_ERR_INIT;

    (void)state;
    for (int i = 0; i < 100; i++)
        buf_addstr(&b, "<a>");
    assert_int_equal(xml_parse(b.data, b.len, &root, &err), -1);
    assert_contains(err.msg, "nested more than 64 deep");
    xml_node_release(&root);
    assert_int_equal(xml_parse("<a>\0</a>", 8, &root, &err), -1);
    assert_contains(err.msg, "NUL byte");
    xml_node_release(&root);
    buf_release(&b);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_xmlread_reads_changelog_shapes),
        cmocka_unit_test(test_xmlread_rejects_bad_input),
        cmocka_unit_test(test_xmlread_refuses_deep_nesting_and_nul),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
