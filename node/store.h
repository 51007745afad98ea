/* store.h: the node's LMDB environment and the tables every module shares.
 *
 * The store is sealed: LMDB is its implementation, not its interface. This
 * header does not include <lmdb.h>; a transaction and a cursor are opaque
 * (store_txn, store_cursor), values cross as store_val, and every operation
 * a caller needs (get, put, delete, prefix scans, a scan that deletes what
 * it visits, clearing a table, nested writes, map growth, environment
 * figures) is a store_* function returning a ts_err code. Only the store's
 * own files, the audit log, backup and the fuzz harness see LMDB itself,
 * through store_lmdb.h (tests/test_seal.c keeps it so).
 *
 * One environment per node (DIR/db/), several processes at once (daemon and
 * CLI). All writes go through store_write(), which runs a caller function in
 * one write transaction and, when LMDB reports the map full, aborts, grows
 * the map (up to store.map_max_mb) and runs the function again; so a write
 * either commits whole or changes nothing. Write functions must therefore be
 * safe to run twice: no side effects outside the transaction.
 *
 * Tables (named databases):
 *   meta      string key -> bytes    (identity copy, own chain head, link state)
 *   children  code -> store_child    (enrolled key, applied seq/hash, counters)
 *   units     code -> store_unit     (org-unit registry: name, level, parent)
 *   totals    cell key -> figure     (rolled up: a unit's total is one lookup;
 *                                    a leaf's are in contrib, see store_unit)
 *   local     cell key -> figure     (this node's own contribution)
 *   contrib   child|cell key -> figure (each child's contribution, as received)
 *   pending   cell key -> figure     (changes not yet sent upward, coalesced)
 *   held      cell key -> figure     (changes from this node's own records, held
 *                                    until the release window lets them into pending)
 *   (a figure: count and cell key, see STORE_FIG_BYTES)
 *   announce  code -> ""             (units to announce upward)
 *   covers    child -> store_cover   (child seq ranges folded into pending)
 *   outbox    be64 seq -> signed delta bytes (kept until the parent acks)
 *   audit_index child|be64 seq -> be64 arrival number  (see audit_log.h)
 *   audit_log   be64 arrival number -> SignedDelta bytes (every applied delta, as signed)
 *   invites   code -> invite_record (one-time invitations, see invite.h)
 *   records, record_refs, record_keys: owned by the records module.
 *   users       name -> users_entry (register accounts, see users.h)
 *   access_log  be64 time ms | be64 seq -> entry (see access_log.h)
 * users and access_log hold a commune's own secrets and the traces of who
 * read whom: no delta, snapshot or export ever reads them. */
#ifndef TIERSYNC_STORE_H
#define TIERSYNC_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cell.h"
#include "config.h"
#include "disclose.h"
#include "err.h"

#define STORE_SUBDIR "db"
#define STORE_MAX_DEPTH 32 /* longest parent chain followed when rolling up */
#define STORE_HASH_BYTES 32

typedef enum {
    DB_META,
    DB_CHILDREN,
    DB_UNITS,
    DB_TOTALS,
    DB_LOCAL,
    DB_CONTRIB,
    DB_PENDING,
    DB_ANNOUNCE,
    DB_COVERS,
    DB_OUTBOX,
    DB_RECORDS,
    DB_RECORD_REFS,
    DB_AUDIT_INDEX,
    DB_AUDIT_LOG,
    DB_HELD,
    DB_STAGED,
    DB_INVITES,
    DB_RECORD_KEYS,
    DB_USERS,
    DB_ACCESS_LOG,
    DB_AUDIT_FOLDED,
    DB_COUNT
} store_db;

typedef struct store store_t;
/* Opaque: a transaction and a cursor (LMDB's, behind the seal). */
typedef struct MDB_txn store_txn;
typedef struct MDB_cursor store_cursor;
/* A key or value as the store holds it: valid until the transaction ends
 * or the table is written through it. */
typedef struct {
    const void *data;
    size_t len;
} store_val;

typedef struct {
    uint8_t pk[32];
    uint64_t last_seq;
    uint8_t last_hash[STORE_HASH_BYTES];
    int64_t enrolled_ms;
    int64_t last_seen_ms;         /* any message from it */
    int64_t last_applied_ms;      /* last delta applied */
    uint64_t applied;             /* deltas applied */
    uint64_t refused;             /* messages refused */
    uint32_t last_refusal;        /* reason code of the last refusal */
    uint32_t checkpoint_findings; /* checkpoints that disagreed with its contribution */
    uint64_t reported_head;       /* the head seq its last hello reported */
} store_child;

typedef struct {
    char name[CONFIG_NAME_MAX];
    char level[TS_CODE_MAX];
    char parent[TS_CODE_MAX]; /* "" when the parent is not held here */
    char via[TS_CODE_MAX];    /* the direct child it came through; "" for this node's own */
    /* No unit held here has it as parent, so its totals equal, key for key,
     * its child's contribution for it (contrib "via|unit|..."): they are
     * read from there rather than written twice. Cleared, the totals copied
     * out, when it gains a sub-unit. Stores older than this field lack it:
     * false, every total in table totals. */
    bool leaf;
    /* Merged into another unit (docs/OPERATIONS.md, Merging units): from
     * merged_on (YYYYMMDD) its periods count under merged_into; before, its
     * history stands. "" and 0 when not merged (and in older stores). */
    char merged_into[TS_CODE_MAX];
    int32_t merged_on;
} store_unit;

typedef struct {
    uint64_t first_seq, last_seq;
    uint8_t last_hash[STORE_HASH_BYTES];
} store_cover;

/* Opens (creating if needed) the environment of the node configured in cfg.
 * The store keeps cfg's code, forward_detail, whether it has a parent and
 * whether it holds record-derived changes for a release window. */
int store_open(store_t **out, const ts_config *cfg, ts_err *e);
void store_close(store_t **s);

typedef int (*store_write_fn)(store_t *s, store_txn *txn, void *ctx, ts_err *e);

/* Runs fn in one write transaction and commits; see the header comment. */
int store_write(store_t *s, store_write_fn fn, void *ctx, ts_err *e);

/* Runs fn in a transaction nested in the write transaction txn: what fn
 * wrote joins txn when it returns TS_OK and is rolled back alone otherwise
 * (fn's error is returned). TS_ERUNTIME when LMDB cannot nest or commit. */
int store_write_nested(store_t *s, store_txn *txn, store_write_fn fn, void *ctx, ts_err *e);

/* The environment's size, for /metrics (zeros when LMDB cannot say). */
typedef struct {
    uint64_t map_bytes;  /* the current map size */
    uint64_t used_bytes; /* pages in use */
    uint64_t max_bytes;  /* store.map_max_mb */
} store_info;
void store_info_get(store_t *s, store_info *out);

/* Grows the map ahead of a large write so that `more` bytes fit beyond what
 * is used (doubling, up to store.map_max_mb), with the write and resize
 * locks held. Call it with no transaction of this thread open. Best effort:
 * store_write still grows the map if this guessed short. */
void store_reserve(store_t *s, size_t more);

/* A key that is an org-unit code (children, units) into code; false when
 * empty or too long. */
bool store_key_code(const store_val *k, char code[TS_CODE_MAX]);

/* True when key k (klen bytes) begins with prefix (plen bytes). */
bool store_has_prefix(const void *k, size_t klen, const void *prefix, size_t plen);

/* Read transactions: begin, use, then store_read_end (aborts). */
int store_read_begin(store_t *s, store_txn **txn, ts_err *e);
void store_read_end(store_txn *txn);

const char *store_self_code(const store_t *s);
bool store_has_parent(const store_t *s);
/* True when [sync] release_s > 0: record-derived changes wait in table held. */
bool store_holds_records(const store_t *s);
config_detail store_detail(const store_t *s);

/* Generic access; get returns TS_ENOTFOUND when absent (no message set),
 * *v then empty. */
int store_get(store_t *s, store_txn *txn, store_db db, const void *k, size_t klen, store_val *v,
              ts_err *e);
int store_put(store_t *s, store_txn *txn, store_db db, const void *k, size_t klen, const void *v,
              size_t vlen, ts_err *e);
int store_del(store_t *s, store_txn *txn, store_db db, const void *k, size_t klen, ts_err *e);
/* A count table's value (totals, local, contrib, pending): a count and its
 * cell key (disclose.h), STORE_FIG_BYTES bytes; an 8-byte value (a store
 * older than cell keys) reads as key 0. An entry exists while its count or
 * its key is non-zero: two records' -1 and +1 in one cell leave the count
 * but change the key, which must travel. */
#define STORE_FIG_BYTES 12
/* Decodes a count table's value; false when it is of neither size. */
bool store_fig_decode(const store_val *v, disclose_fig *f);
/* The figure at key, {0, 0} when absent. */
disclose_fig store_get_fig(store_t *s, store_txn *txn, store_db db, const char *k, size_t klen);
/* Adds d at key: counts add, keys add modulo 2^32; the entry is deleted
 * when both become 0. *after receives the new figure if non-NULL. TS_EINPUT
 * (nothing changed) when the count would leave the 64-bit range. */
int store_add_fig(store_t *s, store_txn *txn, store_db db, const char *k, size_t klen,
                  disclose_fig d, disclose_fig *after, ts_err *e);

/* Number of entries in a table (for status and flush decisions). */
uint64_t store_count(store_t *s, store_txn *txn, store_db db);
/* How many distinct first plen bytes (at most STORE_PREFIX_MAX) the keys of
 * table db have: a seek per prefix, not a step per entry. */
#define STORE_PREFIX_MAX 64
uint64_t store_count_prefixes(store_t *s, store_txn *txn, store_db db, size_t plen);
/* The last entry of table db whose key starts with prefix (plen bytes, 1 to
 * STORE_PREFIX_MAX) into *k and *v; false when there is none. */
bool store_last(store_t *s, store_txn *txn, store_db db, const void *prefix, size_t plen,
                store_val *k, store_val *v);

/* Meta values: u64 and raw bytes. */
uint64_t store_meta_u64(store_t *s, store_txn *txn, const char *key);
int store_meta_put_u64(store_t *s, store_txn *txn, const char *key, uint64_t v, ts_err *e);

/* Applies a change d (count and cell key) to cell c on behalf of source (NULL: this node's
 * own records or values; else the child's code): the source's contribution
 * (local or contrib), totals of c->unit and of every ancestor held here, and
 * (when there is a parent) pending, re-keyed to this node for
 * forward_detail = self. The one path by which any number changes. */
int store_apply_cell(store_t *s, store_txn *txn, const char *source, const ts_cell *c,
                     disclose_fig d, ts_err *e);

/* Adds to this node's own unit, summed in memory over a batch of deltas and
 * written once each, in key order, by store_sums_flush. Every child's cells
 * roll up to this node's unit, so without them a batch from a hundred
 * children rewrites the same totals a hundred times. Nothing in the batch's
 * transaction may read those entries before the flush; when the sums grow
 * many they flush early, which bounds memory. */
typedef struct store_sums store_sums;
store_sums *store_sums_new(void);
void store_sums_destroy(store_sums **m);
/* Forgets every sum (the transaction that would have taken them is gone). */
void store_sums_clear(store_sums *m);
/* Writes every non-zero sum into txn, then clears. TS_EINPUT when a total
 * would leave the 64-bit range (which delta did it is not known here). */
int store_sums_flush(store_sums *m, store_t *s, store_txn *txn, ts_err *e);

/* store_apply_cell for many cells in one transaction: cursors stay open
 * between cells (an add near the last one skips the tree search) and each
 * unit's roll-up chain is looked up once. Begin, set sums if wanted, add,
 * end; units must not change in between. */
typedef struct {
    int n;
    char unit[STORE_MAX_DEPTH][TS_CODE_MAX]; /* the cell's unit, then its ancestors */
    char leaf_via[TS_CODE_MAX];              /* the cell's unit is a leaf of this child; else "" */
} store_chain;
typedef struct {
    store_t *s;
    store_txn *txn;
    store_chain chain; /* of the last cell's unit */
    store_cursor *contrib, *local, *pending, *held, *totals[STORE_MAX_DEPTH];
    store_sums *sums; /* NULL: this node's own unit is written at once too */
    bool records;     /* this node's own record-derived changes: with a release
                   * window they wait in table held, not pending (outbox.h) */
} store_cells;
void store_cells_begin(store_cells *w, store_t *s, store_txn *txn);
int store_cells_add(store_cells *w, const char *source, const ts_cell *c, disclose_fig d,
                    ts_err *e);
void store_cells_end(store_cells *w);

/* Moves every change waiting in table held into pending (the release
 * window opened), adding to what pending holds for the same cell; *moved
 * receives how many. */
int store_release_held(store_t *s, store_txn *txn, size_t *moved, ts_err *e);

/* Sets this node's own value of c to v (value indicators): applies v - old. */
int store_set_value(store_t *s, store_txn *txn, const ts_cell *c, int64_t v, int64_t *old,
                    ts_err *e);

/* Takes child's whole contribution out again (contrib, totals, pending):
 * before a snapshot replaces it, or when a child is purged. */
int store_drop_contribution(store_t *s, store_txn *txn, const char *child, ts_err *e);

/* Org-unit registry. */
int store_unit_get(store_t *s, store_txn *txn, const char *code, store_unit *u);
int store_unit_put(store_t *s, store_txn *txn, const char *code, const store_unit *u, ts_err *e);
/* A units table value into *u (one without the leaf or merged fields too);
 * false when it is of another size. */
bool store_unit_decode(const store_val *v, store_unit *u);
/* Ends unit code's leaf state (it gains a sub-unit): copies its totals out
 * of its child's contribution into table totals. */
int store_unit_branch(store_t *s, store_txn *txn, const char *code, ts_err *e);

/* Where unit's totals are: table totals under "unit|", or, for a leaf,
 * table contrib under "via|unit|", whose "via|" goes into via_prefix.
 * Returns the table. */
store_db store_totals_at(store_t *s, store_txn *txn, const char *unit,
                         char via_prefix[TS_CODE_MAX + 1]);
/* The rolled-up total of one cell key, wherever it is kept; {0, 0} if none. */
disclose_fig store_total(store_t *s, store_txn *txn, const char *key, size_t klen);
/* Number of non-zero totals held, leaves' included, into *n. TS_ERUNTIME
 * (e) when a table cannot be read. */
int store_total_cells(store_t *s, store_txn *txn, uint64_t *n, ts_err *e);

/* Children. */
int store_child_get(store_t *s, store_txn *txn, const char *code, store_child *c);
int store_child_put(store_t *s, store_txn *txn, const char *code, const store_child *c, ts_err *e);

/* Calls fn for the entries of table db in key order, from prefix on while
 * they start with it (NULL: every entry). fn returns 0 to go on, anything
 * else to stop; *stop (when not NULL) gets that value, or 0 when the table
 * ended. Returns TS_OK, or TS_ERUNTIME in e (which may be NULL) when LMDB
 * could not read the table: fn has then seen only the entries before. */
typedef int (*store_scan_fn)(const store_val *k, const store_val *v, void *ctx);
int store_scan(store_t *s, store_txn *txn, store_db db, const char *prefix, store_scan_fn fn,
               void *ctx, int *stop, ts_err *e);
/* store_scan with a prefix of plen bytes (plen 0: every entry). */
int store_scan_prefix(store_t *s, store_txn *txn, store_db db, const void *prefix, size_t plen,
                      store_scan_fn fn, void *ctx, int *stop, ts_err *e);

/* What a store_take callback does with the entry it was shown. */
typedef enum {
    STORE_KEEP, /* leave it, go on to the next */
    STORE_TAKE, /* delete it (its k and v are then gone), go on to the next */
    STORE_STOP  /* leave it and stop */
} store_step;
typedef store_step (*store_take_fn)(const store_val *k, const store_val *v, void *ctx);
/* Shows fn the entries of table db that start with prefix (plen bytes; 0:
 * every entry) in key order, in write transaction txn, deleting those it
 * takes. Returns TS_OK, or TS_ERUNTIME in e when LMDB could not read or
 * delete (inside store_write: the write is then undone whole). */
int store_take(store_t *s, store_txn *txn, store_db db, const void *prefix, size_t plen,
               store_take_fn fn, void *ctx, ts_err *e);

/* Deletes every entry of table db (the table stays). TS_ERUNTIME in e when
 * LMDB could not. */
int store_clear(store_t *s, store_txn *txn, store_db db, ts_err *e);

#endif
