/* rotate_link.h: a KeyRotation received on a link (rotate.h). At the
 * parent it moves the child's enrolment to the new key in one write (the
 * old key kept in the child's key history); at a child it moves the parent
 * key pinned in DIR/tiersync.conf (written atomically), keeping the old one
 * in the store until the new one has connected. Both are safe to repeat:
 * an announcement already taken is acknowledged again. */
#ifndef TIERSYNC_ROTATE_LINK_H
#define TIERSYNC_ROTATE_LINK_H

#include <stddef.h>

#include "rotate.h"

/* At the parent: child (the connection's ZAP-authenticated code) announces
 * a new key. why is "" when accepted, else the reason it was refused
 * (nothing changed). new_pk: the key announced (zeros if undecodable).
 * TS_ERUNTIME when the store failed. */
int rotate_link_accept(node_t *n, const char *child, const Tiersync__KeyRotation *m,
                       uint8_t new_pk[crypto_sign_PUBLICKEYBYTES], char *why, size_t whysz,
                       ts_err *e);

/* At a child: the parent announces its new key; as rotate_link_accept.
 * n->cfg.parent_key holds the new key when accepted. */
int rotate_link_adopt(node_t *n, const Tiersync__KeyRotation *m,
                      uint8_t new_pk[crypto_sign_PUBLICKEYBYTES], char *why, size_t whysz,
                      ts_err *e);

/* At a child: rotate_link_adopt, and its KeyRotationAck sent on the
 * uplink's socket dealer (no answer when the store failed: the parent
 * announces again). */
void rotate_link_from_parent(node_t *n, void *dealer, const Tiersync__KeyRotation *m);

/* At a child: the parent's key before its rotation, while the new one has
 * not connected yet (false: none). */
bool rotate_link_parent_prev(node_t *n, uint8_t pk[crypto_sign_PUBLICKEYBYTES]);
/* At a child: the new parent key connected; the old one is forgotten. */
int rotate_link_parent_settled(node_t *n, ts_err *e);

#endif
