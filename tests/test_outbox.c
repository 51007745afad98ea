/* test_outbox.c: the child side of the release window and of checkpoints
 * (outbox.c, store_cells.c): a node's own record-derived changes wait in
 * table held while values leave at once; a release takes them all into
 * one delta stamped with the release time; a checkpoint continues the
 * chain with the contribution the parent holds (nothing held or pending),
 * and a resync snapshot leaves held changes held. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "outbox.h"
#include "delta.h"

#define SELF "34301"
#define MONTH "202606"

typedef struct {
    char dir[512];
    node_t n;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "%s", tu_tmpdir("outbox"));
    ts_config cfg;
    ts_err e = {0};
    uint8_t pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
    char hex[2 * sizeof pk + 1];
    crypto_sign_keypair(pk, sk);
    ts_hex(pk, sizeof pk, hex);
    config_defaults(&cfg, f->dir);
    assert_int_equal(config_set(&cfg, "node", "code", SELF, &e), TS_OK);
    assert_int_equal(config_set(&cfg, "node", "catalog", tu_catalog_path(), &e), TS_OK);
    assert_int_equal(config_set(&cfg, "parent", "endpoint", "tcp://127.0.0.1:1", &e), TS_OK);
    assert_int_equal(config_set(&cfg, "parent", "key", hex, &e), TS_OK);
    assert_int_equal(config_write(&cfg, &e), TS_OK);
    assert_int_equal(node_open(&f->n, f->dir, 0, &e), TS_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    node_close(&f->n);
    tu_rmrf(f->dir);
    free(f);
    return 0;
}

typedef struct {
    const char *indicator, *options;
    int64_t d;
    bool records; /* as agg_apply writes a record's change */
} change;

static int change_txn(store_t *s, MDB_txn *txn, void *ctx, ts_err *e)
{
    const change *c = ctx;
    ts_cell cell;
    store_cells w;
    assert_int_equal(cell_set(&cell, SELF, c->indicator, MONTH, c->options, NULL), TS_OK);
    store_cells_begin(&w, s, txn);
    w.records = c->records;
    int rc = store_cells_add(&w, NULL, &cell, c->d, e);
    store_cells_end(&w);
    return rc;
}

static void apply_change(fixture *f, const char *indicator, const char *options, int64_t d,
                         bool records)
{
    change c = {indicator, options, d, records};
    ts_err e = {0};
    assert_int_equal(store_write(f->n.store, change_txn, &c, &e), TS_OK);
}

static uint64_t count(fixture *f, store_db db)
{
    MDB_txn *txn;
    ts_err e = {0};
    assert_int_equal(store_read_begin(f->n.store, &txn, &e), TS_OK);
    uint64_t n = store_count(f->n.store, txn, db);
    store_read_end(txn);
    return n;
}

static uint64_t meta(fixture *f, const char *key)
{
    MDB_txn *txn;
    ts_err e = {0};
    assert_int_equal(store_read_begin(f->n.store, &txn, &e), TS_OK);
    uint64_t v = store_meta_u64(f->n.store, txn, key);
    store_read_end(txn);
    return v;
}

/* The body of outbox[seq] (free with tiersync__delta_body__free_unpacked). */
static Tiersync__DeltaBody *body_at(fixture *f, uint64_t seq)
{
    uint8_t *data;
    size_t len;
    ts_err e = {0};
    assert_int_equal(outbox_get(&f->n, seq, &data, &len, &e), TS_OK);
    Tiersync__Envelope *env = tiersync__envelope__unpack(NULL, len, data);
    assert_non_null(env);
    assert_int_equal(env->msg_case, TIERSYNC__ENVELOPE__MSG_DELTA);
    Tiersync__DeltaBody *b =
        tiersync__delta_body__unpack(NULL, env->delta->body.len, env->delta->body.data);
    assert_non_null(b);
    tiersync__envelope__free_unpacked(env, NULL);
    free(data);
    return b;
}

/* The chain hash of outbox[seq]'s body. */
static void hash_at(fixture *f, uint64_t seq, uint8_t out[DELTA_HASH_BYTES])
{
    uint8_t *data;
    size_t len;
    ts_err e = {0};
    assert_int_equal(outbox_get(&f->n, seq, &data, &len, &e), TS_OK);
    Tiersync__Envelope *env = tiersync__envelope__unpack(NULL, len, data);
    assert_non_null(env);
    delta_hash(env->delta->body.data, env->delta->body.len, out);
    tiersync__envelope__free_unpacked(env, NULL);
    free(data);
}

/* The value body b carries for indicator (0 when absent). */
static int64_t carried(const Tiersync__DeltaBody *b, const char *indicator)
{
    for (size_t i = 0; i < b->n_cells; i++)
        if (!strcmp(b->cells[i]->indicator, indicator))
            return b->cells[i]->value;
    return 0;
}

/* Flushes, releasing what is held when release; returns how many were. */
static size_t flush(fixture *f, bool release, bool want_made)
{
    bool made;
    ts_err e = {0};
    outbox_release r = {0, 0};
    assert_int_equal(outbox_flush(&f->n, release ? &r : NULL, &made, &e), TS_OK);
    assert_int_equal(made, want_made);
    if (release)
        assert_int_equal(r.at_ms, (int64_t)meta(f, OUTBOX_META_RELEASE));
    return r.cells;
}

static void records_wait_for_the_release(void **state)
{
    fixture *f = *state;
    assert_int_equal(flush(f, true, false), 0); /* nothing to send: the window still moves on */
    uint64_t first_release = meta(f, OUTBOX_META_RELEASE);
    assert_true(first_release > 0);
    apply_change(f, "PERSONS_MANAGED", "age_band=30-39,sex=M", 1, true);
    apply_change(f, "PERSONS_MANAGED", "age_band=30-39,sex=M", 1, true);
    apply_change(f, "PERSONS_MANAGED", "age_band=40-49,sex=F", 1, true);
    apply_change(f, "COUNSELLING_POINTS", "", 4, false);
    assert_int_equal(count(f, DB_HELD), 2);
    assert_int_equal(count(f, DB_PENDING), 1);
    /* a flush between releases: the value alone */
    flush(f, false, true);
    Tiersync__DeltaBody *b = body_at(f, 1);
    assert_int_equal(b->n_cells, 1);
    assert_int_equal(carried(b, "COUNSELLING_POINTS"), 4);
    tiersync__delta_body__free_unpacked(b, NULL);
    assert_int_equal(count(f, DB_HELD), 2);
    /* the release: every held change in one delta, stamped with the release time */
    apply_change(f, "PERSONS_MANAGED", "age_band=40-49,sex=F", -1, true);
    apply_change(f, "PERSONS_MANAGED", "age_band=40-49,sex=F", 1, true);
    assert_int_equal(flush(f, true, true), 2);
    assert_int_equal(count(f, DB_HELD), 0);
    assert_int_equal(count(f, DB_PENDING), 0);
    b = body_at(f, 2);
    assert_int_equal(b->n_cells, 2);
    assert_int_equal(b->created_ms, (int64_t)meta(f, OUTBOX_META_RELEASE));
    assert_true(meta(f, OUTBOX_META_RELEASE) >= first_release);
    tiersync__delta_body__free_unpacked(b, NULL);
}

static void checkpoint_leaves_held_and_pending_be(void **state)
{
    fixture *f = *state;
    apply_change(f, "PERSONS_MANAGED", "age_band=30-39,sex=M", 3, true);
    apply_change(f, "COUNSELLING_POINTS", "", 4, false);
    flush(f, true, true); /* seq 1: both sent, not acknowledged */
    apply_change(f, "PERSONS_MANAGED", "age_band=30-39,sex=M", 2, true); /* held */
    apply_change(f, "COUNSELLING_POINTS", "", 1, false);                 /* pending */
    uint64_t first;
    ts_err e = {0};
    assert_int_equal(outbox_checkpoint(&f->n, &first, &e), TS_OK);
    assert_int_equal(first, 2);
    assert_true(meta(f, OUTBOX_META_CHECKPOINT) > 0);
    Tiersync__DeltaBody *b = body_at(f, 2);
    assert_true(b->snapshot);
    assert_int_equal(carried(b, "PERSONS_MANAGED"), 3); /* what seq 1 gave the parent */
    assert_int_equal(carried(b, "COUNSELLING_POINTS"), 4);
    uint8_t h1[DELTA_HASH_BYTES];
    hash_at(f, 1, h1);
    assert_int_equal(b->prev_hash.len, DELTA_HASH_BYTES); /* continues the chain after seq 1 */
    assert_memory_equal(b->prev_hash.data, h1, DELTA_HASH_BYTES);
    tiersync__delta_body__free_unpacked(b, NULL);
    assert_int_equal(count(f, DB_OUTBOX), 2);
    assert_int_equal(count(f, DB_HELD), 1);
    assert_int_equal(count(f, DB_PENDING), 1);
    /* after it, pending still leaves as a delta; held waits for its release */
    flush(f, false, true);
    b = body_at(f, 3);
    assert_int_equal(b->n_cells, 1);
    assert_int_equal(carried(b, "COUNSELLING_POINTS"), 1);
    tiersync__delta_body__free_unpacked(b, NULL);
    /* a resync snapshot replaces the outbox and pending, but held stays held */
    assert_int_equal(outbox_snapshot(&f->n, 0, &first, &e), TS_OK);
    assert_int_equal(first, 4);
    b = body_at(f, 4);
    assert_int_equal(carried(b, "PERSONS_MANAGED"), 3);
    assert_int_equal(carried(b, "COUNSELLING_POINTS"), 5);
    tiersync__delta_body__free_unpacked(b, NULL);
    assert_int_equal(count(f, DB_HELD), 1);
    assert_int_equal(count(f, DB_OUTBOX), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(records_wait_for_the_release, setup, teardown),
        cmocka_unit_test_setup_teardown(checkpoint_leaves_held_and_pending_be, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
