/* join.c: the parent's join socket and the enrolment of a joining child
 * (see join.h). */
#include "join.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "enrol.h"
#include "invite.h"
#include "join_wire.h"
#include "log.h"

#define JOIN_ADDR_MAX 64

typedef struct {
    char addr[JOIN_ADDR_MAX];
    int fails;
    int64_t until_ms; /* no join from it is looked at before */
    bool told;        /* its wait has been logged (once per wait: no log flood) */
} join_slot;

struct join {
    node_t *n;
    void *zctx, *router;
    int64_t next_check_ms;
    bool warned; /* about a join.listen that cannot be bound */
    join_slot slots[JOIN_ADDR_SLOTS];
    int global_left;        /* failures allowed now, over all addresses */
    int64_t refill_at_ms;   /* when global_left next grows */
    int64_t global_told_ms; /* the spent budget was last logged */
};

int join_start(join_t **out, node_t *n, ts_err *e)
{
    join_t *j = calloc(1, sizeof *j);
    j->n = n;
    j->global_left = JOIN_GLOBAL_FAILS;
    j->zctx = zmq_ctx_new();
    if (!j->zctx) {
        free(j);
        return ts_fail(e, TS_ERUNTIME, "cannot create a ZeroMQ context for joining: %s",
                       zmq_strerror(zmq_errno()));
    }
    *out = j;
    return TS_OK;
}

static void close_socket(join_t *j)
{
    if (j->router)
        zmq_close(j->router);
    j->router = NULL;
}

void join_stop(join_t **jp)
{
    join_t *j = *jp;
    if (!j)
        return;
    close_socket(j);
    zmq_ctx_term(j->zctx);
    free(j);
    *jp = NULL;
}

void *join_socket(join_t *j)
{
    return j ? j->router : NULL;
}

static int open_socket(join_t *j, ts_err *e)
{
    char adv[CONFIG_ENDPOINT_MAX], ep[CONFIG_ENDPOINT_MAX], secret[KEYS_Z85_LEN];
    uint16_t port;
    int64_t maxmsg = JOIN_MSG_MAX;
    int on = 1, linger = JOIN_LINGER_MS;
    if (invite_endpoints(&j->n->cfg, adv, ep, &port, e) ||
        keys_curve_secret_z85(&j->n->keys, secret, e))
        return e->code;
    j->router = zmq_socket(j->zctx, ZMQ_ROUTER);
    int bad = !j->router || zmq_setsockopt(j->router, ZMQ_CURVE_SERVER, &on, sizeof on) ||
        zmq_setsockopt(j->router, ZMQ_CURVE_SECRETKEY, secret, KEYS_Z85_LEN - 1) ||
        zmq_setsockopt(j->router, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg) ||
        zmq_setsockopt(j->router, ZMQ_LINGER, &linger, sizeof linger) ||
        zmq_bind(j->router, ep) != 0;
    sodium_memzero(secret, sizeof secret);
    if (bad) {
        ts_fail(e, TS_ERUNTIME,
                "cannot listen for joining children on %s: %s (check "
                "join.listen and that no other process uses the port)",
                ep, zmq_strerror(zmq_errno()));
        close_socket(j);
        return TS_ERUNTIME;
    }
    log_info("join socket open on %s: invitations are outstanding", ep);
    return TS_OK;
}

int join_tick(join_t *j)
{
    int64_t now = ts_mono_ms();
    if (now < j->next_check_ms)
        return (int)(j->next_check_ms - now);
    j->next_check_ms = now + JOIN_CHECK_MS;
    store_txn *txn;
    ts_err e = {0};
    if (store_read_begin(j->n->store, &txn, &e) != TS_OK)
        return JOIN_CHECK_MS;
    uint64_t usable;
    int rc = invite_count_usable(j->n->store, txn, ts_now_ms(), &usable, &e);
    store_read_end(txn);
    if (rc != TS_OK) { /* the socket stays as it is until the table reads again */
        log_warn("%s", e.msg);
        return JOIN_CHECK_MS;
    }
    bool want = usable > 0;
    if (want && !j->router) {
        if (open_socket(j, &e) != TS_OK && !j->warned)
            log_warn("%s", e.msg);
        j->warned = !j->router;
    } else if (!want && j->router) {
        close_socket(j);
        log_info("join socket closed: no invitation is outstanding");
    }
    return JOIN_CHECK_MS;
}

/* The slot remembering addr: its own, else a free or expired one, else the
 * one whose wait ends first. */
static join_slot *slot_of(join_t *j, const char *addr, int64_t now)
{
    join_slot *best = &j->slots[0];
    for (int i = 0; i < JOIN_ADDR_SLOTS; i++) {
        join_slot *s = &j->slots[i];
        if (!strcmp(s->addr, addr))
            return s;
        if (s->until_ms < best->until_ms)
            best = s;
    }
    if (best->until_ms > now)
        log_warn("join: more than %d addresses are slowed down; forgetting %s's failures",
                 JOIN_ADDR_SLOTS, best->addr);
    memset(best, 0, sizeof *best);
    snprintf(best->addr, sizeof best->addr, "%s", addr);
    return best;
}

/* ms addr must still wait (0: it may try now); *log: whether to log this
 * wait (once per address and wait, once per refill for the shared budget). */
static int64_t must_wait(join_t *j, const char *addr, int64_t now, bool *log)
{
    while (j->global_left < JOIN_GLOBAL_FAILS && now >= j->refill_at_ms) {
        j->global_left++;
        j->refill_at_ms += JOIN_GLOBAL_REFILL_MS;
    }
    int64_t wait = j->global_left > 0 ? 0 : j->refill_at_ms - now;
    *log = wait > 0 && now - j->global_told_ms >= JOIN_GLOBAL_REFILL_MS;
    if (*log)
        j->global_told_ms = now;
    for (int i = 0; i < JOIN_ADDR_SLOTS; i++) {
        join_slot *s = &j->slots[i];
        if (strcmp(s->addr, addr) != 0 || s->until_ms - now <= wait)
            continue;
        wait = s->until_ms - now;
        *log = !s->told;
        s->told = true;
    }
    return wait;
}

static void note_failure(join_t *j, const char *addr, int64_t now)
{
    join_slot *s = slot_of(j, addr, now);
    int shift = s->fails < JOIN_MAX_DOUBLINGS ? s->fails : JOIN_MAX_DOUBLINGS;
    s->fails++;
    s->until_ms = now + ((int64_t)j->n->cfg.join_slow_down_ms << shift);
    s->told = false;
    if (j->global_left == JOIN_GLOBAL_FAILS)
        j->refill_at_ms = now + JOIN_GLOBAL_REFILL_MS;
    if (j->global_left > 0)
        j->global_left--;
}

static void forget_failures(join_t *j, const char *addr)
{
    for (int i = 0; i < JOIN_ADDR_SLOTS; i++)
        if (!strcmp(j->slots[i].addr, addr))
            memset(&j->slots[i], 0, sizeof j->slots[i]);
}

typedef struct {
    const join_request *rq;
    const uint8_t *parent_pk;
    Tiersync__JoinOutcome outcome;
    char detail[TS_ERR_MSG_MAX];
    char name[CONFIG_NAME_MAX];
    bool existed;
} join_txn_ctx;

static int refuse(join_txn_ctx *c, Tiersync__JoinOutcome o, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int refuse(join_txn_ctx *c, Tiersync__JoinOutcome o, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    c->outcome = o;
    vsnprintf(c->detail, sizeof c->detail, fmt, ap);
    va_end(ap);
    return TS_OK;
}

/* The invitation was used by this very key: its reply was lost, and it asks
 * again. Answered as enrolled while the key still is; once removed
 * (`child remove`), replaying the Join must not bring it back. */
static bool still_enrolled(store_t *s, store_txn *txn, const char *code, const uint8_t *key)
{
    store_child ch;
    return store_child_get(s, txn, code, &ch) == TS_OK &&
        sodium_memcmp(ch.pk, key, sizeof ch.pk) == 0;
}

/* Checks the request against its invitation and, if it holds, enrols the
 * key and closes the invitation, in one transaction. */
static int join_txn(store_t *s, store_txn *txn, void *vctx, ts_err *e)
{
    join_txn_ctx *c = vctx;
    const char *code = c->rq->code;
    invite_record rec;
    c->outcome = TIERSYNC__JOIN_OUTCOME__JOIN_ENROLLED;
    c->detail[0] = c->name[0] = '\0';
    if (invite_get(s, txn, code, &rec) != TS_OK)
        return refuse(c, TIERSYNC__JOIN_OUTCOME__JOIN_NO_INVITATION,
                      "no invitation was made for %s here: check the invitation's code", code);
    if (!join_invite_signed(c->rq, c->parent_pk, rec.verifier))
        return refuse(c, TIERSYNC__JOIN_OUTCOME__JOIN_BAD_PROOF,
                      "the request does not prove the secret of the invitation for %s: a wrong "
                      "code, a mistyped or forged invitation, or one made again since",
                      code);
    bool again = rec.state == INVITE_USED &&
        sodium_memcmp(rec.used_by, c->rq->key, sizeof rec.used_by) == 0 &&
        still_enrolled(s, txn, code, c->rq->key);
    if (rec.state == INVITE_USED && !again)
        return refuse(c, TIERSYNC__JOIN_OUTCOME__JOIN_USED,
                      "the invitation for %s has already been used: ask for a new one", code);
    if (rec.state == INVITE_REVOKED)
        return refuse(c, TIERSYNC__JOIN_OUTCOME__JOIN_REVOKED,
                      "the invitation for %s was revoked: ask for a new one", code);
    if (!again && ts_now_ms() >= rec.expires_ms)
        return refuse(c, TIERSYNC__JOIN_OUTCOME__JOIN_EXPIRED,
                      "the invitation for %s has expired: ask for a new one", code);
    snprintf(c->name, sizeof c->name, "%s", rec.name);
    int rc = enrol_child(s, txn, code, c->rq->key, &c->existed, e);
    if (rc == TS_EINPUT) {
        c->outcome = TIERSYNC__JOIN_OUTCOME__JOIN_NOT_ENROLLED;
        snprintf(c->detail, sizeof c->detail, "%s", e->msg);
        return TS_EINPUT; /* aborts: the invitation stays open */
    }
    if (rc || again)
        return rc;
    rec.state = INVITE_USED;
    rec.closed_ms = ts_now_ms();
    memcpy(rec.used_by, c->rq->key, sizeof rec.used_by);
    return invite_put(s, txn, code, &rec, e);
}

static void send_reply(join_t *j, zmq_msg_t *id, const join_request *rq, join_txn_ctx *c,
                       int64_t retry_after)
{
    Tiersync__JoinResult res = TIERSYNC__JOIN_RESULT__INIT;
    res.outcome = c->outcome;
    res.detail = c->detail;
    res.parent_code = j->n->cfg.code;
    res.code = (char *)rq->code;
    res.key = (ProtobufCBinaryData){sizeof rq->key, (uint8_t *)rq->key};
    res.request_hash = (ProtobufCBinaryData){sizeof rq->hash, (uint8_t *)rq->hash};
    res.name = c->name;
    res.retry_after_ms = (uint32_t)retry_after;
    uint8_t *out;
    size_t len;
    join_pack_reply(&j->n->keys, &res, &out, &len);
    zmq_send(j->router, zmq_msg_data(id), zmq_msg_size(id), ZMQ_SNDMORE);
    zmq_send(j->router, out, len, 0);
    free(out);
}

/* Answers one Join from addr; returns 1 when it enrolled a child. */
static int handle(join_t *j, zmq_msg_t *id, const uint8_t *data, size_t len, const char *addr)
{
    int64_t now = ts_mono_ms();
    join_request rq;
    join_txn_ctx c = {.rq = &rq, .parent_pk = j->n->keys.pk};
    bool log_wait;
    int64_t wait = must_wait(j, addr, now, &log_wait);
    c.outcome = join_parse_request(data, len, j->n->keys.pk, &rq);
    if (wait > 0) {
        c.outcome = TIERSYNC__JOIN_OUTCOME__JOIN_SLOW_DOWN;
        snprintf(c.detail, sizeof c.detail, "too many failed joins: try again in %lld ms",
                 (long long)wait);
        if (log_wait)
            log_warn("join from %s for %s: not looked at, its address must wait %lld ms after "
                     "failed joins (further tries meanwhile are not logged)",
                     addr, rq.code[0] ? rq.code : "?", (long long)wait);
    } else if (c.outcome != TIERSYNC__JOIN_OUTCOME__JOIN_ENROLLED) {
        snprintf(c.detail, sizeof c.detail, "%s",
                 c.outcome == TIERSYNC__JOIN_OUTCOME__JOIN_MALFORMED
                     ? "the request is not a well-formed Join"
                     : "the request is not signed by the key it asks to enrol");
    } else {
        ts_err e = {0};
        int rc = store_write(j->n->store, join_txn, &c, &e);
        if (rc != TS_OK && c.outcome == TIERSYNC__JOIN_OUTCOME__JOIN_ENROLLED) {
            c.outcome = TIERSYNC__JOIN_OUTCOME__JOIN_NOT_ENROLLED;
            snprintf(c.detail, sizeof c.detail,
                     "the parent could not record the enrolment "
                     "(try again later): %.900s",
                     e.msg);
        }
    }
    bool ok = c.outcome == TIERSYNC__JOIN_OUTCOME__JOIN_ENROLLED;
    if (ok) {
        char fp[KEYS_FINGERPRINT_LEN];
        keys_fingerprint(rq.key, fp);
        forget_failures(j, addr);
        log_info("child %s joined from %s with key fingerprint %s%s", rq.code, addr, fp,
                 c.existed ? " (already enrolled: its reply had been lost)" : "");
    } else if (c.outcome != TIERSYNC__JOIN_OUTCOME__JOIN_SLOW_DOWN) {
        note_failure(j, addr, now);
        log_warn("join from %s for %s refused (%s): %s", addr, rq.code[0] ? rq.code : "?",
                 join_outcome_name(c.outcome), c.detail);
    }
    send_reply(j, id, &rq, &c, wait);
    join_request_free(&rq);
    return ok && !c.existed;
}

int join_on_message(join_t *j)
{
    int enrolled = 0;
    for (;;) {
        zmq_msg_t id, body;
        zmq_msg_init(&id);
        zmq_msg_init(&body);
        if (!j->router || zmq_msg_recv(&id, j->router, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&id);
            zmq_msg_close(&body);
            return enrolled;
        }
        bool one = zmq_msg_more(&id) && zmq_msg_recv(&body, j->router, 0) >= 0 &&
            !zmq_msg_more(&body);
        for (int more = zmq_msg_more(&body); more;) { /* one frame per message: drop extras */
            zmq_msg_t extra;
            zmq_msg_init(&extra);
            zmq_msg_recv(&extra, j->router, 0);
            more = zmq_msg_more(&extra);
            zmq_msg_close(&extra);
        }
        const char *addr = one ? zmq_msg_gets(&body, "Peer-Address") : NULL;
        if (one)
            enrolled += handle(j, &id, zmq_msg_data(&body), zmq_msg_size(&body), addr ? addr : "?");
        zmq_msg_close(&id);
        zmq_msg_close(&body);
    }
}
