/* store_pieces.c: a long value kept in pieces (see store_pieces.h). */
#include "store_pieces.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

#define PIECES_MAX 65535u
#define PIECES_KEY_MAX 64 /* bytes of key, before the piece number */

static size_t piece_key(const void *key, size_t klen, unsigned i, uint8_t *out)
{
    memcpy(out, key, klen);
    out[klen] = (uint8_t)(i >> 8);
    out[klen + 1] = (uint8_t)i;
    return klen + STORE_PIECE_SUFFIX;
}

/* The piece number of a key of klen + STORE_PIECE_SUFFIX bytes. */
static unsigned piece_no(const store_val *k, size_t klen)
{
    const uint8_t *p = k->data;
    return (unsigned)p[klen] << 8 | p[klen + 1];
}

typedef struct {
    size_t klen;
    unsigned from; /* pieces from this number on are left over */
} leftover;

static store_step take_leftover(const store_val *k, const store_val *v, void *vctx)
{
    (void)v;
    const leftover *l = vctx;
    if (k->len == l->klen)
        return STORE_TAKE; /* the value kept whole, before pieces */
    if (k->len != l->klen + STORE_PIECE_SUFFIX)
        return STORE_KEEP; /* a longer key of another value */
    return piece_no(k, l->klen) >= l->from ? STORE_TAKE : STORE_KEEP;
}

int store_pieces_put(store_t *s, store_txn *txn, store_db db, const void *key, size_t klen,
                     const void *val, size_t len, ts_err *e)
{
    size_t n = store_pieces_of(len);
    if (n > PIECES_MAX || klen > PIECES_KEY_MAX)
        return ts_fail(e, TS_EINPUT, "store: a value of %zu bytes is too long to keep", len);
    uint8_t k[PIECES_KEY_MAX + STORE_PIECE_SUFFIX];
    for (size_t i = 0; i < n; i++) {
        int rc = store_put(s, txn, db, k, piece_key(key, klen, (unsigned)i, k),
                           (const uint8_t *)val + i * STORE_PIECE_BYTES, store_piece_len(len, i),
                           e);
        if (rc)
            return rc;
    }
    leftover l = {klen, (unsigned)n};
    return store_take(s, txn, db, key, klen, take_leftover, &l, e);
}

typedef struct {
    size_t klen;
    uint8_t *buf;
    size_t len;
    unsigned next; /* the piece number expected next */
    bool whole;    /* found the value kept whole */
    bool gap;
} gather;

static int gather_piece(const store_val *k, const store_val *v, void *vctx)
{
    gather *g = vctx;
    if (k->len == g->klen) { /* kept whole: it is the value */
        g->buf = ts_xrealloc(g->buf, v->len ? v->len : 1);
        memcpy(g->buf, v->data, v->len);
        g->len = v->len;
        g->whole = true;
        return 1;
    }
    if (k->len != g->klen + STORE_PIECE_SUFFIX)
        return 0; /* a longer key of another value: not ours */
    if (piece_no(k, g->klen) != g->next) {
        g->gap = true;
        return 1;
    }
    g->buf = ts_xrealloc(g->buf, g->len + v->len + 1);
    memcpy(g->buf + g->len, v->data, v->len);
    g->len += v->len;
    g->next++;
    return 0;
}

int store_pieces_get(store_t *s, store_txn *txn, store_db db, const void *key, size_t klen,
                     uint8_t **out, size_t *len, ts_err *e)
{
    gather g = {.klen = klen};
    if (store_scan_prefix(s, txn, db, key, klen, gather_piece, &g, NULL, e)) {
        free(g.buf);
        return TS_ERUNTIME;
    }
    if (g.gap || (!g.whole && !g.next)) {
        free(g.buf);
        if (g.gap)
            return ts_fail(e, TS_ERUNTIME,
                           "store: a value's piece %u is missing: run 'tiersync verify'", g.next);
        return TS_ENOTFOUND;
    }
    *out = g.buf;
    *len = g.len;
    return TS_OK;
}
