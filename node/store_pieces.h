/* store_pieces.h: a long value kept in pieces that fit a leaf page.
 *
 * LMDB puts a value over about 2 KB (on 4 KB pages) on a run of consecutive
 * overflow pages, and reuses a freed page only where a run that long is
 * free. Pages come free one by one, scattered, and single-page writes take
 * the runs apart, so such a value nearly always goes at the end of the
 * file: a node that writes one every few seconds (a district's delta to its
 * parent: 16-96 KB) grows its file without end while its data stays the
 * same size. Pieces of at most STORE_PIECE_BYTES reuse free pages like any
 * other entry.
 *
 * A value of key K is kept under K followed by a big-endian 16-bit piece
 * number, from 0; a value kept whole under K itself (written before pieces)
 * reads the same. Deleting is by prefix: every entry that starts with K. */
#ifndef TIERSYNC_STORE_PIECES_H
#define TIERSYNC_STORE_PIECES_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

#define STORE_PIECE_BYTES 1900
#define STORE_PIECE_SUFFIX 2

/* How many pieces a value of len bytes takes (one when empty). */
static inline size_t store_pieces_of(size_t len)
{
    return len ? (len + STORE_PIECE_BYTES - 1) / STORE_PIECE_BYTES : 1;
}

/* The length of piece i of a value of len bytes: every piece but the last
 * is STORE_PIECE_BYTES long. */
static inline size_t store_piece_len(size_t len, size_t i)
{
    size_t off = i * STORE_PIECE_BYTES;
    return len - off < STORE_PIECE_BYTES ? len - off : STORE_PIECE_BYTES;
}

/* Writes val under key (klen bytes) in pieces, replacing what was there. */
int store_pieces_put(store_t *s, store_txn *txn, store_db db, const void *key, size_t klen,
                     const void *val, size_t len, ts_err *e);

/* The value under key, put together into *out (malloc'd, the caller's).
 * TS_ENOTFOUND when there is none; TS_ERUNTIME when a piece is missing. */
int store_pieces_get(store_t *s, store_txn *txn, store_db db, const void *key, size_t klen,
                     uint8_t **out, size_t *len, ts_err *e);

/* How many values a table holds: store_count_prefixes(s, txn, db, klen). */

#endif
