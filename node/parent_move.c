/* parent_move.c: the ParentMove, sent by a merged parent and taken by its
 * children (parent_move.h). */
#include "parent_move.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "delta.h"
#include "hub.h"
#include "invite.h"
#include "keys.h"
#include "link_state.h"
#include "log.h"
#include "merge_state.h"
#include "rotate.h"
#include "wire_text.h"

/* An Envelope holding field 1 (hello) or 3 (delta) starts with its tag:
 * wire type 2, so (field << 3) | 2. */
#define MOVE_TAG_HELLO ((1 << 3) | 2)
#define MOVE_TAG_DELTA ((3 << 3) | 2)

static bool meta_text(store_t *s, store_txn *txn, const char *key, char *out, size_t cap)
{
    store_val v;
    if (store_get(s, txn, DB_META, key, strlen(key), &v, NULL) != TS_OK || v.len >= cap)
        return false;
    memcpy(out, v.data, v.len);
    out[v.len] = '\0';
    return true;
}

void parent_move_load(node_t *n, parent_move *pm, bool force)
{
    int64_t now = ts_mono_ms();
    if (!force && pm->loaded_ms && now - pm->loaded_ms < HUB_TICK_MS)
        return;
    store_txn *txn;
    ts_err e;
    merge_state m;
    store_val v;
    if (store_read_begin(n->store, &txn, &e))
        return;
    pm->loaded_ms = now;
    merge_state_get(n->store, txn, &m);
    pm->moved = m.phase == MERGE_MERGED &&
        meta_text(n->store, txn, LINK_META_MOVE_ENDPOINT, pm->endpoint, sizeof pm->endpoint) &&
        store_get(n->store, txn, DB_META, LINK_META_MOVE_KEY, strlen(LINK_META_MOVE_KEY), &v,
                  NULL) == TS_OK &&
        v.len == sizeof pm->key;
    if (pm->moved) {
        memcpy(pm->key, v.data, sizeof pm->key);
        snprintf(pm->code, sizeof pm->code, "%s", m.into);
        pm->on = m.on;
    }
    store_read_end(txn);
}

static void send_to(void *router, zmq_msg_t *id, const uint8_t *msg, size_t len)
{
    zmq_send(router, zmq_msg_data(id), zmq_msg_size(id), ZMQ_SNDMORE | ZMQ_DONTWAIT);
    zmq_send(router, msg, len, ZMQ_DONTWAIT);
}

static void pack_move(const parent_move *pm, uint8_t **out, size_t *len)
{
    Tiersync__ParentMove m = TIERSYNC__PARENT_MOVE__INIT;
    m.new_parent_code = (char *)pm->code;
    m.endpoint = (char *)pm->endpoint;
    m.key = (ProtobufCBinaryData){sizeof pm->key, (uint8_t *)pm->key};
    m.on = (uint32_t)pm->on;
    Tiersync__Envelope env = TIERSYNC__ENVELOPE__INIT;
    env.msg_case = TIERSYNC__ENVELOPE__MSG_PARENT_MOVE;
    env.parent_move = &m;
    wire_pack(&env, out, len);
}

static void pack_nack(const parent_move *pm, uint64_t expected, uint8_t **out, size_t *len)
{
    char detail[CONFIG_ENDPOINT_MAX + 3 * TS_CODE_MAX + 200], d[MERGE_DATE_TEXT];
    snprintf(detail, sizeof detail,
             "this parent was merged into %s from %s: connect to %s at %s (the ParentMove "
             "says so); deltas are no longer applied here",
             pm->code, merge_date_text(pm->on, d), pm->code, pm->endpoint);
    Tiersync__Nack nk = TIERSYNC__NACK__INIT;
    nk.expected = expected;
    nk.reason = TIERSYNC__REASON__REASON_NOT_ENROLLED;
    nk.detail = detail;
    Tiersync__Envelope env = TIERSYNC__ENVELOPE__INIT;
    env.msg_case = TIERSYNC__ENVELOPE__MSG_NACK;
    env.nack = &nk;
    wire_pack(&env, out, len);
}

static size_t told_key(const char *child, char *k, size_t cap)
{
    int n = snprintf(k, cap, "%s%s", LINK_META_MOVE_TOLD, child);
    return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

static int told_fn(store_t *s, store_txn *txn, void *vctx, ts_err *e)
{
    const char *child = vctx;
    char k[sizeof LINK_META_MOVE_TOLD + TS_CODE_MAX];
    size_t n = told_key(child, k, sizeof k);
    store_val v;
    if (!n || store_get(s, txn, DB_META, k, n, &v, NULL) == TS_OK)
        return TS_OK;
    return store_meta_put_u64(s, txn, k, (uint64_t)ts_now_ms(), e);
}

static bool was_told(store_t *s, store_txn *txn, const char *child)
{
    char k[sizeof LINK_META_MOVE_TOLD + TS_CODE_MAX];
    size_t n = told_key(child, k, sizeof k);
    store_val v;
    return n && store_get(s, txn, DB_META, k, n, &v, NULL) == TS_OK;
}

bool parent_move_on_message(const parent_move *pm, node_t *n, void *router, const char *child,
                            zmq_msg_t *id, const uint8_t *data, size_t len)
{
    if (!pm->moved || len == 0 || (data[0] != MOVE_TAG_HELLO && data[0] != MOVE_TAG_DELTA))
        return false;
    uint8_t *out;
    size_t olen;
    ts_err e;
    pack_move(pm, &out, &olen);
    send_to(router, id, out, olen);
    free(out);
    if (data[0] == MOVE_TAG_DELTA) {
        store_txn *txn;
        store_child ch = {0};
        if (store_read_begin(n->store, &txn, &e) == TS_OK) {
            store_child_get(n->store, txn, child, &ch);
            store_read_end(txn);
        }
        pack_nack(pm, ch.last_seq + 1, &out, &olen);
        send_to(router, id, out, olen);
        free(out);
    }
    if (store_write(n->store, told_fn, (void *)child, &e))
        log_warn("cannot record that child %s was told to move: %s", child, e.msg);
    else
        log_info("child %s: told to move to %s at %s", child, pm->code, pm->endpoint);
    return true;
}

typedef struct {
    node_t *n;
    store_txn *txn;
} untold_ctx;

static bool untold(const char *child, void *vctx)
{
    untold_ctx *u = vctx;
    store_child ch;
    return store_child_get(u->n->store, u->txn, child, &ch) == TS_OK &&
        !was_told(u->n->store, u->txn, child);
}

void parent_move_tick(parent_move *pm, node_t *n, hub_conns *conns)
{
    parent_move_load(n, pm, false);
    if (!pm->moved)
        return;
    untold_ctx u = {n, NULL};
    ts_err e;
    if (store_read_begin(n->store, &u.txn, &e))
        return;
    hub_conns_drop_if(conns, untold, &u, "its parent was merged: it is to reconnect and be told");
    store_read_end(u.txn);
}

typedef struct {
    store_t *s;
    store_txn *txn;
    size_t n;
    char *first;
} count_ctx;

static int count_untold(const store_val *k, const store_val *v, void *vctx)
{
    count_ctx *c = vctx;
    char code[TS_CODE_MAX];
    (void)v;
    if (!store_key_code(k, code))
        return 0;
    if (!was_told(c->s, c->txn, code) && c->n++ == 0)
        snprintf(c->first, TS_CODE_MAX, "%s", code);
    return 0;
}

size_t parent_move_untold(store_t *s, store_txn *txn, char first[TS_CODE_MAX])
{
    count_ctx c = {s, txn, 0, first};
    ts_err e;
    first[0] = '\0';
    store_scan(s, txn, DB_CHILDREN, NULL, count_untold, &c, NULL, &e);
    return c.n;
}

/* ---- child side -------------------------------------------------------- */

static int drop_prev_fn(store_t *s, store_txn *txn, void *vctx, ts_err *e)
{
    (void)vctx;
    store_val v;
    if (store_get(s, txn, DB_META, ROTATE_META_PARENT_PREV, strlen(ROTATE_META_PARENT_PREV), &v,
                  NULL) != TS_OK)
        return TS_OK;
    return store_del(s, txn, DB_META, ROTATE_META_PARENT_PREV, strlen(ROTATE_META_PARENT_PREV), e);
}

static bool refuse(char *why, size_t whysz, const char *what)
{
    snprintf(why, whysz, "%s", what);
    return false;
}

static bool valid_move(const Tiersync__ParentMove *m, const uint8_t *wire, size_t len, char *why,
                       size_t whysz)
{
    const char *where = NULL;
    ts_err e;
    if (!wire_text_ok(&tiersync__envelope__descriptor, wire, len, &where))
        return refuse(why, whysz, "a text field is not UTF-8 text");
    if (!ts_code_valid(m->new_parent_code))
        return refuse(why, whysz, "the new parent's code is not a valid unit code");
    if (m->key.len != crypto_sign_PUBLICKEYBYTES)
        return refuse(why, whysz, "the new parent's key is not 32 bytes");
    if (m->on < 19000101 || m->on > 99991231 || m->on % 100 != 1)
        return refuse(why, whysz, "the merge date is not the first day of a month");
    if (invite_dialable(m->endpoint, "the new parent's endpoint", &e)) {
        snprintf(why, whysz, "%s", e.msg);
        return false;
    }
    return true;
}

int parent_move_adopt(node_t *n, const Tiersync__ParentMove *m, const uint8_t *wire, size_t len,
                      bool *moved, char *why, size_t whysz, ts_err *e)
{
    char hex[65], old_code[TS_CODE_MAX] = "?", fp[KEYS_FINGERPRINT_LEN];
    store_txn *txn;
    *moved = false;
    why[0] = '\0';
    if (!valid_move(m, wire, len, why, whysz))
        return TS_OK;
    ts_hex(m->key.data, m->key.len, hex);
    if (!strcmp(n->cfg.parent, m->endpoint) && !strcmp(n->cfg.parent_key, hex))
        return TS_OK; /* moved already */
    if (store_read_begin(n->store, &txn, e) == TS_OK) {
        meta_text(n->store, txn, LINK_META_PARENT_CODE, old_code, sizeof old_code);
        store_read_end(txn);
    }
    /* a previous key of the old parent (a rotation) is no key of the new one */
    if (store_write(n->store, drop_prev_fn, NULL, e))
        return e->code;
    ts_config next = n->cfg;
    snprintf(next.parent, sizeof next.parent, "%s", m->endpoint);
    snprintf(next.parent_key, sizeof next.parent_key, "%s", hex);
    if (config_write(&next, e))
        return e->code;
    /* only the two fields change (other threads read the rest meanwhile) */
    memcpy(n->cfg.parent, next.parent, sizeof next.parent);
    memcpy(n->cfg.parent_key, next.parent_key, sizeof next.parent_key);
    keys_fingerprint(m->key.data, fp);
    log_info("parent moved: %s -> %s at %s; key %s (parent.endpoint and parent.key in %s/%s)",
             old_code, m->new_parent_code, m->endpoint, fp, n->cfg.dir, CONFIG_FILE);
    *moved = true;
    return TS_OK;
}
