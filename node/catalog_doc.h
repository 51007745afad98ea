/* catalog_doc.h: signed catalog versions (docs/CATALOG.md, "Versions").
 *
 * The root of a tree signs each catalog version it publishes: an Ed25519
 * signature over CATDOC_ROOT_PREFIX || the file's exact bytes. Every parent
 * that hands the version down endorses it: an Ed25519 signature by the
 * parent's node key over CATDOC_ENDORSE_PREFIX || BLAKE2b-256(file) ||
 * version (4 bytes, big-endian), which the child checks against the parent
 * key it already pins. A node keeps the version in force in
 * DIR/catalog/catalog.json, its signatures in DIR/catalog/catalog.sig and the
 * root key it trusts in DIR/catalog/root.pub (pinned by the first signed
 * version it adopts: see SECURITY.md). When DIR/catalog/catalog.json exists
 * it is the node's catalog, whatever the config's `catalog` names.
 *
 * A new version is adopted only when it is compatible with the one in force
 * (catalog_compat_check): same id, higher version, every existing record
 * type, field, category and indicator unchanged and in its place, new ones
 * appended. Appending keeps every index of the old version valid in the new
 * one, which is what lets a running daemon swap the pointer under readers. */
#ifndef TIERSYNC_CATALOG_DOC_H
#define TIERSYNC_CATALOG_DOC_H

#include <sodium.h>
#include <stdint.h>

#include "node.h"

#define CATDOC_DIR "catalog"
#define CATDOC_FILE "catalog.json"
#define CATDOC_SIG_FILE "catalog.sig"
#define CATDOC_ROOT_FILE "root.pub"
#define CATDOC_ROOT_PREFIX "tiersync-catalog-v1"            /* with its NUL */
#define CATDOC_ENDORSE_PREFIX "tiersync-catalog-endorse-v1" /* with its NUL */
#define CATDOC_HASH_BYTES 32
#define CATDOC_MAX_BYTES (4 * 1024 * 1024) /* a catalog document, at most */

/* One signed catalog version, as a node holds and hands it down. */
typedef struct catalog_doc {
    char id[CATALOG_NAME_MAX];
    int version;
    uint8_t *data; /* the file's exact bytes */
    size_t len;
    uint8_t hash[CATDOC_HASH_BYTES];
    uint8_t root_pk[crypto_sign_PUBLICKEYBYTES];
    uint8_t root_sig[crypto_sign_BYTES];
    uint8_t endorser_pk[crypto_sign_PUBLICKEYBYTES]; /* the parent, or the root itself */
    uint8_t endorsement[crypto_sign_BYTES];
} catalog_doc;

/* Refuses (TS_EINPUT) a next version that is not a compatible successor of
 * cur: the message names the code and what changed. */
int catalog_compat_check(const catalog_t *cur, const catalog_t *next, ts_err *e);

/* Signatures. The verify functions return true when the signature holds. */
void catdoc_hash(const uint8_t *data, size_t len, uint8_t out[CATDOC_HASH_BYTES]);
void catdoc_root_sign(const keys_t *k, const uint8_t *data, size_t len,
                      uint8_t sig[crypto_sign_BYTES]);
bool catdoc_root_verify(const uint8_t pk[crypto_sign_PUBLICKEYBYTES], const uint8_t *data,
                        size_t len, const uint8_t sig[crypto_sign_BYTES]);
void catdoc_endorse(const keys_t *k, const uint8_t hash[CATDOC_HASH_BYTES], int version,
                    uint8_t sig[crypto_sign_BYTES]);
bool catdoc_endorse_verify(const uint8_t pk[crypto_sign_PUBLICKEYBYTES],
                           const uint8_t hash[CATDOC_HASH_BYTES], int version,
                           const uint8_t sig[crypto_sign_BYTES]);

/* Loads DIR's signed version into *out (a new catalog_doc; NULL when the
 * node has none). TS_ERUNTIME/TS_EINPUT when the files are unreadable or
 * disagree. */
int catdoc_load(catalog_doc **out, const char *dir, ts_err *e);
void catdoc_destroy(catalog_doc **d);

/* The root key DIR pins (false when none is pinned yet). */
bool catdoc_root_key(const char *dir, uint8_t pk[crypto_sign_PUBLICKEYBYTES]);

/* The path of DIR's signed catalog when it has one (node_open prefers it). */
bool catdoc_path(const char *dir, char *out, size_t outsz);

/* Checks doc (its data, signatures and endorsement by endorser_pk, which
 * the caller has authenticated) against DIR's pinned root key and the node's
 * catalog in force, then writes it in place (temp file + rename) and returns
 * the loaded catalog in *loaded. A refusal (TS_EINPUT) changes nothing and
 * names the check that failed. */
int catdoc_accept(node_t *n, const catalog_doc *doc, catalog_t **loaded, ts_err *e);

/* Makes next the node's catalog: the pointer swap for the threads that read
 * n->catalog (the old version stays allocated until node_close, so a reader
 * holding it finishes safely), and the contributions of its new indicators
 * counted from the records the node holds. Takes ownership of next. */
int catdoc_swap(node_t *n, catalog_t *next, ts_err *e);
/* In a write of records (agg_catch_up): counts the contributions of the
 * catalog's indicators the store does not count yet (AGG_META_NINDS);
 * TS_EINPUT when the store counts more indicators than n's catalog has. */
int catdoc_count_new(node_t *n, store_txn *txn, ts_err *e);
/* Frees the versions catdoc_swap kept (node_close). */
void catdoc_kept_free(node_t *n);

#endif
