/* rotate_node.c: a key rotation at the rotating node: the new pair made,
 * the rotation recorded and the pair put in place, acknowledgements
 * counted, the old pair wiped at the end (see rotate.h).
 *
 * Every step is safe to repeat and the state is on disk before the step
 * that depends on it, so a kill -9 anywhere leaves a rotation that the next
 * rotate_advance takes on: node.key.new before the record, the record
 * (with node.key.old written) before the renames, the renames before the
 * in-memory switch. */
#include "rotate_node.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "link_state.h"
#include "outbox.h"
#include "util.h"

#define ROTATE_ACK_PREFIX "rotation_ack|"

int rotate_request(node_t *n, ts_err *e)
{
    rotate_state st;
    if (rotate_pending(n, &st) || keys_exist(n->cfg.dir, ROTATE_NEW_SUFFIX))
        return ts_fail(e, TS_EINPUT,
                       "a key rotation is already under way at %s: wait until "
                       "'tiersync status' no longer shows it, then rotate again",
                       n->cfg.dir);
    keys_t k;
    if (keys_generate(&k, e))
        return e->code;
    int rc = keys_save_as(&k, n->cfg.dir, ROTATE_NEW_SUFFIX, e);
    keys_wipe(&k);
    return rc;
}

typedef struct {
    node_t *n;
    const keys_t *next;
    rotate_state st;
} begin_ctx;

/* Records the rotation: the chain head fixes from_seq in the same
 * transaction, so no delta is made with the old key past it. */
static int begin_txn(store_t *s, store_txn *txn, void *vctx, ts_err *e)
{
    begin_ctx *b = vctx;
    node_t *n = b->n;
    outbox_head head;
    outbox_head_get(n, txn, &head);
    rotate_claim c = {.from_seq = head.seq + 1, .created_ms = ts_now_ms()};
    snprintf(c.code, sizeof c.code, "%s", n->cfg.code);
    memcpy(c.old_pk, n->keys.pk, sizeof c.old_pk);
    memcpy(c.new_pk, b->next->pk, sizeof c.new_pk);
    uint8_t *msg;
    size_t len;
    rotate_pack(&c, &n->keys, b->next, &msg, &len);
    memset(&b->st, 0, sizeof b->st);
    memcpy(b->st.old_pk, c.old_pk, sizeof c.old_pk);
    memcpy(b->st.new_pk, c.new_pk, sizeof c.new_pk);
    b->st.from_seq = c.from_seq;
    b->st.created_ms = c.created_ms;
    b->st.parent_done = !store_has_parent(s);
    int rc = store_put(s, txn, DB_META, ROTATE_META_MSG, strlen(ROTATE_META_MSG), msg, len, e);
    free(msg);
    if (rc == TS_OK)
        rc = store_put(s, txn, DB_META, ROTATE_META_STATE, strlen(ROTATE_META_STATE), &b->st,
                       sizeof b->st, e);
    return rc;
}

/* A requested rotation (node.key.new) becomes a recorded one. */
static int begin(node_t *n, rotate_state *st, ts_err *e)
{
    keys_t next;
    if (keys_load_as(&next, n->cfg.dir, ROTATE_NEW_SUFFIX, e))
        return ts_err_wrap(e, "the key made by 'tiersync key rotate'");
    begin_ctx b = {.n = n, .next = &next};
    int rc = keys_save_as(&n->keys, n->cfg.dir, ROTATE_OLD_SUFFIX, e);
    if (rc == TS_OK)
        rc = store_write(n->store, begin_txn, &b, e);
    keys_wipe(&next);
    *st = b.st;
    return rc;
}

/* The new pair in place and loaded, the old one loaded beside it. */
static int put_in_place(node_t *n, const rotate_state *st, bool *changed, ts_err *e)
{
    const char *dir = n->cfg.dir;
    if (keys_exist(dir, ROTATE_NEW_SUFFIX)) {
        keys_t next;
        if (keys_load_as(&next, dir, ROTATE_NEW_SUFFIX, e))
            return e->code;
        bool ours = !memcmp(next.pk, st->new_pk, sizeof next.pk);
        keys_wipe(&next);
        if (!ours)
            return ts_fail(e, TS_ERUNTIME,
                           "%s/%s%s is not the key the rotation under way "
                           "announces; remove it",
                           dir, KEYS_SECRET_FILE, ROTATE_NEW_SUFFIX);
        if (keys_rename(dir, ROTATE_NEW_SUFFIX, "", e))
            return e->code;
    }
    if (keys_repair(dir, ROTATE_NEW_SUFFIX, e))
        return e->code;
    if (memcmp(n->keys.pk, st->new_pk, sizeof n->keys.pk) != 0) {
        keys_t now;
        if (keys_load(&now, dir, e))
            return e->code;
        if (memcmp(now.pk, st->new_pk, sizeof now.pk) != 0) {
            keys_wipe(&now);
            return ts_fail(e, TS_ERUNTIME,
                           "%s/%s is neither key of the rotation under way; "
                           "restore the node's key pair from backup",
                           dir, KEYS_SECRET_FILE);
        }
        keys_wipe(&n->keys);
        n->keys = now;
        *changed = true;
    }
    if (!n->has_old_keys) {
        if (keys_load_as(&n->old_keys, dir, ROTATE_OLD_SUFFIX, e))
            return ts_err_wrap(e, "the key being rotated out");
        n->has_old_keys = true;
        n->old_keys_until = st->from_seq;
    }
    return TS_OK;
}

static size_t ack_key(const char *child, char *out)
{
    return (size_t)snprintf(out, sizeof ROTATE_ACK_PREFIX + TS_CODE_MAX, "%s%s", ROTATE_ACK_PREFIX,
                            child);
}

bool rotate_child_done(store_t *s, store_txn *txn, const char *child)
{
    char key[sizeof ROTATE_ACK_PREFIX + TS_CODE_MAX];
    store_val v;
    return store_get(s, txn, DB_META, key, ack_key(child, key), &v, NULL) == TS_OK;
}

typedef struct {
    store_t *s;
    store_txn *txn;
    int64_t since_ms;
    rotate_waiting_fn fn;
    void *ctx;
    size_t n;
} waiting_ctx;

static int check_ack(const store_val *k, const store_val *v, void *vctx)
{
    waiting_ctx *w = vctx;
    store_child ch;
    char code[TS_CODE_MAX];
    if (v->len != sizeof ch || k->len >= TS_CODE_MAX)
        return 0;
    memcpy(&ch, v->data, sizeof ch);
    memcpy(code, k->data, k->len);
    code[k->len] = '\0';
    /* a child enrolled after the rotation began pins the new key already */
    if (ch.enrolled_ms > w->since_ms || rotate_child_done(w->s, w->txn, code))
        return 0;
    w->n++;
    return w->fn ? w->fn(code, w->ctx) : 1;
}

size_t rotate_waiting(store_t *s, store_txn *txn, const rotate_state *st, rotate_waiting_fn fn,
                      void *ctx)
{
    waiting_ctx w = {s, txn, st->created_ms, fn, ctx, 0};
    if (store_scan(s, txn, DB_CHILDREN, NULL, check_ack, &w, NULL, NULL) != TS_OK)
        return w.n + 1; /* not read through: someone may still wait */
    return w.n;
}

bool rotate_children_done(node_t *n)
{
    store_txn *txn;
    ts_err e;
    rotate_state st;
    if (store_read_begin(n->store, &txn, &e) != TS_OK)
        return false;
    bool done = !rotate_state_get(n->store, txn, &st) ||
        !rotate_waiting(n->store, txn, &st, NULL, NULL);
    store_read_end(txn);
    return done;
}

const keys_t *rotate_serving_keys(node_t *n)
{
    return n->has_old_keys && !rotate_children_done(n) ? &n->old_keys : &n->keys;
}

typedef struct {
    char (*keys)[sizeof ROTATE_ACK_PREFIX + TS_CODE_MAX];
    size_t n;
} ack_list;

static int collect_ack(const store_val *k, const store_val *v, void *vctx)
{
    (void)v;
    ack_list *l = vctx;
    if (k->len >= sizeof l->keys[0])
        return 0;
    l->keys = ts_xrealloc(l->keys, (l->n + 1) * sizeof *l->keys);
    memcpy(l->keys[l->n], k->data, k->len);
    l->keys[l->n++][k->len] = '\0';
    return 0;
}

static int finish_txn(store_t *s, store_txn *txn, void *vctx, ts_err *e)
{
    (void)vctx;
    ack_list l = {0};
    int rc = store_scan(s, txn, DB_META, ROTATE_ACK_PREFIX, collect_ack, &l, NULL, e);
    for (size_t i = 0; i < l.n && rc == TS_OK; i++)
        rc = store_del(s, txn, DB_META, l.keys[i], strlen(l.keys[i]), e);
    free(l.keys);
    if (rc == TS_OK)
        rc = store_del(s, txn, DB_META, ROTATE_META_MSG, strlen(ROTATE_META_MSG), e);
    if (rc == TS_OK)
        rc = store_del(s, txn, DB_META, ROTATE_META_STATE, strlen(ROTATE_META_STATE), e);
    return rc;
}

/* Every link has the new key: the old one goes. */
static int finish(node_t *n, bool *changed, ts_err *e)
{
    if (store_write(n->store, finish_txn, NULL, e) || keys_remove(n->cfg.dir, ROTATE_OLD_SUFFIX, e))
        return e->code;
    if (n->has_old_keys)
        keys_wipe(&n->old_keys);
    n->has_old_keys = false;
    *changed = true;
    return TS_OK;
}

/* The parent has the new key and every delta the old one signed: after
 * that nothing needs the old key upward (a delta below from_seq sent again
 * must still carry its old-key signature). */
static bool upward_done(node_t *n, const rotate_state *st)
{
    if (!st->parent_done)
        return false;
    if (!store_has_parent(n->store))
        return true;
    store_txn *txn;
    ts_err e;
    if (store_read_begin(n->store, &txn, &e) != TS_OK)
        return false;
    uint64_t acked = store_meta_u64(n->store, txn, LINK_META_ACKED_SEQ);
    store_read_end(txn);
    return acked + 1 >= st->from_seq;
}

int rotate_advance(node_t *n, bool *changed, ts_err *e)
{
    rotate_state st;
    *changed = false;
    if (!rotate_pending(n, &st)) {
        if (!keys_exist(n->cfg.dir, ROTATE_NEW_SUFFIX))
            return TS_OK;
        if (begin(n, &st, e))
            return e->code;
    }
    if (put_in_place(n, &st, changed, e))
        return e->code;
    if (upward_done(n, &st) && (!n->cfg.listen[0] || rotate_children_done(n)))
        return finish(n, changed, e);
    return TS_OK;
}

static int parent_txn(store_t *s, store_txn *txn, void *vctx, ts_err *e)
{
    const uint8_t *new_pk = vctx;
    rotate_state st;
    if (!rotate_state_get(s, txn, &st) || memcmp(st.new_pk, new_pk, sizeof st.new_pk) != 0)
        return TS_OK; /* an answer to a rotation no longer under way */
    st.parent_done = 1;
    return store_put(s, txn, DB_META, ROTATE_META_STATE, strlen(ROTATE_META_STATE), &st, sizeof st,
                     e);
}

int rotate_parent_acked(node_t *n, const uint8_t new_pk[crypto_sign_PUBLICKEYBYTES], ts_err *e)
{
    return store_write(n->store, parent_txn, (void *)new_pk, e);
}

typedef struct {
    const char *child;
    const uint8_t *new_pk;
} child_ack_ctx;

static int child_txn(store_t *s, store_txn *txn, void *vctx, ts_err *e)
{
    child_ack_ctx *c = vctx;
    rotate_state st;
    if (!rotate_state_get(s, txn, &st) || memcmp(st.new_pk, c->new_pk, sizeof st.new_pk) != 0)
        return TS_OK;
    char key[sizeof ROTATE_ACK_PREFIX + TS_CODE_MAX];
    return store_put(s, txn, DB_META, key, ack_key(c->child, key), "", 0, e);
}

int rotate_child_acked(node_t *n, const char *child,
                       const uint8_t new_pk[crypto_sign_PUBLICKEYBYTES], ts_err *e)
{
    child_ack_ctx c = {child, new_pk};
    return store_write(n->store, child_txn, &c, e);
}

int rotate_message(node_t *n, uint8_t **msg, size_t *len)
{
    store_txn *txn;
    ts_err e;
    store_val v;
    *msg = NULL;
    if (store_read_begin(n->store, &txn, &e) != TS_OK)
        return TS_ERUNTIME;
    int rc = store_get(n->store, txn, DB_META, ROTATE_META_MSG, strlen(ROTATE_META_MSG), &v, NULL);
    if (rc == TS_OK) {
        *msg = malloc(v.len ? v.len : 1);
        if (!*msg)
            abort();
        memcpy(*msg, v.data, v.len);
        *len = v.len;
    }
    store_read_end(txn);
    return rc;
}
