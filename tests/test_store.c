/* test_store.c: the LMDB store: opening and reopening, value overwrite giving
 * pending = new - old, roll-ups across three levels of units held by one
 * node, entries vanishing at zero, and a full map: grown when allowed,
 * refused whole (store unchanged and usable) when store.map_max_mb is hit;
 * this node's own adds summed over a write equal them written one by one. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "store.h"
#include "testutil.h"

#define PARENT_KEY "3b6a27bcceb6a42d62a3a8d02a6f0d73653215771de243a63ac048a18b59da29"
#define MIB ((size_t)1 << 20)

static char dir[512];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "%s", tu_tmpdir("store"));
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tu_rmrf(dir);
    return 0;
}

/* A config for code in dir; with a parent when detail is not NULL. */
static ts_config conf(const char *code, const char *detail)
{
    ts_config c;
    ts_err e = {0};
    config_defaults(&c, dir);
    snprintf(c.code, sizeof c.code, "%s", code);
    if (detail) {
        snprintf(c.parent, sizeof c.parent, "tcp://127.0.0.1:1");
        snprintf(c.parent_key, sizeof c.parent_key, PARENT_KEY);
        assert_int_equal(config_set(&c, "parent", "forward_detail", detail, &e), TS_OK);
    }
    return c;
}

static store_t *open_store(const ts_config *c)
{
    store_t *s = NULL;
    ts_err e = {0};
    if (store_open(&s, c, &e) != TS_OK)
        fail_msg("store_open: %s", e.msg);
    return s;
}

static ts_cell mkcell(const char *unit, const char *ind, const char *period, const char *opts)
{
    ts_cell c;
    ts_err e = {0};
    assert_int_equal(cell_set(&c, unit, ind, period, opts, &e), TS_OK);
    return c;
}

/* The int64 under a cell's key in db (0 when absent), and whether present. */
static int64_t get(store_t *s, store_db db, const char *prefix, const ts_cell *c, bool *present)
{
    char key[CELL_KEY_MAX + TS_CODE_MAX + 2], ck[CELL_KEY_MAX];
    cell_key(c, ck);
    snprintf(key, sizeof key, "%s%s", prefix ? prefix : "", ck);
    store_txn *txn;
    ts_err e = {0};
    assert_int_equal(store_read_begin(s, &txn, &e), TS_OK);
    store_val v;
    int rc = store_get(s, txn, db, key, strlen(key), &v, &e);
    int64_t n = 0;
    if (rc == TS_OK) {
        assert_int_equal(v.len, STORE_FIG_BYTES);
        memcpy(&n, v.data, sizeof n);
    } else {
        assert_int_equal(rc, TS_ENOTFOUND);
    }
    if (present)
        *present = rc == TS_OK;
    store_read_end(txn);
    return n;
}

static uint64_t count(store_t *s, store_db db)
{
    store_txn *txn;
    ts_err e = {0};
    assert_int_equal(store_read_begin(s, &txn, &e), TS_OK);
    uint64_t n = store_count(s, txn, db);
    store_read_end(txn);
    return n;
}

typedef struct {
    ts_cell cell;
    int64_t value, old;
} set_ctx;

static int do_set(store_t *s, store_txn *txn, void *vctx, ts_err *e)
{
    set_ctx *c = vctx;
    return store_set_value(s, txn, &c->cell, c->value, &c->old, e);
}

static int64_t set_value(store_t *s, const ts_cell *c, int64_t v)
{
    set_ctx x = {*c, v, -1};
    ts_err e = {0};
    if (store_write(s, do_set, &x, &e) != TS_OK)
        fail_msg("store_set_value: %s", e.msg);
    return x.old;
}

typedef struct {
    const char *source;
    ts_cell cell;
    int64_t d;
} apply_ctx;

static int do_apply(store_t *s, store_txn *txn, void *vctx, ts_err *e)
{
    apply_ctx *a = vctx;
    return store_apply_cell(s, txn, a->source, &a->cell, (disclose_fig){a->d, 0}, e);
}

static void apply(store_t *s, const char *source, const ts_cell *c, int64_t d)
{
    apply_ctx a = {source, *c, d};
    ts_err e = {0};
    if (store_write(s, do_apply, &a, &e) != TS_OK)
        fail_msg("store_apply_cell: %s", e.msg);
}

static void test_open_reopen(void **state)
{
    (void)state;
    ts_config c = conf("12345", NULL);
    store_t *s = open_store(&c);
    assert_string_equal(store_self_code(s), "12345");
    assert_false(store_has_parent(s));
    ts_cell cell = mkcell("12345", "STAFF_TRAINED", "2026", "");
    set_value(s, &cell, 7);
    store_close(&s);
    assert_null(s);
    store_close(&s); /* NULL-safe */

    s = open_store(&c);
    assert_int_equal(get(s, DB_TOTALS, NULL, &cell, NULL), 7);
    assert_int_equal(get(s, DB_LOCAL, NULL, &cell, NULL), 7);
    assert_int_equal(count(s, DB_TOTALS), 1);
    store_close(&s);

    /* a parent configured later: the same environment, now with pending */
    ts_config p = conf("12345", "all");
    s = open_store(&p);
    assert_true(store_has_parent(s));
    assert_int_equal(get(s, DB_TOTALS, NULL, &cell, NULL), 7);
    store_close(&s);
}

static int put_meta_and_unit(store_t *s, store_txn *txn, void *ctx, ts_err *e)
{
    (void)ctx;
    store_unit u = {0};
    snprintf(u.name, sizeof u.name, "Xã Một");
    snprintf(u.parent, sizeof u.parent, "343");
    if (store_meta_put_u64(s, txn, "acked_seq", 41, e) || store_unit_put(s, txn, "12345", &u, e))
        return e->code;
    return TS_OK;
}

static void test_meta_and_units(void **state)
{
    (void)state;
    ts_config c = conf("343", NULL);
    store_t *s = open_store(&c);
    store_txn *txn;
    ts_err e = {0};
    assert_int_equal(store_write(s, put_meta_and_unit, NULL, &e), TS_OK);
    store_close(&s);
    s = open_store(&c);
    assert_int_equal(store_read_begin(s, &txn, &e), TS_OK);
    assert_int_equal(store_meta_u64(s, txn, "acked_seq"), 41);
    assert_int_equal(store_meta_u64(s, txn, "absent"), 0);
    store_unit back;
    assert_int_equal(store_unit_get(s, txn, "12345", &back), TS_OK);
    assert_string_equal(back.name, "Xã Một");
    assert_string_equal(back.parent, "343");
    assert_int_equal(store_unit_get(s, txn, "99999", &back), TS_ENOTFOUND);
    store_read_end(txn);
    store_close(&s);
}

/* value set 5, then 8: pending +8 in all; back to 0: nothing pending. */
static void test_set_value_pending(void **state)
{
    (void)state;
    ts_config c = conf("12345", "all");
    store_t *s = open_store(&c);
    ts_cell cell = mkcell("12345", "TARGET_REACHED", "2026", "modality=methadone");
    bool present;
    assert_int_equal(set_value(s, &cell, 5), 0);
    assert_int_equal(get(s, DB_PENDING, NULL, &cell, NULL), 5);
    assert_int_equal(set_value(s, &cell, 8), 5);
    assert_int_equal(get(s, DB_PENDING, NULL, &cell, NULL), 8);
    assert_int_equal(get(s, DB_TOTALS, NULL, &cell, NULL), 8);
    assert_int_equal(get(s, DB_LOCAL, NULL, &cell, NULL), 8);
    /* the same value again changes nothing */
    assert_int_equal(set_value(s, &cell, 8), 8);
    assert_int_equal(get(s, DB_PENDING, NULL, &cell, NULL), 8);
    /* lower: pending drops by the difference */
    assert_int_equal(set_value(s, &cell, 3), 8);
    assert_int_equal(get(s, DB_PENDING, NULL, &cell, NULL), 3);
    assert_int_equal(set_value(s, &cell, 0), 3);
    get(s, DB_PENDING, NULL, &cell, &present);
    assert_false(present);
    get(s, DB_TOTALS, NULL, &cell, &present);
    assert_false(present);
    get(s, DB_LOCAL, NULL, &cell, &present);
    assert_false(present);
    assert_int_equal(count(s, DB_PENDING), 0);
    assert_int_equal(count(s, DB_TOTALS), 0);

    /* pending survives a reopen, like everything committed */
    set_value(s, &cell, 12);
    store_close(&s);
    s = open_store(&c);
    assert_int_equal(get(s, DB_PENDING, NULL, &cell, NULL), 12);
    store_close(&s);
}

static void test_no_parent_no_pending(void **state)
{
    (void)state;
    ts_config c = conf("34", NULL);
    store_t *s = open_store(&c);
    ts_cell cell = mkcell("34", "STAFF_TRAINED", "2026", "");
    set_value(s, &cell, 9);
    assert_int_equal(get(s, DB_TOTALS, NULL, &cell, NULL), 9);
    assert_int_equal(count(s, DB_PENDING), 0);
    store_close(&s);
}

static int register_units(store_t *s, store_txn *txn, void *ctx, ts_err *e)
{
    (void)ctx;
    store_unit p = {0}, d = {0}, c = {0};
    snprintf(p.name, sizeof p.name, "Tỉnh P"), snprintf(p.level, sizeof p.level, "province");
    snprintf(d.name, sizeof d.name, "Huyện D"), snprintf(d.level, sizeof d.level, "district");
    snprintf(d.parent, sizeof d.parent, "P"), snprintf(d.via, sizeof d.via, "D");
    snprintf(c.name, sizeof c.name, "Xã C"), snprintf(c.level, sizeof c.level, "commune");
    snprintf(c.parent, sizeof c.parent, "D"), snprintf(c.via, sizeof c.via, "D");
    if (store_unit_put(s, txn, "P", &p, e) || store_unit_put(s, txn, "D", &d, e) ||
        store_unit_put(s, txn, "C", &c, e))
        return e->code;
    return TS_OK;
}

/* Node P holds district D (its child) and D's commune C. */
static store_t *three_levels(const char *detail)
{
    ts_config c = conf("P", detail);
    store_t *s = open_store(&c);
    ts_err e = {0};
    assert_int_equal(store_write(s, register_units, NULL, &e), TS_OK);
    return s;
}

static void test_rollup_three_levels(void **state)
{
    (void)state;
    store_t *s = three_levels("all");
    ts_cell atC = mkcell("C", "TARGET_REACHED", "2026", "modality=methadone");
    ts_cell atD = mkcell("D", "TARGET_REACHED", "2026", "modality=methadone");
    ts_cell atP = mkcell("P", "TARGET_REACHED", "2026", "modality=methadone");
    bool present;

    apply(s, "D", &atC, 4);
    assert_int_equal(get(s, DB_TOTALS, NULL, &atC, NULL), 4);
    assert_int_equal(get(s, DB_TOTALS, NULL, &atD, NULL), 4);
    assert_int_equal(get(s, DB_TOTALS, NULL, &atP, NULL), 4);
    assert_int_equal(get(s, DB_CONTRIB, "D|", &atC, NULL), 4);
    assert_int_equal(get(s, DB_PENDING, NULL, &atC, NULL), 4); /* detail kept */
    get(s, DB_PENDING, NULL, &atP, &present);
    assert_false(present);
    assert_int_equal(count(s, DB_LOCAL), 0);
    assert_int_equal(count(s, DB_TOTALS), 3);

    /* D's own value adds to D and P, not to C */
    apply(s, "D", &atD, 10);
    assert_int_equal(get(s, DB_TOTALS, NULL, &atC, NULL), 4);
    assert_int_equal(get(s, DB_TOTALS, NULL, &atD, NULL), 14);
    assert_int_equal(get(s, DB_TOTALS, NULL, &atP, NULL), 14);
    assert_int_equal(get(s, DB_CONTRIB, "D|", &atD, NULL), 10);

    /* P's own value: only P, and it is local, not a child's */
    assert_int_equal(set_value(s, &atP, 100), 0);
    assert_int_equal(get(s, DB_TOTALS, NULL, &atP, NULL), 114);
    assert_int_equal(get(s, DB_TOTALS, NULL, &atD, NULL), 14);
    assert_int_equal(get(s, DB_LOCAL, NULL, &atP, NULL), 100);
    assert_int_equal(get(s, DB_PENDING, NULL, &atP, NULL), 100);

    /* a decrease from C flows up the same way */
    apply(s, "D", &atC, -1);
    assert_int_equal(get(s, DB_TOTALS, NULL, &atC, NULL), 3);
    assert_int_equal(get(s, DB_TOTALS, NULL, &atD, NULL), 13);
    assert_int_equal(get(s, DB_TOTALS, NULL, &atP, NULL), 113);
    assert_int_equal(get(s, DB_PENDING, NULL, &atC, NULL), 3);

    /* other options and periods are other cells */
    ts_cell otherC = mkcell("C", "TARGET_REACHED", "2026", "modality=compulsory");
    apply(s, "D", &otherC, 2);
    assert_int_equal(get(s, DB_TOTALS, NULL, &atP, NULL), 113);
    ts_cell otherP = mkcell("P", "TARGET_REACHED", "2026", "modality=compulsory");
    assert_int_equal(get(s, DB_TOTALS, NULL, &otherP, NULL), 2);
    store_close(&s);
}

static void test_rollup_detail_self(void **state)
{
    (void)state;
    store_t *s = three_levels("self");
    ts_cell atC = mkcell("C", "STAFF_TRAINED", "2026", "");
    ts_cell atD = mkcell("D", "STAFF_TRAINED", "2026", "");
    ts_cell atP = mkcell("P", "STAFF_TRAINED", "2026", "");
    bool present;
    apply(s, "D", &atC, 6);
    apply(s, "D", &atD, 1);
    assert_int_equal(get(s, DB_TOTALS, NULL, &atC, NULL), 6);
    assert_int_equal(get(s, DB_TOTALS, NULL, &atD, NULL), 7);
    assert_int_equal(get(s, DB_TOTALS, NULL, &atP, NULL), 7);
    assert_int_equal(get(s, DB_CONTRIB, "D|", &atC, NULL), 6);
    /* everything leaves re-keyed to this node's own unit */
    assert_int_equal(get(s, DB_PENDING, NULL, &atP, NULL), 7);
    get(s, DB_PENDING, NULL, &atC, &present);
    assert_false(present);
    get(s, DB_PENDING, NULL, &atD, &present);
    assert_false(present);
    assert_int_equal(count(s, DB_PENDING), 1);
    store_close(&s);
}

/* Counts cancel: an entry reaching zero is deleted everywhere; negative
 * intermediate values are kept exactly. */
static void test_zero_and_negative(void **state)
{
    (void)state;
    store_t *s = three_levels("all");
    ts_cell atC = mkcell("C", "COUNSELLING_POINTS", "202603", "");
    ts_cell atP = mkcell("P", "COUNSELLING_POINTS", "202603", "");
    bool present;
    apply(s, "D", &atC, 3);
    apply(s, "D", &atC, -3);
    assert_int_equal(count(s, DB_TOTALS), 0);
    assert_int_equal(count(s, DB_CONTRIB), 0);
    assert_int_equal(count(s, DB_PENDING), 0);

    apply(s, "D", &atC, -2);
    assert_int_equal(get(s, DB_TOTALS, NULL, &atC, NULL), -2);
    assert_int_equal(get(s, DB_TOTALS, NULL, &atP, NULL), -2);
    assert_int_equal(get(s, DB_CONTRIB, "D|", &atC, NULL), -2);
    assert_int_equal(get(s, DB_PENDING, NULL, &atC, NULL), -2);
    apply(s, "D", &atC, 2);
    get(s, DB_TOTALS, NULL, &atC, &present);
    assert_false(present);
    assert_int_equal(count(s, DB_TOTALS), 0);
    assert_int_equal(count(s, DB_CONTRIB), 0);
    assert_int_equal(count(s, DB_PENDING), 0);

    /* a zero change touches nothing */
    apply(s, "D", &atC, 0);
    assert_int_equal(count(s, DB_TOTALS), 0);
    assert_int_equal(count(s, DB_CONTRIB), 0);

    /* a +1/-1 pair vanishes from pending while totals keep the rest */
    apply(s, "D", &atC, 5);
    apply(s, "D", &atC, 1);
    apply(s, "D", &atC, -1);
    assert_int_equal(get(s, DB_PENDING, NULL, &atC, NULL), 5);
    assert_int_equal(get(s, DB_TOTALS, NULL, &atP, NULL), 5);
    store_close(&s);
}

/* ---- a full map ------------------------------------------------------- */

#define BIG_OPTIONS_LEN 160 /* long keys fill pages fast */

typedef struct {
    int first, n; /* cells first .. first+n-1, each +1 */
} fill_ctx;

static ts_cell fill_cell(int i)
{
    ts_cell c;
    memset(&c, 0, sizeof c);
    snprintf(c.unit, sizeof c.unit, "P");
    snprintf(c.indicator, sizeof c.indicator, "STAFF_TRAINED");
    snprintf(c.period, sizeof c.period, "2026");
    memset(c.options, 'o', BIG_OPTIONS_LEN);
    snprintf(c.options + BIG_OPTIONS_LEN, sizeof c.options - BIG_OPTIONS_LEN, "%08d", i);
    return c;
}

static int do_fill(store_t *s, store_txn *txn, void *vctx, ts_err *e)
{
    const fill_ctx *f = vctx;
    for (int i = f->first; i < f->first + f->n; i++) {
        ts_cell c = fill_cell(i);
        if (store_apply_cell(s, txn, NULL, &c, (disclose_fig){1, 0}, e))
            return e->code;
    }
    return TS_OK;
}

static size_t map_size(store_t *s)
{
    store_info info;
    store_info_get(s, &info);
    assert_true(info.map_bytes > 0);
    return info.map_bytes;
}

static ts_config small_map(int initial_mb, int max_mb)
{
    ts_config c = conf("P", NULL);
    c.map_initial_mb = initial_mb;
    c.map_max_mb = max_mb;
    return c;
}

#define FILL_BIG 4000 /* about 3 MiB of keys in totals + local: more than 1 MiB, less than 4 */

/* One transaction larger than the map: the map grows and the write is run
 * again from the start, so every cell is counted once. */
static void test_map_grows_in_one_write(void **state)
{
    (void)state;
    ts_config c = small_map(1, 4);
    store_t *s = open_store(&c);
    assert_int_equal(map_size(s), MIB);
    fill_ctx f = {0, FILL_BIG};
    ts_err e = {0};
    if (store_write(s, do_fill, &f, &e) != TS_OK)
        fail_msg("a write that fits in store.map_max_mb failed: %s", e.msg);
    assert_true(map_size(s) > MIB);
    assert_true(map_size(s) <= 4 * MIB);
    assert_int_equal(count(s, DB_TOTALS), FILL_BIG);
    assert_int_equal(count(s, DB_LOCAL), FILL_BIG);
    for (int i = 0; i < FILL_BIG; i += 397) {
        ts_cell cell = fill_cell(i);
        assert_int_equal(get(s, DB_TOTALS, NULL, &cell, NULL), 1);
    }
    store_close(&s);

    /* reopened with the small initial size, the data is all there and writable */
    s = open_store(&c);
    assert_int_equal(count(s, DB_TOTALS), FILL_BIG);
    fill_ctx more = {FILL_BIG, 10};
    assert_int_equal(store_write(s, do_fill, &more, &e), TS_OK);
    assert_int_equal(count(s, DB_TOTALS), FILL_BIG + 10);
    store_close(&s);
}

/* Many small transactions: each one that meets a full map grows it. */
static void test_map_grows_over_many_writes(void **state)
{
    (void)state;
    ts_config c = small_map(1, 4);
    store_t *s = open_store(&c);
    ts_err e = {0};
    int batches = FILL_BIG / 200;
    for (int b = 0; b < batches; b++) {
        fill_ctx f = {b * 200, 200};
        if (store_write(s, do_fill, &f, &e) != TS_OK)
            fail_msg("batch %d failed: %s", b, e.msg);
    }
    assert_true(map_size(s) > MIB);
    assert_int_equal(count(s, DB_TOTALS), batches * 200);
    store_close(&s);
}

/* At store.map_max_mb a write fails whole, names the setting, and leaves
 * the store as it was and usable. */
static void test_map_full_fails_cleanly(void **state)
{
    (void)state;
    ts_config c = small_map(1, 1);
    store_t *s = open_store(&c);
    ts_err e = {0};
    fill_ctx few = {0, 20};
    assert_int_equal(store_write(s, do_fill, &few, &e), TS_OK);
    ts_cell value = mkcell("P", "STAFF_TRAINED", "2026", "");
    set_value(s, &value, 42);
    uint64_t totals = count(s, DB_TOTALS), local = count(s, DB_LOCAL);
    assert_int_equal(totals, 21);

    fill_ctx big = {1000, FILL_BIG};
    int rc = store_write(s, do_fill, &big, &e);
    assert_int_equal(rc, TS_ERUNTIME);
    assert_int_equal(e.code, TS_ERUNTIME);
    if (!strstr(e.msg, "store.map_max_mb"))
        fail_msg("message '%s' does not name store.map_max_mb", e.msg);
    assert_non_null(strstr(e.msg, "nothing was changed"));
    assert_int_equal(map_size(s), MIB);
    assert_int_equal(count(s, DB_TOTALS), totals);
    assert_int_equal(count(s, DB_LOCAL), local);
    assert_int_equal(get(s, DB_TOTALS, NULL, &value, NULL), 42);
    ts_cell first_big = fill_cell(1000);
    bool present;
    get(s, DB_TOTALS, NULL, &first_big, &present);
    assert_false(present);

    /* still usable: a small write succeeds, and so does a reopen */
    set_value(s, &value, 43);
    fill_ctx one = {20, 1};
    assert_int_equal(store_write(s, do_fill, &one, &e), TS_OK);
    assert_int_equal(count(s, DB_TOTALS), totals + 1);
    store_close(&s);
    s = open_store(&c);
    assert_int_equal(count(s, DB_TOTALS), totals + 1);
    assert_int_equal(get(s, DB_TOTALS, NULL, &value, NULL), 43);
    store_close(&s);
}

/* store_write does not commit when the function refuses. */
static int set_then_refuse(store_t *s, store_txn *txn, void *vctx, ts_err *e)
{
    if (do_set(s, txn, vctx, e))
        return e->code;
    return ts_fail(e, TS_EINPUT, "refused after writing");
}

static void test_refused_write_changes_nothing(void **state)
{
    (void)state;
    ts_config c = conf("12345", "all");
    store_t *s = open_store(&c);
    ts_cell cell = mkcell("12345", "STAFF_TRAINED", "2026", "");
    set_value(s, &cell, 2);
    set_ctx x = {cell, 50, 0};
    ts_err e = {0};
    assert_int_equal(store_write(s, set_then_refuse, &x, &e), TS_EINPUT);
    assert_string_equal(e.msg, "refused after writing");
    assert_int_equal(get(s, DB_TOTALS, NULL, &cell, NULL), 2);
    assert_int_equal(get(s, DB_PENDING, NULL, &cell, NULL), 2);
    store_close(&s);
}

typedef struct {
    char keys[8][CELL_KEY_MAX];
    int n;
} seen;

static int on_scan(const store_val *k, const store_val *v, void *ctx)
{
    (void)v;
    seen *sn = ctx;
    snprintf(sn->keys[sn->n++], CELL_KEY_MAX, "%.*s", (int)k->len, (const char *)k->data);
    return sn->n == 8;
}

static void test_scan_prefix(void **state)
{
    (void)state;
    store_t *s = three_levels(NULL);
    ts_cell a = mkcell("D", "STAFF_TRAINED", "2026", "");
    ts_cell b = mkcell("D", "STAFF_TRAINED", "2025", "");
    ts_cell other = mkcell("DX", "STAFF_TRAINED", "2026", "");
    apply(s, "D", &a, 1);
    apply(s, "D", &b, 1);
    apply(s, NULL, &other, 1);
    store_txn *txn;
    ts_err e = {0};
    assert_int_equal(store_read_begin(s, &txn, &e), TS_OK);
    seen sn = {.n = 0};
    assert_int_equal(store_scan(s, txn, DB_TOTALS, "D|", on_scan, &sn, NULL, NULL), TS_OK);
    assert_int_equal(sn.n, 2);
    assert_string_equal(sn.keys[0], "D|STAFF_TRAINED|2025|");
    assert_string_equal(sn.keys[1], "D|STAFF_TRAINED|2026|");
    sn.n = 0;
    assert_int_equal(store_scan(s, txn, DB_TOTALS, NULL, on_scan, &sn, NULL, NULL), TS_OK);
    assert_int_equal(sn.n, 5); /* D x2, P x2 (rolled up from D), DX (no parent here) */
    store_read_end(txn);
    store_close(&s);
}

#define SUMS_ADDS 40000
#define SUMS_CELLS 20000 /* distinct cells per unit: more sums than held before an early flush */

static ts_cell sums_cell(int i)
{
    ts_cell c = mkcell(i % 3 ? "C" : "D", "STAFF_TRAINED", "2026", "");
    snprintf(c.options, sizeof c.options, "o%05d", (int)(((long)i * 7919) % SUMS_CELLS));
    return c;
}

/* Adds 0 .. SUMS_ADDS-1 in one write, this node's own unit through sums or not. */
static int do_adds(store_t *s, store_txn *txn, void *vctx, ts_err *e)
{
    store_sums *sums = vctx;
    store_cells w;
    store_cells_begin(&w, s, txn);
    w.sums = sums;
    int rc = TS_OK;
    for (int i = 0; i < SUMS_ADDS && rc == TS_OK; i++) {
        ts_cell c = sums_cell(i);
        rc = store_cells_add(&w, "D", &c, (disclose_fig){i % 5 - 2, 0}, e);
    }
    store_cells_end(&w);
    return rc == TS_OK && sums ? store_sums_flush(sums, s, txn, e) : rc;
}

typedef struct {
    char *text;
    size_t len, cap;
} dump;

static int on_dump(const store_val *k, const store_val *v, void *ctx)
{
    dump *d = ctx;
    int64_t n = 0;
    memcpy(&n, v->data, v->len == sizeof n ? sizeof n : 0);
    if (d->len + k->len + 32 > d->cap) {
        d->cap = 2 * (d->len + k->len + 32);
        d->text = realloc(d->text, d->cap);
    }
    d->len += (size_t)sprintf(d->text + d->len, "%.*s=%lld\n", (int)k->len, (const char *)k->data,
                              (long long)n);
    return 0;
}

/* Every entry of totals and pending after the adds, as text. */
static dump adds_result(bool summed)
{
    store_t *s = three_levels("self");
    store_sums *sums = summed ? store_sums_new() : NULL;
    ts_err e = {0};
    assert_int_equal(store_write(s, do_adds, sums, &e), TS_OK);
    store_sums_destroy(&sums);
    dump d = {calloc(1, 1), 0, 1};
    store_txn *txn;
    assert_int_equal(store_read_begin(s, &txn, &e), TS_OK);
    assert_int_equal(store_scan(s, txn, DB_TOTALS, NULL, on_dump, &d, NULL, NULL), TS_OK);
    assert_int_equal(store_scan(s, txn, DB_PENDING, NULL, on_dump, &d, NULL, NULL), TS_OK);
    store_read_end(txn);
    store_close(&s);
    tu_rmrf(dir); /* the next store starts empty */
    assert_int_equal(mkdir(dir, 0700), 0);
    return d;
}

/* This node's own totals and pending summed over a write, flushed early
 * when many and at the end, equal the same adds written one by one. */
static void test_sums_equal_direct_adds(void **state)
{
    (void)state;
    dump direct = adds_result(false), summed = adds_result(true);
    assert_true(direct.len > 0);
    assert_int_equal(summed.len, direct.len);
    assert_memory_equal(summed.text, direct.text, direct.len);
    free(direct.text);
    free(summed.text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_open_reopen, setup, teardown),
        cmocka_unit_test_setup_teardown(test_meta_and_units, setup, teardown),
        cmocka_unit_test_setup_teardown(test_set_value_pending, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_parent_no_pending, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rollup_three_levels, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rollup_detail_self, setup, teardown),
        cmocka_unit_test_setup_teardown(test_zero_and_negative, setup, teardown),
        cmocka_unit_test_setup_teardown(test_map_grows_in_one_write, setup, teardown),
        cmocka_unit_test_setup_teardown(test_map_grows_over_many_writes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_map_full_fails_cleanly, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refused_write_changes_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scan_prefix, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sums_equal_direct_adds, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
