/* test_cell.c: cell keys (round trip, malformed keys refused) and
 * cell_check against the shipped drug-treatment catalog. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cell.h"
#include "testutil.h"

static catalog_t *cat;

static int group_setup(void **state)
{
    (void)state;
    ts_err e = {0};
    if (catalog_load(&cat, tu_catalog_path(), &e) != TS_OK) {
        fprintf(stderr, "cannot load the shipped catalog: %s\n", e.msg);
        return -1;
    }
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    catalog_destroy(&cat);
    return 0;
}

static void round_trip(const char *unit, const char *ind, const char *period, const char *opts)
{
    ts_cell c, back;
    ts_err e = {0};
    memset(&back, 0x5a, sizeof back);
    assert_int_equal(cell_set(&c, unit, ind, period, opts, &e), TS_OK);
    char key[CELL_KEY_MAX];
    size_t n = cell_key(&c, key);
    assert_int_equal(n, strlen(key));
    char want[CELL_KEY_MAX + 8];
    snprintf(want, sizeof want, "%s|%s|%s|%s", unit, ind, period, opts);
    assert_string_equal(key, want);
    assert_int_equal(cell_parse(key, n, &back, &e), TS_OK);
    assert_string_equal(back.unit, unit);
    assert_string_equal(back.indicator, ind);
    assert_string_equal(back.period, period);
    assert_string_equal(back.options, opts);
    char again[CELL_KEY_MAX];
    assert_int_equal(cell_key(&back, again), n);
    assert_string_equal(again, key);
}

static void test_key_round_trip(void **state)
{
    (void)state;
    round_trip("12345", "COUNSELLING_POINTS", "202603", "");
    round_trip("343", "TARGET_REACHED", "2026", "modality=methadone");
    round_trip("34", "IN_TREATMENT", "202512", "age_band=18-29,modality=compulsory,sex=F");
    /* the longest parts that fit */
    char unit[TS_CODE_MAX], ind[CATALOG_NAME_MAX], opts[CELL_OPTIONS_MAX];
    memset(unit, 'u', sizeof unit - 1), unit[sizeof unit - 1] = '\0';
    memset(ind, 'I', sizeof ind - 1), ind[sizeof ind - 1] = '\0';
    memset(opts, 'o', sizeof opts - 1), opts[sizeof opts - 1] = '\0';
    round_trip(unit, ind, "2026012", opts);
}

/* Keys sort by unit first: a unit's cells are one prefix of the key space. */
static void test_key_prefix(void **state)
{
    (void)state;
    ts_cell a, b;
    ts_err e = {0};
    char ka[CELL_KEY_MAX], kb[CELL_KEY_MAX];
    assert_int_equal(cell_set(&a, "34", "STAFF_TRAINED", "2026", "", &e), TS_OK);
    assert_int_equal(cell_set(&b, "343", "STAFF_TRAINED", "2026", "", &e), TS_OK);
    cell_key(&a, ka);
    cell_key(&b, kb);
    assert_int_equal(strncmp(ka, "34|", 3), 0);
    assert_int_not_equal(strncmp(kb, "34|", 3), 0); /* 343 is not under prefix "34|" */
}

static void refuse_key(const char *key, size_t n)
{
    ts_cell c;
    ts_err e = {0};
    int rc = cell_parse(key, n, &c, &e);
    if (rc != TS_EINPUT)
        fail_msg("key '%.*s' (%zu bytes) was not refused (rc %d)", (int)n, key, n, rc);
    assert_int_equal(e.code, TS_EINPUT);
    assert_non_null(strstr(e.msg, "cell"));
}

static void test_malformed_keys(void **state)
{
    (void)state;
    static const char *bad[] = {
        "",         "12345",        "12345|X",   "12345|X|2026",   "12345|X|2026|a=b|c=d",
        "|X|2026|", "12345||2026|", "12345|X||", "123 45|X|2026|", "xã|X|2026|",
        "||||",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        refuse_key(bad[i], strlen(bad[i]));

    static const char nul[] = "12345|X\0Y|2026|";
    refuse_key(nul, sizeof nul - 1);
    /* a length shorter than the string cuts the key */
    refuse_key("12345|X|2026|", 7);

    char big[1024];
    memset(big, '1', TS_CODE_MAX);
    snprintf(big + TS_CODE_MAX, sizeof big - TS_CODE_MAX, "|X|2026|");
    refuse_key(big, strlen(big));
    snprintf(big, sizeof big, "1|X|20260101|");
    refuse_key(big, strlen(big));
    int n = snprintf(big, sizeof big, "1|");
    memset(big + n, 'I', CATALOG_NAME_MAX);
    snprintf(big + n + CATALOG_NAME_MAX, sizeof big - (size_t)n - CATALOG_NAME_MAX, "|2026|");
    refuse_key(big, strlen(big));
    n = snprintf(big, sizeof big, "1|X|2026|");
    memset(big + n, 'o', CELL_OPTIONS_MAX);
    big[n + CELL_OPTIONS_MAX] = '\0';
    refuse_key(big, strlen(big));
}

static void test_cell_set_refusals(void **state)
{
    (void)state;
    ts_cell c;
    ts_err e = {0};
    assert_int_equal(cell_set(&c, "", "X", "2026", "", &e), TS_EINPUT);
    assert_int_equal(cell_set(&c, "12 345", "X", "2026", "", &e), TS_EINPUT);
    assert_non_null(strstr(e.msg, "'12 345'"));
    char ind[CATALOG_NAME_MAX + 1];
    memset(ind, 'I', sizeof ind - 1), ind[sizeof ind - 1] = '\0';
    assert_int_equal(cell_set(&c, "1", ind, "2026", "", &e), TS_EINPUT);
    assert_non_null(strstr(e.msg, "indicator"));
    assert_int_equal(cell_set(&c, "1", "X", "20260101", "", &e), TS_EINPUT);
    assert_non_null(strstr(e.msg, "period"));
}

/* cell_check on parts: TS_OK, or TS_EINPUT with a message holding needle. */
static void check(int want, const char *unit, const char *ind, const char *period, const char *opts,
                  const char *needle)
{
    ts_cell c;
    ts_err e = {0};
    memset(&c, 0, sizeof c);
    snprintf(c.unit, sizeof c.unit, "%s", unit);
    snprintf(c.indicator, sizeof c.indicator, "%s", ind);
    snprintf(c.period, sizeof c.period, "%s", period);
    snprintf(c.options, sizeof c.options, "%s", opts);
    int rc = cell_check(cat, &c, &e);
    if (rc != want)
        fail_msg("cell %s|%s|%s|%s: rc %d, expected %d (%s)", unit, ind, period, opts, rc, want,
                 e.msg);
    if (want != TS_OK && needle && !strstr(e.msg, needle))
        fail_msg("cell %s|%s|%s|%s: message '%s' lacks '%s'", unit, ind, period, opts, e.msg,
                 needle);
}

static void test_check_valid(void **state)
{
    (void)state;
    check(TS_OK, "12345", "COUNSELLING_POINTS", "202603", "", NULL);
    check(TS_OK, "343", "STAFF_TRAINED", "2026", "", NULL);
    check(TS_OK, "343", "TARGET_REACHED", "2026", "modality=voluntary_community", NULL);
    check(TS_OK, "12345", "IN_TREATMENT", "202601", "age_band=50+,modality=methadone,sex=M", NULL);
    check(TS_OK, "12345", "PERSONS_MANAGED", "202601", "age_band=unknown,sex=F", NULL);
    check(TS_OK, "12345", "REACHED", "2025", "modality=compulsory", NULL);
    check(TS_OK, "12345", "TREATMENT_ENDED", "202512", "modality=methadone,outcome=completed",
          NULL);
}

static void test_check_unknown_indicator(void **state)
{
    (void)state;
    check(TS_EINPUT, "12345", "NO_SUCH_THING", "2026", "", "'NO_SUCH_THING'");
    check(TS_EINPUT, "12345", "counselling_points", "202603", "", "unknown indicator");
    check(TS_EINPUT, "12345", "", "202603", "", "unknown indicator");
    /* a ratio is computed when read: a cell of one, in a delta or anywhere, is refused */
    check(TS_EINPUT, "343", "COUNSELLORS_CERTIFIED_PCT", "2026", "", "is a ratio");
    check(TS_EINPUT, "12345", "POST_REHAB_SUPPORTED_PCT", "202603", "age_band=50+,sex=M",
          "only its parts");
}

static void test_check_bad_period(void **state)
{
    (void)state;
    /* monthly indicators */
    static const char *bad_month[] = {"2026",    "202613", "202600", "20261",
                                      "2026-01", "abcdef", "189912", ""};
    for (size_t i = 0; i < sizeof bad_month / sizeof bad_month[0]; i++)
        check(TS_EINPUT, "12345", "COUNSELLING_POINTS", bad_month[i], "", "YYYYMM");
    check(TS_EINPUT, "12345", "TREATMENT_STARTED", "2026",
          "age_band=18-29,modality=methadone,sex=F", "period '2026'");
    /* yearly indicators */
    static const char *bad_year[] = {"202601", "26", "20x6", "1899", ""};
    for (size_t i = 0; i < sizeof bad_year / sizeof bad_year[0]; i++)
        check(TS_EINPUT, "343", "STAFF_TRAINED", bad_year[i], "", "YYYY");
    check(TS_EINPUT, "12345", "REACHED", "202601", "modality=methadone", "REACHED");
}

static void test_check_options(void **state)
{
    (void)state;
    /* not canonical: out of order, spaces; the message shows the canonical form */
    check(TS_EINPUT, "12345", "IN_TREATMENT", "202601", "sex=M,modality=methadone,age_band=50+",
          "age_band=50+,modality=methadone,sex=M");
    check(TS_EINPUT, "12345", "IN_TREATMENT", "202601", "age_band=50+, modality=methadone,sex=M",
          "canonical");
    check(TS_EINPUT, "343", "TARGET_REACHED", "2026", " modality=methadone", "canonical");
    /* invalid, whatever the order */
    check(TS_EINPUT, "343", "TARGET_REACHED", "2026", "", "missing category modality");
    check(TS_EINPUT, "343", "TARGET_REACHED", "2026", "modality=prison", "'prison'");
    check(TS_EINPUT, "343", "TARGET_REACHED", "2026", "modality=methadone,sex=F", "'sex'");
    check(TS_EINPUT, "343", "TARGET_REACHED", "2026", "modality=methadone,modality=methadone",
          "twice");
    check(TS_EINPUT, "343", "TARGET_REACHED", "2026", "modality", "category=option");
    check(TS_EINPUT, "343", "STAFF_TRAINED", "2026", "sex=F", "'sex'");
    check(TS_EINPUT, "12345", "IN_TREATMENT", "202601", "age_band=50+,sex=M", "modality");
    /* and the unit */
    check(TS_EINPUT, "12 345", "STAFF_TRAINED", "2026", "", "'12 345'");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_key_round_trip),   cmocka_unit_test(test_key_prefix),
        cmocka_unit_test(test_malformed_keys),   cmocka_unit_test(test_cell_set_refusals),
        cmocka_unit_test(test_check_valid),      cmocka_unit_test(test_check_unknown_indicator),
        cmocka_unit_test(test_check_bad_period), cmocka_unit_test(test_check_options),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
