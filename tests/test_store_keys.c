/* test_store_keys.c: the cell key beside every count in the store: keys add
 * modulo 2^32 through contrib, totals of every level and pending (re-keyed
 * for forward_detail = self); an entry lives while its count or its key is
 * non-zero (a -1 and a +1 of two records leave the count and move the key);
 * an 8-byte value of an older store reads as key 0 and takes a key on its
 * next add; an overflowing count changes nothing; a dropped contribution
 * takes its keys out too. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"
#include "testutil.h"

#define PARENT_KEY "3b6a27bcceb6a42d62a3a8d02a6f0d73653215771de243a63ac048a18b59da29"

static char dir[512];
static store_t *s;

/* Node D (parent configured, forward_detail = self) holding commune C. */
static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "%s", tu_tmpdir("store_keys"));
    ts_config c;
    ts_err e = {0};
    config_defaults(&c, dir);
    snprintf(c.code, sizeof c.code, "D");
    snprintf(c.parent, sizeof c.parent, "tcp://127.0.0.1:1");
    snprintf(c.parent_key, sizeof c.parent_key, PARENT_KEY);
    assert_int_equal(config_set(&c, "parent", "forward_detail", "self", &e), TS_OK);
    assert_int_equal(store_open(&s, &c, &e), TS_OK);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    store_close(&s);
    tu_rmrf(dir);
    return 0;
}

typedef struct {
    const char *source;
    ts_cell cell;
    disclose_fig d;
} add_ctx;

static int do_add(store_t *st, store_txn *txn, void *vctx, ts_err *e)
{
    add_ctx *a = vctx;
    return store_apply_cell(st, txn, a->source, &a->cell, a->d, e);
}

static int add(const char *unit, int64_t v, uint32_t key)
{
    add_ctx a;
    memset(&a, 0, sizeof a);
    a.source = "C";
    a.d = (disclose_fig){v, key};
    ts_err e = {0};
    assert_int_equal(cell_set(&a.cell, unit, "REACHED", "2026", "modality=methadone", &e), TS_OK);
    return store_write(s, do_add, &a, &e);
}

/* The figure at key in db, and whether an entry is there at all. */
static disclose_fig at(store_db db, const char *key, bool *present)
{
    store_txn *txn;
    ts_err e = {0};
    assert_int_equal(store_read_begin(s, &txn, &e), TS_OK);
    store_val v;
    *present = store_get(s, txn, db, key, strlen(key), &v, NULL) == TS_OK;
    disclose_fig f = store_get_fig(s, txn, db, key, strlen(key));
    store_read_end(txn);
    return f;
}

static void expect(store_db db, const char *key, int64_t v, uint32_t k, bool present)
{
    bool there;
    disclose_fig f = at(db, key, &there);
    if (f.v != v || f.key != k || there != present)
        fail_msg("%s: {%lld, %#x}%s, want {%lld, %#x}%s", key, (long long)f.v, f.key,
                 there ? "" : " absent", (long long)v, k, present ? "" : " absent");
}

static const char *const CELL = "C|REACHED|2026|modality=methadone";
static const char *const CONTRIB = "C|C|REACHED|2026|modality=methadone";
static const char *const AT_D = "D|REACHED|2026|modality=methadone";

static int put_unit(store_t *st, store_txn *txn, void *vctx, ts_err *e)
{
    (void)vctx;
    store_unit u = {0};
    snprintf(u.level, sizeof u.level, "commune");
    snprintf(u.parent, sizeof u.parent, "D");
    snprintf(u.via, sizeof u.via, "C");
    return store_unit_put(st, txn, "C", &u, e);
}

static void test_keys_add_and_travel(void **state)
{
    (void)state;
    ts_err e = {0};
    assert_int_equal(store_write(s, put_unit, NULL, &e), TS_OK);
    assert_int_equal(add("C", 1, 0xfffffff0u), TS_OK);
    assert_int_equal(add("C", 1, 0x20), TS_OK);
    expect(DB_CONTRIB, CONTRIB, 2, 0x10, true); /* wrapped modulo 2^32 */
    expect(DB_TOTALS, AT_D, 2, 0x10, true);
    expect(DB_PENDING, AT_D, 2, 0x10, true); /* re-keyed to D, key and all */
    /* one record leaves, another comes: the count stays, the key moves */
    assert_int_equal(add("C", -1, (uint32_t)-0x20), TS_OK);
    assert_int_equal(add("C", 1, 0x7), TS_OK);
    expect(DB_TOTALS, AT_D, 2, 0x10 - 0x20 + 0x7, true);
    expect(DB_PENDING, AT_D, 2, 0x10 - 0x20 + 0x7, true);
    /* count 0 with a key left: the entry stays (its key must travel) */
    assert_int_equal(add("C", -2, 0), TS_OK);
    expect(DB_TOTALS, AT_D, 0, 0x10 - 0x20 + 0x7, true);
    expect(DB_CONTRIB, CONTRIB, 0, 0x10 - 0x20 + 0x7, true);
    /* both 0: gone everywhere */
    assert_int_equal(add("C", 0, (uint32_t) - (0x10 - 0x20 + 0x7)), TS_OK);
    expect(DB_TOTALS, AT_D, 0, 0, false);
    expect(DB_CONTRIB, CONTRIB, 0, 0, false);
    expect(DB_PENDING, AT_D, 0, 0, false);
}

static int put_old(store_t *st, store_txn *txn, void *vctx, ts_err *e)
{
    (void)vctx;
    int64_t old = 41;
    return store_put(st, txn, DB_TOTALS, CELL, strlen(CELL), &old, sizeof old, e);
}

static int add_fig(store_t *st, store_txn *txn, void *vctx, ts_err *e)
{
    return store_add_fig(st, txn, DB_TOTALS, CELL, strlen(CELL), *(disclose_fig *)vctx, NULL, e);
}

static void test_old_values_and_overflow(void **state)
{
    (void)state;
    ts_err e = {0};
    assert_int_equal(store_write(s, put_old, NULL, &e), TS_OK);
    expect(DB_TOTALS, CELL, 41, 0, true); /* 8 bytes: key 0 */
    disclose_fig d = {1, 5};
    assert_int_equal(store_write(s, add_fig, &d, &e), TS_OK);
    expect(DB_TOTALS, CELL, 42, 5, true);
    d = (disclose_fig){INT64_MAX, 9};
    assert_int_equal(store_write(s, add_fig, &d, &e), TS_EINPUT);
    assert_non_null(strstr(e.msg, "64-bit"));
    expect(DB_TOTALS, CELL, 42, 5, true); /* refused whole */
}

static int drop(store_t *st, store_txn *txn, void *vctx, ts_err *e)
{
    (void)vctx;
    return store_drop_contribution(st, txn, "C", e);
}

static void test_drop_takes_keys_out(void **state)
{
    (void)state;
    ts_err e = {0};
    assert_int_equal(store_write(s, put_unit, NULL, &e), TS_OK);
    assert_int_equal(add("C", 3, 0xabc), TS_OK);
    assert_int_equal(add("C", -3, 0), TS_OK); /* count 0, key 0xabc */
    expect(DB_TOTALS, AT_D, 0, 0xabc, true);
    assert_int_equal(store_write(s, drop, NULL, &e), TS_OK);
    expect(DB_TOTALS, AT_D, 0, 0, false);
    expect(DB_CONTRIB, CONTRIB, 0, 0, false);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_keys_add_and_travel, setup, teardown),
        cmocka_unit_test_setup_teardown(test_old_values_and_overflow, setup, teardown),
        cmocka_unit_test_setup_teardown(test_drop_takes_keys_out, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
