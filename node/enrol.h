/* enrol.h: enrolling a child node: its key under its unit code, and its unit
 * in the registry. `child add` and a child's join both come through here. */
#ifndef TIERSYNC_ENROL_H
#define TIERSYNC_ENROL_H

#include <stdbool.h>
#include <stdint.h>

#include <sodium.h>

#include "store.h"

/* Enrols pk as child code inside txn (a store_write function may call it; it
 * is safe to run twice). *existed is set when the same key was already
 * enrolled (nothing changes then). TS_EINPUT when code is enrolled with
 * another key, or its unit still has numbers from another child. */
int enrol_child(store_t *s, store_txn *txn, const char *code,
                const uint8_t pk[crypto_sign_PUBLICKEYBYTES], bool *existed, ts_err *e);

#endif
