/* enrol.c: a child's key under its code, and its unit (see enrol.h). */
#include "enrol.h"

#include <stdio.h>
#include <string.h>

static int any_entry(const store_val *k, const store_val *v, void *ctx)
{
    (void)k, (void)v, (void)ctx;
    return 1;
}

/* True while child `via` still contributes numbers for unit `code` (or
 * when they cannot be read: enrolment is then refused, nothing changed). */
static bool still_counted(store_t *s, store_txn *txn, const char *via, const char *code)
{
    char prefix[2 * TS_CODE_MAX + 2];
    snprintf(prefix, sizeof prefix, "%s|%s|", via, code);
    int found;
    return store_scan(s, txn, DB_CONTRIB, prefix, any_entry, NULL, &found, NULL) || found;
}

int enrol_child(store_t *s, store_txn *txn, const char *code,
                const uint8_t pk[crypto_sign_PUBLICKEYBYTES], bool *existed, ts_err *e)
{
    store_child ch = {0};
    *existed = false;
    if (store_child_get(s, txn, code, &ch) == TS_OK) {
        if (memcmp(ch.pk, pk, sizeof ch.pk) != 0)
            return ts_fail(e, TS_EINPUT,
                           "child %s is already enrolled with another key; run "
                           "'tiersync child remove %s' first if the key really changed",
                           code, code);
        *existed = true;
        return TS_OK;
    }
    memcpy(ch.pk, pk, sizeof ch.pk);
    ch.enrolled_ms = ts_now_ms();
    if (store_child_put(s, txn, code, &ch, e))
        return e->code;
    store_unit u;
    if (store_unit_get(s, txn, code, &u) == TS_OK && u.via[0] && strcmp(u.via, code) != 0 &&
        still_counted(s, txn, u.via, code))
        return ts_fail(e, TS_EINPUT,
                       "unit %s still has numbers from child %s: run 'tiersync "
                       "child remove --purge %s' on %s's node first, then add it here",
                       code, u.via, code, u.via);
    memset(&u, 0, sizeof u);
    snprintf(u.name, sizeof u.name, "%s", code);
    snprintf(u.parent, sizeof u.parent, "%s", store_self_code(s));
    snprintf(u.via, sizeof u.via, "%s", code);
    u.leaf = true; /* until a unit below it is announced */
    store_unit old;
    if (store_unit_get(s, txn, code, &old) == TS_OK) { /* keep an announced name */
        memcpy(u.name, old.name, sizeof u.name), memcpy(u.level, old.level, sizeof u.level);
        u.leaf = old.leaf;
    }
    return store_unit_put(s, txn, code, &u, e);
}
