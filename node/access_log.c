/* access_log.c: the register's access log in table access_log
 * (access_log.h). A value is the entry's strings, each NUL-terminated, then
 * the count as decimal: readable without a struct layout to version. */
#include "access_log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ACCESS_KEY_LEN 16
#define ACCESS_META_SEQ "access_log_seq"
#define ACCESS_VAL_MAX (sizeof(access_entry) + 32)
#define ACCESS_DAY_MS (86400LL * 1000)

static void put_be64(unsigned char *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (unsigned char)v;
}

static uint64_t get_be64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

static size_t encode(const access_entry *a, char *out)
{
    int n = snprintf(out, ACCESS_VAL_MAX, "%s%c%s%c%s%c%s%c%s%c%lld", a->user, 0, a->addr, 0,
                     a->action, 0, a->type, 0, a->id, 0, (long long)a->count);
    return n > 0 ? (size_t)n : 0;
}

/* Copies the next NUL-terminated string of [*p, end) into dst. */
static void take(const char **p, const char *end, char *dst, size_t dstsz)
{
    size_t n = strnlen(*p, (size_t)(end - *p));
    snprintf(dst, dstsz, "%.*s", (int)n, *p);
    *p += n < (size_t)(end - *p) ? n + 1 : n;
}

static bool decode(const store_val *k, const store_val *v, access_entry *a)
{
    if (k->len != ACCESS_KEY_LEN)
        return false;
    memset(a, 0, sizeof *a);
    a->ms = (int64_t)get_be64(k->data);
    const char *p = v->data, *end = p + v->len;
    take(&p, end, a->user, sizeof a->user);
    take(&p, end, a->addr, sizeof a->addr);
    take(&p, end, a->action, sizeof a->action);
    take(&p, end, a->type, sizeof a->type);
    take(&p, end, a->id, sizeof a->id);
    char num[24];
    take(&p, end, num, sizeof num);
    a->count = strtoll(num, NULL, 10);
    return true;
}

typedef struct {
    const access_entry *entries;
    size_t n;
    int64_t cutoff_ms;
    unsigned char old[ACCESS_PRUNE_BATCH][ACCESS_KEY_LEN];
    int nold;
} append_ctx;

static int collect_old(const store_val *k, const store_val *v, void *vctx)
{
    (void)v;
    append_ctx *x = vctx;
    if (k->len != ACCESS_KEY_LEN || (int64_t)get_be64(k->data) >= x->cutoff_ms ||
        x->nold == ACCESS_PRUNE_BATCH)
        return 1;
    memcpy(x->old[x->nold++], k->data, ACCESS_KEY_LEN);
    return 0;
}

static int append_fn(store_t *s, store_txn *txn, void *vctx, ts_err *e)
{
    append_ctx *x = vctx;
    x->nold = 0;
    if (store_scan(s, txn, DB_ACCESS_LOG, "", collect_old, x, NULL, e))
        return e->code;
    for (int i = 0; i < x->nold; i++)
        if (store_del(s, txn, DB_ACCESS_LOG, x->old[i], ACCESS_KEY_LEN, e))
            return e->code;
    uint64_t seq = store_meta_u64(s, txn, ACCESS_META_SEQ);
    char val[ACCESS_VAL_MAX];
    for (size_t i = 0; i < x->n; i++) {
        unsigned char key[ACCESS_KEY_LEN];
        put_be64(key, (uint64_t)x->entries[i].ms);
        put_be64(key + 8, ++seq);
        size_t len = encode(&x->entries[i], val);
        if (store_put(s, txn, DB_ACCESS_LOG, key, sizeof key, val, len, e))
            return e->code;
    }
    return store_meta_put_u64(s, txn, ACCESS_META_SEQ, seq, e);
}

int access_log_append(store_t *s, const access_entry *entries, size_t n, int keep_days, ts_err *e)
{
    append_ctx *x = calloc(1, sizeof *x);
    if (!x)
        return ts_fail(e, TS_ERUNTIME, "out of memory writing the access log");
    x->entries = entries;
    x->n = n;
    x->cutoff_ms = n ? entries[0].ms - (int64_t)keep_days * ACCESS_DAY_MS : 0;
    int rc = store_write(s, append_fn, x, e);
    free(x);
    return rc;
}

typedef struct {
    const char *user, *id;
    access_log_fn fn;
    void *ctx;
} scan_ctx;

static int scan_one(const store_val *k, const store_val *v, void *vctx)
{
    scan_ctx *x = vctx;
    access_entry a;
    if (!decode(k, v, &a))
        return 0;
    if ((x->user && *x->user && strcmp(a.user, x->user)) ||
        (x->id && *x->id && strcmp(a.id, x->id)))
        return 0;
    return x->fn(&a, x->ctx);
}

int access_log_scan(store_t *s, const char *user, const char *id, access_log_fn fn, void *ctx,
                    ts_err *e)
{
    store_txn *txn;
    if (store_read_begin(s, &txn, e))
        return e->code;
    scan_ctx x = {user, id, fn, ctx};
    int rc = store_scan(s, txn, DB_ACCESS_LOG, "", scan_one, &x, NULL, e);
    store_read_end(txn);
    return rc;
}
