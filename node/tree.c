/* tree.c: the org-unit tree from the units registry and children table. */
#include "tree.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    tree_t *t;
    size_t cap;
    bool failed;
} load_ctx;

static tree_unit *append(load_ctx *c, const char *code, size_t len)
{
    tree_t *t = c->t;
    if (len >= TS_CODE_MAX)
        return NULL;
    if (t->n == c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 64;
        tree_unit *v = realloc(t->units, cap * sizeof *v);
        if (!v) {
            c->failed = true;
            return NULL;
        }
        t->units = v;
        c->cap = cap;
    }
    tree_unit *u = &t->units[t->n++];
    memset(u, 0, sizeof *u);
    memcpy(u->code, code, len);
    u->code[len] = '\0';
    u->parent = u->first_child = u->next_sibling = -1;
    return u;
}

static int on_unit(const store_val *k, const store_val *v, void *vctx)
{
    load_ctx *c = vctx;
    store_unit su;
    if (!store_unit_decode(v, &su))
        return 0;
    tree_unit *u = append(c, k->data, k->len);
    if (!u)
        return c->failed;
    u->u = su;
    u->announced = true;
    return 0;
}

static int by_code(const void *a, const void *b)
{
    return strcmp(((const tree_unit *)a)->code, ((const tree_unit *)b)->code);
}

int tree_find(const tree_t *t, const char *code)
{
    size_t lo = 0, hi = t->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int cmp = strcmp(code, t->units[mid].code);
        if (cmp == 0)
            return (int)mid;
        if (cmp < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return -1;
}

typedef struct {
    load_ctx *lc;
    const char *self;
    char (*codes)[TS_CODE_MAX];
    size_t n, cap;
} child_ctx;

static int on_child(const store_val *k, const store_val *v, void *vctx)
{
    child_ctx *c = vctx;
    (void)v;
    if (k->len >= TS_CODE_MAX)
        return 0;
    if (c->n == c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 16;
        void *p = realloc(c->codes, cap * sizeof *c->codes);
        if (!p)
            return 1;
        c->codes = p;
        c->cap = cap;
    }
    memcpy(c->codes[c->n], k->data, k->len);
    c->codes[c->n++][k->len] = '\0';
    return 0;
}

/* Enrolled children: flag them, and add those that never announced themselves. */
static int add_enrolled(load_ctx *lc, store_t *s, store_txn *txn, ts_err *e)
{
    child_ctx cc = {lc, store_self_code(s), NULL, 0, 0};
    int stop;
    if (store_scan(s, txn, DB_CHILDREN, NULL, on_child, &cc, &stop, e)) {
        free(cc.codes);
        return e->code;
    }
    for (size_t i = 0; !stop && i < cc.n; i++) {
        int at = tree_find(lc->t, cc.codes[i]);
        if (at >= 0) {
            lc->t->units[at].enrolled = true;
            continue;
        }
        tree_unit *u = append(lc, cc.codes[i], strlen(cc.codes[i]));
        if (!u)
            break;
        u->enrolled = true;
        snprintf(u->u.parent, sizeof u->u.parent, "%s", cc.self);
        snprintf(u->u.via, sizeof u->u.via, "%s", cc.codes[i]);
        qsort(lc->t->units, lc->t->n, sizeof *lc->t->units, by_code);
    }
    free(cc.codes);
    return stop ? ts_fail(e, TS_ERUNTIME, "out of memory loading the unit tree") : TS_OK;
}

static void link(tree_t *t, const char *self)
{
    t->root = tree_find(t, self);
    /* children are linked in reverse code order so each list ends sorted */
    for (size_t k = t->n; k-- > 0;) {
        tree_unit *u = &t->units[k];
        if ((int)k == t->root || !u->u.parent[0])
            continue;
        int p = tree_find(t, u->u.parent);
        if (p < 0 || p == (int)k)
            continue;
        u->parent = p;
        u->next_sibling = t->units[p].first_child;
        t->units[p].first_child = (int)k;
        t->units[p].nchildren++;
    }
    for (size_t k = 0; k < t->n; k++) {
        int d = 0;
        for (int p = t->units[k].parent; p >= 0 && d < STORE_MAX_DEPTH; p = t->units[p].parent)
            d++;
        t->units[k].depth = d;
    }
}

int tree_load(tree_t *t, store_t *s, store_txn *txn, ts_err *e)
{
    memset(t, 0, sizeof *t);
    t->root = -1;
    load_ctx lc = {t, 0, false};
    if (store_scan(s, txn, DB_UNITS, NULL, on_unit, &lc, NULL, e)) {
        tree_free(t);
        return e->code;
    }
    if (!lc.failed && tree_find(t, store_self_code(s)) < 0) {
        const char *self = store_self_code(s);
        if (append(&lc, self, strlen(self)))
            qsort(t->units, t->n, sizeof *t->units, by_code);
    }
    if (lc.failed) {
        tree_free(t);
        return ts_fail(e, TS_ERUNTIME, "out of memory loading the unit tree");
    }
    if (add_enrolled(&lc, s, txn, e) || lc.failed) {
        tree_free(t);
        return lc.failed ? ts_fail(e, TS_ERUNTIME, "out of memory loading the unit tree") : e->code;
    }
    link(t, store_self_code(s));
    return TS_OK;
}

void tree_free(tree_t *t)
{
    free(t->units);
    memset(t, 0, sizeof *t);
    t->root = -1;
}

bool tree_is_leaf(const tree_t *t, int i)
{
    return i >= 0 && (size_t)i < t->n && t->units[i].nchildren == 0;
}

bool tree_in_subtree(const tree_t *t, int i, int root)
{
    for (int d = 0; i >= 0 && d <= STORE_MAX_DEPTH; d++, i = t->units[i].parent)
        if (i == root)
            return true;
    return false;
}
