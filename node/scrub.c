/* scrub.c: the background self-check (see scrub.h). */
#include "scrub.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "audit_check.h"

/* Meta keys of the last pass. */
#define META_LAST_MS "scrub_last_ms"
#define META_PROBLEMS "scrub_problems"
#define META_CHILDREN "scrub_children"
#define META_DELTAS "scrub_deltas"
#define META_CELLS "scrub_cells"
#define META_RUNS "scrub_runs"

struct scrub {
    node_t *n;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop;
    int64_t every_ms;
};

typedef struct {
    scrub_result r;
    uint64_t logged;
} pass_ctx;

/* Sleeps ms, or less when stopped; true when the scrub should stop. */
static bool pause_ms(scrub_t *sc, int64_t ms)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += ms / 1000;
    until.tv_nsec += (ms % 1000) * 1000000;
    if (until.tv_nsec >= 1000000000)
        until.tv_sec++, until.tv_nsec -= 1000000000;
    pthread_mutex_lock(&sc->mu);
    while (!sc->stop && pthread_cond_timedwait(&sc->cv, &sc->mu, &until) == 0)
        ;
    bool stop = sc->stop;
    pthread_mutex_unlock(&sc->mu);
    return stop;
}

static void on_line(void *vctx, bool problem, const char *line)
{
    pass_ctx *p = vctx;
    if (!problem)
        return;
    if (p->logged++ < SCRUB_MAX_LOGGED)
        log_warn("scrub: %s", line);
}

static void add_summary(pass_ctx *p, const audit_check_summary *s)
{
    p->r.problems += s->problems;
    p->r.children += s->children;
    p->r.deltas += s->deltas;
    p->r.cells += s->cells;
}

typedef struct {
    char (*code)[TS_CODE_MAX];
    size_t n, cap;
} code_list;

static int collect_child(const store_val *k, const store_val *v, void *vctx)
{
    (void)v;
    code_list *l = vctx;
    if (k->len >= TS_CODE_MAX)
        return 0;
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 64;
        void *grown = realloc(l->code, cap * sizeof *l->code);
        if (!grown)
            return 1;
        l->code = grown, l->cap = cap;
    }
    memcpy(l->code[l->n], k->data, k->len);
    l->code[l->n++][k->len] = '\0';
    return 0;
}

static int record_pass(store_t *s, store_txn *txn, void *vctx, ts_err *e)
{
    const scrub_result *r = vctx;
    struct {
        const char *key;
        uint64_t v;
    } f[] = {{META_LAST_MS, (uint64_t)r->last_ms},
             {META_PROBLEMS, r->problems},
             {META_CHILDREN, r->children},
             {META_DELTAS, r->deltas},
             {META_CELLS, r->cells},
             {META_RUNS, r->runs}};
    for (size_t i = 0; i < sizeof f / sizeof *f; i++)
        if (store_meta_put_u64(s, txn, f[i].key, f[i].v, e))
            return e->code;
    return TS_OK;
}

/* One pass: every child's slice, then the totals. False when stopped. */
static bool run_pass(scrub_t *sc)
{
    node_t *n = sc->n;
    ts_err e = {0};
    code_list kids = {0};
    store_txn *txn;
    if (store_read_begin(n->store, &txn, &e)) {
        log_error("scrub: cannot read the store: %s", e.msg);
        return true;
    }
    int oom;
    int rc = store_scan(n->store, txn, DB_CHILDREN, NULL, collect_child, &kids, &oom, &e);
    store_read_end(txn);
    rc = rc ? rc : oom;
    pass_ctx p = {0};
    audit_check_summary s;
    for (size_t i = 0; rc == 0 && i < kids.n; i++) {
        if (audit_check_child(n, kids.code[i], on_line, &p, &s, &e) == TS_OK)
            add_summary(&p, &s); /* a child removed meanwhile is skipped */
        if (pause_ms(sc, SCRUB_SLICE_PAUSE_MS)) {
            free(kids.code);
            return false;
        }
    }
    free(kids.code);
    if (rc != 0) {
        log_error("scrub: cannot list the children: %s; the pass is skipped",
                  oom ? "out of memory" : e.msg);
        return true;
    }
    if (audit_check_totals(n, on_line, &p, &s, &e) != TS_OK) {
        log_error("scrub: %s", e.msg);
        return true;
    }
    add_summary(&p, &s);
    scrub_result before = {0};
    if (store_read_begin(n->store, &txn, &e) == TS_OK) {
        scrub_result_get(n->store, txn, &before);
        store_read_end(txn);
    }
    p.r.last_ms = ts_now_ms();
    p.r.runs = before.runs + 1;
    if (store_write(n->store, record_pass, &p.r, &e))
        log_error("scrub: cannot record the pass: %s", e.msg);
    if (p.r.problems)
        log_warn("scrub: %llu problems in %llu children's trails and %llu totals (%llu logged "
                 "above); run 'tiersync verify' for the full list, and see docs/OPERATIONS.md "
                 "on repairing a store",
                 (unsigned long long)p.r.problems, (unsigned long long)p.r.children,
                 (unsigned long long)p.r.cells,
                 (unsigned long long)(p.logged < SCRUB_MAX_LOGGED ? p.logged : SCRUB_MAX_LOGGED));
    else
        log_info("scrub: %llu children's trails (%llu signed deltas) and %llu totals hold",
                 (unsigned long long)p.r.children, (unsigned long long)p.r.deltas,
                 (unsigned long long)p.r.cells);
    return true;
}

static void *scrub_loop(void *vsc)
{
    scrub_t *sc = vsc;
    ts_block_signals();
    /* the lowest CPU priority, for this thread only (Linux: a thread's nice) */
    setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), 19);
    scrub_result last = {0};
    store_txn *txn;
    if (store_read_begin(sc->n->store, &txn, NULL) == TS_OK) {
        scrub_result_get(sc->n->store, txn, &last);
        store_read_end(txn);
    }
    int64_t now = ts_now_ms();
    int64_t due = (last.last_ms && last.last_ms <= now ? last.last_ms : now) + sc->every_ms;
    for (;;) {
        int64_t wait = due - ts_now_ms();
        if (pause_ms(sc, wait > 0 ? wait : 0) || !run_pass(sc))
            break;
        due = ts_now_ms() + sc->every_ms;
    }
    return NULL;
}

int scrub_start(scrub_t **out, node_t *n, ts_err *e)
{
    *out = NULL;
    if (n->cfg.scrub_every_h <= 0)
        return TS_OK;
    scrub_t *sc = calloc(1, sizeof *sc);
    if (!sc)
        return ts_fail(e, TS_ERUNTIME, "scrub: out of memory");
    sc->n = n;
    sc->every_ms = (int64_t)(n->cfg.scrub_every_h * 3600.0 * 1000.0);
    pthread_mutex_init(&sc->mu, NULL);
    pthread_cond_init(&sc->cv, NULL);
    if (pthread_create(&sc->thread, NULL, scrub_loop, sc) != 0) {
        pthread_cond_destroy(&sc->cv);
        pthread_mutex_destroy(&sc->mu);
        free(sc);
        return ts_fail(e, TS_ERUNTIME, "scrub: cannot start its thread");
    }
    *out = sc;
    return TS_OK;
}

void scrub_stop(scrub_t **s)
{
    scrub_t *sc = *s;
    if (!sc)
        return;
    pthread_mutex_lock(&sc->mu);
    sc->stop = true;
    pthread_cond_broadcast(&sc->cv);
    pthread_mutex_unlock(&sc->mu);
    pthread_join(sc->thread, NULL);
    pthread_cond_destroy(&sc->cv);
    pthread_mutex_destroy(&sc->mu);
    free(sc);
    *s = NULL;
}

void scrub_result_get(store_t *s, store_txn *txn, scrub_result *r)
{
    r->last_ms = (int64_t)store_meta_u64(s, txn, META_LAST_MS);
    r->problems = store_meta_u64(s, txn, META_PROBLEMS);
    r->children = store_meta_u64(s, txn, META_CHILDREN);
    r->deltas = store_meta_u64(s, txn, META_DELTAS);
    r->cells = store_meta_u64(s, txn, META_CELLS);
    r->runs = store_meta_u64(s, txn, META_RUNS);
}
