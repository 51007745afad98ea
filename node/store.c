/* store.c: LMDB environment, map growth, and access to its tables. */
#include "store_lmdb.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define STORE_MAX_READERS 126
#define STORE_MAX_RETRIES 24

static const char *const db_names[DB_COUNT] = {
    "meta",     "children", "units",   "totals",      "local",       "contrib",     "pending",
    "announce", "covers",   "outbox",  "records",     "record_refs", "audit_index", "audit_log",
    "held",     "staged",   "invites", "record_keys", "users",       "access_log",  "audit_folded",
};

struct store {
    MDB_env *env;
    MDB_dbi dbi[DB_COUNT];
    char self[TS_CODE_MAX];
    bool has_parent;
    bool hold_records; /* release_s > 0: own record-derived changes wait in held */
    config_detail detail;
    size_t map_max;
    _Atomic int last_rc; /* the last LMDB code seen by a helper: tells store_write why fn failed */
    /* LMDB forbids changing the map size while any transaction of this
     * process is open; read transactions (HTTP thread too) hold this shared,
     * resizing holds it exclusive. */
    pthread_rwlock_t resize_lock;
    /* one writer of this process at a time, map growth included: LMDB may
     * only resize while no write transaction of the process is open */
    pthread_mutex_t write_lock;
};

const char *store_strerror(int rc)
{
    switch (rc) {
    case MDB_MAP_FULL: return "the store is full: raise store.map_max_mb in tiersync.conf";
    case ENOSPC: return "no space left on the disk: free space, then retry";
    case EIO:
        return "input/output error: the disk may be full or failing: check free space (df) "
               "and the kernel log, then retry";
    case EACCES: return "permission denied: run as the user that owns the data directory";
    default: return mdb_strerror(rc);
    }
}

int store_fail(store_t *s, ts_err *e, int rc, const char *what)
{
    if (s)
        s->last_rc = rc;
    return ts_fail(e, TS_ERUNTIME, "store: %s: %s", what, store_strerror(rc));
}

int store_open(store_t **out, const ts_config *cfg, ts_err *e)
{
    char path[TS_PATH_MAX];
    if (ts_path(path, sizeof path, e, "%s/%s", cfg->dir, STORE_SUBDIR))
        return e->code;
    if (mkdir(path, 0700) != 0 && errno != EEXIST)
        return ts_fail(e, TS_ERUNTIME, "cannot create %s: %s", path, strerror(errno));
    store_t *s = calloc(1, sizeof *s);
    pthread_rwlock_init(&s->resize_lock, NULL);
    pthread_mutex_init(&s->write_lock, NULL);
    snprintf(s->self, sizeof s->self, "%s", cfg->code);
    s->has_parent = cfg->parent[0] != '\0';
    s->hold_records = cfg->release_s > 0;
    s->detail = cfg->forward_detail;
    s->map_max = (size_t)cfg->map_max_mb << 20;
    int rc = mdb_env_create(&s->env);
    if (rc == 0)
        rc = mdb_env_set_maxdbs(s->env, DB_COUNT + 1); /* + the old audit table */
    if (rc == 0)
        rc = mdb_env_set_maxreaders(s->env, STORE_MAX_READERS);
    if (rc == 0)
        rc = mdb_env_set_mapsize(s->env, (size_t)cfg->map_initial_mb << 20);
    /* No readahead: a district's reads land on random pages, and readahead
     * filled the page cache with their neighbours; under a memory limit that
     * evicted the pages in use (bench: 1,000 children in 150 MB, 5x faster). */
    if (rc == 0)
        rc = mdb_env_open(s->env, path, MDB_NOTLS | MDB_NORDAHEAD, 0600);
    if (rc == 0)
        mdb_env_set_userctx(s->env, s);
    store_txn *txn = NULL;
    for (int i = 0; rc == 0 && i < DB_COUNT; i++) {
        if (!txn)
            rc = mdb_txn_begin(s->env, NULL, 0, &txn);
        if (rc == 0)
            rc = mdb_dbi_open(txn, db_names[i], MDB_CREATE, &s->dbi[i]);
    }
    if (rc == 0 && txn) {
        rc = mdb_txn_commit(txn);
        txn = NULL;
    }
    if (txn)
        mdb_txn_abort(txn);
    if (rc != 0) {
        ts_fail(e, TS_ERUNTIME, "cannot open the store in %s: %s", path, store_strerror(rc));
        store_close(&s);
        return TS_ERUNTIME;
    }
    *out = s;
    return TS_OK;
}

void store_close(store_t **sp)
{
    if (!sp || !*sp)
        return;
    if ((*sp)->env)
        mdb_env_close((*sp)->env);
    pthread_rwlock_destroy(&(*sp)->resize_lock);
    pthread_mutex_destroy(&(*sp)->write_lock);
    free(*sp);
    *sp = NULL;
}

MDB_dbi store_dbi(const store_t *s, store_db db)
{
    return s->dbi[db];
}
const char *store_self_code(const store_t *s)
{
    return s->self;
}
bool store_has_parent(const store_t *s)
{
    return s->has_parent;
}
bool store_holds_records(const store_t *s)
{
    return s->hold_records;
}
config_detail store_detail(const store_t *s)
{
    return s->detail;
}
MDB_env *store_env(store_t *s)
{
    return s->env;
}

static void set_mapsize(store_t *s, size_t size)
{
    pthread_rwlock_wrlock(&s->resize_lock);
    mdb_env_set_mapsize(s->env, size);
    pthread_rwlock_unlock(&s->resize_lock);
}

static int txn_begin(store_t *s, unsigned flags, store_txn **txn, ts_err *e)
{
    bool reader = flags & MDB_RDONLY;
    if (reader)
        pthread_rwlock_rdlock(&s->resize_lock);
    int rc = mdb_txn_begin(s->env, NULL, flags, txn);
    if (rc == MDB_MAP_RESIZED) { /* another process grew the map: adopt its size */
        if (reader)
            pthread_rwlock_unlock(&s->resize_lock);
        set_mapsize(s, 0);
        if (reader)
            pthread_rwlock_rdlock(&s->resize_lock);
        rc = mdb_txn_begin(s->env, NULL, flags, txn);
    }
    if (rc && reader)
        pthread_rwlock_unlock(&s->resize_lock);
    return rc ? store_fail(s, e, rc, "cannot begin a transaction") : TS_OK;
}

static int grow_map(store_t *s, ts_err *e)
{
    MDB_envinfo info;
    mdb_env_info(s->env, &info);
    size_t next = info.me_mapsize * 2;
    if (info.me_mapsize >= s->map_max)
        return ts_fail(e, TS_ERUNTIME,
                       "store: the store is full at %zu MiB "
                       "(store.map_max_mb); nothing was changed: raise the limit in "
                       "tiersync.conf or free space",
                       info.me_mapsize >> 20);
    if (next > s->map_max)
        next = s->map_max;
    pthread_rwlock_wrlock(&s->resize_lock);
    int rc = mdb_env_set_mapsize(s->env, next);
    pthread_rwlock_unlock(&s->resize_lock);
    return rc ? store_fail(s, e, rc, "cannot grow the map") : TS_OK;
}

static int write_locked(store_t *s, store_write_fn fn, void *ctx, ts_err *e)
{
    for (int attempt = 0; attempt < STORE_MAX_RETRIES; attempt++) {
        store_txn *txn;
        s->last_rc = 0;
        if (txn_begin(s, 0, &txn, e))
            return e->code;
        int rc = fn(s, txn, ctx, e);
        if (rc != TS_OK) {
            mdb_txn_abort(txn);
            if (s->last_rc == MDB_MAP_FULL && grow_map(s, e) == TS_OK)
                continue;
            return rc;
        }
        int mrc = mdb_txn_commit(txn);
        if (mrc == 0)
            return TS_OK;
        if (mrc == MDB_MAP_FULL && grow_map(s, e) == TS_OK)
            continue;
        return store_fail(s, e, mrc, "cannot commit; nothing was changed");
    }
    return ts_fail(e, TS_ERUNTIME,
                   "store: the write kept failing after growing the map; "
                   "nothing was changed");
}

int store_write(store_t *s, store_write_fn fn, void *ctx, ts_err *e)
{
    pthread_mutex_lock(&s->write_lock);
    int rc = write_locked(s, fn, ctx, e);
    pthread_mutex_unlock(&s->write_lock);
    return rc;
}

int store_write_nested(store_t *s, store_txn *txn, store_write_fn fn, void *ctx, ts_err *e)
{
    store_txn *nested;
    int mrc = mdb_txn_begin(s->env, txn, 0, &nested);
    if (mrc)
        return store_fail(s, e, mrc, "cannot begin a nested transaction");
    int rc = fn(s, nested, ctx, e);
    if (rc != TS_OK) {
        mdb_txn_abort(nested);
        return rc;
    }
    mrc = mdb_txn_commit(nested);
    return mrc ? store_fail(s, e, mrc, "cannot commit a nested transaction") : TS_OK;
}

void store_info_get(store_t *s, store_info *out)
{
    MDB_envinfo info;
    MDB_stat st;
    memset(out, 0, sizeof *out);
    if (mdb_env_info(s->env, &info) || mdb_env_stat(s->env, &st))
        return;
    out->map_bytes = info.me_mapsize;
    out->used_bytes = (uint64_t)(info.me_last_pgno + 1) * st.ms_psize;
    out->max_bytes = s->map_max;
}

void store_reserve(store_t *s, size_t more)
{
    pthread_mutex_lock(&s->write_lock); /* no write transaction of this process is open */
    store_info i;
    store_info_get(s, &i);
    size_t want = (size_t)i.used_bytes + more, next = i.map_bytes;
    while (next && next < want && next < s->map_max)
        next *= 2;
    if (next > i.map_bytes)
        set_mapsize(s, next < s->map_max ? next : s->map_max);
    pthread_mutex_unlock(&s->write_lock);
}

bool store_has_prefix(const void *k, size_t klen, const void *prefix, size_t plen)
{
    return klen >= plen && memcmp(k, prefix, plen) == 0;
}

int store_read_begin(store_t *s, store_txn **txn, ts_err *e)
{
    return txn_begin(s, MDB_RDONLY, txn, e);
}

void store_read_end(store_txn *txn)
{
    if (!txn)
        return;
    store_t *s = mdb_env_get_userctx(mdb_txn_env(txn));
    mdb_txn_abort(txn);
    if (s)
        pthread_rwlock_unlock(&s->resize_lock);
}

int store_get(store_t *s, store_txn *txn, store_db db, const void *k, size_t klen, store_val *v,
              ts_err *e)
{
    MDB_val key = store_mdb_val(k, klen), val;
    int rc = mdb_get(txn, s->dbi[db], &key, &val);
    *v = rc == 0 ? store_val_of(val) : (store_val){NULL, 0};
    if (rc == MDB_NOTFOUND)
        return TS_ENOTFOUND;
    return rc ? store_fail(s, e, rc, "read failed") : TS_OK;
}

int store_put(store_t *s, store_txn *txn, store_db db, const void *k, size_t klen, const void *v,
              size_t vlen, ts_err *e)
{
    MDB_val key = store_mdb_val(k, klen), val = store_mdb_val(v, vlen);
    int rc = mdb_put(txn, s->dbi[db], &key, &val, 0);
    return rc ? store_fail(s, e, rc, "write failed") : TS_OK;
}

int store_del(store_t *s, store_txn *txn, store_db db, const void *k, size_t klen, ts_err *e)
{
    MDB_val key = store_mdb_val(k, klen);
    int rc = mdb_del(txn, s->dbi[db], &key, NULL);
    if (rc == MDB_NOTFOUND)
        return TS_OK;
    return rc ? store_fail(s, e, rc, "delete failed") : TS_OK;
}

bool store_fig_decode(const store_val *v, disclose_fig *f)
{
    if (v->len != STORE_FIG_BYTES && v->len != sizeof f->v)
        return false;
    memcpy(&f->v, v->data, sizeof f->v);
    f->key = 0;
    if (v->len == STORE_FIG_BYTES)
        memcpy(&f->key, (const char *)v->data + sizeof f->v, sizeof f->key);
    return true;
}

static void fig_encode(disclose_fig f, char out[STORE_FIG_BYTES])
{
    memcpy(out, &f.v, sizeof f.v);
    memcpy(out + sizeof f.v, &f.key, sizeof f.key);
}

disclose_fig store_get_fig(store_t *s, store_txn *txn, store_db db, const char *k, size_t klen)
{
    store_val v;
    disclose_fig f = {0, 0};
    if (store_get(s, txn, db, k, klen, &v, NULL) != TS_OK || !store_fig_decode(&v, &f))
        f = (disclose_fig){0, 0};
    return f;
}

/* One B-tree search per add: insert d if the key is new, else the cursor
 * already stands on the entry and it is rewritten (or deleted, when count
 * and key are both 0) in place. A cursor kept across adds of nearby keys
 * skips even that search while the key falls on the page it stands on. */
int store_cursor_add(store_t *s, MDB_cursor *cur, const char *k, size_t klen, disclose_fig d,
                     disclose_fig *after, ts_err *e)
{
    char buf[STORE_FIG_BYTES];
    fig_encode(d, buf);
    MDB_val key = store_mdb_val(k, klen), val = {sizeof buf, buf};
    disclose_fig n = d;
    int rc = mdb_cursor_put(cur, &key, &val, MDB_NOOVERWRITE);
    if (rc == MDB_KEYEXIST) {
        store_val old = store_val_of(val);
        if (!store_fig_decode(&old, &n))
            n = (disclose_fig){0, 0};
        if (disclose_add(&n, d))
            return ts_fail(e, TS_EINPUT, "count overflow: a total would leave the 64-bit range");
        fig_encode(n, buf);
        MDB_val nv = {sizeof buf, buf};
        rc = n.v == 0 && n.key == 0 ? mdb_cursor_del(cur, 0)
                                    : mdb_cursor_put(cur, &key, &nv, MDB_CURRENT);
    }
    if (rc)
        return store_fail(s, e, rc, "write failed");
    if (after)
        *after = n;
    return TS_OK;
}

int store_add_fig(store_t *s, store_txn *txn, store_db db, const char *k, size_t klen,
                  disclose_fig d, disclose_fig *after, ts_err *e)
{
    if (d.v == 0 && d.key == 0) {
        if (after)
            *after = store_get_fig(s, txn, db, k, klen);
        return TS_OK;
    }
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, s->dbi[db], &cur);
    if (rc)
        return store_fail(s, e, rc, "write failed");
    rc = store_cursor_add(s, cur, k, klen, d, after, e);
    mdb_cursor_close(cur);
    return rc;
}

uint64_t store_count(store_t *s, store_txn *txn, store_db db)
{
    MDB_stat st;
    return mdb_stat(txn, s->dbi[db], &st) == 0 ? st.ms_entries : 0;
}

/* Turns the plen bytes at p into the least key after every key that starts
 * with them; false when they are all 0xff (no such key). */
static bool past_prefix(uint8_t *p, size_t plen)
{
    size_t i = plen;
    while (i > 0 && ++p[i - 1] == 0)
        i--;
    return i > 0;
}

uint64_t store_count_prefixes(store_t *s, store_txn *txn, store_db db, size_t plen)
{
    uint8_t p[STORE_PREFIX_MAX];
    if (plen == 0 || plen > sizeof p)
        return 0;
    MDB_cursor *cur;
    if (mdb_cursor_open(txn, s->dbi[db], &cur))
        return 0;
    uint64_t n = 0;
    MDB_val k, v;
    for (int rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0 && k.mv_size >= plen;
         rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE)) {
        n++;
        memcpy(p, k.mv_data, plen); /* seek past every key with this prefix */
        if (!past_prefix(p, plen))
            break;
        k = (MDB_val){plen, p};
    }
    mdb_cursor_close(cur);
    return n;
}

bool store_last(store_t *s, store_txn *txn, store_db db, const void *prefix, size_t plen,
                store_val *k, store_val *v)
{
    uint8_t p[STORE_PREFIX_MAX];
    MDB_cursor *cur;
    if (plen == 0 || plen > sizeof p || mdb_cursor_open(txn, s->dbi[db], &cur))
        return false;
    memcpy(p, prefix, plen);
    MDB_val mk = {plen, p}, mv;
    int rc = past_prefix(p, plen) ? mdb_cursor_get(cur, &mk, &mv, MDB_SET_RANGE) : MDB_NOTFOUND;
    rc = mdb_cursor_get(cur, &mk, &mv, rc == 0 ? MDB_PREV : MDB_LAST);
    mdb_cursor_close(cur);
    if (rc || !store_has_prefix(mk.mv_data, mk.mv_size, prefix, plen))
        return false;
    *k = (store_val){mk.mv_data, mk.mv_size};
    *v = (store_val){mv.mv_data, mv.mv_size};
    return true;
}

uint64_t store_meta_u64(store_t *s, store_txn *txn, const char *key)
{
    store_val v;
    uint64_t n = 0;
    if (store_get(s, txn, DB_META, key, strlen(key), &v, NULL) == TS_OK && v.len == sizeof n)
        memcpy(&n, v.data, sizeof n);
    return n;
}

int store_meta_put_u64(store_t *s, store_txn *txn, const char *key, uint64_t v, ts_err *e)
{
    return store_put(s, txn, DB_META, key, strlen(key), &v, sizeof v, e);
}

/* Fixed-size records (children): TS_ENOTFOUND when absent or of
 * another size (a store written by an incompatible version). */
static int get_fixed(store_t *s, store_txn *txn, store_db db, const char *key, void *out,
                     size_t size)
{
    store_val v;
    int rc = store_get(s, txn, db, key, strlen(key), &v, NULL);
    if (rc)
        return rc;
    if (v.len != size)
        return TS_ENOTFOUND;
    memcpy(out, v.data, size);
    return TS_OK;
}

bool store_unit_decode(const store_val *v, store_unit *u)
{
    if (v->len != sizeof *u && v->len != offsetof(store_unit, leaf) &&
        v->len != offsetof(store_unit, merged_into))
        return false;
    memset(u, 0, sizeof *u);
    memcpy(u, v->data, v->len);
    return true;
}

int store_unit_get(store_t *s, store_txn *txn, const char *code, store_unit *u)
{
    store_val v;
    int rc = store_get(s, txn, DB_UNITS, code, strlen(code), &v, NULL);
    if (rc)
        return rc;
    return store_unit_decode(&v, u) ? TS_OK : TS_ENOTFOUND;
}

int store_unit_put(store_t *s, store_txn *txn, const char *code, const store_unit *u, ts_err *e)
{
    return store_put(s, txn, DB_UNITS, code, strlen(code), u, sizeof *u, e);
}

int store_child_get(store_t *s, store_txn *txn, const char *code, store_child *c)
{
    return get_fixed(s, txn, DB_CHILDREN, code, c, sizeof *c);
}

int store_child_put(store_t *s, store_txn *txn, const char *code, const store_child *c, ts_err *e)
{
    return store_put(s, txn, DB_CHILDREN, code, strlen(code), c, sizeof *c, e);
}

static int scan_fail(store_t *s, store_db db, int rc, ts_err *e)
{
    s->last_rc = rc;
    return ts_fail(e, TS_ERUNTIME, "store: cannot read table %s: %s", db_names[db],
                   store_strerror(rc));
}

/* Walks table db from prefix on while keys start with it, asking fn what
 * to do with each entry; the one loop under store_scan and store_take. */
static int walk(store_t *s, store_txn *txn, store_db db, const void *prefix, size_t plen,
                store_take_fn fn, void *ctx, ts_err *e)
{
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, s->dbi[db], &cur);
    if (rc)
        return scan_fail(s, db, rc, e);
    MDB_val k = store_mdb_val(prefix, plen), v;
    rc = mdb_cursor_get(cur, &k, &v, plen ? MDB_SET_RANGE : MDB_FIRST);
    while (rc == 0 && (!plen || store_has_prefix(k.mv_data, k.mv_size, prefix, plen))) {
        store_val sk = store_val_of(k), sv = store_val_of(v);
        store_step step = fn(&sk, &sv, ctx);
        if (step == STORE_STOP)
            break;
        /* after a delete, MDB_NEXT reads the entry that moved up into its place */
        if (step == STORE_TAKE && (rc = mdb_cursor_del(cur, 0)) != 0)
            break;
        rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }
    mdb_cursor_close(cur);
    if (rc && rc != MDB_NOTFOUND)
        return scan_fail(s, db, rc, e);
    return TS_OK;
}

typedef struct {
    store_scan_fn fn;
    void *ctx;
    int halt;
} scan_ctx;

static store_step scan_step(const store_val *k, const store_val *v, void *vctx)
{
    scan_ctx *c = vctx;
    c->halt = c->fn(k, v, c->ctx);
    return c->halt ? STORE_STOP : STORE_KEEP;
}

int store_scan_prefix(store_t *s, store_txn *txn, store_db db, const void *prefix, size_t plen,
                      store_scan_fn fn, void *ctx, int *stop, ts_err *e)
{
    scan_ctx c = {fn, ctx, 0};
    int rc = walk(s, txn, db, prefix, plen, scan_step, &c, e);
    if (stop)
        *stop = c.halt;
    return rc;
}

int store_scan(store_t *s, store_txn *txn, store_db db, const char *prefix, store_scan_fn fn,
               void *ctx, int *stop, ts_err *e)
{
    return store_scan_prefix(s, txn, db, prefix, prefix ? strlen(prefix) : 0, fn, ctx, stop, e);
}

int store_take(store_t *s, store_txn *txn, store_db db, const void *prefix, size_t plen,
               store_take_fn fn, void *ctx, ts_err *e)
{
    return walk(s, txn, db, prefix, plen, fn, ctx, e);
}

int store_clear(store_t *s, store_txn *txn, store_db db, ts_err *e)
{
    int rc = mdb_drop(txn, s->dbi[db], 0);
    if (rc == 0)
        return TS_OK;
    s->last_rc = rc;
    return ts_fail(e, TS_ERUNTIME, "store: cannot clear table %s: %s", db_names[db],
                   store_strerror(rc));
}

bool store_key_code(const store_val *k, char code[TS_CODE_MAX])
{
    if (k->len == 0 || k->len >= TS_CODE_MAX)
        return false;
    memcpy(code, k->data, k->len);
    code[k->len] = '\0';
    return true;
}
