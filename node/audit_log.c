/* audit_log.c: the audit trail's two tables, log and index (see audit_log.h). */
#include "audit_log.h"

#include <stdlib.h>
#include <string.h>

#include "store_lmdb.h"
#include "store_pieces.h"
#include "util.h"

#define AUDIT_LOG_ID_BYTES 8
#define AUDIT_LOG_COUNT_BYTES 4

/* Where a value is: its first arrival number and how many pieces. The
 * index holds the number alone for one piece, the number and a be32 count
 * for more. */
typedef struct {
    uint64_t id;
    uint32_t pieces;
} log_place;

static int place_of(const MDB_val *v, log_place *at)
{
    const uint8_t *p = v->mv_data;
    if (v->mv_size == AUDIT_LOG_ID_BYTES)
        *at = (log_place){ts_get_be64(p), 1};
    else if (v->mv_size == AUDIT_LOG_ID_BYTES + AUDIT_LOG_COUNT_BYTES)
        *at = (log_place){ts_get_be64(p),
                          (uint32_t)p[8] << 24 | (uint32_t)p[9] << 16 | (uint32_t)p[10] << 8 |
                              p[11]};
    else
        return MDB_CORRUPTED;
    return at->pieces >= 1 && at->id <= UINT64_MAX - at->pieces ? 0 : MDB_CORRUPTED;
}

/* Where key's value is; MDB_NOTFOUND when key is not in the trail. */
static int index_get(store_t *s, store_txn *txn, const void *key, size_t klen, log_place *at)
{
    MDB_val k = {klen, (void *)key}, v;
    int rc = mdb_get(txn, store_dbi(s, DB_AUDIT_INDEX), &k, &v);
    return rc ? rc : place_of(&v, at);
}

static int index_put(store_t *s, store_txn *txn, const void *key, size_t klen, log_place at)
{
    uint8_t p[AUDIT_LOG_ID_BYTES + AUDIT_LOG_COUNT_BYTES];
    ts_put_be64(p, at.id);
    p[8] = (uint8_t)(at.pieces >> 24), p[9] = (uint8_t)(at.pieces >> 16);
    p[10] = (uint8_t)(at.pieces >> 8), p[11] = (uint8_t)at.pieces;
    MDB_val k = {klen, (void *)key};
    MDB_val v = {at.pieces == 1 ? AUDIT_LOG_ID_BYTES : sizeof p, p};
    return mdb_put(txn, store_dbi(s, DB_AUDIT_INDEX), &k, &v, 0);
}

/* The log's key of arrival number n, in id. */
static MDB_val piece_key(uint8_t id[AUDIT_LOG_ID_BYTES], uint64_t n)
{
    ts_put_be64(id, n);
    return (MDB_val){AUDIT_LOG_ID_BYTES, id};
}

/* Appends val to the log in pieces under the next arrival numbers (into at). */
static int log_append(store_t *s, store_txn *txn, const uint8_t *val, size_t len, log_place *at)
{
    size_t n = store_pieces_of(len);
    if (n > UINT32_MAX)
        return MDB_BAD_VALSIZE;
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
    if (rc == MDB_NOTFOUND)
        rc = 0;
    *at = (log_place){last + 1, (uint32_t)n};
    for (size_t i = 0; rc == 0 && i < n; i++) {
        uint8_t id[AUDIT_LOG_ID_BYTES];
        k = piece_key(id, at->id + i);
        v = (MDB_val){store_piece_len(len, i), (void *)(val + i * STORE_PIECE_BYTES)};
        rc = mdb_cursor_put(cur, &k, &v, MDB_APPEND);
    }
    mdb_cursor_close(cur);
    return rc;
}

/* Deletes the pieces at points to. Every piece but the last is
 * STORE_PIECE_BYTES long, so a damaged count stops at the value's end (and
 * at a missing piece: an index entry without its value is dropped all the
 * same), not in the next value's pieces. */
static int log_del(store_t *s, store_txn *txn, log_place at)
{
    MDB_dbi log = store_dbi(s, DB_AUDIT_LOG);
    for (uint32_t i = 0; i < at.pieces; i++) {
        uint8_t id[AUDIT_LOG_ID_BYTES];
        MDB_val k = piece_key(id, at.id + i), v;
        int rc = mdb_get(txn, log, &k, &v);
        bool last = rc == 0 && v.mv_size != STORE_PIECE_BYTES;
        if (rc == 0)
            rc = mdb_del(txn, log, &k, NULL);
        if (rc || last)
            return rc == MDB_NOTFOUND ? 0 : rc;
    }
    return 0;
}

/* The value at at: in the map for one piece, else put together in *buf
 * (the caller's to free; grown piece by piece, so a damaged count fails
 * at the value's end, not after a huge allocation). */
static int log_read(store_t *s, store_txn *txn, log_place at, store_val *out, uint8_t **buf)
{
    size_t len = 0;
    for (uint32_t i = 0; i < at.pieces; i++) {
        uint8_t id[AUDIT_LOG_ID_BYTES];
        MDB_val k = piece_key(id, at.id + i), v;
        int rc = mdb_get(txn, store_dbi(s, DB_AUDIT_LOG), &k, &v);
        if (rc)
            return rc;
        if (at.pieces == 1) {
            *out = store_val_of(v);
            return 0;
        }
        if (v.mv_size > STORE_PIECE_BYTES || (i + 1 < at.pieces && v.mv_size != STORE_PIECE_BYTES))
            return MDB_CORRUPTED;
        *buf = ts_xrealloc(*buf, len + v.mv_size);
        memcpy(*buf + len, v.mv_data, v.mv_size);
        len += v.mv_size;
    }
    *out = (store_val){*buf, len};
    return 0;
}

static int put_raw(store_t *s, store_txn *txn, const void *key, size_t klen, const void *val,
                   size_t len)
{
    log_place at;
    int rc = index_get(s, txn, key, klen, &at);
    if (rc == 0 && at.pieces == 1 && store_pieces_of(len) == 1) {
        uint8_t id[AUDIT_LOG_ID_BYTES];
        MDB_val k = piece_key(id, at.id), v = {len, (void *)val};
        return mdb_put(txn, store_dbi(s, DB_AUDIT_LOG), &k, &v, 0);
    }
    if (rc == 0)
        rc = log_del(s, txn, at);
    else if (rc == MDB_NOTFOUND)
        rc = 0;
    if (rc || (rc = log_append(s, txn, val, len, &at)) != 0)
        return rc;
    return index_put(s, txn, key, klen, at);
}

int audit_log_put(store_t *s, store_txn *txn, const void *key, size_t klen, const void *val,
                  size_t len, ts_err *e)
{
    int rc = put_raw(s, txn, key, klen, val, len);
    return rc ? store_fail(s, e, rc, "audit trail: cannot keep a delta") : TS_OK;
}

int audit_log_get(store_t *s, store_txn *txn, const void *key, size_t klen, store_val *v,
                  uint8_t **buf, ts_err *e)
{
    log_place at;
    int rc = index_get(s, txn, key, klen, &at);
    if (rc == 0)
        rc = log_read(s, txn, at, v, buf);
    if (rc == MDB_NOTFOUND)
        return ts_fail(e, TS_EINPUT, "no such entry in the audit trail");
    return rc ? store_fail(s, e, rc, "audit trail: cannot read an entry") : TS_OK;
}

/* Deletes key from the index and its value from the log. */
static int del_raw(store_t *s, store_txn *txn, const void *key, size_t klen)
{
    log_place at;
    int rc = index_get(s, txn, key, klen, &at);
    if (rc == MDB_NOTFOUND)
        return 0;
    if (rc == 0)
        rc = log_del(s, txn, at);
    MDB_val k = {klen, (void *)key};
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
    uint8_t *buf;
} scan_ctx;

static int scan_one(const store_val *k, const store_val *idx, void *vctx)
{
    scan_ctx *c = vctx;
    MDB_val iv = store_mdb_val(idx->data, idx->len);
    log_place at;
    store_val sv = {NULL, 0}; /* a lost value reads as empty: walks report it */
    if (place_of(&iv, &at) || log_read(c->s, c->txn, at, &sv, &c->buf))
        sv = (store_val){NULL, 0};
    return c->fn(k, &sv, c->ctx);
}

int audit_log_scan(store_t *s, store_txn *txn, const char *prefix, store_scan_fn fn, void *ctx,
                   int *stop, ts_err *e)
{
    scan_ctx c = {s, txn, fn, ctx, NULL};
    int rc = store_scan(s, txn, DB_AUDIT_INDEX, prefix, scan_one, &c, stop, e);
    free(c.buf);
    return rc;
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
        log_place at; /* read before the log's writes move the index's page */
        if (place_of(&v, &at) == 0 && (rc = log_del(s, txn, at)) != 0)
            break;
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
