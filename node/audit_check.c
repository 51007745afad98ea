/* audit_check.c: the audit checks of `tiersync verify` (see audit_check.h): each child's
 * chain of signed deltas, its contribution, and the rolled-up totals. */
#include "audit_check.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "audit_checkpoint.h"

typedef struct {
    node_t *n;
    store_t *s;
    store_txn *txn;
    const char *unit; /* scope: NULL for everything */
    audit_check_report_fn report;
    void *ctx;
    audit_check_summary *sum;
} audit_check_ctx;

static void say(audit_check_ctx *v, bool problem, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void say(audit_check_ctx *v, bool problem, const char *fmt, ...)
{
    char line[TS_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (problem)
        v->sum->problems++;
    if (v->report)
        v->report(v->ctx, problem, line);
}

/* A table the checks cannot read is a problem like any other. */
static void scan(audit_check_ctx *v, store_db db, const char *prefix, store_scan_fn fn, void *ctx)
{
    ts_err e = {0};
    if (store_scan(v->s, v->txn, db, prefix, fn, ctx, NULL, &e))
        say(v, true, "%s", e.msg);
}

/* ---- the unit tree ---------------------------------------------------- */

/* True when code is unit or below it (its parents lead to unit). */
static bool within(audit_check_ctx *v, const char *code, const char *unit)
{
    char cur[TS_CODE_MAX];
    snprintf(cur, sizeof cur, "%s", code);
    for (int depth = 0; depth <= STORE_MAX_DEPTH; depth++) {
        if (!strcmp(cur, unit))
            return true;
        store_unit u;
        if (!strcmp(cur, store_self_code(v->s)) || store_unit_get(v->s, v->txn, cur, &u) ||
            !u.parent[0])
            return false;
        snprintf(cur, sizeof cur, "%s", u.parent);
    }
    return false;
}

static bool in_scope(audit_check_ctx *v, const char *code)
{
    return !v->unit || within(v, code, v->unit);
}

/* A unit whose parents never reach a root loops: rolling up through it
 * adds a change to the same totals over and over. */
static int check_loop(const store_val *k, const store_val *val, void *vctx)
{
    audit_check_ctx *v = vctx;
    store_unit u;
    if (k->len >= TS_CODE_MAX || !store_unit_decode(val, &u))
        return 0;
    char code[TS_CODE_MAX], cur[TS_CODE_MAX];
    memcpy(code, k->data, k->len);
    code[k->len] = '\0';
    snprintf(cur, sizeof cur, "%s", code);
    for (int depth = 0; depth <= STORE_MAX_DEPTH; depth++) {
        if (!strcmp(cur, store_self_code(v->s)) || store_unit_get(v->s, v->txn, cur, &u) ||
            !u.parent[0])
            return 0;
        snprintf(cur, sizeof cur, "%s", u.parent);
    }
    if (in_scope(v, code))
        say(v, true,
            "unit %s: its chain of parents never reaches %s (it loops, through %s): "
            "totals rolled up through it count a change more than once",
            code, store_self_code(v->s), cur);
    return 0;
}

/* ---- each child's trail ----------------------------------------------- */

typedef struct {
    size_t prefix_len;
    audit_walk *w;
    audit_check_ctx *v;
} trail_ctx;

static int trail_one(const store_val *k, const store_val *val, void *vctx)
{
    trail_ctx *t = vctx;
    if (k->len == t->prefix_len)
        return 0; /* the checkpoint, read by audit_walk_begin */
    if (k->len != t->prefix_len + 8) {
        say(t->v, true, "child %s: a key of its trail is malformed (%zu bytes)", t->w->child,
            k->len);
        return 0;
    }
    uint64_t seq = ts_get_be64((const uint8_t *)k->data + t->prefix_len);
    ts_err e = {0};
    if (audit_walk_step(t->w, seq, val->data, val->len, &e) != TS_OK)
        say(t->v, true, "child %s %s", t->w->child, e.msg);
    return 0;
}

typedef struct {
    size_t prefix_len;
    const cellsum *want;
    cellsum seen;
    audit_check_ctx *v;
    const char *child;
    size_t cells;
    const char *caveat; /* when some deltas failed their check */
} contrib_ctx;

static int contrib_one(const store_val *k, const store_val *val, void *vctx)
{
    contrib_ctx *c = vctx;
    const char *key = (const char *)k->data + c->prefix_len;
    size_t klen = k->len - c->prefix_len;
    disclose_fig found = {0, 0};
    if (!store_fig_decode(val, &found))
        say(c->v, true, "child %s contribution %.*s: the stored value is malformed", c->child,
            (int)klen, key);
    disclose_fig want = cellsum_get(c->want, key, klen);
    cellsum_add(&c->seen, key, klen, (disclose_fig){1, 0});
    c->cells++;
    if (found.v != want.v)
        say(c->v, true,
            "child %s contribution %.*s: expected %lld (the sum of its signed "
            "deltas%s), found %lld",
            c->child, (int)klen, key, (long long)want.v, c->caveat, (long long)found.v);
    else if (found.key != want.key)
        say(c->v, true,
            "child %s contribution %.*s: its cell key is not the sum of its signed "
            "deltas'%s",
            c->child, (int)klen, key, c->caveat);
    return 0;
}

/* Compares the walk's sum with what table contrib holds for the child. */
static void check_contribution(audit_check_ctx *v, const audit_walk *w)
{
    char prefix[TS_CODE_MAX + 2];
    snprintf(prefix, sizeof prefix, "%s|", w->child);
    contrib_ctx c = {.prefix_len = strlen(prefix),
                     .want = &w->contrib,
                     .v = v,
                     .child = w->child,
                     .caveat = w->failed ? ", as stored: see the deltas named above" : ""};
    cellsum_init(&c.seen);
    size_t before = v->sum->problems;
    scan(v, DB_CONTRIB, prefix, contrib_one, &c);
    for (size_t i = 0; i < cellsum_count(&w->contrib); i++) {
        size_t klen;
        const char *key = cellsum_key(&w->contrib, i, &klen);
        disclose_fig want = cellsum_val(&w->contrib, i);
        if ((want.v != 0 || want.key != 0) && cellsum_get(&c.seen, key, klen).v == 0)
            say(v, true,
                "child %s contribution %.*s: expected %lld (the sum of its signed "
                "deltas%s), found 0 (absent)",
                w->child, (int)klen, key, (long long)want.v, c.caveat);
    }
    if (v->sum->problems == before)
        say(v, false, "child %s: its contribution (%zu cells) equals the sum of its signed deltas",
            w->child, c.cells);
    cellsum_free(&c.seen);
}

static void check_child(audit_check_ctx *v, const char *child, const store_child *ch)
{
    audit_walk w;
    ts_err e = {0};
    size_t before = v->sum->problems;
    if (audit_walk_begin(&w, v->s, v->txn, child, ch->pk, &e) != TS_OK)
        say(v, true, "child %s: %s", child, e.msg);
    char prefix[TS_CODE_MAX + 2];
    snprintf(prefix, sizeof prefix, "%s|", child);
    trail_ctx t = {strlen(prefix), &w, v};
    if (audit_log_scan(v->s, v->txn, prefix, trail_one, &t, NULL, &e))
        say(v, true, "child %s: %s", child, e.msg);
    v->sum->children++;
    v->sum->deltas += w.deltas;
    if (w.seq != ch->last_seq)
        say(v, true,
            "child %s: its trail ends at seq %llu, but its record says seq %llu was "
            "applied last (last_seq)",
            child, (unsigned long long)w.seq, (unsigned long long)ch->last_seq);
    else if (!w.hash_unknown && memcmp(w.hash, ch->last_hash, sizeof w.hash) != 0)
        say(v, true,
            "child %s: the hash of seq %llu in its trail differs from its record "
            "(last_hash)",
            child, (unsigned long long)w.seq);
    bool clean = v->sum->problems == before;
    char pruned[200] = "";
    audit_checkpoints ck;
    audit_checkpoints_get(v->s, v->txn, child, &ck);
    if (w.deltas && ck.older && w.first_seq == ck.older)
        snprintf(pruned, sizeof pruned,
                 "; from its oldest checkpoint kept (the signed snapshot "
                 "at seq %llu): the deltas before it are dropped",
                 (unsigned long long)ck.older);
    else if (w.checkpoint_seq)
        snprintf(pruned, sizeof pruned,
                 "; seq 1..%llu were pruned (audit.retain_deltas): "
                 "their sum is this node's checkpoint at seq %llu, not signed",
                 (unsigned long long)w.checkpoint_seq, (unsigned long long)w.checkpoint_seq);
    if (!w.deltas && !w.checkpoint_seq)
        say(v, false, "child %s: nothing applied yet", child);
    else if (!w.deltas)
        say(v, false, "child %s: no signed delta retained%s", child, pruned);
    else {
        char how[80];
        if (clean)
            snprintf(how, sizeof how, "chain unbroken, ends at the recorded seq and hash");
        else if (w.failed)
            snprintf(how, sizeof how, "%zu failing (named above)", w.failed);
        else
            snprintf(how, sizeof how, "the chain does not hold (see above)");
        say(v, false, "child %s: seq %llu..%llu checked: %zu signed deltas, %s%s", child,
            (unsigned long long)w.first_seq, (unsigned long long)w.seq, w.deltas, how, pruned);
    }
    check_contribution(v, &w);
    audit_walk_end(&w);
}

typedef struct {
    audit_check_ctx *v;
    const char *only; /* NULL: every child */
} children_ctx;

static int child_one(const store_val *k, const store_val *val, void *vctx)
{
    children_ctx *c = vctx;
    store_child ch;
    char code[TS_CODE_MAX];
    if (k->len >= TS_CODE_MAX || val->len != sizeof ch)
        return 0;
    memcpy(code, k->data, k->len);
    code[k->len] = '\0';
    memcpy(&ch, val->data, sizeof ch);
    if (!c->only || !strcmp(c->only, code))
        check_child(c->v, code, &ch);
    return 0;
}

/* ---- the totals ------------------------------------------------------- */

typedef struct {
    audit_check_ctx *v;
    cellsum want;
    size_t sources, own;
    char last_source[TS_CODE_MAX];
} rollup_ctx;

/* want[c and each ancestor held here] += d, as store_apply_cell does: all
 * but a leaf's own total, which is source's contribution (checked with the
 * child's trail) and must not be in table totals. */
static void roll_up(rollup_ctx *r, const char *source, const ts_cell *c, disclose_fig d)
{
    ts_cell up = *c;
    for (int depth = 0; depth < STORE_MAX_DEPTH; depth++) {
        store_unit u;
        bool known = store_unit_get(r->v->s, r->v->txn, up.unit, &u) == TS_OK;
        bool in_contrib = !depth && known && u.leaf && source && !strcmp(source, u.via);
        char key[CELL_KEY_MAX];
        size_t n = cell_key(&up, key);
        if (in_contrib && in_scope(r->v, up.unit))
            r->v->sum->cells++; /* a total all the same */
        else if (!in_contrib && !cellsum_add(&r->want, key, n, d))
            say(r->v, true, "total %s: the roll-up leaves the 64-bit range", key);
        if (!known || !u.parent[0] || !strcmp(up.unit, store_self_code(r->v->s)))
            return;
        snprintf(up.unit, sizeof up.unit, "%s", u.parent);
    }
}

static int add_source(rollup_ctx *r, const char *source, const store_val *k, const store_val *val,
                      size_t skip)
{
    ts_cell c;
    disclose_fig d;
    ts_err e = {0};
    const char *key = (const char *)k->data + skip;
    size_t klen = k->len - skip;
    if (!store_fig_decode(val, &d) || cell_parse(key, klen, &c, &e) != TS_OK) {
        say(r->v, true, "%s %.*s: malformed entry, left out of the roll-up",
            source ? "contribution" : "own value", (int)k->len, (const char *)k->data);
        return 0;
    }
    roll_up(r, source, &c, d);
    return 0;
}

static int local_one(const store_val *k, const store_val *val, void *vctx)
{
    rollup_ctx *r = vctx;
    r->own++;
    return add_source(r, NULL, k, val, 0);
}

static int contrib_source(const store_val *k, const store_val *val, void *vctx)
{
    rollup_ctx *r = vctx;
    const char *bar = memchr(k->data, '|', k->len);
    size_t slen = bar ? (size_t)(bar - (const char *)k->data) : 0;
    if (!bar || slen >= TS_CODE_MAX)
        return add_source(r, "", k, val, k->len); /* reports it */
    if (strlen(r->last_source) != slen || memcmp(r->last_source, k->data, slen)) {
        memcpy(r->last_source, k->data, slen);
        r->last_source[slen] = '\0';
        r->sources++;
        store_child ch;
        if (store_child_get(r->v->s, r->v->txn, r->last_source, &ch) != TS_OK)
            say(r->v, false,
                "%s is no longer enrolled: its contribution stays counted with no "
                "key left to check it against",
                r->last_source);
    }
    return add_source(r, r->last_source, k, val, slen + 1);
}

typedef struct {
    rollup_ctx *r;
    cellsum seen;
} totals_ctx;

static int total_one(const store_val *k, const store_val *val, void *vctx)
{
    totals_ctx *t = vctx;
    audit_check_ctx *v = t->r->v;
    ts_cell c;
    ts_err e = {0};
    disclose_fig found;
    if (cell_parse(k->data, k->len, &c, &e) != TS_OK || !store_fig_decode(val, &found)) {
        say(v, true, "total %.*s: malformed entry", (int)k->len, (const char *)k->data);
        return 0;
    }
    cellsum_add(&t->seen, k->data, k->len, (disclose_fig){1, 0});
    if (!in_scope(v, c.unit))
        return 0;
    v->sum->cells++;
    disclose_fig want = cellsum_get(&t->r->want, k->data, k->len);
    if (found.v != want.v)
        say(v, true,
            "total %.*s: expected %lld (the roll-up of own values and children's "
            "contributions), found %lld",
            (int)k->len, (const char *)k->data, (long long)want.v, (long long)found.v);
    else if (found.key != want.key)
        say(v, true,
            "total %.*s: its cell key is not the roll-up of own values' and "
            "children's contributions'",
            (int)k->len, (const char *)k->data);
    return 0;
}

static void check_totals(audit_check_ctx *v)
{
    rollup_ctx r = {.v = v};
    cellsum_init(&r.want);
    size_t before = v->sum->problems;
    scan(v, DB_LOCAL, NULL, local_one, &r);
    scan(v, DB_CONTRIB, NULL, contrib_source, &r);
    totals_ctx t = {.r = &r};
    cellsum_init(&t.seen);
    scan(v, DB_TOTALS, NULL, total_one, &t);
    for (size_t i = 0; i < cellsum_count(&r.want); i++) {
        size_t klen;
        const char *key = cellsum_key(&r.want, i, &klen);
        disclose_fig want = cellsum_val(&r.want, i);
        ts_cell c;
        if ((want.v == 0 && want.key == 0) || cellsum_get(&t.seen, key, klen).v != 0 ||
            cell_parse(key, klen, &c, NULL) != TS_OK || !in_scope(v, c.unit))
            continue;
        v->sum->cells++;
        say(v, true,
            "total %.*s: expected %lld (the roll-up of own values and children's "
            "contributions), found 0 (absent)",
            (int)klen, key, (long long)want.v);
    }
    if (v->sum->problems == before)
        say(v, false,
            "totals: %zu cells%s%s equal the roll-up of %zu own values and the "
            "contributions of %zu children",
            v->sum->cells, v->unit ? " of " : "", v->unit ? v->unit : "", r.own, r.sources);
    cellsum_free(&t.seen);
    cellsum_free(&r.want);
}

/* ---- entry ------------------------------------------------------------ */

/* The direct child whose subtree holds unit ("" when it is this node). */
static int child_of(audit_check_ctx *v, const char *unit, char *child, ts_err *e)
{
    child[0] = '\0';
    if (!strcmp(unit, store_self_code(v->s)))
        return TS_OK;
    store_child ch;
    store_unit u;
    if (store_child_get(v->s, v->txn, unit, &ch) == TS_OK) {
        snprintf(child, TS_CODE_MAX, "%s", unit);
        return TS_OK;
    }
    if (store_unit_get(v->s, v->txn, unit, &u) == TS_OK && u.via[0]) {
        snprintf(child, TS_CODE_MAX, "%s", u.via);
        return TS_OK;
    }
    return ts_fail(e, TS_EINPUT,
                   "unit %s is not known to node %s: give this node's code, a "
                   "child's, or a unit below one ('tiersync totals' lists them)",
                   unit, store_self_code(v->s));
}

/* Runs fn over v in one read transaction of n's store. */
static int in_read(node_t *n, audit_check_ctx *v, audit_check_summary *sum, ts_err *e)
{
    memset(sum, 0, sizeof *sum);
    v->n = n;
    v->s = n->store;
    v->sum = sum;
    return store_read_begin(n->store, &v->txn, e);
}

int audit_check_node(node_t *n, const char *unit, audit_check_report_fn report, void *ctx,
                     audit_check_summary *sum, ts_err *e)
{
    audit_check_ctx v = {.report = report, .ctx = ctx};
    if (unit && !ts_code_valid(unit))
        return ts_fail(e, TS_EINPUT, "'%s' is not a valid org-unit code", unit);
    if (in_read(n, &v, sum, e))
        return e->code;
    char child[TS_CODE_MAX];
    int rc = unit ? child_of(&v, unit, child, e) : TS_OK;
    if (rc == TS_OK) {
        if (unit && !strcmp(unit, store_self_code(n->store)))
            unit = NULL;
        v.unit = unit;
        children_ctx cc = {&v, unit ? child : NULL};
        scan(&v, DB_CHILDREN, NULL, child_one, &cc);
        scan(&v, DB_UNITS, NULL, check_loop, &v);
        check_totals(&v);
    }
    store_read_end(v.txn);
    return rc;
}

int audit_check_child(node_t *n, const char *child, audit_check_report_fn report, void *ctx,
                      audit_check_summary *sum, ts_err *e)
{
    audit_check_ctx v = {.report = report, .ctx = ctx};
    if (in_read(n, &v, sum, e))
        return e->code;
    store_child ch;
    int rc = store_child_get(v.s, v.txn, child, &ch);
    if (rc == TS_OK)
        check_child(&v, child, &ch);
    store_read_end(v.txn);
    return rc == TS_OK ? TS_OK : ts_fail(e, TS_ENOTFOUND, "child %s is not enrolled", child);
}

int audit_check_totals(node_t *n, audit_check_report_fn report, void *ctx, audit_check_summary *sum,
                       ts_err *e)
{
    audit_check_ctx v = {.report = report, .ctx = ctx};
    if (in_read(n, &v, sum, e))
        return e->code;
    scan(&v, DB_UNITS, NULL, check_loop, &v);
    check_totals(&v);
    store_read_end(v.txn);
    return TS_OK;
}
