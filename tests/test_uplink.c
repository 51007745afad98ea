/* test_uplink.c: the child's side of the link (uplink.c) against a parent
 * played by the test on a real CURVE ROUTER on loopback: hello, then the
 * snapshot that starts a chain, the send window while changes coalesce in
 * pending, acks, a resend after a gap, a snapshot after a broken chain or a
 * parent ahead of the child, a hello again after a nonsense ack, and a
 * pause after a refusal. */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "outbox.h"
#include "uplink.h"

#define SELF "34101"
#define PARENT "341"
#define ROUNDS 500 /* of at most 20 ms: a bound, so a broken uplink fails, not hangs */

typedef struct {
    char dir[512];
    node_t n;
    void *zctx, *parent;
    keys_t parent_keys;
    uint8_t id[256]; /* the child's routing id at the parent */
    size_t idlen;
    uplink_t *u;
} fixture;

/* Five cells of the child's own: two deltas at max_cells 3. */
static const tu_change CHANGES[] = {
    {NULL, SELF, "A", "2024", "", 1}, {NULL, SELF, "B", "2024", "", 2},
    {NULL, SELF, "C", "2024", "", 3}, {NULL, SELF, "D", "2024", "", 4},
    {NULL, SELF, "E", "2024", "", 5},
};

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    f->zctx = zmq_ctx_new();
    crypto_sign_keypair(f->parent_keys.pk, f->parent_keys.sk);
    f->parent = tu_curve_socket(f->zctx, ZMQ_ROUTER, &f->parent_keys, NULL);
    assert_int_equal(zmq_bind(f->parent, "tcp://127.0.0.1:*"), 0);
    char parent_key[65];
    ts_hex(f->parent_keys.pk, 32, parent_key);
    const char *settings[] = {"parent", "endpoint",  tu_endpoint(f->parent),
                              "parent", "key",       parent_key,
                              "sync",   "max_cells", "3",
                              "sync",   "window",    "2",
                              "sync",   "flush_ms",  "1",
                              NULL};
    tu_node_open_with(&f->n, f->dir, sizeof f->dir, "uplink", SELF, settings);
    tu_node_identity(&f->n);
    tu_apply(&f->n, CHANGES, sizeof CHANGES / sizeof *CHANGES);
    ts_err e = {0};
    assert_int_equal(uplink_start(&f->u, &f->n, f->zctx, &e), TS_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    uplink_stop(&f->u);
    zmq_close(f->parent);
    zmq_ctx_term(f->zctx);
    node_close(&f->n);
    tu_rmrf(f->dir);
    free(f);
    return 0;
}

/* One turn of the daemon's loop for the uplink: wait (20 ms at most) for
 * its sockets, handle them, tick. */
static void run_once(fixture *f)
{
    zmq_pollitem_t it[] = {{uplink_socket(f->u), 0, ZMQ_POLLIN, 0},
                           {uplink_monitor(f->u), 0, ZMQ_POLLIN, 0},
                           {f->parent, 0, ZMQ_POLLIN, 0}};
    zmq_poll(it, 3, 20);
    if (it[1].revents & ZMQ_POLLIN)
        uplink_on_monitor(f->u);
    if (it[0].revents & ZMQ_POLLIN)
        uplink_on_message(f->u);
    uplink_tick(f->u);
}

/* The next message of kind the child sends (hellos repeated meanwhile are
 * passed over when waiting for a delta); raw receives its bytes if not NULL. */
static Tiersync__Envelope *next(fixture *f, Tiersync__Envelope__MsgCase kind, uint8_t **raw,
                                size_t *rawlen)
{
    for (int i = 0; i < ROUNDS; i++) {
        Tiersync__Envelope *env = tu_recv_envelope(f->parent, f->id, sizeof f->id, &f->idlen, raw,
                                                   rawlen);
        if (env && env->msg_case == kind)
            return env;
        if (env && raw)
            free(*raw);
        if (env && !(env->msg_case == TIERSYNC__ENVELOPE__MSG_HELLO && kind != env->msg_case))
            fail_msg("the child sent message kind %d, not %d", (int)env->msg_case, (int)kind);
        if (env)
            tiersync__envelope__free_unpacked(env, NULL);
        else
            run_once(f);
    }
    fail_msg("the child sent no message of kind %d", (int)kind);
    return NULL;
}

/* The next delta: its seq, snapshot flag and cells as text; hash its chain hash. */
static uint64_t next_delta(fixture *f, bool *snapshot, char *cells, size_t cap, uint8_t hash[32])
{
    Tiersync__Envelope *env = next(f, TIERSYNC__ENVELOPE__MSG_DELTA, NULL, NULL);
    bool valid;
    Tiersync__DeltaBody *b = tu_delta_body(env, f->n.keys.pk, &valid, hash);
    assert_true(valid); /* signed as it leaves */
    assert_string_equal(b->origin, SELF);
    uint64_t seq = b->seq;
    *snapshot = b->snapshot;
    tu_cells_text(b, cells, cap);
    tiersync__delta_body__free_unpacked(b, NULL);
    tiersync__envelope__free_unpacked(env, NULL);
    return seq;
}

static void send_welcome(fixture *f, uint64_t last, const uint8_t *hash)
{
    uint8_t zeros[32] = {0};
    Tiersync__Welcome w = TIERSYNC__WELCOME__INIT;
    w.last_seq = last;
    w.last_hash = (ProtobufCBinaryData){32, (uint8_t *)(hash ? hash : zeros)};
    w.code = PARENT;
    Tiersync__Envelope env = TIERSYNC__ENVELOPE__INIT;
    env.msg_case = TIERSYNC__ENVELOPE__MSG_WELCOME;
    env.welcome = &w;
    tu_send_envelope(f->parent, f->id, f->idlen, &env);
}

static void send_ack(fixture *f, uint64_t seq)
{
    Tiersync__Ack a = TIERSYNC__ACK__INIT;
    a.seq = seq;
    Tiersync__Envelope env = TIERSYNC__ENVELOPE__INIT;
    env.msg_case = TIERSYNC__ENVELOPE__MSG_ACK;
    env.ack = &a;
    tu_send_envelope(f->parent, f->id, f->idlen, &env);
}

static void send_nack(fixture *f, Tiersync__Reason reason, uint64_t expected)
{
    Tiersync__Nack nk = TIERSYNC__NACK__INIT;
    nk.reason = reason;
    nk.expected = expected;
    nk.detail = "test";
    Tiersync__Envelope env = TIERSYNC__ENVELOPE__INIT;
    env.msg_case = TIERSYNC__ENVELOPE__MSG_NACK;
    env.nack = &nk;
    tu_send_envelope(f->parent, f->id, f->idlen, &env);
}

/* Runs the loop until outbox[seq] is gone (acknowledged). */
static void until_dropped(fixture *f, uint64_t seq)
{
    for (int i = 0; i < ROUNDS; i++) {
        uint8_t *data;
        size_t len;
        if (outbox_get(&f->n, seq, &data, &len, NULL) == TS_ENOTFOUND)
            return;
        free(data);
        run_once(f);
    }
    fail_msg("outbox[%llu] was never dropped", (unsigned long long)seq);
}

/* Hello, welcome from a parent with nothing, the snapshot of the five
 * cells in two deltas, both acknowledged: the chain's head hash. */
static void start_chain(fixture *f, uint8_t head_hash[32])
{
    Tiersync__Envelope *hello = next(f, TIERSYNC__ENVELOPE__MSG_HELLO, NULL, NULL);
    assert_string_equal(hello->hello->code, SELF);
    assert_memory_equal(hello->hello->key.data, f->n.keys.pk, 32);
    assert_int_equal(hello->hello->protocol, 1);
    tiersync__envelope__free_unpacked(hello, NULL);
    send_welcome(f, 0, NULL);

    bool snap;
    char cells[128];
    uint8_t h1[32];
    assert_int_equal(next_delta(f, &snap, cells, sizeof cells, h1), 1);
    assert_true(snap);
    assert_string_equal(cells, "A=1 B=2 C=3");
    assert_int_equal(next_delta(f, &snap, cells, sizeof cells, head_hash), 2);
    assert_string_equal(cells, "D=4 E=5");
    send_ack(f, 2);
    until_dropped(f, 2);
    assert_int_equal(tu_meta_u64(&f->n, "acked_seq"), 2);
}

/* start_chain, then one change more: A + 7 in delta 3. */
static void chain_and_one_more(fixture *f)
{
    uint8_t hash[32];
    start_chain(f, hash);
    const tu_change c = {NULL, SELF, "A", "2024", "", 7};
    tu_apply(&f->n, &c, 1);
}

static void test_hello_snapshot_ack(void **state)
{
    fixture *f = *state;
    uint8_t hash[32];
    start_chain(f, hash);
    /* the parent's code, from its welcome, is recorded */
    store_txn *txn;
    store_val v;
    ts_err e = {0};
    assert_int_equal(store_read_begin(f->n.store, &txn, &e), TS_OK);
    assert_int_equal(store_get(f->n.store, txn, DB_META, "parent_code", 11, &v, &e), TS_OK);
    assert_int_equal(v.len, strlen(PARENT));
    assert_memory_equal(v.data, PARENT, v.len);
    store_read_end(txn);
    assert_int_equal(tu_meta_u64(&f->n, "link_connected"), 1);
}

/* Nine changed cells, three deltas' worth, with a window of two: two leave,
 * the rest waits in pending and coalesces until an ack makes room. */
static void test_window_holds_back_and_coalesces(void **state)
{
    fixture *f = *state;
    uint8_t hash[32];
    start_chain(f, hash);
    const tu_change more[] = {
        {NULL, SELF, "F", "2024", "", 1}, {NULL, SELF, "G", "2024", "", 1},
        {NULL, SELF, "H", "2024", "", 1}, {NULL, SELF, "I", "2024", "", 1},
        {NULL, SELF, "J", "2024", "", 1}, {NULL, SELF, "K", "2024", "", 1},
        {NULL, SELF, "L", "2024", "", 1}, {NULL, SELF, "M", "2024", "", 1},
        {NULL, SELF, "N", "2024", "", 1},
    };
    tu_apply(&f->n, more, 9);
    bool snap;
    char cells[128];
    uint8_t h3[32], h4[32];
    assert_int_equal(next_delta(f, &snap, cells, sizeof cells, h3), 3);
    assert_false(snap);
    assert_string_equal(cells, "F=1 G=1 H=1");
    assert_int_equal(next_delta(f, &snap, cells, sizeof cells, h4), 4);
    assert_string_equal(cells, "I=1 J=1 K=1");
    for (int i = 0; i < 5; i++) { /* the window is full: nothing more is made */
        tu_apply(&f->n, &more[6], 1);
        uplink_tick(f->u);
    }
    store_txn *txn;
    ts_err e = {0};
    outbox_head head;
    assert_int_equal(store_read_begin(f->n.store, &txn, &e), TS_OK);
    outbox_head_get(&f->n, txn, &head);
    assert_int_equal(store_count(f->n.store, txn, DB_PENDING), 3);
    store_read_end(txn);
    assert_int_equal(head.seq, 4);
    assert_memory_equal(head.hash, h4, 32);

    send_ack(f, 3);
    assert_int_equal(next_delta(f, &snap, cells, sizeof cells, NULL), 5);
    assert_string_equal(cells, "L=6 M=1 N=1"); /* L: 1 + five more, in one cell */
}

/* REASON_GAP: resend from the seq the parent expects, the same bytes. */
static void test_gap_resends_same_delta(void **state)
{
    fixture *f = *state;
    chain_and_one_more(f);
    uint8_t *first, *again;
    size_t first_len, again_len;
    Tiersync__Envelope *env = next(f, TIERSYNC__ENVELOPE__MSG_DELTA, &first, &first_len);
    tiersync__envelope__free_unpacked(env, NULL);
    send_nack(f, TIERSYNC__REASON__REASON_GAP, 3);
    env = next(f, TIERSYNC__ENVELOPE__MSG_DELTA, &again, &again_len);
    tiersync__envelope__free_unpacked(env, NULL);
    assert_int_equal(again_len, first_len);
    assert_memory_equal(again, first, first_len);
    free(first);
    free(again);
}

/* REASON_BROKEN_CHAIN: a snapshot of the whole contribution, past the head. */
static void test_broken_chain_sends_snapshot(void **state)
{
    fixture *f = *state;
    chain_and_one_more(f);
    bool snap;
    char cells[128];
    assert_int_equal(next_delta(f, &snap, cells, sizeof cells, NULL), 3);
    send_nack(f, TIERSYNC__REASON__REASON_BROKEN_CHAIN, 3);
    assert_int_equal(next_delta(f, &snap, cells, sizeof cells, NULL), 4);
    assert_true(snap);
    assert_string_equal(cells, "A=8 B=2 C=3");
}

/* A parent that has applied more than this child's head (the child lost its
 * store): a snapshot after the parent's last. */
static void test_parent_ahead_gets_snapshot(void **state)
{
    fixture *f = *state;
    uint8_t hash[32];
    start_chain(f, hash);
    send_welcome(f, 10, NULL);
    bool snap;
    char cells[128];
    assert_int_equal(next_delta(f, &snap, cells, sizeof cells, NULL), 11);
    assert_true(snap);
    assert_string_equal(cells, "A=1 B=2 C=3");
}

/* An ack beyond the head says the parent and child disagree: hello again. */
static void test_ack_beyond_head_says_hello(void **state)
{
    fixture *f = *state;
    uint8_t hash[32];
    start_chain(f, hash);
    send_ack(f, 9);
    Tiersync__Envelope *hello = next(f, TIERSYNC__ENVELOPE__MSG_HELLO, NULL, NULL);
    assert_int_equal(hello->hello->head_seq, 2);
    assert_memory_equal(hello->hello->head_hash.data, hash, 32);
    tiersync__envelope__free_unpacked(hello, NULL);
}

/* Any other refusal: the delta is kept and the uplink stays quiet. */
static void test_refusal_pauses(void **state)
{
    fixture *f = *state;
    chain_and_one_more(f);
    bool snap;
    char cells[128];
    assert_int_equal(next_delta(f, &snap, cells, sizeof cells, NULL), 3);
    send_nack(f, TIERSYNC__REASON__REASON_UNKNOWN_CODE, 3);
    for (int i = 0; i < ROUNDS; i++) {
        zmq_pollitem_t it = {uplink_socket(f->u), 0, ZMQ_POLLIN, 0};
        if (zmq_poll(&it, 1, 20) > 0)
            break;
    }
    uplink_on_message(f->u);
    assert_true(uplink_tick(f->u) > UPLINK_ACK_TIMEOUT_MS); /* the pause it waits out */
    uint8_t *data;
    size_t len;
    assert_int_equal(outbox_get(&f->n, 3, &data, &len, NULL), TS_OK);
    free(data);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_hello_snapshot_ack, setup, teardown),
        cmocka_unit_test_setup_teardown(test_window_holds_back_and_coalesces, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gap_resends_same_delta, setup, teardown),
        cmocka_unit_test_setup_teardown(test_broken_chain_sends_snapshot, setup, teardown),
        cmocka_unit_test_setup_teardown(test_parent_ahead_gets_snapshot, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ack_beyond_head_says_hello, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refusal_pauses, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
