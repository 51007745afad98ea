/* test_query.c: reading totals (query.c) at a province: a unit's figures
 * from wherever they are kept (a leaf's are its child's contribution), the
 * filters, the scan of every unit that counts each total once, stopping
 * early, sums, and options as JSON. */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#include "query.h"

static const tu_unit UNITS[] = {
    {"341", "34", "341", false, true, NULL},
    {"34101", "341", "341", true, false, NULL},
    {"342", "34", "342", true, true, NULL},
};

/* What the children sent and this node entered itself. */
static const tu_change CHANGES[] = {
    {"341", "34101", "PATIENTS", "2024", "sex=f", 3},
    {"341", "34101", "PATIENTS", "2024", "sex=m", 4},
    {"341", "34101", "PATIENTS", "2023", "sex=f", 2},
    {"341", "34101", "STAFF", "2024", "", 5},
    {"341", "34101", "STAFF", "2022", "", 6},
    {"341", "34101", "STAFF", "2022", "", -6}, /* back to zero: no total */
    {"341", "341", "STAFF", "2024", "", 1},    /* the district's own */
    {"342", "342", "PATIENTS", "2024", "sex=f", 10},
    {NULL, "34", "STAFF", "2024", "", 1},
};

typedef struct {
    char dir[512];
    node_t n;
    store_txn *txn;
    char seen[2048]; /* what the callback was given, a line per total */
    int calls, stop_after;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    tu_node_open(&f->n, f->dir, sizeof f->dir, "query", "34");
    tu_units_put(&f->n, UNITS, sizeof UNITS / sizeof *UNITS);
    tu_apply(&f->n, CHANGES, sizeof CHANGES / sizeof *CHANGES);
    ts_err e = {0};
    assert_int_equal(store_read_begin(f->n.store, &f->txn, &e), TS_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    store_read_end(f->txn);
    node_close(&f->n);
    tu_rmrf(f->dir);
    free(f);
    return 0;
}

static int record(const ts_cell *c, disclose_fig fig, void *ctx)
{
    fixture *f = ctx;
    int64_t v = fig.v;
    size_t len = strlen(f->seen);
    snprintf(f->seen + len, sizeof f->seen - len, "%s %s %s %s %lld\n", c->unit, c->indicator,
             c->period, c->options[0] ? c->options : "-", (long long)v);
    return ++f->calls == f->stop_after ? 42 : 0;
}

static int add_up(const ts_cell *c, disclose_fig v, void *ctx)
{
    (void)c;
    *(int64_t *)ctx += v.v;
    return 0;
}

static int64_t sum_of(fixture *f, const query_filter *q)
{
    int64_t sum = 0;
    assert_int_equal(query_totals(f->n.store, f->txn, q, add_up, &sum), 0);
    return sum;
}

static const char *run(fixture *f, const char *unit, const char *ind, const char *per,
                       const char *opts)
{
    f->seen[0] = '\0';
    f->calls = 0;
    query_filter q = {unit, ind, per, opts};
    assert_int_equal(query_totals(f->n.store, f->txn, &q, record, f), 0);
    return f->seen;
}

static void test_leaf_unit_from_contribution(void **state)
{
    fixture *f = *state;
    assert_string_equal(run(f, "34101", NULL, NULL, NULL),
                        "34101 PATIENTS 2023 sex=f 2\n"
                        "34101 PATIENTS 2024 sex=f 3\n"
                        "34101 PATIENTS 2024 sex=m 4\n"
                        "34101 STAFF 2024 - 5\n");
    assert_string_equal(run(f, "342", NULL, NULL, NULL), "342 PATIENTS 2024 sex=f 10\n");
}

static void test_rolled_up_units(void **state)
{
    fixture *f = *state;
    assert_string_equal(run(f, "341", NULL, NULL, NULL),
                        "341 PATIENTS 2023 sex=f 2\n"
                        "341 PATIENTS 2024 sex=f 3\n"
                        "341 PATIENTS 2024 sex=m 4\n"
                        "341 STAFF 2024 - 6\n");
    assert_string_equal(run(f, "34", NULL, NULL, NULL),
                        "34 PATIENTS 2023 sex=f 2\n"
                        "34 PATIENTS 2024 sex=f 13\n"
                        "34 PATIENTS 2024 sex=m 4\n"
                        "34 STAFF 2024 - 7\n");
    assert_string_equal(run(f, "343", NULL, NULL, NULL), ""); /* not held */
}

static void test_filters(void **state)
{
    fixture *f = *state;
    assert_string_equal(run(f, "34", "STAFF", NULL, NULL), "34 STAFF 2024 - 7\n");
    assert_string_equal(run(f, "34", "PATIENTS", "2024", NULL),
                        "34 PATIENTS 2024 sex=f 13\n"
                        "34 PATIENTS 2024 sex=m 4\n");
    assert_string_equal(run(f, "34101", NULL, NULL, "sex=f"),
                        "34101 PATIENTS 2023 sex=f 2\n"
                        "34101 PATIENTS 2024 sex=f 3\n");
    assert_string_equal(run(f, "34", "PATIENT", NULL, NULL), ""); /* a prefix is not a name */
    assert_string_equal(run(f, "34", "STAFF", "2022", NULL), ""); /* summed to zero */
    assert_string_equal(run(f, "34", NULL, NULL, ""), "34 STAFF 2024 - 7\n");
}

/* Without a unit: every total once, a leaf's from its contribution and a
 * branch's own contribution entries not again. */
static void test_every_unit_once(void **state)
{
    fixture *f = *state;
    const char *all = run(f, NULL, "PATIENTS", "2024", "sex=f");
    /* the units keeping totals in key order ('1' sorts before '|'), then
     * the leaves */
    assert_string_equal(all,
                        "341 PATIENTS 2024 sex=f 3\n"
                        "34 PATIENTS 2024 sex=f 13\n"
                        "34101 PATIENTS 2024 sex=f 3\n"
                        "342 PATIENTS 2024 sex=f 10\n");
    run(f, NULL, NULL, NULL, NULL);
    assert_int_equal(f->calls, 4 + 4 + 4 + 1);
    query_filter q = {NULL, NULL, NULL, NULL};
    assert_int_equal(sum_of(f, &q), 26 + 15 + 14 + 10);
    query_filter one = {"341", "PATIENTS", NULL, NULL}; /* 341 STAFF left out */
    assert_int_equal(sum_of(f, &one), 9);
}

static void test_stops_when_told(void **state)
{
    fixture *f = *state;
    f->seen[0] = '\0';
    f->stop_after = 2;
    query_filter q = {"34", NULL, NULL, NULL};
    assert_int_equal(query_totals(f->n.store, f->txn, &q, record, f), 42);
    assert_int_equal(f->calls, 2);
    f->calls = 0;
    f->stop_after = 5; /* in the scan of the leaves, after the branches' 4 */
    query_filter all = {NULL, NULL, NULL, NULL};
    assert_int_equal(query_totals(f->n.store, f->txn, &all, record, f), 42);
    assert_int_equal(f->calls, 5);
}

static void test_options_json(void **state)
{
    (void)state;
    json_t *o = query_options_json("age=15-24,sex=f");
    char *s = json_dumps(o, JSON_SORT_KEYS | JSON_COMPACT);
    assert_string_equal(s, "{\"age\":\"15-24\",\"sex\":\"f\"}");
    free(s);
    json_decref(o);
    o = query_options_json("");
    assert_int_equal(json_object_size(o), 0);
    json_decref(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_leaf_unit_from_contribution, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rolled_up_units, setup, teardown),
        cmocka_unit_test_setup_teardown(test_filters, setup, teardown),
        cmocka_unit_test_setup_teardown(test_every_unit_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stops_when_told, setup, teardown),
        cmocka_unit_test(test_options_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
