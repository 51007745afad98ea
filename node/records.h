/* records.h: case records at the commune: their values, their validation
 * against the catalog, and how they lie in the store.
 *
 * A record is one row of a record type of the catalog (person, episode,
 * support): a string per field, "" when empty. Records live only in the
 * commune's store (docs/RECORDS.md): nothing here is ever sent upward.
 *
 * Layout. A *cluster* is a record of a root type (one without an owner ref)
 * with every record owned by it, directly or through other owned records.
 * A record's key in the table records is the path from its root:
 *     "person:P1"                      the root
 *     "person:P1\x1f" "episode:E7"     owned by it
 * so a cluster is one contiguous key range (the separator 0x1f sorts below
 * every character an id may hold), and a full scan visits clusters whole.
 * The table record_refs maps "type:id" of every non-root record to its full
 * key, so any record is found by type and id. A value is the record's
 * non-empty fields as "name\0value\0" pairs: readable without copying and
 * independent of the order of fields in the catalog.
 *
 * Validation never repeats a value of a pii field in a message. */
#ifndef TIERSYNC_RECORDS_H
#define TIERSYNC_RECORDS_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "catalog.h"
#include "err.h"
#include "store.h"

#define RECORDS_ID_MAX 64     /* bytes in an id (and a ref) */
#define RECORDS_VALUE_MAX 512 /* bytes in any other value */
#define RECORDS_KEY_MAX 511   /* LMDB's limit on a key */
#define RECORDS_VAL_MAX (CATALOG_MAX_FIELDS * (CATALOG_NAME_MAX + RECORDS_VALUE_MAX + 2))
#define RECORDS_SEP '\x1f' /* between the parts of a record's key */
#define RECORDS_SEP_STR "\x1f"
#define RECORDS_PROBLEMS_MAX 20 /* problems kept for the report */
#define RECORDS_REASON_MAX 256
#define RECORDS_ECHO_MAX 32   /* bytes of a refused non-pii value repeated */
#define RECORDS_YEAR_MIN 1900 /* dates are refused before this year */

typedef struct {
    int type;                          /* index of the record type in the catalog */
    const char *v[CATALOG_MAX_FIELDS]; /* NUL-terminated; "" when empty */
} rec_t;

/* One refusal: where and why. */
typedef struct {
    int line; /* 0 when not from a file */
    char field[CATALOG_NAME_MAX];
    char reason[RECORDS_REASON_MAX];
} records_problem;

typedef struct {
    int n;     /* problems kept, at most RECORDS_PROBLEMS_MAX */
    int total; /* problems found */
    int rows;  /* rows with at least one problem */
    int last_line;
    records_problem p[RECORDS_PROBLEMS_MAX];
} records_problems;

/* Records a problem of the row at line (counts the row once). */
void records_problem_add(records_problems *ps, int line, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void records_problem_vadd(records_problems *ps, int line, const char *field, const char *fmt,
                          va_list ap) __attribute__((format(printf, 4, 0)));

/* ---- values and validation ------------------------------------------- */

/* Parses "YYYY-MM-DD" (a real calendar day, year >= RECORDS_YEAR_MIN) into
 * YYYYMMDD; 0 when malformed. */
int records_parse_date(const char *s);

/* Checks one value (already trimmed) of field fi of record type t against
 * its catalog type: length, control characters, date form and not after
 * today (YYYYMMDD), enum values. Empty values pass (required-ness is
 * checked on the whole record). Returns true when fine, else writes the
 * reason to why (never the value of a pii field). */
bool records_check_value(const catalog_t *c, int t, int fi, const char *v, int today, char *why,
                         size_t whysz);

/* Checks a whole record (every value already passed records_check_value):
 * required fields, interval ends not before their starts (the start/end
 * pairs of the catalog's stock and reach indicators), and fields that go
 * together (a category field of a flow indicator is set exactly when its
 * optional date is: an ended episode has an outcome and only an ended one).
 * Adds a problem per failure. */
void records_check_record(const catalog_t *c, const rec_t *r, int line, records_problems *ps);

/* ---- storage ---------------------------------------------------------- */

/* Encodes r's non-empty fields into out (RECORDS_VAL_MAX bytes); returns
 * the length. */
size_t records_encode(const catalog_t *c, const rec_t *r, char *out);

/* Decodes a stored value of type t; r's strings point into data, which
 * must stay valid (an LMDB value: until the next write in the txn). */
void records_decode(const catalog_t *c, int t, const void *data, size_t len, rec_t *r);

/* "type:id" into out (RECORDS_KEY_MAX + 1 bytes); returns the length, 0 if
 * it does not fit. */
size_t records_own_key(const catalog_t *c, int t, const char *id, char *out);

/* Finds the record of type t with this id: its full key (RECORDS_KEY_MAX +
 * 1 bytes, NUL-terminated) and, if r is non-NULL, its decoded value.
 * TS_ENOTFOUND when there is none. */
int records_find(store_t *s, store_txn *txn, const catalog_t *c, int t, const char *id, char *key,
                 size_t *klen, rec_t *r, ts_err *e);

/* The length of the root part of a full key (up to the first separator). */
size_t records_root_len(const char *key, size_t klen);

/* Counts the records owned (directly or not) by the record at key, per
 * record type, into counts[CATALOG_MAX_TYPES], and their total into
 * *total. TS_ERUNTIME (e) when the store cannot be read. */
int records_count_owned(store_t *s, store_txn *txn, const catalog_t *c, const char *key,
                        size_t klen, size_t counts[CATALOG_MAX_TYPES], size_t *total, ts_err *e);

/* True when this node holds records: it has no enrolled children (a
 * commune). Upper levels hold only counts, and never serve the register. */
bool records_held_here(store_t *s, store_txn *txn);

/* ---- clusters --------------------------------------------------------- */

typedef struct {
    int n, cap;
    rec_t *recs;
    int *parent;     /* index of each record's owner in recs; -1 for the root */
    uint64_t key;    /* the cluster's record key (records_key_get); 0: none yet */
    int counts_from; /* YYYYMMDD: counted only for periods ending on or after
                      * it (a cluster moved in by a merge); 0: every period */
} records_cluster;

void records_cluster_init(records_cluster *cl);
void records_cluster_free(records_cluster *cl);

/* Loads the cluster whose root has this key (its records point into the
 * txn's memory), keeping only records of the types in need (bit i: type i;
 * need must hold the owners of every type in it, see records_with_owners).
 * An absent root gives an empty cluster. */
int records_cluster_load(store_t *s, store_txn *txn, const catalog_t *c, const char *root,
                         size_t rlen, unsigned need, records_cluster *cl, ts_err *e);

/* Calls fn for every cluster of the store in key order; stops when fn
 * returns non-zero and returns that. */
typedef int (*records_cluster_fn)(const records_cluster *cl, void *ctx);
int records_scan_clusters(store_t *s, store_txn *txn, const catalog_t *c, records_cluster_fn fn,
                          void *ctx, ts_err *e);

/* ---- record keys ------------------------------------------------------ */

/* Every cluster has a random 64-bit record key (table record_keys: root
 * key -> 8 bytes), from which its share of every cell key is derived
 * (disclose.h). It never leaves the node and is never shown. A cluster
 * moved in by a merge (merge.h) keeps the key it had and carries its
 * counts_from date after it (4 more bytes, YYYYMMDD). */

/* The record key of the cluster rooted at root; 0 when it has none. */
uint64_t records_key_get(store_t *s, store_txn *txn, const char *root, size_t rlen);

/* The counts_from date of the cluster rooted at root; 0 when it has none. */
int records_key_from(store_t *s, store_txn *txn, const char *root, size_t rlen);

/* Writes the record key and counts_from date (0: none) of the cluster
 * rooted at root. */
int records_key_put(store_t *s, store_txn *txn, const char *root, size_t rlen, uint64_t key,
                    int counts_from, ts_err *e);

/* Gives the cluster rooted at root a new random record key (never 0) into
 * *key, keeping its counts_from. */
int records_key_new(store_t *s, store_txn *txn, const char *root, size_t rlen, uint64_t *key,
                    ts_err *e);

/* Forgets the record key of a cluster whose root is deleted; a merged
 * cluster's counts_from stays (key 0), so the same id added again counts
 * from the merge date too and never twice before it. */
int records_key_drop(store_t *s, store_txn *txn, const char *root, size_t rlen, ts_err *e);

/* The record types whose records are owned, directly or not, by records of
 * type t, with t itself: bit i set for type i. */
unsigned records_type_and_owned(const catalog_t *c, int t);

/* types (a mask) with every owner type of each, up to the root. */
unsigned records_with_owners(const catalog_t *c, unsigned types);

#endif
