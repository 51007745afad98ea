/* uplink_dial.c: the parent socket: which keys a dial uses (key rotation
 * offers two choices), the CURVE DEALER and its monitor, and hanging up. */
#include "uplink_int.h"

#include <stdio.h>
#include <string.h>
#include <zmq.h>

#include "log.h"
#include "rotate_link.h"

static int set_int(void *sock, int opt, int v)
{
    return zmq_setsockopt(sock, opt, &v, sizeof v);
}

void uplink_hangup(uplink_t *u)
{
    if (u->dealer) {
        zmq_socket_monitor(u->dealer, NULL, 0);
        zmq_close(u->dealer);
    }
    if (u->monitor)
        zmq_close(u->monitor);
    u->dealer = u->monitor = NULL;
    u->connected = u->welcomed = false;
}

bool uplink_announcing(uplink_t *u, rotate_state *st)
{
    return u->n->has_old_keys && rotate_pending(u->n, st) && !st->parent_done;
}

/* The pair this dial authenticates with and the parent key it expects. */
static int dial_keys(uplink_t *u, const keys_t **client, ts_err *e)
{
    node_t *n = u->n;
    rotate_state st;
    uint8_t prev[crypto_sign_PUBLICKEYBYTES];
    bool mine = uplink_announcing(u, &st);
    bool theirs = rotate_link_parent_prev(n, prev);
    u->alternates = mine || theirs;
    *client = mine && !u->alt ? &n->old_keys : &n->keys;
    memcpy(u->client_pk, (*client)->pk, sizeof u->client_pk);
    if (theirs && u->alt)
        memcpy(u->server_pk, prev, sizeof prev);
    else if (keys_parse_public(n->cfg.parent_key, u->server_pk, e))
        return e->code;
    return TS_OK;
}

int uplink_dial(uplink_t *u, ts_err *e)
{
    node_t *n = u->n;
    char server[KEYS_Z85_LEN], pub[KEYS_Z85_LEN], sec[KEYS_Z85_LEN], mon[64];
    const keys_t *client;
    int64_t maxmsg = 2 * (int64_t)n->cfg.max_msg_bytes;
    u->down_since_ms = ts_mono_ms();
    if (dial_keys(u, &client, e) || keys_curve_public_z85(u->server_pk, server, e) ||
        keys_curve_public_z85(client->pk, pub, e) || keys_curve_secret_z85(client, sec, e))
        return e->code;
    snprintf(mon, sizeof mon, "%s-%u", UPLINK_MONITOR_ENDPOINT, ++u->dials);
    u->dealer = zmq_socket(u->zctx, ZMQ_DEALER);
    int bad = !u->dealer ||
        zmq_setsockopt(u->dealer, ZMQ_CURVE_SERVERKEY, server, KEYS_Z85_LEN - 1) ||
        zmq_setsockopt(u->dealer, ZMQ_CURVE_PUBLICKEY, pub, KEYS_Z85_LEN - 1) ||
        zmq_setsockopt(u->dealer, ZMQ_CURVE_SECRETKEY, sec, KEYS_Z85_LEN - 1) ||
        zmq_setsockopt(u->dealer, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg) ||
        set_int(u->dealer, ZMQ_IMMEDIATE, 1) || set_int(u->dealer, ZMQ_LINGER, 0) ||
        set_int(u->dealer, ZMQ_RECONNECT_IVL, UPLINK_RECONNECT_MS) ||
        set_int(u->dealer, ZMQ_RECONNECT_IVL_MAX, UPLINK_RECONNECT_MAX_MS) ||
        set_int(u->dealer, ZMQ_HEARTBEAT_IVL, n->cfg.heartbeat_ms) ||
        set_int(u->dealer, ZMQ_HEARTBEAT_TIMEOUT, 3 * n->cfg.heartbeat_ms) ||
        set_int(u->dealer, ZMQ_HEARTBEAT_TTL, 3 * n->cfg.heartbeat_ms) ||
        zmq_socket_monitor(u->dealer, mon,
                           ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_DISCONNECTED |
                               ZMQ_EVENT_HANDSHAKE_FAILED_AUTH |
                               ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL);
    sodium_memzero(sec, sizeof sec);
    if (bad)
        return ts_fail(e, TS_ERUNTIME, "cannot set up the parent link: %s",
                       zmq_strerror(zmq_errno()));
    u->monitor = zmq_socket(u->zctx, ZMQ_PAIR);
    if (zmq_connect(u->monitor, mon) != 0 || zmq_connect(u->dealer, n->cfg.parent) != 0)
        return ts_fail(e, TS_ERUNTIME, "cannot connect to parent %s: %s (check parent.endpoint)",
                       n->cfg.parent, zmq_strerror(zmq_errno()));
    return TS_OK;
}

/* Not connected for UPLINK_ROTATE_TRY_MS while a rotation offers two key
 * choices: dials with the one this socket does not use (the pinned one
 * first, which may have changed since the socket was dialled). */
void uplink_try_other_keys(uplink_t *u)
{
    uint8_t client[crypto_sign_PUBLICKEYBYTES], server[crypto_sign_PUBLICKEYBYTES];
    const keys_t *k;
    ts_err e;
    memcpy(client, u->client_pk, sizeof client);
    memcpy(server, u->server_pk, sizeof server);
    u->alt = false;
    if (dial_keys(u, &k, &e) != TS_OK) {
        log_error("%s", e.msg);
        return;
    }
    if (!u->alternates && !memcmp(client, u->client_pk, sizeof client) &&
        !memcmp(server, u->server_pk, sizeof server)) {
        u->down_since_ms = ts_mono_ms(); /* one choice, and this socket has it */
        return;
    }
    if (!memcmp(client, u->client_pk, sizeof client) &&
        !memcmp(server, u->server_pk, sizeof server))
        u->alt = true;
    uplink_hangup(u);
    if (uplink_dial(u, &e))
        log_error("%s", e.msg);
}

void uplink_settle_parent_key(uplink_t *u)
{
    uint8_t pinned[crypto_sign_PUBLICKEYBYTES], prev[crypto_sign_PUBLICKEYBYTES];
    ts_err e;
    if (!rotate_link_parent_prev(u->n, prev) ||
        keys_parse_public(u->n->cfg.parent_key, pinned, &e) != TS_OK ||
        memcmp(pinned, u->server_pk, sizeof pinned) != 0)
        return;
    if (rotate_link_parent_settled(u->n, &e))
        log_warn("cannot forget the parent's previous key: %s", e.msg);
}
