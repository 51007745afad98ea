/* test_csv.c: the CSV reader's edge cases: quoting, line ends, BOM, empty
 * lines, line numbers, UTF-8, and every structural refusal. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "testutil.h"

#define MAX_ROWS 16

typedef struct {
    int nrows;
    csv_row rows[MAX_ROWS];
    char *buf;
} parsed;

/* Parses text (copied) to the end; returns the status of the last call. */
static int parse(const char *text, parsed *p, ts_err *e)
{
    size_t n = strlen(text);
    p->buf = malloc(n + 1);
    memcpy(p->buf, text, n + 1);
    p->nrows = 0;
    csv_t c;
    csv_init(&c, p->buf, n);
    for (int i = 0; i < MAX_ROWS; i++) {
        int rc = csv_next(&c, &p->rows[p->nrows], e);
        if (rc != TS_OK)
            return rc;
        if (p->rows[p->nrows].n == 0)
            return TS_OK;
        p->nrows++;
    }
    fail_msg("more than %d rows", MAX_ROWS);
    return TS_ERUNTIME;
}

static void test_plain_rows(void **state)
{
    (void)state;
    parsed p;
    ts_err e = {0};
    assert_int_equal(parse("id,sex\nP1,M\nP2,F\n", &p, &e), TS_OK);
    assert_int_equal(p.nrows, 3);
    assert_int_equal(p.rows[0].n, 2);
    assert_string_equal(p.rows[0].f[0], "id");
    assert_string_equal(p.rows[1].f[1], "M");
    assert_string_equal(p.rows[2].f[0], "P2");
    assert_int_equal(p.rows[2].line, 3);
    free(p.buf);
}

static void test_no_final_newline_and_crlf(void **state)
{
    (void)state;
    parsed p;
    ts_err e = {0};
    assert_int_equal(parse("a,b\r\n1,2\r\n3,4", &p, &e), TS_OK);
    assert_int_equal(p.nrows, 3);
    assert_string_equal(p.rows[1].f[1], "2");
    assert_string_equal(p.rows[2].f[1], "4");
    free(p.buf);
}

static void test_quoted_fields(void **state)
{
    (void)state;
    parsed p;
    ts_err e = {0};
    const char *text = "name,address\n"
                       "\"Nguyễn Văn \"\"Tèo\"\" An\",\"Số 12, thôn Đông\nxã Yên Hòa\"\n"
                       "\"\",\"a,b\"\r\n"
                       "x,\"\"\"\"\n";
    assert_int_equal(parse(text, &p, &e), TS_OK);
    assert_int_equal(p.nrows, 4);
    assert_string_equal(p.rows[1].f[0], "Nguyễn Văn \"Tèo\" An");
    assert_string_equal(p.rows[1].f[1], "Số 12, thôn Đông\nxã Yên Hòa");
    assert_int_equal(p.rows[1].line, 2);
    assert_int_equal(p.rows[2].line, 4); /* the quoted line break counts */
    assert_string_equal(p.rows[2].f[0], "");
    assert_string_equal(p.rows[2].f[1], "a,b");
    assert_string_equal(p.rows[3].f[1], "\"");
    assert_int_equal(p.rows[3].line, 5);
    free(p.buf);
}

static void test_empty_fields_and_lines(void **state)
{
    (void)state;
    parsed p;
    ts_err e = {0};
    assert_int_equal(parse("\n\na,b,c\n\n,,\n\r\n1,,3\n\n", &p, &e), TS_OK);
    assert_int_equal(p.nrows, 3);
    assert_int_equal(p.rows[0].line, 3);
    assert_int_equal(p.rows[1].n, 3);
    assert_string_equal(p.rows[1].f[0], "");
    assert_string_equal(p.rows[1].f[2], "");
    assert_int_equal(p.rows[1].line, 5);
    assert_string_equal(p.rows[2].f[1], "");
    assert_string_equal(p.rows[2].f[2], "3");
    assert_int_equal(p.rows[2].line, 7);
    free(p.buf);
}

static void test_bom_skipped(void **state)
{
    (void)state;
    parsed p;
    ts_err e = {0};
    assert_int_equal(parse("\xEF\xBB\xBFid,sex\nP1,F\n", &p, &e), TS_OK);
    assert_string_equal(p.rows[0].f[0], "id");
    free(p.buf);
}

static void test_empty_input(void **state)
{
    (void)state;
    parsed p;
    ts_err e = {0};
    assert_int_equal(parse("", &p, &e), TS_OK);
    assert_int_equal(p.nrows, 0);
    free(p.buf);
    assert_int_equal(parse("\n\r\n\n", &p, &e), TS_OK);
    assert_int_equal(p.nrows, 0);
    free(p.buf);
}

static void refused(const char *text, const char *needle1, const char *needle2)
{
    parsed p;
    ts_err e = {0};
    int rc = parse(text, &p, &e);
    free(p.buf);
    if (rc != TS_EINPUT)
        fail_msg("expected a refusal of %s", text);
    if (!strstr(e.msg, needle1) || (needle2 && !strstr(e.msg, needle2)))
        fail_msg("message '%s' lacks '%s' / '%s'", e.msg, needle1, needle2 ? needle2 : "");
}

static void test_refusals(void **state)
{
    (void)state;
    refused("a,b\n1,\"open\n2,3\n", "line 2: field 2", "never closed");
    refused("a,b\n1,x\"y\n", "line 2: field 2", "quote inside an unquoted field");
    refused("a,b\n\"x\"y,2\n", "line 2: field 1", "after the closing quote");
    refused("a\n\"x\n\n\"z\n", "line 4: field 1", "after the closing quote");
    refused("a,b\nok,caf\xE9\n", "line 2: field 2", "UTF-8");  /* Latin-1 */
    refused("a,b\nok,\xC3\x28\n", "line 2: field 2", "UTF-8"); /* bad continuation */
    refused("a,b\nok,\xC0\xAF\n", "line 2", "UTF-8");          /* overlong */
    refused("a,b\nok,\xED\xA0\x80\n", "line 2", "UTF-8");      /* surrogate */
    char many[CSV_MAX_FIELDS * 2 + 8];
    memset(many, ',', CSV_MAX_FIELDS);
    strcpy(many + CSV_MAX_FIELDS, "x\n");
    refused(many, "line 1", "more than");
}

static void test_nul_byte_refused(void **state)
{
    (void)state;
    char buf[] = "a,b\n1,x\0y\n";
    csv_t c;
    csv_row row;
    ts_err e = {0};
    csv_init(&c, buf, sizeof buf - 1);
    assert_int_equal(csv_next(&c, &row, &e), TS_OK);
    assert_int_equal(csv_next(&c, &row, &e), TS_EINPUT);
    assert_non_null(strstr(e.msg, "line 2"));
}

static void test_utf8_validator(void **state)
{
    (void)state;
    const char *ok = "Nguyễn Thị Hương, Đặng, 𝄞";
    assert_true(ts_text_valid(ok, strlen(ok)));
    assert_true(ts_text_valid("", 0));
    assert_false(ts_text_valid("\xE1\xBB", 2));         /* truncated */
    assert_false(ts_text_valid("\xF4\x90\x80\x80", 4)); /* above U+10FFFF */
    assert_false(ts_text_valid("\xFF", 1));
}

/* The writer: quoting as RFC 4180, formulas neutralised the OWASP way. */
static void test_write_field(void **state)
{
    (void)state;
    static const char *cases[][2] = {
        {"plain", "plain"},
        {"a,b", "\"a,b\""},
        {"say \"hi\"", "\"say \"\"hi\"\"\""},
        {"two\nlines", "\"two\nlines\""},
        {"=1+1", "\"'=1+1\""},
        {"+cmd", "\"'+cmd\""},
        {"-2+3+cmd|' /C calc'!A0", "\"'-2+3+cmd|' /C calc'!A0\""},
        {"@SUM(A1)", "\"'@SUM(A1)\""},
        {"\tx", "\"'\tx\""},
        {"\r=1", "\"'\r=1\""},
        {"=\"x\"", "\"'=\"\"x\"\"\""},
        {"-", "\"'-\""},
        {"-3", "-3"},
        {"42", "42"},
        {"<5", "<5"},
        {"", ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        csv_write_field(f, cases[i][0]);
        fclose(f);
        if (strcmp(buf, cases[i][1]))
            fail_msg("csv_write_field(%s) wrote %s, not %s", cases[i][0], buf, cases[i][1]);
        free(buf);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_rows),     cmocka_unit_test(test_no_final_newline_and_crlf),
        cmocka_unit_test(test_quoted_fields),  cmocka_unit_test(test_empty_fields_and_lines),
        cmocka_unit_test(test_bom_skipped),    cmocka_unit_test(test_empty_input),
        cmocka_unit_test(test_refusals),       cmocka_unit_test(test_nul_byte_refused),
        cmocka_unit_test(test_utf8_validator), cmocka_unit_test(test_write_field),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
