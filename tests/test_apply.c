/* test_apply.c: batches of deltas (apply.c) on a real store. A delta
 * refused halfway through its cells changes nothing while the others of its
 * batch commit; a batch verified while the previous one is still to commit
 * (the hub's pipeline) continues the chains it depends on; a forged delta
 * is refused wherever it sits in a batch; a delta signed
 * as it leaves the outbox is the frame signed at once; an overflow of this
 * node's own total, summed over the batch, refuses only its delta; after a
 * child's key rotation its retired key still answers for the deltas below
 * the rotation's from_seq, and for nothing past it. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apply.h"
#include "delta.h"
#include "rotate.h"

#define SELF "34"

typedef struct {
    const char *code;
    keys_t keys;
    uint64_t seq;
    uint8_t hash[DELTA_HASH_BYTES];
} child;

typedef struct {
    char dir[512];
    node_t n;
    child kids[2];
} fixture;

static int enrol(store_t *s, store_txn *txn, void *ctx, ts_err *e)
{
    fixture *f = ctx;
    store_unit self = {0};
    if (store_unit_put(s, txn, SELF, &self, e))
        return e->code;
    for (int i = 0; i < 2; i++) {
        store_child ch = {0};
        store_unit u = {0};
        memcpy(ch.pk, f->kids[i].keys.pk, sizeof ch.pk);
        snprintf(u.parent, sizeof u.parent, SELF);
        snprintf(u.via, sizeof u.via, "%s", f->kids[i].code);
        u.leaf = true; /* as 'child add' registers it */
        if (store_unit_put(s, txn, f->kids[i].code, &u, e) ||
            store_child_put(s, txn, f->kids[i].code, &ch, e))
            return e->code;
    }
    return TS_OK;
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    tu_node_open(&f->n, f->dir, sizeof f->dir, "apply", SELF);
    ts_err e = {0};
    f->kids[0].code = "341";
    f->kids[1].code = "342";
    for (int i = 0; i < 2; i++)
        crypto_sign_keypair(f->kids[i].keys.pk, f->kids[i].keys.sk);
    assert_int_equal(store_write(f->n.store, enrol, f, &e), TS_OK);
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

/* The child's next delta: value on STAFF_TRAINED 2024 at its own unit, then
 * (if bad) a cell of another child's unit, which only the write transaction
 * can refuse (units may arrive in the same batch); signed by signer. */
static apply_item signed_delta(fixture *f, child *c, int64_t value, bool bad, const keys_t *signer)
{
    uint64_t seq = c->seq + 1;
    delta_builder *b = delta_builder_new(c->code, c->keys.pk, seq, c->hash, f->n.catalog->id,
                                         (uint32_t)f->n.catalog->version, false);
    ts_cell cell;
    assert_int_equal(cell_set(&cell, c->code, "STAFF_TRAINED", "2024", "", NULL), TS_OK);
    delta_add_cell(b, &cell, (disclose_fig){value, 0});
    if (bad) {
        const char *other = c == &f->kids[0] ? f->kids[1].code : f->kids[0].code;
        assert_int_equal(cell_set(&cell, other, "STAFF_TRAINED", "2024", "", NULL), TS_OK);
        delta_add_cell(b, &cell, (disclose_fig){1, 0});
    }
    uint8_t *msg;
    size_t len;
    uint8_t hash[DELTA_HASH_BYTES];
    delta_finish(b, signer, &msg, &len, hash);
    delta_builder_destroy(&b);
    if (!bad && signer == &c->keys) {
        c->seq = seq;
        memcpy(c->hash, hash, sizeof hash);
    }
    return (apply_item){.child = c->code, .data = msg, .len = len};
}

static apply_item next_delta(fixture *f, child *c, int64_t value, bool bad)
{
    return signed_delta(f, c, value, bad, &c->keys);
}

/* STAFF_TRAINED 2024 of unit, as held here. */
static int64_t total(fixture *f, const char *unit)
{
    return tu_total(&f->n, unit, "STAFF_TRAINED", "2024", "");
}

static store_child child_record(fixture *f, const char *code)
{
    store_child ch = {0};
    store_txn *txn;
    ts_err e = {0};
    assert_int_equal(store_read_begin(f->n.store, &txn, &e), TS_OK);
    assert_int_equal(store_child_get(f->n.store, txn, code, &ch), TS_OK);
    store_read_end(txn);
    return ch;
}

static void free_items(apply_item *items, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free((void *)items[i].data);
}

static void refused_midway_changes_nothing(void **state)
{
    fixture *f = *state;
    child *a = &f->kids[0], *b = &f->kids[1];
    apply_item items[3] = {
        next_delta(f, a, 3, false),
        next_delta(f, b, 5, true), /* its first cell is good, its second is not */
        next_delta(f, a, 4, false),
    };
    apply_batch(&f->n, items, 3);
    assert_int_equal(items[0].rc, TS_OK);
    assert_int_equal(items[0].reply.kind, TIERSYNC__ENVELOPE__MSG_ACK);
    assert_int_equal(items[1].rc, TS_EINPUT);
    assert_int_equal(items[1].reply.kind, TIERSYNC__ENVELOPE__MSG_NACK);
    assert_int_equal(items[1].reply.reason, TIERSYNC__REASON__REASON_FOREIGN_UNIT);
    assert_int_equal(items[2].rc, TS_OK);
    assert_int_equal(items[2].reply.seq, 2);
    assert_int_equal(total(f, "341"), 7);
    assert_int_equal(total(f, "342"), 0); /* the good first cell was rolled back too */
    assert_int_equal(total(f, SELF), 7);
    store_child ch = child_record(f, "342");
    assert_int_equal(ch.last_seq, 0);
    assert_int_equal(ch.refused, 1);
    free_items(items, 3);

    /* the refused child then sends its delta right, and it applies */
    apply_item again = next_delta(f, b, 5, false);
    apply_batch(&f->n, &again, 1);
    assert_int_equal(again.rc, TS_OK);
    assert_int_equal(total(f, SELF), 12);
    free_items(&again, 1);
}

/* Both verifying threads take deltas from one queue: whichever checks it,
 * a forged delta late in a big batch is refused and every other applies
 * (the child's own delta of that seq comes right after the forgery). */
static void forged_late_in_a_big_batch_refused(void **state)
{
    fixture *f = *state;
    child *a = &f->kids[0];
    enum { N = 40, FORGED = 37 };
    apply_item items[N];
    for (int i = 0; i < N; i++)
        items[i] = i == FORGED ? signed_delta(f, a, 1, false, &f->kids[1].keys)
                               : next_delta(f, a, 1, false);
    apply_batch(&f->n, items, N);
    for (int i = 0; i < N; i++)
        assert_int_equal(items[i].rc, i == FORGED ? TS_EINPUT : TS_OK);
    assert_int_equal(items[FORGED].reply.reason, TIERSYNC__REASON__REASON_BAD_SIGNATURE);
    assert_int_equal(child_record(f, "341").last_seq, N - 1);
    assert_int_equal(total(f, SELF), N - 1);
    free_items(items, N);
}

static void prepared_while_previous_commits(void **state)
{
    fixture *f = *state;
    child *a = &f->kids[0];
    apply_item first = next_delta(f, a, 2, false), second = next_delta(f, a, 3, false);
    apply_pending *p1 = apply_prepare(&f->n, &first, 1);
    apply_pending *p2 = apply_prepare(&f->n, &second, 1); /* seq 2 before seq 1 committed */
    apply_commit(p1);
    apply_commit(p2);
    assert_int_equal(first.rc, TS_OK);
    assert_int_equal(second.rc, TS_OK);
    assert_int_equal(second.reply.seq, 2);
    assert_int_equal(total(f, SELF), 5);
    assert_int_equal(child_record(f, "341").last_seq, 2);
    free_items(&first, 1);
    free_items(&second, 1);
}

/* Adds to this node's own unit are summed over a batch and written at its
 * end; a total that would leave the 64-bit range is still pinned on the
 * delta that caused it, whether the sum overflows or the write at the end
 * does, and that delta alone is refused. */
static void overflow_of_own_total_refuses_its_delta(void **state)
{
    fixture *f = *state;
    child *a = &f->kids[0], *b = &f->kids[1];
    child b_before = *b;
    apply_item items[3] = {
        next_delta(f, a, INT64_MAX, false),
        next_delta(f, b, 1, false), /* overflows the batch's sum for SELF */
        next_delta(f, a, -5, false),
    };
    apply_batch(&f->n, items, 3);
    assert_int_equal(items[0].rc, TS_OK);
    assert_int_equal(items[1].rc, TS_EINPUT);
    assert_int_equal(items[1].reply.reason, TIERSYNC__REASON__REASON_MALFORMED);
    assert_int_equal(items[2].rc, TS_OK);
    assert_true(total(f, SELF) == INT64_MAX - 5);
    assert_int_equal(total(f, "342"), 0);
    free_items(items, 3);

    *b = b_before; /* its delta was refused: the chain did not move */
    apply_item alone = next_delta(f, b, 6, false); /* overflows as the sums are written */
    apply_batch(&f->n, &alone, 1);
    assert_int_equal(alone.rc, TS_EINPUT);
    assert_int_equal(child_record(f, "342").last_seq, 0);
    assert_true(total(f, SELF) == INT64_MAX - 5);
    free_items(&alone, 1);

    *b = b_before;
    apply_item fits = next_delta(f, b, 5, false);
    apply_batch(&f->n, &fits, 1);
    assert_int_equal(fits.rc, TS_OK);
    assert_true(total(f, SELF) == INT64_MAX);
    assert_int_equal(total(f, "342"), 5);
    free_items(&fits, 1);
}

/* The child's next delta announcing unit code (name, level, under the child)
 * with a value on STAFF_TRAINED 2024 there; the chain advances only if
 * accepted. */
static int announce(fixture *f, child *c, const char *code, const char *name, const char *level,
                    int64_t value, apply_reply *reply)
{
    uint64_t seq = c->seq + 1;
    delta_builder *b = delta_builder_new(c->code, c->keys.pk, seq, c->hash, f->n.catalog->id,
                                         (uint32_t)f->n.catalog->version, false);
    delta_add_unit(b, code, name, level, c->code);
    ts_cell cell;
    assert_int_equal(cell_set(&cell, code, "STAFF_TRAINED", "2024", "", NULL), TS_OK);
    delta_add_cell(b, &cell, (disclose_fig){value, 0});
    uint8_t *msg;
    size_t len;
    uint8_t hash[DELTA_HASH_BYTES];
    delta_finish(b, &c->keys, &msg, &len, hash);
    delta_builder_destroy(&b);
    ts_err e = {0};
    int rc = apply_message(&f->n, c->code, msg, len, reply, &e);
    free(msg);
    if (rc == TS_OK) {
        c->seq = seq;
        memcpy(c->hash, hash, sizeof hash);
    }
    return rc;
}

static bool unit_stored(fixture *f, const char *code, store_unit *u)
{
    store_txn *txn;
    ts_err e = {0};
    assert_int_equal(store_read_begin(f->n.store, &txn, &e), TS_OK);
    bool found = store_unit_get(f->n.store, txn, code, u) == TS_OK;
    store_read_end(txn);
    return found;
}

/* Names and levels reach terminals (status, child list) and exports: a
 * control byte in either refuses the delta as malformed, and nothing of it
 * is kept. */
static void control_bytes_in_units_refused(void **state)
{
    fixture *f = *state;
    child *a = &f->kids[0];
    const char *bad[][2] = {
        {"Xa\x1b[2J", "commune"}, /* escape sequence: clears the screen */
        {"Xa\rXb", "commune"},
        {"Xa", "commune\x7f"},
    };
    store_unit u;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        apply_reply r = {0};
        assert_int_equal(announce(f, a, "34101", bad[i][0], bad[i][1], 5, &r), TS_EINPUT);
        assert_int_equal(r.kind, TIERSYNC__ENVELOPE__MSG_NACK);
        assert_int_equal(r.reason, TIERSYNC__REASON__REASON_MALFORMED);
        assert_int_equal(r.seq, 1); /* still expects seq 1 */
        assert_false(unit_stored(f, "34101", &u));
        assert_int_equal(total(f, SELF), 0);
        store_child ch = child_record(f, "341");
        assert_int_equal(ch.last_seq, 0);
        assert_int_equal(ch.refused, i + 1);
    }
    /* the same delta with clean text applies */
    apply_reply r = {0};
    assert_int_equal(announce(f, a, "34101", "Xa Tân Sơn", "commune", 5, &r), TS_OK);
    assert_int_equal(r.kind, TIERSYNC__ENVELOPE__MSG_ACK);
    assert_int_equal(r.seq, 1);
    assert_true(unit_stored(f, "34101", &u));
    assert_string_equal(u.name, "Xa Tân Sơn");
    assert_string_equal(u.level, "commune");
    assert_int_equal(total(f, SELF), 5);
    assert_int_equal(child_record(f, "341").last_seq, 1);
}

/* The outbox keeps deltas unsigned and signs them as they leave: the parent
 * refuses one left unsigned, and signing it later gives the very frame
 * signing at once gives, which the parent applies. */
static void signed_later_is_the_same_frame(void **state)
{
    fixture *f = *state;
    child *c = &f->kids[0];
    delta_builder *b = delta_builder_new(c->code, c->keys.pk, 1, c->hash, f->n.catalog->id,
                                         (uint32_t)f->n.catalog->version, false);
    ts_cell cell;
    assert_int_equal(cell_set(&cell, c->code, "STAFF_TRAINED", "2024", "", NULL), TS_OK);
    delta_add_cell(b, &cell, (disclose_fig){6, 0});
    uint8_t *now, *later, hash[DELTA_HASH_BYTES], later_hash[DELTA_HASH_BYTES];
    size_t now_len, later_len;
    delta_finish(b, &c->keys, &now, &now_len, hash);
    delta_finish(b, NULL, &later, &later_len, later_hash);
    delta_builder_destroy(&b);
    assert_memory_equal(hash, later_hash, sizeof hash); /* the chain needs no signature */
    apply_reply r;
    ts_err e = {0};
    assert_int_equal(apply_message(&f->n, c->code, later, later_len, &r, &e), TS_EINPUT);
    assert_int_equal(child_record(f, c->code).last_seq, 0);
    assert_int_equal(delta_sign_later(&c->keys, &later, &later_len), 0);
    assert_int_equal(later_len, now_len);
    assert_memory_equal(later, now, now_len);
    assert_int_equal(delta_sign_later(&c->keys, &later, &later_len), 0); /* signed: kept */
    assert_memory_equal(later, now, now_len);
    assert_int_equal(apply_message(&f->n, c->code, later, later_len, &r, &e), TS_OK);
    assert_int_equal(r.kind, TIERSYNC__ENVELOPE__MSG_ACK);
    assert_int_equal(total(f, c->code), 6);
    free(now);
    free(later);
    uint8_t junk[] = {0xff, 0xff, 0xff};
    uint8_t *p = junk;
    size_t n = sizeof junk;
    assert_int_equal(delta_sign_later(&c->keys, &p, &n), -1);
}

static int rekey_child(store_t *s, store_txn *txn, void *ctx, ts_err *e)
{
    const keys_t *k = ctx;
    store_child ch;
    if (store_child_get(s, txn, "341", &ch) != TS_OK)
        return ts_fail(e, TS_EINPUT, "341 not enrolled");
    return rotate_replace(s, txn, "341", &ch, k->pk, 3, e);
}

static void retired_key_only_below_rotation(void **state)
{
    fixture *f = *state;
    child *c = &f->kids[0];
    apply_item first = next_delta(f, c, 1, false);
    apply_item in_flight = next_delta(f, c, 2, false); /* seq 2, signed before the rotation */
    apply_batch(&f->n, &first, 1);
    assert_int_equal(first.rc, TS_OK);
    keys_t old = c->keys, fresh;
    crypto_sign_keypair(fresh.pk, fresh.sk);
    ts_err e = {0};
    assert_int_equal(store_write(f->n.store, rekey_child, &fresh, &e), TS_OK); /* from seq 3 */
    apply_batch(&f->n, &in_flight, 1);
    assert_int_equal(in_flight.rc, TS_OK);
    assert_int_equal(in_flight.reply.seq, 2);
    /* a thief of the old key cannot continue the chain */
    apply_item stolen = next_delta(f, c, 100, false);
    c->seq--; /* next_delta advanced it: the parent refuses this one */
    memcpy(c->hash, child_record(f, "341").last_hash, sizeof c->hash);
    apply_batch(&f->n, &stolen, 1);
    assert_int_equal(stolen.rc, TS_EINPUT);
    assert_int_equal(stolen.reply.reason, TIERSYNC__REASON__REASON_BAD_SIGNATURE);
    c->keys = fresh;
    apply_item next = next_delta(f, c, 4, false);
    apply_batch(&f->n, &next, 1);
    assert_int_equal(next.rc, TS_OK);
    assert_int_equal(total(f, "341"), 1 + 2 + 4);
    c->keys = old;
    apply_item items[] = {first, in_flight, stolen, next};
    free_items(items, 4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(refused_midway_changes_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(forged_late_in_a_big_batch_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(prepared_while_previous_commits, setup, teardown),
        cmocka_unit_test_setup_teardown(overflow_of_own_total_refuses_its_delta, setup, teardown),
        cmocka_unit_test_setup_teardown(control_bytes_in_units_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(signed_later_is_the_same_frame, setup, teardown),
        cmocka_unit_test_setup_teardown(retired_key_only_below_rotation, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
