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

int apply_stage_put(store_t *s, MDB_txn *txn, const char *child, uint64_t seq, uint64_t end,
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

/* The first staged entry of child into *k, *v; false when there is none. */
static bool stage_first(MDB_cursor *cur, const char *key, size_t plen, MDB_val *k, MDB_val *v)
{
    *k = (MDB_val){plen, (void *)key};
    return mdb_cursor_get(cur, k, v, MDB_SET_RANGE) == 0 && k->mv_size == plen + 8 &&
           !memcmp(k->mv_data, key, plen) && v->mv_size >= 8;
}

uint64_t apply_stage_end(store_t *s, MDB_txn *txn, const char *child)
{
    char key[STAGE_KEY_MAX];
    size_t plen = stage_prefix(child, key);
    MDB_cursor *cur;
    MDB_val k, v;
    if (mdb_cursor_open(txn, store_dbi(s, DB_STAGED), &cur) != 0)
        return 0;
    uint64_t end = stage_first(cur, key, plen, &k, &v) ? ts_get_be64(v.mv_data) : 0;
    mdb_cursor_close(cur);
    return end;
}

int apply_stage_each(store_t *s, MDB_txn *txn, const char *child, apply_stage_fn fn, void *ctx,
                     ts_err *e)
{
    char key[STAGE_KEY_MAX];
    size_t plen = stage_prefix(child, key);
    MDB_cursor *cur;
    MDB_val k, v;
    if (mdb_cursor_open(txn, store_dbi(s, DB_STAGED), &cur) != 0)
        return ts_fail(e, TS_ERUNTIME, "store: cannot read the staged snapshot of %s", child);
    int rc = TS_OK;
    for (bool more = stage_first(cur, key, plen, &k, &v); more && rc == TS_OK;) {
        Tiersync__DeltaBody *b =
            tiersync__delta_body__unpack(NULL, v.mv_size - 8, (const uint8_t *)v.mv_data + 8);
        if (!b) {
            rc = ts_fail(e, TS_ERUNTIME, "store: a staged snapshot part of %s does not decode "
                         "(the store was altered; restore a backup)", child);
            break;
        }
        rc = fn(b, ctx, e);
        tiersync__delta_body__free_unpacked(b, NULL);
        more = mdb_cursor_get(cur, &k, &v, MDB_NEXT) == 0 && k.mv_size == plen + 8 &&
               !memcmp(k.mv_data, key, plen) && v.mv_size >= 8;
    }
    mdb_cursor_close(cur);
    return rc;
}

int apply_stage_clear(store_t *s, MDB_txn *txn, const char *child, ts_err *e)
{
    char key[STAGE_KEY_MAX];
    size_t plen = stage_prefix(child, key);
    MDB_cursor *cur;
    MDB_val k, v;
    if (mdb_cursor_open(txn, store_dbi(s, DB_STAGED), &cur) != 0)
        return ts_fail(e, TS_ERUNTIME, "store: cannot open the staged snapshots");
    int mrc = 0;
    while (stage_first(cur, key, plen, &k, &v) && (mrc = mdb_cursor_del(cur, 0)) == 0) {
    }
    mdb_cursor_close(cur);
    return mrc ? ts_fail(e, TS_ERUNTIME, "store: %s", store_strerror(mrc)) : TS_OK;
}
