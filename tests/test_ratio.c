/* test_ratio.c: the read-time value of ratio indicators: the division with
 * one decimal and no division by 0, the projection of a part's options
 * onto the ratio's categories, and the rows a ratio_set gathers. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "query.h"
#include "ratio.h"
#include "testutil.h"

static catalog_t *cat;

static const catalog_indicator *ind(const char *code)
{
    const catalog_indicator *i = catalog_indicator_find(cat, code);
    assert_non_null(i);
    return i;
}

static void assert_text(const char *code, int64_t num, int64_t den, const char *want)
{
    char out[RATIO_TEXT_MAX];
    assert_string_equal(ratio_text(ind(code), num, den, out, sizeof out), want);
}

static void test_division(void **state)
{
    (void)state;
    const char *pct = "COUNSELLORS_CERTIFIED_PCT";
    assert_text(pct, 4, 10, "40.0"); /* (3 + 1) / (4 + 6): the province of the issue */
    assert_text(pct, 3, 4, "75.0");
    assert_text(pct, 1, 6, "16.7"); /* 16.666... */
    assert_text(pct, 2, 3, "66.7");
    assert_text(pct, 1, 16, "6.3"); /* 6.25: half away from zero */
    assert_text(pct, 1, 8, "12.5");
    assert_text(pct, 0, 7, "0.0");
    assert_text(pct, 7, 7, "100.0");
    assert_text(pct, 9, 4, "225.0"); /* value parts may disagree: shown as they are */
    assert_text(pct, -1, 16, "-6.3");
    assert_text(pct, 1, -3, "-33.3");
    assert_text(pct, 5, 0, ""); /* no denominator: no value, never a division error */
    assert_text(pct, 0, 0, "");
    int64_t t = 0;
    assert_false(ratio_tenths(ind(pct), INT64_MAX, 0, &t));
    assert_true(ratio_tenths(ind(pct), INT64_MAX, 1, &t));
    assert_true(t == INT64_MAX); /* 100 x INT64_MAX does not fit: clamped, not wrapped */
    assert_true(ratio_tenths(ind(pct), INT64_MAX, INT64_MAX, &t));
    assert_int_equal(t, 1000);
    assert_true(ratio_scaled(1, 1, 3, &t));
    assert_int_equal(t, 3);
    json_t *j = ratio_json(ind(pct), 4, 10);
    assert_true(json_is_real(j) && json_real_value(j) == 40.0);
    json_decref(j);
    j = ratio_json(ind(pct), 4, 0);
    assert_true(json_is_null(j));
    json_decref(j);
}

static void test_project(void **state)
{
    (void)state;
    char out[CELL_OPTIONS_MAX];
    const catalog_indicator *pct = ind("POST_REHAB_SUPPORTED_PCT"),
                            *plain = ind("ADULTS_AWARE_PCT");
    query_options_project(cat, pct, "age_band=18-29,sex=M", out, sizeof out);
    assert_string_equal(out, "age_band=18-29,sex=M");
    query_options_project(cat, plain, "age_band=18-29,sex=M", out, sizeof out);
    assert_string_equal(out, "");
    query_options_project(cat, pct, "age_band=50+,sex=F", out, sizeof out);
    assert_string_equal(out, "age_band=50+,sex=F");
}

static void add(ratio_set *rs, const char *unit, const char *code, const char *period,
                const char *opts, int64_t v)
{
    ts_cell c;
    ts_err e = {0};
    assert_int_equal(cell_set(&c, unit, code, period, opts, &e), TS_OK);
    /* a cell key that depends on the count alone: sums can be checked */
    assert_int_equal(ratio_set_add(rs, &c, (disclose_fig){v, (uint32_t)v * 7}), TS_OK);
}

static void test_set(void **state)
{
    (void)state;
    ratio_set rs;
    ratio_set_init(&rs, cat, ind("COUNSELLORS_CERTIFIED_PCT"));
    add(&rs, "34302", "COUNSELLORS", "2026", "", 6);
    add(&rs, "34301", "COUNSELLORS", "2026", "", 4);
    add(&rs, "34301", "COUNSELLORS_CERTIFIED", "2026", "", 3);
    add(&rs, "34302", "COUNSELLORS_CERTIFIED", "2026", "", 1);
    add(&rs, "34301", "STAFF_TRAINED", "2026", "", 99); /* not a part: ignored */
    add(&rs, "34301", "COUNSELLORS_CERTIFIED", "2025", "", 2);
    ratio_set_sort(&rs);
    assert_int_equal(rs.n, 3);
    assert_string_equal(rs.rows[0].unit, "34301");
    assert_string_equal(rs.rows[0].period, "2025");
    assert_true(rs.rows[0].num.v == 2 && rs.rows[0].den.v == 0);
    assert_string_equal(rs.rows[1].period, "2026");
    assert_true(rs.rows[1].num.v == 3 && rs.rows[1].den.v == 4);
    assert_string_equal(rs.rows[2].unit, "34302");
    assert_true(rs.rows[2].num.v == 1 && rs.rows[2].den.v == 6);
    ratio_set_free(&rs);

    /* record-derived parts: counts and cell keys add per row, each part on its own */
    ratio_set_init(&rs, cat, ind("POST_REHAB_SUPPORTED_PCT"));
    add(&rs, "343", "POST_REHAB", "202603", "age_band=30-39,sex=M", 8);
    add(&rs, "343", "POST_REHAB_SUPPORTED", "202603", "age_band=30-39,sex=M", 2);
    add(&rs, "343", "POST_REHAB_SUPPORTED", "202603", "age_band=30-39,sex=M", 1);
    add(&rs, "343", "POST_REHAB", "202603", "age_band=30-39,sex=F", 3);
    ratio_set_sort(&rs);
    assert_int_equal(rs.n, 2);
    assert_string_equal(rs.rows[0].options, "age_band=30-39,sex=F");
    assert_true(rs.rows[0].num.v == 0 && rs.rows[0].den.v == 3 && rs.rows[0].den.key == 21);
    assert_true(rs.rows[1].num.v == 3 && rs.rows[1].num.key == 21);
    assert_true(rs.rows[1].den.v == 8 && rs.rows[1].den.key == 56);
    ratio_set_free(&rs);
}

static int setup(void **state)
{
    (void)state;
    ts_err e = {0};
    if (catalog_load(&cat, tu_catalog_path(), &e)) {
        fprintf(stderr, "setup: %s\n", e.msg);
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    catalog_destroy(&cat);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_division),
        cmocka_unit_test(test_project),
        cmocka_unit_test(test_set),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
