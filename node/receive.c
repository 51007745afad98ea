/* receive.c: the parent's receiving checks before the write lock (see
 * receive.h): decode, text, enrolled key, signature, origin, cell codes. */
#include "receive.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "delta.h"
#include "log.h"
#include "rotate.h"
#include "wire_text.h"
#include "worker.h"

int receive_refuse(apply_reply *r, Tiersync__Reason reason, uint64_t expected, ts_err *e,
                   const char *fmt, ...)
{
    char raw[sizeof r->detail];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(raw, sizeof raw, fmt, ap);
    va_end(ap);
    log_escape(r->detail, sizeof r->detail, raw); /* it quotes the child's bytes: keep it text */
    r->kind = TIERSYNC__ENVELOPE__MSG_NACK;
    r->reason = reason;
    r->seq = expected;
    return ts_fail(e, TS_EINPUT, "%s", r->detail);
}

/* Before the signature check: the child's enrolled key. */
static int prepare_delta(node_t *n, store_txn *txn, const char *child, receive_state *st,
                         apply_reply *r, ts_err *e)
{
    store_child ch;
    if (store_child_get(n->store, txn, child, &ch) != TS_OK)
        return receive_refuse(r, TIERSYNC__REASON__REASON_NOT_ENROLLED, 0, e, "%s is not enrolled",
                              child);
    memcpy(st->pk, ch.pk, sizeof st->pk);
    st->expected = ch.last_seq + 1;
    st->to_verify = true;
    return TS_OK;
}

/* Every cell's codes against the catalog, before the write lock; the first
 * refused one is only noted: the write transaction refuses it in its turn
 * (a duplicate is still acknowledged, earlier checks still come first). */
static void check_cells(node_t *n, receive_state *st)
{
    const Tiersync__DeltaBody *b = st->body;
    st->bad_cell = SIZE_MAX;
    int today = ts_today();
    for (size_t i = 0; i < b->n_cells; i++) {
        const Tiersync__Cell *pc = b->cells[i];
        ts_cell c;
        st->bad_reason = TIERSYNC__REASON__REASON_UNKNOWN_CODE;
        if (cell_set(&c, pc->unit, pc->indicator, pc->period, pc->options, &st->bad_err) ||
            cell_check_memo(n->catalog, &n->valid_options, &c, &st->bad_err)) {
            st->bad_cell = i;
            return;
        }
        if (cell_after_today(n->catalog, &c, today)) {
            st->bad_reason = TIERSYNC__REASON__REASON_FUTURE_PERIOD;
            ts_fail(&st->bad_err, TS_EINPUT,
                    "%s %s is a period not begun here: this node's "
                    "date is %04d-%02d-%02d (a child's clock ahead? see its clock offset in "
                    "'tiersync status')",
                    c.indicator, c.period, today / 10000, today / 100 % 100, today % 100);
            st->bad_cell = i;
            return;
        }
    }
}

/* A delta the enrolled key does not verify may be one the child signed
 * before its key rotation (rotate.h), still in flight: its retired key
 * verifies it, and *until is the seq from which that key signs nothing. */
static bool signed_before_rotation(node_t *n, const char *child, const Tiersync__SignedDelta *sd,
                                   uint8_t pk[crypto_sign_PUBLICKEYBYTES], uint64_t *until)
{
    store_txn *txn;
    ts_err e;
    int rc = store_read_begin(n->store, &txn, &e);
    if (rc == TS_OK) {
        rc = rotate_last_retired(n->store, txn, child, pk, until, &e);
        store_read_end(txn);
    }
    if (rc != TS_OK && rc != TS_ENOTFOUND) /* refused as unverified; the child sends it again */
        log_warn("child %s: cannot read its key history: %s", child, e.msg);
    return rc == TS_OK &&
        delta_verify(pk, sd->body.data, sd->body.len, sd->signature.data, sd->signature.len);
}

/* After it: the body must decode and come from the authenticated child. */
static int check_delta(node_t *n, const char *child, receive_state *st, ProtobufCAllocator *mem,
                       apply_reply *r, ts_err *e)
{
    const Tiersync__SignedDelta *sd = st->env->delta;
    uint64_t until = 0;
    if (!st->sig_ok && !signed_before_rotation(n, child, sd, st->pk, &until))
        return receive_refuse(r, TIERSYNC__REASON__REASON_BAD_SIGNATURE, st->expected, e,
                              "signature does not verify with %s's enrolled key", child);
    st->body = tiersync__delta_body__unpack(mem, sd->body.len, sd->body.data);
    if (!st->body)
        return receive_refuse(r, TIERSYNC__REASON__REASON_MALFORMED, st->expected, e,
                              "signed body from %s does not decode", child);
    const char *where;
    if (!wire_text_ok(&tiersync__delta_body__descriptor, sd->body.data, sd->body.len, &where)) {
        st->body = NULL; /* its memory goes with the batch's arena */
        return receive_refuse(r, TIERSYNC__REASON__REASON_MALFORMED, st->expected, e,
                              "field %s of the delta from %s is not UTF-8 text without NUL bytes",
                              where, child);
    }
    if (until && st->body->seq >= until) {
        st->body = NULL; /* its memory goes with the batch's arena */
        return receive_refuse(r, TIERSYNC__REASON__REASON_BAD_SIGNATURE, st->expected, e,
                              "delta signed by %s's retired key past its key rotation", child);
    }
    if (strcmp(st->body->origin, child) != 0 || st->body->origin_key.len != sizeof st->pk ||
        memcmp(st->body->origin_key.data, st->pk, sizeof st->pk) != 0) {
        int rc = receive_refuse(r, TIERSYNC__REASON__REASON_WRONG_ORIGIN, st->expected, e,
                                "delta claims origin %.32s, but the connection is child %s",
                                st->body->origin, child);
        st->body = NULL; /* its memory goes with the batch's arena */
        return rc;
    }
    check_cells(n, st);
    return TS_OK;
}

/* The batch's deltas to verify, taken one at a time by whichever thread is
 * free: a fixed half each left one core idle whenever the other thread's
 * core was busy with something else (the writer, the I/O thread). */
typedef struct {
    receive_state *st;
    size_t count;
    atomic_size_t next;
} verify_queue;

static void verify_some(void *arg)
{
    verify_queue *q = arg;
    for (size_t i; (i = atomic_fetch_add(&q->next, 1)) < q->count;) {
        receive_state *st = &q->st[i];
        if (st->to_verify) {
            const Tiersync__SignedDelta *sd = st->env->delta;
            st->sig_ok = delta_verify(st->pk, sd->body.data, sd->body.len, sd->signature.data,
                                      sd->signature.len);
        }
    }
}

/* Ed25519 verification dominates small deltas: share a batch between two
 * cores, this thread and the node's helper. */
static void verify_all(node_t *n, receive_state *st, size_t count)
{
    verify_queue q = {st, count, 0};
    bool shared = false;
    if (count >= APPLY_PARALLEL_MIN) {
        if (!n->helper)
            n->helper = worker_new();
        shared = worker_start(n->helper, verify_some, &q);
    }
    verify_some(&q);
    if (shared)
        worker_wait(n->helper);
}

static void receive_one(node_t *n, store_txn *txn, ProtobufCAllocator *mem, apply_item *it,
                        receive_state *st)
{
    apply_reply *r = &it->reply;
    const char *where;
    if (it->len > (size_t)n->cfg.max_msg_bytes)
        it->rc = receive_refuse(r, TIERSYNC__REASON__REASON_TOO_LARGE, 0, &it->err,
                                "message of %zu bytes from %s exceeds max_message_bytes", it->len,
                                it->child);
    else if (!(st->env = tiersync__envelope__unpack(mem, it->len, it->data)))
        it->rc = receive_refuse(r, TIERSYNC__REASON__REASON_MALFORMED, 0, &it->err,
                                "undecodable message from %s", it->child);
    else if (!wire_text_ok(&tiersync__envelope__descriptor, it->data, it->len, &where))
        it->rc = receive_refuse(r, TIERSYNC__REASON__REASON_MALFORMED, 0, &it->err,
                                "field %s of a message from %s is not UTF-8 text without NUL bytes",
                                where, it->child);
    else if ((st->hello = st->env->msg_case == TIERSYNC__ENVELOPE__MSG_HELLO))
        it->rc = TS_OK; /* answered in the write transaction, which sees the newest seq */
    else if (st->env->msg_case == TIERSYNC__ENVELOPE__MSG_DELTA)
        it->rc = prepare_delta(n, txn, it->child, st, r, &it->err);
    else
        it->rc = receive_refuse(r, TIERSYNC__REASON__REASON_MALFORMED, 0, &it->err,
                                "unexpected message type %d from %s", (int)st->env->msg_case,
                                it->child);
    if (r->kind == TIERSYNC__ENVELOPE__MSG_NACK && !r->seq) { /* tell the expected seq */
        store_child ch;
        if (store_child_get(n->store, txn, it->child, &ch) == TS_OK)
            r->seq = ch.last_seq + 1;
    }
}

/* Decode and the enrolled key (read-only), every signature (two threads),
 * then body, origin and cell codes. */
void receive_batch(node_t *n, ProtobufCAllocator *mem, apply_item *items, receive_state *st,
                   size_t from, size_t count)
{
    store_txn *txn = NULL;
    ts_err e = {0};
    bool readable = store_read_begin(n->store, &txn, &e) == TS_OK;
    for (size_t i = from; i < count; i++) {
        memset(&items[i].reply, 0, sizeof items[i].reply);
        items[i].err.msg[0] = '\0';
        if (readable)
            receive_one(n, txn, mem, &items[i], &st[i]);
        else
            items[i].rc = ts_fail(&items[i].err, TS_ERUNTIME, "%s", e.msg);
    }
    store_read_end(txn);
    verify_all(n, st + from, count - from);
    for (size_t i = from; i < count; i++)
        if (st[i].to_verify)
            items[i].rc = check_delta(n, items[i].child, &st[i], mem, &items[i].reply,
                                      &items[i].err);
}
