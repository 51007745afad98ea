/* delta.c: building, signing and verifying deltas. */
#include "delta.h"

#include <stdlib.h>
#include <string.h>

struct delta_builder {
    Tiersync__DeltaBody body;
    size_t cap_cells, cap_units, cap_covers;
    uint8_t key[32], prev[DELTA_HASH_BYTES];
};

void delta_sign(const keys_t *k, const uint8_t *body, size_t len, uint8_t sig[DELTA_SIG_BYTES])
{
    uint8_t *msg = malloc(DELTA_SIG_DOMAIN_LEN + len + 1);
    memcpy(msg, DELTA_SIG_DOMAIN, DELTA_SIG_DOMAIN_LEN);
    if (len)
        memcpy(msg + DELTA_SIG_DOMAIN_LEN, body, len);
    crypto_sign_detached(sig, NULL, msg, DELTA_SIG_DOMAIN_LEN + len, k->sk);
    free(msg);
}

bool delta_verify(const uint8_t pk[crypto_sign_PUBLICKEYBYTES], const uint8_t *body, size_t len,
                  const uint8_t *sig, size_t siglen)
{
    if (siglen != DELTA_SIG_BYTES)
        return false;
    uint8_t *msg = malloc(DELTA_SIG_DOMAIN_LEN + len + 1);
    memcpy(msg, DELTA_SIG_DOMAIN, DELTA_SIG_DOMAIN_LEN);
    if (len)
        memcpy(msg + DELTA_SIG_DOMAIN_LEN, body, len);
    bool ok = crypto_sign_verify_detached(sig, msg, DELTA_SIG_DOMAIN_LEN + len, pk) == 0;
    free(msg);
    return ok;
}

const char *delta_reason_name(int reason, const char *unknown)
{
    const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(
        &tiersync__reason__descriptor, reason);
    return v ? v->name : unknown;
}

void delta_hash(const uint8_t *body, size_t len, uint8_t out[DELTA_HASH_BYTES])
{
    crypto_generichash(out, DELTA_HASH_BYTES, body, len, NULL, 0);
}

delta_builder *delta_builder_new(const char *origin, const uint8_t key[32], uint64_t seq,
                                 const uint8_t prev_hash[DELTA_HASH_BYTES], const char *catalog_id,
                                 uint32_t catalog_version, bool snapshot)
{
    delta_builder *b = calloc(1, sizeof *b);
    tiersync__delta_body__init(&b->body);
    memcpy(b->key, key, sizeof b->key);
    memcpy(b->prev, prev_hash, sizeof b->prev);
    b->body.origin = strdup(origin);
    b->body.origin_key = (ProtobufCBinaryData){sizeof b->key, b->key};
    b->body.seq = seq;
    b->body.prev_hash = (ProtobufCBinaryData){sizeof b->prev, b->prev};
    b->body.created_ms = ts_now_ms();
    b->body.catalog_id = strdup(catalog_id);
    b->body.catalog_version = catalog_version;
    b->body.snapshot = snapshot;
    return b;
}

void delta_builder_destroy(delta_builder **bp)
{
    delta_builder *b = *bp;
    if (!b)
        return;
    for (size_t i = 0; i < b->body.n_cells; i++) {
        Tiersync__Cell *c = b->body.cells[i];
        free(c->unit), free(c->indicator), free(c->period), free(c->options), free(c);
    }
    for (size_t i = 0; i < b->body.n_units; i++) {
        Tiersync__Unit *u = b->body.units[i];
        if (u->merged_into != protobuf_c_empty_string)
            free(u->merged_into);
        free(u->code), free(u->name), free(u->level), free(u->parent), free(u);
    }
    for (size_t i = 0; i < b->body.n_covers; i++) {
        free(b->body.covers[i]->child);
        free(b->body.covers[i]->last_hash.data);
        free(b->body.covers[i]);
    }
    free(b->body.cells), free(b->body.units), free(b->body.covers);
    free(b->body.origin), free(b->body.catalog_id);
    free(b);
    *bp = NULL;
}

/* Appends to a protobuf-c repeated field, doubling its capacity. */
#define APPEND(arr, n, cap, item)                              \
    do {                                                       \
        if ((n) == (cap)) {                                    \
            (cap) = (cap) ? 2 * (cap) : 16;                    \
            (arr) = ts_xrealloc((arr), (cap) * sizeof *(arr)); \
        }                                                      \
        (arr)[(n)++] = (item);                                 \
    } while (0)

void delta_add_cell(delta_builder *b, const ts_cell *c, disclose_fig value)
{
    Tiersync__Cell *pc = malloc(sizeof *pc);
    tiersync__cell__init(pc);
    pc->unit = strdup(c->unit);
    pc->indicator = strdup(c->indicator);
    pc->period = strdup(c->period);
    pc->options = strdup(c->options);
    pc->value = value.v;
    pc->key = value.key;
    APPEND(b->body.cells, b->body.n_cells, b->cap_cells, pc);
}

void delta_add_unit(delta_builder *b, const char *code, const char *name, const char *level,
                    const char *parent)
{
    Tiersync__Unit *u = malloc(sizeof *u);
    tiersync__unit__init(u);
    u->code = strdup(code);
    u->name = strdup(name);
    u->level = strdup(level);
    u->parent = strdup(parent);
    APPEND(b->body.units, b->body.n_units, b->cap_units, u);
}

void delta_unit_merged(delta_builder *b, const char *into, int on)
{
    if (!b->body.n_units || !into[0])
        return;
    Tiersync__Unit *u = b->body.units[b->body.n_units - 1];
    u->merged_into = strdup(into);
    u->merged_on = (uint32_t)on;
}

void delta_add_cover(delta_builder *b, const char *child, uint64_t first, uint64_t last,
                     const uint8_t hash[DELTA_HASH_BYTES])
{
    Tiersync__Cover *c = malloc(sizeof *c);
    tiersync__cover__init(c);
    c->child = strdup(child);
    c->first_seq = first;
    c->last_seq = last;
    c->last_hash.data = malloc(DELTA_HASH_BYTES);
    memcpy(c->last_hash.data, hash, DELTA_HASH_BYTES);
    c->last_hash.len = DELTA_HASH_BYTES;
    APPEND(b->body.covers, b->body.n_covers, b->cap_covers, c);
}

void delta_set_time(delta_builder *b, int64_t ms)
{
    b->body.created_ms = ms;
}

size_t delta_ncells(const delta_builder *b)
{
    return b->body.n_cells;
}

void delta_set_snapshot_end(delta_builder *b, uint64_t end)
{
    b->body.snapshot_end = end;
}

void wire_pack(const Tiersync__Envelope *env, uint8_t **out, size_t *len)
{
    *len = tiersync__envelope__get_packed_size(env);
    *out = malloc(*len ? *len : 1);
    tiersync__envelope__pack(env, *out);
}

void wire_pack_hello(const char *code, const uint8_t pk[crypto_sign_PUBLICKEYBYTES],
                     uint64_t head_seq, const uint8_t *head_hash, uint8_t **out, size_t *len)
{
    Tiersync__Hello h = TIERSYNC__HELLO__INIT;
    h.code = (char *)code;
    h.key = (ProtobufCBinaryData){crypto_sign_PUBLICKEYBYTES, (uint8_t *)pk};
    h.head_seq = head_seq;
    if (head_hash)
        h.head_hash = (ProtobufCBinaryData){DELTA_HASH_BYTES, (uint8_t *)head_hash};
    h.protocol = DELTA_PROTOCOL;
    h.now_ms = ts_now_ms(); /* the parent measures this node's clock by it */
    Tiersync__Envelope env = TIERSYNC__ENVELOPE__INIT;
    env.msg_case = TIERSYNC__ENVELOPE__MSG_HELLO;
    env.hello = &h;
    wire_pack(&env, out, len);
}

void delta_finish(delta_builder *b, const keys_t *k, uint8_t **out, size_t *outlen,
                  uint8_t hash[DELTA_HASH_BYTES])
{
    delta_seal(&b->body, k, out, outlen, hash);
}

void delta_seal(const Tiersync__DeltaBody *db, const keys_t *k, uint8_t **out, size_t *outlen,
                uint8_t hash[DELTA_HASH_BYTES])
{
    size_t blen = tiersync__delta_body__get_packed_size(db);
    uint8_t *body = malloc(blen ? blen : 1);
    tiersync__delta_body__pack(db, body);
    uint8_t sig[DELTA_SIG_BYTES];
    if (k)
        delta_sign(k, body, blen, sig);
    delta_hash(body, blen, hash);
    Tiersync__SignedDelta sd = TIERSYNC__SIGNED_DELTA__INIT;
    sd.body = (ProtobufCBinaryData){blen, body};
    sd.signature = (ProtobufCBinaryData){k ? sizeof sig : 0, sig};
    Tiersync__Envelope env = TIERSYNC__ENVELOPE__INIT;
    env.msg_case = TIERSYNC__ENVELOPE__MSG_DELTA;
    env.delta = &sd;
    wire_pack(&env, out, outlen);
    free(body);
}

int delta_sign_later(const keys_t *k, uint8_t **msg, size_t *len)
{
    Tiersync__Envelope *env = tiersync__envelope__unpack(NULL, *len, *msg);
    if (!env)
        return -1;
    Tiersync__SignedDelta *sd = env->msg_case == TIERSYNC__ENVELOPE__MSG_DELTA ? env->delta : NULL;
    if (sd && sd->signature.len == 0) {
        uint8_t sig[DELTA_SIG_BYTES];
        delta_sign(k, sd->body.data, sd->body.len, sig);
        sd->signature = (ProtobufCBinaryData){sizeof sig, sig};
        free(*msg);
        wire_pack(env, msg, len);
        sd->signature = (ProtobufCBinaryData){0, NULL}; /* sig is not unpack's to free */
    }
    tiersync__envelope__free_unpacked(env, NULL);
    return 0;
}
