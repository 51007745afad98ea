/* test_hub.c: the parent's side of the link (hub.c) with children played by
 * the test on real CURVE DEALERs on loopback: the ZAP handler admits only an
 * enrolled key, a hello is welcomed, input is taken in batches of at most
 * the asked number of messages, replies leave only once their batch has
 * committed, acks a later ack covers are not sent, a gap is answered. */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "delta.h"
#include "hub.h"

#define SELF "34"
#define CHILD "341"
#define ROUNDS 500 /* of at most 20 ms: a bound, so a broken hub fails, not hangs */

typedef struct {
    char dir[512];
    node_t n;
    void *zctx, *child;
    hub_t *h;
    keys_t child_keys;
    uint64_t seq;
    uint8_t hash[DELTA_HASH_BYTES];
    int max;         /* hub_on_router's bound */
    int batches[64]; /* what each hub_on_router call took */
    int nbatches;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    f->zctx = zmq_ctx_new();
    f->max = 64;
    crypto_sign_keypair(f->child_keys.pk, f->child_keys.sk);
    const char *settings[] = {"listen", "endpoint", "tcp://127.0.0.1:*", NULL};
    tu_node_open_with(&f->n, f->dir, sizeof f->dir, "hub", SELF, settings);
    tu_node_identity(&f->n);
    const tu_unit child = {CHILD, SELF, CHILD, true, true, f->child_keys.pk};
    tu_units_put(&f->n, &child, 1);
    ts_err e = {0};
    assert_int_equal(hub_start(&f->h, &f->n, f->zctx, &e), TS_OK);
    f->child = tu_curve_socket(f->zctx, ZMQ_DEALER, &f->child_keys, f->n.keys.pk);
    assert_int_equal(zmq_connect(f->child, tu_endpoint(hub_router(f->h))), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    zmq_close(f->child);
    hub_stop(&f->h);
    zmq_ctx_term(f->zctx);
    node_close(&f->n);
    tu_rmrf(f->dir);
    free(f);
    return 0;
}

/* One turn of the daemon's loop for the hub (20 ms at most). */
static void run_once(fixture *f)
{
    zmq_pollitem_t it[] = {{hub_zap(f->h), 0, ZMQ_POLLIN, 0},
                           {hub_router(f->h), 0, ZMQ_POLLIN, 0},
                           {NULL, hub_wake_fd(f->h), ZMQ_POLLIN, 0}};
    zmq_poll(it, 3, 20);
    if (it[0].revents & ZMQ_POLLIN)
        hub_on_zap(f->h);
    if (it[1].revents & ZMQ_POLLIN) {
        int got = hub_on_router(f->h, f->max);
        assert_true(got <= f->max);
        if (got && f->nbatches < 64)
            f->batches[f->nbatches++] = got;
    }
    if (it[2].revents & ZMQ_POLLIN)
        hub_on_committed(f->h);
}

/* The next reply to the child, running the hub meanwhile. */
static Tiersync__Envelope *reply(fixture *f)
{
    for (int i = 0; i < ROUNDS; i++) {
        Tiersync__Envelope *env = tu_recv_envelope(f->child, NULL, 0, NULL, NULL, NULL);
        if (env)
            return env;
        run_once(f);
    }
    fail_msg("the hub never answered the child");
    return NULL;
}

static void hello(fixture *f)
{
    uint8_t *msg;
    size_t len;
    wire_pack_hello(CHILD, f->child_keys.pk, f->seq, NULL, &msg, &len);
    assert_int_equal(zmq_send(f->child, msg, len, 0), (int)len);
    free(msg);
    Tiersync__Envelope *env = reply(f);
    assert_int_equal(env->msg_case, TIERSYNC__ENVELOPE__MSG_WELCOME);
    assert_int_equal(env->welcome->last_seq, 0);
    assert_string_equal(env->welcome->code, SELF);
    tiersync__envelope__free_unpacked(env, NULL);
}

/* Sends the child's delta seq (its next unless skipping) adding d to
 * STAFF_TRAINED 2024 of its unit. */
static void send_delta(fixture *f, uint64_t seq, int64_t d)
{
    delta_builder *b = delta_builder_new(CHILD, f->child_keys.pk, seq, f->hash, f->n.catalog->id,
                                         (uint32_t)f->n.catalog->version, false);
    ts_cell c;
    assert_int_equal(cell_set(&c, CHILD, "STAFF_TRAINED", "2024", "", NULL), TS_OK);
    delta_add_cell(b, &c, (disclose_fig){d, 0});
    uint8_t *msg, hash[DELTA_HASH_BYTES];
    size_t len;
    delta_finish(b, &f->child_keys, &msg, &len, hash);
    delta_builder_destroy(&b);
    if (seq == f->seq + 1) {
        f->seq = seq;
        memcpy(f->hash, hash, sizeof hash);
    }
    assert_int_equal(zmq_send(f->child, msg, len, 0), (int)len);
    free(msg);
}

/* STAFF_TRAINED 2024 of unit, as held here. */
static int64_t total(fixture *f, const char *unit)
{
    return tu_total(&f->n, unit, "STAFF_TRAINED", "2024", "");
}

static void test_enrolled_child_welcomed(void **state)
{
    hello(*state);
}

/* A key that is not enrolled fails the handshake (ZAP says no). */
static void test_stranger_refused(void **state)
{
    fixture *f = *state;
    keys_t stranger;
    crypto_sign_keypair(stranger.pk, stranger.sk);
    void *s = tu_curve_socket(f->zctx, ZMQ_DEALER, &stranger, f->n.keys.pk);
    assert_int_equal(
        zmq_socket_monitor(s, "inproc://test-hub-stranger",
                           ZMQ_EVENT_HANDSHAKE_FAILED_AUTH | ZMQ_EVENT_HANDSHAKE_SUCCEEDED),
        0);
    void *mon = zmq_socket(f->zctx, ZMQ_PAIR);
    assert_int_equal(zmq_connect(mon, "inproc://test-hub-stranger"), 0);
    assert_int_equal(zmq_connect(s, tu_endpoint(hub_router(f->h))), 0);
    uint16_t event = 0;
    for (int i = 0; i < ROUNDS && !event; i++) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, mon, ZMQ_DONTWAIT) >= 0) {
            memcpy(&event, zmq_msg_data(&m), sizeof event);
            zmq_msg_recv(&m, mon, 0); /* the address frame */
        } else {
            run_once(f);
        }
        zmq_msg_close(&m);
    }
    assert_int_equal(event, ZMQ_EVENT_HANDSHAKE_FAILED_AUTH);
    zmq_socket_monitor(s, NULL, 0);
    zmq_close(mon);
    zmq_close(s);
}

/* Replies leave when their batch has committed, which the writer signals on
 * hub_wake_fd. */
static void test_reply_after_commit(void **state)
{
    fixture *f = *state;
    hello(f);
    send_delta(f, 1, 4);
    zmq_pollitem_t in = {hub_router(f->h), 0, ZMQ_POLLIN, 0};
    assert_int_equal(zmq_poll(&in, 1, ROUNDS * 20), 1);
    assert_int_equal(hub_on_router(f->h, f->max), 1);
    zmq_pollitem_t wake = {NULL, hub_wake_fd(f->h), ZMQ_POLLIN, 0};
    assert_int_equal(zmq_poll(&wake, 1, ROUNDS * 20), 1);
    /* committed, but not answered until the loop says so: nothing comes
     * (a wait that can only make this check weaker, never fail wrongly) */
    zmq_pollitem_t none = {f->child, 0, ZMQ_POLLIN, 0};
    assert_int_equal(zmq_poll(&none, 1, 200), 0);
    hub_on_committed(f->h);
    Tiersync__Envelope *env = reply(f);
    assert_int_equal(env->msg_case, TIERSYNC__ENVELOPE__MSG_ACK);
    assert_int_equal(env->ack->seq, 1);
    tiersync__envelope__free_unpacked(env, NULL);
    assert_int_equal(total(f, CHILD), 4);
    assert_int_equal(total(f, SELF), 4);
}

/* Five deltas at once, batches of at most two: all applied, acks in order,
 * none that a later ack of the same batch covers. */
static void test_batches_bounded_acks_coalesced(void **state)
{
    fixture *f = *state;
    hello(f);
    f->max = 2;
    f->nbatches = 0; /* the hello's batch */
    for (uint64_t s = 1; s <= 5; s++)
        send_delta(f, s, (int64_t)s);
    int acks = 0;
    uint64_t last = 0;
    while (last < 5) {
        Tiersync__Envelope *env = reply(f);
        assert_int_equal(env->msg_case, TIERSYNC__ENVELOPE__MSG_ACK);
        assert_true(env->ack->seq > last);
        last = env->ack->seq;
        acks++;
        tiersync__envelope__free_unpacked(env, NULL);
    }
    int taken = 0;
    for (int i = 0; i < f->nbatches; i++)
        taken += f->batches[i];
    assert_int_equal(taken, 5);
    assert_true(f->nbatches >= 3); /* 5 messages, 2 a batch */
    assert_true(acks <= f->nbatches);
    assert_int_equal(total(f, CHILD), 15);
    assert_int_equal(total(f, SELF), 15);
}

/* A delta past the next expected is not applied; the nack names the gap. */
static void test_gap_nacked(void **state)
{
    fixture *f = *state;
    hello(f);
    send_delta(f, 1, 2);
    Tiersync__Envelope *env = reply(f);
    assert_int_equal(env->msg_case, TIERSYNC__ENVELOPE__MSG_ACK);
    tiersync__envelope__free_unpacked(env, NULL);
    send_delta(f, 3, 100);
    env = reply(f);
    assert_int_equal(env->msg_case, TIERSYNC__ENVELOPE__MSG_NACK);
    assert_int_equal(env->nack->reason, TIERSYNC__REASON__REASON_GAP);
    assert_int_equal(env->nack->expected, 2);
    tiersync__envelope__free_unpacked(env, NULL);
    assert_int_equal(total(f, CHILD), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_enrolled_child_welcomed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stranger_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reply_after_commit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_batches_bounded_acks_coalesced, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gap_nacked, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
