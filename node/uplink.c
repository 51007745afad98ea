/* uplink.c: the child's connection to its parent and its send window. */
#include "uplink.h"
#include "uplink_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "catalog_dist.h"
#include "delta.h"
#include "link_state.h"
#include "log.h"
#include "outbox.h"
#include "parent_move.h"
#include "rotate_link.h"
#include "rotate_node.h"

void *uplink_socket(uplink_t *u)
{
    return u->dealer;
}
void *uplink_monitor(uplink_t *u)
{
    return u->monitor;
}

static int put_release(store_t *s, store_txn *txn, void *ctx, ts_err *e)
{
    return store_meta_put_u64(s, txn, OUTBOX_META_RELEASE, *(uint64_t *)ctx, e);
}

/* A store that never released starts its first window now: nothing held
 * leaves before a whole window has passed. */
static int start_window(uplink_t *u, ts_err *e)
{
    uint64_t now = (uint64_t)ts_now_ms();
    if (store_write(u->n->store, put_release, &now, e))
        return e->code;
    u->release_ms = (int64_t)now;
    return TS_OK;
}

int uplink_start(uplink_t **out, node_t *n, void *zctx, ts_err *e)
{
    uplink_t *u = calloc(1, sizeof *u);
    u->n = n;
    u->zctx = zctx;
    u->catalog = catdist_fetch_new();
    store_txn *txn;
    if (uplink_dial(u, e) || store_read_begin(n->store, &txn, e)) {
        uplink_stop(&u);
        return TS_ERUNTIME;
    }
    u->acked = store_meta_u64(n->store, txn, LINK_META_ACKED_SEQ);
    u->release_ms = (int64_t)store_meta_u64(n->store, txn, OUTBOX_META_RELEASE);
    u->checkpoint_ms = (int64_t)store_meta_u64(n->store, txn, OUTBOX_META_CHECKPOINT);
    store_read_end(txn);
    u->next_send = u->acked + 1;
    if (!u->release_ms && start_window(u, e)) {
        uplink_stop(&u);
        return TS_ERUNTIME;
    }
    *out = u;
    return TS_OK;
}

void uplink_stop(uplink_t **up)
{
    if (!*up)
        return;
    uplink_hangup(*up);
    catdist_fetch_destroy(&(*up)->catalog);
    free(*up);
    *up = NULL;
}

typedef struct {
    uint64_t connected;
    const char *parent_code;
    uint32_t parent_today;    /* 0: not told */
    int64_t parent_offset_ms; /* the parent's clock minus this node's, when told */
    bool clock_told;
} link_change;

static int link_txn(store_t *s, store_txn *txn, void *vctx, ts_err *e)
{
    link_change *ls = vctx;
    if (store_meta_put_u64(s, txn, LINK_META_CONNECTED, ls->connected, e) ||
        store_meta_put_u64(s, txn, LINK_META_CHANGED_MS, (uint64_t)ts_now_ms(), e))
        return e->code;
    if (ls->parent_today && store_meta_put_u64(s, txn, LINK_META_PARENT_TODAY, ls->parent_today, e))
        return e->code;
    if (ls->clock_told &&
        store_meta_put_u64(s, txn, LINK_META_PARENT_OFFSET, (uint64_t)ls->parent_offset_ms, e))
        return e->code;
    if (ls->parent_code)
        return store_put(s, txn, DB_META, LINK_META_PARENT_CODE, strlen(LINK_META_PARENT_CODE),
                         ls->parent_code, strlen(ls->parent_code), e);
    return TS_OK;
}

static void record_link(uplink_t *u, bool up, const char *parent_code)
{
    link_change ls = {up, parent_code, 0, 0, false};
    ts_err e;
    if (store_write(u->n->store, link_txn, &ls, &e))
        log_warn("cannot record the parent link state: %s", e.msg);
}

/* The chain head, read in its own read transaction. */
static int read_head(uplink_t *u, outbox_head *head)
{
    store_txn *txn;
    ts_err e;
    if (store_read_begin(u->n->store, &txn, &e))
        return TS_ERUNTIME;
    outbox_head_get(u->n, txn, head);
    store_read_end(txn);
    return TS_OK;
}

void uplink_send_hello(uplink_t *u)
{
    outbox_head head;
    if (read_head(u, &head))
        return;
    uint8_t *buf;
    size_t len;
    wire_pack_hello(u->n->cfg.code, u->client_pk, head.seq, head.hash, &buf, &len);
    zmq_send(u->dealer, buf, len, ZMQ_DONTWAIT);
    free(buf);
    u->welcomed = false;
    u->last_hello_ms = ts_mono_ms();
}

void uplink_on_monitor(uplink_t *u)
{
    for (;;) {
        zmq_msg_t ev, addr;
        zmq_msg_init(&ev);
        if (zmq_msg_recv(&ev, u->monitor, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&ev);
            return;
        }
        uint16_t event = 0;
        if (zmq_msg_size(&ev) >= 2)
            memcpy(&event, zmq_msg_data(&ev), sizeof event);
        zmq_msg_init(&addr);
        if (zmq_msg_more(&ev))
            zmq_msg_recv(&addr, u->monitor, 0);
        zmq_msg_close(&ev);
        zmq_msg_close(&addr);
        int64_t now = ts_mono_ms();
        if (event == ZMQ_EVENT_HANDSHAKE_SUCCEEDED) {
            log_info("connected to parent %s", u->n->cfg.parent);
            u->connected = true;
            record_link(u, true, NULL);
            uplink_settle_parent_key(u);
            uplink_send_hello(u);
        } else if (event == ZMQ_EVENT_DISCONNECTED && u->connected) {
            u->down_since_ms = now;
            log_warn("lost the parent link %s; changes keep coalescing until it returns",
                     u->n->cfg.parent);
            u->connected = u->welcomed = false;
            record_link(u, false, NULL);
        } else if (event &
                   (ZMQ_EVENT_HANDSHAKE_FAILED_AUTH | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL)) {
            /* libzmq may stop retrying after a refusal: redial ourselves, so an
             * enrolment made later on the parent takes effect */
            u->redial_at_ms = now + UPLINK_RECONNECT_MAX_MS;
            if (now - u->last_auth_warn_ms > 60000) {
                log_error("parent %s refused this node's key: ask its operator to run "
                          "'tiersync child add %s <this node's key>', and check parent.key",
                          u->n->cfg.parent, u->n->cfg.code);
                u->last_auth_warn_ms = now;
            }
        }
    }
}

static void start_snapshot(uplink_t *u, uint64_t parent_last)
{
    ts_err e;
    uint64_t first;
    if (outbox_snapshot(u->n, parent_last, &first, &e)) {
        log_error("cannot build a snapshot for the parent: %s", e.msg);
        return;
    }
    log_info("sending a snapshot to the parent from seq %llu (parent had %llu)",
             (unsigned long long)first, (unsigned long long)parent_last);
    u->acked = first - 1; /* the parent accepts a snapshot at any seq past its last */
    u->next_send = first;
    u->snap_first = first;
    u->checkpoint_ms = ts_now_ms();
}

/* A checkpoint is due checkpoint_days (tests: checkpoint_s) after the last
 * snapshot or checkpoint; each bounds the trail the parent keeps. */
static void checkpoint_if_due(uplink_t *u)
{
    const ts_config *c = &u->n->cfg;
    int64_t period = c->checkpoint_s > 0 ? (int64_t)c->checkpoint_s * 1000
                                         : (int64_t)c->checkpoint_days * 86400 * 1000;
    int64_t now = ts_now_ms();
    if (u->checkpoint_ms && now - u->checkpoint_ms < period)
        return;
    ts_err e;
    uint64_t first;
    u->checkpoint_ms = now; /* failed or not: try again a period later, not at every tick */
    if (outbox_checkpoint(u->n, &first, &e))
        log_error("cannot build a checkpoint for the parent: %s", e.msg);
    else
        log_info("checkpoint for the parent at seq %llu", (unsigned long long)first);
}

/* Record-derived changes leave when a release window has passed: every
 * release_s from the last release, whether anything was held or not, so
 * that the release times never depend on the edits' times. */
static bool release_due(const uplink_t *u, int64_t now)
{
    return now - u->release_ms >= (int64_t)u->n->cfg.release_s * 1000;
}

static bool outbox_has(uplink_t *u, uint64_t seq)
{
    uint8_t *data;
    size_t len;
    if (outbox_get(u->n, seq, &data, &len, NULL) != TS_OK)
        return false;
    free(data);
    return true;
}

static void on_welcome(uplink_t *u, const Tiersync__Welcome *w)
{
    ts_err e;
    outbox_head head;
    if (read_head(u, &head))
        return;
    u->welcomed = true;
    u->announced_ms = 0; /* a rotation under way is announced at once */
    u->last_progress_ms = ts_mono_ms();
    uint32_t today = w->today ? w->today : LINK_PARENT_TODAY_UNTOLD;
    link_change ls = {true, w->code && ts_code_valid(w->code) ? w->code : NULL, today,
                      w->now_ms - ts_now_ms(), w->now_ms > 0};
    if (store_write(u->n->store, link_txn, &ls, &e))
        log_warn("cannot record the parent link state: %s", e.msg);
    u->parent_today = today;
    uint64_t last = w->last_seq;
    bool same_hash = w->last_hash.len == 32 && !memcmp(w->last_hash.data, head.hash, 32);
    uint8_t prev[32];
    if (head.seq == 0 || last > head.seq) {
        start_snapshot(u, last); /* a chain starts with a snapshot; or we lost our store */
    } else if (last == head.seq && same_hash) {
        u->acked = last;
        u->next_send = last + 1;
        outbox_ack(u->n, last, &e);
    } else if (last < head.seq && outbox_prev_hash(u->n, last + 1, prev) &&
               w->last_hash.len == 32 && !memcmp(prev, w->last_hash.data, 32)) {
        u->acked = last;
        u->next_send = last + 1;
        outbox_ack(u->n, last, &e);
    } else if (u->snap_first > last && outbox_has(u, u->snap_first)) {
        /* the snapshot we are sending still stands: send it again, do not rebuild it */
        u->acked = u->snap_first - 1;
        u->next_send = u->snap_first;
    } else {
        start_snapshot(u, last);
    }
}

static void on_nack(uplink_t *u, const Tiersync__Nack *nk)
{
    const char *reason = delta_reason_name(nk->reason, "?");
    uint8_t *data;
    size_t len;
    bool chain = nk->reason == TIERSYNC__REASON__REASON_GAP ||
        nk->reason == TIERSYNC__REASON__REASON_BROKEN_CHAIN;
    /* one loss draws a nack for every delta in flight behind it: act once */
    if (chain && (nk->expected <= u->snap_first || nk->expected == u->rewound_to))
        return;
    switch (nk->reason) {
    case TIERSYNC__REASON__REASON_GAP:
        if (nk->expected > 0 && outbox_get(u->n, nk->expected, &data, &len, NULL) == TS_OK) {
            free(data);
            u->next_send = u->rewound_to = nk->expected;
            u->acked = nk->expected - 1;
        } else {
            start_snapshot(u, nk->expected ? nk->expected - 1 : 0);
        }
        break;
    case TIERSYNC__REASON__REASON_BROKEN_CHAIN:
        start_snapshot(u, nk->expected ? nk->expected - 1 : 0);
        break;
    default:
        log_error("parent refused delta (%s): %s; retrying in %d s", reason,
                  nk->detail ? nk->detail : "", UPLINK_REFUSED_BACKOFF_MS / 1000);
        u->welcomed = false;
        u->quiet_until_ms = ts_mono_ms() + UPLINK_REFUSED_BACKOFF_MS;
    }
}

/* The pinned parent was merged: the new parent's endpoint and key are
 * taken (parent_move.h) and dialled; the chain starts over there. */
static void on_parent_move(uplink_t *u, const Tiersync__ParentMove *m, const uint8_t *wire,
                           size_t len)
{
    char why[200];
    bool moved;
    ts_err e;
    if (parent_move_adopt(u->n, m, wire, len, &moved, why, sizeof why, &e)) {
        log_error("cannot take the parent's move: %s", e.msg);
        return;
    }
    if (why[0])
        log_warn("refused the parent's move: %s", why);
    if (!moved)
        return;
    uplink_hangup(u);
    u->alt = false;
    u->acked = u->next_send = u->rewound_to = 0;
    if (uplink_dial(u, &e))
        log_error("%s", e.msg);
}

/* The parent answers this node's announcement: accepted, the link starts
 * over with the new key. */
static void on_rotation_ack(uplink_t *u, const Tiersync__KeyRotationAck *a)
{
    ts_err e;
    if (!a->accepted) {
        log_error("the parent refused this node's key rotation: %s; retrying in %d s", a->detail,
                  UPLINK_REFUSED_BACKOFF_MS / 1000);
        u->quiet_until_ms = ts_mono_ms() + UPLINK_REFUSED_BACKOFF_MS;
        return;
    }
    if (a->new_key.len != crypto_sign_PUBLICKEYBYTES ||
        memcmp(a->new_key.data, u->n->keys.pk, crypto_sign_PUBLICKEYBYTES) != 0)
        return; /* an answer to another rotation */
    if (rotate_parent_acked(u->n, a->new_key.data, &e)) {
        log_error("cannot record the parent's acknowledgement of the key rotation: %s", e.msg);
        return;
    }
    log_info("the parent enrolled this node's new key; reconnecting with it");
    uplink_hangup(u);
    u->alt = false;
    if (uplink_dial(u, &e))
        log_error("%s", e.msg);
}

static uint64_t head_seq(uplink_t *u)
{
    outbox_head head;
    return read_head(u, &head) ? 0 : head.seq;
}

void uplink_on_message(uplink_t *u)
{
    for (;;) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, u->dealer, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&m);
            return;
        }
        Tiersync__Envelope *env = tiersync__envelope__unpack(NULL, zmq_msg_size(&m),
                                                             zmq_msg_data(&m));
        /* catalog messages, and a Welcome's catalog offer (catalog_dist.h) */
        bool catalog = env &&
            catdist_from_parent(u->catalog, u->n, u->dealer, u->server_pk, env, zmq_msg_data(&m),
                                zmq_msg_size(&m));
        if (env && env->msg_case == TIERSYNC__ENVELOPE__MSG_PARENT_MOVE)
            on_parent_move(u, env->parent_move, zmq_msg_data(&m), zmq_msg_size(&m));
        zmq_msg_close(&m);
        if (!env) {
            log_warn("undecodable message from the parent; ignored");
            continue;
        }
        ts_err e;
        switch (env->msg_case) {
        case TIERSYNC__ENVELOPE__MSG_WELCOME: on_welcome(u, env->welcome); break;
        case TIERSYNC__ENVELOPE__MSG_ACK:
            if (env->ack->seq > head_seq(u)) {
                log_warn("the parent acknowledged seq %llu beyond this node's head; "
                         "starting over",
                         (unsigned long long)env->ack->seq);
                uplink_send_hello(u);
            } else if (env->ack->seq > u->acked) {
                u->acked = env->ack->seq;
                if (u->next_send <= u->acked)
                    u->next_send = u->acked + 1;
                if (outbox_ack(u->n, u->acked, &e))
                    log_warn("cannot drop acknowledged deltas: %s", e.msg);
            }
            u->last_progress_ms = ts_mono_ms();
            if (env->ack->today && env->ack->today != u->parent_today) {
                link_change ls = {1, NULL, env->ack->today, 0, false};
                if (store_write(u->n->store, link_txn, &ls, &e) == TS_OK)
                    u->parent_today = env->ack->today; /* its month may have begun */
            }
            break;
        case TIERSYNC__ENVELOPE__MSG_NACK:
            u->last_progress_ms = ts_mono_ms();
            on_nack(u, env->nack);
            break;
        case TIERSYNC__ENVELOPE__MSG_ROTATION:
            rotate_link_from_parent(u->n, u->dealer, env->rotation);
            break;
        case TIERSYNC__ENVELOPE__MSG_ROTATION_ACK: on_rotation_ack(u, env->rotation_ack); break;
        case TIERSYNC__ENVELOPE__MSG_PARENT_MOVE: break; /* taken above, with its bytes */
        default:
            if (!catalog)
                log_warn("unexpected message type %d from the parent; ignored", (int)env->msg_case);
        }
        tiersync__envelope__free_unpacked(env, NULL);
    }
}

/* Cells and unit announcements waiting to go up; in *held, the changes
 * held for the release window. */
static uint64_t pending_work(uplink_t *u, uint64_t *held)
{
    store_txn *txn;
    ts_err e;
    *held = 0;
    if (store_read_begin(u->n->store, &txn, &e))
        return 0;
    uint64_t n = store_count(u->n->store, txn, DB_PENDING) +
        store_count(u->n->store, txn, DB_ANNOUNCE);
    *held = store_count(u->n->store, txn, DB_HELD);
    store_read_end(txn);
    return n;
}

int uplink_tick(uplink_t *u)
{
    int64_t now = ts_mono_ms();
    int wait = u->n->cfg.flush_ms;
    if (now < u->quiet_until_ms)
        return (int)(u->quiet_until_ms - now);
    if (u->redial_at_ms && now >= u->redial_at_ms && !u->connected) {
        ts_err e;
        u->redial_at_ms = 0;
        uplink_hangup(u);
        if (uplink_dial(u, &e)) {
            log_error("%s", e.msg);
            u->quiet_until_ms = now + UPLINK_RECONNECT_MAX_MS;
        }
    }
    if (!u->connected && now - u->down_since_ms >= UPLINK_ROTATE_TRY_MS)
        uplink_try_other_keys(u);
    if (u->connected && !u->welcomed) {
        if (now - u->last_hello_ms >= UPLINK_HELLO_RETRY_MS)
            uplink_send_hello(u);
        return UPLINK_HELLO_RETRY_MS;
    }
    rotate_state rot;
    bool gated = uplink_announcing(u, &rot); /* deltas signed by the new key wait for the parent */
    if (gated && u->welcomed && now - u->announced_ms >= ROTATE_RESEND_MS) {
        uint8_t *msg;
        size_t len;
        if (rotate_message(u->n, &msg, &len) == TS_OK) {
            zmq_send(u->dealer, msg, len, ZMQ_DONTWAIT);
            free(msg);
        }
        u->announced_ms = now;
    }
    uint64_t head = head_seq(u);
    if (head == 0) { /* every chain starts with a snapshot of the whole contribution */
        start_snapshot(u, 0);
        head = head_seq(u);
    }
    if (u->welcomed)
        checkpoint_if_due(u);
    /* flush: only while the window has room, so changes coalesce otherwise;
     * a change waits at most flush_ms after the last delta was made, and
     * none once a delta's worth of cells waits; the changes held for the
     * release window join when it opens */
    int64_t wall = ts_now_ms();
    bool every_flush = u->n->cfg.release_s == 0;
    uint64_t held, waiting = pending_work(u, &held);
    /* with release_s = 0 only what a longer window left held is released */
    bool release = every_flush ? held > 0 : release_due(u, wall);
    waiting += every_flush ? held : 0;
    bool room = head - u->acked < (uint64_t)u->n->cfg.window;
    if ((release && !every_flush && room) ||
        (waiting && now - u->last_flush_ms >= u->n->cfg.flush_ms) ||
        waiting >= (uint64_t)u->n->cfg.max_cells) {
        bool made = true;
        ts_err e;
        u->last_flush_ms = now;
        /* a backlog larger than max_cells leaves in several deltas at once */
        while (made && head - u->acked < (uint64_t)u->n->cfg.window) {
            outbox_release r = {0, 0};
            if (outbox_flush(u->n, release ? &r : NULL, &made, &e)) {
                log_error("cannot turn pending changes into a delta: %s", e.msg);
                break;
            }
            if (release) {
                u->release_ms = r.at_ms;
                if (r.cells)
                    log_info("released %zu record-derived cell changes (release time %lld ms)",
                             r.cells, (long long)r.at_ms);
            }
            release = false;
            head += made;
        }
    }
    if (!every_flush) {
        int64_t to_release = u->release_ms + (int64_t)u->n->cfg.release_s * 1000 - wall;
        if (to_release > 0 && to_release < wait) /* past due: blocked by the window */
            wait = (int)to_release;
    }
    if (u->welcomed) {
        catdist_fetch_tick(u->catalog, u->dealer);
        while (u->next_send <= head && u->next_send <= u->acked + (uint64_t)u->n->cfg.window &&
               !(gated && u->next_send >= rot.from_seq)) {
            uint8_t *data;
            size_t len;
            if (outbox_get_signed(u->n, u->next_send, &data, &len, NULL) != TS_OK) {
                start_snapshot(u, u->acked); /* the outbox lost it: start over */
                break;
            }
            zmq_send(u->dealer, data, len, ZMQ_DONTWAIT);
            free(data);
            if (u->next_send == u->acked + 1)
                u->last_progress_ms = now;
            u->next_send++;
        }
        if (u->next_send > u->acked + 1 && now - u->last_progress_ms > UPLINK_ACK_TIMEOUT_MS) {
            log_warn("no answer from the parent for %d ms; saying hello again",
                     UPLINK_ACK_TIMEOUT_MS);
            uplink_send_hello(u);
        }
    }
    return wait;
}
