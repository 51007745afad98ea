/* test_store_pieces.c: a long value kept in pieces that fit a leaf page
 * (store_pieces.c): it reads back byte for byte, in pieces of at most
 * STORE_PIECE_BYTES; a shorter value written over it leaves no piece of the
 * longer behind; a value kept whole (before pieces) still reads; a missing
 * piece is an error, not a shorter value; store_count_prefixes counts
 * values, not pieces; deleting by prefix takes every piece. */
#include <stdlib.h>
#include <string.h>

#include "store_pieces.h"
#include "testutil.h"

#define TABLE DB_OUTBOX

static node_t node;
static char dir[512];

static int setup(void **state)
{
    (void)state;
    tu_node_open(&node, dir, sizeof dir, "pieces", "34101");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    node_close(&node);
    tu_rmrf(dir);
    return 0;
}

typedef struct {
    uint64_t seq;
    const uint8_t *val;
    size_t len;
    bool whole;     /* store_put under the key itself, as before pieces */
    int drop_piece; /* >= 0: delete that piece after writing */
} put_ctx;

static int put_txn(store_t *s, store_txn *txn, void *vctx, ts_err *e)
{
    put_ctx *p = vctx;
    uint8_t k[10];
    ts_put_be64(k, p->seq);
    int rc = p->whole ? store_put(s, txn, TABLE, k, 8, p->val, p->len, e)
                      : store_pieces_put(s, txn, TABLE, k, 8, p->val, p->len, e);
    if (rc == TS_OK && p->drop_piece >= 0) {
        k[8] = 0, k[9] = (uint8_t)p->drop_piece;
        rc = store_del(s, txn, TABLE, k, sizeof k, e);
    }
    return rc;
}

static void put(uint64_t seq, const uint8_t *val, size_t len, bool whole, int drop_piece)
{
    put_ctx p = {seq, val, len, whole, drop_piece};
    ts_err e = {0};
    if (store_write(node.store, put_txn, &p, &e) != TS_OK)
        fail_msg("put: %s", e.msg);
}

static int get(uint64_t seq, uint8_t **out, size_t *len, ts_err *e)
{
    store_txn *txn;
    uint8_t k[8];
    ts_put_be64(k, seq);
    assert_int_equal(store_read_begin(node.store, &txn, e), TS_OK);
    int rc = store_pieces_get(node.store, txn, TABLE, k, sizeof k, out, len, e);
    store_read_end(txn);
    return rc;
}

static void assert_reads(uint64_t seq, const uint8_t *want, size_t len)
{
    uint8_t *got = NULL;
    size_t got_len = 0;
    ts_err e = {0};
    if (get(seq, &got, &got_len, &e) != TS_OK)
        fail_msg("get %llu: %s", (unsigned long long)seq, e.msg);
    assert_int_equal(got_len, len);
    assert_memory_equal(got, want, len);
    free(got);
}

static uint64_t values(void)
{
    store_txn *txn;
    ts_err e = {0};
    assert_int_equal(store_read_begin(node.store, &txn, &e), TS_OK);
    uint64_t n = store_count_prefixes(node.store, txn, TABLE, 8);
    store_read_end(txn);
    return n;
}

static uint8_t *pattern(size_t len)
{
    uint8_t *v = malloc(len);
    for (size_t i = 0; i < len; i++)
        v[i] = (uint8_t)(i * 7 + i / 251);
    return v;
}

static void test_long_value_reads_back_from_pieces(void **state)
{
    (void)state;
    size_t len = 10 * STORE_PIECE_BYTES + 17;
    uint8_t *v = pattern(len);
    put(7, v, len, false, -1);
    put(8, v, 5, false, -1);
    put(9, v, 0, false, -1);
    assert_reads(7, v, len);
    assert_reads(8, v, 5);
    assert_reads(9, v, 0);
    assert_int_equal(tu_count(&node, TABLE), 11 + 1 + 1);
    assert_int_equal(values(), 3);
    free(v);
}

static void test_shorter_value_leaves_no_piece_behind(void **state)
{
    (void)state;
    size_t len = 4 * STORE_PIECE_BYTES;
    uint8_t *v = pattern(len);
    put(3, v, len, false, -1);
    put(4, v, 10, false, -1);
    put(3, v + 1, STORE_PIECE_BYTES + 1, false, -1);
    assert_reads(3, v + 1, STORE_PIECE_BYTES + 1);
    assert_reads(4, v, 10);
    assert_int_equal(tu_count(&node, TABLE), 2 + 1);
    free(v);
}

static void test_value_kept_whole_still_reads(void **state)
{
    (void)state;
    size_t len = 3 * STORE_PIECE_BYTES;
    uint8_t *v = pattern(len);
    put(5, v, len, true, -1);
    assert_reads(5, v, len);
    assert_int_equal(values(), 1);
    put(5, v, 100, false, -1); /* written again: in pieces, the whole one gone */
    assert_reads(5, v, 100);
    assert_int_equal(tu_count(&node, TABLE), 1);
    free(v);
}

static void test_missing_piece_is_an_error(void **state)
{
    (void)state;
    size_t len = 3 * STORE_PIECE_BYTES;
    uint8_t *v = pattern(len);
    put(6, v, len, false, 1);
    uint8_t *got = NULL;
    size_t got_len = 0;
    ts_err e = {0};
    assert_int_equal(get(6, &got, &got_len, &e), TS_ERUNTIME);
    assert_non_null(strstr(e.msg, "piece 1 is missing"));
    memset(&e, 0, sizeof e);
    assert_int_equal(get(60, &got, &got_len, &e), TS_ENOTFOUND);
    free(v);
}

static store_step take_all(const store_val *k, const store_val *v, void *ctx)
{
    (void)k, (void)v, (void)ctx;
    return STORE_TAKE;
}

static int del_txn(store_t *s, store_txn *txn, void *vctx, ts_err *e)
{
    uint8_t k[8];
    ts_put_be64(k, *(uint64_t *)vctx);
    return store_take(s, txn, TABLE, k, sizeof k, take_all, NULL, e);
}

static void test_delete_by_prefix_takes_every_piece(void **state)
{
    (void)state;
    size_t len = 5 * STORE_PIECE_BYTES;
    uint8_t *v = pattern(len);
    put(1, v, len, false, -1);
    put(2, v, len, false, -1);
    uint64_t seq = 1;
    ts_err e = {0};
    assert_int_equal(store_write(node.store, del_txn, &seq, &e), TS_OK);
    assert_int_equal(tu_count(&node, TABLE), 5);
    assert_int_equal(values(), 1);
    assert_reads(2, v, len);
    free(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_long_value_reads_back_from_pieces, setup, teardown),
        cmocka_unit_test_setup_teardown(test_shorter_value_leaves_no_piece_behind, setup, teardown),
        cmocka_unit_test_setup_teardown(test_value_kept_whole_still_reads, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_piece_is_an_error, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delete_by_prefix_takes_every_piece, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
