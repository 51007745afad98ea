/* test_store_fail.c: a store that fails mid-scan answers an error, never a
 * partial sum.
 *
 * The binary is linked with -Wl,--wrap=mdb_cursor_get, so a read of one
 * table can be made to fail after its first entry (LMDB's MDB_CORRUPTED),
 * as a failing disk would. query_totals then returns QUERY_FAILED; the API
 * must answer 500 naming the problem, not the totals read before it. */
#include <jansson.h>
#include <string.h>

#include "api.h"
#include "node.h"
#include "store_lmdb.h" /* the table whose reads fail, by its LMDB handle */
#include "testutil.h"

#define SELF "343"

static bool armed;
static MDB_dbi failing;

int __real_mdb_cursor_get(MDB_cursor *cur, MDB_val *k, MDB_val *v, MDB_cursor_op op);
int __wrap_mdb_cursor_get(MDB_cursor *cur, MDB_val *k, MDB_val *v, MDB_cursor_op op)
{
    if (armed && op == MDB_NEXT && mdb_cursor_dbi(cur) == failing)
        return MDB_CORRUPTED;
    return __real_mdb_cursor_get(cur, k, v, op);
}

static node_t node;
static char dir[512];

static int setup(void **state)
{
    (void)state;
    tu_node_open(&node, dir, sizeof dir, "storefail", SELF);
    tu_node_identity(&node);
    const tu_change own[] = {
        {NULL, SELF, "STAFF_TRAINED", "2025", "", 4},
        {NULL, SELF, "STAFF_TRAINED", "2026", "", 6},
    };
    tu_apply(&node, own, 2);
    failing = store_dbi(node.store, DB_TOTALS);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    armed = false;
    node_close(&node);
    tu_rmrf(dir);
    return 0;
}

/* GET /api/totals?unit=SELF as the operator: its status, and the body into *j. */
static int totals(json_t **j)
{
    api_params p = {0};
    assert_true(api_params_add(&p, "unit", SELF));
    api_response r;
    api_handle(&node, true, "/api/totals", &p, &r);
    json_error_t je;
    *j = json_loadb(r.body, r.len, 0, &je);
    assert_non_null(*j);
    int status = r.status;
    api_response_free(&r);
    return status;
}

static void totals_answer_500_when_a_scan_fails(void **state)
{
    (void)state;
    json_t *j;
    assert_int_equal(totals(&j), 200); /* the table reads: both cells */
    assert_int_equal(json_array_size(json_object_get(j, "cells")), 2);
    json_decref(j);

    armed = true; /* the first cell reads, the second does not */
    assert_int_equal(totals(&j), 500);
    armed = false;
    const char *why = json_string_value(json_object_get(j, "error"));
    assert_non_null(why);
    assert_non_null(strstr(why, "the store could not be read while summing totals"));
    assert_null(json_object_get(j, "cells"));
    json_decref(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(totals_answer_500_when_a_scan_fails, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
