/* change_burst.c: many separate changes at one node, fast, for the
 * replication fault tests: for i = 1..N it commits, each in its own write
 * transaction, COUNSELLING_POINTS[PERIOD] = i and STAFF_TRAINED[YEAR] = 2i.
 * Prints N once every change is committed.
 *
 * usage: change_burst DIR N [PERIOD=202611] [DELAY_US=0] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "node.h"

typedef struct {
    ts_cell points, staff;
    int64_t i;
} burst;

static int set_both(store_t *s, store_txn *txn, void *ctx, ts_err *e)
{
    burst *b = ctx;
    if (store_set_value(s, txn, &b->points, b->i, NULL, e))
        return e->code;
    return store_set_value(s, txn, &b->staff, 2 * b->i, NULL, e);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: change_burst DIR N [PERIOD] [DELAY_US]\n");
        return 2;
    }
    const char *period = argc > 3 ? argv[3] : "202611";
    long delay = argc > 4 ? atol(argv[4]) : 0;
    node_t n;
    ts_err e = {0};
    if (node_open(&n, argv[1], 0, &e)) {
        fprintf(stderr, "change_burst: %s\n", e.msg);
        return 1;
    }
    burst b = {0};
    char year[5];
    snprintf(year, sizeof year, "%.4s", period);
    cell_set(&b.points, n.cfg.code, "COUNSELLING_POINTS", period, "", NULL);
    cell_set(&b.staff, n.cfg.code, "STAFF_TRAINED", year, "", NULL);
    long count = atol(argv[2]);
    for (b.i = 1; b.i <= count; b.i++) {
        if (store_write(n.store, set_both, &b, &e)) {
            fprintf(stderr, "change_burst: %s\n", e.msg);
            return 1;
        }
        if (delay)
            usleep((useconds_t)delay);
    }
    printf("%lld\n", (long long)count);
    node_close(&n);
    return 0;
}
