/* audit_checkpoint.c: noting each child's checkpoints and comparing a
 * checkpoint with the contribution held (see audit_checkpoint.h). */
#include "audit_checkpoint.h"

#include <stdio.h>
#include <string.h>

#include "apply_stage.h"
#include "audit.h"

static size_t meta_key(const char *child, char out[sizeof AUDIT_META_CHECKPOINTS + TS_CODE_MAX])
{
    return (size_t)snprintf(out, sizeof AUDIT_META_CHECKPOINTS + TS_CODE_MAX, "%s%s",
                            AUDIT_META_CHECKPOINTS, child);
}

void audit_checkpoints_get(store_t *s, store_txn *txn, const char *child, audit_checkpoints *c)
{
    char key[sizeof AUDIT_META_CHECKPOINTS + TS_CODE_MAX];
    store_val v;
    memset(c, 0, sizeof *c);
    if (store_get(s, txn, DB_META, key, meta_key(child, key), &v, NULL) == TS_OK &&
        v.len == sizeof *c)
        memcpy(c, v.data, sizeof *c);
}

int audit_checkpoint_note(store_t *s, store_txn *txn, const char *child, uint64_t seq, ts_err *e)
{
    audit_checkpoints c;
    audit_checkpoints_get(s, txn, child, &c);
    if (c.newest == seq)
        return TS_OK;
    c.older = c.newest;
    c.newest = seq;
    char key[sizeof AUDIT_META_CHECKPOINTS + TS_CODE_MAX];
    return store_put(s, txn, DB_META, key, meta_key(child, key), &c, sizeof c, e);
}

int audit_checkpoint_forget(store_t *s, store_txn *txn, const char *child, ts_err *e)
{
    char key[sizeof AUDIT_META_CHECKPOINTS + TS_CODE_MAX];
    return store_del(s, txn, DB_META, key, meta_key(child, key), e);
}

int audit_checkpoint_staging(store_t *s, store_txn *txn, const char *child, uint64_t seq, ts_err *e)
{
    audit_checkpoints c;
    audit_checkpoints_get(s, txn, child, &c);
    if (c.staging == seq)
        return TS_OK;
    c.staging = seq;
    char key[sizeof AUDIT_META_CHECKPOINTS + TS_CODE_MAX];
    return store_put(s, txn, DB_META, key, meta_key(child, key), &c, sizeof c, e);
}

static int add_part(const Tiersync__DeltaBody *b, void *ctx, ts_err *e)
{
    return audit_cells_add(ctx, b, e);
}

typedef struct {
    size_t prefix_len;
    const cellsum *want;
    cellsum seen;
    size_t differ;
    char *why;
    size_t whysz;
} compare_ctx;

static void differs(compare_ctx *c, const char *key, size_t klen, disclose_fig held,
                    disclose_fig says)
{
    if (held.v == says.v && held.key == says.key)
        return;
    if (!c->differ++)
        snprintf(c->why, c->whysz,
                 "%.*s: held %lld (cell key %u), the checkpoint says %lld "
                 "(cell key %u)",
                 (int)klen, key, (long long)held.v, held.key, (long long)says.v, says.key);
}

static int compare_held(const store_val *k, const store_val *v, void *vctx)
{
    compare_ctx *c = vctx;
    const char *key = (const char *)k->data + c->prefix_len;
    size_t klen = k->len - c->prefix_len;
    disclose_fig held;
    if (!store_fig_decode(v, &held))
        return 0;
    cellsum_add(&c->seen, key, klen, (disclose_fig){1, 0});
    differs(c, key, klen, held, cellsum_get(c->want, key, klen));
    return 0;
}

size_t audit_checkpoint_compare(store_t *s, store_txn *txn, const char *child,
                                const Tiersync__DeltaBody *last, bool staged, char *why,
                                size_t whysz)
{
    why[0] = '\0';
    audit_checkpoints ck;
    audit_checkpoints_get(s, txn, child, &ck);
    if (staged && !ck.staging)
        return 0; /* a resync's parts: nothing to compare with */
    cellsum want;
    cellsum_init(&want);
    ts_err e = {0};
    if ((staged && apply_stage_each(s, txn, child, add_part, &want, &e)) ||
        audit_cells_add(&want, last, &e)) {
        cellsum_free(&want);
        return 0; /* refused as it is applied */
    }
    char prefix[TS_CODE_MAX + 2];
    snprintf(prefix, sizeof prefix, "%s|", child);
    compare_ctx c = {.prefix_len = strlen(prefix), .want = &want, .why = why, .whysz = whysz};
    cellsum_init(&c.seen);
    if (store_scan(s, txn, DB_CONTRIB, prefix, compare_held, &c, NULL, &e)) {
        snprintf(why, whysz, "%s", e.msg); /* unreadable: a finding, with its reason */
        cellsum_free(&c.seen);
        cellsum_free(&want);
        return 1;
    }
    for (size_t i = 0; i < cellsum_count(&want); i++) {
        size_t klen;
        const char *key = cellsum_key(&want, i, &klen);
        if (cellsum_get(&c.seen, key, klen).v == 0)
            differs(&c, key, klen, (disclose_fig){0, 0}, cellsum_val(&want, i));
    }
    cellsum_free(&c.seen);
    cellsum_free(&want);
    return c.differ;
}
