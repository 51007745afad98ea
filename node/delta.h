/* delta.h: the signed delta: building, signing, verifying, hashing.
 *
 * The signature covers DELTA_SIG_DOMAIN (18 bytes, its NUL included) followed
 * by the serialized DeltaBody bytes exactly as sent; the chain hash is
 * BLAKE2b-256 of those body bytes. Nothing is ever re-encoded before checking:
 * protobuf encodings are not canonical. */
#ifndef TIERSYNC_DELTA_H
#define TIERSYNC_DELTA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cell.h"
#include "disclose.h"
#include "keys.h"
#include "tiersync.pb-c.h"

#define DELTA_PROTOCOL 1 /* Hello.protocol */
#define DELTA_SIG_DOMAIN "tiersync-delta-v1"
#define DELTA_SIG_DOMAIN_LEN 18 /* strlen + the terminating NUL */
#define DELTA_HASH_BYTES 32
#define DELTA_SIG_BYTES crypto_sign_BYTES

/* Ed25519 over domain || body. */
void delta_sign(const keys_t *k, const uint8_t *body, size_t len, uint8_t sig[DELTA_SIG_BYTES]);
bool delta_verify(const uint8_t pk[crypto_sign_PUBLICKEYBYTES], const uint8_t *body, size_t len,
                  const uint8_t *sig, size_t siglen);
/* The name of a Nack reason as the protocol spells it (REASON_GAP, ...), or
 * unknown when the value is not one. */
const char *delta_reason_name(int reason, const char *unknown);
/* BLAKE2b-256 of the body bytes: the next delta's prev_hash. */
void delta_hash(const uint8_t *body, size_t len, uint8_t out[DELTA_HASH_BYTES]);

typedef struct delta_builder delta_builder;

delta_builder *delta_builder_new(const char *origin, const uint8_t key[32], uint64_t seq,
                                 const uint8_t prev_hash[DELTA_HASH_BYTES], const char *catalog_id,
                                 uint32_t catalog_version, bool snapshot);
void delta_builder_destroy(delta_builder **b);
void delta_add_cell(delta_builder *b, const ts_cell *c, disclose_fig value);
void delta_add_unit(delta_builder *b, const char *code, const char *name, const char *level,
                    const char *parent);
/* Marks the unit added last as merged into `into` from `on` (YYYYMMDD);
 * nothing when into is "". */
void delta_unit_merged(delta_builder *b, const char *into, int on);
void delta_add_cover(delta_builder *b, const char *child, uint64_t first, uint64_t last,
                     const uint8_t hash[DELTA_HASH_BYTES]);
size_t delta_ncells(const delta_builder *b);
/* Sets the body's created_ms (by default the time the builder was made):
 * a release carries the release time. */
void delta_set_time(delta_builder *b, int64_t ms);
/* A snapshot whose cells continue in the deltas up to seq end (its last part). */
void delta_set_snapshot_end(delta_builder *b, uint64_t end);

/* Serializes and signs: *out (malloc'd) receives a packed Envelope holding the
 * SignedDelta, ready for the wire; hash the body's hash. With k NULL it is
 * left unsigned, for the outbox (see delta_sign_later). */
void delta_finish(delta_builder *b, const keys_t *k, uint8_t **out, size_t *outlen,
                  uint8_t hash[DELTA_HASH_BYTES]);

/* The same for a body built by hand (tests, fuzzing): serialize, sign with k.
 * With k NULL the signature is left empty, for delta_sign_later. */
void delta_seal(const Tiersync__DeltaBody *body, const keys_t *k, uint8_t **out, size_t *outlen,
                uint8_t hash[DELTA_HASH_BYTES]);

/* Signs, with k, the packed Envelope *msg if it holds a delta whose
 * signature was left empty, replacing *msg and *len; anything else stays as
 * it is. Ed25519 signatures are deterministic: signing the same body again,
 * on every resend, gives the same bytes. -1 when *msg does not decode. */
int delta_sign_later(const keys_t *k, uint8_t **msg, size_t *len);

/* Packs an envelope into a malloc'd buffer. */
void wire_pack(const Tiersync__Envelope *env, uint8_t **out, size_t *len);

/* Packs a child's Hello: its code and key, and the head of its chain
 * (head_hash NULL: sent empty). */
void wire_pack_hello(const char *code, const uint8_t pk[crypto_sign_PUBLICKEYBYTES],
                     uint64_t head_seq, const uint8_t *head_hash, uint8_t **out, size_t *len);

#endif
