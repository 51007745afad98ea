/* test_outbox.c: this node's chain of deltas (outbox.c) at a commune with a
 * parent: pending cells become the next delta of the chain in the
 * transaction that clears them, at most max_cells at a time; deltas wait
 * unsigned and are signed as they leave; an ack drops what it covers; a
 * snapshot replaces everything unacknowledged with the whole contribution.
 * The release window: the node's own record-derived changes wait in table
 * held while values leave at once; a release takes them all into one delta
 * stamped with the release time; a checkpoint continues the chain with the
 * contribution the parent holds (nothing held or pending), and a resync
 * snapshot leaves held changes held. */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#include "delta.h"
#include "outbox.h"

#define SELF "34101"
#define MAX_CELLS "3"

static const char *const SETTINGS[] = {
    "parent", "endpoint",  "tcp://127.0.0.1:9", /* never dialled here */
    "parent", "key",       "0000000000000000000000000000000000000000000000000000000000000001",
    "sync",   "max_cells", MAX_CELLS,
    NULL,
};

typedef struct {
    char dir[512];
    node_t n;
} fixture;

/* Five cells of this node's own, one changed twice, one back to zero. */
static const tu_change CHANGES[] = {
    {NULL, SELF, "A", "2024", "", 1}, {NULL, SELF, "B", "2024", "", 2},
    {NULL, SELF, "C", "2024", "", 3}, {NULL, SELF, "D", "2024", "", 4},
    {NULL, SELF, "E", "2024", "", 5}, {NULL, SELF, "B", "2024", "", 10},
    {NULL, SELF, "F", "2024", "", 7}, {NULL, SELF, "F", "2024", "", -7},
};
#define NCHANGES (sizeof CHANGES / sizeof *CHANGES)

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    tu_node_open_with(&f->n, f->dir, sizeof f->dir, "outbox", SELF, SETTINGS);
    tu_node_identity(&f->n);
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

static void head(fixture *f, outbox_head *h)
{
    store_txn *txn;
    ts_err e = {0};
    assert_int_equal(store_read_begin(f->n.store, &txn, &e), TS_OK);
    outbox_head_get(&f->n, txn, h);
    store_read_end(txn);
}

/* outbox[seq]'s body, decoded (free with tiersync__delta_body__free_unpacked);
 * *valid receives whether it carries a valid signature. */
static Tiersync__DeltaBody *body_of(fixture *f, uint64_t seq, bool sign, bool *valid,
                                    uint8_t hash[DELTA_HASH_BYTES])
{
    uint8_t *msg;
    size_t len;
    ts_err e = {0};
    int rc = sign ? outbox_get_signed(&f->n, seq, &msg, &len, &e)
                  : outbox_get(&f->n, seq, &msg, &len, &e);
    if (rc != TS_OK)
        fail_msg("outbox[%llu]: %s", (unsigned long long)seq, e.msg);
    Tiersync__Envelope *env = tiersync__envelope__unpack(NULL, len, msg);
    Tiersync__DeltaBody *b = tu_delta_body(env, f->n.keys.pk, valid, hash);
    for (size_t i = 0; i < b->n_cells; i++)
        assert_string_equal(b->cells[i]->unit, SELF);
    tiersync__envelope__free_unpacked(env, NULL);
    free(msg);
    return b;
}

static bool flush(fixture *f)
{
    bool made = true;
    ts_err e = {0};
    assert_int_equal(outbox_flush(&f->n, NULL, &made, &e), TS_OK);
    return made;
}

/* A flush that releases what is held: returns how many cells it released
 * and checks the release time is the one recorded. */
static size_t release(fixture *f, bool want_made)
{
    bool made;
    ts_err e = {0};
    outbox_release r = {0, 0};
    assert_int_equal(outbox_flush(&f->n, &r, &made, &e), TS_OK);
    assert_int_equal(made, want_made);
    assert_int_equal(r.at_ms, (int64_t)tu_meta_u64(&f->n, OUTBOX_META_RELEASE));
    return r.cells;
}

/* A change of this node's own records, as agg_apply writes it. */
static int record_txn(store_t *s, store_txn *txn, void *ctx, ts_err *e)
{
    const tu_change *c = ctx;
    ts_cell cell;
    store_cells w;
    assert_int_equal(cell_set(&cell, c->unit, c->indicator, c->period, c->options, NULL), TS_OK);
    store_cells_begin(&w, s, txn);
    w.records = true;
    int rc = store_cells_add(&w, NULL, &cell, (disclose_fig){c->d, 0}, e);
    store_cells_end(&w);
    return rc;
}

static void record_change(fixture *f, const char *indicator, int64_t d)
{
    tu_change c = {NULL, SELF, indicator, "2024", "", d};
    ts_err e = {0};
    assert_int_equal(store_write(f->n.store, record_txn, &c, &e), TS_OK);
}

static void value_change(fixture *f, const char *indicator, int64_t d)
{
    const tu_change c = {NULL, SELF, indicator, "2024", "", d};
    tu_apply(&f->n, &c, 1);
}

static void expect_cells(fixture *f, uint64_t seq, bool snapshot, const char *want)
{
    bool sig;
    char text[256];
    Tiersync__DeltaBody *b = body_of(f, seq, false, &sig, NULL);
    assert_int_equal(b->snapshot, snapshot);
    tu_cells_text(b, text, sizeof text);
    assert_string_equal(text, want);
    tiersync__delta_body__free_unpacked(b, NULL);
}

static void test_nothing_pending_makes_nothing(void **state)
{
    fixture *f = *state;
    outbox_head h;
    assert_false(flush(f));
    head(f, &h);
    assert_int_equal(h.seq, 0);
    assert_int_equal(tu_count(&f->n, DB_OUTBOX), 0);
    uint8_t *msg;
    size_t len;
    ts_err e = {0};
    assert_int_equal(outbox_get(&f->n, 1, &msg, &len, &e), TS_ENOTFOUND);
}

/* flush -> delta (max_cells at a time, chained) -> signed as it leaves */
static void test_flush_chains_deltas_of_max_cells(void **state)
{
    fixture *f = *state;
    tu_apply(&f->n, CHANGES, NCHANGES);
    assert_int_equal(tu_count(&f->n, DB_PENDING), 5); /* F summed to nothing */

    assert_true(flush(f));
    outbox_head h1, h2;
    head(f, &h1);
    assert_int_equal(h1.seq, 1);
    assert_int_equal(tu_count(&f->n, DB_PENDING), 2);
    assert_true(flush(f));
    head(f, &h2);
    assert_int_equal(h2.seq, 2);
    assert_int_equal(tu_count(&f->n, DB_PENDING), 0);
    assert_false(flush(f));
    assert_int_equal(tu_count(&f->n, DB_OUTBOX), 2);

    bool sig;
    uint8_t hash[DELTA_HASH_BYTES], zeros[DELTA_HASH_BYTES] = {0}, prev[DELTA_HASH_BYTES];
    char text[256];
    Tiersync__DeltaBody *b = body_of(f, 1, false, &sig, hash);
    assert_false(sig); /* kept unsigned */
    assert_int_equal(b->seq, 1);
    assert_string_equal(b->origin, SELF);
    assert_memory_equal(b->origin_key.data, f->n.keys.pk, 32);
    assert_memory_equal(b->prev_hash.data, zeros, DELTA_HASH_BYTES);
    assert_memory_equal(hash, h1.hash, DELTA_HASH_BYTES);
    assert_false(b->snapshot);
    tu_cells_text(b, text, sizeof text);
    assert_string_equal(text, "A=1 B=12 C=3");
    tiersync__delta_body__free_unpacked(b, NULL);

    b = body_of(f, 2, true, &sig, hash);
    assert_true(sig); /* signed as it leaves */
    assert_int_equal(b->seq, 2);
    assert_memory_equal(b->prev_hash.data, h1.hash, DELTA_HASH_BYTES);
    assert_memory_equal(hash, h2.hash, DELTA_HASH_BYTES);
    tu_cells_text(b, text, sizeof text);
    assert_string_equal(text, "D=4 E=5");
    tiersync__delta_body__free_unpacked(b, NULL);
    assert_true(outbox_prev_hash(&f->n, 2, prev));
    assert_memory_equal(prev, h1.hash, DELTA_HASH_BYTES);
    assert_false(outbox_prev_hash(&f->n, 3, prev));

    /* a later change continues the chain */
    const tu_change more = {NULL, SELF, "A", "2024", "", -1};
    tu_apply(&f->n, &more, 1);
    assert_true(flush(f));
    b = body_of(f, 3, true, &sig, NULL);
    assert_memory_equal(b->prev_hash.data, h2.hash, DELTA_HASH_BYTES);
    tu_cells_text(b, text, sizeof text);
    assert_string_equal(text, "A=-1");
    tiersync__delta_body__free_unpacked(b, NULL);
}

static void test_ack_drops_what_it_covers(void **state)
{
    fixture *f = *state;
    tu_apply(&f->n, CHANGES, NCHANGES);
    assert_true(flush(f));
    assert_true(flush(f));
    ts_err e = {0};
    assert_int_equal(outbox_ack(&f->n, 1, &e), TS_OK);
    uint8_t *msg;
    size_t len;
    assert_int_equal(outbox_get(&f->n, 1, &msg, &len, &e), TS_ENOTFOUND);
    assert_int_equal(outbox_get(&f->n, 2, &msg, &len, &e), TS_OK);
    free(msg);
    assert_int_equal(tu_meta_u64(&f->n, "acked_seq"), 1);
    assert_int_equal(outbox_ack(&f->n, 2, &e), TS_OK);
    assert_int_equal(tu_count(&f->n, DB_OUTBOX), 0);
    outbox_head h;
    head(f, &h);
    assert_int_equal(h.seq, 2); /* the chain goes on from its head */
}

/* A snapshot: the whole contribution from max(head, parent's last) + 1,
 * replacing outbox and pending, chained to the head. */
static void test_snapshot_replaces_unacknowledged(void **state)
{
    fixture *f = *state;
    tu_apply(&f->n, CHANGES, NCHANGES);
    assert_true(flush(f)); /* seq 1 (A B C); D E stay pending */
    outbox_head h1;
    head(f, &h1);
    uint64_t first = 0;
    ts_err e = {0};
    assert_int_equal(outbox_snapshot(&f->n, 5, &first, &e), TS_OK);
    assert_int_equal(first, 6);
    assert_int_equal(tu_count(&f->n, DB_PENDING), 0);
    assert_int_equal(tu_count(&f->n, DB_OUTBOX), 2); /* 5 cells, 3 a delta */
    uint8_t *msg;
    size_t len;
    assert_int_equal(outbox_get(&f->n, 1, &msg, &len, &e), TS_ENOTFOUND);

    bool sig;
    char text[256];
    uint8_t hash6[DELTA_HASH_BYTES];
    Tiersync__DeltaBody *b = body_of(f, 6, true, &sig, hash6);
    assert_true(sig);
    assert_true(b->snapshot);
    assert_memory_equal(b->prev_hash.data, h1.hash, DELTA_HASH_BYTES);
    tu_cells_text(b, text, sizeof text);
    assert_string_equal(text, "A=1 B=12 C=3");
    bool self_announced = false;
    for (size_t i = 0; i < b->n_units; i++)
        self_announced |= !strcmp(b->units[i]->code, SELF) && !b->units[i]->parent[0];
    assert_true(self_announced);
    tiersync__delta_body__free_unpacked(b, NULL);
    b = body_of(f, 7, true, &sig, NULL);
    assert_false(b->snapshot); /* the rest of the snapshot continues its chain */
    assert_memory_equal(b->prev_hash.data, hash6, DELTA_HASH_BYTES);
    tu_cells_text(b, text, sizeof text);
    assert_string_equal(text, "D=4 E=5");
    tiersync__delta_body__free_unpacked(b, NULL);

    /* behind the head, the parent's last does not move it back */
    assert_int_equal(outbox_snapshot(&f->n, 2, &first, &e), TS_OK);
    assert_int_equal(first, 8);
    assert_int_equal(tu_count(&f->n, DB_OUTBOX), 2);
}

static void test_records_wait_for_the_release(void **state)
{
    fixture *f = *state;
    assert_int_equal(release(f, false), 0); /* nothing to send: the window still moves on */
    uint64_t first_release = tu_meta_u64(&f->n, OUTBOX_META_RELEASE);
    assert_true(first_release > 0);
    record_change(f, "R", 1);
    record_change(f, "R", 1);
    record_change(f, "S", 1);
    value_change(f, "V", 4);
    assert_int_equal(tu_count(&f->n, DB_HELD), 2);
    assert_int_equal(tu_count(&f->n, DB_PENDING), 1);
    assert_true(flush(f)); /* between releases: the value alone */
    expect_cells(f, 1, false, "V=4");
    assert_int_equal(tu_count(&f->n, DB_HELD), 2);
    record_change(f, "S", -1);
    record_change(f, "T", 1);
    /* the release: every held change in one delta, stamped with the release time */
    assert_int_equal(release(f, true), 2);
    assert_int_equal(tu_count(&f->n, DB_HELD), 0);
    assert_int_equal(tu_count(&f->n, DB_PENDING), 0);
    expect_cells(f, 2, false, "R=2 T=1");
    bool sig;
    Tiersync__DeltaBody *b = body_of(f, 2, false, &sig, NULL);
    assert_int_equal(b->created_ms, (int64_t)tu_meta_u64(&f->n, OUTBOX_META_RELEASE));
    assert_true(tu_meta_u64(&f->n, OUTBOX_META_RELEASE) >= first_release);
    tiersync__delta_body__free_unpacked(b, NULL);
}

static void test_checkpoint_leaves_held_and_pending_be(void **state)
{
    fixture *f = *state;
    record_change(f, "R", 3);
    value_change(f, "V", 4);
    assert_int_equal(release(f, true), 1); /* seq 1: both sent, not acknowledged */
    outbox_head h1;
    head(f, &h1);
    record_change(f, "R", 2); /* held */
    value_change(f, "V", 1);  /* pending */
    uint64_t first;
    ts_err e = {0};
    assert_int_equal(outbox_checkpoint(&f->n, &first, &e), TS_OK);
    assert_int_equal(first, 2);
    assert_true(tu_meta_u64(&f->n, OUTBOX_META_CHECKPOINT) > 0);
    expect_cells(f, 2, true, "R=3 V=4"); /* what seq 1 gave the parent */
    bool sig;
    Tiersync__DeltaBody *b = body_of(f, 2, false, &sig, NULL);
    assert_memory_equal(b->prev_hash.data, h1.hash, DELTA_HASH_BYTES); /* continues the chain */
    tiersync__delta_body__free_unpacked(b, NULL);
    assert_int_equal(tu_count(&f->n, DB_OUTBOX), 2);
    assert_int_equal(tu_count(&f->n, DB_HELD), 1);
    assert_int_equal(tu_count(&f->n, DB_PENDING), 1);
    /* after it, pending still leaves as a delta; held waits for its release */
    assert_true(flush(f));
    expect_cells(f, 3, false, "V=1");
    /* a resync snapshot replaces the outbox and pending, but held stays held */
    assert_int_equal(outbox_snapshot(&f->n, 0, &first, &e), TS_OK);
    assert_int_equal(first, 4);
    expect_cells(f, 4, true, "R=3 V=5");
    assert_int_equal(tu_count(&f->n, DB_HELD), 1);
    assert_int_equal(tu_count(&f->n, DB_OUTBOX), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_nothing_pending_makes_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_flush_chains_deltas_of_max_cells, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ack_drops_what_it_covers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_snapshot_replaces_unacknowledged, setup, teardown),
        cmocka_unit_test_setup_teardown(test_records_wait_for_the_release, setup, teardown),
        cmocka_unit_test_setup_teardown(test_checkpoint_leaves_held_and_pending_be, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
