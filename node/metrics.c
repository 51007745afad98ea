/* metrics.c: the apply latency histogram. */
#include "metrics.h"

const uint64_t metrics_apply_bounds_us[METRICS_APPLY_BUCKETS - 1] = {
    100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 1000000};

void metrics_observe_apply(metrics_t *m, uint64_t us)
{
    int b = 0;
    while (b < METRICS_APPLY_BUCKETS - 1 && us > metrics_apply_bounds_us[b])
        b++;
    atomic_fetch_add(&m->apply_bucket[b], 1);
    atomic_fetch_add(&m->apply_sum_us, us);
    atomic_fetch_add(&m->apply_count, 1);
}
