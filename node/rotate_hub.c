/* rotate_hub.c: key rotation messages on the parent's ROUTER (see
 * rotate_hub.h). */
#include "rotate_hub.h"

#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "rotate_link.h"
#include "rotate_node.h"
#include "tiersync.pb-c.h"
#include "util.h"

/* An Envelope holding field 6 (rotation) or 7 (rotation_ack) starts with
 * its tag: wire type 2, so (field << 3) | 2. */
#define ROTATE_TAG_ROTATION ((6 << 3) | 2)
#define ROTATE_TAG_ACK ((7 << 3) | 2)

struct rotate_hub {
    node_t *n;
    int64_t sent_ms;
};

rotate_hub *rotate_hub_new(node_t *n)
{
    rotate_hub *r = calloc(1, sizeof *r);
    if (!r)
        abort();
    r->n = n;
    return r;
}

void rotate_hub_destroy(rotate_hub **rp)
{
    if (!*rp)
        return;
    free(*rp);
    *rp = NULL;
}

static void send_to(void *router, const uint8_t *id, size_t idlen, const uint8_t *msg, size_t len)
{
    zmq_send(router, id, idlen, ZMQ_SNDMORE | ZMQ_DONTWAIT);
    zmq_send(router, msg, len, ZMQ_DONTWAIT);
}

/* A child announces its own new key. */
static void on_rotation(rotate_hub *r, void *router, const char *child, zmq_msg_t *id,
                        const Tiersync__KeyRotation *m, bool *enrolment)
{
    uint8_t new_pk[crypto_sign_PUBLICKEYBYTES];
    char why[200];
    ts_err e;
    if (rotate_link_accept(r->n, child, m, new_pk, why, sizeof why, &e) != TS_OK) {
        log_error("child %s: cannot record its key rotation: %s", child, e.msg);
        return; /* no answer: it announces again */
    }
    char fp[KEYS_FINGERPRINT_LEN];
    keys_fingerprint(new_pk, fp);
    if (why[0]) {
        log_warn("child %s: key rotation refused: %s", child, why);
    } else {
        log_info("child %s rotated its key: enrolled now with %s", child, fp);
        *enrolment = true;
    }
    uint8_t *out;
    size_t len;
    rotate_pack_ack(new_pk, why[0] ? why : NULL, &out, &len);
    send_to(router, zmq_msg_data(id), zmq_msg_size(id), out, len);
    free(out);
}

/* A child answers this node's announcement. */
static void on_ack(rotate_hub *r, const char *child, const Tiersync__KeyRotationAck *a)
{
    ts_err e;
    if (a->new_key.len != crypto_sign_PUBLICKEYBYTES)
        return;
    if (!a->accepted) {
        log_warn("child %s refused this node's key rotation: %s", child, a->detail);
        return;
    }
    if (rotate_child_acked(r->n, child, a->new_key.data, &e))
        log_error("cannot record child %s's acknowledgement of the key rotation: %s", child, e.msg);
    else
        log_info("child %s pins this node's new key", child);
}

bool rotate_hub_on_message(rotate_hub *r, void *router, const char *child, zmq_msg_t *id,
                           const uint8_t *data, size_t len, bool *enrolment)
{
    if (len == 0 || (data[0] != ROTATE_TAG_ROTATION && data[0] != ROTATE_TAG_ACK))
        return false;
    Tiersync__Envelope *env = tiersync__envelope__unpack(NULL, len, data);
    if (!env)
        return false; /* apply.c refuses it as malformed */
    bool ours = true;
    if (env->msg_case == TIERSYNC__ENVELOPE__MSG_ROTATION)
        on_rotation(r, router, child, id, env->rotation, enrolment);
    else if (env->msg_case == TIERSYNC__ENVELOPE__MSG_ROTATION_ACK)
        on_ack(r, child, env->rotation_ack);
    else
        ours = false;
    tiersync__envelope__free_unpacked(env, NULL);
    return ours;
}

typedef struct {
    node_t *n;
    store_txn *txn;
} tick_ctx;

/* Enrolled, and not yet acknowledged this node's rotation. */
static bool waiting(const char *child, void *vctx)
{
    tick_ctx *t = vctx;
    store_child ch;
    return store_child_get(t->n->store, t->txn, child, &ch) == TS_OK &&
        !rotate_child_done(t->n->store, t->txn, child);
}

void rotate_hub_tick(rotate_hub *r, const hub_conns *conns, void *router)
{
    int64_t now = ts_mono_ms();
    if (now - r->sent_ms < ROTATE_RESEND_MS)
        return;
    r->sent_ms = now;
    uint8_t *msg;
    size_t len;
    if (rotate_message(r->n, &msg, &len) != TS_OK)
        return;
    tick_ctx t = {r->n, NULL};
    ts_err e;
    if (store_read_begin(r->n->store, &t.txn, &e) == TS_OK) {
        hub_conns_send(conns, router, msg, len, waiting, &t);
        store_read_end(t.txn);
    }
    free(msg);
}
