/* access_log.h: who read or changed which case record, when and from
 * where (Decree 13/2023/NĐ-CP: access to sensitive personal data is
 * limited to named people and recorded).
 *
 * Table access_log of the commune's store: key be64 time (ms) | be64
 * sequence, value the entry's strings. Entries are appended, never edited;
 * those older than [register] access_log_days are dropped as new ones come
 * in. It holds no value of any record (only types and ids) and is never
 * sent anywhere: no delta, snapshot or export reads it (store.h). */
#ifndef TIERSYNC_ACCESS_LOG_H
#define TIERSYNC_ACCESS_LOG_H

#include <stddef.h>
#include <stdint.h>

#include "records.h"
#include "users.h"

#define ACCESS_ADDR_MAX 64 /* "cli", an IPv4 or IPv6 address */
#define ACCESS_ACTION_MAX 16
#define ACCESS_PRUNE_BATCH 256 /* old entries dropped per append, at most */

/* What was done: login, login-failed, logout, search (results listed),
 * read, add, update, delete, import (one entry per row), user-add,
 * user-remove, user-passwd, log-read. */
typedef struct {
    int64_t ms;
    char user[USERS_NAME_MAX];
    char addr[ACCESS_ADDR_MAX];
    char action[ACCESS_ACTION_MAX];
    char type[CATALOG_NAME_MAX]; /* record type; "" when none */
    char id[RECORDS_ID_MAX + 1]; /* record id, account name, or "" */
    int64_t count;               /* search: records listed; else 0 */
} access_entry;

/* Appends n entries in one write transaction, and drops up to
 * ACCESS_PRUNE_BATCH entries older than keep_days. */
int access_log_append(store_t *s, const access_entry *entries, size_t n, int keep_days, ts_err *e);

/* Calls fn for each entry in time order (oldest first) that matches: user
 * and id NULL or "" match all. fn returns non-zero to stop. */
typedef int (*access_log_fn)(const access_entry *a, void *ctx);
int access_log_scan(store_t *s, const char *user, const char *id, access_log_fn fn, void *ctx,
                    ts_err *e);

#endif
