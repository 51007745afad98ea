/* join_wire.h: the join exchange's messages: packing, signing, checking.
 *
 * Join: two Ed25519 signatures over JOIN_SIG_DOMAIN (its NUL included),
 * the parent's public key and the JoinRequest bytes as sent: one by the
 * invitation key (proof of the secret, which never travels), one by the
 * child's own key. JoinReply: the parent's signature over
 * JOIN_REPLY_DOMAIN (NUL included) and the JoinResult bytes, which name the
 * request they answer by its hash. Nothing is re-encoded before checking. */
#ifndef TIERSYNC_JOIN_WIRE_H
#define TIERSYNC_JOIN_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "invite.h"
#include "keys.h"
#include "tiersync.pb-c.h"

#define JOIN_SIG_DOMAIN "tiersync-join-v1"
#define JOIN_REPLY_DOMAIN "tiersync-join-reply-v1"
#define JOIN_HASH_BYTES 32
#define JOIN_MSG_MAX 4096 /* larger join messages are dropped by the transport */

/* Child: a packed Join (malloc'd into *out) asking to enrol child's key under
 * iv's code, signed by both keys; *hash: the request's hash, which the reply
 * must name. */
void join_pack_request(const invite_t *iv, const keys_t *child, uint8_t **out, size_t *len,
                       uint8_t hash[JOIN_HASH_BYTES]);

/* Parent: a received Join, decoded. */
typedef struct {
    char code[TS_CODE_MAX];
    uint8_t key[crypto_sign_PUBLICKEYBYTES];
    uint8_t hash[JOIN_HASH_BYTES];
    Tiersync__Join *msg;
} join_request;

/* Decodes data into *r and checks the child's own signature. Returns
 * JOIN_ENROLLED when both hold (the request may go on), JOIN_MALFORMED or
 * JOIN_BAD_PROOF otherwise (what is known of the request is still filled
 * in). Free with join_request_free either way. */
Tiersync__JoinOutcome join_parse_request(const uint8_t *data, size_t len,
                                         const uint8_t parent_pk[crypto_sign_PUBLICKEYBYTES],
                                         join_request *r);
/* True when the request is signed by the invitation key verifier. */
bool join_invite_signed(const join_request *r, const uint8_t parent_pk[crypto_sign_PUBLICKEYBYTES],
                        const uint8_t verifier[crypto_sign_PUBLICKEYBYTES]);
void join_request_free(join_request *r);

/* Parent: res packed into a JoinReply signed with parent (malloc'd). */
void join_pack_reply(const keys_t *parent, const Tiersync__JoinResult *res, uint8_t **out,
                     size_t *len);

/* Child: checks a JoinReply against the pinned parent key, the request's
 * hash and key, and decodes its result into *res (free with
 * tiersync__join_result__free_unpacked). TS_EINPUT when it does not hold. */
int join_parse_reply(const uint8_t *data, size_t len,
                     const uint8_t parent_pk[crypto_sign_PUBLICKEYBYTES],
                     const uint8_t hash[JOIN_HASH_BYTES],
                     const uint8_t child_pk[crypto_sign_PUBLICKEYBYTES], Tiersync__JoinResult **res,
                     ts_err *e);

/* The outcome's protocol name (JOIN_USED, ...), or "JOIN_?" */
const char *join_outcome_name(int outcome);

#endif
