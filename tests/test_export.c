/* test_export.c: CSV, DHIS2 dataValueSets, ADX, FHIR and xlsx writers on a
 * real store: own values vs roll-ups, period selection, the mapping file
 * (the shipped example and refusals of bad ones), small-cell protection in
 * exports, ratio indicators (the tables show them, the exchange formats
 * carry their parts). (reports.sh reads FHIR and xlsx with other systems'
 * readers.) */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export.h"
#include "node.h"
#include "testutil.h"

typedef struct {
    char dir[512];
    node_t n;
} fx;

static void cell(store_t *s, store_txn *txn, const char *src, const char *unit, const char *ind,
                 const char *period, const char *opts, int64_t v)
{
    ts_cell c;
    ts_err e = {0};
    assert_int_equal(cell_set(&c, unit, ind, period, opts, &e), TS_OK);
    /* a cell key that depends on the count alone: the tests can say how it rounds */
    assert_int_equal(store_apply_cell(s, txn, src, &c, (disclose_fig){v, (uint32_t)v * 7}, &e),
                     TS_OK);
}

static void unit(store_t *s, store_txn *txn, const char *code, const char *name, const char *level,
                 const char *parent, const char *via)
{
    store_unit u = {0};
    ts_err e = {0};
    snprintf(u.name, sizeof u.name, "%s", name);
    snprintf(u.level, sizeof u.level, "%s", level);
    snprintf(u.parent, sizeof u.parent, "%s", parent);
    snprintf(u.via, sizeof u.via, "%s", via);
    assert_int_equal(store_unit_put(s, txn, code, &u, &e), TS_OK);
}

/* 34 ── 343 ── 34301 (values), 34302 (a small count); 343 enters its plan. */
static int fill(store_t *s, store_txn *txn, void *ctx, ts_err *e)
{
    (void)ctx, (void)e;
    unit(s, txn, "34", "Tỉnh", "province", "", "");
    unit(s, txn, "343", "Huyện \"Kim\", Bảng", "district", "34", "343");
    unit(s, txn, "34301", "Xã Tân Sơn", "commune", "343", "343");
    unit(s, txn, "34302", "Xã Thụy Lôi", "commune", "343", "343");
    cell(s, txn, "343", "343", "TARGET_REACHED", "2026", "modality=compulsory", 150);
    cell(s, txn, "343", "343", "TARGET_REACHED", "2026", "modality=methadone", 200);
    cell(s, txn, "343", "343", "STAFF_TRAINED", "2026", "", 4);
    cell(s, txn, "343", "34301", "STAFF_TRAINED", "2026", "", 6);
    cell(s, txn, "343", "34301", "REACHED", "2026", "modality=methadone", 30);
    cell(s, txn, "343", "34302", "REACHED", "2026", "modality=methadone", 3);
    cell(s, txn, "343", "34301", "COUNSELLING_POINTS", "202602", "", 7);
    cell(s, txn, "343", "34301", "COUNSELLING_POINTS", "202603", "", 8);
    cell(s, txn, "343", "34301", "COUNSELLING_POINTS", "202503", "", 5);
    cell(s, txn, "343", "34301", "IN_TREATMENT", "202603",
         "age_band=50+,modality=voluntary_community,sex=F", 6);
    return TS_OK;
}

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "%s", tu_tmpdir("export"));
    ts_config c;
    ts_err e = {0};
    config_defaults(&c, f->dir);
    snprintf(c.code, sizeof c.code, "34");
    snprintf(c.name, sizeof c.name, "Tỉnh");
    snprintf(c.level, sizeof c.level, "province");
    assert_int_equal(config_write(&c, &e), TS_OK);
    assert_int_equal(node_open(&f->n, f->dir, 0, &e), TS_OK);
    assert_int_equal(store_write(f->n.store, fill, NULL, &e), TS_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    node_close(&f->n);
    tu_rmrf(f->dir);
    free(f);
    return 0;
}

typedef struct {
    export_format format;
    export_values values;
    const char *unit, *period, *indicator;
    bool exact;
    const export_mapping *map;
} req;

/* Runs an export; returns the text (free it) and its status in *rc. */
static char *run(fx *f, const req *q, int *rc, ts_err *e)
{
    store_txn *txn;
    tree_t t;
    assert_int_equal(store_read_begin(f->n.store, &txn, e), TS_OK);
    assert_int_equal(tree_load(&t, f->n.store, txn, e), TS_OK);
    export_request r = {q->format,
                        q->values,
                        tree_find(&t, q->unit ? q->unit : "34"),
                        q->period,
                        q->indicator ? catalog_indicator_find(f->n.catalog, q->indicator) : NULL,
                        {q->exact, 5},
                        q->map,
                        1773576000000LL /* 2026-03-15T12:00:00Z */};
    assert_true(r.unit >= 0);
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    *rc = export_write(&f->n, txn, &t, &r, out, e);
    fclose(out);
    tree_free(&t);
    store_read_end(txn);
    return buf;
}

static char *ok(fx *f, const req *q)
{
    int rc;
    ts_err e = {0};
    char *out = run(f, q, &rc, &e);
    if (rc != TS_OK)
        fail_msg("export failed: %s", e.msg);
    return out;
}

static int count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

static void test_csv_own_and_total(void **state)
{
    fx *f = *state;
    req q = {EXPORT_CSV, EXPORT_OWN, NULL, "2026", "STAFF_TRAINED", true, NULL};
    char *own = ok(f, &q);
    assert_string_equal(own,
                        "unit,unit_name,level,indicator,period,options,value\n"
                        "343,\"Huyện \"\"Kim\"\", Bảng\",district,STAFF_TRAINED,2026,,4\n"
                        "34301,Xã Tân Sơn,commune,STAFF_TRAINED,2026,,6\n");
    q.values = EXPORT_TOTAL;
    char *tot = ok(f, &q);
    assert_string_equal(tot,
                        "unit,unit_name,level,indicator,period,options,value\n"
                        "34,Tỉnh,province,STAFF_TRAINED,2026,,10\n"
                        "343,\"Huyện \"\"Kim\"\", Bảng\",district,STAFF_TRAINED,2026,,10\n"
                        "34301,Xã Tân Sơn,commune,STAFF_TRAINED,2026,,6\n");
    free(own);
    free(tot);
}

static void test_period_selection(void **state)
{
    fx *f = *state;
    req q = {EXPORT_CSV, EXPORT_OWN, "34301", "2026", "COUNSELLING_POINTS", true, NULL};
    char *y = ok(f, &q); /* a year: its months too, not 2025's */
    assert_int_equal(count(y, "COUNSELLING_POINTS,2026"), 2);
    assert_int_equal(count(y, "2025"), 0);
    q.period = "202603";
    char *m = ok(f, &q);
    assert_int_equal(count(m, "\n"), 2);
    assert_non_null(strstr(m, "COUNSELLING_POINTS,202603,,8\n"));
    free(y);
    free(m);
}

static void test_dhis2_shape(void **state)
{
    fx *f = *state;
    req q = {EXPORT_DHIS2, EXPORT_OWN, NULL, "2026", NULL, true, NULL};
    char *s = ok(f, &q);
    json_error_t je;
    json_t *j = json_loads(s, 0, &je);
    if (!j)
        fail_msg("not JSON (%s): %s", je.text, s);
    json_t *vals = json_object_get(j, "dataValues");
    /* own values: 343's plan (2) and staff (10 - 6); 34301: staff, reached, two months of
     * counselling points, in treatment; 34302: reached. Nothing of 34's own. */
    assert_int_equal(json_array_size(vals), 9);
    size_t i;
    json_t *v;
    json_array_foreach (vals, i, v) {
        assert_int_equal(json_object_size(v), 5);
        const char *keys[] = {"dataElement", "period", "orgUnit", "categoryOptionCombo", "value"};
        for (int k = 0; k < 5; k++)
            assert_true(json_is_string(json_object_get(v, keys[k])));
    }
    json_t *first = json_array_get(vals, 0);
    assert_string_equal(json_string_value(json_object_get(first, "orgUnit")), "343");
    assert_string_equal(json_string_value(json_object_get(first, "dataElement")), "STAFF_TRAINED");
    assert_string_equal(json_string_value(json_object_get(first, "categoryOptionCombo")),
                        "default");
    assert_string_equal(json_string_value(json_object_get(first, "value")), "4");
    assert_null(json_object_get(j, "dataSet")); /* identity mapping: no data set UID */
    json_decref(j);
    free(s);
}

static export_mapping *shipped_mapping(fx *f)
{
    char path[1024];
    const char *src = getenv("TIERSYNC_SOURCE");
    snprintf(path, sizeof path, "%s/catalog/dhis2-mapping.json", src ? src : ".");
    export_mapping *m = NULL;
    ts_err e = {0};
    if (export_mapping_load(&m, f->n.catalog, path, &e) != TS_OK)
        fail_msg("the shipped mapping is refused: %s", e.msg);
    return m;
}

static void test_mapping_applied(void **state)
{
    fx *f = *state;
    export_mapping *m = shipped_mapping(f);
    req q = {EXPORT_DHIS2, EXPORT_OWN, NULL, "2026", "TARGET_REACHED", true, m};
    char *s = ok(f, &q);
    json_t *j = json_loads(s, 0, NULL);
    assert_string_equal(json_string_value(json_object_get(j, "dataSet")), "tsDsDrugTrt");
    json_t *v = json_array_get(json_object_get(j, "dataValues"), 0);
    assert_string_equal(json_string_value(json_object_get(v, "dataElement")), "tsDeTargetR");
    assert_string_equal(json_string_value(json_object_get(v, "orgUnit")), "tsOuDist343");
    assert_string_equal(json_string_value(json_object_get(v, "categoryOptionCombo")),
                        "tsCocCompul");
    assert_string_equal(json_string_value(json_object_get(v, "value")), "150");
    json_decref(j);
    free(s);
    req a = {EXPORT_ADX, EXPORT_OWN, "34301", "202603", NULL, true, m};
    s = ok(f, &a);
    assert_non_null(strstr(s,
                           "<group orgUnit=\"VN-34301\" period=\"2026-03-01/P1M\" "
                           "dataSet=\"DRUG_TREATMENT\">\n"));
    assert_non_null(strstr(s,
                           "<dataValue dataElement=\"IN_TREATMENT\" AGE_BAND=\"Y50PLUS\" "
                           "MODALITY=\"VOLUNTARY_COMMUNITY\" SEX=\"FEMALE\" value=\"6\"/>"));
    free(s);
    export_mapping_destroy(&m);
    assert_null(m);
}

static void test_adx_shape(void **state)
{
    fx *f = *state;
    req q = {EXPORT_ADX, EXPORT_OWN, NULL, NULL, NULL, true, NULL};
    char *s = ok(f, &q);
    const char *head = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                       "<adx xmlns=\"urn:ihe:qrph:adx:2015\" exported=\"2026-03-15T12:00:00Z\">\n";
    assert_true(!strncmp(s, head, strlen(head)));
    /* one group per (unit, period): 343/2026, 34301/202503, 202602, 202603, 2026, 34302/2026 */
    assert_int_equal(count(s, "<group "), 6);
    assert_int_equal(count(s, "</group>"), 6);
    assert_int_equal(count(s, "<dataValue "), 10);
    assert_non_null(
        strstr(s, "<group orgUnit=\"343\" period=\"2026-01-01/P1Y\" dataSet=\"drug-treatment\">"));
    assert_non_null(strstr(s, "period=\"2025-03-01/P1M\""));
    assert_non_null(strstr(
        s, "<dataValue dataElement=\"TARGET_REACHED\" modality=\"methadone\" value=\"200\"/>"));
    assert_non_null(strstr(s, "age_band=\"50+\""));
    assert_true(strstr(s, "</adx>\n") == s + strlen(s) - 7);
    free(s);
    /* nothing to export: ADX needs a group, so it is refused */
    req none = {EXPORT_ADX, EXPORT_OWN, NULL, "1999", NULL, true, NULL};
    int rc;
    ts_err e = {0};
    free(run(f, &none, &rc, &e));
    assert_int_equal(rc, TS_ENOTFOUND);
    assert_non_null(strstr(e.msg, "no values"));
}

/* Without a token every record-derived value is rounded by its cell key:
 * 3 with key 21 (21 mod 5 = 1 < 3) rounds up to 5, 30 stays; receivers get
 * numbers, nothing is left out. With a token: exact. */
static void test_rounded_exports(void **state)
{
    fx *f = *state;
    req q = {EXPORT_CSV, EXPORT_OWN, NULL, "2026", "REACHED", false, NULL};
    char *csv = ok(f, &q);
    assert_non_null(strstr(csv, "34302,Xã Thụy Lôi,commune,REACHED,2026,modality=methadone,5\n"));
    assert_non_null(strstr(csv, "34301,Xã Tân Sơn,commune,REACHED,2026,modality=methadone,30\n"));
    q.format = EXPORT_DHIS2;
    char *d = ok(f, &q);
    json_t *j = json_loads(d, 0, NULL);
    assert_int_equal(json_array_size(json_object_get(j, "dataValues")), 2);
    assert_non_null(strstr(d, "\"value\":\"5\""));
    assert_null(strstr(d, "\"value\":\"3\""));
    json_decref(j);
    q.exact = true;
    char *x = ok(f, &q);
    j = json_loads(x, 0, NULL);
    assert_int_equal(json_array_size(json_object_get(j, "dataValues")), 2);
    assert_non_null(strstr(x, "\"value\":\"3\""));
    json_decref(j);
    free(csv);
    free(d);
    free(x);
}

/* Commune 34301 has 3 of 4 counsellors certified, 34302 1 of 6; 34301
 * counts aware adults without a survey (a denominator of 0). The same
 * counts of people after rehabilitation (records: keyed, rounded without a
 * token): 3 of 4 supported at 34301, 1 of 6 at 34302. */
static int fill_ratios(store_t *s, store_txn *txn, void *ctx, ts_err *e)
{
    (void)ctx, (void)e;
    cell(s, txn, "343", "34301", "COUNSELLORS", "2026", "", 4);
    cell(s, txn, "343", "34301", "COUNSELLORS_CERTIFIED", "2026", "", 3);
    cell(s, txn, "343", "34302", "COUNSELLORS", "2026", "", 6);
    cell(s, txn, "343", "34302", "COUNSELLORS_CERTIFIED", "2026", "", 1);
    cell(s, txn, "343", "34301", "ADULTS_AWARE", "2026", "", 7);
    const char *o = "age_band=30-39,sex=M";
    cell(s, txn, "343", "34301", "POST_REHAB", "202603", o, 4);
    cell(s, txn, "343", "34301", "POST_REHAB_SUPPORTED", "202603", o, 3);
    cell(s, txn, "343", "34302", "POST_REHAB", "202603", o, 6);
    cell(s, txn, "343", "34302", "POST_REHAB_SUPPORTED", "202603", o, 1);
    return TS_OK;
}

static void test_ratio_exports(void **state)
{
    fx *f = *state;
    ts_err e = {0};
    assert_int_equal(store_write(f->n.store, fill_ratios, NULL, &e), TS_OK);
    req q = {EXPORT_CSV, EXPORT_TOTAL, NULL, "2026", "COUNSELLORS_CERTIFIED_PCT", true, NULL};
    char *csv = ok(f, &q);
    /* the province's ratio is of its rolled-up parts: 4 / 10, not the mean of 75.0 and 16.7 */
    assert_non_null(strstr(csv, "34,Tỉnh,province,COUNSELLORS_CERTIFIED_PCT,2026,,40.0\n"));
    assert_non_null(strstr(csv, "34301,Xã Tân Sơn,commune,COUNSELLORS_CERTIFIED_PCT,2026,,75.0\n"));
    assert_non_null(
        strstr(csv, "34302,Xã Thụy Lôi,commune,COUNSELLORS_CERTIFIED_PCT,2026,,16.7\n"));
    assert_non_null(strstr(csv, "34,Tỉnh,province,COUNSELLORS,2026,,10\n")); /* the parts too */
    assert_non_null(strstr(csv, "34,Tỉnh,province,COUNSELLORS_CERTIFIED,2026,,4\n"));
    free(csv);
    q.indicator = NULL; /* every indicator: a denominator of 0 gives an empty value */
    csv = ok(f, &q);
    assert_non_null(strstr(csv, "34301,Xã Tân Sơn,commune,ADULTS_AWARE_PCT,2026,,\n"));
    assert_non_null(strstr(csv, "34,Tỉnh,province,ADULTS_AWARE_PCT,2026,,\n"));
    assert_non_null(strstr(
        csv, "343,\"Huyện \"\"Kim\"\", Bảng\",district,COUNSELLORS_CERTIFIED_PCT,2026,,40.0\n"));
    free(csv);
    q.values = EXPORT_OWN; /* a parent entered no parts of its own: no ratio row */
    csv = ok(f, &q);
    assert_null(strstr(csv, "34,Tỉnh,province,COUNSELLORS_CERTIFIED_PCT"));
    assert_non_null(
        strstr(csv, "34302,Xã Thụy Lôi,commune,COUNSELLORS_CERTIFIED_PCT,2026,,16.7\n"));
    free(csv);
    q.values = EXPORT_TOTAL, q.exact = false; /* values are exact for every reader */
    csv = ok(f, &q);
    assert_non_null(strstr(csv, "34301,Xã Tân Sơn,commune,COUNSELLORS_CERTIFIED_PCT,2026,,75.0\n"));
    assert_non_null(strstr(csv, "34,Tỉnh,province,COUNSELLORS_CERTIFIED_PCT,2026,,40.0\n"));
    free(csv);
    /* without a token a ratio of counts from records is of its parts as
     * published, each rounded from its own exact sum and key (key 7 x count):
     * 3/4 -> 5/5, 1/6 -> 0/5, at the province 4/10 -> 5/10 */
    q.period = "202603", q.indicator = "POST_REHAB_SUPPORTED_PCT";
    csv = ok(f, &q);
    assert_non_null(strstr(
        csv,
        "34301,Xã Tân Sơn,commune,POST_REHAB_SUPPORTED_PCT,202603,\"age_band=30-39,sex=M\",100.0\n"));
    assert_non_null(strstr(
        csv,
        "34302,Xã Thụy Lôi,commune,POST_REHAB_SUPPORTED_PCT,202603,\"age_band=30-39,sex=M\",0.0\n"));
    assert_non_null(strstr(
        csv, "34,Tỉnh,province,POST_REHAB_SUPPORTED_PCT,202603,\"age_band=30-39,sex=M\",50.0\n"));
    assert_non_null(
        strstr(csv, "34,Tỉnh,province,POST_REHAB_SUPPORTED,202603,\"age_band=30-39,sex=M\",5\n"));
    free(csv);
    q.exact = true; /* with a token: of the exact parts */
    csv = ok(f, &q);
    assert_non_null(strstr(
        csv,
        "34301,Xã Tân Sơn,commune,POST_REHAB_SUPPORTED_PCT,202603,\"age_band=30-39,sex=M\",75.0\n"));
    assert_non_null(strstr(
        csv, "34,Tỉnh,province,POST_REHAB_SUPPORTED_PCT,202603,\"age_band=30-39,sex=M\",40.0\n"));
    free(csv);
    q.period = "2026", q.indicator = "COUNSELLORS_CERTIFIED_PCT";
    /* DHIS2, ADX and FHIR carry the parts only, also when the ratio is asked for */
    req d = {EXPORT_DHIS2, EXPORT_OWN, NULL, "2026", "COUNSELLORS_CERTIFIED_PCT", true, NULL};
    char *x = ok(f, &d);
    json_t *j = json_loads(x, 0, NULL);
    assert_int_equal(json_array_size(json_object_get(j, "dataValues")), 4);
    assert_null(strstr(x, "_PCT"));
    json_decref(j);
    free(x);
    /* without a token the parts are published as every count is */
    req d2 = {EXPORT_DHIS2, EXPORT_TOTAL, NULL, "202603", "POST_REHAB_SUPPORTED_PCT", false, NULL};
    x = ok(f, &d2);
    assert_int_equal(count(x, "\"dataElement\":\"POST_REHAB"), 8);
    assert_int_equal(count(x, "\"value\":\"5\""), 5); /* 34301's 3 and 4, 34302's 6, 4 above */
    assert_null(strstr(x, "\"value\":\"3\""));
    assert_null(strstr(x, "_PCT"));
    free(x);
    d.format = EXPORT_ADX, d.indicator = NULL;
    x = ok(f, &d);
    assert_non_null(strstr(x, "dataElement=\"COUNSELLORS_CERTIFIED\""));
    assert_null(strstr(x, "_PCT"));
    free(x);
    d.format = EXPORT_FHIR;
    x = ok(f, &d);
    assert_non_null(strstr(x, "COUNSELLORS_CERTIFIED"));
    assert_null(strstr(x, "_PCT"));
    free(x);
}

/* Names and levels come from the children's announcements: none may start a
 * spreadsheet formula (=, +, -, @, tab, CR: quoted after a single quote, as
 * OWASP recommends). Negative numbers stay numbers. */
static int fill_formulas(store_t *s, store_txn *txn, void *ctx, ts_err *e)
{
    (void)ctx, (void)e;
    unit(s, txn, "34303", "=HYPERLINK(\"x\")", "@SUM(1)", "343", "343");
    unit(s, txn, "34304", "+cmd", "-x", "343", "343");
    unit(s, txn, "34305", "-3 Xã", "commune", "343", "343");
    unit(s, txn, "34306", "-2+3+cmd|' /C calc'!A0", "\tx", "343", "343");
    unit(s, txn, "34307", "\r=1", "commune", "343", "343");
    cell(s, txn, "343", "34303", "STAFF_TRAINED", "2025", "", -3);
    cell(s, txn, "343", "34304", "STAFF_TRAINED", "2025", "", 2);
    cell(s, txn, "343", "34305", "STAFF_TRAINED", "2025", "", 1);
    cell(s, txn, "343", "34306", "STAFF_TRAINED", "2025", "", 1);
    cell(s, txn, "343", "34307", "STAFF_TRAINED", "2025", "", 1);
    return TS_OK;
}

static void test_csv_no_formulas(void **state)
{
    fx *f = *state;
    ts_err e = {0};
    assert_int_equal(store_write(f->n.store, fill_formulas, NULL, &e), TS_OK);
    req q = {EXPORT_CSV, EXPORT_OWN, "343", "2025", "STAFF_TRAINED", true, NULL};
    char *s = ok(f, &q);
    assert_string_equal(s,
                        "unit,unit_name,level,indicator,period,options,value\n"
                        "34303,\"'=HYPERLINK(\"\"x\"\")\",\"'@SUM(1)\",STAFF_TRAINED,2025,,-3\n"
                        "34304,\"'+cmd\",\"'-x\",STAFF_TRAINED,2025,,2\n"
                        "34305,\"'-3 Xã\",commune,STAFF_TRAINED,2025,,1\n"
                        "34306,\"'-2+3+cmd|' /C calc'!A0\",\"'\tx\",STAFF_TRAINED,2025,,1\n"
                        "34307,\"'\r=1\",commune,STAFF_TRAINED,2025,,1\n");
    free(s);
}

static void assert_mapping_refused(fx *f, const char *text, const char *why)
{
    const char *path = tu_write_file(f->dir, "bad-mapping.json", text);
    export_mapping *m = NULL;
    ts_err e = {0};
    assert_int_equal(export_mapping_load(&m, f->n.catalog, path, &e), TS_EINPUT);
    assert_null(m);
    if (!strstr(e.msg, why) || !strstr(e.msg, "bad-mapping.json"))
        fail_msg("refusal '%s' does not say '%s'", e.msg, why);
}

static void test_mapping_refusals(void **state)
{
    fx *f = *state;
    assert_mapping_refused(f, "{\"dataElements\": {\"NOPE\": {\"dhis2\": \"abcdefghijk\"}}}",
                           "dataElements.NOPE: no indicator NOPE");
    assert_mapping_refused(f, "{\"dataElements\": {\"REACHED\": {\"dhis2\": \"short\"}}}",
                           "'short' is not a DHIS2 UID");
    assert_mapping_refused(f,
                           "{\"categoryOptionCombos\": {\"IN_TREATMENT\": "
                           "{\"sex=M,modality=methadone,age_band=50+\": \"abcdefghijk\"}}}",
                           "write the options as \"age_band=50+,modality=methadone,sex=M\"");
    assert_mapping_refused(
        f, "{\"categoryOptionCombos\": {\"REACHED\": {\"modality=x\": \"abcdefghijk\"}}}",
        "REACHED");
    assert_mapping_refused(f, "{\"categories\": {\"sex\": {\"adx\": \"1SEX\"}}}",
                           "cannot be an XML attribute name");
    assert_mapping_refused(f, "{\"categories\": {\"sex\": {\"options\": {\"X\": \"XX\"}}}}",
                           "X is not an option of category sex");
    assert_mapping_refused(f, "{\"catalog\": \"tb\"}", "another catalog");
    assert_mapping_refused(
        f, "{\"dataElements\": {\"ADULTS_AWARE_PCT\": {\"dhis2\": \"abcdefghijk\"}}}",
        "ADULTS_AWARE_PCT is a ratio, never exported to DHIS2 or ADX: map its parts "
        "ADULTS_AWARE and ADULTS_SURVEYED");
    assert_mapping_refused(f, "{\"orgunits\": {}}", "unknown key");
    assert_mapping_refused(f,
                           "{\"orgUnits\": {\"34\": {\"dhis2\": \"abcdefghijk\", \"adx\": \"\"}}}",
                           "orgUnits.34.adx");
    assert_mapping_refused(f, "{\"orgUnits\": [1, 2", "not valid JSON");
    assert_mapping_refused(f, "{\"fhir\": {\"measureBase\": \"https://x/ y/\"}}",
                           "fhir.measureBase: must be printable ASCII without spaces");
    assert_mapping_refused(f, "{\"fhir\": {\"base\": \"https://x/\"}}", "use measureBase");
    assert_mapping_refused(f, "{\"dataElements\": {\"REACHED\": {\"fhir\": \"\"}}}",
                           "dataElements.REACHED.fhir");
    export_mapping *m = NULL;
    ts_err e = {0};
    char path[1100];
    snprintf(path, sizeof path, "%s/absent.json", f->dir);
    assert_int_equal(export_mapping_load(&m, f->n.catalog, path, &e), TS_ERUNTIME);
    /* no file in the data directory: identity mapping */
    assert_int_equal(export_mapping_default(&m, &f->n, &e), TS_OK);
    assert_null(m);
}

static json_t *fhir_group(json_t *bundle, size_t i, json_t **mr)
{
    *mr = json_object_get(json_array_get(json_object_get(bundle, "entry"), i), "resource");
    return json_array_get(json_object_get(*mr, "group"), 0);
}

static void test_fhir_shape(void **state)
{
    fx *f = *state;
    export_mapping *m = shipped_mapping(f);
    req q = {EXPORT_FHIR, EXPORT_OWN, "343", "2026", "TARGET_REACHED", true, m};
    char *s = ok(f, &q);
    json_t *b = json_loads(s, 0, NULL), *mr;
    assert_string_equal(json_string_value(json_object_get(b, "type")), "collection");
    assert_int_equal(json_array_size(json_object_get(b, "entry")), 1);
    json_t *g = fhir_group(b, 0, &mr);
    assert_string_equal(json_string_value(json_object_get(mr, "measure")),
                        "https://moh.example/fhir/Measure/TARGET_REACHED");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(mr, "subject"), "reference")),
        "Location/VN-343");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(mr, "reporter"), "reference")),
        "Organization/VN-343");
    assert_string_equal(json_string_value(json_object_get(json_object_get(mr, "period"), "end")),
                        "2026-12-31");
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(g, "measureScore"), "value")), 350);
    json_t *st = json_object_get(json_array_get(json_object_get(g, "stratifier"), 0), "stratum");
    assert_int_equal(json_array_size(st), 2);
    json_t *c0 = json_array_get(json_object_get(json_array_get(st, 0), "component"), 0);
    assert_string_equal(json_string_value(json_object_get(json_object_get(c0, "value"), "text")),
                        "compulsory");
    assert_string_equal(
        json_string_value(json_object_get(
            json_array_get(json_object_get(json_object_get(c0, "value"), "coding"), 0), "code")),
        "COMPULSORY");
    json_decref(b);
    free(s);
    export_mapping_destroy(&m);
    /* a month's period is its first and last day; no mapping: the urn */
    req mq = {EXPORT_FHIR, EXPORT_OWN, "34301", "202602", NULL, true, NULL};
    s = ok(f, &mq);
    b = json_loads(s, 0, NULL);
    g = fhir_group(b, 0, &mr);
    assert_string_equal(json_string_value(json_object_get(json_object_get(mr, "period"), "end")),
                        "2026-02-28");
    assert_string_equal(json_string_value(json_object_get(mr, "measure")),
                        "urn:tiersync:drug-treatment:measure:COUNSELLING_POINTS");
    assert_null(json_object_get(g, "stratifier")); /* no categories: the group's count only */
    assert_int_equal(json_integer_value(json_object_get(
                         json_array_get(json_object_get(g, "population"), 0), "count")),
                     7);
    json_decref(b);
    free(s);
}

/* Without a token every count is rounded by its key, a FHIR group's count
 * from its exact sum: 34302's 3 (key 21) is 5; nothing is left out. */
static void test_fhir_xlsx_rounded(void **state)
{
    fx *f = *state;
    req q = {EXPORT_FHIR, EXPORT_OWN, "343", "2026", "REACHED", false, NULL};
    char *s = ok(f, &q);
    json_t *b = json_loads(s, 0, NULL), *mr;
    assert_int_equal(json_array_size(json_object_get(b, "entry")), 2);
    json_t *g = fhir_group(b, 1, &mr);
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(mr, "subject"), "reference")),
        "Location/34302");
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(g, "measureScore"), "value")), 5);
    json_decref(b);
    free(s);
    /* nothing to report is an empty Bundle, without an (empty) entry array */
    req none = {EXPORT_FHIR, EXPORT_OWN, "34302", "2025", NULL, true, NULL};
    s = ok(f, &none);
    b = json_loads(s, 0, NULL);
    assert_non_null(b);
    assert_null(json_object_get(b, "entry"));
    json_decref(b);
    free(s);
    /* xlsx: a zip (the workbook) */
    req x = {EXPORT_XLSX, EXPORT_TOTAL, "343", "2026", NULL, false, NULL};
    s = ok(f, &x);
    assert_memory_equal(s, "PK\x03\x04", 4);
    free(s);
}

static void test_parsers(void **state)
{
    (void)state;
    export_format fm;
    export_values v;
    ts_err e = {0};
    assert_int_equal(export_format_parse("adx", &fm, &e), TS_OK);
    assert_int_equal(fm, EXPORT_ADX);
    assert_int_equal(export_format_parse("xlsx", &fm, &e), TS_OK);
    assert_int_equal(export_values_default(fm), EXPORT_TOTAL);
    assert_int_equal(export_format_parse("fhir", &fm, &e), TS_OK);
    assert_int_equal(export_values_default(fm), EXPORT_OWN);
    assert_string_equal(export_content_type(fm), "application/fhir+json; charset=utf-8");
    assert_int_equal(export_format_parse("pdf", &fm, &e), TS_EINPUT);
    assert_non_null(strstr(e.msg, "csv, dhis2, adx, xlsx or fhir"));
    assert_int_equal(export_values_parse("total", &v, &e), TS_OK);
    assert_int_equal(v, EXPORT_TOTAL);
    assert_int_equal(export_values_parse("all", &v, &e), TS_EINPUT);
    assert_string_equal(export_content_type(EXPORT_ADX), "application/adx+xml; charset=utf-8");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_csv_own_and_total, setup, teardown),
        cmocka_unit_test_setup_teardown(test_period_selection, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dhis2_shape, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mapping_applied, setup, teardown),
        cmocka_unit_test_setup_teardown(test_adx_shape, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rounded_exports, setup, teardown),
        cmocka_unit_test_setup_teardown(test_csv_no_formulas, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ratio_exports, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mapping_refusals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fhir_shape, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fhir_xlsx_rounded, setup, teardown),
        cmocka_unit_test(test_parsers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
