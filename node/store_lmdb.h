/* store_lmdb.h: LMDB beneath the store, for the few files that must work on
 * it directly.
 *
 * store.h is the store's interface and keeps LMDB out of it. This header is
 * for the store's own files (store.c, store_pending.c, store_totals.c) and
 * three neighbours that need LMDB itself: the audit log (an append-only
 * table written with MDB_APPEND, and the move of the old "audit" table,
 * which is not one of store_db), backup (a compacting copy of the
 * environment, and opening a copy read-only) and the fuzz harness (no sync).
 * tests/test_seal.c fails on any other file that includes it or calls
 * LMDB. */
#ifndef TIERSYNC_STORE_LMDB_H
#define TIERSYNC_STORE_LMDB_H

#include <lmdb.h>

#include "store.h"

MDB_dbi store_dbi(const store_t *s, store_db db);
MDB_env *store_env(store_t *s);

/* Reports LMDB code rc from a helper called inside store_write (so that a
 * full map grows and the write runs again): "store: WHAT: reason" into e;
 * returns TS_ERUNTIME. */
int store_fail(store_t *s, ts_err *e, int rc, const char *what);

/* Human text for an LMDB or errno code, with what to do about it. */
const char *store_strerror(int mdb_rc);

/* store_add_fig through an open cursor of the table, which it leaves on the key. */
int store_cursor_add(store_t *s, MDB_cursor *cur, const char *k, size_t klen, disclose_fig d,
                     disclose_fig *after, ts_err *e);

/* The store's value of an LMDB one, and back. */
static inline store_val store_val_of(MDB_val v)
{
    return (store_val){v.mv_data, v.mv_size};
}
static inline MDB_val store_mdb_val(const void *data, size_t len)
{
    return (MDB_val){len, (void *)data};
}

#endif
