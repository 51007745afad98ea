/* bench_import.c: how fast a commune imports its lists, beside the raw
 * LMDB put rate measured in the same run.
 *
 * usage: bench_import DIR FILE.csv TYPE [FILE.csv TYPE ...]
 *
 * Imports each file into the node at DIR (already initialised; its daemon
 * may be running) exactly as `tiersync import` does, timing each. Then puts
 * the same key/value pairs the import stored (copied from the records
 * tables, in a fixed shuffled order) into a fresh LMDB environment, all in
 * one write transaction, and prints both rates and their ratio. */
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "import.h"
#include "util.h"

#define RAW_MAP_BYTES ((size_t)8 << 30)

typedef struct {
    MDB_val k, v;
} pair;

static double now_s(void)
{
    return (double)ts_mono_us() / 1e6;
}

/* CPU seconds of this process: the rate on a busy machine without the wait. */
static double cpu_s(void)
{
    return (double)ts_cpu_us() / 1e6;
}

static void die(const char *what, const char *msg)
{
    fprintf(stderr, "bench_import: %s: %s\n", what, msg);
    exit(1);
}

typedef struct {
    pair *out;
    size_t len, cap;
} pair_list;

static int copy_pair(const store_val *k, const store_val *v, void *ctx)
{
    pair_list *l = ctx;
    if (l->len == l->cap)
        l->out = ts_xrealloc(l->out, (l->cap *= 2) * sizeof *l->out);
    pair *p = &l->out[l->len++];
    p->k = (MDB_val){k->len, malloc(k->len)};
    p->v = (MDB_val){v->len, malloc(v->len)};
    memcpy(p->k.mv_data, k->data, k->len);
    memcpy(p->v.mv_data, v->data, v->len);
    return 0;
}

/* Copies every pair of tables records and record_refs. */
static pair *copy_pairs(node_t *n, size_t *count)
{
    store_txn *txn;
    ts_err e = {0};
    pair_list l = {malloc((1 << 16) * sizeof *l.out), 0, 1 << 16};
    if (store_read_begin(n->store, &txn, &e))
        die("read", e.msg);
    store_db dbs[] = {DB_RECORDS, DB_RECORD_REFS};
    for (int d = 0; d < 2; d++)
        if (store_scan(n->store, txn, dbs[d], NULL, copy_pair, &l, NULL, &e))
            die("read", e.msg);
    store_read_end(txn);
    uint64_t x =
        88172645463325252ULL; /* a fixed shuffle: the import's order is not sorted either */
    for (size_t i = l.len; i > 1; i--) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        size_t j = (size_t)(x % i);
        pair t = l.out[i - 1];
        l.out[i - 1] = l.out[j];
        l.out[j] = t;
    }
    *count = l.len;
    return l.out;
}

/* Seconds to put every pair into a fresh environment in one transaction. */
static double raw_puts(const char *dir, pair *p, size_t n, double *cpu)
{
    char path[TS_PATH_MAX];
    snprintf(path, sizeof path, "%s/bench-raw", dir);
    mkdir(path, 0700);
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    int rc = mdb_env_create(&env);
    if (!rc)
        rc = mdb_env_set_mapsize(env, RAW_MAP_BYTES);
    if (!rc)
        rc = mdb_env_open(env, path, 0, 0600);
    if (rc)
        die(path, mdb_strerror(rc));
    double t0 = now_s(), c0 = cpu_s();
    if ((rc = mdb_txn_begin(env, NULL, 0, &txn)) || (rc = mdb_dbi_open(txn, NULL, 0, &dbi)))
        die("raw txn", mdb_strerror(rc));
    for (size_t i = 0; i < n; i++)
        if ((rc = mdb_put(txn, dbi, &p[i].k, &p[i].v, 0)))
            die("raw put", mdb_strerror(rc));
    if ((rc = mdb_txn_commit(txn)))
        die("raw commit", mdb_strerror(rc));
    double t = now_s() - t0;
    *cpu = cpu_s() - c0;
    mdb_env_close(env);
    char f[TS_PATH_MAX + 16];
    snprintf(f, sizeof f, "%s/data.mdb", path);
    remove(f);
    snprintf(f, sizeof f, "%s/lock.mdb", path);
    remove(f);
    rmdir(path);
    return t;
}

int main(int argc, char **argv)
{
    if (argc < 4 || argc % 2 != 0) {
        fprintf(stderr, "usage: bench_import DIR FILE.csv TYPE [FILE.csv TYPE ...]\n");
        return 2;
    }
    node_t n;
    ts_err e = {0};
    if (node_open(&n, argv[1], 0, &e))
        die(argv[1], e.msg);
    size_t rows = 0;
    double total = 0, total_cpu = 0;
    for (int i = 2; i + 1 < argc; i += 2) {
        records_batch b = {0};
        double t0 = now_s(), c0 = cpu_s();
        if (import_csv(&n, argv[i + 1], argv[i], &b, &e))
            die(argv[i], e.msg);
        double t = now_s() - t0, c = cpu_s() - c0;
        size_t r = b.inserted + b.updated + b.unchanged;
        printf(
            "import %-8s %7zu records in %6.3f s = %7.0f records/s (cpu %6.3f s = %7.0f/s; %zu cells changed)\n",
            argv[i + 1], r, t, (double)r / t, c, (double)r / c, b.cells);
        rows += r;
        total += t;
        total_cpu += c;
    }
    printf("import total    %7zu records in %6.3f s = %7.0f records/s (cpu %6.3f s = %7.0f/s)\n",
           rows, total, (double)rows / total, total_cpu, (double)rows / total_cpu);
    size_t npairs;
    double raw_cpu;
    pair *p = copy_pairs(&n, &npairs);
    double raw = raw_puts(argv[1], p, npairs, &raw_cpu);
    printf(
        "raw LMDB puts   %7zu pairs   in %6.3f s = %7.0f puts/s    (cpu %6.3f s = %7.0f/s; one txn, "
        "the same keys and values)\n",
        npairs, raw, (double)npairs / raw, raw_cpu, (double)npairs / raw_cpu);
    printf("ratio: import %.0f records/s / raw %.0f puts/s = %.2f (cpu: %.2f)\n",
           (double)rows / total, (double)npairs / raw,
           ((double)rows / total) / ((double)npairs / raw),
           ((double)rows / total_cpu) / ((double)npairs / raw_cpu));
    for (size_t i = 0; i < npairs; i++)
        free(p[i].k.mv_data), free(p[i].v.mv_data);
    free(p);
    node_close(&n);
    return 0;
}
