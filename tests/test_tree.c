/* test_tree.c: the unit tree (tree.c) as a province loads it from its
 * registry and children table: links in code order, depths, leaves, an
 * enrolled child that never reported, a unit whose parent is not held. */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#include "tree.h"

static const tu_unit UNITS[] = {
    {"342", "34", "342", false, true, NULL}, /* registered before its sibling */
    {"341", "34", "341", false, true, NULL},    {"34102", "341", "341", true, false, NULL},
    {"34101", "341", "341", true, false, NULL}, {"34201", "342", "342", true, false, NULL},
    {"55", "99", "342", true, false, NULL}, /* its parent is not held here */
    {"343", NULL, NULL, false, true, NULL}, /* enrolled, never reported */
};

typedef struct {
    char dir[512];
    node_t n;
    tree_t t;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    tu_node_open(&f->n, f->dir, sizeof f->dir, "tree", "34");
    tu_units_put(&f->n, UNITS, sizeof UNITS / sizeof *UNITS);
    store_txn *txn;
    ts_err e = {0};
    assert_int_equal(store_read_begin(f->n.store, &txn, &e), TS_OK);
    assert_int_equal(tree_load(&f->t, f->n.store, txn, &e), TS_OK);
    store_read_end(txn);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    tree_free(&f->t);
    node_close(&f->n);
    tu_rmrf(f->dir);
    free(f);
    return 0;
}

static const tree_unit *unit(const fixture *f, const char *code)
{
    int i = tree_find(&f->t, code);
    if (i < 0)
        fail_msg("unit %s is not in the tree", code);
    return &f->t.units[i];
}

/* The codes of unit's children, in list order, joined by spaces. */
static void children(const fixture *f, const char *code, char *out, size_t cap)
{
    out[0] = '\0';
    for (int c = unit(f, code)->first_child; c >= 0; c = f->t.units[c].next_sibling)
        snprintf(out + strlen(out), cap - strlen(out), "%s%s", out[0] ? " " : "",
                 f->t.units[c].code);
}

static void test_sorted_and_found(void **state)
{
    fixture *f = *state;
    assert_int_equal(f->t.n, 8); /* the seven above and this node's own */
    for (size_t i = 1; i < f->t.n; i++)
        assert_true(strcmp(f->t.units[i - 1].code, f->t.units[i].code) < 0);
    assert_string_equal(f->t.units[f->t.root].code, "34");
    assert_int_equal(tree_find(&f->t, "3410"), -1);
    assert_int_equal(tree_find(&f->t, "99"), -1);
    assert_int_equal(tree_find(&f->t, ""), -1);
}

static void test_links_in_code_order_with_depths(void **state)
{
    fixture *f = *state;
    char buf[128];
    children(f, "34", buf, sizeof buf);
    assert_string_equal(buf, "341 342 343");
    children(f, "341", buf, sizeof buf);
    assert_string_equal(buf, "34101 34102");
    children(f, "342", buf, sizeof buf);
    assert_string_equal(buf, "34201");
    assert_int_equal(unit(f, "34")->nchildren, 3);
    assert_int_equal(unit(f, "341")->nchildren, 2);
    assert_int_equal(unit(f, "34")->depth, 0);
    assert_int_equal(unit(f, "342")->depth, 1);
    assert_int_equal(unit(f, "34102")->depth, 2);
    assert_int_equal(f->t.units[unit(f, "34201")->parent].depth, 1);
    assert_string_equal(f->t.units[unit(f, "34201")->parent].code, "342");
    assert_int_equal(unit(f, "34")->parent, -1);
}

static void test_enrolled_and_announced(void **state)
{
    fixture *f = *state;
    const tree_unit *quiet = unit(f, "343");
    assert_false(quiet->announced);
    assert_true(quiet->enrolled);
    assert_string_equal(quiet->u.parent, "34");
    assert_string_equal(quiet->u.via, "343");
    assert_true(unit(f, "341")->enrolled && unit(f, "341")->announced);
    assert_false(unit(f, "34101")->enrolled);
    assert_true(unit(f, "34101")->announced);
    assert_string_equal(unit(f, "34101")->u.via, "341");
}

static void test_leaves_and_subtrees(void **state)
{
    fixture *f = *state;
    int root = f->t.root, d1 = tree_find(&f->t, "341"), c11 = tree_find(&f->t, "34101");
    int c21 = tree_find(&f->t, "34201"), stray = tree_find(&f->t, "55");
    assert_true(tree_is_leaf(&f->t, c11));
    assert_true(tree_is_leaf(&f->t, tree_find(&f->t, "343")));
    assert_false(tree_is_leaf(&f->t, d1));
    assert_false(tree_is_leaf(&f->t, root));
    assert_false(tree_is_leaf(&f->t, -1));
    assert_false(tree_is_leaf(&f->t, (int)f->t.n));
    assert_true(tree_in_subtree(&f->t, c11, d1));
    assert_true(tree_in_subtree(&f->t, c11, root));
    assert_true(tree_in_subtree(&f->t, d1, d1));
    assert_false(tree_in_subtree(&f->t, c21, d1));
    assert_false(tree_in_subtree(&f->t, d1, c11));
    /* a unit whose parent is not held hangs nowhere */
    assert_int_equal(f->t.units[stray].parent, -1);
    assert_false(tree_in_subtree(&f->t, stray, root));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_sorted_and_found, setup, teardown),
        cmocka_unit_test_setup_teardown(test_links_in_code_order_with_depths, setup, teardown),
        cmocka_unit_test_setup_teardown(test_enrolled_and_announced, setup, teardown),
        cmocka_unit_test_setup_teardown(test_leaves_and_subtrees, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
