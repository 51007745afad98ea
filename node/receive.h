/* receive.h: the parent's receiving checks, run before the write lock is
 * taken (on the batch's thread and the node's helper thread): each message a
 * child sent is decoded and its text checked, a delta's signature verified
 * with the child's enrolled key, its body decoded and its origin and cell
 * codes checked against the catalog (and against this node's date). What passes goes to apply.c, which
 * checks the chain against the newest state and applies it. */
#ifndef TIERSYNC_RECEIVE_H
#define TIERSYNC_RECEIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "apply.h"

/* What receiving (decode, verify; no write lock held) leaves for apply.c. */
typedef struct {
    Tiersync__Envelope *env;
    Tiersync__DeltaBody *body; /* set: a verified delta waiting to be applied */
    bool hello;
    bool to_verify, sig_ok; /* a delta whose signature the verify step checks */
    uint8_t pk[crypto_sign_PUBLICKEYBYTES];
    uint64_t expected;
    size_t bad_cell; /* see check_cells */
    Tiersync__Reason bad_reason;
    ts_err bad_err;
} receive_state;

/* Fills r as a refusal (NACK with reason and the seq the child should send
 * next) and e with the same text, escaped; returns TS_EINPUT. */
int receive_refuse(apply_reply *r, Tiersync__Reason reason, uint64_t expected, ts_err *e,
                   const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Receives items[from..count) into st[from..count) (decoded into mem):
 * each item's rc and reply say what was refused; the accepted deltas are
 * left in st[i].body. Reads the store in its own read transaction. */
void receive_batch(node_t *n, ProtobufCAllocator *mem, apply_item *items, receive_state *st,
                   size_t from, size_t count);

#endif
