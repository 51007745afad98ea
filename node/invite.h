/* invite.h: one-time invitations: the line a parent hands to a new child,
 * and the record the parent keeps of it.
 *
 * An invitation carries the parent's public key (the child pins it: nothing
 * is trusted on first use), the endpoint and join port to reach it, the
 * invited org-unit code and a 128-bit secret. The secret never rests at the
 * parent: it derives an Ed25519 key pair (the invitation key) and the parent
 * keeps only its public half, so its store, backups and logs hold nothing
 * that could join. The child proves it holds the secret by signing its Join
 * with the invitation key (docs/PROTOCOL.md section 15).
 *
 * Text form: INVITE_PREFIX followed by base32 (RFC 4648, lower case, no
 * padding) of
 *   parent key (32) | secret (16) | join port (2, big-endian) |
 *   code length (1) | code | endpoint length (1) | endpoint |
 *   check (4: the first bytes of BLAKE2b-256 of everything before it)
 * Letters and digits only after the prefix: it survives copy and paste,
 * e-mail, spreadsheets and a double click; a mistyped letter fails the check. */
#ifndef TIERSYNC_INVITE_H
#define TIERSYNC_INVITE_H

#include <stdbool.h>
#include <stdint.h>

#include "node.h"

#define INVITE_PREFIX "tsinv1_"
#define INVITE_SECRET_BYTES 16
#define INVITE_CHECK_BYTES 4
#define INVITE_TEXT_MAX 640 /* prefix + base32 of the longest payload + NUL */
#define INVITE_DEFAULT_TTL_S (7 * 86400)
#define INVITE_MAX_TTL_S (365 * 86400)
#define INVITE_KEY_DOMAIN "tiersync-invite-v1" /* BLAKE2b key: secret -> key seed */

typedef struct {
    uint8_t parent_pk[crypto_sign_PUBLICKEYBYTES];
    uint8_t secret[INVITE_SECRET_BYTES];
    char code[TS_CODE_MAX];
    char endpoint[CONFIG_ENDPOINT_MAX]; /* the parent's replication endpoint */
    uint16_t join_port;
} invite_t;

/* The text form of iv into out (INVITE_TEXT_MAX bytes). */
void invite_encode(const invite_t *iv, char out[INVITE_TEXT_MAX]);

/* Parses text (surrounding white space ignored). TS_EINPUT, saying what is
 * wrong, for another prefix or version, a character outside base32, a failed
 * check (a typo), an invalid code or key, or a wrong length. */
int invite_decode(const char *text, invite_t *iv, ts_err *e);

/* The invitation key pair the secret derives (sk may be NULL). */
void invite_key(const uint8_t secret[INVITE_SECRET_BYTES], uint8_t pk[crypto_sign_PUBLICKEYBYTES],
                uint8_t *sk);

/* The join endpoint: iv's endpoint with its port replaced by join_port. */
int invite_join_endpoint(const invite_t *iv, char out[CONFIG_ENDPOINT_MAX], ts_err *e);

/* The parent's record of an invitation (table invites, key: the code). */
enum { INVITE_OPEN = 0, INVITE_USED = 1, INVITE_REVOKED = 2 };
typedef struct {
    uint8_t verifier[crypto_sign_PUBLICKEYBYTES]; /* the invitation key's public half */
    char name[CONFIG_NAME_MAX];
    int64_t created_ms, expires_ms;
    int64_t closed_ms; /* when used or revoked */
    uint32_t state;
    uint32_t pad;
    uint8_t used_by[crypto_sign_PUBLICKEYBYTES]; /* the key it enrolled */
} invite_record;

/* Where n's invitations point: advertise (the replication endpoint children
 * dial: join.advertise, else listen.endpoint), the join socket's bind
 * endpoint (join.listen, else listen.endpoint's port + 1) and its port.
 * TS_EINPUT when n takes no children, an endpoint is not tcp://HOST:PORT, or
 * the advertised host is a wildcard no child can dial. */
int invite_endpoints(const ts_config *c, char advertise[CONFIG_ENDPOINT_MAX],
                     char join_listen[CONFIG_ENDPOINT_MAX], uint16_t *join_port, ts_err *e);

/* TS_EINPUT (what names the setting or option) when ep is not
 * tcp://HOST:PORT with a HOST a child can dial (not a wildcard). */
int invite_dialable(const char *ep, const char *what, ts_err *e);

/* Makes an invitation for code at node n (its public key and config), valid
 * for ttl_s seconds: a fresh secret into *iv and the matching record into
 * *rec; nothing is stored. TS_EINPUT for an invalid code, n's own, or the
 * reasons of invite_endpoints. */
int invite_make(const node_t *n, const char *code, const char *name, int64_t ttl_s, invite_t *iv,
                invite_record *rec, ts_err *e);

/* Table invites: get (TS_ENOTFOUND when none), put, and whether a record can
 * still be used at now_ms (open and not expired). */
int invite_get(store_t *s, store_txn *txn, const char *code, invite_record *rec);
int invite_put(store_t *s, store_txn *txn, const char *code, const invite_record *rec, ts_err *e);
bool invite_usable(const invite_record *rec, int64_t now_ms);

/* Number of usable invitations into *n (the join socket is open while
 * there are). TS_ERUNTIME (e) when the table cannot be read. */
int invite_count_usable(store_t *s, store_txn *txn, int64_t now_ms, uint64_t *n, ts_err *e);

#endif
