/* audit_log.h: where the audit trail is kept.
 *
 * Table audit_log holds each signed delta once, under a be64 arrival
 * number, and only ever grows at its end (appended): its pages fill whole
 * and a commit touches only the last one, whichever children sent what.
 * (Keyed by child and seq, deltas from a thousand children landed on a
 * thousand random pages, each about one delta full.) Table audit_index
 * maps the trail's keys ("child|" + be64 seq; in stores written before
 * audit_folded.h, also a child's checkpoint "child|") to that arrival
 * number. A value longer than a page's share is kept in pieces under
 * consecutive arrival numbers, so that every log entry stays on its leaf
 * page. Callers use the trail's keys only; these functions keep both
 * tables in step. */
#ifndef TIERSYNC_AUDIT_LOG_H
#define TIERSYNC_AUDIT_LOG_H

#include "store.h"

/* Stores val under key: in place when key is already in the trail, else
 * appended to the log. */
int audit_log_put(store_t *s, store_txn *txn, const void *key, size_t klen, const void *val,
                  size_t len, ts_err *e);

/* The value stored under key; TS_EINPUT when there is none. It points into
 * the map, or, when it was kept in pieces, into *buf, which grows as needed
 * and is the caller's to free (start it NULL; reuse it across reads). */
int audit_log_get(store_t *s, store_txn *txn, const void *key, size_t klen, store_val *v,
                  uint8_t **buf, ts_err *e);

/* Deletes key and its value; TS_OK when there was none. */
int audit_log_del(store_t *s, store_txn *txn, const void *key, size_t klen, ts_err *e);

/* Calls fn(key, value, ctx) for every key starting with prefix, in key
 * order, as store_scan does (its *stop and its TS_ERUNTIME in e). */
int audit_log_scan(store_t *s, store_txn *txn, const char *prefix, store_scan_fn fn, void *ctx,
                   int *stop, ts_err *e);

/* Deletes every key starting with prefix, and the values. */
int audit_log_drop(store_t *s, store_txn *txn, const char *prefix, ts_err *e);

/* Moves the trail of a store written before this layout (table "audit",
 * keyed by the trail's keys) into the log and the index, in a write of its
 * own (so that the map grows if the moved trail needs it); nothing when
 * there is none. node_open calls it after store_open. */
int audit_log_open(store_t *s, ts_err *e);

#endif
