/* loadgen.c: one process playing N enrolled children against real parents.
 *
 *   loadgen keys --count N --prefix P --out FILE [--first K]
 *       makes N child identities with codes P0001, P0002, ... (from K):
 *       FILE (mode 0600) gets "CODE SEED" lines for `loadgen run`, stdout
 *       gets "CODE PUBKEY" lines for `tiersync child add --dir D CODE PUBKEY`.
 *   loadgen run --keys FILE --parent ENDPOINT --parent-key PUBKEY
 *               [--keys FILE --parent ... ...] [options]
 *       every child of a keys file connects to the parent named after it
 *       (a DEALER with its own CURVE keys, as `tiersync run` does), says
 *       Hello, continues its chain from the parent's Welcome and sends signed
 *       deltas of +1 on --cells cells of its own unit, at --rate deltas/s in
 *       all or as fast as acks allow with --window deltas in flight each.
 *
 * Bounded: at most --count deltas in all, sent for at most --duration s,
 * then at most --drain s to collect the last acks; it stops by itself. The
 * deltas are signed before the clock starts, so the generator's own signing
 * is not part of what is measured. Prints "name value" lines: applied
 * deltas/s and cells/s, ack latency percentiles, connect time. Exit 0 when
 * every delta sent was acknowledged (and --watch, if given, became exact),
 * 1 otherwise. Options: see usage(). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <zmq.h>

#include "cellpool.h"
#include "delta.h"
#include "loadgen.h"

static void usage(void)
{
    fputs("usage: loadgen keys --count N --prefix P --out FILE [--first K]\n"
          "       loadgen run --keys FILE --parent ENDPOINT --parent-key PUBKEY [...]\n"
          "         [--children N] [--cells K] [--distinct D] [--window W] [--rate R]\n"
          "         [--count C] [--duration S] [--drain S] [--connect-timeout S]\n"
          "         [--catalog PATH] [--expect FILE] [--watch DIR] [--connect-wave N]\n"
          "--cells: cells per delta (1); --distinct: cells per child rotated through (1000);\n"
          "--window: deltas in flight per child (8); --rate: deltas/s in all, 0 = as fast as\n"
          "acks allow (0); --count: deltas in all (10000); --duration: seconds of sending\n"
          "(10); --expect: write what was applied, as 'UNIT INDICATOR PERIOD OPTIONS VALUE'\n"
          "lines; --watch: time until that node's store holds every change exactly;\n"
          "--connect-wave: children dialling at once, each wave welcomed first (100).\n",
          stderr);
}

static int parse_keys_line(lg_t *g, const char *line, int parent, ts_err *e)
{
    char code[TS_CODE_MAX], hex[2 * crypto_sign_SEEDBYTES + 2];
    uint8_t seed[crypto_sign_SEEDBYTES];
    if (sscanf(line, "%31s %65s", code, hex) != 2 || !ts_code_valid(code) ||
        ts_unhex(hex, seed, sizeof seed) != 0)
        return ts_fail(e, TS_EINPUT,
                       "keys line '%.40s' is not 'CODE SEED' (make it with "
                       "'loadgen keys')",
                       line);
    if (g->nkids == LG_MAX_CHILDREN)
        return ts_fail(e, TS_EINPUT, "more than %d children", LG_MAX_CHILDREN);
    lg_child *c = &g->kids[g->nkids++];
    memset(c, 0, sizeof *c);
    snprintf(c->code, sizeof c->code, "%s", code);
    crypto_sign_seed_keypair(c->keys.pk, c->keys.sk, seed);
    sodium_memzero(seed, sizeof seed);
    c->parent = parent;
    return TS_OK;
}

static int load_keys(lg_t *g, ts_err *e)
{
    for (int p = 0; p < g->nparents; p++) {
        FILE *f = fopen(g->parents[p].keysfile, "r");
        if (!f)
            return ts_fail(e, TS_EINPUT, "cannot read keys file %s", g->parents[p].keysfile);
        char line[256];
        int rc = TS_OK;
        while (rc == TS_OK && fgets(line, sizeof line, f))
            if (line[0] != '\n' && line[0] != '#')
                rc = parse_keys_line(g, line, p, e);
        fclose(f);
        if (rc)
            return rc;
    }
    if (g->nkids == 0)
        return ts_fail(e, TS_EINPUT, "no children in the keys files");
    if (g->opt.children > 0 && g->opt.children < g->nkids)
        g->nkids = g->opt.children;
    return TS_OK;
}

static int cmd_keys(int argc, char **argv)
{
    static const struct option opts[] = {{"count", 1, 0, 'n'},
                                         {"prefix", 1, 0, 'p'},
                                         {"out", 1, 0, 'o'},
                                         {"first", 1, 0, 'f'},
                                         {0, 0, 0, 0}};
    long count = 0, first = 1;
    const char *prefix = NULL, *out = NULL;
    int o;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (o) {
        case 'n': count = atol(optarg); break;
        case 'p': prefix = optarg; break;
        case 'o': out = optarg; break;
        case 'f': first = atol(optarg); break;
        default: usage(); return 2;
        }
    }
    if (count < 1 || count > LG_MAX_CHILDREN || first < 0 || !prefix || !out ||
        strlen(prefix) > TS_CODE_MAX - 8) {
        fprintf(stderr, "loadgen keys: give --count 1..%d, --prefix and --out\n", LG_MAX_CHILDREN);
        return 2;
    }
    umask(077);
    FILE *f = fopen(out, "w");
    if (!f) {
        fprintf(stderr, "loadgen keys: cannot write %s\n", out);
        return 1;
    }
    for (long i = 0; i < count; i++) {
        uint8_t seed[crypto_sign_SEEDBYTES], pk[crypto_sign_PUBLICKEYBYTES],
            sk[crypto_sign_SECRETKEYBYTES];
        char seedhex[2 * sizeof seed + 1], pkhex[2 * sizeof pk + 1], code[TS_CODE_MAX];
        randombytes_buf(seed, sizeof seed);
        crypto_sign_seed_keypair(pk, sk, seed);
        ts_hex(seed, sizeof seed, seedhex);
        ts_hex(pk, sizeof pk, pkhex);
        snprintf(code, sizeof code, "%s%04ld", prefix, first + i);
        fprintf(f, "%s %s\n", code, seedhex);
        printf("%s %s\n", code, pkhex);
        sodium_memzero(sk, sizeof sk);
        sodium_memzero(seed, sizeof seed);
    }
    return fclose(f) == 0 ? 0 : 1;
}

static int parse_run(lg_t *g, int argc, char **argv, ts_err *e)
{
    static const struct option opts[] = {
        {"keys", 1, 0, 'k'},         {"parent", 1, 0, 'P'}, {"parent-key", 1, 0, 'K'},
        {"children", 1, 0, 'n'},     {"cells", 1, 0, 'c'},  {"distinct", 1, 0, 'D'},
        {"window", 1, 0, 'w'},       {"rate", 1, 0, 'r'},   {"count", 1, 0, 'C'},
        {"duration", 1, 0, 't'},     {"drain", 1, 0, 'T'},  {"connect-timeout", 1, 0, 'x'},
        {"catalog", 1, 0, 'g'},      {"expect", 1, 0, 'e'}, {"watch", 1, 0, 'W'},
        {"connect-wave", 1, 0, 'v'}, {0, 0, 0, 0}};
    lg_opts *o = &g->opt;
    *o = (lg_opts){.cells = 1,
                   .distinct = 1000,
                   .window = 8,
                   .count = 10000,
                   .duration_s = 10,
                   .drain_s = 30,
                   .connect_s = 60,
                   .wave = 100};
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        lg_parent *p = g->nparents ? &g->parents[g->nparents - 1] : NULL;
        switch (c) {
        case 'k':
            if (g->nparents == LG_MAX_PARENTS)
                return ts_fail(e, TS_EINPUT, "more than %d --keys", LG_MAX_PARENTS);
            p = &g->parents[g->nparents++];
            memset(p, 0, sizeof *p);
            snprintf(p->keysfile, sizeof p->keysfile, "%s", optarg);
            break;
        case 'P':
        case 'K':
            if (!p)
                return ts_fail(e, TS_EINPUT, "--parent and --parent-key follow a --keys");
            if (c == 'P')
                snprintf(p->endpoint, sizeof p->endpoint, "%s", optarg);
            else if (keys_parse_public(optarg, p->pk, e))
                return e->code;
            else
                p->has_key = true;
            break;
        case 'n': o->children = atoi(optarg); break;
        case 'c': o->cells = atoi(optarg); break;
        case 'D': o->distinct = atoi(optarg); break;
        case 'w': o->window = atoi(optarg); break;
        case 'r': o->rate = atof(optarg); break;
        case 'C': o->count = atol(optarg); break;
        case 't': o->duration_s = atof(optarg); break;
        case 'T': o->drain_s = atof(optarg); break;
        case 'x': o->connect_s = atof(optarg); break;
        case 'g': o->catalog = optarg; break;
        case 'e': o->expect = optarg; break;
        case 'W': o->watch = optarg; break;
        case 'v': o->wave = atoi(optarg); break;
        default: usage(); return ts_fail(e, TS_EINPUT, "unknown option");
        }
    }
    for (int i = 0; i < g->nparents; i++)
        if (!g->parents[i].endpoint[0] || !g->parents[i].has_key)
            return ts_fail(e, TS_EINPUT, "keys file %s needs --parent and --parent-key",
                           g->parents[i].keysfile);
    if (!g->nparents)
        return ts_fail(e, TS_EINPUT, "give at least one --keys FILE --parent EP --parent-key K");
    if (o->cells < 1 || o->distinct < o->cells || o->window < 1 || o->count < 1 ||
        o->count > LG_MAX_DELTAS || o->rate < 0 || o->duration_s <= 0 || o->drain_s <= 0 ||
        o->wave < 1)
        return ts_fail(e, TS_EINPUT,
                       "need 1 <= cells <= distinct, window >= 1, "
                       "1 <= count <= %d, rate >= 0, duration and drain > 0, connect-wave >= 1",
                       LG_MAX_DELTAS);
    return TS_OK;
}

static void zmq_start(lg_t *g)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    g->zctx = zmq_ctx_new();
    zmq_ctx_set(g->zctx, ZMQ_MAX_SOCKETS, g->nkids + 16);
}

/* Opens children [from, to)'s DEALERs and queues their Hello (sent once connected). */
static int connect_range(lg_t *g, int from, int to, ts_err *e)
{
    for (int i = from; i < to; i++) {
        lg_child *c = &g->kids[i];
        const lg_parent *p = &g->parents[c->parent];
        char server[KEYS_Z85_LEN], pub[KEYS_Z85_LEN], sec[KEYS_Z85_LEN];
        int zero = 0;
        if (keys_curve_public_z85(p->pk, server, e) || keys_curve_public_z85(c->keys.pk, pub, e) ||
            keys_curve_secret_z85(&c->keys, sec, e))
            return e->code;
        c->sock = zmq_socket(g->zctx, ZMQ_DEALER);
        int bad = !c->sock ||
            zmq_setsockopt(c->sock, ZMQ_CURVE_SERVERKEY, server, KEYS_Z85_LEN - 1) ||
            zmq_setsockopt(c->sock, ZMQ_CURVE_PUBLICKEY, pub, KEYS_Z85_LEN - 1) ||
            zmq_setsockopt(c->sock, ZMQ_CURVE_SECRETKEY, sec, KEYS_Z85_LEN - 1) ||
            zmq_setsockopt(c->sock, ZMQ_LINGER, &zero, sizeof zero) ||
            zmq_connect(c->sock, p->endpoint) != 0;
        sodium_memzero(sec, sizeof sec);
        if (bad)
            return ts_fail(e, TS_ERUNTIME,
                           "child %s cannot connect to %s: %s (at %d sockets; "
                           "raise ulimit -n)",
                           c->code, p->endpoint, zmq_strerror(zmq_errno()), i);
        lg_send_hello(c);
    }
    return TS_OK;
}

/* Connects every child, --connect-wave at a time, each wave welcomed before
 * the next dials: a parent authenticates handshakes one by one, and libzmq
 * drops one that waits longer than its handshake interval (30 s). */
static int connect_all(lg_t *g, ts_err *e)
{
    int64_t t0 = ts_mono_ms(), deadline = t0 + (int64_t)(g->opt.connect_s * 1000);
    int rc = TS_OK;
    zmq_start(g);
    for (int from = 0; rc == TS_OK && from < g->nkids; from += g->opt.wave) {
        int to = from + g->opt.wave < g->nkids ? from + g->opt.wave : g->nkids;
        rc = connect_range(g, from, to, e);
        if (rc == TS_OK)
            rc = lg_welcome(g, from, to, deadline, e);
    }
    g->st.connect_ms = (double)(ts_mono_ms() - t0);
    return rc;
}

static void report(lg_t *g)
{
    lg_stats *s = &g->st;
    double elapsed = s->t_last_ack - s->t0;
    if (elapsed <= 0)
        elapsed = 1e-9;
    printf("children %d\ncells_per_delta %d\nwindow %d\nrate %.0f\n", g->nkids, g->opt.cells,
           g->opt.window, g->opt.rate);
    printf("connect_ms %.1f\nprepare_ms %.1f\n", s->connect_ms, s->prepare_ms);
    printf("sent %llu\nacked %llu\nnacks %llu\nerrors %llu\n", (unsigned long long)s->sent,
           (unsigned long long)s->acked, (unsigned long long)s->nacks,
           (unsigned long long)s->errors);
    printf("elapsed_s %.3f\ndeltas_per_s %.1f\ncells_per_s %.1f\n", elapsed,
           (double)s->acked / elapsed, (double)s->acked * g->opt.cells / elapsed);
    printf("gen_cpu_us_per_delta %.1f\n", s->acked ? s->cpu_s * 1e6 / (double)s->acked : 0);
    lg_latency_report(g);
    if (g->opt.watch)
        printf("watch_exact %d\nwatch_ms %.1f\n", s->watch_done, s->watch_ms);
}

static int cmd_run(int argc, char **argv)
{
    static lg_t g; /* large: the children table */
    ts_err e = {0};
    char path[TS_PATH_MAX];
    int rc = parse_run(&g, argc, argv, &e);
    if (rc == TS_OK)
        rc = load_keys(&g, &e);
    if (rc == TS_OK && (rc = catalog_resolve_path(g.opt.catalog, path, sizeof path, &e)) == TS_OK)
        rc = catalog_load(&g.cat, path, &e);
    if (rc == TS_OK)
        rc = cellpool_make(&g.pool, g.cat, "X", (size_t)g.opt.distinct, false, &e);
    if (rc == TS_OK && g.pool.n < (size_t)g.opt.cells)
        rc = ts_fail(&e, TS_EINPUT, "the catalog has only %zu cells; --cells must not exceed it",
                     g.pool.n);
    if (rc == TS_OK)
        rc = connect_all(&g, &e);
    if (rc == TS_OK)
        rc = lg_prepare(&g, &e);
    if (rc == TS_OK && g.opt.watch)
        rc = lg_watch_open(&g, &e);
    if (rc == TS_OK)
        rc = lg_loop(&g, &e);
    if (g.st.t0 > 0)
        report(&g);
    if (rc == TS_OK && g.opt.expect)
        rc = lg_write_expect(&g, &e);
    if (rc != TS_OK)
        fprintf(stderr, "loadgen: %s\n", e.msg);
    lg_cleanup(&g);
    return rc;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (sodium_init() < 0) {
        fputs("loadgen: cannot initialise libsodium\n", stderr);
        return 1;
    }
    if (argc < 2) {
        usage();
        return 2;
    }
    if (!strcmp(argv[1], "keys"))
        return cmd_keys(argc - 1, argv + 1);
    if (!strcmp(argv[1], "run"))
        return cmd_run(argc - 1, argv + 1);
    usage();
    return 2;
}
