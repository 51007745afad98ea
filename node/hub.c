/* hub.c: the parent's ROUTER: children's messages in batches, checked on
 * worker threads and committed while the next batch is read (ZAP: hub_zap.c). */
#include "hub_int.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <zmq.h>

#include "apply.h"
#include "arena.h"
#include "catalog_dist.h"
#include "delta.h"
#include "hmap.h"
#include "rotate_node.h"

#define HUB_ZAP_ENDPOINT "inproc://zeromq.zap.01"
/* Input per batch, so per commit. LMDB writes every page a commit touched:
 * the more cells one commit covers, the fewer pages written per cell (at 4
 * MiB, 100-cell deltas cost a third less CPU per cell than at 256 KiB, and
 * apply about twice as fast). */
#define HUB_BATCH_BYTES (4096 * 1024)
#define HUB_QUEUE_BUDGET 4000 /* messages queued in libzmq, over all children */
#define HUB_ACK_DEFER_MAX 2   /* see drop_covered_acks */
#define HUB_HWM_MIN \
    16                           /* per child: twice the default window, so no child keeping to
                                 its window waits in TCP behind a full queue */
#define HUB_HWM_MAX 1000         /* libzmq's default */
#define HUB_WAIT_MS 50           /* longest wait for input while a batch commits (it wakes us) */
#define HUB_REBIND_TRIES 100     /* a closed ROUTER frees its port in libzmq's I/O thread: */
#define HUB_REBIND_WAIT_US 20000 /* wait for it this long between tries */

void *hub_router(hub_t *h)
{
    return h->router;
}
void *hub_zap(hub_t *h)
{
    return h->zap;
}

static int set_int(void *sock, int opt, int v)
{
    return zmq_setsockopt(sock, opt, &v, sizeof v);
}

/* Messages libzmq may queue per child before TCP holds the rest back: a
 * budget shared by the children enrolled at start, and at least
 * HUB_HWM_MIN each. A child keeps at most its window in flight, so the
 * bound only holds back one that ignores it. (A queued message costs its
 * own size: the daemon turns libzmq's zero-copy receive off.) */
static int receive_hwm(node_t *n)
{
    store_txn *txn;
    ts_err e;
    uint64_t kids = 1;
    if (store_read_begin(n->store, &txn, &e) == TS_OK) {
        kids = store_count(n->store, txn, DB_CHILDREN);
        store_read_end(txn);
    }
    uint64_t hwm = HUB_QUEUE_BUDGET / (kids ? kids : 1);
    return hwm < HUB_HWM_MIN ? HUB_HWM_MIN : hwm > HUB_HWM_MAX ? HUB_HWM_MAX : (int)hwm;
}

/* Opens the ROUTER on cfg.listen with the CURVE secret of rotate_serving_keys. */
static int open_router(hub_t *h, ts_err *e)
{
    node_t *n = h->n;
    const keys_t *k = rotate_serving_keys(n);
    char secret[KEYS_Z85_LEN];
    /* the transport drops only grossly oversized input; anything up to twice
     * the limit reaches apply_message, which refuses and counts it per child */
    int64_t maxmsg = 2 * (int64_t)n->cfg.max_msg_bytes;
    h->router = zmq_socket(h->zctx, ZMQ_ROUTER);
    if (!h->router || keys_curve_secret_z85(k, secret, e))
        return ts_fail(e, TS_ERUNTIME, "cannot open the children's socket: %s",
                       zmq_strerror(zmq_errno()));
    int bad = set_int(h->router, ZMQ_CURVE_SERVER, 1) ||
        zmq_setsockopt(h->router, ZMQ_CURVE_SECRETKEY, secret, KEYS_Z85_LEN - 1) ||
        zmq_setsockopt(h->router, ZMQ_ZAP_DOMAIN, HUB_ZAP_DOMAIN, strlen(HUB_ZAP_DOMAIN)) ||
        zmq_setsockopt(h->router, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg) ||
        set_int(h->router, ZMQ_RCVHWM, receive_hwm(n)) ||
        set_int(h->router, ZMQ_HEARTBEAT_IVL, n->cfg.heartbeat_ms) ||
        set_int(h->router, ZMQ_HEARTBEAT_TIMEOUT, 3 * n->cfg.heartbeat_ms) ||
        set_int(h->router, ZMQ_HEARTBEAT_TTL, 3 * n->cfg.heartbeat_ms) ||
        set_int(h->router, ZMQ_LINGER, 0);
    sodium_memzero(secret, sizeof secret);
    for (int i = 0; !bad && zmq_bind(h->router, n->cfg.listen) != 0; i++) {
        if (zmq_errno() != EADDRINUSE || i >= HUB_REBIND_TRIES) {
            bad = 1;
            break;
        }
        usleep(HUB_REBIND_WAIT_US);
    }
    if (bad)
        return ts_fail(e, TS_ERUNTIME,
                       "cannot listen on %s: %s (check listen.endpoint and that "
                       "no other process uses the port)",
                       n->cfg.listen, zmq_strerror(zmq_errno()));
    memcpy(h->serving, k->pk, sizeof h->serving);
    return TS_OK;
}

int hub_start(hub_t **out, node_t *n, void *zctx, ts_err *e)
{
    hub_t *h = calloc(1, sizeof *h);
    h->n = n;
    h->zctx = zctx;
    h->writer = worker_new();
    h->rot = rotate_hub_new(n);
    log_limit_init(&h->limits);
    h->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (h->wake_fd < 0) {
        ts_fail(e, TS_ERUNTIME, "cannot create an eventfd: %s", strerror(errno));
        goto fail;
    }
    h->zap = zmq_socket(zctx, ZMQ_REP);
    if (!h->zap || zmq_bind(h->zap, HUB_ZAP_ENDPOINT) != 0) {
        ts_fail(e, TS_ERUNTIME, "cannot start the ZAP handler: %s", zmq_strerror(zmq_errno()));
        goto fail;
    }
    if (open_router(h, e))
        goto fail;
    char bound[CONFIG_ENDPOINT_MAX + 16] = "";
    size_t blen = sizeof bound - 1;
    zmq_getsockopt(h->router, ZMQ_LAST_ENDPOINT, bound, &blen);
    hub_conns_init(&h->conns, bound);
    h->catalog_offered = n->catdoc ? n->catdoc->version : 0;
    parent_move_load(n, &h->move, true);
    *out = h;
    return TS_OK;
fail:
    hub_stop(&h);
    return TS_ERUNTIME;
}

/* Waits for the batch still committing, if any, and sends its replies;
 * next: the batch now receiving, if any (see drop_covered_acks). */
static void hub_finish(hub_t *h, const hub_batch *next);

void hub_stop(hub_t **hp)
{
    hub_t *h = *hp;
    if (!h)
        return;
    hub_finish(h, NULL);
    worker_destroy(&h->writer);
    if (h->router)
        zmq_close(h->router);
    if (h->zap)
        zmq_close(h->zap);
    if (h->wake_fd >= 0)
        close(h->wake_fd);
    free(h->keys);
    rotate_hub_destroy(&h->rot);
    log_limit_free(&h->limits);
    hub_conns_free(&h->conns);
    free(h);
    *hp = NULL;
}

/* Receives one [routing id, payload] message into id and body; false when
 * none is waiting (both are then closed). */
static bool recv_one(hub_t *h, zmq_msg_t *id, zmq_msg_t *body)
{
    zmq_msg_init(id);
    zmq_msg_init(body);
    if (zmq_msg_recv(id, h->router, ZMQ_DONTWAIT) < 0) {
        zmq_msg_close(id);
        zmq_msg_close(body);
        return false;
    }
    if (zmq_msg_more(id))
        zmq_msg_recv(body, h->router, 0);
    for (int more = zmq_msg_more(body); more;) { /* one frame per message: drop extras */
        zmq_msg_t extra;
        zmq_msg_init(&extra);
        zmq_msg_recv(&extra, h->router, 0);
        more = zmq_msg_more(&extra);
        zmq_msg_close(&extra);
    }
    return true;
}

static void log_outcome(hub_t *h, const apply_item *it)
{
    char key[TS_CODE_MAX + 16];
    snprintf(key, sizeof key, "%s|%d", it->child, (int)it->reply.reason);
    if (it->rc == TS_EINPUT && it->reply.reason != TIERSYNC__REASON__REASON_GAP)
        log_limited(&h->limits, key, LOG_WARN, "child %s: refused (%s): %s", it->child,
                    delta_reason_name(it->reply.reason, "?"), it->err.msg);
    else if (it->rc == TS_EINPUT)
        log_limited(&h->limits, key, LOG_INFO, "child %s: %s", it->child, it->err.msg);
    else if (it->rc != TS_OK)
        log_error("child %s: %s", it->child, it->err.msg);
    else if (it->reply.kind == TIERSYNC__ENVELOPE__MSG_ACK)
        log_debug("child %s: applied through seq %llu (%d cells)", it->child,
                  (unsigned long long)it->reply.seq, it->reply.applied_cells);
    int32_t off = it->reply.clock_offset_s;
    if (it->rc == TS_OK && it->reply.clock_told &&
        (off > h->n->cfg.max_clock_skew_s || off < -h->n->cfg.max_clock_skew_s)) {
        snprintf(key, sizeof key, "%s|clock", it->child);
        log_limited(&h->limits, key, LOG_WARN,
                    "child %s: its clock is %+d s (%.1f days) %s "
                    "this node's, beyond sync.max_clock_skew_s = %d: its dates and months are "
                    "off; have its operator set the date and time",
                    it->child, (int)off, off / 86400.0, off > 0 ? "ahead of" : "behind",
                    h->n->cfg.max_clock_skew_s);
    }
}

/* One received batch. Payloads are copied into the batch's arena at once
 * and libzmq's messages closed: with libzmq's zero-copy receive (the
 * default, which the daemon turns off) a message held open pins its whole
 * receive buffer, tens of KB for a 300-byte delta. */
struct hub_batch {
    zmq_msg_t *ids; /* routing ids, for the replies */
    apply_item *items;
    int *item_of; /* message -> item, -1 when dropped */
    int got, nitems, max;
    size_t bytes;
    hmap_str kids;  /* child code -> its messages in the batch */
    arena_t copies; /* payloads and child codes */
    apply_pending *pending;
    atomic_bool committed; /* set by the writer thread when done */
    int wake_fd;           /* and signalled on this eventfd (the hub's) */
};

static void *copy_into(arena_t *a, const void *src, size_t n)
{
    return memcpy(arena_alloc(a, n), src, n);
}

static hub_batch *batch_new(int max)
{
    hub_batch *b = calloc(1, sizeof *b);
    b->max = max;
    b->ids = calloc((size_t)max, sizeof *b->ids);
    b->items = calloc((size_t)max, sizeof *b->items);
    b->item_of = calloc((size_t)max, sizeof *b->item_of);
    arena_init(&b->copies);
    hmap_str_init(&b->kids);
    return b;
}

/* A batch also stops at HUB_BATCH_BYTES of input: bounds memory. */
static bool batch_full(const hub_batch *b)
{
    return b->got >= b->max || b->bytes >= HUB_BATCH_BYTES;
}

/* This node's key rotation moved on: the ROUTER takes the key children
 * should now connect to (they reconnect, as after any restart). */
static int rekey(hub_t *h, ts_err *e)
{
    const keys_t *k = rotate_serving_keys(h->n);
    if (!memcmp(k->pk, h->serving, sizeof h->serving))
        return TS_OK;
    hub_finish(h, NULL);
    zmq_close(h->router);
    h->router = NULL;
    if (open_router(h, e) != TS_OK)
        return e->code;
    char fp[KEYS_FINGERPRINT_LEN];
    keys_fingerprint(h->serving, fp);
    log_info("children now connect with this node's key %s", fp);
    return TS_OK;
}

int hub_tick(hub_t *h, ts_err *e)
{
    hub_conns_sweep(&h->conns, h->n->store, HUB_TICK_MS);
    catdist_offer_children(&h->catalog_offered, h->n, &h->conns, h->router);
    rotate_hub_tick(h->rot, &h->conns, h->router);
    parent_move_tick(&h->move, h->n, &h->conns);
    return rekey(h, e);
}

/* Appends what waits on the socket, up to the batch's bounds; returns how
 * many messages were taken. */
static int batch_recv(hub_t *h, hub_batch *b)
{
    int before = b->got;
    zmq_msg_t body;
    while (!batch_full(b) && recv_one(h, &b->ids[b->got], &body)) {
        size_t len = zmq_msg_size(&body);
        b->bytes += len;
        const char *child = zmq_msg_gets(&body, "User-Id");
        const uint8_t *data = zmq_msg_data(&body);
        zmq_msg_t *id = &b->ids[b->got];
        b->item_of[b->got] = -1;
        bool enrolment = false;
        if (child && *child)
            hub_conns_note(&h->conns, child, zmq_msg_get(&body, ZMQ_SRCFD), zmq_msg_data(id),
                           zmq_msg_size(id));
        if (!child || !*child) {
            log_warn("dropped a message without an authenticated child");
        } else if (parent_move_on_message(&h->move, h->n, h->router, child, id, data, len) ||
                   rotate_hub_on_message(h->rot, h->router, child, id, data, len, &enrolment) ||
                   catdist_serve(h->n, h->router, id, data, len, child, &h->limits)) {
            if (enrolment)
                hub_keys_changed(h); /* answered; the batch only closes its id */
        } else {
            b->item_of[b->got] = b->nitems;
            size_t k = hmap_str_put(&b->kids, child, strlen(child), 0, NULL);
            b->kids.ents[k].val++; /* after the put, which may move ents */
            b->items[b->nitems++] = (apply_item){
                .child = copy_into(&b->copies, child, strlen(child) + 1),
                .data = copy_into(&b->copies, data, len),
                .len = len};
        }
        zmq_msg_close(&body);
        b->got++;
    }
    return b->got - before;
}

/* Decodes and verifies the items received since the last call. */
static void batch_prepare(hub_t *h, hub_batch *b)
{
    if (!b->nitems)
        return;
    if (!b->pending)
        b->pending = apply_begin(h->n, b->items, (size_t)b->max);
    apply_prepare_more(b->pending, (size_t)b->nitems);
}

/* child's messages in batch b (none when there is no b). */
static int count_of(const hub_batch *b, const char *child)
{
    long k = b ? hmap_str_find(&b->kids, child, strlen(child)) : -1;
    return k < 0 ? 0 : b->kids.ents[k].val;
}

/* Acks are cumulative, so an ack that a later one to the same child will
 * cover says nothing new. Marks in skip (each costs an encryption, a send
 * and, at the child, a commit): an ack followed in the same batch by
 * another ack to that child; and a child's last ack when the next batch,
 * already receiving, holds a message of that child too, which will be
 * answered, provided the child has at most HUB_ACK_DEFER_MAX deltas in the
 * two batches, so its window still lets it send meanwhile. Under many
 * children this halves the acks; a child with several deltas per batch
 * (few children) gets every batch's ack. */
static void drop_covered_acks(const hub_batch *b, const hub_batch *next, bool *skip)
{
    hmap_str seen; /* child -> kind of its next reply, walking back */
    hmap_str_init(&seen);
    for (int i = b->got - 1; i >= 0; i--) {
        if (b->item_of[i] < 0)
            continue;
        const apply_item *it = &b->items[b->item_of[i]];
        int added, kind = (int)it->reply.kind;
        size_t k = hmap_str_put(&seen, it->child, strlen(it->child), kind, &added);
        bool ack = kind == TIERSYNC__ENVELOPE__MSG_ACK;
        if (!added) {
            skip[i] = ack && seen.ents[k].val == TIERSYNC__ENVELOPE__MSG_ACK;
        } else {
            int later = count_of(next, it->child);
            skip[i] = ack && later > 0 && count_of(b, it->child) + later <= HUB_ACK_DEFER_MAX;
        }
        seen.ents[k].val = kind;
    }
    hmap_str_free(&seen);
}

/* Sends the replies of a committed batch, in arrival order, and frees it;
 * next: the batch now receiving, if any. */
static void batch_reply(hub_t *h, hub_batch *b, const hub_batch *next)
{
    bool *skip = calloc((size_t)b->got + 1, sizeof *skip);
    drop_covered_acks(b, next, skip);
    for (int i = 0; i < b->got; i++) {
        if (b->item_of[i] >= 0) {
            apply_item *it = &b->items[b->item_of[i]];
            log_outcome(h, it);
            uint8_t *out = NULL;
            size_t len;
            if (!skip[i])
                apply_reply_pack(h->n, &it->reply, &out, &len);
            if (out) {
                zmq_send(h->router, zmq_msg_data(&b->ids[i]), zmq_msg_size(&b->ids[i]),
                         ZMQ_SNDMORE);
                zmq_send(h->router, out, len, 0);
                free(out);
            }
            if (it->reply.reason == TIERSYNC__REASON__REASON_NOT_ENROLLED)
                hub_conns_drop(&h->conns, it->child, "no longer enrolled (tiersync child remove)");
        }
        zmq_msg_close(&b->ids[i]);
    }
    free(skip);
    arena_release(&b->copies);
    hmap_str_free(&b->kids);
    free(b->item_of);
    free(b->items);
    free(b->ids);
    free(b);
}

static void batch_commit(void *arg)
{
    hub_batch *b = arg;
    apply_commit(b->pending);
    atomic_store(&b->committed, true);
    uint64_t one = 1;
    if (write(b->wake_fd, &one, sizeof one) < 0) { /* the waiter then sees the flag */
    }
}

static void hub_finish(hub_t *h, const hub_batch *next)
{
    if (!h->inflight)
        return;
    worker_wait(h->writer);
    batch_reply(h, h->inflight, next);
    h->inflight = NULL;
}

int hub_wake_fd(hub_t *h)
{
    return h->wake_fd;
}

static void drain_wake(hub_t *h)
{
    uint64_t n;
    if (read(h->wake_fd, &n, sizeof n) < 0) { /* nothing to read, or raced: the flag tells */
    }
}

void hub_on_committed(hub_t *h)
{
    drain_wake(h);
    if (h->inflight && atomic_load(&h->inflight->committed))
        hub_finish(h, NULL);
}

/* Until input arrives or the batch in flight has committed. */
static void wait_input(hub_t *h)
{
    zmq_pollitem_t items[] = {{h->router, 0, ZMQ_POLLIN, 0}, {NULL, h->wake_fd, ZMQ_POLLIN, 0}};
    if (zmq_poll(items, 2, HUB_WAIT_MS) > 0 && (items[1].revents & ZMQ_POLLIN))
        drain_wake(h);
}

/* A pipeline of two batches: batch k+1 is received and its signatures
 * verified while batch k commits (its fsync) in a writer thread, which
 * starts at once, so a quiet link waits for nothing. Batches still commit
 * one after the other and replies leave in order: batch k's when k+1
 * starts, or from the daemon's poll when the writer signals hub_wake_fd. */
int hub_on_router(hub_t *h, int max)
{
    hub_batch *b = batch_new(max);
    batch_recv(h, b);
    if (h->inflight && atomic_load(&h->inflight->committed))
        hub_finish(h, b); /* its acks leave before this batch's verification */
    batch_prepare(h, b);
    /* while the previous batch commits, input keeps leaving libzmq's
     * buffers and joins this batch: bigger commits, fewer pinned buffers */
    while (h->inflight && !atomic_load(&h->inflight->committed) && !batch_full(b)) {
        if (batch_recv(h, b))
            batch_prepare(h, b);
        else
            wait_input(h);
    }
    hub_finish(h, b);
    b->wake_fd = h->wake_fd;
    if (b->pending && worker_start(h->writer, batch_commit, b)) {
        h->inflight = b;
        return b->got;
    }
    int got = b->got;
    if (b->pending)
        apply_commit(b->pending);
    batch_reply(h, b, NULL);
    return got;
}
