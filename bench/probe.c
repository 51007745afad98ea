/* probe.c: measurements that read or write node stores directly, beside
 * running daemons (LMDB allows any number of processes). For bench/run.
 *
 *   bench_probe latency --commune DIR --top DIR [--changes N] [--gap-ms G]
 *       N times: commit +1 to a value cell at the commune's store, then poll
 *       the top node's store every 0.2 ms (read transactions, this process)
 *       until the commune's total there moved; prints percentiles in ms.
 *   bench_probe changes --dir DIR --changes N --distinct D [--per-txn M]
 *       N changes of +1 spread over D distinct value cells of the node's own
 *       unit, M per durable transaction (as many edits while a link is down).
 *   bench_probe wait --dir DIR --like DIR2 --unit U [--t0-ns NS] [--timeout S]
 *       polls until DIR's totals of unit U equal DIR2's; prints wait_ms since
 *       NS (CLOCK_REALTIME ns, e.g. `date +%s%N` before the parent started)
 *       and link_up_ms, when DIR2's link to its parent came up.
 *   bench_probe audit --dir DIR --child C [--after SEQ]
 *       bytes, deltas and cells of C's signed deltas with seq > SEQ, as kept
 *       in DIR's audit table: what C sent and DIR applied.
 *   bench_probe seq --dir DIR --child C
 *       the last seq DIR applied from C.
 * Output: "name value" lines. Exit 0 done, 1 failure or timeout, 2 usage. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit_log.h"
#include "cellpool.h"
#include "node.h"
#include "query.h"
#include "tiersync.pb-c.h"

#define PROBE_POLL_NS 200000L /* 0.2 ms */
#define PROBE_MAX_CHANGES 1000000

typedef struct {
    const char *dir, *top, *like, *unit, *child;
    long changes, distinct, per_txn, gap_ms, after;
    double timeout_s;
    long long t0_ns;
} probe_opts;

static int fail(const char *what, const ts_err *e)
{
    fprintf(stderr, "bench_probe %s: %s\n", what, e->msg);
    return 1;
}

static void nap(long ns)
{
    struct timespec t = {ns / 1000000000L, ns % 1000000000L};
    nanosleep(&t, NULL);
}

static int64_t total_of(node_t *n, const char *key, size_t klen)
{
    store_txn *txn;
    ts_err e;
    if (store_read_begin(n->store, &txn, &e))
        return INT64_MIN;
    int64_t v = store_total(n->store, txn, key, klen).v;
    store_read_end(txn);
    return v;
}

typedef struct {
    const ts_cell *cells;
    size_t ncells, from, count;
} change_ctx;

static int change_txn(store_t *s, store_txn *txn, void *vctx, ts_err *e)
{
    change_ctx *c = vctx;
    for (size_t i = 0; i < c->count; i++)
        if (store_apply_cell(s, txn, NULL, &c->cells[(c->from + i) % c->ncells],
                             (disclose_fig){1, 0}, e))
            return e->code;
    return TS_OK;
}

/* Polls until top's total at key equals want; ms waited, or -1 at the limit. */
static double poll_until(node_t *top, const char *key, size_t klen, int64_t want, double limit_s)
{
    int64_t t0 = ts_mono_us();
    while (total_of(top, key, klen) != want) {
        if ((double)(ts_mono_us() - t0) > limit_s * 1e6)
            return -1;
        nap(PROBE_POLL_NS);
    }
    return (double)(ts_mono_us() - t0) / 1000;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int cmd_latency(const probe_opts *o)
{
    node_t c, top;
    ts_err e = {0};
    cellpool pool = {0};
    if (node_open(&c, o->dir, 0, &e) || node_open(&top, o->top, 0, &e) ||
        cellpool_make(&pool, c.catalog, c.cfg.code, 1, true, &e))
        return fail("latency", &e);
    char key[CELL_KEY_MAX];
    size_t klen = cell_key(&pool.cells[0], key);
    store_txn *txn;
    if (store_read_begin(c.store, &txn, &e))
        return fail("latency", &e);
    int64_t have = store_total(c.store, txn, key, klen).v;
    store_read_end(txn);
    if (poll_until(&top, key, klen, have, o->timeout_s) < 0) {
        fprintf(stderr,
                "bench_probe latency: %s does not hold the commune's %s before the "
                "first change\n",
                o->top, key);
        return 1;
    }
    double *lat = calloc((size_t)o->changes, sizeof *lat), sum = 0;
    for (long i = 0; i < o->changes; i++) {
        if (o->gap_ms > 0) /* a random phase against the flush timers */
            nap((long)randombytes_uniform((uint32_t)o->gap_ms * 1000) * 1000);
        change_ctx cc = {pool.cells, 1, 0, 1};
        if (store_write(c.store, change_txn, &cc, &e))
            return fail("latency", &e);
        have++;
        if ((lat[i] = poll_until(&top, key, klen, have, o->timeout_s)) < 0) {
            fprintf(stderr, "bench_probe latency: change %ld did not reach %s within %.0f s\n",
                    i + 1, o->top, o->timeout_s);
            return 1;
        }
        sum += lat[i];
    }
    qsort(lat, (size_t)o->changes, sizeof *lat, cmp_double);
    size_t n = (size_t)o->changes;
    printf("changes %zu\nlatency_ms_p50 %.2f\nlatency_ms_p99 %.2f\nlatency_ms_max %.2f\n"
           "latency_ms_mean %.2f\nflush_ms %d\n",
           n, lat[n / 2], lat[n * 99 / 100], lat[n - 1], sum / (double)n, c.cfg.flush_ms);
    free(lat);
    cellpool_free(&pool);
    node_close(&c);
    node_close(&top);
    return 0;
}

static int cmd_changes(const probe_opts *o)
{
    node_t n;
    ts_err e = {0};
    cellpool pool = {0};
    if (node_open(&n, o->dir, 0, &e) ||
        cellpool_make(&pool, n.catalog, n.cfg.code, (size_t)o->distinct, true, &e))
        return fail("changes", &e);
    int64_t t0 = ts_mono_us();
    long txns = 0;
    for (long done = 0; done < o->changes; txns++) {
        change_ctx cc = {pool.cells, pool.n, (size_t)done % pool.n,
                         (size_t)(o->changes - done < o->per_txn ? o->changes - done : o->per_txn)};
        if (store_write(n.store, change_txn, &cc, &e))
            return fail("changes", &e);
        done += (long)cc.count;
    }
    printf("changes %ld\ndistinct %zu\ntxns %ld\nchanges_ms %.1f\n", o->changes, pool.n, txns,
           (double)(ts_mono_us() - t0) / 1000);
    cellpool_free(&pool);
    node_close(&n);
    return 0;
}

typedef struct {
    char *buf; /* "key=value\n" lines, in key order */
    size_t len, cap;
} dump;

static int dump_one(const ts_cell *c, disclose_fig f, void *ctx)
{
    dump *d = ctx;
    char key[CELL_KEY_MAX];
    size_t klen = cell_key(c, key), need = klen + 32;
    if (d->len + need > d->cap) {
        d->cap = 2 * (d->cap + need);
        d->buf = realloc(d->buf, d->cap);
    }
    memcpy(d->buf + d->len, key, klen);
    d->len += klen;
    d->len += (size_t)snprintf(d->buf + d->len, d->cap - d->len, "=%lld\n", (long long)f.v);
    return 0;
}

/* False when the unit's totals could not be read. */
static bool dump_unit(node_t *n, const char *unit, dump *d)
{
    store_txn *txn;
    ts_err e;
    d->len = 0;
    query_filter f = {.unit = unit};
    if (store_read_begin(n->store, &txn, &e) != TS_OK)
        return false;
    bool read = query_totals(n->store, txn, &f, dump_one, d) != QUERY_FAILED;
    store_read_end(txn);
    return read;
}

static int cmd_wait(const probe_opts *o)
{
    node_t a, b;
    ts_err e = {0};
    if (node_open(&a, o->dir, 0, &e) || node_open(&b, o->like, 0, &e))
        return fail("wait", &e);
    dump da = {0}, db = {0};
    int64_t start = ts_mono_us();
    bool same = false;
    while (!same && (double)(ts_mono_us() - start) < o->timeout_s * 1e6) {
        bool read = dump_unit(&a, o->unit, &da);
        read &= dump_unit(&b, o->unit, &db);
        same = read && da.len == db.len && (da.len == 0 || !memcmp(da.buf, db.buf, da.len));
        if (!same)
            nap(4 * PROBE_POLL_NS);
    }
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    long long now_ns = (long long)now.tv_sec * 1000000000LL + now.tv_nsec;
    long long t0_ns = o->t0_ns ? o->t0_ns : now_ns - (ts_mono_us() - start) * 1000;
    store_txn *txn;
    if (store_read_begin(b.store, &txn, &e) == TS_OK) {
        uint64_t up = store_meta_u64(b.store, txn, "link_connected");
        uint64_t at = store_meta_u64(b.store, txn, "link_changed_ms");
        store_read_end(txn);
        if (up)
            printf("link_up_ms %.1f\n", (double)((long long)at * 1000000LL - t0_ns) / 1e6);
    }
    printf("same %d\nwait_ms %.1f\n", same, (double)(now_ns - t0_ns) / 1e6);
    free(da.buf), free(db.buf);
    node_close(&a);
    node_close(&b);
    if (!same)
        fprintf(stderr, "bench_probe wait: %s's totals of %s differ from %s's after %.0f s\n",
                o->dir, o->unit, o->like, o->timeout_s);
    return same ? 0 : 1;
}

typedef struct {
    size_t plen;
    long after;
    unsigned long long bytes, deltas, cells;
} audit_ctx;

static int audit_one(const store_val *k, const store_val *v, void *ctx)
{
    audit_ctx *a = ctx;
    if (k->len != a->plen + 8 ||
        ts_get_be64((const uint8_t *)k->data + a->plen) <= (uint64_t)a->after)
        return 0;
    a->bytes += v->len;
    a->deltas++;
    Tiersync__SignedDelta *sd = tiersync__signed_delta__unpack(NULL, v->len, v->data);
    Tiersync__DeltaBody *b = sd ? tiersync__delta_body__unpack(NULL, sd->body.len, sd->body.data)
                                : NULL;
    if (b)
        a->cells += b->n_cells, tiersync__delta_body__free_unpacked(b, NULL);
    if (sd)
        tiersync__signed_delta__free_unpacked(sd, NULL);
    return 0;
}

static int cmd_audit(const probe_opts *o, bool seq_only)
{
    node_t n;
    ts_err e = {0};
    store_txn *txn;
    if (node_open(&n, o->dir, 0, &e) || store_read_begin(n.store, &txn, &e))
        return fail("audit", &e);
    store_child ch;
    if (store_child_get(n.store, txn, o->child, &ch) != TS_OK) {
        fprintf(stderr, "bench_probe: no child %s is enrolled at %s\n", o->child, o->dir);
        return 1;
    }
    if (seq_only) {
        printf("last_seq %llu\n", (unsigned long long)ch.last_seq);
    } else {
        char prefix[TS_CODE_MAX + 2];
        snprintf(prefix, sizeof prefix, "%s|", o->child);
        audit_ctx a = {strlen(prefix), o->after, 0, 0, 0};
        if (audit_log_scan(n.store, txn, prefix, audit_one, &a, NULL, &e)) {
            store_read_end(txn);
            node_close(&n);
            return fail("audit", &e);
        }
        printf("audit_bytes %llu\naudit_deltas %llu\naudit_cells %llu\n", a.bytes, a.deltas,
               a.cells);
    }
    store_read_end(txn);
    node_close(&n);
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {{"dir", 1, 0, 'd'},     {"commune", 1, 0, 'd'},
                                         {"top", 1, 0, 'T'},     {"like", 1, 0, 'l'},
                                         {"unit", 1, 0, 'u'},    {"child", 1, 0, 'c'},
                                         {"changes", 1, 0, 'n'}, {"distinct", 1, 0, 'D'},
                                         {"per-txn", 1, 0, 'm'}, {"gap-ms", 1, 0, 'g'},
                                         {"after", 1, 0, 'a'},   {"timeout", 1, 0, 't'},
                                         {"t0-ns", 1, 0, '0'},   {0, 0, 0, 0}};
    probe_opts o = {
        .changes = 200, .distinct = 1000, .per_txn = 1000, .gap_ms = 0, .timeout_s = 30};
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc < 2 || sodium_init() < 0) {
        fputs("usage: bench_probe latency|changes|wait|audit|seq OPTIONS (see probe.c)\n", stderr);
        return 2;
    }
    const char *cmd = argv[1];
    int c;
    while ((c = getopt_long(argc - 1, argv + 1, "", opts, NULL)) != -1) {
        switch (c) {
        case 'd': o.dir = optarg; break;
        case 'T': o.top = optarg; break;
        case 'l': o.like = optarg; break;
        case 'u': o.unit = optarg; break;
        case 'c': o.child = optarg; break;
        case 'n': o.changes = atol(optarg); break;
        case 'D': o.distinct = atol(optarg); break;
        case 'm': o.per_txn = atol(optarg); break;
        case 'g': o.gap_ms = atol(optarg); break;
        case 'a': o.after = atol(optarg); break;
        case 't': o.timeout_s = atof(optarg); break;
        case '0': o.t0_ns = atoll(optarg); break;
        default: return 2;
        }
    }
    bool ok = o.dir && o.changes > 0 && o.changes <= PROBE_MAX_CHANGES && o.distinct > 0 &&
        o.per_txn > 0 && o.gap_ms >= 0 && o.timeout_s > 0;
    if (ok && !strcmp(cmd, "latency") && o.top)
        return cmd_latency(&o);
    if (ok && !strcmp(cmd, "changes"))
        return cmd_changes(&o);
    if (ok && !strcmp(cmd, "wait") && o.like && o.unit)
        return cmd_wait(&o);
    if (ok && (!strcmp(cmd, "audit") || !strcmp(cmd, "seq")) && o.child)
        return cmd_audit(&o, !strcmp(cmd, "seq"));
    fprintf(stderr, "bench_probe: missing or invalid options for '%s' (see bench/probe.c)\n", cmd);
    return 2;
}
