/* rotate_link.c: what each end of a link does with a KeyRotation: the
 * parent moves the child's enrolment, the child moves its pinned parent
 * key (see rotate_link.h). */
#include "rotate_link.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "link_state.h"
#include "log.h"

typedef struct {
    const char *child;
    const rotate_claim *c;
    char *why;
    size_t whysz;
} accept_ctx;

static int refuse(accept_ctx *a, const char *what)
{
    snprintf(a->why, a->whysz, "%s", what);
    return TS_OK; /* refused, not failed: nothing was written */
}

static int accept_txn(store_t *s, store_txn *txn, void *vctx, ts_err *e)
{
    accept_ctx *a = vctx;
    const rotate_claim *c = a->c;
    store_child ch;
    a->why[0] = '\0';
    if (strcmp(c->code, a->child) != 0)
        return refuse(a, "the rotation names another unit than the connection's child");
    if (store_child_get(s, txn, a->child, &ch) != TS_OK)
        return refuse(a, "the child is not enrolled");
    if (!memcmp(ch.pk, c->new_pk, sizeof ch.pk))
        return TS_OK; /* applied already: an announcement sent again */
    if (memcmp(ch.pk, c->old_pk, sizeof ch.pk) != 0)
        return refuse(a, "the rotation's old key is not the key enrolled for the child");
    if (c->from_seq <= ch.last_seq)
        return refuse(a, "the rotation starts the new key at a seq already applied");
    return rotate_replace(s, txn, a->child, &ch, c->new_pk, c->from_seq, e);
}

int rotate_link_accept(node_t *n, const char *child, const Tiersync__KeyRotation *m,
                       uint8_t new_pk[crypto_sign_PUBLICKEYBYTES], char *why, size_t whysz,
                       ts_err *e)
{
    rotate_claim c;
    ts_err ce;
    memset(new_pk, 0, crypto_sign_PUBLICKEYBYTES);
    if (rotate_open(m, &c, &ce)) {
        snprintf(why, whysz, "%s", ce.msg);
        return TS_OK;
    }
    memcpy(new_pk, c.new_pk, sizeof c.new_pk);
    accept_ctx a = {child, &c, why, whysz};
    return store_write(n->store, accept_txn, &a, e);
}

typedef struct {
    const uint8_t *old_pk;
} prev_ctx;

static int prev_txn(store_t *s, store_txn *txn, void *vctx, ts_err *e)
{
    prev_ctx *p = vctx;
    return store_put(s, txn, DB_META, ROTATE_META_PARENT_PREV, strlen(ROTATE_META_PARENT_PREV),
                     p->old_pk, crypto_sign_PUBLICKEYBYTES, e);
}

/* The parent's code as its Welcome said it ("" when not known yet). */
static void parent_code(node_t *n, char out[TS_CODE_MAX])
{
    store_txn *txn;
    ts_err e;
    store_val v;
    out[0] = '\0';
    if (store_read_begin(n->store, &txn, &e) != TS_OK)
        return;
    if (store_get(n->store, txn, DB_META, LINK_META_PARENT_CODE, strlen(LINK_META_PARENT_CODE), &v,
                  NULL) == TS_OK &&
        v.len < TS_CODE_MAX) {
        memcpy(out, v.data, v.len);
        out[v.len] = '\0';
    }
    store_read_end(txn);
}

int rotate_link_adopt(node_t *n, const Tiersync__KeyRotation *m,
                      uint8_t new_pk[crypto_sign_PUBLICKEYBYTES], char *why, size_t whysz,
                      ts_err *e)
{
    rotate_claim c;
    ts_err ce;
    uint8_t pinned[crypto_sign_PUBLICKEYBYTES];
    char code[TS_CODE_MAX];
    why[0] = '\0';
    memset(new_pk, 0, crypto_sign_PUBLICKEYBYTES);
    if (rotate_open(m, &c, &ce)) {
        snprintf(why, whysz, "%s", ce.msg);
        return TS_OK;
    }
    memcpy(new_pk, c.new_pk, sizeof c.new_pk);
    if (keys_parse_public(n->cfg.parent_key, pinned, e))
        return e->code;
    parent_code(n, code);
    if (code[0] && strcmp(code, c.code) != 0) {
        snprintf(why, whysz, "the rotation names unit %s, but the parent is %s", c.code, code);
        return TS_OK;
    }
    if (!memcmp(pinned, c.new_pk, sizeof pinned))
        return TS_OK; /* adopted already: an announcement sent again */
    if (memcmp(pinned, c.old_pk, sizeof pinned) != 0) {
        snprintf(why, whysz, "the rotation's old key is not the parent key this node pins");
        return TS_OK;
    }
    /* the old key is kept first: it still reaches the parent until the
     * parent's every child has the new one */
    prev_ctx p = {c.old_pk};
    if (store_write(n->store, prev_txn, &p, e))
        return e->code;
    ts_config next = n->cfg;
    ts_hex(c.new_pk, sizeof c.new_pk, next.parent_key);
    if (config_write(&next, e))
        return e->code;
    n->cfg = next;
    char fp[KEYS_FINGERPRINT_LEN];
    keys_fingerprint(c.new_pk, fp);
    log_info("parent %s rotated its key: now pinning %s (parent.key in %s/%s)", c.code, fp,
             n->cfg.dir, CONFIG_FILE);
    return TS_OK;
}

void rotate_link_from_parent(node_t *n, void *dealer, const Tiersync__KeyRotation *m)
{
    uint8_t new_pk[crypto_sign_PUBLICKEYBYTES];
    char why[200];
    ts_err e;
    if (rotate_link_adopt(n, m, new_pk, why, sizeof why, &e) != TS_OK) {
        log_error("cannot take the parent's new key: %s", e.msg);
        return; /* no answer: the parent announces again */
    }
    if (why[0])
        log_warn("refused the parent's key rotation: %s", why);
    uint8_t *out;
    size_t len;
    rotate_pack_ack(new_pk, why[0] ? why : NULL, &out, &len);
    zmq_send(dealer, out, len, ZMQ_DONTWAIT);
    free(out);
}

bool rotate_link_parent_prev(node_t *n, uint8_t pk[crypto_sign_PUBLICKEYBYTES])
{
    store_txn *txn;
    ts_err e;
    store_val v;
    bool found = false;
    if (store_read_begin(n->store, &txn, &e) != TS_OK)
        return false;
    if (store_get(n->store, txn, DB_META, ROTATE_META_PARENT_PREV, strlen(ROTATE_META_PARENT_PREV),
                  &v, NULL) == TS_OK &&
        v.len == crypto_sign_PUBLICKEYBYTES) {
        memcpy(pk, v.data, v.len);
        found = true;
    }
    store_read_end(txn);
    return found;
}

static int drop_prev_txn(store_t *s, store_txn *txn, void *vctx, ts_err *e)
{
    (void)vctx;
    return store_del(s, txn, DB_META, ROTATE_META_PARENT_PREV, strlen(ROTATE_META_PARENT_PREV), e);
}

int rotate_link_parent_settled(node_t *n, ts_err *e)
{
    return store_write(n->store, drop_prev_txn, NULL, e);
}
