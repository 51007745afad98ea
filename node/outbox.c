/* outbox.c: pending -> signed deltas, snapshots, and acknowledgement. */
#include "outbox.h"

#include <stdlib.h>
#include <string.h>

#include "delta.h"
#include "link_state.h"
#include "rotate.h"
#include "store_pieces.h"

void outbox_head_get(node_t *n, store_txn *txn, outbox_head *h)
{
    store_val v;
    h->seq = store_meta_u64(n->store, txn, LINK_META_HEAD_SEQ);
    memset(h->hash, 0, sizeof h->hash);
    if (store_get(n->store, txn, DB_META, LINK_META_HEAD_HASH, strlen(LINK_META_HEAD_HASH), &v,
                  NULL) == TS_OK &&
        v.len == sizeof h->hash)
        memcpy(h->hash, v.data, sizeof h->hash);
}

static int put_delta(node_t *n, store_txn *txn, delta_builder *b, outbox_head *head, ts_err *e)
{
    uint8_t *env;
    size_t len;
    head->seq++;
    delta_finish(b, NULL, &env, &len, head->hash); /* signed when sent: outbox_get_signed */
    uint8_t k[8];
    ts_put_be64(k, head->seq);
    int rc = store_pieces_put(n->store, txn, DB_OUTBOX, k, sizeof k, env, len, e);
    free(env);
    if (rc == TS_OK)
        rc = store_meta_put_u64(n->store, txn, LINK_META_HEAD_SEQ, head->seq, e);
    if (rc == TS_OK)
        rc = store_put(n->store, txn, DB_META, LINK_META_HEAD_HASH, strlen(LINK_META_HEAD_HASH),
                       head->hash, sizeof head->hash, e);
    return rc;
}

static delta_builder *new_builder(node_t *n, const outbox_head *head, bool snapshot)
{
    return delta_builder_new(n->cfg.code, n->keys.pk, head->seq + 1, head->hash, n->catalog->id,
                             (uint32_t)n->catalog->version, snapshot);
}

static void add_unit(node_t *n, store_txn *txn, delta_builder *b, const char *code)
{
    store_unit u;
    if (store_unit_get(n->store, txn, code, &u) == TS_OK) {
        delta_add_unit(b, code, u.name, u.level, strcmp(code, n->cfg.code) ? u.parent : "");
        delta_unit_merged(b, u.merged_into, u.merged_on);
    }
}

/* This node's own unit marked merged (merge.h) closes its link at the
 * parent: it rides with the delta that sends the last of pending. */
static bool own_merge_waits(node_t *n, store_txn *txn, bool all_sent)
{
    store_unit u;
    store_val v;
    return !all_sent &&
        store_get(n->store, txn, DB_ANNOUNCE, n->cfg.code, strlen(n->cfg.code), &v, NULL) ==
        TS_OK &&
        store_unit_get(n->store, txn, n->cfg.code, &u) == TS_OK && u.merged_into[0];
}

/* Adds one entry of a drained table to the delta being built. */
typedef void (*take_fn)(node_t *n, store_txn *txn, delta_builder *b, const store_val *k,
                        const store_val *v);

typedef struct {
    node_t *n;
    store_txn *txn;
    delta_builder *b;
    take_fn fn;
} drain_ctx;

static store_step drain_one(const store_val *k, const store_val *v, void *vctx)
{
    drain_ctx *c = vctx;
    c->fn(c->n, c->txn, c->b, k, v);
    return STORE_TAKE;
}

/* Moves every entry of table db into the builder via fn, deleting them. */
static int drain(node_t *n, store_txn *txn, store_db db, delta_builder *b, take_fn fn, ts_err *e)
{
    drain_ctx c = {n, txn, b, fn};
    return store_take(n->store, txn, db, NULL, 0, drain_one, &c, e);
}

typedef struct {
    node_t *n;
    delta_builder *b;
    size_t max, taken;
    int parent_today;
} pending_ctx;

static store_step pending_one(const store_val *k, const store_val *v, void *vctx)
{
    pending_ctx *c = vctx;
    ts_cell cell;
    disclose_fig val;
    if (c->taken == c->max)
        return STORE_STOP;
    if (!store_fig_decode(v, &val) || cell_parse(k->data, k->len, &cell, NULL) != TS_OK ||
        cell_after_today(c->n->catalog, &cell, c->parent_today))
        return STORE_KEEP;
    delta_add_cell(c->b, &cell, val);
    c->taken++;
    return STORE_TAKE;
}

/* Moves up to max pending cells into the builder, deleting them, except
 * record-derived cells for periods after the parent's date: all of them
 * while it is not known yet (0), so that none reaches a parent that would
 * refuse it before the first Welcome told its date. */
static int drain_pending(node_t *n, store_txn *txn, size_t max, int parent_today, delta_builder *b,
                         bool *all_sent, ts_err *e)
{
    pending_ctx c = {n, b, max, 0, parent_today};
    int rc = store_take(n->store, txn, DB_PENDING, NULL, 0, pending_one, &c, e);
    *all_sent = c.taken < max; /* what is left waits for its period at the parent */
    return rc;
}

static void take_unit(node_t *n, store_txn *txn, delta_builder *b, const store_val *k,
                      const store_val *v)
{
    (void)v;
    char code[TS_CODE_MAX];
    if (k->len < sizeof code) {
        memcpy(code, k->data, k->len);
        code[k->len] = '\0';
        add_unit(n, txn, b, code);
    }
}

static void take_cover(node_t *n, store_txn *txn, delta_builder *b, const store_val *k,
                       const store_val *v)
{
    (void)n, (void)txn;
    store_cover cov;
    char child[TS_CODE_MAX];
    if (v->len == sizeof cov && k->len < sizeof child) {
        memcpy(&cov, v->data, sizeof cov);
        memcpy(child, k->data, k->len);
        child[k->len] = '\0';
        delta_add_cover(b, child, cov.first_seq, cov.last_seq, cov.last_hash);
    }
}

typedef struct {
    node_t *n;
    bool release;
    bool made;
    outbox_release *released;
} flush_ctx;

static int flush_txn(store_t *s, store_txn *txn, void *vctx, ts_err *e)
{
    flush_ctx *fc = vctx;
    node_t *n = fc->n;
    fc->made = false;
    int64_t now = ts_now_ms();
    if (fc->release &&
        (store_release_held(s, txn, &fc->released->cells, e) ||
         store_meta_put_u64(s, txn, OUTBOX_META_RELEASE, (uint64_t)now, e)))
        return e->code;
    if (fc->release)
        fc->released->at_ms = now;
    if (store_count(s, txn, DB_PENDING) == 0 && store_count(s, txn, DB_ANNOUNCE) == 0)
        return TS_OK;
    outbox_head head;
    outbox_head_get(n, txn, &head);
    delta_builder *b = new_builder(n, &head, false);
    delta_set_time(b, now); /* a release's delta carries the release time */
    int parent_today = (int)store_meta_u64(s, txn, LINK_META_PARENT_TODAY);
    bool all_sent = true;
    size_t units = store_count(s, txn, DB_ANNOUNCE), covers = store_count(s, txn, DB_COVERS);
    int rc = drain_pending(n, txn, (size_t)n->cfg.max_cells, parent_today, b, &all_sent, e);
    if (rc == TS_OK && own_merge_waits(n, txn, all_sent))
        units = 0; /* announced with the last of pending */
    else if (rc == TS_OK)
        rc = drain(n, txn, DB_ANNOUNCE, b, take_unit, e);
    /* provenance rides with the delta that sends the last of pending */
    if (rc == TS_OK && all_sent)
        rc = drain(n, txn, DB_COVERS, b, take_cover, e);
    if (rc == TS_OK &&
        (delta_ncells(b) || units || (all_sent && covers))) /* else: periods not begun */
        rc = put_delta(n, txn, b, &head, e), fc->made = rc == TS_OK;
    delta_builder_destroy(&b);
    return rc;
}

int outbox_flush(node_t *n, outbox_release *release, bool *made, ts_err *e)
{
    outbox_release none;
    flush_ctx fc = {n, release != NULL, false, release ? release : &none};
    int rc = store_write(n->store, flush_txn, &fc, e);
    *made = rc == TS_OK && fc.made;
    if (*made) {
        atomic_fetch_add(&n->metrics.deltas_made, 1);
        atomic_store(&n->metrics.last_flush_ms, ts_now_ms());
    }
    return rc;
}

/* The whole upward contribution: local + every child's, re-keyed for
 * forward_detail = self, summed per cell key. */
typedef struct {
    char **keys;
    disclose_fig *vals;
    size_t n, cap;
    bool contrib; /* keys carry a "child|" prefix to drop */
    int sign;     /* -1: changes not sent yet, taken out of the sum */
    node_t *node;
} sum_list;

static int sum_collect(const store_val *k, const store_val *v, void *ctx)
{
    sum_list *l = ctx;
    const char *key = k->data;
    size_t klen = k->len;
    if (l->contrib) {
        const char *bar = memchr(key, '|', klen);
        if (!bar)
            return 0;
        klen -= (size_t)(bar + 1 - key);
        key = bar + 1;
    }
    ts_cell c;
    disclose_fig f;
    if (!store_fig_decode(v, &f) || cell_parse(key, klen, &c, NULL) != TS_OK)
        return 0;
    if (l->node->cfg.forward_detail == DETAIL_SELF)
        snprintf(c.unit, sizeof c.unit, "%s", l->node->cfg.code);
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 1024;
        l->keys = ts_xrealloc(l->keys, l->cap * sizeof *l->keys);
        l->vals = ts_xrealloc(l->vals, l->cap * sizeof *l->vals);
    }
    char buf[CELL_KEY_MAX];
    cell_key(&c, buf);
    l->keys[l->n] = strdup(buf);
    if (l->sign < 0) { /* counts and keys both negated (keys modulo 2^32) */
        f.v = -f.v;
        f.key = 0u - f.key;
    }
    l->vals[l->n++] = f;
    return 0;
}

typedef struct {
    char *key;
    disclose_fig val;
} kv;

static int kv_cmp(const void *a, const void *b)
{
    return strcmp(((const kv *)a)->key, ((const kv *)b)->key);
}

typedef struct {
    node_t *n;
    bool checkpoint; /* continue the chain, leave pending and the outbox be */
    uint64_t parent_last;
    uint64_t first;
} snap_ctx;

static int add_subtree_unit(const store_val *k, const store_val *v, void *ctx)
{
    void **p = ctx;
    node_t *n = p[0];
    delta_builder *b = p[1];
    store_unit u;
    char code[TS_CODE_MAX];
    if (!store_unit_decode(v, &u) || k->len >= sizeof code)
        return 0;
    memcpy(code, k->data, k->len);
    code[k->len] = '\0';
    bool self = !strcmp(code, n->cfg.code);
    if (self || (u.via[0] && n->cfg.forward_detail == DETAIL_ALL)) {
        delta_add_unit(b, code, u.name, u.level, self ? "" : u.parent);
        delta_unit_merged(b, u.merged_into, u.merged_on);
    }
    return 0;
}

/* The next cell of the sorted items from *i on: the sum of its key's
 * entries (counts and cell keys), with *i moved past them; false at the end
 * or when a count leaves the int64 range (*overflow set). A cell whose count
 * and key are both zero is left out. */
static bool next_cell(const kv *items, size_t n, size_t *i, ts_cell *c, disclose_fig *sum,
                      bool *overflow)
{
    while (*i < n) {
        size_t j = *i;
        *sum = (disclose_fig){0, 0};
        for (; j < n && !strcmp(items[j].key, items[*i].key); j++)
            if (disclose_add(sum, items[j].val)) {
                *overflow = true;
                return false;
            }
        const char *key = items[*i].key;
        *i = j;
        if ((sum->v || sum->key) && cell_parse(key, strlen(key), c, NULL) == TS_OK)
            return true;
    }
    return false;
}

static int snapshot_txn(store_t *s, store_txn *txn, void *vctx, ts_err *e)
{
    snap_ctx *sc = vctx;
    node_t *n = sc->n;
    /* what the parent has or will have from the chain: everything but the
     * changes still held for the release window (and, for a checkpoint,
     * those still pending, which follow it as deltas) */
    sum_list l = {.node = n, .sign = 1};
    int rc = store_scan(s, txn, DB_LOCAL, NULL, sum_collect, &l, NULL, e);
    l.contrib = true;
    if (rc == TS_OK)
        rc = store_scan(s, txn, DB_CONTRIB, NULL, sum_collect, &l, NULL, e);
    l.contrib = false;
    l.sign = -1;
    if (rc == TS_OK)
        rc = store_scan(s, txn, DB_HELD, NULL, sum_collect, &l, NULL, e);
    if (rc == TS_OK && sc->checkpoint)
        rc = store_scan(s, txn, DB_PENDING, NULL, sum_collect, &l, NULL, e);
    kv *items = malloc((l.n ? l.n : 1) * sizeof *items);
    for (size_t i = 0; i < l.n; i++)
        items[i] = (kv){l.keys[i], l.vals[i]};
    qsort(items, l.n, sizeof *items, kv_cmp);

    static const store_db cleared[] = {DB_PENDING, DB_ANNOUNCE, DB_OUTBOX};
    for (size_t i = 0; i < sizeof cleared / sizeof cleared[0] && rc == TS_OK && !sc->checkpoint;
         i++)
        rc = store_clear(s, txn, cleared[i], e);
    outbox_head head;
    outbox_head_get(n, txn, &head);
    if (head.seq < sc->parent_last)
        head.seq = sc->parent_last;
    sc->first = head.seq + 1;
    delta_builder *b = new_builder(n, &head, true);
    void *uctx[2] = {n, b};
    if (rc == TS_OK)
        rc = store_scan(s, txn, DB_UNITS, NULL, add_subtree_unit, uctx, NULL, e);
    /* the covers go with the changes they cover: into a resync snapshot,
     * which takes pending in; after a checkpoint, with pending */
    if (rc == TS_OK && !sc->checkpoint)
        rc = drain(n, txn, DB_COVERS, b, take_cover, e);
    /* the first part names the last, so the parent can apply them as one */
    size_t ncells = 0, max = (size_t)n->cfg.max_cells;
    ts_cell c;
    disclose_fig sum;
    bool overflow = false;
    /* record-derived cells of months not begun at the parent wait in pending,
     * as flushes leave them (drain_pending) */
    int parent_today = (int)store_meta_u64(s, txn, LINK_META_PARENT_TODAY);
    for (size_t i = 0; rc == TS_OK && next_cell(items, l.n, &i, &c, &sum, &overflow);) {
        if (sc->checkpoint || !cell_after_today(n->catalog, &c, parent_today)) {
            ncells++;
            continue;
        }
        char key[CELL_KEY_MAX];
        rc = store_add_fig(s, txn, DB_PENDING, key, cell_key(&c, key), sum, NULL, e);
    }
    if (overflow)
        rc = ts_fail(e, TS_EINPUT,
                     "snapshot: a cell's count leaves the 64-bit range: run "
                     "'tiersync verify' on this node");
    if (ncells > max)
        delta_set_snapshot_end(b, sc->first + (ncells - 1) / max);
    for (size_t i = 0, added = 0; rc == TS_OK && next_cell(items, l.n, &i, &c, &sum, &overflow);) {
        if (!sc->checkpoint && cell_after_today(n->catalog, &c, parent_today))
            continue; /* left in pending above */
        delta_add_cell(b, &c, sum);
        if (++added % max == 0 && added < ncells) {
            rc = put_delta(n, txn, b, &head, e);
            delta_builder_destroy(&b);
            b = new_builder(n, &head, false);
        }
    }
    if (rc == TS_OK)
        rc = put_delta(n, txn, b, &head, e);
    if (rc == TS_OK)
        rc = store_meta_put_u64(s, txn, OUTBOX_META_CHECKPOINT, (uint64_t)ts_now_ms(), e);
    delta_builder_destroy(&b);
    for (size_t i = 0; i < l.n; i++)
        free(l.keys[i]);
    free(l.keys);
    free(l.vals);
    free(items);
    return rc;
}

int outbox_snapshot(node_t *n, uint64_t parent_last, uint64_t *first, ts_err *e)
{
    snap_ctx sc = {n, false, parent_last, 0};
    int rc = store_write(n->store, snapshot_txn, &sc, e);
    *first = sc.first;
    return rc;
}

int outbox_checkpoint(node_t *n, uint64_t *first, ts_err *e)
{
    snap_ctx sc = {n, true, 0, 0};
    int rc = store_write(n->store, snapshot_txn, &sc, e);
    *first = sc.first;
    return rc;
}

uint64_t outbox_count(store_t *s, store_txn *txn)
{
    return store_count_prefixes(s, txn, DB_OUTBOX, sizeof(uint64_t));
}

static store_step take_acked(const store_val *k, const store_val *v, void *vctx)
{
    (void)v;
    return k->len >= 8 && ts_get_be64(k->data) <= *(uint64_t *)vctx ? STORE_TAKE : STORE_STOP;
}

static int ack_txn(store_t *s, store_txn *txn, void *vctx, ts_err *e)
{
    uint64_t acked = *(uint64_t *)vctx;
    if (store_take(s, txn, DB_OUTBOX, NULL, 0, take_acked, &acked, e) ||
        store_meta_put_u64(s, txn, LINK_META_ACKED_SEQ, acked, e))
        return e->code;
    return store_meta_put_u64(s, txn, LINK_META_LAST_ACK_MS, (uint64_t)ts_now_ms(), e);
}

int outbox_ack(node_t *n, uint64_t acked, ts_err *e)
{
    return store_write(n->store, ack_txn, &acked, e);
}

int outbox_get(node_t *n, uint64_t seq, uint8_t **data, size_t *len, ts_err *e)
{
    store_txn *txn;
    uint8_t k[8];
    ts_put_be64(k, seq);
    if (store_read_begin(n->store, &txn, e))
        return TS_ERUNTIME;
    int rc = store_pieces_get(n->store, txn, DB_OUTBOX, k, sizeof k, data, len, e);
    store_read_end(txn);
    return rc;
}

int outbox_get_signed(node_t *n, uint64_t seq, uint8_t **data, size_t *len, ts_err *e)
{
    if (outbox_get(n, seq, data, len, e) != TS_OK)
        return TS_ERUNTIME;
    if (delta_sign_later(rotate_signer(n, seq), data, len) == 0)
        return TS_OK;
    free(*data);
    return ts_fail(e, TS_ERUNTIME, "outbox: delta %llu does not decode", (unsigned long long)seq);
}

bool outbox_prev_hash(node_t *n, uint64_t seq, uint8_t out[32])
{
    uint8_t *data;
    size_t len;
    if (outbox_get(n, seq, &data, &len, NULL) != TS_OK)
        return false;
    bool ok = false;
    Tiersync__Envelope *env = tiersync__envelope__unpack(NULL, len, data);
    if (env && env->msg_case == TIERSYNC__ENVELOPE__MSG_DELTA) {
        Tiersync__DeltaBody *b = tiersync__delta_body__unpack(NULL, env->delta->body.len,
                                                              env->delta->body.data);
        if (b && b->prev_hash.len == 32) {
            memcpy(out, b->prev_hash.data, 32);
            ok = true;
        }
        if (b)
            tiersync__delta_body__free_unpacked(b, NULL);
    }
    if (env)
        tiersync__envelope__free_unpacked(env, NULL);
    free(data);
    return ok;
}
