/* merge_int.h: what merge.c shares with merge_check.c and
 * merge_children.c: the moving entered values, and the merge of nodes with
 * children (provinces). */
#ifndef TIERSYNC_MERGE_INT_H
#define TIERSYNC_MERGE_INT_H

#include "config.h"
#include "merge.h"

/* OLD's own cells (table local) for the periods that move, in a list:
 * NEW adds the entered values among them, OLD takes them all out. */
typedef struct {
    const catalog_t *cat;
    int on;
    bool values_only;
    ts_cell *cells;
    disclose_fig *figs;
    size_t n, cap;
} merge_moving;

int merge_moving_collect(store_t *s, store_txn *txn, merge_moving *l, ts_err *e);
/* Applies sign x each listed cell under unit, through the normal path. */
int merge_moving_apply(store_t *s, store_txn *txn, const merge_moving *l, const char *unit,
                       int sign, ts_err *e);
void merge_moving_free(merge_moving *l);

/* True when n has children enrolled (a province), false for a commune. */
bool merge_has_children(node_t *n);

/* A merge of nodes with children: no child of an old unit is enrolled at
 * nw (or under another old unit) with another key. TS_EINPUT naming it. */
int merge_children_check(node_t *nw, store_txn *ntxn, node_t *const *olds, int nold, ts_err *e);

/* The endpoint the old units' children dial to reach nw: given
 * (--new-endpoint), else nw's join.advertise, else its listen.endpoint. */
int merge_children_endpoint(node_t *nw, const char *given, char out[CONFIG_ENDPOINT_MAX],
                            ts_err *e);

/* Step 1 for a node with children, before merge_mark: where its children
 * move (endpoint and nw's key, link_state.h), kept in OLD's meta. */
int merge_children_mark(node_t *old, const node_t *nw, const char *endpoint, ts_err *e);

/* Step 2 for a node with children: in one transaction of nw, every child
 * of old enrolled with its key (applied seq 0: its chain starts over with
 * a snapshot), old's unit registered as merged into nw on `on`, old's
 * entered values from `on` on added, and the mark "took OLD on D". */
int merge_children_take(node_t *nw, node_t *old, int on, merge_counts *c, ts_err *e);

#endif
