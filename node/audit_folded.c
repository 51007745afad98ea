/* audit_folded.c: a child's folded checkpoint, kept in parts (see audit_folded.h). */
#include "audit_folded.h"

#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "cell.h"
#include "util.h"

/* Part n of generation g is under audit_key(child, part_id(g, n)): "child|"
 * + be32 g + be32 n. */
static uint64_t part_id(uint64_t gen, uint64_t part)
{
    return gen << 32 | part;
}

/* The part_id of part 0 of the generation that part_id id is in. */
static uint64_t gen_first(uint64_t id)
{
    return part_id(id >> 32, 0);
}

static size_t prefix_of(const char *child, char *out)
{
    return audit_key(child, 0, out) - 8;
}

/* The part_id of a part's key; false when the key is not a part's. */
static bool id_of(const store_val *k, size_t prefix_len, uint64_t *id)
{
    if (k->len != prefix_len + 8)
        return false;
    *id = ts_get_be64((const uint8_t *)k->data + prefix_len);
    return true;
}

/* 1 and *id: the part_id of child's last part (its newest generation's
 * last); 0: it has no parts; -1 (in e): the last key under its prefix is
 * not a part's. */
static int last_part(store_t *s, store_txn *txn, const char *child, uint64_t *id, ts_err *e)
{
    char prefix[AUDIT_KEY_MAX];
    size_t plen = prefix_of(child, prefix);
    store_val k, v;
    if (!store_last(s, txn, DB_AUDIT_FOLDED, prefix, plen, &k, &v))
        return 0;
    if (!id_of(&k, plen, id))
        return ts_fail(e, TS_EINPUT, "the checkpoint of %s: a part's key is malformed", child), -1;
    return 1;
}

typedef struct {
    const char *child;
    size_t prefix_len;
    audit_folded *out;
    cellsum *sum;
    uint64_t first; /* part 0's number: part_id(generation, 0) */
    uint64_t parts;
    ts_err *e;
} read_ctx;

/* Checks one part (or the old single value) and adds its cells. */
static int take_body(read_ctx *r, const store_val *v)
{
    Tiersync__DeltaBody *b = tiersync__delta_body__unpack(NULL, v->len, v->data);
    int rc = TS_OK;
    if (!b || strcmp(b->origin, r->child) != 0 || b->prev_hash.len != DELTA_HASH_BYTES || !b->seq)
        rc = ts_fail(r->e, TS_EINPUT, "the checkpoint of %s does not decode", r->child);
    else if (r->parts &&
             (b->seq != r->out->seq ||
              memcmp(b->prev_hash.data, r->out->hash, DELTA_HASH_BYTES) != 0))
        rc = ts_fail(r->e, TS_EINPUT, "the checkpoint of %s: part %llu disagrees with part 0",
                     r->child, (unsigned long long)r->parts);
    else if (r->sum && audit_cells_add(r->sum, b, r->e))
        rc = ts_err_wrap(r->e, "the checkpoint of %s", r->child);
    if (rc == TS_OK && !r->parts) {
        r->out->seq = b->seq;
        memcpy(r->out->hash, b->prev_hash.data, DELTA_HASH_BYTES);
    }
    if (b)
        tiersync__delta_body__free_unpacked(b, NULL);
    return rc;
}

#define READ_ENOUGH (-1) /* read_part's stop: the seq and hash were all that was asked */

static int read_part(const store_val *k, const store_val *v, void *vctx)
{
    read_ctx *r = vctx;
    uint64_t id;
    if (!id_of(k, r->prefix_len, &id) || id != r->first + r->parts)
        return ts_fail(r->e, TS_EINPUT, "the checkpoint of %s: part %llu is missing", r->child,
                       (unsigned long long)r->parts);
    if (take_body(r, v))
        return r->e->code;
    r->parts++;
    return r->sum ? 0 : READ_ENOUGH;
}

/* Reads the newest generation's parts, or the single value of an older
 * store, into r. */
static int read_folded(store_t *s, store_txn *txn, read_ctx *r)
{
    uint64_t last = 0;
    int found = last_part(s, txn, r->child, &last, r->e);
    if (found < 0)
        return r->e->code;
    char key[AUDIT_KEY_MAX];
    r->first = gen_first(last);
    audit_key(r->child, r->first, key);
    if (found) { /* the scan's prefix: "child|" + be32 generation */
        int stop = 0;
        if (store_scan_prefix(s, txn, DB_AUDIT_FOLDED, key, r->prefix_len + 4, read_part, r, &stop,
                              r->e))
            return r->e->code;
        return stop && stop != READ_ENOUGH ? r->e->code : TS_OK;
    }
    store_val v; /* a store written before the parts: one value in the trail */
    uint8_t *buf = NULL;
    int rc = TS_OK;
    if (audit_log_get(s, txn, key, r->prefix_len, &v, &buf, NULL) == TS_OK)
        rc = take_body(r, &v);
    free(buf);
    return rc;
}

int audit_folded_get(store_t *s, store_txn *txn, const char *child, audit_folded *out, cellsum *sum,
                     ts_err *e)
{
    memset(out, 0, sizeof *out);
    char prefix[AUDIT_KEY_MAX];
    read_ctx r = {child, prefix_of(child, prefix), out, sum, 0, 0, e};
    int rc = read_folded(s, txn, &r);
    if (rc)
        memset(out, 0, sizeof *out);
    return rc;
}

typedef struct {
    size_t prefix_len;
    uint64_t from;
} parts_from;

/* Takes the parts from part_id `from` on (and any malformed key). */
static store_step take_from(const store_val *k, const store_val *v, void *ctx)
{
    (void)v;
    const parts_from *p = ctx;
    uint64_t id;
    return id_of(k, p->prefix_len, &id) && id < p->from ? STORE_KEEP : STORE_TAKE;
}

int audit_folded_del(store_t *s, store_txn *txn, const char *child, ts_err *e)
{
    char prefix[AUDIT_KEY_MAX];
    parts_from all = {prefix_of(child, prefix), 0};
    if (store_take(s, txn, DB_AUDIT_FOLDED, prefix, all.prefix_len, take_from, &all, e))
        return e->code;
    return audit_log_del(s, txn, prefix, all.prefix_len, e);
}

typedef struct {
    size_t prefix_len;
    uint64_t newest; /* part_id(newest generation, 0) */
    size_t *budget;
    bool done;
} tidy_ctx;

/* Takes the parts of generations before the newest (and any malformed
 * key), while the budget lasts. */
static store_step take_older(const store_val *k, const store_val *v, void *vctx)
{
    (void)v;
    tidy_ctx *t = vctx;
    uint64_t id;
    if (id_of(k, t->prefix_len, &id) && id >= t->newest) {
        t->done = true;
        return STORE_STOP;
    }
    if (!*t->budget)
        return STORE_STOP;
    --*t->budget;
    return STORE_TAKE;
}

int audit_folded_tidy(store_t *s, store_txn *txn, const char *child, size_t *budget, bool *done,
                      ts_err *e)
{
    char prefix[AUDIT_KEY_MAX];
    tidy_ctx t = {prefix_of(child, prefix), 0, budget, true};
    if (last_part(s, txn, child, &t.newest, NULL) > 0) { /* malformed: the next put starts over */
        t.newest = gen_first(t.newest);
        t.done = false;
        int rc = store_take(s, txn, DB_AUDIT_FOLDED, prefix, t.prefix_len, take_older, &t, e);
        if (rc)
            return rc;
    }
    *done = t.done;
    return TS_OK;
}

bool audit_folded_stale(store_t *s, store_txn *txn, const char *child)
{
    size_t none = 0; /* with no budget the walk only looks */
    bool done;
    return audit_folded_tidy(s, txn, child, &none, &done, NULL) != TS_OK || !done;
}

typedef struct {
    store_t *s;
    store_txn *txn;
    const char *child;
    const audit_folded *f;
    Tiersync__Cell **cells;
    size_t n;
    uint64_t first, parts;
} part_writer;

static int put_part(part_writer *w, ts_err *e)
{
    Tiersync__DeltaBody b = TIERSYNC__DELTA_BODY__INIT;
    b.origin = (char *)w->child;
    b.seq = w->f->seq;
    b.prev_hash = (ProtobufCBinaryData){DELTA_HASH_BYTES, (uint8_t *)w->f->hash};
    b.created_ms = ts_now_ms();
    b.catalog_id = "";
    b.n_cells = w->n;
    b.cells = w->cells;
    size_t len = tiersync__delta_body__get_packed_size(&b);
    uint8_t *buf = ts_xrealloc(NULL, len);
    tiersync__delta_body__pack(&b, buf);
    char key[AUDIT_KEY_MAX];
    int rc = store_put(w->s, w->txn, DB_AUDIT_FOLDED, key,
                       audit_key(w->child, w->first + w->parts, key), buf, len, e);
    free(buf);
    w->cells += w->n;
    w->n = 0;
    w->parts++;
    return rc;
}

int audit_folded_put(store_t *s, store_txn *txn, const char *child, const audit_folded *f,
                     const cellsum *sum, ts_err *e)
{
    size_t n = cellsum_count(sum), used = 0;
    ts_cell *cells = ts_xrealloc(NULL, n * sizeof *cells);
    Tiersync__Cell *pcs = ts_xrealloc(NULL, n * sizeof *pcs);
    Tiersync__Cell **ptrs = ts_xrealloc(NULL, n * sizeof *ptrs);
    for (size_t i = 0; i < n; i++) {
        size_t klen;
        const char *key = cellsum_key(sum, i, &klen);
        disclose_fig fig = cellsum_val(sum, i);
        if ((fig.v == 0 && fig.key == 0) || cell_parse(key, klen, &cells[used], NULL))
            continue;
        tiersync__cell__init(&pcs[used]);
        pcs[used].unit = cells[used].unit;
        pcs[used].indicator = cells[used].indicator;
        pcs[used].period = cells[used].period;
        pcs[used].options = cells[used].options;
        pcs[used].value = fig.v;
        pcs[used].key = fig.key;
        ptrs[used] = &pcs[used];
        used++;
    }
    uint64_t last = 0;
    int found = last_part(s, txn, child, &last, NULL), rc = TS_OK;
    if (found < 0 || last >> 32 == UINT32_MAX) { /* a malformed key, or the last generation */
        rc = audit_folded_del(s, txn, child, e);
        found = 0;
    }
    /* a short checkpoint is rewritten where it is: the pages it frees are few */
    bool in_place = found && (last & UINT32_MAX) < AUDIT_FOLDED_TIDY_PARTS;
    uint64_t gen = !found ? 0 : in_place ? last >> 32 : (last >> 32) + 1;
    part_writer w = {s, txn, child, f, ptrs, 0, part_id(gen, 0), 0};
    size_t bytes = 0;
    for (size_t i = 0; i < used && rc == TS_OK; i++) {
        size_t cell_bytes = tiersync__cell__get_packed_size(ptrs[i]) + 3; /* + tag and length */
        if (w.n && bytes + cell_bytes > AUDIT_FOLDED_PART_BYTES) {
            rc = put_part(&w, e);
            bytes = 0;
        }
        w.n++;
        bytes += cell_bytes;
    }
    if (rc == TS_OK && (w.n || !w.parts)) /* the last part; part 0 even with no cells */
        rc = put_part(&w, e);
    char prefix[AUDIT_KEY_MAX];
    parts_from p = {prefix_of(child, prefix), w.first + w.parts};
    if (rc == TS_OK && in_place) /* the parts beyond the new last */
        rc = store_take(s, txn, DB_AUDIT_FOLDED, prefix, p.prefix_len, take_from, &p, e);
    if (rc == TS_OK) /* a store written before the parts: its single value goes */
        rc = audit_log_del(s, txn, prefix, p.prefix_len, e);
    free(ptrs), free(pcs), free(cells);
    return rc;
}
