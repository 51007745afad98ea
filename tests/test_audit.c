/* test_audit.c: the audit trail (audit.c) and `tiersync verify`'s checks
 * (audit_check.c) on a real store fed through apply_message: an honest store
 * verifies; an altered total, contribution or stored delta is found and
 * named; retention folds old deltas into a checkpoint that still verifies
 * and never folds an altered one, a slice of children per transaction; a
 * long delta is kept in pieces and read whole; a trail in the old layout is
 * moved into the log. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apply.h"
#include "audit.h"
#include "audit_check.h"
#include "audit_checkpoint.h"
#include "audit_folded.h"
#include "link_state.h"
#include "store_lmdb.h" /* downgrade: the pre-log table "audit" is not one of store_db */

#define SELF "34"
#define CHILD "341"

typedef struct {
    char dir[512];
    node_t n;
    keys_t child;
    uint64_t seq;
    uint8_t hash[DELTA_HASH_BYTES];
    char lines[64][TS_ERR_MSG_MAX];
    int nlines;
    audit_check_summary sum;
} fixture;

static int enrol(store_t *s, store_txn *txn, void *ctx, ts_err *e)
{
    fixture *f = ctx;
    store_child ch = {0};
    store_unit self = {0}, child = {0};
    memcpy(ch.pk, f->child.pk, sizeof ch.pk);
    snprintf(child.parent, sizeof child.parent, SELF);
    snprintf(child.via, sizeof child.via, CHILD);
    if (store_unit_put(s, txn, SELF, &self, e) || store_unit_put(s, txn, CHILD, &child, e))
        return e->code;
    return store_child_put(s, txn, CHILD, &ch, e);
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    tu_node_open(&f->n, f->dir, sizeof f->dir, "audit", SELF);
    ts_err e = {0};
    crypto_sign_keypair(f->child.pk, f->child.sk);
    assert_int_equal(store_write(f->n.store, enrol, f, &e), TS_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    node_close(&f->n);
    tu_rmrf(f->dir);
    free(f);
    return 0;
}

/* The child's next delta (or snapshot), its units announced. */
static delta_builder *next_delta(fixture *f, bool snapshot)
{
    delta_builder *b = delta_builder_new(CHILD, f->child.pk, f->seq + 1, f->hash, f->n.catalog->id,
                                         (uint32_t)f->n.catalog->version, snapshot);
    delta_add_unit(b, CHILD, "District 1", "district", "");
    delta_add_unit(b, "34101", "Commune 1", "commune", CHILD);
    return b;
}

/* Signs b with k as child code's next delta after *seq and *hash, sends
 * it and checks that it was applied; returns the reply. */
static apply_reply sign_and_apply(fixture *f, const char *code, const keys_t *k, uint64_t *seq,
                                  uint8_t *hash, delta_builder *b)
{
    uint8_t *msg;
    size_t len;
    delta_finish(b, k, &msg, &len, hash);
    delta_builder_destroy(&b);
    apply_reply r;
    ts_err e = {0};
    assert_int_equal(apply_message(&f->n, code, msg, len, &r, &e), TS_OK);
    assert_int_equal(r.kind, TIERSYNC__ENVELOPE__MSG_ACK);
    assert_int_equal(r.seq, *seq + 1);
    ++*seq;
    free(msg);
    return r;
}

static apply_reply finish_and_send(fixture *f, delta_builder *b)
{
    return sign_and_apply(f, CHILD, &f->child, &f->seq, f->hash, b);
}

/* Sends the child's next delta (or snapshot) with one cell at unit
 * 34101 (announced under the child) and one at the child itself; returns
 * the parent's reply. */
static apply_reply send(fixture *f, bool snapshot, int64_t points, int64_t staff)
{
    delta_builder *b = next_delta(f, snapshot);
    ts_cell c;
    assert_int_equal(cell_set(&c, "34101", "COUNSELLING_POINTS", "202406", "", NULL), TS_OK);
    delta_add_cell(b, &c, (disclose_fig){points, 0});
    assert_int_equal(cell_set(&c, CHILD, "STAFF_TRAINED", "2024", "", NULL), TS_OK);
    delta_add_cell(b, &c, (disclose_fig){staff, 0});
    return finish_and_send(f, b);
}

static void collect(void *ctx, bool problem, const char *line)
{
    fixture *f = ctx;
    if (f->nlines < 64)
        snprintf(f->lines[f->nlines++], TS_ERR_MSG_MAX, "%s%s", problem ? "PROBLEM " : "", line);
}

static void run_verify(fixture *f, const char *unit)
{
    ts_err e = {0};
    f->nlines = 0;
    assert_int_equal(audit_check_node(&f->n, unit, collect, f, &f->sum, &e), TS_OK);
}

/* True when some line holds every one of the (NULL-ended) fragments. */
static bool said(const fixture *f, ...)
{
    for (int i = 0; i < f->nlines; i++) {
        va_list ap;
        va_start(ap, f);
        bool all = true;
        for (const char *frag; (frag = va_arg(ap, const char *));)
            all = all && strstr(f->lines[i], frag);
        va_end(ap);
        if (all)
            return true;
    }
    return false;
}

typedef struct {
    store_db db;
    char key[AUDIT_KEY_MAX + CELL_KEY_MAX];
    size_t klen;
    int64_t value;
    size_t flip; /* audit: byte of the value to flip */
} tamper_ctx;

static int put_i64(store_t *s, store_txn *txn, void *ctx, ts_err *e)
{
    tamper_ctx *t = ctx;
    return store_put(s, txn, t->db, t->key, t->klen, &t->value, sizeof t->value, e);
}

static int drop_entry(store_t *s, store_txn *txn, void *ctx, ts_err *e)
{
    tamper_ctx *t = ctx;
    return audit_log_del(s, txn, t->key, t->klen, e);
}

static int flip_byte(store_t *s, store_txn *txn, void *ctx, ts_err *e)
{
    tamper_ctx *t = ctx;
    store_val v;
    uint8_t *buf = NULL;
    if (audit_log_get(s, txn, t->key, t->klen, &v, &buf, e) != TS_OK)
        return ts_fail(e, TS_EINPUT, "no such audit entry");
    uint8_t *copy = malloc(v.len);
    memcpy(copy, v.data, v.len);
    free(buf);
    copy[t->flip % v.len] ^= 0x01;
    int rc = audit_log_put(s, txn, t->key, t->klen, copy, v.len, e);
    free(copy);
    return rc;
}

static void tamper_i64(fixture *f, store_db db, const char *key, int64_t v)
{
    tamper_ctx t = {.db = db, .value = v};
    t.klen = (size_t)snprintf(t.key, sizeof t.key, "%s", key);
    ts_err e = {0};
    assert_int_equal(store_write(f->n.store, put_i64, &t, &e), TS_OK);
}

static void tamper_delta(fixture *f, uint64_t seq, size_t byte)
{
    tamper_ctx t = {.flip = byte};
    t.klen = audit_key(CHILD, seq, t.key);
    ts_err e = {0};
    assert_int_equal(store_write(f->n.store, flip_byte, &t, &e), TS_OK);
}

static void honest_store_verifies(void **state)
{
    fixture *f = *state;
    run_verify(f, NULL);
    assert_int_equal(f->sum.problems, 0);
    assert_true(said(f, "child 341: nothing applied yet", NULL));
    send(f, false, 3, 1);
    send(f, false, 2, 1);
    send(f, false, -1, 0);
    run_verify(f, NULL);
    assert_int_equal(f->sum.problems, 0);
    assert_int_equal(f->sum.deltas, 3);
    assert_int_equal(f->sum.children, 1);
    assert_true(said(f, "child 341: seq 1..3 checked: 3 signed deltas", NULL));
    assert_true(said(f, "child 341: its contribution (2 cells) equals", NULL));
    /* 34101, 341 and 34 for the points; 341 and 34 for the staff */
    assert_int_equal(f->sum.cells, 5);
}

static void altered_total_is_named(void **state)
{
    fixture *f = *state;
    send(f, false, 3, 1);
    tamper_i64(f, DB_TOTALS, "341|COUNSELLING_POINTS|202406|", 9);
    run_verify(f, NULL);
    assert_int_equal(f->sum.problems, 1);
    assert_true(
        said(f, "PROBLEM total 341|COUNSELLING_POINTS|202406|: expected 3", "found 9", NULL));
    /* a total that should not exist at all */
    tamper_i64(f, DB_TOTALS, "341|COUNSELLING_POINTS|202407|", 4);
    run_verify(f, NULL);
    assert_true(
        said(f, "PROBLEM total 341|COUNSELLING_POINTS|202407|: expected 0", "found 4", NULL));
    /* --unit limits the totals to the unit and below: 34101 is not affected */
    run_verify(f, "34101");
    assert_int_equal(f->sum.problems, 0);
    run_verify(f, CHILD);
    assert_int_equal(f->sum.problems, 2);
}

static void altered_contribution_is_named(void **state)
{
    fixture *f = *state;
    send(f, false, 3, 1);
    send(f, false, 1, 1);
    tamper_i64(f, DB_CONTRIB, "341|34101|COUNSELLING_POINTS|202406|", 5);
    run_verify(f, NULL);
    assert_true(said(f,
                     "PROBLEM child 341 contribution 34101|COUNSELLING_POINTS|202406|: "
                     "expected 4 (the sum of its signed deltas), found 5",
                     NULL));
    /* leaf 34101's totals are that contribution; its parent's total now
     * differs from the roll-up of what contrib holds */
    assert_true(
        said(f, "PROBLEM total 341|COUNSELLING_POINTS|202406|: expected 5", "found 4", NULL));
}

static void altered_delta_is_named(void **state)
{
    fixture *f = *state;
    send(f, false, 3, 1);
    send(f, false, 2, 1);
    send(f, false, 1, 1);
    tamper_delta(f, 2, 200);
    run_verify(f, NULL);
    assert_true(f->sum.problems >= 1);
    assert_true(said(f, "PROBLEM child 341 seq 2:", NULL));
    assert_false(said(f, "PROBLEM child 341 seq 1:", NULL));
    assert_false(said(f, "PROBLEM child 341 seq 3:", NULL));
    tamper_delta(f, 2, 200); /* as it was again */
    run_verify(f, NULL);
    assert_int_equal(f->sum.problems, 0);
    /* a delta taken out of the trail breaks the chain at the next one */
    tamper_ctx t = {0};
    t.klen = audit_key(CHILD, 2, t.key);
    ts_err e = {0};
    assert_int_equal(store_write(f->n.store, drop_entry, &t, &e), TS_OK);
    run_verify(f, NULL);
    assert_true(said(f, "PROBLEM child 341 seq 3: does not follow seq 1: seq 2..2 missing", NULL));
    assert_true(said(f,
                     "PROBLEM child 341 contribution 34101|COUNSELLING_POINTS|202406|: "
                     "expected 4",
                     "found 6", NULL));
}

/* Five deltas, the newest two retained: a checkpoint at seq 3. */
static void fold_five(fixture *f)
{
    f->n.cfg.audit_retain = 2;
    for (int i = 1; i <= 5; i++)
        send(f, false, i, 1);
    ts_err e = {0};
    assert_int_equal(audit_prune(&f->n, &e), TS_OK);
}

static void retention_keeps_a_checkpoint(void **state)
{
    fixture *f = *state;
    fold_five(f);
    ts_err e = {0};
    store_txn *txn;
    assert_int_equal(store_read_begin(f->n.store, &txn, &e), TS_OK);
    assert_int_equal(store_count(f->n.store, txn, DB_AUDIT_INDEX), 2);  /* 2 deltas */
    assert_int_equal(store_count(f->n.store, txn, DB_AUDIT_LOG), 2);    /* nothing left behind */
    assert_int_equal(store_count(f->n.store, txn, DB_AUDIT_FOLDED), 1); /* the checkpoint */
    store_read_end(txn);
    run_verify(f, NULL);
    assert_int_equal(f->sum.problems, 0);
    assert_int_equal(f->sum.deltas, 2);
    assert_true(said(f, "child 341: seq 4..5 checked", "seq 1..3 were pruned", NULL));
    /* pruning again changes nothing; a later delta moves the checkpoint on */
    assert_int_equal(audit_prune(&f->n, &e), TS_OK);
    send(f, false, 6, 1);
    assert_int_equal(audit_prune(&f->n, &e), TS_OK);
    run_verify(f, NULL);
    assert_int_equal(f->sum.problems, 0);
    assert_true(said(f, "child 341: seq 5..6 checked", NULL));
    /* the checkpoint is as checkable as the rest: alter the contribution */
    tamper_i64(f, DB_CONTRIB, "341|341|STAFF_TRAINED|2024|", 7);
    run_verify(f, NULL);
    assert_true(said(f, "PROBLEM child 341 contribution 341|STAFF_TRAINED|2024|: expected 6",
                     "found 7", NULL));
}

static void retention_never_folds_an_altered_delta(void **state)
{
    fixture *f = *state;
    f->n.cfg.audit_retain = 1;
    for (int i = 1; i <= 4; i++)
        send(f, false, 1, 1);
    tamper_delta(f, 3, 150);
    ts_err e = {0};
    assert_int_equal(audit_prune(&f->n, &e), TS_EINPUT);
    assert_non_null(strstr(e.msg, "child 341: seq 3:"));
    run_verify(f, NULL);
    /* seq 1..2 folded, 3 (altered) and 4 kept: verify still names seq 3,
     * and only seq 3 */
    assert_true(said(f, "PROBLEM child 341 seq 3:", NULL));
    assert_false(said(f, "PROBLEM child 341 seq 4:", NULL));
    assert_true(said(f, "child 341: seq 3..4 checked: 2 signed deltas, 1 failing",
                     "seq 1..2 "
                     "were pruned",
                     NULL));
    assert_int_equal(f->sum.deltas, 2);
}

static void snapshot_restarts_the_contribution(void **state)
{
    fixture *f = *state;
    send(f, false, 3, 1);
    send(f, false, 2, 1);
    send(f, true, 10, 4); /* the child's whole contribution now */
    send(f, false, 1, 0);
    run_verify(f, NULL);
    assert_int_equal(f->sum.problems, 0);
    store_txn *txn;
    ts_err e = {0};
    assert_int_equal(store_read_begin(f->n.store, &txn, &e), TS_OK);
    const char *k = "341|34101|COUNSELLING_POINTS|202406|";
    assert_int_equal(store_get_fig(f->n.store, txn, DB_CONTRIB, k, strlen(k)).v, 11);
    k = "34|STAFF_TRAINED|2024|";
    assert_int_equal(store_get_fig(f->n.store, txn, DB_TOTALS, k, strlen(k)).v, 4);
    store_read_end(txn);
    /* folding across the snapshot keeps the checkpoint right */
    f->n.cfg.audit_retain = 1;
    assert_int_equal(audit_prune(&f->n, &e), TS_OK);
    run_verify(f, NULL);
    assert_int_equal(f->sum.problems, 0);
    assert_true(said(f, "child 341: seq 4..4 checked", NULL));
}

/* Sends the child's next delta with n cells at unit 34101, one a month from 2001. */
static void send_wide(fixture *f, int n)
{
    delta_builder *b = next_delta(f, false);
    for (int i = 0; i < n; i++) {
        char unit[8], period[8]; /* 300 months a unit */
        snprintf(unit, sizeof unit, "341%02d", 1 + i / 300);
        if (i % 300 == 0 && i)
            delta_add_unit(b, unit, "Commune", "commune", CHILD);
        snprintf(period, sizeof period, "%04d%02d", 2001 + i % 300 / 12, 1 + i % 12);
        ts_cell c;
        assert_int_equal(cell_set(&c, unit, "COUNSELLING_POINTS", period, "", NULL), TS_OK);
        delta_add_cell(b, &c, (disclose_fig){i + 1, 0});
    }
    finish_and_send(f, b);
}

typedef struct {
    size_t parts, largest;
    uint64_t first_gen, last_gen; /* generations (audit_folded.h) of the first and last part */
} parts_seen;

static int see_part(const store_val *k, const store_val *v, void *ctx)
{
    parts_seen *p = ctx;
    p->last_gen = ts_get_be64((const uint8_t *)k->data + k->len - 8) >> 32;
    if (!p->parts++)
        p->first_gen = p->last_gen;
    if (v->len > p->largest)
        p->largest = v->len;
    return 0;
}

static parts_seen folded_parts(fixture *f)
{
    parts_seen p = {0};
    store_txn *txn;
    ts_err e = {0};
    assert_int_equal(store_read_begin(f->n.store, &txn, &e), TS_OK);
    assert_int_equal(
        store_scan(f->n.store, txn, DB_AUDIT_FOLDED, CHILD "|", see_part, &p, NULL, &e), TS_OK);
    store_read_end(txn);
    return p;
}

static int put_junk_part(store_t *s, store_txn *txn, void *ctx, ts_err *e)
{
    char key[AUDIT_KEY_MAX];
    return store_put(s, txn, DB_AUDIT_FOLDED, key, audit_key(CHILD, *(uint64_t *)ctx, key),
                     "\xff\xff", 2, e);
}

static int del_part(store_t *s, store_txn *txn, void *ctx, ts_err *e)
{
    char key[AUDIT_KEY_MAX];
    return store_del(s, txn, DB_AUDIT_FOLDED, key, audit_key(CHILD, *(uint64_t *)ctx, key), e);
}

/* A contribution of n + 1 cells, folded into a checkpoint at seq 2 (seq 3 kept). */
static void fold_wide(fixture *f, int n)
{
    f->n.cfg.audit_retain = 1;
    send_wide(f, n);
    send(f, false, 1, 1);
    send(f, false, 1, 1);
    ts_err e = {0};
    assert_int_equal(audit_prune(&f->n, &e), TS_OK);
}

static void wide_checkpoint_is_kept_in_parts(void **state)
{
    fixture *f = *state;
    fold_wide(f, 300);
    ts_err e = {0};
    parts_seen p = folded_parts(f);
    assert_true(p.parts >= 5); /* 301 cells */
    /* each part well under a page: a fold takes single pages, never a run */
    assert_true(p.largest <= AUDIT_FOLDED_PART_BYTES + 128);
    run_verify(f, NULL);
    assert_int_equal(f->sum.problems, 0);
    assert_true(said(f, "child 341: seq 3..3 checked", "seq 1..2 were pruned", NULL));
    assert_true(said(f, "its contribution (301 cells) equals", NULL));
    /* a snapshot shrinks the contribution: the next fold leaves one part */
    send(f, true, 2, 2);
    send(f, false, 1, 1);
    assert_int_equal(audit_prune(&f->n, &e), TS_OK);
    assert_int_equal(folded_parts(f).parts, 1);
    run_verify(f, NULL);
    assert_int_equal(f->sum.problems, 0);
    assert_true(said(f, "child 341: seq 5..5 checked", "seq 1..4 were pruned", NULL));
    assert_int_equal(folded_parts(f).last_gen, 0); /* short: rewritten in place */
}

#define GEN(g, part) ((uint64_t)(g) << 32 | (part)) /* a part's number in audit_key */

/* A checkpoint longer than AUDIT_FOLDED_TIDY_PARTS is written anew as a
 * generation of its own, and the older one is deleted in slices before
 * audit_prune returns: no transaction frees thousands of pages. */
static void long_checkpoint_is_replaced_by_a_new_generation(void **state)
{
    fixture *f = *state;
    fold_wide(f, 15000);
    ts_err e = {0};
    parts_seen p = folded_parts(f);
    assert_true(p.parts > AUDIT_FOLDED_TIDY_PARTS);
    assert_int_equal(p.last_gen, 0);
    send(f, false, 1, 1);
    assert_int_equal(audit_prune(&f->n, &e), TS_OK);
    parts_seen q = folded_parts(f);
    assert_int_equal(q.parts, p.parts); /* generation 0 is gone whole */
    assert_int_equal(q.first_gen, 1);
    assert_int_equal(q.last_gen, 1);
    run_verify(f, NULL);
    assert_int_equal(f->sum.problems, 0);
    assert_true(said(f, "child 341: seq 4..4 checked", "seq 1..3 were pruned", NULL));
    assert_true(said(f, "its contribution (15001 cells) equals", NULL));
    /* a part of an older generation left by a kill: readers skip it, the
     * next prune deletes it */
    uint64_t part = GEN(0, 7);
    assert_int_equal(store_write(f->n.store, put_junk_part, &part, &e), TS_OK);
    run_verify(f, NULL);
    assert_int_equal(f->sum.problems, 0);
    assert_int_equal(audit_prune(&f->n, &e), TS_OK);
    q = folded_parts(f);
    assert_int_equal(q.parts, p.parts);
    assert_int_equal(q.first_gen, 1);
    /* a part missing from the newest generation is named */
    part = GEN(1, 5);
    assert_int_equal(store_write(f->n.store, del_part, &part, &e), TS_OK);
    run_verify(f, NULL);
    assert_true(said(f, "PROBLEM child 341: the checkpoint of 341: part 5 is missing", NULL));
}

/* The longest list of freed pages LMDB keeps (table 0: one value per
 * transaction) for the transactions after txnid `after`. */
static size_t longest_free_list(fixture *f, size_t after)
{
    store_txn *txn;
    ts_err e = {0};
    assert_int_equal(store_read_begin(f->n.store, &txn, &e), TS_OK);
    MDB_cursor *cur;
    assert_int_equal(mdb_cursor_open(txn, 0, &cur), 0);
    MDB_val k, v;
    size_t longest = 0;
    for (int rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        size_t id, n; /* the key is a txnid, the value a count and as many page numbers */
        memcpy(&id, k.mv_data, sizeof id);
        memcpy(&n, v.mv_data, sizeof n);
        if (id > after && n > longest)
            longest = n;
    }
    mdb_cursor_close(cur);
    store_read_end(txn);
    return longest;
}

/* A fold of a checkpoint of 1,300 parts frees no more pages in one
 * transaction than one page can list (509 on 4 KB pages): a longer list
 * takes a run of pages, at the end of the file (audit_folded.h). */
static void fold_frees_what_one_page_lists(void **state)
{
    fixture *f = *state;
    fold_wide(f, 30000);
    assert_true(folded_parts(f).parts > 2 * AUDIT_FOLDED_TIDY_PARTS);
    MDB_envinfo info;
    assert_int_equal(mdb_env_info(store_env(f->n.store), &info), 0);
    send(f, false, 1, 1);
    ts_err e = {0};
    assert_int_equal(audit_prune(&f->n, &e), TS_OK);
    assert_int_equal(folded_parts(f).last_gen, 1);
    size_t longest = longest_free_list(f, info.me_last_txnid);
    print_message("the longest list of freed pages: %zu\n", longest);
    assert_true(longest > 0 && longest <= (4096 - 16) / sizeof(size_t) - 1);
}

typedef struct {
    size_t index, log, overflow;
} trail_shape;

static MDB_stat table_stat(fixture *f, store_db db)
{
    store_txn *txn;
    ts_err e = {0};
    assert_int_equal(store_read_begin(f->n.store, &txn, &e), TS_OK);
    MDB_stat st;
    assert_int_equal(mdb_stat(txn, store_dbi(f->n.store, db), &st), 0);
    store_read_end(txn);
    return st;
}

static trail_shape shape_of_trail(fixture *f)
{
    MDB_stat log = table_stat(f, DB_AUDIT_LOG);
    return (trail_shape){table_stat(f, DB_AUDIT_INDEX).ms_entries, log.ms_entries,
                         log.ms_overflow_pages};
}

/* Sends two deltas and prunes the trail to the newest: one delta in one
 * log entry is left, and the store verifies. */
static trail_shape prune_to_newest(fixture *f)
{
    f->n.cfg.audit_retain = 1;
    send(f, false, 1, 1);
    send(f, false, 1, 1);
    ts_err e = {0};
    assert_int_equal(audit_prune(&f->n, &e), TS_OK);
    trail_shape t = shape_of_trail(f);
    assert_int_equal(t.index, 1);
    assert_int_equal(t.log, 1);
    run_verify(f, NULL);
    assert_int_equal(f->sum.problems, 0);
    return t;
}

/* A delta larger than half a page is kept in pieces, each on its leaf
 * page: the trail takes no run of overflow pages, and reads it whole. */
static void long_delta_is_kept_in_pieces(void **state)
{
    fixture *f = *state;
    send_wide(f, 300); /* a signed delta of several KB */
    trail_shape t = shape_of_trail(f);
    assert_int_equal(t.index, 1);
    assert_true(t.log >= 3);
    assert_int_equal(t.overflow, 0);
    run_verify(f, NULL); /* the signature holds over the pieces put together */
    assert_int_equal(f->sum.problems, 0);
    assert_true(said(f, "child 341: seq 1..1 checked", NULL));
    /* a byte altered in the last piece is found; the rewrite leaves no piece behind */
    tamper_delta(f, 1, 4500);
    run_verify(f, NULL);
    assert_true(said(f, "PROBLEM child 341 seq 1:", NULL));
    assert_int_equal(shape_of_trail(f).log, t.log);
    tamper_delta(f, 1, 4500);
    run_verify(f, NULL);
    assert_int_equal(f->sum.problems, 0);
    prune_to_newest(f); /* pruned behind a checkpoint, every piece goes */
}

/* Puts seq 1 back as stores before the pieces kept a long delta: one
 * value under a new arrival number, the index's 8 bytes pointing at it. */
static int unpiece(store_t *s, store_txn *txn, void *ctx, ts_err *e)
{
    (void)ctx;
    char key[AUDIT_KEY_MAX];
    size_t klen = audit_key(CHILD, 1, key);
    store_val v;
    uint8_t *buf = NULL;
    assert_int_equal(audit_log_get(s, txn, key, klen, &v, &buf, e), TS_OK);
    assert_non_null(buf); /* it was in pieces */
    assert_int_equal(audit_log_del(s, txn, key, klen, e), TS_OK);
    uint8_t id[8];
    ts_put_be64(id, 1000);
    MDB_val ik = {klen, key}, lk = {sizeof id, id}, iv = {sizeof id, id}, lv = {v.len, buf};
    int rc = mdb_put(txn, store_dbi(s, DB_AUDIT_LOG), &lk, &lv, 0);
    if (rc == 0)
        rc = mdb_put(txn, store_dbi(s, DB_AUDIT_INDEX), &ik, &iv, 0);
    free(buf);
    return rc ? store_fail(s, e, rc, "unpiece") : TS_OK;
}

/* A long delta kept whole by an older store is read, verified and pruned. */
static void old_long_delta_is_read(void **state)
{
    fixture *f = *state;
    send_wide(f, 300);
    ts_err e = {0};
    assert_int_equal(store_write(f->n.store, unpiece, NULL, &e), TS_OK);
    trail_shape t = shape_of_trail(f);
    assert_int_equal(t.log, 1);
    assert_true(t.overflow >= 2);
    run_verify(f, NULL);
    assert_int_equal(f->sum.problems, 0);
    assert_int_equal(prune_to_newest(f).overflow, 0);
}

static int put_huge_count(store_t *s, store_txn *txn, void *ctx, ts_err *e)
{
    (void)ctx;
    char key[AUDIT_KEY_MAX];
    uint8_t v[12] = {0, 0, 0, 0, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff}; /* id 1, 4 billion pieces */
    return store_put(s, txn, DB_AUDIT_INDEX, key, audit_key(CHILD, 1, key), v, sizeof v, e);
}

/* A damaged piece count reads as a lost delta and deletes what is there. */
static void damaged_piece_count_is_named(void **state)
{
    fixture *f = *state;
    send_wide(f, 300);
    send(f, false, 1, 1);
    ts_err e = {0};
    assert_int_equal(store_write(f->n.store, put_huge_count, NULL, &e), TS_OK);
    run_verify(f, NULL);
    assert_true(said(f, "PROBLEM child 341 seq 1:", NULL));
    /* the read stops at the value's last piece, not in seq 2's */
    store_txn *txn;
    assert_int_equal(store_read_begin(f->n.store, &txn, &e), TS_OK);
    char key[AUDIT_KEY_MAX];
    store_val v;
    uint8_t *buf = NULL;
    assert_int_equal(audit_log_get(f->n.store, txn, key, audit_key(CHILD, 1, key), &v, &buf, &e),
                     TS_ERUNTIME);
    assert_non_null(strstr(e.msg, "cannot read an entry"));
    store_read_end(txn);
    free(buf);
    tamper_ctx t = {0};
    t.klen = audit_key(CHILD, 1, t.key);
    assert_int_equal(store_write(f->n.store, drop_entry, &t, &e), TS_OK);
    trail_shape shape = shape_of_trail(f);
    assert_int_equal(shape.index, 1);
    assert_int_equal(shape.log, 1); /* seq 2 alone */
}

static void damaged_checkpoint_part_is_named(void **state)
{
    fixture *f = *state;
    fold_wide(f, 300);
    ts_err e = {0};
    uint64_t part = 1;
    assert_int_equal(store_write(f->n.store, put_junk_part, &part, &e), TS_OK);
    run_verify(f, NULL);
    assert_true(said(f, "PROBLEM child 341: the checkpoint of 341 does not decode", NULL));
    part = 0;
    assert_int_equal(store_write(f->n.store, del_part, &part, &e), TS_OK);
    run_verify(f, NULL);
    assert_true(said(f, "PROBLEM child 341: the checkpoint of 341: part 0 is missing", NULL));
    /* pruning never builds on a checkpoint it cannot read */
    send(f, false, 1, 1);
    send(f, false, 1, 1);
    assert_int_equal(audit_prune(&f->n, &e), TS_EINPUT);
    assert_non_null(strstr(e.msg, "part 0 is missing"));
}

static int purge_child(store_t *s, store_txn *txn, void *ctx, ts_err *e)
{
    (void)ctx;
    return link_state_remove_child(s, txn, CHILD, true, e);
}

static void purge_drops_the_checkpoint(void **state)
{
    fixture *f = *state;
    fold_wide(f, 300);
    ts_err e = {0};
    assert_true(folded_parts(f).parts >= 5);
    assert_int_equal(store_write(f->n.store, purge_child, NULL, &e), TS_OK);
    assert_int_equal(folded_parts(f).parts, 0);
}

static int move_to_old_layout(store_t *s, store_txn *txn, void *ctx, ts_err *e)
{
    (void)ctx;
    char key[AUDIT_KEY_MAX];
    store_val v;
    size_t klen = audit_key(CHILD, 0, key);
    if (store_get(s, txn, DB_AUDIT_FOLDED, key, klen, &v, e) ||
        audit_log_put(s, txn, CHILD "|", 4, v.data, v.len, e))
        return TS_EINPUT;
    return store_del(s, txn, DB_AUDIT_FOLDED, key, klen, e);
}

static void old_single_checkpoint_is_read_then_moved(void **state)
{
    fixture *f = *state;
    fold_five(f);
    ts_err e = {0};
    assert_int_equal(store_write(f->n.store, move_to_old_layout, NULL, &e), TS_OK);
    run_verify(f, NULL);
    assert_int_equal(f->sum.problems, 0);
    assert_true(said(f, "child 341: seq 4..5 checked", "seq 1..3 were pruned", NULL));
    send(f, false, 6, 1);
    send(f, false, 7, 1);
    assert_int_equal(audit_prune(&f->n, &e), TS_OK);
    store_txn *txn;
    assert_int_equal(store_read_begin(f->n.store, &txn, &e), TS_OK);
    assert_int_equal(store_count(f->n.store, txn, DB_AUDIT_INDEX), 2); /* the old value is gone */
    assert_int_equal(store_count(f->n.store, txn, DB_AUDIT_FOLDED), 1);
    store_read_end(txn);
    run_verify(f, NULL);
    assert_int_equal(f->sum.problems, 0);
    assert_true(said(f, "child 341: seq 6..7 checked", "seq 1..5 were pruned", NULL));
}

static store_child child_record(fixture *f)
{
    store_txn *txn;
    ts_err e = {0};
    store_child ch;
    assert_int_equal(store_read_begin(f->n.store, &txn, &e), TS_OK);
    assert_int_equal(store_child_get(f->n.store, txn, CHILD, &ch), TS_OK);
    store_read_end(txn);
    return ch;
}

static void checkpoints_bound_the_trail(void **state)
{
    fixture *f = *state;
    send(f, false, 1, 1);
    send(f, false, 1, 1);
    for (uint64_t i = 0; i < 3; i++) { /* checkpoints at seq 3, 5, 7, each equal to what is held */
        assert_int_equal(send(f, true, 2 + (int64_t)i, 2 + (int64_t)i).checkpoint_differs, 0);
        send(f, false, 1, 1);
    }
    ts_err e = {0};
    assert_int_equal(audit_prune(&f->n, &e), TS_OK);
    store_txn *txn;
    assert_int_equal(store_read_begin(f->n.store, &txn, &e), TS_OK);
    audit_checkpoints ck;
    audit_checkpoints_get(f->n.store, txn, CHILD, &ck);
    assert_int_equal(ck.newest, 7);
    assert_int_equal(ck.older, 5);
    assert_int_equal(store_count(f->n.store, txn, DB_AUDIT_INDEX), 4); /* seq 5..8 */
    assert_int_equal(store_count(f->n.store, txn, DB_AUDIT_LOG), 4);
    store_read_end(txn);
    run_verify(f, NULL);
    assert_int_equal(f->sum.problems, 0);
    assert_int_equal(f->sum.deltas, 4);
    assert_true(said(f, "child 341: seq 5..8 checked",
                     "from its oldest checkpoint kept (the "
                     "signed snapshot at seq 5)",
                     NULL));
    assert_true(said(f, "child 341: its contribution (2 cells) equals", NULL));
    assert_int_equal(child_record(f).checkpoint_findings, 0);
    /* with retention too, folding starts at the oldest checkpoint */
    f->n.cfg.audit_retain = 1;
    assert_int_equal(audit_prune(&f->n, &e), TS_OK);
    run_verify(f, NULL);
    assert_int_equal(f->sum.problems, 0);
    assert_true(said(f, "child 341: seq 8..8 checked", "seq 1..7 were pruned", NULL));
}

static void checkpoint_that_disagrees_is_counted(void **state)
{
    fixture *f = *state;
    send(f, false, 3, 1);
    apply_reply r = send(f, true, 5, 1); /* continues the chain, but 34101 held 3 */
    assert_int_equal(r.checkpoint_differs, 1);
    assert_non_null(strstr(r.detail,
                           "34101|COUNSELLING_POINTS|202406|: held 3 (cell key 0), "
                           "the checkpoint says 5 (cell key 0)"));
    assert_int_equal(child_record(f).checkpoint_findings, 1);
    store_txn *txn;
    ts_err e = {0};
    assert_int_equal(store_read_begin(f->n.store, &txn, &e), TS_OK);
    const char *k = "341|34101|COUNSELLING_POINTS|202406|"; /* taken as truth */
    assert_int_equal(store_get_fig(f->n.store, txn, DB_CONTRIB, k, strlen(k)).v, 5);
    store_read_end(txn);
    /* a resync snapshot (the chain broken: another prev_hash) is not compared */
    memset(f->hash, 0xab, sizeof f->hash);
    f->seq += 3;
    assert_int_equal(send(f, true, 9, 1).checkpoint_differs, 0);
    assert_int_equal(child_record(f).checkpoint_findings, 1);
    run_verify(f, NULL);
    assert_int_equal(f->sum.problems, 0);
}

/* Sends a checkpoint in two parts (the first naming the second as its
 * end): points in the first, staff (when staff is not 0) in the second.
 * Returns the reply to the second, which applies both. */
static apply_reply send_two_parts(fixture *f, int64_t points, int64_t staff)
{
    apply_reply r = {0};
    for (int part = 0; part < 2; part++) {
        uint64_t seq = f->seq + 1;
        delta_builder *b = delta_builder_new(CHILD, f->child.pk, seq, f->hash, f->n.catalog->id,
                                             (uint32_t)f->n.catalog->version, part == 0);
        ts_cell c;
        if (part == 0) {
            delta_set_snapshot_end(b, seq + 1);
            delta_add_unit(b, CHILD, "District 1", "district", "");
            delta_add_unit(b, "34101", "Commune 1", "commune", CHILD);
            assert_int_equal(cell_set(&c, "34101", "COUNSELLING_POINTS", "202406", "", NULL),
                             TS_OK);
            delta_add_cell(b, &c, (disclose_fig){points, 0});
        } else if (staff) {
            assert_int_equal(cell_set(&c, CHILD, "STAFF_TRAINED", "2024", "", NULL), TS_OK);
            delta_add_cell(b, &c, (disclose_fig){staff, 0});
        }
        uint8_t *msg;
        size_t len;
        delta_finish(b, &f->child, &msg, &len, f->hash);
        delta_builder_destroy(&b);
        ts_err e = {0};
        assert_int_equal(apply_message(&f->n, CHILD, msg, len, &r, &e), TS_OK);
        assert_int_equal(r.seq, seq);
        f->seq = seq;
        free(msg);
    }
    return r;
}

static void checkpoint_in_parts_is_compared_whole(void **state)
{
    fixture *f = *state;
    send(f, false, 3, 2);
    assert_int_equal(send_two_parts(f, 3, 2).checkpoint_differs, 0);
    assert_int_equal(child_record(f).checkpoint_findings, 0);
    apply_reply r = send_two_parts(f, 3, 0); /* the staff cell left out */
    assert_int_equal(r.checkpoint_differs, 1);
    assert_non_null(strstr(r.detail,
                           "341|STAFF_TRAINED|2024|: held 2 (cell key 0), the "
                           "checkpoint says 0 (cell key 0)"));
    assert_int_equal(child_record(f).checkpoint_findings, 1);
    run_verify(f, NULL);
    assert_int_equal(f->sum.problems, 0);
}

/* ---- many children: the prune's write transactions ---- */

#define KIDS (8 * AUDIT_PRUNE_CHILDREN)

typedef struct {
    char code[8];
    keys_t k;
    uint64_t seq;
    uint8_t hash[DELTA_HASH_BYTES];
} kid;

static int enrol_kids(store_t *s, store_txn *txn, void *ctx, ts_err *e)
{
    kid *kids = ctx;
    for (int i = 0; i < KIDS; i++) {
        store_child ch = {0};
        store_unit u = {0};
        memcpy(ch.pk, kids[i].k.pk, sizeof ch.pk);
        snprintf(u.parent, sizeof u.parent, SELF);
        snprintf(u.via, sizeof u.via, "%s", kids[i].code);
        if (store_unit_put(s, txn, kids[i].code, &u, e) ||
            store_child_put(s, txn, kids[i].code, &ch, e))
            return e->code;
    }
    return TS_OK;
}

/* k's next delta: n cells at its commune, one a month from 2001, each v. */
static void kid_send(fixture *f, kid *k, int n, int64_t v)
{
    delta_builder *b = delta_builder_new(k->code, k->k.pk, k->seq + 1, k->hash, f->n.catalog->id,
                                         (uint32_t)f->n.catalog->version, false);
    char commune[16];
    snprintf(commune, sizeof commune, "%sc", k->code);
    delta_add_unit(b, k->code, "District", "district", "");
    delta_add_unit(b, commune, "Commune", "commune", k->code);
    for (int i = 0; i < n; i++) {
        char period[8];
        snprintf(period, sizeof period, "%04d%02d", 2001 + i / 12, 1 + i % 12);
        ts_cell c;
        assert_int_equal(cell_set(&c, commune, "COUNSELLING_POINTS", period, "", NULL), TS_OK);
        delta_add_cell(b, &c, (disclose_fig){v, 0});
    }
    sign_and_apply(f, k->code, &k->k, &k->seq, k->hash, b);
}

static size_t last_page(fixture *f)
{
    MDB_envinfo info;
    assert_int_equal(mdb_env_info(store_env(f->n.store), &info), 0);
    return info.me_last_pgno;
}

static size_t folded_pages(fixture *f)
{
    MDB_stat st = table_stat(f, DB_AUDIT_FOLDED);
    return st.ms_branch_pages + st.ms_leaf_pages + st.ms_overflow_pages;
}

/* Each prune rewrites every child's folded checkpoint. A transaction
 * cannot reuse the pages it frees, so one over every child would need a
 * fresh copy of all checkpoints; a slice of children per transaction
 * reuses what the slices before it freed, and the file grows by a few
 * slices' worth. */
static void prune_rewrites_a_slice_at_a_time(void **state)
{
    fixture *f = *state;
    kid *kids = calloc(KIDS, sizeof *kids);
    for (int i = 0; i < KIDS; i++) {
        snprintf(kids[i].code, sizeof kids[i].code, "k%03d", i);
        crypto_sign_keypair(kids[i].k.pk, kids[i].k.sk);
    }
    ts_err e = {0};
    assert_int_equal(store_write(f->n.store, enrol_kids, kids, &e), TS_OK);
    f->n.cfg.audit_retain = 1;
    for (int i = 0; i < KIDS; i++) { /* wide contributions, folded */
        kid_send(f, &kids[i], 300, 1);
        kid_send(f, &kids[i], 1, 2);
    }
    assert_int_equal(audit_prune(&f->n, &e), TS_OK);
    size_t before = last_page(f), checkpoints = folded_pages(f);
    for (int round = 3; round < 6; round++) {
        for (int i = 0; i < KIDS; i++)
            kid_send(f, &kids[i], 1, round);
        assert_int_equal(audit_prune(&f->n, &e), TS_OK);
    }
    size_t grown = last_page(f) - before;
    print_message("checkpoints %zu pages, the file grew %zu pages\n", checkpoints, grown);
    assert_true(grown < checkpoints / 4);                    /* one transaction: about half */
    assert_int_equal(tu_count(&f->n, DB_AUDIT_INDEX), KIDS); /* every slice: one delta left */
    run_verify(f, "k000");
    assert_int_equal(f->sum.problems, 0);
    assert_true(said(f, "child k000: seq 5..5 checked", NULL));
    free(kids);
}

/* Puts the trail back as stores before the audit log kept it: table
 * "audit", each delta under its trail key. */
static int downgrade(store_t *s, store_txn *txn, void *ctx, ts_err *e)
{
    (void)ctx, (void)e;
    MDB_dbi old, index = store_dbi(s, DB_AUDIT_INDEX), log = store_dbi(s, DB_AUDIT_LOG);
    MDB_cursor *cur;
    MDB_val k, id, v;
    assert_int_equal(mdb_dbi_open(txn, "audit", MDB_CREATE, &old), 0);
    assert_int_equal(mdb_cursor_open(txn, index, &cur), 0);
    while (mdb_cursor_get(cur, &k, &id, MDB_NEXT) == 0) {
        assert_int_equal(mdb_get(txn, log, &id, &v), 0);
        assert_int_equal(mdb_put(txn, old, &k, &v, 0), 0);
    }
    mdb_cursor_close(cur);
    assert_int_equal(mdb_drop(txn, index, 0), 0);
    assert_int_equal(mdb_drop(txn, log, 0), 0);
    return TS_OK;
}

static void old_trail_is_upgraded(void **state)
{
    fixture *f = *state;
    for (int i = 1; i <= 3; i++)
        send(f, false, i, 1);
    ts_err e = {0};
    assert_int_equal(store_write(f->n.store, downgrade, NULL, &e), TS_OK);
    run_verify(f, NULL);
    assert_true(said(f, "PROBLEM child 341: its trail ends at seq 0", NULL));
    node_close(&f->n);
    assert_int_equal(node_open(&f->n, f->dir, 0, &e), TS_OK); /* upgrades */
    run_verify(f, NULL);
    assert_int_equal(f->sum.problems, 0);
    assert_int_equal(f->sum.deltas, 3);
    store_txn *txn;
    MDB_dbi old;
    assert_int_equal(store_read_begin(f->n.store, &txn, &e), TS_OK);
    assert_int_equal(store_count(f->n.store, txn, DB_AUDIT_LOG), 3);
    assert_int_equal(mdb_dbi_open(txn, "audit", 0, &old), MDB_NOTFOUND);
    store_read_end(txn);
    send(f, false, 4, 1); /* and the log goes on after the moved deltas */
    run_verify(f, NULL);
    assert_int_equal(f->sum.problems, 0);
    assert_int_equal(f->sum.deltas, 4);
}

/* The trail's writes grow a full map like every other write. */
static int put_big(store_t *s, store_txn *txn, void *ctx, ts_err *e)
{
    (void)ctx;
    enum { BIG = 3 << 20 };
    uint8_t *v = calloc(1, BIG);
    char key[AUDIT_KEY_MAX];
    int rc = audit_log_put(s, txn, key, audit_key(CHILD, 1, key), v, BIG, e);
    free(v);
    return rc;
}

static void trail_grows_the_map(void **state)
{
    fixture *f = *state;
    store_close(&f->n.store);
    f->n.cfg.map_initial_mb = 1;
    ts_err e = {0};
    assert_int_equal(store_open(&f->n.store, &f->n.cfg, &e), TS_OK);
    if (store_write(f->n.store, put_big, NULL, &e) != TS_OK)
        fail_msg("%s", e.msg);
    store_info info;
    store_info_get(f->n.store, &info);
    assert_true(info.map_bytes >= (4u << 20));
}

static void unknown_unit_is_refused(void **state)
{
    fixture *f = *state;
    audit_check_summary sum;
    ts_err e = {0};
    assert_int_equal(audit_check_node(&f->n, "99999", NULL, NULL, &sum, &e), TS_EINPUT);
    assert_non_null(strstr(e.msg, "unit 99999 is not known"));
    assert_int_equal(audit_check_node(&f->n, "bad|code", NULL, NULL, &sum, &e), TS_EINPUT);
}

static void retain_setting_round_trips(void **state)
{
    (void)state;
    ts_config c, back;
    ts_err e = {0};
    char *dir = tu_tmpdir("audit-conf");
    config_defaults(&c, dir);
    assert_int_equal(c.audit_retain, 0);
    assert_int_equal(config_set(&c, "node", "code", "34", &e), TS_OK);
    assert_int_equal(config_set(&c, "audit", "retain_deltas", "500", &e), TS_OK);
    assert_int_equal(config_set(&c, "audit", "retain_deltas", "-1", &e), TS_EINPUT);
    assert_non_null(strstr(e.msg, "audit.retain_deltas"));
    assert_int_equal(config_write(&c, &e), TS_OK);
    assert_int_equal(config_load(&back, dir, &e), TS_OK);
    assert_int_equal(back.audit_retain, 500);
    tu_rmrf(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(honest_store_verifies, setup, teardown),
        cmocka_unit_test_setup_teardown(altered_total_is_named, setup, teardown),
        cmocka_unit_test_setup_teardown(altered_contribution_is_named, setup, teardown),
        cmocka_unit_test_setup_teardown(altered_delta_is_named, setup, teardown),
        cmocka_unit_test_setup_teardown(retention_keeps_a_checkpoint, setup, teardown),
        cmocka_unit_test_setup_teardown(retention_never_folds_an_altered_delta, setup, teardown),
        cmocka_unit_test_setup_teardown(snapshot_restarts_the_contribution, setup, teardown),
        cmocka_unit_test_setup_teardown(wide_checkpoint_is_kept_in_parts, setup, teardown),
        cmocka_unit_test_setup_teardown(long_checkpoint_is_replaced_by_a_new_generation, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(long_delta_is_kept_in_pieces, setup, teardown),
        cmocka_unit_test_setup_teardown(old_long_delta_is_read, setup, teardown),
        cmocka_unit_test_setup_teardown(damaged_piece_count_is_named, setup, teardown),
        cmocka_unit_test_setup_teardown(fold_frees_what_one_page_lists, setup, teardown),
        cmocka_unit_test_setup_teardown(damaged_checkpoint_part_is_named, setup, teardown),
        cmocka_unit_test_setup_teardown(purge_drops_the_checkpoint, setup, teardown),
        cmocka_unit_test_setup_teardown(old_single_checkpoint_is_read_then_moved, setup, teardown),
        cmocka_unit_test_setup_teardown(checkpoints_bound_the_trail, setup, teardown),
        cmocka_unit_test_setup_teardown(prune_rewrites_a_slice_at_a_time, setup, teardown),
        cmocka_unit_test_setup_teardown(checkpoint_that_disagrees_is_counted, setup, teardown),
        cmocka_unit_test_setup_teardown(checkpoint_in_parts_is_compared_whole, setup, teardown),
        cmocka_unit_test_setup_teardown(old_trail_is_upgraded, setup, teardown),
        cmocka_unit_test_setup_teardown(trail_grows_the_map, setup, teardown),
        cmocka_unit_test_setup_teardown(unknown_unit_is_refused, setup, teardown),
        cmocka_unit_test(retain_setting_round_trips),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
