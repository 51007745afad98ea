/* cli_status.c: `tiersync status`: the parent link and every child, as an
 * operator checks them (also --json for monitoring scripts). */
#include <jansson.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "clock.h"
#include "node.h"
#include "delta.h"
#include "link_state.h"
#include "merge_state.h"
#include "outbox.h"
#include "rotate_node.h"
#include "scrub.h"
#include "uplink.h"

static const char status_help[] =
    "usage: tiersync status --dir DIR [--json]\n\n"
    "Shows this node, its parent link (connected, last ack, unacknowledged deltas,\n"
    "pending cells, record-derived cells held for the release window, the next\n"
    "release, the last checkpoint) and each child (last seq, last seen, refused\n"
    "messages, checkpoints that disagreed, and whether it is current or late).\n";

static json_t *iso_time(int64_t ms)
{
    char buf[TS_ISO_TIME_MAX];
    ts_iso_time(ms, buf);
    return ms ? json_string(buf) : json_null();
}

static void add_child(const link_child *c, void *arr)
{
    char fp[KEYS_FINGERPRINT_LEN];
    keys_fingerprint(c->rec.pk, fp);
    const char *refusal = c->rec.last_refusal ? delta_reason_name((int)c->rec.last_refusal, "")
                                              : "";
    json_array_append_new(
        arr,
        json_pack("{s:s,s:s,s:I,s:I,s:o,s:o,s:I,s:I,s:s,s:s,s:I,s:o}", "code", c->code,
                  "fingerprint", fp, "last_seq", (json_int_t)c->rec.last_seq, "reported_head",
                  (json_int_t)c->rec.reported_head, "last_seen", iso_time(c->rec.last_seen_ms),
                  "last_applied", iso_time(c->rec.last_applied_ms), "applied",
                  (json_int_t)c->rec.applied, "refused", (json_int_t)c->rec.refused, "last_refusal",
                  refusal, "state", link_child_state_name(c->state), "checkpoints_disagreed",
                  (json_int_t)c->rec.checkpoint_findings, "clock_offset_s",
                  c->rec.last_seen_ms ? json_integer(c->clock_offset_s) : json_null()));
}

static int add_waiting(const char *code, void *ctx)
{
    json_array_append_new(ctx, json_string(code));
    return 0;
}

static const char *const merge_phases[] = {"", "merging", "merged", "retired"};

static int add_taken(const store_val *k, const store_val *v, void *arr)
{
    char d[MERGE_DATE_TEXT];
    int32_t on;
    size_t plen = strlen(MERGE_META_FROM);
    if (v->len != sizeof on || k->len <= plen)
        return 0;
    memcpy(&on, v->data, sizeof on);
    json_array_append_new(arr,
                          json_pack("{s:s%,s:s}", "code", (const char *)k->data + plen,
                                    k->len - plen, "on", merge_date_text(on, d)));
    return 0;
}

/* Merges (merge_state.h): this unit's own, the units it took in, and each
 * child's unit merged into another (its link closed). */
static void merge_json(store_t *s, store_txn *txn, json_t *st, json_t *kids)
{
    merge_state m;
    char d[MERGE_DATE_TEXT];
    merge_state_get(s, txn, &m);
    json_object_set_new(st, "merge",
                        m.phase == MERGE_NONE
                            ? json_null()
                            : json_pack("{s:s,s:s,s:s}", "phase", merge_phases[m.phase], "into",
                                        m.into, "on", merge_date_text(m.on, d)));
    json_t *from = json_array();
    store_scan(s, txn, DB_META, MERGE_META_FROM, add_taken, from, NULL, NULL);
    json_object_set_new(st, "merged_from", from);
    size_t i;
    json_t *c;
    json_array_foreach (kids, i, c) {
        store_unit u;
        bool merged = store_unit_get(s, txn, json_string_value(json_object_get(c, "code")), &u) ==
                TS_OK &&
            u.merged_into[0];
        json_object_set_new(c, "merged_into", merged ? json_string(u.merged_into) : json_null());
        json_object_set_new(c, "merged_on",
                            merged ? json_string(merge_date_text(u.merged_on, d)) : json_null());
    }
}

static void print_merge(const json_t *st)
{
    const json_t *m = json_object_get(st, "merge"), *from = json_object_get(st, "merged_from");
    if (json_is_object(m))
        printf("merge     merged into %s from %s (%s)\n",
               json_string_value(json_object_get(m, "into")),
               json_string_value(json_object_get(m, "on")),
               json_string_value(json_object_get(m, "phase")));
    size_t i;
    const json_t *f;
    json_array_foreach (from, i, f)
        printf("%s%s (from %s)%s", i ? ", " : "merged    took in ",
               json_string_value(json_object_get(f, "code")),
               json_string_value(json_object_get(f, "on")),
               i + 1 == json_array_size(from) ? "\n" : "");
}

/* This node's key rotation under way (rotate.h), or null. */
static json_t *rotation_json(store_t *s, store_txn *txn)
{
    rotate_state st;
    if (!rotate_state_get(s, txn, &st))
        return json_null();
    char from[KEYS_FINGERPRINT_LEN], to[KEYS_FINGERPRINT_LEN];
    keys_fingerprint(st.old_pk, from);
    keys_fingerprint(st.new_pk, to);
    json_t *waiting = json_array();
    rotate_waiting(s, txn, &st, add_waiting, waiting);
    return json_pack("{s:s,s:s,s:I,s:o,s:b,s:o}", "old_fingerprint", from, "new_fingerprint", to,
                     "from_seq", (json_int_t)st.from_seq, "started", iso_time(st.created_ms),
                     "parent_acknowledged", (int)st.parent_done, "children_waiting", waiting);
}

typedef struct {
    const catalog_t *cat;
    int parent_today;
    json_int_t waiting;
} future_ctx;

static int count_future(const store_val *k, const store_val *v, void *vctx)
{
    (void)v;
    future_ctx *f = vctx;
    ts_cell c;
    if (cell_parse(k->data, k->len, &c, NULL) == TS_OK &&
        cell_after_today(f->cat, &c, f->parent_today))
        f->waiting++;
    return 0;
}

/* The clock as the parent sees it: this node's offset from the parent's, and
 * the pending cells of months the parent has not begun (outbox.h). */
static json_t *parent_clock_json(node_t *n, store_txn *txn, ts_err *e)
{
    future_ctx f = {n->catalog, (int)store_meta_u64(n->store, txn, LINK_META_PARENT_TODAY), 0};
    if (f.parent_today == LINK_PARENT_TODAY_UNTOLD)
        f.parent_today = 0; /* its parent does not tell its date */
    if (f.parent_today && store_scan(n->store, txn, DB_PENDING, NULL, count_future, &f, NULL, e))
        return NULL;
    char day[16] = "";
    if (f.parent_today)
        snprintf(day, sizeof day, "%04d-%02d-%02d", f.parent_today / 10000,
                 f.parent_today / 100 % 100, f.parent_today % 100);
    int64_t off_ms = (int64_t)store_meta_u64(n->store, txn, LINK_META_PARENT_OFFSET);
    return json_pack("{s:o,s:o,s:I}", "parent_today", day[0] ? json_string(day) : json_null(),
                     "clock_offset_s", day[0] ? json_integer(-off_ms / 1000) : json_null(),
                     "waiting_future_cells", f.waiting);
}

static json_t *status_json(node_t *n, store_txn *txn, ts_err *e)
{
    store_t *s = n->store;
    char pk[KEYS_PUB_HEX_LEN + 1] = "", fp[KEYS_FINGERPRINT_LEN] = "";
    uint8_t raw[32];
    char *pub = NULL;
    char path[TS_PATH_MAX];
    if (ts_path(path, sizeof path, NULL, "%s/%s", n->cfg.dir, KEYS_PUBLIC_FILE) == TS_OK &&
        ts_read_file(path, &pub, NULL, NULL) == TS_OK) {
        pub[strcspn(pub, "\r\n")] = '\0';
        if (ts_unhex(pub, raw, sizeof raw) == 0) {
            ts_hex(raw, sizeof raw, pk);
            keys_fingerprint(raw, fp);
        }
        free(pub);
    }
    uint64_t cells;
    if (store_total_cells(s, txn, &cells, e))
        return NULL;
    json_t *st = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:I}", "code", n->cfg.code, "name",
                           n->cfg.name, "level", n->cfg.level, "public_key", pk, "fingerprint", fp,
                           "catalog", n->catalog->id, "total_cells", (json_int_t)cells);
    if (n->cfg.parent[0]) {
        link_parent p;
        link_state_parent(s, txn, &p);
        json_object_set_new(st, "parent",
                            json_pack("{s:s,s:s,s:b,s:I,s:I,s:I,s:I,s:o}", "endpoint",
                                      n->cfg.parent, "code", p.code, "connected", p.connected,
                                      "head_seq", (json_int_t)p.head_seq, "acked_seq",
                                      (json_int_t)p.acked_seq, "unacked", (json_int_t)p.unacked,
                                      "pending_cells", (json_int_t)p.pending_cells, "last_ack",
                                      iso_time(p.last_ack_ms)));
        json_t *pj = json_object_get(st, "parent");
        int64_t released = (int64_t)store_meta_u64(s, txn, OUTBOX_META_RELEASE);
        /* 0 = at every flush; before the daemon's first run, a window from then */
        json_object_set_new(pj, "release_s", json_integer(n->cfg.release_s));
        json_object_set_new(pj, "held_cells",
                            json_integer((json_int_t)store_count(s, txn, DB_HELD)));
        json_object_set_new(pj, "next_release",
                            n->cfg.release_s && released
                                ? iso_time(released + (int64_t)n->cfg.release_s * 1000)
                                : json_null());
        json_object_set_new(pj, "last_checkpoint",
                            iso_time((int64_t)store_meta_u64(s, txn, OUTBOX_META_CHECKPOINT)));
        json_t *clock = parent_clock_json(n, txn, e);
        if (!clock) {
            json_decref(st);
            return NULL;
        }
        json_object_update(json_object_get(st, "parent"), clock);
        json_decref(clock);
    } else {
        json_object_set_new(st, "parent", json_null());
    }
    json_t *kids = json_array();
    json_object_set_new(st, "children", kids);
    if (link_state_children(s, txn, ts_now_ms(), n->cfg.late_after_s, add_child, kids, e)) {
        json_decref(st);
        return NULL;
    }
    json_object_set_new(st, "key_rotation", rotation_json(s, txn));
    merge_json(s, txn, st, kids);
    scrub_result sr;
    scrub_result_get(s, txn, &sr);
    json_object_set_new(st, "scrub",
                        json_pack("{s:o,s:I,s:I,s:I,s:I,s:I,s:f}", "last", iso_time(sr.last_ms),
                                  "problems", (json_int_t)sr.problems, "children",
                                  (json_int_t)sr.children, "deltas", (json_int_t)sr.deltas, "cells",
                                  (json_int_t)sr.cells, "runs", (json_int_t)sr.runs, "every_h",
                                  n->cfg.scrub_every_h));
    return st;
}

static void print_text(const json_t *st)
{
    printf("node      %s  %s (%s)\n", json_string_value(json_object_get(st, "code")),
           json_string_value(json_object_get(st, "name")),
           json_string_value(json_object_get(st, "level")));
    printf("key       %s  (fingerprint %s)\n", json_string_value(json_object_get(st, "public_key")),
           json_string_value(json_object_get(st, "fingerprint")));
    const json_t *r = json_object_get(st, "key_rotation");
    if (json_is_object(r)) {
        const json_t *w = json_object_get(r, "children_waiting");
        printf("rotation  %s -> %s from seq %lld: parent %s, %zu children waiting",
               json_string_value(json_object_get(r, "old_fingerprint")),
               json_string_value(json_object_get(r, "new_fingerprint")),
               (long long)json_integer_value(json_object_get(r, "from_seq")),
               json_is_true(json_object_get(r, "parent_acknowledged")) ? "has it" : "waiting",
               json_array_size(w));
        size_t i;
        const json_t *c;
        json_array_foreach (w, i, c)
            printf("%s%s", i ? " " : ": ", json_string_value(c));
        printf("\n");
    }
    print_merge(st);
    const json_t *p = json_object_get(st, "parent");
    if (json_is_object(p)) {
        const json_t *la = json_object_get(p, "last_ack");
        printf("parent    %s %s  %s  head %lld, acked %lld, unacked %lld, pending cells %lld, "
               "last ack %s\n",
               json_string_value(json_object_get(p, "endpoint")),
               json_string_value(json_object_get(p, "code")),
               json_is_true(json_object_get(p, "connected")) ? "connected" : "DISCONNECTED",
               (long long)json_integer_value(json_object_get(p, "head_seq")),
               (long long)json_integer_value(json_object_get(p, "acked_seq")),
               (long long)json_integer_value(json_object_get(p, "unacked")),
               (long long)json_integer_value(json_object_get(p, "pending_cells")),
               json_is_string(la) ? json_string_value(la) : "never");
        const json_t *off = json_object_get(p, "clock_offset_s");
        json_int_t wait = json_integer_value(json_object_get(p, "waiting_future_cells"));
        char waiting[160] = "";
        if (wait)
            snprintf(waiting, sizeof waiting,
                     "; %lld cells wait for their months to begin at "
                     "the parent: is this computer's date right?",
                     (long long)wait);
        if (json_is_integer(off) && (json_integer_value(off) || wait))
            printf("clock     %+lld s from the parent's (its date %s)%s\n",
                   (long long)json_integer_value(off),
                   json_string_value(json_object_get(p, "parent_today")), waiting);
        const json_t *next = json_object_get(p, "next_release"),
                     *ck = json_object_get(p, "last_checkpoint");
        printf("release   %lld record-derived cells held, ",
               (long long)json_integer_value(json_object_get(p, "held_cells")));
        if (json_is_string(next))
            printf("next release %s (every %lld s)", json_string_value(next),
                   (long long)json_integer_value(json_object_get(p, "release_s")));
        else
            printf("released at every flush (release_s = 0)");
        printf(", last checkpoint %s\n", json_is_string(ck) ? json_string_value(ck) : "never");
    } else {
        printf("parent    none (root of the tree)\n");
    }
    const json_t *sc = json_object_get(st, "scrub");
    const json_t *last = json_object_get(sc, "last");
    if (json_is_string(last))
        printf(
            "scrub     last %s: %lld problems in %lld children's trails and %lld totals%s\n",
            json_string_value(last), (long long)json_integer_value(json_object_get(sc, "problems")),
            (long long)json_integer_value(json_object_get(sc, "children")),
            (long long)json_integer_value(json_object_get(sc, "cells")),
            json_integer_value(json_object_get(sc, "problems")) ? "  (run 'tiersync verify')" : "");
    else
        printf("scrub     not run yet (every %g h)\n",
               json_real_value(json_object_get(sc, "every_h")));
    const json_t *kids = json_object_get(st, "children");
    printf("children  %zu\n", json_array_size(kids));
    if (json_array_size(kids))
        printf("  %-12s %-20s %8s %8s %8s %8s  %-8s %-20s %s\n", "CODE", "FINGERPRINT", "LAST_SEQ",
               "APPLIED", "REFUSED", "CKPT_BAD", "STATE", "LAST_SEEN", "CLOCK_S");
    size_t i;
    const json_t *c;
    json_array_foreach (kids, i, c) {
        const json_t *seen = json_object_get(c, "last_seen");
        const json_t *clock = json_object_get(c, "clock_offset_s");
        char off[24] = "-";
        if (json_is_integer(clock))
            snprintf(off, sizeof off, "%+lld", (long long)json_integer_value(clock));
        const json_t *into = json_object_get(c, "merged_into");
        printf("  %-12s %-20s %8lld %8lld %8lld %8lld  %-8s %-20s %s%s%s%s%s\n",
               json_string_value(json_object_get(c, "code")),
               json_string_value(json_object_get(c, "fingerprint")),
               (long long)json_integer_value(json_object_get(c, "last_seq")),
               (long long)json_integer_value(json_object_get(c, "applied")),
               (long long)json_integer_value(json_object_get(c, "refused")),
               (long long)json_integer_value(json_object_get(c, "checkpoints_disagreed")),
               json_string_value(json_object_get(c, "state")),
               json_is_string(seen) ? json_string_value(seen) : "never", off,
               into ? "  merged into " : "", into ? json_string_value(into) : "",
               into ? " from " : "",
               into ? json_string_value(json_object_get(c, "merged_on")) : "");
    }
}

int cli_status(int argc, char **argv)
{
    static const struct option opts[] = {
        CLI_COMMON_OPTS, {"json", no_argument, 0, 'j'}, {0, 0, 0, 0}};
    const char *dir = NULL;
    bool as_json = false;
    int o;
    while ((o = getopt_long(argc, argv, "d:h", opts, NULL)) != -1) {
        switch (o) {
        case 'd': dir = optarg; break;
        case 'h': fputs(status_help, stdout); return 0;
        case 'j': as_json = true; break;
        default: return cli_usage_error("status", "unknown option");
        }
    }
    if (optind < argc)
        return cli_usage_error("status", "unexpected argument '%s'", argv[optind]);
    node_t n;
    ts_err e = {0};
    if (node_open(&n, cli_dir(dir), 0, &e))
        return cli_report(&e);
    store_txn *txn;
    int rc = store_read_begin(n.store, &txn, &e);
    if (rc == TS_OK) {
        json_t *st = status_json(&n, txn, &e);
        store_read_end(txn);
        if (!st) {
            rc = e.code;
        } else if (as_json) {
            json_dumpf(st, stdout, JSON_COMPACT | JSON_ENSURE_ASCII);
            putchar('\n');
        } else {
            print_text(st);
        }
        json_decref(st);
    }
    node_close(&n);
    return rc ? cli_report(&e) : 0;
}
