/* merge.h: merging units: the records of old communes move into a new
 * commune's store from a date D on (docs/OPERATIONS.md, Merging units;
 * merge_state.h holds the phases and the split rule).
 *
 * Two LMDB environments cannot share a transaction, so a merge is a short
 * journal of single-environment writes, each of which finds out whether it
 * was done before and then does nothing:
 *   1. merge_mark     OLD: phase "merging into NEW on D" (its records and
 *                     values are refused from then on);
 *   2. merge_take     NEW, one transaction: OLD's records, their record
 *                     keys (with counts_from D), the contribution of OLD's
 *                     clusters from D on, OLD's entered values from D on,
 *                     and the mark "took OLD on D";
 *   3. merge_give_up  OLD, one transaction: its own contribution to every
 *                     period from D on taken out through the normal path
 *                     (local, totals, pending), its unit marked merged
 *                     into NEW on D for the next delta, phase "merged".
 * Every ancestor then gets -x under OLD's chain and +x under NEW's, so its
 * totals are the same as before, cell by cell. Running the same merge again
 * after a crash finishes what is left.
 *
 * Nodes with children (provinces) merge the same way one level up
 * (merge_int.h): step 1 also keeps where the children move, step 2 enrols
 * OLD's children at NEW instead of moving records, step 3 is the same;
 * OLD's daemon then sends each child a ParentMove (parent_move.h). */
#ifndef TIERSYNC_MERGE_H
#define TIERSYNC_MERGE_H

#include <stddef.h>

#include "merge_state.h"
#include "node.h"

#define MERGE_OLD_MAX 64      /* --from given at most this often */
#define MERGE_COLLIDE_SHOWN 5 /* colliding ids named in a refusal */

/* What one old unit's steps did (zeros for a step done before). */
typedef struct {
    bool marked, taken, given_up; /* which steps ran now */
    size_t records;               /* records moved into NEW */
    size_t clusters;              /* clusters among them */
    size_t values;                /* entered value cells moved */
    size_t cells_new;             /* cells NEW's contribution changed */
    size_t cells_old;             /* cells OLD gave up */
    size_t children;              /* children of OLD enrolled at NEW */
} merge_counts;

/* Checks, without writing, that the old nodes can merge into nw on `on`
 * (YYYYMMDD, merge_date_parse): every old holds records (no children) and
 * so does nw, or every old has children and nw holds no records (a
 * province merge: merge_int.h); they share nw's catalog, no old is nw or named twice, none
 * merged elsewhere or on another date, and no record id of an old unit not
 * yet taken exists at nw or at another of them. TS_EINPUT naming what is
 * wrong and what to do. */
int merge_check(node_t *nw, node_t *const *olds, int nold, int on, ts_err *e);

/* The three steps (see above) for one old unit; each a no-op when done. */
int merge_mark(node_t *old, const char *new_code, int on, merge_counts *c, ts_err *e);
int merge_take(node_t *nw, node_t *old, int on, merge_counts *c, ts_err *e);
int merge_give_up(node_t *old, int on, merge_counts *c, ts_err *e);

/* merge_check, then step 1 for every old, then steps 2 and 3 for each.
 * counts[i] receives what was done for olds[i]. For nodes with children,
 * endpoint is where their children dial nw (NULL: nw's join.advertise,
 * else its listen.endpoint); communes ignore it. */
int merge_run(node_t *nw, node_t *const *olds, int nold, int on, const char *endpoint,
              merge_counts *counts, ts_err *e);

#endif
