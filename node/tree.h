/* tree.h: the org-unit tree as this node knows it, for reading.
 *
 * Built from the units registry (every unit announced from below, plus this
 * node's own) and the children table (an enrolled child that never reported
 * is still a child). One snapshot per read transaction: sorted by code for
 * lookups, with parent and child links by index. A unit is a *leaf* when no
 * unit here names it as parent: the finest granularity this node holds
 * (communes, or a unit whose detail stays below it); small-cell protection
 * applies there. */
#ifndef TIERSYNC_TREE_H
#define TIERSYNC_TREE_H

#include <stdbool.h>
#include <stddef.h>

#include "store.h"

typedef struct {
    char code[TS_CODE_MAX];
    store_unit u;     /* name, level, parent, via ("" when never announced) */
    bool announced;   /* in the units registry (false: enrolled, never reported) */
    bool enrolled;    /* a direct child in the children table */
    int parent;       /* index, -1 for the root or an unknown parent */
    int first_child;  /* index, -1 if none; children in code order */
    int next_sibling; /* index, -1 if last */
    int nchildren;
    int depth; /* 0 for the root */
} tree_unit;

typedef struct {
    tree_unit *units; /* sorted by code */
    size_t n;
    int root; /* this node's own unit */
} tree_t;

/* Loads the tree from the store inside txn. TS_ERUNTIME on failure. */
int tree_load(tree_t *t, store_t *s, store_txn *txn, ts_err *e);
void tree_free(tree_t *t);

/* Index of code, -1 if this node does not know it. */
int tree_find(const tree_t *t, const char *code);

bool tree_is_leaf(const tree_t *t, int i);

/* True when unit i is root or below it. */
bool tree_in_subtree(const tree_t *t, int i, int root);

#endif
