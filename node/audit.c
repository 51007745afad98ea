/* audit.c: walking a child's trail of signed deltas, and pruning it into a
 * checkpoint (see audit.h). */
#include "audit.h"

#include "audit_checkpoint.h"
#include "audit_folded.h"

#include <stdio.h>
#include <stdlib.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <string.h>

#include "rotate.h"
#include "util.h"

size_t audit_key(const char *child, uint64_t seq, char *out)
{
    size_t n = strlen(child);
    memcpy(out, child, n);
    out[n] = '|';
    ts_put_be64((uint8_t *)out + n + 1, seq);
    return n + 9;
}

int audit_cells_add(cellsum *sum, const Tiersync__DeltaBody *b, ts_err *e)
{
    for (size_t i = 0; i < b->n_cells; i++) {
        const Tiersync__Cell *pc = b->cells[i];
        ts_cell c;
        char key[CELL_KEY_MAX];
        if (cell_set(&c, pc->unit, pc->indicator, pc->period, pc->options, e))
            return ts_err_wrap(e, "cell %zu", i);
        size_t n = cell_key(&c, key);
        if (!cellsum_add(sum, key, n, (disclose_fig){pc->value, pc->key}))
            return ts_fail(e, TS_EINPUT, "cell %zu (%s): the sum leaves the 64-bit range", i, key);
    }
    return TS_OK;
}

int audit_walk_begin(audit_walk *w, store_t *s, store_txn *txn, const char *child,
                     const uint8_t pk[crypto_sign_PUBLICKEYBYTES], ts_err *e)
{
    memset(w, 0, sizeof *w);
    w->child = child;
    w->s = s;
    w->txn = txn;
    memcpy(w->pk, pk, sizeof w->pk);
    cellsum_init(&w->contrib);
    cellsum_init(&w->staged);
    audit_folded f;
    if (audit_folded_get(s, txn, child, &f, &w->contrib, e) != TS_OK) {
        cellsum_clear(&w->contrib);
        return e->code;
    }
    w->seq = w->checkpoint_seq = f.seq;
    memcpy(w->hash, f.hash, DELTA_HASH_BYTES);
    return TS_OK;
}

void audit_walk_end(audit_walk *w)
{
    cellsum_free(&w->contrib);
    cellsum_free(&w->staged);
}

/* The sum a body's cells go to, as apply.c counts them: a snapshot in
 * parts into staged until its last part, which then becomes the
 * contribution. */
static cellsum *sum_for(audit_walk *w, const Tiersync__DeltaBody *b)
{
    if (b->snapshot) {
        bool parts = b->snapshot_end > b->seq;
        w->staged_first = parts ? b->seq : 0;
        w->staged_end = parts ? b->snapshot_end : 0;
        cellsum_clear(parts ? &w->staged : &w->contrib);
    }
    return w->staged_end ? &w->staged : &w->contrib;
}

static void staged_done(audit_walk *w, uint64_t seq)
{
    if (!w->staged_end || seq < w->staged_end)
        return;
    cellsum t = w->contrib;
    w->contrib = w->staged;
    w->staged = t;
    cellsum_clear(&w->staged);
    w->staged_first = w->staged_end = 0;
}

/* The chain and identity checks of one decoded body; "" when it holds. */
static void chain_problem(const audit_walk *w, const Tiersync__DeltaBody *b, uint64_t key_seq,
                          const uint8_t pk[crypto_sign_PUBLICKEYBYTES], char *why, size_t whysz)
{
    static const uint8_t zeros[DELTA_HASH_BYTES];
    const uint8_t *want = w->seq ? w->hash : zeros;
    why[0] = '\0';
    if (b->seq != key_seq)
        snprintf(why, whysz, "the body says seq %llu", (unsigned long long)b->seq);
    else if (strcmp(b->origin, w->child) != 0)
        snprintf(why, whysz, "the body names origin %.32s", b->origin);
    else if (b->origin_key.len != sizeof w->pk || memcmp(b->origin_key.data, pk, sizeof w->pk))
        snprintf(why, whysz, "the body names another origin key than the enrolled one");
    else if (b->snapshot && b->seq <= w->seq)
        snprintf(why, whysz, "a snapshot does not move past seq %llu", (unsigned long long)w->seq);
    else if (!b->snapshot && b->seq <= w->seq)
        snprintf(why, whysz, "goes back: it follows seq %llu", (unsigned long long)w->seq);
    else if (!b->snapshot && b->seq != w->seq + 1)
        snprintf(why, whysz, "does not follow seq %llu: seq %llu..%llu missing",
                 (unsigned long long)w->seq, (unsigned long long)w->seq + 1,
                 (unsigned long long)b->seq - 1);
    else if (!b->snapshot && !w->hash_unknown &&
             (b->prev_hash.len != DELTA_HASH_BYTES ||
              memcmp(b->prev_hash.data, want, DELTA_HASH_BYTES) != 0))
        snprintf(why, whysz, "prev_hash is not the hash of %s (the chain is broken)",
                 w->seq ? "the delta before it" : "nothing (32 zero bytes, for a first delta)");
}

/* Steps over a delta that cannot be read at all. */
static int step_over(audit_walk *w, uint64_t key_seq, ts_err *e, const char *why)
{
    if (!w->first_seq)
        w->first_seq = key_seq;
    w->seq = key_seq;
    w->deltas++;
    w->failed++;
    w->hash_unknown = true;
    return ts_fail(e, TS_EINPUT, "seq %llu: %s", (unsigned long long)key_seq, why);
}

int audit_walk_step(audit_walk *w, uint64_t key_seq, const void *val, size_t len, ts_err *e)
{
    Tiersync__SignedDelta *sd = tiersync__signed_delta__unpack(NULL, len, val);
    if (!sd)
        return step_over(w, key_seq, e, "the stored delta does not decode (it was altered)");
    char why[160] = "";
    int rc = TS_OK;
    uint8_t pk[crypto_sign_PUBLICKEYBYTES]; /* the key enrolled when it was applied */
    int found = w->s ? rotate_key_at(w->s, w->txn, w->child, key_seq, pk, e) : TS_ENOTFOUND;
    if (found != TS_OK && found != TS_ENOTFOUND) {
        tiersync__signed_delta__free_unpacked(sd, NULL);
        return found;
    }
    if (found == TS_ENOTFOUND)
        memcpy(pk, w->pk, sizeof pk);
    if (!delta_verify(pk, sd->body.data, sd->body.len, sd->signature.data, sd->signature.len))
        snprintf(why, sizeof why,
                 "the signature does not verify with the enrolled key "
                 "(the stored delta was altered, or signed by another key)");
    Tiersync__DeltaBody *b = tiersync__delta_body__unpack(NULL, sd->body.len, sd->body.data);
    if (!b) {
        rc = step_over(w, key_seq, e, why[0] ? why : "the signed body does not decode");
        tiersync__signed_delta__free_unpacked(sd, NULL);
        return rc;
    }
    if (!why[0])
        chain_problem(w, b, key_seq, pk, why, sizeof why);
    if (why[0])
        rc = ts_fail(e, TS_EINPUT, "seq %llu: %s", (unsigned long long)key_seq, why);
    ts_err ce = {0};
    if (audit_cells_add(sum_for(w, b), b, &ce) && rc == TS_OK)
        rc = ts_fail(e, TS_EINPUT, "seq %llu: %s", (unsigned long long)key_seq, ce.msg);
    staged_done(w, b->seq);
    if (!w->first_seq)
        w->first_seq = key_seq;
    w->seq = key_seq;
    delta_hash(sd->body.data, sd->body.len, w->hash);
    w->deltas++;
    w->failed += rc != TS_OK;
    w->hash_unknown = rc != TS_OK;
    tiersync__delta_body__free_unpacked(b, NULL);
    tiersync__signed_delta__free_unpacked(sd, NULL);
    return rc;
}

/* ---- pruning ---------------------------------------------------------- */

typedef struct {
    char (*codes)[TS_CODE_MAX];
    size_t n, cap;
} code_list;

/* One write transaction of audit_prune: children kids[from, to). */
typedef struct {
    node_t *n;
    ts_err problem; /* the first delta that stopped a child's pruning */
    size_t pruned;
    const code_list *kids;
    size_t from, to;
    bool tidy_only;     /* only delete older checkpoints' parts */
    size_t tidy_budget; /* parts of older checkpoints still to delete in this transaction */
    bool more;          /* some were left for another transaction */
} prune_ctx;

static int list_child(const store_val *k, const store_val *v, void *ctx)
{
    code_list *l = ctx;
    if (k->len >= TS_CODE_MAX || v->len != sizeof(store_child))
        return 0;
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 16;
        l->codes = ts_xrealloc(l->codes, l->cap * sizeof *l->codes);
    }
    memcpy(l->codes[l->n], k->data, k->len);
    l->codes[l->n++][k->len] = '\0';
    return 0;
}

typedef struct {
    size_t prefix_len;
    uint64_t *seqs;
    size_t n, cap;
} seq_list;

static int list_seq(const store_val *k, const store_val *v, void *ctx)
{
    (void)v;
    seq_list *l = ctx;
    if (k->len != l->prefix_len + 8)
        return 0; /* the checkpoint */
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 64;
        l->seqs = ts_xrealloc(l->seqs, l->cap * sizeof *l->seqs);
    }
    l->seqs[l->n++] = ts_get_be64((const uint8_t *)k->data + l->prefix_len);
    return 0;
}

/* Writes the walk's state as the child's checkpoint. */
static int put_checkpoint(store_t *s, store_txn *txn, const audit_walk *w, ts_err *e)
{
    audit_folded f = {w->seq, {0}};
    memcpy(f.hash, w->hash, DELTA_HASH_BYTES);
    return audit_folded_put(s, txn, w->child, &f, &w->contrib, e);
}

/* Walks the first n deltas of l from child's checkpoint into w; returns
 * how many checked out before the first that does not (described in why). */
static size_t walk_prefix(audit_walk *w, store_t *s, store_txn *txn, const char *child,
                          const store_child *ch, const seq_list *l, size_t n, ts_err *why)
{
    if (audit_walk_begin(w, s, txn, child, ch->pk, why) != TS_OK)
        return 0;
    uint8_t *buf = NULL;
    size_t i = 0;
    for (; i < n; i++) {
        char key[AUDIT_KEY_MAX];
        store_val v;
        if (audit_log_get(s, txn, key, audit_key(child, l->seqs[i], key), &v, &buf, why) ||
            audit_walk_step(w, l->seqs[i], v.data, v.len, why) != TS_OK)
            break;
    }
    free(buf);
    return i;
}

/* The seq of child's folded checkpoint (audit.h); 0 when it has none. */
static uint64_t folded_seq(store_t *s, store_txn *txn, const char *child)
{
    audit_folded f;
    ts_err e = {0};
    return audit_folded_get(s, txn, child, &f, NULL, &e) == TS_OK ? f.seq : 0;
}

/* Drops child's deltas (listed in l, oldest first) older than its
 * second-newest checkpoint, at most AUDIT_DROP_BATCH, and the folded
 * checkpoint when it is older too: the signed snapshot starts the trail.
 * *from receives how many of l were dropped (they were its first). */
static int drop_before_checkpoint(prune_ctx *p, store_t *s, store_txn *txn, const char *child,
                                  const seq_list *l, size_t *from, ts_err *e)
{
    audit_checkpoints c;
    audit_checkpoints_get(s, txn, child, &c);
    *from = 0;
    if (!c.older)
        return TS_OK;
    while (*from < l->n && *from < AUDIT_DROP_BATCH && l->seqs[*from] < c.older) {
        char key[AUDIT_KEY_MAX];
        if (audit_log_del(s, txn, key, audit_key(child, l->seqs[*from], key), e))
            return e->code;
        (*from)++;
        p->pruned++;
    }
    uint64_t folded = folded_seq(s, txn, child);
    if (folded && folded < c.older)
        return audit_folded_del(s, txn, child, e);
    return TS_OK;
}

/* Whether a child keeping n deltas is to be folded down to retain (0: no
 * limit). Only past a margin of an eighth: each fold rewrites the child's
 * whole folded checkpoint, so once an eighth of the retention, not at
 * every delta. */
static bool over_retain(size_t n, size_t retain)
{
    return retain && n > retain + retain / 8;
}

/* Drops what the checkpoints no longer need, then folds child's oldest
 * deltas beyond the retention into its folded checkpoint. */
static int prune_child(prune_ctx *p, store_t *s, store_txn *txn, const char *child, ts_err *e)
{
    bool tidy;
    if (audit_folded_tidy(s, txn, child, &p->tidy_budget, &tidy, e))
        return e->code;
    if (!tidy || p->tidy_only) {
        p->more |= !tidy;
        return TS_OK;
    }
    store_child ch;
    if (store_child_get(s, txn, child, &ch) != TS_OK)
        return TS_OK; /* no key to check its deltas against: keep them */
    char prefix[TS_CODE_MAX + 2];
    snprintf(prefix, sizeof prefix, "%s|", child);
    seq_list all = {strlen(prefix), NULL, 0, 0};
    if (store_scan(s, txn, DB_AUDIT_INDEX, prefix, list_seq, &all, NULL, e)) {
        free(all.seqs);
        return e->code;
    }
    size_t dropped;
    if (drop_before_checkpoint(p, s, txn, child, &all, &dropped, e)) {
        free(all.seqs);
        return e->code;
    }
    if (dropped == AUDIT_DROP_BATCH) { /* more to drop next time; fold after that */
        free(all.seqs);
        return TS_OK;
    }
    seq_list l = all;
    l.seqs += dropped;
    l.n -= dropped;
    size_t retain = (size_t)p->n->cfg.audit_retain;
    size_t fold = over_retain(l.n, retain) ? l.n - retain : 0;
    if (fold > AUDIT_PRUNE_BATCH)
        fold = AUDIT_PRUNE_BATCH;
    if (!fold) {
        free(all.seqs);
        return TS_OK;
    }
    audit_walk w;
    ts_err why = {0};
    size_t good = walk_prefix(&w, s, txn, child, &ch, &l, fold, &why);
    if (good < fold) { /* fold only what checks out: walk again up to it */
        if (p->problem.code == TS_OK)
            ts_fail(&p->problem, TS_EINPUT,
                    "audit: child %s: %s; its trail is kept from there "
                    "on for 'tiersync verify'",
                    child, why.msg);
        audit_walk_end(&w);
        walk_prefix(&w, s, txn, child, &ch, &l, good, &why);
    }
    if (w.staged_end) { /* the checkpoint holds no staged parts: fold up to the first */
        while (good && l.seqs[good - 1] >= w.staged_first)
            good--;
        audit_walk_end(&w);
        walk_prefix(&w, s, txn, child, &ch, &l, good, &why);
    }
    int rc = TS_OK;
    for (size_t i = 0; i < good && rc == TS_OK; i++) {
        char key[AUDIT_KEY_MAX];
        rc = audit_log_del(s, txn, key, audit_key(child, l.seqs[i], key), e);
        p->pruned++;
    }
    if (rc == TS_OK && good)
        rc = put_checkpoint(s, txn, &w, e);
    if (rc == TS_OK && good) /* the older checkpoint: here when small, else in slices */
        rc = audit_folded_tidy(s, txn, child, &p->tidy_budget, &tidy, e);
    p->more |= !tidy;
    audit_walk_end(&w);
    free(all.seqs);
    return rc;
}

static int prune_txn(store_t *s, store_txn *txn, void *vctx, ts_err *e)
{
    prune_ctx *p = vctx;
    memset(&p->problem, 0, sizeof p->problem);
    p->pruned = 0;
    int rc = TS_OK;
    for (size_t i = p->from; i < p->to && rc == TS_OK; i++)
        rc = prune_child(p, s, txn, p->kids->codes[i], e);
    return rc;
}

static int list_children(store_t *s, code_list *l, ts_err *e)
{
    store_txn *txn;
    if (store_read_begin(s, &txn, e))
        return e->code;
    int rc = store_scan(s, txn, DB_CHILDREN, NULL, list_child, l, NULL, e);
    store_read_end(txn);
    return rc;
}

/* True when some child of p's slice keeps a delta older than its
 * second-newest checkpoint, or more deltas than retain (0: no limit); a
 * read, so the daemon's regular call costs no write transaction when
 * nothing is due. */
static bool prune_due(store_t *s, size_t retain, const prune_ctx *p)
{
    store_txn *txn;
    if (store_read_begin(s, &txn, NULL) != TS_OK)
        return true; /* let the write report it */
    bool due = false;
    for (size_t i = p->from; i < p->to && !due; i++) {
        const char *child = p->kids->codes[i];
        char prefix[TS_CODE_MAX + 2];
        snprintf(prefix, sizeof prefix, "%s|", child);
        seq_list q = {strlen(prefix), NULL, 0, 0};
        /* unreadable: let the write report it */
        bool unread = store_scan(s, txn, DB_AUDIT_INDEX, prefix, list_seq, &q, NULL, NULL) != 0;
        audit_checkpoints c;
        audit_checkpoints_get(s, txn, child, &c);
        due = unread || over_retain(q.n, retain) || (q.n && q.seqs[0] < c.older) ||
            audit_folded_stale(s, txn, child);
        free(q.seqs);
    }
    store_read_end(txn);
    return due;
}

int audit_prune(node_t *n, ts_err *e)
{
    code_list kids = {0};
    if (list_children(n->store, &kids, e))
        return ts_err_wrap(e, "audit: pruning the trail of signed deltas");
    ts_err problem = {0};
    size_t pruned = 0;
    int rc = TS_OK;
    for (size_t i = 0; i < kids.n && rc == TS_OK; i += AUDIT_PRUNE_CHILDREN) {
        prune_ctx p = {n, {0}, 0, &kids, i, i + AUDIT_PRUNE_CHILDREN, false, 0, false};
        if (p.to > kids.n)
            p.to = kids.n;
        if (!prune_due(n->store, (size_t)n->cfg.audit_retain, &p))
            continue;
        do { /* then the older checkpoints, a slice of parts per transaction */
            p.tidy_budget = AUDIT_FOLDED_TIDY_PARTS;
            p.more = false;
            rc = store_write(n->store, prune_txn, &p, e);
            pruned += p.pruned;
            if (problem.code == TS_OK)
                problem = p.problem;
            p.tidy_only = true;
        } while (rc == TS_OK && p.more);
    }
    free(kids.codes);
#ifdef __GLIBC__
    /* A fold held a child's whole contribution in memory (a district's, at
     * a province: hundreds of thousands of cells) in many small blocks;
     * give the heap back rather than keep that peak resident. */
    if (pruned)
        malloc_trim(0);
#endif
    if (rc)
        return ts_err_wrap(e, "audit: pruning the trail of signed deltas");
    if (problem.code != TS_OK)
        return ts_fail(e, problem.code, "%s", problem.msg);
    return TS_OK;
}
