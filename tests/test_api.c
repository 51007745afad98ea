/* test_api.c: the read API on a real store, without sockets: totals and
 * breakdowns, drill-down, series, plan vs actual (TARGET_REACHED vs
 * REACHED), freshness, units, metrics, both views of small-cell protection,
 * parameter refusals, and the access decision (loopback, tokens). */
#include <arpa/inet.h>
#include <jansson.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "http_access.h"
#include "node.h"
#include "testutil.h"

#define DAY_MS (86400LL * 1000)

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
    assert_int_equal(store_apply_cell(s, txn, src, &c, (disclose_fig){v, 0}, &e), TS_OK);
}

static void unit(store_t *s, store_txn *txn, const char *code, const char *level,
                 const char *parent, const char *via)
{
    store_unit u = {0};
    ts_err e = {0};
    snprintf(u.name, sizeof u.name, "Unit %s", code);
    snprintf(u.level, sizeof u.level, "%s", level);
    snprintf(u.parent, sizeof u.parent, "%s", parent);
    snprintf(u.via, sizeof u.via, "%s", via);
    assert_int_equal(store_unit_put(s, txn, code, &u, &e), TS_OK);
}

static void child(store_t *s, store_txn *txn, const char *code, int64_t seen_ms, uint64_t applied,
                  uint64_t refused, uint64_t reported_head)
{
    store_child c = {0};
    ts_err e = {0};
    c.last_seq = applied;
    c.reported_head = reported_head;
    c.last_seen_ms = c.last_applied_ms = seen_ms;
    c.applied = applied;
    c.refused = refused;
    assert_int_equal(store_child_put(s, txn, code, &c, &e), TS_OK);
}

/* 34 province: 343 (34301, 34302), 344 (34401, late), 345 enrolled, never seen,
 * 346 enrolled, catching up. */
static int fill(store_t *s, store_txn *txn, void *ctx, ts_err *e)
{
    (void)ctx, (void)e;
    int64_t now = ts_now_ms();
    unit(s, txn, "34", "province", "", "");
    unit(s, txn, "343", "district", "34", "343");
    unit(s, txn, "344", "district", "34", "344");
    unit(s, txn, "34301", "commune", "343", "343");
    unit(s, txn, "34302", "commune", "343", "343");
    unit(s, txn, "34401", "commune", "344", "344");
    child(s, txn, "343", now, 5, 1, 5);
    child(s, txn, "344", now - 2 * DAY_MS, 9, 0, 9);
    child(s, txn, "345", 0, 0, 0, 0);
    child(s, txn, "346", now, 2, 0, 6); /* its hello said 6: 4 deltas still to come */
    const char *m30 = "age_band=30-39,modality=methadone,sex=M";
    const char *c18 = "age_band=18-29,modality=compulsory,sex=F";
    cell(s, txn, "343", "34301", "IN_TREATMENT", "202603", m30, 7);
    cell(s, txn, "343", "34302", "IN_TREATMENT", "202603", m30, 2);
    cell(s, txn, "344", "34401", "IN_TREATMENT", "202603", m30, 12);
    cell(s, txn, "343", "34301", "IN_TREATMENT", "202603", c18, 3);
    cell(s, txn, "343", "34301", "IN_TREATMENT", "202602", m30, 5);
    cell(s, txn, "343", "343", "TARGET_REACHED", "2026", "modality=compulsory", 90);
    cell(s, txn, "343", "343", "TARGET_REACHED", "2026", "modality=methadone", 120);
    cell(s, txn, "344", "344", "TARGET_REACHED", "2026", "modality=compulsory", 60);
    cell(s, txn, "344", "344", "TARGET_REACHED", "2026", "modality=methadone", 80);
    cell(s, txn, "344", "344", "TARGET_REACHED", "2026", "modality=voluntary_facility", 50);
    cell(s, txn, "344", "344", "TARGET_REACHED", "2026", "modality=voluntary_community", 45);
    cell(s, txn, "343", "34301", "REACHED", "2026", "modality=methadone", 30);
    cell(s, txn, "343", "34301", "REACHED", "2026", "modality=compulsory", 15);
    cell(s, txn, "343", "34302", "REACHED", "2026", "modality=methadone", 3);
    cell(s, txn, "344", "34401", "REACHED", "2026", "modality=compulsory", 40);
    cell(s, txn, "344", "34401", "REACHED", "2026", "modality=methadone", 50);
    cell(s, txn, "343", "343", "STAFF_TRAINED", "2026", "", 4);
    cell(s, txn, "343", "34301", "STAFF_TRAINED", "2026", "", 6);
    ts_err pe = {0};
    assert_int_equal(store_meta_put_u64(s, txn, "head_seq", 10, &pe), TS_OK);
    assert_int_equal(store_meta_put_u64(s, txn, "acked_seq", 7, &pe), TS_OK);
    int64_t one = 1;
    assert_int_equal(store_put(s, txn, DB_PENDING, "a", 1, &one, sizeof one, &pe), TS_OK);
    assert_int_equal(store_put(s, txn, DB_PENDING, "b", 1, &one, sizeof one, &pe), TS_OK);
    return TS_OK;
}

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "%s", tu_tmpdir("api"));
    ts_config c;
    ts_err e = {0};
    config_defaults(&c, f->dir);
    snprintf(c.code, sizeof c.code, "34");
    snprintf(c.name, sizeof c.name, "Tỉnh Thử");
    snprintf(c.level, sizeof c.level, "province");
    c.small_cell_k = 5;
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

/* GET path?query ("a=1&b=2", no escaping) as an exact or protected reader. */
static json_t *get(fx *f, bool exact, const char *path, const char *query, int *status)
{
    api_params p = {0};
    char *q = strdup(query ? query : "");
    char *save = NULL;
    for (char *kv = strtok_r(q, "&", &save); kv; kv = strtok_r(NULL, "&", &save)) {
        char *eq = strchr(kv, '=');
        if (eq)
            *eq = '\0';
        assert_true(api_params_add(&p, kv, eq ? eq + 1 : ""));
    }
    api_response r;
    api_handle(&f->n, exact, path, &p, &r);
    free(q);
    *status = r.status;
    json_error_t je;
    json_t *j = json_loadb(r.body, r.len, 0, &je);
    api_response_free(&r);
    assert_non_null(j);
    return j;
}

static json_t *ok(fx *f, bool exact, const char *path, const char *query)
{
    int status;
    json_t *j = get(f, exact, path, query, &status);
    if (status != 200) {
        const char *why = json_string_value(json_object_get(j, "error"));
        fail_msg("%s?%s: %d %s", path, query ? query : "", status, why ? why : "");
    }
    return j;
}

static void assert_refused(fx *f, const char *path, const char *query, const char *param)
{
    int status;
    json_t *j = get(f, false, path, query, &status);
    assert_int_equal(status, 400);
    assert_string_equal(json_string_value(json_object_get(j, "parameter")), param);
    assert_true(strlen(json_string_value(json_object_get(j, "error"))) > 10);
    json_decref(j);
}

static int64_t ival(json_t *v)
{
    if (!json_is_integer(v))
        fail_msg("expected a number, got %s", json_is_string(v) ? json_string_value(v) : "?");
    return (int64_t)json_integer_value(v);
}

static void test_totals_and_breakdown(void **state)
{
    fx *f = *state;
    /* no token: every cell here has key 0 (key mod 5 = 0 < v mod 5), so each
     * figure not a multiple of 5 rounds up: a sum from its exact value */
    json_t *j = ok(f, false, "/api/totals", "indicator=IN_TREATMENT&period=202603&by=modality,sex");
    assert_int_equal(ival(json_object_get(j, "total")), 25);
    json_t *mod = json_object_get(json_object_get(j, "breakdown"), "modality");
    assert_int_equal(json_array_size(mod), 4); /* every option, in catalog order */
    assert_string_equal(json_string_value(json_object_get(json_array_get(mod, 0), "option")),
                        "compulsory");
    assert_int_equal(ival(json_object_get(json_array_get(mod, 0), "value")), 5);  /* 3 */
    assert_int_equal(ival(json_object_get(json_array_get(mod, 1), "value")), 25); /* 21 */
    assert_int_equal(ival(json_object_get(json_array_get(mod, 2), "value")), 0);
    json_t *sex = json_object_get(json_object_get(j, "breakdown"), "sex");
    assert_int_equal(ival(json_object_get(json_array_get(sex, 0), "value")), 25); /* M: 21 */
    assert_int_equal(ival(json_object_get(json_array_get(sex, 1), "value")), 5);  /* F: 3 */
    assert_string_equal(json_string_value(json_object_get(j, "access")), "rounded");
    assert_int_equal(json_array_size(json_object_get(j, "cells")), 2);
    json_decref(j);
    j = ok(f, false, "/api/totals",
           "unit=343&indicator=IN_TREATMENT&period=202603&options=modality=methadone");
    assert_int_equal(ival(json_object_get(j, "total")), 10); /* 9 */
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(j, "options"), "modality")), "methadone");
    json_decref(j);
    j = ok(f, false, "/api/totals", "unit=34301"); /* every indicator and period: no total */
    assert_null(json_object_get(j, "total"));
    assert_int_equal(json_array_size(json_object_get(j, "cells")), 6);
    json_decref(j);
}

/* The same cells seen with and without a token: commune 34302 holds 2. */
static void test_small_cells_both_views(void **state)
{
    fx *f = *state;
    json_t *p = ok(f, false, "/api/totals", "unit=34302&indicator=IN_TREATMENT&period=202603");
    json_t *x = ok(f, true, "/api/totals", "unit=34302&indicator=IN_TREATMENT&period=202603");
    assert_int_equal(ival(json_object_get(p, "total")), 5);
    assert_int_equal(ival(json_object_get(json_array_get(json_object_get(p, "cells"), 0), "value")),
                     5);
    assert_string_equal(json_string_value(json_object_get(p, "access")), "rounded");
    assert_int_equal(ival(json_object_get(x, "total")), 2);
    assert_string_equal(json_string_value(json_object_get(x, "access")), "exact");
    json_decref(p);
    json_decref(x);
    /* a district's small figure is rounded too */
    p = ok(f, false, "/api/totals", "unit=343&indicator=IN_TREATMENT&period=202603&options=sex=F");
    assert_int_equal(ival(json_object_get(p, "total")), 5);
    json_decref(p);
    /* 5 = k is shown; 0 is shown */
    p = ok(f, false, "/api/totals", "unit=34301&indicator=IN_TREATMENT&period=202602");
    assert_int_equal(ival(json_object_get(p, "total")), 5);
    json_decref(p);
    p = ok(f, false, "/api/totals", "unit=34302&indicator=IN_TREATMENT&period=202602");
    assert_int_equal(ival(json_object_get(p, "total")), 0);
    json_decref(p);
    /* the stored total is untouched by what readers saw */
    p = ok(f, true, "/api/totals", "unit=34302&indicator=IN_TREATMENT&period=202603");
    assert_int_equal(ival(json_object_get(p, "total")), 2);
    json_decref(p);
}

static json_t *find(json_t *arr, const char *key, const char *val)
{
    size_t i;
    json_t *o;
    json_array_foreach (arr, i, o)
        if (!strcmp(json_string_value(json_object_get(o, key)), val))
            return o;
    fail_msg("no %s=%s", key, val);
    return NULL;
}

static void test_children(void **state)
{
    fx *f = *state;
    json_t *j = ok(f, false, "/api/children", "unit=343&indicator=IN_TREATMENT&period=202603");
    json_t *kids = json_object_get(j, "children");
    assert_int_equal(json_array_size(kids), 2);
    assert_int_equal(ival(json_object_get(find(kids, "code", "34301"), "value")), 10);
    assert_int_equal(ival(json_object_get(find(kids, "code", "34302"), "value")), 5); /* 2 */
    assert_true(json_is_true(json_object_get(find(kids, "code", "34302"), "leaf")));
    /* 12, rounded from its exact sum: not 10 + 5 */
    assert_int_equal(ival(json_object_get(json_object_get(j, "unit"), "value")), 15);
    assert_int_equal(ival(json_object_get(json_object_get(j, "unit"), "own")), 0);
    json_decref(j);
    j = ok(f, true, "/api/children", "unit=343&indicator=STAFF_TRAINED&period=2026");
    assert_int_equal(ival(json_object_get(json_object_get(j, "unit"), "value")), 10);
    assert_int_equal(ival(json_object_get(json_object_get(j, "unit"), "own")), 4);
    json_decref(j);
    j = ok(f, false, "/api/children", "indicator=IN_TREATMENT&period=202603");
    kids = json_object_get(j, "children");
    assert_int_equal(json_array_size(kids), 4); /* 345 and 346 never announced a unit */
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(find(kids, "code", "344"), "freshness"), "state")),
                        "late");
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(find(kids, "code", "345"), "freshness"), "state")),
                        "never");
    assert_int_equal(ival(json_object_get(find(kids, "code", "344"), "value")), 15); /* 12 */
    json_decref(j);
}

static void test_series(void **state)
{
    fx *f = *state;
    json_t *j = ok(f, true, "/api/series",
                   "unit=34301&indicator=IN_TREATMENT&from=202601&to=202603");
    json_t *pts = json_object_get(j, "points");
    assert_int_equal(json_array_size(pts), 3);
    assert_string_equal(json_string_value(json_object_get(json_array_get(pts, 0), "period")),
                        "202601");
    assert_int_equal(ival(json_object_get(json_array_get(pts, 0), "value")), 0);
    assert_int_equal(ival(json_object_get(json_array_get(pts, 1), "value")), 5);
    assert_int_equal(ival(json_object_get(json_array_get(pts, 2), "value")), 10);
    json_decref(j);
    j = ok(f, true, "/api/series", "indicator=REACHED&from=2024&to=2026");
    pts = json_object_get(j, "points");
    assert_int_equal(json_array_size(pts), 3);
    assert_int_equal(ival(json_object_get(json_array_get(pts, 2), "value")), 138);
    json_decref(j);
    j = ok(f, true, "/api/series", "indicator=IN_TREATMENT&from=202511&to=202602");
    assert_int_equal(json_array_size(json_object_get(j, "points")), 4); /* over the new year */
    json_decref(j);
    assert_refused(f, "/api/series", "indicator=IN_TREATMENT&from=200001&to=202603", "to");
    assert_refused(f, "/api/series", "indicator=IN_TREATMENT&from=202603&to=202601", "from");
    assert_refused(f, "/api/series", "indicator=REACHED&from=202601", "from");
}

static json_t *plan_row(json_t *plan, const char *modality)
{
    size_t i;
    json_t *r;
    json_array_foreach (json_object_get(plan, "rows"), i, r)
        if (!strcmp(json_string_value(json_object_get(json_object_get(r, "options"), "modality")),
                    modality))
            return r;
    fail_msg("no plan row for %s", modality);
    return NULL;
}

static void test_plan(void **state)
{
    fx *f = *state;
    json_t *j = ok(f, false, "/api/plan", "year=2026");
    json_t *plan = json_array_get(json_object_get(j, "plans"), 0);
    assert_string_equal(json_string_value(json_object_get(plan, "target_indicator")),
                        "TARGET_REACHED");
    assert_string_equal(json_string_value(json_object_get(plan, "actual_indicator")), "REACHED");
    json_t *t = json_object_get(plan, "total");
    assert_int_equal(ival(json_object_get(t, "target")), 445);           /* 150 + 200 + 50 + 45 */
    assert_int_equal(ival(json_object_get(t, "actual")), 140);           /* 138, rounded */
    assert_true(json_real_value(json_object_get(t, "percent")) == 31.5); /* of the rounded */
    json_t *r = plan_row(plan, "compulsory");
    assert_int_equal(ival(json_object_get(r, "target")), 150);
    assert_int_equal(ival(json_object_get(r, "actual")), 55);
    assert_true(json_real_value(json_object_get(r, "percent")) == 36.7); /* rounded */
    r = plan_row(plan, "methadone");
    assert_int_equal(ival(json_object_get(r, "target")), 200);
    assert_int_equal(ival(json_object_get(r, "actual")), 85); /* 83 */
    assert_true(json_real_value(json_object_get(r, "percent")) == 42.5);
    r = plan_row(plan, "voluntary_community");
    assert_int_equal(ival(json_object_get(r, "target")), 45);
    assert_int_equal(ival(json_object_get(r, "actual")), 0);
    /* rows in the catalog's option order */
    assert_string_equal(
        json_string_value(json_object_get(
            json_object_get(json_array_get(json_object_get(plan, "rows"), 0), "options"),
            "modality")),
        "compulsory");
    json_decref(j);
    /* a commune without a plan, actual 3: rounded, and no percent */
    j = ok(f, false, "/api/plan", "unit=34302&year=2026");
    r = plan_row(json_array_get(json_object_get(j, "plans"), 0), "methadone");
    assert_int_equal(ival(json_object_get(r, "actual")), 5);
    assert_true(json_is_null(json_object_get(r, "percent")));
    json_decref(j);
    j = ok(f, true, "/api/plan", "unit=34302&year=2026");
    r = plan_row(json_array_get(json_object_get(j, "plans"), 0), "methadone");
    assert_int_equal(ival(json_object_get(r, "actual")), 3);
    json_decref(j);
    assert_refused(f, "/api/plan", "year=26", "year");
}

static void test_freshness_and_units(void **state)
{
    fx *f = *state;
    json_t *j = ok(f, false, "/api/freshness", NULL);
    json_t *u = json_object_get(j, "units");
    assert_int_equal(json_array_size(u), 7); /* every unit below 34 */
    assert_string_equal(json_string_value(json_object_get(find(u, "code", "343"), "state")),
                        "current");
    json_t *c = find(u, "code", "34401");
    assert_string_equal(json_string_value(json_object_get(c, "state")), "late");
    assert_string_equal(json_string_value(json_object_get(c, "via")), "344");
    assert_false(json_is_true(json_object_get(c, "direct")));
    assert_int_equal(ival(json_object_get(find(u, "code", "344"), "last_seq")), 9);
    assert_string_equal(json_string_value(json_object_get(find(u, "code", "345"), "state")),
                        "never");
    assert_string_equal(json_string_value(json_object_get(find(u, "code", "346"), "state")),
                        "behind");
    assert_int_equal(ival(json_object_get(find(u, "code", "346"), "reported_head")), 6);
    json_t *sum = json_object_get(j, "summary");
    assert_int_equal(ival(json_object_get(sum, "current")), 3);
    assert_int_equal(ival(json_object_get(sum, "late")), 2);
    assert_int_equal(ival(json_object_get(sum, "never")), 1);
    assert_int_equal(ival(json_object_get(sum, "behind")), 1);
    json_decref(j);
    j = ok(f, false, "/api/units", NULL);
    assert_string_equal(json_string_value(json_object_get(j, "root")), "34");
    u = json_object_get(j, "units");
    assert_int_equal(json_array_size(u), 8);
    json_t *d = find(u, "code", "343");
    assert_int_equal(json_array_size(json_object_get(d, "children")), 2);
    assert_false(json_is_true(json_object_get(d, "leaf")));
    assert_true(json_is_true(json_object_get(find(u, "code", "34302"), "leaf")));
    assert_int_equal(ival(json_object_get(find(u, "code", "34302"), "depth")), 2);
    json_decref(j);
    j = ok(f, false, "/api/catalog", NULL);
    json_t *ind = find(json_object_get(j, "indicators"), "code", "TARGET_REACHED");
    assert_string_equal(json_string_value(json_object_get(ind, "target_of")), "REACHED");
    ind = find(json_object_get(j, "indicators"), "code", "PERSONS_MANAGED");
    assert_string_equal(json_string_value(json_object_get(json_object_get(ind, "label"), "vi")),
                        "Số người nghiện có hồ sơ quản lý");
    assert_string_equal(json_string_value(json_object_get(json_object_get(ind, "label"), "en")),
                        "Persons with management files");
    json_decref(j);
    j = ok(f, true, "/api/info", NULL);
    assert_string_equal(json_string_value(json_object_get(j, "code")), "34");
    assert_string_equal(json_string_value(json_object_get(j, "access")), "exact");
    assert_int_equal(ival(json_object_get(j, "small_cell_k")), 5);
    json_decref(j);
}

static void test_refusals(void **state)
{
    fx *f = *state;
    assert_refused(f, "/api/totals", "indicator=NOPE", "indicator");
    assert_refused(f, "/api/totals", "indicator=IN_TREATMENT&period=2026", "period");
    assert_refused(f, "/api/totals", "period=202613", "period");
    assert_refused(f, "/api/totals", "unit=99999", "unit");
    assert_refused(f, "/api/totals", "unit=a|b", "unit");
    assert_refused(f, "/api/totals", "options=sex=M", "options");
    assert_refused(f, "/api/totals", "indicator=IN_TREATMENT&options=kind=other", "options");
    assert_refused(f, "/api/totals", "indicator=IN_TREATMENT&options=sex=X", "options");
    assert_refused(f, "/api/totals", "indicator=IN_TREATMENT&by=sex", "by");
    assert_refused(f, "/api/totals", "colour=red", "colour");
    assert_refused(f, "/api/totals", "unit=34&unit=343", "unit");
    assert_refused(f, "/api/children", "indicator=IN_TREATMENT", "period");
    assert_refused(f, "/api/children", "period=202603", "indicator");
    assert_refused(f, "/api/export", "format=pdf", "format");
    assert_refused(f, "/api/export", "format=csv&values=some", "values");
    int status;
    json_t *j = get(f, false, "/api/nothing", NULL, &status);
    assert_int_equal(status, 404);
    assert_non_null(json_string_value(json_object_get(j, "error")));
    json_decref(j);
}

/* GET /report?query: the page (free it), status 200 asserted. */
static char *report_page(fx *f, bool exact, const char *query)
{
    api_params p = {0};
    char *q = strdup(query);
    char *save = NULL;
    for (char *kv = strtok_r(q, "&", &save); kv; kv = strtok_r(NULL, "&", &save)) {
        char *eq = strchr(kv, '=');
        *eq = '\0';
        assert_true(api_params_add(&p, kv, eq + 1));
    }
    api_response r;
    api_handle(&f->n, exact, "/report", &p, &r);
    free(q);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.content_type, "text/html; charset=utf-8");
    char *page = strndup(r.body, r.len);
    api_response_free(&r);
    return page;
}

static void assert_contains(const char *page, const char *want)
{
    if (!strstr(page, want))
        fail_msg("the report lacks %s", want);
}

static void test_report(void **state)
{
    fx *f = *state;
    char *page = report_page(f, true, "unit=343&period=202603");
    assert_contains(page, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM");
    assert_contains(page, "Số: ........../BC-343");
    assert_contains(page, "<body class=\"portrait\">");
    /* IN_TREATMENT 202603: 343 = 7 + 2 + 3, 34301 = 10, 34302 = 2 (exact) */
    assert_contains(page,
                    "(03/2026)</span></td><td class=\"num\">12</td><td class=\"num\">10"
                    "</td><td class=\"num\">2</td>");
    /* the plan: 210 targeted, 48 reached (30 + 15 + 3), 22.9 % */
    assert_contains(page,
                    "<td class=\"num\">210</td><td class=\"num\">48</td>"
                    "<td class=\"num\">22,9</td>");
    free(page);
    /* without a token: 34302's figure is what the API shows that reader */
    json_t *kids = ok(f, false, "/api/children", "unit=343&indicator=IN_TREATMENT&period=202603");
    json_t *k = find(json_object_get(kids, "children"), "code", "34302");
    char want[96];
    json_t *v = json_object_get(k, "value");
    assert_int_equal(json_integer_value(v), 5); /* 2, rounded */
    snprintf(want, sizeof want, "<td class=\"num\">10</td><td class=\"num\">%lld</td>",
             (long long)json_integer_value(v));
    json_decref(kids);
    page = report_page(f, false, "unit=343&period=202603&lang=en");
    assert_contains(page, "SOCIALIST REPUBLIC OF VIET NAM");
    assert_contains(page, want);
    assert_contains(page, "Counts from records are rounded to multiples of 5");
    free(page);
    /* the province: 344 late, 345 never reported */
    page = report_page(f, true, "period=202603");
    assert_contains(page, "345<br><span class=\"mark\">Chưa báo cáo</span>");
    assert_contains(page, "344<br><span class=\"mark\">Báo cáo trễ</span>");
    free(page);
    assert_refused(f, "/report", "unit=343", "period");
    assert_refused(f, "/report", "period=2026", "period");
    assert_refused(f, "/report", "period=202603&lang=fr", "lang");
    assert_refused(f, "/report", "period=202603&unit=99999", "unit");
}

static void test_metrics(void **state)
{
    fx *f = *state;
    metrics_observe_apply(&f->n.metrics, 300);
    metrics_observe_apply(&f->n.metrics, 20000);
    api_params p = {0};
    api_response r;
    api_handle(&f->n, false, "/metrics", &p, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.content_type, "text/plain; version=0.0.4; charset=utf-8");
    const char *want[] = {
        "tiersync_child_deltas_applied_total{child=\"343\"} 5\n",
        "tiersync_child_deltas_applied_total{child=\"344\"} 9\n",
        "tiersync_child_messages_refused_total{child=\"343\"} 1\n",
        "tiersync_child_late{child=\"344\"} 1\n",
        "tiersync_child_late{child=\"343\"} 0\n",
        "tiersync_child_behind_deltas{child=\"346\"} 4\n",
        "tiersync_child_behind_deltas{child=\"343\"} 0\n",
        "tiersync_unacked_deltas 3\n",
        "tiersync_pending_cells 2\n",
        "tiersync_apply_duration_seconds_bucket{le=\"0.00025\"} 0\n",
        "tiersync_apply_duration_seconds_bucket{le=\"0.0005\"} 1\n",
        "tiersync_apply_duration_seconds_bucket{le=\"0.025\"} 2\n",
        "tiersync_apply_duration_seconds_bucket{le=\"+Inf\"} 2\n",
        "tiersync_apply_duration_seconds_count 2\n",
        "tiersync_apply_duration_seconds_sum 0.020300\n",
        "# TYPE tiersync_apply_duration_seconds histogram\n",
        "tiersync_lmdb_map_size_bytes ",
        "tiersync_lmdb_file_bytes ",
        "tiersync_last_flush_timestamp_seconds 0.000\n",
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        if (!strstr(r.body, want[i]))
            fail_msg("/metrics lacks %s\n%s", want[i], r.body);
    api_response_free(&r);
}

static struct sockaddr_in v4(const char *ip)
{
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    inet_pton(AF_INET, ip, &a.sin_addr);
    return a;
}

static struct sockaddr_in6 v6(const char *ip)
{
    struct sockaddr_in6 a = {0};
    a.sin6_family = AF_INET6;
    inet_pton(AF_INET6, ip, &a.sin6_addr);
    return a;
}

static void test_access(void **state)
{
    (void)state;
    ts_config c;
    config_defaults(&c, "/nonexistent");
    snprintf(c.tokens[c.ntokens++], CONFIG_TOKEN_MAX, "%s", "s3cret-token-for-the-province");
    struct sockaddr_in lo = v4("127.0.0.1"), lo2 = v4("127.8.9.10"), far = v4("10.1.2.3");
    struct sockaddr_in6 lo6 = v6("::1"), mapped = v6("::ffff:127.0.0.1"), far6 = v6("2001:db8::1"),
                        mapped_far = v6("::ffff:10.0.0.1");
    const struct sockaddr *L = (struct sockaddr *)&lo, *F = (struct sockaddr *)&far;
    assert_int_equal(http_access_decide(&c, L, NULL), HTTP_READ_PROTECTED);
    assert_int_equal(http_access_decide(&c, (struct sockaddr *)&lo2, NULL), HTTP_READ_PROTECTED);
    assert_int_equal(http_access_decide(&c, (struct sockaddr *)&lo6, NULL), HTTP_READ_PROTECTED);
    assert_int_equal(http_access_decide(&c, (struct sockaddr *)&mapped, NULL), HTTP_READ_PROTECTED);
    assert_int_equal(http_access_decide(&c, F, NULL), HTTP_DENY_NO_TOKEN);
    assert_int_equal(http_access_decide(&c, (struct sockaddr *)&far6, NULL), HTTP_DENY_NO_TOKEN);
    assert_int_equal(http_access_decide(&c, (struct sockaddr *)&mapped_far, NULL),
                     HTTP_DENY_NO_TOKEN);
    assert_int_equal(http_access_decide(&c, NULL, NULL), HTTP_DENY_NO_TOKEN);
    assert_int_equal(http_access_decide(&c, F, "Bearer s3cret-token-for-the-province"),
                     HTTP_READ_EXACT);
    assert_int_equal(http_access_decide(&c, L, "bearer  s3cret-token-for-the-province "),
                     HTTP_READ_EXACT);
    assert_int_equal(http_access_decide(&c, F, "Bearer s3cret-token-for-the-provinc"),
                     HTTP_DENY_BAD_TOKEN);
    assert_int_equal(http_access_decide(&c, L, "Bearer wrong"), HTTP_DENY_BAD_TOKEN);
    assert_int_equal(http_access_decide(&c, L, "Basic czNjcmV0"), HTTP_DENY_BAD_TOKEN);
    assert_int_equal(http_access_decide(&c, L, "Bearer "), HTTP_DENY_BAD_TOKEN);
    c.ntokens = 0; /* no tokens configured: none is valid */
    assert_int_equal(http_access_decide(&c, F, "Bearer s3cret-token-for-the-province"),
                     HTTP_DENY_BAD_TOKEN);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_totals_and_breakdown, setup, teardown),
        cmocka_unit_test_setup_teardown(test_small_cells_both_views, setup, teardown),
        cmocka_unit_test_setup_teardown(test_children, setup, teardown),
        cmocka_unit_test_setup_teardown(test_series, setup, teardown),
        cmocka_unit_test_setup_teardown(test_plan, setup, teardown),
        cmocka_unit_test_setup_teardown(test_freshness_and_units, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_metrics, setup, teardown),
        cmocka_unit_test_setup_teardown(test_report, setup, teardown),
        cmocka_unit_test(test_access),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
