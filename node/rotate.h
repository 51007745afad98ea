/* rotate.h: planned key rotation (docs/PROTOCOL.md section 16).
 *
 * A node replaces its key pair and announces the new public key on both its
 * links in a KeyRotation signed by the old key and countersigned by the new
 * one. Upward, the parent moves the child's enrolment to the new key and
 * keeps the old one in the child's key history, so deltas signed before the
 * rotation still verify; downward, each child moves the parent key it pins.
 * The chain (seq, prev_hash) continues: deltas from `from_seq` on are signed
 * with the new key, earlier ones with the old.
 *
 * State of a rotation at the rotating node, all in table meta:
 *   "rotation"        -> rotate_state (pending until every link acknowledged)
 *   "rotation_msg"    -> the packed KeyRotation Envelope it announces
 *   "rotation_ack|C"  -> "" once child C acknowledged
 * and beside the node's key files: node.key.new (made by `key rotate`, not
 * yet announced) and node.key.old (the old pair, until the rotation is done).
 *
 * At a parent, the key history of child C: "keyhist|C|" + be64(from_seq) ->
 * the 32-byte key that signed C's deltas below from_seq.
 * At a child: "parent_key_prev" -> the parent's key before its rotation,
 * tried when the new one does not connect, until the new one has. */
#ifndef TIERSYNC_ROTATE_H
#define TIERSYNC_ROTATE_H

#include <stdbool.h>
#include <stdint.h>

#include "node.h"
#include "tiersync.pb-c.h"

#define ROTATE_SIG_DOMAIN "tiersync-rotate-v1"
#define ROTATE_SIG_DOMAIN_LEN 19 /* strlen + the terminating NUL */
#define ROTATE_NEW_SUFFIX ".new"
#define ROTATE_OLD_SUFFIX ".old"
#define ROTATE_META_STATE "rotation"
#define ROTATE_META_MSG "rotation_msg"
#define ROTATE_META_PARENT_PREV "parent_key_prev"
#define ROTATE_RESEND_MS 2000 /* an announcement not yet acknowledged goes again */

/* What an announcement says. */
typedef struct {
    char code[TS_CODE_MAX];
    uint8_t old_pk[crypto_sign_PUBLICKEYBYTES];
    uint8_t new_pk[crypto_sign_PUBLICKEYBYTES];
    uint64_t from_seq;
    int64_t created_ms;
} rotate_claim;

/* A rotation in progress at the rotating node (meta "rotation"). */
typedef struct {
    uint8_t old_pk[crypto_sign_PUBLICKEYBYTES];
    uint8_t new_pk[crypto_sign_PUBLICKEYBYTES];
    uint64_t from_seq;
    int64_t created_ms;
    uint8_t parent_done; /* the parent acknowledged (or there is none) */
    uint8_t pad[7];
} rotate_state;

/* Packs a KeyRotation Envelope (malloc'd) for c, signed by old_k (whose
 * public key must be c->old_pk) and by new_k (c->new_pk). */
void rotate_pack(const rotate_claim *c, const keys_t *old_k, const keys_t *new_k, uint8_t **out,
                 size_t *len);
/* Checks a received KeyRotation: body decodes, keys and signatures of the
 * right size, both signatures verify, old and new keys differ. Fills c.
 * TS_EINPUT naming what failed. */
int rotate_open(const Tiersync__KeyRotation *m, rotate_claim *c, ts_err *e);
/* Packs a KeyRotationAck Envelope (malloc'd); detail NULL when accepted. */
void rotate_pack_ack(const uint8_t new_pk[crypto_sign_PUBLICKEYBYTES], const char *detail,
                     uint8_t **out, size_t *len);

/* The rotation in progress, if any (false: none). */
bool rotate_state_get(store_t *s, store_txn *txn, rotate_state *st);
/* The same in its own read transaction. */
bool rotate_pending(node_t *n, rotate_state *st);

/* The key pair that signs this node's delta seq: the old pair for deltas
 * made before the rotation, the node's own otherwise. */
const keys_t *rotate_signer(const node_t *n, uint64_t seq);

/* At a parent: the key that signed child's delta seq, when a rotation
 * retired it (TS_OK), else the enrolled one is (TS_ENOTFOUND, no message).
 * TS_ERUNTIME (e) when the history cannot be read. */
int rotate_key_at(store_t *s, store_txn *txn, const char *child, uint64_t seq,
                  uint8_t pk[crypto_sign_PUBLICKEYBYTES], ts_err *e);
/* At a parent: child's last retired key and the seq from which it no
 * longer signs (TS_OK); TS_ENOTFOUND when the child never rotated;
 * TS_ERUNTIME (e) when the history cannot be read. */
int rotate_last_retired(store_t *s, store_txn *txn, const char *child,
                        uint8_t pk[crypto_sign_PUBLICKEYBYTES], uint64_t *until, ts_err *e);
/* At a parent, inside a write: records that child's key pk signed its
 * deltas below from_seq (down to the previous entry's from_seq). With an
 * entry at from_seq already, pk signed none and nothing changes. */
int rotate_retire(store_t *s, store_txn *txn, const char *child,
                  const uint8_t pk[crypto_sign_PUBLICKEYBYTES], uint64_t from_seq, ts_err *e);
/* At a parent, inside a write: enrols pk for child (enrolled as *ch) in
 * place of its key, which stays in its key history for deltas below
 * from_seq; *ch is updated and written. */
int rotate_replace(store_t *s, store_txn *txn, const char *child, store_child *ch,
                   const uint8_t pk[crypto_sign_PUBLICKEYBYTES], uint64_t from_seq, ts_err *e);
/* At a parent, inside a write: forgets child's key history (child remove). */
int rotate_forget(store_t *s, store_txn *txn, const char *child, ts_err *e);

#endif
