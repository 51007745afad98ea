/* metrics.h: in-process counters the daemon updates and the HTTP thread
 * reads (/metrics, Prometheus text format). Atomics: two threads, no locks.
 * Per-child counters live in the store (children table), not here. */
#ifndef TIERSYNC_METRICS_H
#define TIERSYNC_METRICS_H

#include <stdatomic.h>
#include <stdint.h>

#define METRICS_APPLY_BUCKETS 12

/* Upper bounds (microseconds) of the apply latency histogram buckets; the
 * last bucket is +Inf. */
extern const uint64_t metrics_apply_bounds_us[METRICS_APPLY_BUCKETS - 1];

typedef struct {
    _Atomic uint64_t apply_bucket[METRICS_APPLY_BUCKETS];
    _Atomic uint64_t apply_sum_us;
    _Atomic uint64_t apply_count;
    _Atomic uint64_t refused;      /* messages refused since start */
    _Atomic uint64_t deltas_made;  /* own deltas written to the outbox */
    _Atomic int64_t last_flush_ms; /* wall clock of the last own delta */
} metrics_t;

/* Records one delta apply that took us microseconds. */
void metrics_observe_apply(metrics_t *m, uint64_t us);

#endif
