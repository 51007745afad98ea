/* test_link_state.c: the one rule for a child's state (never, late, behind,
 * current) at its edges, the children read back as enrolled and heard from,
 * the parent link read from meta, and removal: a plain remove keeps the
 * child's units, a purge forgets them; an unknown child is refused. */
#include <stdio.h>
#include <string.h>

#include "enrol.h"
#include "link_state.h"
#include "testutil.h"

static void test_state_rule(void **state)
{
    (void)state;
    store_child ch = {0};
    assert_int_equal(link_child_state_of(&ch, 1000000, 60), LINK_CHILD_NEVER);
    ch.last_seen_ms = 1000000;
    ch.last_seq = ch.reported_head = 7;
    assert_int_equal(link_child_state_of(&ch, 1000000 + 60000, 60), LINK_CHILD_CURRENT);
    assert_int_equal(link_child_state_of(&ch, 1000000 + 60001, 60), LINK_CHILD_LATE);
    ch.reported_head = 9;
    assert_int_equal(link_child_state_of(&ch, 1000000, 60), LINK_CHILD_BEHIND);
    assert_string_equal(link_child_state_name(LINK_CHILD_BEHIND), "behind");
    assert_string_equal(link_child_state_name(LINK_CHILD_NEVER), "never");
}

typedef struct {
    const char *code;
    uint8_t pk[32];
    int64_t seen_ms;
} add_ctx;

static int add_child(store_t *s, store_txn *txn, void *vctx, ts_err *e)
{
    add_ctx *c = vctx;
    bool existed;
    if (enrol_child(s, txn, c->code, c->pk, &existed, e))
        return e->code;
    store_child ch;
    assert_int_equal(store_child_get(s, txn, c->code, &ch), TS_OK);
    ch.last_seen_ms = c->seen_ms;
    ch.last_seq = 3, ch.reported_head = 5;
    return store_child_put(s, txn, c->code, &ch, e) ||
        store_meta_put_u64(s, txn, LINK_META_HEAD_SEQ, 12, e) ||
        store_meta_put_u64(s, txn, LINK_META_ACKED_SEQ, 10, e);
}

typedef struct {
    char codes[4][TS_CODE_MAX];
    link_child_state states[4];
    uint64_t behind[4];
    int n;
} seen_ctx;

static void on_child(const link_child *c, void *vctx)
{
    seen_ctx *sc = vctx;
    if (sc->n < 4) {
        snprintf(sc->codes[sc->n], TS_CODE_MAX, "%s", c->code);
        sc->states[sc->n] = c->state;
        sc->behind[sc->n++] = c->behind;
    }
}

typedef struct {
    const char *code;
    bool purge;
} remove_ctx;

static int remove_child(store_t *s, store_txn *txn, void *vctx, ts_err *e)
{
    remove_ctx *c = vctx;
    return link_state_remove_child(s, txn, c->code, c->purge, e);
}

static void test_children_and_removal(void **state)
{
    (void)state;
    node_t n;
    char dir[512];
    tu_node_open(&n, dir, sizeof dir, "link_state", "P1");
    tu_node_identity(&n);
    ts_err e = {0};
    int64_t now = ts_now_ms();
    add_ctx a = {"C1", {1}, now}, b = {"C2", {2}, 0};
    assert_int_equal(store_write(n.store, add_child, &a, &e), TS_OK);
    assert_int_equal(store_write(n.store, add_child, &b, &e), TS_OK);

    store_txn *txn;
    assert_int_equal(store_read_begin(n.store, &txn, &e), TS_OK);
    seen_ctx sc = {0};
    assert_int_equal(link_state_children(n.store, txn, now, 60, on_child, &sc, &e), TS_OK);
    link_parent p;
    link_state_parent(n.store, txn, &p);
    link_child one;
    assert_int_equal(link_state_child(n.store, txn, "C9", now, 60, &one), TS_ENOTFOUND);
    store_read_end(txn);
    assert_int_equal(sc.n, 2);
    assert_string_equal(sc.codes[0], "C1");
    assert_int_equal(sc.states[0], LINK_CHILD_BEHIND);
    assert_int_equal(sc.behind[0], 2);
    assert_int_equal(sc.states[1], LINK_CHILD_NEVER);
    assert_int_equal(p.head_seq, 12);
    assert_int_equal(p.unacked, 2);
    assert_false(p.connected);

    remove_ctx r = {"C1", false};
    assert_int_equal(store_write(n.store, remove_child, &r, &e), TS_OK);
    uint64_t units = tu_count(&n, DB_UNITS);
    assert_int_equal(store_write(n.store, remove_child, &r, &e), TS_EINPUT);
    remove_ctx pr = {"C2", true};
    assert_int_equal(store_write(n.store, remove_child, &pr, &e), TS_OK);
    assert_int_equal(tu_count(&n, DB_UNITS), units - 1);
    assert_int_equal(tu_count(&n, DB_CHILDREN), 0);
    node_close(&n);
    tu_rmrf(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_state_rule),
        cmocka_unit_test(test_children_and_removal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
