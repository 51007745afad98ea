/* test_hub_zap.c: the parent's ZAP handler (hub.c) admits an enrolled
 * child's key only in a well-formed request: version "1.0", the domain
 * "tiersync", mechanism CURVE. The requests are sent on the real inproc
 * endpoint, as libzmq sends them during a handshake. */
#include "testutil.h"

#include <string.h>
#include <zmq.h>

#include "hub.h"

typedef struct {
    node_t n;
    char dir[TS_PATH_MAX];
    void *zctx, *req;
    hub_t *hub;
    uint8_t curve[crypto_scalarmult_curve25519_BYTES]; /* the enrolled child's */
} zap_fixture;

static int enrol(store_t *s, store_txn *txn, void *ctx, ts_err *e)
{
    store_child ch = {0};
    memcpy(ch.pk, ctx, sizeof ch.pk);
    return store_child_put(s, txn, "34101", &ch, e);
}

static int setup(void **state)
{
    zap_fixture *f = calloc(1, sizeof *f);
    ts_err e = {0};
    tu_node_open(&f->n, f->dir, sizeof f->dir, "hubzap", "341");
    assert_int_equal(keys_create(&f->n.keys, f->dir, false, &e), TS_OK);
    snprintf(f->n.cfg.listen, sizeof f->n.cfg.listen, "tcp://127.0.0.1:*");
    uint8_t pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
    crypto_sign_keypair(pk, sk);
    assert_int_equal(keys_curve_public_raw(pk, f->curve, &e), TS_OK);
    assert_int_equal(store_write(f->n.store, enrol, pk, &e), TS_OK);
    f->zctx = zmq_ctx_new();
    assert_int_equal(hub_start(&f->hub, &f->n, f->zctx, &e), TS_OK);
    f->req = zmq_socket(f->zctx, ZMQ_REQ);
    assert_int_equal(zmq_connect(f->req, "inproc://zeromq.zap.01"), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    zap_fixture *f = *state;
    zmq_close(f->req);
    hub_stop(&f->hub);
    zmq_ctx_term(f->zctx);
    node_close(&f->n);
    tu_rmrf(f->dir);
    free(f);
    return 0;
}

/* Sends a request with the given version, domain and mechanism and the
 * enrolled key; returns the reply's status code as an int. */
static int ask(zap_fixture *f, const char *version, const char *domain, const char *mech)
{
    const char *frames[] = {version, "7", domain, "127.0.0.1", "", mech};
    for (size_t i = 0; i < sizeof frames / sizeof frames[0]; i++)
        zmq_send(f->req, frames[i], strlen(frames[i]), ZMQ_SNDMORE);
    zmq_send(f->req, f->curve, sizeof f->curve, 0);
    zmq_pollitem_t it = {hub_zap(f->hub), 0, ZMQ_POLLIN, 0};
    assert_int_equal(zmq_poll(&it, 1, 5000), 1);
    hub_on_zap(f->hub);
    char frame[8][64];
    int nf = 0, more = 1;
    while (more && nf < 8) {
        int len = zmq_recv(f->req, frame[nf], sizeof frame[nf] - 1, 0);
        assert_true(len >= 0);
        frame[nf][len < 63 ? len : 63] = '\0';
        nf++;
        size_t sz = sizeof more;
        zmq_getsockopt(f->req, ZMQ_RCVMORE, &more, &sz);
    }
    assert_int_equal(nf, 6);
    assert_string_equal(frame[0], "1.0");
    assert_string_equal(frame[1], "7"); /* the request id, echoed */
    return atoi(frame[2]);
}

static void well_formed_request_admits_the_enrolled_key(void **state)
{
    assert_int_equal(ask(*state, "1.0", "tiersync", "CURVE"), 200);
}

static void other_version_is_refused(void **state)
{
    assert_int_equal(ask(*state, "2.0", "tiersync", "CURVE"), 400);
    assert_int_equal(ask(*state, "", "tiersync", "CURVE"), 400);
}

static void other_domain_is_refused(void **state)
{
    assert_int_equal(ask(*state, "1.0", "global", "CURVE"), 400);
    assert_int_equal(ask(*state, "1.0", "", "CURVE"), 400);
}

static void other_mechanism_is_refused(void **state)
{
    assert_int_equal(ask(*state, "1.0", "tiersync", "PLAIN"), 400);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(well_formed_request_admits_the_enrolled_key, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(other_version_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(other_domain_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(other_mechanism_is_refused, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
