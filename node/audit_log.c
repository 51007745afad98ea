/* audit_log.c: the audit trail's two tables, log and index (see audit_log.h). */
#include "audit_log.h"

#include <string.h>

#include "store_lmdb.h"
#include "util.h"

#define AUDIT_LOG_ID_BYTES 8

/* The arrival number key points to, into id (AUDIT_LOG_ID_BYTES); MDB_NOTFOUND when none. */
static int index_get(store_t *s, store_txn *txn, const void *key, size_t klen, uint8_t *id)
{
    MDB_val k = {klen, (void *)key}, v;
    int rc = mdb_get(txn, store_dbi(s, DB_AUDIT_INDEX), &k, &v);
    if (rc == 0 && v.mv_size != AUDIT_LOG_ID_BYTES)
        return MDB_CORRUPTED;
    if (rc == 0)
        memcpy(id, v.mv_data, AUDIT_LOG_ID_BYTES);
    return rc;
}

/* Appends val to the log under the next arrival number (into id). */
static int log_append(store_t *s, store_txn *txn, const void *val, size_t len, uint8_t *id)
{
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, store_dbi(s, DB_AUDIT_LOG), &cur);
    if (rc)
        return rc;
    MDB_val k, v;
    rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
    uint64_t last = 0;
    if (rc == 0 && k.mv_size == AUDIT_LOG_ID_BYTES)
        last = ts_get_be64(k.mv_data);
    else if (rc == 0)
        rc = MDB_CORRUPTED;
    if (rc == 0 || rc == MDB_NOTFOUND) {
        ts_put_be64(id, last + 1);
        k = (MDB_val){AUDIT_LOG_ID_BYTES, id};
        v = (MDB_val){len, (void *)val};
        rc = mdb_cursor_put(cur, &k, &v, MDB_APPEND);
    }
    mdb_cursor_close(cur);
    return rc;
}

static int put_raw(store_t *s, store_txn *txn, const void *key, size_t klen, const void *val,
                   size_t len)
{
    uint8_t id[AUDIT_LOG_ID_BYTES];
    int rc = index_get(s, txn, key, klen, id);
    if (rc == 0) {
        MDB_val k = {sizeof id, id}, v = {len, (void *)val};
        return mdb_put(txn, store_dbi(s, DB_AUDIT_LOG), &k, &v, 0);
    }
    if (rc != MDB_NOTFOUND || (rc = log_append(s, txn, val, len, id)) != 0)
        return rc;
    MDB_val k = {klen, (void *)key}, v = {sizeof id, id};
    return mdb_put(txn, store_dbi(s, DB_AUDIT_INDEX), &k, &v, 0);
}

int audit_log_put(store_t *s, store_txn *txn, const void *key, size_t klen, const void *val,
                  size_t len, ts_err *e)
{
    int rc = put_raw(s, txn, key, klen, val, len);
    return rc ? store_fail(s, e, rc, "audit trail: cannot keep a delta") : TS_OK;
}

int audit_log_get(store_t *s, store_txn *txn, const void *key, size_t klen, store_val *v, ts_err *e)
{
    uint8_t id[AUDIT_LOG_ID_BYTES];
    int rc = index_get(s, txn, key, klen, id);
    if (rc == 0) {
        MDB_val k = {sizeof id, id}, val;
        if ((rc = mdb_get(txn, store_dbi(s, DB_AUDIT_LOG), &k, &val)) == 0)
            *v = store_val_of(val);
    }
    if (rc == MDB_NOTFOUND)
        return ts_fail(e, TS_EINPUT, "no such entry in the audit trail");
    return rc ? store_fail(s, e, rc, "audit trail: cannot read an entry") : TS_OK;
}

/* Deletes key from the index and its value from the log. */
static int del_raw(store_t *s, store_txn *txn, const void *key, size_t klen)
{
    uint8_t id[AUDIT_LOG_ID_BYTES];
    int rc = index_get(s, txn, key, klen, id);
    if (rc == MDB_NOTFOUND)
        return 0;
    MDB_val k = {sizeof id, id};
    if (rc == 0 && (rc = mdb_del(txn, store_dbi(s, DB_AUDIT_LOG), &k, NULL)) == MDB_NOTFOUND)
        rc = 0; /* an index entry without its value: drop it all the same */
    k = (MDB_val){klen, (void *)key};
    return rc ? rc : mdb_del(txn, store_dbi(s, DB_AUDIT_INDEX), &k, NULL);
}

int audit_log_del(store_t *s, store_txn *txn, const void *key, size_t klen, ts_err *e)
{
    int rc = del_raw(s, txn, key, klen);
    return rc ? store_fail(s, e, rc, "audit trail: cannot delete an entry") : TS_OK;
}

typedef struct {
    store_t *s;
    store_txn *txn;
    store_scan_fn fn;
    void *ctx;
} scan_ctx;

static int scan_one(const store_val *k, const store_val *id, void *vctx)
{
    scan_ctx *c = vctx;
    MDB_val lk = store_mdb_val(id->data, id->len), v;
    store_val sv = {NULL, 0}; /* a lost value reads as empty: walks report it */
    if (id->len == AUDIT_LOG_ID_BYTES &&
        mdb_get(c->txn, store_dbi(c->s, DB_AUDIT_LOG), &lk, &v) == 0)
        sv = store_val_of(v);
    return c->fn(k, &sv, c->ctx);
}

int audit_log_scan(store_t *s, store_txn *txn, const char *prefix, store_scan_fn fn, void *ctx,
                   int *stop, ts_err *e)
{
    scan_ctx c = {s, txn, fn, ctx};
    return store_scan(s, txn, DB_AUDIT_INDEX, prefix, scan_one, &c, stop, e);
}

int audit_log_drop(store_t *s, store_txn *txn, const char *prefix, ts_err *e)
{
    size_t n = strlen(prefix);
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, store_dbi(s, DB_AUDIT_INDEX), &cur);
    if (rc)
        return store_fail(s, e, rc, "audit trail: cannot purge it");
    for (;;) {
        MDB_val k = {n, (void *)prefix}, v;
        rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
        if (rc != 0 || k.mv_size < n || memcmp(k.mv_data, prefix, n) != 0)
            break;
        if (v.mv_size == AUDIT_LOG_ID_BYTES) {
            uint8_t id[AUDIT_LOG_ID_BYTES];
            memcpy(id, v.mv_data, sizeof id); /* v points into the index's page */
            MDB_val lk = {sizeof id, id};
            rc = mdb_del(txn, store_dbi(s, DB_AUDIT_LOG), &lk, NULL);
            if (rc && rc != MDB_NOTFOUND)
                break;
        }
        if ((rc = mdb_cursor_del(cur, 0)) != 0)
            break;
    }
    mdb_cursor_close(cur);
    return rc && rc != MDB_NOTFOUND ? store_fail(s, e, rc, "audit trail: cannot purge it") : TS_OK;
}

static int upgrade(store_t *s, store_txn *txn)
{
    MDB_dbi old;
    int rc = mdb_dbi_open(txn, "audit", 0, &old);
    if (rc == MDB_NOTFOUND)
        return 0;
    MDB_cursor *cur;
    if (rc || (rc = mdb_cursor_open(txn, old, &cur)) != 0)
        return rc;
    MDB_val k, v;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
        if ((rc = put_raw(s, txn, k.mv_data, k.mv_size, v.mv_data, v.mv_size)) != 0)
            break;
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? mdb_drop(txn, old, 1) : rc;
}

static int upgrade_txn(store_t *s, store_txn *txn, void *ctx, ts_err *e)
{
    (void)ctx;
    int rc = upgrade(s, txn);
    return rc ? store_fail(s, e, rc, "moving the audit trail to its new layout") : TS_OK;
}

int audit_log_open(store_t *s, ts_err *e)
{
    store_txn *txn;
    if (store_read_begin(s, &txn, e))
        return e->code;
    MDB_dbi old;
    bool found = mdb_dbi_open(txn, "audit", 0, &old) == 0;
    store_read_end(txn);
    return found ? store_write(s, upgrade_txn, NULL, e) : TS_OK;
}
