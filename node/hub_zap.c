/* hub_zap.c: the parent's ZAP handler: a CURVE handshake is admitted only
 * for an enrolled child's key, and the connection is named by its code. */
#include "hub_int.h"

#include <stdio.h>
#include <string.h>
#include <zmq.h>

#include "log.h"
#include "util.h"

#define HUB_ZAP_VERSION "1.0"
#define HUB_ZAP_NOT_ENROLLED "key not enrolled"
#define HUB_ZAP_FRAMES 7
#define HUB_ZAP_REBUILD_MS 1000 /* least time between rebuilds of the key cache */

static int add_key(const store_val *k, const store_val *v, void *ctx)
{
    hub_t *h = ctx;
    store_child ch;
    if (v->len != sizeof ch || k->len >= TS_CODE_MAX)
        return 0;
    memcpy(&ch, v->data, sizeof ch);
    if (h->nkeys == h->capkeys) {
        h->capkeys = h->capkeys ? 2 * h->capkeys : 64;
        h->keys = ts_xrealloc(h->keys, h->capkeys * sizeof *h->keys);
    }
    zap_entry *z = &h->keys[h->nkeys];
    if (keys_curve_public_raw(ch.pk, z->curve, NULL) != TS_OK)
        return 0;
    memcpy(z->code, k->data, k->len);
    z->code[k->len] = '\0';
    h->nkeys++;
    return 0;
}

static const zap_entry *cache_find(hub_t *h, const uint8_t *curve)
{
    for (size_t i = 0; i < h->nkeys; i++)
        if (sodium_memcmp(h->keys[i].curve, curve, sizeof h->keys[i].curve) == 0)
            return &h->keys[i];
    return NULL;
}

/* The child enrolled with this Curve key right now (a cached hit is checked
 * against the store, so `child remove` takes effect at once), or NULL. */
static const char *zap_lookup(hub_t *h, const zmq_msg_t *cred)
{
    if (zmq_msg_size((zmq_msg_t *)cred) != crypto_scalarmult_curve25519_BYTES)
        return NULL;
    const uint8_t *curve = zmq_msg_data((zmq_msg_t *)cred);
    store_txn *txn;
    ts_err e;
    if (store_read_begin(h->n->store, &txn, &e) != TS_OK)
        return NULL;
    const zap_entry *z = cache_find(h, curve);
    store_child ch;
    uint8_t now_curve[crypto_scalarmult_curve25519_BYTES];
    if (z &&
        (store_child_get(h->n->store, txn, z->code, &ch) != TS_OK ||
         keys_curve_public_raw(ch.pk, now_curve, NULL) != TS_OK ||
         sodium_memcmp(now_curve, curve, sizeof now_curve) != 0))
        z = NULL;
    int64_t now = ts_mono_ms();
    if (!z && now - h->keys_built_ms >= HUB_ZAP_REBUILD_MS) {
        h->nkeys = 0;
        h->keys_built_ms = now;
        /* unreadable: the keys read so far; a key missed refuses its child, who retries */
        if (store_scan(h->n->store, txn, DB_CHILDREN, NULL, add_key, h, NULL, &e))
            log_warn("children's keys: %s", e.msg);
        z = cache_find(h, curve);
    }
    store_read_end(txn);
    return z ? z->code : NULL;
}

static bool frame_is(zmq_msg_t *m, const char *s)
{
    return zmq_msg_size(m) == strlen(s) && !memcmp(zmq_msg_data(m), s, strlen(s));
}

/* The child a ZAP request admits, or NULL with *why (the status text).
 * Frames (RFC 27): version, request id, domain, address, identity,
 * mechanism, credentials. A request of another version or for another
 * domain is not ours to answer yes to, whatever key it carries. */
static const char *zap_admit(hub_t *h, zmq_msg_t *f, int nf, const char **why)
{
    if (nf != HUB_ZAP_FRAMES || !frame_is(&f[0], HUB_ZAP_VERSION)) {
        *why = "unsupported ZAP request";
        return NULL;
    }
    if (!frame_is(&f[2], HUB_ZAP_DOMAIN)) {
        *why = "unknown ZAP domain";
        return NULL;
    }
    if (!frame_is(&f[5], "CURVE")) {
        *why = "CURVE required";
        return NULL;
    }
    const char *code = zap_lookup(h, &f[6]);
    *why = code ? NULL : HUB_ZAP_NOT_ENROLLED;
    return code;
}

static void zap_send(void *sock, const char *s, size_t n, int more)
{
    zmq_send(sock, s, n, more ? ZMQ_SNDMORE : 0);
}

void hub_on_zap(hub_t *h)
{
    for (;;) {
        zmq_msg_t f[HUB_ZAP_FRAMES];
        int nf = 0, total = 0; /* frames kept, frames received */
        int more = 1;
        while (more) {
            zmq_msg_t m;
            zmq_msg_init(&m);
            if (zmq_msg_recv(&m, h->zap, ZMQ_DONTWAIT) < 0) {
                zmq_msg_close(&m);
                for (int i = 0; i < nf; i++)
                    zmq_msg_close(&f[i]);
                return;
            }
            more = zmq_msg_more(&m);
            total++;
            if (nf < HUB_ZAP_FRAMES)
                f[nf++] = m;
            else
                zmq_msg_close(&m);
        }
        const char *why = NULL;
        const char *code = zap_admit(h, f, total == nf ? nf : 0, &why);
        zap_send(h->zap, "1.0", 3, 1);
        zmq_send(h->zap, nf > 1 ? zmq_msg_data(&f[1]) : "", nf > 1 ? zmq_msg_size(&f[1]) : 0,
                 ZMQ_SNDMORE);
        if (code) {
            zap_send(h->zap, "200", 3, 1);
            zap_send(h->zap, "OK", 2, 1);
            zap_send(h->zap, code, strlen(code), 1);
            log_debug("admitted child %s", code);
        } else {
            char addr[64] = "?", key[80];
            if (nf > 3)
                snprintf(addr, sizeof addr, "%.*s", (int)zmq_msg_size(&f[3]),
                         (const char *)zmq_msg_data(&f[3]));
            zap_send(h->zap, "400", 3, 1);
            zap_send(h->zap, why, strlen(why), 1);
            zap_send(h->zap, "", 0, 1);
            snprintf(key, sizeof key, "zap|%s", addr);
            log_limited(&h->limits, key, LOG_WARN, "refused connection from %s: %s", addr,
                        strcmp(why, HUB_ZAP_NOT_ENROLLED)
                            ? why
                            : "its key is not enrolled (tiersync child add)");
        }
        zap_send(h->zap, "", 0, 0);
        for (int i = 0; i < nf; i++)
            zmq_msg_close(&f[i]);
    }
}

void hub_keys_changed(hub_t *h)
{
    h->keys_built_ms = 0;
}
