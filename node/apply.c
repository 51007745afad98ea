/* apply.c: apply what a child sends, once receive.c has checked it: hello
 * answered, deltas and snapshot parts applied in one write transaction per
 * batch (seq/hash chain, catalog, units and subtree checked against the
 * newest state), replies packed. */
#include "apply.h"
#include "apply_int.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apply_stage.h"
#include "arena.h"
#include "audit_checkpoint.h"
#include "audit_log.h"
#include "catalog_dist.h"
#include "clock.h"
#include "delta.h"
#include "log.h"
#include "merge_state.h"
#include "receive.h"

static int apply_cells(apply_ctx *a, store_t *s, store_txn *txn, uint64_t expected, ts_err *e)
{
    const Tiersync__DeltaBody *b = a->body;
    store_cells w;
    store_cells_begin(&w, s, txn);
    w.sums = a->sums;
    const char *checked = NULL; /* the unit last found in the subtree: cells come grouped */
    int rc = TS_OK;
    for (size_t i = 0; i < b->n_cells && rc == TS_OK; i++) {
        const Tiersync__Cell *pc = b->cells[i];
        ts_cell c;
        ts_err ce = {0};
        if (i == a->bad_cell ||
            cell_set(&c, pc->unit, pc->indicator, pc->period, pc->options, &ce)) {
            rc = receive_refuse(
                a->reply, i == a->bad_cell ? a->bad_reason : TIERSYNC__REASON__REASON_UNKNOWN_CODE,
                expected, e, "cell %zu: %s", i, i == a->bad_cell ? a->bad_msg : ce.msg);
        } else if ((!checked || strcmp(checked, pc->unit) != 0) &&
                   !apply_in_subtree(s, txn, a->child, c.unit)) {
            rc = receive_refuse(a->reply, TIERSYNC__REASON__REASON_FOREIGN_UNIT, expected, e,
                                "cell %zu is for unit %s, outside child %s's subtree", i, c.unit,
                                a->child);
        } else {
            checked = pc->unit;
            rc = store_cells_add(&w, a->child, &c, (disclose_fig){pc->value, pc->key}, e);
            if (rc == TS_EINPUT)
                rc = receive_refuse(a->reply, TIERSYNC__REASON__REASON_MALFORMED, expected, e,
                                    "cell %zu: %s", i, e->msg);
            else if (rc == TS_OK)
                a->reply->applied_cells++;
        }
    }
    store_cells_end(&w);
    return rc;
}

/* What a delta changes in the counts: a snapshot first takes the old
 * contribution out, through the old tree; then its units, then its cells. */
static int apply_body(apply_ctx *a, store_t *s, store_txn *txn, uint64_t expected, ts_err *e)
{
    if (a->body->snapshot && store_drop_contribution(s, txn, a->child, e))
        return e->code == TS_EINPUT ? receive_refuse(a->reply, TIERSYNC__REASON__REASON_MALFORMED,
                                                     expected, e, "%s", e->msg)
                                    : e->code;
    if (apply_units_register(a, s, txn, expected, e))
        return e->code;
    return apply_cells(a, s, txn, expected, e);
}

typedef struct {
    apply_ctx *a;
    store_t *s;
    store_txn *txn;
    uint64_t expected;
} replay_ctx;

/* One staged part of a snapshot, applied when its last part arrives. */
static int replay_part(const Tiersync__DeltaBody *b, void *vctx, ts_err *e)
{
    replay_ctx *r = vctx;
    apply_ctx part = *r->a;
    part.body = b;
    part.bad_cell = SIZE_MAX; /* its cells passed the catalog when it arrived */
    int rc = apply_body(&part, r->s, r->txn, r->expected, e);
    if (rc != TS_EINPUT)
        return rc;
    char why[sizeof r->a->reply->detail];
    snprintf(why, sizeof why, "%s", r->a->reply->detail);
    return receive_refuse(r->a->reply, r->a->reply->reason, r->expected, e,
                          "snapshot part %llu: %s", (unsigned long long)b->seq, why);
}

/* Applies the delta, or, while a multi-part snapshot arrives, keeps each
 * part but the last, which applies them all at once (apply_stage.h). The
 * units and subtree of a kept part are therefore checked with the last
 * part, whose refusal names the part at fault. */
static int stage_or_apply(apply_ctx *a, store_t *s, store_txn *txn, uint64_t expected, ts_err *e)
{
    const Tiersync__DeltaBody *b = a->body;
    uint64_t end;
    if (apply_stage_end(s, txn, a->child, &end, e))
        return e->code;
    if (b->snapshot && end && apply_stage_clear(s, txn, a->child, e))
        return e->code; /* a new snapshot replaces one left unfinished */
    if (b->snapshot)
        end = b->snapshot_end > b->seq ? b->snapshot_end : 0;
    if (b->snapshot &&
        audit_checkpoint_staging(s, txn, a->child, end && a->checkpoint ? b->seq : 0, e))
        return e->code;
    if (!end) {
        if (a->checkpoint)
            a->reply->checkpoint_differs = audit_checkpoint_compare(
                s, txn, a->child, b, false, a->reply->detail, sizeof a->reply->detail);
        return apply_body(a, s, txn, expected, e);
    }
    if (b->seq < end) {
        if (a->bad_cell != SIZE_MAX)
            return receive_refuse(a->reply, a->bad_reason, expected, e, "cell %zu: %s", a->bad_cell,
                                  a->bad_msg);
        const ProtobufCBinaryData *body = &a->signed_delta->body;
        return apply_stage_put(s, txn, a->child, b->seq, end, body->data, body->len, e);
    }
    a->reply->checkpoint_differs = audit_checkpoint_compare(
        s, txn, a->child, b, true, a->reply->detail, sizeof a->reply->detail);
    if (audit_checkpoint_staging(s, txn, a->child, 0, e))
        return e->code;
    replay_ctx r = {a, s, txn, expected};
    if (apply_stage_each(s, txn, a->child, replay_part, &r, e) ||
        apply_body(a, s, txn, expected, e))
        return e->code;
    return apply_stage_clear(s, txn, a->child, e);
}

static int update_cover(apply_ctx *a, store_t *s, store_txn *txn, ts_err *e)
{
    store_cover cov = {0};
    store_val v;
    if (store_get(s, txn, DB_COVERS, a->child, strlen(a->child), &v, NULL) == TS_OK &&
        v.len == sizeof cov)
        memcpy(&cov, v.data, sizeof cov);
    if (!cov.first_seq)
        cov.first_seq = a->body->seq;
    cov.last_seq = a->body->seq;
    memcpy(cov.last_hash, a->hash, sizeof cov.last_hash);
    return store_put(s, txn, DB_COVERS, a->child, strlen(a->child), &cov, sizeof cov, e);
}

/* The audit trail: every applied delta exactly as signed, under
 * "child|" + be64(seq), so any number can be traced to its signatures. */
static int keep_audit(apply_ctx *a, store_t *s, store_txn *txn, ts_err *e)
{
    char key[TS_CODE_MAX + 1 + 8];
    size_t n = strlen(a->child);
    memcpy(key, a->child, n);
    key[n] = '|';
    ts_put_be64((uint8_t *)key + n + 1, a->body->seq);
    size_t len = tiersync__signed_delta__get_packed_size(a->signed_delta);
    uint8_t *buf = malloc(len ? len : 1);
    tiersync__signed_delta__pack(a->signed_delta, buf);
    int rc = audit_log_put(s, txn, key, n + 9, buf, len, e);
    free(buf);
    return rc;
}

static int apply_delta_txn(store_t *s, store_txn *txn, void *vctx, ts_err *e)
{
    apply_ctx *a = vctx;
    const Tiersync__DeltaBody *b = a->body;
    a->reply->applied_cells = 0;
    store_child ch;
    if (store_child_get(s, txn, a->child, &ch) != TS_OK)
        return receive_refuse(a->reply, TIERSYNC__REASON__REASON_NOT_ENROLLED, 0, e,
                              "child %s is no longer enrolled", a->child);
    uint64_t expected = ch.last_seq + 1;
    if (b->seq > APPLY_MAX_SEQ)
        return receive_refuse(a->reply, TIERSYNC__REASON__REASON_MALFORMED, expected, e,
                              "seq %llu from %s is beyond the protocol's range",
                              (unsigned long long)b->seq, a->child);
    if (b->seq < expected) { /* duplicate: already applied, ack again */
        a->reply->kind = TIERSYNC__ENVELOPE__MSG_ACK;
        a->reply->seq = ch.last_seq;
        return TS_OK;
    }
    store_unit cu;
    char on[MERGE_DATE_TEXT];
    if (store_unit_get(s, txn, a->child, &cu) == TS_OK && cu.merged_into[0])
        return receive_refuse(
            a->reply, TIERSYNC__REASON__REASON_NOT_ENROLLED, expected, e,
            "%s was merged into %s from %s and is retired: its link is closed, its "
            "numbers are kept as history",
            a->child, cu.merged_into, merge_date_text(cu.merged_on, on));
    if (!b->snapshot && b->seq > expected)
        return receive_refuse(a->reply, TIERSYNC__REASON__REASON_GAP, expected, e,
                              "seq %llu from %s leaves a gap: expected %llu",
                              (unsigned long long)b->seq, a->child, (unsigned long long)expected);
    if (!b->snapshot &&
        (b->prev_hash.len != DELTA_HASH_BYTES ||
         memcmp(b->prev_hash.data, ch.last_hash, DELTA_HASH_BYTES) != 0))
        return receive_refuse(a->reply, TIERSYNC__REASON__REASON_BROKEN_CHAIN, expected, e,
                              "seq %llu from %s does not continue its chain (prev_hash differs)",
                              (unsigned long long)b->seq, a->child);
    if (strcmp(b->catalog_id, a->n->catalog->id) != 0)
        return receive_refuse(a->reply, TIERSYNC__REASON__REASON_CATALOG_MISMATCH, expected, e,
                              "%s uses catalog '%s', this node '%s'", a->child, b->catalog_id,
                              a->n->catalog->id);
    if (b->snapshot && b->snapshot_end > b->seq &&
        b->snapshot_end - b->seq >= APPLY_STAGE_MAX_PARTS)
        return receive_refuse(a->reply, TIERSYNC__REASON__REASON_MALFORMED, expected, e,
                              "snapshot from %s in more than %d parts", a->child,
                              APPLY_STAGE_MAX_PARTS);
    /* a snapshot that continues the chain is a checkpoint: it must equal
     * what is held (compared when it is whole); where it does not, it is
     * still taken as truth */
    a->checkpoint = b->snapshot && ch.last_seq && b->seq == expected &&
        b->prev_hash.len == DELTA_HASH_BYTES &&
        !memcmp(b->prev_hash.data, ch.last_hash, DELTA_HASH_BYTES);
    a->wrote = true;
    if (stage_or_apply(a, s, txn, expected, e))
        return e->code;
    ch.checkpoint_findings += a->reply->checkpoint_differs > 0;
    if (store_has_parent(s) && update_cover(a, s, txn, e))
        return e->code;
    if (keep_audit(a, s, txn, e))
        return e->code;
    if (b->snapshot && audit_checkpoint_note(s, txn, a->child, b->seq, e))
        return e->code;
    ch.last_seq = b->seq;
    memcpy(ch.last_hash, a->hash, sizeof ch.last_hash);
    ch.last_seen_ms = ch.last_applied_ms = ts_now_ms();
    ch.applied++;
    a->reply->kind = TIERSYNC__ENVELOPE__MSG_ACK;
    a->reply->seq = b->seq;
    return store_child_put(s, txn, a->child, &ch, e);
}

static int on_hello(node_t *n, store_txn *txn, const char *child, const Tiersync__Hello *h,
                    apply_reply *r, ts_err *e)
{
    store_child ch;
    if (store_child_get(n->store, txn, child, &ch) != TS_OK)
        return receive_refuse(r, TIERSYNC__REASON__REASON_NOT_ENROLLED, 0, e, "%s is not enrolled",
                              child);
    if (strcmp(h->code, child) != 0 || h->key.len != sizeof ch.pk ||
        memcmp(h->key.data, ch.pk, sizeof ch.pk) != 0)
        return receive_refuse(r, TIERSYNC__REASON__REASON_WRONG_ORIGIN, ch.last_seq + 1, e,
                              "hello claims code %.32s, but the connection is child %s", h->code,
                              child);
    if (h->protocol != DELTA_PROTOCOL)
        return receive_refuse(r, TIERSYNC__REASON__REASON_MALFORMED, ch.last_seq + 1, e,
                              "%s speaks protocol %u; this parent speaks %d", child, h->protocol,
                              DELTA_PROTOCOL);
    r->kind = TIERSYNC__ENVELOPE__MSG_WELCOME;
    if (h->now_ms > 0) {
        int64_t off = (h->now_ms - ts_now_ms()) / 1000;
        r->clock_told = true;
        r->clock_offset_s = (int32_t)(off > INT32_MAX        ? INT32_MAX
                                          : off < -INT32_MAX ? -INT32_MAX
                                                             : off);
    }
    r->seq = ch.last_seq;
    memcpy(r->hash, ch.last_hash, sizeof r->hash);
    return TS_OK;
}

struct apply_pending {
    node_t *n;
    apply_item *items;
    receive_state *st;
    size_t count;
    bool nested, redo; /* see batch_txn */
    arena_t mem;       /* every decoded message of the batch */
    store_sums *sums;  /* see batch_txn */
};

/* Counts a refusal (or notes a hello) in the child's record. */
static int note_seen(store_t *s, store_txn *txn, const apply_item *it, const receive_state *st,
                     ts_err *e)
{
    store_child ch;
    if (store_child_get(s, txn, it->child, &ch) != TS_OK)
        return TS_OK;
    ch.last_seen_ms = ts_now_ms();
    if (st->hello && it->rc == TS_OK) {
        ch.reported_head = st->env->hello->head_seq;
        if (it->reply.clock_told && clock_child_put(s, txn, it->child, it->reply.clock_offset_s, e))
            return e->code;
    }
    if (it->rc == TS_EINPUT) {
        ch.refused++;
        ch.last_refusal = it->reply.reason;
    }
    return store_child_put(s, txn, it->child, &ch, e);
}

/* The batch in one transaction, committed once (one fsync for all its
 * deltas). Deltas are applied straight into it: a nested transaction each
 * costs more than the cells of a small delta. Should a delta be refused
 * after it began writing, the whole batch rolls back and runs again with
 * each delta in its own nested transaction, so the refused one changes
 * nothing and the others still commit. Adds to this node's own unit are
 * summed over the batch and written at its end (not when nested: a nested
 * refusal must take its adds back). */
static int batch_txn(store_t *s, store_txn *txn, void *vctx, ts_err *e)
{
    apply_pending *b = vctx;
    store_sums_clear(b->sums); /* a map that grew runs the batch again */
    for (size_t i = 0; i < b->count; i++) {
        apply_item *it = &b->items[i];
        receive_state *st = &b->st[i];
        if (st->hello && it->rc == TS_OK) {
            memset(&it->reply, 0, sizeof it->reply);
            it->rc = on_hello(b->n, txn, it->child, st->env->hello, &it->reply, &it->err);
        }
        if (st->body) {
            apply_ctx a = {.n = b->n,
                           .child = it->child,
                           .signed_delta = st->env->delta,
                           .body = st->body,
                           .reply = &it->reply,
                           .sums = b->nested ? NULL : b->sums,
                           .bad_cell = st->bad_cell,
                           .bad_reason = st->bad_reason,
                           .bad_msg = st->bad_err.msg};
            delta_hash(st->env->delta->body.data, st->env->delta->body.len, a.hash);
            memset(&it->reply, 0, sizeof it->reply);
            if (b->nested) /* refused, it is rolled back alone */
                it->rc = store_write_nested(s, txn, apply_delta_txn, &a, &it->err);
            else
                it->rc = apply_delta_txn(s, txn, &a, &it->err);
            if (it->rc == TS_EINPUT && a.wrote && !b->nested) {
                b->redo = true; /* half applied: roll the batch back, redo it nested */
                return ts_fail(e, TS_EINPUT, "%s", it->err.msg);
            }
            if (it->rc == TS_ERUNTIME) /* map full or disk: the whole batch retries or fails */
                return ts_fail(e, TS_ERUNTIME, "%s", it->err.msg);
        }
        if ((st->hello || it->rc == TS_EINPUT) && note_seen(s, txn, it, st, e))
            return e->code;
    }
    int rc = store_sums_flush(b->sums, s, txn, e);
    if (rc == TS_EINPUT && !b->nested)
        b->redo = true; /* an overflow of a sum: nested, its delta is found */
    return rc;
}

apply_pending *apply_begin(node_t *n, apply_item *items, size_t max)
{
    apply_pending *p = malloc(sizeof *p);
    receive_state *st = calloc(max ? max : 1, sizeof *st);
    if (!p || !st)
        abort();
    *p = (apply_pending){.n = n, .items = items, .st = st, .sums = store_sums_new()};
    arena_init(&p->mem);
    return p;
}

void apply_prepare_more(apply_pending *p, size_t count)
{
    receive_batch(p->n, &p->mem.pb, p->items, p->st, p->count, count);
    p->count = count;
}

apply_pending *apply_prepare(node_t *n, apply_item *items, size_t count)
{
    apply_pending *p = apply_begin(n, items, count);
    apply_prepare_more(p, count);
    return p;
}

void apply_commit(apply_pending *p)
{
    node_t *n = p->n;
    apply_item *items = p->items;
    receive_state *st = p->st;
    ts_err e = {0};
    int64_t t0 = ts_mono_us();
    int rc = store_write(n->store, batch_txn, p, &e);
    if (rc != TS_OK && p->redo) {
        p->nested = true;
        rc = store_write(n->store, batch_txn, p, &e);
    }
    uint64_t took = (uint64_t)(ts_mono_us() - t0);
    for (size_t i = 0; i < p->count; i++) {
        apply_item *it = &items[i];
        if (rc != TS_OK && st[i].body) { /* nothing of the batch committed */
            it->rc = ts_fail(&it->err, TS_ERUNTIME, "%s", e.msg);
            it->reply.kind = TIERSYNC__ENVELOPE__MSG_NACK;
            it->reply.reason = TIERSYNC__REASON__REASON_STORE_FAILED;
            snprintf(it->reply.detail, sizeof it->reply.detail, "parent store failed; retry later");
        } else if (st[i].body && it->rc == TS_OK) {
            metrics_observe_apply(&n->metrics, took);
            if (it->reply.checkpoint_differs)
                log_warn("child %s: its checkpoint at seq %llu disagrees with the contribution "
                         "held here in %zu cells (first %s); taken as truth, as a resync is: "
                         "run 'tiersync verify' and check the child's store",
                         it->child, (unsigned long long)it->reply.seq, it->reply.checkpoint_differs,
                         it->reply.detail);
        }
        if (it->rc == TS_EINPUT)
            atomic_fetch_add(&n->metrics.refused, 1);
    }
    arena_release(&p->mem);
    store_sums_destroy(&p->sums);
    free(st);
    free(p);
}

void apply_batch(node_t *n, apply_item *items, size_t count)
{
    apply_commit(apply_prepare(n, items, count));
}

int apply_message(node_t *n, const char *child, const uint8_t *data, size_t len, apply_reply *r,
                  ts_err *e)
{
    apply_item it = {.child = child, .data = data, .len = len};
    apply_batch(n, &it, 1);
    *r = it.reply;
    if (e)
        *e = it.err;
    return it.rc;
}

void apply_reply_pack(const node_t *n, const apply_reply *r, uint8_t **out, size_t *len)
{
    Tiersync__Envelope env = TIERSYNC__ENVELOPE__INIT;
    Tiersync__Welcome w = TIERSYNC__WELCOME__INIT;
    Tiersync__CatalogOffer offer;
    Tiersync__Ack ack = TIERSYNC__ACK__INIT;
    Tiersync__Nack nack = TIERSYNC__NACK__INIT;
    uint8_t hash[32];
    *out = NULL;
    *len = 0;
    switch (r->kind) {
    case TIERSYNC__ENVELOPE__MSG_WELCOME:
        memcpy(hash, r->hash, sizeof hash);
        w.last_seq = r->seq;
        w.last_hash = (ProtobufCBinaryData){sizeof hash, hash};
        w.code = (char *)n->cfg.code;
        w.now_ms = ts_now_ms();
        w.today = (uint32_t)ts_today();
        if (catdist_offer_fill(n, &offer))
            w.catalog = &offer;
        env.welcome = &w;
        break;
    case TIERSYNC__ENVELOPE__MSG_ACK:
        ack.seq = r->seq;
        ack.today = (uint32_t)ts_today();
        env.ack = &ack;
        break;
    case TIERSYNC__ENVELOPE__MSG_NACK:
        nack.expected = r->seq;
        nack.reason = r->reason;
        nack.detail = (char *)r->detail;
        env.nack = &nack;
        break;
    default: return;
    }
    env.msg_case = r->kind;
    wire_pack(&env, out, len);
}
