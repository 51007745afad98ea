/* merge_children.c: merging nodes with children (provinces): NEW adopts
 * OLD's children, which rebuild their whole contribution there with a
 * snapshot (merge_int.h; their move is parent_move.h). */
#include <stdio.h>
#include <string.h>

#include "enrol.h"
#include "hmap.h"
#include "invite.h"
#include "link_state.h"
#include "merge_int.h"
#include "records.h"

bool merge_has_children(node_t *n)
{
    store_txn *txn;
    ts_err e;
    if (store_read_begin(n->store, &txn, &e))
        return false;
    bool kids = !records_held_here(n->store, txn);
    store_read_end(txn);
    return kids;
}

typedef struct {
    store_t *nw, *old;
    store_txn *ntxn, *otxn;
    const char *new_code, *old_code;
    hmap_str *seen;
    int rc;
    ts_err *e;
} kid_ctx;

static int check_kid(const store_val *k, const store_val *v, void *vctx)
{
    kid_ctx *x = vctx;
    char code[TS_CODE_MAX];
    store_child och, nch;
    (void)v;
    if (!store_key_code(k, code) || store_child_get(x->old, x->otxn, code, &och) != TS_OK)
        return 0;
    int added;
    hmap_str_put(x->seen, code, strlen(code), 0, &added);
    if (!added)
        x->rc = ts_fail(x->e, TS_EINPUT,
                        "child %s is enrolled under two of the --from units: remove it from "
                        "one ('tiersync child remove %s') and run the merge again",
                        code, code);
    else if (store_child_get(x->nw, x->ntxn, code, &nch) == TS_OK &&
             memcmp(nch.pk, och.pk, sizeof nch.pk) != 0)
        x->rc = ts_fail(x->e, TS_EINPUT,
                        "child %s of %s is already enrolled at %s with another key: remove it "
                        "there ('tiersync child remove %s') and run the merge again; nothing "
                        "was changed",
                        code, x->old_code, x->new_code, code);
    else if (!strcmp(code, x->new_code))
        x->rc = ts_fail(x->e, TS_EINPUT, "child %s of %s is the new unit itself", code,
                        x->old_code);
    return x->rc;
}

int merge_children_check(node_t *nw, store_txn *ntxn, node_t *const *olds, int nold, ts_err *e)
{
    hmap_str seen;
    hmap_str_init(&seen);
    int rc = TS_OK;
    for (int i = 0; i < nold && rc == TS_OK; i++) {
        kid_ctx x = {nw->store,         olds[i]->store, ntxn,  NULL, nw->cfg.code,
                     olds[i]->cfg.code, &seen,          TS_OK, e};
        if ((rc = store_read_begin(olds[i]->store, &x.otxn, e)) != TS_OK)
            break;
        rc = store_scan(olds[i]->store, x.otxn, DB_CHILDREN, NULL, check_kid, &x, NULL, e);
        if (rc == TS_OK)
            rc = x.rc;
        store_read_end(x.otxn);
    }
    hmap_str_free(&seen);
    return rc;
}

int merge_children_endpoint(node_t *nw, const char *given, char out[CONFIG_ENDPOINT_MAX], ts_err *e)
{
    char join[CONFIG_ENDPOINT_MAX];
    uint16_t port;
    if (given) {
        if (invite_dialable(given, "--new-endpoint", e))
            return e->code;
        snprintf(out, CONFIG_ENDPOINT_MAX, "%s", given);
        return TS_OK;
    }
    if (invite_endpoints(&nw->cfg, out, join, &port, e))
        return ts_err_wrap(e,
                           "the new unit %s: where the old units' children are to dial it "
                           "(or give it with --new-endpoint tcp://HOST:PORT)",
                           nw->cfg.code);
    return TS_OK;
}

typedef struct {
    const node_t *nw;
    const char *endpoint;
} move_ctx;

static int mark_move_fn(store_t *s, store_txn *txn, void *vctx, ts_err *e)
{
    move_ctx *m = vctx;
    if (store_put(s, txn, DB_META, LINK_META_MOVE_ENDPOINT, strlen(LINK_META_MOVE_ENDPOINT),
                  m->endpoint, strlen(m->endpoint), e))
        return e->code;
    return store_put(s, txn, DB_META, LINK_META_MOVE_KEY, strlen(LINK_META_MOVE_KEY),
                     m->nw->keys.pk, sizeof m->nw->keys.pk, e);
}

int merge_children_mark(node_t *old, const node_t *nw, const char *endpoint, ts_err *e)
{
    move_ctx m = {nw, endpoint};
    return store_write(old->store, mark_move_fn, &m, e);
}

typedef struct {
    node_t *nw, *old;
    store_txn *otxn, *ntxn;
    int on;
    merge_counts *c;
    int rc;
    ts_err *e;
} take_ctx;

static int enrol_kid(const store_val *k, const store_val *v, void *vctx)
{
    take_ctx *x = vctx;
    char code[TS_CODE_MAX];
    store_child ch;
    bool existed;
    (void)v;
    if (!store_key_code(k, code) || store_child_get(x->old->store, x->otxn, code, &ch) != TS_OK)
        return 0;
    x->rc = enrol_child(x->nw->store, x->ntxn, code, ch.pk, &existed, x->e);
    x->c->children += x->rc == TS_OK;
    return x->rc;
}

/* OLD's unit at NEW, merged into it: the dashboard and API list it so. */
static int register_old(take_ctx *x, ts_err *e)
{
    store_unit u;
    memset(&u, 0, sizeof u);
    snprintf(u.name, sizeof u.name, "%s", x->old->cfg.name);
    snprintf(u.level, sizeof u.level, "%s", x->old->cfg.level);
    snprintf(u.parent, sizeof u.parent, "%s", x->nw->cfg.code);
    snprintf(u.merged_into, sizeof u.merged_into, "%s", x->nw->cfg.code);
    u.merged_on = x->on;
    u.leaf = true;
    return store_unit_put(x->nw->store, x->ntxn, x->old->cfg.code, &u, e);
}

static int take_fn(store_t *s, store_txn *txn, void *vctx, ts_err *e)
{
    take_ctx *x = vctx;
    merge_counts *c = x->c;
    c->taken = false;
    c->children = c->values = c->cells_new = 0;
    if (merge_taken_on(s, txn, x->old->cfg.code))
        return TS_OK;
    x->ntxn = txn;
    merge_moving vals = {.cat = x->nw->catalog, .on = x->on, .values_only = true};
    int rc = store_scan(x->old->store, x->otxn, DB_CHILDREN, NULL, enrol_kid, x, NULL, e);
    if (rc == TS_OK)
        rc = x->rc;
    if (rc == TS_OK)
        rc = register_old(x, e);
    if (rc == TS_OK)
        rc = merge_moving_collect(x->old->store, x->otxn, &vals, e);
    if (rc == TS_OK)
        rc = merge_moving_apply(s, txn, &vals, x->nw->cfg.code, +1, e);
    c->values = c->cells_new = vals.n;
    merge_moving_free(&vals);
    if (rc == TS_OK)
        rc = merge_taken_put(s, txn, x->old->cfg.code, x->on, e);
    c->taken = rc == TS_OK;
    return rc;
}

int merge_children_take(node_t *nw, node_t *old, int on, merge_counts *c, ts_err *e)
{
    take_ctx x = {.nw = nw, .old = old, .on = on, .c = c, .e = e};
    merge_state m;
    if (store_read_begin(old->store, &x.otxn, e))
        return e->code;
    merge_state_get(old->store, x.otxn, &m);
    int rc = TS_OK;
    if (m.phase == MERGE_NONE) /* step 1 first: OLD must not change under the copy */
        rc = ts_fail(e, TS_ERUNTIME, "%s is not marked as merging: run the whole merge",
                     old->cfg.code);
    if (rc == TS_OK)
        rc = store_write(nw->store, take_fn, &x, e);
    store_read_end(x.otxn);
    return rc;
}
