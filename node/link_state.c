/* link_state.c: the parent link's and the children's state (see link_state.h). */
#include "link_state.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apply_stage.h"
#include "audit_checkpoint.h"
#include "audit_folded.h"
#include "audit_log.h"
#include "clock.h"
#include "outbox.h"
#include "rotate.h"

void link_state_parent(store_t *s, store_txn *txn, link_parent *p)
{
    memset(p, 0, sizeof *p);
    p->connected = store_meta_u64(s, txn, LINK_META_CONNECTED) != 0;
    store_val v;
    if (store_get(s, txn, DB_META, LINK_META_PARENT_CODE, strlen(LINK_META_PARENT_CODE), &v,
                  NULL) == TS_OK &&
        v.len < sizeof p->code)
        memcpy(p->code, v.data, v.len), p->code[v.len] = '\0';
    p->head_seq = store_meta_u64(s, txn, LINK_META_HEAD_SEQ);
    p->acked_seq = store_meta_u64(s, txn, LINK_META_ACKED_SEQ);
    p->unacked = p->head_seq > p->acked_seq ? p->head_seq - p->acked_seq : 0;
    p->outbox_deltas = outbox_count(s, txn);
    p->pending_cells = store_count(s, txn, DB_PENDING);
    p->last_ack_ms = (int64_t)store_meta_u64(s, txn, LINK_META_LAST_ACK_MS);
}

const char *link_child_state_name(link_child_state st)
{
    static const char *const names[] = {"never", "late", "behind", "current"};
    return (unsigned)st < sizeof names / sizeof *names ? names[st] : "never";
}

link_child_state link_child_state_of(const store_child *ch, int64_t now_ms, int late_after_s)
{
    if (!ch->last_seen_ms)
        return LINK_CHILD_NEVER;
    if (now_ms - ch->last_seen_ms > (int64_t)late_after_s * 1000)
        return LINK_CHILD_LATE;
    return ch->reported_head > ch->last_seq ? LINK_CHILD_BEHIND : LINK_CHILD_CURRENT;
}

static void fill_child(link_child *c, store_t *s, store_txn *txn, const store_child *ch,
                       int64_t now_ms, int late_after_s)
{
    c->rec = *ch;
    c->clock_offset_s = clock_child_offset(s, txn, c->code);
    c->state = link_child_state_of(ch, now_ms, late_after_s);
    c->behind = ch->reported_head > ch->last_seq ? ch->reported_head - ch->last_seq : 0;
}

int link_state_child(store_t *s, store_txn *txn, const char *code, int64_t now_ms, int late_after_s,
                     link_child *out)
{
    memset(out, 0, sizeof *out);
    store_child ch;
    if (strlen(code) >= sizeof out->code || store_child_get(s, txn, code, &ch) != TS_OK)
        return TS_ENOTFOUND;
    snprintf(out->code, sizeof out->code, "%s", code);
    fill_child(out, s, txn, &ch, now_ms, late_after_s);
    return TS_OK;
}

typedef struct {
    store_t *s;
    store_txn *txn;
    int64_t now_ms;
    int late_after_s;
    link_child_fn fn;
    void *ctx;
} children_ctx;

static int on_child(const store_val *k, const store_val *v, void *vctx)
{
    children_ctx *cc = vctx;
    link_child c = {0};
    if (v->len != sizeof c.rec || k->len >= sizeof c.code)
        return 0;
    memcpy(c.code, k->data, k->len);
    store_child ch;
    memcpy(&ch, v->data, sizeof ch);
    fill_child(&c, cc->s, cc->txn, &ch, cc->now_ms, cc->late_after_s);
    cc->fn(&c, cc->ctx);
    return 0;
}

int link_state_children(store_t *s, store_txn *txn, int64_t now_ms, int late_after_s,
                        link_child_fn fn, void *ctx, ts_err *e)
{
    children_ctx cc = {s, txn, now_ms, late_after_s, fn, ctx};
    return store_scan(s, txn, DB_CHILDREN, NULL, on_child, &cc, NULL, e);
}

/* ---- removal ---- */

typedef struct {
    const char *code;
    char (*units)[TS_CODE_MAX];
    size_t nunits;
    bool oom;
} via_ctx;

static int collect_via(const store_val *k, const store_val *v, void *vctx)
{
    via_ctx *c = vctx;
    store_unit u;
    if (!store_unit_decode(v, &u) || k->len >= TS_CODE_MAX || strcmp(u.via, c->code) != 0)
        return 0;
    char(*more)[TS_CODE_MAX] = realloc(c->units, (c->nunits + 1) * sizeof *c->units);
    if (!more)
        return c->oom = true, 1;
    c->units = more;
    memcpy(c->units[c->nunits], k->data, k->len);
    c->units[c->nunits++][k->len] = '\0';
    return 0;
}

/* Forgets the units that came through child code. */
static int drop_units(store_t *s, store_txn *txn, const char *code, ts_err *e)
{
    via_ctx c = {.code = code};
    int rc = store_scan(s, txn, DB_UNITS, NULL, collect_via, &c, NULL, e);
    if (rc == TS_OK && c.oom)
        rc = ts_fail(e, TS_ERUNTIME,
                     "out of memory collecting the units of child %s; nothing "
                     "was removed",
                     code);
    for (size_t i = 0; rc == TS_OK && i < c.nunits; i++)
        if (store_del(s, txn, DB_UNITS, c.units[i], strlen(c.units[i]), e) ||
            store_del(s, txn, DB_ANNOUNCE, c.units[i], strlen(c.units[i]), e))
            rc = e->code;
    free(c.units);
    return rc;
}

/* Deletes the child's "CODE|" range of the audit trail and its checkpoints. */
static int drop_audit(store_t *s, store_txn *txn, const char *code, ts_err *e)
{
    char prefix[TS_CODE_MAX + 1];
    snprintf(prefix, sizeof prefix, "%s|", code);
    if (audit_log_drop(s, txn, prefix, e) || audit_folded_del(s, txn, code, e))
        return e->code;
    return audit_checkpoint_forget(s, txn, code, e);
}

int link_state_remove_child(store_t *s, store_txn *txn, const char *code, bool purge, ts_err *e)
{
    store_child ch;
    if (store_child_get(s, txn, code, &ch) != TS_OK)
        return ts_fail(e, TS_EINPUT, "no child %s is enrolled (see 'tiersync child list')", code);
    /* a snapshot it had not finished sending is never applied */
    if (store_del(s, txn, DB_CHILDREN, code, strlen(code), e) || apply_stage_clear(s, txn, code, e))
        return e->code;
    if (!purge)
        return TS_OK;
    if (store_drop_contribution(s, txn, code, e) ||
        store_del(s, txn, DB_COVERS, code, strlen(code), e) || drop_audit(s, txn, code, e) ||
        rotate_forget(s, txn, code, e))
        return e->code;
    return drop_units(s, txn, code, e);
}
