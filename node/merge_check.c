/* merge_check.c: what must hold before a merge writes anything (merge.h):
 * the nodes, their catalogs and phases, and record ids that would collide. */
#include "merge_int.h"

#include <stdio.h>
#include <string.h>

#include "hmap.h"
#include "records.h"

/* The ids seen so far and what collided. */
typedef struct {
    store_t *nw;
    store_txn *ntxn;
    store_db db;    /* DB_RECORDS (roots) or DB_RECORD_REFS */
    hmap_str *seen; /* "db|key" of the old units checked before */
    const char *old;
    size_t collided;
    char shown[TS_ERR_MSG_MAX / 2];
} collide_ctx;

static void note_collision(collide_ctx *x, const store_val *k, const char *where)
{
    size_t len = strlen(x->shown);
    if (x->collided++ < MERGE_COLLIDE_SHOWN && len < sizeof x->shown)
        snprintf(x->shown + len, sizeof x->shown - len, "%s%.*s (at %s and %s)", len ? ", " : "",
                 (int)(k->len < RECORDS_KEY_MAX ? k->len : RECORDS_KEY_MAX), (const char *)k->data,
                 x->old, where);
}

static int check_id(const store_val *k, const store_val *v, void *vctx)
{
    collide_ctx *x = vctx;
    (void)v;
    if (x->db == DB_RECORDS && memchr(k->data, RECORDS_SEP, k->len))
        return 0; /* an owned record: found by its type:id in record_refs */
    store_val nv;
    if (store_get(x->nw, x->ntxn, x->db, k->data, k->len, &nv, NULL) == TS_OK)
        note_collision(x, k, store_self_code(x->nw));
    char key[1 + RECORDS_KEY_MAX];
    if (k->len > RECORDS_KEY_MAX)
        return 0;
    key[0] = (char)x->db;
    memcpy(key + 1, k->data, k->len);
    int added;
    hmap_str_put(x->seen, key, k->len + 1, 0, &added);
    if (!added)
        note_collision(x, k, "another --from unit");
    return 0;
}

/* Every root and owned record id of old, against nw and the olds before. */
static int check_ids(node_t *nw, store_txn *ntxn, node_t *old, hmap_str *seen, collide_ctx *x,
                     ts_err *e)
{
    store_txn *otxn;
    if (store_read_begin(old->store, &otxn, e))
        return e->code;
    x->nw = nw->store;
    x->ntxn = ntxn;
    x->seen = seen;
    x->old = old->cfg.code;
    int rc = TS_OK;
    static const store_db dbs[] = {DB_RECORDS, DB_RECORD_REFS};
    for (size_t i = 0; i < sizeof dbs / sizeof *dbs && rc == TS_OK; i++) {
        x->db = dbs[i];
        rc = store_scan(old->store, otxn, dbs[i], NULL, check_id, x, NULL, e);
    }
    store_read_end(otxn);
    return rc;
}

/* A node taking part: of the merge's kind (kids: nodes with children),
 * same catalog as nw. */
static int check_node(node_t *nw, node_t *n, store_txn *txn, const char *role, bool kids, ts_err *e)
{
    bool has_kids = !records_held_here(n->store, txn);
    if (n == nw && kids && store_count(n->store, txn, DB_RECORDS) > 0)
        return ts_fail(e, TS_EINPUT,
                       "the new unit %s (%s) holds records, the --from units have children "
                       "enrolled: nodes with children merge into a node without records; "
                       "communes into a commune (see docs/OPERATIONS.md, Merging units)",
                       n->cfg.code, n->cfg.dir);
    if (n == nw && !kids && has_kids)
        return ts_fail(e, TS_EINPUT,
                       "the new unit %s (%s) has children enrolled: communes, which hold "
                       "records, merge into a commune (see docs/OPERATIONS.md, Merging units)",
                       n->cfg.code, n->cfg.dir);
    if (n != nw && has_kids != kids)
        return ts_fail(e, TS_EINPUT,
                       "%s %s (%s) %s, but the first --from unit %s: one merge takes either "
                       "communes (records) or nodes with children, not both",
                       role, n->cfg.code, n->cfg.dir, has_kids ? "has children" : "holds records",
                       kids ? "has children" : "holds records");
    if (strcmp(n->catalog->id, nw->catalog->id) != 0 || n->catalog->version != nw->catalog->version)
        return ts_fail(e, TS_EINPUT,
                       "%s %s uses catalog %s version %d, %s uses %s version %d: bring both to "
                       "the same catalog first",
                       role, n->cfg.code, n->catalog->id, (int)n->catalog->version, nw->cfg.code,
                       nw->catalog->id, (int)nw->catalog->version);
    return TS_OK;
}

/* An old unit's phase allows this merge (a re-run of the same one too). */
static int check_phase(node_t *old, store_txn *txn, const char *new_code, int on, ts_err *e)
{
    merge_state m;
    char a[MERGE_DATE_TEXT], b[MERGE_DATE_TEXT];
    merge_state_get(old->store, txn, &m);
    if (m.phase != MERGE_NONE && (strcmp(m.into, new_code) != 0 || m.on != on))
        return ts_fail(e, TS_EINPUT,
                       "%s is already %s into %s from %s; it cannot also merge into %s from %s",
                       old->cfg.code, m.phase == MERGE_MERGING ? "being merged" : "merged", m.into,
                       merge_date_text(m.on, a), new_code, merge_date_text(on, b));
    return TS_OK;
}

static int check_olds(node_t *nw, store_txn *ntxn, node_t *const *olds, int nold, int on, bool kids,
                      ts_err *e)
{
    hmap_str seen;
    hmap_str_init(&seen);
    collide_ctx x = {0};
    int rc = TS_OK;
    for (int i = 0; i < nold && rc == TS_OK; i++) {
        node_t *old = olds[i];
        store_txn *otxn;
        for (int j = 0; j < i && rc == TS_OK; j++)
            if (!strcmp(olds[j]->cfg.code, old->cfg.code))
                rc = ts_fail(e, TS_EINPUT, "--from names unit %s twice (%s and %s)", old->cfg.code,
                             olds[j]->cfg.dir, old->cfg.dir);
        if (rc == TS_OK && !strcmp(old->cfg.code, nw->cfg.code))
            rc = ts_fail(e, TS_EINPUT, "--from %s is the new unit %s itself", old->cfg.dir,
                         nw->cfg.code);
        if (rc || (rc = store_read_begin(old->store, &otxn, e)))
            break;
        rc = check_node(nw, old, otxn, "--from", kids, e);
        if (rc == TS_OK)
            rc = check_phase(old, otxn, nw->cfg.code, on, e);
        store_read_end(otxn);
        if (rc == TS_OK && !kids && !merge_taken_on(nw->store, ntxn, old->cfg.code))
            rc = check_ids(nw, ntxn, old, &seen, &x, e);
    }
    hmap_str_free(&seen);
    if (rc == TS_OK && x.collided)
        rc = ts_fail(e, TS_EINPUT,
                     "%zu record id%s would collide: %s%s; ids must be unique in the new unit: "
                     "change them at the old unit before the merge (e.g. import with a prefix) "
                     "and run the merge again; nothing was changed",
                     x.collided, x.collided == 1 ? "" : "s", x.shown,
                     x.collided > MERGE_COLLIDE_SHOWN ? ", ..." : "");
    return rc;
}

int merge_check(node_t *nw, node_t *const *olds, int nold, int on, ts_err *e)
{
    store_txn *ntxn;
    merge_state m;
    if (nold < 1 || nold > MERGE_OLD_MAX)
        return ts_fail(e, TS_EINPUT, "give between 1 and %d --from directories", MERGE_OLD_MAX);
    if (store_read_begin(nw->store, &ntxn, e))
        return e->code;
    merge_state_get(nw->store, ntxn, &m);
    int rc = TS_OK;
    if (m.phase != MERGE_NONE)
        rc = ts_fail(e, TS_EINPUT,
                     "the new unit %s was itself merged into %s: merge into %s instead",
                     nw->cfg.code, m.into, m.into);
    bool kids = merge_has_children(olds[0]);
    if (rc == TS_OK)
        rc = check_node(nw, nw, ntxn, "the new unit", kids, e);
    if (rc == TS_OK)
        rc = check_olds(nw, ntxn, olds, nold, on, kids, e);
    if (rc == TS_OK && kids)
        rc = merge_children_check(nw, ntxn, olds, nold, e);
    store_read_end(ntxn);
    return rc;
}
