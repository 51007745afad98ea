/* audit_check.h: the audit checker behind `tiersync verify`: shows that the numbers a node holds are the
 * ones its children signed, or says exactly where they are not.
 *
 * In one read transaction (a running daemon is no obstacle):
 *  1. for every child (or the one whose subtree holds the unit asked for):
 *     its retained signed deltas form an unbroken chain — each signature
 *     verifies with the enrolled key, seq follows seq, prev_hash is the hash
 *     of the body before (a snapshot may jump ahead) — from its checkpoint
 *     (or seq 1) to the seq and hash its record says were applied last;
 *  2. the child's contribution (table contrib) equals the checkpoint plus
 *     the sum of the deltas since, restarted by the last snapshot;
 *  3. the unit tree has no loops, and every total (table totals) equals the
 *     roll-up of the node's own values (local) and every contribution
 *     through the unit tree, as store_apply_cell rolls up.
 * Each finding is a line naming the child, seq, cell, the expected and the
 * found value; notes say what was checked and how far back. */
#ifndef TIERSYNC_AUDIT_CHECK_H
#define TIERSYNC_AUDIT_CHECK_H

#include <stdbool.h>
#include <stddef.h>

#include "node.h"

typedef struct {
    size_t children; /* children whose trail was checked */
    size_t deltas;   /* signed deltas checked */
    size_t cells;    /* totals compared */
    size_t problems; /* findings: 0 when everything holds */
} audit_check_summary;

/* Receives every line: a problem (something does not hold) or a note. */
typedef void (*audit_check_report_fn)(void *ctx, bool problem, const char *line);

/* Verifies node n; unit NULL (or this node's code) checks everything, else
 * the child holding unit and the totals of unit and the units below it.
 * TS_OK when the check ran (sum->problems says whether everything holds),
 * TS_EINPUT for a unit this node does not know, TS_ERUNTIME when the store
 * cannot be read. */
int audit_check_node(node_t *n, const char *unit, audit_check_report_fn report, void *ctx,
                     audit_check_summary *sum, ts_err *e);

/* The same checks in slices, each in a read transaction of its own (the
 * daemon's scrub): one child's trail and contribution; the unit tree and
 * every total. audit_check_child returns TS_ENOTFOUND for a child not enrolled. */
int audit_check_child(node_t *n, const char *child, audit_check_report_fn report, void *ctx,
                      audit_check_summary *sum, ts_err *e);
int audit_check_totals(node_t *n, audit_check_report_fn report, void *ctx, audit_check_summary *sum,
                       ts_err *e);

#endif
