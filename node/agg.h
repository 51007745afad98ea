/* agg.h: the aggregation engine: what a cluster of records adds to the
 * node's totals, driven by the catalog alone (docs/DESIGN.md, Records and
 * aggregation; docs/RECORDS.md).
 *
 * The contribution of a cluster (a root record and every record it owns,
 * see records.h) is a multiset of cells (this node's unit, indicator,
 * period, category options), each +1, computed from scratch from the
 * records and today's month:
 *   stock  each month M from the start's month up to today's: counted when
 *          start <= end of M and (end empty or end > end of M);
 *   flow   the month of the date, if set;
 *   reach  each year Y up to today's: start <= 31 Dec Y and (end empty or
 *          end >= 1 Jan Y); with `distinct`, once per referenced record
 *          (person) and option combo however many of its records overlap;
 *   after  an ended record (episode) passing the filters opens the period
 *          [end, stop) of its owner (person): stop = end + the catalog's
 *          after_months, or the start of the owner's next record (one
 *          starting on or after end) when sooner. `within` counts the owner
 *          at each month end in it; `restarted` in the month the next
 *          record starts, when that is inside end + after_months;
 *          `supported` at each month end in it from the first support
 *          record given in it. An owner counts once per cell.
 * The indicator's filters must hold; category values come from the record
 * or its owners (sex from the person for an episode); an age band is the
 * age at the end of the period, "unknown" without a birth date. A record
 * whose category field is empty is not counted by that indicator.
 *
 * A change emits contribution(after) - contribution(before) for every
 * cluster it touches. Contributions are summed in memory (a cell packed in
 * a uint64) and written once per distinct cell by agg_apply, through
 * store_apply_cell, in the caller's transaction.
 *
 * The contribution depends on today only through the last period counted:
 * it holds every period up to today's month (year). When the month turns,
 * agg_catch_up adds exactly the periods between the month the store was
 * last evaluated for (meta key AGG_META_MONTH) and today's: the same rule,
 * so a node that was down across several turns catches up in one go. A
 * store whose unit was merged into another (merge_state.h) adds nothing:
 * its periods from the merge date on count at the new unit.
 *
 * Every counted record adds to its cell's key too: +-disclose_record_hash(
 * the cluster's record key, the indicator), so a cell key is the sum over
 * the records it counts (disclose.h). A store older than record keys gets
 * them in agg_catch_up (meta AGG_META_KEYED). */
#ifndef TIERSYNC_AGG_H
#define TIERSYNC_AGG_H

#include <stddef.h>

#include "node.h"
#include "records.h"

#define AGG_META_MONTH "agg_month" /* YYYYMM the store's contributions reach */
#define AGG_META_NINDS "agg_ninds" /* catalog indicators the contributions cover */
#define AGG_META_KEYED "agg_keyed" /* 1: every cluster has its record key */
#define AGG_TICK_MS 5000           /* how often the daemon calls agg_tick */

/* The periods counted: months YYYYMM in (m_lo, m_hi], years in (y_lo, y_hi]. */
typedef struct {
    int m_lo, m_hi;
    int y_lo, y_hi;
} agg_window;

/* Every period up to today's month and year (today as YYYYMMDD). */
agg_window agg_window_upto(int today);

/* The periods of w that do not end before from (YYYYMMDD, the first of a
 * month; 0: all of w): a cluster moved in by a merge counts only those
 * (records_cluster.counts_from, merge_state.h's split rule). */
agg_window agg_window_from(const agg_window *w, int from);

typedef struct agg agg_t;

agg_t *agg_new(const catalog_t *c);
void agg_destroy(agg_t **a);

/* Adds sign x the contribution of cl to the pending delta, restricted to
 * indicators that read the record types in type_mask (bit i: type i; cl
 * must hold agg_types_read of it) and to the periods of w from cl's
 * counts_from on. */
void agg_add_cluster(agg_t *a, const records_cluster *cl, unsigned type_mask, const agg_window *w,
                     int sign);

/* The record types a change to the types in changed must load: those the
 * indicators it affects read (an `after` indicator reads episodes and
 * supports), with their owners. */
unsigned agg_types_read(const agg_t *a, unsigned changed);

/* Writes the pending delta: one store_apply_cell per changed cell of unit
 * (this node's code); then clears it. *ncells (if non-NULL) receives the
 * number of cells changed. */
int agg_apply(agg_t *a, store_t *s, store_txn *txn, const char *unit, size_t *ncells, ts_err *e);

/* Forgets the pending delta (before a write function runs again). */
void agg_reset(agg_t *a);

/* Brings every contribution to today's month (see above); a no-op when the
 * month has not changed; first counts the indicators of a newer catalog
 * version (catdoc_count_new). Call at the start of every write of records. */
int agg_catch_up(node_t *n, store_txn *txn, ts_err *e);

/* For the daemon, every AGG_TICK_MS: runs agg_catch_up in a write
 * transaction when the month has turned, or the store does not count every
 * indicator of the catalog in force (cheap read otherwise). */
int agg_tick(node_t *n, ts_err *e);

#endif
