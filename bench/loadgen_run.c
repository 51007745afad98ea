/* loadgen_run.c: the children's side of the protocol, for many children at
 * once: Hello/Welcome, prepared signed chains, the send/ack loop with a
 * window per child or a global rate, and the watch of a node's store. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>
#include <zmq.h>

#include "delta.h"
#include "loadgen.h"

#define LG_IDLE_POLL_MS 20
#define LG_SWEEP_S 0.02 /* every socket is read this often, whatever epoll says */
#define LG_EVENTS 256

struct lg_watch {
    node_t n;
    size_t nt, nroot; /* targets; the first nroot are the watched node's own roll-ups */
    char (*key)[CELL_KEY_MAX];
    size_t *klen;
    int64_t *target;
};

static double mono_s(void)
{
    return (double)ts_mono_us() / 1e6;
}

void lg_send_hello(lg_child *c)
{
    uint8_t zero[DELTA_HASH_BYTES] = {0};
    uint8_t *buf;
    size_t len;
    wire_pack_hello(c->code, c->keys.pk, 0, zero, &buf, &len);
    zmq_send(c->sock, buf, len, ZMQ_DONTWAIT);
    free(buf);
    c->hello_ms = ts_mono_ms();
}

static Tiersync__Envelope *recv_env(lg_child *c)
{
    zmq_msg_t m;
    zmq_msg_init(&m);
    if (zmq_msg_recv(&m, c->sock, ZMQ_DONTWAIT) < 0) {
        zmq_msg_close(&m);
        return NULL;
    }
    Tiersync__Envelope *env = tiersync__envelope__unpack(NULL, zmq_msg_size(&m), zmq_msg_data(&m));
    zmq_msg_close(&m);
    return env;
}

static zmq_pollitem_t *poll_items(lg_t *g, int from, int to)
{
    zmq_pollitem_t *items = calloc((size_t)(to - from), sizeof *items);
    for (int i = from; i < to; i++)
        items[i - from] = (zmq_pollitem_t){g->kids[i].sock, 0, ZMQ_POLLIN, 0};
    return items;
}

int lg_welcome(lg_t *g, int from, int to, int64_t deadline_ms, ts_err *e)
{
    int waiting = to - from, rc = TS_OK;
    zmq_pollitem_t *items = poll_items(g, from, to);
    while (waiting > 0 && rc == TS_OK && ts_mono_ms() < deadline_ms) {
        zmq_poll(items, to - from, LG_IDLE_POLL_MS * 5);
        int64_t now = ts_mono_ms();
        for (int i = from; i < to && rc == TS_OK; i++) {
            lg_child *c = &g->kids[i];
            Tiersync__Envelope *env;
            while (rc == TS_OK && (items[i - from].revents & ZMQ_POLLIN) && (env = recv_env(c))) {
                if (env->msg_case == TIERSYNC__ENVELOPE__MSG_WELCOME && !c->welcomed) {
                    c->welcomed = true;
                    c->base_seq = env->welcome->last_seq;
                    if (env->welcome->last_hash.len == DELTA_HASH_BYTES)
                        memcpy(c->base_hash, env->welcome->last_hash.data, DELTA_HASH_BYTES);
                    waiting--;
                } else if (env->msg_case == TIERSYNC__ENVELOPE__MSG_NACK) {
                    rc = ts_fail(e, TS_EINPUT, "child %s: the parent refused its hello (%s: %s)",
                                 c->code, delta_reason_name(env->nack->reason, "?"),
                                 env->nack->detail ? env->nack->detail : "");
                }
                tiersync__envelope__free_unpacked(env, NULL);
            }
            if (!c->welcomed && now - c->hello_ms > LG_HELLO_RETRY_MS)
                lg_send_hello(c);
        }
    }
    free(items);
    if (rc == TS_OK && waiting > 0)
        rc = ts_fail(e, TS_ERUNTIME,
                     "%d of %d children were not welcomed within %.0f s: are "
                     "they enrolled at their parent (tiersync child add) and is it running?",
                     waiting + (g->nkids - to), g->nkids, g->opt.connect_s);
    return rc;
}

/* The pool index of cell j of the delta with seq: each child rotates
 * through its distinct cells, continuing across runs. */
static size_t cell_index(const lg_t *g, uint64_t seq, int j)
{
    return (size_t)(((seq - 1) * (uint64_t)g->opt.cells + (uint64_t)j) % g->pool.n);
}

static void prepare_child(lg_t *g, lg_child *c, uint32_t n)
{
    c->n = n;
    c->msg = calloc(n ? n : 1, sizeof *c->msg);
    c->len = calloc(n ? n : 1, sizeof *c->len);
    c->sent_us = calloc(n ? n : 1, sizeof *c->sent_us);
    uint8_t prev[DELTA_HASH_BYTES];
    memcpy(prev, c->base_hash, sizeof prev);
    for (uint32_t i = 0; i < n; i++) {
        uint64_t seq = c->base_seq + 1 + i;
        delta_builder *b = delta_builder_new(c->code, c->keys.pk, seq, prev, g->cat->id,
                                             (uint32_t)g->cat->version, false);
        if (seq == 1) {
            char name[TS_CODE_MAX + 16];
            snprintf(name, sizeof name, "Load child %s", c->code);
            delta_add_unit(b, c->code, name, "commune", "");
        }
        for (int j = 0; j < g->opt.cells; j++) {
            ts_cell cell = g->pool.cells[cell_index(g, seq, j)];
            snprintf(cell.unit, sizeof cell.unit, "%s", c->code);
            delta_add_cell(b, &cell, (disclose_fig){1, 0x9e3779b9u});
        }
        delta_finish(b, &c->keys, &c->msg[i], &c->len[i], prev);
        delta_builder_destroy(&b);
    }
}

int lg_prepare(lg_t *g, ts_err *e)
{
    double t0 = mono_s();
    long per = g->opt.count / g->nkids, extra = g->opt.count % g->nkids;
    for (int i = 0; i < g->nkids; i++)
        prepare_child(g, &g->kids[i], (uint32_t)(per + (i < extra)));
    g->st.lat_ms = calloc((size_t)g->opt.count, sizeof *g->st.lat_ms);
    g->st.prepare_ms = (mono_s() - t0) * 1000;
    return TS_OK;
}

/* cnt[child * pool.n + index]: +1s of the first upto(child) deltas. */
static uint32_t *tally(const lg_t *g, bool acked_only)
{
    uint32_t *cnt = calloc((size_t)g->nkids * g->pool.n, sizeof *cnt);
    for (int i = 0; i < g->nkids; i++) {
        const lg_child *c = &g->kids[i];
        uint32_t upto = acked_only ? c->acked : c->n;
        for (uint32_t d = 0; d < upto; d++)
            for (int j = 0; j < g->opt.cells; j++)
                cnt[(size_t)i * g->pool.n + cell_index(g, c->base_seq + 1 + d, j)]++;
    }
    return cnt;
}

static void watch_add(lg_watch *w, const ts_cell *cell, int64_t add)
{
    w->klen[w->nt] = cell_key(cell, w->key[w->nt]);
    w->target[w->nt++] = add;
}

int lg_watch_open(lg_t *g, ts_err *e)
{
    lg_watch *w = g->watch = calloc(1, sizeof *w);
    if (node_open(&w->n, g->opt.watch, 0, e))
        return ts_err_wrap(e, "--watch %s", g->opt.watch);
    uint32_t *cnt = tally(g, false);
    size_t cap = g->pool.n * (size_t)(g->nkids + 1);
    w->key = malloc(cap * sizeof *w->key);
    w->klen = malloc(cap * sizeof *w->klen);
    w->target = malloc(cap * sizeof *w->target);
    for (size_t k = 0; k < g->pool.n; k++) { /* the watched node's own roll-up first */
        int64_t sum = 0;
        for (int i = 0; i < g->nkids; i++)
            sum += cnt[(size_t)i * g->pool.n + k];
        ts_cell cell = g->pool.cells[k];
        snprintf(cell.unit, sizeof cell.unit, "%s", w->n.cfg.code);
        if (sum)
            watch_add(w, &cell, sum);
    }
    w->nroot = w->nt;
    for (int i = 0; i < g->nkids; i++)
        for (size_t k = 0; k < g->pool.n; k++)
            if (cnt[(size_t)i * g->pool.n + k]) {
                ts_cell cell = g->pool.cells[k];
                snprintf(cell.unit, sizeof cell.unit, "%s", g->kids[i].code);
                watch_add(w, &cell, cnt[(size_t)i * g->pool.n + k]);
            }
    free(cnt);
    store_txn *txn;
    if (store_read_begin(w->n.store, &txn, e))
        return e->code;
    for (size_t t = 0; t < w->nt; t++)
        w->target[t] += store_total(w->n.store, txn, w->key[t], w->klen[t]).v;
    store_read_end(txn);
    return TS_OK;
}

/* True when every watched total has reached its target. */
static bool watch_exact(lg_watch *w)
{
    store_txn *txn;
    ts_err e;
    if (store_read_begin(w->n.store, &txn, &e))
        return false;
    bool ok = true;
    for (size_t t = 0; t < w->nt && ok; t++)
        ok = store_total(w->n.store, txn, w->key[t], w->klen[t]).v == w->target[t];
    store_read_end(txn);
    return ok;
}

static void on_ack(lg_t *g, lg_child *c, uint64_t seq, double now)
{
    if (seq <= c->base_seq + c->acked)
        return;
    uint64_t upto = seq - c->base_seq;
    if (upto > c->next) /* never beyond what was sent */
        upto = c->next;
    for (uint32_t i = c->acked; i < upto; i++)
        if (g->st.nlat < (size_t)g->opt.count)
            g->st.lat_ms[g->st.nlat++] = (now * 1e6 - (double)c->sent_us[i]) / 1000;
    g->st.acked += upto - c->acked;
    c->acked = (uint32_t)upto;
    g->st.t_last_ack = now;
}

static void on_nack(lg_t *g, lg_child *c, const Tiersync__Nack *nk)
{
    g->st.nacks++;
    uint64_t idx = nk->expected > c->base_seq ? nk->expected - c->base_seq - 1 : 0;
    if (nk->reason == TIERSYNC__REASON__REASON_GAP && nk->expected > c->base_seq &&
        idx >= c->acked && idx <= c->next) {
        c->next = (uint32_t)idx; /* resend from what the parent expects */
        return;
    }
    fprintf(stderr, "loadgen: child %s: the parent refused a delta (%s, expects seq %llu): %s\n",
            c->code, delta_reason_name(nk->reason, "?"), (unsigned long long)nk->expected,
            nk->detail ? nk->detail : "");
    c->failed = true;
    g->st.errors++;
}

static void receive(lg_t *g, lg_child *c)
{
    Tiersync__Envelope *env;
    while ((env = recv_env(c))) {
        if (env->msg_case == TIERSYNC__ENVELOPE__MSG_ACK)
            on_ack(g, c, env->ack->seq, mono_s());
        else if (env->msg_case == TIERSYNC__ENVELOPE__MSG_NACK)
            on_nack(g, c, env->nack);
        tiersync__envelope__free_unpacked(env, NULL);
    }
}

static bool can_send(const lg_t *g, const lg_child *c)
{
    return !c->failed && c->next < c->n && c->next - c->acked < (uint32_t)g->opt.window;
}

static bool send_one(lg_t *g, lg_child *c)
{
    if (zmq_send(c->sock, c->msg[c->next], c->len[c->next], ZMQ_DONTWAIT) < 0)
        return false;
    c->sent_us[c->next++] = ts_mono_us();
    g->st.sent++;
    return true;
}

/* As fast as acks allow: fill every window. At a rate: one per child per
 * pass, round robin, while the rate allows. A send may take the socket's
 * readiness signal with it (libzmq's ZMQ_FD is edge-like), so a child sent
 * to is read at once. */
static void send_some(lg_t *g, double now, int *rr)
{
    if (g->opt.rate <= 0) {
        for (int i = 0; i < g->nkids; i++) {
            bool sent = false;
            while (can_send(g, &g->kids[i]) && send_one(g, &g->kids[i]))
                sent = true;
            if (sent)
                receive(g, &g->kids[i]);
        }
        return;
    }
    long allowed = (long)(g->opt.rate * (now - g->st.t0)) + 1 - (long)g->st.sent;
    bool progress = true;
    while (allowed > 0 && progress) {
        progress = false;
        for (int k = 0; k < g->nkids && allowed > 0; k++) {
            lg_child *c = &g->kids[(*rr + k) % g->nkids];
            if (can_send(g, c) && send_one(g, c)) {
                allowed--, progress = true;
                receive(g, c);
            }
        }
        *rr = (*rr + 1) % g->nkids;
    }
}

/* unsent: prepared but not yet sent; inflight: sent, not acknowledged. */
static void outstanding(const lg_t *g, uint64_t *unsent, uint64_t *inflight)
{
    *unsent = *inflight = 0;
    for (int i = 0; i < g->nkids; i++) {
        const lg_child *c = &g->kids[i];
        if (c->failed)
            continue;
        *unsent += c->n - c->next;
        *inflight += c->next - c->acked;
    }
}

/* An epoll set over the children's ZMQ_FD signals: zmq_poll over a
 * thousand sockets costs the generator more CPU than the traffic does. */
static int watch_fds(lg_t *g)
{
    int ep = epoll_create1(EPOLL_CLOEXEC);
    for (int i = 0; ep >= 0 && i < g->nkids; i++) {
        int fd;
        size_t sz = sizeof fd;
        struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
        if (zmq_getsockopt(g->kids[i].sock, ZMQ_FD, &fd, &sz) != 0 ||
            epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
            close(ep);
            return -1;
        }
    }
    return ep;
}

int lg_loop(lg_t *g, ts_err *e)
{
    int ep = watch_fds(g);
    if (ep < 0)
        return ts_fail(e, TS_ERUNTIME, "cannot watch the children's sockets (epoll)");
    struct epoll_event evs[LG_EVENTS];
    double t0 = g->st.t0 = g->st.t_last_ack = mono_s(), swept = t0;
    int64_t cpu0 = ts_cpu_us();
    double stop_sending = t0 + g->opt.duration_s, give_up = 0;
    int rr = 0, rc = TS_OK;
    bool watching = g->watch != NULL;
    for (;;) {
        double now = mono_s();
        if (now < stop_sending)
            send_some(g, now, &rr);
        uint64_t unsent, inflight;
        outstanding(g, &unsent, &inflight);
        if (watching && watch_exact(g->watch)) {
            watching = false;
            g->st.watch_done = 1;
            g->st.watch_ms = (mono_s() - t0) * 1000;
        }
        bool sending = now < stop_sending && unsent > 0;
        if (!sending && inflight == 0 && !watching)
            break;
        if (!sending && give_up == 0)
            give_up = now + g->opt.drain_s;
        if (give_up > 0 && now > give_up) {
            rc = ts_fail(e, TS_ERUNTIME,
                         "%llu deltas still unacknowledged%s %.0f s after "
                         "sending stopped",
                         (unsigned long long)inflight,
                         watching ? " or the watched store not exact" : "", g->opt.drain_s);
            break;
        }
        int timeout = (g->opt.rate > 0 && sending) || watching ? 1 : LG_IDLE_POLL_MS;
        int n = epoll_wait(ep, evs, LG_EVENTS, timeout);
        for (int i = 0; i < n; i++)
            receive(g, &g->kids[evs[i].data.u32]);
        if (mono_s() - swept >= LG_SWEEP_S) { /* a signal a send took: never stuck */
            for (int i = 0; i < g->nkids; i++)
                receive(g, &g->kids[i]);
            swept = mono_s();
        }
    }
    close(ep);
    g->st.cpu_s = (double)(ts_cpu_us() - cpu0) / 1e6;
    if (rc == TS_OK && g->st.errors)
        rc = ts_fail(e, TS_EINPUT, "%llu deltas were refused by their parent (see above)",
                     (unsigned long long)g->st.errors);
    return rc;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

void lg_latency_report(lg_t *g)
{
    size_t n = g->st.nlat;
    if (!n)
        return;
    qsort(g->st.lat_ms, n, sizeof *g->st.lat_ms, cmp_double);
    printf("latency_ms_p50 %.3f\nlatency_ms_p90 %.3f\nlatency_ms_p99 %.3f\nlatency_ms_max %.3f\n",
           g->st.lat_ms[n / 2], g->st.lat_ms[n * 9 / 10], g->st.lat_ms[n * 99 / 100],
           g->st.lat_ms[n - 1]);
}

int lg_write_expect(lg_t *g, ts_err *e)
{
    FILE *f = fopen(g->opt.expect, "w");
    if (!f)
        return ts_fail(e, TS_ERUNTIME, "cannot write %s", g->opt.expect);
    uint32_t *cnt = tally(g, true);
    for (int i = 0; i < g->nkids; i++)
        for (size_t k = 0; k < g->pool.n; k++) {
            uint32_t v = cnt[(size_t)i * g->pool.n + k];
            const ts_cell *c = &g->pool.cells[k];
            if (v)
                fprintf(f, "%s %s %s %s %u\n", g->kids[i].code, c->indicator, c->period,
                        c->options[0] ? c->options : "-", v);
        }
    free(cnt);
    return fclose(f) == 0 ? TS_OK : ts_fail(e, TS_ERUNTIME, "cannot write %s", g->opt.expect);
}

void lg_cleanup(lg_t *g)
{
    for (int i = 0; i < g->nkids; i++) {
        lg_child *c = &g->kids[i];
        if (c->sock)
            zmq_close(c->sock);
        for (uint32_t d = 0; c->msg && d < c->n; d++)
            free(c->msg[d]);
        free(c->msg), free(c->len), free(c->sent_us);
        keys_wipe(&c->keys);
    }
    if (g->zctx)
        zmq_ctx_term(g->zctx);
    if (g->watch) {
        node_close(&g->watch->n);
        free(g->watch->key), free(g->watch->klen), free(g->watch->target);
        free(g->watch);
    }
    free(g->st.lat_ms);
    cellpool_free(&g->pool);
    catalog_destroy(&g->cat);
}
