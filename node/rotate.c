/* rotate.c: the KeyRotation announcement (signing, checking) and the key
 * history a parent keeps per child (see rotate.h). */
#include "rotate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "delta.h"
#include "util.h"

#define ROTATE_HIST_PREFIX "keyhist|"
#define ROTATE_HIST_KEY_MAX (sizeof ROTATE_HIST_PREFIX + TS_CODE_MAX + 1 + 8)

/* Ed25519 over domain || body. */
static void sign_body(const keys_t *k, const uint8_t *body, size_t len,
                      uint8_t sig[crypto_sign_BYTES])
{
    crypto_sign_state st;
    crypto_sign_init(&st);
    crypto_sign_update(&st, (const uint8_t *)ROTATE_SIG_DOMAIN, ROTATE_SIG_DOMAIN_LEN);
    crypto_sign_update(&st, body, len);
    crypto_sign_final_create(&st, sig, NULL, k->sk);
}

static bool verify_body(const uint8_t *pk, const uint8_t *body, size_t len,
                        const ProtobufCBinaryData *sig)
{
    if (sig->len != crypto_sign_BYTES)
        return false;
    crypto_sign_state st;
    crypto_sign_init(&st);
    crypto_sign_update(&st, (const uint8_t *)ROTATE_SIG_DOMAIN, ROTATE_SIG_DOMAIN_LEN);
    crypto_sign_update(&st, body, len);
    return crypto_sign_final_verify(&st, sig->data, pk) == 0;
}

void rotate_pack(const rotate_claim *c, const keys_t *old_k, const keys_t *new_k, uint8_t **out,
                 size_t *len)
{
    Tiersync__KeyRotationBody b = TIERSYNC__KEY_ROTATION_BODY__INIT;
    b.code = (char *)c->code;
    b.old_key = (ProtobufCBinaryData){sizeof c->old_pk, (uint8_t *)c->old_pk};
    b.new_key = (ProtobufCBinaryData){sizeof c->new_pk, (uint8_t *)c->new_pk};
    b.from_seq = c->from_seq;
    b.created_ms = c->created_ms;
    size_t blen = tiersync__key_rotation_body__get_packed_size(&b);
    uint8_t *body = malloc(blen ? blen : 1);
    if (!body)
        abort();
    tiersync__key_rotation_body__pack(&b, body);
    uint8_t sig_old[crypto_sign_BYTES], sig_new[crypto_sign_BYTES];
    sign_body(old_k, body, blen, sig_old);
    sign_body(new_k, body, blen, sig_new);
    Tiersync__KeyRotation m = TIERSYNC__KEY_ROTATION__INIT;
    m.body = (ProtobufCBinaryData){blen, body};
    m.old_signature = (ProtobufCBinaryData){sizeof sig_old, sig_old};
    m.new_signature = (ProtobufCBinaryData){sizeof sig_new, sig_new};
    Tiersync__Envelope env = TIERSYNC__ENVELOPE__INIT;
    env.msg_case = TIERSYNC__ENVELOPE__MSG_ROTATION;
    env.rotation = &m;
    wire_pack(&env, out, len);
    free(body);
}

int rotate_open(const Tiersync__KeyRotation *m, rotate_claim *c, ts_err *e)
{
    memset(c, 0, sizeof *c);
    Tiersync__KeyRotationBody *b = tiersync__key_rotation_body__unpack(NULL, m->body.len,
                                                                       m->body.data);
    int rc = TS_OK;
    if (!b)
        rc = ts_fail(e, TS_EINPUT, "the key rotation's body does not decode");
    else if (b->old_key.len != sizeof c->old_pk || b->new_key.len != sizeof c->new_pk)
        rc = ts_fail(e, TS_EINPUT, "the key rotation names keys of the wrong size");
    else if (!ts_code_valid(b->code))
        rc = ts_fail(e, TS_EINPUT, "the key rotation names no valid unit code");
    else if (!memcmp(b->old_key.data, b->new_key.data, sizeof c->old_pk))
        rc = ts_fail(e, TS_EINPUT, "the key rotation's new key is its old key");
    else if (!verify_body(b->old_key.data, m->body.data, m->body.len, &m->old_signature))
        rc = ts_fail(e, TS_EINPUT, "the key rotation is not signed by its old key");
    else if (!verify_body(b->new_key.data, m->body.data, m->body.len, &m->new_signature))
        rc = ts_fail(e, TS_EINPUT, "the key rotation is not countersigned by its new key");
    if (rc == TS_OK) {
        snprintf(c->code, sizeof c->code, "%s", b->code);
        memcpy(c->old_pk, b->old_key.data, sizeof c->old_pk);
        memcpy(c->new_pk, b->new_key.data, sizeof c->new_pk);
        c->from_seq = b->from_seq;
        c->created_ms = b->created_ms;
    }
    if (b)
        tiersync__key_rotation_body__free_unpacked(b, NULL);
    return rc;
}

void rotate_pack_ack(const uint8_t new_pk[crypto_sign_PUBLICKEYBYTES], const char *detail,
                     uint8_t **out, size_t *len)
{
    Tiersync__KeyRotationAck a = TIERSYNC__KEY_ROTATION_ACK__INIT;
    a.new_key = (ProtobufCBinaryData){crypto_sign_PUBLICKEYBYTES, (uint8_t *)new_pk};
    a.accepted = detail == NULL;
    a.detail = (char *)(detail ? detail : "");
    Tiersync__Envelope env = TIERSYNC__ENVELOPE__INIT;
    env.msg_case = TIERSYNC__ENVELOPE__MSG_ROTATION_ACK;
    env.rotation_ack = &a;
    wire_pack(&env, out, len);
}

bool rotate_state_get(store_t *s, store_txn *txn, rotate_state *st)
{
    store_val v;
    if (store_get(s, txn, DB_META, ROTATE_META_STATE, strlen(ROTATE_META_STATE), &v, NULL) !=
            TS_OK ||
        v.len != sizeof *st)
        return false;
    memcpy(st, v.data, sizeof *st);
    return true;
}

bool rotate_pending(node_t *n, rotate_state *st)
{
    store_txn *txn;
    ts_err e;
    if (store_read_begin(n->store, &txn, &e) != TS_OK)
        return false;
    bool pending = rotate_state_get(n->store, txn, st);
    store_read_end(txn);
    return pending;
}

const keys_t *rotate_signer(const node_t *n, uint64_t seq)
{
    return n->has_old_keys && seq < n->old_keys_until ? &n->old_keys : &n->keys;
}

static size_t hist_prefix(const char *child, char *out)
{
    return (size_t)snprintf(out, ROTATE_HIST_KEY_MAX, "%s%s|", ROTATE_HIST_PREFIX, child);
}

typedef struct {
    uint64_t seq; /* rotate_key_at: the delta's seq; UINT64_MAX: the last entry */
    bool found;
    uint64_t until;
    uint8_t pk[crypto_sign_PUBLICKEYBYTES];
} hist_find;

/* Entries come in from_seq order: the first past seq holds its key. */
static int hist_step(const store_val *k, const store_val *v, void *vctx)
{
    hist_find *f = vctx;
    if (k->len < 8 || v->len != sizeof f->pk)
        return 0;
    uint64_t from = ts_get_be64((const uint8_t *)k->data + k->len - 8);
    if (f->seq != UINT64_MAX && from <= f->seq)
        return 0;
    f->found = true;
    f->until = from;
    memcpy(f->pk, v->data, sizeof f->pk);
    return f->seq != UINT64_MAX; /* the last entry: read on to the end */
}

/* Looks child's history up for f->seq: TS_OK when found, TS_ENOTFOUND when
 * not, TS_ERUNTIME (e) when it cannot be read. */
static int hist_get(store_t *s, store_txn *txn, const char *child, hist_find *f, ts_err *e)
{
    char prefix[ROTATE_HIST_KEY_MAX];
    hist_prefix(child, prefix);
    if (store_scan(s, txn, DB_META, prefix, hist_step, f, NULL, e))
        return e->code;
    return f->found ? TS_OK : TS_ENOTFOUND;
}

int rotate_key_at(store_t *s, store_txn *txn, const char *child, uint64_t seq,
                  uint8_t pk[crypto_sign_PUBLICKEYBYTES], ts_err *e)
{
    hist_find f = {.seq = seq == UINT64_MAX ? UINT64_MAX - 1 : seq};
    int rc = hist_get(s, txn, child, &f, e);
    if (rc == TS_OK)
        memcpy(pk, f.pk, sizeof f.pk);
    return rc;
}

int rotate_last_retired(store_t *s, store_txn *txn, const char *child,
                        uint8_t pk[crypto_sign_PUBLICKEYBYTES], uint64_t *until, ts_err *e)
{
    hist_find f = {.seq = UINT64_MAX};
    int rc = hist_get(s, txn, child, &f, e);
    if (rc == TS_OK) {
        memcpy(pk, f.pk, sizeof f.pk);
        *until = f.until;
    }
    return rc;
}

int rotate_retire(store_t *s, store_txn *txn, const char *child,
                  const uint8_t pk[crypto_sign_PUBLICKEYBYTES], uint64_t from_seq, ts_err *e)
{
    char key[ROTATE_HIST_KEY_MAX];
    size_t n = hist_prefix(child, key);
    ts_put_be64((uint8_t *)key + n, from_seq);
    store_val v;
    /* an entry there already: the key retired now signed nothing (two
     * rotations at the same seq), and the entry's key signed below it */
    if (store_get(s, txn, DB_META, key, n + 8, &v, NULL) == TS_OK)
        return TS_OK;
    return store_put(s, txn, DB_META, key, n + 8, pk, crypto_sign_PUBLICKEYBYTES, e);
}

int rotate_replace(store_t *s, store_txn *txn, const char *child, store_child *ch,
                   const uint8_t pk[crypto_sign_PUBLICKEYBYTES], uint64_t from_seq, ts_err *e)
{
    if (rotate_retire(s, txn, child, ch->pk, from_seq, e))
        return e->code;
    memcpy(ch->pk, pk, sizeof ch->pk);
    return store_child_put(s, txn, child, ch, e);
}

typedef struct {
    char (*keys)[ROTATE_HIST_KEY_MAX];
    size_t *lens;
    size_t n;
} hist_list;

static int hist_collect(const store_val *k, const store_val *v, void *vctx)
{
    (void)v;
    hist_list *l = vctx;
    if (k->len > ROTATE_HIST_KEY_MAX)
        return 0;
    l->keys = ts_xrealloc(l->keys, (l->n + 1) * sizeof *l->keys);
    l->lens = ts_xrealloc(l->lens, (l->n + 1) * sizeof *l->lens);
    memcpy(l->keys[l->n], k->data, k->len);
    l->lens[l->n++] = k->len;
    return 0;
}

int rotate_forget(store_t *s, store_txn *txn, const char *child, ts_err *e)
{
    char prefix[ROTATE_HIST_KEY_MAX];
    hist_prefix(child, prefix);
    hist_list l = {0};
    int rc = store_scan(s, txn, DB_META, prefix, hist_collect, &l, NULL, e);
    for (size_t i = 0; i < l.n && rc == TS_OK; i++)
        rc = store_del(s, txn, DB_META, l.keys[i], l.lens[i], e);
    free(l.keys);
    free(l.lens);
    return rc;
}
