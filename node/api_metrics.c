/* api_metrics.c: GET /metrics in the Prometheus text exposition format
 * (version 0.0.4): per-child counters from the children table, the upward
 * link's backlog from meta and pending, the daemon's in-process counters
 * (node/metrics.h), and the LMDB environment's size. */
#include "api_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "outbox.h"
#include "scrub.h"

static void help(FILE *f, const char *name, const char *type, const char *text)
{
    fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, text, name, type);
}

typedef struct {
    FILE *f;
    int pass; /* one metric family per pass over the children */
} child_ctx;

static void on_child(const link_child *ch, void *vctx)
{
    child_ctx *cc = vctx;
    FILE *f = cc->f;
    const char *code = ch->code;
    switch (cc->pass) {
    case 0:
        fprintf(f, "tiersync_child_deltas_applied_total{child=\"%s\"} %llu\n", code,
                (unsigned long long)ch->rec.applied);
        break;
    case 1:
        fprintf(f, "tiersync_child_messages_refused_total{child=\"%s\"} %llu\n", code,
                (unsigned long long)ch->rec.refused);
        break;
    case 2:
        fprintf(f, "tiersync_child_last_seq{child=\"%s\"} %llu\n", code,
                (unsigned long long)ch->rec.last_seq);
        break;
    case 3:
        fprintf(f, "tiersync_child_last_seen_timestamp_seconds{child=\"%s\"} %.3f\n", code,
                (double)ch->rec.last_seen_ms / 1000.0);
        break;
    case 4:
        fprintf(f, "tiersync_child_late{child=\"%s\"} %d\n", code,
                ch->state == LINK_CHILD_NEVER || ch->state == LINK_CHILD_LATE);
        break;
    case 5:
        fprintf(f, "tiersync_child_checkpoints_disagreed_total{child=\"%s\"} %u\n", code,
                ch->rec.checkpoint_findings);
        break;
    case 6:
        fprintf(f, "tiersync_child_behind_deltas{child=\"%s\"} %llu\n", code,
                (unsigned long long)ch->behind);
        break;
    default:
        fprintf(f, "tiersync_child_clock_offset_seconds{child=\"%s\"} %d\n", code,
                (int)ch->clock_offset_s);
        break;
    }
}

static void children(FILE *f, api_ctx *c)
{
    static const char *const fam[][3] = {
        {"tiersync_child_deltas_applied_total", "counter", "Deltas applied from each child."},
        {"tiersync_child_messages_refused_total", "counter",
         "Messages refused from each child (bad signature, gap, foreign unit, ...)."},
        {"tiersync_child_last_seq", "gauge", "Last delta seq applied from each child."},
        {"tiersync_child_last_seen_timestamp_seconds", "gauge",
         "Unix time of the last message from each child (0: never)."},
        {"tiersync_child_late", "gauge",
         "1 when the child has been silent longer than sync.late_after_s (or never reported)."},
        {"tiersync_child_checkpoints_disagreed_total", "counter",
         "Checkpoints from each child that disagreed with the contribution held here."},
        {"tiersync_child_behind_deltas", "gauge",
         "Deltas the child's last hello reported beyond the last one applied here."},
        {"tiersync_child_clock_offset_seconds", "gauge",
         "The child's clock minus this node's, measured at its last hello (sync.max_clock_skew_s)."},
    };
    ts_err e;
    for (int pass = 0; pass < 8; pass++) {
        help(f, fam[pass][0], fam[pass][1], fam[pass][2]);
        child_ctx cc = {f, pass};
        if (link_state_children(c->n->store, c->txn, c->now_ms, c->n->cfg.late_after_s, on_child,
                                &cc, &e))
            return; /* the families so far stay well-formed; the scrape shows the gap */
    }
}

static void link_backlog(FILE *f, api_ctx *c)
{
    store_t *s = c->n->store;
    link_parent p;
    link_state_parent(s, c->txn, &p);
    help(f, "tiersync_head_seq", "gauge", "Seq of this node's newest own delta.");
    fprintf(f, "tiersync_head_seq %llu\n", (unsigned long long)p.head_seq);
    help(f, "tiersync_unacked_deltas", "gauge",
         "Own deltas not yet acknowledged by the parent (head_seq - acked_seq).");
    fprintf(f, "tiersync_unacked_deltas %llu\n", (unsigned long long)p.unacked);
    help(f, "tiersync_outbox_deltas", "gauge", "Deltas kept until the parent acks.");
    fprintf(f, "tiersync_outbox_deltas %llu\n", (unsigned long long)p.outbox_deltas);
    help(f, "tiersync_pending_cells", "gauge",
         "Coalesced cell changes not yet turned into a delta upward.");
    fprintf(f, "tiersync_pending_cells %llu\n", (unsigned long long)p.pending_cells);
    help(f, "tiersync_held_cells", "gauge",
         "Record-derived cell changes waiting for the release window (sync.release_s).");
    fprintf(f, "tiersync_held_cells %llu\n", (unsigned long long)store_count(s, c->txn, DB_HELD));
    help(f, "tiersync_parent_connected", "gauge", "1 while the link to the parent is up.");
    fprintf(f, "tiersync_parent_connected %d\n", p.connected);
    help(f, "tiersync_total_cells", "gauge", "Non-zero rolled-up totals held.");
    uint64_t cells;
    ts_err e;
    if (store_total_cells(s, c->txn, &cells, &e) == TS_OK) /* else the scrape shows the gap */
        fprintf(f, "tiersync_total_cells %llu\n", (unsigned long long)cells);
    help(f, "tiersync_units", "gauge", "Org units known (this node's and every unit below).");
    fprintf(f, "tiersync_units %zu\n", c->tree.n);
}

static void daemon_counters(FILE *f, api_ctx *c)
{
    metrics_t *m = &c->n->metrics;
    help(f, "tiersync_apply_duration_seconds", "histogram",
         "Time to verify and apply one child delta (one write transaction).");
    uint64_t cum = 0;
    for (int b = 0; b < METRICS_APPLY_BUCKETS; b++) {
        cum += atomic_load(&m->apply_bucket[b]);
        if (b < METRICS_APPLY_BUCKETS - 1)
            fprintf(f, "tiersync_apply_duration_seconds_bucket{le=\"%g\"} %llu\n",
                    (double)metrics_apply_bounds_us[b] / 1e6, (unsigned long long)cum);
        else
            fprintf(f, "tiersync_apply_duration_seconds_bucket{le=\"+Inf\"} %llu\n",
                    (unsigned long long)cum);
    }
    fprintf(f, "tiersync_apply_duration_seconds_sum %.6f\n",
            (double)atomic_load(&m->apply_sum_us) / 1e6);
    fprintf(f, "tiersync_apply_duration_seconds_count %llu\n",
            (unsigned long long)atomic_load(&m->apply_count));
    help(f, "tiersync_refused_total", "counter", "Messages refused since the daemon started.");
    fprintf(f, "tiersync_refused_total %llu\n", (unsigned long long)atomic_load(&m->refused));
    help(f, "tiersync_deltas_made_total", "counter",
         "Own deltas written to the outbox since the daemon started.");
    fprintf(f, "tiersync_deltas_made_total %llu\n",
            (unsigned long long)atomic_load(&m->deltas_made));
    help(f, "tiersync_last_flush_timestamp_seconds", "gauge",
         "Unix time of the last own delta made (0: none since start).");
    fprintf(f, "tiersync_last_flush_timestamp_seconds %.3f\n",
            (double)atomic_load(&m->last_flush_ms) / 1000.0);
}

static void lmdb_size(FILE *f, api_ctx *c)
{
    store_info info;
    store_info_get(c->n->store, &info);
    help(f, "tiersync_lmdb_map_size_bytes", "gauge", "Current LMDB map size.");
    fprintf(f, "tiersync_lmdb_map_size_bytes %llu\n", (unsigned long long)info.map_bytes);
    help(f, "tiersync_lmdb_used_bytes", "gauge", "Pages in use in the LMDB file.");
    fprintf(f, "tiersync_lmdb_used_bytes %llu\n", (unsigned long long)info.used_bytes);
    char path[TS_PATH_MAX];
    struct stat sb;
    if (ts_path(path, sizeof path, NULL, "%s/%s/data.mdb", c->n->cfg.dir, STORE_SUBDIR) == TS_OK &&
        stat(path, &sb) == 0) {
        help(f, "tiersync_lmdb_file_bytes", "gauge", "Size of the LMDB data file on disk.");
        fprintf(f, "tiersync_lmdb_file_bytes %lld\n", (long long)sb.st_size);
    }
    help(f, "tiersync_lmdb_max_bytes", "gauge", "Largest map size allowed (store.map_max_mb).");
    fprintf(f, "tiersync_lmdb_max_bytes %llu\n",
            (unsigned long long)c->n->cfg.map_max_mb * 1024 * 1024);
}

static void scrub_figures(FILE *f, api_ctx *c)
{
    scrub_result r;
    scrub_result_get(c->n->store, c->txn, &r);
    help(f, "tiersync_scrub_last_timestamp_seconds", "gauge",
         "Unix time the last self-check of the store ended (0: none yet; audit.scrub_every_h).");
    fprintf(f, "tiersync_scrub_last_timestamp_seconds %.3f\n", (double)r.last_ms / 1000.0);
    help(f, "tiersync_scrub_problems", "gauge",
         "Findings of the last self-check: stored numbers that differ from the signed deltas "
         "and their roll-up (0 when everything held).");
    fprintf(f, "tiersync_scrub_problems %llu\n", (unsigned long long)r.problems);
    help(f, "tiersync_scrub_checked_cells", "gauge", "Totals compared by the last self-check.");
    fprintf(f, "tiersync_scrub_checked_cells %llu\n", (unsigned long long)r.cells);
    help(f, "tiersync_scrub_runs", "counter", "Self-checks completed since the store was made.");
    fprintf(f, "tiersync_scrub_runs %llu\n", (unsigned long long)r.runs);
}

int api_metrics(api_ctx *c, const api_params *p, api_response *r, ts_err *e)
{
    (void)p;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return ts_fail(e, TS_ERUNTIME, "out of memory");
    help(f, "tiersync_info", "gauge", "This node: code, level and version.");
    fprintf(f, "tiersync_info{code=\"%s\",level=\"%s\",version=\"%s\"} 1\n", c->n->cfg.code,
            c->n->cfg.level, TIERSYNC_VERSION);
    children(f, c);
    link_backlog(f, c);
    daemon_counters(f, c);
    lmdb_size(f, c);
    scrub_figures(f, c);
    fclose(f);
    free(r->body);
    r->status = 200;
    r->content_type = "text/plain; version=0.0.4; charset=utf-8";
    r->body = buf;
    r->len = len;
    return TS_OK;
}
