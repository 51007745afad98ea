/* loadgen.h: the load generator's state, shared by its two files:
 * loadgen.c (command line, keys, sockets, report) and loadgen_run.c (the
 * protocol: welcome, prepared chains, the send/ack loop, the watch). */
#ifndef TIERSYNC_BENCH_LOADGEN_H
#define TIERSYNC_BENCH_LOADGEN_H

#include <stdbool.h>
#include <stdint.h>

#include "cellpool.h"
#include "delta.h"
#include "keys.h"
#include "node.h"

#define LG_MAX_CHILDREN 4096
#define LG_MAX_PARENTS 64
#define LG_MAX_DELTAS 5000000
#define LG_HELLO_RETRY_MS 10000 /* the DEALER queues it until connected */

typedef struct {
    char keysfile[TS_PATH_MAX];
    char endpoint[CONFIG_ENDPOINT_MAX];
    uint8_t pk[crypto_sign_PUBLICKEYBYTES];
    bool has_key;
} lg_parent;

typedef struct {
    char code[TS_CODE_MAX];
    keys_t keys;
    int parent; /* index into lg_t.parents */
    void *sock;
    bool welcomed, failed;
    char parent_code[TS_CODE_MAX]; /* from the Welcome */
    uint64_t base_seq;             /* the parent had applied through this */
    uint8_t base_hash[DELTA_HASH_BYTES];
    int64_t hello_ms;
    uint32_t n;           /* deltas prepared: seq base_seq+1 .. base_seq+n */
    uint32_t next, acked; /* index of the next to send; how many are acknowledged */
    uint8_t **msg;        /* prepared packed envelopes */
    size_t *len;
    int64_t *sent_us; /* when each was last sent */
} lg_child;

typedef struct {
    int children; /* use only the first N (0: all) */
    int cells;    /* cells per delta */
    int distinct; /* cells per child, rotated through */
    int window;   /* deltas in flight per child */
    double rate;  /* deltas per second in all; 0: as fast as acks allow */
    long count;   /* deltas in all */
    int wave;     /* children connecting at once (a parent's ZAP handler queues them) */
    double duration_s, drain_s, connect_s;
    const char *catalog, *expect, *watch;
} lg_opts;

typedef struct {
    double t0, t_last_ack; /* seconds, monotonic */
    double connect_ms, prepare_ms, watch_ms;
    double cpu_s; /* the generator's own CPU time (all threads) while sending and draining */
    uint64_t sent, acked, nacks, errors;
    double *lat_ms; /* one per acknowledged delta */
    size_t nlat;
    int watch_done;
} lg_stats;

typedef struct lg_watch lg_watch;

typedef struct {
    lg_opts opt;
    lg_parent parents[LG_MAX_PARENTS];
    int nparents;
    lg_child kids[LG_MAX_CHILDREN];
    int nkids;
    catalog_t *cat;
    cellpool pool; /* unit "X": each child puts its own code in */
    void *zctx;
    lg_stats st;
    lg_watch *watch;
} lg_t;

/* loadgen_run.c */
void lg_send_hello(lg_child *c);
/* Waits until children [from, to) are welcomed (their chain's head learnt),
 * until deadline_ms (monotonic). */
int lg_welcome(lg_t *g, int from, int to, int64_t deadline_ms, ts_err *e);
/* Signs every child's share of --count deltas, continuing its chain. */
int lg_prepare(lg_t *g, ts_err *e);
/* Reads the watched store's totals before the run (targets = before + sent). */
int lg_watch_open(lg_t *g, ts_err *e);
/* Sends and collects acks until everything is acknowledged or time is up. */
int lg_loop(lg_t *g, ts_err *e);
void lg_latency_report(lg_t *g);
/* Writes the acknowledged increments as "UNIT INDICATOR PERIOD OPTIONS VALUE". */
int lg_write_expect(lg_t *g, ts_err *e);
void lg_cleanup(lg_t *g);

#endif
