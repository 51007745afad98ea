/* test_leaf_totals.c: property test of where totals are kept. A leaf unit's
 * totals are read from its child's contribution, every other unit's from
 * table totals (store.h). A seeded random history — children's changes to
 * any unit of their subtree, new units announced under leaves (which then
 * keep their own totals), snapshots dropping a child's contribution, and
 * this node's own numbers put on a leaf — runs on a real store. After every
 * step each unit's total of each cell, the scans of each unit, and the count
 * of totals must equal a plain reference roll-up of the contributions; and
 * `verify` must find nothing wrong. A unit record written before the leaf
 * field existed still reads, as keeping its own totals. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node.h"
#include "query.h"
#include "testutil.h"
#include "audit_check.h"

#define SELF "P"
#define KIDS 2
#define MAX_UNITS 24
#define CELLS 3
#define STEPS 600

typedef struct {
    char code[TS_CODE_MAX];
    int parent; /* -1: SELF */
    int kid;    /* the child it came through */
} ref_unit;

static node_t node;
static char dir[512];
static ref_unit units[MAX_UNITS];
static int nunits;
/* what each source (a child, or KIDS for this node's own) gave each unit's cell */
static int64_t given[KIDS + 1][MAX_UNITS][CELLS];

static const char *const periods[CELLS] = {"2025", "2026", "2027"};

static ts_cell cell_at(const char *unit, int c)
{
    ts_cell cell;
    ts_err e = {0};
    assert_int_equal(cell_set(&cell, unit, "STAFF_TRAINED", periods[c], "", &e), TS_OK);
    return cell;
}

static const char *kid_code(int k)
{
    return units[k].code;
}

/* True when unit u is w or below it. */
static bool below(int w, int u)
{
    for (; w >= 0; w = units[w].parent)
        if (w == u)
            return true;
    return false;
}

/* The reference roll-up: u == -1 is this node's own unit. */
static int64_t want_total(int u, int c)
{
    int64_t sum = 0;
    for (int s = 0; s <= KIDS; s++)
        for (int w = 0; w < nunits; w++)
            if (u < 0 || below(w, u))
                sum += given[s][w][c];
    return sum;
}

typedef struct {
    int kind; /* 0 add, 1 announce, 2 snapshot drop, 3 own number on a unit */
    int kid, unit, cell;
    int64_t d;
} step;

static int do_step(store_t *s, store_txn *txn, void *vctx, ts_err *e)
{
    const step *st = vctx;
    if (st->kind == 0 || st->kind == 3) {
        ts_cell c = cell_at(units[st->unit].code, st->cell);
        return store_apply_cell(s, txn, st->kind ? NULL : kid_code(st->kid), &c,
                                (disclose_fig){st->d, 0}, e);
    }
    if (st->kind == 2)
        return store_drop_contribution(s, txn, kid_code(st->kid), e);
    /* as apply.c registers an announced unit: new, a leaf; its parent no longer */
    const ref_unit *r = &units[nunits];
    store_unit u = {.leaf = true};
    snprintf(u.parent, sizeof u.parent, "%s", units[r->parent].code);
    snprintf(u.via, sizeof u.via, "%s", kid_code(r->kid));
    if (store_unit_put(s, txn, r->code, &u, e))
        return e->code;
    return store_unit_branch(s, txn, u.parent, e);
}

static void run(step st)
{
    ts_err e = {0};
    if (store_write(node.store, do_step, &st, &e) != TS_OK)
        fail_msg("step %d: %s", st.kind, e.msg);
}

typedef struct {
    int64_t seen[CELLS];
    int rows;
} scan_seen;

static int on_row(const ts_cell *c, disclose_fig f, void *ctx)
{
    scan_seen *s = ctx;
    int64_t v = f.v;
    for (int i = 0; i < CELLS; i++)
        if (!strcmp(c->period, periods[i]))
            s->seen[i] += v;
    s->rows++;
    return 0;
}

static void check_all(int step_no)
{
    store_txn *txn;
    ts_err e = {0};
    assert_int_equal(store_read_begin(node.store, &txn, &e), TS_OK);
    uint64_t nonzero = 0;
    for (int u = -1; u < nunits; u++) {
        const char *code = u < 0 ? SELF : units[u].code;
        scan_seen sc = {{0}, 0};
        query_filter f = {.unit = code};
        query_totals(node.store, txn, &f, on_row, &sc);
        int rows = 0;
        for (int c = 0; c < CELLS; c++) {
            ts_cell cell = cell_at(code, c);
            char key[CELL_KEY_MAX];
            size_t klen = cell_key(&cell, key);
            int64_t want = want_total(u, c);
            if (store_total(node.store, txn, key, klen).v != want || sc.seen[c] != want)
                fail_msg("step %d: unit %s %s: total %lld, scan %lld, want %lld", step_no, code,
                         periods[c], (long long)store_total(node.store, txn, key, klen).v,
                         (long long)sc.seen[c], (long long)want);
            rows += want != 0;
        }
        assert_int_equal(sc.rows, rows);
        nonzero += (uint64_t)rows;
    }
    scan_seen all = {{0}, 0};
    query_filter every = {0};
    query_totals(node.store, txn, &every, on_row, &all);
    assert_int_equal(all.rows, nonzero);
    uint64_t cells;
    assert_int_equal(store_total_cells(node.store, txn, &cells, &e), TS_OK);
    assert_int_equal(cells, nonzero);
    store_read_end(txn);
}

static void check_verify(int step_no)
{
    audit_check_summary sum;
    ts_err e = {0};
    assert_int_equal(audit_check_node(&node, NULL, NULL, NULL, &sum, &e), TS_OK);
    if (sum.problems)
        fail_msg("step %d: verify finds %zu problems", step_no, (size_t)sum.problems);
}

static int enrol(store_t *s, store_txn *txn, void *ctx, ts_err *e)
{
    (void)ctx;
    for (int k = 0; k < KIDS; k++) {
        store_unit u = {.leaf = true}; /* as 'child add' registers it */
        snprintf(u.parent, sizeof u.parent, SELF);
        memcpy(u.via, units[k].code, sizeof u.via);
        if (store_unit_put(s, txn, units[k].code, &u, e))
            return e->code;
    }
    return TS_OK;
}

/* A random unit of kid k's subtree. */
static int unit_of(int k)
{
    int pick[MAX_UNITS], n = 0;
    for (int u = 0; u < nunits; u++)
        if (units[u].kid == k)
            pick[n++] = u;
    return pick[rand() % n];
}

static void random_history(void **state)
{
    (void)state;
    tu_node_open(&node, dir, sizeof dir, "leaf", SELF);
    srand(20261123);
    memset(given, 0, sizeof given);
    for (nunits = 0; nunits < KIDS; nunits++)
        units[nunits] = (ref_unit){.parent = -1, .kid = nunits};
    snprintf(units[0].code, TS_CODE_MAX, "D0");
    snprintf(units[1].code, TS_CODE_MAX, "D1");
    ts_err e = {0};
    assert_int_equal(store_write(node.store, enrol, NULL, &e), TS_OK);
    int kinds[4] = {0};
    for (int i = 1; i <= STEPS; i++) {
        int r = rand() % 100, k = rand() % KIDS;
        step st = {.kind = r < 75 ? 0
                       : r < 87   ? 1
                       : r < 95   ? 2
                                  : 3,
                   .kid = k,
                   .unit = unit_of(k),
                   .cell = rand() % CELLS,
                   .d = rand() % 7 - 3};
        if (st.kind == 1 && nunits == MAX_UNITS)
            st.kind = 0;
        if (st.kind == 1) {
            units[nunits] = (ref_unit){.parent = st.unit, .kid = k};
            snprintf(units[nunits].code, TS_CODE_MAX, "U%d", nunits);
        }
        run(st);
        kinds[st.kind]++;
        if (st.kind == 0)
            given[k][st.unit][st.cell] += st.d;
        else if (st.kind == 1)
            nunits++;
        else if (st.kind == 2)
            memset(given[k], 0, sizeof given[k]);
        else
            given[KIDS][st.unit][st.cell] += st.d;
        check_all(i);
        if (i % 50 == 0)
            check_verify(i);
    }
    for (int i = 0; i < 4; i++) /* the history did each kind of step */
        assert_true(kinds[i] > 5);
    node_close(&node);
    tu_rmrf(dir);
}

static int put_old_unit(store_t *s, store_txn *txn, void *ctx, ts_err *e)
{
    (void)ctx;
    store_unit old = {.leaf = true};
    snprintf(old.parent, sizeof old.parent, SELF);
    snprintf(old.via, sizeof old.via, "D0");
    return store_put(s, txn, DB_UNITS, "D0", 2, &old, offsetof(store_unit, leaf), e);
}

/* A units record of the size before the leaf field: read, not a leaf. */
static void old_unit_record_reads(void **state)
{
    (void)state;
    tu_node_open(&node, dir, sizeof dir, "leafold", SELF);
    store_txn *txn;
    ts_err e = {0};
    assert_int_equal(store_write(node.store, put_old_unit, NULL, &e), TS_OK);
    assert_int_equal(store_read_begin(node.store, &txn, &e), TS_OK);
    store_unit u;
    assert_int_equal(store_unit_get(node.store, txn, "D0", &u), TS_OK);
    assert_string_equal(u.via, "D0");
    assert_false(u.leaf);
    char via[TS_CODE_MAX + 1];
    assert_int_equal(store_totals_at(node.store, txn, "D0", via), DB_TOTALS);
    store_read_end(txn);
    node_close(&node);
    tu_rmrf(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(random_history),
        cmocka_unit_test(old_unit_record_reads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
