/* keys.h: a node's identity: one Ed25519 key pair, and what derives from it.
 *
 * DIR/node.key holds the secret key (hex, mode 0600), DIR/node.pub the public
 * key (hex). The public key is the identity; people compare the short
 * fingerprint. CurveZMQ transport keys are derived from the same pair, so a
 * node has exactly one secret to protect. */
#ifndef TIERSYNC_KEYS_H
#define TIERSYNC_KEYS_H

#include <sodium.h>
#include <stdbool.h>
#include <stdint.h>

#include "err.h"

#define KEYS_SECRET_FILE "node.key"
#define KEYS_PUBLIC_FILE "node.pub"
#define KEYS_PUB_HEX_LEN (2 * crypto_sign_PUBLICKEYBYTES)
#define KEYS_FINGERPRINT_LEN 20 /* "xxxx-xxxx-xxxx-xxxx" + NUL */
#define KEYS_Z85_LEN 41         /* 32-byte key in Z85 + NUL */

typedef struct {
    uint8_t pk[crypto_sign_PUBLICKEYBYTES];
    uint8_t sk[crypto_sign_SECRETKEYBYTES];
} keys_t;

/* Creates a new key pair in dir. Refuses (TS_EINPUT) if a key exists, unless
 * force. The secret key file is created with mode 0600. */
int keys_create(keys_t *k, const char *dir, bool force, ts_err *e);
/* keys_create in steps, for a node that must prove its key before it is
 * written (init --join): whether dir may take a new key (TS_EINPUT as
 * keys_create), a new pair in memory, and writing it (checking again). */
int keys_check_new(const char *dir, bool force, ts_err *e);
int keys_generate(keys_t *k, ts_err *e);
int keys_save(const keys_t *k, const char *dir, bool force, ts_err *e);

/* Loads the key pair from dir; refuses a secret key file readable by others
 * and a public key that does not match the secret key. */
int keys_load(keys_t *k, const char *dir, ts_err *e);

/* The same for a pair kept beside the node's own under a file-name suffix
 * (key rotation: ".new" waits to be announced, ".old" until every link has
 * acknowledged the new one). keys_save_as writes both files atomically,
 * the secret 0600, replacing any there. */
int keys_save_as(const keys_t *k, const char *dir, const char *suffix, ts_err *e);
int keys_load_as(keys_t *k, const char *dir, const char *suffix, ts_err *e);
/* Renames the pair `from` to `to` (suffixes), the secret key first; a file
 * already gone is no error. */
int keys_rename(const char *dir, const char *from, const char *to, ts_err *e);
/* Finishes a keys_rename(dir, from, "") cut off between its two renames:
 * the public file left behind under `from` joins its secret key. */
int keys_repair(const char *dir, const char *from, ts_err *e);
/* Overwrites the secret key file of pair `suffix`, then removes both files. */
int keys_remove(const char *dir, const char *suffix, ts_err *e);
/* Whether the secret key file of pair `suffix` exists. */
bool keys_exist(const char *dir, const char *suffix);

/* Zeroes the secret part. */
void keys_wipe(keys_t *k);

/* Parses a 64-hex-digit public key (as printed by 'tiersync key'). */
int keys_parse_public(const char *hex, uint8_t pk[crypto_sign_PUBLICKEYBYTES], ts_err *e);

/* Short human fingerprint of a public key: first 8 bytes of BLAKE2b-256(pk)
 * as four dash-separated groups of hex. */
void keys_fingerprint(const uint8_t pk[crypto_sign_PUBLICKEYBYTES], char out[KEYS_FINGERPRINT_LEN]);

/* CurveZMQ keys derived from Ed25519, Z85-encoded for libzmq. */
int keys_curve_public_z85(const uint8_t ed_pk[crypto_sign_PUBLICKEYBYTES], char out[KEYS_Z85_LEN],
                          ts_err *e);
int keys_curve_secret_z85(const keys_t *k, char out[KEYS_Z85_LEN], ts_err *e);
/* Raw Curve25519 public key derived from an Ed25519 one (ZAP compares these). */
int keys_curve_public_raw(const uint8_t ed_pk[crypto_sign_PUBLICKEYBYTES],
                          uint8_t out[crypto_scalarmult_curve25519_BYTES], ts_err *e);

#endif
