/* apply_stage.c: staged parts of multi-part snapshots (see apply_stage.h). */
#include "apply_stage.h"

#include <stdlib.h>
#include <string.h>

#define STAGE_KEY_MAX (TS_CODE_MAX + 1 + 8)

static size_t stage_prefix(const char *child, char *key)
{
    size_t n = strlen(child);
    memcpy(key, child, n);
    key[n] = '|';
    return n + 1;
}

int apply_stage_put(store_t *s, store_txn *txn, const char *child, uint64_t seq, uint64_t end,
                    const uint8_t *body, size_t len, ts_err *e)
{
    char key[STAGE_KEY_MAX];
    size_t klen = stage_prefix(child, key);
    ts_put_be64((uint8_t *)key + klen, seq);
    uint8_t *val = malloc(8 + len);
    if (!val)
        return ts_fail(e, TS_ERUNTIME, "out of memory staging a snapshot part");
    ts_put_be64(val, end);
    memcpy(val + 8, body, len);
    int rc = store_put(s, txn, DB_STAGED, key, klen + 8, val, 8 + len, e);
    free(val);
    return rc;
}

/* A staged part's entry: "child|" + be64 seq -> be64 end || body. */
static bool stage_entry(const store_val *k, const store_val *v, size_t plen)
{
    return k->len == plen + 8 && v->len >= 8;
}

typedef struct {
    size_t plen;
    uint64_t end;
} end_ctx;

static int first_end(const store_val *k, const store_val *v, void *vctx)
{
    end_ctx *c = vctx;
    if (stage_entry(k, v, c->plen))
        c->end = ts_get_be64(v->data);
    return 1; /* the first part names the end */
}

int apply_stage_end(store_t *s, store_txn *txn, const char *child, uint64_t *end, ts_err *e)
{
    char key[STAGE_KEY_MAX];
    end_ctx c = {stage_prefix(child, key), 0};
    int rc = store_scan_prefix(s, txn, DB_STAGED, key, c.plen, first_end, &c, NULL, e);
    *end = c.end;
    return rc;
}

typedef struct {
    const char *child;
    size_t plen;
    apply_stage_fn fn;
    void *ctx;
    ts_err *e;
    int rc;
} each_ctx;

static int each_part(const store_val *k, const store_val *v, void *vctx)
{
    each_ctx *c = vctx;
    if (!stage_entry(k, v, c->plen))
        return 1;
    Tiersync__DeltaBody *b = tiersync__delta_body__unpack(NULL, v->len - 8,
                                                          (const uint8_t *)v->data + 8);
    if (!b)
        return c->rc = ts_fail(c->e, TS_ERUNTIME,
                               "store: a staged snapshot part of %s does not "
                               "decode (the store was altered; restore a backup)",
                               c->child);
    c->rc = c->fn(b, c->ctx, c->e);
    tiersync__delta_body__free_unpacked(b, NULL);
    return c->rc;
}

int apply_stage_each(store_t *s, store_txn *txn, const char *child, apply_stage_fn fn, void *ctx,
                     ts_err *e)
{
    char key[STAGE_KEY_MAX];
    each_ctx c = {child, stage_prefix(child, key), fn, ctx, e, TS_OK};
    int rc = store_scan_prefix(s, txn, DB_STAGED, key, c.plen, each_part, &c, NULL, e);
    return rc ? rc : c.rc;
}

static store_step take_part(const store_val *k, const store_val *v, void *vctx)
{
    return stage_entry(k, v, *(size_t *)vctx) ? STORE_TAKE : STORE_STOP;
}

int apply_stage_clear(store_t *s, store_txn *txn, const char *child, ts_err *e)
{
    char key[STAGE_KEY_MAX];
    size_t plen = stage_prefix(child, key);
    return store_take(s, txn, DB_STAGED, key, plen, take_part, &plen, e);
}
