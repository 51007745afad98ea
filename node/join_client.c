/* join_client.c: a child's one Join (see join_client.h). */
#include "join_client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "join_wire.h"

#define JOIN_CLIENT_MONITOR "inproc://tiersync-join-monitor"

typedef struct {
    void *zctx, *dealer, *monitor;
    bool connecting;   /* a TCP connection waits for its handshake */
    int failed_shakes; /* connections dropped before the handshake completed */
} join_client;

static void client_close(join_client *c)
{
    if (c->dealer) {
        zmq_socket_monitor(c->dealer, NULL, 0);
        zmq_close(c->dealer);
    }
    if (c->monitor)
        zmq_close(c->monitor);
    if (c->zctx)
        zmq_ctx_term(c->zctx);
}

static int client_open(join_client *c, const invite_t *iv, const keys_t *child, ts_err *e)
{
    char server[KEYS_Z85_LEN], pub[KEYS_Z85_LEN], sec[KEYS_Z85_LEN], ep[CONFIG_ENDPOINT_MAX];
    int64_t maxmsg = JOIN_MSG_MAX;
    int zero = 0;
    if (invite_join_endpoint(iv, ep, e) || keys_curve_public_z85(iv->parent_pk, server, e) ||
        keys_curve_public_z85(child->pk, pub, e) || keys_curve_secret_z85(child, sec, e))
        return e->code;
    c->zctx = zmq_ctx_new();
    c->dealer = c->zctx ? zmq_socket(c->zctx, ZMQ_DEALER) : NULL;
    int bad = !c->dealer ||
        zmq_setsockopt(c->dealer, ZMQ_CURVE_SERVERKEY, server, KEYS_Z85_LEN - 1) ||
        zmq_setsockopt(c->dealer, ZMQ_CURVE_PUBLICKEY, pub, KEYS_Z85_LEN - 1) ||
        zmq_setsockopt(c->dealer, ZMQ_CURVE_SECRETKEY, sec, KEYS_Z85_LEN - 1) ||
        zmq_setsockopt(c->dealer, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg) ||
        zmq_setsockopt(c->dealer, ZMQ_LINGER, &zero, sizeof zero) ||
        zmq_socket_monitor(c->dealer, JOIN_CLIENT_MONITOR,
                           ZMQ_EVENT_CONNECTED | ZMQ_EVENT_DISCONNECTED |
                               ZMQ_EVENT_HANDSHAKE_SUCCEEDED);
    sodium_memzero(sec, sizeof sec);
    if (!bad) {
        c->monitor = zmq_socket(c->zctx, ZMQ_PAIR);
        bad = !c->monitor || zmq_connect(c->monitor, JOIN_CLIENT_MONITOR) ||
            zmq_connect(c->dealer, ep);
    }
    if (bad)
        return ts_fail(e, TS_ERUNTIME, "cannot connect to the parent's join socket %s: %s", ep,
                       zmq_strerror(zmq_errno()));
    return TS_OK;
}

/* Counts connections the server dropped before the handshake completed:
 * a server without the pinned key cannot complete it. */
static void on_monitor(join_client *c)
{
    zmq_msg_t ev, addr;
    zmq_msg_init(&ev);
    while (zmq_msg_recv(&ev, c->monitor, ZMQ_DONTWAIT) >= 0) {
        uint16_t event = 0;
        if (zmq_msg_size(&ev) >= 2)
            memcpy(&event, zmq_msg_data(&ev), sizeof event);
        zmq_msg_init(&addr);
        if (zmq_msg_more(&ev))
            zmq_msg_recv(&addr, c->monitor, 0);
        zmq_msg_close(&addr);
        if (event == ZMQ_EVENT_CONNECTED)
            c->connecting = true;
        else if (event == ZMQ_EVENT_HANDSHAKE_SUCCEEDED)
            c->connecting = false, c->failed_shakes = 0;
        else if (event == ZMQ_EVENT_DISCONNECTED && c->connecting)
            c->connecting = false, c->failed_shakes++;
    }
    zmq_msg_close(&ev);
}

/* The outcome of one reply: TS_OK enrolled, TS_EINPUT refused, -1 retry
 * after *retry_ms. */
static int on_reply(const uint8_t *data, size_t len, const invite_t *iv, const keys_t *child,
                    const uint8_t *hash, join_answer *ans, int *retry_ms, ts_err *e)
{
    Tiersync__JoinResult *res;
    if (join_parse_reply(data, len, iv->parent_pk, hash, child->pk, &res, e))
        return e->code;
    int rc = TS_OK;
    if (res->outcome == TIERSYNC__JOIN_OUTCOME__JOIN_SLOW_DOWN) {
        *retry_ms = (int)res->retry_after_ms;
        rc = -1;
    } else if (res->outcome != TIERSYNC__JOIN_OUTCOME__JOIN_ENROLLED) {
        rc = ts_fail(e, TS_EINPUT, "the parent refused to enrol this node (%s): %s",
                     join_outcome_name(res->outcome), res->detail);
    } else {
        snprintf(ans->parent_code, sizeof ans->parent_code, "%s", res->parent_code);
        snprintf(ans->name, sizeof ans->name, "%s", res->name);
    }
    tiersync__join_result__free_unpacked(res, NULL);
    return rc;
}

static int no_answer(const invite_t *iv, int timeout_ms, ts_err *e)
{
    char ep[CONFIG_ENDPOINT_MAX];
    invite_join_endpoint(iv, ep, NULL);
    return ts_fail(e, TS_ERUNTIME,
                   "no answer from the parent's join socket %s within %d s: "
                   "the parent may not be running, a firewall may block port %u, or the "
                   "invitation may be used, revoked or expired (the socket closes when none is "
                   "outstanding); nothing was created here",
                   ep, timeout_ms / 1000, iv->join_port);
}

int join_client_run(const invite_t *iv, const keys_t *child, int timeout_ms, join_answer *ans,
                    ts_err *e)
{
    join_client c = {0};
    uint8_t *req, hash[JOIN_HASH_BYTES];
    size_t len;
    memset(ans, 0, sizeof *ans);
    if (client_open(&c, iv, child, e)) {
        client_close(&c);
        return e->code;
    }
    join_pack_request(iv, child, &req, &len, hash);
    int64_t deadline = ts_mono_ms() + timeout_ms, send_at = 0;
    int rc = TS_ERUNTIME;
    for (bool done = false; !done;) {
        int64_t now = ts_mono_ms();
        if (now >= deadline) {
            rc = no_answer(iv, timeout_ms, e);
            break;
        }
        if (send_at >= 0 && now >= send_at) {
            zmq_send(c.dealer, req, len, ZMQ_DONTWAIT);
            send_at = -1;
        }
        int64_t until = send_at >= 0 && send_at < deadline ? send_at : deadline;
        zmq_pollitem_t it[] = {{c.dealer, 0, ZMQ_POLLIN, 0}, {c.monitor, 0, ZMQ_POLLIN, 0}};
        if (zmq_poll(it, 2, (long)(until - now)) < 0)
            continue;
        if (it[1].revents & ZMQ_POLLIN) {
            on_monitor(&c);
            if (c.failed_shakes >= JOIN_CLIENT_ROGUE_TRIES) {
                char ep[CONFIG_ENDPOINT_MAX];
                invite_join_endpoint(iv, ep, NULL);
                rc = ts_fail(e, TS_ERUNTIME,
                             "the server at %s did not prove it holds the "
                             "parent's key the invitation names: it is not that parent (a "
                             "wrong address, or an impostor); nothing was created here",
                             ep);
                break;
            }
        }
        if (!(it[0].revents & ZMQ_POLLIN))
            continue;
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, c.dealer, 0) >= 0) {
            int retry = 0;
            rc = on_reply(zmq_msg_data(&m), zmq_msg_size(&m), iv, child, hash, ans, &retry, e);
            if (rc == -1)
                send_at = ts_mono_ms() + retry;
            else
                done = true;
        }
        zmq_msg_close(&m);
    }
    free(req);
    client_close(&c);
    return rc;
}
